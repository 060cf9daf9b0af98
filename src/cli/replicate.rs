//! `flink-chk replicate`: a disaster-recovery replica of every job's newest
//! snapshots, published `_metadata` last, pruned with the cleanup engine,
//! once or continuously (`--watch`), with priorities and one byte budget.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use clap::Args;
use serde::Serialize;

use super::context::{Ctx, Global};
use super::copy::{Dest, VerifyArg, bytes, destination, duration, parse_maps};
use super::exit::Replicate as Exit;
use super::output::{self, BOLD, DIM, ERR};
use crate::analysis::snapshot::Rebase;
use crate::names::is_job_id;
use crate::profile;
use crate::storage::{Location, Storage};
use crate::transfer::rate::{Limiter, Schedule};
use crate::transfer::record::Journal;
use crate::transfer::replica::{self, Identity, Kind, Pacer, SourceSnapshot};
use crate::transfer::round::{self, Sources, State, Target};
use crate::transfer::run::{self, FileOutcome, Observer, Options, Published, Verify};

/// Keep a restorable standby copy of every job's newest snapshots at
/// another root, cluster or bucket.
///
/// For every job under the sources, the newest completed checkpoint the
/// replica lacks (and every completed savepoint under a profile's savepoints
/// root) is copied with its whole closure, as `copy` does: only files the
/// replica does not have yet (shared files are immutable, so an
/// incremental checkpoint costs its new files), verified, and the rewritten
/// `_metadata` written last, so a replica snapshot is restorable or
/// invisible. Each replica snapshot directory records which source snapshot
/// it is (_flink-chk-replica.json).
///
/// With --keep N each job keeps its newest N replicated checkpoints (and
/// every savepoint); the rest of the replica is pruned by the safe-to-delete
/// engine, so no file a kept replica needs is removed. If a job writes into
/// the replica (a failover happened), replication stops with exit code 2.
///
/// --watch repeats every --interval until SIGINT or SIGTERM, which finish
/// the files in flight and publish what they complete. SIGHUP re-reads the
/// profile's replication.bwlimit and job_bwlimit; --control FILE is re-read
/// when it changes. A `copy` into the same destination on this machine goes
/// first. Higher --priority jobs get copy slots first; the number of slots
/// follows the budget (one per 8 MiB/s).
#[derive(Debug, Args)]
#[command(after_help = super::exit::replicate_help())]
pub struct ReplicateArgs {
    /// Checkpoints roots (paths or URIs), job directories, job aliases, or
    /// one profile name [default: the profile's checkpoints and savepoints
    /// roots].
    #[arg(value_name = "SOURCE", add = clap_complete::engine::ArgValueCompleter::new(super::dynamic::targets))]
    sources: Vec<String>,
    /// The replica: a path or URI, PROFILE: (that profile's roots and
    /// storage settings) or PROFILE:PATH [default: the profile's
    /// replication.to].
    #[arg(long, value_name = "DEST")]
    to: Option<String>,
    /// Replicated checkpoints kept per job; older ones are pruned from the
    /// replica [default: the profile's replication.keep; without either,
    /// nothing is pruned].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    keep: Option<u32>,
    /// Prune without asking (needed to prune when not on a terminal).
    #[arg(long)]
    yes: bool,
    /// Repeat every --interval until SIGINT/SIGTERM.
    #[arg(long)]
    watch: bool,
    /// Time between rounds with --watch: a number with s, m, h or d.
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    interval: String,
    /// With --watch and --keep: prune at most this often (pruning lists the
    /// whole replica).
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    prune_interval: String,
    /// Show, per job, the newest source snapshot, the newest published
    /// replica, the lag (time and bytes) and what is in flight; copy nothing.
    #[arg(long, conflicts_with_all = ["watch", "promote", "dry_run"])]
    status: bool,
    /// Verify the newest complete replica of JOB (alias or id) and print
    /// how to restore it.
    #[arg(long, value_name = "JOB", conflicts_with_all = ["watch", "dry_run"])]
    promote: Option<String>,
    /// A job's priority, 0 to 9 (higher first) [default: the profile's
    /// replication.priorities / priority, else 0].
    #[arg(long = "priority", value_name = "JOB=P")]
    priorities: Vec<String>,
    /// One byte budget for all jobs: bytes/s with K, M, G (powers of 1024),
    /// or a timetable "08:00,10M 20:00,off" [default: the profile's
    /// replication.bwlimit].
    #[arg(long, value_name = "RATE")]
    bwlimit: Option<String>,
    /// Each job's own cap besides the shared budget [default: the profile's
    /// replication.job_bwlimit].
    #[arg(long, value_name = "RATE")]
    job_bwlimit: Option<String>,
    /// A file holding a --bwlimit value, re-read whenever it changes.
    #[arg(long, value_name = "FILE")]
    control: Option<PathBuf>,
    /// Where files under FROM go (files outside a snapshot's root).
    #[arg(long = "map", value_name = "FROM=TO")]
    maps: Vec<String>,
    /// Read files recorded under FROM at TO instead.
    #[arg(long, value_name = "FROM=TO")]
    rebase: Vec<String>,
    /// standard: size and the MD5 the replica's store reports. full: also
    /// read every copied file back.
    #[arg(long, value_enum, default_value_t = VerifyArg::Standard)]
    verify: VerifyArg,
    /// Show what a round would copy; copy nothing.
    #[arg(long)]
    dry_run: bool,
    /// The resume journal [default: $XDG_STATE_HOME/flink-chk/copy/<hash of DEST>.jsonl].
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Print JSON (with --watch: one line per round).
    #[arg(long)]
    json: bool,
}

/// Everything a run needs, resolved once.
struct Setup {
    sources: Sources,
    target: Target,
    dest: Dest,
    keep: Option<u32>,
    rebase: Rebase,
    maps: Vec<(Location, Location)>,
    /// Job id → priority.
    priorities: HashMap<String, u8>,
    default_priority: u8,
    /// Aliases for display.
    aliases: HashMap<String, String>,
    /// The profile the replication settings come from (SIGHUP re-reads it).
    profile: Option<String>,
    config: Option<PathBuf>,
}

impl Setup {
    fn priority(&self, s: &SourceSnapshot) -> u8 {
        let job = match (&s.job, s.dir.file_name().split('-').nth(1)) {
            (Some(j), _) => Some(j.clone()),
            // savepoint-<first 6 of the job id>-…
            (None, Some(prefix)) => self
                .priorities
                .keys()
                .find(|j| j.starts_with(prefix))
                .cloned(),
            (None, None) => None,
        };
        job.and_then(|j| self.priorities.get(&j).copied())
            .unwrap_or(self.default_priority)
    }

    fn name(&self, job: &str) -> String {
        match self.aliases.get(job) {
            Some(a) => format!("{a} ({job})"),
            None => job.to_owned(),
        }
    }
}

/// Runs `replicate`.
pub fn run(args: ReplicateArgs, global: &Global) -> Result<Exit> {
    run_inner(args, global).map_err(super::deps::without_repeated_causes)
}

fn run_inner(args: ReplicateArgs, global: &Global) -> Result<Exit> {
    // One PROFILE source selects that profile.
    let mut global = global.clone();
    let mut source_args = args.sources.clone();
    if let [one] = source_args.as_slice()
        && is_profile_name(one, global.config.as_deref())
    {
        global.profile = Some(one.clone());
        source_args.clear();
    }
    let ctx = Ctx::new(&global)?;
    let setup = setup(&ctx, &global, &args, &source_args)?;
    if args.status {
        return status(&ctx, &setup, &args);
    }
    if let Some(job) = &args.promote {
        return promote(&ctx, &setup, job, args.json);
    }
    replicate(&ctx, &global, setup, &args)
}

fn is_profile_name(s: &str, config: Option<&std::path::Path>) -> bool {
    if s.contains('/') || s.contains(':') || is_job_id(s) {
        return false;
    }
    let Ok(path) = profile::config_file(config) else {
        return false;
    };
    profile::Config::load(&path).is_ok_and(|c| c.profile(Some(s)).is_ok())
}

fn setup(
    ctx: &Ctx,
    global: &Global,
    args: &ReplicateArgs,
    source_args: &[String],
) -> Result<Setup> {
    let prof = ctx.profile.as_ref().map(|(n, p)| (n.clone(), p.clone()));
    let repl = prof
        .as_ref()
        .map(|(_, p)| p.replication.clone())
        .unwrap_or_default();
    let mut sources = Sources::default();
    if source_args.is_empty() && (args.promote.is_none() || prof.is_some()) {
        let Some((name, p)) = &prof else {
            bail!(
                "no SOURCE and no profile: give a checkpoints root, a job directory, or --profile NAME"
            );
        };
        sources.roots.push(p.checkpoints.clone());
        match &p.savepoints {
            Some(s) => sources.savepoints.push(s.clone()),
            None => output::note(&format!(
                "profile {name} has no savepoints root: only checkpoints are replicated"
            )),
        }
    }
    for a in source_args {
        // A job alias of the profile.
        if let Some((_, p)) = &prof
            && let Some(j) = p.jobs.iter().find(|j| &j.alias == a || &j.id == a)
        {
            sources.jobs.push(p.checkpoints.join(&j.id));
            continue;
        }
        let loc = Location::parse(&crate::storage::expand_home(a))
            .with_context(|| format!("SOURCE {a}"))?;
        if is_job_id(loc.file_name()) {
            sources.jobs.push(loc);
        } else {
            sources.roots.push(loc);
        }
    }
    let to = args
        .to
        .clone()
        .or_else(|| repl.to.clone())
        .context("no --to and no replication.to in the profile: where is the replica?")?;
    let dest = destination(ctx, global, &to)?;
    // Savepoints go to the destination's savepoints root (a profile's), else
    // beside the checkpoints.
    let target = Target {
        checkpoints: dest.root.clone(),
        savepoints: dest.savepoints.clone(),
    };
    // Never into a source (`--promote` only reads the replica).
    let checked: Vec<&Location> = if args.promote.is_some() {
        Vec::new()
    } else {
        sources
            .roots
            .iter()
            .chain(&sources.jobs)
            .chain(&sources.savepoints)
            .collect()
    };
    for s in checked {
        for t in [&target.checkpoints, target.savepoints_root()] {
            if t.starts_with(s) || s.starts_with(t) {
                bail!(
                    "the replica {t} and the source {s} overlap: a replica must be outside every source (nothing is written at a source)"
                );
            }
        }
    }
    let mut aliases = HashMap::new();
    let mut priorities = HashMap::new();
    let find_job = |name: &str| -> Option<String> {
        if let Some((_, p)) = &prof
            && let Some(j) = p.jobs.iter().find(|j| j.alias == name || j.id == name)
        {
            return Some(j.id.clone());
        }
        let lower = name.to_ascii_lowercase();
        is_job_id(&lower).then_some(lower)
    };
    if let Some((_, p)) = &prof {
        for j in &p.jobs {
            aliases.insert(j.id.clone(), j.alias.clone());
        }
    }
    for (job, p) in &repl.priorities {
        let id = find_job(job).with_context(|| {
            format!("replication.priorities: {job} is neither a job alias nor a job id")
        })?;
        priorities.insert(id, *p);
    }
    for spec in &args.priorities {
        let (job, p) = spec
            .split_once('=')
            .with_context(|| format!("--priority {spec}: expected JOB=P"))?;
        let p: u8 = p
            .parse()
            .ok()
            .filter(|p| *p <= 9)
            .with_context(|| format!("--priority {spec}: a priority is 0 to 9"))?;
        let id = find_job(job).with_context(|| {
            format!("--priority {spec}: {job} is neither a job alias nor a job id")
        })?;
        priorities.insert(id, p);
    }
    Ok(Setup {
        sources,
        target,
        dest,
        keep: args.keep.or(repl.keep),
        rebase: Rebase::parse(&args.rebase)?,
        maps: parse_maps(&args.maps)?,
        priorities,
        default_priority: repl.priority.unwrap_or(0),
        aliases,
        profile: prof.map(|(n, _)| n),
        config: global.config.clone(),
    })
}

/// The profile's replication settings now (for SIGHUP).
fn reread_profile(setup: &Setup) -> Option<profile::Replication> {
    let name = setup.profile.as_deref()?;
    let path = profile::config_file(setup.config.as_deref()).ok()?;
    let config = profile::Config::load(&path).ok()?;
    let (_, p) = config.profile(Some(name)).ok()?;
    Some(p.replication.clone())
}

/// One published (or not) snapshot of a round, in the JSON report.
#[derive(Debug, Serialize)]
struct SnapshotLine {
    kind: Kind,
    job: Option<String>,
    checkpoint_id: i64,
    source: String,
    destination: String,
    /// `published`, `already_published`, `not_published`, `not_planned`,
    /// `planned` (--dry-run), `stopped` (left for the next run by a signal).
    status: &'static str,
    error: Option<String>,
    files: usize,
    bytes: u64,
    /// Seconds between the source completing and the replica publishing.
    lag_seconds: Option<f64>,
}

/// The pruning part of a round report.
#[derive(Debug, Default, Serialize)]
struct PruneReport {
    candidate_files: u64,
    candidate_bytes: u64,
    deleted_files: u64,
    deleted_bytes: u64,
    failed: Vec<String>,
    /// Why nothing was pruned, when nothing was.
    skipped: Option<String>,
}

/// A round's JSON report (stable field names).
#[derive(Debug, Default, Serialize)]
struct RoundReport {
    destination: String,
    started: String,
    seconds: f64,
    /// Snapshots the sources have (newest checkpoint per job, savepoints).
    source_snapshots: usize,
    /// Of those, already in the replica.
    up_to_date: usize,
    snapshots: Vec<SnapshotLine>,
    copied_files: usize,
    copied_bytes: u64,
    skipped_files: usize,
    failed_files: usize,
    prune: Option<PruneReport>,
    /// A job writes into the replica: replication stopped.
    foreign: Vec<String>,
    stopped: bool,
}

/// Logs one line per settled snapshot.
struct Log<'a> {
    parts: &'a [(SourceSnapshot, Identity)],
    plan_dest: Vec<String>,
    setup: &'a Setup,
    copied: AtomicU64,
    lines: Mutex<Vec<(usize, Published, Option<f64>)>>,
}

impl Observer for Log<'_> {
    fn bytes(&self, n: u64) {
        self.copied.fetch_add(n, Ordering::Relaxed);
    }

    fn file_done(&self) {}

    fn published(&self, k: usize, outcome: &Published) {
        let (s, id) = &self.parts[k];
        let lag = id.source_completed.map(|t| {
            (jiff::Timestamp::now().as_millisecond() - t.as_millisecond()) as f64 / 1000.0
        });
        let what = match &s.job {
            Some(j) => format!("{} chk-{}", self.setup.name(j), id.checkpoint_id),
            None => s.dir.file_name().to_owned(),
        };
        let mut err = anstream::stderr();
        let _ = match outcome {
            Published::New => writeln!(
                err,
                "published {} ({what}: {} files, {}; {} after the source completed)",
                output::printable(&self.plan_dest[k]),
                id.files,
                bytes(id.bytes),
                lag.map_or("?".to_owned(), duration),
            ),
            Published::Already => Ok(()),
            Published::Not(e) if e.contains(run::STOPPED) => writeln!(
                err,
                "{DIM}left for the next run{DIM:#} {} ({what}): the run was stopped before its files were all copied",
                output::printable(&self.plan_dest[k]),
            ),
            Published::Not(e) => writeln!(
                err,
                "{ERR}not published{ERR:#} {} ({what}): {}",
                output::printable(&self.plan_dest[k]),
                output::printable(e)
            ),
        };
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((k, outcome.clone(), lag));
    }
}

/// A lock on the destination: one replication into it on this machine.
struct Lock(Option<PathBuf>);

impl Lock {
    fn take(dest: &str) -> Result<Self> {
        let Some(path) = replica::lock_path(dest) else {
            return Ok(Self(None));
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(Self(Some(path)));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let pid = std::fs::read_to_string(&path).unwrap_or_default();
                    let pid = pid.trim();
                    // Without /proc, a lock is taken as held.
                    let alive = replica::pid_alive(pid).unwrap_or(true);
                    if alive {
                        bail!(
                            "another replicate into {dest} runs (pid {pid}, lock {}); one replication per destination",
                            path.display()
                        );
                    }
                    // Left by a process that is gone.
                    let _ = std::fs::remove_file(&path);
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("creating the lock {}", path.display()));
                }
            }
        }
        bail!("cannot take the lock {}", path.display())
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn replicate(ctx: &Ctx, global: &Global, setup: Setup, args: &ReplicateArgs) -> Result<Exit> {
    let _ = global;
    let interval = profile::parse_duration(&args.interval)
        .map_err(|e| anyhow::anyhow!("--interval {}: {e}", args.interval))?;
    let prune_interval = profile::parse_duration(&args.prune_interval)
        .map_err(|e| anyhow::anyhow!("--prune-interval {}: {e}", args.prune_interval))?;
    let repl = ctx
        .profile
        .as_ref()
        .map(|(_, p)| p.replication.clone())
        .unwrap_or_default();
    let schedule = match args.bwlimit.as_deref().or(repl.bwlimit.as_deref()) {
        Some(s) => Schedule::parse(s)?,
        None => Schedule::parse("off")?,
    };
    let job_schedule = args
        .job_bwlimit
        .as_deref()
        .or(repl.job_bwlimit.as_deref())
        .map(Schedule::parse)
        .transpose()?;
    let dest_key = setup.target.checkpoints.to_string();
    let lock = if args.dry_run {
        Lock(None)
    } else {
        Lock::take(&dest_key)?
    };
    let journal = if args.dry_run {
        None
    } else {
        match args
            .journal
            .clone()
            .or_else(|| crate::transfer::record::default_path(&dest_key))
        {
            Some(p) => Some(Journal::open(&p)?),
            None => {
                output::warn(
                    "no state directory (HOME unset?): replicating without a resume journal; give --journal FILE",
                );
                None
            }
        }
    };
    // Identities this machine's journal recorded writing (read once: they
    // need not be read back from the replica in any round).
    let known: replica::Known = journal
        .as_ref()
        .map(|j| {
            j.replicas()
                .iter()
                .filter_map(|(d, v)| Some((d.clone(), serde_json::from_value(v.clone()).ok()?)))
                .collect()
        })
        .unwrap_or_default();
    let limiter = Arc::new(Limiter::new(schedule));
    let pacer = Arc::new(Pacer::new(Some(limiter.clone())));
    let job_limiters: Arc<Mutex<HashMap<String, Arc<Limiter>>>> = Default::default();
    let job_schedule = Arc::new(Mutex::new(job_schedule));
    let setup = Arc::new(setup);
    let mut out = anstream::stdout();
    let mut worst = Exit::Ok;
    ctx.block_on(async {
        background(
            pacer.clone(),
            limiter.clone(),
            job_limiters.clone(),
            job_schedule.clone(),
            setup.clone(),
            args.control.clone(),
            dest_key.clone(),
        );
        let mut last_prune: Option<Instant> = None;
        loop {
            let started = Instant::now();
            let mut report = RoundReport {
                destination: dest_key.clone(),
                started: jiff::Timestamp::now().to_string(),
                ..RoundReport::default()
            };
            let code = one_round(
                ctx,
                &setup,
                args,
                journal.as_ref(),
                &known,
                &pacer,
                &limiter,
                &job_limiters,
                &job_schedule,
                &mut report,
            )
            .await?;
            let prune_due = last_prune.is_none_or(|t| t.elapsed() >= prune_interval) || !args.watch;
            if code != Exit::Failover
                && !args.dry_run
                && !pacer.stopping()
                && prune_due
                && let Some(keep) = setup.keep
            {
                report.prune = Some(prune(ctx, &setup, keep, args.yes).await);
                last_prune = Some(Instant::now());
            }
            report.seconds = started.elapsed().as_secs_f64();
            report.stopped = pacer.stopping();
            if args.json {
                if args.watch {
                    writeln!(out, "{}", serde_json::to_string(&report)?)?;
                } else {
                    output::print_json(&mut out, &report)?;
                }
            } else if !args.watch || !report.snapshots.is_empty() || !report.foreign.is_empty() {
                human_round(&mut out, &setup, &report, args.dry_run)?;
            }
            if code != Exit::Ok {
                worst = code;
            }
            if code == Exit::Failover {
                // Also on stderr: a service manager's log shows why it stopped.
                let _ = writeln!(
                    anstream::stderr(),
                    "{ERR}error:{ERR:#} replication stopped: {} snapshot director{} in the replica {} not written by flink-chk (a job restored from the replica? a failover?): {}; nothing was copied",
                    report.foreign.len(),
                    if report.foreign.len() == 1 { "y is" } else { "ies are" },
                    output::printable(&report.destination),
                    output::printable(&report.foreign.join(", ")),
                );
            }
            if code == Exit::Failover || !args.watch || pacer.stopping() {
                break;
            }
            // Wait for the next round, or a stop.
            let until = Instant::now() + interval;
            while Instant::now() < until && !pacer.stopping() {
                tokio::time::sleep(Duration::from_millis(200).min(interval)).await;
            }
            if pacer.stopping() {
                break;
            }
        }
        Ok::<_, anyhow::Error>(())
    })?;
    drop(lock);
    Ok(worst)
}

/// Signal handlers and the control-file / interactive-copy watchers.
fn background(
    pacer: Arc<Pacer>,
    limiter: Arc<Limiter>,
    job_limiters: Arc<Mutex<HashMap<String, Arc<Limiter>>>>,
    job_schedule: Arc<Mutex<Option<Schedule>>>,
    setup: Arc<Setup>,
    control: Option<PathBuf>,
    dest_key: String,
) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let p = pacer.clone();
        tokio::spawn(async move {
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                return;
            };
            loop {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
                if p.stopping() {
                    // A second signal: stop now (the journal resumes).
                    std::process::exit(130);
                }
                output::note(
                    "stopping: the files in flight finish, then what they complete is published",
                );
                p.request_stop();
            }
        });
        let (l, jl, js, s) = (
            limiter.clone(),
            job_limiters.clone(),
            job_schedule.clone(),
            setup.clone(),
        );
        tokio::spawn(async move {
            let Ok(mut hup) = signal(SignalKind::hangup()) else {
                return;
            };
            while hup.recv().await.is_some() {
                let Some(r) = reread_profile(&s) else {
                    output::warn("SIGHUP: the profile could not be read again; limits unchanged");
                    continue;
                };
                if let Some(b) = r.bwlimit.as_deref().map(Schedule::parse) {
                    match b {
                        Ok(sch) => {
                            l.set(sch);
                            output::note(&format!(
                                "SIGHUP: --bwlimit is now {}",
                                r.bwlimit.unwrap_or_default()
                            ));
                        }
                        Err(e) => output::warn(&format!("SIGHUP: {e}; limit unchanged")),
                    }
                }
                if let Some(Ok(sch)) = r.job_bwlimit.as_deref().map(Schedule::parse) {
                    for l in jl.lock().unwrap_or_else(|e| e.into_inner()).values() {
                        l.set(sch.clone());
                    }
                    *js.lock().unwrap_or_else(|e| e.into_inner()) = Some(sch);
                }
            }
        });
    }
    #[cfg(not(unix))]
    {
        let _ = (&job_limiters, &job_schedule, &setup);
        let p = pacer.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                p.request_stop();
            }
        });
    }
    tokio::spawn(async move {
        let mut seen: Option<std::time::SystemTime> = None;
        loop {
            // An interactive copy into the same destination goes first.
            let held = replica::interactive_running(&dest_key);
            let was = pacer
                .held_by
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_some();
            if held != was {
                if held {
                    output::note(
                        "an interactive copy into this destination runs: new files wait for it",
                    );
                }
                pacer.hold(held.then(|| "an interactive copy".to_owned()));
            }
            if let Some(c) = &control
                && let Ok(m) = std::fs::metadata(c).and_then(|m| m.modified())
                && seen != Some(m)
            {
                seen = Some(m);
                if let Ok(text) = std::fs::read_to_string(c) {
                    let t = text.trim();
                    if !t.is_empty() {
                        match Schedule::parse(t) {
                            Ok(s) => {
                                limiter.set(s);
                                output::note(&format!("{}: --bwlimit is now {t}", c.display()));
                            }
                            Err(e) => {
                                output::warn(&format!("{}: {e}; limit unchanged", c.display()))
                            }
                        }
                    }
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

#[allow(clippy::too_many_arguments)]
async fn one_round(
    ctx: &Ctx,
    setup: &Setup,
    args: &ReplicateArgs,
    journal: Option<&Journal>,
    known: &replica::Known,
    pacer: &Arc<Pacer>,
    limiter: &Arc<Limiter>,
    job_limiters: &Mutex<HashMap<String, Arc<Limiter>>>,
    job_schedule: &Mutex<Option<Schedule>>,
    report: &mut RoundReport,
) -> Result<Exit> {
    let src: &dyn Storage = ctx.storages.as_ref();
    let dst: &dyn Storage = setup.dest.storage.as_ref();
    let conc = ctx.concurrency();
    let mut exit = Exit::Ok;
    // A source snapshot Flink subsumes while it is copied is abandoned and
    // the job's newer checkpoint planned instead (files copied are reused).
    for attempt in 0..4 {
        let found = round::discover(src, &setup.sources, conc).await?;
        let jobs: Vec<String> = found.iter().filter_map(|s| s.job.clone()).collect();
        // Each job's directories are looked into for its newest source
        // checkpoint; what this machine wrote (`known`) is not read back.
        let want: std::collections::BTreeMap<String, u64> = found
            .iter()
            .filter_map(|s| {
                Some((
                    s.job.clone()?,
                    crate::names::checkpoint_id(s.dir.file_name())?,
                ))
            })
            .collect();
        let state = State::read(dst, &setup.target, jobs, known, &want, conc).await?;
        let foreign = state.foreign();
        if !foreign.is_empty() {
            report.foreign = foreign.iter().map(|(_, s)| s.dir.to_string()).collect();
            return Ok(Exit::Failover);
        }
        if attempt == 0 {
            report.source_snapshots = found.len();
            report.up_to_date = found.iter().filter(|s| state.has(s)).count();
        }
        let wanted: Vec<SourceSnapshot> = found.into_iter().filter(|s| !state.has(s)).collect();
        if wanted.is_empty() {
            break;
        }
        let planned =
            round::plan_round(src, wanted, &setup.target, &setup.rebase, &setup.maps, conc).await;
        let mut redo = false;
        for u in &planned.unplanned {
            if u.vanished {
                redo = true;
                output::note(&format!(
                    "{}: gone at the source while planning (Flink subsumed it?); its newer checkpoint is taken instead",
                    u.snapshot.dir
                ));
            } else {
                exit = Exit::Partial;
                report.snapshots.push(SnapshotLine {
                    kind: u.snapshot.kind,
                    job: u.snapshot.job.clone(),
                    checkpoint_id: -1,
                    source: u.snapshot.dir.to_string(),
                    destination: String::new(),
                    status: "not_planned",
                    error: Some(u.error.to_string()),
                    files: 0,
                    bytes: 0,
                    lag_seconds: None,
                });
            }
        }
        if args.dry_run {
            for p in &planned.parts {
                let Some(s) = p.plan.snapshots.first() else {
                    continue;
                };
                report.snapshots.push(SnapshotLine {
                    kind: p.source.kind,
                    job: p.source.job.clone(),
                    checkpoint_id: p.identity.checkpoint_id,
                    source: p.source.dir.to_string(),
                    destination: s.destination.parent().to_string(),
                    status: "planned",
                    error: None,
                    files: p.identity.files,
                    bytes: p.identity.bytes,
                    lag_seconds: None,
                });
            }
            break;
        }
        let dest_roots: Vec<Location> = planned
            .parts
            .iter()
            .flat_map(|p| p.plan.map.rules().iter().map(|(_, t)| t.clone()))
            .collect();
        let prepared = planned.prepare(dst, &dest_roots, journal).await?;
        for (s, e) in &prepared.failed {
            exit = Exit::Partial;
            report.snapshots.push(SnapshotLine {
                kind: s.kind,
                job: s.job.clone(),
                checkpoint_id: -1,
                source: s.dir.to_string(),
                destination: String::new(),
                status: "not_published",
                error: Some(e.clone()),
                files: 0,
                bytes: 0,
                lag_seconds: None,
            });
        }
        if prepared.parts.is_empty() {
            break;
        }
        let job_sched = job_schedule
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let snapshot_limiters: Vec<Option<Arc<Limiter>>> = prepared
            .parts
            .iter()
            .map(|(s, _)| {
                let sch = job_sched.clone()?;
                let job = s.job.clone().unwrap_or_else(|| "savepoints".to_owned());
                Some(
                    job_limiters
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .entry(job)
                        .or_insert_with(|| Arc::new(Limiter::new(sch)))
                        .clone(),
                )
            })
            .collect();
        let opts = Options {
            concurrency: conc.min(64),
            verify: match args.verify {
                VerifyArg::Standard => Verify::Standard,
                VerifyArg::Full => Verify::Full,
            },
            limiter: Some(limiter.clone()),
            dest_roots: prepared
                .plan
                .map
                .rules()
                .iter()
                .map(|(_, t)| t.clone())
                .collect(),
            server_side: Arc::ptr_eq(&setup.dest.storage, &ctx.storages),
            priorities: prepared
                .parts
                .iter()
                .map(|(s, _)| setup.priority(s))
                .collect(),
            snapshot_limiters,
            control: Some(pacer.clone() as Arc<dyn run::Control>),
            ..Options::default()
        };
        let log = Log {
            parts: &prepared.parts,
            plan_dest: prepared
                .plan
                .snapshots
                .iter()
                .map(|s| s.destination.parent().to_string())
                .collect(),
            setup,
            copied: AtomicU64::new(0),
            lines: Mutex::new(Vec::new()),
        };
        let r = run::copy(&prepared.plan, src, dst, journal, &opts, &log).await;
        for o in &r.files {
            match o {
                FileOutcome::Copied { bytes } => {
                    report.copied_files += 1;
                    report.copied_bytes += bytes;
                }
                FileOutcome::Skipped => report.skipped_files += 1,
                FileOutcome::Failed(_) => report.failed_files += 1,
            }
        }
        let lags: HashMap<usize, Option<f64>> = log
            .lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, _, l)| (*k, *l))
            .collect();
        redo = redo && !pacer.stopping();
        for (k, ((s, id), p)) in prepared.parts.iter().zip(&r.snapshots).enumerate() {
            let (status, error) = match p {
                Published::New => ("published", None),
                Published::Already => ("already_published", None),
                // Stopped (a signal): nothing half-published, the next run resumes.
                Published::Not(e) if e.contains(run::STOPPED) => ("stopped", None),
                Published::Not(e) => {
                    // Subsumed mid-copy: the next attempt plans the newer one.
                    if e.contains(run::SOURCE_GONE) && !pacer.stopping() {
                        redo = true;
                    } else {
                        exit = Exit::Partial;
                    }
                    ("not_published", Some(e.clone()))
                }
            };
            report.snapshots.push(SnapshotLine {
                kind: s.kind,
                job: s.job.clone(),
                checkpoint_id: id.checkpoint_id,
                source: s.dir.to_string(),
                destination: prepared.plan.snapshots[k].destination.parent().to_string(),
                status,
                error,
                files: id.files,
                bytes: id.bytes,
                lag_seconds: lags.get(&k).copied().flatten(),
            });
        }
        if !redo || pacer.stopping() {
            break;
        }
        if attempt == 3 {
            exit = Exit::Partial;
        }
    }
    Ok(exit)
}

async fn prune(ctx: &Ctx, setup: &Setup, keep: u32, yes: bool) -> PruneReport {
    let dst: &dyn Storage = setup.dest.storage.as_ref();
    let conc = ctx.concurrency();
    let mut r = PruneReport::default();
    let plan = match round::prune_plan(dst, &setup.target, keep as usize, conc).await {
        Ok(p) => p,
        Err(crate::analysis::cleanup::Error::EmptyListing(_)) => {
            r.skipped = Some("the replica is empty".to_owned());
            return r;
        }
        Err(e) => {
            output::warn(&format!("not pruned: {e}"));
            r.skipped = Some(e.to_string());
            return r;
        }
    };
    r.candidate_files = plan.totals.candidate_files;
    r.candidate_bytes = plan.totals.candidate_bytes;
    if plan.candidates.is_empty() {
        return r;
    }
    let what = format!(
        "Prune the replica: delete {} files ({}) no kept replica needs (each job keeps its newest {keep} checkpoint(s) and every savepoint)?",
        plan.totals.candidate_files,
        bytes(plan.totals.candidate_bytes)
    );
    let confirmed = if yes {
        true
    } else {
        use std::io::IsTerminal;
        if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            let theme = dialoguer::theme::ColorfulTheme::default();
            tokio::task::block_in_place(|| {
                dialoguer::Confirm::with_theme(&theme)
                    .with_prompt(&what)
                    .default(false)
                    .interact_opt()
                    .ok()
                    .flatten()
                    .unwrap_or(false)
            })
        } else {
            r.skipped = Some("not on a terminal and no --yes".to_owned());
            output::note(&format!(
                "{} files ({}) could be pruned from the replica; pass --yes to prune without asking",
                plan.totals.candidate_files,
                bytes(plan.totals.candidate_bytes)
            ));
            return r;
        }
    };
    if !confirmed {
        r.skipped = Some("declined".to_owned());
        return r;
    }
    match round::prune_apply(dst, &plan, conc, |ev| {
        if let crate::analysis::cleanup::apply::Event::Failed { path, error } = ev {
            output::warn(&format!("prune: {path}: {error}"));
        }
    })
    .await
    {
        Ok(a) => {
            r.deleted_files = a.deleted_files;
            r.deleted_bytes = a.deleted_bytes;
            r.failed = a.failed.iter().map(|(p, e)| format!("{p}: {e}")).collect();
        }
        Err(e) => {
            output::warn(&format!("not pruned: {e}"));
            r.skipped = Some(e.to_string());
        }
    }
    r
}

fn human_round(out: &mut impl Write, setup: &Setup, r: &RoundReport, dry_run: bool) -> Result<()> {
    if !r.foreign.is_empty() {
        writeln!(
            out,
            "{ERR}Replication stopped:{ERR:#} something other than flink-chk writes into the replica {}:",
            output::printable(&r.destination)
        )?;
        for f in &r.foreign {
            writeln!(out, "  {}", output::printable(f))?;
        }
        writeln!(
            out,
            "A snapshot directory there has a _metadata but no {}, or is newer than every replicated one: a job runs against the replica (a failover happened?) or snapshots were copied into it by other means. Replicating on could overwrite what that job needs, so nothing was copied. Point replication at another destination, or move those directories away once the replica is no longer in use.",
            replica::IDENTITY
        )?;
        return Ok(());
    }
    let published = r
        .snapshots
        .iter()
        .filter(|s| s.status == "published")
        .count();
    let failed = r
        .snapshots
        .iter()
        .filter(|s| s.status == "not_published" || s.status == "not_planned")
        .count();
    if dry_run {
        writeln!(
            out,
            "{BOLD}Plan:{BOLD:#} {} snapshot(s) to replicate into {} ({} of {} source snapshots up to date). {DIM}Nothing was copied (--dry-run).{DIM:#}",
            r.snapshots.len(),
            output::printable(&r.destination),
            r.up_to_date,
            r.source_snapshots,
        )?;
    } else if failed == 0 {
        writeln!(
            out,
            "{BOLD}Replica up to date{BOLD:#} at {}: {published} snapshot(s) published now, {} of {} already there; {} files copied ({}), {} already there, in {}",
            output::printable(&r.destination),
            r.up_to_date,
            r.source_snapshots,
            r.copied_files,
            bytes(r.copied_bytes),
            r.skipped_files,
            duration(r.seconds),
        )?;
    } else {
        writeln!(
            out,
            "{ERR}{failed} snapshot(s) NOT replicated{ERR:#} into {} ({published} published); a re-run resumes",
            output::printable(&r.destination)
        )?;
    }
    if !r.snapshots.is_empty() {
        let mut t = output::table(["JOB", "SNAPSHOT", "REPLICA", "FILES", "BYTES", "STATUS"]);
        for s in &r.snapshots {
            t.add_row(vec![
                s.job
                    .as_deref()
                    .map_or("savepoint".to_owned(), |j| setup.name(j)),
                output::printable(&s.source).into_owned(),
                output::printable(&s.destination).into_owned(),
                s.files.to_string(),
                bytes(s.bytes),
                s.status.replace('_', " "),
            ]);
        }
        output::write_table(out, &t)?;
    }
    for s in &r.snapshots {
        if let Some(e) = &s.error {
            writeln!(
                out,
                "{ERR}{}:{ERR:#} {}: {}",
                s.status.replace('_', " "),
                output::printable(&s.source),
                output::printable(e)
            )?;
        }
    }
    if let Some(p) = &r.prune {
        match &p.skipped {
            Some(why) => writeln!(out, "{DIM}Not pruned: {why}.{DIM:#}")?,
            None if p.deleted_files > 0 => writeln!(
                out,
                "Pruned the replica: {} files ({}) deleted",
                p.deleted_files,
                bytes(p.deleted_bytes)
            )?,
            None => {}
        }
    }
    Ok(())
}

/// One job's line of `--status` (stable field names).
#[derive(Debug, Serialize)]
struct JobStatus {
    job: String,
    alias: Option<String>,
    source_newest: Option<SourceView>,
    replica_newest: Option<ReplicaView>,
    /// Seconds between the newest source snapshot completing and the one
    /// the replica has (0: up to date).
    lag_seconds: Option<f64>,
    /// Seconds since the replica's newest snapshot completed at the source:
    /// what a failover now would lose.
    replica_age_seconds: Option<f64>,
    /// Bytes the newest source snapshot needs that the replica lacks.
    bytes_behind: Option<u64>,
    up_to_date: bool,
    in_flight: Vec<ReplicaView>,
}

#[derive(Debug, Serialize)]
struct SourceView {
    snapshot: String,
    checkpoint_id: Option<u64>,
    completed: Option<String>,
}

#[derive(Debug, Serialize)]
struct ReplicaView {
    snapshot: String,
    checkpoint_id: i64,
    source: String,
    source_completed: Option<String>,
    published: Option<String>,
    files: usize,
    bytes: u64,
}

impl ReplicaView {
    fn of(s: &replica::ReplicaSnapshot) -> Option<Self> {
        let id = s.identity.as_ref()?;
        Some(Self {
            snapshot: s.dir.to_string(),
            checkpoint_id: id.checkpoint_id,
            source: id.source.clone(),
            source_completed: id.source_completed.map(|t| t.to_string()),
            published: s
                .metadata
                .as_ref()
                .and_then(|m| m.modified)
                .map(|t| t.to_string()),
            files: id.files,
            bytes: id.bytes,
        })
    }
}

#[derive(Debug, Serialize)]
struct SavepointsStatus {
    source: usize,
    replicated: usize,
    missing: Vec<String>,
}

/// `--status --json` (stable field names).
#[derive(Debug, Serialize)]
struct StatusReport {
    destination: String,
    jobs: Vec<JobStatus>,
    savepoints: SavepointsStatus,
    /// Jobs whose replica is behind the source.
    behind: usize,
    /// Snapshot directories someone else wrote into the replica.
    foreign: Vec<String>,
}

fn secs_between(a: jiff::Timestamp, b: jiff::Timestamp) -> f64 {
    (a.as_millisecond() - b.as_millisecond()) as f64 / 1000.0
}

fn status(ctx: &Ctx, setup: &Setup, args: &ReplicateArgs) -> Result<Exit> {
    let src: &dyn Storage = ctx.storages.as_ref();
    let dst: &dyn Storage = setup.dest.storage.as_ref();
    let conc = ctx.concurrency();
    let now = jiff::Timestamp::now();
    let report = ctx.block_on(async {
        let found = round::discover(src, &setup.sources, conc).await?;
        let mut jobs: Vec<String> = found.iter().filter_map(|s| s.job.clone()).collect();
        // Jobs the replica has whose source is gone are shown too.
        for j in replica::jobs(dst, &setup.target.checkpoints)
            .await
            .unwrap_or_default()
        {
            jobs.push(j.file_name().to_owned());
        }
        jobs.sort();
        jobs.dedup();
        let state = State::read(
            dst,
            &setup.target,
            jobs.clone(),
            &replica::Known::new(),
            &Default::default(),
            conc,
        )
        .await?;
        // Bytes behind: the newest source snapshots the replica lacks,
        // planned, their targets looked up.
        let lacking: Vec<SourceSnapshot> = found
            .iter()
            .filter(|s| s.kind == Kind::Checkpoint && !state.has(s))
            .cloned()
            .collect();
        let planned = round::plan_round(
            src,
            lacking,
            &setup.target,
            &setup.rebase,
            &setup.maps,
            conc,
        )
        .await;
        let mut behind: HashMap<String, u64> = HashMap::new();
        for p in &planned.parts {
            let targets: Vec<Location> = p.plan.files.iter().map(|f| f.target.clone()).collect();
            let there = crate::transfer::stat::stat_many(dst, &targets, conc).await;
            let missing: u64 = p
                .plan
                .files
                .iter()
                .zip(there)
                .filter(|(f, t)| !matches!(t, Ok(Some(e)) if Some(e.size) == f.size))
                .map(|(f, _)| f.size.unwrap_or(0))
                .sum();
            if let Some(j) = &p.source.job {
                behind.insert(j.clone(), missing);
            }
        }
        let mut out = Vec::new();
        for j in &jobs {
            let src_newest = found
                .iter()
                .find(|s| s.kind == Kind::Checkpoint && s.job.as_deref() == Some(j.as_str()));
            let rep = state.jobs.get(j);
            // A job directory holding only files other jobs need (a restore
            // lineage's parent) is no job of the replica.
            if src_newest.is_none() && rep.is_none_or(|r| r.snapshots.is_empty()) {
                continue;
            }
            let newest = rep.and_then(|r| r.newest_published());
            let up_to_date = src_newest.is_some_and(|s| state.has(s));
            let src_time = src_newest.and_then(|s| s.metadata.modified);
            let rep_time = newest
                .and_then(|n| n.identity.as_ref())
                .and_then(|i| i.source_completed);
            let lag_seconds = if up_to_date {
                Some(0.0)
            } else {
                match (src_time, rep_time) {
                    (Some(a), Some(b)) => Some(secs_between(a, b).max(0.0)),
                    _ => None,
                }
            };
            out.push(JobStatus {
                job: j.clone(),
                alias: setup.aliases.get(j).cloned(),
                source_newest: src_newest.map(|s| SourceView {
                    snapshot: s.dir.to_string(),
                    checkpoint_id: crate::names::checkpoint_id(s.dir.file_name()),
                    completed: s.metadata.modified.map(|t| t.to_string()),
                }),
                replica_newest: newest.and_then(ReplicaView::of),
                lag_seconds,
                replica_age_seconds: rep_time.map(|t| secs_between(now, t)),
                bytes_behind: if up_to_date {
                    Some(0)
                } else {
                    behind.get(j).copied()
                },
                up_to_date,
                in_flight: rep
                    .map(|r| r.unpublished().filter_map(ReplicaView::of).collect())
                    .unwrap_or_default(),
            });
        }
        let sps: Vec<&SourceSnapshot> =
            found.iter().filter(|s| s.kind == Kind::Savepoint).collect();
        let missing: Vec<String> = sps
            .iter()
            .filter(|s| !state.has(s))
            .map(|s| s.dir.to_string())
            .collect();
        Ok::<_, anyhow::Error>(StatusReport {
            destination: setup.target.checkpoints.to_string(),
            behind: out
                .iter()
                .filter(|j| j.source_newest.is_some() && !j.up_to_date)
                .count(),
            jobs: out,
            savepoints: SavepointsStatus {
                source: sps.len(),
                replicated: sps.len() - missing.len(),
                missing,
            },
            foreign: state
                .foreign()
                .iter()
                .map(|(_, s)| s.dir.to_string())
                .collect(),
        })
    })?;
    let mut out = anstream::stdout();
    if args.json {
        output::print_json(&mut out, &report)?;
    } else {
        human_status(&mut out, &report)?;
    }
    Ok(if !report.foreign.is_empty() {
        Exit::Failover
    } else if report.behind > 0 || !report.savepoints.missing.is_empty() {
        Exit::Partial
    } else {
        Exit::Ok
    })
}

fn human_status(out: &mut impl Write, r: &StatusReport) -> Result<()> {
    let worst = r
        .jobs
        .iter()
        .filter_map(|j| j.replica_age_seconds)
        .fold(None::<f64>, |a, b| Some(a.map_or(b, |a| a.max(b))));
    if r.behind == 0 && r.savepoints.missing.is_empty() {
        writeln!(
            out,
            "{BOLD}Replica up to date{BOLD:#} at {}: {} job(s), {} savepoint(s){}",
            output::printable(&r.destination),
            r.jobs.len(),
            r.savepoints.replicated,
            worst.map_or(String::new(), |w| format!(
                "; a failover now loses at most {} of processing",
                duration(w)
            )),
        )?;
    } else {
        writeln!(
            out,
            "{BOLD}Replica behind{BOLD:#} at {}: {} of {} job(s) behind, {} savepoint(s) missing{}",
            output::printable(&r.destination),
            r.behind,
            r.jobs.len(),
            r.savepoints.missing.len(),
            worst.map_or(String::new(), |w| format!(
                "; a failover now loses up to {}",
                duration(w)
            )),
        )?;
    }
    let mut t = output::table([
        "JOB",
        "SOURCE NEWEST",
        "REPLICA NEWEST",
        "LAG",
        "BEHIND",
        "IN FLIGHT",
    ]);
    for j in &r.jobs {
        t.add_row(vec![
            match &j.alias {
                Some(a) => format!("{a} ({})", j.job),
                None => j.job.clone(),
            },
            j.source_newest
                .as_ref()
                .and_then(|s| s.checkpoint_id)
                .map_or("-".to_owned(), |id| format!("chk-{id}")),
            j.replica_newest
                .as_ref()
                .map_or("none".to_owned(), |s| format!("chk-{}", s.checkpoint_id)),
            j.lag_seconds.map_or("?".to_owned(), duration),
            j.bytes_behind.map_or("?".to_owned(), bytes),
            if j.in_flight.is_empty() {
                "-".to_owned()
            } else {
                j.in_flight
                    .iter()
                    .map(|s| format!("chk-{}", s.checkpoint_id))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ]);
    }
    output::write_table(out, &t)?;
    for f in &r.foreign {
        writeln!(
            out,
            "{ERR}written by someone else:{ERR:#} {} (a job runs against the replica?)",
            output::printable(f)
        )?;
    }
    Ok(())
}

/// `--promote --json` (stable field names).
#[derive(Debug, Serialize)]
struct PromoteReport {
    job: String,
    snapshot: String,
    restore_path: String,
    claim_mode: &'static str,
    verified: bool,
    files: usize,
    problems: Vec<String>,
    source: String,
    source_completed: Option<String>,
    changelog: bool,
    flink_run: String,
}

fn promote(ctx: &Ctx, setup: &Setup, job: &str, json: bool) -> Result<Exit> {
    let id = match ctx
        .profile
        .as_ref()
        .and_then(|(_, p)| p.jobs.iter().find(|j| j.alias == job || j.id == job))
    {
        Some(j) => j.id.clone(),
        None if is_job_id(&job.to_ascii_lowercase()) => job.to_ascii_lowercase(),
        None => bail!("--promote {job}: neither a job alias of the profile nor a job id"),
    };
    let dst: &dyn Storage = setup.dest.storage.as_ref();
    let conc = ctx.concurrency();
    let dir = setup.target.checkpoints.join(&id);
    let report = ctx.block_on(async {
        let r = replica::replica_job(dst, &dir, &replica::Known::new(), None).await?;
        let newest = r
            .newest_published()
            .with_context(|| format!("{dir}: no published replica of job {job}"))?;
        let ident = newest.identity.clone().context("no identity")?;
        let snap = crate::analysis::snapshot::load(dst, &newest.dir).await?;
        let deps = crate::analysis::deps::collect(&snap, &Rebase::default());
        let problems = crate::analysis::deps::verify(dst, &deps, conc, |_| {}).await;
        let changelog = deps
            .files
            .iter()
            .any(|f| f.label == crate::analysis::deps::Label::Changelog);
        // Nothing may point outside the replica (at the source).
        let mut outside: Vec<String> = deps
            .files
            .iter()
            .filter(|f| {
                !f.location.starts_with(&setup.target.checkpoints)
                    && !f.location.starts_with(setup.target.savepoints_root())
            })
            .map(|f| format!("{} lies outside the replica", f.location))
            .collect();
        outside.truncate(5);
        let mut problem_text: Vec<String> = problems
            .iter()
            .map(|(i, p)| format!("{}: {}", deps.files[*i].location, p.describe()))
            .collect();
        problem_text.extend(outside);
        let restore = crate::transfer::map::flink_path(&newest.dir);
        Ok::<_, anyhow::Error>(PromoteReport {
            job: id.clone(),
            snapshot: newest.dir.to_string(),
            restore_path: restore.clone(),
            claim_mode: "NO_CLAIM",
            verified: problem_text.is_empty(),
            files: deps.files.len(),
            problems: problem_text,
            source: ident.source,
            source_completed: ident.source_completed.map(|t| t.to_string()),
            changelog,
            flink_run: format!("flink run -s {restore} --claimMode NO_CLAIM …"),
        })
    })?;
    let mut out = anstream::stdout();
    if json {
        output::print_json(&mut out, &report)?;
    } else if report.verified {
        writeln!(
            out,
            "{BOLD}Restorable:{BOLD:#} {} ({} files verified; replica of {}{})",
            output::printable(&report.snapshot),
            report.files,
            output::printable(&report.source),
            report
                .source_completed
                .as_deref()
                .map_or(String::new(), |t| format!(", completed {t}")),
        )?;
        writeln!(
            out,
            "\nRestore the job from it with claim mode NO_CLAIM (Flink never deletes the replica's files; its first checkpoint is a full one):\n"
        )?;
        writeln!(
            out,
            "  Flink 2.x:       flink run -s {} --claimMode NO_CLAIM <job args>",
            report.restore_path
        )?;
        writeln!(
            out,
            "  Flink 1.15–1.20: flink run -s {} -restoreMode no_claim <job args>",
            report.restore_path
        )?;
        writeln!(
            out,
            "  configuration:   execution.state-recovery.path: {}\n                   execution.state-recovery.claim-mode: NO_CLAIM",
            report.restore_path
        )?;
        if report.changelog {
            writeln!(
                out,
                "\nThis snapshot holds changelog state: Flink refuses NO_CLAIM with the changelog backend enabled. Restore it with state.changelog.enabled: false (the changelog is applied into the plain backend), or in CLAIM mode from a throwaway copy of the replica."
            )?;
        }
        writeln!(
            out,
            "\nStop `replicate` into this destination first: a job running against the replica makes replication stop (exit code 2)."
        )?;
    } else {
        writeln!(
            out,
            "{ERR}Not restorable:{ERR:#} {} has {} problem(s):",
            output::printable(&report.snapshot),
            report.problems.len()
        )?;
        for p in report.problems.iter().take(20) {
            writeln!(out, "  {}", output::printable(p))?;
        }
    }
    Ok(if report.verified {
        Exit::Ok
    } else {
        Exit::Partial
    })
}
