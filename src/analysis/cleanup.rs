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

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use super::deps;
use super::layout::{self, JobDir, Scan};
use super::snapshot::{self, Rebase};
use crate::storage::{self, Entry, Location, Storage};

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
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The checkpoints root the references were read from.
    pub root: Location,
    /// Where candidates may be (the root or one job directory).
    pub scope: Location,
    /// Savepoints root, if scanned.
    pub savepoints: Option<Location>,
    /// Candidates, sorted by path.
    pub candidates: Vec<Candidate>,
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

/// Identifies the JSON plan format (`--plan-out`, `--json`, `--apply`).
pub const PLAN_FORMAT: &str = "flink-chk-cleanup-plan/1";

/// A plan as written to JSON and read back to apply it: the plan, the policy
/// it was made under and the totals.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// What may be deleted.
    pub candidates: Vec<Candidate>,
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
            },
            policy: policy.record(rebase),
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

impl Plan {
    /// Total candidate bytes.
    pub fn candidate_bytes(&self) -> u64 {
        self.candidates
            .iter()
            .map(|c| c.bytes)
            .fold(0, u64::saturating_add)
    }

    /// Total candidate files.
    pub fn candidate_files(&self) -> u64 {
        self.candidates
            .iter()
            .map(|c| c.files)
            .fold(0, u64::saturating_add)
    }
}

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Listing or reading failed.
    #[error(transparent)]
    Storage(#[from] storage::Error),
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

/// Where snapshots and their decisions are.
struct Decisions {
    /// Kept snapshot directories (canonical) → reason.
    kept_dirs: BTreeMap<String, KeepReason>,
    /// Candidate checkpoint directories (canonical) → reason.
    candidate_dirs: BTreeMap<String, Reason>,
    /// Referenced files (canonical).
    refs: HashSet<String>,
    snapshots_read: usize,
    /// Per job: the time of its newest completed checkpoint's `_metadata`.
    newest_metadata: BTreeMap<String, jiff::Timestamp>,
}

/// Fails if a reference names a file of a job listed under `root`
/// (`…/<job>/shared|taskowned|chk-N/…`) at a location outside `root`: the
/// references would not match the listing and the job's files would look
/// unreferenced.
pub(crate) fn check_recorded_locations<'a>(
    refs: impl IntoIterator<Item = &'a String>,
    root: &Location,
    jobs: &BTreeSet<&str>,
) -> Result<(), Error> {
    let root_key = canonical_dir(root);
    for r in refs {
        if r.starts_with(&root_key) {
            continue;
        }
        let parts: Vec<&str> = r.split('/').collect();
        for w in parts.windows(2).enumerate() {
            let (i, [job, area]) = w else { continue };
            let flinkish =
                *area == "shared" || *area == "taskowned" || layout::checkpoint_id(area).is_some();
            if flinkish && jobs.contains(job) && i + 2 < parts.len() {
                return Err(Error::RecordedElsewhere {
                    reference: r.clone(),
                    job: (*job).to_owned(),
                    root: root.to_string(),
                    recorded: parts[..i].join("/"),
                });
            }
        }
    }
    Ok(())
}

pub(crate) fn canonical_dir(l: &Location) -> String {
    let mut s = l.canonical();
    if !s.ends_with('/') {
        s.push('/');
    }
    s
}

/// The snapshot directory of a canonical file path, if it is in one of `dirs`.
pub(crate) fn dir_of<'a, V>(
    dirs: &'a BTreeMap<String, V>,
    file: &str,
) -> Option<(&'a String, &'a V)> {
    use std::ops::Bound;
    dirs.range::<str, _>((Bound::Unbounded, Bound::Included(file)))
        .next_back()
        .filter(|(d, _)| file.starts_with(d.as_str()))
}

pub(crate) async fn read_refs(
    storage: &dyn Storage,
    dir: &Location,
    rebase: &Rebase,
    refs: &mut HashSet<String>,
) -> Result<(), Error> {
    let s = snapshot::load(storage, dir)
        .await
        .map_err(|e| Error::UnreadableMetadata {
            location: dir.join("_metadata").to_string(),
            reason: e.to_string(),
        })?;
    let d = deps::collect(&s, rebase);
    if let Some((path, e)) = d.unresolved.first() {
        return Err(Error::UnreadableMetadata {
            location: s.metadata_location.to_string(),
            reason: format!("cannot locate {path:?}: {e}"),
        });
    }
    refs.extend(d.files.iter().map(|f| f.location.canonical()));
    Ok(())
}

/// A job's newest completed checkpoint by id, and the one whose `_metadata`
/// was written last: they differ when a job redeployed from an older
/// snapshot restarted its ids below a stale higher chk-N. Both are kept.
pub(crate) fn newest(j: &JobDir) -> (Option<u64>, Option<u64>) {
    let by_id = j.completed().next_back().and_then(|c| c.id);
    let by_time = j
        .completed()
        .filter_map(|c| Some((c.metadata.as_ref()?.modified?, c.id?)))
        .max()
        .map(|(_, id)| id);
    (by_id, by_time)
}

/// The newest `keep_last` completed checkpoints of `j` (at least one),
/// newest first: the retention rule, in one place.
fn retained<'j>(j: &'j JobDir, policy: &Policy) -> impl Iterator<Item = &'j layout::CheckpointDir> {
    j.completed().rev().take(policy.keep_last.max(1))
}

fn decide_job(
    j: &JobDir,
    policy: &Policy,
    explicit: &BTreeSet<String>,
    kept: &mut BTreeMap<String, KeepReason>,
    candidates: &mut BTreeMap<String, Reason>,
) -> Vec<ReadSnapshot> {
    let dropped = policy.drop_jobs.contains(&j.name);
    let (newest_by_id, newest_by_time) = newest(j);
    let (newest_by_id, newest_by_time) = (
        newest_by_id.unwrap_or(0),
        newest_by_time.or(newest_by_id).unwrap_or(0),
    );
    let newest = newest_by_id.min(newest_by_time);
    let mut retained: BTreeSet<u64> = if dropped {
        BTreeSet::new()
    } else {
        retained(j, policy).filter_map(|c| c.id).collect()
    };
    if !dropped {
        retained.insert(newest_by_time);
    }
    let mut read = Vec::new();
    for c in j.checkpoints.values() {
        let (Some(id), Some(loc)) = (c.id, &c.location) else {
            continue;
        };
        let key = canonical_dir(loc);
        if explicit.contains(&key) {
            kept.insert(key, KeepReason::Explicit);
            if c.metadata.is_some() {
                read.push(ReadSnapshot::of(loc, c.metadata.as_ref()));
            }
        } else if retained.contains(&id) {
            kept.insert(key, KeepReason::Retained);
            read.push(ReadSnapshot::of(loc, c.metadata.as_ref()));
        } else if c.metadata.is_none() && id > newest && !dropped {
            // Newer than the newest completed checkpoint (by id or time).
            kept.insert(key, KeepReason::InProgress);
        } else if dropped {
            candidates.insert(key, Reason::DroppedJob);
        } else if c.metadata.is_none() {
            candidates.insert(key, Reason::AbandonedCheckpoint);
        } else {
            candidates.insert(key, Reason::SubsumedCheckpoint);
        }
    }
    read
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
    mut progress: impl FnMut(&str, u64),
) -> Result<Plan, Error> {
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
    let scan: Scan = layout::scan(storage, root, |n| progress("listing", n)).await?;
    if scan.total.files == 0 {
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
        refs: HashSet::new(),
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
    // Kept snapshots' references, read concurrently; any failure aborts.
    let mut reads = futures_util::stream::iter(to_read.iter())
        .map(|loc| async move {
            let mut refs = HashSet::new();
            read_refs(storage, &loc.path, rebase, &mut refs)
                .await
                .map(|()| refs)
        })
        .buffer_unordered(concurrency.max(1));
    while let Some(r) = reads.next().await {
        d.refs.extend(r?);
        d.snapshots_read += 1;
        progress("reading kept snapshots", d.snapshots_read as u64);
    }
    drop(reads);
    let job_names: BTreeSet<&str> = scan.jobs.keys().map(String::as_str).collect();
    // A kept snapshot outside the root has its own files where it is.
    let recorded = d
        .refs
        .iter()
        .filter(|r| !outside_keeps.iter().any(|k| r.starts_with(k.as_str())));
    check_recorded_locations(recorded, root, &job_names)?;

    // Pass 2: every file in scope (and included savepoints outside it).
    let mut c = Classifier::new(root, policy, &d);
    let mut listed = 0u64;
    let mut stream = storage.list(scope, true);
    while let Some(e) = stream.next().await {
        let e = e?;
        if e.is_dir {
            continue;
        }
        c.add(&e);
        listed += 1;
        if listed.is_multiple_of(1000) {
            progress("classifying", listed);
        }
    }
    drop(stream);
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
    let missing = missing_references(storage, root, scope, &d.refs, &c.found, concurrency)
        .await?
        .into_iter()
        // Behind a link: not listed, never a candidate, read by Flink.
        .filter(|r| !behind_a_link(r, &behind_links))
        .collect::<Vec<_>>();
    if !missing.is_empty() {
        check_missing(storage, root, rebase, &to_read, missing, concurrency).await?;
    }
    let mut plan = c.finish();
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

/// Whether `reference` lies behind one of the special entries `links`.
fn behind_a_link(reference: &str, links: &HashSet<String>) -> bool {
    let mut p = reference;
    while let Some((parent, _)) = p.rsplit_once('/') {
        if links.contains(parent) {
            return true;
        }
        p = parent;
    }
    false
}

/// The snapshots behind the special entry `link` under `base` that would be
/// kept if it were a plain directory: a linked job directory (its newest
/// `keep_last` completed checkpoints), a linked `chk-N/` (or its
/// `_metadata`) at or above the oldest retained checkpoint of its job, a
/// linked savepoint. Read through the link: reading is harmless, deleting
/// never goes there.
async fn linked_snapshots(
    storage: &dyn Storage,
    base: &Location,
    link: &Location,
    scan: &Scan,
    policy: &Policy,
) -> Result<Vec<ReadSnapshot>, Error> {
    let Some(rel) = link.relative_to(base) else {
        return Ok(Vec::new());
    };
    let parts: Vec<&str> = rel.split('/').collect();
    let dir = match parts.as_slice() {
        [job] if layout::is_job_id(job) && !policy.drop_jobs.contains(*job) => {
            let j = layout::scan_job(storage, link).await?;
            return Ok(retained(&j, policy)
                .filter_map(|c| Some(ReadSnapshot::of(c.location.as_ref()?, c.metadata.as_ref())))
                .collect());
        }
        [job, chk] | [job, chk, "_metadata"]
            if layout::is_job_id(job) && !policy.drop_jobs.contains(*job) =>
        {
            let Some(id) = layout::checkpoint_id(chk) else {
                return Ok(Vec::new());
            };
            let oldest_retained = scan
                .jobs
                .get(*job)
                .and_then(|j| retained(j, policy).filter_map(|c| c.id).min());
            if oldest_retained.is_some_and(|o| id < o) {
                return Ok(Vec::new());
            }
            base.join(&format!("{job}/{chk}"))
        }
        [sp] | [sp, "_metadata"] if layout::is_savepoint_dir(sp) => base.join(sp),
        _ => return Ok(Vec::new()),
    };
    Ok(match storage.stat(&dir.join("_metadata")).await? {
        Some(m) if m.is_file() => vec![ReadSnapshot::of(&dir, Some(&m))],
        _ => Vec::new(),
    })
}

/// `--include-savepoint` and `--drop-job` must name something listed.
fn check_names(policy: &Policy, scan: &Scan, sp_scan: Option<&Scan>) -> Result<(), Error> {
    for name in &policy.include_savepoints {
        let found = scan.savepoints.contains_key(name)
            || sp_scan.is_some_and(|s| s.savepoints.contains_key(name));
        if !found {
            return Err(Error::NoSuch {
                flag: "--include-savepoint",
                name: name.clone(),
                why: "no savepoint directory of that name under the savepoints or checkpoints root"
                    .to_owned(),
            });
        }
    }
    for job in &policy.drop_jobs {
        if !scan.jobs.contains_key(job) {
            return Err(Error::NoSuch {
                flag: "--drop-job",
                name: job.clone(),
                why: "no job directory of that id under the checkpoints root".to_owned(),
            });
        }
    }
    Ok(())
}

/// Referenced files under `root` that are not there: those under `scope`
/// that the classifying pass did not list, and those elsewhere under the
/// root that a stat does not find.
async fn missing_references(
    storage: &dyn Storage,
    root: &Location,
    scope: &Location,
    refs: &HashSet<String>,
    found: &HashSet<&str>,
    concurrency: usize,
) -> Result<Vec<String>, Error> {
    let (root_key, scope_key) = (canonical_dir(root), canonical_dir(scope));
    let mut missing: Vec<String> = Vec::new();
    let mut to_stat: Vec<&String> = Vec::new();
    for r in refs {
        if !r.starts_with(&root_key) || found.contains(r.as_str()) {
            continue;
        }
        if r.starts_with(&scope_key) {
            missing.push(r.clone());
        } else {
            to_stat.push(r);
        }
    }
    let mut stats = futures_util::stream::iter(to_stat)
        .map(|r| async move {
            let l = Location::parse(r)?;
            Ok::<_, storage::Error>((r, storage.stat(&l).await?))
        })
        .buffer_unordered(concurrency.max(1));
    while let Some(s) = stats.next().await {
        if let (r, None) = s? {
            missing.push(r.clone());
        }
    }
    missing.sort();
    Ok(missing)
}

/// Fails with [`Error::MissingReferences`] unless every kept snapshot that
/// references a missing file is itself gone (Flink subsumed it while the
/// plan was made: its successor's new files are newer than the newest
/// `_metadata` read and kept as such).
async fn check_missing(
    storage: &dyn Storage,
    root: &Location,
    rebase: &Rebase,
    read: &[ReadSnapshot],
    missing: Vec<String>,
    concurrency: usize,
) -> Result<(), Error> {
    // Each missing file with the first snapshot still there that needs it
    // (the kept snapshots are read again, concurrently: this path is taken
    // only when something is missing).
    let rereads = futures_util::stream::iter(read)
        .map(|r| async move {
            let still_there = storage
                .stat(&r.path.join("_metadata"))
                .await?
                .is_some_and(|m| r.unchanged(&m));
            if !still_there {
                return Ok::<_, Error>((r, HashSet::new()));
            }
            let mut refs = HashSet::new();
            read_refs(storage, &r.path, rebase, &mut refs).await?;
            Ok((r, refs))
        })
        .buffered(concurrency.max(1));
    let rereads: Vec<(&ReadSnapshot, HashSet<String>)> = rereads.try_collect().await?;
    let mut needed: Vec<(&String, &ReadSnapshot)> = Vec::new();
    let mut counted: HashSet<&str> = HashSet::new();
    for (r, refs) in &rereads {
        for m in &missing {
            if refs.contains(m.as_str()) && counted.insert(m.as_str()) {
                needed.push((m, *r));
            }
        }
    }
    let Some((example, snapshot)) = needed.first().copied() else {
        return Ok(());
    };
    let count = needed.len();
    let hint = match find_by_name(storage, root, example).await? {
        Some(actual) => match rebase_hint(example, &actual, rebase) {
            Some((from, to)) => format!(
                "a file of that name is at {actual}: the references are mapped to the wrong place. Map them with --rebase {from}={to}"
            ),
            None => format!("a file of that name is at {actual}"),
        },
        None => "no file of that name is under the root either: if the tree was moved, give the --rebase FROM=TO that maps the recorded paths to where the files are; otherwise these files are lost and that snapshot cannot be restored (delete it by hand or restore the files first)".to_owned(),
    };
    Err(Error::MissingReferences {
        count,
        example: example.clone(),
        snapshot: snapshot.path.to_string(),
        root: root.to_string(),
        hint,
    })
}

/// The first file under `root` with the same name as `reference`.
async fn find_by_name(
    storage: &dyn Storage,
    root: &Location,
    reference: &str,
) -> Result<Option<Location>, Error> {
    let name = reference.rsplit('/').next().unwrap_or_default();
    let mut stream = storage.list(root, true);
    while let Some(e) = stream.next().await {
        let e = e?;
        if e.is_file() && e.location.file_name() == name {
            return Ok(Some(e.location));
        }
    }
    Ok(None)
}

/// The `--rebase FROM=TO` (FROM as recorded in `_metadata`) that maps
/// `reference` (a recorded path after `rebase`) to `actual`: the two differ
/// in a prefix and share the rest.
fn rebase_hint(reference: &str, actual: &Location, rebase: &Rebase) -> Option<(String, String)> {
    let reference = Location::parse(reference).ok()?;
    let r: Vec<&str> = reference.path().split('/').collect();
    let a: Vec<&str> = actual.path().split('/').collect();
    let common = r
        .iter()
        .rev()
        .zip(a.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    if common == 0 || common >= r.len() || common >= a.len() {
        return None;
    }
    let prefix = reference.with_path(&r[..r.len() - common].join("/"));
    let to = actual.with_path(&a[..a.len() - common].join("/"));
    // Back to the path as recorded: undo the rule that mapped it.
    let from = rebase
        .rules()
        .iter()
        .find_map(|(from, to)| {
            let rest = prefix.relative_to(to)?;
            Some(if rest.is_empty() {
                from.clone()
            } else {
                from.join(rest)
            })
        })
        .unwrap_or(prefix);
    Some((from.to_string(), to.to_string()))
}

/// ForSt with a remote primary directory keeps its working files under the
/// job's checkpoint directory: a path component `db` or one mentioning ForSt,
/// outside `chk-N/`, `shared/` and `taskowned/`.
fn looks_like_working_dir(rel_in_job: &str) -> bool {
    rel_in_job
        .split('/')
        .any(|c| c == "db" || c.to_ascii_lowercase().contains("forst"))
}

/// A bucket of files under one directory with one outcome.
#[derive(Default)]
struct Bucket {
    files: u64,
    bytes: u64,
    newest: Option<jiff::Timestamp>,
}

impl Bucket {
    fn add(&mut self, e: &Entry) {
        self.files += 1;
        self.bytes = self.bytes.saturating_add(e.size);
        if e.modified > self.newest {
            self.newest = e.modified;
        }
    }
}

/// A file-level candidate inside a candidate directory (kept until we know
/// whether the whole directory goes).
struct DirFiles {
    reason: Reason,
    job: Option<String>,
    location: Location,
    all: Bucket,
    kept: u64,
    files: Vec<Entry>,
    metadata: Option<Location>,
}

struct Classifier<'a> {
    root: &'a Location,
    policy: &'a Policy,
    d: &'a Decisions,
    min_time: Option<jiff::Timestamp>,
    candidates: Vec<Candidate>,
    dirs: BTreeMap<String, DirFiles>,
    /// Dropped jobs: whether anything under them is kept.
    kept: BTreeMap<(String, KeepReason), Bucket>,
    jobs: BTreeMap<String, JobTotals>,
    /// A job directory holding what looks like a live working directory.
    working_dir: Option<String>,
    /// A dropped job with a file younger than the minimum age.
    live_dropped: Option<(String, String, Option<jiff::Timestamp>)>,
    /// Referenced files that were listed.
    found: HashSet<&'a str>,
}

impl<'a> Classifier<'a> {
    fn new(root: &'a Location, policy: &'a Policy, d: &'a Decisions) -> Self {
        let min_time = jiff::SignedDuration::try_from(policy.min_age)
            .ok()
            .and_then(|age| policy.now.checked_sub(age).ok());
        Classifier {
            root,
            policy,
            d,
            min_time,
            candidates: Vec::new(),
            dirs: BTreeMap::new(),
            kept: BTreeMap::new(),
            jobs: BTreeMap::new(),
            working_dir: None,
            live_dropped: None,
            found: HashSet::new(),
        }
    }

    /// Written after the job's newest completed checkpoint (or no time known,
    /// or the job has no completed checkpoint).
    fn after_newest(&self, job: &str, e: &Entry) -> bool {
        match (e.modified, self.d.newest_metadata.get(job)) {
            (Some(m), Some(t)) => m > *t,
            _ => true,
        }
    }

    fn too_young(&self, e: &Entry) -> bool {
        match (e.modified, self.min_time) {
            (Some(m), Some(t)) => m > t,
            // Unknown age: only safe when no minimum age was asked for.
            (None, _) => !self.policy.min_age.is_zero(),
            (Some(_), None) => true,
        }
    }

    fn keep(&mut self, dir: &Location, reason: KeepReason, e: &Entry, job: Option<&str>) {
        self.kept
            .entry((canonical_dir(dir), reason))
            .or_default()
            .add(e);
        if let Some(j) = job.filter(|j| layout::is_job_id(j)) {
            let t = self.jobs.entry(j.to_owned()).or_default();
            t.kept_files += 1;
            t.kept_bytes = t.kept_bytes.saturating_add(e.size);
        }
    }

    fn add(&mut self, e: &Entry) {
        let key = e.location.canonical();
        let referenced = self.d.refs.get(&key);
        if let Some(r) = referenced {
            self.found.insert(r.as_str());
        }
        let referenced = referenced.is_some();
        let (job, sub, snapshot_dir) = self.place(&e.location, &key);
        let job_ref = job.as_deref();
        // Inside a snapshot directory with a decision?
        if let Some(dir) = &snapshot_dir {
            let dkey = canonical_dir(dir);
            if let Some(r) = self.d.kept_dirs.get(&dkey) {
                // A kept snapshot nested in a candidate directory: that
                // directory is not deleted whole.
                if let Some((cd, reason)) = dir_of(&self.d.candidate_dirs, &key)
                    && cd.len() < dkey.len()
                {
                    let df = self.dirs.entry(cd.clone()).or_insert_with(|| DirFiles {
                        reason: *reason,
                        job: job.clone(),
                        location: snapshot_dir_location(&e.location, cd),
                        all: Bucket::default(),
                        kept: 0,
                        files: Vec::new(),
                        metadata: None,
                    });
                    df.all.add(e);
                    df.kept += 1;
                }
                return self.keep(dir, *r, e, job_ref);
            }
            if let Some(reason) = self.d.candidate_dirs.get(&dkey).copied() {
                let young = self.too_young(e);
                let df = self.dirs.entry(dkey).or_insert_with(|| DirFiles {
                    reason,
                    job: job.clone(),
                    location: dir.clone(),
                    all: Bucket::default(),
                    kept: 0,
                    files: Vec::new(),
                    metadata: None,
                });
                df.all.add(e);
                if e.is_file() && e.location.file_name() == "_metadata" {
                    df.metadata = Some(e.location.clone());
                }
                if referenced || young || e.special {
                    // The directory is not deleted whole.
                    df.kept += 1;
                    let r = if e.special {
                        KeepReason::Special
                    } else if referenced {
                        KeepReason::Referenced
                    } else {
                        KeepReason::TooYoung
                    };
                    return self.keep(dir, r, e, job_ref);
                }
                df.files.push(e.clone());
                return;
            }
        }
        let parent = e.location.parent();
        if e.special {
            return self.keep(&parent, KeepReason::Special, e, job_ref);
        }
        if referenced {
            return self.keep(&parent, KeepReason::Referenced, e, job_ref);
        }
        // Only a job directory's shared/ and taskowned/ are Flink's.
        let job_dir = job.as_deref().filter(|j| layout::is_job_id(j));
        let reason = match (sub.as_deref(), job_dir) {
            (Some("shared" | "taskowned"), Some(j)) if self.policy.drop_jobs.contains(j) => {
                if self.too_young(e) && self.live_dropped.is_none() {
                    self.live_dropped = Some((j.to_owned(), e.location.to_string(), e.modified));
                }
                Reason::DroppedJob
            }
            (Some("shared"), Some(j)) if !self.policy.stopped && self.after_newest(j, e) => {
                return self.keep(&parent, KeepReason::AfterNewest, e, job_ref);
            }
            (Some("shared"), Some(_)) => Reason::OrphanShared,
            (Some("taskowned"), Some(_)) if self.policy.stopped => Reason::OrphanTaskowned,
            (Some("taskowned"), Some(_)) => {
                return self.keep(&parent, KeepReason::TaskOwnedLive, e, job_ref);
            }
            _ => {
                if let (Some(j), Some(rel)) = (job_dir, e.location.relative_to(self.root))
                    && self.working_dir.is_none()
                    && looks_like_working_dir(rel.strip_prefix(j).unwrap_or(rel))
                {
                    self.working_dir = Some(self.root.join(j).to_string());
                }
                return self.keep(&parent, KeepReason::Unknown, e, job_ref);
            }
        };
        if self.too_young(e) {
            return self.keep(&parent, KeepReason::TooYoung, e, job_ref);
        }
        self.candidate_file(e, reason, job);
    }

    fn candidate_file(&mut self, e: &Entry, reason: Reason, job: Option<String>) {
        if let Some(j) = &job {
            let t = self.jobs.entry(j.clone()).or_default();
            t.candidate_files += 1;
            t.candidate_bytes = t.candidate_bytes.saturating_add(e.size);
        }
        self.candidates.push(Candidate {
            path: e.location.clone(),
            is_dir: false,
            reason,
            job,
            files: 1,
            bytes: e.size,
            newest: e.modified,
            metadata: None,
        });
    }

    /// (job dir name, sub-directory name, snapshot directory) of a file.
    fn place(&self, l: &Location, key: &str) -> (Option<String>, Option<String>, Option<Location>) {
        let dir_key = dir_of(&self.d.kept_dirs, key)
            .map(|(d, _)| d.clone())
            .or_else(|| dir_of(&self.d.candidate_dirs, key).map(|(d, _)| d.clone()));
        if let Some(d) = dir_key {
            let dir = snapshot_dir_location(l, &d);
            let job = dir.parent().file_name().to_owned();
            let job = layout::is_job_id(&job).then_some(job);
            return (job, None, Some(dir));
        }
        let Some(rel) = l.relative_to(self.root) else {
            // Savepoints root files without a decision: unknown.
            return (None, None, None);
        };
        let mut parts = rel.split('/');
        let job = parts.next().map(str::to_owned);
        let sub = parts.next().map(str::to_owned);
        let has_more = parts.next().is_some();
        match (job, sub) {
            (Some(j), Some(s)) if has_more || s != "_metadata" => (Some(j), Some(s), None),
            (Some(j), _) => (Some(j), None, None),
            _ => (None, None, None),
        }
    }

    fn finish(mut self) -> Plan {
        for (_, df) in std::mem::take(&mut self.dirs) {
            if df.kept == 0 {
                if let Some(j) = &df.job {
                    let t = self.jobs.entry(j.clone()).or_default();
                    t.candidate_files += df.all.files;
                    t.candidate_bytes = t.candidate_bytes.saturating_add(df.all.bytes);
                }
                self.candidates.push(Candidate {
                    path: df.location,
                    is_dir: true,
                    reason: df.reason,
                    job: df.job,
                    files: df.all.files,
                    bytes: df.all.bytes,
                    newest: df.all.newest,
                    metadata: df.metadata,
                });
            } else {
                for e in &df.files {
                    self.candidate_file(e, df.reason, df.job.clone());
                }
            }
        }
        self.collapse_dropped_jobs();
        self.candidates.sort_by_cached_key(|c| c.path.canonical());
        let kept = std::mem::take(&mut self.kept)
            .into_iter()
            .map(|((dir, reason), b)| Kept {
                path: Location::parse(&dir).unwrap_or_else(|_| self.root.clone()),
                reason,
                files: b.files,
                bytes: b.bytes,
            })
            .collect();
        Plan {
            root: self.root.clone(),
            scope: self.root.clone(),
            savepoints: None,
            candidates: self.candidates,
            kept,
            jobs: self.jobs,
            snapshots_read: 0,
            referenced_files: 0,
            files_listed: 0,
            read: Vec::new(),
        }
    }

    /// A dropped job with nothing kept under it becomes one directory candidate.
    fn collapse_dropped_jobs(&mut self) {
        for j in self.policy.drop_jobs.clone() {
            let dir = self.root.join(&j);
            let prefix = canonical_dir(&dir);
            let anything_kept = self.kept.keys().any(|(d, _)| d.starts_with(&prefix));
            if anything_kept {
                continue;
            }
            let (inside, rest): (Vec<Candidate>, Vec<Candidate>) =
                std::mem::take(&mut self.candidates)
                    .into_iter()
                    .partition(|c| c.path.canonical().starts_with(&prefix));
            self.candidates = rest;
            if inside.is_empty() {
                continue;
            }
            let newest = inside.iter().filter_map(|c| c.newest).max();
            self.candidates.push(Candidate {
                path: dir,
                is_dir: true,
                reason: Reason::DroppedJob,
                job: Some(j.clone()),
                files: inside.iter().map(|c| c.files).sum(),
                bytes: inside.iter().map(|c| c.bytes).sum(),
                newest,
                metadata: None,
            });
        }
    }
}

/// The location of snapshot directory `dir_key` (canonical, with a trailing
/// slash) that contains `file`.
fn snapshot_dir_location(file: &Location, dir_key: &str) -> Location {
    let mut d = file.parent();
    let mut guard = 0;
    while canonical_dir(&d) != dir_key && d.path() != "/" && guard < 64 {
        d = d.parent();
        guard += 1;
    }
    d
}

#[cfg(test)]
pub(crate) mod tests {
    //! Plans over real Flink trees (the committed fixtures, copied to a
    //! temporary directory), checked against Flink's own file lists
    //! (`_metadata.oracle.json`): the candidates must be exactly the files
    //! on disk that no kept snapshot lists.

    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::storage::{Settings, Storages};

    pub(crate) fn fixture(version: &str, name: &str) -> (tempfile::TempDir, PathBuf, String) {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/flink")
            .join(version)
            .join(name);
        let tmp = tempfile::tempdir().unwrap();
        let dst = tmp.path().join(name);
        copy(&src, &dst);
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(src.join("scenario.json")).unwrap())
                .unwrap();
        (tmp, dst, s["generated_root"].as_str().unwrap().to_owned())
    }

    pub(crate) fn copy(src: &Path, dst: &Path) {
        std::fs::create_dir_all(dst).unwrap();
        for e in std::fs::read_dir(src).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if p.is_dir() {
                copy(&p, &dst.join(e.file_name()));
            } else if e.file_name() != "_metadata.oracle.json" {
                let to = dst.join(e.file_name());
                std::fs::copy(&p, &to).unwrap();
                set_flink_order_mtime(&to);
            }
        }
    }

    /// Copies (and git checkouts) lose Flink's write order. Restores its
    /// essence: every file one day old, each `chk-N/_metadata` N seconds
    /// younger, so each checkpoint's `_metadata` is newer than its files.
    pub(crate) fn set_flink_order_mtime(file: &Path) {
        let base = std::time::SystemTime::now() - Duration::from_secs(86_400);
        let n = (file.file_name().is_some_and(|n| n == "_metadata"))
            .then(|| {
                file.parent()?
                    .file_name()?
                    .to_str()?
                    .strip_prefix("chk-")?
                    .parse::<u64>()
                    .ok()
            })
            .flatten()
            .unwrap_or(0);
        let f = std::fs::File::options().write(true).open(file).unwrap();
        f.set_modified(base + Duration::from_secs(n)).unwrap();
    }

    /// Every file under `dir`, as absolute paths.
    pub(crate) fn files(dir: &Path) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.insert(p.to_string_lossy().into_owned());
                }
            }
        }
        out
    }

    /// Flink's file list for the snapshot in `dir` (from the committed truth file).
    pub(crate) fn oracle_files(
        fixture: &Path,
        copy_root: &Path,
        dir: &Path,
        generated: &str,
    ) -> BTreeSet<String> {
        let rel = dir.strip_prefix(copy_root).unwrap();
        let t: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(fixture.join(rel).join("_metadata.oracle.json")).unwrap(),
        )
        .unwrap();
        t["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                f["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("file:")
                    .replacen(generated, &copy_root.to_string_lossy(), 1)
            })
            .collect()
    }

    pub(crate) fn policy(keep_last: usize) -> Policy {
        Policy {
            keep_last,
            min_age: Duration::ZERO,
            keep: Vec::new(),
            include_savepoints: BTreeSet::new(),
            drop_jobs: BTreeSet::new(),
            stopped: false,
            now: jiff::Timestamp::now(),
        }
    }

    fn run(root: &Path, generated: &str, policy: &Policy) -> Result<Plan, Error> {
        run_on(&Storages::new(Settings::default()), root, generated, policy)
    }

    /// The rebase mapping a fixture's recorded paths into its copy.
    pub(crate) fn rebase(root: &Path, generated: &str) -> Rebase {
        Rebase::parse(&[format!("file:{generated}={}", root.display())]).unwrap()
    }

    /// Plans the copy at `root` through `storage`.
    pub(crate) fn run_on(
        storage: &dyn Storage,
        root: &Path,
        generated: &str,
        policy: &Policy,
    ) -> Result<Plan, Error> {
        let rebase = rebase(root, generated);
        let ck = Location::parse(&root.join("checkpoints").to_string_lossy()).unwrap();
        let sp = root.join("savepoints");
        let sp = sp
            .is_dir()
            .then(|| Location::parse(&sp.to_string_lossy()).unwrap());
        tokio::runtime::Runtime::new().unwrap().block_on(plan(
            storage,
            Roots {
                checkpoints: &ck,
                scope: &ck,
                savepoints: sp.as_ref(),
            },
            policy,
            &rebase,
            8,
            |_, _| {},
        ))
    }

    /// Files the plan would delete (directories expanded from disk).
    pub(crate) fn planned(plan: &Plan) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for c in &plan.candidates {
            let p = PathBuf::from(c.path.canonical());
            if c.is_dir {
                out.extend(files(&p));
            } else {
                out.insert(p.to_string_lossy().into_owned());
            }
        }
        out
    }

    fn snapshot_dirs(root: &Path) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = files(root)
            .into_iter()
            .filter(|f| f.ends_with("/_metadata"))
            .map(|f| PathBuf::from(f).parent().unwrap().to_path_buf())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn retention_keeps_exactly_what_the_newest_checkpoint_and_savepoint_need() {
        let fixture_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/flink/2.3/rocksdb-incremental");
        let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
        let snaps = snapshot_dirs(&root);
        let chks: Vec<&PathBuf> = snaps
            .iter()
            .filter(|d| d.to_string_lossy().contains("/chk-"))
            .collect();
        assert_eq!(chks.len(), 3);
        let newest = chks[2];
        let savepoint = snaps
            .iter()
            .find(|d| d.to_string_lossy().contains("savepoint-"))
            .unwrap();
        let p = run(&root, &generated, &policy(1)).unwrap();
        // Kept: chk-6 and the savepoint with everything they reference.
        let mut needed = oracle_files(&fixture_dir, &root, newest, &generated);
        needed.extend(oracle_files(&fixture_dir, &root, savepoint, &generated));
        let on_disk = files(&root.join("checkpoints"));
        let want: BTreeSet<String> = on_disk
            .iter()
            .filter(|f| !needed.contains(*f))
            .filter(|f| !f.starts_with(&newest.to_string_lossy().into_owned()))
            .cloned()
            .collect();
        let got = planned(&p);
        assert_eq!(got, want);
        assert!(
            got.iter().any(|f| f.contains("/shared/")),
            "shared files only older checkpoints used"
        );
        // chk-4 and chk-5 go as whole directories, _metadata first.
        let dirs: Vec<&Candidate> = p.candidates.iter().filter(|c| c.is_dir).collect();
        assert_eq!(dirs.len(), 2);
        assert!(
            dirs.iter()
                .all(|c| c.reason == Reason::SubsumedCheckpoint && c.metadata.is_some())
        );
        assert!(
            p.candidates
                .iter()
                .filter(|c| !c.is_dir)
                .all(|c| c.reason == Reason::OrphanShared)
        );
        assert_eq!(p.snapshots_read, 2);
        // Retaining all three: nothing to delete (Flink itself removed what they do not share).
        let p = run(&root, &generated, &policy(3)).unwrap();
        assert!(p.candidates.is_empty(), "{:#?}", p.candidates);
    }

    /// A crashed Flink run (JVM halted while checkpoint 5 was uploading):
    /// the orphans are exactly the `shared/` files no `_metadata` lists
    /// (recorded by the generator from Flink's own file lists); the
    /// in-progress `chk-5/` is kept.
    #[test]
    fn crashed_run_orphans_are_the_candidates() {
        let (_tmp, root, generated) = fixture("2.3", "cleanup-crash");
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join("scenario.json")).unwrap())
                .unwrap();
        let orphans: BTreeSet<String> = s["orphans"]["unreferenced_files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                root.join(f.as_str().unwrap())
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        let in_progress = s["orphans"]["in_progress_dirs"][0].as_str().unwrap();
        let in_progress = root.join(in_progress).to_string_lossy().into_owned();
        let p = run(&root, &generated, &policy(2)).unwrap();
        let want: BTreeSet<String> = orphans
            .iter()
            .filter(|f| !f.starts_with(&in_progress))
            .cloned()
            .collect();
        assert!(want.len() >= 10, "{want:?}");
        assert_eq!(planned(&p), want);
        assert!(
            p.candidates
                .iter()
                .all(|c| c.reason == Reason::OrphanShared)
        );
        assert!(
            p.kept.iter().any(|k| k.reason == KeepReason::InProgress
                && k.path.canonical().starts_with(&in_progress))
        );
    }

    #[test]
    fn minimum_age_keeps_young_files() {
        let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
        let mut pol = policy(1);
        pol.min_age = Duration::from_secs(2 * 86_400);
        let p = run(&root, &generated, &pol).unwrap();
        assert!(
            p.candidates.is_empty(),
            "files are a day old: all younger than 2 days"
        );
        assert!(p.kept.iter().any(|k| k.reason == KeepReason::TooYoung));
    }

    fn job_of(root: &Path) -> PathBuf {
        std::fs::read_dir(root.join("checkpoints"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.is_dir())
            .unwrap()
    }

    fn touch(p: &Path, t: std::time::SystemTime) {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    /// A shared/ file written after the newest completed checkpoint may
    /// belong to one being taken: kept unless the job is stated stopped.
    #[test]
    fn shared_files_newer_than_the_newest_checkpoint_wait() {
        let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
        let p = run(&root, &generated, &policy(1)).unwrap();
        let orphan = p
            .candidates
            .iter()
            .find(|c| c.reason == Reason::OrphanShared)
            .unwrap()
            .path
            .canonical();
        touch(Path::new(&orphan), std::time::SystemTime::now());
        let p = run(&root, &generated, &policy(1)).unwrap();
        assert!(!planned(&p).contains(&orphan));
        assert!(p.kept.iter().any(|k| k.reason == KeepReason::AfterNewest));
        let mut stopped = policy(1);
        stopped.stopped = true;
        let p = run(&root, &generated, &stopped).unwrap();
        assert!(planned(&p).contains(&orphan));
    }

    /// A job redeployed from an older snapshot restarts its ids below a
    /// stale higher chk-N: the checkpoint written last is kept too, and the
    /// live in-progress one is not "abandoned".
    #[test]
    fn the_checkpoint_written_last_is_kept_even_with_a_lower_id() {
        let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
        let job = job_of(&root);
        // chk-4 becomes a stale chk-99 written long ago.
        std::fs::rename(job.join("chk-4"), job.join("chk-99")).unwrap();
        touch(
            &job.join("chk-99/_metadata"),
            std::time::SystemTime::now() - Duration::from_secs(10 * 86_400),
        );
        // The live job is taking chk-7.
        std::fs::create_dir_all(job.join("chk-7")).unwrap();
        let p = run(&root, &generated, &policy(1)).unwrap();
        let kept: BTreeSet<String> = p
            .kept
            .iter()
            .map(|k| k.path.canonical())
            .filter(|k| k.contains("/chk-"))
            .collect();
        let has = |n: &str| kept.iter().any(|k| k.ends_with(n));
        assert!(has("chk-99") && has("chk-6"), "{kept:?}");
        let dirs: Vec<String> = p
            .candidates
            .iter()
            .filter(|c| c.is_dir)
            .map(|c| c.path.canonical())
            .collect();
        assert!(
            dirs.iter()
                .all(|d| !d.ends_with("chk-6") && !d.ends_with("chk-7")),
            "{dirs:?}"
        );
    }

    /// shared/ under something that is not a job directory is not Flink's.
    #[test]
    fn shared_outside_a_job_directory_is_never_a_candidate() {
        let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
        let doc = root.join("checkpoints/team-docs/shared/contracts/2024.pdf");
        std::fs::create_dir_all(doc.parent().unwrap()).unwrap();
        std::fs::write(&doc, b"x").unwrap();
        touch(
            &doc,
            std::time::SystemTime::now() - Duration::from_secs(86_400 * 30),
        );
        let p = run(&root, &generated, &policy(1)).unwrap();
        assert!(!planned(&p).iter().any(|f| f.contains("team-docs")));
    }

    /// A tree Flink wrote elsewhere, planned without --rebase: the kept
    /// snapshots' references name this root's job at another location, so
    /// nothing can be matched — refused, with the --rebase to give.
    #[test]
    fn references_recorded_elsewhere_abort_with_the_rebase_to_give() {
        let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
        let storage = Storages::new(Settings::default());
        let ck = Location::parse(&root.join("checkpoints").to_string_lossy()).unwrap();
        let e = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(plan(
                &storage,
                Roots {
                    checkpoints: &ck,
                    scope: &ck,
                    savepoints: None,
                },
                &policy(1),
                &Rebase::default(),
                4,
                |_, _| {},
            ))
            .unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::RecordedElsewhere { .. }), "{msg}");
        assert!(
            msg.contains(&format!("--rebase {generated}/checkpoints={}", ck)),
            "{msg}"
        );
    }

    /// --drop-job of a job that is still writing is refused.
    #[test]
    fn dropping_a_job_that_still_writes_is_refused() {
        let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
        let job = job_of(&root);
        let young = job.join("shared/just-uploaded.sst");
        std::fs::write(&young, b"x").unwrap();
        let mut p = policy(1);
        p.min_age = Duration::from_secs(3600);
        p.drop_jobs
            .insert(job.file_name().unwrap().to_string_lossy().into_owned());
        let e = run(&root, &generated, &p).unwrap_err();
        assert!(matches!(e, Error::DroppedJobLive { .. }), "{e}");
        assert!(e.to_string().contains("just-uploaded.sst"), "{e}");
    }

    #[test]
    fn restore_lineage_keeps_the_other_jobs_files() {
        for name in ["restore-claim", "restore-legacy", "restore-no-claim"] {
            let fixture_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/flink/2.3")
                .join(name);
            let (_tmp, root, generated) = fixture("2.3", name);
            let s: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(root.join("scenario.json")).unwrap())
                    .unwrap();
            let a = s["lineage"][0]["from_job"].as_str().unwrap().to_owned();
            let b = s["lineage"][0]["job"].as_str().unwrap().to_owned();
            // Job A is gone: only what B's kept checkpoints need of A survives.
            let mut pol = policy(1);
            pol.drop_jobs.insert(a.clone());
            let p = run(&root, &generated, &pol).unwrap();
            let b_newest = snapshot_dirs(&root.join("checkpoints").join(&b))
                .pop()
                .unwrap();
            let needed = oracle_files(&fixture_dir, &root, &b_newest, &generated);
            let planned = planned(&p);
            let a_dir = root
                .join("checkpoints")
                .join(&a)
                .to_string_lossy()
                .into_owned();
            let a_files: BTreeSet<String> = files(Path::new(&a_dir)).into_iter().collect();
            let want_a: BTreeSet<String> = a_files
                .iter()
                .filter(|f| !needed.contains(*f))
                .cloned()
                .collect();
            let got_a: BTreeSet<String> = planned
                .iter()
                .filter(|f| f.starts_with(&a_dir))
                .cloned()
                .collect();
            assert_eq!(got_a, want_a, "{name}");
            let refs_into_a = needed.iter().filter(|f| f.starts_with(&a_dir)).count();
            if name == "restore-no-claim" {
                assert_eq!(refs_into_a, 0, "{name}");
            } else {
                assert_eq!(
                    refs_into_a, 10,
                    "{name}: B's checkpoints use A's 10 .sst files"
                );
                // A's directory is not a whole-directory candidate then.
                assert!(
                    !p.candidates
                        .iter()
                        .any(|c| c.is_dir && c.path.canonical() == a_dir)
                );
            }
            // Nothing B's newest checkpoint needs is planned.
            assert!(planned.is_disjoint(&needed), "{name}");
        }
    }

    #[test]
    fn unreadable_kept_metadata_aborts_the_plan() {
        let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
        let newest = snapshot_dirs(&root.join("checkpoints")).pop().unwrap();
        std::fs::write(newest.join("_metadata"), b"not a checkpoint").unwrap();
        let e = run(&root, &generated, &policy(1)).unwrap_err();
        assert!(matches!(e, Error::UnreadableMetadata { .. }), "{e}");
        assert!(e.to_string().contains("chk-6/_metadata"), "{e}");
    }

    #[test]
    fn in_progress_checkpoint_is_kept_and_old_one_without_metadata_is_abandoned() {
        let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
        let job = snapshot_dirs(&root.join("checkpoints"))
            .pop()
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf();
        std::fs::create_dir_all(job.join("chk-9")).unwrap();
        std::fs::write(job.join("chk-9/part"), b"x").unwrap();
        std::fs::create_dir_all(job.join("chk-2")).unwrap();
        std::fs::write(job.join("chk-2/part"), b"y").unwrap();
        let p = run(&root, &generated, &policy(3)).unwrap();
        let c: Vec<(String, Reason)> = p
            .candidates
            .iter()
            .map(|c| (c.path.file_name().to_owned(), c.reason))
            .collect();
        assert_eq!(c, vec![("chk-2".to_owned(), Reason::AbandonedCheckpoint)]);
        assert!(p.kept.iter().any(|k| k.reason == KeepReason::InProgress
            && k.path.canonical().ends_with("chk-9/")
            || k.path.canonical().ends_with("chk-9")));
    }

    #[test]
    fn empty_root_aborts() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("checkpoints")).unwrap();
        let e = run(tmp.path(), "/nowhere", &policy(1)).unwrap_err();
        assert!(matches!(e, Error::EmptyListing(_)), "{e}");
    }

    #[test]
    fn working_directory_refused_unless_stopped() {
        let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
        let job = snapshot_dirs(&root.join("checkpoints"))
            .pop()
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf();
        std::fs::create_dir_all(job.join("forst-working/db")).unwrap();
        std::fs::write(job.join("forst-working/db/000012.sst"), b"live").unwrap();
        let e = run(&root, &generated, &policy(1)).unwrap_err();
        assert!(matches!(e, Error::LiveWorkingDir(_)), "{e}");
        let mut pol = policy(1);
        pol.stopped = true;
        let p = run(&root, &generated, &pol).unwrap();
        // Even then, unknown files are never candidates.
        assert!(!planned(&p).iter().any(|f| f.contains("forst-working")));
    }
}
