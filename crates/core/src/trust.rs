//! Trust at a commit of the protected branch: `.tollgate/allowed_signers` as it is there
//! (never at a promotion's head, like the policy), whether the policy requires
//! signatures, and whether the person acting holds a key that file lists for them.
//! Everything that counts an approval, a merge, a break-glass or a direct rollback asks
//! this, so that an email typed into a commit, a note or `TOLLGATE_IDENTITY` never stands
//! for a person by itself.

use gix::ObjectId;

use crate::approvals::Approval;
use crate::git::commit::CommitSignature;
use crate::identity::Identity;
use crate::policy::Policy;
use crate::signing::{
    ALLOWED_SIGNERS_PATH, AllowedSigners, AllowedSignersError, COMMIT_NAMESPACE, SignatureReport,
    SignatureState, SigningKey,
};
use crate::workspace::{OpenRepo, WorkspaceError};

/// The allowed signers in force at one commit, and whether signatures are required.
#[derive(Debug, Clone)]
pub struct Trust {
    signers: AllowedSigners,
    /// Why the file could not be read; then nothing verifies (fail closed).
    error: Option<AllowedSignersError>,
    /// Whether the file exists at all.
    pub file_exists: bool,
    /// Whether only verified signatures count: the policy's `require_signatures`, by
    /// default whether the file exists.
    pub required: bool,
}

impl Trust {
    /// Trust from the file's text (`None`: no file) and the policy in force beside it.
    pub fn new(text: Option<&str>, policy: Option<&Policy>) -> Trust {
        let (signers, error) = match text.map(AllowedSigners::parse) {
            None => (AllowedSigners::default(), None),
            Some(Ok(signers)) => (signers, None),
            Some(Err(e)) => (AllowedSigners::default(), Some(e)),
        };
        let file_exists = text.is_some();
        Trust {
            signers,
            error,
            file_exists,
            required: policy
                .and_then(|p| p.require_signatures)
                .unwrap_or(file_exists),
        }
    }

    /// An approval's signature, checked for the email it claims.
    pub fn check_approval(&self, approval: &Approval) -> SignatureReport {
        if approval.signed.is_some()
            && let Some(error) = &self.error
        {
            return self.unreadable(error);
        }
        approval.check_signature(&self.signers)
    }

    /// A commit's signature, checked for `claimed` (its committer, who tollgate records as
    /// the one who merged or rolled back) at the commit's own time.
    pub fn check_commit(
        &self,
        signature: Option<&CommitSignature>,
        claimed: &str,
        time: i64,
    ) -> SignatureReport {
        let Some(signature) = signature else {
            return SignatureReport::unsigned();
        };
        if let Some(error) = &self.error {
            return self.unreadable(error);
        }
        self.signers
            .check(
                COMMIT_NAMESPACE,
                &signature.signed,
                &signature.armored,
                claimed,
                Some(time),
            )
            .into()
    }

    fn unreadable(&self, error: &AllowedSignersError) -> SignatureReport {
        SignatureReport {
            state: SignatureState::NotVerified,
            signer: None,
            key_fingerprint: None,
            why: Some(format!(
                "{error}; no signature can be checked until it is fixed"
            )),
        }
    }

    /// Why `key` cannot sign for `me` in `namespace` here, if it cannot.
    pub fn refuses_key(&self, key: &SigningKey, me: &Identity, namespace: &str) -> Option<String> {
        if let Some(error) = &self.error {
            return Some(format!("{error}; fix it before signing anything"));
        }
        (!self
            .signers
            .lists(key.public_key().key_data(), &me.email, namespace, None))
        .then(|| {
            format!(
                "your key {} ({}) is not listed for {} in {ALLOWED_SIGNERS_PATH}; sign as the person the key belongs to (TOLLGATE_IDENTITY), or add the key there through an approved promotion",
                key.fingerprint(),
                key.origin,
                me.email
            )
        })
    }
}

/// Who is acting, as a key: the key found for them, or why they cannot sign as themselves.
#[derive(Debug, Clone)]
pub struct Acting {
    pub key: Option<SigningKey>,
    /// Set when signing is required (or the key does not belong to them): it refuses every
    /// write, before anything is written.
    pub problem: Option<String>,
}

impl OpenRepo {
    /// The trust in force at `commit` of the protected branch.
    pub fn trust_at(
        &self,
        commit: ObjectId,
        policy: Option<&Policy>,
    ) -> Result<Trust, WorkspaceError> {
        let tree = self.repo.tree_of(commit)?;
        let text = self
            .repo
            .file_at(tree, ALLOWED_SIGNERS_PATH)?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        Ok(Trust::new(text.as_deref(), policy))
    }

    /// The key `me` signs with in `namespace`, checked against `trust`. On GitHub the
    /// forge authenticates the account and nothing is signed.
    pub fn acting(&self, me: &Identity, trust: &Trust, namespace: &str) -> Acting {
        if !self.forge.signs() {
            return Acting {
                key: None,
                problem: None,
            };
        }
        let signing = &self.config.signing;
        match SigningKey::resolve(&me.email, &signing.by_email, signing.key.as_deref()) {
            Ok(Some(key)) => {
                // Where the file lists keys, a key that is not the identity's is an
                // impersonation attempt or a mistake, whether or not signatures count.
                let problem = (trust.required || trust.file_exists)
                    .then(|| trust.refuses_key(&key, me, namespace))
                    .flatten();
                Acting {
                    key: Some(key),
                    problem,
                }
            }
            Ok(None) => Acting {
                key: None,
                problem: trust.required.then(|| {
                    format!(
                        "this repository counts only what is signed by a key listed in {ALLOWED_SIGNERS_PATH}; {}",
                        crate::signing::SigningError::NoKey
                    )
                }),
            },
            Err(e) => Acting {
                key: None,
                problem: (trust.required || trust.file_exists).then(|| e.to_string()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_required_by_default_exactly_when_the_file_exists() {
        assert!(Trust::new(Some(""), None).required);
        assert!(!Trust::new(None, None).required);
        let mut policy = Policy::absent();
        policy.require_signatures = Some(false);
        assert!(!Trust::new(Some(""), Some(&policy)).required);
        policy.require_signatures = Some(true);
        assert!(Trust::new(None, Some(&policy)).required);
    }

    #[test]
    fn an_unreadable_file_verifies_nothing() {
        let trust = Trust::new(Some("dana@example.com ssh-ed25519 nope\n"), None);
        let signature = CommitSignature {
            armored: "x".into(),
            signed: Vec::new(),
        };
        let report = trust.check_commit(Some(&signature), "dana@example.com", 0);
        assert_eq!(report.state, SignatureState::NotVerified);
        assert!(
            report.why.as_deref().unwrap_or_default().contains(":1:"),
            "{report:?}"
        );
    }
}
