//! `tollgate show COMMIT`: a commit, its trailers, and its rendered diff against its
//! first parent.

use serde::Serialize;

use super::ShowArgs;
use super::diff::{DiffJson, environment_text};
use super::output::{Output, Style};
use crate::config::Config;
use crate::git::CommitInfo;
use crate::git::commit::rfc3339;
use crate::workspace::{ConfigExt, OpenRepo};

pub fn run(config: &Config, args: &ShowArgs, out: &Output) -> anyhow::Result<()> {
    let open = OpenRepo::open(config.pick_repo(args.repo.as_deref())?)?;
    let id = open.repo.resolve(&args.commit)?;
    let commit = open.repo.commit_info(id)?;
    let parent = commit.parents.first().copied();
    let envs = open.diff(parent, id, args.env.as_deref())?;
    if out.json {
        #[derive(Serialize)]
        struct ShowJson<'a> {
            commit: &'a CommitInfo,
            #[serde(flatten)]
            diff: DiffJson<'a>,
        }
        return out.print_json(&ShowJson {
            commit: &commit,
            diff: DiffJson::new(open.name(), parent, id, &envs),
        });
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
    out.print(&text)
}
