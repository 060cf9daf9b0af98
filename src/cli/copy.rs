//! `flink-chk copy` and `flink-chk relocate`: move snapshots with everything
//! they need, rewriting the paths in `_metadata`, publishing it last.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context as _, Result};
use clap::Args;
use serde::Serialize;

use super::context::{Ctx, Global};
use super::exit::Transfer as Exit;
use super::output::{self, BOLD, DIM, ERR};
use crate::analysis::snapshot::Rebase;
use crate::profile;
use crate::storage::{Location, Scheme, Storage, Storages};
use crate::transfer::map::PathMap;
use crate::transfer::plan::{self, Layout, Plan, Portability, Request};
use crate::transfer::rate::{Limiter, Rate, Schedule};
use crate::transfer::record::{self, Journal};
use crate::transfer::run::{self, FileOutcome, Observer, Options, Published, Report, Verify};

/// Copy snapshots with everything they need to another root, cluster or
/// bucket, rewriting the paths in `_metadata`.
///
/// The copy set is each snapshot's closure as `deps` lists it: its own
/// files, shared/ and taskowned/ files of its job and of older jobs,
/// file-merging physical files (whole, once), changelog files, savepoint
/// files a checkpoint references. Nothing else is copied; a file several
/// snapshots need is copied once.
///
/// DEST takes the place of the snapshot's root: <DEST>/<job>/chk-N/_metadata,
/// <DEST>/<job>/shared/…, other jobs under their own directories,
/// <DEST>/<savepoint-dir>/ for a savepoint. Files outside that root (a
/// changelog base path, another root) need --map FROM=TO (the longest FROM
/// wins); an unmapped file stops the run before anything is copied.
///
/// Data files go first and are verified (size, the MD5 the store reports,
/// with --verify full a full read-back); each `_metadata` is written last,
/// only if nothing is at its place, and only when every file it needs is
/// in place. Nothing at the source is ever written or deleted. A journal
/// makes a killed run resume without copying verified files again; a
/// second run copies nothing.
#[derive(Debug, Args)]
#[command(after_help = super::exit::copy_help())]
pub struct CopyArgs {
    /// The snapshots: chk-N/ or savepoint directories, _metadata files, jobs
    /// (their latest checkpoint) or profile references.
    #[arg(value_name = "SNAPSHOT", required = true, add = clap_complete::engine::ArgValueCompleter::new(super::dynamic::targets))]
    snapshots: Vec<String>,
    /// Destination root: a path or URI, or PROFILE: (that profile's
    /// checkpoints root, its savepoints root for savepoints, and its storage
    /// settings and credentials) or PROFILE:PATH (a path under that root, or
    /// a URI, with that profile's storage settings).
    #[arg(long, value_name = "DEST")]
    to: String,
    /// Where files under FROM go (for files outside the snapshot's root).
    #[arg(long = "map", value_name = "FROM=TO")]
    maps: Vec<String>,
    /// Read files recorded under FROM at TO instead (a snapshot moved after Flink wrote it).
    #[arg(long, value_name = "FROM=TO")]
    rebase: Vec<String>,
    /// mirror: the source tree under DEST. self-contained: every file in the
    /// snapshot's own directory with relative handles, movable again with a
    /// plain directory copy (restore it with claim mode NO_CLAIM).
    #[arg(long, value_enum, default_value_t = LayoutArg::Mirror)]
    layout: LayoutArg,
    /// One byte budget for the whole run: bytes/s with K, M, G (powers of
    /// 1024), or a timetable "08:00,10M 20:00,off".
    #[arg(long, value_name = "RATE")]
    bwlimit: Option<String>,
    /// standard: size, and the MD5 the destination reports where it has
    /// one. full: also read every copied file back and compare its CRC32C.
    #[arg(long, value_enum, default_value_t = VerifyArg::Standard)]
    verify: VerifyArg,
    /// Show the plan (files, bytes, destinations, time at --bwlimit); copy nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the data files as a `source,target` CSV (for distcp, s5cmd,
    /// rclone, azcopy); then publish with `flink-chk relocate`.
    #[arg(long, value_name = "FILE")]
    plan_out: Option<PathBuf>,
    /// The resume journal [default: $XDG_STATE_HOME/flink-chk/copy/<hash of DEST>.jsonl].
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Write a snapshot's rewritten `_metadata` for data another tool already
/// moved (distcp, rclone, `cp -r`, bucket replication).
///
/// Every file the snapshot needs is looked up at its mapped place, and must
/// be there with the size its handle records; only then is the rewritten
/// `_metadata` written, at the mapped place of the snapshot's directory,
/// only if nothing is there. The source `_metadata` is never overwritten,
/// so a mapping must move the snapshot's directory.
#[derive(Debug, Args)]
#[command(after_help = super::exit::copy_help())]
pub struct RelocateArgs {
    /// The snapshot as it is now (its _metadata is read).
    #[arg(value_name = "SNAPSHOT", add = clap_complete::engine::ArgValueCompleter::new(super::dynamic::targets))]
    snapshot: String,
    /// Where files recorded under FROM are now (the longest FROM wins).
    #[arg(long = "map", value_name = "FROM=TO", required = true)]
    maps: Vec<String>,
    /// Read files recorded under FROM at TO instead, for reading the source.
    #[arg(long, value_name = "FROM=TO")]
    rebase: Vec<String>,
    /// Check and show; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// `--layout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LayoutArg {
    /// The source tree under DEST.
    Mirror,
    /// Everything in the snapshot's directory, relative handles.
    SelfContained,
}

/// `--verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyArg {
    /// Size and the store's MD5 where reported.
    Standard,
    /// Also a full read-back.
    Full,
}

/// Where the copy goes and the storage to write it with.
pub(super) struct Dest {
    pub(super) root: Location,
    pub(super) savepoints: Option<Location>,
    pub(super) storage: Arc<Storages>,
    pub(super) profile: Option<String>,
}

/// `PROFILE:` or `PROFILE:PATH` (a name that is not a URI scheme), else a
/// path or URI written with the source's storage settings.
pub(super) fn destination(ctx: &Ctx, global: &Global, to: &str) -> Result<Dest> {
    if let Some((name, rest)) = to.split_once(':')
        && !name.is_empty()
        && !name.contains('/')
        && Scheme::from_uri(name).is_none()
        && !rest.starts_with("//")
    {
        let path = profile::config_file(global.config.as_deref())?;
        let config = profile::Config::load(&path)
            .with_context(|| format!("--to {to}: reading profile {name:?}"))?;
        let (_, p) = config
            .profile(Some(name))
            .with_context(|| format!("--to {to}"))?;
        let mut settings = p.storage.clone();
        if let Some(c) = global.concurrency {
            settings.concurrency = Some(c);
        }
        let (root, savepoints) = if rest.is_empty() {
            (p.checkpoints.clone(), p.savepoints.clone())
        } else if rest.starts_with('/') || rest.contains("://") || rest.starts_with("file:") {
            (Location::parse(rest)?, None)
        } else {
            (p.checkpoints.join(rest.trim_matches('/')), None)
        };
        return Ok(Dest {
            root,
            savepoints,
            storage: Arc::new(Storages::new(settings)),
            profile: Some(name.to_owned()),
        });
    }
    Ok(Dest {
        root: Location::parse(&crate::storage::expand_home(to))?,
        savepoints: None,
        storage: ctx.storages.clone(),
        profile: None,
    })
}

/// Resolves every SNAPSHOT argument at once (many snapshots would
/// otherwise wait on one round trip after another), in the order given.
fn resolve_all(ctx: &Ctx, args: &[String]) -> Result<Vec<Location>> {
    use futures_util::StreamExt;
    let storage = ctx.storages.as_ref();
    let resolved = ctx.block_on(
        futures_util::stream::iter(
            args.iter()
                .map(|a| crate::resolve::snapshot(a, &ctx.places, storage)),
        )
        .buffered(ctx.concurrency().max(1))
        .collect::<Vec<_>>(),
    );
    args.iter()
        .zip(resolved)
        .map(|(arg, r)| {
            let s = r?;
            if s.latest_of_job {
                output::hint(&format!(
                    "{arg} is a job; using its latest completed checkpoint {}",
                    s.location.file_name()
                ));
            }
            Ok(s.location)
        })
        .collect()
}

pub(super) fn parse_maps(maps: &[String]) -> Result<Vec<(Location, Location)>> {
    maps.iter()
        .map(|m| PathMap::parse_rule(m).map_err(anyhow::Error::from))
        .collect()
}

/// Bytes and files done, drawn on a terminal.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    files: AtomicU64,
    total_files: u64,
}

impl Progress {
    fn new(bytes: u64, files: u64, label: &str) -> Self {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let pb = indicatif::ProgressBar::new(bytes);
            pb.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            pb.set_message(format!("{label} 0/{files} files"));
            pb
        });
        Self {
            bar,
            files: AtomicU64::new(0),
            total_files: files,
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Observer for Progress {
    fn bytes(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    fn file_done(&self) {
        let n = self.files.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(b) = &self.bar {
            b.set_message(format!("{n}/{} files", self.total_files));
        }
    }
}

/// Runs `copy`.
pub fn run_copy(args: CopyArgs, global: &Global) -> Result<Exit> {
    run_copy_inner(args, global).map_err(super::deps::without_repeated_causes)
}

/// Runs `relocate`.
pub fn run_relocate(args: RelocateArgs, global: &Global) -> Result<Exit> {
    run_relocate_inner(args, global).map_err(super::deps::without_repeated_causes)
}

fn run_copy_inner(args: CopyArgs, global: &Global) -> Result<Exit> {
    let ctx = Ctx::new(global)?;
    let schedule = args.bwlimit.as_deref().map(Schedule::parse).transpose()?;
    let rebase = Rebase::parse(&args.rebase)?;
    let maps = parse_maps(&args.maps)?;
    let dest = destination(&ctx, global, &args.to)?;
    let snapshots = resolve_all(&ctx, &args.snapshots)?;
    let req = Request {
        snapshots,
        rebase,
        dest: Some(dest.root.clone()),
        savepoint_dest: dest.savepoints.clone(),
        maps,
        layout: match args.layout {
            LayoutArg::Mirror => Layout::Mirror,
            LayoutArg::SelfContained => Layout::SelfContained,
        },
    };
    let src = ctx.storages.as_ref();
    let plan = output::with_phases("planning", |_| {
        ctx.block_on(plan::plan(src, &req, true, ctx.concurrency()))
    })?;
    if let Some(path) = &args.plan_out {
        write_plan_csv(path, &plan)?;
    }
    let mut out = anstream::stdout();
    if args.dry_run {
        let report = PlanReport::new(&plan, &dest, schedule.as_ref(), None, None);
        if args.json {
            output::print_json(&mut out, &report)?;
        } else {
            human_plan(&mut out, &report, &plan)?;
        }
        return Ok(Exit::Ok);
    }
    let journal = match args
        .journal
        .clone()
        .or_else(|| record::default_path(&dest.root.to_string()))
    {
        Some(p) => Some(Journal::open(&p)?),
        None => {
            output::warn(
                "no state directory (HOME unset?): copying without a resume journal; give --journal FILE",
            );
            None
        }
    };
    let opts = Options {
        concurrency: ctx.concurrency().min(64),
        chunk: 1 << 20,
        verify: match args.verify {
            VerifyArg::Standard => Verify::Standard,
            VerifyArg::Full => Verify::Full,
        },
        limiter: schedule.map(|s| Arc::new(Limiter::new(s))),
        dest_roots: plan.map.rules().iter().map(|(_, to)| to.clone()).collect(),
        memory: 256 << 20,
        server_side: Arc::ptr_eq(&dest.storage, &ctx.storages),
        ..Options::default()
    };
    let progress = Progress::new(plan.bytes(), plan.files.len() as u64, "copying");
    let started = Instant::now();
    let dst: &dyn Storage = dest.storage.as_ref();
    // A replication into the same destination on this machine holds its
    // new files back while this (a user is waiting) runs.
    let _first = crate::transfer::replica::InteractiveMarker::create(&dest.root.to_string());
    let report = ctx.block_on(run::copy(
        &plan,
        src,
        dst,
        journal.as_ref(),
        &opts,
        &progress,
    ));
    progress.finish();
    let elapsed = started.elapsed().as_secs_f64();
    finish(
        &mut out,
        &plan,
        &dest,
        &report,
        elapsed,
        journal.as_ref(),
        args.json,
    )
}

fn run_relocate_inner(args: RelocateArgs, global: &Global) -> Result<Exit> {
    let ctx = Ctx::new(global)?;
    let rebase = Rebase::parse(&args.rebase)?;
    let maps = parse_maps(&args.maps)?;
    let snapshot = ctx.snapshot(&args.snapshot)?;
    let req = Request {
        snapshots: vec![snapshot],
        rebase,
        dest: None,
        savepoint_dest: None,
        maps,
        layout: Layout::Mirror,
    };
    let storage = ctx.storages.as_ref();
    let plan = ctx.block_on(plan::plan(storage, &req, false, ctx.concurrency()))?;
    let dest = Dest {
        root: plan
            .snapshots
            .first()
            .map(|s| s.destination.parent())
            .context("nothing to relocate")?,
        savepoints: None,
        storage: ctx.storages.clone(),
        profile: None,
    };
    let mut out = anstream::stdout();
    if args.dry_run {
        let report = PlanReport::new(&plan, &dest, None, None, None);
        if args.json {
            output::print_json(&mut out, &report)?;
        } else {
            human_plan(&mut out, &report, &plan)?;
        }
        return Ok(Exit::Ok);
    }
    let progress = Progress::new(0, plan.files.len() as u64, "checking");
    let started = Instant::now();
    let report = ctx.block_on(run::relocate(
        &plan,
        storage,
        None,
        ctx.concurrency(),
        &progress,
    ));
    progress.finish();
    finish(
        &mut out,
        &plan,
        &dest,
        &report,
        started.elapsed().as_secs_f64(),
        None,
        args.json,
    )
}

/// `source,target` per data file, RFC 4180 quoting.
fn write_plan_csv(path: &std::path::Path, plan: &Plan) -> Result<()> {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    }
    let mut text = String::from("source,target\n");
    for f in &plan.files {
        text.push_str(&field(&f.source.to_string()));
        text.push(',');
        text.push_str(&field(&f.target.to_string()));
        text.push('\n');
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// One snapshot in the JSON report (field names are a stable interface).
#[derive(Debug, Serialize)]
struct SnapshotReport {
    source: String,
    destination: String,
    files: usize,
    bytes: u64,
    /// `published`, `already_published`, `not_published`, `planned`.
    status: &'static str,
    error: Option<String>,
    portability: Portability,
}

/// Totals (stable names). `files` and the counts after it are data files;
/// each snapshot's `_metadata` is counted apart (`metadata_files`), so what
/// lands at the destination is `files + metadata_files`.
#[derive(Debug, Default, Serialize)]
struct Totals {
    files: usize,
    bytes: u64,
    copied_files: usize,
    copied_bytes: u64,
    skipped_files: usize,
    failed_files: usize,
    /// `_metadata` files, one per snapshot.
    metadata_files: usize,
    /// `_metadata` files this run wrote (snapshots published now).
    metadata_written: usize,
}

/// The JSON report of `copy` and `relocate`.
#[derive(Debug, Serialize)]
struct PlanReport {
    dry_run: bool,
    destination: String,
    destination_profile: Option<String>,
    snapshots: Vec<SnapshotReport>,
    totals: Totals,
    /// Estimated seconds at the --bwlimit peak (dry run with a limit).
    estimated_seconds: Option<f64>,
    seconds: Option<f64>,
    journal: Option<String>,
    failures: Vec<String>,
}

impl PlanReport {
    fn new(
        plan: &Plan,
        dest: &Dest,
        schedule: Option<&Schedule>,
        report: Option<&Report>,
        seconds: Option<f64>,
    ) -> Self {
        let size = |i: usize| {
            let f = &plan.files[i];
            f.size.or(f.expect.exact).unwrap_or(f.expect.min)
        };
        let mut totals = Totals {
            files: plan.files.len(),
            bytes: plan.bytes(),
            metadata_files: plan.snapshots.len(),
            ..Totals::default()
        };
        let mut failures = Vec::new();
        if let Some(r) = report {
            for o in &r.files {
                match o {
                    FileOutcome::Copied { bytes } => {
                        totals.copied_files += 1;
                        totals.copied_bytes += bytes;
                    }
                    FileOutcome::Skipped => totals.skipped_files += 1,
                    FileOutcome::Failed(e) => {
                        totals.failed_files += 1;
                        if failures.len() < 20 {
                            failures.push(e.clone());
                        }
                    }
                }
            }
            totals.metadata_written = r.snapshots.iter().filter(|p| **p == Published::New).count();
        }
        let snapshots = plan
            .snapshots
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let (status, error) = match report.map(|r| &r.snapshots[k]) {
                    None => ("planned", None),
                    Some(Published::New) => ("published", None),
                    Some(Published::Already) => ("already_published", None),
                    Some(Published::Not(e)) => ("not_published", Some(e.clone())),
                };
                SnapshotReport {
                    source: s.source.to_string(),
                    destination: s.destination.to_string(),
                    files: s.files.len(),
                    bytes: s.files.iter().map(|&i| size(i)).sum(),
                    status,
                    error,
                    portability: s.portability.clone(),
                }
            })
            .collect();
        let estimated_seconds = match schedule.map(Schedule::peak) {
            Some(Rate::BytesPerSec(r)) => Some(totals.bytes as f64 / r as f64),
            _ => None,
        };
        Self {
            dry_run: report.is_none(),
            destination: dest.root.to_string(),
            destination_profile: dest.profile.clone(),
            snapshots,
            totals,
            estimated_seconds,
            seconds,
            journal: None,
            failures,
        }
    }
}

fn finish(
    out: &mut impl Write,
    plan: &Plan,
    dest: &Dest,
    report: &Report,
    elapsed: f64,
    journal: Option<&Journal>,
    json: bool,
) -> Result<Exit> {
    let mut r = PlanReport::new(plan, dest, None, Some(report), Some(elapsed));
    r.journal = journal.map(|j| j.path().display().to_string());
    let ok = r.snapshots.iter().all(|s| s.status != "not_published");
    if json {
        output::print_json(out, &r)?;
    } else {
        human_report(out, &r, elapsed)?;
    }
    Ok(if ok { Exit::Ok } else { Exit::Partial })
}

pub(super) fn bytes(n: u64) -> String {
    output::bytes(i64::try_from(n).unwrap_or(i64::MAX))
}

fn snapshot_table(r: &PlanReport) -> comfy_table::Table {
    let mut t = output::table(["SNAPSHOT", "DESTINATION", "FILES", "BYTES", "STATUS"]);
    for s in &r.snapshots {
        t.add_row(vec![
            output::printable(&s.source).into_owned(),
            output::printable(&s.destination).into_owned(),
            s.files.to_string(),
            bytes(s.bytes),
            s.status.replace('_', " "),
        ]);
    }
    t
}

fn human_plan(out: &mut impl Write, r: &PlanReport, plan: &Plan) -> Result<()> {
    let t = &r.totals;
    write!(
        out,
        "{BOLD}Plan:{BOLD:#} {} snapshot(s), {}, {} to {}",
        r.snapshots.len(),
        file_counts(t),
        bytes(t.bytes),
        output::printable(&r.destination)
    )?;
    match r.estimated_seconds {
        Some(s) => writeln!(out, ", about {} at the --bwlimit", duration(s))?,
        None => writeln!(out)?,
    }
    writeln!(out, "{DIM}Nothing was copied (--dry-run).{DIM:#}")?;
    output::write_table(out, &snapshot_table(r))?;
    writeln!(out, "\n{BOLD}Where files go{BOLD:#}")?;
    let mut m = output::table(["FROM", "TO"]);
    for (from, to) in plan.map.rules() {
        m.add_row(vec![from.to_string(), to.to_string()]);
    }
    output::write_table(out, &m)?;
    portability_notes(out, r)?;
    Ok(())
}

fn portability_notes(out: &mut impl Write, r: &PlanReport) -> Result<()> {
    for s in &r.snapshots {
        let p = &s.portability;
        if p.self_contained {
            writeln!(
                out,
                "{DIM}{}: self-contained (every handle relative): a plain directory copy moves it too.{DIM:#}",
                output::printable(&s.source)
            )?;
            continue;
        }
        writeln!(
            out,
            "{}: not self-contained: {} absolute handle(s); a plain directory copy would still point at the source.",
            output::printable(&s.source),
            p.absolute_handles
        )?;
        for x in &p.foreign_relative {
            writeln!(
                out,
                "  relative handle {} resolves outside the snapshot's directory or came from a savepoint (FLINK-39964): a naive copy breaks it",
                output::printable(x)
            )?;
        }
        for x in &p.entropy_like {
            writeln!(
                out,
                "  absolute path {} lies inside the snapshot outside Flink's layout (entropy injection?)",
                output::printable(x)
            )?;
        }
    }
    Ok(())
}

pub(super) fn duration(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{secs:.1} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// "136 data files + 3 _metadata": everything that lands, the `_metadata`
/// apart.
fn file_counts(t: &Totals) -> String {
    format!("{} data files + {} _metadata", t.files, t.metadata_files)
}

fn human_report(out: &mut impl Write, r: &PlanReport, elapsed: f64) -> Result<()> {
    let t = &r.totals;
    let published = r
        .snapshots
        .iter()
        .filter(|s| s.status != "not_published")
        .count();
    let failed = r.snapshots.len() - published;
    let already = r
        .snapshots
        .iter()
        .filter(|s| s.status == "already_published")
        .count();
    let what = match (published - already, already) {
        (n, 0) => format!("Published {n} snapshot(s)"),
        (0, a) => format!("{a} snapshot(s) already published"),
        (n, a) => format!("Published {n} snapshot(s), {a} already published"),
    };
    let rate = if elapsed > 0.0 {
        format!(", {}/s", bytes((t.copied_bytes as f64 / elapsed) as u64))
    } else {
        String::new()
    };
    if failed == 0 {
        writeln!(
            out,
            "{BOLD}{what}{BOLD:#} at {}: {}, {} ({} copied, {}; {} already there) in {}{rate}",
            output::printable(&r.destination),
            file_counts(t),
            bytes(t.bytes),
            t.copied_files,
            bytes(t.copied_bytes),
            t.skipped_files,
            duration(elapsed),
        )?;
    } else {
        writeln!(
            out,
            "{ERR}{failed} of {} snapshot(s) NOT published{ERR:#} (their _metadata was not written): {} of {} data files failed; {} copied, {} already there; {} of {} _metadata written",
            r.snapshots.len(),
            t.failed_files,
            t.files,
            t.copied_files,
            t.skipped_files,
            t.metadata_written,
            t.metadata_files,
        )?;
    }
    output::write_table(out, &snapshot_table(r))?;
    for s in &r.snapshots {
        if let Some(e) = &s.error {
            writeln!(
                out,
                "{ERR}not published:{ERR:#} {}: {}",
                output::printable(&s.source),
                output::printable(e)
            )?;
        }
    }
    for f in &r.failures {
        writeln!(out, "  {}", output::printable(f))?;
    }
    if let Some(j) = &r.journal {
        writeln!(out, "{DIM}Journal: {j} (a re-run resumes from it){DIM:#}")?;
    }
    Ok(())
}
