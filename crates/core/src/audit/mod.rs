//! Audit: walk the protected branch's own line and decide, for every commit that changed
//! an environment, whether it came in as the policy in force at its first parent
//! required. On a GitHub repository the decision is taken from what GitHub recorded for
//! authenticated accounts (`github`); where the parent lists keys
//! (`.tollgate/allowed_signers`), from signatures, ancestry and a recomputed merge
//! (`signed`); elsewhere from the trailers tollgate wrote, which prove nothing (`legacy`).
//! Break-glass changes are exceptions that need a review after the fact.

mod github;
mod legacy;
mod signed;

use std::ops::ControlFlow;

use serde::Serialize;

use std::collections::HashMap;

use gix::ObjectId;

use std::collections::HashSet;
use std::rc::Rc;

use crate::approvals::{ApprovalNotes, MergeRecords};
use crate::git::CommitInfo;
use crate::history::{
    HistoryMode, HistoryQuery, first_parent_line, touched_on_first_parent_line, walk_history,
};
use crate::policy::{POLICY_ENVIRONMENT, Policy, PolicyError};
use crate::signing::SignatureReport;
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

impl AuditRow {
    /// The row of `commit`'s change to `environment`, a violation until a check decides.
    fn undecided(commit: &CommitInfo, environment: &str, signature: SignatureReport) -> AuditRow {
        AuditRow {
            commit: commit.sha.clone(),
            date: commit.committer.time,
            environment: environment.to_string(),
            author: format!("{} <{}>", commit.author.name, commit.author.email),
            approvers: Vec::new(),
            merged_by: None,
            reviewed_by: Vec::new(),
            signature,
            finding: Finding::Violation,
            why: String::new(),
        }
    }
}

/// `row` decided a violation, because of `why`.
fn violation(mut row: AuditRow, why: String) -> Result<AuditRow, WorkspaceError> {
    row.finding = Finding::Violation;
    row.why = why;
    Ok(row)
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
            range: None,
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
    if !first_parent_line(open, tip)?.contains(&after) {
        return Ok(None);
    }
    let mut touched = Vec::new();
    let query = HistoryQuery {
        env: Some(env),
        mode: HistoryMode::Inputs,
        limit: None,
        index_dir: None,
        first_parent: true,
        with_policy: true,
        range: Some((tip, after)),
    };
    walk_history(open, &query, |entry| {
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

/// The rules a change to `environment` answers to, and why they are relaxed if they
/// are: a merge that brought in exactly one verified rollback needs only the policy's
/// `rollback_approvals`.
fn rules_for_merge(
    open: &OpenRepo,
    policy: &Policy,
    environment: &str,
    brought_in: &[CommitInfo],
) -> Result<(crate::policy::Rules, String), WorkspaceError> {
    let mut rules = policy.rules_for_change(environment);
    let rollback = match brought_in {
        [only] => open.check_rollback(only)?,
        _ => None,
    };
    let note = match &rollback {
        Some(check) if check.verified => {
            rules.approvals = rules.rollback_approvals;
            format!(" (it {}: rollback_approvals)", check.claim)
        }
        _ => String::new(),
    };
    Ok((rules, note))
}

/// Below this many changes an audit checks them on one thread.
const SPLIT_CHECK_MIN: usize = 256;

fn check_all(
    open: &OpenRepo,
    touched: Vec<(CommitInfo, Vec<String>)>,
) -> Result<Vec<AuditRow>, WorkspaceError> {
    let mut audit = Audit::new(open)?;
    if let Some(github) = &mut audit.github {
        // GitHub's records of every change, read at once rather than one by one.
        let asked: Vec<ObjectId> = touched
            .iter()
            .map(|(commit, _)| commit)
            .filter(|c| !c.parents.is_empty() && !audit.baselines.before_tollgate.contains(&c.id))
            .map(|c| c.id)
            .collect();
        github.read_ahead(open, &asked)?;
    }
    if touched.len() < SPLIT_CHECK_MIN {
        return check_in_order(&mut audit, &touched);
    }
    // Each change is checked on its own (signatures, a merge base, notes), so the older
    // half goes to a second thread with its own repository handle; rows keep their order.
    let (newer, older) = touched.split_at(touched.len() / 2);
    let second = open.handle();
    let records = audit.github.clone();
    let (first, rest) = std::thread::scope(|scope| {
        let rest = scope.spawn(move || {
            let mut audit = Audit::new(&second)?;
            audit.github = records;
            check_in_order(&mut audit, older)
        });
        (check_in_order(&mut audit, newer), rest.join())
    });
    let mut rows = first?;
    rows.extend(rest.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?);
    Ok(rows)
}

fn check_in_order(
    audit: &mut Audit<'_>,
    touched: &[(CommitInfo, Vec<String>)],
) -> Result<Vec<AuditRow>, WorkspaceError> {
    let mut rows = Vec::new();
    for (commit, environments) in touched {
        for environment in environments {
            rows.push(check(audit, commit, environment)?);
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
    let rules = audit.rules_at(parent)?;
    if audit.github.is_some() {
        return github::check(audit, commit, environment, parent, &rules.policy);
    }
    let before_requirement = audit.baselines.before_signatures.contains(&commit.id);
    if rules.trust.required && !before_requirement {
        return signed::check(
            audit,
            commit,
            environment,
            parent,
            &rules.policy,
            &rules.trust,
        );
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
    /// The rules in force, by the tree id of the `.tollgate/` folder they are read from
    /// (`None`: no folder): read once per version, not once per commit.
    rules: HashMap<Option<ObjectId>, Rc<RulesInForce>>,
    baselines: Baselines,
    /// GitHub's records, for a GitHub repository.
    github: Option<github::GitHubRecords>,
}

/// The policy and the allowed signers at one commit of the protected branch.
struct RulesInForce {
    policy: Result<Policy, PolicyError>,
    trust: Trust,
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
    key: &'static str,
    rev: Option<&str>,
) -> Result<HashSet<ObjectId>, WorkspaceError> {
    let Some(rev) = rev else {
        return Ok(HashSet::new());
    };
    let commit = open
        .repo
        .resolve(rev)
        .map_err(|_| WorkspaceError::UnknownBaseline {
            repo: open.name().to_string(),
            branch: open.branch.clone(),
            key,
            rev: rev.to_string(),
        })?;
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
            rules: HashMap::new(),
            baselines: Baselines::default(),
            github: github::GitHubRecords::new(open)?,
        };
        let tip = open.tip()?;
        let at_tip = audit.rules_at(tip)?;
        audit.baselines.required_now = at_tip.trust.required;
        if let Ok(policy) = &at_tip.policy {
            audit.baselines.before_tollgate =
                strictly_before(open, "audited_from", policy.audited_from.as_deref())?;
            audit.baselines.before_signatures = strictly_before(
                open,
                "signatures_required_from",
                policy.signatures_required_from.as_deref(),
            )?;
        }
        Ok(audit)
    }

    /// The policy and trust in force at `commit`, read once per version of `.tollgate/`.
    fn rules_at(&mut self, commit: ObjectId) -> Result<Rc<RulesInForce>, WorkspaceError> {
        let repo = &self.open.repo;
        let folder = repo.entry_at(repo.tree_of(commit)?, POLICY_ENVIRONMENT)?;
        if let Some(rules) = self.rules.get(&folder) {
            return Ok(rules.clone());
        }
        let policy = self.open.policy_at(commit)?;
        let trust = self.open.trust_at(commit, policy.as_ref().ok())?;
        let rules = Rc::new(RulesInForce { policy, trust });
        self.rules.insert(folder, rules.clone());
        Ok(rules)
    }
}
