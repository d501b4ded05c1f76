//! The inbox: every pending promotion across the configured repos, a row per repo still
//! loading (with a spinner) or failing (with its error, across the whole row).

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::{age, fit, spinner};
use crate::tui::app::{App, RepoLine};
use crate::tui::layout::Areas;
use crate::tui::theme::Theme;

/// Wide enough to give the summary its own column.
const WIDE: usize = 120;

/// Column widths for the inbox at `width` inner columns.
struct Columns {
    env: usize,
    id: usize,
    title: usize,
    author: usize,
    age: usize,
    approvals: usize,
    summary: usize,
}

impl Columns {
    fn new(width: usize, longest_id: usize) -> Columns {
        let (env, author, age, approvals) = (12, 10, 4, 5);
        let wide = width >= WIDE;
        let id_max = match width {
            w if w >= WIDE => 44,
            w if w >= 96 => 36,
            _ => 30,
        };
        let id = longest_id.clamp(12, id_max);
        // Each column is followed by one space.
        let rest = width.saturating_sub(env + id + author + age + approvals + 6);
        let (title, summary) = if wide {
            (rest * 2 / 5, rest - rest * 2 / 5)
        } else {
            (rest, 0)
        };
        Columns {
            env,
            id,
            title,
            author,
            age,
            approvals,
            summary,
        }
    }

    fn line(&self, cells: [&str; 7]) -> String {
        let widths = [
            self.env,
            self.id,
            self.title,
            self.author,
            self.age,
            self.approvals,
            self.summary,
        ];
        let mut out = String::new();
        for (cell, width) in cells.iter().zip(widths) {
            if width == 0 {
                continue;
            }
            let text = fit(cell, width);
            out.push_str(&text);
            out.push_str(&" ".repeat(width - text.chars().count() + 1));
        }
        out.trim_end().to_string()
    }
}

pub fn draw(frame: &mut Frame, app: &App, theme: Theme, areas: &Areas) {
    let lines = app.inbox_lines();
    let inner_width = areas.list.width.saturating_sub(2) as usize;
    let longest_id = lines
        .iter()
        .filter_map(|l| match l {
            RepoLine::Item(row) => Some(row.id.chars().count()),
            _ => None,
        })
        .max()
        .unwrap_or(20);
    let columns = Columns::new(inner_width, longest_id);
    let promotions = lines
        .iter()
        .filter(|l| matches!(l, RepoLine::Item(_)))
        .count();
    let mut title = format!(
        " inbox · {promotions} pending · sorted by {} ",
        app.inbox.sort.label()
    );
    if !app.inbox.filter.is_empty() {
        title.push_str(&format!("· filter \"{}\" ", app.inbox.filter));
    }

    let mut text = vec![Line::styled(
        columns.line(["ENV", "ID", "TITLE", "AUTHOR", "AGE", "APPR", "SUMMARY"]),
        theme.bold(),
    )];
    let visible = areas.list.height.saturating_sub(3) as usize;
    for (index, line) in lines
        .iter()
        .enumerate()
        .skip(app.inbox.cursor.offset)
        .take(visible)
    {
        let mut shown = match line {
            RepoLine::Item(row) => Line::raw(columns.line([
                &row.environments.join(","),
                &row.id,
                &row.title,
                &row.author,
                &age(app.now, row.created),
                // ✓ when the person using tollgate may merge it now.
                &format!("{}{}", if row.can_merge { "✓" } else { " " }, row.approvals),
                &row.summary,
            ])),
            RepoLine::Loading(repo) => Line::styled(
                format!("{} {repo}: loading promotions…", spinner(app.tick)),
                theme.dim(),
            ),
            RepoLine::Failed(repo, error) => Line::styled(
                fit(
                    &format!("✗ {repo}: {}", error.replace('\n', " ")),
                    inner_width,
                ),
                theme.error(),
            ),
        };
        if index == app.inbox.cursor.selected {
            shown = shown.patch_style(theme.selected());
        }
        text.push(shown);
    }
    if lines.is_empty() {
        text.push(Line::raw(""));
        text.push(Line::styled(
            if app.inbox.filter.is_empty() {
                "  no pending promotions"
            } else {
                "  no promotion matches the filter (esc clears it)"
            },
            theme.dim(),
        ));
    }
    // The selected row's summary goes in the bottom border when there is no column for it.
    let footer = match lines.get(app.inbox.cursor.selected) {
        Some(RepoLine::Item(row)) if columns.summary == 0 => {
            fit(&format!(" {} ", row.summary), inner_width.saturating_sub(2))
        }
        _ => String::new(),
    };
    frame.render_widget(
        Paragraph::new(text).block(
            Block::bordered()
                .title(title)
                .title_bottom(Line::from(Span::styled(footer, theme.changed())))
                .border_style(theme.border(true)),
        ),
        areas.list,
    );
}
