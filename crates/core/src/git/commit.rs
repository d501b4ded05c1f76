//! What a commit says: who wrote it, who committed it, when, its subject and body, and its
//! trailers (`Promotion:`, `Approved-by:`, `Merged-by:`, `Reverts:`, `Rollback-to:`,
//! `Reason:`, `Break-glass:`, `Signed-off-by:` and any other `Key: value` in the last
//! paragraph). The trailers are how the audit trail lives in git itself.

use gix::ObjectId;
use serde::Serialize;

use super::{GitError, GixContext, Repo};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub name: String,
    pub email: String,
    /// Seconds since the Unix epoch; RFC 3339 in JSON.
    #[serde(serialize_with = "serialize_time")]
    pub time: i64,
    /// Offset from UTC in seconds, as recorded.
    #[serde(skip)]
    pub offset: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trailer {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitInfo {
    pub sha: String,
    #[serde(skip)]
    pub id: ObjectId,
    #[serde(skip)]
    pub parents: Vec<ObjectId>,
    #[serde(skip)]
    pub tree: ObjectId,
    pub author: Person,
    pub committer: Person,
    pub subject: String,
    /// The message after the subject, without the trailer paragraph.
    pub body: String,
    pub trailers: Vec<Trailer>,
}

impl CommitInfo {
    /// What people call the change: for the merge of a promotion (`Merge promotion ID`),
    /// the promotion's title written under it; otherwise the subject. For showing only.
    pub fn title(&self) -> &str {
        match self.body.lines().next() {
            Some(title) if self.subject.starts_with("Merge promotion ") && !title.is_empty() => {
                title
            }
            _ => &self.subject,
        }
    }

    /// Every value of the trailer `key` (compared case-insensitively, as git does).
    pub fn trailer_values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.trailers
            .iter()
            .filter(move |t| t.key.eq_ignore_ascii_case(key))
            .map(|t| t.value.as_str())
    }
}

impl Repo {
    /// Read and decode a commit.
    pub fn commit_info(&self, id: ObjectId) -> Result<CommitInfo, GitError> {
        let commit = self
            .inner
            .find_commit(id)
            .during(&self.name, || format!("read commit {id}"))?;
        let decoded = commit
            .decode()
            .during(&self.name, || format!("decode commit {id}"))?;
        let person = |sig: gix::actor::SignatureRef<'_>| {
            let time = sig.time().unwrap_or_default();
            Person {
                name: sig.name.to_string().trim().to_string(),
                email: sig.email.to_string().trim().to_string(),
                time: time.seconds,
                offset: time.offset,
            }
        };
        let author = person(
            decoded
                .author()
                .during(&self.name, || format!("read author of {id}"))?,
        );
        let committer = person(
            decoded
                .committer()
                .during(&self.name, || format!("read committer of {id}"))?,
        );
        let message = decoded.message();
        let subject = message.summary().to_string();
        let (body, trailers) = match message.body() {
            Some(body) => {
                let trailers = body
                    .trailers()
                    .map(|t| Trailer {
                        key: t.token.to_string(),
                        value: t.value.to_string(),
                    })
                    .collect();
                (
                    body.without_trailer().to_string().trim().to_string(),
                    trailers,
                )
            }
            None => (String::new(), Vec::new()),
        };
        Ok(CommitInfo {
            sha: id.to_string(),
            id,
            parents: decoded.parents().collect(),
            tree: decoded.tree(),
            author,
            committer,
            subject,
            body,
            trailers,
        })
    }
}

/// A commit's SSH (or other) signature as written in its `gpgsig` header, and the bytes
/// it signs: the commit as written without that header.
pub struct CommitSignature {
    pub armored: String,
    pub signed: Vec<u8>,
}

impl Repo {
    /// The signature of commit `id`, if it has one.
    pub fn commit_signature(&self, id: ObjectId) -> Result<Option<CommitSignature>, GitError> {
        let commit = self
            .inner
            .find_commit(id)
            .during(&self.name, || format!("read commit {id}"))?;
        let signature = commit
            .signature()
            .during(&self.name, || format!("read the signature of {id}"))?;
        Ok(signature.map(|(armored, signed)| CommitSignature {
            armored: armored.to_string(),
            signed: signed.to_bstring().into(),
        }))
    }
}

fn serialize_time<S: serde::Serializer>(seconds: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*seconds))
}

/// Format seconds since the epoch as an RFC 3339 UTC timestamp, for JSON and tables.
pub fn rfc3339(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| seconds.to_string())
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn rfc3339_is_utc_with_a_z() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_651_200), "2026-11-26T00:00:00Z");
        assert_eq!(rfc3339(-86_400), "1969-12-31T00:00:00Z");
    }
}
