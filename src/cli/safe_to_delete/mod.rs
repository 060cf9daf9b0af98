//! `flink-chk safe-to-delete`: a cleanup plan that proves every candidate is
//! unreferenced by every kept snapshot.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::Args;

use super::context::{Ctx, Global};
use super::output::{self, BOLD};
use std::io::IsTerminal as _;

use crate::analysis::cleanup::apply::{LogEvent, LogRecord};
use crate::analysis::cleanup::{self, PlanFile, Policy};
use crate::analysis::cleanup::{apply, plan_file, revalidate};
use crate::analysis::inventory::{self, Inventory};
use crate::analysis::snapshot::Rebase;
use crate::journal;
use crate::resolve::Target;
use crate::storage::Storage as _;

mod manifest;
mod prompt;
mod render;

use prompt::choose;
use render::{
    AppliedReport, DroppedReport, FailedReport, SkippedReport, human, not_deleted, print_json,
    print_json_with, throttled_line,
};

/// Clean up checkpoint storage: plan what no kept snapshot needs, show it,
/// ask, re-check, delete.
///
/// Kept: per job the newest --keep-last completed checkpoints (the newest
/// always), checkpoints in progress, --keep snapshots, savepoints, and every
/// file any of them references — in any job's directory (restore lineages),
/// file-merging and changelog files included; files younger than --min-age;
/// `taskowned/` unless --stopped. Candidates: whole `chk-N/` directories,
/// unreferenced `shared/` (and with --stopped `taskowned/`) files, jobs named
/// by --drop-job, savepoints named by --include-savepoint. The plan is
/// aborted if a kept `_metadata` cannot be read or a listing fails or is empty.
///
/// On a terminal you choose jobs and kinds of candidates and confirm (default
/// no; large deletions ask for the job id or file count). Without a terminal
/// nothing is deleted unless --yes. Before deleting, storage is re-listed and
/// the newest `_metadata` of every job (and any new snapshot) re-read;
/// candidates that changed or became referenced are dropped. A checkpoint's
/// `_metadata` is deleted first. Every deleted file is appended to the log.
///
/// With --emit-manifest, the files that pass the re-check are written to a
/// manifest for the store's own batch service instead, and nothing is deleted.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("reviewed").args(["apply", "apply_candidates", "yes"]).multiple(true)))]
#[command(
    after_help = "Exit codes: 0 plan shown (--dry-run), nothing to delete, every selected deletion done, or the manifest written (--emit-manifest); \
1 nothing deleted (answered no, or no terminal and no --yes); 2 some deletions failed (see the log; a re-run \
plans what is left); 3 plan aborted (unreadable kept metadata, failed or empty listing, live working directory, \
bad plan file), nothing deleted; 64 usage error.\n\
Log: $XDG_STATE_HOME/flink-chk/deletions.log (JSON lines) unless --log."
)]
pub struct SafeToDeleteArgs {
    /// A checkpoints root or one job (alias, id, directory); default: the profile's checkpoints root.
    #[arg(value_name = "ROOT|JOB", add = clap_complete::engine::ArgValueCompleter::new(super::dynamic::targets))]
    target: Option<String>,
    #[command(flatten)]
    policy: PolicyOptions,
    /// Plan from a storage inventory report instead of listing every file:
    /// an S3 Inventory manifest.json (also OSS, OBS, S3-compatible stores;
    /// CSV or Parquet), a GCS inventory report manifest, an Azure blob
    /// inventory <rule>-manifest.json, an `hdfs oiv -p Delimited` dump, or a
    /// CSV or Parquet file with the columns path,size,last_modified. A path
    /// or URI. Only job and checkpoint
    /// directories are listed live, and every kept _metadata is read live;
    /// ages count from the inventory's time.
    #[arg(long, value_name = "SOURCE", value_hint = clap::ValueHint::AnyPath)]
    inventory: Option<String>,
    /// Re-check and delete the rows another engine selected (the output of
    /// the SQL `refs export --emit-sql` prints: a CSV with the header
    /// path,size,last_modified). A path or URI. The rows are planned again
    /// as an --inventory would be (references read live, layout, ages, and
    /// every candidate checked live before it is deleted): the engine only
    /// narrows, it never decides.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::AnyPath, conflicts_with = "inventory")]
    apply_candidates: Option<String>,
    /// When the --inventory listing was taken (RFC 3339), for oiv, CSV and
    /// Parquet files [default: the file's modification time]. Manifests
    /// (S3, GCS, Azure) give their own.
    #[arg(long, value_name = "TIME")]
    inventory_time: Option<jiff::Timestamp>,
    /// Refuse an --inventory older than this (a warning above 48h), also
    /// when --apply reads a plan made from one: a whole number with s, m, h
    /// or d.
    #[arg(long, value_name = "AGE", default_value = "7d", value_parser = crate::profile::parse_duration)]
    max_inventory_age: Duration,
    /// Write the plan as JSON to FILE as well.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    plan_out: Option<PathBuf>,
    /// Print the plan and stop: nothing is deleted, nothing asked.
    #[arg(long, conflicts_with = "yes")]
    dry_run: bool,
    /// Delete without asking (what the plan lists, after the re-check). For scripts.
    #[arg(long, short = 'y')]
    yes: bool,
    /// Apply a plan written earlier by --plan-out instead of planning now
    /// (re-checked against storage first: sizes, times, new snapshots).
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath,
          conflicts_with_all = ["target", "keep_last", "keep", "min_age", "include_savepoint", "drop_job", "stopped", "inventory", "apply_candidates"])]
    apply: Option<PathBuf>,
    /// Append the deletion log (one JSON line per deleted file) to FILE
    /// [default: $XDG_STATE_HOME/flink-chk/deletions.log].
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    log: Option<PathBuf>,
    /// List every candidate, not only the first 30.
    #[arg(long)]
    all: bool,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
    /// Delete nothing: re-check as a deletion would, then write the files
    /// that pass (whole checkpoint directories listed file by file) to FILE
    /// for the store's batch service. s3-batch-tags: an S3 Batch Operations
    /// CSV manifest (bucket,key; keys URL-encoded) for a job that tags them,
    /// with FILE.operation.json (the tagging) and FILE.lifecycle.json (a
    /// rule expiring the tag) beside it; for s3:// and oss:// roots.
    /// gcs-batch: a Cloud Storage batch operations manifest
    /// (bucket,name,generation) for a delete job; for gs:// roots. Needs a
    /// reviewed plan: --apply PLAN, --apply-candidates FILE or --yes. The
    /// batch service acts later, on a re-check that has aged (see the README).
    #[arg(long, num_args = 2, value_names = ["FORMAT", "FILE"], conflicts_with = "dry_run", requires = "reviewed")]
    emit_manifest: Option<Vec<String>>,
}

/// The options a cleanup policy is built from: `safe-to-delete` and
/// `refs export` take them, under the same names.
#[derive(Debug, Args)]
pub(crate) struct PolicyOptions {
    /// Completed checkpoints kept per job, at least 1 [default: the profile's retention.keep_last, else 3].
    #[arg(long, value_name = "N", value_parser = crate::profile::parse_keep_last)]
    pub(crate) keep_last: Option<u32>,
    /// A snapshot always kept (alias@chk-N, a chk-N/ or savepoint directory). Repeatable; adds to the profile's retention.keep.
    #[arg(long, value_name = "SNAPSHOT")]
    pub(crate) keep: Vec<String>,
    /// Files younger than this are kept: a whole number with s, m, h or d, as in the profile [default: the profile's retention.min_age, else 1h].
    #[arg(long, value_name = "AGE", value_parser = crate::profile::parse_duration)]
    pub(crate) min_age: Option<Duration>,
    /// A savepoint (directory name) that may be deleted. Repeatable.
    #[arg(long, value_name = "NAME")]
    pub(crate) include_savepoint: Vec<String>,
    /// A job (alias or id) that is gone for good: its snapshots are no longer
    /// kept, only what other jobs' kept snapshots reference survives. Repeatable.
    #[arg(long, value_name = "JOB")]
    pub(crate) drop_job: Vec<String>,
    /// State that no job under the root is running: unreferenced taskowned/
    /// files become candidates and ForSt working directories are allowed.
    #[arg(long)]
    pub(crate) stopped: bool,
    /// Read files recorded under FROM at TO instead (snapshots moved since Flink wrote them). Repeatable.
    #[arg(long, value_name = "FROM=TO")]
    pub(crate) rebase: Vec<String>,
}

// Exit codes: numbers and help words in `cli::exit`.
use super::exit::SafeToDelete as Exit;

/// A deletion counts as large (the confirmation asks to type the job id or
/// the file count) from this many bytes …
const LARGE_BYTES: u64 = 10 << 30;
/// … or files, or when a whole job directory goes.
const LARGE_FILES: u64 = 10_000;

/// Runs the command.
pub fn run(args: SafeToDeleteArgs, global: &Global) -> Result<Exit> {
    let emit = args
        .emit_manifest
        .as_deref()
        .map(manifest::Emit::parse)
        .transpose()?;
    let ctx = Ctx::new(global)?;
    let (mut plan, rebase_specs) = match &args.apply {
        Some(file) => {
            let plan = read_plan(file)?;
            if let Some(e) = &emit {
                e.format.check_root(&plan.root)?;
            }
            let specs = if args.policy.rebase.is_empty() {
                plan.policy.rebase.clone()
            } else {
                args.policy.rebase.clone()
            };
            (plan, specs)
        }
        None => (
            make_plan(&args, &ctx, emit.as_ref())?,
            args.policy.rebase.clone(),
        ),
    };
    let rebase = Rebase::parse(&rebase_specs)?;
    // A plan file applied before (a run killed or stopped by failures): the
    // files the deletion log records as deleted by it are not asked about
    // again.
    if args.apply.is_some() {
        resume(&mut plan, args.log.as_deref())?;
    }
    // A plan file is not trusted: it is planned again now under the policy
    // it records, and only candidates of both plans can go.
    let mut unconfirmed = Vec::new();
    if args.apply.is_some() {
        let fresh = replan(&plan, &rebase, &ctx, args.max_inventory_age)?;
        let (ok, not) = plan_file::confirm(&plan.candidates, &fresh.candidates)?;
        plan.candidates = ok;
        unconfirmed = not.to_vec()?;
        // A directory a killed run emptied before logging all of it is done.
        let mut left = Vec::with_capacity(unconfirmed.len());
        for c in unconfirmed {
            if !ctx.block_on(cleanup::resume::emptied(ctx.storages.as_ref(), &c))? {
                left.push(c);
            }
        }
        unconfirmed = left;
    }
    if let Some(f) = &args.plan_out {
        let write = || -> std::io::Result<()> {
            let mut w = std::io::BufWriter::new(std::fs::File::create(f)?);
            plan.write_lines(&mut w)
        };
        write().with_context(|| format!("writing {}", f.display()))?;
    }
    let mut out = anstream::stdout();
    if let (Some(file), Some(rows), false) = (
        &args.apply_candidates,
        &plan.totals.inventory_rows,
        args.json,
    ) {
        output::note(&format!(
            "{file}: {} engine row(s) under the scope planned again with the references read now; {} file(s) confirmed as candidates, the rest kept (see below)",
            rows.in_scope,
            plan.candidates.files()
        ));
    }
    if !args.json {
        human(&mut out, &plan, &ctx, args.all, args.apply.as_deref())?;
        out.flush()?;
    }
    // A manifest is written even for an empty plan: an older one at FILE
    // must not be taken for this plan's.
    if args.dry_run || (plan.candidates.is_empty() && emit.is_none()) {
        // A plan file's entries that planning again does not confirm are
        // reported here too, as the real apply reports them.
        if !unconfirmed.is_empty() && !args.json {
            not_deleted(
                &mut out,
                unconfirmed
                    .iter()
                    .map(|c| (c, &revalidate::Dropped::NotPlannedNow)),
                unconfirmed.len(),
                None,
                args.all,
            )?;
        }
        let not_planned = revalidate::Dropped::NotPlannedNow;
        let dropped: Vec<DroppedReport<'_>> = unconfirmed
            .iter()
            .map(|c| DroppedReport::of(c, &not_planned))
            .collect();
        print_json_with(args.json, &plan, None, dropped)?;
        return Ok(Exit::Ok);
    }
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    // --emit-manifest deletes nothing, and needs a reviewed plan (clap).
    let selected = if args.yes || emit.is_some() {
        plan.candidates.to_vec()?
    } else if !interactive {
        print_json(args.json, &plan, None)?;
        output::warn(
            "nothing deleted: not a terminal, so no one to ask. Re-run with --yes to delete the plan \
             above (it is checked again first), or --dry-run to only plan",
        );
        return Ok(Exit::Declined);
    } else {
        match choose(&plan, &ctx)? {
            Some(s) => s.to_vec()?,
            None => {
                print_json(args.json, &plan, None)?;
                output::note("nothing deleted");
                return Ok(Exit::Declined);
            }
        }
    };
    if selected.is_empty() && emit.is_none() {
        print_json(args.json, &plan, None)?;
        output::note("nothing selected; nothing deleted");
        return Ok(Exit::Declined);
    }

    // Re-check against storage as it is now.
    let storage = ctx.storages.clone();
    let mut validated = output::with_phases("re-checking", |progress| {
        ctx.block_on(revalidate::revalidate(
            storage.as_ref(),
            &plan,
            selected,
            &rebase,
            ctx.concurrency(),
            progress,
        ))
    })?;
    validated.dropped.extend(
        unconfirmed
            .into_iter()
            .map(|c| (c, revalidate::Dropped::NotPlannedNow)),
    );
    if !validated.dropped.is_empty() && !args.json {
        not_deleted(
            &mut out,
            validated.dropped.iter().map(|(c, w)| (c, w)),
            validated.dropped.len(),
            Some(validated.snapshots_read),
            args.all,
        )?;
    }

    let log_path = match &args.log {
        Some(p) => p.clone(),
        None => default_log()?,
    };
    if let Some(e) = &emit {
        manifest::emit(e, &ctx, &plan, &validated, &log_path, args.json)?;
        return Ok(Exit::Ok);
    }

    // Delete, logging every file.
    let mut log = journal::Writer::open(&log_path, "the deletion log")?;
    log.append(&LogRecord::Start {
        bytes: validated.bytes(),
        event: LogEvent::Start,
        files: validated.files(),
        planned_at: plan.policy.planned_at.to_string(),
        root: plan.root.clone(),
        scope: plan.scope.clone(),
        time: jiff::Timestamp::now().to_string(),
    })?;
    let pb = output::progress_bar(validated.files(), "deleting");
    let crash_after: Option<u64> = std::env::var(CRASH_AFTER_ENV)
        .ok()
        .and_then(|v| v.parse().ok());
    let mut logged = 0u64;
    let mut log_err: Option<std::io::Error> = None;
    // A deletion that cannot be logged stops the run before the next batch.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let applied = ctx.block_on(async {
        Ok::<_, anyhow::Error>(
            apply::apply_until(storage.as_ref(), &validated, &stop, |ev| {
                if let apply::Event::Deleted {
                    path,
                    bytes,
                    candidate,
                } = &ev
                {
                    if let Some(pb) = &pb {
                        pb.inc(1);
                    }
                    if let Err(e) = log.append(&LogRecord::deleted(path, *bytes, candidate)) {
                        stop.store(true, std::sync::atomic::Ordering::SeqCst);
                        log_err.get_or_insert(e);
                    }
                    logged += 1;
                    if crash_after == Some(logged) {
                        // A crash point for tests: dies as `kill -9` would.
                        std::process::abort();
                    }
                } else if let apply::Event::Failed { path, error } = &ev
                    && let Some(pb) = &pb
                {
                    pb.println(output::printable(&format!("failed: {path}: {error}")));
                }
            })
            .await,
        )
    })?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    if let Some(e) = log_err {
        output::error(
            &mut anstream::stderr(),
            &anyhow::Error::new(e).context(format!(
                "writing the deletion log {}: stopped after {} deleted files (those of the batch that was being logged are deleted but may be missing from the log)",
                log_path.display(),
                applied.deleted_files
            )),
        )?;
        return Ok(Exit::Partial);
    }
    log.append(&LogRecord::End {
        deleted_bytes: applied.deleted_bytes,
        deleted_files: applied.deleted_files,
        event: LogEvent::End,
        failed: applied.failed.len(),
        time: jiff::Timestamp::now().to_string(),
    })?;
    plan.deleted = applied.deleted_files > 0;
    let code = if applied.failed.is_empty() {
        Exit::Ok
    } else {
        Exit::Partial
    };
    if args.json {
        print_json(
            true,
            &plan,
            Some(AppliedReport {
                deleted_bytes: applied.deleted_bytes,
                deleted_files: applied.deleted_files,
                dirs_left: &applied.dirs_left,
                dirs_removed: applied.dirs_removed,
                dropped: validated
                    .dropped
                    .iter()
                    .map(|(c, w)| DroppedReport::of(c, w))
                    .collect(),
                failed: applied
                    .failed
                    .iter()
                    .map(|(path, error)| FailedReport { error, path })
                    .collect(),
                log: &log_path,
                skipped: applied
                    .skipped
                    .iter()
                    .map(|(path, why)| SkippedReport { path, why })
                    .collect(),
                snapshots_rechecked: validated.snapshots_read,
                throttled: applied.throttled,
            }),
        )?;
    } else {
        writeln!(
            out,
            "\n{BOLD}Deleted {} files, {} freed{BOLD:#}{}; log: {}",
            applied.deleted_files,
            output::bytes(applied.deleted_bytes as i64),
            if applied.dirs_removed > 0 {
                format!(" ({} empty directories removed)", applied.dirs_removed)
            } else {
                String::new()
            },
            log_path.display()
        )?;
        if let Some(line) = throttled_line(&applied.throttled) {
            writeln!(out, "  {line}")?;
        }
        if !applied.skipped.is_empty() {
            writeln!(
                out,
                "  left alone: {} file(s) (written, referenced or linked since the re-check, or special), e.g. {} ({})",
                applied.skipped.len(),
                output::printable(&applied.skipped[0].0),
                applied.skipped[0].1
            )?;
        }
        if !applied.failed.is_empty() {
            writeln!(
                out,
                "  {}{} deletion(s) failed{:#}, e.g. {}: {}",
                output::ERR,
                applied.failed.len(),
                output::ERR,
                output::printable(&applied.failed[0].0),
                output::printable(&applied.failed[0].1)
            )?;
            for d in &applied.dirs_left {
                writeln!(
                    out,
                    "  left whole (its _metadata could not be deleted): {}",
                    output::printable(d)
                )?;
            }
            writeln!(
                out,
                "  nothing kept was touched; run safe-to-delete again to plan what is left"
            )?;
        }
    }
    Ok(code)
}

/// A crash point for tests: the process aborts (no end record, nothing
/// flushed) right after logging this many deletions.
const CRASH_AFTER_ENV: &str = "FLINK_CHK_CRASH_AFTER_DELETES";

/// Drops from `plan` the files that earlier runs of it logged as deleted.
fn resume(plan: &mut PlanFile, log: Option<&std::path::Path>) -> Result<()> {
    let path = match log {
        Some(p) => p.to_owned(),
        None => match default_log() {
            Ok(p) => p,
            Err(_) => return Ok(()),
        },
    };
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!(
                "reading the deletion log {} (to resume an earlier run of this plan)",
                path.display()
            )));
        }
    };
    let mut r = cleanup::resume::Resume::new(plan);
    journal::read_each(std::io::BufReader::with_capacity(1 << 16, file), |rec| {
        r.record(rec)
    })
    .with_context(|| format!("reading the deletion log {}", path.display()))?;
    if r.is_empty() {
        return Ok(());
    }
    let before = plan.candidates.len();
    plan.candidates = plan.candidates.filter_map(|c| r.remaining(c))?;
    plan.totals.candidate_files = plan.candidates.files();
    plan.totals.candidate_bytes = plan.candidates.bytes();
    // On stderr, with --json too: the JSON reports this run only.
    output::note(&format!(
        "{}: {} run(s) of this plan {} ({}): {} file(s) they deleted are skipped, {} of the plan's {} candidates remain",
        path.display(),
        r.runs,
        if r.finished {
            "applied before"
        } else {
            "stopped before the end"
        },
        if r.finished { "ended" } else { "resuming" },
        r.len(),
        plan.candidates.len(),
        before
    ));
    Ok(())
}

fn read_plan(file: &std::path::Path) -> Result<PlanFile> {
    let f = std::fs::File::open(file).with_context(|| format!("reading {}", file.display()))?;
    PlanFile::read(std::io::BufReader::with_capacity(1 << 16, f))
        .with_context(|| file.display().to_string())
}

/// Plans again now, under the policy and roots a plan file records (from
/// the same inventory, if it was planned from one).
fn replan(file: &PlanFile, rebase: &Rebase, ctx: &Ctx, max_age: Duration) -> Result<PlanFile> {
    let roots = cleanup::Roots {
        checkpoints: &file.root,
        scope: &file.scope,
        savepoints: file.savepoints.as_ref(),
    };
    let inventory = match &file.policy.inventory {
        Some(rec) => {
            let given = (rec.time_from == inventory::TimeFrom::Given).then_some(rec.time);
            let inv = open_inventory(ctx, &rec.source, given, max_age)?;
            if inv.time != rec.time {
                bail!(
                    "{}: the inventory now says it was taken {}, the plan was made from one taken {}; plan again",
                    rec.source,
                    inv.time,
                    rec.time
                );
            }
            Some(inv)
        }
        None => None,
    };
    let policy = file.policy.policy(
        inventory
            .as_ref()
            .map_or_else(jiff::Timestamp::now, |i| i.time),
    );
    run_plan(
        ctx,
        roots,
        &policy,
        rebase,
        &file.policy.rebase,
        inventory.as_ref(),
        "planning again",
    )
}

/// Opens and checks an inventory report; warns when it is old.
pub(crate) fn open_inventory(
    ctx: &Ctx,
    source: &crate::storage::Location,
    time: Option<jiff::Timestamp>,
    max_age: Duration,
) -> Result<Inventory> {
    let opts = inventory::OpenOptions { time };
    let inv = ctx.block_on(Inventory::open(ctx.storages.as_ref(), source, &opts))?;
    if let Some(w) = inv.check_age(jiff::Timestamp::now(), max_age)? {
        output::warn(&w);
    }
    Ok(inv)
}

/// Plans with a progress display; the plan in its file form.
fn run_plan(
    ctx: &Ctx,
    roots: cleanup::Roots<'_>,
    policy: &Policy,
    rebase: &Rebase,
    rebase_specs: &[String],
    inventory: Option<&Inventory>,
    label: &str,
) -> Result<PlanFile> {
    let files = match inventory {
        Some(inventory) => cleanup::Files::Inventory {
            inventory,
            storage: ctx.storages.clone(),
        },
        None => cleanup::Files::Live,
    };
    let plan = output::with_phases(label, |progress| {
        ctx.block_on(cleanup::plan_from(
            ctx.storages.as_ref(),
            roots,
            policy,
            rebase,
            ctx.concurrency(),
            files,
            progress,
        ))
    })?;
    Ok(PlanFile::new(plan, policy, rebase_specs))
}

fn make_plan(
    args: &SafeToDeleteArgs,
    ctx: &Ctx,
    emit: Option<&manifest::Emit>,
) -> Result<PlanFile> {
    let rebase = Rebase::parse(&args.policy.rebase)?;
    // A root in a store the manifest is not for is refused before anything
    // is read (a URI given, or the profile's root), and again once resolved.
    if let Some(e) = emit {
        let given = match &args.target {
            Some(t) if t.contains("://") => crate::storage::Location::parse(t).ok(),
            Some(_) => None,
            None => ctx.places.checkpoints.clone(),
        };
        if let Some(root) = given {
            e.format.check_root(&root)?;
        }
    }
    let Resolved {
        root,
        scope,
        policy,
        inventory,
    } = resolve_policy(
        ctx,
        &PolicyArgs {
            target: args.target.as_deref(),
            options: &args.policy,
            inventory: args.inventory.as_deref(),
            apply_candidates: args.apply_candidates.as_deref(),
            inventory_time: args.inventory_time,
            max_inventory_age: args.max_inventory_age,
        },
    )?;
    if let Some(e) = emit {
        e.format.check_root(&root)?;
    }
    let savepoints = ctx.places.savepoints.clone();
    let roots = cleanup::Roots {
        checkpoints: &root,
        scope: &scope,
        savepoints: savepoints.as_ref(),
    };
    run_plan(
        ctx,
        roots,
        &policy,
        &rebase,
        &args.policy.rebase,
        inventory.as_ref(),
        "planning",
    )
}

/// The options a cleanup policy is built from (`safe-to-delete` and
/// `refs export` take them under the same names).
pub(crate) struct PolicyArgs<'a> {
    pub(crate) target: Option<&'a str>,
    pub(crate) options: &'a PolicyOptions,
    pub(crate) inventory: Option<&'a str>,
    pub(crate) apply_candidates: Option<&'a str>,
    pub(crate) inventory_time: Option<jiff::Timestamp>,
    pub(crate) max_inventory_age: Duration,
}

/// Root, scope and policy (the profile's retention filling what the
/// options leave out), and the inventory opened and checked.
pub(crate) struct Resolved {
    pub(crate) root: crate::storage::Location,
    pub(crate) scope: crate::storage::Location,
    pub(crate) policy: Policy,
    pub(crate) inventory: Option<Inventory>,
}

/// Builds the policy from [`PolicyArgs`] and the profile.
pub(crate) fn resolve_policy(ctx: &Ctx, args: &PolicyArgs<'_>) -> Result<Resolved> {
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
        .options
        .keep_last
        .or_else(|| retention.as_ref().and_then(|r| r.keep_last))
        .map_or(3, |n| n as usize);
    let min_age = args
        .options
        .min_age
        .or_else(|| retention.as_ref().and_then(|r| r.min_age))
        .unwrap_or(Duration::from_secs(3600));
    let mut keep = Vec::new();
    let from_profile = retention.iter().flat_map(|r| r.keep.iter());
    for (k, typed) in args
        .options
        .keep
        .iter()
        .map(|k| (k, true))
        .chain(from_profile.map(|k| (k, false)))
    {
        let resolved = ctx.resolve(k).with_context(|| format!("--keep {k}"));
        let l = match resolved {
            Ok(Target::Snapshot(l)) => l,
            Ok(Target::File(l)) if l.file_name() == "_metadata" => l.parent(),
            Ok(other) if typed => bail!("--keep {k}: {} is not a snapshot", other.location()),
            Err(e) if typed => return Err(e),
            // A profile entry for a snapshot that is gone (Flink discarded
            // it, or it was deleted by hand) does not block every run.
            Ok(_) | Err(_) => {
                output::warn(&format!(
                    "retention.keep {k}: no such snapshot any more; ignored (remove it from the profile)"
                ));
                continue;
            }
        };
        let l = if l.file_name() == "_metadata" {
            l.parent()
        } else {
            l
        };
        if !typed {
            let storage = ctx.storages.clone();
            let exists = ctx.block_on(storage.stat(&l.join("_metadata")))?;
            if exists.is_none() {
                output::warn(&format!(
                    "retention.keep {k}: {l} has no _metadata any more; ignored (remove it from the profile)"
                ));
                continue;
            }
        }
        keep.push(l);
    }
    let mut drop_jobs = std::collections::BTreeSet::new();
    for j in &args.options.drop_job {
        if crate::analysis::layout::is_job_id(j) {
            drop_jobs.insert(j.clone());
            continue;
        }
        let id = match ctx.resolve(j).with_context(|| format!("--drop-job {j}"))? {
            Target::Job { id, location } => id.unwrap_or_else(|| location.file_name().to_owned()),
            other => bail!(
                "--drop-job {j}: {} is not a job directory",
                other.location()
            ),
        };
        drop_jobs.insert(id);
    }
    let from = match (&args.inventory, &args.apply_candidates) {
        (Some(s), _) => Some(("--inventory", s)),
        (None, Some(s)) => Some(("--apply-candidates", s)),
        (None, None) => None,
    };
    if from.is_none() && args.inventory_time.is_some() {
        bail!(
            "--inventory-time is the time of an --inventory or --apply-candidates file: give one"
        );
    }
    let inventory = match from {
        Some((flag, s)) => {
            let source = crate::storage::Location::parse(&crate::storage::expand_home(s))
                .with_context(|| format!("{flag} {s}"))?;
            let inv = open_inventory(ctx, &source, args.inventory_time, args.max_inventory_age)?;
            if flag == "--apply-candidates"
                && !matches!(inv.kind, inventory::Kind::Csv | inventory::Kind::Parquet)
            {
                bail!(
                    "--apply-candidates {s}: this is a {}, not an engine's candidate rows (a CSV with the header path,size,last_modified, or Parquet with those columns); give it as --inventory",
                    inv.kind.label()
                );
            }
            Some(inv)
        }
        None => None,
    };
    let policy = Policy {
        keep_last,
        min_age,
        keep,
        include_savepoints: args.options.include_savepoint.iter().cloned().collect(),
        drop_jobs,
        stopped: args.options.stopped,
        // Files are only as old as the inventory says.
        now: inventory
            .as_ref()
            .map_or_else(jiff::Timestamp::now, |i| i.time),
    };
    Ok(Resolved {
        root,
        scope,
        policy,
        inventory,
    })
}

/// The deletion log: JSON lines, appended, flushed per line.
/// `$XDG_STATE_HOME/flink-chk/deletions.log` (or the platform's local data dir).
fn default_log() -> Result<PathBuf> {
    journal::default_path("deletions.log")
        .context("no state directory for the deletion log; pass --log FILE")
}
