//! An environment's history is its *rendered* history: the commits that changed the
//! inputs its render reads (its folder and, for kustomize, the in-repo closure), newest
//! first, streamed one entry at a time. `PathOnly` looks at the folder alone; `Rendered`
//! also renders both sides and keeps only commits whose objects changed.
//!
//! "Changed" is git's TREESAME test against the first parent: the entry id at each input
//! path is compared, so a commit is judged without reading any file content. This file is
//! what a history is (its entries, its query, its index); `walk.rs` is the walk that makes
//! it fast, `rendered.rs` the rendered judgement.

use std::ops::ControlFlow;
use std::path::Path;

use gix::ObjectId;
use serde::Serialize;

use crate::config::Renderer;
use crate::environment::Environment;
use crate::git::{CommitInfo, GitError};
use crate::history_index::{HistoryIndex, index_path};
use crate::manifest::{ChangeKind, ObjectKey};
use crate::policy::POLICY_ENVIRONMENT;
use crate::workspace::{OpenRepo, WorkspaceError, unknown_environment};

mod rendered;
mod walk;
pub use walk::first_parent_line;
pub use walk::touched_on_first_parent_line;
use walk::{Walker, commits_in_order};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistoryMode {
    /// Commits that changed the environment's folder or anything its render reads.
    #[default]
    Inputs,
    /// Commits that changed the environment's folder.
    PathOnly,
    /// Commits that changed the rendered objects.
    Rendered,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectChange {
    #[serde(flatten)]
    pub key: ObjectKey,
    pub change: ChangeKind,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    #[serde(flatten)]
    pub commit: CommitInfo,
    pub environments: Vec<String>,
    /// `Rendered` mode: what changed, per environment, in the order of `environments`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<EnvironmentObjects>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvironmentObjects {
    pub environment: String,
    pub changes: Vec<ObjectChange>,
    /// Set when a side could not be rendered: the entry is kept and marked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub render_error: Option<String>,
}

/// The persistent history index's folder in the XDG cache dir.
pub fn default_index_dir() -> Option<std::path::PathBuf> {
    crate::dirs::project().map(|dirs| dirs.cache_dir().join("history"))
}

/// What to walk for.
#[derive(Debug, Clone, Copy, Default)]
pub struct HistoryQuery<'a> {
    /// One environment, or every environment when `None`.
    pub env: Option<&'a str>,
    pub mode: HistoryMode,
    /// At most this many entries.
    pub limit: Option<usize>,
    /// Folder of the persistent history index; `None` walks without one.
    pub index_dir: Option<&'a Path>,
    /// Only the protected branch's own line (each merge, not the commits it brought in).
    pub first_parent: bool,
    /// Also report changes to `.tollgate/` (the policy and the allowed signers) as the
    /// pseudo-environment [`POLICY_ENVIRONMENT`]: an audit must see who changed the rules.
    pub with_policy: bool,
    /// Walk `(from, not_past)`: from this commit instead of the branch's tip, and not past
    /// the second (nor anything it reaches). What reconcile checks between the deployed
    /// revision and the tip it resolved, whatever the branch does meanwhile.
    pub range: Option<(ObjectId, ObjectId)>,
}

/// The environments a walk tracks: `env` (or all of them), and `.tollgate/` when asked.
pub(super) fn tracked_environments(
    open: &OpenRepo,
    all: &[Environment],
    env: Option<&str>,
    with_policy: bool,
) -> Result<Vec<Environment>, WorkspaceError> {
    let mut envs: Vec<Environment> = match env {
        None => all.to_vec(),
        Some(name) => match all.iter().find(|e| e.name == name) {
            Some(e) => vec![e.clone()],
            None => return Err(unknown_environment(open.name(), name, all)),
        },
    };
    if with_policy {
        envs.push(Environment::folder(
            POLICY_ENVIRONMENT.to_string(),
            POLICY_ENVIRONMENT.to_string(),
            Renderer::Plain,
        ));
    }
    Ok(envs)
}

/// Walk the protected branch newest first and call `on_entry` for each commit that
/// changed the environment(s), until it says stop or `limit` entries were given.
pub fn walk_history(
    open: &OpenRepo,
    query: &HistoryQuery<'_>,
    mut on_entry: impl FnMut(HistoryEntry) -> ControlFlow<()>,
) -> Result<(), WorkspaceError> {
    let tip = match query.range {
        Some((from, _)) => from,
        None => open.tip()?,
    };
    let tip_tree = open.repo.tree_of(tip)?;
    let all = open.environments_at(Some(tip))?;
    let envs = tracked_environments(open, &all, query.env, query.with_policy)?;
    let mut walker = Walker::new(open, query, envs, all, tip_tree)?;

    let mut emitted = 0usize;
    let mut emit_info =
        |commit: CommitInfo, environments: Vec<String>, objects: Vec<EnvironmentObjects>| {
            if query.limit.is_some_and(|l| emitted >= l) {
                return ControlFlow::Break(());
            }
            emitted += 1;
            on_entry(HistoryEntry {
                commit,
                environments,
                objects,
            })
        };
    let mut emit = |id: ObjectId, environments: Vec<String>, objects: Vec<EnvironmentObjects>| {
        Ok::<_, GitError>(emit_info(open.repo.commit_info(id)?, environments, objects))
    };

    if let Some((_, not_past)) = query.range {
        walker.scan(tip, Some(not_past), &mut |id, envs, objects| {
            emit(id, envs, objects)
        })?;
        return Ok(());
    }
    let indexed = match (query.index_dir, &walker.tracked[..]) {
        (Some(dir), [one]) if query.mode != HistoryMode::Rendered => Some(index_file(
            open,
            dir,
            query.mode,
            &one.env,
            query.first_parent,
        )),
        _ => None,
    };
    let Some(index_file) = indexed else {
        walker.scan(tip, None, &mut |id, envs, objects| emit(id, envs, objects))?;
        return Ok(());
    };
    let name = walker.tracked[0].env.name.clone();
    let known = HistoryIndex::load(&index_file).filter(|index| {
        index.tip == tip || open.repo.merge_base(index.tip, tip).ok().flatten() == Some(index.tip)
    });
    tracing::debug!(index = %index_file.display(), hit = known.is_some(), "history index");
    let commits = match known {
        Some(index) => {
            // Only the commits on top of the indexed tip need a look.
            let mut commits = Vec::new();
            if index.tip != tip {
                walker.scan(tip, Some(index.tip), &mut |id, _, _| {
                    commits.push(id);
                    Ok(ControlFlow::Continue(()))
                })?;
            }
            commits.extend(index.commits);
            commits
        }
        None if query.limit.is_some() => {
            // A first page should not wait for the whole walk; the index is written by
            // the first look that goes all the way.
            walker.scan(tip, None, &mut |id, envs, objects| emit(id, envs, objects))?;
            return Ok(());
        }
        None => {
            let mut commits = Vec::new();
            let mut stopped = false;
            walker.scan(tip, None, &mut |id, envs, objects| {
                commits.push(id);
                let flow = emit(id, envs, objects)?;
                stopped |= flow.is_break();
                Ok(flow)
            })?;
            if !stopped {
                save_index(&index_file, tip, commits);
            }
            return Ok(());
        }
    };
    let index = HistoryIndex { tip, commits };
    commits_in_order(open, &index.commits, &mut |commit| {
        emit_info(commit, vec![name.clone()], Vec::new())
    })?;
    save_index(&index_file, tip, index.commits);
    Ok(())
}

/// Where the index of one environment's history lives: everything the answer depends on
/// is in the key.
fn index_file(
    open: &OpenRepo,
    dir: &Path,
    mode: HistoryMode,
    env: &Environment,
    first_parent: bool,
) -> std::path::PathBuf {
    index_path(
        dir,
        &format!(
            "{}\0{:?}\0{}\0{}\0{:?}\0{}",
            open.config
                .path
                .canonicalize()
                .unwrap_or_else(|_| open.config.path.clone())
                .display(),
            mode,
            env.name,
            env.path,
            env.renderer,
            first_parent
        ),
    )
}

/// The commits that changed `env`'s inputs, as the persistent index has them, but only
/// when the index was computed at exactly `tip`: a walk-free answer to "is this commit a
/// change of the environment on the branch?". `None` when there is no such index. It is
/// a cache in the user's own dir: use it to go faster, never to decide what is allowed.
pub fn indexed_changes(
    open: &OpenRepo,
    env: &Environment,
    tip: ObjectId,
    index_dir: &Path,
) -> Option<Vec<ObjectId>> {
    let file = index_file(open, index_dir, HistoryMode::Inputs, env, false);
    HistoryIndex::load(&file)
        .filter(|index| index.tip == tip)
        .map(|index| index.commits)
}

/// The index is a cache: failing to write it costs speed next time, nothing else.
fn save_index(path: &Path, tip: ObjectId, commits: Vec<ObjectId>) {
    let _ = HistoryIndex { tip, commits }.save(path);
}
