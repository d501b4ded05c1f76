//! The plan (pure): the objects git wants against the inventory of the last apply →
//! create / update / unchanged / prune, in the order they must go: Namespaces and CRDs
//! first, then everything else; pruning in the opposite order. Nothing here talks to a
//! cluster, so every rule (zero objects stops the run, what may be pruned, `--max-prune`)
//! is tested as plain code.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::inventory::{Inventory, InventoryEntry};
use crate::manifest::{ManifestObject, ObjectKey};

/// The annotation that lets pruning delete a Namespace, CRD or PersistentVolumeClaim.
pub const PRUNE_ANNOTATION: &str = "tollgate.dev/prune";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Namespaces and CustomResourceDefinitions: what the rest needs to exist.
    Foundations,
    Everything,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Not in the inventory: the last apply did not write it.
    Create,
    /// In the inventory with another digest.
    Update,
    /// In the inventory with the same digest: no request is sent.
    Unchanged,
    /// In the inventory, gone from git.
    Prune,
    /// In the inventory, gone from git, and kept: `--prune` not given, or a kind that is
    /// never pruned without the annotation.
    Orphan,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedObject {
    #[serde(flatten)]
    pub key: ObjectKey,
    pub api_version: String,
    pub step: Step,
    pub stage: Stage,
    pub digest: String,
    /// Why an orphan is kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The manifest to apply (creates and updates).
    #[serde(skip)]
    pub manifest: Option<Value>,
    /// Whether the inventory may let pruning delete it later.
    #[serde(skip)]
    pub prunable: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    /// Applies in stage order, then prunes in reverse stage order, then orphans.
    pub objects: Vec<PlannedObject>,
    /// Why pruning was refused as a whole (`--max-prune`), if it was.
    pub prune_refused: Option<String>,
}

impl Plan {
    pub fn count(&self, step: Step) -> usize {
        self.objects.iter().filter(|o| o.step == step).count()
    }

    /// The apiVersions of every object it writes, for discovery.
    pub fn api_versions(&self) -> Vec<String> {
        let mut versions: Vec<String> = self
            .objects
            .iter()
            .filter(|o| matches!(o.step, Step::Create | Step::Update | Step::Prune))
            .map(|o| o.api_version.clone())
            .collect();
        versions.sort();
        versions.dedup();
        versions
    }

    /// Whether running it would send any write request.
    pub fn writes(&self) -> bool {
        self.objects
            .iter()
            .any(|o| matches!(o.step, Step::Create | Step::Update | Step::Prune))
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PlanOptions {
    pub prune: bool,
    /// At most this percentage of the inventory may be pruned in one run.
    pub max_prune_percent: u32,
    pub force_prune: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error(
        "the render yielded zero objects; nothing is applied or pruned (an empty environment is almost always a mistake: a wrong path, or a render that silently produced nothing)"
    )]
    Empty,
    #[error(
        "{key} appears twice in the render ({first} and {second}); Kubernetes keeps one object per name"
    )]
    Duplicate {
        key: String,
        first: String,
        second: String,
    },
}

/// The digest of a manifest as it will be applied.
pub fn digest(value: &Value) -> String {
    let digest = Sha256::digest(value.to_string().as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn stage_of(key: &ObjectKey) -> Stage {
    match (key.group.as_str(), key.kind.as_str()) {
        ("", "Namespace") | ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            Stage::Foundations
        }
        _ => Stage::Everything,
    }
}

/// Whether pruning may delete an object of this kind with these annotations.
fn prunable(key: &ObjectKey, manifest: &Value) -> bool {
    let protected = matches!(
        (key.group.as_str(), key.kind.as_str()),
        ("", "Namespace")
            | ("apiextensions.k8s.io", "CustomResourceDefinition")
            | ("", "PersistentVolumeClaim")
    );
    !protected
        || manifest
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(PRUNE_ANNOTATION))
            .and_then(Value::as_str)
            == Some("true")
}

/// The inventory entry for `object` once it is applied as it is.
pub fn applied_entry(object: &ManifestObject) -> InventoryEntry {
    InventoryEntry {
        api_version: object.api_version.clone(),
        kind: object.key.kind.clone(),
        namespace: object.key.namespace.clone(),
        name: object.key.name.clone(),
        digest: digest(object.value()),
        prunable: prunable(&object.key, object.value()),
    }
}

/// Plan the apply of `desired` over what `inventory` says the last apply wrote.
pub fn plan(
    desired: &[ManifestObject],
    inventory: Option<&Inventory>,
    options: PlanOptions,
) -> Result<Plan, PlanError> {
    if desired.is_empty() {
        return Err(PlanError::Empty);
    }
    let previous: HashMap<ObjectKey, &InventoryEntry> = inventory
        .map(|i| i.objects.iter().map(|e| (e.key(), e)).collect())
        .unwrap_or_default();
    let mut seen: HashMap<&ObjectKey, &ManifestObject> = HashMap::with_capacity(desired.len());
    let mut objects = Vec::with_capacity(desired.len());
    for object in desired {
        if let Some(first) = seen.insert(&object.key, object) {
            return Err(PlanError::Duplicate {
                key: object.key.to_string(),
                first: format!("{}:{}", first.origin.file, first.origin.line),
                second: format!("{}:{}", object.origin.file, object.origin.line),
            });
        }
        let digest = digest(object.value());
        let step = match previous.get(&object.key) {
            None => Step::Create,
            Some(entry) if entry.digest == digest => Step::Unchanged,
            Some(_) => Step::Update,
        };
        objects.push(PlannedObject {
            key: object.key.clone(),
            api_version: object.api_version.clone(),
            step,
            stage: stage_of(&object.key),
            prunable: prunable(&object.key, object.value()),
            manifest: matches!(step, Step::Create | Step::Update).then(|| object.value().clone()),
            digest,
            note: None,
        });
    }
    objects.sort_by(|a, b| (a.stage, &a.key).cmp(&(b.stage, &b.key)));

    let mut gone: Vec<&InventoryEntry> = inventory
        .map(|i| {
            i.objects
                .iter()
                .filter(|e| !seen.contains_key(&e.key()))
                .collect()
        })
        .unwrap_or_default();
    gone.sort_by(|a, b| {
        let (ka, kb) = (a.key(), b.key());
        (std::cmp::Reverse(stage_of(&ka)), ka).cmp(&(std::cmp::Reverse(stage_of(&kb)), kb))
    });
    let candidates = gone.iter().filter(|e| e.prunable).count();
    let inventory_size = inventory.map_or(0, |i| i.objects.len());
    let mut prune_refused = None;
    if options.prune
        && candidates > 0
        && !options.force_prune
        && candidates * 100 > options.max_prune_percent as usize * inventory_size
    {
        prune_refused = Some(format!(
            "pruning {candidates} of {inventory_size} objects is more than --max-prune {}%; nothing is pruned (check the render, then use --force-prune)",
            options.max_prune_percent
        ));
    }
    for entry in gone {
        let (step, note) = if !entry.prunable {
            (
                Step::Orphan,
                Some(format!(
                    "{} objects are pruned only when annotated {PRUNE_ANNOTATION}: \"true\"",
                    entry.kind
                )),
            )
        } else if !options.prune {
            (Step::Orphan, Some("--prune not given".to_string()))
        } else if prune_refused.is_some() {
            (Step::Orphan, Some("more than --max-prune".to_string()))
        } else {
            (Step::Prune, None)
        };
        let key = entry.key();
        objects.push(PlannedObject {
            stage: stage_of(&key),
            key,
            api_version: entry.api_version.clone(),
            step,
            digest: entry.digest.clone(),
            note,
            manifest: None,
            prunable: entry.prunable,
        });
    }
    Ok(Plan {
        objects,
        prune_refused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse_documents;
    use crate::reconcile::inventory::RunResult;

    fn objects(text: &str) -> Vec<ManifestObject> {
        parse_documents("t.yaml", text.as_bytes()).objects
    }

    const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";
    const API: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec: {replicas: 2}\n";
    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n";

    fn inventory_of(objects: &[ManifestObject]) -> Inventory {
        Inventory {
            revision: Some("r".into()),
            time: String::new(),
            result: RunResult::Applied,
            counts: Default::default(),
            objects: objects.iter().map(applied_entry).collect(),
            message: None,
        }
    }

    const PRUNE: PlanOptions = PlanOptions {
        prune: true,
        max_prune_percent: 30,
        force_prune: false,
    };

    #[test]
    fn foundations_go_first_and_unchanged_objects_send_nothing() {
        let desired = objects(&format!("{API}---\n{NS}"));
        let first = plan(&desired, None, PRUNE).expect("plan");
        let order: Vec<(&str, Step)> = first
            .objects
            .iter()
            .map(|o| (o.key.kind.as_str(), o.step))
            .collect();
        assert_eq!(
            order,
            [("Namespace", Step::Create), ("Deployment", Step::Create)]
        );
        let again = plan(&desired, Some(&inventory_of(&desired)), PRUNE).expect("plan");
        assert!(!again.writes(), "{again:?}");
        let changed = objects(&format!(
            "{}---\n{NS}",
            API.replace("replicas: 2", "replicas: 3")
        ));
        let update = plan(&changed, Some(&inventory_of(&desired)), PRUNE).expect("plan");
        assert_eq!(update.count(Step::Update), 1);
        assert_eq!(update.count(Step::Unchanged), 1);
    }

    #[test]
    fn an_empty_render_plans_nothing_at_all() {
        let inventory = inventory_of(&objects(API));
        assert_eq!(
            plan(&[], Some(&inventory), PRUNE).expect_err("empty"),
            PlanError::Empty
        );
    }

    #[test]
    fn pruning_needs_the_flag_spares_protected_kinds_and_honours_max_prune() {
        let before = objects(&format!("{NS}---\n{API}---\n{CM}"));
        let inventory = inventory_of(&before);
        let after = objects(API);
        let without = plan(
            &after,
            Some(&inventory),
            PlanOptions {
                prune: false,
                ..PRUNE
            },
        )
        .expect("plan");
        assert_eq!(without.count(Step::Prune), 0);
        assert_eq!(without.count(Step::Orphan), 2);
        // One prunable object (the ConfigMap) of three is 33% > 30%.
        let refused = plan(&after, Some(&inventory), PRUNE).expect("plan");
        assert!(refused.prune_refused.is_some());
        assert_eq!(refused.count(Step::Prune), 0);
        let forced = plan(
            &after,
            Some(&inventory),
            PlanOptions {
                force_prune: true,
                ..PRUNE
            },
        )
        .expect("plan");
        let pruned: Vec<&str> = forced
            .objects
            .iter()
            .filter(|o| o.step == Step::Prune)
            .map(|o| o.key.kind.as_str())
            .collect();
        assert_eq!(
            pruned,
            ["ConfigMap"],
            "the Namespace is never pruned unannotated"
        );
        let roomy = plan(
            &after,
            Some(&inventory),
            PlanOptions {
                max_prune_percent: 50,
                ..PRUNE
            },
        )
        .expect("plan");
        assert_eq!(roomy.count(Step::Prune), 1);
    }

    #[test]
    fn an_annotated_namespace_may_be_pruned() {
        let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: old\n  annotations: {tollgate.dev/prune: \"true\"}\n";
        let before = objects(&format!("{ns}---\n{API}"));
        let planned = plan(
            &objects(API),
            Some(&inventory_of(&before)),
            PlanOptions {
                max_prune_percent: 100,
                ..PRUNE
            },
        )
        .expect("plan");
        assert_eq!(planned.count(Step::Prune), 1);
    }

    #[test]
    fn a_duplicate_object_names_both_places() {
        let error = plan(&objects(&format!("{CM}---\n{CM}")), None, PRUNE).expect_err("duplicate");
        assert!(
            error.to_string().contains("t.yaml:1 and t.yaml:"),
            "{error}"
        );
    }
}
