//! Rolling back through the binary and the library: a clean revert opened as a promotion
//! that needs only `rollback_approvals`, a conflicting revert that writes nothing, a
//! rollback across several commits including a shared kustomize base, `--direct` for
//! break-glass identities only with its review after the fact, the inverse-diff property on
//! demo and corpus data, and the branch moving between preview and write.

use std::path::Path;

use tempfile::TempDir;
use tollgate::config::Config;
use tollgate::identity::Identity;
use tollgate::manifest::ChangeKind;
use tollgate::workspace::{EnvironmentDiff, OpenRepo};

use crate::common::{
    EnvRepoBuilder, all_refs, approve_by, as_who, corpus, corpus_available, deployment, files_in,
    kustomize_available, main_tip,
};

const POLICY: &str = "teams:\n  sre: [carol@example.com, dana@example.com]\nenvironments:\n  production:\n    approvals: 2\n    rollback_approvals: 1\n    approvers: [team:sre, alice@example.com]\nbreak_glass: [carol@example.com]\n";

struct Fixture {
    home: TempDir,
    repo: EnvRepoBuilder,
    config: std::path::PathBuf,
    /// Bob's image bump, the commit the tests undo.
    bump: gix::ObjectId,
}

/// start (1.0, 2 replicas) → Bob bumps the image to 1.1 → Bob scales to 3.
fn fixture() -> Fixture {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            (".tollgate/policy.yaml", POLICY),
            ("envs/production/api.yaml", &deployment("1.0", 2)),
        ],
        "Alice",
        "start",
    );
    let bump = repo.commit_files(
        &[("envs/production/api.yaml", &deployment("1.1", 2))],
        "Bob",
        "api 1.1",
    );
    repo.commit_files(
        &[("envs/production/api.yaml", &deployment("1.1", 3))],
        "Bob",
        "Scale api to 3",
    );
    let config = repo.write_config(home.path(), "");
    Fixture {
        home,
        repo,
        config,
        bump,
    }
}

fn file_at(repo: &EnvRepoBuilder, commit: gix::ObjectId, path: &str) -> Option<String> {
    let tree = repo.repo.tree_of(commit).expect("tree");
    repo.repo
        .file_at(tree, path)
        .expect("read")
        .map(|b| String::from_utf8(b).expect("UTF-8"))
}

fn short(id: gix::ObjectId) -> String {
    id.to_hex_with_len(10).to_string()
}

#[test]
fn a_clean_revert_opens_a_promotion_that_needs_rollback_approvals() {
    let f = fixture();
    let (home, config) = (f.home.path(), &f.config);
    let tip = main_tip(&f.repo);
    let created = as_who(
        home,
        config,
        "Dana",
        &[
            "revert",
            &f.bump.to_string(),
            "--reason",
            "1.1 crashes on start",
            "--json",
        ],
    )
    .ok()
    .json();
    let branch = format!("promote/revert-{}", short(f.bump));
    let id = format!("test:{branch}");
    assert_eq!(created["promotion"], id.as_str());
    assert_eq!(created["kind"], "revert");
    assert_eq!(created["environments"], serde_json::json!(["production"]));
    assert_eq!(main_tip(&f.repo), tip, "main does not move");

    let head = f
        .repo
        .repo
        .branch_head(&branch)
        .expect("the promotion branch");
    let commit = f.repo.repo.commit_info(head).expect("commit");
    assert_eq!(commit.parents, [tip]);
    assert_eq!(commit.author.email, "dana@example.com");
    let trailers: Vec<String> = commit
        .trailers
        .iter()
        .map(|t| format!("{}: {}", t.key, t.value))
        .collect();
    assert_eq!(
        trailers,
        [
            format!("Reverts: {}", f.bump),
            "Reason: 1.1 crashes on start".to_string()
        ]
    );
    assert_eq!(
        file_at(&f.repo, head, "envs/production/api.yaml").as_deref(),
        Some(deployment("1.0", 3).as_str()),
        "the image goes back; the later scale-up stays"
    );

    // The rendered change is the image going back, nothing else.
    let rendered = &created["rendered"][0];
    assert_eq!(rendered["name"], "production");
    let fields = &rendered["objects"][0]["fields"];
    assert_eq!(fields.as_array().map(Vec::len), Some(1), "{fields:#}");
    assert_eq!(fields[0]["old"], "ghcr.io/acme/api:1.1");
    assert_eq!(fields[0]["new"], "ghcr.io/acme/api:1.0");

    // A verified rollback needs rollback_approvals (1), not production's 2.
    let verdict = as_who(home, config, "Carol", &["show", &id, "--json"])
        .ok()
        .json();
    assert_eq!(verdict["environments"][0]["required"], 1, "{verdict:#}");
    assert!(
        verdict["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("rollback_approvals apply")),
        "{verdict:#}"
    );
    approve_by(home, config, &id, &["Carol"]);
    let merged = as_who(home, config, "Carol", &["merge", &id, "--json"])
        .ok()
        .json();
    let merge = f
        .repo
        .repo
        .commit_info(main_tip(&f.repo))
        .expect("merge commit");
    assert_eq!(merged["commit"], merge.sha.as_str());
    assert_eq!(
        merge.trailer_values("Reverts").collect::<Vec<_>>(),
        [f.bump.to_string()],
        "the merge says what it undid"
    );

    // And audit agrees that one approval was enough for this one.
    let audit = as_who(
        home,
        config,
        "Carol",
        &["audit", "verify", "--format", "json"],
    );
    let rows = audit.json();
    let row = &rows[0]["rows"][0];
    assert_eq!(row["commit"], merge.sha.as_str());
    assert_eq!(row["finding"], "compliant", "{row:#}");
    assert!(
        row["why"]
            .as_str()
            .is_some_and(|w| w.contains("rollback_approvals")),
        "{row:#}"
    );
}

#[test]
fn a_conflicting_revert_names_the_paths_and_writes_nothing() {
    let mut f = fixture();
    // A later commit changes the very line the bump changed.
    f.repo.commit_files(
        &[("envs/production/api.yaml", &deployment("1.2", 3))],
        "Bob",
        "api 1.2",
    );
    let before = all_refs(&f.repo);
    let refused = as_who(
        f.home.path(),
        &f.config,
        "Dana",
        &["revert", &f.bump.to_string()],
    );
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("conflicts with later changes")
            && refused.stderr.contains("envs/production/api.yaml")
            && refused.stderr.contains("nothing was written"),
        "{}",
        refused.stderr
    );
    assert_eq!(all_refs(&f.repo), before);
}

#[test]
fn an_own_folder_rollback_writes_what_it_previewed_and_leaves_the_shared_base() {
    if !kustomize_available(
        "an_own_folder_rollback_writes_what_it_previewed_and_leaves_the_shared_base",
    ) {
        return;
    }
    let (home, repo, good) = shared_base_repo();
    let config = repo.write_config(home.path(), "");
    let tip = main_tip(&repo);
    let args = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "rollback",
            "--env",
            "production",
            "--to",
            &good.to_string(),
            "--own-only",
            "--reason",
            "bad scale",
            "--json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let run = |extra: &[&str]| {
        let args = args(extra);
        let borrowed: Vec<&str> = args.iter().map(String::as_str).collect();
        as_who(home.path(), &config, "Dana", &borrowed).ok().json()
    };
    let preview = run(&["--dry-run"]);
    assert_eq!(
        preview["kept_shared"],
        serde_json::json!(["base/api.yaml"]),
        "{preview:#}"
    );
    let created = run(&[]);
    // What was written renders as what was shown, read back from the branch.
    let id = created["promotion"].as_str().expect("a promotion");
    let written = as_who(home.path(), &config, "Dana", &["diff", id, "--json"])
        .ok()
        .json();
    assert_eq!(
        written["environments"][0]["objects"], preview["rendered"][0]["objects"],
        "{written:#}"
    );
    // Replicas go back to 3; the base's image 1.1 stays.
    let fields = created["rendered"][0]["objects"][0]["fields"].to_string();
    assert!(fields.contains("spec.replicas"), "{created:#}");
    assert!(!fields.contains("image"), "{created:#}");
    let head = repo
        .repo
        .resolve(&format!(
            "refs/heads/{}",
            created["branch"].as_str().expect("branch")
        ))
        .expect("head");
    let entry = |commit, path| {
        repo.repo
            .entry_at(repo.repo.tree_of(commit).expect("tree"), path)
            .expect("entry")
    };
    assert_eq!(entry(head, "base/api.yaml"), entry(tip, "base/api.yaml"));
    assert_eq!(
        entry(head, "envs/production/patch.yaml"),
        entry(good, "envs/production/patch.yaml")
    );
    // Not the state production had: no Rollback-to claim, approved as any change.
    let commit = repo.repo.commit_info(head).expect("commit");
    assert_eq!(commit.trailer_values("Rollback-to").count(), 0);
}

/// `rollback --images` of production to `to` as Dana, dry run then for real; the preview's
/// and the written promotion's rendered objects of production.
fn images_rollback(
    home: &std::path::Path,
    config: &std::path::Path,
    to: gix::ObjectId,
) -> (serde_json::Value, serde_json::Value) {
    let to = to.to_string();
    let args = |dry: bool| {
        let mut args = vec![
            "rollback",
            "--env",
            "production",
            "--to",
            &to,
            "--images",
            "--reason",
            "bad image",
            "--json",
        ];
        if dry {
            args.push("--dry-run");
        }
        as_who(home, config, "Dana", &args).ok().json()
    };
    let preview = args(true);
    let created = args(false);
    let id = created["promotion"].as_str().expect("a promotion");
    let written = as_who(
        home,
        config,
        "Dana",
        &["diff", id, "--env", "production", "--json"],
    )
    .ok()
    .json();
    assert_eq!(
        written["environments"][0]["objects"], preview["rendered"][0]["objects"],
        "what was written is what was shown: {written:#}"
    );
    (preview, written)
}

#[test]
fn an_images_rollback_sets_back_images_alone_wherever_they_are_declared() {
    if !kustomize_available("an_images_rollback_sets_back_images_alone_wherever_they_are_declared")
    {
        return;
    }
    // Kustomize: the image is declared in a shared base, which stays as it is.
    let (home, repo, good) = shared_base_repo();
    let config = repo.write_config(home.path(), "");
    let (preview, written) = images_rollback(home.path(), &config, good);
    let fields = preview["rendered"][0]["objects"][0]["fields"].to_string();
    assert!(fields.contains("ghcr.io/acme/api:1.0"), "{preview:#}");
    assert!(
        !fields.contains("replicas"),
        "replicas stay at 5: {preview:#}"
    );
    assert_eq!(
        preview["environments"],
        serde_json::json!(["production"]),
        "staging is not touched: {preview:#}"
    );
    assert!(written["environments"][0]["objects"].is_array());

    // Plain: the image is replaced in the file that writes it.
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    let good = repo.commit_files(
        &[("envs/production/api.yaml", &deployment("1.0", 2))],
        "Alice",
        "start",
    );
    repo.commit_files(
        &[("envs/production/api.yaml", &deployment("1.1", 4))],
        "Bob",
        "api 1.1 and scale",
    );
    let config = repo.write_config(home.path(), "");
    let (preview, _) = images_rollback(home.path(), &config, good);
    let fields = preview["rendered"][0]["objects"][0]["fields"].to_string();
    assert!(
        fields.contains("ghcr.io/acme/api:1.0") && !fields.contains("replicas"),
        "{preview:#}"
    );
}

#[test]
fn a_conflicting_revert_names_only_what_git_would_leave_conflicted() {
    let cm = |name: &str, first: &str, last: &str| {
        let middle: String = (0..8).map(|i| format!("  k{i}: '{i}'\n")).collect();
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: shop}}\ndata:\n  first: '{first}'\n{middle}  last: '{last}'\n"
        )
    };
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            ("envs/production/a.yaml", &cm("a", "1", "1")),
            ("envs/production/b.yaml", &cm("b", "1", "1")),
        ],
        "Alice",
        "start",
    );
    let undone = repo.commit_files(
        &[
            ("envs/production/a.yaml", &cm("a", "2", "1")),
            ("envs/production/b.yaml", &cm("b", "2", "1")),
        ],
        "Bob",
        "first to 2",
    );
    // Later: a's same line changes again (a conflict); b changes another line, which
    // git merges cleanly.
    repo.commit_files(
        &[
            ("envs/production/a.yaml", &cm("a", "3", "1")),
            ("envs/production/b.yaml", &cm("b", "2", "9")),
        ],
        "Bob",
        "more",
    );
    let config = repo.write_config(home.path(), "");
    let refused = as_who(
        home.path(),
        &config,
        "Dana",
        &["revert", &undone.to_string()],
    );
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("envs/production/a.yaml"),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("envs/production/b.yaml"),
        "b merges cleanly: {}",
        refused.stderr
    );
}

#[test]
fn a_revert_that_claims_more_than_it_does_needs_every_approval() {
    let mut f = fixture();
    // Says it reverts the bump, but also scales production to 10.
    f.repo.branch(
        "promote/sneaky",
        &[("envs/production/api.yaml", &deployment("1.0", 10))],
        "Bob",
        &format!("Revert api 1.1\n\nReverts: {}\n", f.bump),
    );
    let verdict = as_who(
        f.home.path(),
        &f.config,
        "Carol",
        &["show", "test:promote/sneaky", "--json"],
    )
    .ok()
    .json();
    assert_eq!(verdict["environments"][0]["required"], 2, "{verdict:#}");
    assert!(
        verdict["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("not exactly that")),
        "{verdict:#}"
    );
}

#[test]
fn direct_is_for_break_glass_identities_and_audit_asks_for_a_review() {
    let f = fixture();
    let (home, config) = (f.home.path(), &f.config);
    let before = all_refs(&f.repo);
    let bump = f.bump.to_string();

    let refused = as_who(
        home,
        config,
        "Dana",
        &["revert", &bump, "--direct", "--reason", "outage"],
    );
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("not listed under break_glass"),
        "{}",
        refused.stderr
    );
    let no_reason = as_who(home, config, "Carol", &["revert", &bump, "--direct"]);
    assert_eq!(no_reason.code, 2, "clap refuses --direct without --reason");
    assert_eq!(all_refs(&f.repo), before, "nothing was written");

    let tip = main_tip(&f.repo);
    let created = as_who(
        home,
        config,
        "Carol",
        &["revert", &bump, "--direct", "--reason", "outage", "--json"],
    )
    .ok()
    .json();
    assert_eq!(created["direct"], true);
    assert_eq!(created["promotion"], serde_json::Value::Null);
    let new_tip = main_tip(&f.repo);
    assert_eq!(created["commit"], new_tip.to_string().as_str());
    let commit = f.repo.repo.commit_info(new_tip).expect("commit");
    assert_eq!(commit.parents, [tip]);
    assert_eq!(
        commit.trailer_values("Break-glass").collect::<Vec<_>>(),
        ["Carol <carol@example.com>"]
    );

    let audit =
        |who: &str| as_who(home, config, who, &["audit", "verify", "--format", "json"]).json();
    let row = audit("Carol")[0]["rows"][0].clone();
    assert_eq!(row["finding"], "exception");
    assert!(
        row["why"]
            .as_str()
            .is_some_and(|w| w.contains("needs a review after the fact")),
        "{row:#}"
    );

    let sha = new_tip.to_string();
    let own = as_who(home, config, "Carol", &["approve", &sha, "--repo", "test"]);
    assert_eq!(own.code, 3);
    assert!(
        own.stderr.contains("someone else must review it"),
        "{}",
        own.stderr
    );
    let outsider = as_who(home, config, "Mallory", &["approve", &sha]);
    assert_eq!(outsider.code, 3);
    assert!(
        outsider.stderr.contains("not an approver"),
        "{}",
        outsider.stderr
    );
    let not_break_glass = as_who(home, config, "Alice", &["approve", &tip.to_string()]);
    assert_eq!(not_break_glass.code, 3);
    assert!(
        not_break_glass.stderr.contains("not a break-glass commit"),
        "{}",
        not_break_glass.stderr
    );

    as_who(home, config, "Alice", &["approve", &sha, "--comment", "ok"]).ok();
    let row = audit("Carol")[0]["rows"][0].clone();
    assert_eq!(row["finding"], "exception");
    assert_eq!(
        row["reviewed_by"],
        serde_json::json!(["Alice <alice@example.com>"])
    );
}

/// The library's view of the fixture, as the TUI holds it.
fn open(config: &Path) -> OpenRepo {
    let config = Config::load(config).expect("config");
    OpenRepo::open(&config.repos[0]).expect("open")
}

fn person(name: &str) -> Identity {
    Identity {
        name: name.into(),
        email: format!("{}@example.com", name.to_lowercase()),
    }
}

#[test]
fn a_branch_that_moved_after_the_preview_is_refused_and_nothing_is_written() {
    for direct in [false, true] {
        let mut f = fixture();
        let open = open(&f.config);
        let plan = open.plan_revert(f.bump).expect("a clean revert");
        f.repo
            .commit_files(&[("README.md", "moved\n")], "Eve", "Someone pushed");
        let before = all_refs(&f.repo);
        let error = open
            .create_rollback(
                &plan,
                &person("Carol"),
                Some("outage"),
                direct,
                jiff::Timestamp::now(),
            )
            .expect_err("the plan is stale");
        assert!(
            error.to_string().contains("refs/heads/main moved from"),
            "{error}"
        );
        assert_eq!(all_refs(&f.repo), before, "direct: {direct}");
    }
}

const BASE_KUSTOMIZATION: &str = "resources: [api.yaml]\n";
const OVERLAY: &str = "resources: [../../base]\nnamespace: shop\npatches:\n- path: patch.yaml\n";

fn patch(replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  replicas: {replicas}\n"
    )
}

/// Production and staging overlays on a shared base: `good` (the start), then
/// production scaled 3 → 5 in its own folder, then the base's image 1.0 → 1.1.
fn shared_base_repo() -> (TempDir, EnvRepoBuilder, gix::ObjectId) {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    let good = repo.commit_files(
        &[
            ("base/kustomization.yaml", BASE_KUSTOMIZATION),
            ("base/api.yaml", &deployment("1.0", 1)),
            ("envs/production/kustomization.yaml", OVERLAY),
            ("envs/production/patch.yaml", &patch(3)),
            ("envs/staging/kustomization.yaml", OVERLAY),
            ("envs/staging/patch.yaml", &patch(1)),
        ],
        "Alice",
        "start",
    );
    repo.commit_files(&[("envs/production/patch.yaml", &patch(5))], "Bob", "Scale");
    repo.commit_files(
        &[("base/api.yaml", &deployment("1.1", 1))],
        "Bob",
        "api 1.1",
    );
    (home, repo, good)
}

#[test]
fn a_rollback_across_several_commits_asks_before_touching_a_shared_base() {
    if !kustomize_available("a_rollback_across_several_commits_asks_before_touching_a_shared_base")
    {
        return;
    }
    let (home, mut repo, good) = shared_base_repo();
    repo.commit_files(
        &[("envs/staging/patch.yaml", &patch(2))],
        "Bob",
        "Staging 2",
    );
    repo.commit_files(
        &[("envs/production/extra.yaml", "x: 1\n")],
        "Bob",
        "Unused file",
    );
    let config = repo.write_config(home.path(), "");
    let (home_dir, to) = (home.path(), good.to_string());
    let rollback = |extra: &[&str]| {
        let mut args = vec![
            "rollback",
            "--env",
            "production",
            "--to",
            &to,
            "--reason",
            "bad day",
            "--json",
        ];
        args.extend_from_slice(extra);
        as_who(home_dir, &config, "Dana", &args)
    };

    let before = all_refs(&repo);
    let refused = rollback(&[]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused
            .stderr
            .contains("base/api.yaml (also read by staging)")
            && refused.stderr.contains("--include-shared"),
        "{}",
        refused.stderr
    );
    assert_eq!(all_refs(&repo), before, "nothing was written");

    let created = rollback(&["--include-shared"]).ok().json();
    assert_eq!(created["shared"], serde_json::json!(["base/api.yaml"]));
    assert_eq!(
        created["environments"],
        serde_json::json!(["production", "staging"]),
        "the shared base changes staging too"
    );
    let branch = format!("promote/rollback-production-{}", short(good));
    let head = repo.repo.branch_head(&branch).expect("promotion branch");
    let tip = main_tip(&repo);
    let tree = |c| repo.repo.tree_of(c).expect("tree");
    for path in [
        "envs/production",
        "base/api.yaml",
        "base/kustomization.yaml",
    ] {
        assert_eq!(
            repo.repo.entry_at(tree(head), path).expect("entry"),
            repo.repo.entry_at(tree(good), path).expect("entry"),
            "{path} is as it was"
        );
    }
    assert_eq!(
        repo.repo
            .entry_at(tree(head), "envs/staging")
            .expect("entry"),
        repo.repo
            .entry_at(tree(tip), "envs/staging")
            .expect("entry"),
        "staging's own folder is not touched"
    );

    // What production renders at the rollback is exactly what it rendered then.
    let same = as_who(
        home_dir,
        &config,
        "Dana",
        &[
            "diff",
            &format!("{good}..{head}"),
            "--env",
            "production",
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(same["environments"][0]["objects"], serde_json::json!([]));
    let verdict = as_who(
        home_dir,
        &config,
        "Carol",
        &["show", &format!("test:{branch}"), "--json"],
    )
    .ok()
    .json();
    assert!(
        verdict["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("rolls production back to")),
        "{verdict:#}"
    );
}

/// `diff` with added and removed swapped and every field's old and new swapped: what the
/// change that undoes it must show.
fn inverse(envs: &[EnvironmentDiff]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = envs
        .iter()
        .map(|e| {
            let mut objects: Vec<String> = e
                .diff
                .changed()
                .map(|o| {
                    let change = match o.change {
                        ChangeKind::Added => ChangeKind::Removed,
                        ChangeKind::Removed => ChangeKind::Added,
                        other => other,
                    };
                    let mut fields: Vec<String> = o
                        .fields
                        .iter()
                        .map(|f| format!("{} {:?} -> {:?}", f.path, f.new, f.old))
                        .collect();
                    fields.sort();
                    let key = match (&o.change, &o.renamed_from) {
                        (ChangeKind::Renamed, Some(from)) => format!("{} from {}", from, o.key),
                        _ => o.key.to_string(),
                    };
                    format!("{change:?} {key} {fields:?}")
                })
                .collect();
            objects.sort();
            (e.name.clone(), objects)
        })
        .collect();
    out.sort();
    out
}

fn plain(envs: &[EnvironmentDiff]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = envs
        .iter()
        .map(|e| {
            let mut objects: Vec<String> = e
                .diff
                .changed()
                .map(|o| {
                    let mut fields: Vec<String> = o
                        .fields
                        .iter()
                        .map(|f| format!("{} {:?} -> {:?}", f.path, f.old, f.new))
                        .collect();
                    fields.sort();
                    let key = match (&o.change, &o.renamed_from) {
                        (ChangeKind::Renamed, Some(from)) => format!("{} from {}", o.key, from),
                        _ => o.key.to_string(),
                    };
                    format!("{:?} {key} {fields:?}", o.change)
                })
                .collect();
            objects.sort();
            (e.name.clone(), objects)
        })
        .collect();
    out.sort();
    out
}

/// diff(revert(C)) == inverse(diff(C)) for every commit C of `open`'s protected branch,
/// reverted onto C itself.
fn check_inverse_property(open: &OpenRepo, commits: &[gix::ObjectId]) -> usize {
    let mut checked = 0;
    for &commit in commits {
        let info = open.repo.commit_info(commit).expect("commit");
        let Some(&parent) = info.parents.first() else {
            continue;
        };
        let forward = open.diff(Some(parent), commit, None).expect("diff C");
        if forward.iter().all(|e| e.diff.changed().next().is_none()) {
            continue;
        }
        let reverted = open
            .revert_tree(commit, &info)
            .expect("reverting the tip itself never conflicts");
        let backward = open
            .diff_trees(open.repo.tree_of(commit).expect("tree"), reverted, None)
            .expect("diff of the revert");
        assert_eq!(
            plain(&backward),
            inverse(&forward),
            "commit {} {}",
            info.sha,
            info.subject
        );
        checked += 1;
    }
    checked
}

#[test]
fn a_revert_is_the_inverse_of_what_it_undoes_on_the_demo() {
    let dir = TempDir::new().expect("temp dir");
    let config = tollgate::demo::init(dir.path()).expect("demo");
    let config = Config::load(&config).expect("config");
    let mut checked = 0;
    for repo in &config.repos {
        let open = OpenRepo::open(repo).expect("open");
        let mut commits = Vec::new();
        let mut next = Some(open.tip().expect("tip"));
        while let Some(id) = next {
            commits.push(id);
            next = open
                .repo
                .commit_info(id)
                .expect("commit")
                .parents
                .first()
                .copied();
        }
        checked += check_inverse_property(&open, &commits);
    }
    assert!(checked >= 15, "only {checked} commits checked");
}

#[test]
fn a_revert_is_the_inverse_of_what_it_undoes_on_the_corpus() {
    if !corpus_available("a_revert_is_the_inverse_of_what_it_undoes_on_the_corpus") {
        return;
    }
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    let mut commits = Vec::new();
    for version in ["v2.14.0", "v3.0.0", "v3.5.0"] {
        let files = files_in(&corpus().join("argo-cd").join(version).join("manifests"));
        let changes: Vec<(String, Vec<u8>)> = files
            .into_iter()
            .filter(|(p, _)| p.ends_with(".yaml") && !p.contains('/'))
            .map(|(p, c)| (format!("envs/production/{p}"), c))
            .collect();
        let changes: Vec<(&str, Option<&[u8]>)> = changes
            .iter()
            .map(|(p, c)| (p.as_str(), Some(c.as_slice())))
            .collect();
        commits.push(repo.commit(&changes, "CI", &format!("argo-cd {version}")));
    }
    let config = repo.write_config(home.path(), "");
    let open = open(&config);
    assert_eq!(check_inverse_property(&open, &commits), 2);
}

#[test]
fn a_rollback_goes_only_to_a_state_the_branch_had() {
    let mut f = fixture();
    let (home, config) = (f.home.path(), &f.config);
    // A commit on a side branch was never on main: no rollback to it.
    let side = f.repo.branch(
        "promote/side",
        &[("envs/production/api.yaml", &deployment("9.9", 1))],
        "Mallory",
        "Never merged",
    );
    // With and without the history index (which `tollgate history` writes): the index
    // speeds up commits from the history and never lets another one through.
    for look_first in [false, true] {
        if look_first {
            as_who(home, config, "Dana", &["history", "--env", "production"]).ok();
        }
        let refused = as_who(
            home,
            config,
            "Dana",
            &["rollback", "--env", "production", "--to", &side.to_string()],
        );
        assert_eq!(refused.code, 1);
        assert!(
            refused.stderr.contains("is not on main"),
            "{}",
            refused.stderr
        );
    }
    let created = as_who(
        home,
        config,
        "Dana",
        &[
            "rollback",
            "--env",
            "production",
            "--to",
            &f.bump.to_string(),
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(created["kind"], "rollback");
}
