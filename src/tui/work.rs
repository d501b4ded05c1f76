//! The slow work the TUI asks for (opening repositories, listing promotions, rendering
//! diffs) as plain blocking functions of the library, and the results they send back.
//! The event loop runs them off the render thread; tests call them directly.

use crate::config::Config;
use crate::git::CommitInfo;
use crate::manifest::textdiff::DiffLine;
use crate::manifest::{ChangeKind, FieldChange, ObjectKey};
use crate::workspace::{OpenRepo, parse_promotion_id, summary_line};

/// Each request carries an id; a result whose id is no longer the one the app waits
/// for is dropped.
pub type RequestId = u64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    LoadRepo { request: RequestId, repo: String },
    LoadPromotion { request: RequestId, id: String },
}

/// One row of the inbox.
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
}

/// An object of a promotion's diff, ready to draw.
#[derive(Debug, Clone)]
pub struct ObjectView {
    pub environment: String,
    pub key: ObjectKey,
    pub change: ChangeKind,
    pub renamed_from: Option<ObjectKey>,
    pub fields: Vec<FieldChange>,
    pub lines: Vec<DiffLine>,
}

#[derive(Debug, Clone)]
pub struct PromotionDetail {
    pub head: String,
    pub base: String,
    pub summary: String,
    /// Newest first.
    pub commits: Vec<CommitInfo>,
    pub description: String,
    pub objects: Vec<ObjectView>,
    /// Unreadable documents and failed renders, per environment.
    pub problems: Vec<String>,
}

#[derive(Debug)]
pub enum Outcome {
    Repo {
        request: RequestId,
        repo: String,
        result: Result<Vec<PromotionRow>, String>,
    },
    Promotion {
        request: RequestId,
        result: Result<Box<PromotionDetail>, String>,
    },
}

/// Do the work of `command`. Errors become text for the place the data would be.
pub fn execute(config: &Config, command: Command) -> Outcome {
    match command {
        Command::LoadRepo { request, repo } => Outcome::Repo {
            result: load_repo(config, &repo).map_err(|e| format!("{e:#}")),
            request,
            repo,
        },
        Command::LoadPromotion { request, id } => Outcome::Promotion {
            request,
            result: load_promotion(config, &id)
                .map(Box::new)
                .map_err(|e| format!("{e:#}")),
        },
    }
}

fn load_repo(config: &Config, name: &str) -> anyhow::Result<Vec<PromotionRow>> {
    use crate::workspace::ConfigExt;
    let open = OpenRepo::open(config.pick_repo(Some(name))?)?;
    Ok(open
        .promotions_with_summaries()?
        .into_iter()
        .map(|(p, summary)| PromotionRow {
            id: p.id.clone(),
            repo: p.repo.clone(),
            branch: p.branch.branch.clone(),
            title: p.title.clone(),
            author: p.author.name.clone(),
            created: p.author.time,
            environments: p.environments.clone(),
            summary,
        })
        .collect())
}

fn load_promotion(config: &Config, id: &str) -> anyhow::Result<PromotionDetail> {
    use crate::workspace::ConfigExt;
    let (repo, branch) = parse_promotion_id(id)?;
    let open = OpenRepo::open(config.pick_repo(Some(repo))?)?;
    let promotion = open.promotion(branch)?;
    let envs = open.diff(promotion.branch.merge_base, promotion.branch.head, None)?;
    let commits = match promotion.branch.merge_base {
        Some(base) => open.repo.commits_between(base, promotion.branch.head)?,
        None => vec![promotion.branch.info.clone()],
    };
    let mut objects = Vec::new();
    let mut problems = Vec::new();
    for env in &envs {
        problems.extend(
            env.render_errors
                .iter()
                .map(|e| format!("{}: render failed: {e}", env.name)),
        );
        problems.extend(env.issues.iter().map(|i| format!("{}: {i}", env.name)));
        for object in env.diff.changed() {
            objects.push(ObjectView {
                environment: env.name.clone(),
                key: object.key.clone(),
                change: object.change,
                renamed_from: object.renamed_from.clone(),
                fields: object.fields.clone(),
                lines: object.text_diff(3),
            });
        }
    }
    let head = promotion.head_commit();
    let description = if head.body.is_empty() {
        head.subject.clone()
    } else {
        format!("{}\n\n{}", head.subject, head.body)
    };
    Ok(PromotionDetail {
        head: promotion.branch.head.to_string(),
        base: promotion.branch.base.to_string(),
        summary: summary_line(&envs),
        commits,
        description,
        objects,
        problems,
    })
}
