//! Renders are kept for the next look: `list` renders each distinct base once, a second
//! `list` or `history --rendered` renders nothing, and what decides (an approval's
//! digests) is rendered afresh. Renders are counted by putting a counting `kubectl` in
//! front of the real one.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, Run, kustomize_available, run, tollgate};

const KUSTOMIZATION: &str = "resources:\n- app.yaml\n";

fn app(replicas: u32, tag: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  replicas: {replicas}\n  template:\n    spec:\n      containers:\n      - name: api\n        image: ghcr.io/acme/api:{tag}\n"
    )
}

/// A folder with a `kubectl` (or `kustomize`) that writes a line to `calls` and runs
/// the real one.
fn counting_renderer(dir: &Path) -> (PathBuf, PathBuf) {
    let calls = dir.join("calls");
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let real = ["kubectl", "kustomize"]
        .iter()
        .find_map(|name| {
            std::env::split_paths(&path)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
                .map(|p| (*name, p))
        })
        .expect("a renderer on PATH");
    let script = bin.join(real.0);
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            calls.display(),
            real.1.display()
        ),
    )
    .expect("write the wrapper");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
            .expect("make it runnable");
    }
    (bin, calls)
}

/// Renders since the last look, and start counting again.
fn renders_since(calls: &Path) -> usize {
    let count = std::fs::read_to_string(calls)
        .map(|t| t.lines().count())
        .unwrap_or(0);
    let _ = std::fs::remove_file(calls);
    count
}

fn with_renderer(home: &Path, bin: &Path, config: &Path, args: &[&str]) -> Run {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin.to_path_buf()];
    paths.extend(std::env::split_paths(&path));
    let mut command: Command = tollgate(home);
    command
        .env("PATH", std::env::join_paths(paths).expect("a PATH"))
        .env("TOLLGATE_IDENTITY", "Dana <dana@example.com>")
        .arg("--config")
        .arg(config)
        .args(args);
    run(&mut command)
}

#[test]
fn list_renders_each_base_once_and_a_second_look_renders_nothing() {
    if !kustomize_available("list_renders_each_base_once_and_a_second_look_renders_nothing") {
        return;
    }
    let home = TempDir::new().expect("temp dir");
    let (bin, calls) = counting_renderer(home.path());
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    // Five states of main, four promotions branched from each: 5 bases, 20 heads.
    for base in 1..=5u32 {
        repo.commit_files(
            &[
                ("envs/prod/kustomization.yaml", KUSTOMIZATION),
                ("envs/prod/app.yaml", &app(base, "1.0")),
            ],
            "Alice",
            &format!("Scale to {base}"),
        );
        for n in 1..=4u32 {
            repo.branch(
                &format!("promote/b{base}-{n}"),
                &[("envs/prod/app.yaml", &app(base, &format!("{base}.{n}")))],
                "Bob",
                &format!("Release {base}.{n}"),
            );
        }
    }
    let config = repo.write_config(home.path(), "");

    let list = with_renderer(home.path(), &bin, &config, &["list", "--json"]).ok();
    assert_eq!(
        list.json().as_array().map(Vec::len),
        Some(20),
        "{}",
        list.stdout
    );
    assert_eq!(
        renders_since(&calls),
        5 + 20,
        "cold: each base once, each head once"
    );
    let again = with_renderer(home.path(), &bin, &config, &["list", "--json"]).ok();
    assert_eq!(renders_since(&calls), 0, "warm: nothing rendered");
    assert_eq!(again.json(), list.json(), "the same answer from the cache");

    // The bases are main's commits, already rendered; three new ones are not.
    for replicas in 6..=8u32 {
        repo.commit_files(
            &[("envs/prod/app.yaml", &app(replicas, "1.0"))],
            "Alice",
            &format!("Scale to {replicas}"),
        );
    }
    with_renderer(
        home.path(),
        &bin,
        &config,
        &["history", "--env", "prod", "--rendered", "--json"],
    )
    .ok();
    assert_eq!(renders_since(&calls), 3, "only what was never rendered");
    let history = with_renderer(
        home.path(),
        &bin,
        &config,
        &["history", "--env", "prod", "--rendered", "--json"],
    )
    .ok();
    assert_eq!(
        renders_since(&calls),
        0,
        "a second rendered history renders nothing"
    );
    assert_eq!(
        history.json().as_array().map(Vec::len),
        Some(8),
        "{}",
        history.stdout
    );

    // What decides is rendered afresh: an approval pins digests of its own render.
    with_renderer(
        home.path(),
        &bin,
        &config,
        &["approve", "test:promote/b5-1"],
    )
    .ok();
    assert!(renders_since(&calls) > 0, "an approval renders for itself");
}
