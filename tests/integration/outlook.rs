//! What merging a promotion now would do, flagged before any merge is attempted: already
//! merged, conflicting, behind the tip in its own environments.

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, as_who, deployment};

#[test]
fn already_merged_conflicting_and_behind_promotions_are_flagged_before_merging() {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            ("envs/production/api.yaml", &deployment("1.0", 2)),
            ("envs/staging/api.yaml", &deployment("1.0", 1)),
        ],
        "Alice",
        "start",
    );
    // Three promotions from the same start.
    repo.branch(
        "promote/done",
        &[("envs/staging/api.yaml", &deployment("1.1", 1))],
        "Bob",
        "Staging 1.1",
    );
    repo.branch(
        "promote/clash",
        &[("envs/production/api.yaml", &deployment("1.2", 2))],
        "Bob",
        "Production 1.2",
    );
    repo.branch(
        "promote/scale",
        &[(
            "envs/production/api.yaml",
            &deployment("1.0", 2).replace("replicas: 2", "replicas: 2\n  minReadySeconds: 5"),
        )],
        "Bob",
        "Production ready seconds",
    );
    // main then gets staging 1.1 by another way, and production moves on.
    repo.commit_files(
        &[
            ("envs/staging/api.yaml", &deployment("1.1", 1)),
            ("envs/production/api.yaml", &deployment("1.3", 2)),
        ],
        "Carol",
        "Hotfix both",
    );
    let config = repo.write_config(home.path(), "");
    let list = as_who(home.path(), &config, "Dana", &["list", "--json"])
        .ok()
        .json();
    let state = |branch: &str| {
        list.as_array()
            .expect("rows")
            .iter()
            .find(|r| r["branch"] == branch)
            .unwrap_or_else(|| panic!("{branch} listed: {list:#}"))["merge"]
            .clone()
    };
    assert_eq!(state("promote/done")["state"], "already-merged", "{list:#}");
    assert_eq!(state("promote/clash")["state"], "conflicts", "{list:#}");
    assert_eq!(
        state("promote/clash")["conflicts"],
        serde_json::json!(["envs/production/api.yaml"])
    );
    // Production moved under it, in other lines: it merges, but not onto what it was
    // branched from.
    assert_eq!(state("promote/scale")["state"], "behind", "{list:#}");
    assert_eq!(
        state("promote/scale")["behind"],
        serde_json::json!(["production"])
    );
    let text = as_who(home.path(), &config, "Dana", &["list"]).ok().stdout;
    for flag in ["[already merged]", "[conflicts]", "[behind]"] {
        assert!(text.contains(flag), "{flag}: {text}");
    }

    // The diff of the promotion that is behind says so, and shows what merging it now
    // does to the tip beside its own change.
    let diff = as_who(
        home.path(),
        &config,
        "Dana",
        &["diff", "test:promote/scale", "--json"],
    )
    .ok()
    .json();
    assert_eq!(diff["merge"]["state"], "behind");
    let onto_tip = diff["merge"]["onto_tip"].to_string();
    assert!(onto_tip.contains("spec.minReadySeconds"), "{diff:#}");
    assert!(
        !onto_tip.contains("].image"),
        "the tip's own image is not a change: {diff:#}"
    );
    let text = as_who(
        home.path(),
        &config,
        "Dana",
        &["diff", "test:promote/scale"],
    )
    .ok()
    .stdout;
    assert!(text.contains("behind: main changed production"), "{text}");
    assert!(text.contains("what merging it now does to main:"), "{text}");

    for (branch, expected) in [
        ("promote/done", "already merged"),
        (
            "promote/clash",
            "both changed the same lines in envs/production/api.yaml",
        ),
    ] {
        let verdict = as_who(
            home.path(),
            &config,
            "Dana",
            &["show", &format!("test:{branch}"), "--json"],
        )
        .ok()
        .json();
        assert_eq!(verdict["can_merge"], false, "{verdict:#}");
        assert!(
            verdict["reasons"]
                .as_array()
                .expect("reasons")
                .iter()
                .any(|r| r.as_str().is_some_and(|r| r.contains(expected))),
            "{branch}: {verdict:#}"
        );
    }

    // The merged one is closed (its branch deleted); anything else is refused.
    as_who(
        home.path(),
        &config,
        "Dana",
        &["close", "test:promote/done"],
    )
    .ok();
    assert!(repo.repo.branch_head("promote/done").is_err());
    let refused = as_who(
        home.path(),
        &config,
        "Dana",
        &["close", "test:promote/clash"],
    );
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("is not merged"),
        "{}",
        refused.stderr
    );
    assert!(repo.repo.branch_head("promote/clash").is_ok());
}
