//! The workspace: the configured repositories opened, with their protected branch and
//! environments resolved. This is the library's front door for the CLI and the TUI:
//! pending promotions, rendered diffs between any two commits, and commit details.

use std::sync::Arc;

use gix::ObjectId;

use crate::config::{Config, RepoConfig};
use crate::environment::{Environment, environments_at};
use crate::forge::Forge;
use crate::forge::github::PullRequest;
pub use crate::forge::github::open::GitHubSide;
use crate::forge::local::LocalGit;
use crate::git::promotions::PromotionBranch;
use crate::git::{CommitInfo, GitError, Person, Repo};
use crate::manifest::ManifestIssue;
use crate::manifest::shared::SharedObject;
use crate::manifest::{ChangeKind, ManifestObject, RenderedDiff, Summary, diff_objects};
use crate::policy::POLICY_PATH;
use crate::raw_diff::{FileDiff, raw_diff};
use crate::render::plain_pair::render_plain_pair;
use crate::render::{RenderCache, RenderError, RenderStatus, inputs_of, render_cached};

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("no repo named {name:?} in the config; configured: {known}")]
    UnknownRepo { name: String, known: String },
    #[error("the config lists no repos; add one under `repos:` (see README.md)")]
    NoRepos,
    #[error("several repos are configured ({known}); say which with --repo")]
    AmbiguousRepo { known: String },
    #[error(
        "{id:?} is not a promotion id; write it as REPO:BRANCH, or REPO#NUMBER for a pull request (see `tollgate list`)"
    )]
    BadPromotionId { id: String },
    #[error(
        "repo {repo}: no pending promotion on branch {branch:?}; `tollgate list` shows the pending ones"
    )]
    UnknownPromotion { repo: String, branch: String },
    #[error("repo {repo}: no environment named {env:?}; it has: {known}")]
    UnknownEnvironment {
        repo: String,
        env: String,
        known: String,
    },
    #[error(
        "repo {repo}: no open pull request #{number} into its protected branch; `tollgate list` shows the open ones"
    )]
    UnknownPull { repo: String, number: u64 },
    #[error(
        "repo {repo}: {POLICY_PATH} on {branch}: {key}: {rev:?} is not a commit of this repository; name a commit of {branch} by its full sha"
    )]
    UnknownBaseline {
        repo: String,
        branch: String,
        key: &'static str,
        rev: String,
    },
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    GitHub(#[from] crate::forge::github::GitHubError),
    #[error(transparent)]
    Identity(#[from] crate::identity::IdentityError),
}

/// A configured repository, opened.
pub struct OpenRepo {
    pub config: RepoConfig,
    /// The repository itself, or a GitHub repository's mirror.
    pub repo: Repo,
    /// The protected branch, resolved.
    pub branch: String,
    /// Where its promotions live and how they are acted on: the repository itself, or
    /// GitHub (the API side, and its open pull requests as of opening). Shared by every
    /// handle.
    pub forge: Arc<dyn Forge>,
    /// Renders for showing, kept for the next look (shared by every handle).
    pub renders: std::sync::Arc<RenderCache>,
}

impl OpenRepo {
    /// Open a configured repository. A GitHub repository is asked for its open pull
    /// requests and its mirror is fetched first, so what is opened is what GitHub has now.
    pub fn open(config: &RepoConfig) -> Result<OpenRepo, WorkspaceError> {
        if let Some(github) = &config.github {
            return Self::open_github(config, github);
        }
        let repo = Repo::open(&config.name, &config.path)?;
        let branch = repo.protected_branch(config.branch.as_deref())?;
        Ok(OpenRepo {
            config: config.clone(),
            repo,
            branch,
            forge: Arc::new(LocalGit),
            renders: std::sync::Arc::new(RenderCache::for_user()),
        })
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Another handle on the same repository, for another thread (the forge is shared).
    pub fn handle(&self) -> OpenRepo {
        OpenRepo {
            config: self.config.clone(),
            repo: self.repo.handle(),
            branch: self.branch.clone(),
            forge: self.forge.clone(),
            renders: self.renders.clone(),
        }
    }

    pub fn tip(&self) -> Result<ObjectId, WorkspaceError> {
        Ok(self.repo.branch_head(&self.branch)?)
    }

    /// Environments as they are at `commit`.
    pub fn environments_at(
        &self,
        commit: Option<ObjectId>,
    ) -> Result<Vec<Environment>, WorkspaceError> {
        self.environments_in(self.tree_or_empty(commit)?)
    }

    /// Environments as they are in `tree`.
    pub fn environments_in(&self, tree: ObjectId) -> Result<Vec<Environment>, WorkspaceError> {
        Ok(environments_at(
            &self.repo,
            tree,
            self.config.environments.as_deref(),
        )?)
    }

    pub(crate) fn tree_or_empty(
        &self,
        commit: Option<ObjectId>,
    ) -> Result<ObjectId, WorkspaceError> {
        Ok(match commit {
            Some(c) => self.repo.tree_of(c)?,
            None => ObjectId::empty_tree(gix::hash::Kind::Sha1),
        })
    }

    /// The environments of both trees (by name, newest definition first).
    fn environments_of_both(
        &self,
        old_tree: ObjectId,
        new_tree: ObjectId,
    ) -> Result<Vec<Environment>, WorkspaceError> {
        let mut envs = self.environments_in(new_tree)?;
        for env in self.environments_in(old_tree)? {
            if !envs.iter().any(|e| e.name == env.name) {
                envs.push(env);
            }
        }
        Ok(envs)
    }

    /// Why no environment can be found at the protected branch's tip, if none can: the
    /// configured paths match nothing there, or there is no folder under `envs/`. A
    /// config that names nothing would otherwise list nothing, silently.
    pub fn environments_missing(&self) -> Result<Option<String>, WorkspaceError> {
        let tree = self.repo.tree_of(self.tip()?)?;
        let branch = &self.branch;
        Ok(match &self.config.environments {
            Some(configured) => {
                let mut missing = Vec::new();
                for env in configured {
                    if self.repo.entry_at(tree, &env.path)?.is_none() {
                        missing.push(env.path.as_str());
                    }
                }
                (!configured.is_empty() && missing.len() == configured.len()).then(|| {
                    format!(
                        "none of the configured environment paths exists on {branch} ({}); check `environments:` for this repo in the config",
                        missing.join(", ")
                    )
                })
            }
            None => self.environments_in(tree)?.is_empty().then(|| {
                format!(
                    "no environment folder under {}/ on {branch}; add one, or list the environments under `environments:` for this repo in the config",
                    crate::environment::ENVS_DIR
                )
            }),
        })
    }

    /// Names of the environments whose inputs differ between `old` and `new`.
    pub fn environments_touched(
        &self,
        old: Option<ObjectId>,
        new: ObjectId,
    ) -> Result<Vec<String>, WorkspaceError> {
        self.environments_touched_in(self.tree_or_empty(old)?, self.repo.tree_of(new)?)
    }

    /// Names of the environments whose inputs differ between two trees.
    pub fn environments_touched_in(
        &self,
        old_tree: ObjectId,
        new_tree: ObjectId,
    ) -> Result<Vec<String>, WorkspaceError> {
        let mut touched = Vec::new();
        for env in self.environments_of_both(old_tree, new_tree)? {
            let mut paths = inputs_of(&self.repo, new_tree, &env)?.paths;
            paths.extend(inputs_of(&self.repo, old_tree, &env)?.paths);
            paths.sort();
            paths.dedup();
            for path in paths {
                if self.repo.entry_at(old_tree, &path)? != self.repo.entry_at(new_tree, &path)? {
                    touched.push(env.name.clone());
                    break;
                }
            }
        }
        Ok(touched)
    }

    /// The rendered diff of every environment whose inputs differ between two commits
    /// (`old = None`: against nothing), or of `only` when given.
    pub fn diff(
        &self,
        old: Option<ObjectId>,
        new: ObjectId,
        only: Option<&str>,
    ) -> Result<Vec<EnvironmentDiff>, WorkspaceError> {
        self.diff_trees(self.tree_or_empty(old)?, self.repo.tree_of(new)?, only)
    }

    /// [`OpenRepo::diff`] of two trees, for changes not yet committed (a rollback's
    /// preview).
    pub fn diff_trees(
        &self,
        old_tree: ObjectId,
        new_tree: ObjectId,
        only: Option<&str>,
    ) -> Result<Vec<EnvironmentDiff>, WorkspaceError> {
        let c = self.compare(old_tree, new_tree, only)?;
        c.names
            .iter()
            .map(|name| {
                self.diff_environment(name, &c.old_envs, c.old_tree, &c.new_envs, c.new_tree)
            })
            .collect()
    }

    /// What two trees are compared on: the environments to show (`only`, or those whose
    /// inputs differ), and each side's environments.
    fn compare(
        &self,
        old_tree: ObjectId,
        new_tree: ObjectId,
        only: Option<&str>,
    ) -> Result<Comparison, WorkspaceError> {
        let old_envs = self.environments_in(old_tree)?;
        let new_envs = self.environments_in(new_tree)?;
        let names = match only {
            Some(name) => {
                if !old_envs.iter().chain(&new_envs).any(|e| e.name == name) {
                    return Err(unknown_environment(self.name(), name, &new_envs));
                }
                vec![name.to_string()]
            }
            None => self.environments_touched_in(old_tree, new_tree)?,
        };
        Ok(Comparison {
            names,
            old_tree,
            new_tree,
            old_envs,
            new_envs,
        })
    }

    fn diff_environment(
        &self,
        name: &str,
        old_envs: &[Environment],
        old_tree: ObjectId,
        new_envs: &[Environment],
        new_tree: ObjectId,
    ) -> Result<EnvironmentDiff, WorkspaceError> {
        let (old_env, new_env) = (
            old_envs.iter().find(|e| e.name == name),
            new_envs.iter().find(|e| e.name == name),
        );
        let (old, new, shared) = self.render_sides((old_env, old_tree), (new_env, new_tree))?;
        let render_errors: Vec<String> = [old.error, new.error].into_iter().flatten().collect();
        let mut diff = if render_errors.is_empty() {
            diff_objects(old.objects, new.objects)
        } else {
            // Showing everything as added or removed because one side failed would lie.
            RenderedDiff::default()
        };
        let mut issues = SidedIssues::default();
        issues.add_all(IssueSide::Old, old.issues);
        issues.add_all(IssueSide::New, new.issues);
        // An added document is all new text: parse it, so that a YAML error in it is
        // reported and, as with any document that does not parse, adds no object. (A
        // changed one had the parts that differ parsed; text that is the same on both
        // sides is not this diff's news.)
        diff.objects.retain(|o| match (&o.change, &o.new) {
            (ChangeKind::Added, Some(object)) => object
                .parse_now()
                .map_err(|e| issues.add(IssueSide::New, e))
                .is_ok(),
            _ => true,
        });
        let mut summary = Summary::of(&diff);
        summary.unchanged += shared.len();
        // A document kept as text that turned out not to parse (see `chunks`).
        for o in &diff.objects {
            for (side, object) in [(IssueSide::Old, &o.old), (IssueSide::New, &o.new)] {
                if let Some(issue) = object.as_ref().and_then(ManifestObject::late_issue) {
                    issues.add(side, issue);
                }
            }
        }
        let issues = issues.issues;
        let render = self.render_status(
            name,
            (old_envs, old_tree),
            (new_envs, new_tree),
            &render_errors,
            issues.len(),
            [&old.read_files, &new.read_files],
        )?;
        let mut warnings = crate::manifest::warnings::warnings(&diff, &summary, &shared);
        // What the reader must know about the new side is news whether or not it changed.
        warnings.extend(new.caveats);
        Ok(EnvironmentDiff {
            name: name.to_string(),
            diff,
            summary,
            issues,
            render_errors,
            render,
            warnings,
        })
    }

    /// Both sides of one environment rendered for a diff: together when they are plain
    /// (see `render::plain_pair`: the objects of documents the same on both sides come
    /// back as shared, not as objects), else each whole, on two threads.
    fn render_sides(
        &self,
        (old_env, old_tree): (Option<&Environment>, ObjectId),
        (new_env, new_tree): (Option<&Environment>, ObjectId),
    ) -> Result<(Side, Side, Vec<SharedObject>), WorkspaceError> {
        let paired = match (old_env, new_env) {
            (Some(old_env), Some(new_env)) => {
                match render_plain_pair(&self.repo, (old_tree, old_env), (new_tree, new_env)) {
                    Ok(paired) => paired,
                    Err(RenderError::Git(e)) => return Err(e.into()),
                    // Rendering each side on its own says what is wrong.
                    Err(_) => None,
                }
            }
            _ => None,
        };
        Ok(match paired {
            Some(paired) => (
                Side::rendered(paired.old),
                Side::rendered(paired.new),
                paired.shared,
            ),
            None => {
                let renders = &*self.renders;
                let side = |repo: &Repo, env: Option<&Environment>, tree| match env {
                    None => Ok(Side::default()),
                    Some(env) => match render_cached(repo, tree, env, renders) {
                        Ok(r) => Ok(Side::rendered(r)),
                        Err(RenderError::Git(e)) => Err(WorkspaceError::from(e)),
                        Err(e) => Ok(Side {
                            error: Some(e.to_string()),
                            ..Side::default()
                        }),
                    },
                };
                // Parsing YAML is most of a diff's time: render the two sides on two
                // threads, each with its own handle on the repository (each object is
                // read once).
                let (old_repo, new_repo) =
                    (self.repo.uncached_handle(), self.repo.uncached_handle());
                let side = &side;
                let (old, new) = std::thread::scope(|scope| {
                    let old = scope.spawn(move || side(&old_repo, old_env, old_tree));
                    let new = side(&new_repo, new_env, new_tree);
                    (old.join().expect("rendering does not panic"), new)
                });
                (old?, new?, Vec::new())
            }
        })
    }

    /// Whether `name`'s diff between two trees (each with its environments) is the
    /// whole story (see [`RenderStatus`]). `read` is, for each side, the files its render
    /// already read (see `ParsedManifests::read_files`): only the others are read here.
    pub(crate) fn render_status(
        &self,
        name: &str,
        (old_envs, old_tree): (&[Environment], ObjectId),
        (new_envs, new_tree): (&[Environment], ObjectId),
        errors: &[String],
        unreadable: usize,
        read: [&[(String, bool)]; 2],
    ) -> Result<RenderStatus, WorkspaceError> {
        let (old_env, new_env) = (
            old_envs.iter().find(|e| e.name == name),
            new_envs.iter().find(|e| e.name == name),
        );
        let Some(renderer) = new_env.or(old_env).map(|e| e.renderer) else {
            return Ok(RenderStatus::ok());
        };
        if !errors.is_empty() || unreadable > 0 {
            return Ok(RenderStatus::of(renderer, errors, unreadable, &[]));
        }
        let changed =
            crate::raw_diff::changed_inputs(&self.repo, old_env, old_tree, new_env, new_tree)?;
        // Each blob is read once here: a cache would only copy it in.
        let repo = self.repo.uncached_handle();
        let encrypted = |path: &str, id: Option<ObjectId>, read: &[(String, bool)]| {
            let Some(id) = id else {
                return Ok::<_, WorkspaceError>(false);
            };
            Ok(
                match read.binary_search_by(|(known, _)| known.as_str().cmp(path)) {
                    Ok(at) => read[at].1,
                    Err(_) => crate::render::status::is_sops_encrypted(&repo.blob(id)?),
                },
            )
        };
        let mut files = Vec::with_capacity(changed.files.len());
        for (path, old, new) in changed.files {
            let encrypted = encrypted(&path, old, read[0])? || encrypted(&path, new, read[1])?;
            files.push(crate::render::status::ChangedFile { path, encrypted });
        }
        Ok(RenderStatus::of(renderer, errors, unreadable, &files))
    }

    /// The file diff of each environment's inputs between two commits (see `diff` for
    /// which environments).
    pub fn raw_diff(
        &self,
        old: Option<ObjectId>,
        new: ObjectId,
        only: Option<&str>,
    ) -> Result<Vec<(String, Vec<FileDiff>)>, WorkspaceError> {
        let c = self.compare(self.tree_or_empty(old)?, self.repo.tree_of(new)?, only)?;
        let mut out = Vec::new();
        for name in c.names {
            let find = |envs: &[Environment]| envs.iter().find(|e| e.name == name).cloned();
            let (old_env, new_env) = (find(&c.old_envs), find(&c.new_envs));
            let files = raw_diff(
                &self.repo,
                old_env.as_ref(),
                c.old_tree,
                new_env.as_ref(),
                c.new_tree,
            )?;
            out.push((name, files));
        }
        Ok(out)
    }

    /// Pending promotions of this repo, with the environments they touch.
    pub fn promotions(&self) -> Result<Vec<Promotion>, WorkspaceError> {
        self.forge.promotions(self)
    }

    /// Pending promotions with the one-line summary of their rendered change (per
    /// environment when they touch several). A promotion whose diff fails says so in its
    /// summary instead of hiding the others.
    pub fn promotions_with_summaries(&self) -> Result<Vec<PromotionSummary>, WorkspaceError> {
        let mut out = Vec::new();
        for promotion in self.promotions()? {
            let summary = match self.diff(promotion.branch.merge_base, promotion.branch.head, None)
            {
                Ok(envs) => summary_line(&envs),
                Err(e) => format!("diff failed: {e}"),
            };
            let merge = self.merge_outlook(&promotion)?;
            // What merging now would do comes first: it changes what the rest means.
            let summary = match merge.flag() {
                Some(flag) => format!("[{flag}] {summary}"),
                None => summary,
            };
            out.push(PromotionSummary {
                promotion,
                summary,
                merge,
            });
        }
        Ok(out)
    }

    /// The pending promotion on `branch` (on GitHub also `#NUMBER`).
    pub fn promotion(&self, branch: &str) -> Result<Promotion, WorkspaceError> {
        self.forge.promotion(self, branch)
    }

    /// The GitHub side, for what only GitHub has (see [`Forge::github`]).
    pub fn github(&self) -> Option<&GitHubSide> {
        self.forge.github()
    }
}

/// One line for several environment diffs: `production: …; staging: …` when there are
/// several, the summary alone when there is one.
pub fn summary_line(envs: &[EnvironmentDiff]) -> String {
    if envs.is_empty() {
        return "no environment changed".to_string();
    }
    let several = envs.len() > 1;
    envs.iter()
        .map(|e| {
            let mut line = if e.render_errors.is_empty() {
                e.summary.one_line()
            } else {
                "render failed".to_string()
            };
            // An unreadable document is not "no change": nothing could be compared.
            if !e.issues.is_empty() {
                line.push_str(&format!(" · {} document(s) cannot be read", e.issues.len()));
            } else if e.render_errors.is_empty()
                && let Some(status) = e.render.describe()
            {
                line.push_str(&format!(" · {status}"));
            }
            match e.warnings.as_slice() {
                [] => {}
                [only] => line.push_str(&format!(" · ⚠ {only}")),
                [first, rest @ ..] => {
                    line.push_str(&format!(" · ⚠ {first} (+{} more)", rest.len()))
                }
            }
            if several {
                format!("{}: {line}", e.name)
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Two trees lined up for a diff (see [`OpenRepo::compare`]).
struct Comparison {
    names: Vec<String>,
    old_tree: ObjectId,
    new_tree: ObjectId,
    old_envs: Vec<Environment>,
    new_envs: Vec<Environment>,
}

/// The error for an environment `repo` does not have, listing the ones it has.
pub fn unknown_environment(repo: &str, env: &str, known: &[Environment]) -> WorkspaceError {
    WorkspaceError::UnknownEnvironment {
        repo: repo.to_string(),
        env: env.to_string(),
        known: known
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[derive(Default)]
struct Side {
    objects: Vec<crate::manifest::ManifestObject>,
    issues: Vec<ManifestIssue>,
    /// What a reader must be told about the render (see `ParsedManifests::caveats`).
    caveats: Vec<String>,
    /// See `ParsedManifests::read_files`.
    read_files: Vec<(String, bool)>,
    error: Option<String>,
}

impl Side {
    fn rendered(r: crate::render::Rendered) -> Side {
        Side {
            objects: r.objects,
            issues: r.issues,
            caveats: r.caveats,
            read_files: r.read_files,
            error: None,
        }
    }
}

/// One environment's rendered diff between two commits.
#[derive(Debug, Clone)]
pub struct EnvironmentDiff {
    pub name: String,
    /// What changed; of a plain environment, not the objects of documents that read
    /// the same on both sides, which `summary.unchanged` counts.
    pub diff: RenderedDiff,
    pub summary: Summary,
    /// Documents that could not be read, each once, with the side it is on; the rest
    /// is diffed.
    pub issues: Vec<SidedIssue>,
    /// A side that could not be rendered at all; the diff is then empty.
    pub render_errors: Vec<String>,
    /// Whether the diff is the whole story: `ok`, `failed` or `not-rendered`.
    pub render: RenderStatus,
    /// Changes a reviewer must not miss (see `manifest::warnings`).
    pub warnings: Vec<String>,
}

/// Which side of a diff a document that cannot be read is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IssueSide {
    Old,
    New,
    /// The same problem, unchanged, on both.
    Both,
}

/// A document that cannot be read, and on which side of the diff.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SidedIssue {
    #[serde(flatten)]
    pub issue: ManifestIssue,
    pub side: IssueSide,
}

impl std::fmt::Display for SidedIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let side = match self.side {
            IssueSide::Old => "before",
            IssueSide::New => "after",
            IssueSide::Both => "before and after",
        };
        write!(f, "{} ({side})", self.issue)
    }
}

/// Issues gathered from both sides, each problem once (by an index: a set of thousands
/// of broken documents is not compared each with each).
#[derive(Default)]
struct SidedIssues {
    issues: Vec<SidedIssue>,
    at: std::collections::HashMap<ManifestIssue, usize>,
}

impl SidedIssues {
    fn add(&mut self, side: IssueSide, issue: ManifestIssue) {
        match self.at.get(&issue) {
            Some(&at) if self.issues[at].side != side => self.issues[at].side = IssueSide::Both,
            Some(_) => {}
            None => {
                self.at.insert(issue.clone(), self.issues.len());
                self.issues.push(SidedIssue { issue, side });
            }
        }
    }

    fn add_all(&mut self, side: IssueSide, issues: Vec<ManifestIssue>) {
        for issue in issues {
            self.add(side, issue);
        }
    }
}

/// A pending promotion as the inbox lists it.
pub struct PromotionSummary {
    pub promotion: Promotion,
    /// One line: what merging it now would do (a flag), then its rendered change.
    pub summary: String,
    pub merge: crate::outlook::MergeOutlook,
}

/// A proposed change to the protected branch.
#[derive(Debug, Clone)]
pub struct Promotion {
    /// `REPO:BRANCH`
    pub id: String,
    pub repo: String,
    pub title: String,
    /// Who wrote its head; the time is when it was proposed (the head's committer date,
    /// or when the pull request was opened), which its age counts from.
    pub author: Person,
    pub environments: Vec<String>,
    pub branch: PromotionBranch,
    /// When the promotion is a GitHub pull request.
    pub pull: Option<PullRequest>,
}

impl Promotion {
    pub fn head_commit(&self) -> &CommitInfo {
        &self.branch.info
    }
}

/// Split `REPO:BRANCH`, or `REPO#NUMBER` (a pull request) into `REPO` and `#NUMBER`.
pub fn parse_promotion_id(id: &str) -> Result<(&str, &str), WorkspaceError> {
    if let Some((repo, number)) = id.split_once('#')
        && !repo.is_empty()
        && !repo.contains(':')
        && number.parse::<u64>().is_ok()
    {
        return Ok((repo, &id[repo.len()..]));
    }
    match id.split_once(':') {
        Some((repo, branch)) if !repo.is_empty() && !branch.is_empty() => Ok((repo, branch)),
        _ => Err(WorkspaceError::BadPromotionId { id: id.to_string() }),
    }
}

/// Config-level helpers that pick repositories.
pub trait ConfigExt {
    fn pick_repo(&self, name: Option<&str>) -> Result<&RepoConfig, WorkspaceError>;
    fn repos_named(&self, name: Option<&str>) -> Result<Vec<&RepoConfig>, WorkspaceError>;
}

impl ConfigExt for Config {
    /// The repo named `name`, or the only one when there is just one.
    fn pick_repo(&self, name: Option<&str>) -> Result<&RepoConfig, WorkspaceError> {
        let known = || {
            self.repos
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match name {
            Some(name) => self.repo(name).ok_or_else(|| WorkspaceError::UnknownRepo {
                name: name.to_string(),
                known: known(),
            }),
            None => match self.repos.as_slice() {
                [] => Err(WorkspaceError::NoRepos),
                [only] => Ok(only),
                _ => Err(WorkspaceError::AmbiguousRepo { known: known() }),
            },
        }
    }

    /// The repo named `name`, or all of them.
    fn repos_named(&self, name: Option<&str>) -> Result<Vec<&RepoConfig>, WorkspaceError> {
        match name {
            Some(_) => Ok(vec![self.pick_repo(name)?]),
            None if self.repos.is_empty() => Err(WorkspaceError::NoRepos),
            None => Ok(self.repos.iter().collect()),
        }
    }
}
