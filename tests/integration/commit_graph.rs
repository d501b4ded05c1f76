//! With a commit-graph and its changed-path Bloom filters (what `git maintenance` writes),
//! a history passes most commits on the filters' word alone. The answer must be the one
//! the trees give: the same histories with and without a graph, in one file or a chain of
//! layers, with commits newer than the graph, merges, a commit too large for a filter,
//! paths outside ASCII, and a kustomize closure that changes along the way.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::common::{fast_import, history_shas};

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(repo)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

const KUSTOMIZE_ENVS: [&str; 1] = ["k"];
const PLAIN_ENVS: [&str; 3] = ["a", "b", "café"];

fn config_map(name: &str, n: u32) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  n: \"{n}\"\n")
}

/// A `git fast-import` stream being written: one commit a minute, marked in order.
struct Stream {
    text: String,
    time: u64,
    mark: u32,
}

impl Stream {
    /// A commit of `files` on `branch`, on `parents` (marks) if given; its mark.
    fn commit(&mut self, branch: &str, parents: &[String], files: &[(String, String)]) -> u32 {
        self.mark += 1;
        self.time += 60;
        let message = format!("change {}", self.mark);
        self.text.push_str(&format!(
            "commit refs/heads/{branch}\nmark :{}\ncommitter T <t@example.com> {} +0000\ndata {}\n{message}\n",
            self.mark,
            self.time,
            message.len()
        ));
        for (i, parent) in parents.iter().enumerate() {
            let verb = if i == 0 { "from" } else { "merge" };
            self.text.push_str(&format!("{verb} {parent}\n"));
        }
        for (path, body) in files {
            self.text.push_str(&format!(
                "M 100644 inline {path}\ndata {}\n{body}\n",
                body.len()
            ));
        }
        self.mark
    }
}

/// A history with everything a filter must not get wrong; `rounds` times over.
fn history(rounds: u32) -> String {
    let mut s = Stream {
        text: String::new(),
        time: 1_795_000_000,
        mark: 0,
    };
    let file = |path: &str, n: u32| (path.to_string(), config_map("cm", n));
    s.commit(
        "main",
        &[],
        &[
            file("envs/a/cm.yaml", 0),
            file("envs/b/cm.yaml", 0),
            file("envs/café/cm.yaml", 0),
            file("base/cm.yaml", 0),
            file("base2/cm.yaml", 0),
            (
                "base/kustomization.yaml".into(),
                "resources:\n  - cm.yaml\n".into(),
            ),
            (
                "base2/kustomization.yaml".into(),
                "resources:\n  - cm.yaml\n".into(),
            ),
            (
                "envs/k/kustomization.yaml".into(),
                "resources:\n  - ../../base\n".into(),
            ),
        ],
    );
    for round in 0..rounds {
        let n = round * 100;
        for i in 0..12 {
            let path = match i % 6 {
                0 => "envs/a/cm.yaml",
                1 => "base/cm.yaml",
                2 => "docs/notes.md",
                3 => "envs/café/cm.yaml",
                4 => "base2/cm.yaml",
                _ => "envs/b/sub/cm.yaml",
            };
            s.commit("main", &[], &[file(path, n + i)]);
        }
        // A side branch merged back: the merge changes `a` against its first parent.
        let fork = format!(":{}", s.mark);
        let side = s.commit("side", &[fork], &[file("envs/a/side.yaml", n)]);
        s.commit("side", &[], &[file("envs/b/cm.yaml", n + 50)]);
        let main = s.commit("main", &[], &[file("docs/notes.md", n + 51)]);
        s.commit("main", &[format!(":{main}"), format!(":{}", side + 1)], &[]);
        // More paths than a filter holds (git's limit is 512): an all-ones filter.
        let bulk: Vec<(String, String)> = (0..600)
            .map(|j| (format!("bulk/f{j}.txt"), format!("{round} {j}\n")))
            .collect();
        s.commit("main", &[], &bulk);
        // The closure moves from base to base2 and back.
        let to = if round % 2 == 0 { "base2" } else { "base" };
        s.commit(
            "main",
            &[],
            &[(
                "envs/k/kustomization.yaml".into(),
                format!("resources:\n  - ../../{to}\n"),
            )],
        );
    }
    s.text
}

fn repo(home: &Path) -> (PathBuf, PathBuf) {
    let path = home.join("env.git");
    std::fs::create_dir_all(&path).expect("mkdir");
    git(&path, &["init", "-q", "--bare", "-b", "main", "."]);
    fast_import(&path, &history(6));
    let config = home.join("config.yaml");
    std::fs::write(
        &config,
        format!("repos:\n  - name: env\n    path: {}\n", path.display()),
    )
    .expect("config");
    (path, config)
}

/// Every history tollgate gives of this repository, by environment and mode, walked
/// (the history index from an earlier look is removed first).
fn histories(home: &Path, config: &Path) -> Vec<(String, Vec<String>)> {
    let _ = std::fs::remove_dir_all(home.join("cache"));
    let mut all = Vec::new();
    for env in KUSTOMIZE_ENVS.iter().chain(&PLAIN_ENVS) {
        for mode in [&["--path-only"][..], &[], &["--first-parent"]] {
            let mut args = vec!["--env", env];
            args.extend_from_slice(mode);
            all.push((format!("{env} {mode:?}"), history_shas(home, config, &args)));
        }
    }
    all
}

#[test]
fn histories_are_the_same_with_a_commit_graph_and_its_filters() {
    let home = TempDir::new().expect("temp dir");
    let (path, config) = repo(home.path());
    // Against its first parent, as git's filters are: a merge that brings a change in is
    // in the history (git log's simplification would follow the side branch instead).
    let without = histories(home.path(), &config);
    let k_inputs = &without
        .iter()
        .find(|(name, _)| name == "k []")
        .expect("k's history")
        .1;
    assert!(
        k_inputs.len() > 12,
        "k's history follows its closure through base and base2"
    );

    // One file, filters hashed as git first did (version 1) and as specified (2).
    for version in ["1", "2"] {
        git(
            &path,
            &[
                "-c",
                &format!("commitGraph.changedPathsVersion={version}"),
                "commit-graph",
                "write",
                "--reachable",
                "--changed-paths",
            ],
        );
        assert_eq!(
            histories(home.path(), &config),
            without,
            "one graph file, filters version {version}"
        );
    }

    // Newer commits than the graph, then a chain of layers over them.
    fast_import(
        &path,
        "commit refs/heads/main\ncommitter T <t@example.com> 1796000000 +0000\ndata 5\nlater\nfrom refs/heads/main^0\nM 100644 inline envs/a/cm.yaml\ndata 4\nnew\n\n",
    );
    let without = histories(home.path(), &config);
    git(
        &path,
        &["commit-graph", "write", "--reachable", "--changed-paths"],
    );
    fast_import(
        &path,
        "commit refs/heads/main\ncommitter T <t@example.com> 1796000100 +0000\ndata 6\nlater2\nfrom refs/heads/main^0\nM 100644 inline envs/b/cm.yaml\ndata 4\nnew\n\n",
    );
    let newer = histories(home.path(), &config);
    assert_ne!(newer, without, "the newest commit is in b's history");
    git(
        &path,
        &[
            "commit-graph",
            "write",
            "--reachable",
            "--split=no-merge",
            "--changed-paths",
        ],
    );
    assert!(
        path.join("objects/info/commit-graphs/commit-graph-chain")
            .is_file(),
        "a chain of layers"
    );
    assert_eq!(histories(home.path(), &config), newer, "a chain of layers");
}

/// The filters are read as git wrote them: never "no" for a path a commit changed
/// (`git diff-tree` says which), and "no" for most commits of a path rarely changed.
#[test]
fn the_filters_answer_as_git_wrote_them() {
    let home = TempDir::new().expect("temp dir");
    let (path, _) = repo(home.path());
    git(
        &path,
        &[
            "-c",
            "commitGraph.changedPathsVersion=2",
            "commit-graph",
            "write",
            "--reachable",
            "--changed-paths",
        ],
    );
    let repo = tollgate::git::Repo::open("env", &path).expect("open");
    let graph = repo.commit_graph().expect("a commit-graph");
    assert!(graph.has_filters(), "written with --changed-paths");
    let rare = graph.keys(["envs/café"]);
    let mut passed = 0;
    let commits: Vec<String> = git(&path, &["rev-list", "--all"])
        .lines()
        .map(str::to_string)
        .collect();
    for sha in &commits {
        let id = gix::ObjectId::from_hex(sha.as_bytes()).expect("sha");
        let position = graph.position(&id).expect("in the graph");
        // -t lists the folders too, as the filter holds them.
        let changed = git(
            &path,
            &[
                "-c",
                "core.quotePath=false",
                "diff-tree",
                "--no-commit-id",
                "--name-only",
                "-r",
                "-t",
                "--root",
                sha,
            ],
        );
        for changed_path in changed.lines() {
            assert!(
                graph.may_differ(position, &graph.keys([changed_path])),
                "{sha} changed {changed_path}, and its filter must not say no"
            );
        }
        if !graph.may_differ(position, &rare) {
            passed += 1;
        }
    }
    assert!(
        passed * 10 >= commits.len() * 8,
        "{passed} of {} commits passed on the filter alone",
        commits.len()
    );
}
