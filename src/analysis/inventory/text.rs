//! The rows of CSV/TSV reports: which column is which, and one row to one
//! [`Entry`] of the root's store.

use std::io::Read;
use std::sync::OnceLock;

use super::{Counts, Error, Inventory, Item, Kind, TimeFrom};

/// Rows between two [`Item::Read`] reports.
const PROGRESS_ROWS: u64 = 1 << 20;
use crate::analysis::snapshot::Rebase;
use crate::storage::{Entry, Location, Scheme};

/// Which column holds what.
#[derive(Debug, Clone)]
pub struct Columns {
    kind: Kind,
    names: Vec<String>,
    path: usize,
    size: usize,
    modified: usize,
    /// S3 with all versions.
    is_latest: Option<usize>,
    delete_marker: Option<usize>,
    /// oiv: `d` prefix for directories.
    permission: Option<usize>,
    /// oiv: 0 for directories and symbolic links.
    block_size: Option<usize>,
    delimiter: u8,
    header: bool,
}

fn find(names: &[String], want: &str) -> Option<usize> {
    names.iter().position(|n| n.eq_ignore_ascii_case(want))
}

impl Columns {
    /// S3 Inventory CSV columns, in `fileSchema` order (no header row).
    pub(super) fn s3(schema: &str) -> Result<Columns, String> {
        let names: Vec<String> = schema.split(',').map(|s| s.trim().to_owned()).collect();
        let need = |n: &str| {
            find(&names, n).ok_or_else(|| {
                format!(
                    "no {n} column (fileSchema is {schema:?}); flink-chk needs Key, Size and LastModifiedDate: add the optional fields Size and LastModifiedDate to the inventory configuration"
                )
            })
        };
        Ok(Columns {
            kind: Kind::S3,
            path: need("Key")?,
            size: need("Size")?,
            modified: need("LastModifiedDate")?,
            is_latest: find(&names, "IsLatest"),
            delete_marker: find(&names, "IsDeleteMarker"),
            permission: None,
            block_size: None,
            delimiter: b',',
            header: false,
            names,
        })
    }
}

/// The first line of a report (decompressed when `gzip`).
pub(super) fn first_line(head: &[u8], gzip: bool) -> Result<String, String> {
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
        return Some((
            Kind::HdfsOiv,
            Columns {
                kind: Kind::HdfsOiv,
                path: find(&names, "Path")?,
                size: find(&names, "FileSize")?,
                modified: find(&names, "ModificationTime")?,
                is_latest: None,
                delete_marker: None,
                permission: find(&names, "Permission"),
                block_size: find(&names, "PreferredBlockSize"),
                delimiter: d as u8,
                header: true,
                names,
            },
        ));
    }
    let names: Vec<String> = first
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_owned())
        .collect();
    Some((
        Kind::Csv,
        Columns {
            kind: Kind::Csv,
            path: find(&names, "path")?,
            size: find(&names, "size")?,
            modified: find(&names, "last_modified")?,
            is_latest: None,
            delete_marker: None,
            permission: None,
            block_size: None,
            delimiter: b',',
            header: true,
            names,
        },
    ))
}

/// Which rows are wanted and how they become entries of the root's store.
#[derive(Debug)]
pub(super) struct Filter {
    root: Location,
    scope_prefix: String,
    rebase: Rebase,
    /// S3: the listed bucket.
    bucket: Option<String>,
    same_store_bucket: bool,
    columns: Columns,
    time: jiff::Timestamp,
    time_from: TimeFrom,
    /// S3 rows of another bucket than the root's: the paths (`/…/`) in
    /// that bucket that `--rebase` maps somewhere; rows elsewhere are
    /// outside without being parsed.
    mapped: Vec<String>,
    /// A row of another store (the first seen).
    foreign: OnceLock<Location>,
}

fn same_store(a: &Location, b: &Location) -> bool {
    let family = |s: Scheme| {
        if s == Scheme::Local {
            "file"
        } else {
            s.canonical()
        }
    };
    family(a.scheme()) == family(b.scheme()) && a.authority() == b.authority()
}

/// Whether `path` (absolute, `/`-separated) is in normal form: no empty,
/// `.` or `..` segment, no trailing `/`.
fn is_normal(path: &str) -> bool {
    path.len() > 1
        && path
            .split('/')
            .skip(1)
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

impl Filter {
    pub(super) fn new(inv: &Inventory, root: &Location, scope: &Location, rebase: &Rebase) -> Self {
        let scope_prefix = match scope.path() {
            "/" => "/".to_owned(),
            p => format!("{p}/"),
        };
        let same_store_bucket = inv
            .bucket
            .as_deref()
            .is_some_and(|b| root.scheme().is_object_store() && b == root.authority());
        let mapped = match inv.bucket.as_deref() {
            Some(b) if !same_store_bucket => rebase
                .rules()
                .iter()
                .filter(|(from, _)| from.scheme().is_object_store() && from.authority() == b)
                .map(|(from, _)| match from.path() {
                    "/" => "/".to_owned(),
                    p => format!("{p}/"),
                })
                .collect(),
            _ => Vec::new(),
        };
        Filter {
            root: root.clone(),
            scope_prefix,
            mapped,
            rebase: rebase.clone(),
            bucket: inv.bucket.clone(),
            same_store_bucket,
            columns: inv.columns.clone(),
            time: inv.time,
            time_from: inv.time_from,
            foreign: OnceLock::new(),
        }
    }

    /// The entry for a row's path (already URL-decoded), or `None` when it
    /// lies outside the scope (`Err(())` when the path is not in normal form).
    fn locate(&self, path: &str) -> Result<Option<Location>, ()> {
        match self.columns.kind {
            // The hot path: most rows of a bucket lie outside the root, and
            // are dropped by a prefix test, before any allocation.
            Kind::S3 if self.same_store_bucket => {
                if !path.starts_with(&self.scope_prefix[1..]) {
                    return Ok(None);
                }
                let abs = format!("/{path}");
                if !is_normal(&abs) {
                    return Err(());
                }
                Ok(Some(self.root.with_path(&abs)))
            }
            Kind::S3 => {
                let bucket = self.bucket.as_deref().unwrap_or_default();
                if !self.mapped.iter().any(|m| path.starts_with(&m[1..])) {
                    if self.foreign.get().is_none()
                        && let Ok(l) = Location::parse(&format!("s3://{bucket}/"))
                    {
                        let _ = self.foreign.set(l);
                    }
                    return Ok(None);
                }
                let abs = format!("/{path}");
                if !is_normal(&abs) {
                    return Err(());
                }
                let Ok(l) = Location::parse(&format!("s3://{bucket}{abs}")) else {
                    return Err(());
                };
                Ok(self.foreign_row(l))
            }
            Kind::HdfsOiv | Kind::Csv if path.starts_with('/') => {
                if !is_normal(path) {
                    return Err(());
                }
                Ok(path
                    .starts_with(&self.scope_prefix)
                    .then(|| self.root.with_path(path)))
            }
            _ => {
                // Parsing would normalise a `//`, `.` or `..` away: check the
                // path as written.
                let raw = path
                    .split_once("://")
                    .and_then(|(_, r)| r.find('/').map(|i| &r[i..]))
                    .unwrap_or("");
                if !is_normal(raw) {
                    return Err(());
                }
                let Ok(l) = Location::parse(path) else {
                    return Err(());
                };
                if same_store(&l, &self.root) {
                    return Ok(l
                        .path()
                        .starts_with(&self.scope_prefix)
                        .then(|| self.root.with_path(l.path())));
                }
                Ok(self.foreign_row(l))
            }
        }
    }

    /// A row of another store: under the scope only through `--rebase`.
    fn foreign_row(&self, l: Location) -> Option<Location> {
        let mapped = self.rebase.apply(l.clone());
        if same_store(&mapped, &self.root) && mapped.path().starts_with(&self.scope_prefix) {
            return Some(self.root.with_path(mapped.path()));
        }
        if !same_store(&mapped, &self.root) && self.foreign.get().is_none() {
            let _ = self.foreign.set(l);
        }
        None
    }

    /// Fails when no row lies under the scope while rows of another store
    /// were seen.
    pub(super) fn finish(&self, inv: &Inventory, c: Counts) -> Result<Counts, Error> {
        if c.in_scope == 0
            && let Some(l) = self.foreign.get()
        {
            return Err(other_store(inv, l, &self.root));
        }
        Ok(c)
    }

    /// Decodes one data file, sending batches of entries under the scope.
    /// `send` answers false when no one listens any more.
    pub(super) fn decode(
        &self,
        file: &str,
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
        let c = &self.columns;
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .delimiter(c.delimiter)
            .quoting(c.kind != Kind::HdfsOiv)
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_reader(input);
        let mut counts = Counts::default();
        let mut batch = Vec::with_capacity(super::BATCH);
        let mut record = csv::ByteRecord::new();
        let mut first = true;
        let mut last = csv::Position::new();
        let latest = self
            .time
            .checked_add(super::FUTURE_TOLERANCE)
            .unwrap_or(self.time);
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
            if std::mem::take(&mut first) && c.header {
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
                field: c
                    .names
                    .get(field)
                    .cloned()
                    .unwrap_or_else(|| format!("#{field}")),
                why,
            };
            let field = |i: usize| -> Result<&str, Error> {
                let b = record.get(i).ok_or_else(|| {
                    row_err(i, format!("missing: the row has {} fields", record.len()))
                })?;
                std::str::from_utf8(b).map_err(|e| row_err(i, format!("not UTF-8: {e}")))
            };
            // Rows that are not current files.
            if let Some(i) = c.is_latest
                && field(i)?.eq_ignore_ascii_case("false")
            {
                counts.skipped += 1;
                continue;
            }
            if let Some(i) = c.delete_marker
                && field(i)?.eq_ignore_ascii_case("true")
            {
                counts.skipped += 1;
                continue;
            }
            let mut special = false;
            if let Some(i) = c.permission {
                let p = field(i)?;
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
            let raw = field(c.path)?;
            let decoded;
            let path = if c.kind == Kind::S3 && raw.contains(['%', '+']) {
                decoded = url_decode(raw).map_err(|why| row_err(c.path, why))?;
                decoded.as_str()
            } else {
                raw
            };
            if c.kind == Kind::S3 && path.ends_with('/') {
                counts.skipped += 1; // a "directory" marker object
                continue;
            }
            let location = match self.locate(path) {
                Ok(Some(l)) => l,
                Ok(None) => {
                    counts.outside += 1;
                    continue;
                }
                Err(()) => {
                    counts.skipped += 1;
                    continue;
                }
            };
            let size = field(c.size)?
                .trim()
                .parse::<u64>()
                .map_err(|e| row_err(c.size, format!("not a size: {e}")))?;
            let modified = parse_time(c.kind, field(c.modified)?.trim())
                .map_err(|why| row_err(c.modified, why))?;
            if modified > latest {
                return Err(Error::RowAfterTime {
                    file: file.to_owned(),
                    path: location.to_string(),
                    modified,
                    time: self.time,
                    from: match self.time_from {
                        TimeFrom::Manifest => "from the manifest",
                        TimeFrom::FileModified => "the file's modification time",
                        TimeFrom::Given => "--inventory-time",
                    },
                });
            }
            counts.in_scope += 1;
            batch.push(Entry {
                location,
                size,
                modified: Some(modified),
                is_dir: false,
                special,
            });
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

/// The error for rows of another store than the root's.
pub(super) fn other_store(inv: &Inventory, row: &Location, root: &Location) -> Error {
    let found = row.with_path("/");
    let found = found.to_string();
    let found = found.trim_end_matches('/');
    Error::OtherStore {
        file: inv.source.to_string(),
        found: found.to_owned(),
        root: root.to_string(),
        suggest: format!("{found}{}={root}", root.path()),
    }
}

/// A row's time: S3 ISO 8601, oiv `yyyy-MM-dd HH:mm` (UTC, rounded up to
/// the end of its minute: oiv drops the seconds), CSV RFC 3339 or epoch
/// milliseconds.
fn parse_time(kind: Kind, s: &str) -> Result<jiff::Timestamp, String> {
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
        _ => trim_fraction(s)
            .parse::<jiff::Timestamp>()
            .map_err(|e| format!("not an RFC 3339 time: {e}")),
    }
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
    fn normal_paths() {
        assert!(is_normal("/a/b"));
        for p in ["/", "/a//b", "/a/./b", "/a/../b", "/a/"] {
            assert!(!is_normal(p), "{p}");
        }
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
        let c = Columns::s3("Bucket, Key, Size, LastModifiedDate, ETag").unwrap();
        assert_eq!((c.path, c.size, c.modified), (1, 2, 3));
        assert!(
            Columns::s3("Bucket, Key, Size")
                .unwrap_err()
                .contains("LastModifiedDate")
        );
    }
}
