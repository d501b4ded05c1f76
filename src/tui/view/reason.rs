//! The dialog of a write that needs a reason (closing a promotion, a break-glass merge):
//! what it does, the reason being typed, and the keys that apply now.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::spinner;
use super::undo::keys_line;
use crate::tui::app::{App, Loading};
use crate::tui::reason::{Purpose, ReasonDialog};
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, app: &App, dialog: &ReasonDialog, theme: Theme) {
    let mut reason = vec![
        Span::styled("reason: ", theme.bold()),
        Span::raw(dialog.reason.clone()),
    ];
    if !dialog.reason_done {
        reason.push(Span::styled("█", theme.key()));
    }
    let head = crate::text::short(&dialog.head);
    let (title, what, recorded, confirm) = match dialog.purpose {
        Purpose::Close => (
            "close",
            format!("Abandon it without merging: its branch is deleted while its head is still {head}."),
            format!(
                "Who and why are recorded on that head ({}).",
                crate::closing::CLOSED_NOTES_REF
            ),
            "close it",
        ),
        Purpose::BreakGlass => (
            "break glass: merge",
            format!("Merge {head} through the freeze or failed render the verdict names, now."),
            "The reason goes into the merge commit; audit lists it as an exception until someone reviews it after the fact.".to_string(),
            "merge it",
        ),
    };
    let mut lines = vec![
        Line::raw(what),
        Line::styled(recorded, theme.dim()),
        Line::raw(""),
        Line::from(reason),
        Line::raw(""),
    ];
    lines.push(match &dialog.writing {
        Some(Loading::Loading) => {
            Line::styled(format!("{} writing…", spinner(app.tick)), theme.dim())
        }
        Some(Loading::Failed(error)) => Line::styled(error.clone(), theme.error()),
        _ if dialog.reason_done => keys_line(
            &[
                ("y", confirm),
                ("e", "edit the reason"),
                ("n esc", "cancel, nothing is written"),
            ],
            theme,
        ),
        _ => keys_line(
            &[
                ("enter", "the reason is written"),
                ("esc", "cancel, nothing is written"),
            ],
            theme,
        ),
    });
    let width = frame.area().width.saturating_sub(4).min(90);
    let text = Paragraph::new(lines).wrap(Wrap { trim: false });
    let height = text.line_count(width.saturating_sub(2)) as u16 + 2;
    let popup = super::popup(frame, width, height);
    frame.render_widget(
        text.block(
            Block::bordered()
                .title(format!(" {title} {} ", dialog.id))
                .border_style(theme.border(true)),
        ),
        popup,
    );
}
