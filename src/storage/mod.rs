//! Storage access behind a small trait, so commands work the same on local
//! disk and (in later releases) object stores and HDFS.
//!
//! Locations are strings as Flink writes them: plain paths, `file:/…`,
//! `file:///…`, or URIs of other schemes. Only what a command needs is read:
//! [`Storage::read_range`] fetches a header without reading a whole state file.
#![warn(missing_docs)]

mod local;

pub use local::LocalStorage;

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
    /// A scheme this build cannot read.
    #[error(
        "{location}: the {scheme}:// scheme is not supported yet (local paths and file:// only)"
    )]
    Unsupported {
        /// The location.
        location: String,
        /// The scheme.
        scheme: String,
    },
}

/// Read access to checkpoint storage.
pub trait Storage: Send + Sync {
    /// A short name for messages (`local`, `s3`, …).
    fn name(&self) -> &'static str;

    /// Reads a whole object.
    fn read(&self, location: &str) -> Result<Vec<u8>, Error>;

    /// Reads up to `len` bytes starting at `offset` (fewer at the end of the object).
    fn read_range(&self, location: &str, offset: u64, len: u64) -> Result<Vec<u8>, Error>;
}

/// The scheme of a location (`file`, `s3`, …), or `None` for a plain path.
pub fn scheme(location: &str) -> Option<&str> {
    let (scheme, _) = location.split_once(':')?;
    let valid = scheme.len() > 1
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.');
    valid.then_some(scheme)
}
