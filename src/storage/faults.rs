//! Fault injection for tests: [`Faulty`] wraps a backend and makes chosen
//! calls fail, so code that deletes (or reads, or lists) can be tested
//! against partial failures without a misbehaving server.
//!
//! ```
//! use flink_chk::storage::{LocalStorage, faults::Faulty};
//! // The first two files delete, every later one fails; so do files under
//! // `shared/`, and reads of `_metadata` files.
//! let s = Faulty::new(LocalStorage)
//!     .fail_deletes_from(2)
//!     .fail_deletes_containing("/shared/")
//!     .fail_reads_containing("_metadata");
//! ```
//!
//! An injected failure is an [`Error::Io`] whose message is
//! [`INJECTED`]; the file it names is not touched (it is not handed to the
//! wrapped backend). Everything not configured is passed through.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::{BoxFuture, BoxStream, Entry, Error, Location, Storage, Upload};

/// The message of every injected error.
pub const INJECTED: &str = "injected fault";

/// A backend whose deletes, reads or listings fail on demand.
#[derive(Debug)]
pub struct Faulty<S> {
    inner: S,
    fail_deletes_from: Option<usize>,
    fail_deletes_containing: Vec<String>,
    empty_listings: bool,
    fail_reads_containing: Vec<String>,
    fail_writes_from: Option<usize>,
    fail_writes_containing: Vec<String>,
    corrupt_writes_containing: Vec<String>,
    /// Files handed to `delete_files` so far, over all calls.
    deletes_seen: AtomicUsize,
    /// The most files handed to one `delete_files` (or `delete_files_if`) call.
    largest_delete: AtomicUsize,
    /// Files written (`create`, `put_if_absent`) so far.
    writes_seen: AtomicUsize,
}

impl<S: Storage> Faulty<S> {
    /// Wraps `inner`; no faults until configured.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            fail_deletes_from: None,
            fail_deletes_containing: Vec::new(),
            empty_listings: false,
            fail_reads_containing: Vec::new(),
            fail_writes_from: None,
            fail_writes_containing: Vec::new(),
            corrupt_writes_containing: Vec::new(),
            deletes_seen: AtomicUsize::new(0),
            largest_delete: AtomicUsize::new(0),
            writes_seen: AtomicUsize::new(0),
        }
    }

    /// Writes of the first `n` files (`create` and `put_if_absent`, counted
    /// over all calls from 0) go through; the file numbered `n` and every
    /// later one fail, as if the process had died there.
    pub fn fail_writes_from(mut self, n: usize) -> Self {
        self.fail_writes_from = Some(n);
        self
    }

    /// Writes of locations whose text contains `needle` fail.
    pub fn fail_writes_containing(mut self, needle: impl Into<String>) -> Self {
        self.fail_writes_containing.push(needle.into());
        self
    }

    /// Files written to locations whose text contains `needle` get their
    /// first byte flipped (same size, different content).
    pub fn corrupt_writes_containing(mut self, needle: impl Into<String>) -> Self {
        self.corrupt_writes_containing.push(needle.into());
        self
    }

    fn fails_write(&self, location: &Location) -> bool {
        let n = self.writes_seen.fetch_add(1, Ordering::SeqCst);
        let text = location.to_string();
        self.fail_writes_from.is_some_and(|from| n >= from)
            || self
                .fail_writes_containing
                .iter()
                .any(|x| text.contains(x.as_str()))
    }

    fn corrupts(&self, location: &Location) -> bool {
        let text = location.to_string();
        self.corrupt_writes_containing
            .iter()
            .any(|x| text.contains(x.as_str()))
    }

    /// Deletes of the first `n` files succeed (or not) as the wrapped backend
    /// says; the file numbered `n` (counting from 0, in input order, over all
    /// `delete_files` calls) and every one after it fail. `0` fails them all.
    pub fn fail_deletes_from(mut self, n: usize) -> Self {
        self.fail_deletes_from = Some(n);
        self
    }

    /// Deletes of locations whose text contains `needle` fail.
    pub fn fail_deletes_containing(mut self, needle: impl Into<String>) -> Self {
        self.fail_deletes_containing.push(needle.into());
        self
    }

    /// Every `list` is empty (as for a missing directory).
    pub fn empty_listings(mut self) -> Self {
        self.empty_listings = true;
        self
    }

    /// `read` and `read_range` of locations whose text contains `needle` fail.
    pub fn fail_reads_containing(mut self, needle: impl Into<String>) -> Self {
        self.fail_reads_containing.push(needle.into());
        self
    }

    /// How many files were handed to `delete_files` so far (failed or not).
    pub fn deletes_seen(&self) -> usize {
        self.deletes_seen.load(Ordering::SeqCst)
    }

    /// The most files handed to one `delete_files` or `delete_files_if`
    /// call so far.
    pub fn largest_delete(&self) -> usize {
        self.largest_delete.load(Ordering::SeqCst)
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn fails_read(&self, location: &Location) -> bool {
        let text = location.to_string();
        self.fail_reads_containing
            .iter()
            .any(|n| text.contains(n.as_str()))
    }

    fn fails_delete(&self, number: usize, location: &Location) -> bool {
        let text = location.to_string();
        self.fail_deletes_from.is_some_and(|n| number >= n)
            || self
                .fail_deletes_containing
                .iter()
                .any(|n| text.contains(n.as_str()))
    }
}

impl<S: Storage> Faulty<S> {
    /// The files configured to fail get their error (`Some`); the others
    /// (`None`) are returned, to be handed on in one call.
    fn split_deletes<T: Clone>(
        &self,
        files: &[T],
        location: fn(&T) -> &Location,
    ) -> (Vec<Option<Result<(), Error>>>, Vec<T>) {
        let first = self.deletes_seen.fetch_add(files.len(), Ordering::SeqCst);
        self.largest_delete.fetch_max(files.len(), Ordering::SeqCst);
        let mut results = Vec::with_capacity(files.len());
        let mut passed = Vec::new();
        for (i, f) in files.iter().enumerate() {
            if self.fails_delete(first + i, location(f)) {
                results.push(Some(Err(injected(location(f)))));
            } else {
                results.push(None);
                passed.push(f.clone());
            }
        }
        (results, passed)
    }
}

/// The results of [`Faulty::split_deletes`] with the wrapped backend's
/// results for the files handed on, in input order.
fn merge_deletes<T>(
    results: Vec<Option<Result<(), Error>>>,
    inner: Vec<Result<(), Error>>,
    files: &[T],
    location: fn(&T) -> &Location,
) -> Vec<Result<(), Error>> {
    let mut inner = inner.into_iter();
    results
        .into_iter()
        .zip(files)
        .map(|(r, f)| {
            r.or_else(|| inner.next()).unwrap_or_else(|| {
                Err(Error::Backend {
                    location: location(f).to_string(),
                    message: "the wrapped backend returned no result".to_owned(),
                })
            })
        })
        .collect()
}

fn injected(location: &Location) -> Error {
    Error::Io {
        location: location.to_string(),
        source: std::io::Error::other(INJECTED),
    }
}

impl<S: Storage> Storage for Faulty<S> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn stat<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Option<Entry>, Error>> {
        self.inner.stat(location)
    }

    fn read<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        if self.fails_read(location) {
            return Box::pin(async move { Err(injected(location)) });
        }
        self.inner.read(location)
    }

    fn read_range<'a>(
        &'a self,
        location: &'a Location,
        offset: u64,
        len: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        if self.fails_read(location) {
            return Box::pin(async move { Err(injected(location)) });
        }
        self.inner.read_range(location, offset, len)
    }

    fn list<'a>(
        &'a self,
        dir: &'a Location,
        recursive: bool,
    ) -> BoxStream<'a, Result<Entry, Error>> {
        if self.empty_listings {
            return Box::pin(futures_util::stream::empty());
        }
        self.inner.list(dir, recursive)
    }

    fn delete_files<'a>(&'a self, files: &'a [Location]) -> BoxFuture<'a, Vec<Result<(), Error>>> {
        Box::pin(async move {
            let (results, passed) = self.split_deletes(files, |f| f);
            let inner = self.inner.delete_files(&passed).await;
            merge_deletes(results, inner, files, |f| f)
        })
    }

    /// Faults as for `delete_files`; the rest goes to the wrapped backend's
    /// own conditional delete.
    fn delete_files_if<'a>(
        &'a self,
        files: &'a [(Location, Option<String>)],
    ) -> BoxFuture<'a, Vec<Result<(), Error>>> {
        Box::pin(async move {
            let (results, passed) = self.split_deletes(files, |(f, _)| f);
            let inner = self.inner.delete_files_if(&passed).await;
            merge_deletes(results, inner, files, |(f, _)| f)
        })
    }

    fn delete_throttling(&self) -> Option<super::Throttling> {
        self.inner.delete_throttling()
    }

    fn remove_dir_if_empty<'a>(&'a self, dir: &'a Location) -> BoxFuture<'a, Result<bool, Error>> {
        self.inner.remove_dir_if_empty(dir)
    }

    fn real_location<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Option<Location>, Error>> {
        self.inner.real_location(location)
    }

    fn read_stream<'a>(
        &'a self,
        location: &'a Location,
        chunk: usize,
    ) -> BoxStream<'a, Result<Vec<u8>, Error>> {
        if self.fails_read(location) {
            return Box::pin(futures_util::stream::once(async move {
                Err(injected(location))
            }));
        }
        self.inner.read_stream(location, chunk)
    }

    fn create<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Box<dyn Upload>, Error>> {
        Box::pin(async move {
            if self.fails_write(location) {
                return Err(injected(location));
            }
            let inner = self.inner.create(location).await?;
            if self.corrupts(location) {
                return Ok(Box::new(Corrupting { inner, first: true }) as Box<dyn Upload>);
            }
            Ok(inner)
        })
    }

    fn put_if_absent<'a>(
        &'a self,
        location: &'a Location,
        mut bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            if self.fails_write(location) {
                return Err(injected(location));
            }
            if self.corrupts(location)
                && let Some(b) = bytes.first_mut()
            {
                *b ^= 0xff;
            }
            self.inner.put_if_absent(location, bytes).await
        })
    }

    fn content_md5<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Option<String>, Error>> {
        self.inner.content_md5(location)
    }

    fn copy_within<'a>(
        &'a self,
        from: &'a Location,
        to: &'a Location,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            if self.fails_write(to) {
                return Err(injected(to));
            }
            if self.corrupts(to) {
                return Ok(false);
            }
            self.inner.copy_within(from, to).await
        })
    }
}

/// An upload whose first byte is flipped.
#[derive(Debug)]
struct Corrupting {
    inner: Box<dyn Upload>,
    first: bool,
}

impl Upload for Corrupting {
    fn write(&mut self, mut chunk: Vec<u8>) -> BoxFuture<'_, Result<(), Error>> {
        if std::mem::take(&mut self.first)
            && let Some(b) = chunk.first_mut()
        {
            *b ^= 0xff;
        } else if chunk.is_empty() {
            self.first = true;
        }
        self.inner.write(chunk)
    }

    fn finish(self: Box<Self>) -> BoxFuture<'static, Result<(), Error>> {
        self.inner.finish()
    }

    fn abort(self: Box<Self>) -> BoxFuture<'static, Result<(), Error>> {
        self.inner.abort()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use futures_util::StreamExt;

    use super::*;
    use crate::storage::LocalStorage;

    use crate::testutil::rt;

    /// A temp dir with files `f0` … `f{n-1}` (contents = name) and `keep/x`.
    fn files(n: usize) -> (tempfile::TempDir, Location, Vec<Location>) {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("keep")).unwrap();
        std::fs::write(d.path().join("keep/x"), b"x").unwrap();
        let root = Location::parse(d.path().to_str().unwrap()).unwrap();
        let mut out = Vec::new();
        for i in 0..n {
            let name = format!("f{i}");
            std::fs::write(d.path().join(&name), &name).unwrap();
            out.push(root.join(&name));
        }
        (d, root, out)
    }

    fn exists(dir: &Path, name: &str) -> bool {
        dir.join(name).exists()
    }

    fn is_injected(r: &Result<(), Error>) -> bool {
        matches!(r, Err(e @ Error::Io { .. }) if e.to_string().ends_with(INJECTED))
    }

    #[test]
    fn fails_deletes_from_the_nth_file_across_calls() {
        let (d, _, fs) = files(6);
        let s = Faulty::new(LocalStorage).fail_deletes_from(4);
        let first = rt().block_on(s.delete_files(&fs[..3]));
        assert!(first.iter().all(Result::is_ok), "{first:?}");
        let second = rt().block_on(s.delete_files(&fs[3..]));
        assert!(second[0].is_ok(), "{second:?}");
        assert!(
            is_injected(&second[1]) && is_injected(&second[2]),
            "{second:?}"
        );
        assert_eq!(s.deletes_seen(), 6);
        let left: Vec<bool> = (0..6).map(|i| exists(d.path(), &format!("f{i}"))).collect();
        assert_eq!(left, [false, false, false, false, true, true]);
        // Zero fails everything, touching nothing.
        let (d, _, fs) = files(2);
        let r = rt().block_on(
            Faulty::new(LocalStorage)
                .fail_deletes_from(0)
                .delete_files(&fs),
        );
        assert!(r.iter().all(is_injected), "{r:?}");
        assert!(exists(d.path(), "f0") && exists(d.path(), "f1"));
    }

    #[test]
    fn fails_deletes_by_substring_and_keeps_order() {
        let (d, root, mut fs) = files(12);
        fs.push(root.join("keep")); // a directory: the real backend's error
        let s = Faulty::new(LocalStorage).fail_deletes_containing("f1");
        let r = rt().block_on(s.delete_files(&fs));
        assert_eq!(r.len(), 13);
        for (i, r) in r.iter().enumerate().take(12) {
            // f1, f10, f11
            let hit = i == 1 || i >= 10;
            assert_eq!(is_injected(r), hit, "f{i}: {r:?}");
            assert_eq!(r.is_ok(), !hit, "f{i}: {r:?}");
            assert_eq!(exists(d.path(), &format!("f{i}")), hit, "f{i}");
        }
        let e = r[12].as_ref().unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
        assert!(exists(d.path(), "keep/x"));
    }

    #[test]
    fn empty_listings_and_failed_reads() {
        let (_d, root, fs) = files(3);
        // Wrapping a shared `dyn Storage` works too.
        let shared: Arc<dyn Storage> = Arc::new(LocalStorage);
        let s = Faulty::new(shared)
            .empty_listings()
            .fail_reads_containing("f1");
        rt().block_on(async {
            assert_eq!(s.list(&root, true).count().await, 0);
            assert_eq!(s.list(&root, false).count().await, 0);
            assert_eq!(s.inner().list(&root, true).count().await, 4);
            assert_eq!(s.read(&fs[0]).await.unwrap(), b"f0");
            assert_eq!(s.read_range(&fs[2], 1, 1).await.unwrap(), b"2");
            for e in [
                s.read(&fs[1]).await.unwrap_err(),
                s.read_range(&fs[1], 0, 1).await.unwrap_err(),
            ] {
                assert!(matches!(e, Error::Io { .. }), "{e:?}");
                assert_eq!(e.to_string(), format!("{}: {INJECTED}", fs[1]));
            }
            // Stat and the rest are untouched.
            assert_eq!(s.stat(&fs[1]).await.unwrap().unwrap().size, 2);
            assert!(!s.remove_dir_if_empty(&root.join("keep")).await.unwrap());
            assert!(s.delete_files(&fs).await.iter().all(Result::is_ok));
        });
    }
}
