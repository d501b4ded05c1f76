//! The writes that need a reason, from a review: abandoning a promotion (`C`, see
//! [`crate::closing`]) and a break-glass merge (`b` in a merge dialog a freeze or a failed
//! render refuses). The reason is typed first (`enter` ends it), then only `y` writes,
//! pinned to the head the review showed; the reason is recorded with the write.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{App, Loading, Screen};
use super::keys::{Action, Context, action_for};
use super::work::{Command, RequestId, ReviewAction};
use crate::verdict::Verdict;

/// What the reason is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Abandon the promotion: its branch is deleted.
    Close,
    /// Merge through what break-glass lifts (a freeze, a render that fails), for the
    /// identities the policy lists under `break_glass`.
    BreakGlass,
}

#[derive(Debug)]
pub struct ReasonDialog {
    pub purpose: Purpose,
    pub id: String,
    /// The head the review showed: the branch is deleted only while it is still there.
    pub head: String,
    pub request: RequestId,
    pub reason: String,
    /// The reason is written (`enter`): letters are keys again, and only `y` closes.
    pub reason_done: bool,
    /// `Some(Loading)` while it is being closed; a failure stays on screen.
    pub writing: Option<Loading<()>>,
}

impl ReasonDialog {
    /// A dialog for `purpose` on promotion `id` at `head`, its reason still to type.
    fn new(purpose: Purpose, id: String, head: String, request: RequestId) -> ReasonDialog {
        ReasonDialog {
            purpose,
            id,
            head,
            request,
            reason: String::new(),
            reason_done: false,
            writing: None,
        }
    }
}

impl App {
    /// `C`: ask why the promotion under review is abandoned.
    pub(super) fn open_close(&mut self) -> Vec<Command> {
        let Some(review) = &self.review else {
            return Vec::new();
        };
        if review.commit {
            self.message = Some("only a promotion can be closed; a commit is reverted (v)".into());
            return Vec::new();
        }
        let Loading::Ready(detail) = &review.detail else {
            self.message = Some("wait for the promotion to load: you close what you saw".into());
            return Vec::new();
        };
        let (id, head) = (review.header.id.clone(), detail.head.clone());
        let request = self.request();
        self.reason_dialog = Some(ReasonDialog::new(Purpose::Close, id, head, request));
        Vec::new()
    }

    /// `b` in a merge dialog that only break-glass would allow: ask why.
    pub(super) fn open_break_glass(&mut self) -> Vec<Command> {
        let Some(dialog) = &self.dialog else {
            return Vec::new();
        };
        let Loading::Ready(verdict) = &dialog.verdict else {
            return Vec::new();
        };
        if dialog.action != ReviewAction::Merge || !break_glass_would_allow(verdict) {
            self.message = Some(
                "break-glass lifts a freeze or a failed render, and only those: this merge is refused for other reasons".into(),
            );
            return Vec::new();
        }
        let (id, head) = (dialog.id.clone(), dialog.head.clone());
        self.dialog = None;
        let request = self.request();
        self.reason_dialog = Some(ReasonDialog::new(Purpose::BreakGlass, id, head, request));
        Vec::new()
    }

    /// Keys while the reason dialog is open: the reason's text, then `y` or a way out.
    pub(super) fn reason_dialog_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let request = self.request();
        let Some(dialog) = &mut self.reason_dialog else {
            return Vec::new();
        };
        let busy = matches!(dialog.writing, Some(Loading::Loading));
        let Some(context) = reason_key(&mut dialog.reason, dialog.reason_done, &key) else {
            return Vec::new();
        };
        match action_for(context, &key) {
            Some(Action::Cancel) if !busy => self.reason_dialog = None,
            Some(Action::FinishReason) => {
                if dialog.reason.trim().is_empty() {
                    self.message = Some("type the reason first: it is recorded with it".into());
                } else {
                    dialog.reason_done = true;
                }
            }
            Some(Action::EditReason) if !busy => dialog.reason_done = false,
            Some(Action::Confirm) if !busy => {
                dialog.request = request;
                dialog.writing = Some(Loading::Loading);
                let (id, head) = (dialog.id.clone(), dialog.head.clone());
                let reason = dialog.reason.trim().to_string();
                return vec![match dialog.purpose {
                    Purpose::Close => Command::Close {
                        request,
                        id,
                        head,
                        reason,
                    },
                    Purpose::BreakGlass => Command::Act {
                        request,
                        id,
                        head,
                        action: ReviewAction::Merge,
                        acknowledge_unrendered: false,
                        break_glass: Some(reason),
                    },
                }];
            }
            Some(Action::Quit) => self.quit = true,
            _ => {}
        }
        Vec::new()
    }

    /// The close or break-glass merge finished: back to the inbox, which no longer lists
    /// the promotion; or the refusal, on screen.
    pub(super) fn reason_dialog_done(
        &mut self,
        request: RequestId,
        result: Result<String, String>,
    ) -> Vec<Command> {
        let Some(dialog) = &mut self.reason_dialog else {
            return Vec::new();
        };
        if dialog.request != request {
            return Vec::new();
        }
        match result {
            Err(e) => {
                dialog.writing = Some(Loading::Failed(e));
                Vec::new()
            }
            Ok(done) => {
                self.reason_dialog = None;
                self.message = Some(done);
                self.review = None;
                self.screen = Screen::Inbox;
                self.reload_inbox()
            }
        }
    }
}

/// A key in a dialog that asks a reason: while the reason is written, a letter or a
/// backspace edits it (`None`: nothing else to do); otherwise the key map's context to
/// look the key up in, so that `enter` ends the reason and, once it is, only `y` writes.
pub(super) fn reason_key(
    reason: &mut String,
    reason_done: bool,
    key: &KeyEvent,
) -> Option<Context> {
    if reason_done {
        return Some(Context::UndoReady);
    }
    let plain = key.modifiers - KeyModifiers::SHIFT == KeyModifiers::NONE;
    match key.code {
        KeyCode::Char(c) if plain => reason.push(c),
        KeyCode::Backspace => {
            reason.pop();
        }
        _ => return Some(Context::Undo),
    }
    None
}

/// Whether break-glass would allow a merge the verdict refuses: every refusal is a
/// freeze or a render problem, the two things it lifts.
pub fn break_glass_would_allow(verdict: &Verdict) -> bool {
    !verdict.can_merge
        && !verdict.merge_refusals.is_empty()
        && verdict
            .merge_refusals
            .iter()
            .all(|r| verdict.freezes.contains(r) || verdict.render_problems.contains(r))
}
