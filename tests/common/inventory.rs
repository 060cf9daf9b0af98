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
//! - the generic CSV flink-chk documents (`path,size,last_modified`);
//! - S3 Inventory in Parquet (the same guide's Parquet manifest and
//!   `fileSchema`: lower snake case columns, keys not URL-encoded,
//!   `last_modified_date` an int64 TIMESTAMP(MILLIS)), with noncurrent
//!   versions, delete markers and `…/` placeholders to skip;
//! - the generic Parquet file (`path`, `size`, `last_modified`);
//! - GCS Storage Insights inventory reports (Google Cloud docs, "Inventory
//!   reports": CSV with a header or Parquet shards, gcloud's default field
//!   names; the manifest's field names as third-party readers of real
//!   reports parse them, since Google's page does not show one);
//! - Azure blob inventory (Microsoft Learn, "Azure Storage blob inventory":
//!   `<rule>-manifest.json` as its sample, `<rule>-manifest.checksum`, CSV
//!   whose first row is the schema, Parquet dates as timestamp_millis,
//!   `Name` starting with the container).
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

/// A column of a test Parquet file: `None` is a null.
pub enum PqCol {
    Bytes(Vec<Option<String>>),
    I64(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
}

/// Writes `cols` (in the order of `schema`, a Parquet message type) as a
/// Snappy-compressed Parquet file, `group` rows per row group.
pub fn parquet_bytes(schema: &str, cols: &[PqCol], group: usize) -> Vec<u8> {
    use parquet::data_type::{BoolType, ByteArray, ByteArrayType, Int64Type};
    let schema = std::sync::Arc::new(parquet::schema::parser::parse_message_type(schema).unwrap());
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let mut w =
        parquet::file::writer::SerializedFileWriter::new(Vec::new(), schema, props.into()).unwrap();
    let rows = match &cols[0] {
        PqCol::Bytes(v) => v.len(),
        PqCol::I64(v) => v.len(),
        PqCol::Bool(v) => v.len(),
    };
    fn split<T: Clone>(v: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
        (
            v.iter().flatten().cloned().collect(),
            v.iter().map(|x| i16::from(x.is_some())).collect(),
        )
    }
    let mut start = 0;
    while start < rows.max(1) {
        let end = (start + group).min(rows);
        let mut g = w.next_row_group().unwrap();
        for col in cols {
            let mut c = g.next_column().unwrap().unwrap();
            match col {
                PqCol::Bytes(v) => {
                    let (vals, defs) = split(&v[start..end]);
                    let vals: Vec<ByteArray> = vals
                        .into_iter()
                        .map(|s| ByteArray::from(s.into_bytes()))
                        .collect();
                    c.typed::<ByteArrayType>()
                        .write_batch(&vals, Some(&defs), None)
                        .unwrap();
                }
                PqCol::I64(v) => {
                    let (vals, defs) = split(&v[start..end]);
                    c.typed::<Int64Type>()
                        .write_batch(&vals, Some(&defs), None)
                        .unwrap();
                }
                PqCol::Bool(v) => {
                    let (vals, defs) = split(&v[start..end]);
                    c.typed::<BoolType>()
                        .write_batch(&vals, Some(&defs), None)
                        .unwrap();
                }
            }
            c.close().unwrap();
        }
        g.close().unwrap();
        start = end.max(start + 1);
    }
    w.into_inner().unwrap()
}

fn millis(t: jiff::Timestamp) -> i64 {
    t.round(jiff::Unit::Millisecond).unwrap().as_millisecond()
}

/// S3 Inventory Parquet schema as AWS's example manifests give it (S3 User
/// Guide, "Amazon S3 Inventory", Parquet manifest; real manifests write
/// `(STRING)` and `TIMESTAMP(MILLIS,true)`), with all versions listed.
pub const S3_PARQUET_SCHEMA: &str = "message s3.inventory {  required binary bucket (STRING);  required binary key (STRING);  optional binary version_id (STRING);  optional boolean is_latest;  optional boolean is_delete_marker;  optional int64 size;  optional int64 last_modified_date (TIMESTAMP(MILLIS,true));  optional binary e_tag (STRING);}";

/// An S3 Inventory report in Parquet (all versions), laid out as
/// [`write_s3`]'s: keys are not URL-encoded in Parquet. Besides the files,
/// each shard holds rows that are not current files and must be skipped: a
/// noncurrent version of a file, a delete marker and a `…/` placeholder
/// under the same prefix.
pub fn write_s3_parquet(
    rows: &[Row],
    bucket: &str,
    time: jiff::Timestamp,
    dest: &Path,
    to: &Destination<'_>,
    shards: usize,
) -> PathBuf {
    let config = dest.join(bucket).join("flink-chk-inventory-parquet");
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
        let name = format!("data/{stamp}-{i:04}.parquet");
        // (key, version, latest, delete marker, size, time)
        let mut all: Vec<(String, bool, bool, Option<i64>, i64)> = Vec::new();
        for r in chunk {
            all.push((
                r.path.clone(),
                true,
                false,
                Some(r.size as i64),
                millis(r.modified),
            ));
        }
        if let Some(r) = chunk.first() {
            let t = millis(r.modified) - 60_000;
            all.push((r.path.clone(), false, false, Some(r.size as i64 + 1), t));
            let dir = r.path.rsplit_once('/').map_or("", |(d, _)| d);
            all.push((format!("{dir}/deleted-since-{i}"), true, true, None, t));
            all.push((format!("{dir}/placeholder-{i}/"), true, false, Some(0), t));
        }
        let cols = [
            PqCol::Bytes(all.iter().map(|_| Some(bucket.to_owned())).collect()),
            PqCol::Bytes(all.iter().map(|a| Some(a.0.clone())).collect()),
            PqCol::Bytes(all.iter().map(|a| Some(format!("v{}", a.4))).collect()),
            PqCol::Bool(all.iter().map(|a| Some(a.1)).collect()),
            PqCol::Bool(all.iter().map(|a| Some(a.2)).collect()),
            PqCol::I64(all.iter().map(|a| a.3).collect()),
            PqCol::I64(all.iter().map(|a| Some(a.4)).collect()),
            PqCol::Bytes(all.iter().map(|a| Some(md5_hex(a.0.as_bytes()))).collect()),
        ];
        let bytes = parquet_bytes(S3_PARQUET_SCHEMA, &cols, 1000);
        std::fs::write(config.join(&name), &bytes).unwrap();
        listed.push(serde_json::json!({
            "key": format!("{}/{bucket}/flink-chk-inventory-parquet/{name}", to.prefix),
            "size": bytes.len(),
            "MD5checksum": md5_hex(&bytes),
        }));
    }
    let manifest = serde_json::json!({
        "sourceBucket": bucket,
        "destinationBucket": format!("arn:aws:s3:::{}", to.bucket),
        "version": "2016-11-30",
        "creationTimestamp": time.as_millisecond().to_string(),
        "fileFormat": "Parquet",
        "fileSchema": S3_PARQUET_SCHEMA,
        "files": listed,
    });
    let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    std::fs::write(run.join("manifest.json"), &bytes).unwrap();
    std::fs::write(run.join("manifest.checksum"), md5_hex(&bytes)).unwrap();
    run.join("manifest.json")
}

/// The generic Parquet file flink-chk documents: `path` (string), `size`
/// (int64), `last_modified` (int64 TIMESTAMP(MICROS,true)), files only.
pub fn write_parquet(rows: &[Row], to: &Path) {
    let files: Vec<&Row> = rows.iter().filter(|r| !r.is_dir).collect();
    let cols = [
        PqCol::Bytes(files.iter().map(|r| Some(r.path.clone())).collect()),
        PqCol::I64(files.iter().map(|r| Some(r.size as i64)).collect()),
        PqCol::I64(
            files
                .iter()
                .map(|r| Some(millis(r.modified) * 1000))
                .collect(),
        ),
    ];
    let bytes = parquet_bytes(
        "message files { required binary path (STRING); required int64 size; required int64 last_modified (TIMESTAMP(MICROS,true)); }",
        &cols,
        100,
    );
    std::fs::write(to, bytes).unwrap();
}

/// A GCS Storage Insights inventory report of `rows` (keys) in `bucket`,
/// snapshot at `time`: the manifest (`report_config`, `records_processed`,
/// `snapshot_time`, `shard_count`, `report_shards_file_names`, as
/// third-party readers of real reports parse it; Google documents the same
/// counts as ReportDetail `processed_records_count`/`shards_count`) and
/// `shards` CSV shards with a header row (a subset of gcloud's default
/// fields: project, bucket, name, location, size, timeCreated, timeDeleted,
/// updated, storageClass, etag, generation; RFC 3339 times) or Parquet
/// shards (`updated` an int64 TIMESTAMP(MICROS,true)). Returns the
/// manifest's path.
pub fn write_gcs(
    rows: &[Row],
    bucket: &str,
    time: jiff::Timestamp,
    dest: &Path,
    shards: usize,
    parquet: bool,
) -> PathBuf {
    let config = "6b8c0e2d-1f3a-4c5b-9d7e-0a1b2c3d4e5f";
    let stamp = time
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    let dir = dest.join(if parquet { "gcs-parquet" } else { "gcs" });
    std::fs::create_dir_all(&dir).unwrap();
    let files: Vec<&Row> = rows.iter().filter(|r| !r.is_dir).collect();
    let per = files.len().div_ceil(shards.max(1)).max(1);
    let mut names = Vec::new();
    let rfc = |t: jiff::Timestamp| {
        t.round(jiff::Unit::Millisecond)
            .unwrap()
            .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    };
    for (i, chunk) in files.chunks(per).enumerate() {
        let ext = if parquet { "parquet" } else { "csv" };
        let name = format!("{config}_{stamp}_{i}.{ext}");
        if parquet {
            let cols = [
                PqCol::Bytes(chunk.iter().map(|_| Some(bucket.to_owned())).collect()),
                PqCol::Bytes(chunk.iter().map(|r| Some(r.path.clone())).collect()),
                PqCol::I64(chunk.iter().map(|r| Some(r.size as i64)).collect()),
                PqCol::I64(
                    chunk
                        .iter()
                        .map(|r| Some(millis(r.modified) * 1000))
                        .collect(),
                ),
                PqCol::I64(chunk.iter().map(|_| None).collect()),
            ];
            let bytes = parquet_bytes(
                "message inventory { optional binary bucket (STRING); optional binary name (STRING); optional int64 size; optional int64 updated (TIMESTAMP(MICROS,true)); optional int64 timeDeleted (TIMESTAMP(MICROS,true)); }",
                &cols,
                1000,
            );
            std::fs::write(dir.join(&name), bytes).unwrap();
        } else {
            let mut f = std::fs::File::create(dir.join(&name)).unwrap();
            writeln!(
                f,
                "project,bucket,name,location,size,timeCreated,timeDeleted,updated,storageClass,etag,generation"
            )
            .unwrap();
            for r in chunk {
                writeln!(
                    f,
                    "123456789,{bucket},\"{}\",US,{},{},,{},STANDARD,CJ+ecJ/ZzYQDEAE=,{}",
                    r.path.replace('"', "\"\""),
                    r.size,
                    rfc(r.modified),
                    rfc(r.modified),
                    millis(r.modified) * 1000
                )
                .unwrap();
            }
        }
        names.push(format!("reports/{name}"));
    }
    let manifest = serde_json::json!({
        "report_config": {
            "name": format!("projects/123456789/locations/us/reportConfigs/{config}"),
            "csv_options": {"record_separator": "\n", "delimiter": ",", "header_required": true},
        },
        "records_processed": files.len(),
        "snapshot_time": time.to_string(),
        "shard_count": names.len(),
        "report_shards_file_names": names,
    });
    let path = dir.join(format!("{config}_{stamp}_manifest.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    path
}

/// An Azure blob inventory run of rule `rule` over `rows` (blob names
/// within `container`) of account `account`, started at `time`, laid out as
/// Microsoft documents it (`<dest>/YYYY/MM/DD/HH-MM-SS/<rule>/`): the data
/// files (CSV whose first row is the schema, or Parquet with
/// `timestamp_millis` dates), `<rule>-manifest.json` (destinationContainer,
/// endpoint, files[{blob, size}], inventoryStartTime,
/// inventoryCompletionTime, ruleDefinition, ruleName, status, summary
/// {objectCount, totalObjectSize}, version) and `<rule>-manifest.checksum`
/// (the manifest's MD5, hex). `Name` starts with the container. Returns the
/// manifest's path.
pub fn write_azure(
    rows: &[Row],
    account: &str,
    container: &str,
    time: jiff::Timestamp,
    dest: &Path,
    parquet: bool,
) -> PathBuf {
    let rule = if parquet {
        "flinkchkparquet"
    } else {
        "flinkchk"
    };
    let stamp = time
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%Y/%m/%d/%H-%M-%S")
        .to_string();
    let rel = format!("{stamp}/{rule}");
    let dir = dest.join(&rel);
    std::fs::create_dir_all(&dir).unwrap();
    let files: Vec<&Row> = rows.iter().filter(|r| !r.is_dir).collect();
    let fields = [
        "Name",
        "Creation-Time",
        "Last-Modified",
        "ETag",
        "Content-Length",
        "BlobType",
        "AccessTier",
    ];
    let mut listed = Vec::new();
    // Two files, as large runs write several.
    let per = files.len().div_ceil(2).max(1);
    for (i, chunk) in files.chunks(per).enumerate() {
        let name = format!(
            "{rule}_1000000_{i}.{}",
            if parquet { "parquet" } else { "csv" }
        );
        let bytes = if parquet {
            let cols = [
                PqCol::Bytes(
                    chunk
                        .iter()
                        .map(|r| Some(format!("{container}/{}", r.path)))
                        .collect(),
                ),
                PqCol::I64(chunk.iter().map(|r| Some(millis(r.modified))).collect()),
                PqCol::I64(chunk.iter().map(|r| Some(millis(r.modified))).collect()),
                PqCol::Bytes(
                    chunk
                        .iter()
                        .map(|r| Some(format!("0x{:X}", millis(r.modified))))
                        .collect(),
                ),
                PqCol::I64(chunk.iter().map(|r| Some(r.size as i64)).collect()),
                PqCol::Bytes(chunk.iter().map(|_| Some("BlockBlob".to_owned())).collect()),
                PqCol::Bytes(chunk.iter().map(|_| Some("Hot".to_owned())).collect()),
            ];
            parquet_bytes(
                "message inventory { optional binary Name (STRING); optional int64 Creation-Time (TIMESTAMP(MILLIS,true)); optional int64 Last-Modified (TIMESTAMP(MILLIS,true)); optional binary ETag (STRING); optional int64 Content-Length; optional binary BlobType (STRING); optional binary AccessTier (STRING); }",
                &cols,
                1000,
            )
        } else {
            let mut b = Vec::new();
            writeln!(b, "{}", fields.join(",")).unwrap();
            for r in chunk {
                let t = r
                    .modified
                    .round(jiff::Unit::Millisecond)
                    .unwrap()
                    .strftime("%Y-%m-%dT%H:%M:%S%.7fZ")
                    .to_string();
                writeln!(
                    b,
                    "\"{container}/{}\",{t},{t},0x{:X},{},BlockBlob,Hot",
                    r.path.replace('"', "\"\""),
                    millis(r.modified),
                    r.size
                )
                .unwrap();
            }
            b
        };
        std::fs::write(dir.join(&name), &bytes).unwrap();
        listed.push(serde_json::json!({"blob": format!("{rel}/{name}"), "size": bytes.len()}));
    }
    let manifest = serde_json::json!({
        "destinationContainer": "inventory-destination",
        "endpoint": format!("https://{account}.blob.core.windows.net"),
        "files": listed,
        "inventoryCompletionTime": (time + jiff::SignedDuration::from_mins(10)).to_string(),
        "inventoryStartTime": time.to_string(),
        "ruleDefinition": {
            "filters": {"blobTypes": ["blockBlob"], "includeBlobVersions": false, "includeSnapshots": false, "prefixMatch": [container]},
            "format": if parquet { "parquet" } else { "csv" },
            "objectType": "blob",
            "schedule": "daily",
            "schemaFields": fields,
        },
        "ruleName": rule,
        "status": "Succeeded",
        "summary": {"objectCount": files.len(), "totalObjectSize": files.iter().map(|r| r.size).sum::<u64>()},
        "version": "1.0",
    });
    let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    std::fs::write(dir.join(format!("{rule}-manifest.json")), &bytes).unwrap();
    std::fs::write(
        dir.join(format!("{rule}-manifest.checksum")),
        md5_hex(&bytes),
    )
    .unwrap();
    dir.join(format!("{rule}-manifest.json"))
}
