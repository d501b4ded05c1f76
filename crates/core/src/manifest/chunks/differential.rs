//! The fast path against the whole parse, on mutated manifests: whenever cutting two
//! versions of a document gives field changes, they must be exactly the ones the whole
//! parsed values give. The seeds (`crates/core/tests/data/yaml-seeds/`) hold the constructs that
//! matter; the mutations change values (to block scalars with indentation indicators,
//! flow collections, quoted text, text that looks like YAML), indentation, and lines.
//! proptest shrinks a failure to the smallest edit list; `PROPTEST_CASES` raises the
//! number of cases (CI runs the default, a few seconds).

use proptest::prelude::*;
use serde_json::Value;

use super::{Indexed, field_changes_of, list_items, parse};
use crate::manifest::fields::field_changes;

const SEEDS: [&str; 4] = [
    include_str!("../../../tests/data/yaml-seeds/deployment.yaml"),
    include_str!("../../../tests/data/yaml-seeds/crd.yaml"),
    include_str!("../../../tests/data/yaml-seeds/configmap.yaml"),
    include_str!("../../../tests/data/yaml-seeds/lists.yaml"),
];

/// Values a line's `key: value` may become: among them anchors and aliases, which the
/// fast path must refuse, and scalars running on over lines that look like structure,
/// which it must read as text.
const VALUES: [&str; 26] = [
    "x",
    "changed value",
    "\"q: t\"",
    "'a # b'",
    "[1, 2]",
    "{a: b}",
    "",
    "~",
    "123",
    "true",
    "- z",
    "key: v",
    "# a comment",
    "a: b: c",
    "|",
    "|-",
    ">",
    "'multi",
    "&anc x",
    "*anc",
    "&anc",
    "!!str 7",
    "x\n              * runs on",
    "x\n              ? q `code`",
    "|\n              * block &y\n              - *z",
    "\"q\n              *x\"",
];

/// Block scalar headers, with and without an indentation indicator.
const HEADERS: [&str; 8] = ["|2", ">2", "|4-", "|1+", "|", ">-", "|3", ">1"];

#[derive(Debug, Clone)]
enum Edit {
    /// What follows `key:` on a line becomes `VALUES[value]`.
    Value {
        line: usize,
        value: usize,
    },
    /// A line moves in or out.
    Indent {
        line: usize,
        by: i8,
    },
    Delete {
        line: usize,
    },
    Duplicate {
        line: usize,
    },
    /// The sequence item starting at or after `line` changes places with the next item
    /// of its list (a move, when the list is keyed).
    Swap {
        line: usize,
    },
    /// What follows `key:` becomes a block scalar header, with content lines at `at`
    /// columns past the line's own indentation.
    Block {
        line: usize,
        header: usize,
        at: usize,
        lines: usize,
    },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), 0..VALUES.len()).prop_map(|(line, value)| Edit::Value { line, value }),
        1 => (any::<usize>(), -2i8..=2).prop_map(|(line, by)| Edit::Indent { line, by }),
        1 => any::<usize>().prop_map(|line| Edit::Delete { line }),
        1 => any::<usize>().prop_map(|line| Edit::Duplicate { line }),
        2 => any::<usize>().prop_map(|line| Edit::Swap { line }),
        3 => (any::<usize>(), 0..HEADERS.len(), 1usize..7, 1usize..3)
            .prop_map(|(line, header, at, lines)| Edit::Block { line, header, at, lines }),
    ]
}

fn mutate(seed: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = seed.lines().map(str::to_string).collect();
    for edit in edits {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match *edit {
            Edit::Value { line, value } => {
                let line = &mut lines[line % n];
                if let Some(colon) = line
                    .find(": ")
                    .or_else(|| line.ends_with(':').then(|| line.len() - 1))
                {
                    line.truncate(colon);
                    line.push_str(": ");
                    line.push_str(VALUES[value]);
                }
            }
            Edit::Indent { line, by } => {
                let line = &mut lines[line % n];
                if by > 0 {
                    line.insert_str(0, &" ".repeat(by as usize));
                } else {
                    let spaces = line.len() - line.trim_start_matches(' ').len();
                    line.drain(..spaces.min(by.unsigned_abs() as usize));
                }
            }
            Edit::Delete { line } => {
                lines.remove(line % n);
            }
            Edit::Duplicate { line } => {
                let copy = lines[line % n].clone();
                lines.insert(line % n, copy);
            }
            Edit::Swap { line } => swap_items(&mut lines, line % n),
            Edit::Block {
                line,
                header,
                at,
                lines: count,
            } => {
                let index = line % n;
                let Some(colon) = lines[index].find(':') else {
                    continue;
                };
                let indent = lines[index].len() - lines[index].trim_start_matches(' ').len();
                let mut keyed = lines[index][..colon].to_string();
                keyed.push_str(": ");
                keyed.push_str(HEADERS[header]);
                lines[index] = keyed;
                for k in 0..count {
                    lines.insert(
                        index + 1 + k,
                        format!("{}text {k}", " ".repeat(indent + at)),
                    );
                }
            }
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Swap the first sequence item starting at or after `from` with the item after it.
fn swap_items(lines: &mut [String], from: usize) {
    let is_item = |line: &str| line.trim_start_matches(' ').starts_with("- ");
    let Some(start) = (from..lines.len()).find(|i| is_item(&lines[*i])) else {
        return;
    };
    let column = indent_of(&lines[start]);
    // An item runs until the next line at or left of its dash.
    let end_of = |begin: usize| {
        (begin + 1..lines.len())
            .find(|i| !lines[*i].trim().is_empty() && indent_of(&lines[*i]) <= column)
            .unwrap_or(lines.len())
    };
    let middle = end_of(start);
    if middle == lines.len() || indent_of(&lines[middle]) != column || !is_item(&lines[middle]) {
        return;
    }
    let end = end_of(middle);
    lines[start..end].rotate_left(middle - start);
}

/// The changes the whole parsed values give, when both sides parse.
fn whole(old: &str, new: &str) -> Option<Vec<crate::manifest::fields::FieldChange>> {
    let (a, b) = (parse(old, 0)?, parse(new, 0)?);
    let mut out = Vec::new();
    field_changes(&a, &b, &mut String::new(), &mut out);
    Some(out)
}

/// The seeds as the items of one `List`, each moved in under its dash.
fn as_list() -> String {
    let mut text = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for seed in SEEDS {
        for (n, line) in seed.lines().enumerate() {
            let lead = match (n, line.is_empty()) {
                (0, _) => "- ",
                (_, true) => "",
                _ => "  ",
            };
            text.push_str(lead);
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

/// The items `list_items` cuts out of `text`, each parsed alone, and the whole parse's
/// items; `None` when either cannot be had.
fn items_both_ways(text: &str) -> Option<(Vec<Option<Value>>, Vec<Value>)> {
    let whole = parse(text, 0)?.get("items")?.as_array()?.clone();
    let cut = list_items(&Indexed::new(text)?)?;
    Some((cut.iter().map(|(_, item)| parse(item, 2)).collect(), whole))
}

#[test]
fn the_seeds_as_a_list_are_cut_into_their_items() {
    let (cut, whole) = items_both_ways(&as_list()).expect("cut");
    assert_eq!(whole.len(), SEEDS.len());
    assert_eq!(cut, whole.into_iter().map(Some).collect::<Vec<_>>());
}

#[test]
fn the_seeds_parse_whole() {
    for seed in SEEDS {
        assert!(parse(seed, 0).is_some(), "{seed}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1024),
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    })]

    /// An anchor whose value changes and an alias of it elsewhere: the alias's text is
    /// the same in both versions, its value is not, so a cut that let the anchor through
    /// would miss a change.
    #[test]
    fn an_alias_is_never_compared_by_its_text(
        seed in 0..SEEDS.len(),
        anchor in any::<usize>(),
        alias in any::<usize>(),
        edits in prop::collection::vec(edit(), 0..3),
    ) {
        let version = |value: &str| {
            let mut text = mutate(SEEDS[seed], &edits);
            for (line, value) in [(anchor, value), (alias, "*anc")] {
                let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
                let n = lines.len();
                let line = &mut lines[line % n];
                if let Some(colon) = line.find(": ").or_else(|| line.ends_with(':').then(|| line.len() - 1)) {
                    line.truncate(colon);
                    line.push_str(": ");
                    line.push_str(value);
                }
                text = lines.join("\n") + "\n";
            }
            text
        };
        let (old, new) = (version("&anc one"), version("&anc two"));
        if let (Some(expected), Some(fast)) = (whole(&old, &new), field_changes_of(&old, &new)) {
            prop_assert_eq!(fast, expected, "\n--- old\n{}\n--- new\n{}", old, new);
        }
    }

    /// A list's items cut out and moved left read as they do in the whole list.
    #[test]
    fn a_lists_items_cut_out_read_as_in_the_whole_list(
        edits in prop::collection::vec(edit(), 0..4),
    ) {
        let text = mutate(&as_list(), &edits);
        if let Some((cut, whole)) = items_both_ways(&text) {
            prop_assert_eq!(cut, whole.into_iter().map(Some).collect::<Vec<_>>(), "\n{}", text);
        }
    }

    #[test]
    fn cutting_by_indentation_agrees_with_the_whole_parse(
        seed in 0..SEEDS.len(),
        old_edits in prop::collection::vec(edit(), 0..3),
        new_edits in prop::collection::vec(edit(), 1..4),
    ) {
        let old = mutate(SEEDS[seed], &old_edits);
        let new = mutate(SEEDS[seed], &new_edits);
        if let (Some(expected), Some(fast)) = (whole(&old, &new), field_changes_of(&old, &new)) {
            prop_assert_eq!(fast, expected, "\n--- old\n{}\n--- new\n{}", old, new);
        }
    }
}

#[test]
fn the_swap_edit_gives_moves_to_compare() {
    let seed = SEEDS[0];
    let line = seed
        .lines()
        .position(|l| l.contains("- name: LOG_LEVEL"))
        .expect("the seed has an env list");
    let new = mutate(seed, &[Edit::Swap { line }]);
    let changes = field_changes_of(seed, &new).expect("cuts");
    assert_eq!(whole(seed, &new), Some(changes.clone()));
    assert!(changes.iter().any(|c| c.moved.is_some()), "{changes:?}");
}
