//! Reading trees and blobs at a commit: the entry at a path, every file under a folder,
//! the sub-folders of a folder, and blob contents. Paths are repository-relative with `/`.

use gix::ObjectId;
use gix::objs::tree::EntryKind;

use super::{GitError, GixContext, Repo};

/// One file found in a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    /// Repository-relative path, `/`-separated.
    pub path: String,
    pub id: ObjectId,
}

impl Repo {
    /// The id of whatever sits at `path` in `tree` (a blob or a tree), `None` if nothing.
    /// An empty path is the tree itself. This is git's TREESAME test material: two commits
    /// agree on a path exactly when these ids are equal.
    pub fn entry_at(&self, tree: ObjectId, path: &str) -> Result<Option<ObjectId>, GitError> {
        if path.is_empty() {
            return Ok(Some(tree));
        }
        Ok(self.entry_with_kind_at(tree, path)?.map(|(id, _)| id))
    }

    /// Like [`Repo::entry_at`], with the kind of entry (file, executable, link, folder),
    /// so that the entry can be placed in another tree as it was.
    pub fn entry_with_kind_at(
        &self,
        tree: ObjectId,
        path: &str,
    ) -> Result<Option<(ObjectId, EntryKind)>, GitError> {
        let tree_obj = self
            .inner
            .find_tree(tree)
            .during(&self.name, || format!("read tree {tree}"))?;
        let entry = tree_obj
            .lookup_entry(path.split('/').map(str::as_bytes))
            .during(&self.name, || format!("look up {path} in tree {tree}"))?;
        Ok(entry.map(|e| (e.object_id(), e.mode().kind())))
    }

    /// The id of the entry `name` in the tree `data` (as [`Repo::tree_data`] gives it): a
    /// look at one name without building a map of them all.
    pub fn tree_entry(&self, data: &[u8], name: &str) -> Result<Option<ObjectId>, GitError> {
        for entry in gix::objs::TreeRefIter::from_bytes(data, self.inner.object_hash()) {
            let entry = entry.during(&self.name, || format!("read a tree for {name}"))?;
            if entry.filename == name.as_bytes() {
                return Ok(Some(entry.oid.to_owned()));
            }
        }
        Ok(None)
    }

    /// The bytes of the tree `id`; `None` when `id` is not a tree.
    pub fn tree_data(&self, id: ObjectId) -> Result<Option<Vec<u8>>, GitError> {
        let mut packs = self.packs.borrow_mut();
        let packs = packs.get_or_insert_with(|| {
            super::packs::PackedObjects::open(
                self.inner.objects.store_ref().path(),
                self.inner.object_hash(),
            )
        });
        let mut data = Vec::new();
        let kind = match packs.read(&id, &mut data) {
            Some(kind) => kind,
            None => {
                // One lookup, not a header and then the object: a header of a deltified
                // object costs nearly as much as the object.
                let object = self
                    .inner
                    .find_object(id)
                    .during(&self.name, || format!("read object {id}"))?;
                let object = object.detach();
                data = object.data;
                object.kind
            }
        };
        Ok((kind == gix::object::Kind::Tree).then_some(data))
    }

    /// Whether the object `id` is a tree.
    pub fn is_tree(&self, id: ObjectId) -> Result<bool, GitError> {
        let header = self
            .inner
            .find_header(id)
            .during(&self.name, || format!("read object {id}"))?;
        Ok(header.kind() == gix::object::Kind::Tree)
    }

    /// Whether `path` is a folder in `tree`.
    pub fn is_dir(&self, tree: ObjectId, path: &str) -> Result<bool, GitError> {
        if path.is_empty() {
            return Ok(true);
        }
        let tree_obj = self
            .inner
            .find_tree(tree)
            .during(&self.name, || format!("read tree {tree}"))?;
        let entry = tree_obj
            .lookup_entry(path.split('/').map(str::as_bytes))
            .during(&self.name, || format!("look up {path} in tree {tree}"))?;
        Ok(entry.is_some_and(|e| e.mode().is_tree()))
    }

    /// Every blob (regular or executable file) under `dir`, recursively, sorted by path.
    /// Symlinks and submodules are skipped: they are not manifests.
    pub fn files_under(&self, tree: ObjectId, dir: &str) -> Result<Vec<TreeFile>, GitError> {
        let Some(dir_id) = self.entry_at(tree, dir)? else {
            return Ok(Vec::new());
        };
        let dir_tree = match self.inner.find_tree(dir_id) {
            Ok(t) => t,
            // A file where a folder was expected: there is nothing under it.
            Err(_) => return Ok(Vec::new()),
        };
        let records = dir_tree
            .traverse()
            .breadthfirst
            .files()
            .during(&self.name, || format!("list files under {dir}"))?;
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let mut files: Vec<TreeFile> = records
            .into_iter()
            .filter(|e| matches!(e.mode.kind(), EntryKind::Blob | EntryKind::BlobExecutable))
            .map(|e| TreeFile {
                path: format!("{prefix}{}", e.filepath),
                id: e.oid,
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    /// The names of the folders directly inside `dir`, sorted.
    pub fn subdirs(&self, tree: ObjectId, dir: &str) -> Result<Vec<String>, GitError> {
        let Some(dir_id) = self.entry_at(tree, dir)? else {
            return Ok(Vec::new());
        };
        let Ok(dir_tree) = self.inner.find_tree(dir_id) else {
            return Ok(Vec::new());
        };
        let mut names = Vec::new();
        for entry in dir_tree.iter() {
            let entry = entry.during(&self.name, || format!("list {dir}"))?;
            if entry.mode().is_tree() {
                names.push(entry.filename().to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    /// The bytes of a blob.
    pub fn blob(&self, id: ObjectId) -> Result<Vec<u8>, GitError> {
        if let Some(bytes) = super::loose::loose_blob(self.inner.objects.store_ref().path(), &id) {
            return Ok(bytes);
        }
        let blob = self
            .inner
            .find_blob(id)
            .during(&self.name, || format!("read blob {id}"))?;
        Ok(blob.detach().data)
    }

    /// The bytes of the file at `path` in `tree`, `None` when there is no file there.
    pub fn file_at(&self, tree: ObjectId, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        match self.entry_at(tree, path)? {
            Some(id) => match self.inner.find_blob(id) {
                Ok(blob) => Ok(Some(blob.detach().data)),
                Err(_) => Ok(None),
            },
            None => Ok(None),
        }
    }
}
