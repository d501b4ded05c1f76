//! The inventory: what the last apply of an environment put in the cluster, kept in a
//! ConfigMap per environment. It is how the next run knows what is unchanged (same
//! digest) and what to prune (in the inventory, gone from git), and how people see the
//! deployed revision. Pure: the ConfigMap's `data` in and out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::manifest::ObjectKey;

/// The ConfigMap's name for an environment: `tollgate-REPO-ENV`, lower-cased and cut to
/// what a Kubernetes name allows.
pub fn inventory_name(repo: &str, env: &str) -> String {
    let raw = format!("tollgate-{repo}-{env}").to_lowercase();
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    name.truncate(253);
    name.trim_end_matches('-').to_string()
}

/// One object the last apply wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryEntry {
    #[serde(rename = "v")]
    pub api_version: String,
    #[serde(rename = "k")]
    pub kind: String,
    #[serde(rename = "ns", default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(rename = "n")]
    pub name: String,
    /// Digest of the manifest that was applied.
    #[serde(rename = "d")]
    pub digest: String,
    /// Whether pruning may delete it (false for Namespaces, CRDs and PVCs unless they are
    /// annotated `tollgate.dev/prune: "true"`).
    #[serde(rename = "p")]
    pub prunable: bool,
}

impl InventoryEntry {
    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            group: crate::manifest::object::group_of(&self.api_version).to_string(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

/// How the last run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunResult {
    Applied,
    /// Some objects were rejected; the rest were applied.
    Partial,
    /// Verification or rendering refused the revision; nothing was applied.
    Refused,
    /// Stopped by SIGTERM between requests.
    Interrupted,
}

/// What the inventory ConfigMap holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// The commit whose render was applied last (the last good one when a run refused).
    pub revision: Option<String>,
    /// RFC 3339.
    pub time: String,
    pub result: RunResult,
    /// `created`, `updated`, `unchanged`, `pruned`, `failed` of the last run.
    pub counts: BTreeMap<String, usize>,
    pub objects: Vec<InventoryEntry>,
    /// Why the last run refused or failed, in words.
    pub message: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "inventory ConfigMap {name}: {message}; delete it to start over (the next run then prunes nothing)"
)]
pub struct InventoryError {
    pub name: String,
    pub message: String,
}

impl Inventory {
    /// The ConfigMap `data` for this inventory.
    pub fn to_data(&self) -> BTreeMap<String, String> {
        let mut data = BTreeMap::new();
        if let Some(revision) = &self.revision {
            data.insert("revision".into(), revision.clone());
        }
        data.insert("time".into(), self.time.clone());
        data.insert(
            "result".into(),
            serde_json::to_value(self.result)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        );
        data.insert(
            "counts".into(),
            serde_json::to_string(&self.counts).unwrap_or_default(),
        );
        let objects: String = self
            .objects
            .iter()
            .filter_map(|o| serde_json::to_string(o).ok())
            .map(|line| line + "\n")
            .collect();
        data.insert("objects".into(), objects);
        if let Some(message) = &self.message {
            data.insert("message".into(), message.clone());
        }
        data
    }

    /// Read an inventory back from ConfigMap `data`.
    pub fn from_data(
        name: &str,
        data: &BTreeMap<String, String>,
    ) -> Result<Inventory, InventoryError> {
        let error = |message: String| InventoryError {
            name: name.to_string(),
            message,
        };
        let result = data
            .get("result")
            .map(|r| serde_json::from_value(serde_json::Value::String(r.clone())))
            .transpose()
            .map_err(|e| error(format!("`result` is unreadable: {e}")))?
            .unwrap_or(RunResult::Applied);
        let counts = match data.get("counts") {
            Some(text) => serde_json::from_str(text)
                .map_err(|e| error(format!("`counts` is unreadable: {e}")))?,
            None => BTreeMap::new(),
        };
        let mut objects = Vec::new();
        for (number, line) in data
            .get("objects")
            .map(String::as_str)
            .unwrap_or("")
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            objects.push(
                serde_json::from_str(line)
                    .map_err(|e| error(format!("`objects` line {}: {e}", number + 1)))?,
            );
        }
        Ok(Inventory {
            revision: data.get("revision").cloned(),
            time: data.get("time").cloned().unwrap_or_default(),
            result,
            counts,
            objects,
            message: data.get("message").cloned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inventory_reads_back_what_was_written() {
        let inventory = Inventory {
            revision: Some("abc".into()),
            time: "2026-11-26T10:00:00Z".into(),
            result: RunResult::Partial,
            counts: BTreeMap::from([("created".to_string(), 2)]),
            objects: vec![InventoryEntry {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: Some("shop".into()),
                name: "api".into(),
                digest: "sha256:1".into(),
                prunable: true,
            }],
            message: Some("1 object rejected".into()),
        };
        let back = Inventory::from_data("x", &inventory.to_data()).expect("reads");
        assert_eq!(back, inventory);
        assert_eq!(back.objects[0].key().group, "apps");
    }

    #[test]
    fn a_damaged_inventory_names_the_line() {
        let data = BTreeMap::from([(
            "objects".to_string(),
            "{\"v\":\"v1\"}\nnot json\n".to_string(),
        )]);
        let error = Inventory::from_data("tollgate-shop-production", &data).expect_err("damaged");
        assert!(error.to_string().contains("line 1"), "{error}");
    }

    #[test]
    fn names_are_valid_kubernetes_names() {
        assert_eq!(inventory_name("Shop", "prod_eu"), "tollgate-shop-prod-eu");
    }
}
