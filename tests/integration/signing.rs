//! Identity is a key: approvals are signed statements and merges signed commits, checked
//! against `.tollgate/allowed_signers` on the protected branch. Keys are made by the real
//! `ssh-keygen`, and what tollgate signs is cross-checked with `git verify-commit` and
//! `ssh-keygen -Y verify`, not only with tollgate's own code.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::common::{
    EnvRepoBuilder, Keyring, all_refs, as_who, email, main_tip, openssh_available, run, tollgate,
};

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec: {replicas: 2}\n";
const POLICY: &str = "teams:\n  sre: [carol@example.com, dana@example.com]\nenvironments:\n  production:\n    approvals: 2\n    approvers: [team:sre, alice@example.com]\nbreak_glass: [carol@example.com]\n";
const ID: &str = "test:promote/scale";

struct Signed {
    home: TempDir,
    repo: EnvRepoBuilder,
    config: PathBuf,
    keys: Keyring,
}

/// A repo whose allowed signers list Alice, Carol and Dana; Mallory has a key too, but it
/// is listed nowhere. A promotion by Bob scales production.
fn signed_repo() -> Signed {
    let home = TempDir::new().expect("temp dir");
    let keys = Keyring::new(home.path(), &["Alice", "Carol", "Dana", "Mallory"]);
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    let signers = keys.allowed_signers(&["Alice", "Carol", "Dana"]);
    repo.commit_files(
        &[
            (".tollgate/policy.yaml", POLICY),
            (".tollgate/allowed_signers", &signers),
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
    keys.add_to_config(&config, &["Alice", "Carol", "Dana"]);
    Signed {
        home,
        repo,
        config,
        keys,
    }
}

/// A config `NAME.yaml` beside the repo's, for whoever uses it: the same repos, and one
/// `signing_key` (instead of a key per person).
fn with_one_key(s: &Signed, name: &str, key: &Path) -> PathBuf {
    let config = s.home.path().join(format!("{name}.yaml"));
    let text = std::fs::read_to_string(&s.config).expect("config");
    let repos = &text[text.find("repos:").expect("repos")..];
    std::fs::write(&config, format!("signing_key: {}\n{repos}", key.display()))
        .expect("write config");
    config
}

fn show(s: &Signed, who: &str) -> serde_json::Value {
    as_who(s.home.path(), &s.config, who, &["show", ID, "--json"])
        .ok()
        .json()
}

fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs")
}

#[test]
fn signed_approvals_and_merges_verify_with_git_and_ssh_keygen() {
    if !openssh_available("signed_approvals_and_merges_verify_with_git_and_ssh_keygen") {
        return;
    }
    let s = signed_repo();
    for who in ["Carol", "Dana"] {
        as_who(s.home.path(), &s.config, who, &["approve", ID]).ok();
    }
    let verdict = show(&s, "Dana");
    for approval in verdict["approvals"].as_array().expect("approvals") {
        assert_eq!(approval["status"], "valid", "{verdict:#}");
        assert_eq!(approval["signature"]["state"], "verified", "{verdict:#}");
        assert!(
            approval["signature"]["key_fingerprint"]
                .as_str()
                .is_some_and(|f| f.starts_with("SHA256:")),
            "{verdict:#}"
        );
    }
    assert_eq!(verdict["can_merge"], true, "{verdict:#}");

    // ssh-keygen accepts each approval's signature over its statement, for its approver.
    let head = s.repo.repo.branch_head("promote/scale").expect("head");
    let approvals = s.repo.repo.approvals_on(head).expect("approvals");
    assert_eq!(approvals.len(), 2);
    let allowed = s.home.path().join("allowed_signers");
    std::fs::write(
        &allowed,
        s.keys.allowed_signers(&["Alice", "Carol", "Dana"]),
    )
    .expect("write allowed signers");
    for approval in &approvals {
        let signed = approval.signed.as_ref().expect("a signed approval");
        let signature = s.home.path().join("approval.sig");
        std::fs::write(&signature, &signed.signature).expect("write signature");
        let mut verify = Command::new("ssh-keygen")
            .args(["-Y", "verify", "-n", "tollgate-approval", "-f"])
            .arg(&allowed)
            .arg("-I")
            .arg(&approval.by.email)
            .arg("-s")
            .arg(&signature)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("ssh-keygen runs");
        use std::io::Write;
        verify
            .stdin
            .take()
            .expect("stdin")
            .write_all(signed.statement.as_bytes())
            .expect("write statement");
        let output = verify.wait_with_output().expect("ssh-keygen ends");
        assert!(
            output.status.success(),
            "ssh-keygen -Y verify: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    as_who(s.home.path(), &s.config, "Dana", &["merge", ID]).ok();
    let merge = main_tip(&s.repo).to_string();
    let output = git(
        &s.repo.path,
        &[
            "-c",
            &format!("gpg.ssh.allowedSignersFile={}", allowed.display()),
            "verify-commit",
            "--raw",
            &merge,
        ],
    );
    assert!(
        output.status.success(),
        "git verify-commit {merge}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(&email("Dana")),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_note_claiming_someone_else_is_forged_and_never_counts() {
    if !openssh_available("a_note_claiming_someone_else_is_forged_and_never_counts") {
        return;
    }
    let s = signed_repo();
    as_who(s.home.path(), &s.config, "Carol", &["approve", ID]).ok();
    let head = s.repo.repo.branch_head("promote/scale").expect("head");
    let carol = s.repo.repo.approvals_on(head).expect("approvals")[0].clone();
    let committer = tollgate::git::write::Signature {
        name: "Mallory".into(),
        email: email("Mallory"),
        time: carol.at,
    };
    // An unsigned note, as plain `git notes` would write it, saying Dana approved.
    let mut unsigned = carol.clone();
    unsigned.by.name = "Dana".into();
    unsigned.by.email = email("Dana");
    unsigned.signed = None;
    s.repo
        .repo
        .record_approval(unsigned.clone(), &committer)
        .expect("write the note");
    let verdict = show(&s, "Carol");
    let dana = verdict["approvals"]
        .as_array()
        .expect("approvals")
        .iter()
        .find(|a| a["by"].as_str().is_some_and(|b| b.contains("dana")))
        .expect("Dana's approval is shown");
    assert_eq!(dana["status"], "not-verified", "{verdict:#}");
    assert_eq!(dana["signature"]["state"], "unsigned", "{verdict:#}");
    assert_eq!(verdict["environments"][0]["valid"], 1, "{verdict:#}");
    assert_eq!(verdict["can_merge"], false);

    // The same claim, signed with Mallory's own key: the signature is good, the key is not
    // Dana's.
    let mallory = tollgate::signing::SigningKey::from_path(&s.keys.private("Mallory"), "test")
        .expect("Mallory's key");
    let forged = unsigned.sign(&mallory).expect("sign");
    s.repo
        .repo
        .record_approval(forged, &committer)
        .expect("write the note");
    let verdict = show(&s, "Carol");
    let dana = verdict["approvals"]
        .as_array()
        .expect("approvals")
        .iter()
        .find(|a| a["by"].as_str().is_some_and(|b| b.contains("dana")))
        .expect("Dana's approval is shown");
    assert_eq!(dana["status"], "not-verified", "{verdict:#}");
    assert_eq!(dana["signature"]["state"], "not-verified", "{verdict:#}");
    assert_eq!(verdict["environments"][0]["valid"], 1, "{verdict:#}");
    let before = all_refs(&s.repo);
    let merge = as_who(s.home.path(), &s.config, "Dana", &["merge", ID]);
    assert_ne!(merge.code, 0, "the merge is refused: {}", merge.stdout);
    assert_eq!(all_refs(&s.repo), before, "nothing was written");
}

#[test]
fn an_identity_string_does_not_make_you_someone_else() {
    if !openssh_available("an_identity_string_does_not_make_you_someone_else") {
        return;
    }
    let s = signed_repo();
    // Mallory's own key, and TOLLGATE_IDENTITY saying Carol.
    let config = with_one_key(&s, "mallory", &s.keys.private("Mallory"));
    let before = all_refs(&s.repo);
    let run = as_who(s.home.path(), &config, "Carol", &["approve", ID]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stderr.contains("is not listed for carol@example.com"),
        "{}",
        run.stderr
    );
    let merge = as_who(s.home.path(), &config, "Carol", &["merge", ID]);
    assert_ne!(merge.code, 0, "{}", merge.stdout);
    assert_eq!(all_refs(&s.repo), before, "nothing was written");
    let verdict = as_who(s.home.path(), &config, "Carol", &["show", ID, "--json"])
        .ok()
        .json();
    assert_eq!(verdict["can_approve"], false, "{verdict:#}");
}

/// A running `ssh-agent`, killed when dropped.
struct Agent {
    socket: PathBuf,
    pid: String,
}

impl Agent {
    fn start(dir: &Path) -> Agent {
        let socket = dir.join("agent.sock");
        let output = Command::new("ssh-agent")
            .arg("-a")
            .arg(&socket)
            .arg("-s")
            .output()
            .expect("ssh-agent runs");
        let text = String::from_utf8_lossy(&output.stdout);
        let pid = text
            .split(';')
            .find_map(|part| part.trim().strip_prefix("SSH_AGENT_PID="))
            .expect("ssh-agent says its pid")
            .to_string();
        Agent { socket, pid }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(&self.pid).status();
    }
}

#[test]
fn a_key_held_by_ssh_agent_signs() {
    if !openssh_available("a_key_held_by_ssh_agent_signs") {
        return;
    }
    let s = signed_repo();
    let agent = Agent::start(s.home.path());
    let added = Command::new("ssh-add")
        .arg("-q")
        .arg(s.keys.private("Carol"))
        .env("SSH_AUTH_SOCK", &agent.socket)
        .status()
        .expect("ssh-add runs");
    assert!(added.success());
    // Only the public half stays on disk: the agent holds the private one.
    std::fs::remove_file(s.keys.private("Carol")).expect("remove the private key");
    let config = with_one_key(&s, "agent", &s.keys.public("Carol"));
    let identity = format!("Carol <{}>", email("Carol"));
    run(tollgate(s.home.path())
        .env("TOLLGATE_IDENTITY", &identity)
        .env("SSH_AUTH_SOCK", &agent.socket)
        .arg("--config")
        .arg(&config)
        .args(["approve", ID]))
    .ok();
    let verdict = show(&s, "Dana");
    assert_eq!(
        verdict["approvals"][0]["signature"]["state"], "verified",
        "{verdict:#}"
    );
    assert_eq!(
        verdict["approvals"][0]["signature"]["signer"],
        email("Carol")
    );
}

// The attacks of an insider with plain push access, each as a test.

const CONFIG_MAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\ndata: {v: '1'}\n";

/// Commit `files` straight onto main as `who`, with `message`, at `time` (`None`: the
/// builder's clock), signed with `key` when given; main moves.
fn push_to_main(
    s: &mut Signed,
    files: &[(&str, &str)],
    who: &str,
    message: &str,
    time: Option<i64>,
    key: Option<&tollgate::signing::SigningKey>,
) -> gix::ObjectId {
    let tip = main_tip(&s.repo);
    let changes: Vec<tollgate::git::write::FileChange> = files
        .iter()
        .map(|(path, text)| tollgate::git::write::FileChange {
            path: path.to_string(),
            content: Some(text.as_bytes().to_vec()),
        })
        .collect();
    let tree = s
        .repo
        .repo
        .write_tree(s.repo.repo.tree_of(tip).expect("tree"), &changes)
        .expect("tree");
    let sig = tollgate::git::write::Signature {
        name: who.into(),
        email: email(who),
        time: time.unwrap_or(1_795_000_000),
    };
    let commit = s
        .repo
        .repo
        .write_signed_commit(tree, &[tip], &sig, &sig, message, key)
        .expect("commit");
    s.repo
        .repo
        .update_ref("refs/heads/main", Some(tip), commit, "push", &sig)
        .expect("push");
    s.repo.head = Some(commit);
    commit
}

fn audit(s: &Signed, args: &[&str]) -> (i32, Vec<serde_json::Value>) {
    let mut all = vec!["audit", "verify", "--json"];
    all.extend_from_slice(args);
    let run = as_who(s.home.path(), &s.config, "Dana", &all);
    let rows = run.json()[0]["rows"].as_array().expect("rows").to_vec();
    (run.code, rows)
}

fn row_for<'a>(rows: &'a [serde_json::Value], commit: &gix::ObjectId) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["commit"] == commit.to_string())
        .unwrap_or_else(|| panic!("a row for {commit}: {rows:#?}"))
}

fn key_of(s: &Signed, who: &str) -> tollgate::signing::SigningKey {
    tollgate::signing::SigningKey::from_path(&s.keys.private(who), "test").expect("key")
}

#[test]
fn forged_approval_trailers_on_a_direct_push_are_a_violation() {
    if !openssh_available("forged_approval_trailers_on_a_direct_push_are_a_violation") {
        return;
    }
    let mut s = signed_repo();
    let forged = push_to_main(
        &mut s,
        &[(
            "envs/production/api.yaml",
            &DEPLOY.replace("replicas: 2", "replicas: 50"),
        )],
        "Bob",
        "Merge promotion test:promote/x\n\nPromotion: test:promote/x\nApproved-by: Carol <carol@example.com>\nApproved-by: Dana <dana@example.com>\nMerged-by: Dana <dana@example.com>\n",
        None,
        None,
    );
    let (code, rows) = audit(&s, &[]);
    assert_ne!(code, 0);
    let row = row_for(&rows, &forged);
    assert_eq!(row["finding"], "violation", "{row:#}");
    assert_eq!(row["signature"]["state"], "unsigned", "{row:#}");
    assert!(
        row["why"]
            .as_str()
            .is_some_and(|w| w.contains("trailers prove nothing")),
        "{row:#}"
    );
    // The history of the branch's own line judges it the same way, trailers or not.
    let history = as_who(
        s.home.path(),
        &s.config,
        "Dana",
        &["history", "--env", "production", "--first-parent"],
    )
    .ok()
    .stdout;
    let line = history
        .lines()
        .find(|l| l.starts_with(&forged.to_string()[..10]))
        .expect("the forged commit is in the history");
    assert!(line.contains("✗ unsigned"), "{line}");
    assert!(!line.contains("approved by"), "{line}");
}

#[test]
fn break_glass_by_someone_not_listed_under_break_glass_is_a_violation() {
    if !openssh_available("break_glass_by_someone_not_listed_under_break_glass_is_a_violation") {
        return;
    }
    let mut s = signed_repo();
    let hotfix = |s: &mut Signed, who: &str, replicas: &str, signer: &str| {
        let key = key_of(s, signer);
        push_to_main(
            s,
            &[(
                "envs/production/api.yaml",
                &DEPLOY.replace("replicas: 2", replicas),
            )],
            who,
            &format!(
                "Hotfix\n\nBreak-glass: {who} <{}>\nReason: on fire\n",
                email(who)
            ),
            None,
            Some(&key),
        )
    };
    // Alice holds a listed key, but is not under break_glass.
    let by_alice = hotfix(&mut s, "Alice", "replicas: 9", "Alice");
    // Carol is under break_glass, and signs: an exception, not a violation.
    let by_carol = hotfix(&mut s, "Carol", "replicas: 3", "Carol");
    // The same trailer naming Carol, written by Mallory without Carol's key.
    let forged = hotfix(&mut s, "Carol", "replicas: 4", "Mallory");
    let (code, rows) = audit(&s, &[]);
    assert_ne!(code, 0);
    assert_eq!(row_for(&rows, &by_alice)["finding"], "violation");
    let exception = row_for(&rows, &by_carol);
    assert_eq!(exception["finding"], "exception", "{exception:#}");
    assert_eq!(exception["signature"]["signer"], email("Carol"));
    let forged = row_for(&rows, &forged);
    assert_eq!(forged["finding"], "violation", "{forged:#}");
    assert_eq!(forged["signature"]["state"], "not-verified", "{forged:#}");
}

#[test]
fn a_signed_merge_carrying_one_file_beyond_the_merge_is_a_violation() {
    if !openssh_available("a_signed_merge_carrying_one_file_beyond_the_merge_is_a_violation") {
        return;
    }
    let s = signed_repo();
    for who in ["Carol", "Dana"] {
        as_who(s.home.path(), &s.config, who, &["approve", ID]).ok();
    }
    // Dana merges by hand, signed with her own key, and slips in one more file.
    let base = main_tip(&s.repo);
    let head = s.repo.repo.branch_head("promote/scale").expect("head");
    let tree = s
        .repo
        .repo
        .write_tree(
            s.repo.repo.tree_of(head).expect("tree"),
            &[tollgate::git::write::FileChange {
                path: "envs/production/extra.yaml".into(),
                content: Some(CONFIG_MAP.as_bytes().to_vec()),
            }],
        )
        .expect("tree");
    let sig = tollgate::git::write::Signature {
        name: "Dana".into(),
        email: email("Dana"),
        time: 1_795_000_000,
    };
    let merge = s
        .repo
        .repo
        .write_signed_commit(
            tree,
            &[base, head],
            &sig,
            &sig,
            "Merge promotion test:promote/scale\n\nPromotion: test:promote/scale\n",
            Some(&key_of(&s, "Dana")),
        )
        .expect("commit");
    s.repo
        .repo
        .update_ref("refs/heads/main", Some(base), merge, "push", &sig)
        .expect("push");
    let (code, rows) = audit(&s, &[]);
    assert_ne!(code, 0);
    let row = row_for(&rows, &merge);
    assert_eq!(row["finding"], "violation", "{row:#}");
    assert!(
        row["why"]
            .as_str()
            .is_some_and(|w| w.contains("changes no approval covers")),
        "{row:#}"
    );
    assert_eq!(row["signature"]["state"], "verified", "{row:#}");
}

#[test]
fn a_merge_through_tollgate_is_compliant_and_says_who_signed_it() {
    if !openssh_available("a_merge_through_tollgate_is_compliant_and_says_who_signed_it") {
        return;
    }
    let s = signed_repo();
    for who in ["Carol", "Dana"] {
        as_who(s.home.path(), &s.config, who, &["approve", ID]).ok();
    }
    as_who(s.home.path(), &s.config, "Dana", &["merge", ID]).ok();
    let merge = main_tip(&s.repo);
    let (code, rows) = audit(&s, &[]);
    assert_eq!(code, 0, "{rows:#?}");
    let row = row_for(&rows, &merge);
    assert_eq!(row["finding"], "compliant", "{row:#}");
    assert_eq!(row["signature"]["signer"], email("Dana"));
    assert_eq!(
        row["approvers"].as_array().map(Vec::len),
        Some(2),
        "{row:#}"
    );
    // show COMMIT says who signed it, and judges it as audit does.
    let shown = as_who(
        s.home.path(),
        &s.config,
        "Dana",
        &["show", &merge.to_string(), "--json"],
    )
    .ok()
    .json();
    assert_eq!(shown["signature"]["signer"], email("Dana"), "{shown:#}");
    assert_eq!(shown["audit"][0]["finding"], "compliant", "{shown:#}");
    let text = as_who(
        s.home.path(),
        &s.config,
        "Dana",
        &["show", &merge.to_string()],
    )
    .ok()
    .stdout;
    assert!(
        text.contains("Signature: signed by dana@example.com"),
        "{text}"
    );
}

/// `reconcile --once` of production against a fresh test API server.
struct Cluster {
    api: crate::kube_api::FakeApi,
    kubeconfig: PathBuf,
}

impl Cluster {
    fn start(s: &Signed) -> Cluster {
        let api = crate::kube_api::FakeApi::start();
        let kubeconfig = api.kubeconfig(s.home.path());
        Cluster { api, kubeconfig }
    }

    fn reconcile(&self, s: &Signed) -> crate::common::Run {
        crate::reconcile::reconcile(
            s.home.path(),
            &s.config,
            &self.kubeconfig,
            &["--env", "production", "--once", "--json"],
        )
    }

    fn replicas(&self) -> serde_json::Value {
        self.api
            .object("/apis/apps/v1/namespaces/shop/deployments/api")
            .map(|d| d["spec"]["replicas"].clone())
            .unwrap_or_default()
    }
}

fn refused_because(run: &crate::common::Run) -> String {
    // The policy said no: a status of its own.
    assert_eq!(run.code, 3, "refused: {}\n{}", run.stdout, run.stderr);
    run.json()["refused"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_backdated_unapproved_commit_is_refused_by_reconcile_and_reported_by_audit() {
    if !openssh_available(
        "a_backdated_unapproved_commit_is_refused_by_reconcile_and_reported_by_audit",
    ) {
        return;
    }
    let mut s = signed_repo();
    let cluster = Cluster::start(&s);
    cluster.reconcile(&s).ok();
    assert_eq!(cluster.replicas(), 2);
    // Dated a year before everything else in the repository.
    let backdated = push_to_main(
        &mut s,
        &[(
            "envs/production/api.yaml",
            &DEPLOY.replace("replicas: 2", "replicas: 50"),
        )],
        "Bob",
        "Tweak",
        Some(1_760_000_000),
        None,
    );
    let why = refused_because(&cluster.reconcile(&s));
    assert!(why.contains(&backdated.to_string()[..10]), "{why}");
    assert_eq!(cluster.replicas(), 2, "nothing was applied");
    // --since after its date narrows what is printed, not what fails the run.
    let (code, rows) = audit(&s, &["--since", "2026-06-01"]);
    assert_ne!(code, 0, "the hidden violation still fails the run");
    assert!(rows.iter().all(|r| r["commit"] != backdated.to_string()));
}

#[test]
fn a_force_push_to_an_older_revision_is_refused() {
    if !openssh_available("a_force_push_to_an_older_revision_is_refused") {
        return;
    }
    let s = signed_repo();
    let start = main_tip(&s.repo);
    for who in ["Carol", "Dana"] {
        as_who(s.home.path(), &s.config, who, &["approve", ID]).ok();
    }
    as_who(s.home.path(), &s.config, "Dana", &["merge", ID]).ok();
    let cluster = Cluster::start(&s);
    cluster.reconcile(&s).ok();
    assert_eq!(cluster.replicas(), 4);
    let merged = main_tip(&s.repo);
    let sig = tollgate::git::write::Signature {
        name: "Mallory".into(),
        email: email("Mallory"),
        time: 1_795_000_000,
    };
    s.repo
        .repo
        .update_ref("refs/heads/main", Some(merged), start, "force-push", &sig)
        .expect("force-push");
    let why = refused_because(&cluster.reconcile(&s));
    assert!(why.contains("does not descend from the deployed"), "{why}");
    assert_eq!(cluster.replicas(), 4, "production was not rolled back");
}

#[test]
fn a_reset_tip_is_deployed_only_once_an_approved_rollback_is_merged_on_it() {
    if !openssh_available("a_reset_tip_is_deployed_only_once_an_approved_rollback_is_merged_on_it")
    {
        return;
    }
    let s = signed_repo();
    let start = main_tip(&s.repo);
    let approve_and_merge = |id: &str| {
        for who in ["Carol", "Dana"] {
            as_who(s.home.path(), &s.config, who, &["approve", id]).ok();
        }
        as_who(s.home.path(), &s.config, "Dana", &["merge", id]).ok();
    };
    approve_and_merge(ID);
    let scaled = main_tip(&s.repo);
    let sig = tollgate::git::write::Signature {
        name: "Bob".into(),
        email: email("Bob"),
        time: 1_795_000_000,
    };
    let six = s
        .repo
        .repo
        .write_tree(
            s.repo.repo.tree_of(scaled).expect("tree"),
            &[tollgate::git::write::FileChange {
                path: "envs/production/api.yaml".into(),
                content: Some(DEPLOY.replace("replicas: 2", "replicas: 6").into_bytes()),
            }],
        )
        .expect("tree");
    let six = s
        .repo
        .repo
        .write_commit(six, &[scaled], &sig, &sig, "Scale api to 6")
        .expect("commit");
    s.repo
        .repo
        .update_ref("refs/heads/promote/six", None, six, "branch", &sig)
        .expect("branch");
    approve_and_merge("test:promote/six");
    let cluster = Cluster::start(&s);
    cluster.reconcile(&s).ok();
    assert_eq!(cluster.replicas(), 6);

    // main is reset to the first merge: refused, production keeps 6 replicas.
    let deployed = main_tip(&s.repo);
    s.repo
        .repo
        .update_ref("refs/heads/main", Some(deployed), scaled, "reset", &sig)
        .expect("reset");
    refused_because(&cluster.reconcile(&s));
    assert_eq!(cluster.replicas(), 6);

    // On the reset tip, a rollback to the start, approved and merged: that is deployed.
    let created = as_who(
        s.home.path(),
        &s.config,
        "Carol",
        &[
            "rollback",
            "--env",
            "production",
            "--to",
            &start.to_string(),
            "--reason",
            "back to the start",
            "--json",
        ],
    )
    .ok()
    .json();
    let id = created["promotion"]
        .as_str()
        .expect("a promotion")
        .to_string();
    for who in ["Alice", "Dana"] {
        as_who(s.home.path(), &s.config, who, &["approve", &id]).ok();
    }
    as_who(s.home.path(), &s.config, "Dana", &["merge", &id]).ok();
    let run = cluster.reconcile(&s);
    assert_eq!(
        run.json()["result"],
        "applied",
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(cluster.replicas(), 2);
}

#[test]
fn two_approved_promotions_merged_in_turn_both_deploy() {
    if !openssh_available("two_approved_promotions_merged_in_turn_both_deploy") {
        return;
    }
    let mut s = signed_repo();
    s.repo.branch(
        "promote/config",
        &[("envs/production/config.yaml", CONFIG_MAP)],
        "Bob",
        "Add config",
    );
    let cluster = Cluster::start(&s);
    for id in [ID, "test:promote/config"] {
        for who in ["Carol", "Dana"] {
            as_who(s.home.path(), &s.config, who, &["approve", id]).ok();
        }
    }
    for id in [ID, "test:promote/config"] {
        as_who(s.home.path(), &s.config, "Dana", &["merge", id]).ok();
        let run = cluster.reconcile(&s);
        assert_eq!(run.json()["result"], "applied", "{id}: {}", run.stdout);
    }
    assert_eq!(cluster.replicas(), 4);
    assert!(
        cluster
            .api
            .object("/api/v1/namespaces/shop/configmaps/a")
            .is_some()
    );
    let (code, rows) = audit(&s, &[]);
    assert_eq!(code, 0, "{rows:#?}");
}

#[test]
fn forged_trailers_are_refused_by_reconcile() {
    if !openssh_available("forged_trailers_are_refused_by_reconcile") {
        return;
    }
    let mut s = signed_repo();
    let cluster = Cluster::start(&s);
    cluster.reconcile(&s).ok();
    push_to_main(
        &mut s,
        &[(
            "envs/production/api.yaml",
            &DEPLOY.replace("replicas: 2", "replicas: 50"),
        )],
        "Bob",
        "Merge promotion test:promote/x\n\nPromotion: test:promote/x\nApproved-by: Carol <carol@example.com>\nApproved-by: Dana <dana@example.com>\nMerged-by: Dana <dana@example.com>\n",
        None,
        None,
    );
    let why = refused_because(&cluster.reconcile(&s));
    assert!(why.contains("without the approvals it needed"), "{why}");
    assert_eq!(cluster.replicas(), 2);
}

#[test]
fn the_demos_two_staging_promotions_merged_in_turn_both_deploy_signed_by_whoever_acts() {
    if !openssh_available("the_demos_two_staging_promotions_merged_in_turn_both_deploy") {
        return;
    }
    let (home, config) = crate::demo::demo();
    let api = crate::kube_api::FakeApi::start();
    let kubeconfig = api.kubeconfig(home.path());
    let reconcile = || {
        crate::reconcile::reconcile(
            home.path(),
            &config,
            &kubeconfig,
            &["--repo", "shop", "--env", "staging", "--once", "--json"],
        )
    };
    assert_eq!(reconcile().ok().json()["result"], "applied");
    let as_demo = |who: &str, args: &[&str]| {
        run(tollgate(home.path())
            .env("TOLLGATE_IDENTITY", who)
            .arg("--config")
            .arg(&config)
            .args(args))
    };
    for id in [
        "shop:promote/web-2.3.0-staging",
        "shop:promote/checkout-tuning-staging",
    ] {
        // Switching identity switches the key: Carol approves as Carol, Dana merges.
        as_demo("Carol SRE <carol@example.com>", &["approve", id]).ok();
        as_demo("Dana Ops <dana@example.com>", &["merge", id]).ok();
        let run = reconcile();
        assert_eq!(run.json()["result"], "applied", "{id}: {}", run.stdout);
    }
    let audit = as_demo(
        "Dana Ops <dana@example.com>",
        &[
            "audit", "verify", "--repo", "shop", "--env", "staging", "--json",
        ],
    );
    let rows = audit.json()[0]["rows"].as_array().expect("rows").clone();
    for row in &rows[..2] {
        assert_eq!(row["finding"], "compliant", "{row:#}");
        assert_eq!(row["signature"]["signer"], "dana@example.com", "{row:#}");
    }
}

/// Trailers that the rules for unsigned history accept: a promotion approved by Carol
/// and Dana, merged by Dana.
const LEGACY_TRAILERS: &str = "Merge promotion test:promote/x\n\nPromotion: test:promote/x\nApproved-by: Carol <carol@example.com>\nApproved-by: Dana <dana@example.com>\nMerged-by: Dana <dana@example.com>\n";

fn replicas(n: u32) -> String {
    DEPLOY.replace("replicas: 2", &format!("replicas: {n}"))
}

#[test]
fn audited_from_reports_older_changes_as_before_tollgate() {
    if !openssh_available("audited_from_reports_older_changes_as_before_tollgate") {
        return;
    }
    let mut s = signed_repo();
    let a = push_to_main(
        &mut s,
        &[("envs/production/api.yaml", &replicas(3))],
        "Bob",
        "a",
        None,
        None,
    );
    let b = push_to_main(
        &mut s,
        &[("envs/production/api.yaml", &replicas(4))],
        "Bob",
        "b",
        None,
        None,
    );
    push_to_main(
        &mut s,
        &[(
            ".tollgate/policy.yaml",
            &format!("{POLICY}audited_from: {b}\n"),
        )],
        "Alice",
        "adopt tollgate",
        None,
        None,
    );
    let (code, rows) = audit(&s, &[]);
    assert_ne!(code, 0, "b and the policy change are still audited");
    assert_eq!(row_for(&rows, &a)["finding"], "before-tollgate");
    assert_eq!(row_for(&rows, &b)["finding"], "violation");
}

#[test]
fn signatures_required_from_reports_older_unsigned_changes_as_such_not_as_compliant() {
    if !openssh_available("signatures_required_from_reports_older_unsigned_changes") {
        return;
    }
    let mut s = signed_repo();
    let a = push_to_main(
        &mut s,
        &[("envs/production/api.yaml", &replicas(3))],
        "Bob",
        LEGACY_TRAILERS,
        None,
        None,
    );
    let b = push_to_main(
        &mut s,
        &[("envs/production/api.yaml", &replicas(4))],
        "Bob",
        LEGACY_TRAILERS,
        None,
        None,
    );
    let (_, before) = audit(&s, &[]);
    assert_eq!(
        row_for(&before, &a)["finding"],
        "violation",
        "no baseline yet"
    );
    push_to_main(
        &mut s,
        &[(
            ".tollgate/policy.yaml",
            &format!("{POLICY}signatures_required_from: {b}\n"),
        )],
        "Alice",
        "signing from b on",
        None,
        None,
    );
    let (_, rows) = audit(&s, &[]);
    let a_row = row_for(&rows, &a);
    assert_eq!(a_row["finding"], "unsigned-before-requirement", "{a_row:#}");
    assert!(
        a_row["why"]
            .as_str()
            .is_some_and(|w| w.starts_with("unsigned (before requirement)"))
    );
    assert_eq!(row_for(&rows, &b)["finding"], "violation");
}

#[test]
fn a_baseline_naming_no_commit_is_an_error() {
    if !openssh_available("a_baseline_naming_no_commit_is_an_error") {
        return;
    }
    let mut s = signed_repo();
    push_to_main(
        &mut s,
        &[(
            ".tollgate/policy.yaml",
            &format!("{POLICY}audited_from: 0123456789012345678901234567890123456789\n"),
        )],
        "Alice",
        "adopt tollgate",
        None,
        None,
    );
    let run = as_who(s.home.path(), &s.config, "Dana", &["audit", "verify"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("audited_from: \"0123456789012345678901234567890123456789\" is not a commit"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_passphrase_protected_key_signs_through_the_agent_and_never_prompts() {
    if !openssh_available("a_passphrase_protected_key_signs_through_the_agent_and_never_prompts") {
        return;
    }
    let s = signed_repo();
    // Carol's key, re-encrypted with a passphrase, and no agent to hold it.
    let status = Command::new("ssh-keygen")
        .args(["-q", "-p", "-P", "", "-N", "secret passphrase", "-f"])
        .arg(s.keys.private("Carol"))
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
    let config = with_one_key(&s, "encrypted", &s.keys.private("Carol"));
    let before = all_refs(&s.repo);
    let run = run(tollgate(s.home.path())
        .env("TOLLGATE_IDENTITY", format!("Carol <{}>", email("Carol")))
        .env_remove("SSH_AUTH_SOCK")
        .stdin(std::process::Stdio::null())
        .arg("--config")
        .arg(&config)
        .args(["approve", ID]));
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("ssh-agent"), "{}", run.stderr);
    assert_eq!(all_refs(&s.repo), before, "nothing was written");
}
