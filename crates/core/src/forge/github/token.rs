//! The GitHub token: `GH_TOKEN`, then `GITHUB_TOKEN` (for an Enterprise Server host,
//! `GH_ENTERPRISE_TOKEN` and `GITHUB_ENTERPRISE_TOKEN` first, as `gh` reads them), then
//! `gh auth token` when `gh` is installed. The token is a [`SecretString`]: it is never
//! printed, logged or written, and `Debug` shows it redacted.

use std::process::{Command, Stdio};

use octocrab::secrecy::{ExposeSecret, SecretString};

use super::GitHubError;

/// Variables read for a token, in order, for `host`.
pub fn variables_for(host: &str) -> &'static [&'static str] {
    if host == "github.com" {
        &["GH_TOKEN", "GITHUB_TOKEN"]
    } else {
        &[
            "GH_ENTERPRISE_TOKEN",
            "GITHUB_ENTERPRISE_TOKEN",
            "GH_TOKEN",
            "GITHUB_TOKEN",
        ]
    }
}

/// The token for `host`, from the environment or `gh`.
pub fn resolve(host: &str) -> Result<SecretString, GitHubError> {
    for name in variables_for(host) {
        if let Ok(value) = std::env::var(name)
            && !value.trim().is_empty()
        {
            return Ok(SecretString::from(value.trim().to_string()));
        }
    }
    if let Some(token) = from_gh(host) {
        return Ok(token);
    }
    Err(GitHubError::NoToken {
        host: host.to_string(),
        variables: variables_for(host).join(", "),
    })
}

/// `gh auth token --hostname HOST`, when `gh` is installed and logged in.
fn from_gh(host: &str) -> Option<SecretString> {
    let output = Command::new("gh")
        .args(["auth", "token", "--hostname", host])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let token = String::from_utf8(output.stdout).ok()?;
    let token = token.trim();
    (!token.is_empty()).then(|| SecretString::from(token.to_string()))
}

/// The token as the password of an HTTPS git remote (`x-access-token:TOKEN`).
pub fn git_password(token: &SecretString) -> &str {
    token.expose_secret()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enterprise_hosts_read_the_enterprise_variables_first() {
        assert_eq!(variables_for("github.com"), &["GH_TOKEN", "GITHUB_TOKEN"]);
        assert_eq!(variables_for("ghe.example.com")[0], "GH_ENTERPRISE_TOKEN");
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let token = SecretString::from("ghp_verysecret".to_string());
        assert!(!format!("{token:?}").contains("verysecret"));
    }
}
