//! `:` jumps by name, as in k9s: `:production` opens that environment's history,
//! `:shop/production` the one of that repo, `:shop` lists the repo's environments. Names
//! come from the environments list, loaded first when it is not yet.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{App, Loading, Screen};
use super::work::Command;
use crate::history::HistoryMode;

impl App {
    /// `:`: start typing where to jump.
    pub(super) fn start_jump(&mut self) {
        // A dialog keeps the keys until it is closed.
        if self.dialog.is_none() {
            self.jump = Some(String::new());
        }
    }

    /// A key while `:` is typed: Enter jumps, Esc gives up, Ctrl-u clears, Ctrl-c quits.
    pub(super) fn jump_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let Some(text) = &mut self.jump else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc => self.jump = None,
            KeyCode::Enter => {
                let target = text.trim().to_string();
                self.jump = None;
                if !target.is_empty() {
                    return self.jump_to(target);
                }
            }
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char('c') if ctrl => self.quit = true,
            KeyCode::Char('u') if ctrl => text.clear(),
            KeyCode::Char(c) if !ctrl => text.push(c),
            _ => {}
        }
        Vec::new()
    }

    /// Go to `target` once the environments are known.
    fn jump_to(&mut self, target: String) -> Vec<Command> {
        let loaded = !self.environments.repos.is_empty()
            && self
                .environments
                .repos
                .iter()
                .all(|slot| !matches!(slot.state, Loading::Loading));
        if loaded {
            return self.land(&target);
        }
        self.message = Some(format!(":{target}: reading the environments…"));
        self.pending_jump = Some(target);
        if self.environments.repos.is_empty() {
            return self.reload_environments();
        }
        Vec::new()
    }

    /// The environments arrived: a jump waiting for them goes now.
    pub(super) fn jump_when_loaded(&mut self) -> Vec<Command> {
        let waiting = self
            .environments
            .repos
            .iter()
            .any(|slot| matches!(slot.state, Loading::Loading));
        match self.pending_jump.take() {
            Some(target) if !waiting => self.land(&target),
            pending => {
                self.pending_jump = pending;
                Vec::new()
            }
        }
    }

    fn land(&mut self, target: &str) -> Vec<Command> {
        let wanted = target.to_lowercase();
        let (repo_part, env_part) = match wanted.split_once('/') {
            Some((repo, env)) => (Some(repo.to_string()), env.to_string()),
            None => (None, wanted.clone()),
        };
        let envs: Vec<(String, String)> = self
            .environment_rows()
            .map(|e| (e.repo.clone(), e.name.clone()))
            .collect();
        let matching: Vec<&(String, String)> = envs
            .iter()
            .filter(|(repo, env)| {
                env.to_lowercase() == env_part
                    && repo_part.as_ref().is_none_or(|r| repo.to_lowercase() == *r)
            })
            .collect();
        if let [(repo, env)] = matching.as_slice() {
            self.message = None;
            return self.open_history(repo.clone(), env.clone(), HistoryMode::Inputs, false);
        }
        let repo_named = envs
            .iter()
            .any(|(repo, _)| repo_part.is_none() && repo.to_lowercase() == wanted);
        if matching.len() > 1 || repo_named {
            // Several environments of that name, or a repo: the list, filtered to them.
            self.screen = Screen::Environments;
            self.environments.filter = target.to_string();
            self.environments.filtering = false;
            self.environments.cursor.reset();
            self.message = Some(format!(":{target}: pick one (enter opens its history)"));
            return Vec::new();
        }
        self.message = Some(format!(
            ":{target}: no repo or environment has that name (:REPO, :ENV or :REPO/ENV)"
        ));
        Vec::new()
    }
}
