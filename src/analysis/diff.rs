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

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::size::{self, human as bytes};
use super::states::{OperatorStates, StateInfo};
use super::summary::{self, SnapshotKind};
use crate::metadata::{
    CheckpointMetadata, KeyGroupsKind, KeyedHandle, OperatorId, OperatorState, SubtaskState,
};

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

// ---------------------------------------------------------------- job file

/// A description of the job about to start (`diff SNAPSHOT --job FILE`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// Default parallelism of operators that do not set one.
    #[serde(default)]
    pub parallelism: Option<i32>,
    /// Default max parallelism: a number, or `auto` (not set in the job).
    #[serde(default)]
    pub max_parallelism: Option<MaxParallelismSpec>,
    /// The new job's state backend.
    #[serde(default)]
    pub state_backend: Option<Backend>,
    /// The operators of the new job. Operators not listed are not in it.
    pub operators: Vec<OperatorSpec>,
}

/// A max parallelism in a job file: a number or `auto`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum MaxParallelismSpec {
    /// Explicitly configured.
    Number(i32),
    /// `auto`: not configured.
    Word(String),
}

/// One operator of the new job.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorSpec {
    /// Its uid (`.uid("…")`).
    #[serde(default)]
    pub uid: Option<String>,
    /// Or its OperatorID as 32 hex digits (`.setUidHash("…")`, or from `flink-chk uid`).
    #[serde(default)]
    pub uid_hash: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Parallelism (default: the job's).
    #[serde(default)]
    pub parallelism: Option<i32>,
    /// Max parallelism (default: the job's).
    #[serde(default)]
    pub max_parallelism: Option<MaxParallelismSpec>,
    /// Names of the states the new code registers (keyed and operator); when
    /// given, snapshot states missing here are reported.
    #[serde(default)]
    pub states: Option<Vec<String>>,
}

/// A job file that does not describe a job.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// An operator with neither uid nor uid_hash, or a bad hash.
    #[error("operators[{index}]: {message}")]
    Operator {
        /// Index in `operators`.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// A bad job-level value.
    #[error("{field}: {message}")]
    Field {
        /// Field name.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

fn max_spec(
    v: Option<&MaxParallelismSpec>,
    field: &'static str,
) -> Result<Option<MaxParallelism>, SpecError> {
    match v {
        None => Ok(None),
        Some(MaxParallelismSpec::Number(n)) if (1..=32768).contains(n) => {
            Ok(Some(MaxParallelism::Configured(*n)))
        }
        Some(MaxParallelismSpec::Number(n)) => Err(SpecError::Field {
            field,
            message: format!("{n} is outside 1..=32768"),
        }),
        Some(MaxParallelismSpec::Word(w)) if w == "auto" => Ok(Some(MaxParallelism::Auto)),
        Some(MaxParallelismSpec::Word(w)) => Err(SpecError::Field {
            field,
            message: format!("expected a number or `auto`, got {w:?}"),
        }),
    }
}

impl Side {
    /// A side from a job description. Operators inherit the job's parallelism
    /// and max parallelism, then the old snapshot's values for the same
    /// operator (an unchanged job does not have to repeat them).
    pub fn from_spec(spec: &JobSpec, source: &str, old: &Side) -> Result<Side, SpecError> {
        let job_max = max_spec(spec.max_parallelism.as_ref(), "max_parallelism")?;
        if let Some(p) = spec.parallelism
            && p < 1
        {
            return Err(SpecError::Field {
                field: "parallelism",
                message: format!("{p} is not positive"),
            });
        }
        let mut operators = Vec::with_capacity(spec.operators.len());
        for (index, o) in spec.operators.iter().enumerate() {
            let bad = |message: String| SpecError::Operator { index, message };
            let id = match (&o.uid, &o.uid_hash) {
                (_, Some(h)) => OperatorId::from_hex(h)
                    .ok_or_else(|| bad(format!("uid_hash {h:?} is not 32 hexadecimal digits")))?,
                (Some(u), None) => crate::uid::operator_id(u),
                (None, None) => return Err(bad("needs `uid` or `uid_hash`".into())),
            };
            let before = old.operators.iter().find(|x| x.id == id);
            let parallelism = o
                .parallelism
                .or(spec.parallelism)
                .or(before.map(|b| b.parallelism))
                .unwrap_or(1);
            if parallelism < 1 {
                return Err(bad(format!("parallelism {parallelism} is not positive")));
            }
            let max = max_spec(o.max_parallelism.as_ref(), "max_parallelism")
                .map_err(|e| bad(e.to_string()))?
                .or(job_max)
                .or(before.map(|b| b.max_parallelism))
                .unwrap_or(MaxParallelism::Auto);
            let states = o.states.as_ref().map(|names| {
                names
                    .iter()
                    .map(|n| {
                        // Keep the snapshot's kind for a name it knows: a job
                        // file lists names, not kinds.
                        let known = before
                            .and_then(|b| b.states.as_ref())
                            .and_then(|s| s.iter().find(|x| &x.name == n));
                        known.cloned().unwrap_or_else(|| StateInfo {
                            name: n.clone(),
                            scope: "unknown",
                            kind: "unknown".into(),
                            serializers: Vec::new(),
                            heuristic: false,
                        })
                    })
                    .collect()
            });
            operators.push(OpShape {
                id,
                uid: o.uid.clone(),
                uid_source: o.uid.as_ref().map(|_| "job-file"),
                name: o.name.clone(),
                parallelism,
                max_parallelism: max,
                state_bytes: 0,
                has_subtask_state: false,
                coordinator_bytes: None,
                keyed: before.is_some_and(|b| b.keyed),
                channel_bytes: 0,
                channel_handles: 0,
                states,
                state_notes: Vec::new(),
                fully_finished: false,
            });
        }
        Ok(Side {
            source: source.to_owned(),
            kind: None,
            checkpoint_id: None,
            metadata_version: None,
            keyed_format: None,
            backend: spec.state_backend,
            operators,
        })
    }
}

// ---------------------------------------------------------------- comparison

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
    /// `keyed`, `operator`, `broadcast`, `timers`.
    pub scope: &'static str,
    /// Status.
    pub status: StateStatus,
    /// Kind before.
    pub old_kind: Option<String>,
    /// Kind after.
    pub new_kind: Option<String>,
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

fn compare_states(old: &OpShape, new: &OpShape) -> Vec<StateDiff> {
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
                old_kind: Some(s.kind.clone()),
                new_kind: None,
            }),
            Some(t) => {
                let changed = t.kind != "unknown" && t.kind != s.kind;
                out.push(StateDiff {
                    name: s.name.clone(),
                    scope: s.scope,
                    status: if changed {
                        StateStatus::KindChanged
                    } else {
                        StateStatus::Unchanged
                    },
                    old_kind: Some(s.kind.clone()),
                    new_kind: Some(t.kind.clone()),
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
                new_kind: Some(t.kind.clone()),
            });
        }
    }
    out
}

/// Compares `old` (a snapshot) with `new` (a snapshot of, or a description
/// of, the job it will be restored into).
pub fn compare(old: &Side, new: &Side, opts: Options) -> Report {
    let mut findings = Vec::new();
    let mut operators = Vec::new();
    let mut dropped = Vec::new();
    let new_by_id: BTreeMap<OperatorId, &OpShape> =
        new.operators.iter().map(|o| (o.id, o)).collect();
    let old_ids: BTreeMap<OperatorId, &OpShape> = old.operators.iter().map(|o| (o.id, o)).collect();
    let is_snapshot = new.kind.is_some();
    let mut push = |severity, code, operator: Option<OperatorId>, message: String| {
        findings.push(Finding {
            severity,
            code,
            operator,
            message,
        })
    };

    for o in &old.operators {
        let Some(n) = new_by_id.get(&o.id).copied() else {
            let status = OpStatus::Removed;
            if o.has_state() {
                let states = state_names(o);
                let what = describe_states(o);
                let total = o.state_bytes;
                dropped.push(Dropped {
                    operator: o.id,
                    uid: o.uid.clone(),
                    name: o.name.clone(),
                    states,
                    bytes: total,
                });
                let renamed = renamed_hint(o, old, new);
                if opts.allow_non_restored_state {
                    push(
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
                    push(
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
            } else {
                push(
                    Severity::Info,
                    "operator_removed",
                    Some(o.id),
                    format!(
                        "{} ({}): not in the new job; it has no state, Flink skips it",
                        o.label(),
                        o.id
                    ),
                );
            }
            operators.push(OpDiff {
                id: o.id,
                uid: o.uid.clone(),
                name: o.name.clone(),
                status,
                old: Some(o.clone()),
                new: None,
                states: Vec::new(),
                key_groups_old: keyed_ranges(o),
                key_groups_new: Vec::new(),
                state_delta: None,
            });
            continue;
        };
        let mut changed = false;
        // Max parallelism: Flink refuses any mismatch for a matched operator
        // unless the new job leaves max parallelism unset.
        let old_max = o.max_parallelism.value().unwrap_or(0);
        let effective_new_max = match n.max_parallelism {
            MaxParallelism::Auto => old_max,
            m => m.value().unwrap_or(old_max),
        };
        if effective_new_max != old_max {
            changed = true;
            let how = match n.max_parallelism {
                MaxParallelism::Configured(_) => "the new job sets it".to_owned(),
                _ => "as recorded in the new snapshot; if the new job does not set max parallelism, Flink keeps the old value and restores".to_owned(),
            };
            push(
                Severity::Incompatible,
                "max_parallelism_changed",
                Some(o.id),
                format!(
                    "{} ({}): max parallelism {old_max} → {effective_new_max} ({how}); Flink refuses the restore (\"Max parallelism mismatch\"); keep {old_max} to restore this state",
                    o.label(),
                    o.id
                ),
            );
        }
        if n.parallelism != o.parallelism {
            changed = true;
            if n.parallelism > effective_new_max && effective_new_max > 0 {
                push(
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
                        .any(|x| x.scope == "operator" && x.kind != "union_list")
                }) {
                    what.push("list state is redistributed round-robin");
                }
                if o.states
                    .as_ref()
                    .is_some_and(|s| s.iter().any(|x| x.kind == "union_list"))
                {
                    what.push("union state goes to every subtask");
                }
                if o.states
                    .as_ref()
                    .is_some_and(|s| s.iter().any(|x| x.scope == "broadcast"))
                {
                    what.push("broadcast state is copied");
                }
                if what.is_empty() {
                    what.push("state is redistributed");
                }
                push(
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
        }
        if o.channel_handles > 0 && n.parallelism != o.parallelism {
            push(
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
        if let Some(c) = o.coordinator_bytes
            && is_snapshot
            && n.coordinator_bytes.is_none()
        {
            changed = true;
            push(
                Severity::Warning,
                "coordinator_state_lost",
                Some(o.id),
                format!(
                    "{}: coordinator state ({}) in the old snapshot, none in the new one: the new operator has no coordinator (e.g. a source rewritten), the state is ignored",
                    o.label(),
                    bytes(c)
                ),
            );
        }
        let states = compare_states(o, n);
        for s in &states {
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
                    push(
                        Severity::Warning,
                        "state_not_registered",
                        Some(o.id),
                        format!(
                            "{}: {} state {:?} ({}) is not registered by the new job: Flink restores it without error but the new code never reads it{hint}",
                            o.label(),
                            s.scope,
                            s.name,
                            s.old_kind.as_deref().unwrap_or("?")
                        ),
                    );
                }
                StateStatus::KindChanged => {
                    changed = true;
                    push(
                        Severity::Incompatible,
                        "state_kind_changed",
                        Some(o.id),
                        format!(
                            "{}: state {:?} changes kind {} → {}; the job fails when it registers the state after restoring",
                            o.label(),
                            s.name,
                            s.old_kind.as_deref().unwrap_or("?"),
                            s.new_kind.as_deref().unwrap_or("?")
                        ),
                    );
                }
                StateStatus::Added => {
                    changed = true;
                    push(
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
        let state_delta = is_snapshot.then(|| n.state_bytes.saturating_sub(o.state_bytes));
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
            key_groups_old: if keyed { keyed_ranges(o) } else { Vec::new() },
            key_groups_new: if keyed {
                key_group_ranges(effective_new_max, n.parallelism)
            } else {
                Vec::new()
            },
            state_delta,
        });
    }
    for n in &new.operators {
        if old_ids.contains_key(&n.id) {
            continue;
        }
        push(
            Severity::Info,
            "operator_added",
            Some(n.id),
            format!(
                "{} ({}): new operator, starts without state",
                n.label(),
                n.id
            ),
        );
        operators.push(OpDiff {
            id: n.id,
            uid: n.uid.clone(),
            name: n.name.clone(),
            status: OpStatus::Added,
            old: None,
            new: Some(n.clone()),
            states: Vec::new(),
            key_groups_old: Vec::new(),
            key_groups_new: keyed_ranges(n),
            state_delta: None,
        });
    }
    backend_findings(old, new, &mut push);
    kind_findings(old, &mut push);

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

fn keyed_ranges(o: &OpShape) -> Vec<[i32; 2]> {
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

fn backend_findings(
    old: &Side,
    new: &Side,
    push: &mut impl FnMut(Severity, &'static str, Option<OperatorId>, String),
) {
    let Some(format) = old.keyed_format else {
        return;
    };
    match (format, new.backend) {
        (KeyedFormat::Native, Some(Backend::Hashmap)) => push(
            Severity::Incompatible,
            "backend_switch",
            None,
            format!(
                "the old {} holds RocksDB/ForSt native files and the new job uses the hashmap backend, which cannot read them; take a canonical savepoint to switch backends",
                old.kind.map_or("snapshot", SnapshotKind::label)
            ),
        ),
        (KeyedFormat::Native, None) if new.kind == Some(SnapshotKind::SavepointCanonical) => push(
            Severity::Info,
            "backend_unknown",
            None,
            "the old snapshot holds RocksDB/ForSt native files: the new job must use RocksDB or ForSt (the new snapshot is canonical and does not tell its backend)"
                .into(),
        ),
        (KeyedFormat::Changelog, _) => push(
            Severity::Info,
            "changelog",
            None,
            "the old snapshot was written by the changelog backend: restoring needs Flink 1.16+ to switch changelog off".into(),
        ),
        _ => {}
    }
}

fn kind_findings(
    old: &Side,
    push: &mut impl FnMut(Severity, &'static str, Option<OperatorId>, String),
) {
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
    push(Severity::Info, "snapshot_kind", None, msg.into());
}

// ---------------------------------------------------------------- files

/// A file in a file-level diff.
#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    /// Location.
    pub path: String,
    /// Bytes recorded by the handles.
    pub bytes: u64,
    /// Where it lives relative to the snapshot that references it.
    pub label: super::deps::Label,
}

/// Files added, dropped and reused between two snapshots.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FilesDiff {
    /// Referenced only by the new snapshot (what it uploaded).
    pub added: Vec<FileEntry>,
    /// Referenced only by the old snapshot.
    pub dropped: Vec<FileEntry>,
    /// Referenced by both.
    pub reused: Vec<FileEntry>,
    /// Inline bytes (inside `_metadata`) of the old snapshot.
    pub old_inline_bytes: u64,
    /// Inline bytes of the new snapshot.
    pub new_inline_bytes: u64,
}

impl FilesDiff {
    /// Total bytes of a list.
    pub fn total(list: &[FileEntry]) -> u64 {
        list.iter().map(|f| f.bytes).fold(0, u64::saturating_add)
    }
}

/// Compares the file sets of two snapshots (by location).
pub fn files(old: &super::deps::Deps, new: &super::deps::Deps) -> FilesDiff {
    use std::collections::BTreeSet;
    let entry = |d: &super::deps::Dep| FileEntry {
        path: d.location.to_string(),
        bytes: d.bytes,
        label: d.label.clone(),
    };
    let old_set: BTreeSet<String> = old.files.iter().map(|d| d.location.canonical()).collect();
    let new_set: BTreeSet<String> = new.files.iter().map(|d| d.location.canonical()).collect();
    let mut out = FilesDiff {
        old_inline_bytes: old.inline_bytes,
        new_inline_bytes: new.inline_bytes,
        ..FilesDiff::default()
    };
    for d in &new.files {
        if old_set.contains(&d.location.canonical()) {
            out.reused.push(entry(d));
        } else {
            out.added.push(entry(d));
        }
    }
    for d in &old.files {
        if !new_set.contains(&d.location.canonical()) {
            out.dropped.push(entry(d));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test-side operator (not from a Flink file).
    fn shape(uid: &str, p: i32, max: i32, bytes: i64, states: &[(&str, &str)]) -> OpShape {
        OpShape {
            id: crate::uid::operator_id(uid),
            uid: Some(uid.into()),
            uid_source: Some("metadata"),
            name: None,
            parallelism: p,
            max_parallelism: MaxParallelism::Recorded(max),
            state_bytes: bytes,
            has_subtask_state: bytes > 0,
            coordinator_bytes: None,
            keyed: states.iter().any(|(_, k)| *k == "value"),
            channel_bytes: 0,
            channel_handles: 0,
            states: Some(
                states
                    .iter()
                    .map(|(n, k)| StateInfo {
                        name: (*n).into(),
                        scope: if *k == "value" { "keyed" } else { "operator" },
                        kind: (*k).into(),
                        serializers: Vec::new(),
                        heuristic: false,
                    })
                    .collect(),
            ),
            state_notes: Vec::new(),
            fully_finished: false,
        }
    }

    fn side(ops: Vec<OpShape>) -> Side {
        Side {
            source: "test".into(),
            kind: Some(SnapshotKind::SavepointCanonical),
            checkpoint_id: Some(1),
            metadata_version: Some(6),
            keyed_format: Some(KeyedFormat::KeyGroups),
            backend: None,
            operators: ops,
        }
    }

    #[test]
    fn stateless_operator_removed_needs_nothing() {
        let old = side(vec![
            shape("map", 2, 128, 0, &[]),
            shape("keyed", 2, 128, 10, &[("count", "value")]),
        ]);
        let new = side(vec![shape("keyed", 2, 128, 12, &[("count", "value")])]);
        let r = compare(&old, &new, Options::default());
        assert_eq!(r.verdict, Verdict::Compatible);
        assert!(r.dropped.is_empty());
        assert!(r.findings.iter().any(|f| f.code == "operator_removed"));
    }

    #[test]
    fn coordinator_state_alone_needs_allow_non_restored_state() {
        let mut src = shape("src", 1, 128, 16, &[]);
        src.has_subtask_state = false;
        src.coordinator_bytes = Some(16);
        let old = side(vec![src]);
        let new = side(vec![]);
        let r = compare(&old, &new, Options::default());
        assert_eq!(r.verdict, Verdict::NeedsAllowNonRestoredState);
        let r = compare(
            &old,
            &new,
            Options {
                allow_non_restored_state: true,
            },
        );
        assert_eq!(r.verdict, Verdict::Compatible);
        assert!(r.has_warnings());
    }

    #[test]
    fn job_spec_inherits_and_validates() {
        let old = side(vec![shape("keyed", 3, 64, 10, &[("count", "value")])]);
        let spec: JobSpec =
            serde_saphyr::from_str("operators:\n  - uid: keyed\n    states: [count]\n").unwrap();
        let new = Side::from_spec(&spec, "job.yaml", &old).unwrap();
        assert_eq!(new.operators[0].parallelism, 3);
        assert_eq!(
            new.operators[0].max_parallelism,
            MaxParallelism::Recorded(64)
        );
        assert_eq!(new.operators[0].states.as_ref().unwrap()[0].kind, "value");
        let r = compare(&old, &new, Options::default());
        assert_eq!(r.verdict, Verdict::Compatible);
        assert!(!r.has_warnings());

        let spec: JobSpec = serde_saphyr::from_str(
            "max_parallelism: auto\nparallelism: 100\noperators:\n  - uid: keyed\n",
        )
        .unwrap();
        let new = Side::from_spec(&spec, "job.yaml", &old).unwrap();
        let r = compare(&old, &new, Options::default());
        assert_eq!(r.verdict, Verdict::Incompatible, "{:?}", r.findings);
        assert!(r.findings.iter().any(|f| f.code == "parallelism_above_max"));

        let spec: JobSpec = serde_saphyr::from_str("max_parallelism: 0\noperators: []\n").unwrap();
        assert!(Side::from_spec(&spec, "job.yaml", &old).is_err());
    }

    #[test]
    fn key_group_ranges_match_flink() {
        // KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(128, 2, i)
        assert_eq!(key_group_ranges(128, 2), vec![[0, 63], [64, 127]]);
        // (128, 3): 0-42, 43-85, 86-127
        assert_eq!(key_group_ranges(128, 3), vec![[0, 42], [43, 85], [86, 127]]);
        assert_eq!(key_group_ranges(96, 1), vec![[0, 95]]);
        assert!(key_group_ranges(2, 3).is_empty());
        assert!(key_group_ranges(0, 1).is_empty());
    }
}
