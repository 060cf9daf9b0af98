//! Planning a cleanup: which files under a checkpoints root no retained
//! snapshot needs.
//!
//! Two listings, both streaming: the first ([`layout::scan`]) folds the root
//! into jobs and checkpoints (memory grows with checkpoints, not files) so the
//! keep set can be decided and the kept snapshots' `_metadata` read; their
//! file references form the reference set. The second walks every file once
//! and classifies it. Candidates are collapsed to whole `chk-N/` and job
//! directories where nothing inside is kept, so a plan over millions of
//! orphaned files stays small; the apply step re-lists those directories.
//!
//! Anything doubtful aborts the whole plan: a kept `_metadata` that cannot be
//! read, a failed or empty listing, a job that keeps live files in the
//! checkpoint directory (ForSt primary dir) unless the job is stated stopped.
//!
//! The module family: [`keep`] decides what each job keeps and reads the
//! kept snapshots, [`classify`] folds the file listing into candidates,
//! [`plan_file`] is the JSON plan and the rules for trusting one again,
//! [`revalidate`] checks a plan against storage as it is now and [`apply`]
//! deletes what is left, or [`manifest`] lists it for the store's own batch
//! service.

pub mod apply;
pub mod candidates;
mod classify;
mod keep;
pub mod manifest;
pub mod plan_file;
pub mod refset;
pub mod resume;
pub mod revalidate;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::layout::{self, Scan};
use super::snapshot::Rebase;
use crate::analysis::inventory::{self, Inventory};
use crate::storage::{self, Entry, Location, Storage};
pub use candidates::{Candidates, DirTotals};
use classify::Classifier;
pub(crate) use keep::check_recorded_locations;
use keep::*;
pub use plan_file::{PLAN_FORMAT, PlanFile, PolicyRecord, Totals};
use refset::RefSet;

/// What to keep besides what is referenced.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Completed checkpoints kept per job (at least 1: the newest is always kept).
    pub keep_last: usize,
    /// Files younger than this are kept.
    pub min_age: Duration,
    /// Snapshot directories always kept (`chk-N/`, `savepoint-…/`).
    pub keep: Vec<Location>,
    /// Savepoint directory names that may be deleted (all others are kept).
    pub include_savepoints: BTreeSet<String>,
    /// Job directory names whose snapshots are no longer kept (the job is gone).
    pub drop_jobs: BTreeSet<String>,
    /// The user states no job under the root is running: `taskowned/` orphans
    /// become candidates and ForSt primary directories are allowed.
    pub stopped: bool,
    /// "Now", for ages.
    pub now: jiff::Timestamp,
}

/// Why something is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepReason {
    /// Among the newest `keep_last` completed checkpoints of its job.
    Retained,
    /// A `chk-N/` without (complete) `_metadata` newer than the newest completed one.
    InProgress,
    /// Named by `--keep` / the profile's `retention.keep`.
    Explicit,
    /// A savepoint not named by `--include-savepoint`.
    Savepoint,
    /// A kept snapshot references it.
    Referenced,
    /// Younger than the minimum age.
    TooYoung,
    /// In `taskowned/` while the job may still run.
    TaskOwnedLive,
    /// Written after the job's newest completed checkpoint: it may belong to
    /// one still being taken (kept unless the job is stated stopped).
    AfterNewest,
    /// Not part of Flink's layout (never touched).
    Unknown,
    /// A symbolic link, FIFO, socket or device: never followed, read or
    /// deleted.
    Special,
}

/// Why something may be deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A completed checkpoint beyond the retention.
    SubsumedCheckpoint,
    /// A `chk-N/` without `_metadata` older than the newest completed one.
    AbandonedCheckpoint,
    /// A file in `shared/` no kept snapshot references.
    OrphanShared,
    /// A file in `taskowned/` no kept snapshot references (job stated stopped).
    OrphanTaskowned,
    /// Everything of a job named by `--drop-job` that nothing kept references.
    DroppedJob,
    /// A savepoint named by `--include-savepoint`.
    IncludedSavepoint,
}

impl Reason {
    /// Human text.
    pub fn label(self) -> &'static str {
        match self {
            Reason::SubsumedCheckpoint => "checkpoint beyond retention",
            Reason::AbandonedCheckpoint => "abandoned checkpoint (no _metadata)",
            Reason::OrphanShared => "unreferenced shared/ file",
            Reason::OrphanTaskowned => "unreferenced taskowned/ file",
            Reason::DroppedJob => "dropped job",
            Reason::IncludedSavepoint => "included savepoint",
        }
    }
}

/// Something to delete: one file, or a directory with everything in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Candidate {
    /// The file or directory.
    pub path: Location,
    /// A directory (delete every file under it, then the directory).
    pub is_dir: bool,
    /// Why.
    pub reason: Reason,
    /// The job directory it belongs to.
    pub job: Option<String>,
    /// Files (1 for a file).
    pub files: u64,
    /// Bytes.
    pub bytes: u64,
    /// Newest modification time of its files (checked again before deleting).
    pub newest: Option<jiff::Timestamp>,
    /// For a checkpoint directory: its `_metadata`, deleted first so a
    /// half-deleted checkpoint never looks restorable.
    pub metadata: Option<Location>,
    /// A directory an earlier, interrupted run of this plan deleted part
    /// of: up to `files` files and `bytes` bytes are expected, not exactly
    /// that many (a batch may have gone before it was logged).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resumed: bool,
}

/// Something kept, grouped by directory and reason.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Kept {
    /// The directory (or snapshot directory).
    pub path: Location,
    /// Why.
    pub reason: KeepReason,
    /// Files.
    pub files: u64,
    /// Bytes.
    pub bytes: u64,
}

/// Per-job totals.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JobTotals {
    /// Candidate files.
    pub candidate_files: u64,
    /// Candidate bytes.
    pub candidate_bytes: u64,
    /// Kept files.
    pub kept_files: u64,
    /// Kept bytes.
    pub kept_bytes: u64,
    /// Checkpoints kept (ids).
    pub kept_checkpoints: Vec<u64>,
}

/// A cleanup plan.
#[derive(Debug, Serialize)]
pub struct Plan {
    /// The checkpoints root the references were read from.
    pub root: Location,
    /// Where candidates may be (the root or one job directory).
    pub scope: Location,
    /// Savepoints root, if scanned.
    pub savepoints: Option<Location>,
    /// Candidates, sorted by path (spilled to disk past a limit).
    pub candidates: Candidates,
    /// Kept groups, sorted by path.
    pub kept: Vec<Kept>,
    /// Per job directory.
    pub jobs: BTreeMap<String, JobTotals>,
    /// Snapshots whose references were read.
    pub snapshots_read: usize,
    /// Distinct files those snapshots reference.
    pub referenced_files: usize,
    /// Files listed.
    pub files_listed: u64,
    /// The kept snapshots whose references were read, with their
    /// `_metadata`'s size and time: applying re-reads any snapshot not among
    /// them (or changed since).
    pub read: Vec<ReadSnapshot>,
    /// The inventory report the files came from (instead of a listing).
    pub inventory: Option<inventory::Record>,
    /// Its row counts.
    pub inventory_rows: Option<inventory::Counts>,
}

/// A snapshot whose references a plan was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadSnapshot {
    /// The snapshot directory.
    pub path: Location,
    /// Size of its `_metadata`.
    pub metadata_bytes: u64,
    /// Modification time of its `_metadata`.
    pub metadata_modified: Option<jiff::Timestamp>,
}

impl ReadSnapshot {
    fn of(dir: &Location, metadata: Option<&Entry>) -> Self {
        ReadSnapshot {
            path: dir.clone(),
            metadata_bytes: metadata.map_or(0, |m| m.size),
            metadata_modified: metadata.and_then(|m| m.modified),
        }
    }

    /// The same snapshot with the same `_metadata` (size and time).
    pub fn unchanged(&self, metadata: &Entry) -> bool {
        self.metadata_bytes == metadata.size && self.metadata_modified == metadata.modified
    }
}

impl Plan {
    /// Total candidate bytes.
    pub fn candidate_bytes(&self) -> u64 {
        self.candidates.bytes()
    }

    /// Total candidate files.
    pub fn candidate_files(&self) -> u64 {
        self.candidates.files()
    }
}

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Listing or reading failed.
    #[error(transparent)]
    Storage(#[from] storage::Error),
    /// Candidates could not be spilled to disk or read back.
    #[error(
        "spilling candidates to disk (set {} to a directory with room)",
        crate::spill::SPILL_DIR_ENV
    )]
    Spill(#[from] crate::spill::Error),
    /// A kept snapshot's `_metadata` cannot be read: what it references is unknown.
    #[error(
        "{location}: cannot read this kept snapshot's metadata ({reason}); what it references is unknown, so nothing is planned. Repair or remove it first"
    )]
    UnreadableMetadata {
        /// The `_metadata`.
        location: String,
        /// Why.
        reason: String,
    },
    /// The listing found nothing.
    #[error(
        "{0}: the listing is empty; refusing to plan (wrong path, missing permissions, or an eventual-consistency glitch)"
    )]
    EmptyListing(String),
    /// The scope lies outside the root.
    #[error("{scope} is not under the checkpoints root {root}")]
    OutsideRoot {
        /// Scope.
        scope: String,
        /// Root.
        root: String,
    },
    /// A job keeps live files in the checkpoint directory.
    #[error(
        "{0}: looks like a ForSt primary (working) directory inside the checkpoint directory; its files are live while the job runs. Stop the job and pass --stopped to plan anyway"
    )]
    LiveWorkingDir(String),
    /// A listing changed between the two passes in a way that matters.
    #[error("{0}")]
    Inconsistent(String),
    /// A kept snapshot records a file of a job under this root at another
    /// location: the tree was moved or is reached through another path.
    #[error(
        "{reference}: a kept snapshot records this file of job {job} at a location outside {root}, where that job's directory is; the tree was moved or is reached through another path or URI, so its references cannot be matched with the files listed. Map the recorded paths: --rebase {recorded}={root}"
    )]
    RecordedElsewhere {
        /// The reference as recorded (after any rebase).
        reference: String,
        /// The job.
        job: String,
        /// The root listed.
        root: String,
        /// The recorded location of the root.
        recorded: String,
    },
    /// A kept snapshot references files under the root that the listing
    /// does not contain: a `--rebase` that maps to the wrong level, or files
    /// lost. Deleting would treat the files that are there as unreferenced.
    #[error(
        "{count} file(s) that kept snapshots reference are not where they are recorded under {root}, e.g. {example} (needed by {snapshot}); {hint}. Nothing is planned"
    )]
    MissingReferences {
        /// How many.
        count: usize,
        /// One of them.
        example: String,
        /// A kept snapshot that references it.
        snapshot: String,
        /// The root.
        root: String,
        /// What to do.
        hint: String,
    },
    /// A `--keep`, `--include-savepoint` or `--drop-job` that names nothing.
    #[error("{flag} {name}: {why}")]
    NoSuch {
        /// The option.
        flag: &'static str,
        /// What it named.
        name: String,
        /// What was looked for.
        why: String,
    },
    /// The inventory report cannot be used.
    #[error(transparent)]
    Inventory(#[from] inventory::Error),
    /// Planning from an inventory read kept snapshots that reference no
    /// file at all while unreferenced `shared/` files would go: the
    /// reference set is suspect.
    #[error(
        "{0}: no kept snapshot references any file, yet {1} unreferenced shared/ file(s) would be deleted; an empty reference set usually means the snapshots were not found or not read, so nothing is planned. Plan with a live listing (without --inventory) to check"
    )]
    EmptyReferences(String, u64),
    /// A job named by --drop-job is still being written.
    #[error(
        "{job}: --drop-job, but {file} was written {age} ago (within --min-age): is the job still running? Stop it first"
    )]
    DroppedJobLive {
        /// The job.
        job: String,
        /// A young file.
        file: String,
        /// Its age.
        age: String,
    },
}

/// Lists `dir` as [`Storage::list`] does, ending quietly where the listing
/// finds the directory gone (NotFound): a directory deleted meanwhile has no
/// files, which is not an error here.
pub(super) fn listing<'a>(
    storage: &'a dyn Storage,
    dir: &'a Location,
    recursive: bool,
) -> impl futures_util::Stream<Item = Result<Entry, storage::Error>> + 'a {
    storage
        .list(dir, recursive)
        .take_while(|r| std::future::ready(!matches!(r, Err(e) if e.is_not_found())))
}

/// Where a plan looks.
#[derive(Debug, Clone, Copy)]
pub struct Roots<'a> {
    /// The checkpoints root (references are read from every job under it).
    pub checkpoints: &'a Location,
    /// Where candidates may be: the root or one job directory under it.
    pub scope: &'a Location,
    /// The savepoints root, if any (its savepoints are kept and read).
    pub savepoints: Option<&'a Location>,
}

/// Where the files a plan classifies come from.
#[derive(Clone, Debug)]
pub enum Files<'a> {
    /// A live listing of the scope.
    Live,
    /// An inventory report (read through `storage`): only the job and
    /// checkpoint directory levels are listed live.
    Inventory {
        /// The report, opened and checked.
        inventory: &'a Inventory,
        /// Where it is read from.
        storage: Arc<dyn Storage>,
    },
}

/// Builds a plan. `roots.checkpoints` is the checkpoints root; `scope` the root itself or
/// one job directory under it (references are read from the whole root
/// either way: another job may use this one's files). `rebase` maps recorded
/// paths to where the files are now, as for `deps`.
pub async fn plan(
    storage: &dyn Storage,
    roots: Roots<'_>,
    policy: &Policy,
    rebase: &Rebase,
    concurrency: usize,
    progress: impl FnMut(&str, u64),
) -> Result<Plan, Error> {
    plan_from(
        storage,
        roots,
        policy,
        rebase,
        concurrency,
        Files::Live,
        progress,
    )
    .await
}

/// [`plan`] with the files from `files`: a live listing, or an inventory
/// report. With an inventory the policy's `now` should be the inventory's
/// time (files are only as old as the report says).
pub async fn plan_from(
    storage: &dyn Storage,
    roots: Roots<'_>,
    policy: &Policy,
    rebase: &Rebase,
    concurrency: usize,
    files: Files<'_>,
    mut progress: impl FnMut(&str, u64),
) -> Result<Plan, Error> {
    let from_inventory = matches!(files, Files::Inventory { .. });
    let Roots {
        checkpoints: root,
        scope,
        savepoints,
    } = roots;
    // The second pass sees every file under the root when the scope is the
    // root: the first then lists only the job and checkpoint levels, and a
    // `_metadata` outside Flink's layout is found in the second. Otherwise
    // (one job) the first lists the whole root, for those `_metadata`
    // files elsewhere under it. From an inventory the rows of the whole
    // root are read either way.
    let whole_root = scope.canonical() == root.canonical();
    let shallow = from_inventory || whole_root;
    if let Files::Inventory { inventory, .. } = &files {
        inventory.check_store(root, rebase)?;
    }
    let Decided {
        scan,
        mut d,
        mut to_read,
        included,
        outside_keeps,
        mut behind_links,
    } = decide(
        storage,
        roots,
        policy,
        concurrency,
        (shallow, from_inventory),
        &mut progress,
    )
    .await?;
    let job_names: BTreeSet<&str> = scan.jobs.keys().map(String::as_str).collect();
    // Each reference is checked as read: one of a job under this root
    // recorded elsewhere means the tree was moved (a kept snapshot outside
    // the root has its own files where it is).
    let check = |refs: &[String]| {
        let recorded = refs
            .iter()
            .filter(|r| !outside_keeps.iter().any(|k| r.starts_with(k.as_str())));
        check_recorded_locations(recorded, root, &job_names)
    };
    // Kept snapshots' references, read concurrently; any failure aborts.
    let mut reads = futures_util::stream::iter(to_read.iter())
        .map(|r| read_listed_refs(storage, r, rebase))
        .buffer_unordered(concurrency.max(1));
    while let Some(r) = reads.next().await {
        let refs = r?;
        check(&refs)?;
        d.refs.extend(refs);
        d.snapshots_read += 1;
        progress("reading kept snapshots", d.snapshots_read as u64);
    }
    drop(reads);

    // Pass 2: every file in scope (and included savepoints outside it).
    // After a shallow first pass, a `_metadata` outside Flink's layout (a
    // backup copy of a checkpoint) is only seen here: it is read, and the
    // pass run again with its references kept.
    let mut strays_read = false;
    let mut inventory_rows = None;
    let (mut c, mut listed) = loop {
        d.refs.merge();
        let mut c = Classifier::new(root, policy, &d);
        c.whole_dirs = !from_inventory;
        let mut listed = 0u64;
        let mut strays: Vec<Entry> = Vec::new();
        match &files {
            Files::Live => {
                let mut stream = storage.list(scope, true);
                while let Some(e) = stream.next().await {
                    let e = e?;
                    if e.is_dir {
                        continue;
                    }
                    c.add(&e);
                    if e.special {
                        behind_links.insert(e.location.canonical());
                    } else if shallow && !strays_read && d.is_stray(&e) {
                        strays.push(e.clone());
                    }
                    listed += 1;
                    if listed.is_multiple_of(1000) {
                        progress("classifying", listed);
                    }
                }
            }
            Files::Inventory {
                inventory,
                storage: shared,
            } => {
                // Rows of the whole root: a `_metadata` outside the scope
                // may need files in it.
                let mut rx = inventory.rows(shared.clone(), root, root, rebase);
                let mut done = None;
                let mut rows_read = 0u64;
                while let Some(item) = rx.recv().await {
                    match item? {
                        inventory::Item::Batch(batch) => {
                            for e in &batch {
                                if e.special {
                                    behind_links.insert(e.location.canonical());
                                } else if !strays_read && d.is_stray(e) {
                                    strays.push(e.clone());
                                }
                                if whole_root || e.location.relative_to(scope).is_some() {
                                    c.add(e);
                                    listed += 1;
                                }
                            }
                            progress("reading inventory rows", rows_read.max(listed));
                        }
                        inventory::Item::Read(n) => {
                            rows_read += n;
                            progress("reading inventory rows", rows_read);
                        }
                        inventory::Item::Done(counts) => done = Some(counts),
                    }
                }
                inventory_rows = Some(done.ok_or_else(|| {
                    Error::Inconsistent(format!(
                        "{}: the inventory reader stopped before the end",
                        inventory.source
                    ))
                })?);
            }
        }
        // Those still there (a checkpoint Flink deleted since the report
        // was taken is among them, and protects nothing any more).
        let mut read = Vec::new();
        for m in &strays {
            if let Some(now) = storage.stat(&m.location).await?
                && now.is_file()
            {
                read.push((
                    m.location.canonical(),
                    ReadSnapshot::of(&m.location.parent(), Some(&now)),
                ));
            }
        }
        if read.is_empty() {
            break (c, listed);
        }
        drop(c);
        strays_read = true;
        let read: Vec<ReadSnapshot> = read
            .into_iter()
            .map(|(metadata, r)| {
                d.refs.insert(&metadata);
                r
            })
            .collect();
        for r in &read {
            let refs = read_refs(storage, &r.path, rebase).await?;
            check(&refs)?;
            d.refs.extend(refs);
            d.snapshots_read += 1;
        }
        to_read.extend(read);
    };
    if listed == 0 {
        return Err(Error::EmptyListing(scope.to_string()));
    }
    if let Some(dir) = &c.working_dir
        && !policy.stopped
    {
        return Err(Error::LiveWorkingDir(dir.clone()));
    }
    if let Some((job, file, modified)) = c.live_dropped.take() {
        let age = modified.and_then(|m| policy.now.since(m).ok()).map_or_else(
            || "an unknown time".to_owned(),
            |d| format!("{:#}", d.round(jiff::Unit::Second).unwrap_or(d)),
        );
        return Err(Error::DroppedJobLive { job, file, age });
    }
    for sp in included.iter().filter(|sp| sp.relative_to(scope).is_none()) {
        let mut stream = storage.list(sp, true);
        while let Some(e) = stream.next().await {
            let e = e?;
            if !e.is_dir {
                c.add(&e);
                listed += 1;
            }
        }
    }
    // Every referenced file under the root must have been listed: one that
    // is not means the references point elsewhere than the files (a rebase
    // one level off) or the files are lost, and then the files that are
    // there would all look unreferenced.
    let missing = missing_references(
        storage,
        (root, scope),
        rebase,
        (&d.refs, &c.found),
        &to_read,
        !from_inventory,
        concurrency,
    )
    .await?
    .into_iter()
    // Behind a link: not listed, never a candidate, read by Flink.
    .filter(|r| !behind_a_link(r, &behind_links))
    .collect::<Vec<_>>();
    if !missing.is_empty() {
        check_missing(storage, root, rebase, &to_read, missing, concurrency).await?;
    }
    let mut plan = c.finish()?;
    if from_inventory && d.refs.is_empty() && d.snapshots_read > 0 {
        let orphans = plan
            .candidates
            .dirs()
            .filter(|t| t.reason == Reason::OrphanShared)
            .map(|t| t.files)
            .sum::<u64>();
        if orphans > 0 {
            return Err(Error::EmptyReferences(root.to_string(), orphans));
        }
    }
    if let Files::Inventory { inventory, .. } = &files {
        plan.inventory = Some(inventory.record());
        plan.inventory_rows = inventory_rows;
    }
    plan.root = root.clone();
    plan.scope = scope.clone();
    plan.savepoints = savepoints.cloned();
    plan.snapshots_read = d.snapshots_read;
    plan.referenced_files = d.refs.len();
    plan.files_listed = listed;
    to_read.sort_by(|a, b| a.path.cmp(&b.path));
    plan.read = to_read;
    for j in scan.jobs.values() {
        let ids: Vec<u64> = j
            .checkpoints
            .values()
            .filter(|c| {
                c.location
                    .as_ref()
                    .is_some_and(|l| d.kept_dirs.contains_key(&canonical_dir(l)))
            })
            .filter_map(|c| c.id)
            .collect();
        if let Some(t) = plan.jobs.get_mut(&j.name) {
            t.kept_checkpoints = ids;
        }
    }
    Ok(plan)
}

/// The first pass: the layout, what each job keeps and which snapshots to
/// read (no file classified yet).
struct Decided {
    scan: Scan,
    d: Decisions,
    to_read: Vec<ReadSnapshot>,
    /// Included savepoints.
    included: Vec<Location>,
    /// `--keep` snapshots outside the root (canonical directories).
    outside_keeps: Vec<String>,
    /// Special entries (canonical): never followed, read through only.
    behind_links: HashSet<String>,
}

async fn decide(
    storage: &dyn Storage,
    roots: Roots<'_>,
    policy: &Policy,
    concurrency: usize,
    (shallow, from_inventory): (bool, bool),
    progress: &mut impl FnMut(&str, u64),
) -> Result<Decided, Error> {
    let Roots {
        checkpoints: root,
        scope,
        savepoints,
    } = roots;
    if scope.relative_to(root).is_none() {
        return Err(Error::OutsideRoot {
            scope: scope.to_string(),
            root: root.to_string(),
        });
    }
    // Pass 1: layout.
    let scan: Scan = if shallow {
        progress("listing jobs and checkpoints", 0);
        layout::scan_shallow(storage, root, concurrency).await?
    } else {
        layout::scan(storage, root, |n| progress("listing", n)).await?
    };
    // After a shallow listing, files deeper down are only counted by the
    // second pass (which fails on an empty scope).
    if scan.total.files == 0 && (!shallow || (from_inventory && scan.jobs.is_empty())) {
        return Err(Error::EmptyListing(root.to_string()));
    }
    if let Some(rel) = scope.relative_to(root).filter(|r| !r.is_empty())
        && !(scan.jobs.contains_key(rel))
    {
        return Err(Error::Inconsistent(format!(
            "{scope}: not a job directory listed under {root} (only a directory named by a job id is one, and a symbolic link is never followed); give the root or the real job directory"
        )));
    }
    // A savepoints root that is the checkpoints root is listed once.
    let sp_scan = match savepoints {
        Some(s) if s.canonical() != root.canonical() && from_inventory => {
            Some(layout::scan_shallow(storage, s, concurrency).await?)
        }
        Some(s) if s.canonical() != root.canonical() => {
            Some(layout::scan(storage, s, |n| progress("listing savepoints", n)).await?)
        }
        _ => None,
    };
    check_names(policy, &scan, sp_scan.as_ref())?;
    let explicit: BTreeSet<String> = policy.keep.iter().map(canonical_dir).collect();
    let mut d = Decisions {
        kept_dirs: BTreeMap::new(),
        candidate_dirs: BTreeMap::new(),
        refs: RefSet::new(&canonical_dir(root)),
        snapshots_read: 0,
        newest_metadata: BTreeMap::new(),
    };
    let mut to_read = Vec::new();
    for j in scan.jobs.values() {
        if let Some(t) = j
            .completed()
            .filter_map(|c| c.metadata.as_ref()?.modified)
            .max()
        {
            d.newest_metadata.insert(j.name.clone(), t);
        }
        to_read.extend(decide_job(
            j,
            policy,
            &explicit,
            &mut d.kept_dirs,
            &mut d.candidate_dirs,
        ));
    }
    // Savepoint directories, each once (one root may contain the other).
    let mut included: Vec<Location> = Vec::new();
    let mut seen_savepoints = BTreeSet::new();
    for s in sp_scan
        .iter()
        .flat_map(|s| s.savepoints.values())
        .chain(scan.savepoints.values())
    {
        let Some(loc) = &s.location else { continue };
        let key = canonical_dir(loc);
        if !seen_savepoints.insert(key.clone()) {
            continue;
        }
        // A candidate only where candidates may be: in scope, or in the
        // savepoints root.
        let deletable = loc.relative_to(scope).is_some()
            || savepoints.is_some_and(|s| loc.relative_to(s).is_some());
        if policy.include_savepoints.contains(&s.name) && !explicit.contains(&key) && deletable {
            d.candidate_dirs.insert(key, Reason::IncludedSavepoint);
            included.push(loc.clone());
        } else {
            d.kept_dirs.insert(key, KeepReason::Savepoint);
            if s.metadata.is_some() {
                to_read.push(ReadSnapshot::of(loc, s.metadata.as_ref()));
            }
        }
    }
    // --keep snapshots that are not among the directories listed: read
    // wherever they are (their references are protected), or an error.
    let mut outside_keeps: Vec<String> = Vec::new();
    for k in &policy.keep {
        let key = canonical_dir(k);
        if d.kept_dirs.contains_key(&key) {
            continue;
        }
        match storage.stat(&k.join("_metadata")).await? {
            Some(m) if m.is_file() => {
                if k.relative_to(root).is_none() {
                    outside_keeps.push(key.clone());
                }
                d.kept_dirs.insert(key, KeepReason::Explicit);
                to_read.push(ReadSnapshot::of(k, Some(&m)));
            }
            _ => {
                return Err(Error::NoSuch {
                    flag: "--keep",
                    name: k.to_string(),
                    why: "no such snapshot (no _metadata there, and no checkpoint directory of that name was listed)".to_owned(),
                });
            }
        }
    }
    // Snapshots Flink would read but the listing does not show as such:
    // behind a symbolic link (a linked job, chk-N, savepoint or _metadata;
    // read through it, never deleted through it) and regular `_metadata`
    // files outside the layout (a backup folder of copied checkpoints).
    // What they reference is kept, and so are those `_metadata` files.
    let mut behind_links: HashSet<String> = HashSet::new();
    let mut stray: Vec<String> = Vec::new();
    for (s, base) in std::iter::once((&scan, root)).chain(sp_scan.iter().zip(savepoints)) {
        // A savepoints root containing the checkpoints root: that part is
        // the checkpoints scan's.
        let other_root = |l: &Location| base != root && l.relative_to(root).is_some();
        for l in s.special.iter().filter(|l| !other_root(l)) {
            behind_links.insert(l.canonical());
            to_read.extend(linked_snapshots(storage, base, l, &scan, policy).await?);
        }
        for m in s.stray_metadata.iter().filter(|m| !other_root(&m.location)) {
            stray.push(m.location.canonical());
            to_read.push(ReadSnapshot::of(&m.location.parent(), Some(m)));
        }
    }
    d.refs.extend(stray);
    let mut seen_read = HashSet::new();
    to_read.retain(|r| seen_read.insert(canonical_dir(&r.path)));
    Ok(Decided {
        scan,
        d,
        to_read,
        included,
        outside_keeps,
        behind_links,
    })
}

/// What a cleanup under a policy keeps, decided from the job and checkpoint
/// directory levels only (no file classified): for exporting the reference
/// set to another engine.
#[derive(Debug, Clone)]
pub struct KeepSet {
    /// Kept snapshot directories (canonical, ending in `/`) and why.
    pub kept_dirs: Vec<(String, KeepReason)>,
    /// The kept snapshots whose references protect files (read them with
    /// [`snapshot_references`]).
    pub read: Vec<ReadSnapshot>,
    /// Special entries (symbolic links…) found at those levels (canonical):
    /// nothing behind them may be deleted.
    pub special: Vec<String>,
}

/// The [`KeepSet`] of `roots` under `policy`, listing only the job and
/// checkpoint directory levels (`shallow`) or the whole root. A `_metadata`
/// outside Flink's layout (a backup copy) is only found by a whole listing;
/// `safe-to-delete --apply-candidates` finds it among the rows it re-checks.
pub async fn keep_set(
    storage: &dyn Storage,
    roots: Roots<'_>,
    policy: &Policy,
    concurrency: usize,
    shallow: bool,
    mut progress: impl FnMut(&str, u64),
) -> Result<KeepSet, Error> {
    let decided = decide(
        storage,
        roots,
        policy,
        concurrency,
        (shallow, shallow),
        &mut progress,
    )
    .await?;
    let mut special: Vec<String> = decided.behind_links.into_iter().collect();
    special.sort();
    Ok(KeepSet {
        kept_dirs: decided.d.kept_dirs.into_iter().collect(),
        read: decided.to_read,
        special,
    })
}

/// The files the snapshot in `dir` references: canonical paths, after
/// `rebase`. Fails when its `_metadata` cannot be read or a path in it
/// cannot be located.
pub async fn snapshot_references(
    storage: &dyn Storage,
    dir: &Location,
    rebase: &Rebase,
) -> Result<Vec<String>, Error> {
    read_refs(storage, dir, rebase).await
}
