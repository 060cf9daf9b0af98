//! The order a run publishes its snapshots in.
//!
//! Within one destination job directory, checkpoints (`chk-N/`) are
//! published by ascending N, whatever order their files complete in
//! (priorities, file sizes and the store decide that): a checkpoint whose
//! files are all in place waits until every lower checkpoint of the same
//! destination job directory in this run is settled — published, or
//! definitely not published (a file failed, its `_metadata` could not be
//! written, the run was stopped before its files). A lower checkpoint still
//! copying is waited for; a failed one does not hold the higher ones back:
//! it is reported as not published, and the higher ones are published, as
//! Flink restores from the highest complete checkpoint anyway.
//!
//! So a run killed at any point never leaves a higher checkpoint published
//! while a lower one it was still copying is not: the destination's newest
//! `_metadata` is the newest the run had finished, and `safe-to-delete` or a
//! restore there sees no gap the run would still have filled.
//!
//! Savepoints (and anything not in a `chk-N/` directory) are not ordered:
//! each is published as soon as its files are in place.

use std::collections::HashMap;

use crate::names;
use crate::storage::Location;

/// Which snapshots may be settled (published or not) now.
#[derive(Debug)]
pub(super) struct Order {
    /// Per snapshot: its group and its place in it (`None`: not ordered).
    place: Vec<Option<(usize, usize)>>,
    /// Per destination job directory: its checkpoints, by ascending id.
    groups: Vec<Vec<usize>>,
    /// Per group: how many of its checkpoints (from the lowest) were released.
    released: Vec<usize>,
    /// Per snapshot: its files are all settled.
    ready: Vec<bool>,
}

impl Order {
    /// The order of snapshots whose `_metadata` goes to `destinations`
    /// (`<job>/chk-N/_metadata`), index for index with the plan.
    pub(super) fn new<'a>(destinations: impl IntoIterator<Item = &'a Location>) -> Self {
        let mut place = Vec::new();
        let mut by_job: HashMap<Location, usize> = HashMap::new();
        let mut groups: Vec<Vec<(u64, usize)>> = Vec::new();
        for (k, d) in destinations.into_iter().enumerate() {
            let dir = d.parent();
            let Some(id) = names::checkpoint_id(dir.file_name()) else {
                place.push(None);
                continue;
            };
            let next = groups.len();
            let g = *by_job.entry(dir.parent()).or_insert(next);
            if g == next {
                groups.push(Vec::new());
            }
            groups[g].push((id, k));
            place.push(Some((g, 0)));
        }
        let groups: Vec<Vec<usize>> = groups
            .into_iter()
            .map(|mut g| {
                g.sort_unstable();
                g.into_iter().map(|(_, k)| k).collect()
            })
            .collect();
        for (g, members) in groups.iter().enumerate() {
            for (at, &k) in members.iter().enumerate() {
                place[k] = Some((g, at));
            }
        }
        Self {
            released: vec![0; groups.len()],
            ready: vec![false; place.len()],
            place,
            groups,
        }
    }

    /// Snapshot `k`'s files are all settled: the snapshots to settle now,
    /// in this order — `k` itself unless a lower checkpoint of its job is
    /// not ready yet, then the higher ones that were waiting for it. Each
    /// snapshot is returned once; the caller settles them one after the
    /// other before calling again.
    pub(super) fn ready(&mut self, k: usize) -> Vec<usize> {
        if std::mem::replace(&mut self.ready[k], true) {
            return Vec::new();
        }
        let Some((g, _)) = self.place[k] else {
            return vec![k];
        };
        let members = &self.groups[g];
        let from = self.released[g];
        let mut to = from;
        while to < members.len() && self.ready[members[to]] {
            to += 1;
        }
        self.released[g] = to;
        members[from..to].to_vec()
    }

    /// Every snapshot not ready yet is (the run is over): the snapshots to
    /// settle now, in this order. With [`Order::ready`]'s, each snapshot
    /// is returned exactly once.
    pub(super) fn all(&mut self) -> Vec<usize> {
        (0..self.ready.len()).flat_map(|k| self.ready(k)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(paths: &[&str]) -> Order {
        let ls: Vec<Location> = paths.iter().map(|p| Location::parse(p).unwrap()).collect();
        Order::new(&ls)
    }

    #[test]
    fn checkpoints_of_one_job_are_released_by_id() {
        // Plan order is not id order; chk-10 sorts by number, not text.
        let mut o = order(&[
            "/d/j/chk-10/_metadata",
            "/d/j/chk-9/_metadata",
            "/d/j/chk-2/_metadata",
        ]);
        assert_eq!(o.ready(0), Vec::<usize>::new(), "chk-10 waits");
        assert_eq!(o.ready(1), Vec::<usize>::new(), "chk-9 waits for chk-2");
        assert_eq!(o.ready(2), vec![2, 1, 0]);
        // Each once.
        assert_eq!(o.ready(0), Vec::<usize>::new());
        assert_eq!(o.ready(2), Vec::<usize>::new());
    }

    #[test]
    fn jobs_are_independent_and_savepoints_are_not_ordered() {
        let mut o = order(&[
            "/d/a/chk-5/_metadata",
            "/d/a/chk-4/_metadata",
            "/d/b/chk-7/_metadata",
            "/d/savepoint-aaaaaa-0123456789ab/_metadata",
            "/e/a/chk-1/_metadata",
        ]);
        assert_eq!(o.ready(0), Vec::<usize>::new(), "a/chk-5 waits for a/chk-4");
        assert_eq!(o.ready(2), vec![2], "b/chk-7 is alone in its job");
        assert_eq!(o.ready(3), vec![3], "a savepoint never waits");
        assert_eq!(o.ready(4), vec![4], "/e/a is another job directory");
        assert_eq!(o.ready(1), vec![1, 0]);
    }

    #[test]
    fn a_release_stops_at_the_first_checkpoint_not_ready() {
        let mut o = order(&[
            "/d/j/chk-1/_metadata",
            "/d/j/chk-2/_metadata",
            "/d/j/chk-3/_metadata",
            "/d/j/chk-4/_metadata",
        ]);
        assert_eq!(o.ready(3), Vec::<usize>::new());
        assert_eq!(o.ready(1), Vec::<usize>::new());
        assert_eq!(o.ready(0), vec![0, 1], "chk-3 still copying: chk-4 waits");
        assert_eq!(o.ready(2), vec![2, 3]);
    }

    #[test]
    fn all_releases_the_rest_in_order_once() {
        let mut o = order(&[
            "/d/savepoint-aaaaaa-0123456789ab/_metadata",
            "/d/j/chk-3/_metadata",
            "/d/j/chk-1/_metadata",
            "/d/j/chk-2/_metadata",
        ]);
        assert_eq!(o.ready(1), Vec::<usize>::new());
        assert_eq!(o.ready(0), vec![0]);
        // chk-1 never got ready (stopped): chk-1, chk-2, chk-3 by id, the
        // savepoint not again.
        assert_eq!(o.all(), vec![2, 3, 1]);
        assert_eq!(o.all(), Vec::<usize>::new());
    }
}
