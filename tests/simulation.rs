//! Simulation of the cleanup over thousands of random checkpoint histories
//! (proptest): `cleanup::plan`, then Flink keeps writing, then
//! `apply::revalidate` and `apply::apply`, all on an in-memory store.
//!
//! A case is a history of up to four jobs under one checkpoints root:
//! incremental checkpoints reusing the previous checkpoint's `shared/` files,
//! subsumption by Flink (which sometimes fails to delete, leaving subsumed
//! checkpoints and orphans behind), checkpoints in progress and crashed ones,
//! jobs restored from another job's checkpoint in CLAIM, NO_CLAIM or LEGACY
//! mode, savepoints, stray files. A random policy plans a cleanup; then more
//! events happen before the plan is applied (new checkpoints, restores from a
//! checkpoint the plan wants to delete, files changed or gone, Flink deleting
//! things itself); then every candidate is applied. Checked:
//!
//! * nothing referenced by a snapshot kept at apply time is deleted, nor its
//!   `_metadata` (kept: the newest completed checkpoint of each job not
//!   dropped, see [`APPLY_KEEP_LAST`]; every snapshot new since planning;
//!   savepoints not included; every completed snapshot the plan did not
//!   select for deletion);
//! * nothing outside the roots is deleted, and only planned candidates (or
//!   files inside planned candidate directories);
//! * a snapshot directory loses its `_metadata` before any other file;
//! * the plan itself never selects what a kept snapshot references, and it
//!   selects every unreferenced `shared/` file and subsumed checkpoint (so
//!   the safety checks are not vacuous).
//!
//! The `_metadata` bytes are NOT from Flink: they are built from the model
//! types and serialized by this crate's own writer (`metadata::write`, the
//! test-side writer); every one is parsed back and its references collected
//! with `deps::collect` to be exactly the files the model meant.
//!
//! `PROPTEST_CASES=N` runs N histories instead of 2,000 (`PROPTEST_RNG_SEED`
//! fixes the seed). A failure shows the shrunk history as the model logged
//! it: events, the plan's candidates, what the re-check dropped. The last
//! tests replay the minimal histories of the bugs found so far.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Mutex;

use flink_chk::analysis::cleanup::apply::{self, Event};
use flink_chk::analysis::cleanup::revalidate;
use flink_chk::analysis::cleanup::{self, Candidate, PlanFile, Policy, Roots};
use flink_chk::analysis::deps;
use flink_chk::analysis::snapshot::{self, Rebase, Snapshot};
use flink_chk::metadata::{
    self, CheckpointMetadata, Dialect, IncrementalHandle, KeyGroupRange, KeyedHandle, NamedHandle,
    OperatorHandle, OperatorId, OperatorState, OperatorStateEntry, StreamHandle, SubtaskEntry,
    SubtaskState, Subtasks,
};
use flink_chk::storage::{BoxFuture, BoxStream, Entry, Error, Location, Storage};
use jiff::Timestamp;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

const CK: &str = "/sim/ck";
const SP: &str = "/sim/sp";
/// Jobs a history may create before planning, and in all.
const JOBS_PLANNED: usize = 4;
const JOBS_MAX: usize = 5;
const DEFAULT_CASES: u32 = 2000;
/// At apply time, the newest completed checkpoint of each job not dropped is
/// kept even if the plan selected it (`apply` re-checks exactly that). The
/// newest `keep_last` are decided when planning: a plan-time candidate that
/// moves up into the newest `keep_last` because newer ones were deleted
/// meanwhile (a job restored in CLAIM mode subsuming them, a `_metadata`
/// removed by hand) is still deleted, as planned.
/// Set to a policy's `keep_last` to check the stricter rule.
const APPLY_KEEP_LAST: usize = 1;

// ---------------------------------------------------------------------------
// In-memory storage with the listing shape of `LocalStorage`.

#[derive(Debug, Clone, PartialEq)]
struct File {
    data: Vec<u8>,
    modified: Timestamp,
}

#[derive(Debug, Default, Clone)]
struct Fs {
    files: BTreeMap<String, File>,
    /// Directories (every ancestor of a file, plus empty ones), until removed.
    dirs: BTreeSet<String>,
    /// Listing order: 0 sorted, 1 reversed, 2 scrambled.
    order: u8,
    /// Every path handed to `delete_files`, in order.
    deletes: Vec<String>,
    /// Every directory `remove_dir_if_empty` removed.
    rmdirs: Vec<String>,
}

fn under(path: &str, dir: &str) -> bool {
    path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/'
}

fn parent(path: &str) -> &str {
    &path[..path.rfind('/').unwrap_or(0)]
}

fn file_name(path: &str) -> &str {
    &path[path.rfind('/').map_or(0, |i| i + 1)..]
}

fn scramble(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Fs {
    fn mkdirs(&mut self, dir: &str) {
        let mut d = dir;
        while d.len() > 1 && self.dirs.insert(d.to_owned()) {
            d = parent(d);
        }
    }

    fn put(&mut self, path: &str, data: Vec<u8>, modified: Timestamp) {
        self.mkdirs(parent(path));
        self.files.insert(path.to_owned(), File { data, modified });
    }

    fn is_dir(&self, path: &str) -> bool {
        self.dirs.contains(path) || self.anything_under(path)
    }

    fn anything_under(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        let first = |s: &BTreeSet<String>| s.range(prefix.clone()..).next().cloned();
        self.files
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
            || first(&self.dirs).is_some_and(|k| k.starts_with(&prefix))
    }

    fn entry(&self, loc: Location, path: &str) -> Option<Entry> {
        if let Some(f) = self.files.get(path) {
            return Some(Entry {
                location: loc,
                size: f.data.len() as u64,
                modified: Some(f.modified),
                is_dir: false,
                special: false,
            });
        }
        self.is_dir(path).then_some(Entry {
            location: loc,
            size: 0,
            modified: None,
            is_dir: true,
            special: false,
        })
    }

    /// What `LocalStorage::list` returns: direct children (files and
    /// directories), or every file below (no directories); a missing
    /// directory or a file lists as empty.
    fn list(&self, dir: &Location, recursive: bool) -> Vec<Entry> {
        let d = dir.path().trim_end_matches('/');
        let prefix = format!("{d}/");
        let mut names: BTreeSet<String> = BTreeSet::new();
        let files = self.files.range(prefix.clone()..).map(|(k, _)| k);
        let files = files.take_while(|k| k.starts_with(&prefix));
        let dirs = self.dirs.range(prefix.clone()..);
        let dirs = dirs.take_while(|k| k.starts_with(&prefix));
        for k in files.chain(
            if recursive { None } else { Some(dirs) }
                .into_iter()
                .flatten(),
        ) {
            let rel = &k[prefix.len()..];
            if recursive {
                names.insert(rel.to_owned());
            } else {
                names.insert(rel.split('/').next().unwrap_or(rel).to_owned());
            }
        }
        let mut out: Vec<Entry> = names
            .iter()
            .filter_map(|rel| self.entry(dir.join(rel), &format!("{prefix}{rel}")))
            .collect();
        match self.order {
            1 => out.reverse(),
            2 => out.sort_by_key(|e| scramble(e.location.path())),
            _ => {}
        }
        out
    }
}

#[derive(Debug, Default)]
struct Mem {
    fs: Mutex<Fs>,
}

impl Mem {
    fn lock(&self) -> std::sync::MutexGuard<'_, Fs> {
        self.fs.lock().unwrap()
    }
}

fn not_a_dir(location: &Location, what: &str) -> Error {
    Error::Io {
        location: location.to_string(),
        source: std::io::Error::other(what.to_owned()),
    }
}

impl Storage for Mem {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn stat<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Option<Entry>, Error>> {
        let r = self.lock().entry(location.clone(), location.path());
        Box::pin(std::future::ready(Ok(r)))
    }

    fn read<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        let r = match self.lock().files.get(location.path()) {
            Some(f) => Ok(f.data.clone()),
            None => Err(Error::NotFound {
                location: location.to_string(),
            }),
        };
        Box::pin(std::future::ready(r))
    }

    fn read_range<'a>(
        &'a self,
        location: &'a Location,
        offset: u64,
        len: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        let r = match self.lock().files.get(location.path()) {
            Some(f) => {
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(f.data.len());
                let end = start
                    .saturating_add(usize::try_from(len).unwrap_or(usize::MAX))
                    .min(f.data.len());
                Ok(f.data[start..end].to_vec())
            }
            None => Err(Error::NotFound {
                location: location.to_string(),
            }),
        };
        Box::pin(std::future::ready(r))
    }

    fn list<'a>(
        &'a self,
        dir: &'a Location,
        recursive: bool,
    ) -> BoxStream<'a, Result<Entry, Error>> {
        let entries = self.lock().list(dir, recursive);
        Box::pin(futures_util::stream::iter(entries.into_iter().map(Ok)))
    }

    fn delete_files<'a>(&'a self, files: &'a [Location]) -> BoxFuture<'a, Vec<Result<(), Error>>> {
        let mut fs = self.lock();
        let out = files
            .iter()
            .map(|l| {
                fs.deletes.push(l.path().to_owned());
                if fs.is_dir(l.path()) {
                    return Err(not_a_dir(l, "is a directory, not a file (not deleted)"));
                }
                fs.files.remove(l.path());
                Ok(())
            })
            .collect();
        Box::pin(std::future::ready(out))
    }

    fn remove_dir_if_empty<'a>(&'a self, dir: &'a Location) -> BoxFuture<'a, Result<bool, Error>> {
        let mut fs = self.lock();
        let p = dir.path();
        let r = if fs.files.contains_key(p) {
            Err(not_a_dir(dir, "not a directory (not removed)"))
        } else if !fs.dirs.contains(p) || fs.anything_under(p) {
            Ok(false)
        } else {
            fs.dirs.remove(p);
            fs.rmdirs.push(p.to_owned());
            Ok(true)
        };
        Box::pin(std::future::ready(r))
    }
}

// ---------------------------------------------------------------------------
// `_metadata` built from the model types (test-side writer, not Flink bytes).

fn file_handle(path: &str, size: u64) -> StreamHandle {
    StreamHandle::File {
        size: size as i64,
        path: format!("file:{path}").as_str().into(),
    }
}

/// A handle for `path`, relative to `dir` when asked and possible.
fn handle(dir: &str, path: &str, size: u64, relative: bool) -> StreamHandle {
    if relative && parent(path) == dir {
        StreamHandle::Relative {
            relative_path: file_name(path).into(),
            size: size as i64,
        }
    } else {
        file_handle(path, size)
    }
}

/// One operator, one subtask: an incremental RocksDB handle (meta file,
/// shared `.sst` files, private files) and, for a task-owned file, a managed
/// operator state.
fn build_metadata(
    id: u64,
    dir: &str,
    exclusive: &[(String, u64)],
    shared: &[(String, u64)],
    others: &[(String, u64)],
    relative: bool,
) -> CheckpointMetadata {
    let named = |i: usize, h: StreamHandle| NamedHandle {
        local_path: format!("{:06}.sst", i + 1).as_str().into(),
        handle: Some(h),
    };
    let mut private: Vec<NamedHandle> = exclusive
        .iter()
        .skip(1)
        .enumerate()
        .map(|(i, (p, s))| named(i, handle(dir, p, *s, relative)))
        .collect();
    let mut operator = None;
    for (p, s) in others {
        if p.contains("/taskowned/") && operator.is_none() {
            operator = Some(OperatorHandle {
                states: vec![OperatorStateEntry {
                    name: "buffer".into(),
                    mode: 0,
                    offsets: vec![0],
                }],
                file_merging: None,
                delegate: Some(file_handle(p, *s)),
            });
        } else {
            private.push(named(private.len(), file_handle(p, *s)));
        }
    }
    let keyed = IncrementalHandle {
        v2: false,
        checkpoint_id: id as i64,
        backend_id: "5d3c2b1a-0000-4000-8000-000000000000".into(),
        range: KeyGroupRange {
            start: 0,
            count: 128,
        },
        checkpointed_size: None,
        meta: exclusive.first().map(|(p, s)| handle(dir, p, *s, relative)),
        shared: shared
            .iter()
            .enumerate()
            .map(|(i, (p, s))| named(i, file_handle(p, *s)))
            .collect(),
        private,
        handle_id: None,
    };
    let state = SubtaskState {
        v2_legacy: None,
        managed_operator_flag: i32::from(operator.is_some()),
        managed_operator: operator,
        raw_operator_flag: 0,
        raw_operator: None,
        managed_keyed: Some(KeyedHandle::Incremental(Box::new(keyed))),
        raw_keyed: None,
        input_channels: Vec::new(),
        result_subpartitions: Vec::new(),
    };
    CheckpointMetadata {
        version: 3,
        checkpoint_id: id as i64,
        master_states: Vec::new(),
        operators: vec![OperatorState {
            name: None,
            uid: None,
            id: OperatorId([0x2a; 16]),
            parallelism: 1,
            max_parallelism: 128,
            v2_chain_length: None,
            coordinator_state: None,
            subtasks: Subtasks::List {
                entries: vec![SubtaskEntry::State {
                    index: 0,
                    state: Box::new(state),
                }],
            },
        }],
        properties: None,
        trailing: Vec::new(),
        dialect: Dialect::default(),
    }
}

/// The files `bytes` (the `_metadata` at `path`) references, as the planner
/// sees them: parsed and collected by the library.
fn collected(path: &str, bytes: &[u8]) -> BTreeSet<String> {
    let m = metadata::parse(bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
    let loc = Location::parse(path).unwrap();
    let s = Snapshot {
        dir: loc.parent(),
        metadata_location: loc,
        metadata_size: bytes.len() as u64,
        modified: None,
        metadata: m,
    };
    let d = deps::collect(&s, &Rebase::default());
    assert!(d.unresolved.is_empty(), "{path}: {:?}", d.unresolved);
    d.files.iter().map(|f| f.location.canonical()).collect()
}

/// Serializes `m` and checks the bytes parse back to `m` and reference
/// exactly `want`.
fn write_checked(path: &str, m: &CheckpointMetadata, want: &BTreeSet<String>) -> Vec<u8> {
    let bytes = metadata::write(m).unwrap();
    let back = metadata::parse(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(&back, m, "{path}: the test-side writer does not round-trip");
    assert_eq!(
        &collected(path, &bytes),
        want,
        "{path}: deps::collect disagrees with the model"
    );
    bytes
}

// ---------------------------------------------------------------------------
// The history: what Flink does, as events.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// `_metadata` written at once.
    Complete,
    /// Left in progress; the job's next checkpoint event completes it.
    Pending,
    /// The JVM died: `chk-N/` without `_metadata`, uploads nobody references.
    Crash,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Claim,
    NoClaim,
    Legacy,
}

#[derive(Debug, Clone)]
enum Ev {
    /// A live job checkpoints (or completes its pending checkpoint).
    /// Jobs are named by slot (`job`, `into`), falling back to an existing
    /// job, so removing an event while shrinking does not rename the others.
    /// `reuse`: bit i keeps the previous checkpoint's i-th shared file;
    /// `cross`: also reference an exclusive file of the checkpoint the job
    /// was restored from; `fail`: which deletions of the subsumption fail.
    Checkpoint {
        job: u8,
        reuse: u16,
        new_shared: u8,
        exclusive: u8,
        taskowned: bool,
        relative: bool,
        cross: bool,
        end: End,
        fail: u16,
    },
    /// Flink aborts the pending checkpoint and deletes its files.
    Abort { job: u8, fail: u16 },
    /// A new job restored from a completed checkpoint on storage;
    /// `candidate`: after planning, prefer one the plan wants to delete.
    Restore {
        into: u8,
        from: u8,
        mode: Mode,
        stop_old: bool,
        candidate: bool,
    },
    /// A self-contained savepoint (under the savepoints root or the checkpoints root).
    Savepoint { job: u8, under_root: bool },
    /// A stray file in a job's `shared/` or `taskowned/`.
    Orphan { job: u8, taskowned: bool },
    /// A file (not a `_metadata`) is rewritten: bigger and newer.
    Modify { pick: u16 },
    /// A file disappears (another tool, a bucket rule, someone removing
    /// a checkpoint by hand): a `_metadata` if `metadata`.
    Vanish { pick: u16, metadata: bool },
}

#[derive(Debug, Clone)]
struct Ck {
    job: usize,
    id: u64,
    dir: String,
    /// Shared files referenced (in any job's `shared/`).
    shared: Vec<String>,
    /// Files in `dir` referenced (meta and private files).
    exclusive: Vec<String>,
    /// Other references: a task-owned file, another checkpoint's file.
    others: Vec<String>,
    /// Shared files this checkpoint uploaded.
    uploaded: Vec<String>,
    relative: bool,
}

impl Ck {
    fn refs(&self) -> BTreeSet<String> {
        self.shared
            .iter()
            .chain(&self.exclusive)
            .chain(&self.others)
            .cloned()
            .collect()
    }
}

#[derive(Debug)]
struct Job {
    id: String,
    live: bool,
    next_id: u64,
    num_retained: usize,
    /// Flink's completed checkpoint store (may hold a claimed checkpoint of another job).
    store: VecDeque<Ck>,
    /// What the next checkpoint builds on.
    base: Option<Ck>,
    /// NO_CLAIM: the next checkpoint is a full one.
    full_next: bool,
    /// Shared files this job may delete once unused.
    owned: BTreeSet<String>,
    pending: Option<Ck>,
}

fn job_id(i: usize) -> String {
    format!("{:02x}5f3c0a1d9e8b7c6a5f4e3d2c1b0a9f", 0x10 + i)
}

/// Which completed snapshots are selected for deletion by a plan.
#[derive(Debug, Default, Clone)]
struct Selected {
    dirs: BTreeSet<String>,
    files: BTreeSet<String>,
}

impl Selected {
    fn of(candidates: &[Candidate]) -> Self {
        let mut s = Selected::default();
        for c in candidates {
            if c.is_dir {
                s.dirs.insert(c.path.path().to_owned());
            } else {
                s.files.insert(c.path.path().to_owned());
            }
        }
        s
    }

    fn dir_of(&self, path: &str) -> Option<&String> {
        self.dirs.iter().find(|d| path == *d || under(path, d))
    }

    /// Whether `path` is a candidate file or inside a candidate directory.
    fn covers(&self, path: &str) -> bool {
        self.files.contains(path) || self.dir_of(path).is_some()
    }

    /// Whether the snapshot in `dir` is selected for deletion.
    fn snapshot(&self, dir: &str) -> bool {
        self.dir_of(dir).is_some() || self.files.contains(&format!("{dir}/_metadata"))
    }
}

#[derive(Debug)]
struct World {
    mem: Mem,
    clock: i64,
    counter: u64,
    /// Jobs by slot (the slot gives the job id).
    jobs: BTreeMap<usize, Job>,
    retained: Vec<usize>,
    completed: Vec<Ck>,
    /// Every `_metadata` written → the files it references.
    refs: BTreeMap<String, BTreeSet<String>>,
    savepoints: Vec<String>,
    /// After planning: what the plan selected.
    selected: Option<Selected>,
    job_limit: usize,
    log: Vec<String>,
    restored_from_candidate: bool,
}

fn bit(v: u16, i: usize) -> bool {
    v & (1 << (i % 16)) != 0
}

impl World {
    fn new(jobs: usize, retained: &[usize], order: u8) -> Self {
        let mut w = World {
            mem: Mem::default(),
            clock: 0,
            counter: 0,
            jobs: BTreeMap::new(),
            retained: retained.to_vec(),
            completed: Vec::new(),
            refs: BTreeMap::new(),
            savepoints: Vec::new(),
            selected: None,
            job_limit: JOBS_PLANNED,
            log: Vec::new(),
            restored_from_candidate: false,
        };
        w.mem.lock().order = order;
        w.mem.lock().mkdirs(CK);
        w.mem.lock().mkdirs(SP);
        for slot in 0..jobs {
            w.add_job(slot);
        }
        w
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + self.clock).unwrap()
    }

    fn add_job(&mut self, i: usize) {
        self.jobs.insert(
            i,
            Job {
                id: job_id(i),
                live: true,
                next_id: 1,
                num_retained: self.retained[i % self.retained.len()],
                store: VecDeque::new(),
                base: None,
                full_next: false,
                owned: BTreeSet::new(),
                pending: None,
            },
        );
        // Flink creates both when the job starts.
        for sub in ["shared", "taskowned"] {
            self.mem.lock().mkdirs(&format!("{CK}/{}/{sub}", job_id(i)));
        }
    }

    fn job(&mut self, j: usize) -> &mut Job {
        self.jobs.get_mut(&j).unwrap()
    }

    /// The job in slot `n` if it is among `jobs`, else one of them.
    fn pick(n: u8, jobs: &[usize]) -> Option<usize> {
        let slot = usize::from(n) % JOBS_MAX;
        if jobs.contains(&slot) {
            return Some(slot);
        }
        (!jobs.is_empty()).then(|| jobs[usize::from(n) % jobs.len()])
    }

    /// A random-looking unique file name.
    fn name(&mut self) -> String {
        self.counter += 1;
        let x = self.counter.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            x >> 32,
            (x >> 16) & 0xffff,
            x & 0xfff,
            (x >> 4) & 0xfff,
            self.counter
        )
    }

    fn write(&mut self, path: &str, data: Vec<u8>) {
        self.clock += 1;
        let t = self.now();
        self.mem.lock().put(path, data, t);
    }

    fn new_file(&mut self, dir: &str) -> String {
        let path = format!("{dir}/{}", self.name());
        let size = 10 + (self.counter % 40) as usize;
        self.write(&path, vec![b'x'; size]);
        path
    }

    fn exists(&self, path: &str) -> bool {
        self.mem.lock().files.contains_key(path)
    }

    fn size(&self, path: &str) -> u64 {
        self.mem
            .lock()
            .files
            .get(path)
            .map_or(0, |f| f.data.len() as u64)
    }

    fn flink_delete(&mut self, path: &str) {
        self.mem.lock().files.remove(path);
    }

    fn flink_rmdir(&mut self, dir: &str) {
        let mut fs = self.mem.lock();
        if !fs.anything_under(dir) {
            fs.dirs.remove(dir);
        }
    }

    fn live(&self) -> Vec<usize> {
        self.jobs
            .iter()
            .filter(|(_, j)| j.live)
            .map(|(i, _)| *i)
            .collect()
    }

    fn apply(&mut self, ev: &Ev) {
        match *ev {
            Ev::Checkpoint {
                job,
                reuse,
                new_shared,
                exclusive,
                taskowned,
                relative,
                cross,
                end,
                fail,
            } => {
                let Some(j) = World::pick(job, &self.live()) else {
                    return;
                };
                if let Some(p) = self.job(j).pending.take() {
                    self.complete(p, fail);
                    return;
                }
                // A crash may come before any exclusive file is written.
                let exclusive = if end == End::Crash {
                    exclusive - 1
                } else {
                    exclusive
                };
                let ck = self.start(j, reuse, new_shared, exclusive, taskowned, relative, cross);
                match end {
                    End::Complete => self.complete(ck, fail),
                    End::Pending => {
                        self.log.push(format!("{} in progress", ck.dir));
                        self.job(j).pending = Some(ck);
                    }
                    End::Crash => self.log.push(format!("{} crashed (no _metadata)", ck.dir)),
                }
            }
            Ev::Abort { job, fail } => {
                let Some(j) = World::pick(job, &self.live()) else {
                    return;
                };
                if let Some(p) = self.job(j).pending.take() {
                    self.log.push(format!("{} aborted, fail={fail:#x}", p.dir));
                    self.discard_files(&p, fail, true);
                    for (i, f) in p.uploaded.iter().enumerate() {
                        if !bit(fail, 3 + i % 13) {
                            self.flink_delete(f);
                        }
                    }
                }
            }
            Ev::Restore {
                into,
                from,
                mode,
                stop_old,
                candidate,
            } => self.restore(into, from, mode, stop_old, candidate),
            Ev::Savepoint { job, under_root } => {
                let Some(j) = World::pick(job, &self.live()) else {
                    return;
                };
                self.counter += 1;
                let name = format!(
                    "savepoint-{}-{:012x}",
                    &self.jobs[&j].id[..6],
                    self.counter.wrapping_mul(0x9e37_79b9)
                );
                let dir = format!("{}/{name}", if under_root { CK } else { SP });
                let files: Vec<(String, u64)> = (0..2)
                    .map(|_| {
                        let f = self.new_file(&dir);
                        let s = self.size(&f);
                        (f, s)
                    })
                    .collect();
                let m = build_metadata(self.counter, &dir, &files, &[], &[], true);
                let want: BTreeSet<String> = files.iter().map(|(f, _)| f.clone()).collect();
                self.write_metadata(&dir, &m, want);
                self.log.push(format!("{dir} savepoint of job {j}"));
                self.savepoints.push(dir);
            }
            Ev::Orphan { job, taskowned } => {
                let all: Vec<usize> = self.jobs.keys().copied().collect();
                let Some(j) = World::pick(job, &all) else {
                    return;
                };
                let dir = format!(
                    "{CK}/{}/{}",
                    self.jobs[&j].id,
                    if taskowned { "taskowned" } else { "shared" }
                );
                let f = self.new_file(&dir);
                self.log.push(format!("{f} stray file"));
            }
            Ev::Modify { pick } => {
                let Some(f) = self.pick_file(pick, false) else {
                    return;
                };
                let mut data = self.mem.lock().files[&f].data.clone();
                data.push(b'y');
                self.write(&f, data);
                self.log.push(format!("{f} modified"));
            }
            Ev::Vanish { pick, metadata } => {
                let Some(f) = self.pick_file(pick, metadata) else {
                    return;
                };
                self.flink_delete(&f);
                self.log.push(format!("{f} vanished"));
            }
        }
    }

    fn pick_file(&self, pick: u16, metadata: bool) -> Option<String> {
        let fs = self.mem.lock();
        let files: Vec<&String> = fs
            .files
            .keys()
            .filter(|f| (file_name(f) == "_metadata") == metadata)
            .collect();
        (!files.is_empty()).then(|| files[usize::from(pick) % files.len()].clone())
    }

    #[allow(clippy::too_many_arguments)]
    fn start(
        &mut self,
        j: usize,
        reuse: u16,
        new_shared: u8,
        exclusive: u8,
        taskowned: bool,
        relative: bool,
        cross: bool,
    ) -> Ck {
        let job_dir = format!("{CK}/{}", self.jobs[&j].id);
        let id = self.jobs[&j].next_id;
        self.job(j).next_id += 1;
        let dir = format!("{job_dir}/chk-{id}");
        self.mem.lock().mkdirs(&dir);
        let base = self.jobs[&j].base.clone();
        let full = self.jobs[&j].full_next;
        let mut shared = Vec::new();
        let mut others = Vec::new();
        if let Some(b) = &base
            && !full
        {
            for (i, f) in b.shared.iter().enumerate() {
                if bit(reuse, i) && self.exists(f) {
                    shared.push(f.clone());
                }
            }
            // A file of the checkpoint this job was restored from.
            if cross
                && b.job != j
                && let Some(f) = b.exclusive.last()
                && self.exists(f)
            {
                others.push(f.clone());
            }
        }
        let uploaded: Vec<String> = (0..new_shared)
            .map(|_| self.new_file(&format!("{job_dir}/shared")))
            .collect();
        shared.extend(uploaded.iter().cloned());
        let exclusive: Vec<String> = (0..exclusive).map(|_| self.new_file(&dir)).collect();
        if taskowned {
            others.push(self.new_file(&format!("{job_dir}/taskowned")));
        }
        Ck {
            job: j,
            id,
            dir,
            shared,
            exclusive,
            others,
            uploaded,
            relative,
        }
    }

    fn write_metadata(&mut self, dir: &str, m: &CheckpointMetadata, want: BTreeSet<String>) {
        let path = format!("{dir}/_metadata");
        let bytes = write_checked(&path, m, &want);
        self.write(&path, bytes);
        self.refs.insert(path, want);
    }

    fn complete(&mut self, ck: Ck, fail: u16) {
        let sized = |w: &World, v: &[String]| -> Vec<(String, u64)> {
            v.iter().map(|f| (f.clone(), w.size(f))).collect()
        };
        let m = build_metadata(
            ck.id,
            &ck.dir,
            &sized(self, &ck.exclusive),
            &sized(self, &ck.shared),
            &sized(self, &ck.others),
            ck.relative,
        );
        self.write_metadata(&ck.dir, &m, ck.refs());
        self.log.push(format!(
            "{} completed: {} shared ({} new), {} exclusive, {} other",
            ck.dir,
            ck.shared.len(),
            ck.uploaded.len(),
            ck.exclusive.len(),
            ck.others.len()
        ));
        let j = ck.job;
        self.completed.push(ck.clone());
        let job = self.job(j);
        job.owned.extend(ck.uploaded.iter().cloned());
        job.store.push_back(ck.clone());
        job.base = Some(ck);
        job.full_next = false;
        self.trim(j, fail);
    }

    fn trim(&mut self, j: usize, fail: u16) {
        while self.jobs[&j].store.len() > self.jobs[&j].num_retained {
            let old = self.job(j).store.pop_front().unwrap();
            self.subsume(j, &old, fail);
        }
    }

    /// Flink discards a subsumed checkpoint: `_metadata`, then its
    /// exclusive files, then the directory; then the shared files the job
    /// owns that no retained (or pending) checkpoint uses. Set bits of
    /// `fail` make single deletions fail.
    fn subsume(&mut self, j: usize, old: &Ck, fail: u16) {
        self.log
            .push(format!("{} subsumed by job {j}, fail={fail:#x}", old.dir));
        self.discard_files(old, fail, false);
        let job = &self.jobs[&j];
        let used: BTreeSet<&String> = job
            .store
            .iter()
            .chain(job.pending.as_ref())
            .flat_map(|c| c.shared.iter())
            .collect();
        let gone: Vec<String> = old
            .shared
            .iter()
            .enumerate()
            .filter(|(i, f)| job.owned.contains(*f) && !used.contains(f) && !bit(fail, 3 + i % 13))
            .map(|(_, f)| f.clone())
            .collect();
        for f in gone {
            self.flink_delete(&f);
        }
    }

    fn discard_files(&mut self, ck: &Ck, fail: u16, pending: bool) {
        if !pending && !bit(fail, 0) {
            self.flink_delete(&format!("{}/_metadata", ck.dir));
        }
        if !bit(fail, 1) {
            for f in &ck.exclusive {
                self.flink_delete(f);
            }
        }
        if !bit(fail, 2) {
            self.flink_rmdir(&ck.dir);
        }
    }

    fn restorable(&self, ck: &Ck) -> bool {
        self.exists(&format!("{}/_metadata", ck.dir)) && ck.refs().iter().all(|f| self.exists(f))
    }

    fn restore(&mut self, into: u8, from: u8, mode: Mode, stop_old: bool, candidate: bool) {
        if self.jobs.len() >= self.job_limit {
            return;
        }
        let slot = usize::from(into) % JOBS_MAX;
        let Some(j) = (slot..JOBS_MAX)
            .chain(0..slot)
            .find(|s| !self.jobs.contains_key(s))
        else {
            return;
        };
        let mut pool: Vec<&Ck> = self
            .completed
            .iter()
            .filter(|c| self.restorable(c))
            .collect();
        if candidate && let Some(sel) = &self.selected {
            let planned: Vec<&Ck> = pool
                .iter()
                .copied()
                .filter(|c| sel.snapshot(&c.dir))
                .collect();
            if !planned.is_empty() {
                pool = planned;
            }
        }
        if pool.is_empty() {
            return;
        }
        let x = pool[usize::from(from) % pool.len()].clone();
        if self.selected.as_ref().is_some_and(|s| s.snapshot(&x.dir)) {
            self.restored_from_candidate = true;
        }
        self.add_job(j);
        self.log
            .push(format!("job {j} restored from {} in {mode:?}", x.dir));
        let old = x.job;
        let job = self.job(j);
        job.base = Some(x.clone());
        match mode {
            Mode::Claim => {
                job.owned.extend(x.shared.iter().cloned());
                job.store.push_back(x);
            }
            Mode::NoClaim => job.full_next = true,
            Mode::Legacy => {}
        }
        if stop_old || mode == Mode::Claim {
            self.job(old).live = false;
        }
    }
}

// ---------------------------------------------------------------------------
// Strategies.

#[derive(Debug, Clone)]
struct PolicyCase {
    keep_last: usize,
    drop: Vec<bool>,
    stopped: bool,
    include_savepoints: u8,
    scope: Option<u8>,
    /// A completed checkpoint kept explicitly (`--keep`).
    keep: Option<u8>,
}

#[derive(Debug, Clone)]
struct Case {
    jobs: usize,
    retained: Vec<usize>,
    order: u8,
    history: Vec<Ev>,
    policy: PolicyCase,
    concurrent: Vec<Ev>,
}

fn fail() -> impl Strategy<Value = u16> {
    prop_oneof![5 => Just(0u16), 1 => any::<u16>()]
}

fn checkpoint() -> impl Strategy<Value = Ev> {
    (
        any::<u8>(),
        any::<u16>(),
        0u8..3,
        1u8..4,
        proptest::bool::weighted(0.2),
        any::<bool>(),
        proptest::bool::weighted(0.3),
        prop_oneof![8 => Just(End::Complete), 1 => Just(End::Pending), 1 => Just(End::Crash)],
        fail(),
    )
        .prop_map(
            |(job, reuse, new_shared, exclusive, taskowned, relative, cross, end, fail)| {
                Ev::Checkpoint {
                    job,
                    reuse,
                    new_shared,
                    exclusive,
                    taskowned,
                    relative,
                    cross,
                    end,
                    fail,
                }
            },
        )
}

fn restore() -> impl Strategy<Value = Ev> {
    (
        any::<u8>(),
        any::<u8>(),
        prop_oneof![Just(Mode::Claim), Just(Mode::NoClaim), Just(Mode::Legacy)],
        any::<bool>(),
        proptest::bool::weighted(0.8),
    )
        .prop_map(|(into, from, mode, stop_old, candidate)| Ev::Restore {
            into,
            from,
            mode,
            stop_old,
            candidate,
        })
}

fn flink_event() -> impl Strategy<Value = Ev> {
    prop_oneof![
        12 => checkpoint(),
        2 => restore(),
        1 => (any::<u8>(), fail()).prop_map(|(job, fail)| Ev::Abort { job, fail }),
        1 => (any::<u8>(), any::<bool>())
            .prop_map(|(job, under_root)| Ev::Savepoint { job, under_root }),
        1 => (any::<u8>(), any::<bool>())
            .prop_map(|(job, taskowned)| Ev::Orphan { job, taskowned }),
    ]
}

fn concurrent_event() -> impl Strategy<Value = Ev> {
    prop_oneof![
        6 => flink_event(),
        3 => restore(),
        2 => any::<u16>().prop_map(|pick| Ev::Modify { pick }),
        1 => (any::<u16>(), any::<bool>())
            .prop_map(|(pick, metadata)| Ev::Vanish { pick, metadata }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let policy = (
        1usize..4,
        proptest::collection::vec(proptest::bool::weighted(0.2), JOBS_MAX),
        any::<bool>(),
        prop_oneof![4 => Just(0u8), 1 => any::<u8>()],
        prop_oneof![7 => Just(None), 1 => any::<u8>().prop_map(Some)],
        prop_oneof![5 => Just(None), 1 => any::<u8>().prop_map(Some)],
    )
        .prop_map(
            |(keep_last, drop, stopped, include_savepoints, scope, keep)| PolicyCase {
                keep_last,
                drop,
                stopped,
                include_savepoints,
                scope,
                keep,
            },
        );
    (
        1usize..3,
        proptest::collection::vec(1usize..4, JOBS_MAX),
        0u8..3,
        proptest::collection::vec(flink_event(), 1..40),
        policy,
        proptest::collection::vec(concurrent_event(), 0..12),
    )
        .prop_map(
            |(jobs, retained, order, history, policy, concurrent)| Case {
                jobs,
                retained,
                order,
                history,
                policy,
                concurrent,
            },
        )
}

// ---------------------------------------------------------------------------
// The property.

#[derive(Debug, Default)]
struct Stats {
    cases: u64,
    planned: u64,
    candidates: u64,
    deleted_files: u64,
    dropped: BTreeMap<String, u64>,
    restored_from_candidate: u64,
    /// Plans refused because a kept snapshot needs a file that is gone.
    refused_missing: u64,
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn loc(p: &str) -> Location {
    Location::parse(p).unwrap()
}

/// A snapshot directory: `(job id, checkpoint id)` for `<CK>/<job>/chk-N`,
/// `None` for a savepoint.
fn checkpoint_of(dir: &str) -> Option<(String, u64)> {
    let id = file_name(dir).strip_prefix("chk-")?.parse().ok()?;
    let job = parent(dir);
    (parent(job) == CK).then(|| (file_name(job).to_owned(), id))
}

/// Completed snapshots in `files`: directory → checkpoint (job, id) or `None` for savepoints.
fn snapshots(files: &BTreeMap<String, File>) -> BTreeMap<String, Option<(String, u64)>> {
    files
        .keys()
        .filter(|f| file_name(f) == "_metadata")
        .map(|f| (parent(f).to_owned(), checkpoint_of(parent(f))))
        .collect()
}

/// The newest `keep_last` completed checkpoints of every job not dropped.
fn newest(
    snaps: &BTreeMap<String, Option<(String, u64)>>,
    keep_last: usize,
    dropped: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut by_job: BTreeMap<&str, Vec<(u64, &String)>> = BTreeMap::new();
    for (dir, c) in snaps {
        if let Some((job, id)) = c {
            by_job.entry(job).or_default().push((*id, dir));
        }
    }
    let mut out = BTreeSet::new();
    for (job, mut v) in by_job {
        if dropped.contains(job) {
            continue;
        }
        v.sort();
        out.extend(v.iter().rev().take(keep_last).map(|(_, d)| (*d).clone()));
    }
    out
}

fn files_of(fs: &Fs, cands: &[Candidate]) -> BTreeSet<String> {
    let sel = Selected::of(cands);
    fs.files.keys().filter(|f| sel.covers(f)).cloned().collect()
}

/// Checks the plan on the history as it was when planned.
fn check_plan(
    w: &World,
    fs: &Fs,
    policy: &Policy,
    cands: &[Candidate],
    scope: &str,
) -> Result<(), String> {
    let snaps = snapshots(&fs.files);
    let mut kept: BTreeSet<String> = newest(&snaps, policy.keep_last, &policy.drop_jobs);
    kept.extend(policy.keep.iter().map(|k| k.path().to_owned()));
    kept.extend(
        snaps
            .iter()
            .filter(|(d, c)| c.is_none() && !policy.include_savepoints.contains(file_name(d)))
            .map(|(d, _)| d.clone()),
    );
    // In progress: chk-N without `_metadata` newer than the newest completed one.
    let mut newest_id: BTreeMap<String, u64> = BTreeMap::new();
    for (job, id) in snaps.values().flatten() {
        let n = newest_id.entry(job.clone()).or_default();
        *n = (*n).max(*id);
    }
    let mut protected: BTreeMap<String, String> = BTreeMap::new();
    for d in &fs.dirs {
        if let Some((job, id)) = checkpoint_of(d)
            && !snaps.contains_key(d)
            && !policy.drop_jobs.contains(&job)
            && id > newest_id.get(&job).copied().unwrap_or(0)
        {
            kept.insert(d.clone());
        }
    }
    for d in &kept {
        for f in fs.files.keys().filter(|f| under(f, d)) {
            protected.insert(f.clone(), format!("inside kept {d}"));
        }
        let meta = format!("{d}/_metadata");
        let refs = w.refs.get(&meta).filter(|_| fs.files.contains_key(&meta));
        for f in refs.into_iter().flatten() {
            protected.insert(f.clone(), format!("referenced by kept {d}"));
        }
    }
    let planned = files_of(fs, cands);
    for c in cands {
        let p = c.path.path();
        let in_scope = under(p, scope)
            || p == scope
            || (c.reason == cleanup::Reason::IncludedSavepoint && under(p, SP));
        if !in_scope {
            return Err(format!("candidate {p} is outside {scope}"));
        }
    }
    for f in &planned {
        if let Some(why) = protected.get(f) {
            return Err(format!("plan: candidate {f} is {why}"));
        }
    }
    // Not vacuous: every file in scope in a `chk-N/` directory (or, with the
    // jobs stated stopped, in `shared/`) that nothing kept references or
    // contains is planned. (A running job's `shared/` files written after its
    // newest checkpoint may belong to the next one.)
    for f in fs.files.keys() {
        if !under(f, scope) || protected.contains_key(f) {
            continue;
        }
        let shared = policy.stopped && file_name(parent(f)) == "shared";
        let subsumed = checkpoint_of(parent(f)).is_some();
        if (shared || subsumed) && !planned.contains(f) {
            return Err(format!(
                "plan: {f} is not referenced by any kept snapshot, yet not planned"
            ));
        }
    }
    Ok(())
}

/// Which property a run checks (separate tests, so one failing does not hide the other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Kept snapshots keep their files; only planned candidates inside the roots go.
    Safety,
    /// A snapshot directory loses its `_metadata` before any other file.
    Order,
}

fn run_case(case: &Case, check: Check, stats: &mut Stats) -> Result<(), String> {
    let mut w = World::new(case.jobs, &case.retained, case.order);
    check_case(&mut w, case, check, stats)
        .map_err(|e| format!("{e}\nhistory:\n  {}", w.log.join("\n  ")))
}

fn check_case(w: &mut World, case: &Case, check: Check, stats: &mut Stats) -> Result<(), String> {
    let rt = rt();
    for ev in &case.history {
        w.apply(ev);
    }
    stats.cases += 1;

    // Plan.
    // Only jobs that have a directory: dropping one that does not exist is
    // an error (a typo must not pass silently).
    let drop_jobs: BTreeSet<String> = (0..JOBS_MAX)
        .filter(|&i| case.policy.drop[i])
        .map(job_id)
        .filter(|j| w.mem.lock().is_dir(&format!("{CK}/{j}")))
        .collect();
    let include_savepoints: BTreeSet<String> = w
        .savepoints
        .iter()
        .enumerate()
        .filter(|(i, _)| case.policy.include_savepoints & (1 << (i % 8)) != 0)
        .map(|(_, d)| file_name(d).to_owned())
        .collect();
    let keep: Vec<Location> = case
        .policy
        .keep
        .and_then(|k| {
            let fs = w.mem.lock();
            let done: Vec<String> = snapshots(&fs.files)
                .into_iter()
                .filter(|(_, c)| c.is_some())
                .map(|(d, _)| d)
                .collect();
            (!done.is_empty()).then(|| loc(&done[usize::from(k) % done.len()]))
        })
        .into_iter()
        .collect();
    w.clock += 1;
    let policy = Policy {
        keep_last: case.policy.keep_last,
        min_age: std::time::Duration::ZERO,
        keep,
        include_savepoints,
        drop_jobs,
        stopped: case.policy.stopped,
        now: w.now(),
    };
    let root = loc(CK);
    let sp = loc(SP);
    let scope = match case.policy.scope {
        Some(i) if !w.jobs.is_empty() => {
            let all: Vec<usize> = w.jobs.keys().copied().collect();
            loc(&format!("{CK}/{}", job_id(World::pick(i, &all).unwrap())))
        }
        _ => root.clone(),
    };
    let at_plan = w.mem.lock().clone();
    let plan = rt.block_on(cleanup::plan(
        &w.mem,
        Roots {
            checkpoints: &root,
            scope: &scope,
            savepoints: Some(&sp),
        },
        &policy,
        &Rebase::default(),
        4,
        |_, _| {},
    ));
    let plan = match plan {
        Ok(p) => p,
        Err(cleanup::Error::EmptyListing(_))
            if !at_plan.files.keys().any(|f| under(f, scope.path())) =>
        {
            return Ok(());
        }
        // A kept snapshot that needs a file the history lost (Flink's
        // LEGACY restores allow that): refusing to plan is right, provided
        // the file named is really missing.
        Err(cleanup::Error::MissingReferences { example, .. })
            if !at_plan.files.contains_key(loc(&example).path()) =>
        {
            stats.refused_missing += 1;
            return Ok(());
        }
        Err(e) => return Err(format!("plan failed: {e}")),
    };
    stats.planned += 1;
    stats.candidates += plan.candidates.len() as u64;
    if check == Check::Safety {
        check_plan(w, &at_plan, &policy, &plan.candidates, scope.path())?;
    }
    let plan = PlanFile::new(plan, &policy, &[]);
    let selected = Selected::of(&plan.candidates);

    // Flink goes on.
    w.selected = Some(selected.clone());
    w.job_limit = JOBS_MAX;
    w.log.push(format!(
        "--- planned: keep_last {}, drop {:?}, stopped {}, scope {}, candidates:",
        policy.keep_last, policy.drop_jobs, policy.stopped, scope
    ));
    for c in &plan.candidates {
        w.log.push(format!(
            "      {} {:?}{}",
            c.path,
            c.reason,
            if c.is_dir { " (dir)" } else { "" }
        ));
    }
    for ev in &case.concurrent {
        w.apply(ev);
    }
    if w.restored_from_candidate {
        stats.restored_from_candidate += 1;
    }

    // Re-check and apply everything.
    let before = w.mem.lock().clone();
    let v = rt.block_on(revalidate::revalidate(
        &w.mem,
        &plan,
        plan.candidates.clone(),
        &Rebase::default(),
        4,
        |_, _| {},
    ));
    let v = match v {
        Ok(v) => v,
        Err(cleanup::Error::EmptyListing(_)) if !before.files.keys().any(|f| under(f, CK)) => {
            return Ok(());
        }
        // That is the safety test's business.
        Err(_) if check == Check::Order => return Ok(()),
        Err(e) => return Err(format!("revalidate failed: {e}")),
    };
    for (_, why) in &v.dropped {
        // `gone`, `changed`, `referenced`, `newest`, …
        let why = serde_json::to_value(why).unwrap();
        let kind = why["kind"].as_str().unwrap_or("?").to_owned();
        *stats.dropped.entry(kind).or_default() += 1;
    }
    w.log.push("--- re-checked, dropped:".to_owned());
    for (c, why) in &v.dropped {
        w.log.push(format!("      {} {why}", c.path));
    }
    let mut order: Vec<String> = Vec::new();
    let applied = rt.block_on(apply::apply(&w.mem, &v, |ev| {
        if let Event::Deleted { path, .. } = ev {
            order.push(path.path().to_owned());
        }
    }));
    let after = w.mem.lock().clone();
    stats.deleted_files += applied.deleted_files;
    if !applied.failed.is_empty() {
        return Err(format!("apply failed: {:?}", applied.failed));
    }

    match check {
        Check::Safety => safety(w, &policy, &selected, &at_plan, &before, &after),
        Check::Order => metadata_first(&before, &order),
    }
}

/// Nothing outside the roots, only planned candidates, and nothing a
/// snapshot kept at apply time needs.
fn safety(
    w: &World,
    policy: &Policy,
    selected: &Selected,
    at_plan: &Fs,
    before: &Fs,
    after: &Fs,
) -> Result<(), String> {
    for p in &after.deletes {
        if !(under(p, CK) || under(p, SP)) {
            return Err(format!("{p} is outside the roots, yet deleted"));
        }
        if under(p, SP)
            && !policy
                .include_savepoints
                .iter()
                .any(|s| p.contains(s.as_str()))
        {
            return Err(format!("{p}: a savepoint not included, yet deleted"));
        }
        if !selected.covers(p) {
            return Err(format!("{p} was not planned, yet deleted"));
        }
    }
    for d in &after.rmdirs {
        if !selected.covers(d) && !selected.dirs.contains(d) {
            return Err(format!("directory {d} was not planned, yet removed"));
        }
    }

    // Kept at apply time.
    let snaps = snapshots(&before.files);
    let fresh = |d: &String| !at_plan.files.contains_key(&format!("{d}/_metadata"));
    let newest = newest(&snaps, APPLY_KEEP_LAST, &policy.drop_jobs);
    let mut protected: BTreeMap<String, String> = BTreeMap::new();
    for (d, c) in &snaps {
        let kept = if c.is_some() {
            fresh(d) || !selected.snapshot(d) || newest.contains(d)
        } else {
            fresh(d) || !policy.include_savepoints.contains(file_name(d))
        };
        if !kept {
            continue;
        }
        let meta = format!("{d}/_metadata");
        for f in w.refs[&meta].iter().chain(std::iter::once(&meta)) {
            if before.files.contains_key(f) {
                protected.insert(f.clone(), d.clone());
            }
        }
    }
    for (f, d) in &protected {
        if !after.files.contains_key(f) {
            return Err(format!("{f} deleted, but the kept snapshot {d} needs it"));
        }
    }
    Ok(())
}

/// Each deleted file of a snapshot directory went after its `_metadata`.
fn metadata_first(before: &Fs, order: &[String]) -> Result<(), String> {
    for (i, p) in order.iter().enumerate() {
        let dir = parent(p);
        let meta = format!("{dir}/_metadata");
        if *p != meta && before.files.contains_key(&meta) && !order[..i].contains(&meta) {
            return Err(format!(
                "{p} deleted while {meta} was still there (a half-deleted snapshot looks restorable)"
            ));
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// Runs `check` over `cases()` random histories; panics with the minimal
/// failing history.
fn simulate(check: Check) -> Stats {
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 100_000,
        max_shrink_time: 120_000,
        ..Config::default()
    };
    let stats = std::cell::RefCell::new(Stats::default());
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case(), |c| {
        run_case(&c, check, &mut stats.borrow_mut()).map_err(TestCaseError::fail)
    });
    match result {
        Ok(()) => stats.into_inner(),
        Err(TestError::Fail(why, case)) => panic!("{why}\nminimal case: {case:#?}"),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn cleanup_never_deletes_what_a_kept_snapshot_needs() {
    let s = simulate(Check::Safety);
    eprintln!("simulation: {s:?}");
    if cases() >= 1000 {
        // The runs must reach the interesting paths, or the checks above say little.
        // Histories whose kept snapshots lost files (LEGACY restores whose
        // source job subsumed what the new job uses) are refused, rightly.
        assert!((s.planned + s.refused_missing) * 10 >= s.cases * 9, "{s:?}");
        assert!(s.planned * 10 >= s.cases * 6, "{s:?}");
        assert!(s.refused_missing >= 5, "{s:?}");
        assert!(s.deleted_files >= s.planned, "{s:?}");
        assert!(s.restored_from_candidate >= 20, "{s:?}");
        for k in ["gone", "changed", "referenced", "newest"] {
            assert!(s.dropped.get(k).copied().unwrap_or(0) >= 5, "{k}: {s:?}");
        }
    }
}

#[test]
fn snapshot_directories_lose_their_metadata_first() {
    simulate(Check::Order);
}

// ---------------------------------------------------------------------------
// The harness itself.

/// The in-memory store lists, stats, deletes and removes directories the way
/// `LocalStorage` does (the planner relies on the listing shape).
#[test]
fn memory_store_behaves_like_local_storage() {
    use flink_chk::storage::LocalStorage;
    use futures_util::StreamExt;

    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("r");
    let mem = Mem::default();
    let mroot = loc("/m/r");
    for f in ["a/b/f", "a/g", "h", "c/d/e/i"] {
        let p = root.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, f).unwrap();
        mem.lock().put(
            &format!("/m/r/{f}"),
            f.as_bytes().to_vec(),
            Timestamp::UNIX_EPOCH,
        );
    }
    std::fs::create_dir_all(root.join("empty/x")).unwrap();
    mem.lock().mkdirs("/m/r/empty/x");
    let lroot = loc(root.to_str().unwrap());
    let rt = rt();
    let shape = |s: &dyn Storage, r: &Location, rel: &str, recursive: bool| {
        let dir = if rel.is_empty() {
            r.clone()
        } else {
            r.join(rel)
        };
        let mut v: Vec<(String, bool, u64)> = rt.block_on(async {
            s.list(&dir, recursive)
                .map(|e| {
                    let e = e.unwrap();
                    (
                        e.location.relative_to(r).unwrap().to_owned(),
                        e.is_dir,
                        e.size,
                    )
                })
                .collect()
                .await
        });
        v.sort();
        v
    };
    for rel in ["", "a", "c", "empty", "missing", "h"] {
        for recursive in [false, true] {
            assert_eq!(
                shape(&mem, &mroot, rel, recursive),
                shape(&LocalStorage, &lroot, rel, recursive),
                "list {rel:?} recursive={recursive}"
            );
        }
    }
    rt.block_on(async {
        for rel in ["a", "a/g", "nope"] {
            let m = mem.stat(&mroot.join(rel)).await.unwrap();
            let l = LocalStorage.stat(&lroot.join(rel)).await.unwrap();
            assert_eq!(
                m.map(|e| (e.is_dir, e.size)),
                l.map(|e| (e.is_dir, e.size)),
                "{rel}"
            );
        }
        let targets = ["a/g", "a", "missing", "h"];
        let m = mem.delete_files(&targets.map(|t| mroot.join(t))).await;
        let l = LocalStorage
            .delete_files(&targets.map(|t| lroot.join(t)))
            .await;
        let ok = |v: Vec<Result<(), Error>>| v.iter().map(Result::is_ok).collect::<Vec<_>>();
        assert_eq!(ok(m), ok(l));
        for rel in ["empty/x", "empty", "c/d", "a/b/f", "nope"] {
            let m = mem.remove_dir_if_empty(&mroot.join(rel)).await;
            let l = LocalStorage.remove_dir_if_empty(&lroot.join(rel)).await;
            assert_eq!(m.ok(), l.ok(), "{rel}");
        }
        assert_eq!(
            mem.read_range(&mroot.join("c/d/e/i"), 2, 3).await.unwrap(),
            LocalStorage
                .read_range(&lroot.join("c/d/e/i"), 2, 3)
                .await
                .unwrap()
        );
    });
    for recursive in [false, true] {
        assert_eq!(
            shape(&mem, &mroot, "", recursive),
            shape(&LocalStorage, &lroot, "", recursive)
        );
    }
}

/// The test-side `_metadata` round-trips and, read through the storage the
/// way the planner reads it (`snapshot::load` + `deps::collect`), references
/// exactly the files meant: absolute and relative exclusive handles, shared
/// files of this and another job, a task-owned file, another checkpoint's file.
#[test]
fn written_metadata_references_exactly_the_model_files() {
    let j = format!("{CK}/{}", job_id(0));
    let other = format!("{CK}/{}", job_id(1));
    let dir = format!("{j}/chk-3");
    let exclusive = vec![(format!("{dir}/m"), 5), (format!("{dir}/p"), 6)];
    let shared = vec![
        (format!("{j}/shared/s1"), 7),
        (format!("{other}/shared/s2"), 8),
    ];
    let others = vec![
        (format!("{j}/taskowned/t"), 9),
        (format!("{other}/chk-2/x"), 10),
    ];
    let rt = rt();
    for relative in [false, true] {
        let m = build_metadata(3, &dir, &exclusive, &shared, &others, relative);
        let want: BTreeSet<String> = exclusive
            .iter()
            .chain(&shared)
            .chain(&others)
            .map(|(p, _)| p.clone())
            .collect();
        let bytes = write_checked(&format!("{dir}/_metadata"), &m, &want);
        let mem = Mem::default();
        mem.lock()
            .put(&format!("{dir}/_metadata"), bytes, Timestamp::UNIX_EPOCH);
        let s = rt.block_on(snapshot::load(&mem, &loc(&dir))).unwrap();
        let d = deps::collect(&s, &Rebase::default());
        let got: BTreeSet<String> = d.files.iter().map(|f| f.location.canonical()).collect();
        assert_eq!(got, want, "relative={relative}");
        let is_relative = matches!(
            &m.operators[0].subtasks,
            Subtasks::List { entries } if matches!(&entries[0], SubtaskEntry::State { state, .. }
                if matches!(&state.managed_keyed, Some(KeyedHandle::Incremental(h))
                    if matches!(h.meta, Some(StreamHandle::Relative { .. }))))
        );
        assert_eq!(is_relative, relative);
    }
}

// ---------------------------------------------------------------------------
// Minimal histories of the bugs the simulation found (each failed until fixed).

fn checkpoint_ev(job: u8, new_shared: u8, reuse: u16, end: End) -> Ev {
    Ev::Checkpoint {
        job,
        reuse,
        new_shared,
        exclusive: 1,
        taskowned: false,
        relative: false,
        cross: false,
        end,
        fail: 0,
    }
}

fn minimal(history: Vec<Ev>, drop: &[usize], scope: Option<u8>, concurrent: Vec<Ev>) -> Case {
    Case {
        jobs: 1,
        retained: vec![1; JOBS_MAX],
        order: 0,
        history,
        policy: PolicyCase {
            keep_last: 1,
            drop: (0..JOBS_MAX).map(|i| drop.contains(&i)).collect(),
            stopped: false,
            include_savepoints: 0,
            scope,
            keep: None,
        },
        concurrent,
    }
}

fn replay(case: &Case, check: Check) {
    if let Err(e) = run_case(case, check, &mut Stats::default()) {
        panic!("{e}");
    }
}

/// Job B is restored from job A's checkpoint in LEGACY mode; its first
/// checkpoint is still uploading when the plan is made, so B looks dead and
/// both jobs are dropped (candidates: A's and B's whole directories). B then
/// completes chk-1, which reuses A's `shared/` file. The re-check drops B's
/// directory (changed) but never reads B's new chk-1, because it lies inside
/// a selected directory; so A's directory, with the file B's chk-1 needs, is
/// deleted.
#[test]
fn new_checkpoint_inside_a_dropped_job_protects_what_it_references() {
    let history = vec![
        checkpoint_ev(0, 1, 0, End::Complete),
        Ev::Restore {
            into: 1,
            from: 0,
            mode: Mode::Legacy,
            stop_old: true,
            candidate: false,
        },
        checkpoint_ev(1, 0, 1, End::Pending),
    ];
    let concurrent = vec![checkpoint_ev(1, 0, 0, End::Complete)];
    replay(&minimal(history, &[0, 1], None, concurrent), Check::Safety);
}

/// `safe-to-delete JOB --drop-job JOB`: the plan's only candidate is the job
/// directory itself, which is the plan's scope, and `revalidate` refuses it
/// as "not under" the scope, so nothing can be applied.
#[test]
fn dropping_the_job_that_is_the_scope_can_be_applied() {
    let history = vec![checkpoint_ev(0, 1, 0, End::Complete)];
    replay(&minimal(history, &[0], Some(0), Vec::new()), Check::Safety);
}

/// A dropped job's directory is one candidate: `apply` must delete the
/// `_metadata` of each checkpoint in it before that checkpoint's other files
/// (it deleted them in listing order, `chk-1/<file>` before
/// `chk-1/_metadata`, until acfd7c5).
#[test]
fn dropped_job_directory_loses_each_metadata_first() {
    let history = vec![checkpoint_ev(0, 0, 0, End::Complete)];
    replay(&minimal(history, &[0], None, Vec::new()), Check::Order);
}
