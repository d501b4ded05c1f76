//! Fetching with gix. Before a deployment: when the repository has a remote, bring its
//! refs up to date (the file and SSH transports; an HTTPS remote is kept fresh by the
//! mirroring sidecar of assets/deploy/ instead). For a GitHub repository's mirror: exact
//! refspecs from a URL, over HTTPS with the token. A configured remote's refspecs decide
//! what moves: a `git clone --mirror` updates its own branches and approval notes.

use std::sync::atomic::AtomicBool;

use super::{GitError, GixContext, Repo};

/// What a fetch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub remote: String,
    /// Refs that moved or appeared.
    pub updated: usize,
    /// Why nothing was fetched, when the remote's transport is not built in.
    pub skipped: Option<String>,
}

impl Repo {
    /// Fetch from the default remote, if the repository has one. `None`: no remote.
    pub fn fetch_default_remote(
        &self,
        interrupt: &AtomicBool,
    ) -> Result<Option<Fetched>, GitError> {
        let Some(remote) = self
            .inner
            .find_default_remote(gix::remote::Direction::Fetch)
        else {
            return Ok(None);
        };
        let remote = remote.during(&self.name, || "read the remote's configuration".into())?;
        let name = remote
            .name()
            .map(|n| n.as_bstr().to_string())
            .unwrap_or_else(|| "(unnamed)".into());
        let what = || format!("fetch from {name}");
        // An HTTPS remote needs credentials reconcile does not hold (a GitHub repo's mirror
        // is fetched with the API token, see forge::github::mirror); the mirroring sidecar
        // of assets/deploy keeps such a repository fresh instead.
        if let Some(url) = remote.url(gix::remote::Direction::Fetch)
            && matches!(url.scheme, gix::url::Scheme::Http | gix::url::Scheme::Https)
        {
            return Ok(Some(Fetched {
                remote: name,
                updated: 0,
                skipped: Some(format!(
                    "{} remotes are not fetched by tollgate; keep the repository fresh with a mirror (assets/deploy/git-mirror.sh)",
                    url.scheme.as_str()
                )),
            }));
        }
        // gix 0.90 turns the refspec `refs/*` into the ls-refs prefix `refs/*`, which git
        // matches literally: nothing comes back. Asking for every ref and matching the
        // refspecs here costs a few lines of ref advertisement.
        let options = gix::remote::ref_map::Options {
            prefix_from_spec_as_filter_on_remote: false,
            ..Default::default()
        };
        let outcome = remote
            .connect(gix::remote::Direction::Fetch)
            .during(&self.name, what)?
            .prepare_fetch(gix::progress::Discard, options)
            .during(&self.name, what)?
            .receive(gix::progress::Discard, interrupt)
            .during(&self.name, what)?;
        Ok(Some(Fetched {
            remote: name,
            updated: updated_refs(&outcome),
            skipped: None,
        }))
    }
}

/// How many refs a fetch moved or created.
fn updated_refs(outcome: &gix::remote::fetch::Outcome) -> usize {
    use gix::remote::fetch::refs::update::Mode;
    let update_refs = match &outcome.status {
        gix::remote::fetch::Status::NoPackReceived { update_refs, .. }
        | gix::remote::fetch::Status::Change { update_refs, .. } => update_refs,
    };
    update_refs
        .updates
        .iter()
        .filter(|u| matches!(u.mode, Mode::New | Mode::FastForward | Mode::Forced))
        .count()
}

/// An HTTPS login for a fetch: the user name and the secret.
pub struct Login<'a> {
    pub username: &'a str,
    pub password: &'a str,
}

impl Repo {
    /// Create a bare repository at `path` (and its parent folders), for a mirror.
    pub fn init_bare(name: &str, path: &std::path::Path) -> Result<Repo, GitError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).during(name, || {
                format!("create the folder of the mirror {}", path.display())
            })?;
        }
        gix::init_bare(path).during(name, || format!("create a mirror at {}", path.display()))?;
        Repo::open(name, path)
    }

    /// Fetch exact `refspecs` (`+refs/pull/7/head:refs/pull/7/head`) from `url`, which is
    /// not a configured remote, authenticating with `login` when the server asks. Returns
    /// the number of refs that moved.
    pub fn fetch_refspecs(
        &self,
        url: &str,
        refspecs: &[String],
        login: Option<Login<'_>>,
        interrupt: &AtomicBool,
    ) -> Result<usize, GitError> {
        let what = || format!("fetch from {}", redact_url(url));
        let remote = self
            .inner
            .remote_at(url)
            .during(&self.name, what)?
            .with_fetch_tags(gix::remote::fetch::Tags::None)
            .with_refspecs(
                refspecs.iter().map(String::as_str),
                gix::remote::Direction::Fetch,
            )
            .during(&self.name, what)?;
        let connection = remote
            .connect(gix::remote::Direction::Fetch)
            .during(&self.name, what)?;
        let account = login.map(|l| gix::sec::identity::Account {
            username: l.username.to_string(),
            password: l.password.to_string(),
            oauth_refresh_token: None,
        });
        // Never the configured credential helpers or a prompt: the login is given, or
        // there is none.
        let connection = connection.with_credentials(move |action| match (action, &account) {
            (gix::credentials::helper::Action::Get(context), Some(account)) => {
                Ok(Some(gix::credentials::protocol::Outcome {
                    identity: account.clone(),
                    next: context.into(),
                }))
            }
            _ => Ok(None),
        });
        let outcome = connection
            .prepare_fetch(gix::progress::Discard, Default::default())
            .during(&self.name, what)?
            .receive(gix::progress::Discard, interrupt)
            .during(&self.name, what)?;
        Ok(updated_refs(&outcome))
    }

    /// Point `HEAD` at `refs/heads/BRANCH` (a mirror's HEAD names its default branch).
    pub fn set_head_branch(&self, branch: &str) -> Result<(), GitError> {
        use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit};
        let target: gix::refs::FullName = format!("refs/heads/{branch}")
            .try_into()
            .during(&self.name, || format!("name the branch {branch:?}"))?;
        if self
            .inner
            .find_reference("HEAD")
            .ok()
            .and_then(|r| r.target().try_name().map(|n| n.to_owned()))
            .as_ref()
            == Some(&target)
        {
            return Ok(());
        }
        self.inner
            .edit_reference(RefEdit {
                change: Change::Update {
                    log: LogChange::default(),
                    expected: PreviousValue::Any,
                    new: gix::refs::Target::Symbolic(target),
                },
                name: "HEAD"
                    .try_into()
                    .during(&self.name, || "name HEAD".into())?,
                deref: false,
            })
            .during(&self.name, || format!("point HEAD at {branch}"))?;
        Ok(())
    }
}

/// `url` without any user or password in it, for messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority = rest.split('/').next().unwrap_or("");
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}{}", &rest[authority.len()..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_reach_a_message() {
        assert_eq!(
            redact_url("https://x-access-token:ghp_secret@github.com/acme/env.git"),
            "https://github.com/acme/env.git"
        );
        assert_eq!(
            redact_url("https://github.com/acme/env.git"),
            "https://github.com/acme/env.git"
        );
        assert_eq!(
            redact_url("file:///srv/git/a@b.git"),
            "file:///srv/git/a@b.git"
        );
    }
}
