//! Turning an environment at a commit into Kubernetes objects. Plain environments are
//! every `*.yaml`/`*.yml` file under the folder, sorted by path; kustomize environments
//! are materialised from git into a temp dir (only what the render reads) and rendered by
//! `kubectl kustomize` or `kustomize build`. Also knows which paths a render reads
//! (its *inputs*), which is what an environment's history is made of.

pub mod cache;
pub mod flux;
pub mod helm;
pub mod helm_values;
pub mod inputs;
pub mod kustomize;
pub mod kustomize_helm;
pub mod plain_pair;
pub mod process;
pub mod status;
pub mod supplied;

use gix::ObjectId;

use crate::config::Renderer;
use crate::environment::Environment;
use crate::git::{GitError, Repo};
use crate::manifest::parse::{ParsedManifests, Secrets, parse_file};
use crate::manifest::scope::assign_namespaces;

pub use cache::{KeyBuilder, RenderCache, RenderKey};
pub use inputs::{Closure, Inputs, inputs_of};
use kustomize::Program;
pub use status::{RenderState, RenderStatus};
use supplied::SuppliedFile;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(
        "environment {env} needs kustomize, but neither `kubectl` nor `kustomize` is on PATH; install kubectl (it bundles kustomize)"
    )]
    NoKustomize { env: String },
    #[error(
        "environment {env} is a Helm chart, but there is no helm: install helm (v3 or v4), or name one with TOLLGATE_HELM"
    )]
    NoHelm { env: String },
    #[error("environment {env}: {message}")]
    Helm { env: String, message: String },
    /// The manifest that defines the environment (`from:`) cannot be rendered from.
    #[error("environment {env}: {message}")]
    Defined { env: String, message: String },
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
    #[error(
        "environment {env}: `{program}` did not finish within {:#}; it was stopped. Set TOLLGATE_RENDER_TIMEOUT for a longer wait",
        jiff::SignedDuration::try_from(*limit).unwrap_or_default()
    )]
    TimedOut {
        env: String,
        program: String,
        limit: std::time::Duration,
    },
    /// A file the config supplies cannot be read.
    #[error("environment {env}: supplied: {message}")]
    Supplied { env: String, message: String },
    #[error("environment {env}: cannot prepare the render in a temp dir: {source}")]
    Io { env: String, source: std::io::Error },
}

/// What an environment renders to at one commit. `issues` are documents that could not
/// be read; everything else is still there.
pub type Rendered = ParsedManifests;

/// Whether `path` (under `env`'s folder) is in one of its sub-folders.
pub fn in_sub_folder(env: &Environment, path: &str) -> bool {
    path[env.path.len()..].trim_start_matches('/').contains('/')
}

/// Whether a file name is a manifest a plain environment renders.
pub fn is_manifest_file(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}

/// Render `env` as it is in `tree`, afresh: for what decides (the digests an approval
/// pins, a verdict's render problems). What is only shown goes through
/// [`render_cached`].
///
/// An environment whose folder does not exist at `tree` renders to nothing: that is
/// what it deploys there, and it lets a diff show the environment being created.
pub fn render(repo: &Repo, tree: ObjectId, env: &Environment) -> Result<Rendered, RenderError> {
    render_with(repo, tree, env, Secrets::Redact, None)
}

/// [`render`] with Secret values kept, for applying to a cluster only (see
/// [`Secrets::Keep`]). Never cached.
pub fn render_for_apply(
    repo: &Repo,
    tree: ObjectId,
    env: &Environment,
) -> Result<Rendered, RenderError> {
    render_with(repo, tree, env, Secrets::Keep, None)
}

/// [`render`] through `cache`, for showing: a render whose inputs were rendered before
/// (by this process or an earlier one) is not made again.
pub fn render_cached(
    repo: &Repo,
    tree: ObjectId,
    env: &Environment,
    cache: &RenderCache,
) -> Result<Rendered, RenderError> {
    render_with(repo, tree, env, Secrets::Redact, Some(cache))
}

/// What one render runs, found before it runs: enough to key it.
enum Prepared {
    Plain {
        folder: ObjectId,
    },
    Kustomize {
        closure: Box<Closure>,
        program: Program,
        /// Inflates the closure's `helmCharts`, when it has any.
        helm: Option<helm::Helm>,
        /// A Flux environment's variables at this commit.
        variables: Option<flux::Variables>,
    },
    Helm {
        helm: helm::Helm,
    },
}

impl Prepared {
    fn new(
        repo: &Repo,
        tree: ObjectId,
        env: &Environment,
        folder: ObjectId,
    ) -> Result<Prepared, RenderError> {
        Ok(match env.renderer {
            Renderer::Plain => Prepared::Plain { folder },
            Renderer::Kustomize => {
                let closure = kustomize::closure_of(repo, tree, env)?;
                Prepared::Kustomize {
                    helm: kustomize::helm_for_charts(env, &closure)?,
                    variables: env
                        .flux
                        .as_ref()
                        .map(|flux| flux::variables(repo, tree, flux))
                        .transpose()?,
                    program: kustomize::program_for(env)?,
                    closure: Box::new(closure),
                }
            }
            Renderer::Helm => Prepared::Helm {
                helm: helm::helm_for(env)?,
            },
        })
    }

    /// Whether rendering starts another program (what is worth keeping).
    fn runs_a_program(&self) -> bool {
        !matches!(self, Prepared::Plain { .. })
    }

    /// Everything the render reads: the same key, the same objects.
    fn key(
        &self,
        repo: &Repo,
        tree: ObjectId,
        env: &Environment,
        supplied: &[SuppliedFile],
    ) -> Result<RenderKey, GitError> {
        let id = |path: &str| -> Result<String, GitError> {
            Ok(repo
                .entry_at(tree, path)?
                .map_or_else(|| "-".to_string(), |id| id.to_string()))
        };
        let mut key = KeyBuilder::new()
            .part("renderer", &format!("{:?}", env.renderer))
            .part("path", &env.path)
            .part(
                "fast-yaml",
                &crate::manifest::chunks::fast_path_enabled().to_string(),
            )
            .part("supplied", &supplied::key_of(supplied));
        match self {
            Prepared::Plain { folder } => key = key.part("folder", &folder.to_string()),
            Prepared::Kustomize {
                closure,
                program,
                helm,
                variables,
            } => {
                key = key.part("program", &program.identity());
                if let Some(flux) = &env.flux {
                    let settings = serde_json::to_string(flux).unwrap_or_default();
                    key = key.part("flux", &settings);
                }
                if let Some(overlay) = &env.overlay {
                    let overlay = serde_json::to_string(overlay).unwrap_or_default();
                    key = key.part("overlay", &overlay);
                }
                if let Some(variables) = variables {
                    key = key.part("variables", &variables.fingerprint());
                }
                if let Some(helm) = helm {
                    key = key.part("helm", &helm.identity());
                }
                // A folder's own files are written for kustomize, the named files too.
                for dir in &closure.dirs {
                    key = key.part("dir", &format!("{dir} {}", id(dir)?));
                }
                for file in &closure.files {
                    key = key.part("file", &format!("{file} {}", id(file)?));
                }
                for dir in &closure.missing {
                    key = key.part("missing", dir);
                }
            }
            Prepared::Helm { helm } => {
                key = key.part("program", &helm.identity());
                if let Some(settings) = &env.helm {
                    key = key
                        .part("release", &settings.release)
                        .part("namespace", env.namespace.as_deref().unwrap_or("-"))
                        .part(
                            "kube-version",
                            settings.kube_version.as_deref().unwrap_or("-"),
                        )
                        .part("api-versions", &settings.api_versions.join(","))
                        .part("skip-crds", &settings.skip_crds.to_string())
                        .part(
                            "inline",
                            &settings
                                .inline
                                .as_ref()
                                .map(|v| v.to_string())
                                .unwrap_or_default(),
                        );
                    for file in helm::chart_files(repo, tree, settings)? {
                        key = key.part("file", &format!("{} {}", file.path, file.id));
                    }
                    for values in &settings.values {
                        key = key.part("values", &format!("{values} {}", id(values)?));
                    }
                }
            }
        }
        Ok(key.finish())
    }

    fn run(
        &self,
        repo: &Repo,
        tree: ObjectId,
        env: &Environment,
        supplied: &[SuppliedFile],
        secrets: Secrets,
    ) -> Result<Rendered, RenderError> {
        let started = std::time::Instant::now();
        let rendered = match self {
            Prepared::Plain { .. } => render_plain(repo, tree, env, supplied, secrets)?,
            Prepared::Kustomize {
                closure,
                program,
                helm,
                variables,
            } => kustomize::render(
                repo,
                tree,
                env,
                &kustomize::Job {
                    closure,
                    program,
                    helm: helm.as_ref(),
                    variables: variables.as_ref(),
                    supplied,
                },
                secrets,
            )?,
            Prepared::Helm { helm } => match &env.helm {
                Some(settings) => helm::render(repo, tree, env, settings, helm, supplied, secrets)?,
                None => {
                    return Err(RenderError::Helm {
                        env: env.name.clone(),
                        message: "a Helm environment without its chart settings".into(),
                    });
                }
            },
        };
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
}

fn render_with(
    repo: &Repo,
    tree: ObjectId,
    env: &Environment,
    secrets: Secrets,
    cache: Option<&RenderCache>,
) -> Result<Rendered, RenderError> {
    let env = &*env.at(repo, tree)?;
    if let Some(problem) = &env.problem {
        return Err(RenderError::Defined {
            env: env.name.clone(),
            message: problem.clone(),
        });
    }
    let Some(folder) = repo.entry_at(tree, &env.path)? else {
        return Ok(Rendered::default());
    };
    let prepared = Prepared::new(repo, tree, env, folder)?;
    let supplied = supplied::read(repo, tree, env)?;
    let mut rendered = match cache {
        // Only renders for people to read are kept: their Secret values are fingerprints.
        // A plain folder reads faster from git than a stored render reads from disk.
        Some(cache) if secrets == Secrets::Redact && prepared.runs_a_program() => {
            let key = prepared.key(repo, tree, env, &supplied)?;
            cache.get_or_render(&key, || prepared.run(repo, tree, env, &supplied, secrets))?
        }
        _ => prepared.run(repo, tree, env, &supplied, secrets)?,
    };
    rendered
        .caveats
        .extend(supplied.iter().map(|file| file.note.clone()));
    assign_namespaces(&mut rendered.objects, env.namespace.as_deref());
    Ok(rendered)
}

fn render_plain(
    repo: &Repo,
    tree: ObjectId,
    env: &Environment,
    supplied: &[SuppliedFile],
    secrets: Secrets,
) -> Result<Rendered, RenderError> {
    // (path, bytes, read from the repository)
    let mut files: Vec<(String, Vec<u8>, bool)> = Vec::new();
    for file in plain_files(repo, tree, env)? {
        if !supplied.iter().any(|s| s.path == file.path) {
            files.push((file.path, repo.blob(file.id)?, true));
        }
    }
    for file in supplied.iter().filter(|file| plain_reads(env, &file.path)) {
        files.push((file.path.clone(), file.bytes.clone(), false));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rendered = ParsedManifests::default();
    for (path, bytes, from_repository) in files {
        if from_repository {
            note_read(&mut rendered, &path, &bytes);
        }
        rendered.extend(parse_file(&path, bytes, secrets));
    }
    Ok(rendered)
}

/// Whether a plain render of `env` reads the file at `path`: a manifest in its folder
/// (at its top only, when it says so).
fn plain_reads(env: &Environment, path: &str) -> bool {
    is_manifest_file(path)
        && path.starts_with(&format!("{}/", env.path))
        && !(env.top_level_only && in_sub_folder(env, path))
}

/// The files of the repository a plain render of `env` reads at `tree`, sorted by path.
pub(crate) fn plain_files(
    repo: &Repo,
    tree: ObjectId,
    env: &Environment,
) -> Result<Vec<crate::git::tree::TreeFile>, GitError> {
    let mut files = repo.files_under(tree, &env.path)?;
    files.retain(|file| plain_reads(env, &file.path));
    Ok(files)
}

/// Say in `rendered` that the render read `path` from the repository, and whether it is
/// encrypted with SOPS (see `ParsedManifests::read_files`).
pub(crate) fn note_read(rendered: &mut Rendered, path: &str, bytes: &[u8]) {
    rendered
        .read_files
        .push((path.to_string(), status::is_sops_encrypted(bytes)));
}
