//! Storage inventory reports as the file listing of a cleanup plan.
//!
//! Large stores already list themselves on a schedule: S3 Inventory (and
//! the stores that copy its layout: OSS, OBS, S3-compatible servers; CSV or
//! Parquet), GCS Storage Insights inventory reports, Azure blob inventory,
//! an `hdfs oiv -p Delimited` dump of a NameNode's fsimage, or any CSV or
//! Parquet file with the columns `path,size,last_modified`.
//! [`Inventory::open`] reads and checks the report's own description
//! (manifest, checksums, header, time);
//! [`Inventory::rows`] streams its rows under one root as [`Entry`] batches,
//! decoding each data file on a blocking thread while the next one is read.
//!
//! An inventory is a snapshot taken at [`Inventory::time`]: files written
//! later are absent (never candidates), files deleted since are present (the
//! apply step's live re-check finds them gone). References never come from
//! here: the planner reads every kept `_metadata` live.

mod azure;
mod columns;
mod filter;
mod gcs;
mod parquet_rows;
mod s3;
mod text;

use std::sync::Arc;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::analysis::snapshot::Rebase;
use crate::storage::{self, Entry, Location, Storage};

pub use columns::Columns;
pub(crate) use text::{first_line, url_encode};

/// Rows sent to the planner at a time.
const BATCH: usize = 4096;
/// Data files decoded at once.
const PARALLEL_FILES: usize = 2;
/// Bytes of a data file read ahead of its decoder (besides the chunk the
/// decoder holds and those the store's stream has in hand).
const READ_AHEAD: usize = 2 << 20;
/// How far in the future of the inventory time a row may be (clock skew,
/// an `oiv` time rounded up to its minute) before the time is called wrong.
const FUTURE_TOLERANCE: jiff::SignedDuration = jiff::SignedDuration::from_secs(120);

/// Which kind of report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An S3 Inventory `manifest.json` (also OSS, OBS, S3-compatible stores).
    S3,
    /// `hdfs oiv -p Delimited` output.
    HdfsOiv,
    /// A CSV with the header `path,size,last_modified`.
    Csv,
    /// A Parquet file with the columns `path`, `size`, `last_modified`.
    Parquet,
    /// A GCS Storage Insights inventory report (manifest + CSV or Parquet
    /// shards).
    Gcs,
    /// An Azure blob inventory run of one rule (`<rule>-manifest.json` +
    /// CSV or Parquet files).
    Azure,
}

impl Kind {
    /// Human name.
    pub fn label(self) -> &'static str {
        match self {
            Kind::S3 => "S3 Inventory",
            Kind::HdfsOiv => "HDFS fsimage dump (oiv Delimited)",
            Kind::Csv => "CSV (path,size,last_modified)",
            Kind::Parquet => "Parquet (path,size,last_modified)",
            Kind::Gcs => "GCS Storage Insights inventory report",
            Kind::Azure => "Azure blob inventory",
        }
    }
}

/// Where the inventory's time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeFrom {
    /// The manifest (S3 `creationTimestamp`: when the scan started; GCS
    /// `snapshot_time`; Azure `inventoryStartTime`).
    Manifest,
    /// The report file's modification time.
    FileModified,
    /// `--inventory-time`.
    Given,
}

/// One data file of a report.
#[derive(Debug, Clone)]
pub struct DataFile {
    /// Where it is.
    pub location: Location,
    /// Size the manifest gives.
    pub size: Option<u64>,
    /// MD5 (lower-case hex) the manifest gives, of the bytes as stored.
    pub md5: Option<String>,
    /// Gzip-compressed.
    pub gzip: bool,
    /// Parquet (else text).
    pub parquet: bool,
}

/// An opened, checked inventory report.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// Which kind.
    pub kind: Kind,
    /// The manifest or file given.
    pub source: Location,
    /// The inventory's "now": files younger than this are not in it.
    pub time: jiff::Timestamp,
    /// Where [`Self::time`] came from.
    pub time_from: TimeFrom,
    /// Its data files.
    pub files: Vec<DataFile>,
    /// The bucket an S3 Inventory lists.
    pub bucket: Option<String>,
    columns: Columns,
    /// Object-store reports: how rows name their objects.
    objects: Option<filter::ObjectStore>,
    /// The rows the manifest counts (GCS `records_processed`, Azure
    /// `summary.objectCount`), and that field's name.
    expect_rows: Option<(u64, &'static str)>,
}

/// What [`Inventory::open`] needs besides the source.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// `--inventory-time` (files other than S3 manifests).
    pub time: Option<jiff::Timestamp>,
}

/// A report that cannot be used. Each names the file and, where there is
/// one, the field, line and byte offset.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading failed.
    #[error(transparent)]
    Storage(#[from] storage::Error),
    /// Not a report this build reads.
    #[error("{file}: {why}")]
    Unrecognised {
        /// The file.
        file: String,
        /// What was expected.
        why: String,
    },
    /// The manifest is malformed or lacks a field.
    #[error("{file}: field {field}: {why}")]
    Manifest {
        /// The file.
        file: String,
        /// The field.
        field: String,
        /// What is wrong.
        why: String,
    },
    /// A checksum or size does not match: the report is incomplete or damaged.
    #[error(
        "{file}: {what} is {found}, the manifest says {expected}: the report is incomplete or damaged; refusing to plan from it"
    )]
    Mismatch {
        /// The file.
        file: String,
        /// What was compared.
        what: &'static str,
        /// Expected.
        expected: String,
        /// Found.
        found: String,
    },
    /// A row cannot be read.
    #[error("{file}: line {line}, byte offset {offset}, field {field}: {why}")]
    Row {
        /// The data file.
        file: String,
        /// 1-based line.
        line: u64,
        /// Byte offset of the record in the (decompressed) file.
        offset: u64,
        /// Field name.
        field: String,
        /// What is wrong.
        why: String,
    },
    /// A value of a Parquet data file cannot be used.
    #[error("{file}: row {row}, column {field}: {why}")]
    Column {
        /// The data file.
        file: String,
        /// 1-based row in the file.
        row: u64,
        /// Column name.
        field: String,
        /// What is wrong.
        why: String,
    },
    /// The data is not valid gzip, CSV or Parquet.
    #[error("{file}: {why}")]
    Decode {
        /// The file.
        file: String,
        /// What failed.
        why: String,
    },
    /// The inventory's time is unusable.
    #[error("{0}")]
    Time(String),
    /// Too old.
    #[error(
        "{file}: the inventory was taken {age} ago ({time}), more than --max-inventory-age {max}; refusing to plan from it (take a new one, or raise --max-inventory-age)"
    )]
    TooOld {
        /// The file.
        file: String,
        /// Its age.
        age: String,
        /// Its time.
        time: jiff::Timestamp,
        /// The limit.
        max: String,
    },
    /// Rows name another bucket, NameNode or scheme than the root.
    #[error(
        "{file}: the inventory lists {found}, the root is {root}: an inventory of another store, or the same files under another name. If they are the same files, map them: --rebase {suggest}"
    )]
    OtherStore {
        /// The file.
        file: String,
        /// What the rows name.
        found: String,
        /// The root.
        root: String,
        /// The `FROM=TO` to give.
        suggest: String,
    },
    /// A row is newer than the inventory's time.
    #[error(
        "{file}: {path} was modified at {modified}, after the inventory's time {time} ({from}); the time is wrong, so ages cannot be trusted. Give the time the listing was taken with --inventory-time"
    )]
    RowAfterTime {
        /// The file.
        file: String,
        /// The row.
        path: String,
        /// Its time.
        modified: jiff::Timestamp,
        /// The inventory time.
        time: jiff::Timestamp,
        /// Where it came from.
        from: &'static str,
    },
}

impl Inventory {
    /// Opens `source`: an S3 Inventory `manifest.json` (checked against its
    /// `manifest.checksum`), a GCS inventory report manifest, an Azure
    /// `<rule>-manifest.json` (checked against its checksum file), an
    /// `hdfs oiv -p Delimited` dump, a `path,size,last_modified` CSV
    /// (optionally `.gz`) or a Parquet file with those columns.
    pub async fn open(
        storage: &dyn Storage,
        source: &Location,
        opts: &OpenOptions,
    ) -> Result<Inventory, Error> {
        let file = source.to_string();
        let stat = storage
            .stat(source)
            .await?
            .ok_or_else(|| storage::Error::NotFound {
                location: file.clone(),
            })?;
        if !stat.is_file() {
            return Err(Error::Unrecognised {
                file,
                why: "not a regular file; give the manifest.json of an S3 Inventory run, the manifest of a GCS inventory report, the <rule>-manifest.json of an Azure blob inventory run, an `hdfs oiv -p Delimited` dump, or a CSV or Parquet file".into(),
            });
        }
        if source.file_name().ends_with(".json") {
            if opts.time.is_some() {
                return Err(Error::Time(format!(
                    "{file}: --inventory-time is for CSV, Parquet and oiv files; a manifest gives its own time"
                )));
            }
            return open_manifest(storage, source, &stat).await;
        }
        let gzip = source.file_name().ends_with(".gz");
        let head = storage.read_range(source, 0, 64 << 10).await?;
        let parquet = head.starts_with(b"PAR1") || source.file_name().ends_with(".parquet");
        let first = if parquet {
            String::new()
        } else {
            text::first_line(&head, gzip).map_err(|why| Error::Decode {
                file: file.clone(),
                why,
            })?
        };
        let detected = if parquet {
            Columns::generic_parquet().ok().map(|c| (Kind::Parquet, c))
        } else {
            text::detect(&first)
        };
        let (kind, columns) = detected.ok_or_else(|| Error::Unrecognised {
            file: file.clone(),
            why: format!(
                "not an inventory flink-chk reads (first line {:?}); expected an S3 Inventory manifest.json, a GCS inventory report manifest, an Azure blob inventory <rule>-manifest.json, an `hdfs oiv -p Delimited` dump (header Path<TAB>Replication<TAB>ModificationTime…), a CSV with the header path,size,last_modified or a Parquet file with those columns",
                first.chars().take(120).collect::<String>()
            ),
        })?;
        let (time, time_from) = match (opts.time, stat.modified) {
            (Some(t), _) => (t, TimeFrom::Given),
            (None, Some(t)) => (t, TimeFrom::FileModified),
            (None, None) => {
                return Err(Error::Time(format!(
                    "{file}: the store reports no modification time; give the time the listing was taken with --inventory-time"
                )));
            }
        };
        Ok(Inventory {
            kind,
            source: source.clone(),
            time,
            time_from,
            files: vec![DataFile {
                location: source.clone(),
                size: Some(stat.size),
                md5: None,
                gzip: gzip && !parquet,
                parquet,
            }],
            bucket: None,
            columns,
            objects: None,
            expect_rows: None,
        })
    }

    /// Refuses an inventory older than `max` (or from the future); a warning
    /// when it is older than 48 hours.
    pub fn check_age(
        &self,
        now: jiff::Timestamp,
        max: std::time::Duration,
    ) -> Result<Option<String>, Error> {
        let age = now.duration_since(self.time);
        if age < -FUTURE_TOLERANCE {
            return Err(Error::Time(format!(
                "{}: the inventory's time {} is in the future (clock skew, or a wrong --inventory-time)",
                self.source, self.time
            )));
        }
        let human = |d: jiff::SignedDuration| {
            let s = d.as_secs().max(0);
            let m = s / 60;
            match (m / 1440, m / 60 % 24, m % 60) {
                (0, 0, 0) => format!("{s}s"),
                (0, 0, m) => format!("{m}m"),
                (0, h, m) => format!("{h}h {m}m"),
                (d, h, _) => format!("{d}d {h}h"),
            }
        };
        let max_d = jiff::SignedDuration::try_from(max).unwrap_or(jiff::SignedDuration::MAX);
        if age > max_d {
            return Err(Error::TooOld {
                file: self.source.to_string(),
                age: human(age),
                time: self.time,
                max: human(max_d),
            });
        }
        Ok((age > jiff::SignedDuration::from_hours(48)).then(|| {
            format!(
                "{}: the inventory is {} old; files written or deleted since are not in it",
                self.source,
                human(age)
            )
        }))
    }

    /// Fails when the inventory lists another bucket than `root`'s and
    /// `rebase` does not map that bucket's copy of the root onto it.
    pub fn check_store(&self, root: &Location, rebase: &Rebase) -> Result<(), Error> {
        let Some(bucket) = &self.bucket else {
            return Ok(());
        };
        if root.scheme().is_object_store() && root.authority() == bucket {
            return Ok(());
        }
        let listed = Location::parse(&format!("s3://{bucket}{}", root.path()))?;
        let mapped = rebase.apply(listed.clone());
        if mapped.canonical() == root.canonical() {
            return Ok(());
        }
        Err(filter::other_store(self, &listed, root))
    }

    /// Fails when the rows read are fewer than the manifest counts (a
    /// report cut short), or (GCS) other than it.
    fn check_rows(&self, c: &Counts) -> Result<(), Error> {
        let Some((expected, field)) = self.expect_rows else {
            return Ok(());
        };
        // Azure documents rare duplicate rows: more rows than objects is
        // not a loss.
        let more_ok = self.kind == Kind::Azure;
        if c.rows == expected || (more_ok && c.rows > expected) {
            return Ok(());
        }
        Err(Error::Mismatch {
            file: self.source.to_string(),
            what: "the number of rows in the data files",
            expected: format!("{expected} ({field})"),
            found: c.rows.to_string(),
        })
    }

    /// What a plan file records of this inventory.
    pub fn record(&self) -> Record {
        Record {
            kind: self.kind,
            source: self.source.clone(),
            time: self.time,
            time_from: self.time_from,
            data_files: self.files.len(),
        }
    }

    /// Streams the files this inventory lists under `scope` (a directory
    /// under `root`), as entries of `root`'s store, in batches. Rows under
    /// another bucket/authority are taken only where `rebase` maps them
    /// under `root`; rows whose path is not in normal form (`//`, `.`, `..`)
    /// are skipped. Directory rows are dropped; symbolic links come as
    /// special entries. The last item is [`Item::Done`] with the counts, or
    /// an error.
    pub fn rows(
        &self,
        storage: Arc<dyn Storage>,
        root: &Location,
        scope: &Location,
        rebase: &Rebase,
    ) -> tokio::sync::mpsc::Receiver<Result<Item, Error>> {
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        let filter = Arc::new(filter::Filter::new(self, root, scope, rebase));
        let inv = self.clone();
        tokio::spawn(async move {
            let columns = Arc::new(inv.columns.clone());
            let totals = futures_util::stream::iter(inv.files.iter().cloned())
                .map(|f| {
                    let (storage, filter, tx) = (storage.clone(), filter.clone(), tx.clone());
                    let columns = columns.clone();
                    async move { read_file(storage.as_ref(), f, filter, columns, tx).await }
                })
                .buffer_unordered(PARALLEL_FILES)
                .fold(Ok(Counts::default()), |acc, r| async move {
                    match (acc, r) {
                        (Ok(mut a), Ok(c)) => {
                            a.add(&c);
                            Ok(a)
                        }
                        (Err(e), _) | (_, Err(e)) => Err(e),
                    }
                })
                .await;
            let last = match totals {
                Ok(c) => inv.check_rows(&c).and_then(|()| filter.finish(&inv, c)),
                Err(e) => Err(e),
            };
            let _ = tx.send(last.map(Item::Done)).await;
        });
        rx
    }
}

/// Largest manifest read (a manifest lists data files, not objects).
const MAX_MANIFEST: u64 = 64 << 20;

/// A `.json` source: an S3 Inventory `manifest.json`, a GCS inventory
/// report manifest or an Azure `<rule>-manifest.json`, told apart by their
/// fields.
async fn open_manifest(
    storage: &dyn Storage,
    source: &Location,
    stat: &Entry,
) -> Result<Inventory, Error> {
    let file = source.to_string();
    if stat.size > MAX_MANIFEST {
        return Err(Error::Manifest {
            file,
            field: "(file)".into(),
            why: format!(
                "{} bytes, more than a manifest has ({MAX_MANIFEST})",
                stat.size
            ),
        });
    }
    let bytes = storage.read(source).await?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| Error::Manifest {
        file: file.clone(),
        field: "(json)".into(),
        why: format!("not JSON at line {}, column {}: {e}", e.line(), e.column()),
    })?;
    let has = |f: &str| v.get(f).is_some();
    if has("sourceBucket") || has("fileSchema") {
        s3::open(storage, source, bytes, &v).await
    } else if has("report_shards_file_names") || has("records_processed") {
        gcs::open(storage, source, &v).await
    } else if has("inventoryStartTime") || has("ruleName") || has("destinationContainer") {
        azure::open(storage, source, bytes, &v).await
    } else {
        Err(Error::Unrecognised {
            file,
            why: "a JSON file that is no manifest flink-chk reads: an S3 Inventory manifest.json has sourceBucket and fileSchema, a GCS inventory report manifest report_shards_file_names and records_processed, an Azure blob inventory <rule>-manifest.json inventoryStartTime and files".into(),
        })
    }
}

/// What a plan file records of the inventory it was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Which kind.
    pub kind: Kind,
    /// The manifest or file.
    pub source: Location,
    /// Its time.
    pub time: jiff::Timestamp,
    /// Where the time came from.
    pub time_from: TimeFrom,
    /// Data files read.
    pub data_files: usize,
}

/// One item of [`Inventory::rows`].
#[derive(Debug)]
pub enum Item {
    /// Files under the scope.
    Batch(Vec<Entry>),
    /// This many more rows were read (in scope or not).
    Read(u64),
    /// The end, with the counts.
    Done(Counts),
}

/// Row counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Rows read (records, header excluded).
    pub rows: u64,
    /// Files under the scope (sent).
    pub in_scope: u64,
    /// Rows skipped: directories, noncurrent versions, delete markers,
    /// paths not in normal form.
    pub skipped: u64,
    /// Rows of another store, or under the store but outside the scope.
    pub outside: u64,
    /// Of `outside`: rows of Parquet row groups skipped unread, because
    /// their statistics put every key outside the scope.
    #[serde(default)]
    pub unread: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.rows += o.rows;
        self.in_scope += o.in_scope;
        self.skipped += o.skipped;
        self.outside += o.outside;
        self.unread += o.unread;
    }
}

/// Reads one data file: bytes streamed here (size and MD5 checked at the
/// end), decoded on a blocking thread: text while it arrives, Parquet once
/// it is whole and checked (its footer comes last).
async fn read_file(
    storage: &dyn Storage,
    f: DataFile,
    filter: Arc<filter::Filter>,
    columns: Arc<Columns>,
    tx: tokio::sync::mpsc::Sender<Result<Item, Error>>,
) -> Result<Counts, Error> {
    if f.parquet {
        return read_parquet(storage, f, filter, columns, tx).await;
    }
    let chunk = chunk_size(&f.location);
    let (bytes_tx, bytes_rx) = tokio::sync::mpsc::channel::<Vec<u8>>((READ_AHEAD / chunk).max(1));
    let name = f.location.to_string();
    let gzip = f.gzip;
    let decoder = {
        let (filter, tx, name) = (filter.clone(), tx.clone(), name.clone());
        tokio::task::spawn_blocking(move || {
            let reader = text::ChannelReader::new(bytes_rx);
            filter.decode(&name, &columns, reader, gzip, |item| {
                tx.blocking_send(Ok(item)).is_ok()
            })
        })
    };
    // Only what the manifest gives an MD5 for is hashed.
    let mut md5 = f.md5.is_some().then(<md5::Md5 as md5::Digest>::new);
    let mut size = 0u64;
    let mut stream = storage.read_stream(&f.location, chunk);
    let mut read_error = None;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                size += c.len() as u64;
                if let Some(h) = &mut md5 {
                    md5::Digest::update(h, &c);
                }
                if bytes_tx.send(c).await.is_err() {
                    break; // the decoder stopped (an error it reports)
                }
            }
            Err(e) => {
                read_error = Some(e);
                break;
            }
        }
    }
    drop(bytes_tx);
    let decoded = decoder.await.map_err(|e| Error::Decode {
        file: name.clone(),
        why: format!("decoder failed: {e}"),
    })?;
    if let Some(e) = read_error {
        return Err(e.into());
    }
    // The manifest's size and MD5 say first whether the bytes are whole.
    verify(&f, &name, size, md5)?;
    decoded
}

/// A Parquet data file: read whole and checked against the manifest, then
/// decoded. A local file is hashed, then read in place; a remote one is
/// written to a scratch file while it is hashed, and read there (a Parquet
/// reader seeks, and a data file can be far larger than memory should be).
async fn read_parquet(
    storage: &dyn Storage,
    f: DataFile,
    filter: Arc<filter::Filter>,
    columns: Arc<Columns>,
    tx: tokio::sync::mpsc::Sender<Result<Item, Error>>,
) -> Result<Counts, Error> {
    let name = f.location.to_string();
    let local = f.location.scheme() == storage::Scheme::Local;
    let scratch_failed = |e: crate::spill::Error| Error::Decode {
        file: name.clone(),
        why: e.to_string(),
    };
    let mut scratch = None;
    if !local || f.md5.is_some() {
        let mut md5 = f.md5.is_some().then(<md5::Md5 as md5::Digest>::new);
        let mut size = 0u64;
        if !local {
            scratch = Some(crate::spill::Scratch::create().map_err(scratch_failed)?);
        }
        let mut stream = storage.read_stream(&f.location, chunk_size(&f.location));
        while let Some(chunk) = stream.next().await {
            let c = chunk?;
            size += c.len() as u64;
            if let Some(h) = &mut md5 {
                md5::Digest::update(h, &c);
            }
            if let Some(mut s) = scratch.take() {
                let written = tokio::task::spawn_blocking(move || s.write(&c).map(|()| s))
                    .await
                    .map_err(|e| Error::Decode {
                        file: name.clone(),
                        why: format!("writing a scratch file failed: {e}"),
                    })?;
                scratch = Some(written.map_err(scratch_failed)?);
            }
        }
        verify(&f, &name, size, md5)?;
    } else if f.size.is_some() {
        // A local file with no MD5 to check: its length is enough.
        let size = storage
            .stat(&f.location)
            .await?
            .ok_or_else(|| Error::Decode {
                file: name.clone(),
                why: "not found".to_owned(),
            })?
            .size;
        verify(&f, &name, size, None)?;
    }
    let path = f.location.clone();
    let send_to = tx.clone();
    let file = name.clone();
    tokio::task::spawn_blocking(move || {
        let send = |item| send_to.blocking_send(Ok(item)).is_ok();
        let opened = match scratch {
            Some(s) => s.finish().map_err(|e| Error::Decode {
                file: file.clone(),
                why: e.to_string(),
            })?,
            None => crate::storage::open_local_file(&path)?,
        };
        filter.decode_parquet(&file, &columns, opened, send)
    })
    .await
    .map_err(|e| Error::Decode {
        file: name,
        why: format!("decoder failed: {e}"),
    })?
}

/// The chunks a data file is read in. On an object store a chunk is one
/// ranged GET, so it is large; elsewhere a small one is as fast. Every
/// chunk is a fresh allocation, and glibc serves those from the arena of
/// the thread reading (a different one from file to file), where memory
/// freed after a burst of large chunks tends to stay: small chunks keep
/// what any arena holds small (peak RSS grew with the number of data
/// files with 4 MiB chunks).
fn chunk_size(location: &Location) -> usize {
    if location.scheme().is_object_store() {
        4 << 20
    } else {
        1 << 20
    }
}

/// Checks a data file's size and MD5 against the manifest's.
fn verify(f: &DataFile, name: &str, size: u64, md5: Option<md5::Md5>) -> Result<(), Error> {
    if let Some(expected) = f.size
        && expected != size
    {
        return Err(Error::Mismatch {
            file: name.to_owned(),
            what: "the size",
            expected: expected.to_string(),
            found: size.to_string(),
        });
    }
    if let (Some(expected), Some(h)) = (&f.md5, md5) {
        let found = storage::write_hex(&md5::Digest::finalize(h));
        if !expected.eq_ignore_ascii_case(&found) {
            return Err(Error::Mismatch {
                file: name.to_owned(),
                what: "the MD5",
                expected: expected.clone(),
                found,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kind names are part of the plan file and the JSON output: pinned.
    #[test]
    fn kind_names_are_stable() {
        let all = [
            (Kind::S3, "s3", "S3 Inventory"),
            (
                Kind::HdfsOiv,
                "hdfs-oiv",
                "HDFS fsimage dump (oiv Delimited)",
            ),
            (Kind::Csv, "csv", "CSV (path,size,last_modified)"),
            (
                Kind::Parquet,
                "parquet",
                "Parquet (path,size,last_modified)",
            ),
            (Kind::Gcs, "gcs", "GCS Storage Insights inventory report"),
            (Kind::Azure, "azure", "Azure blob inventory"),
        ];
        for (k, name, label) in all {
            assert_eq!(serde_json::to_value(k).unwrap(), name);
            assert_eq!(serde_json::from_value::<Kind>(name.into()).unwrap(), k);
            assert_eq!(k.label(), label);
        }
    }
}
