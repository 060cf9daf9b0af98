//! `flink-chk why`: which snapshots reference a file or anything under a directory.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use futures_util::StreamExt;
use serde_json::json;

use super::context::{Ctx, Global};
use super::output::{self, BOLD};
use crate::analysis::layout::{Area, area};
use crate::analysis::refs::{self, Ref};
use crate::analysis::snapshot::{self, Rebase, Resolver};
use crate::resolve::Target;
use crate::storage::{Location, Storage};

/// Which snapshots reference a file, or anything under a directory.
///
/// Every _metadata under the scope is read: by default the checkpoints root
/// holding the file (the parent of its job directory) plus the profile's
/// checkpoints and savepoints roots; --in narrows or widens it.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 referenced, 1 referenced by no snapshot in scope, \
3 unreadable input or storage error (including a _metadata in scope that cannot be read: then \"not referenced\" cannot be proven), 64 usage error."
)]
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
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

struct Hit {
    snapshot: Location,
    checkpoint_id: i64,
    operator: String,
    subtask: Option<i32>,
    role: &'static str,
    file: Location,
}

/// Runs the command.
pub fn run(args: WhyArgs, global: &Global) -> Result<u8> {
    run_inner(args, global).map_err(super::deps::without_repeated_causes)
}

fn run_inner(args: WhyArgs, global: &Global) -> Result<u8> {
    let ctx = Ctx::new(global)?;
    let rebase = Rebase::parse(&args.rebase)?;
    let target = ctx.resolve(&args.target)?.location().clone();
    let scopes: Vec<Location> = if args.scope.is_empty() {
        default_scopes(&ctx, &target)
    } else {
        args.scope
            .iter()
            .map(|s| ctx.resolve(s).map(|t| t.location().clone()))
            .collect::<Result<_>>()?
    };
    let storage = ctx.storages.clone();
    let pb = output::progress("reading snapshots");
    let (hits, scanned, failures) = ctx.block_on(search(
        storage.as_ref(),
        &scopes,
        &target,
        &rebase,
        ctx.concurrency(),
        |n| {
            if let Some(pb) = &pb {
                pb.set_position(n);
            }
        },
    ))?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let snapshots: std::collections::BTreeSet<String> =
        hits.iter().map(|h| h.snapshot.to_string()).collect();
    let mut out = anstream::stdout();
    if args.json {
        let v = json!({
            "target": target,
            "scopes": scopes,
            "snapshots_read": scanned,
            "unreadable": failures.iter().map(|(l, e)| json!({"path": l, "error": e})).collect::<Vec<_>>(),
            "referenced": !hits.is_empty(),
            "snapshots": snapshots,
            "references": hits.iter().map(|h| json!({
                "snapshot": h.snapshot,
                "checkpoint_id": h.checkpoint_id,
                "operator": h.operator,
                "subtask": h.subtask,
                "role": h.role,
                "path": h.file,
            })).collect::<Vec<_>>(),
        });
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        let scope_list: Vec<String> = scopes.iter().map(ToString::to_string).collect();
        if hits.is_empty() {
            writeln!(
                out,
                "{target}: referenced by none of the {scanned} snapshots under {}",
                scope_list.join(", ")
            )?;
        } else {
            writeln!(
                out,
                "{BOLD}{target}{BOLD:#}: referenced by {} of the {scanned} snapshots under {}",
                snapshots.len(),
                scope_list.join(", ")
            )?;
            writeln!(out)?;
            let mut t = output::table(["SNAPSHOT", "OPERATOR", "SUBTASK", "ROLE", "FILE"]);
            for h in &hits {
                t.add_row([
                    h.snapshot.to_string(),
                    h.operator.clone(),
                    h.subtask.map_or_else(|| "-".into(), |s| s.to_string()),
                    h.role.to_owned(),
                    h.file.to_string(),
                ]);
            }
            output::write_table(&mut out, &t)?;
        }
    }
    for (l, e) in &failures {
        output::warn(&format!("cannot read {l}: {e}"));
    }
    if !failures.is_empty() {
        anyhow::bail!(
            "{} snapshot(s) in scope could not be read, so the answer may be incomplete",
            failures.len()
        );
    }
    Ok(if hits.is_empty() {
        super::exit::FAILED
    } else {
        super::exit::OK
    })
}

/// The checkpoints root above the target's job directory, and the profile's roots.
fn default_scopes(ctx: &Ctx, target: &Location) -> Vec<Location> {
    let mut v = Vec::new();
    let job_dir_of = |l: &Location| -> Option<Location> {
        let job = match area(l) {
            Area::Checkpoint { job, .. } | Area::Shared { job } | Area::TaskOwned { job } => job,
            _ => return None,
        };
        let mut d = l.clone();
        while d.file_name() != job && d.path() != "/" {
            d = d.parent();
        }
        (d.path() != "/").then_some(d)
    };
    // A target that is itself a job directory, or lies inside one.
    let job_dir = if crate::analysis::layout::is_job_id(target.file_name()) {
        Some(target.clone())
    } else {
        job_dir_of(target).or_else(|| job_dir_of(&target.join("x/y")))
    };
    if let Some(j) = job_dir {
        v.push(j.parent());
    }
    for r in [&ctx.places.checkpoints, &ctx.places.savepoints]
        .into_iter()
        .flatten()
    {
        if !v.iter().any(|s: &Location| r.starts_with(s)) {
            v.push(r.clone());
        }
    }
    if v.is_empty() {
        v.push(target.parent());
    }
    v
}

type SearchResult = (Vec<Hit>, u64, Vec<(Location, String)>);

async fn search(
    storage: &dyn Storage,
    scopes: &[Location],
    target: &Location,
    rebase: &Rebase,
    concurrency: usize,
    mut progress: impl FnMut(u64),
) -> Result<SearchResult> {
    // Every _metadata under the scopes (a snapshot scope is just itself).
    let mut metas = Vec::new();
    for s in scopes {
        if let Target::Snapshot(l) = crate::resolve::classify(s.clone(), storage).await? {
            metas.push(snapshot::find_metadata(storage, &l).await?.location);
            continue;
        }
        let mut list = storage.list(s, true);
        while let Some(e) = list.next().await {
            let e = e?;
            if e.location.file_name() == "_metadata" {
                metas.push(e.location);
            }
        }
    }
    metas.sort();
    metas.dedup();
    let mut loaded = futures_util::stream::iter(metas)
        .map(|m| async move {
            let r = snapshot::load(storage, &m).await;
            (m, r)
        })
        .buffered(concurrency.max(1));
    let mut hits = Vec::new();
    let mut failures = Vec::new();
    let mut n = 0u64;
    while let Some((m, r)) = loaded.next().await {
        n += 1;
        progress(n);
        let s = match r {
            Ok(s) => s,
            Err(e) => {
                failures.push((m, e.to_string()));
                continue;
            }
        };
        let resolver = Resolver {
            dir: &s.dir,
            rebase,
        };
        refs::visit(&s.metadata, |r| {
            if let Ref::File {
                origin, kind, path, ..
            } = r
                && let Ok(loc) = resolver.resolve(kind, path)
                && loc.starts_with(target)
            {
                let op = &s.metadata.operators[origin.operator];
                let name = op
                    .uid
                    .as_ref()
                    .filter(|u| !u.is_empty())
                    .map(|u| u.to_string())
                    .unwrap_or_else(|| op.id.to_hex());
                let dup = hits.last().is_some_and(|h: &Hit| {
                    h.snapshot == s.dir
                        && h.file == loc
                        && h.subtask == origin.subtask
                        && h.operator == name
                });
                if !dup {
                    hits.push(Hit {
                        snapshot: s.dir.clone(),
                        checkpoint_id: s.metadata.checkpoint_id,
                        operator: name,
                        subtask: origin.subtask,
                        role: origin.role.as_str(),
                        file: loc,
                    });
                }
            }
        });
    }
    Ok((hits, n, failures))
}
