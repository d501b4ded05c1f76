//! Approvals on local repositories, through the binary: the policy comes from the base,
//! approvals go stale when the head moves, authors and outsiders are refused, and
//! concurrent approvals are all kept.

use std::path::Path;

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, all_refs, approve_by, as_who, main_tip, tollgate};

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
    assert_eq!(refused.code, 3);
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
    assert_eq!(outsider.code, 3);
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
    approve_by(
        home.path(),
        &config,
        "test:promote/scale",
        &["Carol", "Dana"],
    );
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

#[test]
fn a_merge_carries_the_trailers_and_deletes_the_branch() {
    let (home, repo, config) = repo();
    let base = main_tip(&repo);
    let head = repo.repo.branch_head("promote/scale").expect("head");
    approve_by(
        home.path(),
        &config,
        "test:promote/scale",
        &["Carol", "Alice"],
    );
    let merged = as_who(
        home.path(),
        &config,
        "Dana",
        &["merge", "test:promote/scale", "--json"],
    )
    .ok()
    .json();
    let tip = main_tip(&repo);
    assert_eq!(merged["commit"], tip.to_string());
    let commit = repo.repo.commit_info(tip).expect("merge commit");
    assert_eq!(
        commit.parents[0], base,
        "the first parent is the base that was checked"
    );
    let trailers: Vec<String> = commit
        .trailers
        .iter()
        .map(|t| format!("{}: {}", t.key, t.value))
        .collect();
    assert_eq!(
        trailers,
        [
            "Promotion: test:promote/scale",
            "Approved-by: Carol <carol@example.com>",
            "Approved-by: Alice <alice@example.com>",
            &format!("Promotion-head: {head}"),
            "Merged-by: Dana <dana@example.com>",
        ]
    );
    assert!(
        repo.repo.branch_head("promote/scale").is_err(),
        "the promotion branch is deleted"
    );
    let list = as_who(home.path(), &config, "Dana", &["list", "--json"])
        .ok()
        .json();
    assert_eq!(list, serde_json::json!([]));
}

#[test]
fn a_merge_without_enough_approvals_writes_nothing() {
    let (home, repo, config) = repo();
    let before = main_tip(&repo);
    as_who(
        home.path(),
        &config,
        "Carol",
        &["approve", "test:promote/scale"],
    )
    .ok();
    let refused = as_who(
        home.path(),
        &config,
        "Carol",
        &["merge", "test:promote/scale"],
    );
    assert_eq!(refused.code, 3);
    assert!(
        refused.stderr.contains("production needs 2 approval(s)"),
        "{}",
        refused.stderr
    );
    assert_eq!(main_tip(&repo), before);
    assert!(repo.repo.branch_head("promote/scale").is_ok());
}

#[test]
fn a_lock_left_by_a_killed_writer_is_named_with_the_command_to_remove_it() {
    let (home, repo, config) = repo();
    let before = main_tip(&repo);
    approve_by(
        home.path(),
        &config,
        "test:promote/scale",
        &["Carol", "Alice"],
    );
    // What `kill -9` in the middle of a merge leaves.
    let lock = repo.path.join("refs/heads/main.lock");
    std::fs::write(&lock, format!("{before}\n")).expect("lock");
    let refused = as_who(
        home.path(),
        &config,
        "Dana",
        &["merge", "test:promote/scale"],
    );
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    let expected = format!("remove the lock with `rm {}`", lock.display());
    assert!(refused.stderr.contains(&expected), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("nothing was written"),
        "{}",
        refused.stderr
    );
    assert_eq!(main_tip(&repo), before);
    assert!(repo.repo.branch_head("promote/scale").is_ok());

    // Removed as told, the same merge goes through.
    let head = repo.repo.branch_head("promote/scale").expect("head");
    std::fs::remove_file(&lock).expect("rm");
    as_who(
        home.path(),
        &config,
        "Dana",
        &["merge", "test:promote/scale"],
    )
    .ok();
    assert_ne!(main_tip(&repo), before);

    // Killed after moving main but before deleting the branch: the branch is back, and
    // its head is on main, so nothing is pending.
    let sig = tollgate::git::write::Signature {
        name: "Dana".into(),
        email: "dana@example.com".into(),
        time: 1_795_000_000,
    };
    repo.repo
        .update_ref("refs/heads/promote/scale", None, head, "left behind", &sig)
        .expect("branch");
    let list = as_who(home.path(), &config, "Dana", &["list", "--json"])
        .ok()
        .json();
    assert_eq!(
        list,
        serde_json::json!([]),
        "a merged promotion is not pending"
    );
}

#[test]
fn a_promotion_behind_the_branch_merges_three_ways() {
    let (home, mut repo, config) = repo();
    repo.branch(
        "promote/other",
        &[(
            "envs/production/other.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: o, namespace: shop}\n",
        )],
        "Bob",
        "Other",
    );
    for id in ["test:promote/scale", "test:promote/other"] {
        approve_by(home.path(), &config, id, &["Carol", "Dana"]);
    }
    as_who(
        home.path(),
        &config,
        "Carol",
        &["merge", "test:promote/scale"],
    )
    .ok();
    let first = main_tip(&repo);
    as_who(
        home.path(),
        &config,
        "Carol",
        &["merge", "test:promote/other"],
    )
    .ok();
    let tip = main_tip(&repo);
    let commit = repo.repo.commit_info(tip).expect("merge");
    assert_eq!(commit.parents[0], first);
    let tree = repo.repo.tree_of(tip).expect("tree");
    let api = repo
        .repo
        .file_at(tree, "envs/production/api.yaml")
        .expect("read")
        .expect("present");
    assert!(
        String::from_utf8_lossy(&api).contains("replicas: 4"),
        "the first merge's change is kept"
    );
    assert!(
        repo.repo
            .file_at(tree, "envs/production/other.yaml")
            .expect("read")
            .is_some(),
        "the second one's is added"
    );
}

#[test]
fn a_conflicting_merge_names_the_paths_and_writes_nothing() {
    let (home, mut repo, config) = repo();
    repo.branch(
        "promote/clash",
        &[(
            "envs/production/api.yaml",
            &DEPLOY.replace("replicas: 2", "replicas: 7"),
        )],
        "Bob",
        "Clash",
    );
    for id in ["test:promote/scale", "test:promote/clash"] {
        approve_by(home.path(), &config, id, &["Carol", "Dana"]);
    }
    as_who(
        home.path(),
        &config,
        "Carol",
        &["merge", "test:promote/scale"],
    )
    .ok();
    let tip = main_tip(&repo);
    let refused = as_who(
        home.path(),
        &config,
        "Carol",
        &["merge", "test:promote/clash"],
    );
    assert_eq!(refused.code, 3);
    assert!(
        refused.stderr.contains("changed the same lines")
            && refused.stderr.contains("envs/production/api.yaml"),
        "{}",
        refused.stderr
    );
    assert_eq!(main_tip(&repo), tip, "nothing was written");
    assert!(repo.repo.branch_head("promote/clash").is_ok());
}

#[test]
fn a_freeze_refuses_merges_unless_break_glass_by_a_listed_identity() {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    let policy = "environments:\n  production:\n    approvals: 1\n    freeze:\n      - {from: '2020-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z', reason: 'the long freeze'}\nbreak_glass: [carol@example.com]\n";
    repo.commit_files(
        &[
            (".tollgate/policy.yaml", policy),
            ("envs/production/api.yaml", DEPLOY),
        ],
        "Alice",
        "start",
    );
    repo.branch(
        "promote/fix",
        &[(
            "envs/production/api.yaml",
            &DEPLOY.replace("replicas: 2", "replicas: 3"),
        )],
        "Bob",
        "Hotfix",
    );
    let config = repo.write_config(home.path(), "");
    as_who(
        home.path(),
        &config,
        "Alice",
        &["approve", "test:promote/fix"],
    )
    .ok();
    let frozen = as_who(home.path(), &config, "Dana", &["merge", "test:promote/fix"]);
    assert!(
        frozen.code == 3 && frozen.stderr.contains("frozen until"),
        "{}",
        frozen.stderr
    );
    let unlisted = as_who(
        home.path(),
        &config,
        "Dana",
        &[
            "merge",
            "test:promote/fix",
            "--break-glass",
            "--reason",
            "outage",
        ],
    );
    assert!(
        unlisted.code == 3 && unlisted.stderr.contains("not listed under break_glass"),
        "{}",
        unlisted.stderr
    );
    let usage = as_who(
        home.path(),
        &config,
        "Carol",
        &["merge", "test:promote/fix", "--break-glass"],
    );
    assert_eq!(usage.code, 2, "--break-glass needs --reason");
    as_who(
        home.path(),
        &config,
        "Carol",
        &[
            "merge",
            "test:promote/fix",
            "--break-glass",
            "--reason",
            "INC-7: outage",
        ],
    )
    .ok();
    let commit = repo.repo.commit_info(main_tip(&repo)).expect("merge");
    assert_eq!(
        commit.trailer_values("Break-glass").collect::<Vec<_>>(),
        ["Carol <carol@example.com>"]
    );
    assert_eq!(
        commit.trailer_values("Reason").collect::<Vec<_>>(),
        ["INC-7: outage"]
    );
}

#[test]
fn twenty_concurrent_merges_keep_a_linear_history_and_lose_nothing() {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    let policy = "environments:\n  production:\n    approvals: 1\n";
    repo.commit_files(
        &[
            (".tollgate/policy.yaml", policy),
            ("envs/production/api.yaml", DEPLOY),
        ],
        "Alice",
        "start",
    );
    let base = main_tip(&repo);
    for i in 0..20 {
        let path = format!("envs/production/cm-{i}.yaml");
        let content = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}, namespace: shop}}\n"
        );
        repo.branch(
            &format!("promote/p{i}"),
            &[(&path, &content)],
            "Bob",
            &format!("Add cm-{i}"),
        );
    }
    let config = repo.write_config(home.path(), "");
    for i in 0..20 {
        as_who(
            home.path(),
            &config,
            "Carol",
            &["approve", &format!("test:promote/p{i}")],
        )
        .ok();
    }
    let children: Vec<_> = (0..20)
        .map(|i| {
            tollgate(home.path())
                .env("TOLLGATE_IDENTITY", "Carol <carol@example.com>")
                .arg("--config")
                .arg(&config)
                .args(["merge", &format!("test:promote/p{i}")])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut merged = Vec::new();
    for (i, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.success() {
            merged.push(i);
        } else {
            assert!(
                stderr.contains("moved from")
                    || stderr.contains("changed the same lines")
                    || stderr.contains("may be writing it: let it finish and retry"),
                "a failure is a clear conflict: {stderr}"
            );
            assert!(
                repo.repo.branch_head(&format!("promote/p{i}")).is_ok(),
                "a refused promotion keeps its branch"
            );
        }
    }
    assert!(!merged.is_empty(), "at least one merge lands");
    // Every success is on main's first-parent line, which is linear back to the base.
    let mut first_parents = Vec::new();
    let mut at = main_tip(&repo);
    while at != base {
        let commit = repo.repo.commit_info(at).expect("commit");
        first_parents.push(commit.subject.clone());
        at = commit.parents[0];
    }
    assert_eq!(first_parents.len(), merged.len(), "{first_parents:?}");
    for i in merged {
        assert!(
            first_parents.contains(&format!("Merge promotion test:promote/p{i}")),
            "{first_parents:?}"
        );
    }
}

#[test]
fn audit_finds_the_demo_direct_push() {
    let (home, config) = crate::demo::demo();
    let result = as_who(
        home.path(),
        &config,
        "Dana",
        &["audit", "verify", "--repo", "shop", "--format", "json"],
    );
    assert_eq!(result.code, 3, "a violation fails the audit");
    assert!(
        result.stderr.contains("1 change(s) violate the policy"),
        "{}",
        result.stderr
    );
    let audits = result.json();
    let rows = audits[0]["rows"].as_array().expect("rows");
    let violations: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|r| r["finding"] == "violation")
        .collect();
    assert_eq!(violations.len(), 1, "{violations:#?}");
    let direct = violations[0]["commit"].as_str().expect("sha");
    let repo = tollgate::git::Repo::open(
        "shop",
        &config.parent().expect("dir").join("repos/shop-env.git"),
    )
    .expect("open");
    let commit = repo
        .commit_info(repo.resolve(direct).expect("sha"))
        .expect("commit");
    assert_eq!(commit.subject, "Raise api memory limit in production");
    assert!(
        rows.iter().any(|r| r["finding"] == "compliant"
            && r["approvers"].as_array().is_some_and(|a| a.len() == 2))
    );
    for format in ["table", "csv", "md"] {
        let out = as_who(
            home.path(),
            &config,
            "Dana",
            &["audit", "verify", "--repo", "shop", "--format", format],
        );
        assert_eq!(out.code, 3);
        assert!(
            out.stdout.contains(&direct[..10]),
            "{format}:\n{}",
            out.stdout
        );
    }
}

#[test]
fn audit_passes_a_clean_history_and_lists_break_glass_as_an_exception() {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    let policy =
        "environments:\n  production:\n    approvals: 1\nbreak_glass: [carol@example.com]\n";
    repo.commit_files(
        &[
            (".tollgate/policy.yaml", policy),
            ("envs/production/api.yaml", DEPLOY),
        ],
        "Alice",
        "start",
    );
    repo.branch(
        "promote/a",
        &[(
            "envs/production/api.yaml",
            &DEPLOY.replace("replicas: 2", "replicas: 3"),
        )],
        "Bob",
        "a",
    );
    let config = repo.write_config(home.path(), "");
    as_who(
        home.path(),
        &config,
        "Carol",
        &["approve", "test:promote/a"],
    )
    .ok();
    as_who(home.path(), &config, "Carol", &["merge", "test:promote/a"]).ok();
    repo.head = Some(main_tip(&repo));
    repo.branch(
        "promote/b",
        &[(
            "envs/production/api.yaml",
            &DEPLOY.replace("replicas: 2", "replicas: 4"),
        )],
        "Bob",
        "b",
    );
    as_who(home.path(), &config, "Dana", &["approve", "test:promote/b"]).ok();
    as_who(
        home.path(),
        &config,
        "Carol",
        &[
            "merge",
            "test:promote/b",
            "--break-glass",
            "--reason",
            "INC-9",
        ],
    )
    .ok();
    let clean = as_who(
        home.path(),
        &config,
        "Carol",
        &["audit", "verify", "--json"],
    )
    .ok()
    .json();
    let findings: Vec<&str> = clean[0]["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["finding"].as_str().expect("f"))
        .collect();
    // The first commit changed production and, with the policy it added, `.tollgate/`.
    assert_eq!(findings, ["exception", "compliant", "initial", "initial"]);
    let table = as_who(home.path(), &config, "Carol", &["audit", "verify"])
        .ok()
        .stdout;
    assert!(
        table.contains("exceptions (break-glass; each needs a review after the fact")
            && table.contains("INC-9"),
        "{table}"
    );
    let since = as_who(
        home.path(),
        &config,
        "Carol",
        &["audit", "verify", "--since", "2100-01-01", "--json"],
    )
    .ok()
    .json();
    assert_eq!(since[0]["rows"], serde_json::json!([]));
}

/// The library's merge with a promotion read before something moved, as a TUI that
/// showed a verdict a while ago would hold it.
fn stale_merge(
    move_what: &str,
) -> (
    tollgate::review::ReviewError,
    gix::ObjectId,
    EnvRepoBuilder,
    TempDir,
) {
    let (home, mut repo, config) = repo();
    approve_by(
        home.path(),
        &config,
        "test:promote/scale",
        &["Carol", "Dana"],
    );
    let config = tollgate::config::Config::load(&config).expect("config");
    let open = tollgate::workspace::OpenRepo::open(&config.repos[0]).expect("open");
    let promotion = open.promotion("promote/scale").expect("pending");
    let sig = tollgate::git::write::Signature {
        name: "Eve".into(),
        email: "eve@example.com".into(),
        time: 0,
    };
    match move_what {
        "base" => {
            repo.commit_files(&[("README.md", "moved\n")], "Eve", "Someone pushed");
        }
        _ => {
            let head = promotion.branch.head;
            let moved = repo.commit_on(
                Some(head),
                &[(
                    "envs/production/api.yaml",
                    Some(b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"),
                )],
                "Eve",
                "Sneak in",
            );
            repo.repo
                .update_ref("refs/heads/promote/scale", Some(head), moved, "push", &sig)
                .expect("move head");
        }
    }
    let tip = main_tip(&repo);
    let me = tollgate::identity::Identity {
        name: "Carol".into(),
        email: "carol@example.com".into(),
    };
    let error = open
        .merge(&promotion, None, &me, None, jiff::Timestamp::now())
        .expect_err("a merge pinned to what moved is refused");
    (error, tip, repo, home)
}

#[test]
fn a_merge_is_refused_when_the_base_moved_after_it_was_checked() {
    let (error, tip, repo, _home) = stale_merge("base");
    assert!(
        error.to_string().contains("refs/heads/main moved from"),
        "{error}"
    );
    assert_eq!(main_tip(&repo), tip, "nothing was written");
}

#[test]
fn a_merge_is_refused_when_the_head_moved_after_it_was_judged() {
    let (error, tip, repo, _home) = stale_merge("head");
    assert!(
        error
            .to_string()
            .contains("refs/heads/promote/scale moved from"),
        "{error}"
    );
    assert_eq!(main_tip(&repo), tip, "nothing was written");
}

#[test]
fn squash_and_fast_forward_follow_the_policy() {
    for method in ["squash", "fast-forward"] {
        let home = TempDir::new().expect("temp dir");
        let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
        let policy =
            format!("environments:\n  production:\n    approvals: 1\n    merge_method: {method}\n");
        repo.commit_files(
            &[
                (".tollgate/policy.yaml", &policy),
                ("envs/production/api.yaml", DEPLOY),
            ],
            "Alice",
            "start",
        );
        let base = main_tip(&repo);
        let head = repo.branch(
            "promote/s",
            &[(
                "envs/production/api.yaml",
                &DEPLOY.replace("replicas: 2", "replicas: 3"),
            )],
            "Bob",
            "Scale",
        );
        let config = repo.write_config(home.path(), "");
        as_who(
            home.path(),
            &config,
            "Carol",
            &["approve", "test:promote/s"],
        )
        .ok();
        let merged = as_who(
            home.path(),
            &config,
            "Carol",
            &["merge", "test:promote/s", "--json"],
        )
        .ok()
        .json();
        assert_eq!(merged["method"], method);
        let tip = main_tip(&repo);
        let commit = repo.repo.commit_info(tip).expect("tip");
        match method {
            "squash" => {
                assert_eq!(commit.parents, [base], "one parent: the base");
                assert_eq!(commit.subject, "Scale");
                assert_eq!(
                    commit.author.email, "bob@example.com",
                    "the change keeps its author"
                );
                assert_eq!(
                    commit.trailer_values("Merged-by").collect::<Vec<_>>(),
                    ["Carol <carol@example.com>"]
                );
            }
            _ => assert_eq!(
                tip, head,
                "fast-forward moves the branch to the approved head"
            ),
        }
        // Either way, audit finds the approvals and the merger: in the squash commit's
        // trailers, or in the record a fast-forward leaves beside the commit.
        let audit = as_who(
            home.path(),
            &config,
            "Carol",
            &["audit", "verify", "--json"],
        );
        let rows = audit.json();
        let row = &rows[0]["rows"][0];
        assert_eq!(row["commit"], tip.to_string().as_str());
        assert_eq!(row["finding"], "compliant", "{method}: {row:#}");
        assert_eq!(row["merged_by"], "Carol <carol@example.com>");
        assert_eq!(audit.code, 0, "{method}");
    }
}

#[test]
fn every_commit_a_fast_forward_brings_in_is_on_record() {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            (
                ".tollgate/policy.yaml",
                "environments:\n  production:\n    merge_method: fast-forward\n",
            ),
            ("envs/production/api.yaml", DEPLOY),
        ],
        "Alice",
        "start",
    );
    let first = repo.branch(
        "promote/two",
        &[(
            "envs/production/api.yaml",
            &DEPLOY.replace("replicas: 2", "replicas: 3"),
        )],
        "Bob",
        "Scale to 3",
    );
    let second = repo.commit_on(
        Some(first),
        &[(
            "envs/production/api.yaml",
            Some(DEPLOY.replace("replicas: 2", "replicas: 4").as_bytes()),
        )],
        "Bob",
        "Scale to 4",
    );
    let sig = tollgate::git::write::Signature {
        name: "Bob".into(),
        email: "bob@example.com".into(),
        time: 0,
    };
    repo.repo
        .update_ref("refs/heads/promote/two", Some(first), second, "push", &sig)
        .expect("second commit");
    let config = repo.write_config(home.path(), "");
    approve_by(home.path(), &config, "test:promote/two", &["Carol"]);
    as_who(
        home.path(),
        &config,
        "Carol",
        &["merge", "test:promote/two"],
    )
    .ok();
    assert_eq!(main_tip(&repo), second);
    let rows = as_who(
        home.path(),
        &config,
        "Carol",
        &["audit", "verify", "--json"],
    )
    .ok()
    .json();
    let findings: Vec<(String, String)> = rows[0]["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["commit"].as_str().expect("sha").to_string(),
                r["finding"].as_str().expect("finding").to_string(),
            )
        })
        .collect();
    assert_eq!(
        findings[..2],
        [
            (second.to_string(), "compliant".to_string()),
            (first.to_string(), "compliant".to_string())
        ]
    );
}

/// Push onto the promotion, as someone would between a review and its approval.
fn push_onto_promotion(repo: &mut EnvRepoBuilder) -> (gix::ObjectId, gix::ObjectId) {
    let scaled = DEPLOY.replace("replicas: 2", "replicas: 50");
    repo.push_onto(
        "promote/scale",
        &[("envs/production/api.yaml", &scaled)],
        "Eve",
    )
}

#[test]
fn approve_and_merge_pinned_to_a_head_that_moved_write_nothing() {
    let (home, mut repo, config_path) = repo();
    approve_by(
        home.path(),
        &config_path,
        "test:promote/scale",
        &["Carol", "Dana"],
    );
    let (reviewed, _) = push_onto_promotion(&mut repo);
    let refs = all_refs(&repo);
    let config = tollgate::config::Config::load(&config_path).expect("config");
    let open = tollgate::workspace::OpenRepo::open(&config.repos[0]).expect("open");
    // The promotion as it is now; the head the reviewer saw is the one before the push.
    let promotion = open.promotion("promote/scale").expect("pending");
    let me = tollgate::identity::Identity {
        name: "Carol".into(),
        email: "carol@example.com".into(),
    };
    let now = jiff::Timestamp::now();
    let approve = open.approve(&promotion, Some(reviewed), &me, None, false, now);
    let merge = open.merge(&promotion, Some(reviewed), &me, None, now);
    for error in [
        approve.map(|_| ()).expect_err("approve is refused"),
        merge.map(|_| ()).expect_err("merge is refused"),
    ] {
        assert!(
            matches!(error, tollgate::review::ReviewError::Moved { .. }),
            "{error}"
        );
    }
    assert_eq!(all_refs(&repo), refs, "nothing was written");
}

#[test]
fn the_cli_acts_only_on_the_head_it_is_given() {
    let (home, mut repo, config) = repo();
    let (reviewed, pushed) = push_onto_promotion(&mut repo);
    let refs = all_refs(&repo);
    let short = &reviewed.to_string()[..10];
    for args in [
        vec!["approve", "test:promote/scale", "--head", short],
        vec!["merge", "test:promote/scale", "--head", short],
    ] {
        let run = as_who(home.path(), &config, "Carol", &args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("moved since it was reviewed")
                && run.stderr.contains(&pushed.to_string()[..10]),
            "{}",
            run.stderr
        );
    }
    assert_eq!(all_refs(&repo), refs, "nothing was written");
    // A branch name would follow the push: only a commit id is taken.
    let named = as_who(
        home.path(),
        &config,
        "Carol",
        &["approve", "test:promote/scale", "--head", "promote/scale"],
    );
    assert_eq!(named.code, 1);
    assert!(
        named.stderr.contains("is not a commit id"),
        "{}",
        named.stderr
    );
    // The head as it is now is approved, and the output names it.
    let approved = as_who(
        home.path(),
        &config,
        "Carol",
        &[
            "approve",
            "test:promote/scale",
            "--head",
            &pushed.to_string(),
        ],
    )
    .ok();
    assert!(
        approved
            .stdout
            .contains(&format!("at {}", &pushed.to_string()[..10])),
        "{}",
        approved.stdout
    );
}

#[test]
fn a_branch_named_after_the_reviewed_sha_does_not_pass_for_it() {
    let (home, mut repo, config) = repo();
    let (reviewed, pushed) = push_onto_promotion(&mut repo);
    let short = &reviewed.to_string()[..10];
    // A pusher names a branch after the reviewed sha and points it at the new head.
    let sig = tollgate::git::write::Signature {
        name: "Eve".into(),
        email: "eve@example.com".into(),
        time: 0,
    };
    repo.repo
        .update_ref(&format!("refs/heads/{short}"), None, pushed, "trap", &sig)
        .expect("create the look-alike branch");
    let refs = all_refs(&repo);
    let run = as_who(
        home.path(),
        &config,
        "Carol",
        &["approve", "test:promote/scale", "--head", short],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("moved since it was reviewed"),
        "{}",
        run.stderr
    );
    assert_eq!(all_refs(&repo), refs, "nothing was written");
}

#[test]
fn after_a_push_the_title_stays_and_diff_since_shows_only_the_new_change() {
    let (home, mut repo, config) = repo();
    as_who(
        home.path(),
        &config,
        "Carol",
        &[
            "approve",
            "test:promote/scale",
            "--comment",
            "Capacity checked.",
        ],
    )
    .ok();
    let (approved, _) = push_onto_promotion(&mut repo);
    let listed = as_who(home.path(), &config, "Dana", &["list", "--json"])
        .ok()
        .json();
    assert_eq!(listed[0]["title"], "Scale api", "the first commit's title");
    assert_eq!(listed[0]["author"]["name"], "Bob", "and its author");
    let verdict = verdict(home.path(), &config, "Dana");
    assert_eq!(verdict["approvals"][0]["comment"], "Capacity checked.");
    assert_eq!(verdict["approvals"][0]["status"], "stale");
    let since = as_who(
        home.path(),
        &config,
        "Dana",
        &[
            "diff",
            "test:promote/scale",
            "--since",
            &approved.to_string(),
            "--json",
        ],
    )
    .ok()
    .json();
    let fields = &since["environments"][0]["objects"][0]["fields"];
    assert_eq!(fields[0]["path"], "spec.replicas");
    assert_eq!(fields[0]["old"], 4, "from the approved head: {since}");
    assert_eq!(fields[0]["new"], 50);
    let text = as_who(
        home.path(),
        &config,
        "Dana",
        &["show", "test:promote/scale"],
    )
    .ok()
    .stdout;
    assert!(text.contains("│ Capacity checked."), "{text}");
}
