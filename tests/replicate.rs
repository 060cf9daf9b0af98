//! `flink-chk replicate` on the committed real-Flink fixtures: rounds that
//! copy only new files and publish `_metadata` last, each replica checked
//! against Flink's loader output of its source with the source gone; restore
//! lineages; pruning to exactly the kept closure; a job writing into the
//! replica; a checkpoint Flink subsumes mid-copy; SIGKILL at random points;
//! priorities and one budget on tokio's virtual clock.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use flink_chk::analysis::snapshot::Rebase;
use flink_chk::storage::{Location, MemoryStorage};
use flink_chk::transfer::rate::{Limiter, Schedule};
use flink_chk::transfer::replica::{IDENTITY, Pacer};
use flink_chk::transfer::round::{self, Sources, Target};
use flink_chk::transfer::run::{self, Control, Observer, Options, Published};
use serde_json::Value;

use crate::common::{find_metadata, job_dir, repo, scenario, truth, walk};
use crate::copy::{copy_tree, mirror_path, run_json, s, snapshot_of};
use crate::oracle::{Mapping, compare_mapped};

/// `replicate ROOT --to DST --rebase … --journal … --json ARGS…`.
fn replicate(
    root: &Path,
    dst: &Path,
    rebases: &[String],
    journal: &Path,
    more: &[&str],
) -> (Value, i32, String) {
    let mut args: Vec<String> = vec![
        "replicate".into(),
        s(root).into(),
        "--to".into(),
        s(dst).into(),
        "--journal".into(),
        s(journal).into(),
        "--json".into(),
    ];
    for r in rebases {
        args.push("--rebase".into());
        args.push(r.clone());
    }
    args.extend(more.iter().map(|m| (*m).to_owned()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    run_json(&argv)
}

/// The distinct files a snapshot's truth lists, as read under `src`
/// (recorded paths under `generated` rebased), with their sizes on disk.
fn closure(t: &Value, generated: &str, src: &Path) -> BTreeMap<PathBuf, u64> {
    t["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["path"].as_str().unwrap();
            let p = p.strip_prefix("file:").unwrap_or(p);
            let rel = p.strip_prefix(generated).unwrap().trim_start_matches('/');
            let at = src.join(rel);
            let size = std::fs::metadata(&at).unwrap().len();
            (at, size)
        })
        .collect()
}

/// Checks a published replica snapshot against Flink's truth of its source.
fn matches_truth(replica_dir: &Path, source_meta: &Path, generated: &str, dst: &Path) {
    let map = mirror_path(generated, dst);
    let m = Mapping {
        dir: Location::parse(s(replica_dir)).unwrap(),
        path: &map,
        relative_ok: false,
    };
    let d = compare_mapped(
        &replica_dir.join("_metadata"),
        &truth(source_meta),
        Some(&m),
    );
    assert!(
        d.is_empty(),
        "{}: {}",
        replica_dir.display(),
        d.join("\n  ")
    );
}

fn hide(meta: &Path, to: &Path) {
    std::fs::rename(meta, to).unwrap();
}

/// A committed scenario copied to a scratch directory, to replicate from.
pub(crate) struct Copied {
    /// The scratch directory (removed when dropped).
    pub tmp: tempfile::TempDir,
    /// The committed scenario (its truth files).
    pub dir: PathBuf,
    /// The root Flink wrote it under.
    pub generated: String,
    /// The copy.
    pub src: PathBuf,
    /// Where the replica goes.
    pub dst: PathBuf,
    /// The copy's checkpoints root.
    pub ck: PathBuf,
    /// Its (first) job directory and that job's id.
    pub job: PathBuf,
    pub name: String,
    /// The `--rebase` that reads the copy where Flink recorded it.
    pub rebase: String,
}

pub(crate) fn copied(version: &str, scenario_name: &str) -> Copied {
    let (dir, generated) = scenario(version, scenario_name);
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let dst = tmp.path().join("dst");
    copy_tree(&dir, &src);
    let ck = src.join("checkpoints");
    let job = job_dir(&ck);
    let name = job.file_name().unwrap().to_str().unwrap().to_owned();
    let rebase = format!("{generated}={}", src.display());
    Copied {
        tmp,
        dir,
        generated,
        src,
        dst,
        ck,
        job,
        name,
        rebase,
    }
}

/// Rounds as checkpoints complete: each publishes the newest, copying only
/// the files the replica lacks; `--keep 1` prunes the replica to exactly
/// the kept snapshot's closure; the replica restores without its source.
#[test]
fn rounds_copy_only_new_files_publish_last_and_prune_to_the_kept_closure() {
    let Copied {
        tmp,
        dir,
        generated,
        src,
        dst,
        ck,
        job,
        name,
        rebase,
    } = copied("2.3", "rocksdb-incremental");
    let journal = tmp.path().join("journal.jsonl");
    let rebase = vec![rebase];
    let truth_of = |n: u64| dir.join(format!("checkpoints/{name}/chk-{n}/_metadata"));
    hide(&job.join("chk-5/_metadata"), &tmp.path().join("m5"));
    hide(&job.join("chk-6/_metadata"), &tmp.path().join("m6"));

    // Round 1: chk-4, its whole closure.
    let c4 = closure(&truth(&truth_of(4)), &generated, &src);
    let (v, code, err) = replicate(&ck, &dst, &rebase, &journal, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(v["snapshots"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["snapshots"][0]["status"], "published");
    assert_eq!(v["snapshots"][0]["checkpoint_id"], 4);
    assert_eq!(v["copied_files"].as_u64(), Some(c4.len() as u64));
    assert_eq!(v["copied_bytes"].as_u64(), Some(c4.values().sum::<u64>()));
    assert!(
        err.contains("published "),
        "one log line per snapshot: {err}"
    );
    let r4 = dst.join(&name).join("chk-4");
    matches_truth(&r4, &truth_of(4), &generated, &dst);
    // The identity: which source snapshot this replica version is.
    let id: Value = serde_json::from_slice(&std::fs::read(r4.join(IDENTITY)).unwrap()).unwrap();
    let src_meta = std::fs::read(job.join("chk-4/_metadata")).unwrap();
    assert_eq!(id["kind"], "checkpoint");
    assert_eq!(id["job"], name.as_str());
    assert_eq!(id["checkpoint_id"], 4);
    assert_eq!(id["source"], s(&job.join("chk-4")));
    assert_eq!(
        id["source_metadata_bytes"].as_u64(),
        Some(src_meta.len() as u64)
    );
    assert_eq!(
        id["source_metadata_crc32c"],
        flink_chk::transfer::replica::crc32c_hex(&src_meta)
    );
    assert_eq!(id["files"].as_u64(), Some(c4.len() as u64));
    // Nothing new: nothing copied.
    let (v, code, _) = replicate(&ck, &dst, &rebase, &journal, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        (v["copied_files"].as_u64(), v["up_to_date"].as_u64()),
        (Some(0), Some(1))
    );
    assert!(v["snapshots"].as_array().unwrap().is_empty());

    // Round 2: chk-5 completes; only what chk-4 did not have is copied.
    hide(&tmp.path().join("m5"), &job.join("chk-5/_metadata"));
    let c5 = closure(&truth(&truth_of(5)), &generated, &src);
    let new: BTreeMap<&PathBuf, &u64> = c5.iter().filter(|(p, _)| !c4.contains_key(*p)).collect();
    assert!(
        !new.is_empty() && new.len() < c5.len(),
        "an incremental checkpoint"
    );
    let (v, code, err) = replicate(&ck, &dst, &rebase, &journal, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(v["snapshots"][0]["checkpoint_id"], 5);
    assert_eq!(v["copied_files"].as_u64(), Some(new.len() as u64), "{v}");
    assert_eq!(
        v["copied_bytes"].as_u64(),
        Some(new.values().copied().sum::<u64>())
    );
    matches_truth(
        &dst.join(&name).join("chk-5"),
        &truth_of(5),
        &generated,
        &dst,
    );

    // Round 3 with --keep 1: chk-6 published, then chk-4 and chk-5 and every
    // file only they needed pruned. Without --yes and no terminal: nothing.
    hide(&tmp.path().join("m6"), &job.join("chk-6/_metadata"));
    let (v, code, _) = replicate(&ck, &dst, &rebase, &journal, &["--keep", "1"]);
    assert_eq!(code, 0);
    assert_eq!(v["prune"]["skipped"], "not on a terminal and no --yes");
    assert!(dst.join(&name).join("chk-4/_metadata").exists());
    let (v, code, err) = replicate(&ck, &dst, &rebase, &journal, &["--keep", "1", "--yes"]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert!(v["prune"]["deleted_files"].as_u64().unwrap() > 0, "{v}");
    let c6 = closure(&truth(&truth_of(6)), &generated, &src);
    let mut want: BTreeSet<PathBuf> = c6
        .keys()
        .map(|p| dst.join(p.strip_prefix(&ck).unwrap()))
        .collect();
    let r6 = dst.join(&name).join("chk-6");
    want.insert(r6.join("_metadata"));
    want.insert(r6.join(IDENTITY));
    let have: BTreeSet<PathBuf> = walk(&dst).into_iter().collect();
    assert_eq!(have, want, "the replica holds exactly the kept closure");

    // Status and failover help, then the source gone: the replica restores.
    let (st, code, _) = run_json(&[
        "replicate",
        s(&ck),
        "--to",
        s(&dst),
        "--rebase",
        &rebase[0],
        "--status",
        "--json",
    ]);
    assert_eq!(code, 0, "{st}");
    assert_eq!(st["jobs"][0]["up_to_date"], true);
    assert_eq!(st["jobs"][0]["replica_newest"]["checkpoint_id"], 6);
    assert_eq!(st["jobs"][0]["bytes_behind"], 0);
    std::fs::remove_dir_all(&src).unwrap();
    matches_truth(&r6, &truth_of(6), &generated, &dst);
    let (p, code, _) = run_json(&["replicate", "--to", s(&dst), "--promote", &name, "--json"]);
    assert_eq!(code, 0, "{p}");
    assert_eq!(p["verified"], true);
    assert_eq!(p["claim_mode"], "NO_CLAIM");
    assert_eq!(p["restore_path"], format!("file:{}", r6.display()));
}

/// Restore lineages: a job restored from another job's checkpoint (CLAIM,
/// LEGACY) needs that job's shared files. Its replica holds them under the
/// other job's directory and restores with the source gone.
#[test]
fn lineages_replicate_whole_and_restore_without_their_source() {
    for name in ["restore-claim", "restore-legacy", "restore-no-claim"] {
        let (dir, generated) = scenario("2.3", name);
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        let dst = tmp.path().join("dst");
        copy_tree(&dir, &src);
        let rebase = vec![format!("{generated}={}", src.display())];
        let (v, code, err) = replicate(
            &src.join("checkpoints"),
            &dst,
            &rebase,
            &tmp.path().join("j"),
            &[],
        );
        assert_eq!(code, 0, "{name}: {v}\n{err}");
        let published: Vec<&Value> = v["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["status"] == "published")
            .collect();
        assert!(!published.is_empty(), "{name}: {v}");
        std::fs::remove_dir_all(&src).unwrap();
        for p in published {
            let source = PathBuf::from(p["source"].as_str().unwrap());
            let rel = source.strip_prefix(tmp.path().join("src")).unwrap();
            let replica = PathBuf::from(p["destination"].as_str().unwrap());
            matches_truth(&replica, &dir.join(rel).join("_metadata"), &generated, &dst);
            let (dv, dcode, derr) = run_json(&["deps", "--verify", "--json", s(&replica)]);
            assert_eq!(dcode, 0, "{name}: {dv}\n{derr}");
        }
    }
}

/// A snapshot directory the replicator did not write (a job restored from
/// the replica writes its own checkpoints there) stops replication before
/// anything is copied, with exit code 2; `--status` says so too.
#[test]
fn a_job_writing_into_the_replica_stops_replication() {
    let Copied {
        tmp,
        dst,
        ck,
        job,
        name,
        rebase,
        ..
    } = copied("2.3", "rocksdb-incremental");
    let rebase = vec![rebase];
    let journal = tmp.path().join("j");
    hide(&job.join("chk-6/_metadata"), &tmp.path().join("m6"));
    let (_, code, _) = replicate(&ck, &dst, &rebase, &journal, &[]);
    assert_eq!(code, 0);
    hide(&tmp.path().join("m6"), &job.join("chk-6/_metadata"));
    // Flink, restored from the replica, takes chk-7 there.
    let own = dst.join(&name).join("chk-7");
    std::fs::create_dir_all(&own).unwrap();
    std::fs::write(own.join("a-state-file"), b"state").unwrap();
    let before = snapshot_of(&dst);
    let (v, code, err) = replicate(&ck, &dst, &rebase, &journal, &[]);
    assert_eq!(code, 2, "{v}\n{err}");
    assert_eq!(v["foreign"][0], s(&own));
    assert!(
        err.contains("replication stopped") && err.contains(s(&own)),
        "on stderr too: {err}"
    );
    assert!(snapshot_of(&dst) == before, "nothing copied");
    let (st, code, _) = run_json(&[
        "replicate",
        s(&ck),
        "--to",
        s(&dst),
        "--rebase",
        &rebase[0],
        "--status",
        "--json",
    ]);
    assert_eq!(code, 2, "{st}");
    // An older completed one without an identity: the same.
    std::fs::remove_dir_all(&own).unwrap();
    let old = dst.join(&name).join("chk-1");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::copy(job.join("chk-4/_metadata"), old.join("_metadata")).unwrap();
    let (_, code, _) = replicate(&ck, &dst, &rebase, &journal, &[]);
    assert_eq!(code, 2);
    // Human output explains.
    std::fs::remove_dir_all(&old).unwrap();
    std::fs::create_dir_all(&own).unwrap();
    std::fs::write(own.join("_metadata"), b"x").unwrap();
    let out = crate::common::flink_chk()
        .args([
            "replicate",
            s(&ck),
            "--to",
            s(&dst),
            "--rebase",
            &rebase[0],
            "--journal",
            s(&journal),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("a failover happened?"), "{text}");
}

/// Flink subsumes and deletes the checkpoint being replicated: it is
/// abandoned (never published) and the newer one planned and published in
/// the same run, reusing the files already copied.
#[test]
fn a_checkpoint_subsumed_mid_copy_is_abandoned_for_the_newer_one() {
    let Copied {
        tmp,
        dir,
        generated,
        dst,
        ck,
        job,
        name,
        rebase,
        ..
    } = copied("2.3", "rocksdb-incremental");
    hide(&job.join("chk-6/_metadata"), &tmp.path().join("m6"));
    std::fs::remove_dir_all(job.join("chk-4")).unwrap();
    // About five seconds at 40 KiB/s: the subsumption lands mid-copy.
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("flink-chk"))
        .args([
            "replicate",
            s(&ck),
            "--to",
            s(&dst),
            "--rebase",
            &rebase,
            "--journal",
            s(&tmp.path().join("j")),
            "--bwlimit",
            "40K",
            "--json",
        ])
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let id5 = dst.join(&name).join("chk-5").join(IDENTITY);
    let t0 = std::time::Instant::now();
    while !id5.exists() && t0.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    // Flink: chk-6 completes, chk-5 is subsumed and deleted.
    hide(&tmp.path().join("m6"), &job.join("chk-6/_metadata"));
    std::fs::remove_dir_all(job.join("chk-5")).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert_eq!(out.status.code(), Some(0), "{v}\n{err}");
    let status: BTreeMap<i64, &str> = v["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["checkpoint_id"].as_i64().unwrap(),
                s["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(status.get(&5), Some(&"not_published"), "{v}");
    assert_eq!(status.get(&6), Some(&"published"), "{v}");
    assert!(!dst.join(&name).join("chk-5/_metadata").exists());
    assert!(
        v["skipped_files"].as_u64().unwrap() > 0,
        "files copied for chk-5 reused: {v}"
    );
    matches_truth(
        &dst.join(&name).join("chk-6"),
        &dir.join(format!("checkpoints/{name}/chk-6/_metadata")),
        &generated,
        &dst,
    );
}

/// Every 2.3 scenario's checkpoints (changelog ones aside) in one root, and
/// the `--rebase` rules to read it.
fn many_jobs(root: &Path) -> Vec<String> {
    let base = repo().join("tests/fixtures/flink/2.3");
    let mut names: Vec<String> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut rebases = Vec::new();
    for n in names {
        let (dir, generated) = scenario("2.3", &n);
        if !dir.join("checkpoints").is_dir() || dir.join("dstl").exists() {
            continue;
        }
        copy_tree(&dir.join("checkpoints"), root);
        rebases.push(format!("{generated}/checkpoints={}", root.display()));
    }
    rebases
}

/// Bytes of the data files under `dir` (a replica), `.part` temporaries of
/// a killed run included, `_metadata` and identity files not.
fn data_bytes(dir: &Path) -> u64 {
    walk(dir)
        .iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n != "_metadata" && n != IDENTITY
        })
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum()
}

/// SIGKILL at random points of a budgeted run: after each kill every
/// published `_metadata` has its whole closure; the resumed run finishes
/// and re-copies at most the file that was in flight (one copy slot under
/// the budget), so the bytes copied in all stay within the bytes needed
/// plus the largest file.
#[test]
fn sigkill_at_random_points_never_leaves_an_incomplete_published_replica() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let rebases = many_jobs(&src);
    // What a whole run copies.
    let (v, code, err) = replicate(
        &src,
        &tmp.path().join("ref"),
        &rebases,
        &tmp.path().join("rj"),
        &[],
    );
    assert_eq!(code, 0, "{v}\n{err}");
    let needed = v["copied_bytes"].as_u64().unwrap();
    let largest = walk(&tmp.path().join("ref"))
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .max()
        .unwrap();
    let jobs = v["snapshots"].as_array().unwrap().len();
    assert!(jobs >= 8, "{v}");
    // At 512 KiB/s the whole run takes needed / 512 KiB seconds.
    let span = needed as f64 / (512.0 * 1024.0);
    let mut worst = 0.0f64;
    for seed in 0u64..5 {
        let dst = tmp.path().join(format!("dst{seed}"));
        let journal = tmp.path().join(format!("j{seed}"));
        let mut args: Vec<String> = vec![
            "replicate".into(),
            s(&src).into(),
            "--to".into(),
            s(&dst).into(),
            "--journal".into(),
            s(&journal).into(),
            "--bwlimit".into(),
            "512K".into(),
        ];
        for r in &rebases {
            args.push("--rebase".into());
            args.push(r.clone());
        }
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("flink-chk"))
            .args(&args)
            .env_clear()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // A point in the run picked by the seed (splitmix64).
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let frac = ((z ^ (z >> 31)) % 1000) as f64 / 1000.0;
        std::thread::sleep(std::time::Duration::from_secs_f64(0.2 + frac * span * 0.8));
        child.kill().unwrap();
        child.wait().unwrap();
        let published = find_metadata(&dst);
        for m in &published {
            let (dv, dcode, derr) =
                run_json(&["deps", "--verify", "--json", s(m.parent().unwrap())]);
            assert_eq!(
                dcode,
                0,
                "seed {seed}: {} published incomplete: {dv}\n{derr}",
                m.display()
            );
        }
        let at_kill = data_bytes(&dst);
        let (v, code, err) = replicate(&src, &dst, &rebases, &journal, &[]);
        assert_eq!(code, 0, "seed {seed}: {v}\n{err}");
        assert_eq!(find_metadata(&dst).len(), jobs, "seed {seed}");
        let total = at_kill + v["copied_bytes"].as_u64().unwrap();
        assert!(
            total <= needed + largest,
            "seed {seed}: {total} bytes copied in all for {needed} needed (largest file {largest})"
        );
        worst = worst.max(total as f64 / needed as f64);
        // The killed run's temporaries were replaced by the files.
        assert!(
            walk(&dst)
                .iter()
                .all(|p| !p.to_string_lossy().contains(".flink-chk.part")),
            "seed {seed}"
        );
        assert_eq!(data_bytes(&dst), needed, "seed {seed}");
    }
    eprintln!(
        "sigkill: worst bytes copied / needed = {worst:.3} ({needed} needed, largest file {largest})"
    );
}

/// Records when each snapshot was published (tokio's clock).
#[derive(Default)]
struct Times(Mutex<Vec<(usize, tokio::time::Instant)>>);

impl Observer for Times {
    fn bytes(&self, _: u64) {}
    fn file_done(&self) {}
    fn published(&self, k: usize, p: &Published) {
        assert!(matches!(p, Published::New), "{p:?}");
        self.0
            .lock()
            .unwrap()
            .push((k, tokio::time::Instant::now()));
    }
}

/// Two jobs in memory, each's newest checkpoint planned into `/replica`.
async fn two_jobs() -> (MemoryStorage, round::Prepared) {
    let mem = MemoryStorage::new();
    let mut jobs = Vec::new();
    for name in ["rocksdb-full", "hashmap"] {
        let (dir, generated) = scenario("2.3", name);
        for f in walk(&dir) {
            let rel = f.strip_prefix(&dir).unwrap();
            let at = Location::parse(&format!("{generated}/{}", rel.display())).unwrap();
            mem.put(&at, std::fs::read(&f).unwrap());
        }
        let job = job_dir(&dir.join("checkpoints"));
        jobs.push(
            Location::parse(&format!(
                "{generated}/checkpoints/{}",
                job.file_name().unwrap().to_str().unwrap()
            ))
            .unwrap(),
        );
    }
    let sources = Sources {
        jobs,
        ..Sources::default()
    };
    let target = Target {
        checkpoints: Location::parse("/replica").unwrap(),
        savepoints: None,
    };
    let found = round::discover(&mem, &sources, 4).await.unwrap();
    assert_eq!(found.len(), 2);
    let planned = round::plan_round(&mem, found, &target, &Rebase::default(), &[], 4).await;
    assert!(planned.unplanned.is_empty(), "{:?}", planned.unplanned);
    let prepared = planned
        .prepare(&mem, std::slice::from_ref(&target.checkpoints), None)
        .await
        .unwrap();
    (mem, prepared)
}

fn secs(a: tokio::time::Instant, b: tokio::time::Instant) -> f64 {
    a.duration_since(b).as_secs_f64()
}

/// Priorities 9 and 1 under one tight budget (64 KiB/s: one copy slot):
/// the priority-9 snapshot gets the whole budget and is published when its
/// bytes have passed at the cap; the other follows at once (not starved);
/// the total rate is the cap within 5 %. A limit changed mid-run applies at
/// once; an interactive copy holds new files back. On tokio's virtual
/// clock: exact, whatever the machine is doing.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn priorities_share_one_budget_and_the_limit_changes_while_running() {
    const CAP: f64 = 64.0 * 1024.0;
    for case in ["priorities", "limit changed", "held"] {
        let (mem, prepared) = two_jobs().await;
        let bytes: Vec<u64> = prepared.parts.iter().map(|(_, id)| id.bytes).collect();
        // The larger job gets priority 1, the smaller 9.
        let (hi, lo) = if bytes[0] < bytes[1] { (0, 1) } else { (1, 0) };
        let mut priorities = vec![0u8; 2];
        priorities[hi] = 9;
        priorities[lo] = 1;
        let limiter = Arc::new(Limiter::new(Schedule::parse("64K").unwrap()));
        let pacer = Arc::new(Pacer::new(Some(limiter.clone())));
        assert_eq!(pacer.slots(32), 1, "64 KiB/s feeds one slot");
        let opts = Options {
            concurrency: 8,
            chunk: 4096,
            limiter: Some(limiter.clone()),
            dest_roots: vec![Location::parse("/replica").unwrap()],
            priorities,
            control: Some(pacer.clone() as Arc<dyn Control>),
            ..Options::default()
        };
        let times = Times::default();
        let t0 = tokio::time::Instant::now();
        let hold = 3.0;
        if case == "held" {
            pacer.hold(Some("an interactive copy".into()));
            let p = pacer.clone();
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_secs_f64(hold)).await;
                p.hold(None);
            });
        }
        let half = bytes[hi] as f64 / CAP / 2.0;
        if case == "limit changed" {
            let l = limiter.clone();
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_secs_f64(half)).await;
                l.set(Schedule::parse("128K").unwrap());
            });
        }
        let report = run::copy(&prepared.plan, &mem, &mem, None, &opts, &times).await;
        assert!(
            report.snapshots.iter().all(|p| *p == Published::New),
            "{report:?}"
        );
        let t = times.0.lock().unwrap().clone();
        assert_eq!(
            t[0].0, hi,
            "{case}: the priority-9 snapshot is published first"
        );
        let (t_hi, t_lo) = (secs(t[0].1, t0), secs(t[1].1, t0));
        let total = (bytes[hi] + bytes[lo]) as f64;
        let (want_hi, want_lo) = match case {
            "priorities" => (bytes[hi] as f64 / CAP, total / CAP),
            // Half of it at 64 KiB/s, the rest at 128 KiB/s.
            "limit changed" => (
                half + (bytes[hi] as f64 - half * CAP) / (2.0 * CAP),
                half + (total - half * CAP) / (2.0 * CAP),
            ),
            _ => (hold + bytes[hi] as f64 / CAP, hold + total / CAP),
        };
        // Held files are looked at again every 200 ms; a new limit applies
        // from the next chunk (one 4 KiB chunk at the old rate).
        let tick = match case {
            "held" => 0.2,
            "limit changed" => 4096.0 / CAP,
            _ => 0.0,
        };
        for (got, want, what) in [(t_hi, want_hi, "priority 9"), (t_lo, want_lo, "priority 1")] {
            assert!(
                (got - want).abs() <= want * 0.05 + tick,
                "{case}: {what} published after {got:.2} s, {want:.2} s expected at the cap"
            );
        }
    }
}
