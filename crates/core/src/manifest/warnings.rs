//! Changes a reviewer must not miss in a long diff: what deletes data or whole APIs
//! (a Namespace, a CRD, a PersistentVolume or its claim), what cuts traffic (a Service
//! renamed, a selector that no longer matches any pod template it matched, replicas to
//! zero), and images that are not pinned (`:latest`, no tag). Pure: read from the
//! rendered diff of one environment.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::diff::{ChangeKind, ObjectDiff, RenderedDiff};
use super::object::ObjectKey;
use super::summary::Summary;

/// Kinds whose deletion deletes data or every object of an API.
const DESTRUCTIVE_DELETES: &[&str] = &[
    "Namespace",
    "CustomResourceDefinition",
    "PersistentVolumeClaim",
    "PersistentVolume",
];

/// Kinds whose pod template a Service selects.
const WORKLOADS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"];

/// The warnings of one environment's diff, in the order of its objects.
pub fn warnings(diff: &RenderedDiff, summary: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    for object in diff.changed() {
        let name = object.key.display_name();
        match object.change {
            ChangeKind::Removed if DESTRUCTIVE_DELETES.contains(&object.key.kind.as_str()) => {
                out.push(format!("deletes {name}"));
            }
            ChangeKind::Renamed if object.key.kind == "Service" => {
                let from = object
                    .renamed_from
                    .as_ref()
                    .map_or_else(String::new, |k| format!(" from {}", k.name));
                out.push(format!(
                    "renames {name}{from}: clients of the old name lose it"
                ));
            }
            _ => {}
        }
    }
    for replica in &summary.replicas {
        if replica.new == Some(0) && replica.old != Some(0) {
            out.push(format!("scales {} to 0 replicas", replica.object));
        }
    }
    for image in &summary.images {
        if let Some(new) = &image.new
            && !is_pinned(new)
        {
            out.push(format!(
                "{} container {} runs {new}, which is not pinned to a version",
                image.object, image.container
            ));
        }
    }
    out.extend(selector_warnings(diff));
    out
}

/// `:latest`, or no tag and no digest, can change under the same text.
fn is_pinned(image: &str) -> bool {
    if image.contains('@') {
        return true;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, tag)) => tag != "latest",
        None => false,
    }
}

/// Services whose selector matched a pod template of the environment before and
/// matches none now, and workloads whose own selector no longer matches their pods.
fn selector_warnings(diff: &RenderedDiff) -> Vec<String> {
    // Only the selectors and pod templates of Services and workloads are read: the rest
    // of an environment (a CRD's schema) is not parsed for this.
    let pods_touched = touches_pods(diff);
    let side = |new: bool| -> Vec<(&ObjectDiff, Selectors)> {
        diff.objects
            .iter()
            .filter(|o| {
                let kind = o.key.kind.as_str();
                WORKLOADS.contains(&kind)
                    || (kind == "Service" && (pods_touched || o.change != ChangeKind::Unchanged))
            })
            .filter_map(|o| {
                let object = if new { o.new.as_ref() } else { o.old.as_ref() }?;
                let spec = object.spec(&["selector", "template"])?;
                Some((o, Selectors::of(&spec)))
            })
            .collect()
    };
    let (old, new) = (side(false), side(true));
    // Pod labels by namespace, and the old side by key: an environment of thousands of
    // Services and workloads is not compared each with each.
    let (old_pods, new_pods) = (pods_by_namespace(&old), pods_by_namespace(&new));
    let selects =
        |pods: &Pods<'_>, namespace: &Option<String>, selector: &BTreeMap<String, String>| {
            pods.get(namespace).is_some_and(|labels| {
                labels
                    .iter()
                    .any(|labels| selector.iter().all(|(k, v)| labels.get(k) == Some(v)))
            })
        };
    let old_by_key: HashMap<&ObjectKey, &Selectors> =
        old.iter().map(|(o, s)| (&o.key, s)).collect();
    let mut out = Vec::new();
    for (object, selectors) in &new {
        // Only what this change touched can have broken here.
        if object.change == ChangeKind::Unchanged && !pods_touched {
            continue;
        }
        let namespace = &object.key.namespace;
        if object.key.kind == "Service" {
            let selector = &selectors.selector;
            let before = old_by_key.get(&object.key).map(|s| &s.selector);
            if !selector.is_empty()
                && !selects(&new_pods, namespace, selector)
                && before.is_some_and(|b| selects(&old_pods, namespace, b))
            {
                out.push(format!(
                    "{}'s selector ({}) no longer matches the pods of any workload of this environment",
                    object.key.display_name(),
                    show(selector)
                ));
            }
        }
        if WORKLOADS.contains(&object.key.kind.as_str()) && object.change != ChangeKind::Unchanged {
            let (selector, labels) = (&selectors.match_labels, &selectors.pod_labels);
            if !selector.is_empty() && !selector.iter().all(|(k, v)| labels.get(k) == Some(v)) {
                out.push(format!(
                    "{}'s selector ({}) does not match its own pod labels: the API server refuses it",
                    object.key.display_name(),
                    show(selector)
                ));
            }
        }
    }
    out
}

/// Pod template labels by namespace.
type Pods<'s> = HashMap<&'s Option<String>, Vec<&'s BTreeMap<String, String>>>;

fn pods_by_namespace<'s>(objects: &'s [(&'s ObjectDiff, Selectors)]) -> Pods<'s> {
    let mut pods: Pods<'s> = HashMap::new();
    for (o, selectors) in objects {
        if WORKLOADS.contains(&o.key.kind.as_str()) {
            pods.entry(&o.key.namespace)
                .or_default()
                .push(&selectors.pod_labels);
        }
    }
    pods
}

/// What the selector warnings read of a Service's or a workload's spec: its selector (a
/// Service's), its `matchLabels` (a workload's) and its pod template's labels.
struct Selectors {
    selector: BTreeMap<String, String>,
    match_labels: BTreeMap<String, String>,
    pod_labels: BTreeMap<String, String>,
}

impl Selectors {
    fn of(spec: &Value) -> Selectors {
        Selectors {
            selector: strings(&spec["selector"]),
            match_labels: strings(&spec["selector"]["matchLabels"]),
            pod_labels: strings(&spec["template"]["metadata"]["labels"]),
        }
    }
}

/// Whether a workload's pods changed (added, removed, relabelled): then every Service
/// is looked at, changed or not.
fn touches_pods(diff: &RenderedDiff) -> bool {
    diff.changed()
        .any(|o| WORKLOADS.contains(&o.key.kind.as_str()))
}

fn strings(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn show(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::diff::diff_objects;
    use crate::manifest::parse::{Secrets, parse_documents_with};

    fn diff(old: &str, new: &str) -> Vec<String> {
        let objects = |text: &str| {
            let mut parsed = parse_documents_with("x.yaml", text.as_bytes(), Secrets::Redact);
            parsed.parse_all();
            parsed.objects
        };
        let diff = diff_objects(objects(old), objects(new));
        warnings(&diff, &Summary::of(&diff))
    }

    const APP: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec: {containers: [{name: api, image: 'ghcr.io/acme/api:1.0'}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\nspec: {selector: {app: api}}\n";

    #[test]
    fn a_relabelled_workload_leaves_its_service_selecting_nothing() {
        let relabelled = APP
            .replace("labels: {app: api}", "labels: {app: api-v2}")
            .replace("matchLabels: {app: api}", "matchLabels: {app: api-v2}");
        let found = diff(APP, &relabelled);
        assert_eq!(
            found,
            [
                "Service/shop/api's selector (app=api) no longer matches the pods of any workload of this environment"
            ]
        );
    }

    #[test]
    fn deletes_zero_replicas_and_unpinned_images_are_named() {
        let pvc = "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: shop}\n";
        let old = format!("{APP}{pvc}");
        let new = APP
            .replace("replicas: 2", "replicas: 0")
            .replace("api:1.0", "api:latest");
        let found = diff(&old, &new);
        assert!(
            found.contains(&"deletes PersistentVolumeClaim/shop/data".to_string()),
            "{found:?}"
        );
        assert!(
            found.iter().any(|w| w.contains("to 0 replicas")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|w| w.contains("api:latest, which is not pinned")),
            "{found:?}"
        );
        assert!(diff(APP, &APP.replace("1.0", "1.1")).is_empty());
    }
}
