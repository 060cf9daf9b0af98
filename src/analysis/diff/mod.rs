//! Comparing two snapshots, or a snapshot and a description of the job about
//! to start, and the restore verdict Flink would reach.
//!
//! The rules follow Flink's restore path: `Checkpoints.loadAndValidateCheckpoint`
//! matches operator states to the new job by OperatorID, refuses a max
//! parallelism change for any matched operator whose new max parallelism is
//! configured, and refuses state of an operator missing from the new job
//! (coordinator or subtask state) unless `--allowNonRestoredState` is given;
//! `StateAssignmentOperation` refuses a parallelism above the snapshot's max
//! parallelism; the keyed backend refuses a handle format it cannot read
//! (native RocksDB/ForSt files into the hashmap backend) and a state whose
//! kind changed. Everything else restores — including state the new code no
//! longer registers, which Flink restores and carries along without error:
//! that is reported as a warning, because it is how renamed state gets lost.
//!
//! Pure functions over parsed metadata and state lists; no I/O.

mod files;
mod rules;
mod side;
mod spec;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::size;
use super::states::{StateInfo, StateScope};
use super::summary::SnapshotKind;
use crate::metadata::OperatorId;
use crate::statemeta::StateKind;
pub use files::{FileEntry, FilesDiff, files};
pub use spec::{JobSpec, MaxParallelismSpec, OperatorSpec, SpecError};
/// The keyed-state format a snapshot holds, which decides the backends that can read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyedFormat {
    /// No keyed state.
    None,
    /// Key-groups streams (hashmap checkpoints, canonical savepoints, pre-1.16
    /// RocksDB full snapshots): any backend restores them.
    KeyGroups,
    /// RocksDB/ForSt native files (`IncrementalRemoteKeyedStateHandle`): only
    /// RocksDB or ForSt restore them.
    Native,
    /// Changelog backend handles.
    Changelog,
}

/// A state backend family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// `hashmap` (heap).
    Hashmap,
    /// `rocksdb`.
    Rocksdb,
    /// `forst` (Flink 2.x).
    Forst,
}

impl Backend {
    /// Flink's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Hashmap => "hashmap",
            Backend::Rocksdb => "rocksdb",
            Backend::Forst => "forst",
        }
    }
}

/// How sure we are of a max parallelism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxParallelism {
    /// Set explicitly in the new job (Flink refuses a mismatch).
    Configured(i32),
    /// Recorded in a snapshot: Flink cannot tell whether it was configured;
    /// treated like a configured value.
    Recorded(i32),
    /// Left unset in the new job: Flink adopts the snapshot's value.
    Auto,
}

impl MaxParallelism {
    fn value(self) -> Option<i32> {
        match self {
            MaxParallelism::Configured(n) | MaxParallelism::Recorded(n) => Some(n),
            MaxParallelism::Auto => None,
        }
    }
}

/// What one side knows about an operator.
#[derive(Debug, Clone, Serialize)]
pub struct OpShape {
    /// OperatorID.
    pub id: OperatorId,
    /// uid, when known.
    pub uid: Option<String>,
    /// Where the uid came from: `metadata`, `uids` (a uid list), `job-file`.
    pub uid_source: Option<&'static str>,
    /// Operator name (V5+ metadata or job file).
    pub name: Option<String>,
    /// Parallelism.
    pub parallelism: i32,
    /// Max parallelism.
    pub max_parallelism: MaxParallelism,
    /// Total state size (`OperatorState.getStateSize()`), 0 for a job file.
    pub state_bytes: i64,
    /// Whether any subtask has state (Flink's `OperatorSubtaskState.hasState()`).
    pub has_subtask_state: bool,
    /// Coordinator state size, if any.
    pub coordinator_bytes: Option<i64>,
    /// Whether any subtask has keyed state.
    pub keyed: bool,
    /// Bytes of unaligned-checkpoint channel state (in-flight data).
    pub channel_bytes: i64,
    /// Number of channel state handles.
    pub channel_handles: usize,
    /// States, when known.
    pub states: Option<Vec<StateInfo>>,
    /// Why states may be incomplete.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub state_notes: Vec<String>,
    /// All subtasks finished.
    pub fully_finished: bool,
}

impl OpShape {
    /// The best human handle: uid, else name, else the id.
    pub fn label(&self) -> String {
        match (&self.uid, &self.name) {
            (Some(u), _) => u.clone(),
            (None, Some(n)) => n.clone(),
            (None, None) => self.id.to_string(),
        }
    }

    /// Whether Flink would refuse to skip this operator without `--allowNonRestoredState`.
    pub fn has_state(&self) -> bool {
        self.coordinator_bytes.is_some() || self.has_subtask_state
    }
}

/// One side of a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// Where it came from (a `_metadata` location or the job file).
    pub source: String,
    /// Snapshot kind (`None` for a job description).
    pub kind: Option<SnapshotKind>,
    /// Checkpoint id.
    pub checkpoint_id: Option<i64>,
    /// Metadata format version.
    pub metadata_version: Option<u32>,
    /// Keyed-state format (snapshots only).
    pub keyed_format: Option<KeyedFormat>,
    /// State backend, when known (from native handles, a job file or `--backend`).
    pub backend: Option<Backend>,
    /// Operators in file (or job file) order.
    pub operators: Vec<OpShape>,
}

/// The restore verdict, ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Flink restores the old snapshot into the new job.
    Compatible,
    /// Flink refuses unless started with `--allowNonRestoredState`, which drops the listed state.
    NeedsAllowNonRestoredState,
    /// Flink refuses (or the job fails right after restoring).
    Incompatible,
}

impl Verdict {
    /// Human text.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Compatible => "compatible",
            Verdict::NeedsAllowNonRestoredState => "needs --allowNonRestoredState",
            Verdict::Incompatible => "incompatible",
        }
    }
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Restores, but state is lost or ignored.
    Warning,
    /// Needs `--allowNonRestoredState`.
    NeedsAllowNonRestoredState,
    /// Restore fails.
    Incompatible,
}

/// One reason or remark, explained in one line.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// Stable code, e.g. `operator_removed_with_state`.
    pub code: &'static str,
    /// The operator concerned (hex OperatorID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<OperatorId>,
    /// The explanation.
    pub message: String,
}

/// What happened to an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpStatus {
    /// Only in the old snapshot.
    Removed,
    /// Only in the new job.
    Added,
    /// In both, with a difference.
    Changed,
    /// In both, the same.
    Unchanged,
}

/// What happened to a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StateStatus {
    /// Only in the old snapshot.
    Removed,
    /// Only in the new job.
    Added,
    /// Same name, different kind.
    KindChanged,
    /// In both.
    Unchanged,
}

/// One state's comparison.
#[derive(Debug, Clone, Serialize)]
pub struct StateDiff {
    /// Name.
    pub name: String,
    /// Keyed, operator, broadcast, timers.
    pub scope: StateScope,
    /// Status.
    pub status: StateStatus,
    /// Kind before.
    pub old_kind: Option<StateKind>,
    /// Kind after.
    pub new_kind: Option<StateKind>,
}

/// One operator's comparison.
#[derive(Debug, Clone, Serialize)]
pub struct OpDiff {
    /// OperatorID.
    pub id: OperatorId,
    /// uid (either side).
    pub uid: Option<String>,
    /// Name (either side).
    pub name: Option<String>,
    /// Status.
    pub status: OpStatus,
    /// Before.
    pub old: Option<OpShape>,
    /// After.
    pub new: Option<OpShape>,
    /// State changes (empty when unknown on either side).
    pub states: Vec<StateDiff>,
    /// Key-group range per subtask before (keyed operators).
    pub key_groups_old: Vec<[i32; 2]>,
    /// Key-group range per subtask after (keyed operators).
    pub key_groups_new: Vec<[i32; 2]>,
    /// State size change in bytes (new − old; snapshots only).
    pub state_delta: Option<i64>,
}

impl OpDiff {
    /// Label for tables.
    pub fn label(&self) -> String {
        self.old
            .as_ref()
            .or(self.new.as_ref())
            .map_or_else(|| self.id.to_string(), |o| o.label())
    }
}

/// State that a restore with `--allowNonRestoredState` drops.
#[derive(Debug, Clone, Serialize)]
pub struct Dropped {
    /// OperatorID.
    pub operator: OperatorId,
    /// uid.
    pub uid: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// State names (when known).
    pub states: Vec<String>,
    /// Bytes (subtask and coordinator state).
    pub bytes: i64,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Verdict.
    pub verdict: Verdict,
    /// Reasons (severity above warning) and remarks, worst first.
    pub findings: Vec<Finding>,
    /// Operators: old order, then added ones.
    pub operators: Vec<OpDiff>,
    /// State dropped by `--allowNonRestoredState` (or already dropped when `-n` is assumed).
    pub dropped: Vec<Dropped>,
    /// Total state before.
    pub old_state_bytes: i64,
    /// Total state after (snapshots only).
    pub new_state_bytes: Option<i64>,
}

impl Report {
    /// Whether any finding is a warning.
    pub fn has_warnings(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::Warning)
    }
}

/// Options of a comparison.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The restore will use `--allowNonRestoredState`.
    pub allow_non_restored_state: bool,
}

/// Flink's `KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex` for every subtask.
pub fn key_group_ranges(max_parallelism: i32, parallelism: i32) -> Vec<[i32; 2]> {
    if max_parallelism < 1 || parallelism < 1 || parallelism > max_parallelism {
        return Vec::new();
    }
    let (m, p) = (i64::from(max_parallelism), i64::from(parallelism));
    (0..p)
        .map(|i| {
            let start = (i * m + p - 1) / p;
            let end = ((i + 1) * m - 1) / p;
            [start as i32, end as i32]
        })
        .collect()
}

/// The verdict of restoring `old` into the job `new` describes, with one
/// finding per rule that applies (the rules are in [`rules`], one function
/// each).
pub fn compare(old: &Side, new: &Side, opts: Options) -> Report {
    let mut f = Findings::default();
    let mut operators = Vec::new();
    let mut dropped = Vec::new();
    let new_by_id: BTreeMap<OperatorId, &OpShape> =
        new.operators.iter().map(|o| (o.id, o)).collect();
    let is_snapshot = new.kind.is_some();

    for o in &old.operators {
        let Some(n) = new_by_id.get(&o.id).copied() else {
            dropped.extend(rules::removed_operator(o, old, new, opts, &mut f));
            operators.push(OpDiff {
                id: o.id,
                uid: o.uid.clone(),
                name: o.name.clone(),
                status: OpStatus::Removed,
                old: Some(o.clone()),
                new: None,
                states: Vec::new(),
                key_groups_old: rules::keyed_ranges(o),
                key_groups_new: Vec::new(),
                state_delta: None,
            });
            continue;
        };
        let (effective_new_max, max_changed) = rules::max_parallelism(o, n, &mut f);
        let rescaled = rules::parallelism(o, n, effective_new_max, &mut f);
        rules::channel_state(o, n, &mut f);
        let coordinator_lost = rules::coordinator(o, n, is_snapshot, &mut f);
        let states = rules::compare_states(o, n);
        let states_changed = rules::states(o, &states, &mut f);
        let changed = max_changed || rescaled || coordinator_lost || states_changed;
        let keyed = o.keyed || n.keyed;
        operators.push(OpDiff {
            id: o.id,
            uid: o.uid.clone().or_else(|| n.uid.clone()),
            name: o.name.clone().or_else(|| n.name.clone()),
            status: if changed {
                OpStatus::Changed
            } else {
                OpStatus::Unchanged
            },
            old: Some(o.clone()),
            new: Some(n.clone()),
            states,
            key_groups_old: if keyed {
                rules::keyed_ranges(o)
            } else {
                Vec::new()
            },
            key_groups_new: if keyed {
                key_group_ranges(effective_new_max, n.parallelism)
            } else {
                Vec::new()
            },
            state_delta: is_snapshot.then(|| n.state_bytes.saturating_sub(o.state_bytes)),
        });
    }
    let old_ids: BTreeMap<OperatorId, &OpShape> = old.operators.iter().map(|o| (o.id, o)).collect();
    for n in new
        .operators
        .iter()
        .filter(|n| !old_ids.contains_key(&n.id))
    {
        rules::added_operator(n, &mut f);
        operators.push(OpDiff {
            id: n.id,
            uid: n.uid.clone(),
            name: n.name.clone(),
            status: OpStatus::Added,
            old: None,
            new: Some(n.clone()),
            states: Vec::new(),
            key_groups_old: Vec::new(),
            key_groups_new: rules::keyed_ranges(n),
            state_delta: None,
        });
    }
    rules::backend(old, new, &mut f);
    rules::snapshot_kind(old, &mut f);

    let mut findings = f.0;
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let verdict = findings
        .iter()
        .map(|f| match f.severity {
            Severity::Incompatible => Verdict::Incompatible,
            Severity::NeedsAllowNonRestoredState => Verdict::NeedsAllowNonRestoredState,
            _ => Verdict::Compatible,
        })
        .max()
        .unwrap_or(Verdict::Compatible);
    Report {
        verdict,
        findings,
        operators,
        dropped,
        old_state_bytes: size::sum(old.operators.iter().map(|o| o.state_bytes)),
        new_state_bytes: is_snapshot
            .then(|| size::sum(new.operators.iter().map(|o| o.state_bytes))),
    }
}

/// Findings as the rules report them, in rule order.
#[derive(Debug, Default)]
pub(crate) struct Findings(Vec<Finding>);

impl Findings {
    fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        operator: Option<OperatorId>,
        message: String,
    ) {
        self.0.push(Finding {
            severity,
            code,
            operator,
            message,
        });
    }
}
