//! `flink-chk deps`: everything a snapshot needs, grouped and labelled, and
//! (`--verify`) whether all of it is still there.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::context::{Ctx, Global};
use super::exit::Deps as Exit;
use super::output::{self, BOLD, DIM, ERR};
use crate::analysis::deps::{self, Deps, Label, Problem};
use crate::analysis::layout::{Area, area};
use crate::analysis::snapshot::{self, Rebase, Snapshot};
use crate::analysis::summary;
use crate::storage::Location;
use crate::transfer::plan::{Portability, portability};

/// Whether a plain directory copy would move the snapshot, and what breaks it.
fn portability_line(out: &mut impl Write, p: &Portability) -> Result<()> {
    writeln!(out)?;
    if p.self_contained {
        writeln!(
            out,
            "{DIM}self-contained: every handle is relative to its directory; a plain directory copy moves it{DIM:#}"
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "not self-contained: {} absolute handle(s) name their files where Flink wrote them; move it with `flink-chk copy`",
        p.absolute_handles
    )?;
    for x in &p.foreign_relative {
        writeln!(
            out,
            "  relative handle {} resolves outside the snapshot or came from a savepoint (FLINK-39964)",
            output::printable(x)
        )?;
    }
    for x in &p.entropy_like {
        writeln!(
            out,
            "  {} lies inside the snapshot outside Flink's layout (entropy injection?)",
            output::printable(x)
        )?;
    }
    Ok(())
}

/// What a snapshot depends on: its own files, the job's shared/ and
/// taskowned/ files, other jobs' files (restore lineage), file-merging and
/// changelog files, inline state.
///
/// SNAPSHOT is a chk-N/ or savepoint directory, a _metadata file, a URI, a
/// job (its latest completed checkpoint) or a profile reference such as
/// orders@latest, orders@chk-42, or a savepoint name.
#[derive(Debug, Args)]
#[command(after_help = super::exit::deps_help())]
pub struct DepsArgs {
    /// The snapshot.
    #[arg(value_name = "SNAPSHOT", add = clap_complete::engine::ArgValueCompleter::new(super::dynamic::targets))]
    snapshot: String,
    /// List every file.
    #[arg(long)]
    files: bool,
    /// Check that every file exists with the size its handle records.
    #[arg(long)]
    verify: bool,
    /// Read files recorded under FROM at TO instead (for snapshots moved after Flink wrote them).
    #[arg(long, value_name = "FROM=TO")]
    rebase: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Resolves a snapshot argument ([`Ctx::snapshot`]).
pub fn snapshot_target(ctx: &Ctx, arg: &str) -> Result<Location> {
    ctx.snapshot(arg)
}

/// Runs the command.
pub fn run(args: DepsArgs, global: &Global) -> Result<Exit> {
    run_deps(args, global).map_err(without_repeated_causes)
}

/// The same error with each cause printed once. Library errors such as
/// `{location}: {source}` already show their source, which the error printer
/// (every cause of the chain after `: `) would show again:
/// `…: Too many levels of symbolic links (os error 40): Too many levels of
/// symbolic links (os error 40)`. Causes already in the message are dropped;
/// a closed stdout stays recognisable as such.
pub(crate) fn without_repeated_causes(e: anyhow::Error) -> anyhow::Error {
    if super::is_broken_pipe(&e) {
        return e;
    }
    let mut msg = e.to_string();
    let mut repeated = false;
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if msg.contains(&c) {
            repeated = true;
        } else {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    if repeated { anyhow::Error::msg(msg) } else { e }
}

fn run_deps(args: DepsArgs, global: &Global) -> Result<Exit> {
    let ctx = Ctx::new(global)?;
    let rebase = Rebase::parse(&args.rebase)?;
    let loc = snapshot_target(&ctx, &args.snapshot)?;
    let storage = ctx.storages.as_ref();
    let snap: Snapshot = ctx.block_on(snapshot::load(storage, &loc))?;
    let d = deps::collect(&snap, &rebase);
    let problems = if args.verify {
        let pb = output::progress("verifying");
        let p = ctx.block_on(deps::verify(storage, &d, ctx.concurrency(), |n| {
            if let Some(pb) = &pb {
                pb.set_position(n as u64);
            }
        }));
        if let Some(pb) = pb {
            pb.finish_and_clear();
        }
        Some(p)
    } else {
        None
    };
    let kind = summary::snapshot_kind(&snap.metadata, &snap.metadata_location.to_string());
    let moved = d.moved_from(&snap).filter(|_| rebase.is_empty());
    let port = portability(&snap, &rebase);
    let mut out = anstream::stdout();
    if args.json {
        let mut v = to_json(&snap, &d, kind.label(), problems.as_deref(), moved.as_ref());
        v.portability = port;
        output::print_json(&mut out, &v)?;
    } else {
        human(
            &mut out,
            &snap,
            &d,
            kind.label(),
            &args,
            problems.as_deref(),
        )?;
        portability_line(&mut out, &port)?;
    }
    for (path, e) in &d.unresolved {
        output::warn(&format!("cannot locate {path:?}: {e}"));
    }
    let failed = problems.as_ref().is_some_and(|p| !p.is_empty());
    if let Some(m) = &moved {
        output::hint(&moved_hint("this snapshot was", m, problems.as_deref()));
    }
    Ok(if failed { Exit::Failed } else { Exit::Ok })
}

/// What to tell the user when the snapshot is read from another root than
/// the one Flink recorded. Flink restores from the recorded paths, so the
/// verdict of `--verify` is about those; the hint says so and gives the
/// `--rebase` that checks the copy instead.
pub(crate) fn moved_hint(
    what: &str,
    m: &deps::Moved,
    problems: Option<&[(usize, Problem)]>,
) -> String {
    let (from, to, rule) = (&m.recorded, &m.actual, m.rebase());
    match problems {
        Some(p) if !p.is_empty() => format!(
            "{what} written under {from}, not under {to} where it is read now; Flink reads the recorded paths. \
             To check the copy instead: --rebase {rule}"
        ),
        Some(_) => format!(
            "{what} written under {from}, not under {to} where it is read now: the files were found at the \
             recorded paths (where Flink reads them), not the copy. To check the copy: --rebase {rule}"
        ),
        None => format!(
            "{what} written under {from}, not under {to} where it is read now; the paths shown are the \
             recorded ones. To map them to the copy: --rebase {rule}"
        ),
    }
}

fn human(
    out: &mut impl Write,
    s: &Snapshot,
    d: &Deps,
    kind: &str,
    args: &DepsArgs,
    problems: Option<&[(usize, Problem)]>,
) -> Result<()> {
    writeln!(
        out,
        "{BOLD}{}{BOLD:#}",
        output::printable(&s.metadata_location.to_string())
    )?;
    writeln!(
        out,
        "  checkpoint {} ({kind}), _metadata {}",
        s.metadata.checkpoint_id,
        output::bytes(s.metadata_size as i64)
    )?;
    let groups = d.groups();
    writeln!(
        out,
        "  needs {} files ({}) in {} directories, plus {} inline handles ({}) inside _metadata",
        d.files.len(),
        output::bytes(d.bytes() as i64),
        groups.len(),
        d.inline_handles,
        output::bytes(d.inline_bytes as i64)
    )?;
    let others = d.other_jobs();
    if !others.is_empty() {
        writeln!(
            out,
            "  {BOLD}depends on {} other job(s): {}{BOLD:#} {DIM}(restored from them in CLAIM/LEGACY mode; their files must be kept){DIM:#}",
            others.len(),
            others.join(", ")
        )?;
    }
    writeln!(out)?;
    let mut t = output::table(["WHERE", "DIRECTORY", "FILES", "BYTES"]);
    for g in &groups {
        t.add_row([
            g.label.describe(),
            output::printable(&g.dir.to_string()).into_owned(),
            g.files.to_string(),
            output::bytes(g.bytes as i64),
        ]);
    }
    if d.inline_handles > 0 {
        t.add_row([
            "inline".to_owned(),
            "(inside _metadata)".to_owned(),
            format!("{} handles", d.inline_handles),
            output::bytes(d.inline_bytes as i64),
        ]);
    }
    output::write_table(out, &t)?;
    if args.files {
        writeln!(out)?;
        let mut t = output::table(["WHERE", "FILE", "BYTES", "REFS"]);
        for f in &d.files {
            t.add_row([
                short_label(&f.label),
                output::printable(&f.location.to_string()).into_owned(),
                output::bytes(f.bytes as i64),
                f.references.to_string(),
            ]);
        }
        output::write_table(out, &t)?;
    }
    if let Some(p) = problems {
        writeln!(out)?;
        if p.is_empty() {
            writeln!(
                out,
                "verified: all {} files present with the sizes their handles record",
                d.files.len()
            )?;
        } else {
            let missing = p.iter().filter(|(_, p)| *p == Problem::Missing).count();
            writeln!(
                out,
                "{ERR}NOT RESTORABLE:{ERR:#} {} of {} files have problems ({missing} missing)",
                p.len(),
                d.files.len()
            )?;
            let mut t = output::table(["FILE", "WHERE", "PROBLEM"]);
            for (i, pr) in p {
                if let Some(f) = d.files.get(*i) {
                    t.add_row([
                        output::printable(&f.location.to_string()).into_owned(),
                        short_label(&f.label),
                        pr.describe(),
                    ]);
                }
            }
            output::write_table(out, &t)?;
        }
    }
    Ok(())
}

fn short_label(l: &Label) -> String {
    match l {
        Label::Own => "own".into(),
        Label::SavepointRelative => "relative".into(),
        Label::Shared => "shared".into(),
        Label::TaskOwned => "taskowned".into(),
        Label::OtherCheckpoint { id } => format!("chk-{id}"),
        Label::OtherJob { job, area } => format!("job {job} {area}"),
        Label::OtherSavepoint { name } => name.clone(),
        Label::FileMerging => "file-merging".into(),
        Label::Changelog => "changelog".into(),
        Label::External => "external".into(),
    }
}

/// `deps --json`.
#[derive(Serialize)]
struct Report<'a> {
    snapshot: &'a Location,
    checkpoint_id: i64,
    kind: &'a str,
    metadata_bytes: u64,
    files_total: usize,
    bytes_total: u64,
    inline: Inline,
    other_jobs: Vec<&'a str>,
    groups: Vec<deps::Group>,
    files: Vec<DepJson<'a>>,
    unresolved: Vec<Unresolved<'a>>,
    /// With `--verify`.
    verify: Option<Verify<'a>>,
    /// Where Flink wrote the job directory, when read elsewhere (checkpoints only).
    recorded_job_dir: Option<String>,
    recorded_root: Option<String>,
    suggested_rebase: Option<String>,
    /// Whether a plain directory copy moves it (no absolute handle).
    portability: Portability,
}

/// [`Report::inline`].
#[derive(Serialize)]
struct Inline {
    handles: u64,
    bytes: u64,
}

/// One file of [`Report::files`]: a [`deps::Dep`] with its location as `path`.
#[derive(Serialize)]
struct DepJson<'a> {
    path: &'a Location,
    label: &'a Label,
    group: &'a Location,
    bytes: u64,
    exact_size: Option<u64>,
    min_size: u64,
    references: u32,
}

/// A handle path that names no location.
#[derive(Serialize)]
struct Unresolved<'a> {
    path: &'a str,
    error: &'a str,
}

/// The `verify` object of `deps --json` and of each snapshot of `ls --verify --json`.
#[derive(Serialize)]
pub(super) struct Verify<'a> {
    checked: usize,
    ok: bool,
    problems: Vec<ProblemJson<'a>>,
}

/// A [`Problem`] (its `problem` tag and fields) and the file it is about.
#[derive(Serialize)]
struct ProblemJson<'a> {
    #[serde(flatten)]
    problem: &'a Problem,
    path: &'a Location,
}

impl<'a> Verify<'a> {
    /// The problems `deps::verify` found, by index into `d.files` (none
    /// checked without `d`).
    pub(super) fn new(d: Option<&'a Deps>, problems: &'a [(usize, Problem)]) -> Self {
        Verify {
            checked: d.map_or(0, |d| d.files.len()),
            ok: problems.is_empty(),
            problems: problems
                .iter()
                .filter_map(|(i, problem)| {
                    d?.files.get(*i).map(|f| ProblemJson {
                        problem,
                        path: &f.location,
                    })
                })
                .collect(),
        }
    }
}

fn to_json<'a>(
    s: &'a Snapshot,
    d: &'a Deps,
    kind: &'a str,
    problems: Option<&'a [(usize, Problem)]>,
    moved: Option<&deps::Moved>,
) -> Report<'a> {
    Report {
        snapshot: &s.metadata_location,
        checkpoint_id: s.metadata.checkpoint_id,
        kind,
        metadata_bytes: s.metadata_size,
        files_total: d.files.len(),
        bytes_total: d.bytes(),
        inline: Inline {
            handles: d.inline_handles,
            bytes: d.inline_bytes,
        },
        other_jobs: d.other_jobs(),
        groups: d.groups(),
        files: d
            .files
            .iter()
            .map(|f| DepJson {
                path: &f.location,
                label: &f.label,
                group: &f.group,
                bytes: f.bytes,
                exact_size: f.exact_size,
                min_size: f.min_size,
                references: f.references,
            })
            .collect(),
        unresolved: d
            .unresolved
            .iter()
            .map(|(path, error)| Unresolved { path, error })
            .collect(),
        verify: problems.map(|p| Verify::new(Some(d), p)),
        recorded_job_dir: moved
            .filter(|_| matches!(area(&s.metadata_location), Area::Checkpoint { .. }))
            .map(|m| m.recorded_dir.to_string()),
        recorded_root: moved.map(|m| m.recorded.to_string()),
        suggested_rebase: moved.map(deps::Moved::rebase),
        portability: Portability::default(),
    }
}
