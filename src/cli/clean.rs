//! `flink-chk safe-to-delete`: a cleanup plan that proves every candidate is
//! unreferenced by every kept snapshot.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use serde_json::json;

use super::context::{Ctx, Global};
use super::output::{self, BOLD, DIM};
use crate::analysis::cleanup::{self, Plan, Policy, Reason};
use crate::analysis::snapshot::Rebase;
use crate::resolve::Target;

/// Plan a cleanup of checkpoint storage: every file no kept snapshot
/// references, proven from the kept snapshots' `_metadata`.
///
/// Kept: per job the newest --keep-last completed checkpoints (the newest
/// always), checkpoints in progress, --keep snapshots, savepoints, and every
/// file any of them references — in any job's directory (restore lineages),
/// file-merging and changelog files included; files younger than --min-age;
/// `taskowned/` unless --stopped. Candidates: whole `chk-N/` directories,
/// unreferenced `shared/` (and with --stopped `taskowned/`) files, jobs named
/// by --drop-job, savepoints named by --include-savepoint. The plan is
/// aborted if a kept `_metadata` cannot be read or a listing is empty.
///
/// This build plans only: nothing is deleted.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 plan made (nothing deleted), 3 plan aborted (unreadable kept \
metadata, failed or empty listing, live working directory), 64 usage error."
)]
pub struct CleanArgs {
    /// A checkpoints root or one job (alias, id, directory); default: the profile's checkpoints root.
    #[arg(value_name = "ROOT|JOB", add = clap_complete::engine::ArgValueCompleter::new(super::dynamic::targets))]
    target: Option<String>,
    /// Completed checkpoints kept per job [default: the profile's retention.keep_last, else 3].
    #[arg(long, value_name = "N")]
    keep_last: Option<usize>,
    /// A snapshot always kept (alias@chk-N, a chk-N/ or savepoint directory). Repeatable; adds to the profile's retention.keep.
    #[arg(long, value_name = "SNAPSHOT")]
    keep: Vec<String>,
    /// Files younger than this are kept: a number with s, m, h or d [default: the profile's retention.min_age, else 1h].
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    min_age: Option<Duration>,
    /// A savepoint (directory name) that may be deleted. Repeatable.
    #[arg(long, value_name = "NAME")]
    include_savepoint: Vec<String>,
    /// A job (alias or id) that is gone for good: its snapshots are no longer
    /// kept, only what other jobs' kept snapshots reference survives. Repeatable.
    #[arg(long, value_name = "JOB")]
    drop_job: Vec<String>,
    /// State that no job under the root is running: unreferenced taskowned/
    /// files become candidates and ForSt working directories are allowed.
    #[arg(long)]
    stopped: bool,
    /// Read files recorded under FROM at TO instead (snapshots moved since Flink wrote them). Repeatable.
    #[arg(long, value_name = "FROM=TO")]
    rebase: Vec<String>,
    /// Write the plan as JSON to FILE as well.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    plan_out: Option<PathBuf>,
    /// Print only the plan (this build never deletes; accepted for scripts).
    #[arg(long)]
    dry_run: bool,
    /// List every candidate, not only the first 30.
    #[arg(long)]
    all: bool,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_age(s: &str) -> Result<Duration, String> {
    let (n, unit) = s.split_at(s.trim_end_matches(|c: char| c.is_ascii_alphabetic()).len());
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: expected a number with s, m, h or d (e.g. 1h)"))?;
    let secs = match unit {
        "s" | "" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(format!("{s:?}: unit must be s, m, h or d")),
    };
    Ok(Duration::from_secs(secs))
}

/// Runs the command.
pub fn run(args: CleanArgs, global: &Global) -> Result<u8> {
    let ctx = Ctx::new(global)?;
    let rebase = Rebase::parse(&args.rebase)?;
    let (root, scope) = match &args.target {
        Some(t) => match ctx.resolve(t)? {
            Target::Root(l) => (l.clone(), l),
            Target::Job { location, .. } => (location.parent(), location),
            Target::Snapshot(l) | Target::File(l) => bail!(
                "{l}: give a checkpoints root or a job; to keep or drop single snapshots use --keep / --keep-last"
            ),
        },
        None => match &ctx.places.checkpoints {
            Some(c) => (c.clone(), c.clone()),
            None => bail!(
                "give a checkpoints root or job (no profile with a checkpoints root is selected)"
            ),
        },
    };
    let retention = ctx.profile.as_ref().map(|(_, p)| p.retention.clone());
    let keep_last = args
        .keep_last
        .or_else(|| {
            retention
                .as_ref()
                .and_then(|r| r.keep_last)
                .map(|n| n as usize)
        })
        .unwrap_or(3)
        .max(1);
    let min_age = args
        .min_age
        .or_else(|| retention.as_ref().and_then(|r| r.min_age))
        .unwrap_or(Duration::from_secs(3600));
    let mut keep = Vec::new();
    for k in args
        .keep
        .iter()
        .chain(retention.iter().flat_map(|r| r.keep.iter()))
    {
        let l = match ctx.resolve(k).with_context(|| format!("--keep {k}"))? {
            Target::Snapshot(l) => l,
            Target::File(l) if l.file_name() == "_metadata" => l.parent(),
            other => bail!("--keep {k}: {} is not a snapshot", other.location()),
        };
        keep.push(if l.file_name() == "_metadata" {
            l.parent()
        } else {
            l
        });
    }
    let mut drop_jobs = std::collections::BTreeSet::new();
    for j in &args.drop_job {
        let id = match ctx.resolve(j).with_context(|| format!("--drop-job {j}"))? {
            Target::Job { id, location } => id.unwrap_or_else(|| location.file_name().to_owned()),
            other => bail!(
                "--drop-job {j}: {} is not a job directory",
                other.location()
            ),
        };
        drop_jobs.insert(id);
    }
    let policy = Policy {
        keep_last,
        min_age,
        keep,
        include_savepoints: args.include_savepoint.iter().cloned().collect(),
        drop_jobs,
        stopped: args.stopped,
        now: jiff::Timestamp::now(),
    };
    let savepoints = ctx.places.savepoints.clone();
    let storage = ctx.storages.clone();
    let pb = output::progress("planning");
    let plan = ctx.block_on(cleanup::plan(
        storage.as_ref(),
        cleanup::Roots {
            checkpoints: &root,
            scope: &scope,
            savepoints: savepoints.as_ref(),
        },
        &policy,
        &rebase,
        ctx.concurrency(),
        |what, n| {
            if let Some(pb) = &pb {
                pb.set_message(what.to_owned());
                pb.set_position(n);
            }
        },
    ));
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let plan = plan?;
    let v = to_json(&plan, &policy);
    if let Some(f) = &args.plan_out {
        let text = serde_json::to_string_pretty(&v)?;
        std::fs::write(f, text + "\n").with_context(|| format!("writing {}", f.display()))?;
    }
    let mut out = anstream::stdout();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        human(&mut out, &plan, &policy, &ctx, args.all)?;
    }
    Ok(super::exit::OK)
}

fn to_json(p: &Plan, policy: &Policy) -> serde_json::Value {
    json!({
        "root": p.root,
        "scope": p.scope,
        "savepoints": p.savepoints,
        "deleted": false,
        "policy": {
            "keep_last": policy.keep_last,
            "min_age_seconds": policy.min_age.as_secs(),
            "keep": policy.keep,
            "include_savepoints": policy.include_savepoints,
            "drop_jobs": policy.drop_jobs,
            "stopped": policy.stopped,
            "planned_at": policy.now.to_string(),
        },
        "totals": {
            "candidate_files": p.candidate_files(),
            "candidate_bytes": p.candidate_bytes(),
            "files_listed": p.files_listed,
            "snapshots_read": p.snapshots_read,
            "referenced_files": p.referenced_files,
        },
        "jobs": p.jobs,
        "candidates": p.candidates.iter().map(|c| json!({
            "path": c.path,
            "is_dir": c.is_dir,
            "bytes": c.bytes,
            "files": c.files,
            "reason": c.reason,
            "job": c.job,
            "newest": c.newest.map(|t| t.to_string()),
            "metadata": c.metadata,
        })).collect::<Vec<_>>(),
        "kept": p.kept,
    })
}

fn human(out: &mut impl Write, p: &Plan, policy: &Policy, ctx: &Ctx, all: bool) -> Result<()> {
    writeln!(
        out,
        "{BOLD}Plan for {}{BOLD:#} {DIM}(nothing deleted){DIM:#}",
        p.scope
    )?;
    writeln!(
        out,
        "  reclaimable {} in {} files ({} candidates)",
        output::bytes(p.candidate_bytes() as i64),
        p.candidate_files(),
        p.candidates.len()
    )?;
    writeln!(
        out,
        "  {DIM}kept: newest {} completed checkpoint(s) per job, in-progress checkpoints, savepoints, files younger than {}s; {} kept snapshot(s) read, {} files they reference; {} files listed{DIM:#}",
        policy.keep_last,
        policy.min_age.as_secs(),
        p.snapshots_read,
        p.referenced_files,
        p.files_listed
    )?;
    writeln!(
        out,
        "  {DIM}references read from every job under {}{}{DIM:#}",
        p.root,
        p.savepoints.as_ref().map_or_else(
            || " (no savepoints root: set `savepoints:` in the profile to protect savepoints elsewhere)".to_owned(),
            |s| format!(" and the savepoints under {s}")
        )
    )?;
    if p.candidates.is_empty() {
        writeln!(out, "\nNothing to delete.")?;
        return Ok(());
    }
    writeln!(out)?;
    let mut t = output::table([
        "JOB",
        "ALIAS",
        "KEPT CHECKPOINTS",
        "CANDIDATE FILES",
        "RECLAIMABLE",
        "KEPT",
    ]);
    for (job, tot) in &p.jobs {
        if tot.candidate_files == 0 && tot.kept_files == 0 {
            continue;
        }
        t.add_row([
            job.clone(),
            ctx.places.alias_of(job).unwrap_or("-").to_owned(),
            if tot.kept_checkpoints.is_empty() {
                "-".into()
            } else {
                tot.kept_checkpoints
                    .iter()
                    .map(|i| format!("chk-{i}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            },
            tot.candidate_files.to_string(),
            output::bytes(tot.candidate_bytes as i64),
            output::bytes(tot.kept_bytes as i64),
        ]);
    }
    output::write_table(out, &t)?;
    let mut by_reason: BTreeMap<Reason, (u64, u64, u64)> = BTreeMap::new();
    for c in &p.candidates {
        let e = by_reason.entry(c.reason).or_default();
        e.0 += 1;
        e.1 += c.files;
        e.2 += c.bytes;
    }
    writeln!(out)?;
    let mut t = output::table(["REASON", "CANDIDATES", "FILES", "BYTES"]);
    for (r, (n, f, b)) in &by_reason {
        t.add_row([
            r.label().to_owned(),
            n.to_string(),
            f.to_string(),
            output::bytes(*b as i64),
        ]);
    }
    output::write_table(out, &t)?;
    writeln!(out, "\n{BOLD}Candidates{BOLD:#}")?;
    let mut t = output::table(["PATH", "REASON", "FILES", "BYTES"]);
    let shown = if all { p.candidates.len() } else { 30 };
    for c in p.candidates.iter().take(shown) {
        let path = if c.is_dir {
            format!("{}/", c.path)
        } else {
            c.path.to_string()
        };
        t.add_row([
            path,
            c.reason.label().to_owned(),
            c.files.to_string(),
            output::bytes(c.bytes as i64),
        ]);
    }
    output::write_table(out, &t)?;
    if p.candidates.len() > shown {
        writeln!(
            out,
            "{DIM}… and {} more (--all, or --json){DIM:#}",
            p.candidates.len() - shown
        )?;
    }
    Ok(())
}
