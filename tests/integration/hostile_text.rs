//! Text a person with push access wrote (commit subjects, author names, manifest values)
//! reaches the terminal shown, never obeyed: no escape sequence, bell, carriage return or
//! C1 control from a repository is written to stdout or stderr by any text output.

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, as_who};

/// Recolour, hyperlink, retitle, clear, ring, return: each as a repository can carry it.
const HOSTILE: &str = "\u{1b}[31mred \u{1b}]8;;http://evil.example\u{7}link\u{1b}]8;;\u{7} \u{1b}]0;title\u{7} \u{1b}[2J\r\u{9b}1A";

/// The bytes a terminal would obey: ESC, BEL, CR, and C1 CSI as UTF-8.
fn obeyed_bytes(bytes: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for (i, pair) in bytes.windows(2).enumerate() {
        if pair == [0xc2, 0x9b] {
            found.push(format!("C1 CSI at byte {i}"));
        }
    }
    for (i, b) in bytes.iter().enumerate() {
        if matches!(b, 0x1b | 0x07 | b'\r') {
            found.push(format!("{b:#04x} at byte {i}"));
        }
    }
    found
}

#[test]
fn escape_sequences_from_a_repository_never_reach_the_terminal() {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    let cm = |value: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata:\n  motd: \"{value}\"\n"
        )
    };
    repo.commit_files(&[("envs/prod/cm.yaml", &cm("hello"))], "Alice", "start");
    // YAML's own escapes carry the control characters into the value.
    let yaml_value = "\\e[31mred \\e]0;title\\a \\e[2J\\r";
    repo.branch(
        "promote/hostile",
        &[("envs/prod/cm.yaml", &cm(yaml_value))],
        &format!("Mallory {HOSTILE}"),
        &format!("Update motd {HOSTILE}"),
    );
    let promotion = repo.commit_on(
        repo.head,
        &[("envs/prod/cm.yaml", Some(cm(yaml_value).as_bytes()))],
        &format!("Mallory {HOSTILE}"),
        &format!("Direct {HOSTILE}"),
    );
    repo.repo
        .update_ref(
            "refs/heads/main",
            repo.head,
            promotion,
            "push",
            &tollgate::git::write::Signature {
                name: "Mallory".into(),
                email: "mallory@example.com".into(),
                time: 1_795_000_000,
            },
        )
        .expect("push");
    let config = repo.write_config(home.path(), "");
    let commit = promotion.to_string();
    let runs: [&[&str]; 7] = [
        &["list"],
        &["show", "test:promote/hostile"],
        &["diff", "test:promote/hostile"],
        &["diff", "test:promote/hostile", "--raw"],
        &["history", "--env", "prod"],
        &["show", &commit],
        &["audit", "verify"],
    ];
    for args in runs {
        let out = as_who(home.path(), &config, "Dana", args);
        assert!(!out.stderr.contains("panicked"), "{args:?}: {}", out.stderr);
        for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let found = obeyed_bytes(text.as_bytes());
            assert!(found.is_empty(), "{args:?} {stream}: {found:?} in\n{text}");
        }
        assert!(
            out.stdout.contains("\\e[31mred") || args == ["audit", "verify"],
            "{args:?}: the escape is shown as text: {}\n{}",
            out.stdout,
            out.stderr
        );
    }
}
