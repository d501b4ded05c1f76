//! Multi-document YAML into objects. Documents are split on their `---` / `...` markers
//! first, so that each one is parsed on its own: a YAML error in one document names its
//! file and line and does not hide the objects of the others. Empty and comment-only
//! documents are skipped; `*List` kinds are expanded into their items.

use serde_json::Value;

use super::documents::{Document, split_documents};
use super::issue::{ManifestIssue, bare_message};
use super::object::{ManifestObject, ObjectKey, Origin, group_of};
use super::redact::redact_secret;

#[derive(Debug, Default, Clone)]
pub struct ParsedManifests {
    pub objects: Vec<ManifestObject>,
    pub issues: Vec<ManifestIssue>,
    /// What a reader must be told about the render (values Flux substitutes from the
    /// cluster, inputs that did not come from git): the objects are shown, with this
    /// beside them.
    pub caveats: Vec<String>,
    /// The files of the repository a plain render read, sorted by path, each with whether
    /// it is encrypted with SOPS: what a diff's render status would otherwise read again.
    /// Empty for renders through a program.
    pub read_files: Vec<(String, bool)>,
}

impl ParsedManifests {
    pub fn extend(&mut self, other: ParsedManifests) {
        self.objects.extend(other.objects);
        self.issues.extend(other.issues);
        self.caveats.extend(other.caveats);
        self.read_files.extend(other.read_files);
    }

    /// Parse every document kept as text, for a use that needs every value (a digest of
    /// the whole render): one that does not parse becomes an issue and no object, as if
    /// it had been read whole at once.
    pub fn parse_all(&mut self) {
        let issues = &mut self.issues;
        self.objects
            .retain(|object| object.parse_now().map_err(|e| issues.push(e)).is_ok());
    }
}

/// What the parser does with Secret values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secrets {
    /// Replace them with fingerprints: everything people see (diffs, history, approvals).
    Redact,
    /// Keep them: only for applying to a cluster, where the real values must arrive.
    /// Objects parsed this way must never be printed, logged or diffed as they are.
    Keep,
}

/// Parse every document of `bytes`, read from `file`, into objects, Secret values
/// replaced by fingerprints.
pub fn parse_documents(file: &str, bytes: &[u8]) -> ParsedManifests {
    parse_documents_with(file, bytes, Secrets::Redact)
}

/// [`parse_documents`], saying what to do with Secret values.
pub fn parse_documents_with(file: &str, bytes: &[u8], secrets: Secrets) -> ParsedManifests {
    parse_file(file, bytes.to_vec(), secrets)
}

/// [`parse_documents_with`] bytes it may keep: documents kept as text share them
/// rather than copy them.
pub fn parse_file(file: &str, bytes: Vec<u8>, secrets: Secrets) -> ParsedManifests {
    let mut out = ParsedManifests::default();
    match file_text(file, bytes) {
        Ok(text) => {
            for doc in split_documents(&text) {
                read_document(file, &text, doc, secrets, Place::File, Keep::File, &mut out);
            }
        }
        Err(issue) => out.issues.push(issue),
    }
    out
}

/// A file's bytes as text, or the issue that they are not UTF-8 (naming the line).
fn file_text(file: &str, bytes: Vec<u8>) -> Result<std::sync::Arc<String>, ManifestIssue> {
    String::from_utf8(bytes)
        .map(std::sync::Arc::new)
        .map_err(|e| {
            let bytes = e.as_bytes();
            let line = bytes[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            ManifestIssue {
                file: file.to_string(),
                line,
                message: "not UTF-8 text; Kubernetes manifests must be UTF-8".into(),
            }
        })
}

/// What an object kept as text keeps of its file's text.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Keep {
    /// The file's text, shared by its documents: a render holds each file once.
    File,
    /// A copy of its own document: a diff that keeps a few changed objects of a large
    /// file does not hold the whole file for them.
    OwnDocument,
}

/// The objects of `doc`, a slice of `text` (the text of `file`), into `out`, Secret
/// values redacted; what cannot be read of it into `out.issues`. Only objects kept as
/// text hold any of `text`, as `keep` says: a document read into values, or cut into a
/// list's items (each copied), holds none of it.
pub(crate) fn parse_document_of(
    file: &str,
    text: &std::sync::Arc<String>,
    doc: Document<'_>,
    keep: Keep,
    out: &mut ParsedManifests,
) {
    read_document(file, text, doc, Secrets::Redact, Place::File, keep, out);
}

/// Where a document being read sits: in a file, or as an item of a `*List` document.
/// Only a document of the file is cut into its items: a list of lists nested as deep as
/// its text allows must not be a recursion as deep.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    File,
    ListItem,
}

impl Place {
    /// The collections around the document: an item sits in its list's mapping and in
    /// its `items`, and counts them against the depth limit as the whole list does.
    fn nesting(self) -> usize {
        match self {
            Place::File => 0,
            Place::ListItem => 2,
        }
    }
}

fn read_document(
    file: &str,
    text: &std::sync::Arc<String>,
    doc: Document<'_>,
    secrets: Secrets,
    place: Place,
    keep: Keep,
    out: &mut ParsedManifests,
) {
    if secrets == Secrets::Redact && doc.text.len() <= MAX_TEXT_BYTES {
        match unparsed_object(file, text, doc, place, keep) {
            Some(AsText::Object(object)) => {
                out.objects.push(*object);
                return;
            }
            Some(AsText::Items(items)) => {
                let mut parsed = ParsedManifests::default();
                let mut each_an_object = true;
                for (offset, item) in items {
                    let own = std::sync::Arc::new(item);
                    let item = Document {
                        text: own.as_str(),
                        line: doc.line + offset,
                    };
                    let before = parsed.objects.len();
                    read_document(
                        file,
                        &own,
                        item,
                        secrets,
                        Place::ListItem,
                        keep,
                        &mut parsed,
                    );
                    each_an_object &= parsed.objects.len() > before;
                }
                // An item that cannot be read, or is nothing, is said as reading the
                // whole list says it.
                if each_an_object && parsed.issues.is_empty() {
                    out.extend(parsed);
                    return;
                }
            }
            None => {}
        }
    }
    match parse_nested(doc.text, place.nesting()) {
        Ok(Value::Null) => {}
        Ok(value) => add_objects(file, doc.line, value, secrets, out),
        Err(e) => {
            let location = e.location();
            let line = location
                .map(|l| doc.line + l.line() as usize - 1)
                .unwrap_or(doc.line);
            let column = location
                .map(|l| format!(" (column {})", l.column()))
                .unwrap_or_default();
            out.issues.push(ManifestIssue {
                file: file.to_string(),
                line,
                message: format!(
                    "YAML does not parse{column}: {}",
                    bare_message(&e.to_string())
                ),
            });
        }
    }
}

/// Documents in plain block YAML up to this size are kept as text, their identity read
/// from their first entries (see [`ManifestObject::source`]): a diff then parses only
/// what differs between two versions, and nothing of a document whose text is the same
/// on both sides. Larger ones go through the whole parse, whose limits (64 MiB of
/// scalars per document) they may break.
const MAX_TEXT_BYTES: usize = 16 * 1024 * 1024;

/// What of a plain document can be kept as text.
enum AsText {
    Object(Box<ManifestObject>),
    /// A `*List`'s items, each a document of its own: the line it starts on in the
    /// document (0-based) and its text.
    Items(Vec<(usize, String)>),
}

/// A plain document as an object kept as text, when its `apiVersion`, `kind` and
/// `metadata` can be read on their own and it is not a Secret (whose values must be
/// hidden at once); a list in a file as its items; `None` sends it through the whole parse.
fn unparsed_object(
    file: &str,
    text: &std::sync::Arc<String>,
    doc: Document<'_>,
    place: Place,
    keep: Keep,
) -> Option<AsText> {
    // Where the document sits in the file's text (it is a slice of it).
    let start = doc.text.as_ptr() as usize - text.as_ptr() as usize;
    let indexed = super::chunks::Indexed::within(text, start..start + doc.text.len())?
        .nested(place.nesting());
    let header = super::object::header_of(&indexed)?;
    let kind = header.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind == "Secret" {
        return None;
    }
    if kind.ends_with("List") {
        return match place {
            Place::File => super::chunks::list_items(&indexed).map(AsText::Items),
            Place::ListItem => None,
        };
    }
    let object = object_from_value(file, doc.line, header, Secrets::Redact).ok()?;
    let indexed = match keep {
        Keep::File => indexed,
        Keep::OwnDocument => indexed.into_own(),
    };
    Some(AsText::Object(Box::new(ManifestObject::unparsed(
        object.key,
        object.api_version,
        object.origin,
        indexed,
    ))))
}

/// The nesting a whole document may reach (serde-saphyr's default): mappings and
/// sequences, flow or block, one level each. It guards the stack.
const MAX_DEPTH: usize = 64;

/// Parse a manifest's YAML (a whole document, an object's value or a piece `chunks` cut
/// out: all meet the same limits, or a document would read one way with the fast path and
/// another without it) that sits `nesting` collections deep in its document: 0 for a
/// document, more for a piece or a `*List`'s item, so that levels a promotion adds inside
/// a piece cut out at depth 10 count from 10 against the depth limit, as the whole parse
/// counts them.
///
/// serde-saphyr's counts of nodes and events are grown with the text. Read in pieces, a
/// document never reaches the default counts (250,000 nodes, 1,000,000 events) that its
/// whole parse would breach: a Deployment whose `env` has 60,000 entries diffed with the
/// fast path and was "cannot be read" without it. Without aliases (their own limits stay)
/// a node or an event takes at least a byte of text, so twice the text's length keeps the
/// work linear in it.
pub(crate) fn parse_nested(text: &str, nesting: usize) -> Result<Value, serde_saphyr::Error> {
    let grown = text.len().saturating_mul(2).saturating_add(16);
    let mut budget = serde_saphyr::budget::Budget::default();
    budget.max_depth = MAX_DEPTH.saturating_sub(nesting);
    budget.max_nodes = budget.max_nodes.max(grown);
    budget.max_events = budget.max_events.max(grown);
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    serde_saphyr::from_str_with_options(text, options)
}

fn add_objects(file: &str, line: usize, value: Value, secrets: Secrets, out: &mut ParsedManifests) {
    let issue = |message: String| ManifestIssue {
        file: file.to_string(),
        line,
        message,
    };
    let Value::Object(_) = &value else {
        out.issues.push(issue(
            "document is not a mapping, so it is not a Kubernetes object".into(),
        ));
        return;
    };
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind.ends_with("List")
        && let Some(items) = value.get("items").and_then(Value::as_array)
    {
        for item in items.clone() {
            add_objects(file, line, item, secrets, out);
        }
        return;
    }
    match object_from_value(file, line, value, secrets) {
        Ok(object) => out.objects.push(object),
        Err(message) => out.issues.push(issue(message)),
    }
}

fn object_from_value(
    file: &str,
    line: usize,
    mut value: Value,
    secrets: Secrets,
) -> Result<ManifestObject, String> {
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .ok_or("object has no `apiVersion`")?
        .to_string();
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .ok_or("object has no `kind`")?
        .to_string();
    let metadata = value.get("metadata");
    let field = |key: &str| {
        metadata
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
    };
    // An object the API server names (a hook Job) is known by its prefix.
    let name = match (field("name"), field("generateName")) {
        (Some(name), _) => name.to_string(),
        (None, Some(prefix)) => format!("{prefix}{}", super::object::GENERATED_NAME_MARK),
        (None, None) => {
            return Err(format!(
                "{kind} has no `metadata.name` (nor `metadata.generateName`)"
            ));
        }
    };
    let namespace = metadata
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    if kind == "Secret" && group_of(&api_version).is_empty() {
        if let Some(key) = not_base64(&value) {
            // The value itself is never part of the message.
            return Err(format!(
                "Secret {name}: data.{key} is not base64, which the API server refuses; encode it, or put the plain text under stringData"
            ));
        }
        if secrets == Secrets::Redact {
            redact_secret(&mut value);
        }
    }
    Ok(ManifestObject::new(
        ObjectKey {
            group: group_of(&api_version).to_string(),
            kind,
            namespace,
            name,
        },
        api_version,
        Origin {
            file: file.to_string(),
            line,
        },
        value,
    ))
}

/// The first key under a Secret's `data` whose value is not base64 text.
fn not_base64(secret: &Value) -> Option<String> {
    use base64::Engine;
    let data = secret.get("data")?.as_object()?;
    data.iter()
        .find(|(_, value)| match value {
            Value::String(text) => base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .is_err(),
            Value::Null => false,
            _ => true,
        })
        .map(|(key, _)| key.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_of_more_nodes_than_the_default_budget_parses_whole() {
        let items: String = (0..60_000)
            .map(|n| format!("- name: K{n}\n  value: v{n}\n"))
            .collect();
        let text = format!("env:\n{items}");
        assert!(
            serde_saphyr::from_str::<Value>(&text).is_err(),
            "the default budget refuses it"
        );
        let value = parse_nested(&text, 0).expect("parses with the grown budget");
        assert_eq!(value["env"].as_array().map(Vec::len), Some(60_000));
    }

    #[test]
    fn nesting_past_the_depth_limit_is_still_refused() {
        let text: String = (0..100)
            .map(|d| format!("{}k{d}:\n", " ".repeat(d)))
            .collect();
        let error = parse_nested(&text, 0).expect_err("too deep").to_string();
        assert!(error.contains("Depth"), "{error}");
    }

    #[test]
    fn an_object_named_at_creation_is_kept_by_its_prefix() {
        let text = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\n  namespace: shop\n  annotations: {argocd.argoproj.io/hook: PreSync}\nspec: {}\n";
        let mut parsed = parse_documents_with("hook.yaml", text.as_bytes(), Secrets::Redact);
        parsed.parse_all();
        assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
        let key = &parsed.objects[0].key;
        assert_eq!(key.to_string(), "Job/shop/migrate-*");
        assert!(key.has_generated_name());
    }

    #[test]
    fn secret_data_that_is_not_base64_is_an_issue_that_does_not_show_the_value() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ndata:\n  ok: aHVudGVyMg==\n  bad: not base64 hunter3!\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
        let mut parsed = parse_documents_with("s.yaml", text.as_bytes(), Secrets::Redact);
        parsed.parse_all();
        assert_eq!(parsed.objects.len(), 1, "the ConfigMap is still read");
        assert_eq!(parsed.issues.len(), 1);
        let message = &parsed.issues[0].message;
        assert!(message.contains("data.bad is not base64"), "{message}");
        assert!(!message.contains("hunter3"), "{message}");
    }

    #[test]
    fn yaml_error_names_its_line_and_other_documents_still_parse() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: [unclosed\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n";
        let parsed = parse_documents("envs/x/cm.yaml", text.as_bytes());
        assert_eq!(parsed.objects.len(), 2);
        assert_eq!(parsed.issues.len(), 1);
        let issue = &parsed.issues[0];
        assert_eq!(issue.file, "envs/x/cm.yaml");
        assert!((5..=7).contains(&issue.line), "{issue}");
    }

    #[test]
    fn an_error_past_a_documents_identity_is_found_when_every_value_is_needed() {
        // Plain enough to keep as text; the bad indentation is on line 10 of the file.
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n  x: '1'\n   y: '2'\n";
        let mut parsed = parse_documents("envs/x/cm.yaml", text.as_bytes());
        assert_eq!(parsed.objects.len(), 2, "the identity reads well");
        assert!(parsed.objects.iter().all(|o| o.source().is_some()));
        parsed.parse_all();
        let names: Vec<_> = parsed.objects.iter().map(|o| o.key.name.as_str()).collect();
        assert_eq!(names, ["a"]);
        assert_eq!(parsed.issues.len(), 1);
        assert_eq!(parsed.issues[0].file, "envs/x/cm.yaml");
        assert_eq!(parsed.issues[0].line, 10, "{}", parsed.issues[0]);
    }

    #[test]
    fn an_object_keeps_its_files_text_or_a_copy_of_its_own_document_as_asked() {
        let text = std::sync::Arc::new(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: b\n"
                .to_string(),
        );
        for keep in [Keep::File, Keep::OwnDocument] {
            let mut parsed = ParsedManifests::default();
            for doc in split_documents(&text) {
                parse_document_of("f.yaml", &text, doc, keep, &mut parsed);
            }
            let sources: Vec<_> = parsed.objects.iter().map(|o| o.source()).collect();
            assert_eq!(
                sources,
                [
                    Some("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n"),
                    Some("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n"),
                ]
            );
            // A list's item is always its own copy; the first object holds the file's
            // text only when asked to.
            let holders = std::sync::Arc::strong_count(&text) - 1;
            assert_eq!(holders, usize::from(keep == Keep::File), "{keep:?}");
            assert_eq!(parsed.objects[0].value()["data"]["k"], "v");
        }
    }

    /// A `List` of one ConfigMap whose `data` holds `levels` mappings one in another.
    fn list_nested(levels: usize) -> String {
        let nested: String = (0..levels)
            .map(|l| {
                format!(
                    "{}n{l}:{}\n",
                    " ".repeat(4 + 2 * l),
                    if l + 1 == levels { " x" } else { "" }
                )
            })
            .collect();
        format!(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: deep\n  data:\n{nested}"
        )
    }

    #[test]
    fn a_list_item_meets_the_depth_limit_as_the_whole_list_does() {
        // The list's mapping, `items` and the item are three levels; `data` and each `n` above
        // the last hold one more.
        for (levels, fits) in [(61, true), (62, false)] {
            let text = list_nested(levels);
            assert_eq!(
                parse_nested(&text, 0).is_ok(),
                fits,
                "{levels} levels whole"
            );
            let mut parsed = parse_documents("l.yaml", text.as_bytes());
            assert!(parsed.objects[0].source().is_some(), "kept as text");
            // And so it stays in a render's cache.
            let stored = serde_json::to_string(&super::super::stored::StoredManifests::of(&parsed))
                .expect("serialises");
            let mut back = serde_json::from_str::<super::super::stored::StoredManifests>(&stored)
                .expect("reads back")
                .into_manifests()
                .expect("indexes");
            parsed.parse_all();
            back.parse_all();
            for parsed in [parsed, back] {
                assert_eq!(
                    parsed.issues.is_empty(),
                    fits,
                    "{levels}: {:?}",
                    parsed.issues
                );
                assert_eq!(parsed.objects.len(), usize::from(fits));
            }
        }
    }

    #[test]
    fn a_block_lists_items_are_kept_as_text_each_with_its_own_line() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n  data:\n    script: |2\n        indented\n\n      less\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n  data: {password: aHVudGVyMg==}\n";
        let parsed = parse_documents("l.yaml", text.as_bytes());
        assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
        let whole: Value = serde_saphyr::from_str(text).expect("parses");
        let (config, secret) = (&parsed.objects[0], &parsed.objects[1]);
        assert!(config.source().is_some(), "kept as text");
        assert_eq!(config.value(), &whole["items"][0]);
        assert_eq!(config.origin.line, 4);
        assert_eq!(secret.origin.line, 13);
        assert!(
            secret.source().is_none(),
            "a Secret is read whole, to hide its values"
        );
        assert!(
            secret.value()["data"]["password"]
                .as_str()
                .is_some_and(|v| v.starts_with("sha256:"))
        );
        // An item that is nothing is said as reading the whole list says it.
        let with_null = format!("{text}-\n");
        let parsed = parse_documents("l.yaml", with_null.as_bytes());
        assert_eq!(parsed.objects.len(), 2);
        assert_eq!(parsed.issues.len(), 1, "{:?}", parsed.issues);
        assert!(parsed.objects.iter().all(|o| o.origin.line == 1));
    }

    #[test]
    fn a_list_in_a_list_is_read_whole_and_still_gives_its_items() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMapList\n  items:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: inner}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: outer}\n";
        let parsed = parse_documents("l.yaml", text.as_bytes());
        assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
        let names: Vec<_> = parsed.objects.iter().map(|o| o.key.name.as_str()).collect();
        assert_eq!(names, ["inner", "outer"]);
        assert!(
            parsed.objects[0].source().is_none(),
            "the inner list is read whole"
        );
        assert!(
            parsed.objects[1].source().is_some(),
            "the outer items are kept as text"
        );
    }

    #[test]
    fn lists_are_expanded_into_their_items() {
        let text = "apiVersion: v1\nkind: ConfigMapList\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n";
        let parsed = parse_documents("l.yaml", text.as_bytes());
        let names: Vec<_> = parsed.objects.iter().map(|o| o.key.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn missing_kind_or_name_is_an_issue_not_a_panic() {
        let parsed = parse_documents(
            "x.yaml",
            b"apiVersion: v1\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\n",
        );
        assert!(parsed.objects.is_empty());
        let messages: Vec<_> = parsed.issues.iter().map(|i| i.message.clone()).collect();
        assert!(messages[0].contains("kind"), "{messages:?}");
        assert!(messages[1].contains("metadata.name"), "{messages:?}");
    }

    #[test]
    fn non_utf8_file_is_reported_with_its_line() {
        let parsed = parse_documents("bad.yaml", b"a: 1\nb: \xff\n");
        assert_eq!(parsed.issues[0].line, 2);
        assert!(parsed.issues[0].message.contains("UTF-8"));
    }

    #[test]
    fn group_comes_from_api_version() {
        let parsed = parse_documents(
            "d.yaml",
            b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\n",
        );
        let key = &parsed.objects[0].key;
        assert_eq!(
            (key.group.as_str(), key.namespace.as_deref()),
            ("apps", Some("shop"))
        );
    }

    /// A Deployment padded past the size kept as text: a long annotation.
    fn large_deployment(replicas: u32, image: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\n  annotations:\n    padding: {}\nspec:\n  replicas: {replicas}\n  template:\n    spec:\n      containers:\n      - name: api\n        image: {image}\n",
            "x".repeat(200 * 1024)
        )
    }

    #[test]
    fn a_large_document_is_kept_as_text_with_its_identity_read() {
        let text = large_deployment(2, "api:1");
        let parsed = parse_documents("big.yaml", format!("---\n{text}").as_bytes());
        assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
        let object = &parsed.objects[0];
        assert_eq!(object.source(), Some(text.as_str()));
        assert_eq!(object.key.to_string(), "Deployment/shop/api");
        assert_eq!(object.origin.line, 2);
        let whole: Value = serde_saphyr::from_str(&text).expect("parses");
        assert_eq!(object.value(), &whole);
    }

    #[test]
    fn a_large_secret_or_list_is_parsed_at_once() {
        let secret = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  key: {}\n",
            "QUJD".repeat(50 * 1024)
        );
        let parsed = parse_documents("s.yaml", secret.as_bytes());
        assert_eq!(parsed.objects[0].source(), None);
        assert!(
            !parsed.objects[0].value().to_string().contains("QUJDQUJD"),
            "redacted at once"
        );
    }

    #[test]
    fn large_documents_diff_as_parsed_ones_do() {
        use crate::manifest::{Summary, diff_objects};
        let old = large_deployment(2, "ghcr.io/acme/api:1.4.2");
        let new = large_deployment(3, "ghcr.io/acme/api:1.5.0").replace("padding: x", "padding: y");
        let as_text = diff_objects(
            parse_documents("a.yaml", old.as_bytes()).objects,
            parse_documents("a.yaml", new.as_bytes()).objects,
        );
        let parsed = |text: &str| {
            let value: Value = serde_saphyr::from_str(text).expect("parses");
            vec![object_from_value("a.yaml", 1, value, Secrets::Redact).expect("object")]
        };
        let whole = diff_objects(parsed(&old), parsed(&new));
        let paths = |d: &crate::manifest::RenderedDiff| -> Vec<String> {
            d.objects[0].fields.iter().map(|f| f.path.clone()).collect()
        };
        assert_eq!(paths(&as_text), paths(&whole));
        assert_eq!(
            paths(&as_text),
            [
                "metadata.annotations.padding",
                "spec.replicas",
                "spec.template.spec.containers[name=api].image"
            ]
        );
        assert_eq!(Summary::of(&as_text), Summary::of(&whole));
        assert_eq!(Summary::of(&as_text).replicas.len(), 1);
        assert_eq!(Summary::of(&as_text).images.len(), 1);
    }

    #[test]
    fn a_large_document_that_does_not_parse_says_so_when_compared() {
        use crate::manifest::{ChangeKind, diff_objects};
        let old = large_deployment(2, "api:1");
        // A flow sequence left open: the cut gives up and the whole parse fails.
        let new = old.replace("replicas: 2", "replicas: [2");
        let diff = diff_objects(
            parse_documents("a.yaml", old.as_bytes()).objects,
            parse_documents("a.yaml", new.as_bytes()).objects,
        );
        let object = &diff.objects[0];
        assert_eq!(object.change, ChangeKind::Changed);
        assert!(object.fields.is_empty(), "{:?}", object.fields);
        let issue = object
            .new
            .as_ref()
            .and_then(ManifestObject::late_issue)
            .expect("the new side says it does not parse");
        // The open sequence is on line 9; the parser notices at the end of the document.
        assert_eq!(issue.file, "a.yaml");
        assert!(issue.line >= 9, "{issue:?}");
        assert!(
            issue.message.contains("YAML does not parse"),
            "{}",
            issue.message
        );
    }
}
