//! Helm environments rendered by Helm's own engine (`tests/helm/helm` in front of
//! helm-python-sdk in CI): a values-only change to production is production's change and
//! not staging's, in the diff and in the history; Secret values from a template are
//! fingerprints; a dependency that is not vendored is an error naming it.

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, as_who, helm_available};

const CHART: &str = "apiVersion: v2\nname: api\nversion: 0.1.0\n";
const DEFAULTS: &str = "image: ghcr.io/acme/api:1.0\nreplicas: 2\npassword: s3cret-default\n";
const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: {{ .Values.replicas }}\n  selector:\n    matchLabels: {app: api}\n  template:\n    metadata:\n      labels: {app: api}\n    spec:\n      containers:\n      - name: api\n        image: {{ .Values.image }}\n";
const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-creds\nstringData:\n  password: {{ .Values.password | quote }}\n";

const ENVIRONMENTS: &str = "      - {name: dev, path: chart, renderer: helm, values: [chart/values-dev.yaml], namespace: shop-dev, release: api}\n      - {name: staging, path: chart, renderer: helm, values: [chart/values-staging.yaml], namespace: shop-staging, release: api}\n      - {name: production, path: chart, renderer: helm, values: [chart/values-production.yaml], namespace: shop-production, release: api}\n";

fn chart_repo() -> (TempDir, EnvRepoBuilder, std::path::PathBuf) {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            ("chart/Chart.yaml", CHART),
            ("chart/values.yaml", DEFAULTS),
            ("chart/templates/deployment.yaml", DEPLOYMENT),
            ("chart/templates/secret.yaml", SECRET),
            (
                "chart/templates/NOTES.txt",
                "Installed {{ .Release.Name }}.\n",
            ),
            (
                "chart/values-dev.yaml",
                "replicas: 1\nimage: ghcr.io/acme/api:1.1-rc.1\n",
            ),
            ("chart/values-staging.yaml", "replicas: 1\n"),
            (
                "chart/values-production.yaml",
                "replicas: 3\npassword: pr0d-pa55\n",
            ),
        ],
        "Alice",
        "The api chart",
    );
    let config = repo.write_config(home.path(), ENVIRONMENTS);
    (home, repo, config)
}

#[test]
fn a_values_only_change_is_that_environments_change_alone() {
    if !helm_available("a_values_only_change_is_that_environments_change_alone") {
        return;
    }
    let (home, mut repo, config) = chart_repo();
    repo.branch(
        "promote/api-1.1-production",
        &[(
            "chart/values-production.yaml",
            "replicas: 3\npassword: pr0d-pa55-rotated\nimage: ghcr.io/acme/api:1.1\n",
        )],
        "CI",
        "api 1.1 to production",
    );
    let diff = as_who(
        home.path(),
        &config,
        "Dana",
        &["diff", "test:promote/api-1.1-production", "--json"],
    )
    .ok()
    .json();
    let envs = diff["environments"].as_array().expect("environments");
    assert_eq!(envs.len(), 1, "only production, of three: {diff:#}");
    assert_eq!(envs[0]["name"], "production");
    let objects = envs[0]["objects"].as_array().expect("objects");
    let mut kinds: Vec<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, ["Deployment", "Secret"], "{diff:#}");
    let deployment = objects
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .expect("the Deployment");
    assert_eq!(deployment["namespace"], "shop-production");
    let image = deployment["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["path"].as_str().is_some_and(|p| p.ends_with(".image")))
        .expect("the image changed");
    assert_eq!(image["new"], "ghcr.io/acme/api:1.1");
    // The Secret's values are fingerprints in JSON, text and --raw alike.
    let text = as_who(
        home.path(),
        &config,
        "Dana",
        &["diff", "test:promote/api-1.1-production"],
    )
    .ok()
    .stdout;
    let raw = as_who(
        home.path(),
        &config,
        "Dana",
        &["diff", "test:promote/api-1.1-production", "--raw"],
    )
    .ok()
    .stdout;
    assert!(
        raw.contains("+image: ghcr.io/acme/api:1.1") && raw.contains("password: sha256:"),
        "the values file, its secret fingerprinted: {raw}"
    );
    for output in [diff.to_string(), text.clone(), raw] {
        assert!(
            !output.contains("pr0d-pa55"),
            "a Secret value leaked: {output}"
        );
    }
    assert!(text.contains("sha256:"), "{text}");

    // On main, a values-only commit is in production's history and not in staging's.
    let promoted = repo.commit_files(
        &[(
            "chart/values-production.yaml",
            "replicas: 4\npassword: pr0d-pa55\n",
        )],
        "Dana",
        "Four replicas in production",
    );
    let history = |env: &str| {
        as_who(
            home.path(),
            &config,
            "Dana",
            &["history", "--env", env, "--json"],
        )
        .ok()
        .json()
    };
    let shas = |json: serde_json::Value| -> Vec<String> {
        json.as_array()
            .expect("entries")
            .iter()
            .filter_map(|e| e["sha"].as_str().or(e["commit"].as_str()).map(String::from))
            .collect()
    };
    let production = shas(history("production"));
    let staging = shas(history("staging"));
    assert!(production.contains(&promoted.to_string()), "{production:?}");
    assert!(!staging.contains(&promoted.to_string()), "{staging:?}");
    // The rendered history renders the chart at each commit and names what changed.
    let rendered = as_who(
        home.path(),
        &config,
        "Dana",
        &["history", "--env", "production", "--rendered"],
    )
    .ok()
    .stdout;
    assert!(
        rendered.contains("Four replicas in production")
            && rendered.contains("Deployment/shop-production/api"),
        "{rendered}"
    );
}

#[test]
fn a_dependency_that_is_not_vendored_is_an_error_naming_it() {
    if !helm_available("a_dependency_that_is_not_vendored_is_an_error_naming_it") {
        return;
    }
    let (home, mut repo, config) = chart_repo();
    repo.branch(
        "promote/with-redis",
        &[(
            "chart/Chart.yaml",
            "apiVersion: v2\nname: api\nversion: 0.2.0\ndependencies:\n  - name: redis\n    version: 19.0.0\n    repository: https://charts.bitnami.com/bitnami\n",
        )],
        "Bob",
        "Add redis",
    );
    let out = as_who(
        home.path(),
        &config,
        "Dana",
        &["diff", "test:promote/with-redis"],
    );
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("redis (https://charts.bitnami.com/bitnami)")
            && all.contains("helm dependency build chart"),
        "{all}"
    );
    assert!(!all.contains("no rendered change"), "{all}");
}

#[test]
fn capabilities_come_from_the_config_and_a_charts_crds_are_rendered() {
    if !helm_available("capabilities_come_from_the_config_and_a_charts_crds_are_rendered") {
        return;
    }
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    let monitor = "{{- if .Capabilities.APIVersions.Has \"monitoring.coreos.com/v1\" }}\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: api\n{{- end }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster\ndata:\n  version: {{ .Capabilities.KubeVersion.Version | quote }}\n";
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.acme.io\nspec:\n  group: acme.io\n";
    repo.commit_files(&[("README.md", "charts\n")], "Alice", "Start");
    let chart = repo.commit_files(
        &[
            ("chart/Chart.yaml", CHART),
            ("chart/templates/monitor.yaml", monitor),
            ("chart/crds/widgets.yaml", crd),
        ],
        "Alice",
        "A chart that asks the cluster",
    );
    let config = repo.write_config(
        home.path(),
        "      - {name: old, path: chart, renderer: helm, release: api}\n      - {name: new, path: chart, renderer: helm, release: api, kube_version: 1.31.2, api_versions: [monitoring.coreos.com/v1]}\n",
    );
    let objects = |env: &str| -> Vec<String> {
        let rendered = as_who(
            home.path(),
            &config,
            "Dana",
            &["show", &chart.to_string(), "--repo", "test", "--env", env],
        )
        .ok()
        .stdout;
        let mut found: Vec<String> = ["ServiceMonitor", "CustomResourceDefinition", "v1.31.2"]
            .iter()
            .filter(|word| rendered.contains(*word))
            .map(|w| w.to_string())
            .collect();
        found.sort();
        found
    };
    assert_eq!(objects("old"), ["CustomResourceDefinition"]);
    assert_eq!(
        objects("new"),
        ["CustomResourceDefinition", "ServiceMonitor", "v1.31.2"]
    );
}

#[test]
fn the_demo_lists_its_helm_repository_when_a_helm_is_found() {
    if !helm_available("the_demo_lists_its_helm_repository_when_a_helm_is_found") {
        return;
    }
    let home = TempDir::new().expect("temp dir");
    let dir = home.path().join("demo");
    crate::common::run(
        crate::common::tollgate(home.path())
            .args(["demo", "init"])
            .arg(&dir),
    )
    .ok();
    let config = dir.join("config.yaml");
    let list = as_who(
        home.path(),
        &config,
        "Dana",
        &["list", "--repo", "charts", "--json"],
    )
    .ok()
    .json();
    let ids: Vec<&str> = list
        .as_array()
        .expect("promotions")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        ["charts:promote/checkout-2.1.0-production"],
        "{list:#}"
    );
    let diff = as_who(
        home.path(),
        &config,
        "Dana",
        &["diff", "charts:promote/checkout-2.1.0-production"],
    )
    .ok()
    .stdout;
    assert!(
        diff.contains("environment production")
            && !diff.contains("environment staging")
            && diff.contains("ghcr.io/acme/checkout:2.0.0 → ghcr.io/acme/checkout:2.1.0"),
        "{diff}"
    );

    // `init` finds the chart and a values file per environment.
    let guessed = crate::common::run(
        crate::common::tollgate(home.path())
            .args(["init", "--dry-run"])
            .arg(dir.join("repos/charts-env.git")),
    )
    .ok()
    .stdout;
    assert!(
        guessed.contains(
            "{ name: production, path: checkout, renderer: helm, values: [checkout/values-production.yaml] }"
        ) && guessed.contains("values: [checkout/values-staging.yaml]"),
        "{guessed}"
    );

    // Without a helm the repository is left out, and the config says why.
    let dir = home.path().join("demo-without-helm");
    crate::common::run(
        crate::common::tollgate(home.path())
            .env("TOLLGATE_HELM", "/nonexistent/helm")
            .args(["demo", "init"])
            .arg(&dir),
    )
    .ok();
    let text = std::fs::read_to_string(dir.join("config.yaml")).expect("config");
    assert!(
        !text.contains("name: charts") && text.contains("no helm was found"),
        "{text}"
    );
}

#[test]
fn a_helm_rendered_history_renders_only_what_touched_its_inputs_and_then_nothing() {
    if !helm_available("a_helm_rendered_history_renders_only_what_touched_its_inputs") {
        return;
    }
    let (home, mut repo, config) = chart_repo();
    // 30 commits: every third changes production's values, the rest staging's or a file
    // no chart reads.
    for i in 0..30 {
        let (path, text) = match i % 3 {
            0 => (
                "chart/values-production.yaml",
                format!("replicas: {}\npassword: pr0d-pa55\n", 3 + i),
            ),
            1 => (
                "chart/values-staging.yaml",
                format!("replicas: {}\n", 1 + i),
            ),
            _ => ("README.md", format!("notes {i}\n")),
        };
        repo.commit_files(&[(path, &text)], "Dana", &format!("change {i}"));
    }
    // A helm that counts its renders, in front of the one the tests use.
    let real = std::env::var("TOLLGATE_HELM").unwrap_or_else(|_| "helm".into());
    let calls = home.path().join("helm-calls");
    let counting = home.path().join("counting-helm");
    std::fs::write(
        &counting,
        format!(
            "#!/bin/sh\n[ \"$1\" = template ] && echo \"$*\" >> '{}'\nexec '{real}' \"$@\"\n",
            calls.display()
        ),
    )
    .expect("wrapper");
    std::fs::set_permissions(
        &counting,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("executable");
    let renders = || {
        let count = std::fs::read_to_string(&calls)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        let _ = std::fs::remove_file(&calls);
        count
    };
    let history = || {
        crate::common::run(
            crate::common::tollgate(home.path())
                .env("TOLLGATE_HELM", &counting)
                .env("TOLLGATE_IDENTITY", "Dana <dana@example.com>")
                .arg("--config")
                .arg(&config)
                .args(["history", "--env", "production", "--rendered", "--json"]),
        )
        .ok()
        .json()
    };
    let cold = history();
    let cold_renders = renders();
    let entries = cold.as_array().expect("entries").len();
    // `change 0` writes what production already had: nine changes and the first commit.
    assert_eq!(entries, 10, "{cold:#}");
    // One render per state of production's inputs, none for the 20 other commits.
    assert!(cold_renders <= 10, "{cold_renders} renders");
    let warm = history();
    assert_eq!(warm, cold);
    assert_eq!(renders(), 0, "a warm cache renders nothing");
    eprintln!("helm rendered history, 31 commits: {cold_renders} renders cold, 0 warm");
}
