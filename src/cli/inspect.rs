//! `flink-chk inspect`: what a checkpoint or savepoint holds.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use super::output::{self, BOLD, DIM};
use crate::analysis::refs::FileKind;
use crate::analysis::refs::{self, Ref};
use crate::analysis::snapshot::{self, Rebase, Resolver};
use crate::analysis::states::{self, OperatorStates};
use crate::analysis::{size, summary};
use crate::metadata::{
    self, CheckpointMetadata, CheckpointProperties, OperatorState, SnapshotType,
};
use crate::storage::Location;

use super::context::{Ctx, Global};
use super::exit::Exit;

/// Show what a checkpoint or savepoint holds: format version, checkpoint id,
/// kind, and per operator its id, uid, name, parallelism, state size and
/// handle kinds.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// A `_metadata` file or the directory holding it (`chk-N/`,
    /// `savepoint-…/`) as a path or URI, a job (its latest completed
    /// checkpoint), or a profile reference: `orders@latest`, `orders@chk-42`,
    /// a savepoint name.
    #[arg(value_name = "SNAPSHOT", add = clap_complete::engine::ArgValueCompleter::new(super::dynamic::targets))]
    snapshot: String,
    /// Also list each operator's state names and kinds (reads the headers of
    /// state files; operator-state names come from `_metadata` itself).
    #[arg(long)]
    states: bool,
    /// Also list every referenced file (resolved location, size recorded in
    /// the handle, handle kind, operator and subtask).
    #[arg(long)]
    files: bool,
    /// A file of uids (one per line) to name operators whose metadata carries
    /// no uid (files written before Flink 2.0).
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    uids: Option<PathBuf>,
    /// Rewrite absolute paths starting with FROM to start with TO (for
    /// snapshots moved since they were written). Repeatable.
    #[arg(long, value_name = "FROM=TO")]
    rebase: Vec<String>,
    /// Print JSON (the full parsed model plus derived fields) instead of tables.
    #[arg(long)]
    json: bool,
}

/// A loaded snapshot: where it is and what it says.
struct Loaded {
    metadata_path: Location,
    /// Directory holding `_metadata` (relative handles resolve against it).
    base: Location,
    metadata: CheckpointMetadata,
    file_size: u64,
}

fn load(ctx: &Ctx, arg: &str) -> Result<Loaded> {
    let loc = ctx.snapshot(arg)?;
    let s = ctx.block_on(snapshot::load(ctx.storages.as_ref(), &loc))?;
    Ok(Loaded {
        metadata_path: s.metadata_location,
        base: s.dir,
        metadata: s.metadata,
        file_size: s.metadata_size,
    })
}

fn read_uids(path: &Path) -> Result<HashMap<metadata::OperatorId, String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading uid list {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|u| (crate::uid::operator_id(u), u.to_owned()))
        .collect())
}

/// uids that name operators whose metadata carries none: a `--uids` file,
/// then the profile's uid list for the snapshot's job.
pub(super) fn uid_names(
    ctx: &Ctx,
    metadata_path: &Location,
    file: Option<&Path>,
) -> Result<HashMap<metadata::OperatorId, String>> {
    let mut uids = match file {
        Some(p) => read_uids(p)?,
        None => HashMap::new(),
    };
    let Some((_, p)) = &ctx.profile else {
        return Ok(uids);
    };
    let job_uids: &[String] = match crate::analysis::layout::area(metadata_path) {
        crate::analysis::layout::Area::Checkpoint { job, .. } => p.uids(&job),
        // The profile's one job that the savepoint's name points to.
        crate::analysis::layout::Area::Savepoint { name } => p.uids_of_savepoint(&name),
        _ => &[],
    };
    for u in job_uids {
        uids.entry(crate::uid::operator_id(u))
            .or_insert_with(|| u.clone());
    }
    Ok(uids)
}

struct OpView<'m> {
    op: &'m OperatorState,
    uid: Option<(String, &'static str)>,
    name: Option<String>,
    state_size: i64,
    coordinator_size: Option<i64>,
}

fn op_views<'m>(
    m: &'m CheckpointMetadata,
    uids: &HashMap<metadata::OperatorId, String>,
) -> Vec<OpView<'m>> {
    m.operators
        .iter()
        .map(|op| {
            let from_meta = op
                .uid
                .as_ref()
                .filter(|u| !u.is_empty())
                .map(|u| (u.to_string(), "metadata"));
            let uid = from_meta.or_else(|| uids.get(&op.id).map(|u| (u.clone(), "uids-file")));
            OpView {
                op,
                uid,
                name: op
                    .name
                    .as_ref()
                    .filter(|n| !n.is_empty())
                    .map(|n| n.to_string()),
                state_size: size::operator(op),
                coordinator_size: op.coordinator_state.as_ref().map(size::stream),
            }
        })
        .collect()
}

/// Runs the command.
pub fn run(args: InspectArgs, global: &Global) -> Result<Exit> {
    let ctx = Ctx::new(global)?;
    let loaded = load(&ctx, &args.snapshot)?;
    let uids = uid_names(&ctx, &loaded.metadata_path, args.uids.as_deref())?;
    let rules = Rebase::parse(&args.rebase)?;
    let m = &loaded.metadata;
    let views = op_views(m, &uids);
    let kind = summary::snapshot_kind(m, &loaded.metadata_path.to_string());
    let refs = refs::collect(m);
    let resolver = Resolver {
        dir: &loaded.base,
        rebase: &rules,
    };
    // Paths as Flink wrote them, unless resolving changes them (relative
    // savepoint paths, --rebase).
    let resolve = |kind, path: &str| {
        if kind != FileKind::Relative && rules.is_empty() {
            return path.to_owned();
        }
        resolver
            .resolve(kind, path)
            .map_or_else(|_| path.to_owned(), |l| l.to_string())
    };
    let op_states: Option<Vec<OperatorStates>> = args.states.then(|| {
        let storage = ctx.storages.as_ref();
        ctx.block_on(states::collect(m, resolver, storage, ctx.concurrency()))
    });

    let mut out = anstream::stdout();
    if args.json {
        let v = to_json(
            &loaded,
            &views,
            kind,
            &refs,
            &resolve,
            op_states.as_deref(),
            args.files,
        );
        output::print_json(&mut out, &v)?;
        return Ok(Exit::Ok);
    }

    let (file_count, file_bytes, inline_count, inline_bytes) = totals(&refs);
    writeln!(out, "{BOLD}{}{BOLD:#}", loaded.metadata_path)?;
    writeln!(
        out,
        "  format      version {} ({})",
        m.version,
        writers(m.version)
    )?;
    writeln!(out, "  checkpoint  {}", m.checkpoint_id)?;
    writeln!(out, "  kind        {}{}", kind.label(), kind_detail(m))?;
    let total = size::sum(views.iter().map(|v| v.state_size));
    writeln!(
        out,
        "  operators   {} ({} with state)",
        views.len(),
        views.iter().filter(|v| v.state_size > 0).count()
    )?;
    writeln!(
        out,
        "  state       {} in {} file references ({}) + {} inline in {} handles ({})",
        output::bytes(total),
        file_count,
        output::bytes(file_bytes),
        output::bytes(inline_bytes as i64),
        inline_count,
        output::bytes(loaded.file_size as i64).to_owned() + " _metadata",
    )?;
    if !m.master_states.is_empty() {
        writeln!(
            out,
            "  master      {} master-hook state(s)",
            m.master_states.len()
        )?;
    }
    if views
        .iter()
        .any(|v| summary::handle_kinds(v.op).contains("legacy"))
    {
        output::warn(
            "this snapshot holds Flink <= 1.1 'Checkpointed' legacy operator state (handle kind \"legacy\"); \
             Flink 1.11 and later refuse to restore it",
        );
    }
    if !m.trailing.is_empty() {
        output::warn(&format!(
            "{}: {} unexpected bytes after the end of the metadata (ignored, as Flink does)",
            loaded.metadata_path,
            m.trailing.len()
        ));
    }
    writeln!(out)?;
    let mut t = output::table([
        "OPERATOR ID",
        "UID",
        "NAME",
        "PARALLELISM",
        "MAX PARALLELISM",
        "STATE SIZE",
        "HANDLES",
        "COORDINATOR",
        "FINISHED",
    ]);
    for v in &views {
        t.add_row([
            v.op.id.to_hex(),
            v.uid
                .as_ref()
                .map_or_else(|| "-".into(), |(u, _)| u.clone()),
            v.name.clone().unwrap_or_else(|| "-".into()),
            v.op.parallelism.to_string(),
            v.op.max_parallelism.to_string(),
            output::bytes(v.state_size),
            join(summary::handle_kinds(v.op)),
            v.coordinator_size.map_or_else(|| "-".into(), output::bytes),
            finished_label(summary::finished(v.op)).into(),
        ]);
    }
    output::write_table(&mut out, &t)?;

    if let Some(states) = &op_states {
        writeln!(out, "\n{BOLD}States{BOLD:#}")?;
        for (v, s) in views.iter().zip(states) {
            if s.states.is_empty() && s.notes.is_empty() {
                continue;
            }
            let label = v
                .uid
                .as_ref()
                .map_or_else(|| v.op.id.to_hex(), |(u, _)| format!("{u} ({})", v.op.id));
            writeln!(out, "  {label}")?;
            for st in &s.states {
                let heur = if st.heuristic { " (heuristic)" } else { "" };
                writeln!(
                    out,
                    "    {:<9} {:<14} {}{DIM}{heur}{DIM:#}",
                    st.scope, st.kind, st.name
                )?;
            }
            for n in &s.notes {
                writeln!(out, "    {DIM}note: {n}{DIM:#}")?;
            }
        }
        if states
            .iter()
            .flat_map(|s| &s.notes)
            .any(|n| n.contains("not found"))
            && rules.is_empty()
        {
            output::hint(
                "state files are missing where _metadata says they are; if the snapshot was moved since Flink wrote it, map the old location with --rebase FROM=TO",
            );
        }
    }

    if args.files {
        writeln!(out, "\n{BOLD}Files{BOLD:#}")?;
        let mut t = output::table(["PATH", "SIZE", "HANDLE", "OPERATOR", "SUBTASK", "ROLE"]);
        for r in &refs {
            if let Ref::File {
                origin,
                kind,
                path,
                size,
                start,
            } = r
            {
                let v = views.get(origin.operator);
                let op = v
                    .and_then(|v| v.uid.as_ref().map(|(u, _)| u.clone()))
                    .unwrap_or_else(|| v.map(|v| v.op.id.to_hex()).unwrap_or_default());
                let handle = match (kind, start) {
                    (refs::FileKind::Segment, Some(s)) => format!("segment@{s}"),
                    (k, _) => format!("{k:?}").to_lowercase(),
                };
                t.add_row([
                    resolve(*kind, path),
                    output::bytes(*size),
                    handle,
                    op,
                    origin.subtask.map_or_else(|| "-".into(), |s| s.to_string()),
                    role_label(origin),
                ]);
            }
        }
        output::write_table(&mut out, &t)?;
        writeln!(
            out,
            "  + {inline_count} inline handles, {} stored in _metadata",
            output::bytes(inline_bytes as i64)
        )?;
    }
    Ok(Exit::Ok)
}

fn totals(refs: &[Ref<'_>]) -> (usize, i64, usize, u64) {
    let (mut fc, mut fb, mut ic, mut ib) = (0, 0i64, 0, 0u64);
    for r in refs {
        match r {
            Ref::File { size, .. } => {
                fc += 1;
                fb = fb.saturating_add((*size).max(0));
            }
            Ref::Inline { size, .. } => {
                ic += 1;
                ib = ib.saturating_add(*size);
            }
        }
    }
    (fc, fb, ic, ib)
}

fn role_label(o: &refs::Origin<'_>) -> String {
    let part = match o.part {
        refs::Part::Data => String::new(),
        p => format!("/{}", format!("{p:?}").to_lowercase()),
    };
    let local = o.local_path.map(|l| format!(" ({l})")).unwrap_or_default();
    format!("{}{part}{local}", o.role.as_str())
}

fn join(kinds: std::collections::BTreeSet<&'static str>) -> String {
    if kinds.is_empty() {
        "-".into()
    } else {
        kinds.into_iter().collect::<Vec<_>>().join(",")
    }
}

fn finished_label(f: summary::Finished) -> &'static str {
    match f {
        summary::Finished::No => "no",
        summary::Finished::Partially => "partially",
        summary::Finished::Fully => "fully",
    }
}

fn writers(version: u32) -> &'static str {
    match version {
        2 => "Flink 1.3 – 1.10",
        3 => "Flink 1.11 – 1.15",
        4 => "Flink 1.16 – 1.20",
        5 => "Flink 2.0",
        _ => "Flink 2.1+",
    }
}

fn kind_detail(m: &CheckpointMetadata) -> String {
    match m.properties.as_ref().map(|p| p.decoded.as_ref()) {
        None => " (inferred: format versions before 4 do not record the kind)".into(),
        Some(None) => " (properties are null: written by the State Processor API)".into(),
        Some(Some(p)) => match &p.snapshot_type {
            SnapshotType::Checkpoint { name, sharing } => format!(" ({name}, sharing {sharing})"),
            SnapshotType::Savepoint {
                name, post_action, ..
            } => format!(" ({name}, then {post_action})"),
            SnapshotType::Other { name } => format!(" ({name})"),
        },
    }
}

/// `inspect --json`.
#[derive(Serialize)]
struct Report<'a> {
    path: String,
    metadata_version: u32,
    checkpoint_id: i64,
    kind: summary::SnapshotKind,
    properties: Option<&'a CheckpointProperties>,
    operators: Vec<OperatorJson<'a>>,
    totals: Totals,
    trailing_bytes: usize,
    model: &'a CheckpointMetadata,
    /// With `--files`.
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<Vec<FileJson<'a>>>,
    /// With `--files`.
    #[serde(skip_serializing_if = "Option::is_none")]
    inline: Option<Vec<InlineJson<'a>>>,
}

/// One operator of [`Report`].
#[derive(Serialize)]
struct OperatorJson<'a> {
    id: String,
    uid: Option<&'a str>,
    uid_source: Option<&'static str>,
    name: Option<&'a str>,
    parallelism: i32,
    max_parallelism: i32,
    state_size: i64,
    coordinator_state_size: Option<i64>,
    finished: summary::Finished,
    handle_kinds: std::collections::BTreeSet<&'static str>,
    subtasks: usize,
    /// With `--states`.
    #[serde(skip_serializing_if = "Option::is_none")]
    states: Option<&'a [states::StateInfo]>,
    /// With `--states`.
    #[serde(skip_serializing_if = "Option::is_none")]
    state_notes: Option<&'a [String]>,
}

/// [`Report::totals`].
#[derive(Serialize)]
struct Totals {
    operators: usize,
    state_size: i64,
    file_references: usize,
    file_bytes: i64,
    inline_handles: usize,
    inline_bytes: u64,
    metadata_bytes: u64,
}

/// One referenced file (`--files`).
#[derive(Serialize)]
struct FileJson<'a> {
    /// Resolved (relative paths, `--rebase`).
    path: String,
    /// As `_metadata` records it.
    stored_path: &'a str,
    size: i64,
    handle: FileKind,
    start: Option<i64>,
    operator: Option<String>,
    subtask: Option<i32>,
    role: refs::Role,
    part: refs::Part,
    local_path: Option<&'a str>,
}

/// One inline handle (`--files`).
#[derive(Serialize)]
struct InlineJson<'a> {
    name: &'a str,
    size: u64,
    operator: Option<String>,
    subtask: Option<i32>,
    role: refs::Role,
    part: refs::Part,
}

fn to_json<'a>(
    l: &'a Loaded,
    views: &'a [OpView<'a>],
    kind: summary::SnapshotKind,
    refs: &[Ref<'a>],
    resolve: &dyn Fn(refs::FileKind, &str) -> String,
    states: Option<&'a [OperatorStates]>,
    with_files: bool,
) -> Report<'a> {
    let m = &l.metadata;
    let (fc, fb, ic, ib) = totals(refs);
    let op_id = |i: usize| views.get(i).map(|v| v.op.id.to_hex());
    let operators = views
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let s = states.and_then(|s| s.get(i));
            OperatorJson {
                id: v.op.id.to_hex(),
                uid: v.uid.as_ref().map(|(u, _)| u.as_str()),
                uid_source: v.uid.as_ref().map(|(_, s)| *s),
                name: v.name.as_deref(),
                parallelism: v.op.parallelism,
                max_parallelism: v.op.max_parallelism,
                state_size: v.state_size,
                coordinator_state_size: v.coordinator_size,
                finished: summary::finished(v.op),
                handle_kinds: summary::handle_kinds(v.op),
                subtasks: summary::subtask_states(v.op).count(),
                states: s.map(|s| s.states.as_slice()),
                state_notes: s.map(|s| s.notes.as_slice()),
            }
        })
        .collect();
    let files = with_files.then(|| {
        refs.iter()
            .filter_map(|r| match *r {
                Ref::File {
                    origin,
                    kind,
                    path,
                    size,
                    start,
                } => Some(FileJson {
                    path: resolve(kind, path),
                    stored_path: path,
                    size,
                    handle: kind,
                    start,
                    operator: op_id(origin.operator),
                    subtask: origin.subtask,
                    role: origin.role,
                    part: origin.part,
                    local_path: origin.local_path,
                }),
                Ref::Inline { .. } => None,
            })
            .collect()
    });
    let inline = with_files.then(|| {
        refs.iter()
            .filter_map(|r| match *r {
                Ref::Inline { origin, name, size } => Some(InlineJson {
                    name,
                    size,
                    operator: op_id(origin.operator),
                    subtask: origin.subtask,
                    role: origin.role,
                    part: origin.part,
                }),
                Ref::File { .. } => None,
            })
            .collect()
    });
    Report {
        path: l.metadata_path.to_string(),
        metadata_version: m.version,
        checkpoint_id: m.checkpoint_id,
        kind,
        properties: m.properties.as_ref().and_then(|p| p.decoded.as_ref()),
        operators,
        totals: Totals {
            operators: views.len(),
            state_size: size::sum(views.iter().map(|v| v.state_size)),
            file_references: fc,
            file_bytes: fb,
            inline_handles: ic,
            inline_bytes: ib,
            metadata_bytes: l.file_size,
        },
        trailing_bytes: m.trailing.len(),
        model: m,
        files,
        inline,
    }
}
