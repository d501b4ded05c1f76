//! Approvals on local repositories, through the binary: the policy comes from the base,
//! approvals go stale when the head moves, authors and outsiders are refused, and
//! concurrent approvals are all kept.

use std::path::Path;

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, Run, run, tollgate};

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec: {replicas: 2}\n";
const POLICY: &str = "teams:\n  sre: [carol@example.com, dana@example.com]\nenvironments:\n  production:\n    approvals: 2\n    approvers: [team:sre, alice@example.com]\n";

/// A repo with a policy, production, and a promotion by Bob.
fn repo() -> (TempDir, EnvRepoBuilder, std::path::PathBuf) {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            (".tollgate/policy.yaml", POLICY),
            ("envs/production/api.yaml", DEPLOY),
        ],
        "Alice",
        "start",
    );
    repo.branch(
        "promote/scale",
        &[(
            "envs/production/api.yaml",
            &DEPLOY.replace("replicas: 2", "replicas: 4"),
        )],
        "Bob",
        "Scale api",
    );
    let config = repo.write_config(home.path(), "");
    (home, repo, config)
}

fn as_who(home: &Path, config: &Path, who: &str, args: &[&str]) -> Run {
    let identity = format!("{who} <{}@example.com>", who.to_lowercase());
    run(tollgate(home)
        .env("TOLLGATE_IDENTITY", identity)
        .arg("--config")
        .arg(config)
        .args(args))
}

fn verdict(home: &Path, config: &Path, who: &str) -> serde_json::Value {
    as_who(home, config, who, &["show", "test:promote/scale", "--json"])
        .ok()
        .json()
}

#[test]
fn two_approvals_from_the_policy_allow_a_merge() {
    let (home, _repo, config) = repo();
    let before = verdict(home.path(), &config, "Carol");
    assert_eq!(before["environments"][0]["required"], 2);
    assert_eq!(before["can_merge"], false);
    assert_eq!(before["can_approve"], true);
    as_who(
        home.path(),
        &config,
        "Carol",
        &["approve", "test:promote/scale", "--comment", "ok"],
    )
    .ok();
    as_who(
        home.path(),
        &config,
        "Dana",
        &["approve", "test:promote/scale"],
    )
    .ok();
    let after = verdict(home.path(), &config, "Carol");
    assert_eq!(after["environments"][0]["valid"], 2);
    assert_eq!(after["can_merge"], true, "{after:#}");
    let statuses: Vec<&str> = after["approvals"]
        .as_array()
        .expect("approvals")
        .iter()
        .map(|a| a["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["valid", "valid"]);
    for key in [
        "id",
        "head",
        "base",
        "approvals",
        "environments",
        "can_approve",
        "can_merge",
        "reasons",
    ] {
        assert!(after.get(key).is_some(), "verdict JSON has {key}");
    }
}

#[test]
fn an_approval_goes_stale_when_the_head_moves() {
    let (home, mut repo, config) = repo();
    as_who(
        home.path(),
        &config,
        "Carol",
        &["approve", "test:promote/scale"],
    )
    .ok();
    let head = repo.repo.branch_head("promote/scale").expect("branch");
    let moved = repo.commit_on(
        Some(head),
        &[(
            "envs/production/api.yaml",
            Some(DEPLOY.replace("replicas: 2", "replicas: 5").as_bytes()),
        )],
        "Bob",
        "More",
    );
    let sig = tollgate::git::write::Signature {
        name: "Bob".into(),
        email: "bob@example.com".into(),
        time: 0,
    };
    repo.repo
        .update_ref("refs/heads/promote/scale", Some(head), moved, "push", &sig)
        .expect("move the branch");
    let after = verdict(home.path(), &config, "Dana");
    assert_eq!(after["approvals"][0]["status"], "stale", "{after:#}");
    assert_eq!(after["environments"][0]["valid"], 0);
}

#[test]
fn authors_and_outsiders_are_refused_and_nothing_is_written() {
    let (home, repo, config) = repo();
    let refused = as_who(
        home.path(),
        &config,
        "Bob",
        &["approve", "test:promote/scale"],
    );
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("wrote part of this promotion"),
        "{}",
        refused.stderr
    );
    let outsider = as_who(
        home.path(),
        &config,
        "Erin",
        &["approve", "test:promote/scale"],
    );
    assert_eq!(outsider.code, 1);
    assert!(
        outsider.stderr.contains("not an approver for production"),
        "{}",
        outsider.stderr
    );
    assert!(
        repo.repo
            .inner
            .try_find_reference("refs/notes/tollgate")
            .expect("refs readable")
            .is_none(),
        "a refused approval writes nothing"
    );
}

#[test]
fn the_policy_comes_from_the_base_not_the_head() {
    let (home, mut repo, config) = repo();
    // A promotion that lowers the bar for itself.
    repo.branch(
        "promote/sneaky",
        &[
            (
                ".tollgate/policy.yaml",
                &POLICY.replace("approvals: 2", "approvals: 0"),
            ),
            (
                "envs/production/api.yaml",
                &DEPLOY.replace("replicas: 2", "replicas: 9"),
            ),
        ],
        "Bob",
        "Scale api, quietly",
    );
    let verdict = as_who(
        home.path(),
        &config,
        "Carol",
        &["show", "test:promote/sneaky", "--json"],
    )
    .ok()
    .json();
    let envs = verdict["environments"].as_array().expect("environments");
    assert_eq!(envs[0]["name"], "production");
    assert_eq!(
        envs[0]["required"], 2,
        "the base's policy applies: {verdict:#}"
    );
    assert_eq!(
        envs[1]["name"], ".tollgate",
        "a policy change is flagged and needs the strictest rules"
    );
    assert_eq!(verdict["can_merge"], false);
    assert!(
        verdict["reasons"].to_string().contains("strictest"),
        "{verdict:#}"
    );
}

#[test]
fn a_bad_policy_at_the_base_blocks_with_its_line() {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            (
                ".tollgate/policy.yaml",
                "environments:\n  production:\n    approvers: [team:nobody]\n",
            ),
            ("envs/production/api.yaml", DEPLOY),
        ],
        "Alice",
        "start",
    );
    repo.branch(
        "promote/x",
        &[("envs/production/api.yaml", &DEPLOY.replace("2", "3"))],
        "Bob",
        "x",
    );
    let config = repo.write_config(home.path(), "");
    let verdict = as_who(
        home.path(),
        &config,
        "Carol",
        &["show", "test:promote/x", "--json"],
    )
    .ok()
    .json();
    assert_eq!(
        (verdict["can_approve"].clone(), verdict["can_merge"].clone()),
        (false.into(), false.into())
    );
    let reason = verdict["reasons"][0].as_str().expect("reason");
    assert!(
        reason.contains(".tollgate/policy.yaml:3") && reason.contains("unknown team"),
        "{reason}"
    );
}

#[test]
fn unapprove_withdraws_only_your_own_approval() {
    let (home, _repo, config) = repo();
    as_who(
        home.path(),
        &config,
        "Carol",
        &["approve", "test:promote/scale"],
    )
    .ok();
    as_who(
        home.path(),
        &config,
        "Dana",
        &["approve", "test:promote/scale"],
    )
    .ok();
    let out = as_who(
        home.path(),
        &config,
        "Dana",
        &["unapprove", "test:promote/scale", "--json"],
    )
    .ok()
    .json();
    assert_eq!(out["removed"], true);
    let after = verdict(home.path(), &config, "Carol");
    let by: Vec<&str> = after["approvals"]
        .as_array()
        .expect("approvals")
        .iter()
        .map(|a| a["by"].as_str().expect("by"))
        .collect();
    assert_eq!(by, ["Carol <carol@example.com>"]);
}

#[test]
fn concurrent_approvals_are_all_kept() {
    let (home, _repo, config) = repo();
    let approvers = ["Carol", "Dana", "Alice"];
    let children: Vec<_> = (0..3)
        .flat_map(|_| approvers)
        .map(|who| {
            tollgate(home.path())
                .env(
                    "TOLLGATE_IDENTITY",
                    format!("{who} <{}@example.com>", who.to_lowercase()),
                )
                .arg("--config")
                .arg(&config)
                .args(["approve", "test:promote/scale"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("wait");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let after = verdict(home.path(), &config, "Carol");
    assert_eq!(
        after["approvals"].as_array().expect("approvals").len(),
        3,
        "{after:#}"
    );
}
