//! The `_metadata` decoder for format versions 2 to 6.
//!
//! Layout (all big-endian, FORMAT.md §1–§6):
//!
//! ```text
//! i32 magic 0x4960672D | i32 version
//! i64 checkpointId | i32 n | MasterState[n] | i32 m | OperatorState[m]
//! V4+: one Java-serialized CheckpointProperties object (or null)
//! ```
//!
//! Operator states differ by version (V2 chain length and legacy subtask fields;
//! V3+ coordinator state, finished markers and channel state; V5+ name and uid;
//! V6 tagged channel handles). Handle tags are accepted in every version.
//!
//! Two layouts cannot be told apart by the version number (both V3): Flink 1.14
//! changelog handles and Flink 1.11 channel handles. [`parse`] tries the current
//! layouts first and retries a V3 file with the older ones when the first
//! attempt fails or leaves trailing bytes.

use super::error::{Error, ErrorKind, Result};
use super::model::*;
use super::properties;
use super::reader::ByteReader;
use super::tags::*;

/// Deepest handle nesting accepted (real files nest at most 4 levels).
const MAX_DEPTH: u32 = 32;

/// Reads the magic number and format version without parsing the body.
pub fn parse_header(bytes: &[u8]) -> Result<u32> {
    let mut r = ByteReader::new(bytes);
    let magic = r.read_u32("magic")?;
    if magic != MAGIC {
        return Err(Error::new(0, ErrorKind::BadMagic { found: magic }));
    }
    let at = r.offset();
    let version = r.read_u32("version")?;
    match version {
        0 | 1 => Err(Error::new(at, ErrorKind::LegacyVersion(version))),
        2..=6 => Ok(version),
        v => Err(Error::new(at, ErrorKind::UnknownVersion(v))),
    }
}

/// Parses a complete `_metadata` file.
pub fn parse(bytes: &[u8]) -> Result<CheckpointMetadata> {
    let version = parse_header(bytes)?;
    let first = parse_with(bytes, version, Dialect::default());
    let needs_retry = match &first {
        Ok(m) => !m.trailing.is_empty(),
        Err(_) => true,
    };
    if version != 3 || !needs_retry {
        return first;
    }
    let alternatives = [
        Dialect {
            changelog_1_14: true,
            channel_1_11: false,
        },
        Dialect {
            changelog_1_14: false,
            channel_1_11: true,
        },
        Dialect {
            changelog_1_14: true,
            channel_1_11: true,
        },
    ];
    for dialect in alternatives {
        if let Ok(m) = parse_with(bytes, version, dialect)
            && m.trailing.is_empty()
        {
            return Ok(m);
        }
    }
    first
}

fn parse_with(bytes: &[u8], version: u32, dialect: Dialect) -> Result<CheckpointMetadata> {
    let mut p = Parser {
        r: ByteReader::new(bytes),
        version,
        dialect,
        depth: 0,
    };
    p.r.read_bytes(8, "header")?;
    p.body()
}

struct Parser<'a> {
    r: ByteReader<'a>,
    version: u32,
    dialect: Dialect,
    depth: u32,
}

/// Adds a path segment to errors coming out of `f`.
fn at<T>(segment: impl std::fmt::Display, res: Result<T>) -> Result<T> {
    res.map_err(|e| e.within(segment))
}

/// An [`ErrorKind::InvalidValue`] error for `field` at offset `at`.
fn invalid(at: u64, field: &'static str, value: impl Into<String>) -> Error {
    Error::new(
        at,
        ErrorKind::InvalidValue {
            field,
            value: value.into(),
        },
    )
}

impl<'a> Parser<'a> {
    fn body(&mut self) -> Result<CheckpointMetadata> {
        let at_id = self.r.offset();
        let checkpoint_id = self.r.read_i64("checkpointId")?;
        if checkpoint_id < 0 {
            return Err(invalid(
                at_id,
                "checkpointId",
                format!("{checkpoint_id} (negative)"),
            ));
        }
        let n = self.r.read_count("numMasterStates", 8)?;
        let mut master_states = Vec::with_capacity(n);
        for i in 0..n {
            master_states.push(at(format_args!("master_states[{i}]"), self.master_state())?);
        }
        let min_op = match self.version {
            2 => 32,
            3 | 4 => 29,
            _ => 33,
        };
        let n = self.r.read_count("numOperatorStates", min_op)?;
        let mut operators = Vec::with_capacity(n);
        for i in 0..n {
            operators.push(at(format_args!("operators[{i}]"), self.operator())?);
        }
        let properties = if self.version >= 4 {
            Some(at("properties", properties::read(&mut self.r))?)
        } else {
            None
        };
        let trailing = self.r.rest().to_vec();
        Ok(CheckpointMetadata {
            version: self.version,
            checkpoint_id,
            master_states,
            operators,
            properties,
            trailing,
            dialect: self.dialect,
        })
    }

    fn master_state(&mut self) -> Result<MasterState> {
        let at_magic = self.r.offset();
        let magic = self.r.read_u32("masterState.magic")?;
        if magic != MASTER_STATE_MAGIC {
            return Err(invalid(
                at_magic,
                "masterState.magic",
                format!("{magic:#010x}, expected {MASTER_STATE_MAGIC:#010x}"),
            ));
        }
        let at_len = self.r.offset();
        let len = self.r.read_i32("masterState.numBytes")?;
        if len <= 0 {
            return Err(invalid(at_len, "masterState.numBytes", len.to_string()));
        }
        let len = self
            .r
            .check_count(at_len, "masterState.numBytes", i64::from(len), 1)?;
        let mut data = self.r.sub_reader(len, "masterState.data")?;
        let version = data.read_i32("masterState.version")?;
        let name = data.read_utf("masterState.name")?;
        let payload = data.read_byte_array("masterState.payload")?.to_vec();
        if !data.is_empty() {
            return Err(invalid(
                data.offset(),
                "masterState.data",
                format!("{} trailing bytes in master state", data.remaining()),
            ));
        }
        Ok(MasterState {
            version,
            name,
            payload,
        })
    }

    fn operator(&mut self) -> Result<OperatorState> {
        let (name, uid) = if self.version >= 5 {
            (
                Some(self.r.read_utf("operatorName")?),
                Some(self.r.read_utf("operatorUid")?),
            )
        } else {
            (None, None)
        };
        let id_bytes = self.r.read_bytes(16, "operatorId")?;
        let mut id = [0u8; 16];
        id.copy_from_slice(id_bytes);
        let parallelism = self.r.read_i32("parallelism")?;
        let max_parallelism = self.r.read_i32("maxParallelism")?;
        let mut op = OperatorState {
            name,
            uid,
            id: OperatorId(id),
            parallelism,
            max_parallelism,
            v2_chain_length: None,
            coordinator_state: None,
            subtasks: Subtasks::List {
                entries: Vec::new(),
            },
        };
        if self.version == 2 {
            op.v2_chain_length = Some(self.r.read_i32("chainLength")?);
            let n = self.r.read_count("numSubtaskStates", 4)?;
            let mut entries = Vec::with_capacity(n);
            for i in 0..n {
                let index = self.r.read_i32("subtaskIndex")?;
                let state = at(format_args!("subtasks[{i}]"), self.subtask())?;
                entries.push(SubtaskEntry::State {
                    index,
                    state: Box::new(state),
                });
            }
            op.subtasks = Subtasks::List { entries };
            return Ok(op);
        }
        let at_coord = self.r.offset();
        let coordinator = at("coordinator_state", self.stream_handle())?;
        if let Some(h) = &coordinator
            && !matches!(h, StreamHandle::ByteStream { .. })
        {
            return Err(invalid(
                at_coord,
                "coordinatorState",
                "expected a byte-stream (inline) handle",
            ));
        }
        op.coordinator_state = coordinator;
        let at_n = self.r.offset();
        let n = self.r.read_i32("numSubtaskStates")?;
        if n < 0 {
            if op.coordinator_state.is_some() {
                return Err(invalid(
                    at_n,
                    "numSubtaskStates",
                    "fully finished operator with coordinator state",
                ));
            }
            op.subtasks = Subtasks::FullyFinished { marker: n };
            return Ok(op);
        }
        let n = self
            .r
            .check_count(at_n, "numSubtaskStates", i64::from(n), 4)?;
        let mut entries = Vec::with_capacity(n);
        for i in 0..n {
            let stored = self.r.read_i32("subtaskIndex")?;
            if stored < 0 {
                entries.push(SubtaskEntry::Finished {
                    index: -(stored + 1),
                });
            } else {
                let state = at(format_args!("subtasks[{i}]"), self.subtask())?;
                entries.push(SubtaskEntry::State {
                    index: stored,
                    state: Box::new(state),
                });
            }
        }
        op.subtasks = Subtasks::List { entries };
        Ok(op)
    }

    fn subtask(&mut self) -> Result<SubtaskState> {
        let v2_legacy = if self.version == 2 {
            let duration = self.r.read_i64("duration")?;
            let n = self.r.read_count("numLegacyOperatorStates", 1)?;
            let mut handles = Vec::with_capacity(n);
            for i in 0..n {
                handles.push(at(
                    format_args!("legacy_operator_state[{i}]"),
                    self.stream_handle(),
                )?);
            }
            Some(V2Legacy {
                duration,
                legacy_operator_state: handles,
            })
        } else {
            None
        };
        let managed_operator_flag = self.r.read_i32("hasManagedOperatorState")?;
        let managed_operator = if managed_operator_flag != 0 {
            at("managed_operator", self.operator_handle())?
        } else {
            None
        };
        let raw_operator_flag = self.r.read_i32("hasRawOperatorState")?;
        let raw_operator = if raw_operator_flag != 0 {
            at("raw_operator", self.operator_handle())?
        } else {
            None
        };
        let managed_keyed = at("managed_keyed", self.keyed_handle())?;
        let raw_keyed = at("raw_keyed", self.keyed_handle())?;
        let (input_channels, result_subpartitions) = if self.version >= 3 {
            (
                at(
                    "input_channels",
                    self.channel_list(
                        "numInputChannelStates",
                        INPUT_CHANNEL_STATE_HANDLE,
                        MERGED_INPUT_CHANNEL_STATE_HANDLE,
                    ),
                )?,
                at(
                    "result_subpartitions",
                    self.channel_list(
                        "numResultSubpartitionStates",
                        RESULT_SUBPARTITION_STATE_HANDLE,
                        MERGED_RESULT_SUBPARTITION_STATE_HANDLE,
                    ),
                )?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(SubtaskState {
            v2_legacy,
            managed_operator_flag,
            managed_operator,
            raw_operator_flag,
            raw_operator,
            managed_keyed,
            raw_keyed,
            input_channels,
            result_subpartitions,
        })
    }

    fn channel_list(
        &mut self,
        field: &'static str,
        single: u8,
        merged: u8,
    ) -> Result<Vec<ChannelHandle>> {
        let n = self.r.read_count(field, 18)?;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            out.push(at(format_args!("[{i}]"), self.channel(single, merged))?);
        }
        Ok(out)
    }

    fn channel(&mut self, single: u8, merged: u8) -> Result<ChannelHandle> {
        let type_tag = if self.version >= 6 {
            let at_tag = self.r.offset();
            let t = self.r.read_u8("channelHandleType")?;
            if t != single && t != merged {
                return Err(Error::new(
                    at_tag,
                    ErrorKind::UnknownTag {
                        namespace: "channel",
                        tag: t,
                    },
                ));
            }
            Some(t)
        } else {
            None
        };
        let body = if type_tag == Some(merged) {
            let subtask_index = self.r.read_i32("subtaskIndex")?;
            let state_size = self.r.read_i64("stateSize")?;
            let delegate = at("delegate", self.stream_handle())?;
            let serialized_offsets = self.r.read_byte_array("serializedChannelOffsets")?.to_vec();
            ChannelBody::Merged {
                subtask_index,
                state_size,
                delegate,
                serialized_offsets,
            }
        } else {
            let subtask_index = if self.dialect.channel_1_11 {
                None
            } else {
                Some(self.r.read_i32("subtaskIndex")?)
            };
            let a = self.r.read_i32("channelInfo.a")?;
            let b = self.r.read_i32("channelInfo.b")?;
            let n = self.r.read_count("numOffsets", 8)?;
            let offsets = self.r.read_i64_array(n, "offsets")?;
            let state_size = self.r.read_i64("stateSize")?;
            let delegate = at("delegate", self.stream_handle())?;
            ChannelBody::Single {
                subtask_index,
                info: (a, b),
                offsets,
                state_size,
                delegate,
            }
        };
        Ok(ChannelHandle { type_tag, body })
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.r.error(ErrorKind::TooDeep(MAX_DEPTH)));
        }
        Ok(())
    }

    fn stream_handle(&mut self) -> Result<Option<StreamHandle>> {
        self.enter()?;
        let res = self.stream_handle_inner();
        self.depth -= 1;
        res
    }

    fn stream_handle_inner(&mut self) -> Result<Option<StreamHandle>> {
        let at_tag = self.r.offset();
        let tag = self.r.read_u8("streamHandleType")?;
        let h = match tag {
            NULL_HANDLE => return Ok(None),
            BYTE_STREAM_STATE_HANDLE => StreamHandle::ByteStream {
                name: self.r.read_utf("handleName")?,
                data: self.r.read_byte_array("data")?.to_vec(),
            },
            FILE_STREAM_STATE_HANDLE => StreamHandle::File {
                size: self.r.read_i64("stateSize")?,
                path: self.r.read_utf("filePath")?,
            },
            KEY_GROUPS_HANDLE => {
                StreamHandle::KeyGroups(Box::new(self.key_groups(KeyGroupsKind::V1)?))
            }
            RELATIVE_STREAM_STATE_HANDLE => StreamHandle::Relative {
                relative_path: self.r.read_utf("relativePath")?,
                size: self.r.read_i64("stateSize")?,
            },
            SEGMENT_FILE_HANDLE => {
                let start = self.r.read_i64("startPos")?;
                let size = self.r.read_i64("stateSize")?;
                let at_scope = self.r.offset();
                let scope = self.r.read_i32("scope")?;
                if !(0..=1).contains(&scope) {
                    return Err(invalid(at_scope, "segment scope", scope.to_string()));
                }
                StreamHandle::Segment {
                    start,
                    size,
                    scope,
                    physical_path: self.r.read_utf("physicalFilePath")?,
                    logical_id: self.r.read_utf("logicalFileId")?,
                }
            }
            EMPTY_SEGMENT_FILE_HANDLE => StreamHandle::EmptySegment,
            t => {
                return Err(Error::new(
                    at_tag,
                    ErrorKind::UnknownTag {
                        namespace: "stream",
                        tag: t,
                    },
                ));
            }
        };
        Ok(Some(h))
    }

    fn range(&mut self) -> Result<KeyGroupRange> {
        let start = self.r.read_i32("startKeyGroup")?;
        let at_n = self.r.offset();
        let count = self.r.read_i32("numKeyGroups")?;
        if count < 0 {
            return Err(invalid(at_n, "numKeyGroups", count.to_string()));
        }
        Ok(KeyGroupRange { start, count })
    }

    fn key_groups(&mut self, kind: KeyGroupsKind) -> Result<KeyGroupsHandle> {
        let start = self.r.read_i32("startKeyGroup")?;
        let n = self.r.read_count("numKeyGroups", 8)?;
        let offsets = self.r.read_i64_array(n, "keyGroupOffsets")?;
        let delegate = at("delegate", self.stream_handle())?;
        let handle_id = if kind == KeyGroupsKind::V2 {
            Some(self.r.read_utf("stateHandleId")?)
        } else {
            None
        };
        Ok(KeyGroupsHandle {
            kind,
            range: KeyGroupRange {
                start,
                count: n as i32,
            },
            offsets,
            delegate,
            handle_id,
        })
    }

    fn keyed_handle(&mut self) -> Result<Option<KeyedHandle>> {
        self.enter()?;
        let res = self.keyed_handle_inner();
        self.depth -= 1;
        res
    }

    fn keyed_handle_inner(&mut self) -> Result<Option<KeyedHandle>> {
        let at_tag = self.r.offset();
        let tag = self.r.read_u8("keyedHandleType")?;
        let old = self.dialect.changelog_1_14;
        let h = match tag {
            NULL_HANDLE => return Ok(None),
            KEY_GROUPS_HANDLE => KeyedHandle::KeyGroups(self.key_groups(KeyGroupsKind::V1)?),
            KEY_GROUPS_HANDLE_V2 => KeyedHandle::KeyGroups(self.key_groups(KeyGroupsKind::V2)?),
            SAVEPOINT_KEY_GROUPS_HANDLE => {
                KeyedHandle::KeyGroups(self.key_groups(KeyGroupsKind::Savepoint)?)
            }
            INCREMENTAL_KEY_GROUPS_HANDLE | INCREMENTAL_KEY_GROUPS_HANDLE_V2 => {
                KeyedHandle::Incremental(Box::new(
                    self.incremental(tag == INCREMENTAL_KEY_GROUPS_HANDLE_V2)?,
                ))
            }
            CHANGELOG_HANDLE | CHANGELOG_HANDLE_V2 => {
                let v2 = tag == CHANGELOG_HANDLE_V2;
                let legacy = old && !v2;
                let range = self.range()?;
                let checkpointed_size = if legacy {
                    None
                } else {
                    Some(self.r.read_i64("checkpointedSize")?)
                };
                let materialized = self.keyed_list("numMaterialized", "materialized")?;
                let non_materialized = self.keyed_list("numNonMaterialized", "non_materialized")?;
                let (materialization_id, checkpoint_id, handle_id) = if legacy {
                    (None, None, None)
                } else {
                    let mid = self.r.read_i64("materializationId")?;
                    let cid = if v2 {
                        Some(self.r.read_i64("checkpointId")?)
                    } else {
                        None
                    };
                    (Some(mid), cid, Some(self.r.read_utf("stateHandleId")?))
                };
                KeyedHandle::Changelog(Box::new(ChangelogHandle {
                    v2,
                    range,
                    checkpointed_size,
                    materialized,
                    non_materialized,
                    materialization_id,
                    checkpoint_id,
                    handle_id,
                }))
            }
            CHANGELOG_BYTE_INCREMENT_HANDLE => {
                let range = self.range()?;
                let from = self.r.read_i64("from")?;
                let to = self.r.read_i64("to")?;
                let n = self.r.read_count("numChanges", 8)?;
                let mut changes = Vec::with_capacity(n);
                for _ in 0..n {
                    let kg = self.r.read_i32("change.keyGroup")?;
                    changes.push((kg, self.r.read_byte_array("change.bytes")?.to_vec()));
                }
                let handle_id = if old {
                    None
                } else {
                    Some(self.r.read_utf("stateHandleId")?)
                };
                KeyedHandle::ChangelogInMemory(ChangelogInMemoryHandle {
                    range,
                    from,
                    to,
                    changes,
                    handle_id,
                })
            }
            CHANGELOG_FILE_INCREMENT_HANDLE | CHANGELOG_FILE_INCREMENT_HANDLE_V2 => {
                let v2 = tag == CHANGELOG_FILE_INCREMENT_HANDLE_V2;
                let legacy = old && !v2;
                let range = self.range()?;
                let n = self.r.read_count("numHandles", 9)?;
                let mut handles = Vec::with_capacity(n);
                for i in 0..n {
                    let offset = self.r.read_i64("offset")?;
                    handles.push((
                        offset,
                        at(format_args!("handles[{i}]"), self.stream_handle())?,
                    ));
                }
                let state_size = self.r.read_i64("stateSize")?;
                let (checkpointed_size, handle_id) = if legacy {
                    (None, None)
                } else {
                    (
                        Some(self.r.read_i64("checkpointedSize")?),
                        Some(self.r.read_utf("stateHandleId")?),
                    )
                };
                let storage_id = if v2 {
                    Some(self.r.read_utf("storageIdentifier")?)
                } else {
                    None
                };
                KeyedHandle::ChangelogFile(ChangelogFileHandle {
                    v2,
                    range,
                    handles,
                    state_size,
                    checkpointed_size,
                    handle_id,
                    storage_id,
                })
            }
            t => {
                return Err(Error::new(
                    at_tag,
                    ErrorKind::UnknownTag {
                        namespace: "keyed",
                        tag: t,
                    },
                ));
            }
        };
        Ok(Some(h))
    }

    fn keyed_list(&mut self, field: &'static str, name: &str) -> Result<Vec<Option<KeyedHandle>>> {
        let n = self.r.read_count(field, 1)?;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            out.push(at(format_args!("{name}[{i}]"), self.keyed_handle())?);
        }
        Ok(out)
    }

    fn incremental(&mut self, v2: bool) -> Result<IncrementalHandle> {
        let checkpoint_id = self.r.read_i64("checkpointId")?;
        let backend_id = self.r.read_utf("backendIdentifier")?;
        let range = self.range()?;
        let checkpointed_size = if v2 {
            Some(self.r.read_i64("checkpointedSize")?)
        } else {
            None
        };
        let meta = at("meta", self.stream_handle())?;
        let shared = at("shared", self.named_handles("numSharedState"))?;
        let private = at("private", self.named_handles("numPrivateState"))?;
        let handle_id = if v2 {
            Some(self.r.read_utf("stateHandleId")?)
        } else {
            None
        };
        Ok(IncrementalHandle {
            v2,
            checkpoint_id,
            backend_id,
            range,
            checkpointed_size,
            meta,
            shared,
            private,
            handle_id,
        })
    }

    fn named_handles(&mut self, field: &'static str) -> Result<Vec<NamedHandle>> {
        let n = self.r.read_count(field, 3)?;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let local_path = self.r.read_utf("localPath")?;
            let handle = at(format_args!("[{i}]"), self.stream_handle())?;
            out.push(NamedHandle { local_path, handle });
        }
        Ok(out)
    }

    fn operator_handle(&mut self) -> Result<Option<OperatorHandle>> {
        let at_tag = self.r.offset();
        let tag = self.r.read_u8("operatorHandleType")?;
        if tag == NULL_HANDLE {
            return Ok(None);
        }
        let merging = tag == SEGMENT_PARTITIONABLE_OPERATOR_STATE_HANDLE;
        if tag != PARTITIONABLE_OPERATOR_STATE_HANDLE && !merging {
            return Err(Error::new(
                at_tag,
                ErrorKind::UnknownTag {
                    namespace: "operator",
                    tag,
                },
            ));
        }
        let n = self.r.read_count("numStates", 7)?;
        let mut states = Vec::with_capacity(n);
        for _ in 0..n {
            let name = self.r.read_utf("stateName")?;
            let at_mode = self.r.offset();
            let mode = self.r.read_u8("distributionMode")?;
            if mode > 2 {
                return Err(invalid(at_mode, "distributionMode", mode.to_string()));
            }
            let k = self.r.read_count("numOffsets", 8)?;
            let offsets = self.r.read_i64_array(k, "offsets")?;
            states.push(OperatorStateEntry {
                name,
                mode,
                offsets,
            });
        }
        let file_merging = if merging {
            Some(FileMergingDirs {
                task_owned_dir: self.r.read_utf("taskOwnedDirPath")?,
                shared_dir: self.r.read_utf("sharedDirPath")?,
                is_empty: self.r.read_u8("isEmpty")?,
            })
        } else {
            None
        };
        let at_delegate = self.r.offset();
        let delegate = at("delegate", self.stream_handle())?;
        if merging
            && !matches!(
                delegate,
                Some(StreamHandle::Segment { .. } | StreamHandle::EmptySegment)
            )
        {
            return Err(invalid(
                at_delegate,
                "delegate",
                "file-merging operator state needs a segment handle",
            ));
        }
        Ok(Some(OperatorHandle {
            states,
            file_merging,
            delegate,
        }))
    }
}
