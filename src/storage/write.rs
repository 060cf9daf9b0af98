//! Writing: an [`Upload`] receives a new file's bytes and makes the file
//! appear under its name only when it is finished, and helpers shared by the
//! backends' read streams.

use std::fmt;

use super::{BoxFuture, BoxStream, Error, Location, Storage};

/// A file being written (see [`Storage::create`]).
pub trait Upload: Send + fmt::Debug {
    /// Appends `chunk`.
    fn write(&mut self, chunk: Vec<u8>) -> BoxFuture<'_, Result<(), Error>>;

    /// Makes the file appear under its name with everything written so far.
    fn finish(self: Box<Self>) -> BoxFuture<'static, Result<(), Error>>;

    /// Drops what was written; nothing appears under the name.
    fn abort(self: Box<Self>) -> BoxFuture<'static, Result<(), Error>>;
}

/// The error of a backend that cannot write.
pub(super) fn cannot_write(backend: &str, location: &Location) -> Error {
    Error::Unsupported {
        location: location.to_string(),
        reason: format!("writing to {backend} storage is not supported"),
    }
}

/// Lower-case hex of an MD5 digest of `bytes`.
pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest as _;
    hex(&md5::Md5::digest(bytes))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A whole object as ranged reads of `chunk` bytes after one `stat`; ends
/// with an error if the object is shorter than `stat` said.
pub(super) fn ranged_stream<'a, S: Storage + ?Sized>(
    storage: &'a S,
    location: &'a Location,
    chunk: usize,
) -> BoxStream<'a, Result<Vec<u8>, Error>> {
    let chunk = chunk.max(1) as u64;
    Box::pin(futures_util::stream::unfold(
        (None::<u64>, 0u64, false),
        move |(size, offset, done)| async move {
            if done {
                return None;
            }
            let size = match size {
                Some(s) => s,
                None => match storage.stat(location).await {
                    Ok(Some(e)) if e.is_file() => e.size,
                    Ok(Some(_)) => {
                        return Some((
                            Err(Error::Unsupported {
                                location: location.to_string(),
                                reason: "not a regular file: not read".to_owned(),
                            }),
                            (None, 0, true),
                        ));
                    }
                    Ok(None) => {
                        return Some((
                            Err(Error::NotFound {
                                location: location.to_string(),
                            }),
                            (None, 0, true),
                        ));
                    }
                    Err(e) => return Some((Err(e), (None, 0, true))),
                },
            };
            if offset >= size {
                return None;
            }
            let want = chunk.min(size - offset);
            match storage.read_range(location, offset, want).await {
                Ok(b) if b.len() as u64 == want => {
                    Some((Ok(b), (Some(size), offset + want, false)))
                }
                Ok(b) => Some((
                    Err(Error::Io {
                        location: location.to_string(),
                        source: std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            format!(
                                "read {} bytes at offset {offset}, expected {want}: the file shrank while it was read",
                                b.len()
                            ),
                        ),
                    }),
                    (Some(size), offset, true),
                )),
                Err(e) => Some((Err(e), (Some(size), offset, true))),
            }
        },
    ))
}
