//! An environment's history, newest first, as the walk streams it in.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::{fit, spinner};
use crate::audit::Finding;
use crate::git::commit::rfc3339;
use crate::history::HistoryMode;
use crate::tui::app::{App, HistoryProgress};
use crate::tui::layout::Areas;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, app: &App, theme: Theme, areas: &Areas) {
    let Some(h) = &app.history else { return };
    let width = areas.list.width.saturating_sub(2) as usize;
    let visible = areas.list.height.saturating_sub(2) as usize;
    let mode = match h.mode {
        HistoryMode::Inputs => "inputs",
        HistoryMode::Rendered => "rendered",
        HistoryMode::PathOnly => "path only",
    };
    let progress = match &h.progress {
        HistoryProgress::Walking => format!("{} walking… ", spinner(app.tick)),
        HistoryProgress::Done => String::new(),
        HistoryProgress::Failed(_) => "walk failed ".into(),
    };
    let shown = h.shown();
    let filter = match (h.filtering, h.filter.is_empty()) {
        (true, _) => format!("· /{}█ ", h.filter),
        (false, false) => format!("· /{} ({} shown, esc clears) ", h.filter, shown.len()),
        (false, true) => String::new(),
    };
    let line = match h.first_parent {
        true => ", first parent (f: all)",
        false => "",
    };
    let title = format!(
        " {}/{} · {} commit(s) · {mode} history{line} (p changes) {filter}{progress}",
        h.repo,
        h.env,
        h.rows.len()
    );
    let mut text: Vec<Line> = Vec::new();
    for (index, row) in shown.iter().enumerate().skip(h.cursor.offset).take(visible) {
        let mut tail = String::new();
        // How it got there first (direct push, reverts, reverted by): the audit's
        // reason can be long.
        for mark in &row.marks {
            if mark != "break-glass" {
                tail.push_str(&format!("  {mark}"));
            }
        }
        match &row.audit {
            Some((Finding::Compliant, _)) => {
                tail.push_str(&format!("  ✓ approved by {}", row.approvers.join(", ")));
            }
            Some((Finding::Violation, why)) => tail.push_str(&format!("  ✗ {why}")),
            Some((Finding::Exception, _)) => tail.push_str("  ! break-glass"),
            Some((Finding::UnsignedBeforeRequirement, _)) => {
                tail.push_str("  unsigned (before requirement)");
            }
            Some((Finding::BeforeTollgate, _)) => tail.push_str("  before tollgate"),
            Some((Finding::Initial, _)) | None => {}
        }
        if !row.changes.is_empty() {
            tail.push_str(&format!("  [{}]", row.changes.join(", ")));
        }
        if let Some(error) = &row.render_error {
            tail.push_str(&format!("  render failed: {error}"));
        }
        let head = format!(
            "{} {} {:<12} ",
            crate::text::short(&row.sha),
            &rfc3339(row.time)[..16].replace('T', " "),
            fit(&row.author, 12)
        );
        let rest = fit(
            &format!("{}{tail}", row.subject),
            width.saturating_sub(head.chars().count()),
        );
        let mut line = Line::from(vec![Span::styled(head, theme.dim()), Span::raw(rest)]);
        if index == h.cursor.selected {
            line = line.patch_style(theme.selected());
        }
        text.push(line);
    }
    if let HistoryProgress::Failed(error) = &h.progress {
        text.push(Line::styled(error.clone(), theme.error()));
    } else if h.rows.is_empty() && h.progress == HistoryProgress::Done {
        text.push(Line::styled(
            "no commit changed this environment",
            theme.dim(),
        ));
    } else if shown.is_empty() && !h.rows.is_empty() {
        text.push(Line::styled(
            "no commit matches the filter (esc clears it)",
            theme.dim(),
        ));
    }
    frame.render_widget(
        Paragraph::new(text).block(
            Block::bordered()
                .title(title)
                .border_style(theme.border(true)),
        ),
        areas.list,
    );
}
