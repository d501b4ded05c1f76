//! GitHub's REST API through octocrab, with the rules tollgate needs on top: a read is
//! retried on 5xx and on a dropped connection with backoff; a rate-limited read waits for
//! `retry-after` or `x-ratelimit-reset` (up to a bound, then says until when); a write is
//! sent exactly once, whatever happens; reads carry `If-None-Match` from octocrab's ETag
//! cache, so polling an unchanged pull request list costs no quota. Octocrab's own retry
//! layer is not built in: it repeats POSTs and ignores `retry-after`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};
use octocrab::Octocrab;
use octocrab::secrecy::SecretString;
use octocrab::service::middleware::cache::mem::InMemoryCache;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::GitHubError;
pub use crate::retry::RetryPolicy;
use crate::retry::{Again, retry};

/// The API quota as the last response reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Quota {
    pub remaining: u64,
    pub limit: u64,
    /// When it refills, seconds since the epoch.
    pub reset: i64,
}

type Body = http_body_util::combinators::BoxBody<bytes::Bytes, octocrab::Error>;

/// Why one try of a read did not give a 2xx response.
enum ReadFailure {
    /// It did not reach GitHub, or no answer came back.
    Sent(octocrab::Error),
    /// GitHub answered, with something other than success.
    Answered(http::Response<Body>),
}

/// One GitHub API host, authenticated.
pub struct Api {
    /// Reads go through the ETag cache.
    reads: Octocrab,
    /// Writes do not: the cache would add `If-None-Match` to a POST to a URL that was
    /// read before, which GitHub may answer with 412.
    writes: Octocrab,
    root: String,
    /// Also the password of the mirror's HTTPS fetches.
    token: SecretString,
    retry: RetryPolicy,
    quota: Mutex<Option<Quota>>,
    /// Requests in flight to this host at most: GitHub's secondary rate limit punishes
    /// more than 100 at once, and 20 repos' inboxes would ask for 600.
    in_flight: tokio::sync::Semaphore,
}

/// See [`Api::in_flight`].
const MAX_IN_FLIGHT: usize = 32;

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("root", &self.root).finish()
    }
}

impl Api {
    /// A client of the API at `root` (`https://api.github.com`). Must be called inside a
    /// tokio runtime: the connection pool lives on it.
    pub fn new(root: &str, token: SecretString, retry: RetryPolicy) -> Result<Api, GitHubError> {
        let build = |cached: bool| {
            let builder = Octocrab::builder()
                .base_uri(root)
                .map_err(|e| GitHubError::Config {
                    message: format!("api_url {root:?} is not a URL: {e}"),
                })?
                .personal_token(token.clone())
                .set_connect_timeout(Some(Duration::from_secs(10)))
                .set_read_timeout(Some(Duration::from_secs(30)));
            let builder = if cached {
                builder.cache(InMemoryCache::new())
            } else {
                builder
            };
            builder.build().map_err(|e| GitHubError::Config {
                message: format!("cannot set up the HTTP client for {root}: {e}"),
            })
        };
        Ok(Api {
            reads: build(true)?,
            writes: build(false)?,
            root: root.trim_end_matches('/').to_string(),
            token,
            retry,
            quota: Mutex::new(None),
            in_flight: tokio::sync::Semaphore::new(MAX_IN_FLIGHT),
        })
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    pub(crate) fn token(&self) -> &SecretString {
        &self.token
    }

    /// The quota the last response reported.
    pub fn quota(&self) -> Option<Quota> {
        *self.quota.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.root)
        }
    }

    /// GET `path` (relative to the root) as JSON.
    pub async fn get<T: DeserializeOwned>(&self, path: &str, what: &str) -> Result<T, GitHubError> {
        let response = self.read(&self.url(path), what).await?;
        let text = self
            .reads
            .body_to_string(response)
            .await
            .map_err(|e| unreachable(what, &self.root, &e))?;
        serde_json::from_str(&text).map_err(|e| GitHubError::Decode {
            what: what.to_string(),
            message: e.to_string(),
        })
    }

    /// GET every page of a list, following `Link: rel="next"`.
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        what: &str,
    ) -> Result<Vec<T>, GitHubError> {
        use octocrab::FromResponse;
        let mut items = Vec::new();
        let mut next = Some(self.url(path));
        while let Some(url) = next.take() {
            let response = self.read(&url, what).await?;
            let mut page = octocrab::Page::<T>::from_response(response)
                .await
                .map_err(|e| GitHubError::Decode {
                    what: what.to_string(),
                    message: e.to_string(),
                })?;
            items.extend(page.take_items());
            next = page.next.map(|uri| uri.to_string());
        }
        Ok(items)
    }

    /// A read, retried as [`RetryPolicy`] says; only a 2xx response comes back.
    async fn read(&self, url: &str, what: &str) -> Result<http::Response<Body>, GitHubError> {
        // Counted for the error message; the future must be Send, hence not a Cell.
        let attempts = AtomicU32::new(0);
        let outcome = retry(
            self.retry,
            || async {
                attempts.fetch_add(1, Ordering::Relaxed);
                // Held for the request, not for a wait before retrying.
                let _permit = self.in_flight.acquire().await;
                let response = self.reads._get(url).await.map_err(ReadFailure::Sent)?;
                self.note_quota(response.headers());
                match response.status().is_success() {
                    true => Ok(response),
                    false => Err(ReadFailure::Answered(response)),
                }
            },
            |failure| match failure {
                ReadFailure::Sent(_) => Again::AfterBackoff,
                ReadFailure::Answered(response) => {
                    match rate_limit_wait(response.status(), response.headers()) {
                        Some(wait) => Again::After(wait),
                        None if response.status().is_server_error() => Again::AfterBackoff,
                        None => Again::No,
                    }
                }
            },
            |failure, wait| match failure {
                ReadFailure::Answered(r) if rate_limit_wait(r.status(), r.headers()).is_some() => {
                    tracing::info!(%url, secs = wait.as_secs(), "GitHub rate limit: waiting");
                }
                ReadFailure::Answered(r) => {
                    tracing::debug!(%url, status = %r.status(), "GitHub answered 5xx, retrying");
                }
                ReadFailure::Sent(e) => {
                    tracing::debug!(%url, "GitHub read failed, retrying: {e}");
                }
            },
        )
        .await;
        let response = match outcome {
            Ok(response) => return Ok(response),
            Err(ReadFailure::Sent(e)) => return Err(unreachable(what, &self.root, &e)),
            Err(ReadFailure::Answered(response)) => response,
        };
        let status = response.status();
        if let Some(wait) = rate_limit_wait(status, response.headers()) {
            return Err(rate_limited(what, wait, self.retry.max_server_wait));
        }
        let headers = response.headers().clone();
        let text = self
            .reads
            .body_to_string(response)
            .await
            .unwrap_or_default();
        Err(failure(
            what,
            status,
            &headers,
            &text,
            attempts.load(Ordering::Relaxed),
            &|_, m| m.to_string(),
        ))
    }

    /// A write (POST, PUT, PATCH, DELETE), sent exactly once. A refusal is explained by
    /// `explain(status, GitHub's message)`.
    pub async fn write<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
        what: &str,
        explain: &(dyn Fn(u16, &str) -> String + Sync),
    ) -> Result<T, GitHubError> {
        let url = self.url(path);
        let _permit = self.in_flight.acquire().await;
        let sent = match method {
            Method::POST => self.writes._post(url.as_str(), Some(body)).await,
            Method::PUT => self.writes._put(url.as_str(), Some(body)).await,
            Method::PATCH => self.writes._patch(url.as_str(), Some(body)).await,
            _ => self.writes._delete(url.as_str(), Some(body)).await,
        };
        // Not retried, even on a dropped connection: GitHub may have acted on it.
        let response = sent.map_err(|e| GitHubError::Unknown {
            what: what.to_string(),
            message: crate::text::with_causes(&e),
        })?;
        self.note_quota(response.headers());
        let status = response.status();
        let headers = response.headers().clone();
        let text =
            self.writes
                .body_to_string(response)
                .await
                .map_err(|e| GitHubError::Unknown {
                    what: what.to_string(),
                    message: e.to_string(),
                })?;
        if !status.is_success() {
            if let Some(wait) = rate_limit_wait(status, &headers) {
                return Err(rate_limited(what, wait, Duration::ZERO));
            }
            return Err(failure(what, status, &headers, &text, 1, explain));
        }
        let text = if text.trim().is_empty() {
            "null"
        } else {
            &text
        };
        serde_json::from_str(text).map_err(|e| GitHubError::Decode {
            what: what.to_string(),
            message: e.to_string(),
        })
    }

    fn note_quota(&self, headers: &HeaderMap) {
        let number = |name: &str| header_number(headers, name);
        if let (Some(remaining), Some(limit), Some(reset)) = (
            number("x-ratelimit-remaining"),
            number("x-ratelimit-limit"),
            number("x-ratelimit-reset"),
        ) {
            *self.quota.lock().unwrap_or_else(|e| e.into_inner()) = Some(Quota {
                remaining,
                limit,
                reset: reset as i64,
            });
        }
    }
}

fn header_number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// How long a rate-limited response says to wait, if it is one: `retry-after` (secondary
/// limits), else `x-ratelimit-reset` when `x-ratelimit-remaining` is 0.
fn rate_limit_wait(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    if let Some(secs) = header_number(headers, "retry-after") {
        return Some(Duration::from_secs(secs));
    }
    if header_number(headers, "x-ratelimit-remaining") == Some(0) {
        let reset = header_number(headers, "x-ratelimit-reset")? as i64;
        let now = jiff::Timestamp::now().as_second();
        return Some(Duration::from_secs((reset - now).max(0) as u64 + 1));
    }
    (status == StatusCode::TOO_MANY_REQUESTS).then(|| Duration::from_secs(60))
}

fn rate_limited(what: &str, wait: Duration, max: Duration) -> GitHubError {
    let until = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(wait.as_secs() as i64);
    GitHubError::RateLimited {
        what: what.to_string(),
        until: until.strftime("%H:%M:%S UTC").to_string(),
        wait: wait.as_secs(),
        max: max.as_secs(),
    }
}

fn unreachable(what: &str, root: &str, error: &octocrab::Error) -> GitHubError {
    GitHubError::Unreachable {
        what: what.to_string(),
        root: root.to_string(),
        message: crate::text::with_causes(error),
    }
}

/// GitHub's `message` (and the `errors` details of a 422) from an error body.
fn github_message(text: &str) -> String {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
        return text.chars().take(200).collect();
    };
    let mut message = json["message"].as_str().unwrap_or("").to_string();
    if let Some(errors) = json["errors"].as_array() {
        let details: Vec<String> = errors
            .iter()
            .map(|e| match e {
                serde_json::Value::String(s) => s.clone(),
                other => other["message"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| other.to_string()),
            })
            .collect();
        if !details.is_empty() {
            message = format!("{message} ({})", details.join("; "));
        }
    }
    message
}

fn failure(
    what: &str,
    status: StatusCode,
    headers: &HeaderMap,
    text: &str,
    attempts: u32,
    explain: &(dyn Fn(u16, &str) -> String + Sync),
) -> GitHubError {
    let message = github_message(text);
    let what = what.to_string();
    match status.as_u16() {
        401 => GitHubError::BadToken { what, message },
        403 => GitHubError::Forbidden {
            what,
            message,
            scopes: headers
                .get("x-accepted-oauth-scopes")
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .map(|v| format!("; it needs the scopes: {v}"))
                .unwrap_or_default(),
        },
        404 => GitHubError::NotFound { what },
        500..=599 => GitHubError::Server {
            what,
            status: status.as_u16(),
            attempts,
            message,
        },
        code => GitHubError::Refused {
            what,
            status: code,
            explanation: explain(code, &message),
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().expect("header value"));
        }
        map
    }

    #[test]
    fn retry_after_wins_over_the_reset_time() {
        let h = headers(&[("retry-after", "7"), ("x-ratelimit-remaining", "0")]);
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &h),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn an_exhausted_quota_waits_until_the_reset() {
        let reset = jiff::Timestamp::now().as_second() + 30;
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &reset.to_string()),
        ]);
        let wait = rate_limit_wait(StatusCode::FORBIDDEN, &h).expect("a wait");
        assert!((29..=32).contains(&wait.as_secs()), "{wait:?}");
    }

    #[test]
    fn a_plain_403_is_not_a_rate_limit() {
        let h = headers(&[("x-ratelimit-remaining", "4000")]);
        assert_eq!(rate_limit_wait(StatusCode::FORBIDDEN, &h), None);
    }

    #[test]
    fn validation_errors_are_listed_after_the_message() {
        let text = r#"{"message":"Validation Failed","errors":[{"resource":"PullRequestReview","message":"Can not approve your own pull request"}]}"#;
        assert_eq!(
            github_message(text),
            "Validation Failed (Can not approve your own pull request)"
        );
    }
}
