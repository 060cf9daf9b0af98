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
    let special = !md.is_dir() && !md.is_file();
    Entry {
        location,
        size: if md.is_file() { md.len() } else { 0 },
        modified: md
            .modified()
            .ok()
            .and_then(|t| jiff::Timestamp::try_from(t).ok()),
        is_dir: md.is_dir(),
        special,
        version: None,
    }
}

/// What a non-regular file is, for messages.
fn file_kind(md: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let t = md.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    if md.is_symlink() {
        return "a symbolic link";
    }
    if md.is_dir() {
        return "a directory";
    }
    "not a regular file"
}

/// Opens the local regular file `location` for reading in place (a
/// Parquet inventory's footer and column chunks): anything else is refused,
/// as for [`Storage::read`].
pub fn open_file(location: &Location) -> Result<std::fs::File, Error> {
    open_regular(&LocalStorage::path(location)?, location)
}

/// Opens `path` for reading if it is a regular file (after following
/// symbolic links): a FIFO would block forever and a device never ends.
fn open_regular(path: &Path, location: &Location) -> Result<std::fs::File, Error> {
    let md = std::fs::metadata(path).map_err(|e| io(location, e))?;
    if !md.is_file() {
        return Err(Error::Unsupported {
            location: location.to_string(),
            reason: format!("{}, not a regular file: not read", file_kind(&md)),
        });
    }
    std::fs::File::open(path).map_err(|e| io(location, e))
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
                let mut f = open_regular(&path, &loc)?;
                let mut buf = Vec::new();
                f.read_to_end(&mut buf).map_err(|e| io(&loc, e))?;
                Ok(buf)
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
                let mut f = open_regular(&path, &loc)?;
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
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || {
            let mut tx = Tx {
                tx,
                batch: Vec::with_capacity(super::LIST_BATCH),
            };
            walk(&path, &dir, recursive, &mut tx);
            // The receiver may be gone: nothing more to say then.
            let _ = tx.flush();
        });
        super::batch_stream(rx)
    }

    /// A blocking task lists a batch of directories: a thread handoff per
    /// small directory costs more than listing it.
    fn list_each<'a>(
        &'a self,
        dirs: Vec<Location>,
        concurrency: usize,
        sized: Option<&'static [&'static str]>,
    ) -> BoxStream<'a, Result<(Location, Vec<Entry>), Error>> {
        const DIRS_PER_TASK: usize = 128;
        let mut batches = Vec::new();
        let mut dirs = dirs.into_iter().peekable();
        while dirs.peek().is_some() {
            batches.push(dirs.by_ref().take(DIRS_PER_TASK).collect::<Vec<_>>());
        }
        Box::pin(
            futures_util::stream::iter(batches)
                .map(move |batch| async move {
                    let first = batch[0].to_string();
                    tokio::task::spawn_blocking(move || list_batch(batch, sized))
                        .await
                        .unwrap_or_else(|e| {
                            vec![Err(Error::Io {
                                location: first,
                                source: std::io::Error::other(e.to_string()),
                            })]
                        })
                })
                .buffer_unordered(concurrency.clamp(1, walkers()))
                .flat_map(futures_util::stream::iter),
        )
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

    fn real_location<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Option<Location>, Error>> {
        Box::pin(async move {
            let path = Self::path(location)?;
            let loc = location.clone();
            blocking(location, move || match std::fs::canonicalize(&path) {
                Ok(p) => match p.to_str() {
                    Some(s) => Location::parse(s).map(Some),
                    None => Err(Error::Unsupported {
                        location: loc.to_string(),
                        reason: "resolved path is not UTF-8".to_owned(),
                    }),
                },
                Err(e) if is_not_found(&e) => Ok(None),
                Err(e) => Err(io(&loc, e)),
            })
            .await
        })
    }

    fn read_stream<'a>(
        &'a self,
        location: &'a Location,
        chunk: usize,
    ) -> BoxStream<'a, Result<Vec<u8>, Error>> {
        let path = match Self::path(location) {
            Ok(p) => p,
            Err(e) => return Box::pin(futures_util::stream::once(async move { Err(e) })),
        };
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let loc = location.clone();
        tokio::task::spawn_blocking(move || {
            let mut f = match open_regular(&path, &loc) {
                Ok(f) => f,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            };
            loop {
                let mut buf = Vec::with_capacity(chunk.max(1));
                match (&mut f).take(chunk.max(1) as u64).read_to_end(&mut buf) {
                    Ok(0) => return,
                    Ok(_) => {
                        if tx.blocking_send(Ok(buf)).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.blocking_send(Err(io(&loc, e)));
                        return;
                    }
                }
            }
        });
        Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|i| (i, rx))
        }))
    }

    fn create<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Box<dyn super::Upload>, Error>> {
        Box::pin(async move {
            let path = Self::path(location)?;
            let loc = location.clone();
            let up = blocking(location, move || LocalUpload::start(path, loc)).await?;
            Ok(Box::new(up) as Box<dyn super::Upload>)
        })
    }

    fn put_if_absent<'a>(
        &'a self,
        location: &'a Location,
        bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let path = Self::path(location)?;
            let loc = location.clone();
            blocking(location, move || put_if_absent(&path, &loc, &bytes)).await
        })
    }
}

/// The temporary name a file is written under before it is renamed into
/// place: hidden, in the same directory (so the rename stays on one file
/// system), the same for every run so that a resumed copy reuses it.
fn part_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{}.flink-chk.part", name.unwrap_or_default()))
}

/// Makes the directories above `path`.
fn make_parent(path: &Path, location: &Location) -> Result<(), Error> {
    match path.parent() {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|e| io(location, e)),
        None => Ok(()),
    }
}

/// Flushes a directory's entries (a rename or link into it) to disk.
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
}

/// `bytes` at `path` unless something is there: written and synced under a
/// temporary name, then hard-linked to `path` (which fails if `path` exists,
/// atomically), then the temporary name removed.
fn put_if_absent(path: &Path, location: &Location, bytes: &[u8]) -> Result<bool, Error> {
    use std::io::Write as _;
    make_parent(path, location)?;
    if std::fs::symlink_metadata(path).is_ok() {
        return Ok(false);
    }
    let tmp = path.with_file_name(format!(
        ".{}.flink-chk-{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(location, e));
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_dir(path);
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io(location, e)),
    }
}

/// A local file being written under its [`part_path`].
#[derive(Debug)]
struct LocalUpload {
    file: Option<std::fs::File>,
    part: PathBuf,
    path: PathBuf,
    location: Location,
}

impl LocalUpload {
    fn start(path: PathBuf, location: Location) -> Result<Self, Error> {
        make_parent(&path, &location)?;
        let part = part_path(&path);
        let file = std::fs::File::create(&part).map_err(|e| io(&location, e))?;
        Ok(Self {
            file: Some(file),
            part,
            path,
            location,
        })
    }
}

impl super::Upload for LocalUpload {
    fn write(&mut self, chunk: Vec<u8>) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            use std::io::Write as _;
            let mut f = self.file.take().ok_or_else(|| Error::Io {
                location: self.location.to_string(),
                source: std::io::Error::other("an earlier write failed"),
            })?;
            let loc = self.location.clone();
            let f = blocking(&self.location, move || {
                f.write_all(&chunk).map_err(|e| io(&loc, e))?;
                Ok(f)
            })
            .await?;
            self.file = Some(f);
            Ok(())
        })
    }

    fn finish(self: Box<Self>) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(async move {
            let Self {
                file,
                part,
                path,
                location,
            } = *self;
            let loc = location.clone();
            blocking(&location, move || {
                let f = file.ok_or_else(|| Error::Io {
                    location: loc.to_string(),
                    source: std::io::Error::other("an earlier write failed"),
                })?;
                f.sync_all().map_err(|e| io(&loc, e))?;
                drop(f);
                std::fs::rename(&part, &path).map_err(|e| io(&loc, e))?;
                sync_dir(&path);
                Ok(())
            })
            .await
        })
    }

    fn abort(self: Box<Self>) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(async move {
            drop(self.file);
            match std::fs::remove_file(&self.part) {
                Ok(()) => Ok(()),
                Err(e) if is_not_found(&e) => Ok(()),
                Err(e) => Err(io(&self.location, e)),
            }
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

/// Deletes one regular file; a missing file is fine, a directory, a
/// symbolic link or any other special file is an error (never deleted).
fn delete_file(location: &Location) -> Result<(), Error> {
    let path = LocalStorage::path(location)?;
    match std::fs::symlink_metadata(&path) {
        Ok(md) if md.is_dir() => return Err(is_a_directory(location)),
        Ok(md) if !md.is_file() => {
            return Err(Error::Io {
                location: location.to_string(),
                source: std::io::Error::other(format!(
                    "{}, not a regular file (not deleted)",
                    file_kind(&md)
                )),
            });
        }
        _ => {}
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

/// The walk's end of the listing channel: entries go in batches.
struct Tx {
    tx: tokio::sync::mpsc::Sender<Vec<Result<Entry, Error>>>,
    batch: Vec<Result<Entry, Error>>,
}

impl Tx {
    /// Queues an entry (sent when the batch is full); `Err` once the
    /// receiver is gone.
    fn blocking_send(&mut self, item: Result<Entry, Error>) -> Result<(), ()> {
        self.batch.push(item);
        if self.batch.len() >= super::LIST_BATCH {
            return self.flush();
        }
        Ok(())
    }

    /// Sends what is queued.
    fn flush(&mut self) -> Result<(), ()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(super::LIST_BATCH));
        self.tx.blocking_send(batch).map_err(|_| ())
    }
}

/// What a walk sends: an entry, or an error after which nothing follows.
type Item = Result<Entry, Error>;

/// The receiver is gone: stop walking.
struct Stop;

/// How a directory's listing went.
enum Listed {
    /// Its subdirectories, in name order (its other entries were sent).
    Subdirs(Vec<(PathBuf, Location)>),
    /// It is gone (deleted during the walk): nothing to do.
    Gone,
}

/// Lists one directory in byte order of its names, sending every entry
/// but its subdirectories (returned, to walk next, when `recursive`).
/// Never follows a symbolic link: a link is a special entry. An error is
/// sent, then the walk stops.
fn list_sorted(
    path: &Path,
    loc: &Location,
    recursive: bool,
    sized: Option<&[&str]>,
    send: &mut impl FnMut(Item) -> Result<(), Stop>,
) -> Result<Listed, Stop> {
    let rd = match std::fs::read_dir(path) {
        Ok(rd) => rd,
        // A directory deleted during the walk (Flink subsuming a
        // checkpoint): it is gone, skip it.
        Err(e) if is_not_found(&e) => return Ok(Listed::Gone),
        Err(e) => {
            send(Err(io(loc, e)))?;
            return Err(Stop);
        }
    };
    let mut names = Vec::new();
    for de in rd {
        match de {
            Ok(de) => names.push((de.file_name(), de)),
            Err(e) => {
                send(Err(io(loc, e)))?;
                return Err(Stop);
            }
        }
    }
    names.sort_unstable_by(|a, b| a.0.as_encoded_bytes().cmp(b.0.as_encoded_bytes()));
    let mut subdirs = Vec::new();
    for (name, de) in names {
        let Some(name) = name.to_str() else {
            // A name no location can spell: an unknown entry (kept, never
            // read, descended into or deleted), shown lossily.
            let lossy = name.to_string_lossy();
            let md = de.metadata().ok();
            send(Ok(Entry {
                location: loc.join(&lossy),
                size: 0,
                modified: md
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| jiff::Timestamp::try_from(t).ok()),
                is_dir: false,
                special: true,
                version: None,
            }))?;
            continue;
        };
        let child = loc.join(name);
        if sized.is_some_and(|names| !names.contains(&name)) && !recursive {
            // Its kind without a stat (the directory entry says it on
            // most file systems; std stats the entry itself otherwise).
            let t = match de.file_type() {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    send(Err(io(&child, e)))?;
                    return Err(Stop);
                }
            };
            send(Ok(Entry {
                location: child,
                size: 0,
                modified: None,
                is_dir: t.is_dir(),
                special: !t.is_dir() && !t.is_file(),
                version: None,
            }))?;
            continue;
        }
        // The entry itself, never what a symbolic link points to: a link is
        // reported as a special entry and not descended into.
        let md = match de.metadata() {
            Ok(md) => md,
            // Deleted between listing and stat: it is gone, skip it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                send(Err(io(&child, e)))?;
                return Err(Stop);
            }
        };
        if md.is_dir() && recursive {
            subdirs.push((de.path(), child));
            continue;
        }
        send(Ok(entry(child, &md)))?;
    }
    Ok(Listed::Subdirs(subdirs))
}

/// Lists each directory of `dirs`, not recursively, as [`walk`] lists one
/// (a missing directory lists as empty); stops at the first error.
fn list_batch(
    dirs: Vec<Location>,
    sized: Option<&[&str]>,
) -> Vec<Result<(Location, Vec<Entry>), Error>> {
    let mut out = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let path = match LocalStorage::path(&dir) {
            Ok(p) => p,
            Err(e) => {
                out.push(Err(e));
                break;
            }
        };
        let mut entries = Vec::new();
        let mut failed = None;
        let mut send = |item: Item| match item {
            Ok(e) => {
                entries.push(e);
                Ok(())
            }
            Err(e) => {
                failed = Some(e);
                Err(Stop)
            }
        };
        let _ = list_sorted(&path, &dir, false, sized, &mut send);
        if let Some(e) = failed {
            out.push(Err(e));
            break;
        }
        out.push(Ok((dir, entries)));
    }
    out
}

/// Depth-first walk below the directories `from` (explicit stack, no
/// recursion on deep trees), each directory's entries in name order and its
/// files before its subdirectories.
fn walk_below(
    from: Vec<(PathBuf, Location)>,
    send: &mut impl FnMut(Item) -> Result<(), Stop>,
) -> Result<(), Stop> {
    let mut stack = from;
    stack.reverse();
    while let Some((path, loc)) = stack.pop() {
        if let Listed::Subdirs(subdirs) = list_sorted(&path, &loc, true, None, send)? {
            // Popped smallest first.
            stack.extend(subdirs.into_iter().rev());
        }
    }
    Ok(())
}

/// Threads that walk the root's subdirectories at once: statting every file
/// is most of a listing's time, and it parallelises.
fn walkers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// Walks `root`, each directory's entries in byte order of their names (a
/// directory's files before its subdirectories), so a listing comes out
/// nearly in path order, as object stores list: the planner's sorts then
/// find it sorted. Never follows a symbolic link below `root` (a link is
/// listed as a special entry, so loops and links out of the tree are
/// harmless); `root` itself is read wherever it leads. Stops when the
/// receiver is dropped.
///
/// The root's subdirectories are walked by [`walkers`] threads, each taking
/// every n-th one, and their entries are passed on in order: the output is
/// the same as one thread's walk.
fn walk(root: &Path, root_loc: &Location, recursive: bool, tx: &mut Tx) {
    let mut send = |item: Item| tx.blocking_send(item).map_err(|()| Stop);
    let subdirs = match list_sorted(root, root_loc, recursive, None, &mut send) {
        Ok(Listed::Subdirs(s)) => s,
        // A root that is not there lists nothing.
        Ok(Listed::Gone) | Err(Stop) => return,
    };
    let n = walkers().min(subdirs.len());
    if n < 2 {
        let _ = walk_below(subdirs, &mut send);
        return;
    }
    /// A walker's message: entries of one subdirectory, and whether they
    /// are its last (most subdirectories take one message).
    enum Msg {
        Batch(Vec<Item>),
        Last(Vec<Item>),
    }
    let count = subdirs.len();
    let mut shares: Vec<Vec<(PathBuf, Location)>> = (0..n).map(|_| Vec::new()).collect();
    for (i, d) in subdirs.into_iter().enumerate() {
        shares[i % n].push(d);
    }
    std::thread::scope(|scope| {
        let mut rxs = Vec::with_capacity(n);
        for share in shares {
            // Room to run ahead of the others: a walker blocked on a full
            // channel, or the relay on an empty one, is a thread switch.
            let (wtx, wrx) = std::sync::mpsc::sync_channel::<Msg>(16);
            rxs.push(wrx);
            scope.spawn(move || {
                for d in share {
                    let mut batch = Vec::with_capacity(super::LIST_BATCH);
                    let mut send = |item: Item| {
                        batch.push(item);
                        if batch.len() >= super::LIST_BATCH {
                            let full = std::mem::replace(
                                &mut batch,
                                Vec::with_capacity(super::LIST_BATCH),
                            );
                            wtx.send(Msg::Batch(full)).map_err(|_| Stop)?;
                        }
                        Ok(())
                    };
                    let walked = walk_below(vec![d], &mut send);
                    // After an error nothing follows: not `Last`, so the
                    // relay finds this walker gone and stops there.
                    let msg = if walked.is_err() {
                        Msg::Batch(batch)
                    } else {
                        Msg::Last(batch)
                    };
                    if wtx.send(msg).is_err() || walked.is_err() {
                        return;
                    }
                }
            });
        }
        // Passed on in the subdirectories' order. Returning drops the
        // receivers, so every walker stops at its next send.
        for i in 0..count {
            loop {
                let (items, last) = match rxs[i % n].recv() {
                    Ok(Msg::Batch(items)) => (items, false),
                    Ok(Msg::Last(items)) => (items, true),
                    // The walker stopped after an error (passed on above).
                    Err(_) => return,
                };
                for item in items {
                    if send(item).is_err() {
                        return;
                    }
                }
                if last {
                    break;
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testutil::rt;

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

    #[test]
    fn lists_each_directory_whole_and_sizes_only_the_named_files() {
        let d = tempfile::tempdir().unwrap();
        let mut dirs = Vec::new();
        // More directories than one blocking task lists, and one missing.
        for i in 0..300 {
            let dir = d.path().join(format!("chk-{i}"));
            std::fs::create_dir_all(dir.join("sub")).unwrap();
            std::fs::write(dir.join("_metadata"), vec![7u8; i + 1]).unwrap();
            std::fs::write(dir.join("state"), b"0123456789").unwrap();
            std::os::unix::fs::symlink(dir.join("state"), dir.join("link")).unwrap();
            dirs.push(Location::parse(dir.to_str().unwrap()).unwrap());
        }
        let gone = Location::parse(d.path().join("gone").to_str().unwrap()).unwrap();
        dirs.push(gone.clone());
        let s = LocalStorage;
        type Row = (String, bool, bool, u64, bool);
        let listed = |sized| {
            let dirs = dirs.clone();
            rt().block_on(async {
                let mut out: Vec<(Location, Vec<Row>)> = s
                    .list_each(dirs, 4, sized)
                    .map(|r| {
                        let (dir, entries) = r.unwrap();
                        let mut rows: Vec<Row> = entries
                            .iter()
                            .map(|e| {
                                let name = e.location.file_name().to_owned();
                                (name, e.is_dir, e.special, e.size, e.modified.is_some())
                            })
                            .collect();
                        rows.sort();
                        (dir, rows)
                    })
                    .collect()
                    .await;
                out.sort_by(|a, b| a.0.cmp(&b.0));
                out
            })
        };
        let all = listed(None);
        let some = listed(Some(&["_metadata"]));
        assert_eq!(all.len(), 301);
        assert_eq!(some.len(), 301);
        for ((dir, all), (_, some)) in all.iter().zip(&some) {
            if *dir == gone {
                assert!(all.is_empty() && some.is_empty());
                continue;
            }
            let i: u64 = dir.file_name()["chk-".len()..].parse().unwrap();
            let row = |n: &str, is_dir, special, size, timed| {
                (n.to_owned(), is_dir, special, size, timed)
            };
            assert_eq!(
                *all,
                [
                    row("_metadata", false, false, i + 1, true),
                    row("link", false, true, 0, true),
                    row("state", false, false, 10, true),
                    row("sub", true, false, 0, true),
                ],
                "{dir}"
            );
            // Only `_metadata` is statted: the others keep their kind.
            assert_eq!(
                *some,
                [
                    row("_metadata", false, false, i + 1, true),
                    row("link", false, true, 0, false),
                    row("state", false, false, 0, false),
                    row("sub", true, false, 0, false),
                ],
                "{dir}"
            );
        }
    }

    #[test]
    fn a_deep_listing_is_in_name_order_whatever_the_walkers() {
        // More subdirectories than walkers, names around `/` in byte order
        // (`-` and `.` sort before it), files and subdirectories mixed, a
        // link to a directory in one walker's share.
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        for dir in ["b", "a-1", "a", "a.x", "c/d", "c/e", "f", "g/h/i"] {
            std::fs::create_dir_all(p.join(dir)).unwrap();
        }
        for f in [
            "z", "a/2", "a/10", "a/1", "a-1/x", "c/y", "c/d/q", "c/e/r", "f/s", "g/h/i/t", "m",
        ] {
            std::fs::write(p.join(f), b"x").unwrap();
        }
        std::os::unix::fs::symlink(p.join("c"), p.join("f/link")).unwrap();
        let root = Location::parse(p.to_str().unwrap()).unwrap();
        let got: Vec<String> = rt().block_on(async {
            LocalStorage
                .list(&root, true)
                .map(|e| {
                    let e = e.unwrap();
                    let rel = e.location.relative_to(&root).unwrap().to_owned();
                    if e.special { format!("{rel}@") } else { rel }
                })
                .collect()
                .await
        });
        // A directory's files (and links) first, then its subdirectories,
        // each level in byte order of the names.
        assert_eq!(
            got,
            [
                "m", "z", "a/1", "a/10", "a/2", "a-1/x", "c/y", "c/d/q", "c/e/r", "f/link@", "f/s",
                "g/h/i/t"
            ]
        );
        // A reader that stops early stops the walkers (the runtime then
        // shuts down instead of waiting for them).
        rt().block_on(async {
            let first: Vec<_> = LocalStorage.list(&root, true).take(3).collect().await;
            assert_eq!(first.len(), 3);
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

        // A symlink (to a directory or a file) is never deleted.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.path().join("a"), d.path().join("link")).unwrap();
            let r = rt().block_on(LocalStorage.delete_files(&[root.join("link")]));
            let e = r[0].as_ref().unwrap_err().to_string();
            assert!(e.contains("a symbolic link, not a regular file"), "{e}");
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

    /// Links are entries of their own, never followed: a loop or a link out
    /// of the tree lists once, as `special`. A FIFO is special too, and
    /// reading it is refused at once instead of blocking forever.
    #[cfg(unix)]
    #[test]
    fn never_follows_links_and_never_reads_special_files() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("victim"), b"x").unwrap();
        std::fs::create_dir_all(d.path().join("a")).unwrap();
        std::fs::write(d.path().join("a/f"), b"0123").unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join("a/out")).unwrap();
        std::os::unix::fs::symlink(d.path(), d.path().join("a/loop")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("victim"), d.path().join("a/file-link"))
            .unwrap();
        let fifo = d.path().join("a/_metadata");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        let root = Location::parse(d.path().to_str().unwrap()).unwrap();
        rt().block_on(async {
            let s = LocalStorage;
            let mut all: Vec<(String, bool, bool)> = s
                .list(&root, true)
                .map(|e| e.unwrap())
                .map(|e| {
                    let rel = e.location.relative_to(&root).unwrap().to_owned();
                    (rel, e.is_dir, e.special)
                })
                .collect()
                .await;
            all.sort();
            let mut want = vec![
                ("a/f".to_owned(), false, false),
                ("a/file-link".to_owned(), false, true),
                ("a/loop".to_owned(), false, true),
                ("a/out".to_owned(), false, true),
            ];
            if made {
                want.insert(0, ("a/_metadata".to_owned(), false, true));
            }
            assert_eq!(all, want);
            if made {
                let f = root.join("a/_metadata");
                let e = s.read(&f).await.unwrap_err().to_string();
                assert!(e.contains("a FIFO, not a regular file"), "{e}");
                let e = s.read_range(&f, 0, 8).await.unwrap_err().to_string();
                assert!(e.contains("FIFO"), "{e}");
                assert!(s.stat(&f).await.unwrap().unwrap().special);
                let r = s.delete_files(std::slice::from_ref(&f)).await;
                assert!(r[0].is_err(), "a FIFO is not deleted");
            }
            // Where a path really leads.
            let real = s.real_location(&root.join("a/out")).await.unwrap().unwrap();
            assert_eq!(
                real.path(),
                std::fs::canonicalize(outside.path())
                    .unwrap()
                    .to_str()
                    .unwrap()
            );
            assert!(s.real_location(&root.join("nope")).await.unwrap().is_none());
        });
        assert!(outside.path().join("victim").exists());
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
