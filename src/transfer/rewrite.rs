//! A `_metadata` rewritten for its new place, exactly or not at all: every
//! path goes through the model walk (file handles, segment physical paths,
//! file-merging directories, changelog and channel-state handles, which are
//! all stream handles or file-merging directories there), everything else is
//! written back byte for byte by the writer, and the result is parsed back and
//! checked before anyone may publish it. No I/O.

use std::collections::BTreeSet;

use crate::analysis::refs::{self, FileKind, Ref};
use crate::metadata::walk::{self, NodeMut};
use crate::metadata::{self, CheckpointMetadata, JavaString, StreamHandle, WriteError};
use crate::storage::Location;

use super::map::flink_path;

/// How a reference is written at its new place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewRef {
    /// An absolute path (a tag-2 file handle, a segment's physical file).
    Absolute(Location),
    /// A name relative to the directory holding `_metadata` (tag 6).
    Relative(String),
}

/// Why a reference has no new form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No rule maps the location (its text).
    Unmapped(String),
    /// The path is not a location.
    Bad(String),
}

/// Where a snapshot's references go.
pub trait Relocation {
    /// The new form of a file reference written as `path`.
    fn file(&self, kind: FileKind, path: &str) -> Result<NewRef, Refusal>;
    /// The new path of a file-merging directory written as `path`.
    fn dir(&self, path: &str) -> Result<Location, Refusal>;
}

/// A rewrite that was refused; nothing is written.
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    /// A path no `--map` covers.
    #[error("{field}: {location} has no destination (no --map covers it)")]
    Unmapped {
        /// Field path in the model.
        field: String,
        /// The location.
        location: String,
    },
    /// A path that is not a location.
    #[error("{field}: {path:?} is not a location: {reason}")]
    BadPath {
        /// Field path.
        field: String,
        /// As written.
        path: String,
        /// Why.
        reason: String,
    },
    /// A handle that has no relative form.
    #[error(
        "{field}: a file-merging segment of {path} cannot be written relative to the snapshot (its physical file is shared and addressed by an absolute path); --layout self-contained cannot hold file-merging snapshots"
    )]
    NotRelative {
        /// Field path.
        field: String,
        /// The physical file.
        path: String,
    },
    /// The writer refused (a path longer than the format allows, …).
    #[error("writing the rewritten _metadata: {0}")]
    Write(#[from] WriteError),
    /// The written bytes do not parse.
    #[error("the rewritten _metadata does not parse back: {0}")]
    Reparse(#[source] metadata::Error),
    /// The written file does not reference exactly the mapped files.
    #[error(
        "the rewritten _metadata references {found} files where {expected} were mapped ({detail}); not published"
    )]
    Mismatch {
        /// Distinct files referenced by the written bytes.
        found: usize,
        /// Distinct files expected.
        expected: usize,
        /// One difference.
        detail: String,
    },
    /// A path still names a source root.
    #[error("{field}: the rewritten _metadata still points at the source ({path}); not published")]
    PointsAtSource {
        /// Field path.
        field: String,
        /// The path.
        path: String,
    },
}

/// The rewritten model and its bytes.
#[derive(Debug)]
pub struct Rewritten {
    /// The model as written.
    pub metadata: CheckpointMetadata,
    /// The bytes of the new `_metadata`.
    pub bytes: Vec<u8>,
}

fn refusal(field: String, path: &str, r: Refusal) -> RewriteError {
    match r {
        Refusal::Unmapped(location) => RewriteError::Unmapped { field, location },
        Refusal::Bad(reason) => RewriteError::BadPath {
            field,
            path: path.to_owned(),
            reason,
        },
    }
}

/// Rewrites every path of `m` through `to`.
pub fn rewrite(m: &CheckpointMetadata, to: &dyn Relocation) -> Result<Rewritten, RewriteError> {
    let mut out = m.clone();
    let mut err: Option<RewriteError> = None;
    walk::walk_mut(&mut out, |ctx, node| {
        if err.is_some() {
            return;
        }
        let field = || ctx.to_string();
        match node {
            NodeMut::Stream(h) => {
                let (kind, path) = match &*h {
                    StreamHandle::File { path, .. } => {
                        (FileKind::Absolute, path.as_str().to_owned())
                    }
                    StreamHandle::Relative { relative_path, .. } => {
                        (FileKind::Relative, relative_path.as_str().to_owned())
                    }
                    StreamHandle::Segment { physical_path, .. } => {
                        (FileKind::Segment, physical_path.as_str().to_owned())
                    }
                    _ => return,
                };
                let new = match to.file(kind, &path) {
                    Ok(n) => n,
                    Err(r) => {
                        err = Some(refusal(field(), &path, r));
                        return;
                    }
                };
                let replacement = match (&*h, new) {
                    (
                        StreamHandle::File { size, .. } | StreamHandle::Relative { size, .. },
                        NewRef::Absolute(l),
                    ) => StreamHandle::File {
                        size: *size,
                        path: JavaString::from(flink_path(&l)),
                    },
                    (
                        StreamHandle::File { size, .. } | StreamHandle::Relative { size, .. },
                        NewRef::Relative(name),
                    ) => StreamHandle::Relative {
                        relative_path: JavaString::from(name),
                        size: *size,
                    },
                    (
                        StreamHandle::Segment {
                            start,
                            size,
                            scope,
                            logical_id,
                            ..
                        },
                        NewRef::Absolute(l),
                    ) => StreamHandle::Segment {
                        start: *start,
                        size: *size,
                        scope: *scope,
                        physical_path: JavaString::from(flink_path(&l)),
                        logical_id: logical_id.clone(),
                    },
                    (StreamHandle::Segment { .. }, NewRef::Relative(_)) => {
                        err = Some(RewriteError::NotRelative {
                            field: field(),
                            path,
                        });
                        return;
                    }
                    _ => return,
                };
                // Unchanged text keeps its original bytes (a path Java wrote
                // in a form `encode` would not give back).
                if !same_text(h, &replacement) {
                    *h = replacement;
                }
            }
            NodeMut::FileMergingDirs(d) => {
                for p in [&mut d.task_owned_dir, &mut d.shared_dir] {
                    if p.is_empty() {
                        continue;
                    }
                    match to.dir(p.as_str()) {
                        Ok(l) => {
                            let text = flink_path(&l);
                            if text != p.as_str() {
                                *p = JavaString::from(text);
                            }
                        }
                        Err(r) => {
                            err = Some(refusal(field(), p.as_str(), r));
                            return;
                        }
                    }
                }
            }
            _ => {}
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    let bytes = metadata::write(&out)?;
    Ok(Rewritten {
        metadata: out,
        bytes,
    })
}

/// Same handle type with the same path text.
fn same_text(a: &StreamHandle, b: &StreamHandle) -> bool {
    match (a, b) {
        (StreamHandle::File { path: x, .. }, StreamHandle::File { path: y, .. })
        | (
            StreamHandle::Relative {
                relative_path: x, ..
            },
            StreamHandle::Relative {
                relative_path: y, ..
            },
        )
        | (
            StreamHandle::Segment {
                physical_path: x, ..
            },
            StreamHandle::Segment {
                physical_path: y, ..
            },
        ) => x.as_str() == y.as_str(),
        _ => false,
    }
}

/// Parses `bytes` back and checks that they reference exactly `expected`
/// (relative handles resolved against `dir`, the new `_metadata`'s
/// directory) and that no path, file-merging directories included, lies
/// under a `source_roots` entry unless it also lies under a `dest_roots` one.
pub fn check(
    bytes: &[u8],
    dir: &Location,
    expected: &BTreeSet<Location>,
    source_roots: &[Location],
    dest_roots: &[Location],
) -> Result<CheckpointMetadata, RewriteError> {
    let m = metadata::parse(bytes).map_err(RewriteError::Reparse)?;
    let mut found = BTreeSet::new();
    let mut bad: Option<RewriteError> = None;
    let mut points_back = |field: String, l: &Location, text: &str| {
        if bad.is_none()
            && source_roots.iter().any(|r| l.starts_with(r))
            && !dest_roots.iter().any(|r| l.starts_with(r))
        {
            bad = Some(RewriteError::PointsAtSource {
                field,
                path: text.to_owned(),
            });
        }
    };
    let mut unparsable: Option<RewriteError> = None;
    refs::visit(&m, |r| {
        if let Ref::File { kind, path, .. } = r {
            let l = match kind {
                FileKind::Relative => Ok(dir.join(path)),
                FileKind::Absolute | FileKind::Segment => Location::parse(path),
            };
            match l {
                Ok(l) => {
                    points_back(path.to_owned(), &l, path);
                    found.insert(l);
                }
                Err(e) => {
                    unparsable.get_or_insert(RewriteError::BadPath {
                        field: "a file handle".into(),
                        path: path.to_owned(),
                        reason: e.to_string(),
                    });
                }
            }
        }
    });
    walk::walk(&m, |ctx, node| {
        if let walk::Node::FileMergingDirs(d) = node {
            for p in [&d.task_owned_dir, &d.shared_dir] {
                if let Ok(l) = Location::parse(p.as_str()) {
                    points_back(ctx.to_string(), &l, p.as_str());
                }
            }
        }
    });
    if let Some(e) = unparsable.or(bad) {
        return Err(e);
    }
    if &found != expected {
        let detail = match found.difference(expected).next() {
            Some(x) => format!("{x} was not mapped"),
            None => match expected.difference(&found).next() {
                Some(x) => format!("{x} is not referenced"),
                None => String::new(),
            },
        };
        return Err(RewriteError::Mismatch {
            found: found.len(),
            expected: expected.len(),
            detail,
        });
    }
    Ok(m)
}
