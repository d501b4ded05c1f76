//! A plain git repository as its own forge: promotions are branches, approvals are git
//! notes (signed statements where keys are listed), and merges and rollbacks are commits
//! tollgate writes, signs and puts on the protected branch with a compare-and-swap of its
//! refs, so that nothing is written when the branch or the head moved.

use gix::ObjectId;

use super::{ApprovalRequest, Approvals, Forge, MergeRequest, RollbackRequest};
use crate::approvals::Approval;
use crate::git::write::{RefSwap, Signature};
use crate::git::{CommitInfo, Person};
use crate::identity::Identity;
use crate::policy::MergeMethod;
use crate::review::{Merged, ReviewError, signature, squash_message};
use crate::rollback::{CreatedRollback, RollbackError, RollbackPlan};
use crate::trust::Trust;
use crate::verdict::CheckedApproval;
use crate::workspace::{OpenRepo, Promotion, WorkspaceError};

/// The repository's own branches, notes and commits.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalGit;

impl Forge for LocalGit {
    fn promotions(&self, open: &OpenRepo) -> Result<Vec<Promotion>, WorkspaceError> {
        let mut promotions = self.listed(open)?;
        for promotion in &mut promotions {
            let branch = &promotion.branch;
            promotion.environments = open.environments_touched(branch.merge_base, branch.head)?;
        }
        Ok(promotions)
    }

    /// The promotion branches with their commits, without the environments they touch.
    fn listed(&self, open: &OpenRepo) -> Result<Vec<Promotion>, WorkspaceError> {
        let branches = open
            .repo
            .promotion_branches(&open.branch, &open.config.promotions)?;
        Ok(branches
            .into_iter()
            .map(|branch| Promotion {
                id: format!("{}:{}", open.name(), branch.branch),
                repo: open.name().to_string(),
                // Title, author and age are the first commit's: a fix pushed on top does
                // not rename the promotion or make it look new. Its age is since that
                // commit was committed (a rebased or amended commit keeps its author date
                // from long before).
                title: branch.first.subject.clone(),
                author: Person {
                    time: branch.first.committer.time,
                    ..branch.first.author.clone()
                },
                environments: Vec::new(),
                branch,
                pull: None,
            })
            .collect())
    }

    fn promotion(&self, open: &OpenRepo, key: &str) -> Result<Promotion, WorkspaceError> {
        self.promotions(open)?
            .into_iter()
            .find(|p| p.branch.branch == key)
            .ok_or_else(|| WorkspaceError::UnknownPromotion {
                repo: open.name().to_string(),
                branch: key.to_string(),
            })
    }

    fn account(&self) -> Result<Option<Identity>, WorkspaceError> {
        Ok(None)
    }

    fn signs(&self) -> bool {
        true
    }

    fn approvals(
        &self,
        open: &OpenRepo,
        _promotion: &Promotion,
        commits: &[CommitInfo],
        trust: &Trust,
    ) -> Result<Approvals, WorkspaceError> {
        let mut approvals = Vec::new();
        for commit in commits {
            approvals.extend(
                open.repo
                    .approvals_on(commit.id)?
                    .into_iter()
                    .map(|approval| CheckedApproval {
                        signature: trust.check_approval(&approval),
                        approval,
                    }),
            );
        }
        Ok(Approvals {
            approvals,
            authors: Vec::new(),
        })
    }

    fn approve(
        &self,
        open: &OpenRepo,
        promotion: &Promotion,
        request: &ApprovalRequest,
    ) -> Result<(), ReviewError> {
        let me = request.me;
        let approval = Approval {
            by: me.clone(),
            at: request.now.as_second(),
            head: promotion.branch.head.to_string(),
            base: promotion.branch.base.to_string(),
            comment: request.comment.map(str::to_string),
            digests: open.digests_at(promotion.branch.head, &promotion.environments)?,
            branch: Some(open.branch.clone()),
            promotion: Some(promotion.branch.branch.clone()),
            acknowledged_unrendered: request.acknowledged_unrendered.clone(),
            signed: None,
        };
        let approval = open.sign_approval(approval, me, promotion.branch.base)?;
        open.repo
            .record_approval(approval, &signature(me, request.now))?;
        Ok(())
    }

    fn unapprove(
        &self,
        open: &OpenRepo,
        promotion: &Promotion,
        me: &Identity,
        now: jiff::Timestamp,
    ) -> Result<bool, ReviewError> {
        Ok(open
            .repo
            .remove_approval(promotion.branch.head, me, &signature(me, now))?)
    }

    fn merge(
        &self,
        open: &OpenRepo,
        promotion: &Promotion,
        merge: &MergeRequest,
    ) -> Result<Merged, ReviewError> {
        let refuse = |reasons: Vec<String>| ReviewError::Refused {
            action: "merge",
            reasons,
        };
        let (method, message) = (merge.method, &merge.message);
        let branch = &promotion.branch;
        let sig = signature(merge.me, merge.now);
        if method == MergeMethod::FastForward && merge.signatures_required {
            return Err(refuse(vec![format!(
                "this repository requires signed merges, and a fast-forward writes no commit to sign; set merge_method: merge (or squash) for {} in the policy",
                promotion.environments.join(", ")
            )]));
        }
        let key = merge.key;
        let behind = branch.merge_base != Some(branch.base);
        let head_tree = if behind {
            // The protected branch moved on since the promotion branched: merge the
            // promotion's change onto it, three ways, or say where they collide.
            if method == MergeMethod::FastForward {
                return Err(refuse(vec![format!(
                    "{} has moved on since the promotion branched, so it cannot fast-forward; rebase {} onto {}",
                    open.branch, branch.branch, open.branch
                )]));
            }
            let ancestor = match branch.merge_base {
                Some(base) => open.repo.tree_of(base)?,
                None => gix::ObjectId::empty_tree(gix::hash::Kind::Sha1),
            };
            let ours = open.repo.tree_of(branch.base)?;
            let theirs = open.repo.tree_of(branch.head)?;
            open.repo.merge_trees(ancestor, ours, theirs)?.map_err(|paths| {
                refuse(vec![format!(
                    "{} changed the same lines since the promotion branched, in {}; rebase {} and resolve them",
                    open.branch,
                    paths.join(", "),
                    branch.branch
                )])
            })?
        } else {
            open.repo.tree_of(branch.head)?
        };
        let commit = match method {
            MergeMethod::Merge => open.repo.write_signed_commit(
                head_tree,
                &[branch.base, branch.head],
                &sig,
                &sig,
                message,
                key,
            )?,
            MergeMethod::Squash => {
                let head = &branch.info;
                let author = Signature {
                    name: head.author.name.clone(),
                    email: head.author.email.clone(),
                    time: head.author.time,
                };
                let squashed = squash_message(message, promotion);
                open.repo.write_signed_commit(
                    head_tree,
                    &[branch.base],
                    &author,
                    &sig,
                    &squashed,
                    key,
                )?
            }
            MergeMethod::FastForward => branch.head,
        };
        let mut swaps = vec![RefSwap {
            name: format!("refs/heads/{}", open.branch),
            expected: Some(branch.base),
            new: Some(commit),
        }];
        if method == MergeMethod::FastForward {
            // No merge commit to carry the trailers: record them beside the commits.
            let brought_in: Vec<ObjectId> = open
                .repo
                .commits_between(branch.base, branch.head)?
                .iter()
                .map(|c| c.id)
                .collect();
            // The message's last paragraph is its trailers.
            let trailers = message
                .trim_end()
                .rsplit_once("\n\n")
                .map_or("", |(_, trailers)| trailers)
                .to_string()
                + "\n";
            swaps.push(
                open.repo
                    .prepare_merge_record(&brought_in, &trailers, &sig)?,
            );
        }
        let delete = open.config.delete_merged;
        // The head that was judged must still be the promotion's head, deleted or not.
        swaps.push(RefSwap {
            name: format!("refs/heads/{}", branch.branch),
            expected: Some(branch.head),
            new: if delete { None } else { Some(branch.head) },
        });
        open.repo
            .swap_refs(&swaps, &format!("tollgate: merge {}", promotion.id), &sig)?;
        tracing::info!(id = %promotion.id, %commit, ?method, "merged");
        Ok(Merged {
            id: promotion.id.clone(),
            commit: commit.to_string(),
            branch: open.branch.clone(),
            method,
            branch_deleted: delete,
            break_glass: merge.break_glass,
        })
    }

    fn propose_rollback(
        &self,
        open: &OpenRepo,
        plan: &RollbackPlan,
        rollback: &RollbackRequest,
    ) -> Result<CreatedRollback, RollbackError> {
        let RollbackRequest {
            me,
            reason,
            direct,
            now,
        } = *rollback;
        if direct {
            if reason.is_none() {
                return Err(RollbackError::NoReason);
            }
            let policy = open
                .policy_at(plan.base)?
                .map_err(|e| RollbackError::BadPolicy {
                    repo: open.name().to_string(),
                    message: e.to_string(),
                })?;
            if !policy.may_break_glass(me) {
                return Err(RollbackError::NotBreakGlass {
                    repo: open.name().to_string(),
                    who: me.email.clone(),
                });
            }
        }
        let policy = open.policy_at(plan.base)?;
        let trust = open.trust_at(plan.base, policy.as_ref().ok())?;
        let acting = open.acting(me, &trust, crate::signing::COMMIT_NAMESPACE);
        // A direct rollback skips approval, so its signature is what proves who did it.
        // A rollback promotion is reviewed like any other; it is signed when it can be.
        let key = match (direct, acting.problem) {
            (true, Some(problem)) => return Err(RollbackError::CannotSign { problem }),
            (false, Some(_)) => None,
            (_, None) => acting.key,
        };
        let sig = Signature {
            name: me.name.clone(),
            email: me.email.clone(),
            time: now.as_second(),
        };
        let message = plan.message(reason, direct.then_some(me));
        let commit = open.repo.write_signed_commit(
            plan.tree,
            &[plan.base],
            &sig,
            &sig,
            &message,
            key.as_ref(),
        )?;
        let protected = format!("refs/heads/{}", open.branch);
        let log = format!("tollgate: {}", message.lines().next().unwrap_or_default());
        if direct {
            open.repo.swap_refs(
                &[RefSwap {
                    name: protected,
                    expected: Some(plan.base),
                    new: Some(commit),
                }],
                &log,
                &sig,
            )?;
        } else {
            // What the person previewed was computed on this tip; if it moved, the preview
            // no longer says what the promotion does.
            let tip = open.tip()?;
            if tip != plan.base {
                return Err(crate::git::GitError::RefMoved {
                    repo: open.name().to_string(),
                    reference: protected,
                    expected: plan.base.to_string(),
                    actual: tip.to_string(),
                }
                .into());
            }
            let name = format!("refs/heads/{}", plan.branch);
            if open
                .repo
                .inner
                .try_find_reference(name.as_str())
                .ok()
                .flatten()
                .is_some()
            {
                return Err(RollbackError::BranchExists {
                    repo: open.name().to_string(),
                    branch: plan.branch.clone(),
                });
            }
            open.repo.swap_refs(
                &[RefSwap {
                    name,
                    expected: None,
                    new: Some(commit),
                }],
                &log,
                &sig,
            )?;
        }
        tracing::info!(kind = ?plan.kind, %commit, direct, "rollback created");
        Ok(CreatedRollback {
            kind: plan.kind.clone(),
            promotion: (!direct).then(|| format!("{}:{}", open.name(), plan.branch)),
            branch: if direct {
                open.branch.clone()
            } else {
                plan.branch.clone()
            },
            commit: commit.to_string(),
            base: plan.base.to_string(),
            direct,
            environments: plan.environments.clone(),
            shared: plan.shared.clone(),
            kept_shared: plan.kept_shared.clone(),
        })
    }
}
