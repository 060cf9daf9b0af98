//! Loading a snapshot from storage and resolving the locations its handles
//! name: absolute paths as written, relative savepoint paths against the
//! `_metadata` directory, optionally mapped by `--rebase` rules when a
//! snapshot was moved after Flink wrote it.

use super::refs::FileKind;
use crate::metadata::{self, CheckpointMetadata};
use crate::storage::{self, Location, Storage};

/// Errors loading a snapshot.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] storage::Error),
    /// A directory without `_metadata`.
    #[error(
        "{0}: no _metadata here (give a chk-N/ or savepoint-…/ directory, or the _metadata file)"
    )]
    NoMetadata(String),
    /// The metadata does not parse.
    #[error("{location}: {source}")]
    Parse {
        /// The `_metadata` file.
        location: String,
        /// The parse error (with byte offset).
        #[source]
        source: metadata::Error,
    },
    /// A `_metadata` that is a FIFO, device or socket: never read.
    #[error("{0}: not a regular file (a FIFO, device or socket); not read")]
    NotRegular(String),
    /// A `_metadata` over the size cap.
    #[error(
        "{location}: {size} bytes, over the {} MiB a _metadata may have; not read",
        MAX_METADATA_BYTES >> 20
    )]
    TooLarge {
        /// The file.
        location: String,
        /// Its size.
        size: u64,
    },
    /// A `--rebase` rule that is not `FROM=TO`.
    #[error("--rebase expects FROM=TO, got {0:?}")]
    BadRebase(String),
}

/// A snapshot read from storage.
#[derive(Debug)]
pub struct Snapshot {
    /// The `_metadata` file.
    pub metadata_location: Location,
    /// The directory holding it (relative handles resolve against it).
    pub dir: Location,
    /// Size of `_metadata` in bytes.
    pub metadata_size: u64,
    /// Modification time of `_metadata`, when known.
    pub modified: Option<jiff::Timestamp>,
    /// CRC32C (Castagnoli) of the `_metadata` bytes read: its fingerprint.
    pub metadata_crc32c: u32,
    /// The parsed metadata.
    pub metadata: CheckpointMetadata,
}

/// Where `_metadata` is for `location` (a directory or the file itself).
pub async fn find_metadata(
    storage: &dyn Storage,
    location: &Location,
) -> Result<storage::Entry, Error> {
    if location.file_name() != "_metadata" {
        let m = location.join("_metadata");
        if let Some(e) = storage.stat(&m).await? {
            return Ok(e);
        }
    }
    match storage.stat(location).await? {
        Some(e) if !e.is_dir => Ok(e),
        Some(_) => Err(Error::NoMetadata(location.to_string())),
        None => Err(storage::Error::NotFound {
            location: location.to_string(),
        }
        .into()),
    }
}

/// The largest `_metadata` read (1 GiB): a Flink JobManager holds the whole
/// file in memory, so real ones stay far below; a larger file is refused
/// before it is read.
pub const MAX_METADATA_BYTES: u64 = 1 << 30;

/// Reads and parses the snapshot at `location` (a directory or `_metadata`).
/// Only a regular file is read, its magic number is checked with a small
/// ranged read first, and files over [`MAX_METADATA_BYTES`] are refused.
pub async fn load(storage: &dyn Storage, location: &Location) -> Result<Snapshot, Error> {
    let (entry, bytes) = read(storage, location).await?;
    parse(entry, bytes)
}

/// The `_metadata` of the snapshot at `location` and its bytes, checked as
/// [`load`] checks them but not parsed: [`parse`] is the CPU half, which
/// callers reading many snapshots run on other threads.
pub async fn read(
    storage: &dyn Storage,
    location: &Location,
) -> Result<(storage::Entry, Vec<u8>), Error> {
    let entry = find_metadata(storage, location).await?;
    read_entry(storage, entry).await
}

/// `_metadata` files up to this size are read whole straight away; the
/// magic number of a larger one is checked first with a small ranged read.
const READ_WHOLE_UP_TO: u64 = 1 << 20;

/// As [`read`], for a `_metadata` whose entry a listing already gave (no
/// stat): the planner reads thousands of them.
pub async fn read_entry(
    storage: &dyn Storage,
    entry: storage::Entry,
) -> Result<(storage::Entry, Vec<u8>), Error> {
    if entry.special {
        return Err(Error::NotRegular(entry.location.to_string()));
    }
    if entry.size > MAX_METADATA_BYTES {
        return Err(Error::TooLarge {
            location: entry.location.to_string(),
            size: entry.size,
        });
    }
    if entry.size > READ_WHOLE_UP_TO {
        let head = storage.read_range(&entry.location, 0, 8).await?;
        if let Err(source) = metadata::parse_header(&head) {
            // A short file fails in the full parse with the right offset.
            if head.len() >= 8 {
                return Err(Error::Parse {
                    location: entry.location.to_string(),
                    source,
                });
            }
        }
    }
    let bytes = storage.read(&entry.location).await?;
    if bytes.len() as u64 > MAX_METADATA_BYTES {
        return Err(Error::TooLarge {
            location: entry.location.to_string(),
            size: bytes.len() as u64,
        });
    }
    Ok((entry, bytes))
}

/// Parses the bytes [`read`] returned for `entry`: no I/O.
pub fn parse(entry: storage::Entry, bytes: Vec<u8>) -> Result<Snapshot, Error> {
    let metadata = metadata::parse(&bytes).map_err(|source| Error::Parse {
        location: entry.location.to_string(),
        source,
    })?;
    let mut crc = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi);
    crc.update(&bytes);
    Ok(Snapshot {
        dir: entry.location.parent(),
        metadata_size: bytes.len() as u64,
        metadata_crc32c: crc.finalize() as u32,
        modified: entry.modified,
        metadata_location: entry.location,
        metadata,
    })
}

/// `--rebase FROM=TO` rules: locations under FROM are read under TO instead.
#[derive(Debug, Clone, Default)]
pub struct Rebase(Vec<(Location, Location)>);

impl Rebase {
    /// Parses `FROM=TO` rules.
    pub fn parse(specs: &[String]) -> Result<Self, Error> {
        specs
            .iter()
            .map(|s| match s.split_once('=') {
                Some((from, to)) if !from.is_empty() && !to.is_empty() => {
                    Ok((Location::parse(from)?, Location::parse(to)?))
                }
                _ => Err(Error::BadRebase(s.clone())),
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// These rules and then `from` → `to` (rules apply in order; the first
    /// whose FROM contains a location wins).
    pub fn with(&self, from: Location, to: Location) -> Self {
        let mut rules = self.0.clone();
        rules.push((from, to));
        Self(rules)
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `(FROM, TO)` rules, in order.
    pub fn rules(&self) -> &[(Location, Location)] {
        &self.0
    }

    /// Applies the first rule whose FROM contains `l`.
    pub fn apply(&self, l: Location) -> Location {
        for (from, to) in &self.0 {
            if let Some(rest) = l.relative_to(from) {
                return if rest.is_empty() {
                    to.clone()
                } else {
                    to.join(rest)
                };
            }
        }
        l
    }
}

/// Resolves handle paths of one snapshot to locations.
#[derive(Debug, Clone, Copy)]
pub struct Resolver<'a> {
    /// The `_metadata` directory.
    pub dir: &'a Location,
    /// Rebase rules.
    pub rebase: &'a Rebase,
}

impl Resolver<'_> {
    /// The location of a file reference, the way Flink resolves it
    /// (`new Path(exclusiveDir, relativePath)` for relative handles).
    pub fn resolve(&self, kind: FileKind, path: &str) -> Result<Location, storage::Error> {
        let l = match kind {
            FileKind::Relative => self.dir.join(path),
            FileKind::Absolute | FileKind::Segment => Location::parse(path)?,
        };
        Ok(self.rebase.apply(l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebase_maps_prefixes_only() {
        let r = Rebase::parse(&["file:/tmp/gen=s3://b/copy".to_owned()]).unwrap();
        let l = Location::parse("file:/tmp/gen/ck/j/shared/x").unwrap();
        assert_eq!(r.apply(l).to_string(), "s3://b/copy/ck/j/shared/x");
        let other = Location::parse("/tmp/generated/x").unwrap();
        assert_eq!(r.apply(other.clone()), other);
        assert!(Rebase::parse(&["nope".to_owned()]).is_err());
    }

    #[test]
    fn relative_handles_resolve_against_the_metadata_dir() {
        let dir = Location::parse("s3://b/sp/savepoint-1").unwrap();
        let rb = Rebase::default();
        let r = Resolver {
            dir: &dir,
            rebase: &rb,
        };
        assert_eq!(
            r.resolve(FileKind::Relative, "abc-uuid")
                .unwrap()
                .to_string(),
            "s3://b/sp/savepoint-1/abc-uuid"
        );
        assert_eq!(
            r.resolve(FileKind::Absolute, "file:/x/y")
                .unwrap()
                .canonical(),
            "/x/y"
        );
    }
}
