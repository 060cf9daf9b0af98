//! Magic numbers and handle type tags of the `_metadata` format, named as in
//! Flink's `MetadataV2V3SerializerBase` and `ChannelStateHandleSerializerV2`
//! (FORMAT.md §1, §3 and §6.5). The parser and the writer both use these, so
//! a tag can only ever mean one thing.
//!
//! Tags live in three namespaces (stream, keyed, operator) that share one
//! numbering, plus the V6 channel namespace with its own small numbers. The
//! version number does not restrict which tags occur: every tag is accepted
//! in every version.

/// Flink's metadata magic number (bytes 0..4 of every `_metadata`).
pub const MAGIC: u32 = 0x4960_672D;
/// Magic number at the start of every serialized master-hook state.
pub const MASTER_STATE_MAGIC: u32 = 0xC96B_1696;

/// Tag 0: a null handle in every namespace (no bytes follow).
pub const NULL_HANDLE: u8 = 0;

/// Stream tag 1: `ByteStreamStateHandle`, the bytes inline in `_metadata`.
pub const BYTE_STREAM_STATE_HANDLE: u8 = 1;
/// Stream tag 2: `FileStateHandle`, an absolute path.
pub const FILE_STREAM_STATE_HANDLE: u8 = 2;
/// Stream and keyed tag 3: `KeyGroupsStateHandle` (Flink 1.3 – 1.14 writers).
pub const KEY_GROUPS_HANDLE: u8 = 3;
/// Operator tag 4: `OperatorStreamStateHandle`.
pub const PARTITIONABLE_OPERATOR_STATE_HANDLE: u8 = 4;
/// Keyed tag 5: `IncrementalRemoteKeyedStateHandle` (before Flink 1.15).
pub const INCREMENTAL_KEY_GROUPS_HANDLE: u8 = 5;
/// Stream tag 6: `RelativeFileStateHandle`, relative to the `_metadata` directory.
pub const RELATIVE_STREAM_STATE_HANDLE: u8 = 6;
/// Keyed tag 7: `KeyGroupsSavepointStateHandle` (canonical savepoints, 1.13+).
pub const SAVEPOINT_KEY_GROUPS_HANDLE: u8 = 7;
/// Keyed tag 8: `ChangelogStateBackendHandle` (1.14 and 1.15 layouts).
pub const CHANGELOG_HANDLE: u8 = 8;
/// Keyed tag 9: `InMemoryChangelogStateHandle`.
pub const CHANGELOG_BYTE_INCREMENT_HANDLE: u8 = 9;
/// Keyed tag 10: `ChangelogStateHandleStreamImpl` (1.14 and 1.15 layouts).
pub const CHANGELOG_FILE_INCREMENT_HANDLE: u8 = 10;
/// Keyed tag 11: `IncrementalRemoteKeyedStateHandle` with checkpointed size and id (1.15+).
pub const INCREMENTAL_KEY_GROUPS_HANDLE_V2: u8 = 11;
/// Keyed tag 12: `KeyGroupsStateHandle` with a state handle id (1.15+).
pub const KEY_GROUPS_HANDLE_V2: u8 = 12;
/// Keyed tag 13: `ChangelogStateHandleStreamImpl` with a storage identifier (1.16+).
pub const CHANGELOG_FILE_INCREMENT_HANDLE_V2: u8 = 13;
/// Keyed tag 14: `ChangelogStateBackendHandle` with a checkpoint id (1.16+).
pub const CHANGELOG_HANDLE_V2: u8 = 14;
/// Stream tag 15: `SegmentFileStateHandle`, a segment of a file-merging physical file (1.20+).
pub const SEGMENT_FILE_HANDLE: u8 = 15;
/// Stream tag 16: `EmptySegmentFileStateHandle` (1.20+).
pub const EMPTY_SEGMENT_FILE_HANDLE: u8 = 16;
/// Operator tag 17: `FileMergingOperatorStreamStateHandle` (1.20+).
pub const SEGMENT_PARTITIONABLE_OPERATOR_STATE_HANDLE: u8 = 17;

/// V6 channel tag 1: a single input channel.
pub const INPUT_CHANNEL_STATE_HANDLE: u8 = 1;
/// V6 channel tag 2: a single result subpartition.
pub const RESULT_SUBPARTITION_STATE_HANDLE: u8 = 2;
/// V6 channel tag 3: merged input channels of one subtask.
pub const MERGED_INPUT_CHANNEL_STATE_HANDLE: u8 = 3;
/// V6 channel tag 4: merged result subpartitions of one subtask.
pub const MERGED_RESULT_SUBPARTITION_STATE_HANDLE: u8 = 4;
