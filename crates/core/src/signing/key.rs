//! The key an operator signs with, and signing with it the way git does: through
//! `ssh-keygen -Y sign`, so that keys held by `ssh-agent` or on a hardware token work
//! without tollgate ever seeing a private key. Which key: the config's `signing_keys`
//! entry for the identity's email, else its `signing_key`, else git's `user.signingkey`
//! when `gpg.format` is `ssh`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ssh_key::PublicKey;

use super::allowed_signers::fingerprint;

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error(
        "no signing key: set `signing_key:` in the config (a public key whose private half is in ssh-agent, or a private key file), or git's user.signingkey with gpg.format=ssh"
    )]
    NoKey,
    #[error("signing key {origin}: cannot read {path}: {message}")]
    Read {
        origin: String,
        path: PathBuf,
        message: String,
    },
    #[error(
        "signing with {fingerprint} failed: {message}; is the key in ssh-agent (`ssh-add -l`), or the key file readable?"
    )]
    Sign {
        fingerprint: String,
        message: String,
    },
}

/// Where the key was found, kept for messages and for `ssh-keygen -f`.
#[derive(Debug, Clone)]
enum KeyFile {
    /// A key file as configured (public or private).
    Path(PathBuf),
    /// A literal public key (git's `key::…`), written to a temp file when signing.
    Literal(String),
    /// A private key held in memory: the demo's generated keys, which sign in-process so
    /// that building the demo needs no OpenSSH and its history is the same every time.
    InMemory(Box<ssh_key::PrivateKey>),
}

#[derive(Debug, Clone)]
pub struct SigningKey {
    file: KeyFile,
    /// Where it was configured: `config signing_key`, `git config user.signingkey`.
    pub origin: String,
    public: PublicKey,
}

impl SigningKey {
    /// The key for `email`: from the config (`by_email`, then `configured`), else git's
    /// own SSH signing key. `Ok(None)` when nothing names one.
    pub fn resolve(
        email: &str,
        by_email: &std::collections::BTreeMap<String, PathBuf>,
        configured: Option<&Path>,
    ) -> Result<Option<SigningKey>, SigningError> {
        let for_email = by_email
            .iter()
            .find(|(e, _)| e.eq_ignore_ascii_case(email))
            .map(|(_, path)| path);
        if let Some(path) = for_email {
            return SigningKey::from_path(path, &format!("config signing_keys[{email}]")).map(Some);
        }
        if let Some(path) = configured {
            return SigningKey::from_path(path, "config signing_key").map(Some);
        }
        let Ok(config) = gix::config::File::from_globals() else {
            return Ok(None);
        };
        let format = config.string("gpg.format").map(|f| f.to_string());
        let Some(key) = config.string("user.signingkey").map(|k| k.to_string()) else {
            return Ok(None);
        };
        if format.as_deref() != Some("ssh") {
            return Ok(None);
        }
        let origin = "git config user.signingkey";
        let key = key.trim();
        if let Some(literal) = key.strip_prefix("key::") {
            return SigningKey::from_literal(literal, origin).map(Some);
        }
        if looks_like_public_key(key) {
            return SigningKey::from_literal(key, origin).map(Some);
        }
        SigningKey::from_path(&expand_home(key), origin).map(Some)
    }

    /// A key file: an OpenSSH public key (its private half in ssh-agent) or private key.
    pub fn from_path(path: &Path, origin: &str) -> Result<SigningKey, SigningError> {
        let read_error = |message: String| SigningError::Read {
            origin: origin.to_string(),
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| read_error(e.to_string()))?;
        let public = if text.trim_start().starts_with("-----BEGIN") {
            // A private key file: its public half is stored unencrypted beside it.
            let private = ssh_key::PrivateKey::from_openssh(text.trim())
                .map_err(|e| read_error(format!("not an OpenSSH private key ({e})")))?;
            if private.is_encrypted() {
                // ssh-keygen would ask for the passphrase on the terminal, under the TUI;
                // sign through the agent instead, which must hold it (`ssh-add`).
                let public = private
                    .public_key()
                    .to_openssh()
                    .map_err(|e| read_error(e.to_string()))?;
                return SigningKey::from_literal(&public, origin);
            }
            private.public_key().clone()
        } else {
            PublicKey::from_openssh(text.trim())
                .map_err(|e| read_error(format!("not an OpenSSH public key ({e})")))?
        };
        Ok(SigningKey {
            file: KeyFile::Path(path.to_path_buf()),
            origin: origin.to_string(),
            public,
        })
    }

    fn from_literal(literal: &str, origin: &str) -> Result<SigningKey, SigningError> {
        let public = PublicKey::from_openssh(literal.trim()).map_err(|e| SigningError::Read {
            origin: origin.to_string(),
            path: PathBuf::from("(literal key)"),
            message: format!("not an OpenSSH public key ({e})"),
        })?;
        Ok(SigningKey {
            file: KeyFile::Literal(literal.trim().to_string()),
            origin: origin.to_string(),
            public,
        })
    }

    /// A private key held in memory (see [`KeyFile::InMemory`]).
    pub fn in_memory(private: ssh_key::PrivateKey, origin: &str) -> SigningKey {
        SigningKey {
            public: private.public_key().clone(),
            file: KeyFile::InMemory(Box::new(private)),
            origin: origin.to_string(),
        }
    }

    /// The OpenSSH private key file text of a key held in memory; `None` for a key that
    /// lives elsewhere (a file, an agent).
    pub fn private_openssh(&self) -> Option<String> {
        match &self.file {
            KeyFile::InMemory(private) => private
                .to_openssh(ssh_key::LineEnding::LF)
                .ok()
                .map(|text| text.to_string()),
            _ => None,
        }
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// `SHA256:…`, as `ssh-keygen -l` shows it.
    pub fn fingerprint(&self) -> String {
        fingerprint(self.public.key_data())
    }

    /// An armored SSH signature (`-----BEGIN SSH SIGNATURE-----`) of `message` in
    /// `namespace`, made by `ssh-keygen -Y sign` as git makes it.
    pub fn sign(&self, namespace: &str, message: &[u8]) -> Result<String, SigningError> {
        let failed = |message: String| SigningError::Sign {
            fingerprint: self.fingerprint(),
            message,
        };
        // A literal key is only a public key: the agent must hold it (`-U`).
        let literal_file;
        let (path, agent_only) = match &self.file {
            KeyFile::InMemory(private) => {
                return private
                    .sign(namespace, ssh_key::HashAlg::Sha512, message)
                    .and_then(|signature| signature.to_pem(ssh_key::LineEnding::LF))
                    .map_err(|e| failed(e.to_string()));
            }
            KeyFile::Path(path) => (path.clone(), false),
            KeyFile::Literal(text) => {
                literal_file = tempfile::NamedTempFile::new()
                    .map_err(|e| failed(format!("cannot write a temp file ({e})")))?;
                std::fs::write(literal_file.path(), format!("{text}\n"))
                    .map_err(|e| failed(format!("cannot write a temp file ({e})")))?;
                (literal_file.path().to_path_buf(), true)
            }
        };
        let mut command = Command::new("ssh-keygen");
        command.args(["-Y", "sign", "-n", namespace, "-q"]);
        if agent_only {
            command.arg("-U");
        }
        command.arg("-f").arg(&path);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| failed(format!("cannot run ssh-keygen ({e}); install OpenSSH")))?;
        child
            .stdin
            .take()
            .expect("stdin was piped")
            .write_all(message)
            .map_err(|e| failed(format!("cannot write to ssh-keygen ({e})")))?;
        let output = child
            .wait_with_output()
            .map_err(|e| failed(format!("ssh-keygen did not finish ({e})")))?;
        let signature = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() || !signature.contains("BEGIN SSH SIGNATURE") {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(failed(
                stderr
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join("; "),
            ));
        }
        Ok(signature)
    }
}

fn looks_like_public_key(text: &str) -> bool {
    ["ssh-", "ecdsa-", "sk-"]
        .iter()
        .any(|p| text.starts_with(p))
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), directories::BaseDirs::new()) {
        (Some(rest), Some(dirs)) => dirs.home_dir().join(rest),
        _ => PathBuf::from(path),
    }
}
