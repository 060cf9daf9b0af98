//! Local file system (`/path`, `file:/path`, `file:///path`). Blocking file
//! calls run on tokio's blocking pool so many can be in flight at once.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::{BoxFuture, BoxStream, Entry, Error, Location, Scheme, Storage};

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
    use futures_util::StreamExt;

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
}
