//! The candidates of a plan: streamed to sorted runs on disk past a limit
//! ([`crate::spill`]), read back in path order, with running totals and
//! per-directory aggregates for the human summary. Planning over millions
//! of orphaned files holds one buffer of candidates, not all of them.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Candidate, Reason};
use crate::spill::{self, Spill};
use crate::storage::Location;

/// A candidate ordered by path (then files before directories), as plans
/// list them. Spilled as a JSON array, not an object: the runs are private
/// to one plan, and reading them back is then half the work.
#[derive(Debug, Clone)]
struct ByPath(Candidate);

/// [`Candidate`]'s fields in a spilled run, in this order.
type Spilled = (
    Location,
    bool,
    Reason,
    Option<String>,
    u64,
    u64,
    Option<jiff::Timestamp>,
    Option<Location>,
    bool,
);

impl Serialize for ByPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = &self.0;
        (
            &c.path,
            c.is_dir,
            c.reason,
            &c.job,
            c.files,
            c.bytes,
            &c.newest,
            &c.metadata,
            c.resumed,
        )
            .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ByPath {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (path, is_dir, reason, job, files, bytes, newest, metadata, resumed) =
            Spilled::deserialize(d)?;
        Ok(ByPath(Candidate {
            path,
            is_dir,
            reason,
            job,
            files,
            bytes,
            newest,
            metadata,
            resumed,
        }))
    }
}

impl PartialEq for ByPath {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for ByPath {}
impl PartialOrd for ByPath {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for ByPath {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0
            .path
            .cmp(&o.0.path)
            .then(self.0.is_dir.cmp(&o.0.is_dir))
    }
}

/// The candidates of one directory with one reason: the directory a file
/// candidate is in, or the one a directory candidate is in (a job's
/// subsumed checkpoints are one row, its orphaned `shared/` files another).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirTotals {
    /// The directory.
    pub path: Location,
    /// Why its candidates may go.
    pub reason: Reason,
    /// Candidates in it.
    pub candidates: u64,
    /// Files they hold.
    pub files: u64,
    /// Bytes they hold.
    pub bytes: u64,
}

/// Candidates, in path order. Memory grows with the directories they are
/// in, not with their number.
#[derive(Debug)]
pub struct Candidates {
    spill: Spill<ByPath>,
    files: u64,
    bytes: u64,
    dirs: BTreeMap<(Location, Reason), DirTotals>,
    /// The totals being added to, never also in `dirs`: candidates come in
    /// runs of one directory (a listing lists a directory at a time), so
    /// most are counted without a map lookup.
    open: Option<DirTotals>,
}

impl Default for Candidates {
    fn default() -> Self {
        Candidates::with_limit(spill::default_limit())
    }
}

impl Candidates {
    /// No candidates; up to `limit` kept in memory before spilling.
    pub fn with_limit(limit: usize) -> Self {
        Candidates {
            spill: Spill::with_limit(limit),
            files: 0,
            bytes: 0,
            dirs: BTreeMap::new(),
            open: None,
        }
    }

    /// Candidates held in memory (and never spilled).
    pub fn from_vec(v: Vec<Candidate>) -> Self {
        let mut c = Candidates::default();
        for x in &v {
            c.count(x);
        }
        c.spill = Spill::from_vec(v.into_iter().map(ByPath).collect());
        c
    }

    fn count(&mut self, c: &Candidate) {
        self.files = self.files.saturating_add(c.files);
        self.bytes = self.bytes.saturating_add(c.bytes);
        let t = match &mut self.open {
            Some(t) if t.reason == c.reason && c.path.parent_is(&t.path) => t,
            open => {
                if let Some(o) = open.take() {
                    self.dirs.insert((o.path.clone(), o.reason), o);
                }
                let key = (c.path.parent(), c.reason);
                open.insert(self.dirs.remove(&key).unwrap_or(DirTotals {
                    path: key.0,
                    reason: key.1,
                    candidates: 0,
                    files: 0,
                    bytes: 0,
                }))
            }
        };
        t.candidates += 1;
        t.files = t.files.saturating_add(c.files);
        t.bytes = t.bytes.saturating_add(c.bytes);
    }

    /// Adds one (spilling a full buffer to disk).
    pub fn push(&mut self, c: Candidate) -> Result<(), spill::Error> {
        self.count(&c);
        self.spill.push(ByPath(c))
    }

    /// Adds every candidate of `other`.
    pub fn append(&mut self, other: Candidates) -> Result<(), spill::Error> {
        for c in other.iter()? {
            self.push(c?)?;
        }
        Ok(())
    }

    /// Sorts what is in memory: call once every candidate is pushed.
    pub fn seal(&mut self) {
        if let Some(o) = self.open.take() {
            self.dirs.insert((o.path.clone(), o.reason), o);
        }
        self.spill.seal();
    }

    /// How many.
    pub fn len(&self) -> u64 {
        self.spill.len()
    }

    /// None.
    pub fn is_empty(&self) -> bool {
        self.spill.is_empty()
    }

    /// Files in them.
    pub fn files(&self) -> u64 {
        self.files
    }

    /// Bytes in them.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Totals per directory and reason (by directory once sealed).
    pub fn dirs(&self) -> impl Iterator<Item = &DirTotals> {
        self.dirs.values().chain(self.open.iter())
    }

    /// Every candidate, in path order.
    pub fn iter(
        &self,
    ) -> Result<impl Iterator<Item = Result<Candidate, spill::Error>> + '_, spill::Error> {
        Ok(self.spill.iter()?.map(|r| r.map(|b| b.0)))
    }

    /// Calls `f` with every candidate, in path order, while another thread
    /// reads the next ones back from disk (decoding a spilled run costs as
    /// much as writing a candidate out, so the two overlap). Stops at the
    /// first error, `f`'s or the reading's (as `read_err` makes it).
    pub fn try_for_each<E>(
        &self,
        read_err: impl Fn(spill::Error) -> E,
        mut f: impl FnMut(&Candidate) -> Result<(), E>,
    ) -> Result<(), E> {
        /// Candidates handed over at a time, and batches in flight.
        const BATCH: usize = 1024;
        const AHEAD: usize = 4;
        if !self.spill.spilled() {
            for c in self.iter().map_err(&read_err)? {
                match c {
                    Ok(c) => f(&c)?,
                    Err(e) => return Err(read_err(e)),
                }
            }
            return Ok(());
        }
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel(AHEAD);
            // Used batches go back to be freed where they were allocated:
            // glibc frees another thread's memory under that thread's
            // arena lock, which the reader holds most of the time.
            let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<Candidate>>();
            scope.spawn(move || {
                let it = match self.iter() {
                    Ok(it) => it,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                let mut batch = Vec::with_capacity(BATCH);
                for c in it {
                    match c {
                        Ok(c) => batch.push(c),
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                    if batch.len() == BATCH {
                        let mut next = back_rx.try_recv().unwrap_or_default();
                        next.clear();
                        next.reserve(BATCH);
                        let full = std::mem::replace(&mut batch, next);
                        if tx.send(Ok(full)).is_err() {
                            // The consumer stopped.
                            return;
                        }
                    }
                }
                let _ = tx.send(Ok(batch));
            });
            // On an early return `rx` is dropped, so the reader stops at
            // its next send and the scope ends.
            for batch in rx {
                match batch {
                    Ok(batch) => {
                        batch.iter().try_for_each(&mut f)?;
                        // Gone with the reader: dropped here, then.
                        let _ = back_tx.send(batch);
                    }
                    Err(e) => return Err(read_err(e)),
                }
            }
            Ok(())
        })
    }

    /// Every candidate in memory, in path order.
    pub fn to_vec(&self) -> Result<Vec<Candidate>, spill::Error> {
        self.iter()?.collect()
    }

    /// What `f` makes of each candidate (`None`: dropped), in a new
    /// collection.
    pub fn filter_map(
        &self,
        mut f: impl FnMut(Candidate) -> Option<Candidate>,
    ) -> Result<Self, spill::Error> {
        let mut out = Candidates::default();
        for c in self.iter()? {
            if let Some(c) = f(c?) {
                out.push(c)?;
            }
        }
        out.seal();
        Ok(out)
    }

    /// The candidates `keep` accepts, in a new collection.
    pub fn filter(&self, mut keep: impl FnMut(&Candidate) -> bool) -> Result<Self, spill::Error> {
        let mut out = Candidates::default();
        for c in self.iter()? {
            let c = c?;
            if keep(&c) {
                out.push(c)?;
            }
        }
        out.seal();
        Ok(out)
    }
}

impl Serialize for Candidates {
    /// A JSON array, streamed from disk.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = s.serialize_seq(usize::try_from(self.len()).ok())?;
        self.try_for_each(S::Error::custom, |c| seq.serialize_element(c))?;
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Candidates {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Candidates::from_vec(Vec::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    //! Hand-built candidates (unit cases).

    use super::*;

    fn file(path: &str, bytes: u64) -> Candidate {
        Candidate {
            path: Location::parse(path).unwrap(),
            is_dir: false,
            reason: Reason::OrphanShared,
            job: Some("j".into()),
            files: 1,
            bytes,
            newest: None,
            metadata: None,
            resumed: false,
        }
    }

    #[test]
    fn a_spilled_candidate_comes_back_whole() {
        let mut full = file("/r/j/chk-4", 9);
        full.is_dir = true;
        full.reason = Reason::SubsumedCheckpoint;
        full.files = 3;
        full.newest = Some("2026-12-07T10:00:00.123456789Z".parse().unwrap());
        full.metadata = Some(Location::parse("/r/j/chk-4/_metadata").unwrap());
        full.resumed = true;
        let mut c = Candidates::with_limit(1);
        c.push(file("/r/j/shared/a", 1)).unwrap();
        c.push(full.clone()).unwrap();
        c.seal();
        let back = c.to_vec().unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(
            serde_json::to_value(&back[0]).unwrap(),
            serde_json::to_value(&full).unwrap()
        );
        let mut seen = Vec::new();
        c.try_for_each(
            |e| e.to_string(),
            |x| {
                seen.push(x.path.to_string());
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, ["/r/j/chk-4", "/r/j/shared/a"]);
    }

    #[test]
    fn spilled_candidates_come_back_in_path_order_with_their_totals() {
        let mut c = Candidates::with_limit(3);
        for i in (0..20).rev() {
            c.push(file(&format!("/r/j/shared/f{i:02}"), i)).unwrap();
        }
        let mut d = file("/r/j/chk-3", 7);
        d.is_dir = true;
        d.files = 4;
        d.reason = Reason::SubsumedCheckpoint;
        c.push(d).unwrap();
        c.seal();
        assert_eq!((c.len(), c.files(), c.bytes()), (21, 24, 190 + 7));
        let paths: Vec<String> = c
            .iter()
            .unwrap()
            .map(|c| c.unwrap().path.to_string())
            .collect();
        assert_eq!(paths[0], "/r/j/chk-3");
        assert_eq!(paths[1], "/r/j/shared/f00");
        assert_eq!(paths[20], "/r/j/shared/f19");
        let dirs: Vec<(String, Reason, u64, u64)> = c
            .dirs()
            .map(|d| (d.path.to_string(), d.reason, d.candidates, d.files))
            .collect();
        assert_eq!(
            dirs,
            [
                ("/r/j".to_owned(), Reason::SubsumedCheckpoint, 1, 4),
                ("/r/j/shared".to_owned(), Reason::OrphanShared, 20, 20)
            ]
        );
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 21);
        let back: Candidates = serde_json::from_value(json).unwrap();
        assert_eq!((back.len(), back.files(), back.bytes()), (21, 24, 197));
    }
}
