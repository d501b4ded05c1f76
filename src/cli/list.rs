//! `tollgate list`: pending promotions across the configured repos.

use super::RepoArg;
use super::output::{Output, Style, age, cell};
use crate::config::Config;
use crate::git::commit::rfc3339;
use serde::Serialize;

use crate::workspace::{ConfigExt, OpenRepo};

pub fn run(config: &Config, args: &RepoArg, out: &Output) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    // Every repo at once: GitHub repos wait on the network, local ones on git and renders.
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = config
            .repos_named(args.repo.as_deref())?
            .into_iter()
            .map(|repo_config| {
                let handle = scope.spawn(|| {
                    OpenRepo::open(repo_config).and_then(|open| {
                        if let Some(why) = open.environments_missing()? {
                            super::output::to_stderr(&format!(
                                "tollgate: warning: repo {}: {}",
                                open.name(),
                                crate::text::printable(&why)
                            ));
                        }
                        open.promotions_with_summaries()
                    })
                });
                (repo_config, handle)
            })
            .collect();
        Ok::<_, anyhow::Error>(
            handles
                .into_iter()
                .map(|(repo_config, handle)| {
                    (
                        repo_config,
                        handle
                            .join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    )
                })
                .collect(),
        )
    })?;
    for (repo_config, result) in results {
        // One repo that cannot be read must not hide the others.
        match result {
            Ok(list) => rows.extend(list),
            Err(e) => failures.push(format!("{}: {e}", repo_config.name)),
        }
    }
    rows.sort_by_key(|row| std::cmp::Reverse(row.promotion.author.time));

    if out.json {
        let json: Vec<PromotionJson> = rows
            .iter()
            .map(|row| (&row.promotion, &row.summary, &row.merge))
            .map(|(p, summary, merge)| PromotionJson {
                id: &p.id,
                repo: &p.repo,
                branch: &p.branch.branch,
                title: &p.title,
                author: AuthorRow {
                    name: &p.author.name,
                    email: &p.author.email,
                },
                created: rfc3339(p.author.time),
                head: p.branch.head.to_string(),
                base: p.branch.base.to_string(),
                environments: &p.environments,
                summary: summary.clone(),
                merge,
                url: p.pull.as_ref().map(|pull| pull.url.as_str()),
                draft: p.pull.as_ref().map(|pull| pull.draft),
            })
            .collect();
        out.print_json(&json)?;
    } else {
        let mut text = String::new();
        if rows.is_empty() && failures.is_empty() {
            text.push_str("no pending promotions\n");
        } else if !rows.is_empty() {
            text.push_str(&out.paint(
                Style::Bold,
                &format!(
                    "{}  {}  {}  {}  {}  {}",
                    cell("ID", 44),
                    cell("ENVIRONMENTS", 22),
                    cell("TITLE", 40),
                    cell("AUTHOR", 12),
                    cell("AGE", 4),
                    "SUMMARY"
                ),
            ));
            text.push('\n');
        }
        for (p, summary) in rows.iter().map(|row| (&row.promotion, &row.summary)) {
            text.push_str(&format!(
                "{}  {}  {}  {}  {}  {}\n",
                cell(&p.id, 44),
                cell(
                    &match p.environments.is_empty() {
                        true => "-".to_string(),
                        false => p.environments.join(","),
                    },
                    22,
                ),
                cell(&p.title, 40),
                cell(&p.author.name, 12),
                cell(&age(p.author.time), 4),
                summary
            ));
        }
        out.print(&text)?;
    }
    for failure in &failures {
        super::output::to_stderr(&format!(
            "tollgate: {}",
            crate::text::printable(&failure.to_string())
        ));
    }
    if !failures.is_empty() {
        anyhow::bail!("{} of the repos could not be read", failures.len());
    }
    Ok(())
}

/// A promotion as `list --json` prints it.
#[derive(Debug, Serialize)]
struct PromotionJson<'a> {
    id: &'a str,
    repo: &'a str,
    branch: &'a str,
    title: &'a str,
    author: AuthorRow<'a>,
    created: String,
    head: String,
    base: String,
    environments: &'a [String],
    summary: String,
    /// What merging it now would do: `{state: clean | moved | behind | conflicts |
    /// already-merged, conflicts, behind}`.
    merge: &'a crate::outlook::MergeOutlook,
    /// A pull request's page on GitHub.
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    draft: Option<bool>,
}

#[derive(Debug, Serialize)]
struct AuthorRow<'a> {
    name: &'a str,
    email: &'a str,
}

/// `list --closed`: the promotions closed without merging, newest first, with who closed
/// them, when and why (from each repo's `refs/notes/tollgate-closed`).
pub fn closed(config: &Config, args: &RepoArg, out: &Output) -> anyhow::Result<()> {
    let mut records = Vec::new();
    for repo_config in config.repos_named(args.repo.as_deref())? {
        let repo = crate::git::Repo::open(&repo_config.name, &repo_config.path)?;
        records.extend(crate::closing::closes_in(&repo)?);
    }
    records.sort_by_key(|r| std::cmp::Reverse(r.at));
    if out.json {
        return out.print_json(&records);
    }
    if records.is_empty() {
        return out.print("no promotion was closed without merging\n");
    }
    let mut text = String::new();
    for record in &records {
        text.push_str(&format!(
            "{}  {}  {}  head {}\n    {}\n",
            &rfc3339(record.at)[..16].replace('T', " "),
            out.paint(Style::Bold, &record.promotion),
            record.by,
            crate::text::short(&record.head),
            record.reason
        ));
    }
    out.print(&text)
}
