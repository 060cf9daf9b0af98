//! `flink-chk refs export`: the reference set of every kept snapshot as a
//! Parquet or CSV file, and (`--emit-sql`) the engine script that subtracts
//! it from a storage inventory.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::context::{Ctx, Global};
use super::exit::Exit;
use super::output::{self, BOLD};
use super::safe_to_delete::{PolicyArgs, PolicyOptions, resolve_policy};
use crate::analysis::cleanup;
use crate::analysis::export::{self, Format, RowWriter, sql};
use crate::analysis::snapshot::Rebase;
use crate::storage::Location;

/// Reference sets of kept snapshots, for engines that run the cleanup's
/// anti-join at scale.
#[derive(Debug, Args)]
pub struct RefsArgs {
    #[command(subcommand)]
    command: RefsCommand,
}

#[derive(Debug, Subcommand)]
enum RefsCommand {
    Export(ExportArgs),
}

/// Write every file the kept snapshots reference (canonical paths, as
/// safe-to-delete compares them) and the kept snapshot directories, as
/// Parquet or CSV: columns kind (ref | kept_dir), path, snapshot.
///
/// The keep set is the one safe-to-delete would decide with the same
/// options (--keep-last, --keep, --min-age, --include-savepoint,
/// --drop-job, --stopped, the profile's retention); job and checkpoint
/// directories are listed live and every kept _metadata is read live. An
/// unreadable kept _metadata fails the export and nothing is left at FILE.
///
/// With --emit-sql ENGINE and --inventory SOURCE it also prints the script
/// (Flink batch SQL, Spark SQL, Trino) that subtracts the export from the
/// inventory: rows under the root in Flink's layout, not modified after the
/// cutoff (the inventory's time minus --min-age), not referenced, not in a
/// kept directory; output CSV path,size,last_modified. The engine deletes
/// nothing: feed its output to `safe-to-delete --apply-candidates`, which
/// re-checks every row live.
#[derive(Debug, Args)]
#[command(after_help = super::exit::refs_help())]
struct ExportArgs {
    /// A checkpoints root or one job (alias, id, directory); default: the profile's checkpoints root.
    #[arg(value_name = "ROOT|JOB", add = clap_complete::engine::ArgValueCompleter::new(super::dynamic::targets))]
    target: Option<String>,
    /// The export file (written beside as FILE.partial, renamed when complete).
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    out: PathBuf,
    /// File format [default: from the extension of --out, .csv or .parquet; else parquet].
    #[arg(long, value_name = "FORMAT")]
    format: Option<FileFormat>,
    #[command(flatten)]
    policy: PolicyOptions,
    /// The storage inventory report the SQL reads (an S3 Inventory manifest.json, a GCS inventory report manifest, an Azure <rule>-manifest.json, an `hdfs oiv -p Delimited` dump, or a CSV or Parquet path,size,last_modified; Parquet reports for spark only); its time is "now" for ages.
    #[arg(long, value_name = "SOURCE", value_hint = clap::ValueHint::AnyPath)]
    inventory: Option<String>,
    /// When the --inventory listing was taken (RFC 3339), for oiv and CSV files [default: the file's modification time].
    #[arg(long, value_name = "TIME", requires = "inventory")]
    inventory_time: Option<jiff::Timestamp>,
    /// Refuse an --inventory older than this: a whole number with s, m, h or d.
    #[arg(long, value_name = "AGE", default_value = "7d", value_parser = crate::profile::parse_duration)]
    max_inventory_age: Duration,
    /// Print the anti-join for this engine: flink (batch SQL), spark, trino. Needs --inventory.
    #[arg(long, value_name = "ENGINE", requires = "inventory")]
    emit_sql: Option<SqlEngine>,
    /// Write the SQL to FILE instead of stdout.
    #[arg(long, value_name = "FILE", requires = "emit_sql", value_hint = clap::ValueHint::FilePath)]
    sql_out: Option<PathBuf>,
    /// Where the engine reads the export [default: --out as a local file].
    #[arg(long, value_name = "URI", requires = "emit_sql")]
    sql_refs: Option<String>,
    /// The directory the engine writes the candidates CSV into [default: FILE.candidates beside --out].
    #[arg(long, value_name = "URI", requires = "emit_sql")]
    sql_candidates: Option<String>,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FileFormat {
    /// Apache Parquet (ZSTD).
    Parquet,
    /// CSV with the header kind,path,snapshot.
    Csv,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SqlEngine {
    /// Apache Flink batch SQL (SQL client, TableEnvironment).
    Flink,
    /// Spark SQL.
    Spark,
    /// Trino (Hive catalog).
    Trino,
}

/// `--json`.
#[derive(Debug, Serialize)]
struct Report<'a> {
    out: &'a Path,
    format: Format,
    root: String,
    scope: String,
    snapshots_read: usize,
    kept_dirs: usize,
    references: u64,
    references_read: u64,
    inventory: Option<crate::analysis::inventory::Record>,
    cutoff: Option<String>,
    sql: Option<SqlReport<'a>>,
}

#[derive(Debug, Serialize)]
struct SqlReport<'a> {
    engine: sql::Engine,
    file: Option<&'a Path>,
    candidates: String,
}

/// Runs `refs`.
pub fn run(args: RefsArgs, global: &Global) -> Result<Exit> {
    match args.command {
        RefsCommand::Export(a) => export_cmd(a, global),
    }
}

fn export_cmd(args: ExportArgs, global: &Global) -> Result<Exit> {
    let ctx = Ctx::new(global)?;
    let format = match args.format {
        Some(FileFormat::Parquet) => Format::Parquet,
        Some(FileFormat::Csv) => Format::Csv,
        None => Format::from_name(&args.out.to_string_lossy()).unwrap_or(Format::Parquet),
    };
    let rebase = Rebase::parse(&args.policy.rebase)?;
    let resolved = resolve_policy(
        &ctx,
        &PolicyArgs {
            target: args.target.as_deref(),
            options: &args.policy,
            inventory: args.inventory.as_deref(),
            apply_candidates: None,
            inventory_time: args.inventory_time,
            max_inventory_age: args.max_inventory_age,
        },
    )?;
    let savepoints = ctx.places.savepoints.clone();
    let roots = cleanup::Roots {
        checkpoints: &resolved.root,
        scope: &resolved.scope,
        savepoints: savepoints.as_ref(),
    };
    let storage = ctx.storages.clone();
    let keep = output::with_phases("deciding what is kept", |progress| {
        ctx.block_on(cleanup::keep_set(
            storage.as_ref(),
            roots,
            &resolved.policy,
            ctx.concurrency(),
            true,
            progress,
        ))
    })
    .with_context(|| format!("nothing written to {}", args.out.display()))?;

    // Written beside, renamed when whole: a failed export leaves nothing at --out.
    let totals = output::write_whole(&args.out, |out| {
        let mut w = RowWriter::new(format, out)?;
        let totals = output::with_phases("reading kept snapshots", |progress| {
            ctx.block_on(export::export(
                storage.as_ref(),
                &keep,
                &rebase,
                ctx.concurrency(),
                &mut w,
                |n| progress("reading kept snapshots", n),
            ))
        })?;
        w.finish()?;
        Ok(totals)
    })
    .with_context(|| {
        format!(
            "nothing written to {} (the export is incomplete)",
            args.out.display()
        )
    })?;

    let min_age = resolved.policy.min_age;
    let cutoff = resolved.inventory.as_ref().map(|i| {
        jiff::SignedDuration::try_from(min_age)
            .ok()
            .and_then(|a| i.time.checked_sub(a).ok())
            .unwrap_or(i.time)
    });
    let mut sql_report = None;
    if let (Some(engine), Some(inv), Some(cutoff)) =
        (args.emit_sql, resolved.inventory.as_ref(), cutoff)
    {
        let engine = match engine {
            SqlEngine::Flink => sql::Engine::Flink,
            SqlEngine::Spark => sql::Engine::Spark,
            SqlEngine::Trino => sql::Engine::Trino,
        };
        let report = ctx.block_on(sql::Report::describe(storage.as_ref(), inv))?;
        let abs = std::path::absolute(&args.out)?;
        let refs = match &args.sql_refs {
            Some(u) => Location::parse(u).with_context(|| format!("--sql-refs {u}"))?,
            None => Location::parse(&abs.to_string_lossy())?,
        };
        let candidates = match &args.sql_candidates {
            Some(u) => Location::parse(u).with_context(|| format!("--sql-candidates {u}"))?,
            None => Location::parse(&format!("{}.candidates", abs.display()))?,
        };
        let jobs = export::newest_per_job(&keep, &resolved.root);
        let dropped: Vec<String> = resolved.policy.drop_jobs.iter().cloned().collect();
        let about = vec![
            format!(
                "Policy: keep-last {}, min-age {}s{}{}{}.",
                resolved.policy.keep_last,
                min_age.as_secs(),
                if resolved.policy.stopped {
                    ", stopped"
                } else {
                    ""
                },
                if dropped.is_empty() {
                    String::new()
                } else {
                    format!(", drop-job {}", dropped.join(" "))
                },
                if resolved.policy.keep.is_empty() {
                    String::new()
                } else {
                    format!(", {} --keep snapshot(s)", resolved.policy.keep.len())
                },
            ),
            format!(
                "Export: {} ({} references of {} kept snapshots, {} kept directories).",
                args.out.display(),
                totals.references,
                totals.snapshots_read,
                totals.kept_dirs
            ),
        ];
        let script = sql::Script {
            engine,
            root: &resolved.root,
            scope: &resolved.scope,
            report: &report,
            refs: &refs,
            refs_format: format,
            out: &candidates,
            cutoff,
            jobs: &jobs,
            dropped: &dropped,
            stopped: resolved.policy.stopped,
            rebase: &rebase,
            about: &about,
        }
        .render()?;
        match &args.sql_out {
            Some(f) => {
                std::fs::write(f, &script).with_context(|| format!("writing {}", f.display()))?
            }
            None => {
                let mut out = anstream::stdout();
                out.write_all(script.as_bytes())?;
                out.flush()?;
            }
        }
        sql_report = Some(SqlReport {
            engine,
            file: args.sql_out.as_deref(),
            candidates: engine.uri(&candidates),
        });
    }

    if args.json {
        let report = Report {
            out: &args.out,
            format,
            root: resolved.root.to_string(),
            scope: resolved.scope.to_string(),
            snapshots_read: totals.snapshots_read,
            kept_dirs: totals.kept_dirs,
            references: totals.references,
            references_read: totals.references_read,
            inventory: resolved.inventory.as_ref().map(|i| i.record()),
            cutoff: cutoff.map(|c| c.to_string()),
            sql: sql_report,
        };
        if args.emit_sql.is_some() && args.sql_out.is_none() {
            // stdout holds the script: the summary goes to stderr.
            output::print_json(&mut anstream::stderr(), &report)?;
        } else {
            output::print_json(&mut anstream::stdout(), &report)?;
        }
        return Ok(Exit::Ok);
    }
    // With the script on stdout, the summary goes to stderr.
    let mut out: Box<dyn std::io::Write> = if args.emit_sql.is_some() && args.sql_out.is_none() {
        Box::new(anstream::stderr())
    } else {
        Box::new(anstream::stdout())
    };
    writeln!(
        out,
        "{BOLD}Exported {} referenced files of {} kept snapshots{BOLD:#} ({} kept directories) to {} ({})",
        totals.references,
        totals.snapshots_read,
        totals.kept_dirs,
        output::printable(&args.out.display().to_string()),
        match format {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
        }
    )?;
    writeln!(
        out,
        "  root {}{}",
        output::printable(&resolved.root.to_string()),
        if resolved.scope != resolved.root {
            format!(", scope {}", output::printable(&resolved.scope.to_string()))
        } else {
            String::new()
        }
    )?;
    if let Some(c) = cutoff {
        writeln!(
            out,
            "  cutoff {c} (inventory time minus min-age {}s)",
            min_age.as_secs()
        )?;
    }
    if let Some(s) = &sql_report {
        writeln!(
            out,
            "  {} SQL {}; candidates go to {} (re-check them with safe-to-delete --apply-candidates)",
            s.engine.name(),
            match s.file {
                Some(f) => format!("written to {}", f.display()),
                None => "printed above".to_owned(),
            },
            output::printable(&s.candidates)
        )?;
    }
    if args.emit_sql.is_none() && args.inventory.is_some() {
        output::hint("--inventory only serves --emit-sql; no SQL was asked for");
    }
    Ok(Exit::Ok)
}
