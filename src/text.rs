//! Small text helpers shared by the CLI and the TUI: cutting to a width, ages, and errors
//! with their causes.

/// Cut `text` to `width` characters, with an ellipsis when something was cut.
pub fn fit(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        text.to_string()
    } else if width == 0 {
        String::new()
    } else {
        let mut cut: String = text.chars().take(width - 1).collect();
        cut.push('…');
        cut
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_and_ages() {
        assert_eq!(fit("promotion", 5), "prom…");
        assert_eq!(fit("api", 5), "api");
        assert_eq!(age(10_000, 10_000 - 7200), "2h");
        assert_eq!(age(0, 100), "0m");
    }
}
