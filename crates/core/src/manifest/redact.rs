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
    let docs = super::documents::split_documents(text);
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

/// A kustomization file with every Secret value it writes replaced by a fingerprint: a
/// `secretGenerator`'s `literals` (`KEY=` and the value's fingerprint), and each inline
/// patch that may reach a Secret (its whole text). One that mentions Secrets and does
/// not parse is hidden entirely.
pub fn redact_kustomization_text(text: &str) -> String {
    if !looks_like_secret(text) && !text.contains("secretGenerator") {
        return text.to_string();
    }
    match serde_saphyr::from_str::<Value>(text) {
        Ok(mut value) => {
            if redact_kustomization(&mut value) {
                super::textdiff::to_yaml(&value)
            } else {
                text.to_string()
            }
        }
        Err(_) => "# a kustomization that mentions Secrets and does not parse is hidden\n".into(),
    }
}

/// Whether a kustomization file name is one kustomize reads.
pub fn is_kustomization_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    )
}

/// Redact what [`redact_kustomization_text`] says; whether anything was.
fn redact_kustomization(kustomization: &mut Value) -> bool {
    let mut changed = false;
    if let Some(Value::Array(generators)) = kustomization.get_mut("secretGenerator") {
        for generator in generators {
            if let Some(Value::Array(literals)) = generator.get_mut("literals") {
                for literal in literals {
                    let text = scalar_bytes(literal);
                    let text = String::from_utf8_lossy(&text).into_owned();
                    *literal = Value::String(match text.split_once('=') {
                        Some((key, value)) => format!("{key}={}", fingerprint(value.as_bytes())),
                        None => fingerprint(text.as_bytes()),
                    });
                    changed = true;
                }
            }
        }
    }
    for key in ["patches", "patchesJson6902"] {
        if let Some(Value::Array(patches)) = kustomization.get_mut(key) {
            for patch in patches {
                let reaches_secret = may_reach_secret(patch);
                if let Some(inline) = patch.get_mut("patch")
                    && reaches_secret
                {
                    *inline = Value::String(fingerprint(&scalar_bytes(inline)));
                    changed = true;
                }
            }
        }
    }
    if let Some(Value::Array(patches)) = kustomization.get_mut("patchesStrategicMerge") {
        for patch in patches {
            if patch
                .as_str()
                .is_some_and(|p| p.contains('\n') && looks_like_secret(p))
            {
                *patch = Value::String(fingerprint(&scalar_bytes(patch)));
                changed = true;
            }
        }
    }
    changed
}

/// Whether a `patches` entry may change a Secret: its target's kind (a regular
/// expression in kustomize) mentions Secret or is left open, or, without a target, its
/// text names one.
pub fn may_reach_secret(patch: &Value) -> bool {
    match patch.get("target") {
        Some(target) => target
            .get("kind")
            .and_then(Value::as_str)
            .is_none_or(|kind| kind.contains("Secret") || kind.contains('*') || kind.contains('.')),
        None => patch
            .get("patch")
            .and_then(Value::as_str)
            .is_some_and(looks_like_secret),
    }
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
    fn a_kustomization_shows_which_secret_values_it_writes_not_the_values() {
        let text = "secretGenerator:\n- name: app\n  literals: [password=hunter2, bare-value]\nconfigMapGenerator:\n- name: c\n  literals: [mode=debug]\npatches:\n- target: {kind: Secret, name: s}\n  patch: |-\n    - op: add\n      path: /stringData/x\n      value: json-secret\n- patch: |-\n    kind: Secret\n    metadata: {name: s}\n    stringData: {y: inline-secret}\n- target: {kind: Deployment}\n  patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 3\n";
        let out = redact_kustomization_text(text);
        for secret in ["hunter2", "bare-value", "json-secret", "inline-secret"] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(out.contains("password=sha256:"), "{out}");
        assert!(out.contains("mode=debug"), "ConfigMap literals stay: {out}");
        assert!(
            out.contains("/spec/replicas"),
            "a Deployment patch stays: {out}"
        );
        assert_eq!(
            redact_kustomization_text("secretGenerator: [broken\n"),
            "# a kustomization that mentions Secrets and does not parse is hidden\n"
        );
        let plain = "resources: [a.yaml]\n# comments stay\n";
        assert_eq!(redact_kustomization_text(plain), plain);
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
