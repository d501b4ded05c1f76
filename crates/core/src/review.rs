//! Approving promotions in a plain git repository: the verdict read from git (policy at
//! the base, approvals in notes, what renders at the head now), and the approve and
//! unapprove actions, each refused with the verdict's reasons when not allowed.

use std::collections::BTreeMap;

use gix::ObjectId;

use crate::approvals::{Approval, rendered_digest};
use crate::forge::github::block_on;
use crate::forge::github::pulls::approvals_from;
use crate::git::write::{RefSwap, Signature};
use crate::identity::Identity;
use crate::policy::{MergeMethod, POLICY_PATH, Policy, PolicyError};
use crate::render::render;
use crate::rollback::{ENVIRONMENT, REVERTS, ROLLBACK_TO};
use crate::signing::{APPROVAL_NAMESPACE, COMMIT_NAMESPACE, SignatureReport};
use crate::verdict::{ApprovalStatus, Case, CheckedApproval, Verdict, decide};
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
    fn digests_at(
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
            let status =
                self.render_status(name, (&old_envs, old_tree), (&new_envs, new_tree), &[], 0)?;
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
        let mut approvals = Vec::new();
        match (&self.github, &promotion.pull) {
            (Some(github), Some(pull)) => {
                // On GitHub the approvals are reviews, and the pull request's author is an
                // author too (known by login).
                approvals = approvals_from(&github.reviews(pull.number)?)
                    .into_iter()
                    .map(|approval| CheckedApproval {
                        approval,
                        signature: SignatureReport::forge(),
                    })
                    .collect();
                authors.push(Identity::github(&pull.author).email);
                authors.sort();
                authors.dedup();
            }
            _ => {
                for commit in &commits {
                    approvals.extend(self.repo.approvals_on(commit.id)?.into_iter().map(
                        |approval| CheckedApproval {
                            signature: trust.check_approval(&approval),
                            approval,
                        },
                    ));
                }
            }
        }
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
            approvals,
            require_signatures: trust.required && self.github.is_none(),
            signing_problem: self.acting(me, &trust, APPROVAL_NAMESPACE).problem,
            digests: renders.digests,
            render_problems: renders.problems,
            unrendered,
            merge: Some(merge),
            branch: &self.branch,
            me,
            now,
        });
        if promotion.pull.as_ref().is_some_and(|p| p.draft) {
            let reason =
                "it is a draft pull request; mark it ready for review on GitHub".to_string();
            verdict.can_merge = false;
            verdict.merge_refusals.push(reason.clone());
            verdict.reasons.push(reason);
        }
        Ok(verdict)
    }

    /// Who is acting here: on GitHub the token's account, elsewhere the identity
    /// configured (`TOLLGATE_IDENTITY`, the config, git's user).
    pub fn identity(&self, configured: Option<&str>) -> Result<Identity, WorkspaceError> {
        match &self.github {
            Some(github) => Ok(github.viewer()?),
            None => Ok(Identity::resolve(configured)?),
        }
    }

    /// Who acts: on GitHub the token's account (reviews and merges are its), elsewhere `me`.
    pub fn actor(&self, me: &Identity) -> Result<Identity, WorkspaceError> {
        match &self.github {
            Some(github) => Ok(github.viewer()?),
            None => Ok(me.clone()),
        }
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
        if let (Some(github), Some(pull)) = (&self.github, &promotion.pull) {
            let head = promotion.branch.head.to_string();
            block_on(github.repo.approve(pull.number, &head, comment.as_deref()))?;
            return Ok(self.verdict(promotion, me, now)?);
        }
        let approval = Approval {
            by: me.clone(),
            at: now.as_second(),
            head: promotion.branch.head.to_string(),
            base: promotion.branch.base.to_string(),
            comment,
            digests: self.digests_at(promotion.branch.head, &promotion.environments)?,
            branch: Some(self.branch.clone()),
            promotion: Some(promotion.branch.branch.clone()),
            acknowledged_unrendered: acknowledged,
            signed: None,
        };
        let approval = self.sign_approval(approval, me, promotion.branch.base)?;
        self.repo.record_approval(approval, &signature(me, now))?;
        Ok(self.verdict(promotion, me, now)?)
    }

    /// Sign `approval` as `me` with the key the allowed signers at `base` list for them;
    /// refused, before anything is written, when they cannot sign as themselves there.
    fn sign_approval(
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
        if let (Some(github), Some(pull)) = (&self.github, &promotion.pull) {
            return Ok(github.withdraw_approval(pull, promotion.branch.head)?);
        }
        Ok(self
            .repo
            .remove_approval(promotion.branch.head, me, &signature(me, now))?)
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
        if let (Some(github), Some(pull)) = (&self.github, &promotion.pull) {
            let message = match method {
                MergeMethod::Squash => squash_message(&message, promotion),
                _ => message,
            };
            let commit = github.merge(pull, branch.head, method, &message)?;
            tracing::info!(id = %promotion.id, %commit, ?method, "merged on GitHub");
            return Ok(Merged {
                id: promotion.id.clone(),
                commit,
                branch: self.branch.clone(),
                method,
                branch_deleted: false,
                break_glass: break_glass.is_some(),
            });
        }
        let sig = signature(me, now);
        if method == MergeMethod::FastForward && trust.required {
            return Err(refuse(vec![format!(
                "this repository requires signed merges, and a fast-forward writes no commit to sign; set merge_method: merge (or squash) for {} in the policy",
                promotion.environments.join(", ")
            )]));
        }
        let key = acting.key.as_ref();
        let behind = branch.merge_base != Some(branch.base);
        let head_tree = if behind {
            // The protected branch moved on since the promotion branched: merge the
            // promotion's change onto it, three ways, or say where they collide.
            if method == MergeMethod::FastForward {
                return Err(refuse(vec![format!(
                    "{} has moved on since the promotion branched, so it cannot fast-forward; rebase {} onto {}",
                    self.branch, branch.branch, self.branch
                )]));
            }
            let ancestor = match branch.merge_base {
                Some(base) => self.repo.tree_of(base)?,
                None => gix::ObjectId::empty_tree(gix::hash::Kind::Sha1),
            };
            let ours = self.repo.tree_of(branch.base)?;
            let theirs = self.repo.tree_of(branch.head)?;
            self.repo.merge_trees(ancestor, ours, theirs)?.map_err(|paths| {
                refuse(vec![format!(
                    "{} changed the same lines since the promotion branched, in {}; rebase {} and resolve them",
                    self.branch,
                    paths.join(", "),
                    branch.branch
                )])
            })?
        } else {
            self.repo.tree_of(branch.head)?
        };
        let commit = match method {
            MergeMethod::Merge => self.repo.write_signed_commit(
                head_tree,
                &[branch.base, branch.head],
                &sig,
                &sig,
                &message,
                key,
            )?,
            MergeMethod::Squash => {
                let head = &branch.info;
                let author = Signature {
                    name: head.author.name.clone(),
                    email: head.author.email.clone(),
                    time: head.author.time,
                };
                let squashed = squash_message(&message, promotion);
                self.repo.write_signed_commit(
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
            name: format!("refs/heads/{}", self.branch),
            expected: Some(branch.base),
            new: Some(commit),
        }];
        if method == MergeMethod::FastForward {
            // No merge commit to carry the trailers: record them beside the commits.
            let brought_in: Vec<ObjectId> = self
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
                self.repo
                    .prepare_merge_record(&brought_in, &trailers, &sig)?,
            );
        }
        let delete = self.config.delete_merged;
        // The head that was judged must still be the promotion's head, deleted or not.
        swaps.push(RefSwap {
            name: format!("refs/heads/{}", branch.branch),
            expected: Some(branch.head),
            new: if delete { None } else { Some(branch.head) },
        });
        self.repo
            .swap_refs(&swaps, &format!("tollgate: merge {}", promotion.id), &sig)?;
        tracing::info!(id = %promotion.id, %commit, ?method, "merged");
        Ok(Merged {
            id: promotion.id.clone(),
            commit: commit.to_string(),
            branch: self.branch.clone(),
            method,
            branch_deleted: delete,
            break_glass: break_glass.is_some(),
        })
    }
}

/// A squash commit's message: the promotion's title, then the same trailers.
fn squash_message(message: &str, promotion: &Promotion) -> String {
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
