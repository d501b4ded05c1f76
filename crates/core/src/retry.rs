//! Retrying a request: one policy and one loop for every remote tollgate talks to (the
//! Kubernetes API server, GitHub). The loop is backon's; which failures are worth another
//! try, and whether the server named a wait, is the caller's to say.

use std::future::Future;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder, Retryable};

/// How often, and how far apart, a request is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included; a wait the server asked for counts as one.
    pub attempts: u32,
    /// The wait before the second try, doubled before each one after.
    pub first_wait: Duration,
    /// The longest wait between two tries that tollgate chooses itself.
    pub max_backoff: Duration,
    /// The longest wait a server may ask for (a rate limit's `retry-after`) that is worth
    /// sitting through; a longer one ends the tries.
    pub max_server_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            first_wait: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
            max_server_wait: Duration::from_secs(60),
        }
    }
}

/// What a failed try says about another one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Again {
    /// Not worth another: the answer would be the same (a refusal, a bad request).
    No,
    /// Worth another after the policy's backoff (a 5xx, a dropped connection).
    AfterBackoff,
    /// Worth another after the wait the server named (a rate limit).
    After(Duration),
}

/// Run `try_once` until it succeeds, `again` says a failure is final, a server asks for
/// a wait longer than the policy sits through, or the attempts run out; the last error
/// comes back. `waiting` hears of each wait before it starts (for the log).
pub async fn retry<T, E, F, Fut>(
    policy: RetryPolicy,
    try_once: F,
    mut again: impl FnMut(&E) -> Again,
    mut waiting: impl FnMut(&E, Duration),
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let backoff = ExponentialBuilder::new()
        .with_factor(2.0)
        .with_min_delay(policy.first_wait)
        .with_max_delay(policy.max_backoff)
        .with_max_times(policy.attempts.saturating_sub(1) as usize);
    try_once
        .retry(backoff.build())
        .sleep(tokio::time::sleep)
        // `adjust` sees every failure; `when` would ask `again` a second time.
        .adjust(|error, backoff| {
            // `None` once the attempts are spent, whatever the failure.
            let backoff = backoff?;
            match again(error) {
                Again::No => None,
                Again::AfterBackoff => Some(backoff),
                Again::After(wait) if wait <= policy.max_server_wait => Some(wait),
                Again::After(_) => None,
            }
        })
        .notify(|error, wait| waiting(error, wait))
        .await
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn quick(attempts: u32) -> RetryPolicy {
        RetryPolicy {
            attempts,
            first_wait: Duration::from_millis(1),
            max_backoff: Duration::from_millis(4),
            max_server_wait: Duration::from_millis(50),
        }
    }

    /// Runs `retry` over a script of answers; returns the result and how many tries.
    fn run(policy: RetryPolicy, answers: &[Result<u32, Again>]) -> (Result<u32, Again>, usize) {
        let tries = Cell::new(0);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        let result = runtime.block_on(retry(
            policy,
            || {
                let answer = answers[tries.get()];
                tries.set(tries.get() + 1);
                async move { answer }
            },
            |again| *again,
            |_, _| {},
        ));
        (result, tries.get())
    }

    #[test]
    fn a_passing_failure_is_tried_again_until_it_succeeds() {
        let answers = [
            Err(Again::AfterBackoff),
            Err(Again::After(Duration::ZERO)),
            Ok(7),
        ];
        assert_eq!(run(quick(4), &answers), (Ok(7), 3));
    }

    #[test]
    fn a_final_failure_is_not_tried_again() {
        let answers = [Err(Again::No), Ok(7)];
        assert_eq!(run(quick(4), &answers), (Err(Again::No), 1));
    }

    #[test]
    fn the_attempts_bound_every_kind_of_wait() {
        let answers = [
            Err(Again::AfterBackoff),
            Err(Again::After(Duration::from_millis(1))),
            Err(Again::AfterBackoff),
            Ok(7),
        ];
        assert_eq!(run(quick(3), &answers), (Err(Again::AfterBackoff), 3));
    }

    #[test]
    fn a_server_wait_longer_than_the_policy_allows_ends_the_tries() {
        let long = Again::After(Duration::from_secs(3600));
        assert_eq!(run(quick(4), &[Err(long), Ok(7)]), (Err(long), 1));
    }
}
