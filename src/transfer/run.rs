//! Carrying out a [`Plan`]: data files first (largest first, a bounded number
//! at a time, each streamed in chunks through the shared byte budget, its
//! CRC32C and MD5 computed on the way), each pinned to the size and time its
//! source had when planned and verified at the destination; then, per
//! snapshot whose every file is in place, the rewritten `_metadata` — last,
//! only if nothing is there (or the very same bytes are), read back. The
//! checkpoints of one destination job directory are published by ascending
//! id (a higher one whose files complete first waits for the lower ones to
//! be published or to fail: see [`super::order`]).
//!
//! Nothing is ever written, deleted or overwritten at a source. At the
//! destination, an existing file is only replaced when this journal says an
//! earlier run wrote it; a file this run wrote that fails verification is
//! removed again (it was never referenced by a published `_metadata`).

use std::sync::Arc;

use futures_util::StreamExt;

use crate::storage::{Location, Storage};

use super::order::Order;
use super::plan::{FilePlan, Plan, SnapshotPlan};
use super::rate::Limiter;
use super::record::{Journal, Record};

/// How each copied file is checked at the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verify {
    /// Its size, and its MD5 where the store reports one (Azure and GCS
    /// `Content-MD5`, an S3 single-part ETag).
    #[default]
    Standard,
    /// As `Standard`, and the whole file read back and its CRC32C compared.
    Full,
}

/// Run options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Files in flight at once.
    pub concurrency: usize,
    /// Bytes per read (and per upload part).
    pub chunk: usize,
    /// Verification.
    pub verify: Verify,
    /// The byte budget, if any.
    pub limiter: Option<Arc<Limiter>>,
    /// The destination roots: nothing is written where one of them is
    /// reached through a symbolic link below it.
    pub dest_roots: Vec<Location>,
    /// Source and destination are one storage: copy inside a bucket on the
    /// server where the store can ([`Storage::copy_within`]).
    pub server_side: bool,
    /// Bytes of buffers all files in flight may hold at once (a file holds
    /// up to one upload part and two read chunks, less when it is smaller).
    pub memory: u64,
    /// Per snapshot, index for index with the plan: its priority (higher
    /// first; a file shared by several runs at the highest). Empty: equal.
    pub priorities: Vec<u8>,
    /// Per snapshot: a byte budget of its own besides the shared one (a
    /// file uses the one of its highest-priority snapshot).
    pub snapshot_limiters: Vec<Option<Arc<Limiter>>>,
    /// Asked before each file starts: how many may run, whether to stop.
    pub control: Option<Arc<dyn Control>>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            concurrency: 32,
            chunk: 1 << 20,
            verify: Verify::Standard,
            limiter: None,
            dest_roots: Vec::new(),
            server_side: false,
            memory: 256 << 20,
            priorities: Vec::new(),
            snapshot_limiters: Vec::new(),
            control: None,
        }
    }
}

/// Why a file failed when its source vanished mid-copy (what a snapshot
/// `replicate` abandons for the job's newer one fails with).
pub const SOURCE_GONE: &str = "was deleted while it was copied (a checkpoint Flink subsumed?)";

/// Why a file was not copied when the run was stopped before it.
pub const STOPPED: &str = "not copied: the run was stopped before it";

/// Live control of a run: files already started always finish.
pub trait Control: Send + Sync + std::fmt::Debug {
    /// How many files may be in flight now, at most `configured` (0 holds
    /// every new file back, e.g. while an interactive copy runs).
    fn slots(&self, configured: usize) -> usize;
    /// Start no more files: the run ends after those in flight, and
    /// publishes the snapshots they complete.
    fn stop(&self) -> bool;
    /// A file of `bytes` was streamed in `busy` (its time outside the
    /// byte budget's waits): what one stream can carry.
    fn streamed(&self, _bytes: u64, _busy: std::time::Duration) {}
}

/// Bytes of one multipart upload part (what an object store writer buffers).
pub const PART_SIZE: u64 = 8 << 20;

/// The buffer bytes copying one file of `size` may hold.
fn buffers(size: u64, chunk: usize) -> u64 {
    size.min(PART_SIZE) + 2 * size.min(chunk as u64)
}

/// Directories checked to lie where they appear to (no symbolic link
/// between a destination root and them).
#[derive(Debug, Default)]
struct Guard {
    /// `(root, its real location)`.
    roots: Vec<(Location, Location)>,
    ok: std::sync::Mutex<std::collections::HashSet<Location>>,
}

impl Guard {
    async fn new(dst: &dyn Storage, roots: &[Location]) -> Result<Self, String> {
        let mut out = Vec::new();
        for r in roots {
            // The deepest existing ancestor stands for the root.
            let mut probe = r.clone();
            let real = loop {
                if let Some(real) = dst.real_location(&probe).await.map_err(|e| e.to_string())? {
                    break real;
                }
                if probe.path() == "/" {
                    break probe.clone();
                }
                probe = probe.parent();
            };
            let rel = r.relative_to(&probe).unwrap_or_default();
            let real = if rel.is_empty() { real } else { real.join(rel) };
            out.push((r.clone(), real));
        }
        Ok(Self {
            roots: out,
            ok: Default::default(),
        })
    }

    /// Refuses `dir` if its deepest existing ancestor below a root is not
    /// where the root's real location says it should be.
    async fn check(&self, dst: &dyn Storage, dir: &Location) -> Result<(), String> {
        let Some((root, real_root)) = self
            .roots
            .iter()
            .filter(|(r, _)| dir.starts_with(r))
            .max_by_key(|(r, _)| r.path().len())
        else {
            return Ok(());
        };
        if self
            .ok
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(dir)
        {
            return Ok(());
        }
        let mut probe = dir.clone();
        while probe.starts_with(root) && &probe != root {
            if let Some(real) = dst.real_location(&probe).await.map_err(|e| e.to_string())? {
                let rel = probe.relative_to(root).unwrap_or_default();
                let want = if rel.is_empty() {
                    real_root.clone()
                } else {
                    real_root.join(rel)
                };
                if real != want {
                    return Err(format!(
                        "{probe} is reached through a symbolic link (it is really {real}); nothing is written there"
                    ));
                }
                break;
            }
            probe = probe.parent();
        }
        self.ok
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(dir.clone());
        Ok(())
    }
}

/// Progress callbacks.
pub trait Observer: Sync {
    /// `n` more bytes were read from a source.
    fn bytes(&self, n: u64);
    /// A file is done (copied, skipped or failed).
    fn file_done(&self);
    /// Snapshot `k` of the plan is settled: as soon as its last file is,
    /// unless it is a checkpoint waiting for a lower one of its destination
    /// job directory (checkpoints of one job are settled by ascending id).
    fn published(&self, _k: usize, _outcome: &Published) {}
}

/// An observer that ignores everything.
#[derive(Debug)]
pub struct Quiet;

impl Observer for Quiet {
    fn bytes(&self, _: u64) {}
    fn file_done(&self) {}
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    /// Written and verified.
    Copied {
        /// Bytes written.
        bytes: u64,
    },
    /// Already at the destination with the same content.
    Skipped,
    /// Not in place (the message says why).
    Failed(String),
}

/// What happened to one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    /// Its `_metadata` was written now.
    New,
    /// The same `_metadata` was there already.
    Already,
    /// Not published (why).
    Not(String),
}

/// The run's outcome, index for index with the plan.
#[derive(Debug, Clone)]
pub struct Report {
    /// Per file.
    pub files: Vec<FileOutcome>,
    /// Per snapshot.
    pub snapshots: Vec<Published>,
}

fn crc32c() -> crc_fast::Digest {
    crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi)
}

/// CRC32C of a whole file, streamed.
async fn checksum(storage: &dyn Storage, l: &Location, chunk: usize) -> Result<(u64, u64), String> {
    let mut crc = crc32c();
    let mut n = 0u64;
    let mut s = storage.read_stream(l, chunk);
    while let Some(c) = s.next().await {
        let c = c.map_err(|e| e.to_string())?;
        crc.update(&c);
        n += c.len() as u64;
    }
    Ok((n, crc.finalize()))
}

fn journal_write(journal: Option<&Journal>, r: &Record) -> Result<(), String> {
    match journal {
        Some(j) => j
            .record(r)
            .map_err(|e| format!("writing the journal {}: {e}", j.path().display())),
        None => Ok(()),
    }
}

impl Report {
    /// Every file failed and no snapshot published, for the one reason `e`
    /// (the run could not start).
    fn failed(plan: &Plan, e: &str) -> Self {
        Self {
            files: vec![FileOutcome::Failed(e.to_owned()); plan.files.len()],
            snapshots: vec![Published::Not(e.to_owned()); plan.snapshots.len()],
        }
    }
}

/// Copies the plan's files, then publishes every snapshot whose files are
/// all in place; the checkpoints of one destination job directory by
/// ascending id (a failed lower one does not hold a higher one back).
pub async fn copy(
    plan: &Plan,
    src: &dyn Storage,
    dst: &dyn Storage,
    journal: Option<&Journal>,
    opts: &Options,
    obs: &dyn Observer,
) -> Report {
    for s in &plan.snapshots {
        let bytes = s
            .files
            .iter()
            .map(|&i| plan.files[i].size.unwrap_or(0))
            .sum();
        if let Err(e) = journal_write(
            journal,
            &Record::Planned {
                snapshot: s.source.to_string(),
                destination: s.destination.to_string(),
                files: s.files.len(),
                bytes,
            },
        ) {
            return Report::failed(plan, &e);
        }
    }
    let guard = match Guard::new(dst, &opts.dest_roots).await {
        Ok(g) => g,
        Err(e) => {
            return Report::failed(plan, &e);
        }
    };
    let guard = &guard;
    // What is at each target already (directories listed once).
    let targets: Vec<Location> = plan.files.iter().map(|f| f.target.clone()).collect();
    let existing = super::stat::stat_many(dst, &targets, opts.concurrency).await;
    let existing = &existing;
    // The memory budget, in KiB permits (a file larger than the whole
    // budget still runs, alone).
    let kib = |b: u64| u32::try_from(b.div_ceil(1024).max(1)).unwrap_or(u32::MAX);
    let budget_kib = kib(opts.memory.max(PART_SIZE * 3));
    let memory = tokio::sync::Semaphore::new(budget_kib as usize);
    let memory = &memory;
    // Which snapshots need each file; how many distinct files each waits for.
    let mut needed_by: Vec<Vec<usize>> = vec![Vec::new(); plan.files.len()];
    for (k, s) in plan.snapshots.iter().enumerate() {
        for &i in &s.files {
            if needed_by[i].last() != Some(&k) && !needed_by[i].contains(&k) {
                needed_by[i].push(k);
            }
        }
    }
    let mut remaining: Vec<usize> = vec![0; plan.snapshots.len()];
    for ks in &needed_by {
        for &k in ks {
            remaining[k] += 1;
        }
    }
    let prio = |k: usize| opts.priorities.get(k).copied().unwrap_or(0);
    // A file runs at the highest priority of the snapshots needing it.
    let lead: Vec<Option<usize>> = needed_by
        .iter()
        .map(|ks| {
            ks.iter()
                .copied()
                .max_by_key(|&k| (prio(k), std::cmp::Reverse(k)))
        })
        .collect();
    let file_prio = |i: usize| lead[i].map_or(0, prio);
    // Highest priority first, then largest first: the long transfers start
    // early.
    let mut order: Vec<usize> = (0..plan.files.len()).collect();
    order.sort_by_key(|&i| {
        (
            std::cmp::Reverse(file_prio(i)),
            std::cmp::Reverse(plan.files[i].size.unwrap_or(0)),
        )
    });
    let mut queue: std::collections::VecDeque<usize> = order.into();
    let run_one = |i: usize| {
        let f = &plan.files[i];
        let own = lead[i].and_then(|k| opts.snapshot_limiters.get(k).cloned().flatten());
        async move {
            let need = kib(buffers(f.size.unwrap_or(0), opts.chunk)).min(budget_kib);
            let _permit = memory.acquire_many(need).await;
            let r = match guard.check(dst, &f.target.parent()).await {
                Ok(()) => match &existing[i] {
                    Ok(there) => {
                        copy_file(
                            f,
                            there.as_ref(),
                            src,
                            dst,
                            journal,
                            opts,
                            own.as_deref(),
                            obs,
                        )
                        .await
                    }
                    Err(e) => FileOutcome::Failed(e.to_string()),
                },
                Err(e) => FileOutcome::Failed(e),
            };
            obs.file_done();
            (i, r)
        }
    };
    let mut files: Vec<Option<FileOutcome>> = vec![None; plan.files.len()];
    let mut settler = Settler {
        plan,
        dst,
        guard,
        journal,
        obs,
        order: Order::new(plan.snapshots.iter().map(|s| &s.destination)),
        settled: Vec::with_capacity(plan.snapshots.len()),
    };
    // A snapshot needing no file is ready at once.
    for (k, &left) in remaining.iter().enumerate() {
        if left == 0 {
            settler.ready(k, &files).await;
        }
    }
    let configured = opts.concurrency.max(1);
    let mut running = futures_util::stream::FuturesUnordered::new();
    loop {
        let stop = opts.control.as_ref().is_some_and(|c| c.stop());
        let slots = opts
            .control
            .as_ref()
            .map_or(configured, |c| c.slots(configured).min(configured));
        while !stop && running.len() < slots {
            let Some(i) = queue.pop_front() else { break };
            running.push(run_one(i));
        }
        if running.is_empty() {
            if stop || queue.is_empty() {
                break;
            }
            // Held back: look again shortly.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            continue;
        }
        let next = if stop || queue.is_empty() {
            running.next().await
        } else {
            // Slots may open (or close) while files run.
            tokio::select! {
                r = running.next() => r,
                () = tokio::time::sleep(std::time::Duration::from_millis(500)) => continue,
            }
        };
        let Some((i, r)) = next else { continue };
        files[i] = Some(r);
        for &k in &needed_by[i] {
            remaining[k] -= 1;
            if remaining[k] == 0 {
                settler.ready(k, &files).await;
            }
        }
    }
    // Stopped: the files never started failed, and so did the snapshots
    // needing them; a checkpoint whose own files are in place but that
    // waited for one of those is published now.
    for f in &mut files {
        if f.is_none() {
            *f = Some(FileOutcome::Failed(STOPPED.to_owned()));
        }
    }
    for k in settler.order.all() {
        settler.settle(k, &files).await;
    }
    let snapshots = in_plan_order(settler.settled, plan.snapshots.len());
    let files = files.into_iter().flatten().collect();
    Report { files, snapshots }
}

/// Outcomes settled in publishing order, back in plan order.
fn in_plan_order(mut settled: Vec<(usize, Published)>, n: usize) -> Vec<Published> {
    settled.sort_by_key(|&(k, _)| k);
    debug_assert!(
        settled.iter().map(|&(k, _)| k).eq(0..n),
        "each snapshot settled once"
    );
    settled.into_iter().map(|(_, p)| p).collect()
}

/// Settles snapshots in publishing order ([`Order`]) as their files
/// complete, and tells the observer.
struct Settler<'a> {
    plan: &'a Plan,
    dst: &'a dyn Storage,
    guard: &'a Guard,
    journal: Option<&'a Journal>,
    obs: &'a dyn Observer,
    order: Order,
    /// `(snapshot, outcome)` in the order settled.
    settled: Vec<(usize, Published)>,
}

impl Settler<'_> {
    /// Snapshot `k`'s files are all settled: settles it, unless a lower
    /// checkpoint of its destination job directory is not, and the higher
    /// ones that waited for it, one after the other.
    async fn ready(&mut self, k: usize, files: &[Option<FileOutcome>]) {
        for j in self.order.ready(k) {
            self.settle(j, files).await;
        }
    }

    async fn settle(&mut self, k: usize, files: &[Option<FileOutcome>]) {
        let s = &self.plan.snapshots[k];
        let p = settle(s, files, self.dst, self.guard, self.journal).await;
        self.obs.published(k, &p);
        self.settled.push((k, p));
    }
}

/// Writes a small file at the destination (replaced if there), never
/// through a symbolic link below one of `dest_roots`.
pub async fn write_small(
    dst: &dyn Storage,
    dest_roots: &[Location],
    at: &Location,
    bytes: Vec<u8>,
) -> Result<(), String> {
    let guard = Guard::new(dst, dest_roots).await?;
    guard.check(dst, &at.parent()).await?;
    let mut up = dst.create(at).await.map_err(|e| format!("{at}: {e}"))?;
    if let Err(e) = up.write(bytes).await {
        let _ = up.abort().await;
        return Err(format!("{at}: {e}"));
    }
    up.finish().await.map_err(|e| format!("{at}: {e}"))
}

/// Publishes snapshot `s` once its files are settled (those not in
/// `files` yet count as failed).
async fn settle(
    s: &SnapshotPlan,
    files: &[Option<FileOutcome>],
    dst: &dyn Storage,
    guard: &Guard,
    journal: Option<&Journal>,
) -> Published {
    if let Err(e) = guard.check(dst, &s.destination.parent()).await {
        return Published::Not(e);
    }
    let outcomes: Vec<Option<&FileOutcome>> = s.files.iter().map(|&i| files[i].as_ref()).collect();
    publish_checked(s, &outcomes, dst, journal).await
}

/// Checks that every file is already at its target with the recorded size
/// (the data was moved by another tool), then publishes.
pub async fn relocate(
    plan: &Plan,
    dst: &dyn Storage,
    journal: Option<&Journal>,
    concurrency: usize,
    obs: &dyn Observer,
) -> Report {
    let targets: Vec<Location> = plan.files.iter().map(|f| f.target.clone()).collect();
    let stats = super::stat::stat_many(dst, &targets, concurrency).await;
    let done: Vec<(usize, FileOutcome)> = plan
        .files
        .iter()
        .zip(stats)
        .enumerate()
        .map(|(i, (f, st))| {
            let r = match st {
                Ok(Some(e)) if e.is_file() && f.expect.accepts(e.size) => FileOutcome::Skipped,
                Ok(Some(e)) if e.is_file() => FileOutcome::Failed(format!(
                    "{} has {} bytes, the snapshot records {}",
                    f.target,
                    e.size,
                    f.expect.describe()
                )),
                Ok(Some(_)) => FileOutcome::Failed(format!("{} is not a regular file", f.target)),
                Ok(None) => FileOutcome::Failed(format!("{} does not exist", f.target)),
                Err(e) => FileOutcome::Failed(e.to_string()),
            };
            obs.file_done();
            (i, r)
        })
        .collect();
    let mut files = vec![FileOutcome::Skipped; plan.files.len()];
    for (i, r) in done {
        files[i] = r;
    }
    // The checkpoints of one job by ascending id, as `copy` publishes them.
    let mut order = Order::new(plan.snapshots.iter().map(|s| &s.destination));
    let mut settled = Vec::with_capacity(plan.snapshots.len());
    for k in order.all() {
        let p = publish_if_complete(&plan.snapshots[k], &files, dst, journal).await;
        settled.push((k, p));
    }
    let snapshots = in_plan_order(settled, plan.snapshots.len());
    Report { files, snapshots }
}

async fn publish_if_complete(
    s: &SnapshotPlan,
    files: &[FileOutcome],
    dst: &dyn Storage,
    journal: Option<&Journal>,
) -> Published {
    let outcomes: Vec<Option<&FileOutcome>> = s.files.iter().map(|&i| Some(&files[i])).collect();
    publish_checked(s, &outcomes, dst, journal).await
}

/// Publishes `s` if none of its files' outcomes (index for index with
/// `s.files`; `None`: not copied) is a failure.
async fn publish_checked(
    s: &SnapshotPlan,
    outcomes: &[Option<&FileOutcome>],
    dst: &dyn Storage,
    journal: Option<&Journal>,
) -> Published {
    let failed: Vec<&str> = outcomes
        .iter()
        .filter_map(|o| match o {
            None => Some("not copied"),
            Some(FileOutcome::Failed(e)) => Some(e.as_str()),
            Some(_) => None,
        })
        .collect();
    if let Some(first) = failed.first() {
        return Published::Not(format!(
            "{} of its {} files are not in place ({first}); its _metadata was not written",
            failed.len(),
            s.files.len()
        ));
    }
    match publish(s, dst).await {
        Ok(p) => {
            if let Err(e) = journal_write(
                journal,
                &Record::Published {
                    snapshot: s.source.to_string(),
                    destination: s.destination.to_string(),
                    size: s.metadata.len() as u64,
                },
            ) {
                return Published::Not(e);
            }
            p
        }
        Err(e) => Published::Not(e),
    }
}

/// Writes the rewritten `_metadata` only if nothing is at its place, then
/// reads it back.
async fn publish(s: &SnapshotPlan, dst: &dyn Storage) -> Result<Published, String> {
    let bytes = &s.metadata;
    let at = &s.destination;
    let same_as_there = async || -> Result<bool, String> {
        let there = dst.read(at).await.map_err(|e| e.to_string())?;
        Ok(&there == bytes)
    };
    if let Some(e) = dst.stat(at).await.map_err(|e| e.to_string())? {
        if e.is_file() && e.size == bytes.len() as u64 && same_as_there().await? {
            return Ok(Published::Already);
        }
        return Err(format!(
            "{at} already exists with different content; not overwritten (remove it, or copy to another destination)"
        ));
    }
    match dst.put_if_absent(at, bytes.clone()).await {
        Ok(true) => {}
        Ok(false) => {
            return if same_as_there().await? {
                Ok(Published::Already)
            } else {
                Err(format!(
                    "{at} appeared while publishing, with different content; not overwritten"
                ))
            };
        }
        Err(e) => return Err(format!("publishing {at}: {e}")),
    }
    if !same_as_there().await? {
        // Ours, and wrong: never leave it looking restorable.
        let _ = dst.delete_files(std::slice::from_ref(at)).await;
        return Err(format!(
            "{at} reads back differently from what was written; removed again"
        ));
    }
    Ok(Published::New)
}

#[allow(clippy::too_many_arguments)]
async fn copy_file(
    f: &FilePlan,
    there: Option<&crate::storage::Entry>,
    src: &dyn Storage,
    dst: &dyn Storage,
    journal: Option<&Journal>,
    opts: &Options,
    own: Option<&Limiter>,
    obs: &dyn Observer,
) -> FileOutcome {
    match copy_file_inner(f, there, src, dst, journal, opts, own, obs).await {
        Ok(o) => o,
        Err(e) => FileOutcome::Failed(e),
    }
}

#[allow(clippy::too_many_arguments)]
async fn copy_file_inner(
    f: &FilePlan,
    there: Option<&crate::storage::Entry>,
    src: &dyn Storage,
    dst: &dyn Storage,
    journal: Option<&Journal>,
    opts: &Options,
    own: Option<&Limiter>,
    obs: &dyn Observer,
) -> Result<FileOutcome, String> {
    let size = f
        .size
        .ok_or_else(|| format!("{}: not stat-ed when planned", f.source))?;
    let target_text = f.target.to_string();
    let source_text = f.source.to_string();
    let prior = journal
        .and_then(|j| j.prior(&target_text))
        .filter(|p| p.source == source_text);
    if let Some(e) = there {
        if !e.is_file() {
            return Err(format!(
                "{} is not a regular file; not overwritten",
                f.target
            ));
        }
        let ours = prior.is_some();
        if e.size == size {
            if prior.is_some_and(|p| {
                p.verified && p.size == size && super::stat::same_time(p.modified, f.modified)
            }) {
                obs.bytes(size);
                return Ok(FileOutcome::Skipped);
            }
            // Same size, content unknown: compare checksums.
            let (a, b) = futures_util::join!(
                checksum(src, &f.source, opts.chunk),
                checksum(dst, &f.target, opts.chunk)
            );
            let (a, b) = (a?, b?);
            if a == b && a.0 == size {
                journal_write(
                    journal,
                    &Record::Verified {
                        source: source_text,
                        target: target_text,
                        size,
                        modified: f.modified,
                        crc32c: format!("{:08x}", a.1),
                    },
                )?;
                obs.bytes(size);
                return Ok(FileOutcome::Skipped);
            }
            if !ours {
                return Err(format!(
                    "{} already exists with different content; not overwritten",
                    f.target
                ));
            }
        } else if !ours {
            return Err(format!(
                "{} already exists with {} bytes (the source has {size}); not overwritten",
                f.target, e.size
            ));
        }
        // An earlier run of this copy wrote it: written again below.
    }
    if opts.server_side
        && dst
            .copy_within(&f.source, &f.target)
            .await
            .map_err(|e| e.to_string())?
    {
        return server_side_done(f, src, dst, journal, opts, obs, size).await;
    }
    let mut up = dst.create(&f.target).await.map_err(|e| e.to_string())?;
    let mut crc = crc32c();
    let mut md5 = <md5::Md5 as md5::Digest>::new();
    let mut n = 0u64;
    let mut stream = src.read_stream(&f.source, opts.chunk);
    let started = tokio::time::Instant::now();
    let mut waited = std::time::Duration::ZERO;
    let failure: Option<String> = loop {
        let Some(chunk) = stream.next().await else {
            break None;
        };
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) if e.is_not_found() => {
                break Some(format!("{} {SOURCE_GONE}", f.source));
            }
            Err(e) => break Some(e.to_string()),
        };
        if let Some(l) = own {
            waited += l.take(chunk.len() as u64).await;
        }
        if let Some(l) = &opts.limiter {
            waited += l.take(chunk.len() as u64).await;
        }
        n += chunk.len() as u64;
        if n > size {
            break Some(format!("{} grew while it was copied", f.source));
        }
        crc.update(&chunk);
        md5::Digest::update(&mut md5, &chunk);
        obs.bytes(chunk.len() as u64);
        if let Err(e) = up.write(chunk).await {
            break Some(e.to_string());
        }
    };
    drop(stream);
    let failure = failure.or_else(|| {
        (n != size).then(|| {
            format!(
                "{} changed while it was copied: {n} bytes read, {size} when planned",
                f.source
            )
        })
    });
    let failure = match failure {
        Some(e) => Some(e),
        // The pin: the source must still be what was planned.
        None => match src.stat(&f.source).await {
            Ok(Some(e)) if e.size == size && super::stat::same_time(e.modified, f.modified) => None,
            Ok(Some(_)) => Some(format!("{} changed while it was copied", f.source)),
            Ok(None) => Some(format!("{} {SOURCE_GONE}", f.source)),
            Err(e) => Some(e.to_string()),
        },
    };
    if let Some(e) = failure {
        let _ = up.abort().await;
        return Err(e);
    }
    up.finish().await.map_err(|e| e.to_string())?;
    if let Some(c) = &opts.control {
        c.streamed(n, started.elapsed().saturating_sub(waited));
    }
    journal_write(
        journal,
        &Record::Copied {
            source: source_text.clone(),
            target: target_text.clone(),
            size,
        },
    )?;
    let crc = crc.finalize();
    let md5 = crate::storage::write_hex(&md5::Digest::finalize(md5));
    if let Err(e) = verify(f, dst, size, crc, &md5, opts).await {
        // Written by this run and wrong: removed, never referenced.
        let _ = dst.delete_files(std::slice::from_ref(&f.target)).await;
        return Err(e);
    }
    journal_write(
        journal,
        &Record::Verified {
            source: source_text,
            target: target_text,
            size,
            modified: f.modified,
            crc32c: format!("{crc:08x}"),
        },
    )?;
    Ok(FileOutcome::Copied { bytes: n })
}

/// After a server-side copy: the source still as planned, the target of
/// the same size, the same MD5 where the store reports both (and with
/// `--verify full` the same CRC32C read back from both); else the target
/// is removed.
async fn server_side_done(
    f: &FilePlan,
    src: &dyn Storage,
    dst: &dyn Storage,
    journal: Option<&Journal>,
    opts: &Options,
    obs: &dyn Observer,
    size: u64,
) -> Result<FileOutcome, String> {
    let checked = async {
        match src.stat(&f.source).await.map_err(|e| e.to_string())? {
            Some(e) if e.size == size && super::stat::same_time(e.modified, f.modified) => {}
            Some(_) => return Err(format!("{} changed while it was copied", f.source)),
            None => {
                return Err(format!("{} {SOURCE_GONE}", f.source));
            }
        }
        match dst.stat(&f.target).await.map_err(|e| e.to_string())? {
            Some(e) if e.is_file() && e.size == size => {}
            _ => {
                return Err(format!(
                    "{}: the server-side copy is not {size} bytes",
                    f.target
                ));
            }
        }
        let (a, b) = futures_util::join!(dst.content_md5(&f.source), dst.content_md5(&f.target));
        if let (Ok(Some(a)), Ok(Some(b))) = (a, b)
            && a != b
        {
            return Err(format!(
                "{}: MD5 {b} after a server-side copy of MD5 {a}",
                f.target
            ));
        }
        let mut crc = String::new();
        if opts.verify == Verify::Full {
            let (a, b) = futures_util::join!(
                checksum(src, &f.source, opts.chunk),
                checksum(dst, &f.target, opts.chunk)
            );
            let (a, b) = (a?, b?);
            if a != b {
                return Err(format!(
                    "{}: reads back differently from its source",
                    f.target
                ));
            }
            crc = format!("{:08x}", a.1);
        }
        Ok(crc)
    }
    .await;
    let crc = match checked {
        Ok(c) => c,
        Err(e) => {
            let _ = dst.delete_files(std::slice::from_ref(&f.target)).await;
            return Err(e);
        }
    };
    obs.bytes(size);
    journal_write(
        journal,
        &Record::Verified {
            source: f.source.to_string(),
            target: f.target.to_string(),
            size,
            modified: f.modified,
            crc32c: crc,
        },
    )?;
    Ok(FileOutcome::Copied { bytes: size })
}

async fn verify(
    f: &FilePlan,
    dst: &dyn Storage,
    size: u64,
    crc: u64,
    md5: &str,
    opts: &Options,
) -> Result<(), String> {
    // The MD5 the store reports, if any, settles size and content in one
    // request; otherwise the size is checked.
    match dst
        .content_md5(&f.target)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(theirs) if theirs != md5 => {
            return Err(format!(
                "{}: the destination reports MD5 {theirs}, the bytes read were {md5}; removed",
                f.target
            ));
        }
        Some(_) => {}
        None => match dst.stat(&f.target).await.map_err(|e| e.to_string())? {
            Some(e) if e.is_file() && e.size == size => {}
            Some(e) => {
                return Err(format!(
                    "{} has {} bytes after writing {size}; removed",
                    f.target, e.size
                ));
            }
            None => return Err(format!("{} is missing after writing it", f.target)),
        },
    }
    if opts.verify == Verify::Full {
        let (n, c) = checksum(dst, &f.target, opts.chunk).await?;
        if n != size || c != crc {
            return Err(format!(
                "{}: reads back as {n} bytes with CRC32C {c:08x}, written {size} bytes with {crc:08x}; removed",
                f.target
            ));
        }
    }
    Ok(())
}
