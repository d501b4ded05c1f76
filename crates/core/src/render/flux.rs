//! Flux's post-build substitution: the `${VAR}` in a Kustomization's rendered objects
//! replaced with `spec.postBuild.substitute` and the ConfigMaps and Secrets
//! `substituteFrom` names, read from the repository at the same commit. What Flux deploys
//! is the substituted result, so that is what a diff must compare.
//!
//! The syntax is Flux's (a fork of drone/envsubst): `${VAR}`, the defaults `${VAR:=x}`,
//! `${VAR=x}`, `${VAR:-x}`, `${VAR-x}` (nested `${…}` in them too), `${#VAR}`, `${VAR^}`,
//! `${VAR^^}`, `${VAR,}`, `${VAR,,}`, `${VAR:pos}` and `${VAR:pos:len}`; `$${` is a
//! literal `${`; a bare `$VAR` is left alone. The pattern operators (`/`, `#`, `%`) are
//! not evaluated here: such a document is reported, never guessed. No crate speaks this
//! dialect (envsubst-style crates know `${VAR}` and one default syntax at most).

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use gix::ObjectId;
use serde::Serialize;
use serde_json::Value;

use crate::git::{GitError, Repo};
use crate::manifest::documents::split_documents;
use crate::manifest::parse::Secrets;
use crate::manifest::redact::fingerprint;

/// Objects with this annotation or label are not substituted, as in Flux.
const DISABLED: &str = "kustomize.toolkit.fluxcd.io/substitute: disabled";

/// What a Flux `Kustomization` asks of the render, beyond its path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FluxSettings {
    /// `namespace/name` of the Kustomization, for messages.
    pub kustomization: String,
    /// Its namespace: where the ConfigMaps and Secrets of `substitute_from` live.
    pub namespace: String,
    /// `spec.targetNamespace`: set on every namespaced object.
    pub target_namespace: Option<String>,
    /// `spec.postBuild.substitute`.
    pub substitute: BTreeMap<String, String>,
    /// `spec.postBuild.substituteFrom`, in order (a later one wins).
    pub substitute_from: Vec<SubstituteRef>,
    /// The folder the ConfigMaps and Secrets are looked for in (the Kustomization's).
    pub search: String,
    /// `spec.components`, repository-relative: kustomize components applied to the path.
    pub components: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubstituteRef {
    pub kind: String,
    pub name: String,
    pub optional: bool,
}

/// One variable's value, and whether it came from a Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Variable {
    value: String,
    secret: bool,
}

/// The variables a Flux environment's render is substituted with, at one commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables {
    values: BTreeMap<String, Variable>,
    /// Sources not in the repository (they live in the cluster, or are made elsewhere).
    pub unknown_sources: Vec<String>,
    /// Files the sources were read from, with their blob ids: inputs of the render.
    pub files: Vec<(String, ObjectId)>,
}

impl Variables {
    /// What tells two sets of variables apart, for the render's key.
    pub fn fingerprint(&self) -> String {
        let mut text = String::new();
        for (name, variable) in &self.values {
            text.push_str(&format!("{name}={}\0{}\n", variable.value, variable.secret));
        }
        for source in &self.unknown_sources {
            text.push_str(&format!("?{source}\n"));
        }
        fingerprint(text.as_bytes())
    }
}

/// The variables of `settings` at `tree`: the ConfigMaps and Secrets named, found under
/// the Kustomization's folder, then `substitute`, which wins.
pub fn variables(
    repo: &Repo,
    tree: ObjectId,
    settings: &FluxSettings,
) -> Result<Variables, GitError> {
    let mut out = Variables::default();
    // Each source's values, in the order the sources are named (a later one wins); each
    // file under the folder is read once, however many sources there are.
    let mut found: Vec<Option<Vec<(String, String)>>> = vec![None; settings.substitute_from.len()];
    if !settings.substitute_from.is_empty() {
        for file in repo
            .files_under(tree, &settings.search)?
            .into_iter()
            .filter(|f| crate::render::is_manifest_file(&f.path))
        {
            let bytes = repo.blob(file.id)?;
            let Ok(text) = std::str::from_utf8(&bytes) else {
                continue;
            };
            if !settings
                .substitute_from
                .iter()
                .any(|s| text.contains(&s.name) && text.contains(&s.kind))
            {
                continue;
            }
            for doc in split_documents(text) {
                let Ok(object) = serde_saphyr::from_str::<Value>(doc.text) else {
                    continue;
                };
                for (index, source) in settings.substitute_from.iter().enumerate() {
                    if !is_source(&object, source, &settings.namespace) {
                        continue;
                    }
                    out.files.push((file.path.clone(), file.id));
                    let values = found[index].get_or_insert_with(Vec::new);
                    if doc.text.contains("ENC[") && object.get("sops").is_some() {
                        out.unknown_sources.push(format!(
                            "{} {} (encrypted with SOPS in {})",
                            source.kind, source.name, file.path
                        ));
                        continue;
                    }
                    values.extend(source_values(&object, &source.kind));
                }
            }
        }
    }
    for (source, values) in settings.substitute_from.iter().zip(found) {
        match values {
            Some(values) => {
                for (name, value) in values {
                    out.values.insert(
                        name,
                        Variable {
                            value,
                            secret: source.kind == "Secret",
                        },
                    );
                }
            }
            None if !source.optional => out.unknown_sources.push(format!(
                "{} {}/{} (not in the repository under {}/)",
                source.kind, settings.namespace, source.name, settings.search
            )),
            None => {}
        }
    }
    for (name, value) in &settings.substitute {
        out.values.insert(
            name.clone(),
            Variable {
                value: value.clone(),
                secret: false,
            },
        );
    }
    Ok(out)
}

fn is_source(object: &Value, source: &SubstituteRef, namespace: &str) -> bool {
    let metadata = object.get("metadata");
    object.get("kind").and_then(Value::as_str) == Some(source.kind.as_str())
        && object.get("apiVersion").and_then(Value::as_str) == Some("v1")
        && metadata.and_then(|m| m.get("name")).and_then(Value::as_str)
            == Some(source.name.as_str())
        && metadata
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
            .is_none_or(|ns| ns == namespace)
}

fn source_values(object: &Value, kind: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let strings = |field: &str| -> Vec<(String, String)> {
        object
            .get(field)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => return None,
                    other => other.to_string(),
                };
                Some((k.clone(), text))
            })
            .collect()
    };
    if kind == "Secret" {
        for (name, encoded) in strings("data") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            if let Some(value) = decoded {
                out.push((name, value));
            }
        }
        out.extend(strings("stringData"));
    } else {
        out.extend(strings("data"));
    }
    out
}

/// The render's text after substitution, and what could not be known.
pub struct Substituted {
    pub text: Vec<u8>,
    /// One line per thing a reader must know: variables left as written because their
    /// source is not in the repository, operators not evaluated here.
    pub unknown: Vec<String>,
}

/// Substitute `vars` into each document of `rendered` (kustomize's output). A value from
/// a Secret is its fingerprint unless `secrets` keeps values (for applying).
pub fn substitute(rendered: &[u8], vars: &Variables, secrets: Secrets) -> Substituted {
    let text = String::from_utf8_lossy(rendered);
    let sources_unknown = !vars.unknown_sources.is_empty();
    let mut out = String::with_capacity(text.len());
    let mut left: BTreeSet<String> = BTreeSet::new();
    let mut empty: BTreeSet<String> = BTreeSet::new();
    let mut unsupported: BTreeSet<String> = BTreeSet::new();
    for doc in split_documents(&text) {
        out.push_str("---\n");
        if doc.text.contains(DISABLED) || !doc.text.contains("${") {
            out.push_str(doc.text);
        } else {
            let lookup = |name: &str| -> Option<String> {
                vars.values.get(name).map(|v| match (v.secret, secrets) {
                    (true, Secrets::Redact) => fingerprint(v.value.as_bytes()),
                    _ => v.value.clone(),
                })
            };
            let mut eval = Eval {
                lookup: &lookup,
                keep_unset: sources_unknown,
                left: &mut left,
                empty: &mut empty,
                unsupported: &mut unsupported,
            };
            out.push_str(&eval.text(doc.text));
        }
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    let mut unknown = Vec::new();
    if !vars.unknown_sources.is_empty() {
        unknown.push(format!(
            "Flux substitutes values tollgate cannot read: {}",
            vars.unknown_sources.join(", ")
        ));
    }
    if !left.is_empty() {
        unknown.push(format!(
            "left as written, their values unknown here: {}",
            left.iter()
                .map(|v| format!("${{{v}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !empty.is_empty() {
        unknown.push(format!(
            "not set, so Flux substitutes an empty string: {}",
            empty
                .iter()
                .map(|v| format!("${{{v}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !unsupported.is_empty() {
        unknown.push(format!(
            "left as written, an operator tollgate does not evaluate: {}",
            unsupported.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Substituted {
        text: out.into_bytes(),
        unknown,
    }
}

/// One document's evaluation.
struct Eval<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    /// Whether a variable with no value and no default stays `${VAR}` (its source may
    /// hold it) rather than becoming empty (Flux's non-strict default).
    keep_unset: bool,
    left: &'a mut BTreeSet<String>,
    empty: &'a mut BTreeSet<String>,
    unsupported: &'a mut BTreeSet<String>,
}

impl Eval<'_> {
    fn text(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let tail = &rest[at..];
            if let Some(after) = tail.strip_prefix("$${") {
                out.push_str("${");
                rest = after;
            } else if let Some(inner) = tail.strip_prefix("${") {
                match closing_brace(inner) {
                    Some(end) => {
                        out.push_str(&self.expression(&inner[..end], &tail[..end + 3]));
                        rest = &inner[end + 1..];
                    }
                    None => {
                        // Flux refuses the whole build over this; say so, and go on.
                        self.unsupported.insert("${ without its closing }".into());
                        out.push_str("${");
                        rest = inner;
                    }
                }
            } else {
                out.push('$');
                rest = &tail[1..];
            }
        }
        out.push_str(rest);
        out
    }

    /// `expression` is what is between `${` and its `}`; `written` the whole of it.
    fn expression(&mut self, expression: &str, written: &str) -> String {
        if let Some(name) = expression.strip_prefix('#')
            && is_name(name)
        {
            return match (self.lookup)(name) {
                Some(value) => value.chars().count().to_string(),
                None => self.unset(name, written),
            };
        }
        let name_end = expression
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(expression.len());
        let (name, op) = expression.split_at(name_end);
        if !is_name(name) {
            self.unsupported.insert(written.to_string());
            return written.to_string();
        }
        let value = (self.lookup)(name);
        for (prefix, or_empty) in [(":=", true), (":-", true), ("=", false), ("-", false)] {
            if let Some(default) = op.strip_prefix(prefix) {
                return match value {
                    Some(v) if !(or_empty && v.is_empty()) => v,
                    _ => self.text(default),
                };
            }
        }
        let Some(value) = value else {
            return match op {
                "" | "^" | "^^" | "," | ",," => self.unset(name, written),
                _ => {
                    self.unsupported.insert(written.to_string());
                    written.to_string()
                }
            };
        };
        match op {
            "" => value,
            "^^" => value.to_uppercase(),
            ",," => value.to_lowercase(),
            "^" | "," => {
                let mut chars = value.chars();
                match chars.next() {
                    Some(first) if op == "^" => first.to_uppercase().chain(chars).collect(),
                    Some(first) => first.to_lowercase().chain(chars).collect(),
                    None => value,
                }
            }
            _ => match substring(&value, op) {
                Some(part) => part,
                None => {
                    self.unsupported.insert(written.to_string());
                    written.to_string()
                }
            },
        }
    }

    fn unset(&mut self, name: &str, written: &str) -> String {
        if self.keep_unset {
            self.left.insert(name.to_string());
            written.to_string()
        } else {
            self.empty.insert(name.to_string());
            String::new()
        }
    }
}

/// `:pos` or `:pos:len` of `value`.
fn substring(value: &str, op: &str) -> Option<String> {
    let spec = op.strip_prefix(':')?;
    let (position, length) = match spec.split_once(':') {
        Some((p, l)) => (
            p.trim().parse::<usize>().ok()?,
            Some(l.trim().parse::<usize>().ok()?),
        ),
        None => (spec.trim().parse::<usize>().ok()?, None),
    };
    let chars = value.chars().skip(position);
    Some(match length {
        Some(length) => chars.take(length).collect(),
        None => chars.collect(),
    })
}

/// The index of the `}` that closes an expression starting at `text` (nested `${…}`
/// counted), if there is one.
fn closing_brace(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            b'\n' => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Flux's rule for a variable name.
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)], unknown_sources: bool) -> Variables {
        Variables {
            values: pairs
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        Variable {
                            value: v.to_string(),
                            secret: false,
                        },
                    )
                })
                .collect(),
            unknown_sources: if unknown_sources {
                vec!["Secret flux-system/cluster-secrets".into()]
            } else {
                Vec::new()
            },
            files: Vec::new(),
        }
    }

    fn run(text: &str, vars: &Variables) -> (String, Vec<String>) {
        let out = substitute(text.as_bytes(), vars, Secrets::Redact);
        (
            String::from_utf8(out.text)
                .expect("utf-8")
                .trim_start_matches("---\n")
                .to_string(),
            out.unknown,
        )
    }

    #[test]
    fn fluxs_own_cases_evaluate_as_flux_does() {
        let v = vars(
            &[
                ("var01", "abcdEFGH28ij"),
                ("default_var", "foo"),
                ("path_name", "/home/bozo/ideas/thoughts.for.today"),
            ],
            false,
        );
        for (input, output) in [
            ("a: ${#var01}", "a: 12"),
            ("a: ${var01^}", "a: AbcdEFGH28ij"),
            ("a: ${var01^^}", "a: ABCDEFGH28IJ"),
            ("a: ${var01,,}", "a: abcdefgh28ij"),
            ("a: ${path_name:11}", "a: ideas/thoughts.for.today"),
            ("a: ${path_name:11:5}", "a: ideas"),
            ("a: ${var01=xyz}", "a: abcdEFGH28ij"),
            ("a: ${var=xyz}", "a: xyz"),
            ("a: something ${var=${default_var}}", "a: something foo"),
            (
                "a: ${var=prefix${default_var}-suffix}",
                "a: prefixfoo-suffix",
            ),
            ("a: ${var:=xyz}", "a: xyz"),
            ("a: $${var01}", "a: ${var01}"),
            (
                "a: some text ${var01}$${var$${var01}$var01${var01}",
                "a: some text abcdEFGH28ij${var${var01}$var01abcdEFGH28ij",
            ),
            ("a: ${var=${var01^^}}", "a: ABCDEFGH28IJ"),
        ] {
            assert_eq!(run(input, &v).0, format!("{output}\n"), "{input}");
        }
    }

    #[test]
    fn an_unknown_source_leaves_variables_as_written_and_says_so() {
        let (text, unknown) = run("a: ${DOMAIN}\nb: ${REGION:=eu}\n", &vars(&[], true));
        assert_eq!(text, "a: ${DOMAIN}\nb: eu\n");
        assert!(unknown[0].contains("cluster-secrets"), "{unknown:?}");
        assert!(unknown[1].contains("${DOMAIN}"), "{unknown:?}");
        // Every source known: an unset variable is empty, as Flux makes it.
        let (text, unknown) = run("a: ${DOMAIN}\n", &vars(&[], false));
        assert_eq!(text, "a: \n");
        assert!(unknown[0].contains("empty string"), "{unknown:?}");
    }

    #[test]
    fn pattern_operators_and_disabled_objects_are_left_alone() {
        let v = vars(&[("file", "bash.string.txt")], false);
        let (text, unknown) = run("a: ${file%%.*}\n", &v);
        assert_eq!(text, "a: ${file%%.*}\n");
        assert!(unknown[0].contains("${file%%.*}"), "{unknown:?}");
        let disabled = "metadata:\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  a: ${file}\n";
        assert_eq!(run(disabled, &v).0, disabled);
    }

    #[test]
    fn a_secrets_value_is_its_fingerprint_unless_applying() {
        let mut v = vars(&[], false);
        v.values.insert(
            "TOKEN".into(),
            Variable {
                value: "hunter22".into(),
                secret: true,
            },
        );
        let shown = substitute(b"a: ${TOKEN}\n", &v, Secrets::Redact);
        let shown = String::from_utf8(shown.text).expect("utf-8");
        assert!(
            !shown.contains("hunter22") && shown.contains("sha256:"),
            "{shown}"
        );
        let applied = substitute(b"a: ${TOKEN}\n", &v, Secrets::Keep);
        assert!(
            String::from_utf8(applied.text)
                .expect("utf-8")
                .contains("hunter22")
        );
    }
}
