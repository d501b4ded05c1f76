//! Rendered objects as a cache keeps them on disk, and back: the same objects, with the
//! same values and digests. Only renders whose Secret values are already fingerprints
//! may be stored (see [`super::parse::Secrets::Redact`]); a document kept as text is
//! never a Secret, and a Secret is stored as its redacted value.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::chunks::Indexed;
use super::issue::ManifestIssue;
use super::object::{ManifestObject, ObjectKey, Origin};
use super::parse::ParsedManifests;

/// The stored form of a render.
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredManifests {
    objects: Vec<StoredObject>,
    issues: Vec<ManifestIssue>,
    #[serde(default)]
    caveats: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredObject {
    group: String,
    kind: String,
    namespace: Option<String>,
    name: String,
    api_version: String,
    file: String,
    line: usize,
    body: StoredBody,
}

#[derive(Debug, Serialize, Deserialize)]
enum StoredBody {
    /// A document kept as text, with what its split read of it (written for the
    /// versions that read it back; this one reads it again from the text).
    Text {
        text: String,
        #[serde(default)]
        header: Value,
        /// The collections the document sat in (a `*List`'s item: 2).
        #[serde(default)]
        nesting: usize,
    },
    Parsed(Value),
}

impl StoredManifests {
    /// The stored form of `parsed`, which must hold no Secret value.
    pub fn of(parsed: &ParsedManifests) -> StoredManifests {
        let objects = parsed
            .objects
            .iter()
            .map(|object| StoredObject {
                group: object.key.group.clone(),
                kind: object.key.kind.clone(),
                namespace: object.key.namespace.clone(),
                name: object.key.name.clone(),
                api_version: object.api_version.clone(),
                file: object.origin.file.clone(),
                line: object.origin.line,
                body: match (object.indexed(), object.header()) {
                    (Some(indexed), Some(header)) => StoredBody::Text {
                        text: indexed.text().to_string(),
                        header,
                        nesting: indexed.nesting(),
                    },
                    _ => StoredBody::Parsed(object.value().clone()),
                },
            })
            .collect();
        StoredManifests {
            objects,
            issues: parsed.issues.clone(),
            caveats: parsed.caveats.clone(),
        }
    }

    /// The objects again; `None` if a stored text no longer reads as it did.
    pub fn into_manifests(self) -> Option<ParsedManifests> {
        let mut parsed = ParsedManifests {
            objects: Vec::with_capacity(self.objects.len()),
            issues: self.issues,
            caveats: self.caveats,
            read_files: Vec::new(),
        };
        for stored in self.objects {
            let key = ObjectKey {
                group: stored.group,
                kind: stored.kind,
                namespace: stored.namespace,
                name: stored.name,
            };
            let origin = Origin {
                file: stored.file,
                line: stored.line,
            };
            parsed.objects.push(match stored.body {
                StoredBody::Text { text, nesting, .. } => ManifestObject::unparsed(
                    key,
                    stored.api_version,
                    origin,
                    Indexed::new(&text)?.nested(nesting),
                ),
                StoredBody::Parsed(value) => {
                    ManifestObject::new(key, stored.api_version, origin, value)
                }
            });
        }
        Some(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approvals::rendered_digest;
    use crate::manifest::parse_documents;

    #[test]
    fn a_render_comes_back_with_the_same_objects_and_digest() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  replicas: 2\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: aHVudGVyMg==}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: c}\ndata: {a: '1'}\n---\n: [\n";
        let mut parsed = parse_documents("env.yaml", text.as_bytes());
        let json = serde_json::to_string(&StoredManifests::of(&parsed)).expect("serialises");
        assert!(!json.contains("aHVudGVyMg=="), "no Secret value: {json}");
        let mut back = serde_json::from_str::<StoredManifests>(&json)
            .expect("reads back")
            .into_manifests()
            .expect("texts index");
        assert_eq!(back.issues, parsed.issues);
        assert_eq!(back.objects.len(), parsed.objects.len());
        for (a, b) in back.objects.iter().zip(&parsed.objects) {
            assert_eq!(a.key, b.key);
            assert_eq!(a.origin, b.origin);
            assert_eq!(a.source(), b.source());
        }
        parsed.parse_all();
        back.parse_all();
        assert_eq!(
            rendered_digest(&back.objects),
            rendered_digest(&parsed.objects)
        );
    }
}
