//! The semantic diff of two sets of rendered objects: added, removed, changed, renamed and
//! unchanged, keyed by `(group, kind, namespace, name)`. A changed object lists its field
//! changes (`path`, old → new) and can produce the line diff of its normalised YAML.
//! `null` and an absent key are the same value, as they are to the API server.

use std::collections::HashMap;

use serde::Serialize;

use super::fields::{FieldChange, field_changes};
use super::object::{ManifestObject, ObjectKey};
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

/// API groups that served the same kinds, so that a move between them is one object.
const GROUP_ALIASES: &[(&str, &str)] = &[
    ("extensions", "apps"),
    ("extensions", "networking.k8s.io"),
    ("extensions", "policy"),
];

fn groups_are_aliases(a: &str, b: &str) -> bool {
    GROUP_ALIASES
        .iter()
        .any(|(x, y)| (*x == a && *y == b) || (*x == b && *y == a))
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
    let (mut old, mut new) = (old.into_iter().peekable(), new.into_iter().peekable());
    loop {
        let order = match (old.peek(), new.peek()) {
            (Some(o), Some(n)) => o.key.cmp(&n.key),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => break,
        };
        match order {
            std::cmp::Ordering::Less => removed.extend(old.next()),
            std::cmp::Ordering::Greater => added.extend(new.next()),
            std::cmp::Ordering::Equal => {
                if let (Some(o), Some(n)) = (old.next(), new.next()) {
                    objects.push(compare(o, n));
                }
            }
        }
    }
    // Both sides' lists are empty now, but hold their room until dropped.
    drop((old, new));

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

/// What makes a removed and an added object one object that moved or was renamed.
#[derive(Clone, Copy)]
enum Rule {
    /// The same kind, namespace and name in API groups that served the same kinds.
    GroupAlias,
    /// The same group, kind and namespace, names that differ by a generated part.
    GeneratedPart,
}

impl Rule {
    fn relates(self, r: &ObjectKey, a: &ObjectKey) -> bool {
        match self {
            Rule::GroupAlias => {
                r.kind == a.kind
                    && r.namespace == a.namespace
                    && r.name == a.name
                    && groups_are_aliases(&r.group, &a.group)
            }
            Rule::GeneratedPart => {
                r.group == a.group
                    && r.kind == a.kind
                    && r.namespace == a.namespace
                    && names_differ_by_generated_part(&r.name, &a.name)
            }
        }
    }
}

/// One side's objects indexed for a rule, so that those related to a key are found by
/// look-ups, not by comparing each with each: a promotion that replaces tens of
/// thousands of objects of one namespace (anyone with push access can write one) must
/// not take minutes to review.
struct Related<'s> {
    rule: Rule,
    side: &'s [ManifestObject],
    /// By slot (see [`Related::slot`]), the objects by name (`GroupAlias`) or by name
    /// without its generated suffix (`GeneratedPart`), and, for `GeneratedPart`, those
    /// names sorted and the same reversed byte by byte, sorted: the names with a part
    /// before or after a given one are a range of one or the other.
    slots: HashMap<String, Slot<'s>>,
}

#[derive(Default)]
struct Slot<'s> {
    by_name: HashMap<&'s str, Vec<usize>>,
    forward: Vec<(&'s str, usize)>,
    backward: Vec<(Vec<u8>, usize)>,
}

impl<'s> Related<'s> {
    fn new(rule: Rule, side: &'s [ManifestObject]) -> Related<'s> {
        let mut slots: HashMap<String, Slot<'s>> = HashMap::new();
        for (at, object) in side.iter().enumerate() {
            let name = Related::name_of(rule, &object.key);
            let slot = slots.entry(Related::slot(rule, &object.key)).or_default();
            slot.by_name.entry(name).or_default().push(at);
            if let Rule::GeneratedPart = rule {
                slot.forward.push((name, at));
                slot.backward.push((name.bytes().rev().collect(), at));
            }
        }
        for slot in slots.values_mut() {
            slot.forward.sort_unstable();
            slot.backward.sort_unstable();
        }
        Related { rule, side, slots }
    }

    /// What the rule requires related objects to share besides a name: kind and
    /// namespace, and the group for `GeneratedPart`.
    fn slot(rule: Rule, key: &ObjectKey) -> String {
        let group = match rule {
            Rule::GroupAlias => "",
            Rule::GeneratedPart => key.group.as_str(),
        };
        let namespace = key.namespace.as_deref().unwrap_or("");
        format!("{group}\0{}\0{namespace}", key.kind)
    }

    fn name_of(rule: Rule, key: &ObjectKey) -> &str {
        match rule {
            Rule::GroupAlias => &key.name,
            Rule::GeneratedPart => strip_generated_suffix(&key.name),
        }
    }

    /// Up to two objects of this side that the rule relates to `key` (two: more would
    /// not pair either).
    fn to(&self, key: &ObjectKey) -> Vec<usize> {
        let mut found: Vec<usize> = Vec::with_capacity(2);
        let Some(slot) = self.slots.get(&Related::slot(self.rule, key)) else {
            return found;
        };
        let mut consider = |ats: &mut dyn Iterator<Item = usize>| {
            for at in ats {
                if found.len() == 2 {
                    return;
                }
                if !found.contains(&at) && self.rule.relates(key, &self.side[at].key) {
                    found.push(at);
                }
            }
        };
        let exact = |name: &str| {
            slot.by_name
                .get(name)
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .copied()
        };
        let name = Related::name_of(self.rule, key);
        consider(&mut exact(name));
        if let Rule::GeneratedPart = self.rule {
            // Longer names: `name-…` and `…-name`.
            let prefix = format!("{name}-");
            let from = slot
                .forward
                .partition_point(|(other, _)| *other < prefix.as_str());
            consider(
                &mut slot.forward[from..]
                    .iter()
                    .take_while(|(other, _)| other.starts_with(&prefix))
                    .map(|(_, at)| *at),
            );
            let mut suffix: Vec<u8> = name.bytes().rev().collect();
            suffix.push(b'-');
            let from = slot.backward.partition_point(|(other, _)| *other < suffix);
            consider(
                &mut slot.backward[from..]
                    .iter()
                    .take_while(|(other, _)| other.starts_with(&suffix))
                    .map(|(_, at)| *at),
            );
            // Shorter names: what comes before or after one of this name's dashes.
            for (dash, _) in name.match_indices('-') {
                consider(&mut exact(&name[..dash]));
                consider(&mut exact(&name[dash + 1..]));
            }
        }
        found
    }
}

/// (removed, added) index pairs where `rule` relates each to exactly one object of the
/// other side. Each side is in at most one pair: an added object related to one removed
/// object only cannot be another's as well.
fn pairs_under(
    rule: Rule,
    removed: &[ManifestObject],
    added: &[ManifestObject],
) -> Vec<(usize, usize)> {
    let (to_added, to_removed) = (Related::new(rule, added), Related::new(rule, removed));
    removed
        .iter()
        .enumerate()
        .filter_map(|(ri, r)| match to_added.to(&r.key)[..] {
            [ai] if to_removed.to(&added[ai].key).len() == 1 => Some((ri, ai)),
            _ => None,
        })
        .collect()
}

/// Match removed and added objects one to one where `rule` relates each to exactly one
/// object of the other side; ambiguous ones stay added and removed.
fn pair_up(
    removed: &mut Vec<ManifestObject>,
    added: &mut Vec<ManifestObject>,
    out: &mut Vec<ObjectDiff>,
    rule: Rule,
) {
    let pairs = pairs_under(rule, removed, added);
    if pairs.is_empty() {
        return;
    }
    let mut removed_slots: Vec<Option<ManifestObject>> =
        std::mem::take(removed).into_iter().map(Some).collect();
    let mut added_slots: Vec<Option<ManifestObject>> =
        std::mem::take(added).into_iter().map(Some).collect();
    for (ri, ai) in pairs {
        if let (Some(r), Some(a)) = (removed_slots[ri].take(), added_slots[ai].take()) {
            out.push(compare(r, a));
        }
    }
    *removed = removed_slots.into_iter().flatten().collect();
    *added = added_slots.into_iter().flatten().collect();
}

/// Kustomize generators append a 10-character hash, and `namePrefix`/`nameSuffix` add
/// a dash-separated part: such names are the same object renamed.
fn names_differ_by_generated_part(a: &str, b: &str) -> bool {
    if a == b {
        return false;
    }
    let stripped_a = strip_generated_suffix(a);
    let stripped_b = strip_generated_suffix(b);
    if stripped_a == stripped_b {
        return true;
    }
    // `long` is `short` with a `-`-separated part before or after it.
    let affixed = |long: &str, short: &str| {
        let Some(rest) = long.len().checked_sub(short.len() + 1) else {
            return false;
        };
        (long.ends_with(short) && long.as_bytes()[rest] == b'-')
            || (long.starts_with(short) && long.as_bytes()[short.len()] == b'-')
    };
    affixed(stripped_a, stripped_b) || affixed(stripped_b, stripped_a)
}

fn strip_generated_suffix(name: &str) -> &str {
    match name.rsplit_once('-') {
        Some((base, hash))
            if hash.len() == 10
                && hash
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && hash.bytes().any(|c| c.is_ascii_digit()) =>
        {
            base
        }
        _ => name,
    }
}

fn compare(old: ManifestObject, new: ManifestObject) -> ObjectDiff {
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
    fn a_prefix_or_suffix_part_is_a_rename_and_a_longer_word_is_not() {
        assert!(names_differ_by_generated_part("api", "prod-api"));
        assert!(names_differ_by_generated_part("api-v2", "api"));
        assert!(!names_differ_by_generated_part("api", "rapi"));
        assert!(!names_differ_by_generated_part("api", "apis"));
        assert!(!names_differ_by_generated_part("api", "api"));
        assert!(!names_differ_by_generated_part("api", "-"));
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
                strip_generated_suffix(&from.name),
                strip_generated_suffix(&object.key.name)
            );
        }
    }

    proptest::proptest! {
        /// The look-ups find the pairs that comparing each removed object with each
        /// added one finds.
        #[test]
        fn pairing_by_look_up_is_pairing_each_with_each(
            removed in proptest::collection::vec(any_key(), 0..24),
            added in proptest::collection::vec(any_key(), 0..24),
        ) {
            let objects = |keys: &[ObjectKey]| -> Vec<ManifestObject> {
                keys.iter()
                    .map(|key| {
                        let origin = super::super::object::Origin { file: "x".into(), line: 1 };
                        ManifestObject::new(key.clone(), "v1".into(), origin, serde_json::Value::Null)
                    })
                    .collect()
            };
            for rule in [Rule::GroupAlias, Rule::GeneratedPart] {
                let mut taken = std::collections::HashSet::new();
                let mut expected = Vec::new();
                for (ri, r) in removed.iter().enumerate() {
                    let candidates: Vec<usize> = (0..added.len())
                        .filter(|ai| !taken.contains(ai) && rule.relates(r, &added[*ai]))
                        .collect();
                    if let [ai] = candidates[..]
                        && removed.iter().filter(|o| rule.relates(o, &added[ai])).count() == 1
                    {
                        taken.insert(ai);
                        expected.push((ri, ai));
                    }
                }
                proptest::prop_assert_eq!(
                    pairs_under(rule, &objects(&removed), &objects(&added)),
                    expected
                );
            }
        }
    }

    fn any_key() -> impl proptest::strategy::Strategy<Value = ObjectKey> {
        use proptest::prelude::*;
        let part = prop::sample::select(vec!["app", "a", "web", "x1", "prod", "app-web"]);
        let hash = prop::sample::select(vec![
            "",
            "-abc123def4",
            "-0000000001",
            "-zz9zz9zz9z",
            "-abcdefghij",
        ]);
        (
            prop::sample::select(vec!["", "apps", "extensions"]),
            prop::sample::select(vec!["ConfigMap", "Deployment"]),
            prop::option::of(prop::sample::select(vec!["a", "b"])),
            prop::collection::vec(part, 1..4),
            hash,
        )
            .prop_map(|(group, kind, namespace, parts, hash)| ObjectKey {
                group: group.to_string(),
                kind: kind.to_string(),
                namespace: namespace.map(str::to_string),
                name: format!("{}{hash}", parts.join("-")),
            })
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
