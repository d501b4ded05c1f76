//! Writing to a repository: blobs and trees from file changes, commits with given authors
//! and times, and ref updates that are a compare-and-swap on the value tollgate checked.
//! A refused update writes nothing a person could see: unreferenced objects are inert.

use gix::ObjectId;
use gix::bstr::BString;
use gix::objs::tree::EntryKind;
use gix::refs::Target;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};

use super::{GitError, GixContext, Repo};

/// One file to write (`Some(bytes)`) or delete (`None`), repository-relative.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: String,
    pub content: Option<Vec<u8>>,
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

    /// Write a commit object; no ref moves.
    pub fn write_commit(
        &self,
        tree: ObjectId,
        parents: &[ObjectId],
        author: &Signature,
        committer: &Signature,
        message: &str,
    ) -> Result<ObjectId, GitError> {
        let commit = gix::objs::Commit {
            tree,
            parents: parents.iter().copied().collect(),
            author: author.to_gix(),
            committer: committer.to_gix(),
            encoding: None,
            message: BString::from(message),
            extra_headers: Vec::new(),
        };
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
        let name: gix::refs::FullName = reference
            .try_into()
            .during(&self.name, || format!("ref name {reference}"))?;
        let edit = RefEdit {
            change: Change::Update {
                log: LogChange {
                    mode: RefLog::AndReference,
                    force_create_reflog: false,
                    message: log_message.into(),
                },
                expected: match expected {
                    Some(id) => PreviousValue::MustExistAndMatch(Target::Object(id)),
                    None => PreviousValue::MustNotExist,
                },
                new: Target::Object(new),
            },
            name,
            deref: false,
        };
        let sig = committer.to_gix();
        let mut time_buf = gix::date::parse::TimeBuf::default();
        let result = self
            .inner
            .edit_references_as(Some(edit), Some(sig.to_ref(&mut time_buf)));
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let actual = self
                    .inner
                    .try_find_reference(reference)
                    .ok()
                    .flatten()
                    .and_then(|mut r| r.peel_to_id().ok().map(|id| id.to_string()));
                let expected_text = expected.map(|e| e.to_string());
                if actual != expected_text {
                    Err(GitError::RefMoved {
                        repo: self.name.clone(),
                        reference: reference.to_string(),
                        expected: expected_text.unwrap_or_else(|| "(absent)".into()),
                        actual: actual.unwrap_or_else(|| "(absent)".into()),
                    })
                } else {
                    Err(e).during(&self.name, || format!("update {reference}"))
                }
            }
        }
    }
}
