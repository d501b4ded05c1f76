//! `tollgate history`: the commits that changed an environment, newest first, printed as
//! the walk finds them.

use std::io::Write;
use std::ops::ControlFlow;

use serde::ser::{SerializeSeq, Serializer};

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
    let index_dir = crate::history::default_index_dir();
    let query = HistoryQuery {
        env: args.env.as_deref(),
        mode,
        limit: args.limit,
        index_dir: index_dir.as_deref(),
        first_parent: args.first_parent,
        with_policy: false,
    };
    // Entries stream out as the walk finds them, through one buffer (stdout alone
    // flushes at every line).
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut write_error: Option<anyhow::Error> = None;
    if out.json {
        // The array is written element by element, as `to_writer_pretty` would write it.
        let mut json = serde_json::Serializer::pretty(&mut stdout);
        let mut array = json.serialize_seq(None)?;
        walk_history(&open, &query, |entry| {
            match array.serialize_element(&entry) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    write_error = Some(e.into());
                    ControlFlow::Break(())
                }
            }
        })?;
        array.end()?;
        writeln!(stdout)?;
    } else {
        walk_history(&open, &query, |entry| {
            match stdout.write_all(entry_text(out, &entry).as_bytes()) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    write_error = Some(e.into());
                    ControlFlow::Break(())
                }
            }
        })?;
    }
    if let Some(e) = write_error {
        return Err(e);
    }
    stdout.flush()?;
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
