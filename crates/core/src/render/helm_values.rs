//! A Helm environment's values files in `--raw`: a value that reaches a Secret the chart
//! renders is shown as its fingerprint, found by what the Secrets hold (their `data`
//! decoded, their `stringData`), not by what its key is called. When the chart does not
//! render, which values reach a Secret is unknown, and every value is hidden.

use base64::Engine;
use serde_json::Value;

use crate::manifest::ManifestObject;
use crate::manifest::redact::fingerprint;

/// Values this short are not matched: `1`, `true` or `api` would hide half the file.
const SHORTEST_MATCHED: usize = 4;

/// The strings the rendered Secrets among `objects` hold.
pub fn secret_strings(objects: &[ManifestObject]) -> Vec<String> {
    let mut out = Vec::new();
    for object in objects.iter().filter(|o| o.key.kind == "Secret") {
        let value = object.value();
        if let Some(Value::Object(data)) = value.get("data") {
            for v in data.values().filter_map(Value::as_str) {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(v.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok());
                out.push(decoded.unwrap_or_else(|| v.to_string()));
            }
        }
        if let Some(Value::Object(data)) = value.get("stringData") {
            out.extend(data.values().filter_map(Value::as_str).map(String::from));
        }
    }
    out
}

/// `text` (a values file) with each scalar that a Secret holds (`secrets`; `None`: not
/// known, so every scalar) replaced by its fingerprint.
pub fn redact_values_text(text: &str, secrets: Option<&[String]>) -> String {
    let hides = |value: &str| match secrets {
        None => true,
        Some(secrets) => {
            value.chars().count() >= SHORTEST_MATCHED && secrets.iter().any(|s| s.contains(value))
        }
    };
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        match scalar_of(body) {
            Some((prefix, value)) if hides(unquoted(value)) => {
                out.push_str(prefix);
                out.push_str(&fingerprint(unquoted(value).as_bytes()));
                out.push_str(ending);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// A line's scalar value and what comes before it: `key: value` or `- value`. Comments,
/// keys that open a map or a list, and block scalars (`|`, `>`) have none.
fn scalar_of(line: &str) -> Option<(&str, &str)> {
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return None;
    }
    let start = match trimmed.strip_prefix("- ") {
        Some(item) if !item.contains(": ") && !item.trim_end().ends_with(':') => {
            line.len() - item.len()
        }
        _ => {
            let colon = line.find(": ")?;
            colon + 2
        }
    };
    let value = line[start..].trim();
    if value.is_empty() || value.starts_with(['|', '>', '{', '[', '&', '*', '#']) {
        return None;
    }
    // A trailing comment is not part of the value.
    let value = match value.find(" #") {
        Some(at) if !value.starts_with(['"', '\'']) => value[..at].trim_end(),
        _ => value,
    };
    Some((&line[..start], value))
}

fn unquoted(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_that_reach_a_secret_are_fingerprints_and_the_rest_stays() {
        let text = "image: ghcr.io/acme/api:1.1\nreplicas: 3\ndb:\n  password: \"pr0d-pa55\"\n  user: api\nurls:\n  - https://x.example # main\n";
        let secrets = vec!["postgres://api:pr0d-pa55@db".to_string()];
        let shown = redact_values_text(text, Some(&secrets));
        assert!(!shown.contains("pr0d-pa55"), "{shown}");
        assert!(shown.contains("  password: sha256:"), "{shown}");
        assert!(shown.contains("image: ghcr.io/acme/api:1.1"), "{shown}");
        assert!(
            shown.contains("  user: api\n"),
            "short values are not matched: {shown}"
        );
        let unknown = redact_values_text(text, None);
        assert!(
            !unknown.contains("ghcr.io") && !unknown.contains("x.example"),
            "{unknown}"
        );
        assert!(unknown.contains("db:\n"), "keys stay: {unknown}");
    }
}
