//! `tollgate reconcile --all --once` over 30 environments of 300 objects each (9,000
//! objects) against the test API server of the integration tests: a first pass that
//! applies everything, then no-op passes (every object read back for drift, nothing
//! written). Wall time, the process's CPU time and peak memory (`/usr/bin/time`), and the
//! write requests. `cargo bench --bench reconcile_many`; figures in docs/performance.md.

#[path = "../tests/integration/kube_api.rs"]
#[allow(dead_code)]
mod kube_api;

use std::process::Command;
use std::time::Instant;

use tollgate::git::Repo;
use tollgate::git::write::{FileChange, Signature};

const ENVIRONMENTS: usize = 30;
const PER_ENVIRONMENT: usize = 300;

fn main() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let path = dir.path().join("env.git");
    gix::init_bare(&path).expect("init");
    std::fs::write(path.join("HEAD"), "ref: refs/heads/main\n").expect("HEAD");
    let repo = Repo::open("bench", &path).expect("open");
    let files: Vec<FileChange> = (0..ENVIRONMENTS)
        .map(|e| {
            let text: String = (0..PER_ENVIRONMENT)
                .map(|n| {
                    format!(
                        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-{n}\n  namespace: env-{e:02}\ndata:\n  key: value-{n}\n---\n"
                    )
                })
                .collect();
            FileChange {
                path: format!("envs/env-{e:02}/configs.yaml"),
                content: Some(text.into_bytes()),
            }
        })
        .collect();
    let empty = gix::ObjectId::empty_tree(gix::hash::Kind::Sha1);
    let tree = repo.write_tree(empty, &files).expect("tree");
    let sig = Signature {
        name: "Carol".into(),
        email: "carol@example.com".into(),
        time: 1_790_000_000,
    };
    let commit = repo
        .write_commit(
            tree,
            &[],
            &sig,
            &sig,
            "30 environments\n\nBreak-glass: Carol <carol@example.com>\nReason: bench\n",
        )
        .expect("commit");
    repo.update_ref("refs/heads/main", None, commit, "bench", &sig)
        .expect("main");
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!("repos:\n  - name: bench\n    path: {}\n", path.display()),
    )
    .expect("config");
    let api = kube_api::FakeApi::start();
    let kubeconfig = api.kubeconfig(dir.path());

    for pass in [
        "first pass (9,000 applies)",
        "no-op pass",
        "no-op pass",
        "no-op pass",
    ] {
        api.clear_requests();
        let started = Instant::now();
        let output = Command::new("/usr/bin/time")
            .args(["-f", "%M %U %S"])
            .arg(env!("CARGO_BIN_EXE_tollgate"))
            .arg("--config")
            .arg(&config)
            .args([
                "--log-level",
                "warn",
                "reconcile",
                "--all",
                "--once",
                "--concurrency",
                "8",
                "--kubeconfig",
            ])
            .arg(&kubeconfig)
            .output()
            .expect("run /usr/bin/time tollgate");
        let elapsed = started.elapsed();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        let measured: Vec<f64> = stderr
            .lines()
            .last()
            .unwrap_or("")
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        let (peak_kb, user, system) = match measured.as_slice() {
            [peak, user, system] => (*peak as u64, *user, *system),
            _ => (0, 0.0, 0.0),
        };
        let requests = api.requests();
        let writes = requests.iter().filter(|r| r.is_write()).count();
        println!(
            "{pass}: {:.2} s ({user:.2} s user, {system:.2} s system in tollgate), {} requests, {writes} writes, peak RSS {} MB",
            elapsed.as_secs_f64(),
            requests.len(),
            peak_kb / 1024
        );
    }
}
