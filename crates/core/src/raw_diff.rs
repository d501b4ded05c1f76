//! The file-level diff of an environment's inputs between two commits: what `--raw`
//! shows next to the rendered diff. Secret documents, a kustomization's Secret literals
//! and inline Secret patches are redacted before diffing, and files a `secretGenerator`
//! reads or a patch of a Secret comes from are shown only as fingerprints.

use std::collections::BTreeMap;

use gix::ObjectId;
use serde::Serialize;

use crate::environment::Environment;
use crate::git::{GitError, Repo};
use crate::manifest::redact::{
    fingerprint, is_kustomization_file, redact_kustomization_text, redact_raw_text,
};
use crate::manifest::textdiff::{DiffLine, unified};
use crate::render::helm_values::{redact_values_text, secret_strings};
use crate::render::{inputs_of, is_manifest_file};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Added,
    Removed,
    Modified,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileDiff {
    pub path: String,
    pub status: FileStatus,
    pub lines: Vec<DiffLine>,
}

/// The inputs of an environment that differ between two trees.
pub struct ChangedInputs {
    /// Path, blob before, blob after (`None`: absent on that side), by path.
    pub files: Vec<(String, Option<ObjectId>, Option<ObjectId>)>,
    /// Files a `secretGenerator` or a patch of a Secret reads, on either side.
    pub secret_files: Vec<String>,
    /// Helm values files, on either side.
    pub values_files: Vec<String>,
}

/// Which of `env`'s inputs differ between two trees.
pub fn changed_inputs(
    repo: &Repo,
    env_old: Option<&Environment>,
    old_tree: ObjectId,
    env_new: Option<&Environment>,
    new_tree: ObjectId,
) -> Result<ChangedInputs, GitError> {
    let mut old_files: BTreeMap<String, ObjectId> = BTreeMap::new();
    let mut new_files: BTreeMap<String, ObjectId> = BTreeMap::new();
    let mut secret_files: Vec<String> = Vec::new();
    let mut values_files: Vec<String> = Vec::new();
    for (env, tree, files) in [
        (env_old, old_tree, &mut old_files),
        (env_new, new_tree, &mut new_files),
    ] {
        let Some(env) = env else { continue };
        let inputs = inputs_of(repo, tree, env)?;
        secret_files.extend(inputs.secret_files);
        values_files.extend(inputs.values_files);
        for path in &inputs.paths {
            for file in repo.files_under(tree, path)? {
                files.insert(file.path, file.id);
            }
            if !repo.is_dir(tree, path)?
                && let Some(id) = repo.entry_at(tree, path)?
            {
                files.insert(path.clone(), id);
            }
        }
    }
    let mut paths: Vec<&String> = old_files.keys().chain(new_files.keys()).collect();
    paths.sort();
    paths.dedup();
    let files = paths
        .into_iter()
        .filter_map(|path| {
            let (old, new) = (old_files.get(path).copied(), new_files.get(path).copied());
            (old != new).then(|| (path.clone(), old, new))
        })
        .collect();
    Ok(ChangedInputs {
        files,
        secret_files,
        values_files,
    })
}

/// What the Secrets the environment renders hold, on both sides; `None` when a side does
/// not render (then no values file can be shown safely).
fn helm_secret_strings(
    repo: &Repo,
    sides: [(Option<&Environment>, ObjectId); 2],
) -> Option<Vec<String>> {
    let mut strings = Vec::new();
    for (env, tree) in sides {
        let Some(env) = env else {
            continue;
        };
        let rendered = crate::render::render_for_apply(repo, tree, env).ok()?;
        strings.extend(secret_strings(&rendered.objects));
    }
    Some(strings)
}

/// Files of `env`'s inputs that differ between two trees, with their line diffs.
pub fn raw_diff(
    repo: &Repo,
    env_old: Option<&Environment>,
    old_tree: ObjectId,
    env_new: Option<&Environment>,
    new_tree: ObjectId,
) -> Result<Vec<FileDiff>, GitError> {
    let ChangedInputs {
        files,
        secret_files,
        values_files,
    } = changed_inputs(repo, env_old, old_tree, env_new, new_tree)?;
    // Helm values files (and a kustomization's inline values): what reaches a Secret is
    // found by rendering.
    let helm_secrets = match values_files.is_empty() {
        true => None,
        false => Some(helm_secret_strings(
            repo,
            [(env_old, old_tree), (env_new, new_tree)],
        )),
    };
    let mut out = Vec::new();
    for (path, old, new) in &files {
        let (old, new) = (old.as_ref(), new.as_ref());
        let path = path.as_str();
        let secret = secret_files.iter().any(|p| p == path);
        let values_file = values_files.iter().any(|v| v == path);
        let text = |id: Option<&ObjectId>| -> Result<String, GitError> {
            let Some(id) = id else {
                return Ok(String::new());
            };
            let bytes = repo.blob(*id)?;
            Ok(if secret {
                format!("(secret generator input) {}\n", fingerprint(&bytes))
            } else {
                match String::from_utf8(bytes) {
                    Ok(text) if values_file => {
                        redact_values_text(&text, helm_secrets.as_ref().and_then(|s| s.as_deref()))
                    }
                    Ok(text) if is_kustomization_file(path) => {
                        let text = redact_kustomization_text(&text);
                        match &helm_secrets {
                            // `helmCharts[].valuesInline` is values too.
                            Some(secrets) if text.contains("valuesInline") => {
                                redact_values_text(&text, secrets.as_deref())
                            }
                            _ => text,
                        }
                    }
                    Ok(text) if is_manifest_file(path) => redact_raw_text(&text),
                    Ok(text) => text,
                    Err(e) => format!("(binary or non-UTF-8 file) {}\n", fingerprint(e.as_bytes())),
                }
            })
        };
        out.push(FileDiff {
            path: path.to_string(),
            status: match (old, new) {
                (None, _) => FileStatus::Added,
                (_, None) => FileStatus::Removed,
                _ => FileStatus::Modified,
            },
            lines: unified(&text(old)?, &text(new)?, 3),
        });
    }
    Ok(out)
}
