//! Environments defined by a Flux Kustomization in the repository (`from:`): its path
//! without a kustomization.yaml renders as Flux generates one, `targetNamespace` reaches
//! every object, and `postBuild` substitution is applied from the ConfigMaps in the
//! repository, so a change to one variable shows every object whose values change.
//! Values only the cluster holds are named as unknown; a setting tollgate does not render
//! is a render failure with the reason, never "no change".

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, as_who, kustomize_available};

const APPS: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps/production\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  targetNamespace: shop\n  postBuild:\n    substitute:\n      ENVIRONMENT: production\n    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-vars\n      - kind: Secret\n        name: cluster-secrets\n";

fn vars(domain: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n  namespace: flux-system\ndata:\n  DOMAIN: {domain}\n  REPLICAS: \"3\"\n"
    )
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: ${REPLICAS}\n  selector:\n    matchLabels: {app: api}\n  template:\n    metadata:\n      labels:\n        app: api\n        env: ${ENVIRONMENT}\n    spec:\n      containers:\n      - name: api\n        image: ghcr.io/acme/api:1.0\n        env:\n        - {name: TOKEN, value: \"${API_TOKEN}\"}\n";
const RELEASE: &str = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\nspec:\n  interval: 10m\n  chart:\n    spec: {chart: web, sourceRef: {kind: HelmRepository, name: acme}}\n  values:\n    host: web.${DOMAIN}\n";
const INGRESS: &str = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: api\nspec:\n  rules:\n  - host: api.${DOMAIN:=example.org}\n";

fn flux_repo() -> (TempDir, EnvRepoBuilder, std::path::PathBuf) {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            ("clusters/production/apps.yaml", APPS),
            (
                "clusters/production/cluster-vars.yaml",
                &vars("shop.example.com"),
            ),
            ("apps/production/api.yaml", DEPLOYMENT),
            ("apps/production/web/release.yaml", RELEASE),
            ("apps/production/ingress.yaml", INGRESS),
            // Not a Kubernetes object: Flux's generated kustomization leaves it out.
            ("apps/production/notes.yaml", "owner: team-shop\n"),
        ],
        "Alice",
        "Production, as Flux deploys it",
    );
    let config = repo.write_config(
        home.path(),
        "      - {name: production, from: clusters/production/apps.yaml}\n",
    );
    (home, repo, config)
}

#[test]
fn a_changed_variable_shows_every_object_flux_changes_with_it() {
    if !kustomize_available("a_changed_variable_shows_every_object_flux_changes_with_it") {
        return;
    }
    let (home, mut repo, config) = flux_repo();
    repo.branch(
        "promote/new-domain",
        &[(
            "clusters/production/cluster-vars.yaml",
            &vars("shop.example.net"),
        )],
        "CI",
        "Move production to example.net",
    );
    let id = "test:promote/new-domain";
    let diff = as_who(home.path(), &config, "Dana", &["diff", id, "--json"])
        .ok()
        .json();
    let envs = diff["environments"].as_array().expect("environments");
    assert_eq!(envs.len(), 1, "{diff:#}");
    assert_eq!(envs[0]["name"], "production");
    let mut keys: Vec<String> = envs[0]["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| format!("{}/{}/{}", o["kind"], o["namespace"], o["name"]).replace('"', ""))
        .collect();
    keys.sort();
    // The ConfigMap is not production's object: the two objects that read it are.
    assert_eq!(
        keys,
        ["HelmRelease/shop/web", "Ingress/shop/api"],
        "{diff:#}"
    );
    let text = as_who(home.path(), &config, "Dana", &["diff", id])
        .ok()
        .stdout;
    assert!(
        text.contains("web.shop.example.net") && text.contains("api.shop.example.net"),
        "{text}"
    );
    // The Secret is the cluster's: its variable is left as written, and said to be.
    let warnings = envs[0]["warnings"].to_string();
    assert!(
        warnings.contains("Secret flux-system/cluster-secrets")
            && warnings.contains("${API_TOKEN}"),
        "{warnings}"
    );
    assert!(text.contains("${API_TOKEN}"), "{text}");

    // A commit to the variables alone is in production's history.
    let promoted = repo.commit_files(
        &[(
            "clusters/production/cluster-vars.yaml",
            &vars("shop.example.io"),
        )],
        "Dana",
        "example.io",
    );
    let history = as_who(
        home.path(),
        &config,
        "Dana",
        &["history", "--env", "production", "--json"],
    )
    .ok()
    .json();
    assert!(
        history.to_string().contains(&promoted.to_string()),
        "{history:#}"
    );
}

#[test]
fn components_apply_and_a_source_elsewhere_is_a_failed_render_with_the_reason() {
    if !kustomize_available(
        "components_apply_and_a_source_elsewhere_is_a_failed_render_with_the_reason",
    ) {
        return;
    }
    let (home, mut repo, config) = flux_repo();
    repo.branch(
        "promote/components",
        &[
            (
                "clusters/production/apps.yaml",
                &APPS.replace(
                    "  prune: true\n",
                    "  prune: true\n  components: [../../components/audit]\n",
                ),
            ),
            (
                "components/audit/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonAnnotations:\n  acme.io/audited: \"true\"\n",
            ),
        ],
        "CI",
        "Audit every object",
    );
    let diff = as_who(
        home.path(),
        &config,
        "Dana",
        &["diff", "test:promote/components", "--json"],
    )
    .ok()
    .json();
    let objects = diff["environments"][0]["objects"]
        .as_array()
        .expect("objects")
        .len();
    assert_eq!(objects, 3, "the component reaches every object: {diff:#}");
    assert!(diff.to_string().contains("acme.io/audited"), "{diff:#}");

    repo.branch(
        "promote/oci",
        &[(
            "clusters/production/apps.yaml",
            &APPS.replace("kind: GitRepository", "kind: OCIRepository"),
        )],
        "CI",
        "Deploy from an OCI artifact",
    );
    let out = as_who(home.path(), &config, "Dana", &["diff", "test:promote/oci"]);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("deploys from the OCIRepository flux-system, not from this repository"),
        "{all}"
    );
    assert!(!all.contains("no rendered change"), "{all}");
}
