//! One traversal of the handle tree of a [`CheckpointMetadata`], in a shared
//! ([`walk`], [`for_each_stream`]) and a mutable ([`walk_mut`],
//! [`for_each_stream_mut`]) form generated from the same code, so both reach
//! exactly the same handles in the same order.
//!
//! The walk is pre-order and in file order: an operator, its coordinator
//! state, then each subtask with a state (legacy handles, managed and raw
//! operator state, managed and raw keyed state, input channels, result
//! subpartitions), each handle before what it contains. Every node comes with a
//! [`Ctx`] saying where it sits. Key-groups handles used as stream handles
//! (tag 3) are nodes too; [`for_each_stream`] skips them and reaches their
//! delegates, so it sees every *leaf* stream handle: the ones that name a file,
//! a segment or inline bytes.
//!
//! Paths live in leaf stream handles (`File.path`, `Relative.relative_path`,
//! `Segment.physical_path`) and in [`FileMergingDirs`] (a [`NodeMut::FileMergingDirs`]
//! node), so a relocation that rewrites paths can be written once on
//! [`walk_mut`] and reaches every path a reader of the shared walk sees.
//!
//! Any node type can be the root ([`Walk`]); below an operator the context
//! has no operator id and operator index 0.

use std::fmt;

use super::jstring::JavaString;
use super::model::*;

/// The slot of an operator or subtask a handle sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    /// `OperatorState.coordinator_state`.
    Coordinator,
    /// V2 `SubtaskState.v2_legacy.legacy_operator_state`.
    Legacy,
    /// `SubtaskState.managed_operator`.
    ManagedOperator,
    /// `SubtaskState.raw_operator`.
    RawOperator,
    /// `SubtaskState.managed_keyed`.
    ManagedKeyed,
    /// `SubtaskState.raw_keyed`.
    RawKeyed,
    /// `SubtaskState.input_channels`.
    InputChannel,
    /// `SubtaskState.result_subpartitions`.
    ResultSubpartition,
}

impl Slot {
    /// The model's field name (as in parse error paths).
    pub fn field(self) -> &'static str {
        match self {
            Slot::Coordinator => "coordinator_state",
            Slot::Legacy => "legacy_operator_state",
            Slot::ManagedOperator => "managed_operator",
            Slot::RawOperator => "raw_operator",
            Slot::ManagedKeyed => "managed_keyed",
            Slot::RawKeyed => "raw_keyed",
            Slot::InputChannel => "input_channels",
            Slot::ResultSubpartition => "result_subpartitions",
        }
    }
}

/// Which part of a keyed handle a node belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Part {
    /// The data stream (key-groups, operator and channel delegates), or not inside a part.
    #[default]
    Data,
    /// `IncrementalHandle.meta`.
    Meta,
    /// `IncrementalHandle.shared`.
    Shared,
    /// `IncrementalHandle.private`.
    Private,
    /// `ChangelogFileHandle.handles`.
    Changelog,
}

/// Which list of a changelog handle (tags 8/14) a node is nested in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangelogList {
    /// `ChangelogHandle.materialized` (every enclosing changelog list is this one).
    Materialized,
    /// `ChangelogHandle.non_materialized` (at some level of nesting).
    NonMaterialized,
}

/// Where a node sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ctx<'a> {
    /// Index into `CheckpointMetadata::operators` (0 below an operator root).
    pub operator: usize,
    /// The operator's id (`None` when the walk started below an operator).
    pub operator_id: Option<OperatorId>,
    /// Position in the operator's subtask list (`None` outside subtasks).
    pub entry: Option<usize>,
    /// The subtask index as written (`None` outside subtasks).
    pub subtask: Option<i32>,
    /// The slot (`None` for operator and subtask nodes, and below a handle root).
    pub slot: Option<Slot>,
    /// Position in the slot's list (channels, legacy handles).
    pub item: Option<usize>,
    /// Part of an enclosing keyed handle.
    pub part: Part,
    /// Position in the part's list (`shared`, `private`, changelog `handles`).
    pub part_item: Option<usize>,
    /// RocksDB local file name of a `shared`/`private` entry.
    pub local_path: Option<&'a JavaString>,
    /// The enclosing changelog list, if any.
    pub changelog: Option<ChangelogList>,
}

/// Renders the location as a field path, `operators[3].subtasks[1].managed_keyed.shared[2]`
/// (handles nested in changelog lists are not itemised).
impl fmt::Display for Ctx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "operators[{}]", self.operator)?;
        if let Some(e) = self.entry {
            write!(f, ".subtasks[{e}]")?;
        }
        if let Some(s) = self.slot {
            write!(f, ".{}", s.field())?;
        }
        if let Some(i) = self.item {
            write!(f, "[{i}]")?;
        }
        match self.changelog {
            Some(ChangelogList::Materialized) => f.write_str(".materialized")?,
            Some(ChangelogList::NonMaterialized) => f.write_str(".non_materialized")?,
            None => {}
        }
        let part = match self.part {
            Part::Data => None,
            Part::Meta => Some("meta"),
            Part::Shared => Some("shared"),
            Part::Private => Some("private"),
            Part::Changelog => Some("handles"),
        };
        if let Some(p) = part {
            write!(f, ".{p}")?;
        }
        if let Some(i) = self.part_item {
            write!(f, "[{i}]")?;
        }
        Ok(())
    }
}

impl<'a> Ctx<'a> {
    fn with_slot(&self, slot: Slot, item: Option<usize>) -> Ctx<'a> {
        Ctx {
            slot: Some(slot),
            item,
            ..*self
        }
    }

    fn with_part(&self, part: Part, part_item: Option<usize>) -> Ctx<'a> {
        Ctx {
            part,
            part_item,
            local_path: None,
            ..*self
        }
    }

    fn within_changelog(&self, list: ChangelogList) -> Ctx<'a> {
        let changelog = match self.changelog {
            Some(ChangelogList::NonMaterialized) => Some(ChangelogList::NonMaterialized),
            _ => Some(list),
        };
        Ctx {
            changelog,
            part: Part::Data,
            part_item: None,
            local_path: None,
            ..*self
        }
    }
}

/// A root the walk can start from: the whole metadata or any node below it.
pub trait Walk {
    /// Calls `f` for `self` (unless it is the metadata) and every node below it.
    fn walk_with<'m>(&'m self, ctx: &Ctx<'m>, f: &mut dyn FnMut(&Ctx<'m>, Node<'m>));
    /// The mutable form of [`walk_with`](Self::walk_with).
    fn walk_mut_with(&mut self, ctx: &Ctx<'_>, f: &mut dyn FnMut(&Ctx<'_>, NodeMut<'_>));
}

/// Calls `f` for every node of `root`, pre-order and in file order.
pub fn walk<'m, W: Walk + ?Sized>(root: &'m W, mut f: impl FnMut(&Ctx<'m>, Node<'m>)) {
    root.walk_with(&Ctx::default(), &mut f);
}

/// Calls `f` for every node of `root` with mutable access, in the order of [`walk`].
pub fn walk_mut<W: Walk + ?Sized>(root: &mut W, mut f: impl FnMut(&Ctx<'_>, NodeMut<'_>)) {
    root.walk_mut_with(&Ctx::default(), &mut f);
}

/// Calls `f` for every leaf stream handle of `root` (every stream handle but
/// key-groups wrappers, whose delegates are reached), in file order.
pub fn for_each_stream<'m, W: Walk + ?Sized>(
    root: &'m W,
    mut f: impl FnMut(&Ctx<'m>, &'m StreamHandle),
) {
    walk(root, |ctx, node| {
        if let Node::Stream(h) = node
            && !matches!(h, StreamHandle::KeyGroups(_))
        {
            f(ctx, h);
        }
    });
}

/// The mutable form of [`for_each_stream`]: the same handles in the same order.
pub fn for_each_stream_mut<W: Walk + ?Sized>(
    root: &mut W,
    mut f: impl FnMut(&Ctx<'_>, &mut StreamHandle),
) {
    walk_mut(root, |ctx, node| {
        if let NodeMut::Stream(h) = node
            && !matches!(h, StreamHandle::KeyGroups(_))
        {
            f(ctx, h);
        }
    });
}

/// Generates the node enum and the traversal once per mutability.
macro_rules! walker {
    ($Node:ident, $doc:literal, $m:lifetime, $cb:lifetime $(, $mut_:ident)?) => {
        #[doc = $doc]
        #[derive(Debug)]
        pub enum $Node<'a> {
            /// An operator (then its coordinator state and subtasks).
            Operator(&'a $($mut_)? OperatorState),
            /// A subtask's state (`Ctx::subtask` is its index).
            Subtask(&'a $($mut_)? SubtaskState),
            /// An operator state handle (tags 4, 17), then its directories and delegate.
            OperatorHandle(&'a $($mut_)? OperatorHandle),
            /// The directories of a file-merging operator handle (tag 17).
            FileMergingDirs(&'a $($mut_)? FileMergingDirs),
            /// A keyed state handle, then what it contains.
            Keyed(&'a $($mut_)? KeyedHandle),
            /// A channel state handle, then its delegate.
            Channel(&'a $($mut_)? ChannelHandle),
            /// A stream handle; a key-groups wrapper (tag 3) is followed by its delegate.
            Stream(&'a $($mut_)? StreamHandle),
        }

        pub(super) fn metadata<$m>(
            this: &$m $($mut_)? CheckpointMetadata,
            ctx: &Ctx<$cb>,
            f: &mut dyn FnMut(&Ctx<$cb>, $Node<$cb>),
        ) {
                for (i, op) in (& $($mut_)? this.operators).into_iter().enumerate() {
                    let c = Ctx {
                        operator: i,
                        operator_id: Some(op.id),
                        ..*ctx
                    };
                    operator(op, &c, f);
                }
        }

        pub(super) fn operator<$m>(
            this: &$m $($mut_)? OperatorState,
            ctx: &Ctx<$cb>,
            f: &mut dyn FnMut(&Ctx<$cb>, $Node<$cb>),
        ) {
                f(ctx, $Node::Operator(& $($mut_)? *this));
                if let Some(h) = & $($mut_)? this.coordinator_state {
                    stream(h, &ctx.with_slot(Slot::Coordinator, None), f);
                }
                let Subtasks::List { entries } = & $($mut_)? this.subtasks else {
                    return;
                };
                for (pos, e) in entries.into_iter().enumerate() {
                    if let SubtaskEntry::State { index, state } = e {
                        let c = Ctx {
                            entry: Some(pos),
                            subtask: Some(*index),
                            ..*ctx
                        };
                        subtask(& $($mut_)? **state, &c, f);
                    }
                }
        }

        pub(super) fn subtask<$m>(
            this: &$m $($mut_)? SubtaskState,
            ctx: &Ctx<$cb>,
            f: &mut dyn FnMut(&Ctx<$cb>, $Node<$cb>),
        ) {
                f(ctx, $Node::Subtask(& $($mut_)? *this));
                if let Some(l) = & $($mut_)? this.v2_legacy {
                    for (i, h) in (& $($mut_)? l.legacy_operator_state).into_iter().enumerate() {
                        if let Some(h) = h {
                            stream(h, &ctx.with_slot(Slot::Legacy, Some(i)), f);
                        }
                    }
                }
                if let Some(h) = & $($mut_)? this.managed_operator {
                    operator_handle(h, &ctx.with_slot(Slot::ManagedOperator, None), f);
                }
                if let Some(h) = & $($mut_)? this.raw_operator {
                    operator_handle(h, &ctx.with_slot(Slot::RawOperator, None), f);
                }
                if let Some(h) = & $($mut_)? this.managed_keyed {
                    keyed(h, &ctx.with_slot(Slot::ManagedKeyed, None), f);
                }
                if let Some(h) = & $($mut_)? this.raw_keyed {
                    keyed(h, &ctx.with_slot(Slot::RawKeyed, None), f);
                }
                for (i, c) in (& $($mut_)? this.input_channels).into_iter().enumerate() {
                    channel(c, &ctx.with_slot(Slot::InputChannel, Some(i)), f);
                }
                for (i, c) in (& $($mut_)? this.result_subpartitions).into_iter().enumerate() {
                    channel(c, &ctx.with_slot(Slot::ResultSubpartition, Some(i)), f);
                }
        }

        pub(super) fn operator_handle<$m>(
            this: &$m $($mut_)? OperatorHandle,
            ctx: &Ctx<$cb>,
            f: &mut dyn FnMut(&Ctx<$cb>, $Node<$cb>),
        ) {
                f(ctx, $Node::OperatorHandle(& $($mut_)? *this));
                if let Some(d) = & $($mut_)? this.file_merging {
                    f(ctx, $Node::FileMergingDirs(d));
                }
                if let Some(d) = & $($mut_)? this.delegate {
                    stream(d, ctx, f);
                }
        }

        pub(super) fn channel<$m>(
            this: &$m $($mut_)? ChannelHandle,
            ctx: &Ctx<$cb>,
            f: &mut dyn FnMut(&Ctx<$cb>, $Node<$cb>),
        ) {
                f(ctx, $Node::Channel(& $($mut_)? *this));
                let delegate = match & $($mut_)? this.body {
                    ChannelBody::Single { delegate, .. } | ChannelBody::Merged { delegate, .. } => {
                        delegate
                    }
                };
                if let Some(d) = delegate {
                    stream(d, ctx, f);
                }
        }

        pub(super) fn keyed<$m>(
            this: &$m $($mut_)? KeyedHandle,
            ctx: &Ctx<$cb>,
            f: &mut dyn FnMut(&Ctx<$cb>, $Node<$cb>),
        ) {
                f(ctx, $Node::Keyed(& $($mut_)? *this));
                match this {
                    KeyedHandle::KeyGroups(k) => {
                        if let Some(d) = & $($mut_)? k.delegate {
                            stream(d, ctx, f);
                        }
                    }
                    KeyedHandle::Incremental(i) => {
                        if let Some(m) = & $($mut_)? i.meta {
                            stream(m, &ctx.with_part(Part::Meta, None), f);
                        }
                        for (list, part) in [(& $($mut_)? i.shared, Part::Shared), (& $($mut_)? i.private, Part::Private)] {
                            for (pos, n) in list.into_iter().enumerate() {
                                let c = Ctx {
                                    local_path: Some(&n.local_path),
                                    ..ctx.with_part(part, Some(pos))
                                };
                                if let Some(h) = & $($mut_)? n.handle {
                                    stream(h, &c, f);
                                }
                            }
                        }
                    }
                    KeyedHandle::Changelog(c) => {
                        for (list, which) in [
                            (& $($mut_)? c.materialized, ChangelogList::Materialized),
                            (& $($mut_)? c.non_materialized, ChangelogList::NonMaterialized),
                        ] {
                            let inner = ctx.within_changelog(which);
                            for k in list.into_iter().flatten() {
                                keyed(k, &inner, f);
                            }
                        }
                    }
                    KeyedHandle::ChangelogInMemory(_) => {}
                    KeyedHandle::ChangelogFile(c) => {
                        for (pos, (_, h)) in (& $($mut_)? c.handles).into_iter().enumerate() {
                            if let Some(h) = h {
                                stream(h, &ctx.with_part(Part::Changelog, Some(pos)), f);
                            }
                        }
                    }
                }
        }

        pub(super) fn stream<$m>(
            this: &$m $($mut_)? StreamHandle,
            ctx: &Ctx<$cb>,
            f: &mut dyn FnMut(&Ctx<$cb>, $Node<$cb>),
        ) {
                f(ctx, $Node::Stream(& $($mut_)? *this));
                if let StreamHandle::KeyGroups(k) = this
                    && let Some(d) = & $($mut_)? k.delegate
                {
                    stream(d, ctx, f);
                }
        }
    };
}

mod shared {
    use super::*;
    walker!(Node, "A node reached by [`walk`](super::walk).", 'm, 'm);
}

mod exclusive {
    use super::*;
    walker!(
        NodeMut,
        "A node reached by [`walk_mut`](super::walk_mut).",
        'm,
        '_,
        mut
    );
}

pub use exclusive::NodeMut;
pub use shared::Node;

impl Walk for CheckpointMetadata {
    fn walk_with<'m>(&'m self, ctx: &Ctx<'m>, f: &mut dyn FnMut(&Ctx<'m>, Node<'m>)) {
        shared::metadata(self, ctx, f);
    }
    fn walk_mut_with(&mut self, ctx: &Ctx<'_>, f: &mut dyn FnMut(&Ctx<'_>, NodeMut<'_>)) {
        exclusive::metadata(self, ctx, f);
    }
}

impl Walk for OperatorState {
    fn walk_with<'m>(&'m self, ctx: &Ctx<'m>, f: &mut dyn FnMut(&Ctx<'m>, Node<'m>)) {
        shared::operator(self, ctx, f);
    }
    fn walk_mut_with(&mut self, ctx: &Ctx<'_>, f: &mut dyn FnMut(&Ctx<'_>, NodeMut<'_>)) {
        exclusive::operator(self, ctx, f);
    }
}

impl Walk for SubtaskState {
    fn walk_with<'m>(&'m self, ctx: &Ctx<'m>, f: &mut dyn FnMut(&Ctx<'m>, Node<'m>)) {
        shared::subtask(self, ctx, f);
    }
    fn walk_mut_with(&mut self, ctx: &Ctx<'_>, f: &mut dyn FnMut(&Ctx<'_>, NodeMut<'_>)) {
        exclusive::subtask(self, ctx, f);
    }
}

impl Walk for OperatorHandle {
    fn walk_with<'m>(&'m self, ctx: &Ctx<'m>, f: &mut dyn FnMut(&Ctx<'m>, Node<'m>)) {
        shared::operator_handle(self, ctx, f);
    }
    fn walk_mut_with(&mut self, ctx: &Ctx<'_>, f: &mut dyn FnMut(&Ctx<'_>, NodeMut<'_>)) {
        exclusive::operator_handle(self, ctx, f);
    }
}

impl Walk for ChannelHandle {
    fn walk_with<'m>(&'m self, ctx: &Ctx<'m>, f: &mut dyn FnMut(&Ctx<'m>, Node<'m>)) {
        shared::channel(self, ctx, f);
    }
    fn walk_mut_with(&mut self, ctx: &Ctx<'_>, f: &mut dyn FnMut(&Ctx<'_>, NodeMut<'_>)) {
        exclusive::channel(self, ctx, f);
    }
}

impl Walk for KeyedHandle {
    fn walk_with<'m>(&'m self, ctx: &Ctx<'m>, f: &mut dyn FnMut(&Ctx<'m>, Node<'m>)) {
        shared::keyed(self, ctx, f);
    }
    fn walk_mut_with(&mut self, ctx: &Ctx<'_>, f: &mut dyn FnMut(&Ctx<'_>, NodeMut<'_>)) {
        exclusive::keyed(self, ctx, f);
    }
}

impl Walk for StreamHandle {
    fn walk_with<'m>(&'m self, ctx: &Ctx<'m>, f: &mut dyn FnMut(&Ctx<'m>, Node<'m>)) {
        shared::stream(self, ctx, f);
    }
    fn walk_mut_with(&mut self, ctx: &Ctx<'_>, f: &mut dyn FnMut(&Ctx<'_>, NodeMut<'_>)) {
        exclusive::stream(self, ctx, f);
    }
}
