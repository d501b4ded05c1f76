//! An Argo CD `Application` (argoproj.io) as an environment: its source's path rendered
//! as Argo CD renders it — a Helm chart with its `valueFiles`, `values`, `valuesObject`
//! and `parameters`; a kustomization with the `kustomize` settings Argo CD writes into it
//! (`images`, `namePrefix`, `commonLabels`, …); or a directory of manifests, recursed only
//! when it says so — and its destination namespace given to objects that name none.

use gix::ObjectId;
use serde_json::{Map, Value};

use super::{Definition, Overlay};
use crate::config::{HelmConfig, Renderer, is_release_name};
use crate::environment::{kustomization_in, resolve};
use crate::git::{GitError, Repo};

/// Whether `object` is an Argo CD Application.
pub fn is_application(object: &Value) -> bool {
    object.get("kind").and_then(Value::as_str) == Some("Application")
        && object
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|api| api.starts_with("argoproj.io/"))
}

/// kustomize settings of an Application that mean the same in a kustomization.
const KUSTOMIZE_SAME: &[&str] = &[
    "namePrefix",
    "nameSuffix",
    "namespace",
    "commonLabels",
    "commonAnnotations",
    "replicas",
    "patches",
];

/// What the Application `object` deploys from this repository, or why tollgate cannot
/// render it.
pub fn definition(
    repo: &Repo,
    tree: ObjectId,
    object: &Value,
) -> Result<Result<Definition, String>, GitError> {
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    let app = format!("the Application {name}");
    let source = match (
        object.pointer("/spec/source"),
        object.pointer("/spec/sources"),
    ) {
        (Some(source), _) => source.clone(),
        (None, Some(Value::Array(sources))) if sources.len() == 1 => sources[0].clone(),
        (None, Some(_)) => {
            return Ok(Err(format!(
                "{app} has several sources; tollgate renders an Application with one"
            )));
        }
        (None, None) => return Ok(Err(format!("{app} has no source"))),
    };
    if let Some(chart) = source.get("chart").and_then(Value::as_str) {
        return Ok(Err(format!(
            "{app} deploys the chart {chart} from a Helm repository, not from this repository"
        )));
    }
    if source.get("plugin").is_some() {
        return Ok(Err(format!(
            "{app} renders with a config management plugin, which tollgate cannot run"
        )));
    }
    let Some(written) = source.get("path").and_then(Value::as_str) else {
        return Ok(Err(format!("{app} names no source.path")));
    };
    let path = match resolve("", written) {
        Some(path) if !path.is_empty() => path,
        _ => {
            return Ok(Err(format!(
                "{app}: source.path {written:?} is not a folder inside the repository"
            )));
        }
    };
    let namespace = object
        .pointer("/spec/destination/namespace")
        .and_then(Value::as_str)
        .map(str::to_string);
    let is_chart = repo
        .entry_at(tree, &format!("{path}/Chart.yaml"))?
        .is_some();
    let is_kustomization = kustomization_in(repo, tree, &path)?.is_some();
    let definition = |renderer| Definition {
        path: path.clone(),
        renderer,
        namespace: namespace.clone(),
        helm: None,
        flux: None,
        overlay: None,
        top_level_only: false,
    };
    if source.get("helm").is_some() || is_chart {
        let helm = source.get("helm").cloned().unwrap_or(Value::Null);
        return Ok(
            helm_settings(&app, &name, &path, &helm).map(|helm| Definition {
                helm: Some(helm),
                ..definition(Renderer::Helm)
            }),
        );
    }
    if source.get("kustomize").is_some() || is_kustomization {
        let settings = source.get("kustomize").cloned().unwrap_or(Value::Null);
        return Ok(
            kustomize_overlay(&app, &settings).map(|overlay| Definition {
                overlay,
                ..definition(Renderer::Kustomize)
            }),
        );
    }
    let directory = source.get("directory").cloned().unwrap_or(Value::Null);
    for field in ["include", "exclude", "jsonnet"] {
        if directory.get(field).is_some() {
            return Ok(Err(format!(
                "{app} sets directory.{field}, which tollgate does not render yet"
            )));
        }
    }
    let recurse = directory
        .get("recurse")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Ok(Ok(Definition {
        top_level_only: !recurse,
        ..definition(Renderer::Plain)
    }))
}

/// The chart settings of a Helm source: value files (relative to the chart), then
/// `values` / `valuesObject`, then `parameters`, as Argo CD layers them.
fn helm_settings(app: &str, name: &str, path: &str, helm: &Value) -> Result<HelmConfig, String> {
    let mut values = Vec::new();
    for file in helm
        .get("valueFiles")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if file.starts_with('$') || file.contains("://") {
            return Err(format!(
                "{app}: the value file {file} is not in this repository"
            ));
        }
        match resolve(path, file) {
            Some(file) => values.push(file),
            None => {
                return Err(format!(
                    "{app}: the value file {file} leaves the repository"
                ));
            }
        }
    }
    let mut inline = Map::new();
    match helm.get("valuesObject").or_else(|| helm.get("values")) {
        Some(Value::Object(map)) => inline = map.clone(),
        Some(Value::String(text)) if !text.trim().is_empty() => {
            match serde_saphyr::from_str::<Value>(text) {
                Ok(Value::Object(map)) => inline = map,
                Ok(Value::Null) => {}
                _ => return Err(format!("{app}: helm.values is not a map of values")),
            }
        }
        _ => {}
    }
    for parameter in helm
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = parameter.get("name").and_then(Value::as_str).unwrap_or("");
        let value = parameter.get("value").and_then(Value::as_str).unwrap_or("");
        let force_string = parameter
            .get("forceString")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        set_parameter(&mut inline, key, value, force_string)
            .map_err(|why| format!("{app}: helm parameter {key:?}: {why}"))?;
    }
    let release = helm
        .get("releaseName")
        .and_then(Value::as_str)
        .unwrap_or(name)
        .to_string();
    if !is_release_name(&release) {
        return Err(format!(
            "{app}: the release name {release:?} is not one helm takes"
        ));
    }
    let strings = |key: &str| -> Vec<String> {
        helm.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    Ok(HelmConfig {
        chart: path.to_string(),
        values,
        release,
        kube_version: helm
            .get("kubeVersion")
            .and_then(Value::as_str)
            .map(str::to_string),
        api_versions: strings("apiVersions"),
        inline: (!inline.is_empty()).then_some(Value::Object(inline)),
        skip_crds: helm
            .get("skipCrds")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// `a.b.c=value` as helm's `--set` reads it (a value typed as helm types it unless
/// `forceString`); list indices and escaped dots are refused rather than misread.
fn set_parameter(
    values: &mut Map<String, Value>,
    key: &str,
    value: &str,
    force_string: bool,
) -> Result<(), String> {
    if key.is_empty() || key.contains(['[', ']', '\\', ',']) {
        return Err("only plain dotted names are rendered (no list indices or escapes)".into());
    }
    let typed = if force_string {
        Value::String(value.to_string())
    } else {
        match value {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            _ => match value.parse::<i64>() {
                Ok(n) if !value.starts_with('0') || value == "0" => Value::from(n),
                _ => Value::String(value.to_string()),
            },
        }
    };
    let parts: Vec<&str> = key.split('.').collect();
    let (last, parents) = parts.split_last().expect("a non-empty key");
    let mut map = values;
    for part in parents {
        let entry = map
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        map = entry.as_object_mut().expect("made a map");
    }
    map.insert(last.to_string(), typed);
    Ok(())
}

/// The kustomize settings of a source as kustomization fields.
fn kustomize_overlay(app: &str, settings: &Value) -> Result<Option<Overlay>, String> {
    let Some(map) = settings.as_object() else {
        return Ok(None);
    };
    let mut overlay = Overlay::new();
    for (key, value) in map {
        match key.as_str() {
            key if KUSTOMIZE_SAME.contains(&key) => {
                overlay.insert(key.to_string(), value.clone());
            }
            "images" => {
                let images = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(image_override)
                    .collect::<Vec<_>>();
                overlay.insert("images".into(), Value::Array(images));
            }
            "version" | "forceCommonLabels" | "forceCommonAnnotations" => {}
            other => {
                return Err(format!(
                    "{app} sets kustomize.{other}, which tollgate does not render yet"
                ));
            }
        }
    }
    Ok((!overlay.is_empty()).then_some(overlay))
}

/// Argo CD's `[old=]new[:tag|@digest]` as a kustomization's `images:` entry.
fn image_override(written: &str) -> Value {
    let (name, new) = match written.split_once('=') {
        Some((old, new)) => (Some(old), new),
        None => (None, written),
    };
    let (image, digest) = match new.split_once('@') {
        Some((image, digest)) => (image, Some(digest)),
        None => (new, None),
    };
    // A `:` after the last `/` starts the tag (a registry's port comes before it).
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    let (image, tag) = match image[slash..].rfind(':') {
        Some(colon) => (&image[..slash + colon], Some(&image[slash + colon + 1..])),
        None => (image, None),
    };
    let mut out = Map::new();
    match name {
        Some(old) => {
            out.insert("name".into(), old.into());
            out.insert("newName".into(), image.into());
        }
        None => {
            out.insert("name".into(), image.into());
        }
    }
    if let Some(tag) = tag {
        out.insert("newTag".into(), tag.into());
    }
    if let Some(digest) = digest {
        out.insert("digest".into(), digest.into());
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_overrides_read_as_argo_cd_writes_them() {
        assert_eq!(
            image_override("ghcr.io/acme/api:1.1"),
            serde_json::json!({"name": "ghcr.io/acme/api", "newTag": "1.1"})
        );
        assert_eq!(
            image_override("api=registry:5000/acme/api:2.0"),
            serde_json::json!({"name": "api", "newName": "registry:5000/acme/api", "newTag": "2.0"})
        );
        assert_eq!(
            image_override("registry:5000/acme/api@sha256:abc"),
            serde_json::json!({"name": "registry:5000/acme/api", "digest": "sha256:abc"})
        );
    }

    #[test]
    fn parameters_nest_and_type_as_helm_set_does() {
        let mut values = Map::new();
        set_parameter(&mut values, "image.tag", "1.2", false).expect("set");
        set_parameter(&mut values, "replicas", "3", false).expect("set");
        set_parameter(&mut values, "debug", "true", false).expect("set");
        set_parameter(&mut values, "zip", "0123", false).expect("set");
        set_parameter(&mut values, "port", "80", true).expect("set");
        assert_eq!(
            Value::Object(values.clone()),
            serde_json::json!({"image": {"tag": "1.2"}, "replicas": 3, "debug": true, "zip": "0123", "port": "80"})
        );
        assert!(set_parameter(&mut values, "list[0]", "x", false).is_err());
    }
}
