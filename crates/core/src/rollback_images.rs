//! Rolling back images only (`rollback --images`): each container of the environment runs
//! again the image it ran at an earlier commit, and nothing else changes. For a
//! kustomization the images are set in its own `images:` list, which kustomize applies
//! wherever they are declared (a shared base included, without touching it); in a plain
//! folder the image is replaced where the folder's files write it. Either way the result
//! is rendered and checked: every container that ran then runs that image again, or
//! nothing is planned.

use std::collections::BTreeMap;

use gix::ObjectId;
use serde_json::Value;

use crate::config::Renderer;
use crate::environment::{Environment, kustomization_in};
use crate::git::write::FileChange;
use crate::git::{CommitInfo, short};
use crate::manifest::ObjectKey;
use crate::manifest::summary::container_images_of;
use crate::render::{is_manifest_file, render};
use crate::rollback::{RollbackError, RollbackKind, RollbackPlan};
use crate::workspace::{OpenRepo, unknown_environment};

/// Each container of an environment's render, with its image.
type Images = BTreeMap<(ObjectKey, String), String>;

impl OpenRepo {
    /// Plan setting every container image of `env` back to what it was at `to`, on the
    /// protected branch's tip.
    pub fn plan_image_rollback(
        &self,
        env: &str,
        to: ObjectId,
    ) -> Result<RollbackPlan, RollbackError> {
        let tip = self.tip()?;
        let target = self.repo.commit_info(to)?;
        self.require_on_branch(to, tip)?;
        let (tip_tree, to_tree) = (self.repo.tree_of(tip)?, self.repo.tree_of(to)?);
        let now = self.environments_in(tip_tree)?;
        let Some(environment) = now.iter().find(|e| e.name == env).cloned() else {
            return Err(unknown_environment(self.name(), env, &now).into());
        };
        let then = self
            .environments_in(to_tree)?
            .into_iter()
            .find(|e| e.name == env)
            .ok_or_else(|| {
                self.images_refused(env, &target, "the environment did not exist then")
            })?;
        let (current, wanted) = (
            self.images_at(tip_tree, &environment, &target)?,
            self.images_at(to_tree, &then, &target)?,
        );
        // Per image name (without tag), what it goes back to; one name cannot go back to
        // two images.
        let mut back: BTreeMap<String, String> = BTreeMap::new();
        for (container, image) in &current {
            let Some(old) = wanted.get(container).filter(|old| *old != image) else {
                continue;
            };
            let name = image_name(image).to_string();
            match back.get(&name) {
                Some(other) if other != old => {
                    return Err(self.images_refused(
                        env,
                        &target,
                        &format!("{name} ran both {other} and {old} then, in different containers"),
                    ));
                }
                _ => {
                    back.insert(name, old.clone());
                }
            }
        }
        let tree = match environment.renderer {
            Renderer::Kustomize => self.set_kustomize_images(tip_tree, &environment, &back)?,
            Renderer::Plain => self.set_plain_images(tip_tree, &environment, &current, &wanted)?,
            // Images in a chart come from values, which tollgate does not rewrite.
            Renderer::Helm => {
                return Err(self.images_refused(
                    env,
                    &target,
                    "it is a Helm environment: set the image back in its values file, or roll the environment back whole",
                ));
            }
        };
        // What renders now must be what ran then, container by container.
        let after = self.images_at(tree, &environment, &target)?;
        for (container, old) in &wanted {
            if let Some(now) = after.get(container).filter(|now| *now != old) {
                return Err(self.images_refused(
                    env,
                    &target,
                    &format!(
                        "{} container {} would run {now}, not {old}",
                        container.0, container.1
                    ),
                ));
            }
        }
        let branch = self.rollback_branch(&format!("rollback-images-{env}-{}", short(&to)))?;
        let mut plan = self.finish_plan(
            RollbackKind::Rollback {
                environment: env.to_string(),
                to: target.sha.clone(),
            },
            target,
            tip,
            tree,
            branch,
            Vec::new(),
        )?;
        plan.images_only = true;
        Ok(plan)
    }

    fn images_at(
        &self,
        tree: ObjectId,
        env: &Environment,
        target: &CommitInfo,
    ) -> Result<Images, RollbackError> {
        let rendered = match render(&self.repo, tree, env) {
            Ok(rendered) => rendered,
            Err(crate::render::RenderError::Git(e)) => return Err(e.into()),
            Err(e) => return Err(self.images_refused(&env.name, target, &e.to_string())),
        };
        let mut out = Images::new();
        for object in &rendered.objects {
            for (container, image) in container_images_of(object.value()) {
                out.insert((object.key.clone(), container), image);
            }
        }
        Ok(out)
    }

    /// The kustomization with `back` (image name → image) in its `images:` list.
    fn set_kustomize_images(
        &self,
        tree: ObjectId,
        env: &Environment,
        back: &BTreeMap<String, String>,
    ) -> Result<ObjectId, RollbackError> {
        let Some(file) = kustomization_in(&self.repo, tree, &env.path)? else {
            return Ok(tree);
        };
        let id = self
            .repo
            .entry_at(tree, &file)?
            .expect("kustomization_in found this file");
        let text = String::from_utf8_lossy(&self.repo.blob(id)?).into_owned();
        let unreadable = |why: String| RollbackError::ImagesRefused {
            repo: self.name().to_string(),
            env: env.name.clone(),
            commit: "its tip".into(),
            why,
        };
        let mut kustomization: Value =
            serde_saphyr::from_str(&text).map_err(|e| unreadable(format!("{file}: {e}")))?;
        let images = kustomization
            .as_object_mut()
            .ok_or_else(|| unreadable(format!("{file} is not a mapping")))?
            .entry("images")
            .or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(list) = images else {
            return Err(unreadable(format!("{file}: `images` is not a list")));
        };
        for (name, image) in back {
            let entry = image_entry(name, image);
            match list
                .iter_mut()
                .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
            {
                Some(existing) => *existing = entry,
                None => list.push(entry),
            }
        }
        let change = FileChange {
            path: file,
            content: Some(crate::manifest::textdiff::to_yaml(&kustomization).into_bytes()),
        };
        Ok(self.repo.write_tree(tree, &[change])?)
    }

    /// The folder's files with each container's current image replaced by the one it
    /// ran then, where the file writes it.
    fn set_plain_images(
        &self,
        tree: ObjectId,
        env: &Environment,
        current: &Images,
        wanted: &Images,
    ) -> Result<ObjectId, RollbackError> {
        let mut replacements: Vec<(&str, &str)> = current
            .iter()
            .filter_map(|(container, now)| {
                let old = wanted.get(container)?;
                (old != now).then_some((now.as_str(), old.as_str()))
            })
            .collect();
        replacements.sort();
        replacements.dedup();
        let mut changes = Vec::new();
        for file in self.repo.files_under(tree, &env.path)? {
            if !is_manifest_file(&file.path) {
                continue;
            }
            let text = String::from_utf8_lossy(&self.repo.blob(file.id)?).into_owned();
            let mut changed = text.clone();
            for (now, old) in &replacements {
                changed = replace_image(&changed, now, old);
            }
            if changed != text {
                changes.push(FileChange {
                    path: file.path,
                    content: Some(changed.into_bytes()),
                });
            }
        }
        Ok(self.repo.write_tree(tree, &changes)?)
    }

    fn images_refused(&self, env: &str, target: &CommitInfo, why: &str) -> RollbackError {
        RollbackError::ImagesRefused {
            repo: self.name().to_string(),
            env: env.to_string(),
            commit: short(&target.id),
            why: why.to_string(),
        }
    }
}

/// An image without its tag or digest: what kustomize's `images:` matches by.
fn image_name(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rsplit_once(':') {
        // A colon after the last slash is a tag; before it, a registry's port.
        Some((name, tag)) if !tag.contains('/') => name,
        _ => image,
    }
}

/// A kustomize `images:` entry that makes `name` run `image`.
fn image_entry(name: &str, image: &str) -> Value {
    let mut entry = serde_json::Map::new();
    entry.insert("name".into(), Value::String(name.to_string()));
    let (new_name, rest) = match image.split_once('@') {
        Some((base, digest)) => {
            entry.insert("digest".into(), Value::String(digest.to_string()));
            (base, None)
        }
        None => {
            let base = image_name(image);
            (
                base,
                image.strip_prefix(base).and_then(|t| t.strip_prefix(':')),
            )
        }
    };
    if new_name != name {
        entry.insert("newName".into(), Value::String(new_name.to_string()));
    }
    if let Some(tag) = rest {
        entry.insert("newTag".into(), Value::String(tag.to_string()));
    }
    Value::Object(entry)
}

/// `text` with `image: NOW` (bare or quoted) written as `image: OLD`.
fn replace_image(text: &str, now: &str, old: &str) -> String {
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start().trim_start_matches("- ");
            match trimmed.strip_prefix("image:") {
                Some(value) if value.trim().trim_matches(['"', '\'']) == now => {
                    line.replacen(now, old, 1)
                }
                _ => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_and_entries_as_kustomize_reads_them() {
        assert_eq!(image_name("ghcr.io/acme/api:1.1"), "ghcr.io/acme/api");
        assert_eq!(image_name("registry:5000/api"), "registry:5000/api");
        assert_eq!(image_name("registry:5000/api:2"), "registry:5000/api");
        assert_eq!(
            image_entry("ghcr.io/acme/api", "ghcr.io/acme/api:1.0"),
            serde_json::json!({"name": "ghcr.io/acme/api", "newTag": "1.0"})
        );
        assert_eq!(
            image_entry("ghcr.io/acme/api", "quay.io/acme/api@sha256:abc"),
            serde_json::json!({"name": "ghcr.io/acme/api", "newName": "quay.io/acme/api", "digest": "sha256:abc"})
        );
    }

    #[test]
    fn only_image_lines_are_rewritten() {
        let text = "containers:\n- name: api\n  image: 'ghcr.io/acme/api:1.1'\n  env: [{name: V, value: 'ghcr.io/acme/api:1.1'}]\n";
        assert_eq!(
            replace_image(text, "ghcr.io/acme/api:1.1", "ghcr.io/acme/api:1.0"),
            "containers:\n- name: api\n  image: 'ghcr.io/acme/api:1.0'\n  env: [{name: V, value: 'ghcr.io/acme/api:1.1'}]\n"
        );
    }
}
