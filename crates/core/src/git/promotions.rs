//! Promotion branches in a plain git repository: local branches whose name matches the
//! repo's promotion pattern (default `promote/*`) and whose head is not yet reachable from
//! the protected branch.

use gix::ObjectId;

use super::{CommitInfo, GitError, GixContext, Repo};

#[derive(Debug, Clone)]
pub struct PromotionBranch {
    /// Branch name without `refs/heads/`.
    pub branch: String,
    pub head: ObjectId,
    /// The protected branch's tip when this was read.
    pub base: ObjectId,
    pub merge_base: Option<ObjectId>,
    /// The head commit.
    pub info: CommitInfo,
    /// The promotion's first commit (the oldest not on the protected branch): its title,
    /// author and age are the promotion's, whatever was pushed on top since.
    pub first: CommitInfo,
}

/// How far back the first commit of a promotion is looked for: a branch with no common
/// history with the protected branch would otherwise be walked to its root.
const FIRST_COMMIT_WALK_LIMIT: usize = 10_000;

/// Whether `branch` matches a promotion `pattern` (`*` also matches `/`).
pub fn matches_pattern(pattern: &str, branch: &str) -> bool {
    gix::glob::wildmatch(
        pattern.into(),
        branch.into(),
        gix::glob::wildmatch::Mode::empty(),
    )
}

impl Repo {
    /// Unmerged promotion branches, sorted by name.
    pub fn promotion_branches(
        &self,
        protected: &str,
        pattern: &str,
    ) -> Result<Vec<PromotionBranch>, GitError> {
        let base = self.branch_head(protected)?;
        let platform = self
            .inner
            .references()
            .during(&self.name, || "list references".into())?;
        let branches = platform
            .local_branches()
            .during(&self.name, || "list branches".into())?;
        let mut found = Vec::new();
        for reference in branches {
            let mut reference = match reference {
                Ok(r) => r,
                // A branch deleted while we list (a merge in another process) is gone,
                // not broken; anything unreadable is logged and skipped the same way.
                Err(e) => {
                    tracing::warn!(repo = %self.name, "skipping a branch that cannot be read: {e}");
                    continue;
                }
            };
            let branch = reference.name().shorten().to_string();
            if branch == protected || !matches_pattern(pattern, &branch) {
                continue;
            }
            let Ok(head) = reference.peel_to_id().map(|id| id.detach()) else {
                tracing::warn!(repo = %self.name, %branch, "skipping a branch that cannot be resolved");
                continue;
            };
            let merge_base = self.merge_base(head, base)?;
            if merge_base == Some(head) {
                // Already merged (or never diverged): nothing is pending.
                continue;
            }
            found.push(PromotionBranch {
                info: self.commit_info(head)?,
                first: self.first_commit(merge_base, head)?,
                branch,
                head,
                base,
                merge_base,
            });
        }
        found.sort_by(|a, b| a.branch.cmp(&b.branch));
        Ok(found)
    }

    /// The oldest commit reachable from `head` and not from `base` (within
    /// [`FIRST_COMMIT_WALK_LIMIT`] commits; `head` itself when there is none).
    fn first_commit(&self, base: Option<ObjectId>, head: ObjectId) -> Result<CommitInfo, GitError> {
        let walk = self
            .inner
            .rev_walk([head])
            .with_hidden(base)
            .sorting(gix::revision::walk::Sorting::BreadthFirst)
            .all()
            .during(&self.name, || format!("walk the commits of {head}"))?;
        let mut oldest = head;
        for info in walk.take(FIRST_COMMIT_WALK_LIMIT) {
            oldest = info
                .during(&self.name, || format!("walk the commits of {head}"))?
                .id;
        }
        self.commit_info(oldest)
    }

    /// The commits reachable from `head` but not from `base`, newest first.
    pub fn commits_between(
        &self,
        base: ObjectId,
        head: ObjectId,
    ) -> Result<Vec<CommitInfo>, GitError> {
        let walk = self
            .inner
            .rev_walk([head])
            .with_hidden([base])
            .all()
            .during(&self.name, || format!("walk {base}..{head}"))?;
        let mut commits = Vec::new();
        for info in walk {
            let info = info.during(&self.name, || format!("walk {base}..{head}"))?;
            commits.push(self.commit_info(info.id)?);
        }
        Ok(commits)
    }
}

#[cfg(test)]
mod tests {
    use super::matches_pattern;

    #[test]
    fn promotion_pattern_matches_nested_names() {
        assert!(matches_pattern("promote/*", "promote/api-1.5.0"));
        assert!(matches_pattern("promote/*", "promote/team/x"));
        assert!(!matches_pattern("promote/*", "feature/x"));
    }
}
