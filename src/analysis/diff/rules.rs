//! The restore rules, one function each, in the order [`super::compare`]
//! applies them. Each adds its findings and says whether the operator
//! changed.

use super::{
    Backend, Dropped, Findings, KeyedFormat, MaxParallelism, OpShape, Options, Severity, Side,
    StateDiff, StateStatus, key_group_ranges,
};
use crate::analysis::size::human as bytes;
use crate::analysis::states::StateScope;
use crate::analysis::summary::SnapshotKind;
use crate::statemeta::StateKind;
fn state_names(o: &OpShape) -> Vec<String> {
    o.states
        .as_ref()
        .map(|s| s.iter().map(|x| x.name.clone()).collect())
        .unwrap_or_default()
}

fn describe_states(o: &OpShape) -> String {
    match &o.states {
        Some(s) if !s.is_empty() => {
            let mut parts: Vec<String> = s
                .iter()
                .map(|x| format!("{} {}", x.scope, x.name))
                .collect();
            if let Some(c) = o.coordinator_bytes {
                parts.push(format!("coordinator {}", bytes(c)));
            }
            parts.join(", ")
        }
        _ => {
            let mut parts = Vec::new();
            if o.keyed {
                parts.push("keyed state".to_owned());
            }
            if o.coordinator_bytes.is_some() {
                parts.push("coordinator state".to_owned());
            }
            if o.channel_handles > 0 {
                parts.push("in-flight data".to_owned());
            }
            if parts.is_empty() {
                parts.push("operator state".to_owned());
            }
            parts.join(", ")
        }
    }
}

pub(super) fn compare_states(old: &OpShape, new: &OpShape) -> Vec<StateDiff> {
    let (Some(a), Some(b)) = (&old.states, &new.states) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in a {
        match b.iter().find(|x| x.name == s.name) {
            None => out.push(StateDiff {
                name: s.name.clone(),
                scope: s.scope,
                status: StateStatus::Removed,
                old_kind: Some(s.kind),
                new_kind: None,
            }),
            Some(t) => {
                let changed = t.kind != StateKind::Unknown && t.kind != s.kind;
                out.push(StateDiff {
                    name: s.name.clone(),
                    scope: s.scope,
                    status: if changed {
                        StateStatus::KindChanged
                    } else {
                        StateStatus::Unchanged
                    },
                    old_kind: Some(s.kind),
                    new_kind: Some(t.kind),
                })
            }
        }
    }
    for t in b {
        if !a.iter().any(|x| x.name == t.name) {
            out.push(StateDiff {
                name: t.name.clone(),
                scope: t.scope,
                status: StateStatus::Added,
                old_kind: None,
                new_kind: Some(t.kind),
            });
        }
    }
    out
}

pub(super) fn keyed_ranges(o: &OpShape) -> Vec<[i32; 2]> {
    if !o.keyed {
        return Vec::new();
    }
    key_group_ranges(o.max_parallelism.value().unwrap_or(0), o.parallelism)
}

/// A removed operator and an added one with the same name: the uid changed.
fn renamed_hint(o: &OpShape, old: &Side, new: &Side) -> String {
    let Some(name) = &o.name else {
        return String::new();
    };
    let candidates: Vec<&OpShape> = new
        .operators
        .iter()
        .filter(|n| n.name.as_ref() == Some(name))
        .filter(|n| !old.operators.iter().any(|x| x.id == n.id))
        .collect();
    match candidates.as_slice() {
        [n] => format!(
            "; the new job has an operator named {name:?} with {} — a changed uid? give it .uid({:?}) (or .setUidHash(\"{}\")) to keep the state",
            n.uid
                .as_ref()
                .map_or_else(|| format!("id {}", n.id), |u| format!("uid {u:?}")),
            o.uid.as_deref().unwrap_or(name),
            o.id
        ),
        _ => String::new(),
    }
}

/// The old keyed format against the new job's backend.
pub(super) fn backend(old: &Side, new: &Side, f: &mut Findings) {
    let Some(format) = old.keyed_format else {
        return;
    };
    match (format, new.backend) {
        (KeyedFormat::Native, Some(Backend::Hashmap)) => f.push(
            Severity::Incompatible,
            "backend_switch",
            None,
            format!(
                "the old {} holds RocksDB/ForSt native files and the new job uses the hashmap backend, which cannot read them; take a canonical savepoint to switch backends",
                old.kind.map_or("snapshot", SnapshotKind::label)
            ),
        ),
        (KeyedFormat::Native, None) if new.kind == Some(SnapshotKind::SavepointCanonical) => f.push(
            Severity::Info,
            "backend_unknown",
            None,
            "the old snapshot holds RocksDB/ForSt native files: the new job must use RocksDB or ForSt (the new snapshot is canonical and does not tell its backend)"
                .into(),
        ),
        (KeyedFormat::Changelog, _) => f.push(
            Severity::Info,
            "changelog",
            None,
            "the old snapshot was written by the changelog backend: restoring needs Flink 1.16+ to switch changelog off".into(),
        ),
        _ => {}
    }
}

/// What the old snapshot's kind allows (rescaling, switching backends).
pub(super) fn snapshot_kind(old: &Side, f: &mut Findings) {
    let msg = match old.kind {
        Some(SnapshotKind::Checkpoint) => match old.keyed_format {
            Some(KeyedFormat::Native) => {
                "old snapshot is a checkpoint in the backend's native format: rescaling works, switching backends does not; its incremental files are shared with other checkpoints of the old job (restore with CLAIM hands them to the new job, which deletes them later)"
            }
            _ => {
                "old snapshot is a checkpoint: rescaling works, switching state backends is not guaranteed"
            }
        },
        Some(SnapshotKind::SavepointNative) => {
            "old snapshot is a native savepoint: rescaling works, switching state backends does not"
        }
        Some(SnapshotKind::SavepointCanonical) | Some(SnapshotKind::Savepoint) => {
            "old snapshot is a canonical savepoint: rescaling and switching state backends both work"
        }
        _ => return,
    };
    f.push(Severity::Info, "snapshot_kind", None, msg.into());
}

/// An operator of the old snapshot missing from the new job: info without
/// state; with state, Flink refuses unless `--allowNonRestoredState`, which
/// drops it (returned).
pub(super) fn removed_operator(
    o: &OpShape,
    old: &Side,
    new: &Side,
    opts: Options,
    f: &mut Findings,
) -> Option<Dropped> {
    if !o.has_state() {
        f.push(
            Severity::Info,
            "operator_removed",
            Some(o.id),
            format!(
                "{} ({}): not in the new job; it has no state, Flink skips it",
                o.label(),
                o.id
            ),
        );
        return None;
    }
    let what = describe_states(o);
    let total = o.state_bytes;
    let renamed = renamed_hint(o, old, new);
    if opts.allow_non_restored_state {
        f.push(
            Severity::Warning,
            "operator_state_dropped",
            Some(o.id),
            format!(
                "{} ({}): not in the new job; --allowNonRestoredState drops its {} of state ({what}){renamed}",
                o.label(),
                o.id,
                bytes(total)
            ),
        );
    } else {
        f.push(
            Severity::NeedsAllowNonRestoredState,
            "operator_removed_with_state",
            Some(o.id),
            format!(
                "{} ({}): not in the new job but has {} of state ({what}); Flink refuses without --allowNonRestoredState, which drops it{renamed}",
                o.label(),
                o.id,
                bytes(total)
            ),
        );
    }
    Some(Dropped {
        operator: o.id,
        uid: o.uid.clone(),
        name: o.name.clone(),
        states: state_names(o),
        bytes: total,
    })
}

/// Max parallelism: Flink refuses any mismatch for a matched operator
/// unless the new job leaves max parallelism unset. The new job's
/// effective max parallelism, and whether it changed.
pub(super) fn max_parallelism(o: &OpShape, n: &OpShape, f: &mut Findings) -> (i32, bool) {
    let old_max = o.max_parallelism.value().unwrap_or(0);
    let effective_new_max = match n.max_parallelism {
        MaxParallelism::Auto => old_max,
        m => m.value().unwrap_or(old_max),
    };
    if effective_new_max == old_max {
        return (effective_new_max, false);
    }
    let how = match n.max_parallelism {
        MaxParallelism::Configured(_) => "the new job sets it".to_owned(),
        _ => "as recorded in the new snapshot; if the new job does not set max parallelism, Flink keeps the old value and restores".to_owned(),
    };
    f.push(
        Severity::Incompatible,
        "max_parallelism_changed",
        Some(o.id),
        format!(
            "{} ({}): max parallelism {old_max} → {effective_new_max} ({how}); Flink refuses the restore (\"Max parallelism mismatch\"); keep {old_max} to restore this state",
            o.label(),
            o.id
        ),
    );
    (effective_new_max, true)
}

/// Parallelism: above the max parallelism Flink refuses; otherwise state is
/// redistributed, as each kind is. Whether it changed.
pub(super) fn parallelism(
    o: &OpShape,
    n: &OpShape,
    effective_new_max: i32,
    f: &mut Findings,
) -> bool {
    if n.parallelism == o.parallelism {
        return false;
    }
    if n.parallelism > effective_new_max && effective_new_max > 0 {
        f.push(
            Severity::Incompatible,
            "parallelism_above_max",
            Some(o.id),
            format!(
                "{} ({}): parallelism {} exceeds max parallelism {effective_new_max}; Flink refuses the restore",
                o.label(),
                o.id,
                n.parallelism
            ),
        );
    } else if o.has_state() {
        let mut what = Vec::new();
        if o.keyed {
            what.push("keyed state is split by key-group ranges");
        }
        if o.states.as_ref().is_some_and(|s| {
            s.iter()
                .any(|x| x.scope == StateScope::Operator && x.kind != StateKind::OperatorUnion)
        }) {
            what.push("list state is redistributed round-robin");
        }
        if o.states
            .as_ref()
            .is_some_and(|s| s.iter().any(|x| x.kind == StateKind::OperatorUnion))
        {
            what.push("union state goes to every subtask");
        }
        if o.states
            .as_ref()
            .is_some_and(|s| s.iter().any(|x| x.scope == StateScope::Broadcast))
        {
            what.push("broadcast state is copied");
        }
        if what.is_empty() {
            what.push("state is redistributed");
        }
        f.push(
            Severity::Info,
            "rescaled",
            Some(o.id),
            format!(
                "{}: parallelism {} → {}; {}",
                o.label(),
                o.parallelism,
                n.parallelism,
                what.join(", ")
            ),
        );
    }
    true
}

/// In-flight data of an unaligned checkpoint is redistributed on rescaling.
pub(super) fn channel_state(o: &OpShape, n: &OpShape, f: &mut Findings) {
    if o.channel_handles > 0 && n.parallelism != o.parallelism {
        f.push(
            Severity::Info,
            "channel_state_rescaled",
            Some(o.id),
            format!(
                "{}: {} of in-flight data (unaligned checkpoint, {} channel handles) is redistributed on rescaling; changing how this operator is connected is not supported",
                o.label(),
                bytes(o.channel_bytes),
                o.channel_handles
            ),
        );
    }
}

/// Coordinator state in the old snapshot and none in the new one: ignored.
/// Whether that happened.
pub(super) fn coordinator(o: &OpShape, n: &OpShape, is_snapshot: bool, f: &mut Findings) -> bool {
    let Some(c) = o.coordinator_bytes else {
        return false;
    };
    if !is_snapshot || n.coordinator_bytes.is_some() {
        return false;
    }
    f.push(
        Severity::Warning,
        "coordinator_state_lost",
        Some(o.id),
        format!(
            "{}: coordinator state ({}) in the old snapshot, none in the new one: the new operator has no coordinator (e.g. a source rewritten), the state is ignored",
            o.label(),
            bytes(c)
        ),
    );
    true
}

/// Named states: one not registered any more is restored but never read
/// (how renamed state gets lost), a changed kind fails, a new one starts
/// empty. Whether any changed.
pub(super) fn states(o: &OpShape, states: &[StateDiff], f: &mut Findings) -> bool {
    let mut changed = false;
    for s in states {
        match s.status {
            StateStatus::Removed => {
                changed = true;
                let added: Vec<&str> = states
                    .iter()
                    .filter(|t| t.status == StateStatus::Added && t.scope == s.scope)
                    .map(|t| t.name.as_str())
                    .collect();
                let hint = if added.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; renamed to {}? the new state starts empty",
                        added.join(", ")
                    )
                };
                f.push(
                    Severity::Warning,
                    "state_not_registered",
                    Some(o.id),
                    format!(
                        "{}: {} state {:?} ({}) is not registered by the new job: Flink restores it without error but the new code never reads it{hint}",
                        o.label(),
                        s.scope,
                        s.name,
                        s.old_kind.map_or("?", StateKind::as_str)
                    ),
                );
            }
            StateStatus::KindChanged => {
                changed = true;
                f.push(
                    Severity::Incompatible,
                    "state_kind_changed",
                    Some(o.id),
                    format!(
                        "{}: state {:?} changes kind {} → {}; the job fails when it registers the state after restoring",
                        o.label(),
                        s.name,
                        s.old_kind.map_or("?", StateKind::as_str),
                        s.new_kind.map_or("?", StateKind::as_str)
                    ),
                );
            }
            StateStatus::Added => {
                changed = true;
                f.push(
                    Severity::Info,
                    "state_added",
                    Some(o.id),
                    format!(
                        "{}: {} state {:?} is new and starts empty",
                        o.label(),
                        s.scope,
                        s.name
                    ),
                );
            }
            StateStatus::Unchanged => {}
        }
    }
    changed
}

/// An operator only the new job has starts without state.
pub(super) fn added_operator(n: &OpShape, f: &mut Findings) {
    f.push(
        Severity::Info,
        "operator_added",
        Some(n.id),
        format!(
            "{} ({}): new operator, starts without state",
            n.label(),
            n.id
        ),
    );
}
