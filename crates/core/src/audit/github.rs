//! The audit of a change to a GitHub repository's protected branch: decided from what
//! GitHub recorded for accounts it authenticated, never from the commit's text. A change is
//! compliant when GitHub merged a pull request as exactly this commit, verifies the
//! commit's signature (its own merges are signed), the account that merged it may merge,
//! enough authorised accounts other than its author approved the head that was merged, and
//! the commit's tree is exactly that head merged onto its first parent (recomputed). A
//! commit GitHub verifies for an account under `break_glass:` that says `Break-glass:` is
//! an exception. Anything else (a push with trailers naming approvers) is a violation.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use gix::ObjectId;

use crate::forge::github::merged::CommitRecord;
use crate::forge::github::pulls::latest_per_reviewer;
use crate::forge::github::{GitHubRepo, block_on, mirror};
use crate::git::CommitInfo;
use crate::identity::Identity;
use crate::policy::{Policy, PolicyError};
use crate::signing::SignatureReport;
use crate::workspace::{OpenRepo, WorkspaceError};

use super::signed::{authors_of, exception, merged_exactly};
use super::{Audit, AuditRow, Finding, violation};

/// How many commits' records are read from GitHub at once.
const READS_AT_ONCE: usize = 8;

/// GitHub's records of the commits an audit looks at, each read once.
#[derive(Clone)]
pub(super) struct GitHubRecords {
    repo: GitHubRepo,
    /// Where the mirror fetches from (asked of GitHub when the opened repo does not say).
    clone_url: Option<String>,
    records: HashMap<ObjectId, Arc<CommitRecord>>,
}

impl GitHubRecords {
    /// The records of `open`'s GitHub repository; `None` for a local repository.
    pub(super) fn new(open: &OpenRepo) -> Result<Option<GitHubRecords>, WorkspaceError> {
        let Some(config) = &open.config.github else {
            return Ok(None);
        };
        let (repo, clone_url) = match open.github() {
            Some(side) => (side.repo.clone(), Some(side.info.clone_url.clone())),
            None => (GitHubRepo::new(config)?, None),
        };
        Ok(Some(GitHubRecords {
            repo,
            clone_url,
            records: HashMap::new(),
        }))
    }

    /// Read the records of `commits` that are not read yet, several at a time, and fetch
    /// into the mirror the merged heads it does not hold (a squash's head is on no branch).
    pub(super) fn read_ahead(
        &mut self,
        open: &OpenRepo,
        commits: &[ObjectId],
    ) -> Result<(), WorkspaceError> {
        let wanted: Vec<ObjectId> = commits
            .iter()
            .filter(|id| !self.records.contains_key(*id))
            .copied()
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let repo = &self.repo;
        let read = block_on(
            futures::stream::iter(wanted.iter().map(|id| {
                let sha = id.to_string();
                async move { repo.commit_record(&sha).await }
            }))
            .buffered(READS_AT_ONCE)
            .collect::<Vec<_>>(),
        );
        let mut missing_heads = Vec::new();
        for (id, record) in wanted.into_iter().zip(read) {
            let record = record?;
            if let Some(pull) = &record.merged
                && ObjectId::from_hex(pull.head_sha.as_bytes())
                    .ok()
                    .is_none_or(|head| open.repo.commit_info(head).is_err())
            {
                missing_heads.push(pull.number);
            }
            self.records.insert(id, Arc::new(record));
        }
        if !missing_heads.is_empty() {
            let clone_url = match &self.clone_url {
                Some(url) => url.clone(),
                None => block_on(self.repo.info())?.clone_url,
            };
            mirror::fetch_pulls(
                &open.repo,
                &clone_url,
                &missing_heads,
                Some(self.repo.api().token()),
            )?;
            self.clone_url = Some(clone_url);
        }
        Ok(())
    }

    fn record(
        &mut self,
        open: &OpenRepo,
        commit: ObjectId,
    ) -> Result<Arc<CommitRecord>, WorkspaceError> {
        self.read_ahead(open, &[commit])?;
        Ok(self.records[&commit].clone())
    }
}

pub(super) fn check(
    audit: &mut Audit<'_>,
    commit: &CommitInfo,
    environment: &str,
    parent: ObjectId,
    policy: &Result<Policy, PolicyError>,
) -> Result<AuditRow, WorkspaceError> {
    let open = audit.open;
    let records = audit
        .github
        .as_mut()
        .expect("the GitHub audit is only asked of a GitHub repository");
    let record = records.record(open, commit.id)?;
    let verification = &record.verification;
    let committer = record.committer_login.as_deref();
    let signature = SignatureReport::github_commit(
        verification.verified,
        committer.unwrap_or("an account GitHub does not name"),
        &verification.reason,
    );
    let mut row = AuditRow::undecided(commit, environment, signature);
    let policy = match policy {
        Ok(policy) => policy,
        Err(e) => return violation(row, format!("the policy in force was invalid: {e}")),
    };
    // A push GitHub verifies for a member of break_glass, who said they meant it.
    if commit.trailer_values("Break-glass").next().is_some()
        && verification.verified
        && let Some(login) = committer
    {
        let who = Identity::github(login);
        if policy.may_break_glass(&who) {
            row.merged_by = Some(who.to_string());
            return exception(open, commit, environment, row, &who);
        }
    }
    let Some(pull) = &record.merged else {
        return violation(
            row,
            "not merged through a pull request: GitHub records none merged as this commit (its trailers prove nothing)".into(),
        );
    };
    if !verification.verified {
        return violation(
            row,
            format!(
                "GitHub merged #{} as this commit but does not verify its signature ({})",
                pull.number, verification.reason
            ),
        );
    }
    let Some(merger) = pull.merged_by.as_deref().map(Identity::github) else {
        return violation(
            row,
            format!("GitHub does not say who merged #{}", pull.number),
        );
    };
    row.merged_by = Some(merger.to_string());
    let head = ObjectId::from_hex(pull.head_sha.as_bytes()).ok();
    let Some((head, head_info)) =
        head.and_then(|id| open.repo.commit_info(id).ok().map(|info| (id, info)))
    else {
        return violation(
            row,
            format!(
                "the head GitHub merged for #{} ({:.10}) is not in the mirror, so what it merged cannot be checked",
                pull.number, pull.head_sha
            ),
        );
    };
    let brought_in = match merged_exactly(&open.repo, commit, parent, head, head_info)? {
        Ok(brought_in) => brought_in,
        Err(why) => return violation(row, why),
    };
    let (mut authors, names) = authors_of(&brought_in);
    authors.push(Identity::github(&pull.author).email);
    row.author = names;

    let (rules, rollback_note) = super::rules_for_merge(open, policy, environment, &brought_in)?;
    let mut counted = 0u32;
    let mut problems = Vec::new();
    let approving = latest_per_reviewer(&pull.reviews)
        .into_iter()
        .filter(|review| review.state == "APPROVED" && review.commit == pull.head_sha);
    for review in approving {
        let who = Identity::github(&review.by);
        if !rules.may_approve(&who) {
            problems.push(format!("{} was not an approver", review.by));
        } else if authors.contains(&who.email) && !rules.allow_self_approval {
            problems.push(format!("{} approved their own change", review.by));
        } else {
            counted += 1;
            row.approvers.push(who.to_string());
        }
    }
    if counted < rules.approvals {
        problems.insert(
            0,
            format!(
                "{counted} of {} required approving reviews of the merged head",
                rules.approvals
            ),
        );
        return violation(row, problems.join("; "));
    }
    if !rules.may_merge(&merger) {
        return violation(row, format!("{} was not allowed to merge", merger.name));
    }
    row.finding = Finding::Compliant;
    row.why = format!(
        "{counted} approving review(s) of the merged head, {} required{rollback_note}; #{} merged on GitHub by {}",
        rules.approvals, pull.number, merger.name
    );
    Ok(row)
}
