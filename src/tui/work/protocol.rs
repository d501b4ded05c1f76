//! What the app asks of the background work ([`Command`]) and what comes back
//! ([`Outcome`]), each request with the id that lets a stale answer be dropped.

use super::rows::{EnvironmentRow, HistoryRow, PromotionRow, ReviewDetail, UndoPreview};
use crate::history::HistoryMode;
use crate::reconcile::status::Deployed;
use crate::verdict::Verdict;

/// Each request carries an id; a result whose id is no longer the one the app waits
/// for is dropped.
pub type RequestId = u64;

/// What a person can do to a promotion from the review screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewAction {
    Approve,
    Unapprove,
    Merge,
}

impl ReviewAction {
    pub fn verb(self) -> &'static str {
        match self {
            ReviewAction::Approve => "approve",
            ReviewAction::Unapprove => "withdraw your approval of",
            ReviewAction::Merge => "merge",
        }
    }
}

/// What `R` and `T` undo: the commit itself, or an environment back to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoTarget {
    Revert,
    Rollback { env: String },
}

/// A commit to undo, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoRequest {
    pub repo: String,
    pub sha: String,
    pub target: UndoTarget,
    /// Also set back shared files (a kustomize base) that changed since.
    pub include_shared: bool,
    /// Break-glass: straight onto the protected branch, no promotion (`D`).
    pub direct: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Compute a revert or rollback and its rendered diff; write nothing.
    PlanUndo {
        request: RequestId,
        undo: UndoRequest,
    },
    /// Write it as a promotion, if the protected branch is still at `base` and the plan
    /// still gives `tree`: what the person saw is what gets written.
    CreateUndo {
        request: RequestId,
        undo: UndoRequest,
        reason: String,
        base: String,
        tree: String,
    },
    LoadRepo {
        request: RequestId,
        repo: String,
    },
    LoadVerdict {
        request: RequestId,
        id: String,
    },
    Act {
        request: RequestId,
        id: String,
        /// The head the review showed: approve and merge act on it or on nothing.
        head: String,
        action: ReviewAction,
        /// The dialog showed environments that are not rendered, and `y` approves
        /// acknowledging them.
        acknowledge_unrendered: bool,
        /// A merge through a freeze or a failed render, and why.
        break_glass: Option<String>,
    },
    LoadPromotion {
        request: RequestId,
        id: String,
    },
    /// Abandon a promotion, if its head is still `head`, recording `reason`.
    Close {
        request: RequestId,
        id: String,
        head: String,
        reason: String,
    },
    LoadEnvironments {
        request: RequestId,
        repo: String,
    },
    /// What the environment's cluster runs (its inventory), against the branch.
    LoadDeployed {
        request: RequestId,
        repo: String,
        env: String,
    },
    LoadHistory {
        request: RequestId,
        repo: String,
        env: String,
        mode: HistoryMode,
        /// Only the protected branch's own line.
        first_parent: bool,
    },
    LoadCommit {
        request: RequestId,
        repo: String,
        sha: String,
    },
    /// What changed in a promotion between a head approved earlier (`from`) and the head
    /// the review shows (`to`): the re-review after a push.
    LoadInterdiff {
        request: RequestId,
        repo: String,
        from: String,
        to: String,
    },
    /// Open a page (a pull request on GitHub) in the browser.
    OpenUrl {
        url: String,
    },
    /// Read what a repo's refs point at, to notice a push, approval or merge elsewhere.
    PollRepo {
        repo: String,
    },
}

#[derive(Debug)]
pub enum Outcome {
    /// Something to say in the status bar.
    Message(String),
    /// A repo's refs as a poll found them (`None`: not polled, as a GitHub repo).
    Polled {
        repo: String,
        fingerprint: Option<String>,
    },
    /// The GitHub login the token belongs to (who acts on GitHub repos).
    GitHubAccount(String),
    UndoPlanned {
        request: RequestId,
        result: Result<Box<UndoPreview>, String>,
    },
    /// A break-glass revert or rollback written straight onto the protected branch:
    /// what it did, in words.
    UndoWrittenDirectly {
        request: RequestId,
        result: Result<String, String>,
    },
    /// The promotion a revert or rollback opened, ready to review.
    UndoCreated {
        request: RequestId,
        result: Result<Box<PromotionRow>, String>,
    },
    Repo {
        request: RequestId,
        repo: String,
        result: Result<Vec<PromotionRow>, String>,
    },
    Review {
        request: RequestId,
        result: Result<Box<ReviewDetail>, String>,
    },
    /// The rendered change since an approved head (see [`Command::LoadInterdiff`]).
    Interdiff {
        request: RequestId,
        result: Result<Box<ReviewDetail>, String>,
    },
    Environments {
        request: RequestId,
        repo: String,
        result: Result<Vec<EnvironmentRow>, String>,
    },
    Deployed {
        request: RequestId,
        repo: String,
        env: String,
        result: Result<Deployed, String>,
    },
    Verdict {
        request: RequestId,
        result: Result<Box<Verdict>, String>,
    },
    /// A close finished: what happened, in words.
    Closed {
        request: RequestId,
        result: Result<String, String>,
    },
    /// An approve, unapprove or merge finished: what happened, in words.
    Acted {
        request: RequestId,
        action: ReviewAction,
        result: Result<String, String>,
    },
    /// A page of history; `done` with the last one (or with `error`).
    History {
        request: RequestId,
        rows: Vec<HistoryRow>,
        done: bool,
        error: Option<String>,
    },
}
