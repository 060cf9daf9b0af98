//! A sorted collection that spills to disk: records are pushed in any
//! order, kept in memory up to a limit, then written out as sorted runs
//! (JSON lines in a private temporary directory) and read back merged, in
//! order. Memory holds one buffer of records plus one record per open run,
//! whatever the number of records, so a cleanup plan over 10⁹ files needs
//! disk, not RAM.
//!
//! Runs are merged in tiers of [`FAN_IN`] (like a log-structured merge
//! tree), so at most `FAN_IN` runs per tier are open while reading and each
//! record is rewritten O(log n) times. The directory and its runs are
//! removed when the collection is dropped.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Records kept in memory before a run is written.
pub const DEFAULT_LIMIT: usize = 1 << 15;

/// Runs merged into one at a time (and the most runs read at once per tier).
pub const FAN_IN: usize = 32;

/// The environment variable naming the directory for spilled runs
/// (default: the system's temporary directory).
pub const SPILL_DIR_ENV: &str = "FLINK_CHK_SPILL_DIR";

/// Why spilling or reading back failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Creating, writing or reading a run failed.
    #[error("{}: {what}", path.display())]
    Io {
        /// The run or directory.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A run could not be decoded (it was changed on disk).
    #[error("{}: line {line}: not a record written by this run", path.display())]
    Decode {
        /// The run.
        path: PathBuf,
        /// The line (1-based).
        line: u64,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

fn io<'a>(path: &'a Path, what: &'static str) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io {
        path: path.to_owned(),
        what,
        source,
    }
}

/// The private directory runs are written to, removed with its last user.
#[derive(Debug)]
struct Dir {
    path: PathBuf,
    next: AtomicU64,
}

impl Dir {
    fn create() -> Result<Arc<Dir>, Error> {
        let base = std::env::var_os(SPILL_DIR_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "flink-chk-spill-{}-{}-{nanos}",
            std::process::id(),
            SEQ.fetch_add(1, AtomicOrdering::Relaxed)
        );
        let path = base.join(name);
        // `create_dir` (not `_all`) fails if it exists: the directory is ours.
        std::fs::create_dir(&path).map_err(io(&path, "creating the spill directory"))?;
        Ok(Arc::new(Dir {
            path,
            next: AtomicU64::new(0),
        }))
    }

    fn new_run(&self) -> PathBuf {
        let n = self.next.fetch_add(1, AtomicOrdering::Relaxed);
        self.path.join(format!("run-{n}.jsonl"))
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Scratch bytes in a spill directory of their own: a remote Parquet
/// inventory file, written here while its checksum is checked, then read
/// in place, so a file of any size costs disk, not memory.
#[derive(Debug)]
pub struct Scratch {
    dir: Arc<Dir>,
    path: PathBuf,
    w: BufWriter<File>,
}

impl Scratch {
    /// An empty scratch file.
    pub fn create() -> Result<Self, Error> {
        let dir = Dir::create()?;
        let path = dir.path.join("scratch");
        let file = File::create(&path).map_err(io(&path, "creating a scratch file"))?;
        Ok(Scratch {
            dir,
            path,
            w: BufWriter::with_capacity(1 << 16, file),
        })
    }

    /// Appends `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.w
            .write_all(bytes)
            .map_err(io(&self.path, "writing a scratch file"))
    }

    /// The bytes written, open for reading. The file is unlinked at once
    /// (its directory too): what is open stays readable until closed.
    pub fn finish(mut self) -> Result<File, Error> {
        self.w
            .flush()
            .map_err(io(&self.path, "writing a scratch file"))?;
        let f = File::open(&self.path).map_err(io(&self.path, "reading a scratch file"))?;
        let _ = std::fs::remove_file(&self.path);
        drop(self.dir);
        Ok(f)
    }
}

/// One sorted run on disk.
#[derive(Debug)]
struct Run {
    path: PathBuf,
    // Keeps the directory alive while the run exists.
    _dir: Arc<Dir>,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A collection of `T` read back in `T`'s order, spilling to disk past a
/// limit. Equal records are all kept.
#[derive(Debug)]
pub struct Spill<T> {
    limit: usize,
    mem: Vec<T>,
    sorted: bool,
    /// Runs by tier: tier `k` holds runs of about `limit × FAN_INᵏ` records.
    tiers: Vec<Vec<Run>>,
    dir: Option<Arc<Dir>>,
    len: u64,
    /// The last record of the newest run in the first tier, while that run
    /// may be extended.
    tail: Option<T>,
}

/// The environment variable that overrides [`DEFAULT_LIMIT`] (records held
/// in memory before a run is written), for tuning and for tests that make
/// small plans spill.
pub const SPILL_LIMIT_ENV: &str = "FLINK_CHK_SPILL_LIMIT";

/// [`DEFAULT_LIMIT`], or [`SPILL_LIMIT_ENV`] when it is set to a number.
pub fn default_limit() -> usize {
    static LIMIT: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *LIMIT.get_or_init(|| {
        std::env::var(SPILL_LIMIT_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_LIMIT)
    })
}

impl<T> Default for Spill<T> {
    fn default() -> Self {
        Spill::with_limit(default_limit())
    }
}

impl<T> Spill<T> {
    /// Keeps up to `limit` records in memory (at least 1).
    pub fn with_limit(limit: usize) -> Self {
        Spill {
            limit: limit.max(1),
            mem: Vec::new(),
            sorted: true,
            tiers: Vec::new(),
            dir: None,
            len: 0,
            tail: None,
        }
    }

    /// Records held.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// No records.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether any run was written to disk.
    pub fn spilled(&self) -> bool {
        self.tiers.iter().any(|t| !t.is_empty())
    }
}

impl<T: Ord + Serialize + DeserializeOwned + Clone> Spill<T> {
    /// The records of `v`, kept in memory.
    pub fn from_vec(mut v: Vec<T>) -> Self {
        v.sort();
        let len = v.len() as u64;
        Spill {
            limit: v.len().max(default_limit()),
            mem: v,
            sorted: true,
            tiers: Vec::new(),
            dir: None,
            len,
            tail: None,
        }
    }

    /// Adds a record; writes a run when the buffer is full.
    pub fn push(&mut self, item: T) -> Result<(), Error> {
        self.mem.push(item);
        self.sorted = false;
        self.len += 1;
        if self.mem.len() >= self.limit {
            self.flush()?;
        }
        Ok(())
    }

    /// Sorts what is in memory (reading needs no `&mut` afterwards).
    pub fn seal(&mut self) {
        if !self.sorted {
            self.mem.sort();
            self.sorted = true;
        }
    }

    fn dir(&mut self) -> Result<Arc<Dir>, Error> {
        if let Some(d) = &self.dir {
            return Ok(d.clone());
        }
        let d = Dir::create()?;
        self.dir = Some(d.clone());
        Ok(d)
    }

    /// Writes the buffer as a run, merging full tiers.
    fn flush(&mut self) -> Result<(), Error> {
        self.seal();
        if self.mem.is_empty() {
            return Ok(());
        }
        let mem = std::mem::take(&mut self.mem);
        // Records that sort after the newest run's last one extend that
        // run: input that comes nearly in order (a listing) makes a few
        // long runs, and reading them back is then mostly a copy.
        if let (Some(tail), Some(first)) = (&self.tail, mem.first())
            && first >= tail
            && let Some(run) = self.tiers.first().and_then(|t| t.last())
        {
            append_run::<T>(run, mem.iter())?;
            self.tail = mem.last().cloned();
            return Ok(());
        }
        let dir = self.dir()?;
        let run = write_run::<T>(&dir, mem.iter().map(Ok::<&T, Error>))?;
        self.tail = mem.last().cloned();
        self.push_run(0, run)
    }

    fn push_run(&mut self, tier: usize, run: Run) -> Result<(), Error> {
        if self.tiers.len() <= tier {
            self.tiers.resize_with(tier + 1, Vec::new);
        }
        self.tiers[tier].push(run);
        if self.tiers[tier].len() >= FAN_IN {
            // The newest run is merged away: nothing to extend.
            self.tail = None;
            let runs = std::mem::take(&mut self.tiers[tier]);
            let dir = self.dir()?;
            let merged = {
                let refs: Vec<&Run> = runs.iter().collect();
                let it = Merge::<T>::new(&refs, &[])?;
                write_run::<T>(&dir, it)?
            };
            drop(runs);
            return self.push_run(tier + 1, merged);
        }
        Ok(())
    }

    /// Every record, in order. The buffer must be sealed ([`Spill::seal`]);
    /// if it is not, it is sorted in a copy.
    pub fn iter(&self) -> Result<Merge<'_, T>, Error> {
        let runs: Vec<&Run> = self.tiers.iter().flatten().collect();
        if self.sorted {
            Merge::new(&runs, &self.mem)
        } else {
            let mut copy = self.mem.clone();
            copy.sort();
            Merge::owned(&runs, copy)
        }
    }

    /// Every record in a vector (in order): for callers that need them all
    /// at once anyway.
    pub fn to_vec(&self) -> Result<Vec<T>, Error> {
        self.iter()?.collect()
    }
}

/// Appends `items` (all sorting after the run's last record) to `run`.
fn append_run<'t, T: Serialize + 't>(
    run: &Run,
    items: impl Iterator<Item = &'t T>,
) -> Result<(), Error> {
    let path = &run.path;
    let file = File::options()
        .append(true)
        .open(path)
        .map_err(io(path, "extending a spill run"))?;
    let mut w = BufWriter::with_capacity(1 << 16, file);
    for item in items {
        serde_json::to_writer(&mut w, item).map_err(|e| Error::Io {
            path: path.clone(),
            what: "writing a spill run",
            source: e.into(),
        })?;
        w.write_all(b"\n")
            .map_err(io(path, "writing a spill run"))?;
    }
    w.flush().map_err(io(path, "writing a spill run"))
}

fn write_run<T: Serialize>(
    dir: &Arc<Dir>,
    items: impl Iterator<Item = Result<impl std::borrow::Borrow<T>, Error>>,
) -> Result<Run, Error> {
    let path = dir.new_run();
    let file = File::create(&path).map_err(io(&path, "creating a spill run"))?;
    let mut w = BufWriter::with_capacity(1 << 16, file);
    for item in items {
        let item = item?;
        serde_json::to_writer(&mut w, item.borrow()).map_err(|e| Error::Io {
            path: path.clone(),
            what: "writing a spill run",
            source: e.into(),
        })?;
        w.write_all(b"\n")
            .map_err(io(&path, "writing a spill run"))?;
    }
    w.flush().map_err(io(&path, "writing a spill run"))?;
    Ok(Run {
        path,
        _dir: dir.clone(),
    })
}

/// Reads one run line by line.
struct RunReader {
    path: PathBuf,
    r: BufReader<File>,
    line: u64,
    buf: String,
}

impl RunReader {
    fn next<T: DeserializeOwned>(&mut self) -> Option<Result<T, Error>> {
        self.buf.clear();
        match self.r.read_line(&mut self.buf) {
            Ok(0) => None,
            Ok(_) => {
                self.line += 1;
                Some(
                    serde_json::from_str(self.buf.trim_end()).map_err(|source| Error::Decode {
                        path: self.path.clone(),
                        line: self.line,
                        source,
                    }),
                )
            }
            Err(e) => Some(Err(io(&self.path, "reading a spill run")(e))),
        }
    }
}

/// A head record and where it came from (`None`: the memory buffer).
struct Head<T> {
    item: T,
    src: Option<usize>,
}

impl<T: Ord> PartialEq for Head<T> {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl<T: Ord> Eq for Head<T> {}
impl<T: Ord> PartialOrd for Head<T> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<T: Ord> Ord for Head<T> {
    // Reversed: `BinaryHeap` is a max-heap. Ties by source, so the merge is
    // deterministic.
    fn cmp(&self, o: &Self) -> Ordering {
        o.item.cmp(&self.item).then_with(|| o.src.cmp(&self.src))
    }
}

/// The merged, ordered records of a [`Spill`].
pub struct Merge<'a, T> {
    readers: Vec<RunReader>,
    mem: MemSource<'a, T>,
    heap: BinaryHeap<Head<T>>,
    failed: Option<Error>,
}

impl<T> std::fmt::Debug for Merge<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merge")
            .field("runs", &self.readers.len())
            .finish_non_exhaustive()
    }
}

enum MemSource<'a, T> {
    Borrowed(std::slice::Iter<'a, T>),
    Owned(std::vec::IntoIter<T>),
}

impl<'a, T: Ord + DeserializeOwned + Clone> Merge<'a, T> {
    fn new(runs: &[&Run], mem: &'a [T]) -> Result<Self, Error> {
        Self::start(runs, MemSource::Borrowed(mem.iter()))
    }

    fn owned(runs: &[&Run], mem: Vec<T>) -> Result<Self, Error> {
        Self::start(runs, MemSource::Owned(mem.into_iter()))
    }

    fn start(runs: &[&Run], mem: MemSource<'a, T>) -> Result<Self, Error> {
        let mut m = Merge {
            readers: Vec::with_capacity(runs.len()),
            mem,
            heap: BinaryHeap::with_capacity(runs.len() + 1),
            failed: None,
        };
        for r in runs {
            let f = File::open(&r.path).map_err(io(&r.path, "opening a spill run"))?;
            m.readers.push(RunReader {
                path: r.path.clone(),
                r: BufReader::with_capacity(1 << 16, f),
                line: 0,
                buf: String::new(),
            });
        }
        for i in 0..m.readers.len() {
            m.refill(Some(i))?;
        }
        m.refill(None)?;
        Ok(m)
    }

    fn refill(&mut self, src: Option<usize>) -> Result<(), Error> {
        if let Some(item) = pull(&mut self.readers, &mut self.mem, src)? {
            self.heap.push(Head { item, src });
        }
        Ok(())
    }
}

/// The next record of source `src` (a run, or `None` for memory).
fn pull<T: DeserializeOwned + Clone>(
    readers: &mut [RunReader],
    mem: &mut MemSource<'_, T>,
    src: Option<usize>,
) -> Result<Option<T>, Error> {
    Ok(match src {
        Some(i) => readers[i].next::<T>().transpose()?,
        None => match mem {
            MemSource::Borrowed(it) => it.next().cloned(),
            MemSource::Owned(it) => it.next(),
        },
    })
}

impl<T: Ord + DeserializeOwned + Clone> Iterator for Merge<'_, T> {
    type Item = Result<T, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failed.take() {
            return Some(Err(e));
        }
        // The smallest head is replaced by its source's next record in
        // place (one sift instead of a pop and a push).
        let mut top = self.heap.peek_mut()?;
        let src = top.src;
        match pull(&mut self.readers, &mut self.mem, src) {
            Ok(Some(next)) => Some(Ok(std::mem::replace(&mut top.item, next))),
            Ok(None) => Some(Ok(std::collections::binary_heap::PeekMut::pop(top).item)),
            Err(e) => {
                // This record first, the error next.
                self.failed = Some(e);
                Some(Ok(std::collections::binary_heap::PeekMut::pop(top).item))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(n: u64) -> Vec<u64> {
        // A fixed permutation of 0..n.
        (0..n).map(|i| (i * 7919) % n).collect()
    }

    #[test]
    fn records_come_back_in_order_whatever_spilled() {
        for limit in [1, 3, 10, 1000] {
            let mut s = Spill::with_limit(limit);
            for x in numbers(997) {
                s.push(x).unwrap();
            }
            s.push(5).unwrap(); // a duplicate is kept
            s.seal();
            assert_eq!(s.len(), 998);
            assert_eq!(s.spilled(), limit < 998, "limit {limit}");
            let got: Vec<u64> = s.iter().unwrap().map(Result::unwrap).collect();
            let mut want = numbers(997);
            want.push(5);
            want.sort();
            assert_eq!(got, want, "limit {limit}");
        }
    }

    #[test]
    fn records_in_order_extend_the_newest_run() {
        let runs = |s: &Spill<u64>| s.tiers.iter().map(Vec::len).sum::<usize>();
        let mut s = Spill::with_limit(4);
        for x in 0..40u64 {
            s.push(x).unwrap();
        }
        assert_eq!(runs(&s), 1, "in order: one run");
        // Below the run's last record: a new run, which the next chunk in
        // order extends.
        for x in [3u64, 2, 1, 0, 100, 101, 102, 103] {
            s.push(x).unwrap();
        }
        assert_eq!(runs(&s), 2);
        s.push(50).unwrap();
        s.seal();
        let got: Vec<u64> = s.iter().unwrap().map(Result::unwrap).collect();
        let mut want: Vec<u64> = (0..40)
            .chain([0, 1, 2, 3, 50, 100, 101, 102, 103])
            .collect();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn tiers_merge_so_few_runs_stay_open() {
        let mut s = Spill::with_limit(2);
        // Descending: no chunk extends the run before it.
        for x in (0..2 * FAN_IN as u64 * FAN_IN as u64 + 5).rev() {
            s.push(x).unwrap();
        }
        let open: usize = s.tiers.iter().map(Vec::len).sum();
        assert!(open < 2 * FAN_IN, "{open} runs open");
        assert!(s.tiers.len() >= 3, "{} tiers", s.tiers.len());
        let got: Vec<u64> = s.iter().unwrap().map(Result::unwrap).collect();
        assert!(got.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(got.len(), 2 * FAN_IN * FAN_IN + 5);
    }

    #[test]
    fn scratch_bytes_read_back_whole_and_leave_nothing_behind() {
        use std::io::Read as _;
        let mut s = Scratch::create().unwrap();
        let dir = s.dir.path.clone();
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        for chunk in bytes.chunks(70_001) {
            s.write(chunk).unwrap();
        }
        let mut f = s.finish().unwrap();
        assert!(!dir.exists(), "{} left behind", dir.display());
        let mut back = Vec::new();
        f.read_to_end(&mut back).unwrap();
        assert_eq!(back, bytes);
    }

    #[test]
    fn the_spill_directory_goes_with_the_collection() {
        let mut s = Spill::with_limit(2);
        for x in 0..10u64 {
            s.push(x).unwrap();
        }
        let dir = s.dir.as_ref().unwrap().path.clone();
        assert!(dir.is_dir());
        drop(s);
        assert!(!dir.exists(), "{} left behind", dir.display());
    }

    #[test]
    fn a_run_changed_on_disk_is_an_error_naming_it() {
        let mut s = Spill::with_limit(2);
        for x in 0..4u64 {
            s.push(x).unwrap();
        }
        let run = s.tiers[0][0].path.clone();
        std::fs::write(&run, "0\nnot json\n").unwrap();
        let err = s
            .iter()
            .unwrap()
            .find_map(Result::err)
            .expect("a decode error");
        let msg = err.to_string();
        assert!(msg.contains("line 2"), "{msg}");
        assert!(msg.contains(&run.display().to_string()), "{msg}");
    }
}
