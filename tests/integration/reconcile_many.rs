//! `reconcile --all`: every environment with its own loop and lease, replicas sharing the
//! environments between them. Three replicas and thirty environments against the test API
//! server; one replica is killed (no goodbye), and every environment goes on being
//! reconciled by exactly one live holder.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, tollgate};
use crate::kube_api::{FakeApi, Recorded};
use crate::reconcile::{stop, wait_until};

const ENVIRONMENTS: usize = 30;
const BREAK_GLASS: &str = "\n\nBreak-glass: Carol <carol@example.com>\nReason: test\n";

fn env_name(n: usize) -> String {
    format!("e{n:02}")
}

fn lease_path(env: &str) -> String {
    format!("/apis/coordination.k8s.io/v1/namespaces/tollgate-system/leases/tollgate-test-{env}")
}

fn inventory_path(env: &str) -> String {
    format!("/api/v1/namespaces/tollgate-system/configmaps/tollgate-test-{env}")
}

struct Fleet {
    home: TempDir,
    config: std::path::PathBuf,
    api: FakeApi,
}

fn fleet() -> Fleet {
    let home = TempDir::new().expect("temp dir");
    let mut repo = EnvRepoBuilder::new(&home.path().join("env.git"));
    let files: Vec<(String, String)> = (0..ENVIRONMENTS)
        .map(|n| {
            let env = env_name(n);
            (
                format!("envs/{env}/config.yaml"),
                format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: {env}\ndata:\n  env: {env}\n"
                ),
            )
        })
        .collect();
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    repo.commit_files(
        &borrowed,
        "Carol",
        &format!("thirty environments{BREAK_GLASS}"),
    );
    let config = repo.write_config(home.path(), "");
    Fleet {
        home,
        config,
        api: FakeApi::start(),
    }
}

fn replica(fleet: &Fleet, who: &str) -> std::process::Child {
    tollgate(fleet.home.path())
        .arg("--config")
        .arg(&fleet.config)
        .args([
            "reconcile",
            "--all",
            "--leader-elect",
            "--lease-identity",
            who,
            "--lease-duration",
            "3s",
            "--interval",
            "1s",
            "--concurrency",
            "8",
            "--timeout",
            "5s",
        ])
        .arg("--kubeconfig")
        .arg(fleet.api.kubeconfig_as(fleet.home.path(), who))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start a replica")
}

/// Each environment's lease holder, for the environments whose lease is held now.
fn holders(api: &FakeApi) -> BTreeMap<String, String> {
    (0..ENVIRONMENTS)
        .filter_map(|n| {
            let env = env_name(n);
            let holder = api.object(&lease_path(&env))?["spec"]["holderIdentity"]
                .as_str()?
                .to_string();
            Some((env, holder))
        })
        .collect()
}

/// Per environment, who read its inventory (every pass starts there) in `requests`.
fn readers(requests: &[Recorded]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for request in requests.iter().filter(|r| r.method == "GET") {
        if let Some(env) = request
            .path
            .strip_prefix("/api/v1/namespaces/tollgate-system/configmaps/tollgate-test-")
        {
            out.entry(env.to_string())
                .or_default()
                .insert(request.who.clone());
        }
    }
    out
}

#[test]
fn three_replicas_share_thirty_environments_and_a_dead_ones_are_taken_over() {
    let fleet = fleet();
    let mut replicas: BTreeMap<&str, std::process::Child> = ["r1", "r2", "r3"]
        .into_iter()
        .map(|who| (who, replica(&fleet, who)))
        .collect();
    wait_until(
        "every environment reconciled and its lease held",
        Duration::from_secs(60),
        || {
            holders(&fleet.api).len() == ENVIRONMENTS
                && (0..ENVIRONMENTS)
                    .all(|n| fleet.api.object(&inventory_path(&env_name(n))).is_some())
        },
    );
    let before = holders(&fleet.api);
    let distinct: BTreeSet<&String> = before.values().collect();
    assert!(
        distinct.len() >= 2,
        "the replicas share the environments: {before:?}"
    );

    // Kill the replica holding the most, without giving its leases up.
    let victim = ["r1", "r2", "r3"]
        .into_iter()
        .max_by_key(|who| before.values().filter(|h| h == who).count())
        .expect("a replica");
    let taken: Vec<&String> = before
        .iter()
        .filter(|(_, h)| h.as_str() == victim)
        .map(|(env, _)| env)
        .collect();
    let mut dead = replicas.remove(victim).expect("the victim");
    dead.kill().expect("kill");
    dead.wait().expect("reaped");
    // Within a lease duration (3 s) and an interval, the survivors hold everything.
    wait_until(
        "the dead replica's environments are taken over",
        Duration::from_secs(20),
        || {
            let now = holders(&fleet.api);
            now.len() == ENVIRONMENTS && now.values().all(|h| h != victim)
        },
    );

    // From now on, each environment is reconciled by exactly one replica: its holder.
    fleet.api.clear_requests();
    std::thread::sleep(Duration::from_millis(2500));
    let requests = fleet.api.requests();
    let now = holders(&fleet.api);
    let read = readers(&requests);
    for n in 0..ENVIRONMENTS {
        let env = env_name(n);
        let who = read.get(&env).cloned().unwrap_or_default();
        assert_eq!(
            who,
            BTreeSet::from([now[&env].clone()]),
            "{env} (was {}'s: {}) is reconciled by its holder alone",
            victim,
            taken.contains(&&env)
        );
    }
    for (_, child) in replicas {
        let output = stop(child);
        assert_eq!(output.status.code(), Some(0));
    }
}
