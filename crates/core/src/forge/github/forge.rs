//! GitHub as a [`Forge`]: promotions are the open pull requests into the protected branch,
//! approvals are reviews of the head by authenticated accounts, and merges, withdrawals
//! and rollbacks are GitHub's own (the token's account acts; nothing is signed by
//! tollgate).

use super::open::GitHubSide;
use super::pulls::approvals_from;
use super::{PullRequest, block_on};
use crate::forge::{ApprovalRequest, Approvals, Forge, MergeRequest, RollbackRequest};
use crate::git::CommitInfo;
use crate::identity::Identity;
use crate::policy::MergeMethod;
use crate::review::{Merged, ReviewError, squash_message};
use crate::rollback::{CreatedRollback, RollbackError, RollbackPlan};
use crate::signing::SignatureReport;
use crate::trust::Trust;
use crate::verdict::CheckedApproval;
use crate::workspace::{OpenRepo, Promotion, WorkspaceError};

impl Forge for GitHubSide {
    fn promotions(&self, open: &OpenRepo) -> Result<Vec<Promotion>, WorkspaceError> {
        self.pulls
            .iter()
            .map(|pull| open.promotion_of_pull(pull))
            .collect()
    }

    /// By number (`#12` or `12`), else by the pull request's head branch.
    fn promotion(&self, open: &OpenRepo, key: &str) -> Result<Promotion, WorkspaceError> {
        let pull = match key.trim_start_matches('#').parse::<u64>() {
            Ok(number) => self.pulls.iter().find(|p| p.number == number).ok_or(
                WorkspaceError::UnknownPull {
                    repo: open.name().to_string(),
                    number,
                },
            )?,
            Err(_) => self
                .pulls
                .iter()
                .find(|p| p.head_ref == key)
                .ok_or_else(|| WorkspaceError::UnknownPromotion {
                    repo: open.name().to_string(),
                    branch: key.to_string(),
                })?,
        };
        open.promotion_of_pull(pull)
    }

    fn account(&self) -> Result<Option<Identity>, WorkspaceError> {
        Ok(Some(self.viewer()?))
    }

    fn signs(&self) -> bool {
        false
    }

    /// The reviews; the pull request's author is an author too (known by login).
    fn approvals(
        &self,
        open: &OpenRepo,
        promotion: &Promotion,
        _commits: &[CommitInfo],
        _trust: &Trust,
    ) -> Result<Approvals, WorkspaceError> {
        let pull = pull_of(open, promotion)?;
        let approvals = approvals_from(&self.reviews(pull.number)?)
            .into_iter()
            .map(|approval| CheckedApproval {
                approval,
                signature: SignatureReport::forge(),
            })
            .collect();
        Ok(Approvals {
            approvals,
            authors: vec![Identity::github(&pull.author).email],
        })
    }

    fn merge_refusals(&self, promotion: &Promotion) -> Vec<String> {
        match promotion.pull.as_ref().is_some_and(|p| p.draft) {
            true => vec!["it is a draft pull request; mark it ready for review on GitHub".into()],
            false => Vec::new(),
        }
    }

    fn approve(
        &self,
        open: &OpenRepo,
        promotion: &Promotion,
        request: &ApprovalRequest,
    ) -> Result<(), ReviewError> {
        let pull = pull_of(open, promotion)?;
        let head = promotion.branch.head.to_string();
        block_on(self.repo.approve(pull.number, &head, request.comment))?;
        Ok(())
    }

    fn unapprove(
        &self,
        open: &OpenRepo,
        promotion: &Promotion,
        _me: &Identity,
        _now: jiff::Timestamp,
    ) -> Result<bool, ReviewError> {
        let pull = pull_of(open, promotion)?;
        Ok(self.withdraw_approval(pull, promotion.branch.head)?)
    }

    fn merge(
        &self,
        open: &OpenRepo,
        promotion: &Promotion,
        merge: &MergeRequest,
    ) -> Result<Merged, ReviewError> {
        let pull = pull_of(open, promotion)?;
        let message = match merge.method {
            MergeMethod::Squash => squash_message(&merge.message, promotion),
            _ => merge.message.clone(),
        };
        let commit = self.merge_pull(pull, promotion.branch.head, merge.method, &message)?;
        tracing::info!(id = %promotion.id, %commit, method = ?merge.method, "merged on GitHub");
        Ok(Merged {
            id: promotion.id.clone(),
            commit,
            branch: open.branch.clone(),
            method: merge.method,
            branch_deleted: false,
            break_glass: merge.break_glass,
        })
    }

    /// Always a pull request: GitHub's branch protection is what guards the branch.
    fn propose_rollback(
        &self,
        open: &OpenRepo,
        plan: &RollbackPlan,
        rollback: &RollbackRequest,
    ) -> Result<CreatedRollback, RollbackError> {
        if rollback.direct {
            return Err(RollbackError::DirectOnGitHub {
                repo: open.name().to_string(),
            });
        }
        open.create_rollback_on_github(self, plan, rollback.reason)
    }

    fn read_ahead(&self) -> Result<(), WorkspaceError> {
        Ok(self.read_reviews_ahead()?)
    }

    fn github(&self) -> Option<&GitHubSide> {
        Some(self)
    }
}

/// The pull request a GitHub promotion is (every promotion this forge lists has one).
fn pull_of<'a>(
    open: &OpenRepo,
    promotion: &'a Promotion,
) -> Result<&'a PullRequest, WorkspaceError> {
    promotion
        .pull
        .as_ref()
        .ok_or_else(|| WorkspaceError::UnknownPromotion {
            repo: open.name().to_string(),
            branch: promotion.branch.branch.clone(),
        })
}
