//! List items are compared by the keys Kubernetes merges them by: a sidecar added in
//! front of a container is one added container, and a reordered env var is a move.

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, tollgate_with};

const APP: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  template:
    spec:
      containers:
      - name: api
        image: ghcr.io/acme/api:1.0
        env:
        - name: MODE
          value: fast
        - name: LEVEL
          value: info
        ports:
        - containerPort: 8080
";

// (A string continued with `\` would drop the first line's indentation.)
const SIDECAR: &str = concat!(
    "      - name: proxy\n",
    "        image: ghcr.io/acme/proxy:2.0\n",
    "        ports:\n",
    "        - containerPort: 15001\n",
);

#[test]
fn a_sidecar_in_front_is_one_added_container_and_a_reorder_is_a_move() {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(&[("envs/prod/api.yaml", APP)], "Alice", "start");
    let with_sidecar = APP
        .replace("      containers:\n", &format!("      containers:\n{SIDECAR}"))
        .replace(
            "        - name: MODE\n          value: fast\n        - name: LEVEL\n          value: info\n",
            "        - name: LEVEL\n          value: info\n        - name: MODE\n          value: fast\n",
        );
    repo.branch(
        "promote/mesh",
        &[("envs/prod/api.yaml", &with_sidecar)],
        "Bob",
        "Add the mesh proxy",
    );
    let config = repo.write_config(home.path(), "");

    let json = tollgate_with(
        home.path(),
        &config,
        &["diff", "test:promote/mesh", "--json"],
    )
    .ok()
    .json();
    let fields = &json["environments"][0]["objects"][0]["fields"];
    let paths: Vec<&str> = fields
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["path"].as_str().expect("a path"))
        .collect();
    assert_eq!(
        paths,
        [
            "spec.template.spec.containers[name=api].env[name=MODE]",
            "spec.template.spec.containers[name=proxy]",
        ],
        "{json:#}"
    );
    assert_eq!(fields[0]["moved"], serde_json::json!({"from": 0, "to": 1}));
    assert_eq!(fields[1]["old"], serde_json::Value::Null);
    assert_eq!(fields[1]["new"]["image"], "ghcr.io/acme/proxy:2.0");

    let text = tollgate_with(home.path(), &config, &["diff", "test:promote/mesh"])
        .ok()
        .stdout;
    assert!(
        text.contains("containers[name=api].env[name=MODE]: moved from position 0 to 1"),
        "{text}"
    );
    assert!(
        text.contains("containers[name=proxy]: (absent) → {"),
        "{text}"
    );
}
