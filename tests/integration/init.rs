//! `tollgate init`: the demo's repositories, looked at from scratch, give a config that
//! lists what the demo's own config lists; adding keeps the file's comments; a name
//! taken, or a file whose last section is not `repos:`, changes nothing.

use crate::common::{as_who, kustomize_available, run, tollgate};
use crate::demo::demo;

#[test]
fn init_on_the_demo_repositories_gives_an_equivalent_config() {
    if !kustomize_available("init_on_the_demo_repositories_gives_an_equivalent_config") {
        return;
    }
    let (home, demo_config) = demo();
    let repos = demo_config.parent().expect("demo dir").join("repos");
    let config = home.path().join("mine").join("config.yaml");
    for repo in ["shop-env.git", "platform-env.git"] {
        run(tollgate(home.path())
            .arg("--config")
            .arg(&config)
            .arg("init")
            .arg(repos.join(repo)))
        .ok();
    }
    // A comment of the user's survives the next addition.
    let mut text = std::fs::read_to_string(&config).expect("written");
    text = text.replace("repos:\n", "# my notes\nrepos:\n");
    std::fs::write(&config, &text).expect("edit");
    run(tollgate(home.path())
        .arg("--config")
        .arg(&config)
        .args(["init", "--name", "shop-again"])
        .arg(repos.join("shop-env.git")))
    .ok();
    let text = std::fs::read_to_string(&config).expect("written");
    assert!(
        text.contains("# my notes\nrepos:\n") && text.contains("name: shop-again"),
        "{text}"
    );
    assert!(
        text.contains("renderer: kustomize") && text.contains("renderer: plain"),
        "{text}"
    );

    let ids = |config: &std::path::Path, repo: &str| -> Vec<String> {
        let list = as_who(
            home.path(),
            config,
            "Dana",
            &["list", "--repo", repo, "--json"],
        )
        .ok()
        .json();
        let mut ids: Vec<String> = list
            .as_array()
            .expect("promotions")
            .iter()
            .map(|p| format!("{} {}", p["id"], p["summary"]))
            .collect();
        ids.sort();
        ids
    };
    for repo in ["shop", "platform"] {
        assert_eq!(ids(&config, repo), ids(&demo_config, repo), "{repo}");
    }

    // A name taken is refused, and the file stays as it was.
    let again = run(tollgate(home.path())
        .arg("--config")
        .arg(&config)
        .arg("init")
        .arg(repos.join("shop-env.git")));
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("already has a repo named shop"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read_to_string(&config).expect("read"), text);
}

#[test]
fn init_does_not_append_where_repos_is_not_the_last_section() {
    let (home, demo_config) = demo();
    let repos = demo_config.parent().expect("demo dir").join("repos");
    let config = home.path().join("config.yaml");
    let text = format!(
        "repos:\n  - name: shop\n    path: {}\nidentity: \"Dana <dana@example.com>\"\n",
        repos.join("shop-env.git").display()
    );
    std::fs::write(&config, &text).expect("write");
    let out = run(tollgate(home.path())
        .arg("--config")
        .arg(&config)
        .arg("init")
        .arg(repos.join("platform-env.git")));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("paste it under repos:"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&config).expect("read"), text);
}

#[test]
fn init_finds_argo_cd_applications_with_their_paths_and_value_files() {
    let home = tempfile::TempDir::new().expect("temp dir");
    let mut repo = crate::common::EnvRepoBuilder::new(&home.path().join("gitops.git"));
    let application = |name: &str, path: &str, values: &str, namespace: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://git.example/gitops.git\n    path: {path}\n    helm:\n      valueFiles:\n      - {values}\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: {namespace}\n"
        )
    };
    repo.commit_files(
        &[
            (
                "charts/api/Chart.yaml",
                "apiVersion: v2\nname: api\nversion: 1.0.0\n",
            ),
            (
                "charts/api/templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: api}\n",
            ),
            ("charts/api/values-eu.yaml", "region: eu\n"),
            ("charts/api/values-us.yaml", "region: us\n"),
            (
                "argocd/apps.yaml",
                &format!(
                    "{}---\n{}",
                    application("api-eu", "charts/api", "values-eu.yaml", "api-eu"),
                    application("api-us", "charts/api", "values-us.yaml", "api-us")
                ),
            ),
        ],
        "Alice",
        "Two regions",
    );
    let out = run(tollgate(home.path())
        .args(["init", "--dry-run"])
        .arg(&repo.path))
    .ok()
    .stdout;
    assert!(
        out.contains("# argocd/apps.yaml is the Argo CD Application api-eu (helm charts/api with charts/api/values-eu.yaml, namespace api-eu), read from it at each commit")
            && out.contains("{ name: api-eu, from: argocd/apps.yaml }")
            && out.contains("{ name: api-us, from: argocd/apps.yaml }"),
        "{out}"
    );
    // The chart's own values files name the same sources: not listed twice.
    assert!(!out.contains("name: eu,"), "{out}");
}

#[test]
fn init_finds_flux_kustomizations_but_the_one_that_bootstraps_flux() {
    let home = tempfile::TempDir::new().expect("temp dir");
    let mut repo = crate::common::EnvRepoBuilder::new(&home.path().join("fleet.git"));
    let kustomization = |name: &str, path: &str| {
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  path: {path}\n  sourceRef: {{kind: GitRepository, name: flux-system}}\n  targetNamespace: shop\n"
        )
    };
    repo.commit_files(
        &[
            (
                "clusters/production/flux-system/gotk-sync.yaml",
                &kustomization("flux-system", "./clusters/production"),
            ),
            (
                "clusters/production/apps.yaml",
                &kustomization("apps", "./apps/production"),
            ),
            (
                "clusters/staging/apps.yaml",
                &kustomization("apps", "./apps/staging"),
            ),
            (
                "apps/production/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
            ),
            (
                "apps/staging/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
            ),
        ],
        "Alice",
        "Two clusters",
    );
    let out = run(tollgate(home.path())
        .args(["init", "--dry-run"])
        .arg(&repo.path))
    .ok()
    .stdout;
    assert!(
        out.contains("# clusters/production/apps.yaml is the Flux Kustomization apps (path apps/production, target namespace shop), read from it at each commit")
            && out.contains("{ name: production-apps, from: clusters/production/apps.yaml }")
            && out.contains("{ name: staging-apps, from: clusters/staging/apps.yaml }"),
        "{out}"
    );
    assert!(!out.contains("flux-system"), "{out}");
    // The cluster folders hold Flux's manifests: they are not environments themselves.
    assert!(!out.contains("path: clusters/"), "{out}");
}

#[test]
fn init_expands_application_sets_from_their_list_and_git_directories_generators() {
    let home = tempfile::TempDir::new().expect("temp dir");
    let mut repo = crate::common::EnvRepoBuilder::new(&home.path().join("gitops.git"));
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";
    repo.commit_files(
        &[
            ("overlays/eu/kustomization.yaml", "resources: [cm.yaml]\n"),
            ("overlays/eu/cm.yaml", cm),
            ("overlays/us/kustomization.yaml", "resources: [cm.yaml]\n"),
            ("overlays/us/cm.yaml", cm),
            ("overlays/scratch/kustomization.yaml", "resources: [cm.yaml]\n"),
            ("overlays/scratch/cm.yaml", cm),
            ("tools/cm.yaml", cm),
            (
                "argocd/sets.yaml",
                "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: regions\nspec:\n  goTemplate: true\n  generators:\n  - git:\n      repoURL: https://git.example/gitops.git\n      directories:\n      - path: overlays/*\n      - path: overlays/scratch\n        exclude: true\n  template:\n    metadata:\n      name: 'shop-{{.path.basename}}'\n    spec:\n      source:\n        path: '{{.path.path}}'\n      destination:\n        namespace: 'shop-{{ .path.basename }}'\n---\napiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: tools\nspec:\n  generators:\n  - list:\n      elements:\n      - {cluster: dev}\n  template:\n    metadata:\n      name: 'tools-{{cluster}}'\n    spec:\n      source:\n        path: tools\n      destination:\n        namespace: tools\n",
            ),
        ],
        "Alice",
        "Regions from an ApplicationSet",
    );
    let out = run(tollgate(home.path())
        .args(["init", "--dry-run"])
        .arg(&repo.path))
    .ok()
    .stdout;
    for expected in [
        "# argocd/sets.yaml: the Argo CD ApplicationSet regions makes the Application shop-eu from its git directory overlays/eu (kustomize overlays/eu, namespace shop-eu)",
        "{ name: shop-eu, path: overlays/eu, renderer: kustomize, namespace: shop-eu }",
        "{ name: shop-us, path: overlays/us, renderer: kustomize, namespace: shop-us }",
        "# argocd/sets.yaml: the Argo CD ApplicationSet tools makes the Application tools-dev from its list element cluster=dev (plain tools, namespace tools)",
        "{ name: tools-dev, path: tools, renderer: plain, namespace: tools }",
    ] {
        assert!(out.contains(expected), "{expected}\n{out}");
    }
    // Excluded by the generator: not an Application; the folder guess names it alone.
    assert!(!out.contains("shop-scratch"), "{out}");
}
