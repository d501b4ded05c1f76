//! Verify (before anything is applied): every first-parent commit between the last
//! applied revision and the tip (by ancestry, never by date) that changed the environment
//! came in as the policy required (the rules of
//! `audit verify`; break-glass exceptions are allowed and reported), and where the
//! approvals of the newest change pinned a rendered digest, what renders now is what was
//! approved. On the first run, the newest change (the one whose state is deployed) is
//! checked. The digest check runs on every pass, also when git has not moved: what a
//! render reads from outside git (a remote base) can change on its own.

use gix::ObjectId;
use serde::Serialize;

use crate::audit::{Finding, audit_newest, audit_range};
use crate::git::short;
use crate::workspace::{OpenRepo, WorkspaceError};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Verification {
    /// Changes checked.
    pub checked: usize,
    /// Break-glass changes let through, each with why.
    pub exceptions: Vec<String>,
    /// Why the revision must not be deployed; empty when it may.
    pub refusals: Vec<String>,
}

/// Check the changes to `env` after `last_applied` (or the newest one on a first run),
/// and the newest change's approved digest against `digest_now`.
pub fn verify(
    open: &OpenRepo,
    env: &str,
    tip: ObjectId,
    last_applied: Option<ObjectId>,
    digest_now: &str,
) -> Result<Verification, WorkspaceError> {
    let mut verification = Verification::default();
    let rows = match last_applied {
        // Nothing new in git; what renders can still have moved (a remote base), so the
        // digest check below still runs.
        Some(last) if last == tip => Vec::new(),
        // Every first-parent change between what is deployed and the tip, found by
        // ancestry: a commit dated before the last deployment is checked all the same.
        Some(last) => match audit_range(open, env, tip, last)? {
            Some(rows) => rows,
            None => {
                let newest = audit_newest(open, Some(env), None, Some(1))?;
                if !is_approved_rollback_at(open, tip, newest.first())? {
                    verification.refusals.push(format!(
                        "{} at {} does not descend from the deployed {} (a force-push or a reset?); tollgate deploys only forward. Undo a change with `tollgate rollback`, which makes a new, approved commit",
                        open.branch,
                        short(&tip),
                        short(&last)
                    ));
                }
                newest
            }
        },
        None => audit_newest(open, Some(env), None, Some(1))?,
    };
    verification.checked = rows.len();
    for row in &rows {
        let short = crate::text::short(&row.commit);
        match row.finding {
            Finding::Violation => verification.refusals.push(format!(
                "{short} changed {env} without the approvals it needed: {}",
                row.why
            )),
            Finding::Exception => verification
                .exceptions
                .push(format!("{short}: {}", row.why)),
            Finding::Compliant
            | Finding::Initial
            | Finding::BeforeTollgate
            | Finding::UnsignedBeforeRequirement => {}
        }
    }
    let newest = match rows.first() {
        Some(row) => Some(row.clone()),
        None => audit_newest(open, Some(env), None, Some(1))?
            .into_iter()
            .next(),
    };
    if let Some(newest) = newest {
        let commit = open.repo.commit_info(open.repo.resolve(&newest.commit)?)?;
        // The pinned digest speaks for the head's own tree. A merge onto a branch that
        // moved on is a different tree, proven by recomputing the merge (audit); what it
        // renders was never rendered at approval time, so there is nothing to compare.
        if let Some(head) = commit.parents.get(1)
            && open.repo.tree_of(*head)? == open.repo.tree_of(commit.id)?
        {
            let head_sha = head.to_string();
            let policy = open.policy_at(commit.parents[0])?;
            let trust = open.trust_at(commit.parents[0], policy.as_ref().ok())?;
            let pinned: Vec<String> = open
                .repo
                .approvals_on(*head)?
                .into_iter()
                .filter(|a| a.head == head_sha)
                .filter(|a| !trust.required || trust.check_approval(a).is_verified())
                .filter_map(|a| a.digests.get(env).cloned())
                .collect();
            if !pinned.is_empty() && !pinned.iter().any(|d| d == digest_now) {
                verification.refusals.push(format!(
                    "what {env} renders now ({digest_now}) is not what was approved at {} ({}); a remote base or the renderer changed since",
                    crate::text::short(&head.to_string()),
                    pinned.join(", ")
                ));
            }
        }
    }
    Ok(verification)
}

/// Whether `tip`, which does not descend from what is deployed, is itself an approved
/// rollback: the newest change is `tip`, it passed the audit, and it (or the one commit it
/// merged) is verified to be the rollback it claims.
fn is_approved_rollback_at(
    open: &OpenRepo,
    tip: ObjectId,
    newest: Option<&crate::audit::AuditRow>,
) -> Result<bool, WorkspaceError> {
    let Some(row) = newest.filter(|r| r.commit == tip) else {
        return Ok(false);
    };
    if !matches!(row.finding, Finding::Compliant | Finding::Exception) {
        return Ok(false);
    }
    let commit = open.repo.commit_info(tip)?;
    let rollback = match commit.parents.get(1) {
        Some(head) => open.check_rollback(&open.repo.commit_info(*head)?)?,
        None => open.check_rollback(&commit)?,
    };
    Ok(rollback.is_some_and(|r| r.verified))
}
