//! Small text helpers shared by the CLI and the TUI: cutting to a width, ages, errors
//! with their causes, and switches set in the environment.

/// A commit id as people read it: its first 10 characters.
pub fn short(sha: &str) -> &str {
    sha.get(..10).unwrap_or(sha)
}

/// How many terminal columns `text` takes (a CJK character takes two).
pub fn display_width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// Cut `text` to `width` terminal columns, with an ellipsis when something was cut.
pub fn fit(text: &str, width: usize) -> String {
    if display_width(text) <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut cut = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        used += w;
        cut.push(c);
    }
    cut.push('…');
    cut
}

/// `text` safe to write to a terminal: every control character that could move the
/// cursor, recolour, retitle, clear, hyperlink or reorder what follows (C0 but newline
/// and tab, DEL, C1, and the bidirectional overrides) is shown as an escape (`\e`,
/// `\x07`, `\u{202e}`) instead of being obeyed. Commit subjects, names, titles and
/// manifest values are written by whoever can push.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\u{1b}' => out.push_str("\\e"),
            '\r' => out.push_str("\\r"),
            c if unsafe_char(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `3h`, `2d`, `5w`: how long before `now` the time `then` was.
pub fn age(now: i64, then: i64) -> String {
    let delta = (now - then).max(0);
    match delta {
        d if d < 3600 => format!("{}m", d / 60),
        d if d < 86_400 => format!("{}h", d / 3600),
        d if d < 14 * 86_400 => format!("{}d", d / 86_400),
        d => format!("{}w", d / (7 * 86_400)),
    }
}

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// An error and what caused it, `: `-joined ("Transport handshake failed" alone does not
/// say that the server refused the token).
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Whether the environment variable `name` turns something off (`0`, `off`, `false`,
/// `no`); unset or anything else leaves it on.
pub fn switched_off(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "0" | "off" | "false" | "no"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_take_two_columns() {
        assert_eq!(display_width("発表 api"), 8);
        assert_eq!(fit("発表発表", 5), "発表…");
        assert_eq!(display_width(&fit("発表発表", 5)), 5);
    }

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(
            printable("plain, tab\tand\nnewline"),
            "plain, tab\tand\nnewline"
        );
        assert_eq!(
            printable("\u{1b}[31mred\u{1b}]8;;http://x\u{7}\r\u{9b}2J\u{202e}cba"),
            "\\e[31mred\\e]8;;http://x\\x07\\r\\x9b2J\\u{202e}cba"
        );
    }

    #[test]
    fn cutting_and_ages() {
        assert_eq!(fit("promotion", 5), "prom…");
        assert_eq!(fit("api", 5), "api");
        assert_eq!(age(10_000, 10_000 - 7200), "2h");
        assert_eq!(age(0, 100), "0m");
    }
}
