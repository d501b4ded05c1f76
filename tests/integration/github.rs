//! GitHub repositories end to end: the binary against a GitHub API served over HTTP by the
//! test (`github_api.rs`), and a mirror fetched from a bare origin over `file://`. The
//! assertions are on what tollgate printed and on the requests GitHub received.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::common::{EnvRepoBuilder, Run, deployment, run, tollgate};
use crate::github_api::{FakeGitHub, FakePull, Fault};

pub(crate) const SLUG: &str = "acme/shop-env";
const TOKEN: &str = "ghp_tollgateTestToken0123456789";
const BOB_TOKEN: &str = "ghp_bobsTestToken9876543210";
pub(crate) const POLICY: &str = "break_glass: [github:erin]\nenvironments:\n  production:\n    approvals: 1\n    approvers: [github:dana-ops, github:erin]\n";

/// A GitHub repository `acme/shop-env` served by a test API, with a config naming it
/// `shop-gh` (its mirror in the temp dir); the token is dana-ops's.
pub(crate) struct Fixture {
    pub home: TempDir,
    pub server: FakeGitHub,
    pub origin: EnvRepoBuilder,
    pub config: PathBuf,
    /// #1: Bob bumps production's image.
    pub bump: gix::ObjectId,
}

fn pull(number: u64, title: &str, author: &str, head_ref: &str) -> FakePull {
    FakePull {
        number,
        title: title.to_string(),
        body: format!("{title}, opened by the pipeline"),
        author: author.to_string(),
        head_ref: head_ref.to_string(),
        base_ref: "main".to_string(),
        draft: false,
        labels: vec!["promotion".to_string()],
        created_at: format!("2026-11-2{number}T08:00:00Z"),
        open: true,
        requested_reviewers: vec!["dana-ops".to_string()],
    }
}

pub(crate) fn fixture() -> Fixture {
    let home = TempDir::new().expect("temp dir");
    let mut origin = EnvRepoBuilder::new(&home.path().join("origin.git"));
    origin.commit_files(
        &[
            ("envs/staging/api.yaml", &deployment("1.0", 1)),
            ("envs/production/api.yaml", &deployment("1.0", 2)),
            (".tollgate/policy.yaml", POLICY),
        ],
        "Alice",
        "Start",
    );
    let bump = origin.branch(
        "promote/api-1.1",
        &[("envs/production/api.yaml", &deployment("1.1", 2))],
        "Bob",
        "Promote api 1.1 to production",
    );
    let scale = origin.branch(
        "promote/staging-scale",
        &[("envs/staging/api.yaml", &deployment("1.0", 3))],
        "Bob",
        "Scale staging to 3",
    );
    let server = FakeGitHub::start();
    server.repo(SLUG, &origin.path, "main");
    server.token(TOKEN, "dana-ops");
    server.token(BOB_TOKEN, "bob");
    server.open_pull(
        SLUG,
        pull(1, "Promote api 1.1 to production", "bob", "promote/api-1.1"),
        bump,
    );
    server.open_pull(
        SLUG,
        pull(2, "Scale staging to 3", "bob", "promote/staging-scale"),
        scale,
    );
    let config = home.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "repos:\n  - name: shop-gh\n    path: {}\n    github: {{owner: acme, repo: shop-env, api_url: \"{}\"}}\n",
            home.path().join("mirror.git").display(),
            server.url()
        ),
    )
    .expect("write config");
    Fixture {
        home,
        server,
        origin,
        config,
        bump,
    }
}

impl Fixture {
    fn command(&self, token: Option<&str>) -> Command {
        let mut command = tollgate(self.home.path());
        command
            .env("XDG_STATE_HOME", self.home.path().join("state"))
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_ENTERPRISE_TOKEN")
            .env_remove("GITHUB_ENTERPRISE_TOKEN")
            .args(["--log-level", "debug"])
            .arg("--config")
            .arg(&self.config);
        match token {
            Some(t) => command.env("GH_TOKEN", t),
            None => command.env_remove("GH_TOKEN"),
        };
        command
    }

    /// Run as dana-ops (an approver).
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_as(TOKEN, args)
    }

    pub fn run_as(&self, token: &str, args: &[&str]) -> Run {
        let out = run(self.command(Some(token)).args(args));
        assert_no_token(&out, self.home.path());
        out
    }

    pub fn requests(&self, method: &str, path_contains: &str) -> Vec<crate::github_api::Recorded> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.contains(path_contains))
            .collect()
    }
}

/// The token is in no output and no file tollgate wrote (logs, mirror, cache).
#[track_caller]
fn assert_no_token(out: &Run, home: &Path) {
    for token in [TOKEN, BOB_TOKEN] {
        assert!(!out.stdout.contains(token), "token on stdout");
        assert!(!out.stderr.contains(token), "token on stderr");
        for (path, content) in crate::common::files_in(home) {
            assert!(
                !String::from_utf8_lossy(&content).contains(token),
                "token written to {path}"
            );
        }
    }
}

#[test]
fn pull_requests_are_promotions_with_rendered_summaries() {
    let f = fixture();
    // One pull request per page: the list follows the `Link` header.
    f.server.page_size(1);
    let out = f.run(&["list", "--json"]).ok();
    let rows = out.json();
    let rows = rows.as_array().expect("array");
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().expect("id")).collect();
    assert_eq!(ids, ["shop-gh#2", "shop-gh#1"], "newest first");
    let bump = &rows[1];
    assert_eq!(bump["environments"], serde_json::json!(["production"]));
    assert_eq!(bump["head"], f.bump.to_string());
    assert_eq!(bump["branch"], "promote/api-1.1");
    assert_eq!(bump["author"]["name"], "bob");
    assert_eq!(bump["url"], "https://github.com/acme/shop-env/pull/1");
    assert!(
        bump["summary"]
            .as_str()
            .expect("summary")
            .contains("api:1.0 → 1.1"),
        "{bump}"
    );
    let pages = f.requests("GET", "/pulls");
    assert_eq!(pages.len(), 2, "two pages of one");
    assert!(pages[1].query.contains("page=2"), "{:?}", pages[1]);
    assert!(pages[0].query.contains("base=main"), "{:?}", pages[0]);
    assert!(
        f.server
            .requests()
            .iter()
            .all(|r| r.authorization == format!("Bearer {TOKEN}")),
        "every request carries the token"
    );
    // The mirror holds the heads.
    let mirror = tollgate::git::Repo::open("m", &f.home.path().join("mirror.git")).expect("mirror");
    assert_eq!(mirror.resolve("refs/pull/1/head").expect("ref"), f.bump);
}

#[test]
fn the_diff_of_a_pull_request_is_rendered_from_the_mirror() {
    let f = fixture();
    let out = f.run(&["diff", "shop-gh#1", "--json"]).ok();
    let json = out.json();
    let envs = json["environments"].as_array().expect("environments");
    assert_eq!(envs.len(), 1);
    assert_eq!(envs[0]["name"], "production");
    let object = &envs[0]["objects"][0];
    assert_eq!(object["kind"], "Deployment");
    assert_eq!(object["change"], "changed");
    let text = f.run(&["diff", "shop-gh#1"]).ok().stdout;
    assert!(text.contains("ghcr.io/acme/api:1.1"), "{text}");
}

#[test]
fn reviews_of_the_current_head_count_and_older_ones_are_stale() {
    let f = fixture();
    let old = f.origin.head.expect("main").to_string();
    f.server.review(SLUG, 1, "erin", "APPROVED", &old);
    f.server
        .review(SLUG, 1, "mallory", "APPROVED", &f.bump.to_string());
    let json = f.run(&["show", "shop-gh#1", "--json"]).ok().json();
    let statuses: Vec<(String, String)> = json["approvals"]
        .as_array()
        .expect("approvals")
        .iter()
        .map(|a| {
            (
                a["by"].as_str().expect("by").to_string(),
                a["status"].as_str().expect("status").to_string(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            (
                "erin <erin@users.noreply.github.com>".to_string(),
                "stale".to_string()
            ),
            (
                "mallory <mallory@users.noreply.github.com>".to_string(),
                "not-authorised".to_string()
            )
        ],
        "{json}"
    );
    assert_eq!(json["environments"][0]["missing"], 1);
    assert_eq!(json["can_merge"], false);
    assert_eq!(json["can_approve"], true, "dana-ops is an approver");
}

#[test]
fn approve_reviews_the_head_that_was_judged_and_merge_pins_it() {
    let f = fixture();
    let out = f.run(&["approve", "shop-gh#1", "--comment", "LGTM"]).ok();
    assert!(out.stdout.contains("approved shop-gh#1"), "{}", out.stdout);
    let posts = f.requests("POST", "/pulls/1/reviews");
    assert_eq!(posts.len(), 1);
    let body = posts[0].body.as_ref().expect("body");
    assert_eq!(body["event"], "APPROVE");
    assert_eq!(body["commit_id"], f.bump.to_string());
    assert_eq!(body["body"], "LGTM");

    let out = f.run(&["merge", "shop-gh#1", "--json"]).ok();
    let merged = out.json();
    let puts = f.requests("PUT", "/pulls/1/merge");
    assert_eq!(puts.len(), 1);
    let body = puts[0].body.as_ref().expect("body");
    assert_eq!(body["sha"], f.bump.to_string());
    assert_eq!(body["merge_method"], "merge");
    let message = body["commit_message"].as_str().expect("message");
    assert!(message.contains("Promotion: shop-gh#1"), "{message}");
    assert!(
        message.contains("Approved-by: dana-ops <dana-ops@users.noreply.github.com>"),
        "{message}"
    );
    assert!(message.contains("Merged-by: dana-ops"), "{message}");
    assert!(!f.server.is_open(SLUG, 1));

    // The merge is on the origin's main, with the trailers: the audit finds it approved.
    let origin = tollgate::git::Repo::open("o", &f.origin.path).expect("origin");
    assert_eq!(
        origin.resolve("refs/heads/main").expect("main").to_string(),
        merged["commit"].as_str().expect("commit")
    );
    let audit = f
        .run(&["audit", "verify", "--repo", "shop-gh", "--format", "json"])
        .ok();
    let rows = audit.json();
    let merge_row = rows[0]["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["commit"].as_str() == merged["commit"].as_str())
        .cloned()
        .unwrap_or_else(|| panic!("the merge is audited: {rows}"));
    assert_eq!(merge_row["finding"], "compliant", "{merge_row}");
    let history = f
        .run(&[
            "history",
            "--repo",
            "shop-gh",
            "--env",
            "production",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(history[0]["sha"], merged["commit"], "{history}");
    // The log was written (and, like everything else, holds no token).
    let log =
        std::fs::read_to_string(f.home.path().join("state/tollgate/tollgate.log")).expect("a log");
    assert!(log.contains("merged on GitHub"), "{log}");
    assert_eq!(
        merge_row["merged_by"],
        "dana-ops <dana-ops@users.noreply.github.com>"
    );
}

#[test]
fn a_merge_github_refuses_as_stale_is_explained_and_not_repeated() {
    let f = fixture();
    f.server
        .review(SLUG, 1, "erin", "APPROVED", &f.bump.to_string());
    let mut fault = Fault::new("PUT", "/pulls/1/merge", 409, 1);
    fault.body =
        serde_json::json!({"message": "Head branch was modified. Review and try the merge again."});
    f.server.fail(fault);
    let out = f.run(&["merge", "shop-gh#1"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("head is no longer") && out.stderr.contains("nothing was merged"),
        "{}",
        out.stderr
    );
    assert_eq!(f.requests("PUT", "/merge").len(), 1, "a write is sent once");
    assert!(f.server.is_open(SLUG, 1));
}

#[test]
fn a_write_that_fails_is_never_sent_again_but_reads_are_retried() {
    let f = fixture();
    f.server.fail(Fault::new("GET", "/pulls", 502, 2));
    f.server.fail(Fault::new("POST", "/reviews", 502, 1));
    let out = f.run(&["approve", "shop-gh#1"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("502"), "{}", out.stderr);
    let lists: Vec<u16> = f
        .requests("GET", "/repos/acme/shop-env/pulls")
        .iter()
        .filter(|r| r.path.ends_with("/pulls"))
        .map(|r| r.status)
        .collect();
    assert_eq!(
        lists,
        [502, 502, 200],
        "the list was retried until it worked"
    );
    assert_eq!(
        f.requests("POST", "/reviews").len(),
        1,
        "the review was not"
    );
    assert!(f.server.reviews_of(SLUG, 1).is_empty());
}

#[test]
fn a_rate_limited_read_waits_as_github_says() {
    let f = fixture();
    let mut fault = Fault::new("GET", "/pulls", 403, 1);
    fault.headers = vec![("retry-after", "1".to_string())];
    fault.body = serde_json::json!({"message": "You have exceeded a secondary rate limit."});
    f.server.fail(fault);
    let out = f.run(&["list", "--json"]).ok();
    assert_eq!(out.json().as_array().expect("rows").len(), 2);
    let lists: Vec<u16> = f
        .requests("GET", "/pulls")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(lists, [403, 200]);

    // A limit that holds longer than tollgate waits is an error saying until when.
    let reset = jiff::Timestamp::now().as_second() + 3 * 3600;
    let mut fault = Fault::new("GET", "/pulls", 403, 1);
    fault.headers = vec![
        ("x-ratelimit-remaining", "0".to_string()),
        ("x-ratelimit-reset", reset.to_string()),
    ];
    fault.body = serde_json::json!({"message": "API rate limit exceeded"});
    f.server.fail(fault);
    let out = f.run(&["list"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("rate limit holds until"),
        "{}",
        out.stderr
    );
}

#[test]
fn no_token_and_a_bad_token_are_explained() {
    let f = fixture();
    let out = run(f.command(None).env("PATH", "/nonexistent").arg("list"));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("no GitHub token for 127.0.0.1")
            && out.stderr.contains("GH_TOKEN")
            && out.stderr.contains("gh auth login"),
        "{}",
        out.stderr
    );
    let out = f.run_as("ghp_wrong", &["list"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("rejected the token (401"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_author_cannot_approve_and_nothing_is_sent() {
    let f = fixture();
    let out = f.run_as(BOB_TOKEN, &["approve", "shop-gh#1"]);
    assert_eq!(out.code, 3);
    assert!(out.stderr.contains("approve refused"), "{}", out.stderr);
    assert!(f.requests("POST", "/reviews").is_empty());
}

#[test]
fn polling_an_unchanged_list_is_answered_from_the_etag_cache() {
    use tollgate::forge::github::{Api, GitHubRepo, RetryPolicy};
    let f = fixture();
    let github = tollgate::config::GitHubConfig {
        owner: "acme".into(),
        repo: "shop-env".into(),
        api_url: f.server.url(),
        label: Some("promotion".into()),
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (first, second) = runtime.block_on(async {
        let api = Api::new(
            &github.api_url,
            TOKEN.to_string().into(),
            RetryPolicy::default(),
        )
        .expect("client");
        let repo = GitHubRepo::with_api(&github, std::sync::Arc::new(api));
        let first = repo.open_pulls("main").await.expect("first");
        let second = repo.open_pulls("main").await.expect("second");
        assert_eq!(repo.api().quota().expect("quota").limit, 5000);
        (first, second)
    });
    assert_eq!(first, second);
    assert_eq!(first.len(), 2);
    let lists = f.requests("GET", "/pulls");
    assert_eq!(lists.len(), 2);
    assert_eq!(lists[0].if_none_match, None);
    assert!(lists[1].if_none_match.is_some());
    assert_eq!(lists[1].status, 304);
}

#[test]
fn show_says_what_github_says_about_checks_and_reviews() {
    let f = fixture();
    let head = f.bump.to_string();
    f.server.status(SLUG, &head, "ci/render", "success");
    f.server
        .check_run(SLUG, &head, "kubeconform", Some("success"));
    f.server.check_run(SLUG, &head, "policy", Some("failure"));
    f.server.review(SLUG, 1, "erin", "CHANGES_REQUESTED", &head);
    let json = f.run(&["show", "shop-gh#1", "--json"]).ok().json();
    let github = &json["github"];
    assert_eq!(github["mergeable_state"], "clean");
    assert_eq!(github["title"], "Promote api 1.1 to production");
    assert_eq!(github["author"], "bob");
    assert_eq!(github["head_sha"], head);
    assert_eq!(github["base_ref"], "main");
    assert_eq!(github["base_sha"], f.origin.head.expect("main").to_string());
    assert_eq!(github["checks"]["passed"], 2);
    assert_eq!(github["checks"]["failed"], serde_json::json!(["policy"]));
    assert_eq!(
        github["requested_reviewers"],
        serde_json::json!(["dana-ops"])
    );
    assert_eq!(github["reviews"][0]["state"], "CHANGES_REQUESTED");
    let text = f.run(&["show", "shop-gh#1"]).ok().stdout;
    assert!(text.contains("checks: ✗ policy"), "{text}");
    assert!(text.contains("erin changes requested"), "{text}");
}

#[test]
fn a_push_after_the_approval_makes_it_stale_and_the_merge_is_refused_unsent() {
    let mut f = fixture();
    f.run(&["approve", "shop-gh#1"]).ok();
    let pushed = f.origin.commit_on(
        Some(f.bump),
        &[(
            "envs/production/api.yaml",
            Some(deployment("1.2", 2).as_bytes()),
        )],
        "Bob",
        "Actually 1.2",
    );
    f.server.push_to_pull(SLUG, 1, pushed);
    let json = f.run(&["show", "shop-gh#1", "--json"]).ok().json();
    assert_eq!(json["head"], pushed.to_string());
    assert_eq!(json["approvals"][0]["status"], "stale");
    let out = f.run(&["merge", "shop-gh#1"]);
    assert_eq!(out.code, 3);
    assert!(out.stderr.contains("merge refused"), "{}", out.stderr);
    assert!(f.requests("PUT", "/merge").is_empty(), "nothing was sent");
}

#[test]
fn the_tui_lists_pull_requests_shows_the_quota_and_opens_them_in_the_browser() {
    if !crate::tmux::tmux_available() {
        return;
    }
    let f = fixture();
    let home = f.home.path();
    // The browser is a script that notes the page it was asked to open.
    let browser = home.join("browser.sh");
    let opened = home.join("opened.txt");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\necho \"$1\" >> {}\n", opened.display()),
    )
    .expect("write browser");
    std::process::Command::new("chmod")
        .args(["+x"])
        .arg(&browser)
        .status()
        .expect("chmod");
    let script = format!(
        "HOME={home} XDG_STATE_HOME={home}/state XDG_CACHE_HOME={home}/cache GH_TOKEN={TOKEN} BROWSER={browser} {binary} --config {config}; echo EXIT=$?; sleep 60",
        home = home.display(),
        browser = browser.display(),
        binary = env!("CARGO_BIN_EXE_tollgate"),
        config = f.config.display(),
    );
    let session = crate::tmux::Session::start("github", &script, 120, 30);
    let inbox = session.wait_for("0/1");
    assert!(inbox.contains("shop-gh#1"), "{inbox}");
    assert!(inbox.contains("shop-gh#2"), "{inbox}");
    assert!(
        inbox.contains("GitHub 4"),
        "the quota is in the status bar:\n{inbox}"
    );
    // Newest first: #2 is selected; `o` opens its page.
    session.keys(&["o"]);
    session.wait_for("opened https://github.com/acme/shop-env/pull/2");
    // The browser runs on its own: the status says it started, not that it has written.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read_to_string(&opened).map_or(true, |t| t.is_empty())
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pages = std::fs::read_to_string(&opened).expect("the browser was started");
    assert_eq!(pages.trim(), "https://github.com/acme/shop-env/pull/2");
    // The promotion's description is the pull request's, with what GitHub says of it.
    session.keys(&["Enter"]);
    session.wait_for("Deployment/shop/api");
    session.keys(&["l", "l"]);
    let description = session.wait_for("mergeable: clean");
    assert!(
        description.contains("opened by the pipeline"),
        "{description}"
    );
    assert!(
        description.contains("review requested from: dana-ops"),
        "{description}"
    );
    // Approve from the TUI: the verdict first, then a review pinned to the head.
    session.keys(&["a"]);
    let head = f.server.head_of_pull(SLUG, 2);
    session.wait_for(&format!("approve shop-gh#2 at {}? y yes", &head[..10]));
    session.keys(&["y"]);
    session.wait_for("approved shop-gh#2");
    let posts = f.requests("POST", "/pulls/2/reviews");
    assert_eq!(posts.len(), 1);
    let body = posts[0].body.as_ref().expect("body");
    assert_eq!(body["event"], "APPROVE");
    assert_eq!(body["commit_id"], f.server.head_of_pull(SLUG, 2));
    session.keys(&["Enter"]);
    session.keys(&["Escape"]);
    session.wait_for("inbox · 2 pending");
    session.keys(&["q"]);
    session.wait_for("EXIT=0");
}

#[test]
fn a_revert_is_proposed_as_a_pull_request_through_the_git_data_api() {
    let f = fixture();
    f.server
        .review(SLUG, 1, "erin", "APPROVED", &f.bump.to_string());
    let merged = f.run(&["merge", "shop-gh#1", "--json"]).ok().json();
    let merge_commit = merged["commit"].as_str().expect("commit").to_string();

    let out = f
        .run(&[
            "revert",
            &merge_commit,
            "--repo",
            "shop-gh",
            "--reason",
            "api 1.1 leaks memory",
            "--json",
        ])
        .ok();
    let created = out.json();
    assert_eq!(created["promotion"], "shop-gh#3", "{created}");
    // Blobs, one tree, one commit, one branch, one pull request: each sent once.
    let writes: Vec<String> = f
        .server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| {
            r.path
                .trim_start_matches("/repos/acme/shop-env")
                .to_string()
        })
        .collect();
    assert_eq!(
        writes,
        [
            "/git/blobs",
            "/git/trees",
            "/git/commits",
            "/git/refs",
            "/pulls"
        ],
        "{writes:?}"
    );
    let pull = f
        .requests("POST", "/pulls")
        .pop()
        .and_then(|r| r.body)
        .expect("pull body");
    assert!(pull["title"].as_str().expect("title").starts_with("Revert"));
    let body = pull["body"].as_str().expect("body");
    assert!(body.contains(&format!("Reverts: {merge_commit}")), "{body}");
    assert!(body.contains("Reason: api 1.1 leaks memory"), "{body}");

    // The new pull request is a promotion like any other: a verified revert of production.
    let json = f.run(&["show", "shop-gh#3", "--json"]).ok().json();
    assert_eq!(json["environments"][0]["name"], "production", "{json}");
    let diff = f.run(&["diff", "shop-gh#3"]).ok().stdout;
    assert!(
        diff.contains("api:1.1 → 1.0") || diff.contains("1.1 → 1.0"),
        "{diff}"
    );

    // --direct is not a thing on GitHub.
    let out = f.run(&[
        "revert",
        &merge_commit,
        "--repo",
        "shop-gh",
        "--reason",
        "now",
        "--direct",
    ]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("always a pull request"),
        "{}",
        out.stderr
    );
}

#[test]
fn unapprove_dismisses_the_review_on_github() {
    let f = fixture();
    f.run(&["approve", "shop-gh#1"]).ok();
    let out = f.run(&["unapprove", "shop-gh#1"]).ok();
    assert!(out.stdout.contains("withdrew"), "{}", out.stdout);
    let dismissals = f.requests("PUT", "/dismissals");
    assert_eq!(dismissals.len(), 1);
    assert_eq!(f.server.reviews_of(SLUG, 1)[0].state, "DISMISSED");
    let json = f.run(&["show", "shop-gh#1", "--json"]).ok().json();
    assert_eq!(json["approvals"], serde_json::json!([]), "{json}");
    // Nothing left to withdraw: nothing is sent.
    let out = f.run(&["unapprove", "shop-gh#1"]).ok();
    assert!(out.stdout.contains("had not approved"), "{}", out.stdout);
    assert_eq!(f.requests("PUT", "/dismissals").len(), 1);
}

#[test]
fn github_and_local_repos_are_listed_side_by_side() {
    let f = fixture();
    let mut local = EnvRepoBuilder::new(&f.home.path().join("local.git"));
    local.commit_files(
        &[("envs/staging/api.yaml", &deployment("2.0", 1))],
        "Alice",
        "Start",
    );
    local.branch(
        "promote/local-bump",
        &[("envs/staging/api.yaml", &deployment("2.1", 1))],
        "Carol",
        "Bump staging",
    );
    let text = std::fs::read_to_string(&f.config).expect("config");
    std::fs::write(
        &f.config,
        format!(
            "{text}  - name: local\n    path: {}\n",
            local.path.display()
        ),
    )
    .expect("config");
    let rows = f.run(&["list", "--json"]).ok().json();
    let mut ids: Vec<&str> = rows
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    ids.sort();
    assert_eq!(ids, ["local:promote/local-bump", "shop-gh#1", "shop-gh#2"]);
}

#[test]
fn the_mirror_fetches_over_http_and_never_sends_the_token_in_clear_text() {
    let f = fixture();
    f.server.git_over_http();
    let rows = f.run(&["list", "--json"]).ok().json();
    assert_eq!(rows.as_array().expect("rows").len(), 2, "{rows}");
    let git: Vec<String> = f
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/git/"))
        .map(|r| r.authorization)
        .collect();
    assert!(git.len() >= 2, "ref advertisement and pack: {git:?}");
    assert!(
        git.iter().all(String::is_empty),
        "no credentials over http: {git:?}"
    );
    let mirror = tollgate::git::Repo::open("m", &f.home.path().join("mirror.git")).expect("mirror");
    assert_eq!(mirror.resolve("refs/pull/1/head").expect("ref"), f.bump);
    let diff = f.run(&["diff", "shop-gh#1"]).ok().stdout;
    assert!(diff.contains("api:1.1"), "{diff}");
}

#[test]
fn a_label_filter_a_draft_and_a_squash_merge() {
    let mut f = fixture();
    // #3: a draft, labelled; #4: not labelled.
    let draft = f.origin.branch(
        "promote/draft",
        &[("envs/staging/api.yaml", &deployment("1.0", 5))],
        "Bob",
        "Scale staging to 5",
    );
    let mut pull3 = pull(3, "Scale staging to 5", "bob", "promote/draft");
    pull3.draft = true;
    f.server.open_pull(SLUG, pull3, draft);
    let mut pull4 = pull(4, "Unlabelled", "bob", "promote/draft");
    pull4.labels.clear();
    f.server.open_pull(SLUG, pull4, draft);
    let text = std::fs::read_to_string(&f.config).expect("config");
    std::fs::write(
        &f.config,
        text.replace("api_url:", "label: promotion, api_url:"),
    )
    .expect("config");
    let rows = f.run(&["list", "--json"]).ok().json();
    let ids: Vec<&str> = rows
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        ["shop-gh#3", "shop-gh#2", "shop-gh#1"],
        "#4 has no label"
    );
    assert_eq!(rows[0]["draft"], true);

    f.server
        .review(SLUG, 3, "erin", "APPROVED", &draft.to_string());
    let out = f.run(&["merge", "shop-gh#3"]);
    assert_eq!(out.code, 3);
    assert!(out.stderr.contains("draft pull request"), "{}", out.stderr);
    assert!(f.requests("PUT", "/merge").is_empty());

    // A squash policy: one commit on main with the title and the trailers.
    let policy = format!("{POLICY}    merge_method: squash\n");
    f.origin.commit_files(
        &[(".tollgate/policy.yaml", &policy)],
        "Alice",
        "Squash production merges",
    );
    let rebased = f.origin.commit_on(
        f.origin.head,
        &[(
            "envs/production/api.yaml",
            Some(deployment("1.1", 2).as_bytes()),
        )],
        "Bob",
        "Promote api 1.1 to production",
    );
    f.server.push_to_pull(SLUG, 1, rebased);
    f.server
        .review(SLUG, 1, "erin", "APPROVED", &rebased.to_string());
    let merged = f.run(&["merge", "shop-gh#1", "--json"]).ok().json();
    assert_eq!(merged["method"], "squash");
    let put = f
        .requests("PUT", "/pulls/1/merge")
        .pop()
        .and_then(|r| r.body)
        .expect("body");
    assert_eq!(put["merge_method"], "squash");
    assert_eq!(put["commit_title"], "Promote api 1.1 to production");
    assert!(
        put["commit_message"]
            .as_str()
            .expect("message")
            .contains("Approved-by: erin <erin@users.noreply.github.com>"),
        "{put}"
    );
}

#[test]
fn over_https_the_api_and_the_mirror_fetch_use_the_token() {
    let mut f = fixture();
    // The same repositories, served over TLS with a certificate the client is told to trust.
    let cert = f.home.path().join("github-cert.pem");
    let server = FakeGitHub::start_tls(&cert);
    server.repo(SLUG, &f.origin.path, "main");
    server.token(TOKEN, "dana-ops");
    server.open_pull(
        SLUG,
        pull(1, "Promote api 1.1 to production", "bob", "promote/api-1.1"),
        f.bump,
    );
    server.git_over_http();
    assert!(server.url().starts_with("https://"));
    let text = std::fs::read_to_string(&f.config).expect("config");
    std::fs::write(&f.config, text.replace(&f.server.url(), &server.url())).expect("config");
    f.server = server;

    let out = run(f
        .command(Some(TOKEN))
        .env("SSL_CERT_FILE", &cert)
        .args(["list", "--json"]))
    .ok();
    assert_no_token(&out, f.home.path());
    assert_eq!(out.json()[0]["id"], "shop-gh#1");
    let git: Vec<(u16, String)> = f
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/git/"))
        .map(|r| (r.status, r.authorization))
        .collect();
    use base64::Engine;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{TOKEN}"))
    );
    assert_eq!(git[0].0, 401, "challenged first: {git:?}");
    assert!(
        git[1..]
            .iter()
            .all(|(status, auth)| *status == 200 && *auth == basic),
        "then the token as the password: {git:?}"
    );
    let mirror = tollgate::git::Repo::open("m", &f.home.path().join("mirror.git")).expect("mirror");
    assert_eq!(mirror.resolve("refs/pull/1/head").expect("ref"), f.bump);

    // Without trusting the certificate, the error says so.
    let out = run(f.command(Some(TOKEN)).args(["list"]));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.to_lowercase().contains("certificate"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_pull_request_merged_on_github_is_what_reconcile_deploys() {
    let f = fixture();
    let api = crate::kube_api::FakeApi::start();
    let kubeconfig = api.kubeconfig(f.home.path());
    f.server
        .review(SLUG, 1, "erin", "APPROVED", &f.bump.to_string());
    f.run(&["merge", "shop-gh#1"]).ok();
    let out = run(f
        .command(Some(TOKEN))
        .arg("reconcile")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args([
            "--repo",
            "shop-gh",
            "--env",
            "production",
            "--once",
            "--json",
        ])
        .args(["--timeout", "5s", "--request-timeout", "2s"]))
    .ok();
    assert_no_token(&out, f.home.path());
    let report = out.json();
    assert_eq!(report["result"], "applied", "{report:#}");
    let deployment = api
        .object("/apis/apps/v1/namespaces/shop/deployments/api")
        .expect("the Deployment was applied");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"], "ghcr.io/acme/api:1.1",
        "the merged pull request's image"
    );
}

#[test]
fn a_tui_poll_notices_a_push_to_a_pull_request_and_costs_no_quota_otherwise() {
    use tollgate::forge::github::{Api, GitHubRepo, RetryPolicy};
    let mut f = fixture();
    let config = tollgate::config::Config::load(&f.config).expect("config");
    let repo_config = &config.repos[0];
    let github = repo_config.github.clone().expect("a GitHub repo");
    let api = {
        let _entered = tollgate::forge::github::runtime().enter();
        Api::new(
            &github.api_url,
            TOKEN.to_string().into(),
            RetryPolicy::default(),
        )
        .expect("client")
    };
    let repo = GitHubRepo::with_api(&github, std::sync::Arc::new(api));
    let poll =
        || tollgate::workspace::OpenRepo::pulls_fingerprint(repo_config, &repo).expect("poll");
    let (first, second) = (poll(), poll());
    assert_eq!(first, second, "nothing changed");
    let lists = f.requests("GET", "/pulls");
    assert_eq!(
        lists.last().map(|r| r.status),
        Some(304),
        "answered from the ETag cache"
    );
    // A push to #1: the next poll differs.
    let pushed = f.origin.commit_on(
        Some(f.bump),
        &[(
            "envs/production/api.yaml",
            Some(deployment("9.9", 2).as_bytes()),
        )],
        "Bob",
        "More",
    );
    f.server.push_to_pull(SLUG, 1, pushed);
    let third = poll();
    assert_ne!(third, second);
    assert!(third.contains(&pushed.to_string()), "{third}");
}
