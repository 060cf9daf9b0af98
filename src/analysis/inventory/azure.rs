//! Azure blob inventory: one rule's run, `<rule>-manifest.json` (with
//! `files[{blob, size}]`, `inventoryStartTime`, `status`,
//! `summary.objectCount`, `endpoint`) and `<rule>-manifest.checksum` (its
//! MD5; "generation of the checksum file marks the completion"), beside the
//! CSV (first row: the schema) or Parquet files.
//!
//! `Name` starts with the blob's container (`container/dir/blob`, as
//! Microsoft's own per-container queries over a report split it); rows
//! become `wasbs://container@account.blob.core.windows.net/dir/blob`, and
//! the same files of an `abfss://container@account.dfs.core.windows.net`
//! root. Data files are looked up beside the manifest by their file name.

use super::filter::ObjectStore;
use super::{Columns, DataFile, Error, Inventory, Kind, TimeFrom, columns};
use crate::storage::{Location, Scheme, Storage};

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
    let name = source.file_name();
    let Some(rule) = name.strip_suffix("-manifest.json") else {
        return Err(bad(
            "(file name)",
            format!("{name:?}: an Azure blob inventory manifest is named <rule>-manifest.json"),
        ));
    };
    let checksum_at = source.parent().join(&format!("{rule}-manifest.checksum"));
    super::s3::check_checksum(storage, source, &bytes, &checksum_at, "Azure").await?;
    let text = |field: &str| -> Result<&str, Error> {
        v.pointer(&format!("/{}", field.replace('.', "/")))
            .and_then(|s| s.as_str())
            .ok_or_else(|| bad(field, "missing or not a string".into()))
    };
    let status = text("status")?;
    if status != "Succeeded" {
        return Err(bad(
            "status",
            format!(
                "{status:?}: the run did not succeed (Succeeded is the only complete state); refusing to plan from it"
            ),
        ));
    }
    if let Ok(t) = text("ruleDefinition.objectType")
        && !t.eq_ignore_ascii_case("blob")
    {
        return Err(bad(
            "ruleDefinition.objectType",
            format!("{t:?}: a container inventory lists no files; use a rule of objectType blob"),
        ));
    }
    let started = text("inventoryStartTime")?;
    let time = super::text::parse_rfc3339(started)
        .map_err(|why| bad("inventoryStartTime", format!("{started:?}: {why}")))?;
    let endpoint = text("endpoint")?;
    let host = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, h)| h)
        .trim_end_matches('/');
    if host.is_empty() || host.contains(['/', '@']) {
        return Err(bad(
            "endpoint",
            format!("{endpoint:?}: not an account endpoint"),
        ));
    }
    let objects = v
        .pointer("/summary/objectCount")
        .and_then(|n| n.as_u64())
        .ok_or_else(|| bad("summary.objectCount", "missing or not a count".into()))?;
    let Some(serde_json::Value::Array(listed)) = v.get("files") else {
        return Err(bad("files", "missing or not a list".into()));
    };
    let parquet_rule =
        text("ruleDefinition.format").is_ok_and(|f| f.eq_ignore_ascii_case("parquet"));
    let dir = source.parent();
    let mut files = Vec::with_capacity(listed.len());
    for (i, f) in listed.iter().enumerate() {
        let field = |n: &str| format!("files[{i}].{n}");
        let blob = f
            .get("blob")
            .and_then(|b| b.as_str())
            .ok_or_else(|| bad(&field("blob"), "missing or not a string".into()))?;
        let size = f
            .get("size")
            .and_then(|s| s.as_u64())
            .ok_or_else(|| bad(&field("size"), "missing or not a size".into()))?;
        let base = blob.rsplit('/').next().unwrap_or(blob);
        if base.is_empty() || base == "." || base == ".." {
            return Err(bad(&field("blob"), format!("{blob:?}: not a file name")));
        }
        let parquet = parquet_rule || base.ends_with(".parquet");
        files.push(DataFile {
            location: dir.join(base),
            size: Some(size),
            md5: None,
            gzip: false,
            parquet,
        });
    }
    if files.is_empty() && objects > 0 {
        return Err(bad(
            "files",
            format!("empty, while summary.objectCount is {objects}"),
        ));
    }
    let columns = Columns::named(Kind::Azure, &columns::AZURE)
        .map_err(|why| bad("ruleDefinition.schemaFields", why))?;
    Ok(Inventory {
        kind: Kind::Azure,
        source: source.clone(),
        time,
        time_from: TimeFrom::Manifest,
        files,
        bucket: None,
        columns,
        objects: Some(ObjectStore {
            scheme: Scheme::AzureBlob,
            bucket: None,
            host: Some(host.to_owned()),
        }),
        expect_rows: Some((objects, "summary.objectCount")),
    })
}
