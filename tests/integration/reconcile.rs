//! `tollgate reconcile` as a process against a real HTTP server that speaks the
//! Kubernetes API subset it uses (`kube_api.rs`). Every request is recorded, and the tests
//! assert on them: order, field manager, zero writes on a no-op, zero deletes on an empty
//! or failed render, `--max-prune`, refusal of an unapproved commit, faults.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, Run, run, settle, tollgate};
use crate::demo::demo;
use crate::kube_api::{FakeApi, Fault, Recorded};

pub(crate) fn reconcile(home: &Path, config: &Path, kubeconfig: &Path, args: &[&str]) -> Run {
    run(tollgate(home)
        .env("TOLLGATE_IDENTITY", "Dana Ops <dana@example.com>")
        .arg("--config")
        .arg(config)
        .arg("reconcile")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--timeout", "5s", "--request-timeout", "2s"])
        .args(args))
}

fn writes(requests: &[Recorded]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.is_write())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

const INVENTORY: &str = "/api/v1/namespaces/tollgate-system/configmaps/tollgate-shop-production";

#[test]
fn the_demo_is_applied_in_order_with_the_field_manager_and_a_second_pass_writes_nothing() {
    let (home, config) = demo();
    let api = FakeApi::start();
    let kubeconfig = api.kubeconfig(home.path());
    let first = reconcile(
        home.path(),
        &config,
        &kubeconfig,
        &["--repo", "shop", "--env", "production", "--once", "--json"],
    )
    .ok();
    let report = first.json();
    assert_eq!(report["result"], "applied", "{report:#}");
    assert_eq!(
        report["verification"]["checked"], 1,
        "first run: the newest change"
    );

    let requests = api.requests();
    let patches: Vec<&Recorded> = requests.iter().filter(|r| r.method == "PATCH").collect();
    assert!(
        patches
            .iter()
            .all(|r| r.field_manager().as_deref() == Some("tollgate")
                && r.content_type == "application/apply-patch+yaml"),
        "{patches:#?}"
    );
    let order: Vec<String> = patches.iter().map(|r| r.path.clone()).collect();
    let position = |needle: &str| {
        order
            .iter()
            .position(|p| p.contains(needle))
            .unwrap_or_else(|| panic!("{needle} applied: {order:#?}"))
    };
    let namespace = position("/api/v1/namespaces/shop-production");
    let crd = position("customresourcedefinitions/featureflags.shop.acme.io");
    let flag = position("/apis/shop.acme.io/v1/");
    let deployment = position("/deployments/api");
    assert!(
        namespace < deployment && crd < deployment && crd < flag,
        "{order:#?}"
    );
    assert_eq!(
        order.last().map(String::as_str),
        Some(INVENTORY),
        "status last"
    );
    assert!(
        requests.iter().all(|r| r.method != "DELETE"),
        "nothing to prune on a first run"
    );

    // The Secret reached the cluster with its real value, and nothing printed it.
    let secret = api
        .object("/api/v1/namespaces/shop-production/secrets/api-credentials")
        .expect("secret applied");
    let stored = secret.to_string();
    assert!(
        !stored.contains("sha256:"),
        "real values are applied: {stored}"
    );
    let sent = patches
        .iter()
        .find(|r| r.path.ends_with("/secrets/api-credentials"))
        .and_then(|r| r.body.clone())
        .expect("the secret's apply has a body");
    assert_eq!(sent["kind"], "Secret");
    assert!(!sent.to_string().contains("sha256:"), "{sent}");
    for value in tollgate::demo::DEMO_SECRET_VALUES {
        assert!(!first.stdout.contains(value) && !first.stderr.contains(value));
    }

    let inventory = api.object(INVENTORY).expect("inventory written");
    assert_eq!(inventory["data"]["result"], "applied");
    assert_eq!(inventory["data"]["revision"], report["revision"]);

    api.clear_requests();
    let second = reconcile(
        home.path(),
        &config,
        &kubeconfig,
        &["--repo", "shop", "--env", "production", "--once", "--json"],
    )
    .ok()
    .json();
    assert_eq!(second["result"], "applied");
    assert_eq!(
        writes(&api.requests()),
        Vec::<String>::new(),
        "a no-op writes nothing"
    );
    assert_eq!(second["wrote"], false);

    let text = reconcile(
        home.path(),
        &config,
        &kubeconfig,
        &["--repo", "shop", "--env", "production", "--once"],
    )
    .ok()
    .stdout;
    eprintln!("{text}");
    for step in [
        "source", "render", "verify", "plan", "apply", "prune", "health", "status",
    ] {
        assert!(text.contains(&format!("  {step} ")), "{step} in:\n{text}");
    }
    assert!(text.contains("nothing changed; nothing written"), "{text}");
}

/// A repo with one plain environment whose changes are recorded break-glass commits
/// (allowed by verification, and reported as exceptions), so that the tests can change
/// it freely.
struct Plain {
    home: TempDir,
    repo: EnvRepoBuilder,
    config: PathBuf,
    api: FakeApi,
    kubeconfig: PathBuf,
}

const BREAK_GLASS: &str = "\n\nBreak-glass: Carol <carol@example.com>\nReason: test\n";

fn object(kind: &str, name: &str) -> String {
    let api_version = match kind {
        "Deployment" => "apps/v1",
        _ => "v1",
    };
    format!(
        "apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: shop\n"
    )
}

impl Plain {
    fn new(files: &[(&str, &str)]) -> Plain {
        let home = TempDir::new().expect("temp dir");
        let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
        repo.commit_files(files, "Carol", &format!("start{BREAK_GLASS}"));
        let config = repo.write_config(home.path(), "");
        let api = FakeApi::start();
        let kubeconfig = api.kubeconfig(home.path());
        Plain {
            home,
            repo,
            config,
            api,
            kubeconfig,
        }
    }

    fn change(&mut self, changes: &[(&str, Option<&str>)], message: &str) {
        let changes: Vec<(&str, Option<&[u8]>)> = changes
            .iter()
            .map(|(p, c)| (*p, c.map(str::as_bytes)))
            .collect();
        self.repo.commit(&changes, "Carol", message);
    }

    fn reconcile(&self, args: &[&str]) -> Run {
        let mut all = vec!["--env", "production", "--once", "--json"];
        all.extend_from_slice(args);
        reconcile(self.home.path(), &self.config, &self.kubeconfig, &all)
    }

    fn deletes(&self) -> Vec<String> {
        self.api
            .requests()
            .iter()
            .filter(|r| r.method == "DELETE")
            .map(|r| r.path.clone())
            .collect()
    }
}

fn three_config_maps() -> Plain {
    Plain::new(&[
        ("envs/production/a.yaml", &object("ConfigMap", "a")),
        ("envs/production/b.yaml", &object("ConfigMap", "b")),
        ("envs/production/c.yaml", &object("ConfigMap", "c")),
        ("envs/production/api.yaml", &object("Deployment", "api")),
    ])
}

#[test]
fn an_empty_or_broken_render_applies_and_deletes_nothing() {
    let mut p = three_config_maps();
    p.reconcile(&["--prune"]).ok();
    for (files, expected) in [
        (
            vec![
                ("envs/production/a.yaml", None),
                ("envs/production/b.yaml", None),
                ("envs/production/c.yaml", None),
                ("envs/production/api.yaml", None),
                ("envs/production/README.md", Some("nothing here\n")),
            ],
            "zero objects",
        ),
        (
            vec![
                ("envs/production/README.md", None),
                (
                    "envs/production/a.yaml",
                    Some("apiVersion: v1\nkind: [unclosed\n"),
                ),
            ],
            "unreadable documents",
        ),
    ] {
        p.change(&files, &format!("break it{BREAK_GLASS}"));
        p.api.clear_requests();
        let refused = p.reconcile(&["--prune", "--force-prune"]);
        assert_eq!(refused.code, 1, "{}", refused.stdout);
        let report = refused.json();
        assert!(
            report["refused"]
                .as_str()
                .is_some_and(|r| r.contains(expected)),
            "{report:#}"
        );
        assert_eq!(p.deletes(), Vec::<String>::new());
        let written = writes(&p.api.requests());
        assert_eq!(
            written,
            ["PATCH /api/v1/namespaces/tollgate-system/configmaps/tollgate-test-production"],
            "only the refusal is recorded"
        );
        let inventory = p
            .api
            .object("/api/v1/namespaces/tollgate-system/configmaps/tollgate-test-production")
            .expect("inventory");
        assert_eq!(inventory["data"]["result"], "refused");
        assert_eq!(
            inventory["data"]["objects"]
                .as_str()
                .map(|o| o.lines().count()),
            Some(4),
            "the last good objects stay in the inventory"
        );
    }
}

#[test]
fn an_object_named_at_creation_is_diffed_but_never_applied() {
    let hook = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\n  namespace: shop\n  annotations: {argocd.argoproj.io/hook: PreSync}\nspec:\n  template:\n    spec: {restartPolicy: Never, containers: [{name: m, image: 'ghcr.io/acme/migrate:1.0'}]}\n";
    let mut p = three_config_maps();
    p.change(
        &[("envs/production/hook.yaml", Some(hook))],
        &format!("add a hook{BREAK_GLASS}"),
    );
    // The diff keeps it, by its prefix.
    let diff = crate::common::tollgate_with(
        p.home.path(),
        &p.config,
        &["diff", "HEAD~1..HEAD", "--json"],
    )
    .ok()
    .json();
    assert_eq!(
        diff["environments"][0]["objects"][0]["name"], "migrate-*",
        "{diff:#}"
    );
    // Reconcile applies the rest and leaves the hook to the tool that runs hooks.
    let run = p.reconcile(&[]).ok();
    assert!(
        run.stdout
            .contains("1 named at creation (generateName) not applied"),
        "{}",
        run.stdout
    );
    assert!(
        p.api.requests().iter().all(|r| !r.path.contains("jobs")),
        "no request for the Job"
    );
}

#[test]
fn max_prune_is_honoured_unless_forced() {
    let mut p = three_config_maps();
    p.reconcile(&[]).ok();
    p.change(
        &[
            ("envs/production/a.yaml", None),
            ("envs/production/b.yaml", None),
        ],
        &format!("drop two{BREAK_GLASS}"),
    );
    p.api.clear_requests();
    let refused = p.reconcile(&["--prune"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.json()["plan"]["prune_refused"]
            .as_str()
            .is_some_and(|r| r.contains("2 of 4")),
        "{}",
        refused.stdout
    );
    assert_eq!(p.deletes(), Vec::<String>::new());

    p.api.clear_requests();
    p.reconcile(&["--prune", "--max-prune", "50%"]).ok();
    assert_eq!(
        p.deletes(),
        [
            "/api/v1/namespaces/shop/configmaps/a",
            "/api/v1/namespaces/shop/configmaps/b"
        ]
    );
    assert!(
        p.api
            .object("/api/v1/namespaces/shop/configmaps/a")
            .is_none()
    );
    assert!(
        p.api
            .object("/api/v1/namespaces/shop/configmaps/c")
            .is_some()
    );
}

#[test]
fn an_unapproved_commit_is_refused_and_the_last_good_revision_stays() {
    let mut p = three_config_maps();
    let good = p.reconcile(&[]).ok().json()["revision"].clone();
    p.change(
        &[(
            "envs/production/a.yaml",
            Some(&object("ConfigMap", "sneaky")),
        )],
        "Pushed straight to main",
    );
    p.api.clear_requests();
    let refused = p.reconcile(&["--prune"]);
    assert_eq!(refused.code, 3);
    let report = refused.json();
    assert!(
        report["refused"]
            .as_str()
            .is_some_and(|r| r.contains("without the approvals it needed")),
        "{report:#}"
    );
    assert_eq!(
        writes(&p.api.requests()),
        ["PATCH /api/v1/namespaces/tollgate-system/configmaps/tollgate-test-production"]
    );
    assert!(
        p.api
            .object("/api/v1/namespaces/shop/configmaps/sneaky")
            .is_none()
    );
    // The next pass refuses the same way and writes nothing at all.
    p.api.clear_requests();
    assert_eq!(p.reconcile(&["--prune"]).code, 3);
    assert_eq!(writes(&p.api.requests()), Vec::<String>::new());
    let inventory = p
        .api
        .object("/api/v1/namespaces/tollgate-system/configmaps/tollgate-test-production")
        .expect("inventory");
    assert_eq!(inventory["data"]["revision"], good);
}

#[test]
fn a_rejected_object_is_reported_and_the_rest_applied_and_5xx_is_retried() {
    let p = three_config_maps();
    p.api.fail(Fault {
        method: "PATCH",
        path_contains: "/configmaps/b".into(),
        status: 422,
        times: 1,
        delay: Duration::ZERO,
        who: None,
    });
    p.api.fail(Fault {
        method: "PATCH",
        path_contains: "/deployments/api".into(),
        status: 500,
        times: 2,
        delay: Duration::ZERO,
        who: None,
    });
    let partial = p.reconcile(&[]);
    assert_eq!(partial.code, 1);
    let report = partial.json();
    assert_eq!(report["result"], "partial");
    let failed: Vec<&Value> = report["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter(|o| o["error"].is_string())
        .collect();
    assert_eq!(failed.len(), 1, "{report:#}");
    assert_eq!(failed[0]["name"], "b");
    assert_eq!(failed[0]["code"], 422);
    assert!(
        p.api
            .object("/api/v1/namespaces/shop/configmaps/a")
            .is_some()
    );
    let deployment_patches = p
        .api
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/deployments/api"))
        .count();
    assert_eq!(deployment_patches, 3, "two 500s, then it went through");
    assert!(
        p.api
            .object("/apis/apps/v1/namespaces/shop/deployments/api")
            .is_some()
    );
}

#[test]
fn an_unknown_kind_is_reported_and_the_rest_applied() {
    let p = Plain::new(&[
        ("envs/production/a.yaml", &object("ConfigMap", "a")),
        (
            "envs/production/w.yaml",
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\n",
        ),
    ]);
    let partial = p.reconcile(&[]);
    assert_eq!(partial.code, 1);
    let report = partial.json();
    let widget = report["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .find(|o| o["kind"] == "Widget")
        .expect("the widget is reported")
        .clone();
    assert!(
        widget["error"]
            .as_str()
            .is_some_and(|e| e.contains("does not serve example.com/v1")),
        "{widget:#}"
    );
    assert!(
        p.api
            .object("/api/v1/namespaces/shop/configmaps/a")
            .is_some()
    );
}

#[test]
fn an_edited_and_a_deleted_object_are_corrected_and_said_to_be_and_no_drift_writes_nothing() {
    let p = Plain::new(&[
        ("envs/production/a.yaml", &object("ConfigMap", "a")),
        (
            "envs/production/api.yaml",
            &format!("{}spec:\n  replicas: 2\n", object("Deployment", "api")),
        ),
        (
            "envs/production/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: shop}\nstringData: {password: hunter2-in-git}\n",
        ),
    ]);
    p.reconcile(&[]).ok();
    let deployment = "/apis/apps/v1/namespaces/shop/deployments/api";
    let config_map = "/api/v1/namespaces/shop/configmaps/a";
    let secret = "/api/v1/namespaces/shop/secrets/s";
    // Someone scales by hand, deletes a ConfigMap and edits a Secret; another controller
    // adds a label of its own, which is not drift.
    p.api.edit(deployment, |d| {
        d["spec"]["replicas"] = serde_json::json!(3);
        d["metadata"]["labels"] = serde_json::json!({"team": "shop"});
    });
    p.api.remove(config_map);
    p.api.edit(secret, |s| {
        s["stringData"]["password"] = serde_json::json!("hunter2-by-hand")
    });

    // A dry run shows the drift and writes nothing.
    p.api.clear_requests();
    let dry = p.reconcile(&["--dry-run"]).ok().json();
    assert_eq!(writes(&p.api.requests()), Vec::<String>::new());
    assert_eq!(dry["drift"].as_array().map(Vec::len), Some(3), "{dry:#}");

    p.api.clear_requests();
    let pass = p.reconcile(&[]).ok();
    let report = pass.json();
    let drift = report["drift"].to_string();
    assert!(
        drift.contains("\"name\":\"api\"") && drift.contains("\"path\":\"spec.replicas\""),
        "{drift}"
    );
    assert!(drift.contains("\"drift\":\"deleted\""), "{drift}");
    assert!(
        !drift.contains("hunter2"),
        "a Secret's drift is fingerprints: {drift}"
    );
    let written = writes(&p.api.requests());
    for path in [deployment, config_map, secret] {
        assert!(
            written.contains(&format!("PATCH {path}")),
            "{path}: {written:#?}"
        );
    }
    assert_eq!(
        p.api.object(deployment).expect("deployment")["spec"]["replicas"],
        2
    );
    assert!(p.api.object(config_map).is_some(), "recreated");
    let inventory = p
        .api
        .object("/api/v1/namespaces/tollgate-system/configmaps/tollgate-test-production")
        .expect("inventory");
    assert!(inventory.to_string().contains("drifted"), "{inventory}");

    // The text names each correction, the way an operator reads it.
    p.api
        .edit(deployment, |d| d["spec"]["replicas"] = serde_json::json!(5));
    let text = reconcile(
        p.home.path(),
        &p.config,
        &p.kubeconfig,
        &["--env", "production", "--once"],
    )
    .ok()
    .stdout;
    assert!(
        text.contains("drift ")
            && text.contains("1 corrected: Deployment/shop/api (spec.replicas 5 → 2)"),
        "{text}"
    );
    for output in [&pass.stdout, &pass.stderr, &text] {
        assert!(!output.contains("hunter2"), "{output}");
    }

    // Nothing drifted: not one write.
    p.api.clear_requests();
    p.reconcile(&[]).ok();
    assert_eq!(writes(&p.api.requests()), Vec::<String>::new());
}

#[test]
fn a_dry_run_writes_nothing_and_masks_secret_values() {
    let mut p = Plain::new(&[
        ("envs/production/api.yaml", &object("Deployment", "api")),
        (
            "envs/production/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: shop}\nstringData: {password: hunter2-old}\n",
        ),
    ]);
    p.reconcile(&[]).ok();
    p.change(
        &[
            (
                "envs/production/secret.yaml",
                Some("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: shop}\nstringData: {password: hunter2-new}\n"),
            ),
            (
                "envs/production/api.yaml",
                Some(&format!("{}spec:\n  replicas: 3\n", object("Deployment", "api"))),
            ),
        ],
        &format!("change{BREAK_GLASS}"),
    );
    p.api.clear_requests();
    let dry = run(tollgate(p.home.path())
        .arg("--config")
        .arg(&p.config)
        .args([
            "reconcile",
            "--env",
            "production",
            "--dry-run",
            "--kubeconfig",
        ])
        .arg(&p.kubeconfig))
    .ok();
    assert_eq!(writes(&p.api.requests()), Vec::<String>::new());
    assert!(
        dry.stdout.contains("dry run, nothing written"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("+  replicas: 3"), "{}", dry.stdout);
    assert!(dry.stdout.contains("sha256:"), "{}", dry.stdout);
    for value in ["hunter2-old", "hunter2-new"] {
        assert!(
            !dry.stdout.contains(value) && !dry.stderr.contains(value),
            "{}",
            dry.stdout
        );
    }
}

#[test]
fn sigterm_finishes_the_request_in_flight_and_exits_zero() {
    let p = three_config_maps();
    // Every apply stalls, so the signal arrives in the middle of the pass.
    p.api.fail(Fault {
        method: "PATCH",
        path_contains: "/configmaps/".into(),
        status: 0,
        times: 3,
        delay: Duration::from_millis(700),
        who: None,
    });
    let child = tollgate(p.home.path())
        .arg("--config")
        .arg(&p.config)
        .args([
            "reconcile",
            "--env",
            "production",
            "--interval",
            "1h",
            "--kubeconfig",
        ])
        .arg(&p.kubeconfig)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start reconcile");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !p.api.requests().iter().any(|r| r.method == "PATCH") {
        assert!(std::time::Instant::now() < deadline, "no apply started");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The shell's own `kill`: no procps needed.
    let killed = std::process::Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .expect("sh kill");
    assert!(killed.success());
    let output = child.wait_with_output().expect("reconcile exits");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let inventory = p
        .api
        .object("/api/v1/namespaces/tollgate-system/configmaps/tollgate-test-production")
        .expect("status written on the way out");
    assert_eq!(inventory["data"]["result"], "interrupted");
}

#[test]
fn the_environments_view_shows_what_the_cluster_runs() {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use tollgate::reconcile::status::Deployed;
    use tollgate::tui::app::Loading;

    let mut p = three_config_maps();
    std::fs::write(
        &p.config,
        format!(
            "repos:\n  - name: test\n    path: {}\n    environments:\n      - name: production\n        path: envs/production\n        cluster: {{kubeconfig: {}}}\n",
            p.repo.path.display(),
            p.kubeconfig.display()
        ),
    )
    .expect("config");
    // The config's cluster is reconcile's default too: no --kubeconfig here.
    run(tollgate(p.home.path())
        .arg("--config")
        .arg(&p.config)
        .args(["reconcile", "--env", "production", "--once"]))
    .ok();
    let config = tollgate::config::Config::load(&p.config).expect("config");
    let deployed = || {
        let (mut app, commands) = tollgate::tui::app::App::new(
            "Dana <dana@example.com>".into(),
            &["test".to_string()],
            1_795_683_600,
            ratatui::layout::Rect::new(0, 0, 120, 20),
        );
        settle(&config, &mut app, commands);
        let commands = app.handle_key(KeyEvent::new(KeyCode::Char('2'), KeyModifiers::NONE));
        settle(&config, &mut app, commands);
        match app
            .environments
            .deployed
            .get(&("test".to_string(), "production".to_string()))
        {
            Some(Loading::Ready(deployed)) => (deployed.clone(), app),
            other => panic!("deployed state loaded: {other:?}"),
        }
    };
    let (state, app) = deployed();
    assert!(matches!(state, Deployed::InSync { .. }), "{state:?}");
    let screen = screen_of(&app, 120);
    let revision = crate::common::main_tip(&p.repo)
        .to_hex_with_len(7)
        .to_string();
    assert!(
        screen.contains("DEPLOYED") && screen.contains(&format!("✓ in sync · {revision}")),
        "{screen}"
    );

    p.change(
        &[("envs/production/c.yaml", Some(&object("ConfigMap", "c2")))],
        &format!("one more{BREAK_GLASS}"),
    );
    let (state, _) = deployed();
    assert!(
        matches!(state, Deployed::Behind { changes: 1, .. }),
        "{state:?}"
    );

    // A pass refused for an unapproved change: failed, and the selected row says why.
    p.change(
        &[("envs/production/c.yaml", Some(&object("ConfigMap", "c3")))],
        "Pushed straight to main",
    );
    let refused = run(tollgate(p.home.path())
        .arg("--config")
        .arg(&p.config)
        .args(["reconcile", "--env", "production", "--once"]));
    assert_eq!(refused.code, 3);
    let (state, app) = deployed();
    assert!(matches!(state, Deployed::Failed { .. }), "{state:?}");
    let screen = screen_of(&app, 200);
    assert!(
        screen.contains("✗ failed") && screen.contains("last reconcile: refused"),
        "{screen}"
    );
}

#[test]
fn one_replica_holds_the_lease_the_other_stands_by_until_it_is_released() {
    let p = three_config_maps();
    let leader = |who: &str, once: bool| {
        let mut command = tollgate(p.home.path());
        command
            .arg("--config")
            .arg(&p.config)
            .args([
                "reconcile",
                "--env",
                "production",
                "--leader-elect",
                "--lease-identity",
                who,
            ])
            .arg("--kubeconfig")
            .arg(&p.kubeconfig);
        if once {
            command.arg("--once");
        }
        command
    };
    // Replica a reconciles in a loop and holds the lease.
    let a = leader("replica-a", false)
        .args(["--interval", "1h"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start replica a");
    let lease_path =
        "/apis/coordination.k8s.io/v1/namespaces/tollgate-system/leases/tollgate-test-production";
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while p.api.object(INVENTORY_TEST).is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "replica a never reconciled"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let lease = p.api.object(lease_path).expect("the lease exists");
    assert_eq!(lease["spec"]["holderIdentity"], "replica-a");

    // Replica b stands by and writes nothing.
    p.api.clear_requests();
    let b = run(&mut leader("replica-b", true)).ok();
    assert!(
        b.stdout.contains("standing by: replica-a holds the lease"),
        "{}",
        b.stdout
    );
    assert_eq!(writes(&p.api.requests()), Vec::<String>::new());

    // a leaves (SIGTERM): it gives the lease up, and b takes over at once.
    std::process::Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", a.id())])
        .status()
        .expect("sh kill");
    let output = a.wait_with_output().expect("replica a exits");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        p.api.object(lease_path).expect("lease")["spec"]["holderIdentity"],
        Value::Null
    );
    let b = run(&mut leader("replica-b", true)).ok();
    assert!(!b.stdout.contains("standing by"), "{}", b.stdout);
    let lease = p.api.object(lease_path).expect("lease");
    assert_eq!(lease["spec"]["leaseTransitions"], 1, "{lease:#}");
}

/// A replica of `reconcile --leader-elect` in a loop, with a short lease, its requests
/// carrying `who` as their bearer token.
fn replica(p: &Plain, who: &str, interval: &str) -> std::process::Child {
    tollgate(p.home.path())
        .arg("--config")
        .arg(&p.config)
        .args([
            "reconcile",
            "--env",
            "production",
            "--leader-elect",
            "--lease-identity",
            who,
            "--lease-duration",
            "3s",
            "--interval",
            interval,
            "--timeout",
            "5s",
            "--request-timeout",
            "10s",
        ])
        .arg("--kubeconfig")
        .arg(p.api.kubeconfig_as(p.home.path(), who))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start a replica")
}

pub(crate) fn stop(child: std::process::Child) -> std::process::Output {
    std::process::Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .expect("sh kill");
    child.wait_with_output().expect("the replica exits")
}

pub(crate) fn wait_until(what: &str, limit: Duration, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

const LEASE: &str =
    "/apis/coordination.k8s.io/v1/namespaces/tollgate-system/leases/tollgate-test-production";

/// Writes to the cluster (the lease aside) by `who`.
fn object_writes<'r>(requests: &'r [Recorded], who: &str) -> Vec<&'r Recorded> {
    requests
        .iter()
        .filter(|r| r.who == who && r.is_write() && !r.path.contains("/leases"))
        .collect()
}

#[test]
fn a_pass_slower_than_the_lease_keeps_it_renewed_and_the_standby_never_writes() {
    let p = three_config_maps();
    // Every apply of replica a takes longer than the whole lease (3 s).
    p.api.fail(Fault {
        method: "PATCH",
        path_contains: "/namespaces/shop/".into(),
        status: 0,
        times: 4,
        delay: Duration::from_secs(4),
        who: Some("replica-a"),
    });
    let a = replica(&p, "replica-a", "1h");
    wait_until("replica a takes the lease", Duration::from_secs(20), || {
        p.api
            .object(LEASE)
            .is_some_and(|l| l["spec"]["holderIdentity"] == "replica-a")
    });
    let b = replica(&p, "replica-b", "300ms");
    wait_until(
        "replica a finishes its pass",
        Duration::from_secs(30),
        || p.api.object(INVENTORY_TEST).is_some(),
    );
    let (a, b) = (stop(a), stop(b));
    let requests = p.api.requests();
    assert!(
        object_writes(&requests, "replica-b").is_empty(),
        "b wrote while a held the lease: {:#?}",
        object_writes(&requests, "replica-b")
    );
    let renewals = requests
        .iter()
        .filter(|r| r.who == "replica-a" && r.method == "PUT" && r.path == LEASE)
        .count();
    assert!(renewals >= 3, "renewed during the pass: {renewals}");
    let b_out = String::from_utf8_lossy(&b.stdout);
    assert!(
        b_out.contains("standing by: replica-a holds the lease"),
        "{b_out}"
    );
    assert_eq!(
        a.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&a.stderr)
    );
}

#[test]
fn a_replica_that_cannot_renew_stops_writing_before_the_other_takes_over() {
    let p = three_config_maps();
    // None of a's renewals gets through; its applies land after 2 s, and its pass is
    // still waiting on a rollout when the lease runs out (3 s, given up at 2.4 s).
    p.api.fail(Fault {
        method: "PATCH",
        path_contains: "/namespaces/shop/".into(),
        status: 0,
        times: 4,
        delay: Duration::from_secs(2),
        who: Some("replica-a"),
    });
    p.api.fail(Fault {
        method: "GET",
        path_contains: "/deployments/api".into(),
        status: 0,
        times: 1,
        delay: Duration::from_secs(2),
        who: Some("replica-a"),
    });
    p.api.fail(Fault {
        method: "PUT",
        path_contains: "/leases/".into(),
        status: 500,
        times: 1000,
        delay: Duration::ZERO,
        who: Some("replica-a"),
    });
    let a = replica(&p, "replica-a", "1h");
    wait_until("replica a takes the lease", Duration::from_secs(20), || {
        p.api
            .object(LEASE)
            .is_some_and(|l| l["spec"]["holderIdentity"] == "replica-a")
    });
    let b = replica(&p, "replica-b", "300ms");
    wait_until(
        "replica b takes over and reconciles",
        Duration::from_secs(30),
        || {
            p.api
                .object(INVENTORY_TEST)
                .is_some_and(|i| i.to_string().contains("applied"))
                && p.api
                    .object(LEASE)
                    .is_some_and(|l| l["spec"]["holderIdentity"] == "replica-b")
        },
    );
    let (a, _b) = (stop(a), stop(b));
    let requests = p.api.requests();
    let a_writes = object_writes(&requests, "replica-a");
    let b_writes = object_writes(&requests, "replica-b");
    assert!(!b_writes.is_empty(), "b reconciled");
    let b_took_over = requests
        .iter()
        .filter(|r| r.who == "replica-b" && r.is_write() && r.path.contains("/leases"))
        .map(|r| r.arrived)
        .min()
        .expect("b wrote the lease");
    // Nothing a sent after b held the lease; what a had in flight landed before.
    for write in &a_writes {
        assert!(write.arrived < b_took_over, "{write:#?}");
        assert!(write.landed.is_none_or(|l| l < b_took_over), "{write:#?}");
    }
    assert!(
        a_writes.iter().all(|w| !w.path.contains("tollgate-system")),
        "a wrote no status after losing the lease: {a_writes:#?}"
    );
    let a_out = String::from_utf8_lossy(&a.stdout);
    assert!(
        a_out.contains("the lease was lost during the pass"),
        "{a_out}"
    );
}

/// `GET path` on a plain HTTP server: the status code and the body.
fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let code = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

#[test]
fn a_running_reconcile_serves_metrics_and_probes_and_logs_each_pass_to_stderr() {
    use std::io::BufRead;
    let p = three_config_maps();
    let mut child = tollgate(p.home.path())
        .env("RUST_LOG", "tollgate=info")
        .arg("--config")
        .arg(&p.config)
        .args([
            "reconcile",
            "--env",
            "production",
            "--interval",
            "200ms",
            "--metrics-addr",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ])
        .arg("--kubeconfig")
        .arg(&p.kubeconfig)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start reconcile");
    let lines = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let (sender, receiver) = std::sync::mpsc::channel::<serde_json::Value>();
    std::thread::spawn(move || {
        for line in lines.lines().map_while(Result::ok) {
            let parsed = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
            if sender.send(parsed).is_err() {
                break;
            }
        }
    });
    let next = || {
        receiver
            .recv_timeout(Duration::from_secs(20))
            .expect("a log line")
    };
    let addr = loop {
        let line = next();
        if line["message"] == "serving metrics" {
            break line["addr"].as_str().expect("addr").to_string();
        }
    };
    let mut passes = 0;
    while passes < 3 {
        let line = next();
        if line["message"] == "pass" {
            assert_eq!(line["env"], "production", "{line}");
            assert_eq!(line["level"], "INFO", "{line}");
            passes += 1;
        }
    }
    let (code, metrics) = http_get(&addr, "/metrics");
    assert_eq!(code, 200);
    for expected in [
        "tollgate_reconcile_passes_total{repo=\"test\",environment=\"production\",result=\"applied\"}",
        "tollgate_reconcile_pass_duration_seconds_count{repo=\"test\",environment=\"production\"}",
        "tollgate_reconcile_objects_total{repo=\"test\",environment=\"production\",action=\"applied\"} 4",
        "tollgate_reconcile_last_success_timestamp_seconds{repo=\"test\",environment=\"production\"}",
        "tollgate_reconcile_revision_info{repo=\"test\",environment=\"production\",revision=\"",
    ] {
        assert!(metrics.contains(expected), "{expected}\n{metrics}");
    }
    assert_eq!(http_get(&addr, "/healthz").0, 200);
    assert_eq!(http_get(&addr, "/readyz").0, 200);
    let output = stop(child);
    assert_eq!(output.status.code(), Some(0));
}

const INVENTORY_TEST: &str =
    "/api/v1/namespaces/tollgate-system/configmaps/tollgate-test-production";

#[test]
fn a_render_that_is_not_what_was_approved_is_refused() {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    let base = repo.commit_files(
        &[
            (
                ".tollgate/policy.yaml",
                "environments:\n  production:\n    approvals: 1\n",
            ),
            ("envs/production/a.yaml", &object("ConfigMap", "a")),
        ],
        "Alice",
        "start",
    );
    let head = repo.branch(
        "promote/b",
        &[("envs/production/b.yaml", &object("ConfigMap", "b"))],
        "Bob",
        "Add b",
    );
    let sig = tollgate::git::write::Signature {
        name: "Carol".into(),
        email: "carol@example.com".into(),
        time: 1_795_000_000,
    };
    // Carol approved what rendered then; the digest she pinned is not what renders now
    // (as when a remote base moved under the same commit).
    repo.repo
        .record_approval(
            tollgate::approvals::Approval {
                by: tollgate::identity::Identity {
                    name: "Carol".into(),
                    email: "carol@example.com".into(),
                },
                at: sig.time,
                head: head.to_string(),
                base: base.to_string(),
                comment: None,
                digests: std::collections::BTreeMap::from([(
                    "production".to_string(),
                    "sha256:00000000000000000000000000000000".to_string(),
                )]),
                branch: None,
                promotion: None,
                acknowledged_unrendered: Vec::new(),
                signed: None,
            },
            &sig,
        )
        .expect("approval");
    let merge = repo
        .repo
        .write_commit(
            repo.repo.tree_of(head).expect("tree"),
            &[base, head],
            &sig,
            &sig,
            "Merge promotion test:promote/b\n\nAdd b\n\nPromotion: test:promote/b\nApproved-by: Carol <carol@example.com>\nMerged-by: Carol <carol@example.com>\n",
        )
        .expect("merge");
    repo.repo
        .update_ref("refs/heads/main", Some(base), merge, "merge", &sig)
        .expect("main");
    let config = repo.write_config(home.path(), "");
    let api = FakeApi::start();
    let kubeconfig = api.kubeconfig(home.path());
    let refused = reconcile(
        home.path(),
        &config,
        &kubeconfig,
        &["--env", "production", "--once", "--json"],
    );
    assert_eq!(refused.code, 3, "{}", refused.stdout);
    assert!(
        refused.json()["refused"]
            .as_str()
            .is_some_and(|r| r.contains("is not what was approved")),
        "{}",
        refused.stdout
    );
    assert!(api.object("/api/v1/namespaces/shop/configmaps/b").is_none());
}

#[test]
fn a_slow_answer_is_given_up_on_and_retried_and_a_conflict_is_reported() {
    let p = three_config_maps();
    // Longer than --request-timeout (2s): the client gives up and sends it again.
    p.api.fail(Fault {
        method: "PATCH",
        path_contains: "/configmaps/a".into(),
        status: 0,
        times: 1,
        delay: Duration::from_secs(4),
        who: None,
    });
    // Another field manager owns a field: the API server answers 409 to a non-forced apply.
    p.api.fail(Fault {
        method: "PATCH",
        path_contains: "/configmaps/c".into(),
        status: 409,
        times: 1,
        delay: Duration::ZERO,
        who: None,
    });
    let partial = p.reconcile(&[]);
    assert_eq!(partial.code, 1);
    let report = partial.json();
    let failed: Vec<(String, u64)> = report["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter(|o| o["error"].is_string())
        .map(|o| {
            (
                o["name"].as_str().expect("name").to_string(),
                o["code"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(failed, [("c".to_string(), 409)], "{report:#}");
    let attempts = p
        .api
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/configmaps/a"))
        .count();
    assert_eq!(attempts, 2, "the slow one was sent again");
    assert!(
        p.api
            .object("/api/v1/namespaces/shop/configmaps/a")
            .is_some()
    );
}

/// The app drawn as the terminal would show it, `width` columns by 8 rows.
fn screen_of(app: &tollgate::tui::app::App, width: u16) -> String {
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, 8)).expect("terminal");
    terminal
        .draw(|frame| {
            tollgate::tui::view::draw(frame, app, tollgate::tui::theme::Theme { color: false })
        })
        .expect("draw");
    terminal.backend().to_string()
}
