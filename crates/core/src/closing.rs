//! Closing a promotion: its branch is deleted. One the protected branch already has closes
//! as it is; any other is *abandoned*, which needs a reason, kept with who and when as a
//! note on its head under [`CLOSED_NOTES_REF`]. The note and the deletion are one ref
//! transaction: there is never a record of a close that did not happen, nor a deleted
//! promotion without its record.

use gix::ObjectId;
use serde::{Deserialize, Serialize};

use crate::git::write::{FileChange, RefSwap, Signature};
use crate::git::{GitError, Repo};
use crate::outlook::MergeState;
use crate::workspace::{OpenRepo, Promotion, WorkspaceError};

/// Where closes are recorded: one JSON line per close, on the promotion's head commit
/// (`git notes --ref tollgate-closed show SHA`).
pub const CLOSED_NOTES_REF: &str = "refs/notes/tollgate-closed";

/// How often the transaction is retried when another writer moved the notes ref.
const ATTEMPTS: usize = 8;

/// Who closed a promotion, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedRecord {
    pub by: String,
    /// Seconds since the epoch.
    pub at: i64,
    pub reason: String,
    pub promotion: String,
    pub branch: String,
    pub head: String,
    /// Whether the protected branch already had its change.
    pub merged: bool,
}

/// The closes recorded on `commit`, oldest first (unreadable lines are skipped).
pub fn closes_on(repo: &Repo, commit: ObjectId) -> Result<Vec<ClosedRecord>, GitError> {
    Ok(repo
        .note_on(CLOSED_NOTES_REF, commit)?
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
}

/// Every close recorded in `repo`, newest first.
pub fn closes_in(repo: &Repo) -> Result<Vec<ClosedRecord>, GitError> {
    let mut records = Vec::new();
    for blob in repo.notes_index(CLOSED_NOTES_REF)?.values() {
        let text = repo.blob(*blob)?;
        records.extend(
            String::from_utf8_lossy(&text)
                .lines()
                .filter_map(|line| serde_json::from_str::<ClosedRecord>(line).ok()),
        );
    }
    records.sort_by(|a, b| b.at.cmp(&a.at).then(a.promotion.cmp(&b.promotion)));
    Ok(records)
}

/// Delete `refs/heads/{branch}` if it is still at `head`, adding `record` (when given) to
/// the closes noted on `head` in the same transaction.
fn delete_branch_with_record(
    repo: &Repo,
    branch: &str,
    head: ObjectId,
    record: Option<&ClosedRecord>,
    message: &str,
    committer: &Signature,
) -> Result<(), GitError> {
    let deletion = RefSwap {
        name: format!("refs/heads/{branch}"),
        expected: Some(head),
        new: None,
    };
    let Some(record) = record else {
        return repo.swap_refs(&[deletion], message, committer);
    };
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        let tip = repo.ref_target(CLOSED_NOTES_REF)?;
        let mut text = repo.note_on(CLOSED_NOTES_REF, head)?.unwrap_or_default();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&serde_json::to_string(record).expect("a record always serialises"));
        text.push('\n');
        let base_tree = match tip {
            Some(t) => repo.tree_of(t)?,
            None => ObjectId::empty_tree(gix::hash::Kind::Sha1),
        };
        let tree = repo.write_tree(
            base_tree,
            &[FileChange {
                path: head.to_string(),
                content: Some(text.into_bytes()),
            }],
        )?;
        let parents: Vec<ObjectId> = tip.into_iter().collect();
        let note = repo.write_commit(tree, &parents, committer, committer, message)?;
        let notes = RefSwap {
            name: CLOSED_NOTES_REF.to_string(),
            expected: tip,
            new: Some(note),
        };
        match repo.swap_refs(&[notes, deletion.clone()], message, committer) {
            Ok(()) => return Ok(()),
            // Another close or approval moved the notes: read them again. A moved branch
            // is the caller's to report.
            Err(e @ GitError::RefMoved { .. }) if repo.ref_target(CLOSED_NOTES_REF)? != tip => {
                last_error = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(last_error.expect("the loop ran at least once"))
}

/// Why a promotion cannot be closed.
#[derive(Debug, thiserror::Error)]
pub enum CloseError {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    #[error(
        "{id} is not merged ({state}): closing abandons it and deletes its branch, so say why: `tollgate close {id} --reason \"…\"` (in the TUI, C asks for it)"
    )]
    NeedsReason { id: String, state: String },
    #[error(
        "the promotion moved since you looked (its head is now {head}): nothing was closed; look at the new head first"
    )]
    Moved { id: String, head: String },
    #[error("{id} is a pull request: close it on GitHub")]
    OnGitHub { id: String },
}

/// What closing a promotion did.
#[derive(Debug, Clone, Serialize)]
pub struct Closed {
    pub id: String,
    pub branch: String,
    pub head: String,
    /// Whether the protected branch already had its change.
    pub merged: bool,
    /// The record kept under [`CLOSED_NOTES_REF`], when one was written.
    pub record: Option<ClosedRecord>,
}

impl OpenRepo {
    /// Close `promotion`: delete its branch, as long as its head is still the one
    /// looked at (`expected_head`, else the one read). A promotion the protected branch
    /// already has closes as it is; any other is abandoned, which needs a `reason`,
    /// recorded with who and when on its head (see [`crate::closing`]) in the same ref
    /// transaction as the deletion. Nothing deployed changes, so it needs no approval.
    pub fn close(
        &self,
        promotion: &Promotion,
        expected_head: Option<ObjectId>,
        me: &crate::identity::Identity,
        reason: Option<&str>,
        now: jiff::Timestamp,
    ) -> Result<Closed, CloseError> {
        if promotion.pull.is_some() {
            return Err(CloseError::OnGitHub {
                id: promotion.id.clone(),
            });
        }
        let branch = &promotion.branch;
        if let Some(expected) = expected_head
            && expected != branch.head
        {
            return Err(CloseError::Moved {
                id: promotion.id.clone(),
                head: branch.head.to_string(),
            });
        }
        let outlook = self.merge_outlook(promotion)?;
        let merged = outlook.state == MergeState::AlreadyMerged;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if !merged && reason.is_none() {
            return Err(CloseError::NeedsReason {
                id: promotion.id.clone(),
                state: outlook.flag().unwrap_or("it merges cleanly").to_string(),
            });
        }
        let record = reason.map(|reason| ClosedRecord {
            by: me.to_string(),
            at: now.as_second(),
            reason: reason.to_string(),
            promotion: promotion.id.clone(),
            branch: branch.branch.clone(),
            head: branch.head.to_string(),
            merged,
        });
        let what = match merged {
            true => "already merged",
            false => "abandoned",
        };
        delete_branch_with_record(
            &self.repo,
            &branch.branch,
            branch.head,
            record.as_ref(),
            &format!("tollgate: close {} ({what})", promotion.id),
            &crate::review::signature(me, now),
        )?;
        Ok(Closed {
            id: promotion.id.clone(),
            branch: branch.branch.clone(),
            head: branch.head.to_string(),
            merged,
            record,
        })
    }
}
