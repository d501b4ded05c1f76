//! A small persistent index of history walks, in the cache dir: for one environment of
//! one repository and one way of judging "changed", the commits that changed it, newest
//! first, and the tip they were computed from. A later look serves the answer from the
//! index, after walking only the commits added on top of that tip. The index is a cache:
//! anything wrong with it (missing, truncated, another format) means "walk again".

use std::io::Write;
use std::path::{Path, PathBuf};

use gix::ObjectId;
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 8] = b"TGHIDX1\n";
const ID_LEN: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryIndex {
    /// The protected-branch tip the walk started from.
    pub tip: ObjectId,
    /// Commits that changed the environment, in walk order (newest first).
    pub commits: Vec<ObjectId>,
}

/// Where the index for `key` (everything the walk's answer depends on) lives.
pub fn index_path(dir: &Path, key: &str) -> PathBuf {
    let digest = Sha256::digest(key.as_bytes());
    let name: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{name}.idx"))
}

impl HistoryIndex {
    /// Read an index; `None` when there is none or it cannot be trusted.
    pub fn load(path: &Path) -> Option<HistoryIndex> {
        let bytes = std::fs::read(path).ok()?;
        let rest = bytes.strip_prefix(MAGIC.as_slice())?;
        if rest.len() < ID_LEN || !(rest.len() - ID_LEN).is_multiple_of(ID_LEN) {
            return None;
        }
        let (tip, commits) = rest.split_at(ID_LEN);
        Some(HistoryIndex {
            tip: ObjectId::try_from(tip).ok()?,
            commits: commits
                .chunks_exact(ID_LEN)
                .map(ObjectId::try_from)
                .collect::<Result<_, _>>()
                .ok()?,
        })
    }

    /// Write the index next to where it belongs and move it into place, so that a reader
    /// never sees half of it.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        let mut bytes = Vec::with_capacity(MAGIC.len() + ID_LEN * (self.commits.len() + 1));
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(self.tip.as_bytes());
        for id in &self.commits {
            bytes.extend_from_slice(id.as_bytes());
        }
        file.write_all(&bytes)?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(byte: u8) -> ObjectId {
        ObjectId::try_from(&[byte; 20][..]).expect("20 bytes")
    }

    #[test]
    fn an_index_reads_back_what_was_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = index_path(dir.path(), "repo|inputs|production");
        let index = HistoryIndex {
            tip: id(1),
            commits: vec![id(2), id(3)],
        };
        index.save(&path).expect("save");
        assert_eq!(HistoryIndex::load(&path), Some(index));
    }

    #[test]
    fn a_damaged_index_is_ignored() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("x.idx");
        std::fs::write(&path, b"TGHIDX1\nshort").expect("write");
        assert_eq!(HistoryIndex::load(&path), None);
        std::fs::write(&path, b"something else entirely").expect("write");
        assert_eq!(HistoryIndex::load(&path), None);
    }
}
