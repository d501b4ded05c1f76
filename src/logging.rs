//! Logs go to a file in the XDG state dir (`~/.local/state/tollgate/tollgate.log`), never
//! onto the screen: the TUI owns the terminal, and CLI output is for people and pipes.
//! A log that cannot be opened is not an error; tollgate runs without one. The log says
//! which repositories and promotions were acted on, so only its owner may read it
//! (file 0600, folder 0700), and it is bounded: past [`MAX_LOG_BYTES`] it moves to
//! `tollgate.log.1` (replacing the one before) and a new file starts, also while a
//! long-running `reconcile` writes.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing::level_filters::LevelFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogLevel {
    Off,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    fn filter(self) -> LevelFilter {
        match self {
            LogLevel::Off => LevelFilter::OFF,
            LogLevel::Error => LevelFilter::ERROR,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Trace => LevelFilter::TRACE,
        }
    }
}

/// The log file's path: the XDG state dir, else the cache dir where there is none.
pub fn log_path() -> Option<PathBuf> {
    let dirs = crate::dirs::project()?;
    let dir = dirs.state_dir().unwrap_or(dirs.cache_dir());
    Some(dir.join("tollgate.log"))
}

/// Start logging at `level` into the log file; returns where it goes.
pub fn init(level: LogLevel) -> Option<PathBuf> {
    if level == LogLevel::Off {
        return None;
    }
    let path = log_path()?;
    let log = RotatingLog::open(&path).ok()?;
    tracing_subscriber::fmt()
        .with_writer(Mutex::new(log))
        .with_ansi(false)
        .with_max_level(level.filter())
        .try_init()
        .ok()?;
    Some(path)
}

/// How `reconcile` writes its log to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

/// Start logging to stderr, for `reconcile` in a pod where no one reads a file: `RUST_LOG`
/// (tracing's filter syntax, `tollgate=debug,kube=info`) when set, else `level`.
pub fn init_stderr(level: LogLevel, format: LogFormat) {
    let default = match level {
        LogLevel::Off => "off",
        LogLevel::Error => "error",
        LogLevel::Warn => "warn",
        LogLevel::Info => "info",
        LogLevel::Debug => "debug",
        LogLevel::Trace => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(filter);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Where the log moves to `tollgate.log.1`.
pub const MAX_LOG_BYTES: u64 = 8 * 1024 * 1024;

/// The log file, moved aside when it passes [`MAX_LOG_BYTES`]. (`rolling-file` rotates
/// by size too, but creates its files with the process's umask; the log must be 0600.)
struct RotatingLog {
    path: PathBuf,
    file: File,
    written: u64,
}

impl RotatingLog {
    fn open(path: &Path) -> std::io::Result<RotatingLog> {
        if let Some(dir) = path.parent() {
            tollgate_core::dirs::create_private_dir(dir)?;
        }
        let file = open_private(path)?;
        let written = file.metadata()?.len();
        let mut log = RotatingLog {
            path: path.to_path_buf(),
            file,
            written,
        };
        if log.written >= MAX_LOG_BYTES {
            log.rotate()?;
        }
        Ok(log)
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let mut aside = self.path.clone().into_os_string();
        aside.push(".1");
        std::fs::rename(&self.path, aside)?;
        self.file = open_private(&self.path)?;
        self.written = 0;
        Ok(())
    }
}

impl Write for RotatingLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.written >= MAX_LOG_BYTES {
            // A log that cannot rotate keeps writing where it is.
            let _ = self.rotate();
        }
        let n = self.file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

fn open_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        // A log made by an older tollgate was world-readable.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_private_and_moves_aside_when_full() {
        let home = tempfile::TempDir::new().expect("temp dir");
        let path = home.path().join("state/tollgate/tollgate.log");
        let mut log = RotatingLog::open(&path).expect("open");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().expect("dir")), 0o700);
        }
        let line = vec![b'x'; 64 * 1024];
        while log.written + line.len() as u64 <= MAX_LOG_BYTES {
            log.write_all(&line).expect("write");
        }
        log.write_all(&line).expect("write");
        log.write_all(b"after\n").expect("write");
        let aside = std::fs::metadata(home.path().join("state/tollgate/tollgate.log.1"))
            .expect("the full log moved aside");
        assert!(aside.len() >= MAX_LOG_BYTES - line.len() as u64);
        assert!(std::fs::metadata(&path).expect("new log").len() < 2 * line.len() as u64);
    }
}
