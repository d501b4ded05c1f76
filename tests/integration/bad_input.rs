//! Bad input gets a clear, specific error or a clearly marked partial result, never a
//! panic, and never a changed repository.

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, kustomize_available, run, tollgate, tollgate_with};

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good}\ndata: {a: '1'}\n";

fn repo_with(files: &[(&str, &str)]) -> (TempDir, EnvRepoBuilder, std::path::PathBuf) {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(&[("envs/prod/good.yaml", CM)], "Alice", "start");
    if !files.is_empty() {
        repo.commit_files(files, "Bob", "change");
    }
    let config = repo.write_config(home.path(), "");
    (home, repo, config)
}

#[track_caller]
fn fails_with(result: crate::common::Run, needle: &str) {
    exits_with(result, 1, needle);
}

/// The verdict or the policy said no: exit status 3.
fn refused_with(result: crate::common::Run, needle: &str) {
    exits_with(result, 3, needle);
}

fn exits_with(result: crate::common::Run, code: i32, needle: &str) {
    assert_eq!(
        result.code, code,
        "stdout: {}\nstderr: {}",
        result.stdout, result.stderr
    );
    assert!(
        result.stderr.contains(needle),
        "stderr should say {needle:?}:\n{}",
        result.stderr
    );
    assert!(!result.stderr.contains("panicked"), "{}", result.stderr);
}

#[test]
fn unknown_repo_branch_and_commit_are_named() {
    let (home, mut repo, config) = repo_with(&[]);
    repo.branch(
        "promote/x",
        &[("envs/prod/good.yaml", &CM.replace("'1'", "'2'"))],
        "Bob",
        "x",
    );
    fails_with(
        tollgate_with(home.path(), &config, &["diff", "nope:promote/x"]),
        "no repo named \"nope\"",
    );
    fails_with(
        tollgate_with(home.path(), &config, &["diff", "test:promote/gone"]),
        "no pending promotion on branch \"promote/gone\"",
    );
    fails_with(
        tollgate_with(home.path(), &config, &["show", "deadbeef"]),
        "\"deadbeef\" is not a commit",
    );
    fails_with(
        tollgate_with(home.path(), &config, &["diff", "main..nope"]),
        "\"nope\" is not a commit",
    );
    fails_with(
        tollgate_with(home.path(), &config, &["history", "--env", "qa"]),
        "no environment named \"qa\"",
    );
    fails_with(
        tollgate_with(home.path(), &config, &["diff", "no-colon"]),
        "REPO:BRANCH",
    );
    // The promotion itself still works.
    let ok = tollgate_with(home.path(), &config, &["diff", "test:promote/x", "--json"])
        .ok()
        .json();
    assert_eq!(ok["environments"][0]["objects"][0]["name"], "good");
}

#[test]
fn configured_branch_that_does_not_exist() {
    let (home, repo, _) = repo_with(&[]);
    let config = home.path().join("c.yaml");
    std::fs::write(
        &config,
        format!(
            "repos:\n  - name: t\n    path: {}\n    branch: trunk\n",
            repo.path.display()
        ),
    )
    .expect("write");
    fails_with(
        tollgate_with(home.path(), &config, &["history"]),
        "branch \"trunk\" does not exist",
    );
}

#[test]
fn a_repo_that_is_not_a_git_repository_does_not_hide_the_others() {
    let (home, mut repo, _) = repo_with(&[]);
    repo.branch(
        "promote/x",
        &[("envs/prod/good.yaml", &CM.replace("'1'", "'2'"))],
        "Bob",
        "x",
    );
    let config = home.path().join("c.yaml");
    let not_git = home.path().join("plain-folder");
    std::fs::create_dir(&not_git).expect("mkdir");
    std::fs::write(
        &config,
        format!(
            "repos:\n  - name: broken\n    path: {}\n  - name: good\n    path: {}\n",
            not_git.display(),
            repo.path.display()
        ),
    )
    .expect("write");
    let result = tollgate_with(home.path(), &config, &["list"]);
    assert!(
        result.stdout.contains("good:promote/x"),
        "{}",
        result.stdout
    );
    fails_with(result, "is not a git repository");
}

#[test]
fn config_errors_name_file_line_and_key() {
    let home = TempDir::new().expect("temp dir");
    let config = home.path().join("config.yaml");
    for (text, needle) in [
        (
            "repos:\n  - name: a\n    path: /x\n    promotion: x\n",
            "config.yaml:4",
        ),
        (
            "repos:\n  - name: a\n    path: /x\n    promotion: x\n",
            "promotion",
        ),
        ("repos: 7\n", "config.yaml:1"),
        ("repos:\n  - name: a\n", "path"),
        ("identity: [a\n", "config.yaml:1"),
    ] {
        std::fs::write(&config, text).expect("write");
        fails_with(tollgate_with(home.path(), &config, &["list"]), needle);
    }
    fails_with(
        tollgate_with(home.path(), &home.path().join("missing.yaml"), &["list"]),
        "no config file at",
    );
}

#[test]
fn usage_errors_exit_with_two() {
    let home = TempDir::new().expect("temp dir");
    assert_eq!(
        run(tollgate(home.path()).args(["history", "--rendered", "--path-only"])).code,
        2
    );
    assert_eq!(run(tollgate(home.path()).args(["frobnicate"])).code, 2);
}

#[test]
fn exit_statuses_tell_success_failure_usage_and_refusal_apart() {
    let (home, config) = crate::demo::demo();
    let status = |args: &[&str]| {
        run(tollgate(home.path())
            .env("TOLLGATE_IDENTITY", "Dana Ops <dana@example.com>")
            .arg("--config")
            .arg(&config)
            .args(args))
        .code
    };
    assert_eq!(status(&["list"]), 0, "success");
    assert_eq!(
        status(&["diff", "nowhere:promote/x"]),
        1,
        "something went wrong"
    );
    assert_eq!(
        status(&["list", "--no-such-flag"]),
        2,
        "the command line is wrong"
    );
    // The demo's protected branch holds a direct push: the policy says no.
    assert_eq!(status(&["audit", "verify", "--repo", "shop"]), 3, "refused");
}

#[test]
fn broken_documents_are_reported_and_the_rest_still_diffs() {
    let (home, _repo, config) = repo_with(&[
        ("envs/prod/good.yaml", &CM.replace("'1'", "'2'")),
        (
            "envs/prod/broken.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n---\napiVersion: v1\nkind: [oops\n",
        ),
        (
            "envs/prod/nokind.yaml",
            "apiVersion: v1\nmetadata: {name: c}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n",
        ),
        // Its identity reads well; the error is further down.
        (
            "envs/prod/indented.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\ndata:\n  a: '1'\n   b: '2'\n",
        ),
    ]);
    let json = tollgate_with(home.path(), &config, &["diff", "HEAD~1..HEAD", "--json"])
        .incomplete()
        .json();
    let env = &json["environments"][0];
    let issues: Vec<String> = env["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|i| {
            format!(
                "{}:{}: {}",
                i["file"].as_str().unwrap_or(""),
                i["line"],
                i["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        issues
            .iter()
            .any(|i| i.starts_with("envs/prod/broken.yaml:") && i.contains("YAML")),
        "{issues:?}"
    );
    assert!(
        issues
            .iter()
            .any(|i| i.starts_with("envs/prod/indented.yaml:7:") && i.contains("YAML")),
        "{issues:?}"
    );
    assert!(
        issues
            .iter()
            .any(|i| i.starts_with("envs/prod/nokind.yaml:1:") && i.contains("kind")),
        "{issues:?}"
    );
    assert!(
        issues
            .iter()
            .any(|i| i.starts_with("envs/prod/nokind.yaml:4:") && i.contains("metadata.name")),
        "{issues:?}"
    );
    let names: Vec<&str> = env["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| o["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["b", "good"], "objects of good documents still diff");
    let text = tollgate_with(home.path(), &config, &["diff", "HEAD~1..HEAD"])
        .incomplete()
        .stdout;
    assert!(text.contains("! envs/prod/broken.yaml:"), "{text}");
}

#[test]
fn non_utf8_file_is_reported_with_its_line() {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(&[("envs/prod/good.yaml", CM)], "Alice", "start");
    repo.commit(
        &[(
            "envs/prod/latin1.yaml",
            Some(b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\xe9}\n"),
        )],
        "Bob",
        "latin-1",
    );
    let config = repo.write_config(home.path(), "");
    let json = tollgate_with(home.path(), &config, &["diff", "HEAD~1..HEAD", "--json"])
        .incomplete()
        .json();
    let issue = &json["environments"][0]["issues"][0];
    assert_eq!(issue["file"], "envs/prod/latin1.yaml");
    assert_eq!(issue["line"], 3);
    assert!(
        issue["message"]
            .as_str()
            .expect("message")
            .contains("UTF-8")
    );
}

#[test]
fn a_hundred_megabyte_manifest_is_a_marked_partial_result() {
    let big = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: huge}}\ndata:\n  blob: {}\n",
        "x".repeat(100 * 1024 * 1024)
    );
    let (home, _repo, config) = repo_with(&[
        ("envs/prod/huge.yaml", &big),
        ("envs/prod/good.yaml", &CM.replace("'1'", "'2'")),
    ]);
    let result =
        tollgate_with(home.path(), &config, &["diff", "HEAD~1..HEAD", "--json"]).incomplete();
    let json = result.json();
    let env = &json["environments"][0];
    let names: Vec<&str> = env["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| o["name"].as_str().unwrap_or(""))
        .collect();
    assert!(names.contains(&"good"), "{names:?}");
    let issue = &env["issues"][0];
    assert_eq!(issue["file"], "envs/prod/huge.yaml", "{issue}");
    assert!(
        result.stdout.len() < 1024 * 1024,
        "the 100 MB value is not echoed"
    );
}

#[test]
fn kustomization_with_a_missing_file_is_a_clear_render_error() {
    if !kustomize_available("kustomization_with_a_missing_file_is_a_clear_render_error") {
        return;
    }
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            ("envs/prod/kustomization.yaml", "resources:\n  - cm.yaml\n"),
            ("envs/prod/cm.yaml", CM),
        ],
        "Alice",
        "start",
    );
    repo.commit_files(
        &[(
            "envs/prod/kustomization.yaml",
            "resources:\n  - cm.yaml\n  - missing.yaml\n",
        )],
        "Bob",
        "break it",
    );
    let config = repo.write_config(home.path(), "");
    let json = tollgate_with(home.path(), &config, &["diff", "HEAD~1..HEAD", "--json"])
        .incomplete()
        .json();
    let env = &json["environments"][0];
    let errors = env["render_errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{env}");
    let error = errors[0].as_str().expect("text");
    assert!(error.contains("missing.yaml"), "{error}");
    assert!(
        !error.contains("tollgate-render-"),
        "the temp dir is not shown: {error}"
    );
    assert_eq!(
        env["objects"],
        serde_json::json!([]),
        "a failed render is not shown as everything removed"
    );
    let text = tollgate_with(home.path(), &config, &["diff", "HEAD~1..HEAD"])
        .incomplete()
        .stdout;
    assert!(text.contains("render failed"), "{text}");
}

#[test]
fn a_kustomization_that_leaves_the_repository_renders_nothing_from_outside() {
    if !kustomize_available(
        "a_kustomization_that_leaves_the_repository_renders_nothing_from_outside",
    ) {
        return;
    }
    let home = TempDir::new().expect("temp dir");
    // A folder of the machine, outside any repository, that kustomize could render.
    let host = home.path().join("host");
    std::fs::create_dir_all(&host).expect("host folder");
    std::fs::write(host.join("kustomization.yaml"), "resources: [cm.yaml]\n").expect("write");
    std::fs::write(
        host.join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stolen}\ndata: {key: host-only-value}\n",
    )
    .expect("write");
    let host = host.display().to_string();
    let climbing = format!("{}{}", "../".repeat(40), host.trim_start_matches('/'));
    for (how, reference) in [("climbing", climbing.as_str()), ("absolute", host.as_str())] {
        let mut repo = EnvRepoBuilder::new(&home.path().join(format!("{how}.git")));
        repo.commit_files(
            &[
                ("envs/prod/kustomization.yaml", "resources: [cm.yaml]\n"),
                ("envs/prod/cm.yaml", CM),
            ],
            "Alice",
            "start",
        );
        repo.commit_files(
            &[(
                "envs/prod/kustomization.yaml",
                &format!("resources: [cm.yaml, {reference}]\n"),
            )],
            "Mallory",
            "read the host",
        );
        let config = repo.write_config(home.path(), "");
        let json = tollgate_with(home.path(), &config, &["diff", "HEAD~1..HEAD", "--json"]);
        let text = tollgate_with(home.path(), &config, &["diff", "HEAD~1..HEAD"]);
        for out in [&json, &text] {
            assert!(!out.stdout.contains("stolen"), "{how}: {}", out.stdout);
            assert!(
                !out.stdout.contains("host-only-value"),
                "{how}: {}",
                out.stdout
            );
        }
        let env = &json.json()["environments"][0];
        let error = env["render_errors"][0].as_str().unwrap_or_default();
        assert!(
            error.contains("envs/prod/kustomization.yaml")
                && error.contains(reference)
                && error.contains("outside the repository"),
            "{how}: {env}"
        );
        assert!(
            text.stdout.contains("render failed"),
            "{how}: {}",
            text.stdout
        );
    }
}

#[test]
fn missing_kustomize_binary_is_named() {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            ("envs/prod/kustomization.yaml", "resources:\n  - cm.yaml\n"),
            ("envs/prod/cm.yaml", CM),
        ],
        "Alice",
        "start",
    );
    repo.commit_files(
        &[("envs/prod/cm.yaml", &CM.replace("'1'", "'2'"))],
        "Bob",
        "change",
    );
    let config = repo.write_config(home.path(), "");
    let empty_path = home.path().join("no-tools");
    std::fs::create_dir(&empty_path).expect("mkdir");
    let result = crate::common::run(
        tollgate(home.path())
            .env("PATH", &empty_path)
            .arg("--config")
            .arg(&config)
            .args(["diff", "HEAD~1..HEAD", "--json"]),
    )
    .incomplete();
    let json = result.json();
    let error = json["environments"][0]["render_errors"][0]
        .as_str()
        .expect("a render error");
    assert!(
        error.contains("kubectl") && error.contains("kustomize"),
        "{error}"
    );
}

#[test]
fn a_render_program_that_hangs_is_stopped_and_named() {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            ("envs/prod/kustomization.yaml", "resources:\n  - cm.yaml\n"),
            ("envs/prod/cm.yaml", CM),
        ],
        "Alice",
        "start",
    );
    repo.commit_files(
        &[("envs/prod/cm.yaml", &CM.replace("'1'", "'2'"))],
        "Bob",
        "change",
    );
    let config = repo.write_config(home.path(), "");
    // A kubectl that never answers.
    let tools = home.path().join("tools");
    std::fs::create_dir(&tools).expect("mkdir");
    let kubectl = tools.join("kubectl");
    std::fs::write(&kubectl, "#!/bin/sh\nexec sleep 60\n").expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let started = std::time::Instant::now();
    let result = crate::common::run(
        tollgate(home.path())
            .env("PATH", format!("{}:/usr/bin:/bin", tools.display()))
            .env("TOLLGATE_RENDER_TIMEOUT", "1s")
            .arg("--config")
            .arg(&config)
            .args(["diff", "HEAD~1..HEAD", "--json"]),
    )
    .incomplete();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "the hung program was stopped"
    );
    let json = result.json();
    let error = json["environments"][0]["render_errors"][0]
        .as_str()
        .expect("a render error");
    assert!(
        error.contains("`kubectl kustomize envs/prod` did not finish within 1s")
            && error.contains("TOLLGATE_RENDER_TIMEOUT"),
        "{error}"
    );
}

#[test]
fn a_closed_or_unread_stderr_loses_the_message_not_the_exit_code() {
    let (home, _repo, config) = repo_with(&[]);
    // `2>&-` closes the descriptor itself, which no Stdio setting does.
    let closed = |args: &str| {
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("\"$0\" --config \"$1\" {args} 2>&-",))
            .arg(env!("CARGO_BIN_EXE_tollgate"))
            .arg(&config)
            .env("HOME", home.path())
            .env("XDG_STATE_HOME", home.path().join("state"))
            .stdout(std::process::Stdio::null())
            .status()
            .expect("sh runs");
        status.code()
    };
    assert_eq!(closed("list"), Some(0));
    assert_eq!(
        closed("show no-such-repo:branch"),
        Some(1),
        "an error, not a panic (101)"
    );

    // A pipe nobody reads any more (`tollgate … 2>&1 | head -0` and the like).
    let mut child = tollgate(home.path())
        .arg("--config")
        .arg(&config)
        .args(["show", "no-such-repo:branch"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stderr.take());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(1), "an error, not a panic (101)");
}

#[test]
fn a_promotion_that_cannot_be_read_is_flagged_and_merges_only_with_break_glass() {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    let policy = "environments:\n  prod:\n    approvals: 1\nbreak_glass: [carol@example.com]\n";
    repo.commit_files(
        &[
            (".tollgate/policy.yaml", policy),
            ("envs/prod/good.yaml", CM),
        ],
        "Alice",
        "start",
    );
    // The promotion's only change is a document nobody can read.
    repo.branch(
        "promote/broken",
        &[(
            "envs/prod/broken.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: [unclosed\n",
        )],
        "Bob",
        "Add a config",
    );
    let config = repo.write_config(home.path(), "");
    let id = "test:promote/broken";
    let as_who = |who: &str, args: &[&str]| crate::common::as_who(home.path(), &config, who, args);

    let list = as_who("Dana", &["list", "--json"]).ok().json();
    let summary = list[0]["summary"].as_str().expect("summary");
    assert!(
        summary.contains("1 document(s) cannot be read"),
        "{summary}"
    );
    let text = as_who("Dana", &["list"]).ok().stdout;
    assert!(text.contains("cannot be read"), "{text}");

    // Approving what could not be seen needs saying so, and the approval records it.
    let refused = as_who("Alice", &["approve", id]);
    refused_with(refused, "--acknowledge-unrendered");
    as_who("Alice", &["approve", id, "--acknowledge-unrendered"]).ok();
    let head = repo.repo.branch_head("promote/broken").expect("head");
    let approvals = repo.repo.approvals_on(head).expect("approvals");
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0].acknowledged_unrendered, ["prod"]);
    // The review prints the verdict, and exits 1: its change is not wholly shown.
    let verdict = as_who("Dana", &["show", id, "--json"]).incomplete().json();
    assert_eq!(verdict["can_merge"], false, "{verdict:#}");
    let problem = verdict["render_problems"][0].as_str().unwrap_or_default();
    assert!(problem.contains("envs/prod/broken.yaml"), "{verdict:#}");

    let before = repo.repo.branch_head("main").expect("main");
    let refused = as_who("Dana", &["merge", id]);
    refused_with(refused, "does not render cleanly at the head");
    assert_eq!(repo.repo.branch_head("main").expect("main"), before);

    as_who(
        "Carol",
        &["merge", id, "--break-glass", "--reason", "ship it anyway"],
    )
    .ok();
    assert_ne!(repo.repo.branch_head("main").expect("main"), before);
}

#[test]
fn yaml_broken_before_the_promotion_still_blocks_its_merge() {
    // The protected branch already holds a value nobody can read (an invalid escape);
    // the promotion changes another key of the same document. The diff compares only
    // the parts that differ, but the merge gate reads the head's documents whole.
    let document = |k: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: esc\ndata:\n  bad: \"a \\q b\"\n  k: {k}\n"
        )
    };
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    let policy = "environments:\n  prod:\n    approvals: 1\n";
    repo.commit_files(
        &[
            (".tollgate/policy.yaml", policy),
            ("envs/prod/esc.yaml", &document("a")),
        ],
        "Alice",
        "start",
    );
    repo.branch(
        "promote/k",
        &[("envs/prod/esc.yaml", &document("b"))],
        "Bob",
        "Change k",
    );
    let config = repo.write_config(home.path(), "");
    let id = "test:promote/k";
    let as_who = |who: &str, args: &[&str]| crate::common::as_who(home.path(), &config, who, args);

    let verdict = as_who("Dana", &["show", id, "--json"]).incomplete().json();
    assert_eq!(verdict["can_merge"], false, "{verdict:#}");
    let problem = verdict["render_problems"][0].as_str().unwrap_or_default();
    assert!(
        problem.contains("cannot be read") && problem.contains("envs/prod/esc.yaml"),
        "{verdict:#}"
    );
    as_who("Alice", &["approve", id, "--acknowledge-unrendered"]).ok();
    let before = repo.repo.branch_head("main").expect("main");
    refused_with(
        as_who("Dana", &["merge", id]),
        "does not render cleanly at the head",
    );
    assert_eq!(repo.repo.branch_head("main").expect("main"), before);
}

/// A repository whose second commit writes `files`, whose `diff --json` must say the
/// environment was not rendered (exit 1) for a reason that contains `reason`.
fn not_rendered_because(files: &[(&str, &str)], reason: &str) -> (TempDir, std::path::PathBuf) {
    let (home, _repo, config) = repo_with(files);
    let json = tollgate_with(home.path(), &config, &["diff", "HEAD~1..HEAD", "--json"])
        .incomplete()
        .json();
    let render = &json["environments"][0]["render"];
    assert_eq!(render["state"], "not-rendered", "{json:#}");
    assert!(
        render["reason"]
            .as_str()
            .is_some_and(|r| r.contains(reason)),
        "{render}"
    );
    (home, config)
}

#[test]
fn what_was_not_rendered_is_never_no_change_and_fails_the_diff() {
    // A plain environment where only a jsonnet file changed.
    let (home, config) = not_rendered_because(
        &[("envs/prod/app.jsonnet", "{ replicas: 3 }\n")],
        "envs/prod/app.jsonnet (jsonnet)",
    );
    let text = tollgate_with(home.path(), &config, &["diff", "HEAD~1..HEAD"]).incomplete();
    assert!(
        text.stdout.contains("not rendered: envs/prod/app.jsonnet"),
        "{}",
        text.stdout
    );
    assert!(
        !text.stdout.contains("no rendered change"),
        "{}",
        text.stdout
    );
    let shown = tollgate_with(home.path(), &config, &["show", "HEAD", "--json"]).incomplete();
    assert_eq!(
        shown.json()["environments"][0]["render"]["state"],
        "not-rendered"
    );

    // A manifest encrypted with SOPS: the render reads it (and tells the status so, which
    // does not read it again), but what changed inside cannot be shown. On one side only
    // is enough: here the change encrypts it.
    not_rendered_because(
        &[(
            "envs/prod/good.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: ENC[AES256_GCM,data:x,iv:y]\nsops:\n  mac: z\n",
        )],
        "envs/prod/good.yaml (encrypted with SOPS",
    );

    // A README changing is not a render question.
    let (home, _repo, config) = repo_with(&[("envs/prod/README.md", "notes\n")]);
    let json = tollgate_with(home.path(), &config, &["diff", "HEAD~1..HEAD", "--json"])
        .ok()
        .json();
    assert_eq!(json["environments"][0]["render"]["state"], "ok");
}

#[test]
fn a_render_that_fails_on_one_side_is_not_rendered_in_the_list_and_the_diff() {
    if !kustomize_available(
        "a_render_that_fails_on_one_side_is_not_rendered_in_the_list_and_the_diff",
    ) {
        return;
    }
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            ("envs/prod/kustomization.yaml", "resources: [cm.yaml]\n"),
            ("envs/prod/cm.yaml", CM),
        ],
        "Alice",
        "start",
    );
    repo.branch(
        "promote/broken",
        &[(
            "envs/prod/kustomization.yaml",
            "resources: [cm.yaml, gone.yaml]\n",
        )],
        "Bob",
        "Break the render",
    );
    let config = repo.write_config(home.path(), "");
    let list = tollgate_with(home.path(), &config, &["list", "--json"])
        .ok()
        .json();
    assert_eq!(list[0]["summary"], "render failed", "{list:#}");
    let diff = tollgate_with(home.path(), &config, &["diff", "test:promote/broken"]).incomplete();
    assert!(
        diff.stdout.contains("not rendered (render failed)"),
        "{}",
        diff.stdout
    );
    assert!(diff.stderr.contains("gone.yaml"), "{}", diff.stderr);
}

#[test]
fn a_reader_that_goes_away_is_not_an_error() {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    // More history than a pipe holds, so that writing meets the closed end.
    for i in 0..400 {
        repo.commit_files(
            &[("envs/prod/cm.yaml", &CM.replace("'1'", &format!("'{i}'")))],
            "Alice",
            &format!("Change {i}"),
        );
    }
    let config = repo.write_config(home.path(), "");
    for args in [&["history", "--json"][..], &["history"]] {
        let mut child = tollgate(home.path())
            .arg("--config")
            .arg(&config)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut head = [0u8; 64];
        std::io::Read::read_exact(child.stdout.as_mut().expect("stdout"), &mut head)
            .expect("some output");
        drop(child.stdout.take());
        let output = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_document_broken_on_both_sides_is_one_issue_that_says_so() {
    let broken = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: [unclosed\n";
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            ("envs/prod/good.yaml", CM),
            ("envs/prod/broken.yaml", broken),
        ],
        "Alice",
        "start",
    );
    repo.commit_files(
        &[("envs/prod/good.yaml", &CM.replace("'1'", "'2'"))],
        "Bob",
        "change the good one",
    );
    let config = repo.write_config(home.path(), "");
    let json = tollgate_with(home.path(), &config, &["diff", "HEAD~1..HEAD", "--json"])
        .incomplete()
        .json();
    let issues = json["environments"][0]["issues"]
        .as_array()
        .expect("issues");
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0]["side"], "both");
    assert_eq!(issues[0]["file"], "envs/prod/broken.yaml");
    let text = tollgate_with(home.path(), &config, &["diff", "HEAD~1..HEAD"])
        .incomplete()
        .stdout;
    assert_eq!(text.matches("envs/prod/broken.yaml:").count(), 1, "{text}");
    assert!(text.contains("(before and after)"), "{text}");
}

#[test]
fn bash_completes_a_subcommand_from_the_generated_script() {
    let home = TempDir::new().expect("temp dir");
    let script = run(tollgate(home.path()).args(["completions", "bash"]))
        .ok()
        .stdout;
    let file = home.path().join("tollgate.bash");
    std::fs::write(&file, script).expect("write");
    let complete = |words: &str, current: usize| {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source {}; COMP_WORDS=({words}); COMP_CWORD={current}; COMP_LINE='{words}'; COMP_POINT=${{#COMP_LINE}}; _tollgate tollgate \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; echo \"${{COMPREPLY[@]}}\"",
                file.display()
            ))
            .output()
            .expect("bash");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(complete("tollgate rec", 1), "reconcile");
    assert_eq!(
        complete("tollgate reconcile --le", 2),
        "--leader-elect --lease-identity --lease-duration"
    );
}

#[test]
fn the_man_page_renders_with_man() {
    if !crate::common::man_available("the_man_page_renders_with_man") {
        return;
    }
    let home = TempDir::new().expect("temp dir");
    let page = run(tollgate(home.path()).arg("man")).ok().stdout;
    let file = home.path().join("tollgate.1");
    std::fs::write(&file, page).expect("write");
    let out = std::process::Command::new("man")
        .arg("-l")
        .arg(&file)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .expect("run man");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for section in ["NAME", "SYNOPSIS", "SUBCOMMANDS", "tollgate-reconcile(1)"] {
        assert!(text.contains(section), "{section} in:\n{text}");
    }
}
