//! The file-level diff of two snapshots: which files only one of them
//! needs, and which both share.

use serde::Serialize;

/// A file in a file-level diff.
#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    /// Location.
    pub path: String,
    /// Bytes recorded by the handles.
    pub bytes: u64,
    /// Where it lives relative to the snapshot that references it.
    pub label: crate::analysis::deps::Label,
}

/// Files added, dropped and reused between two snapshots.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FilesDiff {
    /// Referenced only by the new snapshot (what it uploaded).
    pub added: Vec<FileEntry>,
    /// Referenced only by the old snapshot.
    pub dropped: Vec<FileEntry>,
    /// Referenced by both.
    pub reused: Vec<FileEntry>,
    /// Inline bytes (inside `_metadata`) of the old snapshot.
    pub old_inline_bytes: u64,
    /// Inline bytes of the new snapshot.
    pub new_inline_bytes: u64,
}

impl FilesDiff {
    /// Total bytes of a list.
    pub fn total(list: &[FileEntry]) -> u64 {
        list.iter().map(|f| f.bytes).fold(0, u64::saturating_add)
    }
}

/// Compares the file sets of two snapshots (by location).
pub fn files(old: &crate::analysis::deps::Deps, new: &crate::analysis::deps::Deps) -> FilesDiff {
    use std::collections::BTreeSet;
    let entry = |d: &crate::analysis::deps::Dep| FileEntry {
        path: d.location.to_string(),
        bytes: d.bytes,
        label: d.label.clone(),
    };
    let old_set: BTreeSet<String> = old.files.iter().map(|d| d.location.canonical()).collect();
    let new_set: BTreeSet<String> = new.files.iter().map(|d| d.location.canonical()).collect();
    let mut out = FilesDiff {
        old_inline_bytes: old.inline_bytes,
        new_inline_bytes: new.inline_bytes,
        ..FilesDiff::default()
    };
    for d in &new.files {
        if old_set.contains(&d.location.canonical()) {
            out.reused.push(entry(d));
        } else {
            out.added.push(entry(d));
        }
    }
    for d in &old.files {
        if !new_set.contains(&d.location.canonical()) {
            out.dropped.push(entry(d));
        }
    }
    out
}
