//! The reconcile loop of an environment: elect (with `--leader-elect`), pass, wait for
//! the interval or termination, again. The lease is kept renewed in the background for as
//! long as this replica holds it; a pass stops writing the moment it is lost, and the
//! loop goes back to standing by. [`run_many`] runs one such loop per environment, each
//! with its own interval and lease, passes bounded by a shared number of permits, so that
//! replicas share the environments between them. What happens is told to the caller as
//! [`Event`]s: the faces print them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::cluster::Cluster;
use super::lease::{HeldLease, Leadership, LeaseConfig};
use super::metrics::Metrics;
use super::run::{Halt, ReconcileError, ReconcileOptions, Report, reconcile_once};
use crate::workspace::OpenRepo;

/// How the loop runs.
pub struct LoopOptions {
    /// One pass (or one look at the lease), then return.
    pub once: bool,
    pub interval: Duration,
    /// Reconcile only while holding this lease.
    pub lease: Option<LeaseConfig>,
    /// Where passes and leadership are counted (`--metrics-addr`).
    pub metrics: Option<Arc<Metrics>>,
    /// Passes that may run at once across environments (`--concurrency`).
    pub permits: Option<Arc<tokio::sync::Semaphore>>,
    /// How long to wait before the first look: environments started together spread
    /// their passes (and replicas their leases) over the interval.
    pub first_wait: Duration,
}

/// One environment to reconcile, with everything its loop needs.
pub struct Target<'a> {
    pub open: &'a OpenRepo,
    pub cluster: Cluster,
    pub options: ReconcileOptions,
    pub looping: LoopOptions,
}

/// Run every target's loop at once (in this task: an `OpenRepo` is not shared across
/// threads), until termination or, with `once`, one pass each; the ends in order.
pub async fn run_many(
    targets: Vec<Target<'_>>,
    terminate: &AtomicBool,
    wake: &tokio::sync::Notify,
    on_event: &dyn Fn(Event),
) -> Vec<Ended> {
    futures::future::join_all(targets.into_iter().map(|mut target| async move {
        run(
            target.open,
            &mut target.cluster,
            &target.options,
            &target.looping,
            terminate,
            wake,
            on_event,
        )
        .await
    }))
    .await
}

/// What the loop tells its caller.
pub enum Event {
    /// A pass ended.
    Pass(Box<Report>),
    /// Another replica holds the lease.
    StandingBy {
        holder: String,
        until: jiff::Timestamp,
        lease: LeaseConfig,
    },
    /// A pass (or the election) failed; the loop goes on unless `once`.
    Failed(ReconcileError),
}

/// Why the loop returned.
pub enum Ended {
    /// Termination was asked for, or a `once` loop ran its pass.
    Done(Option<Box<Report>>),
    /// A `once` loop found another replica holding the lease.
    StoodBy,
    /// A `once` loop failed.
    Failed(ReconcileError),
}

/// Run the loop until termination (`terminate`, woken by `wake`) or, with `once`, one pass.
pub async fn run(
    open: &OpenRepo,
    cluster: &mut Cluster,
    options: &ReconcileOptions,
    looping: &LoopOptions,
    terminate: &AtomicBool,
    wake: &tokio::sync::Notify,
    on_event: &dyn Fn(Event),
) -> Ended {
    let mut held: Option<HeldLease> = None;
    // Who was last told to hold the lease: standing by is said when the holder changes,
    // not every interval (thirty environments would fill the log).
    let mut told_holder: Option<String> = None;
    if !looping.first_wait.is_zero() && wait_or_stop(looping.first_wait, terminate, wake).await {
        return Ended::Done(None);
    }
    loop {
        if let Some(lease) = &looping.lease
            && held.as_ref().is_none_or(HeldLease::is_lost)
        {
            held = None;
            match cluster.elect(lease, jiff::Timestamp::now()).await {
                Ok(Leadership::Leader) => {
                    tracing::info!(lease = %lease.name, "lease held");
                    told_holder = None;
                    held = Some(cluster.keep(lease));
                    if let Some(metrics) = &looping.metrics {
                        metrics.leader(open.name(), &options.env, true);
                    }
                }
                Ok(Leadership::Standby { holder, until }) => {
                    if let Some(metrics) = &looping.metrics {
                        metrics.leader(open.name(), &options.env, false);
                    }
                    if told_holder.as_ref() != Some(&holder) {
                        tracing::info!(%holder, %until, lease = %lease.name, "standing by");
                        told_holder = Some(holder.clone());
                        on_event(Event::StandingBy {
                            holder,
                            until,
                            lease: lease.clone(),
                        });
                    }
                    if looping.once {
                        return Ended::StoodBy;
                    }
                    if wait_or_stop(looping.interval, terminate, wake).await {
                        return Ended::Done(None);
                    }
                    continue;
                }
                Err(error) if looping.once => return Ended::Failed(error.into()),
                Err(error) => {
                    tracing::warn!("{error}");
                    on_event(Event::Failed(error.into()));
                    if wait_or_stop(looping.interval, terminate, wake).await {
                        return Ended::Done(None);
                    }
                    continue;
                }
            }
        }
        let halt = Halt {
            terminate,
            lease: held.as_ref(),
        };
        let permit = match &looping.permits {
            Some(permits) => permits.clone().acquire_owned().await.ok(),
            None => None,
        };
        let started = std::time::Instant::now();
        let pass = reconcile_once(open, cluster, options, halt).await;
        drop(permit);
        let leaving = looping.once || terminate.load(Ordering::Relaxed);
        if leaving {
            release(cluster, looping, held.take()).await;
        }
        match pass {
            Ok(report) => {
                if let Some(metrics) = &looping.metrics {
                    metrics.pass(&report, started.elapsed());
                }
                tracing::info!(
                    env = %report.environment,
                    revision = %report.revision,
                    result = ?report.result,
                    drifted = report.drift.len(),
                    wrote = report.wrote,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "pass"
                );
                if looping.once {
                    return Ended::Done(Some(Box::new(report)));
                }
                on_event(Event::Pass(Box::new(report)));
            }
            Err(error) if looping.once => return Ended::Failed(error),
            // The loop goes on: the next pass may find the API server back.
            Err(error) => {
                tracing::warn!("{error}");
                on_event(Event::Failed(error));
            }
        }
        if leaving || wait_or_stop(looping.interval, terminate, wake).await {
            release(cluster, looping, held.take()).await;
            return Ended::Done(None);
        }
    }
}

/// Leaving: let a standby take over at once rather than when the lease runs out.
async fn release(cluster: &Cluster, looping: &LoopOptions, held: Option<HeldLease>) {
    if let (Some(lease), Some(held)) = (&looping.lease, held)
        && !held.is_lost()
    {
        drop(held);
        let _ = cluster.release(lease).await;
    }
}

/// Sleep until the next pass; whether termination was asked for meanwhile.
async fn wait_or_stop(interval: Duration, stop: &AtomicBool, wake: &tokio::sync::Notify) -> bool {
    if stop.load(Ordering::Relaxed) {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(interval) => {}
        _ = wake.notified() => {}
    }
    stop.load(Ordering::Relaxed)
}
