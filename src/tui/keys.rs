//! One key map: `(context, key) → action`. The event loop looks keys up here, and the
//! help overlay and the status bar's hints are drawn from the same table, so what the
//! help says is what the keys do.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    ToggleHelp,
    Back,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    HalfPageUp,
    HalfPageDown,
    Open,
    StartFilter,
    /// The next (previous) line the search in a diff found.
    FindNext,
    FindPrevious,
    CycleSort,
    SwitchPane,
    NextObject,
    PreviousObject,
    NextTab,
    PreviousTab,
    Reload,
    ShowInbox,
    ShowEnvironments,
    CycleHistoryMode,
    ToggleFirstParent,
    ToggleRaw,
    /// The change since an older head was approved (the re-review after a push).
    ToggleSinceApproval,
    ToggleSideBySide,
    /// The diff sideways, for lines wider than the pane.
    ScrollLeft,
    ScrollRight,
    /// The diff pane over the whole width.
    ToggleZoom,
    /// A pull request's page on GitHub, in the browser.
    OpenInBrowser,
    RequestApprove,
    RequestUnapprove,
    RequestMerge,
    RequestRevert,
    /// Merge through a freeze or a failed render, with a reason.
    BreakGlass,
    /// Copy the id or sha under the cursor.
    Copy,
    /// `:` then a name: jump to a repo or environment.
    StartJump,
    /// Show the diff (or the tab) in `$PAGER`.
    Page,
    /// Abandon the promotion: delete its branch, recording why.
    RequestClose,
    RequestRollback,
    /// Also set back shared files (a kustomize base) in a rollback.
    ToggleShared,
    /// The reason of a revert or rollback is written: the preview waits for `y`.
    FinishReason,
    /// Back to writing the reason.
    EditReason,
    Confirm,
    /// Break-glass: write a revert or rollback straight onto the protected branch.
    ConfirmDirect,
    Cancel,
}

/// Where a binding applies. `Global` bindings apply everywhere unless a more specific
/// context binds the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Global,
    Inbox,
    Environments,
    History,
    /// A promotion, or a commit, with its rendered diff.
    Review,
    /// A confirmation dialog over the review.
    Dialog,
    /// The revert or rollback dialog: typing goes into the reason.
    Undo,
    /// The revert or rollback dialog once its reason is written: `y` writes it.
    UndoReady,
}

pub struct Binding {
    pub context: Context,
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
    pub action: Action,
    /// How the key is written in help and hints.
    pub keys: &'static str,
    pub help: &'static str,
    /// The one-word hint in the status bar, for the keys worth a hint there.
    pub hint: Option<&'static str>,
}

const fn bind(
    context: Context,
    code: KeyCode,
    action: Action,
    keys: &'static str,
    help: &'static str,
    hint: Option<&'static str>,
) -> Binding {
    Binding {
        context,
        code,
        modifiers: KeyModifiers::NONE,
        action,
        keys,
        help,
        hint,
    }
}

const fn ctrl(
    context: Context,
    c: char,
    action: Action,
    keys: &'static str,
    help: &'static str,
) -> Binding {
    Binding {
        context,
        code: KeyCode::Char(c),
        modifiers: KeyModifiers::CONTROL,
        action,
        keys,
        help,
        hint: None,
    }
}

use Action as A;
use Context as C;
use KeyCode as K;

/// Every binding; the first match wins, context-specific ones are listed before global ones.
#[rustfmt::skip]
pub const BINDINGS: &[Binding] = &[
    bind(C::Inbox, K::Enter, A::Open, "enter", "open the promotion", Some("open")),
    bind(C::Inbox, K::Char('/'), A::StartFilter, "/", "filter as you type", Some("filter")),
    bind(C::Inbox, K::Char('s'), A::CycleSort, "s", "sort by age, repo, environment", Some("sort")),
    bind(C::Inbox, K::Char('R'), A::Reload, "R", "reload every repo", None),
    bind(C::Inbox, K::Char('y'), A::Copy, "y", "copy the promotion's id", None),
    bind(C::Inbox, K::Char('o'), A::OpenInBrowser, "o", "open the pull request on GitHub", None),
    bind(C::Environments, K::Enter, A::Open, "enter", "open the environment's history", Some("history")),
    bind(C::Environments, K::Char('/'), A::StartFilter, "/", "filter as you type (enter keeps it, esc clears it)", Some("filter")),
    bind(C::Environments, K::Char('y'), A::Copy, "y", "copy repo/environment", None),
    bind(C::Environments, K::Char('R'), A::Reload, "R", "reload every repo", None),
    bind(C::History, K::Enter, A::Open, "enter", "open the commit's rendered diff", Some("open")),
    bind(C::History, K::Char('/'), A::StartFilter, "/", "filter as you type (enter keeps it, esc clears it)", Some("filter")),
    bind(C::History, K::Char('p'), A::CycleHistoryMode, "p", "inputs → rendered → path-only history", Some("mode")),
    bind(C::History, K::Char('y'), A::Copy, "y", "copy the commit's sha", None),
    bind(C::History, K::Char('f'), A::ToggleFirstParent, "f", "first parent: only the branch's own line (each merge) ↔ every commit", None),
    bind(C::History, K::Char('R'), A::Reload, "R", "walk the history again", None),
    bind(C::History, K::Char('v'), A::RequestRevert, "v", "revert this commit (asks the reason, shows the diff first)", Some("revert")),
    bind(C::History, K::Char('T'), A::RequestRollback, "T", "roll the environment back to this commit", Some("rollback")),
    bind(C::History, K::Esc, A::Back, "esc", "back to the environments", Some("back")),
    bind(C::Review, K::Char('/'), A::StartFilter, "/", "filter the objects (list focused) or search the diff", Some("search")),
    bind(C::Review, K::Char('n'), A::FindNext, "n N", "next / previous line the search found", None),
    bind(C::Review, K::Char('N'), A::FindPrevious, "n N", "next / previous line the search found", None),
    bind(C::Review, K::Enter, A::Open, "enter", "Commits tab: open the commit under the cursor", None),
    bind(C::Review, K::Tab, A::SwitchPane, "tab", "switch between object list and diff", Some("pane")),
    bind(C::Review, K::Char(']'), A::NextObject, "]", "next object", Some("next")),
    bind(C::Review, K::Char('['), A::PreviousObject, "[", "previous object", Some("prev")),
    bind(C::Review, K::Char('l'), A::NextTab, "l →", "next tab (diff, commits, description, verdict)", Some("tab")),
    bind(C::Review, K::Right, A::NextTab, "l →", "next tab", None),
    bind(C::Review, K::Char('h'), A::PreviousTab, "h ←", "previous tab", None),
    bind(C::Review, K::Left, A::PreviousTab, "h ←", "previous tab", None),
    bind(C::Review, K::Char('i'), A::ToggleSinceApproval, "i", "interdiff: only what changed since an older head was approved", None),
    bind(C::Review, K::Char('r'), A::ToggleRaw, "r", "rendered objects ↔ raw file diff", Some("raw")),
    bind(C::Review, K::Char('z'), A::ToggleZoom, "z", "zoom: the diff over the whole width", Some("zoom")),
    bind(C::Review, K::Char('s'), A::ToggleSideBySide, "s", "side-by-side ↔ unified (from 120 columns)", None),
    bind(C::Review, K::Char('H'), A::ScrollLeft, "H L", "scroll the diff left / right (long lines)", None),
    bind(C::Review, K::Char('L'), A::ScrollRight, "H L", "scroll the diff left / right (long lines)", None),
    bind(C::Review, K::Char('a'), A::RequestApprove, "a", "approve this promotion (shows the verdict first)", Some("approve")),
    bind(C::Review, K::Char('x'), A::RequestUnapprove, "x", "withdraw your approval", None),
    bind(C::Review, K::Char('o'), A::OpenInBrowser, "o", "open the pull request on GitHub", None),
    bind(C::Review, K::Char('m'), A::RequestMerge, "m", "merge this promotion (shows the verdict first)", Some("merge")),
    bind(C::Review, K::Char('y'), A::Copy, "y", "copy the promotion's id (a commit's sha)", None),
    bind(C::Review, K::Char('e'), A::Page, "e", "show the diff (or this tab) in $PAGER", None),
    bind(C::Review, K::Char('C'), A::RequestClose, "C", "close (abandon) this promotion: asks why, deletes its branch", None),
    bind(C::Review, K::Char('R'), A::Reload, "R", "load the promotion or commit again", None),
    bind(C::Review, K::Char('v'), A::RequestRevert, "v", "revert this commit (from an environment's history)", None),
    bind(C::Review, K::Char('T'), A::RequestRollback, "T", "roll the environment back to this commit", None),
    bind(C::Undo, K::Enter, A::FinishReason, "enter", "the reason is written (then y writes)", Some("done")),
    bind(C::Undo, K::Tab, A::ToggleShared, "tab", "rollback: also set back shared files (kustomize base)", Some("shared")),
    bind(C::Undo, K::Up, A::Up, "↑ ↓", "scroll the preview", None),
    bind(C::Undo, K::Down, A::Down, "↑ ↓", "scroll the preview", None),
    bind(C::Undo, K::PageUp, A::PageUp, "pgup", "page up", None),
    bind(C::Undo, K::PageDown, A::PageDown, "pgdn", "page down", None),
    bind(C::Undo, K::Esc, A::Cancel, "esc", "cancel; nothing is written", Some("cancel")),
    bind(C::UndoReady, K::Char('y'), A::Confirm, "y", "yes: write it (a revert or rollback opens as a promotion)", Some("yes")),
    bind(C::UndoReady, K::Char('D'), A::ConfirmDirect, "D", "break glass: straight onto the protected branch, no approval (listed people only; audited)", None),
    bind(C::UndoReady, K::Char('e'), A::EditReason, "e", "edit the reason", Some("edit")),
    bind(C::UndoReady, K::Tab, A::ToggleShared, "tab", "rollback: also set back shared files (kustomize base)", Some("shared")),
    bind(C::UndoReady, K::Char('j'), A::Down, "j ↓", "scroll the preview", None),
    bind(C::UndoReady, K::Down, A::Down, "j ↓", "scroll the preview", None),
    bind(C::UndoReady, K::Char('k'), A::Up, "k ↑", "scroll the preview", None),
    bind(C::UndoReady, K::Up, A::Up, "k ↑", "scroll the preview", None),
    bind(C::UndoReady, K::PageUp, A::PageUp, "pgup", "page up", None),
    bind(C::UndoReady, K::PageDown, A::PageDown, "pgdn", "page down", None),
    bind(C::UndoReady, K::Char('n'), A::Cancel, "n", "cancel; nothing is written", Some("no")),
    bind(C::UndoReady, K::Char('q'), A::Cancel, "q", "cancel; nothing is written", None),
    bind(C::UndoReady, K::Esc, A::Cancel, "esc", "cancel; nothing is written", None),
    bind(C::Dialog, K::Char('y'), A::Confirm, "y", "yes, do it (only y writes)", Some("yes")),
    bind(C::Dialog, K::Char('b'), A::BreakGlass, "b", "break glass: merge through a freeze or failed render, with a reason (listed people only)", None),
    bind(C::Dialog, K::Char('n'), A::Cancel, "n", "no, close", Some("no")),
    bind(C::Dialog, K::Enter, A::Cancel, "enter", "close (never confirms)", None),
    bind(C::Dialog, K::Char('q'), A::Cancel, "q", "close the dialog", None),
    bind(C::Dialog, K::Esc, A::Cancel, "esc", "close", None),
    bind(C::Review, K::Esc, A::Back, "esc", "back to where it was opened", Some("back")),
    bind(C::Global, K::Char('1'), A::ShowInbox, "1", "inbox of pending promotions", None),
    bind(C::Global, K::Char('2'), A::ShowEnvironments, "2", "environments and their history", None),
    bind(C::Global, K::Char(':'), A::StartJump, ":", "jump: :ENV, :REPO/ENV opens its history, :REPO its environments", None),
    bind(C::Global, K::Char('q'), A::Quit, "q", "quit", Some("quit")),
    bind(C::Global, K::Char('?'), A::ToggleHelp, "?", "show or hide this help", Some("help")),
    bind(C::Global, K::Char('j'), A::Down, "j ↓", "down", None),
    bind(C::Global, K::Down, A::Down, "j ↓", "down", None),
    bind(C::Global, K::Char('k'), A::Up, "k ↑", "up", None),
    bind(C::Global, K::Up, A::Up, "k ↑", "up", None),
    bind(C::Global, K::Char('g'), A::Top, "g", "first row", None),
    bind(C::Global, K::Home, A::Top, "g", "first row", None),
    bind(C::Global, K::Char('G'), A::Bottom, "G", "last row", None),
    bind(C::Global, K::End, A::Bottom, "G", "last row", None),
    bind(C::Global, K::PageUp, A::PageUp, "pgup", "page up", None),
    bind(C::Global, K::PageDown, A::PageDown, "pgdn", "page down", None),
    ctrl(C::Global, 'u', A::HalfPageUp, "ctrl-u", "half a page up"),
    ctrl(C::Global, 'd', A::HalfPageDown, "ctrl-d", "half a page down"),
    ctrl(C::Global, 'c', A::Quit, "ctrl-c", "quit"),
    bind(C::Global, K::Esc, A::Back, "esc", "back, or close help", None),
];

/// The action `key` means in `context`.
pub fn action_for(context: Context, key: &KeyEvent) -> Option<Action> {
    // Shifted letters arrive as upper-case chars, some terminals with SHIFT set.
    let modifiers = key.modifiers - KeyModifiers::SHIFT;
    let matches = |b: &&Binding| b.code == key.code && b.modifiers == modifiers;
    BINDINGS
        .iter()
        .filter(|b| b.context == context)
        .find(matches)
        .or_else(|| {
            BINDINGS
                .iter()
                .filter(|b| b.context == Context::Global)
                .find(matches)
        })
        .map(|b| b.action)
}

/// The bindings the help overlay lists for `context`: its own, then the global ones,
/// one line per distinct help text.
pub fn help_for(context: Context) -> Vec<(&'static str, &'static str)> {
    let mut lines: Vec<(&'static str, &'static str)> = Vec::new();
    for binding in BINDINGS
        .iter()
        .filter(|b| b.context == context)
        .chain(BINDINGS.iter().filter(|b| b.context == Context::Global))
    {
        if !lines.iter().any(|(keys, _)| *keys == binding.keys) {
            lines.push((binding.keys, binding.help));
        }
    }
    lines
}

/// The short hints of the status bar for `context`.
pub fn hints_for(context: Context) -> Vec<(&'static str, &'static str)> {
    // While typing a reason, letters are text: global letter keys do not apply.
    let global = !matches!(context, Context::Undo | Context::UndoReady);
    BINDINGS
        .iter()
        .filter(|b| b.context == context || (global && b.context == Context::Global))
        .filter_map(|b| b.hint.map(|hint| (b.keys, hint)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn context_bindings_win_over_global_ones() {
        assert_eq!(
            action_for(Context::Review, &key(KeyCode::Esc)),
            Some(Action::Back)
        );
        assert_eq!(
            action_for(Context::Inbox, &key(KeyCode::Char('j'))),
            Some(Action::Down)
        );
        assert_eq!(action_for(Context::Inbox, &key(KeyCode::Char(']'))), None);
    }

    #[test]
    fn shifted_letters_match_with_or_without_the_shift_flag() {
        let shifted = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(action_for(Context::Inbox, &shifted), Some(Action::Bottom));
        assert_eq!(
            action_for(Context::Inbox, &key(KeyCode::Char('G'))),
            Some(Action::Bottom)
        );
    }

    #[test]
    fn help_lists_every_action_of_the_context_once() {
        let help = help_for(Context::Review);
        assert!(help.iter().any(|(k, _)| *k == "]"));
        assert_eq!(help.iter().filter(|(k, _)| *k == "j ↓").count(), 1);
    }
}
