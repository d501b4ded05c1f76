//! The terminal UI: an event loop that turns keys, mouse and finished work into state
//! changes and draws the state. Slow work (git, rendering) runs on tokio's blocking pool
//! and comes back as a message carrying its request id; the loop never waits on it.
//! The terminal is restored on quit, on error, on panic, and on SIGTERM and SIGHUP.

pub mod app;
pub mod confirm;
pub mod cursor;
pub mod jump;
pub mod keys;
pub mod layout;
pub mod reason;
pub mod theme;
pub mod undo;
pub mod view;
pub mod work;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::identity::Identity;
use app::App;
use theme::Theme;
use work::{Command, Outcome};

enum Message {
    Input(Event),
    Done(Outcome),
    Tick,
    /// SIGTERM or SIGHUP: leave as if quit, so that the terminal is given back.
    Signal(&'static str),
}

/// Ticks of 120 ms in about a second.
const TICKS_PER_SECOND: usize = 8;

/// Open the TUI on `config` until the user quits (`no_color`: `--no-color`).
pub fn run(config: Config, no_color: bool) -> anyhow::Result<()> {
    let identity = match Identity::resolve(config.identity.as_deref()) {
        Ok(identity) => identity.to_string(),
        Err(_) => "(no identity)".to_string(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        // Signals are delivered through the I/O driver.
        .enable_io()
        .build()?;
    // Mouse capture is ours to undo; ratatui's hook (installed by `init`) restores the rest
    // and then calls this one, which prints the panic after the terminal is back.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(std::io::stdout(), DisableMouseCapture);
        previous(info);
    }));
    let mut terminal = ratatui::init();
    let _ = execute!(std::io::stdout(), EnableMouseCapture);
    let theme = Theme::new(no_color);
    let result = runtime.block_on(event_loop(&mut terminal, Arc::new(config), identity, theme));
    let _ = execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
    runtime.shutdown_timeout(Duration::from_millis(100));
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    config: Arc<Config>,
    identity: String,
    theme: Theme,
) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::channel::<Message>(256);
    let stop = Arc::new(AtomicBool::new(false));
    // While a pager has the terminal, its keys are its own.
    let paused = Arc::new(AtomicBool::new(false));
    spawn_input_reader(tx.clone(), stop.clone(), paused.clone());
    let signals = spawn_signal_listener(tx.clone())?;
    let ticker = {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_millis(120));
            loop {
                interval.tick().await;
                if tx.send(Message::Tick).await.is_err() {
                    break;
                }
            }
        })
    };

    let size = terminal.size()?;
    let repos: Vec<String> = config.repos.iter().map(|r| r.name.clone()).collect();
    let now = crate::text::now();
    // Which history walk is still wanted (0: none), read by the walks on the worker pool.
    let wanted_history = Arc::new(AtomicU64::new(0));
    let (mut app, commands) = App::new(
        identity,
        &repos,
        now,
        ratatui::layout::Rect::new(0, 0, size.width, size.height),
    );
    spawn_work(&config, &tx, &wanted_history, commands);

    let mut redraw = true;
    let result = loop {
        if redraw && let Err(e) = terminal.draw(|frame| view::draw(frame, &app, theme)) {
            break Err(e.into());
        }
        let Some(message) = rx.recv().await else {
            break Ok(());
        };
        // A tick redraws only what moves: a spinner, or once a second the ages and a
        // message that went. Anything else that arrives is drawn at once.
        redraw = !matches!(message, Message::Tick)
            || app.is_busy()
            || app.tick.is_multiple_of(TICKS_PER_SECOND);
        let commands = match message {
            Message::Input(Event::Key(key)) if key.kind == event::KeyEventKind::Press => {
                app.handle_key(key)
            }
            Message::Input(Event::Mouse(mouse)) => app.handle_mouse(mouse),
            Message::Input(Event::Resize(width, height)) => {
                app.resize(ratatui::layout::Rect::new(0, 0, width, height));
                Vec::new()
            }
            Message::Input(_) => Vec::new(),
            Message::Done(outcome) => {
                app.github_quota = quota_text(&crate::forge::github::quotas());
                app.apply(outcome)
            }
            Message::Tick => app.on_tick(crate::text::now()),
            Message::Signal(name) => break Err(anyhow::anyhow!("stopped by {name}")),
        };
        wanted_history.store(app.history_request().unwrap_or(0), Ordering::Relaxed);
        spawn_work(&config, &tx, &wanted_history, commands);
        if let Some(request) = app.terminal_request.take() {
            if let Err(e) = serve(terminal, request, &paused) {
                app.message = Some(format!("{e:#}"));
            }
            redraw = true;
        }
        if app.quit {
            break Ok(());
        }
    };
    stop.store(true, Ordering::Relaxed);
    wanted_history.store(0, Ordering::Relaxed);
    ticker.abort();
    signals.abort();
    result
}

/// SIGTERM (a `kill`, a closing session manager) and SIGHUP (the terminal went away) end
/// the loop like `q`, so the terminal is restored before the process exits.
#[cfg(unix)]
fn spawn_signal_listener(tx: mpsc::Sender<Message>) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = hangup.recv() => "SIGHUP",
        };
        let _ = tx.send(Message::Signal(name)).await;
    }))
}

#[cfg(not(unix))]
fn spawn_signal_listener(
    _tx: mpsc::Sender<Message>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    Ok(tokio::spawn(async {}))
}

/// Carry out what the app asked of the terminal: a copy (OSC 52, which terminals and
/// tmux turn into the system clipboard, also over SSH), or a pager the TUI steps aside
/// for.
fn serve(
    terminal: &mut ratatui::DefaultTerminal,
    request: app::TerminalRequest,
    paused: &AtomicBool,
) -> anyhow::Result<()> {
    use base64::Engine;
    use std::io::Write;
    match request {
        app::TerminalRequest::Copy(text) => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(text);
            let mut stdout = std::io::stdout();
            write!(stdout, "\x1b]52;c;{encoded}\x07")?;
            stdout.flush()?;
            Ok(())
        }
        app::TerminalRequest::Page { name, text } => {
            paused.store(true, Ordering::Relaxed);
            // The input thread polls every 100 ms: let it see the pause first.
            std::thread::sleep(Duration::from_millis(150));
            let result = page(&name, &text);
            paused.store(false, Ordering::Relaxed);
            terminal.clear()?;
            result
        }
    }
}

/// Show `text` in `$PAGER` (else `less`) from a read-only temporary file, with the
/// terminal given back to it meanwhile.
fn page(name: &str, text: &str) -> anyhow::Result<()> {
    use ratatui::crossterm::terminal::{
        EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
    };
    let dir = tempfile::TempDir::new()?;
    let file_name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let file = dir.path().join(format!("{file_name}.diff"));
    // What a repository wrote is shown, never obeyed: no escape sequence reaches the pager.
    std::fs::write(&file, crate::text::printable(text).as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o400))?;
    }
    execute!(
        std::io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    )?;
    disable_raw_mode()?;
    let status = std::process::Command::new("sh")
        .args(["-c", "exec ${PAGER:-less} \"$1\"", "tollgate"])
        .arg(&file)
        .status();
    enable_raw_mode()?;
    execute!(
        std::io::stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        ratatui::crossterm::cursor::Hide
    )?;
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => anyhow::bail!("the pager ($PAGER, else less) ended with {status}"),
        Err(e) => anyhow::bail!("cannot run the pager ($PAGER, else less): {e}"),
    }
}

/// Terminal input is read on its own thread: crossterm's reader blocks.
fn spawn_input_reader(tx: mpsc::Sender<Message>, stop: Arc<AtomicBool>, paused: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            if paused.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            match event::poll(Duration::from_millis(100)) {
                Ok(true) => match event::read() {
                    Ok(event) => {
                        if tx.blocking_send(Message::Input(event)).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                },
                Ok(false) => {}
                Err(_) => break,
            }
        }
    });
}

/// The GitHub API quota left, for the status bar: the host with the least.
pub fn quota_text(quotas: &[(String, crate::forge::github::Quota)]) -> Option<String> {
    let (_, quota) = quotas.iter().min_by_key(|(_, q)| q.remaining)?;
    Some(format!("GitHub {}/{}", quota.remaining, quota.limit))
}

/// The one place the TUI starts slow work.
fn spawn_work(
    config: &Arc<Config>,
    tx: &mpsc::Sender<Message>,
    wanted_history: &Arc<AtomicU64>,
    commands: Vec<Command>,
) {
    for command in commands {
        let config = config.clone();
        let tx = tx.clone();
        let wanted_history = wanted_history.clone();
        tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let what = format!("{command:?}");
            let wanted = |request| wanted_history.load(Ordering::Relaxed) == request;
            work::execute(&config, command, &wanted, &mut |outcome| {
                let _ = tx.blocking_send(Message::Done(outcome));
            });
            tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "{what}");
        });
    }
}
