//! Where a repository's promotions live and how they are acted on: a [`Forge`]. A local
//! repository is its own forge (`local`: promotions are branches, approvals git notes,
//! merges and rollbacks commits tollgate writes and signs); a GitHub repository's are its
//! open pull requests, read and acted on through the REST API, with a local mirror for
//! everything git can answer (`github`). The verdict, the diff and the audit are the same
//! code for both: they ask the forge only what differs, so a third forge is one module
//! that implements this trait.

pub mod github;
pub mod local;

use crate::git::CommitInfo;
use crate::identity::Identity;
use crate::policy::MergeMethod;
use crate::review::{Merged, ReviewError};
use crate::rollback::{CreatedRollback, RollbackError, RollbackPlan};
use crate::signing::SigningKey;
use crate::trust::Trust;
use crate::verdict::CheckedApproval;
use crate::workspace::{OpenRepo, Promotion, WorkspaceError};

use github::open::GitHubSide;

/// A repository's promotions and the writes on them. Each method gets the opened
/// repository (its git, its protected branch, its config) beside the forge's own state.
pub trait Forge: Send + Sync + std::fmt::Debug {
    /// The pending promotions, with the environments each touches.
    fn promotions(&self, open: &OpenRepo) -> Result<Vec<Promotion>, WorkspaceError>;

    /// The pending promotions as fast as they can be listed, for a first look: id, title,
    /// author and age, the environments they touch left empty where finding them takes
    /// a diff. [`Forge::promotions`] gives them whole.
    fn listed(&self, open: &OpenRepo) -> Result<Vec<Promotion>, WorkspaceError> {
        self.promotions(open)
    }

    /// The pending promotion `key` names: its branch, or an id the forge gives it (a pull
    /// request's `#12`).
    fn promotion(&self, open: &OpenRepo, key: &str) -> Result<Promotion, WorkspaceError>;

    /// The account the forge says is acting, where it authenticates one (a GitHub token's);
    /// `None` where who acts is the identity configured, proved by their key.
    fn account(&self) -> Result<Option<Identity>, WorkspaceError>;

    /// Whether tollgate signs approvals and commits here. A forge that authenticates the
    /// account records who did what itself, and nothing is signed.
    fn signs(&self) -> bool;

    /// The approvals of `promotion` (whose commits are `commits`), each with how its
    /// signature checked against `trust`, and the authors the commits do not name (a pull
    /// request's author).
    fn approvals(
        &self,
        open: &OpenRepo,
        promotion: &Promotion,
        commits: &[CommitInfo],
        trust: &Trust,
    ) -> Result<Approvals, WorkspaceError>;

    /// What the forge refuses a merge for, whatever the verdict says (a draft).
    fn merge_refusals(&self, _promotion: &Promotion) -> Vec<String> {
        Vec::new()
    }

    /// Record an approval of the promotion's head, which the verdict allowed.
    fn approve(
        &self,
        open: &OpenRepo,
        promotion: &Promotion,
        approval: &ApprovalRequest,
    ) -> Result<(), ReviewError>;

    /// Withdraw `me`'s approval of the promotion's head; `false` when there was none.
    fn unapprove(
        &self,
        open: &OpenRepo,
        promotion: &Promotion,
        me: &Identity,
        now: jiff::Timestamp,
    ) -> Result<bool, ReviewError>;

    /// Merge the promotion, which the verdict allowed, pinned to its judged head and base.
    fn merge(
        &self,
        open: &OpenRepo,
        promotion: &Promotion,
        merge: &MergeRequest,
    ) -> Result<Merged, ReviewError>;

    /// Write a planned revert or rollback: as a promotion to review, or with `direct`
    /// straight onto the protected branch where the forge allows it.
    fn propose_rollback(
        &self,
        open: &OpenRepo,
        plan: &RollbackPlan,
        rollback: &RollbackRequest,
    ) -> Result<CreatedRollback, RollbackError>;

    /// Read at once what the verdicts of every promotion will ask for (a forge's reviews),
    /// so that a list of verdicts is not one round trip each.
    fn read_ahead(&self) -> Result<(), WorkspaceError> {
        Ok(())
    }

    /// The GitHub side, for what only GitHub has: a pull request's page (checks, mergeable
    /// state, reviewers) and the audit of the merges GitHub made.
    fn github(&self) -> Option<&GitHubSide> {
        None
    }
}

/// A promotion's approvals as its forge records them.
#[derive(Debug, Default)]
pub struct Approvals {
    pub approvals: Vec<CheckedApproval>,
    /// Authors beyond the commits' (emails): they may not approve their own change.
    pub authors: Vec<String>,
}

/// An approval to record.
pub struct ApprovalRequest<'a> {
    pub me: &'a Identity,
    pub comment: Option<&'a str>,
    /// Environments the approver says they reviewed another way (not rendered).
    pub acknowledged_unrendered: Vec<String>,
    pub now: jiff::Timestamp,
}

/// A merge the verdict allowed, and what it must write.
pub struct MergeRequest<'a> {
    pub me: &'a Identity,
    pub method: MergeMethod,
    /// The merge commit's message with its trailers (a squash takes the title from it).
    pub message: String,
    pub break_glass: bool,
    /// The key that signs what tollgate writes, where it signs.
    pub key: Option<&'a SigningKey>,
    /// Whether the protected branch requires signed commits.
    pub signatures_required: bool,
    pub now: jiff::Timestamp,
}

/// A revert or rollback to write.
pub struct RollbackRequest<'a> {
    pub me: &'a Identity,
    pub reason: Option<&'a str>,
    pub direct: bool,
    pub now: jiff::Timestamp,
}
