//! Serializes a [`CheckpointMetadata`] back to bytes, mirroring Flink's
//! `MetadataV*Serializer`. Because the model is lossless, `write(parse(b)) == b`
//! for every file Flink wrote; tests check this over every real file we have.
//! It is also the test-side writer for hand-built unit cases.
//!
//! A model built or edited by code can say what no file can: a string longer
//! than `writeUTF` allows, a list longer than an `i32` count, or a field that
//! its version, dialect or handle tag does not have (or lacks one it needs).
//! [`write`] checks the model first, on the [`walk`](super::walk), and returns
//! a [`WriteError`] naming the field instead of writing bytes that would not
//! read back as the same model. It does not check values the parser rejects
//! (a negative checkpoint id, a segment scope of 7): tests write those on
//! purpose.

use std::fmt;

use super::jstring::JavaString;
use super::model::*;
use super::tags::*;
use super::walk::{self, Ctx, Node, Slot};

/// Why a model cannot be written, without its location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriteErrorKind {
    /// A string longer than Java's `DataOutput.writeUTF` can write.
    #[error("{field} is {len} bytes in modified UTF-8, over the 65535 a Java UTF string can hold")]
    StringTooLong {
        /// Field name.
        field: &'static str,
        /// Its length in modified UTF-8 bytes.
        len: usize,
    },
    /// A list or byte array with more elements than an `i32` count can say.
    #[error("{field} has {len} elements, over the 2147483647 an i32 count can hold")]
    TooLong {
        /// Field name.
        field: &'static str,
        /// Its number of elements.
        len: usize,
    },
    /// A format version that does not exist.
    #[error("version {0} cannot be written (this writer writes versions 2 to 6)")]
    UnsupportedVersion(u32),
    /// A field the version, dialect or handle kind does not have, a missing
    /// field they require, or a value that would read back as something else.
    #[error("{field} {problem}")]
    Inconsistent {
        /// Field name.
        field: &'static str,
        /// What disagrees.
        problem: String,
    },
}

/// A model that cannot be written, with the path of the offending element
/// (`operators[3].subtasks[1].managed_keyed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteError {
    /// Dotted path of the element (empty for the top level).
    pub path: String,
    /// What is wrong.
    pub kind: WriteErrorKind,
}

impl WriteError {
    fn new(kind: WriteErrorKind) -> Self {
        WriteError {
            path: String::new(),
            kind,
        }
    }

    /// Prefixes `segment` to the path (called while unwinding).
    fn within(mut self, segment: impl fmt::Display) -> Self {
        self.path = super::error::prefix_path(segment, &self.path);
        self
    }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write _metadata: {}", self.kind)?;
        if !self.path.is_empty() {
            write!(f, " in {}", self.path)?;
        }
        Ok(())
    }
}

// `kind` is part of the Display text, so it is not repeated as a source.
impl std::error::Error for WriteError {}

type Result<T = (), E = WriteError> = std::result::Result<T, E>;

/// Adds a path segment to errors coming out of `res`.
fn at<T>(segment: impl fmt::Display, res: Result<T>) -> Result<T> {
    res.map_err(|e| e.within(segment))
}

/// Serializes `m` in its own format version and dialect.
///
/// Fails, writing nothing, when the model cannot be written as it is: a
/// string over 65,535 modified-UTF-8 bytes, a list over `i32::MAX` elements,
/// or fields that disagree with the version, the dialect or their handle's
/// tag (see [`WriteErrorKind`]).
pub fn write(m: &CheckpointMetadata) -> Result<Vec<u8>> {
    check(m)?;
    let mut w = Writer {
        out: Vec::new(),
        version: m.version,
        dialect: m.dialect,
    };
    w.u32(MAGIC);
    w.u32(m.version);
    w.i64(m.checkpoint_id);
    w.len("numMasterStates", m.master_states.len())?;
    for (i, s) in m.master_states.iter().enumerate() {
        at(format_args!("master_states[{i}]"), w.master_state(s))?;
    }
    w.len("numOperatorStates", m.operators.len())?;
    for (i, op) in m.operators.iter().enumerate() {
        at(format_args!("operators[{i}]"), w.operator(op))?;
    }
    if let Some(p) = &m.properties {
        w.out.extend_from_slice(&p.raw);
    }
    w.out.extend_from_slice(&m.trailing);
    Ok(w.out)
}

/// Checks that the model's version, dialect and optional fields agree, so
/// that the bytes read back as the same model.
fn check(m: &CheckpointMetadata) -> Result {
    let v = m.version;
    if !(2..=6).contains(&v) {
        return Err(WriteError::new(WriteErrorKind::UnsupportedVersion(v)));
    }
    if v != 3 && (m.dialect.changelog_1_14 || m.dialect.channel_1_11) {
        return Err(WriteError::new(WriteErrorKind::Inconsistent {
            field: "dialect",
            problem: format!(
                "selects a Flink 1.14 or 1.11 layout, which only version 3 has, not {v}"
            ),
        }));
    }
    presence(
        "properties",
        m.properties.is_some(),
        v >= 4,
        Layout::Version(v),
    )
    .map_err(WriteError::new)?;
    let mut err = None;
    walk::walk(m, |ctx, node| {
        if err.is_none()
            && let Err(kind) = check_node(v, m.dialect, ctx, node)
        {
            err = Some(WriteError {
                path: ctx.to_string(),
                kind,
            });
        }
    });
    err.map_or(Ok(()), Err)
}

/// What decides whether a field exists.
#[derive(Clone, Copy)]
enum Layout {
    Version(u32),
    Tag(u8),
    Flink114,
    Dialect114,
    Dialect111,
    Flag,
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layout::Version(v) => write!(f, "version {v}"),
            Layout::Tag(t) => write!(f, "handle tag {t}"),
            Layout::Flink114 => f.write_str("the Flink 1.14 layout of this tag"),
            Layout::Dialect114 => f.write_str("the changelog layout of this dialect"),
            Layout::Dialect111 => f.write_str("the channel layout of this dialect"),
            Layout::Flag => f.write_str("its presence flag"),
        }
    }
}

/// A changelog handle's tag (`v1` or `v2`), whether its optional fields
/// are all written (every tag outside the 1.14 layout, and V2 always), and
/// the layout that decides it.
fn changelog_layout(v2: bool, old: bool, v1_tag: u8, v2_tag: u8) -> (u8, bool, Layout) {
    let tag = if v2 { v2_tag } else { v1_tag };
    let full = !old || v2;
    let layout = if full {
        Layout::Tag(tag)
    } else {
        Layout::Flink114
    };
    (tag, full, layout)
}

/// A field is present exactly when `layout` has it.
fn presence(
    field: &'static str,
    present: bool,
    expected: bool,
    layout: Layout,
) -> Result<(), WriteErrorKind> {
    let problem = match (present, expected) {
        (true, false) => format!("is set, but {layout} has no such field"),
        (false, true) => format!("is missing, but {layout} requires it"),
        _ => return Ok(()),
    };
    Err(WriteErrorKind::Inconsistent { field, problem })
}

fn inconsistent(field: &'static str, problem: impl Into<String>) -> Result<(), WriteErrorKind> {
    Err(WriteErrorKind::Inconsistent {
        field,
        problem: problem.into(),
    })
}

fn key_groups(k: &KeyGroupsHandle, tag: u8) -> Result<(), WriteErrorKind> {
    presence(
        "handle_id",
        k.handle_id.is_some(),
        k.kind == KeyGroupsKind::V2,
        Layout::Tag(tag),
    )?;
    if usize::try_from(k.range.count).ok() != Some(k.offsets.len()) {
        return inconsistent(
            "range.count",
            format!(
                "is {}, but there are {} key-group offsets (the file stores one count)",
                k.range.count,
                k.offsets.len()
            ),
        );
    }
    Ok(())
}

fn check_node(
    v: u32,
    dialect: Dialect,
    ctx: &Ctx<'_>,
    node: Node<'_>,
) -> Result<(), WriteErrorKind> {
    let old = dialect.changelog_1_14;
    match node {
        Node::Operator(op) => {
            presence("name", op.name.is_some(), v >= 5, Layout::Version(v))?;
            presence("uid", op.uid.is_some(), v >= 5, Layout::Version(v))?;
            presence(
                "v2_chain_length",
                op.v2_chain_length.is_some(),
                v == 2,
                Layout::Version(v),
            )?;
            if v == 2 && op.coordinator_state.is_some() {
                presence("coordinator_state", true, false, Layout::Version(v))?;
            }
            match &op.subtasks {
                Subtasks::FullyFinished { .. } if v == 2 => {
                    return inconsistent(
                        "subtasks",
                        "is fully finished, which version 2 cannot say",
                    );
                }
                Subtasks::FullyFinished { marker } if *marker >= 0 => {
                    return inconsistent(
                        "subtasks",
                        format!("has the fully-finished marker {marker}, which is not negative"),
                    );
                }
                Subtasks::FullyFinished { .. } => {}
                Subtasks::List { entries } => {
                    for e in entries {
                        match e {
                            SubtaskEntry::Finished { .. } if v == 2 => {
                                return inconsistent(
                                    "subtasks",
                                    "has a finished subtask, which version 2 cannot say",
                                );
                            }
                            SubtaskEntry::Finished { index }
                            | SubtaskEntry::State { index, .. }
                                if *index < 0 && v >= 3 =>
                            {
                                return inconsistent(
                                    "subtasks",
                                    format!("has the negative subtask index {index}"),
                                );
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        Node::Subtask(s) => {
            presence(
                "v2_legacy",
                s.v2_legacy.is_some(),
                v == 2,
                Layout::Version(v),
            )?;
            if s.managed_operator_flag == 0 {
                presence(
                    "managed_operator",
                    s.managed_operator.is_some(),
                    false,
                    Layout::Flag,
                )?;
            }
            if s.raw_operator_flag == 0 {
                presence(
                    "raw_operator",
                    s.raw_operator.is_some(),
                    false,
                    Layout::Flag,
                )?;
            }
            if v == 2 && !(s.input_channels.is_empty() && s.result_subpartitions.is_empty()) {
                return inconsistent("channel state", "is set, but version 2 has none");
            }
        }
        Node::Channel(c) => {
            presence("type_tag", c.type_tag.is_some(), v >= 6, Layout::Version(v))?;
            let (single, merged) = match ctx.slot {
                Some(Slot::ResultSubpartition) => (
                    RESULT_SUBPARTITION_STATE_HANDLE,
                    MERGED_RESULT_SUBPARTITION_STATE_HANDLE,
                ),
                _ => (
                    INPUT_CHANNEL_STATE_HANDLE,
                    MERGED_INPUT_CHANNEL_STATE_HANDLE,
                ),
            };
            let want = match &c.body {
                ChannelBody::Single { subtask_index, .. } => {
                    presence(
                        "subtask_index",
                        subtask_index.is_some(),
                        !dialect.channel_1_11,
                        Layout::Dialect111,
                    )?;
                    single
                }
                ChannelBody::Merged { .. } => merged,
            };
            if c.type_tag.unwrap_or(single) != want {
                return inconsistent(
                    "type_tag",
                    format!(
                        "is {:?}, but this list writes this body with tag {want}",
                        c.type_tag
                    ),
                );
            }
        }
        Node::Keyed(KeyedHandle::KeyGroups(k)) => {
            let tag = match k.kind {
                KeyGroupsKind::V1 => KEY_GROUPS_HANDLE,
                KeyGroupsKind::V2 => KEY_GROUPS_HANDLE_V2,
                KeyGroupsKind::Savepoint => SAVEPOINT_KEY_GROUPS_HANDLE,
            };
            key_groups(k, tag)?;
        }
        Node::Keyed(KeyedHandle::Incremental(i)) => {
            let tag = if i.v2 {
                INCREMENTAL_KEY_GROUPS_HANDLE_V2
            } else {
                INCREMENTAL_KEY_GROUPS_HANDLE
            };
            presence(
                "checkpointed_size",
                i.checkpointed_size.is_some(),
                i.v2,
                Layout::Tag(tag),
            )?;
            presence("handle_id", i.handle_id.is_some(), i.v2, Layout::Tag(tag))?;
        }
        Node::Keyed(KeyedHandle::Changelog(c)) => {
            let (tag, full, layout) =
                changelog_layout(c.v2, old, CHANGELOG_HANDLE, CHANGELOG_HANDLE_V2);
            presence(
                "checkpointed_size",
                c.checkpointed_size.is_some(),
                full,
                layout,
            )?;
            presence(
                "materialization_id",
                c.materialization_id.is_some(),
                full,
                layout,
            )?;
            presence(
                "checkpoint_id",
                c.checkpoint_id.is_some(),
                c.v2,
                Layout::Tag(tag),
            )?;
            presence("handle_id", c.handle_id.is_some(), full, layout)?;
        }
        Node::Keyed(KeyedHandle::ChangelogInMemory(c)) => {
            presence("handle_id", c.handle_id.is_some(), !old, Layout::Dialect114)?;
        }
        Node::Keyed(KeyedHandle::ChangelogFile(c)) => {
            let (tag, full, layout) = changelog_layout(
                c.v2,
                old,
                CHANGELOG_FILE_INCREMENT_HANDLE,
                CHANGELOG_FILE_INCREMENT_HANDLE_V2,
            );
            presence(
                "checkpointed_size",
                c.checkpointed_size.is_some(),
                full,
                layout,
            )?;
            presence("handle_id", c.handle_id.is_some(), full, layout)?;
            presence("storage_id", c.storage_id.is_some(), c.v2, Layout::Tag(tag))?;
        }
        Node::Stream(StreamHandle::KeyGroups(k)) => {
            if k.kind != KeyGroupsKind::V1 {
                return inconsistent(
                    "kind",
                    format!(
                        "is {:?}, but a stream handle can only be key groups V1 (tag 3)",
                        k.kind
                    ),
                );
            }
            key_groups(k, KEY_GROUPS_HANDLE)?;
        }
        Node::OperatorHandle(h) => {
            if h.file_merging.is_some()
                && !matches!(
                    h.delegate,
                    Some(StreamHandle::Segment { .. } | StreamHandle::EmptySegment)
                )
            {
                return inconsistent(
                    "delegate",
                    "is not a segment, but a file-merging operator handle (tag 17) needs one",
                );
            }
        }
        Node::Stream(_) | Node::FileMergingDirs(_) => {}
    }
    Ok(())
}

struct Writer {
    out: Vec<u8>,
    version: u32,
    dialect: Dialect,
}

impl Writer {
    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }
    fn i32(&mut self, v: i32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    fn len(&mut self, field: &'static str, n: usize) -> Result {
        let n = i32::try_from(n)
            .map_err(|_| WriteError::new(WriteErrorKind::TooLong { field, len: n }))?;
        self.i32(n);
        Ok(())
    }
    /// A count (`field` in Flink's serializer) and each item of `list`,
    /// errors placed at `name[i]`.
    fn list<T>(
        &mut self,
        name: &str,
        field: &'static str,
        list: &[T],
        mut item: impl FnMut(&mut Self, &T) -> Result,
    ) -> Result {
        at(name, self.len(field, list.len()))?;
        for (i, x) in list.iter().enumerate() {
            at(format_args!("{name}[{i}]"), item(self, x))?;
        }
        Ok(())
    }
    fn utf(&mut self, field: &'static str, s: &JavaString) -> Result {
        let b = s.to_modified_utf8();
        let n = u16::try_from(b.len()).map_err(|_| {
            WriteError::new(WriteErrorKind::StringTooLong {
                field,
                len: b.len(),
            })
        })?;
        self.out.extend_from_slice(&n.to_be_bytes());
        self.out.extend_from_slice(&b);
        Ok(())
    }
    fn bytes(&mut self, field: &'static str, b: &[u8]) -> Result {
        self.len(field, b.len())?;
        self.out.extend_from_slice(b);
        Ok(())
    }
    fn longs(&mut self, field: &'static str, v: &[i64]) -> Result {
        self.len(field, v.len())?;
        for x in v {
            self.i64(*x);
        }
        Ok(())
    }

    fn master_state(&mut self, s: &MasterState) -> Result {
        self.u32(MASTER_STATE_MAGIC);
        let mut inner = Writer {
            out: Vec::new(),
            version: self.version,
            dialect: self.dialect,
        };
        inner.i32(s.version);
        inner.utf("masterState.name", &s.name)?;
        inner.bytes("masterState.payload", &s.payload)?;
        self.bytes("masterState.numBytes", &inner.out)
    }

    fn operator(&mut self, op: &OperatorState) -> Result {
        if let (Some(name), Some(uid)) = (&op.name, &op.uid) {
            self.utf("operatorName", name)?;
            self.utf("operatorUid", uid)?;
        }
        self.out.extend_from_slice(&op.id.0);
        self.i32(op.parallelism);
        self.i32(op.max_parallelism);
        if let Some(n) = op.v2_chain_length {
            self.i32(n);
        } else {
            at(
                "coordinator_state",
                self.stream(op.coordinator_state.as_ref()),
            )?;
        }
        match &op.subtasks {
            Subtasks::FullyFinished { marker } => self.i32(*marker),
            Subtasks::List { entries } => {
                self.len("numSubtaskStates", entries.len())?;
                for (i, e) in entries.iter().enumerate() {
                    match e {
                        SubtaskEntry::State { index, state } => {
                            self.i32(*index);
                            at(format_args!("subtasks[{i}]"), self.subtask(state))?;
                        }
                        // `check` made sure the index is not negative.
                        SubtaskEntry::Finished { index } => self.i32(-index - 1),
                    }
                }
            }
        }
        Ok(())
    }

    fn subtask(&mut self, s: &SubtaskState) -> Result {
        if let Some(l) = &s.v2_legacy {
            self.i64(l.duration);
            self.len("numLegacyOperatorStates", l.legacy_operator_state.len())?;
            for (i, h) in l.legacy_operator_state.iter().enumerate() {
                at(
                    format_args!("legacy_operator_state[{i}]"),
                    self.stream(h.as_ref()),
                )?;
            }
        }
        self.i32(s.managed_operator_flag);
        if s.managed_operator_flag != 0 {
            at(
                "managed_operator",
                self.operator_handle(s.managed_operator.as_ref()),
            )?;
        }
        self.i32(s.raw_operator_flag);
        if s.raw_operator_flag != 0 {
            at(
                "raw_operator",
                self.operator_handle(s.raw_operator.as_ref()),
            )?;
        }
        at("managed_keyed", self.keyed(s.managed_keyed.as_ref()))?;
        at("raw_keyed", self.keyed(s.raw_keyed.as_ref()))?;
        if self.version >= 3 {
            for (name, field, list) in [
                ("input_channels", "numInputChannelStates", &s.input_channels),
                (
                    "result_subpartitions",
                    "numResultSubpartitionStates",
                    &s.result_subpartitions,
                ),
            ] {
                self.list(name, field, list, Self::channel)?;
            }
        }
        Ok(())
    }

    fn channel(&mut self, c: &ChannelHandle) -> Result {
        if let Some(t) = c.type_tag {
            self.u8(t);
        }
        match &c.body {
            ChannelBody::Single {
                subtask_index,
                info,
                offsets,
                state_size,
                delegate,
            } => {
                if let Some(i) = subtask_index {
                    self.i32(*i);
                }
                self.i32(info.0);
                self.i32(info.1);
                self.longs("numOffsets", offsets)?;
                self.i64(*state_size);
                at("delegate", self.stream(delegate.as_ref()))
            }
            ChannelBody::Merged {
                subtask_index,
                state_size,
                delegate,
                serialized_offsets,
            } => {
                self.i32(*subtask_index);
                self.i64(*state_size);
                at("delegate", self.stream(delegate.as_ref()))?;
                self.bytes("serializedChannelOffsets", serialized_offsets)
            }
        }
    }

    fn stream(&mut self, h: Option<&StreamHandle>) -> Result {
        let Some(h) = h else {
            self.u8(NULL_HANDLE);
            return Ok(());
        };
        match h {
            StreamHandle::ByteStream { name, data } => {
                self.u8(BYTE_STREAM_STATE_HANDLE);
                self.utf("handleName", name)?;
                self.bytes("data", data)
            }
            StreamHandle::File { size, path } => {
                self.u8(FILE_STREAM_STATE_HANDLE);
                self.i64(*size);
                self.utf("filePath", path)
            }
            StreamHandle::KeyGroups(k) => {
                self.u8(KEY_GROUPS_HANDLE);
                self.key_groups_body(k)
            }
            StreamHandle::Relative {
                relative_path,
                size,
            } => {
                self.u8(RELATIVE_STREAM_STATE_HANDLE);
                self.utf("relativePath", relative_path)?;
                self.i64(*size);
                Ok(())
            }
            StreamHandle::Segment {
                start,
                size,
                scope,
                physical_path,
                logical_id,
            } => {
                self.u8(SEGMENT_FILE_HANDLE);
                self.i64(*start);
                self.i64(*size);
                self.i32(*scope);
                self.utf("physicalFilePath", physical_path)?;
                self.utf("logicalFileId", logical_id)
            }
            StreamHandle::EmptySegment => {
                self.u8(EMPTY_SEGMENT_FILE_HANDLE);
                Ok(())
            }
        }
    }

    fn key_groups_body(&mut self, k: &KeyGroupsHandle) -> Result {
        self.i32(k.range.start);
        self.longs("numKeyGroups", &k.offsets)?;
        at("delegate", self.stream(k.delegate.as_ref()))?;
        if let Some(id) = &k.handle_id {
            self.utf("stateHandleId", id)?;
        }
        Ok(())
    }

    fn range(&mut self, r: KeyGroupRange) {
        self.i32(r.start);
        self.i32(r.count);
    }

    fn keyed(&mut self, h: Option<&KeyedHandle>) -> Result {
        let Some(h) = h else {
            self.u8(NULL_HANDLE);
            return Ok(());
        };
        match h {
            KeyedHandle::KeyGroups(k) => {
                self.u8(match k.kind {
                    KeyGroupsKind::V1 => KEY_GROUPS_HANDLE,
                    KeyGroupsKind::V2 => KEY_GROUPS_HANDLE_V2,
                    KeyGroupsKind::Savepoint => SAVEPOINT_KEY_GROUPS_HANDLE,
                });
                self.key_groups_body(k)?;
            }
            KeyedHandle::Incremental(i) => {
                self.u8(if i.v2 {
                    INCREMENTAL_KEY_GROUPS_HANDLE_V2
                } else {
                    INCREMENTAL_KEY_GROUPS_HANDLE
                });
                self.i64(i.checkpoint_id);
                self.utf("backendIdentifier", &i.backend_id)?;
                self.range(i.range);
                if let Some(c) = i.checkpointed_size {
                    self.i64(c);
                }
                at("meta", self.stream(i.meta.as_ref()))?;
                for (name, field, list) in [
                    ("shared", "numSharedState", &i.shared),
                    ("private", "numPrivateState", &i.private),
                ] {
                    at(name, self.len(field, list.len()))?;
                    for (pos, n) in list.iter().enumerate() {
                        at(format_args!("{name}[{pos}]"), {
                            self.utf("localPath", &n.local_path)
                                .and_then(|()| self.stream(n.handle.as_ref()))
                        })?;
                    }
                }
                if let Some(id) = &i.handle_id {
                    self.utf("stateHandleId", id)?;
                }
            }
            KeyedHandle::Changelog(c) => {
                self.u8(if c.v2 {
                    CHANGELOG_HANDLE_V2
                } else {
                    CHANGELOG_HANDLE
                });
                self.range(c.range);
                if let Some(s) = c.checkpointed_size {
                    self.i64(s);
                }
                for (name, field, list) in [
                    ("materialized", "numMaterialized", &c.materialized),
                    (
                        "non_materialized",
                        "numNonMaterialized",
                        &c.non_materialized,
                    ),
                ] {
                    self.list(name, field, list, |w, k| w.keyed(k.as_ref()))?;
                }
                if let Some(m) = c.materialization_id {
                    self.i64(m);
                }
                if let Some(id) = c.checkpoint_id {
                    self.i64(id);
                }
                if let Some(id) = &c.handle_id {
                    self.utf("stateHandleId", id)?;
                }
            }
            KeyedHandle::ChangelogInMemory(c) => {
                self.u8(CHANGELOG_BYTE_INCREMENT_HANDLE);
                self.range(c.range);
                self.i64(c.from);
                self.i64(c.to);
                self.len("numChanges", c.changes.len())?;
                for (kg, bytes) in &c.changes {
                    self.i32(*kg);
                    self.bytes("change.bytes", bytes)?;
                }
                if !self.dialect.changelog_1_14
                    && let Some(id) = &c.handle_id
                {
                    self.utf("stateHandleId", id)?;
                }
            }
            KeyedHandle::ChangelogFile(c) => {
                self.u8(if c.v2 {
                    CHANGELOG_FILE_INCREMENT_HANDLE_V2
                } else {
                    CHANGELOG_FILE_INCREMENT_HANDLE
                });
                self.range(c.range);
                self.len("numHandles", c.handles.len())?;
                for (i, (offset, h)) in c.handles.iter().enumerate() {
                    self.i64(*offset);
                    at(format_args!("handles[{i}]"), self.stream(h.as_ref()))?;
                }
                self.i64(c.state_size);
                if let Some(s) = c.checkpointed_size {
                    self.i64(s);
                }
                if let Some(id) = &c.handle_id {
                    self.utf("stateHandleId", id)?;
                }
                if let Some(id) = &c.storage_id {
                    self.utf("storageIdentifier", id)?;
                }
            }
        }
        Ok(())
    }

    fn operator_handle(&mut self, h: Option<&OperatorHandle>) -> Result {
        let Some(h) = h else {
            self.u8(NULL_HANDLE);
            return Ok(());
        };
        self.u8(if h.file_merging.is_some() {
            SEGMENT_PARTITIONABLE_OPERATOR_STATE_HANDLE
        } else {
            PARTITIONABLE_OPERATOR_STATE_HANDLE
        });
        self.len("numStates", h.states.len())?;
        for s in &h.states {
            self.utf("stateName", &s.name)?;
            self.u8(s.mode);
            self.longs("numOffsets", &s.offsets)?;
        }
        if let Some(f) = &h.file_merging {
            self.utf("taskOwnedDirPath", &f.task_owned_dir)?;
            self.utf("sharedDirPath", &f.shared_dir)?;
            self.u8(f.is_empty);
        }
        at("delegate", self.stream(h.delegate.as_ref()))
    }
}
