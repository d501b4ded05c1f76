//! Which removed and added objects of a diff are one object renamed or moved between
//! aliased API groups: a kustomize generator's new hash suffix, a `namePrefix` added,
//! `extensions` → `apps`. A pair is made only where each is related to exactly one
//! object of the other side, and related objects are found by look-ups, not by comparing
//! each with each.

use std::collections::HashMap;

use super::diff::{ObjectDiff, compare};
use super::object::{ManifestObject, ObjectKey};

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

/// What makes a removed and an added object one object that moved or was renamed.
#[derive(Clone, Copy)]
pub(super) enum Rule {
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
pub(super) fn pair_up(
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

pub(super) fn strip_generated_suffix(name: &str) -> &str {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_or_suffix_part_is_a_rename_and_a_longer_word_is_not() {
        assert!(names_differ_by_generated_part("api", "prod-api"));
        assert!(names_differ_by_generated_part("api-v2", "api"));
        assert!(!names_differ_by_generated_part("api", "rapi"));
        assert!(!names_differ_by_generated_part("api", "apis"));
        assert!(!names_differ_by_generated_part("api", "api"));
        assert!(!names_differ_by_generated_part("api", "-"));
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
                        let origin = crate::manifest::object::Origin { file: "x".into(), line: 1 };
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
}
