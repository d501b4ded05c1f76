//! A GitHub REST API for the tests, over real HTTP: the repository, its open pull requests
//! (paginated with `Link` headers), reviews (and posting them), commit statuses and check
//! runs, the merge endpoint (which really merges in the origin repository, as GitHub
//! does), review dismissals and `/user`. Every answer carries the rate-limit headers and
//! an ETag; `If-None-Match` gets a 304. Pull request heads are `refs/pull/N/head` in a bare
//! origin repository that the mirror fetches over `file://`. It records every request and
//! can be told to fail some.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::Digest;
use tollgate::git::Repo;
use tollgate::git::write::Signature;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub authorization: String,
    pub if_none_match: Option<String>,
    pub body: Option<Value>,
    pub status: u16,
}

/// Make matching requests fail `times` times with `status`, `headers` and `body`.
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: &'static str,
    pub path_contains: String,
    pub status: u16,
    pub times: usize,
    pub headers: Vec<(&'static str, String)>,
    pub body: Value,
}

impl Fault {
    pub fn new(method: &'static str, path_contains: &str, status: u16, times: usize) -> Fault {
        Fault {
            method,
            path_contains: path_contains.to_string(),
            status,
            times,
            headers: Vec::new(),
            body: json!({"message": "Server Error"}),
        }
    }
}

/// A pull request the server holds; its head is `refs/pull/N/head` in the origin.
#[derive(Debug, Clone)]
pub struct FakePull {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub author: String,
    pub head_ref: String,
    pub base_ref: String,
    pub draft: bool,
    pub labels: Vec<String>,
    pub created_at: String,
    pub open: bool,
    pub requested_reviewers: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct FakeReview {
    pub id: u64,
    pub user: String,
    pub state: String,
    pub commit_id: String,
    pub submitted_at: String,
    pub body: String,
}

struct FakeRepo {
    default_branch: String,
    origin: PathBuf,
    pulls: Vec<FakePull>,
    reviews: BTreeMap<u64, Vec<FakeReview>>,
    /// Commit sha → (context, state).
    statuses: BTreeMap<String, Vec<(String, String)>>,
    /// Commit sha → (name, conclusion or None while running).
    check_runs: BTreeMap<String, Vec<(String, Option<String>)>>,
    /// Pull request number → how GitHub merged it.
    merged: BTreeMap<u64, Merged>,
    /// Commit sha → the login GitHub verifies its signature for (`web-flow` for its own
    /// merges and API commits).
    verified: BTreeMap<String, String>,
}

/// GitHub's record of a merged pull request.
#[derive(Debug, Clone)]
struct Merged {
    by: String,
    commit: String,
    head: String,
}

struct Store {
    repos: BTreeMap<String, FakeRepo>,
    /// Token → login.
    tokens: BTreeMap<String, String>,
    requests: Vec<Recorded>,
    faults: Vec<Fault>,
    page_size: usize,
    remaining: u64,
    next_id: u64,
    addr: String,
    /// Added to every answer, as GitHub's own latency.
    latency: std::time::Duration,
    /// Serve the repositories over git's smart HTTP (`/git/OWNER/NAME.git`, through
    /// `git http-backend`) and give that as their clone URL.
    git_over_http: bool,
}

pub struct FakeGitHub {
    store: Arc<Mutex<Store>>,
    _runtime: tokio::runtime::Runtime,
}

impl FakeGitHub {
    pub fn start() -> FakeGitHub {
        Self::start_with(None)
    }

    /// The same server over HTTPS, with a self-signed certificate for 127.0.0.1 written
    /// to `cert` (PEM) for the client to trust (`SSL_CERT_FILE`). Git over HTTPS then
    /// wants the token, as github.com does.
    pub fn start_tls(cert: &Path) -> FakeGitHub {
        Self::start_with(Some(cert))
    }

    fn start_with(cert: Option<&Path>) -> FakeGitHub {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let store = Arc::new(Mutex::new(Store {
            repos: BTreeMap::new(),
            tokens: BTreeMap::new(),
            requests: Vec::new(),
            faults: Vec::new(),
            page_size: 100,
            remaining: 5000,
            next_id: 1000,
            addr: format!("{}://{addr}", if cert.is_some() { "https" } else { "http" }),
            latency: std::time::Duration::ZERO,
            git_over_http: false,
        }));
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(store.clone());
        match cert {
            None => {
                runtime.spawn(async move {
                    axum::serve(listener, app).await.expect("serve");
                });
            }
            Some(cert) => {
                let acceptor = tls_acceptor(cert);
                runtime.spawn(async move {
                    loop {
                        let Ok((tcp, _)) = listener.accept().await else {
                            continue;
                        };
                        let (acceptor, app) = (acceptor.clone(), app.clone());
                        tokio::spawn(async move {
                            let Ok(tls) = acceptor.accept(tcp).await else {
                                return;
                            };
                            let service = hyper_util::service::TowerToHyperService::new(app);
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                                .await;
                        });
                    }
                });
            }
        }
        FakeGitHub {
            store,
            _runtime: runtime,
        }
    }

    /// The `api_url` to configure.
    pub fn url(&self) -> String {
        self.lock().addr.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().expect("store")
    }

    /// `token` authenticates as `login`.
    pub fn token(&self, token: &str, login: &str) {
        self.lock()
            .tokens
            .insert(token.to_string(), login.to_string());
    }

    /// Serve `owner/name` from the bare repository at `origin`.
    pub fn repo(&self, slug: &str, origin: &Path, default_branch: &str) {
        self.lock().repos.insert(
            slug.to_string(),
            FakeRepo {
                default_branch: default_branch.to_string(),
                origin: origin.to_path_buf(),
                pulls: Vec::new(),
                reviews: BTreeMap::new(),
                statuses: BTreeMap::new(),
                check_runs: BTreeMap::new(),
                merged: BTreeMap::new(),
                verified: BTreeMap::new(),
            },
        );
    }

    /// Open pull request `number` of `slug` from `head` (a commit in the origin), as
    /// GitHub does: `refs/pull/N/head` points at it.
    pub fn open_pull(&self, slug: &str, pull: FakePull, head: gix::ObjectId) {
        let mut store = self.lock();
        let repo = store.repos.get_mut(slug).expect("repo registered");
        set_ref(
            &repo.origin,
            &format!("refs/pull/{}/head", pull.number),
            head,
        );
        repo.pulls.push(pull);
    }

    /// Move pull request `number`'s head (a push to it).
    pub fn push_to_pull(&self, slug: &str, number: u64, head: gix::ObjectId) {
        let store = self.lock();
        let repo = store.repos.get(slug).expect("repo registered");
        set_ref(&repo.origin, &format!("refs/pull/{number}/head"), head);
    }

    /// The head of pull request `number` as GitHub has it now.
    pub fn head_of_pull(&self, slug: &str, number: u64) -> String {
        head_of(&self.lock().repos[slug], number)
    }

    pub fn review(&self, slug: &str, number: u64, user: &str, state: &str, commit: &str) {
        let mut store = self.lock();
        store.next_id += 1;
        let id = store.next_id;
        let repo = store.repos.get_mut(slug).expect("repo registered");
        let n = repo.reviews.get(&number).map_or(0, Vec::len);
        repo.reviews.entry(number).or_default().push(FakeReview {
            id,
            user: user.to_string(),
            state: state.to_string(),
            commit_id: commit.to_string(),
            submitted_at: format!("2026-11-20T10:{:02}:00Z", n.min(59)),
            body: String::new(),
        });
    }

    /// GitHub verifies the signature of commit `sha` for `login` (a key of theirs that
    /// GitHub knows, as for a signed push).
    pub fn verifies(&self, slug: &str, sha: &str, login: &str) {
        let mut store = self.lock();
        let repo = store.repos.get_mut(slug).expect("repo registered");
        repo.verified.insert(sha.to_string(), login.to_string());
    }

    /// Record pull request `number` as merged by `login` as `commit` (a merge pushed
    /// from elsewhere, which GitHub notices), closing it.
    pub fn record_merge(&self, slug: &str, number: u64, login: &str, commit: &str) {
        let mut store = self.lock();
        let repo = store.repos.get_mut(slug).expect("repo registered");
        let head = head_of(repo, number);
        repo.merged.insert(
            number,
            Merged {
                by: login.to_string(),
                commit: commit.to_string(),
                head,
            },
        );
        if let Some(p) = repo.pulls.iter_mut().find(|p| p.number == number) {
            p.open = false;
        }
    }

    pub fn status(&self, slug: &str, sha: &str, context: &str, state: &str) {
        let mut store = self.lock();
        let repo = store.repos.get_mut(slug).expect("repo registered");
        repo.statuses
            .entry(sha.to_string())
            .or_default()
            .push((context.to_string(), state.to_string()));
    }

    pub fn check_run(&self, slug: &str, sha: &str, name: &str, conclusion: Option<&str>) {
        let mut store = self.lock();
        let repo = store.repos.get_mut(slug).expect("repo registered");
        repo.check_runs
            .entry(sha.to_string())
            .or_default()
            .push((name.to_string(), conclusion.map(str::to_string)));
    }

    /// Serve git over plain smart HTTP (as a public repository; a token would only ever go
    /// over HTTPS, which needs a certificate these tests do not have).
    pub fn git_over_http(&self) {
        self.lock().git_over_http = true;
    }

    /// Answer every request `latency` late (concurrent requests wait together); for
    /// benches/github_inbox.rs.
    #[allow(dead_code)]
    pub fn latency(&self, latency: std::time::Duration) {
        self.lock().latency = latency;
    }

    /// At most `size` items per page, whatever `per_page` asks.
    pub fn page_size(&self, size: usize) {
        self.lock().page_size = size;
    }

    pub fn fail(&self, fault: Fault) {
        self.lock().faults.push(fault);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    pub fn reviews_of(&self, slug: &str, number: u64) -> Vec<FakeReview> {
        self.lock().repos[slug]
            .reviews
            .get(&number)
            .cloned()
            .unwrap_or_default()
    }

    pub fn is_open(&self, slug: &str, number: u64) -> bool {
        self.lock().repos[slug]
            .pulls
            .iter()
            .any(|p| p.number == number && p.open)
    }
}

/// A TLS acceptor with a fresh self-signed certificate for 127.0.0.1, written to `cert`.
fn tls_acceptor(cert: &Path) -> tokio_rustls::TlsAcceptor {
    let generated =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("certificate");
    std::fs::write(cert, generated.cert.pem()).expect("write certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(generated.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(vec![generated.cert.der().clone()], key)
    .expect("TLS config");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

fn set_ref(origin: &Path, name: &str, id: gix::ObjectId) {
    let repo = Repo::open("origin", origin).expect("open origin");
    let old = repo.resolve(name).ok();
    repo.update_ref(name, old, id, "fake github", &github_signature())
        .expect("set ref");
}

fn github_signature() -> Signature {
    Signature {
        name: "GitHub".into(),
        email: "noreply@github.com".into(),
        time: 1_795_000_000,
    }
}

/// A user object shaped like GitHub's.
pub fn user(login: &str) -> Value {
    let api = format!("https://api.github.com/users/{login}");
    json!({
        "login": login,
        "id": login.bytes().map(u64::from).sum::<u64>(),
        "node_id": format!("U_{login}"),
        "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": "User",
        "site_admin": false
    })
}

fn repo_json(addr: &str, slug: &str, repo: &FakeRepo, git_over_http: bool) -> Value {
    let (owner, name) = slug.split_once('/').expect("owner/name");
    json!({
        "id": slug.len() as u64 * 1000 + 7,
        "node_id": format!("R_{slug}"),
        "name": name,
        "full_name": slug,
        "owner": user(owner),
        "private": true,
        "html_url": format!("https://github.com/{slug}"),
        "url": format!("{addr}/repos/{slug}"),
        "clone_url": if git_over_http {
            format!("{addr}/git/{slug}.git")
        } else {
            format!("file://{}", repo.origin.display())
        },
        "default_branch": repo.default_branch,
    })
}

fn head_of(repo: &FakeRepo, number: u64) -> String {
    let origin = Repo::open("origin", &repo.origin).expect("open origin");
    head_in(&origin, number)
}

fn head_in(origin: &Repo, number: u64) -> String {
    origin
        .resolve(&format!("refs/pull/{number}/head"))
        .map(|id| id.to_string())
        .unwrap_or_default()
}

/// A pull request as GitHub serves it; `origin` is opened once by the caller (a list
/// of many).
fn pull_json(addr: &str, slug: &str, repo: &FakeRepo, origin: &Repo, pull: &FakePull) -> Value {
    let merged = repo.merged.get(&pull.number);
    let head_sha = merged
        .map(|m| m.head.clone())
        .unwrap_or_else(|| head_in(origin, pull.number));
    let base_sha = origin
        .resolve(&format!("refs/heads/{}", pull.base_ref))
        .map(|id| id.to_string())
        .unwrap_or_default();
    let repo_value = repo_json(addr, slug, repo, false);
    json!({
        "url": format!("{addr}/repos/{slug}/pulls/{}", pull.number),
        "id": 500_000 + pull.number,
        "node_id": format!("PR_{}", pull.number),
        "html_url": format!("https://github.com/{slug}/pull/{}", pull.number),
        "number": pull.number,
        "state": if pull.open { "open" } else { "closed" },
        "locked": false,
        "title": pull.title,
        "user": user(&pull.author),
        "body": pull.body,
        "labels": pull.labels.iter().enumerate().map(|(i, name)| json!({
            "id": 900 + i as u64,
            "node_id": format!("L_{name}"),
            "url": format!("{addr}/repos/{slug}/labels/{name}"),
            "name": name,
            "description": null,
            "color": "ededed",
            "default": false,
        })).collect::<Vec<_>>(),
        "created_at": pull.created_at,
        "updated_at": pull.created_at,
        "draft": pull.draft,
        "requested_reviewers": pull.requested_reviewers.iter().map(|l| user(l)).collect::<Vec<_>>(),
        "head": {
            "label": format!("acme:{}", pull.head_ref),
            "ref": pull.head_ref,
            "sha": head_sha,
            "user": user("acme"),
            "repo": repo_value,
        },
        "base": {
            "label": format!("acme:{}", pull.base_ref),
            "ref": pull.base_ref,
            "sha": base_sha,
            "user": user("acme"),
            "repo": repo_value,
        },
        "author_association": "MEMBER",
        "mergeable": !pull.draft,
        "mergeable_state": if pull.draft { "draft" } else { "clean" },
        "merged_at": merged.map(|_| "2026-11-22T08:00:00Z"),
        "merge_commit_sha": merged.map(|m| m.commit.clone()),
        "merged_by": merged.map(|m| user(&m.by)),
    })
}

fn review_json(addr: &str, slug: &str, number: u64, review: &FakeReview) -> Value {
    json!({
        "id": review.id,
        "node_id": format!("PRR_{}", review.id),
        "user": user(&review.user),
        "body": review.body,
        "state": review.state,
        "html_url": format!("https://github.com/{slug}/pull/{number}#pullrequestreview-{}", review.id),
        "pull_request_url": format!("{addr}/repos/{slug}/pulls/{number}"),
        "commit_id": review.commit_id,
        "submitted_at": review.submitted_at,
        "author_association": "MEMBER",
    })
}

fn message(status: u16, text: &str) -> (u16, Value) {
    (
        status,
        json!({
            "message": text,
            "documentation_url": "https://docs.github.com/rest",
            "status": status.to_string(),
        }),
    )
}

async fn handle(
    State(store): State<Arc<Mutex<Store>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let latency = store.lock().expect("store").latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(rest) = uri.path().strip_prefix("/git/") {
        return git_http(&store, rest, &method, &uri, &headers, body).await;
    }
    let mut store = store.lock().expect("store");
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let authorization = header("authorization").unwrap_or_default();
    let if_none_match = header("if-none-match");
    let body_json: Option<Value> = serde_json::from_slice(&body).ok();
    let index = store.requests.len();
    store.requests.push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        authorization: authorization.clone(),
        if_none_match: if_none_match.clone(),
        body: body_json.clone(),
        status: 0,
    });

    let mut extra: Vec<(String, String)> = Vec::new();
    let (status, value) = if let Some(fault) = store
        .faults
        .iter_mut()
        .find(|f| f.times > 0 && f.method == method.as_str() && path.contains(&f.path_contains))
    {
        fault.times -= 1;
        extra.extend(
            fault
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone())),
        );
        (fault.status, fault.body.clone())
    } else {
        let login = authorization
            .strip_prefix("Bearer ")
            .and_then(|t| store.tokens.get(t).cloned());
        match login {
            None => message(401, "Bad credentials"),
            Some(login) => route(
                &mut store, &method, &path, &query, body_json, &login, &mut extra,
            ),
        }
    };
    store.requests[index].status = status;

    let text = value.to_string();
    let digest = sha2::Sha256::digest(text.as_bytes());
    let etag = format!(
        "\"{}\"",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let not_modified =
        method == Method::GET && status == 200 && if_none_match.as_deref() == Some(etag.as_str());
    if !not_modified {
        store.remaining = store.remaining.saturating_sub(1);
    }
    let mut response = if not_modified {
        store.requests[index].status = 304;
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            StatusCode::from_u16(status).expect("status"),
            [("content-type", "application/json; charset=utf-8")],
            text,
        )
            .into_response()
    };
    let h = response.headers_mut();
    let reset = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 3600)
        .to_string();
    let defaults = [
        ("x-ratelimit-limit", "5000".to_string()),
        ("x-ratelimit-remaining", store.remaining.to_string()),
        ("x-ratelimit-reset", reset),
        ("x-ratelimit-resource", "core".to_string()),
        ("x-github-request-id", format!("FAKE:{index}")),
    ];
    for (k, v) in defaults {
        h.insert(k, v.parse().expect("header"));
    }
    if method == Method::GET && status == 200 {
        h.insert("etag", etag.parse().expect("etag"));
    }
    for (k, v) in extra {
        h.insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            v.parse().expect("value"),
        );
    }
    response
}

fn query_value<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|p| p.strip_prefix(key)?.strip_prefix('='))
}

fn route(
    store: &mut Store,
    method: &Method,
    path: &str,
    query: &str,
    body: Option<Value>,
    login: &str,
    extra: &mut Vec<(String, String)>,
) -> (u16, Value) {
    let addr = store.addr.clone();
    let git_over_http = store.git_over_http;
    if path == "/user" {
        return (200, user(login));
    }
    let Some(rest) = path.strip_prefix("/repos/") else {
        return message(404, "Not Found");
    };
    let parts: Vec<&str> = rest.split('/').collect();
    if parts.len() < 2 {
        return message(404, "Not Found");
    }
    let slug = format!("{}/{}", parts[0], parts[1]);
    let page_size = store.page_size;
    store.next_id += 1;
    let next_id = store.next_id;
    let Some(repo) = store.repos.get_mut(&slug) else {
        return message(404, "Not Found");
    };
    match (method.as_str(), &parts[2..]) {
        ("GET", []) => (200, repo_json(&addr, &slug, repo, git_over_http)),
        ("GET", ["pulls"]) => {
            let base = query_value(query, "base");
            let open: Vec<&FakePull> = repo
                .pulls
                .iter()
                .filter(|p| p.open && base.is_none_or(|b| b == p.base_ref))
                .collect();
            let per_page = query_value(query, "per_page")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(30)
                .min(page_size)
                .max(1);
            let page = query_value(query, "page")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(1);
            let last = open.len().div_ceil(per_page).max(1);
            let origin = Repo::open("origin", &repo.origin).expect("open origin");
            let items: Vec<Value> = open
                .iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .map(|p| pull_json(&addr, &slug, repo, &origin, p))
                .collect();
            let without_page: Vec<&str> = query
                .split('&')
                .filter(|p| !p.starts_with("page="))
                .collect();
            let link = |n: usize| format!("<{addr}{path}?{}&page={n}>", without_page.join("&"));
            let mut links = Vec::new();
            if page < last {
                links.push(format!("{}; rel=\"next\"", link(page + 1)));
                links.push(format!("{}; rel=\"last\"", link(last)));
            }
            if page > 1 {
                links.push(format!("{}; rel=\"prev\"", link(page - 1)));
                links.push(format!("{}; rel=\"first\"", link(1)));
            }
            if !links.is_empty() {
                extra.push(("link".into(), links.join(", ")));
            }
            (200, Value::Array(items))
        }
        ("GET", ["pulls", n]) => match find_pull(repo, n) {
            Some(pull) => {
                let origin = Repo::open("origin", &repo.origin).expect("open origin");
                (200, pull_json(&addr, &slug, repo, &origin, &pull))
            }
            None => message(404, "Not Found"),
        },
        ("GET", ["pulls", n, "reviews"]) => {
            let number: u64 = n.parse().unwrap_or(0);
            let reviews = repo.reviews.get(&number).cloned().unwrap_or_default();
            (
                200,
                Value::Array(
                    reviews
                        .iter()
                        .map(|r| review_json(&addr, &slug, number, r))
                        .collect(),
                ),
            )
        }
        ("POST", ["pulls", n, "reviews"]) => {
            let Some(pull) = find_pull(repo, n) else {
                return message(404, "Not Found");
            };
            let body = body.unwrap_or_default();
            if pull.author == login && body["event"] == "APPROVE" {
                return (
                    422,
                    json!({
                        "message": "Unprocessable Entity",
                        "errors": ["Review Can not approve your own pull request"],
                        "documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
                        "status": "422"
                    }),
                );
            }
            let commit = body["commit_id"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| head_of(repo, pull.number));
            let state = match body["event"].as_str() {
                Some("APPROVE") => "APPROVED",
                Some("REQUEST_CHANGES") => "CHANGES_REQUESTED",
                _ => "COMMENTED",
            };
            let n = repo.reviews.get(&pull.number).map_or(0, Vec::len);
            let review = FakeReview {
                id: next_id,
                user: login.to_string(),
                state: state.to_string(),
                commit_id: commit,
                submitted_at: format!("2026-11-21T09:{:02}:00Z", n.min(59)),
                body: body["body"].as_str().unwrap_or("").to_string(),
            };
            repo.reviews
                .entry(pull.number)
                .or_default()
                .push(review.clone());
            (200, review_json(&addr, &slug, pull.number, &review))
        }
        ("PUT", ["pulls", n, "reviews", id, "dismissals"]) => {
            let number: u64 = n.parse().unwrap_or(0);
            let id: u64 = id.parse().unwrap_or(0);
            let Some(review) = repo
                .reviews
                .get_mut(&number)
                .and_then(|list| list.iter_mut().find(|r| r.id == id))
            else {
                return message(404, "Not Found");
            };
            review.state = "DISMISSED".into();
            let review = review.clone();
            (200, review_json(&addr, &slug, number, &review))
        }
        ("PUT", ["pulls", n, "merge"]) => merge(repo, n, body.unwrap_or_default(), login),
        ("GET", ["commits", sha]) => commit_json(repo, sha),
        ("GET", ["commits", sha, "pulls"]) => {
            let origin = Repo::open("origin", &repo.origin).expect("open origin");
            let pulls: Vec<Value> = repo
                .pulls
                .iter()
                .filter(|p| {
                    repo.merged.get(&p.number).is_some_and(|m| m.commit == *sha)
                        || head_in(&origin, p.number) == *sha
                })
                .map(|p| pull_json(&addr, &slug, repo, &origin, p))
                .collect();
            (200, Value::Array(pulls))
        }
        ("POST", ["git", "blobs"]) => {
            use base64::Engine;
            let body = body.unwrap_or_default();
            let Some(content) = body["content"]
                .as_str()
                .and_then(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
            else {
                return message(422, "Invalid request: content is not base64");
            };
            let origin = Repo::open("origin", &repo.origin).expect("open origin");
            let id = origin
                .inner
                .write_blob(&content)
                .expect("write blob")
                .detach();
            (
                201,
                json!({"sha": id.to_string(), "url": format!("{addr}/repos/{slug}/git/blobs/{id}")}),
            )
        }
        ("POST", ["git", "trees"]) => {
            let body = body.unwrap_or_default();
            let origin = Repo::open("origin", &repo.origin).expect("open origin");
            let Some(base) = body["base_tree"]
                .as_str()
                .and_then(|b| gix::ObjectId::from_hex(b.as_bytes()).ok())
            else {
                return message(422, "Invalid request: base_tree");
            };
            let mut changes = Vec::new();
            for entry in body["tree"].as_array().cloned().unwrap_or_default() {
                let path = entry["path"].as_str().unwrap_or("").to_string();
                let content = match entry["sha"].as_str() {
                    None => None,
                    Some(sha) => match gix::ObjectId::from_hex(sha.as_bytes())
                        .ok()
                        .and_then(|id| origin.blob(id).ok())
                    {
                        Some(bytes) => Some(bytes),
                        None => return message(422, &format!("tree.sha {sha} is not a blob")),
                    },
                };
                changes.push(tollgate::git::write::FileChange { path, content });
            }
            let tree = origin.write_tree(base, &changes).expect("write tree");
            (
                201,
                json!({"sha": tree.to_string(), "url": format!("{addr}/repos/{slug}/git/trees/{tree}"), "tree": [], "truncated": false}),
            )
        }
        ("POST", ["git", "commits"]) => {
            let body = body.unwrap_or_default();
            let origin = Repo::open("origin", &repo.origin).expect("open origin");
            let id = |v: &Value| {
                v.as_str()
                    .and_then(|s| gix::ObjectId::from_hex(s.as_bytes()).ok())
            };
            let Some(tree) = id(&body["tree"]) else {
                return message(422, "Invalid request: tree");
            };
            let parents: Vec<gix::ObjectId> = body["parents"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(id)
                .collect();
            let sig = Signature {
                name: login.to_string(),
                email: format!("{login}@users.noreply.github.com"),
                time: 1_795_000_000,
            };
            let commit = origin
                .write_commit(
                    tree,
                    &parents,
                    &sig,
                    &sig,
                    body["message"].as_str().unwrap_or(""),
                )
                .expect("write commit");
            // GitHub signs the commits its API writes.
            repo.verified.insert(commit.to_string(), "web-flow".into());
            (
                201,
                json!({"sha": commit.to_string(), "url": format!("{addr}/repos/{slug}/git/commits/{commit}")}),
            )
        }
        ("POST", ["git", "refs"]) => {
            let body = body.unwrap_or_default();
            let origin = Repo::open("origin", &repo.origin).expect("open origin");
            let name = body["ref"].as_str().unwrap_or("").to_string();
            if origin.resolve(&name).is_ok() {
                return message(422, "Reference already exists");
            }
            let Some(sha) = body["sha"]
                .as_str()
                .and_then(|s| gix::ObjectId::from_hex(s.as_bytes()).ok())
            else {
                return message(422, "Invalid request: sha");
            };
            set_ref(&repo.origin, &name, sha);
            (
                201,
                json!({"ref": name, "object": {"sha": sha.to_string(), "type": "commit"}}),
            )
        }
        ("POST", ["pulls"]) => {
            let body = body.unwrap_or_default();
            let head_ref = body["head"].as_str().unwrap_or("").to_string();
            let origin = Repo::open("origin", &repo.origin).expect("open origin");
            let Ok(head) = origin.resolve(&format!("refs/heads/{head_ref}")) else {
                return message(422, "Validation Failed: head does not exist");
            };
            let number = repo.pulls.iter().map(|p| p.number).max().unwrap_or(0) + 1;
            let pull = FakePull {
                number,
                title: body["title"].as_str().unwrap_or("").to_string(),
                body: body["body"].as_str().unwrap_or("").to_string(),
                author: login.to_string(),
                head_ref,
                base_ref: body["base"].as_str().unwrap_or("main").to_string(),
                draft: false,
                labels: Vec::new(),
                created_at: "2026-11-25T12:00:00Z".into(),
                open: true,
                requested_reviewers: Vec::new(),
            };
            set_ref(&repo.origin, &format!("refs/pull/{number}/head"), head);
            repo.pulls.push(pull.clone());
            (201, pull_json(&addr, &slug, repo, &origin, &pull))
        }
        ("GET", ["commits", sha, "status"]) => {
            let statuses = repo.statuses.get(*sha).cloned().unwrap_or_default();
            let state = if statuses.iter().any(|(_, s)| s == "failure" || s == "error") {
                "failure"
            } else if statuses.iter().any(|(_, s)| s == "pending") || statuses.is_empty() {
                "pending"
            } else {
                "success"
            };
            (
                200,
                json!({
                    "state": state,
                    "sha": sha,
                    "total_count": statuses.len(),
                    "statuses": statuses.iter().enumerate().map(|(i, (context, state))| json!({
                        "id": i as u64 + 1,
                        "node_id": format!("S_{i}"),
                        "state": state,
                        "context": context,
                        "description": null,
                        "target_url": null,
                        "created_at": "2026-11-20T10:00:00Z",
                        "updated_at": "2026-11-20T10:00:00Z",
                    })).collect::<Vec<_>>(),
                }),
            )
        }
        ("GET", ["commits", sha, "check-runs"]) => {
            let runs = repo.check_runs.get(*sha).cloned().unwrap_or_default();
            (
                200,
                json!({
                    "total_count": runs.len(),
                    "check_runs": runs.iter().enumerate().map(|(i, (name, conclusion))| json!({
                        "id": i as u64 + 1,
                        "node_id": format!("CR_{i}"),
                        "head_sha": sha,
                        "url": format!("{addr}/repos/{slug}/check-runs/{}", i + 1),
                        "html_url": null,
                        "details_url": null,
                        "status": if conclusion.is_some() { "completed" } else { "in_progress" },
                        "conclusion": conclusion,
                        "output": {"title": null, "summary": null, "text": null, "annotations_count": 0, "annotations_url": format!("{addr}/annotations")},
                        "started_at": "2026-11-20T10:00:00Z",
                        "completed_at": null,
                        "name": name,
                        "pull_requests": [],
                    })).collect::<Vec<_>>(),
                }),
            )
        }
        _ => message(404, "Not Found"),
    }
}

/// A commit as `GET /repos/O/R/commits/SHA` has it: GitHub's check of its signature, and
/// the account linked to its committer when GitHub verified it for one.
fn commit_json(repo: &FakeRepo, sha: &str) -> (u16, Value) {
    let origin = Repo::open("origin", &repo.origin).expect("open origin");
    let Some(info) = gix::ObjectId::from_hex(sha.as_bytes())
        .ok()
        .and_then(|id| origin.commit_info(id).ok())
    else {
        return message(422, &format!("No commit found for SHA: {sha}"));
    };
    let verified = repo.verified.get(sha);
    let person = |p: &tollgate::git::Person| json!({"name": p.name, "email": p.email, "date": "2026-11-22T08:00:00Z"});
    (
        200,
        json!({
            "sha": sha,
            "node_id": format!("C_{sha}"),
            "commit": {
                "author": person(&info.author),
                "committer": person(&info.committer),
                "message": format!("{}\n\n{}", info.subject, info.body),
                "tree": {"sha": info.tree.to_string()},
                "verification": {
                    "verified": verified.is_some(),
                    "reason": if verified.is_some() { "valid" } else { "unsigned" },
                    "signature": null,
                    "payload": null,
                },
            },
            "author": null,
            "committer": verified.map(|login| user(login)),
            "parents": info.parents.iter().map(|p| json!({"sha": p.to_string()})).collect::<Vec<_>>(),
        }),
    )
}

fn find_pull(repo: &FakeRepo, n: &str) -> Option<FakePull> {
    let number: u64 = n.parse().ok()?;
    repo.pulls.iter().find(|p| p.number == number).cloned()
}

/// The merge endpoint: refuses a stale `sha` (409) and drafts (405); otherwise writes the
/// merge (or squash) commit on the base branch of the origin, as GitHub would.
fn merge(repo: &mut FakeRepo, n: &str, body: Value, login: &str) -> (u16, Value) {
    let Some(pull) = find_pull(repo, n) else {
        return message(404, "Not Found");
    };
    if !pull.open {
        return message(405, "Pull Request is not mergeable");
    }
    let head = head_of(repo, pull.number);
    if body["sha"].as_str().is_some_and(|sha| sha != head) {
        return message(
            409,
            "Head branch was modified. Review and try the merge again.",
        );
    }
    if pull.draft {
        return message(405, "Pull Request is still a draft");
    }
    let origin = Repo::open("origin", &repo.origin).expect("open origin");
    let base_ref = format!("refs/heads/{}", pull.base_ref);
    let base = origin.resolve(&base_ref).expect("base branch");
    let head = origin.resolve(&head).expect("head commit");
    if origin.merge_base(head, base).expect("merge base") != Some(base) {
        return message(
            405,
            "Base branch was modified. Review and try the merge again.",
        );
    }
    let tree = origin.tree_of(head).expect("head tree");
    let text = format!(
        "{}\n\n{}",
        body["commit_title"]
            .as_str()
            .unwrap_or("Merge pull request"),
        body["commit_message"].as_str().unwrap_or("")
    );
    let parents = match body["merge_method"].as_str() {
        Some("squash") => vec![base],
        _ => vec![base, head],
    };
    let sig = github_signature();
    let commit = origin
        .write_commit(tree, &parents, &sig, &sig, &text)
        .expect("write merge commit");
    origin
        .update_ref(&base_ref, Some(base), commit, "merge", &sig)
        .expect("move base");
    if let Some(p) = repo.pulls.iter_mut().find(|p| p.number == pull.number) {
        p.open = false;
    }
    // GitHub signs its merges with its own key, and records who merged.
    repo.verified.insert(commit.to_string(), "web-flow".into());
    repo.merged.insert(
        pull.number,
        Merged {
            by: login.to_string(),
            commit: commit.to_string(),
            head: head.to_string(),
        },
    );
    (
        200,
        json!({"sha": commit.to_string(), "merged": true, "message": "Pull Request successfully merged"}),
    )
}

/// Git's smart HTTP for `/git/OWNER/NAME.git/...`, by running `git http-backend` as a CGI
/// program on the origin. Requests are recorded with whatever `Authorization` they carry;
/// over HTTPS one without the token gets 401 and a `WWW-Authenticate` challenge.
async fn git_http(
    store: &Arc<Mutex<Store>>,
    rest: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    use base64::Engine;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (origin, authorised) = {
        let mut store = store.lock().expect("store");
        // Over HTTPS the token is required, as Basic auth's password; plain HTTP serves
        // anyone (a public repository).
        let password = header("authorization")
            .strip_prefix("Basic ")
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|pair| pair.split_once(':').map(|(_, p)| p.to_string()));
        let authorised = !store.addr.starts_with("https")
            || password.is_some_and(|p| store.tokens.contains_key(&p));
        store.requests.push(Recorded {
            method: method.to_string(),
            path: uri.path().to_string(),
            query: uri.query().unwrap_or("").to_string(),
            authorization: header("authorization"),
            if_none_match: None,
            body: None,
            status: if authorised { 200 } else { 401 },
        });
        let slug_end = rest.find(".git").map_or(rest.len(), |i| i + 4);
        let slug = rest[..slug_end].trim_end_matches(".git");
        let origin = store
            .repos
            .get(slug)
            .map(|r| (r.origin.clone(), rest[slug_end..].to_string()));
        (origin, authorised)
    };
    let Some((origin, path_info)) = origin else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    if !authorised {
        return (
            StatusCode::UNAUTHORIZED,
            [("www-authenticate", "Basic realm=\"GitHub\"")],
            "authentication required",
        )
            .into_response();
    }
    let project = origin
        .file_name()
        .expect("origin name")
        .to_string_lossy()
        .to_string();
    let root = origin.parent().expect("origin folder").to_path_buf();
    let (method, query) = (method.to_string(), uri.query().unwrap_or("").to_string());
    let (content_type, protocol) = (header("content-type"), header("git-protocol"));
    let output = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = std::process::Command::new("git")
            .arg("http-backend")
            .env("GIT_PROJECT_ROOT", root)
            .env("GIT_HTTP_EXPORT_ALL", "1")
            .env("PATH_INFO", format!("/{project}{path_info}"))
            .env("REQUEST_METHOD", method)
            .env("QUERY_STRING", query)
            .env("CONTENT_TYPE", content_type)
            .env("CONTENT_LENGTH", body.len().to_string())
            .env("GIT_PROTOCOL", &protocol)
            .env("HTTP_GIT_PROTOCOL", &protocol)
            .env("REMOTE_USER", "x-access-token")
            .env("REMOTE_ADDR", "127.0.0.1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("git http-backend runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&body)
            .expect("request body");
        child.wait_with_output().expect("git http-backend output")
    })
    .await
    .expect("backend");
    // CGI: headers, a blank line, the body.
    let out = output.stdout;
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| out.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let Some((end, gap)) = split else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "bad CGI output").into_response();
    };
    let head = String::from_utf8_lossy(&out[..end]).to_string();
    let mut status = StatusCode::OK;
    let mut builder = Response::builder();
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            status = value
                .split_whitespace()
                .next()
                .and_then(|c| c.parse().ok())
                .and_then(|c| StatusCode::from_u16(c).ok())
                .unwrap_or(StatusCode::OK);
        } else {
            builder = builder.header(name, value);
        }
    }
    builder
        .status(status)
        .body(axum::body::Body::from(out[end + gap..].to_vec()))
        .expect("response")
}
