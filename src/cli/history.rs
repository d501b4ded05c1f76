//! `tollgate history`: the commits that changed an environment, newest first, printed as
//! the walk finds them.

use std::io::Write;
use std::ops::ControlFlow;

use super::HistoryArgs;
use super::output::{Output, Style, cell};
use crate::config::Config;
use crate::git::commit::rfc3339;
use crate::history::{HistoryEntry, HistoryMode, HistoryQuery, walk_history};
use crate::workspace::{ConfigExt, OpenRepo};

pub fn run(config: &Config, args: &HistoryArgs, out: &Output) -> anyhow::Result<()> {
    let open = OpenRepo::open(config.pick_repo(args.repo.as_deref())?)?;
    let mode = if args.rendered {
        HistoryMode::Rendered
    } else if args.path_only {
        HistoryMode::PathOnly
    } else {
        HistoryMode::Inputs
    };
    let mut stdout = std::io::stdout().lock();
    let mut write_error: Option<std::io::Error> = None;
    let mut first = true;
    if out.json {
        writeln!(stdout, "[")?;
    }
    let index_dir = crate::history::default_index_dir();
    let query = HistoryQuery {
        env: args.env.as_deref(),
        mode,
        limit: args.limit,
        index_dir: index_dir.as_deref(),
        first_parent: args.first_parent,
    };
    walk_history(&open, &query, |entry| {
        let text = if out.json {
            let json = serde_json::to_string_pretty(&entry).unwrap_or_default();
            let indented = json.replace('\n', "\n  ");
            format!("{}  {indented}", if first { "" } else { ",\n" })
        } else {
            entry_text(out, &entry)
        };
        first = false;
        match stdout.write_all(text.as_bytes()) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                write_error = Some(e);
                ControlFlow::Break(())
            }
        }
    })?;
    if let Some(e) = write_error {
        return Err(e.into());
    }
    if out.json {
        writeln!(stdout, "\n]")?;
    }
    Ok(())
}

fn entry_text(out: &Output, entry: &HistoryEntry) -> String {
    let commit = &entry.commit;
    let approvers: Vec<&str> = commit
        .trailer_values("Approved-by")
        .map(|v| v.split(" <").next().unwrap_or(v))
        .collect();
    let mut marks = Vec::new();
    if !approvers.is_empty() {
        marks.push(format!("approved by {}", approvers.join(", ")));
    }
    if let Some(reverts) = commit.trailer_values("Reverts").next() {
        marks.push(format!("reverts {}", &reverts[..reverts.len().min(10)]));
    }
    if commit.trailer_values("Break-glass").next().is_some() {
        marks.push("break-glass".into());
    }
    let mut text = format!(
        "{}  {}  {}  {}  {}{}\n",
        out.paint(Style::Hunk, &commit.sha[..10]),
        &rfc3339(commit.author.time)[..16].replace('T', " "),
        cell(&commit.author.name, 12),
        out.paint(Style::Dim, &format!("[{}]", entry.environments.join(","))),
        commit.subject,
        if marks.is_empty() {
            String::new()
        } else {
            out.paint(Style::Dim, &format!("  ({})", marks.join("; ")))
        }
    );
    for env in &entry.objects {
        if let Some(error) = &env.render_error {
            text.push_str(&out.paint(
                Style::Warn,
                &format!("      {}: render failed: {error}\n", env.environment),
            ));
        }
        for change in &env.changes {
            text.push_str(&format!(
                "      {} {}\n",
                change.change.marker(),
                change.key
            ));
        }
    }
    text
}
