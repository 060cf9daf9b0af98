//! The checks: one history is planned, changed, re-checked and applied,
//! and what was deleted is judged against the model.

use super::*;

// ---------------------------------------------------------------------------
// The property.

#[derive(Debug, Default)]
pub(super) struct Stats {
    pub(super) cases: u64,
    pub(super) planned: u64,
    pub(super) candidates: u64,
    pub(super) deleted_files: u64,
    pub(super) dropped: BTreeMap<String, u64>,
    pub(super) restored_from_candidate: u64,
    /// Plans refused because a kept snapshot needs a file that is gone.
    pub(super) refused_missing: u64,
    /// Inventory runs: files written after the report (absent from it).
    pub(super) after_inventory: u64,
}

pub(super) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub(super) fn loc(p: &str) -> Location {
    Location::parse(p).unwrap()
}

/// A snapshot directory: `(job id, checkpoint id)` for `<CK>/<job>/chk-N`,
/// `None` for a savepoint.
pub(super) fn checkpoint_of(dir: &str) -> Option<(String, u64)> {
    let id = file_name(dir).strip_prefix("chk-")?.parse().ok()?;
    let job = parent(dir);
    (parent(job) == CK).then(|| (file_name(job).to_owned(), id))
}

/// Completed snapshots in `files`: directory → checkpoint (job, id) or `None` for savepoints.
pub(super) fn snapshots(
    files: &BTreeMap<String, MemoryFile>,
) -> BTreeMap<String, Option<(String, u64)>> {
    files
        .keys()
        .filter(|f| file_name(f) == "_metadata")
        .map(|f| (parent(f).to_owned(), checkpoint_of(parent(f))))
        .collect()
}

/// The newest `keep_last` completed checkpoints of every job not dropped.
pub(super) fn newest(
    snaps: &BTreeMap<String, Option<(String, u64)>>,
    keep_last: usize,
    dropped: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut by_job: BTreeMap<&str, Vec<(u64, &String)>> = BTreeMap::new();
    for (dir, c) in snaps {
        if let Some((job, id)) = c {
            by_job.entry(job).or_default().push((*id, dir));
        }
    }
    let mut out = BTreeSet::new();
    for (job, mut v) in by_job {
        if dropped.contains(job) {
            continue;
        }
        v.sort();
        out.extend(v.iter().rev().take(keep_last).map(|(_, d)| (*d).clone()));
    }
    out
}

pub(super) fn files_of(fs: &MemoryFs, cands: &[Candidate]) -> BTreeSet<String> {
    let sel = Selected::of(cands);
    fs.files.keys().filter(|f| sel.covers(f)).cloned().collect()
}

/// Checks the plan on the history as it was when planned.
pub(super) fn check_plan(
    w: &World,
    fs: &MemoryFs,
    policy: &Policy,
    cands: &[Candidate],
    scope: &str,
    complete: bool,
) -> Result<(), String> {
    let snaps = snapshots(&fs.files);
    let mut kept: BTreeSet<String> = newest(&snaps, policy.keep_last, &policy.drop_jobs);
    kept.extend(policy.keep.iter().map(|k| k.path().to_owned()));
    kept.extend(
        snaps
            .iter()
            .filter(|(d, c)| c.is_none() && !policy.include_savepoints.contains(file_name(d)))
            .map(|(d, _)| d.clone()),
    );
    // In progress: chk-N without `_metadata` newer than the newest completed one.
    let mut newest_id: BTreeMap<String, u64> = BTreeMap::new();
    for (job, id) in snaps.values().flatten() {
        let n = newest_id.entry(job.clone()).or_default();
        *n = (*n).max(*id);
    }
    let mut protected: BTreeMap<String, String> = BTreeMap::new();
    for d in &fs.dirs {
        if let Some((job, id)) = checkpoint_of(d)
            && !snaps.contains_key(d)
            && !policy.drop_jobs.contains(&job)
            && id > newest_id.get(&job).copied().unwrap_or(0)
        {
            kept.insert(d.clone());
        }
    }
    for d in &kept {
        for f in fs.files.keys().filter(|f| under(f, d)) {
            protected.insert(f.clone(), format!("inside kept {d}"));
        }
        let meta = format!("{d}/_metadata");
        let refs = w.refs.get(&meta).filter(|_| fs.files.contains_key(&meta));
        for f in refs.into_iter().flatten() {
            protected.insert(f.clone(), format!("referenced by kept {d}"));
        }
    }
    let planned = files_of(fs, cands);
    for c in cands {
        let p = c.path.path();
        let in_scope = under(p, scope)
            || p == scope
            || (c.reason == cleanup::Reason::IncludedSavepoint && under(p, SP));
        if !in_scope {
            return Err(format!("candidate {p} is outside {scope}"));
        }
    }
    for f in &planned {
        if let Some(why) = protected.get(f) {
            return Err(format!(
                "plan: candidate {f} is {why}; candidates: {:?}",
                cands
                    .iter()
                    .map(|c| format!("{} {:?}", c.path, c.reason))
                    .collect::<Vec<_>>()
            ));
        }
    }
    // Not vacuous: every file in scope in a `chk-N/` directory (or, with the
    // jobs stated stopped, in `shared/`) that nothing kept references or
    // contains is planned. (A running job's `shared/` files written after its
    // newest checkpoint may belong to the next one.) Not from an inventory:
    // what was written after it is not in it.
    for f in fs.files.keys().filter(|_| complete) {
        if !under(f, scope) || protected.contains_key(f) {
            continue;
        }
        let shared = policy.stopped && file_name(parent(f)) == "shared";
        let subsumed = checkpoint_of(parent(f)).is_some();
        if (shared || subsumed) && !planned.contains(f) {
            return Err(format!(
                "plan: {f} is not referenced by any kept snapshot, yet not planned"
            ));
        }
    }
    Ok(())
}

/// Which property a run checks (separate tests, so one failing does not hide the other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Check {
    /// Kept snapshots keep their files; only planned candidates inside the roots go.
    Safety,
    /// A snapshot directory loses its `_metadata` before any other file.
    Order,
    /// As `Safety`, planned from an inventory report (a CSV) taken part-way
    /// through the history: Flink went on after the report.
    Inventory,
}

pub(super) fn run_case(case: &Case, check: Check, stats: &mut Stats) -> Result<(), String> {
    let mut w = World::new(case.jobs, &case.retained, case.order);
    check_case(&mut w, case, check, stats)
        .map_err(|e| format!("{e}\nhistory:\n  {}", w.log.join("\n  ")))
}

pub(super) fn check_case(
    w: &mut World,
    case: &Case,
    check: Check,
    stats: &mut Stats,
) -> Result<(), String> {
    let rt = rt();
    // The report is taken after this many events (all of them: at the end).
    let inventory_at = (check == Check::Inventory)
        .then(|| case.history.len() * (usize::from(case.order) % 4) / 3)
        .map(|n| n.min(case.history.len()));
    let mut report = None;
    for (i, ev) in case.history.iter().enumerate() {
        if inventory_at == Some(i) {
            report = Some(take_inventory(w));
        }
        w.apply(ev);
    }
    if report.is_none() && inventory_at.is_some() {
        report = Some(take_inventory(w));
    }
    stats.cases += 1;

    // Plan.
    // Only jobs that have a directory: dropping one that does not exist is
    // an error (a typo must not pass silently).
    let drop_jobs: BTreeSet<String> = (0..JOBS_MAX)
        .filter(|&i| case.policy.drop[i])
        .map(job_id)
        .filter(|j| w.mem.lock().is_dir(&format!("{CK}/{j}")))
        .collect();
    let include_savepoints: BTreeSet<String> = w
        .savepoints
        .iter()
        .enumerate()
        .filter(|(i, _)| case.policy.include_savepoints & (1 << (i % 8)) != 0)
        .map(|(_, d)| file_name(d).to_owned())
        .collect();
    let keep: Vec<Location> = case
        .policy
        .keep
        .and_then(|k| {
            let fs = w.mem.lock();
            let done: Vec<String> = snapshots(&fs.files)
                .into_iter()
                .filter(|(_, c)| c.is_some())
                .map(|(d, _)| d)
                .collect();
            (!done.is_empty()).then(|| loc(&done[usize::from(k) % done.len()]))
        })
        .into_iter()
        .collect();
    w.clock += 1;
    let policy = Policy {
        keep_last: case.policy.keep_last,
        min_age: std::time::Duration::ZERO,
        keep,
        include_savepoints,
        drop_jobs,
        stopped: case.policy.stopped,
        // From a report, ages count from its time.
        now: report.as_ref().map_or_else(|| w.now(), |r| r.time),
    };
    let root = loc(CK);
    let sp = loc(SP);
    let scope = match case.policy.scope {
        Some(i) if !w.jobs.is_empty() => {
            let all: Vec<usize> = w.jobs.keys().copied().collect();
            loc(&format!("{CK}/{}", job_id(World::pick(i, &all).unwrap())))
        }
        _ => root.clone(),
    };
    let at_plan = w.mem.lock().clone();
    let roots = Roots {
        checkpoints: &root,
        scope: &scope,
        savepoints: Some(&sp),
    };
    let plan = match &report {
        None => rt.block_on(cleanup::plan(
            &w.mem,
            roots,
            &policy,
            &Rebase::default(),
            4,
            |_, _| {},
        )),
        Some(r) => {
            stats.after_inventory += at_plan
                .files
                .iter()
                .filter(|(f, m)| under(f, CK) && m.modified > r.time)
                .count() as u64;
            let inventory = rt
                .block_on(Inventory::open(
                    r.storage.as_ref(),
                    &loc(INVENTORY),
                    &OpenOptions { time: Some(r.time) },
                ))
                .map_err(|e| format!("the report: {e}"))?;
            rt.block_on(cleanup::plan_from(
                &w.mem,
                roots,
                &policy,
                &Rebase::default(),
                4,
                cleanup::Files::Inventory {
                    inventory: &inventory,
                    storage: r.storage.clone(),
                },
                |_, _| {},
            ))
        }
    };
    let plan = match plan {
        Ok(p) => p,
        Err(cleanup::Error::EmptyListing(_))
            if !at_plan.files.keys().any(|f| under(f, scope.path())) =>
        {
            return Ok(());
        }
        // A report taken before anything was in scope.
        Err(cleanup::Error::EmptyListing(_))
            if report
                .as_ref()
                .is_some_and(|r| !r.paths.iter().any(|f| under(f, scope.path()))) =>
        {
            return Ok(());
        }
        // A kept snapshot that needs a file the history lost (Flink's
        // LEGACY restores allow that): refusing to plan is right, provided
        // the file named is really missing.
        Err(cleanup::Error::MissingReferences { example, .. })
            if !at_plan.files.contains_key(loc(&example).path()) =>
        {
            stats.refused_missing += 1;
            return Ok(());
        }
        Err(e) => return Err(format!("plan failed: {e}")),
    };
    stats.planned += 1;
    stats.candidates += plan.candidates.len();
    let candidates = plan.candidates.to_vec().map_err(|e| e.to_string())?;
    if check != Check::Order {
        check_plan(
            w,
            &at_plan,
            &policy,
            &candidates,
            scope.path(),
            report.is_none(),
        )?;
    }
    let plan = PlanFile::new(plan, &policy, &[]);
    let selected = Selected::of(&candidates);

    // Flink goes on.
    w.selected = Some(selected.clone());
    w.job_limit = JOBS_MAX;
    w.log.push(format!(
        "--- planned: keep_last {}, drop {:?}, stopped {}, scope {}, candidates:",
        policy.keep_last, policy.drop_jobs, policy.stopped, scope
    ));
    for c in &candidates {
        w.log.push(format!(
            "      {} {:?}{}",
            c.path,
            c.reason,
            if c.is_dir { " (dir)" } else { "" }
        ));
    }
    for ev in &case.concurrent {
        w.apply(ev);
    }
    if w.restored_from_candidate {
        stats.restored_from_candidate += 1;
    }

    // Re-check and apply everything.
    let before = w.mem.lock().clone();
    let v = rt.block_on(revalidate::revalidate(
        &w.mem,
        &plan,
        candidates.clone(),
        &Rebase::default(),
        4,
        |_, _| {},
    ));
    let v = match v {
        Ok(v) => v,
        Err(cleanup::Error::EmptyListing(_)) if !before.files.keys().any(|f| under(f, CK)) => {
            return Ok(());
        }
        // That is the safety test's business.
        Err(_) if check == Check::Order => return Ok(()),
        Err(e) => return Err(format!("revalidate failed: {e}")),
    };
    for (_, why) in &v.dropped {
        // `gone`, `changed`, `referenced`, `newest`, …
        let why = serde_json::to_value(why).unwrap();
        let kind = why["kind"].as_str().unwrap_or("?").to_owned();
        *stats.dropped.entry(kind).or_default() += 1;
    }
    w.log.push("--- re-checked, dropped:".to_owned());
    for (c, why) in &v.dropped {
        w.log.push(format!("      {} {why}", c.path));
    }
    let mut order: Vec<String> = Vec::new();
    let applied = rt.block_on(apply::apply(&w.mem, &v, |ev| {
        if let Event::Deleted { path, .. } = ev {
            order.push(path.path().to_owned());
        }
    }));
    let after = w.mem.lock().clone();
    stats.deleted_files += applied.deleted_files;
    if !applied.failed.is_empty() {
        return Err(format!("apply failed: {:?}", applied.failed));
    }

    match check {
        Check::Safety | Check::Inventory => {
            safety(w, &policy, &selected, &at_plan, &before, &after)?;
            metadata_first(&before, &order)
        }
        Check::Order => metadata_first(&before, &order),
    }
}

/// Nothing outside the roots, only planned candidates, and nothing a
/// snapshot kept at apply time needs.
pub(super) fn safety(
    w: &World,
    policy: &Policy,
    selected: &Selected,
    at_plan: &MemoryFs,
    before: &MemoryFs,
    after: &MemoryFs,
) -> Result<(), String> {
    for p in &after.deletes {
        if !(under(p, CK) || under(p, SP)) {
            return Err(format!("{p} is outside the roots, yet deleted"));
        }
        if under(p, SP)
            && !policy
                .include_savepoints
                .iter()
                .any(|s| p.contains(s.as_str()))
        {
            return Err(format!("{p}: a savepoint not included, yet deleted"));
        }
        if !selected.covers(p) {
            return Err(format!("{p} was not planned, yet deleted"));
        }
    }
    for d in &after.rmdirs {
        if !selected.covers(d) && !selected.dirs.contains(d) {
            return Err(format!("directory {d} was not planned, yet removed"));
        }
    }

    // Kept at apply time.
    let snaps = snapshots(&before.files);
    let fresh = |d: &String| !at_plan.files.contains_key(&format!("{d}/_metadata"));
    let newest = newest(&snaps, APPLY_KEEP_LAST, &policy.drop_jobs);
    let mut protected: BTreeMap<String, String> = BTreeMap::new();
    for (d, c) in &snaps {
        let kept = if c.is_some() {
            fresh(d) || !selected.snapshot(d) || newest.contains(d)
        } else {
            fresh(d) || !policy.include_savepoints.contains(file_name(d))
        };
        if !kept {
            continue;
        }
        let meta = format!("{d}/_metadata");
        for f in w.refs[&meta].iter().chain(std::iter::once(&meta)) {
            if before.files.contains_key(f) {
                protected.insert(f.clone(), d.clone());
            }
        }
    }
    for (f, d) in &protected {
        if !after.files.contains_key(f) {
            return Err(format!("{f} deleted, but the kept snapshot {d} needs it"));
        }
    }
    Ok(())
}

/// Each deleted file of a snapshot directory went after its `_metadata`.
pub(super) fn metadata_first(before: &MemoryFs, order: &[String]) -> Result<(), String> {
    for (i, p) in order.iter().enumerate() {
        let dir = parent(p);
        let meta = format!("{dir}/_metadata");
        if *p != meta && before.files.contains_key(&meta) && !order[..i].contains(&meta) {
            return Err(format!(
                "{p} deleted while {meta} was still there (a half-deleted snapshot looks restorable)"
            ));
        }
    }
    Ok(())
}

/// Where the simulated report is.
const INVENTORY: &str = "/reports/inventory.csv";

/// An inventory report of the world as it is now (a `path,size,last_modified`
/// CSV in a store of its own), and its time.
pub(super) struct Report {
    pub(super) storage: std::sync::Arc<dyn flink_chk::storage::Storage>,
    pub(super) time: Timestamp,
    /// The files it lists.
    pub(super) paths: BTreeSet<String>,
}

pub(super) fn take_inventory(w: &mut World) -> Report {
    let time = w.now();
    let mut csv = String::from("path,size,last_modified\n");
    let mut paths = BTreeSet::new();
    for (path, f) in &w.mem.lock().files {
        csv.push_str(&format!("{path},{},{}\n", f.data.len(), f.modified));
        paths.insert(path.clone());
    }
    let mem = MemoryStorage::default();
    mem.lock().put(INVENTORY, csv.into_bytes(), time);
    w.log.push(format!("--- inventory report taken at {time}"));
    w.clock += 1;
    Report {
        storage: std::sync::Arc::new(mem),
        time,
        paths,
    }
}
