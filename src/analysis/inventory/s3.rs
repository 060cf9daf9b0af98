//! S3 Inventory: `manifest.json` with its `manifest.checksum`, data files
//! under the configuration's `data/` (the same layout OSS, OBS and several
//! S3-compatible stores write).

use super::{DataFile, Error, Inventory, Kind, TimeFrom, text::Columns};
use crate::storage::{self, Entry, Location, Storage};

/// Largest manifest read (a manifest lists data files, not objects).
const MAX_MANIFEST: u64 = 64 << 20;

pub(super) async fn open(
    storage: &dyn Storage,
    source: &Location,
    stat: &Entry,
) -> Result<Inventory, Error> {
    let file = source.to_string();
    let bad = |field: &str, why: String| Error::Manifest {
        file: file.clone(),
        field: field.to_owned(),
        why,
    };
    if stat.size > MAX_MANIFEST {
        return Err(bad(
            "(file)",
            format!(
                "{} bytes, more than a manifest has ({MAX_MANIFEST})",
                stat.size
            ),
        ));
    }
    let bytes = storage.read(source).await?;
    // S3 writes manifest.checksum (the MD5 of manifest.json) last: its
    // presence marks a complete report.
    let checksum_at = source.parent().join("manifest.checksum");
    let checksum = match storage.read(&checksum_at).await {
        Ok(c) => c,
        Err(e) if e.is_not_found() => {
            return Err(bad(
                "manifest.checksum",
                format!(
                    "{checksum_at} is missing; S3 writes it when the report is complete, so this one is incomplete (or was copied without it)"
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let expected = String::from_utf8_lossy(&checksum)
        .trim()
        .to_ascii_lowercase();
    let found = storage::md5_hex(&bytes);
    if expected != found {
        return Err(Error::Mismatch {
            file: file.clone(),
            what: "the MD5",
            expected: format!("{expected} ({checksum_at})"),
            found,
        });
    }
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        bad(
            "(json)",
            format!("not JSON at line {}, column {}: {e}", e.line(), e.column()),
        )
    })?;
    let text = |field: &str| -> Result<String, Error> {
        match v.get(field) {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
            Some(_) => Err(bad(field, "not a string".into())),
            None => Err(bad(
                field,
                "missing; not an S3 Inventory manifest (sourceBucket, fileFormat, fileSchema, files, creationTimestamp)".into(),
            )),
        }
    };
    let bucket = text("sourceBucket")?;
    let format = text("fileFormat")?;
    if !format.eq_ignore_ascii_case("CSV") {
        return Err(bad(
            "fileFormat",
            format!(
                "{format}: this build reads CSV inventories (CSV.gz); configure the inventory as CSV"
            ),
        ));
    }
    let schema = text("fileSchema")?;
    let columns = Columns::s3(&schema).map_err(|why| bad("fileSchema", why))?;
    let created = text("creationTimestamp")?;
    let ms: i64 = created.parse().map_err(|e| {
        bad(
            "creationTimestamp",
            format!("{created:?}: not epoch milliseconds: {e}"),
        )
    })?;
    let time = jiff::Timestamp::from_millisecond(ms)
        .map_err(|e| bad("creationTimestamp", format!("{created:?}: {e}")))?;
    // Data files: on the destination bucket when the manifest is read
    // there, else beside a copied report (`<config>/data/…`).
    let destination = text("destinationBucket").ok();
    let dest_name = destination
        .as_deref()
        .map(|d| d.rsplit(':').next().unwrap_or(d).to_owned());
    let on_destination =
        source.scheme().is_object_store() && dest_name.as_deref() == Some(source.authority());
    let Some(serde_json::Value::Array(files)) = v.get("files") else {
        return Err(bad("files", "missing or not a list".into()));
    };
    if files.is_empty() {
        return Err(bad("files", "empty: the report lists no data file".into()));
    }
    let mut data = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let field = |name: &str| format!("files[{i}].{name}");
        let key = f
            .get("key")
            .and_then(|k| k.as_str())
            .ok_or_else(|| bad(&field("key"), "missing or not a string".into()))?;
        let size = match f.get("size") {
            Some(s) => Some(
                s.as_u64()
                    .ok_or_else(|| bad(&field("size"), format!("{s}: not a size")))?,
            ),
            None => None,
        };
        let md5 = f
            .get("MD5checksum")
            .and_then(|m| m.as_str())
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| {
                bad(
                    &field("MD5checksum"),
                    "missing: each data file is checked against it".into(),
                )
            })?;
        let location = if on_destination {
            source.with_path(&format!("/{key}"))
        } else {
            match key.rfind("/data/") {
                Some(i) => source.parent().parent().join(&key[i + 1..]),
                None if key.starts_with("data/") => source.parent().parent().join(key),
                None => {
                    return Err(bad(
                        &field("key"),
                        format!(
                            "{key:?}: not under a data/ folder; read the manifest where S3 wrote it, or keep the report's layout (<config>/<time>/manifest.json, <config>/data/…)"
                        ),
                    ));
                }
            }
        };
        data.push(DataFile {
            gzip: key.ends_with(".gz"),
            location,
            size,
            md5: Some(md5),
        });
    }
    Ok(Inventory {
        kind: Kind::S3,
        source: source.clone(),
        time,
        time_from: TimeFrom::Manifest,
        files: data,
        bucket: Some(bucket),
        columns,
    })
}
