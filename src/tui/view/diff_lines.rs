//! A line diff drawn unified (`-`/`+` lines) or side by side (old left, new right, changed
//! lines paired up), with the changed words emphasised.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::manifest::textdiff::{DiffLine, LineTag, Row};
use crate::tui::theme::Theme;

/// The diff pane must be at least this wide for side by side to be readable: what a
/// 120-column terminal leaves beside the object list.
pub const SIDE_BY_SIDE_MIN_WIDTH: u16 = 80;

fn styles(theme: Theme, tag: LineTag) -> (&'static str, Style, Style) {
    match tag {
        LineTag::Hunk | LineTag::Context | LineTag::NoNewline => (" ", theme.dim(), theme.dim()),
        LineTag::Added => ("+", theme.added(), theme.added_emphasis()),
        LineTag::Removed => ("-", theme.removed(), theme.removed_emphasis()),
    }
}

/// The spans of one diff line, after its sign: its first `skip` characters left out
/// (scrolled sideways), then cut to `width` characters when given.
fn spans(line: &DiffLine, theme: Theme, width: Option<usize>, skip: usize) -> Vec<Span<'static>> {
    let (_, base, emphasis) = styles(theme, line.tag);
    let mut left = width.unwrap_or(usize::MAX);
    let mut skip = skip;
    let mut out = Vec::new();
    for segment in &line.segments {
        if left == 0 {
            break;
        }
        let length = segment.text.chars().count();
        if skip >= length {
            skip -= length;
            continue;
        }
        let text: String = segment.text.chars().skip(skip).take(left).collect();
        skip = 0;
        left -= text.chars().count();
        out.push(Span::styled(
            text,
            if segment.emphasized { emphasis } else { base },
        ));
    }
    out
}

/// One line of a unified diff: its sign, then its text from column `skip` on.
pub fn unified_line(line: &DiffLine, theme: Theme, skip: usize) -> Line<'static> {
    if line.tag == LineTag::Hunk {
        return Line::from(Span::styled(line.text(), theme.hunk()));
    }
    let (sign, base, _) = styles(theme, line.tag);
    let mut all = vec![Span::styled(sign, base)];
    all.extend(spans(line, theme, None, skip));
    Line::from(all)
}

pub fn unified(lines: &[DiffLine], theme: Theme) -> Vec<Line<'static>> {
    lines
        .iter()
        .map(|line| unified_line(line, theme, 0))
        .collect()
}

/// One side-by-side row, each side `half` columns wide and scrolled by `skip`.
pub fn side_by_side_line(
    lines: &[DiffLine],
    row: Row,
    theme: Theme,
    half: usize,
    skip: usize,
) -> Line<'static> {
    let cell = |line: Option<&DiffLine>| -> Vec<Span<'static>> {
        let Some(line) = line else {
            return vec![Span::raw(" ".repeat(half))];
        };
        if line.tag == LineTag::Hunk {
            let text: String = line.text().chars().take(half).collect();
            let pad = half - text.chars().count();
            return vec![Span::styled(text, theme.hunk()), Span::raw(" ".repeat(pad))];
        }
        let (sign, base, _) = styles(theme, line.tag);
        let mut out = vec![Span::styled(sign, base)];
        let body = spans(line, theme, Some(half.saturating_sub(1)), skip);
        let used: usize = 1 + body
            .iter()
            .map(|s| s.content.chars().count())
            .sum::<usize>();
        out.extend(body);
        out.push(Span::raw(" ".repeat(half.saturating_sub(used))));
        out
    };
    let mut all = cell(row.0.and_then(|i| lines.get(i)));
    all.push(Span::styled("│", theme.dim()));
    all.extend(cell(row.1.and_then(|i| lines.get(i))));
    Line::from(all)
}

/// Old on the left, new on the right, each `half` columns wide.
#[cfg(test)]
fn side_by_side(lines: &[DiffLine], theme: Theme, half: usize) -> Vec<Line<'static>> {
    crate::manifest::textdiff::side_by_side_rows(lines)
        .into_iter()
        .map(|row| side_by_side_line(lines, row, theme, half, 0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::textdiff::unified as diff;

    #[test]
    fn changed_lines_pair_up_side_by_side() {
        let lines = diff("a\nb\nc\n", "a\nB\nc\nd\n", 3);
        let rows = side_by_side(&lines, Theme { color: false }, 6);
        let text: Vec<String> = rows.iter().map(|l| l.to_string()).collect();
        assert_eq!(
            text,
            [
                "@@ -1,│@@ -1,",
                " a    │ a    ",
                "-b    │+B    ",
                " c    │ c    ",
                "      │+d    ",
            ]
        );
    }
}
