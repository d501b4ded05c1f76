//! One reconcile of one environment: source → verify → render → plan → apply → prune →
//! health → status, each step timed and reported. Nothing is applied or pruned unless
//! verify and render passed; pruning waits for a clean apply; the inventory keeps the last
//! good revision when a run is refused.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;

use super::cluster::{Cluster, ClusterError, Resource, describe};
use super::drift::{Drift, DriftedObject, apply_changes_nothing, drifted_fields};
use super::health::{Health, crd_established, health_of};
use super::inventory::{Inventory, InventoryEntry, RunResult, inventory_name};
use super::lease::HeldLease;
use super::plan::{Plan, PlanError, PlanOptions, Step, plan};
use super::verify::{Verification, verify};
use crate::approvals::rendered_digest;
use crate::manifest::redact::redact_secret;
use crate::manifest::{ManifestObject, ObjectKey, diff_objects};
use crate::render::render_for_apply;
use crate::workspace::{OpenRepo, WorkspaceError, unknown_environment};

/// Requests in flight at once within one ordering stage.
const CONCURRENCY: usize = 8;

#[derive(Debug, Clone)]
pub struct ReconcileOptions {
    pub env: String,
    pub dry_run: bool,
    pub plan: PlanOptions,
    /// Where the inventory ConfigMaps live.
    pub inventory_namespace: String,
    /// How long to wait for rollouts (and CRDs to be established).
    pub timeout: Duration,
    /// How often to look again while waiting.
    pub poll: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

#[derive(Debug, Clone, Serialize)]
pub struct StepTiming {
    pub step: &'static str,
    pub ms: u64,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectOutcome {
    #[serde(flatten)]
    pub key: ObjectKey,
    pub step: Step,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
}

impl ObjectOutcome {
    /// What one request did; the error as the API server's code and words.
    fn of(key: &ObjectKey, step: Step, result: Result<(), (Option<u16>, String)>) -> Self {
        let (code, error) = match result {
            Ok(()) => (None, None),
            Err((code, why)) => (code, Some(why)),
        };
        ObjectOutcome {
            key: key.clone(),
            step,
            error,
            code,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HealthOutcome {
    #[serde(flatten)]
    pub key: ObjectKey,
    #[serde(flatten)]
    pub health: Health,
}

/// For `--dry-run`: an update's diff against the live object, Secret values masked.
#[derive(Debug, Clone, Serialize)]
pub struct LiveDiff {
    #[serde(flatten)]
    pub key: ObjectKey,
    pub lines: Vec<crate::manifest::textdiff::DiffLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub repo: String,
    pub environment: String,
    pub revision: String,
    pub previous: Option<String>,
    pub dry_run: bool,
    pub result: RunResult,
    /// Why nothing was applied, when a step refused.
    pub refused: Option<String>,
    pub verification: Verification,
    pub steps: Vec<StepTiming>,
    pub plan: Plan,
    pub objects: Vec<ObjectOutcome>,
    pub health: Vec<HealthOutcome>,
    pub diffs: Vec<LiveDiff>,
    /// Objects found not as applied (edited or deleted in the cluster), corrected by
    /// this pass (shown only, on a dry run).
    pub drift: Vec<DriftedObject>,
    /// Whether the run sent any write request (applies, deletes, the inventory).
    pub wrote: bool,
}

impl Report {
    /// Whether a `--once` run should exit 0.
    pub fn succeeded(&self) -> bool {
        self.refused.is_none()
            && self.result == RunResult::Applied
            && self.plan.prune_refused.is_none()
            && !self
                .health
                .iter()
                .any(|h| !matches!(h.health, Health::Ready))
    }
}

struct Timer {
    steps: Vec<StepTiming>,
    started: Instant,
}

impl Timer {
    fn new() -> Timer {
        Timer {
            steps: Vec::new(),
            started: Instant::now(),
        }
    }

    fn done(&mut self, step: &'static str, detail: String) {
        let ms = self.started.elapsed().as_millis() as u64;
        tracing::info!(step, ms, %detail, "reconcile step");
        self.steps.push(StepTiming { step, ms, detail });
        self.started = Instant::now();
    }
}

fn now_rfc3339() -> String {
    jiff::Timestamp::now().to_string()
}

/// Why a pass stops sending requests before it is done.
#[derive(Clone, Copy)]
pub struct Halt<'a> {
    /// Termination was asked for: finish the request in flight, write the status, exit.
    pub terminate: &'a AtomicBool,
    /// The lease this replica reconciles under, if any: once lost, another replica may
    /// be writing, so nothing more is written at all, the status included.
    pub lease: Option<&'a HeldLease>,
}

impl Halt<'_> {
    /// Whether no further write may start.
    pub fn now(&self) -> bool {
        self.terminate.load(Ordering::Relaxed) || self.lease_lost()
    }

    pub fn lease_lost(&self) -> bool {
        self.lease.is_some_and(HeldLease::is_lost)
    }
}

/// Reconcile `open`'s environment once.
pub async fn reconcile_once(
    open: &OpenRepo,
    cluster: &mut Cluster,
    options: &ReconcileOptions,
    halt: Halt<'_>,
) -> Result<Report, ReconcileError> {
    let env_name = options.env.as_str();
    let mut timer = Timer::new();

    // Source: fetch first when the repository has a remote. Fetching and walking history
    // block: they run in place of this worker, which hands its other tasks (lease
    // renewals, the metrics server) to the other worker meanwhile.
    let fetched = tokio::task::block_in_place(|| open.repo.fetch_default_remote(halt.terminate))
        .map_err(WorkspaceError::from)?;
    let tip = open.tip()?;
    let previous = cluster
        .read_inventory(&options.inventory_namespace, open.name(), env_name)
        .await?;
    let last_applied = previous
        .as_ref()
        .and_then(|i| i.revision.as_deref())
        .and_then(|r| gix::ObjectId::from_hex(r.as_bytes()).ok());
    let mut report = Report {
        repo: open.name().to_string(),
        environment: env_name.to_string(),
        revision: tip.to_string(),
        previous: last_applied.map(|r| r.to_string()),
        dry_run: options.dry_run,
        result: RunResult::Applied,
        refused: None,
        verification: Verification::default(),
        steps: Vec::new(),
        plan: Plan::default(),
        objects: Vec::new(),
        health: Vec::new(),
        diffs: Vec::new(),
        drift: Vec::new(),
        wrote: false,
    };
    timer.done(
        "source",
        match fetched {
            Some(f) => match &f.skipped {
                Some(why) => format!(
                    "{} at {} (not fetched from {}: {why})",
                    open.branch,
                    crate::text::short(&report.revision),
                    f.remote
                ),
                None => format!(
                    "{} at {} (fetched from {}: {} ref(s) moved)",
                    open.branch,
                    crate::text::short(&report.revision),
                    f.remote,
                    f.updated
                ),
            },
            None => format!(
                "{} at {}",
                open.branch,
                crate::text::short(&report.revision)
            ),
        },
    );

    // Render (needed by verify's digest check), then verify.
    let envs = open.environments_at(Some(tip))?;
    let Some(env) = envs.iter().find(|e| e.name == env_name) else {
        return Err(unknown_environment(open.name(), env_name, &envs).into());
    };
    let tree = open.repo.tree_of(tip).map_err(WorkspaceError::from)?;
    // Rendering reads git and waits on kubectl or helm: off the async runtime, so that
    // the other environments' passes and the lease renewals go on meanwhile.
    let (repo, for_render) = (open.repo.handle(), env.clone());
    let render = tokio::task::spawn_blocking(move || render_for_apply(&repo, tree, &for_render));
    let rendered = match render.await.expect("rendering does not panic") {
        Ok(rendered) if !rendered.issues.is_empty() => Err(format!(
            "the render has unreadable documents: {}",
            rendered
                .issues
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        )),
        Ok(rendered) => Ok((rendered.objects, rendered.caveats)),
        Err(crate::render::RenderError::Git(e)) => return Err(WorkspaceError::from(e).into()),
        Err(e) => Err(format!("the render failed: {e}")),
    };
    let (desired, caveats) = match rendered {
        Ok(rendered) => rendered,
        Err(why) => {
            timer.done("render", why.clone());
            return refuse(open, cluster, options, halt, report, previous, timer, why).await;
        }
    };
    // The approved digest covers every rendered object, hooks included.
    let digest_now = rendered_digest(&redacted(&desired));
    // An object the API server names at creation (a hook Job) has no name to apply by:
    // the tool that owns hooks creates it, never this loop.
    let (hooks, desired): (Vec<_>, Vec<_>) = desired
        .into_iter()
        .partition(|o| o.key.has_generated_name());
    let mut rendered_note = match hooks.len() {
        0 => format!("{} objects", desired.len()),
        n => format!(
            "{} objects, {n} named at creation (generateName) not applied",
            desired.len()
        ),
    };
    // Inputs that did not come from git, values only the cluster holds: said each pass.
    for caveat in &caveats {
        rendered_note.push_str(&format!("; {caveat}"));
    }
    timer.done("render", rendered_note);
    report.verification =
        tokio::task::block_in_place(|| verify(open, env_name, tip, last_applied, &digest_now))?;
    timer.done(
        "verify",
        format!(
            "{} change(s) checked, {} exception(s)",
            report.verification.checked,
            report.verification.exceptions.len()
        ),
    );
    if !report.verification.refusals.is_empty() {
        let why = report.verification.refusals.join("; ");
        return refuse(open, cluster, options, halt, report, previous, timer, why).await;
    }

    // Plan.
    report.plan = match plan(&desired, previous.as_ref(), options.plan) {
        Ok(plan) => plan,
        Err(e @ (PlanError::Empty | PlanError::Duplicate { .. })) => {
            let why = e.to_string();
            timer.done("plan", why.clone());
            return refuse(open, cluster, options, halt, report, previous, timer, why).await;
        }
    };
    timer.done(
        "plan",
        format!(
            "create {}, update {}, unchanged {}, prune {}, orphan {}",
            report.plan.count(Step::Create),
            report.plan.count(Step::Update),
            report.plan.count(Step::Unchanged),
            report.plan.count(Step::Prune),
            report.plan.count(Step::Orphan)
        ),
    );

    cluster.discover(report.plan.api_versions()).await?;

    // Drift: what the plan would leave alone, compared with the cluster as it is now.
    let (drifted, unreadable) = find_drift(cluster, &mut report.plan, &desired).await?;
    timer.done("drift", drift_detail(&drifted, &unreadable));
    report.drift = drifted.into_iter().map(DriftedObject::masked).collect();

    if options.dry_run {
        report.diffs = live_diffs(cluster, &report.plan, &desired).await;
        timer.done(
            "diff",
            format!("{} update(s) compared with the cluster", report.diffs.len()),
        );
        report.steps = timer.steps;
        return Ok(report);
    }

    // Apply, stage by stage.
    let mut failed = false;
    let mut interrupted = false;
    let mut applied_keys: HashSet<ObjectKey> = HashSet::new();
    for stage in [
        super::plan::Stage::Foundations,
        super::plan::Stage::Everything,
    ] {
        let batch: Vec<_> = report
            .plan
            .objects
            .iter()
            .filter(|o| o.stage == stage && matches!(o.step, Step::Create | Step::Update))
            .collect();
        if halt.now() {
            interrupted = true;
            break;
        }
        let cluster_ref = &*cluster;
        let outcomes: Vec<ObjectOutcome> = futures::stream::iter(batch)
            .map(|object| async move {
                if halt.now() {
                    return None;
                }
                let result = match cluster_ref.resource(&object.api_version, &object.key.kind) {
                    Err(why) => Err((None, why)),
                    Ok(resource) => cluster_ref
                        .apply(
                            &resource,
                            object.key.namespace.as_deref(),
                            &object.key.name,
                            object.manifest.as_ref().unwrap_or(&Value::Null),
                        )
                        .await
                        .map_err(|e| describe(&e)),
                };
                Some(ObjectOutcome::of(&object.key, object.step, result))
            })
            .buffer_unordered(CONCURRENCY)
            .filter_map(|o| async move { o })
            .collect()
            .await;
        report.wrote |= !outcomes.is_empty();
        for outcome in &outcomes {
            if outcome.error.is_some() {
                failed = true;
            } else {
                applied_keys.insert(outcome.key.clone());
            }
        }
        report.objects.extend(outcomes);
        if stage == super::plan::Stage::Foundations {
            wait_for_crds(cluster, &report.plan, &applied_keys, options).await;
            // Kinds of the CRDs just established are served now.
            cluster.forget_missing();
            cluster.discover(report.plan.api_versions()).await?;
        }
    }
    interrupted |= halt.now();
    timer.done(
        "apply",
        format!(
            "{} applied, {} failed",
            applied_keys.len(),
            report.objects.iter().filter(|o| o.error.is_some()).count()
        ),
    );

    // Prune, only after a clean apply.
    let prunes: Vec<_> = report
        .plan
        .objects
        .iter()
        .filter(|o| o.step == Step::Prune)
        .cloned()
        .collect();
    let mut pruned: HashSet<ObjectKey> = HashSet::new();
    if !prunes.is_empty() && !failed && !interrupted {
        for object in prunes {
            if halt.now() {
                interrupted = true;
                break;
            }
            let result = match cluster.resource(&object.api_version, &object.key.kind) {
                Err(why) => Err((None, why)),
                Ok(resource) => cluster
                    .delete(&resource, object.key.namespace.as_deref(), &object.key.name)
                    .await
                    .map_err(|e| describe(&e)),
            };
            report.wrote = true;
            if result.is_ok() {
                pruned.insert(object.key.clone());
            } else {
                failed = true;
            }
            report
                .objects
                .push(ObjectOutcome::of(&object.key, Step::Prune, result));
        }
        timer.done("prune", format!("{} pruned", pruned.len()));
    } else if !prunes.is_empty() {
        timer.done("prune", "skipped: the apply did not finish cleanly".into());
    } else {
        timer.done("prune", "nothing to prune".into());
    }

    // Health.
    if !interrupted {
        report.health =
            wait_for_rollouts(cluster, &report.plan, &applied_keys, options, halt).await;
        timer.done(
            "health",
            format!(
                "{} ready of {}",
                report
                    .health
                    .iter()
                    .filter(|h| h.health == Health::Ready)
                    .count(),
                report.health.len()
            ),
        );
    }

    // Status.
    report.result = if interrupted {
        RunResult::Interrupted
    } else if failed {
        RunResult::Partial
    } else {
        RunResult::Applied
    };
    if halt.lease_lost() {
        report.result = RunResult::Interrupted;
        report.refused = Some(
            "the lease was lost during the pass: the replica that holds it now reconciles; nothing more was written".into(),
        );
        timer.done("status", "lease lost; nothing written".into());
        report.steps = timer.steps;
        return Ok(report);
    }
    let inventory = next_inventory(&report, previous.as_ref(), &applied_keys, &pruned);
    let unchanged = !report.wrote
        && previous.as_ref().is_some_and(|p| {
            p.revision.as_deref() == Some(report.revision.as_str())
                && p.result == report.result
                && p.objects == inventory.objects
        });
    if !unchanged {
        cluster
            .write_inventory(
                &options.inventory_namespace,
                open.name(),
                env_name,
                &inventory,
            )
            .await?;
        report.wrote = true;
    }
    timer.done(
        "status",
        if unchanged {
            "nothing changed; nothing written".to_string()
        } else {
            format!(
                "inventory {}/{}",
                options.inventory_namespace,
                inventory_name(open.name(), env_name)
            )
        },
    );
    report.steps = timer.steps;
    Ok(report)
}

/// Stop before anything is applied: record why in the inventory (keeping the last good
/// revision and its objects), unless this is a dry run.
#[allow(clippy::too_many_arguments)]
async fn refuse(
    open: &OpenRepo,
    cluster: &Cluster,
    options: &ReconcileOptions,
    halt: Halt<'_>,
    mut report: Report,
    previous: Option<Inventory>,
    mut timer: Timer,
    why: String,
) -> Result<Report, ReconcileError> {
    report.result = RunResult::Refused;
    report.refused = Some(why.clone());
    let message = format!("refused {}: {why}", crate::text::short(&report.revision));
    // The same refusal as last pass is on record already: write nothing again.
    let recorded = previous
        .as_ref()
        .is_some_and(|p| p.result == RunResult::Refused && p.message.as_ref() == Some(&message));
    if recorded {
        timer.done("status", "refusal already recorded; nothing written".into());
    } else if halt.lease_lost() {
        timer.done("status", "lease lost; nothing written".into());
    } else if !options.dry_run {
        let inventory = Inventory {
            revision: previous.as_ref().and_then(|p| p.revision.clone()),
            time: now_rfc3339(),
            result: RunResult::Refused,
            counts: previous
                .as_ref()
                .map(|p| p.counts.clone())
                .unwrap_or_default(),
            objects: previous.map(|p| p.objects).unwrap_or_default(),
            message: Some(message),
        };
        cluster
            .write_inventory(
                &options.inventory_namespace,
                open.name(),
                &options.env,
                &inventory,
            )
            .await?;
        report.wrote = true;
        timer.done(
            "status",
            "refusal recorded; the last good revision keeps running".into(),
        );
    }
    report.steps = timer.steps;
    Ok(report)
}

/// Secret values masked, for digests and anything shown.
fn redacted(objects: &[ManifestObject]) -> Vec<ManifestObject> {
    objects
        .iter()
        .cloned()
        .map(|mut o| {
            if o.key.kind == "Secret" && o.key.group.is_empty() {
                redact_secret(o.value_mut());
            }
            o
        })
        .collect()
}

/// The inventory after this run: what is in the cluster as tollgate left it.
fn next_inventory(
    report: &Report,
    previous: Option<&Inventory>,
    applied: &HashSet<ObjectKey>,
    pruned: &HashSet<ObjectKey>,
) -> Inventory {
    let before: HashMap<ObjectKey, &InventoryEntry> = previous
        .map(|p| p.objects.iter().map(|e| (e.key(), e)).collect())
        .unwrap_or_default();
    let mut objects = Vec::new();
    for planned in &report.plan.objects {
        let entry = |digest: String| InventoryEntry {
            api_version: planned.api_version.clone(),
            kind: planned.key.kind.clone(),
            namespace: planned.key.namespace.clone(),
            name: planned.key.name.clone(),
            digest,
            prunable: planned.prunable,
        };
        match planned.step {
            Step::Unchanged => objects.push(entry(planned.digest.clone())),
            Step::Create | Step::Update if applied.contains(&planned.key) => {
                objects.push(entry(planned.digest.clone()))
            }
            // Not applied: keep what was there before (a failed update retries next time).
            Step::Create | Step::Update => {
                if let Some(old) = before.get(&planned.key) {
                    objects.push((*old).clone());
                }
            }
            Step::Prune if pruned.contains(&planned.key) => {}
            Step::Prune | Step::Orphan => {
                if let Some(old) = before.get(&planned.key) {
                    objects.push((*old).clone());
                }
            }
        }
    }
    let mut counts = BTreeMap::new();
    for (name, step) in [
        ("created", Step::Create),
        ("updated", Step::Update),
        ("unchanged", Step::Unchanged),
        ("orphaned", Step::Orphan),
    ] {
        counts.insert(name.to_string(), report.plan.count(step));
    }
    counts.insert("pruned".into(), pruned.len());
    counts.insert("drifted".into(), report.drift.len());
    counts.insert(
        "failed".into(),
        report.objects.iter().filter(|o| o.error.is_some()).count(),
    );
    Inventory {
        revision: Some(report.revision.clone()),
        time: now_rfc3339(),
        result: report.result,
        counts,
        objects,
        message: report
            .objects
            .iter()
            .find_map(|o| o.error.as_ref().map(|e| format!("{}: {e}", o.key))),
    }
}

/// Wait (up to the timeout) until the CRDs just applied are established.
async fn wait_for_crds(
    cluster: &Cluster,
    plan: &Plan,
    applied: &HashSet<ObjectKey>,
    options: &ReconcileOptions,
) {
    let crds: Vec<_> = plan
        .objects
        .iter()
        .filter(|o| o.key.kind == "CustomResourceDefinition" && applied.contains(&o.key))
        .collect();
    let deadline = Instant::now() + options.timeout;
    for crd in crds {
        let Ok(resource) = cluster.resource(&crd.api_version, &crd.key.kind) else {
            continue;
        };
        while Instant::now() < deadline {
            match cluster.get(&resource, None, &crd.key.name).await {
                Ok(Some(live)) if crd_established(&live) => break,
                Err(_) => break,
                _ => tokio::time::sleep(options.poll).await,
            }
        }
    }
}

/// Poll the workloads just applied until each is ready or failed, or the timeout.
async fn wait_for_rollouts(
    cluster: &Cluster,
    plan: &Plan,
    applied: &HashSet<ObjectKey>,
    options: &ReconcileOptions,
    halt: Halt<'_>,
) -> Vec<HealthOutcome> {
    let mut pending: Vec<(ObjectKey, Resource)> = plan
        .objects
        .iter()
        .filter(|o| applied.contains(&o.key))
        .filter(|o| health_of(&o.key.group, &o.key.kind, &Value::Null).is_some())
        .filter_map(|o| {
            cluster
                .resource(&o.api_version, &o.key.kind)
                .ok()
                .map(|r| (o.key.clone(), r))
        })
        .collect();
    let mut out = Vec::new();
    let deadline = Instant::now() + options.timeout;
    loop {
        let mut still = Vec::new();
        for (key, resource) in pending {
            let health = match cluster
                .get(&resource, key.namespace.as_deref(), &key.name)
                .await
            {
                Ok(Some(live)) => health_of(&key.group, &key.kind, &live).unwrap_or(Health::Ready),
                Ok(None) => Health::Failed("gone from the cluster".into()),
                Err(e) => Health::Progressing(format!("cannot read it: {}", describe(&e).1)),
            };
            match health {
                Health::Progressing(_) if Instant::now() < deadline && !halt.now() => {
                    still.push((key, resource))
                }
                Health::Progressing(why) => out.push(HealthOutcome {
                    key,
                    health: Health::Failed(format!("not rolled out within the timeout: {why}")),
                }),
                other => out.push(HealthOutcome { key, health: other }),
            }
        }
        if still.is_empty() {
            break;
        }
        pending = still;
        tokio::time::sleep(options.poll).await;
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// Fields the API server sets that a manifest never has.
const SERVER_FIELDS: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
];

/// For a dry run: each update against its live object, Secret values masked both sides.
async fn live_diffs(cluster: &Cluster, plan: &Plan, desired: &[ManifestObject]) -> Vec<LiveDiff> {
    let by_key: HashMap<&ObjectKey, &ManifestObject> =
        desired.iter().map(|o| (&o.key, o)).collect();
    let mut out = Vec::new();
    for planned in plan.objects.iter().filter(|o| o.step == Step::Update) {
        let Some(&wanted) = by_key.get(&planned.key) else {
            continue;
        };
        let Ok(resource) = cluster.resource(&planned.api_version, &planned.key.kind) else {
            continue;
        };
        let Ok(Some(mut live)) = cluster
            .get(
                &resource,
                planned.key.namespace.as_deref(),
                &planned.key.name,
            )
            .await
        else {
            continue;
        };
        if let Some(Value::Object(metadata)) = live.get_mut("metadata") {
            for field in SERVER_FIELDS {
                metadata.remove(*field);
            }
        }
        if let Value::Object(map) = &mut live {
            map.remove("status");
        }
        let mut live_object = wanted.clone();
        *live_object.value_mut() = live;
        let old = redacted(std::slice::from_ref(&live_object));
        let new = redacted(std::slice::from_ref(wanted));
        let diff = diff_objects(old, new);
        let lines = diff.changed().flat_map(|o| o.text_diff(3)).collect();
        out.push(LiveDiff {
            key: planned.key.clone(),
            lines,
        });
    }
    out
}

/// Which of the objects `plan` leaves unchanged drifted in the cluster: read with one list
/// per kind and namespace, a difference confirmed by a server-side dry run (so that the
/// server's own spelling of a value is not drift). A drifted object's step becomes an
/// update (a create when it was deleted), to be applied like any other. Kinds that cannot
/// be read are returned by name: their drift is unknown this pass, and said so.
async fn find_drift(
    cluster: &mut Cluster,
    plan: &mut Plan,
    desired: &[ManifestObject],
) -> Result<(Vec<DriftedObject>, Vec<String>), ReconcileError> {
    let unchanged_versions: Vec<String> = plan
        .objects
        .iter()
        .filter(|o| o.step == Step::Unchanged)
        .map(|o| o.api_version.clone())
        .collect();
    cluster.discover(unchanged_versions).await?;
    let manifests: HashMap<&ObjectKey, &ManifestObject> =
        desired.iter().map(|o| (&o.key, o)).collect();
    // (apiVersion, kind, namespace) → indices into the plan.
    let mut groups: BTreeMap<(String, String, Option<String>), Vec<usize>> = BTreeMap::new();
    for (index, object) in plan.objects.iter().enumerate() {
        if object.step == Step::Unchanged {
            groups
                .entry((
                    object.api_version.clone(),
                    object.key.kind.clone(),
                    object.key.namespace.clone(),
                ))
                .or_default()
                .push(index);
        }
    }
    let mut drifted = Vec::new();
    let mut unreadable = Vec::new();
    for ((api_version, kind, namespace), indices) in groups {
        let Ok(resource) = cluster.resource(&api_version, &kind) else {
            unreadable.push(format!("{kind} ({api_version} not served)"));
            continue;
        };
        let live = match cluster.list(&resource, namespace.as_deref()).await {
            Ok(live) => live,
            Err(error) => {
                unreadable.push(format!("{kind}: {}", describe(&error).1));
                continue;
            }
        };
        let cluster_ref = &*cluster;
        let resource = &resource;
        let namespace = namespace.as_deref();
        let found: Vec<(usize, Drift)> = futures::stream::iter(indices)
            .filter_map(|index| {
                let object = &plan.objects[index];
                let manifest = manifests.get(&object.key).map(|m| m.value());
                let live = live.get(&object.key.name);
                async move {
                    let manifest = manifest?;
                    let Some(live) = live else {
                        return Some((index, Drift::Deleted));
                    };
                    let fields = drifted_fields(manifest, live);
                    if fields.is_empty() {
                        return None;
                    }
                    // The server may spell a value its own way: ask it what an apply
                    // would make before calling the difference drift.
                    match cluster_ref
                        .apply_dry_run(resource, namespace, &object.key.name, manifest)
                        .await
                    {
                        Ok(dry) if apply_changes_nothing(&dry, live) => None,
                        _ => Some((index, Drift::Changed { fields })),
                    }
                }
            })
            .collect::<Vec<_>>()
            .await;
        for (index, drift) in found {
            let object = &mut plan.objects[index];
            object.step = match drift {
                Drift::Deleted => Step::Create,
                Drift::Changed { .. } => Step::Update,
            };
            object.manifest = manifests.get(&object.key).map(|m| m.value().clone());
            object.note = Some("drift corrected".into());
            drifted.push(DriftedObject {
                key: object.key.clone(),
                drift,
            });
        }
    }
    drifted.sort_by(|a, b| a.key.cmp(&b.key));
    Ok((drifted, unreadable))
}

/// `2 corrected: Deployment/shop/api (spec.replicas 3 → 2), …`, or `none`.
fn drift_detail(drifted: &[DriftedObject], unreadable: &[String]) -> String {
    let mut detail = match drifted.len() {
        0 => "none".to_string(),
        n => format!(
            "{n} corrected: {}",
            drifted
                .iter()
                .map(DriftedObject::describe)
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    if !unreadable.is_empty() {
        detail.push_str(&format!(
            "; not checked (cannot be read): {}",
            unreadable.join(", ")
        ));
    }
    detail
}
