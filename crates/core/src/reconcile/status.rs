//! What is deployed, as the inventory says, against the protected branch: in sync,
//! behind by N changes, failed, or never deployed. For the TUI's environments view.

use std::ops::ControlFlow;
use std::time::Duration;

use serde::Serialize;

use super::cluster::{Cluster, ClusterError, RETRY};
use super::inventory::{Inventory, RunResult};
use crate::config::ClusterConfig;
use crate::history::{HistoryMode, HistoryQuery, default_index_dir, walk_history};
use crate::retry::RetryPolicy;
use crate::workspace::{OpenRepo, WorkspaceError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Deployed {
    NotDeployed,
    InSync {
        revision: String,
    },
    /// `changes`: commits on the protected branch that changed the environment since.
    Behind {
        revision: String,
        changes: usize,
    },
    /// The last pass was refused or partly failed; `revision` still runs.
    Failed {
        revision: Option<String>,
        message: String,
    },
}

impl Deployed {
    /// `in sync`, `behind by 2`, `failed: …`, `not deployed`.
    pub fn label(&self) -> String {
        match self {
            Deployed::NotDeployed => "not deployed".into(),
            Deployed::InSync { .. } => "in sync".into(),
            Deployed::Behind { changes, .. } => format!("behind by {changes}"),
            Deployed::Failed { message, .. } => format!("failed: {message}"),
        }
    }

    pub fn revision(&self) -> Option<&str> {
        match self {
            Deployed::InSync { revision } | Deployed::Behind { revision, .. } => Some(revision),
            Deployed::Failed { revision, .. } => revision.as_deref(),
            Deployed::NotDeployed => None,
        }
    }
}

/// Compare the inventory's revision with the protected branch.
pub fn deployed_status(
    open: &OpenRepo,
    env: &str,
    inventory: Option<&Inventory>,
) -> Result<Deployed, WorkspaceError> {
    let Some(inventory) = inventory else {
        return Ok(Deployed::NotDeployed);
    };
    if matches!(inventory.result, RunResult::Refused | RunResult::Partial) {
        return Ok(Deployed::Failed {
            revision: inventory.revision.clone(),
            message: inventory
                .message
                .clone()
                .unwrap_or_else(|| format!("{:?}", inventory.result).to_lowercase()),
        });
    }
    let Some(revision) = inventory.revision.clone() else {
        return Ok(Deployed::NotDeployed);
    };
    let tip = open.tip()?.to_string();
    if tip == revision {
        return Ok(Deployed::InSync { revision });
    }
    let deployed_time = open
        .repo
        .resolve(&revision)
        .and_then(|id| open.repo.commit_info(id))
        .map(|c| c.committer.time)
        .ok();
    let index_dir = default_index_dir();
    let query = HistoryQuery {
        env: Some(env),
        mode: HistoryMode::Inputs,
        limit: None,
        index_dir: index_dir.as_deref(),
        first_parent: true,
        with_policy: false,
        range: None,
    };
    let mut changes = 0;
    walk_history(open, &query, |entry| {
        if entry.commit.sha == revision
            || deployed_time.is_some_and(|t| entry.commit.committer.time <= t)
        {
            return ControlFlow::Break(());
        }
        changes += 1;
        ControlFlow::Continue(())
    })?;
    Ok(if changes == 0 {
        Deployed::InSync { revision }
    } else {
        Deployed::Behind { revision, changes }
    })
}

/// Read the inventory of `repo`/`env` from the cluster `config` names, quickly: this is
/// for a screen, not a deployment.
pub async fn read_deployed(
    config: &ClusterConfig,
    repo: &str,
    env: &str,
) -> Result<Option<Inventory>, ClusterError> {
    let cluster = Cluster::connect(
        config.kubeconfig.as_deref(),
        config.context.as_deref(),
        Duration::from_secs(5),
        RetryPolicy {
            attempts: 2,
            ..RETRY
        },
    )
    .await?;
    cluster
        .read_inventory(&config.inventory_namespace, repo, env)
        .await
}
