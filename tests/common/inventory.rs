//! TEST-SIDE INVENTORY WRITERS. Hand-built reports, written the way each
//! format's documentation describes them, from a live walk of a tree:
//! - S3 Inventory (AWS S3 User Guide, "Amazon S3 Inventory": manifest.json
//!   with sourceBucket, destinationBucket, version, creationTimestamp (epoch
//!   ms), fileFormat, fileSchema, files[{key, size, MD5checksum}];
//!   manifest.checksum = MD5 of manifest.json; CSV.gz data files under
//!   `<config>/data/`, every field quoted, keys URL-encoded, no header);
//! - `hdfs oiv -p Delimited` (Hadoop HdfsImageViewer: tab-separated, header
//!   Path … GroupName, times `yyyy-MM-dd HH:mm`, directories with a `d`
//!   permission and size 0);
//! - the generic CSV flink-chk documents (`path,size,last_modified`).
//!
//! They are labelled unit inputs, not real reports: the real-store test
//! writes its S3 report from a listing of SeaweedFS the same way.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// One listed file.
#[derive(Debug, Clone)]
pub struct Row {
    /// Absolute path (local) or object key (without a leading `/`).
    pub path: String,
    pub size: u64,
    pub modified: jiff::Timestamp,
    pub is_dir: bool,
}

/// Every file and directory under `dir` (local), with sizes and times.
pub fn walk_rows(dir: &Path) -> Vec<Row> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap().flatten() {
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            let modified = jiff::Timestamp::try_from(m.modified().unwrap()).unwrap();
            out.push(Row {
                path: e.path().display().to_string(),
                size: if m.is_dir() { 0 } else { m.len() },
                modified,
                is_dir: m.is_dir(),
            });
            if m.is_dir() {
                stack.push(e.path());
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// `path,size,last_modified` (RFC 3339, milliseconds), files only.
pub fn write_csv(rows: &[Row], to: &Path) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(to).unwrap());
    writeln!(f, "path,size,last_modified").unwrap();
    for r in rows.iter().filter(|r| !r.is_dir) {
        writeln!(
            f,
            "{},{},{}",
            r.path,
            r.size,
            r.modified.round(jiff::Unit::Millisecond).unwrap()
        )
        .unwrap();
    }
    f.flush().unwrap();
}

/// `hdfs oiv -p Delimited` output (times in UTC, minutes; directories too).
pub fn write_oiv(rows: &[Row], to: &Path) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(to).unwrap());
    writeln!(
        f,
        "Path\tReplication\tModificationTime\tAccessTime\tPreferredBlockSize\tBlocksCount\tFileSize\tNSQUOTA\tDSQUOTA\tPermission\tUserName\tGroupName"
    )
    .unwrap();
    let minute = |t: jiff::Timestamp| {
        t.to_zoned(jiff::tz::TimeZone::UTC)
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    for r in rows {
        if r.is_dir {
            writeln!(
                f,
                "{}\t0\t{}\t1970-01-01 00:00\t0\t0\t0\t-1\t-1\tdrwxr-xr-x\tflink\tsupergroup",
                r.path,
                minute(r.modified)
            )
            .unwrap();
        } else {
            writeln!(
                f,
                "{}\t3\t{}\t{}\t134217728\t{}\t{}\t0\t0\t-rw-r--r--\tflink\tsupergroup",
                r.path,
                minute(r.modified),
                minute(r.modified),
                r.size.div_ceil(134_217_728),
                r.size
            )
            .unwrap();
        }
    }
    f.flush().unwrap();
}

/// URL-encodes a key the way S3 Inventory CSV does (form encoding).
pub fn s3_key_encode(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'/' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest as _;
    md5::Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where an S3 Inventory report is delivered: the destination bucket and
/// prefix (the keys the manifest lists).
pub struct Destination<'a> {
    pub bucket: &'a str,
    pub prefix: &'a str,
}

/// An S3 Inventory report of `rows` (keys, files only) for `bucket`, taken
/// at `time`, as S3 lays it out under `dest` (a local directory standing for
/// the destination prefix): `<bucket>/<config>/<time>/manifest.json` +
/// `manifest.checksum`, data in `<bucket>/<config>/data/` split into
/// `shards` CSV.gz files. Returns the manifest's path.
pub fn write_s3(
    rows: &[Row],
    bucket: &str,
    time: jiff::Timestamp,
    dest: &Path,
    to: &Destination<'_>,
    shards: usize,
) -> PathBuf {
    let config = dest.join(bucket).join("flink-chk-inventory");
    let stamp = time
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%Y-%m-%dT%H-%MZ")
        .to_string();
    let run = config.join(&stamp);
    std::fs::create_dir_all(&run).unwrap();
    std::fs::create_dir_all(config.join("data")).unwrap();
    let files: Vec<&Row> = rows.iter().filter(|r| !r.is_dir).collect();
    let per = files.len().div_ceil(shards.max(1)).max(1);
    let mut listed = Vec::new();
    for (i, chunk) in files.chunks(per).enumerate() {
        let name = format!("data/{stamp}-{i:04}.csv.gz");
        let path = config.join(&name);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for r in chunk {
            let t = r.modified.round(jiff::Unit::Millisecond).unwrap();
            writeln!(
                gz,
                "\"{bucket}\",\"{}\",\"{}\",\"{}\",\"{}\"",
                s3_key_encode(r.path.trim_start_matches('/')),
                r.size,
                t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
                md5_hex(r.path.as_bytes())
            )
            .unwrap();
        }
        let bytes = gz.finish().unwrap();
        std::fs::write(&path, &bytes).unwrap();
        listed.push(serde_json::json!({
            "key": format!("{}/{bucket}/flink-chk-inventory/{name}", to.prefix),
            "size": bytes.len(),
            "MD5checksum": md5_hex(&bytes),
        }));
    }
    let manifest = serde_json::json!({
        "sourceBucket": bucket,
        "destinationBucket": format!("arn:aws:s3:::{}", to.bucket),
        "version": "2016-11-30",
        "creationTimestamp": time.as_millisecond().to_string(),
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size, LastModifiedDate, ETag",
        "files": listed,
    });
    let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    std::fs::write(run.join("manifest.json"), &bytes).unwrap();
    std::fs::write(run.join("manifest.checksum"), md5_hex(&bytes)).unwrap();
    run.join("manifest.json")
}

/// Sets every file under `dir` to `t0` (a whole minute) and each
/// `chk-N/_metadata` to `t0 + N + 1` minutes: Flink's write order at a
/// resolution every report format keeps (oiv keeps minutes).
pub fn set_minute_times(dir: &Path, t0: jiff::Timestamp) {
    for f in super::walk(dir) {
        let n = (f.file_name().is_some_and(|n| n == "_metadata"))
            .then(|| {
                f.parent()?
                    .file_name()?
                    .to_str()?
                    .strip_prefix("chk-")?
                    .parse::<i64>()
                    .ok()
            })
            .flatten()
            .map_or(0, |n| n + 1);
        let t = t0 + jiff::SignedDuration::from_mins(n);
        let file = std::fs::File::options().write(true).open(&f).unwrap();
        file.set_modified(std::time::SystemTime::from(t)).unwrap();
    }
}
