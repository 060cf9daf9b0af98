//! The JSON plan (`--plan-out`, `--json`, `--apply`) and the rules for
//! trusting one that was written earlier: its format, where its candidates
//! may lie, and which of them a fresh plan confirms.
//!
//! A plan file (`--plan-out`) is JSON lines: a header line (everything but
//! the candidates, plus per-directory totals), then one candidate per line
//! in path order, so writing and reading it never holds every candidate in
//! memory. `--json` prints the same fields as one document with a
//! `candidates` array. Both forms, and the single documents of format 1
//! written by earlier versions, are read back.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{BufRead, Write};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::candidates::{Candidates, DirTotals};
use super::{Candidate, JobTotals, Kept, Plan, Policy, ReadSnapshot, Reason};
use crate::storage::Location;

/// Identifies the plan format (`--plan-out`, `--json`, `--apply`).
pub const PLAN_FORMAT: &str = "flink-chk-cleanup-plan/2";

/// The format earlier versions wrote (one JSON document), still read.
pub const PLAN_FORMAT_1: &str = "flink-chk-cleanup-plan/1";

/// A plan as written to JSON and read back to apply it: the plan, the policy
/// it was made under and the totals.
#[derive(Debug, Serialize, Deserialize)]
pub struct PlanFile {
    /// [`PLAN_FORMAT`].
    pub format: String,
    /// Whether this run deleted anything (always false in a plan).
    #[serde(default)]
    pub deleted: bool,
    /// The checkpoints root the references were read from.
    pub root: Location,
    /// Where candidates may be.
    pub scope: Location,
    /// The savepoints root, if scanned.
    pub savepoints: Option<Location>,
    /// The policy.
    pub policy: PolicyRecord,
    /// Totals.
    pub totals: Totals,
    /// Per job directory.
    pub jobs: BTreeMap<String, JobTotals>,
    /// What may be deleted, in path order (absent from a plan file's
    /// header line: one line each follows it).
    #[serde(default)]
    pub candidates: Candidates,
    /// What is kept, grouped.
    pub kept: Vec<Kept>,
    /// The kept snapshots read.
    pub read: Vec<ReadSnapshot>,
}

/// The policy a plan was made under.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyRecord {
    /// See [`Policy::keep_last`].
    pub keep_last: usize,
    /// See [`Policy::min_age`].
    pub min_age_seconds: u64,
    /// See [`Policy::keep`].
    pub keep: Vec<Location>,
    /// See [`Policy::include_savepoints`].
    pub include_savepoints: BTreeSet<String>,
    /// See [`Policy::drop_jobs`].
    pub drop_jobs: BTreeSet<String>,
    /// See [`Policy::stopped`].
    pub stopped: bool,
    /// When the plan was made.
    pub planned_at: jiff::Timestamp,
    /// `FROM=TO` path mappings used to read the snapshots.
    #[serde(default)]
    pub rebase: Vec<String>,
    /// The inventory report the files came from (planning again reads it
    /// again; absent: a live listing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<crate::analysis::inventory::Record>,
}

impl Policy {
    /// The record of this policy in a plan file, with the `FROM=TO` rebase specs used.
    pub fn record(&self, rebase: &[String]) -> PolicyRecord {
        PolicyRecord {
            keep_last: self.keep_last,
            min_age_seconds: self.min_age.as_secs(),
            keep: self.keep.clone(),
            include_savepoints: self.include_savepoints.clone(),
            drop_jobs: self.drop_jobs.clone(),
            stopped: self.stopped,
            planned_at: self.now,
            rebase: rebase.to_vec(),
            inventory: None,
        }
    }
}

impl PolicyRecord {
    /// The recorded policy, applied at `now`.
    pub fn policy(&self, now: jiff::Timestamp) -> Policy {
        Policy {
            keep_last: self.keep_last,
            min_age: Duration::from_secs(self.min_age_seconds),
            keep: self.keep.clone(),
            include_savepoints: self.include_savepoints.clone(),
            drop_jobs: self.drop_jobs.clone(),
            stopped: self.stopped,
            now,
        }
    }
}

/// Plan totals.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Totals {
    /// Files in the candidates.
    pub candidate_files: u64,
    /// Bytes in the candidates.
    pub candidate_bytes: u64,
    /// Files listed while planning.
    pub files_listed: u64,
    /// Kept snapshots read.
    pub snapshots_read: usize,
    /// Distinct files they reference.
    pub referenced_files: usize,
    /// Inventory rows read, in scope, skipped and outside (planned from an
    /// inventory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_rows: Option<crate::analysis::inventory::Counts>,
}

impl PlanFile {
    /// The file form of `plan`, made under `policy`, reading with `rebase` (`FROM=TO` specs).
    pub fn new(plan: Plan, policy: &Policy, rebase: &[String]) -> Self {
        PlanFile {
            format: PLAN_FORMAT.to_owned(),
            deleted: false,
            totals: Totals {
                candidate_files: plan.candidate_files(),
                candidate_bytes: plan.candidate_bytes(),
                files_listed: plan.files_listed,
                snapshots_read: plan.snapshots_read,
                referenced_files: plan.referenced_files,
                inventory_rows: plan.inventory_rows.clone(),
            },
            policy: crate::analysis::cleanup::PolicyRecord {
                inventory: plan.inventory.clone(),
                ..policy.record(rebase)
            },
            root: plan.root,
            scope: plan.scope,
            savepoints: plan.savepoints,
            jobs: plan.jobs,
            candidates: plan.candidates,
            kept: plan.kept,
            read: plan.read,
        }
    }
}

/// Whether `c` lies where `plan` may delete: under its scope, or (an
/// included savepoint) under its savepoints root.
pub(super) fn in_bounds(plan: &PlanFile, c: &Candidate) -> bool {
    let under = |root: &Location| {
        c.path.relative_to(root).is_some_and(|rel| {
            !rel.split('/').any(|p| p == "..")
                && (!rel.is_empty()
                    // The scope itself only when it is a dropped job's directory.
                    || (c.reason == Reason::DroppedJob
                        && c.is_dir
                        && plan.policy.drop_jobs.contains(c.path.file_name())))
        })
    };
    under(&plan.scope)
        || (c.reason == Reason::IncludedSavepoint && plan.savepoints.as_ref().is_some_and(under))
}

/// Why a plan file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    /// Not JSON at all.
    #[error("not a JSON plan")]
    NotJson(#[source] serde_json::Error),
    /// JSON without a `format` field.
    #[error("no \"format\" field; not a plan written by `safe-to-delete --plan-out`")]
    NoFormat,
    /// Another format, or another version of this one.
    #[error("plan format {found:?}; this build reads {PLAN_FORMAT:?} (and {PLAN_FORMAT_1:?})")]
    Format {
        /// The format the file names.
        found: String,
    },
    /// The right format, but fields missing or of the wrong type.
    #[error("invalid plan")]
    Invalid(#[source] serde_json::Error),
    /// A candidate line that is not one.
    #[error("line {line}: not a candidate")]
    Line {
        /// The line (1-based; the header is line 1).
        line: u64,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// Reading the file failed.
    #[error("reading the plan")]
    Read(#[source] std::io::Error),
    /// Its candidates could not be spilled to disk.
    #[error("spilling the plan's candidates to disk")]
    Spill(#[source] crate::spill::Error),
}

/// The header line of a plan file: the plan without its candidates, with
/// per-directory totals (what the human summary shows).
#[derive(Debug, Serialize)]
pub struct Header<'a> {
    /// [`PLAN_FORMAT`].
    pub format: &'static str,
    /// See [`PlanFile::deleted`].
    pub deleted: bool,
    /// See [`PlanFile::root`].
    pub root: &'a Location,
    /// See [`PlanFile::scope`].
    pub scope: &'a Location,
    /// See [`PlanFile::savepoints`].
    pub savepoints: Option<&'a Location>,
    /// See [`PlanFile::policy`].
    pub policy: &'a PolicyRecord,
    /// See [`PlanFile::totals`], with the number of candidates.
    pub totals: TotalsOut<'a>,
    /// See [`PlanFile::jobs`].
    pub jobs: &'a BTreeMap<String, JobTotals>,
    /// Candidates per directory and reason.
    pub dirs: Vec<&'a DirTotals>,
    /// See [`PlanFile::kept`].
    pub kept: &'a [Kept],
    /// See [`PlanFile::read`].
    pub read: &'a [ReadSnapshot],
}

/// [`Totals`] as written, with the number of candidate lines that follow.
#[derive(Debug, Serialize)]
pub struct TotalsOut<'a> {
    /// The totals.
    #[serde(flatten)]
    pub totals: &'a Totals,
    /// Candidates (lines after the header).
    pub candidates: u64,
}

impl PlanFile {
    /// The header line's content.
    pub fn header(&self) -> Header<'_> {
        Header {
            format: PLAN_FORMAT,
            deleted: self.deleted,
            root: &self.root,
            scope: &self.scope,
            savepoints: self.savepoints.as_ref(),
            policy: &self.policy,
            totals: TotalsOut {
                totals: &self.totals,
                candidates: self.candidates.len(),
            },
            jobs: &self.jobs,
            dirs: self.candidates.dirs().collect(),
            kept: &self.kept,
            read: &self.read,
        }
    }

    /// Writes the plan as JSON lines: the header, then one candidate per
    /// line in path order (streamed from disk when they were spilled).
    pub fn write_lines(&self, w: &mut impl Write) -> std::io::Result<()> {
        serde_json::to_writer(&mut *w, &self.header())?;
        w.write_all(b"\n")?;
        self.candidates.try_for_each(std::io::Error::other, |c| {
            serde_json::to_writer(&mut *w, c)?;
            w.write_all(b"\n")
        })?;
        w.flush()
    }

    /// Reads a plan written by `--plan-out` (JSON lines) or `--json`, or by
    /// an earlier version (format 1), checking its format first. Nothing in
    /// it is trusted beyond its shape: [`confirm`] and [`in_bounds`] decide
    /// what of it may be deleted. Candidates spill to disk past a limit.
    pub fn read(mut r: impl BufRead) -> Result<PlanFile, PlanFileError> {
        let mut first = Vec::new();
        r.read_until(b'\n', &mut first)
            .map_err(PlanFileError::Read)?;
        let lines = match serde_json::from_slice::<serde_json::Value>(&first) {
            Ok(serde_json::Value::Object(m)) => {
                m.get("format").and_then(|f| f.as_str()) == Some(PLAN_FORMAT)
                    && !m.contains_key("candidates")
            }
            _ => false,
        };
        if !lines {
            r.read_to_end(&mut first).map_err(PlanFileError::Read)?;
            return PlanFile::from_slice(&first);
        }
        let mut plan: PlanFile = serde_json::from_slice(&first).map_err(PlanFileError::Invalid)?;
        let mut line = Vec::new();
        let mut n = 1u64;
        loop {
            line.clear();
            if r.read_until(b'\n', &mut line)
                .map_err(PlanFileError::Read)?
                == 0
            {
                break;
            }
            n += 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let c: Candidate = serde_json::from_slice(&line)
                .map_err(|source| PlanFileError::Line { line: n, source })?;
            plan.candidates.push(c).map_err(PlanFileError::Spill)?;
        }
        plan.candidates.seal();
        Ok(plan)
    }

    /// Reads a plan that is one JSON document (`--json`, or format 1).
    pub fn from_slice(bytes: &[u8]) -> Result<PlanFile, PlanFileError> {
        #[derive(Deserialize)]
        struct Header {
            format: Option<serde_json::Value>,
            candidates: Option<serde::de::IgnoredAny>,
        }
        let h: Header = serde_json::from_slice(bytes).map_err(PlanFileError::NotJson)?;
        match h.format {
            Some(serde_json::Value::String(f)) if f == PLAN_FORMAT || f == PLAN_FORMAT_1 => {}
            Some(serde_json::Value::String(found)) => return Err(PlanFileError::Format { found }),
            _ => return Err(PlanFileError::NoFormat),
        }
        // Required in a document: a plan without it is not one.
        if h.candidates.is_none() {
            return Err(PlanFileError::Invalid(serde::de::Error::missing_field(
                "candidates",
            )));
        }
        let mut plan: PlanFile = serde_json::from_slice(bytes).map_err(PlanFileError::Invalid)?;
        plan.format = PLAN_FORMAT.to_owned();
        Ok(plan)
    }
}

/// Splits the candidates of a plan file into those that `fresh` (the same
/// root planned again now, under the policy the file records) confirms and
/// those it does not: a directory candidate only when it is, or lies inside,
/// a directory candidate of `fresh`; a file candidate when it is a file
/// candidate of `fresh` or lies inside one of its directory candidates.
/// Only confirmed candidates may go: a stale or tampered plan cannot delete
/// what planning now would keep.
///
/// Both lists are read in path order, file candidates merged side by side
/// (only `fresh`'s directory candidates are held in memory), so confirming
/// a plan of millions of files holds none of them.
pub fn confirm(
    old: &Candidates,
    fresh: &Candidates,
) -> Result<(Candidates, Candidates), crate::spill::Error> {
    let mut dirs: HashSet<String> = HashSet::new();
    for c in fresh.iter()? {
        let c = c?;
        if c.is_dir {
            dirs.insert(dir_key(&c.path));
        }
    }
    let mut fresh_files = fresh
        .iter()?
        .filter(|c| !c.as_ref().is_ok_and(|c| c.is_dir));
    let mut next_fresh = fresh_files.next().transpose()?;
    let (mut ok, mut not) = (Candidates::default(), Candidates::default());
    for c in old.iter()? {
        let c = c?;
        let confirmed = inside(&dirs, &c.path)
            || (!c.is_dir && {
                // Fresh files before this one cannot match it (nor any later
                // one: both lists are in path order).
                while next_fresh.as_ref().is_some_and(|f| f.path < c.path) {
                    next_fresh = fresh_files.next().transpose()?;
                }
                next_fresh.as_ref().is_some_and(|f| f.path == c.path)
            });
        if confirmed {
            ok.push(c)?;
        } else {
            not.push(c)?;
        }
    }
    ok.seal();
    not.seal();
    Ok((ok, not))
}

/// Whether `l` is, or lies inside, one of `dirs` (keys ending in `/`).
fn inside(dirs: &HashSet<String>, l: &Location) -> bool {
    if dirs.is_empty() {
        return false;
    }
    let mut key = dir_key(l);
    loop {
        if dirs.contains(&key) {
            return true;
        }
        // Up one level: drop the last segment (the key ends with '/').
        let Some(cut) = key[..key.len().saturating_sub(1)].rfind('/') else {
            return false;
        };
        key.truncate(cut + 1);
    }
}

fn dir_key(l: &Location) -> String {
    let mut s = l.canonical();
    if !s.ends_with('/') {
        s.push('/');
    }
    s
}

/// An empty plan of root `/r` (a unit-test fixture).
#[cfg(test)]
pub(crate) fn sample_plan(scope: &str, savepoints: Option<&str>) -> PlanFile {
    serde_json::from_value(serde_json::json!({
        "format": PLAN_FORMAT,
        "root": "/r", "scope": scope, "savepoints": savepoints,
        "policy": {"keep_last": 1, "min_age_seconds": 0, "keep": [],
                   "include_savepoints": [], "drop_jobs": [], "stopped": false,
                   "planned_at": "2026-01-01T00:00:00Z"},
        "totals": {"candidate_files": 0, "candidate_bytes": 0, "files_listed": 0,
                   "snapshots_read": 0, "referenced_files": 0},
        "jobs": {}, "candidates": [], "kept": [], "read": []
    }))
    .expect("a valid plan")
}

#[cfg(test)]
mod tests {
    //! The rules for trusting a plan file, on hand-built candidates.

    use super::*;

    fn cand(path: &str, is_dir: bool) -> Candidate {
        Candidate {
            path: Location::parse(path).unwrap(),
            is_dir,
            reason: if is_dir {
                Reason::SubsumedCheckpoint
            } else {
                Reason::OrphanShared
            },
            job: None,
            files: 1,
            bytes: 1,
            newest: None,
            metadata: None,
            resumed: false,
        }
    }

    fn paths(c: &Candidates) -> Vec<String> {
        c.iter()
            .unwrap()
            .map(|c| c.unwrap().path.to_string())
            .collect()
    }

    fn confirm(old: Vec<Candidate>, fresh: &[Candidate]) -> (Candidates, Candidates) {
        super::confirm(
            &Candidates::from_vec(old),
            &Candidates::from_vec(fresh.to_vec()),
        )
        .unwrap()
    }

    #[test]
    fn only_candidates_a_fresh_plan_also_has_are_confirmed() {
        let old = vec![
            cand("/r/j/chk-4", true),
            cand("/r/j/chk-5", true),
            cand("/r/j/shared/a", false),
            cand("/r/j/shared/b", false),
        ];
        // Now chk-5 is kept and shared/b referenced.
        let fresh = vec![cand("/r/j/chk-4", true), cand("/r/j/shared/a", false)];
        let (ok, not) = confirm(old, &fresh);
        assert_eq!(paths(&ok), ["/r/j/chk-4", "/r/j/shared/a"]);
        assert_eq!(paths(&not), ["/r/j/chk-5", "/r/j/shared/b"]);
    }

    #[test]
    fn what_lies_inside_a_fresh_directory_candidate_is_confirmed() {
        // A dropped job's directory now covers what was planned file by file.
        let old = vec![cand("/r/j/chk-4", true), cand("/r/j/shared/a", false)];
        let fresh = vec![cand("/r/j", true)];
        let (ok, not) = confirm(old, &fresh);
        assert_eq!(paths(&ok), ["/r/j/chk-4", "/r/j/shared/a"]);
        assert!(not.is_empty());
    }

    #[test]
    fn a_directory_is_not_confirmed_by_files_inside_it() {
        // The plan file says "the whole chk-4/", planning now only some files:
        // deleting the directory would take files planning now keeps.
        let old = vec![cand("/r/j/chk-4", true)];
        let fresh = vec![cand("/r/j/chk-4/a", false)];
        let (ok, not) = confirm(old, &fresh);
        assert!(ok.is_empty());
        assert_eq!(paths(&not), ["/r/j/chk-4"]);
    }

    #[test]
    fn nested_directory_candidates_do_not_hide_each_other() {
        // `/r/a/` and `/r/a/b-c/` sort so that a greatest-key-below lookup
        // for `/r/a/b/x` finds `/r/a/b-c/`, not its real parent `/r/a/`.
        let old = vec![cand("/r/a/b/x", false), cand("/r/a/b", true)];
        let fresh = vec![cand("/r/a", true), cand("/r/a/b-c", true)];
        let (ok, not) = confirm(old, &fresh);
        assert_eq!(paths(&ok), ["/r/a/b", "/r/a/b/x"]);
        assert!(not.is_empty());
    }

    #[test]
    fn a_sibling_with_a_common_prefix_is_not_inside() {
        let old = vec![cand("/r/j/chk-40", true), cand("/r/j/chk-4x/f", false)];
        let fresh = vec![cand("/r/j/chk-4", true)];
        let (ok, not) = confirm(old, &fresh);
        assert!(ok.is_empty());
        assert_eq!(paths(&not), ["/r/j/chk-40", "/r/j/chk-4x/f"]);
    }

    #[test]
    fn plan_files_are_checked_for_their_format() {
        let e = PlanFile::from_slice(b"nope").unwrap_err();
        assert!(matches!(e, PlanFileError::NotJson(_)), "{e}");
        let e = PlanFile::from_slice(b"{\"candidates\": []}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "no \"format\" field; not a plan written by `safe-to-delete --plan-out`"
        );
        let e = PlanFile::from_slice(b"{\"format\": \"flink-chk-cleanup-plan/9\"}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "plan format \"flink-chk-cleanup-plan/9\"; this build reads \"flink-chk-cleanup-plan/2\" (and \"flink-chk-cleanup-plan/1\")"
        );
        let e = PlanFile::from_slice(b"{\"format\": \"flink-chk-cleanup-plan/1\"}").unwrap_err();
        assert!(matches!(e, PlanFileError::Invalid(_)), "{e}");
    }

    fn sample() -> PlanFile {
        sample_plan("/r", None)
    }

    #[test]
    fn a_plan_file_is_a_header_line_then_one_candidate_per_line() {
        let mut plan = sample();
        plan.candidates = Candidates::with_limit(2);
        for p in ["/r/j/shared/b", "/r/j/shared/a", "/r/j/shared/c"] {
            plan.candidates.push(cand(p, false)).unwrap();
        }
        plan.candidates.push(cand("/r/j/chk-4", true)).unwrap();
        plan.candidates.seal();
        let mut out = Vec::new();
        plan.write_lines(&mut out).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        let header: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(header["format"], PLAN_FORMAT);
        assert_eq!(header["totals"]["candidates"], 4);
        assert!(header.get("candidates").is_none());
        assert_eq!(header["dirs"].as_array().unwrap().len(), 2, "{header}");
        let written: Vec<String> = lines[1..]
            .iter()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["path"].to_string())
            .collect();
        assert_eq!(
            written,
            [
                "\"/r/j/chk-4\"",
                "\"/r/j/shared/a\"",
                "\"/r/j/shared/b\"",
                "\"/r/j/shared/c\""
            ]
        );
        let back = PlanFile::read(&out[..]).unwrap();
        assert_eq!(paths(&back.candidates), paths(&plan.candidates));

        // A damaged candidate line is named by its number.
        let bad = format!("{}\n{}\n{{\"path\": 3}}\n", lines[0], lines[1]);
        let e = PlanFile::read(bad.as_bytes()).unwrap_err();
        assert!(matches!(e, PlanFileError::Line { line: 3, .. }), "{e}");
        // The one-document form (`--json`, and format 1) is read too.
        let mut doc = serde_json::to_value(sample()).unwrap();
        doc["format"] = serde_json::json!(PLAN_FORMAT_1);
        doc["candidates"] = serde_json::json!([cand("/r/j/shared/z", false)]);
        let back = PlanFile::read(doc.to_string().as_bytes()).unwrap();
        assert_eq!(back.candidates.len(), 1);
        assert_eq!(back.format, PLAN_FORMAT);
    }

    #[test]
    fn candidates_outside_the_scope_are_out_of_bounds() {
        let plan = sample_plan("/r/j", Some("/sp"));
        assert!(in_bounds(&plan, &cand("/r/j/chk-4", true)));
        assert!(!in_bounds(&plan, &cand("/r/k/chk-4", true)));
        assert!(!in_bounds(&plan, &cand("/r/j", true)), "the scope itself");
        assert!(!in_bounds(&plan, &cand("/r/j/../k/x", false)));
        assert!(
            !in_bounds(&plan, &cand("/sp/savepoint-1", true)),
            "not included"
        );
        let mut sp = cand("/sp/savepoint-1", true);
        sp.reason = Reason::IncludedSavepoint;
        assert!(in_bounds(&plan, &sp));
    }
}
