//! Every `_metadata` in the shared corpus of real Flink snapshots (Flink 1.1 – 2.x).

use flink_chk::analysis::deps;
use flink_chk::analysis::snapshot::{Rebase, Snapshot};
use flink_chk::analysis::summary::SnapshotKind;
use flink_chk::metadata::{self, ErrorKind};
use flink_chk::storage::Location;

use crate::common;

#[test]
fn every_corpus_file_parses_completely_and_round_trips() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let rows = common::manifest(&corpus);
    assert!(rows.len() > 700, "manifest has {} rows", rows.len());
    let (mut parsed, mut legacy, mut uids_checked, mut kinds_checked) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for row in &rows {
        let dir = corpus.join(&row["dir"]);
        let file = common::corpus_metadata_file(&dir);
        let bytes = std::fs::read(&file).unwrap();
        let expected: u32 = row["metadata_version"].parse().unwrap();
        match metadata::parse(&bytes) {
            Ok(m) => {
                parsed += 1;
                if m.version != expected {
                    failures.push(format!(
                        "{}: version {} != manifest {expected}",
                        row["dir"], m.version
                    ));
                }
                if !m.trailing.is_empty() {
                    failures.push(format!(
                        "{}: {} trailing bytes",
                        row["dir"],
                        m.trailing.len()
                    ));
                }
                let kind = flink_chk::analysis::summary::snapshot_kind(&m, &row["source_path"]);
                let want = match row["snapshot_kind"].as_str() {
                    "checkpoint" => SnapshotKind::Checkpoint,
                    "savepoint-canonical" => SnapshotKind::SavepointCanonical,
                    "savepoint-native" => SnapshotKind::SavepointNative,
                    "savepoint" => SnapshotKind::Savepoint,
                    _ => SnapshotKind::Unknown,
                };
                // V2/V3 carry no properties: the manifest's kind is name-derived there.
                if m.version >= 4 && kind != want {
                    failures.push(format!("{}: kind {kind:?}, manifest {want:?}", row["dir"]));
                } else if m.version >= 4 {
                    kinds_checked += 1;
                }
                same_files_both_ways(&dir, &bytes, m.clone(), &mut failures, &row["dir"]);
                match metadata::write(&m) {
                    Ok(written) if written == bytes => {}
                    Ok(_) => failures.push(format!(
                        "{}: write(parse(file)) differs from the file",
                        row["dir"]
                    )),
                    Err(e) => failures.push(format!("{}: write(parse(file)): {e}", row["dir"])),
                }
                for op in &m.operators {
                    if let Some(uid) = op.uid.as_ref().filter(|u| !u.is_empty()) {
                        uids_checked += 1;
                        let id = flink_chk::uid::operator_id(uid.as_str());
                        if id != op.id {
                            failures.push(format!(
                                "{}: uid {uid} hashes to {id}, file has {}",
                                row["dir"], op.id
                            ));
                        }
                    }
                }
            }
            Err(e) if matches!(e.kind, ErrorKind::LegacyVersion(0 | 1)) && expected <= 1 => {
                legacy += 1
            }
            Err(e) => failures.push(format!("{}: {e}", row["dir"])),
        }
    }
    eprintln!(
        "corpus: {parsed} parsed, {legacy} legacy V0/V1 recognised, {uids_checked} uids verified, {kinds_checked} kinds match"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(parsed + legacy, rows.len());
    assert_eq!(legacy, 16);
    let v4_plus = rows
        .iter()
        .filter(|r| r["metadata_version"].parse::<u32>().unwrap() >= 4)
        .count();
    assert_eq!(kinds_checked, v4_plus);
    assert!(uids_checked >= 900, "only {uids_checked} uids checked");
}

/// The planner's [`deps::canonical_files`] and `deps`' [`deps::collect`] name
/// the same files of a snapshot, or both fail on the same handles.
fn same_files_both_ways(
    dir: &std::path::Path,
    bytes: &[u8],
    m: metadata::CheckpointMetadata,
    failures: &mut Vec<String>,
    name: &str,
) {
    let dir = Location::parse(dir.to_str().unwrap()).unwrap();
    let s = Snapshot {
        metadata_location: dir.join("_metadata"),
        dir,
        metadata_size: bytes.len() as u64,
        modified: None,
        metadata_crc32c: 0,
        metadata: m,
    };
    let d = deps::collect(&s, &Rebase::default());
    let mut want: Vec<String> = d.files.iter().map(|f| f.location.canonical()).collect();
    want.sort();
    match deps::canonical_files(&s, &Rebase::default()) {
        Ok(got) if d.unresolved.is_empty() && got == want => {}
        Err(bad) if bad == d.unresolved => {}
        got => failures.push(format!(
            "{name}: canonical_files {got:?} != collect {want:?} (unresolved {:?})",
            d.unresolved
        )),
    }
}
