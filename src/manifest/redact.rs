//! Secret values never leave the parser. Every value under `data` and `stringData` of a
//! `Secret`, and its `kubectl.kubernetes.io/last-applied-configuration` annotation (which
//! repeats them), is replaced by a fingerprint: `sha256:` + 8 hex digits of the value,
//! and its length in bytes. A reviewer sees which keys changed, never what they hold.

use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The fingerprint shown in place of a secret value.
pub fn fingerprint(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex} ({} bytes)", bytes.len())
}

/// Replace the values of a Secret object in place.
pub fn redact_secret(secret: &mut Value) {
    if let Some(Value::Object(data)) = secret.get_mut("data") {
        for value in data.values_mut() {
            // `data` holds base64; fingerprint the decoded bytes so that the same value
            // under `data` and `stringData` looks the same.
            let decoded = value.as_str().and_then(|s| {
                base64::engine::general_purpose::STANDARD
                    .decode(s.trim())
                    .ok()
            });
            let bytes = decoded.unwrap_or_else(|| scalar_bytes(value));
            *value = Value::String(fingerprint(&bytes));
        }
    }
    if let Some(Value::Object(data)) = secret.get_mut("stringData") {
        for value in data.values_mut() {
            *value = Value::String(fingerprint(&scalar_bytes(value)));
        }
    }
    if let Some(Value::Object(annotations)) = secret
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        && let Some(value) = annotations.get_mut(LAST_APPLIED)
    {
        *value = Value::String(fingerprint(&scalar_bytes(value)));
    }
}

/// A raw manifest file with every Secret document replaced by its redacted, normalised
/// form. A document that does not parse but looks like a Secret is hidden entirely: when
/// in doubt, show less.
pub fn redact_raw_text(text: &str) -> String {
    let docs = super::parse::split_documents(text);
    if !docs.iter().any(|d| looks_like_secret(d.text)) {
        return text.to_string();
    }
    let mut out = String::new();
    for (index, doc) in docs.iter().enumerate() {
        if index > 0 {
            out.push_str("---\n");
        }
        if !looks_like_secret(doc.text) {
            out.push_str(doc.text);
            continue;
        }
        match serde_saphyr::from_str::<Value>(doc.text) {
            Ok(mut value) => {
                redact_any_secret(&mut value);
                out.push_str(&super::textdiff::to_yaml(&value));
            }
            Err(_) => out.push_str("# a Secret document that does not parse is hidden\n"),
        }
    }
    out
}

fn looks_like_secret(text: &str) -> bool {
    text.contains("Secret")
}

/// Redact a Secret, or each Secret inside a `*List`.
fn redact_any_secret(value: &mut Value) {
    match value.get("kind").and_then(Value::as_str) {
        Some("Secret") => redact_secret(value),
        Some(kind) if kind.ends_with("List") => {
            if let Some(Value::Array(items)) = value.get_mut("items") {
                items.iter_mut().for_each(redact_any_secret);
            }
        }
        _ => {}
    }
}

fn scalar_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::String(s) => s.as_bytes().to_vec(),
        other => other.to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn raw_text_keeps_other_documents_and_hides_secret_values() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {token: abc123xyz}\n---\nkind: Secret\nstringData: {token: [broken\n";
        let out = redact_raw_text(text);
        assert!(out.contains("kind: ConfigMap"));
        assert!(!out.contains("abc123xyz"), "{out}");
        assert!(!out.contains("broken"), "{out}");
        assert!(out.contains("does not parse is hidden"));
    }

    #[test]
    fn data_and_string_data_show_the_same_fingerprint_for_the_same_value() {
        let mut secret = json!({
            "kind": "Secret",
            "metadata": {"name": "db", "annotations": {LAST_APPLIED: "{\"data\":{\"password\":\"aHVudGVyMg==\"}}"}},
            "data": {"password": "aHVudGVyMg=="},
            "stringData": {"password": "hunter2"},
        });
        redact_secret(&mut secret);
        let text = secret.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("aHVudGVyMg"),
            "{text}"
        );
        assert_eq!(secret["data"]["password"], secret["stringData"]["password"]);
        assert!(
            secret["data"]["password"]
                .as_str()
                .expect("string")
                .ends_with("(7 bytes)")
        );
    }
}
