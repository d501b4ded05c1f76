//! Abandoning a promotion from its review (`C`): the reason is typed first (`enter` ends
//! it), then only `y` deletes the branch, pinned to the head the review showed; who and
//! why are recorded with it (see [`crate::closing`]).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{App, Loading, Screen};
use super::keys::{Action, Context, action_for};
use super::work::{Command, RequestId};

#[derive(Debug)]
pub struct CloseDialog {
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
        self.closing = Some(CloseDialog {
            id,
            head,
            request,
            reason: String::new(),
            reason_done: false,
            writing: None,
        });
        Vec::new()
    }

    /// Keys while the close dialog is open: the reason's text, then `y` or a way out.
    pub(super) fn close_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let request = self.request();
        let Some(dialog) = &mut self.closing else {
            return Vec::new();
        };
        let busy = matches!(dialog.writing, Some(Loading::Loading));
        let context = if dialog.reason_done {
            Context::UndoReady
        } else {
            let plain = key.modifiers - KeyModifiers::SHIFT == KeyModifiers::NONE;
            match key.code {
                KeyCode::Char(c) if plain => {
                    dialog.reason.push(c);
                    return Vec::new();
                }
                KeyCode::Backspace => {
                    dialog.reason.pop();
                    return Vec::new();
                }
                _ => Context::Undo,
            }
        };
        match action_for(context, &key) {
            Some(Action::Cancel) if !busy => self.closing = None,
            Some(Action::FinishReason) => {
                if dialog.reason.trim().is_empty() {
                    self.message =
                        Some("type the reason first: it is recorded with the close".into());
                } else {
                    dialog.reason_done = true;
                }
            }
            Some(Action::EditReason) if !busy => dialog.reason_done = false,
            Some(Action::Confirm) if !busy => {
                dialog.request = request;
                dialog.writing = Some(Loading::Loading);
                return vec![Command::Close {
                    request,
                    id: dialog.id.clone(),
                    head: dialog.head.clone(),
                    reason: dialog.reason.trim().to_string(),
                }];
            }
            Some(Action::Quit) => self.quit = true,
            _ => {}
        }
        Vec::new()
    }

    /// The close finished: back to the inbox, which no longer lists it; or the refusal,
    /// on screen.
    pub(super) fn closed(
        &mut self,
        request: RequestId,
        result: Result<String, String>,
    ) -> Vec<Command> {
        let Some(dialog) = &mut self.closing else {
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
                self.closing = None;
                self.message = Some(done);
                self.review = None;
                self.screen = Screen::Inbox;
                self.reload_inbox()
            }
        }
    }
}
