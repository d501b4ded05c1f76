//! One frame of the review screen on a 200,000-line diff (one object whose every third
//! line changed), drawn into ratatui's `TestBackend` at 160×48: at the top, in the
//! middle, side by side, with a search on; and the cost of a key that scrolls it and of
//! one that searches all of it.
//! `cargo bench --bench tui_frame`; figures in docs/performance.md (target: a frame
//! under 2 ms).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use tollgate::manifest::textdiff::{side_by_side_rows, unified};
use tollgate::manifest::{ChangeKind, ObjectKey};
use tollgate::tui::app::{App, Pane, Screen};
use tollgate::tui::theme::Theme;
use tollgate::tui::view;
use tollgate::tui::work::{ObjectView, Outcome, PromotionRow, ReviewDetail};

const LINES: usize = 200_000;
const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;

/// A review of one ConfigMap whose 200,000-line value changed on every third line.
fn app() -> App {
    let old: String = (0..LINES)
        .map(|i| format!("  key{i}: value {i}\n"))
        .collect();
    let new: String = (0..LINES)
        .map(|i| match i % 3 {
            0 => format!("  key{i}: value {i} changed\n"),
            _ => format!("  key{i}: value {i}\n"),
        })
        .collect();
    let lines = unified(&old, &new, 3);
    let (mut app, _) = App::new(
        "Bench <bench@example.com>".into(),
        &["bench".to_string()],
        0,
        Rect::new(0, 0, WIDTH, HEIGHT),
    );
    let header = PromotionRow {
        id: "bench:promote/big".into(),
        repo: "bench".into(),
        branch: "promote/big".into(),
        title: "A big ConfigMap".into(),
        author: "Bench".into(),
        created: 0,
        environments: vec!["prod".into()],
        summary: String::new(),
        approvals: "0/1".into(),
        can_merge: false,
        url: None,
    };
    app.open_review(header, 7, Screen::Inbox, false);
    let detail = ReviewDetail {
        head: "0".repeat(40),
        base: "1".repeat(40),
        summary: "~1 ConfigMap".into(),
        commits: Vec::new(),
        description: String::new(),
        objects: vec![ObjectView {
            environment: "prod".into(),
            key: ObjectKey {
                group: String::new(),
                kind: "ConfigMap".into(),
                namespace: Some("shop".into()),
                name: "big".into(),
            },
            change: ChangeKind::Changed,
            renamed_from: None,
            fields: Vec::new(),
            rows: side_by_side_rows(&lines),
            lines,
        }],
        files: Vec::new(),
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    app.apply(Outcome::Review {
        request: 7,
        result: Ok(Box::new(detail)),
    });
    let review = app.review.as_mut().expect("a review");
    review.focus = Pane::Diff;
    app
}

fn frame(c: &mut Criterion) {
    let mut app = app();
    let shown = match &app.review.as_ref().expect("a review").detail {
        tollgate::tui::app::Loading::Ready(d) => d.objects[0].lines.len(),
        _ => unreachable!("loaded above"),
    };
    println!("the diff has {shown} lines");
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("terminal");
    let theme = Theme { color: true };
    let mut group = c.benchmark_group(format!("review frame, {shown}-line diff, {WIDTH}x{HEIGHT}"));
    let mut draw = |name: &str, app: &App| {
        group.bench_function(name, |b| {
            b.iter(|| {
                terminal
                    .draw(|f| view::draw(f, black_box(app), theme))
                    .map(|_| ())
                    .expect("draw")
            })
        });
    };
    draw("top", &app);
    app.review.as_mut().expect("a review").scroll = shown / 2;
    draw("middle", &app);
    app.review.as_mut().expect("a review").side_by_side = true;
    draw("middle, side by side", &app);
    let review = app.review.as_mut().expect("a review");
    review.side_by_side = false;
    review.find = "changed".into();
    draw("middle, search on", &app);
    group.bench_function("key j (scroll one line)", |b| {
        let down = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
        b.iter(|| app.handle_key(black_box(down)))
    });
    // `n` with a word found only near the end: the search reads every line once.
    app.review.as_mut().expect("a review").find = format!("key{}:", LINES - 10);
    group.bench_function("key n (search found near the end)", |b| {
        let next = KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE);
        b.iter(|| {
            app.review.as_mut().expect("a review").scroll = 0;
            app.handle_key(black_box(next))
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = frame
}
criterion_main!(benches);
