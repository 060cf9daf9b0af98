//! What each job keeps: the retention rule, the snapshots to read, and the
//! checks that the references read match the files listed.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use futures_util::{StreamExt, TryStreamExt};

use super::refset::{Found, RefSet};
use super::{Error, KeepReason, Policy, ReadSnapshot, Reason};
use crate::analysis::deps;
use crate::analysis::layout::{self, JobDir, Scan};
use crate::analysis::snapshot::{self, Rebase};
use crate::storage;
use crate::storage::{Entry, Location, Storage};

/// Where snapshots and their decisions are.
pub(super) struct Decisions {
    /// Kept snapshot directories (canonical) → reason.
    pub(super) kept_dirs: BTreeMap<String, KeepReason>,
    /// Candidate checkpoint directories (canonical) → reason.
    pub(super) candidate_dirs: BTreeMap<String, Reason>,
    /// Referenced files (canonical), by fingerprint.
    pub(super) refs: RefSet,
    pub(super) snapshots_read: usize,
    /// Per job: the time of its newest completed checkpoint's `_metadata`.
    pub(super) newest_metadata: BTreeMap<String, jiff::Timestamp>,
}

impl Decisions {
    /// A regular `_metadata` in no snapshot directory the layout knows,
    /// not read yet: a copy of a snapshot outside Flink's layout (or one of
    /// a checkpoint gone since an inventory was taken).
    pub(super) fn is_stray(&self, e: &Entry) -> bool {
        if !e.is_file() || e.location.file_name() != "_metadata" {
            return false;
        }
        let dir = canonical_dir(&e.location.parent());
        !self.kept_dirs.contains_key(&dir)
            && !self.candidate_dirs.contains_key(&dir)
            && !self.refs.contains(&e.location.canonical())
    }
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

pub(super) fn canonical_dir(l: &Location) -> String {
    let mut s = l.canonical();
    if !s.ends_with('/') {
        s.push('/');
    }
    s
}

/// The innermost directory of `dirs` (canonical keys ending in `/`) that
/// holds the canonical path `file` (or is it, for a key). Keys may nest: the
/// greatest key not above `file` is the answer when it is an ancestor;
/// otherwise a sibling sorts in between (`/a/b-c/` between `/a/` and
/// `/a/b/x`), and every ancestor lies within the common prefix of the two,
/// so the search narrows to that prefix and repeats (one range query for
/// most files, a few at most: each round ends on a shorter key).
pub(super) fn dir_of<'a, V>(
    dirs: &'a BTreeMap<String, V>,
    file: &str,
) -> Option<(&'a String, &'a V)> {
    use std::ops::Bound;
    let mut upto = file;
    loop {
        let (d, v) = dirs
            .range::<str, _>((Bound::Unbounded, Bound::Included(upto)))
            .next_back()?;
        if file.starts_with(d.as_str()) {
            return Some((d, v));
        }
        let common = d
            .bytes()
            .zip(file.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        // `/` is ASCII: cutting after it keeps `upto` a valid `str`.
        let cut = file.as_bytes()[..common].iter().rposition(|&b| b == b'/')?;
        upto = &file[..=cut];
    }
}

/// The files the snapshot in `dir` references (canonical paths, after
/// `rebase`).
pub(super) async fn read_refs(
    storage: &dyn Storage,
    dir: &Location,
    rebase: &Rebase,
) -> Result<Vec<String>, Error> {
    refs_of(storage, dir, None, rebase).await
}

/// [`read_refs`] of a snapshot the planner listed a moment ago: its
/// `_metadata` is read without another stat (a `_metadata` written since is
/// read as it is now; a gone one fails the read).
pub(super) async fn read_listed_refs(
    storage: &dyn Storage,
    r: &ReadSnapshot,
    rebase: &Rebase,
) -> Result<Vec<String>, Error> {
    // Size 0: not listed as a regular file (or empty): stat it.
    let listed = (r.metadata_bytes > 0).then(|| Entry {
        location: r.path.join("_metadata"),
        size: r.metadata_bytes,
        modified: r.metadata_modified,
        is_dir: false,
        special: false,
        version: None,
    });
    refs_of(storage, &r.path, listed, rebase).await
}

/// `_metadata` files up to this size are parsed on the runtime's threads.
const PARSE_ON_RUNTIME_UP_TO: usize = 256 << 10;

async fn refs_of(
    storage: &dyn Storage,
    dir: &Location,
    listed: Option<Entry>,
    rebase: &Rebase,
) -> Result<Vec<String>, Error> {
    let unreadable = |e: snapshot::Error| Error::UnreadableMetadata {
        location: dir.join("_metadata").to_string(),
        reason: e.to_string(),
    };
    let read = match listed {
        Some(entry) => snapshot::read_entry(storage, entry).await,
        None => snapshot::read(storage, dir).await,
    };
    let (entry, bytes) = read.map_err(unreadable)?;
    let bytes_len = bytes.len();
    // Parsing is the CPU-bound half: on another thread, so the snapshots
    // read concurrently are also parsed in parallel (the planner itself runs
    // on one thread). A small file (a few hundred microseconds) is a task
    // of the runtime's own threads, which are idle meanwhile; a thread of
    // the blocking pool costs thread switches and lock waits worth more
    // than that (thousands of snapshots). A large one gets such a thread.
    let rebase = rebase.clone();
    let work = move || {
        let s = snapshot::parse(entry, bytes)?;
        Ok(deps::canonical_files(&s, &rebase).map_err(|unresolved| {
            let (path, e) = &unresolved[0];
            Error::UnreadableMetadata {
                location: s.metadata_location.to_string(),
                reason: format!("cannot locate {path:?}: {e}"),
            }
        }))
    };
    let parsed = if bytes_len <= PARSE_ON_RUNTIME_UP_TO {
        tokio::spawn(async move { work() }).await
    } else {
        tokio::task::spawn_blocking(work).await
    };
    match parsed {
        Ok(r) => r.map_err(unreadable)?,
        Err(e) => Err(Error::UnreadableMetadata {
            location: dir.join("_metadata").to_string(),
            reason: format!("parsing stopped: {e}"),
        }),
    }
}

/// A job's newest completed checkpoint by id, and the one whose `_metadata`
/// was written last: they differ when a job redeployed from an older
/// snapshot restarted its ids below a stale higher chk-N. Both are kept.
pub(super) fn newest(j: &JobDir) -> (Option<u64>, Option<u64>) {
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
pub(super) fn retained<'j>(
    j: &'j JobDir,
    policy: &Policy,
) -> impl Iterator<Item = &'j layout::CheckpointDir> {
    j.completed().rev().take(policy.keep_last.max(1))
}

pub(super) fn decide_job(
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

/// Whether `reference` lies behind one of the special entries `links`.
pub(super) fn behind_a_link(reference: &str, links: &HashSet<String>) -> bool {
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
pub(super) async fn linked_snapshots(
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
pub(super) fn check_names(
    policy: &Policy,
    scan: &Scan,
    sp_scan: Option<&Scan>,
) -> Result<(), Error> {
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
/// root that a stat does not find. The set holds fingerprints only, so the
/// paths come from reading the kept snapshots `read` again, which happens
/// only when the listing did not find every reference under the root.
pub(super) async fn missing_references(
    storage: &dyn Storage,
    (root, scope): (&Location, &Location),
    rebase: &Rebase,
    (refs, found): (&RefSet, &Found),
    read: &[ReadSnapshot],
    scope_listed_whole: bool,
    concurrency: usize,
) -> Result<Vec<String>, Error> {
    if found.all_under_root(refs) {
        return Ok(Vec::new());
    }
    let (root_key, scope_key) = (canonical_dir(root), canonical_dir(scope));
    let mut not_found: HashSet<String> = HashSet::new();
    let mut reads = futures_util::stream::iter(read)
        .map(|r| read_listed_refs(storage, r, rebase))
        .buffer_unordered(concurrency.max(1));
    while let Some(paths) = reads.next().await {
        for p in paths? {
            let listed = refs.index(&p).is_some_and(|i| found.get(i));
            if p.starts_with(&root_key) && !listed {
                not_found.insert(p);
            }
        }
    }
    drop(reads);
    let mut missing: Vec<String> = Vec::new();
    let mut to_stat: Vec<String> = Vec::new();
    for r in not_found {
        // A whole listing of the scope is the answer there; an inventory
        // lacks what was written after it: ask the store.
        if scope_listed_whole && r.starts_with(&scope_key) {
            missing.push(r);
        } else {
            to_stat.push(r);
        }
    }
    let mut stats = futures_util::stream::iter(to_stat)
        .map(|r| async move {
            let l = Location::parse(&r)?;
            let there = storage.stat(&l).await?;
            Ok::<_, storage::Error>((r, there))
        })
        .buffer_unordered(concurrency.max(1));
    while let Some(s) = stats.next().await {
        if let (r, None) = s? {
            missing.push(r);
        }
    }
    missing.sort();
    Ok(missing)
}

/// Fails with [`Error::MissingReferences`] unless every kept snapshot that
/// references a missing file is itself gone (Flink subsumed it while the
/// plan was made: its successor's new files are newer than the newest
/// `_metadata` read and kept as such).
pub(super) async fn check_missing(
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
            let refs: HashSet<String> = read_refs(storage, &r.path, rebase)
                .await?
                .into_iter()
                .collect();
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
pub(super) async fn find_by_name(
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
pub(super) fn rebase_hint(
    reference: &str,
    actual: &Location,
    rebase: &Rebase,
) -> Option<(String, String)> {
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
pub(super) fn looks_like_working_dir(rel_in_job: &str) -> bool {
    rel_in_job
        .split('/')
        .any(|c| c == "db" || c.to_ascii_lowercase().contains("forst"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_of_finds_the_innermost_directory_even_when_keys_nest() {
        let dirs: BTreeMap<String, u8> = [("/a/", 1), ("/a/b-c/", 2), ("/a/b/", 3), ("/z/", 4)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let at = |f: &str| dir_of(&dirs, f).map(|(_, v)| *v);
        assert_eq!(at("/a/b/x"), Some(3));
        assert_eq!(at("/a/b-c/x"), Some(2));
        assert_eq!(at("/a/x"), Some(1));
        assert_eq!(at("/a/b-d/x"), Some(1), "a sibling sorts in between");
        assert_eq!(at("/a/"), Some(1));
        assert_eq!(at("/b/x"), None);
        assert_eq!(at("/"), None);
        let without_b: BTreeMap<String, u8> = [("/a/", 1), ("/a/b-c/", 2)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(dir_of(&without_b, "/a/b/x").map(|(_, v)| *v), Some(1));
        // Keys that differ inside a multi-byte character (é = C3 A9, è = C3 A8).
        let accents: BTreeMap<String, u8> = [("/a/", 1), ("/a/è/", 2)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(dir_of(&accents, "/a/é/x").map(|(_, v)| *v), Some(1));
        assert_eq!(dir_of(&accents, "/a/è/x").map(|(_, v)| *v), Some(2));
    }
}
