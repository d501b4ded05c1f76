//! `tollgate history`: the commits that changed an environment, newest first, printed as
//! the walk finds them.

use std::io::Write;
use std::ops::ControlFlow;

use serde::ser::{SerializeSeq, Serializer};

use super::HistoryArgs;
use super::output::{Output, Style, cell};
use crate::audit::{AuditRow, Auditor, Finding};
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
        range: None,
    };
    // Entries stream out as the walk finds them, through one buffer (stdout alone
    // flushes at every line).
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut write_error: Option<anyhow::Error> = None;
    if out.yaml {
        // A YAML sequence, one item at a time.
        walk_history(&open, &query, |entry| {
            let item = serde_saphyr::to_string(&[&entry])
                .map_err(anyhow::Error::from)
                .and_then(|text| Ok(stdout.write_all(text.as_bytes())?));
            match item {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    write_error = Some(e);
                    ControlFlow::Break(())
                }
            }
        })?;
    } else if out.json {
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
        // On the branch's own line each entry is a change of it, judged as audit does.
        let mut auditor = match args.first_parent {
            true => Some(Auditor::new(&open)?),
            false => None,
        };
        walk_history(&open, &query, |entry| {
            let audit = match auditor.as_mut().map(|a| audit_entry(a, &entry)) {
                Some(Err(e)) => {
                    write_error = Some(e.into());
                    return ControlFlow::Break(());
                }
                Some(Ok(rows)) => rows,
                None => Vec::new(),
            };
            match stdout.write_all(
                out.terminal_text(&entry_text(out, &entry, &audit))
                    .as_bytes(),
            ) {
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

fn audit_entry(
    auditor: &mut Auditor<'_>,
    entry: &HistoryEntry,
) -> Result<Vec<AuditRow>, crate::workspace::WorkspaceError> {
    entry
        .environments
        .iter()
        .map(|env| auditor.check(&entry.commit, env))
        .collect()
}

/// One entry as a line; approvals are named only as the audit counts them (signed and
/// authorised where the repository requires signatures), never from trailers.
fn entry_text(out: &Output, entry: &HistoryEntry, audit: &[AuditRow]) -> String {
    let commit = &entry.commit;
    let mut marks = Vec::new();
    for row in audit {
        let approvers: Vec<&str> = row
            .approvers
            .iter()
            .map(|a| a.split(" <").next().unwrap_or(a))
            .collect();
        marks.push(match row.finding {
            Finding::Compliant => format!("✓ approved by {}", approvers.join(", ")),
            Finding::Violation => format!("✗ {}", row.why),
            finding => super::audit::finding(finding).to_string(),
        });
    }
    marks.dedup();
    if let Some(reverts) = commit.trailer_values("Reverts").next() {
        marks.push(format!("reverts {}", crate::text::short(reverts)));
    }
    if audit.is_empty() && commit.trailer_values("Break-glass").next().is_some() {
        marks.push("break-glass".into());
    }
    let mut text = format!(
        "{}  {}  {}  {}  {}{}\n",
        out.paint(Style::Hunk, crate::text::short(&commit.sha)),
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
