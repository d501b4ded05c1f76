//! Rolling back: the revert of a commit onto the protected branch (a real three-way merge
//! in gix), or an environment's inputs set back to exactly their state at an earlier
//! commit. Either way the result is one commit carrying `Reverts:` or `Rollback-to:` and
//! `Reason:`, on a new promotion branch that goes through the normal approval path, or,
//! for break-glass identities with `direct`, straight onto the protected branch.
//!
//! Planning writes only objects nothing points to; refs move in [`OpenRepo::create_rollback`]
//! and only while the protected branch is still where the plan found it.

use gix::ObjectId;
use serde::Serialize;

use crate::environment::Environment;
use crate::forge::RollbackRequest;
use crate::git::promotions::matches_pattern;
use crate::git::{CommitInfo, short};
use crate::history::{default_index_dir, indexed_changes};
use crate::identity::Identity;
use crate::render::inputs_of;
use crate::workspace::{OpenRepo, WorkspaceError, unknown_environment};

/// The trailer naming the commit a revert undoes.
pub const REVERTS: &str = "Reverts";
/// The trailer naming the commit an environment was rolled back to.
pub const ROLLBACK_TO: &str = "Rollback-to";
/// The trailer naming the environment a `Rollback-to` applies to.
pub const ENVIRONMENT: &str = "Environment";

/// What a rollback undoes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RollbackKind {
    /// Undo one commit's change, keeping everything that came after it.
    Revert { commit: String },
    /// Set one environment's inputs to their state at `to`.
    Rollback { environment: String, to: String },
}

/// What a rollback does with files outside the environment's folder that it reads (a
/// kustomize base) and that changed since the commit it goes back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedFiles {
    /// Refuse, naming them and the environments that share them.
    Refuse,
    /// Set them back too (`--include-shared`): the other environments change as well.
    Include,
    /// Leave them as they are (`--own-only`): only the environment's folder goes back,
    /// and the rendered preview shows what the shared files still change.
    Leave,
}

/// A rollback computed against the protected branch's tip, not yet visible to anyone.
#[derive(Debug, Clone)]
pub struct RollbackPlan {
    pub kind: RollbackKind,
    /// The commit reverted, or rolled back to.
    pub target: CommitInfo,
    /// The protected branch's tip the plan was computed on.
    pub base: ObjectId,
    /// The tree the rollback commit will have.
    pub tree: ObjectId,
    /// The promotion branch it goes on (without `refs/heads/`).
    pub branch: String,
    /// Environments whose inputs it changes.
    pub environments: Vec<String>,
    /// Files outside the environment's folder set back too (`include_shared`).
    pub shared: Vec<String>,
    /// Files outside the folder that changed since and were left as they are
    /// (`--own-only`): the result is not a state the environment had before, so it is
    /// an ordinary change, approved as one.
    pub kept_shared: Vec<String>,
    /// `--images`: only container images were set back (see `rollback_images`); also
    /// an ordinary change.
    pub images_only: bool,
}

/// What [`OpenRepo::create_rollback`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedRollback {
    #[serde(flatten)]
    pub kind: RollbackKind,
    /// The promotion id (`REPO:BRANCH`); `None` when it went straight onto the branch.
    pub promotion: Option<String>,
    /// The branch that now holds the commit.
    pub branch: String,
    pub commit: String,
    pub base: String,
    pub direct: bool,
    pub environments: Vec<String>,
    pub shared: Vec<String>,
    /// `--own-only`: shared files that keep their later changes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kept_shared: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RollbackError {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(
        "repo {repo} is on GitHub, where a rollback is always a pull request; leave out --direct, and merge it with --break-glass if a freeze is in force"
    )]
    DirectOnGitHub { repo: String },
    #[error(
        "repo {repo}: GitHub built the tree {theirs} where tollgate computed {ours}; nothing was opened (no branch, no pull request). A file mode or a concurrent push may differ; try again"
    )]
    TreeMismatch {
        repo: String,
        ours: String,
        theirs: String,
    },
    #[error("repo {repo}: {commit} is not on {branch}; only what {branch} has can be undone")]
    NotOnBranch {
        repo: String,
        commit: String,
        branch: String,
    },
    #[error(
        "repo {repo}: reverting {commit} conflicts with later changes on {branch} in {}; nothing was written. Revert the later commits first, or roll the environment back with `tollgate rollback --to`",
        paths.join(", ")
    )]
    Conflict {
        repo: String,
        commit: String,
        branch: String,
        paths: Vec<String>,
    },
    #[error("repo {repo}: {what} would change nothing on {branch}; nothing was written")]
    NothingToDo {
        repo: String,
        what: String,
        branch: String,
    },
    #[error(
        "repo {repo}: the images of {env} cannot be set back to {commit}: {why}; nothing was written"
    )]
    ImagesRefused {
        repo: String,
        env: String,
        commit: String,
        why: String,
    },
    #[error("repo {repo}: environment {env:?} did not exist at {commit}; it has: {known}")]
    NoEnvironmentThen {
        repo: String,
        env: String,
        commit: String,
        known: String,
    },
    #[error(
        "repo {repo}: {env} also reads files outside its folder that changed since {commit}: {}. Rolling them back changes the environments that share them too; pass --include-shared to do so, or --own-only to set back the folder alone",
        shared.iter().map(|(path, readers)| if readers.is_empty() {
            path.clone()
        } else {
            format!("{path} (also read by {})", readers.join(", "))
        }).collect::<Vec<_>>().join(", ")
    )]
    SharedChanged {
        repo: String,
        env: String,
        commit: String,
        /// Each shared path, with the other environments that read it now.
        shared: Vec<(String, Vec<String>)>,
    },
    #[error(
        "repo {repo}: rolling {env} back would change {path}, inside {other}'s own folder; tollgate never does that. Roll {other} back on its own, or revert the commits instead"
    )]
    OtherEnvironmentFolder {
        repo: String,
        env: String,
        path: String,
        other: String,
    },
    #[error(
        "repo {repo}: after rolling {env} back, {path} still differs from {commit}; nothing was written. This happens when a folder the environment names was missing then and exists now"
    )]
    Inexact {
        repo: String,
        env: String,
        path: String,
        commit: String,
    },
    #[error(
        "--direct refused: you ({who}) are not listed under break_glass in {repo}'s policy; open the rollback as a promotion instead (without --direct)"
    )]
    NotBreakGlass { repo: String, who: String },
    #[error("--direct refused: {repo}'s policy cannot be read ({message}); fix it first")]
    BadPolicy { repo: String, message: String },
    #[error("--direct needs --reason: a change that skips approval must say why")]
    NoReason,
    #[error("--direct refused: {problem}")]
    CannotSign { problem: String },
    #[error(
        "repo {repo}: branch {branch} already exists; a rollback like this one is pending as {repo}:{branch} (see `tollgate list`)"
    )]
    BranchExists { repo: String, branch: String },
    #[error(
        "repo {repo}: the promotion pattern {pattern:?} has no `*`, so there is no name for a rollback branch; change `promotions:` in the config"
    )]
    NoBranchName { repo: String, pattern: String },
}

impl From<crate::git::GitError> for RollbackError {
    fn from(e: crate::git::GitError) -> Self {
        RollbackError::Workspace(e.into())
    }
}

impl RollbackPlan {
    /// The commit message: a subject a person reads in `git log`, then the trailers that
    /// make the rollback provable (`Reverts:`/`Rollback-to:`, `Reason:`, `Break-glass:`).
    pub fn message(&self, reason: Option<&str>, break_glass: Option<&Identity>) -> String {
        let target = &self.target;
        let mut message = match &self.kind {
            RollbackKind::Revert { commit } => format!(
                "Revert \"{}\"\n\nThis reverts commit {commit}.\n\n{REVERTS}: {commit}\n",
                target.title()
            ),
            RollbackKind::Rollback { environment, to } if self.images_only => format!(
                "Roll back the images of {environment} to {} (\"{}\")\n\nSets each container image of {environment} back to what it ran at {to}; nothing else changes.\n\n",
                crate::text::short(to),
                target.title()
            ),
            RollbackKind::Rollback { environment, to } if !self.kept_shared.is_empty() => {
                // Not the state `to` had: no `Rollback-to` claim, so that it is approved
                // as the new state it is.
                format!(
                    "Roll back {environment}'s own folder to {} (\"{}\")\n\nSets the files of {environment}'s folder to their state at {to}.\nShared files it reads keep their later changes: {}.\n\n",
                    crate::text::short(to),
                    target.title(),
                    self.kept_shared.join(", ")
                )
            }
            RollbackKind::Rollback { environment, to } => {
                let mut text = format!(
                    "Roll back {environment} to {} (\"{}\")\n\nSets the inputs of {environment} to their state at {to}.\n",
                    crate::text::short(to),
                    target.title()
                );
                if !self.shared.is_empty() {
                    text.push_str(&format!(
                        "Shared files set back too: {}.\n",
                        self.shared.join(", ")
                    ));
                }
                text.push_str(&format!(
                    "\n{ROLLBACK_TO}: {to}\n{ENVIRONMENT}: {environment}\n"
                ));
                text
            }
        };
        if let Some(reason) = reason {
            message.push_str(&format!("Reason: {}\n", one_line(reason)));
        }
        if let Some(who) = break_glass {
            message.push_str(&format!("Break-glass: {who}\n"));
        }
        message
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl OpenRepo {
    /// Plan the revert of `commit` onto the protected branch's tip.
    pub fn plan_revert(&self, commit: ObjectId) -> Result<RollbackPlan, RollbackError> {
        let tip = self.tip()?;
        let target = self.repo.commit_info(commit)?;
        self.require_on_branch(commit, tip)?;
        let tree = self.revert_tree(tip, &target)?;
        let branch = self.rollback_branch(&format!("revert-{}", short(&commit)))?;
        self.finish_plan(
            RollbackKind::Revert {
                commit: target.sha.clone(),
            },
            target,
            tip,
            tree,
            branch,
            Vec::new(),
        )
    }

    /// Plan setting `env`'s inputs back to their state at `to`, on the protected branch's
    /// tip; `shared` says what to do with files outside its folder that changed since.
    pub fn plan_rollback(
        &self,
        env: &str,
        to: ObjectId,
        shared: SharedFiles,
    ) -> Result<RollbackPlan, RollbackError> {
        let tip = self.tip()?;
        let target = self.repo.commit_info(to)?;
        // A commit from the environment's history (what `T` and `tollgate history` offer)
        // is on the branch as the index says, without walking back to it; anything else
        // is walked. Either way the check that counts is the one approvals make
        // (`check_rollback`), which never trusts the cache.
        let indexed = self
            .environments_in(self.repo.tree_of(tip)?)?
            .into_iter()
            .find(|e| e.name == env)
            .zip(default_index_dir())
            .and_then(|(environment, dir)| indexed_changes(self, &environment, tip, &dir))
            .is_some_and(|changes| changes.contains(&to));
        if !indexed {
            self.require_on_branch(to, tip)?;
        }
        let (tree, changed_shared) = self.rollback_tree(tip, env, &target, shared)?;
        let branch = self.rollback_branch(&format!("rollback-{env}-{}", short(&to)))?;
        let (shared, kept_shared) = match shared {
            SharedFiles::Leave => (Vec::new(), changed_shared),
            _ => (changed_shared, Vec::new()),
        };
        let mut plan = self.finish_plan(
            RollbackKind::Rollback {
                environment: env.to_string(),
                to: target.sha.clone(),
            },
            target,
            tip,
            tree,
            branch,
            shared,
        )?;
        plan.kept_shared = kept_shared;
        Ok(plan)
    }

    pub(crate) fn finish_plan(
        &self,
        kind: RollbackKind,
        target: CommitInfo,
        base: ObjectId,
        tree: ObjectId,
        branch: String,
        shared: Vec<String>,
    ) -> Result<RollbackPlan, RollbackError> {
        let base_tree = self.repo.tree_of(base)?;
        if tree == base_tree {
            return Err(RollbackError::NothingToDo {
                repo: self.name().to_string(),
                what: match &kind {
                    RollbackKind::Revert { commit } => {
                        format!("reverting {}", crate::text::short(commit))
                    }
                    RollbackKind::Rollback { environment, to } => {
                        format!("rolling {environment} back to {}", crate::text::short(to))
                    }
                },
                branch: self.branch.clone(),
            });
        }
        let environments = self.environments_touched_in(base_tree, tree)?;
        Ok(RollbackPlan {
            kind,
            target,
            base,
            tree,
            branch,
            environments,
            shared,
            kept_shared: Vec::new(),
            images_only: false,
        })
    }

    pub(crate) fn require_on_branch(
        &self,
        commit: ObjectId,
        tip: ObjectId,
    ) -> Result<(), RollbackError> {
        if self.repo.merge_base(commit, tip)? == Some(commit) {
            return Ok(());
        }
        Err(RollbackError::NotOnBranch {
            repo: self.name().to_string(),
            commit: short(&commit),
            branch: self.branch.clone(),
        })
    }

    /// A branch name for a rollback that the repo's promotion pattern matches.
    pub(crate) fn rollback_branch(&self, name: &str) -> Result<String, RollbackError> {
        let pattern = &self.config.promotions;
        let branch = match pattern.split_once('*') {
            Some((prefix, _)) => format!("{prefix}{name}"),
            None => String::new(),
        };
        if branch.is_empty() || !matches_pattern(pattern, &branch) {
            return Err(RollbackError::NoBranchName {
                repo: self.name().to_string(),
                pattern: pattern.clone(),
            });
        }
        Ok(branch)
    }

    /// The tree of `onto` with `commit`'s change undone: a three-way merge whose ancestor
    /// is `commit`'s tree and whose other side is its first parent's. Written, but nothing
    /// points to it.
    pub fn revert_tree(
        &self,
        onto: ObjectId,
        commit: &CommitInfo,
    ) -> Result<ObjectId, RollbackError> {
        let ancestor = self.repo.tree_of(commit.id)?;
        let theirs = match commit.parents.first() {
            Some(parent) => self.repo.tree_of(*parent)?,
            None => ObjectId::empty_tree(gix::hash::Kind::Sha1),
        };
        let ours = self.repo.tree_of(onto)?;
        self.repo
            .merge_trees(ancestor, ours, theirs)?
            .map_err(|paths| RollbackError::Conflict {
                repo: self.name().to_string(),
                commit: short(&commit.id),
                branch: self.branch.clone(),
                paths,
            })
    }

    /// The tree of `onto` with `env`'s inputs as they were at `to`, and the shared files
    /// (outside the environment's folder) that changed since: set back too, or (with
    /// [`SharedFiles::Leave`]) left as they are.
    fn rollback_tree(
        &self,
        onto: ObjectId,
        env: &str,
        to: &CommitInfo,
        shared: SharedFiles,
    ) -> Result<(ObjectId, Vec<String>), RollbackError> {
        let onto_tree = self.repo.tree_of(onto)?;
        let to_tree = self.repo.tree_of(to.id)?;
        let then = self.environments_in(to_tree)?;
        let Some(environment) = then.iter().find(|e| e.name == env) else {
            let now = self.environments_in(onto_tree)?;
            if !now.iter().any(|e| e.name == env) {
                return Err(unknown_environment(self.name(), env, &now).into());
            }
            return Err(RollbackError::NoEnvironmentThen {
                repo: self.name().to_string(),
                env: env.to_string(),
                commit: short(&to.id),
                known: names(&then),
            });
        };
        let inputs = inputs_of(&self.repo, to_tree, environment)?;
        let mut changed_shared = Vec::new();
        for path in inputs
            .paths
            .iter()
            .filter(|p| !inside(p, &environment.path))
        {
            if self.repo.entry_at(to_tree, path)? != self.repo.entry_at(onto_tree, path)? {
                changed_shared.push(path.clone());
            }
        }
        let now = self.environments_in(onto_tree)?;
        if shared == SharedFiles::Leave {
            let tree = self.repo.restore_paths(
                onto_tree,
                to_tree,
                std::slice::from_ref(&environment.path),
            )?;
            return Ok((tree, changed_shared));
        }
        for path in &changed_shared {
            if let Some(other) = now
                .iter()
                .find(|o| o.name != env && (inside(path, &o.path) || inside(&o.path, path)))
            {
                return Err(RollbackError::OtherEnvironmentFolder {
                    repo: self.name().to_string(),
                    env: env.to_string(),
                    path: path.clone(),
                    other: other.name.clone(),
                });
            }
        }
        if !changed_shared.is_empty() && shared == SharedFiles::Refuse {
            let mut shared = Vec::new();
            for path in &changed_shared {
                let mut readers = Vec::new();
                for other in now.iter().filter(|o| o.name != env) {
                    if inputs_of(&self.repo, onto_tree, other)?
                        .paths
                        .contains(path)
                    {
                        readers.push(other.name.clone());
                    }
                }
                shared.push((path.clone(), readers));
            }
            return Err(RollbackError::SharedChanged {
                repo: self.name().to_string(),
                env: env.to_string(),
                commit: short(&to.id),
                shared,
            });
        }
        let mut restore = vec![environment.path.clone()];
        restore.extend(changed_shared.iter().cloned());
        let tree = self.repo.restore_paths(onto_tree, to_tree, &restore)?;
        // The closure is read from the kustomization files just restored, so it should be
        // the one `to` had; check rather than trust it.
        for path in inputs_of(&self.repo, tree, environment)?.paths {
            if self.repo.entry_at(tree, &path)? != self.repo.entry_at(to_tree, &path)? {
                return Err(RollbackError::Inexact {
                    repo: self.name().to_string(),
                    env: env.to_string(),
                    path,
                    commit: short(&to.id),
                });
            }
        }
        Ok((tree, changed_shared))
    }

    /// Write the planned rollback as `me`: a commit on a new promotion branch, or with
    /// `direct` (break-glass identities only, a reason required) straight onto the
    /// protected branch. Refused, with nothing written, when the protected branch has
    /// moved since the plan was made.
    pub fn create_rollback(
        &self,
        plan: &RollbackPlan,
        me: &Identity,
        reason: Option<&str>,
        direct: bool,
        now: jiff::Timestamp,
    ) -> Result<CreatedRollback, RollbackError> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        self.forge.propose_rollback(
            self,
            plan,
            &RollbackRequest {
                me,
                reason,
                direct,
                now,
            },
        )
    }
}

/// What a commit's rollback trailers claim, and whether git bears the claim out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollbackCheck {
    /// `reverts 1a2b3c4d5e`, `rolls production back to 1a2b3c4d5e`.
    pub claim: String,
    /// The commit's tree is exactly what tollgate computes for that claim on its parent.
    pub verified: bool,
}

impl OpenRepo {
    /// Whether `commit` is exactly the rollback its trailers say it is: recomputed on its
    /// parent, the revert (or rollback) gives the very tree it has. `None` when it claims
    /// nothing. Only a verified rollback may use the policy's `rollback_approvals`.
    pub fn check_rollback(
        &self,
        commit: &CommitInfo,
    ) -> Result<Option<RollbackCheck>, WorkspaceError> {
        let reverts = commit.trailer_values(REVERTS).next();
        let rollback_to = commit.trailer_values(ROLLBACK_TO).next();
        let (claim, target) = match (reverts, rollback_to) {
            (Some(sha), None) => (format!("reverts {}", crate::text::short(sha)), sha),
            (None, Some(sha)) => match commit.trailer_values(ENVIRONMENT).next() {
                Some(env) => (
                    format!("rolls {env} back to {}", crate::text::short(sha)),
                    sha,
                ),
                None => (format!("rolls back to {}", crate::text::short(sha)), sha),
            },
            (None, None) => return Ok(None),
            (Some(_), Some(_)) => {
                return Ok(Some(RollbackCheck {
                    claim: "both reverts and rolls back".into(),
                    verified: false,
                }));
            }
        };
        let verified = match (
            commit.parents.as_slice(),
            ObjectId::from_hex(target.as_bytes()),
        ) {
            ([parent], Ok(target)) => self.recompute(commit, *parent, target)?,
            _ => false,
        };
        Ok(Some(RollbackCheck { claim, verified }))
    }

    fn recompute(
        &self,
        commit: &CommitInfo,
        parent: ObjectId,
        target: ObjectId,
    ) -> Result<bool, WorkspaceError> {
        let Ok(target_info) = self.repo.commit_info(target) else {
            return Ok(false);
        };
        if self.repo.merge_base(target, parent)? != Some(target) {
            return Ok(false);
        }
        let tree = if commit.trailer_values(REVERTS).next().is_some() {
            self.revert_tree(parent, &target_info)
        } else {
            let Some(env) = commit.trailer_values(ENVIRONMENT).next() else {
                return Ok(false);
            };
            self.rollback_tree(parent, env, &target_info, SharedFiles::Include)
                .map(|(tree, _)| tree)
        };
        match tree {
            Ok(tree) => Ok(tree == self.repo.tree_of(commit.id)?),
            Err(RollbackError::Workspace(e)) => Err(e),
            Err(_) => Ok(false),
        }
    }
}

/// Whether `path` is `dir` or inside it.
fn inside(path: &str, dir: &str) -> bool {
    path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn names(envs: &[Environment]) -> String {
    envs.iter()
        .map(|e| e.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_means_the_folder_or_below_it() {
        assert!(inside("envs/prod", "envs/prod"));
        assert!(inside("envs/prod/a.yaml", "envs/prod"));
        assert!(!inside("envs/production/a.yaml", "envs/prod"));
        assert!(!inside("base/a.yaml", "envs/prod"));
    }

    #[test]
    fn reasons_are_kept_on_one_line() {
        assert_eq!(
            one_line("  db is down\n  rolling back "),
            "db is down rolling back"
        );
    }
}
