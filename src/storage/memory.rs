//! An in-memory [`Storage`] for tests (built with `cfg(test)` or the
//! `test-support` feature): a file system held in a map, with the listing
//! shape of [`super::LocalStorage`], so that planning and deleting can be
//! run over thousands of generated trees without touching a disk.
//!
//! Like one backend, it serves one file system: files are keyed by the
//! location's path; scheme and authority are not looked at. Directories are
//! every ancestor of a file plus the ones made with [`MemoryFs::mkdirs`],
//! until [`Storage::remove_dir_if_empty`] removes them (deleting a file
//! leaves its directory, as on a local disk). There are no symbolic links,
//! so [`Storage::real_location`] is the location itself and no entry is
//! `special`. Entries carry no version, as on a local disk, unless
//! [`MemoryFs::versions`] is set: then each file's version is a hash of its
//! bytes and time (changed by every write, like a GCS generation) and
//! [`Storage::delete_files_if`] compares it under the lock, atomically, as
//! a store with conditional deletes does.
//!
//! The state is public ([`MemoryStorage::lock`]): a test builds trees in it,
//! changes them behind the planner's back, and reads the log of every path
//! handed to [`Storage::delete_files`], every directory removed and every
//! file [`Storage::put_if_absent`] wrote.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;

use super::{BoxFuture, BoxStream, Entry, Error, Location, Storage, Upload};

/// One file's bytes and modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryFile {
    /// The contents.
    pub data: Vec<u8>,
    /// What `stat` and `list` report as the modification time.
    pub modified: Timestamp,
}

/// The order listings come in (the trait leaves it unspecified, so callers
/// must not depend on it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ListOrder {
    /// By path.
    #[default]
    Sorted,
    /// By path, reversed.
    Reversed,
    /// Shuffled by a hash of the path (the same every time).
    Scrambled,
}

/// The file system behind a [`MemoryStorage`]. Paths are absolute and
/// normalized, as [`Location::path`] gives them.
#[derive(Debug, Clone, Default)]
pub struct MemoryFs {
    /// Every file, by path.
    pub files: BTreeMap<String, MemoryFile>,
    /// Directories (every ancestor of a file, plus empty ones), until
    /// removed. The root `/` is implied, never listed here.
    pub dirs: BTreeSet<String>,
    /// The order of listings.
    pub order: ListOrder,
    /// Every path handed to `delete_files`, in order (files, missing paths
    /// and refused directories alike).
    pub deletes: Vec<String>,
    /// Every directory `remove_dir_if_empty` removed, in order.
    pub rmdirs: Vec<String>,
    /// Every path `put_if_absent` wrote, in order (not those it found
    /// taken): the order snapshots were published in.
    pub puts: Vec<String>,
    /// Files carry versions, deleted atomically only if unchanged by
    /// `delete_files_if` (see the module docs). Off: no versions.
    pub versions: bool,
}

impl MemoryFs {
    /// Makes `dir` and its ancestors directories.
    pub fn mkdirs(&mut self, dir: &str) {
        let mut d = dir;
        while d.len() > 1 && self.dirs.insert(d.to_owned()) {
            d = parent(d);
        }
    }

    /// Writes (or replaces) the file at `path`, making its directories.
    pub fn put(&mut self, path: &str, data: Vec<u8>, modified: Timestamp) {
        self.mkdirs(parent(path));
        self.files
            .insert(path.to_owned(), MemoryFile { data, modified });
    }

    /// Deletes file `l`, recording the call; a directory is refused.
    fn delete(&mut self, l: &Location) -> Result<(), Error> {
        self.deletes.push(l.path().to_owned());
        if self.is_dir(l.path()) {
            return Err(not_a_file(l, "is a directory, not a file (not deleted)"));
        }
        self.files.remove(l.path());
        Ok(())
    }

    /// Whether `path` is a directory: made, or holding anything.
    pub fn is_dir(&self, path: &str) -> bool {
        self.dirs.contains(path) || self.anything_under(path)
    }

    /// Whether any file or directory lies below `dir`.
    pub fn anything_under(&self, dir: &str) -> bool {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let first_file = self.files.range(prefix.clone()..).next();
        let first_dir = self.dirs.range(prefix.clone()..).next();
        first_file.is_some_and(|(k, _)| k.starts_with(&prefix))
            || first_dir.is_some_and(|k| k.starts_with(&prefix))
    }

    fn entry(&self, location: Location, path: &str) -> Option<Entry> {
        if let Some(f) = self.files.get(path) {
            return Some(Entry {
                location,
                size: f.data.len() as u64,
                modified: Some(f.modified),
                is_dir: false,
                special: false,
                version: self.version(path),
            });
        }
        self.is_dir(path).then_some(Entry {
            location,
            size: 0,
            modified: None,
            is_dir: true,
            special: false,
            version: None,
        })
    }

    /// The version of the file at `path`, when [`MemoryFs::versions`] is on.
    pub fn version(&self, path: &str) -> Option<String> {
        let f = self.files.get(path).filter(|_| self.versions)?;
        let time = f.modified.as_nanosecond().to_string();
        Some(format!(
            "{:016x}",
            scramble(&format!("{time}:{}", super::md5_hex(&f.data)))
        ))
    }

    /// What `LocalStorage::list` returns: direct children (files and
    /// directories), or every file below (no directories); a missing
    /// directory or a file lists as empty.
    fn list(&self, dir: &Location, recursive: bool) -> Vec<Entry> {
        let prefix = format!("{}/", dir.path().trim_end_matches('/'));
        let under = |k: &&String| k.starts_with(&prefix);
        let files = self.files.range(prefix.clone()..).map(|(k, _)| k);
        let dirs = self.dirs.range(prefix.clone()..);
        let names: BTreeSet<&str> = if recursive {
            files
                .take_while(under)
                .map(|k| &k[prefix.len()..])
                .collect()
        } else {
            files
                .take_while(under)
                .chain(dirs.take_while(under))
                .map(|k| {
                    let rel = &k[prefix.len()..];
                    rel.split('/').next().unwrap_or(rel)
                })
                .collect()
        };
        let mut out: Vec<Entry> = names
            .iter()
            .filter_map(|rel| self.entry(dir.join(rel), &format!("{prefix}{rel}")))
            .collect();
        match self.order {
            ListOrder::Sorted => {}
            ListOrder::Reversed => out.reverse(),
            ListOrder::Scrambled => out.sort_by_key(|e| scramble(e.location.path())),
        }
        out
    }
}

/// An in-memory file system as a [`Storage`] (see the module docs).
#[derive(Debug, Default)]
pub struct MemoryStorage {
    fs: Arc<Mutex<MemoryFs>>,
}

impl MemoryStorage {
    /// An empty file system.
    pub fn new() -> Self {
        Self::default()
    }

    /// The file system, to build trees in and to inspect.
    pub fn lock(&self) -> MutexGuard<'_, MemoryFs> {
        self.fs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes (or replaces) the file at `location`, modified now.
    pub fn put(&self, location: &Location, data: impl Into<Vec<u8>>) {
        self.lock()
            .put(location.path(), data.into(), Timestamp::now());
    }

    /// Makes `location` and its ancestors directories.
    pub fn mkdirs(&self, location: &Location) {
        self.lock().mkdirs(location.path());
    }
}

fn parent(path: &str) -> &str {
    &path[..path.rfind('/').unwrap_or(0)]
}

/// FNV-1a of `s`: a fixed shuffle.
fn scramble(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn not_a_file(location: &Location, what: &str) -> Error {
    Error::Io {
        location: location.to_string(),
        source: std::io::Error::other(what.to_owned()),
    }
}

fn not_found(location: &Location) -> Error {
    Error::NotFound {
        location: location.to_string(),
    }
}

impl Storage for MemoryStorage {
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
            None => Err(not_found(location)),
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
                let size = f.data.len();
                let start = usize::try_from(offset).unwrap_or(usize::MAX).min(size);
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                let end = start.saturating_add(len).min(size);
                Ok(f.data[start..end].to_vec())
            }
            None => Err(not_found(location)),
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
        let out = files.iter().map(|l| fs.delete(l)).collect();
        Box::pin(std::future::ready(out))
    }

    /// Atomic when [`MemoryFs::versions`] is on (compared and deleted under
    /// the lock); otherwise the trait's stat, compare, delete.
    fn delete_files_if<'a>(
        &'a self,
        files: &'a [(Location, Option<String>)],
    ) -> BoxFuture<'a, Vec<Result<(), Error>>> {
        if !self.lock().versions {
            return Box::pin(super::conditional::stat_then_delete(
                self,
                files,
                super::conditional::FALLBACK_STATS,
            ));
        }
        let mut fs = self.lock();
        let out = files
            .iter()
            .map(|(l, want)| {
                let now = fs.version(l.path());
                if let (Some(want), Some(now)) = (want, &now)
                    && !super::conditional::same_version(want, now)
                {
                    return Err(Error::Changed {
                        location: l.to_string(),
                    });
                }
                fs.delete(l)
            })
            .collect();
        Box::pin(std::future::ready(out))
    }

    fn remove_dir_if_empty<'a>(&'a self, dir: &'a Location) -> BoxFuture<'a, Result<bool, Error>> {
        let mut fs = self.lock();
        let p = dir.path();
        let r = if fs.files.contains_key(p) {
            Err(not_a_file(dir, "not a directory (not removed)"))
        } else if !fs.dirs.contains(p) || fs.anything_under(p) {
            Ok(false)
        } else {
            fs.dirs.remove(p);
            fs.rmdirs.push(p.to_owned());
            Ok(true)
        };
        Box::pin(std::future::ready(r))
    }

    fn create<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Box<dyn Upload>, Error>> {
        let r = if self.lock().is_dir(location.path()) {
            Err(not_a_file(location, "is a directory"))
        } else {
            Ok(Box::new(MemoryUpload {
                fs: self.fs.clone(),
                path: location.path().to_owned(),
                data: Vec::new(),
            }) as Box<dyn Upload>)
        };
        Box::pin(std::future::ready(r))
    }

    fn put_if_absent<'a>(
        &'a self,
        location: &'a Location,
        bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let mut fs = self.lock();
        let r = if fs.files.contains_key(location.path()) || fs.is_dir(location.path()) {
            Ok(false)
        } else {
            fs.put(location.path(), bytes, Timestamp::now());
            fs.puts.push(location.path().to_owned());
            Ok(true)
        };
        Box::pin(std::future::ready(r))
    }

    /// Like a store with a server-side copy: only when `from` is in this
    /// file system.
    fn copy_within<'a>(
        &'a self,
        from: &'a Location,
        to: &'a Location,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let mut fs = self.lock();
        let r = match fs.files.get(from.path()).map(|f| f.data.clone()) {
            Some(data) => {
                fs.put(to.path(), data, Timestamp::now());
                true
            }
            None => false,
        };
        Box::pin(std::future::ready(Ok(r)))
    }

    /// Like a store that keeps `Content-MD5`.
    fn content_md5<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Option<String>, Error>> {
        let r = self
            .lock()
            .files
            .get(location.path())
            .map(|f| super::md5_hex(&f.data));
        Box::pin(std::future::ready(Ok(r)))
    }
}

/// A file being written to a [`MemoryStorage`]: appears at `finish`.
#[derive(Debug)]
struct MemoryUpload {
    fs: Arc<Mutex<MemoryFs>>,
    path: String,
    data: Vec<u8>,
}

impl Upload for MemoryUpload {
    fn write(&mut self, chunk: Vec<u8>) -> BoxFuture<'_, Result<(), Error>> {
        self.data.extend_from_slice(&chunk);
        Box::pin(std::future::ready(Ok(())))
    }

    fn finish(self: Box<Self>) -> BoxFuture<'static, Result<(), Error>> {
        let mut fs = self.fs.lock().unwrap_or_else(|e| e.into_inner());
        fs.put(&self.path, self.data, Timestamp::now());
        Box::pin(std::future::ready(Ok(())))
    }

    fn abort(self: Box<Self>) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(std::future::ready(Ok(())))
    }
}
