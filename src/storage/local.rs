//! Local file system (`/path`, `file:/path`, `file:///path`). Blocking file
//! calls run on tokio's blocking pool so many can be in flight at once;
//! deletions go [`DELETE_CHUNK`] files per blocking task, [`DELETE_TASKS`]
//! tasks at a time.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use futures_util::StreamExt;

use super::{BoxFuture, BoxStream, Entry, Error, Location, Scheme, Storage};

/// Files deleted by one blocking task.
const DELETE_CHUNK: usize = 64;
/// Blocking delete tasks in flight at once.
const DELETE_TASKS: usize = 8;

/// Reads local files.
#[derive(Debug, Default, Clone, Copy)]
pub struct LocalStorage;

impl LocalStorage {
    /// The local path of `location`, or an `Unsupported` error for other schemes.
    pub fn path(location: &Location) -> Result<PathBuf, Error> {
        match location.scheme() {
            Scheme::Local => Ok(PathBuf::from(location.path())),
            _ => Err(Error::Unsupported {
                location: location.to_string(),
                reason: "not a local path".to_owned(),
            }),
        }
    }
}

/// "No such file", including a path through a regular file (`file/x`).
fn is_not_found(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

fn io(location: &Location, e: std::io::Error) -> Error {
    if is_not_found(&e) {
        Error::NotFound {
            location: location.to_string(),
        }
    } else {
        Error::Io {
            location: location.to_string(),
            source: e,
        }
    }
}

fn entry(location: Location, md: &std::fs::Metadata) -> Entry {
    Entry {
        location,
        size: if md.is_dir() { 0 } else { md.len() },
        modified: md
            .modified()
            .ok()
            .and_then(|t| jiff::Timestamp::try_from(t).ok()),
        is_dir: md.is_dir(),
    }
}

async fn blocking<T: Send + 'static>(
    location: &Location,
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Io {
            location: location.to_string(),
            source: std::io::Error::other(e.to_string()),
        })?
}

impl Storage for LocalStorage {
    fn name(&self) -> &'static str {
        "local"
    }

    fn stat<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Option<Entry>, Error>> {
        Box::pin(async move {
            let path = Self::path(location)?;
            let loc = location.clone();
            blocking(location, move || match std::fs::metadata(&path) {
                Ok(md) => Ok(Some(entry(loc, &md))),
                Err(e) if is_not_found(&e) => Ok(None),
                Err(e) => Err(io(&loc, e)),
            })
            .await
        })
    }

    fn read<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move {
            let path = Self::path(location)?;
            let loc = location.clone();
            blocking(location, move || {
                std::fs::read(&path).map_err(|e| io(&loc, e))
            })
            .await
        })
    }

    fn read_range<'a>(
        &'a self,
        location: &'a Location,
        offset: u64,
        len: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move {
            let path = Self::path(location)?;
            let loc = location.clone();
            blocking(location, move || {
                let mut f = std::fs::File::open(&path).map_err(|e| io(&loc, e))?;
                f.seek(SeekFrom::Start(offset)).map_err(|e| io(&loc, e))?;
                let mut buf = Vec::new();
                f.take(len).read_to_end(&mut buf).map_err(|e| io(&loc, e))?;
                Ok(buf)
            })
            .await
        })
    }

    fn list<'a>(
        &'a self,
        dir: &'a Location,
        recursive: bool,
    ) -> BoxStream<'a, Result<Entry, Error>> {
        let path = match Self::path(dir) {
            Ok(p) => p,
            Err(e) => return Box::pin(futures_util::stream::once(async move { Err(e) })),
        };
        let (tx, rx) = tokio::sync::mpsc::channel(4096);
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || walk(&path, &dir, recursive, &tx));
        super::channel_stream(rx)
    }

    fn delete_files<'a>(&'a self, files: &'a [Location]) -> BoxFuture<'a, Vec<Result<(), Error>>> {
        Box::pin(async move {
            // Futures made up front: a closure in the stream would not be
            // general enough over lifetimes for a `Send` future.
            let tasks: Vec<_> = files.chunks(DELETE_CHUNK).map(delete_chunk).collect();
            let done: Vec<Vec<Result<(), Error>>> = futures_util::stream::iter(tasks)
                .buffered(DELETE_TASKS)
                .collect()
                .await;
            done.into_iter().flatten().collect()
        })
    }

    fn remove_dir_if_empty<'a>(&'a self, dir: &'a Location) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let path = Self::path(dir)?;
            let loc = dir.clone();
            blocking(dir, move || remove_empty_dir(&path, &loc)).await
        })
    }
}

/// Deletes `chunk` in one blocking task.
async fn delete_chunk(chunk: &[Location]) -> Vec<Result<(), Error>> {
    let owned = chunk.to_vec();
    match tokio::task::spawn_blocking(move || owned.iter().map(delete_file).collect()).await {
        Ok(results) => results,
        Err(e) => chunk
            .iter()
            .map(|l| {
                Err(Error::Io {
                    location: l.to_string(),
                    source: std::io::Error::other(e.to_string()),
                })
            })
            .collect(),
    }
}

fn is_a_directory(location: &Location) -> Error {
    Error::Io {
        location: location.to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a directory, not a file (not deleted)",
        ),
    }
}

/// Deletes one file; a missing file is fine, a directory (or a symlink to
/// one, which `list` reports as a directory) is an error.
fn delete_file(location: &Location) -> Result<(), Error> {
    let path = LocalStorage::path(location)?;
    if std::fs::metadata(&path).is_ok_and(|md| md.is_dir()) {
        return Err(is_a_directory(location));
    }
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        // Replaced by a directory since the check above.
        Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => Err(is_a_directory(location)),
        Err(e) => Err(io(location, e)),
    }
}

/// `rmdir`: true if removed, false if not empty or missing; a file is an error.
fn remove_empty_dir(path: &Path, location: &Location) -> Result<bool, Error> {
    match std::fs::symlink_metadata(path) {
        Ok(md) if md.is_dir() => {}
        Ok(_) => {
            return Err(Error::Io {
                location: location.to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotADirectory,
                    "not a directory (not removed)",
                ),
            });
        }
        Err(e) if is_not_found(&e) => return Ok(false),
        Err(e) => return Err(io(location, e)),
    }
    match std::fs::remove_dir(path) {
        Ok(()) => Ok(true),
        // ENOTEMPTY; some systems say EEXIST.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::DirectoryNotEmpty | std::io::ErrorKind::AlreadyExists
            ) =>
        {
            Ok(false)
        }
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(io(location, e)),
    }
}

type Tx = tokio::sync::mpsc::Sender<Result<Entry, Error>>;

/// Depth-first walk with an explicit stack (no recursion on deep trees).
/// Stops when the receiver is dropped.
fn walk(root: &Path, root_loc: &Location, recursive: bool, tx: &Tx) {
    let mut stack = vec![(root.to_path_buf(), root_loc.clone())];
    while let Some((path, loc)) = stack.pop() {
        let rd = match std::fs::read_dir(&path) {
            Ok(rd) => rd,
            Err(e) if is_not_found(&e) && loc == *root_loc => return,
            // A subdirectory deleted during the walk (Flink subsuming a
            // checkpoint): it is gone, skip it.
            Err(e) if is_not_found(&e) => continue,
            Err(e) => {
                let _ = tx.blocking_send(Err(io(&loc, e)));
                return;
            }
        };
        for de in rd {
            let de = match de {
                Ok(de) => de,
                Err(e) => {
                    let _ = tx.blocking_send(Err(io(&loc, e)));
                    return;
                }
            };
            let name = de.file_name();
            let Some(name) = name.to_str() else {
                let _ = tx.blocking_send(Err(Error::Unsupported {
                    location: format!("{}/{}", loc, name.to_string_lossy()),
                    reason: "file name is not UTF-8".to_owned(),
                }));
                return;
            };
            let child = loc.join(name);
            let child_path = de.path();
            // Follows symlinks, as Flink's local file system does.
            let md = match std::fs::metadata(&child_path) {
                Ok(md) => md,
                // Deleted between listing and stat: it is gone, skip it.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    let _ = tx.blocking_send(Err(io(&child, e)));
                    return;
                }
            };
            if md.is_dir() && recursive {
                stack.push((child_path, child));
                continue;
            }
            if tx.blocking_send(Ok(entry(child, &md))).is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn lists_stats_and_reads_ranges() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("a/b")).unwrap();
        std::fs::write(d.path().join("a/b/f"), b"0123456789").unwrap();
        std::fs::write(d.path().join("g"), b"xy").unwrap();
        let root = Location::parse(d.path().to_str().unwrap()).unwrap();
        rt().block_on(async {
            let s = LocalStorage;
            let mut flat: Vec<_> = s
                .list(&root, false)
                .map(|e| e.unwrap())
                .map(|e| (e.location.file_name().to_owned(), e.is_dir, e.size))
                .collect()
                .await;
            flat.sort();
            assert_eq!(flat, [("a".into(), true, 0), ("g".into(), false, 2)]);
            let mut deep: Vec<_> = s
                .list(&root, true)
                .map(|e| e.unwrap().location.relative_to(&root).unwrap().to_owned())
                .collect()
                .await;
            deep.sort();
            assert_eq!(deep, ["a/b/f", "g"]);
            let f = root.join("a/b/f");
            assert_eq!(s.read_range(&f, 3, 4).await.unwrap(), b"3456");
            assert_eq!(s.read_range(&f, 8, 100).await.unwrap(), b"89");
            assert_eq!(s.stat(&f).await.unwrap().unwrap().size, 10);
            assert!(s.stat(&root.join("nope")).await.unwrap().is_none());
            assert!(s.read(&root.join("nope")).await.unwrap_err().is_not_found());
            assert_eq!(s.list(&root.join("nope"), true).count().await, 0);
        });
    }

    /// Every file below `root`, relative and sorted, with `/` after directories.
    fn tree(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for de in std::fs::read_dir(&dir).unwrap() {
                let p = de.unwrap().path();
                let rel = p.strip_prefix(root).unwrap().to_str().unwrap().to_owned();
                if p.is_dir() {
                    out.push(format!("{rel}/"));
                    stack.push(p);
                } else {
                    out.push(rel);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn deletes_files_but_never_directories() {
        let d = tempfile::tempdir().unwrap();
        for f in ["a/1", "a/2", "a/sub/3", "b/4", "5"] {
            let p = d.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, f).unwrap();
        }
        std::fs::create_dir(d.path().join("empty")).unwrap();
        let root = Location::parse(d.path().to_str().unwrap()).unwrap();
        let files: Vec<Location> = ["a/1", "missing", "a/sub", "b/4", "empty", "5/x", "a/1"]
            .iter()
            .map(|f| root.join(f))
            .collect();
        let results = rt().block_on(LocalStorage.delete_files(&files));
        assert_eq!(results.len(), files.len());
        assert!(results[0].is_ok(), "{:?}", results[0]);
        assert!(results[1].is_ok(), "missing file: {:?}", results[1]);
        for i in [2, 4] {
            let e = results[i].as_ref().unwrap_err();
            assert!(e.to_string().contains("is a directory"), "{e}");
            assert!(e.to_string().starts_with(&files[i].to_string()), "{e}");
        }
        assert!(results[3].is_ok() && results[5].is_ok(), "{results:?}");
        assert!(results[6].is_ok(), "a repeated file: {:?}", results[6]);
        assert_eq!(
            tree(d.path()),
            ["5", "a/", "a/2", "a/sub/", "a/sub/3", "b/", "empty/"]
        );

        // A symlink to a directory is listed as a directory: not deleted.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.path().join("a"), d.path().join("link")).unwrap();
            let r = rt().block_on(LocalStorage.delete_files(&[root.join("link")]));
            assert!(
                r[0].as_ref()
                    .unwrap_err()
                    .to_string()
                    .contains("is a directory")
            );
            assert!(d.path().join("link").exists());
            std::fs::remove_file(d.path().join("link")).unwrap();
        }

        // Not a local location: an error for that file only.
        let s3 = Location::parse("s3://bucket/a/2").unwrap();
        let results = rt().block_on(LocalStorage.delete_files(&[s3, root.join("a/2")]));
        assert!(
            matches!(results[0], Err(Error::Unsupported { .. })),
            "{results:?}"
        );
        assert!(results[1].is_ok());
        assert!(!d.path().join("a/2").exists());
    }

    #[test]
    fn deletes_many_files_in_order() {
        // More files than one blocking task takes, one of them a directory.
        let d = tempfile::tempdir().unwrap();
        let root = Location::parse(d.path().to_str().unwrap()).unwrap();
        let n = DELETE_CHUNK * DELETE_TASKS + 7;
        let mut files = Vec::new();
        for i in 0..n {
            std::fs::write(d.path().join(format!("f{i}")), b"x").unwrap();
            files.push(root.join(&format!("f{i}")));
        }
        std::fs::create_dir(d.path().join("dir")).unwrap();
        files.insert(100, root.join("dir"));
        let results = rt().block_on(LocalStorage.delete_files(&files));
        assert_eq!(results.len(), n + 1);
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r.is_err(), i == 100, "{i}: {r:?}");
        }
        assert_eq!(tree(d.path()), ["dir/"]);
        assert!(rt().block_on(LocalStorage.delete_files(&[])).is_empty());
    }

    #[test]
    fn removes_only_empty_directories() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("full/inner")).unwrap();
        std::fs::create_dir_all(d.path().join("empty")).unwrap();
        std::fs::write(d.path().join("file"), b"x").unwrap();
        let root = Location::parse(d.path().to_str().unwrap()).unwrap();
        rt().block_on(async {
            let s = LocalStorage;
            assert!(s.remove_dir_if_empty(&root.join("empty")).await.unwrap());
            assert!(!s.remove_dir_if_empty(&root.join("empty")).await.unwrap());
            assert!(!s.remove_dir_if_empty(&root.join("full")).await.unwrap());
            assert!(
                !s.remove_dir_if_empty(&root.join("nope/deeper"))
                    .await
                    .unwrap()
            );
            assert!(!s.remove_dir_if_empty(&root.join("file/x")).await.unwrap());
            let e = s.remove_dir_if_empty(&root.join("file")).await.unwrap_err();
            assert!(e.to_string().contains("not a directory"), "{e}");
            // Bottom-up, as a cleanup would go.
            assert!(
                s.remove_dir_if_empty(&root.join("full/inner"))
                    .await
                    .unwrap()
            );
            assert!(s.remove_dir_if_empty(&root.join("full")).await.unwrap());
        });
        assert_eq!(tree(d.path()), ["file"]);
    }
}
