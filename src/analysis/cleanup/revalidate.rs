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

use futures_util::StreamExt;
use serde::Serialize;

use super::apply::{WATCH_INTERVAL, Watch};
use super::keep::{self, canonical_dir, check_recorded_locations, dir_of, read_refs};
use super::plan_file::in_bounds;
use super::refset::RefSet;
use super::{Candidate, Error, PlanFile, ReadSnapshot, listing};
use crate::analysis::layout;
use crate::analysis::snapshot::Rebase;
use crate::storage::{Entry, Location, Storage};

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
    pub(super) refs: RefSet,
    /// What the deleting step watches between batches.
    pub(super) watch: Watch,
}

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
    check_bounds(plan, &selected)?;
    let root = &plan.root;
    // A plan from an inventory lists only the job and checkpoint levels:
    // never the whole root again.
    let shallow = plan.policy.inventory.is_some();
    let scan = if shallow {
        layout::scan_shallow(storage, root, concurrency).await?
    } else {
        layout::scan(storage, root, |n| progress("re-listing", n)).await?
    };
    if scan.total.files == 0 && (!shallow || scan.jobs.is_empty()) {
        return Err(Error::EmptyListing(root.to_string()));
    }
    let sp_scan = match &plan.savepoints {
        Some(s) if shallow => Some(layout::scan_shallow(storage, s, concurrency).await?),
        Some(s) => Some(layout::scan(storage, s, |n| progress("re-listing savepoints", n)).await?),
        None => None,
    };
    let Reread { newest, to_read } = snapshots_to_reread(plan, &selected, &scan, sp_scan.as_ref());
    let job_names: BTreeSet<&str> = scan.jobs.keys().map(String::as_str).collect();
    let (refs, snapshots_read) = read_all_refs(
        storage,
        &to_read,
        rebase,
        concurrency,
        |refs| check_recorded_locations(refs, root, &job_names),
        &mut progress,
    )
    .await?;

    let mut checked = Checked::default();
    let mut files = Vec::new();
    for c in selected {
        if c.is_dir {
            checked.dir(storage, c, &newest, &refs).await?;
            progress("re-checking", checked.len());
        } else if dir_of(&newest, &c.path.canonical()).is_some() {
            checked.dropped.push((c, Dropped::Newest));
        } else {
            files.push(c);
        }
    }
    checked
        .files(storage, files, &refs, |n| progress("re-checking", n))
        .await?;
    let Checked {
        mut approved,
        mut dropped,
    } = checked;
    approved.sort_by_cached_key(|a| a.candidate.path.canonical());
    dropped.sort_by_cached_key(|(c, _)| c.path.canonical());
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
            settled: settled(&scan),
            interval: WATCH_INTERVAL,
        },
    })
}

/// Fails if the plan's scope is not under its root, or a candidate is not
/// where the plan may delete ([`in_bounds`]).
fn check_bounds(plan: &PlanFile, selected: &[Candidate]) -> Result<(), Error> {
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
    Ok(())
}

/// The snapshots to read again, and the newest completed checkpoints.
#[derive(Debug, Default)]
struct Reread {
    /// Directories (canonical, with `/`) of every job's newest completed
    /// checkpoint, by id and by `_metadata` time: never deleted.
    newest: BTreeMap<String, ()>,
    /// Every `newest`, and every completed snapshot listed now that is not
    /// being deleted and was not read unchanged when planning.
    to_read: Vec<Location>,
}

/// Decides, from the listings alone, which snapshots must be read again.
fn snapshots_to_reread(
    plan: &PlanFile,
    selected: &[Candidate],
    scan: &layout::Scan,
    sp_scan: Option<&layout::Scan>,
) -> Reread {
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
    let known: HashMap<String, &ReadSnapshot> = plan
        .read
        .iter()
        .map(|r| (canonical_dir(&r.path), r))
        .collect();
    let mut out = Reread::default();
    let mut consider = |loc: &Location, metadata: &Entry, is_newest: bool| {
        let key = canonical_dir(loc);
        if is_newest {
            out.newest.insert(key, ());
            out.to_read.push(loc.clone());
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
        out.to_read.push(loc.clone());
    };
    for j in scan.jobs.values() {
        let (last, last_written) = keep::newest(j);
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
    out
}

/// Reads the references of `to_read`, `concurrency` at a time, each
/// snapshot's passed through `check` first: the set and how many snapshots
/// were read.
async fn read_all_refs(
    storage: &dyn Storage,
    to_read: &[Location],
    rebase: &Rebase,
    concurrency: usize,
    check: impl Fn(&[String]) -> Result<(), Error>,
    progress: &mut impl FnMut(&str, u64),
) -> Result<(RefSet, usize), Error> {
    let mut refs = RefSet::default();
    let mut snapshots_read = 0;
    let mut reads = futures_util::stream::iter(to_read.iter())
        .map(|loc| read_refs(storage, loc, rebase))
        .buffer_unordered(concurrency.max(1));
    while let Some(r) = reads.next().await {
        let r = r?;
        check(&r)?;
        refs.extend(r);
        snapshots_read += 1;
        progress("re-reading snapshots", snapshots_read as u64);
    }
    Ok((refs, snapshots_read))
}

/// Every completed checkpoint listed now (canonical directories): read
/// (when planning or now) or selected for deletion. A `_metadata` that
/// appears later in any other is a checkpoint completed while deleting.
fn settled(scan: &layout::Scan) -> HashSet<String> {
    scan.jobs
        .values()
        .flat_map(|j| {
            let in_progress: HashSet<Option<u64>> = j.in_progress().map(|c| c.id).collect();
            j.checkpoints
                .values()
                .filter(move |c| !in_progress.contains(&c.id))
        })
        .filter_map(|c| c.location.as_ref().map(canonical_dir))
        .collect()
}

/// Candidates checked so far.
#[derive(Debug, Default)]
struct Checked {
    approved: Vec<Approved>,
    dropped: Vec<(Candidate, Dropped)>,
}

impl Checked {
    fn len(&self) -> u64 {
        (self.approved.len() + self.dropped.len()) as u64
    }

    /// A directory candidate: dropped when it holds the newest checkpoint,
    /// or when [`check_dir`] finds it changed or referenced.
    async fn dir(
        &mut self,
        storage: &dyn Storage,
        c: Candidate,
        newest: &BTreeMap<String, ()>,
        refs: &RefSet,
    ) -> Result<(), Error> {
        if newest.contains_key(&canonical_dir(&c.path)) {
            self.dropped.push((c, Dropped::Newest));
            return Ok(());
        }
        match check_dir(storage, &c, refs).await? {
            Ok(metadata) => self.approved.push(Approved {
                candidate: c,
                metadata,
            }),
            Err(why) => self.dropped.push((c, why)),
        }
        Ok(())
    }

    /// File candidates, grouped by directory so each directory is listed
    /// once; each compared with its listing now ([`check_file`]).
    async fn files(
        &mut self,
        storage: &dyn Storage,
        files: Vec<Candidate>,
        refs: &RefSet,
        mut progress: impl FnMut(u64),
    ) -> Result<(), Error> {
        let mut by_dir: BTreeMap<String, (Location, Vec<Candidate>)> = BTreeMap::new();
        for c in files {
            let parent = c.path.parent();
            by_dir
                .entry(canonical_dir(&parent))
                .or_insert_with(|| (parent, Vec::new()))
                .1
                .push(c);
        }
        for (_, (dir, files)) in by_dir {
            let mut want: HashMap<String, Candidate> =
                files.into_iter().map(|c| (c.path.canonical(), c)).collect();
            let mut stream = listing(storage, &dir, false);
            while let Some(e) = stream.next().await {
                let e = e?;
                if e.is_dir {
                    continue;
                }
                let key = e.location.canonical();
                let Some(c) = want.remove(&key) else {
                    continue;
                };
                match check_file(&c, &e, refs.contains(&key).then_some(key)) {
                    Some(w) => self.dropped.push((c, w)),
                    None => self.approved.push(Approved {
                        candidate: c,
                        metadata: vec![e],
                    }),
                }
            }
            drop(stream);
            self.dropped
                .extend(want.into_values().map(|c| (c, Dropped::Gone)));
            progress(self.len());
        }
        Ok(())
    }
}

/// Why a file candidate, listed now as `e`, may not go: special now,
/// another size or time than planned, or `referenced` (its key) by a
/// snapshot read now.
fn check_file(c: &Candidate, e: &Entry, referenced: Option<String>) -> Option<Dropped> {
    if e.special {
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
    } else {
        referenced.map(|file| Dropped::Referenced { file })
    }
}

pub(super) fn show_time(t: Option<jiff::Timestamp>) -> String {
    t.map_or_else(|| "unknown".to_owned(), |t| t.to_string())
}

/// Re-lists a candidate directory: `Ok(Ok(its _metadata files))` if it holds
/// the same files as planned (count, bytes, nothing newer) and none is
/// referenced.
pub(super) async fn check_dir(
    storage: &dyn Storage,
    c: &Candidate,
    refs: &RefSet,
) -> Result<Result<Vec<Entry>, Dropped>, Error> {
    let (mut files, mut bytes) = (0u64, 0u64);
    let mut newest: Option<jiff::Timestamp> = None;
    let mut referenced = None;
    let mut metadata = Vec::new();
    let mut stream = listing(storage, &c.path, true);
    while let Some(e) = stream.next().await {
        let e = e?;
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
    let counts_agree = if c.resumed {
        files <= c.files && bytes <= c.bytes
    } else {
        files == c.files && bytes == c.bytes
    };
    if !counts_agree || newest > c.newest {
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

#[cfg(test)]
mod tests {
    //! The per-file re-check, on hand-built listings.

    use super::*;
    use crate::analysis::cleanup::Reason;

    fn t(s: &str) -> Option<jiff::Timestamp> {
        Some(s.parse().unwrap())
    }

    fn planned() -> Candidate {
        Candidate {
            path: Location::parse("/r/j/shared/a").unwrap(),
            is_dir: false,
            reason: Reason::OrphanShared,
            job: Some("j".into()),
            files: 1,
            bytes: 10,
            newest: t("2026-01-01T00:00:00Z"),
            metadata: None,
            resumed: false,
        }
    }

    fn listed(size: u64, modified: Option<jiff::Timestamp>, special: bool) -> Entry {
        Entry {
            location: Location::parse("/r/j/shared/a").unwrap(),
            size,
            modified,
            is_dir: false,
            special,
            version: None,
        }
    }

    #[test]
    fn a_file_goes_only_as_planned_and_unreferenced() {
        let c = planned();
        assert_eq!(check_file(&c, &listed(10, c.newest, false), None), None);
        assert_eq!(
            check_file(&c, &listed(11, c.newest, false), None),
            Some(Dropped::Changed {
                detail: "11 bytes now, 10 when planned".into()
            })
        );
        assert_eq!(
            check_file(&c, &listed(10, t("2026-01-02T00:00:00Z"), false), None),
            Some(Dropped::Changed {
                detail: "modified 2026-01-02T00:00:00Z (planned: 2026-01-01T00:00:00Z)".into()
            })
        );
        assert_eq!(
            check_file(&c, &listed(10, c.newest, true), None),
            Some(Dropped::Changed {
                detail: "a symbolic link or special file now".into()
            })
        );
        assert_eq!(
            check_file(
                &c,
                &listed(10, c.newest, false),
                Some("/r/j/shared/a".into())
            ),
            Some(Dropped::Referenced {
                file: "/r/j/shared/a".into()
            })
        );
    }
}
