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
    let height = lines.len() as u16 + 2;
    let [area] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(frame.area());
    let [area] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(area);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(" keys ")
                .title_bottom(Line::from(" ? or esc to close ").right_aligned())
                .border_style(theme.border(true)),
        ),
        area,
    );
}
