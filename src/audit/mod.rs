//! Audit: walk the protected branch's own line and decide, for every commit that changed
//! an environment, whether it came in as the policy in force at its first parent
//! required. Where that parent lists keys (`.tollgate/allowed_signers`), the decision is
//! taken from signatures, ancestry and a recomputed merge (`signed`); elsewhere from the
//! trailers tollgate wrote, which prove nothing (`legacy`). Break-glass changes are
//! exceptions that need a review after the fact. Everything is read from git alone.

mod legacy;
mod signed;

use std::ops::ControlFlow;

use serde::Serialize;

use std::collections::HashMap;

use gix::ObjectId;

use std::collections::HashSet;

use crate::approvals::{ApprovalNotes, MergeRecords};
use crate::git::CommitInfo;
use crate::history::{
    HistoryMode, HistoryQuery, first_parent_line, touched_on_first_parent_line, walk_history,
};
use crate::policy::{POLICY_PATH, Policy, PolicyError};
use crate::signing::{ALLOWED_SIGNERS_PATH, SignatureReport};
use crate::trust::Trust;
use crate::workspace::{OpenRepo, WorkspaceError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Finding {
    /// Approved and merged as the policy at its first parent required.
    Compliant,
    /// A break-glass merge: allowed, listed separately, needs a review after the fact.
    Exception,
    /// The first commit: no policy was in force before it.
    Initial,
    Violation,
    /// Before the policy's `audited_from`: the repository was not under tollgate yet.
    BeforeTollgate,
    /// Where signatures are required now, a change from before the requirement (the
    /// policy's `signatures_required_from`, or before the file listed keys): its
    /// trailers were not contradicted, but nothing proves them.
    UnsignedBeforeRequirement,
}

impl Finding {
    /// Whether it breaks the policy (and fails `audit verify`).
    pub fn is_violation(self) -> bool {
        self == Finding::Violation
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub commit: String,
    pub date: i64,
    pub environment: String,
    pub author: String,
    pub approvers: Vec<String>,
    pub merged_by: Option<String>,
    /// For an exception: who has reviewed it after the fact (`tollgate approve COMMIT`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reviewed_by: Vec<String>,
    /// The commit's own signature (a merge, a squash, a direct rollback).
    pub signature: SignatureReport,
    pub finding: Finding,
    pub why: String,
}

/// Audit `open`'s protected branch (one environment, or all), newest first, back to
/// `since` (seconds since the epoch) when given.
pub fn audit(
    open: &OpenRepo,
    env: Option<&str>,
    since: Option<i64>,
) -> Result<Vec<AuditRow>, WorkspaceError> {
    audit_newest(open, env, since, None)
}

/// [`audit`] of at most the `limit` newest changes.
pub fn audit_newest(
    open: &OpenRepo,
    env: Option<&str>,
    since: Option<i64>,
    limit: Option<usize>,
) -> Result<Vec<AuditRow>, WorkspaceError> {
    let touched: Vec<(CommitInfo, Vec<String>)> = if limit.is_none() && since.is_none() {
        // The whole line: walked in two halves at once.
        touched_on_first_parent_line(open, env, HistoryMode::Inputs)?
    } else {
        let mut touched = Vec::new();
        let query = HistoryQuery {
            env,
            mode: HistoryMode::Inputs,
            limit,
            index_dir: None,
            first_parent: true,
            with_policy: true,
        };
        walk_history(open, &query, |entry| {
            if since.is_some_and(|s| entry.commit.committer.time < s) {
                return ControlFlow::Break(());
            }
            touched.push((entry.commit, entry.environments));
            ControlFlow::Continue(())
        })?;
        touched
    };
    check_all(open, touched)
}

/// The changes to `env` on the protected branch's first-parent line from `tip` back to,
/// and not including, `after`: what reconcile must check before deploying `tip` where
/// `after` is deployed. Decided by ancestry, never by dates. `None` when `tip` does not
/// descend from `after` along that line (a force-push or a reset).
pub fn audit_range(
    open: &OpenRepo,
    env: &str,
    tip: ObjectId,
    after: ObjectId,
) -> Result<Option<Vec<AuditRow>>, WorkspaceError> {
    let line = first_parent_line(open, tip)?;
    let Some(position) = line.iter().position(|id| *id == after) else {
        return Ok(None);
    };
    let range: HashSet<ObjectId> = line[..position].iter().copied().collect();
    let mut touched = Vec::new();
    let query = HistoryQuery {
        env: Some(env),
        mode: HistoryMode::Inputs,
        limit: None,
        index_dir: None,
        first_parent: true,
        with_policy: true,
    };
    walk_history(open, &query, |entry| {
        if !range.contains(&entry.commit.id) {
            return ControlFlow::Break(());
        }
        touched.push((entry.commit, entry.environments));
        ControlFlow::Continue(())
    })?;
    Ok(Some(check_all(open, touched)?))
}

/// Audits of single commits, with what they share read once: for `show COMMIT` and the
/// history views, which judge the changes they show as `audit verify` does.
pub struct Auditor<'a>(Audit<'a>);

impl<'a> Auditor<'a> {
    pub fn new(open: &'a OpenRepo) -> Result<Auditor<'a>, WorkspaceError> {
        Ok(Auditor(Audit::new(open)?))
    }

    /// The audit of `commit`'s change to `environment`, as a change of the protected
    /// branch (its first parent is what it changed).
    pub fn check(
        &mut self,
        commit: &CommitInfo,
        environment: &str,
    ) -> Result<AuditRow, WorkspaceError> {
        check(&mut self.0, commit, environment)
    }
}

fn check_all(
    open: &OpenRepo,
    touched: Vec<(CommitInfo, Vec<String>)>,
) -> Result<Vec<AuditRow>, WorkspaceError> {
    let mut audit = Audit::new(open)?;
    let mut rows = Vec::new();
    for (commit, environments) in touched {
        for environment in environments {
            rows.push(check(&mut audit, &commit, &environment)?);
        }
    }
    Ok(rows)
}

/// Decide one change to one environment.
fn check(
    audit: &mut Audit<'_>,
    commit: &CommitInfo,
    environment: &str,
) -> Result<AuditRow, WorkspaceError> {
    let Some(parent) = commit.parents.first().copied() else {
        return legacy::check(audit, commit, environment);
    };
    if audit.baselines.before_tollgate.contains(&commit.id) {
        let mut row = legacy::check(audit, commit, environment)?;
        row.finding = Finding::BeforeTollgate;
        row.why = "before audited_from: the repository was not under tollgate yet".into();
        return Ok(row);
    }
    let policy = audit.policy_at(parent)?;
    let trust = audit.trust_at(parent, policy.as_ref().ok())?;
    let before_requirement = audit.baselines.before_signatures.contains(&commit.id);
    if trust.required && !before_requirement {
        return signed::check(audit, commit, environment, parent, &policy, &trust);
    }
    let mut row = legacy::check(audit, commit, environment)?;
    // Where the branch requires signatures now, an unsigned past is not proof of anything.
    if audit.baselines.required_now
        && !row.finding.is_violation()
        && row.finding != Finding::Initial
    {
        row.finding = Finding::UnsignedBeforeRequirement;
        row.why = format!(
            "unsigned (before requirement); its trailers say: {}",
            row.why
        );
    }
    Ok(row)
}

/// What an audit reads once rather than per commit.
struct Audit<'a> {
    open: &'a OpenRepo,
    merges: MergeRecords,
    approvals: ApprovalNotes,
    /// Parsed policies by the blob id of the policy file (`None`: no file).
    policies: HashMap<Option<ObjectId>, Result<Policy, PolicyError>>,
    /// Trust by the blob id of the allowed-signers file and whether the policy beside
    /// it requires signatures.
    trusts: HashMap<(Option<ObjectId>, Option<bool>), Trust>,
    baselines: Baselines,
}

/// Where the branch's policy (at its tip) says auditing and signing began.
#[derive(Default)]
struct Baselines {
    /// Commits strictly before `audited_from`, on the first-parent line.
    before_tollgate: HashSet<ObjectId>,
    /// Commits strictly before `signatures_required_from`.
    before_signatures: HashSet<ObjectId>,
    /// Whether the tip requires signatures.
    required_now: bool,
}

/// The first-parent ancestors of the commit `rev` names (not itself); empty for `None`.
/// A baseline that names no commit of the repository is an error: silently auditing
/// nothing (or everything) would be worse.
fn strictly_before(
    open: &OpenRepo,
    rev: Option<&str>,
) -> Result<HashSet<ObjectId>, WorkspaceError> {
    let Some(rev) = rev else {
        return Ok(HashSet::new());
    };
    let commit = open.repo.resolve(rev)?;
    Ok(first_parent_line(open, commit)?
        .into_iter()
        .skip(1)
        .collect())
}

impl<'a> Audit<'a> {
    fn new(open: &'a OpenRepo) -> Result<Audit<'a>, WorkspaceError> {
        let mut audit = Audit {
            open,
            merges: open.repo.merge_records()?,
            approvals: open.repo.approval_notes()?,
            policies: HashMap::new(),
            trusts: HashMap::new(),
            baselines: Baselines::default(),
        };
        let tip = open.tip()?;
        let policy = audit.policy_at(tip)?.ok();
        audit.baselines.required_now = audit.trust_at(tip, policy.as_ref())?.required;
        if let Some(policy) = policy {
            audit.baselines.before_tollgate =
                strictly_before(open, policy.audited_from.as_deref())?;
            audit.baselines.before_signatures =
                strictly_before(open, policy.signatures_required_from.as_deref())?;
        }
        Ok(audit)
    }

    /// The trust in force at `commit`, read once per version of the file.
    fn trust_at(
        &mut self,
        commit: ObjectId,
        policy: Option<&Policy>,
    ) -> Result<Trust, WorkspaceError> {
        let repo = &self.open.repo;
        let blob = repo.entry_at(repo.tree_of(commit)?, ALLOWED_SIGNERS_PATH)?;
        let key = (blob, policy.and_then(|p| p.require_signatures));
        if let Some(trust) = self.trusts.get(&key) {
            return Ok(trust.clone());
        }
        let trust = self.open.trust_at(commit, policy)?;
        self.trusts.insert(key, trust.clone());
        Ok(trust)
    }

    /// The policy in force at `commit`, parsed once per version of the file.
    fn policy_at(
        &mut self,
        commit: ObjectId,
    ) -> Result<Result<Policy, PolicyError>, WorkspaceError> {
        let repo = &self.open.repo;
        let blob = repo.entry_at(repo.tree_of(commit)?, POLICY_PATH)?;
        if let Some(policy) = self.policies.get(&blob) {
            return Ok(policy.clone());
        }
        let policy = self.open.policy_at(commit)?;
        self.policies.insert(blob, policy.clone());
        Ok(policy)
    }
}
