//! A YAML stream cut into its documents by a line scan, before any parsing: each document
//! is then parsed (or kept as text) on its own, and a reader that wants one kind of object
//! can look at each document's text first.

/// One YAML document's text and the 1-based line it starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Document<'a> {
    pub text: &'a str,
    pub line: usize,
}

/// Split a YAML stream into its documents. A line that starts with `---` (followed by
/// nothing, a space or a tab) starts a document and a `...` line ends one; YAML forbids
/// both at column 0 inside any content, so a line scan is exact.
pub fn split_documents(text: &str) -> Vec<Document<'_>> {
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1usize;
    // Only lines that start with `---` or `...` can be markers: find those (the text of
    // a large render is mostly other lines), counting lines on the way.
    let bytes = text.as_bytes();
    let mut marks: Vec<usize> = memchr::memmem::find_iter(bytes, b"\n---")
        .chain(memchr::memmem::find_iter(bytes, b"\n..."))
        .map(|at| at + 1)
        .collect();
    if bytes.starts_with(b"---") || bytes.starts_with(b"...") {
        marks.push(0);
    }
    marks.sort_unstable();
    let (mut index, mut counted_to) = (0usize, 0usize);
    for offset in marks {
        index += memchr::memchr_iter(b'\n', &bytes[counted_to..offset]).count();
        counted_to = offset;
        let end = memchr::memchr(b'\n', &bytes[offset..]).map_or(text.len(), |e| offset + e + 1);
        let line = &text[offset..end];
        let bare = line.trim_end_matches(['\n', '\r']);
        let is_start = bare == "---" || bare.starts_with("--- ") || bare.starts_with("---\t");
        let is_end = bare == "..." || bare.starts_with("... ");
        if is_start || is_end {
            docs.push(Document {
                text: &text[start..offset],
                line: start_line,
            });
            if is_start && bare.len() > 3 {
                // `--- {inline: content}` carries the document's first content.
                start = offset + 4;
            } else {
                start = offset + line.len();
            }
            start_line = if is_start && bare.len() > 3 {
                index + 1
            } else {
                index + 2
            };
        }
    }
    docs.push(Document {
        text: &text[start..],
        line: start_line,
    });
    docs.retain(|d| !is_blank(d.text));
    for doc in &mut docs {
        // Point at the first line with content, not at a leading comment.
        doc.line += doc
            .text
            .lines()
            .take_while(|l| {
                let t = l.trim_start();
                t.is_empty() || t.starts_with('#')
            })
            .count();
    }
    docs
}

/// Only whitespace, comments and directives: nothing to parse.
fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim_start();
        t.is_empty() || t.starts_with('#') || t.starts_with('%')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_on_markers_with_their_lines() {
        let text = "---\na: 1\n---\n# only a comment\n---\nb: 2\n...\n---\nc: 3\n";
        let docs = split_documents(text);
        assert_eq!(docs.len(), 3);
        assert_eq!((docs[0].text, docs[0].line), ("a: 1\n", 2));
        assert_eq!((docs[1].text, docs[1].line), ("b: 2\n", 6));
        assert_eq!((docs[2].text, docs[2].line), ("c: 3\n", 9));
    }

    #[test]
    fn marker_followed_by_content_keeps_the_content() {
        let docs = split_documents("--- {a: 1}\n");
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].text, "{a: 1}\n");
    }

    #[test]
    fn markers_mid_text_with_crlf_and_look_alikes() {
        let text =
            "a: 1\r\n---\r\nb: 2\r\n---x: not a marker\r\n  --- indented\r\n...\r\n--- c: 3\n";
        let docs = split_documents(text);
        let found: Vec<(&str, usize)> = docs.iter().map(|d| (d.text, d.line)).collect();
        assert_eq!(
            found,
            [
                ("a: 1\r\n", 1),
                ("b: 2\r\n---x: not a marker\r\n  --- indented\r\n", 3),
                ("c: 3\n", 7)
            ]
        );
    }
}
