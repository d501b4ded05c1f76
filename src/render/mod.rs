//! Turning an environment at a commit into Kubernetes objects. Plain environments are
//! every `*.yaml`/`*.yml` file under the folder, sorted by path; kustomize environments
//! are materialised from git into a temp dir (only what the render reads) and rendered by
//! `kubectl kustomize` or `kustomize build`. Also knows which paths a render reads
//! (its *inputs*), which is what an environment's history is made of.

pub mod inputs;
pub mod kustomize;
pub mod status;

use gix::ObjectId;

use crate::config::Renderer;
use crate::environment::Environment;
use crate::git::{GitError, Repo};
use crate::manifest::parse::{ParsedManifests, Secrets, parse_file};
use crate::manifest::scope::assign_namespaces;

pub use inputs::{Inputs, inputs_of};
pub use status::{RenderState, RenderStatus};

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(
        "environment {env} needs kustomize, but neither `kubectl` nor `kustomize` is on PATH; install kubectl (it bundles kustomize)"
    )]
    NoKustomize { env: String },
    #[error("environment {env}: `{program}` failed: {stderr}")]
    Kustomize {
        env: String,
        program: String,
        stderr: String,
    },
    #[error(
        "environment {env}: {file} names {reference:?}, which is outside the repository; kustomize would read it from the machine that renders, so nothing was rendered. Refer only to paths inside the repository (or to a remote base by URL)"
    )]
    OutsideRepository {
        env: String,
        file: String,
        reference: String,
    },
    #[error("environment {env}: cannot prepare the render in a temp dir: {source}")]
    Io { env: String, source: std::io::Error },
}

/// What an environment renders to at one commit. `issues` are documents that could not
/// be read; everything else is still there.
pub type Rendered = ParsedManifests;

/// Whether a file name is a manifest a plain environment renders.
pub fn is_manifest_file(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}

/// Render `env` as it is in `tree`.
///
/// An environment whose folder does not exist at `tree` renders to nothing: that is
/// what it deploys there, and it lets a diff show the environment being created.
pub fn render(repo: &Repo, tree: ObjectId, env: &Environment) -> Result<Rendered, RenderError> {
    render_with(repo, tree, env, Secrets::Redact)
}

/// [`render`] with Secret values kept, for applying to a cluster only (see
/// [`Secrets::Keep`]).
pub fn render_for_apply(
    repo: &Repo,
    tree: ObjectId,
    env: &Environment,
) -> Result<Rendered, RenderError> {
    render_with(repo, tree, env, Secrets::Keep)
}

fn render_with(
    repo: &Repo,
    tree: ObjectId,
    env: &Environment,
    secrets: Secrets,
) -> Result<Rendered, RenderError> {
    if repo.entry_at(tree, &env.path)?.is_none() {
        return Ok(Rendered::default());
    }
    let started = std::time::Instant::now();
    let mut rendered = match env.renderer {
        Renderer::Plain => render_plain(repo, tree, env, secrets)?,
        Renderer::Kustomize => kustomize::render(repo, tree, env, secrets)?,
    };
    assign_namespaces(&mut rendered.objects, env.namespace.as_deref());
    tracing::debug!(
        repo = %repo.name,
        env = %env.name,
        %tree,
        objects = rendered.objects.len(),
        issues = rendered.issues.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "rendered"
    );
    Ok(rendered)
}

fn render_plain(
    repo: &Repo,
    tree: ObjectId,
    env: &Environment,
    secrets: Secrets,
) -> Result<Rendered, RenderError> {
    let mut rendered = ParsedManifests::default();
    for file in repo.files_under(tree, &env.path)? {
        if !is_manifest_file(&file.path) {
            continue;
        }
        let bytes = repo.blob(file.id)?;
        rendered.extend(parse_file(&file.path, bytes, secrets));
    }
    Ok(rendered)
}
