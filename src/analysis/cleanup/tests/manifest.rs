//! `--emit-manifest`'s rows on copies of real Flink trees: exactly the
//! files applying the same re-check would delete (checkpoint directories
//! listed file by file, `_metadata` first), with the versions listed, and
//! nothing deleted by writing them.

use std::collections::BTreeSet;

use super::apply::{Case, case, run_apply};
use super::changed::in_memory;
use crate::analysis::cleanup::manifest::{Expanded, ManifestError, expand};
use crate::analysis::cleanup::revalidate::Validated;
use crate::analysis::cleanup::tests::{files, planned, policy};
use crate::storage::{Settings, Storage, Storages};

/// The rows `expand` hands out: (canonical path, size, version), in order.
type Row = (String, u64, Option<String>);

fn rows(storage: &dyn Storage, v: &Validated) -> (Expanded, Vec<Row>) {
    let mut out = Vec::new();
    let e = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(expand(storage, v, |l, bytes, version| {
            out.push((l.canonical(), bytes, version.map(str::to_owned)));
            Ok(())
        }))
        .unwrap();
    (e, out)
}

fn planned_case() -> (Case, Validated, BTreeSet<String>) {
    let c = case("rocksdb-incremental");
    let (plan, file) = c.plan(&policy(1));
    let expected = planned(&plan);
    let v = c
        .revalidate(&Storages::new(Settings::default()), &file)
        .unwrap();
    assert!(v.dropped.is_empty(), "{:?}", v.dropped);
    (c, v, expected)
}

#[test]
fn rows_are_what_apply_deletes_metadata_first_and_nothing_goes() {
    let (c, v, expected) = planned_case();
    let local = Storages::new(Settings::default());
    let before = files(&c.root);
    let (e, rows) = rows(&local, &v);
    assert_eq!(files(&c.root), before, "writing rows deletes nothing");
    let paths: BTreeSet<String> = rows.iter().map(|r| r.0.clone()).collect();
    assert_eq!(paths.len(), rows.len(), "no file twice");
    assert_eq!(paths, expected);
    assert_eq!(e.files as usize, rows.len());
    assert_eq!(e.bytes, rows.iter().map(|r| r.1).sum::<u64>());
    assert!(e.skipped.is_empty(), "{:?}", e.skipped);
    assert!(rows[0].0.ends_with("chk-4/_metadata") && rows[1].0.ends_with("chk-5/_metadata"));
    // The very files applying the same re-check deletes.
    let (a, order) = run_apply(&local, &v);
    assert!(a.failed.is_empty() && a.skipped.is_empty(), "{a:?}");
    assert_eq!(order.into_iter().collect::<BTreeSet<_>>(), paths);
}

#[test]
fn a_file_written_into_a_candidate_directory_after_the_recheck_is_left_out() {
    let (c, v, expected) = planned_case();
    let late = c.job.join("chk-4/late-file");
    std::fs::write(&late, b"new").unwrap();
    let (e, rows) = rows(&Storages::new(Settings::default()), &v);
    let paths: BTreeSet<String> = rows.into_iter().map(|r| r.0).collect();
    assert_eq!(paths, expected);
    assert_eq!(e.skipped.len(), 1, "{:?}", e.skipped);
    assert!(e.skipped[0].0.ends_with("chk-4/late-file"));
    assert_eq!(e.skipped[0].1, "written after planning");
}

#[test]
fn rows_carry_the_versions_listed_and_a_failing_writer_stops() {
    let c = case("rocksdb-incremental");
    let m = in_memory(&c, true);
    let (_, file) = c.plan(&policy(1));
    let v = c.revalidate(&m, &file).unwrap();
    let (_, rows) = rows(&m, &v);
    assert!(rows.len() > 4);
    for (path, _, version) in &rows {
        assert_eq!(
            version.as_deref(),
            m.lock().version(path).as_deref(),
            "{path}"
        );
        assert!(version.is_some(), "{path}");
    }
    let mut n = 0;
    let r = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(expand(&m, &v, |_, _, _| {
            n += 1;
            if n == 3 {
                Err(ManifestError::Write(std::io::Error::other("disk full")))
            } else {
                Ok(())
            }
        }));
    assert!(matches!(r, Err(ManifestError::Write(_))), "{r:?}");
    assert_eq!(n, 3, "nothing handed out after the error");
}
