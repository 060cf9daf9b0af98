//! `flink-chk ls`: jobs under a root, or one job's checkpoints and savepoints.

use std::io::Write;

use anyhow::{Result, bail};
use clap::Args;
use futures_util::StreamExt;
use serde::Serialize;

use super::context::{Ctx, Global};
use super::exit::Ls as Exit;
use super::output::{self, BOLD, DIM};
use crate::analysis::deps::{self, Deps, Problem};
use crate::analysis::inventory::{self, Inventory};
use crate::analysis::layout::{self, CheckpointDir, JobDir, Scan, Usage};
use crate::analysis::snapshot::Rebase;
use crate::analysis::{size, snapshot, summary};
use crate::profile;
use crate::resolve::Target;
use crate::storage::{Location, Storage};

/// List jobs under a checkpoints root (job id, alias, checkpoints, latest
/// completed, in progress, bytes, age), or one job's checkpoints and
/// savepoints (id, time, kind, size, whether the _metadata is readable, and
/// with --verify whether every file each one needs is there).
///
/// Without TARGET: the profile's checkpoints root (and savepoints root).
#[derive(Debug, Args)]
#[command(after_help = super::exit::ls_help())]
pub struct LsArgs {
    /// A root, job directory, URI, job alias or id [default: the profile's checkpoints root].
    #[arg(value_name = "TARGET", add = clap_complete::engine::ArgValueCompleter::new(super::dynamic::targets))]
    target: Option<String>,
    /// Check, for each of the job's snapshots with a readable _metadata, that every file it needs
    /// exists with the size its handle records, as `deps --verify` does (each distinct file is
    /// asked about once; --concurrency requests in flight).
    #[arg(long)]
    verify: bool,
    /// With --verify: read files recorded under FROM at TO instead (for trees moved after Flink wrote them).
    #[arg(long, value_name = "FROM=TO", requires = "verify")]
    rebase: Vec<String>,
    /// Sizes and snapshots of a root as a storage inventory report lists
    /// them (as `safe-to-delete --inventory` reads one), instead of listing
    /// every file: as of the report's time.
    #[arg(long, value_name = "SOURCE", value_hint = clap::ValueHint::AnyPath)]
    inventory: Option<String>,
    /// When the --inventory listing was taken (RFC 3339), for oiv, CSV and Parquet files.
    #[arg(long, value_name = "TIME", requires = "inventory")]
    inventory_time: Option<jiff::Timestamp>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn run(args: LsArgs, global: &Global) -> Result<Exit> {
    run_inner(args, global).map_err(super::deps::without_repeated_causes)
}

fn run_inner(args: LsArgs, global: &Global) -> Result<Exit> {
    let ctx = Ctx::new(global)?;
    let target = match &args.target {
        Some(t) => ctx.resolve(t)?,
        None => match &ctx.places.checkpoints {
            Some(root) => Target::Root(root.clone()),
            None => bail!(
                "no TARGET given and no checkpoints root in a profile; give a path or URI, or set one up with `flink-chk profile init`"
            ),
        },
    };
    let rebase = Rebase::parse(&args.rebase)?;
    let now = jiff::Timestamp::now();
    let mut out = anstream::stdout();
    match target {
        Target::Root(root) if args.verify => bail!(
            "{root}: --verify checks one job's snapshots; give a job directory, alias or id (`flink-chk ls JOB --verify`)"
        ),
        Target::Root(root) => {
            let (scan, inventory) = match &args.inventory {
                Some(source) => {
                    let (scan, inv) = scan_inventory(&ctx, &root, source, args.inventory_time)?;
                    (scan, Some(inv))
                }
                None => (scan(&ctx, &root)?, None),
            };
            let sp_root = ctx
                .places
                .savepoints
                .clone()
                .filter(|_| args.target.is_none());
            let sp_scan = match &sp_root {
                Some(r) => Some(scan_savepoints(&ctx, r)?),
                None => None,
            };
            if args.json {
                let mut v = root_json(
                    &ctx,
                    &root,
                    &scan,
                    sp_root.as_ref().zip(sp_scan.as_ref()),
                    now,
                );
                v.inventory = inventory.as_ref().map(Inventory::record);
                output::print_json(&mut out, &v)?;
            } else {
                if let Some(inv) = &inventory {
                    writeln!(
                        out,
                        "{DIM}as listed by the {} {} taken {} (files written or deleted since are not shown){DIM:#}",
                        inv.kind.label(),
                        inv.source,
                        inv.time
                    )?;
                }
                root_human(&mut out, &ctx, &root, &scan, now)?;
                if let (Some(r), Some(s)) = (&sp_root, &sp_scan) {
                    writeln!(out)?;
                    writeln!(out, "{BOLD}{r}{BOLD:#}")?;
                    savepoints_human(&mut out, &ctx, s, now)?;
                }
            }
        }
        Target::Job { location, .. } if args.inventory.is_some() => bail!(
            "{location}: --inventory shows a root (give the checkpoints root); a job's snapshots are listed live"
        ),
        Target::Job { location, .. } => {
            let (job, mut rows, mut savepoints) = job_details(&ctx, &location, &args, &rebase)?;
            let verified = if args.verify {
                Some(verify(&ctx, &mut rows, &mut savepoints))
            } else {
                None
            };
            if args.json {
                let v = job_json(&ctx, &job, &rows, &savepoints, now);
                output::print_json(&mut out, &v)?;
            } else {
                job_human(&mut out, &ctx, &job, &rows, &savepoints, now)?;
            }
            if let Some((ok, hints)) = verified {
                for h in &hints {
                    output::hint(h);
                }
                return Ok(if ok { Exit::Ok } else { Exit::Failed });
            }
        }
        Target::Snapshot(l) | Target::File(l) => bail!(
            "{l} is a snapshot, not a job or root; use `flink-chk inspect {l}` or `flink-chk deps {l}`"
        ),
    }
    Ok(Exit::Ok)
}

fn scan(ctx: &Ctx, root: &Location) -> Result<Scan> {
    let pb = output::progress(&format!("listing {root}"));
    let storage = ctx.storages.as_ref();
    let scan = ctx.block_on(layout::scan(storage, root, |n| {
        if let Some(pb) = &pb {
            pb.set_position(n);
        }
    }))?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    Ok(scan)
}

/// A root folded from an inventory report's rows under it.
fn scan_inventory(
    ctx: &Ctx,
    root: &Location,
    source: &str,
    time: Option<jiff::Timestamp>,
) -> Result<(Scan, Inventory)> {
    let at = Location::parse(&crate::storage::expand_home(source))?;
    let inv = super::safe_to_delete::open_inventory(
        ctx,
        &at,
        time,
        std::time::Duration::from_secs(u64::MAX / 4),
    )?;
    let none = Rebase::default();
    inv.check_store(root, &none)?;
    let mut scan = Scan::default();
    ctx.block_on(async {
        let mut rx = inv.rows(ctx.storages.clone(), root, root, &none);
        while let Some(item) = rx.recv().await {
            if let inventory::Item::Batch(batch) = item? {
                for e in &batch {
                    scan.add(root, e);
                }
            }
        }
        Ok::<_, inventory::Error>(())
    })?;
    Ok((scan, inv))
}

fn scan_savepoints(ctx: &Ctx, root: &Location) -> Result<Scan> {
    let storage = ctx.storages.as_ref();
    Ok(ctx.block_on(layout::scan(storage, root, |_| {}))?)
}

fn alias<'a>(ctx: &'a Ctx, job: &str) -> &'a str {
    ctx.places.alias_of(job).unwrap_or("-")
}

fn root_human(
    out: &mut impl Write,
    ctx: &Ctx,
    root: &Location,
    scan: &Scan,
    now: jiff::Timestamp,
) -> Result<()> {
    writeln!(
        out,
        "{BOLD}{root}{BOLD:#}  {} jobs, {} files, {}",
        scan.jobs.len(),
        scan.total.files,
        output::bytes(scan.total.bytes as i64)
    )?;
    if scan.jobs.is_empty() && scan.savepoints.is_empty() {
        writeln!(
            out,
            "  {DIM}no job directories (<job-id>/chk-N, shared/, taskowned/) here{DIM:#}"
        )?;
        return Ok(());
    }
    if !scan.jobs.is_empty() {
        let mut t = output::table([
            "JOB",
            "ALIAS",
            "CHECKPOINTS",
            "LATEST",
            "LATEST TIME",
            "IN PROGRESS",
            "SIZE",
            "AGE",
        ]);
        for j in scan.jobs.values() {
            let latest = j.completed().next_back();
            t.add_row([
                j.name.clone(),
                alias(ctx, &j.name).to_owned(),
                j.completed().count().to_string(),
                latest.map_or_else(|| "-".into(), |c| c.name.clone()),
                output::time(latest.and_then(|c| c.metadata.as_ref()?.modified)),
                ids(j.in_progress()),
                output::bytes(j.total.bytes as i64),
                output::age(j.newest, now),
            ]);
        }
        output::write_table(out, &t)?;
    }
    if !scan.savepoints.is_empty() {
        writeln!(out)?;
        savepoints_human(out, ctx, scan, now)?;
    }
    Ok(())
}

fn ids<'a>(it: impl Iterator<Item = &'a CheckpointDir>) -> String {
    let v: Vec<String> = it.map(|c| c.name.clone()).collect();
    if v.is_empty() {
        "-".into()
    } else {
        v.join(",")
    }
}

fn savepoints_human(
    out: &mut impl Write,
    ctx: &Ctx,
    scan: &Scan,
    now: jiff::Timestamp,
) -> Result<()> {
    let mut t = output::table(["SAVEPOINT", "JOB", "TIME", "FILES", "SIZE", "AGE"]);
    for s in scan.savepoints.values() {
        t.add_row([
            s.name.clone(),
            job_of_savepoint(ctx, &s.name),
            if s.metadata.is_some() {
                output::time(s.metadata.as_ref().and_then(|m| m.modified))
            } else {
                "no _metadata".into()
            },
            s.usage.files.to_string(),
            output::bytes(s.usage.bytes as i64),
            output::age(s.newest, now),
        ]);
    }
    output::write_table(out, &t)?;
    Ok(())
}

/// The JOB cell of a savepoint: the alias of the first profile job its name
/// points to ([`crate::profile::Profile::jobs_of_savepoint`]), else the six
/// characters after `savepoint-` and `…`.
fn job_of_savepoint(ctx: &Ctx, name: &str) -> String {
    let Some(p) = name.strip_prefix("savepoint-").and_then(|r| r.get(..6)) else {
        return "-".into();
    };
    ctx.profile
        .as_ref()
        .and_then(|(_, profile)| profile.jobs_of_savepoint(name).next())
        .map_or_else(|| format!("{p}…"), |j| j.alias.clone())
}

/// `ls --json` on a root.
#[derive(Serialize)]
struct RootReport<'a> {
    root: &'a Location,
    /// The profile's savepoints root, listed too when no TARGET was given.
    savepoints_root: Option<String>,
    jobs: Vec<JobSummary<'a>>,
    /// Savepoints under the root, then under `savepoints_root`.
    savepoints: Vec<SavepointJson<'a>>,
    other: &'a Usage,
    total: &'a Usage,
    /// The inventory report the files came from (`--inventory`).
    #[serde(skip_serializing_if = "Option::is_none")]
    inventory: Option<inventory::Record>,
}

/// One job of [`RootReport`].
#[derive(Serialize)]
struct JobSummary<'a> {
    job_id: &'a str,
    alias: Option<&'a str>,
    location: &'a Option<Location>,
    completed_checkpoints: usize,
    latest: Option<Latest<'a>>,
    in_progress: Vec<u64>,
    abandoned: Vec<u64>,
    files: u64,
    bytes: u64,
    shared: &'a Usage,
    taskowned: &'a Usage,
    newest_file_time: Option<String>,
    age_seconds: Option<i64>,
}

/// The latest completed checkpoint of a [`JobSummary`].
#[derive(Serialize)]
struct Latest<'a> {
    id: Option<u64>,
    location: &'a Option<Location>,
    time: Option<String>,
}

/// One savepoint of [`RootReport`].
#[derive(Serialize)]
struct SavepointJson<'a> {
    name: &'a str,
    location: &'a Option<Location>,
    /// Whether it has a `_metadata`.
    complete: bool,
    time: Option<String>,
    files: u64,
    bytes: u64,
}

fn modified(c: &CheckpointDir) -> Option<String> {
    c.metadata
        .as_ref()
        .and_then(|m| m.modified)
        .map(|t| t.to_string())
}

fn age_seconds(t: Option<jiff::Timestamp>, now: jiff::Timestamp) -> Option<i64> {
    t.map(|t| now.as_second() - t.as_second())
}

fn root_json<'a>(
    ctx: &'a Ctx,
    root: &'a Location,
    scan: &'a Scan,
    savepoints: Option<(&Location, &'a Scan)>,
    now: jiff::Timestamp,
) -> RootReport<'a> {
    let jobs = scan
        .jobs
        .values()
        .map(|j| {
            let latest = j.completed().next_back();
            JobSummary {
                job_id: &j.name,
                alias: ctx.places.alias_of(&j.name),
                location: &j.location,
                completed_checkpoints: j.completed().count(),
                latest: latest.map(|c| Latest {
                    id: c.id,
                    location: &c.location,
                    time: modified(c),
                }),
                in_progress: j.in_progress().filter_map(|c| c.id).collect(),
                abandoned: j.abandoned().filter_map(|c| c.id).collect(),
                files: j.total.files,
                bytes: j.total.bytes,
                shared: &j.shared,
                taskowned: &j.taskowned,
                newest_file_time: j.newest.map(|t| t.to_string()),
                age_seconds: age_seconds(j.newest, now),
            }
        })
        .collect();
    let sp = |s: &'a Scan| {
        s.savepoints.values().map(|s| SavepointJson {
            name: &s.name,
            location: &s.location,
            complete: s.metadata.is_some(),
            time: modified(s),
            files: s.usage.files,
            bytes: s.usage.bytes,
        })
    };
    let mut all_sp: Vec<_> = sp(scan).collect();
    if let Some((_, s)) = savepoints {
        all_sp.extend(sp(s));
    }
    RootReport {
        root,
        savepoints_root: savepoints.map(|(r, _)| r.to_string()),
        jobs,
        savepoints: all_sp,
        other: &scan.other,
        total: &scan.total,
        inventory: None,
    }
}

/// What a readable `_metadata` says.
#[derive(Debug)]
struct Read {
    kind: String,
    state: i64,
    /// What the snapshot needs (with --verify).
    deps: Option<Deps>,
    /// Where it was recorded, if not where it is read (with --verify, no --rebase).
    moved: Option<deps::Moved>,
}

/// One checkpoint or savepoint of a job, with what its metadata says.
#[derive(Debug)]
struct Row {
    dir: CheckpointDir,
    savepoint: bool,
    /// What the metadata says, or why it cannot be read.
    read: Option<Result<Read, String>>,
    /// With --verify: the problems with the files it needs.
    problems: Option<Vec<(usize, Problem)>>,
    /// In a replica: which source snapshot this is a version of.
    replica: Option<crate::transfer::replica::Identity>,
}

impl Row {
    fn ok(&self) -> Option<&Read> {
        self.read.as_ref().and_then(|r| r.as_ref().ok())
    }

    /// The metadata parses and, when checked, every file is there.
    fn restorable(&self) -> bool {
        self.ok().is_some() && self.problems.as_ref().is_none_or(Vec::is_empty)
    }
}

fn job_details(
    ctx: &Ctx,
    location: &Location,
    args: &LsArgs,
    rebase: &Rebase,
) -> Result<(JobDir, Vec<Row>, Vec<Row>)> {
    let storage = ctx.storages.as_ref();
    let job = ctx.block_on(layout::scan_job(storage, location))?;
    let mut savepoint_dirs = Vec::new();
    if let Some(sp) = &ctx.places.savepoints
        && layout::is_job_id(&job.name)
    {
        // The job's savepoints: those named after its id's first six digits.
        let prefix = job.name[..6].to_ascii_lowercase();
        let scan = scan_savepoints(ctx, sp)?;
        savepoint_dirs.extend(
            scan.savepoints
                .into_values()
                .filter(|s| profile::savepoint_job_prefix(&s.name).as_ref() == Some(&prefix)),
        );
    }
    let verify = args.verify;
    let read_all = |dirs: Vec<CheckpointDir>, savepoint: bool| -> Vec<Row> {
        ctx.block_on(
            futures_util::stream::iter(dirs)
                .map(|dir| async move {
                    let read = match &dir.metadata {
                        None => None,
                        Some(m) => Some(read_one(storage, &m.location, verify, rebase).await),
                    };
                    // Only a directory listed with an identity file is read for it.
                    let replica = match &dir.replica_identity {
                        Some(e) => storage
                            .read(&e.location)
                            .await
                            .ok()
                            .and_then(|b| serde_json::from_slice(&b).ok()),
                        None => None,
                    };
                    Row {
                        dir,
                        savepoint,
                        read,
                        problems: None,
                        replica,
                    }
                })
                .buffered(ctx.concurrency())
                .collect(),
        )
    };
    let rows = read_all(
        job.checkpoints.values().map(|c| (**c).clone()).collect(),
        false,
    );
    let sps = read_all(savepoint_dirs, true);
    Ok((job, rows, sps))
}

async fn read_one(
    storage: &dyn Storage,
    m: &Location,
    verify: bool,
    rebase: &Rebase,
) -> Result<Read, String> {
    let s = snapshot::load(storage, m)
        .await
        .map_err(|e| e.to_string())?;
    let kind = summary::snapshot_kind(&s.metadata, &m.to_string());
    let state = size::sum(s.metadata.operators.iter().map(size::operator));
    let deps = verify.then(|| deps::collect(&s, rebase));
    let moved = deps
        .as_ref()
        .filter(|_| rebase.is_empty())
        .and_then(|d| d.moved_from(&s));
    Ok(Read {
        kind: kind.label().to_owned(),
        state,
        deps,
        moved,
    })
}

/// `deps --verify` for every readable snapshot of the job, each distinct
/// file asked about once; hints when the tree was recorded elsewhere.
/// Whether every file was there, and the hints to print.
fn verify(ctx: &Ctx, rows: &mut [Row], savepoints: &mut [Row]) -> (bool, Vec<String>) {
    let storage = ctx.storages.as_ref();
    let all: Vec<&Deps> = rows
        .iter()
        .chain(savepoints.iter())
        .filter_map(|r| r.ok()?.deps.as_ref())
        .collect();
    let pb = output::progress("verifying");
    let mut problems = ctx
        .block_on(deps::verify_all(storage, &all, ctx.concurrency(), |n| {
            if let Some(pb) = &pb {
                pb.set_position(n as u64);
            }
        }))
        .into_iter();
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let mut ok = true;
    let mut moved: Vec<(deps::Moved, Vec<(usize, Problem)>)> = Vec::new();
    for r in rows.iter_mut().chain(savepoints.iter_mut()) {
        let Some(read) = r.ok() else { continue };
        if read.deps.is_none() {
            continue;
        }
        let p = problems.next().unwrap_or_default();
        ok &= p.is_empty();
        if let Some(m) = &read.moved {
            match moved.iter_mut().find(|(x, _)| x == m) {
                Some((_, all)) => all.extend(p.iter().cloned()),
                None => moved.push((m.clone(), p.clone())),
            }
        }
        r.problems = Some(p);
    }
    let hints = moved
        .iter()
        .map(|(m, p)| super::deps::moved_hint("these snapshots were", m, Some(p)))
        .collect();
    (ok, hints)
}

fn metadata_status(r: &Row, newest: Option<u64>) -> String {
    match &r.read {
        Some(Ok(_)) => "readable".into(),
        Some(Err(e)) => format!("unreadable: {e}"),
        None if r.savepoint => "none".into(),
        None if r.dir.id > newest => "in progress".into(),
        None => "none (failed or aborted)".into(),
    }
}

/// The VERIFIED cell: `all N present`, or `K of N: 1 missing, 2 wrong size`.
fn verified(r: &Row) -> String {
    let (Some(read), Some(p)) = (r.ok(), &r.problems) else {
        return "-".into();
    };
    let n = read.deps.as_ref().map_or(0, |d| d.files.len());
    if p.is_empty() {
        return format!("all {n} present");
    }
    let count = |f: fn(&Problem) -> bool| p.iter().filter(|(_, x)| f(x)).count();
    let kinds = [
        (count(|x| *x == Problem::Missing), "missing"),
        (
            count(|x| matches!(x, Problem::SizeMismatch { .. } | Problem::TooShort { .. })),
            "wrong size",
        ),
        (count(|x| *x == Problem::IsDirectory), "directories"),
        (count(|x| matches!(x, Problem::Error { .. })), "unreadable"),
    ];
    let what: Vec<String> = kinds
        .iter()
        .filter(|(k, _)| *k > 0)
        .map(|(k, w)| format!("{k} {w}"))
        .collect();
    format!("{} of {n}: {}", p.len(), what.join(", "))
}

/// The JSON `status`: `yes`, or why not.
fn restorable(r: &Row, newest: Option<u64>) -> String {
    match &r.read {
        Some(Ok(_)) if !r.restorable() => format!("no: {}", verified(r)),
        Some(Ok(_)) => "yes".into(),
        Some(Err(e)) => format!("no: {e}"),
        None if r.savepoint => "no: no _metadata".into(),
        None if r.dir.id > newest => "in progress".into(),
        None => "no: no _metadata (failed or aborted)".into(),
    }
}

fn job_human(
    out: &mut impl Write,
    ctx: &Ctx,
    job: &JobDir,
    rows: &[Row],
    savepoints: &[Row],
    now: jiff::Timestamp,
) -> Result<()> {
    let alias = ctx
        .places
        .alias_of(&job.name)
        .map(|a| format!(" ({a})"))
        .unwrap_or_default();
    writeln!(
        out,
        "{BOLD}{}{BOLD:#}{alias}  {} files, {}, newest file {} ago",
        job.location
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        job.total.files,
        output::bytes(job.total.bytes as i64),
        output::age(job.newest, now),
    )?;
    writeln!(
        out,
        "  shared/ {} files ({}), taskowned/ {} files ({})",
        job.shared.files,
        output::bytes(job.shared.bytes as i64),
        job.taskowned.files,
        output::bytes(job.taskowned.bytes as i64)
    )?;
    writeln!(out)?;
    let newest = job.completed().next_back().and_then(|c| c.id);
    let verified_column = rows.iter().chain(savepoints).any(|r| r.problems.is_some());
    let mut header = vec![
        "SNAPSHOT", "TIME", "KIND", "FILES", "SIZE", "STATE", "METADATA",
    ];
    if verified_column {
        header.push("VERIFIED");
    }
    let mut t = output::table(header);
    for r in rows.iter().chain(savepoints) {
        let (kind, state) = match r.ok() {
            Some(read) => (read.kind.clone(), output::bytes(read.state)),
            None => ("-".into(), "-".into()),
        };
        let mut cells = vec![
            r.dir.name.clone(),
            output::time(
                r.dir
                    .metadata
                    .as_ref()
                    .and_then(|m| m.modified)
                    .or(r.dir.newest),
            ),
            kind,
            r.dir.usage.files.to_string(),
            output::bytes(r.dir.usage.bytes as i64),
            state,
            metadata_status(r, newest),
        ];
        if verified_column {
            cells.push(verified(r));
        }
        t.add_row(cells);
    }
    output::write_table(out, &t)?;
    let mut problems = output::table(["SNAPSHOT", "FILE", "PROBLEM"]);
    let mut any = false;
    for r in rows.iter().chain(savepoints) {
        let (Some(read), Some(p)) = (r.ok(), &r.problems) else {
            continue;
        };
        for (i, pr) in p {
            if let Some(f) = read.deps.as_ref().and_then(|d| d.files.get(*i)) {
                problems.add_row([r.dir.name.clone(), f.location.to_string(), pr.describe()]);
                any = true;
            }
        }
    }
    if any {
        writeln!(out)?;
        output::write_table(out, &problems)?;
    }
    let replicas: Vec<&Row> = rows
        .iter()
        .chain(savepoints)
        .filter(|r| r.replica.is_some())
        .collect();
    if !replicas.is_empty() {
        writeln!(
            out,
            "\n{BOLD}Replica{BOLD:#} (written by flink-chk replicate; a snapshot without _metadata is in flight)"
        )?;
        let mut t = output::table([
            "SNAPSHOT",
            "REPLICA OF",
            "SOURCE COMPLETED",
            "PUBLISHED",
            "AFTER",
        ]);
        for r in replicas {
            let Some(id) = &r.replica else { continue };
            let published = r.dir.metadata.as_ref().and_then(|m| m.modified);
            let after = match (published, id.source_completed) {
                (Some(p), Some(s)) => super::copy::duration(
                    (p.as_millisecond() - s.as_millisecond()).max(0) as f64 / 1000.0,
                ),
                _ => "-".to_owned(),
            };
            t.add_row(vec![
                r.dir.name.clone(),
                output::printable(&id.source).into_owned(),
                output::time(id.source_completed),
                if published.is_some() {
                    output::time(published)
                } else {
                    "in flight".to_owned()
                },
                after,
            ]);
        }
        output::write_table(out, &t)?;
    }
    Ok(())
}

/// `ls --json` on a job.
#[derive(Serialize)]
struct JobReport<'a> {
    job_id: &'a str,
    alias: Option<&'a str>,
    location: &'a Option<Location>,
    files: u64,
    bytes: u64,
    shared: &'a Usage,
    taskowned: &'a Usage,
    newest_file_time: Option<String>,
    age_seconds: Option<i64>,
    checkpoints: Vec<RowJson<'a>>,
    savepoints: Vec<RowJson<'a>>,
}

/// One checkpoint or savepoint of [`JobReport`].
#[derive(Serialize)]
struct RowJson<'a> {
    name: &'a str,
    id: Option<u64>,
    location: &'a Option<Location>,
    savepoint: bool,
    time: Option<String>,
    kind: Option<&'a str>,
    state_size: Option<i64>,
    files: u64,
    bytes: u64,
    metadata_readable: bool,
    restorable: bool,
    /// `yes`, or why not.
    status: String,
    /// With `--verify`.
    verify: Option<super::deps::Verify<'a>>,
    /// In a replica: the source snapshot this is a version of.
    replica_of: Option<&'a crate::transfer::replica::Identity>,
}

fn job_json<'a>(
    ctx: &'a Ctx,
    job: &'a JobDir,
    rows: &'a [Row],
    savepoints: &'a [Row],
    now: jiff::Timestamp,
) -> JobReport<'a> {
    let newest = job.completed().next_back().and_then(|c| c.id);
    let row = |r: &'a Row| RowJson {
        name: &r.dir.name,
        id: r.dir.id,
        location: &r.dir.location,
        savepoint: r.savepoint,
        time: r
            .dir
            .metadata
            .as_ref()
            .and_then(|m| m.modified)
            .or(r.dir.newest)
            .map(|t| t.to_string()),
        kind: r.ok().map(|x| x.kind.as_str()),
        state_size: r.ok().map(|x| x.state),
        files: r.dir.usage.files,
        bytes: r.dir.usage.bytes,
        metadata_readable: r.ok().is_some(),
        restorable: r.restorable(),
        status: restorable(r, newest),
        verify: r
            .problems
            .as_deref()
            .map(|p| super::deps::Verify::new(r.ok().and_then(|x| x.deps.as_ref()), p)),
        replica_of: r.replica.as_ref(),
    };
    JobReport {
        job_id: &job.name,
        alias: ctx.places.alias_of(&job.name),
        location: &job.location,
        files: job.total.files,
        bytes: job.total.bytes,
        shared: &job.shared,
        taskowned: &job.taskowned,
        newest_file_time: job.newest.map(|t| t.to_string()),
        age_seconds: age_seconds(job.newest, now),
        checkpoints: rows.iter().map(row).collect(),
        savepoints: savepoints.iter().map(row).collect(),
    }
}
