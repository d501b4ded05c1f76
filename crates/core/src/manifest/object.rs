//! One Kubernetes object and its identity `(group, kind, namespace, name)`.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// The identity of an object, as Kubernetes serves it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjectKey {
    /// API group; empty for the core group (`v1`).
    pub group: String,
    pub kind: String,
    /// `None` for cluster-scoped objects, and for namespaced ones that name no namespace
    /// when the environment has no default namespace (shown as `(default)`).
    pub namespace: Option<String>,
    /// `metadata.name`; for an object named by the API server at creation
    /// (`metadata.generateName`, such as Argo CD's hook Jobs), that prefix and
    /// [`GENERATED_NAME_MARK`], which no real name contains.
    pub name: String,
}

/// Ends the name of an object that has only `metadata.generateName`.
pub const GENERATED_NAME_MARK: char = '*';

impl ObjectKey {
    /// Whether the API server names the object when it is created: it has no name of its
    /// own to apply or compare by, only its `generateName` prefix.
    pub fn has_generated_name(&self) -> bool {
        self.name.ends_with(GENERATED_NAME_MARK)
    }

    /// `Kind/namespace/name`, or `Kind/name` for an object without a namespace.
    pub fn display_name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// Where an object was written: a file in the repository (or a renderer's output) and the
/// line its document starts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

/// An object read from a manifest. Secret values are already replaced by fingerprints
/// (see `redact`), except in objects rendered for applying to a cluster
/// (`Secrets::Keep`), which only reconcile holds and never shows.
#[derive(Debug, Clone)]
pub struct ManifestObject {
    pub key: ObjectKey,
    pub api_version: String,
    pub origin: Origin,
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    Parsed(Value),
    /// A document kept as its text and parsed on first use: a diff of two versions
    /// mostly compares text and parses only what differs (see `chunks`).
    Text {
        text: std::sync::Arc<super::chunks::Indexed>,
        /// The whole parse, once asked for.
        value: std::sync::OnceLock<Result<Value, Box<Unparsed>>>,
    },
}

/// A document kept as text that does not parse whole: where and why, and what did parse
/// (its identity), which stands for its value. Read again from the text only then: a
/// large set keeps no copy of every document's metadata.
#[derive(Debug, Clone)]
struct Unparsed {
    line: usize,
    message: String,
    header: Value,
}

/// The entries of a document that say what it is.
const HEADER: &[&str] = &["apiVersion", "kind", "metadata"];

/// `apiVersion`, `kind` and `metadata` of a document kept as text (they were read when
/// it was split, so they read again).
pub(crate) fn header_of(text: &super::chunks::Indexed) -> Option<Value> {
    super::chunks::top_level_entries(text, HEADER)
}

impl ManifestObject {
    pub fn new(key: ObjectKey, api_version: String, origin: Origin, value: Value) -> Self {
        ManifestObject {
            key,
            api_version,
            origin,
            body: Body::Parsed(value),
        }
    }

    /// An object whose identity was read from its document's first entries and whose
    /// value is parsed from `text` when someone asks for it.
    pub(crate) fn unparsed(
        key: ObjectKey,
        api_version: String,
        origin: Origin,
        text: super::chunks::Indexed,
    ) -> Self {
        ManifestObject {
            key,
            api_version,
            origin,
            body: Body::Text {
                text: std::sync::Arc::new(text),
                value: std::sync::OnceLock::new(),
            },
        }
    }

    /// The object as data.
    pub fn value(&self) -> &Value {
        match &self.body {
            Body::Parsed(value) => value,
            Body::Text { text, value } => match value.get_or_init(|| {
                super::parse::parse_nested(text.text(), text.nesting()).map_err(|e| {
                    Box::new(Unparsed {
                        line: e.location().map_or(1, |l| l.line() as usize),
                        message: super::issue::bare_message(&e.to_string()).to_string(),
                        header: header_of(text).unwrap_or_default(),
                    })
                })
            }) {
                Ok(value) => value,
                // What did parse: its identity. `late_issue` says why the rest is missing.
                Err(unparsed) => &unparsed.header,
            },
        }
    }

    /// The object as data, to change.
    pub fn value_mut(&mut self) -> &mut Value {
        if let Body::Text { .. } = self.body {
            let value = self.value().clone();
            self.body = Body::Parsed(value);
        }
        match &mut self.body {
            Body::Parsed(value) => value,
            Body::Text { .. } => unreachable!("parsed just above"),
        }
    }

    /// Why the value of an object kept as text is only its identity: its document did
    /// not parse when the value was first asked for. `None` until then, or if it parsed.
    pub fn late_issue(&self) -> Option<super::issue::ManifestIssue> {
        match &self.body {
            Body::Text { value, .. } => match value.get() {
                Some(Err(unparsed)) => Some(super::issue::ManifestIssue {
                    file: self.origin.file.clone(),
                    line: self.origin.line + unparsed.line.saturating_sub(1),
                    message: format!("YAML does not parse: {}", unparsed.message),
                }),
                _ => None,
            },
            Body::Parsed(_) => None,
        }
    }

    /// Parse the whole object now if it was kept as text: `Err` with the issue when it
    /// does not parse (its value is then only its identity).
    pub fn parse_now(&self) -> Result<(), super::issue::ManifestIssue> {
        self.value();
        self.late_issue().map_or(Ok(()), Err)
    }

    /// The object's `spec`, enough of it to read `keys` from: for an object kept as
    /// text only those entries are parsed (a CRD's scope without its schema).
    pub fn spec(&self, keys: &[&str]) -> Option<std::borrow::Cow<'_, Value>> {
        // A piece that does not cut on its own is read from the whole parse.
        match self
            .indexed()
            .and_then(|text| super::chunks::entries_under(text, "spec", keys))
        {
            Some(spec) => Some(std::borrow::Cow::Owned(spec)),
            None => self.value().get("spec").map(std::borrow::Cow::Borrowed),
        }
    }

    /// The document's text, for an object kept as text.
    pub fn source(&self) -> Option<&str> {
        self.indexed().map(super::chunks::Indexed::text)
    }

    /// What was read of a document kept as text when it was split: its `apiVersion`,
    /// `kind` and `metadata`.
    pub(crate) fn header(&self) -> Option<Value> {
        self.indexed().and_then(header_of)
    }

    /// The document's text and line index, for an object kept as text.
    pub(crate) fn indexed(&self) -> Option<&super::chunks::Indexed> {
        match &self.body {
            Body::Parsed(_) => None,
            Body::Text { text, .. } => Some(text),
        }
    }
}

/// The API group of an `apiVersion` (`apps/v1` → `apps`, `v1` → ``).
pub fn group_of(api_version: &str) -> &str {
    api_version
        .rsplit_once('/')
        .map(|(group, _)| group)
        .unwrap_or("")
}
