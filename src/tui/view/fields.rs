//! A field change as lines that fit the diff pane: `path: old → new` when it fits on one
//! line; otherwise the path, then `- old` and `+ new`, each wrapped to the pane; a
//! multi-line string (a ConfigMap's data, a script) as a small line diff of its own, so
//! that nothing of either value is cut off.

use ratatui::text::{Line, Span};
use serde_json::Value;

use super::diff_lines;
use crate::manifest::FieldChange;
use crate::manifest::textdiff::unified;
use crate::text::display_width;
use crate::tui::theme::Theme;

fn shown(value: &Option<Value>) -> String {
    match value {
        None => "(absent)".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn multi_line(value: &Option<Value>) -> bool {
    matches!(value, Some(Value::String(s)) if s.contains('\n'))
}

/// The lines of `field` in a pane `width` columns wide.
pub fn lines(field: &FieldChange, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let path = Span::styled(format!("{}: ", field.path), theme.bold());
    if let Some(moved) = field.moved {
        return vec![Line::from(vec![
            path,
            Span::styled(moved.to_string(), theme.renamed()),
        ])];
    }
    if multi_line(&field.old) || multi_line(&field.new) {
        let text = |v: &Option<Value>| match v {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        let mut out = vec![Line::from(path)];
        for line in diff_lines::unified(&unified(&text(&field.old), &text(&field.new), 1), theme) {
            let mut spans = vec![Span::raw("  ")];
            spans.extend(line.spans);
            out.push(Line::from(spans));
        }
        return out;
    }
    let (old, new) = (shown(&field.old), shown(&field.new));
    let one_line = format!("{}: {old} → {new}", field.path);
    if display_width(&one_line) <= width {
        return vec![Line::from(vec![
            path,
            Span::styled(old, theme.removed()),
            Span::raw(" → "),
            Span::styled(new, theme.added()),
        ])];
    }
    let mut out = vec![Line::from(path)];
    for (sign, value, style) in [("- ", old, theme.removed()), ("+ ", new, theme.added())] {
        for (i, piece) in wrap(&value, width.saturating_sub(4).max(8))
            .into_iter()
            .enumerate()
        {
            let lead = if i == 0 { sign } else { "  " };
            out.push(Line::from(vec![
                Span::raw("  "),
                Span::styled(format!("{lead}{piece}"), style),
            ]));
        }
    }
    out
}

/// `text` cut into pieces of at most `width` columns.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut pieces = vec![String::new()];
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > width {
            pieces.push(String::new());
            used = 0;
        }
        pieces.last_mut().expect("never empty").push(c);
        used += w;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn a_change_that_fits_is_one_line() {
        let field = FieldChange::value("spec.replicas", Some(2.into()), Some(5.into()));
        assert_eq!(
            text(&lines(&field, 80, Theme { color: false })),
            ["spec.replicas: 2 → 5"]
        );
    }

    #[test]
    fn long_values_wrap_and_nothing_is_cut() {
        let field = FieldChange::value(
            "spec.template.spec.containers[name=api].image",
            Some("ghcr.io/acme/api:1.4.2".into()),
            Some("ghcr.io/acme/api:1.5.0-rc.1-with-a-very-long-suffix".into()),
        );
        let shown = text(&lines(&field, 30, Theme { color: false }));
        assert_eq!(shown[0], "spec.template.spec.containers[name=api].image: ");
        let joined = shown[1..].join("");
        assert!(joined.contains("ghcr.io/acme/api:1.4.2"), "{shown:?}");
        assert!(
            shown
                .iter()
                .all(|l| display_width(l) <= 30 || l == &shown[0]),
            "{shown:?}"
        );
        let new: String = shown[2..]
            .iter()
            .map(|l| l.trim_start_matches("  ").trim_start_matches("+ "))
            .collect();
        assert_eq!(new, "ghcr.io/acme/api:1.5.0-rc.1-with-a-very-long-suffix");
    }

    #[test]
    fn a_multi_line_value_is_a_small_diff() {
        let field = FieldChange::value(
            "data[\"app.properties\"]",
            Some("a=1\nb=2\nc=3\n".into()),
            Some("a=1\nb=20\nc=3\n".into()),
        );
        let shown = text(&lines(&field, 80, Theme { color: false }));
        assert!(shown.contains(&"  -b=2".to_string()), "{shown:?}");
        assert!(shown.contains(&"  +b=20".to_string()), "{shown:?}");
    }
}
