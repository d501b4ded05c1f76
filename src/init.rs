//! `tollgate init`: look at a repository and guess its environments, each guess with the
//! reason for it, as a `repos:` entry of `config.yaml`. Folders with a kustomization under
//! the roots people use (`envs/`, `environments/`, `overlays/`, `clusters/`, and
//! `apps/*/`), a chart with a `values-ENV.yaml` per environment, and plain folders of
//! manifests under `envs/`. Nothing is rendered or written here: the face prints or saves.

use gix::ObjectId;

use crate::config::Renderer;
use crate::environment::kustomization_in;
use crate::git::{GitError, Repo};

/// Folders whose sub-folders are environments.
const ROOTS: &[&str] = &["envs", "environments", "overlays", "clusters"];

/// One guessed environment and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuessedEnvironment {
    pub name: String,
    pub path: String,
    pub renderer: Renderer,
    /// A chart's values file for this environment (`renderer: helm`).
    pub values: Option<String>,
    pub why: String,
}

/// What `init` found in a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guess {
    /// The protected branch: the branch HEAD names.
    pub branch: String,
    pub environments: Vec<GuessedEnvironment>,
}

/// Guess the environments of `repo` at its HEAD branch.
pub fn guess(repo: &Repo) -> Result<Guess, GitError> {
    let branch = repo.protected_branch(None)?;
    let tree = repo.tree_of(repo.branch_head(&branch)?)?;
    let mut environments = Vec::new();
    for root in ROOTS {
        environments.extend(folders_of(repo, tree, root, "")?);
    }
    for app in repo.subdirs(tree, "apps")? {
        let dir = format!("apps/{app}");
        environments.extend(folders_of(repo, tree, &dir, &format!("{app}-"))?);
    }
    // Charts: a top-level folder, or one under `charts/`, with a `Chart.yaml`.
    for dir in repo.subdirs(tree, "")? {
        environments.extend(charts(repo, tree, &dir)?);
    }
    for dir in repo.subdirs(tree, "charts")? {
        environments.extend(charts(repo, tree, &format!("charts/{dir}"))?);
    }
    // A name used twice (two roots, or a chart and an overlay) keeps its first guess.
    let mut seen = std::collections::HashSet::new();
    environments.retain(|e| seen.insert(e.name.clone()));
    Ok(Guess {
        branch,
        environments,
    })
}

/// Each sub-folder of `root` as an environment named `prefix` + its name: kustomize when
/// it holds a kustomization, plain when it holds manifests.
fn folders_of(
    repo: &Repo,
    tree: ObjectId,
    root: &str,
    prefix: &str,
) -> Result<Vec<GuessedEnvironment>, GitError> {
    let mut out = Vec::new();
    for name in repo.subdirs(tree, root)? {
        let path = format!("{root}/{name}");
        if let Some(file) = kustomization_in(repo, tree, &path)? {
            out.push(GuessedEnvironment {
                name: format!("{prefix}{name}"),
                renderer: Renderer::Kustomize,
                values: None,
                why: format!("{file} is a kustomization under {root}/"),
                path,
            });
        } else if repo
            .files_under(tree, &path)?
            .iter()
            .any(|f| crate::render::is_manifest_file(&f.path))
        {
            out.push(GuessedEnvironment {
                name: format!("{prefix}{name}"),
                renderer: Renderer::Plain,
                values: None,
                why: format!("{path} holds YAML manifests and no kustomization"),
                path,
            });
        }
    }
    Ok(out)
}

/// A chart at `dir` (a `Chart.yaml` there) with a `values-ENV.yaml` per environment.
fn charts(repo: &Repo, tree: ObjectId, dir: &str) -> Result<Vec<GuessedEnvironment>, GitError> {
    let join = |file: &str| format!("{dir}/{file}");
    if repo.entry_at(tree, &join("Chart.yaml"))?.is_none() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for file in repo.files_under(tree, dir)? {
        let name = file.path.rsplit('/').next().unwrap_or(&file.path);
        let Some(env) = name
            .strip_prefix("values-")
            .and_then(|n| n.strip_suffix(".yaml").or_else(|| n.strip_suffix(".yml")))
        else {
            continue;
        };
        if file.path != join(name) {
            continue;
        }
        out.push(GuessedEnvironment {
            name: env.to_string(),
            path: dir.to_string(),
            renderer: Renderer::Helm,
            values: Some(file.path.clone()),
            why: format!(
                "{} is a chart and {} its values for {env}",
                join("Chart.yaml"),
                file.path
            ),
        });
    }
    Ok(out)
}

/// `guess` as a `repos:` entry for `config.yaml`, each environment with its reason as a
/// comment; `path` is how the config reaches the repository.
pub fn config_entry(name: &str, path: &str, guess: &Guess) -> String {
    let mut text = format!(
        "  - name: {name}\n    path: {path}\n    branch: {}            # the branch HEAD names\n    promotions: \"promote/*\"     # list them: git branch --list 'promote/*'\n",
        guess.branch
    );
    if guess.environments.is_empty() {
        text.push_str(
            "    # no environment found: list them under `environments:` (name, path, renderer)\n",
        );
        return text;
    }
    text.push_str("    environments:\n");
    for env in &guess.environments {
        text.push_str(&format!("      # {}\n", env.why));
        let renderer = format!("{:?}", env.renderer).to_lowercase();
        match &env.values {
            Some(values) => text.push_str(&format!(
                "      - {{ name: {}, path: {}, renderer: {renderer}, values: [{values}] }}\n",
                env.name, env.path
            )),
            None => text.push_str(&format!(
                "      - {{ name: {}, path: {}, renderer: {renderer} }}\n",
                env.name, env.path
            )),
        }
    }
    text
}
