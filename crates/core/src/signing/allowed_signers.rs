//! `.tollgate/allowed_signers`, in git's (OpenSSH's) allowed-signers format: who holds
//! which key. One line per key: `principals [options] keytype base64 [comment]`, where
//! principals is a comma-separated list of patterns (`*`, `?`, `!negation`) and options may
//! restrict the key to `namespaces="…"` and to a `valid-after`/`valid-before` window.
//! Checking a signature against this file is the only way tollgate binds an email to a
//! person; it never shells out to do it.

use ssh_key::{Fingerprint, HashAlg, PublicKey, SshSig};

/// Where the allowed signers live in an environment repository (on the protected branch).
pub const ALLOWED_SIGNERS_PATH: &str = ".tollgate/allowed_signers";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{ALLOWED_SIGNERS_PATH}:{line}: {message}")]
pub struct AllowedSignersError {
    pub line: usize,
    pub message: String,
}

/// One key and whom it stands for.
#[derive(Debug, Clone)]
struct Entry {
    principals: Vec<String>,
    /// `None`: any namespace.
    namespaces: Option<Vec<String>>,
    /// Seconds since the epoch, inclusive.
    valid_after: Option<i64>,
    valid_before: Option<i64>,
    key: PublicKey,
}

/// The parsed file. Empty when the repository has none.
#[derive(Debug, Clone, Default)]
pub struct AllowedSigners {
    entries: Vec<Entry>,
}

/// What a signature check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// The signature is good, and its key is listed for `principal` in this namespace.
    Verified {
        principal: String,
        fingerprint: String,
    },
    /// Why it does not count; the key's fingerprint when the signature could be read.
    NotVerified {
        reason: String,
        fingerprint: Option<String>,
    },
}

impl Checked {
    pub fn is_verified(&self) -> bool {
        matches!(self, Checked::Verified { .. })
    }
}

/// The `SHA256:…` fingerprint that `ssh-keygen -l` prints.
pub fn fingerprint(key: &ssh_key::public::KeyData) -> String {
    Fingerprint::new(HashAlg::Sha256, key).to_string()
}

impl AllowedSigners {
    pub fn parse(text: &str) -> Result<AllowedSigners, AllowedSignersError> {
        let mut entries = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let error = |message: String| AllowedSignersError {
                line: index + 1,
                message,
            };
            let fields = split_fields(line).map_err(|m| error(m.to_string()))?;
            let [principals, rest @ ..] = fields.as_slice() else {
                return Err(error("expected `principals [options] keytype key`".into()));
            };
            let (options, key_fields) = match rest {
                [first, ..] if looks_like_key_type(first) => ("", rest),
                [options, key @ ..] => (options.as_str(), key),
                [] => return Err(error("no key after the principals".into())),
            };
            let [key_type, key_data, ..] = key_fields else {
                return Err(error("expected a key type and the base64 key".into()));
            };
            let key = PublicKey::from_openssh(&format!("{key_type} {key_data}"))
                .map_err(|e| error(format!("the key is not an OpenSSH public key ({e})")))?;
            let mut entry = Entry {
                principals: principals
                    .split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect(),
                namespaces: None,
                valid_after: None,
                valid_before: None,
                key,
            };
            for option in split_options(options) {
                let (name, value) = match option.split_once('=') {
                    Some((n, v)) => (n.to_ascii_lowercase(), Some(v.trim_matches('"'))),
                    None => (option.to_ascii_lowercase(), None),
                };
                match (name.as_str(), value) {
                    ("namespaces", Some(list)) => {
                        entry.namespaces =
                            Some(list.split(',').map(|n| n.trim().to_string()).collect());
                    }
                    ("valid-after", Some(time)) => {
                        entry.valid_after = Some(parse_time(time).map_err(error)?)
                    }
                    ("valid-before", Some(time)) => {
                        entry.valid_before = Some(parse_time(time).map_err(error)?)
                    }
                    ("cert-authority", None) => {
                        return Err(error(
                            "cert-authority keys are not supported; list each person's own key"
                                .into(),
                        ));
                    }
                    _ => return Err(error(format!("unknown option {option:?}"))),
                }
            }
            entries.push(entry);
        }
        Ok(AllowedSigners { entries })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `key` is listed for `principal` in `namespace` (at `time`, when given).
    pub fn lists(
        &self,
        key: &ssh_key::public::KeyData,
        principal: &str,
        namespace: &str,
        time: Option<i64>,
    ) -> bool {
        self.entries_for(key, namespace, time)
            .any(|e| matches_principals(&e.principals, principal))
    }

    fn entries_for<'a>(
        &'a self,
        key: &'a ssh_key::public::KeyData,
        namespace: &'a str,
        time: Option<i64>,
    ) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |e| {
            e.key.key_data() == key
                && e.namespaces
                    .as_ref()
                    .is_none_or(|list| list.iter().any(|n| n == namespace))
                && time.is_none_or(|t| {
                    e.valid_after.is_none_or(|a| t >= a) && e.valid_before.is_none_or(|b| t < b)
                })
        })
    }

    /// Check `armored` (an SSH signature) over `message` in `namespace`, for `claimed`: the
    /// email the signed thing says it is from. `time` is the signed time, for keys listed
    /// with a validity window (as git checks them against the commit's time).
    pub fn check(
        &self,
        namespace: &str,
        message: &[u8],
        armored: &str,
        claimed: &str,
        time: Option<i64>,
    ) -> Checked {
        let signature = match SshSig::from_pem(armored.trim().as_bytes()) {
            Ok(s) => s,
            Err(e) => {
                return Checked::NotVerified {
                    reason: format!("the signature cannot be read ({e})"),
                    fingerprint: None,
                };
            }
        };
        let key = signature.public_key();
        let fingerprint = fingerprint(key);
        let not = |reason: String| Checked::NotVerified {
            reason,
            fingerprint: Some(fingerprint.clone()),
        };
        if signature.namespace() != namespace {
            return not(format!(
                "signed for {:?}, not {namespace:?}",
                signature.namespace()
            ));
        }
        if PublicKey::from(key.clone())
            .verify(namespace, message, &signature)
            .is_err()
        {
            return not("the signature does not match what it claims to sign".into());
        }
        if self.lists(key, claimed, namespace, time) {
            return Checked::Verified {
                principal: claimed.to_lowercase(),
                fingerprint,
            };
        }
        let others: Vec<&str> = self
            .entries_for(key, namespace, time)
            .flat_map(|e| e.principals.iter().map(String::as_str))
            .collect();
        not(if others.is_empty() {
            format!("key {fingerprint} is not in {ALLOWED_SIGNERS_PATH}")
        } else {
            format!(
                "key {fingerprint} belongs to {}, not {claimed}",
                others.join(", ")
            )
        })
    }
}

/// Fields separated by blanks; a double-quoted run is one field (quotes kept inside).
fn split_fields(line: &str) -> Result<Vec<String>, &'static str> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    fields.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if quoted {
        return Err("a double quote is not closed");
    }
    if !current.is_empty() {
        fields.push(current);
    }
    // Principals may be quoted as a whole.
    if let Some(first) = fields.first_mut() {
        *first = first.trim_matches('"').to_string();
    }
    Ok(fields)
}

/// Options separated by commas outside quotes.
fn split_options(options: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in options.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn looks_like_key_type(field: &str) -> bool {
    ["ssh-", "ecdsa-", "sk-"]
        .iter()
        .any(|prefix| field.starts_with(prefix))
}

/// `YYYYMMDD[HHMM[SS]]` (as ssh-keygen writes it), in UTC when suffixed `Z`, else UTC too:
/// verification must not depend on the verifying machine's time zone.
fn parse_time(text: &str) -> Result<i64, String> {
    let digits = text.trim_end_matches(['Z', 'z']);
    let bad = || format!("{text:?} is not a time (YYYYMMDD[HHMM[SS]])");
    if !digits.chars().all(|c| c.is_ascii_digit()) || ![8, 12, 14].contains(&digits.len()) {
        return Err(bad());
    }
    let field = |from: usize, to: usize| -> i64 {
        digits
            .get(from..to)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    };
    let date = jiff::civil::date(field(0, 4) as i16, field(4, 6) as i8, field(6, 8) as i8);
    let time = jiff::civil::time(
        field(8, 10) as i8,
        field(10, 12) as i8,
        field(12, 14) as i8,
        0,
    );
    let civil = jiff::civil::DateTime::from_parts(date, time);
    civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp().as_second())
        .map_err(|_| bad())
}

/// OpenSSH's pattern lists: a principal matches when some pattern matches it and no
/// negated (`!`) pattern does. Emails compare without regard to case.
fn matches_principals(patterns: &[String], principal: &str) -> bool {
    let principal = principal.to_lowercase();
    let mut matched = false;
    for pattern in patterns {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, pattern.as_str()),
        };
        if wildcard(pattern.to_lowercase().as_bytes(), principal.as_bytes()) {
            if negated {
                return false;
            }
            matched = true;
        }
    }
    matched
}

fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| wildcard(rest, &text[i..])),
        Some((b'?', rest)) => !text.is_empty() && wildcard(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && wildcard(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJw7Lhr0ZrDaZfYhzDt2WP/prQBIRHH0hPRqbcohy+aM";

    #[test]
    fn principals_options_and_comments_are_read() {
        let text = format!(
            "# ops\n\ndana@example.com,*@ops.example.com namespaces=\"git,tollgate-approval\" {KEY} dana's laptop\n\"erin@example.com\" {KEY}\n"
        );
        let signers = AllowedSigners::parse(&text).expect("valid");
        assert_eq!(signers.entries.len(), 2);
        let key = signers.entries[0].key.key_data().clone();
        assert!(signers.lists(&key, "dana@example.com", "git", None));
        assert!(signers.lists(&key, "Sam@OPS.example.com", "tollgate-approval", None));
        assert!(signers.lists(&key, "erin@example.com", "anything", None));
        assert!(!signers.lists(&key, "mallory@example.com", "git", None));
    }

    #[test]
    fn a_namespace_restriction_is_honoured() {
        let text = format!("dana@example.com namespaces=\"git\" {KEY}\n");
        let signers = AllowedSigners::parse(&text).expect("valid");
        let key = signers.entries[0].key.key_data().clone();
        assert!(signers.lists(&key, "dana@example.com", "git", None));
        assert!(!signers.lists(&key, "dana@example.com", "tollgate-approval", None));
    }

    #[test]
    fn a_validity_window_is_honoured() {
        let text =
            format!("dana@example.com valid-after=\"20260101\",valid-before=\"20270101\" {KEY}\n");
        let signers = AllowedSigners::parse(&text).expect("valid");
        let key = signers.entries[0].key.key_data().clone();
        let mid_2026 = 1_782_000_000;
        assert!(signers.lists(&key, "dana@example.com", "git", Some(mid_2026)));
        assert!(!signers.lists(&key, "dana@example.com", "git", Some(1_700_000_000)));
        assert!(!signers.lists(&key, "dana@example.com", "git", Some(1_900_000_000)));
    }

    #[test]
    fn a_negated_pattern_excludes() {
        let patterns = vec![
            "*@example.com".to_string(),
            "!mallory@example.com".to_string(),
        ];
        assert!(matches_principals(&patterns, "dana@example.com"));
        assert!(!matches_principals(&patterns, "mallory@example.com"));
        assert!(!matches_principals(&patterns, "dana@example.org"));
    }

    #[test]
    fn a_bad_line_is_named() {
        let err = AllowedSigners::parse(&format!(
            "dana@example.com {KEY}\nerin@example.com ssh-ed25519 nope\n"
        ))
        .expect_err("bad key");
        assert_eq!(err.line, 2);
        assert!(
            err.to_string().starts_with(".tollgate/allowed_signers:2:"),
            "{err}"
        );
        let err = AllowedSigners::parse(&format!("ca@example.com cert-authority {KEY}\n"))
            .expect_err("ca");
        assert!(err.message.contains("cert-authority"), "{err}");
    }

    #[test]
    fn an_unreadable_signature_is_not_verified() {
        let signers = AllowedSigners::parse(&format!("dana@example.com {KEY}\n")).expect("valid");
        let checked = signers.check("git", b"x", "not a signature", "dana@example.com", None);
        assert!(!checked.is_verified());
    }
}
