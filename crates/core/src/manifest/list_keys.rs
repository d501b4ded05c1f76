//! How the items of a list are told apart: by the keys Kubernetes itself merges them by
//! (the strategic-merge-patch keys of the built-in kinds), so that a sidecar added in
//! front of a container is one added item and not a change of every container after it.
//!
//! A list is compared by key only when every item on both sides has the key as a
//! scalar and no value repeats on either side; otherwise its items are compared by
//! position, as before. The pairing is shared by the comparison of parsed values
//! ([`super::fields`]) and the text-cutting fast path ([`super::chunks`]), which must give
//! the same changes in the same order.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

/// The merge keys to try, in order, for a list held under the field `field`.
fn candidates(field: &str) -> &'static [&'static str] {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims"
        | "schedulingGates"
        | "secrets"
        | "webhooks"
        | "versions" => &["name"],
        // Container ports merge by `containerPort`, a Service's by `port`.
        "ports" => &["containerPort", "port", "name"],
        "volumeMounts" => &["mountPath"],
        "volumeDevices" => &["devicePath"],
        "hostAliases" => &["ip"],
        "topologySpreadConstraints" => &["topologyKey"],
        "conditions" => &["type"],
        "ownerReferences" => &["uid"],
        _ => &[],
    }
}

/// The field a list at `path` (as [`super::fields::push_key`] writes paths) is held under:
/// its last plain key, if the path ends in one.
pub(super) fn list_field(path: &str) -> Option<&str> {
    if path.ends_with(']') {
        return None;
    }
    path.rsplit('.').next()
}

/// Whether lists under `field` may be compared by key at all.
pub(super) fn is_keyed(field: Option<&str>) -> bool {
    field.is_some_and(|f| !candidates(f).is_empty())
}

/// Which side of a comparison an item is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Old,
    New,
}

/// One step of walking two keyed lists, in the order changes are reported: the old
/// items in order (kept or removed), then the new items that were added, then the kept
/// items whose order changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    Kept { old: usize, new: usize },
    Removed { old: usize },
    Added { new: usize },
    Moved { old: usize, new: usize },
}

/// Two lists paired item by item through one key.
#[derive(Debug)]
pub(super) struct Pairing {
    key: &'static str,
    old_keys: Vec<Value>,
    new_keys: Vec<Value>,
    pub steps: Vec<Step>,
}

impl Pairing {
    /// Pair `old_len` and `new_len` items of a list under `field`, reading an item's key
    /// with `key_of` (`Ok(None)`: absent, null or not a scalar; `Err`: the caller gives
    /// up). `Ok(None)` when no key tells the items apart: compare them by position.
    pub fn new<E>(
        field: Option<&str>,
        old_len: usize,
        new_len: usize,
        mut key_of: impl FnMut(Side, usize, &'static str) -> Result<Option<Value>, E>,
    ) -> Result<Option<Pairing>, E> {
        let Some(field) = field else { return Ok(None) };
        'candidates: for &key in candidates(field) {
            let mut sides = [Vec::new(), Vec::new()];
            for (side, len, keys) in [(Side::Old, old_len, 0), (Side::New, new_len, 1)] {
                let mut seen = HashSet::with_capacity(len);
                for index in 0..len {
                    match key_of(side, index, key)? {
                        Some(value) if seen.insert(KeyOf::value(&value)) => sides[keys].push(value),
                        _ => continue 'candidates,
                    }
                }
            }
            let [old_keys, new_keys] = sides;
            let steps = steps(&old_keys, &new_keys);
            return Ok(Some(Pairing {
                key,
                old_keys,
                new_keys,
                steps,
            }));
        }
        Ok(None)
    }

    /// The path segment naming an item: `[name=api]`, `[containerPort=8080]`,
    /// `[mountPath="/etc/a b"]`.
    pub fn segment(&self, side: Side, index: usize) -> String {
        let value = match side {
            Side::Old => &self.old_keys[index],
            Side::New => &self.new_keys[index],
        };
        let shown = match value {
            Value::String(s) if reads_plainly(s) => s.clone(),
            other => other.to_string(),
        };
        format!("[{}={shown}]", self.key)
    }
}

/// A key's value that reads the same unquoted: no spaces, brackets, quotes or `=`, and
/// not something that would read as a number or a boolean.
fn reads_plainly(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_./:".contains(&c))
        && s.parse::<f64>().is_err()
        && !matches!(s, "true" | "false" | "null")
}

/// An item's key as a map key: equal exactly when the values are equal (`Value`'s own
/// `==`: `1` and `1.0` differ, `0.0` and `-0.0` do not). Lists of 60,000 env entries are
/// paired by look-ups, not by comparing each key with each (41 s before).
#[derive(Debug, PartialEq, Eq, Hash)]
enum KeyOf {
    Text(String),
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(u64),
    /// Not a scalar: never the key of a paired list ([`super::fields::key_value`]).
    Other(String),
}

impl KeyOf {
    fn value(value: &Value) -> KeyOf {
        match value {
            Value::String(text) => KeyOf::Text(text.clone()),
            Value::Bool(b) => KeyOf::Bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => KeyOf::Unsigned(u),
                (None, Some(i), _) => KeyOf::Signed(i),
                // -0.0 == 0.0, though their bits differ.
                (None, None, Some(f)) => KeyOf::Float(if f == 0.0 { 0.0 } else { f }.to_bits()),
                (None, None, None) => KeyOf::Other(n.to_string()),
            },
            other => KeyOf::Other(other.to_string()),
        }
    }
}

fn steps(old_keys: &[Value], new_keys: &[Value]) -> Vec<Step> {
    // Each side's keys are unique (`Pairing::new` checks), so a key has one position.
    let position = |keys: &[Value]| -> HashMap<KeyOf, usize> {
        keys.iter()
            .enumerate()
            .map(|(at, key)| (KeyOf::value(key), at))
            .collect()
    };
    let (old_at, new_at) = (position(old_keys), position(new_keys));
    let mut steps = Vec::new();
    let mut kept = Vec::new();
    for (old, key) in old_keys.iter().enumerate() {
        match new_at.get(&KeyOf::value(key)).copied() {
            Some(new) => {
                steps.push(Step::Kept { old, new });
                kept.push((old, new));
            }
            None => steps.push(Step::Removed { old }),
        }
    }
    for (new, key) in new_keys.iter().enumerate() {
        if !old_at.contains_key(&KeyOf::value(key)) {
            steps.push(Step::Added { new });
        }
    }
    // The kept items in their old order keep their relative order in the new list but
    // for a few: those outside the longest increasing run of new positions moved.
    let in_order = longest_increasing(&kept.iter().map(|(_, new)| *new).collect::<Vec<_>>());
    for (i, (old, new)) in kept.into_iter().enumerate() {
        if !in_order[i] {
            steps.push(Step::Moved { old, new });
        }
    }
    steps
}

/// Marks the members of one longest strictly increasing subsequence of `values`
/// (patience sorting with back links, O(n log n)).
fn longest_increasing(values: &[usize]) -> Vec<bool> {
    // tails[k]: the index in `values` of the smallest tail of an increasing run of k+1.
    let mut tails: Vec<usize> = Vec::new();
    let mut previous: Vec<Option<usize>> = vec![None; values.len()];
    for (i, value) in values.iter().enumerate() {
        let at = tails.partition_point(|&t| values[t] < *value);
        previous[i] = at.checked_sub(1).map(|k| tails[k]);
        if at == tails.len() {
            tails.push(i);
        } else {
            tails[at] = i;
        }
    }
    let mut member = vec![false; values.len()];
    let mut at = tails.last().copied();
    while let Some(i) = at {
        member[i] = true;
        at = previous[i];
    }
    member
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pair(field: &str, old: &[Value], new: &[Value]) -> Option<Pairing> {
        Pairing::new::<std::convert::Infallible>(
            Some(field),
            old.len(),
            new.len(),
            |side, i, key| {
                let item = match side {
                    Side::Old => &old[i],
                    Side::New => &new[i],
                };
                Ok(item
                    .get(key)
                    .filter(|v| !v.is_null() && !v.is_object() && !v.is_array())
                    .cloned())
            },
        )
        .unwrap_or_else(|never| match never {})
    }

    proptest::proptest! {
        /// Keys looked up in a map are equal exactly when `Value`'s `==` says so.
        #[test]
        fn a_key_is_equal_exactly_when_its_value_is(
            a in scalar(), b in scalar(),
        ) {
            proptest::prop_assert_eq!(KeyOf::value(&a) == KeyOf::value(&b), a == b, "{} {}", a, b);
            proptest::prop_assert!(KeyOf::value(&a) == KeyOf::value(&a.clone()));
        }
    }

    #[test]
    fn keys_that_look_alike_are_told_apart_as_values_are() {
        for (a, b) in [
            (json!(0.0), json!(-0.0)),
            (json!(1), json!(1.0)),
            (json!(1), json!("1")),
            (json!(true), json!("true")),
            (json!(u64::MAX), json!(-1)),
        ] {
            assert_eq!(KeyOf::value(&a) == KeyOf::value(&b), a == b, "{a} {b}");
        }
    }

    fn scalar() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        prop_oneof![
            (0u64..4).prop_map(Value::from),
            (-3i64..0).prop_map(Value::from),
            prop::sample::select(vec![0.0, -0.0, 1.0, 1.5, -1.0, 2.0]).prop_map(Value::from),
            prop::sample::select(vec!["1", "a", "", "true", "1.0"]).prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            Just(Value::from(u64::MAX)),
        ]
    }

    #[test]
    fn thousands_of_items_pair_by_key_as_few_do() {
        let old: Vec<String> = (0..3000).map(|n| format!("K{n}")).collect();
        let mut new = old.clone();
        new.swap(10, 2000);
        new.remove(5);
        new.push("added".into());
        fn refs(v: &[String]) -> Vec<&str> {
            v.iter().map(String::as_str).collect()
        }
        let pairing = pair("env", &named(&refs(&old)), &named(&refs(&new))).expect("keyed");
        let removed: Vec<_> = pairing
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Removed { .. }))
            .collect();
        assert_eq!(removed, [&Step::Removed { old: 5 }]);
        assert!(pairing.steps.contains(&Step::Added { new: 2999 }));
        let moved = pairing
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Moved { .. }))
            .count();
        assert_eq!(
            moved,
            2,
            "{:?}",
            pairing
                .steps
                .iter()
                .filter(|s| matches!(s, Step::Moved { .. }))
                .collect::<Vec<_>>()
        );
        let mut twice = named(&refs(&old));
        twice.push(json!({"name": "K7"}));
        assert!(
            pair("env", &twice, &named(&refs(&new))).is_none(),
            "a key twice is compared by position"
        );
    }

    fn named(names: &[&str]) -> Vec<Value> {
        names.iter().map(|n| json!({"name": n})).collect()
    }

    #[test]
    fn an_insert_in_front_is_one_added_item_and_no_move() {
        let pairing =
            pair("containers", &named(&["api"]), &named(&["proxy", "api"])).expect("keyed");
        assert_eq!(
            pairing.steps,
            [Step::Kept { old: 0, new: 1 }, Step::Added { new: 0 }]
        );
        assert_eq!(pairing.segment(Side::New, 0), "[name=proxy]");
    }

    #[test]
    fn a_reordered_item_is_a_move_of_that_item_only() {
        let pairing =
            pair("env", &named(&["a", "b", "c"]), &named(&["c", "a", "b"])).expect("keyed");
        assert_eq!(
            pairing.steps,
            [
                Step::Kept { old: 0, new: 1 },
                Step::Kept { old: 1, new: 2 },
                Step::Kept { old: 2, new: 0 },
                Step::Moved { old: 2, new: 0 },
            ]
        );
    }

    #[test]
    fn ports_pair_by_container_port_then_by_port() {
        let container = [json!({"containerPort": 80}), json!({"containerPort": 443})];
        let pairing = pair("ports", &container, &container[1..]).expect("keyed");
        assert_eq!(pairing.segment(Side::Old, 0), "[containerPort=80]");
        let service = [json!({"port": 80, "name": "http"})];
        assert_eq!(
            pair("ports", &service, &service)
                .expect("keyed")
                .segment(Side::Old, 0),
            "[port=80]"
        );
    }

    #[test]
    fn a_missing_or_repeated_key_falls_back_to_positions() {
        let missing = [json!({"name": "a"}), json!({"image": "b"})];
        assert!(pair("containers", &missing, &missing).is_none());
        let repeated = named(&["a", "a"]);
        assert!(pair("containers", &repeated, &repeated).is_none());
        assert!(pair("args", &named(&["a"]), &named(&["a"])).is_none());
    }

    #[test]
    fn values_that_would_read_otherwise_are_quoted() {
        let old = [
            json!({"mountPath": "/etc/a b"}),
            json!({"mountPath": "8080"}),
        ];
        let pairing = pair("volumeMounts", &old, &old).expect("keyed");
        assert_eq!(pairing.segment(Side::Old, 0), "[mountPath=\"/etc/a b\"]");
        assert_eq!(pairing.segment(Side::Old, 1), "[mountPath=\"8080\"]");
    }

    #[test]
    fn the_field_is_the_last_plain_key() {
        assert_eq!(
            list_field("spec.template.spec.containers"),
            Some("containers")
        );
        assert_eq!(list_field("spec.containers[name=a.b].ports"), Some("ports"));
        assert_eq!(list_field("data[\"a.containers\"]"), None);
        assert_eq!(list_field("containers"), Some("containers"));
    }

    #[test]
    fn longest_increasing_marks_one_longest_run() {
        assert_eq!(longest_increasing(&[3, 0, 1, 2]), [false, true, true, true]);
        assert_eq!(longest_increasing(&[]), Vec::<bool>::new());
    }
}
