//! The two file forms of a reference export: Parquet (three required UTF-8
//! `BYTE_ARRAY` columns, ZSTD, dictionary-encoded where it pays) and CSV
//! (header `kind,path,snapshot`). Rows are written as they come; Parquet
//! holds one row group (at most [`ROW_GROUP`] rows) in memory.

use std::io::Write;
use std::sync::Arc;

use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{ByteArray, ByteArrayType};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use super::{Error, Kind};

/// Rows per Parquet row group (about 10–20 MB of paths).
pub const ROW_GROUP: usize = 1 << 17;

/// The Parquet schema of an export (the CSV header names the same columns).
pub const PARQUET_SCHEMA: &str = "message flink_chk_refs {
  REQUIRED BYTE_ARRAY kind (STRING);
  REQUIRED BYTE_ARRAY path (STRING);
  REQUIRED BYTE_ARRAY snapshot (STRING);
}";

/// The CSV header.
pub const CSV_HEADER: [&str; 3] = ["kind", "path", "snapshot"];

/// Which file form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Apache Parquet.
    Parquet,
    /// CSV with a header line.
    Csv,
}

impl Format {
    /// The form a file name asks for (`.parquet`, `.csv`), if any.
    pub fn from_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".parquet") || lower.ends_with(".pq") {
            Some(Format::Parquet)
        } else if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else {
            None
        }
    }
}

/// Writes rows in one [`Format`] to `W`.
pub struct RowWriter<W: Write + Send> {
    inner: Inner<W>,
    rows: u64,
}

impl<W: Write + Send> std::fmt::Debug for RowWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowWriter")
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

enum Inner<W: Write + Send> {
    Parquet {
        file: Box<SerializedFileWriter<W>>,
        columns: [Vec<ByteArray>; 3],
    },
    Csv(Box<csv::Writer<W>>),
}

fn parquet_err(e: parquet::errors::ParquetError) -> Error {
    Error::Write(format!("Parquet: {e}"))
}

fn csv_err(e: csv::Error) -> Error {
    Error::Write(format!("CSV: {e}"))
}

impl<W: Write + Send> RowWriter<W> {
    /// A writer of `format` into `out`.
    pub fn new(format: Format, out: W) -> Result<Self, Error> {
        let inner = match format {
            Format::Parquet => {
                let schema = Arc::new(parse_message_type(PARQUET_SCHEMA).map_err(parquet_err)?);
                let level = ZstdLevel::try_new(3).map_err(parquet_err)?;
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(level))
                    .set_created_by(format!("flink-chk {}", env!("CARGO_PKG_VERSION")))
                    .build();
                let file =
                    SerializedFileWriter::new(out, schema, Arc::new(props)).map_err(parquet_err)?;
                Inner::Parquet {
                    file: Box::new(file),
                    columns: Default::default(),
                }
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(CSV_HEADER).map_err(csv_err)?;
                Inner::Csv(Box::new(w))
            }
        };
        Ok(RowWriter { inner, rows: 0 })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes one row.
    pub fn write(&mut self, kind: Kind, path: &str, snapshot: &str) -> Result<(), Error> {
        self.rows += 1;
        match &mut self.inner {
            Inner::Parquet { columns, .. } => {
                for (c, v) in columns.iter_mut().zip([kind.as_str(), path, snapshot]) {
                    c.push(ByteArray::from(v.as_bytes().to_vec()));
                }
                if columns[0].len() >= ROW_GROUP {
                    self.flush_group()?;
                }
                Ok(())
            }
            Inner::Csv(w) => w
                .write_record([kind.as_str(), path, snapshot])
                .map_err(csv_err),
        }
    }

    fn flush_group(&mut self) -> Result<(), Error> {
        let Inner::Parquet { file, columns } = &mut self.inner else {
            return Ok(());
        };
        if columns[0].is_empty() {
            return Ok(());
        }
        let mut group = file.next_row_group().map_err(parquet_err)?;
        for values in columns.iter_mut() {
            let mut col = group
                .next_column()
                .map_err(parquet_err)?
                .ok_or_else(|| Error::Write("Parquet: fewer columns than the schema".into()))?;
            col.typed::<ByteArrayType>()
                .write_batch(values, None, None)
                .map_err(parquet_err)?;
            col.close().map_err(parquet_err)?;
            values.clear();
        }
        group.close().map_err(parquet_err)?;
        Ok(())
    }

    /// Writes what is buffered and the file's footer; the output back.
    pub fn finish(mut self) -> Result<W, Error> {
        self.flush_group()?;
        match self.inner {
            Inner::Parquet { file, .. } => file.into_inner().map_err(parquet_err),
            Inner::Csv(w) => w
                .into_inner()
                .map_err(|e| Error::Write(format!("CSV: {}", e.error()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    #[test]
    fn parquet_round_trip_across_row_groups() {
        let mut w = RowWriter::new(Format::Parquet, Vec::new()).unwrap();
        let n = ROW_GROUP + 3;
        for i in 0..n {
            w.write(Kind::Ref, &format!("/r/j/shared/{i}"), "/r/j/chk-1/")
                .unwrap();
        }
        w.write(Kind::KeptDir, "/r/j/chk-1/", "/r/j/chk-1/")
            .unwrap();
        let bytes = bytes::Bytes::from(w.finish().unwrap());
        let r = SerializedFileReader::new(bytes).unwrap();
        assert_eq!(r.num_row_groups(), 2);
        let rows: Vec<String> = r
            .get_row_iter(None)
            .unwrap()
            .map(|row| {
                let row = row.unwrap();
                let f: Vec<String> = row
                    .get_column_iter()
                    .map(|(_, v)| v.to_string().trim_matches('"').to_owned())
                    .collect();
                f.join(" ")
            })
            .collect();
        assert_eq!(rows.len(), n + 1);
        assert_eq!(rows[0], "ref /r/j/shared/0 /r/j/chk-1/");
        assert_eq!(rows[n], "kept_dir /r/j/chk-1/ /r/j/chk-1/");
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let mut w = RowWriter::new(Format::Csv, Vec::new()).unwrap();
        w.write(Kind::Ref, "/r/a,b \"c\"", "/r/chk-1/").unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "kind,path,snapshot\nref,\"/r/a,b \"\"c\"\"\",/r/chk-1/\n"
        );
    }

    #[test]
    fn format_from_name() {
        assert_eq!(Format::from_name("x.PARQUET"), Some(Format::Parquet));
        assert_eq!(Format::from_name("x.csv"), Some(Format::Csv));
        assert_eq!(Format::from_name("x.txt"), None);
    }
}
