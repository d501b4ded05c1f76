//! Helm rendering: write the chart (with its vendored subcharts) and the environment's
//! values files from git into a temp dir and run `helm template` on them, with the helm
//! `TOLLGATE_HELM` names or the one on `PATH`. Never the user's working tree, never the
//! network: a dependency that is not vendored under `charts/` is an error naming it.

use std::path::{Path, PathBuf};
use std::process::Command;

use gix::ObjectId;
use serde::Deserialize;

use super::kustomize::{binary_identity, find_on_path};
use super::supplied::SuppliedFile;
use super::{RenderError, Rendered};
use crate::config::HelmConfig;
use crate::environment::Environment;
use crate::git::Repo;
use crate::manifest::parse::{Secrets, parse_file};

/// The helm that renders here.
pub struct Helm {
    pub path: PathBuf,
}

impl Helm {
    /// `TOLLGATE_HELM` when set, else `helm` on `PATH`.
    pub fn find() -> Option<Helm> {
        match std::env::var_os("TOLLGATE_HELM") {
            Some(path) if !path.is_empty() => Some(Helm { path: path.into() }),
            _ => find_on_path("helm").map(|path| Helm { path }),
        }
    }

    /// Whether it answers `helm version`.
    pub fn works(&self) -> bool {
        Command::new(&self.path)
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// What tells this helm apart from another.
    pub fn identity(&self) -> String {
        format!("helm {}", binary_identity(&self.path))
    }
}

/// The helm to render `env` with, or why there is none.
pub fn helm_for(env: &Environment) -> Result<Helm, RenderError> {
    Helm::find().ok_or_else(|| RenderError::NoHelm {
        env: env.name.clone(),
    })
}

/// Whether `name`, a file at the chart's root, is another environment's values file
/// (`values-production.yaml`, `values.staging.yml`): it is neither written for this
/// environment's render nor one of its inputs, so that a change to it is not this
/// environment's change.
pub fn is_other_values_file(name: &str, helm: &HelmConfig, chart_root_file: &str) -> bool {
    let values_like = (name.starts_with("values-") || name.starts_with("values."))
        && (name.ends_with(".yaml") || name.ends_with(".yml"))
        && name != "values.yaml"
        && name != "values.yml";
    values_like && !helm.values.iter().any(|v| v == chart_root_file)
}

/// The chart's files this environment's render reads: everything under the chart folder
/// but other environments' values files at its root.
pub fn chart_files(
    repo: &Repo,
    tree: ObjectId,
    helm: &HelmConfig,
) -> Result<Vec<crate::git::tree::TreeFile>, crate::git::GitError> {
    Ok(repo
        .files_under(tree, &helm.chart)?
        .into_iter()
        .filter(|file| {
            let inside = file.path[helm.chart.len()..].trim_start_matches('/');
            inside.contains('/') || !is_other_values_file(inside, helm, &file.path)
        })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
struct ChartFile {
    #[serde(default)]
    dependencies: Vec<Dependency>,
}

#[derive(Debug, Deserialize)]
struct Dependency {
    name: String,
    #[serde(default)]
    repository: Option<String>,
}

/// Render `env` (a Helm environment) at `tree` with `helm`.
pub fn render(
    repo: &Repo,
    tree: ObjectId,
    env: &Environment,
    settings: &HelmConfig,
    helm: &Helm,
    supplied: &[SuppliedFile],
    secrets: Secrets,
) -> Result<Rendered, RenderError> {
    let io = |source| RenderError::Io {
        env: env.name.clone(),
        source,
    };
    let workdir = tempfile::Builder::new()
        .prefix("tollgate-helm-")
        .tempdir()
        .map_err(io)?;
    let chart_dir = workdir.path().join("chart");
    std::fs::create_dir_all(&chart_dir).map_err(io)?;
    for file in chart_files(repo, tree, settings)? {
        let inside = file.path[settings.chart.len()..].trim_start_matches('/');
        write(&chart_dir.join(inside), &repo.blob(file.id)?).map_err(io)?;
    }
    // Supplied files inside the chart (a secrets file `.Files.Get` reads).
    let chart_prefix = format!("{}/", settings.chart);
    for file in supplied {
        if let Some(inside) = file.path.strip_prefix(&chart_prefix) {
            write(&chart_dir.join(inside), &file.bytes).map_err(io)?;
        }
    }
    missing_dependencies(env, settings, &chart_dir)?;
    let mut command = Command::new(&helm.path);
    command
        .arg("template")
        .arg(&settings.release)
        .arg(&chart_dir)
        .current_dir(workdir.path())
        .env_remove("KUBECONFIG");
    if let Some(namespace) = &env.namespace {
        command.args(["--namespace", namespace]);
    }
    // As Argo CD and `helm install` do: a chart's CRDs are part of what it deploys.
    if !settings.skip_crds {
        command.arg("--include-crds");
    }
    if let Some(version) = &settings.kube_version {
        command.arg(format!("--kube-version={version}"));
    }
    for api in &settings.api_versions {
        command.arg(format!("--api-versions={api}"));
    }
    for (index, values) in settings.values.iter().enumerate() {
        let target = workdir.path().join(format!("values-{index}.yaml"));
        if let Some(file) = supplied.iter().find(|file| file.path == *values) {
            write(&target, &file.bytes).map_err(io)?;
            command.arg("--values").arg(target);
            continue;
        }
        let Some(id) = repo.entry_at(tree, values)? else {
            return Err(RenderError::Helm {
                env: env.name.clone(),
                message: format!(
                    "the values file {values} is not in the repository at this commit; fix `values:` in the config, or add the file"
                ),
            });
        };
        write(&target, &repo.blob(id)?).map_err(io)?;
        command.arg("--values").arg(target);
    }
    if let Some(inline) = &settings.inline {
        // JSON is YAML: helm reads it as a values file.
        let target = workdir.path().join("values-inline.yaml");
        write(&target, inline.to_string().as_bytes()).map_err(io)?;
        command.arg("--values").arg(target);
    }
    let limit = super::process::timeout();
    let Some(output) = super::process::output_within(&mut command, limit).map_err(io)? else {
        return Err(RenderError::TimedOut {
            env: env.name.clone(),
            program: format!("helm template {}", settings.chart),
            limit,
        });
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr)
            .replace(&format!("{}/", workdir.path().display()), "")
            .trim()
            .to_string();
        return Err(RenderError::Helm {
            env: env.name.clone(),
            message: format!("`helm template` of {} failed: {stderr}", settings.chart),
        });
    }
    let source = format!("helm template {}", settings.chart);
    Ok(parse_file(&source, output.stdout, secrets))
}

fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, bytes)
}

/// The chart's dependencies that are not vendored under `charts/` (as a folder or a
/// `.tgz`): helm would fetch them, and a render never goes to the network.
fn missing_dependencies(
    env: &Environment,
    settings: &HelmConfig,
    chart_dir: &Path,
) -> Result<(), RenderError> {
    let text = std::fs::read_to_string(chart_dir.join("Chart.yaml")).unwrap_or_default();
    let chart: ChartFile = serde_saphyr::from_str(&text).unwrap_or_default();
    let vendored: Vec<String> = std::fs::read_dir(chart_dir.join("charts"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let missing: Vec<String> = chart
        .dependencies
        .iter()
        .filter(|d| {
            !vendored.iter().any(|v| {
                *v == d.name || (v.starts_with(&format!("{}-", d.name)) && v.ends_with(".tgz"))
            })
        })
        .map(|d| match &d.repository {
            Some(repository) => format!("{} ({repository})", d.name),
            None => d.name.clone(),
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(RenderError::Helm {
        env: env.name.clone(),
        message: format!(
            "the chart {} depends on {} that is not vendored under {}/charts/; tollgate renders without the network: run `helm dependency build {}` and commit charts/",
            settings.chart,
            missing.join(", "),
            settings.chart,
            settings.chart
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_environments_values_files_are_not_this_ones() {
        let helm = HelmConfig {
            chart: "chart".into(),
            values: vec!["chart/values-production.yaml".into()],
            release: "api".into(),
            kube_version: None,
            api_versions: Vec::new(),
            inline: None,
            skip_crds: false,
        };
        assert!(is_other_values_file(
            "values-staging.yaml",
            &helm,
            "chart/values-staging.yaml"
        ));
        assert!(!is_other_values_file(
            "values-production.yaml",
            &helm,
            "chart/values-production.yaml"
        ));
        assert!(!is_other_values_file(
            "values.yaml",
            &helm,
            "chart/values.yaml"
        ));
        assert!(!is_other_values_file(
            "Chart.yaml",
            &helm,
            "chart/Chart.yaml"
        ));
    }
}
