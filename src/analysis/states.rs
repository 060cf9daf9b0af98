//! State names and kinds per operator.
//!
//! Operator-state names come straight from `_metadata`. Keyed-state names
//! live only in the serialization proxy at the start of a state file (or of
//! inline bytes), so this reads a small prefix of one subtask's file per
//! operator through [`Storage::read_range`], growing it only when the proxy is
//! longer than the prefix.

use serde::Serialize;

use super::refs::FileKind;
use super::snapshot::Resolver;
use super::summary::subtask_states;
use crate::metadata::walk::{self, ChangelogList, Ctx, Part, Walk};
use crate::metadata::{
    self, CheckpointMetadata, ErrorKind, KeyedHandle, OperatorState, StreamHandle,
};
use crate::statemeta::{self, StateKind, StateMeta};
use crate::storage::{Location, Storage};

/// First read of a state file header; doubled up to [`MAX_PREFIX`] when needed.
const FIRST_PREFIX: u64 = 64 * 1024;
const MAX_PREFIX: u64 = 16 * 1024 * 1024;

/// One state of an operator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateInfo {
    /// State name.
    pub name: String,
    /// Keyed, operator, broadcast or timers.
    pub scope: StateScope,
    /// As read from the proxy, or the distribution mode from `_metadata`
    /// when the proxy was not read (mode 0 is `list`).
    pub kind: StateKind,
    /// Serializer snapshot classes by role (`VALUE_SERIALIZER` …), when known.
    pub serializers: Vec<(String, String)>,
    /// Found by the resync heuristic (an unknown serializer snapshot was skipped by scanning).
    pub heuristic: bool,
}

/// Where a state lives, which decides how it is redistributed on rescaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StateScope {
    /// Keyed state: split by key-group ranges.
    Keyed,
    /// Operator list or union list state.
    Operator,
    /// Broadcast state: copied to every subtask.
    Broadcast,
    /// Timers (priority queues).
    Timers,
    /// Not known (a job file names a state the snapshot does not have).
    Unknown,
}

impl StateScope {
    /// The scope a state of `kind` has.
    pub fn of(kind: StateKind) -> Self {
        match kind {
            StateKind::Broadcast => StateScope::Broadcast,
            StateKind::OperatorList | StateKind::OperatorUnion => StateScope::Operator,
            StateKind::PriorityQueue => StateScope::Timers,
            _ => StateScope::Keyed,
        }
    }

    /// The name in JSON and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            StateScope::Keyed => "keyed",
            StateScope::Operator => "operator",
            StateScope::Broadcast => "broadcast",
            StateScope::Timers => "timers",
            StateScope::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for StateScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// States of one operator, plus notes on what could not be read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OperatorStates {
    /// The states.
    pub states: Vec<StateInfo>,
    /// Why some names may be missing.
    pub notes: Vec<String>,
}

/// Where a proxy can be read from.
enum Source<'m> {
    Inline(&'m [u8]),
    File {
        location: Location,
        start: u64,
        limit: Option<u64>,
    },
}

/// Collects the states of every operator of `m` (in operator order), reading
/// up to `concurrency` operators' headers at once.
pub async fn collect(
    m: &CheckpointMetadata,
    resolver: Resolver<'_>,
    storage: &dyn Storage,
    concurrency: usize,
) -> Vec<OperatorStates> {
    use futures_util::StreamExt;
    futures_util::stream::iter(&m.operators)
        .map(|op| operator_states(op, resolver, storage))
        .buffered(concurrency.max(1))
        .collect()
        .await
}

async fn operator_states(
    op: &OperatorState,
    base: Resolver<'_>,
    storage: &dyn Storage,
) -> OperatorStates {
    let mut out = OperatorStates::default();
    keyed(op, base, storage, &mut out).await;
    operator(op, base, storage, &mut out).await;
    out
}

async fn keyed(
    op: &OperatorState,
    base: Resolver<'_>,
    storage: &dyn Storage,
    out: &mut OperatorStates,
) {
    let mut last_err = None;
    let mut saw_keyed = false;
    for s in subtask_states(op) {
        let Some(h) = &s.managed_keyed else { continue };
        saw_keyed = true;
        let src = match keyed_source(h, base) {
            Ok(Some(src)) => src,
            Err(e) => {
                last_err = Some(e);
                continue;
            }
            Ok(None) => {
                last_err = Some(
                    "keyed state not materialized yet (changelog only): names unknown".to_owned(),
                );
                continue;
            }
        };
        match read_proxy(&src, storage, statemeta::parse_keyed_proxy).await {
            Ok(p) => {
                out.states.extend(p.states.iter().map(info));
                return;
            }
            Err(e) => last_err = Some(e),
        }
    }
    if saw_keyed && let Some(e) = last_err {
        out.notes
            .push(format!("keyed state names unavailable: {e}"));
    }
}

async fn operator(
    op: &OperatorState,
    base: Resolver<'_>,
    storage: &dyn Storage,
    out: &mut OperatorStates,
) {
    // Names and modes from _metadata, in first-seen order.
    let mut names: Vec<(String, u8)> = Vec::new();
    let mut proxy_src = None;
    for s in subtask_states(op) {
        let Some(h) = &s.managed_operator else {
            continue;
        };
        for e in &h.states {
            if !names.iter().any(|(n, _)| n == e.name.as_str()) {
                names.push((e.name.to_string(), e.mode));
            }
        }
        if proxy_src.is_none() {
            proxy_src = first_source(h, base, |_| true).transpose();
        }
    }
    if names.is_empty() {
        return;
    }
    let proxy = match proxy_src {
        Some(Ok(src)) => Some(read_proxy(&src, storage, statemeta::parse_operator_proxy).await),
        Some(Err(e)) => Some(Err(e)),
        None => None,
    };
    let typed: Vec<StateMeta> = match &proxy {
        Some(Ok(p)) => p
            .states
            .iter()
            .chain(&p.broadcast_states)
            .cloned()
            .collect(),
        Some(Err(e)) => {
            out.notes
                .push(format!("operator state types unavailable: {e}"));
            Vec::new()
        }
        None => Vec::new(),
    };
    for (name, mode) in names {
        match typed.iter().find(|t| t.name == name) {
            Some(t) => out.states.push(info(t)),
            None => out.states.push(StateInfo {
                name,
                scope: if mode == 2 {
                    StateScope::Broadcast
                } else {
                    StateScope::Operator
                },
                kind: match mode {
                    0 => StateKind::List,
                    1 => StateKind::OperatorUnion,
                    _ => StateKind::Broadcast,
                },
                serializers: Vec::new(),
                heuristic: false,
            }),
        }
    }
}

fn info(s: &StateMeta) -> StateInfo {
    StateInfo {
        name: s.name.clone(),
        scope: StateScope::of(s.kind),
        kind: s.kind,
        serializers: s.serializers.clone(),
        heuristic: s.heuristic,
    }
}

type SourceResult<'m> = Result<Option<Source<'m>>, String>;

/// Where the keyed serialization proxy of `h` is: the first stream of a
/// key-groups handle, the meta file of an incremental handle, or either of
/// those in a changelog handle's materialized part (the non-materialized
/// change logs have no proxy).
fn keyed_source<'m>(h: &'m KeyedHandle, base: Resolver<'_>) -> SourceResult<'m> {
    first_source(h, base, |ctx| {
        matches!(ctx.part, Part::Data | Part::Meta)
            && ctx.changelog != Some(ChangelogList::NonMaterialized)
    })
}

/// The first leaf stream of `root` that `wanted` accepts and that names a
/// source (or fails to resolve).
fn first_source<'m, W: Walk + ?Sized>(
    root: &'m W,
    base: Resolver<'_>,
    wanted: impl Fn(&Ctx<'_>) -> bool,
) -> SourceResult<'m> {
    let mut found = Ok(None);
    walk::for_each_stream(root, |ctx, h| {
        if matches!(found, Ok(None)) && wanted(ctx) {
            found = stream_source(h, base);
        }
    });
    found
}

/// The source a leaf stream handle names (the walk reaches a key-groups
/// wrapper's delegate itself).
fn stream_source<'m>(h: &'m StreamHandle, base: Resolver<'_>) -> SourceResult<'m> {
    let file = |kind, path: &str, start, limit| {
        base.resolve(kind, path)
            .map(|location| {
                Some(Source::File {
                    location,
                    start,
                    limit,
                })
            })
            .map_err(|e| e.to_string())
    };
    match h {
        StreamHandle::ByteStream { data, .. } => Ok(Some(Source::Inline(data))),
        StreamHandle::File { path, .. } => file(FileKind::Absolute, path.as_str(), 0, None),
        StreamHandle::Relative { relative_path, .. } => {
            file(FileKind::Relative, relative_path.as_str(), 0, None)
        }
        StreamHandle::Segment {
            start,
            size,
            physical_path,
            ..
        } => match u64::try_from(*start) {
            Ok(start) => file(
                FileKind::Segment,
                physical_path.as_str(),
                start,
                u64::try_from(*size).ok(),
            ),
            Err(_) => Ok(None),
        },
        StreamHandle::KeyGroups(_) | StreamHandle::EmptySegment => Ok(None),
    }
}

/// Parses a proxy from `src`, reading a growing prefix of the file until the
/// parser no longer runs out of bytes.
async fn read_proxy<T>(
    src: &Source<'_>,
    storage: &dyn Storage,
    parse: fn(&[u8]) -> Result<T, metadata::Error>,
) -> Result<T, String> {
    match src {
        Source::Inline(bytes) => parse(bytes).map_err(|e| format!("inline state: {e}")),
        Source::File {
            location,
            start,
            limit,
        } => {
            let mut len = FIRST_PREFIX.min(limit.unwrap_or(u64::MAX));
            loop {
                let bytes = storage
                    .read_range(location, *start, len)
                    .await
                    .map_err(|e| e.to_string())?;
                match parse(&bytes) {
                    Ok(v) => return Ok(v),
                    Err(e)
                        if matches!(e.kind, ErrorKind::UnexpectedEof { .. })
                            && bytes.len() as u64 == len
                            && len < MAX_PREFIX
                            && limit.is_none_or(|l| len < l) =>
                    {
                        len = (len * 4).min(MAX_PREFIX).min(limit.unwrap_or(u64::MAX));
                    }
                    Err(e) => return Err(format!("{location}: {e}")),
                }
            }
        }
    }
}
