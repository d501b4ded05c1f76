//! Repos and their environments: where each renders from and its last change.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::{age, fit, spinner};
use crate::reconcile::status::Deployed;
use crate::tui::app::{App, Loading, RepoLine};
use crate::tui::layout::Areas;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, app: &App, theme: Theme, areas: &Areas) {
    let lines = app.environment_lines();
    let width = areas.list.width.saturating_sub(2) as usize;
    let column = |text: &str, w: usize| format!("{:<w$} ", fit(text, w));
    // The deployed column appears once some environment says where it is deployed.
    let deployed_width = if app.environments.deployed.is_empty() {
        0
    } else {
        22
    };
    let subject_width = width.saturating_sub(12 + 16 + 11 + 11 + 5 + 5 + deployed_width);
    let deployed_header = if deployed_width > 0 {
        column("DEPLOYED", deployed_width - 1)
    } else {
        String::new()
    };
    let mut text = vec![Line::styled(
        format!(
            "{}{}{}{}{}{}{}",
            column("REPO", 12),
            column("ENVIRONMENT", 16),
            column("RENDERER", 10),
            deployed_header,
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
                        crate::text::short(&last.sha).to_string(),
                        age(app.now, last.time),
                        format!("{} · {}", last.author, last.subject),
                    ),
                    None => ("-".into(), "-".into(), "no commit changed it".into()),
                };
                let mut spans = vec![Span::raw(format!(
                    "{}{}{}",
                    column(&env.repo, 12),
                    column(&env.name, 16),
                    column(&env.renderer, 10),
                ))];
                if deployed_width > 0 {
                    let key = (env.repo.clone(), env.name.clone());
                    let (label, style) = match app.environments.deployed.get(&key) {
                        None => ("-".to_string(), theme.dim()),
                        Some(Loading::Loading) => {
                            (format!("{} asking", spinner(app.tick)), theme.dim())
                        }
                        Some(Loading::Failed(_)) => ("✗ unreachable".to_string(), theme.error()),
                        Some(Loading::Ready(deployed)) => {
                            // The deployed revision beside its state; the branch head is
                            // the LAST column.
                            let at = deployed
                                .revision()
                                .map(|r| format!(" · {}", &r[..r.len().min(7)]))
                                .unwrap_or_default();
                            match deployed {
                                Deployed::InSync { .. } => {
                                    (format!("✓ in sync{at}"), theme.added())
                                }
                                Deployed::Behind { changes, .. } => {
                                    (format!("↓ behind {changes}{at}"), theme.changed())
                                }
                                Deployed::Failed { .. } => (format!("✗ failed{at}"), theme.error()),
                                Deployed::NotDeployed => ("not deployed".to_string(), theme.dim()),
                            }
                        }
                    };
                    spans.push(Span::styled(column(&label, deployed_width - 1), style));
                }
                spans.push(Span::raw(format!(
                    "{}{}{}",
                    column(&sha, 10),
                    column(&when, 4),
                    fit(&by, subject_width)
                )));
                Line::from(spans)
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
    // Why the selected environment's cluster could not be read, or its last pass failed.
    if let Some(RepoLine::Item(env)) = lines.get(cursor.selected) {
        let why = match app
            .environments
            .deployed
            .get(&(env.repo.clone(), env.name.clone()))
        {
            Some(Loading::Failed(error)) => Some(format!("cannot read the inventory: {error}")),
            Some(Loading::Ready(Deployed::Failed { message, .. })) => {
                Some(format!("last reconcile: {message}"))
            }
            _ => None,
        };
        if let Some(why) = why {
            text.push(Line::raw(""));
            text.push(Line::styled(
                fit(
                    &format!("{}/{}: {}", env.repo, env.name, why.replace('\n', " ")),
                    width,
                ),
                theme.error(),
            ));
        }
    }
    frame.render_widget(
        Paragraph::new(text).block(
            Block::bordered()
                .title(
                    match (&app.environments.filter, app.environments.filtering) {
                        (filter, true) => format!(" environments · /{filter}█ "),
                        (filter, false) if !filter.is_empty() => {
                            format!(" environments · /{filter} (esc clears) · enter for history ")
                        }
                        _ => " environments · enter for history ".to_string(),
                    },
                )
                .border_style(theme.border(true)),
        ),
        areas.list,
    );
}
