//! tollgate: review, approve, merge and roll back promotions to GitOps environment
//! repositories.
//!
//! This package is tollgate's faces: the command line (`cli`), the terminal UI (`tui`)
//! and the process's logging. Everything they show or do comes from the core
//! (`tollgate-core`, re-exported here whole so that `tollgate::config` and the like name
//! the same items); they only translate between it and a person.

pub use tollgate_core::*;

pub mod cli;
pub mod logging;
pub mod tui;
