//! Applying plans on copies of real Flink trees, with storage faults
//! injected and with storage changing between planning and applying.
//! "Still restorable" = every file in Flink's own file list of the
//! snapshot (`_metadata.oracle.json`) is still there.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::analysis::cleanup;
use crate::analysis::cleanup::KeepReason;
use crate::analysis::cleanup::apply::*;
use crate::analysis::cleanup::revalidate::*;
use crate::analysis::cleanup::tests::{
    files, fixture, oracle_files, planned, policy, rebase, run_on,
};
use crate::analysis::cleanup::{Candidate, Error, Reason};
use crate::analysis::cleanup::{Plan, PlanFile, Policy};
use crate::analysis::snapshot::Rebase;
use crate::storage::Storage;
use crate::storage::faults::Faulty;
use crate::storage::{self, Entry, Location};
use crate::storage::{Settings, Storages};
use std::collections::BTreeMap;

pub(super) struct Case {
    _tmp: tempfile::TempDir,
    pub(super) root: PathBuf,
    pub(super) generated: String,
    pub(super) job: PathBuf,
}

pub(super) fn case(name: &str) -> Case {
    let (tmp, root, generated) = fixture("2.3", name);
    let job = std::fs::read_dir(root.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    Case {
        _tmp: tmp,
        root,
        generated,
        job,
    }
}

impl Case {
    pub(super) fn plan(&self, p: &Policy) -> (Plan, PlanFile) {
        let plan = || run_on(&local(), &self.root, &self.generated, p).unwrap();
        (plan(), PlanFile::new(plan(), p, &[]))
    }

    fn source(&self) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
            "tests/fixtures/flink/2.3/{}",
            self.root.file_name().unwrap().to_string_lossy()
        ))
    }

    /// Files of Flink's list for `chk` that are missing now.
    pub(super) fn missing(&self, chk: &str) -> Vec<String> {
        let dir = self.job.join(chk);
        oracle_files(&self.source(), &self.root, &dir, &self.generated)
            .into_iter()
            .filter(|f| !Path::new(f).is_file())
            .collect()
    }

    pub(super) fn revalidate(
        &self,
        storage: &dyn Storage,
        plan: &PlanFile,
    ) -> Result<Validated, Error> {
        rt().block_on(revalidate(
            storage,
            plan,
            plan.candidates.to_vec().unwrap(),
            &rebase(&self.root, &self.generated),
            4,
            |_, _| {},
        ))
    }
}

fn local() -> Storages {
    Storages::new(Settings::default())
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

pub(super) fn run_apply(storage: &dyn Storage, v: &Validated) -> (Applied, Vec<String>) {
    let mut order = Vec::new();
    let a = rt().block_on(apply(storage, v, |e| {
        if let Event::Deleted { path, .. } = e {
            order.push(path.canonical());
        }
    }));
    (a, order)
}

#[test]
fn clean_run_deletes_the_plan_metadata_first() {
    let c = case("rocksdb-incremental");
    let (plan, file) = c.plan(&policy(1));
    let expected = planned(&plan);
    let before = files(&c.root);
    let v = c.revalidate(&local(), &file).unwrap();
    assert!(v.dropped.is_empty(), "{:?}", v.dropped);
    let (a, order) = run_apply(&local(), &v);
    assert!(a.failed.is_empty(), "{:?}", a.failed);
    let after = files(&c.root);
    let gone: BTreeSet<String> = before.difference(&after).cloned().collect();
    assert_eq!(gone, expected);
    assert_eq!(a.deleted_files as usize, expected.len());
    // Both checkpoint directories' _metadata go before any other file.
    assert!(order[0].ends_with("chk-4/_metadata") && order[1].ends_with("chk-5/_metadata"));
    assert!(!c.job.join("chk-4").exists(), "empty directory removed");
    assert!(c.missing("chk-6").is_empty());
}

#[test]
fn errors_mid_delete_lose_nothing_kept_and_a_rerun_finishes() {
    let c = case("rocksdb-incremental");
    let (plan, file) = c.plan(&policy(1));
    let expected = planned(&plan);
    let before = files(&c.root);
    // The 3rd file handed to storage and every one after it fail.
    let faulty = Faulty::new(local()).fail_deletes_from(2);
    let v = c.revalidate(&faulty, &file).unwrap();
    let (a, _) = run_apply(&faulty, &v);
    assert_eq!(a.deleted_files, 2);
    assert_eq!(a.failed.len() as u64, expected.len() as u64 - 2);
    assert!(a.failed[0].1.contains(crate::storage::faults::INJECTED));
    // What went are the two _metadata: no half-deleted checkpoint looks restorable.
    assert!(!c.job.join("chk-4/_metadata").exists());
    assert!(!c.job.join("chk-5/_metadata").exists());
    assert!(c.missing("chk-6").is_empty());
    // A re-run plans the rest (chk-4/5 are now abandoned) and finishes.
    let (plan2, file2) = c.plan(&policy(1));
    assert!(
        plan2
            .candidates
            .to_vec()
            .unwrap()
            .iter()
            .any(|x| x.reason == Reason::AbandonedCheckpoint)
    );
    let v2 = c.revalidate(&local(), &file2).unwrap();
    let (a2, _) = run_apply(&local(), &v2);
    assert!(a2.failed.is_empty());
    let gone: BTreeSet<String> = before.difference(&files(&c.root)).cloned().collect();
    assert_eq!(gone, expected);
    assert!(c.missing("chk-6").is_empty());
    let _ = plan2;
}

#[test]
fn a_dropped_job_loses_every_metadata_before_anything_else() {
    let c = case("cleanup-crash");
    let mut p = policy(1);
    p.drop_jobs
        .insert(c.job.file_name().unwrap().to_string_lossy().into_owned());
    let (plan, file) = c.plan(&p);
    assert_eq!(plan.candidates.len(), 1, "{:?}", plan.candidates);
    assert!(plan.candidates.to_vec().unwrap()[0].is_dir);
    let metas: Vec<String> = files(&c.job)
        .into_iter()
        .filter(|f| f.ends_with("/_metadata"))
        .collect();
    assert_eq!(metas.len(), 2, "chk-3 and chk-4");
    let before = files(&c.root);
    // Only the first two deletes succeed.
    let faulty = Faulty::new(local()).fail_deletes_from(2);
    let v = c.revalidate(&faulty, &file).unwrap();
    let (a, order) = run_apply(&faulty, &v);
    assert_eq!(a.deleted_files, 2);
    assert!(order.iter().all(|f| f.ends_with("/_metadata")), "{order:?}");
    let gone: Vec<String> = before.difference(&files(&c.root)).cloned().collect();
    assert_eq!(gone, metas);
}

#[test]
fn a_metadata_that_cannot_be_deleted_leaves_its_checkpoint_whole() {
    let c = case("rocksdb-incremental");
    let (_, file) = c.plan(&policy(1));
    let chk4_before: BTreeSet<String> = files(&c.job.join("chk-4"));
    let faulty = Faulty::new(local()).fail_deletes_containing("chk-4/_metadata");
    let v = c.revalidate(&faulty, &file).unwrap();
    let (a, _) = run_apply(&faulty, &v);
    assert_eq!(a.failed.len(), 1);
    assert_eq!(a.dirs_left.len(), 1);
    assert!(a.dirs_left[0].ends_with("chk-4"));
    assert_eq!(files(&c.job.join("chk-4")), chk4_before);
    assert!(!c.job.join("chk-5").exists());
}

#[test]
fn an_empty_listing_or_unreadable_kept_metadata_at_apply_deletes_nothing() {
    let c = case("rocksdb-incremental");
    let (_, file) = c.plan(&policy(1));
    let before = files(&c.root);
    let e = c
        .revalidate(&Faulty::new(local()).empty_listings(), &file)
        .unwrap_err();
    assert!(matches!(e, Error::EmptyListing(_)), "{e}");
    let e = c
        .revalidate(
            &Faulty::new(local()).fail_reads_containing("chk-6/_metadata"),
            &file,
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("chk-6/_metadata") && e.to_string().contains("injected"),
        "{e}"
    );
    assert_eq!(files(&c.root), before);
}

#[test]
fn changes_between_plan_and_apply_are_dropped() {
    let c = case("rocksdb-incremental");
    let (plan, file) = c.plan(&policy(1));
    let all = plan.candidates.to_vec().unwrap();
    let shared: Vec<&Candidate> = all
        .iter()
        .filter(|x| !x.is_dir && x.path.canonical().contains("/shared/"))
        .collect();
    // A candidate grows; another is deleted by someone else.
    let grown = PathBuf::from(shared[0].path.canonical());
    std::fs::write(&grown, b"rewritten").unwrap();
    let gone = PathBuf::from(shared[1].path.canonical());
    std::fs::remove_file(&gone).unwrap();
    // A new job restored from chk-5 (a candidate) in CLAIM/LEGACY style:
    // its first checkpoint reuses chk-5's shared files in place. (Its
    // exclusive files are relative to the new checkpoint's directory, as
    // Flink writes them; those are not chk-5's.)
    let new_job = c
        .root
        .join("checkpoints/0123456789abcdef0123456789abcdef/chk-1");
    std::fs::create_dir_all(&new_job).unwrap();
    std::fs::copy(c.job.join("chk-5/_metadata"), new_job.join("_metadata")).unwrap();
    let reused: BTreeSet<String> =
        oracle_files(&c.source(), &c.root, &c.job.join("chk-5"), &c.generated)
            .into_iter()
            .filter(|f| f.contains("/shared/"))
            .collect();

    let v = c.revalidate(&local(), &file).unwrap();
    let why = |p: &Path| {
        v.dropped
            .iter()
            .find(|(x, _)| Path::new(&x.path.canonical()) == p)
            .map(|(_, w)| w.clone())
    };
    assert!(matches!(why(&grown), Some(Dropped::Changed { .. })));
    assert_eq!(why(&gone), Some(Dropped::Gone));
    // chk-5's shared files that only chk-5 used were candidates; the new
    // job's checkpoint uses them now.
    let now_referenced: Vec<&String> = reused
        .iter()
        .filter(|f| matches!(why(Path::new(f)), Some(Dropped::Referenced { .. })))
        .collect();
    assert!(!now_referenced.is_empty());
    let (a, _) = run_apply(&local(), &v);
    assert!(a.failed.is_empty());
    let missing: Vec<&String> = reused
        .iter()
        .filter(|f| !Path::new(f).is_file() && **f != gone.to_string_lossy())
        .collect();
    assert!(missing.is_empty(), "{missing:?}");
    assert!(c.missing("chk-6").is_empty());
}

#[test]
fn a_candidate_that_became_the_newest_checkpoint_is_kept() {
    let c = case("rocksdb-incremental");
    let (_, file) = c.plan(&policy(1));
    // Someone deletes chk-6 after planning: chk-5 is now the newest.
    std::fs::remove_dir_all(c.job.join("chk-6")).unwrap();
    let v = c.revalidate(&local(), &file).unwrap();
    assert!(
        v.dropped
            .iter()
            .any(|(x, w)| x.path.canonical().ends_with("chk-5") && *w == Dropped::Newest)
    );
    let (a, _) = run_apply(&local(), &v);
    assert!(a.failed.is_empty());
    assert!(c.missing("chk-5").is_empty());
}

#[test]
fn a_tampered_plan_outside_its_scope_is_refused() {
    let c = case("rocksdb-incremental");
    let (_, mut file) = c.plan(&policy(1));
    let mut bad = file.candidates.to_vec().unwrap()[0].clone();
    bad.path = Location::parse(&c.root.join("scenario.json").to_string_lossy()).unwrap();
    bad.is_dir = false;
    file.candidates.push(bad).unwrap();
    let before = files(&c.root);
    let e = c.revalidate(&local(), &file).unwrap_err();
    assert!(matches!(e, Error::OutsideRoot { .. }), "{e}");
    assert_eq!(files(&c.root), before);
}

// ---- Hostile trees (issue: cleanup must never lose data) ----

/// Every path under `dir` (not following links) with its contents or
/// link target: compared before and after to prove nothing changed.
fn snapshot_tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let md = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            if md.is_symlink() {
                out.insert(
                    rel,
                    format!("-> {}", std::fs::read_link(&p).unwrap().display()),
                );
            } else if md.is_dir() {
                out.insert(format!("{rel}/"), String::new());
                stack.push(p);
            } else {
                out.insert(
                    rel,
                    String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into(),
                );
            }
        }
    }
    out
}

/// A directory outside the fixture's root with a few files.
fn victim(c: &Case) -> PathBuf {
    let v = c._tmp.path().join("victim");
    std::fs::create_dir_all(v.join("sub")).unwrap();
    std::fs::write(v.join("precious"), b"outside the root").unwrap();
    std::fs::write(v.join("sub/also"), b"also outside").unwrap();
    std::fs::write(v.join("_metadata"), b"not a snapshot").unwrap();
    v
}

fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// Plans with explicit roots on local storage.
fn plan_at(
    checkpoints: &Location,
    scope: &Location,
    savepoints: Option<&Location>,
    p: &Policy,
    rebase: &Rebase,
) -> Result<Plan, Error> {
    rt().block_on(cleanup::plan(
        &local(),
        cleanup::Roots {
            checkpoints,
            scope,
            savepoints,
        },
        p,
        rebase,
        4,
        |_, _| {},
    ))
}

fn plan_and_apply(c: &Case, p: &Policy) -> (Plan, Validated, Applied) {
    let (plan, file) = c.plan(p);
    let v = c.revalidate(&local(), &file).unwrap();
    let (a, _) = run_apply(&local(), &v);
    (plan, v, a)
}

#[test]
fn symlinks_are_kept_never_followed_and_nothing_is_deleted_through_them() {
    let c = case("rocksdb-incremental");
    let v = victim(&c);
    let before = snapshot_tree(&v);
    let links = [
        c.job.join("shared/evil"),
        c.job.join("taskowned/evil"),
        c.job.join("chk-4/evil"),
        c.job.join("chk-2"),
    ];
    std::fs::create_dir_all(c.job.join("taskowned")).unwrap();
    for l in &links {
        symlink(&v, l);
    }
    // A loop: listing must neither fail nor spin.
    symlink(&c.job.join("shared"), &c.job.join("shared/loop"));
    let mut p = policy(1);
    p.stopped = true;
    let (plan, _, a) = plan_and_apply(&c, &p);
    for cand in &plan.candidates.to_vec().unwrap() {
        let path = cand.path.canonical();
        assert!(
            !links
                .iter()
                .any(|l| path.starts_with(&*l.to_string_lossy())),
            "candidate through a link: {path}"
        );
    }
    let special: u64 = plan
        .kept
        .iter()
        .filter(|k| k.reason == KeepReason::Special)
        .map(|k| k.files)
        .sum();
    assert_eq!(special, 5, "{:?}", plan.kept);
    assert!(a.failed.is_empty(), "{:?}", a.failed);
    assert_eq!(snapshot_tree(&v), before, "the victim changed");
    for l in links.iter().chain([&c.job.join("shared/loop")]) {
        assert!(std::fs::symlink_metadata(l).unwrap().is_symlink(), "{l:?}");
    }
    // chk-4 held a link: its files went one by one, the link stayed.
    assert!(!c.job.join("chk-4/_metadata").exists());
    assert!(c.missing("chk-6").is_empty());
}

#[test]
fn a_directory_swapped_for_a_symlink_after_planning_is_not_deleted_through() {
    let c = case("rocksdb-incremental");
    let (_, file) = c.plan(&policy(1));
    // chk-4 moves out of the root and a link takes its place: the same
    // files (names, sizes, times), now outside the root.
    let outside = c._tmp.path().join("moved-chk-4");
    std::fs::rename(c.job.join("chk-4"), &outside).unwrap();
    symlink(&outside, &c.job.join("chk-4"));
    let before = snapshot_tree(&outside);
    let v = c.revalidate(&local(), &file).unwrap();
    let (a, _) = run_apply(&local(), &v);
    assert_eq!(snapshot_tree(&outside), before, "deleted through the link");
    assert!(
        a.skipped
            .iter()
            .any(|(p, why)| p.contains("chk-4") && why == LINKED),
        "{:?}",
        a.skipped
    );
    assert!(c.missing("chk-6").is_empty());
}

#[test]
fn directories_that_are_not_jobs_are_kept_whole() {
    let c = case("rocksdb-incremental");
    let backups = c.root.join("checkpoints/my-backups");
    for chk in ["chk-4", "chk-5"] {
        crate::analysis::cleanup::tests::copy(&c.job.join(chk), &backups.join(chk));
    }
    std::fs::write(backups.join("NOTES.txt"), b"keep me").unwrap();
    // A folder holding a shared/ is not a job either.
    let lookalike = c.root.join("checkpoints/not-a-job/shared");
    std::fs::create_dir_all(&lookalike).unwrap();
    std::fs::write(lookalike.join("x.sst"), b"mine").unwrap();
    let before = snapshot_tree(&backups);
    let mut p = policy(1);
    p.stopped = true;
    let (plan, _, a) = plan_and_apply(&c, &p);
    assert!(
        plan.candidates.to_vec().unwrap().iter().all(|x| !x
            .path
            .canonical()
            .contains("my-backups")
            && !x.path.canonical().contains("not-a-job")),
        "{:?}",
        plan.candidates
    );
    assert!(a.failed.is_empty());
    assert_eq!(snapshot_tree(&backups), before);
    assert!(lookalike.join("x.sst").exists());
    assert!(!plan.jobs.contains_key("my-backups"));
    // The copied chk-5 is a snapshot all the same: every shared/ file it
    // needs is still there (it is read although it is in no job).
    let chk5 = oracle_files(&c.source(), &c.root, &c.job.join("chk-5"), &c.generated);
    let shared: Vec<&String> = chk5.iter().filter(|f| f.contains("/shared/")).collect();
    assert!(!shared.is_empty());
    for f in shared {
        assert!(Path::new(f).is_file(), "{f} deleted");
    }
}

#[test]
fn a_snapshot_behind_a_symlink_is_read_and_what_it_needs_is_kept() {
    // The newest checkpoint lives elsewhere and is linked in: Flink reads
    // it through the link, so its shared/ files must stay.
    let c = case("rocksdb-incremental");
    let elsewhere = c._tmp.path().join("chk-6-elsewhere");
    std::fs::rename(c.job.join("chk-6"), &elsewhere).unwrap();
    symlink(&elsewhere, &c.job.join("chk-6"));
    let mut p = policy(1);
    p.stopped = true;
    let (_, _, a) = plan_and_apply(&c, &p);
    assert!(a.failed.is_empty(), "{:?}", a.failed);
    assert!(c.missing("chk-6").is_empty(), "{:?}", c.missing("chk-6"));
    assert!(
        std::fs::symlink_metadata(c.job.join("chk-6"))
            .unwrap()
            .is_symlink()
    );
}

#[test]
fn a_scope_that_is_not_a_listed_job_is_refused() {
    let c = case("rocksdb-incremental");
    let ck = c.root.join("checkpoints");
    let link = ck.join("0123456789abcdef0123456789abcdef");
    symlink(&c.job, &link);
    let at = |p: &Path| Location::parse(&p.to_string_lossy()).unwrap();
    let (root, scope) = (at(&ck), at(&link));
    let e = plan_at(
        &root,
        &scope,
        None,
        &policy(1),
        &rebase(&c.root, &c.generated),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("not a job directory listed under"),
        "{e}"
    );
}

/// Runs `hook` once, right after the first batch of deletions.
struct AfterFirstDelete<S> {
    inner: S,
    hook: std::sync::Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for AfterFirstDelete<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl<S: Storage> Storage for AfterFirstDelete<S> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn stat<'a>(
        &'a self,
        l: &'a Location,
    ) -> storage::BoxFuture<'a, Result<Option<Entry>, storage::Error>> {
        self.inner.stat(l)
    }
    fn read<'a>(
        &'a self,
        l: &'a Location,
    ) -> storage::BoxFuture<'a, Result<Vec<u8>, storage::Error>> {
        self.inner.read(l)
    }
    fn read_range<'a>(
        &'a self,
        l: &'a Location,
        o: u64,
        n: u64,
    ) -> storage::BoxFuture<'a, Result<Vec<u8>, storage::Error>> {
        self.inner.read_range(l, o, n)
    }
    fn list<'a>(
        &'a self,
        d: &'a Location,
        r: bool,
    ) -> storage::BoxStream<'a, Result<Entry, storage::Error>> {
        self.inner.list(d, r)
    }
    fn delete_files<'a>(
        &'a self,
        f: &'a [Location],
    ) -> storage::BoxFuture<'a, Vec<Result<(), storage::Error>>> {
        Box::pin(async move {
            let r = self.inner.delete_files(f).await;
            let hook = self.hook.lock().unwrap().take();
            if let Some(h) = hook {
                h();
            }
            r
        })
    }
    fn remove_dir_if_empty<'a>(
        &'a self,
        d: &'a Location,
    ) -> storage::BoxFuture<'a, Result<bool, storage::Error>> {
        self.inner.remove_dir_if_empty(d)
    }
    fn real_location<'a>(
        &'a self,
        l: &'a Location,
    ) -> storage::BoxFuture<'a, Result<Option<Location>, storage::Error>> {
        self.inner.real_location(l)
    }
}

#[test]
fn a_checkpoint_completed_while_deleting_keeps_what_it_references() {
    completed_while_deleting(false);
}

/// The same, with the new `_metadata` caught half-written (Flink still
/// writing it): it is read again until it parses.
#[test]
fn a_checkpoint_caught_half_written_is_read_again() {
    completed_while_deleting(true);
}

fn completed_while_deleting(half_written: bool) {
    let c = case("rocksdb-incremental");
    let mut p = policy(1);
    p.stopped = true;
    let (plan, file) = c.plan(&p);
    // chk-5's shared files that chk-6 does not use are candidates.
    let chk5 = oracle_files(&c.source(), &c.root, &c.job.join("chk-5"), &c.generated);
    let shared5: BTreeSet<String> = chk5
        .into_iter()
        .filter(|f| f.contains("/shared/"))
        .collect();
    let planned = planned(&plan);
    let at_risk: Vec<&String> = shared5.iter().filter(|f| planned.contains(*f)).collect();
    assert!(!at_risk.is_empty(), "the fixture must have such files");
    // After the first batch (the _metadata files), a new checkpoint
    // completes that references chk-5's shared files again.
    let metadata5 = std::fs::read(c.job.join("chk-5/_metadata")).unwrap();
    let chk7 = c.job.join("chk-7");
    let storage = AfterFirstDelete {
        inner: local(),
        hook: std::sync::Mutex::new(Some(Box::new(move || {
            std::fs::create_dir_all(&chk7).unwrap();
            if half_written {
                std::fs::write(chk7.join("_metadata"), &metadata5[..100]).unwrap();
                std::thread::spawn(move || {
                    std::thread::sleep(std::time::Duration::from_millis(400));
                    std::fs::write(chk7.join("_metadata"), metadata5).unwrap();
                });
            } else {
                std::fs::write(chk7.join("_metadata"), metadata5).unwrap();
            }
        }))),
    };
    let mut v = c.revalidate(&storage, &file).unwrap();
    v.watch.interval = std::time::Duration::ZERO;
    let (a, _) = run_apply(&storage, &v);
    assert_eq!(a.snapshots_completed, 1);
    for f in &at_risk {
        assert!(Path::new(f.as_str()).is_file(), "{f} deleted");
    }
    assert!(
        a.skipped.iter().filter(|(_, why)| why == COMPLETED).count() >= at_risk.len(),
        "{:?}",
        a.skipped
    );
    assert!(c.missing("chk-6").is_empty());
}

#[test]
fn a_rebase_one_level_off_is_refused() {
    // The user copied checkpoints/ (not the scenario directory) and maps
    // the scenario's recorded root onto it: every reference lands one
    // level off, under the root, where nothing is.
    let c = case("rocksdb-incremental");
    let ri = c._tmp.path().join("ri");
    std::fs::rename(c.root.join("checkpoints"), &ri).unwrap();
    let root = Location::parse(&ri.to_string_lossy()).unwrap();
    let wrong = Rebase::parse(&[format!("file:{}={}", c.generated, ri.display())]).unwrap();
    let mut p = policy(1);
    p.stopped = true;
    let plan_with = |rebase: &Rebase| plan_at(&root, &root, None, &p, rebase);
    let e = plan_with(&wrong).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::MissingReferences { .. }), "{msg}");
    let right = format!(
        "--rebase file://{}/checkpoints={}",
        c.generated,
        ri.display()
    );
    assert!(msg.contains(&right), "{msg}");
    assert!(msg.contains("/shared/"), "{msg}");
    // With the rebase it names, the plan is the usual one.
    let fixed =
        Rebase::parse(&[format!("file:{}/checkpoints={}", c.generated, ri.display())]).unwrap();
    let plan = plan_with(&fixed).unwrap();
    let usual = case("rocksdb-incremental");
    let ck = Location::parse(&usual.root.join("checkpoints").to_string_lossy()).unwrap();
    let usual_plan = plan_at(&ck, &ck, None, &p, &rebase(&usual.root, &usual.generated)).unwrap();
    assert_eq!(plan.candidate_files(), usual_plan.candidate_files());
}

#[test]
fn keeps_and_names_that_match_nothing_are_errors() {
    let c = case("rocksdb-incremental");
    let at = |p: &Path| Location::parse(&p.to_string_lossy()).unwrap();
    let mut p = policy(1);
    p.keep = vec![at(&c.job.join("chk-111"))];
    let e = run_on(&local(), &c.root, &c.generated, &p).unwrap_err();
    assert!(e.to_string().starts_with("--keep "), "{e}");
    let mut p = policy(1);
    p.include_savepoints
        .insert("savepoint-000000-000000000000".into());
    let e = run_on(&local(), &c.root, &c.generated, &p).unwrap_err();
    assert!(e.to_string().starts_with("--include-savepoint "), "{e}");
    let mut p = policy(1);
    p.drop_jobs
        .insert("0123456789abcdef0123456789abcdef".into());
    let e = run_on(&local(), &c.root, &c.generated, &p).unwrap_err();
    assert!(e.to_string().starts_with("--drop-job "), "{e}");
}

#[test]
fn a_keep_outside_the_roots_is_read_and_protects_its_files() {
    let c = case("rocksdb-incremental");
    // chk-5, copied out of the root (its shared/ references are absolute).
    let elsewhere = c
        ._tmp
        .path()
        .join("elsewhere")
        .join(c.job.file_name().unwrap());
    crate::analysis::cleanup::tests::copy(&c.job.join("chk-5"), &elsewhere.join("chk-5"));
    let shared5: Vec<String> =
        oracle_files(&c.source(), &c.root, &c.job.join("chk-5"), &c.generated)
            .into_iter()
            .filter(|f| f.contains("/shared/"))
            .collect();
    let mut p = policy(1);
    p.stopped = true;
    let without = planned(&c.plan(&p).0);
    assert!(shared5.iter().any(|f| without.contains(f)));
    p.keep = vec![Location::parse(&elsewhere.join("chk-5").to_string_lossy()).unwrap()];
    let (plan, file) = c.plan(&p);
    let with = planned(&plan);
    let v = c.revalidate(&local(), &file).unwrap();
    let (a, _) = run_apply(&local(), &v);
    assert!(a.failed.is_empty());
    assert!(a.deleted_files > 0);
    assert!(shared5.iter().all(|f| !with.contains(f)));
    assert!(shared5.iter().all(|f| Path::new(f).is_file()));
}

#[test]
fn a_savepoints_root_containing_the_checkpoints_root_is_counted_once() {
    let c = case("rocksdb-incremental");
    // The savepoint directories beside checkpoints/, in one root.
    let sp_name = std::fs::read_dir(c.root.join("savepoints"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name()
        .into_string()
        .unwrap();
    std::fs::rename(
        c.root.join("savepoints").join(&sp_name),
        c.root.join(&sp_name),
    )
    .unwrap();
    let ck = Location::parse(&c.root.join("checkpoints").to_string_lossy()).unwrap();
    let all = Location::parse(&c.root.to_string_lossy()).unwrap();
    let mut p = policy(1);
    p.include_savepoints.insert(sp_name.clone());
    let rb = rebase(&c.root, &c.generated);
    let plan = plan_at(&ck, &ck, Some(&all), &p, &rb).unwrap();
    let files = planned(&plan);
    assert_eq!(
        plan.candidate_files() as usize,
        files.len(),
        "counted twice"
    );
    assert!(files.iter().any(|f| f.contains(&sp_name)));
    let keys: BTreeSet<String> = plan
        .candidates
        .to_vec()
        .unwrap()
        .iter()
        .map(|x| x.path.canonical())
        .collect();
    assert_eq!(keys.len() as u64, plan.candidates.len());
    // Applying it: nothing "changed since planning", and a second plan
    // finds nothing more in those places.
    let file = PlanFile::new(plan, &p, &[]);
    let v = rt()
        .block_on(revalidate(
            &local(),
            &file,
            file.candidates.to_vec().unwrap(),
            &rb,
            4,
            |_, _| {},
        ))
        .unwrap();
    assert!(v.dropped.is_empty(), "{:?}", v.dropped);
    let (a, _) = run_apply(&local(), &v);
    assert!(a.failed.is_empty());
    assert_eq!(a.deleted_files as usize, files.len());
    assert!(c.missing("chk-6").is_empty());
}

/// A dead directory of more files than a chunk goes in chunks of at most
/// [`CHUNK`] files (≤ 100,000), each handed to the storage after the
/// checks of a batch, one file at a time: never a recursive delete.
#[test]
fn a_large_dead_directory_goes_in_bounded_chunks() {
    const _: () = assert!(CHUNK <= 100_000);
    let c = case("rocksdb-incremental");
    let bulk = c.job.join("chk-4/bulk");
    std::fs::create_dir_all(&bulk).unwrap();
    let n = 2 * CHUNK + 100;
    for i in 0..n {
        std::fs::write(bulk.join(format!("f{i}")), b"x").unwrap();
    }
    let (plan, file) = c.plan(&policy(1));
    let expected = planned(&plan);
    assert!(expected.len() > n, "{}", expected.len());
    let faulty = Faulty::new(local());
    let v = c.revalidate(&faulty, &file).unwrap();
    let (a, _) = run_apply(&faulty, &v);
    assert!(a.failed.is_empty(), "{:?}", a.failed);
    assert_eq!(a.deleted_files as usize, expected.len());
    assert_eq!(faulty.deletes_seen(), expected.len());
    // At least three calls for the bulk directory alone.
    assert_eq!(faulty.largest_delete(), CHUNK);
    assert!(!c.job.join("chk-4").exists());
    assert!(c.missing("chk-6").is_empty());
}
