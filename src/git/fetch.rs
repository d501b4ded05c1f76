//! Fetching before a deployment: when the repository has a remote, bring its refs up to
//! date with gix (the file and SSH transports; an HTTPS remote is kept fresh by the
//! mirroring sidecar of assets/deploy/ instead). The remote's refspecs decide what moves:
//! a `git clone --mirror` updates its own branches and approval notes.

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
        // HTTP would bring a second TLS stack into the build (gix's is reqwest's, kube's is
        // hyper's); HTTPS remotes are kept fresh by a mirroring sidecar instead.
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
        let update_refs = match &outcome.status {
            gix::remote::fetch::Status::NoPackReceived { update_refs, .. }
            | gix::remote::fetch::Status::Change { update_refs, .. } => update_refs,
        };
        use gix::remote::fetch::refs::update::Mode;
        let updated = update_refs
            .updates
            .iter()
            .filter(|u| matches!(u.mode, Mode::New | Mode::FastForward | Mode::Forced))
            .count();
        Ok(Some(Fetched {
            remote: name,
            updated,
            skipped: None,
        }))
    }
}
