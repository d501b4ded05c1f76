//! tollgate: review, approve, merge and roll back promotions to GitOps environment
//! repositories.
//!
//! This crate is the whole product minus its faces: configuration, git access through
//! gix, rendering and diffing of Kubernetes manifests, the verdict, reconcile and the demo
//! workspace. It knows nothing of terminals or argument parsing: the `tollgate` package
//! holds the CLI and the TUI, which only translate, and the compiler keeps it so (this
//! crate cannot name them nor depend on clap or ratatui).
//!
//! ```compile_fail
//! // A face is not part of the core: there is no `tui` (nor `cli`) to import.
//! use tollgate_core::tui;
//! ```

pub mod approvals;
pub mod audit;
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
pub mod manifest;
pub mod outlook;
pub mod parallel;
pub mod policy;
pub mod raw_diff;
pub mod reconcile;
pub mod render;
pub mod retry;
pub mod review;
pub mod rollback;
pub mod rollback_images;
pub mod signing;
pub mod text;
pub mod trust;
pub mod verdict;
pub mod workspace;
