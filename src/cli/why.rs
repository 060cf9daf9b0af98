//! `flink-chk why`: which snapshots reference a file or anything under a directory.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::context::{Ctx, Global};
use super::exit::Why as Exit;
use super::output::{self, BOLD};
use crate::analysis::snapshot::Rebase;
use crate::analysis::why::{self, Verdict};
use crate::storage::Location;

/// Which snapshots reference a file, or anything under a directory.
///
/// Every _metadata under the scope is read: by default the checkpoints root
/// holding the file (the parent of its job directory) plus the profile's
/// checkpoints and savepoints roots; --in narrows or widens it.
#[derive(Debug, Args)]
#[command(after_help = super::exit::why_help())]
pub struct WhyArgs {
    /// The file or directory.
    #[arg(value_name = "FILE-OR-DIR")]
    target: String,
    /// Where to look for snapshots (a root, job directory or reference); repeatable.
    #[arg(long = "in", value_name = "SCOPE", add = clap_complete::engine::ArgValueCompleter::new(super::dynamic::targets))]
    scope: Vec<String>,
    /// Read files recorded under FROM at TO (for snapshots moved after Flink wrote them).
    #[arg(long, value_name = "FROM=TO")]
    rebase: Vec<String>,
    /// Find the snapshots without listing every file: the job and
    /// checkpoint directories are listed live, and the `_metadata` files an
    /// inventory report (as for safe-to-delete --inventory) shows elsewhere
    /// (copies outside Flink's layout) are read if still there.
    #[arg(long, value_name = "SOURCE", value_hint = clap::ValueHint::AnyPath)]
    inventory: Option<String>,
    /// When the --inventory listing was taken (RFC 3339), for oiv, CSV and Parquet files.
    #[arg(long, value_name = "TIME", requires = "inventory")]
    inventory_time: Option<jiff::Timestamp>,
    /// Refuse an --inventory older than this.
    #[arg(long, value_name = "AGE", default_value = "7d", value_parser = crate::profile::parse_duration)]
    max_inventory_age: std::time::Duration,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn run(args: WhyArgs, global: &Global) -> Result<Exit> {
    run_inner(args, global).map_err(super::deps::without_repeated_causes)
}

fn run_inner(args: WhyArgs, global: &Global) -> Result<Exit> {
    let ctx = Ctx::new(global)?;
    let rebase = Rebase::parse(&args.rebase)?;
    let target = ctx.resolve(&args.target)?.location().clone();
    let scopes: Vec<Location> = if args.scope.is_empty() {
        let roots = [&ctx.places.checkpoints, &ctx.places.savepoints];
        why::default_scopes(&target, roots.into_iter().flatten())
    } else {
        args.scope
            .iter()
            .map(|s| ctx.resolve(s).map(|t| t.location().clone()))
            .collect::<Result<_>>()?
    };
    let storage = ctx.storages.as_ref();
    let metas = match &args.inventory {
        Some(s) => Some(inventory_metadata(&ctx, &args, s, &scopes, &rebase)?),
        None => None,
    };
    let pb = output::progress("reading snapshots");
    let progress = |n| {
        if let Some(pb) = &pb {
            pb.set_position(n);
        }
    };
    let answer = match metas {
        Some(metas) => ctx.block_on(why::search_in(
            storage,
            &scopes,
            metas,
            &target,
            &rebase,
            ctx.concurrency(),
            progress,
        ))?,
        None => ctx.block_on(why::search(
            storage,
            &scopes,
            &target,
            &rebase,
            ctx.concurrency(),
            progress,
        ))?,
    };
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let verdict = answer.verdict();
    let scanned = answer.snapshots_read;
    let scope_list = scopes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let mut out = anstream::stdout();
    if args.json {
        let v = Report {
            target: &target,
            scopes: &scopes,
            snapshots_read: scanned,
            unreadable: answer
                .unreadable
                .iter()
                .map(|(path, error)| Unreadable { path, error })
                .collect(),
            referenced: verdict == Verdict::Referenced,
            verdict: match verdict {
                Verdict::Referenced => "referenced",
                Verdict::NotReferenced => "not_referenced",
                Verdict::NothingToSearch => "nothing_to_search",
                Verdict::Unproven => "unproven",
            },
            snapshots: answer.snapshots(),
            references: answer
                .hits
                .iter()
                .map(|h| Reference {
                    snapshot: &h.snapshot,
                    checkpoint_id: h.checkpoint_id,
                    operator: &h.operator,
                    subtask: h.subtask,
                    role: h.role,
                    path: &h.file,
                })
                .collect(),
            recorded_elsewhere: answer
                .elsewhere
                .iter()
                .map(|e| RecordedElsewhere {
                    recorded_root: &e.moved.recorded,
                    actual_root: &e.moved.actual,
                    suggested_rebase: e.moved.rebase(),
                    snapshots: &e.snapshots,
                    would_reference: &e.would_reference,
                })
                .collect(),
        };
        output::print_json(&mut out, &v)?;
    } else {
        match verdict {
            Verdict::Referenced => {
                writeln!(
                    out,
                    "{BOLD}{target}{BOLD:#}: referenced by {} of the {scanned} snapshots under {scope_list}",
                    answer.snapshots().len(),
                )?;
                writeln!(out)?;
                let mut t = output::table(["SNAPSHOT", "OPERATOR", "SUBTASK", "ROLE", "FILE"]);
                for h in &answer.hits {
                    t.add_row([
                        output::printable(&h.snapshot.to_string()).into_owned(),
                        output::printable(&h.operator).into_owned(),
                        h.subtask.map_or_else(|| "-".into(), |s| s.to_string()),
                        h.role.to_owned(),
                        output::printable(&h.file.to_string()).into_owned(),
                    ]);
                }
                output::write_table(&mut out, &t)?;
            }
            Verdict::NotReferenced => writeln!(
                out,
                "{target}: referenced by none of the {scanned} snapshots under {scope_list}"
            )?,
            Verdict::Unproven => writeln!(
                out,
                "{target}: no reference at this path in the {scanned} snapshots under {scope_list}, \
                 but that is not proven (see below)"
            )?,
            Verdict::NothingToSearch => {}
        }
    }
    for (l, e) in &answer.unreadable {
        output::warn(&format!("cannot read {l}: {e}"));
    }
    let elsewhere: Vec<String> = answer
        .elsewhere
        .iter()
        .map(|e| {
            format!(
                "{} of the {scanned} snapshots record their files under {}, not under {} where they are read \
                 (a copied or moved tree, or a path through a symlink or another URI), so their references \
                 cannot be matched here; {} of them reference it there. Map them: --rebase {}",
                e.snapshots.len(),
                e.moved.recorded,
                e.moved.actual,
                e.would_reference.len(),
                e.moved.rebase()
            )
        })
        .collect();
    match verdict {
        Verdict::Referenced => {
            for e in &elsewhere {
                output::warn(e);
            }
            Ok(Exit::Referenced)
        }
        Verdict::NotReferenced => Ok(Exit::NotReferenced),
        Verdict::NothingToSearch => anyhow::bail!(
            "nothing to search: no _metadata under {scope_list}; give the checkpoints or savepoints root with --in"
        ),
        Verdict::Unproven if !elsewhere.is_empty() => anyhow::bail!("{}", elsewhere.join("\n")),
        Verdict::Unproven => anyhow::bail!(
            "{} snapshot(s) in scope could not be read, so \"not referenced\" is not proven",
            answer.unreadable.len()
        ),
    }
}

/// `why --json`.
#[derive(Serialize)]
struct Report<'a> {
    target: &'a Location,
    scopes: &'a [Location],
    snapshots_read: u64,
    unreadable: Vec<Unreadable<'a>>,
    referenced: bool,
    /// `referenced`, `not_referenced`, `nothing_to_search` or `unproven`.
    verdict: &'static str,
    /// The snapshots that reference the target.
    snapshots: std::collections::BTreeSet<String>,
    references: Vec<Reference<'a>>,
    recorded_elsewhere: Vec<RecordedElsewhere<'a>>,
}

/// A `_metadata` in scope that could not be read.
#[derive(Serialize)]
struct Unreadable<'a> {
    path: &'a Location,
    error: &'a str,
}

/// One reference to the target ([`why::Hit`]).
#[derive(Serialize)]
struct Reference<'a> {
    snapshot: &'a Location,
    checkpoint_id: i64,
    operator: &'a str,
    subtask: Option<i32>,
    role: &'static str,
    /// The referenced file.
    path: &'a Location,
}

/// Snapshots read elsewhere than Flink recorded them ([`why::Elsewhere`]).
#[derive(Serialize)]
struct RecordedElsewhere<'a> {
    recorded_root: &'a Location,
    actual_root: &'a Location,
    suggested_rebase: String,
    snapshots: &'a [Location],
    would_reference: &'a [Location],
}

/// The `_metadata` files under `scopes` for `--inventory`: the snapshot
/// directories listed live, and the report's `_metadata` rows.
fn inventory_metadata(
    ctx: &Ctx,
    args: &WhyArgs,
    source: &str,
    scopes: &[Location],
    rebase: &Rebase,
) -> Result<Vec<(Location, Option<usize>)>> {
    use anyhow::Context as _;
    let loc = Location::parse(&crate::storage::expand_home(source))
        .with_context(|| format!("--inventory {source}"))?;
    let inv = super::safe_to_delete::open_inventory(
        ctx,
        &loc,
        args.inventory_time,
        args.max_inventory_age,
    )?;
    let shared: std::sync::Arc<dyn crate::storage::Storage> = ctx.storages.clone();
    let mut more = Vec::new();
    for s in scopes {
        inv.check_store(s, rebase)?;
        ctx.block_on(async {
            let mut rx = inv.rows(shared.clone(), s, s, rebase);
            while let Some(item) = rx.recv().await {
                if let crate::analysis::inventory::Item::Batch(batch) = item? {
                    more.extend(
                        batch
                            .into_iter()
                            .filter(|e| e.is_file() && e.location.file_name() == "_metadata")
                            .map(|e| e.location),
                    );
                }
            }
            Ok::<_, crate::analysis::inventory::Error>(())
        })?;
    }
    Ok(ctx.block_on(why::metadata_files_shallow(
        ctx.storages.as_ref(),
        scopes,
        more,
        ctx.concurrency(),
    ))?)
}
