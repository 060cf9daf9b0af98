//! Deleting a revalidated plan: every directory's `_metadata` first (a
//! half-deleted checkpoint never looks restorable), then the files, checked
//! once more as they are listed, in batches; then empty directories.
//! Per-file failures are reported and the rest goes on: a re-run plans what
//! is left.
//!
//! Every file is deleted only if unchanged ([`Storage::delete_files_if`]):
//! with the version (ETag, GCS generation) of the listing its check was
//! made on, the re-check's for `_metadata` files and file candidates, the
//! listing just before the batch for the files of a directory. A file
//! rewritten since is left alone and reported as skipped ([`CHANGED`]).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;

use super::keep::{canonical_dir, read_refs};
use super::refset::RefSet;
use super::revalidate::Validated;
use super::{Candidate, Error, Reason};
use crate::analysis::layout;
use crate::analysis::snapshot::Rebase;
use crate::storage::{self, Location, Storage};

/// Files handed to [`Storage::delete_files`] at a time.
pub(super) const CHUNK: usize = 8192;

/// What [`apply`] checks before every batch: checkpoints completed since
/// the re-check (their references join `refs`), and where files may be
/// deleted (under the roots, never through a symbolic link).
#[derive(Debug, Clone)]
pub(super) struct Watch {
    pub(super) root: Location,
    pub(super) savepoints: Option<Location>,
    pub(super) rebase: Rebase,
    pub(super) concurrency: usize,
    /// `chk-N` directories (canonical) whose `_metadata` is accounted for:
    /// read, being deleted as planned, or abandoned (older than the newest
    /// completed checkpoint: Flink never completes those).
    pub(super) settled: HashSet<String>,
    /// Checkpoints are looked for at most this often (a batch flushed per
    /// candidate directory would otherwise re-list every job each time).
    pub(super) interval: std::time::Duration,
}

/// A `_metadata` that appears while deleting and does not parse yet (Flink
/// still writing it) is read again this many times, this far apart.
pub(super) const METADATA_RETRIES: u32 = 3;
pub(super) const METADATA_RETRY_WAIT: std::time::Duration = std::time::Duration::from_millis(300);

/// How often [`apply`] looks for checkpoints completed while deleting.
pub(super) const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// What happened to one file while applying.
#[derive(Debug)]
pub enum Event<'a> {
    /// Deleted (or already gone).
    Deleted {
        /// The file.
        path: &'a Location,
        /// Its size.
        bytes: u64,
        /// The candidate it belongs to.
        candidate: &'a Candidate,
    },
    /// Deleting failed.
    Failed {
        /// The file.
        path: &'a Location,
        /// Why.
        error: &'a storage::Error,
    },
    /// Left alone: it appeared or changed after the re-check, or is referenced.
    Skipped {
        /// The file.
        path: &'a Location,
        /// Why.
        why: &'a str,
    },
}

/// One line of the deletion log (`safe-to-delete`'s journal, see
/// [`crate::journal`]): a start record, one record per deleted file, an end
/// record; or one manifest record for a manifest emitted instead of
/// deleting. Field order is the file's (alphabetical).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum LogRecord {
    /// A manifest of files for the store's batch service was written
    /// (`--emit-manifest`); nothing was deleted. Before [`LogRecord::Start`]:
    /// it has every field of one.
    Manifest {
        /// Bytes in the files it lists.
        bytes: u64,
        /// Always [`LogEvent::Manifest`].
        event: LogEvent,
        /// Files it lists.
        files: u64,
        /// Its format (`s3-batch-tags`, `gcs-batch`).
        format: String,
        /// The manifest file.
        manifest: String,
        /// When the plan was made.
        planned_at: String,
        /// The checkpoints root.
        root: Location,
        /// Where candidates were.
        scope: Location,
        /// The tag the S3 batch job sets (`key=value`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tag: Option<String>,
        /// When (RFC 3339).
        time: String,
    },
    /// A run starts deleting.
    Start {
        /// Bytes it is about to delete.
        bytes: u64,
        /// Always [`LogEvent::Start`].
        event: LogEvent,
        /// Files it is about to delete.
        files: u64,
        /// When the plan was made.
        planned_at: String,
        /// The checkpoints root.
        root: Location,
        /// Where candidates were.
        scope: Location,
        /// When (RFC 3339).
        time: String,
    },
    /// One file deleted (or found already gone).
    Deleted {
        /// Its size as listed.
        bytes: u64,
        /// The file.
        deleted: Location,
        /// The job directory it belonged to.
        job: Option<String>,
        /// Why it was a candidate.
        reason: Reason,
        /// When (RFC 3339).
        time: String,
    },
    /// A run ends.
    End {
        /// Bytes deleted.
        deleted_bytes: u64,
        /// Files deleted.
        deleted_files: u64,
        /// Always [`LogEvent::End`].
        event: LogEvent,
        /// Files that could not be deleted.
        failed: usize,
        /// When (RFC 3339).
        time: String,
    },
}

/// The `event` of a start or end record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogEvent {
    /// [`LogRecord::Start`].
    Start,
    /// [`LogRecord::End`].
    End,
    /// [`LogRecord::Manifest`].
    Manifest,
}

impl LogRecord {
    /// The record of a deleted file, timed now.
    pub fn deleted(path: &Location, bytes: u64, c: &Candidate) -> Self {
        LogRecord::Deleted {
            bytes,
            deleted: path.clone(),
            job: c.job.clone(),
            reason: c.reason,
            time: jiff::Timestamp::now().to_string(),
        }
    }
}

/// Totals of [`apply`].
#[derive(Debug, Default, Clone, Serialize)]
pub struct Applied {
    /// Files deleted.
    pub deleted_files: u64,
    /// Bytes deleted.
    pub deleted_bytes: u64,
    /// Files that could not be deleted: (path, error).
    pub failed: Vec<(String, String)>,
    /// Files left alone: (path, why).
    pub skipped: Vec<(String, String)>,
    /// Empty directories removed (file systems only).
    pub dirs_removed: u64,
    /// Directory candidates whose `_metadata` could not be deleted (left whole).
    pub dirs_left: Vec<String>,
    /// Checkpoints that completed while deleting, read before a batch.
    pub snapshots_completed: usize,
    /// Stopped early (see [`apply_until`]).
    pub stopped: bool,
    /// How object stores throttled the deletes of this run (answers asking
    /// to slow down, the window of deletes in flight); all `None` and 0
    /// when nothing was deleted on an object store.
    pub throttled: storage::Throttling,
}

/// Why a file is left alone when its batch comes.
pub(super) const LINKED: &str =
    "reached through a symbolic link, or outside the roots (not deleted)";
pub(super) const COMPLETED: &str = "referenced by a checkpoint completed while deleting";
/// Why a file the store would not delete conditionally is left alone.
pub(super) const CHANGED: &str = "changed since it was checked (not deleted)";

/// One file of a batch: where, its size, its candidate, and the version
/// it must still have to be deleted (`None`: the store reports none).
type Item<'c> = (Location, u64, &'c Candidate, Option<String>);

/// The deleting step: the approved candidates, the references (growing as
/// checkpoints complete), and the totals.
pub(super) struct Deleter<'a, F> {
    pub(super) storage: &'a dyn Storage,
    pub(super) refs: RefSet,
    pub(super) watch: Watch,
    pub(super) out: Applied,
    pub(super) on: F,
    pub(super) stop: &'a AtomicBool,
    /// Real location of each root (`None`: gone).
    pub(super) real_roots: Vec<(Location, Option<Location>)>,
    /// When checkpoints were last looked for.
    pub(super) refreshed: Option<std::time::Instant>,
}

impl<'a, F: FnMut(Event<'_>)> Deleter<'a, F> {
    fn stopped(&mut self) -> bool {
        let s = self.stop.load(Ordering::SeqCst);
        self.out.stopped |= s;
        s
    }

    /// Reads every checkpoint completed since the re-check (any job under
    /// the root, new jobs included): their references are protected from
    /// here on. A checkpoint that cannot be read stops the run.
    async fn refresh(&mut self) -> Result<(), Error> {
        if self
            .refreshed
            .is_some_and(|t| t.elapsed() < self.watch.interval)
        {
            return Ok(());
        }
        self.refreshed = Some(std::time::Instant::now());
        let storage = self.storage;
        let mut jobs = Vec::new();
        let mut top = storage.list(&self.watch.root, false);
        while let Some(e) = top.next().await {
            let e = e?;
            if e.is_dir && layout::is_job_id(e.location.file_name()) {
                jobs.push(e.location);
            }
        }
        drop(top);
        let listings = futures_util::stream::iter(jobs.iter())
            .map(|job| async move {
                let mut dirs = Vec::new();
                let mut s = storage.list(job, false);
                while let Some(e) = s.next().await {
                    let e = e?;
                    if e.is_dir && layout::checkpoint_id(e.location.file_name()).is_some() {
                        dirs.push(e.location);
                    }
                }
                Ok::<_, storage::Error>(dirs)
            })
            .buffer_unordered(self.watch.concurrency.max(1));
        let dirs: Vec<Vec<Location>> = listings.try_collect().await?;
        let fresh: Vec<Location> = dirs
            .into_iter()
            .flatten()
            .filter(|d| !self.watch.settled.contains(&canonical_dir(d)))
            .collect();
        let rebase = &self.watch.rebase;
        let mut reads = futures_util::stream::iter(fresh.iter())
            .map(|dir| async move {
                match storage.stat(&dir.join("_metadata")).await? {
                    Some(m) if m.is_file() => {
                        // Flink may still be writing it: a few tries before
                        // giving up (which stops the run).
                        let mut tries = 0;
                        loop {
                            match read_refs(storage, dir, rebase).await {
                                Ok(r) => break Ok::<_, Error>(Some((dir, r))),
                                Err(_) if tries < METADATA_RETRIES => {
                                    tries += 1;
                                    tokio::time::sleep(METADATA_RETRY_WAIT).await;
                                }
                                Err(e) => break Err(e),
                            }
                        }
                    }
                    // Still in progress.
                    _ => Ok(None),
                }
            })
            .buffer_unordered(self.watch.concurrency.max(1));
        while let Some(r) = reads.next().await {
            if let Some((dir, refs)) = r? {
                self.watch.settled.insert(canonical_dir(dir));
                self.refs.extend(refs);
                self.out.snapshots_completed += 1;
            }
        }
        Ok(())
    }

    /// Whether `l` may be deleted: under a root, reached without a symbolic
    /// link below it. `cache` holds the answer per directory.
    async fn in_place(&mut self, l: &Location, cache: &mut HashMap<String, bool>) -> bool {
        let dir = l.parent();
        let key = canonical_dir(&dir);
        if let Some(ok) = cache.get(&key) {
            return *ok;
        }
        let mut ok = false;
        for (root, real_root) in &self.real_roots {
            let (Some(rel), Some(real_root)) = (dir.relative_to(root), real_root) else {
                continue;
            };
            if rel.split('/').any(|p| p == "..") {
                continue;
            }
            let expected = if rel.is_empty() {
                real_root.clone()
            } else {
                real_root.join(rel)
            };
            ok = matches!(self.storage.real_location(&dir).await, Ok(Some(real)) if real.canonical() == expected.canonical());
            if ok {
                break;
            }
        }
        cache.insert(key, ok);
        ok
    }

    /// Deletes one batch, after reading checkpoints completed meanwhile;
    /// reports each result. `false` per file that was not deleted.
    async fn batch(&mut self, batch: &mut Vec<Item<'_>>) -> Vec<bool> {
        if batch.is_empty() {
            return Vec::new();
        }
        if let Err(e) = self.refresh().await {
            // Unsure what a new checkpoint needs: delete nothing more.
            self.out.failed.push((
                self.watch.root.to_string(),
                format!("re-reading checkpoints before a batch: {e}"),
            ));
            self.stop.store(true, Ordering::SeqCst);
            self.out.stopped = true;
            return batch.drain(..).map(|_| false).collect();
        }
        let mut cache = HashMap::new();
        let mut go: Vec<usize> = Vec::with_capacity(batch.len());
        let mut ok = vec![false; batch.len()];
        for (i, (path, _, _, _)) in batch.iter().enumerate() {
            let why = if self.refs.contains(&path.canonical()) {
                Some(COMPLETED)
            } else if !self.in_place(path, &mut cache).await {
                Some(LINKED)
            } else {
                None
            };
            match why {
                Some(why) => {
                    self.out.skipped.push((path.to_string(), why.to_owned()));
                    (self.on)(Event::Skipped { path, why });
                }
                None => go.push(i),
            }
        }
        let targets: Vec<(Location, Option<String>)> = go
            .iter()
            .map(|&i| (batch[i].0.clone(), batch[i].3.clone()))
            .collect();
        let results = self.storage.delete_files_if(&targets).await;
        for (&i, r) in go.iter().zip(results) {
            let (path, bytes, c, _) = &batch[i];
            match r {
                Ok(()) => {
                    self.out.deleted_files += 1;
                    self.out.deleted_bytes = self.out.deleted_bytes.saturating_add(*bytes);
                    (self.on)(Event::Deleted {
                        path,
                        bytes: *bytes,
                        candidate: c,
                    });
                    ok[i] = true;
                }
                Err(e) if e.is_changed() => {
                    self.out
                        .skipped
                        .push((path.to_string(), CHANGED.to_owned()));
                    (self.on)(Event::Skipped { path, why: CHANGED });
                }
                Err(e) => {
                    self.out.failed.push((path.to_string(), e.to_string()));
                    (self.on)(Event::Failed { path, error: &e });
                }
            }
        }
        batch.clear();
        ok
    }

    /// Removes the empty directories under a deleted candidate, deepest
    /// first; never through a symbolic link.
    async fn tidy(&mut self, top: &str, dirs: &HashMap<String, Location>) {
        let mut order: Vec<(&String, &Location)> =
            dirs.iter().filter(|(k, _)| k.starts_with(top)).collect();
        // Deepest first: a child's key is longer than its parent's.
        order.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        let mut cache = HashMap::new();
        for (k, dir) in order {
            // The directory itself must be where it is listed.
            if !self.in_place(&dir.join("x"), &mut cache).await {
                continue;
            }
            match self.storage.remove_dir_if_empty(dir).await {
                Ok(true) => self.out.dirs_removed += 1,
                Ok(false) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => self.out.failed.push((k.clone(), e.to_string())),
            }
        }
    }
}

/// Why a file listed under the directory candidate `c` (`key`: its
/// canonical path) is left alone, `None` if it may go: special, referenced
/// by a kept snapshot, or written after planning.
pub(super) fn leave_alone(
    e: &storage::Entry,
    key: &str,
    c: &Candidate,
    refs: &RefSet,
) -> Option<&'static str> {
    if e.special {
        Some("a symbolic link or special file (never deleted)")
    } else if refs.contains(key) {
        Some("referenced by a kept snapshot")
    } else if e.modified > c.newest {
        Some("written after planning")
    } else {
        None
    }
}

/// The version of a file candidate as the re-check listed it.
pub(super) fn listed_version(a: &super::revalidate::Approved) -> Option<String> {
    a.metadata
        .iter()
        .find(|e| e.location.canonical() == a.candidate.path.canonical())
        .and_then(|e| e.version.clone())
}

/// Deletes what `v` approved. Does not stop at an error: per-file failures are
/// in the result (and reported through `on`), everything else goes on.
pub async fn apply(storage: &dyn Storage, v: &Validated, on: impl FnMut(Event<'_>)) -> Applied {
    apply_until(storage, v, &AtomicBool::new(false), on).await
}

/// [`apply`], stopping before the next batch once `stop` is set (e.g. when
/// the deletion log cannot be written): [`Applied::stopped`] says so.
///
/// Before every batch, checkpoints completed since the re-check are read
/// (job directories only, not the whole root) and what they reference is
/// left alone; every file is deleted only where it was listed, under the
/// plan's roots and not through a symbolic link.
pub async fn apply_until(
    storage: &dyn Storage,
    v: &Validated,
    stop: &AtomicBool,
    on: impl FnMut(Event<'_>),
) -> Applied {
    let before = storage.delete_throttling().unwrap_or_default();
    let mut out = delete_approved(storage, v, stop, on).await;
    if let Some(after) = storage.delete_throttling() {
        out.throttled = after.since(before);
    }
    out
}

/// [`apply_until`] without the throttling report.
async fn delete_approved(
    storage: &dyn Storage,
    v: &Validated,
    stop: &AtomicBool,
    on: impl FnMut(Event<'_>),
) -> Applied {
    let mut real_roots = Vec::new();
    for root in std::iter::once(&v.watch.root).chain(v.watch.savepoints.as_ref()) {
        let real = storage.real_location(root).await.ok().flatten();
        real_roots.push((root.clone(), real));
    }
    let mut d = Deleter {
        storage,
        refs: v.refs.clone(),
        watch: v.watch.clone(),
        out: Applied::default(),
        on,
        stop,
        real_roots,
        refreshed: None,
    };
    // 1. The `_metadata` of every directory candidate, and `_metadata`
    //    file candidates, before anything else.
    let mut metas: Vec<(Item<'_>, Option<usize>)> = Vec::new();
    for (i, a) in v.approved.iter().enumerate() {
        let c = &a.candidate;
        if c.is_dir {
            for m in &a.metadata {
                metas.push(((m.location.clone(), m.size, c, m.version.clone()), Some(i)));
            }
        } else if c.path.file_name() == "_metadata" {
            metas.push(((c.path.clone(), c.bytes, c, listed_version(a)), None));
        }
    }
    let mut failed_dirs: BTreeSet<usize> = BTreeSet::new();
    let mut batch: Vec<Item<'_>> = Vec::new();
    for chunk in metas.chunks(CHUNK) {
        if d.stopped() {
            // Nothing else may go: a directory whose _metadata is still
            // there stays whole.
            return d.out;
        }
        batch.extend(chunk.iter().map(|(item, _)| item.clone()));
        let ok = d.batch(&mut batch).await;
        for ((_, dir), ok) in chunk.iter().zip(ok) {
            if let (Some(i), false) = (dir, ok) {
                failed_dirs.insert(*i);
            }
        }
    }
    for i in &failed_dirs {
        d.out
            .dirs_left
            .push(v.approved[*i].candidate.path.to_string());
    }
    // 2. Directory candidates, listed again and checked file by file.
    for (i, a) in v.approved.iter().enumerate() {
        let c = &a.candidate;
        if !c.is_dir || failed_dirs.contains(&i) {
            continue;
        }
        let meta: HashSet<String> = a.metadata.iter().map(|m| m.location.canonical()).collect();
        // Directories seen under the candidate, removed when empty at the end.
        let mut dir_locs: HashMap<String, Location> = HashMap::new();
        let mut complete = true;
        let mut stream = storage.list(&c.path, true);
        while let Some(e) = stream.next().await {
            let e = match e {
                Ok(e) => e,
                Err(e) if e.is_not_found() => break,
                Err(e) => {
                    d.out.failed.push((c.path.to_string(), e.to_string()));
                    (d.on)(Event::Failed {
                        path: &c.path,
                        error: &e,
                    });
                    complete = false;
                    break;
                }
            };
            if e.is_dir {
                dir_locs.insert(canonical_dir(&e.location), e.location);
                continue;
            }
            let parent = e.location.parent();
            dir_locs.entry(canonical_dir(&parent)).or_insert(parent);
            let key = e.location.canonical();
            if meta.contains(&key) {
                continue;
            }
            if let Some(why) = leave_alone(&e, &key, c, &d.refs) {
                d.out.skipped.push((e.location.to_string(), why.to_owned()));
                (d.on)(Event::Skipped {
                    path: &e.location,
                    why,
                });
                complete = false;
                continue;
            }
            batch.push((e.location, e.size, c, e.version));
            if batch.len() >= CHUNK {
                if d.stopped() {
                    return d.out;
                }
                let ok = d.batch(&mut batch).await;
                complete &= ok.iter().all(|b| *b);
            }
        }
        drop(stream);
        if d.stopped() {
            return d.out;
        }
        let ok = d.batch(&mut batch).await;
        complete &= ok.iter().all(|b| *b);
        if complete {
            let top = canonical_dir(&c.path);
            dir_locs.insert(top.clone(), c.path.clone());
            d.tidy(&top, &dir_locs).await;
        }
    }
    // 3. File candidates.
    for a in &v.approved {
        let c = &a.candidate;
        if c.is_dir || c.path.file_name() == "_metadata" {
            continue;
        }
        batch.push((c.path.clone(), c.bytes, c, listed_version(a)));
        if batch.len() >= CHUNK {
            if d.stopped() {
                return d.out;
            }
            d.batch(&mut batch).await;
        }
    }
    if !d.stopped() {
        d.batch(&mut batch).await;
    }
    d.out
}
