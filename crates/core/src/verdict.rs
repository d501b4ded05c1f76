//! The verdict on a promotion: which approvals count, what each environment still needs,
//! and whether a given person may approve or merge it, with every reason in plain words.
//! Pure: it takes what was read from git and the clock, and decides.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::approvals::Approval;
use crate::identity::Identity;
use crate::outlook::{MergeOutlook, MergeState};
use crate::policy::{Policy, PolicyError, Rules};
use crate::rollback::RollbackCheck;
use crate::signing::{SignatureReport, SignatureState};
use crate::text::short;

pub use crate::policy::POLICY_ENVIRONMENT;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalStatus {
    Valid,
    /// Given for an older head, or for a render that has changed since.
    Stale,
    NotAuthorised,
    /// By an author of the promotion, where the policy does not allow it.
    SelfApproval,
    /// Its signature does not verify for whom it claims (forged), or it is unsigned where
    /// the repository requires signatures.
    NotVerified,
}

/// An approval as read, with what its signature check found.
#[derive(Debug, Clone)]
pub struct CheckedApproval {
    pub approval: Approval,
    pub signature: SignatureReport,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApprovalVerdict {
    pub by: String,
    pub at: i64,
    pub head: String,
    pub status: ApprovalStatus,
    pub why: String,
    pub signature: SignatureReport,
    /// What the approver wrote with it (`approve --comment`, a GitHub review's body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvironmentVerdict {
    pub name: String,
    pub required: u32,
    pub valid: u32,
    pub missing: u32,
    pub rules_failed: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub id: String,
    pub head: String,
    pub base: String,
    pub approvals: Vec<ApprovalVerdict>,
    pub environments: Vec<EnvironmentVerdict>,
    pub can_approve: bool,
    pub can_merge: bool,
    pub reasons: Vec<String>,
    /// The reasons that keep this person from approving (a subset of `reasons`).
    #[serde(skip)]
    pub approve_refusals: Vec<String>,
    /// The reasons that keep this person from merging (a subset of `reasons`).
    #[serde(skip)]
    pub merge_refusals: Vec<String>,
    /// The freezes in force, each also a merge refusal; break-glass lifts them.
    #[serde(skip)]
    pub freezes: Vec<String>,
    /// Environments that do not render cleanly at the head, each also a merge refusal;
    /// break-glass lifts them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub render_problems: Vec<String>,
    /// Environments whose change is not (wholly) rendered, each also an approve refusal
    /// that acknowledging it (`approve --acknowledge-unrendered`) lifts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unrendered: Vec<String>,
    /// The environments those are about, for the approval to record.
    #[serde(skip)]
    pub unrendered_environments: Vec<String>,
    /// What merging it now would do to the protected branch's tip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge: Option<MergeOutlook>,
}

impl Verdict {
    /// Whether `me` may approve once they acknowledge what was not rendered.
    pub fn can_approve_acknowledging(&self) -> bool {
        self.can_approve
            || (!self.unrendered.is_empty()
                && self
                    .approve_refusals
                    .iter()
                    .all(|r| self.unrendered.contains(r)))
    }
}

/// Everything the verdict is decided from.
pub struct Case<'a> {
    pub id: String,
    /// The policy at the base (never the head), or why it cannot be read.
    pub policy: Result<&'a Policy, &'a PolicyError>,
    pub head: String,
    pub base: String,
    /// Lower-cased emails of the authors of every commit in the promotion.
    pub authors: Vec<String>,
    /// Environments the promotion changes.
    pub environments: Vec<String>,
    /// Whether it changes `.tollgate/` itself.
    pub touches_policy: bool,
    /// What its rollback trailers claim (a one-commit promotion only), and whether git
    /// bears it out; a verified rollback needs only `rollback_approvals`.
    pub rollback: Option<RollbackCheck>,
    /// Approvals on any commit of the promotion (older heads included, to show as stale),
    /// each with its signature checked against the allowed signers at the base.
    pub approvals: Vec<CheckedApproval>,
    /// Whether only signed approvals count (see `Policy::require_signatures`).
    pub require_signatures: bool,
    /// Why `me` cannot sign as themselves here (no key, or a key not listed for their
    /// email); it keeps them from approving and merging where signatures are required.
    pub signing_problem: Option<String>,
    /// Per environment, the digest of what renders at the head now.
    pub digests: BTreeMap<String, String>,
    /// Per environment, why it does not render cleanly at the head (a failed render,
    /// documents that cannot be read): what would be merged cannot be what is deployed.
    pub render_problems: BTreeMap<String, String>,
    /// Per environment, why the reviewer cannot see its whole change rendered (the above,
    /// or inputs no renderer reads): approving it needs an acknowledgement.
    pub unrendered: BTreeMap<String, String>,
    /// What merging it now would do to `branch`'s tip (`None`: not known).
    pub merge: Option<MergeOutlook>,
    /// The protected branch, for the reasons' words.
    pub branch: &'a str,
    pub me: &'a Identity,
    pub now: jiff::Timestamp,
}

fn is_author(case: &Case<'_>, who: &Identity) -> bool {
    case.authors
        .iter()
        .any(|a| a.eq_ignore_ascii_case(&who.email))
}

/// Who may still give one of the approvals an environment lacks: its listed approvers
/// who have not approved the head, and not its authors (unless the policy lets them).
fn who_may_still_approve(case: &Case<'_>, rules: &Rules, counted: &[String]) -> String {
    if rules.approvers.is_empty() {
        return "anyone who is not an author of it".to_string();
    }
    let left: Vec<&str> = rules
        .approvers
        .iter()
        .filter(|a| !counted.contains(a))
        .filter(|a| {
            rules.allow_self_approval || !case.authors.iter().any(|x| x.eq_ignore_ascii_case(a))
        })
        .map(String::as_str)
        .collect();
    match left.as_slice() {
        [] => "nobody: every listed approver has approved or wrote part of it".to_string(),
        _ => left.join(", "),
    }
}

/// Why an approval's signature keeps it from counting, if it does.
fn unverified_because(case: &Case<'_>, checked: &CheckedApproval) -> Option<String> {
    match checked.signature.state {
        SignatureState::Verified | SignatureState::Forge => None,
        SignatureState::NotVerified => Some(checked.signature.describe()),
        SignatureState::Unsigned if case.require_signatures => {
            Some("unsigned, and this repository counts only signed approvals".to_string())
        }
        SignatureState::Unsigned => None,
    }
}

/// Whether `approval` counts for an environment with `rules`, and if not, why.
fn counts_for(case: &Case<'_>, approval: &Approval, rules: &Rules) -> Result<(), ApprovalStatus> {
    if !rules.may_approve(&approval.by) {
        return Err(ApprovalStatus::NotAuthorised);
    }
    if is_author(case, &approval.by) && !rules.allow_self_approval {
        return Err(ApprovalStatus::SelfApproval);
    }
    Ok(())
}

fn stale_because(case: &Case<'_>, approval: &Approval) -> Option<String> {
    if approval.head != case.head {
        return Some(format!("approved {}, an older head", short(&approval.head)));
    }
    approval.digests.iter().find_map(|(env, digest)| {
        (case.digests.get(env).is_some_and(|now| now != digest))
            .then(|| format!("what {env} renders has changed since it was approved"))
    })
}

pub fn decide(case: &Case<'_>) -> Verdict {
    let policy = match case.policy {
        Ok(policy) => policy,
        Err(error) => {
            return Verdict {
                id: case.id.clone(),
                head: case.head.clone(),
                base: case.base.clone(),
                approvals: Vec::new(),
                environments: Vec::new(),
                can_approve: false,
                can_merge: false,
                reasons: vec![error.to_string()],
                approve_refusals: vec![error.to_string()],
                merge_refusals: vec![error.to_string()],
                freezes: Vec::new(),
                render_problems: Vec::new(),
                unrendered: Vec::new(),
                unrendered_environments: Vec::new(),
                merge: case.merge.clone(),
            };
        }
    };
    let verified_rollback = case.rollback.as_ref().is_some_and(|r| r.verified);
    let mut environments: Vec<(String, Rules)> = case
        .environments
        .iter()
        .map(|e| {
            let mut rules = policy.rules(e);
            if verified_rollback {
                rules.approvals = rules.rollback_approvals;
            }
            (e.clone(), rules)
        })
        .collect();
    let mut reasons = Vec::new();
    match &case.rollback {
        Some(check) if check.verified => reasons.push(format!(
            "it {} (checked against git), so rollback_approvals apply",
            check.claim
        )),
        Some(check) => reasons.push(format!(
            "it says it {} but its change is not exactly that, so the full approval count applies",
            check.claim
        )),
        None => {}
    }
    if case.touches_policy {
        environments.push((POLICY_ENVIRONMENT.to_string(), policy.strictest()));
        reasons.push(format!(
            "it changes {POLICY_ENVIRONMENT}/, so it needs the strictest environment's rules"
        ));
    }

    let approvals: Vec<ApprovalVerdict> = case
        .approvals
        .iter()
        .map(|checked| {
            let a = &checked.approval;
            let (status, why) = match (unverified_because(case, checked), stale_because(case, a)) {
                (Some(why), _) => (ApprovalStatus::NotVerified, why),
                (None, Some(why)) => (ApprovalStatus::Stale, why),
                (None, None) => {
                    let results: Vec<_> = environments
                        .iter()
                        .map(|(_, r)| counts_for(case, a, r))
                        .collect();
                    if results.iter().any(Result::is_ok) {
                        (ApprovalStatus::Valid, "counts".to_string())
                    } else if results.contains(&Err(ApprovalStatus::SelfApproval)) {
                        (
                            ApprovalStatus::SelfApproval,
                            "an author cannot approve their own promotion".to_string(),
                        )
                    } else {
                        (
                            ApprovalStatus::NotAuthorised,
                            format!("{} is not an approver here", a.by.email),
                        )
                    }
                }
            };
            ApprovalVerdict {
                by: a.by.to_string(),
                at: a.at,
                head: a.head.clone(),
                status,
                why,
                signature: checked.signature.clone(),
                comment: a.comment.clone(),
            }
        })
        .collect();

    let mut env_verdicts = Vec::new();
    let mut merge_refusals = Vec::new();
    let mut freezes = Vec::new();
    let mut render_problems = Vec::new();
    for (name, rules) in &environments {
        let counted: Vec<String> = case
            .approvals
            .iter()
            .filter(|checked| {
                unverified_because(case, checked).is_none()
                    && stale_because(case, &checked.approval).is_none()
                    && counts_for(case, &checked.approval, rules).is_ok()
            })
            .map(|checked| checked.approval.by.email.to_lowercase())
            .collect();
        let valid = counted.len() as u32;
        let missing = rules.approvals.saturating_sub(valid);
        let mut failed = Vec::new();
        if missing > 0 {
            failed.push(format!(
                "{name} needs {} approval(s), has {valid}: {missing} more from {}",
                rules.approvals,
                who_may_still_approve(case, rules, &counted)
            ));
        }
        merge_refusals.extend(failed.iter().cloned());
        if let Some(freeze) = rules.frozen_at(case.now) {
            let text = format!(
                "{name} is frozen until {} ({}); merging needs --break-glass",
                freeze.to, freeze.reason
            );
            failed.push(text.clone());
            freezes.push(text);
        }
        if let Some(problem) = case.render_problems.get(name) {
            let text = format!(
                "{name} does not render cleanly at the head: {problem}; fix it, or merge with --break-glass"
            );
            failed.push(text.clone());
            render_problems.push(text);
        }
        env_verdicts.push(EnvironmentVerdict {
            name: name.clone(),
            required: rules.approvals,
            valid,
            missing,
            rules_failed: failed,
        });
    }

    let me = case.me;
    let mut approve_refusals = Vec::new();
    if is_author(case, me) && environments.iter().any(|(_, r)| !r.allow_self_approval) {
        approve_refusals.push(format!(
            "you ({}) wrote part of this promotion and may not approve it",
            me.email
        ));
    }
    if !environments.iter().any(|(_, r)| r.may_approve(me)) {
        approve_refusals.push(format!(
            "you ({}) are not an approver for {}",
            me.email,
            case.environments.join(", ")
        ));
    }
    if let Some(problem) = &case.signing_problem {
        approve_refusals.push(problem.clone());
        merge_refusals.push(problem.clone());
    }
    let unrendered: Vec<String> = case
        .unrendered
        .iter()
        .map(|(name, reason)| {
            format!(
                "{name} is not rendered ({reason}); approving says you reviewed it another way (--acknowledge-unrendered)"
            )
        })
        .collect();
    approve_refusals.extend(unrendered.iter().cloned());
    let can_approve = approve_refusals.is_empty();
    reasons.extend(approve_refusals.iter().cloned());

    for verdict in &env_verdicts {
        reasons.extend(verdict.rules_failed.iter().cloned());
    }
    for (name, rules) in &environments {
        if !rules.may_merge(me) {
            let text = format!("you ({}) may not merge into {name}", me.email);
            reasons.push(text.clone());
            merge_refusals.push(text);
        }
    }
    merge_refusals.extend(freezes.iter().cloned());
    merge_refusals.extend(render_problems.iter().cloned());
    if let Some(outlook) = &case.merge
        && let Some(text) = outlook.explain(case.branch)
    {
        reasons.push(text.clone());
        // Behind is for the reviewer to know; a conflict or nothing to merge stops it.
        if matches!(
            outlook.state,
            MergeState::Conflicts | MergeState::AlreadyMerged
        ) {
            merge_refusals.push(text);
        }
    }
    let can_merge = merge_refusals.is_empty() && !environments.is_empty();
    if environments.is_empty() {
        reasons.push("it changes no environment".to_string());
    }
    Verdict {
        id: case.id.clone(),
        head: case.head.clone(),
        base: case.base.clone(),
        approvals,
        environments: env_verdicts,
        can_approve,
        can_merge,
        reasons,
        approve_refusals,
        merge_refusals,
        freezes,
        render_problems,
        unrendered,
        unrendered_environments: case.unrendered.keys().cloned().collect(),
        merge: case.merge.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = include_str!("../assets/demo/policy.yaml");

    fn person(name: &str) -> Identity {
        Identity {
            name: name.into(),
            email: format!("{}@example.com", name.to_lowercase()),
        }
    }

    fn approval(by: &str, head: &str) -> Approval {
        Approval {
            by: person(by),
            at: 0,
            head: head.into(),
            base: "b".into(),
            comment: None,
            digests: BTreeMap::from([("production".to_string(), "sha256:1".to_string())]),
            branch: None,
            promotion: None,
            acknowledged_unrendered: Vec::new(),
            signed: None,
        }
    }

    struct Fixture {
        policy: Policy,
        me: Identity,
        approvals: Vec<CheckedApproval>,
        authors: Vec<String>,
        head: String,
        digest: String,
        require_signatures: bool,
        render_problems: BTreeMap<String, String>,
    }

    impl Fixture {
        fn production() -> Fixture {
            Fixture {
                policy: Policy::parse(POLICY).expect("valid"),
                me: person("Dana"),
                approvals: Vec::new(),
                authors: vec!["bob@example.com".into()],
                head: "h2".into(),
                digest: "sha256:1".into(),
                require_signatures: false,
                render_problems: BTreeMap::new(),
            }
        }

        fn approved_by(mut self, who: &str, head: &str) -> Fixture {
            self.approvals.push(CheckedApproval {
                approval: approval(who, head),
                signature: SignatureReport::unsigned(),
            });
            self
        }

        fn signed(mut self) -> Fixture {
            self.require_signatures = true;
            for checked in &mut self.approvals {
                let email = checked.approval.by.email.clone();
                checked.signature = SignatureReport {
                    state: SignatureState::Verified,
                    signer: Some(email),
                    key_fingerprint: Some("SHA256:x".into()),
                    why: None,
                };
            }
            self
        }

        fn decide(&self) -> Verdict {
            decide(&self.case())
        }

        fn case(&self) -> Case<'_> {
            Case {
                id: "shop:promote/x".into(),
                policy: Ok(&self.policy),
                head: self.head.clone(),
                base: "b".into(),
                authors: self.authors.clone(),
                environments: vec!["production".into()],
                touches_policy: false,
                rollback: None,
                approvals: self.approvals.clone(),
                require_signatures: self.require_signatures,
                signing_problem: None,
                digests: BTreeMap::from([("production".to_string(), self.digest.clone())]),
                render_problems: self.render_problems.clone(),
                unrendered: self.render_problems.clone(),
                merge: None,
                branch: "main",
                me: &self.me,
                now: "2026-11-26T00:00:00Z".parse().expect("time"),
            }
        }
    }

    #[test]
    fn who_is_still_needed_leaves_out_who_approved_and_the_authors() {
        // The demo's production approvers are Alice, Carol and Dana; Carol approved.
        let mut fixture = Fixture::production().approved_by("Carol", "h2");
        fixture.authors = vec!["dana@example.com".into()];
        let verdict = fixture.decide();
        let reason = verdict
            .reasons
            .iter()
            .find(|r| r.starts_with("production needs 2 approval(s)"))
            .expect("one more approval is needed");
        assert_eq!(
            reason,
            "production needs 2 approval(s), has 1: 1 more from alice@example.com"
        );
    }

    #[test]
    fn a_head_that_does_not_render_cleanly_cannot_be_merged_without_break_glass() {
        let mut fixture = Fixture::production()
            .approved_by("Alice", "h2")
            .approved_by("Carol", "h2");
        fixture.render_problems.insert(
            "production".into(),
            "1 document(s) cannot be read, first app.yaml:3: bad".into(),
        );
        let verdict = fixture.decide();
        assert!(!verdict.can_approve, "approving needs an acknowledgement");
        assert!(
            verdict.can_approve_acknowledging(),
            "{:?}",
            verdict.approve_refusals
        );
        assert!(!verdict.can_merge);
        assert_eq!(verdict.render_problems.len(), 1);
        let refusal = &verdict.render_problems[0];
        assert!(
            refusal.contains("app.yaml:3") && refusal.contains("--break-glass"),
            "{refusal}"
        );
        assert_eq!(
            verdict.merge_refusals, verdict.render_problems,
            "nothing else stops it"
        );
    }

    #[test]
    fn two_authorised_approvals_on_the_head_allow_a_merge() {
        let verdict = Fixture::production()
            .approved_by("Alice", "h2")
            .approved_by("Carol", "h2")
            .decide();
        assert!(verdict.can_merge, "{:?}", verdict.reasons);
        assert_eq!(verdict.environments[0].valid, 2);
    }

    #[test]
    fn signed_approvals_count_where_signatures_are_required() {
        let verdict = Fixture::production()
            .approved_by("Alice", "h2")
            .approved_by("Carol", "h2")
            .signed()
            .decide();
        assert!(verdict.can_merge, "{:?}", verdict.reasons);
    }

    #[test]
    fn a_forged_or_unsigned_approval_never_counts_where_signatures_are_required() {
        let mut fixture = Fixture::production()
            .approved_by("Alice", "h2")
            .approved_by("Carol", "h2")
            .signed();
        fixture.approvals[0].signature = SignatureReport {
            state: SignatureState::NotVerified,
            signer: None,
            key_fingerprint: Some("SHA256:m".into()),
            why: Some("key SHA256:m belongs to mallory@example.com, not alice@example.com".into()),
        };
        fixture.approvals[1].signature = SignatureReport::unsigned();
        let verdict = fixture.decide();
        assert_eq!(verdict.approvals[0].status, ApprovalStatus::NotVerified);
        assert!(
            verdict.approvals[0].why.contains("mallory"),
            "{}",
            verdict.approvals[0].why
        );
        assert_eq!(verdict.approvals[1].status, ApprovalStatus::NotVerified);
        assert_eq!(verdict.environments[0].valid, 0);
        assert!(!verdict.can_merge);
    }

    #[test]
    fn someone_who_cannot_sign_as_themselves_may_neither_approve_nor_merge() {
        let fixture = Fixture::production().signed();
        let mut verdict_case = fixture.decide();
        assert!(verdict_case.can_approve);
        let problem = "your key SHA256:x is not listed for dana@example.com".to_string();
        verdict_case = decide(&Case {
            signing_problem: Some(problem.clone()),
            ..fixture.case()
        });
        assert!(!verdict_case.can_approve && !verdict_case.can_merge);
        assert!(verdict_case.approve_refusals.contains(&problem));
    }

    #[test]
    fn an_approval_of_an_older_head_is_stale() {
        let verdict = Fixture::production()
            .approved_by("Alice", "h1")
            .approved_by("Carol", "h2")
            .decide();
        assert_eq!(verdict.approvals[0].status, ApprovalStatus::Stale);
        assert_eq!(verdict.environments[0].missing, 1);
        assert!(!verdict.can_merge);
    }

    #[test]
    fn an_approval_whose_render_changed_is_stale() {
        let mut fixture = Fixture::production()
            .approved_by("Alice", "h2")
            .approved_by("Carol", "h2");
        fixture.digest = "sha256:2".into();
        let verdict = fixture.decide();
        assert!(
            verdict
                .approvals
                .iter()
                .all(|a| a.status == ApprovalStatus::Stale)
        );
        assert!(!verdict.can_merge);
    }

    #[test]
    fn authors_cannot_approve_their_own_promotion() {
        let mut fixture = Fixture::production().approved_by("Dana", "h2");
        fixture.authors.push("dana@example.com".into());
        let verdict = fixture.decide();
        assert_eq!(verdict.approvals[0].status, ApprovalStatus::SelfApproval);
        assert!(!verdict.can_approve);
        assert!(
            verdict
                .reasons
                .iter()
                .any(|r| r.contains("may not approve")),
            "{:?}",
            verdict.reasons
        );
    }

    #[test]
    fn unauthorised_approvers_and_mergers_are_refused() {
        let mut fixture = Fixture::production().approved_by("Bob", "h2");
        fixture.me = person("Erin");
        fixture.authors = vec!["ci@example.com".into()];
        let verdict = fixture.decide();
        assert_eq!(verdict.approvals[0].status, ApprovalStatus::NotAuthorised);
        assert!(!verdict.can_approve && !verdict.can_merge);
        assert!(
            verdict
                .reasons
                .iter()
                .any(|r| r.contains("may not merge into production"))
        );
    }

    #[test]
    fn an_unreadable_policy_blocks_everything() {
        let fixture = Fixture::production();
        let error = Policy::parse("environments: 3\n").expect_err("invalid");
        let verdict = decide(&Case {
            id: "x".into(),
            policy: Err(&error),
            head: "h".into(),
            base: "b".into(),
            authors: Vec::new(),
            environments: vec!["production".into()],
            touches_policy: false,
            rollback: None,
            approvals: Vec::new(),
            require_signatures: true,
            signing_problem: None,
            digests: BTreeMap::new(),
            render_problems: BTreeMap::new(),
            unrendered: BTreeMap::new(),
            merge: None,
            branch: "main",
            me: &fixture.me,
            now: jiff::Timestamp::UNIX_EPOCH,
        });
        assert!(!verdict.can_approve && !verdict.can_merge);
        assert!(verdict.reasons[0].contains("nothing can be merged"));
    }
}
