//! Whether an applied workload has rolled out (pure): Deployments, StatefulSets and
//! DaemonSets whose controller has seen the new generation and brought every replica up
//! to date and available, Jobs that completed. Other kinds have no rollout to wait for.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "detail", rename_all = "kebab-case")]
pub enum Health {
    Ready,
    Progressing(String),
    Failed(String),
}

fn int(value: &Value, pointer: &str) -> Option<i64> {
    value.pointer(pointer).and_then(Value::as_i64)
}

fn condition<'a>(live: &'a Value, kind: &str) -> Option<&'a Value> {
    live.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn is_true(condition: Option<&Value>) -> bool {
    condition
        .and_then(|c| c.get("status"))
        .and_then(Value::as_str)
        == Some("True")
}

/// The rollout state of a live object of `kind`; `None` for kinds without a rollout.
pub fn health_of(group: &str, kind: &str, live: &Value) -> Option<Health> {
    let generation = int(live, "/metadata/generation").unwrap_or(0);
    let observed = int(live, "/status/observedGeneration").unwrap_or(-1);
    let seen = observed >= generation;
    let waiting = |what: String| Some(Health::Progressing(what));
    match (group, kind) {
        ("apps", "Deployment") => {
            if let Some(c) = condition(live, "Progressing")
                && c.get("reason").and_then(Value::as_str) == Some("ProgressDeadlineExceeded")
            {
                let message = c.get("message").and_then(Value::as_str).unwrap_or("");
                return Some(Health::Failed(format!(
                    "progress deadline exceeded: {message}"
                )));
            }
            let want = int(live, "/spec/replicas").unwrap_or(1);
            let updated = int(live, "/status/updatedReplicas").unwrap_or(0);
            let available = int(live, "/status/availableReplicas").unwrap_or(0);
            let total = int(live, "/status/replicas").unwrap_or(0);
            if !seen {
                waiting("the controller has not seen the new generation yet".into())
            } else if updated < want || total > updated {
                waiting(format!("{updated} of {want} replicas updated"))
            } else if available < want {
                waiting(format!("{available} of {want} replicas available"))
            } else {
                Some(Health::Ready)
            }
        }
        ("apps", "StatefulSet") => {
            let want = int(live, "/spec/replicas").unwrap_or(1);
            let updated = int(live, "/status/updatedReplicas").unwrap_or(0);
            let ready = int(live, "/status/readyReplicas").unwrap_or(0);
            if !seen {
                waiting("the controller has not seen the new generation yet".into())
            } else if updated < want {
                waiting(format!("{updated} of {want} replicas updated"))
            } else if ready < want {
                waiting(format!("{ready} of {want} replicas ready"))
            } else {
                Some(Health::Ready)
            }
        }
        ("apps", "DaemonSet") => {
            let want = int(live, "/status/desiredNumberScheduled").unwrap_or(0);
            let updated = int(live, "/status/updatedNumberScheduled").unwrap_or(0);
            let available = int(live, "/status/numberAvailable").unwrap_or(0);
            if !seen {
                waiting("the controller has not seen the new generation yet".into())
            } else if updated < want || available < want {
                waiting(format!("{available} of {want} pods available and updated"))
            } else {
                Some(Health::Ready)
            }
        }
        ("batch", "Job") => {
            if is_true(condition(live, "Failed")) {
                Some(Health::Failed("the job failed".into()))
            } else if is_true(condition(live, "Complete")) {
                Some(Health::Ready)
            } else {
                waiting("running".into())
            }
        }
        _ => None,
    }
}

/// Whether an applied CRD is established, so that objects of its kind can be applied.
pub fn crd_established(live: &Value) -> bool {
    is_true(condition(live, "Established"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_deployment_is_ready_when_every_replica_is_updated_and_available() {
        let mut live = json!({
            "metadata": {"generation": 2},
            "spec": {"replicas": 3},
            "status": {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}
        });
        assert!(matches!(
            health_of("apps", "Deployment", &live),
            Some(Health::Progressing(_))
        ));
        live["status"]["observedGeneration"] = json!(2);
        live["status"]["updatedReplicas"] = json!(1);
        live["status"]["replicas"] = json!(4);
        assert_eq!(
            health_of("apps", "Deployment", &live),
            Some(Health::Progressing("1 of 3 replicas updated".into()))
        );
        live["status"]["updatedReplicas"] = json!(3);
        live["status"]["replicas"] = json!(3);
        assert_eq!(health_of("apps", "Deployment", &live), Some(Health::Ready));
        live["status"]["conditions"] = json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "x"}]);
        assert!(matches!(
            health_of("apps", "Deployment", &live),
            Some(Health::Failed(_))
        ));
    }

    #[test]
    fn jobs_complete_or_fail_and_config_has_no_rollout() {
        let done = json!({"status": {"conditions": [{"type": "Complete", "status": "True"}]}});
        assert_eq!(health_of("batch", "Job", &done), Some(Health::Ready));
        let failed = json!({"status": {"conditions": [{"type": "Failed", "status": "True"}]}});
        assert!(matches!(
            health_of("batch", "Job", &failed),
            Some(Health::Failed(_))
        ));
        assert_eq!(health_of("", "ConfigMap", &json!({})), None);
    }
}
