//! Environments defined by an Argo CD Application in the repository (`from:`): a Helm
//! source with its value files, inline values and parameters; a kustomize source with the
//! settings Argo CD writes into it; a directory source that is not recursed. A change to
//! the Application itself is the environment's change.

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, as_who, helm_available, kustomize_available};

const CHART: &str = "apiVersion: v2\nname: api\nversion: 0.1.0\n";
const DEPLOYMENT_TEMPLATE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: {{ .Values.replicas }}\n  selector:\n    matchLabels: {app: api}\n  template:\n    metadata:\n      labels: {app: api}\n    spec:\n      containers:\n      - name: api\n        image: ghcr.io/acme/api:{{ .Values.image.tag }}\n";
const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  selector:\n    matchLabels: {app: api}\n  template:\n    metadata:\n      labels: {app: api}\n    spec:\n      containers:\n      - name: api\n        image: ghcr.io/acme/api:1.0\n";

fn helm_application(tag: &str, replicas: u32) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: api-production\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://git.example.com/shop.git\n    path: charts/api\n    helm:\n      releaseName: api\n      valueFiles: [values-production.yaml]\n      valuesObject:\n        replicas: {replicas}\n      parameters:\n        - name: image.tag\n          value: \"{tag}\"\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: shop-production\n"
    )
}

fn object_keys(diff: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = diff["environments"][0]["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| format!("{}/{}/{}", o["kind"], o["namespace"], o["name"]).replace('"', ""))
        .collect();
    keys.sort();
    keys
}

#[test]
fn a_helm_applications_parameters_are_what_it_deploys() {
    if !helm_available("a_helm_applications_parameters_are_what_it_deploys") {
        return;
    }
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            ("charts/api/Chart.yaml", CHART),
            (
                "charts/api/values.yaml",
                "replicas: 1\nimage: {tag: \"0.9\"}\n",
            ),
            ("charts/api/values-production.yaml", "replicas: 2\n"),
            ("charts/api/templates/deployment.yaml", DEPLOYMENT_TEMPLATE),
            ("apps/production.yaml", &helm_application("1.1", 3)),
        ],
        "Alice",
        "The api, deployed by Argo CD",
    );
    let config = repo.write_config(
        home.path(),
        "      - {name: production, from: apps/production.yaml}\n",
    );
    repo.branch(
        "promote/api-1.2",
        &[("apps/production.yaml", &helm_application("1.2", 4))],
        "CI",
        "api 1.2",
    );
    let diff = as_who(
        home.path(),
        &config,
        "Dana",
        &["diff", "test:promote/api-1.2", "--json"],
    )
    .ok()
    .json();
    assert_eq!(
        object_keys(&diff),
        ["Deployment/shop-production/api"],
        "{diff:#}"
    );
    // The parameter wins over the chart's default, valuesObject over the value file.
    let fields = diff["environments"][0]["objects"][0]["fields"].to_string();
    assert!(
        fields.contains("ghcr.io/acme/api:1.1") && fields.contains("ghcr.io/acme/api:1.2"),
        "{fields}"
    );
    assert!(
        fields.contains("\"old\":3") && fields.contains("\"new\":4"),
        "replicas from valuesObject, over the value file's 2: {fields}"
    );
}

#[test]
fn a_kustomize_applications_images_and_prefix_are_applied_and_a_directory_is_not_recursed() {
    if !kustomize_available(
        "a_kustomize_applications_images_and_prefix_are_applied_and_a_directory_is_not_recursed",
    ) {
        return;
    }
    let application = |tag: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: staging\nspec:\n  source:\n    path: envs/staging\n    kustomize:\n      namePrefix: staging-\n      images: [ghcr.io/acme/api:{tag}]\n  destination:\n    namespace: shop-staging\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: tools\nspec:\n  source:\n    path: tools\n  destination:\n    namespace: tools\n"
        )
    };
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            ("envs/staging/kustomization.yaml", "resources: [api.yaml]\n"),
            ("envs/staging/api.yaml", DEPLOYMENT),
            (
                "tools/debug.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: debug\ndata: {level: info}\n",
            ),
            (
                "tools/old/legacy.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: legacy\ndata: {x: '1'}\n",
            ),
            ("apps/apps.yaml", &application("2.0")),
        ],
        "Alice",
        "Staging and tools, deployed by Argo CD",
    );
    let config = repo.write_config(
        home.path(),
        "      - {name: staging, from: apps/apps.yaml}\n      - {name: tools, from: apps/apps.yaml}\n",
    );
    repo.branch(
        "promote/api-2.1",
        &[("apps/apps.yaml", &application("2.1"))],
        "CI",
        "api 2.1 to staging",
    );
    let diff = as_who(
        home.path(),
        &config,
        "Dana",
        &["diff", "test:promote/api-2.1", "--json"],
    )
    .ok()
    .json();
    // Both Applications are in the file that changed; only staging's render did.
    let envs = diff["environments"].as_array().expect("environments");
    let tools = envs
        .iter()
        .find(|e| e["name"] == "tools")
        .expect("tools compared");
    assert_eq!(
        tools["objects"].as_array().map(Vec::len),
        Some(0),
        "{diff:#}"
    );
    assert_eq!(envs[0]["name"], "staging", "{diff:#}");
    assert_eq!(
        object_keys(&diff),
        ["Deployment/shop-staging/staging-api"],
        "{diff:#}"
    );
    assert!(
        diff.to_string().contains("ghcr.io/acme/api:2.1"),
        "{diff:#}"
    );

    // The directory source is not recursed: tools/old is neither rendered nor an input.
    let legacy = repo.commit_files(
        &[(
            "tools/old/legacy.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: legacy\ndata: {x: '2'}\n",
        )],
        "Bob",
        "Touch the legacy folder",
    );
    let debug = repo.commit_files(
        &[(
            "tools/debug.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: debug\ndata: {level: debug}\n",
        )],
        "Bob",
        "Debug logging",
    );
    let history = as_who(
        home.path(),
        &config,
        "Dana",
        &["history", "--env", "tools", "--json"],
    )
    .ok()
    .json()
    .to_string();
    assert!(history.contains(&debug.to_string()), "{history}");
    assert!(!history.contains(&legacy.to_string()), "{history}");
    let shown = as_who(
        home.path(),
        &config,
        "Dana",
        &[
            "show",
            &debug.to_string(),
            "--repo",
            "test",
            "--env",
            "tools",
        ],
    )
    .ok()
    .stdout;
    assert!(
        shown.contains("ConfigMap/tools/debug") && !shown.contains("legacy"),
        "{shown}"
    );
}
