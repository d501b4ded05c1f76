//! The revert and rollback dialog (`v` and `T` on a commit in an environment's history):
//! it asks for the reason, shows the rendered diff of the undo before anything is written,
//! writes it as a promotion when `y` confirms it (`enter` only ends the reason), and then
//! opens that promotion.

use ratatui::crossterm::event::KeyEvent;

use super::app::{App, Loading, Screen};
use super::keys::{Action, action_for};
use super::work::{Command, RequestId, UndoPreview, UndoRequest, UndoTarget};

#[derive(Debug)]
pub struct UndoDialog {
    pub undo: UndoRequest,
    pub request: RequestId,
    pub reason: String,
    pub preview: Loading<Box<UndoPreview>>,
    /// `Some(Loading)` while it is being written; a failure stays on screen.
    pub writing: Option<Loading<()>>,
    /// First preview line on screen.
    pub scroll: usize,
    /// The reason is written (`enter`): letters are keys again, and only `y` writes.
    pub reason_done: bool,
}

impl UndoDialog {
    /// The last line of the preview's body the scroll may start at: its end stays the
    /// end.
    pub fn last_line(&self) -> usize {
        match &self.preview {
            Loading::Ready(preview) => {
                let objects: usize = preview.objects.iter().map(|o| o.lines.len() + 2).sum();
                (objects + preview.problems.len()).saturating_sub(1)
            }
            _ => 0,
        }
    }

    pub fn title(&self) -> String {
        let short = crate::text::short(&self.undo.sha);
        match &self.undo.target {
            UndoTarget::Revert => format!("revert {short}"),
            UndoTarget::Rollback { env } => format!("roll {env} back to {short}"),
        }
    }
}

impl App {
    /// `R`/`T`: undo the commit under the cursor (history) or on screen (a commit view).
    pub(super) fn open_undo(&mut self, rollback: bool) -> Vec<Command> {
        let picked = match self.screen {
            Screen::History => self.history.as_ref().and_then(|h| {
                h.selected()
                    .map(|row| (h.repo.clone(), row.sha.clone(), h.env.clone()))
            }),
            Screen::Review => self.review.as_ref().and_then(|r| {
                r.commit.then(|| {
                    (
                        r.header.repo.clone(),
                        r.header.branch.clone(),
                        r.header.environments.first().cloned().unwrap_or_default(),
                    )
                })
            }),
            _ => None,
        };
        let Some((repo, sha, env)) = picked else {
            self.message =
                Some("revert and roll back apply to a commit of an environment's history".into());
            return Vec::new();
        };
        let target = if rollback {
            UndoTarget::Rollback { env }
        } else {
            UndoTarget::Revert
        };
        let undo = UndoRequest {
            repo,
            sha,
            target,
            include_shared: false,
            direct: false,
        };
        self.plan_undo(undo, String::new(), false)
    }

    fn plan_undo(&mut self, undo: UndoRequest, reason: String, reason_done: bool) -> Vec<Command> {
        let request = self.request();
        self.undo = Some(UndoDialog {
            undo: undo.clone(),
            request,
            reason,
            preview: Loading::Loading,
            writing: None,
            scroll: 0,
            reason_done,
        });
        vec![Command::PlanUndo { request, undo }]
    }

    /// Keys while the dialog is open: while the reason is being written, text goes into
    /// it and `enter` ends it; then `y` writes, and nothing else does.
    pub(super) fn undo_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let Some(dialog) = &mut self.undo else {
            return Vec::new();
        };
        let Some(context) = super::reason::reason_key(&mut dialog.reason, dialog.reason_done, &key)
        else {
            return Vec::new();
        };
        let page = self.list_height().max(1);
        let Some(dialog) = &mut self.undo else {
            return Vec::new();
        };
        match action_for(context, &key) {
            // A write under way keeps the dialog until it reports back.
            Some(Action::Cancel) if !matches!(dialog.writing, Some(Loading::Loading)) => {
                self.undo = None;
            }
            Some(Action::Up) => dialog.scroll = dialog.scroll.saturating_sub(1),
            Some(Action::Down) => dialog.scroll = (dialog.scroll + 1).min(dialog.last_line()),
            Some(Action::PageUp) => dialog.scroll = dialog.scroll.saturating_sub(page),
            Some(Action::PageDown) => {
                dialog.scroll = (dialog.scroll + page).min(dialog.last_line());
            }
            Some(Action::ToggleShared) => {
                if let UndoTarget::Rollback { .. } = dialog.undo.target {
                    let mut undo = dialog.undo.clone();
                    undo.include_shared = !undo.include_shared;
                    let reason = std::mem::take(&mut dialog.reason);
                    let done = dialog.reason_done;
                    return self.plan_undo(undo, reason, done);
                }
            }
            Some(Action::FinishReason) => {
                if dialog.reason.trim().is_empty() {
                    self.message = Some("type the reason first: it goes into the commit".into());
                } else {
                    dialog.reason_done = true;
                    self.message = None;
                }
            }
            Some(Action::EditReason) if !matches!(dialog.writing, Some(Loading::Loading)) => {
                dialog.reason_done = false;
            }
            Some(Action::Confirm) => return self.confirm_undo(false),
            Some(Action::ConfirmDirect) => return self.confirm_undo(true),
            Some(Action::Quit) => self.quit = true,
            _ => {}
        }
        Vec::new()
    }

    /// `y` (or `D`, `direct`: break-glass, straight onto the protected branch): write
    /// what the preview showed.
    fn confirm_undo(&mut self, direct: bool) -> Vec<Command> {
        let request = self.request();
        let Some(dialog) = &mut self.undo else {
            return Vec::new();
        };
        let Loading::Ready(preview) = &dialog.preview else {
            return Vec::new();
        };
        if matches!(dialog.writing, Some(Loading::Loading)) {
            return Vec::new();
        }
        let reason = dialog.reason.trim().to_string();
        if reason.is_empty() {
            self.message = Some("type the reason first: it goes into the commit".into());
            return Vec::new();
        }
        dialog.request = request;
        dialog.writing = Some(Loading::Loading);
        vec![Command::CreateUndo {
            request,
            undo: UndoRequest {
                direct,
                ..dialog.undo.clone()
            },
            reason,
            base: preview.base.clone(),
            tree: preview.tree.clone(),
        }]
    }

    /// The dialog, when it waits for `request`'s answer.
    fn awaiting_undo(&mut self, request: RequestId) -> Option<&mut UndoDialog> {
        self.undo.as_mut().filter(|d| d.request == request)
    }

    pub(super) fn undo_planned(
        &mut self,
        request: RequestId,
        result: Result<Box<UndoPreview>, String>,
    ) {
        if let Some(d) = self.awaiting_undo(request) {
            d.preview = match result {
                Ok(preview) => Loading::Ready(preview),
                Err(e) => Loading::Failed(e),
            };
        }
    }

    /// A break-glass undo is on the protected branch: close the dialog and walk the
    /// history again, which now starts with it.
    pub(super) fn undo_written_directly(
        &mut self,
        request: RequestId,
        result: Result<String, String>,
    ) -> Vec<Command> {
        let Some(d) = self.awaiting_undo(request) else {
            return Vec::new();
        };
        match result {
            Err(e) => {
                d.writing = Some(Loading::Failed(e));
                Vec::new()
            }
            Ok(done) => {
                self.undo = None;
                self.message = Some(done);
                let mut commands = self.reload_inbox();
                commands.extend(self.reload_history());
                commands
            }
        }
    }

    /// The promotion is written: close the dialog and open it, as the inbox would.
    pub(super) fn undo_created(
        &mut self,
        request: RequestId,
        result: Result<Box<super::work::PromotionRow>, String>,
    ) -> Vec<Command> {
        let Some(d) = self.awaiting_undo(request) else {
            return Vec::new();
        };
        match result {
            Err(e) => {
                d.writing = Some(Loading::Failed(e));
                Vec::new()
            }
            Ok(row) => {
                self.undo = None;
                self.message = Some(format!(
                    "opened {}; it needs approval like any promotion",
                    row.id
                ));
                let id = row.id.clone();
                let mut commands = self.reload_inbox();
                let request = self.request();
                // Esc from the new promotion goes back to the history it was made from.
                let back = match self.history {
                    Some(_) => Screen::History,
                    None => Screen::Inbox,
                };
                self.open_review(*row, request, back, false);
                commands.push(Command::LoadPromotion { request, id });
                commands.extend(self.load_review_verdict());
                commands
            }
        }
    }
}
