//! `tollgate init`: look at a repository and guess its environments, each guess with the
//! reason for it, as a `repos:` entry of `config.yaml`. Folders with a kustomization under
//! the roots people use (`envs/`, `environments/`, `overlays/`, `clusters/`, and
//! `apps/*/`), a chart with a `values-ENV.yaml` per environment, plain folders of
//! manifests under `envs/`, and the sources of Argo CD `Application` manifests (their
//! `source.path`, `helm.valueFiles`, destination namespace). Nothing is rendered or
//! written here: the face prints or saves.

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
    let mut environments = applications(repo, tree)?;
    environments.extend(flux_kustomizations(repo, tree)?);
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

/// Folders Argo CD `Application` manifests are looked for in (and the repository's root),
/// one level deep.
const APPLICATION_DIRS: &[&str] = &["", "apps", "applications", "argocd", "argo-cd", "clusters"];

#[derive(serde::Deserialize)]
struct Application {
    #[serde(rename = "apiVersion", default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    spec: ApplicationSpec,
}

#[derive(serde::Deserialize, Default)]
struct Metadata {
    #[serde(default)]
    name: String,
}

#[derive(serde::Deserialize, Default)]
struct ApplicationSpec {
    source: Option<Source>,
    destination: Option<Destination>,
}

#[derive(serde::Deserialize)]
struct Source {
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    helm: Option<HelmSource>,
}

#[derive(serde::Deserialize)]
struct HelmSource {
    #[serde(rename = "valueFiles", default)]
    value_files: Vec<String>,
}

#[derive(serde::Deserialize)]
struct Destination {
    namespace: Option<String>,
}

/// Each Argo CD `Application` whose source is a folder of this repository.
fn applications(repo: &Repo, tree: ObjectId) -> Result<Vec<GuessedEnvironment>, GitError> {
    let mut out = Vec::new();
    for dir in APPLICATION_DIRS {
        let files = match *dir {
            "" => repo.files_under(tree, "")?,
            _ => repo.files_under(tree, dir)?,
        };
        for file in files {
            let depth = file.path.matches('/').count();
            let shallow = if dir.is_empty() {
                depth == 0
            } else {
                depth <= 2
            };
            if !shallow || !crate::render::is_manifest_file(&file.path) {
                continue;
            }
            let bytes = repo.blob(file.id)?;
            let Ok(text) = std::str::from_utf8(&bytes) else {
                continue;
            };
            if !text.contains("argoproj.io") {
                continue;
            }
            for doc in crate::manifest::parse::split_documents(text) {
                let Ok(app) = serde_saphyr::from_str::<Application>(doc.text) else {
                    continue;
                };
                if app.kind != "Application" || !app.api_version.starts_with("argoproj.io/") {
                    continue;
                }
                let Some(source) = app.spec.source else {
                    continue;
                };
                let Some(path) = source.path.map(|p| p.trim_matches('/').to_string()) else {
                    continue;
                };
                if path.is_empty() || path.split('/').any(|c| c == "..") {
                    continue;
                }
                let namespace = app.spec.destination.and_then(|d| d.namespace);
                let values: Vec<String> = source
                    .helm
                    .map(|h| h.value_files)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|v| crate::environment::resolve(&path, v))
                    .collect();
                let renderer = if repo
                    .entry_at(tree, &format!("{path}/Chart.yaml"))?
                    .is_some()
                {
                    Renderer::Helm
                } else if kustomization_in(repo, tree, &path)?.is_some() {
                    Renderer::Kustomize
                } else {
                    Renderer::Plain
                };
                let mut what = format!("{} {path}", format!("{renderer:?}").to_lowercase());
                if !values.is_empty() {
                    what.push_str(&format!(" with {}", values.join(", ")));
                }
                if let Some(namespace) = &namespace {
                    what.push_str(&format!(", namespace {namespace}"));
                }
                out.push(GuessedEnvironment {
                    name: app.metadata.name.clone(),
                    why: format!(
                        "{} is the Argo CD Application {} ({what}), read from it at each commit",
                        file.path, app.metadata.name
                    ),
                    path,
                    renderer,
                    values,
                    namespace,
                    from: Some(file.path.clone()),
                });
            }
        }
    }
    out.retain(|e| !e.name.is_empty());
    Ok(out)
}

/// Folders Flux `Kustomization` manifests are looked for in, any depth.
const FLUX_DIRS: &[&str] = &["clusters", "flux"];

/// Each Flux `Kustomization` under `clusters/` or `flux/` but the one that bootstraps
/// Flux itself (`flux-system`), named after its cluster folder.
fn flux_kustomizations(repo: &Repo, tree: ObjectId) -> Result<Vec<GuessedEnvironment>, GitError> {
    let mut out = Vec::new();
    for dir in FLUX_DIRS {
        for file in repo.files_under(tree, dir)? {
            if !crate::render::is_manifest_file(&file.path) {
                continue;
            }
            let bytes = repo.blob(file.id)?;
            let Ok(text) = std::str::from_utf8(&bytes) else {
                continue;
            };
            if !text.contains(crate::gitops::flux::API) {
                continue;
            }
            for doc in crate::manifest::parse::split_documents(text) {
                let Ok(object) = serde_saphyr::from_str::<serde_json::Value>(doc.text) else {
                    continue;
                };
                let name = object
                    .pointer("/metadata/name")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("");
                if !crate::gitops::flux::is_kustomization(&object)
                    || name.is_empty()
                    || name == "flux-system"
                {
                    continue;
                }
                let Ok(definition) = crate::gitops::flux::definition(&object, &file.path) else {
                    continue;
                };
                // clusters/production/apps.yaml: `production-apps`, or `production`
                // when the Kustomization is named after its cluster.
                let cluster = file
                    .path
                    .strip_prefix(&format!("{dir}/"))
                    .and_then(|rest| rest.split_once('/'))
                    .map(|(cluster, _)| cluster);
                let env_name = match cluster {
                    Some(cluster) if cluster != name => format!("{cluster}-{name}"),
                    _ => name.to_string(),
                };
                out.push(GuessedEnvironment {
                    why: format!(
                        "{} is the Flux Kustomization {name} (path {}{}), read from it at each commit",
                        file.path,
                        definition.path,
                        definition
                            .namespace
                            .as_deref()
                            .map(|ns| format!(", target namespace {ns}"))
                            .unwrap_or_default()
                    ),
                    name: env_name,
                    path: definition.path,
                    renderer: Renderer::Kustomize,
                    values: Vec::new(),
                    namespace: definition.namespace,
                    from: Some(file.path.clone()),
                });
            }
        }
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
