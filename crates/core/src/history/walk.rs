//! The walk that makes a history fast: the first-parent line split between two threads,
//! commits read in batches on a second thread while the first judges them, tree entries
//! looked up once per input path. What a history *is* (its entries, its query, the
//! index) is in `mod.rs`.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use gix::ObjectId;

use super::rendered::{Candidate, Feed};
use super::{EnvironmentObjects, HistoryMode, HistoryQuery, tracked_environments};
use crate::config::Renderer;
use crate::environment::Environment;
use crate::git::commit_graph::{CommitGraph, PathKeys};
use crate::git::walk::Step;
use crate::git::{CommitInfo, GitError, GixContext};
use crate::render::{Inputs, inputs_of};
use crate::workspace::{OpenRepo, WorkspaceError};

/// One environment being followed through the walk.
pub(super) struct Tracked {
    pub(super) env: Environment,
    inputs: Inputs,
}

/// Entry ids of paths in one tree, so that a parent looked at for one commit is not
/// looked at again when it becomes the commit.
struct TreeEntries {
    tree: ObjectId,
    ids: HashMap<String, Option<ObjectId>>,
    /// Each folder read once (`None`: not a folder); few of its names are looked at.
    folders: HashMap<ObjectId, Option<Vec<u8>>>,
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
        let data = match self.folders.entry(folder) {
            std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(open.repo.tree_data(folder)?)
            }
        };
        match data {
            Some(data) => open.repo.tree_entry(data, name),
            None => Ok(None),
        }
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
pub fn first_parent_line(open: &OpenRepo, tip: ObjectId) -> Result<Vec<ObjectId>, GitError> {
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

/// Commits read per batch by [`commits_in_order`].
const COMMIT_BATCH: usize = 256;

/// Read the commits `ids` and give them to `each` in order, until it says stop: the
/// even batches on this thread, the odd ones on another (reading a commit is most of the
/// time of a history the index already answered).
pub(super) fn commits_in_order(
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

/// The state of one walk: the environments followed and what it has rendered.
pub(super) struct Walker<'a> {
    open: &'a OpenRepo,
    first_parent: bool,
    mode: HistoryMode,
    pub(super) tracked: Vec<Tracked>,
    render_envs: Vec<Environment>,
    /// Stop before this commit, once someone says which (the other half of a split walk
    /// starts there); set when the walk did stop there.
    stop_before: Option<&'a Mutex<Option<ObjectId>>>,
    stopped: bool,
    /// The repository's commit-graph, when it has one.
    graph: Option<Arc<CommitGraph>>,
    /// The keys of every tracked input path for the graph's changed-path filters; made
    /// again when the inputs change.
    keys: Option<PathKeys>,
}

type OnTouched<'f> = dyn FnMut(ObjectId, Vec<String>, Vec<EnvironmentObjects>) -> Result<ControlFlow<()>, GitError>
    + 'f;

impl<'a> Walker<'a> {
    /// A walk of `envs` (their inputs as of `tree`) as `query` asks.
    pub(super) fn new(
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
            graph: open.repo.commit_graph(),
            keys: None,
        })
    }

    /// Walk from `tip` (not past `hidden`), newest first, and report each commit that
    /// changed a tracked environment (in `Rendered` mode: whose objects changed).
    pub(super) fn scan(
        &mut self,
        tip: ObjectId,
        hidden: Option<ObjectId>,
        on_touched: &mut OnTouched<'_>,
    ) -> Result<(), GitError> {
        let open = self.open;
        let producer = open.handle();
        let first_parent = self.first_parent;
        let graph = self.graph.clone();
        let (steps, received) = std::sync::mpsc::sync_channel(STEP_BATCHES_AHEAD);
        std::thread::scope(|scope| {
            scope.spawn(move || walk_steps(&producer, tip, hidden, first_parent, graph, steps));
            // The receiver goes when the consumer returns, which ends the producer's walk.
            if self.mode == HistoryMode::Rendered {
                let envs = self.render_envs.clone();
                super::rendered::judge_in_order(
                    open,
                    &envs,
                    super::rendered::render_jobs(),
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
    pub(super) fn consume(
        &mut self,
        received: std::sync::mpsc::Receiver<Result<Vec<Step>, GitError>>,
        feed: &mut Feed<'_>,
    ) -> Result<(), GitError> {
        let open = self.open;
        let mut previous_parent: Option<TreeEntries> = None;
        // A plain folder's inputs are the folder at every commit; a render's closure
        // holds for the first parent of a commit that did not change it.
        let inputs_fixed = self
            .tracked
            .iter()
            .all(|t| t.env.renderer == Renderer::Plain);
        let mut inputs_hold_for: Option<ObjectId> = None;
        let (mut seen, mut passed) = (0usize, 0usize);
        for batch in received {
            for Step {
                id,
                tree,
                parent_tree,
                first_parent,
                position,
            } in batch?
            {
                if let Some(stop) = self.stop_before
                    && *stop.lock().unwrap_or_else(|e| e.into_inner()) == Some(id)
                {
                    self.stopped = true;
                    return Ok(());
                }
                seen += 1;
                let inputs_hold = inputs_fixed || inputs_hold_for == Some(id);
                inputs_hold_for = first_parent;
                if inputs_hold && let (Some(graph), Some(position)) = (&self.graph, position) {
                    let keys = self.keys.get_or_insert_with(|| {
                        graph.keys(self.tracked.iter().flat_map(|t| t.inputs.watched()))
                    });
                    if !graph.may_differ(position, keys) {
                        passed += 1;
                        continue;
                    }
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
                            self.keys = None;
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
                // It may have changed a kustomization: its parent checks them again.
                inputs_hold_for = None;

                let candidate = Candidate {
                    id,
                    touched,
                    parent_tree,
                    tree,
                };
                if feed(candidate)?.is_break() {
                    tracing::debug!(seen, passed, "history walk stopped");
                    return Ok(());
                }
            }
        }
        tracing::debug!(
            seen,
            passed,
            "history walk: commits passed on the changed-path filters"
        );
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
    graph: Option<Arc<CommitGraph>>,
    steps: std::sync::mpsc::SyncSender<Result<Vec<Step>, GitError>>,
) {
    let walk = || -> Result<(), GitError> {
        let mut batch = Vec::with_capacity(STEP_BATCH);
        for step in open
            .repo
            .walk_with_trees(tip, hidden, first_parent, graph)?
        {
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
