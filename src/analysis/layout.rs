//! Flink's checkpoint directory layout, read from storage listings:
//!
//! ```text
//! <checkpoints root>/<job id>/chk-<n>/_metadata   one checkpoint (exclusive files beside it)
//! <checkpoints root>/<job id>/shared/…            incremental/shared state (RocksDB .sst, file merging)
//! <checkpoints root>/<job id>/taskowned/…         state owned by task managers
//! <savepoints root>/savepoint-<job6>-<random12>/_metadata
//! ```
//!
//! A whole root is read with one streaming recursive listing and folded into
//! per-job and per-checkpoint totals, so memory grows with the number of jobs
//! and checkpoints, never with the number of files.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use serde::Serialize;

use crate::storage::{self, Entry, Location, Storage};

pub use crate::names::{checkpoint_id, is_job_id, is_savepoint_dir};

/// Where a file lies in the layout, relative to a checkpoints root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "area", rename_all = "snake_case")]
pub enum Area {
    /// In `<job>/chk-<n>/`.
    Checkpoint {
        /// Job directory name.
        job: String,
        /// Checkpoint id.
        id: u64,
    },
    /// In `<job>/shared/`.
    Shared {
        /// Job directory name.
        job: String,
    },
    /// In `<job>/taskowned/`.
    TaskOwned {
        /// Job directory name.
        job: String,
    },
    /// In a `savepoint-…/` directory.
    Savepoint {
        /// The savepoint directory name.
        name: String,
    },
    /// Anything else.
    Other,
}

/// Classifies a location by the path components Flink uses: the nearest
/// `<job id>/chk-N|shared|taskowned` pair, or a `savepoint-…` directory.
pub fn area(l: &Location) -> Area {
    let parts: Vec<&str> = l.path().split('/').filter(|s| !s.is_empty()).collect();
    // Innermost match wins (a job tree copied under another job's directory is rare but possible).
    for i in (0..parts.len().saturating_sub(1)).rev() {
        let (job, sub) = (parts[i], parts[i + 1]);
        let looks_job = is_job_id(job);
        if let Some(id) = checkpoint_id(sub)
            && (looks_job || i + 2 < parts.len())
        {
            return Area::Checkpoint {
                job: job.to_owned(),
                id,
            };
        }
        if looks_job && sub == "shared" && i + 2 < parts.len() {
            return Area::Shared {
                job: job.to_owned(),
            };
        }
        if looks_job && sub == "taskowned" && i + 2 < parts.len() {
            return Area::TaskOwned {
                job: job.to_owned(),
            };
        }
    }
    for p in parts.iter().take(parts.len().saturating_sub(1)).rev() {
        if is_savepoint_dir(p) {
            return Area::Savepoint {
                name: (*p).to_owned(),
            };
        }
    }
    Area::Other
}

/// Bytes and files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Number of files.
    pub files: u64,
    /// Bytes.
    pub bytes: u64,
}

impl Usage {
    fn add(&mut self, e: &Entry) {
        self.files += 1;
        self.bytes += e.size;
    }
}

/// One `chk-<n>` (or savepoint) directory.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckpointDir {
    /// Checkpoint id (`chk-<n>`), `None` for savepoints.
    pub id: Option<u64>,
    /// Directory name.
    pub name: String,
    /// The directory.
    pub location: Option<Location>,
    /// `_metadata`, if present.
    #[serde(skip)]
    pub metadata: Option<Entry>,
    /// Files in the directory (including `_metadata`).
    pub usage: Usage,
    /// Newest modification time among its files.
    pub newest: Option<jiff::Timestamp>,
    /// The identity file `flink-chk replicate` writes into a replica
    /// snapshot directory, if present.
    #[serde(skip)]
    pub replica_identity: Option<Entry>,
}

/// A job directory.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JobDir {
    /// Directory name (normally the job id).
    pub name: String,
    /// The directory.
    pub location: Option<Location>,
    /// `chk-<n>` directories by id (boxed: a B-tree node holds room for
    /// eleven values, and most jobs keep one or two checkpoints).
    pub checkpoints: BTreeMap<u64, Box<CheckpointDir>>,
    /// `shared/`.
    pub shared: Usage,
    /// `taskowned/`.
    pub taskowned: Usage,
    /// Anything else under the job directory.
    pub other: Usage,
    /// Everything.
    pub total: Usage,
    /// Newest modification time of any file.
    pub newest: Option<jiff::Timestamp>,
}

impl JobDir {
    /// Completed checkpoints (with `_metadata`), newest last.
    pub fn completed(&self) -> impl DoubleEndedIterator<Item = &CheckpointDir> {
        self.checkpoints
            .values()
            .map(|c| &**c)
            .filter(|c| c.metadata.is_some())
    }

    /// `chk-<n>` without `_metadata` newer than the newest completed one:
    /// checkpoints in progress (or abandoned by a crash).
    pub fn in_progress(&self) -> impl Iterator<Item = &CheckpointDir> {
        let newest = self.completed().next_back().and_then(|c| c.id).unwrap_or(0);
        self.checkpoints
            .values()
            .map(|c| &**c)
            .filter(move |c| c.metadata.is_none() && c.id.unwrap_or(0) > newest)
    }

    /// `chk-<n>` without `_metadata` older than the newest completed one
    /// (left behind by failed or aborted checkpoints).
    pub fn abandoned(&self) -> impl Iterator<Item = &CheckpointDir> {
        let newest = self.completed().next_back().and_then(|c| c.id).unwrap_or(0);
        self.checkpoints
            .values()
            .map(|c| &**c)
            .filter(move |c| c.metadata.is_none() && c.id.unwrap_or(0) < newest)
    }
}

/// What a listing found.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// Job directories by name.
    pub jobs: BTreeMap<String, JobDir>,
    /// Savepoint directories by name.
    pub savepoints: BTreeMap<String, CheckpointDir>,
    /// Files that are in neither.
    pub other: Usage,
    /// Everything listed.
    pub total: Usage,
    /// Symbolic links and other special entries (never followed by the
    /// listing): what lies behind them is not in the listing.
    pub special: Vec<Location>,
    /// Regular `_metadata` files outside Flink's layout (a backup folder of
    /// copied `chk-N/`, a nested copy): snapshots all the same.
    pub stray_metadata: Vec<Entry>,
}

fn newer(a: &mut Option<jiff::Timestamp>, b: Option<jiff::Timestamp>) {
    if b > *a {
        *a = b;
    }
}

impl Scan {
    /// Folds one listed file (found under `root`) into the totals. Only a
    /// directory named by a job id is a job; a symbolic link or other
    /// special entry is counted but never taken for a `_metadata`.
    pub fn add(&mut self, root: &Location, e: &Entry) {
        if e.is_dir {
            return self.add_dir(root, &e.location);
        }
        self.total.add(e);
        if e.special {
            self.special.push(e.location.clone());
        }
        let Some(rel) = e.location.relative_to(root) else {
            self.other.add(e);
            return;
        };
        let parts: Vec<&str> = rel.split('/').collect();
        let is_metadata = |rest: &[&str]| rest == ["_metadata"] && e.is_file();
        let is_identity = |rest: &[&str]| rest == [crate::names::REPLICA_IDENTITY] && e.is_file();
        // A regular `_metadata` that is no snapshot's of the layout.
        let mut stray = e.is_file() && e.location.file_name() == "_metadata";
        match parts.as_slice() {
            [sp, rest @ ..] if is_savepoint_dir(sp) && !rest.is_empty() => {
                let d = self.savepoint(root, sp);
                d.usage.add(e);
                newer(&mut d.newest, e.modified);
                if is_metadata(rest) {
                    d.metadata = Some(e.clone());
                    stray = false;
                }
                if is_identity(rest) {
                    d.replica_identity = Some(e.clone());
                }
            }
            [job, sub, rest @ ..] if !rest.is_empty() && is_job_id(job) => {
                let j = self.job(root, job);
                j.total.add(e);
                newer(&mut j.newest, e.modified);
                match (*sub, checkpoint_id(sub)) {
                    (_, Some(id)) => {
                        let c = chk(j, root, id);
                        c.usage.add(e);
                        newer(&mut c.newest, e.modified);
                        if is_metadata(rest) {
                            c.metadata = Some(e.clone());
                            stray = false;
                        }
                        if is_identity(rest) {
                            c.replica_identity = Some(e.clone());
                        }
                    }
                    ("shared", _) => j.shared.add(e),
                    ("taskowned", _) => j.taskowned.add(e),
                    _ => j.other.add(e),
                }
            }
            _ => self.other.add(e),
        }
        if stray {
            self.stray_metadata.push(e.clone());
        }
    }

    /// Records a directory (so empty `chk-<n>` and job directories show up).
    pub fn add_dir(&mut self, root: &Location, dir: &Location) {
        let Some(rel) = dir.relative_to(root) else {
            return;
        };
        let parts: Vec<&str> = rel.split('/').filter(|s| !s.is_empty()).collect();
        match parts.as_slice() {
            [sp, ..] if is_savepoint_dir(sp) => {
                self.savepoint(root, sp);
            }
            [job] if is_job_id(job) => {
                self.job(root, job);
            }
            [job, sub, ..] if is_job_id(job) => {
                let j = self.job(root, job);
                if let Some(id) = checkpoint_id(sub) {
                    chk(j, root, id);
                }
            }
            _ => {}
        }
    }

    fn job(&mut self, root: &Location, name: &str) -> &mut JobDir {
        self.jobs.entry(name.to_owned()).or_insert_with(|| JobDir {
            name: name.to_owned(),
            location: Some(root.join(name)),
            ..JobDir::default()
        })
    }

    fn savepoint(&mut self, root: &Location, name: &str) -> &mut CheckpointDir {
        self.savepoints
            .entry(name.to_owned())
            .or_insert_with(|| CheckpointDir {
                name: name.to_owned(),
                location: Some(root.join(name)),
                ..CheckpointDir::default()
            })
    }
}

fn chk<'j>(j: &'j mut JobDir, root: &Location, id: u64) -> &'j mut CheckpointDir {
    let name = format!("chk-{id}");
    let loc = j
        .location
        .clone()
        .unwrap_or_else(|| root.join(&j.name))
        .join(&name);
    j.checkpoints.entry(id).or_insert_with(|| {
        Box::new(CheckpointDir {
            id: Some(id),
            name,
            location: Some(loc),
            ..CheckpointDir::default()
        })
    })
}

/// Lists `root` recursively and folds it into a [`Scan`]. On file systems
/// with real directories (local, HDFS) the first two levels are listed too,
/// so empty `chk-<n>` directories are seen; object stores have no empty
/// directories, so that would only cost one request per job.
/// `progress` is called with the running file count every 1000 files.
pub async fn scan(
    storage: &dyn Storage,
    root: &Location,
    progress: impl FnMut(u64),
) -> Result<Scan, storage::Error> {
    let mut scan = Scan::default();
    fold(storage, root, root, 2, &mut scan, progress).await?;
    Ok(scan)
}

/// Lists only the levels that decide the layout: the children of `root`,
/// of each job directory, and of each `chk-<n>` and savepoint directory
/// (where `_metadata` is); never `shared/`, `taskowned/` or anything deeper.
/// On a store of 10⁹ objects that is one request per job and per snapshot
/// instead of a listing of everything (planning from an inventory report).
/// Usage figures count only the files at those levels, and in snapshot
/// directories only the sizes and times of `_metadata` and a replica's
/// identity file are sure to be known (a local disk is not asked for the
/// others': the second pass lists them again).
pub async fn scan_shallow(
    storage: &dyn Storage,
    root: &Location,
    concurrency: usize,
) -> Result<Scan, storage::Error> {
    use futures_util::TryStreamExt as _;
    async fn children(storage: &dyn Storage, dir: Location) -> Result<Vec<Entry>, storage::Error> {
        storage.list(&dir, false).try_collect().await
    }
    let mut scan = Scan::default();
    let mut jobs = Vec::new();
    let mut snapshots = Vec::new();
    for e in children(storage, root.clone()).await? {
        if e.is_dir {
            scan.add_dir(root, &e.location);
            let name = e.location.file_name();
            if is_job_id(name) {
                jobs.push(e.location);
            } else if is_savepoint_dir(name) {
                snapshots.push(e.location);
            }
        } else {
            scan.add(root, &e);
        }
    }
    let mut listed = storage.list_each(jobs, concurrency, None);
    while let Some(listing) = listed.next().await {
        for e in listing?.1 {
            if e.is_dir {
                scan.add_dir(root, &e.location);
                if checkpoint_id(e.location.file_name()).is_some() {
                    snapshots.push(e.location);
                }
            } else {
                scan.add(root, &e);
            }
        }
    }
    drop(listed);
    // Only `_metadata` and a replica's identity file decide anything here:
    // the other files are sized by the second pass (or the inventory).
    let mut listed = storage.list_each(snapshots, concurrency, Some(SIZED));
    while let Some(listing) = listed.next().await {
        for e in listing?.1.iter().filter(|e| !e.is_dir) {
            scan.add(root, e);
        }
    }
    Ok(scan)
}

/// The files of a snapshot directory whose size and time
/// [`scan_shallow`] reads.
const SIZED: &[&str] = &["_metadata", crate::names::REPLICA_IDENTITY];

/// One job directory, listed the same way.
pub async fn scan_job(storage: &dyn Storage, job: &Location) -> Result<JobDir, storage::Error> {
    let parent = job.parent();
    let mut scan = Scan::default();
    fold(storage, job, &parent, 1, &mut scan, |_| {}).await?;
    Ok(scan.jobs.into_values().next().unwrap_or_else(|| JobDir {
        name: job.file_name().to_owned(),
        location: Some(job.clone()),
        ..JobDir::default()
    }))
}

/// Folds the listing of `dir` into `scan`, paths taken relative to `root`.
async fn fold(
    storage: &dyn Storage,
    dir: &Location,
    root: &Location,
    dir_levels: usize,
    scan: &mut Scan,
    mut progress: impl FnMut(u64),
) -> Result<(), storage::Error> {
    if !dir.scheme().is_object_store() {
        let mut level = vec![dir.clone()];
        for depth in 0..dir_levels {
            let mut next = Vec::new();
            for d in &level {
                let mut children = storage.list(d, false);
                while let Some(e) = children.next().await {
                    let e = e?;
                    if e.is_dir {
                        scan.add_dir(root, &e.location);
                        // Below the root, only job directories hold chk-<n>.
                        if depth + 1 < dir_levels && is_job_id(e.location.file_name()) {
                            next.push(e.location);
                        }
                    }
                }
            }
            level = next;
        }
    }
    let mut all = storage.list(dir, true);
    let mut n = 0u64;
    while let Some(e) = all.next().await {
        scan.add(root, &e?);
        n += 1;
        if n.is_multiple_of(1000) {
            progress(n);
        }
    }
    progress(n);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(s: &str) -> Location {
        Location::parse(s).unwrap()
    }

    const J: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn areas() {
        assert_eq!(
            area(&l(&format!("s3://b/ck/{J}/chk-7/abc"))),
            Area::Checkpoint {
                job: J.into(),
                id: 7
            }
        );
        assert_eq!(
            area(&l(&format!("s3://b/ck/{J}/shared/op/x.sst"))),
            Area::Shared { job: J.into() }
        );
        assert_eq!(
            area(&l(&format!("/ck/{J}/taskowned/x"))),
            Area::TaskOwned { job: J.into() }
        );
        assert_eq!(
            area(&l("/sp/savepoint-0a1b2c-0123456789ab/f")),
            Area::Savepoint {
                name: "savepoint-0a1b2c-0123456789ab".into()
            }
        );
        assert_eq!(area(&l("/x/y/shared/z")), Area::Other);
    }

    #[test]
    fn folds_listings_into_jobs_and_checkpoints() {
        let root = l("/ck");
        let mut s = Scan::default();
        let f = |p: &str, size| Entry {
            location: root.join(p),
            size,
            modified: None,
            is_dir: false,
            special: false,
            version: None,
        };
        for e in [
            f(&format!("{J}/chk-1/_metadata"), 10),
            f(&format!("{J}/chk-2/_metadata"), 11),
            f(&format!("{J}/chk-2/x"), 5),
            f(&format!("{J}/shared/a"), 100),
            f(&format!("{J}/taskowned/b"), 7),
            f("savepoint-012345-abcdefabcdef/_metadata", 3),
            f("README", 1),
        ] {
            s.add(&root, &e);
        }
        s.add_dir(&root, &root.join(&format!("{J}/chk-3")));
        let j = &s.jobs[J];
        assert_eq!(j.completed().count(), 2);
        assert_eq!(j.in_progress().map(|c| c.id).collect::<Vec<_>>(), [Some(3)]);
        assert_eq!(
            j.checkpoints[&2].usage,
            Usage {
                files: 2,
                bytes: 16
            }
        );
        assert_eq!(j.shared.bytes, 100);
        assert_eq!(j.total.bytes, 133);
        assert_eq!(s.savepoints.len(), 1);
        assert_eq!(s.other.files, 1);
        assert_eq!(s.total.files, 7);
    }
}
