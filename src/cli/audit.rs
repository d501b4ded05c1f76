//! `tollgate audit verify`: the compliance table of the protected branch, as a table,
//! JSON, CSV or Markdown; exits 1 when anything violates the policy.

use serde::Serialize;

use super::output::{Output, Style, cell};
use super::{AuditArgs, AuditFormat};
use crate::audit::{AuditRow, Finding, audit};
use crate::config::Config;
use crate::git::commit::rfc3339;
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
    for repo in config.repos_named(args.repo.as_deref())? {
        let open = OpenRepo::open(repo)?;
        audits.push(RepoAudit {
            repo: repo.name.clone(),
            rows: audit(&open, args.env.as_deref(), since)?,
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
                        finding(r.finding),
                        &r.why,
                    ])?;
                }
            }
            writer.flush()?;
        }
        AuditFormat::Md => {
            let mut text = String::from(
                "| repo | commit | date | environment | author | approvers | merged by | finding | why |\n|---|---|---|---|---|---|---|---|---|\n",
            );
            for a in &audits {
                for r in &a.rows {
                    text.push_str(&format!(
                        "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                        a.repo,
                        &r.commit[..10],
                        &rfc3339(r.date)[..10],
                        r.environment,
                        r.author.replace('|', "\\|"),
                        r.approvers.join(", ").replace('|', "\\|"),
                        r.merged_by.as_deref().unwrap_or("").replace('|', "\\|"),
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
                for r in &a.rows {
                    let style = match r.finding {
                        Finding::Violation => Style::Removed,
                        Finding::Exception => Style::Warn,
                        _ => Style::Dim,
                    };
                    text.push_str(&format!(
                        "  {} {} {} {} {} {}\n",
                        &r.commit[..10],
                        &rfc3339(r.date)[..10],
                        cell(&r.environment, 12),
                        cell(&r.author, 28),
                        out.paint(style, &cell(finding(r.finding), 10)),
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
                        text.push_str(&format!("    {} {}\n", &r.commit[..10], r.why));
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
    if violations > 0 {
        anyhow::bail!("{violations} change(s) violate the policy");
    }
    Ok(())
}

fn finding(f: Finding) -> &'static str {
    match f {
        Finding::Compliant => "compliant",
        Finding::Exception => "exception",
        Finding::Initial => "initial",
        Finding::Violation => "violation",
    }
}
