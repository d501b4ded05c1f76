//! The field changes between two versions of one YAML document, parsing only the parts
//! whose text differs.
//!
//! Documents usually change in a few lines (a CRD of a megabyte, an image tag in a
//! Deployment), most of a render's documents do not change at all, and parsing YAML is
//! most of a diff's time. A block mapping's entries can be cut out of its
//! text by indentation alone: an entry starts at a line holding `key:` at the mapping's
//! column and runs until the next such line. Two entries with the same text have the
//! same value, so only entries whose text differs are looked into, down to the smallest
//! differing pieces, which the YAML parser then reads on their own. The changes come out
//! exactly as [`super::fields`]' comparison of the whole parsed values gives them, in the
//! same order (tested on every corpus pair). The summary's container images are read
//! the same way, from each container's `name` and `image` alone.
//!
//! Only plain block YAML is cut this way: a document with anchors, aliases, tags,
//! directives or tabs in its indentation, a key that is not a plain word (quoted,
//! complex, a number, a boolean) or written twice, a quoted scalar that runs on over a
//! line not further in than its key, or any piece that does not parse on its own, makes
//! the comparison give up (`None`) and the caller parses whole values. Those features are
//! looked for only where a node can start: the text of a scalar (a description's
//! `* bullet`, a CEL rule's `!has(…)`, a `` `code` `` line) is text.

use std::ops::Range;

use serde_json::Value;

use super::fields::{FieldChange, field_changes, key_value, push_key};
use super::list_keys::{self, Pairing, Side, Step};

/// Whether a document may be cut into entries at all: none of the YAML features that let
/// one part's meaning depend on another's text.
pub fn is_plain_block_yaml(text: &str) -> bool {
    Indexed::new(text).is_some()
}

/// Whether a line's content (from `indent`, past any sequence dashes) starts with a tab,
/// a complex key, a directive or a reserved character.
fn starts_plainly(line: &[u8], indent: usize) -> bool {
    let mut at = indent;
    while line.get(at) == Some(&b'-') && line.get(at + 1) == Some(&b' ') {
        at += 2;
        while line.get(at) == Some(&b' ') {
            at += 1;
        }
    }
    !matches!(line.get(at), Some(b'\t' | b'?' | b'%' | b'@' | b'`' | b'<'))
}

/// Whether `bytes` have an anchor, an alias or a tag: a `&`, `*` or `!` where a node may
/// start (at a line's content, after `: `, `- `, `[`, `{` or `,`). Those bytes are rare
/// in manifests, so only they are looked at; text that merely looks like one (a `*` after
/// a comma in a description) only makes the document be parsed whole.
fn has_node_properties(bytes: &[u8]) -> bool {
    memchr::memchr3_iter(b'&', b'*', b'!', bytes).any(|at| {
        let before = bytes[..at]
            .iter()
            .rposition(|b| *b != b' ')
            .map(|i| (i, bytes[i]));
        match before {
            None | Some((_, b'\n' | b'[' | b'{' | b',')) => true,
            Some((i, b':')) => i + 1 < at,
            Some((i, b'-')) => i + 1 < at && (i == 0 || matches!(bytes[i - 1], b' ' | b'\n')),
            _ => false,
        }
    })
}

/// A line where a node may start, read as far as the checks below need: its content past
/// any sequence dashes and, for a mapping entry with a plain key, what follows `key:`.
struct LineStart<'a> {
    /// The column of its last sequence dash, or of its content where there is none.
    column: usize,
    /// The column of its content.
    at: usize,
    /// Its content, without the line break and trailing spaces.
    content: &'a [u8],
    /// What follows `key:` (leading spaces dropped), for a mapping entry.
    value: Option<&'a [u8]>,
}

impl<'a> LineStart<'a> {
    fn of(line: &'a [u8], indent: usize) -> LineStart<'a> {
        let (mut column, mut at) = (indent, indent);
        while line.get(at) == Some(&b'-')
            && matches!(line.get(at + 1), None | Some(b' ' | b'\n' | b'\r'))
        {
            column = at;
            at += 1;
            while line.get(at) == Some(&b' ') {
                at += 1;
            }
        }
        let rest = line.get(at..).unwrap_or_default();
        let content = &rest[..rest
            .iter()
            .rposition(|b| !matches!(b, b'\n' | b'\r' | b' '))
            .map_or(0, |last| last + 1)];
        // A plain key ends at the first `: ` (or a final `:`); a ` #` first starts a
        // comment. A quoted key is not looked for: such a line is checked whole.
        let value = match content.first() {
            Some(b'"' | b'\'') | None => None,
            Some(_) => memchr::memchr_iter(b':', content)
                .find(|&i| matches!(content.get(i + 1), None | Some(b' ')))
                .filter(|&i| !starts_comment(&content[..i]))
                .map(|i| content[i + 1..].trim_ascii_start()),
        };
        LineStart {
            column,
            at,
            content,
            value,
        }
    }

    /// Whether an anchor, an alias or a tag may start here: at the content, at the value,
    /// or inside a flow collection. Elsewhere `&`, `*` and `!` are a plain scalar's text
    /// (`rule: self.all(k, !k.contains("*"))`).
    fn has_node_properties(&self) -> bool {
        let property = |b: &[u8]| matches!(b.first(), Some(b'&' | b'*' | b'!'));
        let flow = |b: &[u8]| matches!(b.first(), Some(b'[' | b'{'));
        if matches!(self.content.first(), Some(b'"' | b'\'')) {
            return has_node_properties(self.content);
        }
        property(self.content)
            || match self.value {
                Some(value) => property(value) || (flow(value) && has_node_properties(value)),
                None => flow(self.content) && has_node_properties(self.content),
            }
    }

    /// The column past which the lines below are the text of a scalar that starts here
    /// (a plain or quoted value running on, a block scalar's content), if one does: after
    /// `key:` the key's column, after a dash the dash's. `None` where what follows is
    /// structure: a value left empty (a nested block), a flow collection, a node property
    /// (refused anyway), a quoted key or scalar item (read as structure, to be safe).
    fn scalar_text_past(&self) -> Option<usize> {
        let structure = |b: &[u8]| {
            matches!(
                b.first(),
                None | Some(b'#' | b'[' | b'{' | b'&' | b'*' | b'!')
            )
        };
        match self.value {
            Some(value) => (!structure(value)).then_some(self.at),
            None if matches!(self.content.first(), Some(b'"' | b'\'')) => None,
            None => (!structure(self.content)).then_some(self.column),
        }
    }
}

/// Whether `text` has a ` #`, which starts a comment. (`memmem` would build a searcher
/// for each of a document's lines; a `#` is rare.)
fn starts_comment(text: &[u8]) -> bool {
    memchr::memchr_iter(b'#', text).any(|at| at > 0 && text[at - 1] == b' ')
}

/// The quote (`"` or `'`) of a quoted scalar that `content` opens and does not close: one
/// that starts the content, a key's value or a flow entry. A quote inside plain text
/// (`it's`) opens nothing, and a comment ends the line.
fn quote_left_open(content: &[u8]) -> Option<u8> {
    memchr::memchr2(b'"', b'\'', content)?;
    let mut at = 0;
    let mut scalar_may_start = true;
    while at < content.len() {
        let b = content[at];
        if scalar_may_start && matches!(b, b'"' | b'\'') {
            match closing_quote(&content[at + 1..], b) {
                Some(end) => at += 1 + end,
                None => return Some(b),
            }
            scalar_may_start = false;
        } else if b == b'#' && (at == 0 || content[at - 1] == b' ') {
            return None;
        } else if b != b' ' {
            // After `: `, `- `, `[`, `{` or `,` a scalar may start.
            scalar_may_start = matches!(b, b'[' | b'{' | b',')
                || (matches!(b, b':' | b'-') && matches!(content.get(at + 1), None | Some(b' ')));
        }
        at += 1;
    }
    None
}

/// Where the quoted scalar whose opening `quote` came before `text` closes in it: a `"`
/// not escaped by a backslash, a `'` not doubled.
fn closing_quote(text: &[u8], quote: u8) -> Option<usize> {
    let mut at = 0;
    while at < text.len() {
        match text[at] {
            b'\\' if quote == b'"' => at += 1,
            b'\'' if quote == b'\'' && text.get(at + 1) == Some(&b'\'') => at += 1,
            b if b == quote => return Some(at),
            _ => {}
        }
        at += 1;
    }
    None
}

fn is_sequence_item(content: &str) -> bool {
    let content = content.trim_end();
    content == "-" || content.starts_with("- ")
}

/// A key that parses to exactly the string it is written as.
fn plain_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    let Some(first) = bytes.next() else {
        return false;
    };
    let special = ["true", "false", "null", "yes", "no", "on", "off", "y", "n"]
        .iter()
        .any(|word| key.eq_ignore_ascii_case(word));
    (first.is_ascii_alphabetic() || first == b'_' || first == b'$')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b'$'))
        && !special
}

/// Whether a value that opens a flow collection also closes it on its line: otherwise its
/// continuation lines need not be indented, and the cut would be wrong. (A quoted scalar
/// left open is known to run on only over lines further in: [`Indexed::within`] refuses
/// a document where it does not.)
fn closes_on_its_line(inline: &str) -> bool {
    match inline.as_bytes().first() {
        Some(b'[' | b'{') => {
            // Brackets inside quoted strings may miscount; that only gives up.
            let depth = inline.bytes().fold(0i32, |depth, b| match b {
                b'[' | b'{' => depth + 1,
                b']' | b'}' => depth - 1,
                _ => depth,
            });
            depth == 0
        }
        _ => true,
    }
}

/// The variable that turns the fast path off (`TOLLGATE_FAST_YAML=off`): every
/// document then goes through the whole parse. For a diff that looks wrong: if it
/// changes with the fast path off, that is a bug in this module.
pub const FAST_YAML_ENV: &str = "TOLLGATE_FAST_YAML";

/// Whether documents may be cut (see [`FAST_YAML_ENV`]); read once.
pub fn fast_path_enabled() -> bool {
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ENABLED.get_or_init(|| !crate::text::switched_off(FAST_YAML_ENV))
}

/// Parse a piece of YAML on its own, as it reads `nesting` collections deep in its
/// document (so that nesting a promotion adds inside it meets the depth limit as the
/// whole document's parse would).
fn parse(text: &str, nesting: usize) -> Option<Value> {
    super::parse::parse_nested(text, nesting).ok()
}

/// A document's text and its lines, indexed once when it is read: a diff cuts the same
/// text once per level it descends, and each cut only looks at where lines start, how far
/// in they are, and where the value they begin ends.
#[derive(Debug)]
pub struct Indexed {
    /// The file the document is part of, shared by its documents.
    file: std::sync::Arc<String>,
    range: Range<usize>,
    lines: Vec<Line>,
    /// The collections the document sits in (two for an item of a `*List`).
    nesting: usize,
}

#[derive(Debug, Clone, Copy)]
struct Line {
    start: u32,
    /// The first line after this one that is not blank and sits at or left of this one's
    /// indentation; for a blank line, the first line after it that is not blank. A cut
    /// jumps over an entry's value in one step instead of reading every line of it.
    next: u32,
    indent: u16,
    /// Blank or only a comment.
    empty: bool,
}

impl Indexed {
    /// The index of `text`, when it is plain block YAML of at most 4 GiB.
    pub fn new(text: &str) -> Option<Indexed> {
        Indexed::within(&std::sync::Arc::new(text.to_string()), 0..text.len())
    }

    /// The index of the document at `range` of `file`.
    pub fn within(file: &std::sync::Arc<String>, range: Range<usize>) -> Option<Indexed> {
        if !fast_path_enabled() {
            return None;
        }
        let text = file.get(range.clone())?;
        u32::try_from(text.len()).ok()?;
        let mut lines = Vec::with_capacity(memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1);
        let mut start = 0;
        // Lines further in than this column are the text of a scalar begun above them.
        let mut scalar_text_past: Option<usize> = None;
        // A quoted scalar left open, and the column its lines must stay right of.
        let mut open_quote: Option<(u8, usize)> = None;
        let all = text.as_bytes();
        while start < all.len() {
            let end = memchr::memchr(b'\n', &all[start..]).map_or(all.len(), |at| start + at + 1);
            let bytes = &all[start..end];
            let indent = leading_spaces(bytes);
            let blank = matches!(bytes.get(indent), None | Some(b'\n' | b'\r'));
            let empty = blank || bytes.get(indent) == Some(&b'#');
            if let Some((quote, column)) = open_quote
                && !blank
            {
                // A lenient parser may read a line further out as the quote's text or as
                // structure; the cut could not know which, so such a document is not cut.
                if indent <= column {
                    return None;
                }
                if let Some(end) = closing_quote(&bytes[indent..], quote) {
                    let after = bytes[indent + end + 1..].trim_ascii();
                    if !(after.is_empty() || after.starts_with(b"#")) {
                        return None;
                    }
                    open_quote = None;
                }
            }
            if let Some(column) = scalar_text_past
                && !blank
                && indent <= column
            {
                scalar_text_past = None;
            }
            // Only where a node can start is a character structure: in a scalar's text a
            // line may begin with `*`, `?` or a backtick, as descriptions and rules do.
            if scalar_text_past.is_none() && !empty {
                let start = LineStart::of(bytes, indent);
                if !starts_plainly(bytes, indent) || start.has_node_properties() {
                    return None;
                }
                scalar_text_past = start.scalar_text_past();
                open_quote = quote_left_open(start.content).map(|quote| (quote, start.at));
            }
            lines.push(Line {
                start: start as u32,
                next: 0,
                indent: u16::try_from(indent).ok()?,
                empty,
            });
            start = end;
        }
        link_next_lines(&mut lines);
        Some(Indexed {
            file: std::sync::Arc::clone(file),
            range,
            lines,
            nesting: 0,
        })
    }

    /// The same document, read as sitting `nesting` collections deep (a `*List`'s item
    /// in its list): its pieces meet the depth limit as they do there.
    pub fn nested(self, nesting: usize) -> Indexed {
        Indexed { nesting, ..self }
    }

    /// The same index over a copy of the document's own text, holding nothing else of
    /// the file it was read from.
    pub fn into_own(self) -> Indexed {
        if self.range == (0..self.file.len()) {
            return self;
        }
        let own = self.text().to_string();
        Indexed {
            range: 0..own.len(),
            file: std::sync::Arc::new(own),
            ..self
        }
    }

    /// The collections the document sits in.
    pub fn nesting(&self) -> usize {
        self.nesting
    }

    pub fn text(&self) -> &str {
        &self.file[self.range.clone()]
    }

    fn doc(&self) -> Doc<'_> {
        Doc {
            text: self.text(),
            lines: &self.lines,
            nesting: self.nesting,
        }
    }
}

/// How many spaces `line` starts with. Manifests are indented deeply (a CRD's schema is
/// twenty columns in), so the spaces are read a word at a time.
fn leading_spaces(line: &[u8]) -> usize {
    const SPACES: u64 = u64::from_ne_bytes([b' '; 8]);
    let mut words = line.chunks_exact(8);
    let mut at = 0;
    for word in words.by_ref() {
        let word = u64::from_le_bytes(word.try_into().expect("chunks of 8"));
        let other = word ^ SPACES;
        if other != 0 {
            return at + (other.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let rest = words.remainder();
    at + rest.iter().position(|b| *b != b' ').unwrap_or(rest.len())
}

/// Fill in each line's [`Line::next`], walking up from the last line with a stack of the
/// lines below that could still be someone's `next`: a line hides every line below it
/// that is further in, since any line above reaches it first.
fn link_next_lines(lines: &mut [Line]) {
    let end = lines.len() as u32;
    let mut waiting: Vec<(u16, u32)> = Vec::new();
    let mut next_not_blank = end;
    for index in (0..lines.len()).rev() {
        let line = &mut lines[index];
        if line.empty {
            line.next = next_not_blank;
            continue;
        }
        while waiting
            .last()
            .is_some_and(|(indent, _)| *indent > line.indent)
        {
            waiting.pop();
        }
        line.next = waiting.last().map_or(end, |(_, at)| *at);
        waiting.push((line.indent, index as u32));
        next_not_blank = index as u32;
    }
}

/// A borrowed [`Indexed`].
#[derive(Clone, Copy)]
struct Doc<'a> {
    text: &'a str,
    lines: &'a [Line],
    nesting: usize,
}

impl<'a> Doc<'a> {
    /// How far in line `index` starts.
    fn indent(&self, index: usize) -> usize {
        self.lines[index].indent as usize
    }

    /// Whether line `index` is blank or only a comment.
    fn empty(&self, index: usize) -> bool {
        self.lines[index].empty
    }

    /// The first line from `index` on, before `end`, that is not blank and sits at or
    /// left of `column` (`end` if none): where the value that `index` is part of ends.
    fn next_at_or_left_of(&self, mut index: usize, column: usize, end: usize) -> usize {
        while index < end && (self.empty(index) || self.indent(index) > column) {
            index = self.lines[index].next as usize;
        }
        index.min(end)
    }

    /// The text of lines `range`.
    fn text(&self, range: &Range<usize>) -> &'a str {
        let start = self
            .lines
            .get(range.start)
            .map_or(self.text.len(), |l| l.start as usize);
        let end = self
            .lines
            .get(range.end)
            .map_or(self.text.len(), |l| l.start as usize);
        &self.text[start..end.max(start)]
    }

    /// Line `index` from `column` on, without its line ending.
    fn content(&self, index: usize, column: usize) -> &'a str {
        let line = self.text(&(index..index + 1));
        line.get(column..).unwrap_or("").trim_end()
    }
}

/// One `key: value` of a block mapping.
#[derive(Debug, Clone)]
struct Entry<'a> {
    key: &'a str,
    /// What follows `key:` on its line, trimmed; empty when only a comment follows.
    inline: &'a str,
    /// The key line and every line of its value.
    text: &'a str,
    /// How many columns were cut from the key line (an item's first entry starts at its
    /// key, after the dash): the value's own indentation is relative to them.
    cut: usize,
    /// The value's lines after the key line.
    rest: Range<usize>,
    /// The depth of the mapping the entry is part of (the document's own is 1).
    depth: usize,
}

/// A piece of a document to cut: lines `lines`, keys at `column`; the first line's key
/// may sit further in than its indentation says (after a sequence item's dash). `depth`
/// is the depth its content has in the document when it is a collection (the document's
/// top mapping is at 1): the parser's depth limit counts from there.
#[derive(Debug, Clone)]
struct Piece {
    lines: Range<usize>,
    column: usize,
    depth: usize,
}

/// The entries of the block mapping `piece`; `None` when it is not plainly one.
fn mapping_entries<'a>(doc: &Doc<'a>, piece: &Piece) -> Option<Vec<Entry<'a>>> {
    /// An entry whose end is not known yet: first line, key, inline value.
    type Open<'a> = (usize, &'a str, &'a str);
    let close = |(first, key, inline): Open<'a>, end: usize| {
        let text = doc.text(&(first..end));
        // An item's first entry starts at its key, not at the item's dash.
        let skip = if first == piece.lines.start && doc.indent(first) < piece.column {
            piece.column
        } else {
            0
        };
        let skip = skip.min(text.len());
        Entry {
            key,
            inline,
            text: &text[skip..],
            cut: skip,
            rest: first + 1..end,
            depth: piece.depth,
        }
    };
    let mut entries: Vec<Entry<'a>> = Vec::new();
    let mut open: Option<Open<'a>> = None;
    let end = piece.lines.end;
    let mut next = piece.lines.start;
    while next < end {
        let index = next;
        let (line_indent, empty) = (doc.indent(index), doc.empty(index));
        // The first line of a sequence item: its key sits after the dash.
        let indent = if index == piece.lines.start {
            line_indent.max(piece.column)
        } else {
            line_indent
        };
        if empty {
            next = doc.next_at_or_left_of(index, usize::MAX, end);
            continue;
        }
        if indent > piece.column {
            // The open entry's value, all of it.
            open.as_ref()?;
            next = doc.next_at_or_left_of(index, piece.column, end);
            continue;
        }
        if indent < piece.column {
            return None;
        }
        next = doc.next_at_or_left_of(index + 1, piece.column, end);
        let content = doc.content(index, indent);
        if is_sequence_item(content) {
            // A sequence written at its key's column: the open entry's value.
            match &open {
                Some((_, _, "")) => continue,
                _ => return None,
            }
        }
        let (key, after) = content.split_once(':')?;
        if !plain_key(key) || !(after.is_empty() || after.starts_with(' ')) {
            return None;
        }
        let inline = after.trim();
        let inline = if inline.starts_with('#') { "" } else { inline };
        if !closes_on_its_line(inline) {
            return None;
        }
        if let Some(previous) = open.take() {
            entries.push(close(previous, index));
        }
        open = Some((index, key, inline));
    }
    if let Some(last) = open {
        entries.push(close(last, piece.lines.end));
    }
    // A key written twice is for the whole parse to judge.
    (!EntriesByKey::new(&entries).has_a_key_twice()).then_some(entries)
}

/// A mapping's entries found by key: by a scan when they are few, as they nearly always
/// are, and through a map when a mapping is large, so that a ConfigMap of 60,000 keys
/// does not make a diff compare each key with each (30 s before).
struct EntriesByKey<'e, 'a> {
    entries: &'e [Entry<'a>],
    map: Option<std::collections::HashMap<&'a str, usize>>,
}

impl<'e, 'a> EntriesByKey<'e, 'a> {
    /// Up to this many entries, a scan is cheaper than building a map.
    const SCANNED: usize = 16;

    fn new(entries: &'e [Entry<'a>]) -> Self {
        let map = (entries.len() > Self::SCANNED).then(|| {
            let mut map = std::collections::HashMap::with_capacity(entries.len());
            for (at, entry) in entries.iter().enumerate() {
                // The first of a key written twice, as a scan finds it.
                map.entry(entry.key).or_insert(at);
            }
            map
        });
        EntriesByKey { entries, map }
    }

    fn get(&self, key: &str) -> Option<&'e Entry<'a>> {
        match &self.map {
            Some(map) => map.get(key).map(|at| &self.entries[*at]),
            None => self.entries.iter().find(|e| e.key == key),
        }
    }

    fn has_a_key_twice(&self) -> bool {
        match &self.map {
            Some(map) => map.len() < self.entries.len(),
            None => self
                .entries
                .iter()
                .enumerate()
                .any(|(at, e)| self.entries[..at].iter().any(|before| before.key == e.key)),
        }
    }
}

/// One item of a block sequence: its lines (from its dash), where its content starts on
/// the dash's line, and its text.
struct Item<'a> {
    piece: Piece,
    text: &'a str,
}

/// The items of the block sequence `sequence`; `None` when they are not plainly one.
fn sequence_items<'a>(doc: &Doc<'a>, sequence: &Sequence) -> Option<Vec<Item<'a>>> {
    let lines = &sequence.lines;
    let mut starts = Vec::new();
    let mut column = None;
    let mut next = lines.start;
    while next < lines.end {
        let index = next;
        let (indent, empty) = (doc.indent(index), doc.empty(index));
        if empty {
            next = doc.next_at_or_left_of(index, usize::MAX, lines.end);
            continue;
        }
        let column = *column.get_or_insert(indent);
        if indent == column && is_sequence_item(doc.content(index, column)) {
            starts.push(index);
        } else if indent <= column || starts.is_empty() {
            return None;
        }
        next = doc.next_at_or_left_of(index + 1, column, lines.end);
    }
    let column = column?;
    let mut items = Vec::new();
    for (n, start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(lines.end);
        let after_dash = &doc.content(*start, column)[1..];
        let key_column = column + 1 + after_dash.len() - after_dash.trim_start_matches(' ').len();
        items.push(Item {
            piece: Piece {
                lines: *start..end,
                column: key_column,
                depth: sequence.depth + 1,
            },
            text: doc.text(&(*start..end)),
        });
    }
    Some(items)
}

/// The value of a mapping entry, parsed from the entry alone, at its own column: a block
/// scalar's indentation indicator (`|2`) counts from there.
fn entry_value(entry: &Entry<'_>) -> Option<Value> {
    let at_column;
    let text = if entry.cut > 0 {
        at_column = format!("{}{}", " ".repeat(entry.cut), entry.text);
        &at_column
    } else {
        entry.text
    };
    match parse(text, entry.depth - 1)? {
        Value::Object(mut map) if map.len() == 1 => map.remove(entry.key),
        _ => None,
    }
}

/// The value of a sequence item, parsed from the item alone (in a sequence of its own,
/// where its sequence was).
fn item_value(item: &Item<'_>) -> Option<Value> {
    match parse(item.text, item.piece.depth - 2)? {
        Value::Array(mut items) if items.len() == 1 => items.pop(),
        _ => None,
    }
}

fn whole(doc: &Doc<'_>) -> Piece {
    Piece {
        lines: 0..doc.lines.len(),
        column: 0,
        depth: doc.nesting + 1,
    }
}

/// A mapping of the top-level entries `keys` of a plain block document, each parsed on
/// its own (absent ones left out); `None` when the document cannot be cut or one of them
/// does not parse.
pub fn top_level_entries(indexed: &Indexed, keys: &[&str]) -> Option<Value> {
    let doc = indexed.doc();
    selected_entries(&doc, &whole(&doc), keys)
}

/// The entries `keys` of the block mapping `piece`, parsed together: their texts, in
/// order, are a mapping of their own (the parser's fixed cost, not the bytes, is most of
/// the time for a few short entries).
fn selected_entries(doc: &Doc<'_>, piece: &Piece, keys: &[&str]) -> Option<Value> {
    let entries = mapping_entries(doc, piece)?;
    let mut text = String::new();
    for entry in entries.iter().filter(|e| keys.contains(&e.key)) {
        // An item's first entry starts at its key; the others at the line's start.
        if !entry.text.starts_with(' ') {
            text.extend(std::iter::repeat_n(' ', piece.column));
        }
        text.push_str(entry.text);
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    if text.is_empty() {
        return Some(Value::Object(serde_json::Map::new()));
    }
    match parse(&text, piece.depth - 1)? {
        map @ Value::Object(_) => Some(map),
        _ => None,
    }
}

/// [`top_level_entries`] one level down: the entries `keys` of the mapping under the
/// top-level `parent` (`spec.scope` of a CRD without reading its schema).
pub fn entries_under(indexed: &Indexed, parent: &str, keys: &[&str]) -> Option<Value> {
    let doc = indexed.doc();
    let entries = mapping_entries(&doc, &whole(&doc))?;
    let Some(parent) = entries.iter().find(|e| e.key == parent) else {
        return Some(Value::Object(serde_json::Map::new()));
    };
    match shape(&doc, parent) {
        Shape::Mapping(piece) => selected_entries(&doc, &piece, keys),
        _ => entry_value(parent),
    }
}

/// The value at `path` (one key per level) of a plain block document, parsing only the
/// entry that holds it (a Deployment's pod labels without its containers): `Null` where
/// the path is not there, as indexing the whole parsed value gives; `None` when the
/// document cannot be cut that far or `path` is empty.
pub fn value_at(indexed: &Indexed, path: &[&str]) -> Option<Value> {
    let doc = indexed.doc();
    let mut piece = whole(&doc);
    for (depth, key) in path.iter().enumerate() {
        let entries = mapping_entries(&doc, &piece)?;
        let Some(entry) = entries.iter().find(|e| e.key == *key) else {
            return Some(Value::Null);
        };
        match shape(&doc, entry) {
            Shape::Mapping(inner) if depth + 1 < path.len() => piece = inner,
            // A flow mapping, a sequence, a scalar: parsed here, then indexed.
            _ => {
                let value = entry_value(entry)?;
                return Some(
                    path[depth + 1..]
                        .iter()
                        .fold(value, |value, key| match value {
                            Value::Object(mut map) => map.remove(*key).unwrap_or(Value::Null),
                            _ => Value::Null,
                        }),
                );
            }
        }
    }
    None
}

/// The items of a `*List` document's `items`, each as a document of its own: its lines
/// moved left to the column its content starts at, and the line it starts on (0-based,
/// in the document). Moving every line of an item by the same columns keeps its value (a
/// block scalar's indentation counts from its parent's). `None` when the document cannot
/// be cut so, `items` is not a block sequence, or a line that is not blank sits left of
/// its item's content.
pub fn list_items(indexed: &Indexed) -> Option<Vec<(usize, String)>> {
    let doc = indexed.doc();
    let entries = mapping_entries(&doc, &whole(&doc))?;
    let items = entries.iter().find(|e| e.key == "items")?;
    let Shape::Sequence(sequence) = shape(&doc, items) else {
        return None;
    };
    sequence_items(&doc, &sequence)?
        .iter()
        .map(|item| {
            let (lines, column) = (item.piece.lines.clone(), item.piece.column);
            let mut text = String::with_capacity(item.text.len());
            // The dash's line: from the content after the dash.
            text.push_str(doc.text(&(lines.start..lines.start + 1)).get(column..)?);
            for index in lines.start + 1..lines.end {
                let line = doc.text(&(index..index + 1));
                // The index knows how far in each line is: a dashboard's thousands of
                // lines are not scanned again for their spaces.
                let indent = doc.indent(index);
                if indent >= column {
                    text.push_str(&line[column..]);
                } else if matches!(&line[indent..], "" | "\n" | "\r\n") {
                    text.push_str(&line[indent..]);
                } else {
                    return None;
                }
            }
            Some((lines.start, text))
        })
        .collect()
}

/// Keys whose list holds containers, as the summary looks for them anywhere in an object.
pub const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// `container name → image` of every container list in the document (pods, templates,
/// custom resources that embed them), as reading the parsed value gives them; only each
/// container's `name` and `image` are parsed, and only entries whose text mentions
/// containers are looked into. `None` when the document cannot be cut that far.
pub fn container_images(indexed: &Indexed) -> Option<std::collections::BTreeMap<String, String>> {
    let doc = indexed.doc();
    let mut out = std::collections::BTreeMap::new();
    mapping_images(&doc, &whole(&doc), &mut out)?;
    Some(out)
}

fn mentions_containers(text: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), b"ontainers").is_some()
}

fn mapping_images(
    doc: &Doc<'_>,
    piece: &Piece,
    out: &mut std::collections::BTreeMap<String, String>,
) -> Option<()> {
    for entry in mapping_entries(doc, piece)? {
        if !mentions_containers(entry.text) {
            continue;
        }
        match shape(doc, &entry) {
            Shape::Mapping(inner) => mapping_images(doc, &inner, out)?,
            Shape::Sequence(sequence) => {
                let holds_containers = CONTAINER_LISTS.contains(&entry.key);
                for item in sequence_items(doc, &sequence)? {
                    if holds_containers {
                        let container = selected_entries(doc, &item.piece, &["name", "image"])?;
                        if let (Some(name), Some(image)) = (
                            container.get("name").and_then(Value::as_str),
                            container.get("image").and_then(Value::as_str),
                        ) {
                            out.insert(name.to_string(), image.to_string());
                        }
                    } else if mentions_containers(item.text) {
                        mapping_images(doc, &item.piece, out)?;
                    }
                }
            }
            // A scalar that mentions containers is text; a flow collection may hold some.
            Shape::Other if entry.inline.starts_with(['[', '{']) => return None,
            Shape::Other => {}
        }
    }
    Some(())
}

/// The field changes from `old` to `new` (two versions of one document), as comparing
/// their parsed values would give them; `None` when the texts cannot be cut (see the
/// module).
pub fn field_changes_of(old: &str, new: &str) -> Option<Vec<FieldChange>> {
    field_changes_between(&Indexed::new(old)?, &Indexed::new(new)?)
}

/// [`field_changes_of`] two indexed documents.
pub fn field_changes_between(old: &Indexed, new: &Indexed) -> Option<Vec<FieldChange>> {
    let (old, new) = (old.doc(), new.doc());
    let mut out = Vec::new();
    let sides = Sides {
        old: &old,
        new: &new,
    };
    sides.mapping_changes(&whole(&old), &whole(&new), &mut String::new(), &mut out)?;
    Some(out)
}

/// What an entry's value is, as far as its text shows.
enum Shape {
    /// A block mapping.
    Mapping(Piece),
    /// A block sequence.
    Sequence(Sequence),
    /// Anything else: a scalar, a flow collection, nothing.
    Other,
}

/// A block sequence: its lines, and its depth in the document.
struct Sequence {
    lines: Range<usize>,
    depth: usize,
}

fn shape(doc: &Doc<'_>, entry: &Entry<'_>) -> Shape {
    if !entry.inline.is_empty() {
        return Shape::Other;
    }
    let Some(first) = entry.rest.clone().find(|i| !doc.empty(*i)) else {
        return Shape::Other;
    };
    let indent = doc.indent(first);
    let (lines, depth) = (entry.rest.clone(), entry.depth + 1);
    if is_sequence_item(doc.content(first, indent)) {
        Shape::Sequence(Sequence { lines, depth })
    } else {
        Shape::Mapping(Piece {
            lines,
            column: indent,
            depth,
        })
    }
}

/// The two versions being compared.
struct Sides<'d, 'a> {
    old: &'d Doc<'a>,
    new: &'d Doc<'a>,
}

impl Sides<'_, '_> {
    fn mapping_changes(
        &self,
        old: &Piece,
        new: &Piece,
        path: &mut String,
        out: &mut Vec<FieldChange>,
    ) -> Option<()> {
        let old_entries = mapping_entries(self.old, old)?;
        let new_entries = mapping_entries(self.new, new)?;
        let (old_by_key, new_by_key) = (
            EntriesByKey::new(&old_entries),
            EntriesByKey::new(&new_entries),
        );
        let len = path.len();
        for a in &old_entries {
            push_key(path, a.key);
            match new_by_key.get(a.key) {
                Some(b) if b.text == a.text => {}
                Some(b) => self.entry_changes(a, b, path, out)?,
                None => field_changes(&entry_value(a)?, &Value::Null, path, out),
            }
            path.truncate(len);
        }
        for b in &new_entries {
            if old_by_key.get(b.key).is_none() {
                push_key(path, b.key);
                field_changes(&Value::Null, &entry_value(b)?, path, out);
                path.truncate(len);
            }
        }
        Some(())
    }

    fn entry_changes(
        &self,
        a: &Entry<'_>,
        b: &Entry<'_>,
        path: &mut String,
        out: &mut Vec<FieldChange>,
    ) -> Option<()> {
        match (shape(self.old, a), shape(self.new, b)) {
            (Shape::Mapping(old), Shape::Mapping(new)) => {
                self.mapping_changes(&old, &new, path, out)
            }
            (Shape::Sequence(old), Shape::Sequence(new)) => {
                self.sequence_changes(a, &old, b, &new, path, out)
            }
            _ => {
                field_changes(&entry_value(a)?, &entry_value(b)?, path, out);
                Some(())
            }
        }
    }

    fn sequence_changes(
        &self,
        a: &Entry<'_>,
        old: &Sequence,
        b: &Entry<'_>,
        new: &Sequence,
        path: &mut String,
        out: &mut Vec<FieldChange>,
    ) -> Option<()> {
        let old_items = sequence_items(self.old, old)?;
        let new_items = sequence_items(self.new, new)?;
        // An item is a mapping when it cuts into at least one entry (`- key: …`).
        let mappings = |doc: &Doc<'_>, items: &[Item<'_>]| -> Vec<bool> {
            items
                .iter()
                .map(|i| mapping_entries(doc, &i.piece).is_some_and(|e| !e.is_empty()))
                .collect()
        };
        let old_mappings = mappings(self.old, &old_items);
        let new_mappings = mappings(self.new, &new_items);
        let field = list_keys::list_field(path);
        if list_keys::is_keyed(field) {
            if !old_mappings.iter().chain(&new_mappings).all(|m| *m) {
                // Items that do not cut are paired from their parsed values.
                field_changes(&entry_value(a)?, &entry_value(b)?, path, out);
                return Some(());
            }
            let key_of = |side, index: usize, key: &str| -> Result<Option<Value>, ()> {
                let (doc, item) = match side {
                    Side::Old => (self.old, &old_items[index]),
                    Side::New => (self.new, &new_items[index]),
                };
                let entries = mapping_entries(doc, &item.piece).ok_or(())?;
                match entries.iter().find(|e| e.key == key) {
                    Some(entry) => Ok(key_value(&entry_value(entry).ok_or(())?)),
                    None => Ok(None),
                }
            };
            if let Some(pairing) =
                Pairing::new(field, old_items.len(), new_items.len(), key_of).ok()?
            {
                return self.keyed_changes(&pairing, &old_items, &new_items, path, out);
            }
        }
        if old_items.len() != new_items.len()
            && !old_mappings.iter().chain(&new_mappings).all(|m| *m)
        {
            // The whole list is the change; parse both.
            field_changes(&entry_value(a)?, &entry_value(b)?, path, out);
            return Some(());
        }
        let len = path.len();
        for index in 0..old_items.len().max(new_items.len()) {
            path.push_str(&format!("[{index}]"));
            match (old_items.get(index), new_items.get(index)) {
                (Some(x), Some(y)) if x.text == y.text => {}
                (Some(x), Some(y)) if old_mappings[index] && new_mappings[index] => {
                    self.mapping_changes(&x.piece, &y.piece, path, out)?;
                }
                (x, y) => {
                    let value = |item: Option<&Item<'_>>| match item {
                        Some(item) => item_value(item),
                        None => Some(Value::Null),
                    };
                    field_changes(&value(x)?, &value(y)?, path, out);
                }
            }
            path.truncate(len);
        }
        Some(())
    }

    /// [`super::fields`]' walk of two lists paired by key, over their text.
    fn keyed_changes(
        &self,
        pairing: &Pairing,
        old: &[Item<'_>],
        new: &[Item<'_>],
        path: &mut String,
        out: &mut Vec<FieldChange>,
    ) -> Option<()> {
        let len = path.len();
        for step in &pairing.steps {
            match *step {
                Step::Kept { old: o, new: n } => {
                    path.push_str(&pairing.segment(Side::New, n));
                    if old[o].text != new[n].text {
                        self.mapping_changes(&old[o].piece, &new[n].piece, path, out)?;
                    }
                }
                Step::Removed { old: o } => {
                    path.push_str(&pairing.segment(Side::Old, o));
                    field_changes(&item_value(&old[o])?, &Value::Null, path, out);
                }
                Step::Added { new: n } => {
                    path.push_str(&pairing.segment(Side::New, n));
                    field_changes(&Value::Null, &item_value(&new[n])?, path, out);
                }
                Step::Moved { old: o, new: n } => {
                    path.push_str(&pairing.segment(Side::New, n));
                    out.push(FieldChange::moved(path, o, n));
                }
            }
            path.truncate(len);
        }
        Some(())
    }
}

#[cfg(test)]
mod differential;

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Read a word at a time, the spaces a line starts with are those read one by one.
        #[test]
        fn leading_spaces_are_counted_as_one_by_one(
            spaces in 0usize..40,
            rest in proptest::collection::vec(proptest::sample::select(b" a-#\n\t".to_vec()), 0..20),
        ) {
            let line = [vec![b' '; spaces], rest].concat();
            let one_by_one = line.iter().position(|b| *b != b' ').unwrap_or(line.len());
            proptest::prop_assert_eq!(leading_spaces(&line), one_by_one);
        }
    }

    #[test]
    fn a_comment_starts_at_a_hash_after_a_space() {
        assert!(starts_comment(b"key #note"));
        assert!(!starts_comment(b"#key"));
        assert!(!starts_comment(b"a#b"));
        assert!(!starts_comment(b"plain"));
    }

    /// The changes the whole parsed values give.
    fn whole(old: &str, new: &str) -> Vec<FieldChange> {
        let (a, b) = (
            parse(old, 0).expect("old parses"),
            parse(new, 0).expect("new parses"),
        );
        let mut out = Vec::new();
        field_changes(&a, &b, &mut String::new(), &mut out);
        out
    }

    fn same_as_whole(old: &str, new: &str) {
        assert_eq!(
            field_changes_of(old, new),
            Some(whole(old, new)),
            "\n--- old\n{old}\n--- new\n{new}"
        );
    }

    /// `levels` mappings nested one in another at `column`, each one key, a scalar last.
    fn nested_mappings(levels: usize, column: usize) -> String {
        (0..levels)
            .map(|level| {
                let value = if level + 1 == levels { " deepest" } else { "" };
                format!("{}n{level}:{value}\n", " ".repeat(column + 2 * level))
            })
            .collect()
    }

    /// Whether `text` is within the parser's depth limit as a document.
    fn parses_whole(text: &str) -> bool {
        parse(text, 0).is_some()
    }

    #[test]
    fn nesting_added_inside_a_piece_counts_from_where_the_piece_sits() {
        // The change sits ten mappings deep; what it adds is as deep as the limit allows,
        // or one level more. The document's own mapping is depth 1.
        let above: String = (0..10)
            .map(|d| format!("{}a{d}:\n", " ".repeat(2 * d)))
            .collect();
        let document = |value: &str| format!("kind: ConfigMap\ndata:\n  x: 1\n{above}{value}");
        let old = document(&format!("{}leaf: plain\n", " ".repeat(20)));
        for (added, fits) in [(53, true), (54, false)] {
            let new = document(&format!(
                "{}leaf:\n{}",
                " ".repeat(20),
                nested_mappings(added, 22)
            ));
            assert_eq!(parses_whole(&new), fits, "{added} levels added");
            if fits {
                same_as_whole(&old, &new);
            } else {
                assert_eq!(field_changes_of(&old, &new), None, "{added} levels added");
            }
        }
    }

    #[test]
    fn nesting_added_in_a_new_list_item_counts_from_the_list() {
        // A container added to a keyed list is parsed as an item on its own.
        let document = |extra: &str| {
            format!("kind: Pod\nspec:\n  containers:\n  - name: app\n    image: a\n{extra}")
        };
        for (levels, fits) in [(60, true), (61, false)] {
            let new = document(&format!(
                "  - name: added\n    deep:\n{}",
                nested_mappings(levels, 6)
            ));
            assert_eq!(parses_whole(&new), fits, "{levels} levels");
            if fits {
                same_as_whole(&document(""), &new);
            } else {
                assert_eq!(
                    field_changes_of(&document(""), &new),
                    None,
                    "{levels} levels"
                );
            }
        }
    }

    #[test]
    fn large_mappings_and_keyed_lists_compare_as_small_ones() {
        let config_map = |changed: &str, extra: &str| {
            let data: String = (0..200)
                .map(|n| format!("  key{n}: {}\n", if n == 150 { changed } else { "same" }))
                .collect();
            format!("kind: ConfigMap\ndata:\n{data}{extra}")
        };
        same_as_whole(&config_map("a", ""), &config_map("b", "  added: x\n"));
        // A key written twice, far apart: the cut gives up, as it does for few keys.
        assert_eq!(
            field_changes_of(&config_map("a", ""), &config_map("b", "  key3: again\n")),
            None
        );
        let env = |changed: &str| {
            let items: String = (0..200)
                .map(|n| {
                    format!(
                        "    - name: K{n}\n      value: {}\n",
                        if n == 99 { changed } else { "v" }
                    )
                })
                .collect();
            format!("kind: Pod\nspec:\n  containers:\n  - name: c\n    env:\n{items}")
        };
        same_as_whole(&env("a"), &env("b"));
    }

    #[test]
    fn a_value_at_a_path_is_what_indexing_the_whole_value_gives() {
        let docs = [
            "kind: Deployment\nspec:\n  selector:\n    matchLabels:\n      app: api\n  template:\n    metadata:\n      labels:\n        app: api\n        tier: web\n    spec:\n      containers:\n      - name: a\n        image: x\n",
            "kind: Service\nspec:\n  selector: {app: api}\n  ports:\n  - port: 80\n",
            "kind: Deployment\nspec:\n  template: {metadata: {labels: {app: api}}}\n",
            "kind: Deployment\nspec:\n  template:\n    metadata:\n",
            "kind: Job\nspec: []\n",
            "kind: Pod\n",
        ];
        let paths: [&[&str]; 4] = [
            &["spec", "selector"],
            &["spec", "template", "metadata", "labels"],
            &["spec", "template", "metadata", "labels", "app"],
            &["spec"],
        ];
        for doc in docs {
            let whole = parse(doc, 0).expect("parses");
            let indexed = Indexed::new(doc).expect("plain block YAML");
            for path in paths {
                let expected = path.iter().fold(&whole, |value, key| &value[*key]);
                assert_eq!(
                    value_at(&indexed, path).as_ref(),
                    Some(expected),
                    "{path:?} of\n{doc}"
                );
            }
        }
        let written_twice =
            Indexed::new("spec:\n  selector: {a: b}\n  selector: {c: d}\n").expect("indexed");
        assert_eq!(value_at(&written_twice, &["spec", "selector"]), None);
    }

    #[test]
    fn an_indentation_indicator_counts_from_the_entrys_own_column() {
        for header in ["|2", ">2", "|4-", "|2+"] {
            let doc = |step: u32| {
                format!(
                    "spec:\n  containers:\n  - args: {header}\n        --step={step}\n          more\n    name: a\n  - name: b\n    args: {header}\n        --step={step}\n"
                )
            };
            same_as_whole(&doc(1), &doc(2));
        }
    }

    const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.acme.io
  labels:
    app.kubernetes.io/version: v1
spec:
  group: acme.io
  names:
    kind: Widget
  versions:
  - name: v1
    schema:
      openAPIV3Schema:
        description: |-
          A widget.

          With a blank line and key: like text.
        properties:
          size:
            type: integer
          tags:
            items:
              type: string
            type: array
    served: true
  - name: v2
    served: false
";

    #[test]
    fn nested_changes_come_out_as_the_whole_comparison_gives_them() {
        for (from, to) in [
            ("type: integer", "type: string"),
            (
                "app.kubernetes.io/version: v1",
                "app.kubernetes.io/version: v2",
            ),
            ("With a blank line", "With an empty line"),
            (
                "    served: true\n",
                "    served: true\n    storage: true\n",
            ),
            ("  - name: v2\n    served: false\n", ""),
            ("          tags:\n", "          labels:\n"),
            (
                "        properties:\n",
                "        # a comment\n        properties:\n",
            ),
            ("    kind: Widget", "    kind: Gadget\n    plural: gadgets"),
        ] {
            assert!(CRD.contains(from), "{from}");
            same_as_whole(CRD, &CRD.replacen(from, to, 1));
            same_as_whole(&CRD.replacen(from, to, 1), CRD);
        }
    }

    #[test]
    fn lists_of_scalars_and_of_mappings() {
        let old = "a:\n- x\n- y\nb:\n- {n: 1}\n- n: 2\n  m: 3\nc: [1, 2]\n";
        for new in [
            "a:\n- x\n- z\nb:\n- {n: 1}\n- n: 2\n  m: 3\nc: [1, 2]\n",
            "a:\n- x\nb:\n- {n: 1}\n- n: 2\n  m: 3\nc: [1, 2]\n",
            "a:\n- x\n- y\nb:\n- {n: 1}\n- n: 2\n  m: 4\n- n: 5\nc: [1, 2]\n",
            "a:\n- x\n- y\nb:\n- {n: 1}\nc: [1, 3]\n",
            "a: null\nb:\n- {n: 1}\n- n: 2\n  m: 3\n",
            "a:\n  k: v\nb:\n- {n: 1}\n- n: 2\n  m: 3\nc: [1, 2]\n",
        ] {
            same_as_whole(old, new);
            same_as_whole(new, old);
        }
    }

    #[test]
    fn keyed_lists_pair_their_items_as_the_whole_comparison_does() {
        let old = "containers:\n- name: api\n  image: a:1\n  env:\n  - name: A\n    value: '1'\n  - name: B\n    value: '2'\n- name: proxy\n  image: p:1\n";
        for new in [
            // A sidecar in front, one in between, a removal, a move, a changed key.
            "containers:\n- name: log\n  image: l:1\n- name: api\n  image: a:1\n  env:\n  - name: A\n    value: '1'\n  - name: B\n    value: '2'\n- name: proxy\n  image: p:1\n",
            "containers:\n- name: api\n  image: a:1\n  env:\n  - name: Z\n  - name: A\n    value: '1'\n  - name: B\n    value: '3'\n- name: proxy\n  image: p:1\n",
            "containers:\n- name: proxy\n  image: p:2\n",
            "containers:\n- name: proxy\n  image: p:1\n- name: api\n  image: a:1\n  env:\n  - name: B\n    value: '2'\n  - name: A\n    value: '1'\n",
            "containers:\n- name: api2\n  image: a:1\n- name: proxy\n  image: p:1\n",
            // A key missing or repeated: by position.
            "containers:\n- image: a:1\n- name: proxy\n  image: p:1\n",
            "containers:\n- name: proxy\n  image: a:1\n- name: proxy\n  image: p:1\n",
            // An item that does not cut.
            "containers:\n- {name: log, image: l:1}\n- name: api\n  image: a:1\n- name: proxy\n  image: p:1\n",
        ] {
            same_as_whole(old, new);
            same_as_whole(new, old);
        }
    }

    #[test]
    fn a_sidecar_added_in_front_is_one_added_container() {
        let old = "containers:\n- name: api\n  image: a:1\n  ports:\n  - containerPort: 80\n";
        let new = "containers:\n- name: proxy\n  image: p:1\n- name: api\n  image: a:1\n  ports:\n  - containerPort: 80\n";
        let changes = field_changes_of(old, new).expect("cuts");
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].path, "containers[name=proxy]");
        assert_eq!(changes[0].old, None);
        assert_eq!(changes[0].moved, None);
    }

    #[test]
    fn a_reordered_item_is_reported_as_a_move() {
        let old = "env:\n- name: A\n  value: '1'\n- name: B\n  value: '2'\n";
        let new = "env:\n- name: B\n  value: '2'\n- name: A\n  value: '1'\n";
        let changes = field_changes_of(old, new).expect("cuts");
        assert_eq!(changes, [FieldChange::moved("env[name=A]", 0, 1)]);
    }

    #[test]
    fn null_and_absent_are_the_same() {
        same_as_whole("a: 1\nb: null\n", "a: 1\n");
        same_as_whole("a: 1\nb:\n", "a: 2\n");
        assert_eq!(field_changes_of("a: 1\nb: ~\n", "a: 1\n"), Some(Vec::new()));
    }

    #[test]
    fn what_cannot_be_cut_gives_up() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: [&x 1]\nb: [*x]\n",
            "a: {k: &x 1}\nb: [1,*x]\n",
            "- &x a\n- *x\n",
            "a:\n  - !!str 1\n",
            "a: !!str 1\n",
            "? complex\n: key\n",
            "\"quoted\": 1\n",
            "1: one\n",
            "true: yes\n",
            "a: 1\na: 2\n",
            "a: \"open\nb: quote\"\n",
            "a: {x: 1,\nb: 2}\n",
            "a:\n\t- tab\n",
        ] {
            let other = format!("{text}z: 1\n");
            let plain = is_plain_block_yaml(text);
            let cut = field_changes_of(text, &other);
            assert!(!plain || cut.is_none(), "{text:?} is cut: {cut:?}");
        }
    }

    #[test]
    fn stars_and_ampersands_in_text_are_not_node_properties() {
        assert!(!has_node_properties(
            b"a: glob *.yaml and a && b\nb: \"x*\"\n"
        ));
        assert!(!has_node_properties(b"a: 2*3\nb: it's!\n"));
        assert!(has_node_properties(b"a: *x\n"));
        assert!(has_node_properties(b"*x: 1\n"));
    }

    #[test]
    fn what_looks_like_structure_in_a_scalars_text_is_text() {
        // CRD descriptions and CEL rules: bullets, code, questions, negations.
        let text = "spec:\n  description: |-\n    * a bullet, *bold*\n    `code` and <br>\n    ? a question\n    @param !x &y\n  rule: |\n    !has(self.x) || true\n  check: self.all(k, !k.contains(\"*\"))\n  summary: runs on\n    * over lines\n    ? like this\n  items:\n  - plain item\n    `continued`\n  - >\n    * folded\nafter: 1\n";
        assert!(parse(text, 0).is_some(), "the example is YAML");
        assert!(is_plain_block_yaml(text));
        same_as_whole(text, &text.replace("* over lines", "* over two lines"));
    }

    #[test]
    fn structure_below_a_value_left_empty_is_still_checked() {
        for text in [
            "a:\n  b: &x 1\nc: *x\n",
            "-\n  b: &x 1\n- *x\n",
            "a: # note\n  b: &x 1\nc: *x\n",
            "a: [1,\n  *x]\n",
            "a:\n  ? complex\n  : key\n",
            "\"quoted\":\n  b: &x 1\nc: *x\n",
            "a: |\n  text\nb:\n  <<: {c: 1}\n",
        ] {
            assert!(!is_plain_block_yaml(text), "{text:?} is taken as plain");
        }
    }

    #[test]
    fn a_quote_running_on_further_in_is_cut_and_one_further_out_gives_up() {
        same_as_whole(
            "a: \"one\n  two\"\nb: 'x\n\n  it''s'\nc: 1\n",
            "a: \"one\n  three\"\nb: 'x\n\n  it''s'\nc: 2\n",
        );
        assert!(field_changes_of("a: \"one\n  two\"\nb: 1\n", "a: \"one\n  3\"\nb: 1\n").is_some());
        for text in [
            "a: \"one\ntwo\"\nb: 1\n",
            "a:\n  b: 'x\n  y'\n",
            "a: 'x\n  y' z\n",
        ] {
            assert!(!is_plain_block_yaml(text), "{text:?} is taken as plain");
        }
    }

    #[test]
    fn a_list_indented_under_its_key_compares_with_one_at_the_key() {
        same_as_whole("a:\n- x: 1\n- x: 2\n", "a:\n  - x: 1\n  - x: 3\n");
        same_as_whole("a:\n  - x: 1\n", "a:\n- x: 1\n- x: 2\n");
    }

    fn images_of(text: &str) -> Option<Vec<(String, String)>> {
        container_images(&Indexed::new(text)?).map(|m| m.into_iter().collect())
    }

    #[test]
    fn container_images_are_read_from_every_container_list() {
        let cronjob = "apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
  annotations:
    note: |
      containers:
      - name: not-a-container
        image: nope
spec:
  jobTemplate:
    spec:
      template:
        spec:
          initContainers:
            - name: migrate
              image: ghcr.io/acme/migrate:2
          containers:
          - image: ghcr.io/acme/job:1
            # the name after the image
            name: job
            args: [--once]
          - name: sidecar
            image: \"ghcr.io/acme/proxy:3\"

          - name: nameless-image
";
        assert_eq!(
            images_of(cronjob),
            Some(vec![
                ("job".into(), "ghcr.io/acme/job:1".into()),
                ("migrate".into(), "ghcr.io/acme/migrate:2".into()),
                ("sidecar".into(), "ghcr.io/acme/proxy:3".into()),
            ])
        );
        assert_eq!(
            images_of("kind: ConfigMap\ndata:\n  a: b\n"),
            Some(Vec::new())
        );
    }

    #[test]
    fn container_lists_it_cannot_read_give_up() {
        // A flow list, and a list of scalars.
        for text in [
            "spec:\n  containers: [{name: a, image: b}]\n",
            "spec:\n  containers:\n  - a\n",
            "spec:\n  template:\n    containers\n",
        ] {
            assert_eq!(images_of(text), None, "{text}");
        }
    }

    #[test]
    fn blank_lines_and_comments_do_not_hide_a_value_without_a_key() {
        // A value more indented than the mapping before any key: not plainly a mapping.
        assert!(field_changes_of("a: 1\n", "\n   # c\n    b: 2\na: 1\n").is_none());
        same_as_whole(
            "a:\n\n  # comment\n  b: 1\n\n  c: [1]\nd: 2\n",
            "a:\n\n  # comment\n  b: 2\n\n  c: [1, 2]\nd: 2\n",
        );
    }
}
