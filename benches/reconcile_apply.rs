//! Applying 10,000 objects with `tollgate reconcile --once` (the release binary, as a
//! process) against the test API server of the integration tests: the first pass
//! (10,000 server-side applies) and a second, no-op pass; wall time, objects per second
//! and the process's peak memory and CPU time (`/usr/bin/time -f '%M %U %S'`). `cargo bench --bench
//! reconcile_apply`; figures in docs/performance.md.

#[path = "../tests/integration/kube_api.rs"]
#[allow(dead_code)]
mod kube_api;

use std::process::Command;
use std::time::Instant;

use tollgate::git::Repo;
use tollgate::git::write::{FileChange, Signature};

const OBJECTS: usize = 10_000;
const PER_FILE: usize = 100;

fn main() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let path = dir.path().join("env.git");
    gix::init_bare(&path).expect("init");
    std::fs::write(path.join("HEAD"), "ref: refs/heads/main\n").expect("HEAD");
    let repo = Repo::open("bench", &path).expect("open");
    let files: Vec<FileChange> = (0..OBJECTS / PER_FILE)
        .map(|f| {
            let text: String = (0..PER_FILE)
                .map(|i| {
                    let n = f * PER_FILE + i;
                    format!(
                        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-{n}\n  namespace: ns-{}\ndata:\n  key: value-{n}\n---\n",
                        n % 20
                    )
                })
                .collect();
            FileChange {
                path: format!("envs/production/configs-{f:03}.yaml"),
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
            "10,000 config maps\n\nBreak-glass: Carol <carol@example.com>\nReason: bench\n",
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

    for pass in ["first pass (10,000 applies)", "second pass (no-op)"] {
        api.clear_requests();
        let started = Instant::now();
        let output = Command::new("/usr/bin/time")
            .args(["-f", "%M %U %S"])
            .arg(env!("CARGO_BIN_EXE_tollgate"))
            .arg("--config")
            .arg(&config)
            .args(["reconcile", "--env", "production", "--once", "--kubeconfig"])
            .arg(&kubeconfig)
            .env("XDG_STATE_HOME", dir.path().join("state"))
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
        let writes = api.requests().iter().filter(|r| r.is_write()).count();
        println!(
            "{pass}: {:.2} s ({user:.2} s user, {system:.2} s system in tollgate), {writes} write requests, {:.0} objects/s, peak RSS {} MB",
            elapsed.as_secs_f64(),
            OBJECTS as f64 / elapsed.as_secs_f64(),
            peak_kb / 1024
        );
    }
}
