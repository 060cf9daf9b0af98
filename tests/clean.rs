//! `safe-to-delete` through the command line on copies of real Flink trees:
//! the plan's candidates are exactly the files no kept snapshot lists in
//! Flink's own file lists (`_metadata.oracle.json`); `--yes` deletes exactly
//! those, logs each, and every kept snapshot that verified before still
//! verifies; without a terminal and without `--yes` nothing is deleted; an
//! unreadable kept `_metadata` aborts with exit 3.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

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
            "--dry-run",
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
            "--yes",
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

/// Flink's own file list of a snapshot (the oracle), mapped into the copy.
fn oracle_refs(metadata: &Path, generated: &str, root: &Path) -> BTreeSet<String> {
    crate::common::truth(metadata)["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["path"]
                .as_str()
                .unwrap()
                .trim_start_matches("file:")
                .replacen(generated, &root.to_string_lossy(), 1)
        })
        .collect()
}

fn checkpoint_id(p: &Path) -> Option<u64> {
    p.file_name()?.to_str()?.strip_prefix("chk-")?.parse().ok()
}

/// What the cleanup must delete, computed independently from Flink's file
/// lists: per job the newest `keep_last` completed checkpoints and newer
/// checkpoints in progress are kept (all of a dropped job's are not); every
/// file any kept checkpoint lists is kept; the rest of `chk-N/`, `shared/`
/// and (stopped) `taskowned/` goes; anything else stays.
fn expected_deletions(
    ck: &Path,
    generated: &str,
    root: &Path,
    keep_last: usize,
    dropped: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut kept_dirs = Vec::new();
    let mut refs = BTreeSet::new();
    let jobs: Vec<_> = std::fs::read_dir(ck)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    for job in &jobs {
        let name = job.file_name().unwrap().to_string_lossy().into_owned();
        let mut chks: Vec<(u64, PathBuf, bool)> = std::fs::read_dir(job)
            .unwrap()
            .filter_map(|e| {
                let p = e.unwrap().path();
                Some((checkpoint_id(&p)?, p.clone(), p.join("_metadata").is_file()))
            })
            .collect();
        chks.sort();
        if dropped.contains(&name) {
            continue;
        }
        let completed: Vec<&(u64, PathBuf, bool)> = chks.iter().filter(|c| c.2).collect();
        let newest = completed.last().map_or(0, |c| c.0);
        for c in completed.iter().rev().take(keep_last) {
            refs.extend(oracle_refs(&c.1.join("_metadata"), generated, root));
            kept_dirs.push(c.1.clone());
        }
        for c in chks.iter().filter(|c| !c.2 && c.0 > newest) {
            kept_dirs.push(c.1.clone());
        }
    }
    let mut out = BTreeSet::new();
    for job in &jobs {
        for f in walk(job) {
            let s = f.to_string_lossy().into_owned();
            if kept_dirs.iter().any(|d| f.starts_with(d)) || refs.contains(&s) {
                continue;
            }
            let rel = f.strip_prefix(job).unwrap();
            let first = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy();
            let deletable = first.starts_with("chk-") && rel.components().count() > 1
                || first == "shared"
                || first == "taskowned";
            if deletable {
                out.insert(s);
            }
        }
    }
    out
}

/// Every snapshot under `root` that `deps --verify` accepts.
fn verified_snapshots(root: &Path, rebase: &str) -> BTreeSet<String> {
    crate::common::find_metadata(root)
        .into_iter()
        .filter(|m| {
            flink_chk()
                .args(["deps", "--verify", "--rebase", rebase])
                .arg(m.parent().unwrap())
                .output()
                .unwrap()
                .status
                .success()
        })
        .map(|m| m.parent().unwrap().to_string_lossy().into_owned())
        .collect()
}

struct Cleanup {
    deleted: BTreeSet<String>,
    expected: BTreeSet<String>,
    logged: BTreeSet<String>,
    json: serde_json::Value,
    verified_before: BTreeSet<String>,
    verified_after: BTreeSet<String>,
    after: BTreeSet<String>,
}

/// Copies a fixture, runs `safe-to-delete --yes` on its checkpoints root and
/// records what happened.
fn clean_fixture(version: &str, name: &str, dropped: &[String]) -> Cleanup {
    let (src, generated) = scenario(version, name);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join(name);
    copy_tree(&src, &root);
    let ck = root.join("checkpoints");
    let rebase = format!("file:{generated}={}", root.display());
    let dropped_set: BTreeSet<String> = dropped.iter().cloned().collect();
    let expected = expected_deletions(&ck, &generated, &root, 1, &dropped_set);
    let verified_before = verified_snapshots(&root, &rebase);
    let before = files(&root);
    let log = tmp.path().join("deletions.log");
    let mut cmd = flink_chk();
    cmd.args(["safe-to-delete", "--keep-last", "1", "--min-age", "0s"])
        .args(["--stopped", "--yes", "--json", "--rebase", &rebase])
        .arg("--log")
        .arg(&log)
        .arg(&ck);
    for d in dropped {
        cmd.args(["--drop-job", d]);
    }
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{version}/{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let after = files(&root);
    assert!(after.is_subset(&before));
    let logged: BTreeSet<String> = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["deleted"].as_str().map(str::to_owned)
        })
        .collect();
    journal_reads_back(&log, &logged);
    Cleanup {
        deleted: before.difference(&after).cloned().collect(),
        expected,
        logged,
        json,
        verified_before,
        verified_after: verified_snapshots(&root, &rebase),
        after,
    }
}

fn assert_cleanup(label: &str, c: &Cleanup) {
    assert_eq!(
        c.deleted, c.expected,
        "{label}: deleted files differ from those no kept snapshot lists"
    );
    assert_eq!(
        c.logged, c.deleted,
        "{label}: the log lists every deleted file"
    );
    if c.deleted.is_empty() {
        assert_eq!(c.json["candidates"].as_array().unwrap().len(), 0, "{label}");
    } else {
        assert_eq!(
            c.json["applied"]["deleted_files"].as_u64().unwrap(),
            c.deleted.len() as u64,
            "{label}"
        );
        assert!(
            c.json["applied"]["failed"].as_array().unwrap().is_empty(),
            "{label}"
        );
    }
    // Every kept snapshot that verified before still verifies.
    let lost: Vec<_> = c
        .verified_before
        .iter()
        .filter(|s| !c.deleted.iter().any(|d| d.starts_with(s.as_str())))
        .filter(|s| !c.verified_after.contains(*s))
        .collect();
    assert!(lost.is_empty(), "{label}: kept snapshots broken: {lost:?}");
}

/// Every committed fixture: retention 1, stated stopped (taskowned orphans
/// count too): exactly the unlisted files go, and what is kept still verifies.
#[test]
fn apply_deletes_exactly_what_no_kept_snapshot_lists_on_every_fixture() {
    let mut checked = 0;
    let mut deleted_total = 0;
    let mut seen = std::collections::BTreeMap::new();
    for (version, name) in crate::common::checkpoint_trees() {
        let c = clean_fixture(&version, &name, &[]);
        assert_cleanup(&format!("{version}/{name}"), &c);
        seen.insert(format!("{version}/{name}"), c.deleted.len());
        // Kept checkpoints remain: at least the newest of each job.
        assert!(!c.verified_after.is_empty(), "{version}/{name}");
        deleted_total += c.deleted.len();
        checked += 1;
    }
    assert!(checked >= 25, "only {checked} fixture trees");
    // The kinds the cleanup must get right are among them (with deletions,
    // except changelog: one retained checkpoint, whose DSTL files live
    // outside the checkpoints root and must stay readable — verified above).
    for (must, min) in [
        ("2.3/rocksdb-incremental", 75),
        ("2.3/cleanup-crash", 23),
        ("2.3/restore-claim", 1),
        ("2.3/restore-legacy", 1),
        ("2.3/restore-no-claim", 1),
        ("2.3/file-merging", 1),
        ("2.0/file-merging", 1),
        ("1.20/file-merging", 1),
        ("2.3/changelog", 0),
        ("1.19/changelog", 0),
    ] {
        assert!(
            seen.get(must).is_some_and(|n| *n >= min),
            "{must}: {seen:?}"
        );
    }
    eprintln!("{checked} trees, {deleted_total} files deleted");
    assert!(deleted_total > 500, "only {deleted_total} files deleted");
}

/// Restore lineages with the old job dropped: its files that the new job's
/// kept checkpoints use survive (CLAIM, LEGACY); after NO_CLAIM nothing of it is needed.
#[test]
fn dropping_the_old_job_of_a_restore_lineage_keeps_what_the_new_job_uses() {
    for (name, survivors) in [
        ("restore-claim", true),
        ("restore-legacy", true),
        ("restore-no-claim", false),
    ] {
        let (src, _) = scenario("2.3", name);
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(src.join("scenario.json")).unwrap())
                .unwrap();
        let jobs: Vec<String> = std::fs::read_dir(src.join("checkpoints"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(jobs.len(), 2, "{name}: {s}");
        let mut survived = 0;
        for old in &jobs {
            let c = clean_fixture("2.3", name, std::slice::from_ref(old));
            assert_cleanup(&format!("{name} dropping {old}"), &c);
            survived += c
                .after
                .iter()
                .filter(|p| p.contains(&format!("{old}/shared/")))
                .count();
        }
        assert_eq!(
            survived > 0,
            survivors,
            "{name}: {survived} files of a dropped job kept"
        );
    }
}

#[test]
fn without_a_terminal_or_yes_nothing_is_deleted() {
    let (src, generated) = scenario("2.3", "cleanup-crash");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("c");
    copy_tree(&src, &root);
    let before = files(&root);
    let out = flink_chk()
        .args(["safe-to-delete", "--min-age", "0s", "--rebase"])
        .arg(format!("file:{generated}={}", root.display()))
        .arg(root.join("checkpoints"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("not a terminal") && err.contains("--yes"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("reclaimable"));
    assert_eq!(files(&root), before);
}

/// The guided cleanup through a real pseudo-terminal.
mod pty {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use expectrl::process::unix::WaitStatus;
    use expectrl::session::OsSession as Session;
    use expectrl::{Eof, Expect as _};

    use super::files;
    use crate::common::{copy_tree, flink_chk, scenario};

    struct Tree {
        _tmp: tempfile::TempDir,
        root: PathBuf,
        rebase: String,
        generated: String,
        log: PathBuf,
    }

    fn tree(name: &str) -> Tree {
        let (src, generated) = scenario("2.3", name);
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join(name);
        copy_tree(&src, &root);
        let rebase = format!("file:{generated}={}", root.display());
        let log = tmp.path().join("deletions.log");
        Tree {
            _tmp: tmp,
            root,
            rebase,
            generated,
            log,
        }
    }

    fn args(t: &Tree, extra: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = [
            "safe-to-delete",
            "--keep-last",
            "1",
            "--min-age",
            "0s",
            "--rebase",
            &t.rebase,
            "--log",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.push(t.log.to_string_lossy().into_owned());
        a.extend(extra.iter().map(|s| s.to_string()));
        a.push(t.root.join("checkpoints").to_string_lossy().into_owned());
        a
    }

    /// The files the plan would delete (a dry run, no terminal).
    fn planned(t: &Tree, extra: &[&str]) -> BTreeSet<String> {
        let mut a = args(t, extra);
        a.insert(1, "--json".into());
        a.insert(1, "--dry-run".into());
        let out = flink_chk().args(&a).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let all = files(&t.root);
        let mut set = BTreeSet::new();
        for c in v["candidates"].as_array().unwrap() {
            let p = c["path"].as_str().unwrap();
            if c["is_dir"].as_bool().unwrap() {
                set.extend(
                    all.iter()
                        .filter(|f| f.starts_with(&format!("{p}/")))
                        .cloned(),
                );
            } else {
                set.insert(p.to_owned());
            }
        }
        set
    }

    fn spawn(t: &Tree, extra: &[&str]) -> Session {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("flink-chk"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TERM", "xterm-256color")
            .env("NO_COLOR", "1")
            .env("XDG_CONFIG_HOME", t.root.join("no-config"))
            .args(args(t, extra));
        let mut s = Session::spawn(cmd).unwrap();
        s.set_expect_timeout(Some(Duration::from_secs(60)));
        s
    }

    fn exit_code(mut s: Session) -> i32 {
        s.expect(Eof).unwrap();
        match s.get_process_mut().wait().unwrap() {
            WaitStatus::Exited(_, code) => code,
            other => panic!("{other:?}"),
        }
    }

    fn deleted(t: &Tree, before: &BTreeSet<String>) -> BTreeSet<String> {
        before.difference(&files(&t.root)).cloned().collect()
    }

    fn verifies(t: &Tree, snapshot: &Path) -> bool {
        flink_chk()
            .args(["deps", "--verify", "--rebase", &t.rebase])
            .arg(snapshot)
            .output()
            .unwrap()
            .status
            .success()
    }

    fn job(t: &Tree) -> PathBuf {
        crate::common::job_dir(&t.root.join("checkpoints"))
    }

    #[test]
    fn answering_no_deletes_nothing() {
        let t = tree("rocksdb-incremental");
        let before = files(&t.root);
        let mut s = spawn(&t, &[]);
        s.expect("Delete which?").unwrap();
        s.send("\r").unwrap();
        s.expect("Delete 75 files").unwrap();
        s.send("n\r").unwrap();
        assert_eq!(exit_code(s), 1);
        assert_eq!(files(&t.root), before);
        assert!(!t.log.exists(), "no log without deletions");
    }

    #[test]
    fn answering_yes_deletes_exactly_the_plan() {
        let t = tree("rocksdb-incremental");
        let plan = planned(&t, &[]);
        assert_eq!(plan.len(), 75);
        let before = files(&t.root);
        let mut s = spawn(&t, &[]);
        s.expect("Delete which?").unwrap();
        s.send("\r").unwrap();
        s.expect("Delete 75 files").unwrap();
        s.send("y\r").unwrap();
        s.expect("Deleted 75 files").unwrap();
        assert_eq!(exit_code(s), 0);
        assert_eq!(deleted(&t, &before), plan);
        assert!(verifies(&t, &job(&t).join("chk-6")));
        let log = std::fs::read_to_string(&t.log).unwrap();
        assert_eq!(
            log.lines().filter(|l| l.contains("\"deleted\"")).count(),
            75
        );
    }

    /// Unticking "checkpoint beyond retention" keeps chk-3 of the crashed
    /// run, so the shared files it uses must not go either: the re-check
    /// reads it. Only the crash's true orphans are deleted.
    #[test]
    fn keeping_a_category_keeps_what_it_references() {
        let t = tree("cleanup-crash");
        let job = job(&t);
        let plan = planned(&t, &[]);
        let chk3 = super::oracle_refs(&job.join("chk-3/_metadata"), &t.generated, &t.root);
        let expected: BTreeSet<String> = plan
            .iter()
            .filter(|f| f.contains("/shared/") && !chk3.contains(*f))
            .cloned()
            .collect();
        assert!(
            plan.iter()
                .any(|f| f.contains("/shared/") && chk3.contains(f))
        );
        let before = files(&t.root);
        let mut s = spawn(&t, &[]);
        s.expect("Delete which?").unwrap();
        // The first item is "checkpoint beyond retention": untick it.
        s.send(" ").unwrap();
        s.send("\r").unwrap();
        s.expect("Delete ").unwrap();
        s.send("y\r").unwrap();
        s.expect("Not deleted after all").unwrap();
        assert_eq!(exit_code(s), 0);
        assert_eq!(deleted(&t, &before), expected);
        for chk in ["chk-3", "chk-4"] {
            assert!(verifies(&t, &job.join(chk)), "{chk} broken");
        }
    }

    /// A whole job directory is a large deletion: the job id must be typed.
    #[test]
    fn a_large_deletion_needs_the_job_id_typed() {
        let t = tree("cleanup-crash");
        let job = job(&t);
        let id = job.file_name().unwrap().to_string_lossy().into_owned();
        let before = files(&t.root);
        let mut s = spawn(&t, &["--drop-job", &id]);
        s.expect("Delete ").unwrap();
        s.send("y\r").unwrap();
        s.expect("Type the job id").unwrap();
        s.send("not-the-id\r").unwrap();
        assert_eq!(exit_code(s), 1);
        assert_eq!(files(&t.root), before);

        let mut s = spawn(&t, &["--drop-job", &id]);
        s.expect("Delete ").unwrap();
        s.send("y\r").unwrap();
        s.expect("Type the job id").unwrap();
        s.send(format!("{id}\r")).unwrap();
        s.expect("Deleted ").unwrap();
        assert_eq!(exit_code(s), 0);
        assert!(!job.exists());
    }
}

/// `--plan-out` then `--apply`: the plan file is not trusted. A candidate
/// added by hand (a file the kept checkpoint needs, with its true size and
/// time) is not deleted, because planning again does not make it one; a
/// scope widened by hand is refused; the rest of the plan is applied.
#[test]
fn a_plan_file_is_checked_by_planning_again() {
    let (src, generated) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("ri");
    copy_tree(&src, &root);
    let rebase = format!("file:{generated}={}", root.display());
    let ck = root.join("checkpoints");
    let plan_file = tmp.path().join("plan.json");
    let out = flink_chk()
        .args(["safe-to-delete", "--keep-last", "1", "--min-age", "0s"])
        .args(["--dry-run", "--rebase", &rebase, "--plan-out"])
        .arg(&plan_file)
        .arg(&ck)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // JSON lines: a header, then one candidate per line; edited here as
    // one document (`--json`'s form), which `--apply` reads too.
    let text = std::fs::read_to_string(&plan_file).unwrap();
    let mut lines = text.lines();
    let mut plan: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(plan["format"], "flink-chk-cleanup-plan/2");
    let candidates: Vec<serde_json::Value> =
        lines.map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(plan["totals"]["candidates"], candidates.len());
    plan["candidates"] = serde_json::json!(candidates);
    let planned = plan["candidates"].as_array().unwrap().len();
    // A file chk-6 needs, dressed up as a candidate.
    let job = crate::common::job_dir(&ck);
    let needed = oracle_refs(&job.join("chk-6/_metadata"), &generated, &root)
        .into_iter()
        .find(|f| f.contains("/shared/"))
        .unwrap();
    let md = std::fs::metadata(&needed).unwrap();
    let mut fake = plan["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["reason"] == "orphan_shared")
        .unwrap()
        .clone();
    fake["path"] = serde_json::json!(needed);
    fake["bytes"] = serde_json::json!(md.len());
    fake["newest"] = serde_json::json!(
        jiff::Timestamp::try_from(md.modified().unwrap())
            .unwrap()
            .to_string()
    );
    plan["candidates"].as_array_mut().unwrap().push(fake);

    // A widened scope: refused, nothing deleted.
    let mut wide = plan.clone();
    wide["scope"] = serde_json::json!("/");
    let wide_file = tmp.path().join("wide.json");
    std::fs::write(&wide_file, wide.to_string()).unwrap();
    let before = files(&root);
    let out = flink_chk()
        .args(["safe-to-delete", "--yes", "--apply"])
        .arg(&wide_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not under the checkpoints root"));
    assert_eq!(files(&root), before);

    std::fs::write(&plan_file, plan.to_string()).unwrap();
    // A dry run of the file reports the entry planning again drops, as the
    // real apply does (JSON and text), and deletes nothing.
    let out = flink_chk()
        .args(["safe-to-delete", "--dry-run", "--json", "--apply"])
        .arg(&plan_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dropped = v["dropped"].as_array().expect("dropped[] in a dry run");
    assert_eq!(dropped.len(), 1, "{dropped:?}");
    assert_eq!(dropped[0]["path"], needed.as_str());
    assert_eq!(dropped[0]["detail"]["kind"], "not_planned_now");
    assert!(v.get("applied").is_none());
    let out = flink_chk()
        .args(["safe-to-delete", "--dry-run", "--apply"])
        .arg(&plan_file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Not deleted after all"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains(&needed) && l.contains("not a candidate when planned again now")),
        "{text}"
    );
    assert_eq!(files(&root), before);
    let out = flink_chk()
        .args(["safe-to-delete", "--yes", "--json", "--log"])
        .arg(tmp.path().join("log"))
        .arg("--apply")
        .arg(&plan_file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(Path::new(&needed).is_file(), "a needed file was deleted");
    let dropped = v["applied"]["dropped"].as_array().unwrap();
    assert_eq!(dropped.len(), 1, "{dropped:?}");
    assert_eq!(dropped[0]["path"], needed.as_str());
    assert_eq!(dropped[0]["detail"]["kind"], "not_planned_now");
    assert_eq!(v["applied"]["deleted_files"], 75);
    assert_eq!(planned, 61);
    assert!(
        flink_chk()
            .args(["deps", "--verify", "--rebase", &rebase])
            .arg(job.join("chk-6"))
            .output()
            .unwrap()
            .status
            .success()
    );
}

/// A crashed job's orphans are held back unless --stopped; the human plan
/// says so (which guard, how many files, which flag releases them) — not
/// only JSON `kept[]`.
#[test]
fn the_plan_says_what_its_guards_hold_back() {
    let (src, generated) = scenario("2.3", "cleanup-crash");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("cc");
    copy_tree(&src, &root);
    let rebase = format!("file:{generated}={}", root.display());
    let ck = root.join("checkpoints");
    // As Flink left them: the crash's orphans were written after the
    // newest completed checkpoint (a copy loses those times).
    let shared = crate::common::job_dir(&ck).join("shared");
    for f in std::fs::read_dir(&shared).unwrap() {
        let f = std::fs::File::options()
            .write(true)
            .open(f.unwrap().path())
            .unwrap();
        f.set_modified(std::time::SystemTime::now()).unwrap();
    }
    let run = |json: bool| {
        let mut args = vec![
            "safe-to-delete",
            ck.to_str().unwrap(),
            "--keep-last",
            "1",
            "--min-age",
            "0s",
            "--dry-run",
            "--rebase",
            &rebase,
        ];
        if json {
            args.push("--json");
        }
        flink_chk().args(&args).output().unwrap()
    };
    let out = run(true);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let after_newest: u64 = v["kept"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["reason"] == "after_newest")
        .map(|k| k["files"].as_u64().unwrap())
        .sum();
    assert!(after_newest > 0, "{v}");
    let out = run(false);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("written after the job's newest checkpoint"))
        .unwrap_or_else(|| panic!("no held-back line:\n{text}"));
    assert!(line.contains("--stopped"), "{line}");
    assert!(
        line.split_whitespace()
            .any(|w| w == after_newest.to_string()),
        "{line} (expected {after_newest} files)"
    );
    let held = text.find("Held back").expect("Held back section");
    let nothing = text.find("Nothing to delete").unwrap_or(usize::MAX);
    assert!(held < nothing, "{text}");
}

/// A folder that only holds a `shared/` is a root of its own: nothing above
/// it is listed, planned or deleted.
#[test]
fn a_folder_that_is_not_a_job_is_its_own_root() {
    let tmp = tempfile::tempdir().unwrap();
    let x = tmp.path().join("x");
    std::fs::create_dir_all(x.join("shared")).unwrap();
    std::fs::write(x.join("shared/f"), b"mine").unwrap();
    let sibling = tmp.path().join("sibling");
    std::fs::create_dir_all(sibling.join("0123456789abcdef0123456789abcdef/chk-1")).unwrap();
    std::fs::write(
        sibling.join("0123456789abcdef0123456789abcdef/chk-1/data"),
        b"not x's",
    )
    .unwrap();
    let out = flink_chk()
        .args([
            "safe-to-delete",
            x.to_str().unwrap(),
            "--min-age",
            "0s",
            "--stopped",
            "--json",
            "--yes",
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
    assert_eq!(v["root"].as_str().unwrap(), x.to_str().unwrap());
    assert_eq!(v["totals"]["files_listed"], 1);
    assert!(v["candidates"].as_array().unwrap().is_empty());
    assert!(x.join("shared/f").exists());
    assert!(
        sibling
            .join("0123456789abcdef0123456789abcdef/chk-1/data")
            .exists()
    );
}

/// `--keep-last` and `--min-age` follow the profile's rules: no 0, a unit
/// is required, absurd durations are refused — each a usage error (64)
/// naming the rule, before anything is listed.
#[test]
fn retention_flags_follow_the_profile_rules() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, says) in [
        (["--keep-last", "0"], "at least 1"),
        (["--keep-last", "x"], "not a whole number"),
        (["--min-age", "90"], "not a duration"),
        (["--min-age", "18446744073709551615d"], "too long"),
        (["--min-age", "36501d"], "too long"),
    ] {
        let out = flink_chk()
            .arg("safe-to-delete")
            .arg(tmp.path())
            .args(args)
            .arg("--dry-run")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// The deletion log read back through the library's journal reader: a start
/// record, one record per deleted file (the same files as the raw lines
/// name), an end record whose count matches.
fn journal_reads_back(log: &Path, logged: &BTreeSet<String>) {
    use flink_chk::analysis::cleanup::apply::LogRecord;
    let Ok(f) = std::fs::File::open(log) else {
        assert!(logged.is_empty());
        return;
    };
    let read: flink_chk::journal::Read<LogRecord> =
        flink_chk::journal::read(std::io::BufReader::new(f)).unwrap();
    assert!(read.torn.is_none());
    let recs = read.records;
    assert!(
        matches!(recs.first(), Some(LogRecord::Start { .. })),
        "{recs:?}"
    );
    let Some(LogRecord::End { deleted_files, .. }) = recs.last() else {
        panic!("no end record: {recs:?}");
    };
    assert_eq!(*deleted_files as usize, recs.len() - 2);
    let deleted: BTreeSet<String> = recs
        .iter()
        .filter_map(|r| match r {
            LogRecord::Deleted { deleted, .. } => Some(deleted.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(&deleted, logged);
}

/// Candidates stream to sorted runs on disk past a limit: a plan that
/// spilled after every 2 candidates is the same plan, line for line, as one
/// held in memory, in path order; the private spill directory is gone
/// afterwards; and applying the spilled plan file deletes what the
/// in-memory one plans.
#[test]
fn a_plan_spilled_to_disk_is_the_same_plan() {
    let (src, generated) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("ri");
    copy_tree(&src, &root);
    let rebase = format!("file:{generated}={}", root.display());
    let ck = root.join("checkpoints");
    let spill_dir = tmp.path().join("spill");
    std::fs::create_dir(&spill_dir).unwrap();
    let plan = |limit: Option<&str>, out: &Path| {
        let mut cmd = flink_chk();
        cmd.args(["safe-to-delete", "--keep-last", "1", "--min-age", "0s"])
            .args(["--dry-run", "--rebase", &rebase, "--plan-out"])
            .arg(out)
            .arg(&ck)
            .env("FLINK_CHK_SPILL_DIR", &spill_dir);
        if let Some(l) = limit {
            cmd.env("FLINK_CHK_SPILL_LIMIT", l);
        }
        let o = cmd.output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = std::fs::read_to_string(out).unwrap();
        // The header's planning time differs between the runs.
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let mut header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        header["policy"]["planned_at"] = serde_json::Value::Null;
        lines[0] = header.to_string();
        lines
    };
    let in_memory = plan(None, &tmp.path().join("a.jsonl"));
    let spilled = plan(Some("2"), &tmp.path().join("b.jsonl"));
    assert_eq!(in_memory.len(), 62, "header + 61 candidates");
    assert_eq!(spilled, in_memory);
    let paths: Vec<String> = spilled[1..]
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["path"].to_string())
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "candidate lines in path order");
    assert_eq!(
        std::fs::read_dir(&spill_dir).unwrap().count(),
        0,
        "spill runs left behind"
    );
    // Applied with spilling too: the 61 planned candidates go, nothing else.
    let before = files(&root);
    let out = flink_chk()
        .args(["safe-to-delete", "--yes", "--json", "--apply"])
        .arg(tmp.path().join("b.jsonl"))
        .env("FLINK_CHK_SPILL_DIR", &spill_dir)
        .env("FLINK_CHK_SPILL_LIMIT", "2")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let after = files(&root);
    let gone: BTreeSet<&String> = before.difference(&after).collect();
    assert_eq!(
        v["applied"]["deleted_files"].as_u64().unwrap(),
        gone.len() as u64
    );
    assert!(!gone.is_empty());
    for c in &spilled[1..] {
        let c: serde_json::Value = serde_json::from_str(c).unwrap();
        let p = c["path"].as_str().unwrap();
        assert!(!Path::new(p).exists(), "{p} planned but still there");
    }
    assert_eq!(std::fs::read_dir(&spill_dir).unwrap().count(), 0);
}

/// The deleted files of one run of a plan, from a deletion log: one set per
/// start record naming the plan.
fn logged_runs(log: &Path) -> Vec<BTreeSet<String>> {
    let mut runs: Vec<BTreeSet<String>> = Vec::new();
    for l in std::fs::read_to_string(log).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        if v["event"] == "start" {
            runs.push(BTreeSet::new());
        } else if let Some(p) = v["deleted"].as_str() {
            runs.last_mut().unwrap().insert(p.to_owned());
        }
    }
    runs
}

/// A crash point: an apply killed (abort, as `kill -9`) after its fifth
/// logged deletion. Applying the same plan again with the same log resumes:
/// nothing logged is deleted or asked about again, nothing is reported as
/// dropped, and together the two runs delete exactly what one uninterrupted
/// run deletes from an identical tree.
#[test]
fn a_killed_apply_resumes_from_the_deletion_log() {
    let (src, generated) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    let mut gone_when = Vec::new();
    for name in ["control", "killed"] {
        let root = tmp.path().join(name);
        copy_tree(&src, &root);
        let rebase = format!("file:{generated}={}", root.display());
        let plan = tmp.path().join(format!("{name}.jsonl"));
        let log = tmp.path().join(format!("{name}.log"));
        let o = flink_chk()
            .args(["safe-to-delete", "--keep-last", "1", "--min-age", "0s"])
            .args(["--dry-run", "--rebase", &rebase, "--plan-out"])
            .arg(&plan)
            .arg(root.join("checkpoints"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0));
        let before = files(&root);
        let apply = || {
            let mut c = flink_chk();
            c.args(["safe-to-delete", "--yes", "--json", "--apply"])
                .arg(&plan)
                .arg("--log")
                .arg(&log);
            c
        };
        if name == "killed" {
            let o = apply()
                .env("FLINK_CHK_CRASH_AFTER_DELETES", "5")
                .output()
                .unwrap();
            assert_eq!(o.status.code(), None, "killed by a signal");
            let runs = logged_runs(&log);
            assert_eq!(runs.len(), 1);
            assert_eq!(runs[0].len(), 5);
            assert!(!std::fs::read_to_string(&log).unwrap().contains("\"end\""));
            for f in &runs[0] {
                assert!(!Path::new(f).exists(), "{f} logged but there");
            }
        }
        let o = apply().output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let runs = logged_runs(&log);
        if name == "killed" {
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.contains("5 file(s) they deleted are skipped"), "{err}");
            assert_eq!(runs.len(), 2);
            assert!(
                runs[0].is_disjoint(&runs[1]),
                "deleted again: {:?}",
                runs[0].intersection(&runs[1]).collect::<Vec<_>>()
            );
            let dropped = v["applied"]["dropped"].as_array().unwrap();
            assert!(dropped.is_empty(), "{dropped:?}");
        }
        let after = files(&root);
        let gone: BTreeSet<String> = before
            .difference(&after)
            .map(|f| f.replacen(&format!("/{name}/"), "/", 1))
            .collect();
        gone_when.push(gone);
    }
    assert!(gone_when[0].len() > 5);
    assert_eq!(gone_when[0], gone_when[1]);
}
