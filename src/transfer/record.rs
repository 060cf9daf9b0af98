//! The copy journal: one JSON line per step (planned → copied → verified per
//! file, planned → published per snapshot), appended before the run goes on,
//! so a run killed at any point resumes without copying a verified file again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::journal;

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Record {
    /// A snapshot's copy was planned.
    Planned {
        /// Source `_metadata`.
        snapshot: String,
        /// The `_metadata` to publish.
        destination: String,
        /// Files it needs.
        files: usize,
        /// Their bytes.
        bytes: u64,
    },
    /// A file was written at its target (not yet verified).
    Copied {
        /// Source.
        source: String,
        /// Target.
        target: String,
        /// Bytes.
        size: u64,
    },
    /// A file at its target was checked against its source.
    Verified {
        /// Source.
        source: String,
        /// Target.
        target: String,
        /// Bytes.
        size: u64,
        /// The source's modification time when it was read.
        modified: Option<jiff::Timestamp>,
        /// CRC32C (Castagnoli) of the bytes, hex.
        crc32c: String,
    },
    /// A replica snapshot directory's identity file was written
    /// (`replicate`); later rounds need not read it back.
    Replica {
        /// The replica snapshot directory.
        dir: String,
        /// The identity written.
        identity: serde_json::Value,
    },
    /// A snapshot's `_metadata` was published.
    Published {
        /// Source `_metadata`.
        snapshot: String,
        /// The published `_metadata`.
        destination: String,
        /// Its size.
        size: u64,
    },
}

/// What an earlier run recorded about a target.
#[derive(Debug, Clone, PartialEq)]
pub struct Prior {
    /// Source.
    pub source: String,
    /// Bytes.
    pub size: u64,
    /// Source time when read (verified records).
    pub modified: Option<jiff::Timestamp>,
    /// Verified (else only copied).
    pub verified: bool,
}

/// An open journal and what it held when opened.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    writer: Mutex<journal::Writer>,
    prior: HashMap<String, Prior>,
    /// Identities written into replica directories, by directory.
    replicas: HashMap<String, serde_json::Value>,
    /// A torn last line was found (the run before was killed mid-write).
    pub torn: bool,
}

impl Journal {
    /// Opens (creating) the journal at `path` and reads what it holds.
    pub fn open(path: &Path) -> Result<Self, journal::Error> {
        let mut prior = HashMap::new();
        let mut replicas = HashMap::new();
        let mut torn = false;
        if let Ok(f) = std::fs::File::open(path) {
            let read = journal::read::<Record>(std::io::BufReader::new(f))?;
            torn = read.torn.is_some();
            for r in read.records {
                match r {
                    Record::Copied {
                        source,
                        target,
                        size,
                    } => {
                        prior.insert(
                            target,
                            Prior {
                                source,
                                size,
                                modified: None,
                                verified: false,
                            },
                        );
                    }
                    Record::Verified {
                        source,
                        target,
                        size,
                        modified,
                        ..
                    } => {
                        prior.insert(
                            target,
                            Prior {
                                source,
                                size,
                                modified,
                                verified: true,
                            },
                        );
                    }
                    Record::Replica { dir, identity } => {
                        replicas.insert(dir, identity);
                    }
                    Record::Planned { .. } | Record::Published { .. } => {}
                }
            }
        }
        if torn {
            // Drop the torn last line (the run before died mid-write) so
            // the next record starts on a line of its own.
            if let Ok(bytes) = std::fs::read(path) {
                let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                if let Ok(f) = std::fs::OpenOptions::new().write(true).open(path) {
                    let _ = f.set_len(keep as u64);
                }
            }
        }
        let writer = journal::Writer::open(path, "copy journal")?;
        Ok(Self {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            prior,
            replicas,
            torn,
        })
    }

    /// Identities this journal recorded writing, by replica directory.
    pub fn replicas(&self) -> &HashMap<String, serde_json::Value> {
        &self.replicas
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What an earlier run recorded about `target`.
    pub fn prior(&self, target: &str) -> Option<&Prior> {
        self.prior.get(target)
    }

    /// Appends a record.
    pub fn record(&self, r: &Record) -> std::io::Result<()> {
        self.writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .append(r)
    }
}

/// The default journal for copies into `dest`: one file per destination
/// root under the user's state directory.
pub fn default_path(dest: &str) -> Option<PathBuf> {
    let h = dest.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    journal::default_path(&format!("copy/{h:016x}.jsonl"))
}
