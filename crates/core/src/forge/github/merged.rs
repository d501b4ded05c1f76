//! What GitHub itself records about a commit of the protected branch, for the audit: the
//! pull request it merged (who merged it, which head, the reviews), and GitHub's check of
//! the commit's signature. These come from accounts GitHub authenticated, which a person
//! with push access cannot type; the commit's trailers are never read for them.

use octocrab::models::pulls::PullRequest as GhPullRequest;
use serde::Deserialize;

use super::pulls::Review;
use super::{GitHubError, GitHubRepo};

/// GitHub's record of one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRecord {
    /// The pull request GitHub merged as exactly this commit, if one was.
    pub merged: Option<MergedPull>,
    pub verification: Verification,
    /// The GitHub account of the commit's committer, when GitHub links one to its email.
    pub committer_login: Option<String>,
}

/// A pull request as it was merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedPull {
    pub number: u64,
    /// The login of who opened it.
    pub author: String,
    /// The login of who merged it (pressed the button, called the API, or pushed the merge).
    pub merged_by: Option<String>,
    /// The head GitHub merged.
    pub head_sha: String,
    /// Every submitted review, oldest first.
    pub reviews: Vec<Review>,
}

/// GitHub's verdict on the commit's signature (`commit.verification`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Verification {
    pub verified: bool,
    /// `valid`, `unsigned`, `unknown_key`, `bad_email`, …
    pub reason: String,
}

#[derive(Deserialize)]
struct CommitJson {
    commit: CommitInner,
    committer: Option<Account>,
}

#[derive(Deserialize)]
struct CommitInner {
    verification: Option<Verification>,
}

#[derive(Deserialize)]
struct Account {
    login: String,
}

impl GitHubRepo {
    /// GitHub's record of commit `sha`: four reads, two at a time.
    pub async fn commit_record(&self, sha: &str) -> Result<CommitRecord, GitHubError> {
        let slug = self.github.slug();
        let what = format!("read commit {sha:.10} of {slug}");
        let pulls_what = format!("read the pull requests merged as {sha:.10} in {slug}");
        let commit_path = self.path(&format!("/commits/{sha}"));
        let pulls_path = self.path(&format!("/commits/{sha}/pulls?per_page=100"));
        let (commit, pulls) = tokio::join!(
            self.api().get::<CommitJson>(&commit_path, &what),
            self.api()
                .get_all::<GhPullRequest>(&pulls_path, &pulls_what),
        );
        let commit = commit?;
        let merged_as_this = pulls?
            .into_iter()
            .find(|pull| pull.merged_at.is_some() && pull.merge_commit_sha.as_deref() == Some(sha));
        let merged = match merged_as_this {
            None => None,
            Some(listed) => {
                // Only a pull request's own page says who merged it.
                let number = listed.number;
                let pull_what = format!("read pull request {slug}#{number}");
                let pull_path = self.path(&format!("/pulls/{number}"));
                let (pull, reviews) = tokio::join!(
                    self.api().get::<GhPullRequest>(&pull_path, &pull_what),
                    self.reviews(number),
                );
                let pull = pull?;
                Some(MergedPull {
                    number,
                    author: pull
                        .user
                        .as_ref()
                        .map(|u| u.login.clone())
                        .unwrap_or_else(|| "ghost".into()),
                    merged_by: pull.merged_by.as_ref().map(|u| u.login.clone()),
                    head_sha: pull.head.sha.clone(),
                    reviews: reviews?,
                })
            }
        };
        Ok(CommitRecord {
            merged,
            verification: commit.commit.verification.unwrap_or(Verification {
                verified: false,
                reason: "unsigned".into(),
            }),
            committer_login: commit.committer.map(|c| c.login),
        })
    }
}
