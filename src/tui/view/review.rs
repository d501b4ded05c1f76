//! A review: a promotion, or one commit, with its header and tabs: the rendered diff
//! (object list and the selected object's diff), the commits, or the description.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Tabs, Wrap};

use super::detail::{DetailLines, detail_lines};
use super::{fit, spinner};
use crate::manifest::ChangeKind;
use crate::raw_diff::FileStatus;
use crate::tui::app::{App, Loading, Pane, ReviewState, TABS, Tab};
use crate::tui::layout::Areas;
use crate::tui::theme::Theme;
use crate::tui::work::ReviewDetail;

pub fn draw(frame: &mut Frame, app: &App, theme: Theme, areas: &Areas) {
    let Some(p) = &app.review else { return };
    draw_header(frame, p, theme, areas.header);
    let titles = TABS.iter().map(|t| format!("{t:?}"));
    let selected = TABS.iter().position(|t| *t == p.tab).unwrap_or(0);
    frame.render_widget(
        Tabs::new(titles)
            .select(selected)
            .highlight_style(theme.selected()),
        areas.tabs,
    );
    let main = areas.list.union(areas.detail);
    match p.shown() {
        Loading::Loading => frame.render_widget(
            Paragraph::new(Span::styled(
                format!(
                    "{} rendering both sides of {}…",
                    spinner(app.tick),
                    p.header.id
                ),
                theme.dim(),
            ))
            .block(Block::bordered().border_style(theme.border(false))),
            main,
        ),
        Loading::Failed(error) => frame.render_widget(
            Paragraph::new(Span::styled(error.as_str(), theme.error()))
                .wrap(Wrap { trim: false })
                .block(Block::bordered().title(" cannot show this ")),
            main,
        ),
        Loading::Ready(detail) => match p.tab {
            Tab::Diff => draw_diff(frame, app, p, detail, theme, areas),
            Tab::Commits => draw_commits(frame, app, p, detail, theme, main),
            Tab::Verdict => frame.render_widget(
                scrolled_text(
                    super::verdict::lines(p, &app.identity, theme),
                    " verdict ",
                    p,
                    theme,
                ),
                main,
            ),
            Tab::Description => frame.render_widget(
                scrolled_text(detail.description.as_str(), " description ", p, theme),
                main,
            ),
        },
    }
}

/// A tab that is text: wrapped, scrolled with the review, in a focused border.
fn scrolled_text<'a>(
    text: impl Into<ratatui::text::Text<'a>>,
    title: &'a str,
    p: &ReviewState,
    theme: Theme,
) -> Paragraph<'a> {
    Paragraph::new(text)
        .wrap(Wrap { trim: false })
        .scroll((p.scroll as u16, 0))
        .block(
            Block::bordered()
                .title(title)
                .border_style(theme.border(true)),
        )
}

fn draw_header(frame: &mut Frame, p: &ReviewState, theme: Theme, area: Rect) {
    let row = &p.header;
    let mut lines = vec![Line::from(vec![
        Span::styled(format!(" {}", row.title), theme.bold()),
        Span::styled(format!("  by {}", row.author), theme.dim()),
    ])];
    let (base, head, summary) = match p.shown() {
        Loading::Ready(d) => (short(&d.base), short(&d.head), d.summary.as_str()),
        _ => (String::from("…"), String::from("…"), ""),
    };
    let range = match &p.since {
        Some(since) => Span::styled(
            format!(
                "since {base} approved by {} → head {head} (i: whole promotion)",
                since.by.split(" <").next().unwrap_or(&since.by)
            ),
            theme.warn(),
        ),
        None => Span::styled(format!("base {base} → head {head}"), theme.dim()),
    };
    lines.push(Line::from(vec![
        Span::raw(format!(" {} ", row.branch)),
        range,
        Span::raw(format!("  environments: {}", row.environments.join(", "))),
    ]));
    lines.push(Line::from(Span::styled(
        format!(" {summary}"),
        theme.changed(),
    )));
    frame.render_widget(Paragraph::new(lines), area);
}

fn short(sha: &str) -> String {
    crate::text::short(sha).to_string()
}

fn change_style(theme: Theme, change: ChangeKind) -> Style {
    match change {
        ChangeKind::Added => theme.added(),
        ChangeKind::Removed => theme.removed(),
        ChangeKind::Changed => theme.changed(),
        ChangeKind::Renamed => theme.renamed(),
        ChangeKind::Unchanged => theme.dim(),
    }
}

fn draw_diff(
    frame: &mut Frame,
    app: &App,
    p: &ReviewState,
    d: &ReviewDetail,
    theme: Theme,
    areas: &Areas,
) {
    if p.raw {
        draw_files(frame, app, p, d, theme, areas);
        return;
    }
    let several_envs = d
        .objects
        .windows(2)
        .any(|w| w[0].environment != w[1].environment);
    let visible = areas.list.height.saturating_sub(2) as usize;
    let width = areas.list.width.saturating_sub(2) as usize;
    let list: Vec<Line> = p
        .listed()
        .into_iter()
        .map(|i| &d.objects[i])
        .enumerate()
        .skip(p.cursor.offset)
        .take(visible)
        .map(|(index, object)| {
            let env = if several_envs {
                format!("{} ", object.environment)
            } else {
                String::new()
            };
            let text = fit(
                &format!("{env}{}/{}", object.key.kind, object.key.name),
                width.saturating_sub(2),
            );
            list_row(
                object.change.marker(),
                change_style(theme, object.change),
                text,
                index == p.cursor.selected,
                theme,
            )
        })
        .collect();
    let counts: Vec<String> = [
        ChangeKind::Added,
        ChangeKind::Removed,
        ChangeKind::Changed,
        ChangeKind::Renamed,
    ]
    .into_iter()
    .map(|c| (c, d.objects.iter().filter(|o| o.change == c).count()))
    .filter(|(_, n)| *n > 0)
    .map(|(c, n)| format!("{}{n}", c.marker()))
    .collect();
    let title = format!(" objects {}{} ", counts.join(" "), filter_note(p));
    let mut list_block = Block::bordered()
        .title(title)
        .border_style(theme.border(p.focus == Pane::Objects));
    if !d.problems.is_empty() {
        list_block = list_block.title_bottom(Line::from(Span::styled(
            format!(" {} problem(s) ", d.problems.len()),
            theme.error(),
        )));
    }
    let empty = if !p.filter.is_empty() {
        format!("no object matches /{}", p.filter)
    } else if d.problems.is_empty() {
        "no rendered change".to_string()
    } else {
        d.problems.join("\n")
    };
    list_and_detail(frame, areas, list_block, list, empty, |frame| {
        if let Some(object) = p.selected_index().and_then(|i| d.objects.get(i)) {
            let title = format!(
                " {} · {} · {} ",
                object.environment,
                object.key,
                format!("{:?}", object.change).to_lowercase()
            );
            draw_detail(frame, app, p, title, theme, areas.detail);
        }
    });
}

/// The list's filter, as its title shows it: ` /text` (`_` while it is typed).
fn filter_note(p: &ReviewState) -> String {
    match (p.filtering, p.filter.is_empty()) {
        (true, _) => format!(" /{}_", p.filter),
        (false, false) => format!(" /{} (esc clears)", p.filter),
        (false, true) => String::new(),
    }
}

/// A row of the left-hand list: a change marker and a name, highlighted when selected.
fn list_row(
    marker: &str,
    style: Style,
    text: String,
    selected: bool,
    theme: Theme,
) -> Line<'static> {
    let line = Line::from(vec![
        Span::styled(format!("{marker} "), style),
        Span::raw(text),
    ]);
    if selected {
        line.style(theme.selected())
    } else {
        line
    }
}

/// The left-hand list with the selected item's detail beside it, or, when the list is
/// empty, `empty` across both.
fn list_and_detail(
    frame: &mut Frame,
    areas: &Areas,
    block: Block<'_>,
    rows: Vec<Line<'_>>,
    empty: String,
    draw_detail: impl FnOnce(&mut Frame),
) {
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(empty)
                .wrap(Wrap { trim: false })
                .block(block),
            areas.list.union(areas.detail),
        );
        return;
    }
    frame.render_widget(Paragraph::new(rows).block(block), areas.list);
    draw_detail(frame);
}

/// The lines on screen, those the search found shown reversed.
fn found_marked(
    lines: &DetailLines<'_>,
    p: &ReviewState,
    visible: usize,
    theme: Theme,
) -> Vec<Line<'static>> {
    let needle = p.find.to_lowercase();
    let mut window = lines.window(p.scroll, visible);
    if !needle.is_empty() {
        for (offset, line) in window.iter_mut().enumerate() {
            if lines.matches(p.scroll + offset, &needle) {
                *line = std::mem::take(line).patch_style(theme.found());
            }
        }
    }
    window
}

/// The selected object's or file's diff, with `title`; only the lines on screen are built.
fn draw_detail(
    frame: &mut Frame,
    app: &App,
    p: &ReviewState,
    title: String,
    theme: Theme,
    area: Rect,
) {
    let title = match p.hscroll {
        0 => title,
        columns => format!("{title}· from column {} (H) ", columns + 1),
    };
    let visible = area.height.saturating_sub(2) as usize;
    let lines = detail_lines(
        p,
        &app.identity,
        theme,
        area.width.saturating_sub(2) as usize,
    );
    frame.render_widget(
        Paragraph::new(found_marked(&lines, p, visible, theme)).block(
            Block::bordered()
                .title(fit(&title, area.width.saturating_sub(2) as usize))
                .border_style(theme.border(p.focus == Pane::Diff)),
        ),
        area,
    );
}

fn draw_files(
    frame: &mut Frame,
    app: &App,
    p: &ReviewState,
    d: &ReviewDetail,
    theme: Theme,
    areas: &Areas,
) {
    let visible = areas.list.height.saturating_sub(2) as usize;
    let width = areas.list.width.saturating_sub(2) as usize;
    let list: Vec<Line> = p
        .listed()
        .into_iter()
        .map(|i| &d.files[i])
        .enumerate()
        .skip(p.cursor.offset)
        .take(visible)
        .map(|(index, file)| {
            let (marker, style) = match file.status {
                FileStatus::Added => ("+", theme.added()),
                FileStatus::Removed => ("-", theme.removed()),
                FileStatus::Modified => ("~", theme.changed()),
            };
            list_row(
                marker,
                style,
                fit(&file.path, width.saturating_sub(2)),
                index == p.cursor.selected,
                theme,
            )
        })
        .collect();
    let block = Block::bordered()
        .title(format!(" raw files · {}{} ", d.files.len(), filter_note(p)))
        .border_style(theme.border(p.focus == Pane::Objects));
    list_and_detail(
        frame,
        areas,
        block,
        list,
        "no file changed".into(),
        |frame| {
            if let Some(file) = p.selected_index().and_then(|i| d.files.get(i)) {
                let title = format!(" {} · {} · {:?} ", file.environment, file.path, file.status)
                    .to_lowercase();
                draw_detail(frame, app, p, title, theme, areas.detail);
            }
        },
    );
}

fn draw_commits(
    frame: &mut Frame,
    app: &App,
    p: &ReviewState,
    d: &ReviewDetail,
    theme: Theme,
    area: Rect,
) {
    let visible = area.height.saturating_sub(2) as usize;
    let lines = detail_lines(
        p,
        &app.identity,
        theme,
        area.width.saturating_sub(2) as usize,
    );
    frame.render_widget(
        Paragraph::new(found_marked(&lines, p, visible, theme)).block(
            Block::bordered()
                .title(format!(" {} commit(s) ", d.commits.len()))
                .border_style(theme.border(true)),
        ),
        area,
    );
}
