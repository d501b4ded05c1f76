//! Render inputs that are not in git (`supplied:`): a generator's `.env` copied from an
//! example in the repository, a secret one read from this machine. The render uses them,
//! every output says which inputs did not come from git, a Secret made from one shows
//! fingerprints, and a supplied file that is missing is an error naming it.

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, as_who, kustomize_available};

const KUSTOMIZATION: &str = "resources: [deploy.yaml]\nconfigMapGenerator:\n- name: app\n  envs: [app.env]\nsecretGenerator:\n- name: creds\n  envs: [secrets.env]\ngeneratorOptions:\n  disableNameSuffixHash: true\n";
const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  selector:\n    matchLabels: {app: api}\n  template:\n    metadata:\n      labels: {app: api}\n    spec:\n      containers:\n      - name: api\n        image: ghcr.io/acme/api:1.0\n";

#[test]
fn supplied_inputs_are_rendered_and_said_not_to_come_from_git() {
    if !kustomize_available("supplied_inputs_are_rendered_and_said_not_to_come_from_git") {
        return;
    }
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[
            ("envs/production/kustomization.yaml", KUSTOMIZATION),
            ("envs/production/deploy.yaml", DEPLOYMENT),
            ("envs/production/app.env.example", "LOG_LEVEL=info\n"),
        ],
        "Alice",
        "Production, its .env files made by the pipeline",
    );
    let secrets = home.path().join("prod-secrets.env");
    std::fs::write(&secrets, "DB_PASSWORD=s3cr3t-on-this-machine\n").expect("write");
    let config = repo.write_config(
        home.path(),
        &format!(
            "      - {{name: production, path: envs/production, supplied: [{{path: envs/production/app.env, copy: envs/production/app.env.example}}, {{path: envs/production/secrets.env, local: {}}}]}}\n",
            secrets.display()
        ),
    );
    repo.branch(
        "promote/debug",
        &[("envs/production/app.env.example", "LOG_LEVEL=debug\n")],
        "Bob",
        "Debug logging",
    );
    let id = "test:promote/debug";
    let diff = as_who(home.path(), &config, "Dana", &["diff", id, "--json"])
        .ok()
        .json();
    let env = &diff["environments"][0];
    let objects: Vec<String> = env["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| format!("{}/{}", o["kind"], o["name"]).replace('"', ""))
        .collect();
    assert_eq!(objects, ["ConfigMap/app"], "{diff:#}");
    let warnings = env["warnings"].to_string();
    assert!(
        warnings.contains(
            "not from git: envs/production/app.env is a copy of envs/production/app.env.example"
        ) && warnings.contains(&format!(
            "not from git: envs/production/secrets.env is {} on this machine (sha256:",
            secrets.display()
        )),
        "{warnings}"
    );
    let text = as_who(home.path(), &config, "Dana", &["diff", id])
        .ok()
        .stdout;
    assert!(
        text.contains("not from git") && text.contains("LOG_LEVEL: debug"),
        "{text}"
    );
    for output in [diff.to_string(), text] {
        assert!(!output.contains("s3cr3t-on-this-machine"), "{output}");
    }

    // The file the config names is gone: an error that names it, not a render without it.
    std::fs::remove_file(&secrets).expect("remove");
    let out = as_who(home.path(), &config, "Dana", &["diff", id]);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains(&format!(
            "supplied: envs/production/secrets.env is to be read from {} on this machine",
            secrets.display()
        )),
        "{all}"
    );
    assert!(!all.contains("no rendered change"), "{all}");
}
