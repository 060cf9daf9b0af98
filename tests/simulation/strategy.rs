//! Proptest strategies: random histories, policies and what happens
//! between planning and applying.

use super::*;

// ---------------------------------------------------------------------------
// Strategies.

#[derive(Debug, Clone)]
pub(super) struct PolicyCase {
    pub(super) keep_last: usize,
    pub(super) drop: Vec<bool>,
    pub(super) stopped: bool,
    pub(super) include_savepoints: u8,
    pub(super) scope: Option<u8>,
    /// A completed checkpoint kept explicitly (`--keep`).
    pub(super) keep: Option<u8>,
}

#[derive(Debug, Clone)]
pub(super) struct Case {
    pub(super) jobs: usize,
    pub(super) retained: Vec<usize>,
    pub(super) order: u8,
    pub(super) history: Vec<Ev>,
    pub(super) policy: PolicyCase,
    pub(super) concurrent: Vec<Ev>,
}

pub(super) fn fail() -> impl Strategy<Value = u16> {
    prop_oneof![5 => Just(0u16), 1 => any::<u16>()]
}

pub(super) fn checkpoint() -> impl Strategy<Value = Ev> {
    (
        any::<u8>(),
        any::<u16>(),
        0u8..3,
        1u8..4,
        proptest::bool::weighted(0.2),
        any::<bool>(),
        proptest::bool::weighted(0.3),
        prop_oneof![8 => Just(End::Complete), 1 => Just(End::Pending), 1 => Just(End::Crash)],
        fail(),
    )
        .prop_map(
            |(job, reuse, new_shared, exclusive, taskowned, relative, cross, end, fail)| {
                Ev::Checkpoint {
                    job,
                    reuse,
                    new_shared,
                    exclusive,
                    taskowned,
                    relative,
                    cross,
                    end,
                    fail,
                }
            },
        )
}

pub(super) fn restore() -> impl Strategy<Value = Ev> {
    (
        any::<u8>(),
        any::<u8>(),
        prop_oneof![Just(Mode::Claim), Just(Mode::NoClaim), Just(Mode::Legacy)],
        any::<bool>(),
        proptest::bool::weighted(0.8),
    )
        .prop_map(|(into, from, mode, stop_old, candidate)| Ev::Restore {
            into,
            from,
            mode,
            stop_old,
            candidate,
        })
}

pub(super) fn flink_event() -> impl Strategy<Value = Ev> {
    prop_oneof![
        12 => checkpoint(),
        2 => restore(),
        1 => (any::<u8>(), fail()).prop_map(|(job, fail)| Ev::Abort { job, fail }),
        1 => (any::<u8>(), any::<bool>())
            .prop_map(|(job, under_root)| Ev::Savepoint { job, under_root }),
        1 => (any::<u8>(), any::<bool>())
            .prop_map(|(job, taskowned)| Ev::Orphan { job, taskowned }),
    ]
}

pub(super) fn concurrent_event() -> impl Strategy<Value = Ev> {
    prop_oneof![
        6 => flink_event(),
        3 => restore(),
        2 => any::<u16>().prop_map(|pick| Ev::Modify { pick }),
        1 => (any::<u16>(), any::<bool>())
            .prop_map(|(pick, metadata)| Ev::Vanish { pick, metadata }),
    ]
}

pub(super) fn case() -> impl Strategy<Value = Case> {
    let policy = (
        1usize..4,
        proptest::collection::vec(proptest::bool::weighted(0.2), JOBS_MAX),
        any::<bool>(),
        prop_oneof![4 => Just(0u8), 1 => any::<u8>()],
        prop_oneof![7 => Just(None), 1 => any::<u8>().prop_map(Some)],
        prop_oneof![5 => Just(None), 1 => any::<u8>().prop_map(Some)],
    )
        .prop_map(
            |(keep_last, drop, stopped, include_savepoints, scope, keep)| PolicyCase {
                keep_last,
                drop,
                stopped,
                include_savepoints,
                scope,
                keep,
            },
        );
    (
        1usize..3,
        proptest::collection::vec(1usize..4, JOBS_MAX),
        0u8..3,
        proptest::collection::vec(flink_event(), 1..40),
        policy,
        proptest::collection::vec(concurrent_event(), 0..12),
    )
        .prop_map(
            |(jobs, retained, order, history, policy, concurrent)| Case {
                jobs,
                retained,
                order,
                history,
                policy,
                concurrent,
            },
        )
}
