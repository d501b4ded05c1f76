//! The data the views draw, as the background work prepares it: inbox rows, a review's
//! objects and files, environments, history rows, an undo's preview.

use crate::audit::Finding;
use crate::git::CommitInfo;
use crate::history::HistoryEntry;
use crate::manifest::textdiff::{DiffLine, Row};
use crate::manifest::{ChangeKind, FieldChange, ObjectKey};
use crate::raw_diff::FileStatus;

/// One row of the inbox, and the header of a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionRow {
    pub id: String,
    pub repo: String,
    pub branch: String,
    pub title: String,
    pub author: String,
    /// Seconds since the epoch.
    pub created: i64,
    pub environments: Vec<String>,
    pub summary: String,
    /// `1/2`: valid approvals of the head over those required (all environments).
    pub approvals: String,
    /// Whether the person using tollgate may merge it now.
    pub can_merge: bool,
    /// A pull request's page on GitHub.
    pub url: Option<String>,
}

/// An object of a diff, ready to draw.
#[derive(Debug, Clone)]
pub struct ObjectView {
    pub environment: String,
    pub key: ObjectKey,
    pub change: ChangeKind,
    pub renamed_from: Option<ObjectKey>,
    pub fields: Vec<FieldChange>,
    pub lines: Vec<DiffLine>,
    /// The lines paired up side by side, worked out here rather than in every frame.
    pub rows: Vec<Row>,
}

/// A file of the raw diff, ready to draw.
#[derive(Debug, Clone)]
pub struct FileView {
    pub environment: String,
    pub path: String,
    pub status: FileStatus,
    pub lines: Vec<DiffLine>,
    /// The lines paired up side by side.
    pub rows: Vec<Row>,
}

/// What the review screen shows: a promotion, or one commit against its parent.
#[derive(Debug, Clone)]
pub struct ReviewDetail {
    pub head: String,
    pub base: String,
    pub summary: String,
    /// Newest first.
    pub commits: Vec<CommitInfo>,
    pub description: String,
    pub objects: Vec<ObjectView>,
    /// The file diff of the environments' inputs (`r` in the review).
    pub files: Vec<FileView>,
    /// Unreadable documents and failed renders, per environment.
    pub problems: Vec<String>,
    /// Changes a reviewer must not miss (`env: deletes Namespace/shop`), also among the
    /// problems; the approve and merge dialogs repeat them.
    pub warnings: Vec<String>,
}

/// An environment in the environments view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentRow {
    pub repo: String,
    pub name: String,
    pub path: String,
    pub renderer: String,
    /// The last commit that changed it.
    pub last: Option<HistoryRow>,
    /// Whether the config says where it is deployed.
    pub cluster: bool,
}

/// A commit in an environment's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub sha: String,
    pub time: i64,
    pub author: String,
    pub subject: String,
    /// Who approved it, as the audit counts them (signed, authorised); never trailers.
    pub approvers: Vec<String>,
    /// The audit's finding on this change of the protected branch, and why; `None` for
    /// commits a merge brought in (judged through that merge).
    pub audit: Option<(Finding, String)>,
    /// `reverts 1a2b3c`, `break-glass`: what the trailers say beyond approvals.
    pub marks: Vec<String>,
    /// Rendered mode: `~ Deployment/shop/api` per changed object.
    pub changes: Vec<String>,
    pub render_error: Option<String>,
}

impl HistoryRow {
    pub(super) fn from_entry(entry: &HistoryEntry) -> HistoryRow {
        let commit = &entry.commit;
        let mut marks: Vec<String> = commit
            .trailer_values("Reverts")
            .map(|v| format!("reverts {}", crate::text::short(v)))
            .collect();
        marks.extend(
            commit
                .trailer_values("Rollback-to")
                .map(|v| format!("rollback to {}", crate::text::short(v))),
        );
        if commit.trailer_values("Break-glass").next().is_some() {
            marks.push("break-glass".into());
        }
        HistoryRow {
            sha: commit.sha.clone(),
            time: commit.author.time,
            author: commit.author.name.clone(),
            subject: commit.subject.clone(),
            approvers: Vec::new(),
            audit: None,
            marks,
            changes: entry
                .objects
                .iter()
                .flat_map(|e| {
                    e.changes
                        .iter()
                        .map(|c| format!("{} {}", c.change.marker(), c.key))
                })
                .collect(),
            render_error: entry.objects.iter().find_map(|e| e.render_error.clone()),
        }
    }
}

/// A revert or rollback as the dialog shows it before anything is written.
#[derive(Debug, Clone)]
pub struct UndoPreview {
    /// `revert 1a2b3c4d5e ("api 1.4.2")`.
    pub headline: String,
    pub base: String,
    pub tree: String,
    /// The promotion branch it will open.
    pub branch: String,
    pub environments: Vec<String>,
    pub shared: Vec<String>,
    pub summary: String,
    /// The changes it takes back, newest first: `sha  subject  (author)`.
    pub undoes: Vec<String>,
    pub objects: Vec<ObjectView>,
    pub problems: Vec<String>,
}
