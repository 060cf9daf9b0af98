//! `refs export`: the reference set of the kept snapshots as Parquet and
//! CSV (checked against `deps --json` of every kept snapshot), the SQL it
//! emits for each engine (Flink and Spark pinned as golden files), and refusals.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::RowAccessor as _;

use crate::common::inventory::{
    Destination, Row as InvRow, set_minute_times, walk_rows, write_azure, write_csv, write_gcs,
    write_parquet, write_s3_parquet,
};
use crate::common::{copy_tree, flink_chk, scenario};

/// A fixture copy with fixed minute times (so the SQL is reproducible).
struct Tree {
    tmp: tempfile::TempDir,
    ck: PathBuf,
    rebase: String,
}

/// When every file of a tree was written (chk-N/_metadata N+1 minutes later).
const T0: &str = "2026-11-01T00:00:00Z";
/// When the CSV inventory says it was taken.
const TAKEN: &str = "2026-11-02T00:00:00Z";

impl Tree {
    fn new() -> Tree {
        let (src, generated) = scenario("2.3", "rocksdb-incremental");
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("rocksdb-incremental");
        copy_tree(&src, &dir);
        set_minute_times(&dir, T0.parse().unwrap());
        Tree {
            ck: dir.join("checkpoints"),
            rebase: format!("file:{generated}={}", dir.display()),
            tmp,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn inventory(&self) -> PathBuf {
        let p = self.path("inventory.csv");
        write_csv(&walk_rows(&self.ck), &p);
        p
    }

    fn export(&self, extra: &[&str]) -> (i32, String, String) {
        let min_age = if extra.contains(&"--min-age") {
            &[][..]
        } else {
            &["--min-age", "0s"][..]
        };
        let out = flink_chk()
            .args(["refs", "export", "--keep-last", "1"])
            .args(min_age)
            .args(["--rebase", &self.rebase])
            .args(extra)
            .arg(&self.ck)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn plan(&self) -> serde_json::Value {
        let out = flink_chk()
            .args(["safe-to-delete", "--keep-last", "1", "--min-age", "0s"])
            .args(["--dry-run", "--json", "--rebase", &self.rebase])
            .arg(&self.ck)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

type Row = (String, String, String);

fn parquet_rows(p: &Path) -> Vec<Row> {
    let r = SerializedFileReader::new(std::fs::File::open(p).unwrap()).unwrap();
    let names: Vec<String> = r
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    assert_eq!(names, ["kind", "path", "snapshot"]);
    r.get_row_iter(None)
        .unwrap()
        .map(|row| {
            let row = row.unwrap();
            let s = |i: usize| row.get_string(i).unwrap().clone();
            (s(0), s(1), s(2))
        })
        .collect()
}

fn csv_rows(p: &Path) -> Vec<Row> {
    let mut r = csv::Reader::from_path(p).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["kind", "path", "snapshot"]
    );
    r.records()
        .map(|x| {
            let x = x.unwrap();
            (x[0].to_owned(), x[1].to_owned(), x[2].to_owned())
        })
        .collect()
}

/// The export holds exactly the files `deps --json` lists for the kept
/// snapshots the plan reads, each once, plus their directories; the CSV
/// form holds the same rows as the Parquet form.
#[test]
fn export_is_what_deps_reports_for_the_kept_snapshots() {
    let t = Tree::new();
    let pq = t.path("refs.parquet");
    let (code, out, err) = t.export(&["--out", pq.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = parquet_rows(&pq);

    let plan = t.plan();
    let read: Vec<String> = plan["read"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_owned())
        .collect();
    assert!(!read.is_empty(), "the retained checkpoint: {read:?}");
    let mut want = BTreeSet::new();
    for dir in &read {
        let d = flink_chk()
            .args(["deps", "--json", "--rebase", &t.rebase])
            .arg(dir)
            .output()
            .unwrap();
        assert_eq!(d.status.code(), Some(0), "{dir}");
        let d: serde_json::Value = serde_json::from_slice(&d.stdout).unwrap();
        for f in d["files"].as_array().unwrap() {
            want.insert(f["path"].as_str().unwrap().to_owned());
        }
    }
    let refs: Vec<&Row> = rows.iter().filter(|r| r.0 == "ref").collect();
    let got: BTreeSet<String> = refs.iter().map(|r| r.1.clone()).collect();
    assert_eq!(got.len(), refs.len(), "each file once");
    assert_eq!(got, want);
    assert!(want.len() > 20, "only {} references", want.len());
    // Each reference names a kept snapshot that needs it.
    let kept: BTreeSet<String> = rows
        .iter()
        .filter(|r| r.0 == "kept_dir")
        .map(|r| r.1.clone())
        .collect();
    for r in &refs {
        assert!(kept.contains(&r.2), "{r:?}");
    }
    for dir in &read {
        assert!(
            kept.contains(&format!("{dir}/")),
            "{dir} not a kept_dir row"
        );
    }
    assert_eq!(
        rows.len(),
        refs.len() + kept.len(),
        "only ref and kept_dir rows"
    );
    assert_eq!(summary["references"], refs.len());
    assert_eq!(summary["kept_dirs"], kept.len());
    assert_eq!(summary["snapshots_read"], read.len());
    assert_eq!(summary["format"], "parquet");
    // No partial file is left.
    assert!(!t.path("refs.parquet.partial").exists());

    // CSV: the same rows, in the same order.
    let csv = t.path("refs.csv");
    let (code, _, err) = t.export(&["--out", csv.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(csv_rows(&csv), rows);
    // --format wins over the extension.
    let other = t.path("refs.out");
    let (code, _, err) = t.export(&["--out", other.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(csv_rows(&other), rows);
}

/// The script for each engine names the root prefix and the cutoff
/// (inventory time − min-age); the Flink and Spark scripts (both run on
/// a real engine by benches/engine-sql.sh) are pinned.
#[test]
fn emitted_sql_has_the_root_and_the_cutoff() {
    let t = Tree::new();
    let inv = t.inventory();
    let root = format!("{}/", t.ck.display());
    for engine in ["flink", "spark", "trino"] {
        let refs = t.path(&format!("refs-{engine}.csv"));
        let (code, sql, err) = t.export(&[
            "--out",
            refs.to_str().unwrap(),
            "--inventory",
            inv.to_str().unwrap(),
            "--inventory-time",
            TAKEN,
            "--max-inventory-age",
            "36500d",
            "--min-age",
            "2h",
            "--emit-sql",
            engine,
        ]);
        assert_eq!(code, 0, "{engine}: {err}");
        assert!(sql.contains(&format!("'{root}'")), "{engine}: root prefix");
        assert!(
            sql.contains("'2026-11-01T22:00:00.000000000Z'"),
            "{engine}: cutoff"
        );
        assert!(
            sql.contains("re-checks") || sql.contains("checks every row"),
            "{engine}"
        );
        assert!(
            err.contains("Exported"),
            "{engine}: summary on stderr: {err}"
        );
        if engine != "trino" {
            let text = sql
                .replace(&t.tmp.path().display().to_string(), "$TMP")
                .replace(env!("CARGO_PKG_VERSION"), "$VERSION");
            let golden =
                crate::common::repo().join(format!("tests/golden/refs-export.{engine}.sql"));
            if std::env::var_os("UPDATE_GENERATED").is_some() {
                std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
                std::fs::write(&golden, &text).unwrap();
            }
            let want = std::fs::read_to_string(&golden).unwrap_or_default();
            assert_eq!(
                text,
                want,
                "the {engine} SQL differs from {} (UPDATE_GENERATED=1 rewrites it)",
                golden.display()
            );
        }
    }
    // --emit-sql needs an inventory.
    let (code, _, err) = t.export(&["--out", "x.csv", "--emit-sql", "flink"]);
    assert_eq!(code, 64, "{err}");
}

/// Asserts `sql` (with the temporary directory and version replaced) is
/// the golden file `tests/golden/refs-export.{name}.sql`.
fn pin_golden(t: &Tree, name: &str, sql: &str) {
    let tmp = t.tmp.path().display().to_string();
    let text = sql
        .replace(&tmp, "$TMP")
        // Flink's path pattern holds it regex-escaped.
        .replace(&tmp.replace('.', "[.]"), "$TMP")
        .replace(env!("CARGO_PKG_VERSION"), "$VERSION");
    let golden = crate::common::repo().join(format!("tests/golden/refs-export.{name}.sql"));
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        std::fs::write(&golden, &text).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap_or_default();
    assert_eq!(
        text,
        want,
        "the SQL differs from {} (UPDATE_GENERATED=1 rewrites it)",
        golden.display()
    );
}

/// The reports beyond CSV/oiv/S3 CSV: S3 Inventory in Parquet, the
/// generic Parquet file, GCS and Azure reports in CSV and Parquet, each
/// mapped onto the tree as tests/inventory.rs maps them. Spark scripts of
/// every kind and Flink scripts of the GCS and Azure CSV reports (all run
/// on a real engine by benches/engine-sql.sh) are pinned; Parquet reports
/// are refused for Flink and Trino, with the reason.
#[test]
fn emitted_sql_for_object_store_and_parquet_reports() {
    let t = Tree::new();
    let taken: jiff::Timestamp = TAKEN.parse().unwrap();
    let rows = walk_rows(&t.ck);
    let keys: Vec<InvRow> = rows
        .iter()
        .map(|r| InvRow {
            path: r.path.trim_start_matches('/').to_owned(),
            ..r.clone()
        })
        .collect();
    let base = t.tmp.path();
    let dest = Destination {
        bucket: "inventory-destination",
        prefix: "inventory",
    };
    let parquet = base.join("inventory.parquet");
    write_parquet(&rows, &parquet);
    let ck = t.ck.display().to_string();
    let rebase = |from: &str| format!("{from}{ck}={ck}");
    let azure_from = "wasbs://fixture-container@fixtureacct.blob.core.windows.net";
    let cases: Vec<(&str, PathBuf, Vec<String>)> = vec![
        (
            "s3-parquet",
            write_s3_parquet(&keys, "fixture-bucket", taken, &base.join("inv"), &dest, 3),
            vec!["--rebase".into(), rebase("s3://fixture-bucket")],
        ),
        (
            "parquet",
            parquet,
            vec!["--inventory-time".into(), TAKEN.into()],
        ),
        (
            "gcs",
            write_gcs(&keys, "fixture-bucket", taken, &base.join("gcs"), 3, false),
            vec!["--rebase".into(), rebase("gs://fixture-bucket")],
        ),
        (
            "gcs-parquet",
            write_gcs(&keys, "fixture-bucket", taken, &base.join("gcs"), 2, true),
            vec!["--rebase".into(), rebase("gs://fixture-bucket")],
        ),
        (
            "azure",
            write_azure(
                &keys,
                "fixtureacct",
                "fixture-container",
                taken,
                &base.join("azure"),
                false,
            ),
            vec!["--rebase".into(), rebase(azure_from)],
        ),
        (
            "azure-parquet",
            write_azure(
                &keys,
                "fixtureacct",
                "fixture-container",
                taken,
                &base.join("azure"),
                true,
            ),
            vec!["--rebase".into(), rebase(azure_from)],
        ),
    ];
    let root = format!("{ck}/");
    for (kind, source, extra) in &cases {
        let is_parquet = kind.contains("parquet");
        for engine in ["flink", "spark", "trino"] {
            let refs = t.path(&format!("refs-{kind}-{engine}.csv"));
            let mut args: Vec<&str> = vec![
                "--out",
                refs.to_str().unwrap(),
                "--inventory",
                source.to_str().unwrap(),
                "--max-inventory-age",
                "36500d",
                "--min-age",
                "2h",
                "--emit-sql",
                engine,
            ];
            args.extend(extra.iter().map(String::as_str));
            let (code, sql, err) = t.export(&args);
            if is_parquet && engine != "spark" {
                assert_ne!(code, 0, "{kind} {engine}: refused");
                assert!(err.contains("for spark only"), "{kind} {engine}: {err}");
                assert!(sql.is_empty(), "{kind} {engine}");
                continue;
            }
            assert_eq!(code, 0, "{kind} {engine}: {err}");
            assert!(sql.contains(&format!("'{root}'")), "{kind} {engine}: root");
            assert!(
                sql.contains("'2026-11-01T22:00:00.000000000Z'"),
                "{kind} {engine}: cutoff"
            );
            if engine == "spark" || (engine == "flink" && !is_parquet) {
                pin_golden(&t, &format!("{kind}.{engine}"), &sql);
            }
        }
    }
}

/// An unreadable kept `_metadata` fails the export: exit 3, nothing at
/// --out, no partial file left.
#[test]
fn unreadable_kept_metadata_writes_nothing() {
    let t = Tree::new();
    let job = crate::common::job_dir(&t.ck);
    let newest = crate::common::newest_checkpoint_in(&job);
    let m = newest.join("_metadata");
    let bytes = std::fs::read(&m).unwrap();
    std::fs::write(&m, &bytes[..bytes.len() / 2]).unwrap();
    for name in ["refs.parquet", "refs.csv"] {
        let out = t.path(name);
        let (code, stdout, err) = t.export(&["--out", out.to_str().unwrap(), "--json"]);
        assert_eq!(code, 3, "{err}");
        assert!(err.contains("_metadata"), "{err}");
        assert!(err.contains("nothing written"), "{err}");
        assert!(stdout.is_empty());
        assert!(!out.exists());
        assert!(!t.path(&format!("{name}.partial")).exists());
    }
}
