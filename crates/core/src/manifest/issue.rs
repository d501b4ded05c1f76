//! A problem with one document or file of a render, said with where it is; the rest of
//! the render is still read.

use serde::{Deserialize, Serialize};

/// Something wrong with one document or file; the rest still parses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ManifestIssue {
    pub file: String,
    /// 1-based; 0 when the problem is with the whole file.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ManifestIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// The parser's message without its own `error: line N column M:` prefix, which counts
/// lines from the start of the document rather than the file.
pub(super) fn bare_message(message: &str) -> &str {
    let first = message.lines().next().unwrap_or(message).trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    match first.strip_prefix("line ") {
        Some(rest) => match rest.split_once(": ") {
            Some((position, text)) if position.contains("column") => text,
            _ => first,
        },
        None => first,
    }
}
