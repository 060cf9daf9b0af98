//! `deps`, `ls` and `why` on the committed fixture trees (real Flink runs),
//! checked against Flink's own view of each snapshot (`_metadata.oracle.json`,
//! written by `Checkpoints.loadCheckpointMetadata` at generation time,
//! including whether each file existed and its actual size).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{
    copy_recorded_at, copy_tree, flink_chk, job_dir, repo, root_of_length, scenario, short_tempdir,
    truth, walk,
};

fn rebase(dir: &Path, generated: &str) -> String {
    format!("{generated}={}", dir.display())
}

fn json(args: &[&str]) -> (Value, i32) {
    let out = flink_chk().args(args).output().unwrap();
    let code = out.status.code().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: exit {code}: {e}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, code)
}

/// Every `_metadata` of every committed fixture.
fn all_fixture_snapshots() -> Vec<(PathBuf, PathBuf, String)> {
    let mut v = Vec::new();
    for version in ["1.19", "1.20", "2.0", "2.3"] {
        let base = repo().join(format!("tests/fixtures/flink/{version}"));
        let mut names: Vec<_> = std::fs::read_dir(&base)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let (dir, generated) = scenario(version, &name);
            for m in crate::common::find_metadata(&dir) {
                v.push((m, dir.clone(), generated.clone()));
            }
        }
    }
    v
}

#[test]
fn deps_matches_flinks_file_list_for_every_fixture() {
    let snaps = all_fixture_snapshots();
    assert!(snaps.len() >= 69, "{} fixtures", snaps.len());
    let mut files = 0;
    for (m, dir, generated) in &snaps {
        let t = truth(m);
        let (v, code) = json(&[
            "deps",
            m.to_str().unwrap(),
            "--verify",
            "--json",
            "--rebase",
            &rebase(dir, generated),
        ]);
        // Flink's distinct file paths, mapped into the fixture tree.
        let expected: BTreeSet<String> = t["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let p = f["path"].as_str().unwrap();
                let p = p.strip_prefix("file:").unwrap_or(p);
                p.replacen(generated.as_str(), &dir.display().to_string(), 1)
            })
            .collect();
        let got: BTreeSet<String> = v["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got, expected, "{}", m.display());
        files += got.len();
        // Flink found every file with its recorded size (DSTL files may have
        // grown after the handle was taken), so verify must pass.
        let all_there = t["files"].as_array().unwrap().iter().all(|f| {
            f["exists"] == true
                && (f["actual_size"] == f["size"]
                    || f["part"] == "changelog.dstl"
                    || !f["start_pos"].is_null())
        });
        assert!(all_there, "{}: oracle saw a problem", m.display());
        assert_eq!(v["verify"]["ok"], true, "{}: {}", m.display(), v["verify"]);
        assert_eq!(code, 0, "{}", m.display());
        assert_eq!(
            v["inline"]["handles"].as_u64().unwrap(),
            t["inline"].as_array().unwrap().len() as u64,
            "{}",
            m.display()
        );
    }
    eprintln!(
        "deps: {} snapshots, {files} distinct files, all verified",
        snaps.len()
    );
}

#[test]
fn verify_names_missing_and_truncated_files() {
    let (dir, generated) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&dir, tmp.path());
    let job = job_dir(&tmp.path().join("checkpoints"));
    let chk = job.join("chk-6");
    let t = truth(&chk.join("_metadata"));
    let shared: Vec<&str> = t["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["part"] == "shared")
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let name = |p: &str| p.rsplit('/').next().unwrap().to_owned();
    let gone = name(shared[0]);
    let cut = name(shared[1]);
    std::fs::remove_file(job.join("shared").join(&gone)).unwrap();
    std::fs::write(job.join("shared").join(&cut), b"short").unwrap();
    let rb = format!("{generated}={}", tmp.path().display());
    let out = flink_chk()
        .args(["deps", chk.to_str().unwrap(), "--verify", "--rebase", &rb])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("NOT RESTORABLE: 2 of"), "{stdout}");
    let line = |n: &str| stdout.lines().find(|l| l.contains(n)).unwrap().to_owned();
    assert!(line(&gone).contains("missing"), "{stdout}");
    assert!(
        line(&cut).contains("size 5 bytes, the handle records"),
        "{stdout}"
    );
    let (v, code) = verify_json(&chk, &rb);
    assert_eq!(code, 1);
    let problems = v["verify"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2);
    assert!(
        problems
            .iter()
            .any(|p| p["problem"] == "missing" && p["path"].as_str().unwrap().ends_with(&gone))
    );
    assert!(
        problems
            .iter()
            .any(|p| p["problem"] == "size_mismatch" && p["actual"] == 5)
    );
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = flink_chk().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn verify_without_rebase_explains_the_move() {
    let (dir, generated) = scenario("2.3", "rocksdb-incremental");
    let tmp = short_tempdir();
    // The committed tree, copied: Flink recorded it under /tmp/flink-chk-gen
    // and it is read elsewhere. Whether or not the recorded files exist on
    // this machine, the hint names the mapping at the checkpoints root.
    let copy = tmp.path().join("copy");
    copy_tree(&dir, &copy);
    let job = job_dir(&copy.join("checkpoints"));
    let (_, _, err) = run(&["deps", job.join("chk-6").to_str().unwrap(), "--verify"]);
    let hint = format!(
        "--rebase file://{generated}/checkpoints={}/checkpoints",
        copy.display()
    );
    assert!(err.contains(&hint), "{err}");
    let (v, _) = json(&["deps", job.join("chk-6").to_str().unwrap(), "--json"]);
    assert_eq!(
        v["recorded_root"],
        format!("file://{generated}/checkpoints"),
        "{v}"
    );
    assert_eq!(
        v["recorded_job_dir"],
        format!(
            "file://{generated}/checkpoints/{}",
            job.file_name().unwrap().to_str().unwrap()
        )
    );

    // The same tree recorded at a root this test controls.
    let recorded = root_of_length(tmp.path(), generated.len());
    copy_recorded_at(&dir, &generated, &copy.with_file_name("moved"), &recorded);
    let moved = tmp.path().join("moved");
    let job = job_dir(&moved.join("checkpoints"));
    let chk = job.join("chk-6");
    let hint = format!(
        "--rebase file://{recorded}/checkpoints={}/checkpoints",
        moved.display()
    );
    // Nothing at the recorded location: Flink could not restore it from there.
    let (code, out, err) = run(&["deps", chk.to_str().unwrap(), "--verify"]);
    assert_eq!(code, 1, "{out}{err}");
    let shared = truth(&chk.join("_metadata"))["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .filter(|p| p.contains("/shared/"))
        .collect::<BTreeSet<_>>()
        .len();
    assert!(
        out.contains(&format!("NOT RESTORABLE: {shared} of ")),
        "{out}"
    );
    assert!(err.contains(&hint), "{err}");
    assert!(err.contains("Flink reads the recorded paths"), "{err}");
    // The original still in place: verify passes (Flink would restore from
    // there), and says the copy was not what it checked.
    copy_recorded_at(&dir, &generated, Path::new(&recorded), &recorded);
    let (code, out, err) = run(&["deps", chk.to_str().unwrap(), "--verify"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains(&hint), "{err}");
    assert!(err.contains("not the copy"), "{err}");
    // Mapped: the copy itself is checked, no hint.
    std::fs::remove_dir_all(&recorded).unwrap();
    let rb = hint.strip_prefix("--rebase ").unwrap();
    let (code, out, err) = run(&["deps", chk.to_str().unwrap(), "--verify", "--rebase", rb]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("--rebase"), "{err}");
    assert!(out.contains("verified: all"), "{out}");
}

#[test]
fn deps_groups_by_where_files_live() {
    let (dir, generated) = scenario("2.3", "rocksdb-incremental");
    let job = job_dir(&dir.join("checkpoints"));
    let m = job.join("chk-6");
    let (v, code) = json(&[
        "deps",
        m.to_str().unwrap(),
        "--json",
        "--rebase",
        &rebase(&dir, &generated),
    ]);
    assert_eq!(code, 0);
    let t = truth(&m.join("_metadata"));
    let count = |part: &str| {
        t["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["part"] == part)
            .map(|f| f["path"].as_str().unwrap())
            .collect::<BTreeSet<_>>()
            .len() as u64
    };
    let groups = v["groups"].as_array().unwrap();
    let group = |kind: &str| {
        groups
            .iter()
            .find(|g| g["label"]["kind"] == kind)
            .unwrap_or_else(|| panic!("{kind}: {groups:?}"))
    };
    let in_dir = |d: &str| {
        t["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .filter(|p| p.contains(d))
            .collect::<BTreeSet<_>>()
            .len() as u64
    };
    assert_eq!(
        group("shared")["files"].as_u64().unwrap(),
        in_dir("/shared/")
    );
    assert!(count("shared") <= in_dir("/shared/"));
    assert!(
        group("shared")["dir"]
            .as_str()
            .unwrap()
            .ends_with("/shared")
    );
    assert_eq!(group("own")["files"].as_u64().unwrap(), in_dir("/chk-6/"));
    // Human output: a table row per group.
    let out = flink_chk()
        .args([
            "deps",
            m.to_str().unwrap(),
            "--rebase",
            &rebase(&dir, &generated),
        ])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("job's shared/"), "{s}");
    assert!(s.contains("own directory"), "{s}");
}

#[test]
fn file_merging_and_changelog_are_labelled() {
    for (scen, kind) in [("file-merging", "file_merging"), ("changelog", "changelog")] {
        let (dir, generated) = scenario("2.3", scen);
        let job = job_dir(&dir.join("checkpoints"));
        let newest = crate::common::newest_checkpoint("2.3", scen);
        let (v, code) = json(&[
            "deps",
            newest.to_str().unwrap(),
            "--json",
            "--verify",
            "--rebase",
            &rebase(&dir, &generated),
        ]);
        assert_eq!(code, 0, "{scen}");
        assert!(
            v["files"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["label"]["kind"] == kind),
            "{scen}: {}",
            v["groups"]
        );
        let _ = job;
    }
}

#[test]
fn ls_lists_jobs_and_checkpoints_as_on_disk() {
    let (dir, _) = scenario("2.3", "rocksdb-incremental");
    let root = dir.join("checkpoints");
    let job = job_dir(&root);
    let (v, code) = json(&["ls", root.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    let jobs = v["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1);
    let j = &jobs[0];
    assert_eq!(j["job_id"], job.file_name().unwrap().to_str().unwrap());
    let chks: Vec<u64> = std::fs::read_dir(&job)
        .unwrap()
        .filter_map(|e| {
            e.unwrap()
                .file_name()
                .to_str()?
                .strip_prefix("chk-")?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(
        j["completed_checkpoints"].as_u64().unwrap(),
        chks.len() as u64
    );
    assert_eq!(
        j["latest"]["id"].as_u64().unwrap(),
        *chks.iter().max().unwrap()
    );
    let on_disk: Vec<PathBuf> = walk(&job);
    assert_eq!(j["files"].as_u64().unwrap(), on_disk.len() as u64);
    let bytes: u64 = on_disk.iter().map(|p| p.metadata().unwrap().len()).sum();
    assert_eq!(j["bytes"].as_u64().unwrap(), bytes);

    let (v, code) = json(&["ls", job.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    let c = v["checkpoints"].as_array().unwrap();
    assert_eq!(c.len(), chks.len());
    for row in c {
        assert_eq!(row["restorable"], true, "{row}");
        assert_eq!(row["kind"], "checkpoint");
        let m = job.join(row["name"].as_str().unwrap()).join("_metadata");
        assert_eq!(row["id"], truth(&m)["checkpoint_id"]);
    }
}

#[test]
fn ls_reports_in_progress_and_broken_checkpoints() {
    let (dir, _) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&dir.join("checkpoints"), tmp.path());
    let job = job_dir(tmp.path());
    std::fs::create_dir(job.join("chk-9")).unwrap(); // in progress: no _metadata yet
    std::fs::write(job.join("chk-5/_metadata"), b"\x00\x00\x00\x00garbage").unwrap();
    let (v, _) = json(&["ls", tmp.path().to_str().unwrap(), "--json"]);
    assert_eq!(v["jobs"][0]["in_progress"], serde_json::json!([9]));
    let (v, _) = json(&["ls", job.to_str().unwrap(), "--json"]);
    let row = |n: &str| {
        v["checkpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(row("chk-9")["status"], "in progress");
    assert_eq!(row("chk-5")["restorable"], false);
    assert!(
        row("chk-5")["status"]
            .as_str()
            .unwrap()
            .contains("not a Flink checkpoint/savepoint metadata file"),
        "{}",
        row("chk-5")
    );
    assert_eq!(row("chk-6")["restorable"], true);
}

#[test]
fn why_finds_the_checkpoints_that_share_a_file() {
    let (dir, generated) = scenario("2.3", "rocksdb-incremental");
    let root = dir.join("checkpoints");
    let job = job_dir(&root);
    // Flink's view: which retained checkpoints reference each shared file.
    let mut users: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for chk in ["chk-4", "chk-5", "chk-6"] {
        let t = truth(&job.join(chk).join("_metadata"));
        for f in t["files"].as_array().unwrap() {
            if f["path"].as_str().unwrap().contains("/shared/") {
                let n = f["path"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned();
                users.entry(n).or_default().insert(chk.to_owned());
            }
        }
    }
    let rb = rebase(&dir, &generated);
    let (shared_by_all, _) = users.iter().max_by_key(|(_, u)| u.len()).unwrap();
    let (v, code) = json(&[
        "why",
        job.join("shared").join(shared_by_all).to_str().unwrap(),
        "--rebase",
        &rb,
        "--json",
    ]);
    assert_eq!(code, 0);
    let got: BTreeSet<String> = v["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().rsplit('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(got, users[shared_by_all]);
    // A shared file no retained checkpoint uses (if Flink left one behind).
    let unreferenced = std::fs::read_dir(job.join("shared"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| !users.contains_key(n));
    if let Some(n) = unreferenced {
        let (v, code) = json(&[
            "why",
            job.join("shared").join(&n).to_str().unwrap(),
            "--rebase",
            &rb,
            "--json",
        ]);
        assert_eq!(code, 1);
        assert_eq!(v["referenced"], false);
    }
    // The whole shared/ directory is referenced by every retained checkpoint.
    let (v, code) = json(&[
        "why",
        job.join("shared").to_str().unwrap(),
        "--rebase",
        &rb,
        "--json",
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["snapshots"].as_array().unwrap().len(), 3);
}

#[test]
fn restore_lineages_show_the_other_jobs_files() {
    // Real Flink 2.3 runs: job B restored from job A's checkpoint in each
    // claim mode; scenario.json records which of B's checkpoints Flink's own
    // loader saw referencing A's directory (and how many files).
    for scen in ["restore-claim", "restore-legacy", "restore-no-claim"] {
        let (dir, generated) = scenario("2.3", scen);
        let s: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("scenario.json")).unwrap())
                .unwrap();
        let lineage = &s["lineage"][0];
        let (a, b) = (
            lineage["from_job"].as_str().unwrap(),
            lineage["job"].as_str().unwrap(),
        );
        let b_dir = dir.join("checkpoints").join(b);
        let mut chks: Vec<PathBuf> = std::fs::read_dir(&b_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("_metadata").is_file())
            .collect();
        chks.sort();
        assert!(!chks.is_empty(), "{scen}");
        for chk in chks {
            let key = format!(
                "checkpoints/{b}/{}",
                chk.file_name().unwrap().to_str().unwrap()
            );
            let expected = s["cross_job_refs"][&key][a]["shared"].as_u64().unwrap_or(0);
            let (v, code) = json(&[
                "deps",
                chk.to_str().unwrap(),
                "--json",
                "--verify",
                "--rebase",
                &rebase(&dir, &generated),
            ]);
            assert_eq!(code, 0, "{scen} {key}");
            let other: u64 = v["groups"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|g| {
                    g["label"]["kind"] == "other_job"
                        && g["label"]["job"] == a
                        && g["label"]["area"] == "shared"
                })
                .map(|g| g["files"].as_u64().unwrap())
                .sum();
            assert_eq!(other, expected, "{scen} {key}: {}", v["groups"]);
            if expected > 0 {
                assert_eq!(v["other_jobs"], serde_json::json!([a]), "{scen}");
                // And `why` on A's shared/ names this checkpoint of B.
                let (w, code) = json(&[
                    "why",
                    dir.join("checkpoints")
                        .join(a)
                        .join("shared")
                        .to_str()
                        .unwrap(),
                    "--rebase",
                    &rebase(&dir, &generated),
                    "--json",
                ]);
                assert_eq!(code, 0);
                assert!(
                    w["snapshots"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|x| x.as_str().unwrap().ends_with(&key)),
                    "{scen}: {w}"
                );
            } else {
                assert_eq!(v["other_jobs"], serde_json::json!([]), "{scen}");
            }
        }
    }
}

#[test]
fn a_relative_handle_that_leaves_the_savepoint_is_not_savepoint_relative() {
    let (dir, _) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&dir, tmp.path());
    let sp = crate::common::find_metadata(&tmp.path().join("savepoints"))
        .pop()
        .unwrap();
    let t = truth(&sp);
    let rel = t["files"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|f| f["relative_path"].as_str())
        .unwrap()
        .to_owned();
    // The same length, one level up: `../<name minus 3 bytes>`.
    let outside = format!("../{}", &rel[3..]);
    let mut bytes = std::fs::read(&sp).unwrap();
    let at = bytes
        .windows(rel.len())
        .position(|w| w == rel.as_bytes())
        .unwrap();
    bytes[at..at + rel.len()].copy_from_slice(outside.as_bytes());
    std::fs::write(&sp, &bytes).unwrap();
    let sp_dir = sp.parent().unwrap();
    let (v, code) = json(&["deps", sp_dir.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    let files = v["files"].as_array().unwrap();
    let escaped = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(&rel[3..]))
        .unwrap();
    assert_eq!(
        escaped["path"],
        sp_dir.parent().unwrap().join(&rel[3..]).to_str().unwrap()
    );
    assert_eq!(escaped["label"]["kind"], "external", "{escaped}");
    assert_eq!(escaped["group"], sp_dir.parent().unwrap().to_str().unwrap());
    // The other relative handles stay inside and keep their label.
    let inside = files
        .iter()
        .filter(|f| f["label"]["kind"] == "savepoint_relative")
        .count();
    let relative = t["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["relative_path"].as_str())
        .collect::<BTreeSet<_>>()
        .len();
    assert_eq!(inside, relative - 1, "{}", v["files"]);
}

#[test]
fn verify_says_a_directory_is_a_directory() {
    let (dir, generated) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&dir, tmp.path());
    let job = job_dir(&tmp.path().join("checkpoints"));
    let chk = job.join("chk-6");
    let t = truth(&chk.join("_metadata"));
    let shared = t["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .find(|p| p.contains("/shared/"))
        .unwrap();
    let name = shared.rsplit('/').next().unwrap();
    let victim = job.join("shared").join(name);
    std::fs::remove_file(&victim).unwrap();
    std::fs::create_dir(&victim).unwrap();
    let rb = rebase(tmp.path(), &generated);
    let (code, out, _) = run(&["deps", chk.to_str().unwrap(), "--verify", "--rebase", &rb]);
    assert_eq!(code, 1, "{out}");
    let line = out.lines().find(|l| l.contains(name)).unwrap();
    assert!(line.ends_with("is a directory"), "{line}");
    let (v, code) = verify_json(&chk, &rb);
    assert_eq!(code, 1);
    let problems = v["verify"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["problem"], "is_directory");
    assert_eq!(problems[0]["path"], victim.to_str().unwrap());
}

#[test]
fn errors_do_not_repeat_their_cause() {
    let (dir, _) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&dir.join("checkpoints"), tmp.path());
    let job = job_dir(tmp.path());
    std::fs::write(job.join("chk-5/_metadata"), b"\x00\x00\x00\x00garbage").unwrap();
    let loop_dir = job.join("chk-4");
    std::fs::remove_file(loop_dir.join("_metadata")).unwrap();
    std::os::unix::fs::symlink("_metadata", loop_dir.join("_metadata")).unwrap();
    for (chk, cause) in [
        ("chk-5", "magic number is 0x00000000"),
        ("chk-4", "(os error"),
    ] {
        let (code, _, err) = run(&["deps", job.join(chk).to_str().unwrap()]);
        assert_eq!(code, 3, "{err}");
        // Once (the symlink loop may be reported otherwise once symlinks are
        // not followed, but never twice).
        let n = err.matches(cause).count();
        assert!(n == 1 || (n == 0 && chk == "chk-4"), "{err}");
    }
}

/// Flink's view of a job's retained checkpoints: shared file name → the
/// checkpoints referencing it.
fn shared_users(job: &Path) -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let mut users: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for m in crate::common::find_metadata(job) {
        let chk = m.parent().unwrap().file_name().unwrap().to_str().unwrap();
        for f in truth(&m)["files"].as_array().unwrap() {
            let p = f["path"].as_str().unwrap();
            if p.contains("/shared/") {
                let n = p.rsplit('/').next().unwrap().to_owned();
                users.entry(n).or_default().insert(chk.to_owned());
            }
        }
    }
    users
}

#[test]
fn why_on_a_copied_tree_gives_the_rebase_instead_of_not_referenced() {
    let (dir, generated) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&dir, tmp.path());
    let job = job_dir(&tmp.path().join("checkpoints"));
    let users = shared_users(&job);
    let (name, by) = users.iter().max_by_key(|(_, u)| u.len()).unwrap();
    let file = job.join("shared").join(name);
    let rb = format!(
        "file://{generated}/checkpoints={}/checkpoints",
        tmp.path().display()
    );
    // Recorded under /tmp/flink-chk-gen, read here: whether or not the
    // recorded tree exists on this machine, the references cannot be matched.
    let (code, out, err) = run(&["why", file.to_str().unwrap()]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(err.contains(&format!("--rebase {rb}")), "{err}");
    assert!(
        err.contains(&format!("{} of them reference it there", by.len())),
        "{err}"
    );
    let (v, code) = json(&["why", file.to_str().unwrap(), "--json"]);
    assert_eq!(code, 3);
    assert_eq!(v["referenced"], false);
    assert_eq!(v["recorded_elsewhere"][0]["suggested_rebase"], rb.as_str());
    assert_eq!(
        v["recorded_elsewhere"][0]["snapshots"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // With it: Flink's answer.
    let (v, code) = json(&["why", file.to_str().unwrap(), "--rebase", &rb, "--json"]);
    assert_eq!(code, 0, "{v}");
    let got: BTreeSet<String> = v["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().rsplit('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(&got, by);
    assert_eq!(v["recorded_elsewhere"], serde_json::json!([]));
}

#[test]
fn why_through_a_symlinked_path_gives_the_rebase() {
    let (dir, generated) = scenario("2.3", "rocksdb-incremental");
    let tmp = short_tempdir();
    // The tree exactly where its metadata says it is, and a symlink to it.
    let recorded = root_of_length(tmp.path(), generated.len());
    copy_recorded_at(&dir, &generated, Path::new(&recorded), &recorded);
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&recorded, &link).unwrap();
    let job = job_dir(&Path::new(&recorded).join("checkpoints"));
    let job_name = job.file_name().unwrap().to_str().unwrap();
    let users = shared_users(&job);
    let (name, by) = users.iter().max_by_key(|(_, u)| u.len()).unwrap();
    let real = job.join("shared").join(name);
    let linked = link
        .join("checkpoints")
        .join(job_name)
        .join("shared")
        .join(name);
    // At the recorded path: found.
    let (v, code) = json(&["why", real.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["snapshots"].as_array().unwrap().len(), by.len());
    // Through the symlink: not "referenced by none", but the mapping.
    let (code, out, err) = run(&["why", linked.to_str().unwrap()]);
    assert_eq!(code, 3, "{out}{err}");
    let rb = format!(
        "file://{recorded}/checkpoints={}/checkpoints",
        link.display()
    );
    assert!(err.contains(&format!("--rebase {rb}")), "{err}");
    let (v, code) = json(&["why", linked.to_str().unwrap(), "--rebase", &rb, "--json"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["snapshots"].as_array().unwrap().len(), by.len());
}

#[test]
fn why_with_nothing_to_search_is_not_an_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("passwd");
    std::fs::write(&file, b"root:x:0:0").unwrap();
    let (code, out, err) = run(&["why", file.to_str().unwrap()]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(err.contains("nothing to search"), "{err}");
    assert!(!out.contains("referenced by none"), "{out}");
    let (v, code) = json(&["why", file.to_str().unwrap(), "--json"]);
    assert_eq!(code, 3);
    assert_eq!(v["snapshots_read"], 0);
}

#[test]
fn why_reports_a_hit_even_when_another_snapshot_is_unreadable() {
    let (dir, generated) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&dir, tmp.path());
    let job = job_dir(&tmp.path().join("checkpoints"));
    let users = shared_users(&job);
    std::fs::write(job.join("chk-5/_metadata"), b"\x00\x00\x00\x00garbage").unwrap();
    let rb = rebase(tmp.path(), &generated);
    // Used by chk-6: reported, with a warning about chk-5.
    let (name, by) = users.iter().find(|(_, u)| u.contains("chk-6")).unwrap();
    let file = job.join("shared").join(name);
    let (code, out, err) = run(&["why", file.to_str().unwrap(), "--rebase", &rb]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("{}/chk-6", job.display())), "{out}");
    assert!(err.contains("warning: cannot read"), "{err}");
    assert!(err.contains("chk-5/_metadata"), "{err}");
    let (v, code) = json(&["why", file.to_str().unwrap(), "--rebase", &rb, "--json"]);
    assert_eq!(code, 0);
    assert_eq!(v["referenced"], true);
    assert_eq!(v["unreadable"].as_array().unwrap().len(), 1);
    let expected = by.iter().filter(|c| *c != "chk-5").count();
    assert_eq!(v["snapshots"].as_array().unwrap().len(), expected);
    // Used only by chk-5 (if Flink has such a file): unproven, exit 3.
    if let Some((name, _)) = users
        .iter()
        .find(|(_, u)| u.len() == 1 && u.contains("chk-5"))
    {
        let file = job.join("shared").join(name);
        let (code, _, err) = run(&["why", file.to_str().unwrap(), "--rebase", &rb]);
        assert_eq!(code, 3, "{err}");
    }
}

#[test]
fn ls_names_the_metadata_check_and_verifies_with_verify() {
    let (dir, generated) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&dir, tmp.path());
    let job = job_dir(&tmp.path().join("checkpoints"));
    let users = shared_users(&job);
    // Without --verify: the column says what was checked (the _metadata parses).
    let (code, out, _) = run(&["ls", job.to_str().unwrap()]);
    assert_eq!(code, 0);
    let header = out.lines().find(|l| l.starts_with("SNAPSHOT")).unwrap();
    assert!(header.contains("METADATA"), "{out}");
    assert!(!header.contains("RESTORABLE"), "{out}");
    let row = |out: &str, n: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{n} ")))
            .unwrap_or_else(|| panic!("{n}: {out}"))
            .to_owned()
    };
    assert!(row(&out, "chk-6").contains("readable"), "{out}");
    // A shared file only chk-6 uses, gone.
    let (gone, _) = users
        .iter()
        .find(|(_, u)| u.len() == 1 && u.contains("chk-6"))
        .unwrap();
    std::fs::remove_file(job.join("shared").join(gone)).unwrap();
    let rb = rebase(tmp.path(), &generated);
    let (code, out, err) = run(&["ls", job.to_str().unwrap(), "--verify", "--rebase", &rb]);
    assert_eq!(code, 1, "{out}{err}");
    let distinct = |chk: &str| {
        truth(&job.join(chk).join("_metadata"))["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect::<BTreeSet<_>>()
            .len()
    };
    for chk in ["chk-4", "chk-5"] {
        assert!(
            row(&out, chk).contains(&format!("all {} present", distinct(chk))),
            "{out}"
        );
    }
    assert!(
        row(&out, "chk-6").contains(&format!("1 of {}: 1 missing", distinct("chk-6"))),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains(gone.as_str()) && l.contains("missing")),
        "{out}"
    );
    let (v, code) = json(&[
        "ls",
        job.to_str().unwrap(),
        "--verify",
        "--rebase",
        &rb,
        "--json",
    ]);
    assert_eq!(code, 1);
    let r = |n: &str| {
        v["checkpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(r("chk-6")["metadata_readable"], true);
    assert_eq!(r("chk-6")["restorable"], false);
    assert_eq!(r("chk-6")["verify"]["ok"], false);
    assert_eq!(r("chk-6")["verify"]["checked"], distinct("chk-6"));
    assert_eq!(r("chk-6")["verify"]["problems"][0]["problem"], "missing");
    assert_eq!(r("chk-5")["restorable"], true);
    assert_eq!(r("chk-5")["verify"]["ok"], true);
    // Without the rebase the recorded paths are checked, and the hint says so.
    let (_, _, err) = run(&["ls", job.to_str().unwrap(), "--verify"]);
    assert!(
        err.contains(&format!(
            "--rebase file://{generated}/checkpoints={}/checkpoints",
            tmp.path().display()
        )),
        "{err}"
    );
}

/// `deps SNAPSHOT --verify --json --rebase REBASE`: the JSON and the exit code.
fn verify_json(snapshot: &Path, rebase: &str) -> (serde_json::Value, i32) {
    json(&[
        "deps",
        snapshot.to_str().unwrap(),
        "--verify",
        "--json",
        "--rebase",
        rebase,
    ])
}
