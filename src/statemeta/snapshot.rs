//! Skipping `TypeSerializerSnapshot`s (FORMAT.md §10.5–§10.7).
//!
//! A serializer snapshot's payload is not length-prefixed, so skipping one
//! requires knowing its class. This module is the registry of payload layouts
//! seen in real files: simple snapshots, composite snapshots (outer payload +
//! `NestedSerializersSnapshotDelegate`), POJO/Kryo (length-framed
//! `LinkedOptionalMap`s), Avro, Row/RowData, Enum, Either, TTL, …, legacy
//! `TypeSerializerConfigSnapshot`s (version `0x7A53C4F0`) and the
//! "resilience frames" of Flink ≤ 1.6 (§10.6).
//!
//! A class this registry does not know yields [`unknown`] (an
//! [`ErrorKind::InvalidValue`] on field [`UNKNOWN_SNAPSHOT_FIELD`]); the proxy
//! parser then falls back to the §10.9 heuristic resync.

use crate::metadata::javaser::{self, read_len};
use crate::metadata::{ByteReader, Error, ErrorKind, Result};

/// Field name used in the error for a snapshot class whose payload layout is unknown.
pub const UNKNOWN_SNAPSHOT_FIELD: &str = "serializer snapshot class";

/// `TypeSerializerConfigSnapshot.ADAPTER_VERSION`: a pre-1.7 config snapshot.
pub const ADAPTER_VERSION: i32 = 0x7A53_C4F0;
/// `CompositeTypeSerializerSnapshot` magic (snapshot version ≥ 3).
const COMPOSITE_MAGIC: i32 = 911_108;
/// `NestedSerializersSnapshotDelegate` magic.
const NESTED_MAGIC: i32 = 1_333_245;
/// `LinkedOptionalMapSerializer` header.
const OPTIONAL_MAP_HEADER: i64 = 0x0000_04F2_C69A_3D70;
/// Maximum nesting of snapshots within snapshots.
const MAX_NESTING: u32 = 48;

/// The error for a snapshot class whose payload cannot be skipped.
pub fn unknown(at: u64, class: &str, version: i32) -> Error {
    Error::new(
        at,
        ErrorKind::InvalidValue {
            field: UNKNOWN_SNAPSHOT_FIELD,
            value: format!("{class} (version {version}): payload layout unknown"),
        },
    )
}

/// Reads a UTF string as an owned `String`.
pub(crate) fn utf(r: &mut ByteReader<'_>, field: &'static str) -> Result<String> {
    Ok(r.read_utf(field)?.as_str().to_owned())
}

fn read_bool(r: &mut ByteReader<'_>, field: &'static str) -> Result<bool> {
    Ok(r.read_u8(field)? != 0)
}

/// Reads a top-level snapshot as written by `TypeSerializerSnapshotSerializationUtil`:
/// `i32 proxyVersion (2); utf class; i32 version; payload`. Returns the class name.
///
/// `class_out` receives the class name as soon as it is read, so a caller can
/// report it even when the payload cannot be skipped.
pub fn skip_snapshot_with_proxy(
    r: &mut ByteReader<'_>,
    class_out: &mut Option<String>,
) -> Result<String> {
    let at = r.offset();
    let proxy = r.read_i32("serializer snapshot proxy version")?;
    if proxy != 2 {
        return Err(Error::new(
            at,
            ErrorKind::InvalidValue {
                field: UNKNOWN_SNAPSHOT_FIELD,
                value: format!("snapshot proxy version {proxy} (expected 2)"),
            },
        ));
    }
    skip_versioned(r, 0, class_out)
}

/// Reads `utf class; i32 version; payload` and returns the class name.
pub fn skip_versioned(
    r: &mut ByteReader<'_>,
    depth: u32,
    class_out: &mut Option<String>,
) -> Result<String> {
    if depth > MAX_NESTING {
        return Err(r.error(ErrorKind::TooDeep(MAX_NESTING)));
    }
    let at = r.offset();
    let class = utf(r, "serializer snapshot class")?;
    if class_out.is_none() {
        *class_out = Some(class.clone());
    }
    let version = r.read_i32("serializer snapshot version")?;
    skip_payload(r, at, &class, version, depth)?;
    Ok(class)
}

fn skip_nested_versioned(r: &mut ByteReader<'_>, depth: u32) -> Result<String> {
    skip_versioned(r, depth + 1, &mut None)
}

/// `NestedSerializersSnapshotDelegate`: `i32 magic; i32 version; i32 n; n × versioned`.
fn skip_nested(r: &mut ByteReader<'_>, depth: u32) -> Result<()> {
    let at = r.offset();
    let magic = r.read_i32("nested serializers magic")?;
    if magic != NESTED_MAGIC {
        return Err(Error::new(
            at,
            ErrorKind::InvalidValue {
                field: "nested serializers magic",
                value: format!("{magic:#x}"),
            },
        ));
    }
    let _version = r.read_i32("nested serializers version")?;
    let n = read_len(r, "nested serializer count", 6)?;
    for _ in 0..n {
        skip_nested_versioned(r, depth)?;
    }
    Ok(())
}

/// `LinkedOptionalMap`: header, `i32 n`, `n × {utf key; bool; [i32 len; bytes]; bool; [i32 len; bytes]}`.
fn skip_optional_map(r: &mut ByteReader<'_>) -> Result<()> {
    let at = r.offset();
    let header = r.read_i64("optional map header")?;
    if header != OPTIONAL_MAP_HEADER {
        return Err(Error::new(
            at,
            ErrorKind::InvalidValue {
                field: "optional map header",
                value: format!("{header:#x}"),
            },
        ));
    }
    let n = read_len(r, "optional map size", 4)?;
    for _ in 0..n {
        r.read_utf("optional map key")?;
        for _ in 0..2 {
            if read_bool(r, "optional map presence flag")? {
                let len = read_len(r, "optional map entry length", 1)?;
                r.read_bytes(len, "optional map entry")?;
            }
        }
    }
    Ok(())
}

/// A resilience frame (§10.6): `i32 n; n × (i32, i32); i32 total; total bytes`.
pub fn skip_resilience_frame(r: &mut ByteReader<'_>) -> Result<()> {
    let n = read_len(r, "serializer frame count", 8)?;
    r.read_bytes(n.saturating_mul(8), "serializer frame offsets")?;
    let total = read_len(r, "serializer frame length", 1)?;
    r.read_bytes(total, "serializer frame")?;
    Ok(())
}

/// A `TypeSerializerSerializationProxy`: `i32 version; i32 len; len bytes`.
pub fn skip_serializer_proxy(r: &mut ByteReader<'_>) -> Result<()> {
    let _version = r.read_i32("serializer proxy version")?;
    let len = read_len(r, "serialized serializer length", 1)?;
    r.read_bytes(len, "serialized serializer")?;
    Ok(())
}

/// A Flink `StringValue`-encoded string (varint length+1, then varint UTF-16 units).
fn skip_string_value(r: &mut ByteReader<'_>) -> Result<()> {
    fn varint(r: &mut ByteReader<'_>) -> Result<u64> {
        let at = r.offset();
        let mut v: u64 = 0;
        for shift in (0..35).step_by(7) {
            let b = r.read_u8("string value varint")?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Error::new(
            at,
            ErrorKind::InvalidValue {
                field: "string value varint",
                value: "too long".into(),
            },
        ))
    }
    let len = varint(r)?;
    for _ in 1..len {
        // Each unit takes at least one byte; a bogus length fails on EOF below.
        if r.is_empty() {
            return Err(r.error(ErrorKind::UnexpectedEof {
                field: "string value",
                needed: len.saturating_sub(1),
                available: 0,
            }));
        }
        varint(r)?;
    }
    Ok(())
}

/// The name after the last `.` (keeps `Outer$Inner` nesting).
fn simple_name(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

fn is_simple(class: &str) -> bool {
    const BASE: &str = "org.apache.flink.api.common.typeutils.base.";
    if let Some(rest) = class.strip_prefix(BASE) {
        return rest.contains('$') && rest != "EnumSerializer$EnumSerializerSnapshot";
    }
    if class.starts_with("org.apache.flink.table.runtime.typeutils.serializers.python.")
        && class.ends_with("SerializerSnapshot")
    {
        return true;
    }
    matches!(
        simple_name(class),
        "VoidNamespaceSerializer$VoidNamespaceSerializerSnapshot"
            | "JavaSerializer$JavaSerializerSnapshot"
            | "Tuple0SerializerSnapshot"
            | "TimeWindow$Serializer$TimeWindowSerializerSnapshot"
            | "GlobalWindow$Serializer$GlobalWindowSerializerSnapshot"
            | "CountWindow$Serializer$CountWindowSerializerSnapshot"
            | "StringDataSerializer$StringDataSerializerSnapshot"
            | "SortedLongSerializer$SortedLongSerializerSnapshot"
            | "NullSerializer$NullSerializerSnapshot"
            | "DeweyNumber$DeweyNumberSerializer$DeweyNumberSerializerSnapshot"
            | "EventId$EventIdSerializer$EventIdSerializerSnapshot"
            | "EventIdSerializer$EventIdSerializerSnapshot"
            | "ByteArrayWrapperSerializer$ByteArrayWrapperSerializerSnapshot"
    )
}

/// Outer payload of a composite snapshot.
#[derive(Debug, Clone, Copy)]
enum Outer {
    Empty,
    Utf,
    I32,
    Bool,
    JavaThenBool,
}

fn composite_outer(class: &str) -> Option<Outer> {
    Some(match simple_name(class) {
        "TupleSerializerSnapshot"
        | "GenericArraySerializerSnapshot"
        | "ScalaCaseClassSerializerSnapshot"
        | "Tuple2CaseClassSerializerSnapshot"
        | "TraversableSerializerSnapshot" => Outer::Utf,
        "NullableSerializer$NullableSerializerSnapshot" => Outer::I32,
        "RowSerializer$RowSerializerSnapshot"
        | "NFAStateSerializerSnapshot"
        | "LinkedListSerializer$LinkedListSerializerSnapshot"
        | "TwoPhaseCommitSinkFunction$StateSerializerSnapshot" => Outer::Bool,
        "ExternalSerializer$ExternalSerializerSnapshot" => Outer::JavaThenBool,
        "ListSerializerSnapshot"
        | "MapSerializerSnapshot"
        | "SetSerializerSnapshot"
        | "JavaEitherSerializerSnapshot"
        | "ArrayListSerializerSnapshot"
        | "TtlStateFactory$TtlSerializerSnapshot"
        | "TimerSerializerSnapshot"
        | "StreamElementSerializer$StreamElementSerializerSnapshot"
        | "IntervalJoinOperator$BufferEntrySerializerSnapshot"
        | "CoGroupedStreams$UnionSerializerSnapshot"
        | "ScalaOptionSerializerSnapshot"
        | "ScalaTrySerializerSnapshot"
        | "ScalaEitherSerializerSnapshot"
        | "ListViewSerializerSnapshot"
        | "MapViewSerializerSnapshot"
        | "NullAwareMapSerializerSnapshot"
        | "RawValueDataSerializer$RawValueDataSerializerSnapshot"
        | "WindowKeySerializer$WindowKeySerializerSnapshot"
        | "LockableTypeSerializerSnapshot"
        | "NodeId$NodeIdSerializer$NodeIdSerializerSnapshot"
        | "NodeIdSerializer$NodeIdSerializerSnapshot"
        | "SharedBufferEdge$SharedBufferEdgeSerializer$SharedBufferEdgeSerializerSnapshot"
        | "SharedBufferEdgeSerializer$SharedBufferEdgeSerializerSnapshot"
        | "SharedBufferNodeSerializerSnapshotV2" => Outer::Empty,
        _ => return None,
    })
}

fn skip_outer(r: &mut ByteReader<'_>, outer: Outer) -> Result<()> {
    match outer {
        Outer::Empty => {}
        Outer::Utf => {
            r.read_utf("composite outer class")?;
        }
        Outer::I32 => {
            r.read_i32("composite outer int")?;
        }
        Outer::Bool => {
            r.read_u8("composite outer flag")?;
        }
        Outer::JavaThenBool => {
            javaser::skip_stream(r)?;
            r.read_u8("composite outer flag")?;
        }
    }
    Ok(())
}

fn skip_payload(
    r: &mut ByteReader<'_>,
    at: u64,
    class: &str,
    version: i32,
    depth: u32,
) -> Result<()> {
    if version == ADAPTER_VERSION {
        return skip_legacy_config(r, at, class);
    }
    if is_simple(class) {
        return match version {
            3.. => Ok(()),
            2 => r.read_utf("simple snapshot serializer class").map(|_| ()),
            _ => Err(unknown(at, class, version)),
        };
    }
    if let Some(outer) = composite_outer(class) {
        if version >= 3 {
            let mat = r.offset();
            let magic = r.read_i32("composite snapshot magic")?;
            if magic != COMPOSITE_MAGIC {
                return Err(Error::new(
                    mat,
                    ErrorKind::InvalidValue {
                        field: "composite snapshot magic",
                        value: format!("{magic:#x} in {class}"),
                    },
                ));
            }
            r.read_i32("composite outer snapshot version")?;
        }
        skip_outer(r, outer)?;
        return skip_nested(r, depth);
    }
    match simple_name(class) {
        "EnumSerializer$EnumSerializerSnapshot" => {
            r.read_utf("enum class")?;
            let n = read_len(r, "enum constant count", 2)?;
            for _ in 0..n {
                r.read_utf("enum constant")?;
            }
        }
        "PojoSerializerSnapshot" | "KryoSerializerSnapshot" if version == 2 => {
            r.read_utf("type class")?;
            for _ in 0..3 {
                skip_optional_map(r)?;
            }
        }
        "ValueSerializer$ValueSerializerSnapshot"
        | "CopyableValueSerializer$CopyableValueSerializerSnapshot"
        | "WritableSerializer$WritableSerializerSnapshot" => {
            r.read_utf("type class")?;
        }
        "AvroSerializerSnapshot" => match version {
            1 => {
                r.read_utf("avro schema")?;
            }
            2 => {
                r.read_utf("avro runtime type")?;
                r.read_utf("avro schema")?;
            }
            3 => {
                skip_string_value(r)?;
                skip_string_value(r)?;
            }
            _ => return Err(unknown(at, class, version)),
        },
        "TtlAwareSerializerSnapshot" => {
            r.read_u8("ttl enabled")?;
            skip_nested_versioned(r, depth)?;
        }
        "EitherSerializerSnapshot" => skip_nested(r, depth)?,
        "ScalaEnumSerializerSnapshot" => {
            r.read_utf("enum class")?;
            let n = read_len(r, "enum constant count", 6)?;
            for _ in 0..n {
                r.read_utf("enum constant")?;
                r.read_i32("enum constant id")?;
            }
        }
        "RowDataSerializer$RowDataSerializerSnapshot" => {
            let n = read_len(r, "row field count", 5)?;
            for _ in 0..n {
                javaser::skip_stream(r)?;
            }
            skip_nested(r, depth)?;
            if version >= 4 && read_bool(r, "row has field names")? {
                for _ in 0..n {
                    r.read_utf("row field name")?;
                }
            }
        }
        "BinaryRowDataSerializer$BinaryRowDataSerializerSnapshot"
        | "TimestampDataSerializer$TimestampDataSerializerSnapshot" => {
            r.read_i32("snapshot int")?;
        }
        "DecimalDataSerializer$DecimalSerializerSnapshot" => {
            r.read_i32("decimal precision")?;
            r.read_i32("decimal scale")?;
        }
        "ArrayDataSerializer$ArrayDataSerializerSnapshot" => {
            for _ in 0..2 {
                javaser::skip_stream(r)?;
            }
        }
        "MapDataSerializer$MapDataSerializerSnapshot" => {
            for _ in 0..4 {
                javaser::skip_stream(r)?;
            }
        }
        "SortedMapSerializerSnapshot" => {
            javaser::skip_stream(r)?;
            skip_nested(r, depth)?;
        }
        "RowDataKeySerializerSnapshot" => {
            for _ in 0..2 {
                let len = read_len(r, "serialized function length", 1)?;
                r.read_bytes(len, "serialized function")?;
            }
            skip_nested_versioned(r, depth)?;
        }
        _ => return Err(unknown(at, class, version)),
    }
    Ok(())
}

/// A pre-1.7 `TypeSerializerConfigSnapshot` written through the adapter (§10.7.4).
fn skip_legacy_config(r: &mut ByteReader<'_>, at: u64, class: &str) -> Result<()> {
    skip_serializer_proxy(r)?;
    let _config_version = r.read_i32("config snapshot version")?;
    match simple_name(class) {
        "ParameterlessTypeSerializerConfig" => {
            r.read_utf("format identifier")?;
        }
        "TimerSerializer$TimerSerializerConfigSnapshot"
        | "EitherSerializerConfigSnapshot"
        | "ScalaOptionSerializerConfigSnapshot"
        | "ScalaTrySerializerConfigSnapshot"
        | "ScalaEitherSerializerConfigSnapshot"
        | "CollectionSerializerConfigSnapshot"
        | "TraversableSerializerConfigSnapshot"
        | "CompositeTypeSerializerConfigSnapshot"
        | "MapSerializerConfigSnapshot"
        | "ListSerializerConfigSnapshot" => skip_resilience_frame(r)?,
        "TupleSerializerConfigSnapshot" => {
            skip_resilience_frame(r)?;
            javaser::skip_stream(r)?;
        }
        "KryoSerializer$KryoSerializerConfigSnapshot" => {
            r.read_utf("kryo type class")?;
            let n = read_len(r, "kryo registration count", 8)?;
            for _ in 0..n {
                r.read_utf("kryo registration tag")?;
                r.read_utf("kryo registered class")?;
                let kat = r.offset();
                match r.read_i32("kryo registration kind")? {
                    0 => {}
                    1 => {
                        r.read_utf("kryo serializer class")?;
                    }
                    2 => javaser::skip_stream(r)?,
                    other => {
                        return Err(Error::new(
                            kat,
                            ErrorKind::InvalidValue {
                                field: "kryo registration kind",
                                value: other.to_string(),
                            },
                        ));
                    }
                }
            }
        }
        _ => return Err(unknown(at, class, ADAPTER_VERSION)),
    }
    Ok(())
}
