//! No Secret value of the demo or the corpus appears in any output: text, JSON, raw diff,
//! history, show.

use base64::Engine;
use serde_json::Value;
use tempfile::TempDir;

use crate::common::{
    EnvRepoBuilder, corpus, corpus_available, files_in, kustomize_available, tollgate_with,
};
use crate::demo::demo;

/// Every way a value could leak: as written and base64-encoded.
fn forms(value: &str) -> Vec<String> {
    vec![
        value.to_string(),
        base64::engine::general_purpose::STANDARD.encode(value),
    ]
}

#[track_caller]
fn assert_hides(output: &str, secrets: &[String], what: &str) {
    for secret in secrets {
        assert!(!output.contains(secret.as_str()), "{what} leaks {secret:?}");
    }
}

#[test]
fn no_demo_secret_value_appears_in_any_output() {
    if !kustomize_available("no_demo_secret_value_appears_in_any_output") {
        return;
    }
    let (home, config) = demo();
    let secrets: Vec<String> = tollgate::demo::DEMO_SECRET_VALUES
        .iter()
        .flat_map(|v| forms(v))
        .collect();
    let mut outputs = Vec::new();
    let list = tollgate_with(home.path(), &config, &["list", "--json"]).ok();
    for row in list.json().as_array().expect("array") {
        let id = row["id"].as_str().expect("id");
        for extra in [&[][..], &["--json"], &["--raw"], &["--raw", "--json"]] {
            let mut args = vec!["diff", id];
            args.extend_from_slice(extra);
            outputs.push((
                format!("diff {id} {extra:?}"),
                tollgate_with(home.path(), &config, &args).ok().stdout,
            ));
        }
    }
    outputs.push(("list".into(), list.stdout.clone()));
    for repo in ["shop", "platform"] {
        for mode in [&["--json"][..], &[], &["--rendered"]] {
            let mut args = vec!["history", "--repo", repo];
            args.extend_from_slice(mode);
            outputs.push((
                format!("history {repo} {mode:?}"),
                tollgate_with(home.path(), &config, &args).ok().stdout,
            ));
        }
        let history = tollgate_with(home.path(), &config, &["history", "--repo", repo, "--json"])
            .ok()
            .json();
        for entry in history.as_array().expect("array") {
            let sha = entry["sha"].as_str().expect("sha");
            for json in [true, false] {
                let mut args = vec!["show", sha, "--repo", repo];
                if json {
                    args.push("--json");
                }
                outputs.push((
                    format!("show {sha}"),
                    tollgate_with(home.path(), &config, &args).ok().stdout,
                ));
            }
        }
    }
    assert!(outputs.len() > 40, "every command was exercised");
    for (what, output) in &outputs {
        assert_hides(output, &secrets, what);
    }
    // The Secret promotion's diff does show that something changed.
    let diff = &outputs
        .iter()
        .find(|(w, _)| w.starts_with("diff shop:promote/rotate-api-credentials"))
        .expect("ran")
        .1;
    assert!(
        diff.contains("DB_PASSWORD") && diff.contains("sha256:"),
        "{diff}"
    );
}

/// Every string anywhere in `value`.
fn strings(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.push_str(k);
            out.push('\n');
            strings(v, out);
        }),
        _ => {}
    }
}

/// Values under `data` and `stringData` of every Secret in a YAML stream, read
/// independently of tollgate's parser. Text that also appears outside Secrets (a line of
/// a dashboard that a datasource Secret repeats) is public and not counted.
fn secret_values(texts: &[String]) -> Vec<String> {
    let docs: Vec<Value> = texts
        .iter()
        .flat_map(|t| serde_saphyr::from_multiple::<Value>(t).unwrap_or_default())
        .collect();
    let mut public = String::new();
    for doc in docs.iter().filter(|d| d["kind"] != "Secret") {
        strings(doc, &mut public);
    }
    let mut out = Vec::new();
    for doc in docs {
        if doc["kind"] != "Secret" {
            continue;
        }
        for key in ["data", "stringData"] {
            if let Some(map) = doc.get(key).and_then(Value::as_object) {
                for value in map.values().filter_map(Value::as_str) {
                    let decoded = if key == "data" {
                        base64::engine::general_purpose::STANDARD
                            .decode(value)
                            .ok()
                            .and_then(|b| String::from_utf8(b).ok())
                    } else {
                        None
                    };
                    for candidate in std::iter::once(value.to_string()).chain(decoded) {
                        // Whole values, and each substantial line of a multi-line value.
                        out.extend(
                            candidate
                                .lines()
                                .map(str::trim)
                                .filter(|l| l.len() >= 12)
                                .map(str::to_string),
                        );
                        if candidate.len() >= 8 {
                            out.push(candidate.clone());
                        }
                    }
                }
            }
        }
    }
    out.retain(|candidate| !public.contains(candidate.as_str()));
    out
}

#[test]
fn no_corpus_secret_value_appears_in_any_output() {
    if !corpus_available("no_corpus_secret_value_appears_in_any_output") {
        return;
    }
    let cases = [
        (
            "kube-prometheus/v0.15.0/manifests",
            "kube-prometheus/v0.16.0/manifests",
        ),
        (
            "kubernetes-dashboard/v2.0.0/aio/deploy",
            "kubernetes-dashboard/v2.7.0/aio/deploy",
        ),
    ];
    for (old, new) in cases {
        let home = TempDir::new().expect("temp dir");
        let mut builder = EnvRepoBuilder::new(&home.path().join("repo.git"));
        let mut texts = Vec::new();
        let mut commit = |dir: &str, builder: &mut EnvRepoBuilder| {
            let files = files_in(&corpus().join(dir));
            let mut changes: Vec<(String, Option<Vec<u8>>)> = Vec::new();
            for (path, bytes) in files {
                texts.push(String::from_utf8_lossy(&bytes).to_string());
                changes.push((format!("envs/corpus/{path}"), Some(bytes)));
            }
            let borrowed: Vec<(&str, Option<&[u8]>)> = changes
                .iter()
                .map(|(p, c)| (p.as_str(), c.as_deref()))
                .collect();
            builder.commit(&borrowed, "Alice", dir)
        };
        let a = commit(old, &mut builder);
        let b = commit(new, &mut builder);
        let config = builder.write_config(home.path(), "");
        let mut secrets = secret_values(&texts);
        secrets.sort();
        secrets.dedup();
        if old.starts_with("kube-prometheus") {
            assert!(!secrets.is_empty(), "{old} has Secret values to protect");
        }
        let range = format!("{a}..{b}");
        for args in [
            vec!["diff", range.as_str()],
            vec!["diff", range.as_str(), "--json"],
            vec!["diff", range.as_str(), "--raw"],
            vec!["diff", range.as_str(), "--raw", "--json"],
            vec!["show", "HEAD~1"],
            vec!["show", "HEAD~1", "--json"],
            vec!["history", "--rendered", "--json"],
        ] {
            let result = tollgate_with(home.path(), &config, &args).ok();
            assert_hides(&result.stdout, &secrets, &format!("{old}: {args:?}"));
        }
    }
}

/// A kustomization that writes a Secret value every way kustomize allows; `tag` makes
/// each value distinct per version.
fn kustomization_files(tag: &str) -> Vec<(String, String)> {
    let kustomization = format!(
        "resources: [secret.yaml]
secretGenerator:
- name: app
  literals: [password=literal-{tag}-value]
  envs: [secret.env]
  files: [tls.key]
patches:
- target: {{kind: Secret, name: manual}}
  patch: |-
    - op: add
      path: /stringData/json
      value: json-patch-{tag}-value
- patch: |-
    apiVersion: v1
    kind: Secret
    metadata: {{name: manual}}
    stringData:
      inline: inline-patch-{tag}-value
- path: secret-patch.yaml
  target: {{kind: Secret, name: manual}}
"
    );
    vec![
        ("envs/prod/kustomization.yaml".into(), kustomization),
        (
            "envs/prod/secret.yaml".into(),
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata: {{name: manual}}\nstringData:\n  manifest: manifest-{tag}-value\n"
            ),
        ),
        (
            "envs/prod/secret.env".into(),
            format!("API_KEY=env-file-{tag}-value\n"),
        ),
        (
            "envs/prod/tls.key".into(),
            format!("file-source-{tag}-value\n"),
        ),
        (
            "envs/prod/secret-patch.yaml".into(),
            format!("- op: add\n  path: /stringData/file\n  value: patch-file-{tag}-value\n"),
        ),
    ]
}

#[test]
fn no_secret_value_written_in_a_kustomization_appears_in_any_output() {
    if !kustomize_available("no_secret_value_written_in_a_kustomization_appears_in_any_output") {
        return;
    }
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    let mut secrets = Vec::new();
    for tag in ["old", "new"] {
        let files = kustomization_files(tag);
        let borrowed: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        repo.commit_files(&borrowed, "Alice", &format!("secrets {tag}"));
        for way in [
            "literal",
            "json-patch",
            "inline-patch",
            "manifest",
            "env-file",
            "file-source",
            "patch-file",
        ] {
            secrets.extend(forms(&format!("{way}-{tag}-value")));
        }
    }
    let config = repo.write_config(home.path(), "");
    let mut outputs = 0;
    for args in [
        &["diff", "HEAD~1..HEAD"][..],
        &["diff", "HEAD~1..HEAD", "--json"],
        &["diff", "HEAD~1..HEAD", "--raw"],
        &["diff", "HEAD~1..HEAD", "--raw", "--json"],
        &["show", "HEAD"],
        &["show", "HEAD", "--json"],
        &["history"],
        &["history", "--json"],
        &["history", "--rendered"],
        &["history", "--rendered", "--json"],
    ] {
        let result = tollgate_with(home.path(), &config, args).ok();
        assert_hides(&result.stdout, &secrets, &format!("{args:?}"));
        outputs += 1;
        if args == ["diff", "HEAD~1..HEAD", "--raw"] {
            // The reviewer still sees which values changed.
            for shown in ["password=sha256:", "(secret generator input) sha256:"] {
                assert!(result.stdout.contains(shown), "{shown}: {}", result.stdout);
            }
        }
    }
    assert_eq!(outputs, 10);
}
