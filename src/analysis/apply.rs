//! Applying a cleanup plan: check it again against storage as it is now,
//! then delete.
//!
//! A plan can be hours old when it is applied (`--plan-out` / `--apply`), and
//! Flink keeps writing meanwhile. [`revalidate`] re-lists the root, re-reads
//! the newest `_metadata` of every job and every snapshot that is new,
//! changed, or no longer selected for deletion, and drops each candidate that
//! is gone, changed (size, time, files) or now referenced, or that became the
//! newest completed checkpoint of its job. [`apply`] then deletes what is
//! left: every directory's `_metadata` first (a half-deleted checkpoint never
//! looks restorable), then the files, checked once more as they are listed,
//! in batches; then empty directories. Per-file failures are reported and
//! the rest goes on: a re-run plans what is left.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;

use super::cleanup::{
    self, Candidate, Error, PlanFile, canonical_dir, check_recorded_locations, dir_of, read_refs,
};
use super::layout;
use super::snapshot::Rebase;
use crate::storage::{self, Entry, Location, Storage};

/// Files handed to [`Storage::delete_files`] at a time.
const CHUNK: usize = 8192;

/// Why a planned candidate is not deleted after all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Dropped {
    /// It no longer exists.
    Gone,
    /// It changed since planning.
    Changed {
        /// What changed.
        detail: String,
    },
    /// A snapshot read now references it (or a file in it).
    Referenced {
        /// The referenced file.
        file: String,
    },
    /// It is now the newest completed checkpoint of its job.
    Newest,
    /// Planning again now (under the plan file's policy) does not make it a
    /// candidate.
    NotPlannedNow,
}

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dropped::Gone => f.write_str("already gone"),
            Dropped::Changed { detail } => write!(f, "changed since planning: {detail}"),
            Dropped::Referenced { file } => write!(f, "now referenced ({file})"),
            Dropped::Newest => f.write_str("now the newest completed checkpoint of its job"),
            Dropped::NotPlannedNow => f.write_str("not a candidate when planned again now"),
        }
    }
}

/// A candidate that passed the re-check.
#[derive(Debug, Clone)]
pub struct Approved {
    /// The candidate.
    pub candidate: Candidate,
    /// For a directory: every `_metadata` in it as listed now (deleted
    /// first: a checkpoint directory's own, or those of every checkpoint of
    /// a dropped job); for a file: the file as listed now.
    pub metadata: Vec<Entry>,
}

/// The outcome of [`revalidate`].
#[derive(Debug)]
pub struct Validated {
    /// Still safe to delete.
    pub approved: Vec<Approved>,
    /// Not deleted after all, and why.
    pub dropped: Vec<(Candidate, Dropped)>,
    /// Snapshots whose references were read for the re-check.
    pub snapshots_read: usize,
    /// Referenced files (canonical), checked again while deleting.
    refs: HashSet<String>,
    /// What the deleting step watches between batches.
    watch: Watch,
}

/// What [`apply`] checks before every batch: checkpoints completed since
/// the re-check (their references join `refs`), and where files may be
/// deleted (under the roots, never through a symbolic link).
#[derive(Debug, Clone)]
struct Watch {
    root: Location,
    savepoints: Option<Location>,
    rebase: Rebase,
    concurrency: usize,
    /// `chk-N` directories (canonical) whose `_metadata` is accounted for:
    /// read, being deleted as planned, or abandoned (older than the newest
    /// completed checkpoint: Flink never completes those).
    settled: HashSet<String>,
    /// Checkpoints are looked for at most this often (a batch flushed per
    /// candidate directory would otherwise re-list every job each time).
    interval: std::time::Duration,
}

/// A `_metadata` that appears while deleting and does not parse yet (Flink
/// still writing it) is read again this many times, this far apart.
const METADATA_RETRIES: u32 = 3;
const METADATA_RETRY_WAIT: std::time::Duration = std::time::Duration::from_millis(300);

/// How often [`apply`] looks for checkpoints completed while deleting.
const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

impl Validated {
    /// Files in the approved candidates.
    pub fn files(&self) -> u64 {
        self.approved
            .iter()
            .map(|a| a.candidate.files)
            .fold(0, u64::saturating_add)
    }

    /// Bytes in the approved candidates.
    pub fn bytes(&self) -> u64 {
        self.approved
            .iter()
            .map(|a| a.candidate.bytes)
            .fold(0, u64::saturating_add)
    }
}

/// Whether `c` lies where `plan` may delete: under its scope, or (an
/// included savepoint) under its savepoints root.
fn in_bounds(plan: &PlanFile, c: &Candidate) -> bool {
    let under = |root: &Location| {
        c.path.relative_to(root).is_some_and(|rel| {
            !rel.split('/').any(|p| p == "..")
                && (!rel.is_empty()
                    // The scope itself only when it is a dropped job's directory.
                    || (c.reason == cleanup::Reason::DroppedJob
                        && c.is_dir
                        && plan.policy.drop_jobs.contains(c.path.file_name())))
        })
    };
    under(&plan.scope)
        || (c.reason == cleanup::Reason::IncludedSavepoint
            && plan.savepoints.as_ref().is_some_and(under))
}

/// Checks `selected` (candidates of `plan`) against storage as it is now.
/// Fails, deleting nothing, if a snapshot that is kept now cannot be read, a
/// listing fails or comes back empty, or a candidate lies outside the plan's
/// scope.
pub async fn revalidate(
    storage: &dyn Storage,
    plan: &PlanFile,
    selected: Vec<Candidate>,
    rebase: &Rebase,
    concurrency: usize,
    mut progress: impl FnMut(&str, u64),
) -> Result<Validated, Error> {
    if plan.scope.relative_to(&plan.root).is_none() {
        return Err(Error::OutsideRoot {
            scope: plan.scope.to_string(),
            root: plan.root.to_string(),
        });
    }
    if let Some(c) = selected.iter().find(|c| !in_bounds(plan, c)) {
        return Err(Error::OutsideRoot {
            scope: c.path.to_string(),
            root: plan.scope.to_string(),
        });
    }
    let root = &plan.root;
    let scan = layout::scan(storage, root, |n| progress("re-listing", n)).await?;
    if scan.total.files == 0 {
        return Err(Error::EmptyListing(root.to_string()));
    }
    let sp_scan = match &plan.savepoints {
        Some(s) => Some(layout::scan(storage, s, |n| progress("re-listing savepoints", n)).await?),
        None => None,
    };
    let selected_dirs: BTreeMap<String, Option<jiff::Timestamp>> = selected
        .iter()
        .filter(|c| c.is_dir)
        .map(|c| (canonical_dir(&c.path), c.newest))
        .collect();
    // Checkpoint directories split into file candidates: deleting their
    // `_metadata` is deleting the snapshot.
    let selected_metadata: HashMap<String, (u64, Option<jiff::Timestamp>)> = selected
        .iter()
        .filter(|c| !c.is_dir && c.path.file_name() == "_metadata")
        .map(|c| (canonical_dir(&c.path.parent()), (c.bytes, c.newest)))
        .collect();
    let known: HashMap<String, &cleanup::ReadSnapshot> = plan
        .read
        .iter()
        .map(|r| (canonical_dir(&r.path), r))
        .collect();
    // Snapshots to read: the newest completed checkpoint of every job that is
    // not dropped, and every completed snapshot that is not being deleted and
    // was not read unchanged when planning.
    let mut newest: BTreeMap<String, ()> = BTreeMap::new();
    let mut to_read: Vec<Location> = Vec::new();
    let mut consider = |loc: &Location, metadata: &Entry, is_newest: bool| {
        let key = canonical_dir(loc);
        if is_newest {
            newest.insert(key.clone(), ());
            to_read.push(loc.clone());
            return;
        }
        // Being deleted as planned: a snapshot that existed then (its
        // `_metadata` no newer than the candidate's newest file) — one
        // completed since (inside a dropped job's directory) is read.
        let planned_dir = dir_of(&selected_dirs, &key)
            .is_some_and(|(_, newest)| metadata.modified.is_some() && metadata.modified <= *newest);
        let planned_file = selected_metadata
            .get(&key)
            .is_some_and(|(bytes, t)| *bytes == metadata.size && *t == metadata.modified);
        if planned_dir || planned_file {
            return;
        }
        if known.get(&key).is_some_and(|r| r.unchanged(metadata)) {
            return;
        }
        to_read.push(loc.clone());
    };
    for j in scan.jobs.values() {
        let (last, last_written) = cleanup::newest(j);
        let dropped = plan.policy.drop_jobs.contains(&j.name);
        for c in j.completed() {
            if let (Some(loc), Some(m)) = (&c.location, &c.metadata) {
                consider(loc, m, !dropped && (c.id == last || c.id == last_written));
            }
        }
    }
    for s in sp_scan
        .iter()
        .flat_map(|s| s.savepoints.values())
        .chain(scan.savepoints.values())
    {
        if let (Some(loc), Some(m)) = (&s.location, &s.metadata) {
            consider(loc, m, false);
        }
    }
    let mut refs = HashSet::new();
    let mut snapshots_read = 0;
    let mut reads = futures_util::stream::iter(to_read.iter())
        .map(|loc| async move {
            let mut r = HashSet::new();
            read_refs(storage, loc, rebase, &mut r).await.map(|()| r)
        })
        .buffer_unordered(concurrency.max(1));
    while let Some(r) = reads.next().await {
        refs.extend(r?);
        snapshots_read += 1;
        progress("re-reading snapshots", snapshots_read as u64);
    }
    drop(reads);
    let job_names: BTreeSet<&str> = scan.jobs.keys().map(String::as_str).collect();
    check_recorded_locations(&refs, root, &job_names)?;

    let mut approved = Vec::new();
    let mut dropped = Vec::new();
    // Files, grouped by directory so each directory is listed once.
    let mut by_dir: BTreeMap<String, (Location, Vec<Candidate>)> = BTreeMap::new();
    for c in selected {
        if c.is_dir {
            let key = canonical_dir(&c.path);
            if newest.contains_key(&key) {
                dropped.push((c, Dropped::Newest));
                continue;
            }
            match check_dir(storage, &c, &refs).await? {
                Ok(metadata) => approved.push(Approved {
                    candidate: c,
                    metadata,
                }),
                Err(why) => dropped.push((c, why)),
            }
        } else if dir_of(&newest, &c.path.canonical()).is_some() {
            dropped.push((c, Dropped::Newest));
        } else {
            let parent = c.path.parent();
            by_dir
                .entry(canonical_dir(&parent))
                .or_insert_with(|| (parent, Vec::new()))
                .1
                .push(c);
        }
        progress("re-checking", (approved.len() + dropped.len()) as u64);
    }
    for (_, (dir, files)) in by_dir {
        let mut want: HashMap<String, Candidate> =
            files.into_iter().map(|c| (c.path.canonical(), c)).collect();
        let mut stream = storage.list(&dir, false);
        while let Some(e) = stream.next().await {
            let e = match e {
                Ok(e) => e,
                Err(e) if e.is_not_found() => break,
                Err(e) => return Err(e.into()),
            };
            if e.is_dir {
                continue;
            }
            let key = e.location.canonical();
            let Some(c) = want.remove(&key) else {
                continue;
            };
            let why = if e.special {
                Some(Dropped::Changed {
                    detail: "a symbolic link or special file now".to_owned(),
                })
            } else if e.size != c.bytes {
                Some(Dropped::Changed {
                    detail: format!("{} bytes now, {} when planned", e.size, c.bytes),
                })
            } else if e.modified != c.newest {
                Some(Dropped::Changed {
                    detail: format!(
                        "modified {} (planned: {})",
                        show_time(e.modified),
                        show_time(c.newest)
                    ),
                })
            } else if refs.contains(&key) {
                Some(Dropped::Referenced { file: key })
            } else {
                None
            };
            match why {
                Some(w) => dropped.push((c, w)),
                None => approved.push(Approved {
                    candidate: c,
                    metadata: vec![e],
                }),
            }
        }
        drop(stream);
        dropped.extend(want.into_values().map(|c| (c, Dropped::Gone)));
        progress("re-checking", (approved.len() + dropped.len()) as u64);
    }
    approved.sort_by_cached_key(|a| a.candidate.path.canonical());
    dropped.sort_by_cached_key(|(c, _)| c.path.canonical());
    // Every completed checkpoint listed now is accounted for: read (when
    // planning or now) or selected for deletion.
    let settled = scan
        .jobs
        .values()
        .flat_map(|j| {
            let in_progress: HashSet<Option<u64>> = j.in_progress().map(|c| c.id).collect();
            j.checkpoints
                .values()
                .filter(move |c| !in_progress.contains(&c.id))
        })
        .filter_map(|c| c.location.as_ref().map(canonical_dir))
        .collect();
    Ok(Validated {
        approved,
        dropped,
        snapshots_read,
        refs,
        watch: Watch {
            root: root.clone(),
            savepoints: plan.savepoints.clone(),
            rebase: rebase.clone(),
            concurrency,
            settled,
            interval: WATCH_INTERVAL,
        },
    })
}

fn show_time(t: Option<jiff::Timestamp>) -> String {
    t.map_or_else(|| "unknown".to_owned(), |t| t.to_string())
}

/// Re-lists a candidate directory: `Ok(Ok(its _metadata files))` if it holds
/// the same files as planned (count, bytes, nothing newer) and none is
/// referenced.
async fn check_dir(
    storage: &dyn Storage,
    c: &Candidate,
    refs: &HashSet<String>,
) -> Result<Result<Vec<Entry>, Dropped>, Error> {
    let (mut files, mut bytes) = (0u64, 0u64);
    let mut newest: Option<jiff::Timestamp> = None;
    let mut referenced = None;
    let mut metadata = Vec::new();
    let mut stream = storage.list(&c.path, true);
    while let Some(e) = stream.next().await {
        let e = match e {
            Ok(e) => e,
            Err(e) if e.is_not_found() => break,
            Err(e) => return Err(e.into()),
        };
        if e.is_dir {
            continue;
        }
        if e.special {
            return Ok(Err(Dropped::Changed {
                detail: format!("{} is a symbolic link or special file now", e.location),
            }));
        }
        files += 1;
        bytes = bytes.saturating_add(e.size);
        newest = newest.max(e.modified);
        let key = e.location.canonical();
        if referenced.is_none() && refs.contains(&key) {
            referenced = Some(key.clone());
        }
        if e.location.file_name() == "_metadata" {
            metadata.push(e);
        }
    }
    if files == 0 {
        return Ok(Err(Dropped::Gone));
    }
    if let Some(file) = referenced {
        return Ok(Err(Dropped::Referenced { file }));
    }
    if files != c.files || bytes != c.bytes || newest > c.newest {
        return Ok(Err(Dropped::Changed {
            detail: format!(
                "{files} files, {bytes} bytes, newest {} now; planned {} files, {} bytes, newest {}",
                show_time(newest),
                c.files,
                c.bytes,
                show_time(c.newest)
            ),
        }));
    }
    Ok(Ok(metadata))
}

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
}

/// Why a file is left alone when its batch comes.
const LINKED: &str = "reached through a symbolic link, or outside the roots (not deleted)";
const COMPLETED: &str = "referenced by a checkpoint completed while deleting";

/// The deleting step: the approved candidates, the references (growing as
/// checkpoints complete), and the totals.
struct Deleter<'a, F> {
    storage: &'a dyn Storage,
    refs: HashSet<String>,
    watch: Watch,
    out: Applied,
    on: F,
    stop: &'a AtomicBool,
    /// Real location of each root (`None`: gone).
    real_roots: Vec<(Location, Option<Location>)>,
    /// When checkpoints were last looked for.
    refreshed: Option<std::time::Instant>,
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
                            let mut r = HashSet::new();
                            match read_refs(storage, dir, rebase, &mut r).await {
                                Ok(()) => break Ok::<_, Error>(Some((dir, r))),
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
    async fn batch(&mut self, batch: &mut Vec<(Location, u64, &Candidate)>) -> Vec<bool> {
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
        for (i, (path, _, _)) in batch.iter().enumerate() {
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
        let locs: Vec<Location> = go.iter().map(|&i| batch[i].0.clone()).collect();
        let results = self.storage.delete_files(&locs).await;
        for (&i, r) in go.iter().zip(results) {
            let (path, bytes, c) = &batch[i];
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
    let mut metas: Vec<(Location, u64, &Candidate, Option<usize>)> = Vec::new();
    for (i, a) in v.approved.iter().enumerate() {
        let c = &a.candidate;
        if c.is_dir {
            for m in &a.metadata {
                metas.push((m.location.clone(), m.size, c, Some(i)));
            }
        } else if c.path.file_name() == "_metadata" {
            metas.push((c.path.clone(), c.bytes, c, None));
        }
    }
    let mut failed_dirs: BTreeSet<usize> = BTreeSet::new();
    let mut batch: Vec<(Location, u64, &Candidate)> = Vec::new();
    for chunk in metas.chunks(CHUNK) {
        if d.stopped() {
            // Nothing else may go: a directory whose _metadata is still
            // there stays whole.
            return d.out;
        }
        batch.extend(chunk.iter().map(|(l, b, c, _)| (l.clone(), *b, *c)));
        let ok = d.batch(&mut batch).await;
        for ((_, _, _, dir), ok) in chunk.iter().zip(ok) {
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
            let why = if e.special {
                Some("a symbolic link or special file (never deleted)")
            } else if d.refs.contains(&key) {
                Some("referenced by a kept snapshot")
            } else if e.modified > c.newest {
                Some("written after planning")
            } else {
                None
            };
            if let Some(why) = why {
                d.out.skipped.push((e.location.to_string(), why.to_owned()));
                (d.on)(Event::Skipped {
                    path: &e.location,
                    why,
                });
                complete = false;
                continue;
            }
            batch.push((e.location, e.size, c));
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
        batch.push((c.path.clone(), c.bytes, c));
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

#[cfg(test)]
mod tests {
    //! Applying plans on copies of real Flink trees, with storage faults
    //! injected and with storage changing between planning and applying.
    //! "Still restorable" = every file in Flink's own file list of the
    //! snapshot (`_metadata.oracle.json`) is still there.

    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::analysis::cleanup::KeepReason;
    use crate::analysis::cleanup::tests::{
        files, fixture, oracle_files, planned, policy, rebase, run_on,
    };
    use crate::analysis::cleanup::{Plan, PlanFile, Policy};
    use crate::storage::faults::Faulty;
    use crate::storage::{Settings, Storages};

    struct Case {
        _tmp: tempfile::TempDir,
        root: PathBuf,
        generated: String,
        job: PathBuf,
    }

    fn case(name: &str) -> Case {
        let (tmp, root, generated) = fixture("2.3", name);
        let job = std::fs::read_dir(root.join("checkpoints"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.is_dir())
            .unwrap();
        Case {
            _tmp: tmp,
            root,
            generated,
            job,
        }
    }

    impl Case {
        fn plan(&self, p: &Policy) -> (Plan, PlanFile) {
            let plan = run_on(&local(), &self.root, &self.generated, p).unwrap();
            (plan.clone(), PlanFile::new(plan, p, &[]))
        }

        fn source(&self) -> PathBuf {
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
                "tests/fixtures/flink/2.3/{}",
                self.root.file_name().unwrap().to_string_lossy()
            ))
        }

        /// Files of Flink's list for `chk` that are missing now.
        fn missing(&self, chk: &str) -> Vec<String> {
            let dir = self.job.join(chk);
            oracle_files(&self.source(), &self.root, &dir, &self.generated)
                .into_iter()
                .filter(|f| !Path::new(f).is_file())
                .collect()
        }

        fn revalidate(&self, storage: &dyn Storage, plan: &PlanFile) -> Result<Validated, Error> {
            rt().block_on(revalidate(
                storage,
                plan,
                plan.candidates.clone(),
                &rebase(&self.root, &self.generated),
                4,
                |_, _| {},
            ))
        }
    }

    fn local() -> Storages {
        Storages::new(Settings::default())
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Runtime::new().unwrap()
    }

    fn run_apply(storage: &dyn Storage, v: &Validated) -> (Applied, Vec<String>) {
        let mut order = Vec::new();
        let a = rt().block_on(apply(storage, v, |e| {
            if let Event::Deleted { path, .. } = e {
                order.push(path.canonical());
            }
        }));
        (a, order)
    }

    #[test]
    fn clean_run_deletes_the_plan_metadata_first() {
        let c = case("rocksdb-incremental");
        let (plan, file) = c.plan(&policy(1));
        let expected = planned(&plan);
        let before = files(&c.root);
        let v = c.revalidate(&local(), &file).unwrap();
        assert!(v.dropped.is_empty(), "{:?}", v.dropped);
        let (a, order) = run_apply(&local(), &v);
        assert!(a.failed.is_empty(), "{:?}", a.failed);
        let after = files(&c.root);
        let gone: BTreeSet<String> = before.difference(&after).cloned().collect();
        assert_eq!(gone, expected);
        assert_eq!(a.deleted_files as usize, expected.len());
        // Both checkpoint directories' _metadata go before any other file.
        assert!(order[0].ends_with("chk-4/_metadata") && order[1].ends_with("chk-5/_metadata"));
        assert!(!c.job.join("chk-4").exists(), "empty directory removed");
        assert!(c.missing("chk-6").is_empty());
    }

    #[test]
    fn errors_mid_delete_lose_nothing_kept_and_a_rerun_finishes() {
        let c = case("rocksdb-incremental");
        let (plan, file) = c.plan(&policy(1));
        let expected = planned(&plan);
        let before = files(&c.root);
        // The 3rd file handed to storage and every one after it fail.
        let faulty = Faulty::new(local()).fail_deletes_from(2);
        let v = c.revalidate(&faulty, &file).unwrap();
        let (a, _) = run_apply(&faulty, &v);
        assert_eq!(a.deleted_files, 2);
        assert_eq!(a.failed.len() as u64, expected.len() as u64 - 2);
        assert!(a.failed[0].1.contains(crate::storage::faults::INJECTED));
        // What went are the two _metadata: no half-deleted checkpoint looks restorable.
        assert!(!c.job.join("chk-4/_metadata").exists());
        assert!(!c.job.join("chk-5/_metadata").exists());
        assert!(c.missing("chk-6").is_empty());
        // A re-run plans the rest (chk-4/5 are now abandoned) and finishes.
        let (plan2, file2) = c.plan(&policy(1));
        assert!(
            plan2
                .candidates
                .iter()
                .any(|x| x.reason == cleanup::Reason::AbandonedCheckpoint)
        );
        let v2 = c.revalidate(&local(), &file2).unwrap();
        let (a2, _) = run_apply(&local(), &v2);
        assert!(a2.failed.is_empty());
        let gone: BTreeSet<String> = before.difference(&files(&c.root)).cloned().collect();
        assert_eq!(gone, expected);
        assert!(c.missing("chk-6").is_empty());
        let _ = plan2;
    }

    #[test]
    fn a_dropped_job_loses_every_metadata_before_anything_else() {
        let c = case("cleanup-crash");
        let mut p = policy(1);
        p.drop_jobs
            .insert(c.job.file_name().unwrap().to_string_lossy().into_owned());
        let (plan, file) = c.plan(&p);
        assert_eq!(plan.candidates.len(), 1, "{:?}", plan.candidates);
        assert!(plan.candidates[0].is_dir);
        let metas: Vec<String> = files(&c.job)
            .into_iter()
            .filter(|f| f.ends_with("/_metadata"))
            .collect();
        assert_eq!(metas.len(), 2, "chk-3 and chk-4");
        let before = files(&c.root);
        // Only the first two deletes succeed.
        let faulty = Faulty::new(local()).fail_deletes_from(2);
        let v = c.revalidate(&faulty, &file).unwrap();
        let (a, order) = run_apply(&faulty, &v);
        assert_eq!(a.deleted_files, 2);
        assert!(order.iter().all(|f| f.ends_with("/_metadata")), "{order:?}");
        let gone: Vec<String> = before.difference(&files(&c.root)).cloned().collect();
        assert_eq!(gone, metas);
    }

    #[test]
    fn a_metadata_that_cannot_be_deleted_leaves_its_checkpoint_whole() {
        let c = case("rocksdb-incremental");
        let (_, file) = c.plan(&policy(1));
        let chk4_before: BTreeSet<String> = files(&c.job.join("chk-4"));
        let faulty = Faulty::new(local()).fail_deletes_containing("chk-4/_metadata");
        let v = c.revalidate(&faulty, &file).unwrap();
        let (a, _) = run_apply(&faulty, &v);
        assert_eq!(a.failed.len(), 1);
        assert_eq!(a.dirs_left.len(), 1);
        assert!(a.dirs_left[0].ends_with("chk-4"));
        assert_eq!(files(&c.job.join("chk-4")), chk4_before);
        assert!(!c.job.join("chk-5").exists());
    }

    #[test]
    fn an_empty_listing_or_unreadable_kept_metadata_at_apply_deletes_nothing() {
        let c = case("rocksdb-incremental");
        let (_, file) = c.plan(&policy(1));
        let before = files(&c.root);
        let e = c
            .revalidate(&Faulty::new(local()).empty_listings(), &file)
            .unwrap_err();
        assert!(matches!(e, Error::EmptyListing(_)), "{e}");
        let e = c
            .revalidate(
                &Faulty::new(local()).fail_reads_containing("chk-6/_metadata"),
                &file,
            )
            .unwrap_err();
        assert!(
            e.to_string().contains("chk-6/_metadata") && e.to_string().contains("injected"),
            "{e}"
        );
        assert_eq!(files(&c.root), before);
    }

    #[test]
    fn changes_between_plan_and_apply_are_dropped() {
        let c = case("rocksdb-incremental");
        let (plan, file) = c.plan(&policy(1));
        let shared: Vec<&Candidate> = plan
            .candidates
            .iter()
            .filter(|x| !x.is_dir && x.path.canonical().contains("/shared/"))
            .collect();
        // A candidate grows; another is deleted by someone else.
        let grown = PathBuf::from(shared[0].path.canonical());
        std::fs::write(&grown, b"rewritten").unwrap();
        let gone = PathBuf::from(shared[1].path.canonical());
        std::fs::remove_file(&gone).unwrap();
        // A new job restored from chk-5 (a candidate) in CLAIM/LEGACY style:
        // its first checkpoint reuses chk-5's shared files in place. (Its
        // exclusive files are relative to the new checkpoint's directory, as
        // Flink writes them; those are not chk-5's.)
        let new_job = c
            .root
            .join("checkpoints/0123456789abcdef0123456789abcdef/chk-1");
        std::fs::create_dir_all(&new_job).unwrap();
        std::fs::copy(c.job.join("chk-5/_metadata"), new_job.join("_metadata")).unwrap();
        let reused: BTreeSet<String> =
            oracle_files(&c.source(), &c.root, &c.job.join("chk-5"), &c.generated)
                .into_iter()
                .filter(|f| f.contains("/shared/"))
                .collect();

        let v = c.revalidate(&local(), &file).unwrap();
        let why = |p: &Path| {
            v.dropped
                .iter()
                .find(|(x, _)| Path::new(&x.path.canonical()) == p)
                .map(|(_, w)| w.clone())
        };
        assert!(matches!(why(&grown), Some(Dropped::Changed { .. })));
        assert_eq!(why(&gone), Some(Dropped::Gone));
        // chk-5's shared files that only chk-5 used were candidates; the new
        // job's checkpoint uses them now.
        let now_referenced: Vec<&String> = reused
            .iter()
            .filter(|f| matches!(why(Path::new(f)), Some(Dropped::Referenced { .. })))
            .collect();
        assert!(!now_referenced.is_empty());
        let (a, _) = run_apply(&local(), &v);
        assert!(a.failed.is_empty());
        let missing: Vec<&String> = reused
            .iter()
            .filter(|f| !Path::new(f).is_file() && **f != gone.to_string_lossy())
            .collect();
        assert!(missing.is_empty(), "{missing:?}");
        assert!(c.missing("chk-6").is_empty());
    }

    #[test]
    fn a_candidate_that_became_the_newest_checkpoint_is_kept() {
        let c = case("rocksdb-incremental");
        let (_, file) = c.plan(&policy(1));
        // Someone deletes chk-6 after planning: chk-5 is now the newest.
        std::fs::remove_dir_all(c.job.join("chk-6")).unwrap();
        let v = c.revalidate(&local(), &file).unwrap();
        assert!(
            v.dropped
                .iter()
                .any(|(x, w)| x.path.canonical().ends_with("chk-5") && *w == Dropped::Newest)
        );
        let (a, _) = run_apply(&local(), &v);
        assert!(a.failed.is_empty());
        assert!(c.missing("chk-5").is_empty());
    }

    #[test]
    fn a_tampered_plan_outside_its_scope_is_refused() {
        let c = case("rocksdb-incremental");
        let (_, mut file) = c.plan(&policy(1));
        let mut bad = file.candidates[0].clone();
        bad.path = Location::parse(&c.root.join("scenario.json").to_string_lossy()).unwrap();
        bad.is_dir = false;
        file.candidates.push(bad);
        let before = files(&c.root);
        let e = c.revalidate(&local(), &file).unwrap_err();
        assert!(matches!(e, Error::OutsideRoot { .. }), "{e}");
        assert_eq!(files(&c.root), before);
    }

    // ---- Hostile trees (issue: cleanup must never lose data) ----

    /// Every path under `dir` (not following links) with its contents or
    /// link target: compared before and after to prove nothing changed.
    fn snapshot_tree(dir: &Path) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let md = std::fs::symlink_metadata(&p).unwrap();
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                if md.is_symlink() {
                    out.insert(
                        rel,
                        format!("-> {}", std::fs::read_link(&p).unwrap().display()),
                    );
                } else if md.is_dir() {
                    out.insert(format!("{rel}/"), String::new());
                    stack.push(p);
                } else {
                    out.insert(
                        rel,
                        String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into(),
                    );
                }
            }
        }
        out
    }

    /// A directory outside the fixture's root with a few files.
    fn victim(c: &Case) -> PathBuf {
        let v = c._tmp.path().join("victim");
        std::fs::create_dir_all(v.join("sub")).unwrap();
        std::fs::write(v.join("precious"), b"outside the root").unwrap();
        std::fs::write(v.join("sub/also"), b"also outside").unwrap();
        std::fs::write(v.join("_metadata"), b"not a snapshot").unwrap();
        v
    }

    fn symlink(target: &Path, link: &Path) {
        std::os::unix::fs::symlink(target, link).unwrap();
    }

    /// Plans with explicit roots on local storage.
    fn plan_at(
        checkpoints: &Location,
        scope: &Location,
        savepoints: Option<&Location>,
        p: &Policy,
        rebase: &Rebase,
    ) -> Result<Plan, Error> {
        rt().block_on(cleanup::plan(
            &local(),
            cleanup::Roots {
                checkpoints,
                scope,
                savepoints,
            },
            p,
            rebase,
            4,
            |_, _| {},
        ))
    }

    fn plan_and_apply(c: &Case, p: &Policy) -> (Plan, Validated, Applied) {
        let (plan, file) = c.plan(p);
        let v = c.revalidate(&local(), &file).unwrap();
        let (a, _) = run_apply(&local(), &v);
        (plan, v, a)
    }

    #[test]
    fn symlinks_are_kept_never_followed_and_nothing_is_deleted_through_them() {
        let c = case("rocksdb-incremental");
        let v = victim(&c);
        let before = snapshot_tree(&v);
        let links = [
            c.job.join("shared/evil"),
            c.job.join("taskowned/evil"),
            c.job.join("chk-4/evil"),
            c.job.join("chk-2"),
        ];
        std::fs::create_dir_all(c.job.join("taskowned")).unwrap();
        for l in &links {
            symlink(&v, l);
        }
        // A loop: listing must neither fail nor spin.
        symlink(&c.job.join("shared"), &c.job.join("shared/loop"));
        let mut p = policy(1);
        p.stopped = true;
        let (plan, _, a) = plan_and_apply(&c, &p);
        for cand in &plan.candidates {
            let path = cand.path.canonical();
            assert!(
                !links
                    .iter()
                    .any(|l| path.starts_with(&*l.to_string_lossy())),
                "candidate through a link: {path}"
            );
        }
        let special: u64 = plan
            .kept
            .iter()
            .filter(|k| k.reason == KeepReason::Special)
            .map(|k| k.files)
            .sum();
        assert_eq!(special, 5, "{:?}", plan.kept);
        assert!(a.failed.is_empty(), "{:?}", a.failed);
        assert_eq!(snapshot_tree(&v), before, "the victim changed");
        for l in links.iter().chain([&c.job.join("shared/loop")]) {
            assert!(std::fs::symlink_metadata(l).unwrap().is_symlink(), "{l:?}");
        }
        // chk-4 held a link: its files went one by one, the link stayed.
        assert!(!c.job.join("chk-4/_metadata").exists());
        assert!(c.missing("chk-6").is_empty());
    }

    #[test]
    fn a_directory_swapped_for_a_symlink_after_planning_is_not_deleted_through() {
        let c = case("rocksdb-incremental");
        let (_, file) = c.plan(&policy(1));
        // chk-4 moves out of the root and a link takes its place: the same
        // files (names, sizes, times), now outside the root.
        let outside = c._tmp.path().join("moved-chk-4");
        std::fs::rename(c.job.join("chk-4"), &outside).unwrap();
        symlink(&outside, &c.job.join("chk-4"));
        let before = snapshot_tree(&outside);
        let v = c.revalidate(&local(), &file).unwrap();
        let (a, _) = run_apply(&local(), &v);
        assert_eq!(snapshot_tree(&outside), before, "deleted through the link");
        assert!(
            a.skipped
                .iter()
                .any(|(p, why)| p.contains("chk-4") && why == LINKED),
            "{:?}",
            a.skipped
        );
        assert!(c.missing("chk-6").is_empty());
    }

    #[test]
    fn directories_that_are_not_jobs_are_kept_whole() {
        let c = case("rocksdb-incremental");
        let backups = c.root.join("checkpoints/my-backups");
        for chk in ["chk-4", "chk-5"] {
            crate::analysis::cleanup::tests::copy(&c.job.join(chk), &backups.join(chk));
        }
        std::fs::write(backups.join("NOTES.txt"), b"keep me").unwrap();
        // A folder holding a shared/ is not a job either.
        let lookalike = c.root.join("checkpoints/not-a-job/shared");
        std::fs::create_dir_all(&lookalike).unwrap();
        std::fs::write(lookalike.join("x.sst"), b"mine").unwrap();
        let before = snapshot_tree(&backups);
        let mut p = policy(1);
        p.stopped = true;
        let (plan, _, a) = plan_and_apply(&c, &p);
        assert!(
            plan.candidates
                .iter()
                .all(|x| !x.path.canonical().contains("my-backups")
                    && !x.path.canonical().contains("not-a-job")),
            "{:?}",
            plan.candidates
        );
        assert!(a.failed.is_empty());
        assert_eq!(snapshot_tree(&backups), before);
        assert!(lookalike.join("x.sst").exists());
        assert!(!plan.jobs.contains_key("my-backups"));
        // The copied chk-5 is a snapshot all the same: every shared/ file it
        // needs is still there (it is read although it is in no job).
        let chk5 = oracle_files(&c.source(), &c.root, &c.job.join("chk-5"), &c.generated);
        let shared: Vec<&String> = chk5.iter().filter(|f| f.contains("/shared/")).collect();
        assert!(!shared.is_empty());
        for f in shared {
            assert!(Path::new(f).is_file(), "{f} deleted");
        }
    }

    #[test]
    fn a_snapshot_behind_a_symlink_is_read_and_what_it_needs_is_kept() {
        // The newest checkpoint lives elsewhere and is linked in: Flink reads
        // it through the link, so its shared/ files must stay.
        let c = case("rocksdb-incremental");
        let elsewhere = c._tmp.path().join("chk-6-elsewhere");
        std::fs::rename(c.job.join("chk-6"), &elsewhere).unwrap();
        symlink(&elsewhere, &c.job.join("chk-6"));
        let mut p = policy(1);
        p.stopped = true;
        let (_, _, a) = plan_and_apply(&c, &p);
        assert!(a.failed.is_empty(), "{:?}", a.failed);
        assert!(c.missing("chk-6").is_empty(), "{:?}", c.missing("chk-6"));
        assert!(
            std::fs::symlink_metadata(c.job.join("chk-6"))
                .unwrap()
                .is_symlink()
        );
    }

    #[test]
    fn a_scope_that_is_not_a_listed_job_is_refused() {
        let c = case("rocksdb-incremental");
        let ck = c.root.join("checkpoints");
        let link = ck.join("0123456789abcdef0123456789abcdef");
        symlink(&c.job, &link);
        let at = |p: &Path| Location::parse(&p.to_string_lossy()).unwrap();
        let (root, scope) = (at(&ck), at(&link));
        let e = plan_at(
            &root,
            &scope,
            None,
            &policy(1),
            &rebase(&c.root, &c.generated),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("not a job directory listed under"),
            "{e}"
        );
    }

    /// Runs `hook` once, right after the first batch of deletions.
    struct AfterFirstDelete<S> {
        inner: S,
        hook: std::sync::Mutex<Option<Box<dyn FnOnce() + Send>>>,
    }

    impl<S: std::fmt::Debug> std::fmt::Debug for AfterFirstDelete<S> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.inner.fmt(f)
        }
    }

    impl<S: Storage> Storage for AfterFirstDelete<S> {
        fn name(&self) -> &'static str {
            self.inner.name()
        }
        fn stat<'a>(
            &'a self,
            l: &'a Location,
        ) -> storage::BoxFuture<'a, Result<Option<Entry>, storage::Error>> {
            self.inner.stat(l)
        }
        fn read<'a>(
            &'a self,
            l: &'a Location,
        ) -> storage::BoxFuture<'a, Result<Vec<u8>, storage::Error>> {
            self.inner.read(l)
        }
        fn read_range<'a>(
            &'a self,
            l: &'a Location,
            o: u64,
            n: u64,
        ) -> storage::BoxFuture<'a, Result<Vec<u8>, storage::Error>> {
            self.inner.read_range(l, o, n)
        }
        fn list<'a>(
            &'a self,
            d: &'a Location,
            r: bool,
        ) -> storage::BoxStream<'a, Result<Entry, storage::Error>> {
            self.inner.list(d, r)
        }
        fn delete_files<'a>(
            &'a self,
            f: &'a [Location],
        ) -> storage::BoxFuture<'a, Vec<Result<(), storage::Error>>> {
            Box::pin(async move {
                let r = self.inner.delete_files(f).await;
                let hook = self.hook.lock().unwrap().take();
                if let Some(h) = hook {
                    h();
                }
                r
            })
        }
        fn remove_dir_if_empty<'a>(
            &'a self,
            d: &'a Location,
        ) -> storage::BoxFuture<'a, Result<bool, storage::Error>> {
            self.inner.remove_dir_if_empty(d)
        }
        fn real_location<'a>(
            &'a self,
            l: &'a Location,
        ) -> storage::BoxFuture<'a, Result<Option<Location>, storage::Error>> {
            self.inner.real_location(l)
        }
    }

    #[test]
    fn a_checkpoint_completed_while_deleting_keeps_what_it_references() {
        completed_while_deleting(false);
    }

    /// The same, with the new `_metadata` caught half-written (Flink still
    /// writing it): it is read again until it parses.
    #[test]
    fn a_checkpoint_caught_half_written_is_read_again() {
        completed_while_deleting(true);
    }

    fn completed_while_deleting(half_written: bool) {
        let c = case("rocksdb-incremental");
        let mut p = policy(1);
        p.stopped = true;
        let (plan, file) = c.plan(&p);
        // chk-5's shared files that chk-6 does not use are candidates.
        let chk5 = oracle_files(&c.source(), &c.root, &c.job.join("chk-5"), &c.generated);
        let shared5: BTreeSet<String> = chk5
            .into_iter()
            .filter(|f| f.contains("/shared/"))
            .collect();
        let planned = planned(&plan);
        let at_risk: Vec<&String> = shared5.iter().filter(|f| planned.contains(*f)).collect();
        assert!(!at_risk.is_empty(), "the fixture must have such files");
        // After the first batch (the _metadata files), a new checkpoint
        // completes that references chk-5's shared files again.
        let metadata5 = std::fs::read(c.job.join("chk-5/_metadata")).unwrap();
        let chk7 = c.job.join("chk-7");
        let storage = AfterFirstDelete {
            inner: local(),
            hook: std::sync::Mutex::new(Some(Box::new(move || {
                std::fs::create_dir_all(&chk7).unwrap();
                if half_written {
                    std::fs::write(chk7.join("_metadata"), &metadata5[..100]).unwrap();
                    std::thread::spawn(move || {
                        std::thread::sleep(std::time::Duration::from_millis(400));
                        std::fs::write(chk7.join("_metadata"), metadata5).unwrap();
                    });
                } else {
                    std::fs::write(chk7.join("_metadata"), metadata5).unwrap();
                }
            }))),
        };
        let mut v = c.revalidate(&storage, &file).unwrap();
        v.watch.interval = std::time::Duration::ZERO;
        let (a, _) = run_apply(&storage, &v);
        assert_eq!(a.snapshots_completed, 1);
        for f in &at_risk {
            assert!(Path::new(f.as_str()).is_file(), "{f} deleted");
        }
        assert!(
            a.skipped.iter().filter(|(_, why)| why == COMPLETED).count() >= at_risk.len(),
            "{:?}",
            a.skipped
        );
        assert!(c.missing("chk-6").is_empty());
    }

    #[test]
    fn a_rebase_one_level_off_is_refused() {
        // The user copied checkpoints/ (not the scenario directory) and maps
        // the scenario's recorded root onto it: every reference lands one
        // level off, under the root, where nothing is.
        let c = case("rocksdb-incremental");
        let ri = c._tmp.path().join("ri");
        std::fs::rename(c.root.join("checkpoints"), &ri).unwrap();
        let root = Location::parse(&ri.to_string_lossy()).unwrap();
        let wrong = Rebase::parse(&[format!("file:{}={}", c.generated, ri.display())]).unwrap();
        let mut p = policy(1);
        p.stopped = true;
        let plan_with = |rebase: &Rebase| plan_at(&root, &root, None, &p, rebase);
        let e = plan_with(&wrong).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::MissingReferences { .. }), "{msg}");
        let right = format!(
            "--rebase file://{}/checkpoints={}",
            c.generated,
            ri.display()
        );
        assert!(msg.contains(&right), "{msg}");
        assert!(msg.contains("/shared/"), "{msg}");
        // With the rebase it names, the plan is the usual one.
        let fixed =
            Rebase::parse(&[format!("file:{}/checkpoints={}", c.generated, ri.display())]).unwrap();
        let plan = plan_with(&fixed).unwrap();
        let usual = case("rocksdb-incremental");
        let ck = Location::parse(&usual.root.join("checkpoints").to_string_lossy()).unwrap();
        let usual_plan =
            plan_at(&ck, &ck, None, &p, &rebase(&usual.root, &usual.generated)).unwrap();
        assert_eq!(plan.candidate_files(), usual_plan.candidate_files());
    }

    #[test]
    fn keeps_and_names_that_match_nothing_are_errors() {
        let c = case("rocksdb-incremental");
        let at = |p: &Path| Location::parse(&p.to_string_lossy()).unwrap();
        let mut p = policy(1);
        p.keep = vec![at(&c.job.join("chk-111"))];
        let e = run_on(&local(), &c.root, &c.generated, &p).unwrap_err();
        assert!(e.to_string().starts_with("--keep "), "{e}");
        let mut p = policy(1);
        p.include_savepoints
            .insert("savepoint-000000-000000000000".into());
        let e = run_on(&local(), &c.root, &c.generated, &p).unwrap_err();
        assert!(e.to_string().starts_with("--include-savepoint "), "{e}");
        let mut p = policy(1);
        p.drop_jobs
            .insert("0123456789abcdef0123456789abcdef".into());
        let e = run_on(&local(), &c.root, &c.generated, &p).unwrap_err();
        assert!(e.to_string().starts_with("--drop-job "), "{e}");
    }

    #[test]
    fn a_keep_outside_the_roots_is_read_and_protects_its_files() {
        let c = case("rocksdb-incremental");
        // chk-5, copied out of the root (its shared/ references are absolute).
        let elsewhere = c
            ._tmp
            .path()
            .join("elsewhere")
            .join(c.job.file_name().unwrap());
        crate::analysis::cleanup::tests::copy(&c.job.join("chk-5"), &elsewhere.join("chk-5"));
        let shared5: Vec<String> =
            oracle_files(&c.source(), &c.root, &c.job.join("chk-5"), &c.generated)
                .into_iter()
                .filter(|f| f.contains("/shared/"))
                .collect();
        let mut p = policy(1);
        p.stopped = true;
        let without = planned(&c.plan(&p).0);
        assert!(shared5.iter().any(|f| without.contains(f)));
        p.keep = vec![Location::parse(&elsewhere.join("chk-5").to_string_lossy()).unwrap()];
        let (plan, file) = c.plan(&p);
        let with = planned(&plan);
        let v = c.revalidate(&local(), &file).unwrap();
        let (a, _) = run_apply(&local(), &v);
        assert!(a.failed.is_empty());
        assert!(a.deleted_files > 0);
        assert!(shared5.iter().all(|f| !with.contains(f)));
        assert!(shared5.iter().all(|f| Path::new(f).is_file()));
    }

    #[test]
    fn a_savepoints_root_containing_the_checkpoints_root_is_counted_once() {
        let c = case("rocksdb-incremental");
        // The savepoint directories beside checkpoints/, in one root.
        let sp_name = std::fs::read_dir(c.root.join("savepoints"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .file_name()
            .into_string()
            .unwrap();
        std::fs::rename(
            c.root.join("savepoints").join(&sp_name),
            c.root.join(&sp_name),
        )
        .unwrap();
        let ck = Location::parse(&c.root.join("checkpoints").to_string_lossy()).unwrap();
        let all = Location::parse(&c.root.to_string_lossy()).unwrap();
        let mut p = policy(1);
        p.include_savepoints.insert(sp_name.clone());
        let rb = rebase(&c.root, &c.generated);
        let plan = plan_at(&ck, &ck, Some(&all), &p, &rb).unwrap();
        let files = planned(&plan);
        assert_eq!(
            plan.candidate_files() as usize,
            files.len(),
            "counted twice"
        );
        assert!(files.iter().any(|f| f.contains(&sp_name)));
        let keys: BTreeSet<String> = plan.candidates.iter().map(|x| x.path.canonical()).collect();
        assert_eq!(keys.len(), plan.candidates.len());
        // Applying it: nothing "changed since planning", and a second plan
        // finds nothing more in those places.
        let file = PlanFile::new(plan, &p, &[]);
        let v = rt()
            .block_on(revalidate(
                &local(),
                &file,
                file.candidates.clone(),
                &rb,
                4,
                |_, _| {},
            ))
            .unwrap();
        assert!(v.dropped.is_empty(), "{:?}", v.dropped);
        let (a, _) = run_apply(&local(), &v);
        assert!(a.failed.is_empty());
        assert_eq!(a.deleted_files as usize, files.len());
        assert!(c.missing("chk-6").is_empty());
    }
}
