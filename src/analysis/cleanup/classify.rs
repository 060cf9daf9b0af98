//! The second planning pass: every listed file, folded once into kept
//! groups and candidates.

use std::collections::BTreeMap;

use super::candidates::Candidates;
use super::keep::{Decisions, canonical_dir, dir_of, looks_like_working_dir};
use super::refset::Found;
use super::{Candidate, Error, JobTotals, KeepReason, Kept, Plan, Policy, Reason};
use crate::analysis::layout;
use crate::storage::{Entry, Location};

/// A bucket of files under one directory with one outcome.
#[derive(Default)]
pub(super) struct Bucket {
    pub(super) files: u64,
    pub(super) bytes: u64,
    pub(super) newest: Option<jiff::Timestamp>,
}

impl Bucket {
    pub(super) fn add(&mut self, e: &Entry) {
        self.files += 1;
        self.bytes = self.bytes.saturating_add(e.size);
        if e.modified > self.newest {
            self.newest = e.modified;
        }
    }
}

/// Where a file is: its job, the directory below the job (when not in a
/// snapshot directory) and the snapshot directory it is in, with that
/// directory's decision. Shared by every file of a directory.
pub(super) struct Placed {
    job: Option<String>,
    sub: Option<String>,
    snapshot: Option<SnapshotDir>,
}

impl Placed {
    fn nowhere() -> Self {
        Placed {
            job: None,
            sub: None,
            snapshot: None,
        }
    }
}

/// The snapshot directory a file is in, and what was decided for it.
struct SnapshotDir {
    location: Location,
    /// Its canonical key (ending in `/`).
    key: String,
    /// Kept, and why.
    kept: Option<KeepReason>,
    /// A candidate directory, and why (when not kept).
    candidate: Option<Reason>,
    /// When kept: the candidate directory above it, if any (its key).
    candidate_above: Option<(String, Reason)>,
}

/// A file-level candidate inside a candidate directory (kept until we know
/// whether the whole directory goes).
pub(super) struct DirFiles {
    pub(super) reason: Reason,
    pub(super) job: Option<String>,
    pub(super) location: Location,
    pub(super) all: Bucket,
    pub(super) kept: u64,
    pub(super) files: Vec<Entry>,
    pub(super) metadata: Option<Location>,
}

pub(super) struct Classifier<'a> {
    pub(super) root: &'a Location,
    pub(super) policy: &'a Policy,
    pub(super) d: &'a Decisions,
    pub(super) min_time: Option<jiff::Timestamp>,
    /// Candidates, streamed to disk past a limit.
    pub(super) candidates: Candidates,
    /// The candidates under each dropped job's directory (canonical, with
    /// a trailing slash), held apart until it is known whether the whole
    /// directory goes (only with `whole_dirs`).
    pub(super) dropped: BTreeMap<String, (String, Candidates)>,
    /// The first failure to spill candidates to disk.
    pub(super) failed: Option<crate::spill::Error>,
    pub(super) dirs: BTreeMap<String, DirFiles>,
    /// Dropped jobs: whether anything under them is kept.
    /// Kept groups by (canonical directory, reason): the directory and what
    /// is in it.
    pub(super) kept: BTreeMap<(String, KeepReason), (Location, Bucket)>,
    /// The kept group being added to, never also in `kept`: files come a
    /// directory at a time, so most are counted without a map lookup.
    kept_open: Option<((String, KeepReason), (Location, Bucket))>,
    /// Where the last file's directory is (its canonical key, ending in
    /// `/`): a listing comes a directory at a time, and a file's place
    /// below the job level depends on its directory only.
    place_cache: Option<(String, std::sync::Arc<Placed>)>,
    pub(super) jobs: BTreeMap<String, JobTotals>,
    /// A job directory holding what looks like a live working directory.
    pub(super) working_dir: Option<String>,
    /// A dropped job with a file younger than the minimum age.
    pub(super) live_dropped: Option<(String, String, Option<jiff::Timestamp>)>,
    /// Referenced files that were listed (the set must be merged first).
    pub(super) found: Found,
    /// Whether a directory whose listed files are all candidates may be a
    /// candidate as a whole: only when the listing is complete. An
    /// inventory lacks what was written after it (a checkpoint of another
    /// job restored from this one may use such a file), so from one every
    /// file is a candidate of its own.
    pub(super) whole_dirs: bool,
}

impl<'a> Classifier<'a> {
    pub(super) fn new(root: &'a Location, policy: &'a Policy, d: &'a Decisions) -> Self {
        let min_time = jiff::SignedDuration::try_from(policy.min_age)
            .ok()
            .and_then(|age| policy.now.checked_sub(age).ok());
        Classifier {
            root,
            policy,
            d,
            min_time,
            candidates: Candidates::default(),
            dropped: BTreeMap::new(),
            failed: None,
            dirs: BTreeMap::new(),
            kept: BTreeMap::new(),
            kept_open: None,
            place_cache: None,
            jobs: BTreeMap::new(),
            working_dir: None,
            live_dropped: None,
            found: Found::new(&d.refs),
            whole_dirs: true,
        }
    }

    /// Written after the job's newest completed checkpoint (or no time known,
    /// or the job has no completed checkpoint).
    pub(super) fn after_newest(&self, job: &str, e: &Entry) -> bool {
        match (e.modified, self.d.newest_metadata.get(job)) {
            (Some(m), Some(t)) => m > *t,
            _ => true,
        }
    }

    pub(super) fn too_young(&self, e: &Entry) -> bool {
        match (e.modified, self.min_time) {
            (Some(m), Some(t)) => m > t,
            // Unknown age: only safe when no minimum age was asked for.
            (None, _) => !self.policy.min_age.is_zero(),
            (Some(_), None) => true,
        }
    }

    pub(super) fn keep(
        &mut self,
        dir: &Location,
        reason: KeepReason,
        e: &Entry,
        job: Option<&str>,
    ) {
        self.keep_in(|d| d == dir, || dir.clone(), reason, e, job);
    }

    /// [`Classifier::keep`] in the file's own directory, made only when the
    /// open group is another's (most files are kept beside the last one).
    fn keep_beside(&mut self, reason: KeepReason, e: &Entry, job: Option<&str>) {
        self.keep_in(
            |d| e.location.parent_is(d),
            || e.location.parent(),
            reason,
            e,
            job,
        );
    }

    fn keep_in(
        &mut self,
        is_dir: impl Fn(&Location) -> bool,
        dir: impl FnOnce() -> Location,
        reason: KeepReason,
        e: &Entry,
        job: Option<&str>,
    ) {
        match &mut self.kept_open {
            Some(((_, r), (d, b))) if *r == reason && is_dir(d) => b.add(e),
            open => {
                if let Some((k, v)) = open.take() {
                    self.kept.insert(k, v);
                }
                let dir = dir();
                let k = (canonical_dir(&dir), reason);
                let v = self
                    .kept
                    .remove(&k)
                    .unwrap_or_else(|| (dir, Bucket::default()));
                open.insert((k, v)).1.1.add(e);
            }
        }
        if let Some(j) = job.filter(|j| layout::is_job_id(j)) {
            self.job_totals(j, |t| {
                t.kept_files += 1;
                t.kept_bytes = t.kept_bytes.saturating_add(e.size);
            });
        }
    }

    /// Updates the totals of job `j` (no key string made once it has some).
    fn job_totals(&mut self, j: &str, f: impl FnOnce(&mut JobTotals)) {
        match self.jobs.get_mut(j) {
            Some(t) => f(t),
            None => f(self.jobs.entry(j.to_owned()).or_default()),
        }
    }

    pub(super) fn add(&mut self, e: &Entry) {
        let key = e.location.canonical();
        let referenced = match self.d.refs.index(&key) {
            Some(i) => {
                self.found.set(i);
                true
            }
            None => false,
        };
        let place = self.place(&e.location, &key);
        let job_ref = place.job.as_deref();
        // Inside a snapshot directory with a decision?
        if let Some(sd) = &place.snapshot {
            if let Some(r) = sd.kept {
                // A kept snapshot nested in a candidate directory: that
                // directory is not deleted whole.
                if let Some((cd, reason)) = &sd.candidate_above {
                    let df = self.dirs.entry(cd.clone()).or_insert_with(|| DirFiles {
                        reason: *reason,
                        job: place.job.clone(),
                        location: snapshot_dir_location(&e.location, cd),
                        all: Bucket::default(),
                        kept: 0,
                        files: Vec::new(),
                        metadata: None,
                    });
                    df.all.add(e);
                    df.kept += 1;
                }
                return self.keep(&sd.location, r, e, job_ref);
            }
            if let Some(reason) = sd.candidate {
                let young = self.too_young(e);
                let df = match self.dirs.get_mut(&sd.key) {
                    Some(df) => df,
                    None => self.dirs.entry(sd.key.clone()).or_insert(DirFiles {
                        reason,
                        job: place.job.clone(),
                        location: sd.location.clone(),
                        all: Bucket::default(),
                        kept: 0,
                        files: Vec::new(),
                        metadata: None,
                    }),
                };
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
                    return self.keep(&sd.location, r, e, job_ref);
                }
                if self.whole_dirs {
                    df.files.push(e.clone());
                } else {
                    // From an inventory every file is a candidate of its
                    // own: final now, streamed out now.
                    let (reason, job) = (df.reason, df.job.clone());
                    self.candidate_file(e, reason, job);
                }
                return;
            }
        }
        let (job, sub) = (&place.job, &place.sub);
        if e.special {
            return self.keep_beside(KeepReason::Special, e, job_ref);
        }
        if referenced {
            return self.keep_beside(KeepReason::Referenced, e, job_ref);
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
                return self.keep_beside(KeepReason::AfterNewest, e, job_ref);
            }
            (Some("shared"), Some(_)) => Reason::OrphanShared,
            (Some("taskowned"), Some(_)) if self.policy.stopped => Reason::OrphanTaskowned,
            (Some("taskowned"), Some(_)) => {
                return self.keep_beside(KeepReason::TaskOwnedLive, e, job_ref);
            }
            _ => {
                if let (Some(j), Some(rel)) = (job_dir, e.location.relative_to(self.root))
                    && self.working_dir.is_none()
                    && looks_like_working_dir(rel.strip_prefix(j).unwrap_or(rel))
                {
                    self.working_dir = Some(self.root.join(j).to_string());
                }
                return self.keep_beside(KeepReason::Unknown, e, job_ref);
            }
        };
        if self.too_young(e) {
            return self.keep_beside(KeepReason::TooYoung, e, job_ref);
        }
        self.candidate_file(e, reason, job.clone());
    }

    pub(super) fn candidate_file(&mut self, e: &Entry, reason: Reason, job: Option<String>) {
        if let Some(j) = &job {
            self.job_totals(j, |t| {
                t.candidate_files += 1;
                t.candidate_bytes = t.candidate_bytes.saturating_add(e.size);
            });
        }
        self.emit(Candidate {
            path: e.location.clone(),
            is_dir: false,
            reason,
            job,
            files: 1,
            bytes: e.size,
            newest: e.modified,
            metadata: None,
            resumed: false,
        });
    }

    /// Streams a candidate out: to the plan, or, under a dropped job that
    /// may go as a whole, to that job's own list.
    fn emit(&mut self, c: Candidate) {
        let target = if self.whole_dirs && !self.policy.drop_jobs.is_empty() {
            let key = c.path.canonical();
            let root = canonical_dir(self.root);
            let job = key
                .strip_prefix(root.as_str())
                .and_then(|rel| rel.split_once('/'))
                .map(|(j, _)| j)
                .filter(|j| self.policy.drop_jobs.contains(*j));
            match job {
                Some(j) => {
                    let prefix = format!("{root}{j}/");
                    let j = j.to_owned();
                    &mut self
                        .dropped
                        .entry(prefix)
                        .or_insert_with(|| (j, Candidates::default()))
                        .1
                }
                None => &mut self.candidates,
            }
        } else {
            &mut self.candidates
        };
        if let Err(e) = target.push(c) {
            self.failed.get_or_insert(e);
        }
    }

    /// (job dir name, sub-directory name, snapshot directory) of a file.
    /// The job, the directory below it and the snapshot directory of the
    /// file at `l` (canonical `key`), from the last file's when it is in
    /// the same directory.
    pub(super) fn place(&mut self, l: &Location, key: &str) -> std::sync::Arc<Placed> {
        let dir = key.rfind('/').map(|i| &key[..=i]);
        if let (Some(dir), Some((k, placed))) = (dir, &self.place_cache)
            && k == dir
        {
            return placed.clone();
        }
        let (placed, by_dir) = self.place_uncached(l, key);
        let placed = std::sync::Arc::new(placed);
        if let (Some(dir), true) = (dir, by_dir) {
            self.place_cache = Some((dir.to_owned(), placed.clone()));
        }
        placed
    }

    /// [`Classifier::place`], and whether every file in the same directory
    /// has the same place (not so one or two levels below the root, where
    /// the file's own name is the job or says `_metadata`).
    fn place_uncached(&self, l: &Location, key: &str) -> (Placed, bool) {
        // The innermost snapshot directory holding a file holds its
        // directory: keys end in `/` and a name has none.
        let dir_key = dir_of(&self.d.kept_dirs, key)
            .map(|(d, _)| d.clone())
            .or_else(|| dir_of(&self.d.candidate_dirs, key).map(|(d, _)| d.clone()));
        if let Some(d) = dir_key {
            let location = snapshot_dir_location(l, &d);
            let job = location.parent().file_name().to_owned();
            let job = layout::is_job_id(&job).then_some(job);
            let kept = self.d.kept_dirs.get(&d).copied();
            let candidate_above = kept
                .and_then(|_| dir_of(&self.d.candidate_dirs, key))
                .filter(|(cd, _)| cd.len() < d.len())
                .map(|(cd, r)| (cd.clone(), *r));
            let candidate = self.d.candidate_dirs.get(&d).copied();
            let snapshot = SnapshotDir {
                location,
                key: d,
                kept,
                candidate,
                candidate_above,
            };
            let placed = Placed {
                job,
                sub: None,
                snapshot: Some(snapshot),
            };
            return (placed, true);
        }
        let Some(rel) = l.relative_to(self.root) else {
            // Savepoints root files without a decision: unknown.
            return (Placed::nowhere(), true);
        };
        let mut parts = rel.split('/');
        let job = parts.next().map(str::to_owned);
        let sub = parts.next().map(str::to_owned);
        let has_more = parts.next().is_some();
        let placed = match (job, sub) {
            (Some(j), Some(s)) if has_more || s != "_metadata" => Placed {
                job: Some(j),
                sub: Some(s),
                snapshot: None,
            },
            (Some(j), _) => Placed {
                job: Some(j),
                ..Placed::nowhere()
            },
            _ => Placed::nowhere(),
        };
        (placed, has_more)
    }

    pub(super) fn finish(mut self) -> Result<Plan, Error> {
        if let Some((k, v)) = self.kept_open.take() {
            self.kept.insert(k, v);
        }
        for (_, df) in std::mem::take(&mut self.dirs) {
            if df.kept == 0 && self.whole_dirs {
                if let Some(j) = &df.job {
                    let t = self.jobs.entry(j.clone()).or_default();
                    t.candidate_files += df.all.files;
                    t.candidate_bytes = t.candidate_bytes.saturating_add(df.all.bytes);
                }
                self.emit(Candidate {
                    path: df.location,
                    is_dir: true,
                    reason: df.reason,
                    job: df.job,
                    files: df.all.files,
                    bytes: df.all.bytes,
                    newest: df.all.newest,
                    metadata: df.metadata,
                    resumed: false,
                });
            } else {
                for e in &df.files {
                    self.candidate_file(e, df.reason, df.job.clone());
                }
            }
        }
        self.collapse_dropped_jobs()?;
        if let Some(e) = self.failed.take() {
            return Err(e.into());
        }
        // By identity (store, then path): no key string per candidate.
        self.candidates.seal();
        let kept = std::mem::take(&mut self.kept)
            .into_iter()
            .map(|((_, reason), (path, b))| Kept {
                path,
                reason,
                files: b.files,
                bytes: b.bytes,
            })
            .collect();
        Ok(Plan {
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
            inventory: None,
            inventory_rows: None,
        })
    }

    /// A dropped job with nothing kept under it becomes one directory
    /// candidate; otherwise its candidates join the plan one by one.
    pub(super) fn collapse_dropped_jobs(&mut self) -> Result<(), Error> {
        for (prefix, (j, mut inside)) in std::mem::take(&mut self.dropped) {
            inside.seal();
            // Kept files seen, or a kept snapshot directory whatever was
            // listed in it (an inventory lacks one written after it).
            let anything_kept = self.kept.keys().any(|(d, _)| d.starts_with(&prefix))
                || self
                    .d
                    .kept_dirs
                    .range(prefix.clone()..)
                    .next()
                    .is_some_and(|(d, _)| d.starts_with(&prefix));
            if anything_kept {
                self.candidates.append(inside)?;
                continue;
            }
            if inside.is_empty() {
                continue;
            }
            let mut newest = None;
            for c in inside.iter()? {
                newest = newest.max(c?.newest);
            }
            self.candidates.push(Candidate {
                path: self.root.join(&j),
                is_dir: true,
                reason: Reason::DroppedJob,
                job: Some(j.clone()),
                files: inside.files(),
                bytes: inside.bytes(),
                newest,
                metadata: None,
                resumed: false,
            })?;
        }
        Ok(())
    }
}

/// The location of snapshot directory `dir_key` (canonical, with a trailing
/// slash) that contains `file`.
pub(super) fn snapshot_dir_location(file: &Location, dir_key: &str) -> Location {
    // `dir_key` came from `dir_of` on this file's key: it is an ancestor.
    file.ancestors()
        .find(|d| canonical_dir(d) == dir_key)
        .unwrap_or_else(|| file.with_path("/"))
}
