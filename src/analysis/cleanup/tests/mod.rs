//! Plans over real Flink trees (the committed fixtures, copied to a
//! temporary directory), checked against Flink's own file lists
//! (`_metadata.oracle.json`): the candidates must be exactly the files
//! on disk that no kept snapshot lists.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::*;

mod apply;
mod changed;
mod manifest;
use crate::storage::{Settings, Storages};

pub(crate) fn fixture(version: &str, name: &str) -> (tempfile::TempDir, PathBuf, String) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/flink")
        .join(version)
        .join(name);
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join(name);
    copy(&src, &dst);
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("scenario.json")).unwrap()).unwrap();
    (tmp, dst, s["generated_root"].as_str().unwrap().to_owned())
}

pub(crate) fn copy(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy(&p, &dst.join(e.file_name()));
        } else if e.file_name() != "_metadata.oracle.json" {
            let to = dst.join(e.file_name());
            std::fs::copy(&p, &to).unwrap();
            set_flink_order_mtime(&to);
        }
    }
}

/// Copies (and git checkouts) lose Flink's write order. Restores its
/// essence: every file one day old, each `chk-N/_metadata` N seconds
/// younger, so each checkpoint's `_metadata` is newer than its files.
pub(crate) fn set_flink_order_mtime(file: &Path) {
    let base = std::time::SystemTime::now() - Duration::from_secs(86_400);
    let n = (file.file_name().is_some_and(|n| n == "_metadata"))
        .then(|| {
            file.parent()?
                .file_name()?
                .to_str()?
                .strip_prefix("chk-")?
                .parse::<u64>()
                .ok()
        })
        .flatten()
        .unwrap_or(0);
    let f = std::fs::File::options().write(true).open(file).unwrap();
    f.set_modified(base + Duration::from_secs(n)).unwrap();
}

/// Every file under `dir`, as absolute paths.
pub(crate) fn files(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.to_string_lossy().into_owned());
            }
        }
    }
    out
}

/// Flink's file list for the snapshot in `dir` (from the committed truth file).
pub(crate) fn oracle_files(
    fixture: &Path,
    copy_root: &Path,
    dir: &Path,
    generated: &str,
) -> BTreeSet<String> {
    let rel = dir.strip_prefix(copy_root).unwrap();
    let t: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture.join(rel).join("_metadata.oracle.json")).unwrap(),
    )
    .unwrap();
    t["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["path"]
                .as_str()
                .unwrap()
                .trim_start_matches("file:")
                .replacen(generated, &copy_root.to_string_lossy(), 1)
        })
        .collect()
}

pub(crate) fn policy(keep_last: usize) -> Policy {
    Policy {
        keep_last,
        min_age: Duration::ZERO,
        keep: Vec::new(),
        include_savepoints: BTreeSet::new(),
        drop_jobs: BTreeSet::new(),
        stopped: false,
        now: jiff::Timestamp::now(),
    }
}

fn run(root: &Path, generated: &str, policy: &Policy) -> Result<Plan, Error> {
    run_on(&Storages::new(Settings::default()), root, generated, policy)
}

/// The rebase mapping a fixture's recorded paths into its copy.
pub(crate) fn rebase(root: &Path, generated: &str) -> Rebase {
    Rebase::parse(&[format!("file:{generated}={}", root.display())]).unwrap()
}

/// Plans the copy at `root` through `storage`.
pub(crate) fn run_on(
    storage: &dyn Storage,
    root: &Path,
    generated: &str,
    policy: &Policy,
) -> Result<Plan, Error> {
    let rebase = rebase(root, generated);
    let ck = Location::parse(&root.join("checkpoints").to_string_lossy()).unwrap();
    let sp = root.join("savepoints");
    let sp = sp
        .is_dir()
        .then(|| Location::parse(&sp.to_string_lossy()).unwrap());
    tokio::runtime::Runtime::new().unwrap().block_on(plan(
        storage,
        Roots {
            checkpoints: &ck,
            scope: &ck,
            savepoints: sp.as_ref(),
        },
        policy,
        &rebase,
        8,
        |_, _| {},
    ))
}

/// Files the plan would delete (directories expanded from disk).
pub(crate) fn planned(plan: &Plan) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in &plan.candidates.to_vec().unwrap() {
        let p = PathBuf::from(c.path.canonical());
        if c.is_dir {
            out.extend(files(&p));
        } else {
            out.insert(p.to_string_lossy().into_owned());
        }
    }
    out
}

fn snapshot_dirs(root: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = files(root)
        .into_iter()
        .filter(|f| f.ends_with("/_metadata"))
        .map(|f| PathBuf::from(f).parent().unwrap().to_path_buf())
        .collect();
    v.sort();
    v
}

#[test]
fn retention_keeps_exactly_what_the_newest_checkpoint_and_savepoint_need() {
    let fixture_dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flink/2.3/rocksdb-incremental");
    let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
    let snaps = snapshot_dirs(&root);
    let chks: Vec<&PathBuf> = snaps
        .iter()
        .filter(|d| d.to_string_lossy().contains("/chk-"))
        .collect();
    assert_eq!(chks.len(), 3);
    let newest = chks[2];
    let savepoint = snaps
        .iter()
        .find(|d| d.to_string_lossy().contains("savepoint-"))
        .unwrap();
    let p = run(&root, &generated, &policy(1)).unwrap();
    // Kept: chk-6 and the savepoint with everything they reference.
    let mut needed = oracle_files(&fixture_dir, &root, newest, &generated);
    needed.extend(oracle_files(&fixture_dir, &root, savepoint, &generated));
    let on_disk = files(&root.join("checkpoints"));
    let want: BTreeSet<String> = on_disk
        .iter()
        .filter(|f| !needed.contains(*f))
        .filter(|f| !f.starts_with(&newest.to_string_lossy().into_owned()))
        .cloned()
        .collect();
    let got = planned(&p);
    assert_eq!(got, want);
    assert!(
        got.iter().any(|f| f.contains("/shared/")),
        "shared files only older checkpoints used"
    );
    // chk-4 and chk-5 go as whole directories, _metadata first.
    let all = p.candidates.to_vec().unwrap();
    let dirs: Vec<&Candidate> = all.iter().filter(|c| c.is_dir).collect();
    assert_eq!(dirs.len(), 2);
    assert!(
        dirs.iter()
            .all(|c| c.reason == Reason::SubsumedCheckpoint && c.metadata.is_some())
    );
    assert!(
        p.candidates
            .to_vec()
            .unwrap()
            .iter()
            .filter(|c| !c.is_dir)
            .all(|c| c.reason == Reason::OrphanShared)
    );
    assert_eq!(p.snapshots_read, 2);
    // Retaining all three: nothing to delete (Flink itself removed what they do not share).
    let p = run(&root, &generated, &policy(3)).unwrap();
    assert!(p.candidates.is_empty(), "{:#?}", p.candidates);
}

/// A crashed Flink run (JVM halted while checkpoint 5 was uploading):
/// the orphans are exactly the `shared/` files no `_metadata` lists
/// (recorded by the generator from Flink's own file lists); the
/// in-progress `chk-5/` is kept.
#[test]
fn crashed_run_orphans_are_the_candidates() {
    let (_tmp, root, generated) = fixture("2.3", "cleanup-crash");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("scenario.json")).unwrap())
            .unwrap();
    let orphans: BTreeSet<String> = s["orphans"]["unreferenced_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            root.join(f.as_str().unwrap())
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let in_progress = s["orphans"]["in_progress_dirs"][0].as_str().unwrap();
    let in_progress = root.join(in_progress).to_string_lossy().into_owned();
    let p = run(&root, &generated, &policy(2)).unwrap();
    let want: BTreeSet<String> = orphans
        .iter()
        .filter(|f| !f.starts_with(&in_progress))
        .cloned()
        .collect();
    assert!(want.len() >= 10, "{want:?}");
    assert_eq!(planned(&p), want);
    assert!(
        p.candidates
            .to_vec()
            .unwrap()
            .iter()
            .all(|c| c.reason == Reason::OrphanShared)
    );
    assert!(p.kept.iter().any(
        |k| k.reason == KeepReason::InProgress && k.path.canonical().starts_with(&in_progress)
    ));
}

#[test]
fn minimum_age_keeps_young_files() {
    let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
    let mut pol = policy(1);
    pol.min_age = Duration::from_secs(2 * 86_400);
    let p = run(&root, &generated, &pol).unwrap();
    assert!(
        p.candidates.is_empty(),
        "files are a day old: all younger than 2 days"
    );
    assert!(p.kept.iter().any(|k| k.reason == KeepReason::TooYoung));
}

fn job_of(root: &Path) -> PathBuf {
    std::fs::read_dir(root.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap()
}

fn touch(p: &Path, t: std::time::SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(p)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// A shared/ file written after the newest completed checkpoint may
/// belong to one being taken: kept unless the job is stated stopped.
#[test]
fn shared_files_newer_than_the_newest_checkpoint_wait() {
    let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
    let p = run(&root, &generated, &policy(1)).unwrap();
    let orphan = p
        .candidates
        .to_vec()
        .unwrap()
        .iter()
        .find(|c| c.reason == Reason::OrphanShared)
        .unwrap()
        .path
        .canonical();
    touch(Path::new(&orphan), std::time::SystemTime::now());
    let p = run(&root, &generated, &policy(1)).unwrap();
    assert!(!planned(&p).contains(&orphan));
    assert!(p.kept.iter().any(|k| k.reason == KeepReason::AfterNewest));
    let mut stopped = policy(1);
    stopped.stopped = true;
    let p = run(&root, &generated, &stopped).unwrap();
    assert!(planned(&p).contains(&orphan));
}

/// A job redeployed from an older snapshot restarts its ids below a
/// stale higher chk-N: the checkpoint written last is kept too, and the
/// live in-progress one is not "abandoned".
#[test]
fn the_checkpoint_written_last_is_kept_even_with_a_lower_id() {
    let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
    let job = job_of(&root);
    // chk-4 becomes a stale chk-99 written long ago.
    std::fs::rename(job.join("chk-4"), job.join("chk-99")).unwrap();
    touch(
        &job.join("chk-99/_metadata"),
        std::time::SystemTime::now() - Duration::from_secs(10 * 86_400),
    );
    // The live job is taking chk-7.
    std::fs::create_dir_all(job.join("chk-7")).unwrap();
    let p = run(&root, &generated, &policy(1)).unwrap();
    let kept: BTreeSet<String> = p
        .kept
        .iter()
        .map(|k| k.path.canonical())
        .filter(|k| k.contains("/chk-"))
        .collect();
    let has = |n: &str| kept.iter().any(|k| k.ends_with(n));
    assert!(has("chk-99") && has("chk-6"), "{kept:?}");
    let dirs: Vec<String> = p
        .candidates
        .to_vec()
        .unwrap()
        .iter()
        .filter(|c| c.is_dir)
        .map(|c| c.path.canonical())
        .collect();
    assert!(
        dirs.iter()
            .all(|d| !d.ends_with("chk-6") && !d.ends_with("chk-7")),
        "{dirs:?}"
    );
}

/// shared/ under something that is not a job directory is not Flink's.
#[test]
fn shared_outside_a_job_directory_is_never_a_candidate() {
    let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
    let doc = root.join("checkpoints/team-docs/shared/contracts/2024.pdf");
    std::fs::create_dir_all(doc.parent().unwrap()).unwrap();
    std::fs::write(&doc, b"x").unwrap();
    touch(
        &doc,
        std::time::SystemTime::now() - Duration::from_secs(86_400 * 30),
    );
    let p = run(&root, &generated, &policy(1)).unwrap();
    assert!(!planned(&p).iter().any(|f| f.contains("team-docs")));
}

/// A tree Flink wrote elsewhere, planned without --rebase: the kept
/// snapshots' references name this root's job at another location, so
/// nothing can be matched — refused, with the --rebase to give.
#[test]
fn references_recorded_elsewhere_abort_with_the_rebase_to_give() {
    let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
    let storage = Storages::new(Settings::default());
    let ck = Location::parse(&root.join("checkpoints").to_string_lossy()).unwrap();
    let e = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(plan(
            &storage,
            Roots {
                checkpoints: &ck,
                scope: &ck,
                savepoints: None,
            },
            &policy(1),
            &Rebase::default(),
            4,
            |_, _| {},
        ))
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::RecordedElsewhere { .. }), "{msg}");
    assert!(
        msg.contains(&format!("--rebase {generated}/checkpoints={}", ck)),
        "{msg}"
    );
}

/// --drop-job of a job that is still writing is refused.
#[test]
fn dropping_a_job_that_still_writes_is_refused() {
    let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
    let job = job_of(&root);
    let young = job.join("shared/just-uploaded.sst");
    std::fs::write(&young, b"x").unwrap();
    let mut p = policy(1);
    p.min_age = Duration::from_secs(3600);
    p.drop_jobs
        .insert(job.file_name().unwrap().to_string_lossy().into_owned());
    let e = run(&root, &generated, &p).unwrap_err();
    assert!(matches!(e, Error::DroppedJobLive { .. }), "{e}");
    assert!(e.to_string().contains("just-uploaded.sst"), "{e}");
}

#[test]
fn restore_lineage_keeps_the_other_jobs_files() {
    for name in ["restore-claim", "restore-legacy", "restore-no-claim"] {
        let fixture_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/flink/2.3")
            .join(name);
        let (_tmp, root, generated) = fixture("2.3", name);
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join("scenario.json")).unwrap())
                .unwrap();
        let a = s["lineage"][0]["from_job"].as_str().unwrap().to_owned();
        let b = s["lineage"][0]["job"].as_str().unwrap().to_owned();
        // Job A is gone: only what B's kept checkpoints need of A survives.
        let mut pol = policy(1);
        pol.drop_jobs.insert(a.clone());
        let p = run(&root, &generated, &pol).unwrap();
        let b_newest = snapshot_dirs(&root.join("checkpoints").join(&b))
            .pop()
            .unwrap();
        let needed = oracle_files(&fixture_dir, &root, &b_newest, &generated);
        let planned = planned(&p);
        let a_dir = root
            .join("checkpoints")
            .join(&a)
            .to_string_lossy()
            .into_owned();
        let a_files: BTreeSet<String> = files(Path::new(&a_dir)).into_iter().collect();
        let want_a: BTreeSet<String> = a_files
            .iter()
            .filter(|f| !needed.contains(*f))
            .cloned()
            .collect();
        let got_a: BTreeSet<String> = planned
            .iter()
            .filter(|f| f.starts_with(&a_dir))
            .cloned()
            .collect();
        assert_eq!(got_a, want_a, "{name}");
        let refs_into_a = needed.iter().filter(|f| f.starts_with(&a_dir)).count();
        if name == "restore-no-claim" {
            assert_eq!(refs_into_a, 0, "{name}");
        } else {
            assert_eq!(
                refs_into_a, 10,
                "{name}: B's checkpoints use A's 10 .sst files"
            );
            // A's directory is not a whole-directory candidate then.
            assert!(
                !p.candidates
                    .to_vec()
                    .unwrap()
                    .iter()
                    .any(|c| c.is_dir && c.path.canonical() == a_dir)
            );
        }
        // Nothing B's newest checkpoint needs is planned.
        assert!(planned.is_disjoint(&needed), "{name}");
    }
}

#[test]
fn unreadable_kept_metadata_aborts_the_plan() {
    let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
    let newest = snapshot_dirs(&root.join("checkpoints")).pop().unwrap();
    std::fs::write(newest.join("_metadata"), b"not a checkpoint").unwrap();
    let e = run(&root, &generated, &policy(1)).unwrap_err();
    assert!(matches!(e, Error::UnreadableMetadata { .. }), "{e}");
    assert!(e.to_string().contains("chk-6/_metadata"), "{e}");
}

#[test]
fn in_progress_checkpoint_is_kept_and_old_one_without_metadata_is_abandoned() {
    let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
    let job = job_dir(&root);
    std::fs::create_dir_all(job.join("chk-9")).unwrap();
    std::fs::write(job.join("chk-9/part"), b"x").unwrap();
    std::fs::create_dir_all(job.join("chk-2")).unwrap();
    std::fs::write(job.join("chk-2/part"), b"y").unwrap();
    let p = run(&root, &generated, &policy(3)).unwrap();
    let c: Vec<(String, Reason)> = p
        .candidates
        .to_vec()
        .unwrap()
        .iter()
        .map(|c| (c.path.file_name().to_owned(), c.reason))
        .collect();
    assert_eq!(c, vec![("chk-2".to_owned(), Reason::AbandonedCheckpoint)]);
    assert!(p.kept.iter().any(|k| k.reason == KeepReason::InProgress
        && k.path.canonical().ends_with("chk-9/")
        || k.path.canonical().ends_with("chk-9")));
}

#[test]
fn empty_root_aborts() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("checkpoints")).unwrap();
    let e = run(tmp.path(), "/nowhere", &policy(1)).unwrap_err();
    assert!(matches!(e, Error::EmptyListing(_)), "{e}");
}

#[test]
fn working_directory_refused_unless_stopped() {
    let (_tmp, root, generated) = fixture("2.3", "rocksdb-incremental");
    let job = job_dir(&root);
    std::fs::create_dir_all(job.join("forst-working/db")).unwrap();
    std::fs::write(job.join("forst-working/db/000012.sst"), b"live").unwrap();
    let e = run(&root, &generated, &policy(1)).unwrap_err();
    assert!(matches!(e, Error::LiveWorkingDir(_)), "{e}");
    let mut pol = policy(1);
    pol.stopped = true;
    let p = run(&root, &generated, &pol).unwrap();
    // Even then, unknown files are never candidates.
    assert!(!planned(&p).iter().any(|f| f.contains("forst-working")));
}

/// The job directory of a single-job fixture.
fn job_dir(root: &Path) -> PathBuf {
    snapshot_dirs(&root.join("checkpoints"))
        .pop()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf()
}
