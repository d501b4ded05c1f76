//! The workspace configuration: which environment repositories tollgate looks at and who
//! the person using it is. Reads `config.yaml` from `--config`, `TOLLGATE_CONFIG` or the
//! XDG config dir; validates it into types the rest of the program can trust. It never
//! opens a repository: defaults that need git (the protected branch) are resolved later.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Where the configuration comes from when nothing says otherwise.
pub const CONFIG_ENV: &str = "TOLLGATE_CONFIG";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: Option<u64>,
        message: String,
    },
    #[error(
        "no config file at {0}; create one (see README.md, \"Config\"), pass --config PATH, or try `tollgate --demo`"
    )]
    Missing(PathBuf),
    #[error("cannot tell where the config dir is: no home directory; pass --config PATH")]
    NoHome,
}

/// The file as written by a person. Unknown keys are refused so that a typo does not
/// silently fall back to a default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    identity: Option<String>,
    signing_key: Option<PathBuf>,
    #[serde(default)]
    signing_keys: std::collections::BTreeMap<String, PathBuf>,
    #[serde(default)]
    repos: Vec<RawRepo>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRepo {
    name: String,
    path: Option<PathBuf>,
    github: Option<RawGitHub>,
    branch: Option<String>,
    promotions: Option<String>,
    environments: Option<Vec<RawEnvironment>>,
    delete_merged: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGitHub {
    owner: String,
    repo: String,
    api_url: Option<String>,
    label: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    name: String,
    /// The folder; for `from:`, what the manifest says.
    path: Option<String>,
    /// A file in the repository holding the Flux Kustomization that defines it.
    from: Option<String>,
    #[serde(default)]
    renderer: Option<Renderer>,
    namespace: Option<String>,
    cluster: Option<RawCluster>,
    /// Helm: the chart folder (default: the environment's folder).
    chart: Option<String>,
    /// Helm: values files, in order.
    #[serde(default)]
    values: Vec<String>,
    /// Helm: the release name (default: the environment's name).
    release: Option<String>,
    /// Helm: the Kubernetes version `.Capabilities.KubeVersion` says.
    kube_version: Option<String>,
    /// Helm: API versions `.Capabilities.APIVersions.Has` finds, beyond the built-in ones.
    #[serde(default)]
    api_versions: Vec<String>,
    /// Files the render reads that are not in git.
    #[serde(default)]
    supplied: Vec<RawSupplied>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSupplied {
    path: String,
    copy: Option<String>,
    local: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCluster {
    context: Option<String>,
    kubeconfig: Option<PathBuf>,
    inventory_namespace: Option<String>,
}

/// Where an environment is deployed: what `reconcile` uses by default, and where the TUI
/// reads the deployed revision from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// Kubeconfig context; `None`: the current one.
    pub context: Option<String>,
    /// `None`: `$KUBECONFIG`, `~/.kube/config`, or in-cluster.
    pub kubeconfig: Option<PathBuf>,
    pub inventory_namespace: String,
}

/// The namespace of the inventory ConfigMaps when the config names none.
pub const DEFAULT_INVENTORY_NAMESPACE: &str = "tollgate-system";

/// How an environment folder becomes Kubernetes objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Renderer {
    /// Every `*.yaml`/`*.yml` file under the folder, as written.
    Plain,
    /// `kubectl kustomize` (or `kustomize build`) on the folder.
    Kustomize,
    /// `helm template` on a chart in the repository with the environment's values files.
    Helm,
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from, for messages; `None` for the built-in demo config.
    pub source: Option<PathBuf>,
    pub identity: Option<String>,
    pub repos: Vec<RepoConfig>,
}

/// A repository whose promotions are GitHub pull requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubConfig {
    pub owner: String,
    pub repo: String,
    /// The REST API root, without a trailing `/`: `https://api.github.com`, or
    /// `https://HOST/api/v3` for GitHub Enterprise Server.
    pub api_url: String,
    /// Only pull requests with this label are promotions.
    pub label: Option<String>,
}

/// The API root of github.com.
pub const GITHUB_API: &str = "https://api.github.com";

impl GitHubConfig {
    /// `owner/repo`.
    pub fn slug(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    /// The host the API is served from, for the mirror's folder and `gh auth token`.
    pub fn host(&self) -> &str {
        let rest = self
            .api_url
            .split_once("://")
            .map_or(self.api_url.as_str(), |(_, r)| r);
        let host = rest.split('/').next().unwrap_or(rest);
        // github.com serves its API from a subdomain; `gh` and git know it as github.com.
        if host == "api.github.com" {
            "github.com"
        } else {
            host
        }
    }
}

#[derive(Debug, Clone)]
pub struct RepoConfig {
    pub name: String,
    /// Absolute, or relative to the config file's folder. For a GitHub repo, its local
    /// mirror (by default in the cache dir).
    pub path: PathBuf,
    /// Set when the repository's truth is on GitHub.
    pub github: Option<GitHubConfig>,
    /// The protected branch; `None` means the repository's HEAD branch.
    pub branch: Option<String>,
    /// Glob over branch names (without `refs/heads/`) that are promotions.
    pub promotions: String,
    /// `None`: discover each folder under `envs/` at the commit being looked at.
    pub environments: Option<Vec<EnvironmentConfig>>,
    /// Delete a promotion branch once it is merged (default true).
    pub delete_merged: bool,
    /// Which key signs approvals and merges (the config's top-level `signing_key`s).
    pub signing: SigningConfig,
}

/// The keys the config names for signing; paths resolved against the config's folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SigningConfig {
    /// `signing_key:` — the key of whoever uses this config.
    pub key: Option<PathBuf>,
    /// `signing_keys:` — a key per identity email (a shared demo or kiosk setup).
    pub by_email: std::collections::BTreeMap<String, PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentConfig {
    pub name: String,
    /// Folder inside the repository, without leading or trailing `/`.
    pub path: String,
    /// `None`: kustomize when the folder holds a kustomization file, plain otherwise.
    pub renderer: Option<Renderer>,
    pub namespace: Option<String>,
    /// Where it is deployed, if tollgate should look.
    pub cluster: Option<ClusterConfig>,
    /// What `renderer: helm` renders.
    pub helm: Option<HelmConfig>,
    /// A file in the repository holding the Flux Kustomization that defines the
    /// environment; then `path` is that file (its folder, renderer and namespace are read
    /// from it at each commit).
    pub from: Option<String>,
    /// Files the render reads that are not in git (an `.env` the pipeline decrypts).
    pub supplied: Vec<Supplied>,
}

/// A file placed where the render reads it, though git does not have it there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Supplied {
    /// Where the render reads it, repository-relative.
    pub path: String,
    pub source: SuppliedSource,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppliedSource {
    /// A file in the repository at the same commit (an example, a template).
    Copy(String),
    /// A file on the machine that renders.
    Local(PathBuf),
}

/// A Helm environment's chart, values and release, paths inside the repository.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HelmConfig {
    pub chart: String,
    pub values: Vec<String>,
    pub release: String,
    /// `--kube-version`: for charts that branch on the cluster's version.
    pub kube_version: Option<String>,
    /// `--api-versions`: for charts that render a kind only where its API is served.
    pub api_versions: Vec<String>,
    /// Values given in the defining manifest rather than in a file (an Argo CD
    /// Application's `values`, `valuesObject` and `parameters`), applied after `values`.
    pub inline: Option<serde_json::Value>,
    /// Leave the chart's `crds/` out (an Argo CD Application's `skipCrds`).
    pub skip_crds: bool,
}

pub const DEFAULT_PROMOTIONS: &str = "promote/*";

/// What helm accepts as a release name (lowercase DNS-1123 label, up to 53 characters);
/// also what keeps a name from being read as one of helm's flags.
pub fn is_release_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 53
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
}

/// `1.29`, `v1.29.3`, `1.29.3-gke.100`: what helm's `--kube-version` parses.
fn is_kube_version(value: &str) -> bool {
    let (numbers, _suffix) = value
        .trim_start_matches('v')
        .split_once(['-', '+'])
        .unwrap_or((value.trim_start_matches('v'), ""));
    let parts: Vec<&str> = numbers.split('.').collect();
    (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-+".contains(&b))
}

/// `v1`, `monitoring.coreos.com/v1`, `monitoring.coreos.com/v1/ServiceMonitor`.
fn is_api_version(value: &str) -> bool {
    !value.is_empty()
        && !value.starts_with(['-', '/'])
        && value.split('/').count() <= 3
        && value.split('/').all(|part| !part.is_empty())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"./-".contains(&b))
}

impl RepoConfig {
    /// Where the environment `env` is deployed, if the config says.
    pub fn cluster_of(&self, env: &str) -> Option<&ClusterConfig> {
        self.environments
            .as_ref()?
            .iter()
            .find(|e| e.name == env)?
            .cluster
            .as_ref()
    }
}

impl Config {
    /// The path tollgate reads when neither `--config` nor `TOLLGATE_CONFIG` is given.
    pub fn default_path() -> Result<PathBuf, ConfigError> {
        let dirs = crate::dirs::project().ok_or(ConfigError::NoHome)?;
        Ok(dirs.config_dir().join("config.yaml"))
    }

    /// Load from an explicit path, else `TOLLGATE_CONFIG`, else the XDG default.
    pub fn locate_and_load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => match std::env::var_os(CONFIG_ENV) {
                Some(p) if !p.is_empty() => PathBuf::from(p),
                _ => Self::default_path()?,
            },
        };
        if !path.exists() {
            return Err(ConfigError::Missing(path));
        }
        Self::load(&path)
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parse `text` as if read from `path`; relative repo paths resolve against its folder.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let invalid = |line: Option<u64>, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            message,
        };
        let raw: RawConfig = if text.trim().is_empty() {
            RawConfig {
                identity: None,
                signing_key: None,
                signing_keys: Default::default(),
                repos: Vec::new(),
            }
        } else {
            serde_saphyr::from_str(text).map_err(|e| {
                let (line, message) = describe_yaml_error(text, &e);
                invalid(line, message)
            })?
        };
        let base = path.parent().unwrap_or(Path::new("."));
        let line_of = |needle: &str| find_line(text, needle);
        let resolve = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
        let signing = SigningConfig {
            key: raw.signing_key.map(resolve),
            by_email: raw
                .signing_keys
                .into_iter()
                .map(|(email, p)| (email.to_lowercase(), resolve(p)))
                .collect(),
        };

        let mut repos: Vec<RepoConfig> = Vec::new();
        for repo in raw.repos {
            let name = repo.name.trim().to_string();
            if name.is_empty() || name.contains([':', '#']) || name.contains(char::is_whitespace) {
                return Err(invalid(
                    line_of(&format!("name: {}", repo.name)),
                    format!(
                        "repos: name {:?} must be non-empty, without spaces, ':' or '#' (it is the prefix of promotion ids)",
                        repo.name
                    ),
                ));
            }
            if repos.iter().any(|r| r.name == name) {
                return Err(invalid(
                    line_of(&format!("name: {name}")),
                    format!("repos: the name {name:?} is used twice; each repo needs its own"),
                ));
            }
            let environments = match repo.environments {
                None => None,
                Some(envs) => {
                    let mut out: Vec<EnvironmentConfig> = Vec::new();
                    for env in envs {
                        let written = match (&env.path, &env.from) {
                            (Some(path), None) | (None, Some(path)) => path.clone(),
                            (None, None) => {
                                return Err(invalid(
                                    line_of(&format!("name: {}", env.name)),
                                    format!(
                                        "repos[{name}].environments[{}]: it needs a path (its folder), or from (the file of the Flux Kustomization that defines it)",
                                        env.name
                                    ),
                                ));
                            }
                            (Some(path), Some(_)) => {
                                return Err(invalid(
                                    line_of(path),
                                    format!(
                                        "repos[{name}].environments[{}]: path and from together: the folder comes from the Kustomization `from` names; remove path",
                                        env.name
                                    ),
                                ));
                            }
                        };
                        let env_path = written.trim_matches('/').to_string();
                        if env_path.is_empty() || env_path.split('/').any(|c| c == "..") {
                            return Err(invalid(
                                line_of(&written),
                                format!(
                                    "repos[{name}].environments[{}]: {} {written:?} must be inside the repository",
                                    env.name,
                                    if env.from.is_some() { "from" } else { "path" },
                                ),
                            ));
                        }
                        if env.from.is_some()
                            && (env.renderer.is_some()
                                || env.namespace.is_some()
                                || env.chart.is_some()
                                || !env.values.is_empty()
                                || env.release.is_some())
                        {
                            return Err(invalid(
                                line_of(&written),
                                format!(
                                    "repos[{name}].environments[{}]: with from, the renderer and namespace come from the Kustomization it names; remove renderer, namespace and the Helm fields",
                                    env.name
                                ),
                            ));
                        }
                        if out.iter().any(|e| e.name == env.name) {
                            return Err(invalid(
                                line_of(&format!("name: {}", env.name)),
                                format!(
                                    "repos[{name}].environments: {:?} is listed twice",
                                    env.name
                                ),
                            ));
                        }
                        let inside = |field: &str, path: &str| {
                            let path = path.trim_matches('/').to_string();
                            match path.is_empty() || path.split('/').any(|c| c == "..") {
                                true => Err(invalid(
                                    line_of(&path),
                                    format!(
                                        "repos[{name}].environments[{}]: {field} {path:?} must be a path inside the repository",
                                        env.name
                                    ),
                                )),
                                false => Ok(path),
                            }
                        };
                        let helm_fields = env.chart.is_some()
                            || !env.values.is_empty()
                            || env.release.is_some()
                            || env.kube_version.is_some()
                            || !env.api_versions.is_empty();
                        let capability = |field: &str, value: &str, valid: fn(&str) -> bool| {
                            match valid(value) {
                                true => Ok(value.to_string()),
                                false => Err(invalid(
                                    line_of(value),
                                    format!(
                                        "repos[{name}].environments[{}]: {field} {value:?} is not one; write it as helm does (kube_version: 1.29.0, api_versions: [monitoring.coreos.com/v1])",
                                        env.name
                                    ),
                                )),
                            }
                        };
                        let helm = match env.renderer {
                            Some(Renderer::Helm) => Some(HelmConfig {
                                chart: match &env.chart {
                                    Some(chart) => inside("chart", chart)?,
                                    None => env_path.clone(),
                                },
                                values: env
                                    .values
                                    .iter()
                                    .map(|v| inside("values", v))
                                    .collect::<Result<_, _>>()?,
                                release: match env
                                    .release
                                    .clone()
                                    .unwrap_or_else(|| env.name.clone())
                                {
                                    release if is_release_name(&release) => release,
                                    release => {
                                        return Err(invalid(
                                            line_of(&release),
                                            format!(
                                                "repos[{name}].environments[{}]: release {release:?} is not a helm release name (lowercase letters, digits, - and ., starting and ending with a letter or digit); set release:",
                                                env.name
                                            ),
                                        ));
                                    }
                                },
                                kube_version: env
                                    .kube_version
                                    .as_deref()
                                    .map(|v| capability("kube_version", v, is_kube_version))
                                    .transpose()?,
                                api_versions: env
                                    .api_versions
                                    .iter()
                                    .map(|v| capability("api_versions", v, is_api_version))
                                    .collect::<Result<_, _>>()?,
                                inline: None,
                                skip_crds: false,
                            }),
                            _ if helm_fields => {
                                return Err(invalid(
                                    line_of(&format!("name: {}", env.name)),
                                    format!(
                                        "repos[{name}].environments[{}]: chart, values, release, kube_version and api_versions are for `renderer: helm`; add it, or remove them",
                                        env.name
                                    ),
                                ));
                            }
                            _ => None,
                        };
                        let mut supplied = Vec::new();
                        for file in &env.supplied {
                            let source = match (&file.copy, &file.local) {
                                (Some(copy), None) => SuppliedSource::Copy(inside("copy", copy)?),
                                (None, Some(local)) => {
                                    SuppliedSource::Local(resolve(local.clone()))
                                }
                                _ => {
                                    return Err(invalid(
                                        line_of(&file.path),
                                        format!(
                                            "repos[{name}].environments[{}].supplied: {} needs one of copy (a file in the repository) or local (a file on this machine)",
                                            env.name, file.path
                                        ),
                                    ));
                                }
                            };
                            supplied.push(Supplied {
                                path: inside("supplied path", &file.path)?,
                                source,
                            });
                        }
                        out.push(EnvironmentConfig {
                            supplied,
                            from: env.from.as_ref().map(|_| env_path.clone()),
                            helm,
                            name: env.name,
                            path: env_path,
                            renderer: env.renderer,
                            namespace: env.namespace,
                            cluster: env.cluster.map(|c| ClusterConfig {
                                context: c.context,
                                kubeconfig: c
                                    .kubeconfig
                                    .map(|k| if k.is_absolute() { k } else { base.join(k) }),
                                inventory_namespace: c
                                    .inventory_namespace
                                    .unwrap_or_else(|| DEFAULT_INVENTORY_NAMESPACE.to_string()),
                            }),
                        });
                    }
                    Some(out)
                }
            };
            let github = repo
                .github
                .map(|g| github_config(g, &name, &line_of).map_err(|(l, m)| invalid(l, m)))
                .transpose()?;
            let repo_path = match (repo.path, &github) {
                (Some(p), _) if p.is_absolute() => p,
                (Some(p), _) => base.join(p),
                (None, Some(g)) => mirror_path(g).ok_or(ConfigError::NoHome)?,
                (None, None) => {
                    return Err(invalid(
                        line_of(&format!("name: {name}")),
                        format!(
                            "repos[{name}]: say where it is: `path:` (a local repository) or `github: {{owner, repo}}`"
                        ),
                    ));
                }
            };
            repos.push(RepoConfig {
                name,
                path: repo_path,
                github,
                branch: repo.branch,
                promotions: repo
                    .promotions
                    .unwrap_or_else(|| DEFAULT_PROMOTIONS.to_string()),
                environments,
                delete_merged: repo.delete_merged.unwrap_or(true),
                signing: signing.clone(),
            });
        }
        Ok(Config {
            source: Some(path.to_path_buf()),
            identity: raw.identity,
            repos,
        })
    }

    pub fn repo(&self, name: &str) -> Option<&RepoConfig> {
        self.repos.iter().find(|r| r.name == name)
    }
}

/// Validate a `github:` block; errors name the line and the key.
fn github_config(
    raw: RawGitHub,
    repo: &str,
    line_of: &dyn Fn(&str) -> Option<u64>,
) -> Result<GitHubConfig, (Option<u64>, String)> {
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    for (key, value) in [("owner", &raw.owner), ("repo", &raw.repo)] {
        if !valid(value) {
            return Err((
                line_of(&format!("{key}: {value}")),
                format!(
                    "repos[{repo}].github.{key}: {value:?} is not a GitHub {key} name (letters, digits, '-', '_', '.')"
                ),
            ));
        }
    }
    let api_url = raw
        .api_url
        .map(|u| u.trim_end_matches('/').to_string())
        .unwrap_or_else(|| GITHUB_API.to_string());
    if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
        return Err((
            line_of(&api_url),
            format!(
                "repos[{repo}].github.api_url: {api_url:?} is not an http(s) URL; for GitHub Enterprise Server write https://HOST/api/v3"
            ),
        ));
    }
    Ok(GitHubConfig {
        owner: raw.owner,
        repo: raw.repo,
        api_url,
        label: raw.label,
    })
}

/// Where the mirror of a GitHub repository lives when the config does not say:
/// `$XDG_CACHE_HOME/tollgate/github/HOST/OWNER/REPO.git`.
fn mirror_path(github: &GitHubConfig) -> Option<PathBuf> {
    let dirs = crate::dirs::project()?;
    Some(
        dirs.cache_dir()
            .join("github")
            .join(github.host())
            .join(&github.owner)
            .join(format!("{}.git", github.repo)),
    )
}

/// A parse error as `key: message`, the key read off the line the error points at, so
/// that a type error ("invalid u32") says which setting it is about.
pub(crate) fn describe_yaml_error(
    text: &str,
    error: &serde_saphyr::Error,
) -> (Option<u64>, String) {
    let line = error.location().map(|l| l.line());
    let message = error
        .without_snippet()
        .to_string()
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    let key = line
        .and_then(|l| text.lines().nth(l.saturating_sub(1) as usize))
        .and_then(|l| l.split_once(':'))
        .map(|(k, _)| k.trim().trim_start_matches("- ").trim_matches(['{', ' ']))
        .filter(|k| !k.is_empty() && !message.contains(*k));
    match key {
        Some(key) => (line, format!("{key}: {message}")),
        None => (line, message),
    }
}

/// The 1-based line of the first occurrence of `needle`, to point a person at the entry a
/// semantic (not syntactic) error is about.
fn find_line(text: &str, needle: &str) -> Option<u64> {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u64 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/tollgate/config.yaml"))
    }

    #[test]
    fn full_config_is_read_with_defaults_filled_in() {
        let config = parse(
            "identity: \"Dana Ops <dana@example.com>\"\nrepos:\n  - name: shop\n    path: repos/shop.git\n    environments:\n      - { name: production, path: envs/production/, renderer: plain, namespace: shop }\n",
        )
        .expect("valid config");
        assert_eq!(
            config.identity.as_deref(),
            Some("Dana Ops <dana@example.com>")
        );
        let repo = &config.repos[0];
        assert_eq!(repo.path, Path::new("/etc/tollgate/repos/shop.git"));
        assert_eq!(repo.promotions, "promote/*");
        assert_eq!(repo.branch, None);
        let env = &repo.environments.as_ref().expect("explicit")[0];
        assert_eq!(env.path, "envs/production");
        assert_eq!(env.renderer, Some(Renderer::Plain));
    }

    #[test]
    fn unknown_key_names_the_key_and_line() {
        let err = parse("repos:\n  - name: shop\n    path: /x\n    brnch: main\n")
            .expect_err("typo must be refused");
        let text = err.to_string();
        assert!(text.contains("brnch"), "{text}");
        assert!(text.contains("config.yaml:4"), "{text}");
    }

    #[test]
    fn wrong_type_names_the_line() {
        let err = parse("repos:\n  - name: shop\n    path: /x\n    environments: 3\n")
            .expect_err("wrong type");
        assert!(err.to_string().contains("config.yaml:4"), "{err}");
        assert!(err.to_string().contains("environments"), "{err}");
    }

    #[test]
    fn unknown_renderer_is_refused() {
        let err = parse(
            "repos:\n  - name: a\n    path: /x\n    environments:\n      - {name: p, path: envs/p, renderer: jsonnet}\n",
        )
        .expect_err("jsonnet is not supported");
        assert!(err.to_string().contains("jsonnet"), "{err}");
    }

    #[test]
    fn helm_settings_default_to_the_folder_and_the_name() {
        let config = parse(
            "repos:\n  - name: a\n    path: /x\n    environments:\n      - {name: prod, path: charts/api/, renderer: helm, values: [charts/api/values-prod.yaml]}\n",
        )
        .expect("a helm environment");
        let env = &config.repos[0].environments.as_ref().expect("listed")[0];
        assert_eq!(
            env.helm,
            Some(HelmConfig {
                chart: "charts/api".into(),
                values: vec!["charts/api/values-prod.yaml".into()],
                release: "prod".into(),
                kube_version: None,
                api_versions: Vec::new(),
                inline: None,
                skip_crds: false,
            })
        );
    }

    #[test]
    fn helm_capabilities_are_read_and_checked() {
        let config = parse(
            "repos:\n  - name: a\n    path: /x\n    environments:\n      - {name: prod, path: chart, renderer: helm, kube_version: v1.29.3-gke.1, api_versions: [monitoring.coreos.com/v1, v1/Pod]}\n",
        )
        .expect("capabilities");
        let helm = config.repos[0].environments.as_ref().expect("listed")[0]
            .helm
            .clone()
            .expect("helm");
        assert_eq!(helm.kube_version.as_deref(), Some("v1.29.3-gke.1"));
        assert_eq!(helm.api_versions, ["monitoring.coreos.com/v1", "v1/Pod"]);
        for bad in [
            "kube_version: latest",
            "kube_version: \"1.29 --dry-run\"",
            "api_versions: [--set=x]",
            "api_versions: [\"a b/v1\"]",
        ] {
            let err = parse(&format!(
                "repos:\n  - name: a\n    path: /x\n    environments:\n      - {{name: prod, path: chart, renderer: helm, {bad}}}\n"
            ))
            .expect_err(bad);
            assert!(
                err.to_string().contains("write it as helm does"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn helm_settings_without_the_helm_renderer_or_outside_the_repository_are_refused() {
        let stray = parse(
            "repos:\n  - name: a\n    path: /x\n    environments:\n      - {name: prod, path: envs/prod, values: [v.yaml]}\n",
        )
        .expect_err("values without helm");
        assert!(stray.to_string().contains("renderer: helm"), "{stray}");
        let outside = parse(
            "repos:\n  - name: a\n    path: /x\n    environments:\n      - {name: prod, path: envs/prod, renderer: helm, chart: ../other}\n",
        )
        .expect_err("a chart outside");
        assert!(
            outside.to_string().contains("inside the repository"),
            "{outside}"
        );
    }

    #[test]
    fn duplicate_repo_names_are_refused() {
        let err = parse("repos:\n  - {name: a, path: /x}\n  - {name: a, path: /y}\n")
            .expect_err("duplicate");
        assert!(err.to_string().contains("used twice"), "{err}");
    }

    #[test]
    fn empty_file_is_an_empty_workspace() {
        assert!(parse("").expect("empty is fine").repos.is_empty());
    }
}
