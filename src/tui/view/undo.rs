//! The revert and rollback dialog: what it undoes, the reason being typed, and the
//! rendered diff of the undo, all before anything is written.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{diff_lines, spinner};
use crate::manifest::ChangeKind;
use crate::tui::app::{App, Loading, UndoDialog};
use crate::tui::theme::Theme;
use crate::tui::work::UndoTarget;

pub fn draw(frame: &mut Frame, app: &App, dialog: &UndoDialog, theme: Theme) {
    let mut head: Vec<Line> = Vec::new();
    let mut body: Vec<Line> = Vec::new();
    let mut reason = vec![
        Span::styled("reason: ", theme.bold()),
        Span::raw(dialog.reason.clone()),
    ];
    // The cursor shows while the reason is being written.
    if !dialog.reason_done {
        reason.push(Span::styled("█", theme.key()));
    }
    head.push(Line::from(reason));
    match &dialog.preview {
        Loading::Loading => head.push(Line::styled(
            format!(
                "{} computing the undo and its rendered diff…",
                spinner(app.tick)
            ),
            theme.dim(),
        )),
        Loading::Failed(error) => {
            head.push(Line::styled(error.clone(), theme.error()));
            if matches!(dialog.undo.target, UndoTarget::Rollback { .. })
                && !dialog.undo.include_shared
            {
                head.push(Line::styled(
                    "tab sets the shared files back too (this changes the environments sharing them)",
                    theme.dim(),
                ));
            }
        }
        Loading::Ready(preview) => {
            head.push(Line::styled(preview.headline.clone(), theme.bold()));
            head.push(Line::styled(
                format!(
                    "on {} → new promotion {}   changes: {}",
                    crate::text::short(&preview.base),
                    preview.branch,
                    preview.environments.join(", ")
                ),
                theme.dim(),
            ));
            if !preview.shared.is_empty() {
                head.push(Line::styled(
                    format!("shared files set back too: {}", preview.shared.join(", ")),
                    theme.changed(),
                ));
            }
            head.push(Line::raw(preview.summary.clone()));
            if !preview.undoes.is_empty() {
                head.push(Line::styled(
                    format!("takes back {} change(s):", preview.undoes.len()),
                    theme.bold(),
                ));
                // A few, so that the diff keeps its room; the history has them all.
                const SHOWN: usize = 6;
                for undone in preview.undoes.iter().take(SHOWN) {
                    head.push(Line::styled(format!("  {undone}"), theme.dim()));
                }
                if preview.undoes.len() > SHOWN {
                    head.push(Line::styled(
                        format!("  … and {} more", preview.undoes.len() - SHOWN),
                        theme.dim(),
                    ));
                }
            }
            for problem in &preview.problems {
                body.push(Line::styled(format!("! {problem}"), theme.error()));
            }
            for object in &preview.objects {
                let style = match object.change {
                    ChangeKind::Added => theme.added(),
                    ChangeKind::Removed => theme.removed(),
                    _ => theme.changed(),
                };
                body.push(Line::styled(
                    format!(
                        "{} {}  ({})",
                        object.change.marker(),
                        object.key,
                        object.environment
                    ),
                    style,
                ));
                body.extend(diff_lines::unified(&object.lines, theme));
                body.push(Line::raw(""));
            }
        }
    }
    let footer = match &dialog.writing {
        Some(Loading::Loading) => {
            Line::styled(format!("{} writing…", spinner(app.tick)), theme.dim())
        }
        Some(Loading::Failed(error)) => Line::styled(error.clone(), theme.error()),
        _ if dialog.reason_done => keys_line(
            &[
                ("y", "open it as a promotion"),
                ("D", "break glass"),
                ("e", "edit the reason"),
                ("n esc", "cancel"),
                ("↑↓", "scroll"),
            ],
            theme,
        ),
        _ => keys_line(
            &[
                ("enter", "the reason is written"),
                ("esc", "cancel, nothing is written"),
                ("↑↓", "scroll"),
            ],
            theme,
        ),
    };

    let area = frame.area();
    let popup = super::popup(
        frame,
        area.width.saturating_sub(4).min(120),
        area.height.saturating_sub(2),
    );
    let block = Block::bordered()
        .title(format!(" {} ", dialog.title()))
        .border_style(theme.border(true));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    // The reason and a refusal can be long: wrap them, and give them the room they take.
    let head = Paragraph::new(head).wrap(Wrap { trim: false });
    let head_height = head.line_count(inner.width) as u16;
    let [head_area, body_area, footer_area] = Layout::vertical([
        Constraint::Length(head_height),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(head, head_area);
    let scroll = dialog.scroll.min(body.len().saturating_sub(1));
    let visible: Vec<Line> = body
        .into_iter()
        .skip(scroll)
        .take(body_area.height as usize)
        .collect();
    frame.render_widget(Paragraph::new(visible), body_area);
    frame.render_widget(Paragraph::new(footer), footer_area);
}

/// `key what  key what`: the keys the dialog takes now.
pub(super) fn keys_line(keys: &[(&'static str, &'static str)], theme: Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, (key, what)) in keys.iter().enumerate() {
        let gap = if i + 1 < keys.len() { "  " } else { "" };
        spans.push(Span::styled(*key, theme.key()));
        spans.push(Span::raw(format!(" {what}{gap}")));
    }
    Line::from(spans)
}
