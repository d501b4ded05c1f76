//! An environment's history is its *rendered* history: the commits that changed the
//! inputs its render reads (its folder and, for kustomize, the in-repo closure), newest
//! first, streamed one entry at a time. `PathOnly` looks at the folder alone; `Rendered`
//! also renders both sides and keeps only commits whose objects changed.
//!
//! "Changed" is git's TREESAME test against the first parent: the entry id at each input
//! path is compared, so a commit is judged without reading any file content.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Mutex;

use gix::ObjectId;
use serde::Serialize;

use crate::config::Renderer;
use crate::environment::Environment;
use crate::git::walk::Step;
use crate::git::{CommitInfo, GitError, GixContext};
use crate::history_index::{HistoryIndex, index_path};
use crate::manifest::{ChangeKind, ObjectKey};
use crate::policy::POLICY_ENVIRONMENT;
use crate::render::{Inputs, inputs_of};
use crate::workspace::{OpenRepo, WorkspaceError, unknown_environment};

mod rendered;
use rendered::{Candidate, Feed};

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

/// One environment being followed through the walk.
struct Tracked {
    env: Environment,
    inputs: Inputs,
}

/// Entry ids of paths in one tree, so that a parent looked at for one commit is not
/// looked at again when it becomes the commit.
struct TreeEntries {
    tree: ObjectId,
    ids: HashMap<String, Option<ObjectId>>,
    /// Each folder read once: its entries by name (`None`: not a folder).
    folders: HashMap<ObjectId, Option<HashMap<String, ObjectId>>>,
}

impl TreeEntries {
    fn new(tree: ObjectId) -> Self {
        TreeEntries {
            tree,
            ids: HashMap::new(),
            folders: HashMap::new(),
        }
    }

    /// The id at `path`, reading each folder on the way once: environments side by side
    /// under `envs/` share one read of `envs`.
    fn get(&mut self, open: &OpenRepo, path: &str) -> Result<Option<ObjectId>, GitError> {
        if let Some(id) = self.ids.get(path) {
            return Ok(*id);
        }
        let (dir_id, name) = match path.rsplit_once('/') {
            None => (Some(self.tree), path),
            Some((dir, name)) => (self.get(open, dir)?, name),
        };
        let id = match dir_id {
            Some(dir_id) => self.child(open, dir_id, name)?,
            None => None,
        };
        self.ids.insert(path.to_string(), id);
        Ok(id)
    }

    fn child(
        &mut self,
        open: &OpenRepo,
        folder: ObjectId,
        name: &str,
    ) -> Result<Option<ObjectId>, GitError> {
        let entries = match self.folders.entry(folder) {
            std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(open.repo.folder_entries(folder)?)
            }
        };
        Ok(entries
            .as_ref()
            .and_then(|entries| entries.get(name).copied()))
    }
}

/// Whether `path` is the same in both trees. A folder on the way that is the same on
/// both sides settles it without looking further down (git's TREESAME, top-down).
fn unchanged(
    open: &OpenRepo,
    here: &mut TreeEntries,
    there: &mut TreeEntries,
    path: &str,
) -> Result<bool, GitError> {
    if let Some((dir, _)) = path.rsplit_once('/')
        && unchanged(open, here, there, dir)?
    {
        return Ok(true);
    }
    Ok(here.get(open, path)? == there.get(open, path)?)
}

/// Below this many commits a split walk is not worth a second thread.
const SPLIT_WALK_MIN: usize = 4096;

/// Every commit of the first-parent line that changed the environment(s) (inputs or path
/// only, not rendered), newest first, with the environments it changed: the whole line,
/// on two threads. One walks from the tip at once; the other first lists the line, names
/// the commit where the first should stop (past the middle, as the first has started),
/// and walks from there to the root. Each keeps its own repository handle. If the first
/// walk gets past that commit before it is named, it simply walks on to the root and the
/// second half is not used: the answer is the same either way.
pub fn touched_on_first_parent_line(
    open: &OpenRepo,
    env: Option<&str>,
    mode: HistoryMode,
) -> Result<Vec<(CommitInfo, Vec<String>)>, WorkspaceError> {
    let query = HistoryQuery {
        env,
        mode: if mode == HistoryMode::Rendered {
            HistoryMode::Inputs
        } else {
            mode
        },
        limit: None,
        index_dir: None,
        first_parent: true,
        with_policy: true,
        range: None,
    };
    let tip = open.tip()?;
    let tip_tree = open.repo.tree_of(tip)?;
    let all = open.environments_at(Some(tip))?;
    let envs = tracked_environments(open, &all, env, query.with_policy)?;
    let stop = Mutex::new(None);
    let second = open.handle();
    let (query, stop_ref) = (&query, &stop);
    let (envs_second, all_second) = (envs.clone(), all.clone());
    let (first, rest) = std::thread::scope(|scope| {
        let rest = scope.spawn(move || -> Result<_, GitError> {
            let line = first_parent_line(&second, tip)?;
            if line.len() < SPLIT_WALK_MIN {
                return Ok(None);
            }
            // The first walk has had a head start while the line was listed.
            let start = line[line.len() * 11 / 20];
            *stop_ref.lock().unwrap_or_else(|e| e.into_inner()) = Some(start);
            let tree = second.repo.tree_of(start)?;
            let mut walker = Walker::new(&second, query, envs_second, all_second, tree)?;
            let mut found = Vec::new();
            walker.scan(start, None, &mut |id, touched, _| {
                found.push((second.repo.commit_info(id)?, touched));
                Ok(ControlFlow::Continue(()))
            })?;
            Ok(Some(found))
        });
        let first = (|| -> Result<_, GitError> {
            let mut walker = Walker::new(open, query, envs, all, tip_tree)?;
            walker.stop_before = Some(stop_ref);
            let mut found = Vec::new();
            walker.scan(tip, None, &mut |id, touched, _| {
                found.push((open.repo.commit_info(id)?, touched));
                Ok(ControlFlow::Continue(()))
            })?;
            Ok((found, walker.stopped))
        })();
        (
            first,
            rest.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
        )
    });
    let (mut found, stopped) = first?;
    let rest = rest?;
    tracing::debug!(
        first = found.len(),
        second = rest.as_ref().map(Vec::len),
        split = stopped,
        "split walk of the first-parent line"
    );
    if stopped {
        found.extend(rest.unwrap_or_default());
    }
    Ok(found)
}

/// The first-parent line from `tip`, newest first (ids only).
pub(crate) fn first_parent_line(open: &OpenRepo, tip: ObjectId) -> Result<Vec<ObjectId>, GitError> {
    open.repo
        .inner
        .rev_walk([tip])
        .first_parent_only()
        .all()
        .during(open.name(), || format!("walk {}", open.branch))?
        .map(|info| {
            info.map(|i| i.id)
                .during(open.name(), || format!("walk {}", open.branch))
        })
        .collect()
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
fn tracked_environments(
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
        envs.push(Environment {
            name: POLICY_ENVIRONMENT.to_string(),
            path: POLICY_ENVIRONMENT.to_string(),
            renderer: Renderer::Plain,
            namespace: None,
            helm: None,
            from: None,
            flux: None,
            overlay: None,
            top_level_only: false,
            supplied: Vec::new(),
            problem: None,
        });
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

/// Commits read per batch by [`commits_in_order`].
const COMMIT_BATCH: usize = 256;

/// Read the commits `ids` and give them to `each` in order, until it says stop: the
/// even batches on this thread, the odd ones on another (reading a commit is most of the
/// time of a history the index already answered).
fn commits_in_order(
    open: &OpenRepo,
    ids: &[ObjectId],
    each: &mut dyn FnMut(CommitInfo) -> ControlFlow<()>,
) -> Result<(), GitError> {
    let read = |open: &OpenRepo, batch: &[ObjectId]| -> Result<Vec<CommitInfo>, GitError> {
        batch.iter().map(|id| open.repo.commit_info(*id)).collect()
    };
    let helper = open.handle();
    let (odd, odd_read) = std::sync::mpsc::sync_channel(1);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for batch in ids.chunks(COMMIT_BATCH).skip(1).step_by(2) {
                let infos = read(&helper, batch);
                let failed = infos.is_err();
                if odd.send(infos).is_err() || failed {
                    return;
                }
            }
        });
        // Returning drops the receiver, which ends the helper.
        let odd_read = odd_read;
        for (number, batch) in ids.chunks(COMMIT_BATCH).enumerate() {
            let infos = if number % 2 == 0 {
                read(open, batch)?
            } else {
                odd_read
                    .recv()
                    .expect("the helper reads every odd batch or says why not")?
            };
            for info in infos {
                if each(info).is_break() {
                    return Ok(());
                }
            }
        }
        Ok(())
    })
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

/// The state of one walk: the environments followed and what it has rendered.
struct Walker<'a> {
    open: &'a OpenRepo,
    first_parent: bool,
    mode: HistoryMode,
    tracked: Vec<Tracked>,
    render_envs: Vec<Environment>,
    /// Stop before this commit, once someone says which (the other half of a split walk
    /// starts there); set when the walk did stop there.
    stop_before: Option<&'a Mutex<Option<ObjectId>>>,
    stopped: bool,
}

type OnTouched<'f> = dyn FnMut(ObjectId, Vec<String>, Vec<EnvironmentObjects>) -> Result<ControlFlow<()>, GitError>
    + 'f;

impl<'a> Walker<'a> {
    /// A walk of `envs` (their inputs as of `tree`) as `query` asks.
    fn new(
        open: &'a OpenRepo,
        query: &HistoryQuery<'_>,
        envs: Vec<Environment>,
        all: Vec<Environment>,
        tree: ObjectId,
    ) -> Result<Walker<'a>, GitError> {
        Ok(Walker {
            open,
            first_parent: query.first_parent,
            mode: query.mode,
            tracked: envs
                .into_iter()
                .map(|mut env| {
                    if query.mode == HistoryMode::PathOnly {
                        // The folder alone: no closure to follow.
                        env.renderer = Renderer::Plain;
                    }
                    let inputs = inputs_of(&open.repo, tree, &env)?;
                    Ok(Tracked { env, inputs })
                })
                .collect::<Result<_, GitError>>()?,
            render_envs: all,
            stop_before: None,
            stopped: false,
        })
    }

    /// Walk from `tip` (not past `hidden`), newest first, and report each commit that
    /// changed a tracked environment (in `Rendered` mode: whose objects changed).
    fn scan(
        &mut self,
        tip: ObjectId,
        hidden: Option<ObjectId>,
        on_touched: &mut OnTouched<'_>,
    ) -> Result<(), GitError> {
        let open = self.open;
        let producer = open.handle();
        let first_parent = self.first_parent;
        let (steps, received) = std::sync::mpsc::sync_channel(STEP_BATCHES_AHEAD);
        std::thread::scope(|scope| {
            scope.spawn(move || walk_steps(&producer, tip, hidden, first_parent, steps));
            // The receiver goes when the consumer returns, which ends the producer's walk.
            if self.mode == HistoryMode::Rendered {
                let envs = self.render_envs.clone();
                rendered::judge_in_order(
                    open,
                    &envs,
                    rendered::render_jobs(),
                    |feed| self.consume(received, feed),
                    on_touched,
                )
            } else {
                self.consume(received, &mut |c: Candidate| {
                    on_touched(c.id, c.touched, Vec::new())
                })
            }
        })
    }

    /// The per-commit half of [`Walker::scan`]: which tracked environments each commit
    /// changed against its first parent.
    fn consume(
        &mut self,
        received: std::sync::mpsc::Receiver<Result<Vec<Step>, GitError>>,
        feed: &mut Feed<'_>,
    ) -> Result<(), GitError> {
        let open = self.open;
        let mut previous_parent: Option<TreeEntries> = None;
        for batch in received {
            for Step {
                id,
                tree,
                parent_tree,
            } in batch?
            {
                if let Some(stop) = self.stop_before
                    && *stop.lock().unwrap_or_else(|e| e.into_inner()) == Some(id)
                {
                    self.stopped = true;
                    return Ok(());
                }
                if tree == parent_tree {
                    continue;
                }
                let mut here = match previous_parent.take() {
                    Some(entries) if entries.tree == tree => entries,
                    _ => TreeEntries::new(tree),
                };
                let mut there = TreeEntries::new(parent_tree);

                let mut touched = Vec::new();
                for t in &mut self.tracked {
                    // What a kustomization or a chart reads can change with it.
                    if t.env.renderer != Renderer::Plain {
                        let mut stale = false;
                        for (path, id) in &t.inputs.kustomizations {
                            if here.get(open, path)? != Some(*id) {
                                stale = true;
                                break;
                            }
                        }
                        if stale {
                            t.inputs = inputs_of(&open.repo, tree, &t.env)?;
                        }
                    }
                    for path in &t.inputs.paths {
                        if !unchanged(open, &mut here, &mut there, path)? {
                            touched.push(t.env.name.clone());
                            break;
                        }
                    }
                }
                previous_parent = Some(there);
                if touched.is_empty() {
                    continue;
                }

                let candidate = Candidate {
                    id,
                    touched,
                    parent_tree,
                    tree,
                };
                if feed(candidate)?.is_break() {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// Batches of commits the walk may be ahead of the tree comparisons.
const STEP_BATCHES_AHEAD: usize = 4;
const STEP_BATCH: usize = 64;

/// The commit walk of [`Walker::scan`], on its own thread: reading commits (inflating
/// them, finding parents) takes as long as comparing their trees, so the two halves run
/// side by side. Stops when the receiver is gone.
fn walk_steps(
    open: &OpenRepo,
    tip: ObjectId,
    hidden: Option<ObjectId>,
    first_parent: bool,
    steps: std::sync::mpsc::SyncSender<Result<Vec<Step>, GitError>>,
) {
    let walk = || -> Result<(), GitError> {
        let mut batch = Vec::with_capacity(STEP_BATCH);
        for step in open.repo.walk_with_trees(tip, hidden, first_parent)? {
            batch.push(step?);
            if batch.len() == STEP_BATCH
                && steps
                    .send(Ok(std::mem::replace(
                        &mut batch,
                        Vec::with_capacity(STEP_BATCH),
                    )))
                    .is_err()
            {
                return Ok(());
            }
        }
        if !batch.is_empty() {
            let _ = steps.send(Ok(batch));
        }
        Ok(())
    };
    if let Err(e) = walk() {
        let _ = steps.send(Err(e));
    }
}
