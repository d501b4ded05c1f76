//! What merging a promotion now would do to the protected branch's tip, beside the
//! promotion's own change (which is from the merge base): nothing at all (`already
//! merged`), a conflict (with the paths), or a three-way merge onto a tip that changed the
//! same environments since the promotion branched (`behind`). Computed with the same
//! three-way merge `merge` writes, so what is flagged is what would happen.

use gix::ObjectId;
use serde::Serialize;

use crate::workspace::{OpenRepo, Promotion, WorkspaceError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MergeState {
    /// Branched from the tip: merging brings exactly its own change.
    Clean,
    /// The tip moved on, in other environments (or files) only.
    Moved,
    /// The tip changed some of the same environments since it branched.
    Behind,
    /// The three-way merge onto the tip conflicts.
    Conflicts,
    /// The tip already has its change: merging changes nothing.
    AlreadyMerged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeOutlook {
    pub state: MergeState,
    /// For `conflicts`: the paths.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// For `behind`: the environments the tip changed since the promotion branched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub behind: Vec<String>,
    /// The tree merging it now would give (none for a conflict).
    #[serde(skip)]
    pub merged_tree: Option<ObjectId>,
}

impl MergeOutlook {
    /// `[conflicts]`, `[behind]`, `[already merged]`, or nothing: a flag for one line.
    pub fn flag(&self) -> Option<&'static str> {
        match self.state {
            MergeState::Clean | MergeState::Moved => None,
            MergeState::Behind => Some("behind"),
            MergeState::Conflicts => Some("conflicts"),
            MergeState::AlreadyMerged => Some("already merged"),
        }
    }

    /// The flag in words, for the verdict and the review.
    pub fn explain(&self, branch: &str) -> Option<String> {
        match self.state {
            MergeState::Clean | MergeState::Moved => None,
            MergeState::Behind => Some(format!(
                "behind: {branch} changed {} since it branched; `tollgate diff` shows what merging it now does",
                self.behind.join(", ")
            )),
            MergeState::Conflicts => Some(format!(
                "it conflicts with {branch}: both changed the same lines in {}; merge {branch} into it (or rebase it) first",
                self.conflicts.join(", ")
            )),
            MergeState::AlreadyMerged => Some(format!(
                "already merged: {branch} has its change, so merging changes nothing; `tollgate close` deletes its branch"
            )),
        }
    }
}

impl OpenRepo {
    /// What merging `promotion` onto the protected branch's tip now would do.
    pub fn merge_outlook(&self, promotion: &Promotion) -> Result<MergeOutlook, WorkspaceError> {
        let branch = &promotion.branch;
        let tip = self.tip()?;
        let (tip_tree, head_tree) = (self.repo.tree_of(tip)?, self.repo.tree_of(branch.head)?);
        let outlook = |state, merged_tree| MergeOutlook {
            state,
            conflicts: Vec::new(),
            behind: Vec::new(),
            merged_tree,
        };
        if branch.merge_base == Some(tip) {
            let state = if head_tree == tip_tree {
                MergeState::AlreadyMerged
            } else {
                MergeState::Clean
            };
            return Ok(outlook(state, Some(head_tree)));
        }
        let ancestor = self.tree_or_empty(branch.merge_base)?;
        let merged = match self.repo.merge_trees(ancestor, tip_tree, head_tree)? {
            Err(paths) => {
                return Ok(MergeOutlook {
                    conflicts: paths,
                    ..outlook(MergeState::Conflicts, None)
                });
            }
            Ok(tree) => tree,
        };
        if merged == tip_tree {
            return Ok(outlook(MergeState::AlreadyMerged, Some(merged)));
        }
        let moved = self.environments_touched_in(ancestor, tip_tree)?;
        let behind: Vec<String> = moved
            .into_iter()
            .filter(|env| promotion.environments.contains(env))
            .collect();
        if behind.is_empty() {
            return Ok(outlook(MergeState::Moved, Some(merged)));
        }
        Ok(MergeOutlook {
            behind,
            ..outlook(MergeState::Behind, Some(merged))
        })
    }
}
