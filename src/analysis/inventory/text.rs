//! The rows of CSV/TSV reports (S3 Inventory CSV, `hdfs oiv -p Delimited`,
//! the generic CSV, GCS and Azure CSV shards): one row to one [`Entry`] of
//! the root's store.

use std::io::Read;

use super::columns::{self, Columns};
use super::filter::{Filter, PlaceError, Placed};
use super::{Counts, Error, Item, Kind};

/// Rows between two [`Item::Read`] reports.
pub(super) const PROGRESS_ROWS: u64 = 1 << 20;

/// The first line of a report (decompressed when `gzip`).
pub(crate) fn first_line(head: &[u8], gzip: bool) -> Result<String, String> {
    let mut buf = Vec::new();
    if gzip {
        let mut d = flate2::read::MultiGzDecoder::new(head);
        let mut chunk = [0u8; 8192];
        loop {
            match d.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if buf.contains(&b'\n') || buf.len() > 64 << 10 {
                        break;
                    }
                }
                // The head is only the start of the file.
                Err(_) if !buf.is_empty() => break,
                Err(e) => return Err(format!("not valid gzip: {e}")),
            }
        }
    } else {
        buf.extend_from_slice(head);
    }
    let end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    let line = &buf[..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Ok(String::from_utf8_lossy(line).into_owned())
}

/// The kind and columns a header line names.
pub(super) fn detect(first: &str) -> Option<(Kind, Columns)> {
    // oiv: "Path<delimiter>Replication<delimiter>…" (tab unless -delimiter).
    if let Some(rest) = first.strip_prefix("Path")
        && let Some(d) = rest.chars().next()
        && rest[d.len_utf8()..].starts_with("Replication")
        && d.is_ascii()
    {
        let names: Vec<String> = first.split(d).map(str::to_owned).collect();
        let mut c = Columns::resolve(Kind::HdfsOiv, &columns::OIV, names).ok()?;
        c.delimiter = d as u8;
        return Some((Kind::HdfsOiv, c));
    }
    let c = Columns::resolve(
        Kind::Csv,
        &columns::GENERIC,
        header_names(first.as_bytes(), b','),
    )
    .ok()?;
    Some((Kind::Csv, c))
}

/// The column names of a header row.
fn header_names(row: &[u8], delimiter: u8) -> Vec<String> {
    row.split(|&b| b == delimiter)
        .map(|s| {
            String::from_utf8_lossy(s)
                .trim()
                .trim_matches('"')
                .to_owned()
        })
        .collect()
}

impl Filter {
    /// Decodes one text data file, sending batches of entries under the
    /// scope. `send` answers false when no one listens any more.
    pub(super) fn decode(
        &self,
        file: &str,
        columns: &Columns,
        reader: impl Read,
        gzip: bool,
        mut send: impl FnMut(Item) -> bool,
    ) -> Result<Counts, Error> {
        let reader = EndCheck::new(reader, !gzip);
        let input: Box<dyn Read> = if gzip {
            Box::new(flate2::read::MultiGzDecoder::new(
                std::io::BufReader::with_capacity(1 << 20, reader),
            ))
        } else {
            Box::new(reader)
        };
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .delimiter(columns.delimiter)
            .quoting(columns.kind != Kind::HdfsOiv)
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_reader(input);
        let mut resolved = None;
        let mut c = columns;
        let mut counts = Counts::default();
        let mut batch = Vec::with_capacity(super::BATCH);
        let mut record = csv::ByteRecord::new();
        let mut first = true;
        let mut last = csv::Position::new();
        loop {
            match csv.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let at = match e.position() {
                        Some(p) => format!("line {}, byte offset {}", p.line(), p.byte()),
                        None => format!(
                            "after line {}, byte offset {} (decompressed)",
                            last.line(),
                            last.byte()
                        ),
                    };
                    return Err(Error::Decode {
                        file: file.to_owned(),
                        why: format!("{at}: {}", csv_error(&e)),
                    });
                }
            }
            if std::mem::take(&mut first) && columns.header {
                // Each file's own header places the columns.
                let names = record
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).trim().to_owned())
                    .collect();
                let again = columns.again(names).map_err(|why| Error::Decode {
                    file: file.to_owned(),
                    why: format!("line 1 (the header): {why}"),
                })?;
                c = resolved.insert(again);
                continue;
            }
            counts.rows += 1;
            // Rows outside the scope send nothing: say how far reading got.
            if counts.rows.is_multiple_of(PROGRESS_ROWS) && !send(Item::Read(PROGRESS_ROWS)) {
                return Ok(counts);
            }
            let pos = record
                .position()
                .cloned()
                .unwrap_or_else(csv::Position::new);
            last = pos.clone();
            let row_err = |field: usize, why: String| Error::Row {
                file: file.to_owned(),
                line: pos.line(),
                offset: pos.byte(),
                field: c.name(field),
                why,
            };
            let field = |i: usize| -> Result<&str, (usize, String)> {
                let b = record
                    .get(i)
                    .ok_or_else(|| (i, format!("missing: the row has {} fields", record.len())))?;
                std::str::from_utf8(b).map_err(|e| (i, format!("not UTF-8: {e}")))
            };
            let text = |i: usize| field(i).map_err(|(i, why)| row_err(i, why));
            // Rows that are not current files.
            let mut skip = false;
            for &(i, when) in &c.skips {
                skip |= when.text(text(i)?);
            }
            if skip {
                counts.skipped += 1;
                continue;
            }
            let mut special = false;
            if let Some(i) = c.permission {
                let p = text(i)?;
                if p.starts_with('d') {
                    counts.skipped += 1;
                    continue;
                }
                // oiv writes `-` for symbolic links too; they alone have
                // no preferred block size.
                special = p.starts_with('l')
                    || c.block_size
                        .and_then(|b| field(b).ok())
                        .is_some_and(|b| b.trim() == "0");
            }
            let raw = text(c.path)?;
            let decoded;
            // S3 Inventory CSV keys are URL-encoded (Parquet keys are not).
            let path = if c.kind == Kind::S3 && raw.contains(['%', '+']) {
                decoded = url_decode(raw).map_err(|why| row_err(c.path, why))?;
                decoded.as_str()
            } else {
                raw
            };
            let bucket = match c.bucket {
                Some(i) => Some(text(i)?),
                None => None,
            };
            let placed = self.place(
                file,
                path,
                bucket,
                special,
                || {
                    field(c.size)?
                        .trim()
                        .parse::<u64>()
                        .map_err(|e| (c.size, format!("not a size: {e}")))
                },
                || parse_time(c.kind, field(c.modified)?.trim()).map_err(|why| (c.modified, why)),
            );
            match placed {
                Ok(Placed::Entry(e)) => {
                    counts.in_scope += 1;
                    batch.push(e);
                }
                Ok(Placed::Outside) => {
                    counts.outside += 1;
                    continue;
                }
                Ok(Placed::Skipped) => {
                    counts.skipped += 1;
                    continue;
                }
                Err(PlaceError::Field((i, why))) => return Err(row_err(i, why)),
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
        if !batch.is_empty() {
            send(Item::Batch(batch));
        }
        Ok(counts)
    }
}

fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            format!("{io}: the file is truncated")
        }
        csv::ErrorKind::Io(io) => format!("{io} (not valid gzip, or truncated)"),
        _ => e.to_string(),
    }
}

/// A row's time: S3 ISO 8601, oiv `yyyy-MM-dd HH:mm` (UTC, rounded up to
/// the end of its minute: oiv drops the seconds), CSV RFC 3339 or epoch
/// milliseconds.
pub(super) fn parse_time(kind: Kind, s: &str) -> Result<jiff::Timestamp, String> {
    match kind {
        Kind::HdfsOiv => {
            let dt: jiff::civil::DateTime = s
                .parse()
                .map_err(|e| format!("not a time (yyyy-MM-dd HH:mm): {e}"))?;
            let t = dt
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map_err(|e| e.to_string())?
                .timestamp();
            Ok(t.checked_add(jiff::SignedDuration::from_millis(59_999))
                .unwrap_or(t))
        }
        Kind::Csv if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            let ms: i64 = s
                .parse()
                .map_err(|e| format!("not epoch milliseconds: {e}"))?;
            jiff::Timestamp::from_millisecond(ms).map_err(|e| e.to_string())
        }
        // Azure and GCS write RFC 3339; an RFC 1123 time (HTTP's
        // Last-Modified) is read too.
        Kind::Azure | Kind::Gcs if s.contains(',') => jiff::fmt::rfc2822::parse(s)
            .map(|z| z.timestamp())
            .map_err(|e| format!("not an RFC 3339 or RFC 1123 time: {e}")),
        _ => parse_rfc3339(s),
    }
}

/// An RFC 3339 time (any number of fraction digits).
pub(super) fn parse_rfc3339(s: &str) -> Result<jiff::Timestamp, String> {
    trim_fraction(s)
        .parse::<jiff::Timestamp>()
        .map_err(|e| format!("not an RFC 3339 time: {e}"))
}

/// RFC 3339 allows any number of fraction digits; nanoseconds are kept
/// (`find -printf %TS` writes ten digits).
fn trim_fraction(s: &str) -> std::borrow::Cow<'_, str> {
    let Some(dot) = s.find('.') else {
        return s.into();
    };
    let digits = s[dot + 1..].bytes().take_while(u8::is_ascii_digit).count();
    if digits <= 9 {
        return s.into();
    }
    format!("{}{}", &s[..dot + 10], &s[dot + 1 + digits..]).into()
}

/// Encodes a key as S3 Batch Operations and S3 Inventory CSV files hold
/// them ("object keys must be URL-encoded"): every byte but the unreserved
/// characters of RFC 3986 (`A-Z a-z 0-9 - . _ ~`) and `/` as `%XX`, so a
/// space is `%20` and `+` is `%2B`; [`url_decode`] reads it back.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` and `+` (space), as S3 Inventory CSV writes keys.
fn url_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad %-escape at character {i} of {s:?}"))?;
                out.push(hex);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} does not decode to UTF-8"))
}

/// Bytes arriving over a channel as a [`Read`].
pub(super) struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
}

impl ChannelReader {
    pub(super) fn new(rx: tokio::sync::mpsc::Receiver<Vec<u8>>) -> Self {
        ChannelReader {
            rx,
            buf: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.buf.len() {
            match self.rx.blocking_recv() {
                Some(b) => {
                    self.buf = b;
                    self.pos = 0;
                }
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..n + self.pos]);
        self.pos += n;
        Ok(n)
    }
}

/// Fails at the end of an uncompressed text file whose last line has no
/// newline: a file cut short (a complete report ends every line).
struct EndCheck<R> {
    inner: R,
    check: bool,
    last: Option<u8>,
}

impl<R: Read> EndCheck<R> {
    fn new(inner: R, check: bool) -> Self {
        EndCheck {
            inner,
            check,
            last: None,
        }
    }
}

impl<R: Read> Read for EndCheck<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        if n > 0 {
            self.last = Some(out[n - 1]);
        } else if self.check && self.last.is_some_and(|b| b != b'\n') {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the last line has no newline",
            ));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_decoding() {
        assert_eq!(url_decode("a%20b+c%2Bd").unwrap(), "a b c+d");
        assert!(url_decode("a%2").is_err());
        assert!(url_decode("%ff").is_err());
    }

    #[test]
    fn url_encoding_round_trips() {
        let key = "ck/job=1/a b+c,d%e\u{e9}/_metadata";
        let enc = url_encode(key);
        assert_eq!(enc, "ck/job%3D1/a%20b%2Bc%2Cd%25e%C3%A9/_metadata");
        assert_eq!(url_decode(&enc).unwrap(), key);
        assert_eq!(url_encode("shared/0b1c-x_y.~z"), "shared/0b1c-x_y.~z");
    }

    #[test]
    fn times() {
        let t = parse_time(Kind::HdfsOiv, "2026-12-06 21:52").unwrap();
        assert_eq!(t.to_string(), "2026-12-06T21:52:59.999Z");
        assert_eq!(
            parse_time(Kind::Csv, "1780000000000")
                .unwrap()
                .as_millisecond(),
            1_780_000_000_000
        );
        assert!(parse_time(Kind::Csv, "2026-12-06T21:52:00Z").is_ok());
        assert_eq!(
            parse_time(Kind::Csv, "2026-01-01T00:00:00.1234567890Z")
                .unwrap()
                .to_string(),
            "2026-01-01T00:00:00.123456789Z"
        );
        assert!(parse_time(Kind::S3, "yesterday").is_err());
        assert_eq!(
            parse_time(Kind::Azure, "Wed, 26 May 2021 13:25:36 GMT")
                .unwrap()
                .to_string(),
            "2021-05-26T13:25:36Z"
        );
        assert_eq!(
            parse_time(Kind::Azure, "2021-05-26T13:25:36.1234567Z")
                .unwrap()
                .to_string(),
            "2021-05-26T13:25:36.1234567Z"
        );
    }

    #[test]
    fn headers() {
        let (k, c) = detect("Path\tReplication\tModificationTime\tAccessTime\tPreferredBlockSize\tBlocksCount\tFileSize\tNSQUOTA\tDSQUOTA\tPermission\tUserName\tGroupName").unwrap();
        assert_eq!(
            (k, c.path, c.size, c.modified, c.delimiter),
            (Kind::HdfsOiv, 0, 6, 2, b'\t')
        );
        let (k, c) = detect("last_modified,path,extra,size").unwrap();
        assert_eq!((k, c.path, c.size, c.modified), (Kind::Csv, 1, 3, 0));
        assert!(detect("name,bytes").is_none());
    }
}
