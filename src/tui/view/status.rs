//! The status bar: who you are, what is focused, and the keys that apply here.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::tui::app::{App, RepoLine, Screen};
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let mut spans = vec![Span::styled(format!(" {} ", app.identity), theme.bold())];
    match (&app.github_account, &app.github_quota) {
        (Some(account), Some(quota)) => {
            spans.push(Span::styled(
                format!("│ {quota} as {account} "),
                theme.dim(),
            ));
        }
        (None, Some(quota)) => spans.push(Span::styled(format!("│ {quota} "), theme.dim())),
        _ => {}
    }
    let focus = match app.screen {
        Screen::Inbox if app.inbox.filtering => format!("filter: {}▏", app.inbox.filter),
        Screen::Inbox => match app.inbox_lines().get(app.inbox.cursor.selected) {
            Some(RepoLine::Item(row)) => row.id.clone(),
            _ => String::new(),
        },
        Screen::Environments => match app
            .environment_lines()
            .get(app.environments.cursor.selected)
        {
            Some(RepoLine::Item(env)) => format!("{}/{}", env.repo, env.name),
            _ => String::new(),
        },
        Screen::History => app
            .history
            .as_ref()
            .and_then(|h| h.selected())
            .map(|row| crate::text::short(&row.sha).to_string())
            .unwrap_or_default(),
        Screen::Review => match &app.review {
            Some(p) if p.finding => format!("search: {}▏", p.find),
            Some(p) if p.tab == crate::tui::app::Tab::Diff => {
                format!("diff · {} pane", format!("{:?}", p.focus).to_lowercase())
            }
            Some(p) => format!("{:?}", p.tab).to_lowercase(),
            None => String::new(),
        },
    };
    let focus = match &app.jump {
        Some(text) => format!("jump to :{text}▏"),
        None => focus,
    };
    let focus = match &app.review {
        Some(p) if app.screen == Screen::Review && !p.finding && !p.find.is_empty() => {
            format!("{focus} · /{} (n N)", p.find)
        }
        _ => focus,
    };
    spans.push(Span::styled(format!("│ {focus} "), theme.dim()));
    if let Some(message) = &app.message {
        spans.push(Span::styled(format!("│ {message} "), theme.changed()));
    }
    // As many hints as fit, `? help` first: it leads to all the others.
    let mut hints = app.hints();
    hints.sort_by_key(|(keys, _)| *keys != "?");
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let mut room = (area.width as usize).saturating_sub(used + 1);
    let mut shown: Vec<Span> = Vec::new();
    for (keys, what) in hints {
        let width = keys.chars().count() + what.chars().count() + 2;
        if width > room {
            break;
        }
        room -= width;
        shown.push(Span::styled(format!(" {keys}"), theme.key()));
        shown.push(Span::raw(format!(" {what}")));
    }
    spans.push(Span::raw(" ".repeat(room)));
    spans.extend(shown);
    frame.render_widget(Line::from(spans), area);
}
