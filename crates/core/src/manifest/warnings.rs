//! Changes a reviewer must not miss in a long diff: what deletes data or whole APIs
//! (a Namespace, a CRD, a PersistentVolume or its claim), what cuts traffic (a Service
//! renamed, a selector that no longer matches any pod template it matched, replicas to
//! zero), and images that are not pinned (`:latest`, no tag). Pure: read from the
//! rendered diff of one environment.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::diff::{ChangeKind, RenderedDiff};
use super::object::ObjectKey;
use super::selectors::{Labels, Selectors, WORKLOADS};
use super::shared::SharedObject;
use super::summary::Summary;

/// Kinds whose deletion deletes data or every object of an API.
const DESTRUCTIVE_DELETES: &[&str] = &[
    "Namespace",
    "CustomResourceDefinition",
    "PersistentVolumeClaim",
    "PersistentVolume",
];

/// The warnings of one environment's diff, in the order of its objects. `unchanged` are
/// the objects of documents the same on both sides, which `diff` does not hold.
pub fn warnings(diff: &RenderedDiff, summary: &Summary, unchanged: &[SharedObject]) -> Vec<String> {
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
    out.extend(selector_warnings(diff, unchanged));
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
/// `unchanged` are the objects of documents the same on both sides (not in `diff`).
fn selector_warnings(diff: &RenderedDiff, unchanged: &[SharedObject]) -> Vec<String> {
    // Only the selectors and pod templates of Services and workloads are read: the rest
    // of an environment (a CRD's schema) is not parsed for this.
    let pods_touched = touches_pods(diff);
    let wanted = |key: &ObjectKey, change: ChangeKind| {
        let kind = key.kind.as_str();
        WORKLOADS.contains(&kind)
            || (kind == "Service" && (pods_touched || change != ChangeKind::Unchanged))
    };
    let side = |new: bool| -> Vec<Selected<'_>> {
        let in_diff = diff
            .objects
            .iter()
            .filter(|o| wanted(&o.key, o.change))
            .filter_map(|o| {
                let object = if new { o.new.as_ref() } else { o.old.as_ref() }?;
                let selectors = Cow::Owned(Selectors::of(object)?);
                Some((&o.key, o.change, selectors))
            });
        let shared = unchanged
            .iter()
            .filter(|s| wanted(&s.key, ChangeKind::Unchanged))
            .filter_map(|s| {
                let selectors = Cow::Borrowed(s.selectors.as_deref()?);
                Some((&s.key, ChangeKind::Unchanged, selectors))
            });
        let mut selected: Vec<Selected<'_>> = in_diff.chain(shared).collect();
        // In the order of their keys, changed or not, as the warnings come out.
        selected.sort_by(|a, b| a.0.cmp(b.0));
        selected
    };
    let (old, new) = (side(false), side(true));
    // Pod labels by namespace and label, and the old side by key: an environment of
    // thousands of Services and workloads is not compared each with each.
    let (old_pods, new_pods) = (Pods::of(&old), Pods::of(&new));
    let old_by_key: HashMap<&ObjectKey, &Selectors> =
        old.iter().map(|(key, _, s)| (*key, &**s)).collect();
    let mut out = Vec::new();
    for (key, change, selectors) in &new {
        // Only what this change touched can have broken here.
        if *change == ChangeKind::Unchanged && !pods_touched {
            continue;
        }
        let namespace = &key.namespace;
        if key.kind == "Service" {
            let selector = &selectors.selector;
            let before = old_by_key.get(key).map(|s| &s.selector);
            if !selector.is_empty()
                && !new_pods.selected(namespace, selector)
                && before.is_some_and(|b| old_pods.selected(namespace, b))
            {
                out.push(format!(
                    "{}'s selector ({selector}) no longer matches the pods of any workload of this environment",
                    key.display_name(),
                ));
            }
        }
        if WORKLOADS.contains(&key.kind.as_str()) && *change != ChangeKind::Unchanged {
            let selector = &selectors.match_labels;
            if !selector.is_empty() && !selector.all_in(&selectors.pod_labels) {
                out.push(format!(
                    "{}'s selector ({selector}) does not match its own pod labels: the API server refuses it",
                    key.display_name(),
                ));
            }
        }
    }
    out
}

/// A Service or workload of one side, what happened to it, and its selectors.
type Selected<'d> = (&'d ObjectKey, ChangeKind, Cow<'d, Selectors>);

/// The pod templates' labels of one side, by namespace and by each label they carry:
/// the pods a selector may match are those with its first label.
#[derive(Default)]
struct Pods<'s> {
    by_label: HashMap<(&'s Option<String>, &'s str, &'s str), Vec<&'s Labels>>,
    namespaces: HashSet<&'s Option<String>>,
}

impl<'s> Pods<'s> {
    fn of(objects: &'s [Selected<'s>]) -> Pods<'s> {
        let mut pods = Pods::default();
        for (key, _, selectors) in objects {
            if WORKLOADS.contains(&key.kind.as_str()) {
                let labels = &selectors.pod_labels;
                pods.namespaces.insert(&key.namespace);
                for (name, value) in labels.iter() {
                    pods.by_label
                        .entry((&key.namespace, name, value))
                        .or_default()
                        .push(labels);
                }
            }
        }
        pods
    }

    /// Whether `selector` matches a pod of `namespace` (an empty one matches any).
    fn selected(&self, namespace: &'s Option<String>, selector: &Labels) -> bool {
        match selector.iter().next() {
            None => self.namespaces.contains(namespace),
            Some((name, value)) => self
                .by_label
                .get(&(namespace, name, value))
                .is_some_and(|pods| pods.iter().any(|labels| selector.all_in(labels))),
        }
    }
}

/// Whether a workload's pods changed (added, removed, relabelled): then every Service
/// is looked at, changed or not.
fn touches_pods(diff: &RenderedDiff) -> bool {
    diff.changed()
        .any(|o| WORKLOADS.contains(&o.key.kind.as_str()))
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
        warnings(&diff, &Summary::of(&diff), &[])
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
