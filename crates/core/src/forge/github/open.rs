//! Opening a GitHub repository as an [`OpenRepo`]: ask the API for the repository and its
//! open pull requests, fetch the protected branch and each pull request's head into the
//! mirror, and open the mirror. A pull request becomes a [`Promotion`] like a local branch,
//! so the rendered diff and the verdict are the same code for both.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::config::{GitHubConfig, RepoConfig};
use crate::git::Person;
use crate::git::promotions::PromotionBranch;
use crate::identity::Identity;
use crate::workspace::{OpenRepo, Promotion, WorkspaceError};

use super::pulls::latest_per_reviewer;
use super::repo::RepoInfo;
use super::{Checks, GitHubError, GitHubRepo, PullRequest, Review, block_on, mirror};

/// The GitHub side of an opened repository.
#[derive(Debug)]
pub struct GitHubSide {
    pub repo: GitHubRepo,
    pub info: RepoInfo,
    /// Open pull requests into the protected branch, as of opening.
    pub pulls: Vec<PullRequest>,
    viewer: OnceLock<Identity>,
    /// Reviews read ahead for many pull requests at once (the inbox's verdicts).
    reviews: Mutex<HashMap<u64, Vec<Review>>>,
}

impl GitHubSide {
    /// Every review of pull request `number`: read ahead, or asked now.
    pub fn reviews(&self, number: u64) -> Result<Vec<Review>, GitHubError> {
        let cached = self.lock_reviews().get(&number).cloned();
        match cached {
            Some(reviews) => Ok(reviews),
            None => block_on(self.repo.reviews(number)),
        }
    }

    /// Read the reviews of every open pull request, concurrently, for the verdicts that
    /// follow.
    pub fn read_reviews_ahead(&self) -> Result<(), GitHubError> {
        let numbers: Vec<u64> = self.pulls.iter().map(|p| p.number).collect();
        let all = block_on(futures::future::join_all(
            numbers.iter().map(|n| self.repo.reviews(*n)),
        ));
        let mut cache = self.lock_reviews();
        for (number, reviews) in numbers.into_iter().zip(all) {
            cache.insert(number, reviews?);
        }
        Ok(())
    }

    fn lock_reviews(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Vec<Review>>> {
        self.reviews.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Who the token belongs to (asked once).
    pub fn viewer(&self) -> Result<Identity, GitHubError> {
        if let Some(me) = self.viewer.get() {
            return Ok(me.clone());
        }
        let me = block_on(self.repo.viewer())?;
        Ok(self.viewer.get_or_init(|| me).clone())
    }
}

/// A pull request as its own page has it (with the mergeable state the list lacks), the
/// checks of its head and the reviews.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PullDetail {
    #[serde(flatten)]
    pub pull: PullRequest,
    pub checks: Checks,
    /// Each reviewer's latest deciding review.
    pub reviews: Vec<Review>,
}

impl PullDetail {
    /// What GitHub says, as lines of text: checks, mergeable state, requested reviewers,
    /// each reviewer's latest review.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!("checks: {}", self.checks.one_line()),
            format!(
                "mergeable: {}{}",
                self.pull
                    .mergeable_state
                    .as_deref()
                    .unwrap_or("not computed yet"),
                if self.pull.draft { " (draft)" } else { "" }
            ),
        ];
        if !self.pull.requested_reviewers.is_empty() {
            lines.push(format!(
                "review requested from: {}",
                self.pull.requested_reviewers.join(", ")
            ));
        }
        for review in &self.reviews {
            lines.push(format!(
                "{} {} at {:.10}",
                review.by,
                review.state.to_lowercase().replace('_', " "),
                review.commit
            ));
        }
        lines
    }
}

impl GitHubSide {
    /// The detail of `pull`, read at once.
    pub fn detail(&self, pull: &PullRequest) -> Result<PullDetail, GitHubError> {
        let (fresh, checks, reviews) = block_on(async {
            tokio::join!(
                self.repo.pull(pull.number),
                self.repo.checks(&pull.head_sha),
                self.repo.reviews(pull.number),
            )
        });
        if let Ok(reviews) = &reviews {
            self.lock_reviews().insert(pull.number, reviews.clone());
        }
        Ok(PullDetail {
            pull: fresh?,
            checks: checks?,
            reviews: latest_per_reviewer(&reviews?),
        })
    }
}

impl OpenRepo {
    pub(crate) fn open_github(
        config: &RepoConfig,
        github: &GitHubConfig,
    ) -> Result<OpenRepo, WorkspaceError> {
        let api_repo = GitHubRepo::new(github)?;
        Self::open_github_with(config, api_repo)
    }

    /// [`OpenRepo::open`] of a GitHub repository through a given client.
    pub fn open_github_with(
        config: &RepoConfig,
        api_repo: GitHubRepo,
    ) -> Result<OpenRepo, WorkspaceError> {
        let (info, pulls) = Self::list_github(config, &api_repo)?;
        Self::open_github_listed(config, api_repo, info, pulls)
    }

    /// The first half of opening a GitHub repository, API only: what the repository is
    /// and its open pull requests (enough for the inbox's first rows).
    pub fn list_github(
        config: &RepoConfig,
        api_repo: &GitHubRepo,
    ) -> Result<(RepoInfo, Vec<PullRequest>), WorkspaceError> {
        Ok(block_on(async {
            match &config.branch {
                // Both at once when the branch is known.
                Some(branch) => {
                    let (info, pulls) = tokio::join!(api_repo.info(), api_repo.open_pulls(branch));
                    Ok::<_, GitHubError>((info?, pulls?))
                }
                None => {
                    let info = api_repo.info().await?;
                    let pulls = api_repo.open_pulls(&info.default_branch).await?;
                    Ok((info, pulls))
                }
            }
        })?)
    }

    /// What a poll compares to notice a change on GitHub: each open pull request's
    /// number, head and base. Read through the client's ETag cache, so that an unchanged
    /// list is a `304 Not Modified`, which costs no quota.
    pub fn pulls_fingerprint(
        config: &RepoConfig,
        api_repo: &GitHubRepo,
    ) -> Result<String, WorkspaceError> {
        let (info, pulls) = Self::list_github(config, api_repo)?;
        let mut text = info.default_branch;
        for pull in pulls {
            text.push_str(&format!(
                " #{}:{}:{}:{}",
                pull.number, pull.head_sha, pull.base_ref, pull.base_sha
            ));
        }
        Ok(text)
    }

    /// The second half: fetch the mirror and open it.
    pub fn open_github_listed(
        config: &RepoConfig,
        api_repo: GitHubRepo,
        info: RepoInfo,
        pulls: Vec<PullRequest>,
    ) -> Result<OpenRepo, WorkspaceError> {
        let branch = config
            .branch
            .clone()
            .unwrap_or_else(|| info.default_branch.clone());
        let numbers: Vec<u64> = pulls.iter().map(|p| p.number).collect();
        let repo = mirror::sync(
            &config.name,
            &config.path,
            &info.clone_url,
            &branch,
            &numbers,
            Some(api_repo.api().token()),
        )?;
        Ok(OpenRepo {
            config: config.clone(),
            repo,
            branch,
            forge: std::sync::Arc::new(GitHubSide {
                repo: api_repo,
                info,
                pulls,
                viewer: OnceLock::new(),
                reviews: Mutex::new(HashMap::new()),
            }),
            renders: std::sync::Arc::new(crate::render::RenderCache::for_user()),
        })
    }

    /// The promotion a pull request is, read from the mirror.
    pub(crate) fn promotion_of_pull(
        &self,
        pull: &PullRequest,
    ) -> Result<Promotion, WorkspaceError> {
        // The fetched ref, not the listed sha: if someone pushed in between, the newer head
        // is what the diff shows and what a merge pins.
        let head = self.repo.resolve(&mirror::pull_ref(pull.number))?;
        let base = self.tip()?;
        let merge_base = self.repo.merge_base(head, base)?;
        let info = self.repo.commit_info(head)?;
        let author = Identity::github(&pull.author);
        Ok(Promotion {
            id: format!("{}#{}", self.name(), pull.number),
            repo: self.name().to_string(),
            title: pull.title.clone(),
            author: Person {
                name: author.name,
                email: author.email,
                time: pull.created,
                offset: 0,
            },
            environments: self.environments_touched(merge_base, head)?,
            branch: PromotionBranch {
                branch: pull.head_ref.clone(),
                head,
                base,
                merge_base,
                // A pull request's title and age are its own (above), not a commit's.
                first: info.clone(),
                info,
            },
            pull: Some(pull.clone()),
        })
    }
}
