//! The repository's commit-graph, as git writes it: gix's reader for the commits (their
//! trees and parents without inflating a commit), and git's changed-path Bloom filters,
//! which gix does not read. With `git commit-graph write --changed-paths` (which `git
//! maintenance` does), each commit has a filter of the paths, and their leading folders,
//! that differ from its first parent. A "no" is certain, so a history passes the commit
//! without reading a tree; a "maybe" is settled by comparing the trees, as without a
//! filter. The two chunks (BIDX, BDAT) and their hashing are git's
//! (gitformat-commit-graph(5), `bloom.c`).
//!
//! The graph is a cache in the repository's own object store, which a push does not
//! write: whoever can write it can write the refs as well. Still, a filter can only let a
//! commit be passed, so anything that does not add up (a layer file that changed between
//! two reads, an index past its data, an unknown hash version) answers "maybe".

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gix::ObjectId;
use gix::commitgraph::{Graph, Position};

use super::Repo;

impl Repo {
    /// The repository's commit-graph, with its changed-path filters unless
    /// `commitGraph.readChangedPaths` is false, when gix would use one: not with
    /// `core.commitGraph=false`, nor with replace refs. `None` also when it cannot be read:
    /// it only makes walks faster.
    pub fn commit_graph(&self) -> Option<Arc<CommitGraph>> {
        match self.inner.commit_graph_if_enabled() {
            Ok(Some(_)) => {}
            Ok(None) => return None,
            Err(e) => {
                tracing::debug!(repo = %self.name, error = %e, "commit-graph not used");
                return None;
            }
        }
        let with_filters = self
            .inner
            .config_snapshot()
            .boolean("commitGraph.readChangedPaths")
            .unwrap_or(true);
        let info = self.inner.objects.store_ref().path().join("info");
        let graph = CommitGraph::open(&info, self.inner.object_hash(), with_filters);
        tracing::debug!(
            repo = %self.name,
            layers = graph.as_ref().map(|g| g.layers.len()),
            filters = graph.as_ref().is_some_and(CommitGraph::has_filters),
            "commit-graph"
        );
        graph.map(Arc::new)
    }
}

/// A commit-graph and its changed-path filters, read from the same files.
pub struct CommitGraph {
    graph: Graph,
    /// The layer files, base first: the graph's positions run through them in this order.
    layers: Vec<Layer>,
}

struct Layer {
    path: PathBuf,
    /// The checksum that ends the file, to know a second read is of the same file.
    checksum: ObjectId,
    /// Graph position of the layer's first commit: the layers before it hold that many.
    first: u32,
    /// The layer's filters; `None` when it has none (written without `--changed-paths`)
    /// or they cannot be read.
    filters: Option<Filters>,
}

struct Filters {
    hashing: Hashing,
    /// The whole layer file; `ends` and `data` are ranges in it.
    file: Vec<u8>,
    /// BIDX: for commit `i`, the end of its filter in `data`, as a big-endian `u32`.
    ends: std::ops::Range<usize>,
    /// BDAT past its header: the filters, one after the other.
    data: std::ops::Range<usize>,
}

/// How a layer's keys are made: git's `bloom_filter_settings` less the bits per entry,
/// which only the writer needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hashing {
    /// 1: git's first murmur3, which sign-extends bytes above 0x7f; 2: murmur3 as
    /// specified. They agree on ASCII.
    version: u32,
    hashes: u32,
}

/// The keys of a set of paths, hashed for each layer of one [`CommitGraph`].
pub struct PathKeys {
    /// Per layer: per path, the keys of the path and of each folder it is in; `None`
    /// when the layer cannot answer for these paths.
    layers: Vec<Option<Vec<Vec<Vec<u32>>>>>,
}

const SEED0: u32 = 0x293a_e76f;
const SEED1: u32 = 0x7e64_6e2c;
/// More hashes than this is not a filter git wrote.
const MAX_HASHES: u32 = 32;

impl CommitGraph {
    /// The commit-graph in `info_dir` (a repository's `objects/info`): the same files, in
    /// the same order, as git and gix read (`commit-graph`, else the layers of
    /// `commit-graphs/commit-graph-chain`); with its changed-path filters when
    /// `with_filters`. `None` when there is none or it cannot be read (a walk then reads
    /// the commits themselves).
    pub fn open(info_dir: &Path, object_hash: gix::hash::Kind, with_filters: bool) -> Option<Self> {
        let single = info_dir.join("commit-graph");
        let paths = if single.is_file() {
            vec![single]
        } else {
            chain_files(&info_dir.join("commit-graphs"))?
        };
        let mut files = Vec::with_capacity(paths.len());
        let mut layers = Vec::with_capacity(paths.len());
        let mut first = 0u32;
        for path in paths {
            let file = match gix::commitgraph::File::at(&path) {
                Ok(file) => file,
                Err(e) => {
                    tracing::debug!(path = %path.display(), error = %e, "commit-graph not used");
                    return None;
                }
            };
            if file.object_hash() != object_hash {
                return None;
            }
            let checksum = file.checksum().to_owned();
            let filters = if with_filters {
                Filters::read(&path, &checksum)
            } else {
                None
            };
            layers.push(Layer {
                path,
                checksum,
                first,
                filters,
            });
            first = first.checked_add(file.num_commits())?;
            files.push(file);
        }
        let graph = Graph::new(files).ok()?;
        Some(CommitGraph { graph, layers })
    }

    /// The same graph opened again (gix's walk takes one of its own), or `None` if a
    /// layer is no longer the file read first.
    pub fn reopen(&self) -> Option<Graph> {
        let files = self
            .layers
            .iter()
            .map(|layer| {
                let file = gix::commitgraph::File::at(&layer.path).ok()?;
                (file.checksum() == layer.checksum.as_ref()).then_some(file)
            })
            .collect::<Option<Vec<_>>>()?;
        Graph::new(files).ok()
    }

    /// Whether any layer has changed-path filters.
    pub fn has_filters(&self) -> bool {
        self.layers.iter().any(|layer| layer.filters.is_some())
    }

    /// The position of commit `id`, if the graph has it.
    pub fn position(&self, id: &gix::oid) -> Option<Position> {
        self.graph.lookup(id)
    }

    /// The tree of the commit at `position` and its first parent's (`None`: a root).
    pub fn trees(&self, position: Position) -> Option<(ObjectId, Option<ObjectId>)> {
        let commit = self.graph.commit_at(position);
        // gix checks a parent's position against the graph before giving it.
        let parent = commit
            .parent1()
            .ok()?
            .map(|parent| self.graph.commit_at(parent).root_tree_id().to_owned());
        Some((commit.root_tree_id().to_owned(), parent))
    }

    /// The keys of `paths` (repository-relative, `/`-separated), to ask
    /// [`CommitGraph::may_differ`]. A path that is the whole tree (`""` or `.`) makes
    /// every answer "maybe".
    pub fn keys<'p>(&self, paths: impl IntoIterator<Item = &'p str>) -> PathKeys {
        let paths: Vec<&str> = paths.into_iter().map(|p| p.trim_matches('/')).collect();
        let whole_tree = paths.iter().any(|p| p.is_empty() || *p == ".");
        let layers = self
            .layers
            .iter()
            .map(|layer| {
                let hashing = layer.filters.as_ref()?.hashing;
                if whole_tree || (hashing.version == 1 && !paths.iter().all(|p| p.is_ascii())) {
                    return None;
                }
                Some(
                    paths
                        .iter()
                        .map(|path| {
                            folders_and_self(path)
                                .map(|key| key_hashes(key.as_bytes(), hashing))
                                .collect()
                        })
                        .collect(),
                )
            })
            .collect();
        PathKeys { layers }
    }

    /// Whether the commit at graph `position` may have changed any of the paths `keys`
    /// were made of against its first parent. `false` is certain.
    pub fn may_differ(&self, position: Position, keys: &PathKeys) -> bool {
        let position = position.0;
        let Some(at) = self
            .layers
            .iter()
            .rposition(|layer| layer.first <= position)
        else {
            return true;
        };
        let layer = &self.layers[at];
        let (Some(filters), Some(Some(paths))) = (&layer.filters, keys.layers.get(at)) else {
            return true;
        };
        let Some(filter) = filters.filter(position - layer.first) else {
            return true;
        };
        // git's `bloom_filter_contains`: an empty filter says nothing (not computed, or
        // too many changes).
        if filter.is_empty() {
            return true;
        }
        paths
            .iter()
            .any(|keys| keys.iter().all(|key| contains(filter, key)))
    }
}

impl Filters {
    /// The filters of the layer file at `path`, if it is still the file whose checksum
    /// gix read and it has them.
    fn read(path: &Path, checksum: &gix::oid) -> Option<Filters> {
        let file = std::fs::read(path).ok()?;
        if !file.ends_with(checksum.as_bytes()) {
            return None;
        }
        // Header: "CGPH", version 1, hash version, number of chunks, number of bases.
        if file.len() < 8 || &file[..4] != b"CGPH" || file[4] != 1 {
            return None;
        }
        let index = gix_chunk::file::Index::from_bytes(&file, 8, u32::from(file[6])).ok()?;
        let ends = index.usize_offset_by_id(*b"BIDX").ok()?;
        let data = index.usize_offset_by_id(*b"BDAT").ok()?;
        if ends.len() % 4 != 0 || data.len() < 12 || data.end > file.len() {
            return None;
        }
        let header = &file[data.start..data.start + 12];
        let hashing = Hashing {
            version: be_u32(&header[..4])?,
            hashes: be_u32(&header[4..8])?,
        };
        if !matches!(hashing.version, 1 | 2) || !(1..=MAX_HASHES).contains(&hashing.hashes) {
            return None;
        }
        Some(Filters {
            hashing,
            file,
            ends,
            data: data.start + 12..data.end,
        })
    }

    /// The filter of the layer's commit `local`; `None` when the index does not fit.
    fn filter(&self, local: u32) -> Option<&[u8]> {
        let end_at = |i: usize| -> Option<usize> {
            let start = self.ends.start.checked_add(i.checked_mul(4)?)?;
            if start + 4 > self.ends.end {
                return None;
            }
            be_u32(self.file.get(start..start + 4)?).map(|end| end as usize)
        };
        let local = local as usize;
        let start = if local == 0 { 0 } else { end_at(local - 1)? };
        let end = end_at(local)?;
        self.file.get(self.data.clone())?.get(start..end)
    }
}

/// The files of a chain of layers, base first; `None` when there is no chain.
fn chain_files(dir: &Path) -> Option<Vec<PathBuf>> {
    let chain = std::fs::read_to_string(dir.join("commit-graph-chain")).ok()?;
    let files: Vec<PathBuf> = chain
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|hash| dir.join(format!("graph-{hash}.graph")))
        .collect();
    (!files.is_empty()).then_some(files)
}

/// `envs/prod/app` → `envs/prod/app`, `envs/prod`, `envs`: git puts every leading folder
/// of a changed path in the filter too, and asks for all of them.
fn folders_and_self(path: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(path), |p| p.rsplit_once('/').map(|(folder, _)| folder))
}

/// git's `fill_bloom_key`: `hashes` values by double hashing two murmur3 seeds.
fn key_hashes(key: &[u8], hashing: Hashing) -> Vec<u32> {
    let hash0 = murmur3_32(key, SEED0);
    let hash1 = murmur3_32(key, SEED1);
    (0..hashing.hashes)
        .map(|i| hash0.wrapping_add(i.wrapping_mul(hash1)))
        .collect()
}

fn murmur3_32(key: &[u8], seed: u32) -> u32 {
    murmur3::murmur3_32(&mut std::io::Cursor::new(key), seed)
        .expect("hashing bytes in memory does not fail")
}

/// git's `bloom_filter_contains` for one key: every bit of the key is set.
fn contains(filter: &[u8], key: &[u32]) -> bool {
    let bits = filter.len() as u64 * 8;
    key.iter().all(|hash| {
        let bit = u64::from(*hash) % bits;
        filter[(bit / 8) as usize] & (1 << (bit % 8)) != 0
    })
}

fn be_u32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_asked_with_every_folder_it_is_in() {
        assert_eq!(
            folders_and_self("envs/prod/app.yaml").collect::<Vec<_>>(),
            ["envs/prod/app.yaml", "envs/prod", "envs"]
        );
        assert_eq!(
            folders_and_self("README.md").collect::<Vec<_>>(),
            ["README.md"]
        );
    }

    #[test]
    fn keys_are_murmur3_double_hashed_as_git_makes_them() {
        // murmur3_x86_32 of "" with seed 0 is 0, and of "hello" with seed 0 is
        // 0x248bfa47 (the reference implementation's published values).
        assert_eq!(murmur3_32(b"", 0), 0);
        assert_eq!(murmur3_32(b"hello", 0), 0x248b_fa47);
        let hashing = Hashing {
            version: 2,
            hashes: 7,
        };
        let key = key_hashes(b"envs", hashing);
        let (h0, h1) = (murmur3_32(b"envs", SEED0), murmur3_32(b"envs", SEED1));
        assert_eq!(key.len(), 7);
        assert_eq!(key[0], h0);
        assert_eq!(key[6], h0.wrapping_add(h1.wrapping_mul(6)));
    }

    #[test]
    fn a_filter_holds_exactly_the_bits_of_its_keys() {
        let hashing = Hashing {
            version: 2,
            hashes: 7,
        };
        let mut filter = vec![0u8; 4];
        for hash in key_hashes(b"envs/prod", hashing) {
            let bit = u64::from(hash) % 32;
            filter[(bit / 8) as usize] |= 1 << (bit % 8);
        }
        assert!(contains(&filter, &key_hashes(b"envs/prod", hashing)));
        let empty = vec![0u8; 4];
        assert!(!contains(&empty, &key_hashes(b"envs/prod", hashing)));
    }
}
