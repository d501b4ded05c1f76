//! The rendered half of `history --rendered`: each commit whose inputs changed is
//! rendered on both sides and kept only if its objects changed. Renders are most of the
//! time, and one commit's does not wait on another's, so they run on a few threads while
//! the walk goes on finding the next commits; entries still come out newest first.
//! Renders go through the repository's render cache: a commit's parent is the next
//! commit's tree, and a second look renders nothing.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Mutex;
use std::sync::mpsc;

use gix::ObjectId;

use super::{EnvironmentObjects, ObjectChange};
use crate::environment::{Environment, environments_at};
use crate::git::GitError;
use crate::manifest::{ManifestObject, diff_objects};
use crate::render::{RenderError, render_cached};
use crate::workspace::OpenRepo;

/// A commit whose inputs changed for `touched` (by name), against its first parent.
pub(super) struct Candidate {
    pub id: ObjectId,
    pub touched: Vec<String>,
    pub parent_tree: ObjectId,
    pub tree: ObjectId,
}

/// Whether the walk goes on: a candidate fed, or an entry handed on.
pub(super) type Feed<'f> = dyn FnMut(Candidate) -> Result<ControlFlow<()>, GitError> + 'f;

/// Where judged entries go, in the walk's order: commit, environments kept, and what
/// changed in each.
pub(super) type OnJudged<'f> = dyn FnMut(ObjectId, Vec<String>, Vec<EnvironmentObjects>) -> Result<ControlFlow<()>, GitError>
    + 'f;

/// Threads rendering at once: `TOLLGATE_RENDER_JOBS`, else two per core (a kustomize
/// render spends part of its time starting `kubectl` and writing its inputs; on 2 cores,
/// 4 threads render 100 commits in 0.9× the time 2 take).
pub(super) fn render_jobs() -> usize {
    std::env::var("TOLLGATE_RENDER_JOBS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| 2 * crate::parallel::cores())
}

/// Run `produce`, which feeds candidates in walk order, render them on `jobs` threads,
/// and give each one whose objects changed (or whose render failed) to `on_judged`, in
/// the order they were fed. At most twice `jobs` candidates are rendered ahead of the
/// one waited for; when `on_judged` says stop, nothing more is rendered.
pub(super) fn judge_in_order(
    open: &OpenRepo,
    envs: &[Environment],
    jobs: usize,
    produce: impl FnOnce(&mut Feed<'_>) -> Result<(), GitError>,
    on_judged: &mut OnJudged<'_>,
) -> Result<(), GitError> {
    let (job_sender, job_receiver) = mpsc::channel::<(usize, Candidate)>();
    let job_receiver = Mutex::new(job_receiver);
    let (done_sender, done_receiver) = mpsc::channel::<(usize, Judged)>();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let (handle, done_sender, job_receiver) =
                (open.handle(), done_sender.clone(), &job_receiver);
            scope.spawn(move || {
                loop {
                    let next = job_receiver
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .recv();
                    // The feeder is gone: the walk ended or stopped.
                    let Ok((number, candidate)) = next else {
                        return;
                    };
                    let judged = judge(&handle, envs, candidate);
                    if done_sender.send((number, judged)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_sender);
        let mut order = InOrder {
            received: done_receiver,
            waiting: BTreeMap::new(),
            fed: 0,
            handed: 0,
            stopped: false,
        };
        let window = jobs * 2;
        let result = produce(&mut |candidate| {
            if job_sender.send((order.fed, candidate)).is_err() {
                return Ok(ControlFlow::Break(()));
            }
            order.fed += 1;
            order.hand_on(on_judged, |o| o.fed - o.handed >= window)?;
            Ok(if order.stopped {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        });
        // No more candidates: the workers finish what they hold and leave.
        drop(job_sender);
        result?;
        order.hand_on(on_judged, |o| o.handed < o.fed)
    })
}

/// A rendered candidate: what it changed per environment, or a git error.
type Judged = Result<(ObjectId, Vec<String>, Vec<EnvironmentObjects>), GitError>;

/// Judged candidates put back in the order they were fed.
struct InOrder {
    received: mpsc::Receiver<(usize, Judged)>,
    waiting: BTreeMap<usize, Judged>,
    fed: usize,
    handed: usize,
    stopped: bool,
}

impl InOrder {
    /// Hand on every judged candidate that is next in order, waiting for more while
    /// `must_wait` holds.
    fn hand_on(
        &mut self,
        on_judged: &mut OnJudged<'_>,
        must_wait: impl Fn(&InOrder) -> bool,
    ) -> Result<(), GitError> {
        loop {
            while let Ok((number, judged)) = self.received.try_recv() {
                self.waiting.insert(number, judged);
            }
            while let Some(judged) = self.waiting.remove(&self.handed) {
                self.handed += 1;
                let (id, kept, objects) = judged?;
                if self.stopped || kept.is_empty() {
                    continue;
                }
                if on_judged(id, kept, objects)?.is_break() {
                    self.stopped = true;
                }
            }
            if self.stopped || !must_wait(self) {
                return Ok(());
            }
            match self.received.recv() {
                Ok((number, judged)) => {
                    self.waiting.insert(number, judged);
                }
                // Every worker left: nothing more will come.
                Err(_) => return Ok(()),
            }
        }
    }
}

/// Render a candidate's environments on both sides and keep those whose objects changed
/// or could not be rendered.
fn judge(open: &OpenRepo, envs: &[Environment], candidate: Candidate) -> Judged {
    let mut kept = Vec::new();
    let mut objects = Vec::new();
    for name in candidate.touched {
        let Some(env) = envs.iter().find(|e| e.name == name) else {
            continue;
        };
        let old = rendered_at(open, env, candidate.parent_tree)?;
        let new = rendered_at(open, env, candidate.tree)?;
        let (changes, render_error) = match (old, new) {
            (Ok(old), Ok(new)) => (
                diff_objects(old, new)
                    .changed()
                    .map(|o| ObjectChange {
                        key: o.key.clone(),
                        change: o.change,
                    })
                    .collect(),
                None,
            ),
            (Err(e), _) | (_, Err(e)) => (Vec::new(), Some(e)),
        };
        if !changes.is_empty() || render_error.is_some() {
            objects.push(EnvironmentObjects {
                environment: name.clone(),
                changes,
                render_error,
            });
            kept.push(name);
        }
    }
    Ok((candidate.id, kept, objects))
}

/// An environment's objects at one tree, or why it could not be rendered.
type RenderOutcome = Result<Vec<ManifestObject>, String>;

fn rendered_at(
    open: &OpenRepo,
    env: &Environment,
    tree: ObjectId,
) -> Result<RenderOutcome, GitError> {
    // The environment as it was at this tree: a folder that became a kustomization (or
    // stopped being one) renders the way it was laid out then, as `diff` does.
    let here = environments_at(&open.repo, tree, open.config.environments.as_deref())?
        .into_iter()
        .find(|e| e.name == env.name);
    Ok(match here {
        // Not there yet (or any more): nothing is deployed.
        None => Ok(Vec::new()),
        Some(here) => match render_cached(&open.repo, tree, &here, &open.renders) {
            Ok(rendered) => Ok(rendered.objects),
            Err(RenderError::Git(e)) => return Err(e),
            Err(e) => Err(e.to_string()),
        },
    })
}
