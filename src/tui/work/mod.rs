//! The slow work the TUI asks for (opening repositories, listing promotions and
//! environments, walking history, rendering diffs) as plain blocking functions of the
//! library, and the results they send back. The event loop runs them off the render
//! thread; tests call them directly. What is asked and answered is in `protocol.rs`, the
//! rows the views draw in `rows.rs`; this file does the work.

mod protocol;
mod rows;

pub use protocol::{Command, Outcome, RequestId, ReviewAction, UndoRequest, UndoTarget};
pub use rows::{
    EnvironmentRow, FileView, HistoryRow, ObjectView, PromotionRow, ReviewDetail, UndoPreview,
};

use std::ops::ControlFlow;

use crate::audit::{Auditor, Finding};
use crate::config::Config;
use crate::forge::github::open::GitHubSide;
use crate::forge::github::{GitHubRepo, PullRequest};
use crate::git::CommitInfo;
use crate::history::{HistoryMode, HistoryQuery, default_index_dir, walk_history};
use crate::identity::Identity;
use crate::manifest::textdiff::side_by_side_rows;
use crate::reconcile::status::{Deployed, deployed_status, read_deployed};
use crate::review::ReviewError;
use crate::rollback::{RollbackKind, RollbackPlan};
use crate::verdict::Verdict;
use crate::workspace::{ConfigExt, EnvironmentDiff, OpenRepo, parse_promotion_id, summary_line};

/// History arrives in pages of this many entries, so the first ones show at once.
const HISTORY_PAGE: usize = 50;

/// How many of the changes a rollback takes back the preview lists.
const UNDONE_LISTED: usize = 50;

/// Do the work of `command`, handing each result to `emit` (history comes in pages).
/// Errors become text for the place the data would be.
///
/// `wanted` says whether the app still waits for a request: a history walk the user has
/// left stops at its next commit instead of walking to the end for nobody.
pub fn execute(
    config: &Config,
    command: Command,
    wanted: &dyn Fn(RequestId) -> bool,
    emit: &mut dyn FnMut(Outcome),
) {
    let text = |e: anyhow::Error| format!("{e:#}");
    match command {
        Command::PlanUndo { request, undo } => emit(Outcome::UndoPlanned {
            request,
            result: open(config, &undo.repo)
                .and_then(|open| plan_undo(&open, &undo))
                .map(|(preview, _)| Box::new(preview))
                .map_err(text),
        }),
        Command::CreateUndo {
            request,
            undo,
            reason,
            base,
            tree,
        } => emit(match create_undo(config, &undo, &reason, &base, &tree) {
            Ok(UndoWritten::Promotion(row)) => Outcome::UndoCreated {
                request,
                result: Ok(row),
            },
            Ok(UndoWritten::Directly(done)) => Outcome::UndoWrittenDirectly {
                request,
                result: Ok(done),
            },
            Err(e) if undo.direct => Outcome::UndoWrittenDirectly {
                request,
                result: Err(text(e)),
            },
            Err(e) => Outcome::UndoCreated {
                request,
                result: Err(text(e)),
            },
        }),
        Command::LoadRepo { request, repo } => {
            // A GitHub repo shows its pull requests as soon as the API has listed them;
            // their diffs and verdicts follow once the mirror is fetched.
            let result = load_repo(config, &repo, &mut |rows| {
                emit(Outcome::Repo {
                    request,
                    repo: repo.clone(),
                    result: Ok(rows),
                })
            });
            let result = result.map(|(rows, account)| {
                if let Some(account) = account {
                    emit(Outcome::GitHubAccount(account));
                }
                rows
            });
            emit(Outcome::Repo {
                result: result.map_err(text),
                request,
                repo,
            })
        }
        Command::OpenUrl { url } => emit(Outcome::Message(match webbrowser::open(&url) {
            Ok(()) => format!("opened {url}"),
            Err(e) => format!("cannot open a browser ({e}); the page is {url}"),
        })),
        Command::PollRepo { repo } => emit(Outcome::Polled {
            fingerprint: poll(config, &repo),
            repo,
        }),
        Command::LoadVerdict { request, id } => emit(Outcome::Verdict {
            request,
            result: load_verdict(config, &id).map(Box::new).map_err(text),
        }),
        Command::Act {
            request,
            id,
            head,
            action,
            acknowledge_unrendered,
            break_glass,
        } => emit(Outcome::Acted {
            request,
            action,
            result: act(
                config,
                &id,
                &head,
                action,
                Consent {
                    acknowledge_unrendered,
                    break_glass: break_glass.as_deref(),
                },
            )
            .map_err(text),
        }),
        Command::Close {
            request,
            id,
            head,
            reason,
        } => emit(Outcome::Closed {
            request,
            result: close(config, &id, &head, &reason).map_err(text),
        }),
        Command::LoadPromotion { request, id } => emit(Outcome::Review {
            request,
            result: load_promotion(config, &id).map(Box::new).map_err(text),
        }),
        Command::LoadCommit { request, repo, sha } => emit(Outcome::Review {
            request,
            result: load_commit(config, &repo, &sha).map(Box::new).map_err(text),
        }),
        Command::LoadInterdiff {
            request,
            repo,
            from,
            to,
        } => emit(Outcome::Interdiff {
            request,
            result: load_interdiff(config, &repo, &from, &to)
                .map(Box::new)
                .map_err(text),
        }),
        Command::LoadDeployed { request, repo, env } => emit(Outcome::Deployed {
            result: load_deployed(config, &repo, &env).map_err(text),
            request,
            repo,
            env,
        }),
        Command::LoadEnvironments { request, repo } => emit(Outcome::Environments {
            result: load_environments(config, &repo).map_err(text),
            request,
            repo,
        }),
        Command::LoadHistory {
            request,
            repo,
            env,
            mode,
            first_parent,
        } => {
            let mut page = Vec::new();
            let walk = HistoryWalk {
                repo: &repo,
                env: &env,
                mode,
                first_parent,
            };
            let result = stream_history(config, &walk, &mut |row| {
                page.push(row);
                if page.len() == HISTORY_PAGE {
                    emit(Outcome::History {
                        request,
                        rows: std::mem::take(&mut page),
                        done: false,
                        error: None,
                    });
                }
                if wanted(request) {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(())
                }
            });
            emit(Outcome::History {
                request,
                rows: page,
                done: true,
                error: result.err().map(text),
            });
        }
    }
}

/// Collect a [`Vec`] of everything `command` produces; for tests and simple callers.
pub fn execute_all(config: &Config, command: Command) -> Vec<Outcome> {
    let mut out = Vec::new();
    execute(config, command, &|_| true, &mut |o| out.push(o));
    out
}

fn open(config: &Config, repo: &str) -> anyhow::Result<OpenRepo> {
    Ok(OpenRepo::open(config.pick_repo(Some(repo))?)?)
}

fn me(config: &Config, open: &OpenRepo) -> anyhow::Result<Identity> {
    Ok(open.identity(config.identity.as_deref())?)
}

fn load_repo(
    config: &Config,
    name: &str,
    listed: &mut dyn FnMut(Vec<PromotionRow>),
) -> anyhow::Result<(Vec<PromotionRow>, Option<String>)> {
    let repo_config = config.pick_repo(Some(name))?;
    let open = match &repo_config.github {
        Some(github) => {
            let api_repo = GitHubRepo::new(github)?;
            let (info, pulls) = OpenRepo::list_github(repo_config, &api_repo)?;
            listed(pulls.iter().map(|p| listed_row(name, p)).collect());
            let open = OpenRepo::open_github_listed(repo_config, api_repo, info, pulls)?;
            open.forge.read_ahead()?;
            open
        }
        None => {
            // The branches first: the inbox shows them while their diffs and verdicts are
            // computed.
            let open = OpenRepo::open(repo_config)?;
            listed(
                open.forge
                    .listed(&open)?
                    .iter()
                    .map(listed_promotion_row)
                    .collect(),
            );
            open
        }
    };
    let me = me(config, &open).ok();
    let now = jiff::Timestamp::now();
    let mut rows = Vec::new();
    for row in open.promotions_with_summaries()? {
        let (p, summary) = (row.promotion, row.summary);
        let verdict = match &me {
            Some(me) => Some(open.verdict(&p, me, now)?),
            None => None,
        };
        let approvals = verdict.as_ref().map_or_else(|| "-".into(), approvals_text);
        rows.push(PromotionRow {
            id: p.id.clone(),
            repo: p.repo.clone(),
            branch: p.branch.branch.clone(),
            title: p.title.clone(),
            author: p.author.name.clone(),
            created: p.author.time,
            environments: p.environments.clone(),
            summary,
            approvals,
            can_merge: verdict.is_some_and(|v| v.can_merge),
            url: p.pull.as_ref().map(|pull| pull.url.clone()),
        });
    }
    // On GitHub you are the token's account: the status bar says which.
    let account = me.filter(|_| !open.forge.signs()).map(|me| me.name.clone());
    Ok((rows, account))
}

/// A promotion as its forge listed it, before its diff and verdict are known.
fn listed_promotion_row(p: &crate::workspace::Promotion) -> PromotionRow {
    PromotionRow {
        id: p.id.clone(),
        repo: p.repo.clone(),
        branch: p.branch.branch.clone(),
        title: p.title.clone(),
        author: p.author.name.clone(),
        created: p.author.time,
        environments: p.environments.clone(),
        summary: "computing…".into(),
        approvals: "…".into(),
        can_merge: false,
        url: p.pull.as_ref().map(|pull| pull.url.clone()),
    }
}

/// A pull request as the API listed it, before its diff and verdict are known.
fn listed_row(repo: &str, pull: &PullRequest) -> PromotionRow {
    PromotionRow {
        id: format!("{repo}#{}", pull.number),
        repo: repo.to_string(),
        branch: pull.head_ref.clone(),
        title: pull.title.clone(),
        author: pull.author.clone(),
        created: pull.created,
        environments: Vec::new(),
        summary: "fetching…".into(),
        approvals: "…".into(),
        can_merge: false,
        url: Some(pull.url.clone()),
    }
}

/// `1/2`: the valid approvals of the environment with the fewest, over the most required.
fn approvals_text(verdict: &Verdict) -> String {
    if verdict.environments.is_empty() {
        return "-".into();
    }
    format!(
        "{}/{}",
        verdict
            .environments
            .iter()
            .map(|e| e.valid)
            .min()
            .unwrap_or(0),
        verdict
            .environments
            .iter()
            .map(|e| e.required)
            .max()
            .unwrap_or(0)
    )
}

/// The fingerprint of a repo: a local one's refs; a GitHub one's open pull requests,
/// asked with the ETag of the last answer (unchanged, GitHub answers 304 and charges no
/// quota).
fn poll(config: &Config, repo: &str) -> Option<String> {
    let repo_config = config.pick_repo(Some(repo)).ok()?;
    if let Some(github) = &repo_config.github {
        let api_repo = GitHubRepo::new(github).ok()?;
        return OpenRepo::pulls_fingerprint(repo_config, &api_repo).ok();
    }
    crate::git::Repo::open(&repo_config.name, &repo_config.path)
        .and_then(|r| r.refs_fingerprint())
        .ok()
}

fn load_verdict(config: &Config, id: &str) -> anyhow::Result<Verdict> {
    let (repo, branch) = parse_promotion_id(id)?;
    let open = open(config, repo)?;
    let promotion = open.promotion(branch)?;
    Ok(open.verdict(&promotion, &me(config, &open)?, jiff::Timestamp::now())?)
}

/// What the person said yes to beyond the action itself.
struct Consent<'a> {
    acknowledge_unrendered: bool,
    /// The reason of a break-glass merge.
    break_glass: Option<&'a str>,
}

fn act(
    config: &Config,
    id: &str,
    reviewed_head: &str,
    action: ReviewAction,
    consent: Consent<'_>,
) -> anyhow::Result<String> {
    let Consent {
        acknowledge_unrendered,
        break_glass,
    } = consent;
    let (repo, branch) = parse_promotion_id(id)?;
    let open = open(config, repo)?;
    let promotion = open.promotion(branch)?;
    let me = me(config, &open)?;
    let now = jiff::Timestamp::now();
    let reviewed = Some(gix::ObjectId::from_hex(reviewed_head.as_bytes())?);
    let moved = |e: ReviewError| match e {
        ReviewError::Moved { head, .. } => anyhow::anyhow!(
            "the promotion moved since you opened it (its head is now {head}): nothing was written; go back (esc) and open it again to review the new head"
        ),
        other => other.into(),
    };
    Ok(match action {
        ReviewAction::Approve => {
            open.approve(&promotion, reviewed, &me, None, acknowledge_unrendered, now)
                .map_err(moved)?;
            format!("approved {id} at {}", crate::text::short(reviewed_head))
        }
        ReviewAction::Unapprove => match open.unapprove(&promotion, &me, now)? {
            true => format!("withdrew your approval of {id}"),
            false => format!("you had not approved the head of {id}"),
        },
        ReviewAction::Merge => {
            let merged = open
                .merge(&promotion, reviewed, &me, break_glass, now)
                .map_err(moved)?;
            format!(
                "merged {id} into {} as {}",
                merged.branch,
                crate::text::short(&merged.commit)
            )
        }
    })
}

fn close(config: &Config, id: &str, head: &str, reason: &str) -> anyhow::Result<String> {
    let (repo, branch) = parse_promotion_id(id)?;
    let open = open(config, repo)?;
    let promotion = open.promotion(branch)?;
    let me = me(config, &open)?;
    let head = gix::ObjectId::from_hex(head.as_bytes())?;
    let closed = open.close(
        &promotion,
        Some(head),
        &me,
        Some(reason),
        jiff::Timestamp::now(),
    )?;
    Ok(format!(
        "closed {}: branch {} deleted, why recorded",
        closed.id, closed.branch
    ))
}

fn plan_undo(open: &OpenRepo, undo: &UndoRequest) -> anyhow::Result<(UndoPreview, RollbackPlan)> {
    let commit = open.repo.resolve(&undo.sha)?;
    let plan = match &undo.target {
        UndoTarget::Revert => open.plan_revert(commit)?,
        UndoTarget::Rollback { env } => open.plan_rollback(
            env,
            commit,
            match undo.include_shared {
                true => crate::rollback::SharedFiles::Include,
                false => crate::rollback::SharedFiles::Refuse,
            },
        )?,
    };
    let envs = open.diff_trees(open.repo.tree_of(plan.base)?, plan.tree, None)?;
    let (objects, problems) = objects_of(&envs);
    let target = format!(
        "{} (\"{}\")",
        crate::text::short(&plan.target.sha),
        plan.target.title()
    );
    let headline = match &plan.kind {
        RollbackKind::Revert { .. } => format!("revert {target}"),
        RollbackKind::Rollback { environment, .. } => {
            format!("roll {environment} back to {target}")
        }
    };
    let line = |c: &CommitInfo| {
        format!(
            "{}  {}  ({})",
            crate::text::short(&c.sha),
            c.subject,
            c.author.name
        )
    };
    let undoes = match &plan.kind {
        // A merge's revert takes back every commit the merge brought in; a plain commit's
        // is the headline.
        RollbackKind::Revert { .. } => match plan.target.parents.as_slice() {
            [first, _, ..] => open
                .repo
                .commits_between(*first, plan.target.id)?
                .iter()
                .filter(|c| c.id != plan.target.id)
                .take(UNDONE_LISTED)
                .map(line)
                .collect(),
            _ => Vec::new(),
        },
        // Each change of the environment on the branch's own line since the target.
        RollbackKind::Rollback { environment, .. } => {
            let mut undone = Vec::new();
            let query = HistoryQuery {
                env: Some(environment),
                mode: HistoryMode::Inputs,
                limit: Some(UNDONE_LISTED),
                index_dir: None,
                first_parent: true,
                with_policy: false,
                range: Some((plan.base, plan.target.id)),
            };
            walk_history(open, &query, |entry| {
                undone.push(line(&entry.commit));
                ControlFlow::Continue(())
            })?;
            undone
        }
    };
    let preview = UndoPreview {
        undoes,
        headline,
        base: plan.base.to_string(),
        tree: plan.tree.to_string(),
        branch: plan.branch.clone(),
        environments: plan.environments.clone(),
        shared: plan.shared.clone(),
        summary: summary_line(&envs),
        objects,
        problems,
    };
    Ok((preview, plan))
}

/// What writing a revert or rollback made.
enum UndoWritten {
    /// A promotion, to review and approve like any other.
    Promotion(Box<PromotionRow>),
    /// A break-glass commit straight onto the protected branch, in words.
    Directly(String),
}

fn create_undo(
    config: &Config,
    undo: &UndoRequest,
    reason: &str,
    base: &str,
    tree: &str,
) -> anyhow::Result<UndoWritten> {
    let open = open(config, &undo.repo)?;
    let (preview, plan) = plan_undo(&open, undo)?;
    if preview.base != base || preview.tree != tree {
        anyhow::bail!(
            "{} moved since the preview ({} → {}); nothing was written. Look at the new preview and confirm again",
            undo.repo,
            crate::text::short(base),
            crate::text::short(&preview.base)
        );
    }
    let me = me(config, &open)?;
    let now = jiff::Timestamp::now();
    let created = open.create_rollback(&plan, &me, Some(reason), undo.direct, now)?;
    if undo.direct {
        return Ok(UndoWritten::Directly(format!(
            "{} written onto {} as {} (break-glass: the audit lists it until someone reviews it)",
            preview.headline,
            open.branch,
            crate::text::short(&created.commit)
        )));
    }
    let id = created
        .promotion
        .unwrap_or_else(|| format!("{}:{}", undo.repo, plan.branch));
    // A pull request is new on GitHub: look again to see it.
    let open = match open.github().is_some() {
        true => self::open(config, &undo.repo)?,
        false => open,
    };
    let (_, key) = parse_promotion_id(&id)?;
    let promotion = open.promotion(key)?;
    let approvals = open
        .verdict(&promotion, &me, now)
        .map_or_else(|_| "-".into(), |v| approvals_text(&v));
    Ok(UndoWritten::Promotion(Box::new(PromotionRow {
        id,
        repo: undo.repo.clone(),
        branch: plan.branch.clone(),
        title: promotion.title.clone(),
        author: me.name.clone(),
        created: now.as_second(),
        environments: promotion.environments.clone(),
        summary: preview.summary,
        approvals,
        can_merge: false,
        url: promotion.pull.as_ref().map(|p| p.url.clone()),
    })))
}

fn warnings_of(envs: &[EnvironmentDiff]) -> Vec<String> {
    envs.iter()
        .flat_map(|env| env.warnings.iter().map(|w| format!("{}: {w}", env.name)))
        .collect()
}

fn objects_of(envs: &[EnvironmentDiff]) -> (Vec<ObjectView>, Vec<String>) {
    let mut objects = Vec::new();
    let mut problems = Vec::new();
    for env in envs {
        problems.extend(
            env.render_errors
                .iter()
                .map(|e| format!("{}: render failed: {e}", env.name)),
        );
        problems.extend(env.issues.iter().map(|i| format!("{}: {i}", env.name)));
        // What was not rendered is never shown as nothing: it is a problem of the review.
        if env.render_errors.is_empty()
            && env.issues.is_empty()
            && let Some(status) = env.render.describe()
        {
            problems.push(format!("{}: {status}", env.name));
        }
        problems.extend(env.warnings.iter().map(|w| format!("{}: ⚠ {w}", env.name)));
        for object in env.diff.changed() {
            let lines = object.text_diff(3);
            objects.push(ObjectView {
                rows: side_by_side_rows(&lines),
                environment: env.name.clone(),
                key: object.key.clone(),
                change: object.change,
                renamed_from: object.renamed_from.as_deref().cloned(),
                fields: object.fields.clone(),
                lines,
            });
        }
    }
    (objects, problems)
}

/// The raw file diff between two commits, for the environments a review shows.
fn files_of(
    open: &OpenRepo,
    old: Option<gix::ObjectId>,
    new: gix::ObjectId,
) -> anyhow::Result<Vec<FileView>> {
    Ok(open
        .raw_diff(old, new, None)?
        .into_iter()
        .flat_map(|(environment, files)| {
            files.into_iter().map(move |f| FileView {
                rows: side_by_side_rows(&f.lines),
                environment: environment.clone(),
                path: f.path,
                status: f.status,
                lines: f.lines,
            })
        })
        .collect())
}

fn message(commit: &CommitInfo) -> String {
    let mut text = commit.subject.clone();
    if !commit.body.is_empty() {
        text.push_str("\n\n");
        text.push_str(&commit.body);
    }
    if !commit.trailers.is_empty() {
        text.push_str("\n\n");
        for trailer in &commit.trailers {
            text.push_str(&format!("{}: {}\n", trailer.key, trailer.value));
        }
    }
    text
}

fn load_promotion(config: &Config, id: &str) -> anyhow::Result<ReviewDetail> {
    let (repo, branch) = parse_promotion_id(id)?;
    let open = open(config, repo)?;
    let promotion = open.promotion(branch)?;
    let envs = open.diff(promotion.branch.merge_base, promotion.branch.head, None)?;
    let commits = match promotion.branch.merge_base {
        Some(base) => open.repo.commits_between(base, promotion.branch.head)?,
        None => vec![promotion.branch.info.clone()],
    };
    let (objects, problems) = objects_of(&envs);
    let files = files_of(&open, promotion.branch.merge_base, promotion.branch.head)?;
    Ok(ReviewDetail {
        files,
        head: promotion.branch.head.to_string(),
        base: promotion.branch.base.to_string(),
        summary: summary_line(&envs),
        description: match (open.github(), &promotion.pull) {
            (Some(github), Some(pull)) => pull_description(github, pull),
            _ => message(promotion.head_commit()),
        },
        commits,
        objects,
        problems,
        warnings: warnings_of(&envs),
    })
}

/// A pull request's description: its page, what GitHub says of it, then its body.
fn pull_description(github: &GitHubSide, pull: &PullRequest) -> String {
    let mut text = format!("{}\n{}\n\n", pull.title, pull.url);
    match github.detail(pull) {
        Ok(detail) => {
            for line in detail.lines() {
                text.push_str(&line);
                text.push('\n');
            }
        }
        Err(e) => text.push_str(&format!("GitHub could not say more: {e}\n")),
    }
    text.push('\n');
    text.push_str(&pull.body);
    text
}

fn load_commit(config: &Config, repo: &str, sha: &str) -> anyhow::Result<ReviewDetail> {
    let open = open(config, repo)?;
    let id = open.repo.resolve(sha)?;
    let commit = open.repo.commit_info(id)?;
    let parent = commit.parents.first().copied();
    let envs = open.diff(parent, id, None)?;
    let (objects, problems) = objects_of(&envs);
    let files = files_of(&open, parent, id)?;
    Ok(ReviewDetail {
        files,
        head: commit.sha.clone(),
        base: parent
            .map(|p| p.to_string())
            .unwrap_or_else(|| "(root)".into()),
        summary: summary_line(&envs),
        description: message(&commit),
        commits: vec![commit],
        objects,
        problems,
        warnings: warnings_of(&envs),
    })
}

/// The rendered diff from an approved head to the promotion's head now: both rendered,
/// object by object, as any review. After a rebase it also holds what the new base
/// brought in, and says so.
fn load_interdiff(
    config: &Config,
    repo: &str,
    from: &str,
    to: &str,
) -> anyhow::Result<ReviewDetail> {
    let open = open(config, repo)?;
    // Commit ids, never names: a branch called like a sha would follow what was pushed.
    let (old, new) = (
        gix::ObjectId::from_hex(from.as_bytes())?,
        gix::ObjectId::from_hex(to.as_bytes())?,
    );
    let envs = open.diff(Some(old), new, None)?;
    let (objects, problems) = objects_of(&envs);
    let rebased = open.repo.merge_base(old, new)? != Some(old);
    let mut description = format!(
        "What changed since {} was approved, up to {}: the commits pushed on top, rendered.\n",
        crate::text::short(from),
        crate::text::short(to)
    );
    if rebased {
        description.push_str(
            "The promotion was rebased or rewritten since: this also shows what its new base brought in.\n",
        );
    }
    Ok(ReviewDetail {
        files: files_of(&open, Some(old), new)?,
        head: new.to_string(),
        base: old.to_string(),
        summary: summary_line(&envs),
        description,
        commits: open.repo.commits_between(old, new)?,
        objects,
        problems,
        warnings: warnings_of(&envs),
    })
}

fn load_environments(config: &Config, repo: &str) -> anyhow::Result<Vec<EnvironmentRow>> {
    let open = open(config, repo)?;
    let tip = open.tip()?;
    let index_dir = default_index_dir();
    let mut rows = Vec::new();
    for env in open.environments_at(Some(tip))? {
        let mut last = None;
        let query = HistoryQuery {
            env: Some(&env.name),
            mode: HistoryMode::Inputs,
            limit: Some(1),
            index_dir: index_dir.as_deref(),
            first_parent: false,
            with_policy: false,
            range: None,
        };
        walk_history(&open, &query, |entry| {
            last = Some(HistoryRow::from_entry(&entry));
            ControlFlow::Break(())
        })?;
        rows.push(EnvironmentRow {
            cluster: open.config.cluster_of(&env.name).is_some(),
            repo: repo.to_string(),
            renderer: format!("{:?}", env.renderer).to_lowercase(),
            name: env.name,
            path: env.path,
            last,
        });
    }
    Ok(rows)
}

fn load_deployed(config: &Config, repo: &str, env: &str) -> anyhow::Result<Deployed> {
    let open = open(config, repo)?;
    let Some(cluster) = open.config.cluster_of(env).cloned() else {
        anyhow::bail!("no cluster is configured for {repo}/{env}");
    };
    // This runs on a worker thread of its own, outside the TUI's runtime.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let inventory = runtime.block_on(read_deployed(&cluster, repo, env))?;
    Ok(deployed_status(&open, env, inventory.as_ref())?)
}

/// Which history to walk.
struct HistoryWalk<'a> {
    repo: &'a str,
    env: &'a str,
    mode: HistoryMode,
    first_parent: bool,
}

fn stream_history(
    config: &Config,
    walk: &HistoryWalk<'_>,
    on_row: &mut dyn FnMut(HistoryRow) -> ControlFlow<()>,
) -> anyhow::Result<()> {
    let HistoryWalk {
        repo,
        env,
        mode,
        first_parent,
    } = *walk;
    let open = open(config, repo)?;
    let index_dir = default_index_dir();
    let query = HistoryQuery {
        env: Some(env),
        mode,
        limit: None,
        index_dir: index_dir.as_deref(),
        first_parent,
        with_policy: false,
        range: None,
    };
    // Each change of the branch's own line is judged as `audit verify` judges it.
    let line: std::collections::HashSet<gix::ObjectId> =
        crate::history::first_parent_line(&open, open.tip()?)?
            .into_iter()
            .collect();
    let mut auditor = Auditor::new(&open)?;
    let mut failed = None;
    // Reverts git bears out, by the commit they undo: newest first, a revert is walked
    // before what it reverts.
    let mut reverted_by: std::collections::HashMap<String, String> = Default::default();
    walk_history(&open, &query, |entry| {
        let mut row = HistoryRow::from_entry(&entry);
        if let Some(target) = entry.commit.trailer_values("Reverts").next() {
            match open.check_rollback(&entry.commit) {
                Ok(Some(check)) if check.verified => {
                    reverted_by.insert(
                        target.to_ascii_lowercase(),
                        crate::text::short(&entry.commit.sha).to_string(),
                    );
                }
                // Its words say revert, its change is something else: say so.
                Ok(_) => row.marks.push("not an exact revert".into()),
                Err(e) => {
                    failed = Some(e);
                    return ControlFlow::Break(());
                }
            }
        }
        if let Some(by) = reverted_by.get(&entry.commit.sha) {
            row.marks.push(format!("reverted by {by}"));
        }
        if line.contains(&entry.commit.id) {
            match auditor.check(&entry.commit, env) {
                Ok(audit) => {
                    // On the branch's own line and not a merge tollgate signed: pushed
                    // straight onto it (a break-glass change is marked as such).
                    if audit.merged_by.is_none()
                        && entry.commit.parents.len() <= 1
                        && !matches!(audit.finding, Finding::Initial | Finding::Exception)
                    {
                        row.marks.push("direct push".into());
                    }
                    row.approvers = audit
                        .approvers
                        .iter()
                        .map(|a| a.split(" <").next().unwrap_or(a).to_string())
                        .collect();
                    row.audit = Some((audit.finding, audit.why));
                }
                Err(e) => {
                    failed = Some(e);
                    return ControlFlow::Break(());
                }
            }
        }
        on_row(row)
    })?;
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn what_was_not_rendered_and_warnings_are_problems_of_the_review() {
        use crate::render::{RenderState, RenderStatus};
        let env = super::EnvironmentDiff {
            name: "prod".into(),
            diff: Default::default(),
            summary: Default::default(),
            issues: Vec::new(),
            render_errors: Vec::new(),
            render: RenderStatus {
                state: RenderState::NotRendered,
                reason: Some("envs/prod/app.jsonnet (jsonnet) changed".into()),
            },
            warnings: vec!["deletes Namespace/shop".into()],
        };
        let (objects, problems) = super::objects_of(&[env]);
        assert!(objects.is_empty());
        assert_eq!(
            problems,
            [
                "prod: not rendered: envs/prod/app.jsonnet (jsonnet) changed",
                "prod: ⚠ deletes Namespace/shop"
            ]
        );
    }

    /// `load_deployed` builds a runtime of its own on the TUI's blocking pool: tokio
    /// allows that there (it is not a thread that drives async tasks).
    #[test]
    fn a_runtime_of_its_own_runs_on_the_blocking_pool() {
        let outer = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .expect("outer runtime");
        let answer = outer.block_on(async {
            tokio::task::spawn_blocking(|| {
                let inner = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("inner runtime");
                inner.block_on(async { 42 })
            })
            .await
            .expect("no panic")
        });
        assert_eq!(answer, 42);
    }
}
