//! The confirmation for approve, unapprove and merge: ask for the verdict, show it, run
//! the action only when it is allowed and confirmed, and refresh what it changed.

use super::app::{App, Loading, Screen};
use super::work::{Command, RequestId, ReviewAction};
use crate::verdict::Verdict;

/// A confirmation over the review: the verdict first, then the action, then its result.
#[derive(Debug)]
pub struct Dialog {
    pub action: ReviewAction,
    pub id: String,
    pub request: RequestId,
    pub verdict: Loading<Box<Verdict>>,
    /// `None` until confirmed; then loading, then what happened.
    pub outcome: Option<Loading<String>>,
    /// The review's warnings, repeated where the decision is taken.
    pub warnings: Vec<String>,
    /// The head the review showed, which the action is pinned to.
    pub head: String,
}

impl Dialog {
    /// Whether this is a merge that break-glass (`b`) would allow.
    pub fn break_glass_would_allow(&self) -> bool {
        match (&self.verdict, self.action) {
            (Loading::Ready(v), ReviewAction::Merge) => super::reason::break_glass_would_allow(v),
            _ => false,
        }
    }

    /// Whether the verdict allows the action (unapprove is always allowed).
    pub fn allowed(&self) -> bool {
        match (&self.verdict, self.action) {
            (Loading::Ready(_), ReviewAction::Unapprove) => true,
            // What is not rendered is shown in the dialog; `y` acknowledges it.
            (Loading::Ready(v), ReviewAction::Approve) => v.can_approve_acknowledging(),
            (Loading::Ready(v), ReviewAction::Merge) => v.can_merge,
            _ => false,
        }
    }
}

impl App {
    /// Ask for the verdict on the open promotion before `action`; commits have none.
    pub(super) fn open_dialog(&mut self, action: ReviewAction) -> Vec<Command> {
        let Some(review) = &self.review else {
            return Vec::new();
        };
        if review.commit {
            self.message = Some("only promotions can be approved or merged".into());
            return Vec::new();
        }
        let id = review.header.id.clone();
        // Nothing is approved or merged before it was shown: the action is pinned to the
        // head the review loaded.
        let Loading::Ready(detail) = &review.detail else {
            self.message = Some("wait for the promotion to load: you act on what you saw".into());
            return Vec::new();
        };
        let (warnings, head) = (detail.warnings.clone(), detail.head.clone());
        let request = self.request();
        self.dialog = Some(Dialog {
            action,
            id: id.clone(),
            request,
            verdict: Loading::Loading,
            outcome: None,
            warnings,
            head,
        });
        vec![Command::LoadVerdict { request, id }]
    }

    pub(super) fn confirm(&mut self) -> Vec<Command> {
        let request = self.request();
        let Some(dialog) = &mut self.dialog else {
            return Vec::new();
        };
        if dialog.outcome.is_some() {
            // Already done: Enter closes it.
            return self.close_dialog();
        }
        if !dialog.allowed() {
            return Vec::new();
        }
        dialog.request = request;
        dialog.outcome = Some(Loading::Loading);
        let acknowledge_unrendered = match (&dialog.verdict, dialog.action) {
            (Loading::Ready(v), ReviewAction::Approve) => !v.unrendered.is_empty(),
            _ => false,
        };
        vec![Command::Act {
            request,
            id: dialog.id.clone(),
            head: dialog.head.clone(),
            action: dialog.action,
            acknowledge_unrendered,
            break_glass: None,
        }]
    }

    /// Close the dialog (a running action keeps it until it reports back). After an
    /// action that changed something, the inbox reloads; after a merge the promotion is
    /// gone, so the review closes too.
    pub(super) fn close_dialog(&mut self) -> Vec<Command> {
        let Some(dialog) = &self.dialog else {
            return Vec::new();
        };
        let (done, action) = match &dialog.outcome {
            Some(Loading::Loading) => return Vec::new(),
            Some(Loading::Ready(_)) => (true, dialog.action),
            _ => (false, dialog.action),
        };
        self.dialog = None;
        if !done {
            return Vec::new();
        }
        if action == ReviewAction::Merge {
            self.review = None;
            self.screen = Screen::Inbox;
        }
        // The Verdict tab says what the action changed.
        let mut commands = self.load_review_verdict();
        commands.extend(self.reload_inbox());
        commands
    }
}
