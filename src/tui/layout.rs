//! Where each part of a screen goes, as a pure function of the terminal size. Drawing and
//! mouse hit-testing use the same answer.

use ratatui::layout::{Constraint, Layout, Rect};

use super::app::Screen;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// The title line.
    pub title: Rect,
    /// The promotion header (empty on the inbox).
    pub header: Rect,
    /// The tab bar (empty on the inbox).
    pub tabs: Rect,
    /// The list the selection moves in: promotions, or a promotion's objects.
    pub list: Rect,
    /// The right-hand detail: the selected object's diff (empty on the inbox).
    pub detail: Rect,
    pub status: Rect,
}

impl Areas {
    /// The areas of `screen`; `zoomed`: the review's diff takes the whole width.
    pub fn of(size: Rect, screen: Screen, zoomed: bool) -> Areas {
        let [title, body, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(0),
            Constraint::Length(1),
        ])
        .areas(size);
        match screen {
            Screen::Inbox | Screen::Environments | Screen::History => Areas {
                title,
                header: Rect::default(),
                tabs: Rect::default(),
                list: body,
                detail: Rect::default(),
                status,
            },
            Screen::Review => {
                let [header, tabs, main] = Layout::vertical([
                    Constraint::Length(3),
                    Constraint::Length(1),
                    Constraint::Min(0),
                ])
                .areas(body);
                // The object list keeps enough room for `~ Kind/name`; the diff gets the rest.
                let list_width = match zoomed {
                    true => 0,
                    false => (main.width / 3).clamp(24.min(main.width), 48),
                };
                let [list, detail] =
                    Layout::horizontal([Constraint::Length(list_width), Constraint::Min(0)])
                        .areas(main);
                Areas {
                    title,
                    header,
                    tabs,
                    list,
                    detail,
                    status,
                }
            }
        }
    }
}
