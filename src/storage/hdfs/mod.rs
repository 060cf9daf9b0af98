//! HDFS and ViewFS (`hdfs://`, `viewfs://`) through `hdfs-native`, a pure
//! Rust NameNode/DataNode client (no JVM, no libhdfs).
//!
//! # Resolving a location
//!
//! One [`HdfsStorage`] serves one authority:
//!
//! - `hdfs://host:port/p`: that NameNode.
//! - `hdfs://ns/p` (no port): a nameservice from `hdfs-site.xml`, either HA
//!   (`dfs.ha.namenodes.ns` plus `dfs.namenode.rpc-address.ns.<id>`; the
//!   client fails over between the NameNodes) or a single NameNode
//!   (`dfs.namenode.rpc-address.ns`). A name the configuration does not define
//!   is a configuration error (Hadoop would try port 8020 on a host of that
//!   name; write `hdfs://host:8020/p` for that).
//! - `hdfs:///p`: the default file system, `fs.defaultFS` in `core-site.xml`.
//! - `viewfs://cluster/p`: the mount table `fs.viewfs.mounttable.cluster.*`
//!   (`link.<path>`, `linkFallback`, `linkMergeSlash`; targets must be
//!   `hdfs://`). `viewfs:///p` uses `fs.defaultFS`, else the mount table
//!   named `default`. Without a fallback, paths outside every mount point do
//!   not exist and the directories above mount points list the mount points,
//!   as in Hadoop.
//!
//! The configuration directory is `storage.hdfs.conf_dir`, else
//! `$HADOOP_CONF_DIR`, else `$HADOOP_HOME/etc/hadoop`. `core-site.xml` and
//! `hdfs-site.xml` are read here (following `xi:include`s, which hdfs-native
//! itself ignores) and every property found is handed to hdfs-native, so both
//! see the same configuration. Kerberos (`hadoop.security.authentication`)
//! and `HADOOP_USER_NAME` are handled by hdfs-native.
//!
//! # Failing fast
//!
//! Hadoop's client defaults (15 failovers with exponential sleeps) make a dead
//! cluster hang for minutes. flink-chk overrides, whatever the XML says:
//!
//! - `dfs.client.failover.max.attempts` = `storage.hdfs.failover_attempts`
//!   (default 1: each NameNode of an HA pair is tried once; a single NameNode
//!   is retried once);
//! - `dfs.client.failover.sleep.base.millis` = 200 and
//!   `dfs.client.failover.sleep.max.millis` = 2000;
//! - `dfs.client.socket-timeout` (DataNode connect and read) = a third of the
//!   request timeout, so a dead DataNode leaves time to try another replica.
//!
//! Every NameNode call (and every chunk of a read) is also bounded by the
//! request timeout (`storage.timeout_secs`), because hdfs-native has no
//! connect or read timeout on NameNode connections: a blackholed NameNode is
//! only given up after that timeout, and the other NameNode of an HA pair is
//! not tried in that case.
//!
//! # Testing against a real cluster
//!
//! The tests here need no server. One more test runs only when
//! `FLINK_CHK_TEST_HDFS` names a directory on a real cluster; it writes
//! nothing, it stats and lists that directory and reads the first bytes of a
//! file in it. If `FLINK_CHK_TEST_HDFS_METADATA` names a Flink `_metadata`
//! file, it also checks that file's magic number:
//!
//! ```text
//! HADOOP_CONF_DIR=/etc/hadoop/conf \
//! FLINK_CHK_TEST_HDFS=hdfs://nn:8020/tmp/flink-chk-test \
//! FLINK_CHK_TEST_HDFS_METADATA=hdfs://nn:8020/flink/ck/JOB/chk-42/_metadata \
//!     cargo test --lib storage::hdfs::tests::real_cluster -- --nocapture
//! ```
//!
//! # Deleting
//!
//! [`Storage::delete_files`] stats each path and refuses directories (the
//! NameNode's non-recursive delete would remove an empty one), then deletes
//! it non-recursively and without the trash (as Flink does), one NameNode
//! call per file, `storage.concurrency` files at a time. A path that is gone
//! (the NameNode answers `false`) counts as deleted. ViewFS directories above
//! mount points are never removed.
//!
//! A large dead directory is therefore never one recursive delete (which
//! would hold the NameNode's lock for the whole tree and cannot be stopped
//! half-way): `safe-to-delete` lists it and hands its files over in chunks
//! of at most 8,192 (`cleanup::apply::CHUNK`, bounded well under 100,000),
//! re-reading checkpoints completed meanwhile before each chunk, then removes
//! the emptied directories one by one, deepest first, each only if empty
//! (`a_large_dead_directory_goes_in_bounded_chunks` pins the bound).
//!
//! # Limits of hdfs-native 0.14
//!
//! No encrypted zones (its `kms` feature is not enabled), no ViewFS
//! `linkRegex`/`linkMerge`/`linkNfly` (rejected with a configuration error),
//! ViewFS targets must be `hdfs://`, with a ViewFS fallback the directories
//! above mount points list the fallback's content only (Hadoop merges the
//! mount points in), and file names that are not UTF-8 make it panic.
#![warn(missing_docs)]

mod conf;
mod viewfs;

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream;
use hdfs_native::client::FileStatus;
use hdfs_native::{Client, ClientBuilder, HdfsError};

use self::conf::HadoopConf;
use self::viewfs::{Mounts, Place};
use super::location::path_is_under;
use super::redact::redact;
use super::{BoxFuture, BoxStream, Entry, Error, Location, Scheme, Settings, Storage};

/// Default failover attempts (see [`super::HdfsSettings::failover_attempts`]).
const DEFAULT_FAILOVER_ATTEMPTS: u32 = 1;
/// Bytes fetched per timed read call.
const READ_CHUNK: u64 = 8 << 20;

/// Reads HDFS through one NameNode, HA nameservice or ViewFS mount table.
#[derive(Debug)]
pub struct HdfsStorage {
    client: Client,
    scheme: Scheme,
    /// The authority as written in locations (empty for `hdfs:///`).
    written_authority: String,
    /// `hdfs://authority` or `viewfs://cluster`, as resolved.
    fs: String,
    /// Files deleted at once.
    concurrency: usize,
    timeout: Duration,
    /// Who serves what, for messages: (mount point, NameNodes), most specific
    /// first; `/` for plain HDFS.
    targets: Vec<(String, String)>,
    /// ViewFS mount points (none for plain HDFS).
    mounts: Mounts,
}

/// What one client serves: the URL given to hdfs-native, who serves what
/// (for messages, as `HdfsStorage.targets`) and the ViewFS mount points.
struct Served {
    url: String,
    targets: Vec<(String, String)>,
    mounts: Mounts,
}

impl HdfsStorage {
    /// A client for the NameNode, nameservice or mount table of `location`,
    /// configured from `settings.hdfs` and the Hadoop configuration directory.
    /// Nothing is contacted yet; a nameservice or mount table the
    /// configuration does not define is an [`Error::Config`].
    pub fn new(location: &Location, settings: &Settings) -> Result<Self, Error> {
        let scheme = location.scheme();
        let config_err = |message: &dyn std::fmt::Display| Error::Config {
            location: location.to_string(),
            scheme: scheme.canonical(),
            message: redact(&message.to_string()).into_owned(),
        };
        if !matches!(scheme, Scheme::Hdfs | Scheme::ViewFs) {
            return Err(Error::Unsupported {
                location: location.to_string(),
                reason: "not an hdfs:// or viewfs:// location".to_owned(),
            });
        }
        let hdfs = settings.hdfs.clone().unwrap_or_default();
        let conf = HadoopConf::load(hdfs.conf_dir.as_deref()).map_err(|e| config_err(&e))?;
        let authority = if location.authority().is_empty() {
            conf.default_authority(scheme).map_err(|e| config_err(&e))?
        } else {
            location.authority().to_owned()
        };

        let timeout = settings.timeout();
        let mut overrides: HashMap<String, String> = conf.map.clone();
        let attempts = hdfs.failover_attempts.unwrap_or(DEFAULT_FAILOVER_ATTEMPTS);
        for (key, value) in [
            ("dfs.client.failover.max.attempts", attempts.to_string()),
            ("dfs.client.failover.sleep.base.millis", "200".to_owned()),
            ("dfs.client.failover.sleep.max.millis", "2000".to_owned()),
            (
                "dfs.client.socket-timeout",
                (timeout.as_millis() / 3).clamp(1000, 60_000).to_string(),
            ),
        ] {
            overrides.insert(key.to_owned(), value);
        }

        let served = match scheme {
            Scheme::ViewFs => viewfs::resolve(&conf, &authority, &mut overrides),
            _ => conf.namenodes(&authority, &mut overrides).map(|nn| Served {
                url: format!("hdfs://{}/", nn.authority),
                targets: vec![("/".to_owned(), nn.description)],
                mounts: Mounts::default(),
            }),
        }
        .map_err(|e| config_err(&e))?;

        let mut builder = ClientBuilder::new().with_url(served.url);
        if let Some(dir) = &conf.dir {
            builder = builder.with_config_dir(dir.to_string_lossy().into_owned());
        }
        let client = builder
            .with_config(overrides)
            .build()
            .map_err(|e| config_err(&format!("hdfs-native rejected the configuration: {e}")))?;
        Ok(Self {
            client,
            scheme,
            written_authority: location.authority().to_owned(),
            fs: format!("{}://{authority}", scheme.canonical()),
            concurrency: settings.concurrency(),
            timeout,
            targets: served.targets,
            mounts: served.mounts,
        })
    }

    /// The NameNodes serving `path`, for messages.
    fn describe(&self, path: &str) -> &str {
        self.targets
            .iter()
            .find(|(p, _)| path_is_under(path, p))
            .map_or(self.fs.as_str(), |(_, d)| d.as_str())
    }

    /// The path to hand to hdfs-native (see [`Mounts::client_path`]).
    fn client_path(&self, location: &Location) -> String {
        self.mounts.client_path(location)
    }

    /// Where a path lies (see [`Mounts::place`]).
    fn place(&self, path: &str) -> Place {
        self.mounts.place(path)
    }

    /// Runs one hdfs-native call under the request timeout.
    async fn timed<T>(
        &self,
        location: &Location,
        call: impl Future<Output = hdfs_native::Result<T>>,
    ) -> Result<hdfs_native::Result<T>, Error> {
        tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| self.timeout_error(location))
    }

    fn timeout_error(&self, location: &Location) -> Error {
        Error::Backend {
            location: location.to_string(),
            message: format!(
                "no answer from {} within {} s (storage.timeout_secs)",
                self.describe(location.path()),
                self.timeout.as_secs()
            ),
        }
    }

    /// Maps an hdfs-native error to a storage error naming the location and,
    /// for connection trouble, the NameNodes.
    fn error(&self, location: &Location, e: HdfsError) -> Error {
        let backend = |message: String| Error::Backend {
            location: location.to_string(),
            message: redact(&message).into_owned(),
        };
        match e {
            HdfsError::FileNotFound(_) => Error::NotFound {
                location: location.to_string(),
            },
            HdfsError::RPCError(class, msg) | HdfsError::FatalRPCError(class, msg)
                if class == "java.io.FileNotFoundException" =>
            {
                if msg.contains("is not a file") {
                    backend("is a directory, not a file".to_owned())
                } else {
                    Error::NotFound {
                        location: location.to_string(),
                    }
                }
            }
            HdfsError::RPCError(class, msg) => {
                backend(format!("{}: {}", short_class(&class), first_line(&msg)))
            }
            HdfsError::FatalRPCError(class, msg) => backend(format!(
                "fatal RPC error from {}: {}: {}",
                self.describe(location.path()),
                short_class(&class),
                first_line(&msg)
            )),
            HdfsError::IOError(io) => backend(format!(
                "I/O error talking to {}: {io}",
                self.describe(location.path())
            )),
            other => backend(format!("{other} ({})", self.describe(location.path()))),
        }
    }

    /// Reads `[offset, offset + len)` (to the end when `len` is `None`),
    /// clamped to the file, in timed chunks.
    async fn read_span(
        &self,
        location: &Location,
        offset: u64,
        len: Option<u64>,
    ) -> Result<Vec<u8>, Error> {
        match self.place(location.path()) {
            Place::Mounted => {}
            Place::Internal { .. } => {
                return Err(Error::Backend {
                    location: location.to_string(),
                    message: "is a directory, not a file".to_owned(),
                });
            }
            Place::Outside => {
                return Err(Error::NotFound {
                    location: location.to_string(),
                });
            }
        }
        let path = self.client_path(location);
        let reader = self
            .timed(location, self.client.read(&path))
            .await?
            .map_err(|e| self.error(location, e))?;
        let file_len = reader.file_length() as u64;
        let start = offset.min(file_len);
        let end = len.map_or(file_len, |l| start.saturating_add(l).min(file_len));
        let mut out = Vec::with_capacity(to_usize(end - start));
        let mut pos = start;
        while pos < end {
            let n = (end - pos).min(READ_CHUNK);
            let bytes = self
                .timed(location, reader.read_range(to_usize(pos), to_usize(n)))
                .await?
                .map_err(|e| self.error(location, e))?;
            if bytes.is_empty() {
                break;
            }
            out.extend_from_slice(&bytes);
            pos += bytes.len() as u64;
        }
        Ok(out)
    }

    /// [`Storage::list`] on an owned location (so ViewFS can recurse).
    fn list_owned(&self, dir: Location, recursive: bool) -> BoxStream<'_, Result<Entry, Error>> {
        match self.place(dir.path()) {
            Place::Mounted => {}
            Place::Outside => return Box::pin(stream::empty()),
            Place::Internal { children, .. } if !recursive => {
                let entries: Vec<_> = children
                    .iter()
                    .map(|c| Ok(dir_entry(dir.join(c))))
                    .collect();
                return Box::pin(stream::iter(entries));
            }
            Place::Internal { mounts, .. } => {
                let subs: Vec<Location> = mounts.iter().map(|m| dir.with_path(m)).collect();
                return Box::pin(stream::iter(subs).flat_map(move |l| self.list_owned(l, true)));
            }
        }
        let root = self.client_path(&dir);
        let base = root.trim_end_matches('/').to_owned();
        let inner = self.client.list_status_iter(&root, recursive).into_stream();
        let state = ListState {
            inner,
            dir,
            root,
            base,
            recursive,
            done: false,
        };
        Box::pin(stream::unfold(state, move |mut st| async move {
            if st.done {
                return None;
            }
            loop {
                let next = match tokio::time::timeout(self.timeout, st.inner.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        st.done = true;
                        let e = self.timeout_error(&st.dir);
                        return Some((Err(e), st));
                    }
                };
                match next {
                    None => return None,
                    Some(Ok(status)) => {
                        if st.recursive && status.isdir {
                            continue;
                        }
                        let Some(rel) = status
                            .path
                            .strip_prefix(st.base.as_str())
                            .and_then(|r| r.strip_prefix('/'))
                            .filter(|r| !r.is_empty())
                        else {
                            // Listing a file returns the file itself: not a child.
                            continue;
                        };
                        let entry = status_entry(st.dir.join(rel), &status);
                        return Some((Ok(entry), st));
                    }
                    // The listed directory does not exist: an empty listing.
                    Some(Err(HdfsError::FileNotFound(p))) if p == st.root => return None,
                    // A subdirectory deleted while we walk: it is gone, skip it.
                    Some(Err(HdfsError::FileNotFound(_))) => continue,
                    Some(Err(e)) => {
                        st.done = true;
                        let e = self.error(&st.dir, e);
                        return Some((Err(e), st));
                    }
                }
            }
        }))
    }
}

impl HdfsStorage {
    /// `location` is served by this client (same scheme and authority).
    fn serves(&self, location: &Location) -> Result<(), Error> {
        if location.scheme() == self.scheme && location.authority() == self.written_authority {
            return Ok(());
        }
        Err(Error::Unsupported {
            location: location.to_string(),
            reason: format!("not served by {} (not deleted)", self.fs),
        })
    }

    /// The file status of `location`, `None` if it does not exist.
    async fn file_info(&self, location: &Location) -> Result<Option<FileStatus>, Error> {
        let path = self.client_path(location);
        match self
            .timed(location, self.client.get_file_info(&path))
            .await?
        {
            Ok(status) => Ok(Some(status)),
            Err(e) => match self.error(location, e) {
                Error::NotFound { .. } => Ok(None),
                e => Err(e),
            },
        }
    }

    /// Deletes one file (see the module docs).
    async fn delete_file(&self, location: &Location) -> Result<(), Error> {
        self.serves(location)?;
        let is_dir = || Error::Backend {
            location: location.to_string(),
            message: "is a directory, not a file (not deleted)".to_owned(),
        };
        match self.place(location.path()) {
            Place::Mounted => {}
            Place::Internal { .. } => return Err(is_dir()),
            Place::Outside => return Ok(()),
        }
        match self.file_info(location).await? {
            None => return Ok(()),
            Some(status) if status.isdir => return Err(is_dir()),
            Some(_) => {}
        }
        let path = self.client_path(location);
        // `false`: it was gone already.
        match self
            .timed(location, self.client.delete(&path, false))
            .await?
        {
            Ok(_) => Ok(()),
            Err(e) => match self.error(location, e) {
                Error::NotFound { .. } => Ok(()),
                e => Err(e),
            },
        }
    }
}

/// The state of one HDFS listing.
struct ListState {
    inner: BoxStream<'static, hdfs_native::Result<FileStatus>>,
    /// The listed location.
    dir: Location,
    /// The path given to hdfs-native.
    root: String,
    /// `root` without a trailing `/`: entries' paths are `base/rel`.
    base: String,
    recursive: bool,
    done: bool,
}

impl Storage for HdfsStorage {
    fn name(&self) -> &'static str {
        self.scheme.canonical()
    }

    fn stat<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Option<Entry>, Error>> {
        Box::pin(async move {
            match self.place(location.path()) {
                Place::Mounted => {}
                Place::Internal { .. } => return Ok(Some(dir_entry(location.clone()))),
                Place::Outside => return Ok(None),
            }
            let path = self.client_path(location);
            match self
                .timed(location, self.client.get_file_info(&path))
                .await?
            {
                Ok(status) => Ok(Some(status_entry(location.clone(), &status))),
                Err(e) => match self.error(location, e) {
                    Error::NotFound { .. } => Ok(None),
                    e => Err(e),
                },
            }
        })
    }

    fn read<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(self.read_span(location, 0, None))
    }

    fn read_range<'a>(
        &'a self,
        location: &'a Location,
        offset: u64,
        len: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(self.read_span(location, offset, Some(len)))
    }

    fn list<'a>(
        &'a self,
        dir: &'a Location,
        recursive: bool,
    ) -> BoxStream<'a, Result<Entry, Error>> {
        self.list_owned(dir.clone(), recursive)
    }

    fn delete_files<'a>(&'a self, files: &'a [Location]) -> BoxFuture<'a, Vec<Result<(), Error>>> {
        Box::pin(async move {
            // Futures made up front: a closure in the stream would not be
            // general enough over lifetimes for a `Send` future.
            let calls: Vec<_> = files.iter().map(|f| self.delete_file(f)).collect();
            stream::iter(calls)
                .buffered(self.concurrency)
                .collect()
                .await
        })
    }

    fn create<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Box<dyn super::Upload>, Error>> {
        Box::pin(async move {
            self.serves(location)?;
            let path = self.client_path(location);
            let part = hidden_name(&path, "flink-chk.part");
            let opts = hdfs_native::WriteOptions::default()
                .overwrite(true)
                .create_parent(true);
            let writer = self
                .timed(location, self.client.create(&part, opts))
                .await?
                .map_err(|e| self.error(location, e))?;
            Ok(Box::new(HdfsUpload {
                writer,
                client: self.client.clone(),
                part,
                path,
                location: location.clone(),
            }) as Box<dyn super::Upload>)
        })
    }

    /// Written under a hidden name, then renamed without overwrite: the
    /// NameNode refuses the rename if anything is at the name.
    fn put_if_absent<'a>(
        &'a self,
        location: &'a Location,
        bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            self.serves(location)?;
            if self.file_info(location).await?.is_some() {
                return Ok(false);
            }
            let path = self.client_path(location);
            let tmp = hidden_name(&path, &format!("flink-chk-{}.tmp", std::process::id()));
            let opts = hdfs_native::WriteOptions::default()
                .overwrite(true)
                .create_parent(true);
            let mut w = self
                .timed(location, self.client.create(&tmp, opts))
                .await?
                .map_err(|e| self.error(location, e))?;
            let written = async {
                w.write_bytes(bytes::Bytes::from(bytes)).await?;
                w.close().await
            };
            if let Err(e) = self.timed(location, written).await? {
                let _ = self.client.delete(&tmp, false).await;
                return Err(hdfs_io(location, e));
            }
            match self
                .timed(location, self.client.rename(&tmp, &path, false))
                .await?
            {
                Ok(()) => Ok(true),
                Err(e) => {
                    let _ = self.client.delete(&tmp, false).await;
                    if self.file_info(location).await?.is_some() {
                        Ok(false)
                    } else {
                        Err(hdfs_io(location, e))
                    }
                }
            }
        })
    }

    fn remove_dir_if_empty<'a>(&'a self, dir: &'a Location) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            self.serves(dir)?;
            match self.place(dir.path()) {
                Place::Mounted => {}
                // Part of the mount table, not of a file system.
                Place::Internal { .. } | Place::Outside => return Ok(false),
            }
            match self.file_info(dir).await? {
                None => return Ok(false),
                Some(status) if !status.isdir => {
                    return Err(Error::Backend {
                        location: dir.to_string(),
                        message: "not a directory (not removed)".to_owned(),
                    });
                }
                Some(_) => {}
            }
            let path = self.client_path(dir);
            match self.timed(dir, self.client.delete(&path, false)).await? {
                Ok(removed) => Ok(removed),
                Err(HdfsError::RPCError(class, _) | HdfsError::FatalRPCError(class, _))
                    if class.ends_with("PathIsNotEmptyDirectoryException") =>
                {
                    Ok(false)
                }
                Err(e) => match self.error(dir, e) {
                    Error::NotFound { .. } => Ok(false),
                    e => Err(e),
                },
            }
        })
    }
}

/// The hidden name a file is written under before it is renamed into place
/// (same directory, so the rename stays on one NameNode and volume).
fn hidden_name(path: &str, suffix: &str) -> String {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    format!("{dir}/.{name}.{suffix}")
}

/// A file being written to HDFS under its hidden name, renamed into place
/// by `finish`.
struct HdfsUpload {
    writer: hdfs_native::file::FileWriter,
    client: Client,
    part: String,
    path: String,
    location: Location,
}

impl std::fmt::Debug for HdfsUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HdfsUpload")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

fn hdfs_io(location: &Location, e: HdfsError) -> Error {
    Error::Backend {
        location: location.to_string(),
        message: redact(&e.to_string()).into_owned(),
    }
}

impl super::Upload for HdfsUpload {
    fn write(&mut self, chunk: Vec<u8>) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            self.writer
                .write_bytes(bytes::Bytes::from(chunk))
                .await
                .map(|_| ())
                .map_err(|e| hdfs_io(&self.location, e))
        })
    }

    fn finish(mut self: Box<Self>) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(async move {
            self.writer
                .close()
                .await
                .map_err(|e| hdfs_io(&self.location, e))?;
            self.client
                .rename(&self.part, &self.path, true)
                .await
                .map_err(|e| hdfs_io(&self.location, e))
        })
    }

    fn abort(mut self: Box<Self>) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(async move {
            let _ = self.writer.close().await;
            match self.client.delete(&self.part, false).await {
                Ok(_) | Err(HdfsError::FileNotFound(_)) => Ok(()),
                Err(e) => Err(hdfs_io(&self.location, e)),
            }
        })
    }
}

fn status_entry(location: Location, status: &FileStatus) -> Entry {
    Entry {
        location,
        size: if status.isdir {
            0
        } else {
            status.length as u64
        },
        modified: i64::try_from(status.modification_time)
            .ok()
            .filter(|&ms| ms > 0)
            .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()),
        is_dir: status.isdir,
        // The client reports a symbolic link as a (zero-length) file and
        // never descends into it; HDFS has no FIFOs or devices.
        special: false,
        version: None,
    }
}

/// A ViewFS directory above mount points.
fn dir_entry(location: Location) -> Entry {
    Entry {
        location,
        size: 0,
        modified: None,
        is_dir: true,
        special: false,
        version: None,
    }
}

fn to_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// `org.apache.hadoop.security.AccessControlException` → `AccessControlException`.
fn short_class(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

/// A Java exception message without its stack trace.
fn first_line(msg: &str) -> &str {
    msg.lines().next().unwrap_or(msg).trim()
}

#[cfg(test)]
mod tests;
