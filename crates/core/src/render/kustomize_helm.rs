//! kustomize's `helmCharts:`, inflated by tollgate's own helm before kustomize runs: each
//! chart is rendered with `helm template` into a file beside its kustomization, and the
//! kustomization (in the temp copy only) lists that file under `resources` instead.
//! kustomize then transforms the chart's objects like any other resource.
//!
//! Why not `kubectl kustomize --enable-helm`: kustomize pulls a chart that is not in its
//! chart home from the network, and the kustomize inside kubectl 1.32 refuses Helm v4.
//! Here a chart must be vendored in the repository (a clear error otherwise), and the
//! helm is the one every other Helm render uses, with its identity in the render's key.
//!
//! What differs from kustomize: an entry without `releaseName` renders as `release-name`
//! (kustomize passes `--generate-name`, a new random name on every render, which would
//! make every diff show a rename).

use std::path::Path;
use std::process::Command;

use gix::ObjectId;
use serde::Deserialize;
use serde_json::Value;

use super::helm::Helm;
use crate::environment::resolve;
use crate::git::{GitError, Repo};
use crate::manifest::redact::is_kustomization_file;

/// The chart home kustomize reads when `helmGlobals.chartHome` says nothing.
const DEFAULT_CHART_HOME: &str = "charts";
/// The release name of an entry that names none (see the module comment).
const DEFAULT_RELEASE: &str = "release-name";

/// One `helmCharts:` entry, as kustomize reads it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ChartEntry {
    pub name: String,
    pub version: Option<String>,
    pub repo: Option<String>,
    pub release_name: Option<String>,
    pub namespace: Option<String>,
    pub values_file: Option<String>,
    #[serde(default)]
    pub additional_values_files: Vec<String>,
    pub values_inline: Option<Value>,
    pub values_merge: Option<String>,
    #[serde(default, rename = "includeCRDs")]
    pub include_crds: bool,
    #[serde(default)]
    pub skip_hooks: bool,
    #[serde(default)]
    pub skip_tests: bool,
    #[serde(default)]
    pub api_versions: Vec<String>,
    pub kube_version: Option<String>,
    pub name_template: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HelmGlobals {
    chart_home: Option<String>,
}

/// A chart a kustomization inflates, found in the repository.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartUse {
    /// The kustomization's folder, repository-relative.
    pub dir: String,
    pub entry: ChartEntry,
    /// The chart's folder, repository-relative; `None`: not in the repository.
    pub chart: Option<String>,
    /// Where kustomize would look for it (for the message when it is not there).
    pub expected_at: String,
    /// The values file that replaces the chart's defaults (kustomize's `valuesFile`, else
    /// the chart's `values.yaml`), repository-relative, when it exists.
    pub values_file: Option<String>,
    /// `additionalValuesFiles`, repository-relative, in order.
    pub additional_values_files: Vec<String>,
}

/// The charts `kustomization` (in `dir`) inflates, or what is wrong with its entries.
pub fn charts_of(
    repo: &Repo,
    tree: ObjectId,
    dir: &str,
    kustomization: &Value,
) -> Result<Result<Vec<ChartUse>, String>, GitError> {
    let Some(entries) = kustomization.get("helmCharts") else {
        return Ok(Ok(Vec::new()));
    };
    let entries: Vec<ChartEntry> = match serde_json::from_value(entries.clone()) {
        Ok(entries) => entries,
        Err(e) => return Ok(Err(format!("its helmCharts cannot be read: {e}"))),
    };
    let globals: HelmGlobals = kustomization
        .get("helmGlobals")
        .and_then(|g| serde_json::from_value(g.clone()).ok())
        .unwrap_or_default();
    let chart_home = globals
        .chart_home
        .unwrap_or_else(|| DEFAULT_CHART_HOME.into());
    let in_dir = |reference: &str| resolve(dir, reference);
    let mut out = Vec::new();
    for entry in entries {
        // Only helm's own release-name syntax: anything else could be read as a flag.
        if let Some(release) = &entry.release_name
            && !crate::config::is_release_name(release)
        {
            return Ok(Err(format!(
                "helmCharts {}: releaseName {release:?} is not a release name (lowercase letters, digits and -, starting with a letter or digit)",
                entry.name
            )));
        }
        if entry.name_template.is_some() {
            return Ok(Err(format!(
                "helmCharts {}: nameTemplate is not supported; name the release with releaseName",
                entry.name
            )));
        }
        if let Some(merge) = &entry.values_merge
            && !["merge", "override", "replace"].contains(&merge.as_str())
        {
            return Ok(Err(format!(
                "helmCharts {}: valuesMerge must be merge, override or replace, not {merge:?}",
                entry.name
            )));
        }
        // Where kustomize looks first; it keeps a pulled chart of a given version in a
        // folder of its own.
        let plain = format!("{chart_home}/{}", entry.name);
        let mut candidates = Vec::new();
        if let (Some(version), Some(_)) = (&entry.version, &entry.repo) {
            candidates.push(format!(
                "{chart_home}/{}-{version}/{}",
                entry.name, entry.name
            ));
        }
        candidates.push(plain.clone());
        let mut chart = None;
        for candidate in &candidates {
            if let Some(path) = in_dir(candidate)
                && repo.is_dir(tree, &path)?
            {
                chart = Some(path);
                break;
            }
        }
        let values_file = match (&entry.values_file, &chart) {
            (Some(file), _) => in_dir(file),
            (None, Some(chart)) => Some(format!("{chart}/values.yaml")),
            (None, None) => None,
        };
        let values_file = match values_file {
            Some(path) if repo.entry_at(tree, &path)?.is_some() => Some(path),
            Some(path) if entry.values_file.is_some() => {
                return Ok(Err(format!(
                    "helmCharts {}: its valuesFile {path} is not in the repository",
                    entry.name
                )));
            }
            _ => None,
        };
        let mut additional = Vec::new();
        for file in &entry.additional_values_files {
            match in_dir(file) {
                Some(path) if repo.entry_at(tree, &path)?.is_some() => additional.push(path),
                _ => {
                    return Ok(Err(format!(
                        "helmCharts {}: its additional values file {file} is not in the repository",
                        entry.name
                    )));
                }
            }
        }
        out.push(ChartUse {
            dir: dir.to_string(),
            expected_at: in_dir(&plain).unwrap_or(plain),
            entry,
            chart,
            values_file,
            additional_values_files: additional,
        });
    }
    Ok(Ok(out))
}

/// What went wrong inflating a chart, for the render error.
pub type InflateError = String;

/// Render every chart in `charts` with `helm` inside `root` (the temp copy of the
/// repository) and rewrite their kustomizations to read the results as resources.
/// `kustomization_files` maps a folder to its kustomization file, repository-relative.
pub fn inflate(
    root: &Path,
    charts: &[ChartUse],
    kustomization_files: &[(String, ObjectId)],
    helm: &Helm,
) -> Result<(), InflateError> {
    let mut dirs: Vec<&str> = charts.iter().map(|c| c.dir.as_str()).collect();
    dirs.sort_unstable();
    dirs.dedup();
    let values_dir = root.join(".tollgate-helm-values");
    std::fs::create_dir_all(&values_dir).map_err(|e| e.to_string())?;
    let mut written = 0usize;
    for dir in dirs {
        let mut generated = Vec::new();
        for use_ in charts.iter().filter(|c| c.dir == dir) {
            let output = template(root, use_, helm, &values_dir, &mut written)?;
            // Named by position: the entry's name is the repository's text.
            let name = format!(".tollgate-helm-{}.yaml", generated.len());
            std::fs::write(root.join(dir).join(&name), output).map_err(|e| e.to_string())?;
            generated.push(name);
        }
        let Some((file, _)) = kustomization_files.iter().find(|(file, _)| {
            is_kustomization_file(file) && Path::new(file).parent() == Some(Path::new(dir))
        }) else {
            return Err(format!("the kustomization in {dir} is gone"));
        };
        let path = root.join(file);
        let text = std::fs::read(&path).map_err(|e| e.to_string())?;
        let mut kustomization: Value =
            serde_saphyr::from_slice(&text).map_err(|e| format!("{file}: {e}"))?;
        let Some(map) = kustomization.as_object_mut() else {
            return Err(format!("{file} is not a map"));
        };
        map.remove("helmCharts");
        map.remove("helmGlobals");
        let resources = map
            .entry("resources")
            .or_insert_with(|| Value::Array(Vec::new()));
        let Some(resources) = resources.as_array_mut() else {
            return Err(format!("{file}: resources is not a list"));
        };
        resources.extend(generated.into_iter().map(Value::String));
        // JSON is YAML, and kustomize reads it as such.
        std::fs::write(&path, kustomization.to_string()).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `helm template` of one chart: its output.
fn template(
    root: &Path,
    use_: &ChartUse,
    helm: &Helm,
    values_dir: &Path,
    written: &mut usize,
) -> Result<Vec<u8>, InflateError> {
    let entry = &use_.entry;
    let Some(chart) = &use_.chart else {
        let pull = match (&entry.repo, &entry.version) {
            (Some(repo), Some(version)) => format!(
                "`helm pull --untar --untardir {} --repo {repo} {} --version {version}`",
                Path::new(&use_.expected_at)
                    .parent()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                entry.name
            ),
            _ => "put the chart there".to_string(),
        };
        return Err(format!(
            "{}/kustomization: helmCharts {} is not in the repository at {}; tollgate renders without the network: {pull} and commit it",
            use_.dir, entry.name, use_.expected_at
        ));
    };
    let mut command = Command::new(&helm.path);
    command
        .arg("template")
        .arg(entry.release_name.as_deref().unwrap_or(DEFAULT_RELEASE))
        .arg(root.join(chart))
        .current_dir(root)
        .env_remove("KUBECONFIG");
    if let Some(namespace) = &entry.namespace {
        command.arg(format!("--namespace={namespace}"));
    }
    let mut values = |bytes: Vec<u8>| -> Result<std::path::PathBuf, InflateError> {
        *written += 1;
        let path = values_dir.join(format!("inline-{written}.yaml"));
        std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
        Ok(path)
    };
    let inline = match &entry.values_inline {
        Some(inline) if !inline.is_null() => Some(values(inline.to_string().into_bytes())?),
        _ => None,
    };
    let base = use_.values_file.as_ref().map(|file| root.join(file));
    // kustomize merges the inline values into the values file: `override` (the default)
    // lets the inline ones win, `merge` lets the file win, `replace` drops the file.
    // Passing both to helm in that order merges them the same way.
    let ordered: Vec<&std::path::PathBuf> = match entry.values_merge.as_deref() {
        Some("replace") if inline.is_some() => inline.iter().collect(),
        Some("merge") => inline.iter().chain(base.iter()).collect(),
        _ => base.iter().chain(inline.iter()).collect(),
    };
    for file in ordered {
        command.arg("--values").arg(file);
    }
    for file in &use_.additional_values_files {
        command.arg("--values").arg(root.join(file));
    }
    for api in &entry.api_versions {
        command.arg(format!("--api-versions={api}"));
    }
    if let Some(version) = &entry.kube_version {
        command.arg(format!("--kube-version={version}"));
    }
    if entry.include_crds {
        command.arg("--include-crds");
    }
    if entry.skip_tests {
        command.arg("--skip-tests");
    }
    if entry.skip_hooks {
        command.arg("--no-hooks");
    }
    let limit = super::process::timeout();
    let Some(output) =
        super::process::output_within(&mut command, limit).map_err(|e| e.to_string())?
    else {
        return Err(format!(
            "{}/kustomization: `helm template` of {chart} did not finish within {:#}; set TOLLGATE_RENDER_TIMEOUT for a longer wait",
            use_.dir,
            jiff::SignedDuration::try_from(limit).unwrap_or_default()
        ));
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr)
            .replace(&format!("{}/", root.display()), "")
            .trim()
            .to_string();
        return Err(format!(
            "{}/kustomization: `helm template` of {chart} failed: {stderr}",
            use_.dir
        ));
    }
    Ok(output.stdout)
}
