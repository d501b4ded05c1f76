//! Environments of a repository at a commit: the ones the config lists, or each folder
//! under `envs/`. An environment renders with kustomize when its folder holds a
//! kustomization file, else as plain manifests, unless the config says otherwise.

use gix::ObjectId;
use serde::Serialize;

use std::borrow::Cow;

use crate::config::{EnvironmentConfig, HelmConfig, Renderer, Supplied};
use crate::git::{GitError, Repo};
use crate::gitops::Overlay;
use crate::render::flux::FluxSettings;

/// The folder environments are discovered under when the config lists none.
pub const ENVS_DIR: &str = "envs";

/// File names kustomize accepts for a kustomization, in its order of preference.
pub const KUSTOMIZATION_FILES: &[&str] =
    &["kustomization.yaml", "kustomization.yml", "Kustomization"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Environment {
    pub name: String,
    pub path: String,
    pub renderer: Renderer,
    pub namespace: Option<String>,
    /// The chart, values and release of a `renderer: helm` environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helm: Option<HelmConfig>,
    /// The file in the repository that defines it (a Flux Kustomization), read again at
    /// each commit (see [`Environment::at`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// What a Flux Kustomization asks of the render beyond its path.
    #[serde(skip)]
    pub flux: Option<FluxSettings>,
    /// kustomize settings the defining manifest applies around the path.
    #[serde(skip)]
    pub overlay: Option<Overlay>,
    /// Only the manifests at the top of the folder, not those in its sub-folders (an Argo
    /// CD directory source without `recurse`).
    #[serde(skip)]
    pub top_level_only: bool,
    /// Files the render reads that git does not have (see [`Supplied`]).
    #[serde(skip)]
    pub supplied: Vec<Supplied>,
    /// Why it cannot be rendered at this commit (its defining manifest is missing or asks
    /// for what tollgate does not render): every render of it fails with this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl Environment {
    /// An environment that is its folder `path`, rendered by `renderer`, with nothing
    /// else configured.
    pub fn folder(name: String, path: String, renderer: Renderer) -> Environment {
        Environment {
            name,
            path,
            renderer,
            namespace: None,
            helm: None,
            from: None,
            flux: None,
            overlay: None,
            top_level_only: false,
            supplied: Vec::new(),
            problem: None,
        }
    }

    /// This environment as it is at `tree`: one defined by a manifest in the repository
    /// (`from`) is read from that manifest there; any other is itself.
    pub fn at(&self, repo: &Repo, tree: ObjectId) -> Result<Cow<'_, Environment>, GitError> {
        match &self.from {
            None => Ok(Cow::Borrowed(self)),
            Some(from) => Ok(Cow::Owned(crate::gitops::environment_from(
                repo, tree, &self.name, from,
            )?)),
        }
    }
}

/// The environments at `tree`: from `configured` when given, else discovered.
pub fn environments_at(
    repo: &Repo,
    tree: ObjectId,
    configured: Option<&[EnvironmentConfig]>,
) -> Result<Vec<Environment>, GitError> {
    match configured {
        Some(list) => list
            .iter()
            .map(|env| {
                if let Some(from) = &env.from {
                    let mut defined = crate::gitops::environment_from(repo, tree, &env.name, from)?;
                    defined.supplied = env.supplied.clone();
                    return Ok(defined);
                }
                let renderer = match env.renderer {
                    Some(r) => r,
                    None => detect_renderer(repo, tree, &env.path)?,
                };
                Ok(Environment {
                    namespace: env.namespace.clone(),
                    helm: env.helm.clone(),
                    supplied: env.supplied.clone(),
                    ..Environment::folder(env.name.clone(), env.path.clone(), renderer)
                })
            })
            .collect(),
        None => repo
            .subdirs(tree, ENVS_DIR)?
            .into_iter()
            .map(|name| {
                let path = format!("{ENVS_DIR}/{name}");
                let renderer = detect_renderer(repo, tree, &path)?;
                Ok(Environment::folder(name, path, renderer))
            })
            .collect(),
    }
}

/// The kustomization file in `dir`, if there is one.
pub fn kustomization_in(
    repo: &Repo,
    tree: ObjectId,
    dir: &str,
) -> Result<Option<String>, GitError> {
    for file in KUSTOMIZATION_FILES {
        let path = join(dir, file);
        if repo.entry_at(tree, &path)?.is_some() && !repo.is_dir(tree, &path)? {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

fn detect_renderer(repo: &Repo, tree: ObjectId, dir: &str) -> Result<Renderer, GitError> {
    Ok(match kustomization_in(repo, tree, dir)? {
        Some(_) => Renderer::Kustomize,
        None => Renderer::Plain,
    })
}

/// `dir/file` with `.` and `..` resolved; `None` when it leaves the repository.
pub fn resolve(dir: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<&str> = if relative.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|p| !p.is_empty()).collect()
    };
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_string()
    } else {
        format!("{dir}/{file}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_inside_the_repository() {
        assert_eq!(resolve("envs/prod", "../../base").as_deref(), Some("base"));
        assert_eq!(
            resolve("envs/prod", "./patch.yaml").as_deref(),
            Some("envs/prod/patch.yaml")
        );
        assert_eq!(resolve("envs", "../../x"), None);
    }
}
