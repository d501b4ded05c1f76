//! Pull requests, reviews and checks as tollgate uses them, read from octocrab's models.
//! A review is an approval only when it is the reviewer's latest deciding review
//! (approve, request changes, dismissed) and it approved; it counts for the head it names
//! in `commit_id`, so an approval of an older head shows as stale.

use std::collections::BTreeMap;

use octocrab::models::pulls::{PullRequest as GhPullRequest, Review as GhReview, ReviewState};
use octocrab::models::{CombinedStatus, StatusState, checks::ListCheckRuns};
use serde::Serialize;

use crate::approvals::Approval;
use crate::identity::Identity;

/// An open pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullRequest {
    pub number: u64,
    pub title: String,
    pub body: String,
    /// The author's login.
    pub author: String,
    pub head_ref: String,
    pub head_sha: String,
    pub base_ref: String,
    /// The base branch's tip as GitHub saw it when listing.
    pub base_sha: String,
    pub draft: bool,
    /// The page on GitHub.
    pub url: String,
    /// Seconds since the epoch.
    pub created: i64,
    pub labels: Vec<String>,
    pub requested_reviewers: Vec<String>,
    /// `clean`, `blocked`, `dirty`, …; only known from the pull request's own page, and
    /// only once GitHub has computed it.
    pub mergeable_state: Option<String>,
}

impl From<&GhPullRequest> for PullRequest {
    fn from(pr: &GhPullRequest) -> Self {
        PullRequest {
            number: pr.number,
            title: pr.title.clone().unwrap_or_default(),
            body: pr.body.clone().unwrap_or_default(),
            author: pr
                .user
                .as_ref()
                .map(|u| u.login.clone())
                .unwrap_or_else(|| "ghost".into()),
            head_ref: pr.head.ref_field.clone(),
            head_sha: pr.head.sha.clone(),
            base_ref: pr.base.ref_field.clone(),
            base_sha: pr.base.sha.clone(),
            draft: pr.draft.unwrap_or(false),
            url: pr
                .html_url
                .as_ref()
                .map(|u| u.to_string())
                .unwrap_or_default(),
            created: pr.created_at.map(|t| t.timestamp()).unwrap_or(0),
            labels: pr.labels.iter().flatten().map(|l| l.name.clone()).collect(),
            requested_reviewers: pr
                .requested_reviewers
                .iter()
                .flatten()
                .map(|u| u.login.clone())
                .collect(),
            mergeable_state: pr.mergeable_state.as_ref().and_then(|s| {
                serde_json::to_value(s)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
            }),
        }
    }
}

/// A submitted review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    pub id: u64,
    pub by: String,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`.
    pub state: String,
    /// The head it reviewed.
    pub commit: String,
    /// Seconds since the epoch.
    pub at: i64,
    pub body: String,
}

impl Review {
    pub fn from_model(review: &GhReview) -> Option<Review> {
        let state = match review.state? {
            ReviewState::Approved => "APPROVED",
            ReviewState::ChangesRequested => "CHANGES_REQUESTED",
            ReviewState::Commented => "COMMENTED",
            ReviewState::Dismissed => "DISMISSED",
            // Pending reviews are drafts nobody else sees.
            _ => return None,
        };
        Some(Review {
            id: review.id.0,
            by: review.user.as_ref()?.login.clone(),
            state: state.to_string(),
            commit: review.commit_id.clone().unwrap_or_default(),
            at: review.submitted_at.map(|t| t.timestamp()).unwrap_or(0),
            body: review.body.clone().unwrap_or_default(),
        })
    }
}

/// Each reviewer's latest deciding review (a comment does not undo an approval, as on
/// GitHub), by reviewer.
pub fn latest_per_reviewer(reviews: &[Review]) -> Vec<Review> {
    let mut latest: BTreeMap<String, Review> = BTreeMap::new();
    for review in reviews.iter().filter(|r| r.state != "COMMENTED") {
        let key = review.by.to_lowercase();
        if latest.get(&key).is_none_or(|seen| review.at >= seen.at) {
            latest.insert(key, review.clone());
        }
    }
    latest.into_values().collect()
}

/// The approvals the reviews amount to, for the verdict: who, when, which head.
pub fn approvals_from(reviews: &[Review]) -> Vec<Approval> {
    latest_per_reviewer(reviews)
        .into_iter()
        .filter(|r| r.state == "APPROVED")
        .map(|r| Approval {
            by: Identity::github(&r.by),
            at: r.at,
            head: r.commit,
            base: String::new(),
            comment: (!r.body.is_empty()).then_some(r.body),
            digests: BTreeMap::new(),
            branch: None,
            promotion: None,
            acknowledged_unrendered: Vec::new(),
            signed: None,
        })
        .collect()
}

/// Commit statuses and check runs of a head, together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Checks {
    pub passed: usize,
    pub pending: usize,
    pub failed: Vec<String>,
}

impl Checks {
    pub fn from_models(status: &CombinedStatus, runs: &ListCheckRuns) -> Checks {
        let mut checks = Checks::default();
        for s in &status.statuses {
            let name = s.context.clone().unwrap_or_else(|| "status".into());
            match s.state {
                StatusState::Success => checks.passed += 1,
                StatusState::Pending => checks.pending += 1,
                _ => checks.failed.push(name),
            }
        }
        for run in &runs.check_runs {
            match run.conclusion.as_deref() {
                None => checks.pending += 1,
                Some("success" | "neutral" | "skipped") => checks.passed += 1,
                Some(_) => checks.failed.push(run.name.clone()),
            }
        }
        checks
    }

    /// `✓ 3`, `… 1 pending`, `✗ lint`, or `none`.
    pub fn one_line(&self) -> String {
        if !self.failed.is_empty() {
            format!("✗ {}", self.failed.join(", "))
        } else if self.pending > 0 {
            format!("… {} pending", self.pending)
        } else if self.passed > 0 {
            format!("✓ {}", self.passed)
        } else {
            "none".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(by: &str, state: &str, commit: &str, at: i64) -> Review {
        Review {
            id: at as u64,
            by: by.into(),
            state: state.into(),
            commit: commit.into(),
            at,
            body: String::new(),
        }
    }

    #[test]
    fn the_latest_deciding_review_of_each_reviewer_counts() {
        let reviews = [
            review("dana", "APPROVED", "aaa", 1),
            review("dana", "COMMENTED", "bbb", 2),
            review("erin", "APPROVED", "aaa", 1),
            review("erin", "CHANGES_REQUESTED", "bbb", 3),
            review("frank", "CHANGES_REQUESTED", "aaa", 1),
            review("frank", "APPROVED", "bbb", 4),
        ];
        let approvals = approvals_from(&reviews);
        let who: Vec<(&str, &str)> = approvals
            .iter()
            .map(|a| (a.by.name.as_str(), a.head.as_str()))
            .collect();
        assert_eq!(who, [("dana", "aaa"), ("frank", "bbb")]);
        assert_eq!(approvals[0].by.email, "dana@users.noreply.github.com");
    }

    #[test]
    fn checks_say_the_worst_first() {
        let checks = Checks {
            passed: 2,
            pending: 1,
            failed: vec!["lint".into()],
        };
        assert_eq!(checks.one_line(), "✗ lint");
        assert_eq!(
            Checks {
                passed: 2,
                pending: 1,
                failed: vec![]
            }
            .one_line(),
            "… 1 pending"
        );
        assert_eq!(Checks::default().one_line(), "none");
    }
}
