//! An environment's history is the history of what it renders from: a commit that only
//! touches a kustomize base is in the history of every overlay that uses it, and a commit
//! that changes nothing rendered is absent from `--rendered`.

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, kustomize_available, tollgate_with};

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n      - name: api\n        image: ghcr.io/acme/api:1.0.0\n";

fn overlay(namespace: &str, extra: &str) -> String {
    format!("resources:\n  - ../../base\n{extra}namespace: {namespace}\n")
}

struct Fixture {
    home: TempDir,
    config: std::path::PathBuf,
    repo: EnvRepoBuilder,
}

fn fixture() -> Fixture {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            ("base/kustomization.yaml", "resources:\n  - deploy.yaml\n"),
            ("base/deploy.yaml", DEPLOY),
            ("envs/staging/kustomization.yaml", &overlay("staging", "")),
            (
                "envs/production/kustomization.yaml",
                &overlay("production", ""),
            ),
            ("envs/production/NOTES.md", "# production\n"),
            (
                "envs/dev/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dev}\n",
            ),
        ],
        "Alice",
        "Bootstrap",
    );
    repo.commit_files(
        &[("base/deploy.yaml", &DEPLOY.replace("1.0.0", "1.1.0"))],
        "Bob",
        "Bump api in base",
    );
    repo.commit_files(
        &[(
            "envs/production/NOTES.md",
            "# production\n\non call: #ops\n",
        )],
        "Carol",
        "Edit production notes",
    );
    repo.commit_files(
        &[(
            "envs/dev/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dev}\ndata: {a: b}\n",
        )],
        "Bob",
        "Tune dev",
    );
    repo.commit_files(
        &[
            ("components/extra/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - cm.yaml\n"),
            ("components/extra/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\ndata: {level: '1'}\n"),
            ("envs/production/kustomization.yaml", &overlay("production", "components:\n  - ../../components/extra\n")),
        ],
        "Alice",
        "Add the extra component to production",
    );
    repo.commit_files(
        &[(
            "components/extra/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\ndata: {level: '2'}\n",
        )],
        "Bob",
        "Raise the extra level",
    );
    repo.commit_files(&[("README.md", "unrelated\n")], "Alice", "Readme");
    let config = repo.write_config(home.path(), "");
    Fixture { home, config, repo }
}

fn subjects(f: &Fixture, args: &[&str]) -> Vec<String> {
    let mut all = vec!["history"];
    all.extend_from_slice(args);
    all.push("--json");
    tollgate_with(f.home.path(), &f.config, &all)
        .ok()
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["subject"].as_str().expect("subject").to_string())
        .collect()
}

#[test]
fn base_only_commit_is_in_the_history_of_every_overlay_using_it() {
    let f = fixture();
    assert_eq!(
        subjects(&f, &["--env", "staging"]),
        ["Bump api in base", "Bootstrap"]
    );
    assert_eq!(
        subjects(&f, &["--env", "production"]),
        [
            "Raise the extra level",
            "Add the extra component to production",
            "Edit production notes",
            "Bump api in base",
            "Bootstrap"
        ]
    );
    assert_eq!(subjects(&f, &["--env", "dev"]), ["Tune dev", "Bootstrap"]);
}

#[test]
fn path_only_history_is_the_folder_alone() {
    let f = fixture();
    assert_eq!(
        subjects(&f, &["--env", "production", "--path-only"]),
        [
            "Add the extra component to production",
            "Edit production notes",
            "Bootstrap"
        ]
    );
}

#[test]
fn rendered_history_leaves_out_commits_that_change_nothing_deployed() {
    if !kustomize_available("rendered_history_leaves_out_commits_that_change_nothing_deployed") {
        return;
    }
    let f = fixture();
    let history = tollgate_with(
        f.home.path(),
        &f.config,
        &["history", "--env", "production", "--rendered", "--json"],
    )
    .ok()
    .json();
    let entries = history.as_array().expect("array");
    let subjects: Vec<&str> = entries
        .iter()
        .map(|e| e["subject"].as_str().expect("subject"))
        .collect();
    assert_eq!(
        subjects,
        [
            "Raise the extra level",
            "Add the extra component to production",
            "Bump api in base",
            "Bootstrap"
        ]
    );
    let bump = &entries[2]["objects"][0];
    assert_eq!(bump["environment"], "production");
    assert_eq!(bump["changes"][0]["kind"], "Deployment");
    assert_eq!(bump["changes"][0]["namespace"], "production");
    assert_eq!(bump["changes"][0]["change"], "changed");
}

#[test]
fn all_environments_and_a_limit() {
    let f = fixture();
    let entries = tollgate_with(
        f.home.path(),
        &f.config,
        &["history", "--limit", "3", "--json"],
    )
    .ok()
    .json();
    let entries = entries.as_array().expect("array");
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["subject"], "Raise the extra level");
    assert_eq!(
        entries[0]["environments"],
        serde_json::json!(["production"])
    );
    let text = tollgate_with(f.home.path(), &f.config, &["history"])
        .ok()
        .stdout;
    assert!(
        text.contains("[production,staging]") && text.contains("Bump api in base"),
        "{text}"
    );
    assert!(
        !text.contains("Readme"),
        "a commit touching no environment is not listed"
    );
}

#[test]
fn the_index_serves_the_second_look_and_follows_new_commits() {
    let mut f = fixture();
    let first = subjects(&f, &["--env", "production"]);
    let index_dir = f.home.path().join("cache/tollgate/history");
    let files: Vec<_> = std::fs::read_dir(&index_dir)
        .expect("index written")
        .flatten()
        .collect();
    assert_eq!(files.len(), 1, "one index for one environment and mode");
    assert_eq!(
        subjects(&f, &["--env", "production"]),
        first,
        "served from the index"
    );

    f.repo.commit_files(
        &[("base/deploy.yaml", &DEPLOY.replace("1.0.0", "2.0.0"))],
        "Carol",
        "Bump api again",
    );
    let after = subjects(&f, &["--env", "production"]);
    assert_eq!(after[0], "Bump api again");
    assert_eq!(&after[1..], &first[..]);

    // History rewritten under the index (a force-push): the index no longer applies.
    let bootstrap = f.repo.repo.resolve("main~7").expect("the first commit");
    let rewritten = f.repo.commit_on(
        Some(bootstrap),
        &[("envs/production/NOTES.md", Some(b"new\n"))],
        "Dana",
        "Rewritten",
    );
    let sig = tollgate::git::write::Signature {
        name: "t".into(),
        email: "t@e".into(),
        time: 0,
    };
    let tip = f.repo.head;
    f.repo
        .repo
        .update_ref("refs/heads/main", tip, rewritten, "force", &sig)
        .expect("force-move main");
    assert_eq!(
        subjects(&f, &["--env", "production"]),
        ["Rewritten", "Bootstrap"]
    );

    // A damaged index is ignored, not trusted.
    for file in std::fs::read_dir(&index_dir).expect("index dir").flatten() {
        std::fs::write(file.path(), b"garbage").expect("damage");
    }
    assert_eq!(
        subjects(&f, &["--env", "production"]),
        ["Rewritten", "Bootstrap"]
    );
}

/// A long first-parent line is walked in two halves on two threads (over 4,096 commits);
/// the answer must be the one walk's, commit for commit. `--since` takes the one-thread
/// path, so the two runs compare the two ways.
#[test]
fn a_long_line_walked_in_two_halves_audits_as_walked_in_one() {
    let home = tempfile::TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("long.git"));
    repo.commit_files(
        &[(
            ".tollgate/policy.yaml",
            "environments:\n  a:\n    approvals: 1\n",
        )],
        "Alice",
        "policy",
    );
    for i in 0..5000u32 {
        let env = ["a", "b", "c"][i as usize % 3];
        let path = format!("envs/{env}/cm.yaml");
        let text = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  n: \"{i}\"\n"
        );
        if i % 500 == 250 {
            // A merge: a side commit brought in with trailers, off the first-parent line.
            let side = repo.commit_on(
                repo.head,
                &[(path.as_str(), Some(text.as_bytes()))],
                "Bob",
                "side change",
            );
            let main = repo.head.expect("main");
            let tree = repo.repo.tree_of(side).expect("tree");
            let sig = tollgate::git::write::Signature {
                name: "Carol".into(),
                email: "carol@example.com".into(),
                time: 1_795_000_000 + i64::from(i),
            };
            let merge = repo
                .repo
                .write_commit(
                    tree,
                    &[main, side],
                    &sig,
                    &sig,
                    &format!("Merge promotion test:promote/{i}\n\nPromotion: test:promote/{i}\nApproved-by: Dana <dana@example.com>\nMerged-by: Carol <carol@example.com>\n"),
                )
                .expect("merge");
            repo.repo
                .update_ref("refs/heads/main", Some(main), merge, "test", &sig)
                .expect("move main");
            repo.head = Some(merge);
        } else {
            repo.commit_files(
                &[(path.as_str(), text.as_str())],
                "Bob",
                &format!("change {i}"),
            );
        }
    }
    let config = repo.write_config(home.path(), "");
    let audit = |extra: &[&str]| {
        let mut args = vec!["audit", "verify", "--format", "json"];
        args.extend_from_slice(extra);
        let out = tollgate_with(home.path(), &config, &args);
        assert_eq!(out.code, 3, "direct pushes are violations: {}", out.stderr);
        out.json()
    };
    let split = audit(&[]);
    let rows = split[0]["rows"].as_array().expect("rows");
    // Every change once, and the first commit's `.tollgate/` (the policy it added).
    assert_eq!(rows.len(), 5001, "every change, once");
    // The same audit through the single walk that a bounded audit takes.
    let loaded = tollgate::config::Config::load(&config).expect("config");
    let open = tollgate::workspace::OpenRepo::open(&loaded.repos[0]).expect("open");
    let one = tollgate::audit::audit_newest(&open, None, Some(0), None).expect("audit");
    let one = serde_json::to_value(&one).expect("rows as JSON");
    assert_eq!(split[0]["rows"], one);
}

/// A repository packed by `git repack` holds its trees as delta chains up to 50 deep,
/// which tollgate reads through its own chain-caching pack reader: the history of every
/// environment, cold and then from the index, is git's, commit for commit.
#[test]
fn a_repacked_repository_has_the_history_git_log_gives() {
    use std::process::Command;

    let home = TempDir::new().expect("temp dir");
    let path = home.path().join("packed.git");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(&path)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    std::fs::create_dir_all(&path).expect("mkdir");
    git(&["init", "-q", "--bare", "-b", "main", "."]);
    let mut stream = String::new();
    for i in 0..1200u32 {
        // Environments change at different rates, and some commits touch none.
        let file = match i % 7 {
            0..=2 => format!("envs/env{}/cm.yaml", i % 3),
            3 => format!("envs/env3/sub/cm{}.yaml", i % 5),
            4 | 5 => "envs/env4/cm.yaml".to_string(),
            _ => format!("docs/note{}.md", i % 4),
        };
        let body = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  n: \"{i}\"\n"
        );
        let message = format!("change {i}");
        stream.push_str(&format!(
            "commit refs/heads/main\ncommitter T <t@example.com> {} +0000\ndata {}\n{message}\n",
            1_795_000_000 + i,
            message.len()
        ));
        stream.push_str(&format!(
            "M 100644 inline {file}\ndata {}\n{body}\n",
            body.len()
        ));
    }
    crate::common::fast_import(&path, &stream);
    git(&["repack", "-adfq", "--depth=50", "--window=50"]);
    let config = home.path().join("config.yaml");
    std::fs::write(
        &config,
        format!("repos:\n  - name: packed\n    path: {}\n", path.display()),
    )
    .expect("config");

    for env in ["env0", "env1", "env2", "env3", "env4"] {
        let expected: Vec<String> =
            git(&["log", "--format=%H", "main", "--", &format!("envs/{env}")])
                .lines()
                .map(str::to_string)
                .collect();
        assert!(expected.len() > 100, "{env} has a history");
        // Twice: the first walks (and writes the index), the second reads the index.
        for look in ["cold", "indexed"] {
            let shas =
                crate::common::history_shas(home.path(), &config, &["--env", env, "--path-only"]);
            assert_eq!(shas, expected, "{env}, {look}");
        }
    }
}

#[test]
fn a_layout_change_mid_history_keeps_the_rendered_history_right_on_both_sides() {
    if !kustomize_available(
        "a_layout_change_mid_history_keeps_the_rendered_history_right_on_both_sides",
    ) {
        return;
    }
    let cm = |v: u32| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app, namespace: shop}}\ndata: {{v: '{v}'}}\n"
        )
    };
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(&[("envs/prod/app.yaml", &cm(1))], "Alice", "plain 1");
    repo.commit_files(&[("envs/prod/app.yaml", &cm(2))], "Alice", "plain 2");
    // The folder becomes a kustomization; what it renders stays the same.
    repo.commit_files(
        &[("envs/prod/kustomization.yaml", "resources: [app.yaml]\n")],
        "Alice",
        "to kustomize",
    );
    repo.commit_files(&[("envs/prod/app.yaml", &cm(3))], "Alice", "kustomize 3");
    let config = repo.write_config(home.path(), "");
    let history = tollgate_with(
        home.path(),
        &config,
        &["history", "--env", "prod", "--rendered", "--json"],
    )
    .ok()
    .json();
    let entries = history.as_array().expect("entries");
    let subjects: Vec<&str> = entries
        .iter()
        .map(|e| e["subject"].as_str().expect("subject"))
        .collect();
    assert_eq!(
        subjects,
        ["kustomize 3", "plain 2", "plain 1"],
        "the layout change renders the same, so it is not a rendered change: {history:#}"
    );
    for entry in entries {
        assert!(
            entry["objects"][0].get("render_error").is_none(),
            "{entry:#}"
        );
    }
}
