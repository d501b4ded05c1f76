//! A revert or rollback of a GitHub repository, proposed as a pull request: the plan is
//! computed on the mirror as for a local repository, then written through the git data
//! API (the changed files as blobs, a tree on the tip's, the commit, a branch) and opened
//! as a pull request carrying the trailers and the reason. The tree GitHub builds must be
//! the tree tollgate computed, or no branch is created.

use gix::ObjectId;

use super::open::GitHubSide;
use super::{GitHubError, block_on};
use crate::rollback::{CreatedRollback, RollbackError, RollbackPlan};
use crate::workspace::{OpenRepo, WorkspaceError};

impl OpenRepo {
    pub(crate) fn create_rollback_on_github(
        &self,
        github: &GitHubSide,
        plan: &RollbackPlan,
        reason: Option<&str>,
    ) -> Result<CreatedRollback, RollbackError> {
        let tip = self.tip()?;
        if tip != plan.base {
            return Err(crate::git::GitError::RefMoved {
                repo: self.name().to_string(),
                reference: format!("refs/heads/{}", self.branch),
                expected: plan.base.to_string(),
                actual: tip.to_string(),
            }
            .into());
        }
        let changes = self.changed_files(self.repo.tree_of(plan.base)?, plan.tree)?;
        let contents: Vec<Option<Vec<u8>>> = changes
            .iter()
            .map(|(_, id)| id.map(|id| self.repo.blob(id)).transpose())
            .collect::<Result<_, _>>()?;
        let message = plan.message(reason, None);
        let (title, body) = message.split_once("\n\n").unwrap_or((&message, ""));
        let base_tree = self.repo.tree_of(plan.base)?.to_string();
        let api = &github.repo;
        let (into, branch) = (&self.branch, &plan.branch);
        let (ours, parent) = (plan.tree.to_string(), plan.base.to_string());
        let created = block_on(async {
            let blobs = futures::future::join_all(contents.iter().map(|c| async move {
                match c {
                    Some(bytes) => api.create_blob(bytes).await.map(Some),
                    None => Ok(None),
                }
            }))
            .await;
            let mut entries = Vec::new();
            for ((path, _), blob) in changes.iter().zip(blobs) {
                entries.push((path.clone(), blob?));
            }
            let tree = api.create_tree(&base_tree, &entries).await?;
            if tree != ours {
                return Ok(Err(tree));
            }
            let commit = api.create_commit(&message, &tree, &[parent]).await?;
            api.create_branch(branch, &commit).await?;
            let pull = api.create_pull(title, branch, into, body).await?;
            Ok::<_, GitHubError>(Ok((commit, pull)))
        })
        .map_err(WorkspaceError::from)?;
        let (commit, pull) = created.map_err(|theirs| RollbackError::TreeMismatch {
            repo: self.name().to_string(),
            ours: plan.tree.to_string(),
            theirs,
        })?;
        tracing::info!(kind = ?plan.kind, %commit, pull = pull.number, "rollback opened on GitHub");
        Ok(CreatedRollback {
            kind: plan.kind.clone(),
            promotion: Some(format!("{}#{}", self.name(), pull.number)),
            branch: plan.branch.clone(),
            commit,
            base: plan.base.to_string(),
            direct: false,
            environments: plan.environments.clone(),
            shared: plan.shared.clone(),
            kept_shared: plan.kept_shared.clone(),
        })
    }

    /// The files that differ between two trees: path → the new blob, `None` if removed.
    fn changed_files(
        &self,
        old: ObjectId,
        new: ObjectId,
    ) -> Result<Vec<(String, Option<ObjectId>)>, WorkspaceError> {
        let old_files = self.repo.files_under(old, "")?;
        let new_files = self.repo.files_under(new, "")?;
        let mut changes = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < old_files.len() || j < new_files.len() {
            match (old_files.get(i), new_files.get(j)) {
                (Some(a), Some(b)) if a.path == b.path => {
                    if a.id != b.id {
                        changes.push((b.path.clone(), Some(b.id)));
                    }
                    i += 1;
                    j += 1;
                }
                (Some(a), Some(b)) if a.path < b.path => {
                    changes.push((a.path.clone(), None));
                    i += 1;
                }
                (Some(a), None) => {
                    changes.push((a.path.clone(), None));
                    i += 1;
                }
                (_, Some(b)) => {
                    changes.push((b.path.clone(), Some(b.id)));
                    j += 1;
                }
                (None, None) => break,
            }
        }
        Ok(changes)
    }
}
