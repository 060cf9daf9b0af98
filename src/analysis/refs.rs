//! Every place a snapshot's state lives: files (absolute, relative to the
//! `_metadata` directory, or segments of file-merging physical files) and
//! inline byte streams stored in `_metadata` itself.
//!
//! [`visit`] walks the handles in file order and calls back once per
//! reference, so callers can stream over snapshots with millions of handles
//! without building a list.

use serde::Serialize;

use crate::metadata::{
    ChannelBody, ChannelHandle, CheckpointMetadata, KeyedHandle, OperatorHandle, StreamHandle,
    SubtaskEntry, Subtasks,
};

/// Which slot of a subtask (or operator) a reference belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Operator coordinator state.
    Coordinator,
    /// Managed keyed state.
    ManagedKeyed,
    /// Raw keyed state.
    RawKeyed,
    /// Managed operator state.
    ManagedOperator,
    /// Raw operator state.
    RawOperator,
    /// Unaligned checkpoint: input channel state.
    InputChannel,
    /// Unaligned checkpoint: result subpartition state.
    ResultSubpartition,
    /// Flink <= 1.1 legacy operator state (V2 files).
    Legacy,
}

impl Role {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coordinator => "coordinator",
            Role::ManagedKeyed => "managed_keyed",
            Role::RawKeyed => "raw_keyed",
            Role::ManagedOperator => "managed_operator",
            Role::RawOperator => "raw_operator",
            Role::InputChannel => "input_channel",
            Role::ResultSubpartition => "result_subpartition",
            Role::Legacy => "legacy",
        }
    }
}

/// What part of a handle a reference is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// The data stream of a key-groups, operator or channel handle.
    Data,
    /// RocksDB/ForSt: the file holding the serialization proxy.
    Meta,
    /// RocksDB/ForSt: a shared file (`.sst`).
    Shared,
    /// RocksDB/ForSt: a private file (MANIFEST, CURRENT, OPTIONS).
    Private,
    /// Changelog: a DSTL change-log file.
    Changelog,
    /// Changelog: in-memory changes.
    ChangelogInline,
}

/// How a file reference is stored in `_metadata`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// Tag 2: absolute path.
    Absolute,
    /// Tag 6: relative to the `_metadata` directory.
    Relative,
    /// Tag 15: a segment of a file-merging physical file.
    Segment,
}

/// Where in the snapshot a reference was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'m> {
    /// Index into `CheckpointMetadata::operators`.
    pub operator: usize,
    /// Subtask index (`None` for coordinator state).
    pub subtask: Option<i32>,
    /// Slot.
    pub role: Role,
    /// Part of the handle.
    pub part: Part,
    /// RocksDB local file name for shared/private files.
    pub local_path: Option<&'m str>,
}

/// One reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ref<'m> {
    /// A file on storage.
    File {
        /// Where it was found.
        origin: Origin<'m>,
        /// How it is stored.
        kind: FileKind,
        /// The path as written (relative for [`FileKind::Relative`]).
        path: &'m str,
        /// Size recorded in the handle (segment length for segments; -1 = unknown).
        size: i64,
        /// Segment start in the physical file.
        start: Option<i64>,
    },
    /// Bytes stored inline in `_metadata`.
    Inline {
        /// Where it was found.
        origin: Origin<'m>,
        /// The handle's informational name (not a file: never look it up).
        name: &'m str,
        /// Number of bytes.
        size: u64,
    },
}

/// Calls `f` for every reference in `m`, in file order.
pub fn visit<'m>(m: &'m CheckpointMetadata, mut f: impl FnMut(Ref<'m>)) {
    for (oi, op) in m.operators.iter().enumerate() {
        if let Some(h) = &op.coordinator_state {
            let o = Origin {
                operator: oi,
                subtask: None,
                role: Role::Coordinator,
                part: Part::Data,
                local_path: None,
            };
            stream(h, o, &mut f);
        }
        let Subtasks::List { entries } = &op.subtasks else {
            continue;
        };
        for e in entries {
            let SubtaskEntry::State { index, state } = e else {
                continue;
            };
            let o = |role| Origin {
                operator: oi,
                subtask: Some(*index),
                role,
                part: Part::Data,
                local_path: None,
            };
            if let Some(l) = &state.v2_legacy {
                for h in l.legacy_operator_state.iter().flatten() {
                    stream(h, o(Role::Legacy), &mut f);
                }
            }
            if let Some(h) = &state.managed_operator {
                operator(h, o(Role::ManagedOperator), &mut f);
            }
            if let Some(h) = &state.raw_operator {
                operator(h, o(Role::RawOperator), &mut f);
            }
            if let Some(h) = &state.managed_keyed {
                keyed(h, o(Role::ManagedKeyed), &mut f);
            }
            if let Some(h) = &state.raw_keyed {
                keyed(h, o(Role::RawKeyed), &mut f);
            }
            for c in &state.input_channels {
                channel(c, o(Role::InputChannel), &mut f);
            }
            for c in &state.result_subpartitions {
                channel(c, o(Role::ResultSubpartition), &mut f);
            }
        }
    }
}

/// Collects [`visit`] into a vector.
pub fn collect(m: &CheckpointMetadata) -> Vec<Ref<'_>> {
    let mut v = Vec::new();
    visit(m, |r| v.push(r));
    v
}

fn stream<'m>(h: &'m StreamHandle, o: Origin<'m>, f: &mut impl FnMut(Ref<'m>)) {
    match h {
        StreamHandle::ByteStream { name, data } => f(Ref::Inline {
            origin: o,
            name: name.as_str(),
            size: data.len() as u64,
        }),
        StreamHandle::File { size, path } => f(Ref::File {
            origin: o,
            kind: FileKind::Absolute,
            path: path.as_str(),
            size: *size,
            start: None,
        }),
        StreamHandle::KeyGroups(k) => {
            if let Some(d) = &k.delegate {
                stream(d, o, f);
            }
        }
        StreamHandle::Relative {
            relative_path,
            size,
        } => f(Ref::File {
            origin: o,
            kind: FileKind::Relative,
            path: relative_path.as_str(),
            size: *size,
            start: None,
        }),
        StreamHandle::Segment {
            start,
            size,
            physical_path,
            ..
        } => f(Ref::File {
            origin: o,
            kind: FileKind::Segment,
            path: physical_path.as_str(),
            size: *size,
            start: Some(*start),
        }),
        StreamHandle::EmptySegment => {}
    }
}

fn keyed<'m>(h: &'m KeyedHandle, o: Origin<'m>, f: &mut impl FnMut(Ref<'m>)) {
    match h {
        KeyedHandle::KeyGroups(k) => {
            if let Some(d) = &k.delegate {
                stream(d, o, f);
            }
        }
        KeyedHandle::Incremental(i) => {
            if let Some(m) = &i.meta {
                stream(
                    m,
                    Origin {
                        part: Part::Meta,
                        ..o
                    },
                    f,
                );
            }
            for (list, part) in [(&i.shared, Part::Shared), (&i.private, Part::Private)] {
                for n in list {
                    if let Some(h) = &n.handle {
                        stream(
                            h,
                            Origin {
                                part,
                                local_path: Some(n.local_path.as_str()),
                                ..o
                            },
                            f,
                        );
                    }
                }
            }
        }
        KeyedHandle::Changelog(c) => {
            for k in c.materialized.iter().chain(&c.non_materialized).flatten() {
                keyed(k, o, f);
            }
        }
        KeyedHandle::ChangelogInMemory(c) => {
            let size = c
                .changes
                .iter()
                .map(|(_, b)| b.len() as u64)
                .fold(0, u64::saturating_add);
            f(Ref::Inline {
                origin: Origin {
                    part: Part::ChangelogInline,
                    ..o
                },
                name: "",
                size,
            })
        }
        KeyedHandle::ChangelogFile(c) => {
            for (_, h) in &c.handles {
                if let Some(h) = h {
                    stream(
                        h,
                        Origin {
                            part: Part::Changelog,
                            ..o
                        },
                        f,
                    );
                }
            }
        }
    }
}

fn operator<'m>(h: &'m OperatorHandle, o: Origin<'m>, f: &mut impl FnMut(Ref<'m>)) {
    if let Some(d) = &h.delegate {
        stream(d, o, f);
    }
}

fn channel<'m>(c: &'m ChannelHandle, o: Origin<'m>, f: &mut impl FnMut(Ref<'m>)) {
    let d = match &c.body {
        ChannelBody::Single { delegate, .. } | ChannelBody::Merged { delegate, .. } => delegate,
    };
    if let Some(d) = d {
        stream(d, o, f);
    }
}
