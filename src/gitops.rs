//! Environments a GitOps controller defines in the repository itself: `from:` names a
//! file holding a Flux `Kustomization` (kustomize.toolkit.fluxcd.io). What the
//! environment deploys is read from that manifest at each commit, so that a change to it
//! (a new path, a substitution) is the environment's change too, and an older commit
//! renders as its own manifest said.
//!
//! A manifest that cannot be read, or that asks for something tollgate does not render,
//! makes an environment whose render fails with the reason: never one that renders to
//! nothing.

use std::collections::BTreeMap;

use gix::ObjectId;
use serde_json::Value;

use crate::config::Renderer;
use crate::environment::{Environment, resolve};
use crate::git::{GitError, Repo};
use crate::manifest::parse::split_documents;
use crate::render::flux::{FluxSettings, SubstituteRef, is_name};

const FLUX_API: &str = "kustomize.toolkit.fluxcd.io/";

/// Fields of a Flux Kustomization's spec copied into the kustomization Flux generates
/// around the path; kustomize reads them with the same meaning.
const OVERLAY_FIELDS: &[&str] = &["patches", "images", "namePrefix", "nameSuffix"];

/// Fields that change what Flux deploys and that tollgate does not render yet.
const UNSUPPORTED_FIELDS: &[&str] = &["components", "patchesStrategicMerge", "patchesJson6902"];

/// The environment `name` as the manifest in `from` defines it at `tree`.
pub fn environment_from(
    repo: &Repo,
    tree: ObjectId,
    name: &str,
    from: &str,
) -> Result<Environment, GitError> {
    let mut env = Environment {
        name: name.to_string(),
        path: from.to_string(),
        renderer: Renderer::Kustomize,
        namespace: None,
        helm: None,
        from: Some(from.to_string()),
        flux: None,
        problem: None,
    };
    match read(repo, tree, name, from)? {
        Ok((path, settings)) => {
            env.path = path;
            env.namespace = settings.as_ref().and_then(|s| s.target_namespace.clone());
            env.flux = settings;
        }
        Err(problem) => env.problem = Some(format!("{from}: {problem}")),
    }
    Ok(env)
}

/// The path and settings of the Kustomization in `from`, or why there are none.
fn read(
    repo: &Repo,
    tree: ObjectId,
    name: &str,
    from: &str,
) -> Result<Result<(String, Option<FluxSettings>), String>, GitError> {
    let Some(id) = repo.entry_at(tree, from)? else {
        // Not there yet (or any more): the environment does not exist at this commit,
        // and renders to nothing, as a missing folder does.
        return Ok(Ok((from.to_string(), None)));
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
        let api = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        if object.get("kind").and_then(Value::as_str) == Some("Kustomization")
            && api.starts_with(FLUX_API)
        {
            found.push(object);
        }
    }
    let object = match found.len() {
        0 => {
            return Ok(Err(
                "holds no Flux Kustomization (kustomize.toolkit.fluxcd.io)".into(),
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
                    "holds several Flux Kustomizations and none is named {name}"
                )));
            }
        },
    };
    Ok(settings_of(&object, from).map(|(path, settings)| (path, Some(settings))))
}

fn settings_of(object: &Value, from: &str) -> Result<(String, FluxSettings), String> {
    let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
    let kustomization = format!(
        "{}/{}",
        text("/metadata/namespace").unwrap_or("flux-system"),
        text("/metadata/name").unwrap_or("?")
    );
    let spec = object.get("spec").cloned().unwrap_or(Value::Null);
    if let Some(kind) = text("/spec/sourceRef/kind")
        && kind != "GitRepository"
    {
        return Err(format!(
            "the Kustomization {kustomization} deploys from a {kind}, not from this repository"
        ));
    }
    for field in UNSUPPORTED_FIELDS {
        if spec.get(field).is_some() {
            return Err(format!(
                "the Kustomization {kustomization} sets spec.{field}, which tollgate does not render yet"
            ));
        }
    }
    let path = text("/spec/path").unwrap_or("./");
    let path = match resolve("", path) {
        None => {
            return Err(format!(
                "spec.path {path:?} of {kustomization} leaves the repository"
            ));
        }
        Some(root) if root.is_empty() => {
            return Err(format!(
                "spec.path of {kustomization} is the repository's root; tollgate renders a folder of it"
            ));
        }
        Some(path) => path,
    };
    let mut substitute = BTreeMap::new();
    if let Some(map) = object
        .pointer("/spec/postBuild/substitute")
        .and_then(Value::as_object)
    {
        for (key, value) in map {
            if !is_name(key) {
                return Err(format!(
                    "postBuild.substitute: {key:?} is not a variable name Flux accepts"
                ));
            }
            let value = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            substitute.insert(key.clone(), value);
        }
    }
    let mut substitute_from = Vec::new();
    for source in object
        .pointer("/spec/postBuild/substituteFrom")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let kind = source.get("kind").and_then(Value::as_str).unwrap_or("");
        let Some(name) = source.get("name").and_then(Value::as_str) else {
            return Err("postBuild.substituteFrom: an entry without a name".into());
        };
        if kind != "ConfigMap" && kind != "Secret" {
            return Err(format!(
                "postBuild.substituteFrom: kind {kind:?} of {name} is neither ConfigMap nor Secret"
            ));
        }
        substitute_from.push(SubstituteRef {
            kind: kind.to_string(),
            name: name.to_string(),
            optional: source
                .get("optional")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        });
    }
    let mut overlay = BTreeMap::new();
    for field in OVERLAY_FIELDS {
        if let Some(value) = spec.get(field) {
            overlay.insert(field.to_string(), value.clone());
        }
    }
    if let Some(common) = spec.get("commonMetadata") {
        if let Some(labels) = common.get("labels") {
            overlay.insert(
                "labels".into(),
                serde_json::json!([{ "pairs": labels, "includeSelectors": false }]),
            );
        }
        if let Some(annotations) = common.get("annotations") {
            overlay.insert("commonAnnotations".into(), annotations.clone());
        }
    }
    let target_namespace = text("/spec/targetNamespace").map(str::to_string);
    if let Some(namespace) = &target_namespace {
        overlay.insert("namespace".into(), Value::String(namespace.clone()));
    }
    let search = match from.rsplit_once('/') {
        Some((dir, _)) => dir.to_string(),
        None => String::new(),
    };
    Ok((
        path,
        FluxSettings {
            namespace: text("/metadata/namespace")
                .unwrap_or("flux-system")
                .to_string(),
            kustomization,
            target_namespace,
            substitute,
            substitute_from,
            overlay,
            search,
        },
    ))
}
