//! State sizes computed exactly as Flink's `getStateSize()` does, so the
//! numbers match what the Flink web UI and REST API report for a checkpoint.
//! Sums saturate instead of overflowing (Java would wrap) on hostile input.

use crate::metadata::{
    ChannelBody, ChannelHandle, KeyedHandle, OperatorHandle, OperatorState, StreamHandle,
    SubtaskEntry, SubtaskState, Subtasks,
};

/// A byte count as `12.3 KiB` (exact bytes below 1 KiB; `?` for negative/unknown).
pub fn human(n: i64) -> String {
    if n < 0 {
        return "?".into();
    }
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{n} B"),
        _ => format!("{v:.1} {}", UNITS.get(unit).copied().unwrap_or("?")),
    }
}

/// Saturating sum.
pub fn sum(it: impl IntoIterator<Item = i64>) -> i64 {
    it.into_iter().fold(0i64, i64::saturating_add)
}

/// `StreamStateHandle.getStateSize()`.
pub fn stream(h: &StreamHandle) -> i64 {
    match h {
        StreamHandle::ByteStream { data, .. } => data.len() as i64,
        StreamHandle::File { size, .. } | StreamHandle::Relative { size, .. } => *size,
        StreamHandle::KeyGroups(k) => opt_stream(k.delegate.as_ref()),
        StreamHandle::Segment { size, .. } => *size,
        StreamHandle::EmptySegment => 0,
    }
}

fn opt_stream(h: Option<&StreamHandle>) -> i64 {
    h.map_or(0, stream)
}

/// `KeyedStateHandle.getStateSize()`.
pub fn keyed(h: &KeyedHandle) -> i64 {
    match h {
        KeyedHandle::KeyGroups(k) => opt_stream(k.delegate.as_ref()),
        KeyedHandle::Incremental(i) => sum(std::iter::once(opt_stream(i.meta.as_ref())).chain(
            i.shared
                .iter()
                .chain(&i.private)
                .map(|n| opt_stream(n.handle.as_ref())),
        )),
        KeyedHandle::Changelog(c) => sum(c
            .materialized
            .iter()
            .chain(&c.non_materialized)
            .flatten()
            .map(keyed)),
        KeyedHandle::ChangelogInMemory(c) => sum(c.changes.iter().map(|(_, b)| b.len() as i64)),
        KeyedHandle::ChangelogFile(c) => c.state_size,
    }
}

/// `OperatorStateHandle.getStateSize()`.
pub fn operator_handle(h: &OperatorHandle) -> i64 {
    opt_stream(h.delegate.as_ref())
}

/// Channel handle `getStateSize()`.
pub fn channel(c: &ChannelHandle) -> i64 {
    match &c.body {
        ChannelBody::Single { state_size, .. } | ChannelBody::Merged { state_size, .. } => {
            *state_size
        }
    }
}

/// `OperatorSubtaskState.getStateSize()`.
pub fn subtask(s: &SubtaskState) -> i64 {
    sum(s
        .managed_operator
        .iter()
        .chain(&s.raw_operator)
        .map(operator_handle))
    .saturating_add(sum(s.managed_keyed.iter().chain(&s.raw_keyed).map(keyed)))
    .saturating_add(sum(s
        .input_channels
        .iter()
        .chain(&s.result_subpartitions)
        .map(channel)))
}

/// `OperatorState.getStateSize()`: coordinator state plus the subtasks with an
/// index below the parallelism (Flink iterates `0..parallelism`).
pub fn operator(op: &OperatorState) -> i64 {
    let coordinator = opt_stream(op.coordinator_state.as_ref());
    let Subtasks::List { entries } = &op.subtasks else {
        return coordinator;
    };
    coordinator.saturating_add(sum(entries.iter().filter_map(|e| match e {
        SubtaskEntry::State { index, state } if *index < op.parallelism => Some(subtask(state)),
        _ => None,
    })))
}
