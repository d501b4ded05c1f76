//! `tollgate show COMMIT`: a commit, its trailers, and its rendered diff against its
//! first parent.

use serde::Serialize;

use super::ShowArgs;
use super::diff::{DiffJson, environment_text, fail_unless_rendered};
use super::output::{Output, Style};
use crate::audit::{AuditRow, Auditor, Finding};
use crate::config::Config;
use crate::git::CommitInfo;
use crate::git::commit::rfc3339;
use crate::signing::SignatureReport;
use crate::workspace::{ConfigExt, OpenRepo};

pub fn run(config: &Config, args: &ShowArgs, out: &Output) -> anyhow::Result<()> {
    let open = OpenRepo::open(config.pick_repo(args.repo.as_deref())?)?;
    let id = open.repo.resolve(&args.commit)?;
    let commit = open.repo.commit_info(id)?;
    let parent = commit.parents.first().copied();
    let envs = open.diff(parent, id, args.env.as_deref())?;
    // Judged as audit verify judges it: from its signature, its approvals and ancestry.
    // Only the branch's own line is a change of it; a commit a merge brought in is judged
    // through that merge.
    let on_branch = crate::history::first_parent_line(&open, open.tip()?)?.contains(&id);
    let mut audit = Vec::new();
    if on_branch {
        let mut auditor = Auditor::new(&open)?;
        for env in &envs {
            audit.push(auditor.check(&commit, &env.name)?);
        }
    }
    let signature = audit.first().map(|row| row.signature.clone());
    if out.json {
        #[derive(Serialize)]
        struct ShowJson<'a> {
            commit: &'a CommitInfo,
            #[serde(skip_serializing_if = "Option::is_none")]
            signature: Option<SignatureReport>,
            #[serde(skip_serializing_if = "Vec::is_empty")]
            audit: Vec<AuditRow>,
            #[serde(flatten)]
            diff: DiffJson<'a>,
        }
        out.print_json(&ShowJson {
            commit: &commit,
            signature,
            audit,
            diff: DiffJson::new(open.name(), parent, id, &envs),
        })?;
        return fail_unless_rendered(&envs);
    }
    let mut text = format!(
        "{} {}\nAuthor: {} <{}>  {}\n",
        out.paint(Style::Hunk, &format!("commit {}", commit.sha)),
        out.paint(Style::Dim, &format!("({})", open.name())),
        commit.author.name,
        commit.author.email,
        rfc3339(commit.author.time)
    );
    if commit.committer.email != commit.author.email {
        text.push_str(&format!(
            "Commit: {} <{}>  {}\n",
            commit.committer.name,
            commit.committer.email,
            rfc3339(commit.committer.time)
        ));
    }
    if let Some(signature) = &signature {
        text.push_str(&format!("Signature: {}\n", signature.describe()));
    }
    for row in &audit {
        let style = match row.finding {
            Finding::Violation => Style::Removed,
            Finding::Exception => Style::Warn,
            _ => Style::Dim,
        };
        text.push_str(&format!(
            "Audit ({}): {} — {}\n",
            row.environment,
            out.paint(style, super::audit::finding(row.finding)),
            row.why
        ));
    }
    text.push_str(&format!(
        "\n    {}\n",
        out.paint(Style::Bold, &commit.subject)
    ));
    if !commit.body.is_empty() {
        for line in commit.body.lines() {
            text.push_str(&format!("    {line}\n"));
        }
    }
    if !commit.trailers.is_empty() {
        text.push('\n');
        for trailer in &commit.trailers {
            text.push_str(&format!("    {}: {}\n", trailer.key, trailer.value));
        }
    }
    if envs.is_empty() {
        text.push_str("\nno environment changed\n");
    }
    for env in &envs {
        text.push_str(&environment_text(out, env));
    }
    out.print(&text)?;
    fail_unless_rendered(&envs)
}
