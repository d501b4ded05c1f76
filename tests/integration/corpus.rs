//! Real manifests from public projects (`../shared/corpus`, see its README): each pair of
//! versions is committed into a temp repo and `tollgate diff` must report exactly the
//! objects that changed. The expected sets are computed here with a few lines of
//! independent code (serde-saphyr's own multi-document reader, nulls dropped), and checked
//! against the numbers the corpus README gives.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;

use crate::common::{
    EnvRepoBuilder, corpus, corpus_available, files_in, kustomize_available, tollgate_with,
};

type Key = (String, String, Option<String>, String);

/// `(group, kind, namespace, name)` → object, for every YAML file in `files`.
fn independent_objects(files: &[(String, Vec<u8>)]) -> BTreeMap<Key, Value> {
    let mut out = BTreeMap::new();
    for (path, bytes) in files {
        if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
            continue;
        }
        let text = std::str::from_utf8(bytes).expect("corpus is UTF-8");
        let docs: Vec<Value> =
            serde_saphyr::from_multiple(text).unwrap_or_else(|e| panic!("{path} parses: {e}"));
        for doc in docs {
            let items = match (doc["kind"].as_str(), doc.get("items")) {
                (Some(kind), Some(Value::Array(items))) if kind.ends_with("List") => items.clone(),
                _ => vec![doc],
            };
            for item in items {
                let api = item["apiVersion"].as_str().unwrap_or("");
                let group = api
                    .rsplit_once('/')
                    .map(|(g, _)| g)
                    .unwrap_or("")
                    .to_string();
                let key = (
                    group,
                    item["kind"].as_str().unwrap_or("").to_string(),
                    item["metadata"]["namespace"].as_str().map(str::to_string),
                    item["metadata"]["name"].as_str().unwrap_or("").to_string(),
                );
                out.insert(key, without_nulls(item));
            }
        }
    }
    out
}

fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

fn without_labels(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "labels")
                .map(|(k, v)| (k.clone(), without_labels(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_labels).collect()),
        other => other.clone(),
    }
}

struct Expected {
    total: usize,
    changed: BTreeSet<Key>,
    label_only: usize,
    added: usize,
    removed: usize,
}

fn expected(old: &[(String, Vec<u8>)], new: &[(String, Vec<u8>)]) -> Expected {
    let (a, b) = (independent_objects(old), independent_objects(new));
    let changed: BTreeSet<Key> = a
        .iter()
        .filter(|(k, v)| b.get(*k).is_some_and(|w| w != *v))
        .map(|(k, _)| k.clone())
        .collect();
    let label_only = changed
        .iter()
        .filter(|k| without_labels(&a[*k]) == without_labels(&b[*k]))
        .count();
    Expected {
        total: a.len(),
        added: b.keys().filter(|k| !a.contains_key(*k)).count(),
        removed: a.keys().filter(|k| !b.contains_key(*k)).count(),
        changed,
        label_only,
    }
}

/// What tollgate reports for a range: changed keys, and counts from the summary.
struct Reported {
    changed: BTreeSet<Key>,
    label_only: usize,
    added: usize,
    removed: usize,
    unchanged: usize,
}

fn reported(json: &Value) -> Reported {
    let env = &json["environments"][0];
    let objects = env["objects"].as_array().cloned().unwrap_or_default();
    let key = |o: &Value| -> Key {
        (
            o["group"].as_str().unwrap_or("").to_string(),
            o["kind"].as_str().unwrap_or("").to_string(),
            o["namespace"].as_str().map(str::to_string),
            o["name"].as_str().unwrap_or("").to_string(),
        )
    };
    let count = |change: &str| objects.iter().filter(|o| o["change"] == change).count();
    assert!(
        env["issues"].as_array().is_none_or(Vec::is_empty),
        "no parse issues: {}",
        env["issues"]
    );
    Reported {
        changed: objects
            .iter()
            .filter(|o| o["change"] == "changed")
            .map(key)
            .collect(),
        label_only: env["summary"]["label_only"].as_u64().unwrap_or(0) as usize,
        added: count("added"),
        removed: count("removed"),
        unchanged: env["summary"]["unchanged"].as_u64().unwrap_or(0) as usize,
    }
}

/// Commit `old` then `new` (replacing it) as `envs/corpus` and diff the two commits.
fn diff_versions(
    old: &[(String, Vec<u8>)],
    new: &[(String, Vec<u8>)],
    renderer: &str,
) -> (Value, TempDir) {
    let home = TempDir::new().expect("temp dir");
    let mut builder = EnvRepoBuilder::new(&home.path().join("repo.git"));
    let place = |files: &[(String, Vec<u8>)]| -> Vec<(String, Option<Vec<u8>>)> {
        files
            .iter()
            .map(|(p, b)| (format!("envs/corpus/{p}"), Some(b.clone())))
            .collect()
    };
    let first = place(old);
    let mut second = place(new);
    for (path, _) in &first {
        if !second.iter().any(|(p, _)| p == path) {
            second.push((path.clone(), None));
        }
    }
    let borrow = |c: &[(String, Option<Vec<u8>>)]| -> Vec<(String, Option<Vec<u8>>)> { c.to_vec() };
    let a = {
        let c = borrow(&first);
        let r: Vec<(&str, Option<&[u8]>)> =
            c.iter().map(|(p, b)| (p.as_str(), b.as_deref())).collect();
        builder.commit(&r, "Alice", "old")
    };
    let b = {
        let c = borrow(&second);
        let r: Vec<(&str, Option<&[u8]>)> =
            c.iter().map(|(p, b)| (p.as_str(), b.as_deref())).collect();
        builder.commit(&r, "Alice", "new")
    };
    let config = builder.write_config(
        home.path(),
        &format!("      - {{ name: corpus, path: envs/corpus, renderer: {renderer} }}\n"),
    );
    let json = tollgate_with(
        home.path(),
        &config,
        &["diff", &format!("{a}..{b}"), "--env", "corpus", "--json"],
    )
    .ok()
    .json();
    (json, home)
}

fn files(relative: &str) -> Vec<(String, Vec<u8>)> {
    let path = corpus().join(relative);
    if path.is_file() {
        let name = Path::new(relative)
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .to_string();
        vec![(name, std::fs::read(&path).expect("read corpus file"))]
    } else {
        files_in(&path)
    }
}

/// Check tollgate against the independent computation and the README's numbers.
#[track_caller]
fn check(old: &str, new: &str, total: usize, changed: usize, label_only: usize) {
    let (old_files, new_files) = (files(old), files(new));
    let want = expected(&old_files, &new_files);
    assert_eq!(
        (want.total, want.changed.len(), want.label_only),
        (total, changed, label_only),
        "{old} → {new}: the independent count agrees with the corpus README"
    );
    let (json, _home) = diff_versions(&old_files, &new_files, "plain");
    let got = reported(&json);
    assert_eq!(got.changed, want.changed, "{old} → {new}: changed objects");
    assert_eq!(
        got.label_only, want.label_only,
        "{old} → {new}: label-only changes"
    );
    assert_eq!(
        (got.added, got.removed),
        (want.added, want.removed),
        "{old} → {new}: added, removed"
    );
    assert_eq!(
        got.unchanged + got.changed.len() + got.removed,
        total,
        "{old} → {new}: every object accounted for"
    );
}

#[test]
fn argo_cd_install_changes_twelve_objects() {
    if !corpus_available("argo_cd_install_changes_twelve_objects") {
        return;
    }
    check(
        "argo-cd/v2.14.0/manifests/install.yaml",
        "argo-cd/v3.0.0/manifests/install.yaml",
        59,
        12,
        0,
    );
    let (json, _home) = diff_versions(
        &files("argo-cd/v2.14.0/manifests/install.yaml"),
        &files("argo-cd/v3.0.0/manifests/install.yaml"),
        "plain",
    );
    let names: BTreeSet<String> = json["environments"][0]["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap_or(""),
                o["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    let readme: BTreeSet<String> = [
        "ConfigMap/argocd-cm",
        "CustomResourceDefinition/applications.argoproj.io",
        "CustomResourceDefinition/applicationsets.argoproj.io",
        "CustomResourceDefinition/appprojects.argoproj.io",
        "Deployment/argocd-applicationset-controller",
        "Deployment/argocd-dex-server",
        "Deployment/argocd-notifications-controller",
        "Deployment/argocd-redis",
        "Deployment/argocd-repo-server",
        "Deployment/argocd-server",
        "StatefulSet/argocd-application-controller",
        "Role/argocd-application-controller",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(names, readme);
    let summary = json["environments"][0]["summary"].to_string();
    assert!(
        summary.contains("quay.io/argoproj/argocd:v2.14.0-rc7"),
        "image changes are summarised: {summary}"
    );
}

#[test]
fn argo_cd_later_versions() {
    if !corpus_available("argo_cd_later_versions") {
        return;
    }
    check(
        "argo-cd/v3.0.0/manifests/install.yaml",
        "argo-cd/v3.5.0/manifests/install.yaml",
        59,
        18,
        6,
    );
    check(
        "argo-cd/v2.14.0/manifests/install.yaml",
        "argo-cd/v3.5.0/manifests/install.yaml",
        59,
        20,
        // The README gives no label-only count here; the six NetworkPolicies are.
        6,
    );
}

#[test]
fn kube_prometheus_folder_with_lists() {
    if !corpus_available("kube_prometheus_folder_with_lists") {
        return;
    }
    check(
        "kube-prometheus/v0.15.0/manifests",
        "kube-prometheus/v0.16.0/manifests",
        120,
        88,
        78,
    );
}

#[test]
fn istio_files() {
    if !corpus_available("istio_files") {
        return;
    }
    let base = "manifests/charts/base/files/crd-all.gen.yaml";
    check(
        &format!("istio/1.27.0/{base}"),
        &format!("istio/1.28.0/{base}"),
        14,
        7,
        0,
    );
    // The README counts grafana's two ConfigMaps as changed: their only difference is a
    // `creationTimestamp: null` that goes away. Null and absent are one value to the API
    // server, so tollgate (and the independent count, which drops nulls) sees no change.
    check(
        "istio/1.27.0/samples/addons/grafana.yaml",
        "istio/1.28.0/samples/addons/grafana.yaml",
        6,
        0,
        0,
    );
    check(
        "istio/1.27.0/samples/addons/prometheus.yaml",
        "istio/1.28.0/samples/addons/prometheus.yaml",
        6,
        6,
        // The README says all six change only labels, but the Deployment also bumps its
        // images (prom/prometheus v3.4.2 → v3.5.0, config-reloader v0.83.0 → v0.85.0).
        5,
    );
    check(
        "istio/1.27.0/samples/addons/kiali.yaml",
        "istio/1.28.0/samples/addons/kiali.yaml",
        6,
        6,
        3,
    );
    check(
        "istio/1.27.0/samples/bookinfo/platform/kube/bookinfo.yaml",
        "istio/1.28.0/samples/bookinfo/platform/kube/bookinfo.yaml",
        14,
        0,
        0,
    );
}

#[test]
fn ingress_nginx_versions_and_platforms() {
    if !corpus_available("ingress_nginx_versions_and_platforms") {
        return;
    }
    for provider in ["cloud", "baremetal"] {
        let path = format!("deploy/static/provider/{provider}/deploy.yaml");
        check(
            &format!("ingress-nginx/controller-v1.11.0/{path}"),
            &format!("ingress-nginx/controller-v1.12.0/{path}"),
            19,
            18,
            13,
        );
    }
    check(
        "ingress-nginx/controller-v1.12.0/deploy/static/provider/cloud/deploy.yaml",
        "ingress-nginx/controller-v1.12.0/deploy/static/provider/baremetal/deploy.yaml",
        19,
        2,
        0,
    );
}

#[test]
fn kubernetes_dashboard_image_bump() {
    if !corpus_available("kubernetes_dashboard_image_bump") {
        return;
    }
    check(
        "kubernetes-dashboard/v2.6.1/aio/deploy/recommended.yaml",
        "kubernetes-dashboard/v2.7.0/aio/deploy/recommended.yaml",
        14,
        1,
        0,
    );
    check(
        "kubernetes-dashboard/v2.0.0/aio/deploy/recommended.yaml",
        "kubernetes-dashboard/v2.6.1/aio/deploy/recommended.yaml",
        14,
        2,
        0,
    );
    let (json, _home) = diff_versions(
        &files("kubernetes-dashboard/v2.6.1/aio/deploy/recommended.yaml"),
        &files("kubernetes-dashboard/v2.7.0/aio/deploy/recommended.yaml"),
        "plain",
    );
    let object = &json["environments"][0]["objects"][0];
    assert_eq!(
        object["fields"][0]["path"],
        "spec.template.spec.containers[name=kubernetes-dashboard].image"
    );
    assert_eq!(object["fields"][0]["old"], "kubernetesui/dashboard:v2.6.1");
    assert_eq!(object["fields"][0]["new"], "kubernetesui/dashboard:v2.7.0");
}

#[test]
fn cert_manager_crds_all_change() {
    if !corpus_available("cert_manager_crds_all_change") {
        return;
    }
    check(
        "cert-manager/v1.19.0/deploy/crds",
        "cert-manager/v1.20.0/deploy/crds",
        6,
        6,
        0,
    );
}

#[test]
fn podinfo_kustomization_renders_and_diffs_offline() {
    if !corpus_available("podinfo_kustomization_renders_and_diffs_offline") {
        return;
    }
    if !kustomize_available("podinfo_kustomization_renders_and_diffs_offline") {
        return;
    }
    let (json, _home) = diff_versions(
        &files("podinfo/6.13.0/kustomize"),
        &files("podinfo/6.14.0/kustomize"),
        "kustomize",
    );
    let env = &json["environments"][0];
    assert_eq!(env["render_errors"], serde_json::json!([]));
    let objects = env["objects"].as_array().expect("objects");
    assert_eq!(objects.len(), 1, "{objects:#?}");
    assert_eq!(objects[0]["kind"], "Deployment");
    assert_eq!(objects[0]["name"], "podinfo");
    assert_eq!(env["summary"]["unchanged"], 2);
    assert!(
        env["summary"]["images"][0]["new"]
            .as_str()
            .expect("image")
            .ends_with("6.14.0")
    );
}

#[test]
fn kustomize_examples_render_offline() {
    if !corpus_available("kustomize_examples_render_offline") {
        return;
    }
    if !kustomize_available("kustomize_examples_render_offline") {
        return;
    }
    let home = TempDir::new().expect("temp dir");
    let mut builder = EnvRepoBuilder::new(&home.path().join("repo.git"));
    let first = builder.commit_files(&[("README.md", "examples\n")], "Alice", "start");
    let all = files_in(&corpus().join("kustomize-examples"));
    let changes: Vec<(String, Option<Vec<u8>>)> =
        all.into_iter().map(|(p, b)| (p, Some(b))).collect();
    let borrowed: Vec<(&str, Option<&[u8]>)> = changes
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_deref()))
        .collect();
    let second = builder.commit(&borrowed, "Alice", "add the examples");
    let cases = [
        ("hello", "examples/helloWorld", 3),
        ("multi", "examples/multibases", 3),
        ("multi-dev", "examples/multibases/dev", 1),
        ("ldap-staging", "examples/ldap/overlays/staging", 4),
        ("ldap-production", "examples/ldap/overlays/production", 3),
        ("spring-staging", "examples/springboot/overlays/staging", 3),
        (
            "spring-production",
            "examples/springboot/overlays/production",
            3,
        ),
    ];
    let envs: String = cases
        .iter()
        .map(|(name, path, _)| {
            format!("      - {{ name: {name}, path: {path}, renderer: kustomize }}\n")
        })
        .collect();
    let config = builder.write_config(home.path(), &envs);
    for (name, _, count) in cases {
        let json = tollgate_with(
            home.path(),
            &config,
            &[
                "diff",
                &format!("{first}..{second}"),
                "--env",
                name,
                "--json",
            ],
        )
        .ok()
        .json();
        let env = &json["environments"][0];
        assert_eq!(env["render_errors"], serde_json::json!([]), "{name}");
        let objects = env["objects"].as_array().expect("objects");
        assert_eq!(objects.len(), count, "{name}: {objects:#?}");
        assert!(objects.iter().all(|o| o["change"] == "added"), "{name}");
    }
}

/// `object` with its whole value parsed, as if it had never been kept as text.
fn parsed(object: &tollgate::manifest::ManifestObject) -> tollgate::manifest::ManifestObject {
    tollgate::manifest::ManifestObject::new(
        object.key.clone(),
        object.api_version.clone(),
        object.origin.clone(),
        object.value().clone(),
    )
}

/// The diff of documents kept as text compares only the parts whose text differs
/// (`manifest::chunks`): on every pair of versions of every corpus document that differs,
/// that gives exactly the field changes the comparison of the whole parsed values gives,
/// or gives up; every file's diff and summary (images read from containers alone) are
/// those of its parsed objects. And it does not give up on the documents it is for
/// (argo-cd's CRDs).
#[test]
fn cutting_documents_by_indentation_changes_no_field_change() {
    if !corpus_available("cutting_documents_by_indentation_changes_no_field_change") {
        return;
    }
    use tollgate::manifest::chunks::{field_changes_of, is_plain_block_yaml};
    use tollgate::manifest::documents::split_documents;
    use tollgate::manifest::{ChangeKind, Summary, diff_objects, parse_documents};

    let root = corpus();
    let (mut compared, mut cut) = (0, 0);
    for project in std::fs::read_dir(&root).expect("corpus").flatten() {
        let mut versions: Vec<_> = std::fs::read_dir(project.path())
            .into_iter()
            .flatten()
            .flatten()
            .map(|v| v.path())
            .filter(|v| v.is_dir())
            .collect();
        versions.sort();
        for pair in versions.windows(2) {
            let old_files: BTreeMap<String, Vec<u8>> = files_in(&pair[0]).into_iter().collect();
            for (path, new_bytes) in files_in(&pair[1]) {
                let Some(old_bytes) = old_files.get(&path) else {
                    continue;
                };
                if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
                    continue;
                }
                let (Ok(old_text), Ok(new_text)) = (
                    std::str::from_utf8(old_bytes),
                    std::str::from_utf8(&new_bytes),
                ) else {
                    continue;
                };
                let by_key =
                    |text: &str| -> BTreeMap<String, (String, tollgate::manifest::ManifestObject)> {
                        split_documents(text)
                            .into_iter()
                            .filter_map(|doc| {
                                let mut objects =
                                    parse_documents("doc.yaml", doc.text.as_bytes()).objects;
                                (objects.len() == 1).then(|| {
                                    let object = objects.remove(0);
                                    (object.key.to_string(), (doc.text.to_string(), object))
                                })
                            })
                            .collect()
                    };
                // The whole file, as text and parsed.
                let as_text = diff_objects(
                    parse_documents(&path, old_bytes).objects,
                    parse_documents(&path, &new_bytes).objects,
                );
                let all_parsed = |objects: &[tollgate::manifest::ManifestObject]| {
                    objects.iter().map(parsed).collect::<Vec<_>>()
                };
                let as_values = diff_objects(
                    all_parsed(&parse_documents(&path, old_bytes).objects),
                    all_parsed(&parse_documents(&path, &new_bytes).objects),
                );
                let outcome = |diff: &tollgate::manifest::RenderedDiff| -> Vec<String> {
                    diff.objects
                        .iter()
                        .map(|o| format!("{} {:?} {:?}", o.key, o.change, o.fields))
                        .collect()
                };
                assert_eq!(
                    outcome(&as_text),
                    outcome(&as_values),
                    "{}: {path}",
                    pair[1].display()
                );
                assert_eq!(
                    Summary::of(&as_text),
                    Summary::of(&as_values),
                    "{}: {path}",
                    pair[1].display()
                );
                let old_docs = by_key(old_text);
                for (key, (new_doc, new_object)) in by_key(new_text) {
                    let Some((old_doc, old_object)) = old_docs.get(&key) else {
                        continue;
                    };
                    if *old_doc == new_doc || new_object.key.kind == "Secret" {
                        continue;
                    }
                    compared += 1;
                    let whole = diff_objects(vec![parsed(old_object)], vec![parsed(&new_object)]);
                    let expected = match whole.objects[0].change {
                        ChangeKind::Unchanged => Vec::new(),
                        _ => whole.objects[0].fields.clone(),
                    };
                    let chunked = (is_plain_block_yaml(old_doc) && is_plain_block_yaml(&new_doc))
                        .then(|| field_changes_of(old_doc, &new_doc))
                        .flatten();
                    if let Some(chunked) = chunked {
                        cut += 1;
                        assert_eq!(chunked, expected, "{}: {path}: {key}", pair[1].display());
                    } else {
                        assert!(
                            !key.starts_with("CustomResourceDefinition/")
                                || !path.contains("argo-cd"),
                            "argo-cd's CRDs are cut: {key}"
                        );
                    }
                }
            }
        }
    }
    eprintln!("{cut} of {compared} changed corpus documents compared piece by piece");
    assert!(
        cut * 2 > compared,
        "most changed documents are cut ({cut} of {compared})"
    );
}

/// The diff that `diff_versions` gave (`first`, its JSON) run again with an environment
/// variable set, as JSON or as text.
fn diff_again(
    home: &TempDir,
    first: &Value,
    (variable, value): (&str, &str),
    json: bool,
) -> crate::common::Run {
    let range = format!(
        "{}..{}",
        first["from"].as_str().expect("from"),
        first["to"].as_str().expect("to")
    );
    let mut command = crate::common::tollgate(home.path());
    command
        .env(variable, value)
        .arg("--config")
        .arg(home.path().join("config.yaml"))
        .args(["diff", &range, "--env", "corpus"]);
    if json {
        command.arg("--json");
    }
    crate::common::run(&mut command).ok()
}

#[test]
fn rendering_both_sides_together_gives_the_diff_each_side_whole_gives() {
    if !corpus_available("rendering_both_sides_together_gives_the_diff_each_side_whole_gives") {
        return;
    }
    for (old, new) in [
        ("argo-cd/v2.14.0", "argo-cd/v3.0.0"),
        ("argo-cd/v3.0.0", "argo-cd/v3.5.0"),
        ("kube-prometheus/v0.15.0", "kube-prometheus/v0.16.0"),
        ("istio/1.27.0", "istio/1.28.0"),
        ("cert-manager/v1.19.0", "cert-manager/v1.20.0"),
        ("kubernetes-dashboard/v2.6.1", "kubernetes-dashboard/v2.7.0"),
    ] {
        let (together, home) = diff_versions(&files(old), &files(new), "plain");
        let diff = |paired: &str, json: bool| {
            diff_again(&home, &together, ("TOLLGATE_PAIRED_RENDER", paired), json)
        };
        assert_eq!(together, diff("off", true).json(), "{old} → {new}: JSON");
        assert_eq!(
            diff("on", false).stdout,
            diff("off", false).stdout,
            "{old} → {new}: text"
        );
    }
}

#[test]
fn turning_the_fast_yaml_path_off_gives_the_same_diff() {
    if !corpus_available("turning_the_fast_yaml_path_off_gives_the_same_diff") {
        return;
    }
    for (old, new) in [
        (
            "argo-cd/v2.14.0/manifests/install.yaml",
            "argo-cd/v3.0.0/manifests/install.yaml",
        ),
        ("istio/1.27.0", "istio/1.28.0"),
        // Its Grafana dashboards are a ConfigMapList: the items are kept as text.
        ("kube-prometheus/v0.15.0", "kube-prometheus/v0.16.0"),
    ] {
        let (fast, home) = diff_versions(&files(old), &files(new), "plain");
        let whole = diff_again(&home, &fast, ("TOLLGATE_FAST_YAML", "off"), true).json();
        assert_eq!(fast, whole, "{old} → {new}");
    }
}
