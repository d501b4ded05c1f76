//! The Verdict tab of a promotion: each approval (valid, stale, not authorised…) with
//! its signature, what each environment still needs, whether you may approve or merge
//! and why not, and what merging it now would do. Loaded with the review and again
//! after each action, so it is never the count from before.

use ratatui::text::{Line, Span};

use crate::tui::app::{Loading, ReviewState};
use crate::tui::theme::Theme;
use crate::verdict::ApprovalStatus;

pub fn lines(review: &ReviewState, identity: &str, theme: Theme) -> Vec<Line<'static>> {
    let verdict = match &review.verdict {
        None => {
            return vec![Line::styled(
                "a commit of the protected branch: the history's marks say how it was approved",
                theme.dim(),
            )];
        }
        Some(Loading::Loading) => return vec![Line::styled("reading the verdict…", theme.dim())],
        Some(Loading::Failed(error)) => return vec![Line::styled(error.clone(), theme.error())],
        Some(Loading::Ready(verdict)) => verdict,
    };
    let mut out = Vec::new();
    if let Loading::Ready(detail) = &review.detail
        && detail.head != verdict.head
    {
        out.push(Line::styled(
            format!(
                "the promotion moved since you opened it: its head is now {}, the diff shows {}; R reloads (approve and merge act on what you saw, or on nothing)",
                crate::text::short(&verdict.head),
                crate::text::short(&detail.head)
            ),
            theme.warn(),
        ));
    }
    if let Some((from, by)) = review.approved_before(identity) {
        out.push(Line::styled(
            format!(
                "{by} approved an older head, {}: i shows only what changed since",
                crate::text::short(&from)
            ),
            theme.warn(),
        ));
    }
    out.push(Line::from(vec![
        Span::styled("head ", theme.dim()),
        Span::raw(crate::text::short(&verdict.head).to_string()),
        Span::styled("  base ", theme.dim()),
        Span::raw(crate::text::short(&verdict.base).to_string()),
    ]));
    out.push(Line::styled("approvals", theme.bold()));
    if verdict.approvals.is_empty() {
        out.push(Line::styled("  none yet", theme.dim()));
    }
    for approval in &verdict.approvals {
        let (mark, style) = match approval.status {
            ApprovalStatus::Valid => ("✓", theme.added()),
            _ => ("✗", theme.removed()),
        };
        let status = format!("{:?}", approval.status).to_lowercase();
        let why = if approval.status == ApprovalStatus::Valid {
            String::new()
        } else {
            format!(": {}", approval.why)
        };
        out.push(Line::from(vec![
            Span::styled(format!("  {mark} "), style),
            Span::raw(approval.by.clone()),
            Span::styled(
                format!("  {status}{why} · {}", approval.signature.label()),
                theme.dim(),
            ),
        ]));
        for line in approval.comment.iter().flat_map(|c| c.lines()) {
            out.push(Line::from(vec![
                Span::styled("      │ ", theme.dim()),
                Span::raw(line.to_string()),
            ]));
        }
    }
    out.push(Line::styled("environments", theme.bold()));
    for env in &verdict.environments {
        let mut text = format!("  {}  {}/{} approvals", env.name, env.valid, env.required);
        if env.missing > 0 {
            text.push_str(&format!(", {} more needed", env.missing));
        }
        out.push(Line::raw(text));
    }
    if let Some(flag) = verdict.merge.as_ref().and_then(|m| m.flag()) {
        out.push(Line::styled(format!("merging now: {flag}"), theme.warn()));
    }
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    out.push(Line::from(vec![
        Span::styled("you: ", theme.bold()),
        Span::raw(format!(
            "may approve: {}, may merge: {}",
            yes_no(verdict.can_approve),
            yes_no(verdict.can_merge)
        )),
    ]));
    // What keeps you from acting, in red; the rest explains the count (a checked revert
    // needs fewer approvals, a change to the policy the strictest rules).
    for reason in &verdict.reasons {
        let refusal =
            verdict.approve_refusals.contains(reason) || verdict.merge_refusals.contains(reason);
        let style = if refusal { theme.error() } else { theme.dim() };
        let mark = if refusal { "✗" } else { "why:" };
        out.push(Line::styled(
            format!("  {mark} {}", in_tui_words(reason)),
            style,
        ));
    }
    out
}

/// A reason as the TUI's keys would say it: the library names the CLI's flags.
pub fn in_tui_words(reason: &str) -> String {
    reason
        .replace(
            "merging needs --break-glass",
            "merging needs break-glass (b in the merge dialog)",
        )
        .replace(
            "merge with --break-glass",
            "merge with break-glass (b in the merge dialog)",
        )
        .replace(
            "(--acknowledge-unrendered)",
            "(y in the approve dialog acknowledges it)",
        )
}
