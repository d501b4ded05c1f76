//! The newest-first commit walk of a history (by commit date, as `git log` orders it),
//! giving each commit with its tree and its first parent's tree: what a TREESAME test
//! needs, read with each commit inflated once.
//!
//! gix's walk reads a commit when it queues it (for its date) and again when it takes it
//! (for its parents), and the tree id would be a third read. Here the walk reads through
//! [`CommitsReadOnce`], which keeps the data of a queued commit until it is taken and
//! notes every commit's tree id on the way. When the repository has a commit-graph, the
//! walk reads it instead (no commit is inflated) and gives each commit's position in it,
//! with which the changed-path filters are asked.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use gix::ObjectId;
use gix::commitgraph::Position;
use gix::traverse::commit::{Parents, Simple, simple::CommitTimeOrder, simple::Sorting};

use super::commit_graph::CommitGraph;
use super::{GitError, GixContext, Repo};

/// One commit of a walk, with what its TREESAME test needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub id: ObjectId,
    pub tree: ObjectId,
    /// The first parent's tree; the empty tree for a root commit.
    pub parent_tree: ObjectId,
    /// `None` for a root commit.
    pub first_parent: Option<ObjectId>,
    /// Where the commit-graph given to the walk has the commit.
    pub position: Option<Position>,
}

struct CommitsReadOnce {
    objects: gix::OdbHandle,
    /// Commits read once and not yet read again.
    kept: RefCell<HashMap<ObjectId, Vec<u8>>>,
    trees: RefCell<HashMap<ObjectId, ObjectId>>,
}

impl gix::objs::Find for CommitsReadOnce {
    fn try_find<'a>(
        &self,
        id: &gix::oid,
        buffer: &'a mut Vec<u8>,
    ) -> gix::Result<Option<gix::objs::Data<'a>>> {
        if let Some(data) = self.kept.borrow_mut().remove(id) {
            buffer.clear();
            buffer.extend_from_slice(&data);
            return Ok(Some(gix::objs::Data::new(
                buffer,
                gix::object::Kind::Commit,
                id.kind(),
            )));
        }
        let Some(found) = self.objects.try_find(id, buffer)? else {
            return Ok(None);
        };
        if found.kind == gix::object::Kind::Commit {
            if let Some(tree) = tree_line(found.data) {
                self.trees.borrow_mut().insert(id.to_owned(), tree);
            }
            self.kept
                .borrow_mut()
                .insert(id.to_owned(), found.data.to_vec());
        }
        Ok(Some(found))
    }
}

/// The tree id on a commit's first line (`tree <hex>`), which git always writes first.
fn tree_line(commit: &[u8]) -> Option<ObjectId> {
    let line = commit.strip_prefix(b"tree ")?;
    let end = line.iter().position(|b| *b == b'\n')?;
    ObjectId::from_hex(&line[..end]).ok()
}

/// A walk from a tip, newest first; see the module.
pub struct Walk<'r> {
    repo: &'r Repo,
    reader: Rc<CommitsReadOnce>,
    commits: Simple<Rc<CommitsReadOnce>, fn(&gix::oid) -> bool>,
    graph: Option<Arc<CommitGraph>>,
}

impl Repo {
    /// Walk from `tip`, newest first, not into `hidden` or its ancestors; only first
    /// parents when `first_parent`; reading `graph` (the repository's own) for the
    /// commits it has.
    pub fn walk_with_trees(
        &self,
        tip: ObjectId,
        hidden: Option<ObjectId>,
        first_parent: bool,
        graph: Option<Arc<CommitGraph>>,
    ) -> Result<Walk<'_>, GitError> {
        let reader = Rc::new(CommitsReadOnce {
            objects: self.inner.objects.clone(),
            kept: RefCell::default(),
            trees: RefCell::default(),
        });
        let walk = |action: &str| format!("{action} from {tip}");
        let mut commits = Simple::new([tip], Rc::clone(&reader))
            .commit_graph(graph.as_ref().and_then(|graph| graph.reopen()))
            .sorting(Sorting::ByCommitTime(CommitTimeOrder::NewestFirst))
            .during(&self.name, || walk("walk"))?
            .hide(hidden)
            .during(&self.name, || walk("hide commits in a walk"))?;
        if first_parent {
            commits = commits.parents(Parents::First);
        }
        Ok(Walk {
            repo: self,
            reader,
            commits,
            graph,
        })
    }
}

impl Walk<'_> {
    fn tree_of(&self, commit: ObjectId) -> Result<ObjectId, GitError> {
        match self.reader.trees.borrow_mut().remove(&commit) {
            Some(tree) => Ok(tree),
            None => self.repo.tree_of(commit),
        }
    }
}

impl Iterator for Walk<'_> {
    type Item = Result<Step, GitError>;

    fn next(&mut self) -> Option<Self::Item> {
        let info = match self.commits.next()? {
            Ok(info) => info,
            Err(e) => {
                return Some(Err(e).during(&self.repo.name, || "walk the history".into()));
            }
        };
        let first_parent = info.parent_ids.first().copied();
        if let Some(graph) = &self.graph
            && let Some(position) = graph.position(&info.id)
            && let Some((tree, parent_tree)) = graph.trees(position)
        {
            let empty = || ObjectId::empty_tree(self.repo.inner.object_hash());
            return Some(Ok(Step {
                id: info.id,
                tree,
                parent_tree: parent_tree.unwrap_or_else(empty),
                first_parent,
                position: Some(position),
            }));
        }
        let step = || {
            let tree = self.tree_of(info.id)?;
            let parent_tree = match info.parent_ids.first() {
                // Still noted: the walk read the parent to queue it, and it is taken next.
                Some(parent) => match self.reader.trees.borrow().get(parent) {
                    Some(tree) => *tree,
                    None => self.repo.tree_of(*parent)?,
                },
                None => ObjectId::empty_tree(self.repo.inner.object_hash()),
            };
            Ok(Step {
                id: info.id,
                tree,
                parent_tree,
                first_parent,
                position: None,
            })
        };
        Some(step())
    }
}

#[cfg(test)]
mod tests {
    use super::tree_line;

    #[test]
    fn the_tree_is_the_first_line() {
        let commit = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 0000000000000000000000000000000000000000\nauthor A <a@b> 0 +0000\n\nm\n";
        assert_eq!(
            tree_line(commit).map(|id| id.to_string()).as_deref(),
            Some("4b825dc642cb6eb9a060e54bf8d69288fbee4904")
        );
        assert_eq!(tree_line(b"parent 00\n"), None);
        assert_eq!(tree_line(b"tree nothex\n"), None);
    }
}
