//! The parsed `_metadata` model.
//!
//! Lossless: every field of the file is kept, in file order, including legacy
//! fields Flink ignores, the raw presence flags and booleans as written, inline
//! state bytes and the Java-serialized properties trailer. [`super::write`]
//! reproduces the input byte for byte from this model.

use serde::Serialize;

use super::jstring::JavaString;

/// A parsed checkpoint or savepoint metadata file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckpointMetadata {
    /// Format version (2 to 6) from bytes 4..8.
    pub version: u32,
    /// Checkpoint id.
    pub checkpoint_id: i64,
    /// Master-hook states (rare).
    pub master_states: Vec<MasterState>,
    /// Operator states, in file order.
    pub operators: Vec<OperatorState>,
    /// V4+: the Java-serialized `CheckpointProperties` trailer.
    pub properties: Option<Properties>,
    /// Bytes after the last element (Flink ignores them; none in any real file).
    #[serde(skip_serializing_if = "Vec::is_empty", with = "hex_bytes")]
    pub trailing: Vec<u8>,
    /// Which of the ambiguous V3 layouts the file uses.
    pub dialect: Dialect,
}

/// Layout choices that the version number does not determine (V3 only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Dialect {
    /// Changelog handles (tags 8/9/10) in the shorter Flink 1.14 layout.
    pub changelog_1_14: bool,
    /// Channel-state handles without `subtaskIndex` (Flink 1.11).
    pub channel_1_11: bool,
}

/// State of a checkpoint master hook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MasterState {
    /// Hook serializer version.
    pub version: i32,
    /// Hook identifier.
    pub name: JavaString,
    /// Opaque hook payload.
    #[serde(rename = "payload_bytes", serialize_with = "len_of")]
    pub payload: Vec<u8>,
}

/// A 128-bit Flink `OperatorID`, as its 16 file bytes (lower part, upper part, big-endian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperatorId(pub [u8; 16]);

impl OperatorId {
    /// Flink's textual form (`AbstractID.toHexString()`): the 16 bytes in hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses 32 hex digits.
    pub fn from_hex(s: &str) -> Option<OperatorId> {
        let s = s.trim();
        if s.len() != 32 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(OperatorId(out))
    }
}

impl std::fmt::Display for OperatorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for OperatorId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

/// State of one operator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorState {
    /// V5+: operator name as written ("" = not set). `None` before V5.
    pub name: Option<JavaString>,
    /// V5+: operator uid as written ("" = not set). `None` before V5.
    pub uid: Option<JavaString>,
    /// The OperatorID.
    pub id: OperatorId,
    /// Parallelism when the snapshot was taken.
    pub parallelism: i32,
    /// Max parallelism (number of key groups).
    pub max_parallelism: i32,
    /// V2 only: the legacy chain length (always 1).
    pub v2_chain_length: Option<i32>,
    /// V3+: operator coordinator state (`None` = null handle or V2).
    pub coordinator_state: Option<StreamHandle>,
    /// Subtask states or the fully-finished marker.
    pub subtasks: Subtasks,
}

/// The subtask part of an operator state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subtasks {
    /// All subtasks finished (Flink 1.14+): the count was written as this negative value.
    FullyFinished {
        /// The negative count as written (-1).
        marker: i32,
    },
    /// Per-subtask entries in file order.
    List {
        /// The entries.
        entries: Vec<SubtaskEntry>,
    },
}

/// One entry of an operator's subtask list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SubtaskEntry {
    /// A subtask with state.
    State {
        /// Subtask index.
        index: i32,
        /// Its state.
        state: Box<SubtaskState>,
    },
    /// A finished subtask (written as `-index-1`), no state follows.
    Finished {
        /// Subtask index.
        index: i32,
    },
}

/// `OperatorSubtaskState`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubtaskState {
    /// V2 only: legacy fields.
    pub v2_legacy: Option<V2Legacy>,
    /// The `hasManagedOperatorState` int as written (0 = absent; non-zero = present).
    pub managed_operator_flag: i32,
    /// Managed operator state.
    pub managed_operator: Option<OperatorHandle>,
    /// The `hasRawOperatorState` int as written.
    pub raw_operator_flag: i32,
    /// Raw operator state.
    pub raw_operator: Option<OperatorHandle>,
    /// Managed keyed state.
    pub managed_keyed: Option<KeyedHandle>,
    /// Raw keyed state.
    pub raw_keyed: Option<KeyedHandle>,
    /// V3+: unaligned-checkpoint input channel state.
    pub input_channels: Vec<ChannelHandle>,
    /// V3+: unaligned-checkpoint output (result subpartition) state.
    pub result_subpartitions: Vec<ChannelHandle>,
}

/// Fields of a V2 subtask state that later versions dropped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct V2Legacy {
    /// Legacy duration (written as -1).
    pub duration: i64,
    /// Flink <= 1.1 "Checkpointed" operator state handles.
    pub legacy_operator_state: Vec<Option<StreamHandle>>,
}

/// A byte-stream reference (`StreamStateHandle`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamHandle {
    /// Tag 1: state bytes inline in `_metadata`.
    ByteStream {
        /// Informational handle name (often the path the data would have had).
        name: JavaString,
        /// The inline bytes.
        #[serde(rename = "size", serialize_with = "len_of")]
        data: Vec<u8>,
    },
    /// Tag 2: an absolute file URI.
    File {
        /// Size recorded in the handle (-1 if unknown).
        size: i64,
        /// Absolute path / URI as Flink wrote it.
        path: JavaString,
    },
    /// Tag 3 used as a stream handle.
    KeyGroups(Box<KeyGroupsHandle>),
    /// Tag 6: a path relative to the directory holding `_metadata`.
    Relative {
        /// The relative path (a bare file name in practice).
        relative_path: JavaString,
        /// Size recorded in the handle.
        size: i64,
    },
    /// Tag 15: a segment of a file-merging physical file.
    Segment {
        /// Start of the segment in the physical file.
        start: i64,
        /// Segment length.
        size: i64,
        /// `CheckpointedStateScope` ordinal: 0 exclusive, 1 shared.
        scope: i32,
        /// Path of the physical file.
        physical_path: JavaString,
        /// Logical file id.
        logical_id: JavaString,
    },
    /// Tag 16: empty segment placeholder.
    EmptySegment,
}

/// `KeyGroupRange` as written: start and number of key groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KeyGroupRange {
    /// First key group.
    pub start: i32,
    /// Number of key groups (0 = empty range).
    pub count: i32,
}

/// Which key-groups handle variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyGroupsKind {
    /// Tag 3 (Flink 1.3 – 1.14).
    V1,
    /// Tag 12 (1.15+), with a state handle id.
    V2,
    /// Tag 7: canonical savepoint key groups (1.13+).
    Savepoint,
}

/// Key-groups handle (tags 3, 7, 12): offsets of each key group in one stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyGroupsHandle {
    /// Which tag.
    pub kind: KeyGroupsKind,
    /// Key-group range.
    pub range: KeyGroupRange,
    /// Offset of each key group in the delegate stream.
    #[serde(skip)]
    pub offsets: Vec<i64>,
    /// The stream holding the data.
    pub delegate: Option<StreamHandle>,
    /// Tag 12: the state handle id.
    pub handle_id: Option<JavaString>,
}

/// A keyed state handle (`KeyedStateHandle`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KeyedHandle {
    /// Tags 3, 7, 12.
    KeyGroups(KeyGroupsHandle),
    /// Tags 5, 11: RocksDB / ForSt incremental handle.
    Incremental(Box<IncrementalHandle>),
    /// Tags 8, 14: changelog backend handle.
    Changelog(Box<ChangelogHandle>),
    /// Tag 9: in-memory changelog.
    ChangelogInMemory(ChangelogInMemoryHandle),
    /// Tags 10, 13: DSTL file-backed changelog.
    ChangelogFile(ChangelogFileHandle),
}

/// `IncrementalRemoteKeyedStateHandle` (tag 5 = v1, tag 11 = v2).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncrementalHandle {
    /// Tag 11 (true) or tag 5.
    pub v2: bool,
    /// Checkpoint that created this handle.
    pub checkpoint_id: i64,
    /// Backend instance id (a UUID string).
    pub backend_id: JavaString,
    /// Key-group range.
    pub range: KeyGroupRange,
    /// Tag 11: incremental (checkpointed) size.
    pub checkpointed_size: Option<i64>,
    /// File holding the keyed serialization proxy.
    pub meta: Option<StreamHandle>,
    /// Shared files (`.sst`), by local file name.
    pub shared: Vec<NamedHandle>,
    /// Private files (MANIFEST, CURRENT, OPTIONS).
    pub private: Vec<NamedHandle>,
    /// Tag 11: state handle id.
    pub handle_id: Option<JavaString>,
}

/// A RocksDB file and its handle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedHandle {
    /// File name inside the DB instance directory.
    pub local_path: JavaString,
    /// Where it is stored.
    pub handle: Option<StreamHandle>,
}

/// `ChangelogStateBackendHandle` (tag 8 = v1, 14 = v2).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangelogHandle {
    /// Tag 14 (true) or tag 8.
    pub v2: bool,
    /// Key-group range.
    pub range: KeyGroupRange,
    /// Checkpointed size (absent in the Flink 1.14 layout).
    pub checkpointed_size: Option<i64>,
    /// Materialized part (nested keyed handles).
    pub materialized: Vec<Option<KeyedHandle>>,
    /// Non-materialized change logs.
    pub non_materialized: Vec<Option<KeyedHandle>>,
    /// Materialization id (absent in the 1.14 layout).
    pub materialization_id: Option<i64>,
    /// Tag 14: checkpoint id.
    pub checkpoint_id: Option<i64>,
    /// State handle id (absent in the 1.14 layout).
    pub handle_id: Option<JavaString>,
}

/// `InMemoryChangelogStateHandle` (tag 9).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangelogInMemoryHandle {
    /// Key-group range.
    pub range: KeyGroupRange,
    /// Sequence number range start.
    pub from: i64,
    /// Sequence number range end.
    pub to: i64,
    /// The changes: key group (-1 = metadata change) and bytes.
    #[serde(skip)]
    pub changes: Vec<(i32, Vec<u8>)>,
    /// State handle id (absent in the 1.14 layout).
    pub handle_id: Option<JavaString>,
}

/// `ChangelogStateHandleStreamImpl` (tag 10 = v1, 13 = v2).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangelogFileHandle {
    /// Tag 13 (true) or tag 10.
    pub v2: bool,
    /// Key-group range.
    pub range: KeyGroupRange,
    /// DSTL file handles with the offset of this log in each.
    pub handles: Vec<(i64, Option<StreamHandle>)>,
    /// State size.
    pub state_size: i64,
    /// Checkpointed size (absent in the 1.14 layout).
    pub checkpointed_size: Option<i64>,
    /// State handle id (absent in the 1.14 layout).
    pub handle_id: Option<JavaString>,
    /// Tag 13: storage identifier ("filesystem", "memory").
    pub storage_id: Option<JavaString>,
}

/// An operator state handle (tags 4 and 17).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorHandle {
    /// Named states with their distribution mode and element offsets.
    pub states: Vec<OperatorStateEntry>,
    /// Tag 17 (file merging) extra fields.
    pub file_merging: Option<FileMergingDirs>,
    /// The stream holding the data.
    pub delegate: Option<StreamHandle>,
}

/// One named operator state inside an [`OperatorHandle`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorStateEntry {
    /// State name.
    pub name: JavaString,
    /// Distribution mode ordinal: 0 split, 1 union, 2 broadcast.
    pub mode: u8,
    /// Start offset of each element in the delegate stream.
    #[serde(skip)]
    pub offsets: Vec<i64>,
}

/// Directories recorded by a file-merging operator handle (tag 17).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileMergingDirs {
    /// Task-owned directory.
    pub task_owned_dir: JavaString,
    /// Shared directory.
    pub shared_dir: JavaString,
    /// The `isEmpty` boolean byte as written.
    pub is_empty: u8,
}

/// An unaligned-checkpoint channel state handle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelHandle {
    /// V6: the type byte (1/2 single, 3/4 merged). `None` before V6.
    pub type_tag: Option<u8>,
    /// Contents.
    pub body: ChannelBody,
}

/// Channel handle contents.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelBody {
    /// One channel.
    Single {
        /// Subtask index (absent in Flink 1.11 files).
        subtask_index: Option<i32>,
        /// Gate/partition index and channel/subpartition index.
        info: (i32, i32),
        /// Buffer offsets in the delegate.
        #[serde(skip)]
        offsets: Vec<i64>,
        /// State size.
        state_size: i64,
        /// The stream holding the data.
        delegate: Option<StreamHandle>,
    },
    /// Several channels of one subtask in one handle (V6).
    Merged {
        /// Subtask index.
        subtask_index: i32,
        /// Total state size.
        state_size: i64,
        /// The stream holding the data.
        delegate: Option<StreamHandle>,
        /// Serialized per-channel offsets, kept as written.
        #[serde(skip)]
        serialized_offsets: Vec<u8>,
    },
}

/// The V4+ trailer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Properties {
    /// The Java serialization bytes, as written.
    #[serde(skip)]
    pub raw: Vec<u8>,
    /// Decoded `CheckpointProperties` (`None` = Java `null`).
    pub decoded: Option<CheckpointProperties>,
}

/// Decoded `CheckpointProperties`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointProperties {
    /// `forced`.
    pub forced: bool,
    /// `unclaimed` (restored in NO_CLAIM mode).
    pub unclaimed: bool,
    /// discardSubsumed, discardFinished, discardCancelled, discardFailed, discardSuspended.
    pub discard: [bool; 5],
    /// The snapshot type.
    pub snapshot_type: SnapshotType,
}

/// `CheckpointType` or `SavepointType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum SnapshotType {
    /// `CheckpointType`.
    Checkpoint {
        /// "Checkpoint" or "Full Checkpoint".
        name: String,
        /// `SharingFilesStrategy` constant.
        sharing: String,
    },
    /// `SavepointType`.
    Savepoint {
        /// "Savepoint", "Suspend Savepoint", "Terminate Savepoint".
        name: String,
        /// `SavepointFormatType`: CANONICAL or NATIVE.
        format: String,
        /// `PostCheckpointAction`.
        post_action: String,
    },
    /// A class this build does not know.
    Other {
        /// Class name.
        name: String,
    },
}

fn len_of<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(v.len() as u64)
}

mod hex_bytes {
    pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let hex: String = v.iter().map(|b| format!("{b:02x}")).collect();
        s.serialize_str(&hex)
    }
}

impl SnapshotType {
    /// `getSharingFilesStrategy()`: stored for checkpoints; always
    /// `NO_SHARING` for savepoints (they never share files with other snapshots).
    pub fn sharing(&self) -> Option<&str> {
        match self {
            SnapshotType::Checkpoint { sharing, .. } => Some(sharing),
            SnapshotType::Savepoint { .. } => Some("NO_SHARING"),
            SnapshotType::Other { .. } => None,
        }
    }
}
