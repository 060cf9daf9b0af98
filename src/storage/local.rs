//! Local file system (`/path`, `file:/path`, `file:///path`).

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use super::{Error, Storage, scheme};

/// Reads local files.
#[derive(Debug, Default, Clone, Copy)]
pub struct LocalStorage;

impl LocalStorage {
    /// The local path of `location`, or an `Unsupported` error for other schemes.
    pub fn path(location: &str) -> Result<PathBuf, Error> {
        match scheme(location) {
            None => Ok(PathBuf::from(location)),
            Some("file") => {
                let rest = location.get(5..).unwrap_or_default();
                // file:///p and file://localhost/p → /p ; file:/p → /p
                let rest = match rest.strip_prefix("//") {
                    Some(r) => r.strip_prefix("localhost").unwrap_or(r),
                    None => rest,
                };
                Ok(PathBuf::from(rest))
            }
            Some(s) => Err(Error::Unsupported {
                location: location.to_owned(),
                scheme: s.to_owned(),
            }),
        }
    }

    fn io(location: &str, e: std::io::Error) -> Error {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound {
                location: location.to_owned(),
            }
        } else {
            Error::Io {
                location: location.to_owned(),
                source: e,
            }
        }
    }
}

impl Storage for LocalStorage {
    fn name(&self) -> &'static str {
        "local"
    }

    fn read(&self, location: &str) -> Result<Vec<u8>, Error> {
        std::fs::read(Self::path(location)?).map_err(|e| Self::io(location, e))
    }

    fn read_range(&self, location: &str, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        let mut f =
            std::fs::File::open(Self::path(location)?).map_err(|e| Self::io(location, e))?;
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| Self::io(location, e))?;
        let mut buf = Vec::new();
        f.take(len)
            .read_to_end(&mut buf)
            .map_err(|e| Self::io(location, e))?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_map_to_paths() {
        assert_eq!(
            LocalStorage::path("file:/tmp/a").unwrap(),
            PathBuf::from("/tmp/a")
        );
        assert_eq!(
            LocalStorage::path("file:///tmp/a").unwrap(),
            PathBuf::from("/tmp/a")
        );
        assert_eq!(
            LocalStorage::path("/tmp/a").unwrap(),
            PathBuf::from("/tmp/a")
        );
        assert!(matches!(
            LocalStorage::path("s3://b/k"),
            Err(Error::Unsupported { .. })
        ));
    }
}
