//! The policy: who may approve and merge into which environment, how many approvals it
//! needs, and when it is frozen. Read from `.tollgate/policy.yaml` on the protected branch
//! (the base), never from a promotion's head, so that a change cannot approve itself by
//! editing the rules. An invalid policy is an error that names its line, and it blocks
//! every merge into the repository until fixed (fail closed).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::identity::Identity;

/// Where the policy lives in an environment repository.
pub const POLICY_PATH: &str = ".tollgate/policy.yaml";

/// The pseudo-environment a change to `.tollgate/` must satisfy, with the strictest rules.
pub const POLICY_ENVIRONMENT: &str = ".tollgate";

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("{POLICY_PATH}{}: {message}; nothing can be merged into this repo until it is fixed", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct PolicyError {
    pub line: Option<u64>,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    teams: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    environments: BTreeMap<String, RawRules>,
    #[serde(default)]
    break_glass: Vec<String>,
    require_signatures: Option<bool>,
    signatures_required_from: Option<String>,
    audited_from: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    approvals: Option<u32>,
    #[serde(default)]
    approvers: Vec<String>,
    mergers: Option<Vec<String>>,
    #[serde(default)]
    allow_self_approval: bool,
    #[serde(default)]
    freeze: Vec<RawFreeze>,
    #[serde(default)]
    merge_method: MergeMethod,
    rollback_approvals: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFreeze {
    from: String,
    to: String,
    reason: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MergeMethod {
    #[default]
    Merge,
    Squash,
    FastForward,
}

/// A window during which merging into an environment is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Freeze {
    pub from: jiff::Timestamp,
    pub to: jiff::Timestamp,
    pub reason: String,
}

/// The rules of one environment, with team references expanded to emails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rules {
    pub approvals: u32,
    /// Lower-cased emails; empty means "anyone".
    pub approvers: Vec<String>,
    /// Lower-cased emails; empty means "anyone".
    pub mergers: Vec<String>,
    pub allow_self_approval: bool,
    pub freeze: Vec<Freeze>,
    pub merge_method: MergeMethod,
    pub rollback_approvals: u32,
}

impl Rules {
    /// No policy file, or an environment it does not name: one approval by anyone but
    /// the author.
    pub fn default_rules() -> Rules {
        Rules {
            approvals: 1,
            approvers: Vec::new(),
            mergers: Vec::new(),
            allow_self_approval: false,
            freeze: Vec::new(),
            merge_method: MergeMethod::Merge,
            rollback_approvals: 1,
        }
    }

    pub fn may_approve(&self, who: &Identity) -> bool {
        listed(&self.approvers, who)
    }

    pub fn may_merge(&self, who: &Identity) -> bool {
        listed(&self.mergers, who)
    }

    /// The freeze in force at `now`, if any.
    pub fn frozen_at(&self, now: jiff::Timestamp) -> Option<&Freeze> {
        self.freeze.iter().find(|f| f.from <= now && now < f.to)
    }
}

fn listed(list: &[String], who: &Identity) -> bool {
    list.is_empty() || list.iter().any(|e| e.eq_ignore_ascii_case(&who.email))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// Whether a policy file exists; without one every environment has the default rules.
    pub from_file: bool,
    pub environments: BTreeMap<String, Rules>,
    /// Lower-cased emails allowed to merge through a freeze with `--break-glass`.
    pub break_glass: Vec<String>,
    /// Whether approvals, merges, break-glass and direct rollbacks count only when signed
    /// by a key `.tollgate/allowed_signers` lists for the person. `None`: the default,
    /// which is "yes" exactly when that file exists.
    pub require_signatures: Option<bool>,
    /// For repositories that adopt signing later: changes before this commit (a revision
    /// as written) are reported as unsigned before the requirement, not checked for it.
    pub signatures_required_from: Option<String>,
    /// For repositories that adopt tollgate mid-history: changes before this commit are
    /// reported as "before tollgate", neither compliant nor a violation.
    pub audited_from: Option<String>,
}

impl Policy {
    /// No policy file at the base.
    pub fn absent() -> Policy {
        Policy {
            from_file: false,
            environments: BTreeMap::new(),
            break_glass: Vec::new(),
            require_signatures: None,
            signatures_required_from: None,
            audited_from: None,
        }
    }

    /// The rules for `env` (the defaults where the policy does not name it).
    pub fn rules(&self, env: &str) -> Rules {
        self.environments
            .get(env)
            .cloned()
            .unwrap_or_else(Rules::default_rules)
    }

    /// The rules a change to `env` answers to: the strictest for `.tollgate/` itself.
    pub fn rules_for_change(&self, env: &str) -> Rules {
        if env == POLICY_ENVIRONMENT {
            self.strictest()
        } else {
            self.rules(env)
        }
    }

    /// The strictest rules of all: what a change to `.tollgate/` itself must satisfy.
    pub fn strictest(&self) -> Rules {
        self.environments
            .values()
            .max_by_key(|r| (r.approvals, r.approvers.is_empty() as u8 ^ 1))
            .cloned()
            .unwrap_or_else(Rules::default_rules)
    }

    pub fn may_break_glass(&self, who: &Identity) -> bool {
        self.break_glass
            .iter()
            .any(|e| e.eq_ignore_ascii_case(&who.email))
    }

    /// Parse and validate a policy file's text.
    ///
    /// People are emails, or `github:LOGIN` for a GitHub account: on a GitHub repository
    /// a reviewer is known by login only, and stands for `LOGIN@users.noreply.github.com`.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let raw: RawPolicy = serde_saphyr::from_str(text).map_err(|e| {
            let (line, message) = crate::config::describe_yaml_error(text, &e);
            PolicyError { line, message }
        })?;
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.contains(needle))
                .map(|i| i as u64 + 1)
        };
        let expand = |list: &[String], key: &str| -> Result<Vec<String>, PolicyError> {
            let mut out = Vec::new();
            let not_a_person = |entry: &str| PolicyError {
                line: line_of(entry),
                message: format!(
                    "{key}: {entry:?} is neither an email, github:LOGIN nor team:NAME"
                ),
            };
            for entry in list {
                match entry.strip_prefix("team:") {
                    Some(team) => match raw.teams.get(team) {
                        Some(members) => {
                            for member in members {
                                out.push(person(member).ok_or_else(|| PolicyError {
                                    line: line_of(member),
                                    message: format!(
                                        "teams.{team}: {member:?} is neither an email nor github:LOGIN"
                                    ),
                                })?);
                            }
                        }
                        None => {
                            return Err(PolicyError {
                                line: line_of(entry),
                                message: format!(
                                    "{key}: unknown team {team:?}; define it under `teams:`"
                                ),
                            });
                        }
                    },
                    None => out.push(person(entry).ok_or_else(|| not_a_person(entry))?),
                }
            }
            out.sort();
            out.dedup();
            Ok(out)
        };
        let mut environments = BTreeMap::new();
        for (name, rules) in &raw.environments {
            let approvers = expand(&rules.approvers, &format!("environments.{name}.approvers"))?;
            let mergers = match &rules.mergers {
                Some(list) => expand(list, &format!("environments.{name}.mergers"))?,
                None => approvers.clone(),
            };
            let mut freeze = Vec::new();
            for window in &rules.freeze {
                let time = |value: &str, key: &str| {
                    value.parse::<jiff::Timestamp>().map_err(|e| PolicyError {
                        line: line_of(value),
                        message: format!(
                            "environments.{name}.freeze.{key}: {value:?} is not an RFC 3339 time ({e})"
                        ),
                    })
                };
                let (from, to) = (time(&window.from, "from")?, time(&window.to, "to")?);
                if to <= from {
                    return Err(PolicyError {
                        line: line_of(&window.to),
                        message: format!("environments.{name}.freeze: `to` is not after `from`"),
                    });
                }
                freeze.push(Freeze {
                    from,
                    to,
                    reason: window.reason.clone(),
                });
            }
            let approvals = rules.approvals.unwrap_or(1);
            environments.insert(
                name.clone(),
                Rules {
                    approvals,
                    approvers,
                    mergers,
                    allow_self_approval: rules.allow_self_approval,
                    freeze,
                    merge_method: rules.merge_method,
                    rollback_approvals: rules.rollback_approvals.unwrap_or(approvals),
                },
            );
        }
        let break_glass = expand(&raw.break_glass, "break_glass")?;
        for (key, value) in [
            ("signatures_required_from", &raw.signatures_required_from),
            ("audited_from", &raw.audited_from),
        ] {
            if let Some(rev) = value
                && (rev.trim().is_empty() || rev.contains(char::is_whitespace))
            {
                return Err(PolicyError {
                    line: line_of(key),
                    message: format!("{key}: {rev:?} is not a commit; write its full sha"),
                });
            }
        }
        Ok(Policy {
            from_file: true,
            environments,
            break_glass,
            require_signatures: raw.require_signatures,
            signatures_required_from: raw.signatures_required_from,
            audited_from: raw.audited_from,
        })
    }
}

/// A person entry as the lower-cased email it stands for.
fn person(entry: &str) -> Option<String> {
    let entry = entry.trim();
    match entry.strip_prefix("github:") {
        Some(login) if !login.is_empty() && !login.contains(['@', ' ']) => {
            Some(crate::identity::Identity::github(login).email)
        }
        Some(_) => None,
        None if entry.contains('@') => Some(entry.to_lowercase()),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../assets/demo/policy.yaml");

    fn who(email: &str) -> Identity {
        Identity {
            name: "x".into(),
            email: email.into(),
        }
    }

    #[test]
    fn teams_expand_and_mergers_default_to_approvers() {
        let policy = Policy::parse(DEMO).expect("the demo policy is valid");
        let production = policy.rules("production");
        assert_eq!(production.approvals, 2);
        assert_eq!(
            production.approvers,
            ["alice@example.com", "carol@example.com", "dana@example.com"]
        );
        assert_eq!(production.mergers, production.approvers);
        assert!(production.may_approve(&who("Dana@Example.com")));
        assert!(!production.may_approve(&who("bob@example.com")));
        assert!(policy.may_break_glass(&who("carol@example.com")));
    }

    #[test]
    fn an_environment_the_policy_does_not_name_gets_the_default() {
        let policy = Policy::parse(DEMO).expect("valid");
        let rules = policy.rules("qa");
        assert_eq!((rules.approvals, rules.allow_self_approval), (1, false));
        assert!(rules.may_approve(&who("anyone@example.com")));
    }

    #[test]
    fn github_logins_stand_for_their_noreply_address() {
        let policy = Policy::parse(
            "teams:\n  ops: [github:Dana-Ops, erin@example.com]\nenvironments:\n  production:\n    approvers: [team:ops, github:frank]\n",
        )
        .expect("valid");
        let rules = policy.rules("production");
        assert!(rules.may_approve(&Identity::github("dana-ops")));
        assert!(rules.may_approve(&Identity::github("frank")));
        assert!(rules.may_approve(&who("erin@example.com")));
        assert!(!rules.may_approve(&Identity::github("mallory")));
        assert_eq!(Identity::github("frank").github_login(), Some("frank"));
        assert_eq!(who("frank@example.com").github_login(), None);
    }

    #[test]
    fn bad_policies_name_the_line() {
        for (text, line, needle) in [
            (
                "environments:\n  production:\n    approvals: two\n",
                3,
                "approvals",
            ),
            (
                "environments:\n  production:\n    aprovals: 2\n",
                3,
                "aprovals",
            ),
            (
                "environments:\n  production:\n    approvers: [team:ops]\n",
                3,
                "unknown team \"ops\"",
            ),
            (
                "teams:\n  ops: [dana]\nenvironments:\n  p:\n    approvers: [team:ops]\n",
                2,
                "teams.ops: \"dana\" is neither an email nor github:LOGIN",
            ),
            (
                "environments:\n  p:\n    approvers: [\"github:\"]\n",
                3,
                "neither an email, github:LOGIN nor team:NAME",
            ),
            (
                "environments:\n  p:\n    freeze:\n      - {from: tomorrow, to: '2026-01-01T00:00:00Z', reason: x}\n",
                4,
                "RFC 3339",
            ),
        ] {
            let err = Policy::parse(text).expect_err(text);
            assert_eq!(err.line, Some(line), "{err}");
            assert!(err.to_string().contains(needle), "{err}");
            assert!(err.to_string().contains("nothing can be merged"), "{err}");
        }
    }

    #[test]
    fn freeze_windows_apply_between_from_and_to() {
        let policy = Policy::parse(
            "environments:\n  production:\n    freeze:\n      - {from: '2026-12-20T00:00:00Z', to: '2027-01-02T00:00:00Z', reason: holidays}\n",
        )
        .expect("valid");
        let rules = policy.rules("production");
        let at = |t: &str| t.parse::<jiff::Timestamp>().expect("time");
        assert_eq!(
            rules
                .frozen_at(at("2026-12-24T12:00:00Z"))
                .map(|f| f.reason.as_str()),
            Some("holidays")
        );
        assert!(rules.frozen_at(at("2027-01-02T00:00:00Z")).is_none());
    }
}
