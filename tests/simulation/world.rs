//! The model: `_metadata` built from the model types, and the Flink
//! history (jobs, checkpoints, restores, subsumption) as a `World` that
//! writes into the in-memory store.

use super::*;

// ---------------------------------------------------------------------------
// `_metadata` built from the model types (test-side writer, not Flink bytes).

pub(super) fn file_handle(path: &str, size: u64) -> StreamHandle {
    StreamHandle::File {
        size: size as i64,
        path: format!("file:{path}").as_str().into(),
    }
}

/// A handle for `path`, relative to `dir` when asked and possible.
pub(super) fn handle(dir: &str, path: &str, size: u64, relative: bool) -> StreamHandle {
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
pub(super) fn build_metadata(
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
pub(super) fn collected(path: &str, bytes: &[u8]) -> BTreeSet<String> {
    let m = metadata::parse(bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
    let loc = Location::parse(path).unwrap();
    let s = Snapshot {
        dir: loc.parent(),
        metadata_location: loc,
        metadata_size: bytes.len() as u64,
        modified: None,
        metadata_crc32c: 0,
        metadata: m,
    };
    let d = deps::collect(&s, &Rebase::default());
    assert!(d.unresolved.is_empty(), "{path}: {:?}", d.unresolved);
    d.files.iter().map(|f| f.location.canonical()).collect()
}

/// Serializes `m` and checks the bytes parse back to `m` and reference
/// exactly `want`.
pub(super) fn write_checked(
    path: &str,
    m: &CheckpointMetadata,
    want: &BTreeSet<String>,
) -> Vec<u8> {
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
pub(super) enum End {
    /// `_metadata` written at once.
    Complete,
    /// Left in progress; the job's next checkpoint event completes it.
    Pending,
    /// The JVM died: `chk-N/` without `_metadata`, uploads nobody references.
    Crash,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Claim,
    NoClaim,
    Legacy,
}

#[derive(Debug, Clone)]
pub(super) enum Ev {
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
pub(super) struct Ck {
    pub(super) job: usize,
    pub(super) id: u64,
    pub(super) dir: String,
    /// Shared files referenced (in any job's `shared/`).
    pub(super) shared: Vec<String>,
    /// Files in `dir` referenced (meta and private files).
    pub(super) exclusive: Vec<String>,
    /// Other references: a task-owned file, another checkpoint's file.
    pub(super) others: Vec<String>,
    /// Shared files this checkpoint uploaded.
    pub(super) uploaded: Vec<String>,
    pub(super) relative: bool,
}

impl Ck {
    pub(super) fn refs(&self) -> BTreeSet<String> {
        self.shared
            .iter()
            .chain(&self.exclusive)
            .chain(&self.others)
            .cloned()
            .collect()
    }
}

#[derive(Debug)]
pub(super) struct Job {
    pub(super) id: String,
    pub(super) live: bool,
    pub(super) next_id: u64,
    pub(super) num_retained: usize,
    /// Flink's completed checkpoint store (may hold a claimed checkpoint of another job).
    pub(super) store: VecDeque<Ck>,
    /// What the next checkpoint builds on.
    pub(super) base: Option<Ck>,
    /// NO_CLAIM: the next checkpoint is a full one.
    pub(super) full_next: bool,
    /// Shared files this job may delete once unused.
    pub(super) owned: BTreeSet<String>,
    pub(super) pending: Option<Ck>,
}

pub(super) fn job_id(i: usize) -> String {
    format!("{:02x}5f3c0a1d9e8b7c6a5f4e3d2c1b0a9f", 0x10 + i)
}

/// Which completed snapshots are selected for deletion by a plan.
#[derive(Debug, Default, Clone)]
pub(super) struct Selected {
    pub(super) dirs: BTreeSet<String>,
    pub(super) files: BTreeSet<String>,
}

impl Selected {
    pub(super) fn of(candidates: &[Candidate]) -> Self {
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

    pub(super) fn dir_of(&self, path: &str) -> Option<&String> {
        self.dirs.iter().find(|d| path == *d || under(path, d))
    }

    /// Whether `path` is a candidate file or inside a candidate directory.
    pub(super) fn covers(&self, path: &str) -> bool {
        self.files.contains(path) || self.dir_of(path).is_some()
    }

    /// Whether the snapshot in `dir` is selected for deletion.
    pub(super) fn snapshot(&self, dir: &str) -> bool {
        self.dir_of(dir).is_some() || self.files.contains(&format!("{dir}/_metadata"))
    }
}

#[derive(Debug)]
pub(super) struct World {
    pub(super) mem: MemoryStorage,
    pub(super) clock: i64,
    pub(super) counter: u64,
    /// Jobs by slot (the slot gives the job id).
    pub(super) jobs: BTreeMap<usize, Job>,
    pub(super) retained: Vec<usize>,
    pub(super) completed: Vec<Ck>,
    /// Every `_metadata` written → the files it references.
    pub(super) refs: BTreeMap<String, BTreeSet<String>>,
    pub(super) savepoints: Vec<String>,
    /// After planning: what the plan selected.
    pub(super) selected: Option<Selected>,
    pub(super) job_limit: usize,
    pub(super) log: Vec<String>,
    pub(super) restored_from_candidate: bool,
}

pub(super) fn bit(v: u16, i: usize) -> bool {
    v & (1 << (i % 16)) != 0
}

impl World {
    pub(super) fn new(jobs: usize, retained: &[usize], order: u8) -> Self {
        let mut w = World {
            mem: MemoryStorage::default(),
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
        w.mem.lock().order = match order {
            1 => ListOrder::Reversed,
            2 => ListOrder::Scrambled,
            _ => ListOrder::Sorted,
        };
        w.mem.lock().mkdirs(CK);
        w.mem.lock().mkdirs(SP);
        for slot in 0..jobs {
            w.add_job(slot);
        }
        w
    }

    pub(super) fn now(&self) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + self.clock).unwrap()
    }

    pub(super) fn add_job(&mut self, i: usize) {
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

    pub(super) fn job(&mut self, j: usize) -> &mut Job {
        self.jobs.get_mut(&j).unwrap()
    }

    /// The job in slot `n` if it is among `jobs`, else one of them.
    pub(super) fn pick(n: u8, jobs: &[usize]) -> Option<usize> {
        let slot = usize::from(n) % JOBS_MAX;
        if jobs.contains(&slot) {
            return Some(slot);
        }
        (!jobs.is_empty()).then(|| jobs[usize::from(n) % jobs.len()])
    }

    /// A random-looking unique file name.
    pub(super) fn name(&mut self) -> String {
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

    pub(super) fn write(&mut self, path: &str, data: Vec<u8>) {
        self.clock += 1;
        let t = self.now();
        self.mem.lock().put(path, data, t);
    }

    pub(super) fn new_file(&mut self, dir: &str) -> String {
        let path = format!("{dir}/{}", self.name());
        let size = 10 + (self.counter % 40) as usize;
        self.write(&path, vec![b'x'; size]);
        path
    }

    pub(super) fn exists(&self, path: &str) -> bool {
        self.mem.lock().files.contains_key(path)
    }

    pub(super) fn size(&self, path: &str) -> u64 {
        self.mem
            .lock()
            .files
            .get(path)
            .map_or(0, |f| f.data.len() as u64)
    }

    pub(super) fn flink_delete(&mut self, path: &str) {
        self.mem.lock().files.remove(path);
    }

    pub(super) fn flink_rmdir(&mut self, dir: &str) {
        let mut fs = self.mem.lock();
        if !fs.anything_under(dir) {
            fs.dirs.remove(dir);
        }
    }

    pub(super) fn live(&self) -> Vec<usize> {
        self.jobs
            .iter()
            .filter(|(_, j)| j.live)
            .map(|(i, _)| *i)
            .collect()
    }

    pub(super) fn apply(&mut self, ev: &Ev) {
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

    pub(super) fn pick_file(&self, pick: u16, metadata: bool) -> Option<String> {
        let fs = self.mem.lock();
        let files: Vec<&String> = fs
            .files
            .keys()
            .filter(|f| (file_name(f) == "_metadata") == metadata)
            .collect();
        (!files.is_empty()).then(|| files[usize::from(pick) % files.len()].clone())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn start(
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

    pub(super) fn write_metadata(
        &mut self,
        dir: &str,
        m: &CheckpointMetadata,
        want: BTreeSet<String>,
    ) {
        let path = format!("{dir}/_metadata");
        let bytes = write_checked(&path, m, &want);
        self.write(&path, bytes);
        self.refs.insert(path, want);
    }

    pub(super) fn complete(&mut self, ck: Ck, fail: u16) {
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

    pub(super) fn trim(&mut self, j: usize, fail: u16) {
        while self.jobs[&j].store.len() > self.jobs[&j].num_retained {
            let old = self.job(j).store.pop_front().unwrap();
            self.subsume(j, &old, fail);
        }
    }

    /// Flink discards a subsumed checkpoint: `_metadata`, then its
    /// exclusive files, then the directory; then the shared files the job
    /// owns that no retained (or pending) checkpoint uses. Set bits of
    /// `fail` make single deletions fail.
    pub(super) fn subsume(&mut self, j: usize, old: &Ck, fail: u16) {
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

    pub(super) fn discard_files(&mut self, ck: &Ck, fail: u16, pending: bool) {
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

    pub(super) fn restorable(&self, ck: &Ck) -> bool {
        self.exists(&format!("{}/_metadata", ck.dir)) && ck.refs().iter().all(|f| self.exists(f))
    }

    pub(super) fn restore(
        &mut self,
        into: u8,
        from: u8,
        mode: Mode,
        stop_old: bool,
        candidate: bool,
    ) {
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
