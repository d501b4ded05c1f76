//! Signatures: what makes an identity a key rather than a string. Approvals are signed
//! statements (SSHSIG, namespace [`APPROVAL_NAMESPACE`]); merge, revert, rollback and direct
//! commits carry an SSH commit signature (namespace [`COMMIT_NAMESPACE`], as git's own
//! `gpg.format=ssh` makes them). Both are checked in-process against
//! `.tollgate/allowed_signers` as it is on the protected branch; signing goes through
//! `ssh-keygen` so that agent-held and hardware keys work.

pub mod allowed_signers;
pub mod key;

use serde::Serialize;

pub use allowed_signers::{ALLOWED_SIGNERS_PATH, AllowedSigners, AllowedSignersError, Checked};
pub use key::{SigningError, SigningKey};

/// The SSHSIG namespace of approval statements; allowed-signers entries restricted with
/// `namespaces=` must name it for a key to approve.
pub const APPROVAL_NAMESPACE: &str = "tollgate-approval";
/// The namespace git uses for commit signatures (`git verify-commit` checks this one).
pub const COMMIT_NAMESPACE: &str = "git";

/// How a signature fared, for people and for JSON: `{state, signer, key_fingerprint}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureReport {
    pub state: SignatureState,
    /// The email the key is listed for, when verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_fingerprint: Option<String>,
    /// Why it does not verify.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureState {
    Verified,
    /// Signed, but not by a key listed for whom it claims (or not over what it claims).
    NotVerified,
    Unsigned,
    /// Vouched for by the forge rather than by a listed key: a review by an account GitHub
    /// authenticated, or a commit whose signature GitHub verified (its own merges).
    Forge,
}

impl SignatureReport {
    pub fn unsigned() -> SignatureReport {
        SignatureReport {
            state: SignatureState::Unsigned,
            signer: None,
            key_fingerprint: None,
            why: None,
        }
    }

    /// A review GitHub authenticated: it stands for the account.
    pub fn forge() -> SignatureReport {
        SignatureReport {
            state: SignatureState::Forge,
            signer: None,
            key_fingerprint: None,
            why: None,
        }
    }

    /// A commit signature GitHub checked (`commit.verification`): `signer` is the account
    /// GitHub verified it for (`GitHub` for its own merges), `reason` its word when not.
    pub fn github_commit(verified: bool, signer: &str, reason: &str) -> SignatureReport {
        if verified {
            return SignatureReport {
                state: SignatureState::Forge,
                signer: Some(signer.to_string()),
                key_fingerprint: None,
                why: None,
            };
        }
        if reason == "unsigned" {
            return SignatureReport::unsigned();
        }
        SignatureReport {
            state: SignatureState::NotVerified,
            signer: None,
            key_fingerprint: None,
            why: Some(format!("GitHub does not verify it ({reason})")),
        }
    }

    pub fn is_verified(&self) -> bool {
        self.state == SignatureState::Verified
    }

    /// A word or two for tables and the TUI: `signed`, `not verified`, `unsigned`.
    pub fn label(&self) -> &'static str {
        match self.state {
            SignatureState::Verified => "signed",
            SignatureState::NotVerified => "not verified",
            SignatureState::Unsigned => "unsigned",
            SignatureState::Forge => "by GitHub",
        }
    }

    /// `signed by dana@example.com (SHA256:…)`, `signature not verified: why`, `unsigned`.
    pub fn describe(&self) -> String {
        match self.state {
            SignatureState::Verified => format!(
                "signed by {} ({})",
                self.signer.as_deref().unwrap_or("?"),
                self.key_fingerprint.as_deref().unwrap_or("?")
            ),
            SignatureState::NotVerified => format!(
                "signature not verified: {}",
                self.why.as_deref().unwrap_or("unknown reason")
            ),
            SignatureState::Unsigned => "unsigned".to_string(),
            SignatureState::Forge => match &self.signer {
                Some(signer) => format!("verified by GitHub for {signer}"),
                None => "authenticated by GitHub".to_string(),
            },
        }
    }
}

impl From<Checked> for SignatureReport {
    fn from(checked: Checked) -> Self {
        match checked {
            Checked::Verified {
                principal,
                fingerprint,
            } => SignatureReport {
                state: SignatureState::Verified,
                signer: Some(principal),
                key_fingerprint: Some(fingerprint),
                why: None,
            },
            Checked::NotVerified {
                reason,
                fingerprint,
            } => SignatureReport {
                state: SignatureState::NotVerified,
                signer: None,
                key_fingerprint: fingerprint,
                why: Some(reason),
            },
        }
    }
}
