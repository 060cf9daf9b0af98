//! Journals: append-only JSON-lines records of what a run did to storage,
//! one record per line, written with one `write` call each so that a line
//! is whole or missing even if the process dies. `safe-to-delete` logs
//! every deleted file to one; copying and replication resume from the same
//! kind of file, so a journal can also be read back.
//!
//! The record types belong to the feature that writes them (for deletions:
//! [`crate::analysis::cleanup::apply::LogRecord`]); this module only writes
//! and reads lines.

use std::fs::File;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a journal cannot be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Creating its directory failed.
    #[error("creating {}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Opening it failed.
    #[error("opening {what} {}", path.display())]
    Open {
        /// What the journal is ("the deletion log").
        what: &'static str,
        /// The journal.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Reading it failed.
    #[error("reading line {line}")]
    Read {
        /// 1-based line number.
        line: u64,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A whole line that is not a record of the expected kind.
    #[error("line {line}: not a journal record")]
    Record {
        /// 1-based line number.
        line: u64,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// Appends records to a journal file.
#[derive(Debug)]
pub struct Writer {
    file: File,
}

impl Writer {
    /// Opens `path` for appending, creating it and its directory if needed;
    /// `what` names it in errors ("the deletion log").
    pub fn open(path: &Path, what: &'static str) -> Result<Self, Error> {
        if let Some(d) = path.parent()
            && !d.as_os_str().is_empty()
        {
            std::fs::create_dir_all(d).map_err(|source| Error::CreateDir {
                path: d.to_owned(),
                source,
            })?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| Error::Open {
                what,
                path: path.to_owned(),
                source,
            })?;
        Ok(Writer { file })
    }

    /// Appends one record as one line, in one write.
    pub fn append(&mut self, record: &impl Serialize) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        self.file.write_all(&line)
    }
}

/// What reading a journal found.
#[derive(Debug)]
pub struct Read<T> {
    /// The records, in order.
    pub records: Vec<T>,
    /// A last line without its newline that is not a record: the run that
    /// wrote it died mid-write. Its effect is unknown (for a deletion: the
    /// file may or may not be gone), so readers re-check it.
    pub torn: Option<String>,
}

/// Reads every record of a journal. A whole line that is not a `T` is an
/// error naming the line; only a torn last line (no newline) is tolerated.
pub fn read<T: DeserializeOwned>(r: impl BufRead) -> Result<Read<T>, Error> {
    let mut records = Vec::new();
    let torn = read_each(r, |rec| records.push(rec))?;
    Ok(Read { records, torn })
}

/// [`read`] one record at a time, holding none: `f` gets each record in
/// order; the torn last line, if any, is returned.
pub fn read_each<T: DeserializeOwned>(
    mut r: impl BufRead,
    mut f: impl FnMut(T),
) -> Result<Option<String>, Error> {
    let mut torn = None;
    let mut line = Vec::new();
    let mut n = 0u64;
    loop {
        line.clear();
        n += 1;
        let got = r
            .read_until(b'\n', &mut line)
            .map_err(|source| Error::Read { line: n, source })?;
        if got == 0 {
            break;
        }
        // Without its newline, this is the last line, cut short.
        let whole = line.last() == Some(&b'\n');
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice(&line) {
            Ok(rec) => f(rec),
            Err(_) if !whole => torn = Some(String::from_utf8_lossy(&line).into_owned()),
            Err(source) => return Err(Error::Record { line: n, source }),
        }
    }
    Ok(torn)
}

/// A journal file under the user's state directory
/// (`$XDG_STATE_HOME/flink-chk/NAME`, or the platform's local data
/// directory), if there is one.
pub fn default_path(name: &str) -> Option<PathBuf> {
    let base = dirs::state_dir().or_else(dirs::data_local_dir)?;
    Some(base.join("flink-chk").join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Rec {
        n: u32,
    }

    #[test]
    fn records_written_are_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/journal.log");
        let mut w = Writer::open(&path, "the journal").unwrap();
        w.append(&Rec { n: 1 }).unwrap();
        w.append(&Rec { n: 2 }).unwrap();
        drop(w);
        // Appending again keeps what is there.
        Writer::open(&path, "the journal")
            .unwrap()
            .append(&Rec { n: 3 })
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
        let r: Read<Rec> = read(text.as_bytes()).unwrap();
        assert_eq!(r.records, [Rec { n: 1 }, Rec { n: 2 }, Rec { n: 3 }]);
        assert!(r.torn.is_none());
    }

    #[test]
    fn a_line_cut_short_at_the_end_is_torn_not_an_error() {
        let r: Read<Rec> = read(&b"{\"n\":1}\n{\"n\":"[..]).unwrap();
        assert_eq!(r.records, [Rec { n: 1 }]);
        assert_eq!(r.torn.as_deref(), Some("{\"n\":"));
    }

    #[test]
    fn a_bad_whole_line_is_an_error_naming_it() {
        let e = read::<Rec>(&b"{\"n\":1}\n{\"x\":1}\n{\"n\":3}\n"[..]).unwrap_err();
        assert_eq!(e.to_string(), "line 2: not a journal record");
        // Even the last line, when it is whole (ends with a newline).
        let e = read::<Rec>(&b"{\"n\":1}\nnope\n"[..]).unwrap_err();
        assert_eq!(e.to_string(), "line 2: not a journal record");
    }

    #[test]
    fn opening_where_no_file_can_be_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "").unwrap();
        let e = Writer::open(&file.join("journal.log"), "the journal").unwrap_err();
        assert!(e.to_string().starts_with("creating "), "{e}");
        assert!(e.to_string().ends_with("/f"), "{e}");
    }
}
