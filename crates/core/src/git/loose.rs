//! Reading a loose object with one `read`, for the renders of a diff, which read each
//! changed file's two blobs on a thread per core.
//!
//! gix maps every loose object file into memory and unmaps it once inflated. In a
//! process with more than one thread, unmapping makes the kernel shoot down the mapping
//! in every other core's TLB (an inter-processor interrupt, and a VM exit under KVM);
//! kube-prometheus's diff reads 200 loose blobs and spent more time mapping and
//! unmapping them than inflating them (`perf`: 8% of its CPU in munmap alone). A read
//! into a buffer costs no mapping. The inflating and the header are gix's own
//! (`gix::zlib`, `gix::objs::decode::loose_header`). Anything unusual (no such file, an
//! object that is not a blob, a stream that does not inflate to its stated size) returns
//! `None`, and the caller reads through gix as usual, which also reports real errors.

use std::path::Path;

use gix::ObjectId;

/// The longest loose header: `<kind> <size>\0` (git's own bound).
const HEADER_MAX: usize = 32;

/// The blob `id` as a loose object in `objects_dir`, inflated; `None` when it is not
/// one there or is not plainly readable (see the module).
pub(crate) fn loose_blob(objects_dir: &Path, id: &ObjectId) -> Option<Vec<u8>> {
    let hex = id.to_hex().to_string();
    let compressed = std::fs::read(objects_dir.join(&hex[..2]).join(&hex[2..])).ok()?;
    let mut inflate = gix::zlib::Inflate::default();
    let mut header = [0_u8; HEADER_MAX];
    let (status, consumed_in, consumed_out) = inflate.prefix(&compressed, &mut header).ok()?;
    let (kind, size, header_size) =
        gix::objs::decode::loose_header(&header[..consumed_out]).ok()?;
    if kind != gix::object::Kind::Blob {
        return None;
    }
    let size = usize::try_from(size).ok()?;
    let mut out = Vec::new();
    let written = match status {
        gix::zlib::Status::StreamEnd => {
            out.extend_from_slice(header.get(header_size..consumed_out)?);
            out.len()
        }
        _ => inflate
            .rest(
                compressed.get(consumed_in..)?,
                &header[..consumed_out],
                header_size,
                &mut out,
                size,
            )
            .ok()?,
    };
    (written == size).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A repository with one loose blob of `bytes`.
    fn repo_with_blob(bytes: &[u8]) -> (tempfile::TempDir, gix::Repository, ObjectId) {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = gix::init_bare(dir.path()).expect("init");
        let id = repo.write_blob(bytes).expect("write").detach();
        (dir, repo, id)
    }

    #[test]
    fn a_loose_blob_reads_as_gix_reads_it() {
        // Small (inflated with its header in one step) and large (in two).
        for bytes in [b"kind: ConfigMap\n".to_vec(), vec![b'x'; 300_000]] {
            let (_dir, repo, id) = repo_with_blob(&bytes);
            let objects = repo.objects.store_ref().path().to_path_buf();
            assert_eq!(loose_blob(&objects, &id), Some(bytes.clone()));
            assert_eq!(repo.find_blob(id).expect("gix reads it").data, bytes);
        }
    }

    #[test]
    fn what_is_not_a_readable_loose_blob_is_left_to_gix() {
        let (_dir, repo, id) = repo_with_blob(b"data\n");
        let objects = repo.objects.store_ref().path().to_path_buf();
        // Not there.
        assert_eq!(
            loose_blob(&objects, &ObjectId::null(repo.object_hash())),
            None
        );
        // Not a blob: a tree.
        let tree = repo
            .write_object(gix::objs::Tree::empty())
            .expect("tree")
            .detach();
        assert_eq!(loose_blob(&objects, &tree), None);
        // Cut short: the stream does not inflate to its stated size.
        let hex = id.to_hex().to_string();
        let path = objects.join(&hex[..2]).join(&hex[2..]);
        let bytes = std::fs::read(&path).expect("read");
        let mut permissions = std::fs::metadata(&path).expect("meta").permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        std::fs::set_permissions(&path, permissions).expect("writable");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("truncate");
        assert_eq!(loose_blob(&objects, &id), None);
    }
}
