//! Who is using tollgate: a `Name <email>` identity. It comes from `TOLLGATE_IDENTITY`,
//! else `identity:` in the config, else git's `user.name`/`user.email` (read with gix).
//! Identity is what approvals and merges are attributed to, so a malformed one is an
//! error rather than a guess.

use std::fmt;

use serde::{Deserialize, Serialize};

pub const IDENTITY_ENV: &str = "TOLLGATE_IDENTITY";

/// The domain of GitHub's no-reply addresses.
pub const GITHUB_NOREPLY: &str = "users.noreply.github.com";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub name: String,
    pub email: String,
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("{origin}: {value:?} is not an identity; write it as \"Name <email>\"")]
    Malformed { origin: String, value: String },
    #[error(
        "no identity: set TOLLGATE_IDENTITY=\"Name <email>\", `identity:` in the config, or git's user.name and user.email"
    )]
    Unknown,
}

impl Identity {
    /// Parse `Name <email>`; `origin` names where the text came from, for the error.
    pub fn parse(value: &str, origin: &str) -> Result<Identity, IdentityError> {
        let malformed = || IdentityError::Malformed {
            origin: origin.to_string(),
            value: value.to_string(),
        };
        let value = value.trim();
        let (name, rest) = value.split_once('<').ok_or_else(malformed)?;
        let email = rest.strip_suffix('>').ok_or_else(malformed)?.trim();
        let name = name.trim();
        if name.is_empty() || email.is_empty() || !email.contains('@') || email.contains('<') {
            return Err(malformed());
        }
        Ok(Identity {
            name: name.to_string(),
            email: email.to_string(),
        })
    }

    /// A GitHub account, known by its login only: `login <login@users.noreply.github.com>`
    /// (GitHub's own no-reply address). Policies name it `github:LOGIN`.
    pub fn github(login: &str) -> Identity {
        Identity {
            name: login.to_string(),
            email: format!("{}@{GITHUB_NOREPLY}", login.to_lowercase()),
        }
    }

    /// The GitHub login, if this identity is one.
    pub fn github_login(&self) -> Option<&str> {
        self.email
            .strip_suffix(GITHUB_NOREPLY)?
            .strip_suffix('@')
            .map(|_| self.name.as_str())
    }

    /// Resolve the identity in order of precedence: environment, config, git config.
    pub fn resolve(configured: Option<&str>) -> Result<Identity, IdentityError> {
        if let Ok(value) = std::env::var(IDENTITY_ENV)
            && !value.trim().is_empty()
        {
            return Identity::parse(&value, IDENTITY_ENV);
        }
        if let Some(value) = configured {
            return Identity::parse(value, "config `identity`");
        }
        Self::from_git_config().ok_or(IdentityError::Unknown)
    }

    fn from_git_config() -> Option<Identity> {
        let config = gix::config::File::from_globals().ok()?;
        let name = config.string("user.name")?.to_string();
        let email = config.string("user.email")?.to_string();
        (!name.trim().is_empty() && !email.trim().is_empty()).then(|| Identity {
            name: name.trim().to_string(),
            email: email.trim().to_string(),
        })
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} <{}>", self.name, self.email)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_and_email_are_split() {
        let id = Identity::parse(" Dana Ops <dana@example.com> ", "test").expect("valid");
        assert_eq!(id.name, "Dana Ops");
        assert_eq!(id.email, "dana@example.com");
        assert_eq!(id.to_string(), "Dana Ops <dana@example.com>");
    }

    #[test]
    fn malformed_identity_says_where_it_came_from() {
        for bad in ["dana@example.com", "Dana <>", "<d@e.com>", "Dana <nope>"] {
            let err = Identity::parse(bad, "TOLLGATE_IDENTITY").expect_err(bad);
            assert!(err.to_string().contains("TOLLGATE_IDENTITY"), "{err}");
        }
    }
}
