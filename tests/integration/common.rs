//! Helpers shared by the integration tests: running the binary, building environment
//! repositories with gix (through tollgate's own writer), and checking for programs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tollgate::git::Repo;
use tollgate::git::write::{FileChange, Signature};

/// The binary under test, with an environment that does not leak the developer's setup.
pub fn tollgate(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env_remove("TOLLGATE_CONFIG")
        .env_remove("TOLLGATE_IDENTITY")
        .env("NO_COLOR", "1");
    command
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// A `diff` or `show` that printed an incomplete diff (a render failed or was not
    /// understood): it exits 1 and says so, and stdout still holds what could be shown.
    #[track_caller]
    pub fn incomplete(self) -> Run {
        assert_eq!(
            self.code, 1,
            "an incomplete diff exits 1; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.contains("not the whole change"),
            "{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "exit code; stderr:\n{}\nstdout:\n{}",
            self.stderr, self.stdout
        );
        self
    }
}

pub fn run(command: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("the tollgate binary runs");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
    }
}

/// Feed `stream` to `git fast-import` in the repository at `repo`.
pub fn fast_import(repo: &Path, stream: &str) {
    use std::io::Write;
    let mut import = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(repo)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("git fast-import runs");
    import
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("stream written");
    assert!(import.wait().expect("fast-import ends").success());
}

/// The shas `history ARGS --json` lists, in order.
pub fn history_shas(home: &Path, config: &Path, args: &[&str]) -> Vec<String> {
    let mut argv = vec!["history"];
    argv.extend_from_slice(args);
    argv.push("--json");
    tollgate_with(home, config, &argv)
        .ok()
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["sha"].as_str().expect("sha").to_string())
        .collect()
}

/// Run tollgate with `--config config` and `args`.
pub fn tollgate_with(home: &Path, config: &Path, args: &[&str]) -> Run {
    run(tollgate(home).arg("--config").arg(config).args(args))
}

/// Whether kubectl or kustomize can render kustomizations here. Says loudly when not, and
/// fails instead when CI demands every tool (`TOLLGATE_REQUIRE_TOOLS`).
pub fn kustomize_available(test: &str) -> bool {
    tools_available(
        test,
        ["kubectl", "kustomize"].iter().any(|p| on_path(p)),
        "kubectl (or kustomize)",
    )
}

/// Whether `man` (with groff) can render a page here; `.ci/run` installs man-db.
pub fn man_available(test: &str) -> bool {
    tools_available(
        test,
        on_path("man") && on_path("groff"),
        "man (man-db and groff)",
    )
}

/// Whether a helm answers where tollgate looks for one (`TOLLGATE_HELM`, else `PATH`);
/// `.ci/run` points `TOLLGATE_HELM` at `tests/helm/helm` (Helm's engine from PyPI).
pub fn helm_available(test: &str) -> bool {
    let helm = std::env::var_os("TOLLGATE_HELM")
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "helm".into());
    let works = Command::new(&helm)
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    tools_available(test, works, "helm (TOLLGATE_HELM, or helm on PATH)")
}

/// Whether `program` is a file in a folder of `PATH`.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

/// `found`, after saying loudly that `test` is skipped when not, or failing it instead
/// when CI demands every tool (`TOLLGATE_REQUIRE_TOOLS`).
fn tools_available(test: &str, found: bool, what: &str) -> bool {
    if !found {
        if std::env::var_os("TOLLGATE_REQUIRE_TOOLS").is_some() {
            panic!("{test}: {what} is required here but not installed");
        }
        eprintln!("SKIPPED {test}: {what} is not here");
    }
    found
}

/// The shared corpus of real manifests: `$TOLLGATE_CORPUS`, else `../shared/corpus` next to
/// this checkout. Never an absolute path: a clone on its own finds none, and its tests
/// that need the corpus skip (see [`corpus_available`]).
fn find_corpus() -> Option<PathBuf> {
    [
        std::env::var_os("TOLLGATE_CORPUS").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")),
    ]
    .into_iter()
    .flatten()
    .find(|dir| dir.join("README.md").is_file())
}

/// Whether the shared corpus is here. Says loudly that `test` is skipped when not, or
/// fails it instead when CI demands everything (`TOLLGATE_REQUIRE_TOOLS`).
pub fn corpus_available(test: &str) -> bool {
    tools_available(
        test,
        find_corpus().is_some(),
        "the shared corpus (set TOLLGATE_CORPUS, or put it at ../shared/corpus)",
    )
}

/// The shared corpus; call [`corpus_available`] first.
pub fn corpus() -> PathBuf {
    find_corpus().unwrap_or_else(|| {
        panic!(
            "the shared corpus is not found: set TOLLGATE_CORPUS to its folder (../shared/corpus)"
        )
    })
}

/// Builds an environment repository commit by commit, on a fixed clock.
pub struct EnvRepoBuilder {
    pub path: PathBuf,
    pub repo: Repo,
    pub head: Option<gix::ObjectId>,
    clock: i64,
}

impl EnvRepoBuilder {
    /// A new bare repository at `path` whose HEAD is `main`.
    pub fn new(path: &Path) -> EnvRepoBuilder {
        gix::init_bare(path).expect("init bare repository");
        std::fs::write(path.join("HEAD"), "ref: refs/heads/main\n").expect("write HEAD");
        EnvRepoBuilder {
            path: path.to_path_buf(),
            repo: Repo::open("test", path).expect("open the new repository"),
            head: None,
            clock: 1_790_000_000,
        }
    }

    fn signature(&mut self, who: &str) -> Signature {
        self.clock += 3600;
        Signature {
            name: who.to_string(),
            email: format!("{}@example.com", who.to_lowercase()),
            time: self.clock,
        }
    }

    /// Commit `changes` (path → Some(content) writes, None deletes) on top of `parent`.
    pub fn commit_on(
        &mut self,
        parent: Option<gix::ObjectId>,
        changes: &[(&str, Option<&[u8]>)],
        who: &str,
        message: &str,
    ) -> gix::ObjectId {
        let base = match parent {
            Some(p) => self.repo.tree_of(p).expect("parent tree"),
            None => gix::ObjectId::empty_tree(gix::hash::Kind::Sha1),
        };
        let changes: Vec<FileChange> = changes
            .iter()
            .map(|(path, content)| FileChange {
                path: path.to_string(),
                content: content.map(<[u8]>::to_vec),
            })
            .collect();
        let tree = self.repo.write_tree(base, &changes).expect("write tree");
        let sig = self.signature(who);
        self.repo
            .write_commit(
                tree,
                &parent.into_iter().collect::<Vec<_>>(),
                &sig,
                &sig,
                message,
            )
            .expect("write commit")
    }

    /// Commit onto main and move main.
    pub fn commit(
        &mut self,
        changes: &[(&str, Option<&[u8]>)],
        who: &str,
        message: &str,
    ) -> gix::ObjectId {
        let id = self.commit_on(self.head, changes, who, message);
        let sig = self.signature(who);
        self.repo
            .update_ref("refs/heads/main", self.head, id, "test", &sig)
            .expect("move main");
        self.head = Some(id);
        id
    }
}

/// Text files as changes that write them.
fn writes<'a>(files: &'a [(&'a str, &'a str)]) -> Vec<(&'a str, Option<&'a [u8]>)> {
    files
        .iter()
        .map(|(p, c)| (*p, Some(c.as_bytes())))
        .collect()
}

impl EnvRepoBuilder {
    /// Commit text files onto main.
    pub fn commit_files(
        &mut self,
        files: &[(&str, &str)],
        who: &str,
        message: &str,
    ) -> gix::ObjectId {
        self.commit(&writes(files), who, message)
    }

    /// A branch from main's tip with one commit.
    pub fn branch(
        &mut self,
        name: &str,
        files: &[(&str, &str)],
        who: &str,
        message: &str,
    ) -> gix::ObjectId {
        let id = self.commit_on(self.head, &writes(files), who, message);
        let sig = self.signature(who);
        self.repo
            .update_ref(&format!("refs/heads/{name}"), None, id, "test", &sig)
            .expect("create branch");
        id
    }

    /// Push a commit writing `files` onto `branch`, as someone else would between a review
    /// and an action on it; the branch's head before and after.
    pub fn push_onto(
        &mut self,
        branch: &str,
        files: &[(&str, &str)],
        who: &str,
    ) -> (gix::ObjectId, gix::ObjectId) {
        let before = self.repo.branch_head(branch).expect("the branch");
        let after = self.commit_on(Some(before), &writes(files), who, "Pushed meanwhile");
        let sig = self.signature(who);
        self.repo
            .update_ref(
                &format!("refs/heads/{branch}"),
                Some(before),
                after,
                "push",
                &sig,
            )
            .expect("push");
        (before, after)
    }

    /// A config file for this repository next to it, with `environments` as YAML text
    /// (empty: discovered under `envs/`).
    pub fn write_config(&self, dir: &Path, environments: &str) -> PathBuf {
        let mut text = format!(
            "repos:\n  - name: test\n    path: {}\n",
            self.path.display()
        );
        if !environments.is_empty() {
            text.push_str("    environments:\n");
            text.push_str(environments);
        }
        let path = dir.join("config.yaml");
        std::fs::write(&path, text).expect("write config");
        path
    }
}

/// Every file under `dir` as (path relative to `dir`, content), sorted.
pub fn files_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read corpus dir")
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.path());
        for entry in entries {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .to_string();
                out.push((rel, std::fs::read(&path).expect("read corpus file")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// Run tollgate as `who` (`TOLLGATE_IDENTITY="Who <who@example.com>"`).
pub fn as_who(home: &Path, config: &Path, who: &str, args: &[&str]) -> Run {
    let identity = format!("{who} <{}@example.com>", who.to_lowercase());
    run(tollgate(home)
        .env("TOLLGATE_IDENTITY", identity)
        .arg("--config")
        .arg(config)
        .args(args))
}

/// Approve `id` as each of `people`, in order.
pub fn approve_by(home: &Path, config: &Path, id: &str, people: &[&str]) {
    for who in people {
        as_who(home, config, who, &["approve", id]).ok();
    }
}

pub fn main_tip(repo: &EnvRepoBuilder) -> gix::ObjectId {
    repo.repo.branch_head("main").expect("main")
}

/// Every ref of the repository with what it points at: "nothing was written" means this
/// did not change.
pub fn all_refs(repo: &EnvRepoBuilder) -> Vec<(String, gix::ObjectId)> {
    refs_at(&repo.path)
}

/// [`all_refs`] of the repository at `path`.
pub fn refs_at(path: &Path) -> Vec<(String, gix::ObjectId)> {
    let repo = gix::open(path).expect("open");
    let mut refs: Vec<(String, gix::ObjectId)> = repo
        .references()
        .expect("refs")
        .all()
        .expect("refs")
        .flatten()
        .filter_map(|mut r| {
            let name = r.name().as_bstr().to_string();
            r.peel_to_id().ok().map(|id| (name, id.detach()))
        })
        .collect();
    refs.sort();
    refs
}

/// Feed `commands` to the TUI's app state, and whatever work they lead to, until no more
/// comes back: the event loop's job, done in line.
pub fn settle(
    config: &tollgate::config::Config,
    app: &mut tollgate::tui::app::App,
    commands: Vec<tollgate::tui::work::Command>,
) {
    for command in commands {
        for outcome in tollgate::tui::work::execute_all(config, command) {
            let next = app.apply(outcome);
            settle(config, app, next);
        }
    }
}

/// The Deployment `api` in namespace `shop`, at `image`, with `replicas`.
pub fn deployment(image: &str, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: api\n  template:\n    metadata:\n      labels:\n        app: api\n    spec:\n      containers:\n      - name: api\n        image: ghcr.io/acme/api:{image}\n"
    )
}

/// Whether OpenSSH's `ssh-keygen` and `ssh-agent` are here (signing goes through them, as
/// git's does). Says loudly when not, and fails instead under `TOLLGATE_REQUIRE_TOOLS`.
pub fn openssh_available(test: &str) -> bool {
    tools_available(
        test,
        ["ssh-keygen", "ssh-agent", "ssh-add"]
            .iter()
            .all(|p| on_path(p)),
        "OpenSSH (ssh-keygen, ssh-agent, ssh-add)",
    )
}

/// An ed25519 key per person, made by the real `ssh-keygen`, and the allowed-signers
/// file that lists some of them.
pub struct Keyring {
    pub dir: PathBuf,
}

impl Keyring {
    /// Keys for `people` (names; emails are `name@example.com`) under `dir/keys`.
    pub fn new(dir: &Path, people: &[&str]) -> Keyring {
        let dir = dir.join("keys");
        std::fs::create_dir_all(&dir).expect("keys dir");
        for who in people {
            let status = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C"])
                .arg(email(who))
                .arg("-f")
                .arg(dir.join(who.to_lowercase()))
                .status()
                .expect("ssh-keygen runs");
            assert!(status.success(), "ssh-keygen made a key for {who}");
        }
        Keyring { dir }
    }

    /// The private key file of `who`.
    pub fn private(&self, who: &str) -> PathBuf {
        self.dir.join(who.to_lowercase())
    }

    /// The public key file of `who`.
    pub fn public(&self, who: &str) -> PathBuf {
        self.dir.join(format!("{}.pub", who.to_lowercase()))
    }

    /// `.tollgate/allowed_signers` text listing `people`, each for their own email.
    pub fn allowed_signers(&self, people: &[&str]) -> String {
        people
            .iter()
            .map(|who| {
                let key = std::fs::read_to_string(self.public(who)).expect("public key");
                let mut fields = key.split_whitespace();
                let (kind, data) = (fields.next().expect("type"), fields.next().expect("key"));
                format!("{} {kind} {data}\n", email(who))
            })
            .collect()
    }

    /// Add `signing_keys:` for `people` (each their private key file) to the config.
    pub fn add_to_config(&self, config: &Path, people: &[&str]) {
        let text = std::fs::read_to_string(config).expect("read config");
        let mut keys = String::from("signing_keys:\n");
        for who in people {
            keys.push_str(&format!(
                "  {}: {}\n",
                email(who),
                self.private(who).display()
            ));
        }
        std::fs::write(config, keys + &text).expect("write config");
    }
}

/// `name@example.com`, as [`as_who`] makes identities.
pub fn email(who: &str) -> String {
    format!("{}@example.com", who.to_lowercase())
}
