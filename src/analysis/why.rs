//! Which snapshots reference a file, or anything under a directory, and
//! whether "none" can be believed: every `_metadata` in scope must have been
//! read, and every snapshot's references must be recorded where it is read.
//!
//! A snapshot copied or moved after Flink wrote it, or read through another
//! path (a symlink, another URI), records its absolute references under the
//! old root: they can match nothing at the new one. Such snapshots are
//! detected the way `deps` ([`deps::Deps::moved_from`]) and `safe-to-delete`
//! (`cleanup::check_recorded_locations`) detect them, and reported with the
//! `--rebase` that maps them, and with the ones that would reference the
//! target under that mapping.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::StreamExt;
use serde::Serialize;

use super::cleanup;
use super::deps::{self, Moved};
use super::layout::{Area, area};
use super::refs::{self, Ref};
use super::snapshot::{self, Rebase, Resolver, Snapshot};
use crate::resolve::{self, Target};
use crate::storage::{self, Location, Storage};

/// Why the scopes could not be searched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Listing a scope failed.
    #[error(transparent)]
    Storage(#[from] storage::Error),
    /// A snapshot scope has no readable `_metadata`.
    #[error(transparent)]
    Snapshot(#[from] snapshot::Error),
    /// A scope could not be classified.
    #[error(transparent)]
    Resolve(#[from] resolve::Error),
}

/// One reference to the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// The snapshot directory.
    pub snapshot: Location,
    /// Its checkpoint id.
    pub checkpoint_id: i64,
    /// The operator's uid, else its id in hex.
    pub operator: String,
    /// The subtask (`None` for coordinator state).
    pub subtask: Option<i32>,
    /// The slot (`managed_keyed`, …).
    pub role: &'static str,
    /// The referenced file.
    pub file: Location,
}

/// Snapshots whose references are recorded under another root than the one
/// they are read from.
#[derive(Debug, Clone, Serialize)]
pub struct Elsewhere {
    /// The recorded root and the actual one.
    #[serde(flatten)]
    pub moved: Moved,
    /// The snapshots.
    pub snapshots: Vec<Location>,
    /// Those that reference the target once `moved` is mapped (`--rebase`).
    pub would_reference: Vec<Location>,
}

/// What the search found.
#[derive(Debug, Default)]
pub struct Answer {
    /// References to the target, in snapshot order.
    pub hits: Vec<Hit>,
    /// `_metadata` files in scope (read or not).
    pub snapshots_read: u64,
    /// Those that could not be read, with why.
    pub unreadable: Vec<(Location, String)>,
    /// Snapshots recorded under other roots, per (recorded, actual) pair.
    pub elsewhere: Vec<Elsewhere>,
}

/// What can be said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// At least one snapshot references the target.
    Referenced,
    /// Every snapshot in scope was read, each where Flink recorded it, and
    /// none references the target.
    NotReferenced,
    /// No `_metadata` in scope.
    NothingToSearch,
    /// None found, but some `_metadata` could not be read or some snapshots
    /// record their files elsewhere: "not referenced" is not proven.
    Unproven,
}

impl Answer {
    /// The distinct snapshot directories that reference the target.
    pub fn snapshots(&self) -> BTreeSet<String> {
        self.hits.iter().map(|h| h.snapshot.to_string()).collect()
    }

    /// The verdict.
    pub fn verdict(&self) -> Verdict {
        if !self.hits.is_empty() {
            Verdict::Referenced
        } else if self.snapshots_read == 0 {
            Verdict::NothingToSearch
        } else if !self.unreadable.is_empty() || !self.elsewhere.is_empty() {
            Verdict::Unproven
        } else {
            Verdict::NotReferenced
        }
    }
}

/// Appends the references of `s` to `target` (a file, or anything under a directory).
pub fn references(s: &Snapshot, target: &Location, rebase: &Rebase, out: &mut Vec<Hit>) {
    let resolver = Resolver {
        dir: &s.dir,
        rebase,
    };
    refs::visit(&s.metadata, |r| {
        let Ref::File {
            origin, kind, path, ..
        } = r
        else {
            return;
        };
        let Ok(loc) = resolver.resolve(kind, path) else {
            return;
        };
        if !loc.starts_with(target) {
            return;
        }
        let op = &s.metadata.operators[origin.operator];
        let name = op
            .uid
            .as_ref()
            .filter(|u| !u.is_empty())
            .map(|u| u.to_string())
            .unwrap_or_else(|| op.id.to_hex());
        let dup = out.last().is_some_and(|h| {
            h.snapshot == s.dir
                && h.file == loc
                && h.subtask == origin.subtask
                && h.operator == name
        });
        if !dup {
            out.push(Hit {
                snapshot: s.dir.clone(),
                checkpoint_id: s.metadata.checkpoint_id,
                operator: name,
                subtask: origin.subtask,
                role: origin.role.as_str(),
                file: loc,
            });
        }
    });
}

/// Where `s` is recorded, if not where it is read: from its own absolute
/// references ([`deps::Deps::moved_from`]), else, for a snapshot listed under
/// the directory scope `root`, from references to any job listed there
/// (`jobs`) at a location outside it (what `safe-to-delete` refuses).
pub fn recorded_elsewhere(
    s: &Snapshot,
    rebase: &Rebase,
    root: Option<&Location>,
    jobs: &BTreeSet<&str>,
) -> Option<Moved> {
    let d = deps::collect(s, rebase);
    if let Some(m) = d.moved_from(s) {
        return Some(m);
    }
    let root = root?;
    let refs: Vec<String> = d.files.iter().map(|f| f.location.canonical()).collect();
    match cleanup::check_recorded_locations(&refs, root, jobs) {
        Err(cleanup::Error::RecordedElsewhere { recorded, job, .. }) => {
            // A canonical prefix (`/p`, `s3://bucket/p`): a location again.
            let recorded = Location::parse(&recorded).ok()?;
            Some(Moved {
                recorded_dir: recorded.join(&job),
                recorded,
                actual: root.clone(),
            })
        }
        _ => None,
    }
}

/// Every `_metadata` under `scopes` (a snapshot scope is just itself), with
/// the directory scope it was listed under.
async fn metadata_files(
    storage: &dyn Storage,
    scopes: &[Location],
) -> Result<Vec<(Location, Option<usize>)>, Error> {
    let mut metas = Vec::new();
    for (i, s) in scopes.iter().enumerate() {
        if let Target::Snapshot(l) = resolve::classify(s.clone(), storage).await? {
            metas.push((snapshot::find_metadata(storage, &l).await?.location, None));
            continue;
        }
        let mut list = storage.list(s, true);
        while let Some(e) = list.next().await {
            let e = e?;
            if e.is_file() && e.location.file_name() == "_metadata" {
                metas.push((e.location, Some(i)));
            }
        }
    }
    metas.sort();
    metas.dedup_by(|a, b| a.0 == b.0);
    Ok(metas)
}

/// Every `_metadata` under `scopes` without listing every file: the
/// snapshot directories Flink's layout puts them in (`<job>/chk-N/`,
/// `savepoint-…/`, or `chk-N/` of a job directory scope) are listed live,
/// level by level (never `shared/` or `taskowned/`), and `more` (the
/// `_metadata` rows of an inventory report: copies outside the layout) are
/// added when a stat finds them still there.
pub async fn metadata_files_shallow(
    storage: &dyn Storage,
    scopes: &[Location],
    more: Vec<Location>,
    concurrency: usize,
) -> Result<Vec<(Location, Option<usize>)>, Error> {
    use crate::names::{checkpoint_id, is_job_id, is_savepoint_dir};
    let mut metas = Vec::new();
    let mut snapshot_dirs: Vec<(Location, usize)> = Vec::new();
    for (i, s) in scopes.iter().enumerate() {
        if let Target::Snapshot(l) = resolve::classify(s.clone(), storage).await? {
            metas.push((snapshot::find_metadata(storage, &l).await?.location, None));
            continue;
        }
        let mut jobs = Vec::new();
        let mut list = storage.list(s, false);
        while let Some(e) = list.next().await {
            let e = e?;
            let name = e.location.file_name();
            if !e.is_dir {
                continue;
            }
            if is_job_id(name) {
                jobs.push(e.location);
            } else if checkpoint_id(name).is_some() || is_savepoint_dir(name) {
                snapshot_dirs.push((e.location, i));
            }
        }
        drop(list);
        let mut listed = futures_util::stream::iter(jobs)
            .map(|j| async move {
                let mut dirs = Vec::new();
                let mut list = storage.list(&j, false);
                while let Some(e) = list.next().await {
                    let e = e?;
                    if e.is_dir && checkpoint_id(e.location.file_name()).is_some() {
                        dirs.push(e.location);
                    }
                }
                Ok::<_, storage::Error>(dirs)
            })
            .buffer_unordered(concurrency.max(1));
        while let Some(dirs) = listed.next().await {
            snapshot_dirs.extend(dirs?.into_iter().map(|d| (d, i)));
        }
    }
    let candidates = snapshot_dirs
        .into_iter()
        .map(|(d, i)| (d.join("_metadata"), Some(i)))
        .chain(more.into_iter().map(|m| {
            let i = scopes.iter().position(|s| m.starts_with(s));
            (m, i)
        }));
    let mut stats = futures_util::stream::iter(candidates)
        .map(|(m, i)| async move {
            let there = storage.stat(&m).await?.is_some_and(|e| e.is_file());
            Ok::<_, storage::Error>(there.then_some((m, i)))
        })
        .buffer_unordered(concurrency.max(1));
    while let Some(m) = stats.next().await {
        metas.extend(m?);
    }
    metas.sort();
    metas.dedup_by(|a, b| a.0 == b.0);
    Ok(metas)
}

/// Where to search when no scope is given: the checkpoints root above the
/// target's job directory (the target is one, or lies inside one), then each
/// of `roots` not already covered; the target's parent when none applies.
pub fn default_scopes<'a>(
    target: &Location,
    roots: impl IntoIterator<Item = &'a Location>,
) -> Vec<Location> {
    let mut v = Vec::new();
    let job_dir_of = |l: &Location| -> Option<Location> {
        let job = match area(l) {
            Area::Checkpoint { job, .. } | Area::Shared { job } | Area::TaskOwned { job } => job,
            _ => return None,
        };
        l.ancestors()
            .take_while(|d| d.path() != "/")
            .find(|d| d.file_name() == job)
    };
    let job_dir = if crate::names::is_job_id(target.file_name()) {
        Some(target.clone())
    } else {
        job_dir_of(target).or_else(|| job_dir_of(&target.join("x/y")))
    };
    if let Some(j) = job_dir {
        v.push(j.parent());
    }
    for r in roots {
        if !v.iter().any(|s: &Location| r.starts_with(s)) {
            v.push(r.clone());
        }
    }
    if v.is_empty() {
        v.push(target.parent());
    }
    v
}

/// Reads every `_metadata` under `scopes` (up to `concurrency` at once) and
/// finds the references to `target`. `progress` gets the number read so far.
pub async fn search(
    storage: &dyn Storage,
    scopes: &[Location],
    target: &Location,
    rebase: &Rebase,
    concurrency: usize,
    progress: impl FnMut(u64),
) -> Result<Answer, Error> {
    let metas = metadata_files(storage, scopes).await?;
    search_in(
        storage,
        scopes,
        metas,
        target,
        rebase,
        concurrency,
        progress,
    )
    .await
}

/// [`search`] over the `_metadata` files `metas` (each with the index of the
/// directory scope it lies under), found some other way than listing every
/// file: [`metadata_files_shallow`].
pub async fn search_in(
    storage: &dyn Storage,
    scopes: &[Location],
    metas: Vec<(Location, Option<usize>)>,
    target: &Location,
    rebase: &Rebase,
    concurrency: usize,
    mut progress: impl FnMut(u64),
) -> Result<Answer, Error> {
    // Per directory scope that is a checkpoints root: the jobs listed there.
    let mut jobs: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for (m, scope) in &metas {
        if let (Some(i), Area::Checkpoint { job, .. }) = (scope, area(m))
            && m.parent().parent().parent().canonical() == scopes[*i].canonical()
        {
            jobs.entry(*i).or_default().insert(job);
        }
    }
    let mut loaded = futures_util::stream::iter(metas)
        .map(|(m, scope)| async move {
            let r = snapshot::load(storage, &m).await;
            (m, scope, r)
        })
        .buffered(concurrency.max(1));
    let mut answer = Answer::default();
    let mut elsewhere: BTreeMap<(String, String), Elsewhere> = BTreeMap::new();
    while let Some((m, scope, r)) = loaded.next().await {
        answer.snapshots_read += 1;
        progress(answer.snapshots_read);
        let s = match r {
            Ok(s) => s,
            Err(e) => {
                answer.unreadable.push((m, e.to_string()));
                continue;
            }
        };
        references(&s, target, rebase, &mut answer.hits);
        let root = scope.map(|i| &scopes[i]);
        let listed: BTreeSet<&str> = scope
            .and_then(|i| jobs.get(&i))
            .map(|j| j.iter().map(String::as_str).collect())
            .unwrap_or_default();
        if let Some(moved) = recorded_elsewhere(&s, rebase, root, &listed) {
            let mut would = Vec::new();
            let mapped = rebase.with(moved.recorded.clone(), moved.actual.clone());
            references(&s, target, &mapped, &mut would);
            let e = elsewhere
                .entry((moved.recorded.canonical(), moved.actual.canonical()))
                .or_insert_with(|| Elsewhere {
                    moved,
                    snapshots: Vec::new(),
                    would_reference: Vec::new(),
                });
            e.snapshots.push(s.dir.clone());
            if !would.is_empty() {
                e.would_reference.push(s.dir.clone());
            }
        }
    }
    answer.elsewhere = elsewhere.into_values().collect();
    Ok(answer)
}
