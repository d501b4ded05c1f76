//! The TUI's state and how it changes: a key or a finished piece of work comes in, the
//! state is updated, and the commands for slow work go out. Nothing here draws, awaits
//! or touches a terminal, so key sequences can be tested as plain function calls.

use ratatui::crossterm::event::{KeyCode, KeyEvent, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::keys::{Action, Context, action_for};
use super::layout::Areas;
use super::work::{Command, Outcome, PromotionDetail, PromotionRow, RequestId};

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
    Promotion,
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
}

pub const TABS: [Tab; 3] = [Tab::Diff, Tab::Commits, Tab::Description];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Objects,
    Diff,
}

#[derive(Debug)]
pub struct RepoSlot {
    pub name: String,
    pub request: RequestId,
    pub state: Loading<Vec<PromotionRow>>,
}

/// A line of the inbox: a promotion, or a repo still loading or failing to load.
#[derive(Debug, Clone, Copy)]
pub enum InboxLine<'a> {
    Row(&'a PromotionRow),
    Loading(&'a str),
    Failed(&'a str, &'a str),
}

#[derive(Debug)]
pub struct InboxState {
    pub repos: Vec<RepoSlot>,
    pub selected: usize,
    pub offset: usize,
    pub filter: String,
    pub filtering: bool,
    pub sort: SortKey,
}

#[derive(Debug)]
pub struct PromotionState {
    pub row: PromotionRow,
    pub request: RequestId,
    pub detail: Loading<Box<PromotionDetail>>,
    pub tab: Tab,
    pub focus: Pane,
    pub selected: usize,
    pub offset: usize,
    /// First line of the selected object's diff on screen.
    pub scroll: usize,
}

#[derive(Debug)]
pub struct App {
    pub identity: String,
    pub screen: Screen,
    pub inbox: InboxState,
    pub promotion: Option<PromotionState>,
    pub help: bool,
    pub quit: bool,
    /// Terminal size, for page sizes and mouse hit-testing.
    pub size: Rect,
    /// "Now" for ages, fixed per app so that drawing is a pure function.
    pub now: i64,
    pub tick: usize,
    next_request: RequestId,
}

impl App {
    /// A new app on the inbox, asking for every repo's promotions.
    pub fn new(identity: String, repos: &[String], now: i64, size: Rect) -> (App, Vec<Command>) {
        let mut app = App {
            identity,
            screen: Screen::Inbox,
            inbox: InboxState {
                repos: Vec::new(),
                selected: 0,
                offset: 0,
                filter: String::new(),
                filtering: false,
                sort: SortKey::Age,
            },
            promotion: None,
            help: false,
            quit: false,
            size,
            now,
            tick: 0,
            next_request: 1,
        };
        let commands = app.reload(repos);
        (app, commands)
    }

    fn request(&mut self) -> RequestId {
        self.next_request += 1;
        self.next_request
    }

    fn reload(&mut self, repos: &[String]) -> Vec<Command> {
        let mut commands = Vec::new();
        self.inbox.repos = repos
            .iter()
            .map(|name| {
                let request = self.request();
                commands.push(Command::LoadRepo {
                    request,
                    repo: name.clone(),
                });
                RepoSlot {
                    name: name.clone(),
                    request,
                    state: Loading::Loading,
                }
            })
            .collect();
        commands
    }

    pub fn context(&self) -> Context {
        match self.screen {
            Screen::Inbox => Context::Inbox,
            Screen::Promotion => Context::Promotion,
        }
    }

    /// The inbox as shown: promotions filtered and sorted, then repos loading or failed.
    pub fn inbox_lines(&self) -> Vec<InboxLine<'_>> {
        let filter = self.inbox.filter.to_lowercase();
        let mut rows: Vec<&PromotionRow> = self
            .inbox
            .repos
            .iter()
            .filter_map(|slot| match &slot.state {
                Loading::Ready(rows) => Some(rows),
                _ => None,
            })
            .flatten()
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
        let mut lines: Vec<InboxLine<'_>> = rows.into_iter().map(InboxLine::Row).collect();
        for slot in &self.inbox.repos {
            match &slot.state {
                Loading::Loading => lines.push(InboxLine::Loading(&slot.name)),
                Loading::Failed(error) => lines.push(InboxLine::Failed(&slot.name, error)),
                Loading::Ready(_) => {}
            }
        }
        lines
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Vec<Command> {
        if self.screen == Screen::Inbox && self.inbox.filtering {
            return self.filter_key(key);
        }
        let Some(action) = action_for(self.context(), &key) else {
            return Vec::new();
        };
        if self.help {
            // Help is modal: it closes on its own key, Esc or q; the rest is ignored.
            if matches!(action, Action::ToggleHelp | Action::Back | Action::Quit) {
                self.help = false;
            }
            return Vec::new();
        }
        self.act(action)
    }

    fn filter_key(&mut self, key: KeyEvent) -> Vec<Command> {
        match key.code {
            KeyCode::Esc => {
                self.inbox.filter.clear();
                self.inbox.filtering = false;
            }
            KeyCode::Enter => self.inbox.filtering = false,
            KeyCode::Backspace => {
                self.inbox.filter.pop();
            }
            KeyCode::Char(c) => self.inbox.filter.push(c),
            _ => {}
        }
        self.inbox.selected = 0;
        self.inbox.offset = 0;
        Vec::new()
    }

    pub fn act(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::Quit => self.quit = true,
            Action::ToggleHelp => self.help = !self.help,
            Action::Back => {
                if self.screen == Screen::Promotion {
                    self.screen = Screen::Inbox;
                    self.promotion = None;
                }
            }
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::Top => self.move_selection(isize::MIN / 2),
            Action::Bottom => self.move_selection(isize::MAX / 2),
            Action::PageUp => self.move_selection(-(self.page() as isize)),
            Action::PageDown => self.move_selection(self.page() as isize),
            Action::HalfPageUp => self.move_selection(-(self.page() as isize / 2).max(1)),
            Action::HalfPageDown => self.move_selection((self.page() as isize / 2).max(1)),
            Action::StartFilter => self.inbox.filtering = true,
            Action::CycleSort => {
                self.inbox.sort = match self.inbox.sort {
                    SortKey::Age => SortKey::Repo,
                    SortKey::Repo => SortKey::Environment,
                    SortKey::Environment => SortKey::Age,
                };
                self.inbox.selected = 0;
                self.inbox.offset = 0;
            }
            Action::Reload => {
                let names: Vec<String> = self.inbox.repos.iter().map(|r| r.name.clone()).collect();
                self.inbox.selected = 0;
                self.inbox.offset = 0;
                return self.reload(&names);
            }
            Action::Open => return self.open_selected(),
            Action::SwitchPane => {
                if let Some(p) = &mut self.promotion {
                    p.focus = match p.focus {
                        Pane::Objects => Pane::Diff,
                        Pane::Diff => Pane::Objects,
                    };
                }
            }
            Action::NextObject | Action::PreviousObject => {
                let visible = self.list_height();
                if let Some(p) = &mut self.promotion {
                    let count = object_count(p);
                    let delta = if action == Action::NextObject { 1 } else { -1 };
                    select(&mut p.selected, &mut p.offset, delta, count, visible);
                    p.scroll = 0;
                }
            }
            Action::NextTab | Action::PreviousTab => {
                if let Some(p) = &mut self.promotion {
                    let index = TABS.iter().position(|t| *t == p.tab).unwrap_or(0);
                    let next = if action == Action::NextTab {
                        (index + 1) % TABS.len()
                    } else {
                        (index + TABS.len() - 1) % TABS.len()
                    };
                    p.tab = TABS[next];
                }
            }
        }
        Vec::new()
    }

    fn open_selected(&mut self) -> Vec<Command> {
        if self.screen != Screen::Inbox {
            return Vec::new();
        }
        let Some(InboxLine::Row(row)) = self.inbox_lines().get(self.inbox.selected).copied() else {
            return Vec::new();
        };
        let row = row.clone();
        let id = row.id.clone();
        let request = self.request();
        self.promotion = Some(PromotionState {
            row,
            request,
            detail: Loading::Loading,
            tab: Tab::Diff,
            focus: Pane::Objects,
            selected: 0,
            offset: 0,
            scroll: 0,
        });
        self.screen = Screen::Promotion;
        vec![Command::LoadPromotion { request, id }]
    }

    /// Rows a page moves by: the height of the list being moved in.
    fn page(&self) -> usize {
        self.list_height().max(1)
    }

    fn list_height(&self) -> usize {
        let areas = Areas::of(self.size, self.screen);
        match self.screen {
            Screen::Inbox => areas.list.height.saturating_sub(3) as usize,
            Screen::Promotion => areas.list.height.saturating_sub(2) as usize,
        }
    }

    fn diff_height(&self) -> usize {
        Areas::of(self.size, self.screen)
            .detail
            .height
            .saturating_sub(2) as usize
    }

    fn move_selection(&mut self, delta: isize) {
        let visible = self.list_height();
        match self.screen {
            Screen::Inbox => {
                let count = self.inbox_lines().len();
                select(
                    &mut self.inbox.selected,
                    &mut self.inbox.offset,
                    delta,
                    count,
                    visible,
                );
            }
            Screen::Promotion => {
                let diff_height = self.diff_height();
                let Some(p) = &mut self.promotion else { return };
                let count = object_count(p);
                if p.focus == Pane::Diff || p.tab != Tab::Diff {
                    let lines = selected_lines(p);
                    let max = lines.saturating_sub(diff_height);
                    p.scroll = p.scroll.saturating_add_signed(delta).min(max);
                } else {
                    select(&mut p.selected, &mut p.offset, delta, count, visible);
                    p.scroll = 0;
                }
            }
        }
    }

    pub fn handle_mouse(&mut self, mouse: MouseEvent) -> Vec<Command> {
        let at = Position::new(mouse.column, mouse.row);
        let areas = Areas::of(self.size, self.screen);
        match mouse.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let delta = if mouse.kind == MouseEventKind::ScrollDown {
                    3
                } else {
                    -3
                };
                if let Some(p) = &mut self.promotion
                    && self.screen == Screen::Promotion
                {
                    p.focus = if areas.detail.contains(at) {
                        Pane::Diff
                    } else {
                        Pane::Objects
                    };
                }
                self.move_selection(delta);
            }
            MouseEventKind::Down(_) if areas.list.contains(at) => {
                // Inbox rows start below the border and the header row.
                let first = areas.list.y + if self.screen == Screen::Inbox { 2 } else { 1 };
                if at.y >= first {
                    let row = (at.y - first) as usize;
                    match self.screen {
                        Screen::Inbox => {
                            let target = self.inbox.offset + row;
                            if target < self.inbox_lines().len() {
                                self.inbox.selected = target;
                            }
                        }
                        Screen::Promotion => {
                            if let Some(p) = &mut self.promotion {
                                let target = p.offset + row;
                                if target < object_count(p) {
                                    p.selected = target;
                                    p.scroll = 0;
                                    p.focus = Pane::Objects;
                                }
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
    pub fn apply(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Repo {
                request,
                repo,
                result,
            } => {
                if let Some(slot) = self
                    .inbox
                    .repos
                    .iter_mut()
                    .find(|s| s.name == repo && s.request == request)
                {
                    slot.state = match result {
                        Ok(rows) => Loading::Ready(rows),
                        Err(e) => Loading::Failed(e),
                    };
                }
            }
            Outcome::Promotion { request, result } => {
                if let Some(p) = &mut self.promotion
                    && p.request == request
                {
                    p.detail = match result {
                        Ok(detail) => Loading::Ready(detail),
                        Err(e) => Loading::Failed(e),
                    };
                }
            }
        }
    }

    pub fn resize(&mut self, size: Rect) {
        self.size = size;
    }
}

fn object_count(p: &PromotionState) -> usize {
    match &p.detail {
        Loading::Ready(d) => d.objects.len(),
        _ => 0,
    }
}

/// Lines of whatever the promotion's right side shows now.
fn selected_lines(p: &PromotionState) -> usize {
    let Loading::Ready(d) = &p.detail else {
        return 0;
    };
    match p.tab {
        Tab::Diff => d
            .objects
            .get(p.selected)
            .map(|o| o.lines.len() + o.fields.len() + 2)
            .unwrap_or(0),
        Tab::Commits => d.commits.len() * 2,
        Tab::Description => d.description.lines().count(),
    }
}

/// Move `selected` by `delta` within `count` rows and keep it inside the `visible` window
/// that starts at `offset`.
fn select(selected: &mut usize, offset: &mut usize, delta: isize, count: usize, visible: usize) {
    if count == 0 {
        *selected = 0;
        *offset = 0;
        return;
    }
    *selected = selected.saturating_add_signed(delta).min(count - 1);
    let visible = visible.max(1);
    if *selected < *offset {
        *offset = *selected;
    } else if *selected >= *offset + visible {
        *offset = *selected + 1 - visible;
    }
}
