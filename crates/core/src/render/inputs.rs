//! The paths an environment's render reads at a commit: its folder, and for kustomize the
//! in-repo closure of `resources`, `components`, `bases`, patches, generator files and the
//! rest, followed recursively. A commit changed an environment exactly when one of these
//! paths differs from its parent's.

use std::collections::BTreeSet;

use gix::ObjectId;
use serde_json::Value;

use super::kustomize_helm::{ChartUse, charts_of};
use crate::config::Renderer;
use crate::environment::{Environment, kustomization_in, resolve};
use crate::git::{GitError, Repo};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Folders and files, repository-relative; the environment folder first.
    pub paths: Vec<String>,
    /// Kustomization files in the closure with the blob id they had: when one of them
    /// changes, the closure must be computed again.
    pub kustomizations: Vec<(String, ObjectId)>,
    /// Folders kustomize was told to read whose kustomization file is missing.
    pub missing: Vec<String>,
    /// Files whose content is secret (read by a `secretGenerator`).
    pub secret_files: Vec<String>,
    /// Helm values files (of a Helm environment, or of a kustomization's `helmCharts`):
    /// `--raw` hides the values in them that reach a rendered Secret.
    pub values_files: Vec<String>,
}

impl Inputs {
    /// Every path whose change may change the render or the closure itself: what a
    /// history asks the commit-graph's changed-path filters about.
    pub fn watched(&self) -> impl Iterator<Item = &str> {
        self.paths
            .iter()
            .chain(self.kustomizations.iter().map(|(path, _)| path))
            .chain(&self.missing)
            .map(String::as_str)
    }
}

/// The inputs of `env` at `tree`.
pub fn inputs_of(repo: &Repo, tree: ObjectId, env: &Environment) -> Result<Inputs, GitError> {
    let env = &*env.at(repo, tree)?;
    let mut inputs = Inputs {
        paths: vec![env.path.clone()],
        ..Inputs::default()
    };
    if let Some(from) = &env.from {
        // The manifest that defines the environment, and where its variables come from.
        if *from != env.path {
            inputs.paths.push(from.clone());
        }
        if let Some(flux) = &env.flux {
            let variables = super::flux::variables(repo, tree, flux)?;
            inputs
                .paths
                .extend(variables.files.iter().map(|(path, _)| path.clone()));
            if let Some(folder) = repo.entry_at(tree, &flux.search)? {
                inputs.kustomizations.push((flux.search.clone(), folder));
            }
        }
    }
    // A supplied file copied from the repository reads that file.
    for supplied in &env.supplied {
        if let crate::config::SuppliedSource::Copy(source) = &supplied.source {
            inputs.paths.push(source.clone());
        }
    }
    if env.problem.is_some() {
        return Ok(inputs);
    }
    if env.top_level_only {
        // The folder's own files, one by one: its sub-folders are not rendered.
        inputs.paths.remove(0);
        for file in repo.files_under(tree, &env.path)? {
            if !super::in_sub_folder(env, &file.path) {
                inputs.paths.push(file.path);
            }
        }
        if let Some(folder) = repo.entry_at(tree, &env.path)? {
            inputs.kustomizations.push((env.path.clone(), folder));
        }
    }
    if env.renderer == Renderer::Kustomize {
        let mut closure = Closure::default();
        closure.visit_environment(repo, tree, env)?;
        let inside = |p: &str| p == env.path || p.starts_with(&format!("{}/", env.path));
        inputs
            .paths
            .extend(closure.files.iter().filter(|p| !inside(p)).cloned());
        inputs.kustomizations.extend(closure.kustomizations);
        inputs.missing = closure.missing;
        inputs.secret_files = closure.secret_files.into_iter().collect();
        inputs.values_files = closure.helm_values.into_iter().collect();
    }
    if let (Renderer::Helm, Some(helm)) = (env.renderer, &env.helm) {
        // The chart's files one by one (other environments' values files left out), and
        // this environment's values files. The chart folder's id is the key that says
        // when the list must be read again (a file added or removed).
        let chart_prefix = format!("{}/", helm.chart);
        inputs
            .paths
            .retain(|p| *p != helm.chart && !p.starts_with(&chart_prefix));
        inputs.paths.extend(
            super::helm::chart_files(repo, tree, helm)?
                .into_iter()
                .map(|file| file.path),
        );
        inputs.paths.extend(helm.values.iter().cloned());
        inputs.values_files = helm
            .values
            .iter()
            .cloned()
            .chain([
                format!("{}/values.yaml", helm.chart),
                format!("{}/values.yml", helm.chart),
            ])
            .collect();
        if let Some(chart) = repo.entry_at(tree, &helm.chart)? {
            inputs.kustomizations.push((helm.chart.clone(), chart));
        }
    }
    Ok(inputs)
}

/// Folders with a kustomization and the files they name, as kustomize would read them.
#[derive(Debug, Default)]
pub struct Closure {
    pub dirs: BTreeSet<String>,
    pub files: BTreeSet<String>,
    pub kustomizations: Vec<(String, ObjectId)>,
    pub missing: Vec<String>,
    /// Files a `secretGenerator` reads: their content is secret and never shown.
    pub secret_files: BTreeSet<String>,
    /// References that leave the repository (absolute, or climbing above its root with
    /// `..`): kustomize would read them from the machine that renders, so nothing that
    /// names one is rendered.
    pub escaping: Vec<Escape>,
    /// Charts kustomizations inflate (`helmCharts:`), in the order they were found.
    pub helm_charts: Vec<ChartUse>,
    /// Why a kustomization's `helmCharts` cannot be inflated (reported when rendering).
    pub helm_problems: Vec<String>,
    /// The values files those charts read.
    pub helm_values: BTreeSet<String>,
    /// Kustomizations tollgate writes where Flux would generate one (a Flux path without
    /// its own): the folder and the resources it lists, relative to it.
    pub generated: Vec<(String, Vec<String>)>,
}

/// A kustomization's reference to a path outside the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escape {
    /// The kustomization file, repository-relative.
    pub file: String,
    pub reference: String,
}

/// Keys whose entries are files or kustomization folders.
const PATH_LISTS: &[&str] = &[
    "resources",
    "bases",
    "components",
    "crds",
    "configurations",
    "generators",
    "transformers",
    "validators",
    "patchesStrategicMerge",
];

/// Keys whose entries are maps with a `path:`.
const PATH_MAPS: &[&str] = &["patches", "patchesJson6902", "replacements"];

impl Closure {
    /// The closure of `env`: its kustomization's, or a Flux Kustomization's path and
    /// components.
    pub fn visit_environment(
        &mut self,
        repo: &Repo,
        tree: ObjectId,
        env: &Environment,
    ) -> Result<(), GitError> {
        let Some(flux) = &env.flux else {
            return self.visit_dir(repo, tree, &env.path);
        };
        self.visit_flux_path(repo, tree, &env.path)?;
        for component in &flux.components {
            self.visit_dir(repo, tree, component)?;
        }
        Ok(())
    }

    /// The closure of a Flux Kustomization's path: its kustomization's, or, without one,
    /// what Flux generates in its place: every manifest under the path, a folder with its
    /// own kustomization taken whole.
    pub fn visit_flux_path(
        &mut self,
        repo: &Repo,
        tree: ObjectId,
        path: &str,
    ) -> Result<(), GitError> {
        if kustomization_in(repo, tree, path)?.is_some() {
            return self.visit_dir(repo, tree, path);
        }
        let files = repo.files_under(tree, path)?;
        let is_kustomized = |dir: &str| {
            crate::environment::KUSTOMIZATION_FILES
                .iter()
                .any(|name| files.iter().any(|f| f.path == format!("{dir}/{name}")))
        };
        let mut resources = Vec::new();
        let mut taken_whole: Vec<String> = Vec::new();
        for file in &files {
            if !super::is_manifest_file(&file.path) {
                continue;
            }
            // The highest folder under the path with its own kustomization, if any.
            let inside = file.path[path.len()..].trim_start_matches('/');
            let mut dir = path.to_string();
            let mut whole = None;
            for part in inside
                .split('/')
                .collect::<Vec<_>>()
                .split_last()
                .map_or(&[][..], |(_, dirs)| dirs)
            {
                dir = format!("{dir}/{part}");
                if is_kustomized(&dir) {
                    whole = Some(dir.clone());
                    break;
                }
            }
            match whole {
                Some(dir) if !taken_whole.contains(&dir) => {
                    self.visit_dir(repo, tree, &dir)?;
                    resources.push(dir[path.len() + 1..].to_string());
                    taken_whole.push(dir);
                }
                Some(_) => {}
                None => {
                    // Flux takes only Kubernetes objects; other YAML (a values file) is not one.
                    let bytes = repo.blob(file.id)?;
                    let text = String::from_utf8_lossy(&bytes);
                    if text.contains("apiVersion") && text.contains("kind") {
                        self.files.insert(file.path.clone());
                        resources.push(inside.to_string());
                    }
                }
            }
        }
        self.dirs.insert(path.to_string());
        self.generated.push((path.to_string(), resources));
        Ok(())
    }

    pub fn visit_dir(&mut self, repo: &Repo, tree: ObjectId, dir: &str) -> Result<(), GitError> {
        if !self.dirs.insert(dir.to_string()) {
            return Ok(());
        }
        let Some(file) = kustomization_in(repo, tree, dir)? else {
            self.missing.push(dir.to_string());
            return Ok(());
        };
        let id = repo
            .entry_at(tree, &file)?
            .expect("kustomization_in found this file");
        self.files.insert(file.clone());
        self.kustomizations.push((file.clone(), id));
        let Ok(kustomization) = serde_saphyr::from_slice::<Value>(&repo.blob(id)?) else {
            // kustomize will say what is wrong with it when it renders.
            return Ok(());
        };
        let escapes =
            |reference: &str| reference.starts_with('/') || resolve(dir, reference).is_none();
        // Keys tollgate does not follow may still name files for kustomize (a Helm
        // chart's values file, a plugin's config): none of them may climb out either.
        for reference in climbing_strings(&kustomization) {
            if escapes(reference) {
                self.escape(&file, reference);
            }
        }
        match charts_of(repo, tree, dir, &kustomization)? {
            Ok(charts) => {
                for chart in charts {
                    self.add_chart(repo, tree, &chart)?;
                    self.helm_charts.push(chart);
                }
            }
            Err(problem) => self.helm_problems.push(format!("{file}: {problem}")),
        }
        for (reference, secret) in referenced_paths(&kustomization) {
            if is_remote(&reference) {
                continue;
            }
            if escapes(&reference) {
                self.escape(&file, &reference);
                continue;
            }
            let Some(path) = resolve(dir, &reference) else {
                continue;
            };
            if repo.is_dir(tree, &path)? {
                self.visit_dir(repo, tree, &path)?;
            } else {
                if secret {
                    self.secret_files.insert(path.clone());
                }
                self.files.insert(path);
            }
        }
        Ok(())
    }
}

impl Closure {
    /// A chart's files and values files are read by the render: they are inputs, and the
    /// chart folder's id says when its list of files must be read again.
    fn add_chart(&mut self, repo: &Repo, tree: ObjectId, chart: &ChartUse) -> Result<(), GitError> {
        if let Some(folder) = &chart.chart {
            for file in repo.files_under(tree, folder)? {
                self.files.insert(file.path);
            }
            if let Some(id) = repo.entry_at(tree, folder)? {
                self.kustomizations.push((folder.clone(), id));
            }
        }
        for values in chart
            .values_file
            .iter()
            .chain(&chart.additional_values_files)
        {
            self.files.insert(values.clone());
            self.helm_values.insert(values.clone());
        }
        Ok(())
    }

    fn escape(&mut self, file: &str, reference: &str) {
        let escape = Escape {
            file: file.to_string(),
            reference: reference.to_string(),
        };
        if !self.escaping.contains(&escape) {
            self.escaping.push(escape);
        }
    }
}

/// Every one-line string in a kustomization that may lead out of the repository,
/// wherever it is: one with a `..` path segment, or an absolute path under a key that
/// names a file or a folder (`valuesFile`, `chartHome`, `path`, …).
fn climbing_strings(value: &Value) -> Vec<&str> {
    fn walk<'v>(value: &'v Value, names_a_path: bool, out: &mut Vec<&'v str>) {
        match value {
            Value::String(s)
                if !s.contains('\n')
                    && (s.split('/').any(|part| part == "..")
                        || (names_a_path && s.starts_with('/'))) =>
            {
                out.push(s);
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, names_a_path, out)),
            Value::Object(map) => {
                for (key, v) in map {
                    let key = key.to_ascii_lowercase();
                    let names_a_path = ["path", "file", "home", "dir"]
                        .iter()
                        .any(|word| key.contains(word));
                    walk(v, names_a_path, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, false, &mut out);
    out
}

/// Every local path a kustomization names, and whether a `secretGenerator` reads it.
fn referenced_paths(kustomization: &Value) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    for key in PATH_LISTS {
        if let Some(list) = kustomization.get(key) {
            // Inline patches are YAML text, not paths.
            out.extend(
                strings(list)
                    .into_iter()
                    .filter(|s| !s.contains('\n'))
                    .map(|s| (s, false)),
            );
        }
    }
    for key in PATH_MAPS {
        for entry in kustomization
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(path) = entry.get("path").and_then(Value::as_str) {
                // A patch of a Secret writes its values: as secret as the Secret.
                let secret = *key != "replacements"
                    && crate::manifest::redact::may_reach_secret(entry)
                    && entry.get("target").is_some();
                out.push((path.to_string(), secret));
            }
        }
    }
    for key in ["configMapGenerator", "secretGenerator"] {
        let secret = key == "secretGenerator";
        for generator in kustomization
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for file in generator.get("files").map(strings).unwrap_or_default() {
                // `key=path` names the key explicitly.
                let path = file.split_once('=').map(|(_, p)| p).unwrap_or(&file);
                out.push((path.to_string(), secret));
            }
            for env in generator.get("envs").map(strings).unwrap_or_default() {
                out.push((env, secret));
            }
            if let Some(env) = generator.get("env").and_then(Value::as_str) {
                out.push((env.to_string(), secret));
            }
        }
    }
    if let Some(path) = kustomization
        .get("openapi")
        .and_then(|o| o.get("path"))
        .and_then(Value::as_str)
    {
        out.push((path.to_string(), false));
    }
    out
}

fn is_remote(reference: &str) -> bool {
    reference.contains("://")
        || reference.starts_with("git@")
        || reference.starts_with("github.com/")
        || reference.contains("?ref=")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_reference_is_found() {
        let k: Value = serde_saphyr::from_str(
            "resources: [../../base, https://github.com/x/y, deploy.yaml]\ncomponents: [../../components/x]\npatches:\n- path: patch.yaml\n- patch: |\n    a: b\nconfigMapGenerator:\n- name: c\n  files: [app.properties, key=other.txt]\n  envs: [x.env]\n",
        )
        .expect("valid YAML");
        let paths: Vec<String> = referenced_paths(&k).into_iter().map(|(p, _)| p).collect();
        for expected in [
            "../../base",
            "deploy.yaml",
            "../../components/x",
            "patch.yaml",
            "app.properties",
            "other.txt",
            "x.env",
        ] {
            assert!(
                paths.iter().any(|p| p == expected),
                "{expected} in {paths:?}"
            );
        }
        assert!(paths.iter().filter(|p| is_remote(p)).count() == 1);
    }

    #[test]
    fn references_that_leave_the_repository_are_found_under_any_key() {
        let k: Value = serde_saphyr::from_str(
            "resources: [../base]\nhelmCharts:\n- name: x\n  valuesFile: /etc/secret.yaml\n  additionalValuesFiles: [../../../../../../x.yaml]\npatches:\n- patch: |\n    - op: replace\n      path: /spec/replicas\n- target: {kind: Deployment}\n  options: {allowNameChange: true}\nnamePrefix: a/..\nreplacements:\n- targets:\n  - fieldPaths: [spec.replicas]\n",
        )
        .expect("valid YAML");
        assert_eq!(
            climbing_strings(&k),
            [
                "../base",
                "/etc/secret.yaml",
                "../../../../../../x.yaml",
                "a/.."
            ],
            "inline patches and field paths are not paths"
        );
    }
}
