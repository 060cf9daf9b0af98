//! `safe-to-delete --inventory`: plans from S3 Inventory, `hdfs oiv` and
//! CSV reports (written by the labelled test-side writers in
//! `common::inventory`) against the live plan, staleness, and every
//! refusal.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::inventory::{
    Destination, Row, set_minute_times, walk_rows, write_azure, write_csv, write_gcs, write_oiv,
    write_parquet, write_s3, write_s3_parquet,
};
use crate::common::{copy_tree, flink_chk, scenario, walk};

/// A fixture copy with minute-resolution times, and its reports.
struct Tree {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    ck: PathBuf,
    generated: String,
    /// When the reports say they were taken.
    time: jiff::Timestamp,
}

impl Tree {
    fn new(version: &str, name: &str) -> Tree {
        let (src, generated) = scenario(version, name);
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(name);
        copy_tree(&src, &dir);
        let now = jiff::Timestamp::now();
        let t0 = (now - jiff::SignedDuration::from_hours(72))
            .round(jiff::Unit::Minute)
            .unwrap();
        set_minute_times(&dir, t0);
        Tree {
            ck: dir.join("checkpoints"),
            dir,
            generated,
            _tmp: tmp,
            time: (now - jiff::SignedDuration::from_hours(24))
                .round(jiff::Unit::Second)
                .unwrap(),
        }
    }

    fn rows(&self) -> Vec<Row> {
        walk_rows(&self.ck)
    }

    fn rebase(&self) -> String {
        format!("file:{}={}", self.generated, self.dir.display())
    }

    /// Every report of the tree as it is now: (name, source, arguments).
    /// The name is the plan's inventory kind, with `-parquet` for the
    /// Parquet twin of a kind.
    fn reports(&self) -> Vec<(&'static str, PathBuf, Vec<String>)> {
        let rows = self.rows();
        let base = self._tmp.path();
        let csv = base.join("inventory.csv");
        write_csv(&rows, &csv);
        let oiv = base.join("fsimage.tsv");
        write_oiv(&rows, &oiv);
        let keys: Vec<Row> = rows
            .iter()
            .map(|r| Row {
                path: r.path.trim_start_matches('/').to_owned(),
                ..r.clone()
            })
            .collect();
        let dest = Destination {
            bucket: "inventory-destination",
            prefix: "inventory",
        };
        let s3 = write_s3(
            &keys,
            "fixture-bucket",
            self.time,
            &base.join("inventory"),
            &dest,
            3,
        );
        let s3_parquet = write_s3_parquet(
            &keys,
            "fixture-bucket",
            self.time,
            &base.join("inventory"),
            &dest,
            3,
        );
        let parquet = base.join("inventory.parquet");
        write_parquet(&rows, &parquet);
        let gcs = write_gcs(
            &keys,
            "fixture-bucket",
            self.time,
            &base.join("gcs"),
            3,
            false,
        );
        let gcs_parquet = write_gcs(
            &keys,
            "fixture-bucket",
            self.time,
            &base.join("gcs"),
            2,
            true,
        );
        let azure = |parquet| {
            write_azure(
                &keys,
                "fixtureacct",
                "fixture-container",
                self.time,
                &base.join("azure"),
                parquet,
            )
        };
        let when = vec!["--inventory-time".to_owned(), self.time.to_string()];
        let rebase = |from: &str| {
            vec![
                "--rebase".to_owned(),
                format!("{from}{}={}", self.ck.display(), self.ck.display()),
            ]
        };
        let s3_rebase = rebase("s3://fixture-bucket");
        let gcs_rebase = rebase("gs://fixture-bucket");
        let azure_rebase = rebase("wasbs://fixture-container@fixtureacct.blob.core.windows.net");
        vec![
            ("csv", csv, when.clone()),
            ("oiv", oiv, when.clone()),
            ("s3", s3, s3_rebase.clone()),
            ("s3-parquet", s3_parquet, s3_rebase),
            ("parquet", parquet, when),
            ("gcs", gcs, gcs_rebase.clone()),
            ("gcs-parquet", gcs_parquet, gcs_rebase),
            ("azure", azure(false), azure_rebase.clone()),
            ("azure-parquet", azure(true), azure_rebase),
        ]
    }

    fn plan(&self, extra: &[String]) -> (i32, serde_json::Value, String) {
        self.plan_at(&self.ck, extra)
    }

    /// A plan of `target` (the root or one job directory).
    fn plan_at(&self, target: &Path, extra: &[String]) -> (i32, serde_json::Value, String) {
        let out = flink_chk()
            .args(["safe-to-delete", "--keep-last", "1", "--min-age", "0s"])
            .args(["--dry-run", "--json", "--rebase", &self.rebase()])
            .args(extra)
            .arg(target)
            .output()
            .unwrap();
        let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        (
            out.status.code().unwrap(),
            json,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// What a plan decides, file by file: each file a candidate (a directory
/// candidate stands for every file under it now; a plan from an inventory
/// lists files one by one, since it cannot see a directory whole) with its
/// reason, and the kept groups.
fn decided(plan: &serde_json::Value) -> (Vec<String>, Vec<String>) {
    let mut files = Vec::new();
    for c in plan["candidates"].as_array().unwrap() {
        let path = c["path"].as_str().unwrap();
        if c["is_dir"].as_bool().unwrap() {
            for f in walk(Path::new(path)) {
                files.push(format!("{} {}", f.display(), c["reason"]));
            }
        } else {
            files.push(format!("{path} {}", c["reason"]));
        }
    }
    files.sort();
    let mut kept: Vec<String> = plan["kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            format!(
                "{} {} {} {}",
                k["path"], k["reason"], k["files"], k["bytes"]
            )
        })
        .collect();
    kept.sort();
    (files, kept)
}

/// For every committed fixture tree, each report format gives exactly the
/// candidates (and kept groups) of the live plan, whether the jobs are
/// stated stopped or may be running.
#[test]
fn every_format_gives_the_live_plan_on_every_fixture() {
    let mut checked = 0;
    let mut candidates = 0;
    for (version, name) in crate::common::checkpoint_trees() {
        let t = Tree::new(&version, &name);
        let reports = t.reports();
        for stopped in [true, false] {
            let policy: Vec<String> = if stopped {
                vec!["--stopped".into()]
            } else {
                vec![]
            };
            let (code, live, err) = t.plan(&policy);
            assert_eq!(code, 0, "{version}/{name} live: {err}");
            let want = decided(&live);
            candidates += want.0.len();
            for (kind, report, extra) in &reports {
                let mut args = policy.clone();
                args.push("--inventory".into());
                args.push(report.display().to_string());
                args.extend(extra.iter().cloned());
                let (code, got, err) = t.plan(&args);
                assert_eq!(code, 0, "{version}/{name} {kind}: {err}");
                assert_eq!(
                    decided(&got),
                    want,
                    "{version}/{name} {kind} stopped={stopped}: the inventory plan differs from the live plan"
                );
                let rows = &got["totals"]["inventory_rows"];
                assert_eq!(
                    rows["in_scope"], live["totals"]["files_listed"],
                    "{version}/{name} {kind}"
                );
                let want_kind = match *kind {
                    "oiv" => "hdfs-oiv",
                    "parquet" => "parquet",
                    k => k.trim_end_matches("-parquet"),
                };
                assert_eq!(got["policy"]["inventory"]["kind"], want_kind, "{kind}");
            }
        }
        checked += 1;
    }
    assert!(checked >= 25, "only {checked} fixture trees");
    assert!(candidates > 500, "only {candidates} candidates compared");
    eprintln!(
        "{checked} trees × {} formats × 2 policies; {candidates} candidates each",
        Tree::new("2.3", "rocksdb-incremental").reports().len()
    );
}

/// JSON names of an inventory plan (stable).
#[test]
fn plan_json_names_the_inventory() {
    let t = Tree::new("2.3", "rocksdb-incremental");
    let (_, csv, extra) = t.reports().remove(0);
    let mut args = vec!["--inventory".to_owned(), csv.display().to_string()];
    args.extend(extra);
    let (code, p, err) = t.plan(&args);
    assert_eq!(code, 0, "{err}");
    let inv = &p["policy"]["inventory"];
    assert_eq!(inv["kind"], "csv");
    assert_eq!(inv["source"], csv.display().to_string());
    assert_eq!(inv["time"], t.time.to_string());
    assert_eq!(inv["time_from"], "given");
    assert_eq!(inv["data_files"], 1);
    let rows = &p["totals"]["inventory_rows"];
    for f in ["rows", "in_scope", "skipped", "outside", "unread"] {
        assert!(rows[f].is_u64(), "{f}");
    }
    assert_eq!(rows["rows"], rows["in_scope"]);
    // Ages count from the inventory's time.
    assert_eq!(p["policy"]["planned_at"], t.time.to_string());
}

/// Parquet row groups whose key statistics lie wholly outside the root
/// are skipped unread, and the plan is still the live plan's: an S3
/// Parquet report (test-side writer, 1000 rows a row group) of the tree
/// between thousands of other keys of the bucket, in key order, one of them
/// a sibling directory sharing the root's name as a string prefix.
#[test]
fn parquet_row_groups_outside_the_root_are_skipped_unread() {
    let t = Tree::new("2.3", "rocksdb-incremental");
    let (code, live, err) = t.plan(&[]);
    assert_eq!(code, 0, "{err}");
    let ck = t.ck.display().to_string();
    let ck = ck.trim_start_matches('/');
    let row = |path: String| Row {
        path,
        size: 10,
        modified: t.time - jiff::SignedDuration::from_hours(1),
        is_dir: false,
    };
    let mut keys: Vec<Row> = t
        .rows()
        .into_iter()
        .map(|r| Row {
            path: r.path.trim_start_matches('/').to_owned(),
            ..r
        })
        .collect();
    let tree_files = keys.iter().filter(|r| !r.is_dir).count() as u64;
    keys.extend((0..3000).map(|i| row(format!("aaa-logs/app-{i:05}.log"))));
    keys.extend((0..2500).map(|i| row(format!("{ck}-old/{i:05}/part"))));
    keys.extend((0..3000).map(|i| row(format!("zzz/dt=2026-12-01/part-{i:05}"))));
    keys.sort_by(|a, b| a.path.cmp(&b.path));
    let dest = Destination {
        bucket: "inventory-destination",
        prefix: "inventory",
    };
    let report = write_s3_parquet(
        &keys,
        "fixture-bucket",
        t.time,
        &t._tmp.path().join("inventory"),
        &dest,
        1,
    );
    let (code, got, err) = t.plan(&[
        "--inventory".to_owned(),
        report.display().to_string(),
        "--rebase".to_owned(),
        format!("s3://fixture-bucket{}={}", t.ck.display(), t.ck.display()),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        decided(&got),
        decided(&live),
        "the plan differs from the live plan"
    );
    let rows = &got["totals"]["inventory_rows"];
    assert_eq!(rows["in_scope"], tree_files);
    // The writer adds a noncurrent version, a delete marker and a `…/`
    // placeholder to the shard.
    assert_eq!(rows["rows"], tree_files + 8500 + 3);
    let unread = rows["unread"].as_u64().unwrap();
    let outside = rows["outside"].as_u64().unwrap();
    // Every row group but those holding a row of the tree (at most two
    // straddle its edges) is skipped.
    assert!(unread >= 8500 - 2000, "only {unread} rows unread");
    assert!(unread <= outside, "{unread} unread, {outside} outside");
}

/// Files written after the inventory are never candidates; files deleted
/// after it are skipped when applying, and the rest goes as planned.
#[test]
fn files_newer_or_deleted_since_the_inventory() {
    let t = Tree::new("2.3", "rocksdb-incremental");
    let reports = t.reports();
    let (_, csv, extra) = &reports[0];
    let job = crate::common::job_dir(&t.ck);
    // Written after the report (old time, as a copy would have).
    let late = job.join("shared/written-after-the-inventory");
    std::fs::write(&late, b"x").unwrap();
    let f = std::fs::File::options().write(true).open(&late).unwrap();
    f.set_modified(std::time::SystemTime::from(
        t.time - jiff::SignedDuration::from_hours(30),
    ))
    .unwrap();
    let (_, live, _) = t.plan(&["--stopped".into()]);
    let live_paths: BTreeSet<String> = paths(&live);
    assert!(
        live_paths.contains(&late.display().to_string()),
        "the live plan sees it"
    );
    let mut args = vec![
        "--stopped".to_owned(),
        "--inventory".into(),
        csv.display().to_string(),
    ];
    args.extend(extra.iter().cloned());
    let (code, p, err) = t.plan(&args);
    assert_eq!(code, 0, "{err}");
    let planned = paths(&p);
    assert!(
        !planned.contains(&late.display().to_string()),
        "not in the report, not a candidate"
    );
    // Deleted after the report: planned, then skipped.
    let gone = planned
        .iter()
        .find(|c| c.contains("/shared/"))
        .expect("an orphaned shared file")
        .clone();
    std::fs::remove_file(&gone).unwrap();
    let before: BTreeSet<PathBuf> = walk(&t.dir).into_iter().collect();
    let out = flink_chk()
        .args([
            "safe-to-delete",
            "--keep-last",
            "1",
            "--min-age",
            "0s",
            "--yes",
            "--json",
        ])
        .args(["--rebase", &t.rebase()])
        .args(&args)
        .arg("--log")
        .arg(t.dir.join("deletions.log"))
        .arg(&t.ck)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dropped: Vec<&serde_json::Value> =
        j["applied"]["dropped"].as_array().unwrap().iter().collect();
    assert!(
        dropped
            .iter()
            .any(|d| d["path"] == gone.as_str() && d["detail"]["kind"] == "gone"),
        "{dropped:?}"
    );
    let after: BTreeSet<PathBuf> = walk(&t.dir).into_iter().collect();
    assert!(after.contains(&late), "the late file is still there");
    let deleted = before.difference(&after).count() as u64;
    assert_eq!(deleted, j["applied"]["deleted_files"].as_u64().unwrap());
    assert_eq!(
        deleted + 1,
        p["totals"]["candidate_files"].as_u64().unwrap()
    );
    // What is kept still verifies.
    let newest = crate::common::newest_checkpoint_in(&job);
    let v = flink_chk()
        .args(["deps", "--verify", "--rebase", &t.rebase()])
        .arg(&newest)
        .output()
        .unwrap();
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
}

fn paths(plan: &serde_json::Value) -> BTreeSet<String> {
    plan["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap().to_owned())
        .collect()
}

fn refused(t: &Tree, args: &[String], want: &str) {
    let (code, p, err) = t.plan(args);
    assert_eq!(code, 3, "{args:?}: {err}");
    assert!(err.contains(want), "{args:?}: {err}");
    assert!(p.is_null(), "no plan printed");
}

/// Every way a report is refused: too old, from the future, damaged or
/// incomplete, rows newer than its time, another store.
#[test]
fn bad_reports_are_refused() {
    let t = Tree::new("2.3", "rocksdb-incremental");
    let reports = t.reports();
    let (_, csv, _) = &reports[0];
    let (_, s3, s3_rebase) = &reports[2];
    let inv = |p: &Path, more: &[&str]| -> Vec<String> {
        let mut v = vec!["--inventory".to_owned(), p.display().to_string()];
        v.extend(more.iter().map(|s| s.to_string()));
        v
    };
    // Too old (default 7 days), and from the future.
    let old = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 8)).to_string();
    let future = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)).to_string();
    refused(
        &t,
        &inv(csv, &["--inventory-time", &old]),
        "more than --max-inventory-age 7d",
    );
    refused(
        &t,
        &inv(csv, &["--inventory-time", &future]),
        "in the future",
    );
    // A time earlier than its rows.
    let early = (t.time - jiff::SignedDuration::from_hours(200)).to_string();
    refused(
        &t,
        &inv(
            csv,
            &["--inventory-time", &early, "--max-inventory-age", "30d"],
        ),
        "after the inventory's time",
    );
    // A CSV cut short in a line.
    let cut = t.dir.join("cut.csv");
    let text = std::fs::read(csv).unwrap();
    std::fs::write(&cut, &text[..text.len() - 7]).unwrap();
    let when = t.time.to_string();
    refused(&t, &inv(&cut, &["--inventory-time", &when]), "truncated");
    // Not an inventory.
    let other = t.dir.join("other.csv");
    std::fs::write(&other, "name,bytes\nx,1\n").unwrap();
    refused(
        &t,
        &inv(&other, &["--inventory-time", &when]),
        "not an inventory flink-chk reads",
    );
    // Rows of another store than the root, with the --rebase to give.
    let foreign = t.dir.join("foreign.csv");
    let text = std::fs::read_to_string(csv).unwrap();
    std::fs::write(
        &foreign,
        text.replace(
            &format!("{}/", t.ck.display()),
            &format!("hdfs://nn1:8020{}/", t.ck.display()),
        ),
    )
    .unwrap();
    refused(
        &t,
        &inv(&foreign, &["--inventory-time", &when]),
        &format!(
            "--rebase hdfs://nn1:8020{}={}",
            t.ck.display(),
            t.ck.display()
        ),
    );
    // S3: the bucket is not the root's.
    refused(&t, &inv(s3, &[]), "the inventory lists s3://fixture-bucket");
    let with = |more: &[&str]| {
        let mut v = inv(s3, more);
        v.extend(s3_rebase.iter().cloned());
        v
    };
    // S3: a damaged manifest, a missing checksum, a damaged data file.
    let manifest = std::fs::read_to_string(s3).unwrap();
    std::fs::write(s3, manifest.replace("2016-11-30", "2016-11-31")).unwrap();
    refused(&t, &with(&[]), "the MD5 is");
    std::fs::write(s3, &manifest).unwrap();
    let checksum = s3.with_file_name("manifest.checksum");
    let sum = std::fs::read(&checksum).unwrap();
    std::fs::remove_file(&checksum).unwrap();
    refused(&t, &with(&[]), "manifest.checksum");
    std::fs::write(&checksum, &sum).unwrap();
    let data = walk(&s3.parent().unwrap().parent().unwrap().join("data"));
    let bytes = std::fs::read(&data[0]).unwrap();
    std::fs::write(&data[0], &bytes[..bytes.len() / 2]).unwrap();
    refused(&t, &with(&[]), "incomplete or damaged");
    std::fs::write(&data[0], &bytes).unwrap();
    let (code, _, err) = t.plan(&with(&[]));
    assert_eq!(code, 0, "mended: {err}");
}

/// Kept snapshots that reference nothing while shared files would go: the
/// reference set is suspect and nothing is planned (Paimon's empty used-set
/// incident). The `_metadata` is a real one from the shared corpus that
/// references no file.
#[test]
fn an_empty_reference_set_aborts() {
    let Some(corpus) = crate::common::corpus() else {
        eprintln!("skipped: ../shared/flink-corpus is absent");
        return;
    };
    let empty = corpus
        .join("table-restore__stream-exec-process-table-function_1__to-changelog-upsert-restore/_metadata");
    if !empty.is_file() {
        eprintln!("skipped: {} is absent", empty.display());
        return;
    }
    let t = Tree::new("2.3", "rocksdb-incremental");
    let job = crate::common::job_dir(&t.ck);
    let newest = crate::common::newest_checkpoint_in(&job);
    let m = newest.join("_metadata");
    let time = std::fs::metadata(&m).unwrap().modified().unwrap();
    std::fs::copy(&empty, &m).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&m)
        .unwrap()
        .set_modified(time)
        .unwrap();
    let (_, csv, extra) = t.reports().remove(0);
    let mut args = vec![
        "--stopped".to_owned(),
        "--inventory".into(),
        csv.display().to_string(),
    ];
    args.extend(extra);
    refused(&t, &args, "no kept snapshot references any file");
}

/// A copy of an old checkpoint's `_metadata` outside Flink's layout (a
/// backup folder) is seen only in the report's rows: it is read, and what
/// it references is kept, exactly as the live plan keeps it.
/// A copy of the job's oldest checkpoint at `to` (its exclusive files are
/// relative to it), with the times the tree has.
fn copy_oldest_checkpoint(t: &Tree, to: &Path) -> PathBuf {
    let job = crate::common::job_dir(&t.ck);
    let mut chks: Vec<(u64, PathBuf)> = crate::common::find_metadata(&job)
        .into_iter()
        .filter_map(|m| {
            let d = m.parent()?.to_path_buf();
            let n = d
                .file_name()?
                .to_str()?
                .strip_prefix("chk-")?
                .parse()
                .ok()?;
            Some((n, d))
        })
        .collect();
    chks.sort();
    let (_, oldest) = chks.first().unwrap();
    for f in walk(oldest) {
        let dest = to.join(f.strip_prefix(oldest).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dest).unwrap();
        let t = std::fs::metadata(&f).unwrap().modified().unwrap();
        std::fs::File::options()
            .write(true)
            .open(&dest)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }
    oldest.clone()
}

#[test]
fn a_metadata_copy_outside_the_layout_keeps_its_files() {
    let t = Tree::new("2.3", "rocksdb-incremental");
    let backup = t.ck.join("my-backups/chk-old");
    copy_oldest_checkpoint(&t, &backup);
    let reports = t.reports();
    let (_, csv, extra) = &reports[0];
    let (code, live, err) = t.plan(&["--stopped".into()]);
    assert_eq!(code, 0, "{err}");
    let mut args = vec![
        "--stopped".to_owned(),
        "--inventory".into(),
        csv.display().to_string(),
    ];
    args.extend(extra.iter().cloned());
    let (code, got, err) = t.plan(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(decided(&got), decided(&live));
    // Without the copy the same report would plan more: the copy protects files.
    std::fs::remove_file(backup.join("_metadata")).unwrap();
    let (code, without, err) = t.plan(&args);
    assert_eq!(code, 0, "{err}");
    assert!(
        without["totals"]["candidate_files"].as_u64().unwrap()
            > got["totals"]["candidate_files"].as_u64().unwrap(),
        "the copy's references were kept: {} vs {}",
        without["totals"]["candidate_files"],
        got["totals"]["candidate_files"]
    );
    assert_eq!(
        got["totals"]["snapshots_read"].as_u64().unwrap(),
        live["totals"]["snapshots_read"].as_u64().unwrap()
    );
}

/// `ls ROOT --inventory` shows what the live `ls` shows (jobs, checkpoints,
/// sizes), from each report format, plus the report it came from.
#[test]
fn ls_from_a_report_is_the_live_ls() {
    let t = Tree::new("2.3", "rocksdb-incremental");
    let ls = |extra: &[String]| -> serde_json::Value {
        let out = flink_chk()
            .args(["ls", "--json"])
            .args(extra)
            .arg(&t.ck)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let live = ls(&[]);
    assert!(live.get("inventory").is_none());
    for (kind, report, extra) in t.reports() {
        if !matches!(kind, "csv" | "oiv" | "parquet") {
            continue; // its rows name a bucket: a root of that bucket only
        }
        let mut args = vec!["--inventory".to_owned(), report.display().to_string()];
        args.extend(extra);
        let mut got = ls(&args);
        let inv = got.as_object_mut().unwrap().remove("inventory").unwrap();
        assert_eq!(inv["source"], report.display().to_string(), "{kind}");
        let mut want = live.clone();
        for j in [&mut got, &mut want] {
            for job in j["jobs"].as_array_mut().unwrap() {
                let job = job.as_object_mut().unwrap();
                // Counted from when each ls ran: the two runs may straddle a second.
                job.remove("age_seconds");
                if kind == "oiv" {
                    // oiv keeps minutes: its times are the end of their minute.
                    job.remove("newest_file_time");
                    job["latest"].as_object_mut().unwrap().remove("time");
                }
            }
        }
        assert_eq!(
            got, want,
            "{kind}: ls from the report differs from the live ls"
        );
    }
}

/// `--apply-candidates`: an engine's rows are planned again before anything
/// is deleted. The hostile engine here skipped the anti-join and returned
/// every file under the root (kept `_metadata`, referenced shared files,
/// in-progress checkpoints and all): what is deleted is still exactly the
/// live plan's candidates, a row deleted since is skipped, and the kept
/// snapshot still verifies.
#[test]
fn engine_rows_are_planned_again_before_deleting() {
    let t = Tree::new("2.3", "rocksdb-incremental");
    let policy = vec!["--stopped".to_owned()];
    let (code, live, err) = t.plan(&policy);
    assert_eq!(code, 0, "{err}");
    let (want, _) = decided(&live);
    assert!(want.len() > 10, "{want:?}");
    let rows = t.rows();
    let engine = t._tmp.path().join("candidates.csv");
    write_csv(&rows, &engine);
    let files = rows.iter().filter(|r| !r.is_dir).count();
    assert!(
        files > want.len() + 10,
        "the engine returned kept files too"
    );
    // An S3 manifest is not an engine's rows.
    let s3 = t.reports().pop().unwrap().1;
    refused(
        &t,
        &["--apply-candidates".into(), s3.display().to_string()],
        "not an engine's candidate rows",
    );
    let mut args = policy.clone();
    args.extend([
        "--apply-candidates".to_owned(),
        engine.display().to_string(),
        "--inventory-time".into(),
        t.time.to_string(),
    ]);
    // Planned again: the live plan's candidates, file by file.
    let (code, p, err) = t.plan(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(decided(&p).0, want, "the engine's rows planned again");
    // One candidate goes away before the apply.
    let gone = paths(&p)
        .into_iter()
        .find(|c| c.contains("/shared/"))
        .expect("an orphaned shared file");
    std::fs::remove_file(&gone).unwrap();
    let before: BTreeSet<PathBuf> = walk(&t.dir).into_iter().collect();
    let out = flink_chk()
        .args(["safe-to-delete", "--keep-last", "1", "--min-age", "0s"])
        .args(["--yes", "--json", "--rebase", &t.rebase()])
        .args(&args)
        .arg("--log")
        .arg(t.dir.join("deletions.log"))
        .arg(&t.ck)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after: BTreeSet<PathBuf> = walk(&t.dir).into_iter().collect();
    let mut deleted: Vec<String> = before
        .difference(&after)
        .map(|p| p.display().to_string())
        .collect();
    deleted.sort();
    let mut expected: Vec<String> = want
        .iter()
        .map(|w| w.split(' ').next().unwrap().to_owned())
        .filter(|p| *p != gone)
        .collect();
    expected.sort();
    assert_eq!(deleted, expected);
    let job = crate::common::job_dir(&t.ck);
    let newest = crate::common::newest_checkpoint_in(&job);
    let v = flink_chk()
        .args(["deps", "--verify", "--rebase", &t.rebase()])
        .arg(&newest)
        .output()
        .unwrap();
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
}

/// `why FILE --inventory`: the same snapshots as the live `why` (a
/// `_metadata` copy outside the layout found through the report), and a
/// checkpoint completed after the report is found too (its directory
/// level is listed live).
#[test]
fn why_from_a_report_is_the_live_why() {
    let t = Tree::new("2.3", "rocksdb-incremental");
    let backup = t.ck.join("my-backups/chk-old");
    let oldest = copy_oldest_checkpoint(&t, &backup);
    let reports = t.reports();
    // A file the oldest checkpoint (and so its copy) references.
    let deps = flink_chk()
        .args(["deps", "--json", "--rebase", &t.rebase()])
        .arg(&oldest)
        .output()
        .unwrap();
    let deps: serde_json::Value = serde_json::from_slice(&deps.stdout).unwrap();
    let target = deps.to_string();
    let target = target
        .split('"')
        .find(|s| s.contains("/shared/"))
        .expect("a shared file")
        .to_owned();
    let why = |extra: &[String]| -> serde_json::Value {
        let out = flink_chk()
            .args(["why", "--json", "--rebase", &t.rebase(), "--in"])
            .arg(&t.ck)
            .args(extra)
            .arg(&target)
            .output()
            .unwrap();
        assert!(
            out.status.code() == Some(0) || out.status.code() == Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let live = why(&[]);
    assert_eq!(live["verdict"], "referenced");
    let snapshots = |v: &serde_json::Value| -> Vec<String> {
        let mut s: Vec<String> = v["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect();
        s.sort();
        s
    };
    assert!(
        snapshots(&live).iter().any(|s| s.contains("my-backups")),
        "{live}"
    );
    for (kind, report, extra) in &reports {
        let mut args = vec!["--inventory".to_owned(), report.display().to_string()];
        args.extend(extra.iter().cloned());
        let got = why(&args);
        assert_eq!(got["verdict"], live["verdict"], "{kind}");
        assert_eq!(snapshots(&got), snapshots(&live), "{kind}");
        assert_eq!(got["snapshots_read"], live["snapshots_read"], "{kind}");
    }
    // A checkpoint completed after the reports: found live.
    let job = oldest.parent().unwrap();
    let newest = crate::common::newest_checkpoint_in(job);
    let later = job.join("chk-99");
    std::fs::create_dir_all(&later).unwrap();
    std::fs::copy(newest.join("_metadata"), later.join("_metadata")).unwrap();
    let live = why(&[]);
    let (_, csv, extra) = &reports[0];
    let mut args = vec!["--inventory".to_owned(), csv.display().to_string()];
    args.extend(extra.iter().cloned());
    let got = why(&args);
    assert_eq!(snapshots(&got), snapshots(&live));
    assert_eq!(got["snapshots_read"], live["snapshots_read"]);
}

/// Planning one job from a report: a `_metadata` copy elsewhere under the
/// root (outside the job) still protects the job's files it references, as
/// in the live plan of that job.
#[test]
fn a_metadata_copy_outside_a_job_scope_keeps_its_files() {
    let t = Tree::new("2.3", "rocksdb-incremental");
    let backup = t.ck.join("my-backups/chk-old");
    let oldest = copy_oldest_checkpoint(&t, &backup);
    let job = oldest.parent().unwrap().to_path_buf();
    let reports = t.reports();
    let policy = vec!["--stopped".to_owned()];
    let (code, live, err) = t.plan_at(&job, &policy);
    assert_eq!(code, 0, "{err}");
    for (kind, report, extra) in &reports {
        let mut args = policy.clone();
        args.extend(["--inventory".to_owned(), report.display().to_string()]);
        args.extend(extra.iter().cloned());
        let (code, got, err) = t.plan_at(&job, &args);
        assert_eq!(code, 0, "{kind}: {err}");
        assert_eq!(decided(&got), decided(&live), "{kind}");
        if *kind == "csv" {
            std::fs::rename(backup.join("_metadata"), backup.join("gone")).unwrap();
            let (_, without, _) = t.plan_at(&job, &args);
            std::fs::rename(backup.join("gone"), backup.join("_metadata")).unwrap();
            assert!(
                without["totals"]["candidate_files"].as_u64().unwrap()
                    > got["totals"]["candidate_files"].as_u64().unwrap(),
                "the copy outside the job protects files in it"
            );
        }
    }
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest as _;
    md5::Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Rewrites a manifest through `edit`, and its checksum file (if any) to
/// match: the report stays self-consistent, so what is refused is the
/// edit.
fn edit_manifest(
    manifest: &Path,
    checksum: Option<&Path>,
    edit: impl FnOnce(&mut serde_json::Value),
) -> Vec<u8> {
    let before = std::fs::read(manifest).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&before).unwrap();
    edit(&mut v);
    let bytes = serde_json::to_vec_pretty(&v).unwrap();
    std::fs::write(manifest, &bytes).unwrap();
    if let Some(c) = checksum {
        std::fs::write(c, md5_hex(&bytes)).unwrap();
    }
    before
}

/// Puts a manifest (and its checksum) back.
fn restore(manifest: &Path, checksum: Option<&Path>, before: &[u8]) {
    std::fs::write(manifest, before).unwrap();
    if let Some(c) = checksum {
        std::fs::write(c, md5_hex(before)).unwrap();
    }
}

/// The Parquet, GCS and Azure reports refused: a data file whose MD5 or
/// size is not the manifest's, a data file cut short (its manifest entry
/// matching, so the decoder must notice), rows fewer than the manifest
/// counts, a shard missing, an Azure run that did not succeed or lacks its
/// checksum, ORC. Each refusal names the file and the field.
#[test]
fn bad_parquet_gcs_and_azure_reports_are_refused() {
    let t = Tree::new("2.3", "rocksdb-incremental");
    let reports = t.reports();
    let get = |name: &str| {
        let (_, p, extra) = reports.iter().find(|r| r.0 == name).unwrap();
        (p.clone(), extra.clone())
    };
    let args = |p: &Path, extra: &[String]| {
        let mut v = vec!["--inventory".to_owned(), p.display().to_string()];
        v.extend(extra.iter().cloned());
        v
    };
    for name in [
        "s3-parquet",
        "parquet",
        "gcs",
        "gcs-parquet",
        "azure",
        "azure-parquet",
    ] {
        let (p, extra) = get(name);
        let (code, _, err) = t.plan(&args(&p, &extra));
        assert_eq!(code, 0, "{name} as written: {err}");
    }

    // S3 Parquet: ORC is refused by its field; a data file with another
    // MD5; a data file cut short whose manifest entry matches it.
    let (s3, s3_extra) = get("s3-parquet");
    let s3_sum = s3.with_file_name("manifest.checksum");
    let before = edit_manifest(&s3, Some(&s3_sum), |v| v["fileFormat"] = "ORC".into());
    refused(&t, &args(&s3, &s3_extra), "field fileFormat: ORC");
    restore(&s3, Some(&s3_sum), &before);
    let data = s3.parent().unwrap().parent().unwrap().join("data");
    let shard = walk(&data)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    let whole = std::fs::read(&shard).unwrap();
    let mut flipped = whole.clone();
    flipped[whole.len() / 2] ^= 0xff;
    std::fs::write(&shard, &flipped).unwrap();
    refused(&t, &args(&s3, &s3_extra), "the MD5 is");
    let cut = &whole[..whole.len() - 100];
    std::fs::write(&shard, cut).unwrap();
    let shard_name = shard.file_name().unwrap().to_str().unwrap().to_owned();
    let before = edit_manifest(&s3, Some(&s3_sum), |v| {
        for f in v["files"].as_array_mut().unwrap() {
            if f["key"].as_str().unwrap().ends_with(&shard_name) {
                f["size"] = cut.len().into();
                f["MD5checksum"] = md5_hex(cut).into();
            }
        }
    });
    refused(
        &t,
        &args(&s3, &s3_extra),
        &format!("{shard_name}: not a readable Parquet file"),
    );
    restore(&s3, Some(&s3_sum), &before);
    std::fs::write(&shard, &whole).unwrap();

    // The generic Parquet file cut short.
    let (pq, pq_extra) = get("parquet");
    let whole = std::fs::read(&pq).unwrap();
    std::fs::write(&pq, &whole[..whole.len() / 2]).unwrap();
    refused(
        &t,
        &args(&pq, &pq_extra),
        "inventory.parquet: not a readable Parquet file",
    );
    std::fs::write(&pq, &whole).unwrap();

    // GCS: a shard missing; fewer rows than records_processed; a
    // shard_count that is not the list's.
    for name in ["gcs", "gcs-parquet"] {
        let (m, extra) = get(name);
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&m).unwrap()).unwrap();
        let first = v["report_shards_file_names"][0].as_str().unwrap();
        let shard = m.with_file_name(first.rsplit('/').next().unwrap());
        let kept = std::fs::read(&shard).unwrap();
        std::fs::remove_file(&shard).unwrap();
        refused(&t, &args(&m, &extra), "field report_shards_file_names[0]");
        std::fs::write(&shard, &kept).unwrap();
        let n = v["records_processed"].as_u64().unwrap();
        let before = edit_manifest(&m, None, |v| v["records_processed"] = (n + 1).into());
        refused(
            &t,
            &args(&m, &extra),
            &format!(
                "the number of rows in the data files is {n}, the manifest says {} (records_processed)",
                n + 1
            ),
        );
        restore(&m, None, &before);
        let before = edit_manifest(&m, None, |v| v["shard_count"] = 9.into());
        refused(&t, &args(&m, &extra), "field shard_count");
        restore(&m, None, &before);
    }

    // Azure: a run that did not succeed; a manifest whose checksum file is
    // missing or wrong; fewer rows than summary.objectCount; a data file
    // whose size is not the manifest's.
    for name in ["azure", "azure-parquet"] {
        let (m, extra) = get(name);
        let rule = m
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches("-manifest.json")
            .to_owned();
        let sum = m.with_file_name(format!("{rule}-manifest.checksum"));
        let before = edit_manifest(&m, Some(&sum), |v| {
            v["status"] = "PartiallySucceeded".into()
        });
        refused(
            &t,
            &args(&m, &extra),
            "field status: \"PartiallySucceeded\"",
        );
        restore(&m, Some(&sum), &before);
        std::fs::remove_file(&sum).unwrap();
        refused(
            &t,
            &args(&m, &extra),
            &format!("{rule}-manifest.checksum is missing"),
        );
        std::fs::write(&sum, "0123456789abcdef0123456789abcdef").unwrap();
        refused(&t, &args(&m, &extra), "the MD5 is");
        restore(&m, Some(&sum), &before);
        let v: serde_json::Value = serde_json::from_slice(&before).unwrap();
        let n = v["summary"]["objectCount"].as_u64().unwrap();
        let again = edit_manifest(&m, Some(&sum), |v| {
            v["summary"]["objectCount"] = (n + 5).into()
        });
        refused(&t, &args(&m, &extra), "(summary.objectCount)");
        restore(&m, Some(&sum), &again);
        let data = m.with_file_name(
            v["files"][0]["blob"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap(),
        );
        let whole = std::fs::read(&data).unwrap();
        std::fs::write(&data, &whole[..whole.len() - 1]).unwrap();
        refused(&t, &args(&m, &extra), "the size is");
        std::fs::write(&data, &whole).unwrap();
        let (code, _, err) = t.plan(&args(&m, &extra));
        assert_eq!(code, 0, "{name} mended: {err}");
    }
}
