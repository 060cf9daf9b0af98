//! Reference exports: what every kept snapshot references, as a file an
//! engine can anti-join a storage inventory with (`flink-chk refs export`).
//!
//! The keep set is decided exactly as a cleanup plan decides it
//! ([`cleanup::keep_set`]); each kept snapshot's `_metadata` is then read
//! and its references written as they arrive, so memory holds one
//! snapshot's references per read in flight plus a 16-byte fingerprint per
//! distinct file written (xxh3-128 of the canonical path), never the paths
//! of all of them.
//!
//! Rows (`kind`, `path`, `snapshot`), all canonical locations
//! ([`crate::storage::Location::canonical`], the form the planner compares):
//! - `kept_dir`: a kept snapshot directory, with a trailing `/` (everything
//!   under it stays, its `_metadata` too); `snapshot` is the directory;
//! - `ref`: a file some kept snapshot references, once however many do;
//!   `snapshot` is the first kept snapshot read that references it (with
//!   a trailing `/`).
//!
//! [`sql`] turns an export and an inventory report into the anti-join for
//! an engine.

mod describe;
mod rows;
pub mod sql;

use std::collections::HashSet;
use std::io::Write;

use futures_util::StreamExt as _;

use crate::analysis::cleanup::{self, KeepSet};
use crate::analysis::snapshot::Rebase;
use crate::storage::{self, Storage};

pub use rows::{CSV_HEADER, Format, PARQUET_SCHEMA, ROW_GROUP, RowWriter};

/// The kind of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A referenced file.
    Ref,
    /// A kept snapshot directory.
    KeptDir,
}

impl Kind {
    /// The value of the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ref => "ref",
            Kind::KeptDir => "kept_dir",
        }
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Deciding the keep set or reading a kept snapshot failed (nothing
    /// may be trusted: the export is incomplete).
    #[error(transparent)]
    Cleanup(#[from] cleanup::Error),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] storage::Error),
    /// Writing the export failed.
    #[error("writing the export: {0}")]
    Write(String),
    /// The inventory report cannot be described for SQL.
    #[error("{0}")]
    Report(String),
}

/// What an export wrote.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Totals {
    /// Kept snapshots whose references were read.
    pub snapshots_read: usize,
    /// Kept snapshot directories written.
    pub kept_dirs: usize,
    /// Distinct referenced files written.
    pub references: u64,
    /// References read (with repeats across snapshots).
    pub references_read: u64,
}

fn fingerprint(path: &str) -> u128 {
    twox_hash::XxHash3_128::oneshot(path.as_bytes())
}

fn dir_key(path: &str) -> String {
    if path.ends_with('/') {
        path.to_owned()
    } else {
        format!("{path}/")
    }
}

/// Writes `keep`'s kept directories, then the references of every snapshot
/// it read (read `concurrency` at a time, written in the order of
/// `keep.read`), each distinct file once. Any snapshot that cannot be read
/// fails the export.
pub async fn export<W: Write + Send>(
    storage: &dyn Storage,
    keep: &KeepSet,
    rebase: &Rebase,
    concurrency: usize,
    out: &mut RowWriter<W>,
    mut progress: impl FnMut(u64),
) -> Result<Totals, Error> {
    let mut t = Totals::default();
    let mut kept = HashSet::new();
    for (dir, _) in &keep.kept_dirs {
        let d = dir_key(dir);
        out.write(Kind::KeptDir, &d, &d)?;
        t.kept_dirs += 1;
        kept.insert(d);
    }
    let mut seen: HashSet<u128> = HashSet::new();
    let mut reads = futures_util::stream::iter(keep.read.iter())
        .map(|r| async move {
            cleanup::snapshot_references(storage, &r.path, rebase)
                .await
                .map(|refs| (r, refs))
        })
        .buffered(concurrency.max(1));
    while let Some(r) = reads.next().await {
        let (snapshot, refs) = r?;
        let snapshot = dir_key(&snapshot.path.canonical());
        // A snapshot read but not kept as a directory (a `_metadata` outside
        // Flink's layout): its `_metadata` stays as a file.
        let own = (!kept.contains(&snapshot)).then(|| format!("{snapshot}_metadata"));
        for path in refs.into_iter().chain(own) {
            t.references_read += 1;
            if seen.insert(fingerprint(&path)) {
                out.write(Kind::Ref, &path, &snapshot)?;
                t.references += 1;
            }
        }
        t.snapshots_read += 1;
        progress(t.snapshots_read as u64);
    }
    Ok(t)
}

/// Per job directory under `root`: the newest `_metadata` time among the
/// snapshots `keep` read in it (the job's newest completed checkpoint is
/// always among them unless the job is dropped).
pub fn newest_per_job(
    keep: &KeepSet,
    root: &crate::storage::Location,
) -> Vec<(String, jiff::Timestamp)> {
    let mut newest: std::collections::BTreeMap<String, jiff::Timestamp> = Default::default();
    for r in &keep.read {
        let Some(rel) = r.path.relative_to(root) else {
            continue;
        };
        let mut parts = rel.split('/');
        let (Some(job), Some(chk), None) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if !crate::names::is_job_id(job) || crate::names::checkpoint_id(chk).is_none() {
            continue;
        }
        if let Some(t) = r.metadata_modified {
            let e = newest.entry(job.to_owned()).or_insert(t);
            if t > *e {
                *e = t;
            }
        }
    }
    newest.into_iter().collect()
}
