//! `tollgate audit verify`: the compliance table of the protected branch, as a table,
//! JSON, CSV or Markdown; exits 1 when anything violates the policy.

use serde::Serialize;

use super::output::{Output, Style, cell};
use super::{AuditArgs, AuditFormat};
use crate::audit::{AuditRow, Finding, audit};
use crate::config::Config;
use crate::git::commit::rfc3339;
use crate::signing::SignatureState;
use crate::workspace::{ConfigExt, OpenRepo};

#[derive(Serialize)]
struct RepoAudit {
    repo: String,
    rows: Vec<AuditRow>,
}

fn since(text: &str) -> anyhow::Result<i64> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(ts.as_second());
    }
    let date: jiff::civil::Date = text.parse().map_err(|_| {
        anyhow::anyhow!("--since {text:?} is neither a date (2026-10-01) nor an RFC 3339 time")
    })?;
    Ok(date
        .to_zoned(jiff::tz::TimeZone::UTC)?
        .timestamp()
        .as_second())
}

pub fn verify(config: &Config, args: &AuditArgs, out: &Output) -> anyhow::Result<()> {
    let since = args.since.as_deref().map(since).transpose()?;
    let mut audits = Vec::new();
    // `--since` narrows what is printed, never what is checked: a violation older than
    // the window (or backdated into it) still fails the run.
    let mut hidden_violations = 0;
    for repo in config.repos_named(args.repo.as_deref())? {
        let open = OpenRepo::open(repo)?;
        let mut rows = audit(&open, args.env.as_deref(), None)?;
        if let Some(since) = since {
            hidden_violations += rows
                .iter()
                .filter(|r| r.date < since && r.finding.is_violation())
                .count();
            rows.retain(|r| r.date >= since);
        }
        audits.push(RepoAudit {
            repo: repo.name.clone(),
            rows,
        });
    }
    let format = if out.json {
        AuditFormat::Json
    } else {
        args.format
    };
    match format {
        AuditFormat::Json => out.print_json(&audits)?,
        AuditFormat::Csv => {
            let mut writer = csv::Writer::from_writer(std::io::stdout().lock());
            writer.write_record([
                "repo",
                "commit",
                "date",
                "environment",
                "author",
                "approvers",
                "merged_by",
                "signature",
                "signer",
                "finding",
                "why",
            ])?;
            for a in &audits {
                for r in &a.rows {
                    writer.write_record([
                        a.repo.as_str(),
                        &r.commit,
                        &rfc3339(r.date),
                        &r.environment,
                        &r.author,
                        &r.approvers.join("; "),
                        r.merged_by.as_deref().unwrap_or(""),
                        signature(r),
                        r.signature.signer.as_deref().unwrap_or(""),
                        finding(r.finding),
                        &r.why,
                    ])?;
                }
            }
            writer.flush()?;
        }
        AuditFormat::Md => {
            let mut text = String::from(
                "| repo | commit | date | environment | author | approvers | merged by | signature | finding | why |\n|---|---|---|---|---|---|---|---|---|---|\n",
            );
            for a in &audits {
                for r in &a.rows {
                    text.push_str(&format!(
                        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                        a.repo,
                        crate::text::short(&r.commit),
                        &rfc3339(r.date)[..10],
                        r.environment,
                        r.author.replace('|', "\\|"),
                        r.approvers.join(", ").replace('|', "\\|"),
                        r.merged_by.as_deref().unwrap_or("").replace('|', "\\|"),
                        signature(r),
                        finding(r.finding),
                        r.why.replace('|', "\\|")
                    ));
                }
            }
            out.print(&text)?;
        }
        AuditFormat::Table => {
            let mut text = String::new();
            for a in &audits {
                text.push_str(&format!(
                    "{}\n",
                    out.paint(Style::Bold, &format!("repo {}", a.repo))
                ));
                // Names and findings are never cut: the columns are as wide as they.
                let width = |f: &dyn Fn(&AuditRow) -> usize, at_least: usize| {
                    a.rows.iter().map(f).max().unwrap_or(0).max(at_least)
                };
                let env_width = width(&|r| crate::text::display_width(&r.environment), 12);
                let finding_width = width(&|r| finding(r.finding).len(), 10);
                for r in &a.rows {
                    let style = match r.finding {
                        Finding::Violation => Style::Removed,
                        Finding::Exception => Style::Warn,
                        _ => Style::Dim,
                    };
                    text.push_str(&format!(
                        "  {} {} {} {} {} {} {}\n",
                        crate::text::short(&r.commit),
                        &rfc3339(r.date)[..10],
                        cell(&r.environment, env_width),
                        cell(&r.author, 28),
                        cell(signature(r), 12),
                        out.paint(style, &cell(finding(r.finding), finding_width)),
                        r.why
                    ));
                }
                let exceptions: Vec<&AuditRow> = a
                    .rows
                    .iter()
                    .filter(|r| r.finding == Finding::Exception)
                    .collect();
                if !exceptions.is_empty() {
                    text.push_str("  exceptions (break-glass; each needs a review after the fact, `tollgate approve COMMIT`):\n");
                    for r in exceptions {
                        text.push_str(&format!(
                            "    {} {}\n",
                            crate::text::short(&r.commit),
                            r.why
                        ));
                    }
                }
            }
            out.print(&text)?;
        }
    }
    let violations: usize = audits
        .iter()
        .map(|a| {
            a.rows
                .iter()
                .filter(|r| r.finding == Finding::Violation)
                .count()
        })
        .sum();
    let violations = violations + hidden_violations;
    if hidden_violations > 0 {
        return Err(super::PolicyRefused(format!(
            "{violations} change(s) violate the policy ({hidden_violations} of them before --since, not shown)"
        ))
        .into());
    }
    if violations > 0 {
        return Err(
            super::PolicyRefused(format!("{violations} change(s) violate the policy")).into(),
        );
    }
    Ok(())
}

/// The commit's own signature, in a word.
fn signature(row: &AuditRow) -> &'static str {
    match row.signature.state {
        SignatureState::Verified => "signed",
        SignatureState::NotVerified => "not-verified",
        SignatureState::Unsigned => "unsigned",
        SignatureState::Forge => "github",
    }
}

pub(super) fn finding(f: Finding) -> &'static str {
    match f {
        Finding::Compliant => "compliant",
        Finding::Exception => "exception",
        Finding::Initial => "initial",
        Finding::Violation => "violation",
        Finding::BeforeTollgate => "before-tollgate",
        Finding::UnsignedBeforeRequirement => "unsigned-before-requirement",
    }
}
