//! Per-operator summaries: handle kinds, subtask counts, finished markers.

use std::collections::BTreeSet;

use crate::metadata::walk::{self, Node, Slot};
use crate::metadata::{
    ChannelBody, CheckpointMetadata, KeyGroupsKind, KeyedHandle, OperatorState, SnapshotType,
    SubtaskEntry, Subtasks,
};

/// What kind of snapshot a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotKind {
    /// A checkpoint.
    Checkpoint,
    /// A savepoint in the canonical (backend-independent) format.
    SavepointCanonical,
    /// A savepoint in the backend's native format.
    SavepointNative,
    /// A savepoint written before Flink 1.15 had two formats (V2/V3: inferred from the path).
    Savepoint,
    /// V4+ file whose properties are `null` (State Processor API) or unknown.
    Unknown,
}

impl SnapshotKind {
    /// Human name.
    pub fn label(self) -> &'static str {
        match self {
            SnapshotKind::Checkpoint => "checkpoint",
            SnapshotKind::SavepointCanonical => "savepoint (canonical)",
            SnapshotKind::SavepointNative => "savepoint (native)",
            SnapshotKind::Savepoint => "savepoint",
            SnapshotKind::Unknown => "unknown",
        }
    }
}

/// The snapshot kind: from the V4+ properties, else from the location name
/// (`savepoint-…` vs `chk-N`) and handle kinds (tag 7 = canonical savepoint).
pub fn snapshot_kind(m: &CheckpointMetadata, location: &str) -> SnapshotKind {
    if let Some(p) = &m.properties {
        return match p.decoded.as_ref().map(|d| &d.snapshot_type) {
            Some(SnapshotType::Checkpoint { .. }) => SnapshotKind::Checkpoint,
            Some(SnapshotType::Savepoint { format, .. }) if format == "NATIVE" => {
                SnapshotKind::SavepointNative
            }
            Some(SnapshotType::Savepoint { .. }) => SnapshotKind::SavepointCanonical,
            _ => SnapshotKind::Unknown,
        };
    }
    let components = || location.split(['/', '\\']).filter(|c| !c.is_empty());
    let in_savepoint_dir = components().any(|c| c.contains("savepoint"));
    let chk_dir = components().any(|c| crate::names::checkpoint_id(c).is_some())
        || location
            .split(['/', '\\'])
            .rfind(|c| !c.is_empty())
            .is_some_and(|c| c.ends_with("checkpoint") && !c.contains("savepoint"));
    let keyed = keyed_tags(m);
    if keyed.savepoint_key_groups {
        // Tag 7 is only written for canonical savepoints (Flink 1.13+).
        return SnapshotKind::SavepointCanonical;
    }
    if chk_dir && !in_savepoint_dir {
        return SnapshotKind::Checkpoint;
    }
    if !in_savepoint_dir {
        return SnapshotKind::Unknown;
    }
    match m.version {
        // Flink 1.15 native savepoints keep the backend's checkpoint handles.
        3 if keyed.native => SnapshotKind::SavepointNative,
        // Before 1.15 there was one savepoint format, the later "canonical".
        3 => SnapshotKind::SavepointCanonical,
        _ => SnapshotKind::Savepoint,
    }
}

struct KeyedTags {
    savepoint_key_groups: bool,
    native: bool,
}

fn keyed_tags(m: &CheckpointMetadata) -> KeyedTags {
    let mut t = KeyedTags {
        savepoint_key_groups: false,
        native: false,
    };
    walk::walk(m, |ctx, node| {
        // Only the managed keyed handle itself, not handles nested in a changelog.
        if ctx.slot != Some(Slot::ManagedKeyed) || ctx.changelog.is_some() {
            return;
        }
        match node {
            Node::Keyed(KeyedHandle::KeyGroups(k)) if k.kind == KeyGroupsKind::Savepoint => {
                t.savepoint_key_groups = true
            }
            Node::Keyed(KeyedHandle::KeyGroups(k)) if k.kind == KeyGroupsKind::V2 => {
                t.native = true
            }
            Node::Keyed(KeyedHandle::Incremental(i)) if i.v2 => t.native = true,
            _ => {}
        }
    });
    t
}

/// Iterates the subtask states of an operator (skipping finished markers).
pub fn subtask_states(op: &OperatorState) -> impl Iterator<Item = &crate::metadata::SubtaskState> {
    let entries: &[SubtaskEntry] = match &op.subtasks {
        Subtasks::List { entries } => entries,
        Subtasks::FullyFinished { .. } => &[],
    };
    entries.iter().filter_map(|e| match e {
        SubtaskEntry::State { state, .. } => Some(&**state),
        SubtaskEntry::Finished { .. } => None,
    })
}

/// Finished state of an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finished {
    /// No finished subtasks.
    No,
    /// Some subtasks finished.
    Partially,
    /// The operator is fully finished.
    Fully,
}

/// Finished state of `op`.
pub fn finished(op: &OperatorState) -> Finished {
    match &op.subtasks {
        Subtasks::FullyFinished { .. } => Finished::Fully,
        Subtasks::List { entries }
            if entries
                .iter()
                .any(|e| matches!(e, SubtaskEntry::Finished { .. })) =>
        {
            Finished::Partially
        }
        Subtasks::List { .. } => Finished::No,
    }
}

/// Names of the handle kinds used by an operator, e.g. `keyed:incremental`,
/// `operator:partitionable`, `channel`, `coordinator`.
pub fn handle_kinds(op: &OperatorState) -> BTreeSet<&'static str> {
    let mut kinds = BTreeSet::new();
    walk::walk(op, |ctx, node| {
        let kind = match node {
            Node::Stream(_) if ctx.slot == Some(Slot::Coordinator) => "coordinator",
            Node::Subtask(s)
                if s.v2_legacy
                    .as_ref()
                    .is_some_and(|l| !l.legacy_operator_state.is_empty()) =>
            {
                "legacy"
            }
            Node::Keyed(k) => keyed_kind(k),
            Node::OperatorHandle(h) if h.file_merging.is_some() => "operator:file-merging",
            Node::OperatorHandle(_) => "operator",
            Node::Channel(c) => match c.body {
                ChannelBody::Single { .. } => "channel",
                ChannelBody::Merged { .. } => "channel:merged",
            },
            _ => return,
        };
        kinds.insert(kind);
    });
    kinds
}

/// The kind name of one keyed handle (handles nested in a changelog handle
/// are nodes of their own).
fn keyed_kind(k: &KeyedHandle) -> &'static str {
    match k {
        KeyedHandle::KeyGroups(g) => match g.kind {
            KeyGroupsKind::Savepoint => "keyed:savepoint",
            _ => "keyed:key-groups",
        },
        KeyedHandle::Incremental(i) => {
            if i.shared.is_empty() {
                "keyed:native-full"
            } else {
                "keyed:incremental"
            }
        }
        KeyedHandle::Changelog(_) => "keyed:changelog",
        KeyedHandle::ChangelogInMemory(_) => "changelog:in-memory",
        KeyedHandle::ChangelogFile(_) => "changelog:dstl",
    }
}
