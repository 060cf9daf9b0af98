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
#![warn(missing_docs)]

mod hdfs;
mod local;
mod location;
mod object;
mod settings;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

pub use futures_util::future::BoxFuture;
pub use futures_util::stream::BoxStream;
pub use local::LocalStorage;
pub use location::{Location, Scheme};
pub use settings::{AzureSettings, GcsSettings, HdfsSettings, OssSettings, S3Settings, Settings};

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
}

impl Error {
    /// Whether this error means "does not exist".
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
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

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The backend serving `location`.
    pub fn backend(&self, location: &Location) -> Result<Arc<dyn Storage>, Error> {
        let key = match location.scheme() {
            Scheme::Local => (Scheme::Local, String::new()),
            s => (s, location.authority().to_owned()),
        };
        let mut map = self.backends.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = map.get(&key) {
            return Ok(b.clone());
        }
        let backend: Arc<dyn Storage> = match location.scheme() {
            Scheme::Local => Arc::new(LocalStorage),
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
}

/// A stream of what a producer sends on `rx` (a listing pumped from a
/// blocking walker or from a borrowed stream).
pub(crate) fn channel_stream(
    rx: tokio::sync::mpsc::Receiver<Result<Entry, Error>>,
) -> BoxStream<'static, Result<Entry, Error>> {
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|i| (i, rx))
    }))
}

/// Lists through a backend handle the stream owns: the backend's borrowed
/// listing is pumped through a bounded channel by a task.
fn owned_list(
    b: Arc<dyn Storage>,
    dir: Location,
    recursive: bool,
) -> BoxStream<'static, Result<Entry, Error>> {
    use futures_util::StreamExt;
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    tokio::spawn(async move {
        let mut s = b.list(&dir, recursive);
        while let Some(item) = s.next().await {
            if tx.send(item).await.is_err() {
                break;
            }
        }
    });
    channel_stream(rx)
}
