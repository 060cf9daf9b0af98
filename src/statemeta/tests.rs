//! Tests against the real corpus (skipped when absent) plus hand-built cases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stderr
)]

use super::*;
use std::path::{Path, PathBuf};

use crate::testutil::corpus;

fn state_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for d in dirs {
        let mut files: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            if f.is_file() && f.file_name().unwrap() != "_metadata" {
                out.push(f);
            }
        }
    }
    out
}

/// Byte-stream handles inline in `_metadata`: `01 | utf name | i32 len | bytes`, where
/// the bytes start with a plausible proxy version. Heuristic locator for tests only.
fn inline_streams(data: &[u8]) -> Vec<(usize, &[u8])> {
    let mut out = Vec::new();
    let mut p = 0;
    while p + 3 < data.len() {
        if data[p] == 1 {
            let len = u16::from_be_bytes([data[p + 1], data[p + 2]]) as usize;
            let name_end = p + 3 + len;
            if len >= 8
                && name_end + 8 <= data.len()
                && data[p + 3..name_end]
                    .iter()
                    .all(|b| (0x20..0x7f).contains(b))
            {
                let n = i32::from_be_bytes(data[name_end..name_end + 4].try_into().unwrap());
                let start = name_end + 4;
                if n >= 4 && start + n as usize <= data.len() {
                    let bytes = &data[start..start + n as usize];
                    let v = i32::from_be_bytes(bytes[..4].try_into().unwrap());
                    if (1..=6).contains(&v) {
                        out.push((start, bytes));
                        p = start + n as usize;
                        continue;
                    }
                }
            }
        }
        p += 1;
    }
    out
}

fn version_of(bytes: &[u8]) -> Option<i32> {
    bytes
        .get(..4)
        .map(|b| i32::from_be_bytes(b.try_into().unwrap()))
}

/// Parses with the prefix contract: start with a small prefix and grow it on
/// EOF-kind errors, as a caller reading a file in chunks would.
fn parse_growing(data: &[u8]) -> (Result<Proxy, Error>, usize) {
    let mut len = 64.min(data.len());
    let mut tries = 0;
    loop {
        tries += 1;
        let r = parse_proxy(&data[..len]);
        match &r {
            Err(e) if is_eof(e) && len < data.len() => {
                len = (len * 4).min(data.len());
            }
            _ => return (r, tries),
        }
    }
}

/// Names found by the §10.9 scan alone between `from` and `to` (test cross-check).
fn scanned_names(data: &[u8], from: usize, to: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut p = from;
    while let Some(q) = scan(&data[..to], p) {
        let len = u16::from_be_bytes([data[q], data[q + 1]]) as usize;
        out.push(String::from_utf8_lossy(&data[q + 2..q + 2 + len]).into_owned());
        p = q + 1;
    }
    out
}

#[derive(Default, Debug)]
struct Tally {
    tried: usize,
    keyed: std::collections::BTreeMap<i32, usize>,
    operator: std::collections::BTreeMap<i32, usize>,
    heuristic: usize,
    unknown_classes: std::collections::BTreeMap<String, usize>,
    failures: Vec<String>,
}

impl Tally {
    fn note(&mut self, notes: &[String]) {
        for n in notes {
            let class = n
                .split_whitespace()
                .find(|w| w.contains('.') && w.chars().next().is_some_and(char::is_alphabetic));
            *self
                .unknown_classes
                .entry(class.unwrap_or(n).to_owned())
                .or_default() += 1;
        }
    }

    fn add(&mut self, what: &str, data: &[u8], result: Result<Proxy, Error>) {
        self.tried += 1;
        match result {
            Ok(Proxy::Keyed(k)) => {
                *self.keyed.entry(k.version).or_default() += 1;
                self.heuristic += usize::from(k.heuristic);
                self.note(&k.notes);
                assert_eq!(k.heuristic, !k.notes.is_empty(), "{what}");
                if k.version == 6 && !k.heuristic {
                    let names: Vec<_> = k.states.iter().map(|s| s.name.clone()).collect();
                    assert_eq!(
                        scanned_names(data, 0, k.end_offset as usize),
                        names,
                        "{what}"
                    );
                }
            }
            Ok(Proxy::Operator(o)) => {
                *self.operator.entry(o.version).or_default() += 1;
                self.heuristic += usize::from(o.heuristic);
                self.note(&o.notes);
                if o.version >= 5 && !o.heuristic {
                    let names: Vec<_> = o
                        .states
                        .iter()
                        .chain(&o.broadcast_states)
                        .map(|s| s.name.clone())
                        .collect();
                    assert_eq!(
                        scanned_names(data, 0, o.end_offset as usize),
                        names,
                        "{what}"
                    );
                }
            }
            Err(e) => self.failures.push(format!("{what}: {e}")),
        }
    }
}

#[test]
fn corpus_standalone_state_files() {
    let Some(root) = corpus() else { return };
    let mut t = Tally::default();
    let mut retried = 0;
    for f in state_files(&root) {
        let data = std::fs::read(&f).unwrap();
        if !version_of(&data).is_some_and(|v| (1..=6).contains(&v)) {
            continue;
        }
        let full = parse_proxy(&data);
        let (grown, tries) = parse_growing(&data);
        retried += usize::from(tries > 1);
        assert_eq!(full, grown, "prefix contract broken for {}", f.display());
        t.add(&f.display().to_string(), &data, full);
    }
    eprintln!(
        "standalone state files: tried {}, keyed {:?}, operator {:?}, heuristic {} {:?}, failures {}, retried with a longer prefix {retried}",
        t.tried,
        t.keyed,
        t.operator,
        t.heuristic,
        t.unknown_classes,
        t.failures.len()
    );
    assert!(t.failures.is_empty(), "{:#?}", t.failures);
    assert!(t.tried > 2000, "{t:?}");
}

/// True for Flink 1.3/1.4 raw keyed state holding timer-service snapshots
/// (`i32 1; utf serviceName; Java streams`), which the inline locator picks up
/// but which are not backend proxies.
fn is_timer_service_snapshot(bytes: &[u8]) -> bool {
    let Some(len) = bytes
        .get(4..6)
        .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
    else {
        return false;
    };
    bytes.get(6 + len..10 + len) == Some(&[0xAC, 0xED, 0x00, 0x05][..])
}

#[test]
fn corpus_inline_proxies_in_metadata() {
    let Some(root) = corpus() else { return };
    let mut t = Tally::default();
    let mut timer_snapshots = 0;
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for d in dirs {
        let Ok(data) = std::fs::read(d.join("_metadata")) else {
            continue;
        };
        for (at, bytes) in inline_streams(&data) {
            if is_timer_service_snapshot(bytes) {
                timer_snapshots += 1;
                continue;
            }
            t.add(&format!("{}@{at}", d.display()), bytes, parse_proxy(bytes));
        }
    }
    eprintln!(
        "inline byte-stream proxies: tried {}, keyed {:?}, operator {:?}, heuristic {} {:?}, failures {}, timer-service raw streams skipped {timer_snapshots}",
        t.tried,
        t.keyed,
        t.operator,
        t.heuristic,
        t.unknown_classes,
        t.failures.len()
    );
    assert!(t.failures.is_empty(), "{:#?}", t.failures);
    assert!(t.keyed.len() >= 5 && t.operator.len() == 6, "{t:?}");
}

fn read_corpus_file(root: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(root.join(rel)).unwrap()
}

fn kinds(states: &[StateMeta]) -> Vec<(&str, StateKind)> {
    states.iter().map(|s| (s.name.as_str(), s.kind)).collect()
}

#[test]
fn known_keyed_file_flink_1_18() {
    let Some(root) = corpus() else { return };
    // Verified by reading the bytes: v6, uncompressed, Tuple key, two timer queues and one value state.
    let data = read_corpus_file(
        &root,
        "new-stateful-udf-migration-itcase-flink1.18-rocksdb-savepoint/5780af7b-bbf6-48ba-abe5-2e51714d7a88",
    );
    let k = parse_keyed_proxy(&data).unwrap();
    assert_eq!(k.version, 6);
    assert_eq!(k.compressed, Some(false));
    assert_eq!(
        k.key_serializer.as_deref(),
        Some("org.apache.flink.api.java.typeutils.runtime.TupleSerializerSnapshot")
    );
    assert!(!k.heuristic);
    assert_eq!(
        kinds(&k.states),
        vec![
            ("_timer_state/processing_timer", StateKind::PriorityQueue),
            ("_timer_state/event_timer", StateKind::PriorityQueue),
            ("state-name", StateKind::Value),
        ]
    );
    assert_eq!(k.states[0].backend_type, Some(3));
    assert_eq!(
        k.states[0].serializers,
        vec![(
            "VALUE_SERIALIZER".to_owned(),
            "org.apache.flink.streaming.api.operators.TimerSerializerSnapshot".to_owned()
        )]
    );
    assert!(parse_operator_proxy(&data).is_err());
}

#[test]
fn known_operator_file_flink_1_18() {
    let Some(root) = corpus() else { return };
    let data = read_corpus_file(
        &root,
        "new-stateful-udf-migration-itcase-flink1.18-rocksdb-savepoint/2e280024-701a-494f-9a04-a628eb104c93",
    );
    let o = parse_operator_proxy(&data).unwrap();
    assert_eq!(o.version, 6);
    assert_eq!(o.compressed, Some(false));
    assert_eq!(
        kinds(&o.states),
        vec![("source-state", StateKind::OperatorUnion)]
    );
    assert_eq!(o.states[0].backend_type, Some(1));
    assert_eq!(
        o.states[0].serializers,
        vec![(
            "VALUE_SERIALIZER".to_owned(),
            "org.apache.flink.api.common.typeutils.base.StringSerializer$StringSerializerSnapshot"
                .to_owned()
        )]
    );
    assert!(o.broadcast_states.is_empty());
    assert_eq!(o.end_offset, 0xBC);
    // A prefix that ends inside the proxy is an EOF-kind error, never corruption.
    for cut in 0..0xBC {
        let e = parse_operator_proxy(&data[..cut]).unwrap_err();
        assert!(is_eof(&e), "cut {cut}: {e}");
    }
}

#[test]
fn known_inline_operator_proxy_flink_2_3() {
    let Some(root) = corpus() else { return };
    // FORMAT.md §11: the 194 inline bytes at 0x92 of operatorstate-nonKeyed-flink2.3/_metadata.
    let data = read_corpus_file(&root, "operatorstate-nonKeyed-flink2.3/_metadata");
    let o = parse_operator_proxy(&data[0x92..0x92 + 194]).unwrap();
    assert_eq!(o.version, 6);
    assert_eq!(
        kinds(&o.states),
        vec![("_default_", StateKind::OperatorList)]
    );
    assert_eq!(
        o.states[0].serializers[0].1,
        "org.apache.flink.runtime.state.JavaSerializer$JavaSerializerSnapshot"
    );
}

#[test]
fn known_heuristic_file() {
    let Some(root) = corpus() else { return };
    let dir = root.join("type-serializer-snapshot-migration-itcase-flink1.16-rocksdb-savepoint");
    let f = dir.join("eb314510-40b9-4516-918c-b65b9eb580f4");
    let k = parse_keyed_proxy(&std::fs::read(f).unwrap()).unwrap();
    assert!(k.heuristic);
    assert_eq!(kinds(&k.states), vec![("testState", StateKind::Value)]);
    assert!(
        k.notes[0].contains("TypeSerializerSnapshotMigrationITCase$TestSerializerSnapshot"),
        "{:?}",
        k.notes
    );
}

// ---- Hand-built inputs (test-side writer), not real files. ----

#[derive(Default)]
struct W(Vec<u8>);

impl W {
    fn i32(&mut self, v: i32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn i16(&mut self, v: i16) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    fn utf(&mut self, s: &str) -> &mut Self {
        self.0.extend_from_slice(&(s.len() as u16).to_be_bytes());
        self.0.extend_from_slice(s.as_bytes());
        self
    }
    fn simple(&mut self, class: &str) -> &mut Self {
        self.i32(2).utf(class).i32(3)
    }
    fn keyed_state(
        &mut self,
        name: &str,
        kind: &str,
        value_snapshot: impl FnOnce(&mut W),
    ) -> &mut Self {
        self.utf(name)
            .i32(0)
            .i32(1)
            .utf("KEYED_STATE_TYPE")
            .utf(kind)
            .i32(2);
        self.utf("NAMESPACE_SERIALIZER").simple("org.apache.flink.runtime.state.VoidNamespaceSerializer$VoidNamespaceSerializerSnapshot");
        self.utf("VALUE_SERIALIZER");
        value_snapshot(self);
        self
    }
}

const LONG: &str =
    "org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot";

#[test]
fn handbuilt_keyed_v6_with_unknown_snapshot_resyncs() {
    let mut w = W::default();
    w.i32(6).u8(0).simple(LONG).i16(3);
    w.keyed_state("a", "VALUE", |w| {
        w.i32(2)
            .utf("com.example.Mystery$Snapshot")
            .i32(7)
            .i32(0x1234_5678)
            .u8(9);
    });
    w.keyed_state("b", "MAP", |w| {
        w.i32(2)
            .utf("org.apache.flink.api.common.typeutils.base.MapSerializerSnapshot")
            .i32(1);
        w.i32(1_333_245)
            .i32(1)
            .i32(2)
            .utf(LONG)
            .i32(3)
            .utf(LONG)
            .i32(3);
    });
    w.keyed_state("c", "LIST", |w| {
        w.simple(LONG);
    });
    let end = w.0.len();
    w.0.extend_from_slice(&[0, 0, 0, 1, 0, 0]);
    let k = parse_keyed_proxy(&w.0).unwrap();
    assert!(k.heuristic);
    assert_eq!(
        kinds(&k.states),
        vec![
            ("a", StateKind::Value),
            ("b", StateKind::Map),
            ("c", StateKind::List)
        ]
    );
    assert_eq!(
        k.states.iter().map(|s| s.heuristic).collect::<Vec<_>>(),
        vec![false, true, false]
    );
    assert_eq!(k.states[0].serializers[1].1, "com.example.Mystery$Snapshot");
    assert_eq!(k.end_offset, end as u64);
    assert_eq!(k.notes.len(), 1);
}

#[test]
fn handbuilt_legacy_versions() {
    // keyed v4: compressed flag, resilience frame key, keyed-v4 entries.
    let mut w = W::default();
    w.i32(4).u8(1).i32(1).i32(0).i32(4).i32(4).i32(0).i16(1);
    w.i32(6).utf("counts").i32(0).i32(0);
    let k = parse_keyed_proxy(&w.0).unwrap();
    assert_eq!((k.version, k.compressed), (4, Some(true)));
    assert_eq!(kinds(&k.states), vec![("counts", StateKind::Map)]);
    assert_eq!(k.end_offset, w.0.len() as u64);
    // operator v3: op-v2 entries plus broadcast.
    let mut w = W::default();
    w.i32(3).i16(1).utf("l").u8(1).i32(1).i32(0).i32(0).i32(0);
    w.i16(1)
        .utf("b")
        .u8(2)
        .i32(2)
        .i32(0)
        .i32(0)
        .i32(0)
        .i32(0)
        .i32(0);
    let o = parse_operator_proxy(&w.0).unwrap();
    assert_eq!(kinds(&o.states), vec![("l", StateKind::OperatorUnion)]);
    assert_eq!(
        kinds(&o.broadcast_states),
        vec![("b", StateKind::Broadcast)]
    );
    assert_eq!(o.broadcast_states[0].serializers.len(), 2);
}

#[test]
fn handbuilt_garbage_is_an_error_not_a_panic() {
    for v in 1..=6 {
        let mut w = W::default();
        w.i32(v);
        w.0.extend(std::iter::repeat_n(0xFF, 64));
        assert!(parse_proxy(&w.0).is_err());
    }
    assert!(matches!(
        parse_keyed_proxy(&[0, 0, 0, 9]).unwrap_err().kind,
        ErrorKind::InvalidValue { .. }
    ));
    assert!(is_eof(&parse_keyed_proxy(&[0, 0]).unwrap_err()));
}

#[test]
fn handbuilt_operator_v6_heuristic_finds_broadcast_states() {
    let mut w = W::default();
    w.i32(6).u8(0).i16(1);
    w.utf("list")
        .i32(1)
        .i32(1)
        .utf("OPERATOR_STATE_DISTRIBUTION_MODE")
        .utf("SPLIT_DISTRIBUTE")
        .i32(1);
    w.utf("VALUE_SERIALIZER")
        .i32(2)
        .utf("com.example.Unknown")
        .i32(1)
        .i32(42);
    w.i16(1);
    w.utf("bc")
        .i32(2)
        .i32(1)
        .utf("OPERATOR_STATE_DISTRIBUTION_MODE")
        .utf("BROADCAST")
        .i32(2);
    w.utf("KEY_SERIALIZER")
        .simple(LONG)
        .utf("VALUE_SERIALIZER")
        .simple(LONG);
    let o = parse_operator_proxy(&w.0).unwrap();
    assert!(o.heuristic);
    assert_eq!(kinds(&o.states), vec![("list", StateKind::OperatorList)]);
    assert_eq!(
        kinds(&o.broadcast_states),
        vec![("bc", StateKind::Broadcast)]
    );
    assert!(o.broadcast_states[0].heuristic);
    assert_eq!(o.end_offset, w.0.len() as u64);
}
