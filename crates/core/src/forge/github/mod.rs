//! GitHub repositories: promotions are the open pull requests whose base is the protected
//! branch. The API (through octocrab) gives the pull requests, their reviews and checks,
//! and takes approvals (reviews) and merges; a local mirror, fetched with gix, gives the
//! trees, so the rendered diff, the history and the audit are the same code as for a local
//! repository.

mod actions;
pub mod api;
mod forge;
pub mod merged;
pub mod mirror;
pub mod open;
pub mod pulls;
pub mod repo;
pub mod token;
mod undo;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

pub use api::{Api, Quota, RetryPolicy};
pub use pulls::{Checks, PullRequest, Review};
pub use repo::GitHubRepo;

use crate::config::GitHubConfig;

#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error(
        "no GitHub token for {host}: set {variables} to a token that may read and review pull requests (classic: `repo` scope; fine-grained: pull requests and contents read/write), or log in with `gh auth login`"
    )]
    NoToken { host: String, variables: String },
    #[error("{message}")]
    Config { message: String },
    #[error(
        "{what}: GitHub rejected the token (401 {message}): it is expired, revoked or mistyped; renew it or run `gh auth login`"
    )]
    BadToken { what: String, message: String },
    #[error("{what}: the token may not do this (403 {message}){scopes}")]
    Forbidden {
        what: String,
        message: String,
        scopes: String,
    },
    #[error(
        "{what}: not found (404): it does not exist, or the token cannot see it (a private repository needs the `repo` scope)"
    )]
    NotFound { what: String },
    #[error(
        "{what}: GitHub's rate limit holds until {until} ({wait} s); tollgate waits at most {max} s; try again after it"
    )]
    RateLimited {
        what: String,
        until: String,
        wait: u64,
        max: u64,
    },
    #[error("{what}: {explanation}")]
    Refused {
        what: String,
        status: u16,
        message: String,
        explanation: String,
    },
    #[error("{what}: GitHub answered {status} {attempts} times: {message}")]
    Server {
        what: String,
        status: u16,
        attempts: u32,
        message: String,
    },
    #[error("{what}: cannot reach {root}: {message}")]
    Unreachable {
        what: String,
        root: String,
        message: String,
    },
    #[error(
        "{what}: the request was sent but no answer came back ({message}); it was not repeated — check on GitHub whether it took effect"
    )]
    Unknown { what: String, message: String },
    #[error("{what}: GitHub's answer is not what tollgate expected: {message}")]
    Decode { what: String, message: String },
}

/// Make ring the process's TLS provider: gix's HTTPS transport (reqwest, built without a
/// provider of its own) needs one installed, and octocrab and kube use ring too, so the
/// build carries one TLS stack.
pub fn install_tls_provider() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // Err: one is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The runtime GitHub calls run on, for the life of the process: the connection pools and
/// ETag caches of the clients outlive any one command.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        install_tls_provider();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tollgate-github")
            .enable_all()
            .build()
            .expect("a tokio runtime can be built")
    })
}

/// Run `future` on the GitHub runtime and wait for it. From inside another runtime (the
/// reconcile loop) the wait happens on a thread of its own, as a runtime cannot be
/// blocked on from one of its tasks.
pub fn block_on<F>(future: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return runtime().block_on(future);
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| runtime().block_on(future))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The client of `github`'s API host: one per host and process, so that every repo on it
/// shares the connection pool, the ETag cache and the quota.
pub fn client(github: &GitHubConfig) -> Result<Arc<Api>, GitHubError> {
    let mut clients = clients().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(api) = clients.get(&github.api_url) {
        return Ok(api.clone());
    }
    let token = token::resolve(github.host())?;
    let _entered = runtime().enter();
    let api = Arc::new(Api::new(&github.api_url, token, RetryPolicy::default())?);
    clients.insert(github.api_url.clone(), api.clone());
    Ok(api)
}

fn clients() -> &'static Mutex<HashMap<String, Arc<Api>>> {
    static CLIENTS: OnceLock<Mutex<HashMap<String, Arc<Api>>>> = OnceLock::new();
    CLIENTS.get_or_init(Default::default)
}

/// The quota of every API host used so far, by API root, for the status bar.
pub fn quotas() -> Vec<(String, Quota)> {
    let clients = clients().lock().unwrap_or_else(|e| e.into_inner());
    let mut out: Vec<(String, Quota)> = clients
        .values()
        .filter_map(|api| Some((api.root().to_string(), api.quota()?)))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
