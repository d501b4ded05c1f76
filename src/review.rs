//! Approving promotions in a plain git repository: the verdict read from git (policy at
//! the base, approvals in notes, what renders at the head now), and the approve and
//! unapprove actions, each refused with the verdict's reasons when not allowed.

use std::collections::BTreeMap;

use gix::ObjectId;

use crate::approvals::{Approval, rendered_digest};
use crate::git::write::Signature;
use crate::identity::Identity;
use crate::policy::{POLICY_PATH, Policy, PolicyError};
use crate::render::render;
use crate::verdict::{Case, Verdict, decide};
use crate::workspace::{OpenRepo, Promotion, WorkspaceError};

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error("{action} refused: {}", reasons.join("; "))]
    Refused {
        action: &'static str,
        reasons: Vec<String>,
    },
}

impl From<crate::git::GitError> for ReviewError {
    fn from(e: crate::git::GitError) -> Self {
        ReviewError::Workspace(e.into())
    }
}

impl OpenRepo {
    /// The policy in force at `commit` (absent file: the documented defaults).
    pub fn policy_at(
        &self,
        commit: ObjectId,
    ) -> Result<Result<Policy, PolicyError>, WorkspaceError> {
        let tree = self.repo.tree_of(commit)?;
        Ok(match self.repo.file_at(tree, POLICY_PATH)? {
            None => Ok(Policy::absent()),
            Some(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Policy::parse(&text),
                Err(_) => Err(PolicyError {
                    line: None,
                    message: "not UTF-8 text".into(),
                }),
            },
        })
    }

    /// What renders at `head` for each environment, as digests.
    fn digests_at(
        &self,
        head: ObjectId,
        environments: &[String],
    ) -> Result<BTreeMap<String, String>, WorkspaceError> {
        let tree = self.repo.tree_of(head)?;
        let mut digests = BTreeMap::new();
        for env in self.environments_at(Some(head))? {
            if environments.contains(&env.name)
                && let Ok(rendered) = render(&self.repo, tree, &env)
                && rendered.issues.is_empty()
            {
                digests.insert(env.name.clone(), rendered_digest(&rendered.objects));
            }
        }
        Ok(digests)
    }

    /// The verdict on `promotion` for `me` at `now`.
    pub fn verdict(
        &self,
        promotion: &Promotion,
        me: &Identity,
        now: jiff::Timestamp,
    ) -> Result<Verdict, WorkspaceError> {
        let branch = &promotion.branch;
        let policy = self.policy_at(branch.base)?;
        let commits = match branch.merge_base {
            Some(base) => self.repo.commits_between(base, branch.head)?,
            None => vec![branch.info.clone()],
        };
        let mut authors: Vec<String> = commits
            .iter()
            .map(|c| c.author.email.to_lowercase())
            .collect();
        authors.sort();
        authors.dedup();
        let mut approvals = Vec::new();
        for commit in &commits {
            approvals.extend(self.repo.approvals_on(commit.id)?);
        }
        let base_tree = match branch.merge_base {
            Some(b) => self.repo.tree_of(b)?,
            None => ObjectId::empty_tree(gix::hash::Kind::Sha1),
        };
        let touches_policy = self.repo.entry_at(base_tree, ".tollgate")?
            != self
                .repo
                .entry_at(self.repo.tree_of(branch.head)?, ".tollgate")?;
        let digests = self.digests_at(branch.head, &promotion.environments)?;
        Ok(decide(&Case {
            id: promotion.id.clone(),
            policy: policy.as_ref(),
            head: branch.head.to_string(),
            base: branch.base.to_string(),
            authors,
            environments: promotion.environments.clone(),
            touches_policy,
            approvals,
            digests,
            me,
            now,
        }))
    }

    /// Approve the promotion's current head as `me`, pinning what renders now.
    pub fn approve(
        &self,
        promotion: &Promotion,
        me: &Identity,
        comment: Option<String>,
        now: jiff::Timestamp,
    ) -> Result<Verdict, ReviewError> {
        let verdict = self.verdict(promotion, me, now)?;
        if !verdict.can_approve {
            return Err(ReviewError::Refused {
                action: "approve",
                reasons: verdict.approve_refusals,
            });
        }
        let approval = Approval {
            by: me.clone(),
            at: now.as_second(),
            head: promotion.branch.head.to_string(),
            base: promotion.branch.base.to_string(),
            comment,
            digests: self.digests_at(promotion.branch.head, &promotion.environments)?,
        };
        self.repo.record_approval(approval, &signature(me, now))?;
        Ok(self.verdict(promotion, me, now)?)
    }

    /// Withdraw `me`'s approval of the promotion's head.
    pub fn unapprove(
        &self,
        promotion: &Promotion,
        me: &Identity,
        now: jiff::Timestamp,
    ) -> Result<bool, ReviewError> {
        Ok(self
            .repo
            .remove_approval(promotion.branch.head, me, &signature(me, now))?)
    }
}

fn signature(me: &Identity, now: jiff::Timestamp) -> Signature {
    Signature {
        name: me.name.clone(),
        email: me.email.clone(),
        time: now.as_second(),
    }
}
