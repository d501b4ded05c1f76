//! Flux's `Kustomization` manifests in a repository, each an environment `from:` its file.

use gix::ObjectId;

use super::GuessedEnvironment;
use crate::config::Renderer;
use crate::git::{GitError, Repo};

/// Folders Flux `Kustomization` manifests are looked for in, any depth.
const FLUX_DIRS: &[&str] = &["clusters", "flux"];

/// Each Flux `Kustomization` under `clusters/` or `flux/` but the one that bootstraps
/// Flux itself (`flux-system`), named after its cluster folder.
pub fn kustomizations(repo: &Repo, tree: ObjectId) -> Result<Vec<GuessedEnvironment>, GitError> {
    let mut out = Vec::new();
    for dir in FLUX_DIRS {
        for file in repo.files_under(tree, dir)? {
            if !crate::render::is_manifest_file(&file.path) {
                continue;
            }
            let bytes = repo.blob(file.id)?;
            let Ok(text) = std::str::from_utf8(&bytes) else {
                continue;
            };
            if !text.contains(crate::gitops::flux::API) {
                continue;
            }
            for doc in crate::manifest::documents::split_documents(text) {
                let Ok(object) = serde_saphyr::from_str::<serde_json::Value>(doc.text) else {
                    continue;
                };
                let name = object
                    .pointer("/metadata/name")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("");
                if !crate::gitops::flux::is_kustomization(&object)
                    || name.is_empty()
                    || name == "flux-system"
                {
                    continue;
                }
                let Ok(definition) = crate::gitops::flux::definition(&object, &file.path) else {
                    continue;
                };
                // clusters/production/apps.yaml: `production-apps`, or `production`
                // when the Kustomization is named after its cluster.
                let cluster = file
                    .path
                    .strip_prefix(&format!("{dir}/"))
                    .and_then(|rest| rest.split_once('/'))
                    .map(|(cluster, _)| cluster);
                let env_name = match cluster {
                    Some(cluster) if cluster != name => format!("{cluster}-{name}"),
                    _ => name.to_string(),
                };
                out.push(GuessedEnvironment {
                    why: format!(
                        "{} is the Flux Kustomization {name} (path {}{}), read from it at each commit",
                        file.path,
                        definition.path,
                        definition
                            .namespace
                            .as_deref()
                            .map(|ns| format!(", target namespace {ns}"))
                            .unwrap_or_default()
                    ),
                    name: env_name,
                    path: definition.path,
                    renderer: Renderer::Kustomize,
                    values: Vec::new(),
                    namespace: definition.namespace,
                    from: Some(file.path.clone()),
                });
            }
        }
    }
    Ok(out)
}
