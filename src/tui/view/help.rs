//! The help overlay, generated from the key map the event loop uses.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::tui::app::App;
use crate::tui::keys::help_for;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, app: &App, theme: Theme) {
    let entries = help_for(app.context());
    let key_width = entries
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let lines: Vec<Line> = entries
        .iter()
        .map(|(keys, help)| {
            Line::from(vec![
                Span::styled(format!(" {keys:>key_width$}  "), theme.key()),
                Span::raw(*help),
            ])
        })
        .collect();
    let width = lines.iter().map(Line::width).max().unwrap_or(20) as u16 + 3;
    let height = (lines.len() as u16 + 2).min(frame.area().height);
    // Taller than the terminal: it scrolls (j/k, pgup/pgdn), the last page at the bottom.
    let room = height.saturating_sub(2) as usize;
    let scroll = app.help_scroll.min(lines.len().saturating_sub(room));
    let more = match (scroll > 0, scroll + room < lines.len()) {
        (true, true) => " ↑↓ more · ? or esc to close ",
        (false, true) => " ↓ more · ? or esc to close ",
        (true, false) => " ↑ more · ? or esc to close ",
        (false, false) => " ? or esc to close ",
    };
    let [area] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(frame.area());
    let [area] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(area);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).scroll((scroll as u16, 0)).block(
            Block::bordered()
                .title(" keys ")
                .title_bottom(Line::from(more).right_aligned())
                .border_style(theme.border(true)),
        ),
        area,
    );
}
