//! Where tollgate keeps its files: the XDG directories (`~/.config/tollgate`,
//! `~/.cache/tollgate`, `~/.local/state/tollgate`, `~/.local/share/tollgate` on Linux),
//! looked up in one place.

/// tollgate's directories; `None` where there is no home directory to put them in.
pub fn project() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("dev", "tollgate", "tollgate")
}
