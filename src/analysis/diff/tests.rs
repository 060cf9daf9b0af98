use super::*;
use crate::analysis::states::StateScope;
use crate::statemeta::StateKind;

/// A test-side operator (not from a Flink file).
fn shape(uid: &str, p: i32, max: i32, bytes: i64, states: &[(&str, &str)]) -> OpShape {
    OpShape {
        id: crate::uid::operator_id(uid),
        uid: Some(uid.into()),
        uid_source: Some("metadata"),
        name: None,
        parallelism: p,
        max_parallelism: MaxParallelism::Recorded(max),
        state_bytes: bytes,
        has_subtask_state: bytes > 0,
        coordinator_bytes: None,
        keyed: states.iter().any(|(_, k)| *k == "value"),
        channel_bytes: 0,
        channel_handles: 0,
        states: Some(
            states
                .iter()
                .map(|(n, k)| StateInfo {
                    name: (*n).into(),
                    scope: if *k == "value" {
                        StateScope::Keyed
                    } else {
                        StateScope::Operator
                    },
                    kind: match *k {
                        "value" => StateKind::Value,
                        "union_list" => StateKind::OperatorUnion,
                        "operator_list" => StateKind::OperatorList,
                        other => panic!("test kind {other}"),
                    },
                    serializers: Vec::new(),
                    heuristic: false,
                })
                .collect(),
        ),
        state_notes: Vec::new(),
        fully_finished: false,
    }
}

fn side(ops: Vec<OpShape>) -> Side {
    Side {
        source: "test".into(),
        kind: Some(SnapshotKind::SavepointCanonical),
        checkpoint_id: Some(1),
        metadata_version: Some(6),
        keyed_format: Some(KeyedFormat::KeyGroups),
        backend: None,
        operators: ops,
    }
}

#[test]
fn stateless_operator_removed_needs_nothing() {
    let old = side(vec![
        shape("map", 2, 128, 0, &[]),
        shape("keyed", 2, 128, 10, &[("count", "value")]),
    ]);
    let new = side(vec![shape("keyed", 2, 128, 12, &[("count", "value")])]);
    let r = compare(&old, &new, Options::default());
    assert_eq!(r.verdict, Verdict::Compatible);
    assert!(r.dropped.is_empty());
    assert!(r.findings.iter().any(|f| f.code == "operator_removed"));
}

#[test]
fn coordinator_state_alone_needs_allow_non_restored_state() {
    let mut src = shape("src", 1, 128, 16, &[]);
    src.has_subtask_state = false;
    src.coordinator_bytes = Some(16);
    let old = side(vec![src]);
    let new = side(vec![]);
    let r = compare(&old, &new, Options::default());
    assert_eq!(r.verdict, Verdict::NeedsAllowNonRestoredState);
    let r = compare(
        &old,
        &new,
        Options {
            allow_non_restored_state: true,
        },
    );
    assert_eq!(r.verdict, Verdict::Compatible);
    assert!(r.has_warnings());
}

#[test]
fn job_spec_inherits_and_validates() {
    let old = side(vec![shape("keyed", 3, 64, 10, &[("count", "value")])]);
    let spec: JobSpec =
        serde_saphyr::from_str("operators:\n  - uid: keyed\n    states: [count]\n").unwrap();
    let new = Side::from_spec(&spec, "job.yaml", &old).unwrap();
    assert_eq!(new.operators[0].parallelism, 3);
    assert_eq!(
        new.operators[0].max_parallelism,
        MaxParallelism::Recorded(64)
    );
    assert_eq!(
        new.operators[0].states.as_ref().unwrap()[0].kind.as_str(),
        "value"
    );
    let r = compare(&old, &new, Options::default());
    assert_eq!(r.verdict, Verdict::Compatible);
    assert!(!r.has_warnings());

    let spec: JobSpec = serde_saphyr::from_str(
        "max_parallelism: auto\nparallelism: 100\noperators:\n  - uid: keyed\n",
    )
    .unwrap();
    let new = Side::from_spec(&spec, "job.yaml", &old).unwrap();
    let r = compare(&old, &new, Options::default());
    assert_eq!(r.verdict, Verdict::Incompatible, "{:?}", r.findings);
    assert!(r.findings.iter().any(|f| f.code == "parallelism_above_max"));

    let spec: JobSpec = serde_saphyr::from_str("max_parallelism: 0\noperators: []\n").unwrap();
    assert!(Side::from_spec(&spec, "job.yaml", &old).is_err());
}

#[test]
fn key_group_ranges_match_flink() {
    // KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(128, 2, i)
    assert_eq!(key_group_ranges(128, 2), vec![[0, 63], [64, 127]]);
    // (128, 3): 0-42, 43-85, 86-127
    assert_eq!(key_group_ranges(128, 3), vec![[0, 42], [43, 85], [86, 127]]);
    assert_eq!(key_group_ranges(96, 1), vec![[0, 95]]);
    assert!(key_group_ranges(2, 3).is_empty());
    assert!(key_group_ranges(0, 1).is_empty());
}
