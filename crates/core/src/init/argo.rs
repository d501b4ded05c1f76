//! Argo CD's manifests in a repository: each `Application` whose source is a folder of it
//! (an environment `from:` its file), and each `ApplicationSet` whose list or git
//! directories generator makes such Applications (environments by path, since the
//! Applications themselves are not in the repository).

use gix::ObjectId;

use super::GuessedEnvironment;
use crate::config::Renderer;
use crate::environment::kustomization_in;
use crate::git::{GitError, Repo};

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

/// The YAML files Argo CD manifests are looked for in, with their text, when they mention
/// `argoproj.io`.
fn argo_files(repo: &Repo, tree: ObjectId) -> Result<Vec<(String, String)>, GitError> {
    let mut out = Vec::new();
    for dir in APPLICATION_DIRS {
        for file in repo.files_under(tree, dir)? {
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
            if let Ok(text) = String::from_utf8(bytes)
                && text.contains("argoproj.io")
            {
                out.push((file.path, text));
            }
        }
    }
    Ok(out)
}

/// Each Argo CD `Application` whose source is a folder of this repository.
pub fn applications(repo: &Repo, tree: ObjectId) -> Result<Vec<GuessedEnvironment>, GitError> {
    let mut out = Vec::new();
    for (file, text) in argo_files(repo, tree)? {
        for doc in crate::manifest::documents::split_documents(&text) {
            let Ok(app) = serde_saphyr::from_str::<Application>(doc.text) else {
                continue;
            };
            if app.kind != "Application" || !app.api_version.starts_with("argoproj.io/") {
                continue;
            }
            let why = format!("{file} is the Argo CD Application {}", app.metadata.name);
            if let Some(mut guess) = guess_of(repo, tree, app, why)? {
                guess.why.push_str(", read from it at each commit");
                guess.from = Some(file.clone());
                out.push(guess);
            }
        }
    }
    out.retain(|e| !e.name.is_empty());
    Ok(out)
}

/// Each Application an `ApplicationSet` makes from a `list` or a git `directories`
/// generator whose source is a folder of this repository. They are not in the
/// repository, so they are written as paths, not `from:`.
pub fn application_sets(repo: &Repo, tree: ObjectId) -> Result<Vec<GuessedEnvironment>, GitError> {
    let mut out = Vec::new();
    for (file, text) in argo_files(repo, tree)? {
        for doc in crate::manifest::documents::split_documents(&text) {
            let Ok(set) = serde_saphyr::from_str::<serde_json::Value>(doc.text) else {
                continue;
            };
            if set.get("kind").and_then(serde_json::Value::as_str) != Some("ApplicationSet") {
                continue;
            }
            let set_name = set
                .pointer("/metadata/name")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("?")
                .to_string();
            let Some(template) = set.pointer("/spec/template") else {
                continue;
            };
            for (params, made_by) in generated_params(repo, tree, &set)? {
                let Some(filled) = fill(template, &params) else {
                    // A template function or a parameter the generator does not give.
                    continue;
                };
                let mut app = filled;
                app["apiVersion"] = "argoproj.io/v1alpha1".into();
                app["kind"] = "Application".into();
                let Ok(app) = serde_json::from_value::<Application>(app) else {
                    continue;
                };
                let why = format!(
                    "{file}: the Argo CD ApplicationSet {set_name} makes the Application {} from its {made_by}",
                    app.metadata.name
                );
                out.extend(guess_of(repo, tree, app, why)?);
            }
        }
    }
    out.retain(|e| !e.name.is_empty());
    Ok(out)
}

/// A generator's parameters for one Application, by name (`path.basename`).
type Params = Vec<(String, String)>;

/// The parameters each Application of `set` is made with, and which generator made them:
/// a `list` generator's elements, a git `directories` generator's folders (`path`,
/// `path.basename`, …). Other generators (clusters, matrix, merge, pull requests) need
/// what is not in the repository and are left out.
fn generated_params(
    repo: &Repo,
    tree: ObjectId,
    set: &serde_json::Value,
) -> Result<Vec<(Params, String)>, GitError> {
    use serde_json::Value;
    let mut out = Vec::new();
    for generator in set
        .pointer("/spec/generators")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for element in generator
            .pointer("/list/elements")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(map) = element.as_object() else {
                continue;
            };
            let params: Vec<(String, String)> = map
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect();
            let shown = params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push((params, format!("list element {shown}")));
        }
        let Some(directories) = generator
            .pointer("/git/directories")
            .and_then(Value::as_array)
        else {
            continue;
        };
        let pattern = |d: &Value| d.get("path").and_then(Value::as_str).map(str::to_string);
        let excluded: Vec<String> = directories
            .iter()
            .filter(|d| d.get("exclude").and_then(Value::as_bool) == Some(true))
            .filter_map(pattern)
            .collect();
        for included in directories
            .iter()
            .filter(|d| d.get("exclude").and_then(Value::as_bool) != Some(true))
            .filter_map(pattern)
        {
            for dir in matching_dirs(repo, tree, &included)? {
                if excluded.iter().any(|e| glob_matches(e, &dir)) {
                    continue;
                }
                let basename = dir.rsplit('/').next().unwrap_or(&dir).to_string();
                let mut params = vec![
                    ("path".to_string(), dir.clone()),
                    ("path.path".to_string(), dir.clone()),
                    ("path.basename".to_string(), basename.clone()),
                    (
                        "path.basenameNormalized".to_string(),
                        basename.replace(['_', '.'], "-").to_lowercase(),
                    ),
                ];
                for (i, part) in dir.split('/').enumerate() {
                    params.push((format!("path[{i}]"), part.to_string()));
                }
                out.push((params, format!("git directory {dir}")));
            }
        }
    }
    Ok(out)
}

/// The folders of the repository a git generator's path pattern (`envs/*`) matches.
fn matching_dirs(repo: &Repo, tree: ObjectId, pattern: &str) -> Result<Vec<String>, GitError> {
    let mut found = vec![String::new()];
    for part in pattern.trim_matches('/').split('/') {
        let mut next = Vec::new();
        for dir in &found {
            if part.contains(['*', '?', '[']) {
                for sub in repo.subdirs(tree, dir)? {
                    if glob_matches(part, &sub) {
                        next.push(join(dir, &sub));
                    }
                }
            } else if repo.is_dir(tree, &join(dir, part))? {
                next.push(join(dir, part));
            }
        }
        found = next;
    }
    Ok(found)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Whether `name` matches `pattern` as git matches paths (`*` never crosses a `/`): the
/// ApplicationSet's pattern is the repository's text, so a bounded matcher, gix's.
fn glob_matches(pattern: &str, name: &str) -> bool {
    gix::glob::wildmatch(
        pattern.into(),
        name.into(),
        gix::glob::wildmatch::Mode::NO_MATCH_SLASH_LITERAL,
    )
}

/// `template` with each `{{param}}` (fasttemplate) or `{{ .param }}` (goTemplate) in its
/// strings replaced; `None` when one names something `params` does not hold (a function,
/// an unknown parameter).
fn fill(template: &serde_json::Value, params: &Params) -> Option<serde_json::Value> {
    use serde_json::Value;
    Some(match template {
        Value::String(text) => {
            let mut out = String::new();
            let mut rest = text.as_str();
            while let Some(start) = rest.find("{{") {
                out.push_str(&rest[..start]);
                let end = rest[start..].find("}}")? + start;
                let name = rest[start + 2..end].trim().trim_start_matches('.');
                let (_, value) = params.iter().find(|(k, _)| k == name)?;
                out.push_str(value);
                rest = &rest[end + 2..];
            }
            out.push_str(rest);
            Value::String(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| fill(item, params))
                .collect::<Option<_>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Some((k.clone(), fill(v, params)?)))
                .collect::<Option<_>>()?,
        ),
        other => other.clone(),
    })
}

/// An Application's source as a guess, `why` saying where it came from; `None` when its
/// source is not a folder of this repository.
fn guess_of(
    repo: &Repo,
    tree: ObjectId,
    app: Application,
    why: String,
) -> Result<Option<GuessedEnvironment>, GitError> {
    let Some(source) = app.spec.source else {
        return Ok(None);
    };
    let Some(path) = source.path.map(|p| p.trim_matches('/').to_string()) else {
        return Ok(None);
    };
    if path.is_empty() || path.split('/').any(|c| c == "..") || !repo.is_dir(tree, &path)? {
        return Ok(None);
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
    Ok(Some(GuessedEnvironment {
        name: app.metadata.name.clone(),
        why: format!("{why} ({what})"),
        path,
        renderer,
        values,
        namespace,
        from: None,
    }))
}
