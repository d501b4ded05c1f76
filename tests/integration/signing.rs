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
    let config = s.home.path().join("mallory.yaml");
    let text = std::fs::read_to_string(&s.config).expect("config");
    let repos = &text[text.find("repos:").expect("repos")..];
    std::fs::write(
        &config,
        format!(
            "signing_key: {}\n{repos}",
            s.keys.private("Mallory").display()
        ),
    )
    .expect("write config");
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
    let config = s.home.path().join("agent.yaml");
    let text = std::fs::read_to_string(&s.config).expect("config");
    let repos = &text[text.find("repos:").expect("repos")..];
    std::fs::write(
        &config,
        format!("signing_key: {}\n{repos}", s.keys.public("Carol").display()),
    )
    .expect("write config");
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
