//! Minimal histories of the bugs the simulation found, replayed.

use super::*;

// ---------------------------------------------------------------------------
// Minimal histories of the bugs the simulation found (each failed until fixed).

pub(super) fn checkpoint_ev(job: u8, new_shared: u8, reuse: u16, end: End) -> Ev {
    Ev::Checkpoint {
        job,
        reuse,
        new_shared,
        exclusive: 1,
        taskowned: false,
        relative: false,
        cross: false,
        end,
        fail: 0,
    }
}

pub(super) fn minimal(
    history: Vec<Ev>,
    drop: &[usize],
    scope: Option<u8>,
    concurrent: Vec<Ev>,
) -> Case {
    Case {
        jobs: 1,
        retained: vec![1; JOBS_MAX],
        order: 0,
        history,
        policy: PolicyCase {
            keep_last: 1,
            drop: (0..JOBS_MAX).map(|i| drop.contains(&i)).collect(),
            stopped: false,
            include_savepoints: 0,
            scope,
            keep: None,
        },
        concurrent,
    }
}

pub(super) fn replay(case: &Case, check: Check) {
    if let Err(e) = run_case(case, check, &mut Stats::default()) {
        panic!("{e}");
    }
}

/// Job B is restored from job A's checkpoint in LEGACY mode; its first
/// checkpoint is still uploading when the plan is made, so B looks dead and
/// both jobs are dropped (candidates: A's and B's whole directories). B then
/// completes chk-1, which reuses A's `shared/` file. The re-check drops B's
/// directory (changed) but never reads B's new chk-1, because it lies inside
/// a selected directory; so A's directory, with the file B's chk-1 needs, is
/// deleted.
#[test]
pub(super) fn new_checkpoint_inside_a_dropped_job_protects_what_it_references() {
    let history = vec![
        checkpoint_ev(0, 1, 0, End::Complete),
        Ev::Restore {
            into: 1,
            from: 0,
            mode: Mode::Legacy,
            stop_old: true,
            candidate: false,
        },
        checkpoint_ev(1, 0, 1, End::Pending),
    ];
    let concurrent = vec![checkpoint_ev(1, 0, 0, End::Complete)];
    replay(&minimal(history, &[0, 1], None, concurrent), Check::Safety);
}

/// `safe-to-delete JOB --drop-job JOB`: the plan's only candidate is the job
/// directory itself, which is the plan's scope, and `revalidate` refuses it
/// as "not under" the scope, so nothing can be applied.
#[test]
pub(super) fn dropping_the_job_that_is_the_scope_can_be_applied() {
    let history = vec![checkpoint_ev(0, 1, 0, End::Complete)];
    replay(&minimal(history, &[0], Some(0), Vec::new()), Check::Safety);
}

/// A dropped job's directory is one candidate: `apply` must delete the
/// `_metadata` of each checkpoint in it before that checkpoint's other files
/// (it deleted them in listing order, `chk-1/<file>` before
/// `chk-1/_metadata`, until acfd7c5).
#[test]
pub(super) fn dropped_job_directory_loses_each_metadata_first() {
    let history = vec![checkpoint_ev(0, 0, 0, End::Complete)];
    replay(&minimal(history, &[0], None, Vec::new()), Check::Order);
}

/// From an inventory report: job A has only a stray `shared/` file when the
/// report is taken; then A completes chk-1 and job B is restored from it in
/// CLAIM mode and checkpoints (B's chk-1 uses A's chk-1 files). A is
/// dropped. The report lists nothing of A's chk-1, so every file of A it
/// lists was a candidate and A's directory became one candidate as a whole,
/// chk-1 (which B needs) with it. From a report every file is now a
/// candidate of its own (a directory is never proven whole from one), and a
/// dropped job with a kept snapshot directory is never one candidate.
#[test]
pub(super) fn inventory_never_makes_a_directory_it_cannot_see_whole_a_candidate() {
    let history = vec![
        Ev::Orphan {
            job: 0,
            taskowned: false,
        },
        checkpoint_ev(0, 0, 0, End::Complete),
        checkpoint_ev(0, 0, 0, End::Complete),
        Ev::Restore {
            into: 135,
            from: 0,
            mode: Mode::Claim,
            stop_old: false,
            candidate: false,
        },
        Ev::Checkpoint {
            job: 0,
            reuse: 0,
            new_shared: 0,
            exclusive: 1,
            taskowned: false,
            relative: false,
            cross: true,
            end: End::Complete,
            fail: 0,
        },
    ];
    // Flink retains 2; the report after the first event (order 1: a third
    // of the history).
    let mut case = minimal(history, &[0], None, Vec::new());
    case.retained = vec![2, 2, 1, 1, 1];
    case.order = 1;
    replay(&case, Check::Inventory);
}
