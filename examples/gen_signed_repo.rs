//! Generate the signed-audit benchmark repository: a bare repository whose `main` is a
//! line of PROMOTIONS signed merges (default 50,000, so 100,000 commits), each bringing
//! in one promotion commit that edits one file of one of 10 environments, approved by a
//! signed note. Every merge is signed by Carol and every approval by Dana, with keys
//! listed in `.tollgate/allowed_signers`, exactly as tollgate writes them; the keys are
//! derived from fixed seeds, so the same arguments give the same commit ids.
//!
//! usage: cargo run --release --example gen_signed_repo -- DIR [PROMOTIONS] [unsigned]
//!
//! Packs the result with `git repack -ad` (no commit-graph, like the history benchmark)
//! and writes `config.yaml` beside DIR.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use sha2::Digest;
use tollgate::approvals::{Approval, NOTES_REF};
use tollgate::git::Repo;
use tollgate::git::write::{FileChange, Signature};
use tollgate::identity::Identity;
use tollgate::signing::{ALLOWED_SIGNERS_PATH, SigningKey};

const ENVS: u64 = 10;

fn key(email: &str) -> SigningKey {
    let seed: [u8; 32] = sha2::Sha256::digest(format!("bench key {email}").as_bytes()).into();
    let keypair = ssh_key::private::Ed25519Keypair::from_seed(&seed);
    let private = ssh_key::PrivateKey::new(ssh_key::private::KeypairData::Ed25519(keypair), email)
        .expect("an ed25519 key");
    SigningKey::in_memory(private, email)
}

fn deployment(env: u64, version: u64) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  namespace: env{env}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: app\n        image: ghcr.io/acme/app:1.0.{version}\n"
    )
}

fn config(env: u64, version: u64) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\n  namespace: env{env}\ndata:\n  revision: \"{version}\"\n"
    )
}

fn file(path: String, text: String) -> FileChange {
    FileChange {
        path,
        content: Some(text.into_bytes()),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(target) = args.next() else {
        eprintln!("usage: gen_signed_repo DIR [PROMOTIONS]");
        std::process::exit(2);
    };
    let promotions: u64 = args.next().map_or(50_000, |n| n.parse().expect("a number"));
    let target = Path::new(&target);
    if target.exists() {
        eprintln!("{} exists; remove it first", target.display());
        std::process::exit(2);
    }
    gix::init_bare(target).expect("init");
    std::fs::write(target.join("HEAD"), "ref: refs/heads/main\n").expect("HEAD");
    let repo = Repo::open("bench", target).expect("open");

    let (carol, dana) = (key("carol@example.com"), key("dana@example.com"));
    let mut signers = String::new();
    for (email, key) in [("carol@example.com", &carol), ("dana@example.com", &dana)] {
        let public = key.public_key().to_openssh().expect("public key");
        signers.push_str(&format!("{email} {public}\n"));
    }
    let person = |name: &str, time: i64| Signature {
        name: name.to_string(),
        email: format!("{}@example.com", name.to_lowercase()),
        time,
    };

    // `unsigned` as a third argument: the same history with no keys listed and nothing
    // signed, for comparing with the audit of a repository that does not sign.
    let unsigned = args.next().as_deref() == Some("unsigned");
    let mut files = vec![file("README.md".into(), "benchmark\n".into())];
    if !unsigned {
        files.push(file(ALLOWED_SIGNERS_PATH.into(), signers));
    }
    for env in 0..ENVS {
        files.push(file(
            format!("envs/env{env}/deploy.yaml"),
            deployment(env, 0),
        ));
        files.push(file(format!("envs/env{env}/config.yaml"), config(env, 0)));
    }
    let mut time = 1_700_000_000i64;
    let empty = gix::ObjectId::empty_tree(gix::hash::Kind::Sha1);
    let tree = repo.write_tree(empty, &files).expect("tree");
    let alice = person("Alice", time);
    let mut main = repo
        .write_commit(tree, &[], &alice, &alice, "bootstrap\n")
        .expect("commit");

    let mut notes: BTreeMap<String, String> = BTreeMap::new();
    let mut seed: u64 = 12345;
    for i in 1..=promotions {
        seed = (seed * 1_103_515_245 + 12_345) % (1 << 31);
        let env = seed % ENVS;
        time += 60 + (seed % 600) as i64;
        let change = if seed.is_multiple_of(2) {
            file(format!("envs/env{env}/deploy.yaml"), deployment(env, i))
        } else {
            file(format!("envs/env{env}/config.yaml"), config(env, i))
        };
        let tree = repo
            .write_tree(repo.tree_of(main).expect("tree"), &[change])
            .expect("tree");
        let ci = person("CI", time);
        let head = repo
            .write_commit(tree, &[main], &ci, &ci, &format!("change {i}\n"))
            .expect("commit");
        let approval = Approval {
            by: Identity {
                name: "Dana".into(),
                email: "dana@example.com".into(),
            },
            at: time + 30,
            head: head.to_string(),
            base: main.to_string(),
            comment: None,
            digests: BTreeMap::new(),
            branch: Some("main".into()),
            promotion: Some(format!("promote/change-{i}")),
            acknowledged_unrendered: Vec::new(),
            signed: None,
        };
        let line = if unsigned {
            serde_json::to_string(&approval)
        } else {
            let approval = approval.sign(&dana).expect("sign the approval");
            serde_json::to_string(&approval.signed.expect("signed"))
        };
        notes.insert(head.to_string(), line.expect("json") + "\n");
        let merger = person("Carol", time + 60);
        let message = format!(
            "Merge promotion bench:promote/change-{i}\n\nchange {i}\n\nPromotion: bench:promote/change-{i}\nApproved-by: Dana <dana@example.com>\nMerged-by: Carol <carol@example.com>\n"
        );
        main = repo
            .write_signed_commit(
                tree,
                &[main, head],
                &merger,
                &merger,
                &message,
                (!unsigned).then_some(&carol),
            )
            .expect("merge");
        if i.is_multiple_of(10_000) {
            eprintln!("{i} promotions");
        }
    }
    let note_files: Vec<FileChange> = notes
        .into_iter()
        .map(|(sha, text)| file(sha, text))
        .collect();
    let notes_tree = repo.write_tree(empty, &note_files).expect("notes tree");
    let sig = person("Dana", time);
    let notes_commit = repo
        .write_commit(notes_tree, &[], &sig, &sig, "approvals\n")
        .expect("notes commit");
    repo.update_ref("refs/heads/main", None, main, "bench", &sig)
        .expect("main");
    repo.update_ref(NOTES_REF, None, notes_commit, "bench", &sig)
        .expect("notes");
    let status = Command::new("git")
        .args(["-c", "gc.writeCommitGraph=false", "repack", "-adq"])
        .current_dir(target)
        .status()
        .expect("git repack");
    assert!(status.success(), "git repack");
    let target = std::fs::canonicalize(target).expect("absolute path");
    let config = target.parent().expect("parent").join("config.yaml");
    std::fs::write(
        config,
        format!("repos:\n  - name: bench\n    path: {}\n", target.display()),
    )
    .expect("config");
}
