//! What connects a Service to the pods of a workload: a Service's selector, a workload's
//! `matchLabels` and its pod template's labels. Kept small: a diff of a large
//! environment holds these for every Service and workload, changed or not.

use serde_json::Value;

use super::chunks::value_at;
use super::object::ManifestObject;

/// Kinds whose pod template a Service selects.
pub const WORKLOADS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"];

/// Whether objects of `kind` carry selectors the warnings read.
pub fn has_selectors(kind: &str) -> bool {
    kind == "Service" || WORKLOADS.contains(&kind)
}

/// String labels sorted by key. Most sets hold one or two: a list costs a fraction of a
/// map's node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels(Vec<(Box<str>, Box<str>)>);

impl Labels {
    /// The string entries of a mapping (others are not labels); empty for anything else.
    fn of(value: &Value) -> Labels {
        let mut labels: Vec<(Box<str>, Box<str>)> = value
            .as_object()
            .map(|map| {
                map.iter()
                    .filter_map(|(k, v)| Some((k.as_str().into(), v.as_str()?.into())))
                    .collect()
            })
            .unwrap_or_default();
        labels.sort_unstable();
        Labels(labels)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `(name, value)` of each label, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (&**k, &**v))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|at| &*self.0[at].1)
    }

    /// Whether every label of `self` is on `labels`, with the same value.
    pub fn all_in(&self, labels: &Labels) -> bool {
        self.0.iter().all(|(k, v)| labels.get(k) == Some(&**v))
    }
}

impl std::fmt::Display for Labels {
    /// `app=api,tier=web`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (k, v)) in self.0.iter().enumerate() {
            let comma = if i == 0 { "" } else { "," };
            write!(f, "{comma}{k}={v}")?;
        }
        Ok(())
    }
}

/// What the selector warnings read of a Service's or a workload's spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selectors {
    /// A Service's `spec.selector`.
    pub selector: Labels,
    /// A workload's `spec.selector.matchLabels`.
    pub match_labels: Labels,
    /// A workload's `spec.template.metadata.labels`.
    pub pod_labels: Labels,
}

impl Selectors {
    /// The selectors of `object`'s spec; `None` when it has none. For an object kept as
    /// text only the selector and the pod template's labels are parsed.
    pub fn of(object: &ManifestObject) -> Option<Selectors> {
        let cut = |path: &[&str]| object.indexed().and_then(|text| value_at(text, path));
        if let (Some(selector), Some(pod_labels)) = (
            cut(&["spec", "selector"]),
            cut(&["spec", "template", "metadata", "labels"]),
        ) {
            return Some(Selectors::from_values(&selector, &pod_labels));
        }
        let spec = object.spec(&["selector", "template"])?;
        Some(Selectors::from_values(
            &spec["selector"],
            &spec["template"]["metadata"]["labels"],
        ))
    }

    fn from_values(selector: &Value, pod_labels: &Value) -> Selectors {
        Selectors {
            selector: Labels::of(selector),
            match_labels: Labels::of(&selector["matchLabels"]),
            pod_labels: Labels::of(pod_labels),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_string_entries_sorted_by_key() {
        let labels = Labels::of(&serde_json::json!({"tier": "web", "app": "api", "n": 3}));
        assert_eq!(labels.to_string(), "app=api,tier=web");
        assert_eq!(labels.get("app"), Some("api"));
        assert_eq!(labels.get("n"), None);
        assert!(Labels::of(&serde_json::json!({"app": "api"})).all_in(&labels));
        assert!(!labels.all_in(&Labels::of(&serde_json::json!({"app": "api"}))));
        assert!(Labels::of(&Value::Null).is_empty());
    }
}
