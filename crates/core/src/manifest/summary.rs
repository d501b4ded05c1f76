//! The one-line story of a diff: which images moved, which replica counts changed, what
//! was added, removed or renamed, and how many objects changed only their labels.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::chunks::CONTAINER_LISTS;
use super::diff::{ChangeKind, ObjectDiff, RenderedDiff};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageChange {
    /// `Deployment/shop/api`
    pub object: String,
    pub container: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl std::fmt::Display for ImageChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let old = self.old.as_deref().unwrap_or("(none)");
        let new = match (&self.old, &self.new) {
            (Some(old), Some(new)) => shorten_against(old, new),
            (_, new) => new.as_deref().unwrap_or("(none)"),
        };
        write!(f, "{} {}: {old} → {new}", self.object, self.container)
    }
}

/// `ghcr.io/acme/api:1.5.0` against `ghcr.io/acme/api:1.4.2` is just `1.5.0`.
fn shorten_against<'a>(old: &str, new: &'a str) -> &'a str {
    match (split_tag(old), split_tag(new)) {
        (Some((old_repo, _)), Some((new_repo, new_tag))) if old_repo == new_repo => new_tag,
        _ => new,
    }
}

fn split_tag(image: &str) -> Option<(&str, &str)> {
    let (repo, tag) = image.rsplit_once(['@', ':'])?;
    (!tag.contains('/')).then_some((repo, tag))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplicaChange {
    pub object: String,
    pub old: Option<i64>,
    pub new: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub images: Vec<ImageChange>,
    pub replicas: Vec<ReplicaChange>,
    /// Counts by kind.
    pub added: BTreeMap<String, usize>,
    pub removed: BTreeMap<String, usize>,
    pub renamed: BTreeMap<String, usize>,
    /// Changed objects, including the label-only ones.
    pub changed: usize,
    /// Changed objects that changed more than labels, by kind.
    pub changed_by_kind: BTreeMap<String, usize>,
    pub label_only: usize,
    pub unchanged: usize,
}

impl Summary {
    pub fn of(diff: &RenderedDiff) -> Summary {
        let mut summary = Summary::default();
        for object in &diff.objects {
            let kind = object.key.kind.clone();
            match object.change {
                ChangeKind::Added => *summary.added.entry(kind).or_default() += 1,
                ChangeKind::Removed => *summary.removed.entry(kind).or_default() += 1,
                ChangeKind::Renamed => *summary.renamed.entry(kind).or_default() += 1,
                ChangeKind::Changed => {
                    summary.changed += 1;
                    if object.is_label_only() {
                        summary.label_only += 1;
                    } else {
                        *summary.changed_by_kind.entry(kind).or_default() += 1;
                    }
                }
                ChangeKind::Unchanged => summary.unchanged += 1,
            }
            if matches!(object.change, ChangeKind::Changed | ChangeKind::Renamed) {
                summary.images.extend(image_changes(object));
                if let Some(change) = replica_change(object) {
                    summary.replicas.push(change);
                }
            }
        }
        summary
    }

    pub fn is_empty(&self) -> bool {
        self.changed == 0
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.renamed.is_empty()
    }

    /// `api: 1.4.2 → 1.5.0; replicas Deployment/shop/api 2 → 4; +1 ConfigMap; 3 label-only`
    pub fn one_line(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for image in &self.images {
            let new = match (&image.old, &image.new) {
                (Some(old), Some(new)) => shorten_against(old, new).to_string(),
                (_, new) => new.clone().unwrap_or_else(|| "(none)".into()),
            };
            let old = image.old.as_deref().map(short_image).unwrap_or("(none)");
            parts.push(format!("{}: {old} → {new}", image.container));
        }
        for replica in &self.replicas {
            let show = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
            parts.push(format!(
                "{} replicas {} → {}",
                replica.object,
                show(replica.old),
                show(replica.new)
            ));
        }
        let counts = |sign: &str, map: &BTreeMap<String, usize>| -> Vec<String> {
            map.iter()
                .map(|(kind, n)| format!("{sign}{n} {kind}"))
                .collect()
        };
        parts.extend(counts("+", &self.added));
        parts.extend(counts("-", &self.removed));
        parts.extend(counts("→", &self.renamed));
        parts.extend(counts("~", &self.changed_by_kind));
        if self.label_only > 0 {
            parts.push(format!("{} label-only", self.label_only));
        }
        if parts.is_empty() {
            "no rendered change".into()
        } else {
            parts.join("; ")
        }
    }
}

/// The last path part of an image, for the compact one-line summary.
fn short_image(image: &str) -> &str {
    image.rsplit('/').next().unwrap_or(image)
}

/// `container name → image` of an object (see [`images`]).
pub fn container_images_of(value: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    images(value, &mut out);
    out
}

/// `container name → image` for every container list anywhere in the object (pods,
/// pod templates, job templates of CronJobs, and custom resources that embed them).
fn images(value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if CONTAINER_LISTS.contains(&key.as_str())
                    && let Value::Array(list) = child
                {
                    for container in list {
                        if let (Some(name), Some(image)) = (
                            container.get("name").and_then(Value::as_str),
                            container.get("image").and_then(Value::as_str),
                        ) {
                            out.insert(name.to_string(), image.to_string());
                        }
                    }
                } else {
                    images(child, out);
                }
            }
        }
        Value::Array(list) => list.iter().for_each(|v| images(v, out)),
        _ => {}
    }
}

fn image_changes(object: &ObjectDiff) -> Vec<ImageChange> {
    let collect = |side: &Option<super::ManifestObject>| {
        let Some(o) = side else {
            return BTreeMap::new();
        };
        // A document kept as text: its containers' names and images, not all of it.
        o.indexed()
            .and_then(super::chunks::container_images)
            .unwrap_or_else(|| {
                let mut map = BTreeMap::new();
                images(o.value(), &mut map);
                map
            })
    };
    let old = collect(&object.old);
    let new = collect(&object.new);
    let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| old.get(*name) != new.get(*name))
        .map(|name| ImageChange {
            object: object.key.to_string(),
            container: name.clone(),
            old: old.get(name).cloned(),
            new: new.get(name).cloned(),
        })
        .collect()
}

fn replica_change(object: &ObjectDiff) -> Option<ReplicaChange> {
    let replicas = |side: &Option<super::ManifestObject>| {
        side.as_ref()
            .and_then(|o| o.spec(&["replicas"])?.get("replicas")?.as_i64())
    };
    let (old, new) = (replicas(&object.old), replicas(&object.new));
    (old != new).then(|| ReplicaChange {
        object: object.key.to_string(),
        old,
        new,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{diff_objects, parse_documents};

    #[test]
    fn image_and_replica_changes_are_named() {
        let old = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - {name: api, image: 'ghcr.io/acme/api:1.4.2'}\n";
        let new = old
            .replace("1.4.2", "1.5.0")
            .replace("replicas: 2", "replicas: 4");
        let extra =
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags, namespace: shop}\n";
        let diff = diff_objects(
            parse_documents("a", old.as_bytes()).objects,
            parse_documents("a", format!("{new}{extra}").as_bytes()).objects,
        );
        let summary = Summary::of(&diff);
        assert_eq!(
            summary.images[0].to_string(),
            "Deployment/shop/api api: ghcr.io/acme/api:1.4.2 → 1.5.0"
        );
        assert_eq!(
            summary.one_line(),
            "api: api:1.4.2 → 1.5.0; Deployment/shop/api replicas 2 → 4; +1 ConfigMap; ~1 Deployment"
        );
    }
}
