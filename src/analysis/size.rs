//! State sizes computed exactly as Flink's `getStateSize()` does, so the
//! numbers match what the Flink web UI and REST API report for a checkpoint.
//!
//! One rule, applied over [`walk`]: every leaf stream handle counts its
//! recorded size, except the delegates of channel handles and the files of
//! changelog handles, which count the `stateSize` their handle records
//! instead; in-memory changelogs count their bytes; V2 legacy handles count
//! nothing. A handle's size is the sum over what it contains.
//!
//! Sums are exact and then clamped to `i64` instead of overflowing (Java
//! would wrap) on hostile input.

use crate::metadata::walk::{self, Ctx, Node, Part, Slot, Walk};
use crate::metadata::{
    ChannelBody, ChannelHandle, KeyedHandle, OperatorHandle, OperatorState, StreamHandle,
    SubtaskState,
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

/// The bytes `node` counts by itself (not what it contains), by the rule of
/// the module documentation.
fn own(ctx: &Ctx<'_>, node: Node<'_>) -> i64 {
    match node {
        Node::Stream(h) => {
            let counted = ctx.part != Part::Changelog
                && !matches!(
                    ctx.slot,
                    Some(Slot::InputChannel | Slot::ResultSubpartition | Slot::Legacy)
                );
            match h {
                StreamHandle::ByteStream { data, .. } if counted => data.len() as i64,
                StreamHandle::File { size, .. }
                | StreamHandle::Relative { size, .. }
                | StreamHandle::Segment { size, .. }
                    if counted =>
                {
                    *size
                }
                _ => 0,
            }
        }
        Node::Keyed(KeyedHandle::ChangelogInMemory(c)) => {
            sum(c.changes.iter().map(|(_, b)| b.len() as i64))
        }
        Node::Keyed(KeyedHandle::ChangelogFile(c)) => c.state_size,
        Node::Channel(c) => channel(c),
        _ => 0,
    }
}

/// Sums [`own`] over the nodes of `root` that `keep` accepts.
fn total<W: Walk + ?Sized>(root: &W, keep: impl Fn(&Ctx<'_>) -> bool) -> i64 {
    let mut acc: i128 = 0;
    walk::walk(root, |ctx, node| {
        if keep(ctx) {
            acc += i128::from(own(ctx, node));
        }
    });
    i64::try_from(acc).unwrap_or(if acc < 0 { i64::MIN } else { i64::MAX })
}

/// `StreamStateHandle.getStateSize()`.
pub fn stream(h: &StreamHandle) -> i64 {
    total(h, |_| true)
}

/// `KeyedStateHandle.getStateSize()`.
pub fn keyed(h: &KeyedHandle) -> i64 {
    total(h, |_| true)
}

/// `OperatorStateHandle.getStateSize()`.
pub fn operator_handle(h: &OperatorHandle) -> i64 {
    total(h, |_| true)
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
    total(s, |_| true)
}

/// `OperatorState.getStateSize()`: coordinator state plus the subtasks with an
/// index below the parallelism (Flink iterates `0..parallelism`).
pub fn operator(op: &OperatorState) -> i64 {
    total(op, |ctx| ctx.subtask.is_none_or(|i| i < op.parallelism))
}
