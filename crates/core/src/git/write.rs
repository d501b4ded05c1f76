//! Writing to a repository: blobs and trees from file changes, commits with given authors
//! and times, and ref updates that are a compare-and-swap on the value tollgate checked.
//! A refused update writes nothing a person could see: unreferenced objects are inert.

use gix::ObjectId;
use gix::bstr::BString;
use gix::objs::tree::EntryKind;
use gix::refs::Target;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};

use gix::objs::WriteTo;

use super::{GitError, GixContext, Repo};
use crate::signing::{COMMIT_NAMESPACE, SigningKey};

/// One file to write (`Some(bytes)`) or delete (`None`), repository-relative.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: String,
    pub content: Option<Vec<u8>>,
}

/// One ref to change in a transaction: from `expected` (`None`: absent) to `new`
/// (`None`: delete it).
#[derive(Debug, Clone)]
pub struct RefSwap {
    pub name: String,
    pub expected: Option<ObjectId>,
    pub new: Option<ObjectId>,
}

/// Who and when, for the author and committer lines of a commit.
#[derive(Debug, Clone)]
pub struct Signature {
    pub name: String,
    pub email: String,
    pub time: i64,
}

impl Signature {
    fn to_gix(&self) -> gix::actor::Signature {
        gix::actor::Signature {
            name: BString::from(self.name.as_str()),
            email: BString::from(self.email.as_str()),
            time: gix::date::Time::new(self.time, 0),
        }
    }
}

impl Repo {
    /// The tree `base` with `changes` applied.
    pub fn write_tree(&self, base: ObjectId, changes: &[FileChange]) -> Result<ObjectId, GitError> {
        let mut editor = self
            .inner
            .edit_tree(base)
            .during(&self.name, || format!("edit tree {base}"))?;
        for change in changes {
            match &change.content {
                Some(bytes) => {
                    let blob = self
                        .inner
                        .write_blob(bytes)
                        .during(&self.name, || format!("write {}", change.path))?;
                    editor
                        .upsert(change.path.as_str(), EntryKind::Blob, blob.detach())
                        .during(&self.name, || format!("place {}", change.path))?;
                }
                None => {
                    editor
                        .remove(change.path.as_str())
                        .during(&self.name, || format!("remove {}", change.path))?;
                }
            }
        }
        let id = editor.write().during(&self.name, || "write tree".into())?;
        Ok(id.detach())
    }

    /// The tree `base` with each of `paths` (files or folders) set to what it is in
    /// `source`: replaced, added, or removed where `source` has nothing there.
    pub fn restore_paths(
        &self,
        base: ObjectId,
        source: ObjectId,
        paths: &[String],
    ) -> Result<ObjectId, GitError> {
        let mut editor = self
            .inner
            .edit_tree(base)
            .during(&self.name, || format!("edit tree {base}"))?;
        for path in paths {
            match self.entry_with_kind_at(source, path)? {
                Some((id, kind)) => {
                    editor
                        .upsert(path.as_str(), kind, id)
                        .during(&self.name, || format!("restore {path}"))?;
                }
                None => {
                    editor
                        .remove(path.as_str())
                        .during(&self.name, || format!("remove {path}"))?;
                }
            }
        }
        let id = editor.write().during(&self.name, || "write tree".into())?;
        Ok(id.detach())
    }

    /// The three-way merge of `ours` and `theirs` from `ancestor` (trees), written; or the
    /// paths that conflict, with nothing written that anything points to.
    pub fn merge_trees(
        &self,
        ancestor: ObjectId,
        ours: ObjectId,
        theirs: ObjectId,
    ) -> Result<Result<ObjectId, Vec<String>>, GitError> {
        let options = self
            .inner
            .tree_merge_options()
            .during(&self.name, || "read merge options".into())?;
        let mut outcome = self
            .inner
            .merge_trees(ancestor, ours, theirs, Default::default(), options)
            .during(&self.name, || format!("merge {theirs} into {ours}"))?;
        let unresolved = gix::merge::tree::TreatAsUnresolved::git();
        if outcome.has_unresolved_conflicts(unresolved) {
            // Only what git would leave conflicted: a file both sides changed in
            // different lines merged cleanly and is not a conflict to name.
            let mut paths: Vec<String> = outcome
                .conflicts
                .iter()
                .filter(|c| c.is_unresolved(unresolved))
                .map(|c| c.ours.location().to_string())
                .collect();
            paths.sort();
            paths.dedup();
            return Ok(Err(paths));
        }
        let tree = outcome
            .tree
            .write()
            .during(&self.name, || "write the merged tree".into())?;
        Ok(Ok(tree.detach()))
    }

    /// Write a commit object; no ref moves.
    pub fn write_commit(
        &self,
        tree: ObjectId,
        parents: &[ObjectId],
        author: &Signature,
        committer: &Signature,
        message: &str,
    ) -> Result<ObjectId, GitError> {
        self.write_signed_commit(tree, parents, author, committer, message, None)
    }

    /// Write a commit object, signed with `key` when given (a `gpgsig` header over the
    /// commit as written without it, exactly as git signs with `gpg.format=ssh`, so that
    /// `git verify-commit` accepts it); no ref moves.
    pub fn write_signed_commit(
        &self,
        tree: ObjectId,
        parents: &[ObjectId],
        author: &Signature,
        committer: &Signature,
        message: &str,
        key: Option<&SigningKey>,
    ) -> Result<ObjectId, GitError> {
        let mut commit = gix::objs::Commit {
            tree,
            parents: parents.iter().copied().collect(),
            author: author.to_gix(),
            committer: committer.to_gix(),
            encoding: None,
            message: BString::from(message),
            extra_headers: Vec::new(),
        };
        if let Some(key) = key {
            let mut payload = Vec::new();
            commit
                .write_to(&mut payload)
                .during(&self.name, || "encode commit".into())?;
            let signature = key
                .sign(COMMIT_NAMESPACE, &payload)
                .map_err(|e| GitError::Sign {
                    repo: self.name.clone(),
                    message: e.to_string(),
                })?;
            commit
                .extra_headers
                .push((BString::from("gpgsig"), BString::from(signature.trim_end())));
        }
        let id = self
            .inner
            .write_object(&commit)
            .during(&self.name, || "write commit".into())?;
        Ok(id.detach())
    }

    /// Point `reference` at `new` only if it still points at `expected` (`None`: it must
    /// not exist yet). If it moved, nothing changes and [`GitError::RefMoved`] says where to.
    pub fn update_ref(
        &self,
        reference: &str,
        expected: Option<ObjectId>,
        new: ObjectId,
        log_message: &str,
        committer: &Signature,
    ) -> Result<(), GitError> {
        self.swap_refs(
            &[RefSwap {
                name: reference.to_string(),
                expected,
                new: Some(new),
            }],
            log_message,
            committer,
        )
    }

    /// Change several refs in one transaction: each must still hold its `expected` value
    /// or nothing changes at all, and [`GitError::RefMoved`] names the one that moved.
    pub fn swap_refs(
        &self,
        swaps: &[RefSwap],
        log_message: &str,
        committer: &Signature,
    ) -> Result<(), GitError> {
        let mut edits = Vec::new();
        for swap in swaps {
            let name: gix::refs::FullName = swap
                .name
                .as_str()
                .try_into()
                .during(&self.name, || format!("ref name {}", swap.name))?;
            let expected = match swap.expected {
                Some(id) => PreviousValue::MustExistAndMatch(Target::Object(id)),
                None => PreviousValue::MustNotExist,
            };
            let change = match swap.new {
                Some(new) => Change::Update {
                    log: LogChange {
                        mode: RefLog::AndReference,
                        force_create_reflog: false,
                        message: log_message.into(),
                    },
                    expected,
                    new: Target::Object(new),
                },
                None => Change::Delete {
                    expected,
                    log: RefLog::AndReference,
                },
            };
            edits.push(RefEdit {
                change,
                name,
                deref: false,
            });
        }
        let sig = committer.to_gix();
        let mut time_buf = gix::date::parse::TimeBuf::default();
        match self
            .inner
            .edit_references_as(edits, Some(sig.to_ref(&mut time_buf)))
        {
            Ok(_) => Ok(()),
            Err(e) => {
                for swap in swaps {
                    let actual = self
                        .inner
                        .try_find_reference(swap.name.as_str())
                        .ok()
                        .flatten()
                        .and_then(|mut r| r.peel_to_id().ok().map(|id| id.detach()));
                    if actual != swap.expected {
                        let show = |id: Option<ObjectId>| {
                            id.map(|i| i.to_string())
                                .unwrap_or_else(|| "(absent)".into())
                        };
                        return Err(GitError::RefMoved {
                            repo: self.name.clone(),
                            reference: swap.name.clone(),
                            expected: show(swap.expected),
                            actual: show(actual),
                        });
                    }
                }
                // A ref that moved is the conflict to report; a lock only when none did
                // (another writer holds it, or a killed one left it).
                if let Some(locked) = self.locked(swaps) {
                    return Err(locked);
                }
                Err(e).during(&self.name, || {
                    format!(
                        "update {}",
                        swaps
                            .iter()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
            }
        }
    }

    /// A lock file left where one of `swaps` (or the packed refs) would be written.
    fn locked(&self, swaps: &[RefSwap]) -> Option<GitError> {
        let dir = self.inner.common_dir();
        let locks = swaps
            .iter()
            .map(|swap| (swap.name.clone(), dir.join(format!("{}.lock", swap.name))))
            .chain(std::iter::once((
                "packed-refs".to_string(),
                dir.join("packed-refs.lock"),
            )));
        for (reference, lock) in locks {
            if lock.exists() {
                return Some(GitError::Locked {
                    repo: self.name.clone(),
                    reference,
                    lock,
                    running: other_tollgate_process(),
                });
            }
        }
        None
    }
}

/// The pid of another running tollgate process, where the system says (Linux's /proc).
fn other_tollgate_process() -> Option<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me)
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|name| name.trim() == "tollgate")
        })
}
