//! Git access through gix: open environment repositories (bare or not), read trees and
//! blobs at any commit, describe commits with their trailers, find promotion branches,
//! walk an environment's history, and write commits with a ref compare-and-swap.
//! No `git` subprocess is used for reading. Nothing here knows about Kubernetes.

pub mod commit;
pub mod commit_graph;
pub mod fetch;
mod loose;
mod packs;
pub mod promotions;
mod tips;
pub mod tree;
pub mod walk;
pub mod write;

use std::path::{Path, PathBuf};

use gix::ObjectId;

pub use commit::{CommitInfo, Person, Trailer};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("repo {repo}: {message}; nothing was written")]
    Sign { repo: String, message: String },
    #[error(
        "{path} is not a git repository ({message}); check `path:` for this repo in the config"
    )]
    NotARepository { path: PathBuf, message: String },
    #[error("repo {repo}: branch {branch:?} does not exist; check `branch:` in the config")]
    UnknownBranch { repo: String, branch: String },
    #[error("repo {repo}: HEAD does not name a branch; set `branch:` for this repo in the config")]
    NoHeadBranch { repo: String },
    #[error("repo {repo}: {rev:?} is not a commit in this repository")]
    UnknownRevision { repo: String, rev: String },
    #[error("repo {repo}: {path} at {commit} is not valid UTF-8 text")]
    NotUtf8 {
        repo: String,
        commit: String,
        path: String,
    },
    #[error("repo {repo}: {action}: {message}")]
    Gix {
        repo: String,
        action: String,
        message: String,
    },
    #[error(
        "repo {repo}: {} exists, so {reference} cannot be changed; nothing was written. {}",
        lock.display(),
        stale_lock_advice(lock, *running)
    )]
    Locked {
        repo: String,
        reference: String,
        lock: PathBuf,
        /// Another tollgate process that may be holding it.
        running: Option<u32>,
    },
    #[error(
        "repo {repo}: {reference} moved from {expected} to {actual} while tollgate was working; nothing was written, look again and retry"
    )]
    RefMoved {
        repo: String,
        reference: String,
        expected: String,
        actual: String,
    },
}

/// What to do about a ref's lock file: wait for the process that holds it, or remove it
/// when none does (a process killed while writing leaves it behind).
fn stale_lock_advice(lock: &std::path::Path, running: Option<u32>) -> String {
    let who = match running {
        Some(pid) => format!(
            "tollgate process {pid} is running and may be writing it: let it finish and retry. If it is not working on this repository"
        ),
        None => "No tollgate process is running, so a git or tollgate process was killed while writing. If no git command is running on this repository".to_string(),
    };
    format!(
        "{who}, remove the lock with `rm {}` and retry",
        lock.display()
    )
}

/// One opened environment repository, with the name the config gives it.
pub struct Repo {
    pub name: String,
    pub inner: gix::Repository,
    /// Opened on the first folder read (see `packs`); per handle, like gix's own caches.
    packs: std::cell::RefCell<Option<packs::PackedObjects>>,
}

/// Shorthand for mapping a gix error into [`GitError::Gix`] with what was being done.
pub(crate) trait GixContext<T> {
    fn during(self, repo: &str, action: impl FnOnce() -> String) -> Result<T, GitError>;
}

impl<T, E: std::error::Error> GixContext<T> for Result<T, E> {
    fn during(self, repo: &str, action: impl FnOnce() -> String) -> Result<T, GitError> {
        self.map_err(|e| GitError::Gix {
            repo: repo.to_string(),
            action: action(),
            message: crate::text::with_causes(&e),
        })
    }
}

impl Repo {
    /// Open the repository at `path` (a work tree or a bare repository). The config and
    /// environment variables of the process do not redirect it elsewhere.
    pub fn open(name: &str, path: &Path) -> Result<Repo, GitError> {
        // History walks decode the same delta bases again and again; git's own default
        // cache (a 64-entry list) spends more time searching than it saves.
        let options =
            gix::open::Options::isolated().config_overrides(["core.deltaBaseCacheLimit=96m"]);
        let mut inner = gix::open_opts(path, options).map_err(|e| GitError::NotARepository {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        // Walks look at the same trees again and again (TREESAME tests per input path).
        inner.object_cache_size_if_unset(64 * 1024 * 1024);
        Ok(Repo {
            name: name.to_string(),
            inner,
            packs: Default::default(),
        })
    }

    /// Another handle on the same repository, for use on another thread.
    pub fn handle(&self) -> Repo {
        Repo {
            name: self.name.clone(),
            inner: self.inner.clone(),
            packs: Default::default(),
        }
    }

    /// Another handle without an object cache, for reading objects once each (a diff's
    /// renders): a cache would only keep a second copy of every blob read.
    pub fn uncached_handle(&self) -> Repo {
        let mut repo = self.handle();
        repo.inner.object_cache_size(0);
        repo
    }

    /// The protected branch: `configured`, else the branch HEAD points to.
    pub fn protected_branch(&self, configured: Option<&str>) -> Result<String, GitError> {
        if let Some(branch) = configured {
            self.branch_head(branch)?;
            return Ok(branch.to_string());
        }
        let head = self
            .inner
            .head_name()
            .during(&self.name, || "read HEAD".into())?
            .ok_or_else(|| GitError::NoHeadBranch {
                repo: self.name.clone(),
            })?;
        Ok(head.shorten().to_string())
    }

    /// The commit a local branch points to.
    pub fn branch_head(&self, branch: &str) -> Result<ObjectId, GitError> {
        let unknown = || GitError::UnknownBranch {
            repo: self.name.clone(),
            branch: branch.to_string(),
        };
        let full = format!("refs/heads/{branch}");
        let mut reference = self
            .inner
            .try_find_reference(full.as_str())
            .during(&self.name, || format!("read {full}"))?
            .ok_or_else(unknown)?;
        let id = reference
            .peel_to_id()
            .during(&self.name, || format!("peel {full}"))?;
        Ok(id.detach())
    }

    /// Resolve a revision (`main`, a sha or its prefix, `HEAD~2`) to a commit.
    pub fn resolve(&self, rev: &str) -> Result<ObjectId, GitError> {
        let unknown = || GitError::UnknownRevision {
            repo: self.name.clone(),
            rev: rev.to_string(),
        };
        let id = self
            .inner
            .rev_parse_single(rev)
            .map_err(|_| unknown())?
            .object()
            .map_err(|_| unknown())?
            .peel_to_commit()
            .map_err(|_| unknown())?
            .id;
        Ok(id)
    }

    /// The tree of a commit.
    pub fn tree_of(&self, commit: ObjectId) -> Result<ObjectId, GitError> {
        let commit_obj = self
            .inner
            .find_commit(commit)
            .during(&self.name, || format!("read commit {commit}"))?;
        commit_obj
            .tree_id()
            .map(|id| id.detach())
            .during(&self.name, || format!("read tree of {commit}"))
    }

    /// The best common ancestor of two commits, if any.
    pub fn merge_base(&self, a: ObjectId, b: ObjectId) -> Result<Option<ObjectId>, GitError> {
        match self.inner.merge_base(a, b) {
            Ok(found) => Ok(found.map(|id| id.detach())),
            Err(e) => Err(e).during(&self.name, || format!("merge base of {a} and {b}")),
        }
    }
}

/// The short form of an object id used in tables and messages.
pub fn short(id: &ObjectId) -> String {
    id.to_hex_with_len(10).to_string()
}
