//! The V4+ trailer: Flink's `CheckpointProperties`, Java-serialized (FORMAT.md §7).
//!
//! The raw bytes are kept for lossless rewriting; the decoded view tells
//! checkpoints, canonical and native savepoints apart. A `null` object (State
//! Processor API output) decodes to `None`.

use super::error::{Error, ErrorKind, Result};
use super::javaser::{self, Object, Value};
use super::model::{CheckpointProperties, Properties, SnapshotType};
use super::reader::ByteReader;

const PROPERTIES_CLASS: &str = "org.apache.flink.runtime.checkpoint.CheckpointProperties";

/// Reads the Java serialization stream at `r` and decodes the properties.
pub fn read(r: &mut ByteReader<'_>) -> Result<Properties> {
    let start = r.position();
    let at = r.offset();
    let value = javaser::read_stream(r)?;
    let raw = r
        .data()
        .get(start..r.position())
        .unwrap_or_default()
        .to_vec();
    let decoded = match &value {
        Value::Null => None,
        Value::Object(o) if o.class == PROPERTIES_CLASS => Some(decode(o).ok_or_else(|| {
            Error::new(
                at,
                ErrorKind::JavaSerialization("CheckpointProperties lacks expected fields".into()),
            )
        })?),
        other => {
            return Err(Error::new(
                at,
                ErrorKind::JavaSerialization(format!(
                    "expected CheckpointProperties, found {}",
                    describe(other)
                )),
            ));
        }
    };
    Ok(Properties { raw, decoded })
}

fn describe(v: &Value) -> String {
    match v {
        Value::Object(o) => format!("an object of class {}", o.class),
        Value::String(_) => "a string".into(),
        _ => "another kind of value".into(),
    }
}

fn decode(o: &Object) -> Option<CheckpointProperties> {
    let b = |name| o.bool_field(name);
    let t = o.object_field("checkpointType")?;
    let simple = t.class.rsplit('.').next().unwrap_or_default();
    let snapshot_type = match simple {
        "CheckpointType" => SnapshotType::Checkpoint {
            name: t.str_field("name")?.to_owned(),
            sharing: t
                .enum_field("sharingFilesStrategy")
                .unwrap_or_default()
                .to_owned(),
        },
        "SavepointType" => SnapshotType::Savepoint {
            name: t.str_field("name")?.to_owned(),
            format: t.enum_field("formatType")?.to_owned(),
            post_action: t
                .enum_field("postCheckpointAction")
                .unwrap_or_default()
                .to_owned(),
        },
        _ => SnapshotType::Other {
            name: t.class.clone(),
        },
    };
    Some(CheckpointProperties {
        forced: b("forced")?,
        unclaimed: b("unclaimed").unwrap_or(false),
        discard: [
            b("discardSubsumed")?,
            b("discardFinished")?,
            b("discardCancelled")?,
            b("discardFailed")?,
            b("discardSuspended")?,
        ],
        snapshot_type,
    })
}
