//! Leader election with a `coordination.k8s.io/v1` Lease, for running reconcile with more
//! than one replica: only the replica holding the lease reconciles; the others stand by
//! and take over when it stops renewing. Creation and every change are optimistic
//! (create fails if it exists, replace fails if the lease changed since it was read), so
//! two replicas can never both believe they hold it. A held lease is renewed in the
//! background for as long as it is kept ([`Cluster::keep`]), a pass that waits minutes
//! for rollouts included, and is given up as lost the moment this replica can no longer
//! show it holds it: then the pass stops writing.
//!
//! Not kube-lease-manager: it detects a rival through server-side-apply field conflicts
//! and strategic-merge patches, which the tests' API server does not model; the
//! resourceVersion compare-and-swap here is what that server checks, so the property
//! that matters (one writer) is tested against it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};

use super::cluster::{Cluster, ClusterError, describe};

#[derive(Debug, Clone)]
pub struct LeaseConfig {
    pub name: String,
    pub namespace: String,
    /// Who this replica is (the pod name in a cluster).
    pub identity: String,
    /// How long a lease holds without renewal.
    pub duration: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leadership {
    Leader,
    /// Another replica holds the lease until `until`.
    Standby {
        holder: String,
        until: jiff::Timestamp,
    },
}

fn spec(
    config: &LeaseConfig,
    now: jiff::Timestamp,
    acquired: jiff::Timestamp,
    transitions: i32,
) -> LeaseSpec {
    LeaseSpec {
        holder_identity: Some(config.identity.clone()),
        lease_duration_seconds: Some(config.duration.as_secs().max(1) as i32),
        acquire_time: Some(MicroTime(acquired)),
        renew_time: Some(MicroTime(now)),
        lease_transitions: Some(transitions),
        ..LeaseSpec::default()
    }
}

/// A lease this replica holds, renewed in the background until dropped.
pub struct HeldLease {
    state: Arc<Held>,
    task: tokio::task::JoinHandle<()>,
}

/// What the renewing task and the writers share.
struct Held {
    /// Another replica took it, or renewing failed for good.
    lost: AtomicBool,
    /// Until when the last renewal shows it is this replica's (less the margin), as
    /// milliseconds since `since`: past that, it is lost whether or not the renewing task
    /// has woken up to say so.
    safe_until_ms: AtomicU64,
    since: Instant,
}

impl Held {
    fn safe_until(&self, until: Instant) {
        let ms = until.saturating_duration_since(self.since).as_millis() as u64;
        self.safe_until_ms.store(ms, Ordering::Relaxed);
    }

    fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
            || self.since.elapsed().as_millis() as u64 >= self.safe_until_ms.load(Ordering::Relaxed)
    }
}

impl HeldLease {
    /// Whether the lease can no longer be shown to be this replica's: no write may start.
    pub fn is_lost(&self) -> bool {
        self.state.is_lost()
    }
}

impl Drop for HeldLease {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Cluster {
    /// Keep `config`'s lease, just won, renewed every third of its duration in the
    /// background. It is lost when another replica holds it, or once no renewal has
    /// succeeded for most of its duration (a fifth is kept as a margin for clocks and the
    /// request in flight): past that, another replica may take it.
    pub fn keep(&self, config: &LeaseConfig) -> HeldLease {
        let margin = config.duration / 5;
        let won = Instant::now();
        let state = Arc::new(Held {
            lost: AtomicBool::new(false),
            safe_until_ms: AtomicU64::new(0),
            since: won,
        });
        state.safe_until(won + config.duration - margin);
        let client = self.client();
        let config = config.clone();
        let shared = state.clone();
        let task = tokio::spawn(async move {
            let period = (config.duration / 3).max(Duration::from_millis(200));
            let mut held_until = won + config.duration;
            loop {
                let safe_until = held_until - margin;
                let wait = period.min(safe_until.saturating_duration_since(Instant::now()));
                tokio::time::sleep(wait).await;
                let asked = Instant::now();
                match elect(&client, &config, jiff::Timestamp::now()).await {
                    Ok(Leadership::Leader) => {
                        held_until = asked + config.duration;
                        shared.safe_until(held_until - margin);
                    }
                    Ok(Leadership::Standby { holder, .. }) => {
                        tracing::warn!(lease = %config.name, %holder, "lease lost to another replica");
                        shared.lost.store(true, Ordering::Relaxed);
                        return;
                    }
                    Err(error) if Instant::now() + margin >= held_until => {
                        tracing::warn!(lease = %config.name, %error, "lease not renewed in time: given up as lost");
                        shared.lost.store(true, Ordering::Relaxed);
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(lease = %config.name, %error, "lease renewal failed; trying again");
                    }
                }
            }
        });
        HeldLease { state, task }
    }

    /// Take or renew the lease at `now`, or learn who holds it.
    pub async fn elect(
        &self,
        config: &LeaseConfig,
        now: jiff::Timestamp,
    ) -> Result<Leadership, ClusterError> {
        elect(&self.client(), config, now).await
    }
}

/// Take or renew the lease at `now`, or learn who holds it.
async fn elect(
    client: &kube::Client,
    config: &LeaseConfig,
    now: jiff::Timestamp,
) -> Result<Leadership, ClusterError> {
    let api: Api<Lease> = Api::namespaced(client.clone(), &config.namespace);
    let what = format!("lease {}/{}", config.namespace, config.name);
    let error = |e: kube::Error| ClusterError::Api {
        what: what.clone(),
        message: describe(&e).1,
    };
    let lost = |holder: &str| Leadership::Standby {
        holder: holder.to_string(),
        until: now,
    };
    let Some(mut lease) = api.get_opt(&config.name).await.map_err(error)? else {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(config.name.clone()),
                namespace: Some(config.namespace.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(spec(config, now, now, 0)),
        };
        return match api.create(&PostParams::default(), &lease).await {
            Ok(_) => Ok(Leadership::Leader),
            // Another replica created it first.
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(lost("another replica")),
            Err(e) => Err(error(e)),
        };
    };
    let current = lease.spec.clone().unwrap_or_default();
    let holder = current.holder_identity.clone().unwrap_or_default();
    let duration =
        jiff::SignedDuration::from_secs(current.lease_duration_seconds.unwrap_or(0).into());
    let renewed = current.renew_time.as_ref().map(|t| t.0);
    let expires = renewed.and_then(|r| r.checked_add(duration).ok());
    let held_by_other =
        !holder.is_empty() && holder != config.identity && expires.is_some_and(|until| until > now);
    if held_by_other {
        return Ok(Leadership::Standby {
            holder,
            until: expires.unwrap_or(now),
        });
    }
    let (acquired, transitions) = if holder == config.identity {
        (
            current.acquire_time.map(|t| t.0).unwrap_or(now),
            current.lease_transitions.unwrap_or(0),
        )
    } else {
        (now, current.lease_transitions.unwrap_or(0) + 1)
    };
    lease.spec = Some(spec(config, now, acquired, transitions));
    // `replace` carries the resourceVersion read above: if the lease changed since,
    // the API server refuses with 409 and this replica stands by.
    match api
        .replace(&config.name, &PostParams::default(), &lease)
        .await
    {
        Ok(_) => Ok(Leadership::Leader),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(lost(&holder)),
        Err(e) => Err(error(e)),
    }
}

impl Cluster {
    /// Give the lease up (on the way out), so that a standby takes over at once.
    pub async fn release(&self, config: &LeaseConfig) -> Result<(), ClusterError> {
        let api: Api<Lease> = Api::namespaced(self.client(), &config.namespace);
        let what = format!("lease {}/{}", config.namespace, config.name);
        let error = |e: kube::Error| ClusterError::Api {
            what: what.clone(),
            message: describe(&e).1,
        };
        let Some(mut lease) = api.get_opt(&config.name).await.map_err(error)? else {
            return Ok(());
        };
        let Some(spec) = lease.spec.as_mut() else {
            return Ok(());
        };
        if spec.holder_identity.as_deref() != Some(config.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        match api
            .replace(&config.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) | Err(kube::Error::Api(_)) => Ok(()),
            Err(e) => Err(error(e)),
        }
    }
}
