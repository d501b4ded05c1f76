//! Running a render program (`kubectl kustomize`, `helm template`) with a deadline: a
//! program that hangs (a plugin waiting on the network, a chart looping) fails the render
//! with a clear error instead of holding a reconcile pass or a TUI job forever. The
//! deadline is `TOLLGATE_RENDER_TIMEOUT` (`30s`, `2m`), else [`DEFAULT_TIMEOUT`].

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

/// How long a render program may run.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The deadline for render programs here.
pub fn timeout() -> Duration {
    std::env::var("TOLLGATE_RENDER_TIMEOUT")
        .ok()
        .and_then(|text| text.parse::<jiff::SignedDuration>().ok())
        .and_then(|d| Duration::try_from(d).ok())
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_TIMEOUT)
}

/// `command`'s output, or `None` when it did not finish within `limit` (it is killed).
pub fn output_within(command: &mut Command, limit: Duration) -> std::io::Result<Option<Output>> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Both pipes are drained while waiting: a program that fills one would block forever.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = match child.wait_timeout(limit)? {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
    };
    Ok(Some(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }))
}
