//! What a running reconcile tells Prometheus (`--metrics-addr`), and its probes:
//! `/metrics` in the text exposition format, `/healthz` (the process answers) and
//! `/readyz` (the loop has finished a pass, or knows another replica holds the lease).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::inventory::RunResult;
use super::plan::Step;
use super::run::Report;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Environment {
    repo: String,
    environment: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PassResult {
    repo: String,
    environment: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ObjectAction {
    repo: String,
    environment: String,
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Revision {
    repo: String,
    environment: String,
    revision: String,
}

fn pass_buckets() -> Histogram {
    // 50 ms to about 100 s.
    Histogram::new(exponential_buckets(0.05, 2.0, 12))
}

/// The reconcile metrics of one process.
pub struct Metrics {
    registry: Registry,
    passes: Family<PassResult, Counter>,
    duration: Family<Environment, Histogram, fn() -> Histogram>,
    objects: Family<ObjectAction, Counter>,
    refusals: Family<Environment, Counter>,
    last_success: Family<Environment, Gauge>,
    revision: Family<Revision, Gauge>,
    leader: Family<Environment, Gauge>,
    /// The revision each environment's `revision` gauge is set for, to drop the old one.
    shown_revision: Mutex<Vec<Revision>>,
    ready: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("tollgate_reconcile");
        let passes = Family::<PassResult, Counter>::default();
        registry.register("passes", "Reconcile passes, by result", passes.clone());
        let duration =
            Family::<Environment, Histogram, fn() -> Histogram>::new_with_constructor(pass_buckets);
        registry.register(
            "pass_duration_seconds",
            "How long a pass took",
            duration.clone(),
        );
        let objects = Family::<ObjectAction, Counter>::default();
        registry.register(
            "objects",
            "Objects applied, pruned, corrected for drift, or rejected",
            objects.clone(),
        );
        let refusals = Family::<Environment, Counter>::default();
        registry.register(
            "refusals",
            "Passes that refused the revision (not approved, render failed)",
            refusals.clone(),
        );
        let last_success = Family::<Environment, Gauge>::default();
        registry.register(
            "last_success_timestamp_seconds",
            "When a pass last applied cleanly (Unix time)",
            last_success.clone(),
        );
        let revision = Family::<Revision, Gauge>::default();
        registry.register(
            "revision_info",
            "The revision last applied cleanly (1 for the current one)",
            revision.clone(),
        );
        let leader = Family::<Environment, Gauge>::default();
        registry.register(
            "leader",
            "Whether this replica holds the environment's lease (1) or stands by (0)",
            leader.clone(),
        );
        Metrics {
            registry,
            passes,
            duration,
            objects,
            refusals,
            last_success,
            revision,
            leader,
            shown_revision: Mutex::new(Vec::new()),
            ready: AtomicBool::new(false),
        }
    }

    /// Count a finished pass.
    pub fn pass(&self, report: &Report, took: Duration) {
        let env = Environment {
            repo: report.repo.clone(),
            environment: report.environment.clone(),
        };
        let result = match report.result {
            RunResult::Applied => "applied",
            RunResult::Partial => "partial",
            RunResult::Refused => "refused",
            RunResult::Interrupted => "interrupted",
        };
        self.passes
            .get_or_create(&PassResult {
                repo: env.repo.clone(),
                environment: env.environment.clone(),
                result: result.into(),
            })
            .inc();
        self.duration
            .get_or_create(&env)
            .observe(took.as_secs_f64());
        let count = |action: &str, n: usize| {
            if n > 0 {
                self.objects
                    .get_or_create(&ObjectAction {
                        repo: env.repo.clone(),
                        environment: env.environment.clone(),
                        action: action.into(),
                    })
                    .inc_by(n as u64);
            }
        };
        let ok = |o: &&super::run::ObjectOutcome| o.error.is_none();
        count(
            "applied",
            report
                .objects
                .iter()
                .filter(|o| matches!(o.step, Step::Create | Step::Update))
                .filter(ok)
                .count(),
        );
        count(
            "pruned",
            report
                .objects
                .iter()
                .filter(|o| o.step == Step::Prune)
                .filter(ok)
                .count(),
        );
        count(
            "failed",
            report.objects.iter().filter(|o| o.error.is_some()).count(),
        );
        if !report.dry_run {
            count("drifted", report.drift.len());
        }
        if report.result == RunResult::Refused {
            self.refusals.get_or_create(&env).inc();
        }
        if report.result == RunResult::Applied && !report.dry_run {
            self.last_success
                .get_or_create(&env)
                .set(jiff::Timestamp::now().as_second());
            let now = Revision {
                repo: env.repo.clone(),
                environment: env.environment.clone(),
                revision: report.revision.clone(),
            };
            let mut shown = self.shown_revision.lock().expect("metrics lock");
            shown.retain(|old| {
                let same_env = old.repo == now.repo && old.environment == now.environment;
                if same_env && *old != now {
                    self.revision.remove(old);
                }
                !same_env
            });
            self.revision.get_or_create(&now).set(1);
            shown.push(now);
        }
        self.ready.store(true, Ordering::Relaxed);
    }

    /// Whether this replica holds `repo`/`env`'s lease.
    pub fn leader(&self, repo: &str, env: &str, holds: bool) {
        self.leader
            .get_or_create(&Environment {
                repo: repo.into(),
                environment: env.into(),
            })
            .set(i64::from(holds));
        if !holds {
            // Standing by is working as meant.
            self.ready.store(true, Ordering::Relaxed);
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }
}

/// Serve `/metrics`, `/healthz` and `/readyz` on `addr` in the background; returns the
/// address bound (a port of 0 picks one).
pub async fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let for_metrics = metrics.clone();
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let metrics = for_metrics.clone();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        metrics.render(),
                    )
                }
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    match metrics.is_ready() {
                        true => (StatusCode::OK, "ready\n"),
                        false => (StatusCode::SERVICE_UNAVAILABLE, "no pass finished yet\n"),
                    }
                }
            }),
        );
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "the metrics server stopped");
        }
    });
    Ok(bound)
}
