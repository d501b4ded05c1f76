//! A Kubernetes API server for the tests, over real HTTP: the subset reconcile uses
//! (discovery of the core and named groups, GET, server-side apply PATCH with a field
//! manager, DELETE, ConfigMaps for the inventory), answering as the API server does —
//! `Status` bodies with 404, 409, 422, 500; CRDs that make their group served once
//! applied; a "controller" that rolls workloads out at once. It records every request,
//! and can be told to fail or stall some of them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use serde_json::{Value, json};

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: String,
    pub body: Option<Value>,
    /// Who sent it: the bearer token of its kubeconfig (see [`FakeApi::kubeconfig_as`]).
    pub who: String,
    /// When it arrived, and when the server acted on it (after any injected delay).
    pub arrived: std::time::Instant,
    pub landed: Option<std::time::Instant>,
}

impl Recorded {
    /// Whether it could change the cluster: a dry run (`dryRun=All`) cannot.
    pub fn is_write(&self) -> bool {
        !matches!(self.method.as_str(), "GET" | "HEAD")
            && !self.query.split('&').any(|p| p == "dryRun=All")
    }

    pub fn field_manager(&self) -> Option<String> {
        self.query
            .split('&')
            .find_map(|p| p.strip_prefix("fieldManager="))
            .map(str::to_string)
    }
}

/// Make matching requests fail (or stall) `times` times.
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: &'static str,
    pub path_contains: String,
    pub status: u16,
    pub times: usize,
    pub delay: Duration,
    /// Only the requests of this sender (its bearer token); `None`: everyone's.
    pub who: Option<&'static str>,
}

#[derive(Clone)]
struct Kind {
    group: String,
    version: String,
    kind: String,
    plural: String,
    namespaced: bool,
}

#[derive(Default)]
struct Store {
    kinds: Vec<Kind>,
    /// Object path (without the name) → name → object.
    objects: BTreeMap<String, BTreeMap<String, Value>>,
    requests: Vec<Recorded>,
    faults: Vec<Fault>,
    version: u64,
}

pub struct FakeApi {
    pub addr: SocketAddr,
    store: Arc<Mutex<Store>>,
    _runtime: tokio::runtime::Runtime,
}

fn builtin_kinds() -> Vec<Kind> {
    let k = |group: &str, version: &str, kind: &str, plural: &str, namespaced: bool| Kind {
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
        plural: plural.into(),
        namespaced,
    };
    vec![
        k("", "v1", "Namespace", "namespaces", false),
        k("", "v1", "ConfigMap", "configmaps", true),
        k("", "v1", "Secret", "secrets", true),
        k("", "v1", "Service", "services", true),
        k("", "v1", "ServiceAccount", "serviceaccounts", true),
        k(
            "",
            "v1",
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            true,
        ),
        k("apps", "v1", "Deployment", "deployments", true),
        k("apps", "v1", "StatefulSet", "statefulsets", true),
        k("apps", "v1", "DaemonSet", "daemonsets", true),
        k("batch", "v1", "Job", "jobs", true),
        k(
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            true,
        ),
        k("networking.k8s.io", "v1", "Ingress", "ingresses", true),
        k(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            false,
        ),
        k("coordination.k8s.io", "v1", "Lease", "leases", true),
    ]
}

fn status(code: u16, reason: &str, message: String) -> Response {
    let body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn ok(code: StatusCode, body: Value) -> Response {
    (
        code,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

impl FakeApi {
    pub fn start() -> FakeApi {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let store = Arc::new(Mutex::new(Store {
            kinds: builtin_kinds(),
            ..Store::default()
        }));
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(store.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        // As the API server does (Go sets TCP_NODELAY on every connection): without it,
        // Nagle and delayed ACKs add tens of milliseconds to each small response.
        let listener = listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        runtime.spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        FakeApi {
            addr,
            store,
            _runtime: runtime,
        }
    }

    /// A kubeconfig pointing at this server, written into `dir`.
    /// A kubeconfig whose requests carry `who` as their bearer token, so that the
    /// requests of several replicas can be told apart.
    pub fn kubeconfig_as(&self, dir: &Path, who: &str) -> PathBuf {
        let path = dir.join(format!("kubeconfig-{who}"));
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://{}\nusers:\n- name: fake\n  user: {{token: {who}}}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\ncurrent-context: fake\n",
                self.addr
            ),
        )
        .expect("write kubeconfig");
        path
    }

    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://{}\nusers:\n- name: fake\n  user: {{}}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\ncurrent-context: fake\n",
                self.addr
            ),
        )
        .expect("write kubeconfig");
        path
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.store.lock().expect("store").requests.clone()
    }

    pub fn clear_requests(&self) {
        self.store.lock().expect("store").requests.clear();
    }

    pub fn fail(&self, fault: Fault) {
        self.store.lock().expect("store").faults.push(fault);
    }

    /// Change the stored object at `path` as someone with `kubectl edit` would.
    pub fn edit(&self, path: &str, change: impl FnOnce(&mut Value)) {
        let (collection, name) = path.rsplit_once('/').expect("an object path");
        let mut store = self.store.lock().expect("store");
        store.version += 1;
        let version = store.version.to_string();
        let object = store
            .objects
            .get_mut(collection)
            .and_then(|c| c.get_mut(name))
            .unwrap_or_else(|| panic!("no object at {path}"));
        change(object);
        object["metadata"]["resourceVersion"] = json!(version);
    }

    /// Delete the stored object at `path` behind reconcile's back.
    pub fn remove(&self, path: &str) {
        let (collection, name) = path.rsplit_once('/').expect("an object path");
        let mut store = self.store.lock().expect("store");
        store
            .objects
            .get_mut(collection)
            .and_then(|c| c.remove(name))
            .unwrap_or_else(|| panic!("no object at {path}"));
    }

    /// The stored object at `path` (as the API addresses it), if any.
    pub fn object(&self, path: &str) -> Option<Value> {
        let (collection, name) = path.rsplit_once('/')?;
        self.store
            .lock()
            .expect("store")
            .objects
            .get(collection)?
            .get(name)
            .cloned()
    }
}

async fn handle(
    State(store): State<Arc<Mutex<Store>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body_value: Option<Value> = if body.is_empty() {
        None
    } else {
        serde_json::from_slice(&body).ok()
    };
    let who = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_string();
    let (fault, index) = {
        let mut store = store.lock().expect("store");
        store.requests.push(Recorded {
            method: method.to_string(),
            path: path.clone(),
            query: query.clone(),
            content_type: content_type.clone(),
            body: body_value.clone(),
            who: who.clone(),
            arrived: std::time::Instant::now(),
            landed: None,
        });
        let index = store.requests.len() - 1;
        let found = store.faults.iter_mut().find(|f| {
            f.times > 0
                && f.method == method.as_str()
                && path.contains(&f.path_contains)
                && f.who.is_none_or(|w| w == who)
        });
        (
            found.map(|f| {
                f.times -= 1;
                (f.status, f.delay)
            }),
            index,
        )
    };
    if let Some((code, delay)) = fault {
        tokio::time::sleep(delay).await;
        if code != 0 {
            let reason = match code {
                409 => "Conflict",
                422 => "Invalid",
                404 => "NotFound",
                _ => "InternalError",
            };
            return status(code, reason, format!("injected {code} for {path}"));
        }
    }
    let mut store = store.lock().expect("store");
    // A request cleared away by `clear_requests` meanwhile has no record to mark.
    if let Some(recorded) = store.requests.get_mut(index)
        && recorded.path == path
    {
        recorded.landed = Some(std::time::Instant::now());
    }
    respond(
        &mut store,
        &method,
        &path,
        &query,
        &content_type,
        body_value,
    )
}

fn discovery(store: &Store, group: &str, version: &str) -> Option<Value> {
    let resources: Vec<Value> = store
        .kinds
        .iter()
        .filter(|k| k.group == group && k.version == version)
        .map(|k| {
            json!({
                "name": k.plural,
                "singularName": k.kind.to_lowercase(),
                "namespaced": k.namespaced,
                "kind": k.kind,
                "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
            })
        })
        .collect();
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}),
    )
}

/// `(kind, namespace, name)` for an object path, with the collection path.
fn locate<'a>(
    store: &'a Store,
    path: &str,
) -> Option<(&'a Kind, Option<String>, Option<String>, String)> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    let (namespace, plural, name) = match rest {
        ["namespaces", ns, plural, name] => (Some(ns.to_string()), *plural, Some(name.to_string())),
        ["namespaces", ns, plural] => (Some(ns.to_string()), *plural, None),
        [plural, name] => (None, *plural, Some(name.to_string())),
        [plural] => (None, *plural, None),
        _ => return None,
    };
    let kind = store
        .kinds
        .iter()
        .find(|k| k.group == group && k.version == version && k.plural == plural)?;
    let collection = match name {
        Some(_) => path.rsplit_once('/').map(|(c, _)| c.to_string())?,
        None => path.to_string(),
    };
    Some((kind, namespace, name, collection))
}

fn respond(
    store: &mut Store,
    method: &Method,
    path: &str,
    query: &str,
    content_type: &str,
    body: Option<Value>,
) -> Response {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // Discovery.
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["api", version]) => {
            return match discovery(store, "", version) {
                Some(list) => ok(StatusCode::OK, list),
                None => status(404, "NotFound", format!("no api/{version}")),
            };
        }
        ("GET", ["apis", group, version]) => {
            return match discovery(store, group, version) {
                Some(list) => ok(StatusCode::OK, list),
                None => status(
                    404,
                    "NotFound",
                    format!("the server could not find the requested resource ({group}/{version})"),
                ),
            };
        }
        _ => {}
    }
    let Some((kind, namespace, name, collection)) = locate(store, path) else {
        return status(
            404,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        );
    };
    let kind = kind.clone();
    if kind.namespaced != namespace.is_some() {
        return status(
            404,
            "NotFound",
            format!(
                "{} is {}namespaced",
                kind.kind,
                if kind.namespaced { "" } else { "not " }
            ),
        );
    }
    let Some(name) = name else {
        // List (GET on the collection).
        if method.as_str() == "GET" {
            let items: Vec<Value> = store
                .objects
                .get(&collection)
                .map(|c| c.values().cloned().collect())
                .unwrap_or_default();
            return ok(
                StatusCode::OK,
                json!({
                    "kind": format!("{}List", kind.kind),
                    "apiVersion": if kind.group.is_empty() { kind.version.clone() } else { format!("{}/{}", kind.group, kind.version) },
                    "metadata": {"resourceVersion": store.version.to_string()},
                    "items": items,
                }),
            );
        }
        // Create (POST to the collection): refused if the name is taken.
        if method.as_str() != "POST" {
            return status(
                405,
                "MethodNotAllowed",
                "only POST is served on collections".into(),
            );
        }
        let Some(mut object) = body else {
            return status(400, "BadRequest", "the body is not JSON".into());
        };
        let Some(name) = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return status(422, "Invalid", "metadata.name is required".into());
        };
        if store
            .objects
            .get(&collection)
            .is_some_and(|c| c.contains_key(&name))
        {
            return status(
                409,
                "AlreadyExists",
                format!("{} \"{name}\" already exists", kind.plural),
            );
        }
        store.version += 1;
        object["metadata"]["resourceVersion"] = json!(store.version.to_string());
        store
            .objects
            .entry(collection)
            .or_default()
            .insert(name, object.clone());
        return ok(StatusCode::CREATED, object);
    };
    // Replace (PUT): refused unless the resourceVersion is the stored one.
    if method.as_str() == "PUT" {
        let Some(mut object) = body else {
            return status(400, "BadRequest", "the body is not JSON".into());
        };
        let Some(stored) = store
            .objects
            .get(&collection)
            .and_then(|c| c.get(&name))
            .cloned()
        else {
            return status(
                404,
                "NotFound",
                format!("{} \"{name}\" not found", kind.plural),
            );
        };
        if object.pointer("/metadata/resourceVersion")
            != stored.pointer("/metadata/resourceVersion")
        {
            return status(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                    kind.plural
                ),
            );
        }
        store.version += 1;
        object["metadata"]["resourceVersion"] = json!(store.version.to_string());
        store
            .objects
            .entry(collection)
            .or_default()
            .insert(name, object.clone());
        return ok(StatusCode::OK, object);
    }
    match method.as_str() {
        "GET" => match store.objects.get(&collection).and_then(|c| c.get(&name)) {
            Some(object) => ok(StatusCode::OK, object.clone()),
            None => status(
                404,
                "NotFound",
                format!("{} \"{name}\" not found", kind.plural),
            ),
        },
        "DELETE" => match store
            .objects
            .get_mut(&collection)
            .and_then(|c| c.remove(&name))
        {
            Some(_) => ok(
                StatusCode::OK,
                json!({"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 200}),
            ),
            None => status(
                404,
                "NotFound",
                format!("{} \"{name}\" not found", kind.plural),
            ),
        },
        "PATCH" => {
            if content_type != "application/apply-patch+yaml" {
                return status(
                    415,
                    "UnsupportedMediaType",
                    format!("only server-side apply is served, not {content_type}"),
                );
            }
            let Some(manager) = query
                .split('&')
                .find_map(|p| p.strip_prefix("fieldManager="))
            else {
                return status(
                    422,
                    "Invalid",
                    "fieldManager is required for apply patch".into(),
                );
            };
            let Some(mut applied) = body else {
                return status(400, "BadRequest", "the body is not JSON or YAML".into());
            };
            if applied.get("kind").and_then(Value::as_str) != Some(kind.kind.as_str()) {
                return status(400, "BadRequest", "kind does not match the path".into());
            }
            // A dry run: what the object would be, with nothing stored.
            if query.split('&').any(|p| p == "dryRun=All") {
                let mut merged = store
                    .objects
                    .get(&collection)
                    .and_then(|c| c.get(&name))
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                merge_applied(&mut merged, &applied);
                return ok(StatusCode::OK, merged);
            }
            store.version += 1;
            let version = store.version;
            let existing = store
                .objects
                .get(&collection)
                .and_then(|c| c.get(&name))
                .cloned();
            let created = existing.is_none();
            let old_generation = existing
                .as_ref()
                .and_then(|o| o.pointer("/metadata/generation"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let spec_changed =
                existing.as_ref().map(|o| o.get("spec")) != Some(applied.get("spec"));
            let generation = if spec_changed {
                old_generation + 1
            } else {
                old_generation
            };
            let metadata = applied
                .as_object_mut()
                .and_then(|o| o.get_mut("metadata"))
                .and_then(Value::as_object_mut);
            if let Some(metadata) = metadata {
                metadata.insert("resourceVersion".into(), json!(version.to_string()));
                metadata.insert("generation".into(), json!(generation));
                metadata.insert("uid".into(), json!(format!("uid-{name}")));
                metadata.insert(
                    "managedFields".into(),
                    json!([{"manager": manager, "operation": "Apply"}]),
                );
            }
            // The controllers: CRDs are established at once, workloads roll out at once.
            let replicas = applied
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            match kind.kind.as_str() {
                "CustomResourceDefinition" => {
                    applied["status"] =
                        json!({"conditions": [{"type": "Established", "status": "True"}]});
                    let spec = applied.get("spec").cloned().unwrap_or_default();
                    let group = spec
                        .get("group")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    let crd_kind = spec
                        .pointer("/names/kind")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    let plural = spec
                        .pointer("/names/plural")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    let namespaced =
                        spec.get("scope").and_then(Value::as_str) == Some("Namespaced");
                    for version in spec
                        .get("versions")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let version = version
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("v1")
                            .to_string();
                        if !store
                            .kinds
                            .iter()
                            .any(|k| k.group == group && k.version == version && k.kind == crd_kind)
                        {
                            store.kinds.push(Kind {
                                group: group.clone(),
                                version,
                                kind: crd_kind.clone(),
                                plural: plural.clone(),
                                namespaced,
                            });
                        }
                    }
                }
                "Deployment" | "StatefulSet" => {
                    applied["status"] = json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas});
                }
                "DaemonSet" => {
                    applied["status"] = json!({"observedGeneration": generation, "desiredNumberScheduled": 1, "updatedNumberScheduled": 1, "numberAvailable": 1});
                }
                "Job" => {
                    applied["status"] =
                        json!({"conditions": [{"type": "Complete", "status": "True"}]});
                }
                _ => {}
            }
            store
                .objects
                .entry(collection)
                .or_default()
                .insert(name, applied.clone());
            ok(
                if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                },
                applied,
            )
        }
        other => status(
            405,
            "MethodNotAllowed",
            format!("{other} is not served here"),
        ),
    }
}

/// `applied` over `object`, map by map, as an apply of those fields would leave them.
fn merge_applied(object: &mut Value, applied: &Value) {
    match (object, applied) {
        (Value::Object(have), Value::Object(want)) => {
            for (key, value) in want {
                merge_applied(have.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (slot, value) => *slot = value.clone(),
    }
}
