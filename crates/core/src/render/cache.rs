//! Renders kept for next time: in memory for this process, and on disk in the user's
//! cache dir, keyed by everything a render reads (the ids of its input trees and files,
//! the renderer and the program that runs it). A base that five promotions share is
//! rendered once, two threads asking for the same render wait for one, and a second
//! `list` or `history --rendered` renders nothing.
//!
//! Only renders for people to read go through here: their Secret values are already
//! fingerprints, so nothing secret is written. Renders that decide something (the
//! digests an approval pins, what `reconcile` applies) are always made afresh. Anything
//! wrong with a stored render (missing, truncated, another format) means "render again".

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use super::{RenderError, Rendered};
use crate::manifest::stored::StoredManifests;

/// Renders held in memory at once, besides those being made.
const IN_MEMORY: usize = 16;
/// Stored renders kept on disk; the least recently used go first.
const MAX_STORED_FILES: usize = 2048;
const MAX_STORED_BYTES: u64 = 512 * 1024 * 1024;

/// What a render's result depends on, hashed: see [`KeyBuilder`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RenderKey(String);

/// Builds a [`RenderKey`] from the parts a render reads, one line each.
pub struct KeyBuilder(Sha256);

impl KeyBuilder {
    pub fn new() -> KeyBuilder {
        let mut hasher = Sha256::new();
        // Another tollgate may parse or lay out objects differently.
        hasher.update(concat!(
            "tollgate-render 2 ",
            env!("CARGO_PKG_VERSION"),
            "\n"
        ));
        KeyBuilder(hasher)
    }

    pub fn part(mut self, name: &str, value: &str) -> KeyBuilder {
        for piece in [name, "\0", value, "\n"] {
            self.0.update(piece.as_bytes());
        }
        self
    }

    pub fn finish(self) -> RenderKey {
        let digest = self.0.finalize();
        RenderKey(digest.iter().map(|b| format!("{b:02x}")).collect())
    }
}

impl Default for KeyBuilder {
    fn default() -> Self {
        KeyBuilder::new()
    }
}

type Slot = Arc<OnceLock<Option<Rendered>>>;

pub struct RenderCache {
    /// Where renders are stored; `None`: this process only.
    dir: Option<PathBuf>,
    memory: Mutex<Memory>,
}

#[derive(Default)]
struct Memory {
    slots: HashMap<RenderKey, Slot>,
    order: VecDeque<RenderKey>,
}

impl RenderCache {
    /// A cache that stores renders in `dir` (made private to the user when first used),
    /// or only in memory.
    pub fn new(dir: Option<PathBuf>) -> RenderCache {
        RenderCache {
            dir,
            memory: Mutex::default(),
        }
    }

    /// The user's cache: `renders/` in tollgate's cache dir, unless
    /// `TOLLGATE_RENDER_CACHE=off` keeps renders in memory only.
    pub fn for_user() -> RenderCache {
        let off = std::env::var("TOLLGATE_RENDER_CACHE").is_ok_and(|v| v == "off");
        let dir = crate::dirs::project().map(|dirs| dirs.cache_dir().join("renders"));
        RenderCache::new(dir.filter(|_| !off))
    }

    /// The render at `key`: from memory, from disk, or made by `render` (once, however
    /// many threads ask at the same time) and kept. A failed render is not kept.
    pub fn get_or_render(
        &self,
        key: &RenderKey,
        render: impl Fn() -> Result<Rendered, RenderError>,
    ) -> Result<Rendered, RenderError> {
        let slot = self.slot(key);
        let mut failure = None;
        let kept = slot.get_or_init(|| {
            if let Some(stored) = self.load(key) {
                return Some(stored);
            }
            match render() {
                Ok(rendered) => {
                    self.store(key, &rendered);
                    Some(rendered)
                }
                Err(e) => {
                    failure = Some(e);
                    None
                }
            }
        });
        match (kept, failure) {
            (Some(rendered), _) => Ok(rendered.clone()),
            (None, Some(e)) => {
                self.forget(key);
                Err(e)
            }
            // Another thread's render failed: try for ourselves, for our own error.
            (None, None) => render(),
        }
    }

    fn slot(&self, key: &RenderKey) -> Slot {
        let mut memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = memory.slots.get(key) {
            return slot.clone();
        }
        let slot = Slot::default();
        memory.slots.insert(key.clone(), slot.clone());
        memory.order.push_back(key.clone());
        while memory.order.len() > IN_MEMORY {
            if let Some(oldest) = memory.order.pop_front() {
                // A render still being made stays alive for whoever is making it.
                memory.slots.remove(&oldest);
            }
        }
        slot
    }

    fn forget(&self, key: &RenderKey) {
        let mut memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        memory.slots.remove(key);
        memory.order.retain(|k| k != key);
    }

    fn file(&self, key: &RenderKey) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|dir| dir.join(format!("{}.json", key.0)))
    }

    fn load(&self, key: &RenderKey) -> Option<Rendered> {
        let path = self.file(key)?;
        let bytes = std::fs::read(&path).ok()?;
        let rendered = serde_json::from_slice::<StoredManifests>(&bytes)
            .ok()?
            .into_manifests()?;
        // Used now: the last to be pruned.
        let _ = std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        tracing::debug!(key = %key.0, "render from the cache");
        Some(rendered)
    }

    /// Store a render; failing costs speed next time, nothing else.
    fn store(&self, key: &RenderKey, rendered: &Rendered) {
        let (Some(dir), Some(path)) = (&self.dir, self.file(key)) else {
            return;
        };
        let write = || -> std::io::Result<()> {
            crate::dirs::create_private_dir(dir)?;
            // A temp file is the user's alone (0600) and moved into place whole.
            let mut file = tempfile::NamedTempFile::new_in(dir)?;
            serde_json::to_writer(
                std::io::BufWriter::new(&mut file),
                &StoredManifests::of(rendered),
            )?;
            file.flush()?;
            file.persist(&path).map_err(|e| e.error)?;
            Ok(())
        };
        if let Err(e) = write() {
            tracing::debug!(error = %e, dir = %dir.display(), "cannot store a render");
            return;
        }
        prune(dir, MAX_STORED_FILES, MAX_STORED_BYTES);
    }
}

/// Remove the least recently used stored renders until at most `max_files` and
/// `max_bytes` remain.
fn prune(dir: &Path, max_files: usize, max_bytes: u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut stored: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            Some((meta.modified().ok()?, meta.len(), e.path()))
        })
        .collect();
    let mut bytes: u64 = stored.iter().map(|(_, len, _)| len).sum();
    if stored.len() <= max_files && bytes <= max_bytes {
        return;
    }
    stored.sort();
    let mut files = stored.len();
    for (_, len, path) in stored {
        if files <= max_files && bytes <= max_bytes {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            files -= 1;
            bytes -= len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse_documents;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const TEXT: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '1'}\n";

    fn key(n: &str) -> RenderKey {
        KeyBuilder::new().part("n", n).finish()
    }

    #[test]
    fn a_render_is_made_once_and_then_read_from_disk() {
        let dir = tempfile::tempdir().expect("temp dir");
        let renders = AtomicUsize::new(0);
        let render = || {
            renders.fetch_add(1, Ordering::SeqCst);
            Ok(parse_documents("c.yaml", TEXT.as_bytes()))
        };
        let first = RenderCache::new(Some(dir.path().to_path_buf()));
        for _ in 0..3 {
            let got = first.get_or_render(&key("a"), render).expect("renders");
            assert_eq!(got.objects.len(), 1);
        }
        // Another process: nothing in memory, the stored render on disk.
        let second = RenderCache::new(Some(dir.path().to_path_buf()));
        second.get_or_render(&key("a"), render).expect("renders");
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        second.get_or_render(&key("b"), render).expect("renders");
        assert_eq!(renders.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn threads_asking_at_once_wait_for_one_render() {
        let cache = RenderCache::new(None);
        let renders = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    cache
                        .get_or_render(&key("a"), || {
                            renders.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            Ok(parse_documents("c.yaml", TEXT.as_bytes()))
                        })
                        .expect("renders")
                });
            }
        });
        assert_eq!(renders.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_failed_render_is_not_kept_and_a_damaged_file_is_a_miss() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = RenderCache::new(Some(dir.path().to_path_buf()));
        let failing = || Err(RenderError::NoKustomize { env: "prod".into() });
        assert!(cache.get_or_render(&key("a"), failing).is_err());
        let ok = || Ok(parse_documents("c.yaml", TEXT.as_bytes()));
        assert!(cache.get_or_render(&key("a"), ok).is_ok());
        let file = cache.file(&key("a")).expect("a dir");
        std::fs::write(&file, b"{\"objects\": [").expect("damage it");
        let fresh = RenderCache::new(Some(dir.path().to_path_buf()));
        assert_eq!(
            fresh
                .get_or_render(&key("a"), ok)
                .expect("renders again")
                .objects
                .len(),
            1
        );
    }

    #[cfg(unix)]
    #[test]
    fn stored_renders_are_the_users_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let renders = dir.path().join("renders");
        let cache = RenderCache::new(Some(renders.clone()));
        cache
            .get_or_render(&key("a"), || Ok(parse_documents("c.yaml", TEXT.as_bytes())))
            .expect("renders");
        let mode = |p: &Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode(&renders), 0o700);
        assert_eq!(mode(&cache.file(&key("a")).expect("a dir")), 0o600);
    }

    #[test]
    fn pruning_removes_the_least_recently_used_first() {
        let dir = tempfile::tempdir().expect("temp dir");
        for (n, age) in [("old", 300), ("mid", 200), ("new", 100)] {
            let path = dir.path().join(format!("{n}.json"));
            std::fs::write(&path, b"{}").expect("write");
            let when = std::time::SystemTime::now() - std::time::Duration::from_secs(age);
            std::fs::File::options()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_modified(when))
                .expect("set mtime");
        }
        prune(dir.path(), 2, u64::MAX);
        assert!(!dir.path().join("old.json").exists());
        assert!(dir.path().join("mid.json").exists());
        assert!(dir.path().join("new.json").exists());
    }
}
