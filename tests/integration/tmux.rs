//! The real binary in a real terminal (tmux): inbox → promotion → diff → next object →
//! back → environments → history → commit → back → quit, read with `capture-pane`, and
//! the terminal is left as it was found.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::kustomize_available;
use crate::demo::demo;

pub(crate) fn tmux_available() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var_os("TOLLGATE_REQUIRE_TOOLS").is_some() {
            panic!("tmux is required here but not installed");
        }
        eprintln!("SKIPPED tui_end_to_end_in_tmux: tmux is not installed");
    }
    found
}

pub(crate) struct Session {
    socket: String,
}

impl Session {
    /// Run `script` (sh) in a new tmux server of its own, in a `width`×`height` window.
    pub(crate) fn start(name: &str, script: &str, width: u16, height: u16) -> Session {
        let session = Session {
            socket: format!("tollgate-{name}-{}", std::process::id()),
        };
        session.tmux(&[
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "sh",
            "-c",
            script,
        ]);
        session
    }

    fn tmux(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&output.stdout).to_string()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "e2e"])
    }

    pub(crate) fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Wait until the screen shows `text` (the work is asynchronous), or fail with it.
    #[track_caller]
    pub(crate) fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("screen never showed {text:?}:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// What the script printed after the TUI exited shows a terminal as it was found.
#[track_caller]
fn assert_terminal_given_back(after: &str) {
    assert!(
        after.contains("MODES: icanon echo"),
        "the terminal is back in cooked mode:\n{after}"
    );
    assert!(
        !after.contains("inbox ·"),
        "the alternate screen is gone:\n{after}"
    );
}

#[test]
fn tui_end_to_end_in_tmux() {
    if !tmux_available() || !kustomize_available("tui_end_to_end_in_tmux") {
        return;
    }
    let (home, config) = demo();
    let binary = env!("CARGO_BIN_EXE_tollgate");
    let script = format!(
        "HOME={home} XDG_STATE_HOME={home}/state TOLLGATE_IDENTITY='Dana Ops <dana@example.com>' {binary} --config {config}; \
         echo EXIT=$?; echo MODES: $(stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e echo); echo DONE; sleep 60",
        home = home.path().display(),
        config = config.display(),
    );
    let session = Session::start("e2e", &script, 100, 30);

    let inbox = session.wait_for("platform:promote/payments-se");
    assert!(inbox.contains("inbox · 5 pending"), "{inbox}");
    assert!(
        inbox.contains("Dana Ops <dana@example.com>"),
        "the status bar names the identity:\n{inbox}"
    );

    session.keys(&["/", "checkout", "Enter", "Enter"]);
    let promotion = session.wait_for("objects ~3");
    assert!(
        promotion.contains("Checkout tuning for the load test in staging"),
        "{promotion}"
    );
    assert!(
        promotion.contains("ConfigMap/shop-staging/api-config"),
        "the first object's diff is shown:\n{promotion}"
    );

    session.keys(&["]"]);
    let next = session.wait_for("Deployment/shop-staging/api ·");
    assert!(next.contains("spec.replicas: 2 → 4"), "{next}");

    session.keys(&["Escape"]);
    session.wait_for("inbox · ");

    session.keys(&["2"]);
    // Both repos listed (they load concurrently; rows arrive in either order).
    session.wait_for("platform     staging");
    session.wait_for("shop         production");
    session.keys(&["j", "Enter"]);
    let history = session.wait_for("Bootstrap shop environments");
    assert!(history.contains("shop/production"), "{history}");
    session.keys(&["Enter"]);
    let commit = session.wait_for("spec.maxReplicas: 10 → 12");
    assert!(
        commit.contains("Merge promotion shop:promote/api-hpa-production"),
        "{commit}"
    );
    session.keys(&["Escape"]);
    session.wait_for("inputs history");
    session.keys(&["q"]);
    let after = session.wait_for("DONE");
    assert!(after.contains("EXIT=0"), "{after}");
    assert_terminal_given_back(&after);
    drop(home);
}

/// `kill -TERM` and `kill -HUP` of a TUI that is showing: it leaves the alternate screen,
/// turns mouse reporting and raw mode off, and says why it stopped.
#[test]
fn a_signal_gives_the_terminal_back() {
    if !tmux_available() || !kustomize_available("a_signal_gives_the_terminal_back") {
        return;
    }
    for signal in ["TERM", "HUP"] {
        let (home, config) = demo();
        let binary = env!("CARGO_BIN_EXE_tollgate");
        let script = format!(
            "HOME={home} XDG_STATE_HOME={home}/state TOLLGATE_IDENTITY='Dana Ops <dana@example.com>' {binary} --config {config} 2>{home}/stderr; \
             echo EXIT=$?; echo MODES: $(stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e echo); cat {home}/stderr; echo DONE; sleep 60",
            home = home.path().display(),
            config = config.display(),
        );
        let session = Session::start(&format!("signal-{signal}"), &script, 100, 30);
        session.wait_for("inbox · 5 pending");
        // Anchored: the shell running the script has the same words further in.
        let pid = Command::new("pgrep")
            .args(["-f", &format!("^{} --config {}", binary, config.display())])
            .output()
            .expect("pgrep runs");
        let pid = String::from_utf8_lossy(&pid.stdout)
            .lines()
            .next()
            .expect("the TUI is running")
            .trim()
            .to_string();
        let killed = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let after = session.wait_for("DONE");
        assert!(after.contains("EXIT=1"), "{after}");
        assert!(
            after.contains(&format!("stopped by SIG{signal}")),
            "it says why:\n{after}"
        );
        assert_terminal_given_back(&after);
    }
}

/// A push between opening a promotion and `a` `y`: the approval is refused, names the new
/// head, and nothing is written.
#[test]
fn a_push_after_the_review_opened_is_never_approved_unseen() {
    if !tmux_available() || !kustomize_available("a_push_after_the_review_opened") {
        return;
    }
    let (home, config) = demo();
    let repo = config
        .parent()
        .expect("the demo folder")
        .join("repos/shop-env.git");
    let git = |args: &[&str]| -> String {
        let output = Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(args)
            .env("GIT_AUTHOR_NAME", "Eve")
            .env("GIT_AUTHOR_EMAIL", "eve@example.com")
            .env("GIT_COMMITTER_NAME", "Eve")
            .env("GIT_COMMITTER_EMAIL", "eve@example.com")
            .output()
            .expect("git runs");
        assert!(output.status.success(), "{args:?}: {output:?}");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    let branch = "refs/heads/promote/api-1.5.0-production";
    let reviewed = git(&["rev-parse", branch]);
    let binary = env!("CARGO_BIN_EXE_tollgate");
    let script = format!(
        "HOME={home} XDG_STATE_HOME={home}/state TOLLGATE_IDENTITY='Dana Ops <dana@example.com>' {binary} --config {config}; echo DONE; sleep 60",
        home = home.path().display(),
        config = config.display(),
    );
    let session = Session::start("pinned", &script, 120, 40);
    session.wait_for("inbox · 5 pending");
    session.keys(&["/", "api-1.5", "Enter", "Enter"]);
    session.wait_for(&format!("head {}", &reviewed[..10]));
    // Someone pushes onto the branch while the review is open.
    let tree = git(&["rev-parse", &format!("{reviewed}^{{tree}}")]);
    let pushed = git(&["commit-tree", &tree, "-p", &reviewed, "-m", "Sneak in"]);
    git(&["update-ref", branch, &pushed, &reviewed]);
    let notes_before = git(&["for-each-ref", "refs/notes"]);
    session.keys(&["a"]);
    session.wait_for(&format!("at {}? y yes", &reviewed[..10]));
    session.keys(&["y"]);
    let refused = session.wait_for("moved since you opened it");
    assert!(refused.contains(&pushed[..10]), "{refused}");
    assert_eq!(
        git(&["for-each-ref", "refs/notes"]),
        notes_before,
        "no approval was written"
    );
    // Apart: an escape followed at once by a key reads as Alt and that key.
    session.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    session.keys(&["q"]);
    session.wait_for("DONE");
}

/// `e` hands the terminal to `$PAGER` with the object's diff in a read-only file, and the
/// TUI comes back as it was when the pager ends.
#[test]
fn e_shows_the_diff_in_the_pager_and_comes_back() {
    if !tmux_available() || !kustomize_available("e_shows_the_diff_in_the_pager") {
        return;
    }
    let (home, config) = demo();
    let pager = home.path().join("pager.sh");
    std::fs::write(
        &pager,
        format!(
            "#!/bin/sh\ncp \"$1\" {out}; ls -l \"$1\" > {out}.mode; echo IN THE PAGER; read answer\n",
            out = home.path().join("paged").display()
        ),
    )
    .expect("pager script");
    std::fs::set_permissions(&pager, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("executable");
    let binary = env!("CARGO_BIN_EXE_tollgate");
    let script = format!(
        "HOME={home} XDG_STATE_HOME={home}/state PAGER={pager} TOLLGATE_IDENTITY='Dana Ops <dana@example.com>' {binary} --config {config}; echo DONE; sleep 60",
        home = home.path().display(),
        pager = pager.display(),
        config = config.display(),
    );
    let session = Session::start("pager", &script, 100, 30);
    session.wait_for("inbox · 5 pending");
    session.keys(&["/", "checkout", "Enter", "Enter"]);
    session.wait_for("objects ~3");
    session.keys(&["e"]);
    let paging = session.wait_for("IN THE PAGER");
    assert!(
        !paging.contains("objects ~3"),
        "the TUI stepped aside:\n{paging}"
    );
    session.keys(&["Enter"]);
    session.wait_for("objects ~3");
    let paged = std::fs::read_to_string(home.path().join("paged")).expect("the pager got a file");
    assert!(paged.contains("data.CHECKOUT_TIMEOUT: 30 → 45"), "{paged}");
    assert!(paged.contains("+  CHECKOUT_TIMEOUT: \"45\""), "{paged}");
    let mode = std::fs::read_to_string(home.path().join("paged.mode")).expect("mode");
    assert!(mode.starts_with("-r--------"), "read-only: {mode}");
    // Keys reach the TUI again.
    session.keys(&["q"]);
    session.wait_for("DONE");
}
