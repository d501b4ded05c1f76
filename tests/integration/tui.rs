//! The TUI without a terminal: key sequences fed to the app state, and snapshots of every
//! view drawn into ratatui's `TestBackend` on the demo workspace.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::Color;
use tempfile::TempDir;
use tollgate::config::Config;
use tollgate::history::HistoryMode;
use tollgate::tui::app::{App, HistoryProgress, Loading, Pane, RepoLine, Screen, SortKey, Tab};
use tollgate::tui::theme::Theme;
use tollgate::tui::view;
use tollgate::tui::work::{self, Command};

use crate::common::{kustomize_available, refs_at, settle};
use crate::demo::demo;

/// 2026-11-26T09:00:00Z: a fixed "now" so ages in snapshots do not move.
const NOW: i64 = 1_795_683_600;
const IDENTITY: &str = "Dana Ops <dana@example.com>";

struct Fixture {
    _home: TempDir,
    config: Config,
    app: App,
}

fn fixture_with(config: Config, width: u16, height: u16) -> (App, Vec<Command>) {
    let repos: Vec<String> = config.repos.iter().map(|r| r.name.clone()).collect();
    App::new(IDENTITY.into(), &repos, NOW, Rect::new(0, 0, width, height))
}

/// The TUI on the config at `config_path` (in `home`), every repo's promotions loaded.
fn loaded_from(home: TempDir, config_path: &std::path::Path, width: u16, height: u16) -> Fixture {
    let config = Config::load(config_path).expect("config");
    let (mut app, commands) = fixture_with(config.clone(), width, height);
    settle(&config, &mut app, commands);
    Fixture {
        _home: home,
        config,
        app,
    }
}

/// The demo, loaded: every repo's promotions are in.
fn loaded(width: u16, height: u16) -> Fixture {
    let (home, config_path) = demo();
    let config = Config::load(&config_path).expect("demo config");
    let (mut app, commands) = fixture_with(config.clone(), width, height);
    settle(&config, &mut app, commands);
    Fixture {
        _home: home,
        config,
        app,
    }
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// Press keys written as text: one char per key, `⏎` Enter, `⎋` Esc, `⇥` Tab.
fn press(f: &mut Fixture, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '⏎' => KeyCode::Enter,
            '⎋' => KeyCode::Esc,
            '⇥' => KeyCode::Tab,
            c => KeyCode::Char(c),
        };
        let commands = f.app.handle_key(key(code));
        settle(&f.config, &mut f.app, commands);
    }
}

fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| view::draw(frame, app, Theme { color: true }))
        .expect("draw");
    terminal
}

fn screen(app: &App, width: u16, height: u16) -> String {
    draw(app, width, height).backend().to_string()
}

fn selected_id(app: &App) -> String {
    match app.inbox_lines().get(app.inbox.cursor.selected) {
        Some(RepoLine::Item(row)) => row.id.clone(),
        other => panic!("no promotion selected: {other:?}"),
    }
}

macro_rules! needs_kustomize {
    ($name:expr) => {
        if !kustomize_available($name) {
            return;
        }
    };
}

#[test]
fn inbox_snapshots() {
    needs_kustomize!("inbox_snapshots");
    let f = loaded(80, 24);
    insta::assert_snapshot!("inbox_80x24", screen(&f.app, 80, 24));
    let mut wide = loaded(160, 48);
    wide.app.resize(Rect::new(0, 0, 160, 48));
    insta::assert_snapshot!("inbox_160x48", screen(&wide.app, 160, 48));
}

#[test]
fn inbox_while_loading_and_with_a_broken_repo() {
    let (home, config_path) = demo();
    let mut text = std::fs::read_to_string(&config_path).expect("config");
    text.push_str("  - name: broken\n    path: /nonexistent/env.git\n");
    std::fs::write(&config_path, text).expect("write config");
    let config = Config::load(&config_path).expect("config");
    let (mut app, commands) = fixture_with(config.clone(), 80, 24);
    insta::assert_snapshot!("inbox_loading_80x24", screen(&app, 80, 24));
    // Only the shop repo and the broken one answer: platform stays loading.
    for command in commands {
        if !matches!(&command, Command::LoadRepo { repo, .. } if repo == "platform") {
            for outcome in work::execute_all(&config, command) {
                let next = app.apply(outcome);
                assert!(next.is_empty(), "loading a repo leads to nothing more");
            }
        }
    }
    let shown = screen(&app, 80, 24);
    assert!(shown.contains("✗ broken"), "{shown}");
    assert!(shown.contains("loading promotions"), "{shown}");
    assert!(shown.contains("shop:promote/api-1.5.0-produ"), "{shown}");
    insta::assert_snapshot!("inbox_error_row_80x24", shown);
    drop(home);
}

#[test]
fn promotion_views() {
    needs_kustomize!("promotion_views");
    let mut f = loaded(80, 24);
    press(&mut f, "/api-1.5⏎⏎");
    assert_eq!(f.app.screen, Screen::Review);
    insta::assert_snapshot!("promotion_diff_80x24", screen(&f.app, 80, 24));
    press(&mut f, "l");
    insta::assert_snapshot!("promotion_commits_80x24", screen(&f.app, 80, 24));
    press(&mut f, "l");
    insta::assert_snapshot!("promotion_description_80x24", screen(&f.app, 80, 24));
    press(&mut f, "?");
    insta::assert_snapshot!("help_80x24", screen(&f.app, 80, 24));

    let mut wide = loaded(160, 48);
    press(&mut wide, "/payments⏎⏎");
    insta::assert_snapshot!("promotion_added_removed_160x48", screen(&wide.app, 160, 48));
}

#[test]
fn secret_diff_is_masked() {
    needs_kustomize!("secret_diff_is_masked");
    let mut f = loaded(160, 48);
    press(&mut f, "/rotate⏎⏎");
    let shown = screen(&f.app, 160, 48);
    for value in tollgate::demo::DEMO_SECRET_VALUES {
        assert!(!shown.contains(value), "{value} on screen:\n{shown}");
    }
    assert!(shown.contains("DB_PASSWORD: sha256:"), "{shown}");
    insta::assert_snapshot!("secret_diff_160x48", shown);
}

#[test]
fn added_and_removed_lines_are_green_and_red() {
    needs_kustomize!("added_and_removed_lines_are_green_and_red");
    let mut f = loaded(160, 48);
    press(&mut f, "/api-1.5⏎⏎");
    let terminal = draw(&f.app, 160, 48);
    let buffer = terminal.backend().buffer();
    let area =
        tollgate::tui::layout::Areas::of(Rect::new(0, 0, 160, 48), Screen::Review, false).detail;
    let mut seen = (false, false);
    for y in area.top()..area.bottom() {
        let cell = &buffer[(area.x + 1, y)];
        match cell.symbol() {
            "+" => {
                assert_eq!(cell.fg, Color::Green, "added line at row {y}");
                seen.0 = true;
            }
            "-" => {
                assert_eq!(cell.fg, Color::Red, "removed line at row {y}");
                seen.1 = true;
            }
            _ => {}
        }
    }
    assert_eq!(
        seen,
        (true, true),
        "the diff has an added and a removed line"
    );
}

#[test]
fn keys_move_select_filter_and_sort() {
    needs_kustomize!("keys_move_select_filter_and_sort");
    let mut f = loaded(80, 24);
    let count = f.app.inbox_lines().len();
    assert_eq!(count, 5);
    press(&mut f, "jjk");
    assert_eq!(f.app.inbox.cursor.selected, 1);
    press(&mut f, "G");
    assert_eq!(f.app.inbox.cursor.selected, count - 1);
    press(&mut f, "g");
    assert_eq!(f.app.inbox.cursor.selected, 0);
    let commands = f
        .app
        .handle_key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL));
    assert!(commands.is_empty());
    assert_eq!(
        f.app.inbox.cursor.selected,
        count - 1,
        "half a page reaches the end of a short list"
    );

    press(&mut f, "/ROTATE");
    assert!(f.app.inbox.filtering);
    assert_eq!(
        f.app.inbox_lines().len(),
        1,
        "filtering is case-insensitive and live"
    );
    press(&mut f, "⏎");
    assert!(!f.app.inbox.filtering);
    assert_eq!(selected_id(&f.app), "shop:promote/rotate-api-credentials");
    press(&mut f, "/⎋");
    assert_eq!(f.app.inbox_lines().len(), 5, "esc clears the filter");

    press(&mut f, "s");
    assert_eq!(f.app.inbox.sort, SortKey::Repo);
    assert_eq!(selected_id(&f.app), "platform:promote/payments-service");
    press(&mut f, "ss");
    assert_eq!(f.app.inbox.sort, SortKey::Age);
}

#[test]
fn keys_in_a_promotion() {
    needs_kustomize!("keys_in_a_promotion");
    let mut f = loaded(80, 14);
    press(&mut f, "/checkout⏎⏎");
    let p = f.app.review.as_ref().expect("open");
    assert_eq!(p.header.id, "shop:promote/checkout-tuning-staging");
    let Loading::Ready(detail) = &p.detail else {
        panic!("loaded")
    };
    assert_eq!(detail.objects.len(), 3);
    assert_eq!(detail.commits.len(), 2);
    press(&mut f, "]]");
    assert_eq!(f.app.review.as_ref().expect("open").cursor.selected, 2);
    press(&mut f, "]");
    assert_eq!(
        f.app.review.as_ref().expect("open").cursor.selected,
        2,
        "stays on the last object"
    );
    press(&mut f, "[⇥jj");
    let p = f.app.review.as_ref().expect("open");
    assert_eq!((p.cursor.selected, p.focus, p.scroll), (1, Pane::Diff, 2));
    press(&mut f, "h");
    assert_eq!(f.app.review.as_ref().expect("open").tab, Tab::Verdict);
    press(&mut f, "⎋");
    assert_eq!(f.app.screen, Screen::Inbox);
    assert!(f.app.review.is_none());
    press(&mut f, "q");
    assert!(f.app.quit);
}

#[test]
fn a_result_for_a_promotion_the_user_left_is_dropped() {
    needs_kustomize!("a_result_for_a_promotion_the_user_left_is_dropped");
    let mut f = loaded(80, 24);
    // Open one promotion without running its work, leave, open another.
    let first = f.app.handle_key(key(KeyCode::Enter));
    f.app.handle_key(key(KeyCode::Esc));
    f.app.handle_key(key(KeyCode::Char('j')));
    let second = f.app.handle_key(key(KeyCode::Enter));
    let second_id = f.app.review.as_ref().expect("open").header.id.clone();
    settle(&f.config, &mut f.app, first);
    assert!(
        matches!(
            f.app.review.as_ref().expect("open").detail,
            Loading::Loading
        ),
        "the first promotion's diff does not land in the second's view"
    );
    settle(&f.config, &mut f.app, second);
    let p = f.app.review.as_ref().expect("open");
    assert_eq!(p.header.id, second_id);
    assert!(matches!(p.detail, Loading::Ready(_)));
}

#[test]
fn help_opens_and_closes_and_blocks_other_keys() {
    needs_kustomize!("help_opens_and_closes_and_blocks_other_keys");
    let mut f = loaded(80, 24);
    press(&mut f, "?j");
    assert!(f.app.help);
    assert_eq!(
        f.app.inbox.cursor.selected, 0,
        "keys under the help do nothing"
    );
    press(&mut f, "⎋");
    assert!(!f.app.help);
    press(&mut f, "?q");
    assert!(!f.app.help && !f.app.quit, "q closes the help first");

    // A review's help is taller than 24 lines: it scrolls to its last key.
    press(&mut f, "⏎?");
    let top = screen(&f.app, 80, 24);
    assert!(top.contains("↓ more"), "{top}");
    press(&mut f, &"j".repeat(40));
    let bottom = screen(&f.app, 80, 24);
    assert!(
        bottom.contains("↑ more") && bottom.contains("ctrl-c"),
        "{bottom}"
    );
}

#[test]
fn tiny_and_resized_terminals_do_not_panic() {
    needs_kustomize!("tiny_and_resized_terminals_do_not_panic");
    let mut f = loaded(20, 5);
    for (w, h) in [(20, 5), (1, 1), (80, 24), (200, 60), (30, 8)] {
        f.app.resize(Rect::new(0, 0, w, h));
        screen(&f.app, w, h);
        press(&mut f, "jG⏎]⇥jl?⎋⎋");
        screen(&f.app, w, h);
        press(&mut f, "⎋");
    }
}

#[test]
fn environments_history_and_a_commit() {
    needs_kustomize!("environments_history_and_a_commit");
    let mut f = loaded(100, 30);
    press(&mut f, "2");
    assert_eq!(f.app.screen, Screen::Environments);
    let envs: Vec<String> = f
        .app
        .environment_lines()
        .iter()
        .map(|l| match l {
            RepoLine::Item(e) => format!("{}/{}", e.repo, e.name),
            other => panic!("loaded: {other:?}"),
        })
        .collect();
    assert_eq!(
        envs,
        [
            "shop/staging",
            "shop/production",
            "platform/production",
            "platform/staging"
        ]
    );
    insta::assert_snapshot!("environments_100x30", screen(&f.app, 100, 30));

    press(&mut f, "j⏎");
    let h = f.app.history.as_ref().expect("history open");
    assert_eq!(
        (h.repo.as_str(), h.env.as_str(), h.mode),
        ("shop", "production", HistoryMode::Inputs)
    );
    assert_eq!(h.progress, HistoryProgress::Done);
    assert!(h.rows.len() >= 10, "{}", h.rows.len());
    assert_eq!(h.rows[0].approvers, ["Alice Admin", "Carol SRE"]);
    insta::assert_snapshot!("history_100x30", screen(&f.app, 100, 30));

    press(&mut f, "⏎");
    assert_eq!(f.app.screen, Screen::Review);
    let r = f.app.review.as_ref().expect("commit open");
    let Loading::Ready(detail) = &r.detail else {
        panic!("loaded: {:?}", r.detail)
    };
    assert_eq!(detail.objects.len(), 1);
    assert_eq!(detail.objects[0].key.kind, "HorizontalPodAutoscaler");
    assert!(
        detail
            .description
            .contains("Approved-by: Alice Admin <alice@example.com>")
    );
    insta::assert_snapshot!("commit_review_100x30", screen(&f.app, 100, 30));

    press(&mut f, "⎋");
    assert_eq!(
        f.app.screen,
        Screen::History,
        "esc returns to where the review was opened"
    );
    press(&mut f, "p");
    assert_eq!(
        f.app.history.as_ref().expect("history").mode,
        HistoryMode::Rendered
    );
    let rendered = f.app.history.as_ref().expect("history").rows.len();
    press(&mut f, "p");
    assert_eq!(
        f.app.history.as_ref().expect("history").mode,
        HistoryMode::PathOnly
    );
    assert!(rendered >= 10);
    press(&mut f, "⎋");
    assert_eq!(f.app.screen, Screen::Environments);
    press(&mut f, "1");
    assert_eq!(f.app.screen, Screen::Inbox);
}

#[test]
fn a_base_change_shows_in_the_rendered_history_of_a_kustomize_overlay() {
    needs_kustomize!("a_base_change_shows_in_the_rendered_history_of_a_kustomize_overlay");
    let mut f = loaded(120, 30);
    press(&mut f, "2jj⏎p");
    let h = f.app.history.as_ref().expect("history open");
    assert_eq!(
        (h.repo.as_str(), h.env.as_str()),
        ("platform", "production")
    );
    let subjects: Vec<&str> = h.rows.iter().map(|r| r.subject.as_str()).collect();
    assert!(
        subjects.contains(&"Double the gateway rate limit"),
        "{subjects:?}"
    );
    assert!(
        !subjects.contains(&"Document escalation in production notes"),
        "{subjects:?}"
    );
}

#[test]
fn raw_file_diff_and_side_by_side() {
    needs_kustomize!("raw_file_diff_and_side_by_side");
    let mut f = loaded(160, 48);
    press(&mut f, "/rotate⏎⏎r");
    let r = f.app.review.as_ref().expect("open");
    assert!(r.raw);
    let Loading::Ready(detail) = &r.detail else {
        panic!("loaded")
    };
    let paths: Vec<&str> = detail.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["envs/production/secret.yaml"]);
    let shown = screen(&f.app, 160, 48);
    for value in tollgate::demo::DEMO_SECRET_VALUES {
        assert!(!shown.contains(value), "{value} on screen:\n{shown}");
    }
    insta::assert_snapshot!("raw_secret_160x48", shown);

    press(&mut f, "⎋/api-1.5⏎⏎s");
    let r = f.app.review.as_ref().expect("open");
    assert!(r.side_by_side && !r.raw);
    let shown = screen(&f.app, 160, 48);
    assert!(
        shown.contains("-          image: ghcr.io/acme/api:1.4.2"),
        "{shown}"
    );
    assert!(
        shown.contains("│+          image: ghcr.io/acme/api:1.5.0"),
        "{shown}"
    );
    insta::assert_snapshot!("side_by_side_160x48", shown);
    // Too narrow for two columns: unified, whatever was asked for.
    f.app.resize(Rect::new(0, 0, 80, 24));
    assert!(screen(&f.app, 80, 24).contains("+          image: ghcr.io/acme/api:1.5.0"));
}

#[test]
fn approve_and_merge_through_the_confirmation() {
    needs_kustomize!("approve_and_merge_through_the_confirmation");
    let mut f = loaded(100, 30);
    let row = |app: &App, id: &str| -> (String, bool) {
        app.inbox_lines()
            .iter()
            .find_map(|l| match l {
                RepoLine::Item(r) if r.id == id => Some((r.approvals.clone(), r.can_merge)),
                _ => None,
            })
            .expect("the promotion is listed")
    };
    let id = "shop:promote/api-1.5.0-production";
    assert_eq!(row(&f.app, id), ("0/2".to_string(), false));

    press(&mut f, "/api-1.5⏎⏎m");
    let dialog = f.app.dialog.as_ref().expect("the merge asks first");
    assert!(!dialog.allowed(), "two approvals are missing");
    let shown = screen(&f.app, 100, 30);
    assert!(
        shown.contains("refused because") && shown.contains("production needs 2"),
        "{shown}"
    );
    let status = shown.lines().last().unwrap_or_default();
    assert!(
        !status.contains("y yes") && status.contains("esc close"),
        "a refused dialog offers no y: {status}"
    );
    press(&mut f, "y");
    assert!(
        f.app.dialog.as_ref().expect("still open").outcome.is_none(),
        "a refused action cannot be confirmed"
    );
    press(&mut f, "⎋a");
    let dialog = f.app.dialog.as_ref().expect("approve asks first");
    assert!(dialog.allowed());
    insta::assert_snapshot!("approve_dialog_100x30", screen(&f.app, 100, 30));
    let head = dialog.head.clone();
    press(&mut f, "y");
    assert_eq!(
        f.app.message.as_deref(),
        Some(
            format!(
                "approved shop:promote/api-1.5.0-production at {}",
                &head[..10]
            )
            .as_str()
        )
    );
    press(&mut f, "⏎");
    assert!(f.app.dialog.is_none());
    // The review's Verdict tab is read again: it counts the new approval.
    match f.app.review.as_ref().and_then(|r| r.verdict.as_ref()) {
        Some(Loading::Ready(verdict)) => assert_eq!(
            verdict
                .environments
                .iter()
                .map(|e| (e.valid, e.required))
                .collect::<Vec<_>>(),
            [(1, 2)]
        ),
        other => panic!("the verdict is reloaded: {other:?}"),
    }
    assert_eq!(
        row(&f.app, id),
        ("1/2".to_string(), false),
        "the inbox reloads with the new count"
    );

    // Dana wrote the web promotion: the verdict refuses her approval.
    press(&mut f, "⎋/web-2.3⏎⏎a");
    let dialog = f.app.dialog.as_ref().expect("asks");
    assert!(!dialog.allowed());
    assert!(screen(&f.app, 100, 30).contains("wrote part of this promotion"));
}

#[test]
fn every_view_at_both_sizes() {
    needs_kustomize!("every_view_at_both_sizes");
    for (width, height) in [(80, 24), (160, 48)] {
        let mut f = loaded(width, height);
        let mut shots: Vec<(&str, String)> = vec![("inbox", screen(&f.app, width, height))];
        press(&mut f, "/api-1.5⏎⏎");
        shots.push(("promotion_diff", screen(&f.app, width, height)));
        press(&mut f, "l");
        shots.push(("promotion_commits", screen(&f.app, width, height)));
        press(&mut f, "l");
        shots.push(("promotion_description", screen(&f.app, width, height)));
        press(&mut f, "l");
        shots.push(("promotion_verdict", screen(&f.app, width, height)));
        press(&mut f, "⎋2");
        shots.push(("environments", screen(&f.app, width, height)));
        press(&mut f, "j⏎");
        shots.push(("history", screen(&f.app, width, height)));
        press(&mut f, "⏎");
        shots.push(("commit", screen(&f.app, width, height)));
        press(&mut f, "?");
        shots.push(("help", screen(&f.app, width, height)));
        for (name, shot) in shots {
            insta::assert_snapshot!(format!("view_{name}_{width}x{height}"), shot);
        }
    }
}

#[test]
fn merge_from_the_confirmation_returns_to_the_inbox() {
    needs_kustomize!("merge_from_the_confirmation_returns_to_the_inbox");
    let (home, config_path) = demo();
    // Alice approves from the command line; Dana (the demo identity) in the TUI.
    crate::common::run(
        crate::common::tollgate(home.path())
            .env("TOLLGATE_IDENTITY", "Alice Admin <alice@example.com>")
            .arg("--config")
            .arg(&config_path)
            .args(["approve", "shop:promote/api-1.5.0-production"]),
    )
    .ok();
    let config = Config::load(&config_path).expect("config");
    let (mut app, commands) = fixture_with(config.clone(), 100, 30);
    settle(&config, &mut app, commands);
    let mut f = Fixture {
        _home: home,
        config,
        app,
    };
    press(&mut f, "/api-1.5⏎⏎ay⏎m");
    assert!(
        f.app.dialog.as_ref().expect("merge asks").allowed(),
        "two approvals now"
    );
    press(&mut f, "y");
    let message = f.app.message.clone().unwrap_or_default();
    assert!(
        message.starts_with("merged shop:promote/api-1.5.0-production into main"),
        "{message}"
    );
    press(&mut f, "⏎");
    assert_eq!(
        f.app.screen,
        Screen::Inbox,
        "the merged promotion's review closes"
    );
    assert!(
        !f.app
            .inbox_lines()
            .iter()
            .any(|l| matches!(l, RepoLine::Item(r) if r.id == "shop:promote/api-1.5.0-production")),
        "and it is no longer pending"
    );
}

#[test]
fn a_history_walk_nobody_waits_for_stops() {
    let (home, config_path) = demo();
    let config = Config::load(&config_path).expect("config");
    let command = Command::LoadHistory {
        request: 7,
        repo: "shop".into(),
        env: "production".into(),
        mode: HistoryMode::Inputs,
        first_parent: false,
    };
    let count = |wanted: &dyn Fn(u64) -> bool| {
        let mut rows = 0;
        work::execute(&config, command.clone(), wanted, &mut |outcome| {
            if let work::Outcome::History { rows: page, .. } = outcome {
                rows += page.len();
            }
        });
        rows
    };
    assert!(
        count(&|request| request == 7) >= 10,
        "a wanted walk goes to the end"
    );
    assert_eq!(
        count(&|_| false),
        1,
        "a walk the user left stops at its next commit"
    );
    drop(home);
}

#[test]
fn a_local_repo_shows_its_branches_before_their_diffs() {
    needs_kustomize!("a_local_repo_shows_its_branches_before_their_diffs");
    let (home, config_path) = demo();
    let config = Config::load(&config_path).expect("config");
    let command = Command::LoadRepo {
        request: 3,
        repo: "shop".into(),
    };
    let mut answers = Vec::new();
    work::execute(&config, command, &|_| true, &mut |outcome| {
        if let work::Outcome::Repo { result, .. } = outcome {
            answers.push(result.expect("rows"));
        }
    });
    let [listed, complete] = answers.as_slice() else {
        panic!("two answers, the listing then the rows: {answers:?}");
    };
    let ids = |rows: &[work::PromotionRow]| rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(listed),
        ids(complete),
        "the same promotions, in the same order"
    );
    assert!(!listed.is_empty());
    for (first, last) in listed.iter().zip(complete) {
        assert_eq!(
            (&first.title, &first.author, first.created),
            (&last.title, &last.author, last.created)
        );
        assert_eq!(first.summary, "computing…");
        assert_ne!(last.summary, "computing…");
    }
    drop(home);
}

/// Every ref of a demo repo: "nothing was written" means these did not change.
fn refs_of(config: &Config, repo: &str) -> Vec<(String, gix::ObjectId)> {
    refs_at(&config.repo(repo).expect("configured").path)
}

/// Open `repo/env`'s history and put the cursor on the commit whose subject is `subject`.
fn history_at(f: &mut Fixture, env_line: &str, subject: &str) {
    press(f, "2");
    press(f, env_line);
    let h = f.app.history.as_ref().expect("history open");
    let index = h
        .rows
        .iter()
        .position(|r| r.subject == subject)
        .unwrap_or_else(|| panic!("{subject:?} in the history"));
    press(f, &"j".repeat(index));
}

#[test]
fn revert_from_the_history_previews_then_opens_the_promotion() {
    needs_kustomize!("revert_from_the_history_previews_then_opens_the_promotion");
    let mut f = loaded(100, 30);
    history_at(&mut f, "j⏎", "Merge promotion shop:promote/api-1.4.2");
    let before = refs_of(&f.config, "shop");
    press(&mut f, "v");
    let dialog = f.app.undo.as_ref().expect("the dialog is open");
    let Loading::Ready(preview) = &dialog.preview else {
        panic!("previewed: {:?}", dialog.preview)
    };
    assert_eq!(preview.environments, ["staging", "production"]);
    assert_eq!(preview.objects.len(), 2);
    insta::assert_snapshot!("undo_revert_100x30", screen(&f.app, 100, 30));

    // Enter without a reason writes nothing; letters type, even `q` and `R`.
    press(&mut f, "⏎");
    assert!(f.app.undo.is_some());
    assert!(
        f.app
            .message
            .as_deref()
            .is_some_and(|m| m.contains("reason"))
    );
    press(&mut f, "quick Rollback, y");
    assert_eq!(
        f.app.undo.as_ref().expect("open").reason,
        "quick Rollback, y"
    );
    assert!(!f.app.quit);
    assert_eq!(refs_of(&f.config, "shop"), before, "nothing written yet");

    // Enter ends the reason and writes nothing; only `y` writes.
    press(&mut f, "⏎");
    assert!(f.app.undo.as_ref().is_some_and(|u| u.reason_done));
    assert_eq!(refs_of(&f.config, "shop"), before, "enter never writes");
    insta::assert_snapshot!("undo_revert_ready_100x30", screen(&f.app, 100, 30));
    // The preview scrolls to its end and no further.
    press(&mut f, &"j".repeat(200));
    let dialog = f.app.undo.as_ref().expect("open");
    assert_eq!(dialog.scroll, dialog.last_line());
    assert!(dialog.last_line() > 0 && dialog.last_line() < 200);
    press(&mut f, &"k".repeat(200));
    press(&mut f, "y");
    assert!(f.app.undo.is_none(), "the dialog closes once written");
    assert_eq!(f.app.screen, Screen::Review, "the new promotion opens");
    let review = f.app.review.as_ref().expect("review");
    assert!(
        review.header.id.starts_with("shop:promote/revert-"),
        "{}",
        review.header.id
    );
    assert_eq!(review.header.approvals, "0/1", "rollback_approvals apply");
    assert_eq!(
        review.header.title, "Revert \"api 1.4.2 to staging and production\"",
        "named after the promotion it undoes, not its merge commit"
    );
    let Loading::Ready(detail) = &review.detail else {
        panic!("loaded: {:?}", review.detail)
    };
    assert!(
        detail.description.contains("Reason: quick Rollback, y"),
        "{}",
        detail.description
    );
    assert_eq!(detail.objects.len(), 2);
    let after = refs_of(&f.config, "shop");
    let added: Vec<&(String, gix::ObjectId)> =
        after.iter().filter(|r| !before.contains(r)).collect();
    assert_eq!(added.len(), 1, "only the promotion branch: {added:?}");
    assert!(added[0].0.starts_with("refs/heads/promote/revert-"));

    // Esc goes back to the history it was made from; the inbox has it too.
    press(&mut f, "⎋");
    assert_eq!(f.app.screen, Screen::History);
    press(&mut f, "1");
    assert_eq!(f.app.screen, Screen::Inbox);
    assert!(
        f.app
            .inbox_lines()
            .iter()
            .any(|l| matches!(l, RepoLine::Item(row) if row.id == review_id(&after)))
    );
}

fn review_id(refs: &[(String, gix::ObjectId)]) -> String {
    let name = refs
        .iter()
        .find_map(|(name, _)| name.strip_prefix("refs/heads/promote/revert-"))
        .expect("a revert branch");
    format!("shop:promote/revert-{name}")
}

#[test]
fn a_rollback_asks_before_setting_a_shared_base_back_and_esc_writes_nothing() {
    needs_kustomize!("a_rollback_asks_before_setting_a_shared_base_back_and_esc_writes_nothing");
    let mut f = loaded(100, 30);
    history_at(
        &mut f,
        "jjj⏎",
        "Bootstrap platform gateway with kustomize overlays",
    );
    let before = refs_of(&f.config, "platform");
    press(&mut f, "T");
    let dialog = f.app.undo.as_ref().expect("the dialog is open");
    let Loading::Failed(error) = &dialog.preview else {
        panic!("refused: {:?}", dialog.preview)
    };
    assert!(
        error.contains("base/gateway.properties") && error.contains("--include-shared"),
        "{error}"
    );
    insta::assert_snapshot!("undo_rollback_refused_100x30", screen(&f.app, 100, 30));

    press(&mut f, "⇥");
    let dialog = f.app.undo.as_ref().expect("the dialog is open");
    let Loading::Ready(preview) = &dialog.preview else {
        panic!("previewed: {:?}", dialog.preview)
    };
    assert_eq!(preview.shared, ["base/gateway.properties"]);
    assert_eq!(preview.environments, ["production", "staging"]);
    press(&mut f, "⎋");
    assert!(f.app.undo.is_none());
    assert_eq!(f.app.screen, Screen::History);
    assert_eq!(refs_of(&f.config, "platform"), before, "nothing written");
}

#[test]
fn revert_and_rollback_apply_only_to_commits() {
    needs_kustomize!("revert_and_rollback_apply_only_to_commits");
    let mut f = loaded(100, 30);
    press(&mut f, "⏎v");
    assert!(f.app.undo.is_none(), "a promotion is not reverted");
    assert!(
        f.app
            .message
            .as_deref()
            .is_some_and(|m| m.contains("environment's history")),
        "{:?}",
        f.app.message
    );
}

/// A row for the inbox, `created` seconds after the epoch.
fn inbox_row(repo: &str, n: u64, created: i64) -> tollgate::tui::work::PromotionRow {
    tollgate::tui::work::PromotionRow {
        id: format!("{repo}#{n}"),
        repo: repo.to_string(),
        branch: format!("promote/{n}"),
        title: format!("change {n}"),
        author: "bob".into(),
        created,
        environments: vec!["staging".into()],
        summary: String::new(),
        approvals: "0/1".into(),
        can_merge: false,
        url: None,
    }
}

#[test]
fn the_selection_stays_on_its_promotion_when_another_repo_loads_above_it() {
    use tollgate::tui::work::Outcome;
    let repos = vec!["slow".to_string(), "fast".to_string()];
    let (mut app, commands) = App::new(IDENTITY.into(), &repos, NOW, Rect::new(0, 0, 100, 30));
    let request = |name: &str| load_request(&commands, name);
    app.apply(Outcome::Repo {
        request: request("fast"),
        repo: "fast".into(),
        result: Ok(vec![
            inbox_row("fast", 1, NOW - 60),
            inbox_row("fast", 2, NOW - 120),
        ]),
    });
    app.handle_key(key(KeyCode::Char('j')));
    let selected = |app: &App| match app.inbox_lines().get(app.inbox.cursor.selected) {
        Some(RepoLine::Item(row)) => row.id.clone(),
        _ => String::new(),
    };
    assert_eq!(selected(&app), "fast#2");
    // Newer rows (sorted by age, above) arrive from the other repo.
    app.apply(Outcome::Repo {
        request: request("slow"),
        repo: "slow".into(),
        result: Ok(vec![
            inbox_row("slow", 7, NOW - 10),
            inbox_row("slow", 8, NOW - 20),
        ]),
    });
    assert_eq!(
        selected(&app),
        "fast#2",
        "the selection follows its promotion"
    );

    // At the top, the cursor stays at the top: nobody chose the row that loaded first.
    let (mut app, commands) = App::new(IDENTITY.into(), &repos, NOW, Rect::new(0, 0, 100, 30));
    for (repo, n, age) in [("fast", 1, 60), ("slow", 7, 10)] {
        app.apply(Outcome::Repo {
            request: load_request(&commands, repo),
            repo: repo.into(),
            result: Ok(vec![inbox_row(repo, n, NOW - age)]),
        });
    }
    assert_eq!(selected(&app), "slow#7");
}

/// The request id of the inbox load of `name` among `commands`.
fn load_request(commands: &[tollgate::tui::work::Command], name: &str) -> u64 {
    commands
        .iter()
        .find_map(|c| match c {
            tollgate::tui::work::Command::LoadRepo { request, repo } if repo == name => {
                Some(*request)
            }
            _ => None,
        })
        .expect("a load per repo")
}

/// A repository with one plain environment (`prod`, a Deployment at 2 replicas) and one
/// promotion, `promote/scale`, setting it to `replicas`; the TUI loaded on it. Also the
/// repository, to push to.
fn one_promotion(replicas: u32) -> (Fixture, crate::common::EnvRepoBuilder) {
    let home = TempDir::new().expect("temp dir");
    let mut repo = crate::common::EnvRepoBuilder::new(&home.path().join("env.git"));
    repo.commit_files(
        &[("envs/prod/api.yaml", &crate::common::deployment("1.0", 2))],
        "Alice",
        "start",
    );
    repo.branch(
        "promote/scale",
        &[(
            "envs/prod/api.yaml",
            &crate::common::deployment("1.0", replicas),
        )],
        "Bob",
        "Scale the api",
    );
    let config_path = repo.write_config(home.path(), "");
    (loaded_from(home, &config_path, 100, 30), repo)
}

/// Someone pushes onto the promotion: its head before and after.
fn push_to_scale(repo: &mut crate::common::EnvRepoBuilder) -> (gix::ObjectId, gix::ObjectId) {
    let fifty = crate::common::deployment("1.0", 50);
    repo.push_onto("promote/scale", &[("envs/prod/api.yaml", &fifty)], "Eve")
}

#[test]
fn the_approve_and_merge_dialogs_repeat_the_reviews_warnings() {
    let (mut f, _repo) = one_promotion(0);
    press(&mut f, "⏎");
    for action in ["a", "m"] {
        press(&mut f, action);
        let shown = screen(&f.app, 100, 30);
        assert!(
            shown.contains("warnings") && shown.contains("⚠ prod: ") && shown.contains("to 0"),
            "{shown}"
        );
        press(&mut f, "⎋");
    }
}

#[test]
fn approve_and_merge_act_on_the_head_the_review_showed_or_on_nothing() {
    let (mut f, mut repo) = one_promotion(5);
    press(&mut f, "⏎");
    // Someone pushes while the review is open.
    let (shown, pushed) = push_to_scale(&mut repo);
    let refs = crate::common::all_refs(&repo);
    for action in ["a", "m"] {
        press(&mut f, action);
        let screen_text = screen(&f.app, 100, 30);
        let allowed = f.app.dialog.as_ref().is_some_and(|d| d.allowed());
        // The approval is allowed (the merge waits for approvals; the library test
        // covers a merge pinned to a moved head).
        assert!(allowed || action == "m", "{screen_text}");
        if allowed {
            assert!(
                screen_text.contains(&format!("at {}?", &shown.to_string()[..10])),
                "the question names the head that was shown: {screen_text}"
            );
            press(&mut f, "y");
            let dialog = f.app.dialog.as_ref().expect("still open");
            match &dialog.outcome {
                Some(Loading::Failed(error)) => assert!(
                    error.contains("moved since you opened it")
                        && error.contains(&pushed.to_string()[..10]),
                    "{error}"
                ),
                other => panic!("{action}: acted on a head nobody reviewed: {other:?}"),
            }
        }
        press(&mut f, "⎋");
    }
    assert_eq!(crate::common::all_refs(&repo), refs, "nothing was written");
}

#[test]
fn no_writing_dialog_is_confirmed_by_enter_and_q_closes_a_dialog() {
    needs_kustomize!("no_writing_dialog_is_confirmed_by_enter_and_q_closes_a_dialog");
    let mut f = loaded(100, 30);
    let before = refs_of(&f.config, "shop");
    press(&mut f, "/api-1.5⏎⏎a");
    assert!(f.app.dialog.as_ref().is_some_and(|d| d.allowed()));
    press(&mut f, "⏎");
    assert!(f.app.dialog.is_none(), "enter closes the dialog");
    press(&mut f, "aq");
    assert!(f.app.dialog.is_none(), "q closes the dialog");
    assert!(!f.app.quit, "and not the app");
    assert_eq!(refs_of(&f.config, "shop"), before, "nothing was written");
    // R is reload on every screen, never a write: here it loads the promotion again.
    press(&mut f, "R");
    assert!(f.app.undo.is_none() && f.app.dialog.is_none());
    assert_eq!(f.app.screen, Screen::Review);
    assert!(matches!(
        f.app.review.as_ref().map(|r| &r.detail),
        Some(Loading::Ready(_))
    ));
    assert_eq!(refs_of(&f.config, "shop"), before, "nothing was written");
}

#[test]
fn typing_a_search_into_the_history_filters_it_and_acts_on_nothing() {
    needs_kustomize!("typing_a_search_into_the_history_filters_it_and_acts_on_nothing");
    let mut f = loaded(100, 30);
    history_at(&mut f, "j⏎", "Merge promotion shop:promote/api-1.4.2");
    let before = refs_of(&f.config, "shop");
    press(&mut f, "/Revert api⏎");
    assert!(f.app.undo.is_none(), "no dialog opened");
    let h = f.app.history.as_ref().expect("still in the history");
    assert!(!h.filtering, "enter keeps the filter");
    assert!(h.shown().is_empty(), "no subject reads `Revert api`");
    press(&mut f, "/reverts 12b⏎");
    let h = f.app.history.as_ref().expect("still in the history");
    let subjects: Vec<&str> = h.shown().iter().map(|r| r.subject.as_str()).collect();
    assert_eq!(
        subjects,
        ["Revert \"api 1.3.1 to production\""],
        "{subjects:?}"
    );
    insta::assert_snapshot!("history_filtered_100x30", screen(&f.app, 100, 30));
    // Enter opens the one row left; esc comes back to the filtered list, esc again
    // clears the filter, and a third leaves the history.
    press(&mut f, "⏎");
    assert_eq!(f.app.screen, Screen::Review);
    press(&mut f, "⎋");
    assert_eq!(f.app.screen, Screen::History);
    press(&mut f, "⎋");
    let h = f.app.history.as_ref().expect("still in the history");
    assert!(h.filter.is_empty() && h.shown().len() == h.rows.len());
    press(&mut f, "⎋");
    assert_eq!(f.app.screen, Screen::Environments);
    assert_eq!(refs_of(&f.config, "shop"), before, "nothing was written");
}

#[test]
fn status_messages_go_after_a_while_and_filters_take_ctrl_u() {
    let (config, _home) = {
        let (home, config_path) = demo();
        (Config::load(&config_path).expect("demo config"), home)
    };
    let (mut app, _) = fixture_with(config, 100, 30);
    app.message = Some("approved x".into());
    for _ in 0..10 {
        app.on_tick(NOW);
    }
    assert_eq!(app.message.as_deref(), Some("approved x"), "still readable");
    for _ in 0..60 {
        app.on_tick(NOW);
    }
    assert_eq!(app.message, None, "gone after some seconds");
    app.handle_key(key(KeyCode::Char('/')));
    for c in "api".chars() {
        app.handle_key(key(KeyCode::Char(c)));
    }
    assert_eq!(app.inbox.filter, "api");
    app.handle_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    assert_eq!(app.inbox.filter, "", "ctrl-u clears");
    app.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(app.quit, "ctrl-c quits, even while filtering");
}

/// Let time pass until the next poll, running what it asks for.
fn until_the_next_poll(f: &mut Fixture) {
    for _ in 0..80 {
        let commands = f.app.on_tick(NOW);
        settle(&f.config, &mut f.app, commands);
    }
}

#[test]
fn a_push_elsewhere_is_noticed_and_the_verdict_says_the_promotion_moved() {
    let (mut f, mut repo) = one_promotion(5);
    press(&mut f, "⏎");
    until_the_next_poll(&mut f);
    assert!(
        f.app.message.is_none(),
        "nothing changed: {:?}",
        f.app.message
    );
    let (_, pushed) = push_to_scale(&mut repo);
    until_the_next_poll(&mut f);
    assert!(
        f.app
            .message
            .as_deref()
            .is_some_and(|m| m.contains("changed elsewhere")),
        "{:?}",
        f.app.message
    );
    press(&mut f, "h");
    let shown_screen = screen(&f.app, 100, 30);
    assert!(
        shown_screen.contains("moved since you opened it")
            && shown_screen.contains(&pushed.to_string()[..10]),
        "{shown_screen}"
    );
}

#[test]
fn z_zooms_the_diff_over_the_whole_width() {
    needs_kustomize!("z_zooms_the_diff_over_the_whole_width");
    let mut f = loaded(80, 24);
    press(&mut f, "/api-1.5⏎⏎z");
    let zoomed = screen(&f.app, 80, 24);
    assert!(
        !zoomed.contains("objects ~1"),
        "the list is hidden:\n{zoomed}"
    );
    assert!(zoomed.contains("+ ghcr.io/acme/api:1.5.0"), "{zoomed}");
    insta::assert_snapshot!("promotion_zoomed_80x24", zoomed);
    press(&mut f, "z");
    assert!(screen(&f.app, 80, 24).contains("objects ~1"));
}

#[test]
fn slash_filters_the_environments_and_esc_clears_it() {
    needs_kustomize!("slash_filters_the_environments_and_esc_clears_it");
    let mut f = loaded(100, 30);
    press(&mut f, "2/platform⏎");
    let names = |app: &App| -> Vec<String> {
        app.environment_lines()
            .iter()
            .filter_map(|l| match l {
                RepoLine::Item(e) => Some(format!("{}/{}", e.repo, e.name)),
                _ => None,
            })
            .collect()
    };
    assert_eq!(names(&f.app), ["platform/production", "platform/staging"]);
    assert!(screen(&f.app, 100, 30).contains("/platform (esc clears)"));
    press(&mut f, "⎋");
    assert_eq!(names(&f.app).len(), 4, "esc cleared the filter");
    assert_eq!(f.app.screen, Screen::Environments);
}

#[test]
fn after_a_push_i_shows_only_what_changed_since_your_approval() {
    let (mut f, mut repo) = one_promotion(5);
    press(&mut f, "⏎ay⏎");
    let (approved, pushed) = push_to_scale(&mut repo);
    press(&mut f, "R");
    let before_i = screen(&f.app, 100, 30);
    assert!(before_i.contains("replicas 2 → 50"), "{before_i}");
    assert!(
        f.app.hints().contains(&("i", "since approved")),
        "{:?}",
        f.app.hints()
    );
    press(&mut f, "i");
    let shown = screen(&f.app, 100, 30);
    let review = f.app.review.as_ref().expect("a review");
    let since = review.since.as_ref().expect("the interdiff is on");
    assert_eq!(since.from, approved.to_string());
    // Whoever the test process approves as (the fixture's identity is only shown).
    let by = since.by.split(" <").next().expect("a name").to_string();
    assert!(
        shown.contains(&format!(
            "since {} approved by {by} → head {}",
            &approved.to_string()[..10],
            &pushed.to_string()[..10]
        )),
        "{shown}"
    );
    assert!(shown.contains("replicas 5 → 50"), "{shown}");
    assert!(!shown.contains("2 →"), "only the change since: {shown}");
    // The commits tab lists only the commit pushed since.
    press(&mut f, "l");
    let commits = screen(&f.app, 100, 30);
    assert!(
        commits.contains(" 1 commit(s) ") && commits.contains("Pushed meanwhile"),
        "{commits}"
    );
    // i again: the whole promotion.
    press(&mut f, "hi");
    assert!(screen(&f.app, 100, 30).contains("replicas 2 → 50"));
}

#[test]
fn the_verdict_tab_shows_approval_comments_and_the_title_stays_the_first_commits() {
    let (mut f, mut repo) = one_promotion(5);
    let home = f._home.path().to_path_buf();
    let config = home.join("config.yaml");
    crate::common::as_who(
        &home,
        &config,
        "Carol",
        &[
            "approve",
            "test:promote/scale",
            "--comment",
            "Looks right.\nCapacity checked.",
        ],
    )
    .ok();
    push_to_scale(&mut repo);
    press(&mut f, "R⏎");
    assert_eq!(
        f.app.review.as_ref().map(|r| r.header.title.as_str()),
        Some("Scale the api")
    );
    press(&mut f, "lll");
    let shown = screen(&f.app, 100, 30);
    assert!(
        shown.contains("│ Looks right.") && shown.contains("│ Capacity checked."),
        "{shown}"
    );
}

#[test]
fn slash_filters_the_objects_and_searches_the_diff_with_n_and_shift_n() {
    needs_kustomize!("slash_filters_the_objects_and_searches_the_diff_with_n_and_shift_n");
    let mut f = loaded(100, 30);
    press(&mut f, "/checkout⏎⏎");
    // The list is focused: `/` filters the objects, as it filters every list.
    press(&mut f, "/autoscaler⏎");
    let review = f.app.review.as_ref().expect("a review");
    assert_eq!(review.listed().len(), 1);
    let shown = screen(&f.app, 100, 30);
    assert!(shown.contains("objects ~3 /autoscaler"), "{shown}");
    assert!(
        shown.contains("HorizontalPodAutoscaler/shop-staging/api · changed"),
        "{shown}"
    );
    assert!(!shown.contains("~ ConfigMap/api-config"), "{shown}");
    // Esc clears the filter and stays in the review.
    press(&mut f, "⎋");
    assert_eq!(f.app.screen, Screen::Review);
    assert_eq!(f.app.review.as_ref().map(|r| r.listed().len()), Some(3));
    // In the diff, `/` searches: Enter goes to the first line found, n to the next.
    press(&mut f, "⇥/checkout_timeout⏎");
    let first = f.app.review.as_ref().map(|r| r.scroll).expect("a review");
    let shown = screen(&f.app, 100, 30);
    let top = shown
        .lines()
        .find(|l| l.contains("│") && l.to_lowercase().contains("checkout_timeout"))
        .expect("a line found");
    assert!(top.contains("CHECKOUT_TIMEOUT"), "{shown}");
    assert!(
        f.app
            .message
            .as_deref()
            .is_some_and(|m| m.starts_with("/checkout_timeout: line")),
        "{:?}",
        f.app.message
    );
    press(&mut f, "n");
    let second = f.app.review.as_ref().map(|r| r.scroll).expect("a review");
    assert!(second > first, "n goes down: {first} → {second}");
    press(&mut f, "N");
    assert_eq!(
        f.app.review.as_ref().map(|r| r.scroll),
        Some(first),
        "N comes back"
    );
    // Typing a search writes nothing and opens no dialog, whatever its letters.
    let before = refs_of(&f.config, "shop");
    press(&mut f, "/amyTRv⏎");
    assert!(f.app.dialog.is_none() && f.app.undo.is_none());
    assert!(
        f.app
            .message
            .as_deref()
            .is_some_and(|m| m.contains("no line here contains"))
    );
    assert_eq!(refs_of(&f.config, "shop"), before);
}

#[test]
fn c_abandons_a_promotion_after_its_reason_and_only_on_y() {
    let (mut f, repo) = one_promotion(5);
    press(&mut f, "⏎C");
    assert!(f.app.reason_dialog.is_some(), "the close dialog is open");
    let before = crate::common::all_refs(&repo);
    // Letters are the reason's text while it is typed: `y` writes nothing yet.
    press(&mut f, "y");
    assert_eq!(
        f.app.reason_dialog.as_ref().map(|c| c.reason.as_str()),
        Some("y")
    );
    let backspace = |f: &mut Fixture| {
        let commands = f.app.handle_key(key(KeyCode::Backspace));
        settle(&f.config, &mut f.app, commands);
    };
    backspace(&mut f);
    press(&mut f, "Superseded by the autoscaler⏎");
    let shown = screen(&f.app, 100, 30);
    assert!(
        shown.contains("close test:promote/scale") && shown.contains("y close it"),
        "{shown}"
    );
    assert_eq!(
        crate::common::all_refs(&repo),
        before,
        "nothing written before y"
    );
    press(&mut f, "y");
    assert!(f.app.reason_dialog.is_none(), "{:?}", f.app.reason_dialog);
    assert_eq!(f.app.screen, Screen::Inbox);
    assert!(
        repo.repo.branch_head("promote/scale").is_err(),
        "the branch is gone"
    );
    assert!(f.app.inbox_lines().is_empty(), "and so is the promotion");
    let head = before
        .iter()
        .find(|(name, _)| name == "refs/heads/promote/scale")
        .map(|(_, id)| *id)
        .expect("it had a head");
    let records = tollgate::closing::closes_on(&repo.repo, head).expect("records");
    assert_eq!(records[0].reason, "Superseded by the autoscaler");
}

#[test]
fn the_close_dialog_at_both_sizes() {
    needs_kustomize!("the_close_dialog_at_both_sizes");
    let mut f = loaded(80, 24);
    press(&mut f, "/checkout⏎⏎CLoad test done⏎");
    insta::assert_snapshot!("close_dialog_80x24", screen(&f.app, 80, 24));
    f.app.resize(Rect::new(0, 0, 160, 48));
    insta::assert_snapshot!("close_dialog_160x48", screen(&f.app, 160, 48));
}

#[test]
fn history_rows_flag_direct_pushes_and_what_a_checked_revert_undid() {
    needs_kustomize!("history_rows_flag_direct_pushes_and_what_a_checked_revert_undid");
    let mut f = loaded(160, 48);
    history_at(&mut f, "j⏎", "Raise api memory limit in production");
    let h = f.app.history.as_ref().expect("history");
    let marks = |subject: &str| {
        h.rows
            .iter()
            .find(|r| r.subject == subject)
            .map(|r| r.marks.clone())
            .unwrap_or_else(|| panic!("{subject:?} in the history"))
    };
    assert!(marks("Raise api memory limit in production").contains(&"direct push".to_string()));
    let revert = h
        .rows
        .iter()
        .find(|r| r.subject.starts_with("Revert \"api 1.3.1"))
        .expect("the revert");
    assert!(
        marks("api 1.3.1 to production").contains(&format!("reverted by {}", &revert.sha[..10])),
        "{:?}",
        marks("api 1.3.1 to production")
    );
    // Merged promotions and the commits they brought in are not direct pushes.
    assert!(!marks("api 1.3.1 to production").contains(&"direct push".to_string()));
    assert!(!marks("Merge promotion shop:promote/api-1.4.2").contains(&"direct push".to_string()));
    let shown = screen(&f.app, 160, 48);
    assert!(shown.contains("direct push"), "{shown}");
}

#[test]
fn y_copies_what_the_cursor_is_on() {
    use tollgate::tui::app::TerminalRequest;
    needs_kustomize!("y_copies_what_the_cursor_is_on");
    let mut f = loaded(100, 30);
    let id = selected_id(&f.app);
    press(&mut f, "y");
    assert_eq!(
        f.app.terminal_request.take(),
        Some(TerminalRequest::Copy(id.clone()))
    );
    assert_eq!(f.app.message, Some(format!("copied {id}")));
    history_at(&mut f, "j⏎", "Raise api memory limit in production");
    let sha = f
        .app
        .history
        .as_ref()
        .and_then(|h| h.selected())
        .map(|r| r.sha.clone());
    press(&mut f, "y");
    assert_eq!(
        f.app.terminal_request.take(),
        sha.map(TerminalRequest::Copy)
    );
}

#[test]
fn f_shows_only_the_branchs_own_line_in_a_history() {
    needs_kustomize!("f_shows_only_the_branchs_own_line_in_a_history");
    let mut f = loaded(100, 30);
    history_at(&mut f, "j⏎", "api 1.3.1 to production");
    let all = f
        .app
        .history
        .as_ref()
        .map(|h| h.rows.len())
        .expect("history");
    press(&mut f, "f");
    let h = f.app.history.as_ref().expect("history");
    assert!(h.first_parent);
    let subjects: Vec<&str> = h.rows.iter().map(|r| r.subject.as_str()).collect();
    assert!(
        subjects.contains(&"Merge promotion shop:promote/api-1.4.2"),
        "{subjects:?}"
    );
    assert!(
        subjects.contains(&"Raise api memory limit in production"),
        "{subjects:?}"
    );
    assert!(
        !subjects.contains(&"api 1.3.1 to production"),
        "{subjects:?}"
    );
    assert!(h.rows.len() < all);
    assert!(screen(&f.app, 100, 30).contains("first parent (f: all)"));
    press(&mut f, "f");
    assert_eq!(f.app.history.as_ref().map(|h| h.rows.len()), Some(all));
}

#[test]
fn the_commits_tab_has_a_cursor_that_opens_a_commit_and_esc_comes_back() {
    needs_kustomize!("the_commits_tab_has_a_cursor_that_opens_a_commit_and_esc_comes_back");
    let mut f = loaded(100, 30);
    press(&mut f, "/checkout⏎⏎lj");
    let shown = screen(&f.app, 100, 30);
    assert_eq!(
        f.app.review.as_ref().map(|r| r.commit_cursor.selected),
        Some(1),
        "{shown}"
    );
    press(&mut f, "⏎");
    let review = f.app.review.as_ref().expect("a review");
    assert!(review.commit, "a commit is open");
    assert_eq!(
        review.header.title,
        "Checkout tuning for the load test in staging"
    );
    let shown = screen(&f.app, 100, 30);
    assert!(
        shown.contains("objects ~1"),
        "only that commit's change: {shown}"
    );
    assert!(shown.contains("data.CHECKOUT_TIMEOUT: 30 → 45"), "{shown}");
    press(&mut f, "⎋");
    let review = f.app.review.as_ref().expect("back on the promotion");
    assert!(!review.commit);
    assert_eq!(review.tab, Tab::Commits);
    assert_eq!(review.commit_cursor.selected, 1);
    press(&mut f, "⎋");
    assert_eq!(f.app.screen, Screen::Inbox);
}

#[test]
fn colon_jumps_to_an_environment_or_a_repo_by_name() {
    needs_kustomize!("colon_jumps_to_an_environment_or_a_repo_by_name");
    let mut f = loaded(100, 30);
    // The environments are not loaded yet: the jump waits for them.
    press(&mut f, ":shop/production⏎");
    assert_eq!(f.app.screen, Screen::History);
    let h = f.app.history.as_ref().expect("a history");
    assert_eq!((h.repo.as_str(), h.env.as_str()), ("shop", "production"));
    press(&mut f, ":platform⏎");
    assert_eq!(f.app.screen, Screen::Environments);
    let shown: Vec<String> = f
        .app
        .environment_lines()
        .iter()
        .filter_map(|l| match l {
            RepoLine::Item(e) => Some(e.repo.clone()),
            _ => None,
        })
        .collect();
    assert!(
        !shown.is_empty() && shown.iter().all(|r| r == "platform"),
        "{shown:?}"
    );
    press(&mut f, ":nowhere⏎");
    assert!(
        f.app
            .message
            .as_deref()
            .is_some_and(|m| m.contains("no repo or environment")),
        "{:?}",
        f.app.message
    );
    // Typing after `:` is a name, never keys: `q` does not quit.
    press(&mut f, ":q");
    assert!(!f.app.quit);
    press(&mut f, "⎋");
    assert!(f.app.jump.is_none());
}

#[test]
fn a_frozen_merge_offers_break_glass_which_asks_why_and_merges_on_y() {
    let home = TempDir::new().expect("temp dir");
    let mut repo = crate::common::EnvRepoBuilder::new(&home.path().join("env.git"));
    let policy = "environments:\n  prod:\n    approvals: 1\n    freeze:\n      - {from: '2020-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z', reason: 'the long freeze'}\nbreak_glass: [carol@example.com]\n";
    repo.commit_files(
        &[
            (".tollgate/policy.yaml", policy),
            ("envs/prod/api.yaml", &crate::common::deployment("1.0", 2)),
        ],
        "Alice",
        "start",
    );
    repo.branch(
        "promote/fix",
        &[("envs/prod/api.yaml", &crate::common::deployment("1.0", 3))],
        "Bob",
        "Hotfix",
    );
    let config_path = repo.write_config(home.path(), "");
    crate::common::as_who(
        home.path(),
        &config_path,
        "Alice",
        &["approve", "test:promote/fix"],
    )
    .ok();
    let text = std::fs::read_to_string(&config_path).expect("config");
    std::fs::write(
        &config_path,
        format!("identity: \"Carol SRE <carol@example.com>\"\n{text}"),
    )
    .expect("config");
    let mut f = loaded_from(home, &config_path, 100, 30);
    press(&mut f, "⏎m");
    let shown = screen(&f.app, 100, 30);
    assert!(
        shown.contains("frozen until") && shown.contains("b in the merge dialog"),
        "{shown}"
    );
    assert!(shown.contains("b break glass"), "{shown}");
    let before = crate::common::all_refs(&repo);
    press(&mut f, "bOutage: the hotfix must go out⏎");
    assert_eq!(
        crate::common::all_refs(&repo),
        before,
        "nothing written before y"
    );
    let shown = screen(&f.app, 100, 30);
    assert!(
        shown.contains("break glass: merge test:promote/fix"),
        "{shown}"
    );
    press(&mut f, "y");
    assert!(f.app.reason_dialog.is_none(), "{:?}", f.app.reason_dialog);
    assert_eq!(f.app.screen, Screen::Inbox);
    let tip = repo.repo.branch_head("main").expect("main");
    let merged = repo.repo.commit_info(tip).expect("the merge");
    assert!(
        merged.trailers.iter().any(|t| t.key == "Break-glass"),
        "{:?}",
        merged.trailers
    );
    assert!(
        merged.body.contains("Outage: the hotfix must go out")
            || merged.trailers.iter().any(|t| t.value.contains("Outage")),
        "{merged:?}"
    );
}

#[test]
fn a_rollback_preview_lists_the_changes_it_takes_back() {
    needs_kustomize!("a_rollback_preview_lists_the_changes_it_takes_back");
    let mut f = loaded(120, 40);
    history_at(&mut f, "j⏎", "Merge promotion shop:promote/api-1.4.2");
    press(&mut f, "T");
    let dialog = f.app.undo.as_ref().expect("the dialog is open");
    let Loading::Ready(preview) = &dialog.preview else {
        panic!("previewed: {:?}", dialog.preview)
    };
    // Newest first: what came to production after api 1.4.2 was merged.
    let subjects: Vec<&str> = preview.undoes.iter().map(String::as_str).collect();
    assert_eq!(subjects.len(), 1, "{subjects:?}");
    assert!(
        subjects[0].contains("Merge promotion shop:promote/api-hpa-production"),
        "{subjects:?}"
    );
    assert!(
        !subjects.iter().any(|s| s.contains("api-1.4.2")),
        "the target stays: {subjects:?}"
    );
    let shown = screen(&f.app, 120, 40);
    assert!(shown.contains("takes back 1 change(s):"), "{shown}");
}

#[test]
fn h_and_l_scroll_the_diff_sideways_and_side_by_side_fits_120_columns() {
    let (mut f, _repo) = one_promotion(5);
    press(&mut f, "⏎⇥");
    assert!(screen(&f.app, 100, 30).contains("│-  replicas: 2"));
    press(&mut f, "L");
    let shown = screen(&f.app, 100, 30);
    assert!(shown.contains("│-as: 2"), "{shown}");
    assert!(shown.contains("from column 9 (H)"), "{shown}");
    press(&mut f, "HH");
    assert_eq!(f.app.review.as_ref().map(|r| r.hscroll), Some(0));
    // Side by side at 120 columns, beside the object list.
    f.app.resize(Rect::new(0, 0, 120, 30));
    press(&mut f, "s");
    let shown = screen(&f.app, 120, 30);
    assert!(
        shown
            .lines()
            .any(|l| l.contains("-  replicas: 2") && l.contains("+  replicas: 5")),
        "{shown}"
    );
    // Too narrow: it says what it needs.
    f.app.resize(Rect::new(0, 0, 80, 24));
    press(&mut f, "ss");
    assert!(
        f.app
            .message
            .as_deref()
            .is_some_and(|m| m.contains("120-column")),
        "{:?}",
        f.app.message
    );
}

#[test]
fn d_writes_a_revert_straight_onto_the_branch_for_break_glass_people_only() {
    needs_kustomize!("d_writes_a_revert_straight_onto_the_branch_for_break_glass_people_only");
    // Dana is not under break_glass: refused, nothing written.
    let mut f = loaded(100, 30);
    history_at(&mut f, "j⏎", "Merge promotion shop:promote/api-1.4.2");
    let before = refs_of(&f.config, "shop");
    press(&mut f, "vapi 1.4.2 breaks checkout⏎D");
    match f.app.undo.as_ref().and_then(|u| u.writing.as_ref()) {
        Some(Loading::Failed(error)) => assert!(error.contains("break_glass"), "{error}"),
        other => panic!("written by someone not listed: {other:?}"),
    }
    assert_eq!(refs_of(&f.config, "shop"), before, "nothing was written");

    // Carol is: the revert goes straight onto main, and the history shows it first.
    let (home, config_path) = demo();
    let text = std::fs::read_to_string(&config_path).expect("config");
    std::fs::write(
        &config_path,
        text.replace(
            "Dana Ops <dana@example.com>",
            "Carol SRE <carol@example.com>",
        ),
    )
    .expect("config");
    let mut f = loaded_from(home, &config_path, 100, 30);
    history_at(&mut f, "j⏎", "Merge promotion shop:promote/api-1.4.2");
    press(&mut f, "vapi 1.4.2 breaks checkout⏎D");
    assert!(
        f.app.undo.is_none(),
        "{:?}",
        f.app.undo.as_ref().map(|u| &u.writing)
    );
    assert!(
        f.app
            .message
            .as_deref()
            .is_some_and(|m| m.contains("written onto main")),
        "{:?}",
        f.app.message
    );
    let path = f.config.repo("shop").expect("shop").path.clone();
    let repo = tollgate::git::Repo::open("shop", &path).expect("open");
    let tip = repo
        .commit_info(repo.branch_head("main").expect("main"))
        .expect("tip");
    assert!(
        tip.trailers.iter().any(|t| t.key == "Break-glass"),
        "{:?}",
        tip.trailers
    );
    let h = f.app.history.as_ref().expect("the history again");
    assert_eq!(
        h.rows.first().map(|r| r.sha.as_str()),
        Some(tip.sha.as_str())
    );
}
