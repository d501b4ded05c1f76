//! The audit of a change made where signatures are not required (no
//! `.tollgate/allowed_signers` at its parent): read from the `Approved-by` and `Merged-by`
//! trailers of the merge (or the fast-forward record), checked against the policy in force
//! at its first parent. Anyone with push access can write those trailers, so these findings
//! say so; a repository that wants proof lists its keys (see `signed`).

use crate::git::CommitInfo;
use crate::identity::Identity;
use crate::signing::SignatureReport;
use crate::workspace::WorkspaceError;

use super::{Audit, AuditRow, Finding};

pub(super) fn check(
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
        signature: SignatureReport::unsigned(),
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
    let in_force = audit.rules_at(parent)?;
    let policy = match &in_force.policy {
        Ok(policy) => policy,
        Err(e) => {
            return Ok(row(
                Finding::Violation,
                format!("the policy in force was invalid: {e}"),
            ));
        }
    };
    let (rules, rollback_note) = super::rules_for_merge(open, policy, environment, &brought_in)?;
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
