//! Reading objects straight from the repository's pack files for walks that read the
//! same kind of object (trees) at every commit.
//!
//! A packed tree is usually a delta on another tree, itself a delta, 20 deep on average
//! after `git repack`. gix's pack cache keeps the object each lookup asked for, not the
//! bases it rebuilt on the way, so the next tree down the same chain inflates the whole
//! chain again. Here a lookup first walks the chain's headers (no inflating) to the
//! nearest object already cached, then rebuilds it upwards one delta at a time, caching
//! each: every delta of a chain is inflated about once, as git's delta base cache does.
//! Anything unusual (an object not in these packs, a ref-delta, a read error) returns
//! `None` and the caller reads through gix as usual, which also reports real errors.

use std::path::Path;

use gix::odb::pack::{self, cache::DecodeEntry, data};

/// How much rebuilt object data to keep; trees are small, and the same budget as
/// `core.deltaBaseCacheLimit` keeps a whole 100,000-commit walk's bases.
const CACHE_BYTES: usize = 96 * 1024 * 1024;

pub(crate) struct PackedObjects {
    bundles: Vec<pack::Bundle>,
    cache: pack::cache::lru::MemoryCappedHashmap,
    inflate: gix::zlib::Inflate,
    /// The entries from the one asked for down to the nearest cached one or base.
    chain: Vec<data::Entry>,
}

impl PackedObjects {
    /// The packs in `objects_dir/pack`; none when it cannot be listed (every read then
    /// falls back to gix).
    pub(crate) fn open(objects_dir: &Path, hash: gix::hash::Kind) -> PackedObjects {
        let mut indexes: Vec<_> = std::fs::read_dir(objects_dir.join("pack"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "idx"))
            .collect();
        indexes.sort();
        let bundles = indexes
            .iter()
            .filter_map(|idx| pack::Bundle::at(idx, hash).ok())
            .collect();
        PackedObjects {
            bundles,
            cache: pack::cache::lru::MemoryCappedHashmap::new(CACHE_BYTES),
            inflate: gix::zlib::Inflate::default(),
            chain: Vec::new(),
        }
    }

    /// The kind and bytes (in `out`) of `id`, if a pack holds it and it decodes here.
    pub(crate) fn read(&mut self, id: &gix::oid, out: &mut Vec<u8>) -> Option<gix::object::Kind> {
        let (bundle, index) = self
            .bundles
            .iter()
            .find_map(|bundle| Some((bundle, bundle.index.lookup(id)?)))?;
        let offset = bundle.index.pack_offset_at_index(index);
        decode(
            &bundle.pack,
            offset,
            out,
            &mut self.inflate,
            &mut self.cache,
            &mut self.chain,
        )
    }
}

fn decode(
    pack: &data::File,
    offset: data::Offset,
    out: &mut Vec<u8>,
    inflate: &mut gix::zlib::Inflate,
    cache: &mut pack::cache::lru::MemoryCappedHashmap,
    chain: &mut Vec<data::Entry>,
) -> Option<gix::object::Kind> {
    chain.clear();
    let mut entry = pack.entry(offset).ok()?;
    let mut kind = loop {
        if let Some((kind, _)) = cache.get(pack.id, entry.data_offset, out) {
            break kind;
        }
        match entry.header {
            data::entry::Header::OfsDelta { base_distance } => {
                let base = entry.checked_base_pack_offset(base_distance)?;
                chain.push(entry);
                entry = pack.entry(base).ok()?;
            }
            data::entry::Header::RefDelta { .. } => return None,
            header => {
                let kind = header.as_kind()?;
                out.resize(usize::try_from(entry.decompressed_size).ok()?, 0);
                let consumed = pack.decompress_entry(&entry, inflate, out).ok()?;
                cache.put(pack.id, entry.data_offset, out, kind, consumed);
                break kind;
            }
        }
    };
    // From the deepest delta up: each finds its base cached and caches its own result.
    for entry in chain.iter().rev() {
        let outcome = pack
            .decode_entry(entry.clone(), out, inflate, &|_, _| Ok(None), cache)
            .ok()?;
        kind = outcome.kind;
    }
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// A repository of `commits` commits, each changing one of a few files, packed by
    /// git with deep delta chains (trees become deltas of deltas).
    fn packed_repo(dir: &Path, commits: usize) -> gix::Repository {
        let git = |args: &[&str]| {
            let status = Command::new("git")
                .args(args)
                .current_dir(dir)
                .status()
                .expect("git runs");
            assert!(status.success(), "git {args:?}");
        };
        git(&["init", "-q", "--bare", "-b", "main", "."]);
        let mut stream = String::new();
        for i in 0..commits {
            let file = format!("envs/env{}/app{}.yaml", i % 4, i % 3);
            let body = format!("kind: ConfigMap\ndata:\n  n: \"{i}\"\n");
            stream.push_str(&format!(
                "commit refs/heads/main\ncommitter T <t@example.com> {} +0000\ndata 9\nchange {:02}\n",
                1_700_000_000 + i,
                i % 100
            ));
            stream.push_str(&format!(
                "M 100644 inline {file}\ndata {}\n{body}\n",
                body.len()
            ));
        }
        let mut import = Command::new("git")
            .args(["fast-import", "--quiet"])
            .current_dir(dir)
            .stdin(Stdio::piped())
            .spawn()
            .expect("git fast-import runs");
        import
            .stdin
            .take()
            .expect("stdin")
            .write_all(stream.as_bytes())
            .expect("stream written");
        assert!(import.wait().expect("fast-import ends").success());
        git(&["repack", "-adfq", "--depth=50", "--window=50"]);
        gix::open(dir).expect("opens")
    }

    #[test]
    fn every_packed_object_reads_as_gix_reads_it() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let repo = packed_repo(dir.path(), 300);
        let mut packs = PackedObjects::open(repo.objects.store_ref().path(), repo.object_hash());
        assert_eq!(packs.bundles.len(), 1, "git repack -a writes one pack");
        let ids: Vec<gix::ObjectId> = packs.bundles[0]
            .index
            .iter()
            .map(|entry| entry.oid)
            .collect();
        let deltas = ids
            .iter()
            .filter(|id| {
                let bundle = &packs.bundles[0];
                let index = bundle.index.lookup(id.as_ref()).expect("listed");
                let offset = bundle.index.pack_offset_at_index(index);
                bundle.pack.entry(offset).expect("entry").header.is_delta()
            })
            .count();
        assert!(
            deltas > 100,
            "the pack has delta chains to follow ({deltas})"
        );
        let mut out = Vec::new();
        // Twice: the second round is served from the cache.
        for _ in 0..2 {
            for id in ids.iter().rev() {
                let kind = packs.read(id, &mut out).expect("packed objects decode");
                let object = repo.find_object(*id).expect("gix reads it");
                assert_eq!(kind, object.kind, "{id}");
                assert_eq!(out, object.data, "{id}");
            }
        }
    }

    #[test]
    fn an_object_in_no_pack_is_left_to_gix() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let repo = packed_repo(dir.path(), 3);
        let mut packs = PackedObjects::open(repo.objects.store_ref().path(), repo.object_hash());
        let missing =
            gix::ObjectId::from_hex(b"0123456789012345678901234567890123456789").expect("hex");
        assert_eq!(packs.read(&missing, &mut Vec::new()), None);
        let none = PackedObjects::open(&dir.path().join("no-such-dir"), repo.object_hash());
        assert!(none.bundles.is_empty());
    }
}
