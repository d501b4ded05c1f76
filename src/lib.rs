//! tollgate: review, approve, merge and roll back promotions to GitOps environment
//! repositories.
//!
//! The library is the whole product minus its faces: configuration, git access through
//! gix, rendering and diffing of Kubernetes manifests, and the demo workspace. It knows
//! nothing of terminals or argument parsing; `cli` (and later the TUI) only translate.

pub mod approvals;
pub mod audit;
pub mod cli;
pub mod closing;
pub mod config;
pub mod demo;
pub mod dirs;
pub mod environment;
pub mod forge;
pub mod git;
pub mod gitops;
pub mod history;
pub mod history_index;
pub mod identity;
pub mod init;
pub mod logging;
pub mod manifest;
pub mod outlook;
pub mod policy;
pub mod raw_diff;
pub mod reconcile;
pub mod render;
pub mod review;
pub mod rollback;
pub mod rollback_images;
pub mod signing;
pub mod text;
pub mod trust;
pub mod tui;
pub mod verdict;
pub mod workspace;
