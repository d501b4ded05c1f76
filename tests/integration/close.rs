//! Abandoning a promotion (`tollgate close ID --reason`): refused without a reason or on
//! a head that moved, writing nothing; otherwise the branch is deleted and who, when and
//! why are noted on its head, in one ref transaction.

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, all_refs, as_who, deployment};

fn repo() -> (TempDir, EnvRepoBuilder, std::path::PathBuf) {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[("envs/prod/api.yaml", &deployment("1.0", 2))],
        "Alice",
        "start",
    );
    repo.branch(
        "promote/scale",
        &[("envs/prod/api.yaml", &deployment("1.0", 9))],
        "Bob",
        "Scale the api",
    );
    let config = repo.write_config(home.path(), "");
    (home, repo, config)
}

#[test]
fn abandoning_a_promotion_needs_a_reason_and_records_who_and_why() {
    let (home, repo, config) = repo();
    let head = repo.repo.branch_head("promote/scale").expect("branch");
    let before = all_refs(&repo);

    let refused = as_who(
        home.path(),
        &config,
        "Dana",
        &["close", "test:promote/scale"],
    );
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("--reason"), "{}", refused.stderr);
    let pinned = as_who(
        home.path(),
        &config,
        "Dana",
        &[
            "close",
            "test:promote/scale",
            "--reason",
            "x",
            "--head",
            "0123456789",
        ],
    );
    assert_eq!(pinned.code, 1);
    assert!(pinned.stderr.contains("moved"), "{}", pinned.stderr);
    assert_eq!(all_refs(&repo), before, "nothing was written");

    let closed = as_who(
        home.path(),
        &config,
        "Dana",
        &[
            "close",
            "test:promote/scale",
            "--reason",
            "Superseded by the autoscaler change",
            "--head",
            &head.to_string()[..10],
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(closed["merged"], false);
    assert!(
        repo.repo.branch_head("promote/scale").is_err(),
        "the branch is gone"
    );
    let records = tollgate::closing::closes_on(&repo.repo, head).expect("records");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].reason, "Superseded by the autoscaler change");
    assert_eq!(records[0].by, "Dana <dana@example.com>");
    assert_eq!(records[0].promotion, "test:promote/scale");
    let listed = as_who(home.path(), &config, "Dana", &["list", "--json"])
        .ok()
        .json();
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");
    // `list --closed` shows who closed it, when and why.
    let closed = as_who(
        home.path(),
        &config,
        "Carol",
        &["list", "--closed", "--json"],
    )
    .ok()
    .json();
    assert_eq!(closed[0]["promotion"], "test:promote/scale", "{closed}");
    assert_eq!(closed[0]["by"], "Dana <dana@example.com>");
    assert_eq!(closed[0]["reason"], "Superseded by the autoscaler change");
    let text = as_who(home.path(), &config, "Carol", &["list", "--closed"])
        .ok()
        .stdout;
    assert!(
        text.contains("test:promote/scale  Dana <dana@example.com>")
            && text.contains("    Superseded by the autoscaler change"),
        "{text}"
    );
}
