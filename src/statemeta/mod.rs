//! State names and kinds from the serialization proxies at the start of state
//! files (FORMAT.md §10).
//!
//! Keyed state names are not in `_metadata`; they are in the
//! `KeyedBackendSerializationProxy` at the start of every keyed state file
//! (heap / full snapshots, RocksDB incremental meta files) and operator state
//! names are repeated, with their serializers, in the
//! `OperatorBackendSerializationProxy` at the start of operator state files.
//! This module reads both proxies, all versions 1 to 6 (Flink 1.2 → 2.x),
//! from bytes; it does no I/O.
//!
//! # Prefix contract
//!
//! The functions take a **prefix** of the state stream (the caller may read,
//! say, the first 64 KiB of a file). When the proxy does not fit in the
//! prefix the error kind is [`ErrorKind::UnexpectedEof`] (use [`is_eof`]); its
//! `needed` field is a lower bound on the extra bytes required (a count read
//! from the file that is larger than the rest of the prefix is reported the
//! same way). The caller should then retry with a longer prefix; once the
//! prefix is the whole stream, an `UnexpectedEof` means the proxy really is
//! truncated or corrupt. Every other error kind is final.
//!
//! # Serializer snapshots and heuristic resync
//!
//! Serializer snapshot payloads carry no length, so they are skipped with the
//! per-class registry in [`snapshot`] (§10.7). When a snapshot class is not in
//! the registry (user serializers, test classes, some legacy Scala configs),
//! the parser scans forward for the next meta-info header (§10.9) and carries
//! on from there; states found that way are marked `heuristic`, as is the
//! whole proxy, and `end_offset` is then only a lower bound.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
#![warn(missing_docs)]

pub mod snapshot;
#[cfg(test)]
mod tests;

use crate::metadata::javaser::{self, read_len, read_len_i16};
use crate::metadata::{ByteReader, Error, ErrorKind, Result};
use snapshot::utf;

/// Kind of a state, as far as the proxy tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    /// Keyed `ValueState`.
    Value,
    /// Keyed `ListState`.
    List,
    /// Keyed `MapState`.
    Map,
    /// Keyed `ReducingState`.
    Reducing,
    /// Keyed `AggregatingState`.
    Aggregating,
    /// Keyed `FoldingState` (removed in Flink 1.14).
    Folding,
    /// Keyed state of unknown kind (`UNKNOWN` in the file, or an unrecognized option).
    Unknown,
    /// Operator list state redistributed round-robin (`SPLIT_DISTRIBUTE`).
    OperatorList,
    /// Operator union list state (`UNION`; called `BROADCAST` in Flink 1.2).
    #[serde(rename = "union_list")]
    OperatorUnion,
    /// Broadcast state (`BROADCAST`).
    Broadcast,
    /// A priority queue, i.e. timers (`_timer_state/…`) in heap backends.
    PriorityQueue,
}

impl StateKind {
    /// The name in JSON and messages (`value`, `union_list`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            StateKind::Value => "value",
            StateKind::List => "list",
            StateKind::Map => "map",
            StateKind::Reducing => "reducing",
            StateKind::Aggregating => "aggregating",
            StateKind::Folding => "folding",
            StateKind::Unknown => "unknown",
            StateKind::OperatorList => "operator_list",
            StateKind::OperatorUnion => "union_list",
            StateKind::Broadcast => "broadcast",
            StateKind::PriorityQueue => "priority_queue",
        }
    }
}

impl std::fmt::Display for StateKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One state registered in a proxy.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StateMeta {
    /// State name.
    pub name: String,
    /// State kind.
    pub kind: StateKind,
    /// `BackendStateType` ordinal (0 key-value, 1 operator, 2 broadcast,
    /// 3 priority queue, 4 key-value V2) for proxies that write it (v5 / v6 meta info).
    pub backend_type: Option<i32>,
    /// `(serializer key, snapshot class)`: `KEY_SERIALIZER`, `NAMESPACE_SERIALIZER`,
    /// `VALUE_SERIALIZER`, `USER_KEY_SERIALIZER`; the class is `"?"` when the file
    /// format does not name it (Flink ≤ 1.6 frames) or it could not be read.
    pub serializers: Vec<(String, String)>,
    /// True when the entry was found by the §10.9 heuristic scan.
    pub heuristic: bool,
}

/// A `KeyedBackendSerializationProxy`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct KeyedProxy {
    /// Proxy version (1 to 6).
    pub version: i32,
    /// Whether key-group data is Snappy-compressed (versions ≥ 4).
    pub compressed: Option<bool>,
    /// Key serializer snapshot class (v6), or serializer class (v1/v2), when known.
    pub key_serializer: Option<String>,
    /// States in registration order (the index is the `kvStateId`).
    pub states: Vec<StateMeta>,
    /// True when some state was located heuristically (§10.9).
    pub heuristic: bool,
    /// Offset just after the proxy (a lower bound when `heuristic`).
    pub end_offset: u64,
    /// Why the heuristic was needed (one note per unreadable snapshot).
    pub notes: Vec<String>,
}

/// An `OperatorBackendSerializationProxy`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OperatorProxy {
    /// Proxy version (1 to 6).
    pub version: i32,
    /// Whether state data after the proxy is Snappy-compressed (version 6).
    pub compressed: Option<bool>,
    /// Operator list / union states.
    pub states: Vec<StateMeta>,
    /// Broadcast states (versions ≥ 3).
    pub broadcast_states: Vec<StateMeta>,
    /// True when some state was located heuristically (§10.9).
    pub heuristic: bool,
    /// Offset just after the proxy (a lower bound when `heuristic`).
    pub end_offset: u64,
    /// Why the heuristic was needed (one note per unreadable snapshot).
    pub notes: Vec<String>,
}

/// Either proxy, for callers that do not know which kind a stream holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "proxy", rename_all = "snake_case")]
pub enum Proxy {
    /// A keyed-backend proxy.
    Keyed(KeyedProxy),
    /// An operator-backend proxy.
    Operator(OperatorProxy),
}

/// True when `e` means "the prefix was too short" (see the module's prefix contract).
pub fn is_eof(e: &Error) -> bool {
    matches!(e.kind, ErrorKind::UnexpectedEof { .. })
}

const KEYED_TYPES: [StateKind; 7] = [
    StateKind::Unknown,
    StateKind::Value,
    StateKind::List,
    StateKind::Reducing,
    StateKind::Folding,
    StateKind::Aggregating,
    StateKind::Map,
];

const SERIALIZER_KEYS: [&str; 4] = [
    "KEY_SERIALIZER",
    "NAMESPACE_SERIALIZER",
    "VALUE_SERIALIZER",
    "USER_KEY_SERIALIZER",
];
const OPTION_KEYS: [&str; 2] = ["KEYED_STATE_TYPE", "OPERATOR_STATE_DISTRIBUTION_MODE"];
/// Sanity limit on options / serializers per state (real files have ≤ 4).
const MAX_ENTRIES: usize = 64;

fn invalid(at: u64, field: &'static str, value: impl ToString) -> Error {
    Error::new(
        at,
        ErrorKind::InvalidValue {
            field,
            value: value.to_string(),
        },
    )
}

fn read_version(r: &mut ByteReader<'_>, what: &'static str) -> Result<i32> {
    let at = r.offset();
    let v = r.read_i32(what)?;
    if (1..=6).contains(&v) {
        Ok(v)
    } else {
        Err(invalid(
            at,
            what,
            format!("{v} (known versions are 1 to 6)"),
        ))
    }
}

fn read_bool(r: &mut ByteReader<'_>, field: &'static str) -> Result<bool> {
    let at = r.offset();
    match r.read_u8(field)? {
        0 => Ok(false),
        1 => Ok(true),
        b => Err(invalid(at, field, b)),
    }
}

fn keyed_kind_from_ordinal(at: u64, ord: i32) -> Result<StateKind> {
    usize::try_from(ord)
        .ok()
        .and_then(|i| KEYED_TYPES.get(i).copied())
        .ok_or_else(|| invalid(at, "state descriptor type", ord))
}

fn mode_kind(at: u64, ord: u8) -> Result<StateKind> {
    match ord {
        0 => Ok(StateKind::OperatorList),
        1 => Ok(StateKind::OperatorUnion),
        2 => Ok(StateKind::Broadcast),
        _ => Err(invalid(at, "operator state distribution mode", ord)),
    }
}

/// Kind from a v5/v6 `backendStateType` and its options.
fn kind_from(backend_type: i32, options: &[(String, String)]) -> StateKind {
    let opt = |k: &str| {
        options
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    match backend_type {
        0 | 4 => match opt("KEYED_STATE_TYPE") {
            Some("VALUE") => StateKind::Value,
            Some("LIST") => StateKind::List,
            Some("MAP") => StateKind::Map,
            Some("REDUCING") => StateKind::Reducing,
            Some("AGGREGATING") => StateKind::Aggregating,
            Some("FOLDING") => StateKind::Folding,
            _ => StateKind::Unknown,
        },
        1 => match opt("OPERATOR_STATE_DISTRIBUTION_MODE") {
            Some("UNION") => StateKind::OperatorUnion,
            Some("BROADCAST") => StateKind::Broadcast,
            _ => StateKind::OperatorList,
        },
        2 => StateKind::Broadcast,
        3 => StateKind::PriorityQueue,
        _ => StateKind::Unknown,
    }
}

/// `(key, value)` options of a meta-info entry.
type Options = Vec<(String, String)>;

/// Header part shared by v5 and v6 meta info: name, type, options.
fn read_meta_header(r: &mut ByteReader<'_>) -> Result<(String, i32, Options)> {
    let name = utf(r, "state name")?;
    let at = r.offset();
    let backend_type = r.read_i32("backend state type")?;
    if !(0..=4).contains(&backend_type) {
        return Err(invalid(at, "backend state type", backend_type));
    }
    let at = r.offset();
    let n = read_len(r, "option count", 4)?;
    if n > MAX_ENTRIES {
        return Err(invalid(at, "option count", n));
    }
    let mut options = Vec::with_capacity(n);
    for _ in 0..n {
        options.push((utf(r, "option key")?, utf(r, "option value")?));
    }
    Ok((name, backend_type, options))
}

fn read_serializer_count(r: &mut ByteReader<'_>, min: usize) -> Result<usize> {
    let at = r.offset();
    let n = read_len(r, "serializer count", min)?;
    if n > MAX_ENTRIES {
        return Err(invalid(at, "serializer count", n));
    }
    Ok(n)
}

/// Result of reading one v6 entry: the state, and if a snapshot could not be
/// skipped, the error plus the position from which to scan.
struct V6Entry {
    meta: StateMeta,
    broken: Option<(Error, usize)>,
}

/// v6/v7 meta info (§10.4). Non-EOF failures inside serializer snapshots are
/// returned in `broken` (the reader is then left just after the snapshot start).
fn read_v6_entry(r: &mut ByteReader<'_>) -> Result<V6Entry> {
    let (name, backend_type, options) = read_meta_header(r)?;
    let n = read_serializer_count(r, 10)?;
    let mut meta = StateMeta {
        name,
        kind: kind_from(backend_type, &options),
        backend_type: Some(backend_type),
        serializers: Vec::with_capacity(n),
        heuristic: false,
    };
    for _ in 0..n {
        let key = utf(r, "serializer key")?;
        let before = r.clone();
        let mut class = None;
        match snapshot::skip_snapshot_with_proxy(r, &mut class) {
            Ok(c) => meta.serializers.push((key, c)),
            Err(e) if is_eof(&e) => return Err(e),
            Err(e) => {
                meta.serializers
                    .push((key, class.unwrap_or_else(|| "?".into())));
                *r = before;
                let resume = r.position().saturating_add(1);
                let e = e.within(format!("state {:?}", meta.name));
                return Ok(V6Entry {
                    meta,
                    broken: Some((e, resume)),
                });
            }
        }
    }
    Ok(V6Entry { meta, broken: None })
}

/// v5 meta info (Flink 1.6): header, serializer keys, one resilience frame.
fn read_v5_entry(r: &mut ByteReader<'_>) -> Result<StateMeta> {
    let (name, backend_type, options) = read_meta_header(r)?;
    let n = read_serializer_count(r, 2)?;
    let mut serializers = Vec::with_capacity(n);
    for _ in 0..n {
        serializers.push((utf(r, "serializer key")?, "?".to_owned()));
    }
    snapshot::skip_resilience_frame(r)?;
    Ok(StateMeta {
        name,
        kind: kind_from(backend_type, &options),
        backend_type: Some(backend_type),
        serializers,
        heuristic: false,
    })
}

/// True if a plausible v6 meta-info header starts at `pos` of `data` (§10.9).
fn header_at(data: &[u8], pos: usize) -> bool {
    let Some(slice) = data.get(pos..) else {
        return false;
    };
    let mut r = ByteReader::new(slice);
    let check = |r: &mut ByteReader<'_>| -> Option<()> {
        let name = r.read_utf("name").ok()?;
        if name.is_empty() || name.as_str().chars().any(|c| c < ' ') {
            return None;
        }
        let t = r.read_i32("type").ok()?;
        if !(0..=4).contains(&t) {
            return None;
        }
        let n_opt = r.read_i32("options").ok()?;
        if !(0..=4).contains(&n_opt) {
            return None;
        }
        for _ in 0..n_opt {
            let key = r.read_utf("key").ok()?;
            if !OPTION_KEYS.contains(&key.as_str()) {
                return None;
            }
            r.read_utf("value").ok()?;
        }
        let n_ser = r.read_i32("serializers").ok()?;
        if !(1..=4).contains(&n_ser) {
            return None;
        }
        let key = r.read_utf("key").ok()?;
        SERIALIZER_KEYS.contains(&key.as_str()).then_some(())
    };
    check(&mut r).is_some()
}

/// Finds the next plausible header at or after `from`.
fn scan(data: &[u8], from: usize) -> Option<usize> {
    (from..data.len()).find(|&p| header_at(data, p))
}

fn advance_to(r: &mut ByteReader<'_>, pos: usize) -> Result<()> {
    let n = pos.saturating_sub(r.position());
    r.read_bytes(n, "heuristic resync").map(|_| ())
}

/// Reads `n` v6 entries, resyncing heuristically after unreadable snapshots.
/// Returns the entries and whether the reader is in sync afterwards.
fn read_v6_entries(
    r: &mut ByteReader<'_>,
    n: usize,
    notes: &mut Vec<String>,
) -> Result<(Vec<StateMeta>, bool)> {
    let mut out = Vec::with_capacity(n.min(1024));
    let mut resume: Option<usize> = None;
    while out.len() < n {
        let found_by_scan = if let Some(from) = resume.take() {
            match scan(r.data(), from) {
                Some(p) => {
                    advance_to(r, p)?;
                    true
                }
                None => {
                    let at = r.data().len();
                    advance_to(r, at)?;
                    return Err(r.error(ErrorKind::UnexpectedEof {
                        field: "state meta info (heuristic resync)",
                        needed: 1,
                        available: 0,
                    }));
                }
            }
        } else {
            false
        };
        let V6Entry { mut meta, broken } = read_v6_entry(r)?;
        meta.heuristic = found_by_scan;
        if let Some((e, from)) = broken {
            notes.push(e.to_string());
            resume = Some(from);
        }
        out.push(meta);
    }
    Ok((out, resume.is_none()))
}

/// Parses a `KeyedBackendSerializationProxy` (FORMAT.md §10.2, versions 1 to 6)
/// from a prefix of a keyed state stream. See the module docs for the prefix contract.
pub fn parse_keyed_proxy(bytes: &[u8]) -> Result<KeyedProxy, Error> {
    let mut r = ByteReader::new(bytes);
    keyed(&mut r).map_err(|e| e.within("keyed proxy"))
}

fn keyed(r: &mut ByteReader<'_>) -> Result<KeyedProxy> {
    let version = read_version(r, "keyed proxy version")?;
    let compressed = if version >= 4 {
        Some(read_bool(r, "compressed")?)
    } else {
        None
    };
    let mut notes = Vec::new();
    let mut key_serializer = None;
    let mut key_broken = None;
    match version {
        1 | 2 => key_serializer = serializer_proxy_class(r)?,
        3..=5 => snapshot::skip_resilience_frame(r)?,
        _ => {
            let before = r.clone();
            let mut class = None;
            match snapshot::skip_snapshot_with_proxy(r, &mut class) {
                Ok(c) => key_serializer = Some(c),
                Err(e) if is_eof(&e) => return Err(e.within("key serializer")),
                Err(e) => {
                    key_serializer = class;
                    *r = before;
                    notes.push(e.within("key serializer").to_string());
                    key_broken = Some(r.position().saturating_add(1));
                }
            }
        }
    }
    let mut heuristic = false;
    if let Some(from) = key_broken {
        // The state count is lost with the key serializer: find the first
        // header, then the i16 count is the two bytes before it.
        let p = scan(r.data(), from).ok_or_else(|| {
            r.error(ErrorKind::UnexpectedEof {
                field: "state meta info (heuristic resync)",
                needed: 1,
                available: 0,
            })
        })?;
        advance_to(r, p.saturating_sub(2))?;
        heuristic = true;
    }
    let n = read_len_i16(r, "state count", 1)?;
    let mut states = Vec::with_capacity(n.min(1024));
    match version {
        1 | 2 => {
            for i in 0..n {
                let at = r.offset();
                let ord = r.read_i32("state descriptor type")?;
                let kind = keyed_kind_from_ordinal(at, ord)
                    .map_err(|e| e.within(format!("states[{i}]")))?;
                let name = utf(r, "state name")?;
                let ns = serializer_proxy_class(r)?;
                let value = serializer_proxy_class(r)?;
                states.push(StateMeta {
                    name,
                    kind,
                    backend_type: None,
                    serializers: vec![
                        (
                            "NAMESPACE_SERIALIZER".into(),
                            ns.unwrap_or_else(|| "?".into()),
                        ),
                        (
                            "VALUE_SERIALIZER".into(),
                            value.unwrap_or_else(|| "?".into()),
                        ),
                    ],
                    heuristic: false,
                });
            }
        }
        3 | 4 => {
            for i in 0..n {
                let at = r.offset();
                let ord = r.read_i32("state descriptor type")?;
                let kind = keyed_kind_from_ordinal(at, ord)
                    .map_err(|e| e.within(format!("states[{i}]")))?;
                let name = utf(r, "state name")?;
                snapshot::skip_resilience_frame(r)?;
                states.push(StateMeta {
                    name,
                    kind,
                    backend_type: None,
                    serializers: vec![
                        ("NAMESPACE_SERIALIZER".into(), "?".into()),
                        ("VALUE_SERIALIZER".into(), "?".into()),
                    ],
                    heuristic: false,
                });
            }
        }
        5 => {
            for i in 0..n {
                states.push(read_v5_entry(r).map_err(|e| e.within(format!("states[{i}]")))?);
            }
        }
        _ => {
            let (s, _in_sync) = read_v6_entries(r, n, &mut notes)?;
            states = s;
        }
    }
    heuristic |= !notes.is_empty();
    Ok(KeyedProxy {
        version,
        compressed,
        key_serializer,
        states,
        heuristic,
        end_offset: r.offset(),
        notes,
    })
}

/// A `TypeSerializerSerializationProxy` (`i32 ver; i32 len; Java-serialized
/// serializer`); returns the serializer's class name when the Java stream reads.
fn serializer_proxy_class(r: &mut ByteReader<'_>) -> Result<Option<String>> {
    let _version = r.read_i32("serializer proxy version")?;
    let len = read_len(r, "serialized serializer length", 1)?;
    let mut sub = r.sub_reader(len, "serialized serializer")?;
    Ok(match javaser::read_stream(&mut sub) {
        Ok(javaser::Value::Object(o)) => Some(o.class),
        _ => None,
    })
}

/// Parses an `OperatorBackendSerializationProxy` (FORMAT.md §10.3, versions 1
/// to 6) from a prefix of an operator state stream. See the module docs for the
/// prefix contract.
pub fn parse_operator_proxy(bytes: &[u8]) -> Result<OperatorProxy, Error> {
    let mut r = ByteReader::new(bytes);
    operator(&mut r).map_err(|e| e.within("operator proxy"))
}

fn operator(r: &mut ByteReader<'_>) -> Result<OperatorProxy> {
    let version = read_version(r, "operator proxy version")?;
    let compressed = if version >= 6 {
        Some(read_bool(r, "compressed")?)
    } else {
        None
    };
    let mut notes = Vec::new();
    let mut heuristic = false;
    let n = read_len_i16(r, "state count", 3)?;
    let (states, broadcast_states) = match version {
        1..=3 => {
            let states = (0..n)
                .map(|i| legacy_op_entry(r, version).map_err(|e| e.within(format!("states[{i}]"))))
                .collect::<Result<Vec<_>>>()?;
            let broadcast = if version == 3 {
                let nb = read_len_i16(r, "broadcast state count", 3)?;
                (0..nb)
                    .map(|i| {
                        legacy_op_entry(r, version)
                            .map_err(|e| e.within(format!("broadcast_states[{i}]")))
                    })
                    .collect::<Result<Vec<_>>>()?
            } else {
                Vec::new()
            };
            (states, broadcast)
        }
        4 => {
            let states = (0..n)
                .map(|i| read_v5_entry(r).map_err(|e| e.within(format!("states[{i}]"))))
                .collect::<Result<Vec<_>>>()?;
            let nb = read_len_i16(r, "broadcast state count", 3)?;
            let broadcast = (0..nb)
                .map(|i| read_v5_entry(r).map_err(|e| e.within(format!("broadcast_states[{i}]"))))
                .collect::<Result<Vec<_>>>()?;
            (states, broadcast)
        }
        _ => {
            let (states, in_sync) = read_v6_entries(r, n, &mut notes)?;
            let broadcast = if in_sync {
                let nb = read_len_i16(r, "broadcast state count", 3)?;
                read_v6_entries(r, nb, &mut notes)?.0
            } else {
                // The broadcast count is lost: collect every further header
                // of a broadcast state in the prefix.
                heuristic = true;
                let mut found = Vec::new();
                let mut from = r.position();
                while let Some(p) = scan(r.data(), from) {
                    advance_to(r, p)?;
                    let mut probe = r.clone();
                    from = p.saturating_add(1);
                    match read_v6_entry(&mut probe) {
                        Ok(V6Entry { mut meta, broken }) if meta.backend_type == Some(2) => {
                            meta.heuristic = true;
                            found.push(meta);
                            if broken.is_none() {
                                *r = probe;
                                from = r.position();
                            }
                        }
                        _ => {}
                    }
                }
                found
            };
            (states, broadcast)
        }
    };
    heuristic |= !notes.is_empty();
    Ok(OperatorProxy {
        version,
        compressed,
        states,
        broadcast_states,
        heuristic,
        end_offset: r.offset(),
        notes,
    })
}

/// Operator meta info v1 (`utf name; u8 mode; Java-serialized serializer`) and
/// v2/v3 (`utf name; u8 mode; resilience frame`).
fn legacy_op_entry(r: &mut ByteReader<'_>, version: i32) -> Result<StateMeta> {
    let name = utf(r, "state name")?;
    let at = r.offset();
    let mode = r.read_u8("distribution mode")?;
    let kind = mode_kind(at, mode)?;
    let serializers = if version == 1 {
        let class = match javaser::read_stream(r)? {
            javaser::Value::Object(o) => o.class,
            _ => "?".into(),
        };
        vec![("VALUE_SERIALIZER".to_owned(), class)]
    } else {
        // The frame's count tells list (1: value) from broadcast (2: key + value).
        let count = r.clone().read_i32("serializer frame count").unwrap_or(1);
        snapshot::skip_resilience_frame(r)?;
        if count == 2 {
            vec![
                ("KEY_SERIALIZER".into(), "?".into()),
                ("VALUE_SERIALIZER".into(), "?".into()),
            ]
        } else {
            vec![("VALUE_SERIALIZER".into(), "?".into())]
        }
    };
    Ok(StateMeta {
        name,
        kind,
        backend_type: None,
        serializers,
        heuristic: false,
    })
}

/// Parses a proxy of either kind, deciding by content: the parser that accepts
/// the bytes wins; if both do, the one that did not need the heuristic wins
/// (keyed on a tie). If both fail, an EOF-kind error is preferred (so a caller
/// following the prefix contract retries), else the keyed parser's error.
pub fn parse_proxy(bytes: &[u8]) -> Result<Proxy, Error> {
    let keyed = parse_keyed_proxy(bytes);
    let op = parse_operator_proxy(bytes);
    match (keyed, op) {
        (Ok(k), Ok(o)) => {
            if k.heuristic && !o.heuristic {
                Ok(Proxy::Operator(o))
            } else {
                Ok(Proxy::Keyed(k))
            }
        }
        (Ok(k), Err(_)) => Ok(Proxy::Keyed(k)),
        (Err(_), Ok(o)) => Ok(Proxy::Operator(o)),
        (Err(ke), Err(oe)) => {
            // Prefer the EOF error so a caller retries with more bytes.
            if is_eof(&oe) && !is_eof(&ke) {
                Err(oe)
            } else {
                Err(ke)
            }
        }
    }
}
