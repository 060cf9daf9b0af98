//! Every place a snapshot's state lives: files (absolute, relative to the
//! `_metadata` directory, or segments of file-merging physical files) and
//! inline byte streams stored in `_metadata` itself.
//!
//! [`visit`] walks the handles in file order (on [`crate::metadata::walk`],
//! the one traversal of the handle tree) and calls back once per reference,
//! so callers can stream over snapshots with millions of handles without
//! building a list.

use serde::Serialize;

use crate::metadata::walk::{self, Node, Slot};
use crate::metadata::{CheckpointMetadata, JavaString, KeyedHandle, StreamHandle};

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
    /// The role of a walk slot.
    pub fn of(slot: Slot) -> Role {
        match slot {
            Slot::Coordinator => Role::Coordinator,
            Slot::Legacy => Role::Legacy,
            Slot::ManagedOperator => Role::ManagedOperator,
            Slot::RawOperator => Role::RawOperator,
            Slot::ManagedKeyed => Role::ManagedKeyed,
            Slot::RawKeyed => Role::RawKeyed,
            Slot::InputChannel => Role::InputChannel,
            Slot::ResultSubpartition => Role::ResultSubpartition,
        }
    }

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
    walk::walk(m, |ctx, node| {
        let Some(slot) = ctx.slot else { return };
        let origin = |part| Origin {
            operator: ctx.operator,
            subtask: ctx.subtask,
            role: Role::of(slot),
            part,
            local_path: ctx.local_path.map(JavaString::as_str),
        };
        match node {
            Node::Stream(h) => {
                let part = match ctx.part {
                    walk::Part::Data => Part::Data,
                    walk::Part::Meta => Part::Meta,
                    walk::Part::Shared => Part::Shared,
                    walk::Part::Private => Part::Private,
                    walk::Part::Changelog => Part::Changelog,
                };
                if let Some(r) = stream(h, origin(part)) {
                    f(r);
                }
            }
            Node::Keyed(KeyedHandle::ChangelogInMemory(c)) => f(Ref::Inline {
                origin: origin(Part::ChangelogInline),
                name: "",
                size: c
                    .changes
                    .iter()
                    .map(|(_, b)| b.len() as u64)
                    .fold(0, u64::saturating_add),
            }),
            _ => {}
        }
    });
}

/// Collects [`visit`] into a vector.
pub fn collect(m: &CheckpointMetadata) -> Vec<Ref<'_>> {
    let mut v = Vec::new();
    visit(m, |r| v.push(r));
    v
}

/// The reference a leaf stream handle makes (key-groups wrappers and empty
/// segments make none; the walk reaches a wrapper's delegate itself).
fn stream<'m>(h: &'m StreamHandle, origin: Origin<'m>) -> Option<Ref<'m>> {
    Some(match h {
        StreamHandle::ByteStream { name, data } => Ref::Inline {
            origin,
            name: name.as_str(),
            size: data.len() as u64,
        },
        StreamHandle::File { size, path } => Ref::File {
            origin,
            kind: FileKind::Absolute,
            path: path.as_str(),
            size: *size,
            start: None,
        },
        StreamHandle::Relative {
            relative_path,
            size,
        } => Ref::File {
            origin,
            kind: FileKind::Relative,
            path: relative_path.as_str(),
            size: *size,
            start: None,
        },
        StreamHandle::Segment {
            start,
            size,
            physical_path,
            ..
        } => Ref::File {
            origin,
            kind: FileKind::Segment,
            path: physical_path.as_str(),
            size: *size,
            start: Some(*start),
        },
        StreamHandle::KeyGroups(_) | StreamHandle::EmptySegment => return None,
    })
}
