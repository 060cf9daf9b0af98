//! `flink-chk ls`: jobs under a root, or one job's checkpoints and savepoints.

use std::io::Write;

use anyhow::{Result, bail};
use clap::Args;
use futures_util::StreamExt;
use serde_json::json;

use super::context::{Ctx, Global};
use super::output::{self, BOLD, DIM};
use crate::analysis::layout::{self, CheckpointDir, JobDir, Scan};
use crate::analysis::{size, snapshot, summary};
use crate::resolve::Target;
use crate::storage::{Location, Storage};

/// List jobs under a checkpoints root (job id, alias, checkpoints, latest
/// completed, in progress, bytes, age), or one job's checkpoints and
/// savepoints (id, time, kind, size, restorable).
///
/// Without TARGET: the profile's checkpoints root (and savepoints root).
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 success, 3 unreadable input or storage error, 64 usage error."
)]
pub struct LsArgs {
    /// A root, job directory, URI, job alias or id [default: the profile's checkpoints root].
    #[arg(value_name = "TARGET", add = clap_complete::engine::ArgValueCompleter::new(super::dynamic::targets))]
    target: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn run(args: LsArgs, global: &Global) -> Result<u8> {
    run_inner(args, global).map_err(super::deps::without_repeated_causes)
}

fn run_inner(args: LsArgs, global: &Global) -> Result<u8> {
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
    let now = jiff::Timestamp::now();
    let mut out = anstream::stdout();
    match target {
        Target::Root(root) => {
            let scan = scan(&ctx, &root)?;
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
                let v = root_json(
                    &ctx,
                    &root,
                    &scan,
                    sp_root.as_ref().zip(sp_scan.as_ref()),
                    now,
                );
                serde_json::to_writer_pretty(&mut out, &v)?;
                writeln!(out)?;
            } else {
                root_human(&mut out, &ctx, &root, &scan, now)?;
                if let (Some(r), Some(s)) = (&sp_root, &sp_scan) {
                    writeln!(out)?;
                    writeln!(out, "{BOLD}{r}{BOLD:#}")?;
                    savepoints_human(&mut out, &ctx, s, now)?;
                }
            }
        }
        Target::Job { location, .. } => {
            let (job, rows, savepoints) = job_details(&ctx, &location)?;
            if args.json {
                let v = job_json(&ctx, &job, &rows, &savepoints, now);
                serde_json::to_writer_pretty(&mut out, &v)?;
                writeln!(out)?;
            } else {
                job_human(&mut out, &ctx, &job, &rows, &savepoints, now)?;
            }
        }
        Target::Snapshot(l) | Target::File(l) => bail!(
            "{l} is a snapshot, not a job or root; use `flink-chk inspect {l}` or `flink-chk deps {l}`"
        ),
    }
    Ok(super::exit::OK)
}

fn scan(ctx: &Ctx, root: &Location) -> Result<Scan> {
    let pb = output::progress(&format!("listing {root}"));
    let storage = ctx.storages.clone();
    let mut scan = ctx.block_on(layout::scan(storage.as_ref(), root, |n| {
        if let Some(pb) = &pb {
            pb.set_position(n);
        }
    }))?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    scan.prune_non_jobs();
    Ok(scan)
}

fn scan_savepoints(ctx: &Ctx, root: &Location) -> Result<Scan> {
    let storage = ctx.storages.clone();
    Ok(ctx.block_on(layout::scan(storage.as_ref(), root, |_| {}))?)
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

/// `savepoint-<first 6 hex of the job id>-…`: the alias of a profile job with that prefix.
fn job_of_savepoint(ctx: &Ctx, name: &str) -> String {
    let prefix = name.strip_prefix("savepoint-").and_then(|r| r.get(..6));
    match prefix {
        Some(p) => ctx
            .places
            .jobs
            .iter()
            .find(|(_, id)| id.starts_with(p))
            .map_or_else(|| format!("{p}…"), |(a, _)| a.clone()),
        None => "-".into(),
    }
}

fn root_json(
    ctx: &Ctx,
    root: &Location,
    scan: &Scan,
    savepoints: Option<(&Location, &Scan)>,
    now: jiff::Timestamp,
) -> serde_json::Value {
    let jobs: Vec<_> = scan
        .jobs
        .values()
        .map(|j| {
            let latest = j.completed().next_back();
            json!({
                "job_id": j.name,
                "alias": ctx.places.alias_of(&j.name),
                "location": j.location,
                "completed_checkpoints": j.completed().count(),
                "latest": latest.map(|c| json!({
                    "id": c.id,
                    "location": c.location,
                    "time": c.metadata.as_ref().and_then(|m| m.modified).map(|t| t.to_string()),
                })),
                "in_progress": j.in_progress().filter_map(|c| c.id).collect::<Vec<_>>(),
                "abandoned": j.abandoned().filter_map(|c| c.id).collect::<Vec<_>>(),
                "files": j.total.files,
                "bytes": j.total.bytes,
                "shared": j.shared,
                "taskowned": j.taskowned,
                "newest_file_time": j.newest.map(|t| t.to_string()),
                "age_seconds": j.newest.map(|t| now.as_second() - t.as_second()),
            })
        })
        .collect();
    let sp = |s: &Scan| -> Vec<serde_json::Value> {
        s.savepoints
            .values()
            .map(|s| {
                json!({
                    "name": s.name,
                    "location": s.location,
                    "complete": s.metadata.is_some(),
                    "time": s.metadata.as_ref().and_then(|m| m.modified).map(|t| t.to_string()),
                    "files": s.usage.files,
                    "bytes": s.usage.bytes,
                })
            })
            .collect()
    };
    let mut all_sp = sp(scan);
    if let Some((_, s)) = savepoints {
        all_sp.extend(sp(s));
    }
    json!({
        "root": root,
        "savepoints_root": savepoints.map(|(r, _)| r.to_string()),
        "jobs": jobs,
        "savepoints": all_sp,
        "other": scan.other,
        "total": scan.total,
    })
}

/// One checkpoint or savepoint of a job, with what its metadata says.
#[derive(Debug)]
struct Row {
    dir: CheckpointDir,
    savepoint: bool,
    /// Kind, state size; or why it is not restorable.
    read: Option<Result<(String, i64, i64), String>>,
}

fn job_details(ctx: &Ctx, location: &Location) -> Result<(JobDir, Vec<Row>, Vec<Row>)> {
    let storage = ctx.storages.clone();
    let job = ctx.block_on(layout::scan_job(storage.as_ref(), location))?;
    let mut savepoint_dirs = Vec::new();
    if let Some(sp) = &ctx.places.savepoints
        && layout::is_job_id(&job.name)
    {
        let prefix = format!("savepoint-{}-", &job.name[..6]);
        let scan = scan_savepoints(ctx, sp)?;
        savepoint_dirs.extend(
            scan.savepoints
                .into_values()
                .filter(|s| s.name.starts_with(&prefix)),
        );
    }
    let read_all = |dirs: Vec<CheckpointDir>, savepoint: bool| -> Vec<Row> {
        let storage = storage.clone();
        ctx.block_on(
            futures_util::stream::iter(dirs)
                .map(|dir| {
                    let storage = storage.clone();
                    async move {
                        let read = match &dir.metadata {
                            None => None,
                            Some(m) => Some(read_one(storage.as_ref(), &m.location).await),
                        };
                        Row {
                            dir,
                            savepoint,
                            read,
                        }
                    }
                })
                .buffered(ctx.concurrency())
                .collect(),
        )
    };
    let rows = read_all(job.checkpoints.values().cloned().collect(), false);
    let sps = read_all(savepoint_dirs, true);
    Ok((job, rows, sps))
}

async fn read_one(storage: &dyn Storage, m: &Location) -> Result<(String, i64, i64), String> {
    let s = snapshot::load(storage, m)
        .await
        .map_err(|e| e.to_string())?;
    let kind = summary::snapshot_kind(&s.metadata, &m.to_string());
    let state = size::sum(s.metadata.operators.iter().map(size::operator));
    Ok((kind.label().to_owned(), state, s.metadata.checkpoint_id))
}

fn restorable(r: &Row, newest: Option<u64>) -> String {
    match &r.read {
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
    let mut t = output::table([
        "SNAPSHOT",
        "TIME",
        "KIND",
        "FILES",
        "SIZE",
        "STATE",
        "RESTORABLE",
    ]);
    for r in rows.iter().chain(savepoints) {
        let (kind, state) = match &r.read {
            Some(Ok((k, s, _))) => (k.clone(), output::bytes(*s)),
            _ => ("-".into(), "-".into()),
        };
        t.add_row([
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
            restorable(r, newest),
        ]);
    }
    output::write_table(out, &t)?;
    Ok(())
}

fn job_json(
    ctx: &Ctx,
    job: &JobDir,
    rows: &[Row],
    savepoints: &[Row],
    now: jiff::Timestamp,
) -> serde_json::Value {
    let newest = job.completed().next_back().and_then(|c| c.id);
    let row = |r: &Row| {
        json!({
            "name": r.dir.name,
            "id": r.dir.id,
            "location": r.dir.location,
            "savepoint": r.savepoint,
            "time": r.dir.metadata.as_ref().and_then(|m| m.modified).or(r.dir.newest).map(|t| t.to_string()),
            "kind": r.read.as_ref().and_then(|x| x.as_ref().ok()).map(|x| x.0.clone()),
            "state_size": r.read.as_ref().and_then(|x| x.as_ref().ok()).map(|x| x.1),
            "files": r.dir.usage.files,
            "bytes": r.dir.usage.bytes,
            "restorable": matches!(r.read, Some(Ok(_))),
            "status": restorable(r, newest),
        })
    };
    json!({
        "job_id": job.name,
        "alias": ctx.places.alias_of(&job.name),
        "location": job.location,
        "files": job.total.files,
        "bytes": job.total.bytes,
        "shared": job.shared,
        "taskowned": job.taskowned,
        "newest_file_time": job.newest.map(|t| t.to_string()),
        "age_seconds": job.newest.map(|t| now.as_second() - t.as_second()),
        "checkpoints": rows.iter().map(row).collect::<Vec<_>>(),
        "savepoints": savepoints.iter().map(row).collect::<Vec<_>>(),
    })
}
