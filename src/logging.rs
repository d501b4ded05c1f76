//! Logs go to a file in the XDG state dir (`~/.local/state/tollgate/tollgate.log`), never
//! onto the screen: the TUI owns the terminal, and CLI output is for people and pipes.
//! A log that cannot be opened is not an error; tollgate runs without one.

use std::fs::OpenOptions;
use std::path::PathBuf;
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
    let dirs = directories::ProjectDirs::from("dev", "tollgate", "tollgate")?;
    let dir = dirs.state_dir().unwrap_or(dirs.cache_dir());
    Some(dir.join("tollgate.log"))
}

/// Start logging at `level` into the log file; returns where it goes.
pub fn init(level: LogLevel) -> Option<PathBuf> {
    if level == LogLevel::Off {
        return None;
    }
    let path = log_path()?;
    std::fs::create_dir_all(path.parent()?).ok()?;
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    tracing_subscriber::fmt()
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .with_max_level(level.filter())
        .try_init()
        .ok()?;
    Some(path)
}
