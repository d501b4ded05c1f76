//! The TUI's state and how it changes: a key or a finished piece of work comes in, the
//! state is updated, and the commands for slow work go out. Nothing here draws, awaits
//! or touches a terminal, so key sequences can be tested as plain function calls.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

pub use super::confirm::Dialog;
use super::cursor::Cursor;
use super::keys::{Action, Context, action_for};
use super::layout::Areas;
pub use super::undo::UndoDialog;
use super::work::{
    Command, EnvironmentRow, HistoryRow, Outcome, PromotionRow, RequestId, ReviewAction,
    ReviewDetail,
};
use crate::history::HistoryMode;
use crate::reconcile::status::Deployed;
use crate::verdict::ApprovalStatus;

/// Data that arrives later. The view shows each state where the data would be.
#[derive(Debug)]
pub enum Loading<T> {
    Loading,
    Ready(T),
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Inbox,
    Environments,
    History,
    /// A promotion or a commit with its rendered diff.
    Review,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Age,
    Repo,
    Environment,
}

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Age => "age",
            SortKey::Repo => "repo",
            SortKey::Environment => "environment",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Diff,
    Commits,
    Description,
    /// A promotion's verdict: approvals, what each environment still needs, whether you
    /// may approve or merge and why.
    Verdict,
}

pub const TABS: [Tab; 4] = [Tab::Diff, Tab::Commits, Tab::Description, Tab::Verdict];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Objects,
    Diff,
}

/// One repo's part of a list that loads per repo.
#[derive(Debug)]
pub struct RepoSlot<T> {
    pub name: String,
    pub request: RequestId,
    pub state: Loading<Vec<T>>,
}

/// A line of a per-repo list: an item, or a repo still loading or failing to load.
#[derive(Debug)]
pub enum RepoLine<'a, T> {
    Item(&'a T),
    Loading(&'a str),
    Failed(&'a str, &'a str),
}

// Only references inside: copyable whatever `T` is (a derive would demand `T: Copy`).
impl<T> Clone for RepoLine<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for RepoLine<'_, T> {}

pub type InboxLine<'a> = RepoLine<'a, PromotionRow>;

#[derive(Debug)]
pub struct InboxState {
    pub repos: Vec<RepoSlot<PromotionRow>>,
    pub cursor: Cursor,
    pub filter: String,
    pub filtering: bool,
    pub sort: SortKey,
}

#[derive(Debug, Default)]
pub struct EnvironmentsState {
    pub repos: Vec<RepoSlot<EnvironmentRow>>,
    pub cursor: Cursor,
    /// `/`: environments whose repo, name, path or last change contain it (any case).
    pub filter: String,
    pub filtering: bool,
    /// What the cluster runs, per `(repo, environment)` with a `cluster:` in the config.
    pub deployed: std::collections::HashMap<(String, String), Loading<Deployed>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryProgress {
    Walking,
    Done,
    Failed(String),
}

#[derive(Debug)]
pub struct HistoryState {
    pub repo: String,
    pub env: String,
    pub mode: HistoryMode,
    /// `f`: only the protected branch's own line (each merge, not what it brought in).
    pub first_parent: bool,
    pub request: RequestId,
    pub rows: Vec<HistoryRow>,
    pub progress: HistoryProgress,
    pub cursor: Cursor,
    /// `/`: rows whose sha, author, subject or marks contain it (any case).
    pub filter: String,
    pub filtering: bool,
}

impl HistoryState {
    /// The rows on screen: all of them, or those the filter keeps.
    pub fn shown(&self) -> Vec<&HistoryRow> {
        let filter = self.filter.to_lowercase();
        self.rows
            .iter()
            .filter(|row| {
                filter.is_empty()
                    || [&row.sha, &row.author, &row.subject]
                        .into_iter()
                        .chain(&row.marks)
                        .chain(&row.changes)
                        .any(|text| text.to_lowercase().contains(&filter))
            })
            .collect()
    }

    /// The row under the cursor.
    pub fn selected(&self) -> Option<&HistoryRow> {
        self.shown().get(self.cursor.selected).copied()
    }
}

#[derive(Debug)]
pub struct ReviewState {
    pub header: PromotionRow,
    pub request: RequestId,
    pub detail: Loading<Box<ReviewDetail>>,
    pub tab: Tab,
    pub focus: Pane,
    pub cursor: Cursor,
    /// First line of the right-hand side on screen.
    pub scroll: usize,
    /// Where Esc goes.
    pub back: Screen,
    /// A commit of the protected branch (from a history), not a promotion.
    pub commit: bool,
    /// The raw file diff instead of the rendered objects.
    pub raw: bool,
    /// Old and new side by side, when the terminal is wide enough.
    pub side_by_side: bool,
    /// `z`: the diff pane takes the whole width, the object list hidden.
    pub zoomed: bool,
    /// A promotion's verdict for you, loaded with it and again after each action;
    /// `None` for a commit.
    pub verdict: Option<Loading<Box<crate::verdict::Verdict>>>,
    /// `i`: the change since an older head was approved, shown instead of the whole
    /// promotion's.
    pub since: Option<SinceApproval>,
    /// `/` in the object list: objects (files, in raw) whose name contains it.
    pub filter: String,
    pub filtering: bool,
    /// `/` in the diff or a tab's text: `n` and `N` go to the lines containing it.
    pub find: String,
    pub finding: bool,
    /// Columns the diff is scrolled sideways (`H`, `L`), for lines wider than the pane.
    pub hscroll: usize,
    /// The Commits tab's cursor (Enter opens the commit).
    pub commit_cursor: Cursor,
    /// The review a commit was opened from (its Commits tab): Esc goes back to it.
    pub previous: Option<Box<ReviewState>>,
}

/// The re-review after a push: the rendered change from an approved head to the head
/// the review shows.
#[derive(Debug)]
pub struct SinceApproval {
    pub request: RequestId,
    pub from: String,
    /// Who approved `from` (you, when you had).
    pub by: String,
    pub detail: Loading<Box<ReviewDetail>>,
}

impl ReviewState {
    /// The objects (files, in raw) the list shows, as indices into the shown detail's:
    /// those whose environment, kind, namespace, name or path contain the filter.
    pub fn listed(&self) -> Vec<usize> {
        let Loading::Ready(d) = self.shown() else {
            return Vec::new();
        };
        let filter = self.filter.to_lowercase();
        let keep = |text: String| filter.is_empty() || text.to_lowercase().contains(&filter);
        match self.raw {
            true => (0..d.files.len())
                .filter(|&i| keep(format!("{} {}", d.files[i].environment, d.files[i].path)))
                .collect(),
            false => (0..d.objects.len())
                .filter(|&i| keep(format!("{} {}", d.objects[i].environment, d.objects[i].key)))
                .collect(),
        }
    }

    /// The object (file, in raw) under the cursor, as an index into the shown detail's.
    pub fn selected_index(&self) -> Option<usize> {
        match self.filter.is_empty() {
            true => Some(self.cursor.selected),
            false => self.listed().get(self.cursor.selected).copied(),
        }
    }

    /// What the diff, commits and raw views show: the interdiff when `i` is on, else the
    /// promotion or commit.
    pub fn shown(&self) -> &Loading<Box<ReviewDetail>> {
        match &self.since {
            Some(since) => &since.detail,
            None => &self.detail,
        }
    }

    /// The newest approval of a head older than the one shown, its signature checked:
    /// yours if you gave one (`me` is `Name <email>`), else anyone's.
    pub fn approved_before(&self, me: &str) -> Option<(String, String)> {
        let (Some(Loading::Ready(verdict)), Loading::Ready(detail)) = (&self.verdict, &self.detail)
        else {
            return None;
        };
        // Only approvals whose signature held (stale, not forged): a note anyone could
        // have written must not decide what "since it was approved" starts from.
        let older = || {
            verdict
                .approvals
                .iter()
                .filter(|a| a.head != detail.head && a.status == ApprovalStatus::Stale)
        };
        let mine = older().filter(|a| a.by == me).max_by_key(|a| a.at);
        mine.or_else(|| older().max_by_key(|a| a.at))
            .map(|a| (a.head.clone(), a.by.clone()))
    }
}

/// What only the event loop can do, because it owns the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminalRequest {
    /// Put text on the clipboard (through the terminal: OSC 52).
    Copy(String),
    /// Show text in `$PAGER`, the TUI suspended meanwhile.
    Page { name: String, text: String },
}

#[derive(Debug)]
pub struct App {
    pub identity: String,
    /// `GitHub 4987/5000`: API quota left, once a GitHub repo has been read.
    pub github_quota: Option<String>,
    /// Who acts on GitHub repos (the token's account), once one has been read.
    pub github_account: Option<String>,
    pub screen: Screen,
    pub inbox: InboxState,
    pub environments: EnvironmentsState,
    pub history: Option<HistoryState>,
    pub review: Option<ReviewState>,
    pub dialog: Option<Dialog>,
    /// The revert or rollback dialog.
    pub undo: Option<UndoDialog>,
    /// The dialog that abandons a promotion (`C`).
    pub reason_dialog: Option<super::reason::ReasonDialog>,
    /// `:` being typed: where to jump.
    pub jump: Option<String>,
    /// A jump waiting for the environments to load.
    pub(super) pending_jump: Option<String>,
    /// `y` and `e`: for the event loop to carry out, then clear.
    pub terminal_request: Option<TerminalRequest>,
    /// The last thing that happened, for the status bar.
    pub message: Option<String>,
    pub help: bool,
    /// First line of the help on screen, when it is taller than the terminal.
    pub help_scroll: usize,
    pub quit: bool,
    /// Terminal size, for page sizes and mouse hit-testing.
    pub size: Rect,
    /// "Now" for ages, fixed per app so that drawing is a pure function.
    pub now: i64,
    pub tick: usize,
    /// The message on screen and the tick it appeared at, to let it go after a while.
    message_seen: Option<(String, usize)>,
    /// The last poll's fingerprint of each repo's refs.
    polled: std::collections::HashMap<String, String>,
    repo_names: Vec<String>,
    next_request: RequestId,
}

/// Columns `H` and `L` scroll the diff sideways by, and how far they go.
const HSCROLL_STEP: usize = 8;
const MAX_HSCROLL: usize = 4096;

/// Ticks (120 ms each) a status message stays: about six seconds.
const MESSAGE_TICKS: usize = 50;
/// Ticks between two polls of every repo's refs: about ten seconds. A poll reads the
/// refs only (no commit, no render), so an idle TUI stays idle.
const POLL_TICKS: usize = 80;

fn lines_of<'a, T>(repos: &'a [RepoSlot<T>], items: Vec<&'a T>) -> Vec<RepoLine<'a, T>> {
    let mut lines: Vec<RepoLine<'a, T>> = items.into_iter().map(RepoLine::Item).collect();
    for slot in repos {
        match &slot.state {
            Loading::Loading => lines.push(RepoLine::Loading(&slot.name)),
            Loading::Failed(error) => lines.push(RepoLine::Failed(&slot.name, error)),
            Loading::Ready(_) => {}
        }
    }
    lines
}

fn ready<T>(repos: &[RepoSlot<T>]) -> impl Iterator<Item = &T> {
    repos
        .iter()
        .filter_map(|slot| match &slot.state {
            Loading::Ready(items) => Some(items),
            _ => None,
        })
        .flatten()
}

impl App {
    /// A new app on the inbox, asking for every repo's promotions.
    pub fn new(identity: String, repos: &[String], now: i64, size: Rect) -> (App, Vec<Command>) {
        let mut app = App {
            identity,
            github_quota: None,
            github_account: None,
            screen: Screen::Inbox,
            inbox: InboxState {
                repos: Vec::new(),
                cursor: Cursor::default(),
                filter: String::new(),
                filtering: false,
                sort: SortKey::Age,
            },
            environments: EnvironmentsState::default(),
            history: None,
            review: None,
            dialog: None,
            undo: None,
            reason_dialog: None,
            terminal_request: None,
            jump: None,
            pending_jump: None,
            message: None,
            message_seen: None,
            help_scroll: 0,
            polled: Default::default(),
            help: false,
            quit: false,
            size,
            now,
            tick: 0,
            repo_names: repos.to_vec(),
            next_request: 1,
        };
        let commands = app.reload_inbox();
        (app, commands)
    }

    pub(super) fn request(&mut self) -> RequestId {
        self.next_request += 1;
        self.next_request
    }

    /// One request per repo, and a slot waiting for each.
    fn slots<T>(
        &mut self,
        command: impl Fn(RequestId, String) -> Command,
    ) -> (Vec<RepoSlot<T>>, Vec<Command>) {
        let mut commands = Vec::new();
        let names = self.repo_names.clone();
        let slots = names
            .into_iter()
            .map(|name| {
                let request = self.request();
                commands.push(command(request, name.clone()));
                RepoSlot {
                    name,
                    request,
                    state: Loading::Loading,
                }
            })
            .collect();
        (slots, commands)
    }

    pub(super) fn reload_inbox(&mut self) -> Vec<Command> {
        let (slots, commands) = self.slots(|request, repo| Command::LoadRepo { request, repo });
        self.inbox.repos = slots;
        self.inbox.cursor.reset();
        commands
    }

    pub(super) fn reload_environments(&mut self) -> Vec<Command> {
        let (slots, commands) =
            self.slots(|request, repo| Command::LoadEnvironments { request, repo });
        self.environments.repos = slots;
        self.environments.cursor.reset();
        commands
    }

    /// Whether the review's diff pane takes the whole width (`z`).
    pub fn zoomed(&self) -> bool {
        self.screen == Screen::Review && self.review.as_ref().is_some_and(|r| r.zoomed)
    }

    /// Whether something on screen is waiting for work (a spinner turns).
    pub fn is_busy(&self) -> bool {
        self.inbox
            .repos
            .iter()
            .any(|s| matches!(s.state, Loading::Loading))
            || self
                .environments
                .repos
                .iter()
                .any(|s| matches!(s.state, Loading::Loading))
            || self
                .history
                .as_ref()
                .is_some_and(|h| h.progress == HistoryProgress::Walking)
            || self.review.as_ref().is_some_and(|r| {
                matches!(r.shown(), Loading::Loading) || matches!(r.verdict, Some(Loading::Loading))
            })
            || self.dialog.as_ref().is_some_and(|d| {
                matches!(d.verdict, Loading::Loading) || matches!(d.outcome, Some(Loading::Loading))
            })
            || self
                .reason_dialog
                .as_ref()
                .is_some_and(|c| matches!(c.writing, Some(Loading::Loading)))
            || self.undo.as_ref().is_some_and(|u| {
                matches!(u.preview, Loading::Loading) || matches!(u.writing, Some(Loading::Loading))
            })
    }

    /// Time passes (`now`, in seconds): spinners turn, ages move, a status message goes
    /// once it has been read, and every few seconds the repos are polled for changes.
    pub fn on_tick(&mut self, now: i64) -> Vec<Command> {
        self.tick = self.tick.wrapping_add(1);
        self.now = now;
        self.expire_message();
        if self.tick.is_multiple_of(POLL_TICKS) {
            return self
                .repo_names
                .iter()
                .map(|repo| Command::PollRepo { repo: repo.clone() })
                .collect();
        }
        Vec::new()
    }

    fn expire_message(&mut self) {
        match (&self.message, &self.message_seen) {
            (None, _) => self.message_seen = None,
            (Some(message), Some((seen, at))) if message == seen => {
                if self.tick.wrapping_sub(*at) > MESSAGE_TICKS {
                    self.message = None;
                    self.message_seen = None;
                }
            }
            (Some(message), _) => self.message_seen = Some((message.clone(), self.tick)),
        }
    }

    /// The status bar's key hints for what is on screen now: a refused dialog offers no
    /// `y`, a commit no approve or merge, the raw view a way back to the rendered one.
    pub fn hints(&self) -> Vec<(&'static str, &'static str)> {
        let mut hints = crate::tui::keys::hints_for(self.context());
        if self.reason_dialog.is_some() {
            // It shares the revert dialog's keys, but has no shared files to set back.
            hints.retain(|(keys, _)| *keys != "tab");
        } else if let Some(dialog) = &self.dialog {
            let done = dialog.outcome.is_some();
            if done || !dialog.allowed() {
                hints.retain(|(keys, _)| !matches!(*keys, "y" | "n"));
                hints.push((if done { "enter" } else { "esc" }, "close"));
            }
            if !done && dialog.break_glass_would_allow() {
                hints.insert(0, ("b", "break glass"));
            }
        } else if let (Context::Review, Some(review)) = (self.context(), &self.review) {
            let commit = review.commit;
            hints.retain(|(keys, _)| !(commit && matches!(*keys, "a" | "m")));
            // The re-review is offered when there is an older approved head to compare.
            if review.since.is_some() {
                hints.insert(0, ("i", "whole"));
            } else if review.approved_before(&self.identity).is_some() {
                hints.insert(0, ("i", "since approved"));
            }
            if review.raw {
                for hint in &mut hints {
                    if hint.0 == "r" {
                        hint.1 = "rendered";
                    }
                }
            }
        }
        hints
    }

    pub fn context(&self) -> Context {
        if let Some(closing) = &self.reason_dialog {
            return match closing.reason_done {
                true => Context::UndoReady,
                false => Context::Undo,
            };
        }
        if let Some(undo) = &self.undo {
            return match undo.reason_done {
                true => Context::UndoReady,
                false => Context::Undo,
            };
        }
        if self.dialog.is_some() {
            return Context::Dialog;
        }
        match self.screen {
            Screen::Inbox => Context::Inbox,
            Screen::Environments => Context::Environments,
            Screen::History => Context::History,
            Screen::Review => Context::Review,
        }
    }

    /// The inbox as shown: promotions filtered and sorted, then repos loading or failed.
    pub fn inbox_lines(&self) -> Vec<InboxLine<'_>> {
        let filter = self.inbox.filter.to_lowercase();
        let mut rows: Vec<&PromotionRow> = ready(&self.inbox.repos)
            .filter(|row| {
                filter.is_empty()
                    || [&row.id, &row.title, &row.author, &row.summary]
                        .iter()
                        .any(|text| text.to_lowercase().contains(&filter))
                    || row
                        .environments
                        .iter()
                        .any(|e| e.to_lowercase().contains(&filter))
            })
            .collect();
        match self.inbox.sort {
            SortKey::Age => rows.sort_by_key(|r| std::cmp::Reverse(r.created)),
            SortKey::Repo => rows.sort_by(|a, b| a.repo.cmp(&b.repo).then(a.branch.cmp(&b.branch))),
            SortKey::Environment => {
                rows.sort_by(|a, b| a.environments.cmp(&b.environments).then(a.id.cmp(&b.id)))
            }
        }
        lines_of(&self.inbox.repos, rows)
    }

    /// Every environment loaded, of every repo.
    pub(super) fn environment_rows(&self) -> impl Iterator<Item = &EnvironmentRow> {
        ready(&self.environments.repos)
    }

    /// Every environment of every repo the filter keeps, in config order, then repos
    /// loading or failed.
    pub fn environment_lines(&self) -> Vec<RepoLine<'_, EnvironmentRow>> {
        let filter = self.environments.filter.to_lowercase();
        lines_of(
            &self.environments.repos,
            ready(&self.environments.repos)
                .filter(|env| {
                    filter.is_empty()
                        || [&env.repo, &env.name, &env.path]
                            .into_iter()
                            .chain(env.last.as_ref().map(|l| &l.subject))
                            .any(|text| text.to_lowercase().contains(&filter))
                })
                .collect(),
        )
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Vec<Command> {
        if self.reason_dialog.is_some() {
            return self.reason_dialog_key(key);
        }
        if self.jump.is_some() {
            return self.jump_key(key);
        }
        if self.undo.is_some() {
            return self.undo_key(key);
        }
        if self.typing_a_filter() {
            return self.filter_key(key);
        }
        let Some(action) = action_for(self.context(), &key) else {
            return Vec::new();
        };
        if self.help {
            // Help is modal: it closes on its own key, Esc or q, scrolls when it does not
            // fit, and ignores the rest.
            let page = self.size.height.saturating_sub(4).max(1) as usize;
            match action {
                Action::ToggleHelp | Action::Back | Action::Quit => self.help = false,
                Action::Down => self.help_scroll += 1,
                Action::Up => self.help_scroll = self.help_scroll.saturating_sub(1),
                Action::PageDown | Action::HalfPageDown => self.help_scroll += page,
                Action::PageUp | Action::HalfPageUp => {
                    self.help_scroll = self.help_scroll.saturating_sub(page);
                }
                _ => {}
            }
            // The view keeps the last page at the bottom.
            self.help_scroll = self
                .help_scroll
                .min(crate::tui::keys::help_for(self.context()).len());
            return Vec::new();
        }
        self.act(action)
    }

    /// A key while a list's filter is being typed (`/`): text goes into the filter and no
    /// key acts (typing `/Revert api` filters; it opens nothing). Enter keeps the filter,
    /// Esc clears it, Ctrl-u empties it, Ctrl-c quits.
    fn filter_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            self.quit = true;
            return Vec::new();
        }
        let (filter, filtering, cursor) = match self.screen {
            Screen::Inbox => (
                &mut self.inbox.filter,
                &mut self.inbox.filtering,
                &mut self.inbox.cursor,
            ),
            Screen::Environments => (
                &mut self.environments.filter,
                &mut self.environments.filtering,
                &mut self.environments.cursor,
            ),
            Screen::History => match &mut self.history {
                Some(h) => (&mut h.filter, &mut h.filtering, &mut h.cursor),
                None => return Vec::new(),
            },
            Screen::Review => match &mut self.review {
                Some(r) if r.finding => return self.find_key(key),
                Some(r) => (&mut r.filter, &mut r.filtering, &mut r.cursor),
                None => return Vec::new(),
            },
        };
        match key.code {
            KeyCode::Esc => {
                filter.clear();
                *filtering = false;
            }
            KeyCode::Enter => *filtering = false,
            KeyCode::Backspace => {
                filter.pop();
            }
            KeyCode::Char('u') if ctrl => filter.clear(),
            KeyCode::Char(c) if !ctrl => filter.push(c),
            _ => {}
        }
        cursor.reset();
        if let Some(r) = self
            .review
            .as_mut()
            .filter(|_| self.screen == Screen::Review)
        {
            r.scroll = 0;
        }
        Vec::new()
    }

    /// A key while the search in a diff is typed: Enter goes to the first line found
    /// from the top of the screen on, Esc clears it.
    fn find_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let Some(r) = &mut self.review else {
            return Vec::new();
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => {
                r.find.clear();
                r.finding = false;
            }
            KeyCode::Enter => {
                r.finding = false;
                self.find(0, 1);
            }
            KeyCode::Backspace => {
                r.find.pop();
            }
            KeyCode::Char('u') if ctrl => r.find.clear(),
            KeyCode::Char(c) if !ctrl => r.find.push(c),
            _ => {}
        }
        Vec::new()
    }

    /// Scroll the right side to the next line (`step` 1) or previous one (-1) that
    /// contains the search, starting `from` lines after the top of the screen; wraps
    /// around, and says so when no line has it.
    fn find(&mut self, from: isize, step: isize) {
        let width = Areas::of(self.size, self.screen, self.zoomed())
            .detail
            .width
            .saturating_sub(2) as usize;
        let Some(r) = &self.review else { return };
        if r.find.is_empty() {
            self.message =
                Some("/ then a word searches the diff; n and N go through what it finds".into());
            return;
        }
        let needle = r.find.to_lowercase();
        let theme = crate::tui::theme::Theme { color: false };
        let lines = crate::tui::view::detail::detail_lines(r, &self.identity, theme, width);
        let count = lines.len() as isize;
        let found = (0..count)
            .map(|k| (r.scroll as isize + from + k * step).rem_euclid(count.max(1)))
            .find(|&i| lines.matches(i as usize, &needle));
        let (found, find) = (found, r.find.clone());
        drop(lines);
        match found {
            Some(line) => {
                if let Some(r) = &mut self.review {
                    r.scroll = line as usize;
                    r.focus = Pane::Diff;
                }
                self.message = Some(format!("/{find}: line {}", line + 1));
            }
            None => self.message = Some(format!("no line here contains \"{find}\"")),
        }
    }

    /// Whether the list on screen has its filter being typed.
    fn typing_a_filter(&self) -> bool {
        match self.screen {
            Screen::Inbox => self.inbox.filtering,
            Screen::Environments => self.environments.filtering,
            Screen::History => self.history.as_ref().is_some_and(|h| h.filtering),
            Screen::Review => self
                .review
                .as_ref()
                .is_some_and(|r| r.filtering || r.finding),
        }
    }

    pub fn act(&mut self, action: Action) -> Vec<Command> {
        let page = self.list_height().max(1) as isize;
        match action {
            Action::Quit => self.quit = true,
            Action::ToggleHelp => {
                self.help = !self.help;
                self.help_scroll = 0;
            }
            Action::Back => self.back(),
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::Top => self.move_by(isize::MIN / 2),
            Action::Bottom => self.move_by(isize::MAX / 2),
            Action::PageUp => self.move_by(-page),
            Action::PageDown => self.move_by(page),
            Action::HalfPageUp => self.move_by(-(page / 2).max(1)),
            Action::HalfPageDown => self.move_by((page / 2).max(1)),
            Action::StartFilter => {
                // A new search, as `/` does in less and vim.
                match (self.screen, &mut self.history) {
                    (Screen::History, Some(h)) => {
                        h.filter.clear();
                        h.filtering = true;
                        h.cursor.reset();
                    }
                    (Screen::Review, _) => {
                        if let Some(r) = &mut self.review {
                            let list = r.tab == Tab::Diff && r.focus == Pane::Objects && !r.zoomed;
                            if list {
                                r.filter.clear();
                                r.filtering = true;
                                r.cursor.reset();
                                r.scroll = 0;
                            } else {
                                r.find.clear();
                                r.finding = true;
                            }
                        }
                    }
                    (Screen::Environments, _) => {
                        self.environments.filter.clear();
                        self.environments.filtering = true;
                        self.environments.cursor.reset();
                    }
                    _ => {
                        self.inbox.filter.clear();
                        self.inbox.filtering = true;
                    }
                }
            }
            Action::FindNext => self.find(1, 1),
            Action::FindPrevious => self.find(-1, -1),
            Action::CycleSort => {
                self.inbox.sort = match self.inbox.sort {
                    SortKey::Age => SortKey::Repo,
                    SortKey::Repo => SortKey::Environment,
                    SortKey::Environment => SortKey::Age,
                };
                self.inbox.cursor.reset();
            }
            Action::Reload => {
                return match self.screen {
                    Screen::Environments => self.reload_environments(),
                    Screen::History => self.reload_history(),
                    Screen::Review => self.reload_review(),
                    Screen::Inbox => self.reload_inbox(),
                };
            }
            Action::ShowInbox => self.screen = Screen::Inbox,
            Action::ShowEnvironments => {
                self.screen = Screen::Environments;
                if self.environments.repos.is_empty() {
                    return self.reload_environments();
                }
            }
            Action::Open => return self.open_selected(),
            Action::CycleHistoryMode => return self.cycle_history_mode(),
            Action::ToggleFirstParent => return self.toggle_first_parent(),
            Action::OpenInBrowser => return self.open_in_browser(),
            Action::RequestApprove => return self.open_dialog(ReviewAction::Approve),
            Action::RequestUnapprove => return self.open_dialog(ReviewAction::Unapprove),
            Action::RequestMerge => return self.open_dialog(ReviewAction::Merge),
            Action::RequestClose => return self.open_close(),
            Action::BreakGlass => return self.open_break_glass(),
            Action::Copy => self.copy(),
            Action::StartJump => self.start_jump(),
            Action::Page => self.page(),
            Action::RequestRevert => return self.open_undo(false),
            Action::RequestRollback => return self.open_undo(true),
            // Only the undo dialog knows these, and it handles its own keys.
            Action::ToggleShared
            | Action::FinishReason
            | Action::EditReason
            | Action::ConfirmDirect => {}
            Action::Confirm => return self.confirm(),
            Action::Cancel => return self.close_dialog(),
            Action::ToggleSinceApproval => return self.toggle_since_approval(),
            Action::ToggleRaw => {
                if let Some(r) = &mut self.review {
                    r.raw = !r.raw;
                    r.cursor.reset();
                    r.scroll = 0;
                }
            }
            Action::ToggleZoom => {
                if let Some(r) = &mut self.review {
                    r.zoomed = !r.zoomed;
                    // The list is hidden: keys move the diff.
                    if r.zoomed {
                        r.focus = Pane::Diff;
                    }
                }
            }
            Action::ToggleSideBySide => {
                let width = Areas::of(self.size, self.screen, self.zoomed())
                    .detail
                    .width;
                if let Some(r) = &mut self.review {
                    r.side_by_side = !r.side_by_side;
                    if r.side_by_side && width < crate::tui::view::SIDE_BY_SIDE_MIN_WIDTH {
                        self.message = Some(format!(
                            "side by side needs a diff pane {} columns wide (a 120-column terminal, or z to zoom)",
                            crate::tui::view::SIDE_BY_SIDE_MIN_WIDTH
                        ));
                    }
                }
            }
            Action::ScrollLeft | Action::ScrollRight => {
                if let Some(r) = &mut self.review {
                    r.hscroll = match action {
                        Action::ScrollLeft => r.hscroll.saturating_sub(HSCROLL_STEP),
                        _ => (r.hscroll + HSCROLL_STEP).min(MAX_HSCROLL),
                    };
                }
            }
            Action::SwitchPane => {
                if let Some(r) = &mut self.review {
                    r.focus = match r.focus {
                        Pane::Objects => Pane::Diff,
                        Pane::Diff => Pane::Objects,
                    };
                }
            }
            Action::NextObject | Action::PreviousObject => {
                let visible = self.list_height();
                if let Some(r) = &mut self.review {
                    let delta = if action == Action::NextObject { 1 } else { -1 };
                    let count = object_count(r);
                    r.cursor.move_by(delta, count, visible);
                    r.scroll = 0;
                }
            }
            Action::NextTab | Action::PreviousTab => {
                if let Some(r) = &mut self.review {
                    let index = TABS.iter().position(|t| *t == r.tab).unwrap_or(0);
                    let next = if action == Action::NextTab {
                        (index + 1) % TABS.len()
                    } else {
                        (index + TABS.len() - 1) % TABS.len()
                    };
                    r.tab = TABS[next];
                    r.scroll = 0;
                }
            }
        }
        Vec::new()
    }

    fn back(&mut self) {
        match self.screen {
            Screen::Review => {
                // A kept search, then a kept filter, go first.
                if let Some(r) = self.review.as_mut().filter(|r| !r.find.is_empty()) {
                    r.find.clear();
                    return;
                }
                if let Some(r) = self.review.as_mut().filter(|r| !r.filter.is_empty()) {
                    r.filter.clear();
                    r.cursor.reset();
                    r.scroll = 0;
                    return;
                }
                // A commit opened from a promotion's Commits tab: back to the promotion.
                if let Some(previous) = self.review.as_mut().and_then(|r| r.previous.take()) {
                    self.review = Some(*previous);
                    return;
                }
                self.screen = self
                    .review
                    .as_ref()
                    .map(|r| r.back)
                    .unwrap_or(Screen::Inbox);
                self.review = None;
            }
            Screen::History => {
                // A kept filter goes first, as the title says.
                if let Some(h) = self.history.as_mut().filter(|h| !h.filter.is_empty()) {
                    h.filter.clear();
                    h.cursor.reset();
                    return;
                }
                self.screen = Screen::Environments;
                self.history = None;
            }
            // Esc clears a kept filter, as the screen says.
            Screen::Inbox => {
                self.inbox.filter.clear();
                self.inbox.cursor.reset();
            }
            Screen::Environments => {
                self.environments.filter.clear();
                self.environments.cursor.reset();
            }
        }
    }

    fn open_selected(&mut self) -> Vec<Command> {
        match self.screen {
            Screen::Inbox => {
                let Some(RepoLine::Item(row)) =
                    self.inbox_lines().get(self.inbox.cursor.selected).copied()
                else {
                    return Vec::new();
                };
                let header = row.clone();
                let request = self.request();
                let id = header.id.clone();
                self.open_review(header, request, Screen::Inbox, false);
                let mut commands = vec![Command::LoadPromotion {
                    request,
                    id: id.clone(),
                }];
                commands.extend(self.load_review_verdict());
                commands
            }
            Screen::Environments => {
                let Some(RepoLine::Item(env)) = self
                    .environment_lines()
                    .get(self.environments.cursor.selected)
                    .copied()
                else {
                    return Vec::new();
                };
                let (repo, env) = (env.repo.clone(), env.name.clone());
                self.open_history(repo, env, HistoryMode::Inputs, false)
            }
            Screen::History => {
                let Some(h) = &self.history else {
                    return Vec::new();
                };
                let Some(row) = h.selected() else {
                    return Vec::new();
                };
                let header = PromotionRow {
                    approvals: String::new(),
                    can_merge: false,
                    id: format!("{}@{}", h.repo, crate::text::short(&row.sha)),
                    repo: h.repo.clone(),
                    branch: row.sha.clone(),
                    title: row.subject.clone(),
                    author: row.author.clone(),
                    created: row.time,
                    environments: vec![h.env.clone()],
                    summary: String::new(),
                    url: None,
                };
                let (repo, sha) = (h.repo.clone(), row.sha.clone());
                let request = self.request();
                self.open_review(header, request, Screen::History, true);
                vec![Command::LoadCommit { request, repo, sha }]
            }
            Screen::Review => self.open_commit_of_review(),
        }
    }

    /// Enter on the Commits tab: the commit under the cursor, alone, against its parent;
    /// Esc comes back to this review.
    fn open_commit_of_review(&mut self) -> Vec<Command> {
        let Some(r) = self
            .review
            .as_ref()
            .filter(|r| r.tab == Tab::Commits && !r.commit)
        else {
            return Vec::new();
        };
        let Loading::Ready(d) = r.shown() else {
            return Vec::new();
        };
        let Some(commit) = d.commits.get(r.commit_cursor.selected) else {
            return Vec::new();
        };
        let header = PromotionRow {
            approvals: String::new(),
            can_merge: false,
            id: format!("{}@{}", r.header.repo, crate::text::short(&commit.sha)),
            repo: r.header.repo.clone(),
            branch: commit.sha.clone(),
            title: commit.subject.clone(),
            author: commit.author.name.clone(),
            created: commit.author.time,
            environments: r.header.environments.clone(),
            summary: String::new(),
            url: None,
        };
        let (repo, sha) = (r.header.repo.clone(), commit.sha.clone());
        let previous = self.review.take().map(Box::new);
        let request = self.request();
        self.open_review(header, request, Screen::Review, true);
        if let Some(review) = &mut self.review {
            review.previous = previous;
        }
        vec![Command::LoadCommit { request, repo, sha }]
    }

    /// The id of the promotion under the inbox's cursor.
    fn selected_promotion_id(&self) -> Option<String> {
        match self.inbox_lines().get(self.inbox.cursor.selected) {
            Some(RepoLine::Item(row)) => Some(row.id.clone()),
            _ => None,
        }
    }

    /// `o`: the selected (or reviewed) pull request's page on GitHub.
    fn open_in_browser(&mut self) -> Vec<Command> {
        let row = match self.screen {
            Screen::Inbox => match self.inbox_lines().get(self.inbox.cursor.selected) {
                Some(RepoLine::Item(row)) => Some((*row).clone()),
                _ => None,
            },
            Screen::Review => self.review.as_ref().map(|r| r.header.clone()),
            _ => None,
        };
        match row {
            Some(PromotionRow { url: Some(url), .. }) => vec![Command::OpenUrl { url }],
            Some(row) => {
                self.message = Some(format!(
                    "{} is a branch, not a GitHub pull request: it has no page to open",
                    row.id
                ));
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    /// Open the review screen on `header`, waiting for request `request`'s detail.
    pub fn open_review(
        &mut self,
        header: PromotionRow,
        request: RequestId,
        back: Screen,
        commit: bool,
    ) {
        self.review = Some(ReviewState {
            header,
            request,
            detail: Loading::Loading,
            tab: Tab::Diff,
            focus: Pane::Objects,
            cursor: Cursor::default(),
            scroll: 0,
            back,
            commit,
            raw: false,
            side_by_side: false,
            zoomed: false,
            verdict: None,
            since: None,
            filter: String::new(),
            filtering: false,
            find: String::new(),
            finding: false,
            hscroll: 0,
            commit_cursor: Cursor::default(),
            previous: None,
        });
        self.screen = Screen::Review;
    }

    pub(super) fn open_history(
        &mut self,
        repo: String,
        env: String,
        mode: HistoryMode,
        first_parent: bool,
    ) -> Vec<Command> {
        let request = self.request();
        let command = Command::LoadHistory {
            request,
            repo: repo.clone(),
            env: env.clone(),
            mode,
            first_parent,
        };
        self.history = Some(HistoryState {
            repo,
            env,
            mode,
            first_parent,
            request,
            rows: Vec::new(),
            progress: HistoryProgress::Walking,
            cursor: Cursor::default(),
            filter: String::new(),
            filtering: false,
        });
        self.screen = Screen::History;
        vec![command]
    }

    /// Load (again) the verdict of the promotion under review, into its Verdict tab.
    pub(super) fn load_review_verdict(&mut self) -> Vec<Command> {
        let Some(review) = &mut self.review else {
            return Vec::new();
        };
        if review.commit {
            return Vec::new();
        }
        review.verdict = Some(Loading::Loading);
        vec![Command::LoadVerdict {
            request: review.request,
            id: review.header.id.clone(),
        }]
    }

    /// `y`: copy what the cursor is on: a promotion's id, an environment, a commit's sha.
    fn copy(&mut self) {
        let text = match self.screen {
            Screen::Inbox => self.selected_promotion_id(),
            Screen::Environments => match self
                .environment_lines()
                .get(self.environments.cursor.selected)
            {
                Some(RepoLine::Item(env)) => Some(format!("{}/{}", env.repo, env.name)),
                _ => None,
            },
            Screen::History => self
                .history
                .as_ref()
                .and_then(|h| h.selected())
                .map(|row| row.sha.clone()),
            Screen::Review => self.review.as_ref().map(|r| match r.commit {
                true => r.header.branch.clone(),
                false => r.header.id.clone(),
            }),
        };
        if let Some(text) = text {
            self.message = Some(format!("copied {text}"));
            self.terminal_request = Some(TerminalRequest::Copy(text));
        }
    }

    /// `e`: what the review's right side shows, as text, in `$PAGER`.
    fn page(&mut self) {
        let Some(r) = self
            .review
            .as_ref()
            .filter(|_| self.screen == Screen::Review)
        else {
            return;
        };
        let theme = crate::tui::theme::Theme { color: false };
        // As wide as a pager shows comfortably; field changes wrap to it.
        let lines = crate::tui::view::detail::detail_lines(r, &self.identity, theme, 160);
        if lines.is_empty() {
            self.message = Some("nothing to show in the pager here".into());
            return;
        }
        let text: String = lines
            .window(0, lines.len())
            .iter()
            .map(|line| format!("{line}\n"))
            .collect();
        let name = match r.shown() {
            Loading::Ready(d) if r.tab == Tab::Diff => {
                let index = r.selected_index();
                match r.raw {
                    true => index.and_then(|i| d.files.get(i)).map(|f| f.path.clone()),
                    false => index
                        .and_then(|i| d.objects.get(i))
                        .map(|o| o.key.to_string()),
                }
            }
            _ => None,
        }
        .unwrap_or_else(|| format!("{} {:?}", r.header.id, r.tab).to_lowercase());
        self.terminal_request = Some(TerminalRequest::Page { name, text });
    }

    /// `i`: show what changed since an older head was approved, or the whole promotion
    /// again.
    fn toggle_since_approval(&mut self) -> Vec<Command> {
        let identity = self.identity.clone();
        let request = self.request();
        let Some(review) = &mut self.review else {
            return Vec::new();
        };
        review.cursor.reset();
        review.scroll = 0;
        if review.since.take().is_some() {
            return Vec::new();
        }
        if review.commit {
            self.message = Some("a commit has no approvals to compare with".into());
            return Vec::new();
        }
        let Some((from, by)) = review.approved_before(&identity) else {
            self.message = Some(
                "no approval of an older head: there is nothing to compare with (the Verdict tab lists the approvals)".into(),
            );
            return Vec::new();
        };
        let Loading::Ready(detail) = &review.detail else {
            return Vec::new();
        };
        let to = detail.head.clone();
        review.since = Some(SinceApproval {
            request,
            from: from.clone(),
            by,
            detail: Loading::Loading,
        });
        vec![Command::LoadInterdiff {
            request,
            repo: review.header.repo.clone(),
            from,
            to,
        }]
    }

    /// A poll's answer: when a repo's refs changed since the last poll, its inbox rows
    /// are read again (the rest stay), and a promotion under review gets its verdict
    /// read again, which says if it moved or was merged.
    fn polled(&mut self, repo: String, fingerprint: String) -> Vec<Command> {
        let changed = self
            .polled
            .insert(repo.clone(), fingerprint.clone())
            .is_some_and(|before| before != fingerprint);
        if !changed {
            return Vec::new();
        }
        let mut commands = Vec::new();
        let request = self.request();
        if let Some(slot) = self.inbox.repos.iter_mut().find(|s| s.name == repo) {
            slot.request = request;
            commands.push(Command::LoadRepo {
                request,
                repo: repo.clone(),
            });
        }
        if let Some(review) = &self.review
            && review.header.repo == repo
            && !review.commit
        {
            self.message = Some(format!(
                "{repo} changed elsewhere (a push, an approval or a merge): the verdict is read again; R reloads the diff"
            ));
            commands.extend(self.load_review_verdict());
        }
        commands
    }

    /// `R` in a history: walk it again, in the same mode.
    pub(super) fn reload_history(&mut self) -> Vec<Command> {
        let Some(h) = &self.history else {
            return Vec::new();
        };
        let (repo, env, mode) = (h.repo.clone(), h.env.clone(), h.mode);
        self.open_history(repo, env, mode, h.first_parent)
    }

    /// `R` in a review: load the promotion (its head as it is now) or the commit again.
    fn reload_review(&mut self) -> Vec<Command> {
        let Some(review) = &self.review else {
            return Vec::new();
        };
        let (header, back, commit) = (review.header.clone(), review.back, review.commit);
        let request = self.request();
        let command = match commit {
            true => Command::LoadCommit {
                request,
                repo: header.repo.clone(),
                sha: header.branch.clone(),
            },
            false => Command::LoadPromotion {
                request,
                id: header.id.clone(),
            },
        };
        self.open_review(header, request, back, commit);
        let mut commands = vec![command];
        commands.extend(self.load_review_verdict());
        commands
    }

    fn cycle_history_mode(&mut self) -> Vec<Command> {
        let Some(h) = &self.history else {
            return Vec::new();
        };
        let mode = match h.mode {
            HistoryMode::Inputs => HistoryMode::Rendered,
            HistoryMode::Rendered => HistoryMode::PathOnly,
            HistoryMode::PathOnly => HistoryMode::Inputs,
        };
        let (repo, env) = (h.repo.clone(), h.env.clone());
        self.open_history(repo, env, mode, h.first_parent)
    }

    /// `f`: the branch's own line only, or every commit again.
    fn toggle_first_parent(&mut self) -> Vec<Command> {
        let Some(h) = &self.history else {
            return Vec::new();
        };
        let (repo, env, mode) = (h.repo.clone(), h.env.clone(), h.mode);
        self.open_history(repo, env, mode, !h.first_parent)
    }

    /// Rows the list on screen has room for.
    pub(super) fn list_height(&self) -> usize {
        let areas = Areas::of(self.size, self.screen, self.zoomed());
        match self.screen {
            // Border and column header.
            Screen::Inbox | Screen::Environments => areas.list.height.saturating_sub(3) as usize,
            Screen::History | Screen::Review => areas.list.height.saturating_sub(2) as usize,
        }
    }

    fn move_by(&mut self, delta: isize) {
        let visible = self.list_height();
        match self.screen {
            Screen::Inbox => {
                let count = self.inbox_lines().len();
                self.inbox.cursor.move_by(delta, count, visible);
            }
            Screen::Environments => {
                let count = self.environment_lines().len();
                self.environments.cursor.move_by(delta, count, visible);
            }
            Screen::History => {
                if let Some(h) = &mut self.history {
                    let count = h.shown().len();
                    h.cursor.move_by(delta, count, visible);
                }
            }
            Screen::Review => {
                let detail = Areas::of(self.size, self.screen, self.zoomed()).detail;
                let diff_height = detail.height.saturating_sub(2) as usize;
                let diff_width = detail.width.saturating_sub(2) as usize;
                let main_height = Areas::of(self.size, self.screen, self.zoomed())
                    .list
                    .height
                    .saturating_sub(2) as usize;
                let Some(r) = &mut self.review else { return };
                if r.tab == Tab::Commits {
                    // Two lines a commit: the cursor moves by commit, the view follows it.
                    let count = match r.shown() {
                        Loading::Ready(d) => d.commits.len(),
                        _ => 0,
                    };
                    r.commit_cursor
                        .move_by(delta, count, (main_height / 2).max(1));
                    r.scroll = r.commit_cursor.offset * 2;
                } else if r.focus == Pane::Diff || r.tab != Tab::Diff {
                    let max =
                        right_side_lines(r, &self.identity, diff_width).saturating_sub(diff_height);
                    r.scroll = r.scroll.saturating_add_signed(delta).min(max);
                } else {
                    let count = object_count(r);
                    r.cursor.move_by(delta, count, visible);
                    r.scroll = 0;
                }
            }
        }
    }

    pub fn handle_mouse(&mut self, mouse: MouseEvent) -> Vec<Command> {
        let at = Position::new(mouse.column, mouse.row);
        let areas = Areas::of(self.size, self.screen, self.zoomed());
        match mouse.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let delta = if mouse.kind == MouseEventKind::ScrollDown {
                    3
                } else {
                    -3
                };
                if let Some(r) = &mut self.review
                    && self.screen == Screen::Review
                {
                    r.focus = if areas.detail.contains(at) {
                        Pane::Diff
                    } else {
                        Pane::Objects
                    };
                }
                self.move_by(delta);
            }
            MouseEventKind::Down(_) if areas.list.contains(at) => {
                // Rows start below the border, and below the column header where there is one.
                let header = matches!(self.screen, Screen::Inbox | Screen::Environments);
                let first = areas.list.y + 1 + u16::from(header);
                if at.y < first {
                    return Vec::new();
                }
                let row = (at.y - first) as usize;
                match self.screen {
                    Screen::Inbox => {
                        let count = self.inbox_lines().len();
                        self.inbox.cursor.click(row, count);
                    }
                    Screen::Environments => {
                        let count = self.environment_lines().len();
                        self.environments.cursor.click(row, count);
                    }
                    Screen::History => {
                        if let Some(h) = &mut self.history {
                            let count = h.shown().len();
                            h.cursor.click(row, count);
                        }
                    }
                    Screen::Review => {
                        if let Some(r) = &mut self.review {
                            let count = object_count(r);
                            if r.cursor.click(row, count) {
                                r.scroll = 0;
                                r.focus = Pane::Objects;
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// Take a finished piece of work; results for requests the user has left are dropped.
    /// Returns the work it leads to (a new promotion to open, the inbox to reload).
    pub fn apply(&mut self, outcome: Outcome) -> Vec<Command> {
        fn fill<T>(
            repos: &mut [RepoSlot<T>],
            repo: &str,
            request: RequestId,
            result: Result<Vec<T>, String>,
        ) {
            if let Some(slot) = repos
                .iter_mut()
                .find(|s| s.name == repo && s.request == request)
            {
                slot.state = match result {
                    Ok(items) => Loading::Ready(items),
                    Err(e) => Loading::Failed(e),
                };
            }
        }
        match outcome {
            Outcome::Message(text) => self.message = Some(text),
            Outcome::Polled {
                repo,
                fingerprint: Some(fingerprint),
            } => return self.polled(repo, fingerprint),
            Outcome::Polled { .. } => {}
            Outcome::GitHubAccount(login) => self.github_account = Some(login),
            Outcome::Closed { request, result } => return self.reason_dialog_done(request, result),
            Outcome::UndoPlanned { request, result } => self.undo_planned(request, result),
            Outcome::UndoCreated { request, result } => return self.undo_created(request, result),
            Outcome::UndoWrittenDirectly { request, result } => {
                return self.undo_written_directly(request, result);
            }
            Outcome::Verdict { request, result } => {
                let loaded = match result {
                    Ok(v) => Loading::Ready(v),
                    Err(e) => Loading::Failed(e),
                };
                if let Some(d) = &mut self.dialog
                    && d.request == request
                {
                    d.verdict = loaded;
                } else if let Some(r) = &mut self.review
                    && r.request == request
                {
                    r.verdict = Some(loaded);
                }
            }
            Outcome::Acted {
                request,
                action,
                result,
            } => {
                if self
                    .reason_dialog
                    .as_ref()
                    .is_some_and(|d| d.request == request)
                {
                    return self.reason_dialog_done(request, result);
                }
                if let Some(d) = &mut self.dialog
                    && d.request == request
                {
                    self.message = Some(match &result {
                        Ok(done) => done.clone(),
                        Err(e) => format!("{} failed: {e}", action.verb()),
                    });
                    d.outcome = Some(match result {
                        Ok(done) => Loading::Ready(done),
                        Err(e) => Loading::Failed(e),
                    });
                }
            }
            Outcome::Repo {
                request,
                repo,
                result,
            } => {
                // Rows of another repo may land above the selection: keep the same
                // promotion selected, not the same line number (unless the cursor is at
                // the top, where it stays: nobody chose the row that happened to be first).
                let selected = self
                    .selected_promotion_id()
                    .filter(|_| self.inbox.cursor.selected > 0);
                fill(&mut self.inbox.repos, &repo, request, result);
                if let Some(id) = selected
                    && let Some(i) = self
                        .inbox_lines()
                        .iter()
                        .position(|l| matches!(l, RepoLine::Item(r) if r.id == id))
                {
                    self.inbox.cursor.selected = i;
                }
            }
            Outcome::Environments {
                request,
                repo,
                result,
            } => {
                // Where a cluster is configured, ask it what runs, in the background.
                let clustered: Vec<String> = match &result {
                    Ok(rows) => rows
                        .iter()
                        .filter(|r| r.cluster)
                        .map(|r| r.name.clone())
                        .collect(),
                    Err(_) => Vec::new(),
                };
                let current = self
                    .environments
                    .repos
                    .iter()
                    .any(|s| s.name == repo && s.request == request);
                let selected = match self
                    .environment_lines()
                    .get(self.environments.cursor.selected)
                {
                    Some(RepoLine::Item(env)) if self.environments.cursor.selected > 0 => {
                        Some((env.repo.clone(), env.name.clone()))
                    }
                    _ => None,
                };
                fill(&mut self.environments.repos, &repo, request, result);
                if let Some((repo, name)) = selected
                    && let Some(i) = self.environment_lines().iter().position(
                        |l| matches!(l, RepoLine::Item(e) if e.repo == repo && e.name == name),
                    )
                {
                    self.environments.cursor.selected = i;
                }
                if !current {
                    return Vec::new();
                }
                let mut commands = self.jump_when_loaded();
                for env in clustered {
                    let request = self.request();
                    self.environments
                        .deployed
                        .insert((repo.clone(), env.clone()), Loading::Loading);
                    commands.push(Command::LoadDeployed {
                        request,
                        repo: repo.clone(),
                        env,
                    });
                }
                return commands;
            }
            Outcome::Deployed {
                repo, env, result, ..
            } => {
                if let Some(slot) = self.environments.deployed.get_mut(&(repo, env)) {
                    *slot = match result {
                        Ok(deployed) => Loading::Ready(deployed),
                        Err(e) => Loading::Failed(e),
                    };
                }
            }
            Outcome::Interdiff { request, result } => {
                if let Some(since) = self
                    .review
                    .as_mut()
                    .and_then(|r| r.since.as_mut())
                    .filter(|s| s.request == request)
                {
                    since.detail = match result {
                        Ok(detail) => Loading::Ready(detail),
                        Err(e) => Loading::Failed(e),
                    };
                }
            }
            Outcome::Review { request, result } => {
                if let Some(r) = &mut self.review
                    && r.request == request
                {
                    r.detail = match result {
                        Ok(detail) => Loading::Ready(detail),
                        Err(e) => Loading::Failed(e),
                    };
                }
            }
            Outcome::History {
                request,
                rows,
                done,
                error,
            } => {
                if let Some(h) = &mut self.history
                    && h.request == request
                {
                    h.rows.extend(rows);
                    if let Some(error) = error {
                        h.progress = HistoryProgress::Failed(error);
                    } else if done {
                        h.progress = HistoryProgress::Done;
                    }
                }
            }
        }
        Vec::new()
    }

    /// The history walk the app is waiting for, if any.
    pub fn history_request(&self) -> Option<RequestId> {
        self.history.as_ref().map(|h| h.request)
    }

    pub fn resize(&mut self, size: Rect) {
        self.size = size;
    }
}

/// Rows of the review's left-hand list: objects, or files in raw mode.
fn object_count(r: &ReviewState) -> usize {
    match r.shown() {
        Loading::Ready(_) if !r.filter.is_empty() => r.listed().len(),
        Loading::Ready(d) if r.raw => d.files.len(),
        Loading::Ready(d) => d.objects.len(),
        _ => 0,
    }
}

/// Lines of whatever the review's right side shows now.
fn right_side_lines(r: &ReviewState, identity: &str, width: usize) -> usize {
    let theme = crate::tui::theme::Theme { color: false };
    crate::tui::view::detail::detail_lines(r, identity, theme, width).len()
}
