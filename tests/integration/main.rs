//! Integration tests: real git repositories in temp dirs, the `tollgate` binary as a
//! process, and the shared corpus of real Kubernetes manifests.

mod approvals;
mod argo;
mod bad_input;
mod close;
mod commit_graph;
mod common;
mod corpus;
mod demo;
mod deploy;
mod flux;
mod github;
mod github_api;
mod github_audit;
mod helm;
mod history;
mod hostile_text;
mod init;
mod kube_api;
mod kustomize_helm;
mod list_items;
mod outlook;
mod paired_render;
mod reconcile;
mod reconcile_many;
mod render_cache;
mod rollback;

mod secrets;
mod signing;
mod supplied;
mod text_output;
mod tmux;
mod tui;
mod warnings;
