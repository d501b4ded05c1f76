//! `tollgate reconcile`: the deployment half of GitOps. It applies the approved state of
//! one environment to a cluster and refuses what was not approved:
//! source → verify → render → plan → apply → prune → health → status, each step timed.

pub mod cluster;
pub mod controller;
pub mod drift;
pub mod health;
pub mod inventory;
pub mod lease;
pub mod metrics;
pub mod plan;
pub mod run;
pub mod status;
pub mod verify;
