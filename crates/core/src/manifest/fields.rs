//! What changed between two values of an object, field by field: the leaf-most
//! differences with a path each (`spec.template.spec.containers[name=api].image`), list
//! items paired by the key Kubernetes merges them by. Both the whole-value comparison
//! (`diff`) and the comparison over text (`chunks`) produce these.

use std::convert::Infallible;

use serde::Serialize;
use serde_json::Value;

use super::list_keys::{Pairing, Side, Step};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// `spec.template.spec.containers[name=api].image`, `spec.rules[0].host`,
    /// `metadata.labels["app.kubernetes.io/name"]`: list items Kubernetes merges by a key
    /// are named by it (see [`super::list_keys`]), the others by position.
    pub path: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
    /// The item at `path` kept its value but changed its place in the list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved: Option<Moved>,
}

/// Positions (0-based) of an item in the old and the new list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Moved {
    pub from: usize,
    pub to: usize,
}

/// `moved from position 2 to 0`, counting from 0 as paths do.
impl std::fmt::Display for Moved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "moved from position {} to {}", self.from, self.to)
    }
}

impl FieldChange {
    /// A value that was `old` and is now `new` (either may be absent).
    pub fn value(path: &str, old: Option<Value>, new: Option<Value>) -> FieldChange {
        FieldChange {
            path: path.to_string(),
            old,
            new,
            moved: None,
        }
    }

    /// A list item that moved from position `from` to `to`.
    pub fn moved(path: &str, from: usize, to: usize) -> FieldChange {
        FieldChange {
            path: path.to_string(),
            old: None,
            new: None,
            moved: Some(Moved { from, to }),
        }
    }

    /// Whether this change is inside a `labels` map (or is one).
    pub fn is_label(&self) -> bool {
        let path = format!(".{}", self.path);
        path.ends_with(".labels") || path.contains(".labels.") || path.contains(".labels[")
    }
}

pub(super) fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        path.push('[');
        path.push_str(&serde_json::to_string(key).expect("a string always serialises"));
        path.push(']');
    }
}

/// Collect the leaf-most differences between `old` and `new` under `path`.
pub(super) fn field_changes(
    old: &Value,
    new: &Value,
    path: &mut String,
    out: &mut Vec<FieldChange>,
) {
    if old == new {
        return;
    }
    let len = path.len();
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, av) in a {
                let bv = b.get(key).unwrap_or(&Value::Null);
                push_key(path, key);
                field_changes(av, bv, path, out);
                path.truncate(len);
            }
            for (key, bv) in b {
                if !a.contains_key(key) {
                    push_key(path, key);
                    field_changes(&Value::Null, bv, path, out);
                    path.truncate(len);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            let pairing = Pairing::new::<Infallible>(
                super::list_keys::list_field(path),
                a.len(),
                b.len(),
                |side, index, key| {
                    let item = match side {
                        Side::Old => &a[index],
                        Side::New => &b[index],
                    };
                    Ok(item.get(key).and_then(key_value))
                },
            );
            match pairing {
                Ok(Some(pairing)) => keyed_changes(&pairing, a, b, path, out),
                _ if a.len() == b.len() || a.iter().chain(b).all(Value::is_object) => {
                    for index in 0..a.len().max(b.len()) {
                        path.push_str(&format!("[{index}]"));
                        field_changes(
                            a.get(index).unwrap_or(&Value::Null),
                            b.get(index).unwrap_or(&Value::Null),
                            path,
                            out,
                        );
                        path.truncate(len);
                    }
                }
                _ => out.push(FieldChange::value(
                    path,
                    Some(old.clone()),
                    Some(new.clone()),
                )),
            }
        }
        _ => out.push(FieldChange::value(
            path,
            (!old.is_null()).then(|| old.clone()),
            (!new.is_null()).then(|| new.clone()),
        )),
    }
}

/// A list item's key: a scalar, never null (null and absent are the same value).
pub(super) fn key_value(value: &Value) -> Option<Value> {
    match value {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => Some(value.clone()),
        _ => None,
    }
}

/// The changes between two lists whose items are paired by key.
fn keyed_changes(
    pairing: &Pairing,
    old: &[Value],
    new: &[Value],
    path: &mut String,
    out: &mut Vec<FieldChange>,
) {
    let len = path.len();
    for step in &pairing.steps {
        match *step {
            Step::Kept { old: o, new: n } => {
                path.push_str(&pairing.segment(Side::New, n));
                field_changes(&old[o], &new[n], path, out);
            }
            Step::Removed { old: o } => {
                path.push_str(&pairing.segment(Side::Old, o));
                field_changes(&old[o], &Value::Null, path, out);
            }
            Step::Added { new: n } => {
                path.push_str(&pairing.segment(Side::New, n));
                field_changes(&Value::Null, &new[n], path, out);
            }
            Step::Moved { old: o, new: n } => {
                path.push_str(&pairing.segment(Side::New, n));
                out.push(FieldChange::moved(path, o, n));
            }
        }
        path.truncate(len);
    }
}
