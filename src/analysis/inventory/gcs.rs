//! GCS Storage Insights inventory reports: a manifest JSON
//! (`report_config`, `records_processed`, `snapshot_time`, `shard_count`,
//! `report_shards_file_names`) beside its CSV (with a header row) or
//! Parquet shards. The manifest is written once every shard is: a shard it
//! names that is absent, or rows fewer or more than `records_processed`,
//! mean a report that cannot be trusted.
//!
//! Shards are looked up beside the manifest by their file name (a report
//! keeps its shards and manifest in one folder; a copied report too).

use super::filter::ObjectStore;
use super::{Columns, DataFile, Error, Inventory, Kind, TimeFrom, columns};
use crate::storage::{Location, Scheme, Storage};

pub(super) async fn open(
    storage: &dyn Storage,
    source: &Location,
    v: &serde_json::Value,
) -> Result<Inventory, Error> {
    let file = source.to_string();
    let bad = |field: &str, why: String| Error::Manifest {
        file: file.clone(),
        field: field.to_owned(),
        why,
    };
    let number = |field: &str| -> Result<u64, Error> {
        match v.get(field) {
            Some(serde_json::Value::Number(n)) => n
                .as_u64()
                .ok_or_else(|| bad(field, format!("{n}: not a count"))),
            Some(serde_json::Value::String(s)) => s
                .parse()
                .map_err(|e| bad(field, format!("{s:?}: not a count: {e}"))),
            _ => Err(bad(field, "missing or not a number".into())),
        }
    };
    let records = number("records_processed")?;
    let shard_count = number("shard_count")?;
    let time = match v.get("snapshot_time") {
        Some(serde_json::Value::String(s)) => super::text::parse_rfc3339(s)
            .map_err(|why| bad("snapshot_time", format!("{s:?}: {why}")))?,
        _ => return Err(bad("snapshot_time", "missing or not a string".into())),
    };
    let Some(serde_json::Value::Array(shards)) = v.get("report_shards_file_names") else {
        return Err(bad(
            "report_shards_file_names",
            "missing or not a list".into(),
        ));
    };
    if shards.len() as u64 != shard_count {
        return Err(bad(
            "shard_count",
            format!(
                "{shard_count}, but report_shards_file_names lists {}: the report is incomplete or damaged",
                shards.len()
            ),
        ));
    }
    let csv = v.pointer("/report_config/csv_options");
    if csv
        .and_then(|o| o.get("header_required"))
        .and_then(|h| h.as_bool())
        == Some(false)
    {
        return Err(bad(
            "report_config.csv_options.header_required",
            "false: shards without a header row do not name their columns; configure the report with a header".into(),
        ));
    }
    let delimiter = match csv
        .and_then(|o| o.get("delimiter"))
        .and_then(|d| d.as_str())
    {
        None | Some("") => b',',
        Some(d) if d.len() == 1 => d.as_bytes()[0],
        Some(d) => {
            return Err(bad(
                "report_config.csv_options.delimiter",
                format!("{d:?}: flink-chk reads one-byte delimiters"),
            ));
        }
    };
    let dir = source.parent();
    let mut files = Vec::with_capacity(shards.len());
    for (i, s) in shards.iter().enumerate() {
        let field = format!("report_shards_file_names[{i}]");
        let name = s
            .as_str()
            .ok_or_else(|| bad(&field, "not a string".into()))?;
        let base = name.rsplit('/').next().unwrap_or(name);
        if base.is_empty() || base == "." || base == ".." {
            return Err(bad(&field, format!("{name:?}: not a file name")));
        }
        let location = dir.join(base);
        let stat = storage.stat(&location).await?;
        let Some(stat) = stat.filter(|s| s.is_file()) else {
            return Err(bad(
                &field,
                format!(
                    "{location} is missing: the report is incomplete (or was copied without it)"
                ),
            ));
        };
        let parquet = base.ends_with(".parquet");
        files.push(DataFile {
            location,
            size: Some(stat.size),
            md5: None,
            gzip: !parquet && base.ends_with(".gz"),
            parquet,
        });
    }
    let mut columns =
        Columns::named(Kind::Gcs, &columns::GCS).map_err(|why| bad("report_config", why))?;
    columns.delimiter = delimiter;
    Ok(Inventory {
        kind: Kind::Gcs,
        source: source.clone(),
        time,
        time_from: TimeFrom::Manifest,
        files,
        bucket: None,
        columns,
        objects: Some(ObjectStore {
            scheme: Scheme::Gcs,
            bucket: None,
            host: None,
        }),
        expect_rows: Some((records, "records_processed")),
    })
}
