//! The writes a verdict allows on a GitHub pull request, as the token's account: withdraw
//! an approval (GitHub has no withdraw: the review is dismissed) and merge pinned to the
//! judged head. Approving is one call (`GitHubRepo::approve`).

use gix::ObjectId;

use super::open::GitHubSide;
use super::pulls::latest_per_reviewer;
use super::{GitHubError, PullRequest, block_on};
use crate::identity::Identity;
use crate::policy::MergeMethod;

impl GitHubSide {
    /// Dismiss the token account's approval of `head`. `false`: there was none, and
    /// nothing was sent.
    pub fn withdraw_approval(
        &self,
        pull: &PullRequest,
        head: ObjectId,
    ) -> Result<bool, GitHubError> {
        let me = self.viewer()?;
        let reviews = block_on(self.repo.reviews(pull.number))?;
        let head = head.to_string();
        let mine = latest_per_reviewer(&reviews).into_iter().find(|r| {
            r.state == "APPROVED" && r.commit == head && Identity::github(&r.by).email == me.email
        });
        let Some(review) = mine else {
            return Ok(false);
        };
        let note = format!("{} withdrew this approval with tollgate", me.name);
        block_on(self.repo.dismiss(pull.number, review.id, &note))?;
        Ok(true)
    }

    /// Merge `pull` if its head is still `head`, with `message` (its first paragraph the
    /// commit title). Returns the new commit on the base branch.
    pub fn merge_pull(
        &self,
        pull: &PullRequest,
        head: ObjectId,
        method: MergeMethod,
        message: &str,
    ) -> Result<String, GitHubError> {
        let (title, body) = message.split_once("\n\n").unwrap_or((message, ""));
        let head = head.to_string();
        block_on(self.repo.merge(pull.number, &head, method, title, body))
    }
}
