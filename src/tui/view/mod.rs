//! Drawing: a pure function of the app state. Nothing here changes state or does I/O,
//! and long lists lay out only the rows on screen.

pub mod detail;
mod dialog;
mod diff_lines;
mod environments;
pub mod fields;
mod help;
mod history;
mod inbox;
mod reason;
mod review;
mod status;
mod undo;
pub mod verdict;

use ratatui::Frame;
use ratatui::text::{Line, Span};

use super::app::{App, Screen};
use super::layout::Areas;
use super::theme::Theme;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub fn spinner(tick: usize) -> &'static str {
    SPINNER[tick % SPINNER.len()]
}

pub fn draw(frame: &mut Frame, app: &App, theme: Theme) {
    let areas = Areas::of(frame.area(), app.screen, app.zoomed());
    let where_ = match app.screen {
        Screen::Inbox => "1 inbox".to_string(),
        Screen::Environments => "2 environments".to_string(),
        Screen::History => app
            .history
            .as_ref()
            .map(|h| format!("2 environments › {}/{}", h.repo, h.env))
            .unwrap_or_default(),
        Screen::Review => app
            .review
            .as_ref()
            .map(|r| r.header.id.clone())
            .unwrap_or_default(),
    };
    frame.render_widget(
        Line::from(vec![
            Span::styled(" tollgate ", theme.title()),
            Span::styled(format!("· {where_}"), theme.dim()),
        ]),
        areas.title,
    );
    match app.screen {
        Screen::Inbox => inbox::draw(frame, app, theme, &areas),
        Screen::Environments => environments::draw(frame, app, theme, &areas),
        Screen::History => history::draw(frame, app, theme, &areas),
        Screen::Review => review::draw(frame, app, theme, &areas),
    }
    status::draw(frame, app, theme, areas.status);
    if let Some(d) = &app.dialog {
        dialog::draw(frame, app, d, theme);
    }
    if let Some(d) = &app.undo {
        undo::draw(frame, app, d, theme);
    }
    if let Some(d) = &app.reason_dialog {
        reason::draw(frame, app, d, theme);
    }
    if app.help {
        help::draw(frame, app, theme);
    }
}

pub use crate::text::{age, fit};

/// A `width` × `height` box in the middle of the screen, cleared, for a dialog to draw in.
fn popup(frame: &mut Frame, width: u16, height: u16) -> ratatui::layout::Rect {
    use ratatui::layout::{Constraint, Flex, Layout};
    let area = frame.area();
    let [popup] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(popup);
    frame.render_widget(ratatui::widgets::Clear, popup);
    popup
}
pub use diff_lines::SIDE_BY_SIDE_MIN_WIDTH;
