//! Everything a snapshot needs on storage, deduplicated by location and
//! labelled by where it lives (its own directory, the job's `shared/` or
//! `taskowned/`, another job's directory, a file-merging physical file, a
//! changelog file, …), and a check that each file exists with the size its
//! handle records.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use serde::Serialize;

use super::layout::{self, Area, area};
use super::refs::{self, FileKind, Part, Ref};
use super::snapshot::{Rebase, Resolver, Snapshot};
use crate::storage::{Entry, Location, Storage};

/// Where a referenced file lives, relative to the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Label {
    /// The snapshot's own directory (`chk-<n>/` or `savepoint-…/`).
    Own,
    /// A savepoint file addressed relative to `_metadata` (moves with the savepoint).
    SavepointRelative,
    /// The job's `shared/` directory (incremental state reused across checkpoints).
    Shared,
    /// The job's `taskowned/` directory.
    TaskOwned,
    /// Another checkpoint of the same job.
    OtherCheckpoint {
        /// Its id.
        id: u64,
    },
    /// Another job's directory: the snapshot descends from a restore
    /// (CLAIM / LEGACY / NO_CLAIM lineage).
    OtherJob {
        /// That job's id (directory name).
        job: String,
        /// `shared`, `taskowned`, `chk-<n>`.
        area: String,
    },
    /// Another savepoint's directory.
    OtherSavepoint {
        /// Its directory name.
        name: String,
    },
    /// A physical file of Flink's checkpoint file merging (segments of it are referenced).
    FileMerging,
    /// A changelog (DSTL) file of the changelog state backend.
    Changelog,
    /// Anywhere else.
    External,
}

impl Label {
    /// A short human label.
    pub fn describe(&self) -> String {
        match self {
            Label::Own => "own directory".into(),
            Label::SavepointRelative => "savepoint-relative".into(),
            Label::Shared => "job's shared/".into(),
            Label::TaskOwned => "job's taskowned/".into(),
            Label::OtherCheckpoint { id } => format!("checkpoint chk-{id} of this job"),
            Label::OtherJob { job, area } => format!("other job {job} ({area})"),
            Label::OtherSavepoint { name } => format!("savepoint {name}"),
            Label::FileMerging => "file-merging physical file".into(),
            Label::Changelog => "changelog (DSTL)".into(),
            Label::External => "elsewhere".into(),
        }
    }
}

/// One file the snapshot needs.
#[derive(Debug, Clone, Serialize)]
pub struct Dep {
    /// Where it is.
    pub location: Location,
    /// Where that is, relative to the snapshot.
    pub label: Label,
    /// The directory it is grouped under.
    pub group: Location,
    /// Bytes the handles record: the file size for whole files; for segments
    /// and changelog offsets, the sum of the referenced parts.
    pub bytes: u64,
    /// The file must be at least this long (end of the furthest segment), or
    /// exactly `exact_size` long for whole-file handles.
    pub min_size: u64,
    /// The size the handle records for a whole file (`None` for segments or unknown).
    pub exact_size: Option<u64>,
    /// How many handles reference it.
    pub references: u32,
}

/// Totals per group.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// Label.
    pub label: Label,
    /// Directory.
    pub dir: Location,
    /// Distinct files.
    pub files: u64,
    /// Bytes (see [`Dep::bytes`]).
    pub bytes: u64,
}

/// What a snapshot needs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Deps {
    /// Distinct files, sorted by group then location.
    pub files: Vec<Dep>,
    /// Handles whose path could not be turned into a location.
    pub unresolved: Vec<(String, String)>,
    /// Inline handles (bytes inside `_metadata`).
    pub inline_handles: u64,
    /// Inline bytes.
    pub inline_bytes: u64,
}

fn group_dir(l: &Location, a: &Area) -> Location {
    // Walk up to the directory that names the area (`shared`, `chk-3`, …).
    let stop = |d: &Location| match a {
        Area::Checkpoint { id, .. } => layout::checkpoint_id(d.file_name()) == Some(*id),
        Area::Shared { .. } => d.file_name() == "shared",
        Area::TaskOwned { .. } => d.file_name() == "taskowned",
        Area::Savepoint { name } => d.file_name() == name,
        Area::Other => true,
    };
    l.ancestors()
        .take_while(|d| d.path() != "/")
        .find(stop)
        .unwrap_or_else(|| l.parent())
}

/// The job directory name and checkpoint id of a snapshot directory, if it is a `chk-<n>`.
fn own_job(s: &Snapshot) -> (Option<String>, Option<u64>) {
    match area(&s.metadata_location) {
        Area::Checkpoint { job, id } => (Some(job), Some(id)),
        _ => (None, None),
    }
}

/// Collects what `s` needs.
pub fn collect(s: &Snapshot, rebase: &Rebase) -> Deps {
    let resolver = Resolver {
        dir: &s.dir,
        rebase,
    };
    let own_dir = rebase.apply(s.dir.clone());
    let (job, own_id) = own_job(s);
    let mut by_loc: BTreeMap<String, Dep> = BTreeMap::new();
    let mut out = Deps::default();
    refs::visit(&s.metadata, |r| match r {
        Ref::Inline { size, .. } => {
            out.inline_handles += 1;
            out.inline_bytes += size;
        }
        Ref::File {
            origin,
            kind,
            path,
            size,
            start,
        } => {
            let loc = match resolver.resolve(kind, path) {
                Ok(l) => l,
                Err(e) => {
                    out.unresolved.push((path.to_owned(), e.to_string()));
                    return;
                }
            };
            let a = area(&loc);
            let label = if kind == FileKind::Relative && loc.starts_with(&own_dir) {
                // Flink 2.x writes a checkpoint's exclusive files as relative
                // handles too; only in savepoints is that worth a label. A
                // relative path that leaves the directory (`../…`) is
                // labelled by where it lands, like an absolute one.
                if own_id.is_some() {
                    Label::Own
                } else {
                    Label::SavepointRelative
                }
            } else if origin.part == Part::Changelog {
                Label::Changelog
            } else if kind == FileKind::Segment {
                Label::FileMerging
            } else if loc.starts_with(&own_dir) {
                Label::Own
            } else {
                match &a {
                    // Flink wrote the snapshot elsewhere (it was moved): its
                    // own files still carry the job id and checkpoint id.
                    Area::Checkpoint { job: j, id }
                        if Some(j) == job.as_ref() && Some(*id) == own_id =>
                    {
                        Label::Own
                    }
                    Area::Shared { job: j } if Some(j) == job.as_ref() => Label::Shared,
                    Area::TaskOwned { job: j } if Some(j) == job.as_ref() => Label::TaskOwned,
                    Area::Checkpoint { job: j, id } if Some(j) == job.as_ref() => {
                        Label::OtherCheckpoint { id: *id }
                    }
                    Area::Shared { job } => Label::OtherJob {
                        job: job.clone(),
                        area: "shared".into(),
                    },
                    Area::TaskOwned { job } => Label::OtherJob {
                        job: job.clone(),
                        area: "taskowned".into(),
                    },
                    Area::Checkpoint { job, id } => Label::OtherJob {
                        job: job.clone(),
                        area: format!("chk-{id}"),
                    },
                    Area::Savepoint { name } => Label::OtherSavepoint { name: name.clone() },
                    Area::Other => Label::External,
                }
            };
            let group = match label {
                Label::Own if loc.starts_with(&own_dir) => own_dir.clone(),
                Label::SavepointRelative => own_dir.clone(),
                _ => group_dir(&loc, &a),
            };
            let size = u64::try_from(size).ok();
            let segment = kind == FileKind::Segment || origin.part == Part::Changelog;
            let end = match (start, size) {
                (Some(st), Some(sz)) => u64::try_from(st).unwrap_or(0).saturating_add(sz),
                (None, Some(sz)) if segment => sz,
                _ => 0,
            };
            let key = loc.canonical();
            let d = by_loc.entry(key).or_insert_with(|| Dep {
                location: loc,
                label,
                group,
                bytes: 0,
                min_size: 0,
                exact_size: None,
                references: 0,
            });
            d.references += 1;
            if segment {
                d.bytes = d.bytes.saturating_add(size.unwrap_or(0));
                d.min_size = d.min_size.max(end);
            } else if let Some(sz) = size {
                // A whole file: every handle records its full length.
                d.bytes = d.bytes.max(sz);
                d.exact_size = Some(sz);
                d.min_size = d.min_size.max(sz);
            }
        }
    });
    out.files = by_loc.into_values().collect();
    out.files
        .sort_by(|a, b| (&a.label, &a.group, &a.location).cmp(&(&b.label, &b.group, &b.location)));
    out
}

/// The canonical paths of the distinct files `s` needs, sorted: the
/// locations of [`collect`]'s files without their labels, groups and sizes
/// (the cleanup planner reads thousands of snapshots and needs only these).
/// `Err` carries the handles whose path could not be turned into a location.
pub fn canonical_files(
    s: &Snapshot,
    rebase: &Rebase,
) -> Result<Vec<String>, Vec<(String, String)>> {
    let resolver = Resolver {
        dir: &s.dir,
        rebase,
    };
    let mut files = Vec::new();
    let mut unresolved = Vec::new();
    refs::visit(&s.metadata, |r| {
        if let Ref::File { kind, path, .. } = r {
            match resolver.resolve(kind, path) {
                Ok(l) => files.push(l.canonical()),
                Err(e) => unresolved.push((path.to_owned(), e.to_string())),
            }
        }
    });
    if !unresolved.is_empty() {
        return Err(unresolved);
    }
    files.sort_unstable();
    files.dedup();
    Ok(files)
}

/// A snapshot whose absolute references were recorded under another root
/// than the one it is read from: the tree was copied or moved after Flink
/// wrote it, or is reached through another path (a symlink, another URI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moved {
    /// The root Flink recorded: the checkpoints root above the job directory,
    /// or the directory holding a savepoint.
    pub recorded: Location,
    /// The same level where the snapshot is read.
    pub actual: Location,
    /// The job directory (or savepoint directory) as recorded.
    pub recorded_dir: Location,
}

impl Moved {
    /// The `--rebase` rule that maps the recorded root to the actual one.
    pub fn rebase(&self) -> String {
        format!("{}={}", self.recorded, self.actual)
    }
}

/// The snapshot's own directory name and the levels above it that make up
/// its root: `(<job>, 2)` for `<root>/<job>/chk-N`, `(savepoint-…, 1)` for
/// `<root>/savepoint-…`.
fn own_anchor(s: &Snapshot) -> Option<(String, usize)> {
    match area(&s.metadata_location) {
        Area::Checkpoint { job, .. } => Some((job, 2)),
        Area::Savepoint { name } if s.dir.file_name() == name => Some((name, 1)),
        _ => None,
    }
}

impl Deps {
    /// When the snapshot's files are recorded under another root than the
    /// one it was read from (copied or moved after Flink wrote it, or read
    /// through a symlink or another URI): the recorded root and the actual
    /// one, for a `--rebase` hint.
    ///
    /// Evidence is every resolved absolute reference into the snapshot's own
    /// job (`<job>/shared/…`, `<job>/taskowned/…`, `<job>/chk-N/…`, file-merging
    /// and changelog files there) or into its own savepoint directory. Flink
    /// ≥ 1.11 writes a snapshot's exclusive files as relative handles, which
    /// move with it and are no evidence. The answer is the same whether or
    /// not anything exists at the recorded location. References into other
    /// jobs are not used: a job restored from another root legitimately
    /// records that root; a root-level rule maps other jobs under the same
    /// root too.
    pub fn moved_from(&self, s: &Snapshot) -> Option<Moved> {
        let (anchor, levels) = own_anchor(s)?;
        let mut actual_dir = s.dir.clone();
        for _ in 1..levels {
            actual_dir = actual_dir.parent();
        }
        let actual = actual_dir.parent();
        self.files.iter().find_map(|d| {
            let parts: Vec<&str> = d.location.path().split('/').collect();
            // The innermost `<anchor>/<area>/…` pair names the own directory.
            let i = (1..parts.len().saturating_sub(levels)).rev().find(|&i| {
                parts[i] == anchor
                    && (levels == 1
                        || parts[i + 1] == "shared"
                        || parts[i + 1] == "taskowned"
                        || layout::checkpoint_id(parts[i + 1]).is_some())
            })?;
            let recorded_dir = d.location.with_path(&parts[..=i].join("/"));
            let recorded = recorded_dir.parent();
            (recorded.canonical() != actual.canonical()).then(|| Moved {
                recorded,
                actual: actual.clone(),
                recorded_dir,
            })
        })
    }

    /// Totals per (label, directory), in label order.
    pub fn groups(&self) -> Vec<Group> {
        let mut g: BTreeMap<(Label, Location), (u64, u64)> = BTreeMap::new();
        for d in &self.files {
            let e = g.entry((d.label.clone(), d.group.clone())).or_default();
            e.0 += 1;
            e.1 = e.1.saturating_add(d.bytes);
        }
        g.into_iter()
            .map(|((label, dir), (files, bytes))| Group {
                label,
                dir,
                files,
                bytes,
            })
            .collect()
    }

    /// Total bytes of all files.
    pub fn bytes(&self) -> u64 {
        self.files.iter().fold(0, |a, d| a.saturating_add(d.bytes))
    }

    /// Job ids of other jobs this snapshot depends on.
    pub fn other_jobs(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .files
            .iter()
            .filter_map(|d| match &d.label {
                Label::OtherJob { job, .. } => Some(job.as_str()),
                _ => None,
            })
            .collect();
        v.dedup();
        v
    }
}

/// What is wrong with one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// Not there.
    Missing,
    /// A directory where the handle names a file.
    IsDirectory,
    /// A whole file with another size than its handle records.
    SizeMismatch {
        /// Recorded.
        expected: u64,
        /// On storage.
        actual: u64,
    },
    /// Shorter than the furthest segment or changelog offset needs.
    TooShort {
        /// Needed.
        needed: u64,
        /// On storage.
        actual: u64,
    },
    /// The store could not be asked.
    Error {
        /// The error.
        message: String,
    },
}

impl Problem {
    /// One line for humans.
    pub fn describe(&self) -> String {
        match self {
            Problem::Missing => "missing".into(),
            Problem::IsDirectory => "is a directory".into(),
            Problem::SizeMismatch { expected, actual } => {
                format!("size {actual} bytes, the handle records {expected}")
            }
            Problem::TooShort { needed, actual } => {
                format!("only {actual} bytes, segments need {needed}")
            }
            Problem::Error { message } => message.clone(),
        }
    }
}

/// What is wrong with `d`, given what storage says about its location.
fn check(d: &Dep, stat: &Result<Option<Entry>, String>) -> Option<Problem> {
    match stat {
        Ok(None) => Some(Problem::Missing),
        Ok(Some(e)) if e.is_dir => Some(Problem::IsDirectory),
        Ok(Some(e)) => match d.exact_size {
            Some(x) if x != e.size => Some(Problem::SizeMismatch {
                expected: x,
                actual: e.size,
            }),
            None if e.size < d.min_size => Some(Problem::TooShort {
                needed: d.min_size,
                actual: e.size,
            }),
            _ => None,
        },
        Err(message) => Some(Problem::Error {
            message: message.clone(),
        }),
    }
}

/// Checks every file of `deps` (up to `concurrency` at once); returns the
/// problems in `deps.files` order, as (index, problem). `progress` gets the
/// number checked so far.
pub async fn verify(
    storage: &dyn Storage,
    deps: &Deps,
    concurrency: usize,
    progress: impl FnMut(usize),
) -> Vec<(usize, Problem)> {
    verify_all(storage, &[deps], concurrency, progress)
        .await
        .pop()
        .unwrap_or_default()
}

/// [`verify`] for several snapshots at once: each distinct location is
/// asked about once (checkpoints of one job share most of their files), with
/// at most `concurrency` requests in flight in all. Returns the problems of
/// each `Deps`, in its `files` order. `progress` gets the number of distinct
/// locations checked so far.
pub async fn verify_all(
    storage: &dyn Storage,
    all: &[&Deps],
    concurrency: usize,
    mut progress: impl FnMut(usize),
) -> Vec<Vec<(usize, Problem)>> {
    let mut distinct: BTreeMap<String, &Location> = BTreeMap::new();
    for d in all.iter().flat_map(|d| &d.files) {
        distinct
            .entry(d.location.canonical())
            .or_insert(&d.location);
    }
    let mut stats = futures_util::stream::iter(distinct)
        .map(|(key, loc)| async move {
            let stat = storage.stat(loc).await.map_err(|e| e.to_string());
            (key, stat)
        })
        .buffer_unordered(concurrency.max(1));
    let mut seen: BTreeMap<String, Result<Option<Entry>, String>> = BTreeMap::new();
    while let Some((key, stat)) = stats.next().await {
        seen.insert(key, stat);
        if seen.len().is_multiple_of(256) {
            progress(seen.len());
        }
    }
    progress(seen.len());
    all.iter()
        .map(|deps| {
            deps.files
                .iter()
                .enumerate()
                .filter_map(|(i, d)| {
                    let stat = seen.get(&d.location.canonical())?;
                    check(d, stat).map(|p| (i, p))
                })
                .collect()
        })
        .collect()
}
