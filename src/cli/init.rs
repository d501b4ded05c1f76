//! `tollgate init REPO`: guess a repository's environments and print them as a `repos:`
//! entry (`--dry-run`), or add it to the config file, keeping the rest of the file as it
//! was, comments included.

use std::path::{Path, PathBuf};

use super::InitArgs;
use super::output::Output;
use crate::config::{CONFIG_ENV, Config};
use crate::git::Repo;

pub fn run(explicit_config: Option<&Path>, args: &InitArgs, out: &Output) -> anyhow::Result<()> {
    let repo_path = std::fs::canonicalize(&args.repo).map_err(|e| {
        anyhow::anyhow!(
            "{}: {e}; give the path of a git repository (bare or not)",
            args.repo.display()
        )
    })?;
    let name = args.name.clone().unwrap_or_else(|| name_of(&repo_path));
    let repo = Repo::open(&name, &repo_path)?;
    let guess = crate::init::guess(&repo)?;
    let entry = crate::init::config_entry(&name, &repo_path.display().to_string(), &guess);
    if out.json {
        let environments: Vec<serde_json::Value> = guess
            .environments
            .iter()
            .map(|e| {
                serde_json::json!({
                    "name": e.name, "path": e.path, "renderer": e.renderer,
                    "values": e.values, "why": e.why,
                })
            })
            .collect();
        if !args.dry_run {
            write(&config_path(explicit_config)?, &name, &entry)?;
        }
        return out.print_json(&serde_json::json!({
            "name": name, "path": repo_path, "branch": guess.branch,
            "environments": environments, "written": !args.dry_run,
        }));
    }
    if args.dry_run {
        return out.print(&format!("repos:\n{entry}"));
    }
    let path = config_path(explicit_config)?;
    write(&path, &name, &entry)?;
    out.print(&format!(
        "added {name} to {} with {} environment(s):\n\n{entry}",
        path.display(),
        guess.environments.len()
    ))
}

/// A repository's name from its folder: `shop-env.git` → `shop`.
fn name_of(path: &Path) -> String {
    let folder = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "repo".into());
    let folder = folder.strip_suffix(".git").unwrap_or(&folder);
    folder.strip_suffix("-env").unwrap_or(folder).to_string()
}

fn config_path(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    Ok(match explicit {
        Some(p) => p.to_path_buf(),
        None => match std::env::var_os(CONFIG_ENV) {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => Config::default_path()?,
        },
    })
}

/// Add `entry` under `repos:` of the config at `path` (a new file when there is none),
/// then load it: a result that does not load is put back as it was.
fn write(path: &Path, name: &str, entry: &str) -> anyhow::Result<()> {
    let before = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => anyhow::bail!("{}: {e}", path.display()),
    };
    let after = match &before {
        None => format!("# tollgate config (started by `tollgate init`)\nrepos:\n{entry}"),
        Some(text) => {
            if Config::load(path)?.repos.iter().any(|r| r.name == name) {
                anyhow::bail!(
                    "{} already has a repo named {name}; choose another with --name",
                    path.display()
                );
            }
            let last_section = text
                .lines()
                .rfind(|l| !l.starts_with([' ', '\t', '#', '-']) && l.contains(':'))
                .unwrap_or("");
            if last_section.trim_end() != "repos:" {
                anyhow::bail!(
                    "{}: `repos:` is not the file's last section, so the entry cannot be appended without moving what follows; paste it under repos: yourself:\n\n{entry}",
                    path.display()
                );
            }
            let mut text = text.clone();
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(entry);
            text
        }
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, &after)?;
    if let Err(e) = Config::load(path) {
        match &before {
            Some(text) => std::fs::write(path, text)?,
            None => std::fs::remove_file(path)?,
        }
        anyhow::bail!("the config with {name} added does not load ({e}); nothing was changed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_repository_is_named_after_its_folder() {
        let name = |p: &str| super::name_of(std::path::Path::new(p));
        assert_eq!(name("/srv/git/shop-env.git"), "shop");
        assert_eq!(name("/srv/git/platform"), "platform");
        assert_eq!(name("/srv/git/infra.git"), "infra");
    }
}
