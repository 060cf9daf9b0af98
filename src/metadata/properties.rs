//! The V4+ trailer: Flink's `CheckpointProperties`, Java-serialized (FORMAT.md §7).
//! TEMPORARY: consumes the rest of the input until the Java reader lands.

use super::error::Result;
use super::model::Properties;
use super::reader::ByteReader;

/// Reads the Java serialization stream at `r` and decodes the properties.
pub fn read(r: &mut ByteReader<'_>) -> Result<Properties> {
    let raw = r.read_bytes(r.remaining(), "properties")?.to_vec();
    Ok(Properties { raw, decoded: None })
}
