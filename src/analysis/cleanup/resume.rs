//! Resuming an apply: which files an earlier run of the same plan file
//! already deleted, read from the deletion log, so a run that was killed
//! (or stopped by failures) and is started again neither loses track of
//! what went nor asks storage about those files again.
//!
//! Every deleted file is logged in one write as it goes, after a start
//! record naming the plan (its planning time, root and scope). The files
//! logged under start records of this plan are skipped when the plan is
//! applied again; a file deleted but not yet logged when the process died
//! is simply found gone by the re-check.

use std::collections::{HashMap, HashSet};

use super::apply::LogRecord;
use futures_util::StreamExt;

use super::{Candidate, Error, PlanFile};
use crate::storage::{Location, Storage};

/// What earlier runs of one plan deleted, fed from the deletion log.
#[derive(Debug)]
pub struct Resume {
    planned_at: String,
    root: Location,
    scope: Location,
    /// xxh3-128 of each deleted file's canonical path (16 bytes a file).
    deleted: HashSet<u128>,
    /// Files and bytes deleted under each directory (by the fingerprint of
    /// its canonical path): a directory candidate half deleted by a killed
    /// run holds that much less now.
    under: HashMap<u128, (u64, u64)>,
    /// Inside a run of this plan.
    in_run: bool,
    /// Runs of this plan found.
    pub runs: usize,
    /// Whether the last of them ended (an end record): it was not killed.
    pub finished: bool,
}

impl Resume {
    /// Nothing deleted yet for `plan`.
    pub fn new(plan: &PlanFile) -> Self {
        Resume {
            planned_at: plan.policy.planned_at.to_string(),
            root: plan.root.clone(),
            scope: plan.scope.clone(),
            deleted: HashSet::new(),
            under: HashMap::new(),
            in_run: false,
            runs: 0,
            finished: false,
        }
    }

    /// Takes the next log record, in the log's order.
    pub fn record(&mut self, r: LogRecord) {
        match r {
            LogRecord::Start {
                planned_at,
                root,
                scope,
                ..
            } => {
                self.in_run =
                    planned_at == self.planned_at && root == self.root && scope == self.scope;
                if self.in_run {
                    self.runs += 1;
                    self.finished = false;
                }
            }
            LogRecord::Deleted { deleted, bytes, .. } if self.in_run => {
                if self.deleted.insert(fingerprint(&deleted)) {
                    for dir in deleted.ancestors() {
                        let e = self.under.entry(fingerprint(&dir)).or_default();
                        e.0 += 1;
                        e.1 = e.1.saturating_add(bytes);
                    }
                }
            }
            LogRecord::Deleted { .. } => {}
            // A manifest deletes nothing, and no deletions follow it.
            LogRecord::Manifest { .. } => self.in_run = false,
            LogRecord::End { .. } => {
                if self.in_run {
                    self.finished = true;
                }
                self.in_run = false;
            }
        }
    }

    /// Files logged as deleted by runs of this plan.
    pub fn len(&self) -> usize {
        self.deleted.len()
    }

    /// None.
    pub fn is_empty(&self) -> bool {
        self.deleted.is_empty()
    }

    /// Whether an earlier run of this plan deleted `l`.
    pub fn deleted(&self, l: &Location) -> bool {
        !self.deleted.is_empty() && self.deleted.contains(&fingerprint(l))
    }

    /// `c` as it should be now that earlier runs deleted part of it: a file
    /// they deleted, or a directory they emptied, is `None`; a directory
    /// they deleted some files of holds that many fewer files and bytes
    /// (its `_metadata`, deleted first, may be among them).
    pub fn remaining(&self, mut c: Candidate) -> Option<Candidate> {
        if !c.is_dir {
            return (!self.deleted(&c.path)).then_some(c);
        }
        if let Some(&(files, bytes)) = self.under.get(&fingerprint(&c.path)) {
            c.resumed = true;
            c.files = c.files.saturating_sub(files);
            c.bytes = c.bytes.saturating_sub(bytes);
            if c.files == 0 {
                return None;
            }
            if c.metadata.as_ref().is_some_and(|m| self.deleted(m)) {
                c.metadata = None;
            }
        }
        Some(c)
    }
}

/// Whether `c`, a directory an earlier run deleted part of, holds no file
/// any more (that run deleted the rest before it could log it).
pub async fn emptied(storage: &dyn Storage, c: &Candidate) -> Result<bool, Error> {
    if !(c.is_dir && c.resumed) {
        return Ok(false);
    }
    let mut files = super::listing(storage, &c.path, true);
    while let Some(e) = files.next().await {
        if !e?.is_dir {
            return Ok(false);
        }
    }
    Ok(true)
}

fn fingerprint(l: &Location) -> u128 {
    twox_hash::XxHash3_128::oneshot(l.canonical().as_bytes())
}

#[cfg(test)]
mod tests {
    //! Hand-built log records (unit cases).

    use super::super::Reason;
    use super::super::apply::LogEvent;
    use super::*;

    fn start(planned_at: &str) -> LogRecord {
        LogRecord::Start {
            bytes: 0,
            event: LogEvent::Start,
            files: 0,
            planned_at: planned_at.to_owned(),
            root: Location::parse("/r").unwrap(),
            scope: Location::parse("/r").unwrap(),
            time: String::new(),
        }
    }

    fn deleted(p: &str) -> LogRecord {
        LogRecord::Deleted {
            bytes: 1,
            deleted: Location::parse(p).unwrap(),
            job: None,
            reason: Reason::OrphanShared,
            time: String::new(),
        }
    }

    fn end() -> LogRecord {
        LogRecord::End {
            deleted_bytes: 0,
            deleted_files: 0,
            event: LogEvent::End,
            failed: 0,
            time: String::new(),
        }
    }

    #[test]
    fn only_the_runs_of_this_plan_count() {
        let plan = super::super::plan_file::sample_plan("/r", None);
        let mut r = Resume::new(&plan);
        for rec in [
            start("2025-12-31T00:00:00Z"), // another plan
            deleted("/r/j/shared/other"),
            end(),
            start("2026-01-01T00:00:00Z"), // this one, finished
            deleted("/r/j/shared/a"),
            end(),
            start("2026-01-01T00:00:00Z"), // this one again, killed
            deleted("/r/j/shared/b"),
        ] {
            r.record(rec);
        }
        assert_eq!((r.runs, r.finished, r.len()), (2, false, 2));
        assert!(r.deleted(&Location::parse("/r/j/shared/a").unwrap()));
        assert!(r.deleted(&Location::parse("/r/j/shared/b").unwrap()));
        assert!(!r.deleted(&Location::parse("/r/j/shared/other").unwrap()));
        assert!(!r.deleted(&Location::parse("/r/j/shared/c").unwrap()));
    }

    #[test]
    fn a_manifest_record_reads_back_as_one_and_ends_a_run() {
        let m = LogRecord::Manifest {
            bytes: 2,
            event: LogEvent::Manifest,
            files: 1,
            format: "gcs-batch".into(),
            manifest: "/tmp/m.csv".into(),
            planned_at: "2026-01-01T00:00:00Z".into(),
            root: Location::parse("/r").unwrap(),
            scope: Location::parse("/r").unwrap(),
            tag: None,
            time: String::new(),
        };
        for rec in [m, start("2026-01-01T00:00:00Z")] {
            let line = serde_json::to_string(&rec).unwrap();
            assert_eq!(serde_json::from_str::<LogRecord>(&line).unwrap(), rec);
        }
        let plan = super::super::plan_file::sample_plan("/r", None);
        let mut r = Resume::new(&plan);
        for rec in [
            start("2026-01-01T00:00:00Z"),
            deleted("/r/j/shared/a"),
            LogRecord::Manifest {
                bytes: 0,
                event: LogEvent::Manifest,
                files: 0,
                format: "s3-batch-tags".into(),
                manifest: "m.csv".into(),
                planned_at: "2026-01-01T00:00:00Z".into(),
                root: Location::parse("/r").unwrap(),
                scope: Location::parse("/r").unwrap(),
                tag: Some("flink-chk-delete=x".into()),
                time: String::new(),
            },
            deleted("/r/j/shared/b"),
        ] {
            r.record(rec);
        }
        assert_eq!((r.runs, r.len()), (1, 1));
    }
}
