//! The inbox of one local repository with 500 promotion branches, loaded as the TUI loads
//! it (`Command::LoadRepo`): when the first rows (the branches, listed) arrive and when
//! every row is complete (diff summary and verdict). `cargo bench --bench inbox_local`;
//! figures in docs/performance.md.

use std::time::{Duration, Instant};

use tollgate::config::Config;
use tollgate::git::Repo;
use tollgate::git::write::{FileChange, Signature};
use tollgate::tui::work::{Command, Outcome, execute};

const PROMOTIONS: usize = 500;

fn main() {
    // The verdicts are for an identity, set as a person would set it.
    let identity = "TOLLGATE_IDENTITY";
    if std::env::var_os(identity).is_none() {
        let status = std::process::Command::new(std::env::current_exe().expect("own path"))
            .args(std::env::args_os().skip(1))
            .env(identity, "Dana Ops <dana@example.com>")
            .status()
            .expect("run the bench again");
        std::process::exit(status.code().unwrap_or(1));
    }
    let dir = tempfile::TempDir::new().expect("temp dir");
    let path = dir.path().join("envs.git");
    gix::init_bare(&path).expect("init");
    std::fs::write(path.join("HEAD"), "ref: refs/heads/main\n").expect("HEAD");
    let repo = Repo::open("envs", &path).expect("open");
    let sig = Signature {
        name: "Alice".into(),
        email: "alice@example.com".into(),
        time: 1_790_000_000,
    };
    let deployment = |env: usize, image: usize| {
        FileChange {
        path: format!("envs/env-{env:02}/api.yaml"),
        content: Some(
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: env-{env:02}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: api\n        image: ghcr.io/acme/api:1.{image}\n"
            )
            .into_bytes(),
        ),
    }
    };
    let empty = gix::ObjectId::empty_tree(gix::hash::Kind::Sha1);
    let files: Vec<FileChange> = (0..10).map(|env| deployment(env, 0)).collect();
    let base_tree = repo.write_tree(empty, &files).expect("tree");
    let main = repo
        .write_commit(base_tree, &[], &sig, &sig, "start")
        .expect("commit");
    repo.update_ref("refs/heads/main", None, main, "bench", &sig)
        .expect("main");
    for n in 1..=PROMOTIONS {
        let tree = repo
            .write_tree(base_tree, &[deployment(n % 10, n)])
            .expect("tree");
        let head = repo
            .write_commit(
                tree,
                &[main],
                &sig,
                &sig,
                &format!("api 1.{n} to env-{:02}", n % 10),
            )
            .expect("commit");
        repo.update_ref(
            &format!("refs/heads/promote/api-{n}"),
            None,
            head,
            "bench",
            &sig,
        )
        .expect("branch");
    }
    let config_path = dir.path().join("config.yaml");
    std::fs::write(
        &config_path,
        format!(
            "repos:\n  - name: envs\n    path: {}\n    branch: main\n",
            path.display()
        ),
    )
    .expect("config");
    let config = Config::load(&config_path).expect("config");
    println!("inbox_local: one repository, {PROMOTIONS} promotion branches, one LoadRepo");
    for run in 0..3 {
        let started = Instant::now();
        let mut answers: Vec<(Duration, usize, bool)> = Vec::new();
        let command = Command::LoadRepo {
            request: 1,
            repo: "envs".into(),
        };
        execute(&config, command, &|_| true, &mut |outcome| {
            if let Outcome::Repo { result, .. } = outcome {
                let rows = result.expect("rows");
                let complete = rows.iter().all(|r| r.summary != "computing…");
                answers.push((started.elapsed(), rows.len(), complete));
            }
        });
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let (first, rows, _) = answers[0];
        let (last, _, complete) = answers[answers.len() - 1];
        assert!(complete && rows == PROMOTIONS, "{answers:?}");
        println!(
            "  run {run}: first rows ({rows}) {:>7.1} ms, all complete {:>8.1} ms",
            ms(first),
            ms(last)
        );
    }
}
