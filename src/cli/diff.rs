//! `flink-chk diff`: compare two snapshots (or a snapshot and the job about to
//! start) and say whether Flink will restore one into the other.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use serde_json::{Value, json};

use super::context::{Ctx, Global};
use super::output::{self, BOLD, DIM, ERR, WARN};
use crate::analysis::diff::{
    self, Backend, FilesDiff, JobSpec, MaxParallelism, OpDiff, OpShape, OpStatus, Options, Report,
    Severity, Side, StateStatus, Verdict,
};
use crate::analysis::snapshot::{self, Rebase, Resolver, Snapshot};
use crate::analysis::{deps, states};

// Exit codes: numbers and help words in `cli::exit`.
use super::exit::Diff as Exit;

/// Compare two snapshots and give the restore verdict: will Flink restore
/// OLD into the job that NEW (a snapshot of it) or --job FILE describes?
///
/// Operators are matched by OperatorID and named by uid (from V5+ metadata,
/// the profile's uid list, --uids, or a job file). Reports operators added
/// and removed, parallelism and max-parallelism changes with key-group ranges,
/// state names and kinds added, removed or changed (read from state-file
/// headers), state sizes, coordinator and in-flight (unaligned) state, and
/// what the snapshot kind allows (rescaling, switching backends).
#[derive(Debug, Args)]
#[command(after_help = "Verdicts and exit codes:\n  \
0  compatible: Flink restores OLD into the new job\n  \
1  needs --allowNonRestoredState: Flink refuses unless told to drop the listed state \
(also with --strict when there are warnings, e.g. state the new job no longer registers)\n  \
2  incompatible: Flink refuses the restore (max parallelism changed, native RocksDB state into \
hashmap, …) or the job fails right after it (a state changed kind)\n  \
3  unreadable input or storage error; 64 usage error\n\n\
Job file (--job, YAML or JSON):\n  \
parallelism: 4            # default for operators that do not set one\n  \
max_parallelism: 128      # or `auto` (not set: Flink adopts the snapshot's)\n  \
state_backend: rocksdb    # hashmap | rocksdb | forst (optional)\n  \
operators:                # every operator of the new job; unlisted = removed\n    \
- uid: source             # or uid_hash: <32 hex digits>\n      \
parallelism: 2\n    \
- uid: keyed-state\n      \
states: [count, recent] # optional: the states the new code registers")]
pub struct DiffArgs {
    /// The snapshot to restore from (path, URI, job, `alias@latest`, `alias@chk-N`, savepoint name).
    #[arg(value_name = "OLD", add = clap_complete::engine::ArgValueCompleter::new(super::dynamic::targets))]
    old: String,
    /// A snapshot of the job to restore into.
    #[arg(
        value_name = "NEW",
        required_unless_present = "job",
        conflicts_with = "job",
        add = clap_complete::engine::ArgValueCompleter::new(super::dynamic::targets)
    )]
    new: Option<String>,
    /// Describe the new job in a YAML/JSON file instead of a snapshot of it.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    job: Option<PathBuf>,
    /// Also compare the files both snapshots reference: added (uploaded by
    /// NEW), dropped, reused (for two checkpoints of one incremental job).
    #[arg(long, requires = "new")]
    files: bool,
    /// The restore will pass --allowNonRestoredState: removed operators'
    /// state is dropped (a warning, not a refusal).
    #[arg(long, short = 'n')]
    allow_non_restored_state: bool,
    /// Exit 1 when the verdict is compatible but there are warnings (state
    /// the new job would ignore or lose).
    #[arg(long)]
    strict: bool,
    /// The new job's state backend (when NEW does not tell, e.g. a canonical savepoint).
    #[arg(long, value_enum, value_name = "BACKEND")]
    backend: Option<BackendArg>,
    /// A file of uids (one per line) naming operators of either side whose
    /// metadata carries no uid (files written before Flink 2.0).
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    uids: Option<PathBuf>,
    /// Do not read state-file headers (no keyed state names; faster on remote storage).
    #[arg(long)]
    no_states: bool,
    /// Read files recorded under FROM at TO instead (for snapshots moved since Flink wrote them). Repeatable.
    #[arg(long, value_name = "FROM=TO")]
    rebase: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

struct Loaded {
    snap: Snapshot,
    side: Side,
}

fn load(ctx: &Ctx, arg: &str, args: &DiffArgs, rebase: &Rebase) -> Result<Loaded> {
    let loc = super::deps::snapshot_target(ctx, arg)?;
    let storage = ctx.storages.clone();
    let snap = ctx.block_on(snapshot::load(storage.as_ref(), &loc))?;
    let uids = super::inspect::uid_names(ctx, &snap.metadata_location, args.uids.as_deref())?;
    let states = (!args.no_states).then(|| {
        let resolver = Resolver {
            dir: &snap.dir,
            rebase,
        };
        ctx.block_on(states::collect(
            &snap.metadata,
            resolver,
            storage.as_ref(),
            ctx.concurrency(),
        ))
    });
    let side = Side::from_snapshot(
        &snap.metadata,
        &snap.metadata_location.to_string(),
        &uids,
        states.as_deref(),
    );
    Ok(Loaded { snap, side })
}

fn read_job(path: &std::path::Path) -> Result<JobSpec> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading job file {}", path.display()))?;
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if json {
        serde_json::from_str(&text).with_context(|| format!("job file {}", path.display()))
    } else {
        serde_saphyr::from_str(&text).with_context(|| format!("job file {}", path.display()))
    }
}

/// `--backend`: the values of [`Backend`] (the analysis layer does not
/// depend on clap).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum BackendArg {
    /// `hashmap` (heap).
    Hashmap,
    /// `rocksdb`.
    Rocksdb,
    /// `forst` (Flink 2.x).
    Forst,
}

impl From<BackendArg> for Backend {
    fn from(b: BackendArg) -> Backend {
        match b {
            BackendArg::Hashmap => Backend::Hashmap,
            BackendArg::Rocksdb => Backend::Rocksdb,
            BackendArg::Forst => Backend::Forst,
        }
    }
}

/// Runs the command.
pub fn run(args: DiffArgs, global: &Global) -> Result<Exit> {
    let ctx = Ctx::new(global)?;
    let rebase = Rebase::parse(&args.rebase)?;
    let old = load(&ctx, &args.old, &args, &rebase)?;
    let (new_snap, mut new_side) = match (&args.new, &args.job) {
        (Some(n), _) => {
            let l = load(&ctx, n, &args, &rebase)?;
            (Some(l.snap), l.side)
        }
        (None, Some(path)) => {
            let spec = read_job(path)?;
            let side = Side::from_spec(&spec, &path.display().to_string(), &old.side)
                .with_context(|| format!("job file {}", path.display()))?;
            (None, side)
        }
        (None, None) => bail!("give NEW or --job FILE"),
    };
    if let Some(b) = args.backend {
        new_side.backend = Some(b.into());
    }
    let report = diff::compare(
        &old.side,
        &new_side,
        Options {
            allow_non_restored_state: args.allow_non_restored_state,
        },
    );
    let files = match (&new_snap, args.files) {
        (Some(n), true) => Some(diff::files(
            &deps::collect(&old.snap, &rebase),
            &deps::collect(n, &rebase),
        )),
        _ => None,
    };
    let code = match report.verdict {
        Verdict::Incompatible => Exit::Incompatible,
        Verdict::NeedsAllowNonRestoredState => Exit::NeedsAllowNonRestoredState,
        Verdict::Compatible if args.strict && report.has_warnings() => {
            Exit::NeedsAllowNonRestoredState
        }
        Verdict::Compatible => Exit::Compatible,
    };
    let mut out = anstream::stdout();
    let written = if args.json {
        let v = to_json(
            &old.side,
            &new_side,
            &report,
            files.as_ref(),
            &args,
            code.into(),
        );
        serde_json::to_writer_pretty(&mut out, &v)
            .map_err(anyhow::Error::from)
            .and_then(|()| writeln!(out).map_err(anyhow::Error::from))
    } else {
        human(
            &mut out,
            &old.side,
            &new_side,
            &report,
            files.as_ref(),
            &args,
        )
    };
    match written {
        // `diff … | head`: the reader left; the verdict still decides the exit code.
        Err(e) if super::is_broken_pipe(&e) => Ok(code),
        Err(e) => Err(e),
        Ok(()) => Ok(code),
    }
}

// ---------------------------------------------------------------- human

fn side_line(s: &Side) -> String {
    let mut parts = Vec::new();
    if let Some(k) = s.kind {
        parts.push(k.label().to_owned());
    } else {
        parts.push("job file".to_owned());
    }
    if let Some(id) = s.checkpoint_id {
        parts.push(format!("checkpoint {id}"));
    }
    parts.push(format!("{} operators", s.operators.len()));
    if s.kind.is_some() {
        parts.push(output::bytes(diff_total(s)));
    }
    if let Some(b) = s.backend {
        parts.push(b.as_str().to_owned());
    }
    parts.join(", ")
}

fn diff_total(s: &Side) -> i64 {
    crate::analysis::size::sum(s.operators.iter().map(|o| o.state_bytes))
}

fn max_label(m: MaxParallelism) -> String {
    match m {
        MaxParallelism::Configured(n) | MaxParallelism::Recorded(n) => n.to_string(),
        MaxParallelism::Auto => "auto".into(),
    }
}

fn arrow<T: PartialEq + ToString>(a: Option<T>, b: Option<T>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(a), Some(b)) => format!("{} → {}", a.to_string(), b.to_string()),
        (Some(a), None) => a.to_string(),
        (None, Some(b)) => b.to_string(),
        (None, None) => "-".into(),
    }
}

fn states_cell(d: &OpDiff) -> String {
    if !d.states.is_empty() {
        return d
            .states
            .iter()
            .map(|s| match s.status {
                StateStatus::Removed => format!("-{}", s.name),
                StateStatus::Added => format!("+{}", s.name),
                StateStatus::KindChanged => format!(
                    "{} ({} → {})",
                    s.name,
                    s.old_kind.map_or("?", |k| k.as_str()),
                    s.new_kind.map_or("?", |k| k.as_str())
                ),
                StateStatus::Unchanged => s.name.clone(),
            })
            .collect::<Vec<_>>()
            .join(" ");
    }
    let names = |o: &OpShape| {
        o.states.as_ref().map(|s| {
            s.iter()
                .map(|x| x.name.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
    };
    d.old
        .as_ref()
        .and_then(names)
        .or_else(|| d.new.as_ref().and_then(names))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "-".into())
}

fn ranges(r: &[[i32; 2]]) -> String {
    r.iter()
        .map(|[a, b]| format!("{a}-{b}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn human(
    out: &mut impl Write,
    old: &Side,
    new: &Side,
    r: &Report,
    files: Option<&FilesDiff>,
    args: &DiffArgs,
) -> Result<()> {
    let style = match r.verdict {
        Verdict::Compatible => anstyle::AnsiColor::Green.on_default().bold(),
        Verdict::NeedsAllowNonRestoredState => WARN.bold(),
        Verdict::Incompatible => ERR,
    };
    let why = match r.verdict {
        Verdict::Compatible if r.has_warnings() => " (with warnings)".to_owned(),
        Verdict::Compatible => String::new(),
        Verdict::NeedsAllowNonRestoredState => {
            let bytes = crate::analysis::size::sum(r.dropped.iter().map(|d| d.bytes));
            format!(
                ": state of {} operator(s), {}, would be dropped",
                r.dropped.len(),
                output::bytes(bytes)
            )
        }
        Verdict::Incompatible => {
            let n = r
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Incompatible)
                .count();
            format!(": Flink would refuse ({n} reason(s))")
        }
    };
    writeln!(out, "{style}verdict: {}{style:#}{why}", r.verdict.label())?;
    writeln!(out, "  old  {}  {DIM}{}{DIM:#}", old.source, side_line(old))?;
    writeln!(out, "  new  {}  {DIM}{}{DIM:#}", new.source, side_line(new))?;

    let section = |out: &mut dyn Write, title: &str, sev: &[Severity], mark: &str| -> Result<()> {
        let items: Vec<_> = r
            .findings
            .iter()
            .filter(|f| sev.contains(&f.severity))
            .collect();
        if items.is_empty() {
            return Ok(());
        }
        writeln!(out, "\n{BOLD}{title}{BOLD:#}")?;
        for f in items {
            writeln!(out, "  {mark} {}", f.message)?;
        }
        Ok(())
    };
    section(
        out,
        "Reasons",
        &[Severity::Incompatible, Severity::NeedsAllowNonRestoredState],
        "✗",
    )?;
    section(out, "Warnings", &[Severity::Warning], "!")?;
    section(out, "Notes", &[Severity::Info], "·")?;

    writeln!(out, "\n{BOLD}Operators{BOLD:#}")?;
    let mut t = output::table([
        "STATUS",
        "OPERATOR",
        "ID",
        "PARALLELISM",
        "MAX PARALLELISM",
        "STATE",
        "STATES",
    ]);
    for d in &r.operators {
        let status = match d.status {
            OpStatus::Removed => "removed",
            OpStatus::Added => "added",
            OpStatus::Changed => "changed",
            OpStatus::Unchanged => "unchanged",
        };
        let o = d.old.as_ref();
        let n = d.new.as_ref();
        let state = match (o, n, d.state_delta) {
            (Some(o), Some(n), Some(_)) => arrow(
                Some(output::bytes(o.state_bytes)),
                Some(output::bytes(n.state_bytes)),
            ),
            (Some(o), _, _) => output::bytes(o.state_bytes),
            (None, Some(n), _) if new.kind.is_some() => output::bytes(n.state_bytes),
            _ => "-".into(),
        };
        t.add_row([
            status.to_owned(),
            d.label(),
            d.id.to_hex(),
            arrow(o.map(|o| o.parallelism), n.map(|n| n.parallelism)),
            arrow(
                o.map(|o| max_label(o.max_parallelism)),
                n.map(|n| max_label(n.max_parallelism)),
            ),
            state,
            states_cell(d),
        ]);
    }
    output::write_table(out, &t)?;
    let total_new = r
        .new_state_bytes
        .map_or_else(String::new, |n| format!(" → {}", output::bytes(n)));
    writeln!(
        out,
        "  total state {}{total_new}",
        output::bytes(r.old_state_bytes)
    )?;

    let rescaled: Vec<&OpDiff> = r
        .operators
        .iter()
        .filter(|d| {
            !d.key_groups_old.is_empty()
                && !d.key_groups_new.is_empty()
                && d.key_groups_old != d.key_groups_new
        })
        .collect();
    if !rescaled.is_empty() {
        writeln!(out, "\n{BOLD}Key groups per subtask{BOLD:#}")?;
        for d in rescaled {
            writeln!(
                out,
                "  {}: {} → {}",
                d.label(),
                ranges(&d.key_groups_old),
                ranges(&d.key_groups_new)
            )?;
        }
    }
    if !r.dropped.is_empty() {
        let total = crate::analysis::size::sum(r.dropped.iter().map(|d| d.bytes));
        writeln!(
            out,
            "\n{BOLD}Dropped by --allowNonRestoredState{BOLD:#} ({} operator(s), {})",
            r.dropped.len(),
            output::bytes(total)
        )?;
        for d in &r.dropped {
            let label = d
                .uid
                .clone()
                .or_else(|| d.name.clone())
                .unwrap_or_else(|| d.operator.to_hex());
            let states = if d.states.is_empty() {
                String::new()
            } else {
                format!(": {}", d.states.join(", "))
            };
            writeln!(
                out,
                "  {label} ({}){states}  {}",
                d.operator,
                output::bytes(d.bytes)
            )?;
        }
    }
    if let Some(f) = files {
        files_human(out, f)?;
    }
    if args.no_states {
        writeln!(out, "\n{DIM}state names not read (--no-states){DIM:#}")?;
    }
    for o in old.operators.iter().chain(&new.operators) {
        for n in &o.state_notes {
            output::warn(&format!("{}: {n}", o.label()));
        }
    }
    Ok(())
}

fn files_human(out: &mut impl Write, f: &FilesDiff) -> Result<()> {
    writeln!(out, "\n{BOLD}Files{BOLD:#}")?;
    let line = |name: &str, l: &[diff::FileEntry]| {
        format!(
            "  {name:<8} {:>6} files  {:>10}",
            l.len(),
            output::bytes(FilesDiff::total(l) as i64)
        )
    };
    writeln!(
        out,
        "{}  {DIM}only in NEW: what it uploaded{DIM:#}",
        line("added", &f.added)
    )?;
    writeln!(out, "{}  {DIM}in both{DIM:#}", line("reused", &f.reused))?;
    writeln!(
        out,
        "{}  {DIM}only in OLD{DIM:#}",
        line("dropped", &f.dropped)
    )?;
    writeln!(
        out,
        "  inline   {} → {} inside _metadata",
        output::bytes(f.old_inline_bytes as i64),
        output::bytes(f.new_inline_bytes as i64)
    )?;
    for (title, list) in [("added", &f.added), ("dropped", &f.dropped)] {
        if list.is_empty() {
            continue;
        }
        writeln!(out, "\n  {title}:")?;
        let mut t = output::table(["PATH", "SIZE", "WHERE"]);
        for e in list.iter().take(FILES_SHOWN) {
            t.add_row([
                e.path.clone(),
                output::bytes(e.bytes as i64),
                e.label.describe(),
            ]);
        }
        output::write_table(out, &t)?;
        if list.len() > FILES_SHOWN {
            writeln!(
                out,
                "{DIM}… and {} more (--json lists every file){DIM:#}",
                list.len() - FILES_SHOWN
            )?;
        }
    }
    Ok(())
}

/// Files listed per category in human output (`--json` has all).
const FILES_SHOWN: usize = 20;

// ---------------------------------------------------------------- json

fn max_json(m: MaxParallelism) -> Value {
    match m {
        MaxParallelism::Configured(n) | MaxParallelism::Recorded(n) => json!(n),
        MaxParallelism::Auto => json!("auto"),
    }
}

fn shape_json(o: &OpShape, snapshot: bool) -> Value {
    json!({
        "parallelism": o.parallelism,
        "max_parallelism": max_json(o.max_parallelism),
        "state_bytes": snapshot.then_some(o.state_bytes),
        "coordinator_bytes": o.coordinator_bytes,
        "channel_bytes": snapshot.then_some(o.channel_bytes),
        "keyed": o.keyed,
        "states": o.states.as_ref().map(|s| s.iter().map(|x| json!({
            "name": x.name, "scope": x.scope, "kind": x.kind,
        })).collect::<Vec<_>>()),
    })
}

fn side_json(s: &Side) -> Value {
    json!({
        "source": s.source,
        "kind": s.kind,
        "checkpoint_id": s.checkpoint_id,
        "metadata_version": s.metadata_version,
        "keyed_format": s.keyed_format,
        "backend": s.backend,
        "operators": s.operators.len(),
        "state_bytes": s.kind.is_some().then(|| diff_total(s)),
    })
}

fn to_json(
    old: &Side,
    new: &Side,
    r: &Report,
    files: Option<&FilesDiff>,
    args: &DiffArgs,
    code: u8,
) -> Value {
    let findings = |sev: &[Severity]| -> Vec<Value> {
        r.findings
            .iter()
            .filter(|f| sev.contains(&f.severity))
            .map(|f| json!({"code": f.code, "severity": f.severity, "operator": f.operator, "message": f.message}))
            .collect()
    };
    let snap = new.kind.is_some();
    json!({
        "verdict": r.verdict,
        "exit_code": code,
        "allow_non_restored_state": args.allow_non_restored_state,
        "old": side_json(old),
        "new": side_json(new),
        "reasons": findings(&[Severity::Incompatible, Severity::NeedsAllowNonRestoredState]),
        "warnings": findings(&[Severity::Warning]),
        "notes": findings(&[Severity::Info]),
        "operators": r.operators.iter().map(|d| json!({
            "id": d.id,
            "uid": d.uid,
            "name": d.name,
            "status": d.status,
            "old": d.old.as_ref().map(|o| shape_json(o, true)),
            "new": d.new.as_ref().map(|o| shape_json(o, snap)),
            "states": d.states.iter().map(|s| json!({
                "name": s.name, "scope": s.scope, "status": s.status,
                "old_kind": s.old_kind, "new_kind": s.new_kind,
            })).collect::<Vec<_>>(),
            "key_groups": {"old": d.key_groups_old, "new": d.key_groups_new},
            "state_delta": d.state_delta,
        })).collect::<Vec<_>>(),
        "dropped": r.dropped,
        "totals": {
            "old_state_bytes": r.old_state_bytes,
            "new_state_bytes": r.new_state_bytes,
            "delta": r.new_state_bytes.map(|n| n.saturating_sub(r.old_state_bytes)),
        },
        "files": files.map(|f| json!({
            "added": f.added, "dropped": f.dropped, "reused": f.reused,
            "added_bytes": FilesDiff::total(&f.added),
            "dropped_bytes": FilesDiff::total(&f.dropped),
            "reused_bytes": FilesDiff::total(&f.reused),
            "old_inline_bytes": f.old_inline_bytes, "new_inline_bytes": f.new_inline_bytes,
        })),
    })
}
