//! `safe-to-delete` through the command line on a copy of a real Flink tree:
//! the plan's candidates are exactly the files the newest checkpoint and
//! nothing else uses, nothing is deleted, and an unreadable kept `_metadata`
//! aborts with exit 3.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::{copy_tree, flink_chk, scenario, walk};

fn files(dir: &Path) -> BTreeSet<String> {
    walk(dir)
        .into_iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn plan_lists_unreferenced_files_and_deletes_nothing() {
    let (src, generated) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("ri");
    copy_tree(&src, &root);
    let before = files(&root);
    let rebase = format!("file:{generated}={}", root.display());
    let ck = root.join("checkpoints");
    let out = flink_chk()
        .args([
            "safe-to-delete",
            ck.to_str().unwrap(),
            "--keep-last",
            "1",
            "--min-age",
            "0s",
            "--json",
            "--rebase",
            &rebase,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["deleted"], false);
    assert_eq!(files(&root), before, "planning deletes nothing");
    let reasons: BTreeSet<&str> = v["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        BTreeSet::from(["orphan_shared", "subsumed_checkpoint"])
    );
    // Nothing the newest checkpoint needs (Flink's list) is a candidate.
    let job = crate::common::job_dir(&ck);
    let t = crate::common::truth(&job.join("chk-6/_metadata"));
    let needed: BTreeSet<String> = t["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["path"]
                .as_str()
                .unwrap()
                .trim_start_matches("file:")
                .replacen(&generated, &root.to_string_lossy(), 1)
        })
        .collect();
    for c in v["candidates"].as_array().unwrap() {
        let p = c["path"].as_str().unwrap();
        assert!(
            !needed.iter().any(|n| n.starts_with(p)),
            "{p} is needed by chk-6"
        );
    }
    let total: u64 = v["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(v["totals"]["candidate_bytes"].as_u64().unwrap(), total);

    // A kept _metadata that does not parse: no plan, exit 3, the file named.
    std::fs::write(job.join("chk-6/_metadata"), b"garbage").unwrap();
    let out = flink_chk()
        .args([
            "safe-to-delete",
            ck.to_str().unwrap(),
            "--keep-last",
            "1",
            "--min-age",
            "0s",
            "--rebase",
            &rebase,
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("chk-6/_metadata") && err.contains("nothing is planned"),
        "{err}"
    );
}
