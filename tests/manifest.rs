//! `safe-to-delete --emit-manifest` through the command line, without
//! storage servers: the formats refuse roots of other stores before
//! anything is read or written (naming the scheme), from a URI, a local
//! path or a plan file; the flag needs a reviewed plan and cannot be a dry
//! run. Manifests written from S3 and GCS roots: `object_stores`.

use std::path::Path;

use crate::common::{copy_tree, flink_chk, scenario};

/// Runs `safe-to-delete ARGS`: exit code and stderr.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = flink_chk()
        .arg("safe-to-delete")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn nothing_at(manifest: &Path) {
    let dir = manifest.parent().unwrap();
    let left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("m.csv"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn roots_of_other_stores_are_refused_naming_their_scheme() {
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("m.csv");
    let m = m.to_str().unwrap();
    // URIs: refused before anything is read (nothing listens there).
    for (format, root, scheme) in [
        (
            "s3-batch-tags",
            "hdfs://namenode:8020/flink/checkpoints",
            "hdfs://",
        ),
        ("s3-batch-tags", "gs://bucket/flink/checkpoints", "gs://"),
        (
            "s3-batch-tags",
            "abfss://c@acct.dfs.core.windows.net/ck",
            "abfss://",
        ),
        ("gcs-batch", "s3a://bucket/flink/checkpoints", "s3a://"),
        ("gcs-batch", "oss://bucket/flink/checkpoints", "oss://"),
    ] {
        let (code, err) = run(&[root, "--yes", "--emit-manifest", format, m]);
        assert_eq!(code, Some(3), "{format} {root}: {err}");
        assert!(
            err.contains(scheme) && err.contains(format) && err.contains("only for"),
            "{format} {root}: {err}"
        );
        nothing_at(Path::new(m));
    }

    // A local root, given or from a plan file.
    let (src, generated) = scenario("2.3", "rocksdb-incremental");
    let root = tmp.path().join("ri");
    copy_tree(&src, &root);
    let rebase = format!("file:{generated}={}", root.display());
    let ck = root.join("checkpoints");
    let ck = ck.to_str().unwrap();
    let policy = ["--keep-last", "1", "--min-age", "0s", "--rebase", &rebase];
    let (code, err) = run(&[
        &[ck, "--yes", "--emit-manifest", "gcs-batch", m][..],
        &policy,
    ]
    .concat());
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("local path (file://)"), "{err}");
    let plan = tmp.path().join("plan.json");
    let plan = plan.to_str().unwrap();
    let (code, err) = run(&[&[ck, "--dry-run", "--plan-out", plan][..], &policy].concat());
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = run(&["--apply", plan, "--emit-manifest", "s3-batch-tags", m]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("local path (file://)") && err.contains("s3-batch-tags"),
        "{err}"
    );
    nothing_at(Path::new(m));
}

#[test]
fn a_manifest_needs_a_reviewed_plan_and_a_known_format() {
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("m.csv");
    let m = m.to_str().unwrap();
    let root = "s3://bucket/ck";
    // Neither --yes, --apply nor --apply-candidates: a usage error.
    let (code, err) = run(&[root, "--emit-manifest", "s3-batch-tags", m]);
    assert_eq!(code, Some(64), "{err}");
    assert!(err.contains("--yes") || err.contains("--apply"), "{err}");
    // Not a dry run: it is the step before deleting.
    let (code, err) = run(&[root, "--dry-run", "--emit-manifest", "s3-batch-tags", m]);
    assert_eq!(code, Some(64), "{err}");
    let (code, err) = run(&[root, "--yes", "--emit-manifest", "s3", m]);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("s3-batch-tags, gcs-batch"), "{err}");
    nothing_at(Path::new(m));
}
