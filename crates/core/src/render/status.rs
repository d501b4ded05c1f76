//! Whether an environment's rendered diff tells the whole story. A render that failed, a
//! document that cannot be read, or an input that changed but that no renderer of
//! tollgate's reads (a jsonnet file, a Helm template read as plain YAML, a file encrypted
//! with SOPS) means the objects shown are not everything that changed: such an
//! environment is never reported as "no rendered change".

use serde::Serialize;

use crate::config::Renderer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RenderState {
    /// Both sides rendered and every changed input was read.
    Ok,
    /// A side did not render, or has documents that cannot be read.
    Failed,
    /// Inputs changed that tollgate does not render: their effect is not shown.
    NotRendered,
}

/// An input of an environment that differs between two commits, and whether its content
/// on either side is encrypted with SOPS (see [`is_sops_encrypted`]).
#[derive(Debug, Clone)]
pub struct ChangedFile {
    pub path: String,
    pub encrypted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderStatus {
    pub state: RenderState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl RenderStatus {
    pub fn ok() -> RenderStatus {
        RenderStatus {
            state: RenderState::Ok,
            reason: None,
        }
    }

    pub fn is_ok(&self) -> bool {
        self.state == RenderState::Ok
    }

    /// `not rendered (render failed): …`, `not rendered: …`, or nothing for a clean
    /// render.
    pub fn describe(&self) -> Option<String> {
        let reason = self.reason.as_deref().unwrap_or("no reason known");
        match self.state {
            RenderState::Ok => None,
            RenderState::Failed => Some(format!("not rendered (render failed): {reason}")),
            RenderState::NotRendered => Some(format!("not rendered: {reason}")),
        }
    }

    /// The status of an environment's diff: `errors` from rendering either side,
    /// `unreadable` documents, and the inputs that changed.
    pub fn of(
        renderer: Renderer,
        errors: &[String],
        unreadable: usize,
        changed: &[ChangedFile],
    ) -> RenderStatus {
        if let Some(error) = errors.first() {
            return RenderStatus {
                state: RenderState::Failed,
                reason: Some(error.clone()),
            };
        }
        if unreadable > 0 {
            return RenderStatus {
                state: RenderState::Failed,
                reason: Some(format!("{unreadable} document(s) cannot be read")),
            };
        }
        let unread: Vec<String> = changed
            .iter()
            .filter_map(|file| {
                not_understood(renderer, &file.path, file.encrypted)
                    .map(|why| format!("{} ({why})", file.path))
            })
            .collect();
        match unread.as_slice() {
            [] => RenderStatus::ok(),
            [first, rest @ ..] => RenderStatus {
                state: RenderState::NotRendered,
                reason: Some(if rest.is_empty() {
                    format!("{first} changed, and its effect is not shown")
                } else {
                    format!(
                        "{first} and {} more changed, and their effect is not shown",
                        rest.len()
                    )
                }),
            },
        }
    }
}

/// Files other tools render into manifests, which a plain environment does not read.
const RENDERED_ELSEWHERE: &[(&str, &str)] = &[
    (".jsonnet", "jsonnet"),
    (".libsonnet", "jsonnet"),
    (".json", "JSON, which the plain renderer does not read"),
    (".cue", "CUE"),
    (".tpl", "a template"),
    (".j2", "a template"),
    (".jinja", "a template"),
    (".jinja2", "a template"),
];

/// Why a changed input's effect cannot be shown, if it cannot.
fn not_understood(renderer: Renderer, path: &str, encrypted: bool) -> Option<&'static str> {
    if encrypted {
        return Some("encrypted with SOPS: what changed inside cannot be shown");
    }
    if renderer != Renderer::Plain {
        // kustomize reads every file of its closure.
        return None;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    if name == "Chart.yaml" || path.contains("/templates/") && path_in_chart(path) {
        return Some("part of a Helm chart, which tollgate does not render yet");
    }
    RENDERED_ELSEWHERE
        .iter()
        .find(|(extension, _)| name.ends_with(extension))
        .map(|(_, what)| *what)
}

/// A heuristic without the tree at hand: Helm keeps templates under `templates/`, and
/// a plain environment's own folders are rarely named that.
fn path_in_chart(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml") || path.ends_with(".tpl")
}

/// SOPS writes a top-level `sops:` key and `ENC[…]` values.
pub fn is_sops_encrypted(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"ENC[AES256_GCM,").is_some()
        || bytes.starts_with(b"sops:")
        || memchr::memmem::find(bytes, b"\nsops:").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(path: &str, old: &str, new: &str) -> ChangedFile {
        ChangedFile {
            path: path.into(),
            encrypted: is_sops_encrypted(old.as_bytes()) || is_sops_encrypted(new.as_bytes()),
        }
    }

    #[test]
    fn what_no_renderer_reads_is_not_rendered_and_says_what() {
        let status = RenderStatus::of(
            Renderer::Plain,
            &[],
            0,
            &[
                changed("envs/p/README.md", "a", "b"),
                changed("envs/p/app.jsonnet", "{}", "{a: 1}"),
            ],
        );
        assert_eq!(status.state, RenderState::NotRendered);
        assert_eq!(
            status.describe().as_deref(),
            Some("not rendered: envs/p/app.jsonnet (jsonnet) changed, and its effect is not shown")
        );
        let sops = RenderStatus::of(
            Renderer::Kustomize,
            &[],
            0,
            &[changed(
                "envs/p/secret.enc.yaml",
                "a: ENC[AES256_GCM,data:x]\nsops:\n  mac: y\n",
                "a: ENC[AES256_GCM,data:z]\nsops:\n  mac: w\n",
            )],
        );
        assert_eq!(sops.state, RenderState::NotRendered, "{sops:?}");
    }

    #[test]
    fn a_failed_render_and_unreadable_documents_come_first() {
        let failed = RenderStatus::of(Renderer::Kustomize, &["boom".into()], 2, &[]);
        assert_eq!(
            failed.describe().as_deref(),
            Some("not rendered (render failed): boom")
        );
        let unreadable = RenderStatus::of(Renderer::Plain, &[], 2, &[]);
        assert_eq!(unreadable.state, RenderState::Failed);
        assert!(
            RenderStatus::of(
                Renderer::Plain,
                &[],
                0,
                &[changed("envs/p/a.yaml", "a", "b")]
            )
            .is_ok()
        );
    }
}
