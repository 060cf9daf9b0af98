//! Replication: a standby copy (the replica) of every job's newest
//! snapshots at another root, kept by [`super::run::copy`] in the mirror
//! layout.
//!
//! * Each replica snapshot directory holds an [`Identity`] file, written
//!   before any of its data: which source snapshot it is a version of (job,
//!   checkpoint id, the source `_metadata`'s size, time and CRC32C). A
//!   replica snapshot is *published* once its `_metadata` exists — the
//!   version switch, written last by the copy engine.
//! * A `chk-N/` in the replica that has a `_metadata` but no identity, or
//!   that is newer than every snapshot replicated for its job and has none,
//!   was written by someone else: a job runs against the replica (a
//!   failover happened). Replication stops there ([`Replica::foreign`]).
//! * [`Pacer`] is the run's live control: copy slots follow the byte budget
//!   (one slot per [`SLOT_RATE`] of it), an interactive `copy` into the same
//!   destination holds new files back, a signal stops the run after the
//!   files in flight.
//!
//! Discovery lists only job and snapshot directories (never `shared/`), so
//! a round costs requests per job, not per file.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::rate::{Limiter, Rate};
use super::run::Control;
use crate::names::{checkpoint_id, is_job_id, is_savepoint_dir};
use crate::storage::{self, Entry, Location, Storage};

/// The identity file in each replica snapshot directory.
pub const IDENTITY: &str = crate::names::REPLICA_IDENTITY;

/// Bytes per second one copy slot is assumed to carry until files have
/// been measured: with a budget of R bytes/s, ⌈R / per-slot rate⌉ files are
/// in flight (ODPS's "bandwidth / per-slot rate"), so a tight budget is not
/// spread over streams it cannot feed. The per-slot rate is then what
/// streams carried outside the budget's waits (per-file overheads
/// included: many small files need more slots to fill the budget).
pub const SLOT_RATE: u64 = 8 << 20;

/// What a snapshot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A `chk-N/` of a job.
    Checkpoint,
    /// A savepoint directory.
    Savepoint,
}

/// Which source snapshot a replica snapshot is a version of (the JSON of
/// [`IDENTITY`]; its field names are a stable interface).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Format version (1).
    pub format: u32,
    /// Checkpoint or savepoint.
    pub kind: Kind,
    /// The job directory name (the job id) of a checkpoint.
    pub job: Option<String>,
    /// The checkpoint id the source `_metadata` records.
    pub checkpoint_id: i64,
    /// The source snapshot directory.
    pub source: String,
    /// Size of the source `_metadata`.
    pub source_metadata_bytes: u64,
    /// CRC32C of the source `_metadata` (8 hex digits).
    pub source_metadata_crc32c: String,
    /// Modification time of the source `_metadata`: when Flink completed it.
    pub source_completed: Option<jiff::Timestamp>,
    /// Files the snapshot needs (besides `_metadata`).
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// When this version was planned.
    pub planned_at: jiff::Timestamp,
}

/// A replica that cannot be read or trusted.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Listing or reading failed.
    #[error(transparent)]
    Storage(#[from] storage::Error),
    /// An identity file that is not one.
    #[error("{location}: not a flink-chk replica identity ({reason})")]
    BadIdentity {
        /// The file.
        location: String,
        /// Why.
        reason: String,
    },
}

/// A completed snapshot at the source.
#[derive(Debug, Clone)]
pub struct SourceSnapshot {
    /// Checkpoint or savepoint.
    pub kind: Kind,
    /// The job directory name (checkpoints).
    pub job: Option<String>,
    /// The snapshot directory.
    pub dir: Location,
    /// Its `_metadata`.
    pub metadata: Entry,
}

/// One snapshot directory in the replica.
#[derive(Debug, Clone)]
pub struct ReplicaSnapshot {
    /// The directory.
    pub dir: Location,
    /// `chk-N`'s N (savepoints: `None`).
    pub id: Option<u64>,
    /// Its `_metadata`, when published (looked up only when `checked`).
    pub metadata: Option<Entry>,
    /// Its identity, when replicated by flink-chk.
    pub identity: Option<Identity>,
    /// Whether `metadata` was looked up (a directory this machine's journal
    /// says flink-chk wrote is only looked into when it matters).
    pub checked: bool,
}

impl ReplicaSnapshot {
    /// Published: a `_metadata` is there.
    pub fn published(&self) -> bool {
        self.metadata.is_some()
    }
}

/// What the replica holds of one job (or of the savepoints root).
#[derive(Debug, Clone, Default)]
pub struct Replica {
    /// Snapshot directories, ascending by id (savepoints by name).
    pub snapshots: Vec<ReplicaSnapshot>,
}

impl Replica {
    /// The newest published snapshot replicated by flink-chk.
    pub fn newest_published(&self) -> Option<&ReplicaSnapshot> {
        self.snapshots
            .iter()
            .filter(|s| s.checked && s.published() && s.identity.is_some())
            .max_by_key(|s| (s.identity.as_ref().and_then(|i| i.source_completed), s.id))
    }

    /// Directories written by flink-chk and not published (in flight, or
    /// left by a run that stopped).
    pub fn unpublished(&self) -> impl Iterator<Item = &ReplicaSnapshot> {
        self.snapshots
            .iter()
            .filter(|s| s.checked && !s.published() && s.identity.is_some())
    }

    /// Snapshot directories someone else wrote: a `_metadata` without an
    /// identity, or a `chk-N/` newer than every replicated one without an
    /// identity (a checkpoint Flink is taking). Older directories without
    /// either are leftovers of a prune that stopped, not foreign.
    pub fn foreign(&self) -> Vec<&ReplicaSnapshot> {
        let newest_ours = self
            .snapshots
            .iter()
            .filter(|s| s.identity.is_some())
            .filter_map(|s| s.id)
            .max();
        self.snapshots
            .iter()
            .filter(|s| s.identity.is_none())
            .filter(|s| s.published() || s.id.is_some_and(|id| newest_ours.is_none_or(|n| id > n)))
            .collect()
    }

    /// Whether the replica has this source snapshot published (the same
    /// source `_metadata`: size and time).
    pub fn has(&self, s: &SourceSnapshot) -> bool {
        self.snapshots.iter().any(|r| {
            r.published()
                && r.identity.as_ref().is_some_and(|i| {
                    i.source == s.dir.to_string()
                        && i.source_metadata_bytes == s.metadata.size
                        && super::stat::same_time(i.source_completed, s.metadata.modified)
                })
        })
    }
}

/// Child directories of `dir` (names), ending quietly at NotFound.
async fn child_dirs(storage: &dyn Storage, dir: &Location) -> Result<Vec<Location>, Error> {
    let mut out = Vec::new();
    let mut s = storage.list(dir, false);
    while let Some(e) = s.next().await {
        match e {
            Ok(e) if e.is_dir && !e.special => out.push(e.location),
            Ok(_) => {}
            Err(e) if e.is_not_found() => break,
            Err(e) => return Err(e.into()),
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The job directories under a checkpoints root.
pub async fn jobs(storage: &dyn Storage, root: &Location) -> Result<Vec<Location>, Error> {
    Ok(child_dirs(storage, root)
        .await?
        .into_iter()
        .filter(|d| is_job_id(d.file_name()))
        .collect())
}

/// The newest completed checkpoint of a job directory (highest `chk-N`
/// with a regular `_metadata`), `None` if it has none.
pub async fn newest_checkpoint(
    storage: &dyn Storage,
    job: &Location,
) -> Result<Option<SourceSnapshot>, Error> {
    let mut ids: Vec<(u64, Location)> = child_dirs(storage, job)
        .await?
        .into_iter()
        .filter_map(|d| Some((checkpoint_id(d.file_name())?, d)))
        .collect();
    ids.sort_by_key(|(id, _)| *id);
    for (_, dir) in ids.into_iter().rev() {
        if let Some(m) = storage.stat(&dir.join("_metadata")).await?
            && m.is_file()
        {
            return Ok(Some(SourceSnapshot {
                kind: Kind::Checkpoint,
                job: Some(job.file_name().to_owned()),
                dir,
                metadata: m,
            }));
        }
    }
    Ok(None)
}

/// The completed savepoints under a savepoints root.
pub async fn savepoints(
    storage: &dyn Storage,
    root: &Location,
) -> Result<Vec<SourceSnapshot>, Error> {
    let dirs: Vec<Location> = child_dirs(storage, root)
        .await?
        .into_iter()
        .filter(|d| is_savepoint_dir(d.file_name()))
        .collect();
    let stats: Vec<_> = futures_util::stream::iter(dirs.into_iter().map(|d| async move {
        let m = storage.stat(&d.join("_metadata")).await;
        (d, m)
    }))
    .buffered(16)
    .collect()
    .await;
    let mut out = Vec::new();
    for (dir, m) in stats {
        if let Some(m) = m?
            && m.is_file()
        {
            out.push(SourceSnapshot {
                kind: Kind::Savepoint,
                job: None,
                dir,
                metadata: m,
            });
        }
    }
    Ok(out)
}

/// What is known of replica directories without reading them: identities
/// this machine's journal recorded writing, by directory.
pub type Known = std::collections::HashMap<String, Identity>;

/// Reads a replica snapshot directory: its `_metadata` (stat) and identity.
/// A directory in `known` has its identity from there, and its `_metadata`
/// is looked up only if `look` says so.
async fn replica_snapshot(
    storage: &dyn Storage,
    dir: Location,
    known: &Known,
    look: impl Fn(Option<u64>) -> bool,
) -> Result<ReplicaSnapshot, Error> {
    let id = checkpoint_id(dir.file_name());
    if let Some(identity) = known.get(&dir.to_string()) {
        let checked = look(id);
        let metadata = if checked {
            storage
                .stat(&dir.join("_metadata"))
                .await?
                .filter(Entry::is_file)
        } else {
            None
        };
        return Ok(ReplicaSnapshot {
            dir,
            id,
            metadata,
            identity: Some(identity.clone()),
            checked,
        });
    }
    let metadata = storage
        .stat(&dir.join("_metadata"))
        .await?
        .filter(Entry::is_file);
    let at = dir.join(IDENTITY);
    let identity =
        match storage.read(&at).await {
            Ok(bytes) => Some(serde_json::from_slice::<Identity>(&bytes).map_err(|e| {
                Error::BadIdentity {
                    location: at.to_string(),
                    reason: e.to_string(),
                }
            })?),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e.into()),
        };
    Ok(ReplicaSnapshot {
        dir,
        id,
        metadata,
        identity,
        checked: true,
    })
}

/// What the replica holds under a job directory. Directories in `known`
/// are looked into only for checkpoint `want` (`None`: all).
pub async fn replica_job(
    storage: &dyn Storage,
    job: &Location,
    known: &Known,
    want: Option<u64>,
) -> Result<Replica, Error> {
    let dirs: Vec<Location> = child_dirs(storage, job)
        .await?
        .into_iter()
        .filter(|d| checkpoint_id(d.file_name()).is_some())
        .collect();
    replica_dirs(storage, dirs, known, &|id| want.is_none() || id == want).await
}

/// What the replica holds under a savepoints root (every directory looked
/// into, unless in `known` and published).
pub async fn replica_savepoints(
    storage: &dyn Storage,
    root: &Location,
    known: &Known,
) -> Result<Replica, Error> {
    let dirs: Vec<Location> = child_dirs(storage, root)
        .await?
        .into_iter()
        .filter(|d| is_savepoint_dir(d.file_name()))
        .collect();
    replica_dirs(storage, dirs, known, &|_| true).await
}

async fn replica_dirs(
    storage: &dyn Storage,
    dirs: Vec<Location>,
    known: &Known,
    look: &(dyn Fn(Option<u64>) -> bool + Sync),
) -> Result<Replica, Error> {
    let read: Vec<Result<ReplicaSnapshot, Error>> = futures_util::stream::iter(
        dirs.into_iter()
            .map(|d| replica_snapshot(storage, d, known, look)),
    )
    .buffered(16)
    .collect()
    .await;
    let mut snapshots = read.into_iter().collect::<Result<Vec<_>, _>>()?;
    snapshots.sort_by(|a, b| (a.id, a.dir.file_name()).cmp(&(b.id, b.dir.file_name())));
    Ok(Replica { snapshots })
}

/// CRC32C of bytes, as 8 hex digits.
pub fn crc32c_hex(bytes: &[u8]) -> String {
    let mut d = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi);
    d.update(bytes);
    format!("{:08x}", d.finalize())
}

/// The live control of a replication run.
#[derive(Debug)]
pub struct Pacer {
    limiter: Option<Arc<Limiter>>,
    stop: AtomicBool,
    held: AtomicBool,
    /// Measured bytes/s one stream carries (moving average), 0: none yet.
    per_slot: Mutex<f64>,
    /// Why new files are held back (for the log).
    pub held_by: Mutex<Option<String>>,
}

impl Pacer {
    /// A pacer over the shared budget, if any.
    pub fn new(limiter: Option<Arc<Limiter>>) -> Self {
        Self {
            limiter,
            stop: AtomicBool::new(false),
            held: AtomicBool::new(false),
            per_slot: Mutex::new(0.0),
            held_by: Mutex::new(None),
        }
    }

    /// Start no more files.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was requested.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Holds new files back (`Some(why)`) or lets them go (`None`).
    pub fn hold(&self, why: Option<String>) {
        self.held.store(why.is_some(), Ordering::SeqCst);
        *self.held_by.lock().unwrap_or_else(|e| e.into_inner()) = why;
    }

    /// Copy slots for a budget: ⌈rate / per-slot rate⌉ (SLOT_RATE until
    /// measured), at least 1, at most `configured`.
    pub fn slots_for(rate: Rate, per_slot: f64, configured: usize) -> usize {
        match rate {
            Rate::Off => configured,
            Rate::BytesPerSec(r) => {
                let per = if per_slot > 0.0 {
                    per_slot
                } else {
                    SLOT_RATE as f64
                };
                let n = (r as f64 / per).ceil();
                if n.is_finite() && n < configured as f64 {
                    (n as usize).max(1)
                } else {
                    configured
                }
            }
        }
    }
}

impl Control for Pacer {
    fn slots(&self, configured: usize) -> usize {
        if self.held.load(Ordering::SeqCst) {
            return 0;
        }
        let per_slot = *self.per_slot.lock().unwrap_or_else(|e| e.into_inner());
        match &self.limiter {
            Some(l) => Self::slots_for(l.rate(), per_slot, configured),
            None => configured,
        }
    }

    fn stop(&self) -> bool {
        self.stopping()
    }

    fn streamed(&self, bytes: u64, busy: std::time::Duration) {
        // A file that took no time of its own says nothing of a stream.
        if busy.is_zero() || bytes == 0 {
            return;
        }
        let sample = bytes as f64 / busy.as_secs_f64();
        let mut p = self.per_slot.lock().unwrap_or_else(|e| e.into_inner());
        *p = if *p > 0.0 {
            0.8 * *p + 0.2 * sample
        } else {
            sample
        };
    }
}

/// The state-directory file an interactive `copy` into `dest` holds while
/// it runs (`<state>/copy/<hash>.interactive-<pid>`), so a replication
/// into the same destination on this machine lets it go first.
pub fn interactive_marker(dest: &str) -> Option<PathBuf> {
    let journal = super::record::default_path(dest)?;
    let stem = journal.file_stem()?.to_str()?.to_owned();
    Some(journal.with_file_name(format!("{stem}.interactive-{}", std::process::id())))
}

/// An interactive copy's marker, removed when dropped.
#[derive(Debug)]
pub struct InteractiveMarker(PathBuf);

impl InteractiveMarker {
    /// Creates the marker for a copy into `dest` (`None` without a state
    /// directory: then nothing waits for this copy).
    pub fn create(dest: &str) -> Option<Self> {
        let path = interactive_marker(dest)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).ok()?;
        }
        std::fs::write(&path, b"").ok()?;
        Some(Self(path))
    }
}

impl Drop for InteractiveMarker {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Whether an interactive `copy` into `dest` is running on this machine
/// (a marker whose process is alive; where `/proc` is missing, a marker
/// younger than an hour).
pub fn interactive_running(dest: &str) -> bool {
    let Some(journal) = super::record::default_path(dest) else {
        return false;
    };
    let (Some(dir), Some(stem)) = (
        journal.parent(),
        journal.file_stem().and_then(|s| s.to_str()),
    ) else {
        return false;
    };
    let prefix = format!("{stem}.interactive-");
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    rd.flatten().any(|e| {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            return false;
        };
        match pid_alive(pid) {
            Some(alive) => alive,
            None => e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() < 3600),
        }
    })
}

/// Whether process `pid` (decimal text) runs on this machine: `None` where
/// that cannot be told (no `/proc`).
pub fn pid_alive(pid: &str) -> Option<bool> {
    if !std::path::Path::new("/proc/self").exists() {
        return None;
    }
    Some(
        !pid.is_empty()
            && pid.bytes().all(|b| b.is_ascii_digit())
            && std::path::Path::new("/proc").join(pid).exists(),
    )
}

/// The replica's lock file for `dest`: one replication per destination on
/// this machine.
pub fn lock_path(dest: &str) -> Option<PathBuf> {
    let journal = super::record::default_path(dest)?;
    Some(journal.with_extension("replicate.lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(id: u64, published: bool, ours: bool) -> ReplicaSnapshot {
        ReplicaSnapshot {
            dir: Location::parse(&format!("/r/j/chk-{id}")).unwrap(),
            id: Some(id),
            metadata: published.then(|| Entry {
                location: Location::parse(&format!("/r/j/chk-{id}/_metadata")).unwrap(),
                size: 10,
                modified: None,
                is_dir: false,
                special: false,
                version: None,
            }),
            identity: ours.then(|| Identity {
                format: 1,
                kind: Kind::Checkpoint,
                job: Some("j".into()),
                checkpoint_id: id as i64,
                source: format!("/s/j/chk-{id}"),
                source_metadata_bytes: 10,
                source_metadata_crc32c: "00000000".into(),
                source_completed: None,
                files: 0,
                bytes: 0,
                planned_at: jiff::Timestamp::UNIX_EPOCH,
            }),
            checked: true,
        }
    }

    /// Labelled unit cases: which directories count as written by a job
    /// running against the replica.
    #[test]
    fn foreign_is_a_metadata_without_identity_or_a_newer_dir() {
        let r = Replica {
            snapshots: vec![
                snap(3, false, false), // leftover of a stopped prune: not foreign
                snap(5, true, true),
                snap(6, false, true), // ours, in flight
            ],
        };
        assert!(r.foreign().is_empty());
        let r = Replica {
            snapshots: vec![snap(5, true, true), snap(7, false, false)],
        };
        assert_eq!(r.foreign().len(), 1, "a newer chk-7 without identity");
        let r = Replica {
            snapshots: vec![snap(2, true, false), snap(5, true, true)],
        };
        assert_eq!(
            r.foreign().len(),
            1,
            "an older published one without identity"
        );
        let r = Replica {
            snapshots: vec![snap(1, false, false)],
        };
        assert_eq!(
            r.foreign().len(),
            1,
            "nothing of ours: any chk-N is foreign"
        );
        assert_eq!(r.newest_published().map(|s| s.id), None);
    }

    #[test]
    fn slots_follow_the_budget() {
        assert_eq!(Pacer::slots_for(Rate::Off, 0.0, 32), 32);
        assert_eq!(Pacer::slots_for(Rate::BytesPerSec(1 << 20), 0.0, 32), 1);
        assert_eq!(Pacer::slots_for(Rate::BytesPerSec(20 << 20), 0.0, 32), 3);
        assert_eq!(Pacer::slots_for(Rate::BytesPerSec(1 << 40), 0.0, 32), 32);
        // Small files: a stream carries 180 KiB/s with its overheads, so a
        // 256 KiB/s budget needs two.
        let kib = 1024.0;
        assert_eq!(
            Pacer::slots_for(Rate::BytesPerSec(256 << 10), 180.0 * kib, 32),
            2
        );
        let p = Pacer::new(Some(Arc::new(Limiter::new(
            super::super::rate::Schedule::parse("256K").unwrap(),
        ))));
        assert_eq!(p.slots(32), 1);
        p.streamed(180 * 1024, std::time::Duration::from_secs(1));
        assert_eq!(p.slots(32), 2);
        // Files that took no time of their own (memory) say nothing.
        p.streamed(1 << 20, std::time::Duration::ZERO);
        assert_eq!(p.slots(32), 2);
        p.hold(Some("a copy".into()));
        assert_eq!(p.slots(32), 0);
    }
}
