//! The dialog that abandons a promotion: what closing does, the reason being typed, and
//! the keys that apply now.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::spinner;
use super::undo::keys_line;
use crate::tui::app::{App, Loading};
use crate::tui::close::CloseDialog;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, app: &App, dialog: &CloseDialog, theme: Theme) {
    let mut reason = vec![
        Span::styled("reason: ", theme.bold()),
        Span::raw(dialog.reason.clone()),
    ];
    if !dialog.reason_done {
        reason.push(Span::styled("█", theme.key()));
    }
    let mut lines = vec![
        Line::raw(format!(
            "Abandon it without merging: its branch is deleted while its head is still {}.",
            crate::text::short(&dialog.head)
        )),
        Line::styled(
            format!(
                "Who and why are recorded on that head ({}).",
                crate::closing::CLOSED_NOTES_REF
            ),
            theme.dim(),
        ),
        Line::raw(""),
        Line::from(reason),
        Line::raw(""),
    ];
    lines.push(match &dialog.writing {
        Some(Loading::Loading) => {
            Line::styled(format!("{} closing…", spinner(app.tick)), theme.dim())
        }
        Some(Loading::Failed(error)) => Line::styled(error.clone(), theme.error()),
        _ if dialog.reason_done => keys_line(
            &[
                ("y", "close it"),
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
    let area = frame.area();
    let width = area.width.saturating_sub(4).min(90);
    let text = Paragraph::new(lines).wrap(Wrap { trim: false });
    let height = (text.line_count(width.saturating_sub(2)) as u16 + 2).min(area.height);
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        text.block(
            Block::bordered()
                .title(format!(" close {} ", dialog.id))
                .border_style(theme.border(true)),
        ),
        popup,
    );
}
