//! Repos and their environments: where each renders from and its last change.

use ratatui::Frame;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use super::{age, fit, spinner};
use crate::tui::app::{App, RepoLine};
use crate::tui::layout::Areas;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, app: &App, theme: Theme, areas: &Areas) {
    let lines = app.environment_lines();
    let width = areas.list.width.saturating_sub(2) as usize;
    let column = |text: &str, w: usize| format!("{:<w$} ", fit(text, w));
    let subject_width = width.saturating_sub(12 + 16 + 11 + 11 + 5 + 5);
    let mut text = vec![Line::styled(
        format!(
            "{}{}{}{}{}{}",
            column("REPO", 12),
            column("ENVIRONMENT", 16),
            column("RENDERER", 10),
            column("LAST", 10),
            column("AGE", 4),
            column("BY · SUBJECT", subject_width)
        ),
        theme.bold(),
    )];
    let visible = areas.list.height.saturating_sub(3) as usize;
    let cursor = app.environments.cursor;
    for (index, line) in lines.iter().enumerate().skip(cursor.offset).take(visible) {
        let mut shown = match line {
            RepoLine::Item(env) => {
                let (sha, when, by) = match &env.last {
                    Some(last) => (
                        last.sha[..10].to_string(),
                        age(app.now, last.time),
                        format!("{} · {}", last.author, last.subject),
                    ),
                    None => ("-".into(), "-".into(), "no commit changed it".into()),
                };
                Line::raw(format!(
                    "{}{}{}{}{}{}",
                    column(&env.repo, 12),
                    column(&env.name, 16),
                    column(&env.renderer, 10),
                    column(&sha, 10),
                    column(&when, 4),
                    fit(&by, subject_width)
                ))
            }
            RepoLine::Loading(repo) => Line::styled(
                format!("{} {repo}: loading environments…", spinner(app.tick)),
                theme.dim(),
            ),
            RepoLine::Failed(repo, error) => Line::styled(
                fit(&format!("✗ {repo}: {}", error.replace('\n', " ")), width),
                theme.error(),
            ),
        };
        if index == cursor.selected {
            shown = shown.patch_style(theme.selected());
        }
        text.push(shown);
    }
    frame.render_widget(
        Paragraph::new(text).block(
            Block::bordered()
                .title(" environments · enter for history ")
                .border_style(theme.border(true)),
        ),
        areas.list,
    );
}
