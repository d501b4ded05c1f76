//! `tollgate approve`, `unapprove`, `merge`, and the verdict `tollgate show ID` prints.

use super::output::{Output, Style};
use super::{ApproveArgs, CloseArgs, MergeArgs};
use crate::config::Config;
use crate::forge::github::open::PullDetail;
use crate::git::commit::rfc3339;
use crate::identity::Identity;
use crate::verdict::{ApprovalStatus, Verdict};
use crate::workspace::{ConfigExt, EnvironmentDiff, OpenRepo, Promotion, parse_promotion_id};

/// The promotion `id` names, opened.
pub(super) fn open_promotion(config: &Config, id: &str) -> anyhow::Result<(OpenRepo, Promotion)> {
    let (repo, branch) = parse_promotion_id(id)?;
    let open = OpenRepo::open(config.pick_repo(Some(repo))?)?;
    let promotion = open.promotion(branch)?;
    Ok((open, promotion))
}

/// The head `--head` names, if given: the promotion's head when the sha (full or
/// abbreviated) is a prefix of it, else refused as moved. The sha is compared, never
/// resolved: a pusher could name a branch after the old sha and point it at the new head.
fn expected_head(
    promotion: &Promotion,
    head: Option<&str>,
) -> anyhow::Result<Option<gix::ObjectId>> {
    let Some(sha) = head else { return Ok(None) };
    // A sha, never a branch name: that would follow whatever was pushed since.
    if !(7..=40).contains(&sha.len()) || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        anyhow::bail!(
            "--head {sha:?} is not a commit id; give the head `tollgate show` names for the promotion (7 to 40 hex digits)"
        );
    }
    let current = promotion.branch.head;
    if current.to_string().starts_with(&sha.to_ascii_lowercase()) {
        return Ok(Some(current));
    }
    Err(crate::review::ReviewError::Moved {
        id: promotion.id.clone(),
        expected: crate::text::short(sha).to_string(),
        head: crate::text::short(&current.to_string()).to_string(),
    }
    .into())
}

/// Whether `id` names a promotion (`REPO:BRANCH` or `REPO#N` of a configured repo) rather
/// than a commit.
pub(super) fn names_promotion(config: &Config, id: &str, repo: Option<&str>) -> bool {
    repo.is_none() && parse_promotion_id(id).is_ok_and(|(name, _)| config.repo(name).is_some())
}

fn me(config: &Config, open: &OpenRepo) -> anyhow::Result<Identity> {
    Ok(open.identity(config.identity.as_deref())?)
}

pub fn show(config: &Config, id: &str, out: &Output) -> anyhow::Result<()> {
    let (open, promotion) = open_promotion(config, id)?;
    let me = me(config, &open)?;
    // The detail first: it reads the reviews, which the verdict then takes from it.
    let detail = match (open.github(), &promotion.pull) {
        (Some(github), Some(pull)) => Some(github.detail(pull)?),
        _ => None,
    };
    let verdict = open.verdict(&promotion, &me, jiff::Timestamp::now())?;
    // The review names what must not be missed, and never passes for complete when an
    // environment was not rendered.
    let envs = open.diff(promotion.branch.merge_base, promotion.branch.head, None)?;
    let warnings: Vec<String> = envs
        .iter()
        .flat_map(|e| e.warnings.iter().map(move |w| format!("{}: {w}", e.name)))
        .collect();
    if out.json {
        let mut json = serde_json::to_value(&verdict)?;
        if !warnings.is_empty() {
            json["warnings"] = serde_json::to_value(&warnings)?;
        }
        if let Some(detail) = &detail {
            json["github"] = serde_json::to_value(detail)?;
        }
        out.print_json(&json)?;
        return fail_unless_reviewed_whole(&envs, &verdict);
    }
    let mut text = verdict_text(out, &promotion, &me, &verdict);
    if !warnings.is_empty() {
        text.push_str("\nwarnings:\n");
        for warning in &warnings {
            text.push_str(&out.paint(Style::Warn, &format!("  ⚠ {warning}\n")));
        }
    }
    if let Some(detail) = &detail {
        text.push_str(&pull_text(detail));
    }
    out.print(&text)?;
    fail_unless_reviewed_whole(&envs, &verdict)
}

/// An error, for `show` to exit non-zero after printing, when the review is not the whole
/// change: its diff left something out, or the head does not read whole where the diff
/// compared only the parts that differ (a value broken before the promotion, in a
/// document it changes elsewhere, is the verdict's news even when not the diff's).
fn fail_unless_reviewed_whole(envs: &[EnvironmentDiff], verdict: &Verdict) -> anyhow::Result<()> {
    super::diff::fail_unless_rendered(envs)?;
    if !verdict.unrendered.is_empty() {
        anyhow::bail!(
            "the review is not the whole change: {}",
            verdict.unrendered.join("; ")
        );
    }
    Ok(())
}

/// What GitHub says beyond the verdict.
fn pull_text(detail: &PullDetail) -> String {
    let mut text = format!("\ngithub: {}\n", detail.pull.url);
    for line in detail.lines() {
        text.push_str(&format!("  {line}\n"));
    }
    text
}

pub fn approve(config: &Config, args: &ApproveArgs, out: &Output) -> anyhow::Result<()> {
    let comment = args.comment.clone();
    if !names_promotion(config, &args.id, args.repo.as_deref()) {
        return review(config, args, out);
    }
    let (open, promotion) = open_promotion(config, &args.id)?;
    let me = me(config, &open)?;
    let expected = expected_head(&promotion, args.head.as_deref())?;
    let verdict = open.approve(
        &promotion,
        expected,
        &me,
        comment,
        args.acknowledge_unrendered,
        jiff::Timestamp::now(),
    )?;
    if out.json {
        return out.print_json(&verdict);
    }
    out.print(&format!(
        "approved {} at {} as {me}\n\n{}",
        promotion.id,
        crate::text::short(&verdict.head),
        verdict_text(out, &promotion, &me, &verdict)
    ))
}

/// `tollgate approve COMMIT`: the review, after the fact, of a break-glass commit.
fn review(config: &Config, args: &ApproveArgs, out: &Output) -> anyhow::Result<()> {
    let open = OpenRepo::open(config.pick_repo(args.repo.as_deref())?)?;
    let commit = open.repo.resolve(&args.id)?;
    let me = me(config, &open)?;
    let environments =
        open.review_break_glass(commit, &me, args.comment.clone(), jiff::Timestamp::now())?;
    if out.json {
        return out.print_json(&serde_json::json!({
            "repo": open.name(),
            "commit": commit.to_string(),
            "reviewed_by": me.to_string(),
            "environments": environments,
        }));
    }
    out.print(&format!(
        "recorded {me}'s review of break-glass commit {} ({}) in {}\n",
        crate::text::short(&commit.to_string()),
        environments.join(", "),
        open.name()
    ))
}

pub fn unapprove(config: &Config, id: &str, out: &Output) -> anyhow::Result<()> {
    let (open, promotion) = open_promotion(config, id)?;
    let me = me(config, &open)?;
    let removed = open.unapprove(&promotion, &me, jiff::Timestamp::now())?;
    if out.json {
        return out.print_json(&serde_json::json!({ "id": promotion.id, "removed": removed }));
    }
    out.print(&if removed {
        format!("withdrew {me}'s approval of {}\n", promotion.id)
    } else {
        format!(
            "{me} had not approved the head of {}; nothing changed\n",
            promotion.id
        )
    })
}

pub fn close(config: &Config, args: &CloseArgs, out: &Output) -> anyhow::Result<()> {
    let (open, promotion) = open_promotion(config, &args.id)?;
    let me = me(config, &open)?;
    let expected = expected_head(&promotion, args.head.as_deref())?;
    let closed = open.close(
        &promotion,
        expected,
        &me,
        args.reason.as_deref(),
        jiff::Timestamp::now(),
    )?;
    if out.json {
        return out.print_json(&closed);
    }
    out.print(&match closed.merged {
        true => format!(
            "closed {}: {} already has its change; its branch is deleted\n",
            closed.id, open.branch
        ),
        false => format!(
            "closed {} without merging it: branch {} (head {}) is deleted; who and why are recorded in {}\n",
            closed.id,
            closed.branch,
            crate::text::short(&closed.head),
            crate::closing::CLOSED_NOTES_REF
        ),
    })
}

pub fn merge(config: &Config, args: &MergeArgs, out: &Output) -> anyhow::Result<()> {
    let (open, promotion) = open_promotion(config, &args.id)?;
    let me = me(config, &open)?;
    let expected = expected_head(&promotion, args.head.as_deref())?;
    let merged = open.merge(
        &promotion,
        expected,
        &me,
        args.reason.as_deref(),
        jiff::Timestamp::now(),
    )?;
    if out.json {
        return out.print_json(&merged);
    }
    out.print(&format!(
        "merged {} into {} as {} ({}){}{}\n",
        merged.id,
        merged.branch,
        crate::text::short(&merged.commit),
        format!("{:?}", merged.method).to_lowercase(),
        if merged.branch_deleted {
            "; promotion branch deleted"
        } else {
            ""
        },
        if merged.break_glass {
            "; break-glass recorded"
        } else {
            ""
        },
    ))
}

fn verdict_text(out: &Output, promotion: &Promotion, me: &Identity, verdict: &Verdict) -> String {
    let mut text = format!(
        "{}  {}\nhead {}  base {}\n",
        out.paint(Style::Bold, &promotion.id),
        promotion.title,
        crate::text::short(&verdict.head),
        crate::text::short(&verdict.base)
    );
    text.push_str("\napprovals:\n");
    if verdict.approvals.is_empty() {
        text.push_str("  none yet\n");
    }
    for approval in &verdict.approvals {
        let (mark, style) = match approval.status {
            ApprovalStatus::Valid => ("✓", Style::Added),
            _ => ("✗", Style::Removed),
        };
        text.push_str(&format!(
            "  {} {}  {}  {}{}  ({})\n",
            out.paint(style, mark),
            approval.by,
            &rfc3339(approval.at)[..16].replace('T', " "),
            format!("{:?}", approval.status).to_lowercase(),
            if approval.status == ApprovalStatus::Valid {
                String::new()
            } else {
                format!(": {}", approval.why)
            },
            match &approval.signature.key_fingerprint {
                Some(key) => format!("{}, {key}", approval.signature.label()),
                None => approval.signature.label().to_string(),
            }
        ));
        for line in approval.comment.iter().flat_map(|c| c.lines()) {
            text.push_str(&format!("      │ {line}\n"));
        }
    }
    text.push_str("\nenvironments:\n");
    for env in &verdict.environments {
        text.push_str(&format!(
            "  {:<12} {}/{} approvals{}\n",
            env.name,
            env.valid,
            env.required,
            if env.missing > 0 {
                format!(", {} missing", env.missing)
            } else {
                String::new()
            }
        ));
    }
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    text.push_str(&format!(
        "\n{me}: may approve: {}, may merge: {}\n",
        yes_no(verdict.can_approve),
        yes_no(verdict.can_merge)
    ));
    if !verdict.reasons.is_empty() {
        text.push_str("because:\n");
        for reason in &verdict.reasons {
            text.push_str(&format!("  - {reason}\n"));
        }
    }
    text
}
