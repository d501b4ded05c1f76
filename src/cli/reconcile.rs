//! `tollgate reconcile`: run the reconcile loop (or one pass) for one environment and
//! print each pass's report.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::ReconcileArgs;
use super::output::{Output, Style};
use crate::config::{Config, DEFAULT_INVENTORY_NAMESPACE};
use crate::reconcile::cluster::{Cluster, RETRY};
use crate::reconcile::controller::{self, Ended, Event, LoopOptions, Target};
use crate::reconcile::health::Health;
use crate::reconcile::inventory::RunResult;
use crate::reconcile::inventory::inventory_name;
use crate::reconcile::lease::LeaseConfig;
use crate::reconcile::metrics::{self, Metrics};
use crate::reconcile::plan::{PlanOptions, Step};
use crate::reconcile::run::{ReconcileOptions, Report};
use crate::workspace::{ConfigExt, OpenRepo};

/// `30s`, `5m`, `1h30m`: a duration as people write it.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let signed: jiff::SignedDuration = text
        .parse()
        .map_err(|e| format!("{text:?} is not a duration like 30s, 5m or 1h: {e}"))?;
    Duration::try_from(signed).map_err(|_| format!("{text:?} must not be negative"))
}

/// `30%` or `30`.
pub fn parse_percent(text: &str) -> Result<u32, String> {
    let number = text.trim().trim_end_matches('%');
    match number.parse::<u32>() {
        Ok(n) if n <= 100 => Ok(n),
        _ => Err(format!("{text:?} is not a percentage from 0% to 100%")),
    }
}

pub fn run(config: &Config, args: &ReconcileArgs, out: &Output) -> anyhow::Result<()> {
    // The repositories, opened once, and the environments of each to reconcile.
    let mut opens: Vec<OpenRepo> = Vec::new();
    let mut chosen: Vec<(usize, String)> = Vec::new();
    if args.all {
        for repo in &config.repos {
            let open = OpenRepo::open(repo)?;
            for env in open.environments_at(Some(open.tip()?))? {
                chosen.push((opens.len(), env.name));
            }
            opens.push(open);
        }
        anyhow::ensure!(
            !chosen.is_empty(),
            "no environment is configured or found in any repository"
        );
    } else {
        opens.push(OpenRepo::open(config.pick_repo(args.repo.as_deref())?)?);
        chosen.extend(args.env.iter().map(|env| (0, env.clone())));
    }
    let once = args.once || args.dry_run;
    let many = chosen.len() > 1;
    let identity = args.lease_identity.clone().unwrap_or_else(default_identity);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let wake = Arc::new(tokio::sync::Notify::new());
        listen_for_termination(stop.clone(), wake.clone());
        let metrics = match args.metrics_addr {
            None => None,
            Some(addr) => {
                let metrics = Arc::new(Metrics::new());
                let bound = metrics::serve(addr, metrics.clone())
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot serve metrics on {addr}: {e}"))?;
                tracing::info!(addr = %bound, "serving metrics");
                Some(metrics)
            }
        };
        let permits = Arc::new(tokio::sync::Semaphore::new(args.concurrency as usize));
        // One connection per (kubeconfig, context), cloned for each environment.
        let mut connections: Vec<(ClusterAddress, Cluster)> = Vec::new();
        let mut targets = Vec::new();
        for (index, env) in &chosen {
            let open = &opens[*index];
            // Flags win; the environment's `cluster:` in the config fills in the rest.
            let configured = open.config.cluster_of(env);
            let kubeconfig = args
                .kubeconfig
                .clone()
                .or_else(|| configured.and_then(|c| c.kubeconfig.clone()));
            let context = args
                .context
                .clone()
                .or_else(|| configured.and_then(|c| c.context.clone()));
            let inventory_namespace = args
                .inventory_namespace
                .clone()
                .or_else(|| configured.map(|c| c.inventory_namespace.clone()))
                .unwrap_or_else(|| DEFAULT_INVENTORY_NAMESPACE.to_string());
            let key = (kubeconfig, context);
            let cluster = match connections.iter().find(|(k, _)| *k == key) {
                Some((_, cluster)) => cluster.clone(),
                None => {
                    let cluster = Cluster::connect(
                        key.0.as_deref(),
                        key.1.as_deref(),
                        args.request_timeout,
                        RETRY,
                    )
                    .await?;
                    connections.push((key, cluster.clone()));
                    cluster
                }
            };
            let lease = args.leader_elect.then(|| LeaseConfig {
                name: inventory_name(open.name(), env),
                namespace: inventory_namespace.clone(),
                identity: identity.clone(),
                duration: args.lease_duration.max(Duration::from_secs(1)),
            });
            targets.push(Target {
                open,
                cluster,
                options: ReconcileOptions {
                    env: env.clone(),
                    dry_run: args.dry_run,
                    plan: PlanOptions {
                        prune: args.prune,
                        max_prune_percent: args.max_prune,
                        force_prune: args.force_prune,
                    },
                    inventory_namespace,
                    timeout: args.timeout,
                    poll: Duration::from_millis(500).min(args.timeout),
                },
                looping: LoopOptions {
                    once,
                    interval: args.interval,
                    lease,
                    metrics: metrics.clone(),
                    permits: many.then(|| permits.clone()),
                    first_wait: match many && !once {
                        true => spread(&identity, open.name(), env, args.interval),
                        false => Duration::ZERO,
                    },
                },
            });
        }
        let printed: std::cell::RefCell<anyhow::Result<()>> = std::cell::RefCell::new(Ok(()));
        let on_event = |event: Event| {
            let result = match event {
                Event::Pass(report) => print_report(out, &report),
                Event::StandingBy {
                    holder,
                    until,
                    lease,
                } => out.print(&format!(
                    "standing by: {holder} holds the lease {}/{} until {until}\n",
                    lease.namespace, lease.name
                )),
                Event::Failed(error) => {
                    out.error(&anyhow::anyhow!(error));
                    Ok(())
                }
            };
            let mut printed = printed.borrow_mut();
            if printed.is_ok() {
                *printed = result;
            }
        };
        let ended = controller::run_many(targets, &stop, &wake, &on_event).await;
        printed.into_inner()?;
        let mut reports = Vec::new();
        let mut failures = Vec::new();
        for end in ended {
            match end {
                Ended::Done(Some(report)) => {
                    if !report.succeeded() {
                        failures.push(match many {
                            true => format!(
                                "{}/{}: {}",
                                report.repo,
                                report.environment,
                                failure_summary(&report)
                            ),
                            false => failure_summary(&report),
                        });
                    }
                    reports.push(report);
                }
                Ended::Done(None) | Ended::StoodBy => {}
                Ended::Failed(error) if !many => return Err(error.into()),
                Ended::Failed(error) => failures.push(error.to_string()),
            }
        }
        match (many, out.json) {
            (true, true) => out.print_json(&reports)?,
            _ => {
                for report in &reports {
                    print_report(out, report)?;
                }
            }
        }
        // Refused by verification (not approved, not the approved render), not broken.
        let said_no =
            |r: &Report| r.result == RunResult::Refused && !r.verification.refusals.is_empty();
        let refused_only = !reports.is_empty()
            && reports.iter().all(|r| r.succeeded() || said_no(r))
            && failures.len() == reports.iter().filter(|r| !r.succeeded()).count();
        match (failures.is_empty(), refused_only) {
            (true, _) => Ok(()),
            // The policy said no, and nothing else went wrong: a status of its own.
            (false, true) => Err(super::PolicyRefused(failures.join("\n")).into()),
            (false, false) => anyhow::bail!("{}", failures.join("\n")),
        }
    })
}

/// Which cluster: a kubeconfig and a context in it (`None`: the defaults).
type ClusterAddress = (Option<PathBuf>, Option<String>);

/// When an environment of several first looks, within `interval`: the same for the same
/// replica, different across replicas, so that replicas started together share the leases.
fn spread(identity: &str, repo: &str, env: &str, interval: Duration) -> Duration {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (identity, repo, env).hash(&mut hasher);
    let millis = interval.as_millis().max(1) as u64;
    Duration::from_millis(hasher.finish() % millis)
}

/// `$POD_NAME` in a cluster; else the host name and process id.
fn default_identity() -> String {
    std::env::var("POD_NAME").unwrap_or_else(|_| {
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "tollgate".to_string());
        format!("{host}-{}", std::process::id())
    })
}

/// SIGTERM (and Ctrl-C): finish the request in flight, write status, exit 0.
fn listen_for_termination(stop: Arc<AtomicBool>, wake: Arc<tokio::sync::Notify>) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut term) = signal(SignalKind::terminate()) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("termination requested; finishing the current request");
        stop.store(true, Ordering::Relaxed);
        wake.notify_waiters();
    });
}

fn failure_summary(report: &Report) -> String {
    if let Some(why) = &report.refused {
        return format!("refused: {why}");
    }
    let failed = report.objects.iter().filter(|o| o.error.is_some()).count();
    let unhealthy = report
        .health
        .iter()
        .filter(|h| !matches!(h.health, Health::Ready))
        .count();
    let mut parts = Vec::new();
    if failed > 0 {
        parts.push(format!("{failed} object(s) rejected"));
    }
    if unhealthy > 0 {
        parts.push(format!("{unhealthy} workload(s) not rolled out"));
    }
    if let Some(why) = &report.plan.prune_refused {
        parts.push(why.clone());
    }
    if parts.is_empty() {
        parts.push(format!("the run ended {:?}", report.result));
    }
    parts.join("; ")
}

fn print_report(out: &Output, report: &Report) -> anyhow::Result<()> {
    if out.json {
        return out.print_json(report);
    }
    let mut text = format!(
        "{} {}/{} at {}{}{}\n",
        out.paint(Style::Bold, "reconcile"),
        report.repo,
        report.environment,
        crate::text::short(&report.revision),
        report
            .previous
            .as_deref()
            .map(|p| format!(" (deployed: {})", crate::text::short(p)))
            .unwrap_or_default(),
        if report.dry_run {
            " — dry run, nothing written"
        } else {
            ""
        }
    );
    for step in &report.steps {
        text.push_str(&format!(
            "  {:<7} {:>6} ms  {}\n",
            step.step, step.ms, step.detail
        ));
    }
    if let Some(why) = &report.refused {
        text.push_str(&out.paint(Style::Removed, &format!("refused: {why}\n")));
    }
    for exception in &report.verification.exceptions {
        text.push_str(&out.paint(Style::Warn, &format!("exception: {exception}\n")));
    }
    let outcomes: std::collections::HashMap<_, _> = report
        .objects
        .iter()
        .map(|o| ((&o.key, o.step), o))
        .collect();
    for object in &report.plan.objects {
        if object.step == Step::Unchanged {
            continue;
        }
        let marker = match object.step {
            Step::Create => "+",
            Step::Update => "~",
            Step::Prune => "-",
            _ => " ",
        };
        let outcome = outcomes.get(&(&object.key, object.step));
        let status = match outcome {
            Some(o) if o.error.is_some() => out.paint(
                Style::Removed,
                &format!("  failed: {}", o.error.as_deref().unwrap_or("")),
            ),
            _ => object
                .note
                .as_deref()
                .map(|n| format!("  ({n})"))
                .unwrap_or_default(),
        };
        text.push_str(&format!(
            "  {marker} {:<9} {}{status}\n",
            step_word(object.step),
            object.key
        ));
    }
    if let Some(why) = &report.plan.prune_refused {
        text.push_str(&out.paint(Style::Warn, &format!("prune refused: {why}\n")));
    }
    for diff in &report.diffs {
        text.push_str(&format!(
            "\n  {}\n",
            out.paint(Style::Bold, &diff.key.to_string())
        ));
        text.push_str(&out.diff_lines(&diff.lines, "    "));
    }
    for health in &report.health {
        let line = match &health.health {
            Health::Ready => format!("  ready        {}\n", health.key),
            Health::Progressing(why) => format!("  progressing  {}: {why}\n", health.key),
            Health::Failed(why) => out.paint(
                Style::Removed,
                &format!("  failed       {}: {why}\n", health.key),
            ),
        };
        text.push_str(&line);
    }
    out.print(&text)
}

fn step_word(step: Step) -> &'static str {
    match step {
        Step::Create => "create",
        Step::Update => "update",
        Step::Unchanged => "unchanged",
        Step::Prune => "prune",
        Step::Orphan => "orphan",
    }
}
