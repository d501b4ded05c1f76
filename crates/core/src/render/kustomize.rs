//! Kustomize rendering: write the environment's closure from git into a temp dir and run
//! `kubectl kustomize` (or `kustomize build`) on it. Only what the render reads is
//! written: each kustomization folder's own files and every file the closure names.

use std::path::{Path, PathBuf};
use std::process::Command;

use gix::ObjectId;

use super::flux::{Variables, substitute};
use super::helm::Helm;
use super::inputs::Closure;
use super::supplied::SuppliedFile;
use super::{RenderError, Rendered};
use crate::environment::Environment;
use crate::git::Repo;
use crate::gitops::Overlay;
use crate::manifest::ManifestIssue;
use crate::manifest::parse::{Secrets, parse_file};

/// The program that renders kustomizations here, and the arguments before the folder.
pub struct Program {
    pub path: PathBuf,
    args: &'static [&'static str],
}

impl Program {
    /// `kubectl kustomize` when kubectl is on PATH, else `kustomize build`.
    pub fn find() -> Option<Program> {
        if let Some(kubectl) = find_on_path("kubectl") {
            return Some(Program {
                path: kubectl,
                args: &["kustomize"],
            });
        }
        find_on_path("kustomize").map(|path| Program {
            path,
            args: &["build"],
        })
    }

    /// What tells this program apart from another build of it (see [`binary_identity`]).
    pub fn identity(&self) -> String {
        format!("{} {}", binary_identity(&self.path), self.args.join(" "))
    }
}

/// What tells a program's binary apart from another build of it: its path, size and
/// modification time (asking it for its version would cost a run).
pub(super) fn binary_identity(path: &Path) -> String {
    let meta = std::fs::metadata(path).ok();
    let modified = meta
        .as_ref()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos());
    format!(
        "{} {:?} {:?}",
        path.display(),
        meta.map(|m| m.len()),
        modified
    )
}

pub(super) fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// The closure `env`'s kustomization reads at `tree`, refused when it leaves the
/// repository.
pub fn closure_of(repo: &Repo, tree: ObjectId, env: &Environment) -> Result<Closure, RenderError> {
    let mut closure = Closure::default();
    closure.visit_environment(repo, tree, env)?;
    // Climbing out of the temp dir the closure is written to reaches the machine's own
    // files; kustomize's load restrictor does not stop it for folders.
    if let Some(escape) = closure.escaping.first() {
        return Err(RenderError::OutsideRepository {
            env: env.name.clone(),
            file: escape.file.clone(),
            reference: escape.reference.clone(),
        });
    }
    Ok(closure)
}

/// The program to render with, or why there is none.
pub fn program_for(env: &Environment) -> Result<Program, RenderError> {
    Program::find().ok_or_else(|| RenderError::NoKustomize {
        env: env.name.clone(),
    })
}

/// The helm that inflates the closure's `helmCharts`, when it has any.
pub fn helm_for_charts(env: &Environment, closure: &Closure) -> Result<Option<Helm>, RenderError> {
    if closure.helm_charts.is_empty() {
        return Ok(None);
    }
    super::helm::helm_for(env).map(Some)
}

/// What a render runs on, found before it runs.
pub struct Job<'a> {
    pub closure: &'a Closure,
    pub program: &'a Program,
    /// Inflates the closure's `helmCharts`.
    pub helm: Option<&'a Helm>,
    /// A Flux environment's variables.
    pub variables: Option<&'a Variables>,
    /// Files the config supplies, written over git's.
    pub supplied: &'a [SuppliedFile],
}

/// The folder the kustomization around the path (see [`write_overlay`]) is written to in
/// the temp copy.
const OVERLAY_DIR: &str = ".tollgate-overlay";

/// Render `job.closure` (of `env` at `tree`) with `job.program`.
pub fn render(
    repo: &Repo,
    tree: ObjectId,
    env: &Environment,
    job: &Job<'_>,
    secrets: Secrets,
) -> Result<Rendered, RenderError> {
    let Job {
        closure,
        program,
        helm,
        variables,
        supplied,
    } = *job;
    if let Some(problem) = closure.helm_problems.first() {
        return Err(RenderError::Helm {
            env: env.name.clone(),
            message: problem.clone(),
        });
    }
    let io = |source| RenderError::Io {
        env: env.name.clone(),
        source,
    };
    let mut rendered = Rendered::default();
    for dir in &closure.missing {
        rendered.issues.push(ManifestIssue {
            file: dir.clone(),
            line: 0,
            message: "kustomize is told to read this folder, but it has no kustomization file"
                .into(),
        });
    }
    let workdir = tempfile::Builder::new()
        .prefix("tollgate-render-")
        .tempdir()
        .map_err(io)?;
    materialise(repo, tree, closure, workdir.path()).map_err(|e| match e {
        Materialise::Git(g) => RenderError::Git(g),
        Materialise::Io(e) => io(e),
    })?;
    if let Some(helm) = helm {
        super::kustomize_helm::inflate(
            workdir.path(),
            &closure.helm_charts,
            &closure.kustomizations,
            helm,
        )
        .map_err(|message| RenderError::Helm {
            env: env.name.clone(),
            message,
        })?;
    }

    write_generated(workdir.path(), closure).map_err(io)?;
    for file in supplied {
        let target = workdir.path().join(&file.path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(target, &file.bytes).map_err(io)?;
    }
    let target = match &env.overlay {
        Some(overlay) => write_overlay(workdir.path(), &env.path, overlay).map_err(io)?,
        None => workdir.path().join(&env.path),
    };
    let args = program.args;
    let program_name = format!(
        "{} {}",
        program
            .path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        args.join(" ")
    );
    let limit = super::process::timeout();
    let Some(output) = super::process::output_within(
        Command::new(&program.path)
            .args(program.args)
            .arg(target)
            .env_remove("KUBECONFIG"),
        limit,
    )
    .map_err(io)?
    else {
        return Err(RenderError::TimedOut {
            env: env.name.clone(),
            program: format!("{program_name} {}", env.path),
            limit,
        });
    };
    if !output.status.success() {
        let stderr = readable_error(
            &String::from_utf8_lossy(&output.stderr)
                .replace(&format!("{}/", workdir.path().display()), ""),
        );
        return Err(RenderError::Kustomize {
            env: env.name.clone(),
            program: format!("{program_name} {}", env.path),
            stderr,
        });
    }
    let source = format!("{program_name} {}", env.path);
    let text = match variables {
        Some(variables) => {
            let substituted = substitute(&output.stdout, variables, secrets);
            rendered.caveats.extend(substituted.unknown);
            substituted.text
        }
        None => output.stdout,
    };
    rendered.extend(parse_file(&source, text, secrets));
    Ok(rendered)
}

/// Write the kustomizations Flux generates for a path without its own into the temp copy
/// `root`.
fn write_generated(root: &Path, closure: &Closure) -> std::io::Result<()> {
    for (dir, resources) in &closure.generated {
        let kustomization = serde_json::json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources,
        });
        std::fs::create_dir_all(root.join(dir))?;
        std::fs::write(
            root.join(dir).join("kustomization.yaml"),
            kustomization.to_string(),
        )?;
    }
    Ok(())
}

/// Write a kustomization that holds `path` with the controller's settings (`overlay`)
/// into the temp copy `root`; returns its folder, the one to build.
fn write_overlay(root: &Path, path: &str, overlay: &Overlay) -> std::io::Result<PathBuf> {
    let mut kustomization = serde_json::Map::new();
    kustomization.insert(
        "apiVersion".into(),
        "kustomize.config.k8s.io/v1beta1".into(),
    );
    kustomization.insert("kind".into(), "Kustomization".into());
    kustomization.insert(
        "resources".into(),
        serde_json::json!([format!("../{path}")]),
    );
    for (field, value) in overlay {
        kustomization.insert(field.clone(), value.clone());
    }
    let dir = root.join(OVERLAY_DIR);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("kustomization.yaml"),
        serde_json::Value::Object(kustomization).to_string(),
    )?;
    Ok(dir)
}

/// kubectl wraps kustomize's message in a klog line (`E1126 16:38:39 … err="…"`); keep
/// the message a person needs.
fn readable_error(stderr: &str) -> String {
    let stderr = stderr.trim();
    match stderr.split_once("err=\"") {
        Some((_, rest)) => rest.trim_end().trim_end_matches('"').replace("\\\"", "\""),
        None => stderr.to_string(),
    }
}

enum Materialise {
    Git(crate::git::GitError),
    Io(std::io::Error),
}

impl From<crate::git::GitError> for Materialise {
    fn from(e: crate::git::GitError) -> Self {
        Materialise::Git(e)
    }
}

impl From<std::io::Error> for Materialise {
    fn from(e: std::io::Error) -> Self {
        Materialise::Io(e)
    }
}

fn materialise(
    repo: &Repo,
    tree: ObjectId,
    closure: &Closure,
    root: &Path,
) -> Result<(), Materialise> {
    let write = |path: &str, id: ObjectId| -> Result<(), Materialise> {
        let target = root.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, repo.blob(id)?)?;
        Ok(())
    };
    for dir in &closure.dirs {
        std::fs::create_dir_all(root.join(dir))?;
        for file in repo.files_under(tree, dir)? {
            // Only the folder's own files; sub-folders are written when referenced.
            let inside = &file.path[dir.len()..].trim_start_matches('/');
            if !inside.contains('/') {
                write(&file.path, file.id)?;
            }
        }
    }
    for path in &closure.files {
        if let Some(id) = repo.entry_at(tree, path)? {
            if repo.is_dir(tree, path)? {
                continue;
            }
            write(path, id)?;
        }
    }
    Ok(())
}
