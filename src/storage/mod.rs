//! Storage access behind one small async trait, so every command works the
//! same on local disk, object stores (S3, GCS, Azure, OSS through Apache
//! OpenDAL) and HDFS (`hdfs-native`).
//!
//! Locations are parsed into [`Location`]s. [`Storages`] routes each location
//! to a backend for its scheme and bucket/NameNode, creating backends lazily
//! from [`Settings`] (the `storage:` section of a profile). Only what a
//! command needs is read: [`Storage::read_range`] fetches a header without
//! reading a whole state file, and [`Storage::list`] streams entries so
//! memory stays bounded however large a listing is.
//!
//! Deleting is for files only: [`Storage::delete_files`] never removes a
//! directory (a directory given as a file is an error, per file), and a file
//! that is already gone counts as deleted. Object stores delete in batches;
//! [`Storage::remove_dir_if_empty`] tidies up the directories left behind on
//! file systems. [`faults::Faulty`] wraps a backend to inject failures in
//! tests, and `memory::MemoryStorage` (with `cfg(test)` or the
//! `test-support` feature) holds a whole file system in memory.
#![warn(missing_docs)]

mod conditional;
pub mod faults;
mod hdfs;
mod local;
mod location;
#[cfg(any(test, feature = "test-support"))]
pub mod memory;
mod object;
pub mod redact;
mod settings;
mod throttle;
mod timeout;
mod write;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

pub use futures_util::future::BoxFuture;
pub use futures_util::stream::BoxStream;
pub use local::LocalStorage;
pub use local::open_file as open_local_file;
pub use location::{Location, Scheme, expand_home};
#[cfg(any(test, feature = "test-support"))]
pub use memory::MemoryStorage;
pub use settings::{AzureSettings, GcsSettings, HdfsSettings, OssSettings, S3Settings, Settings};
pub use throttle::Throttling;
pub use write::{Upload, hex as write_hex, md5_hex};

/// Storage errors; each names the location.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The location does not exist.
    #[error("{location}: not found")]
    NotFound {
        /// The location.
        location: String,
    },
    /// An I/O error.
    #[error("{location}: {source}")]
    Io {
        /// The location.
        location: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A location that cannot be parsed.
    #[error("{location:?} is not a valid location: {reason}")]
    BadLocation {
        /// The location as given.
        location: String,
        /// Why.
        reason: String,
    },
    /// A scheme this build cannot read.
    #[error("{location}: {reason}")]
    Unsupported {
        /// The location.
        location: String,
        /// Why.
        reason: String,
    },
    /// A backend could not be set up from the settings.
    #[error("cannot open {scheme} storage for {location}: {message}")]
    Config {
        /// The location that needed the backend.
        location: String,
        /// The storage family.
        scheme: &'static str,
        /// What is wrong.
        message: String,
    },
    /// An error reported by a remote store (permission, network, timeout, …).
    #[error("{location}: {message}")]
    Backend {
        /// The location.
        location: String,
        /// The store's message.
        message: String,
    },
    /// A conditional delete ([`Storage::delete_files_if`]) found the file
    /// changed since the version it was given: the store answered
    /// `412 Precondition Failed`, or the stat before the delete showed
    /// another version. The file is left in place.
    #[error("{location}: changed since it was checked (not deleted)")]
    Changed {
        /// The location.
        location: String,
    },
}

impl Error {
    /// Whether this error means "does not exist".
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// Whether a conditional delete left the file alone because it changed
    /// ([`Error::Changed`]).
    pub fn is_changed(&self) -> bool {
        matches!(self, Error::Changed { .. })
    }

    /// The same error about `location` (one failure that hit many files:
    /// a backend that cannot be set up, a batch request that timed out).
    pub(crate) fn for_location(&self, location: &Location) -> Error {
        let l = location.to_string();
        match self {
            Error::NotFound { .. } => Error::NotFound { location: l },
            Error::Io { source, .. } => Error::Io {
                location: l,
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
            Error::BadLocation { reason, .. } => Error::BadLocation {
                location: l,
                reason: reason.clone(),
            },
            Error::Unsupported { reason, .. } => Error::Unsupported {
                location: l,
                reason: reason.clone(),
            },
            Error::Config {
                scheme, message, ..
            } => Error::Config {
                location: l,
                scheme,
                message: message.clone(),
            },
            Error::Backend { message, .. } => Error::Backend {
                location: l,
                message: message.clone(),
            },
            Error::Changed { .. } => Error::Changed { location: l },
        }
    }
}

/// One object or directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where it is.
    pub location: Location,
    /// Size in bytes (0 for directories).
    pub size: u64,
    /// Last modification time, when the store reports one.
    pub modified: Option<jiff::Timestamp>,
    /// A directory (or, on object stores, a common prefix).
    pub is_dir: bool,
    /// Neither a regular file nor a directory: a symbolic link (never
    /// followed by a listing), a FIFO, a socket or a device. Never read,
    /// never deleted; callers keep it as an unknown entry.
    pub special: bool,
    /// What a conditional delete ([`Storage::delete_files_if`]) compares,
    /// as the store reported it in the listing or stat: the ETag on S3, OSS
    /// and Azure, the generation on GCS. `None` on local disk, HDFS and in
    /// memory, and when a store sent none.
    pub version: Option<String>,
}

impl Entry {
    /// A regular file (or object): not a directory, not special.
    pub fn is_file(&self) -> bool {
        !self.is_dir && !self.special
    }
}

/// Access to checkpoint storage. Futures are boxed so the trait can be used as
/// `dyn Storage`; run them on a tokio runtime.
pub trait Storage: Send + Sync + fmt::Debug {
    /// A short name for messages (`local`, `s3`, …).
    fn name(&self) -> &'static str;

    /// Size and time of one object or directory; `Ok(None)` when it does not exist.
    fn stat<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Option<Entry>, Error>>;

    /// Reads a whole object.
    fn read<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Vec<u8>, Error>>;

    /// Reads up to `len` bytes starting at `offset` (fewer at the end of the object).
    fn read_range<'a>(
        &'a self,
        location: &'a Location,
        offset: u64,
        len: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>>;

    /// Lists what is under `dir`. Not recursive: the direct children, files
    /// and directories (`is_dir`). Recursive: every file below, at any depth
    /// (no directory entries). Order is unspecified. A missing `dir` lists as
    /// empty (object stores cannot tell the difference).
    fn list<'a>(
        &'a self,
        dir: &'a Location,
        recursive: bool,
    ) -> BoxStream<'a, Result<Entry, Error>>;

    /// Lists each of `dirs` as [`Storage::list`] does, not recursively, up
    /// to `concurrency` at once: each directory comes with all its entries,
    /// the directories in any order. The layout of a checkpoint root is
    /// thousands of such small listings, which a backend may batch.
    ///
    /// With `sized` given, only the files so named are sure to come with
    /// their size and time: a backend that must ask for each (a local disk)
    /// may leave the others at 0 and `None`. Whether an entry is a
    /// directory or special is always right.
    fn list_each<'a>(
        &'a self,
        dirs: Vec<Location>,
        concurrency: usize,
        _sized: Option<&'static [&'static str]>,
    ) -> BoxStream<'a, Result<(Location, Vec<Entry>), Error>> {
        list_one_by_one(self, dirs, concurrency)
    }

    /// Deletes files, never directories: one result per input, in input
    /// order. A file that does not exist is `Ok(())` (deleting is
    /// idempotent); a directory given here is an error and is left alone.
    /// Object stores send batch requests (S3 `DeleteObjects`, …) and every
    /// backend keeps at most its configured number of requests in flight.
    fn delete_files<'a>(&'a self, files: &'a [Location]) -> BoxFuture<'a, Vec<Result<(), Error>>>;

    /// Deletes files only if unchanged: each with the [`Entry::version`]
    /// seen when it was checked (`None`: unconditionally, as
    /// [`Storage::delete_files`]). One result per input, in input order. A
    /// file whose version is another one now is left in place and answers
    /// [`Error::Changed`]; a file that is gone is `Ok(())`, as for
    /// [`Storage::delete_files`].
    ///
    /// Object stores that can send the condition with the delete do so (S3
    /// and Azure `If-Match`, GCS `ifGenerationMatch`), so nothing can slip
    /// in between the check and the delete. This default, used by backends
    /// without conditional deletes (OSS; local disk, HDFS and memory, whose
    /// entries carry no version), stats each file given a version, compares,
    /// then deletes the unchanged ones: **not atomic**, a write between the
    /// stat and the delete is lost.
    fn delete_files_if<'a>(
        &'a self,
        files: &'a [(Location, Option<String>)],
    ) -> BoxFuture<'a, Vec<Result<(), Error>>> {
        Box::pin(conditional::stat_then_delete(
            self,
            files,
            conditional::FALLBACK_STATS,
        ))
    }

    /// How the store throttled deletes so far (object stores, see
    /// `throttle.rs`): answers asking to slow down and the window of
    /// requests in flight. `None` for backends that are never throttled.
    fn delete_throttling(&self) -> Option<Throttling> {
        None
    }

    /// Removes `dir` if it is an empty directory: `Ok(true)` if it was
    /// removed, `Ok(false)` if it is not empty or does not exist; a file is
    /// an error. Object stores have no directories (a prefix disappears with
    /// its last object), so they always answer `Ok(false)` without a request.
    fn remove_dir_if_empty<'a>(&'a self, dir: &'a Location) -> BoxFuture<'a, Result<bool, Error>>;

    /// Where `location` really is: on a local file system the path with
    /// every symbolic link resolved (`Ok(None)` if it does not exist); on
    /// stores without links, `location` itself. Deleting compares this with
    /// the path as listed, so nothing is deleted through a symbolic link.
    fn real_location<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Option<Location>, Error>> {
        Box::pin(async move { Ok(Some(location.clone())) })
    }

    /// Streams a whole object in chunks of about `chunk` bytes, so a copy
    /// holds one chunk at a time. The default reads ranges after one `stat`.
    fn read_stream<'a>(
        &'a self,
        location: &'a Location,
        chunk: usize,
    ) -> BoxStream<'a, Result<Vec<u8>, Error>> {
        write::ranged_stream(self, location, chunk)
    }

    /// Starts writing a new file at `location`. The bytes appear under that
    /// name only when [`Upload::finish`] succeeds (a temporary name renamed
    /// into place on file systems, a multipart upload completed on object
    /// stores), so a crash never leaves a partial file under the final name.
    /// A file already at `location` is replaced at `finish`: callers check
    /// first. Backends that cannot write answer `Unsupported`.
    fn create<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Box<dyn Upload>, Error>> {
        Box::pin(async move { Err(write::cannot_write(self.name(), location)) })
    }

    /// Writes `bytes` at `location` only if nothing is there, atomically
    /// (`If-None-Match: *` on object stores, a hard link from a temporary
    /// name on file systems): `Ok(true)` written, `Ok(false)` something was
    /// there and is left untouched.
    fn put_if_absent<'a>(
        &'a self,
        location: &'a Location,
        bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let _ = bytes;
        Box::pin(async move { Err(write::cannot_write(self.name(), location)) })
    }

    /// Copies `from` to `to` inside the store, without the bytes passing
    /// through this process (S3 `CopyObject`, GCS rewrite, Azure copy), when
    /// both lie in this backend's bucket and the store can: `Ok(true)` done,
    /// `Ok(false)` not possible here (the caller streams instead).
    fn copy_within<'a>(
        &'a self,
        from: &'a Location,
        to: &'a Location,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let _ = (from, to);
        Box::pin(async move { Ok(false) })
    }

    /// The MD5 of the object's content as the store reports it without
    /// reading it (lower-case hex): Azure's and GCS's `Content-MD5`, an S3
    /// ETag of a single-part upload. `Ok(None)` when the store has none.
    fn content_md5<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Option<String>, Error>> {
        let _ = location;
        Box::pin(async move { Ok(None) })
    }
}

/// A shared backend (`Arc<dyn Storage>`, `Arc<LocalStorage>`, …) is a backend.
impl<T: Storage + ?Sized> Storage for Arc<T> {
    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn stat<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Option<Entry>, Error>> {
        (**self).stat(location)
    }

    fn read<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        (**self).read(location)
    }

    fn read_range<'a>(
        &'a self,
        location: &'a Location,
        offset: u64,
        len: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        (**self).read_range(location, offset, len)
    }

    fn list<'a>(
        &'a self,
        dir: &'a Location,
        recursive: bool,
    ) -> BoxStream<'a, Result<Entry, Error>> {
        (**self).list(dir, recursive)
    }

    fn list_each<'a>(
        &'a self,
        dirs: Vec<Location>,
        concurrency: usize,
        sized: Option<&'static [&'static str]>,
    ) -> BoxStream<'a, Result<(Location, Vec<Entry>), Error>> {
        (**self).list_each(dirs, concurrency, sized)
    }

    fn delete_files<'a>(&'a self, files: &'a [Location]) -> BoxFuture<'a, Vec<Result<(), Error>>> {
        (**self).delete_files(files)
    }

    fn delete_files_if<'a>(
        &'a self,
        files: &'a [(Location, Option<String>)],
    ) -> BoxFuture<'a, Vec<Result<(), Error>>> {
        (**self).delete_files_if(files)
    }

    fn delete_throttling(&self) -> Option<Throttling> {
        (**self).delete_throttling()
    }

    fn remove_dir_if_empty<'a>(&'a self, dir: &'a Location) -> BoxFuture<'a, Result<bool, Error>> {
        (**self).remove_dir_if_empty(dir)
    }

    fn real_location<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Option<Location>, Error>> {
        (**self).real_location(location)
    }

    fn read_stream<'a>(
        &'a self,
        location: &'a Location,
        chunk: usize,
    ) -> BoxStream<'a, Result<Vec<u8>, Error>> {
        (**self).read_stream(location, chunk)
    }

    fn create<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Box<dyn Upload>, Error>> {
        (**self).create(location)
    }

    fn put_if_absent<'a>(
        &'a self,
        location: &'a Location,
        bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        (**self).put_if_absent(location, bytes)
    }

    fn content_md5<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Option<String>, Error>> {
        (**self).content_md5(location)
    }

    fn copy_within<'a>(
        &'a self,
        from: &'a Location,
        to: &'a Location,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        (**self).copy_within(from, to)
    }
}

/// Every backend a run needs, created on first use and shared: one per
/// scheme and bucket, container or NameNode.
#[derive(Debug)]
pub struct Storages {
    settings: Settings,
    backends: Mutex<HashMap<(Scheme, String), Arc<dyn Storage>>>,
}

impl Storages {
    /// Storage configured by `settings`.
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            backends: Mutex::new(HashMap::new()),
        }
    }

    /// Which backend serves `location`: its scheme and bucket/NameNode.
    fn backend_key(location: &Location) -> (Scheme, String) {
        match location.scheme() {
            Scheme::Local => (Scheme::Local, String::new()),
            s => (s, location.authority().to_owned()),
        }
    }

    /// The backend serving `location`.
    pub fn backend(&self, location: &Location) -> Result<Arc<dyn Storage>, Error> {
        let key = Self::backend_key(location);
        let mut map = self.backends.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = map.get(&key) {
            return Ok(b.clone());
        }
        let backend: Arc<dyn Storage> = match location.scheme() {
            Scheme::Local => Arc::new(timeout::Timeout::new(LocalStorage, self.settings.timeout())),
            Scheme::Hdfs | Scheme::ViewFs => {
                Arc::new(hdfs::HdfsStorage::new(location, &self.settings)?)
            }
            _ => Arc::new(object::ObjectStorage::new(location, &self.settings)?),
        };
        map.insert(key, backend.clone());
        Ok(backend)
    }

    /// How many requests commands may have in flight at once.
    pub fn concurrency(&self) -> usize {
        self.settings.concurrency()
    }

    /// Runs `delete` on each backend's share of `files` (the shares at
    /// once): one result per file, in input order. Files whose backend
    /// cannot be set up get that error.
    async fn delete_grouped<T, F, Fut>(
        &self,
        files: &[T],
        location: fn(&T) -> &Location,
        delete: F,
    ) -> Vec<Result<(), Error>>
    where
        T: Clone,
        F: Fn(Arc<dyn Storage>, Vec<T>) -> Fut,
        Fut: std::future::Future<Output = Vec<Result<(), Error>>>,
    {
        let mut results: Vec<Option<Result<(), Error>>> = files.iter().map(|_| None).collect();
        // Per backend key: the index of its group, or why there is none.
        let mut keys: HashMap<(Scheme, String), Result<usize, Error>> = HashMap::new();
        let mut groups: Vec<(Arc<dyn Storage>, Vec<usize>)> = Vec::new();
        for (i, file) in files.iter().enumerate() {
            let file = location(file);
            let key =
                keys.entry(Self::backend_key(file))
                    .or_insert_with(|| match self.backend(file) {
                        Ok(b) => {
                            groups.push((b, Vec::new()));
                            Ok(groups.len() - 1)
                        }
                        Err(e) => Err(e),
                    });
            match key {
                Ok(g) => groups[*g].1.push(i),
                Err(e) => results[i] = Some(Err(e.for_location(file))),
            }
        }
        let runs = groups.into_iter().map(|(backend, indices)| {
            let group: Vec<T> = indices.iter().map(|&i| files[i].clone()).collect();
            let run = delete(backend, group);
            async move { (indices, run.await) }
        });
        for (indices, out) in futures_util::future::join_all(runs).await {
            for (i, r) in indices.into_iter().zip(out) {
                results[i] = Some(r);
            }
        }
        results
            .into_iter()
            .zip(files)
            .map(|(r, file)| {
                r.unwrap_or_else(|| {
                    Err(Error::Backend {
                        location: location(file).to_string(),
                        message: "the backend returned no result for this file".to_owned(),
                    })
                })
            })
            .collect()
    }
}

impl Storage for Storages {
    fn name(&self) -> &'static str {
        "any"
    }

    fn stat<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Option<Entry>, Error>> {
        Box::pin(async move { self.backend(location)?.stat(location).await })
    }

    fn read<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move { self.backend(location)?.read(location).await })
    }

    fn read_range<'a>(
        &'a self,
        location: &'a Location,
        offset: u64,
        len: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move {
            self.backend(location)?
                .read_range(location, offset, len)
                .await
        })
    }

    fn list<'a>(
        &'a self,
        dir: &'a Location,
        recursive: bool,
    ) -> BoxStream<'a, Result<Entry, Error>> {
        use futures_util::StreamExt;
        match self.backend(dir) {
            Ok(b) => Box::pin(
                futures_util::stream::once(async move { b })
                    .flat_map(move |b| owned_list(b, dir.clone(), recursive)),
            ),
            Err(e) => Box::pin(futures_util::stream::once(async move { Err(e) })),
        }
    }

    /// One backend's directories go to it whole (so it may batch them).
    fn list_each<'a>(
        &'a self,
        dirs: Vec<Location>,
        concurrency: usize,
        sized: Option<&'static [&'static str]>,
    ) -> BoxStream<'a, Result<(Location, Vec<Entry>), Error>> {
        use futures_util::StreamExt as _;
        let Some(first) = dirs.first() else {
            return Box::pin(futures_util::stream::empty());
        };
        let key = Self::backend_key(first);
        if dirs.iter().any(|d| Self::backend_key(d) != key) {
            return list_one_by_one(self, dirs, concurrency);
        }
        match self.backend(first) {
            Ok(b) => {
                let mut dirs = Some(dirs);
                Box::pin(
                    futures_util::stream::once(async move { b }).flat_map(move |b| {
                        owned_list_each(b, dirs.take().unwrap_or_default(), concurrency, sized)
                    }),
                )
            }
            Err(e) => Box::pin(futures_util::stream::once(async move { Err(e) })),
        }
    }

    /// Groups the files by backend and runs the groups at once, each with its
    /// backend's own batching and concurrency. Files whose backend cannot be
    /// set up get that error and are not deleted; the other groups go ahead.
    fn delete_files<'a>(&'a self, files: &'a [Location]) -> BoxFuture<'a, Vec<Result<(), Error>>> {
        Box::pin(self.delete_grouped(
            files,
            |f| f,
            |b, group| async move { b.delete_files(&group).await },
        ))
    }

    /// Grouped by backend as [`Storage::delete_files`] is.
    fn delete_files_if<'a>(
        &'a self,
        files: &'a [(Location, Option<String>)],
    ) -> BoxFuture<'a, Vec<Result<(), Error>>> {
        Box::pin(self.delete_grouped(
            files,
            |(f, _)| f,
            |b, group| async move { b.delete_files_if(&group).await },
        ))
    }

    /// Over every backend created so far: see [`Throttling::merge`].
    fn delete_throttling(&self) -> Option<Throttling> {
        let map = self.backends.lock().unwrap_or_else(|e| e.into_inner());
        map.values()
            .filter_map(|b| b.delete_throttling())
            .reduce(Throttling::merge)
    }

    fn remove_dir_if_empty<'a>(&'a self, dir: &'a Location) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move { self.backend(dir)?.remove_dir_if_empty(dir).await })
    }

    fn real_location<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Option<Location>, Error>> {
        Box::pin(async move { self.backend(location)?.real_location(location).await })
    }

    fn read_stream<'a>(
        &'a self,
        location: &'a Location,
        chunk: usize,
    ) -> BoxStream<'a, Result<Vec<u8>, Error>> {
        use futures_util::StreamExt;
        match self.backend(location) {
            Ok(b) => Box::pin(
                futures_util::stream::once(async move { b }).flat_map(move |b| {
                    let (tx, rx) = tokio::sync::mpsc::channel(1);
                    let l = location.clone();
                    tokio::spawn(async move {
                        let mut s = b.read_stream(&l, chunk);
                        while let Some(item) = s.next().await {
                            if tx.send(item).await.is_err() {
                                break;
                            }
                        }
                    });
                    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
                        rx.recv().await.map(|i| (i, rx))
                    }))
                }),
            ),
            Err(e) => Box::pin(futures_util::stream::once(async move { Err(e) })),
        }
    }

    fn create<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Box<dyn Upload>, Error>> {
        Box::pin(async move { self.backend(location)?.create(location).await })
    }

    fn put_if_absent<'a>(
        &'a self,
        location: &'a Location,
        bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move { self.backend(location)?.put_if_absent(location, bytes).await })
    }

    fn content_md5<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Option<String>, Error>> {
        Box::pin(async move { self.backend(location)?.content_md5(location).await })
    }

    /// Only when both lie in one backend (one bucket or container).
    fn copy_within<'a>(
        &'a self,
        from: &'a Location,
        to: &'a Location,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            if Self::backend_key(from) != Self::backend_key(to) {
                return Ok(false);
            }
            self.backend(to)?.copy_within(from, to).await
        })
    }
}

/// A stream of what a producer sends on `rx` (a listing pumped from a
/// blocking walker or from a borrowed stream).
/// The entries of batches received from `rx`, one at a time: a listing
/// pumped through a channel in batches wakes its reader once a batch, not
/// once an entry.
pub(crate) fn batch_stream<T: Send + 'static>(
    rx: tokio::sync::mpsc::Receiver<Vec<T>>,
) -> BoxStream<'static, T> {
    use futures_util::StreamExt;
    Box::pin(
        futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv()
                .await
                .map(|batch| (futures_util::stream::iter(batch), rx))
        })
        .flatten(),
    )
}

/// Entries a listing sends through a channel at a time.
pub(crate) const LIST_BATCH: usize = 512;

/// Lists through a backend handle the stream owns: the backend's borrowed
/// listing is pumped through a bounded channel by a task.
fn owned_list(
    b: Arc<dyn Storage>,
    dir: Location,
    recursive: bool,
) -> BoxStream<'static, Result<Entry, Error>> {
    use futures_util::StreamExt;
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    tokio::spawn(async move {
        // What is ready, up to a batch: no wait for a batch to fill.
        let mut s = b.list(&dir, recursive).ready_chunks(LIST_BATCH);
        while let Some(items) = s.next().await {
            if tx.send(items).await.is_err() {
                break;
            }
        }
    });
    batch_stream(rx)
}

/// [`Storage::list_each`] as one [`Storage::list`] per directory.
fn list_one_by_one<'a, S: Storage + ?Sized>(
    s: &'a S,
    dirs: Vec<Location>,
    concurrency: usize,
) -> BoxStream<'a, Result<(Location, Vec<Entry>), Error>> {
    use futures_util::{StreamExt as _, TryStreamExt as _};
    Box::pin(
        futures_util::stream::iter(dirs)
            .map(move |d| async move {
                let entries = s.list(&d, false).try_collect().await?;
                Ok((d, entries))
            })
            .buffer_unordered(concurrency.max(1)),
    )
}

/// [`Storage::list_each`] of a backend the stream owns.
fn owned_list_each(
    b: Arc<dyn Storage>,
    dirs: Vec<Location>,
    concurrency: usize,
    sized: Option<&'static [&'static str]>,
) -> BoxStream<'static, Result<(Location, Vec<Entry>), Error>> {
    use futures_util::StreamExt;
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    tokio::spawn(async move {
        let mut s = b.list_each(dirs, concurrency, sized).ready_chunks(64);
        while let Some(items) = s.next().await {
            if tx.send(items).await.is_err() {
                break;
            }
        }
    });
    batch_stream(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_deletes_by_backend_in_input_order() {
        let d = tempfile::tempdir().unwrap();
        for f in ["a", "b"] {
            std::fs::write(d.path().join(f), f).unwrap();
        }
        std::fs::create_dir_all(d.path().join("dir/sub")).unwrap();
        let root = Location::parse(d.path().to_str().unwrap()).unwrap();
        // An HDFS backend that cannot be set up: its files are not deleted.
        let settings = Settings {
            hdfs: Some(HdfsSettings {
                conf_dir: Some("/nonexistent/flink-chk-conf".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let s = Storages::new(settings);
        let files: Vec<Location> = [
            root.join("a").to_string(),
            "hdfs://ns/x".into(),
            root.join("dir").to_string(),
            "hdfs://ns/y".into(),
            root.join("b").to_string(),
        ]
        .iter()
        .map(|f| Location::parse(f).unwrap())
        .collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let r = rt.block_on(s.delete_files(&files));
        assert_eq!(r.len(), 5);
        assert!(r[0].is_ok() && r[4].is_ok(), "{r:?}");
        for i in [1, 3] {
            let e = r[i].as_ref().unwrap_err();
            assert!(matches!(e, Error::Config { .. }), "{e:?}");
            assert!(e.to_string().contains(&files[i].to_string()), "{e}");
        }
        assert!(
            r[2].as_ref()
                .unwrap_err()
                .to_string()
                .contains("is a directory")
        );
        assert!(!d.path().join("a").exists() && !d.path().join("b").exists());
        rt.block_on(async {
            assert!(!s.remove_dir_if_empty(&root.join("dir")).await.unwrap());
            assert!(s.remove_dir_if_empty(&root.join("dir/sub")).await.unwrap());
            assert!(s.remove_dir_if_empty(&root.join("dir")).await.unwrap());
            let e = s.remove_dir_if_empty(&files[1]).await.unwrap_err();
            assert!(matches!(e, Error::Config { .. }), "{e:?}");
        });
        assert!(!d.path().join("dir").exists());
    }
}
