//! The in-cluster deployment (`assets/deploy/`): the manifests render with kustomize and
//! parse, the reconcile container's command line is one tollgate accepts, and the
//! git-mirror script keeps a mirror that reconcile deploys from (against the test API
//! server), branches and approval notes included.

use std::path::Path;
use std::process::Command;

use clap::Parser;
use tempfile::TempDir;
use tollgate::cli::{Cli, Command as TollgateCommand};

use crate::common::{kustomize_available, run, tollgate};
use crate::demo::demo;
use crate::kube_api::FakeApi;
use crate::reconcile::reconcile;

fn deploy_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/deploy"))
}

#[test]
fn the_manifests_render_and_the_reconcile_command_line_is_valid() {
    if !kustomize_available("the_manifests_render_and_the_reconcile_command_line_is_valid") {
        return;
    }
    let rendered = Command::new("kubectl")
        .args(["kustomize"])
        .arg(deploy_dir())
        .output()
        .expect("kubectl kustomize");
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let parsed = tollgate::manifest::parse_documents("deploy", &rendered.stdout);
    assert_eq!(parsed.issues, Vec::new());
    let kinds: Vec<&str> = parsed.objects.iter().map(|o| o.key.kind.as_str()).collect();
    for kind in [
        "Namespace",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "Deployment",
        "Service",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let deployment = parsed
        .objects
        .iter()
        .find(|o| o.key.kind == "Deployment")
        .expect("deployment");
    assert_eq!(deployment.value()["spec"]["replicas"], 1);
    let containers = deployment.value()["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    let reconcile = containers
        .iter()
        .find(|c| c["name"] == "reconcile")
        .expect("the reconcile container");
    let mut argv = vec!["tollgate".to_string()];
    argv.extend(
        reconcile["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| a.as_str().expect("text").to_string()),
    );
    let cli = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    match cli.command {
        Some(TollgateCommand::Reconcile(args)) => {
            assert!(args.leader_elect && args.prune && !args.once);
            // The probes and the Service use the port the metrics are served on.
            let port = args.metrics_addr.expect("--metrics-addr").port();
            assert_eq!(reconcile["ports"][0]["containerPort"], port);
            assert_eq!(reconcile["livenessProbe"]["httpGet"]["path"], "/healthz");
            assert_eq!(reconcile["readinessProbe"]["httpGet"]["path"], "/readyz");
            let service = parsed
                .objects
                .iter()
                .find(|o| o.key.kind == "Service")
                .expect("the metrics Service");
            assert_eq!(service.value()["spec"]["ports"][0]["port"], port);
        }
        other => panic!("reconcile, not {other:?}"),
    }
    // The Role lets tollgate do exactly what it does in its namespace.
    let role = parsed
        .objects
        .iter()
        .find(|o| o.key.kind == "Role")
        .expect("role");
    let rules = role.value()["rules"].to_string();
    assert!(
        rules.contains("configmaps") && rules.contains("leases"),
        "{rules}"
    );
}

fn mirror(script: &Path, source: &Path, mirror: &Path) {
    let status = Command::new("sh")
        .arg(script)
        .env("GIT_REPO", source)
        .env("MIRROR", mirror)
        .env("ONCE", "1")
        .env("GIT_SECRET_DIR", "/nonexistent")
        .env("HOME", mirror.parent().expect("parent"))
        .status()
        .expect("sh git-mirror.sh");
    assert!(status.success());
}

#[test]
fn reconcile_deploys_from_the_mirror_the_sidecar_keeps() {
    let (home, config) = demo();
    let source = tollgate::config::Config::load(&config)
        .expect("config")
        .repo("shop")
        .expect("shop")
        .path
        .clone();
    // An approval, so that there is a note to mirror.
    run(tollgate(home.path())
        .env("TOLLGATE_IDENTITY", "Carol SRE <carol@example.com>")
        .arg("--config")
        .arg(&config)
        .args(["approve", "shop:promote/api-1.5.0-production"]))
    .ok();
    let work = TempDir::new().expect("temp dir");
    let mirror_path = work.path().join("env.git");
    let script = deploy_dir().join("git-mirror.sh");
    mirror(&script, &source, &mirror_path);

    let mirrored_config = work.path().join("config.yaml");
    std::fs::write(
        &mirrored_config,
        format!(
            "identity: \"Dana Ops <dana@example.com>\"\nsigning_key: {}\nrepos:\n  - name: shop\n    path: {}\n    branch: main\n",
            home.path().join("demo/keys/dana").display(),
            mirror_path.display()
        ),
    )
    .expect("config");
    // Everything people see is in the mirror: promotions and their approvals.
    let json = |config: &Path, args: &[&str]| {
        run(tollgate(home.path())
            .env("TOLLGATE_IDENTITY", "Dana Ops <dana@example.com>")
            .arg("--config")
            .arg(config)
            .args(args)
            .arg("--json"))
        .ok()
        .json()
    };
    let list = ["list", "--repo", "shop"];
    assert_eq!(json(&mirrored_config, &list), json(&config, &list));
    let verdict = ["show", "shop:promote/api-1.5.0-production"];
    let original = json(&config, &verdict);
    assert!(
        !original["approvals"]
            .as_array()
            .expect("approvals")
            .is_empty()
    );
    assert_eq!(
        json(&mirrored_config, &verdict),
        original,
        "approval notes are mirrored"
    );

    let api = FakeApi::start();
    let kubeconfig = api.kubeconfig(work.path());
    let report = reconcile(
        home.path(),
        &mirrored_config,
        &kubeconfig,
        &["--env", "production", "--once", "--json"],
    )
    .ok()
    .json();
    assert_eq!(report["result"], "applied", "{report:#}");

    // A new commit upstream reaches the mirror on the next fetch.
    let source_repo = tollgate::git::Repo::open("shop", &source).expect("open");
    let tip = source_repo.branch_head("main").expect("main");
    let sig = tollgate::git::write::Signature {
        name: "Carol".into(),
        email: "carol@example.com".into(),
        time: 1_795_000_000,
    };
    let commit = source_repo
        .write_commit(
            source_repo.tree_of(tip).expect("tree"),
            &[tip],
            &sig,
            &sig,
            "Empty change",
        )
        .expect("commit");
    source_repo
        .update_ref("refs/heads/main", Some(tip), commit, "test", &sig)
        .expect("move main");
    // reconcile itself fetches from the mirror's remote before each pass (gix).
    let report = reconcile(
        home.path(),
        &mirrored_config,
        &kubeconfig,
        &["--env", "production", "--once", "--json"],
    )
    .ok()
    .json();
    assert_eq!(
        report["revision"],
        commit.to_string().as_str(),
        "{report:#}"
    );
    assert!(
        report["steps"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("fetched from origin: 1 ref(s) moved")),
        "{report:#}"
    );
    // And so does the sidecar, for remotes gix does not fetch from here (HTTPS).
    mirror(&script, &source, &mirror_path);
    let mirrored = tollgate::git::Repo::open("mirror", &mirror_path).expect("open mirror");
    assert_eq!(mirrored.branch_head("main").expect("main"), commit);
}

#[test]
fn a_fetch_brings_a_mirror_up_to_date_and_a_failed_one_says_so() {
    let work = TempDir::new().expect("temp dir");
    let mut source = crate::common::EnvRepoBuilder::new(&work.path().join("source.git"));
    source.commit_files(&[("envs/production/a.yaml", "a: 1\n")], "Alice", "start");
    let mirror_path = work.path().join("mirror.git");
    let cloned = Command::new("git")
        .args(["clone", "--quiet", "--mirror"])
        .arg(&source.path)
        .arg(&mirror_path)
        .status()
        .expect("git clone");
    assert!(cloned.success());
    let moved = source.commit_files(&[("envs/production/a.yaml", "a: 2\n")], "Bob", "change");
    let mirror = tollgate::git::Repo::open("mirror", &mirror_path).expect("open");
    let no = std::sync::atomic::AtomicBool::new(false);
    let fetched = mirror
        .fetch_default_remote(&no)
        .expect("fetch")
        .expect("a remote");
    assert_eq!(fetched.remote, "origin");
    assert_eq!(fetched.updated, 1);
    assert_eq!(mirror.branch_head("main").expect("main"), moved);
    let again = mirror
        .fetch_default_remote(&no)
        .expect("fetch")
        .expect("a remote");
    assert_eq!(again.updated, 0, "nothing new");

    // A remote that is gone is an error that names what was being done.
    std::fs::remove_dir_all(&source.path).expect("remove source");
    let error = mirror
        .fetch_default_remote(&no)
        .expect_err("the remote is gone");
    assert!(error.to_string().contains("fetch from origin"), "{error}");
    // An HTTPS remote is left to the mirroring sidecar: skipped, and said so.
    let set = Command::new("git")
        .arg("-C")
        .arg(&mirror_path)
        .args([
            "config",
            "remote.origin.url",
            "https://example.invalid/env.git",
        ])
        .status()
        .expect("git config");
    assert!(set.success());
    let mirror = tollgate::git::Repo::open("mirror", &mirror_path).expect("open");
    let skipped = mirror
        .fetch_default_remote(&no)
        .expect("no error")
        .expect("a remote");
    assert!(
        skipped
            .skipped
            .as_deref()
            .is_some_and(|w| w.contains("git-mirror")),
        "{skipped:?}"
    );
    // A repository without a remote has nothing to fetch.
    let alone = crate::common::EnvRepoBuilder::new(&work.path().join("alone.git"));
    assert_eq!(
        alone.repo.fetch_default_remote(&no).expect("no fetch"),
        None
    );
}
