//! One side of a comparison from a snapshot: per operator its shape
//! (parallelism, max parallelism, state bytes, keyed format, states).

use std::collections::HashMap;

use super::{Backend, KeyedFormat, MaxParallelism, OpShape, Side};
use crate::analysis::size;
use crate::analysis::states::OperatorStates;
use crate::analysis::summary::{self, SnapshotKind};
use crate::metadata::{
    CheckpointMetadata, KeyGroupsKind, KeyedHandle, OperatorId, OperatorState, SubtaskState,
};

fn has_state(s: &SubtaskState) -> bool {
    s.managed_operator.is_some()
        || s.raw_operator.is_some()
        || s.managed_keyed.is_some()
        || s.raw_keyed.is_some()
        || !s.input_channels.is_empty()
        || !s.result_subpartitions.is_empty()
}

fn keyed_format(h: &KeyedHandle) -> KeyedFormat {
    match h {
        KeyedHandle::KeyGroups(_) => KeyedFormat::KeyGroups,
        KeyedHandle::Incremental(_) => KeyedFormat::Native,
        KeyedHandle::Changelog(_)
        | KeyedHandle::ChangelogInMemory(_)
        | KeyedHandle::ChangelogFile(_) => KeyedFormat::Changelog,
    }
}

/// The keyed format of a whole snapshot (the most restrictive one seen).
fn snapshot_format(m: &CheckpointMetadata) -> KeyedFormat {
    let mut f = KeyedFormat::None;
    for s in m.operators.iter().flat_map(summary::subtask_states) {
        for h in s.managed_keyed.iter().chain(&s.raw_keyed) {
            f = match (f, keyed_format(h)) {
                (KeyedFormat::Changelog, _) | (_, KeyedFormat::Changelog) => KeyedFormat::Changelog,
                (KeyedFormat::Native, _) | (_, KeyedFormat::Native) => KeyedFormat::Native,
                _ => KeyedFormat::KeyGroups,
            };
        }
    }
    f
}

/// The backend that wrote a snapshot, when its handles tell: native files
/// mean RocksDB (or ForSt, indistinguishable); key-groups handles of a
/// checkpoint or native savepoint mean hashmap. Canonical savepoints do not tell.
fn snapshot_backend(m: &CheckpointMetadata, kind: SnapshotKind) -> Option<Backend> {
    let mut heap = false;
    for s in m.operators.iter().flat_map(summary::subtask_states) {
        match &s.managed_keyed {
            Some(KeyedHandle::Incremental(_)) => return Some(Backend::Rocksdb),
            Some(KeyedHandle::KeyGroups(k)) if k.kind != KeyGroupsKind::Savepoint => heap = true,
            _ => {}
        }
    }
    let native_kind = matches!(
        kind,
        SnapshotKind::Checkpoint | SnapshotKind::SavepointNative
    );
    (heap && native_kind).then_some(Backend::Hashmap)
}

fn op_shape(
    op: &OperatorState,
    uids: &HashMap<OperatorId, String>,
    states: Option<&OperatorStates>,
) -> OpShape {
    let (uid, uid_source) = match op.uid.as_ref().filter(|u| !u.is_empty()) {
        Some(u) => (Some(u.to_string()), Some("metadata")),
        None => match uids.get(&op.id) {
            Some(u) => (Some(u.clone()), Some("uids")),
            None => (None, None),
        },
    };
    let mut has_subtask_state = false;
    let mut keyed = false;
    let mut channel_bytes = 0i64;
    let mut channel_handles = 0usize;
    for s in summary::subtask_states(op) {
        has_subtask_state |= has_state(s);
        keyed |= s.managed_keyed.is_some() || s.raw_keyed.is_some();
        for c in s.input_channels.iter().chain(&s.result_subpartitions) {
            channel_bytes = channel_bytes.saturating_add(size::channel(c));
            channel_handles += 1;
        }
    }
    OpShape {
        id: op.id,
        uid,
        uid_source,
        name: op
            .name
            .as_ref()
            .filter(|n| !n.is_empty())
            .map(|n| n.to_string()),
        parallelism: op.parallelism,
        max_parallelism: MaxParallelism::Recorded(op.max_parallelism),
        state_bytes: size::operator(op),
        has_subtask_state,
        coordinator_bytes: op.coordinator_state.as_ref().map(size::stream),
        keyed,
        channel_bytes,
        channel_handles,
        states: states.map(|s| s.states.clone()),
        state_notes: states.map(|s| s.notes.clone()).unwrap_or_default(),
        fully_finished: summary::finished(op) == summary::Finished::Fully,
    }
}

impl Side {
    /// A side from a parsed snapshot. `uids` names operators whose metadata
    /// carries no uid; `states` (one per operator, in order) when read.
    pub fn from_snapshot(
        m: &CheckpointMetadata,
        source: &str,
        uids: &HashMap<OperatorId, String>,
        states: Option<&[OperatorStates]>,
    ) -> Side {
        let kind = summary::snapshot_kind(m, source);
        Side {
            source: source.to_owned(),
            kind: Some(kind),
            checkpoint_id: Some(m.checkpoint_id),
            metadata_version: Some(m.version),
            keyed_format: Some(snapshot_format(m)),
            backend: snapshot_backend(m, kind),
            operators: m
                .operators
                .iter()
                .enumerate()
                .map(|(i, op)| op_shape(op, uids, states.and_then(|s| s.get(i))))
                .collect(),
        }
    }
}
