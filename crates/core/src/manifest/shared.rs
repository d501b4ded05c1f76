//! Documents that read the same on both sides of a diff. Each document is parsed on its
//! own, so the same text is the same object on both sides, unchanged whatever else
//! changed: a diff of a large environment need not hold two copies of it, only what the
//! diff still reads of it (its identity, and a Service's or workload's selectors).

use std::collections::HashMap;

use super::documents::Document;
use super::object::{ManifestObject, ObjectKey};
use super::selectors::{Selectors, has_selectors};

/// An object of a document that is the same on both sides of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedObject {
    pub key: ObjectKey,
    /// A Service's or a workload's selectors, which the warnings read of every one.
    pub selectors: Option<Box<Selectors>>,
}

impl SharedObject {
    pub fn of(object: &ManifestObject) -> SharedObject {
        let selectors = if has_selectors(&object.key.kind) {
            Selectors::of(object).map(Box::new)
        } else {
            None
        };
        SharedObject {
            key: object.key.clone(),
            selectors,
        }
    }
}

/// For each document of the new version of a file, the document of the old version with
/// the same text, if any; each old document is matched at most once, in order (a text
/// that is there twice matches its first copy first).
pub fn match_documents(old: &[Document<'_>], new: &[Document<'_>]) -> Vec<Option<usize>> {
    let mut by_text: HashMap<&str, std::collections::VecDeque<usize>> =
        HashMap::with_capacity(old.len());
    for (at, doc) in old.iter().enumerate() {
        by_text.entry(doc.text).or_default().push_back(at);
    }
    new.iter()
        .map(|doc| by_text.get_mut(doc.text).and_then(|ats| ats.pop_front()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::documents::split_documents;
    use crate::manifest::parse::parse_documents;

    #[test]
    fn documents_match_by_text_in_order_each_once() {
        let old = "a: 1\n---\nb: 1\n---\na: 1\n---\nc: 1\n";
        let new = "b: 1\n---\na: 1\n---\nc: 2\n---\na: 1\n---\na: 1\n";
        let (old, new) = (split_documents(old), split_documents(new));
        assert_eq!(
            match_documents(&old, &new),
            [Some(1), Some(0), None, Some(2), None]
        );
    }

    #[test]
    fn a_shared_object_keeps_its_key_and_only_a_service_or_workloads_selectors() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api, tier: web}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {selector: x}\n";
        let objects = parse_documents("x.yaml", text.as_bytes()).objects;
        let deployment = SharedObject::of(&objects[0]);
        assert_eq!(deployment.key, objects[0].key);
        let selectors = deployment.selectors.expect("a workload's selectors");
        assert_eq!(selectors.match_labels.to_string(), "app=api");
        assert_eq!(selectors.pod_labels.to_string(), "app=api,tier=web");
        assert_eq!(SharedObject::of(&objects[1]).selectors, None);
    }
}
