//! The audit of a change made where signatures are required: decided from what a person
//! with push access cannot type. The commit must carry a signature that verifies for its
//! committer against the allowed signers at its first parent; a merge must be exactly the
//! approved head merged onto that parent (recomputed, three ways when the branch had
//! moved on); the approvals on that head must be signed statements by enough authorised
//! approvers who are not its authors. Trailers are read only as pointers (which head a
//! squash answers to, that a signer invoked break-glass) and every pointer is checked.

use gix::ObjectId;

use crate::git::CommitInfo;
use crate::identity::Identity;
use crate::policy::{Policy, PolicyError};
use crate::signing::{ALLOWED_SIGNERS_PATH, SignatureState};
use crate::trust::Trust;
use crate::workspace::WorkspaceError;

use super::{Audit, AuditRow, Finding, violation};

/// The trailer a squash merge names its approved head with (a merge commit has it as its
/// second parent).
pub const PROMOTION_HEAD: &str = "Promotion-head";

pub(super) fn check(
    audit: &mut Audit<'_>,
    commit: &CommitInfo,
    environment: &str,
    parent: ObjectId,
    policy: &Result<Policy, PolicyError>,
    trust: &Trust,
) -> Result<AuditRow, WorkspaceError> {
    let open = audit.open;
    let repo = &open.repo;
    let signature = repo.commit_signature(commit.id)?;
    let report = trust.check_commit(
        signature.as_ref(),
        &commit.committer.email,
        commit.committer.time,
    );
    let mut row = AuditRow::undecided(commit, environment, report.clone());
    let policy = match policy {
        Ok(policy) => policy,
        Err(e) => return violation(row, format!("the policy in force was invalid: {e}")),
    };
    let signer = match (&report.state, &report.signer) {
        (SignatureState::Verified, Some(email)) => Identity {
            name: commit.committer.name.clone(),
            email: email.clone(),
        },
        (SignatureState::Unsigned, _) => {
            return violation(
                row,
                format!(
                    "unsigned: not merged through tollgate with a key listed in {ALLOWED_SIGNERS_PATH} (its trailers prove nothing)"
                ),
            );
        }
        _ => return violation(row, report.describe()),
    };
    row.merged_by = Some(signer.to_string());
    // A signed break-glass by someone the policy lists is an exception to review after the
    // fact, whatever it merged (as it is on a repository without keys); the trailer only
    // says the signer meant it, the signature says who they are.
    if commit.trailer_values("Break-glass").next().is_some() && policy.may_break_glass(&signer) {
        return exception(open, commit, environment, row, &signer);
    }
    // The approved head: a merge's second parent, or the commit a squash names (a
    // pointer only, checked below by recomputing the merge). Read once.
    let head = match commit.parents.as_slice() {
        [_, head] => Some(*head),
        [_] => commit
            .trailer_values(PROMOTION_HEAD)
            .next()
            .and_then(|sha| ObjectId::from_hex(sha.trim().as_bytes()).ok()),
        _ => None,
    };
    let Some((head, head_info)) =
        head.and_then(|id| repo.commit_info(id).ok().map(|info| (id, info)))
    else {
        return violation(
            row,
            format!(
                "signed by {}, but it is neither the merge of a promotion nor a break-glass change by someone under break_glass",
                signer.email
            ),
        );
    };

    let brought_in = match merged_exactly(repo, commit, parent, head, head_info)? {
        Ok(brought_in) => brought_in,
        Err(why) => return violation(row, why),
    };
    let (authors, names) = authors_of(&brought_in);
    row.author = names;

    let (rules, rollback_note) = super::rules_for_merge(open, policy, environment, &brought_in)?;
    let head_sha = head.to_string();
    let mut counted = 0u32;
    let mut problems = Vec::new();
    for approval in repo.approvals_in(&audit.approvals, head)? {
        if approval.head != head_sha {
            continue;
        }
        let who = &approval.by;
        let checked = trust.check_approval(&approval);
        if !checked.is_verified() {
            problems.push(format!("{}'s approval: {}", who.email, checked.describe()));
        } else if !rules.may_approve(who) {
            problems.push(format!("{} was not an approver", who.email));
        } else if authors.contains(&who.email.to_lowercase()) && !rules.allow_self_approval {
            problems.push(format!("{} approved their own change", who.email));
        } else {
            counted += 1;
            row.approvers.push(who.to_string());
        }
    }
    if counted < rules.approvals || !rules.may_merge(&signer) {
        if counted < rules.approvals {
            problems.insert(
                0,
                format!("{counted} of {} required signed approvals", rules.approvals),
            );
        } else {
            problems.insert(0, format!("{} was not allowed to merge", signer.email));
        }
        return violation(row, problems.join("; "));
    }
    row.finding = Finding::Compliant;
    row.why = format!(
        "{counted} signed approval(s), {} required{rollback_note}; merge signed by {}",
        rules.approvals, signer.email
    );
    Ok(row)
}

/// The commits `commit` brought in when it is exactly `head` merged onto `parent` (the
/// same tree; recomputed three ways when the branch had moved on since `head` branched),
/// or why it is not: what was merged must be exactly what was approved.
pub(super) fn merged_exactly(
    repo: &crate::git::Repo,
    commit: &CommitInfo,
    parent: ObjectId,
    head: ObjectId,
    head_info: CommitInfo,
) -> Result<Result<Vec<CommitInfo>, String>, WorkspaceError> {
    // The usual promotion branched from the tip it merges onto: its own parents say so,
    // with no walk.
    let ancestor = if head_info.parents.contains(&parent) {
        parent
    } else {
        match repo.merge_base(parent, head)? {
            Some(ancestor) => ancestor,
            None => {
                return Ok(Err(format!(
                    "{} shares no history with the branch",
                    short(&head)
                )));
            }
        }
    };
    let expected = if ancestor == parent {
        Ok(head_info.tree)
    } else {
        repo.merge_trees(
            repo.tree_of(ancestor)?,
            repo.tree_of(parent)?,
            head_info.tree,
        )?
    };
    match expected {
        Err(paths) => {
            return Ok(Err(format!(
                "{} conflicts with its parent in {}, so no merge of it is what was approved",
                short(&head),
                paths.join(", ")
            )));
        }
        Ok(tree) if tree != commit.tree => {
            return Ok(Err(format!(
                "its tree is not {} merged onto {}: it carries changes no approval covers",
                short(&head),
                short(&parent)
            )));
        }
        Ok(_) => {}
    }
    Ok(Ok(if head_info.parents == [ancestor] {
        vec![head_info]
    } else {
        repo.commits_between(ancestor, head)?
    }))
}

/// The authors' emails (lowercase, for comparing) and names (for the row) of `commits`.
pub(super) fn authors_of(commits: &[CommitInfo]) -> (Vec<String>, String) {
    let mut emails: Vec<String> = commits
        .iter()
        .map(|c| c.author.email.to_lowercase())
        .collect();
    emails.sort();
    emails.dedup();
    let mut names: Vec<String> = commits
        .iter()
        .map(|c| format!("{} <{}>", c.author.name, c.author.email))
        .collect();
    names.dedup();
    (emails, names.join(", "))
}

/// A signed break-glass change by someone the policy lists: an exception, with who has
/// reviewed it after the fact.
pub(super) fn exception(
    open: &crate::workspace::OpenRepo,
    commit: &CommitInfo,
    environment: &str,
    mut row: AuditRow,
    signer: &Identity,
) -> Result<AuditRow, WorkspaceError> {
    let reason = commit
        .trailer_values("Reason")
        .next()
        .unwrap_or("no reason given");
    let rollback = match open.check_rollback(commit)? {
        Some(check) if check.verified => format!(" (it {})", check.claim),
        _ => String::new(),
    };
    let reviews = open.reviews_of(commit, environment)?;
    row.finding = Finding::Exception;
    row.why = if reviews.is_empty() {
        format!(
            "break-glass by {}{rollback}: {reason}; needs a review after the fact",
            signer.email
        )
    } else {
        format!(
            "break-glass by {}{rollback}: {reason}; reviewed after the fact by {}",
            signer.email,
            reviews.join(", ")
        )
    };
    row.reviewed_by = reviews;
    Ok(row)
}

fn short(id: &ObjectId) -> String {
    crate::git::short(id)
}
