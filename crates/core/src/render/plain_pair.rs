//! Both sides of a plain environment rendered together, for a diff. A file that is the
//! same blob on both sides is read and parsed once, and a changed file is matched
//! document by document: a document whose text is on both sides is the same object on
//! both (see `manifest::shared`), so only what the diff reads of it is kept. A diff of a
//! large environment then holds the documents that changed, not two copies of
//! everything; a promotion that changes a few hundred objects of 50 MB of manifests
//! parses and keeps a few hundred objects whole.
//!
//! The answer is the one rendering each side whole gives. Where it might not be (a key
//! that is there twice, an object whose namespace differs between the sides because a
//! default or a CRD's scope changed), [`render_plain_pair`] says so and the caller renders
//! each side whole. [`PAIRED_ENV`] turns it off.

use gix::ObjectId;
use itertools::{EitherOrBoth, Itertools};

use super::{RenderError, Rendered, note_read, plain_files};
use crate::config::Renderer;
use crate::environment::Environment;
use crate::git::tree::TreeFile;
use crate::git::{GitError, Repo};
use crate::manifest::documents::{Document, split_documents};
use crate::manifest::parse::{Keep, ParsedManifests, Secrets, parse_document_of, parse_file};
use crate::manifest::scope::{ClusterKinds, cluster_kind_defined_by, custom_cluster_kinds, place};
use crate::manifest::shared::{SharedObject, match_documents};
use crate::parallel::{cores, map_in_order};

/// Set to `off`, a diff renders each side of a plain environment whole, as other
/// environments are: for a diff that looks wrong (if it changes with this off, that is a
/// bug in this module) and for measuring.
pub const PAIRED_ENV: &str = "TOLLGATE_PAIRED_RENDER";

/// What each side has that the other does not, and the objects both have.
#[derive(Debug, Default)]
pub struct PairedRender {
    /// Objects of documents only the old side has, namespaces assigned; its issues and
    /// the files it read whose blob differs from the new side's.
    pub old: Rendered,
    pub new: Rendered,
    /// Objects of documents both sides have, sorted by key (the same on both sides).
    pub shared: Vec<SharedObject>,
}

/// Render `env` at two trees together, as [`super::render_cached`] renders each for a
/// diff. `Ok(None)` when it cannot be done this way or might not give the same answer:
/// the caller renders each side on its own.
pub fn render_plain_pair(
    repo: &Repo,
    (old_tree, old_env): (ObjectId, &Environment),
    (new_tree, new_env): (ObjectId, &Environment),
) -> Result<Option<PairedRender>, RenderError> {
    if crate::text::switched_off(PAIRED_ENV) {
        return Ok(None);
    }
    let (old_env, new_env) = (old_env.at(repo, old_tree)?, new_env.at(repo, new_tree)?);
    let same_reading = |a: &Environment, b: &Environment| {
        a.renderer == Renderer::Plain
            && b.renderer == Renderer::Plain
            && a.problem.is_none()
            && b.problem.is_none()
            && a.supplied.is_empty()
            && b.supplied.is_empty()
            && a.path == b.path
            && a.top_level_only == b.top_level_only
    };
    if !same_reading(&old_env, &new_env) {
        return Ok(None);
    }
    let (old_files, new_files) = (
        plain_files(repo, old_tree, &old_env)?,
        plain_files(repo, new_tree, &new_env)?,
    );
    let files = pair_files(old_files, new_files);
    let mut read = read_in_parallel(repo, &files)?;
    let defaults = (old_env.namespace.as_deref(), new_env.namespace.as_deref());
    if !read.place_namespaces(defaults) {
        tracing::debug!(env = %new_env.name, "a shared object is not the same on both sides: rendering each side whole");
        return Ok(None);
    }
    tracing::debug!(
        env = %new_env.name,
        shared = read.paired.shared.len(),
        old = read.paired.old.objects.len(),
        new = read.paired.new.objects.len(),
        "rendered both sides together"
    );
    Ok(Some(read.paired))
}

/// A path and its blob on each side that has it.
struct FilePair {
    path: String,
    old: Option<ObjectId>,
    new: Option<ObjectId>,
}

/// Both sides' files, joined by path (each list is sorted by path).
fn pair_files(old: Vec<TreeFile>, new: Vec<TreeFile>) -> Vec<FilePair> {
    old.into_iter()
        .merge_join_by(new, |o, n| o.path.cmp(&n.path))
        .map(|pair| match pair {
            EitherOrBoth::Left(o) => FilePair {
                path: o.path,
                old: Some(o.id),
                new: None,
            },
            EitherOrBoth::Right(n) => FilePair {
                path: n.path,
                old: None,
                new: Some(n.id),
            },
            EitherOrBoth::Both(o, n) => FilePair {
                path: o.path,
                old: Some(o.id),
                new: Some(n.id),
            },
        })
        .collect()
}

/// What reading a run of files gave, before namespaces are placed.
#[derive(Default)]
struct Read {
    paired: PairedRender,
    /// Custom cluster-scoped kinds that CRDs of shared documents define.
    shared_cluster_kinds: ClusterKinds,
}

impl Read {
    fn append(&mut self, later: Read) {
        self.paired.old.extend(later.paired.old);
        self.paired.new.extend(later.paired.new);
        self.paired.shared.extend(later.paired.shared);
        self.shared_cluster_kinds.extend(later.shared_cluster_kinds);
    }

    /// Read one file of the environment, as its sides have it.
    fn file(&mut self, repo: &Repo, file: &FilePair) -> Result<(), GitError> {
        match (file.old, file.new) {
            (Some(old), Some(new)) if old == new => self.same_file(&file.path, repo.blob(old)?),
            (Some(old), Some(new)) => {
                let (old, new) = (repo.blob(old)?, repo.blob(new)?);
                self.changed_file(&file.path, old, new);
            }
            (Some(old), None) => read_one_side(&mut self.paired.old, &file.path, repo.blob(old)?),
            (None, Some(new)) => read_one_side(&mut self.paired.new, &file.path, repo.blob(new)?),
            (None, None) => {}
        }
        Ok(())
    }

    /// A file that is the same blob on both sides: every object is shared; what cannot
    /// be read of it is an issue on both sides, as each side's render would say.
    fn same_file(&mut self, path: &str, bytes: Vec<u8>) {
        let parsed = parse_file(path, bytes, Secrets::Redact);
        self.share(&parsed);
        for side in [&mut self.paired.old, &mut self.paired.new] {
            side.issues.extend(parsed.issues.iter().cloned());
        }
    }

    /// Keep what the diff reads of objects both sides have.
    fn share(&mut self, parsed: &ParsedManifests) {
        for object in &parsed.objects {
            self.shared_cluster_kinds
                .extend(cluster_kind_defined_by(object));
            self.paired.shared.push(SharedObject::of(object));
        }
    }

    /// A file whose blob differs between the sides: its documents matched by text.
    fn changed_file(&mut self, path: &str, old: Vec<u8>, new: Vec<u8>) {
        let (old_side, new_side) = (&mut self.paired.old, &mut self.paired.new);
        note_read(old_side, path, &old);
        note_read(new_side, path, &new);
        let (old_text, new_text) = match (String::from_utf8(old), String::from_utf8(new)) {
            (Ok(old), Ok(new)) => (std::sync::Arc::new(old), std::sync::Arc::new(new)),
            // Not text on a side: each side says what its own render would.
            (old, new) => {
                let bytes = |text: Result<String, std::string::FromUtf8Error>| {
                    text.map_or_else(|e| e.into_bytes(), String::into_bytes)
                };
                old_side.extend(parse_file(path, bytes(old), Secrets::Redact));
                new_side.extend(parse_file(path, bytes(new), Secrets::Redact));
                return;
            }
        };
        let (old_docs, new_docs) = (split_documents(&old_text), split_documents(&new_text));
        let partners = match_documents(&old_docs, &new_docs);
        // A CRD bundle or an install.yaml of megabytes is most of a render's work: its
        // documents are read on a thread per core.
        let parallel = old_text.len() + new_text.len() >= PARALLEL_FROM_BYTES;
        // A document on both sides is dropped once its identity is read: it holds the
        // file's text. (A document with something that cannot be read keeps no text: it
        // is read whole.)
        let parse = |text: &std::sync::Arc<String>, (doc, keep): &(Document<'_>, Keep)| {
            let mut parsed = ParsedManifests::default();
            parse_document_of(path, text, *doc, *keep, &mut parsed);
            parsed
        };
        let new_keep = keep_for(
            &new_text,
            new_docs
                .iter()
                .zip(&partners)
                .filter_map(|(doc, partner)| partner.is_none().then_some(doc)),
        );
        let new_docs: Vec<_> = new_docs
            .into_iter()
            .zip(&partners)
            .map(|(doc, partner)| match partner {
                Some(_) => (doc, Keep::File),
                None => (doc, new_keep),
            })
            .collect();
        // An old document stays the old side's own unless its twin was shared.
        let mut shared_old = vec![false; old_docs.len()];
        for (parsed, partner) in map_in_order(&new_docs, parallel, |doc| parse(&new_text, doc))
            .into_iter()
            .zip(&partners)
        {
            match partner {
                // A document with something that cannot be read is each side's own, so
                // that each side names its own line.
                Some(old_at) if parsed.issues.is_empty() => {
                    shared_old[*old_at] = true;
                    self.share(&parsed);
                }
                _ => self.paired.new.extend(parsed),
            }
        }
        let old_keep = keep_for(
            &old_text,
            old_docs
                .iter()
                .zip(&shared_old)
                .filter_map(|(doc, shared)| (!shared).then_some(doc)),
        );
        let old_only: Vec<_> = old_docs
            .iter()
            .zip(shared_old)
            .filter_map(|(doc, shared)| (!shared).then_some((*doc, old_keep)))
            .collect();
        for parsed in map_in_order(&old_only, parallel, |doc| parse(&old_text, doc)) {
            self.paired.old.extend(parsed);
        }
    }

    /// Place every object in its namespace as each side's render would, given each
    /// side's default namespace. `false` when a shared object lands in different places
    /// on the two sides, or a key is there twice on a side with a shared object among
    /// them: rendering each side whole is what says what that means.
    fn place_namespaces(
        &mut self,
        (old_default, new_default): (Option<&str>, Option<&str>),
    ) -> bool {
        let paired = &mut self.paired;
        let kinds_of = |side: &Rendered| {
            let mut kinds = custom_cluster_kinds(&side.objects);
            kinds.extend(self.shared_cluster_kinds.iter().cloned());
            kinds
        };
        let (old_kinds, new_kinds) = (kinds_of(&paired.old), kinds_of(&paired.new));
        for (side, default, kinds) in [
            (&mut paired.old, old_default, &old_kinds),
            (&mut paired.new, new_default, &new_kinds),
        ] {
            for object in &mut side.objects {
                place(&mut object.key, default, kinds);
            }
        }
        for shared in &mut paired.shared {
            let mut on_old = shared.key.clone();
            place(&mut on_old, old_default, &old_kinds);
            place(&mut shared.key, new_default, &new_kinds);
            if on_old != shared.key {
                return false;
            }
        }
        paired.shared.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        let twice = paired.shared.windows(2).any(|w| w[0].key == w[1].key);
        let also_shared = |side: &Rendered| {
            side.objects.iter().any(|o| {
                paired
                    .shared
                    .binary_search_by(|s| s.key.cmp(&o.key))
                    .is_ok()
            })
        };
        !twice && !also_shared(&paired.old) && !also_shared(&paired.new)
    }
}

/// Read `files` on a thread per core, each taking the next file not yet taken (their
/// sizes differ by orders of magnitude: a CRD bundle beside a Service). What each file
/// gave is appended in the files' order as it comes, so that a large environment's
/// records are not held twice, once per file and once together.
fn read_in_parallel(repo: &Repo, files: &[FilePair]) -> Result<Read, GitError> {
    let threads = cores().min(files.len());
    if let [file] = files
        && let (Some(old), Some(new)) = (file.old, file.new)
        && old != new
        && cores() > 1
    {
        // One changed file (an install.yaml of megabytes): its versions inflate at once.
        let (old, new) = std::thread::scope(|scope| {
            let other = repo.uncached_handle();
            let old = scope.spawn(move || other.blob(old));
            let new = repo.blob(new);
            (old.join().expect("reading a blob does not panic"), new)
        });
        let mut read = Read::default();
        read.changed_file(&file.path, old?, new?);
        return Ok(read);
    }
    if threads <= 1 {
        return read_files(repo, files);
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (sender, received) = std::sync::mpsc::channel::<(usize, Result<Read, GitError>)>();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (repo, next, sender) = (repo.uncached_handle(), &next, sender.clone());
            scope.spawn(move || {
                loop {
                    let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(file) = files.get(at) else {
                        return;
                    };
                    let mut one = Read::default();
                    let read = one.file(&repo, file).map(|()| one);
                    // After a failure no file is worth reading: the receiver stops at it
                    // (every file before it was taken already, and is sent).
                    let failed = read.is_err();
                    if sender.send((at, read)).is_err() || failed {
                        next.store(files.len(), std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
        drop(sender);
        let mut read = Read::default();
        let mut waiting = std::collections::BTreeMap::new();
        let mut appended = 0;
        for (at, one) in received {
            waiting.insert(at, one);
            while let Some(one) = waiting.remove(&appended) {
                read.append(one?);
                appended += 1;
            }
        }
        debug_assert_eq!(appended, files.len(), "every file was read");
        Ok(read)
    })
}

/// What the documents a diff keeps of a file hold of its text: a copy of their own when
/// they are a small part of it (a few changed objects of a large file), else the file's
/// text itself, which is then at most twice what copies would hold and costs no copying
/// (every CRD of an install.yaml changed: copying them was 6% of the diff).
fn keep_for<'d>(text: &str, kept: impl Iterator<Item = &'d Document<'d>>) -> Keep {
    let kept_bytes: usize = kept.map(|doc| doc.text.len()).sum();
    if kept_bytes.saturating_mul(2) >= text.len() {
        Keep::File
    } else {
        Keep::OwnDocument
    }
}

/// A changed file at least this large has its documents read on a thread per core.
const PARALLEL_FROM_BYTES: usize = 256 * 1024;

/// Read `files`, in order, on this thread.
fn read_files(repo: &Repo, files: &[FilePair]) -> Result<Read, GitError> {
    let mut read = Read::default();
    for file in files {
        read.file(repo, file)?;
    }
    Ok(read)
}

/// A file that one side has as these bytes: as its own render reads it.
fn read_one_side(side: &mut Rendered, path: &str, bytes: Vec<u8>) {
    note_read(side, path, &bytes);
    side.extend(parse_file(path, bytes, Secrets::Redact));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_documents_copy_their_text_only_when_they_are_a_small_part_of_the_file() {
        let text: String = (0..10)
            .map(|n| format!("kind: ConfigMap\nmetadata: {{name: c{n}}}\n---\n"))
            .collect();
        let docs = split_documents(&text);
        let keep = |changed: usize| keep_for(&text, docs.iter().take(changed));
        assert_eq!(keep(1), Keep::OwnDocument);
        assert_eq!(keep(4), Keep::OwnDocument);
        // Half the file, less the separators, and more.
        assert_eq!(keep(6), Keep::File);
        assert_eq!(keep(10), Keep::File);
    }
}
