//! The reference set: every file a kept snapshot needs, as a sorted array
//! of 128-bit fingerprints of canonical paths (16 bytes a reference, however
//! long the paths are).
//!
//! A fingerprint collision can only make an unreferenced file look
//! referenced, so it is kept: never can a referenced file look
//! unreferenced, because the same path always gives the same fingerprint.
//! With 10⁸ references the chance that a given orphan collides is about
//! 10⁸ / 2¹²⁷ ≈ 6·10⁻³⁰.
//!
//! The lowest bit of a fingerprint records whether the path lies under the
//! root the set was made for, so the number of references under the root
//! is known without the paths (the planner compares it with the number of
//! references its listing found).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use twox_hash::XxHash3_128;

/// Hashes a fingerprint by its low 64 bits: it is a hash already, so
/// hashing it again (SipHash) only costs time.
#[derive(Debug, Default)]
struct Low64(u64);

impl Hasher for Low64 {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u128` is used; any other input still hashes.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u128(&mut self, fp: u128) {
        self.0 = fp as u64;
    }
}

/// A set of canonical paths, by fingerprint.
#[derive(Debug, Clone, Default)]
pub struct RefSet {
    /// The root (canonical, ending in `/`) whose paths carry the flag bit.
    root: String,
    /// Sorted, distinct.
    sorted: Vec<u128>,
    /// Inserted since the last merge into `sorted` (some may be in it
    /// already: an insertion does not search the sorted array, whose
    /// binary search misses the cache at every step).
    pending: HashSet<u128, BuildHasherDefault<Low64>>,
}

/// Pending insertions merged at once (or a sixteenth of the set, if
/// larger: about one byte a reference on top of the sixteen).
const MERGE_AT: usize = 1 << 16;

impl RefSet {
    /// An empty set; `root` is a canonical directory key (ending in `/`).
    pub fn new(root: &str) -> Self {
        RefSet {
            root: root.to_owned(),
            ..RefSet::default()
        }
    }

    /// The fingerprint of canonical path `path`.
    pub fn fingerprint(&self, path: &str) -> u128 {
        let h = XxHash3_128::oneshot(path.as_bytes());
        (h & !1) | u128::from(!self.root.is_empty() && path.starts_with(&self.root))
    }

    /// Adds a canonical path.
    pub fn insert(&mut self, path: &str) {
        let fp = self.fingerprint(path);
        self.pending.insert(fp);
        if self.pending.len() >= MERGE_AT.max(self.sorted.len() / 16) {
            self.merge();
        }
    }

    /// Adds canonical paths.
    pub fn extend<S: AsRef<str>>(&mut self, paths: impl IntoIterator<Item = S>) {
        for p in paths {
            self.insert(p.as_ref());
        }
    }

    /// Moves the pending insertions into the sorted array, merging from the
    /// back in place (no second copy of the array). A pending fingerprint
    /// already in it is dropped: the write position never falls behind the
    /// read position, and the merged run is moved to the front at the end.
    pub fn merge(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut add: Vec<u128> = self.pending.drain().collect();
        add.sort_unstable();
        self.pending.shrink_to(MERGE_AT);
        let (n, m) = (self.sorted.len(), add.len());
        self.sorted.reserve_exact(m);
        self.sorted.resize(n + m, 0);
        // Invariant: k >= i + j (writes never overtake the unread part).
        let (mut i, mut j, mut k) = (n, m, n + m);
        while j > 0 {
            let next = add[j - 1];
            if i > 0 && self.sorted[i - 1] >= next {
                if self.sorted[i - 1] == next {
                    // Already held: this pending one goes.
                    j -= 1;
                }
                k -= 1;
                self.sorted[k] = self.sorted[i - 1];
                i -= 1;
            } else {
                k -= 1;
                self.sorted[k] = next;
                j -= 1;
            }
        }
        // The first `i` are in place; the merged rest is at `k..`.
        if k > i {
            self.sorted.copy_within(k.., i);
            self.sorted.truncate(n + m - (k - i));
        }
        debug_assert!(self.sorted.windows(2).all(|w| w[0] < w[1]));
    }

    /// Whether the canonical path is in the set.
    pub fn contains(&self, path: &str) -> bool {
        let fp = self.fingerprint(path);
        self.sorted.binary_search(&fp).is_ok() || self.pending.contains(&fp)
    }

    /// The position of the canonical path among the merged fingerprints
    /// (call [`RefSet::merge`] first: pending ones have none).
    pub fn index(&self, path: &str) -> Option<usize> {
        self.sorted.binary_search(&self.fingerprint(path)).ok()
    }

    /// Distinct paths.
    pub fn len(&self) -> usize {
        let new = self
            .pending
            .iter()
            .filter(|fp| self.sorted.binary_search(fp).is_err())
            .count();
        self.sorted.len() + new
    }

    /// No paths.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty() && self.pending.is_empty()
    }

    /// Merged paths under the root, by position: `(index, ..)` for each.
    pub fn under_root(&self) -> impl Iterator<Item = usize> + '_ {
        self.sorted
            .iter()
            .enumerate()
            .filter(|(_, fp)| *fp & 1 == 1)
            .map(|(i, _)| i)
    }

    /// Bytes held (for the memory figures).
    pub fn heap_bytes(&self) -> usize {
        self.sorted.capacity() * 16 + self.pending.capacity() * 17
    }
}

/// Which merged references a listing found: one bit each.
#[derive(Debug, Default)]
pub struct Found {
    bits: Vec<u64>,
    count: usize,
}

impl Found {
    /// None found yet, of `set`'s merged references.
    pub fn new(set: &RefSet) -> Self {
        Found {
            bits: vec![0; set.sorted.len().div_ceil(64)],
            count: 0,
        }
    }

    /// Marks reference `i` found.
    pub fn set(&mut self, i: usize) {
        let (w, b) = (i / 64, 1u64 << (i % 64));
        if let Some(word) = self.bits.get_mut(w)
            && *word & b == 0
        {
            *word |= b;
            self.count += 1;
        }
    }

    /// Whether reference `i` was found.
    pub fn get(&self, i: usize) -> bool {
        self.bits
            .get(i / 64)
            .is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }

    /// Whether every reference under the root was found.
    pub fn all_under_root(&self, set: &RefSet) -> bool {
        set.under_root().all(|i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_found_by_fingerprint_and_flagged_under_the_root() {
        let mut s = RefSet::new("s3://b/root/");
        for i in 0..200_000 {
            s.insert(&format!("s3://b/root/job/shared/{i}"));
        }
        s.insert("s3://b/other/x");
        s.insert("s3://b/root/job/shared/7");
        assert_eq!(s.len(), 200_001);
        assert!(s.contains("s3://b/root/job/shared/199999"));
        assert!(s.contains("s3://b/other/x"));
        assert!(!s.contains("s3://b/root/job/shared/200000"));
        assert!(!s.contains("s3://b/root/job/shared/1 "));
        s.merge();
        assert_eq!(s.under_root().count(), 200_000);
        let mut f = Found::new(&s);
        for i in 0..200_000 {
            f.set(s.index(&format!("s3://b/root/job/shared/{i}")).unwrap());
        }
        assert!(f.all_under_root(&s));
        let mut g = Found::new(&s);
        g.set(s.index("s3://b/other/x").unwrap());
        assert!(!g.all_under_root(&s));
        // 16 bytes a reference, and the pending table's fixed size.
        assert!(
            s.heap_bytes() <= 200_001 * 16 + 2 * MERGE_AT * 17,
            "{}",
            s.heap_bytes()
        );
        // Inserted again after merges (as a path many kept checkpoints
        // share is): still one reference, and the array stays sorted.
        for round in 0..3 {
            for i in (0..200_000).step_by(3 + round) {
                s.insert(&format!("s3://b/root/job/shared/{i}"));
            }
            assert_eq!(s.len(), 200_001, "round {round}");
            s.merge();
        }
        assert_eq!(s.sorted.len(), 200_001);
        assert!(s.sorted.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(s.under_root().count(), 200_000);
    }
}
