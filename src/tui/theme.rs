//! Colours and emphasis. With `NO_COLOR` set every style keeps only bold, dim and
//! reverse, so that nothing is told by colour alone.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless `--no-color` (`no_color`) or `NO_COLOR` says otherwise.
    pub fn new(no_color: bool) -> Theme {
        Theme {
            color: !no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn fg(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn dim(self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }
    pub fn bold(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
    pub fn selected(self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
    /// A line the search (`/` in a diff) found.
    pub fn found(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    pub fn added(self) -> Style {
        self.fg(Color::Green)
    }
    pub fn removed(self) -> Style {
        self.fg(Color::Red)
    }
    pub fn changed(self) -> Style {
        self.fg(Color::Yellow)
    }
    pub fn renamed(self) -> Style {
        self.fg(Color::Magenta)
    }
    pub fn added_emphasis(self) -> Style {
        if self.color {
            Style::new().fg(Color::Black).bg(Color::Green)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        }
    }
    pub fn removed_emphasis(self) -> Style {
        if self.color {
            Style::new().fg(Color::Black).bg(Color::Red)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        }
    }
    pub fn hunk(self) -> Style {
        self.fg(Color::Cyan)
    }
    /// Something to know before acting, not a refusal.
    pub fn warn(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn error(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn key(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn border(self, focused: bool) -> Style {
        if focused {
            self.fg(Color::Cyan)
        } else {
            self.dim()
        }
    }
}
