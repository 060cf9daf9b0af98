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
    let bytes = write(&m).unwrap();
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
    let parsed = parse(&write(&m).unwrap()).unwrap();
    assert!(parsed.dialect.channel_1_11);
    assert_eq!(parsed, m);
}

#[test]
fn current_layouts_win_when_both_parse() {
    let m = v3(vec![op(empty_subtask())], Dialect::default());
    assert_eq!(parse(&write(&m).unwrap()).unwrap(), m);
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
    let mut bytes = write(&m).unwrap();
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
    let mut bytes = write(&v3(vec![], Dialect::default())).unwrap();
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
    let e = parse(&write(&m).unwrap()).unwrap_err();
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
    let e = parse(&write(&v3(vec![op(s)], Dialect::default())).unwrap()).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::TooDeep(_)), "{e}");
}

// Writer errors. Hand-built unit cases: models no parser produces, to check
// that `write` refuses them with the field named instead of writing bytes that
// would not read back.

fn kind_of(m: &CheckpointMetadata) -> (String, WriteErrorKind) {
    let e = write(m).unwrap_err();
    (e.path, e.kind)
}

fn inconsistent_field(m: &CheckpointMetadata) -> (String, &'static str) {
    match kind_of(m) {
        (path, WriteErrorKind::Inconsistent { field, .. }) => (path, field),
        other => panic!("not an inconsistency: {other:?}"),
    }
}

#[test]
fn write_refuses_a_string_over_65535_bytes_and_names_it() {
    let mut s = empty_subtask();
    s.managed_keyed = Some(KeyedHandle::KeyGroups(KeyGroupsHandle {
        kind: KeyGroupsKind::V1,
        range: KeyGroupRange { start: 0, count: 0 },
        offsets: vec![],
        delegate: file(&"x".repeat(65_536), 1),
        handle_id: None,
    }));
    let m = v3(vec![op(empty_subtask()), op(s)], Dialect::default());
    let e = write(&m).unwrap_err();
    assert_eq!(
        e.kind,
        WriteErrorKind::StringTooLong {
            field: "filePath",
            len: 65_536
        }
    );
    assert_eq!(e.path, "operators[1].subtasks[0].managed_keyed.delegate");
    assert!(e.to_string().contains("filePath"), "{e}");
    // One byte less fits.
    let mut m = m;
    if let Subtasks::List { entries } = &mut m.operators[1].subtasks
        && let SubtaskEntry::State { state, .. } = &mut entries[0]
        && let Some(KeyedHandle::KeyGroups(k)) = &mut state.managed_keyed
    {
        k.delegate = file(&"x".repeat(65_535), 1);
    }
    assert_eq!(parse(&write(&m).unwrap()).unwrap(), m);
}

#[test]
fn write_refuses_what_the_version_does_not_have() {
    // V5 fields in V3.
    let mut m = v3(vec![op(empty_subtask())], Dialect::default());
    m.operators[0].name = Some("n".into());
    m.operators[0].uid = Some("u".into());
    assert_eq!(inconsistent_field(&m), ("operators[0]".into(), "name"));
    // V5 without them.
    let mut m = v3(vec![op(empty_subtask())], Dialect::default());
    m.version = 5;
    m.properties = Some(Properties {
        raw: vec![0x70],
        decoded: None,
    });
    assert_eq!(inconsistent_field(&m), ("operators[0]".into(), "name"));
    // V4 needs properties.
    let mut m = v3(vec![], Dialect::default());
    m.version = 4;
    assert_eq!(inconsistent_field(&m), (String::new(), "properties"));
    // Unknown version.
    let mut m = v3(vec![], Dialect::default());
    m.version = 9;
    assert_eq!(kind_of(&m).1, WriteErrorKind::UnsupportedVersion(9));
    // V2 without its chain length and legacy fields.
    let mut m = v3(vec![op(empty_subtask())], Dialect::default());
    m.version = 2;
    assert_eq!(
        inconsistent_field(&m),
        ("operators[0]".into(), "v2_chain_length")
    );
    // A finished subtask cannot be said in V2 (and its index must not be negative in V3).
    let mut m = v3(vec![op(empty_subtask())], Dialect::default());
    m.operators[0].subtasks = Subtasks::List {
        entries: vec![SubtaskEntry::Finished { index: -1 }],
    };
    assert_eq!(inconsistent_field(&m), ("operators[0]".into(), "subtasks"));
    // V6 channel handles carry a type tag; V3 ones do not.
    let mut s = empty_subtask();
    s.result_subpartitions = vec![ChannelHandle {
        type_tag: Some(2),
        body: ChannelBody::Single {
            subtask_index: Some(0),
            info: (0, 0),
            offsets: vec![],
            state_size: 0,
            delegate: None,
        },
    }];
    let m = v3(vec![op(s)], Dialect::default());
    assert_eq!(
        inconsistent_field(&m),
        (
            "operators[0].subtasks[0].result_subpartitions[0]".into(),
            "type_tag"
        )
    );
}

#[test]
fn write_refuses_what_the_dialect_or_tag_does_not_have() {
    // The 1.14 changelog layout exists only in V3.
    let mut m = v3(
        vec![],
        Dialect {
            changelog_1_14: true,
            channel_1_11: false,
        },
    );
    m.version = 4;
    m.properties = Some(Properties {
        raw: vec![0x70],
        decoded: None,
    });
    assert_eq!(inconsistent_field(&m), (String::new(), "dialect"));
    // Tag 5 has no checkpointed size.
    let mut s = empty_subtask();
    s.managed_keyed = Some(KeyedHandle::Incremental(Box::new(IncrementalHandle {
        v2: false,
        checkpoint_id: 1,
        backend_id: "b".into(),
        range: KeyGroupRange { start: 0, count: 1 },
        checkpointed_size: Some(3),
        meta: None,
        shared: vec![],
        private: vec![],
        handle_id: None,
    })));
    let m = v3(vec![op(s)], Dialect::default());
    assert_eq!(
        inconsistent_field(&m),
        (
            "operators[0].subtasks[0].managed_keyed".into(),
            "checkpointed_size"
        )
    );
    // A 1.15 in-memory changelog in the 1.14 dialect.
    let mut s = empty_subtask();
    s.raw_keyed = Some(KeyedHandle::ChangelogInMemory(ChangelogInMemoryHandle {
        range: KeyGroupRange { start: 0, count: 1 },
        from: 0,
        to: 1,
        changes: vec![],
        handle_id: Some("id".into()),
    }));
    let m = v3(
        vec![op(s)],
        Dialect {
            changelog_1_14: true,
            channel_1_11: false,
        },
    );
    assert_eq!(
        inconsistent_field(&m),
        ("operators[0].subtasks[0].raw_keyed".into(), "handle_id")
    );
    // Key-group count and offsets disagree (the file stores one count).
    let mut s = empty_subtask();
    s.managed_keyed = Some(KeyedHandle::KeyGroups(KeyGroupsHandle {
        kind: KeyGroupsKind::V1,
        range: KeyGroupRange { start: 0, count: 2 },
        offsets: vec![0],
        delegate: None,
        handle_id: None,
    }));
    let m = v3(vec![op(s)], Dialect::default());
    assert_eq!(
        inconsistent_field(&m),
        (
            "operators[0].subtasks[0].managed_keyed".into(),
            "range.count"
        )
    );
    // An operator handle present but flagged absent would be dropped.
    let mut s = empty_subtask();
    s.managed_operator = Some(OperatorHandle {
        states: vec![],
        file_merging: None,
        delegate: None,
    });
    let m = v3(vec![op(s)], Dialect::default());
    assert_eq!(
        inconsistent_field(&m),
        ("operators[0].subtasks[0]".into(), "managed_operator")
    );
}

#[test]
fn walk_and_walk_mut_reach_the_same_streams_and_paths() {
    let mut s = empty_subtask();
    s.managed_keyed = Some(KeyedHandle::Incremental(Box::new(IncrementalHandle {
        v2: false,
        checkpoint_id: 1,
        backend_id: "b".into(),
        range: KeyGroupRange { start: 0, count: 1 },
        checkpointed_size: None,
        meta: file("file:/a/meta", 1),
        shared: vec![NamedHandle {
            local_path: "1.sst".into(),
            handle: file("file:/a/shared", 2),
        }],
        private: vec![],
        handle_id: None,
    })));
    s.raw_operator_flag = 1;
    s.raw_operator = Some(OperatorHandle {
        states: vec![],
        file_merging: Some(FileMergingDirs {
            task_owned_dir: "file:/a/taskowned".into(),
            shared_dir: "file:/a/shared-dir".into(),
            is_empty: 0,
        }),
        delegate: Some(StreamHandle::Segment {
            start: 0,
            size: 4,
            scope: 1,
            physical_path: "file:/a/seg".into(),
            logical_id: "l".into(),
        }),
    });
    let mut m = v3(vec![op(s)], Dialect::default());
    let mut seen = Vec::new();
    walk::for_each_stream(&m, |ctx, h| seen.push((ctx.to_string(), format!("{h:?}"))));
    assert_eq!(
        seen.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(),
        [
            "operators[0].subtasks[0].raw_operator",
            "operators[0].subtasks[0].managed_keyed.meta",
            "operators[0].subtasks[0].managed_keyed.shared[0]",
        ]
    );
    let mut seen_mut = Vec::new();
    walk::for_each_stream_mut(&mut m, |ctx, h| {
        seen_mut.push((ctx.to_string(), format!("{h:?}")));
    });
    assert_eq!(seen, seen_mut);
    // A relocation written once on the mutable walk.
    walk::walk_mut(&mut m, |_, node| {
        let relocate = |p: &mut JavaString| *p = p.as_str().replace("file:/a/", "s3://b/").into();
        match node {
            walk::NodeMut::Stream(StreamHandle::File { path, .. }) => relocate(path),
            walk::NodeMut::Stream(StreamHandle::Segment { physical_path, .. }) => {
                relocate(physical_path)
            }
            walk::NodeMut::FileMergingDirs(d) => {
                relocate(&mut d.task_owned_dir);
                relocate(&mut d.shared_dir);
            }
            _ => {}
        }
    });
    let bytes = write(&m).unwrap();
    assert!(!bytes.windows(7).any(|w| w == b"file:/a"));
    assert_eq!(parse(&bytes).unwrap(), m);
}
