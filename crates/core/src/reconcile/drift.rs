//! Drift: how a live object differs from what tollgate applied, on the fields tollgate
//! manages (the ones its manifest sets). Fields the API server or other controllers add
//! (defaults, status, another manager's labels) are not drift. Pure: the run reads the
//! live objects, suspects the ones whose managed fields read differently, and confirms a
//! suspicion with a server-side dry-run apply: drift is what that apply would change, so
//! the server's own spellings (`1` for `1000m`, a Secret's `stringData` kept as `data`)
//! never are.

use serde::Serialize;
use serde_json::Value;

use crate::manifest::ObjectKey;
use crate::manifest::redact::fingerprint;

/// One field that is not as applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDrift {
    /// `spec.replicas`, `spec.template.spec.containers[0].image`.
    pub path: String,
    /// What the cluster has; `None`: the field is gone.
    pub live: Option<Value>,
    pub desired: Value,
}

/// How a managed object drifted.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "drift")]
pub enum Drift {
    /// Deleted from the cluster.
    Deleted,
    /// Changed on fields tollgate manages.
    Changed { fields: Vec<FieldDrift> },
}

/// A drifted object and what it was corrected from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftedObject {
    #[serde(flatten)]
    pub key: ObjectKey,
    #[serde(flatten)]
    pub drift: Drift,
}

impl DriftedObject {
    /// `Deployment/shop/api (spec.replicas 3 → 2)`, Secret values as fingerprints.
    pub fn describe(&self) -> String {
        match &self.drift {
            Drift::Deleted => format!("{} (deleted)", self.key),
            Drift::Changed { fields } => {
                let secret = self.key.kind == "Secret";
                let shown = |value: &Value| -> String {
                    match value {
                        _ if secret => fingerprint(value.to_string().as_bytes()),
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    }
                };
                let changes: Vec<String> = fields
                    .iter()
                    .take(3)
                    .map(|f| match &f.live {
                        Some(live) => format!("{} {} → {}", f.path, shown(live), shown(&f.desired)),
                        None => format!("{} removed → {}", f.path, shown(&f.desired)),
                    })
                    .collect();
                let more = match fields.len() {
                    n if n > 3 => format!(", and {} more", n - 3),
                    _ => String::new(),
                };
                format!("{} ({}{more})", self.key, changes.join(", "))
            }
        }
    }

    /// The same, with a Secret's values replaced by fingerprints in the fields too (for
    /// JSON and the inventory).
    pub fn masked(mut self) -> DriftedObject {
        if self.key.kind == "Secret"
            && let Drift::Changed { fields } = &mut self.drift
        {
            for field in fields {
                field.live = field
                    .live
                    .take()
                    .map(|v| Value::String(fingerprint(v.to_string().as_bytes())));
                field.desired = Value::String(fingerprint(field.desired.to_string().as_bytes()));
            }
        }
        self
    }
}

/// The fields of `desired` (a manifest tollgate applies) that `live` does not hold as
/// written. Maps are compared key by key (keys `live` has besides are not drift); lists
/// item by item when they are as long, whole otherwise; scalars by value, a number and
/// the same number written as a string being the same.
pub fn drifted_fields(desired: &Value, live: &Value) -> Vec<FieldDrift> {
    let mut out = Vec::new();
    compare(desired, Some(live), String::new(), &mut out);
    out
}

fn compare(desired: &Value, live: Option<&Value>, path: String, out: &mut Vec<FieldDrift>) {
    match (desired, live) {
        (Value::Object(want), Some(Value::Object(have))) => {
            for (key, value) in want {
                // The API server's own bookkeeping is never tollgate's to keep.
                if path == "metadata"
                    && matches!(
                        key.as_str(),
                        "resourceVersion"
                            | "uid"
                            | "generation"
                            | "creationTimestamp"
                            | "managedFields"
                    )
                {
                    continue;
                }
                if path.is_empty() && key == "status" {
                    continue;
                }
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                compare(value, have.get(key), child, out);
            }
        }
        (Value::Array(want), Some(Value::Array(have))) if want.len() == have.len() => {
            for (index, (w, h)) in want.iter().zip(have).enumerate() {
                compare(w, Some(h), format!("{path}[{index}]"), out);
            }
        }
        (want, Some(have)) if same_scalar(want, have) => {}
        // An empty map or list the server leaves out is the same as none.
        (Value::Object(m), None) if m.is_empty() => {}
        (Value::Array(a), None) if a.is_empty() => {}
        (Value::Null, None) => {}
        (want, have) => out.push(FieldDrift {
            path,
            live: have.cloned(),
            desired: want.clone(),
        }),
    }
}

fn same_scalar(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) => {
            s.parse::<f64>().ok() == n.as_f64()
        }
        (Value::Object(_), _) | (Value::Array(_), _) => false,
        (a, b) => a == b,
    }
}

/// Whether an apply would change `live`: `dry` is what a server-side dry run of the apply
/// returned, so any difference between the two but the server's bookkeeping is a change
/// the apply would make (a Secret's `stringData` arriving as `data`, a field the server
/// spells its own way: all compared as the server has them).
pub fn apply_changes_nothing(dry: &Value, live: &Value) -> bool {
    without_bookkeeping(dry) == without_bookkeeping(live)
}

fn without_bookkeeping(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(Value::Object(metadata)) = map.get_mut("metadata") {
            for field in [
                "resourceVersion",
                "managedFields",
                "generation",
                "uid",
                "creationTimestamp",
                "selfLink",
            ] {
                metadata.remove(field);
            }
        }
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(replicas: Value, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "namespace": "shop", "labels": {"app": "api"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "api", "image": image}]}}}
        })
    }

    #[test]
    fn what_the_server_adds_is_not_drift() {
        let desired = deployment(json!(2), "api:1.0");
        let mut live = deployment(json!(2), "api:1.0");
        live["metadata"]["resourceVersion"] = json!("42");
        live["metadata"]["labels"]["team"] = json!("shop");
        live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] =
            json!("IfNotPresent");
        live["status"] = json!({"readyReplicas": 2});
        assert_eq!(drifted_fields(&desired, &live), []);
        // A number the server spells as a string is the same number.
        assert_eq!(
            drifted_fields(&deployment(json!("2"), "api:1.0"), &live),
            []
        );
    }

    #[test]
    fn an_edited_or_removed_managed_field_is_drift() {
        let desired = deployment(json!(2), "api:1.0");
        let mut live = deployment(json!(5), "api:1.0");
        live["metadata"]["labels"] = json!({});
        let drift = drifted_fields(&desired, &live);
        assert_eq!(
            drift,
            [
                FieldDrift {
                    path: "metadata.labels.app".into(),
                    live: None,
                    desired: json!("api"),
                },
                FieldDrift {
                    path: "spec.replicas".into(),
                    live: Some(json!(5)),
                    desired: json!(2),
                },
            ]
        );
        let object = DriftedObject {
            key: ObjectKey {
                group: "apps".into(),
                kind: "Deployment".into(),
                namespace: Some("shop".into()),
                name: "api".into(),
            },
            drift: Drift::Changed { fields: drift },
        };
        assert_eq!(
            object.describe(),
            "Deployment/shop/api (metadata.labels.app removed → api, spec.replicas 5 → 2)"
        );
    }

    #[test]
    fn a_secrets_drift_is_told_by_fingerprints() {
        let object = DriftedObject {
            key: ObjectKey {
                group: String::new(),
                kind: "Secret".into(),
                namespace: Some("shop".into()),
                name: "creds".into(),
            },
            drift: Drift::Changed {
                fields: vec![FieldDrift {
                    path: "data.password".into(),
                    live: Some(json!("aHVudGVyMg==")),
                    desired: json!("czNjcjN0"),
                }],
            },
        };
        let shown = format!("{} {:?}", object.describe(), object.clone().masked());
        assert!(
            !shown.contains("aHVudGVyMg") && !shown.contains("czNjcjN0"),
            "{shown}"
        );
        assert!(shown.contains("sha256:"), "{shown}");
    }

    #[test]
    fn a_dry_run_that_only_respells_a_value_changes_nothing() {
        let dry = json!({"metadata": {"name": "a", "resourceVersion": "9", "managedFields": [1]}, "spec": {"cpu": "1"}, "status": {"x": 1}});
        let live = json!({"metadata": {"name": "a", "resourceVersion": "8"}, "spec": {"cpu": "1"}});
        assert!(apply_changes_nothing(&dry, &live));
        let edited = json!({"metadata": {"name": "a"}, "spec": {"cpu": "2"}});
        assert!(!apply_changes_nothing(&dry, &edited));
    }
}
