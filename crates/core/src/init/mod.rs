//! `tollgate init`: look at a repository and guess its environments, each guess with the
//! reason for it, as a `repos:` entry of `config.yaml`. Folders with a kustomization under
//! the roots people use (`envs/`, `environments/`, `overlays/`, `clusters/`, and
//! `apps/*/`), a chart with a `values-ENV.yaml` per environment, plain folders of
//! manifests under `envs/`, and the sources of Argo CD `Application` manifests (their
//! `source.path`, `helm.valueFiles`, destination namespace). Nothing is rendered or
//! written here: the face prints or saves.

mod argo;
mod flux;

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
    /// A chart's values files for this environment (`renderer: helm`), in order.
    pub values: Vec<String>,
    pub namespace: Option<String>,
    /// The manifest that defines it (an Argo CD Application, a Flux Kustomization): the
    /// config names that file, and the rest is read from it at each commit.
    pub from: Option<String>,
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
    // Argo CD and Flux say outright what they deploy: their manifests come first.
    let mut environments = argo::applications(repo, tree)?;
    environments.extend(argo::application_sets(repo, tree)?);
    environments.extend(flux::kustomizations(repo, tree)?);
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
    // A folder that holds the controllers' own manifests (a Flux cluster folder) is
    // where they are defined, not an environment.
    let defining: Vec<String> = environments.iter().filter_map(|e| e.from.clone()).collect();
    environments.retain(|e| {
        e.from.is_some()
            || !defining
                .iter()
                .any(|file| file.starts_with(&format!("{}/", e.path)))
    });
    // A name used twice (two roots, or a chart and an overlay), or the same source found
    // twice (an Application and the folder it names), keeps its first guess.
    let mut names = std::collections::HashSet::new();
    let mut sources = std::collections::HashSet::new();
    environments.retain(|e| {
        names.insert(e.name.clone()) && sources.insert((e.path.clone(), e.values.clone()))
    });
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
                values: Vec::new(),
                namespace: None,
                why: format!("{file} is a kustomization under {root}/"),
                path,
                from: None,
            });
        } else if repo
            .files_under(tree, &path)?
            .iter()
            .any(|f| crate::render::is_manifest_file(&f.path))
        {
            out.push(GuessedEnvironment {
                name: format!("{prefix}{name}"),
                renderer: Renderer::Plain,
                values: Vec::new(),
                namespace: None,
                why: format!("{path} holds YAML manifests and no kustomization"),
                path,
                from: None,
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
            values: vec![file.path.clone()],
            namespace: None,
            why: format!(
                "{} is a chart and {} its values for {env}",
                join("Chart.yaml"),
                file.path
            ),
            from: None,
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
        if let Some(from) = &env.from {
            text.push_str(&format!("      - {{ name: {}, from: {from} }}\n", env.name));
            continue;
        }
        let renderer = format!("{:?}", env.renderer).to_lowercase();
        let mut fields = format!(
            "name: {}, path: {}, renderer: {renderer}",
            env.name, env.path
        );
        if !env.values.is_empty() {
            fields.push_str(&format!(", values: [{}]", env.values.join(", ")));
        }
        if let Some(namespace) = &env.namespace {
            fields.push_str(&format!(", namespace: {namespace}"));
        }
        text.push_str(&format!("      - {{ {fields} }}\n"));
    }
    text
}
