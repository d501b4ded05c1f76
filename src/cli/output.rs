//! How the CLI prints: text, JSON or YAML, with colour only for a terminal that wants it.
//! Text reaches the terminal only through [`Output::terminal_text`], which shows every
//! control character as an escape; tollgate's own colours are marked with a per-process
//! nonce that text from a repository cannot know, and only those become escape codes.

use std::io::{IsTerminal, Write};
use std::path::Path;

use serde::Serialize;

use crate::manifest::textdiff::{DiffLine, LineTag};

/// What the CLI prints: `--output` (`--json` is `--output json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// The same data as JSON, as YAML (for `yq`).
    Yaml,
}

pub struct Output {
    /// Whether the data is printed (as JSON or YAML) rather than text for people.
    pub json: bool,
    /// With `json`: YAML rather than JSON.
    pub yaml: bool,
    /// When colour is on: what starts a colour mark (a private-use character and a
    /// random nonce), so that only marks made by [`Output::paint`] become escape codes.
    color_mark: Option<String>,
}

/// What ends a colour mark's code.
const MARK_END: char = '\u{e001}';

#[derive(Clone, Copy)]
pub enum Style {
    Added,
    Removed,
    AddedEmphasis,
    RemovedEmphasis,
    Hunk,
    Bold,
    Dim,
    Warn,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Added => "32",
            Style::Removed => "31",
            Style::AddedEmphasis => "1;30;42",
            Style::RemovedEmphasis => "1;30;41",
            Style::Hunk => "36",
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Warn => "33",
        }
    }
}

impl Output {
    pub fn new(format: Format, no_color: bool) -> Output {
        let color = !no_color
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stdout().is_terminal();
        Output {
            json: format != Format::Text,
            yaml: format == Format::Yaml,
            color_mark: color.then(|| {
                use std::hash::{BuildHasher, Hasher};
                // Seeded from the OS's randomness, per process.
                let nonce = std::collections::hash_map::RandomState::new()
                    .build_hasher()
                    .finish();
                format!("\u{e000}{nonce:016x}")
            }),
        }
    }

    pub fn paint(&self, style: Style, text: &str) -> String {
        match &self.color_mark {
            Some(mark) if !text.is_empty() => {
                format!("{mark}{}{MARK_END}{text}{mark}0{MARK_END}", style.code())
            }
            _ => text.to_string(),
        }
    }

    /// `text` as it may be written to a terminal: control characters shown as escapes
    /// (see [`crate::text::printable`]), then this process's colour marks turned into
    /// escape codes.
    pub fn terminal_text(&self, text: &str) -> String {
        let safe = crate::text::printable(text);
        let Some(mark) = &self.color_mark else {
            return safe.into_owned();
        };
        let mut out = String::with_capacity(safe.len());
        let mut rest: &str = &safe;
        while let Some(at) = rest.find(mark.as_str()) {
            out.push_str(&rest[..at]);
            let after = &rest[at + mark.len()..];
            match after.split_once(MARK_END) {
                Some((code, tail)) if code.bytes().all(|b| b.is_ascii_digit() || b == b';') => {
                    out.push_str(&format!("\x1b[{code}m"));
                    rest = tail;
                }
                _ => {
                    out.push_str(mark);
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The data, as JSON (or YAML with `--output yaml`).
    pub fn print_json(&self, value: &impl Serialize) -> anyhow::Result<()> {
        // Stdout flushes at every line, and pretty JSON is mostly short lines: one
        // buffer makes a diff of 2,000 lines a handful of writes rather than 2,000.
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        if self.yaml {
            stdout.write_all(serde_saphyr::to_string(value)?.as_bytes())?;
            stdout.flush()?;
            return Ok(());
        }
        serde_json::to_writer_pretty(&mut stdout, value)?;
        writeln!(stdout)?;
        stdout.flush()?;
        Ok(())
    }

    pub fn print(&self, text: &str) -> anyhow::Result<()> {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(self.terminal_text(text).as_bytes())?;
        stdout.flush()?;
        Ok(())
    }

    pub fn error(&self, err: &anyhow::Error) {
        let message = format!("{err:#}");
        if self.yaml {
            let body = serde_json::json!({ "error": message });
            let text = serde_saphyr::to_string(&body).unwrap_or_else(|_| body.to_string());
            to_stderr(text.trim_end());
        } else if self.json {
            let body = serde_json::json!({ "error": message });
            to_stderr(&body.to_string());
        } else {
            to_stderr(&format!("tollgate: {}", crate::text::printable(&message)));
        }
    }

    pub fn demo_created(&self, config: &Path) -> anyhow::Result<()> {
        if self.json {
            return self.print_json(&serde_json::json!({ "config": config }));
        }
        self.print(&format!(
            "demo workspace written; try:\n  tollgate --config {} list\n\n\
             The demo people sign with the keys in {}/keys (listed in each repo's\n\
             .tollgate/allowed_signers); TOLLGATE_IDENTITY=\"Carol SRE <carol@example.com>\" signs as Carol.\n\
             To sign as yourself: put `signing_key: ~/.ssh/id_ed25519.pub` in the config (its\n\
             private half in ssh-agent), and list your key in .tollgate/allowed_signers:\n  \
             you@example.com ssh-ed25519 AAAA...\n",
            config.display(),
            config.parent().unwrap_or(config).display()
        ))
    }

    /// A unified diff, indented by `indent`, with word-level emphasis when colour is on.
    pub fn diff_lines(&self, lines: &[DiffLine], indent: &str) -> String {
        let mut out = String::new();
        for line in lines {
            let (sign, base, emphasis) = match line.tag {
                LineTag::NoNewline => {
                    out.push_str(&format!(
                        "{indent}{}\n",
                        self.paint(Style::Dim, &line.text())
                    ));
                    continue;
                }
                LineTag::Hunk => {
                    out.push_str(&format!(
                        "{indent}{}\n",
                        self.paint(Style::Hunk, &line.text())
                    ));
                    continue;
                }
                LineTag::Context => (" ", None, None),
                LineTag::Added => ("+", Some(Style::Added), Some(Style::AddedEmphasis)),
                LineTag::Removed => ("-", Some(Style::Removed), Some(Style::RemovedEmphasis)),
            };
            out.push_str(indent);
            match base {
                None => out.push_str(&format!("{sign}{}", line.text())),
                Some(style) => {
                    out.push_str(&self.paint(style, sign));
                    for segment in &line.segments {
                        let style = match (segment.emphasized, emphasis) {
                            (true, Some(e)) => e,
                            _ => style,
                        };
                        out.push_str(&self.paint(style, &segment.text));
                    }
                }
            }
            out.push('\n');
        }
        out
    }
}

/// Write a line to stderr. A closed or broken stderr (`2>&-`) loses the line rather than
/// panicking: the exit code still says how it went.
pub fn to_stderr(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

/// `3h`, `2d`, `5w` since `seconds`.
pub fn age(seconds: i64) -> String {
    crate::text::age(crate::text::now(), seconds)
}

/// Pad or cut `text` to `width` terminal columns.
pub fn cell(text: &str, width: usize) -> String {
    let text = crate::text::fit(text, width);
    let pad = width.saturating_sub(crate::text::display_width(&text));
    format!("{text}{}", " ".repeat(pad))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn colored() -> Output {
        Output {
            json: false,
            yaml: false,
            color_mark: Some("\u{e000}00000000deadbeef".into()),
        }
    }

    #[test]
    fn only_tollgates_own_colours_become_escape_codes() {
        let out = colored();
        let subject = "\u{1b}[8mhidden\u{1b}]0;title\u{7} \u{e000}0000000000000000 31\u{e001}x";
        let text = format!("{} {subject}", out.paint(Style::Added, "+"));
        assert_eq!(
            out.terminal_text(&text),
            "\u{1b}[32m+\u{1b}[0m \\e[8mhidden\\e]0;title\\x07 \u{e000}0000000000000000 31\u{e001}x"
        );
    }

    #[test]
    fn without_colour_nothing_becomes_an_escape_code() {
        let out = Output::new(Format::Text, true);
        let text = format!("{} \u{1b}[2J", out.paint(Style::Bold, "id"));
        assert_eq!(out.terminal_text(&text), "id \\e[2J");
    }
}
