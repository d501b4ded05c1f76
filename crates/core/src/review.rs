//! Approving and merging promotions, wherever they live: the verdict (policy at the base,
//! the approvals the repository's forge records, what renders at the head now), and the
//! approve, unapprove and merge actions, each refused with the verdict's reasons when not
//! allowed and then written by the forge (`crate::forge`).

use std::collections::BTreeMap;

use gix::ObjectId;

use crate::approvals::{Approval, rendered_digest};
use crate::forge::{ApprovalRequest, MergeRequest};
use crate::git::write::Signature;
use crate::identity::Identity;
use crate::policy::{MergeMethod, POLICY_PATH, Policy, PolicyError};
use crate::render::render;
use crate::rollback::{ENVIRONMENT, REVERTS, ROLLBACK_TO};
use crate::signing::{APPROVAL_NAMESPACE, COMMIT_NAMESPACE};
use crate::verdict::{ApprovalStatus, Case, Verdict, decide};
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
    #[error(
        "{id} moved since it was reviewed: its head is {head}, not the {expected} you named; nothing was written. Review the new head (`tollgate show {id}`) and act on it"
    )]
    Moved {
        id: String,
        expected: String,
        head: String,
    },
}

/// Refuse to act on `promotion` unless its head is still `expected` (when one is given):
/// what is approved or merged is what was reviewed, not what was pushed since.
fn still_at(promotion: &Promotion, expected: Option<ObjectId>) -> Result<(), ReviewError> {
    match expected {
        Some(expected) if expected != promotion.branch.head => Err(ReviewError::Moved {
            id: promotion.id.clone(),
            expected: crate::text::short(&expected.to_string()).to_string(),
            head: crate::text::short(&promotion.branch.head.to_string()).to_string(),
        }),
        _ => Ok(()),
    }
}

impl From<crate::git::GitError> for ReviewError {
    fn from(e: crate::git::GitError) -> Self {
        ReviewError::Workspace(e.into())
    }
}

impl From<crate::forge::github::GitHubError> for ReviewError {
    fn from(e: crate::forge::github::GitHubError) -> Self {
        ReviewError::Workspace(e.into())
    }
}

/// What each environment renders to at one commit (see [`OpenRepo::renders_at`]).
#[derive(Default)]
struct RendersAt {
    digests: BTreeMap<String, String>,
    problems: BTreeMap<String, String>,
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
    pub(crate) fn digests_at(
        &self,
        head: ObjectId,
        environments: &[String],
    ) -> Result<BTreeMap<String, String>, WorkspaceError> {
        Ok(self.renders_at(head, environments)?.digests)
    }

    /// Each environment rendered at `head`: the digest of a clean render, or what keeps
    /// it from being one (a failed render, documents that cannot be read).
    fn renders_at(
        &self,
        head: ObjectId,
        environments: &[String],
    ) -> Result<RendersAt, WorkspaceError> {
        let tree = self.repo.tree_of(head)?;
        let mut out = RendersAt::default();
        for env in self.environments_at(Some(head))? {
            if !environments.contains(&env.name) {
                continue;
            }
            match render(&self.repo, tree, &env) {
                Err(crate::render::RenderError::Git(e)) => return Err(e.into()),
                Err(e) => {
                    out.problems
                        .insert(env.name.clone(), format!("its render fails: {e}"));
                }
                Ok(mut rendered) => {
                    rendered.parse_all();
                    match rendered.issues.as_slice() {
                        [] => {
                            out.digests
                                .insert(env.name.clone(), rendered_digest(&rendered.objects));
                        }
                        [first, ..] => {
                            out.problems.insert(
                                env.name.clone(),
                                format!(
                                    "{} document(s) cannot be read, first {}:{}: {}",
                                    rendered.issues.len(),
                                    first.file,
                                    first.line,
                                    first.message
                                ),
                            );
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Per environment of `promotion`, why its change is not wholly rendered: the head's
    /// render `problems`, else inputs that changed but that no renderer reads.
    fn unrendered(
        &self,
        promotion: &Promotion,
        problems: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, WorkspaceError> {
        let branch = &promotion.branch;
        let old_tree = self.tree_or_empty(branch.merge_base)?;
        let new_tree = self.repo.tree_of(branch.head)?;
        let (old_envs, new_envs) = (
            self.environments_in(old_tree)?,
            self.environments_in(new_tree)?,
        );
        let mut out = problems.clone();
        for name in &promotion.environments {
            if out.contains_key(name) {
                continue;
            }
            let status = self.render_status(
                name,
                (&old_envs, old_tree),
                (&new_envs, new_tree),
                &[],
                0,
                [&[], &[]],
            )?;
            if !status.is_ok()
                && let Some(reason) = status.reason
            {
                out.insert(name.clone(), reason);
            }
        }
        Ok(out)
    }

    /// The verdict on `promotion` for `me` at `now`.
    pub fn verdict(
        &self,
        promotion: &Promotion,
        me: &Identity,
        now: jiff::Timestamp,
    ) -> Result<Verdict, WorkspaceError> {
        let me = &self.actor(me)?;
        let branch = &promotion.branch;
        let policy = self.policy_at(branch.base)?;
        let trust = self.trust_at(branch.base, policy.as_ref().ok())?;
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
        let forge = self.forge.approvals(self, promotion, &commits, &trust)?;
        authors.extend(forge.authors);
        authors.sort();
        authors.dedup();
        let base_tree = match branch.merge_base {
            Some(b) => self.repo.tree_of(b)?,
            None => ObjectId::empty_tree(gix::hash::Kind::Sha1),
        };
        let touches_policy = self.repo.entry_at(base_tree, ".tollgate")?
            != self
                .repo
                .entry_at(self.repo.tree_of(branch.head)?, ".tollgate")?;
        let renders = self.renders_at(branch.head, &promotion.environments)?;
        let unrendered = self.unrendered(promotion, &renders.problems)?;
        let merge = self.merge_outlook(promotion)?;
        // Only a promotion that is one rollback commit can claim to be a rollback.
        let rollback = match commits.as_slice() {
            [only] => self.check_rollback(only)?,
            _ => None,
        };
        let mut verdict = decide(&Case {
            id: promotion.id.clone(),
            policy: policy.as_ref(),
            head: branch.head.to_string(),
            base: branch.base.to_string(),
            authors,
            environments: promotion.environments.clone(),
            touches_policy,
            rollback,
            approvals: forge.approvals,
            require_signatures: trust.required && self.forge.signs(),
            signing_problem: self.acting(me, &trust, APPROVAL_NAMESPACE).problem,
            digests: renders.digests,
            render_problems: renders.problems,
            unrendered,
            merge: Some(merge),
            branch: &self.branch,
            me,
            now,
        });
        for reason in self.forge.merge_refusals(promotion) {
            verdict.can_merge = false;
            verdict.merge_refusals.push(reason.clone());
            verdict.reasons.push(reason);
        }
        Ok(verdict)
    }

    /// Who is acting here: on GitHub the token's account, elsewhere the identity
    /// configured (`TOLLGATE_IDENTITY`, the config, git's user).
    pub fn identity(&self, configured: Option<&str>) -> Result<Identity, WorkspaceError> {
        match self.forge.account()? {
            Some(account) => Ok(account),
            None => Ok(Identity::resolve(configured)?),
        }
    }

    /// Who acts: on GitHub the token's account (reviews and merges are its), elsewhere `me`.
    pub fn actor(&self, me: &Identity) -> Result<Identity, WorkspaceError> {
        Ok(self.forge.account()?.unwrap_or_else(|| me.clone()))
    }

    /// Approve the promotion's current head as `me`, pinning what renders now.
    /// `acknowledge_unrendered`: the approver says they reviewed what is not rendered
    /// another way; without it such a promotion is refused, and with it the approval
    /// records which environments that was.
    pub fn approve(
        &self,
        promotion: &Promotion,
        expected_head: Option<ObjectId>,
        me: &Identity,
        comment: Option<String>,
        acknowledge_unrendered: bool,
        now: jiff::Timestamp,
    ) -> Result<Verdict, ReviewError> {
        still_at(promotion, expected_head)?;
        let me = &self.actor(me)?;
        let verdict = self.verdict(promotion, me, now)?;
        let allowed = match acknowledge_unrendered {
            true => verdict.can_approve_acknowledging(),
            false => verdict.can_approve,
        };
        if !allowed {
            return Err(ReviewError::Refused {
                action: "approve",
                reasons: verdict.approve_refusals,
            });
        }
        let acknowledged = match acknowledge_unrendered {
            true => verdict.unrendered_environments.clone(),
            false => Vec::new(),
        };
        let request = ApprovalRequest {
            me,
            comment: comment.as_deref(),
            acknowledged_unrendered: acknowledged,
            now,
        };
        self.forge.approve(self, promotion, &request)?;
        Ok(self.verdict(promotion, me, now)?)
    }

    /// Sign `approval` as `me` with the key the allowed signers at `base` list for them;
    /// refused, before anything is written, when they cannot sign as themselves there.
    pub(crate) fn sign_approval(
        &self,
        approval: Approval,
        me: &Identity,
        base: ObjectId,
    ) -> Result<Approval, ReviewError> {
        let policy = self.policy_at(base)?;
        let trust = self.trust_at(base, policy.as_ref().ok())?;
        let acting = self.acting(me, &trust, APPROVAL_NAMESPACE);
        if let Some(problem) = acting.problem {
            return Err(ReviewError::Refused {
                action: "approve",
                reasons: vec![problem],
            });
        }
        match acting.key {
            Some(key) => approval.sign(&key).map_err(|e| ReviewError::Refused {
                action: "approve",
                reasons: vec![e.to_string()],
            }),
            None => Ok(approval),
        }
    }

    /// Withdraw `me`'s approval of the promotion's head.
    pub fn unapprove(
        &self,
        promotion: &Promotion,
        me: &Identity,
        now: jiff::Timestamp,
    ) -> Result<bool, ReviewError> {
        self.forge.unapprove(self, promotion, me, now)
    }
}

/// What a merge wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Merged {
    pub id: String,
    /// The protected branch's new tip.
    pub commit: String,
    pub branch: String,
    pub method: MergeMethod,
    pub branch_deleted: bool,
    pub break_glass: bool,
}

impl OpenRepo {
    /// Merge the promotion into the protected branch as `me`: only when the verdict
    /// allows it (or, in a freeze, with a break-glass reason from someone the policy lists),
    /// pinned to the head that was judged and the base that was checked. If either moved,
    /// nothing is written.
    pub fn merge(
        &self,
        promotion: &Promotion,
        expected_head: Option<ObjectId>,
        me: &Identity,
        break_glass: Option<&str>,
        now: jiff::Timestamp,
    ) -> Result<Merged, ReviewError> {
        still_at(promotion, expected_head)?;
        let refuse = |reasons: Vec<String>| ReviewError::Refused {
            action: "merge",
            reasons,
        };
        let me = &self.actor(me)?;
        let branch = &promotion.branch;
        let policy = self
            .policy_at(branch.base)?
            .map_err(|e| refuse(vec![e.to_string()]))?;
        let verdict = self.verdict(promotion, me, now)?;
        let trust = self.trust_at(branch.base, Some(&policy))?;
        let acting = self.acting(me, &trust, COMMIT_NAMESPACE);
        if let Some(problem) = acting.problem {
            return Err(refuse(vec![problem]));
        }
        if break_glass.is_some() && !policy.may_break_glass(me) {
            return Err(refuse(vec![format!(
                "you ({}) are not listed under break_glass in the policy",
                me.email
            )]));
        }
        let blocking: Vec<String> = verdict
            .merge_refusals
            .iter()
            .filter(|r| {
                break_glass.is_none()
                    || !(verdict.freezes.contains(r) || verdict.render_problems.contains(r))
            })
            .cloned()
            .collect();
        if !blocking.is_empty() || promotion.environments.is_empty() {
            return Err(refuse(if blocking.is_empty() {
                vec!["it changes no environment".into()]
            } else {
                blocking
            }));
        }
        let methods: Vec<MergeMethod> = promotion
            .environments
            .iter()
            .map(|e| policy.rules(e).merge_method)
            .collect();
        let method = match methods.first() {
            Some(first) if methods.iter().all(|m| m == first) => *first,
            _ => MergeMethod::Merge,
        };
        let mut message = format!(
            "Merge promotion {}\n\n{}\n\nPromotion: {}\n",
            promotion.id, promotion.title, promotion.id
        );
        for approval in verdict
            .approvals
            .iter()
            .filter(|a| a.status == ApprovalStatus::Valid)
        {
            message.push_str(&format!("Approved-by: {}\n", approval.by));
        }
        // A rollback keeps saying what it undoes after a squash, so that audit can check it.
        if let Ok([only]) = self
            .repo
            .commits_between(branch.base, branch.head)
            .as_deref()
        {
            let reason = if break_glass.is_none() { "Reason" } else { "" };
            for key in [REVERTS, ROLLBACK_TO, ENVIRONMENT, reason] {
                for value in only.trailer_values(key) {
                    message.push_str(&format!("{key}: {value}\n"));
                }
            }
        }
        // Where to find the approvals a squash answers to (a merge has the head as its
        // second parent). A pointer only: audit recomputes the merge from it.
        message.push_str(&format!("Promotion-head: {}\n", branch.head));
        message.push_str(&format!("Merged-by: {me}\n"));
        if let Some(reason) = break_glass {
            message.push_str(&format!(
                "Break-glass: {me}\nReason: {}\n",
                reason.replace('\n', " ")
            ));
        }
        self.forge.merge(
            self,
            promotion,
            &MergeRequest {
                me,
                method,
                message,
                break_glass: break_glass.is_some(),
                key: acting.key.as_ref(),
                signatures_required: trust.required,
                now,
            },
        )
    }
}

/// A squash commit's message: the promotion's title, then the same trailers.
pub(crate) fn squash_message(message: &str, promotion: &Promotion) -> String {
    message.replacen(
        &format!("Merge promotion {}\n\n{}", promotion.id, promotion.title),
        &promotion.title,
        1,
    )
}

impl OpenRepo {
    /// Record `me`'s review, after the fact, of a break-glass commit already on the
    /// protected branch: an approval pinned to that commit and what it renders. Refused
    /// for commits that are not break-glass, for their author, and for people who may not
    /// approve the environments it changed. Returns the environments reviewed.
    pub fn review_break_glass(
        &self,
        commit: ObjectId,
        me: &Identity,
        comment: Option<String>,
        now: jiff::Timestamp,
    ) -> Result<Vec<String>, ReviewError> {
        let refuse = |reason: String| ReviewError::Refused {
            action: "review",
            reasons: vec![reason],
        };
        let info = self.repo.commit_info(commit)?;
        let tip = self.tip()?;
        if self.repo.merge_base(commit, tip)? != Some(commit) {
            return Err(refuse(format!(
                "{} is not on {}; approve promotions by their id (REPO:BRANCH)",
                info.sha, self.branch
            )));
        }
        if info.trailer_values("Break-glass").next().is_none() {
            return Err(refuse(format!(
                "{} is not a break-glass commit; only those are reviewed after the fact",
                crate::text::short(&info.sha)
            )));
        }
        if made_break_glass(&info, &me.email) {
            return Err(refuse(format!(
                "you ({}) made this break-glass change; someone else must review it",
                me.email
            )));
        }
        let parent = info.parents.first().copied();
        let environments = self.environments_touched(parent, commit)?;
        let policy = match parent {
            Some(p) => self.policy_at(p)?,
            None => Ok(crate::policy::Policy::absent()),
        }
        .map_err(|e| refuse(e.to_string()))?;
        if !environments.iter().any(|e| policy.rules(e).may_approve(me)) {
            return Err(refuse(format!(
                "you ({}) are not an approver for {}",
                me.email,
                environments.join(", ")
            )));
        }
        let approval = Approval {
            by: me.clone(),
            at: now.as_second(),
            head: info.sha.clone(),
            base: parent.map(|p| p.to_string()).unwrap_or_default(),
            comment,
            digests: self.digests_at(commit, &environments)?,
            branch: Some(self.branch.clone()),
            promotion: None,
            acknowledged_unrendered: Vec::new(),
            signed: None,
        };
        // Reviewed against the keys the branch trusts now: the change is already on it.
        let approval = self.sign_approval(approval, me, tip)?;
        self.repo.record_approval(approval, &signature(me, now))?;
        Ok(environments)
    }

    /// Who has reviewed the break-glass `commit` after the fact, as far as `environment`'s
    /// rules at its parent accept them (never its own author).
    pub fn reviews_of(
        &self,
        commit: &crate::git::CommitInfo,
        environment: &str,
    ) -> Result<Vec<String>, WorkspaceError> {
        let rules = match commit.parents.first() {
            Some(p) => self.policy_at(*p)?.map(|p| p.rules(environment)).ok(),
            None => Some(crate::policy::Rules::default_rules()),
        };
        let Some(rules) = rules else {
            return Ok(Vec::new());
        };
        // Reviews are signed against the keys the branch trusted when they were given,
        // which is at or after the commit; the commit's own file is the earliest of those.
        let policy = self.policy_at(commit.id)?;
        let trust = self.trust_at(commit.id, policy.as_ref().ok())?;
        Ok(self
            .repo
            .approvals_on(commit.id)?
            .into_iter()
            .filter(|a| a.head == commit.sha)
            .filter(|a| !trust.required || trust.check_approval(a).is_verified())
            .filter(|a| !made_break_glass(commit, &a.by.email))
            .filter(|a| rules.may_approve(&a.by))
            .map(|a| a.by.to_string())
            .collect())
    }
}

/// Whether `email` wrote the break-glass commit or invoked its break-glass: they cannot
/// review it themselves.
fn made_break_glass(commit: &crate::git::CommitInfo, email: &str) -> bool {
    commit.author.email.eq_ignore_ascii_case(email)
        || commit
            .trailer_values("Break-glass")
            .filter_map(|v| Identity::parse(v, "Break-glass").ok())
            .any(|who| who.email.eq_ignore_ascii_case(email))
}

/// `me` as git's committer at `now`.
pub(crate) fn signature(me: &Identity, now: jiff::Timestamp) -> Signature {
    Signature {
        name: me.name.clone(),
        email: me.email.clone(),
        time: now.as_second(),
    }
}
