//! Audit: walk the protected branch's own line and check that every commit that changed
//! an environment came in as a tollgate merge whose `Approved-by` trailers satisfy the
//! policy in force at its first parent, or is a recorded break-glass (an exception that
//! needs a review after the fact). Everything is read from git alone.

use std::ops::ControlFlow;

use serde::Serialize;

use std::collections::HashMap;

use gix::ObjectId;

use crate::approvals::MergeRecords;
use crate::git::CommitInfo;
use crate::history::{HistoryMode, HistoryQuery, touched_on_first_parent_line, walk_history};
use crate::identity::Identity;
use crate::policy::{POLICY_PATH, Policy, PolicyError};
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
    let mut rows = Vec::new();
    let mut audit = Audit {
        open,
        merges: open.repo.merge_records()?,
        policies: HashMap::new(),
    };
    for (commit, environments) in touched {
        for environment in environments {
            rows.push(check(&mut audit, &commit, &environment)?);
        }
    }
    Ok(rows)
}

/// What an audit reads once rather than per commit.
struct Audit<'a> {
    open: &'a OpenRepo,
    merges: MergeRecords,
    /// Parsed policies by the blob id of the policy file (`None`: no file).
    policies: HashMap<Option<ObjectId>, Result<Policy, PolicyError>>,
}

impl Audit<'_> {
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

fn check(
    audit: &mut Audit<'_>,
    commit: &CommitInfo,
    environment: &str,
) -> Result<AuditRow, WorkspaceError> {
    let open = audit.open;
    // A fast-forward merge left its trailers in a note on the commits it brought in.
    let recorded;
    let commit = if commit.trailer_values("Promotion").next().is_none() {
        let record = open.repo.merge_record_in(&audit.merges, commit.id)?;
        if record.is_empty() {
            commit
        } else {
            let mut with_record = commit.clone();
            with_record.trailers.extend(record);
            recorded = with_record;
            &recorded
        }
    } else {
        commit
    };
    let approvers: Vec<String> = commit
        .trailer_values("Approved-by")
        .map(str::to_string)
        .collect();
    let merged_by = commit
        .trailer_values("Merged-by")
        .next()
        .map(str::to_string);
    // A merge's authors are those of the commits it brought in.
    let brought_in: Vec<CommitInfo> = match commit.parents.first() {
        Some(parent) if commit.parents.len() > 1 => open
            .repo
            .commits_between(*parent, commit.id)?
            .into_iter()
            .filter(|c| c.id != commit.id)
            .collect(),
        _ => vec![commit.clone()],
    };
    let mut author_names: Vec<String> = brought_in
        .iter()
        .map(|c| format!("{} <{}>", c.author.name, c.author.email))
        .collect();
    author_names.dedup();
    let row = |finding: Finding, why: String| AuditRow {
        commit: commit.sha.clone(),
        date: commit.committer.time,
        environment: environment.to_string(),
        author: author_names.join(", "),
        approvers: approvers.clone(),
        merged_by: merged_by.clone(),
        reviewed_by: Vec::new(),
        finding,
        why,
    };
    let Some(parent) = commit.parents.first().copied() else {
        return Ok(row(
            Finding::Initial,
            "the first commit; no policy was in force before it".into(),
        ));
    };
    if commit.trailer_values("Break-glass").next().is_some() {
        let reason = commit
            .trailer_values("Reason")
            .next()
            .unwrap_or("no reason given");
        let reviews = open.reviews_of(commit, environment)?;
        let mut exception = row(
            Finding::Exception,
            if reviews.is_empty() {
                format!("break-glass: {reason}; needs a review after the fact")
            } else {
                format!(
                    "break-glass: {reason}; reviewed after the fact by {}",
                    reviews.join(", ")
                )
            },
        );
        exception.reviewed_by = reviews;
        return Ok(exception);
    }
    if commit.trailer_values("Promotion").next().is_none() {
        return Ok(row(
            Finding::Violation,
            "not merged through tollgate: no Promotion trailer, no recorded approvals".into(),
        ));
    }
    let policy = match audit.policy_at(parent)? {
        Ok(policy) => policy,
        Err(e) => {
            return Ok(row(
                Finding::Violation,
                format!("the policy in force was invalid: {e}"),
            ));
        }
    };
    let mut rules = policy.rules(environment);
    // A merge that brought in exactly one verified rollback needs only rollback_approvals.
    let rollback = match brought_in.as_slice() {
        [only] => open.check_rollback(only)?,
        _ => None,
    };
    let rollback_note = match &rollback {
        Some(check) if check.verified => {
            rules.approvals = rules.rollback_approvals;
            format!(" (it {}: rollback_approvals)", check.claim)
        }
        _ => String::new(),
    };
    let authors: Vec<String> = brought_in
        .iter()
        .map(|c| c.author.email.to_lowercase())
        .collect();
    let mut counted = 0u32;
    let mut problems = Vec::new();
    for approver in &approvers {
        let Ok(who) = Identity::parse(approver, "Approved-by") else {
            problems.push(format!("unreadable Approved-by {approver:?}"));
            continue;
        };
        if !rules.may_approve(&who) {
            problems.push(format!("{} was not an approver", who.email));
        } else if authors.contains(&who.email.to_lowercase()) && !rules.allow_self_approval {
            problems.push(format!("{} approved their own change", who.email));
        } else {
            counted += 1;
        }
    }
    if counted < rules.approvals {
        problems.insert(
            0,
            format!("{counted} of {} required approvals", rules.approvals),
        );
        return Ok(row(Finding::Violation, problems.join("; ")));
    }
    match merged_by
        .as_deref()
        .map(|m| Identity::parse(m, "Merged-by"))
    {
        Some(Ok(who)) if rules.may_merge(&who) => {}
        Some(Ok(who)) => {
            return Ok(row(
                Finding::Violation,
                format!("{} was not allowed to merge", who.email),
            ));
        }
        _ => {
            return Ok(row(
                Finding::Violation,
                "no readable Merged-by trailer".into(),
            ));
        }
    }
    Ok(row(
        Finding::Compliant,
        format!(
            "{counted} valid approval(s), {} required{rollback_note}",
            rules.approvals
        ),
    ))
}
