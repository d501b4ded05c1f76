//! A Flux `Kustomization` (kustomize.toolkit.fluxcd.io) as an environment: its
//! `spec.path`, `targetNamespace` and `postBuild`, and the fields Flux writes into the
//! kustomization around the path.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Definition;
use crate::config::Renderer;
use crate::environment::resolve;
use crate::render::flux::{FluxSettings, SubstituteRef, is_name};

pub const API: &str = "kustomize.toolkit.fluxcd.io/";

/// Fields of a Flux Kustomization's spec copied into the kustomization Flux generates
/// around the path; kustomize reads them with the same meaning.
const OVERLAY_FIELDS: &[&str] = &["patches", "images", "namePrefix", "nameSuffix"];

/// Fields that change what Flux deploys and that tollgate does not render yet.
const UNSUPPORTED_FIELDS: &[&str] = &["patchesStrategicMerge", "patchesJson6902"];

/// Whether `object` is a Flux Kustomization.
pub fn is_kustomization(object: &Value) -> bool {
    object.get("kind").and_then(Value::as_str) == Some("Kustomization")
        && object
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|api| api.starts_with(API))
}

/// What the Kustomization `object` (in the file `from`) deploys, or why it cannot be
/// rendered.
pub fn definition(object: &Value, from: &str) -> Result<Definition, String> {
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
            "the Kustomization {kustomization} deploys from the {kind} {}, not from this repository",
            text("/spec/sourceRef/name").unwrap_or("?")
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
    // Components are relative to the path; the overlay sits in a folder at the root.
    let mut components = Vec::new();
    for component in spec
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        match resolve(&path, component) {
            Some(dir) if !dir.is_empty() => components.push(dir),
            _ => {
                return Err(format!(
                    "the component {component:?} of {kustomization} leaves the repository"
                ));
            }
        }
    }
    if !components.is_empty() {
        overlay.insert(
            "components".into(),
            Value::Array(
                components
                    .iter()
                    .map(|c| Value::String(format!("../{c}")))
                    .collect(),
            ),
        );
    }
    let search = match from.rsplit_once('/') {
        Some((dir, _)) => dir.to_string(),
        None => String::new(),
    };
    Ok(Definition {
        path,
        renderer: Renderer::Kustomize,
        namespace: target_namespace.clone(),
        helm: None,
        overlay: (!overlay.is_empty()).then_some(overlay),
        top_level_only: false,
        flux: Some(FluxSettings {
            namespace: text("/metadata/namespace")
                .unwrap_or("flux-system")
                .to_string(),
            kustomization,
            target_namespace,
            substitute,
            substitute_from,
            search,
            components,
        }),
    })
}
