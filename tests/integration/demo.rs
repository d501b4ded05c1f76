//! The demo workspace, end to end through the binary.

use std::path::PathBuf;

use tempfile::TempDir;

use crate::common::{kustomize_available, run, tollgate, tollgate_with};

pub fn demo() -> (TempDir, PathBuf) {
    let home = TempDir::new().expect("temp dir");
    let dir = home.path().join("demo");
    // Without a helm, whatever the machine has: the demo's Helm repository stays out of
    // the config, and the views and snapshots are the same everywhere.
    run(tollgate(home.path())
        .env("TOLLGATE_HELM", "/nonexistent/helm")
        .args(["demo", "init"])
        .arg(&dir))
    .ok();
    let config = dir.join("config.yaml");
    (home, config)
}

#[test]
fn demo_lists_at_least_four_promotions_across_two_repos() {
    if !kustomize_available("demo_lists_at_least_four_promotions_across_two_repos") {
        return;
    }
    let (home, config) = demo();
    let list = tollgate_with(home.path(), &config, &["list", "--json"])
        .ok()
        .json();
    let rows = list.as_array().expect("an array");
    assert!(rows.len() >= 4, "{list:#}");
    let mut repos: Vec<&str> = rows
        .iter()
        .map(|r| r["repo"].as_str().expect("repo"))
        .collect();
    repos.sort();
    repos.dedup();
    assert_eq!(repos, ["platform", "shop"]);
    let api = rows
        .iter()
        .find(|r| r["id"] == "shop:promote/api-1.5.0-production")
        .expect("the image bump is pending");
    assert_eq!(api["environments"], serde_json::json!(["production"]));
    assert_eq!(api["author"]["name"], "CI Bot");
    assert!(
        api["summary"]
            .as_str()
            .expect("summary")
            .contains("1.4.2 → 1.5.0"),
        "{api}"
    );
    let mine = rows
        .iter()
        .filter(|r| r["author"]["email"] == "dana@example.com")
        .count();
    assert_eq!(mine, 1, "one promotion is the demo identity's own");
    for key in [
        "id",
        "repo",
        "branch",
        "title",
        "created",
        "head",
        "base",
        "environments",
        "summary",
    ] {
        assert!(api.get(key).is_some(), "list JSON has {key}");
    }
}

#[test]
fn secret_promotion_diff_names_the_keys_that_changed() {
    let (home, config) = demo();
    let diff = tollgate_with(
        home.path(),
        &config,
        &["diff", "shop:promote/rotate-api-credentials", "--json"],
    )
    .ok()
    .json();
    let env = &diff["environments"][0];
    assert_eq!(env["name"], "production");
    let objects = env["objects"].as_array().expect("objects");
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0]["kind"], "Secret");
    assert_eq!(objects[0]["change"], "changed");
    let paths: Vec<&str> = objects[0]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    assert_eq!(paths, ["data.DB_PASSWORD", "stringData.PAYMENTS_API_KEY"]);
    let old = objects[0]["fields"][0]["old"]
        .as_str()
        .expect("old fingerprint");
    assert!(
        old.starts_with("sha256:") && old.ends_with("bytes)"),
        "{old}"
    );
}

#[test]
fn production_history_has_the_demo_trailers_parsed() {
    let (home, config) = demo();
    let history = tollgate_with(
        home.path(),
        &config,
        &["history", "--repo", "shop", "--env", "production", "--json"],
    )
    .ok()
    .json();
    let entries = history.as_array().expect("array");
    assert!(entries.len() >= 10, "{}", entries.len());
    let merge = entries
        .iter()
        .find(|e| e["subject"] == "Merge promotion shop:promote/api-1.4.0-production")
        .expect("the 1.4.0 merge changed production");
    let trailers = merge["trailers"].as_array().expect("trailers");
    let keys: Vec<&str> = trailers
        .iter()
        .map(|t| t["key"].as_str().expect("key"))
        .collect();
    assert_eq!(
        keys,
        ["Promotion", "Approved-by", "Approved-by", "Merged-by"]
    );
    assert_eq!(trailers[1]["value"], "Alice Admin <alice@example.com>");
    assert!(
        merge["author"]["time"]
            .as_str()
            .expect("time")
            .ends_with('Z')
    );
    let revert = entries
        .iter()
        .find(|e| {
            e["trailers"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t["key"] == "Reverts"))
        })
        .expect("the revert is in production's history");
    assert!(
        revert["trailers"]
            .as_array()
            .expect("trailers")
            .iter()
            .any(|t| t["key"] == "Reason")
    );
    let direct = entries
        .iter()
        .find(|e| e["subject"] == "Raise api memory limit in production")
        .expect("the direct push is in the history");
    assert_eq!(direct["trailers"], serde_json::json!([]));
    // Staging-only changes are not production's history.
    assert!(
        !entries
            .iter()
            .any(|e| e["subject"] == "web 2.2.0 to staging")
    );
}

#[test]
fn demo_is_deterministic() {
    let (_a, config_a) = demo();
    let (_b, config_b) = demo();
    let head = |config: &std::path::Path| {
        let repo = config.parent().expect("dir").join("repos/shop-env.git");
        tollgate::git::Repo::open("shop", &repo)
            .expect("open")
            .branch_head("main")
            .expect("main")
    };
    assert_eq!(head(&config_a), head(&config_b));
}

#[test]
fn demo_init_refuses_a_folder_that_is_not_empty() {
    let home = TempDir::new().expect("temp dir");
    std::fs::write(home.path().join("keep.txt"), "mine").expect("write");
    let result = run(tollgate(home.path())
        .args(["demo", "init"])
        .arg(home.path()));
    assert_eq!(result.code, 1);
    assert!(result.stderr.contains("not empty"), "{}", result.stderr);
    assert_eq!(
        std::fs::read_to_string(home.path().join("keep.txt")).expect("kept"),
        "mine"
    );
}

#[test]
fn demo_flag_creates_the_workspace_in_the_data_dir_and_reuses_it() {
    if !kustomize_available("demo_flag_creates_the_workspace_in_the_data_dir_and_reuses_it") {
        return;
    }
    let home = TempDir::new().expect("temp dir");
    let first = run(tollgate(home.path()).arg("--demo")).ok();
    assert!(
        first.stdout.contains("shop:promote/api-1.5.0-production"),
        "{}",
        first.stdout
    );
    let marker = home.path().join("data/tollgate/demo/.tollgate-demo");
    assert!(marker.is_file(), "demo lives in the XDG data dir");
    let second = run(tollgate(home.path()).arg("--demo")).ok();
    assert_eq!(first.stdout, second.stdout);
}

#[test]
fn show_prints_a_commit_with_its_rendered_diff() {
    let (home, config) = demo();
    let shown = tollgate_with(
        home.path(),
        &config,
        &["show", "main", "--repo", "shop", "--json"],
    )
    .ok()
    .json();
    assert_eq!(
        shown["commit"]["subject"],
        "Merge promotion shop:promote/api-hpa-production"
    );
    let env = &shown["environments"][0];
    assert_eq!(env["name"], "production");
    assert_eq!(env["objects"][0]["kind"], "HorizontalPodAutoscaler");
    let text = tollgate_with(home.path(), &config, &["show", "main", "--repo", "shop"])
        .ok()
        .stdout;
    assert!(
        text.contains("Approved-by: Alice Admin <alice@example.com>"),
        "{text}"
    );
    assert!(text.contains("spec.maxReplicas: 10 → 12"), "{text}");
}

#[test]
fn logs_go_to_the_state_dir_and_never_to_the_screen() {
    let (home, config) = demo();
    let result = run(tollgate(home.path())
        .env("XDG_STATE_HOME", home.path().join("state"))
        .arg("--config")
        .arg(&config)
        .args([
            "--log-level",
            "debug",
            "history",
            "--repo",
            "shop",
            "--env",
            "staging",
            "--limit",
            "2",
        ]))
    .ok();
    assert!(
        !result.stderr.contains("DEBUG") && !result.stderr.contains("INFO"),
        "{}",
        result.stderr
    );
    assert!(!result.stdout.contains("DEBUG"), "{}", result.stdout);
    let log =
        std::fs::read_to_string(home.path().join("state/tollgate/tollgate.log")).expect("log file");
    assert!(
        log.contains("start") && log.contains("history index"),
        "{log}"
    );
}
