//! kustomize's `helmCharts:` inflated through the same helm as Helm environments (Helm's
//! own engine in CI), then transformed by kustomize: a values change in one overlay is
//! that overlay's change alone; the chart is an input of every overlay that inflates it;
//! a chart that is not vendored, or an entry that would pass helm a flag, is refused.

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, as_who, helm_available, kustomize_available};

const CHART: &str = "apiVersion: v2\nname: api\nversion: 0.1.0\n";
const DEFAULTS: &str = "image: ghcr.io/acme/api:1.0\nreplicas: 1\npassword: default-pa55\n";
const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: {{ .Values.replicas }}\n  selector:\n    matchLabels: {app: api}\n  template:\n    metadata:\n      labels: {app: api}\n    spec:\n      containers:\n      - name: api\n        image: {{ .Values.image }}\n";
const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-creds\nstringData:\n  password: {{ .Values.password | quote }}\n";

fn overlay(env: &str, inline: &str) -> String {
    format!(
        "namespace: shop-{env}\nhelmGlobals:\n  chartHome: ../../charts\nhelmCharts:\n- name: api\n  releaseName: api\n  valuesFile: values.yaml\n  valuesInline:\n{inline}\ncommonLabels:\n  env: {env}\n"
    )
}

fn both_available(test: &str) -> bool {
    kustomize_available(test) && helm_available(test)
}

fn repo_with_overlays() -> (TempDir, EnvRepoBuilder, std::path::PathBuf) {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            ("charts/api/Chart.yaml", CHART),
            ("charts/api/values.yaml", DEFAULTS),
            ("charts/api/templates/deployment.yaml", DEPLOYMENT),
            ("charts/api/templates/secret.yaml", SECRET),
            (
                "envs/staging/kustomization.yaml",
                &overlay("staging", "    replicas: 2"),
            ),
            ("envs/staging/values.yaml", "image: ghcr.io/acme/api:1.0\n"),
            (
                "envs/production/kustomization.yaml",
                &overlay(
                    "production",
                    "    replicas: 3\n    password: inline-pr0d-pa55",
                ),
            ),
            (
                "envs/production/values.yaml",
                "image: ghcr.io/acme/api:1.0\n",
            ),
        ],
        "Alice",
        "The api chart, inflated by two overlays",
    );
    let config = repo.write_config(
        home.path(),
        "      - {name: staging, path: envs/staging}\n      - {name: production, path: envs/production}\n",
    );
    (home, repo, config)
}

#[test]
fn an_overlays_values_change_is_its_change_alone_and_kustomize_transforms_the_chart() {
    if !both_available(
        "an_overlays_values_change_is_its_change_alone_and_kustomize_transforms_the_chart",
    ) {
        return;
    }
    let (home, mut repo, config) = repo_with_overlays();
    repo.branch(
        "promote/api-1.1-production",
        &[
            (
                "envs/production/values.yaml",
                "image: ghcr.io/acme/api:1.1\n",
            ),
            (
                "envs/production/kustomization.yaml",
                &overlay(
                    "production",
                    "    replicas: 3\n    password: inline-pr0d-pa55-rotated",
                ),
            ),
        ],
        "CI",
        "api 1.1 to production",
    );
    let id = "test:promote/api-1.1-production";
    let diff = as_who(home.path(), &config, "Dana", &["diff", id, "--json"])
        .ok()
        .json();
    let envs = diff["environments"].as_array().expect("environments");
    assert_eq!(envs.len(), 1, "only production: {diff:#}");
    let objects = envs[0]["objects"].as_array().expect("objects");
    let mut keys: Vec<String> = objects
        .iter()
        .map(|o| format!("{}/{}/{}", o["kind"], o["namespace"], o["name"]).replace('"', ""))
        .collect();
    keys.sort();
    // kustomize's namespace reached the chart's objects.
    assert_eq!(
        keys,
        [
            "Deployment/shop-production/api",
            "Secret/shop-production/api-creds"
        ],
        "{diff:#}"
    );
    let text = as_who(home.path(), &config, "Dana", &["diff", id])
        .ok()
        .stdout;
    let raw = as_who(home.path(), &config, "Dana", &["diff", id, "--raw"])
        .ok()
        .stdout;
    assert!(
        raw.contains("ghcr.io/acme/api:1.1") && raw.contains("password: sha256:"),
        "the overlay's values, the inline secret fingerprinted: {raw}"
    );
    for output in [diff.to_string(), text, raw] {
        assert!(
            !output.contains("pr0d-pa55"),
            "a Secret value leaked: {output}"
        );
    }

    // A change to the chart is in the history of both overlays.
    let chart_change = repo.commit_files(
        &[(
            "charts/api/templates/deployment.yaml",
            &DEPLOYMENT.replace(
                "matchLabels: {app: api}",
                "matchLabels: {app: api, tier: web}",
            ),
        )],
        "Bob",
        "Select the web tier",
    );
    for env in ["staging", "production"] {
        let history = as_who(
            home.path(),
            &config,
            "Dana",
            &["history", "--env", env, "--json"],
        )
        .ok()
        .json();
        assert!(
            history.to_string().contains(&chart_change.to_string()),
            "{env}: {history:#}"
        );
    }
}

#[test]
fn a_chart_that_is_not_vendored_or_a_flag_for_a_release_name_is_refused() {
    if !both_available("a_chart_that_is_not_vendored_or_a_flag_for_a_release_name_is_refused") {
        return;
    }
    let (home, mut repo, config) = repo_with_overlays();
    repo.branch(
        "promote/redis",
        &[(
            "envs/staging/kustomization.yaml",
            "helmCharts:\n- name: redis\n  repo: https://charts.bitnami.com/bitnami\n  version: 19.0.0\n  releaseName: redis\n",
        )],
        "Bob",
        "Add redis",
    );
    let out = as_who(
        home.path(),
        &config,
        "Dana",
        &["diff", "test:promote/redis"],
    );
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("redis is not in the repository at envs/staging/charts/redis")
            && all.contains("helm pull --untar --untardir envs/staging/charts --repo https://charts.bitnami.com/bitnami redis --version 19.0.0"),
        "{all}"
    );
    assert!(!all.contains("no rendered change"), "{all}");

    let marker = home.path().join("ran");
    repo.branch(
        "promote/flag",
        &[(
            "envs/staging/kustomization.yaml",
            &overlay("staging", "    replicas: 2").replace(
                "releaseName: api",
                &format!("releaseName: --post-renderer={}", marker.display()),
            ),
        )],
        "Mallory",
        "A release name that is a flag",
    );
    let out = as_who(home.path(), &config, "Dana", &["diff", "test:promote/flag"]);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("is not a release name"), "{all}");
    assert!(!marker.exists());
}
