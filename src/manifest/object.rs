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
    pub name: String,
}

impl ObjectKey {
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

/// A parsed object. Secret values are already replaced by fingerprints (see `redact`),
/// except in objects rendered for applying to a cluster (`Secrets::Keep`), which only
/// reconcile holds and never shows.
#[derive(Debug, Clone)]
pub struct ManifestObject {
    pub key: ObjectKey,
    pub api_version: String,
    pub origin: Origin,
    pub value: Value,
}

/// The API group of an `apiVersion` (`apps/v1` → `apps`, `v1` → ``).
pub fn group_of(api_version: &str) -> &str {
    api_version
        .rsplit_once('/')
        .map(|(group, _)| group)
        .unwrap_or("")
}
