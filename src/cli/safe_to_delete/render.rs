//! The plan and its outcome as the user sees them: tables, the "held back"
//! summary, what was not deleted after all, and the JSON output.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;

use super::super::context::Ctx;
use super::super::output::{self, BOLD, DIM};
use super::manifest::ManifestReport;
use crate::analysis::cleanup::{self, Candidate, KeepReason, PlanFile, Reason, revalidate};

/// `applied` in the JSON output: what a run deleted. Fields in
/// alphabetical order, as the output has always had them.
#[derive(serde::Serialize)]
pub(super) struct AppliedReport<'a> {
    pub(super) deleted_bytes: u64,
    pub(super) deleted_files: u64,
    pub(super) dirs_left: &'a [String],
    pub(super) dirs_removed: u64,
    pub(super) dropped: Vec<DroppedReport<'a>>,
    pub(super) failed: Vec<FailedReport<'a>>,
    pub(super) log: &'a std::path::Path,
    pub(super) skipped: Vec<SkippedReport<'a>>,
    pub(super) snapshots_rechecked: usize,
    pub(super) throttled: crate::storage::Throttling,
}

/// One entry of `dropped`: a candidate not deleted after all.
#[derive(serde::Serialize)]
pub(super) struct DroppedReport<'a> {
    pub(super) detail: &'a revalidate::Dropped,
    pub(super) path: &'a crate::storage::Location,
    pub(super) why: String,
}

impl<'a> DroppedReport<'a> {
    pub(super) fn of(c: &'a Candidate, why: &'a revalidate::Dropped) -> Self {
        DroppedReport {
            detail: why,
            path: &c.path,
            why: why.to_string(),
        }
    }
}

/// One entry of `failed`.
#[derive(serde::Serialize)]
pub(super) struct FailedReport<'a> {
    pub(super) error: &'a str,
    pub(super) path: &'a str,
}

/// One entry of `skipped`.
#[derive(serde::Serialize)]
pub(super) struct SkippedReport<'a> {
    pub(super) path: &'a str,
    pub(super) why: &'a str,
}

/// "Not deleted after all": candidates the re-check (or planning again)
/// dropped, and why.
pub(super) fn not_deleted<'a>(
    out: &mut impl Write,
    dropped: impl Iterator<Item = (&'a Candidate, &'a revalidate::Dropped)>,
    n: usize,
    rechecked: Option<usize>,
    all: bool,
) -> Result<()> {
    match rechecked {
        Some(r) => writeln!(
            out,
            "\n{BOLD}Not deleted after all{BOLD:#} ({n} candidate(s) changed since planning; re-checked against {r} snapshot(s)):"
        )?,
        None => writeln!(
            out,
            "\n{BOLD}Not deleted after all{BOLD:#} ({n} candidate(s) of the plan file that planning again now does not confirm):"
        )?,
    }
    for (c, why) in dropped.take(if all { usize::MAX } else { 30 }) {
        writeln!(
            out,
            "  {}  {DIM}{}{DIM:#}",
            output::printable(&c.path.to_string()),
            output::printable(&why.to_string())
        )?;
    }
    if n > 30 && !all {
        writeln!(out, "  {DIM}… and {} more{DIM:#}", n - 30)?;
    }
    Ok(())
}

/// The line saying how object stores throttled the deletes, if they did.
pub(super) fn throttled_line(t: &crate::storage::Throttling) -> Option<String> {
    if t.responses == 0 {
        return None;
    }
    let window = |w: Option<usize>| w.map_or_else(|| "?".to_owned(), |w| w.to_string());
    Some(format!(
        "throttled: the store asked to slow down {} time(s); deletes in flight went down to {} (of {}), {} at the end",
        t.responses,
        window(t.lowest_window),
        window(t.max_window),
        window(t.final_window)
    ))
}

/// Prints the plan (and what was applied) as JSON, serialised straight to a
/// buffered stdout: a JSON tree of millions of candidates would cost gigabytes.
pub(super) fn print_json(
    json: bool,
    plan: &PlanFile,
    applied: Option<AppliedReport<'_>>,
) -> Result<()> {
    print_json_with(json, plan, applied, Vec::new())
}

/// [`print_json`], with `dropped` (a plan file's entries that planning again
/// does not confirm, under `--apply --dry-run`) when there are any.
pub(super) fn print_json_with(
    json: bool,
    plan: &PlanFile,
    applied: Option<AppliedReport<'_>>,
    dropped: Vec<DroppedReport<'_>>,
) -> Result<()> {
    if !json {
        return Ok(());
    }
    write_json(plan, applied, None, dropped)
}

/// The plan and the manifest emitted instead of deleting, as JSON.
pub(super) fn print_json_manifest(plan: &PlanFile, manifest: ManifestReport<'_>) -> Result<()> {
    write_json(plan, None, Some(manifest), Vec::new())
}

fn write_json(
    plan: &PlanFile,
    applied: Option<AppliedReport<'_>>,
    manifest: Option<ManifestReport<'_>>,
    dropped: Vec<DroppedReport<'_>>,
) -> Result<()> {
    #[derive(serde::Serialize)]
    struct Output<'a> {
        #[serde(flatten)]
        plan: cleanup::plan_file::Header<'a>,
        candidates: &'a cleanup::Candidates,
        #[serde(skip_serializing_if = "Option::is_none")]
        applied: Option<AppliedReport<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        manifest: Option<ManifestReport<'a>>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        dropped: Vec<DroppedReport<'a>>,
    }
    let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    serde_json::to_writer_pretty(
        &mut w,
        &Output {
            plan: plan.header(),
            candidates: &plan.candidates,
            applied,
            manifest,
            dropped,
        },
    )?;
    writeln!(w)?;
    w.flush()?;
    Ok(())
}

/// What a guard holds back (kept although no kept snapshot needs it), and
/// what releases it.
fn guard(r: KeepReason) -> Option<(&'static str, &'static str)> {
    Some(match r {
        KeepReason::Retained | KeepReason::Referenced => return None,
        KeepReason::InProgress => (
            "checkpoint in progress (chk-N newer than the newest _metadata)",
            "nothing: it completes, or is abandoned once a newer checkpoint completes",
        ),
        KeepReason::Explicit => ("--keep / retention.keep", "dropping the --keep"),
        KeepReason::Savepoint => ("savepoint", "--include-savepoint NAME"),
        KeepReason::TooYoung => ("younger than --min-age", "a smaller --min-age"),
        KeepReason::TaskOwnedLive => (
            "taskowned/ (the job may be running)",
            "--stopped, once no job under the root runs",
        ),
        KeepReason::AfterNewest => (
            "written after the job's newest checkpoint",
            "--stopped, once no job under the root runs",
        ),
        KeepReason::Unknown => (
            "not Flink's layout (not a job id, chk-N, shared/ or taskowned/)",
            "nothing: remove by hand if unwanted",
        ),
        KeepReason::Special => (
            "symbolic link or special file (never followed)",
            "nothing: remove by hand if unwanted",
        ),
    })
}

/// The files each guard holds back, before the candidates and the prompt:
/// what JSON `kept[]` says, in words.
fn held_back(out: &mut impl Write, p: &PlanFile) -> Result<()> {
    let mut by: BTreeMap<KeepReason, (u64, u64, Option<&cleanup::Kept>)> = BTreeMap::new();
    for k in &p.kept {
        if guard(k.reason).is_none() {
            continue;
        }
        let e = by.entry(k.reason).or_default();
        e.0 += k.files;
        e.1 = e.1.saturating_add(k.bytes);
        e.2.get_or_insert(k);
    }
    if by.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\n{BOLD}Held back{BOLD:#} (no kept snapshot needs these; a guard keeps them)"
    )?;
    let mut t = output::table(["GUARD", "FILES", "BYTES", "RELEASED BY", "E.G. UNDER"]);
    for (r, (files, bytes, example)) in &by {
        let (what, release) = guard(*r).unwrap_or_default();
        t.add_row([
            what.to_owned(),
            files.to_string(),
            output::bytes(*bytes as i64),
            release.to_owned(),
            example.map_or_else(String::new, |k| {
                output::printable(&k.path.to_string()).into_owned()
            }),
        ]);
    }
    output::write_table(out, &t)?;
    Ok(())
}

pub(super) fn human(
    out: &mut impl Write,
    p: &PlanFile,
    ctx: &Ctx,
    all: bool,
    from: Option<&std::path::Path>,
) -> Result<()> {
    let policy = &p.policy;
    writeln!(
        out,
        "{BOLD}Plan for {}{BOLD:#} {DIM}({}){DIM:#}",
        p.scope,
        match from {
            Some(f) => format!("read from {}, made {}", f.display(), policy.planned_at),
            None => "nothing deleted yet".to_owned(),
        }
    )?;
    writeln!(
        out,
        "  reclaimable {} in {} files ({} candidates)",
        output::bytes(p.totals.candidate_bytes as i64),
        p.totals.candidate_files,
        p.candidates.len()
    )?;
    writeln!(
        out,
        "  {DIM}kept: newest {} completed checkpoint(s) per job, in-progress checkpoints, savepoints, files younger than {}s; {} kept snapshot(s) read, {} files they reference; {} files listed{DIM:#}",
        policy.keep_last,
        policy.min_age_seconds,
        p.totals.snapshots_read,
        p.totals.referenced_files,
        p.totals.files_listed
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
    if let (Some(inv), Some(rows)) = (&policy.inventory, &p.totals.inventory_rows) {
        writeln!(
            out,
            "  {DIM}files from the {} {} taken {} ({} data file(s)): {} rows, {} in scope, {} skipped (directories, old versions), {} elsewhere; files written since are not candidates{DIM:#}",
            inv.kind.label(),
            inv.source,
            inv.time,
            inv.data_files,
            rows.rows,
            rows.in_scope,
            rows.skipped,
            rows.outside
        )?;
    }
    held_back(out, p)?;
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
    for d in p.candidates.dirs() {
        let e = by_reason.entry(d.reason).or_default();
        e.0 += d.candidates;
        e.1 += d.files;
        e.2 = e.2.saturating_add(d.bytes);
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
    // Where they are: per directory, largest first.
    let mut dirs: Vec<&cleanup::DirTotals> = p.candidates.dirs().collect();
    if dirs.len() > 1 {
        dirs.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.path.cmp(&b.path)));
        writeln!(out, "\n{BOLD}By directory{BOLD:#}")?;
        let mut t = output::table(["DIRECTORY", "REASON", "CANDIDATES", "FILES", "BYTES"]);
        let shown = if all { dirs.len() } else { 20 };
        for d in dirs.iter().take(shown) {
            t.add_row([
                format!("{}/", output::printable(&d.path.to_string())),
                d.reason.label().to_owned(),
                d.candidates.to_string(),
                d.files.to_string(),
                output::bytes(d.bytes as i64),
            ]);
        }
        output::write_table(out, &t)?;
        if dirs.len() > shown {
            writeln!(
                out,
                "{DIM}… and {} more directories (--all){DIM:#}",
                dirs.len() - shown
            )?;
        }
    }
    writeln!(out, "\n{BOLD}Candidates{BOLD:#}")?;
    let mut t = output::table(["PATH", "REASON", "FILES", "BYTES"]);
    let total = p.candidates.len();
    let shown = if all { total } else { 30 };
    for c in p
        .candidates
        .iter()?
        .take(usize::try_from(shown).unwrap_or(usize::MAX))
    {
        let c = c?;
        let path = if c.is_dir {
            format!("{}/", output::printable(&c.path.to_string()))
        } else {
            output::printable(&c.path.to_string()).into_owned()
        };
        t.add_row([
            path,
            c.reason.label().to_owned(),
            c.files.to_string(),
            output::bytes(c.bytes as i64),
        ]);
    }
    output::write_table(out, &t)?;
    if total > shown {
        writeln!(
            out,
            "{DIM}… and {} more (--all, or --json){DIM:#}",
            total - shown
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttled_line_only_when_throttled() {
        let mut t = crate::storage::Throttling::default();
        assert_eq!(throttled_line(&t), None);
        t.responses = 3;
        t.lowest_window = Some(2);
        t.max_window = Some(8);
        t.final_window = Some(5);
        assert_eq!(
            throttled_line(&t).unwrap(),
            "throttled: the store asked to slow down 3 time(s); deletes in flight went down to 2 (of 8), 5 at the end"
        );
    }
}
