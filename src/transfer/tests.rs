//! The rewrite on real Flink files (committed fixtures): exact, or refused
//! with the field path.

use std::collections::BTreeSet;

use super::rewrite::{self, NewRef, Refusal, Relocation, RewriteError};
use crate::analysis::refs::{self, FileKind, Ref};
use crate::metadata;
use crate::storage::Location;

fn fixture(rel: &str) -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flink");
    let root = dir.join(rel);
    // The newest checkpoint of the first job.
    let ck = root.join("checkpoints");
    let job = std::fs::read_dir(&ck)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut chks: Vec<_> = std::fs::read_dir(&job)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("_metadata").exists())
        .collect();
    chks.sort();
    std::fs::read(chks.last().unwrap().join("_metadata")).unwrap()
}

/// Replaces the prefix `from` with `to` in absolute paths; relative stay.
struct Prefix<'a> {
    from: &'a str,
    to: String,
}

impl Relocation for Prefix<'_> {
    fn file(&self, kind: FileKind, path: &str) -> Result<NewRef, Refusal> {
        if kind == FileKind::Relative {
            return Ok(NewRef::Relative(path.to_owned()));
        }
        match path.strip_prefix(self.from) {
            Some(rest) => Ok(NewRef::Absolute(
                Location::parse(&format!("{}{rest}", self.to)).unwrap(),
            )),
            None => Err(Refusal::Unmapped(path.to_owned())),
        }
    }

    fn dir(&self, path: &str) -> Result<Location, Refusal> {
        match self.file(FileKind::Absolute, path)? {
            NewRef::Absolute(l) => Ok(l),
            NewRef::Relative(_) => unreachable!(),
        }
    }
}

fn paths(m: &metadata::CheckpointMetadata) -> Vec<(FileKind, String)> {
    let mut v = Vec::new();
    refs::visit(m, |r| {
        if let Ref::File { kind, path, .. } = r {
            v.push((kind, path.to_owned()));
        }
    });
    v
}

#[test]
fn a_rewrite_changes_the_paths_and_nothing_else() {
    for rel in [
        "2.3/rocksdb-incremental",
        "2.3/file-merging",
        "2.3/changelog",
        "2.3/unaligned",
    ] {
        let bytes = fixture(rel);
        let m = metadata::parse(&bytes).unwrap();
        let to = Prefix {
            from: "file:/tmp/flink-chk-gen/",
            to: "s3a://dr-bucket/moved/".into(),
        };
        let r = rewrite::rewrite(&m, &to).unwrap();
        let back = metadata::parse(&r.bytes).unwrap();
        assert_eq!(back, r.metadata, "{rel}");
        // Mapping the new paths back gives the original, byte for byte.
        let undo = Prefix {
            from: "s3a://dr-bucket/moved/",
            to: "file:/tmp/flink-chk-gen/".into(),
        };
        let again = rewrite::rewrite(&back, &undo).unwrap();
        assert_eq!(again.bytes, bytes, "{rel}: only paths changed");
        let before = paths(&m);
        let after = paths(&back);
        assert_eq!(before.len(), after.len());
        for ((k1, p1), (k2, p2)) in before.iter().zip(&after) {
            assert_eq!(k1, k2);
            if *k1 == FileKind::Relative {
                assert_eq!(p1, p2);
            } else {
                assert_eq!(
                    p2,
                    &p1.replace("file:/tmp/flink-chk-gen/", "s3a://dr-bucket/moved/")
                );
            }
        }
    }
}

#[test]
fn refused_rewrites_name_the_field() {
    let m = metadata::parse(&fixture("2.3/rocksdb-incremental")).unwrap();
    // A path over the format's 65,535-byte limit.
    let long = Prefix {
        from: "file:/tmp/flink-chk-gen/",
        to: format!("s3://b/{}/", "x".repeat(70_000)),
    };
    let e = rewrite::rewrite(&m, &long).unwrap_err();
    assert!(matches!(e, RewriteError::Write(_)), "{e}");
    assert!(e.to_string().contains("operators["), "{e}");
    // An unmapped path.
    let none = Prefix {
        from: "file:/elsewhere/",
        to: "s3://b/".into(),
    };
    let e = rewrite::rewrite(&m, &none).unwrap_err();
    assert!(matches!(e, RewriteError::Unmapped { .. }), "{e}");
    assert!(e.to_string().starts_with("operators["), "{e}");
}

#[test]
fn the_check_catches_a_copy_that_still_names_the_source_or_misses_a_file() {
    let bytes = fixture("2.3/rocksdb-incremental");
    let m = metadata::parse(&bytes).unwrap();
    let dir =
        Location::parse("/tmp/flink-chk-gen/2.3/rocksdb-incremental/checkpoints/j/chk-6").unwrap();
    let mut expected = BTreeSet::new();
    refs::visit(&m, |r| {
        if let Ref::File { kind, path, .. } = r {
            let l = match kind {
                FileKind::Relative => dir.join(path),
                _ => Location::parse(path).unwrap(),
            };
            expected.insert(l);
        }
    });
    let src_root = Location::parse("/tmp/flink-chk-gen").unwrap();
    // The unchanged file still points at the source root.
    let e = rewrite::check(
        &bytes,
        &dir,
        &expected,
        std::slice::from_ref(&src_root),
        &[],
    )
    .unwrap_err();
    assert!(matches!(e, RewriteError::PointsAtSource { .. }), "{e}");
    // Unless that root is also a destination (a copy inside the source tree).
    rewrite::check(
        &bytes,
        &dir,
        &expected,
        std::slice::from_ref(&src_root),
        std::slice::from_ref(&src_root),
    )
    .unwrap();
    // One file missing from the expected set.
    let mut fewer = expected.clone();
    let gone = fewer.iter().next().unwrap().clone();
    fewer.remove(&gone);
    let e = rewrite::check(&bytes, &dir, &fewer, &[], &[]).unwrap_err();
    assert!(matches!(e, RewriteError::Mismatch { .. }), "{e}");
    assert!(e.to_string().contains("was not mapped"), "{e}");
}
