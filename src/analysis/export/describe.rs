//! What the engine script needs to know of an inventory report: its data
//! files, their column names in file order (an S3 `fileSchema`, each text
//! file's header row, each Parquet file's footer) and, for Parquet, each
//! column's type; the bucket (S3), delimiter (GCS) and account host (Azure)
//! its manifest gives. Every data file must have the same columns: one
//! table declaration reads them all.

use crate::analysis::inventory::{self, Inventory};
use crate::storage::{Location, Storage};

use super::Error;

/// The type class of a Parquet column, as Spark reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// `BYTE_ARRAY` (a string; read as one with `binaryAsString`).
    Text,
    /// `INT64`/`INT32` without a time or date annotation.
    Integer,
    /// `BOOLEAN`.
    Boolean,
    /// `INT64` `TIMESTAMP(MILLIS|MICROS)` or `INT96`: an engine timestamp.
    Timestamp,
    /// `INT64` `TIMESTAMP(NANOS)`: Spark does not read it as a time.
    TimestampNanos,
    /// Anything else.
    Other,
}

/// What the script needs to know of the inventory report.
#[derive(Debug, Clone)]
pub struct Report {
    /// Which kind.
    pub kind: inventory::Kind,
    /// Its data files.
    pub files: Vec<Location>,
    /// Column names, in file order (S3 `fileSchema`, the header line, the
    /// Parquet schema).
    pub columns: Vec<String>,
    /// Parquet data files: each column's type (`None`: text files).
    pub types: Option<Vec<ColType>>,
    /// Field delimiter (text files).
    pub delimiter: char,
    /// The bucket an S3 Inventory lists.
    pub bucket: Option<String>,
    /// Azure: the account's blob host the manifest's `endpoint` names.
    pub host: Option<String>,
    /// The report's time.
    pub time: jiff::Timestamp,
    /// The manifest or file given.
    pub source: Location,
}

impl Report {
    /// Reads the column names (and Parquet types) the report's rows have.
    pub async fn describe(storage: &dyn Storage, inv: &Inventory) -> Result<Report, Error> {
        let bad = |why: String| Error::Report(format!("{}: {why}", inv.source));
        let parquet = inv.files.iter().any(|f| f.parquet);
        if parquet && !inv.files.iter().all(|f| f.parquet) {
            return Err(bad(
                "the report mixes Parquet and text data files; one table cannot read both".into(),
            ));
        }
        let first_file = inv
            .files
            .first()
            .ok_or_else(|| bad("the report lists no data file".into()))?;
        let manifest = match inv.kind {
            inventory::Kind::S3 | inventory::Kind::Gcs | inventory::Kind::Azure => {
                let bytes = storage.read(&inv.source).await?;
                let v: serde_json::Value =
                    serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
                Some(v)
            }
            _ => None,
        };
        let field = |p: &str| {
            manifest
                .as_ref()
                .and_then(|v| v.pointer(p))
                .and_then(|s| s.as_str())
                .map(str::to_owned)
        };
        // GCS: the manifest's delimiter (as the Rust reader takes it).
        let mut delimiter = match field("/report_config/csv_options/delimiter").as_deref() {
            Some(d) if inv.kind == inventory::Kind::Gcs && d.chars().count() == 1 => {
                d.chars().next().unwrap_or(',')
            }
            _ => ',',
        };
        let host = field("/endpoint").filter(|_| inv.kind == inventory::Kind::Azure);
        let host = host.map(|h| {
            h.split_once("://")
                .map_or(h.as_str(), |(_, h)| h)
                .trim_end_matches('/')
                .to_owned()
        });
        let (columns, types) = if parquet {
            let mut first: Option<(Vec<String>, Vec<ColType>)> = None;
            for f in &inv.files {
                let got = parquet_schema(storage, &f.location).await?;
                match &first {
                    None => first = Some(got),
                    Some(x) if *x == got => {}
                    Some(x) => {
                        return Err(bad(format!(
                            "{} has the columns {:?} ({:?}), {} has {:?} ({:?}): one table cannot read both",
                            first_file.location, x.0, x.1, f.location, got.0, got.1
                        )));
                    }
                }
            }
            let (c, t) = first.unwrap_or_default();
            (c, Some(t))
        } else if inv.kind == inventory::Kind::S3 {
            let schema = field("/fileSchema").ok_or_else(|| bad("no fileSchema".into()))?;
            (
                schema.split(',').map(|s| s.trim().to_owned()).collect(),
                None,
            )
        } else {
            // Each text file names its columns in its first row; the Rust
            // reader places them per file, one table needs them equal.
            let mut first: Option<(String, Vec<String>)> = None;
            for f in &inv.files {
                let head = storage.read_range(&f.location, 0, 64 << 10).await?;
                let line =
                    inventory::first_line(&head, f.gzip || f.location.file_name().ends_with(".gz"))
                        .map_err(|why| Error::Report(format!("{}: {why}", f.location)))?;
                if inv.kind == inventory::Kind::HdfsOiv {
                    // "Path<d>Replication…": the delimiter follows "Path".
                    delimiter = line.get(4..).and_then(|s| s.chars().next()).unwrap_or('\t');
                }
                let cols: Vec<String> = line
                    .split(delimiter)
                    .map(|s| {
                        let s = s.trim();
                        if inv.kind == inventory::Kind::HdfsOiv {
                            s.to_owned()
                        } else {
                            s.trim_matches('"').to_owned()
                        }
                    })
                    .collect();
                match &first {
                    None => first = Some((f.location.to_string(), cols)),
                    Some((_, c)) if *c == cols => {}
                    Some((at, c)) => {
                        return Err(bad(format!(
                            "{at} has the header {c:?}, {} has {cols:?}: one table cannot read both",
                            f.location
                        )));
                    }
                }
            }
            (first.map(|x| x.1).unwrap_or_default(), None)
        };
        Ok(Report {
            kind: inv.kind,
            files: inv.files.iter().map(|f| f.location.clone()).collect(),
            columns,
            types,
            delimiter,
            bucket: inv.bucket.clone(),
            host,
            time: inv.time,
            source: inv.source.clone(),
        })
    }

    /// Whether the data files are Parquet.
    pub fn is_parquet(&self) -> bool {
        self.types.is_some()
    }

    /// The first of `want` (case-insensitive, in order of preference) the
    /// report has: its position.
    pub(super) fn column_any(&self, want: &[&str]) -> Result<usize, Error> {
        want.iter()
            .find_map(|w| self.columns.iter().position(|c| c.eq_ignore_ascii_case(w)))
            .ok_or_else(|| {
                Error::Report(format!(
                    "{}: no {} column among {:?}",
                    self.source,
                    want.join(" or "),
                    self.columns
                ))
            })
    }

    /// The type of column `i` (text files: [`ColType::Text`]).
    pub(super) fn type_of(&self, i: usize) -> ColType {
        self.types
            .as_ref()
            .and_then(|t| t.get(i).copied())
            .unwrap_or(ColType::Text)
    }
}

/// The top-level columns of a Parquet file and their types, from its
/// footer (two range reads: the tail, then the metadata).
async fn parquet_schema(
    storage: &dyn Storage,
    at: &Location,
) -> Result<(Vec<String>, Vec<ColType>), Error> {
    use parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as Physical};
    let bad = |why: String| Error::Report(format!("{at}: {why}"));
    let size = storage
        .stat(at)
        .await?
        .ok_or_else(|| bad("not found".into()))?
        .size;
    if size < 12 {
        return Err(bad("too short for a Parquet file".into()));
    }
    let tail = storage.read_range(at, size - 8, 8).await?;
    if tail.len() != 8 || &tail[4..] != b"PAR1" {
        return Err(bad("no Parquet footer (PAR1)".into()));
    }
    let len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if len + 8 > size {
        return Err(bad(format!("a footer of {len} bytes in {size}")));
    }
    let meta = storage.read_range(at, size - 8 - len, len).await?;
    let md = parquet::file::metadata::ParquetMetaDataReader::decode_metadata(&meta)
        .map_err(|e| bad(format!("not a readable Parquet footer: {e}")))?;
    let schema = md.file_metadata().schema_descr();
    let mut names = Vec::new();
    let mut types = Vec::new();
    for c in schema.columns() {
        names.push(c.path().string());
        let t = match c.physical_type() {
            Physical::BYTE_ARRAY => ColType::Text,
            Physical::BOOLEAN => ColType::Boolean,
            Physical::INT96 => ColType::Timestamp,
            Physical::INT64 => match (c.logical_type_ref(), c.converted_type()) {
                (Some(LogicalType::Timestamp(t)), _) => match t.unit {
                    TimeUnit::NANOS => ColType::TimestampNanos,
                    _ => ColType::Timestamp,
                },
                (_, ConvertedType::TIMESTAMP_MILLIS | ConvertedType::TIMESTAMP_MICROS) => {
                    ColType::Timestamp
                }
                (None | Some(LogicalType::Integer { .. }), _) => ColType::Integer,
                _ => ColType::Other,
            },
            Physical::INT32 => match c.logical_type_ref() {
                None | Some(LogicalType::Integer { .. }) => ColType::Integer,
                _ => ColType::Other,
            },
            _ => ColType::Other,
        };
        types.push(t);
    }
    Ok((names, types))
}
