//! Simulation of the cleanup over thousands of random checkpoint histories
//! (proptest): `cleanup::plan`, then Flink keeps writing, then
//! `revalidate::revalidate` and `apply::apply`, all on an in-memory store.
//!
//! A case is a history of up to four jobs under one checkpoints root:
//! incremental checkpoints reusing the previous checkpoint's `shared/` files,
//! subsumption by Flink (which sometimes fails to delete, leaving subsumed
//! checkpoints and orphans behind), checkpoints in progress and crashed ones,
//! jobs restored from another job's checkpoint in CLAIM, NO_CLAIM or LEGACY
//! mode, savepoints, stray files. A random policy plans a cleanup; then more
//! events happen before the plan is applied (new checkpoints, restores from a
//! checkpoint the plan wants to delete, files changed or gone, Flink deleting
//! things itself); then every candidate is applied. Checked:
//!
//! * nothing referenced by a snapshot kept at apply time is deleted, nor its
//!   `_metadata` (kept: the newest completed checkpoint of each job not
//!   dropped, see [`APPLY_KEEP_LAST`]; every snapshot new since planning;
//!   savepoints not included; every completed snapshot the plan did not
//!   select for deletion);
//! * nothing outside the roots is deleted, and only planned candidates (or
//!   files inside planned candidate directories);
//! * a snapshot directory loses its `_metadata` before any other file;
//! * the plan itself never selects what a kept snapshot references, and it
//!   selects every unreferenced `shared/` file and subsumed checkpoint (so
//!   the safety checks are not vacuous).
//!
//! The `_metadata` bytes are NOT from Flink: they are built from the model
//! types and serialized by this crate's own writer (`metadata::write`, the
//! test-side writer); every one is parsed back and its references collected
//! with `deps::collect` to be exactly the files the model meant.
//!
//! `PROPTEST_CASES=N` runs N histories instead of 2,000 (`PROPTEST_RNG_SEED`
//! fixes the seed). A failure shows the shrunk history as the model logged
//! it: events, the plan's candidates, what the re-check dropped. The last
//! tests replay the minimal histories of the bugs found so far.

mod check;
mod regressions;
mod strategy;
mod world;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use flink_chk::analysis::cleanup::apply::{self, Event};
use flink_chk::analysis::cleanup::revalidate;
use flink_chk::analysis::cleanup::{self, Candidate, PlanFile, Policy, Roots};
use flink_chk::analysis::deps;
use flink_chk::analysis::inventory::{Inventory, OpenOptions};
use flink_chk::analysis::snapshot::{self, Rebase, Snapshot};
use flink_chk::metadata::{
    self, CheckpointMetadata, Dialect, IncrementalHandle, KeyGroupRange, KeyedHandle, NamedHandle,
    OperatorHandle, OperatorId, OperatorState, OperatorStateEntry, StreamHandle, SubtaskEntry,
    SubtaskState, Subtasks,
};
use flink_chk::storage::Location;
use flink_chk::storage::memory::{ListOrder, MemoryFile, MemoryFs, MemoryStorage};
use jiff::Timestamp;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

use check::*;
use strategy::*;
use world::*;

const CK: &str = "/sim/ck";
const SP: &str = "/sim/sp";
/// Jobs a history may create before planning, and in all.
const JOBS_PLANNED: usize = 4;
const JOBS_MAX: usize = 5;
const DEFAULT_CASES: u32 = 2000;
/// At apply time, the newest completed checkpoint of each job not dropped is
/// kept even if the plan selected it (`apply` re-checks exactly that). The
/// newest `keep_last` are decided when planning: a plan-time candidate that
/// moves up into the newest `keep_last` because newer ones were deleted
/// meanwhile (a job restored in CLAIM mode subsuming them, a `_metadata`
/// removed by hand) is still deleted, as planned.
/// Set to a policy's `keep_last` to check the stricter rule.
const APPLY_KEEP_LAST: usize = 1;

fn under(path: &str, dir: &str) -> bool {
    path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/'
}

fn parent(path: &str) -> &str {
    &path[..path.rfind('/').unwrap_or(0)]
}

fn file_name(path: &str) -> &str {
    &path[path.rfind('/').map_or(0, |i| i + 1)..]
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// Runs `check` over `cases()` random histories; panics with the minimal
/// failing history.
fn simulate(check: Check) -> Stats {
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 100_000,
        max_shrink_time: 120_000,
        ..Config::default()
    };
    let stats = std::cell::RefCell::new(Stats::default());
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case(), |c| {
        run_case(&c, check, &mut stats.borrow_mut()).map_err(TestCaseError::fail)
    });
    match result {
        Ok(()) => stats.into_inner(),
        Err(TestError::Fail(why, case)) => panic!("{why}\nminimal case: {case:#?}"),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn cleanup_never_deletes_what_a_kept_snapshot_needs() {
    let s = simulate(Check::Safety);
    eprintln!("simulation: {s:?}");
    if cases() >= 1000 {
        // The runs must reach the interesting paths, or the checks above say little.
        // Histories whose kept snapshots lost files (LEGACY restores whose
        // source job subsumed what the new job uses) are refused, rightly.
        assert!((s.planned + s.refused_missing) * 10 >= s.cases * 9, "{s:?}");
        assert!(s.planned * 10 >= s.cases * 6, "{s:?}");
        assert!(s.refused_missing >= 5, "{s:?}");
        assert!(s.deleted_files >= s.planned, "{s:?}");
        assert!(s.restored_from_candidate >= 20, "{s:?}");
        for k in ["gone", "changed", "referenced", "newest"] {
            assert!(s.dropped.get(k).copied().unwrap_or(0) >= 5, "{k}: {s:?}");
        }
    }
}

/// Planned from an inventory report taken part-way through the history
/// (Flink wrote, subsumed and restored after it): the plan never selects
/// what a kept snapshot references, and re-check and apply stay safe.
#[test]
fn cleanup_from_an_inventory_never_deletes_what_a_kept_snapshot_needs() {
    let s = simulate(Check::Inventory);
    eprintln!("simulation (inventory): {s:?}");
    if cases() >= 1000 {
        // (Reports taken before anything was in scope plan nothing.)
        assert!(s.planned * 10 >= s.cases * 4, "{s:?}");
        assert!(s.deleted_files >= s.planned, "{s:?}");
        // Flink wrote after the report in many histories.
        assert!(s.after_inventory >= s.cases, "{s:?}");
    }
}

#[test]
fn snapshot_directories_lose_their_metadata_first() {
    simulate(Check::Order);
}

// ---------------------------------------------------------------------------
// The harness itself.

/// The test-side `_metadata` round-trips and, read through the storage the
/// way the planner reads it (`snapshot::load` + `deps::collect`), references
/// exactly the files meant: absolute and relative exclusive handles, shared
/// files of this and another job, a task-owned file, another checkpoint's file.
#[test]
fn written_metadata_references_exactly_the_model_files() {
    let j = format!("{CK}/{}", job_id(0));
    let other = format!("{CK}/{}", job_id(1));
    let dir = format!("{j}/chk-3");
    let exclusive = vec![(format!("{dir}/m"), 5), (format!("{dir}/p"), 6)];
    let shared = vec![
        (format!("{j}/shared/s1"), 7),
        (format!("{other}/shared/s2"), 8),
    ];
    let others = vec![
        (format!("{j}/taskowned/t"), 9),
        (format!("{other}/chk-2/x"), 10),
    ];
    let rt = rt();
    for relative in [false, true] {
        let m = build_metadata(3, &dir, &exclusive, &shared, &others, relative);
        let want: BTreeSet<String> = exclusive
            .iter()
            .chain(&shared)
            .chain(&others)
            .map(|(p, _)| p.clone())
            .collect();
        let bytes = write_checked(&format!("{dir}/_metadata"), &m, &want);
        let mem = MemoryStorage::default();
        mem.lock()
            .put(&format!("{dir}/_metadata"), bytes, Timestamp::UNIX_EPOCH);
        let s = rt.block_on(snapshot::load(&mem, &loc(&dir))).unwrap();
        let d = deps::collect(&s, &Rebase::default());
        let got: BTreeSet<String> = d.files.iter().map(|f| f.location.canonical()).collect();
        assert_eq!(got, want, "relative={relative}");
        let is_relative = matches!(
            &m.operators[0].subtasks,
            Subtasks::List { entries } if matches!(&entries[0], SubtaskEntry::State { state, .. }
                if matches!(&state.managed_keyed, Some(KeyedHandle::Incremental(h))
                    if matches!(h.meta, Some(StreamHandle::Relative { .. }))))
        );
        assert_eq!(is_relative, relative);
    }
}
