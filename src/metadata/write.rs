//! Serializes a [`CheckpointMetadata`] back to bytes, mirroring Flink's
//! `MetadataV*Serializer`. Because the model is lossless, `write(parse(b)) == b`
//! for every file Flink wrote; tests check this over every real file we have.
//! It is also the test-side writer for hand-built unit cases.

use super::model::*;
use super::tags::*;

/// Serializes `m` in its own format version and dialect.
pub fn write(m: &CheckpointMetadata) -> Vec<u8> {
    let mut w = Writer {
        out: Vec::new(),
        version: m.version,
        dialect: m.dialect,
    };
    w.u32(MAGIC);
    w.u32(m.version);
    w.i64(m.checkpoint_id);
    w.len(m.master_states.len());
    for s in &m.master_states {
        w.u32(MASTER_STATE_MAGIC);
        let mut inner = Writer {
            out: Vec::new(),
            version: m.version,
            dialect: m.dialect,
        };
        inner.i32(s.version);
        inner.utf(&s.name);
        inner.bytes(&s.payload);
        w.bytes(&inner.out);
    }
    w.len(m.operators.len());
    for op in &m.operators {
        w.operator(op);
    }
    if let Some(p) = &m.properties {
        w.out.extend_from_slice(&p.raw);
    }
    w.out.extend_from_slice(&m.trailing);
    w.out
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
    fn len(&mut self, n: usize) {
        self.i32(i32::try_from(n).unwrap_or(i32::MAX));
    }
    fn utf(&mut self, s: &super::JavaString) {
        let b = s.to_modified_utf8();
        self.out
            .extend_from_slice(&u16::try_from(b.len()).unwrap_or(u16::MAX).to_be_bytes());
        self.out.extend_from_slice(&b);
    }
    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.out.extend_from_slice(b);
    }
    fn longs(&mut self, v: &[i64]) {
        self.len(v.len());
        for x in v {
            self.i64(*x);
        }
    }

    fn operator(&mut self, op: &OperatorState) {
        if let (Some(name), Some(uid)) = (&op.name, &op.uid) {
            self.utf(name);
            self.utf(uid);
        }
        self.out.extend_from_slice(&op.id.0);
        self.i32(op.parallelism);
        self.i32(op.max_parallelism);
        if self.version == 2 {
            self.i32(op.v2_chain_length.unwrap_or(1));
        } else {
            self.stream(op.coordinator_state.as_ref());
        }
        match &op.subtasks {
            Subtasks::FullyFinished { marker } => self.i32(*marker),
            Subtasks::List { entries } => {
                self.len(entries.len());
                for e in entries {
                    match e {
                        SubtaskEntry::State { index, state } => {
                            self.i32(*index);
                            self.subtask(state);
                        }
                        SubtaskEntry::Finished { index } => self.i32(-index - 1),
                    }
                }
            }
        }
    }

    fn subtask(&mut self, s: &SubtaskState) {
        if let Some(l) = &s.v2_legacy {
            self.i64(l.duration);
            self.len(l.legacy_operator_state.len());
            for h in &l.legacy_operator_state {
                self.stream(h.as_ref());
            }
        }
        self.i32(s.managed_operator_flag);
        if s.managed_operator_flag != 0 {
            self.operator_handle(s.managed_operator.as_ref());
        }
        self.i32(s.raw_operator_flag);
        if s.raw_operator_flag != 0 {
            self.operator_handle(s.raw_operator.as_ref());
        }
        self.keyed(s.managed_keyed.as_ref());
        self.keyed(s.raw_keyed.as_ref());
        if self.version >= 3 {
            for list in [&s.input_channels, &s.result_subpartitions] {
                self.len(list.len());
                for c in list {
                    self.channel(c);
                }
            }
        }
    }

    fn channel(&mut self, c: &ChannelHandle) {
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
                self.longs(offsets);
                self.i64(*state_size);
                self.stream(delegate.as_ref());
            }
            ChannelBody::Merged {
                subtask_index,
                state_size,
                delegate,
                serialized_offsets,
            } => {
                self.i32(*subtask_index);
                self.i64(*state_size);
                self.stream(delegate.as_ref());
                self.bytes(serialized_offsets);
            }
        }
    }

    fn stream(&mut self, h: Option<&StreamHandle>) {
        let Some(h) = h else {
            return self.u8(NULL_HANDLE);
        };
        match h {
            StreamHandle::ByteStream { name, data } => {
                self.u8(BYTE_STREAM_STATE_HANDLE);
                self.utf(name);
                self.bytes(data);
            }
            StreamHandle::File { size, path } => {
                self.u8(FILE_STREAM_STATE_HANDLE);
                self.i64(*size);
                self.utf(path);
            }
            StreamHandle::KeyGroups(k) => {
                self.u8(KEY_GROUPS_HANDLE);
                self.key_groups_body(k);
            }
            StreamHandle::Relative {
                relative_path,
                size,
            } => {
                self.u8(RELATIVE_STREAM_STATE_HANDLE);
                self.utf(relative_path);
                self.i64(*size);
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
                self.utf(physical_path);
                self.utf(logical_id);
            }
            StreamHandle::EmptySegment => self.u8(EMPTY_SEGMENT_FILE_HANDLE),
        }
    }

    fn key_groups_body(&mut self, k: &KeyGroupsHandle) {
        self.i32(k.range.start);
        self.longs(&k.offsets);
        self.stream(k.delegate.as_ref());
        if let Some(id) = &k.handle_id {
            self.utf(id);
        }
    }

    fn range(&mut self, r: KeyGroupRange) {
        self.i32(r.start);
        self.i32(r.count);
    }

    fn keyed(&mut self, h: Option<&KeyedHandle>) {
        let Some(h) = h else {
            return self.u8(NULL_HANDLE);
        };
        match h {
            KeyedHandle::KeyGroups(k) => {
                self.u8(match k.kind {
                    KeyGroupsKind::V1 => KEY_GROUPS_HANDLE,
                    KeyGroupsKind::V2 => KEY_GROUPS_HANDLE_V2,
                    KeyGroupsKind::Savepoint => SAVEPOINT_KEY_GROUPS_HANDLE,
                });
                self.key_groups_body(k);
            }
            KeyedHandle::Incremental(i) => {
                self.u8(if i.v2 {
                    INCREMENTAL_KEY_GROUPS_HANDLE_V2
                } else {
                    INCREMENTAL_KEY_GROUPS_HANDLE
                });
                self.i64(i.checkpoint_id);
                self.utf(&i.backend_id);
                self.range(i.range);
                if let Some(c) = i.checkpointed_size {
                    self.i64(c);
                }
                self.stream(i.meta.as_ref());
                for list in [&i.shared, &i.private] {
                    self.len(list.len());
                    for n in list {
                        self.utf(&n.local_path);
                        self.stream(n.handle.as_ref());
                    }
                }
                if let Some(id) = &i.handle_id {
                    self.utf(id);
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
                for list in [&c.materialized, &c.non_materialized] {
                    self.len(list.len());
                    for k in list {
                        self.keyed(k.as_ref());
                    }
                }
                if let Some(m) = c.materialization_id {
                    self.i64(m);
                }
                if let Some(id) = c.checkpoint_id {
                    self.i64(id);
                }
                if let Some(id) = &c.handle_id {
                    self.utf(id);
                }
            }
            KeyedHandle::ChangelogInMemory(c) => {
                self.u8(CHANGELOG_BYTE_INCREMENT_HANDLE);
                self.range(c.range);
                self.i64(c.from);
                self.i64(c.to);
                self.len(c.changes.len());
                for (kg, bytes) in &c.changes {
                    self.i32(*kg);
                    self.bytes(bytes);
                }
                if !self.dialect.changelog_1_14
                    && let Some(id) = &c.handle_id
                {
                    self.utf(id);
                }
            }
            KeyedHandle::ChangelogFile(c) => {
                self.u8(if c.v2 {
                    CHANGELOG_FILE_INCREMENT_HANDLE_V2
                } else {
                    CHANGELOG_FILE_INCREMENT_HANDLE
                });
                self.range(c.range);
                self.len(c.handles.len());
                for (offset, h) in &c.handles {
                    self.i64(*offset);
                    self.stream(h.as_ref());
                }
                self.i64(c.state_size);
                if let Some(s) = c.checkpointed_size {
                    self.i64(s);
                }
                if let Some(id) = &c.handle_id {
                    self.utf(id);
                }
                if let Some(id) = &c.storage_id {
                    self.utf(id);
                }
            }
        }
    }

    fn operator_handle(&mut self, h: Option<&OperatorHandle>) {
        let Some(h) = h else {
            return self.u8(NULL_HANDLE);
        };
        self.u8(if h.file_merging.is_some() {
            SEGMENT_PARTITIONABLE_OPERATOR_STATE_HANDLE
        } else {
            PARTITIONABLE_OPERATOR_STATE_HANDLE
        });
        self.len(h.states.len());
        for s in &h.states {
            self.utf(&s.name);
            self.u8(s.mode);
            self.longs(&s.offsets);
        }
        if let Some(f) = &h.file_merging {
            self.utf(&f.task_owned_dir);
            self.utf(&f.shared_dir);
            self.u8(f.is_empty);
        }
        self.stream(h.delegate.as_ref());
    }
}
