//! What the refs of a repository point at, as one fingerprint: a poll that compares it
//! with the last one knows whether anything was pushed, merged or approved (approvals
//! are notes refs) without reading a commit.

use sha2::{Digest, Sha256};

use super::{GitError, GixContext, Repo};

impl Repo {
    /// A digest of every ref's name and target, in name order.
    pub fn refs_fingerprint(&self) -> Result<String, GitError> {
        let platform = self
            .inner
            .references()
            .during(&self.name, || "list references".into())?;
        let mut refs: Vec<String> = platform
            .all()
            .during(&self.name, || "list references".into())?
            // A ref deleted while we list is simply gone.
            .filter_map(Result::ok)
            .map(|r| format!("{} {:?}", r.name().as_bstr(), r.target()))
            .collect();
        refs.sort();
        let mut hasher = Sha256::new();
        for line in &refs {
            hasher.update(line.as_bytes());
            hasher.update(b"\n");
        }
        Ok(hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::write::{FileChange, Signature};

    #[test]
    fn the_fingerprint_changes_with_a_ref_and_only_then() {
        let dir = tempfile::tempdir().expect("temp dir");
        gix::init_bare(dir.path()).expect("init");
        let repo = Repo::open("t", dir.path()).expect("open");
        let sig = Signature {
            name: "A".into(),
            email: "a@example.com".into(),
            time: 1,
        };
        let tree = repo
            .write_tree(
                gix::ObjectId::empty_tree(gix::hash::Kind::Sha1),
                &[FileChange {
                    path: "a".into(),
                    content: Some(b"1".to_vec()),
                }],
            )
            .expect("tree");
        let commit = repo
            .write_commit(tree, &[], &sig, &sig, "one")
            .expect("commit");
        repo.update_ref("refs/heads/main", None, commit, "t", &sig)
            .expect("ref");
        let first = repo.refs_fingerprint().expect("fingerprint");
        assert_eq!(repo.refs_fingerprint().expect("again"), first);
        repo.update_ref("refs/heads/promote/x", None, commit, "t", &sig)
            .expect("ref");
        assert_ne!(repo.refs_fingerprint().expect("after a push"), first);
    }
}
