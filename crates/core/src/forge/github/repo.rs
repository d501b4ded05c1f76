//! One GitHub repository's API calls: what it is, its open pull requests with their
//! reviews and checks, and the two writes a verdict allows (a review that approves the
//! reviewed head, a merge pinned to it).

use std::sync::Arc;

use http::Method;
use octocrab::models::pulls::{PullRequest as GhPullRequest, Review as GhReview};
use octocrab::models::{Author, CombinedStatus, Repository, checks::ListCheckRuns};

use super::pulls::{Checks, PullRequest, Review};
use super::{Api, GitHubError};
use crate::config::GitHubConfig;
use crate::identity::Identity;
use crate::policy::MergeMethod;

/// What the repository itself says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoInfo {
    pub default_branch: String,
    /// Where the mirror fetches from.
    pub clone_url: String,
    pub html_url: String,
}

/// A GitHub repository and the client of its API host.
#[derive(Debug, Clone)]
pub struct GitHubRepo {
    pub github: GitHubConfig,
    api: Arc<Api>,
}

impl GitHubRepo {
    /// The repository `github` names, with the shared client of its host (the token is
    /// resolved on first use of the host).
    pub fn new(github: &GitHubConfig) -> Result<GitHubRepo, GitHubError> {
        Ok(GitHubRepo {
            github: github.clone(),
            api: super::client(github)?,
        })
    }

    /// The same repository through `api` (tests and benchmarks pick their own client).
    pub fn with_api(github: &GitHubConfig, api: Arc<Api>) -> GitHubRepo {
        GitHubRepo {
            github: github.clone(),
            api,
        }
    }

    pub fn api(&self) -> &Api {
        &self.api
    }

    pub(super) fn path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", self.github.owner, self.github.repo)
    }

    pub async fn info(&self) -> Result<RepoInfo, GitHubError> {
        let what = format!("read {}", self.github.slug());
        let repo: Repository = self.api.get(&self.path(""), &what).await?;
        let missing = |field: &str| GitHubError::Decode {
            what: what.clone(),
            message: format!("the repository has no {field}"),
        };
        Ok(RepoInfo {
            default_branch: repo
                .default_branch
                .ok_or_else(|| missing("default_branch"))?,
            clone_url: repo
                .clone_url
                .map(|u| u.to_string())
                .ok_or_else(|| missing("clone_url"))?,
            html_url: repo.html_url.map(|u| u.to_string()).unwrap_or_default(),
        })
    }

    /// Open pull requests into `base`, oldest first, with the configured label only.
    pub async fn open_pulls(&self, base: &str) -> Result<Vec<PullRequest>, GitHubError> {
        let what = format!("list the pull requests of {}", self.github.slug());
        let path = self.path(&format!(
            "/pulls?state=open&base={}&sort=created&direction=asc&per_page=100",
            encode(base)
        ));
        let pulls: Vec<GhPullRequest> = self.api.get_all(&path, &what).await?;
        Ok(pulls
            .iter()
            .map(PullRequest::from)
            .filter(|p| {
                self.github
                    .label
                    .as_ref()
                    .is_none_or(|label| p.labels.iter().any(|l| l == label))
            })
            .collect())
    }

    /// One pull request, with what only its own page says (mergeable state).
    pub async fn pull(&self, number: u64) -> Result<PullRequest, GitHubError> {
        let what = format!("read pull request {}#{number}", self.github.slug());
        let pull: GhPullRequest = self
            .api
            .get(&self.path(&format!("/pulls/{number}")), &what)
            .await?;
        Ok(PullRequest::from(&pull))
    }

    /// Every submitted review of a pull request, oldest first.
    pub async fn reviews(&self, number: u64) -> Result<Vec<Review>, GitHubError> {
        let what = format!("read the reviews of {}#{number}", self.github.slug());
        let reviews: Vec<GhReview> = self
            .api
            .get_all(
                &self.path(&format!("/pulls/{number}/reviews?per_page=100")),
                &what,
            )
            .await?;
        Ok(reviews.iter().filter_map(Review::from_model).collect())
    }

    /// Commit statuses and check runs of `sha`, read at once.
    pub async fn checks(&self, sha: &str) -> Result<Checks, GitHubError> {
        let what = format!("read the checks of {} at {sha:.10}", self.github.slug());
        let status_path = self.path(&format!("/commits/{sha}/status"));
        let runs_path = self.path(&format!("/commits/{sha}/check-runs?per_page=100"));
        let (status, runs) = tokio::join!(
            self.api.get::<CombinedStatus>(&status_path, &what),
            self.api.get::<ListCheckRuns>(&runs_path, &what),
        );
        Ok(Checks::from_models(&status?, &runs?))
    }

    /// Who the token belongs to, as tollgate identifies GitHub accounts.
    pub async fn viewer(&self) -> Result<Identity, GitHubError> {
        let user: Author = self
            .api
            .get(
                "/user",
                &format!("ask {} who the token is", self.api.root()),
            )
            .await?;
        Ok(Identity::github(&user.login))
    }

    /// Approve exactly `head` of pull request `number`: a review with event `APPROVE` and
    /// `commit_id`, so that GitHub records which head was approved.
    pub async fn approve(
        &self,
        number: u64,
        head: &str,
        comment: Option<&str>,
    ) -> Result<Review, GitHubError> {
        let what = format!("approve {}#{number}", self.github.slug());
        let body = serde_json::json!({
            "commit_id": head,
            "event": "APPROVE",
            "body": comment.unwrap_or(""),
        });
        let review: GhReview = self
            .api
            .write(
                Method::POST,
                &self.path(&format!("/pulls/{number}/reviews")),
                &body,
                &what,
                &|status, message| explain_review(status, message),
            )
            .await?;
        Review::from_model(&review).ok_or_else(|| GitHubError::Decode {
            what,
            message: "the review came back without a state or reviewer".into(),
        })
    }

    /// Dismiss review `review` (GitHub has no "withdraw"; dismissing needs write access
    /// and, on a protected branch, the right to dismiss reviews).
    pub async fn dismiss(
        &self,
        number: u64,
        review: u64,
        message: &str,
    ) -> Result<(), GitHubError> {
        let what = format!("withdraw the approval of {}#{number}", self.github.slug());
        let body = serde_json::json!({ "message": message, "event": "DISMISS" });
        let _: serde_json::Value = self
            .api
            .write(
                Method::PUT,
                &self.path(&format!("/pulls/{number}/reviews/{review}/dismissals")),
                &body,
                &what,
                &|status, message| {
                    format!("GitHub refused to dismiss the review ({status}): {message}")
                },
            )
            .await?;
        Ok(())
    }

    /// Merge pull request `number` if its head is still `head`, with tollgate's message.
    /// Returns the new commit on the base branch.
    pub async fn merge(
        &self,
        number: u64,
        head: &str,
        method: MergeMethod,
        title: &str,
        message: &str,
    ) -> Result<String, GitHubError> {
        let what = format!("merge {}#{number}", self.github.slug());
        let method = match method {
            MergeMethod::Merge => "merge",
            MergeMethod::Squash => "squash",
            MergeMethod::FastForward => {
                return Err(GitHubError::Refused {
                    what,
                    status: 0,
                    message: String::new(),
                    explanation: "the policy's merge_method is fast-forward, which GitHub cannot do (its rebase rewrites the commits and drops tollgate's trailers); use merge or squash for a GitHub repository".into(),
                });
            }
        };
        let body = serde_json::json!({
            "sha": head,
            "merge_method": method,
            "commit_title": title,
            "commit_message": message,
        });
        let head = head.to_string();
        let merged: serde_json::Value = self
            .api
            .write(
                Method::PUT,
                &self.path(&format!("/pulls/{number}/merge")),
                &body,
                &what,
                &|status, message| explain_merge(status, message, &head),
            )
            .await?;
        merged["sha"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| GitHubError::Decode {
                what,
                message: "the merge answer has no sha".into(),
            })
    }
}

/// Writing a commit through the git data API: blobs, a tree, the commit, a branch, and
/// the pull request that proposes it. Each call is a write, sent once.
impl GitHubRepo {
    /// Store `content` as a blob; returns its sha.
    pub async fn create_blob(&self, content: &[u8]) -> Result<String, GitHubError> {
        use base64::Engine;
        let body = serde_json::json!({
            "content": base64::engine::general_purpose::STANDARD.encode(content),
            "encoding": "base64",
        });
        self.create("/git/blobs", &body, "store a file").await
    }

    /// A tree: `base_tree` with `entries` (path → blob sha, or `None` to delete).
    pub async fn create_tree(
        &self,
        base_tree: &str,
        entries: &[(String, Option<String>)],
    ) -> Result<String, GitHubError> {
        let tree: Vec<serde_json::Value> = entries
            .iter()
            .map(|(path, sha)| {
                serde_json::json!({"path": path, "mode": "100644", "type": "blob", "sha": sha})
            })
            .collect();
        let body = serde_json::json!({ "base_tree": base_tree, "tree": tree });
        self.create("/git/trees", &body, "build a tree").await
    }

    /// A commit of `tree` on `parents`, authored by the token's account.
    pub async fn create_commit(
        &self,
        message: &str,
        tree: &str,
        parents: &[String],
    ) -> Result<String, GitHubError> {
        let body = serde_json::json!({ "message": message, "tree": tree, "parents": parents });
        self.create("/git/commits", &body, "write a commit").await
    }

    /// A new branch at `sha`; refused by GitHub when it exists.
    pub async fn create_branch(&self, branch: &str, sha: &str) -> Result<(), GitHubError> {
        let body = serde_json::json!({ "ref": format!("refs/heads/{branch}"), "sha": sha });
        self.create("/git/refs", &body, &format!("create the branch {branch}"))
            .await
            .map(|_| ())
    }

    /// A pull request from `head` into `base`.
    pub async fn create_pull(
        &self,
        title: &str,
        head: &str,
        base: &str,
        body: &str,
    ) -> Result<PullRequest, GitHubError> {
        let what = format!("open a pull request from {head} in {}", self.github.slug());
        let request =
            serde_json::json!({ "title": title, "head": head, "base": base, "body": body });
        let pull: GhPullRequest = self
            .api
            .write(
                Method::POST,
                &self.path("/pulls"),
                &request,
                &what,
                &|status, message| format!("GitHub refused the pull request ({status}: {message})"),
            )
            .await?;
        Ok(PullRequest::from(&pull))
    }

    /// POST to the git data API; returns the `sha` of what was created.
    async fn create(
        &self,
        rest: &str,
        body: &serde_json::Value,
        doing: &str,
    ) -> Result<String, GitHubError> {
        let what = format!("{doing} in {}", self.github.slug());
        let created: serde_json::Value = self
            .api
            .write(
                Method::POST,
                &self.path(rest),
                body,
                &what,
                &|status, message| format!("GitHub refused it ({status}: {message})"),
            )
            .await?;
        created["sha"]
            .as_str()
            .map(str::to_string)
            .or_else(|| created["object"]["sha"].as_str().map(str::to_string))
            .ok_or_else(|| GitHubError::Decode {
                what,
                message: "the answer has no sha".into(),
            })
    }
}

/// A branch name as a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// GitHub's refusals of a merge in plain words.
pub fn explain_merge(status: u16, message: &str, head: &str) -> String {
    match status {
        409 => format!(
            "the pull request's head is no longer {head:.10}: someone pushed after it was reviewed, so nothing was merged; reload, review the new head and approve it (GitHub: {message})"
        ),
        405 => format!(
            "GitHub will not merge it (405: {message}); branch protection may require checks or reviews it does not have yet, it may be a draft, or the repository may not allow this merge method"
        ),
        422 => format!("GitHub could not merge it (422: {message})"),
        _ => format!("GitHub refused the merge ({status}: {message})"),
    }
}

/// GitHub's refusals of a review in plain words.
pub fn explain_review(status: u16, message: &str) -> String {
    if message.contains("own pull request") {
        return format!(
            "GitHub does not let the author of a pull request approve it ({status}: {message})"
        );
    }
    match status {
        422 => format!(
            "GitHub refused the review (422: {message}); the head may have moved since it was shown: reload and look again"
        ),
        _ => format!("GitHub refused the review ({status}: {message})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_head_is_explained() {
        let text = explain_merge(409, "Head branch was modified.", "0123456789abcdef");
        assert!(text.contains("no longer 0123456789"), "{text}");
        assert!(text.contains("nothing was merged"), "{text}");
    }

    #[test]
    fn branch_names_are_query_safe() {
        assert_eq!(encode("release/1.0 rc&x"), "release/1.0%20rc%26x");
    }
}
