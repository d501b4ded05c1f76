//! Verify (before anything is applied): every commit since the last applied revision
//! that changed the environment came in as the policy required (the rules of
//! `audit verify`; break-glass exceptions are allowed and reported), and where the
//! approvals of the newest change pinned a rendered digest, what renders now is what was
//! approved. On the first run, the newest change (the one whose state is deployed) is
//! checked. The digest check runs on every pass, also when git has not moved: what a
//! render reads from outside git (a remote base) can change on its own.

use gix::ObjectId;
use serde::Serialize;

use crate::audit::{Finding, audit_newest};
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
        Some(last) => {
            let since = open.repo.commit_info(last)?.committer.time;
            let mut rows = audit_newest(open, Some(env), Some(since), None)?;
            let last = last.to_string();
            rows.retain(|r| r.commit != last);
            rows
        }
        None => audit_newest(open, Some(env), None, Some(1))?,
    };
    verification.checked = rows.len();
    for row in &rows {
        let short = &row.commit[..10];
        match row.finding {
            Finding::Violation => verification.refusals.push(format!(
                "{short} changed {env} without the approvals it needed: {}",
                row.why
            )),
            Finding::Exception => verification
                .exceptions
                .push(format!("{short}: {}", row.why)),
            Finding::Compliant | Finding::Initial => {}
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
        if let Some(head) = commit.parents.get(1) {
            let head_sha = head.to_string();
            let pinned: Vec<String> = open
                .repo
                .approvals_on(*head)?
                .into_iter()
                .filter(|a| a.head == head_sha)
                .filter_map(|a| a.digests.get(env).cloned())
                .collect();
            if !pinned.is_empty() && !pinned.iter().any(|d| d == digest_now) {
                verification.refusals.push(format!(
                    "what {env} renders now ({digest_now}) is not what was approved at {} ({}); a remote base or the renderer changed since",
                    &head.to_string()[..10],
                    pinned.join(", ")
                ));
            }
        }
    }
    Ok(verification)
}
