//! A plain environment's diff renders both sides together, keeping only what changed
//! whole (`render::plain_pair`). Each case here is diffed that way and with
//! `TOLLGATE_PAIRED_RENDER=off` (each side rendered whole): the JSON and the text must be
//! the same, and each case says whether it was rendered together or had to fall back.

use serde_json::Value;
use tempfile::TempDir;

use tollgate::config::Renderer;
use tollgate::environment::Environment;
use tollgate::render::plain_pair::render_plain_pair;

use crate::common::{EnvRepoBuilder, tollgate};

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec: {containers: [{name: api, image: 'ghcr.io/acme/api:1.0'}]}\n";
const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\nspec: {selector: {app: api}}\n";

fn config_map(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: shop}}\ndata: {{x: '{value}'}}\n"
    )
}

/// One diff between two commits of `envs/prod`, both ways.
struct Both {
    json: Value,
    text: String,
    /// Whether the two sides were rendered together (else each whole).
    together: bool,
    _home: TempDir,
}

/// Commit `base`, then `change` (None deletes), and diff the two both ways.
fn diff_both_ways(base: &[(&str, &[u8])], change: &[(&str, Option<&[u8]>)]) -> Both {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    let base: Vec<(&str, Option<&[u8]>)> = base.iter().map(|(p, c)| (*p, Some(*c))).collect();
    let old = repo.commit(&base, "Alice", "base");
    let new = repo.commit(change, "Bob", "change");
    let config = repo.write_config(home.path(), "");
    let env = Environment::folder("prod".into(), "envs/prod".into(), Renderer::Plain);
    let trees = (
        repo.repo.tree_of(old).expect("old tree"),
        repo.repo.tree_of(new).expect("new tree"),
    );
    let together = render_plain_pair(&repo.repo, (trees.0, &env), (trees.1, &env))
        .expect("render")
        .is_some();
    let range = format!("{old}..{new}");
    let diff = |paired: &str, json: bool| {
        let mut command = tollgate(home.path());
        command
            .env("TOLLGATE_PAIRED_RENDER", paired)
            .arg("--config")
            .arg(&config)
            .args(["diff", &range]);
        if json {
            command.arg("--json");
        }
        crate::common::run(&mut command)
    };
    let (json, whole_json) = (diff("on", true), diff("off", true));
    assert_eq!(json.code, whole_json.code, "{}", json.stderr);
    let json = json.json();
    assert_eq!(json, whole_json.json(), "JSON, together and whole");
    let (text, whole_text) = (diff("on", false), diff("off", false));
    assert_eq!(text.stdout, whole_text.stdout, "text, together and whole");
    Both {
        json,
        text: text.stdout,
        together,
        _home: home,
    }
}

fn environment(json: &Value) -> &Value {
    &json["environments"][0]
}

#[test]
fn unchanged_files_and_moved_documents_are_counted_not_shown() {
    let (c1, b1, b2, gone) = (
        config_map("c1", "1"),
        config_map("b1", "1"),
        config_map("b2", "2"),
        config_map("gone", "1"),
    );
    let a = format!("{DEPLOYMENT}---\n{SERVICE}---\n{c1}");
    let b = format!("{b1}---\n{b2}");
    // The Service moves first, the Deployment's image changes, c1 stays as it was.
    let a_after = format!(
        "{SERVICE}---\n{}---\n{c1}",
        DEPLOYMENT.replace("api:1.0", "api:1.1")
    );
    let added = config_map("added", "1");
    let both = diff_both_ways(
        &[
            ("envs/prod/a.yaml", a.as_bytes()),
            ("envs/prod/b.yaml", b.as_bytes()),
            ("envs/prod/gone.yaml", gone.as_bytes()),
        ],
        &[
            ("envs/prod/a.yaml", Some(a_after.as_bytes())),
            ("envs/prod/added.yaml", Some(added.as_bytes())),
            ("envs/prod/gone.yaml", None),
        ],
    );
    assert!(both.together, "rendered together");
    let env = environment(&both.json);
    let summary = &env["summary"];
    assert_eq!(summary["unchanged"], 4, "{summary:#}"); // Service, c1, b1, b2
    assert_eq!(summary["changed"], 1, "{summary:#}");
    assert_eq!(summary["added"]["ConfigMap"], 1, "{summary:#}");
    assert_eq!(summary["removed"]["ConfigMap"], 1, "{summary:#}");
    let shown: Vec<&str> = env["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| o["name"].as_str().expect("name"))
        .collect();
    assert_eq!(shown, ["added", "gone", "api"], "{env:#}");
    assert!(both.text.contains("api:1.0 → 1.1"), "{}", both.text);
}

#[test]
fn a_service_in_an_unchanged_file_is_orphaned_by_a_relabelled_workload() {
    let relabelled = DEPLOYMENT.replace("{app: api}", "{app: api-v2}");
    let both = diff_both_ways(
        &[
            ("envs/prod/deployment.yaml", DEPLOYMENT.as_bytes()),
            ("envs/prod/service.yaml", SERVICE.as_bytes()),
        ],
        &[("envs/prod/deployment.yaml", Some(relabelled.as_bytes()))],
    );
    assert!(both.together);
    let warnings = environment(&both.json)["warnings"].to_string();
    assert!(
        warnings.contains("Service/shop/api's selector (app=api) no longer matches"),
        "{warnings}"
    );
}

#[test]
fn a_changed_service_is_judged_against_the_pods_of_unchanged_workloads() {
    // Both Deployments are in an unchanged file: their pods are still known.
    let web = DEPLOYMENT.replace("api", "web");
    let workloads = format!("{DEPLOYMENT}---\n{web}");
    let service_web = SERVICE.replace("{app: api}", "{app: web}");
    let to_nothing = SERVICE.replace("{app: api}", "{app: nothing}");
    let to_web = service_web.replace("name: api", "name: api-too");
    let both = diff_both_ways(
        &[
            ("envs/prod/workloads.yaml", workloads.as_bytes()),
            ("envs/prod/service.yaml", SERVICE.as_bytes()),
        ],
        &[(
            "envs/prod/service.yaml",
            Some(format!("{to_nothing}---\n{to_web}").as_bytes()),
        )],
    );
    assert!(both.together);
    let warnings = environment(&both.json)["warnings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0]
            .as_str()
            .is_some_and(|w| w.starts_with("Service/shop/api's selector (app=nothing)")),
        "{warnings:?}"
    );
}

#[test]
fn a_crd_that_changes_scope_renders_each_side_whole() {
    let crd = |scope: &str| {
        format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: widgets.acme.io}}\nspec: {{group: acme.io, scope: {scope}, names: {{kind: Widget, plural: widgets}}}}\n"
        )
    };
    let widget = "apiVersion: acme.io/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\n";
    let both = diff_both_ways(
        &[
            ("envs/prod/crd.yaml", crd("Namespaced").as_bytes()),
            ("envs/prod/widget.yaml", widget.as_bytes()),
        ],
        &[("envs/prod/crd.yaml", Some(crd("Cluster").as_bytes()))],
    );
    // The unchanged Widget is Widget/shop/w before and Widget/w after.
    assert!(!both.together, "falls back");
    let names: Vec<String> = environment(&both.json)["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| {
            format!(
                "{} {}",
                o["change"].as_str().unwrap_or(""),
                o["kind"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(names.contains(&"added Widget".to_string()), "{names:?}");
}

#[test]
fn a_key_twice_with_a_shared_one_among_them_renders_each_side_whole() {
    let first = config_map("twice", "1");
    let second = config_map("twice", "2");
    let other = config_map("other", "1");
    let both = diff_both_ways(
        &[
            ("envs/prod/a.yaml", first.as_bytes()),
            ("envs/prod/b.yaml", other.as_bytes()),
        ],
        &[(
            "envs/prod/b.yaml",
            Some(format!("{other}---\n{second}").as_bytes()),
        )],
    );
    assert!(!both.together, "falls back");
    // The first of a key counts: nothing changed.
    assert_eq!(environment(&both.json)["summary"]["unchanged"], 2);
}

#[test]
fn documents_that_cannot_be_read_are_named_on_each_side_at_their_own_line() {
    let bad = "apiVersion: v1\nkind: [unclosed\n";
    let same = format!("{}---\n{bad}", config_map("s", "1"));
    // Large enough to have its documents read on several threads.
    let padding = config_map("padding", &"x".repeat(300 * 1024));
    let moving = format!("{}---\n{bad}---\n{padding}", config_map("m", "1"));
    let moved = format!(
        "{}---\n{}---\n{bad}---\n{padding}",
        config_map("m", "1"),
        config_map("nn", "1")
    );
    let mut not_utf8 = config_map("u", "1").into_bytes();
    not_utf8.extend_from_slice(b"# \xff\n");
    let both = diff_both_ways(
        &[
            ("envs/prod/same.yaml", same.as_bytes()),
            ("envs/prod/moving.yaml", moving.as_bytes()),
            ("envs/prod/text.yaml", config_map("u", "1").as_bytes()),
        ],
        &[
            ("envs/prod/moving.yaml", Some(moved.as_bytes())),
            ("envs/prod/text.yaml", Some(&not_utf8)),
        ],
    );
    assert!(both.together);
    let issues: Vec<String> = environment(&both.json)["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|i| {
            format!(
                "{}:{} {}",
                i["file"].as_str().unwrap_or(""),
                i["line"],
                i["side"]
            )
        })
        .collect();
    for expected in [
        "envs/prod/same.yaml:7 \"both\"",
        "envs/prod/moving.yaml:7 \"old\"",
        "envs/prod/moving.yaml:12 \"new\"",
        "envs/prod/text.yaml:5 \"new\"",
    ] {
        assert!(
            issues.contains(&expected.to_string()),
            "{expected} in {issues:?}"
        );
    }
}

#[test]
fn warnings_come_in_the_order_of_their_objects_changed_or_not() {
    // A Service in an unchanged file and a changed one, both left selecting nothing:
    // each side rendered whole names them by key, so must the paired render.
    let relabelled = DEPLOYMENT.replace("{app: api}", "{app: api-v2}");
    let first = SERVICE.replace("name: api,", "name: a-first,");
    let last = SERVICE.replace("name: api,", "name: z-last,");
    let last_changed = last.replace("{app: api}", "{app: nothing}");
    let both = diff_both_ways(
        &[
            ("envs/prod/deployment.yaml", DEPLOYMENT.as_bytes()),
            ("envs/prod/first.yaml", first.as_bytes()),
            ("envs/prod/last.yaml", last.as_bytes()),
        ],
        &[
            ("envs/prod/deployment.yaml", Some(relabelled.as_bytes())),
            ("envs/prod/last.yaml", Some(last_changed.as_bytes())),
        ],
    );
    assert!(both.together);
    let warnings = environment(&both.json)["warnings"].to_string();
    let (a, z) = (
        warnings.find("Service/shop/a-first"),
        warnings.find("Service/shop/z-last"),
    );
    assert!(a.is_some() && z.is_some() && a < z, "{warnings}");
}
