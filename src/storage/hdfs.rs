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
//! # Limits of hdfs-native 0.14
//!
//! No encrypted zones (its `kms` feature is not enabled), no ViewFS
//! `linkRegex`/`linkMerge`/`linkNfly` (rejected with a configuration error),
//! ViewFS targets must be `hdfs://`, with a ViewFS fallback the directories
//! above mount points list the fallback's content only (Hadoop merges the
//! mount points in), and file names that are not UTF-8 make it panic.
#![warn(missing_docs)]

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream;
use hdfs_native::client::FileStatus;
use hdfs_native::{Client, ClientBuilder, HdfsError};

use super::redact::redact;
use super::{BoxFuture, BoxStream, Entry, Error, Location, Scheme, Settings, Storage};

/// Default failover attempts (see [`super::HdfsSettings::failover_attempts`]).
const DEFAULT_FAILOVER_ATTEMPTS: u32 = 1;
/// Bytes fetched per timed read call.
const READ_CHUNK: u64 = 8 << 20;
/// The fallback given to hdfs-native for a ViewFS mount table that has none
/// (it insists on one). Never contacted: paths it would serve are answered here.
const UNMOUNTED_FALLBACK: &str = "hdfs://unmounted.invalid:9/";
/// Hadoop's NameNode RPC port, for addresses configured without one.
const DEFAULT_NAMENODE_PORT: u16 = 8020;
/// How deep `xi:include`s may nest.
const MAX_INCLUDE_DEPTH: u32 = 8;

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
    /// ViewFS mount points (normalized paths), empty for plain HDFS.
    mounts: Vec<String>,
    /// The mount points whose target is the root of a file system.
    root_mounts: Vec<String>,
    /// ViewFS without a fallback: paths outside the mount points are ours.
    no_fallback: bool,
}

/// Where a ViewFS path lies.
enum Place {
    /// Under a mount point or the fallback: ask HDFS.
    Mounted,
    /// A directory above mount points (`children` are its entries, `mounts`
    /// the mount points below it).
    Internal {
        children: BTreeSet<String>,
        mounts: Vec<String>,
    },
    /// Outside every mount point, with no fallback: does not exist.
    Outside,
}

impl HdfsStorage {
    /// A client for the NameNode, nameservice or mount table of `location`,
    /// configured from `settings.hdfs` and the Hadoop configuration directory.
    /// Nothing is contacted yet; a nameservice or mount table the
    /// configuration does not define is an [`Error::Config`].
    pub fn new(location: &Location, settings: &Settings) -> Result<Self, Error> {
        let scheme = location.scheme();
        let config_err = |message: String| Error::Config {
            location: location.to_string(),
            scheme: scheme.canonical(),
            message: redact(&message).into_owned(),
        };
        if !matches!(scheme, Scheme::Hdfs | Scheme::ViewFs) {
            return Err(Error::Unsupported {
                location: location.to_string(),
                reason: "not an hdfs:// or viewfs:// location".to_owned(),
            });
        }
        let hdfs = settings.hdfs.clone().unwrap_or_default();
        let conf = HadoopConf::load(hdfs.conf_dir.as_deref()).map_err(config_err)?;
        let authority = if location.authority().is_empty() {
            conf.default_authority(scheme).map_err(config_err)?
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

        let (url, targets, mounts, root_mounts, no_fallback) = match scheme {
            Scheme::ViewFs => {
                let table = conf
                    .mount_table(&authority, &mut overrides)
                    .map_err(config_err)?;
                let mut targets = table.links.clone();
                // Most specific mount point first.
                targets.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
                let no_fallback = table.fallback.is_none();
                if let Some(f) = table.fallback {
                    targets.push(("/".to_owned(), f));
                }
                let mounts = table.links.into_iter().map(|(p, _)| p).collect();
                (
                    format!("viewfs://{authority}/"),
                    targets,
                    mounts,
                    table.root_mounts,
                    no_fallback,
                )
            }
            _ => {
                let nn = conf
                    .namenodes(&authority, &mut overrides)
                    .map_err(config_err)?;
                (
                    format!("hdfs://{}/", nn.authority),
                    vec![("/".to_owned(), nn.description)],
                    Vec::new(),
                    Vec::new(),
                    false,
                )
            }
        };

        let mut builder = ClientBuilder::new().with_url(url);
        if let Some(dir) = &conf.dir {
            builder = builder.with_config_dir(dir.to_string_lossy().into_owned());
        }
        let client = builder
            .with_config(overrides)
            .build()
            .map_err(|e| config_err(format!("hdfs-native rejected the configuration: {e}")))?;
        Ok(Self {
            client,
            scheme,
            written_authority: location.authority().to_owned(),
            fs: format!("{}://{authority}", scheme.canonical()),
            concurrency: settings.concurrency(),
            timeout,
            targets,
            mounts,
            root_mounts,
            no_fallback,
        })
    }

    /// The NameNodes serving `path`, for messages.
    fn describe(&self, path: &str) -> &str {
        self.targets
            .iter()
            .find(|(p, _)| under(path, p))
            .map_or(self.fs.as_str(), |(_, d)| d.as_str())
    }

    /// The path to hand to hdfs-native. A ViewFS mount point whose target is
    /// a root gets a trailing `/`: hdfs-native maps `/mnt` with target
    /// `hdfs://ns/` to an empty path, and `/mnt/` to `/`.
    fn client_path(&self, location: &Location) -> String {
        let path = location.path();
        if path != "/" && self.root_mounts.iter().any(|m| m == path) {
            format!("{path}/")
        } else {
            path.to_owned()
        }
    }

    /// Where a ViewFS path lies (always [`Place::Mounted`] for plain HDFS and
    /// mount tables with a fallback).
    fn place(&self, path: &str) -> Place {
        if !self.no_fallback || self.mounts.iter().any(|m| under(path, m)) {
            return Place::Mounted;
        }
        let mut children = BTreeSet::new();
        let mut mounts = Vec::new();
        for m in &self.mounts {
            let rest = if path == "/" {
                m.strip_prefix('/')
            } else {
                m.strip_prefix(path).and_then(|r| r.strip_prefix('/'))
            };
            if let Some(first) = rest.and_then(|r| r.split('/').next()) {
                children.insert(first.to_owned());
                mounts.push(m.clone());
            }
        }
        if children.is_empty() {
            Place::Outside
        } else {
            Place::Internal { children, mounts }
        }
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
    }
}

fn to_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// Whether `path` is `dir` or below it (both normalized).
fn under(path: &str, dir: &str) -> bool {
    dir == "/"
        || path == dir
        || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
}

/// `org.apache.hadoop.security.AccessControlException` → `AccessControlException`.
fn short_class(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

/// A Java exception message without its stack trace.
fn first_line(msg: &str) -> &str {
    msg.lines().next().unwrap_or(msg).trim()
}

/// Collapses `//` and `.`, drops a trailing `/` (mount point paths).
fn normalize_path(path: &str) -> String {
    let mut out = String::new();
    for seg in path.split('/').filter(|s| !s.is_empty() && *s != ".") {
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// `host:port` (as opposed to a nameservice).
fn has_port(authority: &str) -> bool {
    authority
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
}

fn with_default_port(addr: &str) -> String {
    if has_port(addr) {
        addr.to_owned()
    } else {
        format!("{addr}:{DEFAULT_NAMENODE_PORT}")
    }
}

/// What an `hdfs://` authority leads to.
struct NameNodes {
    /// The authority to give hdfs-native: `host:port` or an HA nameservice.
    authority: String,
    /// For messages: `NameNode h:p` or `nameservice ns (NameNodes …)`.
    description: String,
}

/// A ViewFS mount table: (mount point, NameNodes) and the fallback's NameNodes.
struct MountTable {
    links: Vec<(String, String)>,
    fallback: Option<String>,
    /// Mount points whose target is `hdfs://authority/`.
    root_mounts: Vec<String>,
}

/// The Hadoop configuration: `core-site.xml` and `hdfs-site.xml`.
#[derive(Debug, Default)]
struct HadoopConf {
    dir: Option<PathBuf>,
    /// Where `dir` came from.
    source: &'static str,
    map: HashMap<String, String>,
}

impl HadoopConf {
    /// Loads the configuration from `conf_dir`, else `$HADOOP_CONF_DIR`, else
    /// `$HADOOP_HOME/etc/hadoop` (like hdfs-native). An explicit `conf_dir`
    /// must exist; a directory from the environment may be missing.
    fn load(conf_dir: Option<&str>) -> Result<Self, String> {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let (dir, source) = if let Some(d) = conf_dir {
            let p = expand_home(d);
            if !p.is_dir() {
                return Err(format!(
                    "storage.hdfs.conf_dir {} is not a directory",
                    p.display()
                ));
            }
            (Some(p), "storage.hdfs.conf_dir")
        } else if let Some(d) = env("HADOOP_CONF_DIR") {
            (Some(PathBuf::from(d)), "HADOOP_CONF_DIR")
        } else if let Some(h) = env("HADOOP_HOME") {
            (Some(Path::new(&h).join("etc/hadoop")), "HADOOP_HOME")
        } else {
            (None, "")
        };
        let mut map = HashMap::new();
        if let Some(d) = &dir {
            for f in ["core-site.xml", "hdfs-site.xml"] {
                let p = d.join(f);
                let text = match std::fs::read_to_string(&p) {
                    Ok(t) => t,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(format!("cannot read {}: {e}", p.display())),
                };
                let mut pairs = Vec::new();
                parse_site_xml(&text, d, 0, &mut pairs)
                    .map_err(|e| format!("{}: {e}", p.display()))?;
                map.extend(pairs);
            }
        }
        Ok(Self { dir, source, map })
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// "the Hadoop configuration in DIR (SOURCE)", for messages.
    fn describe(&self) -> String {
        match &self.dir {
            Some(d) if d.is_dir() => {
                format!(
                    "the Hadoop configuration in {} (from {})",
                    d.display(),
                    self.source
                )
            }
            Some(d) => format!(
                "the Hadoop configuration ({} names {}, which does not exist)",
                self.source,
                d.display()
            ),
            None => "the Hadoop configuration (none found: set storage.hdfs.conf_dir or \
                     HADOOP_CONF_DIR)"
                .to_owned(),
        }
    }

    /// The authority of `hdfs:///` or `viewfs:///`: from `fs.defaultFS`.
    fn default_authority(&self, scheme: Scheme) -> Result<String, String> {
        let want = scheme.canonical();
        let default_fs = self
            .get("fs.defaultFS")
            .or_else(|| self.get("fs.default.name"));
        let parsed = default_fs.and_then(|u| u.split_once("://"));
        match parsed {
            Some((s, rest)) if s.eq_ignore_ascii_case(want) => {
                let auth = rest.split('/').next().unwrap_or_default();
                if auth.is_empty() {
                    Err(format!(
                        "{want}:/// means the default file system, but fs.defaultFS in {} has no \
                         authority",
                        self.describe()
                    ))
                } else {
                    Ok(auth.to_owned())
                }
            }
            // Hadoop's mount table for viewfs:/// when the default FS is not ViewFS.
            _ if scheme == Scheme::ViewFs => Ok("default".to_owned()),
            _ => match default_fs {
                Some(fs) => Err(format!(
                    "{want}:/// means the default file system, but fs.defaultFS in {} is {fs}, \
                     not an {want}:// URI",
                    self.describe()
                )),
                None => Err(format!(
                    "{want}:/// means the default file system, but fs.defaultFS is not set in {}",
                    self.describe()
                )),
            },
        }
    }

    /// Resolves an `hdfs://` authority, adding to `overrides` what hdfs-native
    /// needs to see (trimmed NameNode lists and addresses).
    fn namenodes(
        &self,
        authority: &str,
        overrides: &mut HashMap<String, String>,
    ) -> Result<NameNodes, String> {
        if has_port(authority) {
            return Ok(NameNodes {
                authority: authority.to_owned(),
                description: format!("NameNode {authority}"),
            });
        }
        let ids_key = format!("dfs.ha.namenodes.{authority}");
        if let Some(ids) = self.get(&ids_key) {
            let ids: Vec<&str> = ids
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if ids.is_empty() {
                return Err(format!("{ids_key} is empty in {}", self.describe()));
            }
            let mut addrs = Vec::new();
            for id in &ids {
                let key = format!("dfs.namenode.rpc-address.{authority}.{id}");
                let Some(addr) = self.get(&key) else {
                    return Err(format!(
                        "nameservice {authority} lists NameNode {id}, but {key} is not set in {}",
                        self.describe()
                    ));
                };
                let addr = with_default_port(addr);
                addrs.push(format!("{id}={addr}"));
                overrides.insert(key, addr);
            }
            overrides.insert(ids_key, ids.join(","));
            return Ok(NameNodes {
                authority: authority.to_owned(),
                description: format!("nameservice {authority} (NameNodes {})", addrs.join(", ")),
            });
        }
        if let Some(addr) = self.get(&format!("dfs.namenode.rpc-address.{authority}")) {
            let addr = with_default_port(addr);
            return Ok(NameNodes {
                description: format!("NameNode {addr} of nameservice {authority}"),
                authority: addr,
            });
        }
        Err(format!(
            "{authority:?} is not a nameservice: neither dfs.ha.namenodes.{authority} nor \
             dfs.namenode.rpc-address.{authority} is set in {}; for a single NameNode give its \
             RPC port, e.g. hdfs://{authority}:{DEFAULT_NAMENODE_PORT}/",
            self.describe()
        ))
    }

    /// The mount table of `viewfs://cluster`, adding resolved targets (and a
    /// placeholder fallback when there is none) to `overrides`.
    fn mount_table(
        &self,
        cluster: &str,
        overrides: &mut HashMap<String, String>,
    ) -> Result<MountTable, String> {
        let prefix = format!("fs.viewfs.mounttable.{cluster}.");
        let mut keys: Vec<(&str, &str, &str)> = self
            .map
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(&prefix)
                    .map(|rest| (rest, k.as_str(), v.as_str()))
            })
            .collect();
        keys.sort_unstable();
        let mut links = Vec::new();
        let mut fallback: Option<String> = None;
        let mut unsupported = Vec::new();
        let mut root_mounts = Vec::new();
        for (rest, key, value) in keys {
            if let Some(path) = rest.strip_prefix("link.") {
                let (nn, url, is_root) = self.mount_target(key, value, overrides)?;
                let path = normalize_path(path);
                if is_root {
                    root_mounts.push(path.clone());
                }
                overrides.insert(key.to_owned(), url);
                links.push((path, nn));
            } else if rest == "linkFallback" || rest == "linkMergeSlash" {
                if fallback.is_some() {
                    return Err(format!(
                        "viewfs://{cluster} has both linkFallback and linkMergeSlash"
                    ));
                }
                let (nn, url, _) = self.mount_target(key, value, overrides)?;
                overrides.insert(format!("{prefix}linkFallback"), url);
                fallback = Some(nn);
            } else if ["linkRegex", "linkMerge", "linkNfly"]
                .iter()
                .any(|t| rest.starts_with(t))
            {
                unsupported.push(key.to_owned());
            }
        }
        if !unsupported.is_empty() {
            return Err(format!(
                "hdfs-native cannot follow {} (only link.*, linkFallback and linkMergeSlash \
                 mount entries are supported)",
                unsupported.join(", ")
            ));
        }
        if links.is_empty() && fallback.is_none() {
            return Err(format!(
                "viewfs://{cluster} has no mount table in {} (no {prefix}link.* entries)",
                self.describe()
            ));
        }
        if fallback.is_none() {
            overrides.insert(
                format!("{prefix}linkFallback"),
                UNMOUNTED_FALLBACK.to_owned(),
            );
        }
        Ok(MountTable {
            links,
            fallback,
            root_mounts,
        })
    }

    /// A mount target `hdfs://authority/path`: its NameNodes, the URL
    /// hdfs-native can use, and whether the path is the root.
    fn mount_target(
        &self,
        key: &str,
        value: &str,
        overrides: &mut HashMap<String, String>,
    ) -> Result<(String, String, bool), String> {
        let rest = value
            .split_once("://")
            .filter(|(s, _)| s.eq_ignore_ascii_case("hdfs"))
            .map(|(_, r)| r)
            .ok_or_else(|| {
                format!("{key} = {value}: hdfs-native can only mount hdfs:// targets")
            })?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.is_empty() {
            return Err(format!(
                "{key} = {value}: the target needs a NameNode or nameservice"
            ));
        }
        let nn = self
            .namenodes(authority, overrides)
            .map_err(|e| format!("{key} = {value}: {e}"))?;
        let path = normalize_path(path);
        let is_root = path == "/";
        Ok((
            nn.description,
            format!("hdfs://{}{path}", nn.authority),
            is_root,
        ))
    }
}

/// `~/x` → `$HOME/x`.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

/// Reads the `<property><name>…</name><value>…</value></property>` pairs of
/// a Hadoop `*-site.xml` in document order (later ones win), following
/// `xi:include`s relative to `dir`. Names and values are trimmed. A small
/// hand-written reader: comments, CDATA, processing instructions, DOCTYPEs
/// and the predefined and numeric entities are understood; other entities
/// are kept as written.
fn parse_site_xml(
    text: &str,
    dir: &Path,
    depth: u32,
    out: &mut Vec<(String, String)>,
) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut name: Option<String> = None;
    let mut value: Option<String> = None;
    let mut buf = String::new();
    let in_field = |stack: &[String]| match stack {
        [.., p, f] => p == "property" && (f == "name" || f == "value"),
        _ => false,
    };
    let mut rest = text;
    while let Some(lt) = rest.find('<') {
        if in_field(&stack) {
            buf.push_str(&decode_entities(&rest[..lt]));
        }
        rest = &rest[lt..];
        if let Some(r) = rest.strip_prefix("<!--") {
            let end = r.find("-->").ok_or("unterminated comment")?;
            rest = &r[end + 3..];
        } else if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let end = r.find("]]>").ok_or("unterminated CDATA section")?;
            if in_field(&stack) {
                buf.push_str(&r[..end]);
            }
            rest = &r[end + 3..];
        } else if let Some(r) = rest.strip_prefix("<?") {
            let end = r.find("?>").ok_or("unterminated processing instruction")?;
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix("<!") {
            let end = declaration_end(r).ok_or("unterminated <! declaration")?;
            rest = &r[end + 1..];
        } else if let Some(r) = rest.strip_prefix("</") {
            let end = r.find('>').ok_or("unterminated end tag")?;
            let tag = local_name(r[..end].trim()).to_owned();
            rest = &r[end + 1..];
            match stack.pop() {
                Some(open) if open == tag => {}
                Some(open) => return Err(format!("</{tag}> closes <{open}>")),
                None => return Err(format!("unexpected </{tag}>")),
            }
            if stack.last().is_some_and(|p| p == "property") && (tag == "name" || tag == "value") {
                let v = std::mem::take(&mut buf).trim().to_owned();
                if tag == "name" {
                    name = Some(v);
                } else {
                    value = Some(v);
                }
            } else if tag == "property"
                && let (Some(n), Some(v)) = (name.take(), value.take())
            {
                out.push((n, v));
            }
        } else {
            let r = &rest[1..];
            let end = tag_end(r).ok_or("unterminated tag")?;
            let inner = &r[..end];
            rest = &r[end + 1..];
            let (inner, self_closing) = match inner.strip_suffix('/') {
                Some(i) => (i, true),
                None => (inner, false),
            };
            let qname_end = inner
                .find(|c: char| c.is_whitespace())
                .unwrap_or(inner.len());
            let tag = local_name(&inner[..qname_end]).to_owned();
            if tag.is_empty() {
                return Err("empty tag name".to_owned());
            }
            match tag.as_str() {
                "include" => {
                    let href = attribute(&inner[qname_end..], "href")
                        .ok_or("<xi:include> without href")?;
                    include(&href, dir, depth, out)?;
                }
                "property" => {
                    name = None;
                    value = None;
                }
                "name" | "value" => {
                    buf.clear();
                    if self_closing && stack.last().is_some_and(|p| p == "property") {
                        if tag == "name" {
                            name = Some(String::new());
                        } else {
                            value = Some(String::new());
                        }
                    }
                }
                _ => {}
            }
            if !self_closing {
                stack.push(tag);
            }
        }
    }
    match stack.last() {
        Some(open) => Err(format!("<{open}> is not closed")),
        None => Ok(()),
    }
}

/// Reads an `xi:include`d file into `out`.
fn include(
    href: &str,
    dir: &Path,
    depth: u32,
    out: &mut Vec<(String, String)>,
) -> Result<(), String> {
    if depth >= MAX_INCLUDE_DEPTH {
        return Err(format!("xi:include of {href} nested too deeply"));
    }
    let file = href
        .strip_prefix("file://")
        .or_else(|| href.strip_prefix("file:"))
        .unwrap_or(href);
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read included {}: {e}", path.display()))?;
    let sub_dir = path.parent().unwrap_or(dir);
    parse_site_xml(&text, sub_dir, depth + 1, out).map_err(|e| format!("{}: {e}", path.display()))
}

/// The local part of a qualified name (`xi:include` → `include`).
fn local_name(qname: &str) -> &str {
    qname.rsplit(':').next().unwrap_or(qname)
}

/// Index of the `>` that ends a tag, skipping quoted attribute values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// Index of the `>` that ends a `<!…>` declaration, skipping an internal
/// subset in `[…]` and quoted strings.
fn declaration_end(s: &str) -> Option<usize> {
    let mut quote = None;
    let mut depth = 0u32;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, '>') if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// The value of attribute `want` (by local name) in `attrs`.
fn attribute(attrs: &str, want: &str) -> Option<String> {
    let mut rest = attrs.trim_start();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let key = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let close = after[1..].find(quote)?;
        if local_name(key) == want {
            return Some(decode_entities(&after[1..1 + close]));
        }
        rest = after[close + 2..].trim_start();
    }
    None
}

/// Replaces the predefined and numeric character references.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&semi| semi <= 12).and_then(|semi| {
            let ent = &rest[1..semi];
            let c = match ent {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = match ent.strip_prefix("#x").or_else(|| ent.strip_prefix("#X")) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => ent.strip_prefix('#')?.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::super::HdfsSettings;
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    fn loc(s: &str) -> Location {
        Location::parse(s).unwrap()
    }

    fn testdata(name: &str) -> String {
        format!(
            "{}/src/storage/hdfs_testdata/{name}",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    fn settings(conf_dir: &str) -> Settings {
        Settings {
            hdfs: Some(HdfsSettings {
                conf_dir: Some(conf_dir.to_owned()),
                failover_attempts: None,
            }),
            ..Settings::default()
        }
    }

    /// A configuration directory with the given files.
    fn conf(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(d.path().join(name), text).unwrap();
        }
        d
    }

    fn site(props: &[(&str, &str)]) -> String {
        let mut s = String::from("<?xml version=\"1.0\"?>\n<configuration>\n");
        for (k, v) in props {
            s.push_str(&format!(
                "  <property><name>{k}</name><value>{v}</value></property>\n"
            ));
        }
        s.push_str("</configuration>\n");
        s
    }

    /// Stats `location` and expects a quick error; returns its message.
    fn stat_error(storage: &HdfsStorage, location: &str) -> String {
        let l = loc(location);
        let start = Instant::now();
        let r = rt().block_on(storage.stat(&l));
        let elapsed = start.elapsed();
        let e = r.expect_err("stat of an unreachable NameNode must fail");
        assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}: {e}");
        assert!(matches!(e, Error::Backend { .. }), "{e:?}");
        e.to_string()
    }

    #[test]
    fn dead_namenode_fails_fast_naming_its_address() {
        let empty = conf(&[]);
        let s = settings(empty.path().to_str().unwrap());
        let l = loc("hdfs://127.0.0.1:1/x");
        let storage = HdfsStorage::new(&l, &s).unwrap();
        assert_eq!(storage.name(), "hdfs");
        let msg = stat_error(&storage, "hdfs://127.0.0.1:1/x");
        assert!(msg.contains("127.0.0.1:1"), "{msg}");
        assert!(msg.starts_with("hdfs://127.0.0.1:1/x: "), "{msg}");
        rt().block_on(async {
            let e = storage.read_range(&l, 0, 4).await.unwrap_err().to_string();
            assert!(e.contains("127.0.0.1:1"), "{e}");
            let items: Vec<_> = storage.list(&l, true).collect().await;
            assert_eq!(items.len(), 1, "{items:?}");
            let e = items[0].as_ref().unwrap_err().to_string();
            assert!(e.contains("127.0.0.1:1"), "{e}");
        });
    }

    #[test]
    fn deletes_fail_per_file_without_a_namenode() {
        let empty = conf(&[]);
        let s = settings(empty.path().to_str().unwrap());
        let storage = HdfsStorage::new(&loc("hdfs://127.0.0.1:1/x"), &s).unwrap();
        let files = [
            loc("hdfs://127.0.0.1:1/x"),
            loc("hdfs://127.0.0.1:2/x"),
            loc("hdfs://127.0.0.1:1/y"),
        ];
        let start = Instant::now();
        let r = rt().block_on(storage.delete_files(&files));
        assert!(start.elapsed() < Duration::from_secs(15));
        assert_eq!(r.len(), 3);
        for i in [0, 2] {
            let e = r[i].as_ref().unwrap_err();
            assert!(matches!(e, Error::Backend { .. }), "{e:?}");
            assert!(e.to_string().starts_with(&format!("{}: ", files[i])), "{e}");
        }
        // Another NameNode's file is refused, not sent to this one.
        assert!(matches!(r[1], Err(Error::Unsupported { .. })), "{r:?}");
        let e = rt()
            .block_on(storage.remove_dir_if_empty(&files[0]))
            .unwrap_err();
        assert!(e.to_string().contains("127.0.0.1:1"), "{e}");
    }

    #[test]
    fn viewfs_mount_table_directories_are_never_deleted() {
        let s = settings(&testdata("ha"));
        let storage = HdfsStorage::new(&loc("viewfs://testcluster/"), &s).unwrap();
        rt().block_on(async {
            // Above the mount points: mount-table directories, not files.
            let files = [
                loc("viewfs://testcluster/user"),
                loc("viewfs://testcluster/"),
            ];
            for r in storage.delete_files(&files).await {
                let e = r.unwrap_err().to_string();
                assert!(e.contains("is a directory"), "{e}");
            }
            // Outside every mount point nothing exists: deleted already.
            let r = storage
                .delete_files(&[loc("viewfs://testcluster/tmp/x")])
                .await;
            assert!(r[0].is_ok(), "{r:?}");
            for d in ["viewfs://testcluster/user", "viewfs://testcluster/tmp"] {
                assert!(!storage.remove_dir_if_empty(&loc(d)).await.unwrap(), "{d}");
            }
        });
    }

    #[test]
    fn silent_namenode_hits_the_request_timeout() {
        // Accepts connections (the kernel does) but never answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let empty = conf(&[]);
        let mut s = settings(empty.path().to_str().unwrap());
        s.timeout_secs = Some(1);
        let uri = format!("hdfs://{addr}/x");
        let storage = HdfsStorage::new(&loc(&uri), &s).unwrap();
        let msg = stat_error(&storage, &uri);
        assert!(msg.contains("within 1 s"), "{msg}");
        assert!(msg.contains(&addr.to_string()), "{msg}");
        drop(listener);
    }

    #[test]
    fn unknown_nameservice_is_a_config_error() {
        let s = settings(&testdata("ha"));
        let e = HdfsStorage::new(&loc("hdfs://nosuchns/x"), &s).unwrap_err();
        assert!(matches!(e, Error::Config { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("\"nosuchns\" is not a nameservice"), "{msg}");
        assert!(msg.contains("hdfs_testdata/ha"), "{msg}");
        assert!(msg.contains("hdfs://nosuchns:8020/"), "{msg}");

        let e =
            HdfsStorage::new(&loc("hdfs://testns/x"), &settings("/nonexistent/conf")).unwrap_err();
        assert!(e.to_string().contains("is not a directory"), "{e}");

        // hdfs:/// needs fs.defaultFS.
        let empty = conf(&[("core-site.xml", &site(&[]))]);
        let e = HdfsStorage::new(&loc("hdfs:///x"), &settings(empty.path().to_str().unwrap()))
            .unwrap_err();
        assert!(matches!(e, Error::Config { .. }), "{e:?}");
        assert!(e.to_string().contains("fs.defaultFS is not set"), "{e}");

        // A nameservice that lists a NameNode without an address.
        let half = conf(&[(
            "hdfs-site.xml",
            &site(&[
                ("dfs.ha.namenodes.ns", "nn1,nn2"),
                ("dfs.namenode.rpc-address.ns.nn1", "127.0.0.1:1"),
            ]),
        )]);
        let e = HdfsStorage::new(
            &loc("hdfs://ns/x"),
            &settings(half.path().to_str().unwrap()),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("dfs.namenode.rpc-address.ns.nn2 is not set"),
            "{e}"
        );
    }

    #[test]
    fn ha_nameservice_tries_both_namenodes_quickly() {
        // The XML asks for 15 failovers; the override keeps this short.
        let s = settings(&testdata("ha"));
        for uri in ["hdfs://testns/flink/ck", "hdfs:///flink/ck"] {
            let storage = HdfsStorage::new(&loc(uri), &s).unwrap();
            let msg = stat_error(&storage, uri);
            assert!(msg.starts_with(&format!("{uri}: ")), "{msg}");
            assert!(msg.contains("nameservice testns"), "{msg}");
            assert!(msg.contains("nn1=127.0.0.1:1"), "{msg}");
            assert!(msg.contains("nn2=127.0.0.2:1"), "{msg}");
        }
        // A nameservice with one NameNode.
        let storage = HdfsStorage::new(&loc("hdfs://plainns/x"), &s).unwrap();
        let msg = stat_error(&storage, "hdfs://plainns/x");
        assert!(
            msg.contains("NameNode 127.0.0.1:1 of nameservice plainns"),
            "{msg}"
        );
    }

    #[test]
    fn viewfs_mount_table_without_fallback() {
        let s = settings(&testdata("ha"));
        let root = loc("viewfs://testcluster/");
        let storage = HdfsStorage::new(&root, &s).unwrap();
        assert_eq!(storage.name(), "viewfs");
        rt().block_on(async {
            // Directories above mount points exist and list the mount points.
            let st = storage.stat(&root).await.unwrap().unwrap();
            assert!(st.is_dir);
            let names = |dir: &'static str| {
                let storage = &storage;
                async move {
                    let dir = loc(dir);
                    let v: Vec<_> = storage
                        .list(&dir, false)
                        .map(|e| {
                            let e = e.unwrap();
                            assert!(e.is_dir);
                            assert_eq!(e.location.parent(), dir);
                            e.location.to_string()
                        })
                        .collect()
                        .await;
                    v
                }
            };
            assert_eq!(
                names("viewfs://testcluster/").await,
                ["viewfs://testcluster/flink", "viewfs://testcluster/user"]
            );
            assert_eq!(
                names("viewfs://testcluster/user").await,
                ["viewfs://testcluster/user/etl"]
            );
            // Outside every mount point: nothing there.
            let none = loc("viewfs://testcluster/tmp/x");
            assert!(storage.stat(&none).await.unwrap().is_none());
            assert!(storage.read(&none).await.unwrap_err().is_not_found());
            assert_eq!(storage.list(&none, true).count().await, 0);
            let e = storage.read(&root).await.unwrap_err().to_string();
            assert!(e.contains("is a directory"), "{e}");
            // Recursion reaches into the mounts (and fails there, quickly).
            let first = storage.list(&root, true).next().await.unwrap();
            assert!(first.unwrap_err().to_string().contains("127.0.0.1:1"));
        });
        // Under a mount point: its NameNodes are named.
        let msg = stat_error(&storage, "viewfs://testcluster/flink/ck");
        assert!(msg.contains("nameservice testns"), "{msg}");
        let msg = stat_error(&storage, "viewfs://testcluster/user/etl");
        assert!(msg.contains("NameNode 127.0.0.1:1"), "{msg}");
    }

    #[test]
    fn viewfs_default_fs_fallback_and_bad_tables() {
        let d = conf(&[(
            "core-site.xml",
            &site(&[
                ("fs.defaultFS", "viewfs://fb/"),
                ("fs.viewfs.mounttable.fb.link./a", "hdfs://127.0.0.2:1/a"),
                (
                    "fs.viewfs.mounttable.fb.linkMergeSlash",
                    "hdfs://127.0.0.1:1/",
                ),
                ("fs.viewfs.mounttable.rx.link./a", "hdfs://127.0.0.1:1/a"),
                (
                    "fs.viewfs.mounttable.rx.linkRegex.^/b",
                    "hdfs://127.0.0.1:1/b",
                ),
                ("fs.viewfs.mounttable.s3.link./a", "s3a://bucket/a"),
                ("fs.viewfs.mounttable.rm.link./r", "hdfs://127.0.0.1:1"),
                ("fs.viewfs.mounttable.rm.link./a", "hdfs://127.0.0.1:1/a/"),
            ]),
        )]);
        let s = settings(d.path().to_str().unwrap());
        // A mount point onto a root is asked for as `/r/` (hdfs-native would
        // turn `/r` into an empty path).
        let rm = HdfsStorage::new(&loc("viewfs://rm/"), &s).unwrap();
        assert_eq!(rm.client_path(&loc("viewfs://rm/r")), "/r/");
        assert_eq!(rm.client_path(&loc("viewfs://rm/r/x")), "/r/x");
        assert_eq!(rm.client_path(&loc("viewfs://rm/a")), "/a");
        let storage = HdfsStorage::new(&loc("viewfs:///x"), &s).unwrap();
        // The fallback (linkMergeSlash) serves what no link does.
        let msg = stat_error(&storage, "viewfs:///x");
        assert!(msg.contains("NameNode 127.0.0.1:1"), "{msg}");
        let msg = stat_error(&storage, "viewfs:///a/b");
        assert!(msg.contains("NameNode 127.0.0.2:1"), "{msg}");

        for (uri, why) in [
            ("viewfs://nosuch/x", "no mount table"),
            ("viewfs://rx/x", "linkRegex"),
            ("viewfs://s3/x", "only mount hdfs://"),
        ] {
            let e = HdfsStorage::new(&loc(uri), &s).unwrap_err();
            assert!(matches!(e, Error::Config { .. }), "{e:?}");
            assert!(e.to_string().contains(why), "{uri}: {e}");
        }
    }

    #[test]
    fn reads_hadoop_site_xml() {
        let d = conf(&[
            (
                "core-site.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="configuration.xsl"?>
<!DOCTYPE configuration [ <!ENTITY x "y > z"> ]>
<!-- <property><name>commented</name><value>out</value></property> -->
<configuration xmlns:xi="http://www.w3.org/2001/XInclude">
  <property>
    <name> a </name>
    <value>
      x &amp; &lt;y&gt; &#65;&#x42; &unknown;
    </value>
    <description>ignored <b>bold</b></description>
    <final>true</final>
  </property>
  <property><name>b</name><value><![CDATA[<raw>]]></value></property>
  <property><name>empty</name><value/></property>
  <property><name>no-value</name></property>
  <xi:include href='sub/more.xml'/>
  <property><name>over</name><value>last</value></property>
</configuration>
"#,
            ),
            ("hdfs-site.xml", &site(&[("c", "3")])),
        ]);
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(
            d.path().join("sub/more.xml"),
            site(&[("over", "first"), ("inc", "luded")]),
        )
        .unwrap();
        let c = HadoopConf::load(d.path().to_str()).unwrap();
        assert_eq!(c.get("a"), Some("x & <y> AB &unknown;"));
        assert_eq!(c.get("b"), Some("<raw>"));
        assert_eq!(c.get("empty"), Some(""));
        assert_eq!(c.get("no-value"), None);
        assert_eq!(c.get("commented"), None);
        assert_eq!(c.get("inc"), Some("luded"));
        assert_eq!(c.get("over"), Some("last"));
        assert_eq!(c.get("c"), Some("3"));

        let mut out = Vec::new();
        for bad in [
            "<configuration><property>",
            "<configuration></property>",
            "<!-- x",
            "<configuration><xi:include/></configuration>",
        ] {
            assert!(parse_site_xml(bad, d.path(), 0, &mut out).is_err(), "{bad}");
        }
        std::fs::write(d.path().join("hdfs-site.xml"), "<configuration>").unwrap();
        let e = HadoopConf::load(d.path().to_str()).unwrap_err();
        assert!(
            e.contains("hdfs-site.xml: <configuration> is not closed"),
            "{e}"
        );
    }

    #[test]
    fn helpers() {
        assert!(has_port("nn:8020"));
        assert!(has_port("[::1]:8020"));
        assert!(!has_port("ns1"));
        assert!(!has_port(":8020"));
        assert_eq!(with_default_port("nn"), "nn:8020");
        assert_eq!(normalize_path("//a/./b/"), "/a/b");
        assert_eq!(normalize_path("/"), "/");
        assert!(under("/a/b", "/a") && under("/a", "/a") && under("/x", "/"));
        assert!(!under("/ab", "/a"));
        assert_eq!(
            short_class("org.apache.hadoop.security.AccessControlException"),
            "AccessControlException"
        );
        assert_eq!(first_line("msg\n\tat x.y"), "msg");
    }

    /// Opt-in: runs against the cluster named by `FLINK_CHK_TEST_HDFS`
    /// (see the module docs); passes without doing anything otherwise.
    #[test]
    #[allow(clippy::print_stderr)]
    fn real_cluster() {
        let Ok(base) = std::env::var("FLINK_CHK_TEST_HDFS") else {
            eprintln!("skipped: set FLINK_CHK_TEST_HDFS=hdfs://NN:PORT/DIR to run");
            return;
        };
        let base = loc(&base);
        let s = Settings::default();
        let storage = HdfsStorage::new(&base, &s).unwrap();
        rt().block_on(async {
            let st = storage.stat(&base).await.unwrap();
            let st = st.unwrap_or_else(|| panic!("{base} does not exist"));
            assert!(st.is_dir, "{base} is not a directory");

            let children: Vec<Entry> = storage
                .list(&base, false)
                .take(1000)
                .map(|e| e.unwrap())
                .collect()
                .await;
            for c in &children {
                assert_eq!(c.location.parent(), base, "{c:?}");
            }
            let files: Vec<Entry> = storage
                .list(&base, true)
                .take(1000)
                .map(|e| e.unwrap())
                .collect()
                .await;
            for f in &files {
                assert!(!f.is_dir && f.location.starts_with(&base), "{f:?}");
            }
            if let Some(f) = files.first() {
                let again = storage.stat(&f.location).await.unwrap().unwrap();
                assert_eq!(again.size, f.size);
                let head = storage.read_range(&f.location, 0, 4).await.unwrap();
                assert_eq!(head.len() as u64, f.size.min(4));
                let tail = storage.read_range(&f.location, f.size, 4).await.unwrap();
                assert!(tail.is_empty());
            }
            let missing = base.join("flink-chk-test-does-not-exist");
            assert!(storage.stat(&missing).await.unwrap().is_none());
            assert!(storage.read(&missing).await.unwrap_err().is_not_found());
            assert_eq!(storage.list(&missing, true).count().await, 0);
        });

        if let Ok(meta) = std::env::var("FLINK_CHK_TEST_HDFS_METADATA") {
            let meta = loc(&meta);
            let storage = HdfsStorage::new(&meta, &s).unwrap();
            let head = rt().block_on(storage.read_range(&meta, 0, 4)).unwrap();
            // Flink's checkpoint metadata magic number.
            assert_eq!(head, [0x49, 0x60, 0x67, 0x2d], "{meta}");
        }
    }
}
