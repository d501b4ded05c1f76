//! The audit of a GitHub repository, decided from what GitHub recorded for the accounts
//! it authenticated (the pull request merged as the commit, who merged it, the reviews of
//! the merged head, GitHub's check of the commit's signature) and from the recomputed
//! merge; never from the trailers a person with push access can type.

use serde_json::Value;

use crate::common::{Run, deployment};
use crate::github::{Fixture, POLICY, SLUG, fixture};

/// The trailers tollgate writes on a merge, naming dana-ops as approver and merger.
const FORGED_TRAILERS: &str = "Promotion: shop-gh#1\nApproved-by: dana-ops <dana-ops@users.noreply.github.com>\nMerged-by: dana-ops <dana-ops@users.noreply.github.com>\n";

/// `audit verify` of the repository as JSON, whatever its exit code.
fn audit(f: &Fixture) -> (Run, Vec<Value>) {
    let out = f.run(&["audit", "verify", "--repo", "shop-gh", "--format", "json"]);
    let rows = out.json()[0]["rows"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    (out, rows)
}

#[track_caller]
fn row_of(rows: &[Value], commit: &str) -> Value {
    rows.iter()
        .find(|r| r["commit"] == commit)
        .cloned()
        .unwrap_or_else(|| panic!("{commit} is audited: {rows:?}"))
}

/// A merge of #1's head onto main written outside GitHub's merge button, with `extra`
/// files beyond the head's tree; main moves to it, as a push would.
fn push_merge(f: &mut Fixture, extra: &[(&str, &str)]) -> gix::ObjectId {
    let head = f.bump;
    let repo = &f.origin.repo;
    let main = repo.resolve("refs/heads/main").expect("main");
    let changes: Vec<tollgate::git::write::FileChange> = extra
        .iter()
        .map(|(path, text)| tollgate::git::write::FileChange {
            path: path.to_string(),
            content: Some(text.as_bytes().to_vec()),
        })
        .collect();
    let tree = repo
        .write_tree(repo.tree_of(head).expect("head tree"), &changes)
        .expect("tree");
    let who = tollgate::git::write::Signature {
        name: "dana-ops".into(),
        email: "dana-ops@users.noreply.github.com".into(),
        time: 1_795_100_000,
    };
    let message = format!("Merge promotion shop-gh#1\n\n{FORGED_TRAILERS}");
    let merge = repo
        .write_commit(tree, &[main, head], &who, &who, &message)
        .expect("merge commit");
    repo.update_ref("refs/heads/main", Some(main), merge, "push", &who)
        .expect("push");
    f.origin.head = Some(merge);
    merge
}

#[test]
fn a_merge_on_github_is_compliant_from_its_review_and_who_merged_it() {
    let f = fixture();
    f.run(&["approve", "shop-gh#1"]).ok();
    let merged = f.run(&["merge", "shop-gh#1", "--json"]).ok().json();
    let commit = merged["commit"].as_str().expect("commit");

    let (out, rows) = audit(&f);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let row = row_of(&rows, commit);
    assert_eq!(row["finding"], "compliant", "{row}");
    assert_eq!(row["signature"]["state"], "forge", "{row}");
    assert_eq!(row["signature"]["signer"], "web-flow", "{row}");
    assert!(
        row["why"]
            .as_str()
            .expect("why")
            .contains("#1 merged on GitHub by dana-ops"),
        "{row}"
    );
    assert_eq!(
        row["approvers"][0],
        "dana-ops <dana-ops@users.noreply.github.com>"
    );
    // What GitHub was asked: the commit, its pull requests, the pull request, its reviews.
    for path in [
        format!("/commits/{commit}"),
        format!("/commits/{commit}/pulls"),
        "/pulls/1".to_string(),
        "/pulls/1/reviews".to_string(),
    ] {
        assert!(
            f.requests("GET", &path)
                .iter()
                .any(|r| r.path.ends_with(&path)),
            "GET {path} was sent"
        );
    }

    // `show` judges the commit the same way.
    let shown = f
        .run(&["show", commit, "--repo", "shop-gh", "--json"])
        .ok()
        .json();
    assert_eq!(shown["audit"][0]["finding"], "compliant", "{shown}");
}

#[test]
fn trailers_pushed_straight_to_main_prove_nothing() {
    let mut f = fixture();
    let forged = f.origin.commit_files(
        &[("envs/production/api.yaml", &deployment("6.6.6", 2))],
        "dana-ops",
        &format!("Merge promotion shop-gh#1\n\n{FORGED_TRAILERS}"),
    );
    // Even a push GitHub verifies for an approver is not a merge of a reviewed head.
    f.server.verifies(SLUG, &forged.to_string(), "dana-ops");

    let (out, rows) = audit(&f);
    assert_ne!(out.code, 0, "a violation fails the audit");
    let row = row_of(&rows, &forged.to_string());
    assert_eq!(row["finding"], "violation", "{row}");
    assert!(
        row["why"]
            .as_str()
            .expect("why")
            .contains("GitHub records none merged as this commit"),
        "{row}"
    );
    assert_eq!(
        row["approvers"],
        Value::Array(vec![]),
        "trailers are not approvals"
    );
}

#[test]
fn break_glass_counts_for_the_account_github_verified_not_the_trailer() {
    let mut f = fixture();
    let by_bob = f.origin.commit_files(
        &[("envs/production/api.yaml", &deployment("1.0.1", 2))],
        "erin",
        "Hotfix\n\nBreak-glass: erin <erin@users.noreply.github.com>\nReason: outage\n",
    );
    // The trailer names erin, but GitHub verifies the signature for bob.
    f.server.verifies(SLUG, &by_bob.to_string(), "bob");
    let by_erin = f.origin.commit_files(
        &[("envs/production/api.yaml", &deployment("1.0.2", 2))],
        "erin",
        "Hotfix again\n\nBreak-glass: erin <erin@users.noreply.github.com>\nReason: outage\n",
    );
    f.server.verifies(SLUG, &by_erin.to_string(), "erin");
    let unsigned = f.origin.commit_files(
        &[("envs/production/api.yaml", &deployment("1.0.3", 2))],
        "erin",
        "Hotfix, unsigned\n\nBreak-glass: erin <erin@users.noreply.github.com>\n",
    );

    let (out, rows) = audit(&f);
    assert_ne!(out.code, 0);
    let row = row_of(&rows, &by_erin.to_string());
    assert_eq!(row["finding"], "exception", "{row}");
    assert!(
        row["why"]
            .as_str()
            .expect("why")
            .contains("needs a review after the fact"),
        "{row}"
    );
    for commit in [by_bob, unsigned] {
        let row = row_of(&rows, &commit.to_string());
        assert_eq!(row["finding"], "violation", "{row}");
    }
    assert_eq!(
        row_of(&rows, &unsigned.to_string())["signature"]["state"],
        "unsigned"
    );
}

#[test]
fn a_recorded_merge_whose_tree_carries_more_than_the_head_is_a_violation() {
    let mut f = fixture();
    let bump = f.bump.to_string();
    f.server.review(SLUG, 1, "dana-ops", "APPROVED", &bump);
    let merge = push_merge(
        &mut f,
        &[("envs/production/extra.yaml", &deployment("evil", 1))],
    );
    // GitHub noticed the push merged #1, and verifies the pusher's signature.
    f.server
        .record_merge(SLUG, 1, "dana-ops", &merge.to_string());
    f.server.verifies(SLUG, &merge.to_string(), "dana-ops");

    let (out, rows) = audit(&f);
    assert_ne!(out.code, 0);
    let row = row_of(&rows, &merge.to_string());
    assert_eq!(row["finding"], "violation", "{row}");
    assert!(
        row["why"]
            .as_str()
            .expect("why")
            .contains("carries changes no approval covers"),
        "{row}"
    );
}

#[test]
fn reviews_that_do_not_count_leave_a_merge_a_violation() {
    let mut f = fixture();
    let bump = f.bump.to_string();
    // mallory may not approve; bob wrote it; dana-ops approved another head.
    f.server.review(SLUG, 1, "mallory", "APPROVED", &bump);
    f.server.review(SLUG, 1, "bob", "APPROVED", &bump);
    f.server.review(
        SLUG,
        1,
        "dana-ops",
        "APPROVED",
        "0123456789012345678901234567890123456789",
    );
    let merge = push_merge(&mut f, &[]);
    f.server
        .record_merge(SLUG, 1, "dana-ops", &merge.to_string());
    f.server.verifies(SLUG, &merge.to_string(), "dana-ops");

    let (_, rows) = audit(&f);
    let row = row_of(&rows, &merge.to_string());
    assert_eq!(row["finding"], "violation", "{row}");
    let why = row["why"].as_str().expect("why");
    assert!(
        why.starts_with("0 of 1 required approving reviews"),
        "{why}"
    );
    assert!(why.contains("mallory was not an approver"), "{why}");

    // The same merge without GitHub's verification of its signature.
    let mut g = fixture();
    g.server
        .review(SLUG, 1, "dana-ops", "APPROVED", &g.bump.to_string());
    let merge = push_merge(&mut g, &[]);
    g.server
        .record_merge(SLUG, 1, "dana-ops", &merge.to_string());
    let (_, rows) = audit(&g);
    let row = row_of(&rows, &merge.to_string());
    assert_eq!(row["finding"], "violation", "{row}");
    assert!(
        row["why"]
            .as_str()
            .expect("why")
            .contains("does not verify its signature (unsigned)"),
        "{row}"
    );
}

#[test]
fn a_squash_is_checked_against_its_head_fetched_into_a_fresh_mirror() {
    let mut f = fixture();
    let policy = format!("{POLICY}    merge_method: squash\n");
    f.origin.commit_files(
        &[(".tollgate/policy.yaml", &policy)],
        "Alice",
        "Squash production merges",
    );
    let head = f.origin.commit_on(
        f.origin.head,
        &[(
            "envs/production/api.yaml",
            Some(deployment("1.1", 2).as_bytes()),
        )],
        "Bob",
        "Promote api 1.1 to production",
    );
    f.server.push_to_pull(SLUG, 1, head);
    f.server
        .review(SLUG, 1, "erin", "APPROVED", &head.to_string());
    let merged = f.run(&["merge", "shop-gh#1", "--json"]).ok().json();
    assert_eq!(merged["method"], "squash");
    let squash = merged["commit"].as_str().expect("commit").to_string();

    // A mirror that never saw #1's head while it was open: the audit fetches it.
    let text = std::fs::read_to_string(&f.config).expect("config");
    std::fs::write(&f.config, text.replace("mirror.git", "fresh-mirror.git")).expect("config");
    let (_, rows) = audit(&f);
    let row = row_of(&rows, &squash);
    assert_eq!(row["finding"], "compliant", "{row}");
}
