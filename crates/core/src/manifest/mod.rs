//! Kubernetes manifests as data: parse multi-document YAML into objects with an identity,
//! hide Secret values, compare two sets of objects, and summarise what changed. Pure code:
//! it reads no files and runs no programs (see `render` for that).

pub mod chunks;
pub mod diff;
pub mod documents;
pub mod fields;
pub mod issue;
mod list_keys;
pub mod object;
pub mod parse;
pub mod redact;
mod renames;
pub mod scope;
pub mod selectors;
pub mod shared;
pub mod stored;
pub mod summary;
pub mod textdiff;
pub mod warnings;

pub use diff::{ChangeKind, ObjectDiff, RenderedDiff, diff_objects};
pub use fields::FieldChange;
pub use issue::ManifestIssue;
pub use object::{ManifestObject, ObjectKey, Origin};
pub use parse::{ParsedManifests, parse_documents};
pub use summary::Summary;
