//! The line diff of two texts (an object's normalised YAML, or a raw file), grouped into
//! hunks, each changed line carrying word-level emphasis. Both the CLI and the TUI draw
//! from this structure; neither recomputes a diff.

use serde::Serialize;
use serde_json::Value;
use similar::{ChangeTag, DiffOp, TextDiff};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineTag {
    /// `@@ -a,b +c,d @@`
    Hunk,
    Context,
    Added,
    Removed,
    /// `\ No newline at end of file`, after the line it is about.
    NoNewline,
}

/// A run of text in a line; `emphasized` marks the words that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub emphasized: bool,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    pub tag: LineTag,
    /// 1-based line numbers in the old and new text.
    pub old: Option<usize>,
    pub new: Option<usize>,
    pub segments: Vec<Segment>,
}

impl DiffLine {
    pub fn text(&self) -> String {
        self.segments.iter().map(|s| s.text.as_str()).collect()
    }

    fn plain(tag: LineTag, text: String) -> DiffLine {
        DiffLine {
            tag,
            old: None,
            new: None,
            segments: vec![Segment {
                emphasized: false,
                text,
            }],
        }
    }
}

/// Normalised YAML for an object: what a reviewer reads and what line diffs compare.
pub fn to_yaml(value: &Value) -> String {
    serde_saphyr::to_string(value).unwrap_or_else(|e| format!("# cannot show as YAML: {e}\n"))
}

/// The unified diff of `old` → `new` with `context` lines around each change.
/// A row of a side-by-side diff: the old line on the left, the new on the right, as
/// indices into the diff's lines.
pub type Row = (Option<usize>, Option<usize>);

/// The rows of a side-by-side diff: context on both sides, and each run of removed
/// lines paired with the added lines that follow it.
pub fn side_by_side_rows(lines: &[DiffLine]) -> Vec<Row> {
    fn flush(rows: &mut Vec<Row>, removed: &mut Vec<usize>, added: &mut Vec<usize>) {
        for index in 0..removed.len().max(added.len()) {
            rows.push((removed.get(index).copied(), added.get(index).copied()));
        }
        removed.clear();
        added.clear();
    }
    let mut rows: Vec<Row> = Vec::new();
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    for (index, line) in lines.iter().enumerate() {
        match line.tag {
            LineTag::Removed => {
                if !added.is_empty() {
                    flush(&mut rows, &mut removed, &mut added);
                }
                removed.push(index);
            }
            LineTag::Added => added.push(index),
            LineTag::Context | LineTag::Hunk | LineTag::NoNewline => {
                flush(&mut rows, &mut removed, &mut added);
                rows.push((Some(index), Some(index)));
            }
        }
    }
    flush(&mut rows, &mut removed, &mut added);
    rows
}

pub fn unified(old: &str, new: &str, context: usize) -> Vec<DiffLine> {
    let (old_lines, new_lines) = (lines_of(old), lines_of(new));
    let mut lines = Vec::new();
    let ops = changed_lines_within(old, &old_lines, new, &new_lines, WINDOW_MARGIN);
    for group in similar::group_diff_ops(ops, context) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        lines.push(DiffLine::plain(
            LineTag::Hunk,
            format!(
                "@@ -{},{} +{},{} @@",
                old_range.start + 1,
                old_range.len(),
                new_range.start + 1,
                new_range.len()
            ),
        ));
        for op in &group {
            let (old_part, new_part) = (op.old_range(), op.new_range());
            // Only replaced lines are compared word by word: a diff of just them.
            let (old_text, new_text) = (
                span(old, &old_lines, old_part.clone()),
                span(new, &new_lines, new_part.clone()),
            );
            let part = TextDiff::configure()
                .algorithm(similar::Algorithm::Patience)
                .diff_lines(old_text, new_text);
            for inner in part.ops() {
                for change in part.iter_inline_changes(inner) {
                    let tag = match change.tag() {
                        ChangeTag::Equal => LineTag::Context,
                        ChangeTag::Insert => LineTag::Added,
                        ChangeTag::Delete => LineTag::Removed,
                    };
                    let segments = change
                        .iter_strings_lossy()
                        .map(|(emphasized, text)| Segment {
                            emphasized: emphasized && tag != LineTag::Context,
                            text: text.trim_end_matches(['\n', '\r']).to_string(),
                        })
                        .filter(|s| !s.text.is_empty())
                        .collect();
                    lines.push(DiffLine {
                        tag,
                        old: change.old_index().map(|i| old_part.start + i + 1),
                        new: change.new_index().map(|i| new_part.start + i + 1),
                        segments,
                    });
                    if change.missing_newline() {
                        lines.push(DiffLine::plain(
                            LineTag::NoNewline,
                            "\\ No newline at end of file".to_string(),
                        ));
                    }
                }
            }
        }
    }
    lines
}

/// Lines of common beginning and end kept around the lines that differ when the rest is
/// left out of the line diff (see [`changed_lines_within`]).
const WINDOW_MARGIN: usize = 64;

/// How far from a window's edge a hunk must be able to slide, at most, for its
/// placement to be the one the whole texts give: git's indent heuristic looks up to 20
/// lines above and below where it would place a hunk.
const SLIDE_CLEARANCE: usize = 22;

/// [`changed_lines`] of `old` and `new` (whose line starts are `old_lines` and
/// `new_lines`), without interning and comparing the lines they begin and end with in
/// common beyond `margin` lines: a CRD of a megabyte whose description changed in one
/// place is diffed over the lines around it. The diff of the window is the diff of the
/// whole (the histogram diff strips common ends itself) unless a hunk could slide to
/// within [`SLIDE_CLEARANCE`] lines of a window edge that is not a text's edge, where
/// git's placement could look past it; then the whole texts are diffed.
fn changed_lines_within(
    old: &str,
    old_lines: &[usize],
    new: &str,
    new_lines: &[usize],
    margin: usize,
) -> Vec<DiffOp> {
    let (old_count, new_count) = (old_lines.len() - 1, new_lines.len() - 1);
    let line = |text, starts, at: usize| span(text, starts, at..at + 1);
    let shorter = old_count.min(new_count);
    let prefix = (0..shorter)
        .find(|&at| line(old, old_lines, at) != line(new, new_lines, at))
        .unwrap_or(shorter);
    let suffix = (0..shorter - prefix)
        .find(|&back| {
            line(old, old_lines, old_count - 1 - back) != line(new, new_lines, new_count - 1 - back)
        })
        .unwrap_or(shorter - prefix);
    let (front, back) = (prefix.saturating_sub(margin), suffix.saturating_sub(margin));
    if front == 0 && back == 0 {
        return changed_lines(old, new).0;
    }
    let old_window = span(old, old_lines, front..old_count - back);
    let new_window = span(new, new_lines, front..new_count - back);
    let (window_ops, clear) = changed_lines(old_window, new_window);
    if !clear(front > 0, back > 0) {
        return changed_lines(old, new).0;
    }
    let mut ops: Vec<DiffOp> = Vec::with_capacity(window_ops.len() + 2);
    let cut_front = DiffOp::Equal {
        old_index: 0,
        new_index: 0,
        len: front,
    };
    let cut_back = DiffOp::Equal {
        old_index: old_count - back,
        new_index: new_count - back,
        len: back,
    };
    let window = window_ops.into_iter().map(|op| shifted(op, front));
    for op in std::iter::once(cut_front).chain(window).chain([cut_back]) {
        match (ops.last_mut(), op) {
            (_, DiffOp::Equal { len: 0, .. }) => {}
            // The whole texts' diff has one run of equal lines where the cut meets the
            // window's equal lines.
            (Some(DiffOp::Equal { len, .. }), DiffOp::Equal { len: more, .. }) => *len += more,
            (_, op) => ops.push(op),
        }
    }
    ops
}

/// `op` with both its indexes moved `by` lines down.
fn shifted(op: DiffOp, by: usize) -> DiffOp {
    match op {
        DiffOp::Equal {
            old_index,
            new_index,
            len,
        } => DiffOp::Equal {
            old_index: old_index + by,
            new_index: new_index + by,
            len,
        },
        DiffOp::Delete {
            old_index,
            old_len,
            new_index,
        } => DiffOp::Delete {
            old_index: old_index + by,
            old_len,
            new_index: new_index + by,
        },
        DiffOp::Insert {
            old_index,
            new_index,
            new_len,
        } => DiffOp::Insert {
            old_index: old_index + by,
            new_index: new_index + by,
            new_len,
        },
        DiffOp::Replace {
            old_index,
            old_len,
            new_index,
            new_len,
        } => DiffOp::Replace {
            old_index: old_index + by,
            old_len,
            new_index: new_index + by,
            new_len,
        },
    }
}

/// Whether every run of changed lines of `changed` (one side's marks over its
/// `tokens`) stays, wherever it could slide, [`SLIDE_CLEARANCE`] lines clear of the
/// start (when `top`) and of the end (when `bottom`). A run slides up while the line
/// above it equals its last line, and down while the line below it equals its first;
/// other runs are slid through as lines, so that a run that could merge with another on
/// the way is judged by the farther reach.
fn slides_clear(
    tokens: &[gix_imara_diff::Token],
    changed: impl Fn(usize) -> bool,
    top: bool,
    bottom: bool,
) -> bool {
    let len = tokens.len();
    let mut at = 0;
    while at < len {
        if !changed(at) {
            at += 1;
            continue;
        }
        let start = at;
        while at < len && changed(at) {
            at += 1;
        }
        let (mut up, mut up_end) = (start, at);
        while up > 0 && tokens[up - 1] == tokens[up_end - 1] {
            (up, up_end) = (up - 1, up_end - 1);
        }
        let (mut down, mut down_end) = (start, at);
        while down_end < len && tokens[down] == tokens[down_end] {
            (down, down_end) = (down + 1, down_end + 1);
        }
        if (top && up < SLIDE_CLEARANCE) || (bottom && down_end + SLIDE_CLEARANCE > len) {
            return false;
        }
    }
    true
}

/// Which lines differ between `old` and `new`, as similar's operations over all of
/// them: git's histogram algorithm (by gitoxide), with git's placement of a hunk that
/// could slide. Also whether every hunk stays clear of the texts' start and end
/// wherever it could slide (see [`slides_clear`]), asked for each.
fn changed_lines(old: &str, new: &str) -> (Vec<DiffOp>, impl Fn(bool, bool) -> bool) {
    use gix_imara_diff::{Algorithm, Diff, InternedInput};
    let input = InternedInput::new(old, new);
    let mut diff = Diff::compute(Algorithm::Histogram, &input);
    diff.postprocess_lines(&input);
    let (mut old_at, mut new_at) = (0, 0);
    let mut ops = Vec::new();
    let equal_to = |ops: &mut Vec<DiffOp>, old_end: usize, old_at: usize, new_at: usize| {
        if old_end > old_at {
            ops.push(DiffOp::Equal {
                old_index: old_at,
                new_index: new_at,
                len: old_end - old_at,
            });
        }
    };
    for hunk in diff.hunks() {
        let (before, after) = (
            hunk.before.start as usize..hunk.before.end as usize,
            hunk.after.start as usize..hunk.after.end as usize,
        );
        equal_to(&mut ops, before.start, old_at, new_at);
        ops.push(match (before.is_empty(), after.is_empty()) {
            (true, _) => DiffOp::Insert {
                old_index: before.start,
                new_index: after.start,
                new_len: after.len(),
            },
            (_, true) => DiffOp::Delete {
                old_index: before.start,
                old_len: before.len(),
                new_index: after.start,
            },
            _ => DiffOp::Replace {
                old_index: before.start,
                old_len: before.len(),
                new_index: after.start,
                new_len: after.len(),
            },
        });
        (old_at, new_at) = (before.end, after.end);
    }
    equal_to(&mut ops, input.before.len(), old_at, new_at);
    let clear = move |top: bool, bottom: bool| {
        slides_clear(&input.before, |at| diff.is_removed(at as u32), top, bottom)
            && slides_clear(&input.after, |at| diff.is_added(at as u32), top, bottom)
    };
    (ops, clear)
}

/// Where each line of `text` starts, and its end.
fn lines_of(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|at| at + 1));
    if starts.last() != Some(&text.len()) {
        starts.push(text.len());
    }
    starts
}

/// The text of lines `range` of `text`, whose line starts are `starts`.
fn span<'t>(text: &'t str, starts: &[usize], range: std::ops::Range<usize>) -> &'t str {
    &text[starts[range.start]..starts[range.end]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_final_newline_is_said_as_git_says_it() {
        let lines = unified("a\nb", "a\nc\n", 3);
        let texts: Vec<String> = lines.iter().map(DiffLine::text).collect();
        assert_eq!(
            texts,
            [
                "@@ -1,2 +1,2 @@",
                "a",
                "b",
                "\\ No newline at end of file",
                "c"
            ]
        );
        assert_eq!(lines[3].tag, LineTag::NoNewline);
    }

    #[test]
    fn changed_word_is_emphasized() {
        let lines = unified(
            "image: api:1.4.2\nreplicas: 2\n",
            "image: api:1.5.0\nreplicas: 2\n",
            3,
        );
        assert_eq!(lines[0].tag, LineTag::Hunk);
        let removed = lines
            .iter()
            .find(|l| l.tag == LineTag::Removed)
            .expect("removed line");
        assert_eq!(removed.text(), "image: api:1.4.2");
        assert!(
            removed
                .segments
                .iter()
                .any(|s| s.emphasized && s.text.contains("1.4.2"))
        );
        let added = lines
            .iter()
            .find(|l| l.tag == LineTag::Added)
            .expect("added line");
        assert_eq!(added.new, Some(1));
    }

    proptest::proptest! {
        /// Whatever the texts, the context and removed lines are the old text and the
        /// context and added lines the new one, numbered in order.
        #[test]
        fn the_lines_of_a_diff_are_both_texts(
            old in proptest::collection::vec(0u8..6, 0..40),
            new in proptest::collection::vec(0u8..6, 0..40),
        ) {
            let text = |lines: &[u8]| -> String {
                lines.iter().map(|n| format!("line {n}\n")).collect()
            };
            let (old, new) = (text(&old), text(&new));
            let lines = unified(&old, &new, usize::MAX / 4);
            let side = |keep: LineTag, number: fn(&DiffLine) -> Option<usize>| {
                let kept: Vec<&DiffLine> = lines
                    .iter()
                    .filter(|l| l.tag == LineTag::Context || l.tag == keep)
                    .collect();
                let numbers: Vec<usize> = kept.iter().filter_map(|l| number(l)).collect();
                let text: String = kept.iter().map(|l| l.text() + "\n").collect();
                (text, numbers)
            };
            let (old_text, old_numbers) = side(LineTag::Removed, |l| l.old);
            let (new_text, new_numbers) = side(LineTag::Added, |l| l.new);
            if old == new {
                proptest::prop_assert!(lines.is_empty());
            } else {
                proptest::prop_assert_eq!(old_text, old);
                proptest::prop_assert_eq!(new_text, new);
                proptest::prop_assert!(old_numbers.iter().copied().eq(1..=old_numbers.len()));
                proptest::prop_assert!(new_numbers.iter().copied().eq(1..=new_numbers.len()));
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2048),
            ..proptest::prelude::ProptestConfig::default()
        })]
        /// Leaving common beginnings and ends out of the line diff changes nothing: the
        /// same operations as the whole texts' diff, hunks slid as git slides them. Few
        /// distinct lines, blank ones and indented ones, so that hunks can slide far and
        /// the indent heuristic has something to weigh; small margins, so that slides
        /// reach the window's edges.
        #[test]
        fn a_windowed_line_diff_is_the_whole_texts_diff(
            prefix in proptest::collection::vec(0usize..6, 0..80),
            old in proptest::collection::vec(0usize..6, 0..12),
            new in proptest::collection::vec(0usize..6, 0..12),
            suffix in proptest::collection::vec(0usize..6, 0..80),
            margin in 0usize..30,
        ) {
            const LINES: [&str; 6] = ["a\n", "  b\n", "\n", "    c\n", "a\n  b\n", "}\n"];
            let text = |middle: &[usize]| -> String {
                prefix.iter().chain(middle).chain(&suffix).map(|n| LINES[*n]).collect()
            };
            let (old, new) = (text(&old), text(&new));
            let (old_lines, new_lines) = (lines_of(&old), lines_of(&new));
            proptest::prop_assert_eq!(
                changed_lines_within(&old, &old_lines, &new, &new_lines, margin),
                changed_lines(&old, &new).0
            );
        }
    }

    #[test]
    fn equal_texts_have_no_lines() {
        assert!(unified("a\n", "a\n", 3).is_empty());
    }
}
