//! The text tables as a person reads them: columns line up whatever the script of the
//! text, names are not cut, and nothing is an empty cell or a silent nothing.

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, deployment, tollgate_with};

fn width(text: &str) -> usize {
    tollgate::text::display_width(text)
}

#[test]
fn columns_line_up_and_nothing_is_blank_or_cut() {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    let long = "production-eu-west-1-blue";
    repo.commit_files(
        &[(&format!("envs/{long}/api.yaml"), &deployment("1.0", 2))],
        "Alice",
        "start",
    );
    repo.branch(
        "promote/cjk",
        &[(&format!("envs/{long}/api.yaml"), &deployment("1.1", 2))],
        "Bob",
        "本番環境へ api 1.1 を昇格",
    );
    repo.branch(
        "promote/docs",
        &[("README.md", "notes\n")],
        "Bob",
        "Docs only",
    );
    repo.commit_files(
        &[(&format!("envs/{long}/api.yaml"), &deployment("1.2", 2))],
        "Mallory",
        "Direct push",
    );
    let config = repo.write_config(home.path(), "");

    let list = tollgate_with(home.path(), &config, &["list"]).ok().stdout;
    let lines: Vec<&str> = list.lines().collect();
    let summary_at = |line: &str, needle: &str| {
        let at = line
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} in {line}"));
        width(&line[..at])
    };
    let header = summary_at(lines[0], "SUMMARY");
    let cjk = lines
        .iter()
        .find(|l| l.contains("本番"))
        .expect("the CJK row");
    let docs = lines
        .iter()
        .find(|l| l.contains("Docs only"))
        .expect("the docs row");
    assert_eq!(summary_at(cjk, "[conflicts]"), header, "{list}");
    assert_eq!(summary_at(docs, "no environment changed"), header, "{list}");
    assert!(
        docs.contains(" - "),
        "an empty environments cell says so: {docs}"
    );

    let audit = tollgate_with(home.path(), &config, &["audit", "verify"]).stdout;
    assert!(
        audit.contains(long),
        "environment names are not cut: {audit}"
    );

    // A config whose environments match nothing says so instead of listing nothing.
    let text = std::fs::read_to_string(&config).expect("config");
    let wrong = home.path().join("wrong.yaml");
    std::fs::write(
        &wrong,
        format!("{text}    environments:\n      - {{name: x, path: deploy/x}}\n"),
    )
    .expect("config");
    let listed = tollgate_with(home.path(), &wrong, &["list"]).ok();
    assert!(
        listed
            .stderr
            .contains("none of the configured environment paths exists on main (deploy/x)"),
        "{}",
        listed.stderr
    );
}

#[test]
fn yaml_output_holds_the_same_data_as_json() {
    let (home, config) = crate::demo::demo();
    let data = |args: &[&str]| -> serde_json::Value {
        let out = crate::common::run(
            crate::common::tollgate(home.path())
                .arg("--config")
                .arg(&config)
                .args(args),
        )
        .ok()
        .stdout;
        match args.contains(&"yaml") {
            true => serde_saphyr::from_str(&out).unwrap_or_else(|e| panic!("YAML: {e}\n{out}")),
            false => serde_json::from_str(&out).unwrap_or_else(|e| panic!("JSON: {e}\n{out}")),
        }
    };
    for command in [
        &["list"][..],
        &["history", "--repo", "shop", "--env", "production"][..],
        &["diff", "shop:promote/web-2.3.0-staging"][..],
    ] {
        let json = data(&[command, &["--json"]].concat());
        let yaml = data(&[command, &["-o", "yaml"]].concat());
        assert_eq!(yaml, json, "{command:?}");
    }
}
