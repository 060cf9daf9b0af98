//! Parser unit tests on hand-built input.
//!
//! These bytes are NOT from Flink: they are built by this crate's own writer
//! (`write`, mirroring Flink's serializers) to reach layouts no real file in
//! our fixtures has (Flink 1.14 changelog and Flink 1.11 channel handles) and
//! malformed input. Real-file tests live in tests/.

use super::*;

fn op(handles: SubtaskState) -> OperatorState {
    OperatorState {
        name: None,
        uid: None,
        id: OperatorId([7; 16]),
        parallelism: 1,
        max_parallelism: 128,
        v2_chain_length: None,
        coordinator_state: None,
        subtasks: Subtasks::List {
            entries: vec![
                SubtaskEntry::State {
                    index: 0,
                    state: Box::new(handles),
                },
                SubtaskEntry::Finished { index: 1 },
            ],
        },
    }
}

fn empty_subtask() -> SubtaskState {
    SubtaskState {
        v2_legacy: None,
        managed_operator_flag: 0,
        managed_operator: None,
        raw_operator_flag: 0,
        raw_operator: None,
        managed_keyed: None,
        raw_keyed: None,
        input_channels: Vec::new(),
        result_subpartitions: Vec::new(),
    }
}

fn v3(operators: Vec<OperatorState>, dialect: Dialect) -> CheckpointMetadata {
    CheckpointMetadata {
        version: 3,
        checkpoint_id: 42,
        master_states: Vec::new(),
        operators,
        properties: None,
        trailing: Vec::new(),
        dialect,
    }
}

fn file(path: &str, size: i64) -> Option<StreamHandle> {
    Some(StreamHandle::File {
        size,
        path: path.into(),
    })
}

#[test]
fn flink_1_14_changelog_layout_is_detected_and_round_trips() {
    let mut s = empty_subtask();
    s.managed_keyed = Some(KeyedHandle::Changelog(Box::new(ChangelogHandle {
        v2: false,
        range: KeyGroupRange {
            start: 0,
            count: 128,
        },
        checkpointed_size: None,
        materialized: vec![],
        non_materialized: vec![
            Some(KeyedHandle::ChangelogFile(ChangelogFileHandle {
                v2: false,
                range: KeyGroupRange {
                    start: 0,
                    count: 128,
                },
                handles: vec![(0, file("file:/dstl/a", 10))],
                state_size: 10,
                checkpointed_size: None,
                handle_id: None,
                storage_id: None,
            })),
            Some(KeyedHandle::ChangelogInMemory(ChangelogInMemoryHandle {
                range: KeyGroupRange {
                    start: 0,
                    count: 128,
                },
                from: 1,
                to: 2,
                changes: vec![(-1, vec![1, 2, 3])],
                handle_id: None,
            })),
        ],
        materialization_id: None,
        checkpoint_id: None,
        handle_id: None,
    })));
    let m = v3(
        vec![op(s)],
        Dialect {
            changelog_1_14: true,
            channel_1_11: false,
        },
    );
    let bytes = write(&m);
    let parsed = parse(&bytes).unwrap();
    assert!(parsed.dialect.changelog_1_14);
    assert_eq!(parsed, m);
}

#[test]
fn flink_1_11_channel_layout_is_detected_and_round_trips() {
    let mut s = empty_subtask();
    s.input_channels = vec![ChannelHandle {
        type_tag: None,
        body: ChannelBody::Single {
            subtask_index: None,
            info: (0, 1),
            offsets: vec![0, 100],
            state_size: 200,
            delegate: file("file:/ck/job/chk-1/ch", 200),
        },
    }];
    let m = v3(
        vec![op(s)],
        Dialect {
            changelog_1_14: false,
            channel_1_11: true,
        },
    );
    let parsed = parse(&write(&m)).unwrap();
    assert!(parsed.dialect.channel_1_11);
    assert_eq!(parsed, m);
}

#[test]
fn current_layouts_win_when_both_parse() {
    let m = v3(vec![op(empty_subtask())], Dialect::default());
    assert_eq!(parse(&write(&m)).unwrap(), m);
}

#[test]
fn header_errors_name_the_version() {
    let e = parse(&[0x49, 0x60, 0x67, 0x2d, 0, 0, 0, 1]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::LegacyVersion(1));
    assert_eq!(e.offset, 4);
    assert!(e.to_string().contains("a Flink 1.2 savepoint"), "{e}");
    let e = parse(&[0x49, 0x60, 0x67, 0x2d, 0, 0, 0, 7]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnknownVersion(7));
    let e = parse(b"PK\x03\x04....").unwrap_err();
    assert!(matches!(e.kind, ErrorKind::BadMagic { found: 0x504b_0304 }));
    let e = parse(&[]).unwrap_err();
    assert!(matches!(
        e.kind,
        ErrorKind::UnexpectedEof { field: "magic", .. }
    ));
}

#[test]
fn unknown_tags_and_huge_counts_are_errors_with_offsets_and_paths() {
    let mut s = empty_subtask();
    s.managed_keyed = Some(KeyedHandle::KeyGroups(KeyGroupsHandle {
        kind: KeyGroupsKind::V1,
        range: KeyGroupRange { start: 0, count: 1 },
        offsets: vec![8],
        delegate: file("file:/x", 1),
        handle_id: None,
    }));
    let m = v3(vec![op(s)], Dialect::default());
    let mut bytes = write(&m);
    // The keyed tag (3) follows the two empty operator slots of subtask 0.
    let at = bytes
        .windows(9)
        .position(|w| w == [0, 0, 0, 0, 0, 0, 0, 0, 3])
        .unwrap()
        + 8;
    bytes[at] = 99;
    let e = parse(&bytes).unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::UnknownTag {
            namespace: "keyed",
            tag: 99
        }
    );
    assert_eq!(e.offset, at as u64);
    assert_eq!(e.path, "operators[0].subtasks[0].managed_keyed");

    // numOperatorStates = i32::MAX must fail before allocating.
    let mut bytes = write(&v3(vec![], Dialect::default()));
    let n = bytes.len() - 4;
    bytes[n..].copy_from_slice(&i32::MAX.to_be_bytes());
    let e = parse(&bytes).unwrap_err();
    assert!(
        matches!(
            e.kind,
            ErrorKind::BadLength {
                field: "numOperatorStates",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn negative_checkpoint_id_is_rejected_like_flink() {
    let mut m = v3(vec![], Dialect::default());
    m.checkpoint_id = -5;
    let e = parse(&write(&m)).unwrap_err();
    assert_eq!(e.offset, 8);
    assert!(e.to_string().contains("checkpointId"));
}

#[test]
fn deeply_nested_stream_handles_hit_the_depth_limit() {
    let mut h = file("file:/x", 1);
    for _ in 0..100 {
        h = Some(StreamHandle::KeyGroups(Box::new(KeyGroupsHandle {
            kind: KeyGroupsKind::V1,
            range: KeyGroupRange { start: 0, count: 0 },
            offsets: vec![],
            delegate: h,
            handle_id: None,
        })));
    }
    let mut s = empty_subtask();
    s.managed_keyed = Some(KeyedHandle::KeyGroups(KeyGroupsHandle {
        kind: KeyGroupsKind::V1,
        range: KeyGroupRange { start: 0, count: 0 },
        offsets: vec![],
        delegate: h,
        handle_id: None,
    }));
    let e = parse(&write(&v3(vec![op(s)], Dialect::default()))).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::TooDeep(_)), "{e}");
}
