//! The inbox over 20 GitHub repositories × 30 open pull requests, against the GitHub API
//! server of the integration tests (real HTTP on loopback, optionally with added latency):
//! each repo loaded as the TUI loads it (`Command::LoadRepo`, one worker thread per repo,
//! all at once). Reports when the first rows and the last listed rows arrived (the API
//! listing, shown before any diff), when every repo was complete (mirror fetched, diffs
//! rendered, verdicts from the reviews), and how many requests were made.
//! `cargo bench --bench github_inbox`; figures in docs/performance.md.

#[path = "../tests/integration/github_api.rs"]
#[allow(dead_code)]
mod github_api;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use github_api::{FakeGitHub, FakePull};
use tollgate::config::Config;
use tollgate::git::Repo;
use tollgate::git::write::{FileChange, Signature};
use tollgate::tui::work::{Command, Outcome, execute};

const REPOS: usize = 20;
const PULLS: u64 = 30;
const TOKEN: &str = "ghp_benchToken";

fn main() {
    if std::env::var("GH_TOKEN").as_deref() != Ok(TOKEN) {
        // The token comes from the environment, as for a person: run again with it set.
        let status = std::process::Command::new(std::env::current_exe().expect("own path"))
            .args(std::env::args_os().skip(1))
            .env("GH_TOKEN", TOKEN)
            .status()
            .expect("run the bench again");
        std::process::exit(status.code().unwrap_or(1));
    }
    let dir = tempfile::TempDir::new().expect("temp dir");
    // One origin serves every repo: the same 30 pull request heads.
    let origin_path = dir.path().join("origin.git");
    gix::init_bare(&origin_path).expect("init");
    std::fs::write(origin_path.join("HEAD"), "ref: refs/heads/main\n").expect("HEAD");
    let origin = Repo::open("origin", &origin_path).expect("open");
    let sig = Signature {
        name: "Alice".into(),
        email: "alice@example.com".into(),
        time: 1_790_000_000,
    };
    let deployment = |image: u64| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: api\n        image: ghcr.io/acme/api:1.{image}\n"
        )
    };
    let write = |base: gix::ObjectId, image: u64| {
        origin
            .write_tree(
                base,
                &[FileChange {
                    path: "envs/production/api.yaml".into(),
                    content: Some(deployment(image).into_bytes()),
                }],
            )
            .expect("tree")
    };
    let empty = gix::ObjectId::empty_tree(gix::hash::Kind::Sha1);
    let base_tree = write(empty, 0);
    let main = origin
        .write_commit(base_tree, &[], &sig, &sig, "start")
        .expect("commit");
    origin
        .update_ref("refs/heads/main", None, main, "bench", &sig)
        .expect("main");

    let server = FakeGitHub::start();
    server.token(TOKEN, "dana-ops");
    let heads: Vec<gix::ObjectId> = (1..=PULLS)
        .map(|n| {
            let tree = write(base_tree, n);
            origin
                .write_commit(tree, &[main], &sig, &sig, &format!("api 1.{n}"))
                .expect("commit")
        })
        .collect();
    let mut config_text = String::from("repos:\n");
    for r in 0..REPOS {
        let slug = format!("acme/env-{r:02}");
        server.repo(&slug, &origin_path, "main");
        for (i, head) in heads.iter().enumerate() {
            let number = i as u64 + 1;
            server.open_pull(
                &slug,
                FakePull {
                    number,
                    title: format!("Promote api 1.{number}"),
                    body: String::new(),
                    author: "bob".into(),
                    head_ref: format!("promote/api-1.{number}"),
                    base_ref: "main".into(),
                    draft: false,
                    labels: Vec::new(),
                    created_at: "2026-11-20T08:00:00Z".into(),
                    open: true,
                    requested_reviewers: Vec::new(),
                },
                *head,
            );
            server.review(&slug, number, "erin", "APPROVED", &head.to_string());
        }
        config_text.push_str(&format!(
            "  - name: env-{r:02}\n    path: {}\n    branch: main\n    github: {{owner: acme, repo: env-{r:02}, api_url: \"{}\"}}\n",
            dir.path().join(format!("mirror-{r:02}.git")).display(),
            server.url()
        ));
    }
    let config_path = dir.path().join("config.yaml");
    std::fs::write(&config_path, &config_text).expect("config");
    let config = Arc::new(Config::load(&config_path).expect("config"));

    println!(
        "github_inbox: {REPOS} repos × {PULLS} open pull requests, one LoadRepo per repo at once"
    );
    for (label, latency) in [
        ("loopback", Duration::ZERO),
        ("+50 ms per request", Duration::from_millis(50)),
    ] {
        server.latency(latency);
        for run in 0..3 {
            // A fresh mirror each run after the first costs a full fetch; keep them: the
            // TUI's second look is the common case, and run 0 shows the cold one.
            let before = server.requests().len();
            let started = Instant::now();
            let listed: Arc<Mutex<Vec<Duration>>> = Arc::default();
            let complete: Arc<Mutex<Vec<Duration>>> = Arc::default();
            let threads: Vec<_> = config
                .repos
                .iter()
                .map(|repo| {
                    let (config, listed, complete) =
                        (config.clone(), listed.clone(), complete.clone());
                    let name = repo.name.clone();
                    std::thread::spawn(move || {
                        let mut first = true;
                        let command = Command::LoadRepo {
                            request: 1,
                            repo: name,
                        };
                        execute(&config, command, &|_| true, &mut |outcome| {
                            if let Outcome::Repo { result, .. } = outcome {
                                let rows = result.expect("rows");
                                assert_eq!(rows.len(), PULLS as usize);
                                let at = started.elapsed();
                                if first {
                                    listed.lock().expect("lock").push(at);
                                    first = false;
                                } else {
                                    assert!(rows.iter().all(|r| r.approvals == "1/1"));
                                    complete.lock().expect("lock").push(at);
                                }
                            }
                        });
                    })
                })
                .collect();
            for t in threads {
                t.join().expect("repo loaded");
            }
            let listed = listed.lock().expect("lock").clone();
            let complete = complete.lock().expect("lock").clone();
            let requests = server.requests().len() - before;
            let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
            println!(
                "  {label:<19} run {run}: first rows {:>6.1} ms, all {} listed {:>6.1} ms, all complete {:>7.1} ms, {requests} requests",
                ms(listed.iter().min()),
                listed.len() * PULLS as usize,
                ms(listed.iter().max()),
                ms(complete.iter().max()),
            );
        }
    }
}
