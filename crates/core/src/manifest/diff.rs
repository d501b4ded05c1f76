//! The semantic diff of two sets of rendered objects: added, removed, changed, renamed and
//! unchanged, keyed by `(group, kind, namespace, name)`. A changed object lists its field
//! changes (`path`, old → new) and can produce the line diff of its normalised YAML.
//! `null` and an absent key are the same value, as they are to the API server.

use itertools::{EitherOrBoth, Itertools};
use serde::Serialize;

use super::fields::{FieldChange, field_changes};
use super::object::{ManifestObject, ObjectKey};
use super::renames::{Rule, pair_up};
use super::textdiff::{DiffLine, to_yaml, unified};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
    Renamed,
    Unchanged,
}

impl ChangeKind {
    /// The one-character marker used in lists: `+ − ~ →`.
    pub fn marker(self) -> &'static str {
        match self {
            ChangeKind::Added => "+",
            ChangeKind::Removed => "-",
            ChangeKind::Changed => "~",
            ChangeKind::Renamed => "→",
            ChangeKind::Unchanged => " ",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectDiff {
    #[serde(flatten)]
    pub key: ObjectKey,
    pub change: ChangeKind,
    /// Boxed: most objects are not renamed, and a large diff holds one of these for
    /// every object of the environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<Box<ObjectKey>>,
    /// `extensions/v1beta1 → apps/v1` when the object moved between API group aliases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version_moved: Option<String>,
    pub fields: Vec<FieldChange>,
    #[serde(skip)]
    pub old: Option<ManifestObject>,
    #[serde(skip)]
    pub new: Option<ManifestObject>,
}

impl ObjectDiff {
    /// Every field change is a label change.
    pub fn is_label_only(&self) -> bool {
        self.change == ChangeKind::Changed
            && self.api_version_moved.is_none()
            && !self.fields.is_empty()
            && self.fields.iter().all(FieldChange::is_label)
    }

    /// The line diff of the object. Where each side present was kept as its document's
    /// text, the diff is of that text: the lines a reviewer reads are the manifest's own,
    /// and a large object that changed in a few lines (a CRD's schema) is not parsed and
    /// written out again whole. Otherwise it is of the normalised YAML of both sides
    /// (Secret values already fingerprinted), so that a side read whole and a side kept as
    /// text are not compared as texts of two styles.
    pub fn text_diff(&self, context: usize) -> Vec<DiffLine> {
        fn source(side: &Option<ManifestObject>) -> Option<Option<&str>> {
            side.as_ref().map(ManifestObject::source)
        }
        match (source(&self.old), source(&self.new)) {
            (Some(Some(old)), Some(Some(new))) => unified(old, new, context),
            (None, Some(Some(new))) => unified("", new, context),
            (Some(Some(old)), None) => unified(old, "", context),
            _ => {
                let normalised = |side: &Option<ManifestObject>| {
                    side.as_ref()
                        .map(|o| to_yaml(o.value()))
                        .unwrap_or_default()
                };
                unified(&normalised(&self.old), &normalised(&self.new), context)
            }
        }
    }
}

/// Every object of both sides, with what happened to it.
#[derive(Debug, Clone, Default)]
pub struct RenderedDiff {
    /// Sorted by key; unchanged objects included (filter on `change`), except, in a
    /// workspace's diff of a plain environment, those of documents that read the same
    /// on both sides (see `render::plain_pair`; the summary counts them).
    pub objects: Vec<ObjectDiff>,
}

impl RenderedDiff {
    pub fn changed(&self) -> impl Iterator<Item = &ObjectDiff> {
        self.objects
            .iter()
            .filter(|o| o.change != ChangeKind::Unchanged)
    }

    pub fn count(&self, change: ChangeKind) -> usize {
        self.objects.iter().filter(|o| o.change == change).count()
    }
}

/// Compare two object sets. When a key appears twice on one side, the first one counts
/// (a renderer that emits duplicates is reported by the caller's issues).
pub fn diff_objects(old: Vec<ManifestObject>, new: Vec<ManifestObject>) -> RenderedDiff {
    // Both sides sorted by key and joined, without a copy of any key: a diff of a large
    // set holds every object of both sides at once.
    let by_key = |mut side: Vec<ManifestObject>| {
        side.sort_by(|a, b| a.key.cmp(&b.key)); // stable: the first of a key stays first
        side.dedup_by(|later, first| later.key == first.key);
        side
    };
    let (old, new) = (by_key(old), by_key(new));
    let mut objects = Vec::with_capacity(old.len().max(new.len()));
    let mut removed: Vec<ManifestObject> = Vec::new();
    let mut added: Vec<ManifestObject> = Vec::new();
    for pair in old.into_iter().merge_join_by(new, |o, n| o.key.cmp(&n.key)) {
        match pair {
            EitherOrBoth::Left(o) => removed.push(o),
            EitherOrBoth::Right(n) => added.push(n),
            EitherOrBoth::Both(o, n) => objects.push(compare(o, n)),
        }
    }

    pair_up(&mut removed, &mut added, &mut objects, Rule::GroupAlias);
    pair_up(&mut removed, &mut added, &mut objects, Rule::GeneratedPart);

    for object in removed {
        objects.push(ObjectDiff {
            key: object.key.clone(),
            change: ChangeKind::Removed,
            renamed_from: None,
            api_version_moved: None,
            fields: Vec::new(),
            old: Some(object),
            new: None,
        });
    }
    for object in added {
        objects.push(ObjectDiff {
            key: object.key.clone(),
            change: ChangeKind::Added,
            renamed_from: None,
            api_version_moved: None,
            fields: Vec::new(),
            old: None,
            new: Some(object),
        });
    }
    // Keys are unique here (each is on one side, or paired), so an unstable sort gives
    // the one order, without a stable sort's buffer of half the list.
    objects.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    RenderedDiff { objects }
}

pub(super) fn compare(old: ManifestObject, new: ManifestObject) -> ObjectDiff {
    let mut fields = Vec::new();
    // Two versions of a document kept as text: compare the parts that differ.
    let by_parts = match (old.indexed(), new.indexed()) {
        (Some(a), Some(b)) if a.text() == b.text() => Some(Vec::new()),
        (Some(a), Some(b)) => super::chunks::field_changes_between(a, b),
        _ => None,
    };
    let mut unreadable = false;
    match by_parts {
        Some(changes) => fields = changes,
        None if old.value() != new.value() => {
            field_changes(old.value(), new.value(), &mut String::new(), &mut fields)
        }
        None => {}
    }
    if old.late_issue().is_some() || new.late_issue().is_some() {
        // One side is only its identity: its fields would all look added or removed.
        // It changed (its text did), and the environment's issues say why no more.
        fields.clear();
        unreadable = true;
    }
    let api_version_moved = (old.key.group != new.key.group)
        .then(|| format!("{} → {}", old.api_version, new.api_version));
    let renamed = old.key.name != new.key.name;
    let change = if renamed {
        ChangeKind::Renamed
    } else if fields.is_empty() && api_version_moved.is_none() && !unreadable {
        ChangeKind::Unchanged
    } else {
        ChangeKind::Changed
    };
    // The rename itself is the point; `metadata.name` would only repeat it.
    if renamed {
        fields.retain(|f| f.path != "metadata.name");
    }
    ObjectDiff {
        key: new.key.clone(),
        change,
        renamed_from: renamed.then(|| Box::new(old.key.clone())),
        api_version_moved,
        fields,
        old: Some(old),
        new: Some(new),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse_documents;

    fn objects(text: &str) -> Vec<ManifestObject> {
        parse_documents("t.yaml", text.as_bytes()).objects
    }

    const API_142: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - {name: api, image: 'ghcr.io/acme/api:1.4.2'}\n";

    #[test]
    fn image_change_is_one_field_change() {
        let new = API_142.replace("1.4.2", "1.5.0");
        let diff = diff_objects(objects(API_142), objects(&new));
        let changed: Vec<_> = diff.changed().collect();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].change, ChangeKind::Changed);
        assert_eq!(
            changed[0].fields,
            [FieldChange::value(
                "spec.template.spec.containers[name=api].image",
                Some("ghcr.io/acme/api:1.4.2".into()),
                Some("ghcr.io/acme/api:1.5.0".into()),
            )]
        );
    }

    #[test]
    fn null_and_absent_are_the_same_value() {
        let old = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, creationTimestamp: null}\n";
        let new = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";
        let diff = diff_objects(objects(old), objects(new));
        assert_eq!(diff.count(ChangeKind::Unchanged), 1);
    }

    #[test]
    fn null_to_a_value_is_a_change() {
        let old = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: null}\n";
        let new = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: '1'}\n";
        let diff = diff_objects(objects(old), objects(new));
        assert_eq!(diff.count(ChangeKind::Changed), 1);
    }

    #[test]
    fn generated_suffix_is_a_rename() {
        let old = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config-5g9m6fk7t2}\ndata: {a: '1'}\n";
        let new = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config-8h2c4t9b7k}\ndata: {a: '2'}\n";
        let diff = diff_objects(objects(old), objects(new));
        let object = &diff.objects[0];
        assert_eq!(object.change, ChangeKind::Renamed);
        assert_eq!(
            object.renamed_from.as_ref().map(|k| k.name.as_str()),
            Some("app-config-5g9m6fk7t2")
        );
        assert_eq!(object.fields.len(), 1, "{:?}", object.fields);
    }

    #[test]
    fn renames_pair_within_a_namespace_and_a_kind_only() {
        // Every ConfigMap of two namespaces gets a new generated suffix; a third namespace's
        // lone ConfigMap moves to a fourth, which is not a rename.
        let side = |hash: &str, moved: &str| {
            let mut text = String::new();
            for ns in ["a", "b"] {
                for i in 0..40 {
                    text.push_str(&format!(
                        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm{i}-{hash}, namespace: {ns}}}\n---\n"
                    ));
                }
            }
            text.push_str(&format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: lone-{hash}, namespace: {moved}}}\n"
            ));
            text
        };
        let diff = diff_objects(
            objects(&side("5g9m6fk7t2", "c")),
            objects(&side("8h2c4t9b7k", "d")),
        );
        assert_eq!(diff.count(ChangeKind::Renamed), 80);
        assert_eq!(diff.count(ChangeKind::Added), 1);
        assert_eq!(diff.count(ChangeKind::Removed), 1);
        for object in diff
            .objects
            .iter()
            .filter(|o| o.change == ChangeKind::Renamed)
        {
            let from = object.renamed_from.as_ref().expect("renamed from");
            assert_eq!(from.namespace, object.key.namespace);
            assert_eq!(
                super::super::renames::strip_generated_suffix(&from.name),
                super::super::renames::strip_generated_suffix(&object.key.name)
            );
        }
    }

    #[test]
    fn api_group_alias_move_is_one_changed_object() {
        let old =
            "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: web, namespace: a}\n";
        let new = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: a}\n";
        let diff = diff_objects(objects(old), objects(new));
        assert_eq!(diff.objects.len(), 1);
        assert_eq!(diff.objects[0].change, ChangeKind::Changed);
        assert!(diff.objects[0].api_version_moved.is_some());
    }

    #[test]
    fn unrelated_objects_are_added_and_removed() {
        let old = "apiVersion: v1\nkind: Service\nmetadata: {name: redis}\n";
        let new = "apiVersion: v1\nkind: Service\nmetadata: {name: postgres}\n";
        let diff = diff_objects(objects(old), objects(new));
        assert_eq!(diff.count(ChangeKind::Added), 1);
        assert_eq!(diff.count(ChangeKind::Removed), 1);
    }

    #[test]
    fn label_paths_are_recognised_in_every_spelling() {
        let field = |path: &str| FieldChange::value(path, None, None);
        for path in [
            "metadata.labels.version",
            "metadata.labels[\"app.kubernetes.io/version\"]",
            "spec.template.metadata.labels",
        ] {
            assert!(field(path).is_label(), "{path}");
        }
        for path in [
            "spec.selector.matchLabels.app",
            "metadata.labelsx",
            "data.labels-config",
        ] {
            assert!(!field(path).is_label(), "{path}");
        }
    }

    #[test]
    fn label_only_change_is_recognised() {
        let old = "apiVersion: v1\nkind: Service\nmetadata: {name: a, labels: {app.kubernetes.io/version: '1'}}\n";
        let new = old.replace("'1'", "'2'");
        let diff = diff_objects(objects(old), objects(&new));
        assert!(diff.objects[0].is_label_only());
        assert_eq!(
            diff.objects[0].fields[0].path,
            "metadata.labels[\"app.kubernetes.io/version\"]"
        );
    }
}
