//! How the CLI prints: JSON or text, with colour only for a terminal that wants it.

use std::io::{IsTerminal, Write};
use std::path::Path;

use serde::Serialize;

use crate::manifest::textdiff::{DiffLine, LineTag};

pub struct Output {
    pub json: bool,
    color: bool,
}

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
    pub fn new(json: bool, no_color: bool) -> Output {
        let color = !no_color
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stdout().is_terminal();
        Output { json, color }
    }

    pub fn paint(&self, style: Style, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("\x1b[{}m{text}\x1b[0m", style.code())
        } else {
            text.to_string()
        }
    }

    pub fn print_json(&self, value: &impl Serialize) -> anyhow::Result<()> {
        // Stdout flushes at every line, and pretty JSON is mostly short lines: one
        // buffer makes a diff of 2,000 lines a handful of writes rather than 2,000.
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        serde_json::to_writer_pretty(&mut stdout, value)?;
        writeln!(stdout)?;
        stdout.flush()?;
        Ok(())
    }

    pub fn print(&self, text: &str) -> anyhow::Result<()> {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(text.as_bytes())?;
        stdout.flush()?;
        Ok(())
    }

    pub fn error(&self, err: &anyhow::Error) {
        let message = format!("{err:#}");
        if self.json {
            let body = serde_json::json!({ "error": message });
            eprintln!("{body}");
        } else {
            eprintln!("tollgate: {message}");
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

/// `3h`, `2d`, `5w` since `seconds`.
pub fn age(seconds: i64) -> String {
    crate::text::age(crate::text::now(), seconds)
}

/// Pad or cut `text` to `width` characters.
pub fn cell(text: &str, width: usize) -> String {
    let text = crate::text::fit(text, width);
    let pad = width - text.chars().count();
    format!("{text}{}", " ".repeat(pad))
}
