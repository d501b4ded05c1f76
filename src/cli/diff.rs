//! `tollgate diff`: the rendered diff of a promotion or of a revision range.

use gix::ObjectId;
use serde::Serialize;
use serde_json::Value;

use super::DiffArgs;
use super::output::{Output, Style};
use crate::config::Config;
use crate::manifest::{ObjectDiff, Summary};
use crate::outlook::{MergeOutlook, MergeState};
use crate::parallel::map_in_order;
use crate::raw_diff::FileDiff;
use crate::render::RenderStatus;
use crate::workspace::{ConfigExt, EnvironmentDiff, OpenRepo, SidedIssue, parse_promotion_id};

/// What to compare, resolved to commits.
pub(super) struct Comparison {
    pub open: OpenRepo,
    pub old: Option<ObjectId>,
    pub new: ObjectId,
    pub title: String,
    /// For a promotion: what merging it now would do to the protected branch's tip.
    pub outlook: Option<MergeOutlook>,
}

fn resolve(config: &Config, args: &DiffArgs) -> anyhow::Result<Comparison> {
    if let Some((old, new)) = args.target.split_once("..") {
        if args.since.is_some() {
            anyhow::bail!(
                "--since is for a promotion (REPO:BRANCH); a range already names its start"
            );
        }
        let open = OpenRepo::open(config.pick_repo(args.repo.as_deref())?)?;
        let old_id = open.repo.resolve(old)?;
        let new_id = open.repo.resolve(new)?;
        return Ok(Comparison {
            title: format!("{}: {old}..{new}", open.name()),
            open,
            old: Some(old_id),
            new: new_id,
            outlook: None,
        });
    }
    let (repo, branch) = parse_promotion_id(&args.target)?;
    let open = OpenRepo::open(config.pick_repo(Some(repo))?)?;
    let promotion = open.promotion(branch)?;
    if let Some(since) = &args.since {
        let old = open.repo.resolve(since)?;
        return Ok(Comparison {
            title: format!(
                "{}  {}  (since {})",
                promotion.id,
                promotion.title,
                crate::text::short(&old.to_string())
            ),
            old: Some(old),
            new: promotion.branch.head,
            outlook: None,
            open,
        });
    }
    Ok(Comparison {
        title: format!("{}  {}", promotion.id, promotion.title),
        old: promotion.branch.merge_base,
        new: promotion.branch.head,
        outlook: Some(open.merge_outlook(&promotion)?),
        open,
    })
}

pub fn run(config: &Config, args: &DiffArgs, out: &Output) -> anyhow::Result<()> {
    let comparison = resolve(config, args)?;
    let Comparison {
        open,
        old,
        new,
        title,
        outlook,
    } = &comparison;
    if args.raw {
        let envs = open.raw_diff(*old, *new, args.env.as_deref())?;
        if out.json {
            #[derive(Serialize)]
            struct RawEnv<'a> {
                name: &'a str,
                files: &'a [FileDiff],
            }
            let list: Vec<RawEnv> = envs
                .iter()
                .map(|(name, files)| RawEnv { name, files })
                .collect();
            return out.print_json(&serde_json::json!({ "environments": list }));
        }
        let mut text = format!("{}\n", out.paint(Style::Bold, title));
        for (name, files) in &envs {
            text.push_str(&format!(
                "\n{}\n",
                out.paint(Style::Bold, &format!("environment {name}"))
            ));
            for file in files {
                text.push_str(&format!("--- a/{0}\n+++ b/{0}\n", file.path));
                text.push_str(&out.diff_lines(&file.lines, ""));
            }
        }
        return out.print(&text);
    }
    let envs = open.diff(*old, *new, args.env.as_deref())?;
    // Behind the tip, the promotion's own change is not what merging it does: show both.
    let onto_tip = match outlook {
        Some(outlook) if outlook.state == MergeState::Behind => match outlook.merged_tree {
            Some(merged) => Some(open.diff_trees(
                open.repo.tree_of(open.tip()?)?,
                merged,
                args.env.as_deref(),
            )?),
            None => None,
        },
        _ => None,
    };
    if out.json {
        let mut json = serde_json::to_value(DiffJson::new(open.name(), *old, *new, &envs))?;
        if let Some(outlook) = outlook {
            json["merge"] = serde_json::to_value(outlook)?;
        }
        if let Some(onto_tip) = &onto_tip {
            json["merge"]["onto_tip"] = serde_json::to_value(environments_json(onto_tip))?;
        }
        out.print_json(&json)?;
        let verdict = fail_unless_rendered(&envs);
        leave_to_exit((envs, onto_tip));
        return verdict;
    }
    let mut text = format!("{}\n", out.paint(Style::Bold, title));
    if let Some(reason) = outlook.as_ref().and_then(|o| o.explain(&open.branch)) {
        text.push_str(&format!("{}\n", out.paint(Style::Warn, &reason)));
    }
    if envs.is_empty() {
        text.push_str("no environment changed\n");
    }
    for env in &envs {
        text.push_str(&environment_text(out, env));
    }
    if let Some(onto_tip) = &onto_tip {
        text.push_str(&format!(
            "\n{}\n",
            out.paint(
                Style::Bold,
                &format!("what merging it now does to {}:", open.branch)
            )
        ));
        for env in onto_tip {
            text.push_str(&environment_text(out, env));
        }
    }
    out.print(&text)?;
    let verdict = fail_unless_rendered(&envs);
    leave_to_exit((envs, onto_tip));
    verdict
}

/// The diff is printed and the process ends next: freeing every object of a large
/// environment one by one (6% of a 5,000-object diff) is work the kernel does at once.
fn leave_to_exit<T>(printed: T) {
    std::mem::forget(printed);
}

/// The text form of one environment's diff, shared with `show`.
pub(super) fn environment_text(out: &Output, env: &EnvironmentDiff) -> String {
    // Never "no rendered change" for what was not rendered.
    let headline = match env.render.describe() {
        Some(status) if env.diff.changed().next().is_none() => out.paint(Style::Warn, &status),
        Some(status) => format!(
            "{} · {}",
            env.summary.one_line(),
            out.paint(Style::Warn, &status)
        ),
        None => env.summary.one_line(),
    };
    let mut text = format!(
        "\n{}  {headline}\n",
        out.paint(Style::Bold, &format!("environment {}", env.name)),
    );
    for warning in &env.warnings {
        text.push_str(&out.paint(Style::Warn, &format!("  ⚠ {warning}\n")));
    }
    for error in &env.render_errors {
        text.push_str(&out.paint(Style::Warn, &format!("  render failed: {error}\n")));
    }
    for issue in &env.issues {
        text.push_str(&out.paint(Style::Warn, &format!("  ! {issue}\n")));
    }
    // A CRD bundle's line diffs are most of what the text costs over the JSON: they are
    // drawn on a thread per core when there is enough text to share.
    let changed: Vec<&ObjectDiff> = env.diff.changed().collect();
    let source_bytes: usize = changed
        .iter()
        .flat_map(|o| [&o.old, &o.new])
        .filter_map(|side| side.as_ref()?.source().map(str::len))
        .sum();
    let parallel = changed.len() > 1 && source_bytes >= PARALLEL_TEXT_FROM_BYTES;
    for object in map_in_order(&changed, parallel, |object| object_text(out, object)) {
        text.push_str(&object);
    }
    text
}

/// The changed objects' texts, both sides together, from which their line diffs are
/// drawn on threads: below it, starting threads costs more than they save.
const PARALLEL_TEXT_FROM_BYTES: usize = 128 * 1024;

fn object_text(out: &Output, object: &ObjectDiff) -> String {
    let style = match object.change {
        crate::manifest::ChangeKind::Added => Style::Added,
        crate::manifest::ChangeKind::Removed => Style::Removed,
        _ => Style::Bold,
    };
    let origin = object
        .new
        .as_ref()
        .or(object.old.as_ref())
        .map(|o| format!("{}:{}", o.origin.file, o.origin.line))
        .unwrap_or_default();
    let mut text = format!(
        "  {} {}   {}\n",
        out.paint(style, object.change.marker()),
        out.paint(style, &object.key.to_string()),
        out.paint(Style::Dim, &origin)
    );
    if let Some(from) = &object.renamed_from {
        text.push_str(&format!("      renamed from {from}\n"));
    }
    if let Some(moved) = &object.api_version_moved {
        text.push_str(&format!("      apiVersion moved: {moved}\n"));
    }
    for field in &object.fields {
        let change = match field.moved {
            Some(moved) => moved.to_string(),
            None => format!(
                "{} → {}",
                show_value(field.old.as_ref()),
                show_value(field.new.as_ref())
            ),
        };
        text.push_str(&format!("      {}: {change}\n", field.path));
    }
    text.push_str(&out.diff_lines(&object.text_diff(3), "      "));
    text
}

fn show_value(value: Option<&Value>) -> String {
    let text = match value {
        None => "(absent)".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let one_line = text.replace('\n', "⏎");
    if one_line.chars().count() > 100 {
        format!("{}…", one_line.chars().take(99).collect::<String>())
    } else {
        one_line
    }
}

#[derive(Serialize)]
pub(super) struct DiffJson<'a> {
    repo: &'a str,
    from: Option<String>,
    to: String,
    environments: Vec<EnvironmentJson<'a>>,
}

#[derive(Serialize)]
pub(super) struct EnvironmentJson<'a> {
    name: &'a str,
    objects: Vec<&'a ObjectDiff>,
    summary: &'a Summary,
    /// Each `{file, line, message, side: old | new | both}`.
    issues: &'a [SidedIssue],
    render_errors: &'a [String],
    /// `{state: ok | failed | not-rendered, reason}`.
    render: &'a RenderStatus,
    /// Changes a reviewer must not miss: destructive deletes, renamed Services,
    /// selectors that match nothing, zero replicas, unpinned images.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
}

impl<'a> DiffJson<'a> {
    pub(super) fn new(
        repo: &'a str,
        old: Option<ObjectId>,
        new: ObjectId,
        envs: &'a [EnvironmentDiff],
    ) -> DiffJson<'a> {
        DiffJson {
            repo,
            from: old.map(|o| o.to_string()),
            to: new.to_string(),
            environments: environments_json(envs),
        }
    }
}

/// The JSON form of environment diffs, shared with `revert` and `rollback`.
pub(super) fn environments_json(envs: &[EnvironmentDiff]) -> Vec<EnvironmentJson<'_>> {
    envs.iter()
        .map(|e| EnvironmentJson {
            name: &e.name,
            objects: e.diff.changed().collect(),
            summary: &e.summary,
            issues: &e.issues,
            render_errors: &e.render_errors,
            render: &e.render,
            warnings: &e.warnings,
        })
        .collect()
}

/// An error when some environment's diff is not the whole story, for `diff` and `show`
/// to exit non-zero after printing it: a script must not read "no change" into it.
pub(super) fn fail_unless_rendered(envs: &[EnvironmentDiff]) -> anyhow::Result<()> {
    let incomplete: Vec<String> = envs
        .iter()
        .filter_map(|e| Some(format!("{}: {}", e.name, e.render.describe()?)))
        .collect();
    if incomplete.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "the diff above is not the whole change: {}",
        incomplete.join("; ")
    )
}
