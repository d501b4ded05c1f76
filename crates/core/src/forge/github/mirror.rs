//! The local mirror of a GitHub repository: a bare repository (in the cache dir unless the
//! config says where) holding the protected branch and `refs/pull/N/head` of each open
//! pull request, fetched with gix. Everything git can answer (trees, renders, history,
//! audit) is read from it; nothing is ever pushed from it.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use octocrab::secrecy::SecretString;

use crate::git::fetch::Login;
use crate::git::{GitError, Repo};

/// The ref a pull request's head is fetched to.
pub fn pull_ref(number: u64) -> String {
    format!("refs/pull/{number}/head")
}

/// Bring the mirror at `path` up to date with `clone_url`: `branch` and the heads of
/// `pulls`. Creates it on first use. Returns it, opened.
pub fn sync(
    name: &str,
    path: &Path,
    clone_url: &str,
    branch: &str,
    pulls: &[u64],
    token: Option<&SecretString>,
) -> Result<Repo, GitError> {
    super::install_tls_provider();
    let repo = if path.exists() {
        Repo::open(name, path)?
    } else {
        Repo::init_bare(name, path)?
    };
    let mut refspecs = vec![format!("+refs/heads/{branch}:refs/heads/{branch}")];
    refspecs.extend(pulls.iter().map(|n| format!("+{0}:{0}", pull_ref(*n))));
    repo.fetch_refspecs(
        clone_url,
        &refspecs,
        login(clone_url, token),
        &AtomicBool::new(false),
    )?;
    repo.set_head_branch(branch)?;
    Ok(repo)
}

/// Fetch the heads of `pulls` (merged ones too: GitHub keeps `refs/pull/N/head`) into
/// the mirror `repo`, for the audit of a squash whose head the branch does not hold.
pub fn fetch_pulls(
    repo: &Repo,
    clone_url: &str,
    pulls: &[u64],
    token: Option<&SecretString>,
) -> Result<(), GitError> {
    super::install_tls_provider();
    let refspecs: Vec<String> = pulls
        .iter()
        .map(|n| format!("+{0}:{0}", pull_ref(*n)))
        .collect();
    repo.fetch_refspecs(
        clone_url,
        &refspecs,
        login(clone_url, token),
        &AtomicBool::new(false),
    )
    .map(|_| ())
}

/// The token as git's login, never over plain http: it would travel in clear text (gix
/// refuses as well).
fn login<'a>(clone_url: &str, token: Option<&'a SecretString>) -> Option<Login<'a>> {
    match token {
        Some(token) if clone_url.starts_with("https://") => Some(Login {
            username: "x-access-token",
            password: super::token::git_password(token),
        }),
        _ => None,
    }
}
