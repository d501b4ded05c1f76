//! The right-hand side of a review as numbered lines: the selected object's field
//! changes and diff, a raw file's diff, the commits, the description or the verdict.
//! Drawing asks only for the lines on screen (a 200,000-line diff costs a screenful per
//! frame), and the search in the diff (`/`, `n`, `N`) reads the same lines as text.

use ratatui::text::{Line, Span};

use super::diff_lines::{SIDE_BY_SIDE_MIN_WIDTH, side_by_side_line, unified_line};
use crate::git::commit::rfc3339;
use crate::manifest::textdiff::{DiffLine, Row};
use crate::tui::app::{Loading, ReviewState, Tab};
use crate::tui::theme::Theme;

enum Body<'a> {
    Empty,
    Unified(&'a [DiffLine]),
    SideBySide {
        lines: &'a [DiffLine],
        rows: &'a [Row],
        half: usize,
    },
}

/// The lines of the right-hand side: a few built up front (field changes, commits…),
/// then a diff whose lines are built when asked for.
pub struct DetailLines<'a> {
    head: Vec<Line<'static>>,
    body: Body<'a>,
    theme: Theme,
    /// Columns the diff is scrolled sideways (`H`, `L`).
    skip: usize,
}

impl DetailLines<'_> {
    pub fn len(&self) -> usize {
        self.head.len()
            + match &self.body {
                Body::Empty => 0,
                Body::Unified(lines) => lines.len(),
                Body::SideBySide { rows, .. } => rows.len(),
            }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn line(&self, index: usize) -> Option<Line<'static>> {
        if let Some(line) = self.head.get(index) {
            return Some(line.clone());
        }
        let index = index - self.head.len();
        match &self.body {
            Body::Empty => None,
            Body::Unified(lines) => lines
                .get(index)
                .map(|l| unified_line(l, self.theme, self.skip)),
            Body::SideBySide { lines, rows, half } => rows
                .get(index)
                .map(|row| side_by_side_line(lines, *row, self.theme, *half, self.skip)),
        }
    }

    /// The `count` lines from `first` on.
    pub fn window(&self, first: usize, count: usize) -> Vec<Line<'static>> {
        (first..first.saturating_add(count).min(self.len()))
            .filter_map(|i| self.line(i))
            .collect()
    }

    /// Whether line `index` contains `needle` (lower-case), in any case.
    pub fn matches(&self, index: usize, needle: &str) -> bool {
        let contains = |text: String| text.to_lowercase().contains(needle);
        if let Some(line) = self.head.get(index) {
            return contains(line.to_string());
        }
        let index = index - self.head.len();
        match &self.body {
            Body::Empty => false,
            Body::Unified(lines) => lines.get(index).is_some_and(|l| contains(l.text())),
            Body::SideBySide { lines, rows, .. } => rows.get(index).is_some_and(|(old, new)| {
                [old, new]
                    .into_iter()
                    .flatten()
                    .any(|i| lines.get(*i).is_some_and(|l| contains(l.text())))
            }),
        }
    }
}

/// A diff's lines in a pane `width` columns wide (inside its border): side by side when
/// asked for and wide enough.
fn body<'a>(lines: &'a [DiffLine], rows: &'a [Row], side_by_side: bool, width: usize) -> Body<'a> {
    if side_by_side && width + 2 >= SIDE_BY_SIDE_MIN_WIDTH as usize {
        Body::SideBySide {
            rows,
            half: width.saturating_sub(1) / 2,
            lines,
        }
    } else {
        Body::Unified(lines)
    }
}

/// The right-hand side of `review` as it is now, `width` columns inside the border.
pub fn detail_lines<'a>(
    review: &'a ReviewState,
    identity: &str,
    theme: Theme,
    width: usize,
) -> DetailLines<'a> {
    let mut head = Vec::new();
    let mut body_lines = Body::Empty;
    if let Loading::Ready(d) = review.shown() {
        match review.tab {
            Tab::Diff if review.raw => {
                if let Some(file) = review.selected_index().and_then(|i| d.files.get(i)) {
                    body_lines = body(&file.lines, &file.rows, review.side_by_side, width);
                }
            }
            Tab::Diff => {
                if let Some(object) = review.selected_index().and_then(|i| d.objects.get(i)) {
                    if let Some(from) = &object.renamed_from {
                        head.push(Line::from(Span::styled(
                            format!("renamed from {from}"),
                            theme.renamed(),
                        )));
                    }
                    for field in &object.fields {
                        head.extend(super::fields::lines(field, width, theme));
                    }
                    if !head.is_empty() {
                        head.push(Line::raw(""));
                    }
                    body_lines = body(&object.lines, &object.rows, review.side_by_side, width);
                }
            }
            Tab::Commits => {
                for (index, c) in d.commits.iter().enumerate() {
                    let selected = index == review.commit_cursor.selected;
                    let mark = |line: Line<'static>| match selected {
                        true => line.patch_style(theme.selected()),
                        false => line,
                    };
                    head.push(mark(Line::from(vec![
                        Span::styled(format!("{} ", crate::text::short(&c.sha)), theme.hunk()),
                        Span::styled(format!("{} ", &rfc3339(c.author.time)[..10]), theme.dim()),
                        Span::raw(format!("{:<12} ", super::fit(&c.author.name, 12))),
                        Span::styled(c.subject.clone(), theme.bold()),
                    ])));
                    head.push(mark(Line::from(Span::styled(
                        format!("           {}", c.body.lines().next().unwrap_or("")),
                        theme.dim(),
                    ))));
                }
            }
            Tab::Description => {
                head.extend(d.description.lines().map(|l| Line::raw(l.to_string())));
            }
            Tab::Verdict => head = super::verdict::lines(review, identity, theme),
        }
    }
    DetailLines {
        head,
        body: body_lines,
        theme,
        skip: review.hscroll,
    }
}
