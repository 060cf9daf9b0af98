//! Parquet data files (S3 Inventory, GCS and Azure reports, the generic
//! `path,size,last_modified` file): only the columns a plan needs are read,
//! in typed batches through the low-level column readers, and rows outside
//! the scope are dropped by a prefix test on the key's bytes before anything
//! is converted or allocated.
//!
//! Types accepted: keys `BYTE_ARRAY` (UTF-8); sizes `INT64`/`INT32` or a
//! decimal string; times `INT64` with a `TIMESTAMP` logical type (millis,
//! micros, nanos) or converted type `TIMESTAMP_MILLIS`/`TIMESTAMP_MICROS`, a
//! plain `INT64` (epoch milliseconds), `INT96` (Impala/Spark), or a string;
//! flags `BOOLEAN` or the strings `true`/`false`.

use parquet::basic::{
    ColumnOrder, ConvertedType, LogicalType, SortOrder, TimeUnit, Type as Physical,
};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, Int32Type, Int64Type, Int96, Int96Type,
};
use parquet::file::metadata::{FileMetaData, RowGroupMetaData};
use parquet::file::reader::{ChunkReader, FileReader, SerializedFileReader};
use parquet::schema::types::ColumnDescriptor;

use super::columns::{Columns, Skip};
use super::filter::{Filter, PlaceError, Placed};
use super::text::{PROGRESS_ROWS, parse_time};
use super::{Counts, Error, Item};

/// Rows decoded at a time, per column.
const ROWS: usize = 8192;

/// The unit of an `INT64` time.
#[derive(Debug, Clone, Copy)]
enum Unit {
    Millis,
    Micros,
    Nanos,
}

/// A typed column reader and its last batch.
enum Values {
    Bytes(ColumnReaderImpl<ByteArrayType>, Vec<ByteArray>),
    I64(ColumnReaderImpl<Int64Type>, Vec<i64>),
    I32(ColumnReaderImpl<Int32Type>, Vec<i32>),
    I96(ColumnReaderImpl<Int96Type>, Vec<Int96>),
    Bool(ColumnReaderImpl<BoolType>, Vec<bool>),
}

/// One value of a row.
#[derive(Clone, Copy)]
enum Value<'a> {
    Bytes(&'a [u8]),
    I64(i64),
    I32(i32),
    I96(&'a Int96),
    Bool(bool),
}

/// One column of a row group being read.
struct Col {
    values: Values,
    def: Vec<i16>,
    max_def: i16,
    /// Row → value index in the batch (optional columns), `u32::MAX` for a
    /// null.
    at: Vec<u32>,
}

impl Col {
    fn new(reader: ColumnReader, max_def: i16) -> Option<Col> {
        let values = match reader {
            ColumnReader::ByteArrayColumnReader(r) => Values::Bytes(r, Vec::new()),
            ColumnReader::Int64ColumnReader(r) => Values::I64(r, Vec::new()),
            ColumnReader::Int32ColumnReader(r) => Values::I32(r, Vec::new()),
            ColumnReader::Int96ColumnReader(r) => Values::I96(r, Vec::new()),
            ColumnReader::BoolColumnReader(r) => Values::Bool(r, Vec::new()),
            _ => return None,
        };
        Some(Col {
            values,
            def: Vec::with_capacity(ROWS),
            max_def,
            at: Vec::with_capacity(ROWS),
        })
    }

    /// Reads the next `n` rows; how many there were.
    fn read(&mut self, n: usize) -> parquet::errors::Result<usize> {
        let Col {
            values, def, at, ..
        } = self;
        def.clear();
        let def_out = (self.max_def > 0).then_some(def);
        let (rows, _, _) = match values {
            Values::Bytes(r, v) => {
                v.clear();
                r.read_records(n, def_out, None, v)?
            }
            Values::I64(r, v) => {
                v.clear();
                r.read_records(n, def_out, None, v)?
            }
            Values::I32(r, v) => {
                v.clear();
                r.read_records(n, def_out, None, v)?
            }
            Values::I96(r, v) => {
                v.clear();
                r.read_records(n, def_out, None, v)?
            }
            Values::Bool(r, v) => {
                v.clear();
                r.read_records(n, def_out, None, v)?
            }
        };
        if self.max_def > 0 {
            at.clear();
            let mut k = 0u32;
            for &d in &self.def {
                if d == self.max_def {
                    at.push(k);
                    k += 1;
                } else {
                    at.push(u32::MAX);
                }
            }
        }
        Ok(rows)
    }

    /// Row `row` of the batch (`None`: null).
    #[inline]
    fn get(&self, row: usize) -> Option<Value<'_>> {
        let i = if self.max_def > 0 {
            match *self.at.get(row)? {
                u32::MAX => return None,
                i => i as usize,
            }
        } else {
            row
        };
        match &self.values {
            Values::Bytes(_, v) => v.get(i).map(|b| Value::Bytes(b.data())),
            Values::I64(_, v) => v.get(i).map(|&x| Value::I64(x)),
            Values::I32(_, v) => v.get(i).map(|&x| Value::I32(x)),
            Values::I96(_, v) => v.get(i).map(Value::I96),
            Values::Bool(_, v) => v.get(i).map(|&x| Value::Bool(x)),
        }
    }
}

/// The unit of a time column, or why it is not one.
fn time_unit(d: &ColumnDescriptor) -> Result<Option<Unit>, String> {
    match d.physical_type() {
        Physical::INT64 => Ok(Some(match (d.logical_type_ref(), d.converted_type()) {
            (Some(LogicalType::Timestamp(t)), _) => match t.unit {
                TimeUnit::MILLIS => Unit::Millis,
                TimeUnit::MICROS => Unit::Micros,
                TimeUnit::NANOS => Unit::Nanos,
            },
            (_, ConvertedType::TIMESTAMP_MICROS) => Unit::Micros,
            // TIMESTAMP_MILLIS, or a plain INT64: epoch milliseconds.
            _ => Unit::Millis,
        })),
        Physical::INT96 | Physical::BYTE_ARRAY => Ok(None),
        t => Err(format!("a {t} column, not a time")),
    }
}

fn size_of(v: Option<Value<'_>>) -> Result<u64, String> {
    let n = match v {
        None => return Err("empty (null)".into()),
        Some(Value::I64(n)) => n,
        Some(Value::I32(n)) => i64::from(n),
        Some(Value::Bytes(b)) => {
            return std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| format!("not a size: {:?}", String::from_utf8_lossy(b)));
        }
        Some(_) => return Err("not a size".into()),
    };
    u64::try_from(n).map_err(|_| format!("not a size: {n}"))
}

fn time_of(
    v: Option<Value<'_>>,
    unit: Option<Unit>,
    kind: super::Kind,
) -> Result<jiff::Timestamp, String> {
    let t = match (v, unit) {
        (None, _) => return Err("empty (null)".into()),
        (Some(Value::I64(n)), Some(Unit::Millis)) => jiff::Timestamp::from_millisecond(n),
        (Some(Value::I64(n)), Some(Unit::Micros)) => jiff::Timestamp::from_microsecond(n),
        (Some(Value::I64(n)), Some(Unit::Nanos)) => jiff::Timestamp::from_nanosecond(i128::from(n)),
        (Some(Value::I96(x)), _) => jiff::Timestamp::from_microsecond(x.to_micros()),
        (Some(Value::Bytes(b)), _) => {
            let s = std::str::from_utf8(b).map_err(|e| format!("not UTF-8: {e}"))?;
            return parse_time(kind, s.trim());
        }
        (Some(_), _) => return Err("not a time".into()),
    };
    t.map_err(|e| e.to_string())
}

/// Whether a flag's value marks a row that is not a current file (a null
/// never does).
fn skips(v: Option<Value<'_>>, when: Skip) -> bool {
    match (v, when) {
        (None, _) => false,
        (Some(Value::Bool(b)), _) => when.boolean(b),
        (Some(Value::Bytes(b)), _) => when.text(&String::from_utf8_lossy(b)),
        // A time or number (GCS timeDeleted): set.
        (Some(_), Skip::NonEmpty) => true,
        (Some(_), _) => false,
    }
}

/// The smallest and largest value of string column `col` in a row group,
/// when its statistics can be trusted for a skip: written in the current
/// fields (`min_value`/`max_value`) under the unsigned byte order, and no
/// nulls (a null key is an error that reading would report).
fn string_range<'a>(
    file: &FileMetaData,
    group: &'a RowGroupMetaData,
    col: usize,
) -> Option<(&'a [u8], &'a [u8])> {
    if file.column_order(col) != ColumnOrder::TYPE_DEFINED_ORDER(SortOrder::UNSIGNED) {
        return None;
    }
    let s = group.column(col).statistics()?;
    if s.is_min_max_deprecated() || s.null_count_opt() != Some(0) {
        return None;
    }
    Some((s.min_bytes_opt()?, s.max_bytes_opt()?))
}

impl Filter {
    /// Whether every row of row group `group` lies outside the scope, by
    /// the statistics of its key (and bucket) column.
    fn group_outside(
        &self,
        file: &FileMetaData,
        group: &RowGroupMetaData,
        key: usize,
        bucket: Option<usize>,
    ) -> bool {
        let bucket = match bucket {
            None => None,
            Some(b) => match string_range(file, group, b) {
                Some((lo, hi)) if lo == hi => Some(lo),
                _ => return false,
            },
        };
        string_range(file, group, key).is_some_and(|(lo, hi)| self.range_outside(bucket, lo, hi))
    }

    /// Decodes one Parquet data file, sending batches of entries under the
    /// scope. `send` answers false when no one listens any more.
    pub(super) fn decode_parquet<R: ChunkReader + 'static>(
        &self,
        file: &str,
        columns: &Columns,
        source: R,
        mut send: impl FnMut(Item) -> bool,
    ) -> Result<Counts, Error> {
        let bad = |why: String| Error::Decode {
            file: file.to_owned(),
            why,
        };
        let reader = SerializedFileReader::new(source).map_err(|e| {
            bad(format!(
                "not a readable Parquet file (truncated or damaged): {e}"
            ))
        })?;
        let schema = reader.metadata().file_metadata().schema_descr_ptr();
        let names: Vec<String> = schema.columns().iter().map(|c| c.path().string()).collect();
        let c = columns.again(names).map_err(&bad)?;
        // The columns read, in this order: path, size, modified, bucket,
        // then the flags.
        let mut wanted = vec![c.path, c.size, c.modified];
        wanted.extend(c.bucket);
        wanted.extend(c.skips.iter().map(|(i, _)| *i));
        for &i in &wanted {
            let d = schema.column(i);
            if d.max_rep_level() > 0 {
                return Err(bad(format!("column {}: a repeated column", c.name(i))));
            }
        }
        if schema.column(c.path).physical_type() != Physical::BYTE_ARRAY
            || c.bucket
                .is_some_and(|b| schema.column(b).physical_type() != Physical::BYTE_ARRAY)
        {
            return Err(bad(format!(
                "column {}: not a string column",
                c.name(c.path)
            )));
        }
        let unit = time_unit(&schema.column(c.modified))
            .map_err(|why| bad(format!("column {}: {why}", c.name(c.modified))))?;
        let bucket_at = c.bucket.map(|_| 3);
        let flags_at = 3 + usize::from(c.bucket.is_some());
        let mut counts = Counts::default();
        let mut batch = Vec::with_capacity(super::BATCH);
        let mut row_base = 0u64;
        for g in 0..reader.num_row_groups() {
            let group = reader
                .get_row_group(g)
                .map_err(|e| bad(format!("row group {g}: {e}")))?;
            let expected = u64::try_from(group.metadata().num_rows()).unwrap_or(0);
            if self.group_outside(
                reader.metadata().file_metadata(),
                group.metadata(),
                c.path,
                c.bucket,
            ) {
                counts.rows += expected;
                counts.outside += expected;
                counts.unread += expected;
                row_base += expected;
                if !send(Item::Read(expected)) {
                    return Ok(counts);
                }
                continue;
            }
            let mut cols = Vec::with_capacity(wanted.len());
            for &i in &wanted {
                let r = group
                    .get_column_reader(i)
                    .map_err(|e| bad(format!("row group {g}, column {}: {e}", c.name(i))))?;
                let max_def = schema.column(i).max_def_level();
                cols.push(Col::new(r, max_def).ok_or_else(|| {
                    bad(format!(
                        "column {}: a type flink-chk does not read",
                        c.name(i)
                    ))
                })?);
            }
            let mut read = 0u64;
            loop {
                let mut n = None;
                for (k, col) in cols.iter_mut().enumerate() {
                    let got = col.read(ROWS).map_err(|e| {
                        bad(format!(
                            "row group {g}, column {}, after row {}: {e} (truncated or damaged)",
                            c.name(wanted[k]),
                            row_base + read
                        ))
                    })?;
                    if *n.get_or_insert(got) != got {
                        return Err(bad(format!(
                            "row group {g}: column {} has a different number of rows",
                            c.name(wanted[k])
                        )));
                    }
                }
                let n = n.unwrap_or(0);
                if n == 0 {
                    break;
                }
                for r in 0..n {
                    counts.rows += 1;
                    // Rows outside the scope send nothing: say how far
                    // reading got.
                    if counts.rows.is_multiple_of(PROGRESS_ROWS) && !send(Item::Read(PROGRESS_ROWS))
                    {
                        return Ok(counts);
                    }
                    let row = row_base + read + r as u64 + 1;
                    let col_err = |i: usize, why: String| Error::Column {
                        file: file.to_owned(),
                        row,
                        field: c.name(i),
                        why,
                    };
                    // Rows that are not current files.
                    if c.skips
                        .iter()
                        .enumerate()
                        .any(|(k, &(_, when))| skips(cols[flags_at + k].get(r), when))
                    {
                        counts.skipped += 1;
                        continue;
                    }
                    let Some(Value::Bytes(key)) = cols[0].get(r) else {
                        return Err(col_err(c.path, "empty (null)".into()));
                    };
                    let bucket = match bucket_at.map(|b| cols[b].get(r)) {
                        Some(Some(Value::Bytes(b))) => Some(b),
                        Some(_) => {
                            return Err(col_err(
                                c.bucket.unwrap_or_default(),
                                "empty (null)".into(),
                            ));
                        }
                        None => None,
                    };
                    if self.is_objects() && key.ends_with(b"/") {
                        counts.skipped += 1; // a "directory" marker object
                        continue;
                    }
                    if self.surely_outside(bucket, key) {
                        counts.outside += 1;
                        continue;
                    }
                    let utf8 = |i: usize, b: &'_ [u8]| {
                        std::str::from_utf8(b)
                            .map(str::to_owned)
                            .map_err(|e| col_err(i, format!("not UTF-8: {e}")))
                    };
                    let path = utf8(c.path, key)?;
                    let bucket = match bucket {
                        Some(b) => Some(utf8(c.bucket.unwrap_or_default(), b)?),
                        None => None,
                    };
                    let placed = self.place(
                        file,
                        &path,
                        bucket.as_deref(),
                        false,
                        || size_of(cols[1].get(r)).map_err(|why| (c.size, why)),
                        || time_of(cols[2].get(r), unit, c.kind).map_err(|why| (c.modified, why)),
                    );
                    match placed {
                        Ok(Placed::Entry(e)) => {
                            counts.in_scope += 1;
                            batch.push(e);
                        }
                        Ok(Placed::Outside) => counts.outside += 1,
                        Ok(Placed::Skipped) => counts.skipped += 1,
                        Err(PlaceError::Field((i, why))) => return Err(col_err(i, why)),
                        Err(PlaceError::Other(e)) => return Err(e),
                    }
                    if batch.len() >= super::BATCH
                        && !send(Item::Batch(std::mem::replace(
                            &mut batch,
                            Vec::with_capacity(super::BATCH),
                        )))
                    {
                        return Ok(counts);
                    }
                }
                read += n as u64;
            }
            if read != expected {
                return Err(bad(format!(
                    "row group {g}: {read} rows read, its metadata says {expected} (truncated or damaged)"
                )));
            }
            row_base += read;
        }
        if !batch.is_empty() {
            send(Item::Batch(batch));
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::inventory::Kind;

    #[test]
    fn times_and_sizes() {
        let t = |v, u| time_of(Some(v), u, Kind::S3).map(|t| t.to_string());
        assert_eq!(
            t(Value::I64(1_500), Some(Unit::Millis)).unwrap(),
            "1970-01-01T00:00:01.5Z"
        );
        assert_eq!(
            t(Value::I64(1_500), Some(Unit::Micros)).unwrap(),
            "1970-01-01T00:00:00.0015Z"
        );
        assert_eq!(
            t(Value::I64(1_500), Some(Unit::Nanos)).unwrap(),
            "1970-01-01T00:00:00.0000015Z"
        );
        // INT96: nanoseconds of the day, then the Julian day (2440588 is
        // 1970-01-01).
        let mut x = Int96::new();
        x.set_data(1_000, 0, 2_440_589);
        assert_eq!(
            t(Value::I96(&x), None).unwrap(),
            "1970-01-02T00:00:00.000001Z"
        );
        assert_eq!(
            t(Value::Bytes(b"2026-01-01T00:00:00Z"), None).unwrap(),
            "2026-01-01T00:00:00Z"
        );
        assert!(
            time_of(None, Some(Unit::Millis), Kind::S3)
                .unwrap_err()
                .contains("null")
        );
        assert!(t(Value::I64(i64::MAX), Some(Unit::Millis)).is_err());
        assert_eq!(size_of(Some(Value::I32(7))), Ok(7));
        assert_eq!(size_of(Some(Value::Bytes(b" 12 "))), Ok(12));
        assert!(size_of(Some(Value::I64(-1))).is_err());
        assert!(skips(Some(Value::I64(1)), Skip::NonEmpty));
        assert!(!skips(None, Skip::False));
        assert!(skips(Some(Value::Bool(false)), Skip::False));
    }
}
