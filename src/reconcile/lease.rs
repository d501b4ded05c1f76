//! Leader election with a `coordination.k8s.io/v1` Lease, for running reconcile with more
//! than one replica: only the replica holding the lease reconciles; the others stand by
//! and take over when it stops renewing. Creation and every change are optimistic
//! (create fails if it exists, replace fails if the lease changed since it was read), so
//! two replicas can never both believe they hold it.

use std::time::Duration;

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

impl Cluster {
    fn leases(&self, namespace: &str) -> Api<Lease> {
        Api::namespaced(self.client(), namespace)
    }

    /// Take or renew the lease at `now`, or learn who holds it.
    pub async fn elect(
        &self,
        config: &LeaseConfig,
        now: jiff::Timestamp,
    ) -> Result<Leadership, ClusterError> {
        let api = self.leases(&config.namespace);
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
        let held_by_other = !holder.is_empty()
            && holder != config.identity
            && expires.is_some_and(|until| until > now);
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

    /// Give the lease up (on the way out), so that a standby takes over at once.
    pub async fn release(&self, config: &LeaseConfig) -> Result<(), ClusterError> {
        let api = self.leases(&config.namespace);
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
