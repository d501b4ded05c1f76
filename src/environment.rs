//! Environments of a repository at a commit: the ones the config lists, or each folder
//! under `envs/`. An environment renders with kustomize when its folder holds a
//! kustomization file, else as plain manifests, unless the config says otherwise.

use gix::ObjectId;
use serde::Serialize;

use crate::config::{EnvironmentConfig, HelmConfig, Renderer};
use crate::git::{GitError, Repo};

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
                Ok(Environment {
                    name: env.name.clone(),
                    path: env.path.clone(),
                    renderer: match env.renderer {
                        Some(r) => r,
                        None => detect_renderer(repo, tree, &env.path)?,
                    },
                    namespace: env.namespace.clone(),
                    helm: env.helm.clone(),
                })
            })
            .collect(),
        None => repo
            .subdirs(tree, ENVS_DIR)?
            .into_iter()
            .map(|name| {
                let path = format!("{ENVS_DIR}/{name}");
                Ok(Environment {
                    renderer: detect_renderer(repo, tree, &path)?,
                    name,
                    path,
                    namespace: None,
                    helm: None,
                })
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
