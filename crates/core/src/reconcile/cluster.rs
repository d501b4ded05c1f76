//! The cluster side of reconcile, through kube-rs: kinds resolved through discovery (one
//! request per API group version), server-side apply with the field manager `tollgate`,
//! deletes, reads of live objects, and the inventory ConfigMap. Requests that fail
//! because the API server is unreachable, slow or answering 5xx/429 are retried with
//! backoff; a rejection of one object (409, 422, …) is that object's failure, not the
//! run's.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersion;
use kube::discovery::{ApiCapabilities, ApiResource, Scope};
use serde_json::Value;

use super::inventory::{Inventory, inventory_name};
use crate::retry::{Again, RetryPolicy, retry};

/// The field manager of every apply.
pub const FIELD_MANAGER: &str = "tollgate";

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot read the kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("{what}: the API server did not answer after {attempts} attempts: {message}")]
    Unreachable {
        what: String,
        attempts: u32,
        message: String,
    },
    #[error("{what}: {message}")]
    Api { what: String, message: String },
    #[error(transparent)]
    Inventory(#[from] super::inventory::InventoryError),
}

/// How requests to the API server are retried: five tries, 0.2 s apart and doubling up to
/// 5 s (the API server names no waits tollgate reads).
pub const RETRY: RetryPolicy = RetryPolicy {
    attempts: 5,
    first_wait: Duration::from_millis(200),
    max_backoff: Duration::from_secs(5),
    max_server_wait: Duration::ZERO,
};

/// A kind as the cluster serves it.
#[derive(Clone)]
pub struct Resource {
    pub api: ApiResource,
    pub caps: ApiCapabilities,
}

/// A connection to one cluster, and what discovery learned of it. A clone shares the
/// connection and starts from what this one learned.
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    retry: RetryPolicy,
    /// Per apiVersion: its kinds, or why it could not be listed.
    groups: HashMap<String, Result<Vec<Resource>, String>>,
}

/// Whether a failed request is worth sending again.
fn transient(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => status.code >= 500 || status.code == 429,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// The API server's words for a failure, with its code.
pub fn describe(error: &kube::Error) -> (Option<u16>, String) {
    match error {
        kube::Error::Api(status) => (
            Some(status.code),
            format!("{} {}: {}", status.code, status.reason, status.message),
        ),
        other => (None, other.to_string()),
    }
}

impl Cluster {
    /// Connect with a kubeconfig (`path`, else `$KUBECONFIG` / `~/.kube/config`, else the
    /// in-cluster service account) and a context.
    pub async fn connect(
        kubeconfig: Option<&Path>,
        context: Option<&str>,
        request_timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<Cluster, ClusterError> {
        let options = KubeConfigOptions {
            context: context.map(str::to_string),
            ..KubeConfigOptions::default()
        };
        let mut config = match kubeconfig {
            Some(path) => {
                let file = Kubeconfig::read_from(path)
                    .map_err(|e| ClusterError::Kubeconfig(format!("{}: {e}", path.display())))?;
                kube::Config::from_custom_kubeconfig(file, &options)
                    .await
                    .map_err(|e| ClusterError::Kubeconfig(format!("{}: {e}", path.display())))?
            }
            None if context.is_some() => kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|e| ClusterError::Kubeconfig(e.to_string()))?,
            None => kube::Config::infer()
                .await
                .map_err(|e| ClusterError::Kubeconfig(e.to_string()))?,
        };
        config.read_timeout = Some(request_timeout);
        config.write_timeout = Some(request_timeout);
        config.reset_reader_on_write = true;
        // Retries are ours: they know which failures are worth another attempt.
        config.default_retry = false;
        let client =
            kube::Client::try_from(config).map_err(|e| ClusterError::Kubeconfig(e.to_string()))?;
        Ok(Cluster {
            client,
            retry,
            groups: HashMap::new(),
        })
    }

    /// The kube client, for the parts of reconcile that talk to other APIs (leases).
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// Send a request until it succeeds, fails for good, or the attempts run out.
    async fn with_retry<T, F, Fut>(&self, what: &str, request: F) -> Result<T, kube::Error>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, kube::Error>>,
    {
        retry(
            self.retry,
            request,
            |error| match transient(error) {
                true => Again::AfterBackoff,
                false => Again::No,
            },
            |error, wait| {
                let wait_ms = wait.as_millis() as u64;
                tracing::warn!(what, wait_ms, error = %describe(error).1, "retrying");
            },
        )
        .await
    }

    fn unreachable(&self, what: String, error: &kube::Error) -> ClusterError {
        if transient(error) {
            ClusterError::Unreachable {
                what,
                attempts: self.retry.attempts,
                message: describe(error).1,
            }
        } else {
            ClusterError::Api {
                what,
                message: describe(error).1,
            }
        }
    }

    /// Learn the kinds of every apiVersion in `api_versions` (one request each).
    /// An apiVersion the cluster does not serve is remembered as such; it fails only the
    /// objects that use it. Unreachable is an error for the whole run.
    pub async fn discover(
        &mut self,
        api_versions: impl IntoIterator<Item = String>,
    ) -> Result<(), ClusterError> {
        for api_version in api_versions {
            if self.groups.contains_key(&api_version) {
                continue;
            }
            let gv: GroupVersion = match api_version.parse() {
                Ok(gv) => gv,
                Err(e) => {
                    self.groups.insert(api_version, Err(format!("{e}")));
                    continue;
                }
            };
            let what = format!("discover {api_version}");
            let found = self
                .with_retry(&what, || kube::discovery::pinned_group(&self.client, &gv))
                .await;
            let entry = match found {
                Ok(group) => Ok(group
                    .versioned_resources(&gv.version)
                    .into_iter()
                    .map(|(api, caps)| Resource { api, caps })
                    .collect()),
                Err(kube::Error::Api(status)) if status.code == 404 => {
                    Err(format!("the cluster does not serve {api_version}"))
                }
                Err(error) => return Err(self.unreachable(what, &error)),
            };
            self.groups.insert(api_version, entry);
        }
        Ok(())
    }

    /// Forget the apiVersions the cluster did not serve, so that the next
    /// [`Cluster::discover`] asks again (after CRDs were applied, their groups exist).
    pub fn forget_missing(&mut self) {
        self.groups.retain(|_, found| found.is_ok());
    }

    /// The served kind for `api_version` + `kind`, after [`Cluster::discover`].
    pub fn resource(&self, api_version: &str, kind: &str) -> Result<Resource, String> {
        match self.groups.get(api_version) {
            None => Err(format!("{api_version} was not discovered")),
            Some(Err(e)) => Err(e.clone()),
            Some(Ok(resources)) => resources
                .iter()
                .find(|r| r.api.kind == kind)
                .cloned()
                .ok_or_else(|| format!("the cluster serves no kind {kind} in {api_version}")),
        }
    }

    fn api(&self, resource: &Resource, namespace: Option<&str>) -> Api<DynamicObject> {
        match (&resource.caps.scope, namespace) {
            (Scope::Namespaced, Some(ns)) => {
                Api::namespaced_with(self.client.clone(), ns, &resource.api)
            }
            (Scope::Namespaced, None) => {
                Api::namespaced_with(self.client.clone(), "default", &resource.api)
            }
            (Scope::Cluster, _) => Api::all_with(self.client.clone(), &resource.api),
        }
    }

    /// Server-side apply of one manifest as `tollgate`.
    pub async fn apply(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        name: &str,
        manifest: &Value,
    ) -> Result<(), kube::Error> {
        let api = self.api(resource, namespace);
        let params = PatchParams::apply(FIELD_MANAGER);
        let patch = Patch::Apply(manifest);
        let what = format!("apply {}/{name}", resource.api.kind);
        self.with_retry(&what, || api.patch(name, &params, &patch))
            .await
            .map(|_| ())
    }

    /// What applying `manifest` would make of the object, without writing it: a
    /// server-side dry run, which is not a write.
    pub async fn apply_dry_run(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        name: &str,
        manifest: &Value,
    ) -> Result<Value, kube::Error> {
        let api = self.api(resource, namespace);
        let params = PatchParams::apply(FIELD_MANAGER).dry_run();
        let patch = Patch::Apply(manifest);
        let what = format!("dry-run apply {}/{name}", resource.api.kind);
        let object = self
            .with_retry(&what, || api.patch(name, &params, &patch))
            .await?;
        Ok(serde_json::to_value(object).unwrap_or(Value::Null))
    }

    /// Every object of `resource` in `namespace` (all of them, for a cluster-scoped
    /// kind), by name: one request, however many objects a pass compares.
    pub async fn list(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
    ) -> Result<HashMap<String, Value>, kube::Error> {
        let api = self.api(resource, namespace);
        let what = format!("list {}", resource.api.plural);
        let params = kube::api::ListParams::default();
        let list = self.with_retry(&what, || api.list(&params)).await?;
        Ok(list
            .items
            .into_iter()
            .filter_map(|o| {
                let name = o.metadata.name.clone()?;
                Some((name, serde_json::to_value(o).ok()?))
            })
            .collect())
    }

    /// Delete one object; one that is already gone counts as deleted.
    pub async fn delete(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(), kube::Error> {
        let api = self.api(resource, namespace);
        let what = format!("delete {}/{name}", resource.api.kind);
        let params = DeleteParams::background();
        match self.with_retry(&what, || api.delete(name, &params)).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// The live object, if it exists.
    pub async fn get(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>, kube::Error> {
        let api = self.api(resource, namespace);
        let what = format!("get {}/{name}", resource.api.kind);
        let found = self.with_retry(&what, || api.get_opt(name)).await?;
        Ok(found.and_then(|o| serde_json::to_value(o).ok()))
    }

    /// The inventory of `repo`/`env` in `namespace`, if there is one.
    pub async fn read_inventory(
        &self,
        namespace: &str,
        repo: &str,
        env: &str,
    ) -> Result<Option<Inventory>, ClusterError> {
        let name = inventory_name(repo, env);
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), namespace);
        let what = format!("read inventory {namespace}/{name}");
        let found = self
            .with_retry(&what, || api.get_opt(&name))
            .await
            .map_err(|e| self.unreachable(what.clone(), &e))?;
        match found {
            None => Ok(None),
            Some(config_map) => {
                let data = config_map.data.unwrap_or_default();
                Ok(Some(Inventory::from_data(&name, &data)?))
            }
        }
    }

    /// Write the inventory (server-side apply, so it is created the first time).
    pub async fn write_inventory(
        &self,
        namespace: &str,
        repo: &str,
        env: &str,
        inventory: &Inventory,
    ) -> Result<(), ClusterError> {
        let name = inventory_name(repo, env);
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), namespace);
        let data: BTreeMap<String, String> = inventory.to_data();
        let manifest = serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {
                    "app.kubernetes.io/managed-by": "tollgate",
                    "tollgate.dev/repo": label_value(repo),
                    "tollgate.dev/environment": label_value(env),
                },
            },
            "data": data,
        });
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let patch = Patch::Apply(&manifest);
        let what = format!("write inventory {namespace}/{name}");
        self.with_retry(&what, || api.patch(&name, &params, &patch))
            .await
            .map(|_| ())
            .map_err(|e| self.unreachable(what.clone(), &e))
    }
}

/// A label value: at most 63 characters of `[A-Za-z0-9._-]`.
fn label_value(text: &str) -> String {
    let mut value: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    value.truncate(63);
    value
}
