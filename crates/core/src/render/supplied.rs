//! Files a render reads that git does not have: an `.env` a kustomization's generator
//! reads, which a pipeline makes from an encrypted file before it builds. The config
//! supplies them (`supplied:`), copied from a file in the repository at the same commit (an
//! example) or read from this machine, and every render that used one says so beside its
//! objects: what was shown was not rendered from git alone.

use gix::ObjectId;

use super::RenderError;
use crate::config::SuppliedSource;
use crate::environment::Environment;
use crate::git::Repo;
use crate::manifest::redact::fingerprint;

/// A supplied file, read.
pub struct SuppliedFile {
    /// Where the render reads it, repository-relative.
    pub path: String,
    pub bytes: Vec<u8>,
    /// What a reader is told about it.
    pub note: String,
}

/// The files `env` is supplied with, as they are for a render of `tree`.
pub fn read(
    repo: &Repo,
    tree: ObjectId,
    env: &Environment,
) -> Result<Vec<SuppliedFile>, RenderError> {
    let mut out = Vec::new();
    for supplied in &env.supplied {
        let problem = |message: String| RenderError::Supplied {
            env: env.name.clone(),
            message,
        };
        let in_git = repo.entry_at(tree, &supplied.path)?.is_some();
        let replaces = if in_git { ", in place of git's" } else { "" };
        let (bytes, note) = match &supplied.source {
            SuppliedSource::Copy(source) => {
                let Some(id) = repo.entry_at(tree, source)? else {
                    return Err(problem(format!(
                        "{} is to be copied from {source}, which is not in the repository at this commit; add it, or change `supplied:` in the config",
                        supplied.path
                    )));
                };
                let bytes = repo.blob(id)?;
                let note = format!(
                    "not from git: {} is a copy of {source}{replaces}",
                    supplied.path
                );
                (bytes, note)
            }
            SuppliedSource::Local(file) => {
                let bytes = std::fs::read(file).map_err(|e| {
                    problem(format!(
                        "{} is to be read from {} on this machine: {e}; put the file there, or change `supplied:` in the config",
                        supplied.path,
                        file.display()
                    ))
                })?;
                let note = format!(
                    "not from git: {} is {} on this machine ({}){replaces}",
                    supplied.path,
                    file.display(),
                    fingerprint(&bytes)
                );
                (bytes, note)
            }
        };
        out.push(SuppliedFile {
            path: supplied.path.clone(),
            bytes,
            note,
        });
    }
    Ok(out)
}

/// What tells one set of supplied files apart from another, for the render's key.
pub fn key_of(files: &[SuppliedFile]) -> String {
    files
        .iter()
        .map(|f| format!("{} {}", f.path, fingerprint(&f.bytes)))
        .collect::<Vec<_>>()
        .join("\n")
}
