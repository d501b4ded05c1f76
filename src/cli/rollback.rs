//! `tollgate revert` and `tollgate rollback`: plan, show what it does, and write it as a
//! promotion (or, with `--direct`, straight onto the protected branch).

use serde::Serialize;

use super::diff::{EnvironmentJson, environment_text, environments_json};
use super::output::{Output, Style};
use super::{RevertArgs, RollbackArgs, UndoArgs};
use crate::config::Config;
use crate::rollback::{CreatedRollback, RollbackKind, RollbackPlan, SharedFiles};
use crate::workspace::{ConfigExt, EnvironmentDiff, OpenRepo, summary_line};

pub fn revert(config: &Config, args: &RevertArgs, out: &Output) -> anyhow::Result<()> {
    let open = OpenRepo::open(config.pick_repo(args.repo.as_deref())?)?;
    let commit = open.repo.resolve(&args.commit)?;
    let plan = open.plan_revert(commit)?;
    finish(config, &open, &plan, &args.undo, out)
}

pub fn rollback(config: &Config, args: &RollbackArgs, out: &Output) -> anyhow::Result<()> {
    let open = OpenRepo::open(config.pick_repo(args.repo.as_deref())?)?;
    let to = open.repo.resolve(&args.to)?;
    let shared = match (args.include_shared, args.own_only) {
        (true, _) => SharedFiles::Include,
        (_, true) => SharedFiles::Leave,
        _ => SharedFiles::Refuse,
    };
    let plan = match args.images {
        true => open.plan_image_rollback(&args.env, to)?,
        false => open.plan_rollback(&args.env, to, shared)?,
    };
    finish(config, &open, &plan, &args.undo, out)
}

#[derive(Serialize)]
struct PreviewJson<'a> {
    dry_run: bool,
    #[serde(flatten)]
    kind: &'a RollbackKind,
    branch: &'a str,
    base: String,
    environments: &'a [String],
    shared: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    kept_shared: &'a [String],
    rendered: Vec<EnvironmentJson<'a>>,
}

#[derive(Serialize)]
struct CreatedJson<'a> {
    #[serde(flatten)]
    created: &'a CreatedRollback,
    rendered: Vec<EnvironmentJson<'a>>,
}

fn finish(
    config: &Config,
    open: &OpenRepo,
    plan: &RollbackPlan,
    args: &UndoArgs,
    out: &Output,
) -> anyhow::Result<()> {
    let rendered = open.diff_trees(open.repo.tree_of(plan.base)?, plan.tree, None)?;
    if args.dry_run {
        if out.json {
            return out.print_json(&PreviewJson {
                dry_run: true,
                kind: &plan.kind,
                branch: &plan.branch,
                base: plan.base.to_string(),
                environments: &plan.environments,
                shared: &plan.shared,
                kept_shared: &plan.kept_shared,
                rendered: environments_json(&rendered),
            });
        }
        let mut text = format!(
            "{} (dry run: nothing written)\n",
            out.paint(Style::Bold, &headline(plan))
        );
        text.push_str(&diff_text(out, &rendered));
        return out.print(&text);
    }
    let me = open.identity(config.identity.as_deref())?;
    let created = open.create_rollback(
        plan,
        &me,
        args.reason.as_deref(),
        args.direct,
        jiff::Timestamp::now(),
    )?;
    if out.json {
        return out.print_json(&CreatedJson {
            created: &created,
            rendered: environments_json(&rendered),
        });
    }
    let mut text = match &created.promotion {
        Some(id) => format!(
            "{}\nopened promotion {} (commit {} on {})\n",
            out.paint(Style::Bold, &headline(plan)),
            out.paint(Style::Bold, id),
            crate::text::short(&created.commit),
            crate::text::short(&created.base),
        ),
        None => format!(
            "{}\nwritten straight onto {} as {} (break-glass by {me})\n",
            out.paint(Style::Bold, &headline(plan)),
            created.branch,
            crate::text::short(&created.commit),
        ),
    };
    text.push_str(&diff_text(out, &rendered));
    text.push_str(&match &created.promotion {
        Some(id) => format!(
            "\nIt goes through approval like any promotion: `tollgate show {id}`, then `tollgate merge {id}`.\n"
        ),
        None => format!(
            "\n`tollgate audit verify` lists it as an exception until someone reviews it: `tollgate approve {} --repo {}`.\n",
            crate::text::short(&created.commit),
            open.name()
        ),
    });
    out.print(&text)
}

fn headline(plan: &RollbackPlan) -> String {
    let target = format!(
        "{} (\"{}\")",
        crate::text::short(&plan.target.sha),
        plan.target.title()
    );
    match &plan.kind {
        RollbackKind::Revert { .. } => format!("revert {target}"),
        RollbackKind::Rollback { environment, .. } if plan.images_only => {
            format!("roll the images of {environment} back to those of {target}")
        }
        RollbackKind::Rollback { environment, .. } => {
            let mut text = format!("roll {environment} back to {target}");
            if !plan.shared.is_empty() {
                text.push_str(&format!(", with shared files {}", plan.shared.join(", ")));
            }
            if !plan.kept_shared.is_empty() {
                text = format!(
                    "roll {environment}'s own folder back to {target}; {} keep their later changes (what they still change is below)",
                    plan.kept_shared.join(", ")
                );
            }
            text
        }
    }
}

fn diff_text(out: &Output, rendered: &[EnvironmentDiff]) -> String {
    let mut text = format!("changes: {}\n", summary_line(rendered));
    for env in rendered {
        text.push_str(&environment_text(out, env));
    }
    text
}
