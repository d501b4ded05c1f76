//! Approvals in a plain git repository, stored git-natively as notes: the ref
//! `refs/notes/tollgate` points at a commit whose tree has one blob per approved commit
//! (named by its full sha), holding one JSON approval per line. Writing is a
//! compare-and-swap on the notes ref, retried when another approval landed first, so that
//! concurrent approvals are all kept. The notes' own history is an audit of approvals.

use std::collections::{BTreeMap, HashMap};

use gix::ObjectId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::git::write::{FileChange, Signature};
use crate::git::{GitError, GixContext, Repo};
use crate::identity::Identity;
use crate::manifest::ManifestObject;
use crate::signing::{
    APPROVAL_NAMESPACE, AllowedSigners, SignatureReport, SigningError, SigningKey,
};

pub const NOTES_REF: &str = "refs/notes/tollgate";

/// How often a write is retried when another writer moved the notes ref in between.
const ATTEMPTS: usize = 8;

/// "Identity X approves head commit H of promotion P": the statement an approver signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub by: Identity,
    /// Seconds since the epoch.
    pub at: i64,
    pub head: String,
    /// The protected branch's tip when it was approved.
    pub base: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Per environment, the digest of what rendered at `head` when it was approved.
    #[serde(default)]
    pub digests: BTreeMap<String, String>,
    /// The repository (its protected branch) and promotion branch it was given on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion: Option<String>,
    /// Environments whose change the approver could not see rendered and approved all
    /// the same, saying they reviewed it another way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acknowledged_unrendered: Vec<String>,
    /// The exact statement text and its signature, when it was read from a signed note;
    /// never part of the statement itself.
    #[serde(skip)]
    pub signed: Option<SignedStatement>,
}

/// A signed approval as stored: the statement's exact bytes and an SSH signature over
/// them. Verification works on these bytes, never on a re-encoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedStatement {
    pub statement: String,
    pub signature: String,
}

/// The first line of every signed approval statement: what it is, and its version.
const STATEMENT_HEADER: &str = "tollgate approval v1\n";

impl Approval {
    /// The canonical statement text a signature covers: a header line, then the approval
    /// as JSON with its fields in a fixed order (digests sorted by environment).
    pub fn statement(&self) -> String {
        let mut text = STATEMENT_HEADER.to_string();
        text.push_str(&serde_json::to_string(self).expect("an approval always serialises"));
        text
    }

    /// The approval a signed statement states, keeping the statement for verification.
    fn from_signed(signed: SignedStatement) -> Option<Approval> {
        let json = signed.statement.strip_prefix(STATEMENT_HEADER)?;
        let mut approval: Approval = serde_json::from_str(json).ok()?;
        approval.signed = Some(signed);
        Some(approval)
    }

    /// Check the signature against the allowed signers at the base: it must verify over
    /// the statement, with a key listed for the email the statement says approved.
    pub fn check_signature(&self, signers: &AllowedSigners) -> SignatureReport {
        match &self.signed {
            None => SignatureReport::unsigned(),
            Some(signed) => signers
                .check(
                    APPROVAL_NAMESPACE,
                    signed.statement.as_bytes(),
                    &signed.signature,
                    &self.by.email,
                    Some(self.at),
                )
                .into(),
        }
    }

    /// One line of a note: signed approvals as their statement and signature, unsigned
    /// ones (repositories without allowed signers) as the approval itself.
    fn note_line(&self) -> String {
        match &self.signed {
            Some(signed) => serde_json::to_string(signed),
            None => serde_json::to_string(self),
        }
        .expect("an approval always serialises")
    }

    /// Read one line of a note, signed or not; `None` for a line that is neither.
    fn from_note_line(line: &str) -> Option<Approval> {
        match serde_json::from_str::<SignedStatement>(line) {
            Ok(signed) => Approval::from_signed(signed),
            Err(_) => serde_json::from_str(line).ok(),
        }
    }
}

/// The digest of a rendered environment: what an approval pins beyond the commit.
pub fn rendered_digest(objects: &[ManifestObject]) -> String {
    let mut sorted: Vec<&ManifestObject> = objects.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut hasher = Sha256::new();
    for object in sorted {
        hasher.update(object.key.to_string().as_bytes());
        hasher.update(b"\0");
        hasher.update(object.value().to_string().as_bytes());
        hasher.update(b"\n");
    }
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

impl Approval {
    /// Sign this approval's statement with `key`.
    pub fn sign(mut self, key: &SigningKey) -> Result<Approval, SigningError> {
        let statement = self.statement();
        let signature = key.sign(APPROVAL_NAMESPACE, statement.as_bytes())?;
        self.signed = Some(SignedStatement {
            statement,
            signature,
        });
        Ok(self)
    }
}

impl Repo {
    fn notes_tip(&self) -> Result<Option<ObjectId>, GitError> {
        self.ref_target(NOTES_REF)
    }

    pub(crate) fn ref_target(&self, name: &str) -> Result<Option<ObjectId>, GitError> {
        match self.inner.try_find_reference(name) {
            Ok(Some(mut reference)) => Ok(reference.peel_to_id().ok().map(|id| id.detach())),
            Ok(None) => Ok(None),
            Err(e) => Err(GitError::Gix {
                repo: self.name.clone(),
                action: format!("read {name}"),
                message: e.to_string(),
            }),
        }
    }

    /// The text of the note on `commit` under the notes ref `notes`, if there is one.
    pub(crate) fn note_on(
        &self,
        notes: &str,
        commit: ObjectId,
    ) -> Result<Option<String>, GitError> {
        let Some(tip) = self.ref_target(notes)? else {
            return Ok(None);
        };
        let tree = self.tree_of(tip)?;
        let sha = commit.to_string();
        // Flat, as tollgate writes notes; or fanned out, as `git notes` does in large ones.
        let bytes = match self.file_at(tree, &sha)? {
            Some(bytes) => Some(bytes),
            None => self.file_at(tree, &format!("{}/{}", &sha[..2], &sha[2..]))?,
        };
        Ok(bytes.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// The approvals recorded on `commit`.
    pub fn approvals_on(&self, commit: ObjectId) -> Result<Vec<Approval>, GitError> {
        let Some(text) = self.note_on(NOTES_REF, commit)? else {
            return Ok(Vec::new());
        };
        Ok(text.lines().filter_map(Approval::from_note_line).collect())
    }

    /// The approval notes read once, for looking up many commits (an audit).
    pub fn approval_notes(&self) -> Result<ApprovalNotes, GitError> {
        Ok(ApprovalNotes {
            notes: self.notes_index(NOTES_REF)?,
        })
    }

    /// [`Repo::approvals_on`] in notes read before.
    pub fn approvals_in(
        &self,
        notes: &ApprovalNotes,
        commit: ObjectId,
    ) -> Result<Vec<Approval>, GitError> {
        let Some(blob) = notes.notes.get(&commit) else {
            return Ok(Vec::new());
        };
        Ok(String::from_utf8_lossy(&self.blob(*blob)?)
            .lines()
            .filter_map(Approval::from_note_line)
            .collect())
    }

    /// Every note under the notes ref `notes`: annotated commit → note blob. Read in one
    /// pass, so that an audit's lookups cost a hash probe rather than a scan of a tree
    /// that has one entry per approved commit. Fan-out folders (`ab/cdef…`, as `git notes`
    /// writes them in large repositories) are read too.
    pub(crate) fn notes_index(&self, notes: &str) -> Result<HashMap<ObjectId, ObjectId>, GitError> {
        let mut index = HashMap::new();
        let Some(tip) = self.ref_target(notes)? else {
            return Ok(index);
        };
        let mut folders = vec![(self.tree_of(tip)?, String::new())];
        while let Some((tree, prefix)) = folders.pop() {
            let tree = self
                .inner
                .find_tree(tree)
                .during(&self.name, || format!("read {notes}"))?;
            for entry in tree.iter() {
                let entry = entry.during(&self.name, || format!("read {notes}"))?;
                let name = format!("{prefix}{}", entry.filename());
                if entry.mode().is_tree() {
                    if name.len() < 40 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                        folders.push((entry.object_id(), name));
                    }
                } else if let Ok(commit) = ObjectId::from_hex(name.as_bytes()) {
                    index.insert(commit, entry.object_id());
                }
            }
        }
        Ok(index)
    }

    /// Change the approvals on `commit` with `edit`, as one notes commit, retrying when
    /// the notes ref moved under us. Returns what `edit` returned.
    fn edit_approvals<T>(
        &self,
        commit: ObjectId,
        committer: &Signature,
        message: &str,
        mut edit: impl FnMut(&mut Vec<Approval>) -> T,
    ) -> Result<T, GitError> {
        let mut last_error = None;
        for _ in 0..ATTEMPTS {
            let tip = self.notes_tip()?;
            let mut approvals = self.approvals_on(commit)?;
            let result = edit(&mut approvals);
            let text: String = approvals.iter().map(|a| a.note_line() + "\n").collect();
            let base_tree = match tip {
                Some(t) => self.tree_of(t)?,
                None => ObjectId::empty_tree(gix::hash::Kind::Sha1),
            };
            let tree = self.write_tree(
                base_tree,
                &[FileChange {
                    path: commit.to_string(),
                    content: (!text.is_empty()).then(|| text.into_bytes()),
                }],
            )?;
            let parents: Vec<ObjectId> = tip.into_iter().collect();
            let note = self.write_commit(tree, &parents, committer, committer, message)?;
            match self.update_ref(NOTES_REF, tip, note, message, committer) {
                Ok(()) => return Ok(result),
                Err(e @ GitError::RefMoved { .. }) => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.expect("the loop ran at least once"))
    }

    /// Record `approval` on its head, replacing an earlier one by the same person.
    pub fn record_approval(
        &self,
        approval: Approval,
        committer: &Signature,
    ) -> Result<(), GitError> {
        let head = self.resolve(&approval.head)?;
        let message = format!("approve {} by {}", approval.head, approval.by);
        self.edit_approvals(head, committer, &message, |approvals| {
            approvals.retain(|a| !a.by.email.eq_ignore_ascii_case(&approval.by.email));
            approvals.push(approval.clone());
        })
    }

    /// Withdraw `who`'s approval of `commit`; whether there was one.
    pub fn remove_approval(
        &self,
        commit: ObjectId,
        who: &Identity,
        committer: &Signature,
    ) -> Result<bool, GitError> {
        let message = format!("unapprove {commit} by {who}");
        self.edit_approvals(commit, committer, &message, |approvals| {
            let before = approvals.len();
            approvals.retain(|a| !a.by.email.eq_ignore_ascii_case(&who.email));
            approvals.len() != before
        })
    }
}

/// The approval notes as they are now (see [`Repo::approval_notes`]).
pub struct ApprovalNotes {
    notes: HashMap<ObjectId, ObjectId>,
}

/// Where fast-forward merges are recorded: a fast-forward writes no commit of its own, so
/// the trailers its merge commit would have carried (`Promotion:`, `Approved-by:`,
/// `Merged-by:`, …) are kept as a note on each commit it brought in.
pub const MERGES_REF: &str = "refs/notes/tollgate-merges";

/// The fast-forward merge records as they are now (see [`Repo::merge_records`]).
pub struct MergeRecords {
    notes: HashMap<ObjectId, ObjectId>,
}

impl Repo {
    /// The trailers of the fast-forward merge that brought `commit` in, if one did.
    pub fn merge_record(&self, commit: ObjectId) -> Result<Vec<crate::git::Trailer>, GitError> {
        let records = self.merge_records()?;
        self.merge_record_in(&records, commit)
    }

    /// The records read once, for looking up many commits (an audit of the whole branch
    /// would otherwise look the notes ref up on disk once per commit).
    pub fn merge_records(&self) -> Result<MergeRecords, GitError> {
        Ok(MergeRecords {
            notes: self.notes_index(MERGES_REF)?,
        })
    }

    /// [`Repo::merge_record`] in records read before.
    pub fn merge_record_in(
        &self,
        records: &MergeRecords,
        commit: ObjectId,
    ) -> Result<Vec<crate::git::Trailer>, GitError> {
        let Some(blob) = records.notes.get(&commit) else {
            return Ok(Vec::new());
        };
        Ok(String::from_utf8_lossy(&self.blob(*blob)?)
            .lines()
            .filter_map(|line| line.split_once(": "))
            .map(|(key, value)| crate::git::Trailer {
                key: key.to_string(),
                value: value.to_string(),
            })
            .collect())
    }

    /// Write (unreferenced) the notes commit that records `trailers` on each of `commits`,
    /// and return the ref change that publishes it, for the merge's own transaction: the
    /// record and the branch move together or not at all.
    pub fn prepare_merge_record(
        &self,
        commits: &[ObjectId],
        trailers: &str,
        committer: &Signature,
    ) -> Result<crate::git::write::RefSwap, GitError> {
        let tip = self.ref_target(MERGES_REF)?;
        let base_tree = match tip {
            Some(t) => self.tree_of(t)?,
            None => ObjectId::empty_tree(gix::hash::Kind::Sha1),
        };
        let changes: Vec<FileChange> = commits
            .iter()
            .map(|c| FileChange {
                path: c.to_string(),
                content: Some(trailers.as_bytes().to_vec()),
            })
            .collect();
        let tree = self.write_tree(base_tree, &changes)?;
        let parents: Vec<ObjectId> = tip.into_iter().collect();
        let note = self.write_commit(tree, &parents, committer, committer, "fast-forward merge")?;
        Ok(crate::git::write::RefSwap {
            name: MERGES_REF.to_string(),
            expected: tip,
            new: Some(note),
        })
    }
}
