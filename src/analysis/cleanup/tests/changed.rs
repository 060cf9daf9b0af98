//! Files rewritten between their last check and their delete: deleted only
//! if unchanged (`Storage::delete_files_if`), on an in-memory copy of a real
//! Flink tree whose files carry versions as object stores' do.

use std::collections::BTreeSet;
use std::sync::Mutex;

use super::apply::{Case, case, run_apply};
use crate::analysis::cleanup::apply::CHANGED;
use crate::analysis::cleanup::tests::{files, planned, policy};
use crate::storage::memory::MemoryStorage;
use crate::storage::{self, BoxFuture, BoxStream, Entry, Location, Storage};

/// The fixture copy of `c` in memory: same paths, bytes and times.
pub(super) fn in_memory(c: &Case, versions: bool) -> MemoryStorage {
    let m = MemoryStorage::new();
    let mut fs = m.lock();
    fs.versions = versions;
    let mut stack = vec![c.root.clone()];
    while let Some(d) = stack.pop() {
        fs.mkdirs(d.to_str().unwrap());
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let t = std::fs::metadata(&p).unwrap().modified().unwrap();
                let t = jiff::Timestamp::try_from(t).unwrap();
                fs.put(p.to_str().unwrap(), std::fs::read(&p).unwrap(), t);
            }
        }
    }
    drop(fs);
    m
}

/// Rewrites each of `targets` (same size and time, other bytes) when it is
/// handed to a delete: the write that lands after the last check.
#[derive(Debug)]
struct RewriteBeforeDelete {
    inner: MemoryStorage,
    targets: Mutex<BTreeSet<String>>,
}

const REWRITTEN: u8 = b'#';

impl RewriteBeforeDelete {
    fn rewrite<'l>(&self, files: impl Iterator<Item = &'l Location>) {
        let mut targets = self.targets.lock().unwrap();
        let mut fs = self.inner.lock();
        for l in files {
            if targets.remove(l.path()) {
                let f = fs.files.get(l.path()).unwrap().clone();
                fs.put(l.path(), vec![REWRITTEN; f.data.len()], f.modified);
            }
        }
    }
}

impl Storage for RewriteBeforeDelete {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn stat<'a>(&'a self, l: &'a Location) -> BoxFuture<'a, Result<Option<Entry>, storage::Error>> {
        self.inner.stat(l)
    }
    fn read<'a>(&'a self, l: &'a Location) -> BoxFuture<'a, Result<Vec<u8>, storage::Error>> {
        self.inner.read(l)
    }
    fn read_range<'a>(
        &'a self,
        l: &'a Location,
        o: u64,
        n: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, storage::Error>> {
        self.inner.read_range(l, o, n)
    }
    fn list<'a>(
        &'a self,
        d: &'a Location,
        r: bool,
    ) -> BoxStream<'a, Result<Entry, storage::Error>> {
        self.inner.list(d, r)
    }
    fn delete_files<'a>(
        &'a self,
        f: &'a [Location],
    ) -> BoxFuture<'a, Vec<Result<(), storage::Error>>> {
        self.rewrite(f.iter());
        self.inner.delete_files(f)
    }
    fn delete_files_if<'a>(
        &'a self,
        f: &'a [(Location, Option<String>)],
    ) -> BoxFuture<'a, Vec<Result<(), storage::Error>>> {
        self.rewrite(f.iter().map(|(l, _)| l));
        self.inner.delete_files_if(f)
    }
    fn remove_dir_if_empty<'a>(
        &'a self,
        d: &'a Location,
    ) -> BoxFuture<'a, Result<bool, storage::Error>> {
        self.inner.remove_dir_if_empty(d)
    }
}

/// Rewrites, right before their delete, a file candidate (its version is
/// the re-check's), a file of a candidate directory (listed just before its
/// batch) and a candidate directory's `_metadata`. With versions, all three
/// stay, are reported as skipped, never as deleted, and the checkpoint
/// whose `_metadata` stayed is left whole; everything else goes. Without
/// versions (local disk, HDFS) the same rewrites are deleted: nothing can
/// tell them apart there.
#[test]
fn files_rewritten_after_their_check_are_skipped_not_deleted() {
    let c = case("rocksdb-incremental");
    let (plan, file) = c.plan(&policy(1));
    let expected = planned(&plan);
    let file_candidate = plan
        .candidates
        .to_vec()
        .unwrap()
        .iter()
        .find(|x| !x.is_dir && x.path.file_name() != "_metadata")
        .expect("the fixture plans a shared file on its own")
        .path
        .path()
        .to_owned();
    let chk4 = c.job.join("chk-4");
    let in_dir = files(&chk4)
        .into_iter()
        .find(|f| !f.ends_with("/_metadata"))
        .unwrap();
    let chk5 = c.job.join("chk-5");
    let metadata = chk5.join("_metadata").to_str().unwrap().to_owned();
    let targets: BTreeSet<String> = [file_candidate, in_dir, metadata.clone()].into();
    for t in &targets {
        assert!(expected.contains(t), "{t} is planned");
    }

    for versions in [true, false] {
        let s = RewriteBeforeDelete {
            inner: in_memory(&c, versions),
            targets: Mutex::new(targets.clone()),
        };
        let v = c.revalidate(&s, &file).unwrap();
        assert!(v.dropped.is_empty(), "{:?}", v.dropped);
        let (a, deleted) = run_apply(&s, &v);
        assert!(
            s.targets.lock().unwrap().is_empty(),
            "every target rewritten"
        );
        assert!(a.failed.is_empty(), "{:?}", a.failed);
        let fs = s.inner.lock();
        let left: BTreeSet<String> = expected
            .iter()
            .filter(|f| fs.files.contains_key(*f))
            .cloned()
            .collect();
        if !versions {
            assert!(left.is_empty(), "deleted unconditionally: {left:?}");
            assert!(a.skipped.is_empty(), "{:?}", a.skipped);
            continue;
        }
        // chk-5 stays whole: its `_metadata` could not go first.
        let chk5_files: BTreeSet<String> = expected
            .iter()
            .filter(|f| f.starts_with(&format!("{}/", chk5.display())))
            .cloned()
            .collect();
        let mut kept = chk5_files.clone();
        kept.extend(targets.iter().cloned());
        assert_eq!(left, kept);
        for t in &targets {
            assert!(fs.files[t].data.iter().all(|&b| b == REWRITTEN), "{t}");
            assert!(!deleted.contains(t), "{t} reported deleted");
        }
        let skipped: BTreeSet<String> = a
            .skipped
            .iter()
            .filter(|(_, why)| why == CHANGED)
            .map(|(p, _)| Location::parse(p).unwrap().path().to_owned())
            .collect();
        assert_eq!(skipped, targets);
        assert_eq!(a.dirs_left.len(), 1, "{:?}", a.dirs_left);
        assert!(a.dirs_left[0].ends_with("chk-5"));
        assert_eq!(a.deleted_files as usize, expected.len() - kept.len());
        assert_eq!(deleted.len(), expected.len() - kept.len());
    }
}
