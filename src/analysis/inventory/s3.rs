//! S3 Inventory: `manifest.json` with its `manifest.checksum`, data files
//! under the configuration's `data/` (the same layout OSS, OBS and several
//! S3-compatible stores write).

use super::filter::ObjectStore;
use super::{Columns, DataFile, Error, Inventory, Kind, TimeFrom};
use crate::storage::{self, Location, Scheme, Storage};

/// Checks a manifest against the MD5 its checksum file holds (S3 and Azure
/// write that file last: its presence marks a complete report).
pub(super) async fn check_checksum(
    storage: &dyn Storage,
    source: &Location,
    bytes: &[u8],
    checksum_at: &Location,
    who: &str,
) -> Result<(), Error> {
    let file = source.to_string();
    let checksum = match storage.read(checksum_at).await {
        Ok(c) => c,
        Err(e) if e.is_not_found() => {
            return Err(Error::Manifest {
                file,
                field: checksum_at.file_name().to_owned(),
                why: format!(
                    "{checksum_at} is missing; {who} writes it when the report is complete, so this one is incomplete (or was copied without it)"
                ),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let expected = String::from_utf8_lossy(&checksum)
        .trim()
        .trim_matches('"')
        .to_ascii_lowercase();
    let found = storage::md5_hex(bytes);
    // Hex (S3); base64 is accepted too (Azure does not document which).
    if expected != found && expected != base64(&md5_bytes(bytes)).to_ascii_lowercase() {
        return Err(Error::Mismatch {
            file,
            what: "the MD5",
            expected: format!("{expected} ({checksum_at})"),
            found,
        });
    }
    Ok(())
}

pub(super) async fn open(
    storage: &dyn Storage,
    source: &Location,
    bytes: Vec<u8>,
    v: &serde_json::Value,
) -> Result<Inventory, Error> {
    let file = source.to_string();
    let bad = |field: &str, why: String| Error::Manifest {
        file: file.clone(),
        field: field.to_owned(),
        why,
    };
    let checksum_at = source.parent().join("manifest.checksum");
    check_checksum(storage, source, &bytes, &checksum_at, "S3").await?;
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
    let parquet = format.eq_ignore_ascii_case("Parquet");
    if !parquet && !format.eq_ignore_ascii_case("CSV") {
        return Err(bad(
            "fileFormat",
            format!(
                "{format}: this build reads CSV (CSV.gz) and Parquet inventories, not ORC; configure the inventory as CSV or Parquet"
            ),
        ));
    }
    let schema = text("fileSchema")?;
    let columns = if parquet {
        Columns::s3_parquet(&schema)
    } else {
        Columns::s3(&schema)
    }
    .map_err(|why| bad("fileSchema", why))?;
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
            gzip: !parquet && key.ends_with(".gz"),
            parquet,
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
        objects: Some(ObjectStore {
            scheme: Scheme::S3,
            bucket: Some(bucket.clone()),
            host: None,
        }),
        bucket: Some(bucket),
        columns,
        expect_rows: None,
    })
}

fn md5_bytes(bytes: &[u8]) -> Vec<u8> {
    use md5::Digest as _;
    md5::Md5::digest(bytes).to_vec()
}

/// Standard base64 with padding.
fn base64(b: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &x)| n | u32::from(x) << (16 - 8 * i));
        for i in 0..4 {
            if i <= c.len() {
                out.push(char::from(T[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64() {
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(super::base64(b"fooba"), "Zm9vYmE=");
        assert_eq!(super::base64(b"foob"), "Zm9vYg==");
    }
}
