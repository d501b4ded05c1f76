//! Environments a GitOps controller defines in the repository itself: `from:` names a
//! file holding a Flux `Kustomization` or an Argo CD `Application`. What the environment
//! deploys is read from that manifest at each commit, so that a change to it (a new path,
//! a values file, a substitution) is the environment's change too, and an older commit
//! renders as its own manifest said.
//!
//! A manifest that cannot be read, or that asks for something tollgate does not render,
//! makes an environment whose render fails with the reason: never one that renders to
//! nothing.

pub mod argo;
pub mod flux;

use std::collections::BTreeMap;

use gix::ObjectId;
use serde_json::Value;

use crate::config::{HelmConfig, Renderer};
use crate::environment::Environment;
use crate::git::{GitError, Repo};
use crate::manifest::documents::split_documents;
use crate::render::flux::FluxSettings;

/// kustomize fields a controller applies around an environment's path (Flux's
/// `targetNamespace` and `patches`, Argo CD's `kustomize.images`, …): written into a
/// kustomization that holds the path, where kustomize gives them the same meaning.
pub type Overlay = BTreeMap<String, Value>;

/// What a controller's manifest says an environment is.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub path: String,
    pub renderer: Renderer,
    pub namespace: Option<String>,
    pub helm: Option<HelmConfig>,
    pub flux: Option<FluxSettings>,
    pub overlay: Option<Overlay>,
    /// Only the files at the top of the folder (Argo CD's directory source without
    /// `recurse`).
    pub top_level_only: bool,
}

/// The environment `name` as the manifest in `from` defines it at `tree`.
pub fn environment_from(
    repo: &Repo,
    tree: ObjectId,
    name: &str,
    from: &str,
) -> Result<Environment, GitError> {
    // Not there yet (or any more): the environment does not exist at this commit, and
    // renders to nothing, as a missing folder does.
    let mut env = Environment {
        from: Some(from.to_string()),
        ..Environment::folder(name.to_string(), from.to_string(), Renderer::Plain)
    };
    if repo.entry_at(tree, from)?.is_none() {
        return Ok(env);
    }
    match definition(repo, tree, name, from)? {
        Ok(definition) => {
            env.path = definition.path;
            env.renderer = definition.renderer;
            env.namespace = definition.namespace;
            env.helm = definition.helm;
            env.flux = definition.flux;
            env.overlay = definition.overlay;
            env.top_level_only = definition.top_level_only;
        }
        Err(problem) => env.problem = Some(format!("{from}: {problem}")),
    }
    Ok(env)
}

/// What the manifest in `from` defines, or why it defines nothing tollgate renders.
fn definition(
    repo: &Repo,
    tree: ObjectId,
    name: &str,
    from: &str,
) -> Result<Result<Definition, String>, GitError> {
    let Some(id) = repo.entry_at(tree, from)? else {
        return Ok(Err("not in the repository".into()));
    };
    let bytes = repo.blob(id)?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(Err("not UTF-8 text".into()));
    };
    let mut found: Vec<Value> = Vec::new();
    for doc in split_documents(text) {
        let Ok(object) = serde_saphyr::from_str::<Value>(doc.text) else {
            continue;
        };
        if flux::is_kustomization(&object) || argo::is_application(&object) {
            found.push(object);
        }
    }
    let object = match found.len() {
        0 => {
            return Ok(Err(
                "holds neither a Flux Kustomization (kustomize.toolkit.fluxcd.io) nor an Argo CD Application (argoproj.io)".into(),
            ));
        }
        1 => found.remove(0),
        _ => match found
            .into_iter()
            .find(|o| o.pointer("/metadata/name").and_then(Value::as_str) == Some(name))
        {
            Some(object) => object,
            None => {
                return Ok(Err(format!(
                    "holds several Kustomizations or Applications and none is named {name}"
                )));
            }
        },
    };
    if argo::is_application(&object) {
        return argo::definition(repo, tree, &object);
    }
    Ok(flux::definition(&object, from))
}
