//! Changes a reviewer must not miss stand out in the list, the diff and its JSON.

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, tollgate_with};

const APP: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec: {containers: [{name: api, image: 'ghcr.io/acme/api:1.0'}]}\n";
const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\nspec: {selector: {app: api}}\n";

#[test]
fn a_label_rename_that_orphans_a_service_is_a_warning_everywhere() {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            ("envs/prod/api.yaml", APP),
            ("envs/prod/service.yaml", SERVICE),
        ],
        "Alice",
        "start",
    );
    // The Service is not touched: only the workload's labels change.
    let relabelled = APP.replace("{app: api}", "{app.kubernetes.io/name: api}");
    repo.branch(
        "promote/labels",
        &[("envs/prod/api.yaml", &relabelled)],
        "Bob",
        "Use the recommended labels",
    );
    let config = repo.write_config(home.path(), "");
    let expected =
        "Service/shop/api's selector (app=api) no longer matches the pods of any workload";
    let list = tollgate_with(home.path(), &config, &["list"]).ok().stdout;
    assert!(list.contains(&format!("⚠ {expected}")), "{list}");
    let json = tollgate_with(
        home.path(),
        &config,
        &["diff", "test:promote/labels", "--json"],
    )
    .ok()
    .json();
    let warnings = json["environments"][0]["warnings"].to_string();
    assert!(warnings.contains(expected), "{json:#}");
    let text = tollgate_with(home.path(), &config, &["diff", "test:promote/labels"])
        .ok()
        .stdout;
    assert!(text.contains(&format!("⚠ {expected}")), "{text}");
    // And in the review, beside the verdict.
    let shown = crate::common::as_who(
        home.path(),
        &config,
        "Dana",
        &["show", "test:promote/labels", "--json"],
    )
    .ok()
    .json();
    assert!(
        shown["warnings"].to_string().contains(expected),
        "{shown:#}"
    );
}
