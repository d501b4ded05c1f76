//! Where tollgate keeps its files: the XDG directories (`~/.config/tollgate`,
//! `~/.cache/tollgate`, `~/.local/state/tollgate`, `~/.local/share/tollgate` on Linux),
//! looked up in one place.

use std::path::Path;

/// tollgate's directories; `None` where there is no home directory to put them in.
pub fn project() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("dev", "tollgate", "tollgate")
}

/// A folder only its owner may read and enter (made so if it was not).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}
