//! The confirmation for approve, unapprove and merge: the verdict first (approvals, what
//! is missing, why not), then the question, then what happened.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::spinner;
use crate::tui::app::{App, Dialog, Loading};
use crate::tui::theme::Theme;
use crate::verdict::ApprovalStatus;

pub fn draw(frame: &mut Frame, app: &App, dialog: &Dialog, theme: Theme) {
    let mut lines: Vec<Line> = Vec::new();
    match &dialog.verdict {
        Loading::Loading => lines.push(Line::styled(
            format!("{} reading the verdict…", spinner(app.tick)),
            theme.dim(),
        )),
        Loading::Failed(error) => lines.push(Line::styled(error.clone(), theme.error())),
        Loading::Ready(verdict) => {
            lines.push(Line::styled("approvals", theme.bold()));
            if verdict.approvals.is_empty() {
                lines.push(Line::styled("  none yet", theme.dim()));
            }
            for approval in &verdict.approvals {
                let (mark, style) = match approval.status {
                    ApprovalStatus::Valid => ("✓", theme.added()),
                    _ => ("✗", theme.removed()),
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {mark} "), style),
                    Span::raw(approval.by.clone()),
                    Span::styled(
                        format!("  {} · {}", approval.signature.label(), approval.why),
                        theme.dim(),
                    ),
                ]));
            }
            lines.push(Line::styled("environments", theme.bold()));
            for env in &verdict.environments {
                lines.push(Line::raw(format!(
                    "  {}  {}/{} approvals",
                    env.name, env.valid, env.required
                )));
            }
            if dialog.action != crate::tui::work::ReviewAction::Unapprove
                && !dialog.warnings.is_empty()
            {
                lines.push(Line::styled("warnings", theme.warn()));
                for warning in &dialog.warnings {
                    lines.push(Line::styled(format!("  ⚠ {warning}"), theme.warn()));
                }
            }
            let refusals = match dialog.action {
                crate::tui::work::ReviewAction::Approve => &verdict.approve_refusals,
                crate::tui::work::ReviewAction::Merge => &verdict.merge_refusals,
                crate::tui::work::ReviewAction::Unapprove => &Vec::new(),
            };
            // What approving acknowledges is a warning, not a refusal.
            let (acknowledged, refused): (Vec<&String>, Vec<&String>) =
                refusals.iter().partition(|r| {
                    dialog.action == crate::tui::work::ReviewAction::Approve
                        && verdict.unrendered.contains(r)
                });
            if !acknowledged.is_empty() {
                lines.push(Line::styled(
                    "not rendered: approving says you reviewed it another way",
                    theme.warn(),
                ));
                for reason in acknowledged {
                    lines.push(Line::styled(format!("  - {reason}"), theme.warn()));
                }
            }
            if !refused.is_empty() {
                lines.push(Line::styled("refused because", theme.error()));
                for reason in refused {
                    lines.push(Line::styled(
                        format!("  - {}", super::verdict::in_tui_words(reason)),
                        theme.error(),
                    ));
                }
            }
            if dialog.break_glass_would_allow() && dialog.outcome.is_none() {
                lines.push(Line::from(vec![
                    Span::styled("b", theme.key()),
                    Span::raw(
                        " break glass: merge through it, saying why (only people listed under break_glass: may; it is audited)",
                    ),
                ]));
            }
        }
    }
    lines.push(Line::raw(""));
    match &dialog.outcome {
        None if dialog.allowed() => lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{} {} at {}? ",
                    dialog.action.verb(),
                    dialog.id,
                    crate::text::short(&dialog.head)
                ),
                theme.bold(),
            ),
            Span::styled("y", theme.key()),
            Span::raw(" yes  "),
            Span::styled("n", theme.key()),
            Span::raw(" no"),
        ])),
        None => lines.push(Line::styled("esc closes", theme.dim())),
        Some(Loading::Loading) => lines.push(Line::styled(
            format!("{} working…", spinner(app.tick)),
            theme.dim(),
        )),
        Some(Loading::Ready(done)) => lines.push(Line::styled(
            format!("{done} (enter closes)"),
            theme.added(),
        )),
        Some(Loading::Failed(error)) => lines.push(Line::styled(error.clone(), theme.error())),
    }
    let width = frame.area().width.saturating_sub(4).min(90);
    let popup = super::popup(frame, width, lines.len() as u16 + 4);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .title(format!(" {} {} ", dialog.action.verb(), dialog.id))
                .border_style(theme.border(true)),
        ),
        popup,
    );
}
