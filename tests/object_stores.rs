//! `ls`, `inspect`, `deps --verify` and `why` against real object-store
//! servers started on 127.0.0.1 by `tests/servers/with-servers.sh`
//! (SeaweedFS for S3, fake-gcs-server for GCS, Azurite for Azure Blob),
//! holding real fixture snapshots uploaded by `tests/servers/upload.sh`;
//! the storage layer's batch deletes against the same servers; and the
//! storage contract every backend keeps (`conformance`).
//!
//! Skipped (with a message) unless the servers' environment is present:
//! `tests/servers/with-servers.sh cargo test --locked --test cli object_stores`.

use std::path::{Path, PathBuf};
use std::process::Command;

use flink_chk::storage::{
    AzureSettings, GcsSettings, Location, S3Settings, Settings, Storage, Storages,
};
use futures_util::StreamExt;
use serde_json::Value;

use crate::common::{flink_chk, job_dir, repo, scenario, truth};
use crate::conformance::{Kind, Tree, check};

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Store {
    S3,
    Gcs,
    Azure,
}

impl Store {
    fn name(self) -> &'static str {
        match self {
            Store::S3 => "s3",
            Store::Gcs => "gcs",
            Store::Azure => "azure",
        }
    }

    pub(crate) fn available(self) -> bool {
        let var = match self {
            Store::S3 => "FLINK_CHK_TEST_S3_ENDPOINT",
            Store::Gcs => "FLINK_CHK_TEST_GCS_ENDPOINT",
            Store::Azure => "FLINK_CHK_TEST_AZURE_ENDPOINT",
        };
        let ok = env(var).is_some();
        if !ok {
            eprintln!(
                "skipping {} tests: {var} not set (run under tests/servers/with-servers.sh)",
                self.name()
            );
        }
        ok
    }

    /// The URI of `prefix` in the test bucket.
    pub(crate) fn uri(self, prefix: &str) -> String {
        match self {
            Store::S3 => format!("s3://{}/{prefix}", env("FLINK_CHK_TEST_S3_BUCKET").unwrap()),
            Store::Gcs => format!(
                "gs://{}/{prefix}",
                env("FLINK_CHK_TEST_GCS_BUCKET").unwrap()
            ),
            Store::Azure => format!(
                "wasb://{}@{}.blob.core.windows.net/{prefix}",
                env("FLINK_CHK_TEST_AZURE_CONTAINER").unwrap(),
                env("FLINK_CHK_TEST_AZURE_ACCOUNT").unwrap()
            ),
        }
    }

    /// The library's storage settings for the test server.
    pub(crate) fn settings(self) -> Settings {
        let mut s = Settings {
            concurrency: Some(4),
            ..Default::default()
        };
        match self {
            Store::S3 => {
                s.s3 = Some(S3Settings {
                    endpoint: env("FLINK_CHK_TEST_S3_ENDPOINT"),
                    region: env("FLINK_CHK_TEST_S3_REGION"),
                    path_style: Some(true),
                    access_key_id: env("FLINK_CHK_TEST_S3_ACCESS_KEY"),
                    secret_access_key: env("FLINK_CHK_TEST_S3_SECRET_KEY"),
                    ..Default::default()
                });
            }
            Store::Gcs => {
                s.gcs = Some(GcsSettings {
                    endpoint: env("FLINK_CHK_TEST_GCS_ENDPOINT"),
                    anonymous: Some(true),
                    ..Default::default()
                });
            }
            Store::Azure => {
                s.azure = Some(AzureSettings {
                    endpoint: env("FLINK_CHK_TEST_AZURE_ENDPOINT"),
                    account_name: env("FLINK_CHK_TEST_AZURE_ACCOUNT"),
                    account_key: env("FLINK_CHK_TEST_AZURE_KEY"),
                    ..Default::default()
                });
            }
        }
        s
    }

    /// The profile's `storage:` section for the test server.
    fn storage_yaml(self) -> String {
        match self {
            Store::S3 => format!(
                "      s3:\n        endpoint: {}\n        region: {}\n        path_style: true\n        access_key_id: {}\n        secret_access_key: {}\n",
                env("FLINK_CHK_TEST_S3_ENDPOINT").unwrap(),
                env("FLINK_CHK_TEST_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
                env("FLINK_CHK_TEST_S3_ACCESS_KEY").unwrap(),
                env("FLINK_CHK_TEST_S3_SECRET_KEY").unwrap(),
            ),
            Store::Gcs => format!(
                "      gcs:\n        endpoint: {}\n        anonymous: true\n",
                env("FLINK_CHK_TEST_GCS_ENDPOINT").unwrap()
            ),
            Store::Azure => format!(
                "      azure:\n        endpoint: {}\n        account_name: {}\n        account_key: {}\n",
                env("FLINK_CHK_TEST_AZURE_ENDPOINT").unwrap(),
                env("FLINK_CHK_TEST_AZURE_ACCOUNT").unwrap(),
                env("FLINK_CHK_TEST_AZURE_KEY").unwrap(),
            ),
        }
    }
}

pub(crate) fn upload(store: Store, dir: &Path, prefix: &str) {
    let st = Command::new("bash")
        .arg(repo().join("tests/servers/upload.sh"))
        .args([store.name(), dir.to_str().unwrap(), prefix])
        .env("FLINK_CHK_UPLOAD_S3_TOOL", "python")
        .status()
        .unwrap();
    assert!(st.success(), "upload to {} failed", store.name());
}

pub(crate) struct Setup {
    _cfg: tempfile::TempDir,
    pub(crate) config: PathBuf,
    pub(crate) base: String,
    generated: String,
    job: String,
    local: PathBuf,
}

pub(crate) fn setup(store: Store, tag: &str) -> Setup {
    let (dir, generated) = scenario("2.3", "rocksdb-incremental");
    let prefix = format!("{tag}-{}-{}", store.name(), std::process::id());
    upload(store, &dir, &prefix);
    let base = store.uri(&prefix);
    let job = job_dir(&dir.join("checkpoints"))
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let cfg = tempfile::tempdir().unwrap();
    let config = cfg.path().join("profiles.yaml");
    std::fs::write(
        &config,
        format!(
            "default: test\nprofiles:\n  test:\n    checkpoints: {base}/checkpoints\n    savepoints: {base}/savepoints\n    storage:\n{}    jobs:\n      orders: {job}\n",
            store.storage_yaml()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    Setup {
        _cfg: cfg,
        config,
        base,
        generated,
        job,
        local: dir,
    }
}

/// `deps orders@latest --verify --json --rebase REBASE`, which must pass:
/// its JSON.
fn verify_latest(s: &Setup, rebase: &str) -> Value {
    let (v, code, err) = run(
        s,
        &[
            "deps",
            "orders@latest",
            "--verify",
            "--json",
            "--rebase",
            rebase,
        ],
    );
    assert_eq!(code, 0, "{err}\n{}", v["verify"]);
    v
}

pub(crate) fn run(s: &Setup, args: &[&str]) -> (Value, i32, String) {
    run_with(&s.config, args)
}

/// [`run`] with another profile file.
fn run_with(config: &Path, args: &[&str]) -> (Value, i32, String) {
    let out = flink_chk()
        .env("FLINK_CHK_CONFIG", config)
        .args(args)
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: exit {code}: {e}\n{err}"));
    (v, code, err)
}

fn exercise(store: Store) {
    if !store.available() {
        return;
    }
    let s = setup(store, "fixtures");
    let local_job = s.local.join("checkpoints").join(&s.job);
    // ls of the profile's root: the job, its alias, three completed checkpoints.
    let (v, code, err) = run(&s, &["ls", "--json"]);
    assert_eq!(code, 0, "{err}");
    let j = &v["jobs"][0];
    assert_eq!(j["job_id"], s.job.as_str());
    assert_eq!(j["alias"], "orders");
    assert_eq!(j["completed_checkpoints"], 3);
    assert_eq!(j["latest"]["id"], 6);
    let (lv, _, _) = run(
        &s,
        &[
            "ls",
            local_job.parent().unwrap().to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(
        j["files"], lv["jobs"][0]["files"],
        "same files as on local disk"
    );
    assert_eq!(
        j["bytes"], lv["jobs"][0]["bytes"],
        "same bytes as on local disk"
    );
    assert_eq!(v["savepoints"].as_array().unwrap().len(), 1);

    // ls of one job by alias.
    let (v, code, err) = run(&s, &["ls", "orders", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["checkpoints"].as_array().unwrap().len(), 3);
    assert!(
        v["checkpoints"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["restorable"] == true)
    );
    assert_eq!(v["savepoints"].as_array().unwrap().len(), 1);

    // inspect with state names (ranged reads of state file headers).
    let (v, code, err) = run(&s, &["inspect", "orders@latest", "--states", "--json"]);
    assert_eq!(code, 0, "{err}");
    let local = truth(&local_job.join("chk-6/_metadata"));
    assert_eq!(v["checkpoint_id"], local["checkpoint_id"]);
    let names: Vec<&str> = v["operators"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["states"].as_array().into_iter().flatten())
        .map(|st| st["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.is_empty(),
        "no state names read from {}",
        store.name()
    );

    // deps --verify, with the recorded local paths mapped into the bucket.
    let rb = format!("{}={}", s.generated, s.base);
    let v = verify_latest(&s, &rb);
    let flink_files: std::collections::BTreeSet<&str> = local["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(v["files_total"].as_u64().unwrap(), flink_files.len() as u64);
    assert!(
        v["files"][0]["path"]
            .as_str()
            .unwrap()
            .starts_with(&s.base[..4])
    );

    // why: a shared file of the newest checkpoint is referenced by it.
    let shared = local["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["part"] == "shared")
        .unwrap()["path"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let target = format!("{}/checkpoints/{}/shared/{shared}", s.base, s.job);
    let (v, code, err) = run(&s, &["why", &target, "--rebase", &rb, "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        v["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().ends_with("/chk-6"))
    );

    // A copy missing one file is reported as not restorable.
    let tmp = tempfile::tempdir().unwrap();
    crate::common::copy_tree(&s.local, tmp.path());
    let gone = tmp
        .path()
        .join("checkpoints")
        .join(&s.job)
        .join("shared")
        .join(&shared);
    std::fs::remove_file(&gone).unwrap();
    let broken = setup_from(store, tmp.path(), "broken", &s);
    let rb = format!("{}={}", s.generated, broken);
    let (v, code, _) = run(
        &s,
        &[
            "deps",
            &format!("{broken}/checkpoints/{}/chk-6", s.job),
            "--verify",
            "--json",
            "--rebase",
            &rb,
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(v["verify"]["problems"][0]["problem"], "missing");
    assert!(
        v["verify"]["problems"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with(&shared)
    );
}

fn setup_from(store: Store, dir: &Path, tag: &str, _s: &Setup) -> String {
    let prefix = format!("{tag}-{}-{}", store.name(), std::process::id());
    upload(store, dir, &prefix);
    store.uri(&prefix)
}

#[test]
fn s3_seaweedfs() {
    exercise(Store::S3);
}

#[test]
fn gcs_fake_gcs_server() {
    exercise(Store::Gcs);
}

#[test]
fn azure_blob_azurite() {
    exercise(Store::Azure);
}

/// The storage contract every backend keeps (`conformance::check`), on a
/// fresh prefix of the server's bucket, through `Storages` as commands use it.
fn conformance_on(store: Store) {
    if !store.available() {
        return;
    }
    let prefix = format!("conformance-{}-{}", store.name(), std::process::id());
    let root = Location::parse(&store.uri(&prefix)).unwrap();
    let storage = Storages::new(store.settings());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let seed = |tree: &Tree| {
            let tmp = tempfile::tempdir().unwrap();
            tree.write_to(tmp.path());
            upload(store, tmp.path(), &prefix);
        };
        check(&storage, &root, Kind::ObjectStore, seed).await;
        // Clean up.
        let left: Vec<Location> = storage
            .list(&root, true)
            .map(|e| e.unwrap().location)
            .collect()
            .await;
        assert!(storage.delete_files(&left).await.iter().all(Result::is_ok));
    });
}

#[test]
fn s3_seaweedfs_conformance() {
    conformance_on(Store::S3);
}

#[test]
fn gcs_fake_gcs_server_conformance() {
    conformance_on(Store::Gcs);
}

#[test]
fn azure_blob_azurite_conformance() {
    conformance_on(Store::Azure);
}

/// Every object below `base`, relative to it, sorted.
pub(crate) async fn listing(storage: &Storages, base: &Location) -> Vec<String> {
    let mut v: Vec<String> = storage
        .list(base, true)
        .map(|e| e.unwrap().location.relative_to(base).unwrap().to_owned())
        .collect()
        .await;
    v.sort();
    v
}

/// Uploads `n` small objects under `gone/` (in 10 "directories") plus a few
/// to keep, deletes the `n` (and a missing key, and a prefix given as a
/// file) with one `delete_files` call, and checks that exactly those went.
fn delete_files_on(store: Store, n: usize) {
    if !store.available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut gone = Vec::new();
    for i in 0..n {
        let rel = format!("gone/{}/f{i}", i % 10);
        gone.push(rel.clone());
        let p = tmp.path().join(&rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, format!("{i}")).unwrap();
    }
    let keep = ["dir/child", "gone/3/f3x", "keep/a"];
    for rel in keep {
        let p = tmp.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, rel).unwrap();
    }
    let prefix = format!("delete-{}-{}", store.name(), std::process::id());
    upload(store, tmp.path(), &prefix);
    let base = Location::parse(&store.uri(&prefix)).unwrap();
    let storage = Storages::new(store.settings());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut all: Vec<String> = gone.iter().cloned().chain(keep.map(String::from)).collect();
        all.sort();
        assert_eq!(listing(&storage, &base).await, all, "uploaded");

        let mut files: Vec<Location> = gone.iter().map(|g| base.join(g)).collect();
        files.insert(n / 2, base.join("never-existed"));
        // A "directory" (a prefix) given as a file: no object has that key.
        files.push(base.join("dir"));
        let start = std::time::Instant::now();
        let results = storage.delete_files(&files).await;
        eprintln!(
            "{}: deleted {} objects in {:?}",
            store.name(),
            files.len(),
            start.elapsed()
        );
        assert_eq!(results.len(), files.len());
        for (f, r) in files.iter().zip(&results) {
            assert!(r.is_ok(), "{f}: {r:?}");
        }
        assert_eq!(listing(&storage, &base).await, keep, "what is left");

        // Again: already gone is fine.
        let again = storage.delete_files(&files[..3]).await;
        assert!(again.iter().all(Result::is_ok), "{again:?}");
        // The bucket root is refused; no directories on object stores.
        let root = base.with_path("/");
        let r = storage.delete_files(std::slice::from_ref(&root)).await;
        let e = r[0].as_ref().unwrap_err().to_string();
        assert!(e.contains("root of the bucket"), "{e}");
        assert!(
            !storage
                .remove_dir_if_empty(&base.join("keep"))
                .await
                .unwrap()
        );
        assert!(
            !storage
                .remove_dir_if_empty(&base.join("gone"))
                .await
                .unwrap()
        );
        assert_eq!(listing(&storage, &base).await, keep, "nothing else went");

        // Clean up.
        let rest: Vec<Location> = keep.iter().map(|k| base.join(k)).collect();
        assert!(storage.delete_files(&rest).await.iter().all(Result::is_ok));
        assert!(listing(&storage, &base).await.is_empty());
    });
}

#[test]
fn s3_seaweedfs_batch_delete() {
    // More keys than one DeleteObjects request takes (1000).
    delete_files_on(Store::S3, 1100);
}

#[test]
fn gcs_fake_gcs_server_delete() {
    // More than one JSON batch (100); fake-gcs-server has no batch API.
    delete_files_on(Store::Gcs, 150);
}

#[test]
fn azure_blob_azurite_batch_delete() {
    // More than one blob batch (256).
    delete_files_on(Store::Azure, 300);
}

/// Writes `bytes` at `l` through the library (a new upload, replacing
/// what is there).
async fn overwrite(storage: &Storages, l: &Location, bytes: &[u8]) {
    let mut up = storage.create(l).await.unwrap();
    up.write(bytes.to_vec()).await.unwrap();
    up.finish().await.unwrap();
}

/// Conditional deletes on the real server: `n` objects listed (each with
/// its version: ETag, GCS generation, the same in the listing and a stat),
/// two of them overwritten after the listing, then all deleted with
/// `delete_files_if` and the listed versions (one batch request where the
/// store has batches): the two overwritten objects must stay, with their
/// new bytes, and answer `Changed`; the others go. Then one object alone
/// (a single request), a missing object given a version (already
/// deleted), and the cost: `n` unchanged objects deleted with and without
/// their versions.
///
/// `honours` says whether the server checks the precondition at all;
/// where it does not, what it does instead was measured and is written at
/// the call, and the test stops after the listing part with a message.
fn conditional_delete_on(store: Store, n: usize, honours: Result<(), &str>) {
    if !store.available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..n {
        for dir in ["batch", "plain", "cond"] {
            let p = tmp.path().join(format!("{dir}/f{i:04}"));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, format!("old {i}")).unwrap();
        }
    }
    std::fs::write(tmp.path().join("single"), "old single").unwrap();
    let prefix = format!("conditional-{}-{}", store.name(), std::process::id());
    upload(store, tmp.path(), &prefix);
    let base = Location::parse(&store.uri(&prefix)).unwrap();
    let storage = Storages::new(store.settings());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let list = |dir: &str| {
        let mut v: Vec<flink_chk::storage::Entry> = rt.block_on(
            storage
                .list(&base.join(dir), true)
                .map(|e| e.unwrap())
                .collect(),
        );
        v.sort_by(|a, b| a.location.cmp(&b.location));
        assert_eq!(v.len(), n);
        v
    };
    let listed = list("batch");
    rt.block_on(async {
        for e in &listed[..3] {
            let stat = storage.stat(&e.location).await.unwrap().unwrap();
            assert!(e.version.is_some(), "{}: no version listed", store.name());
            assert_eq!(stat.version, e.version, "{}: list vs stat", store.name());
        }
    });
    if let Err(why) = honours {
        eprintln!(
            "skipping the conditional deletes on {}: {why}",
            store.name()
        );
        return;
    }
    rt.block_on(async {
        let changed = [1, n - 1];
        for &i in &changed {
            overwrite(&storage, &listed[i].location, b"new bytes").await;
        }
        let targets: Vec<(Location, Option<String>)> = listed
            .iter()
            .map(|e| (e.location.clone(), e.version.clone()))
            .collect();
        let t = std::time::Instant::now();
        let r = storage.delete_files_if(&targets).await;
        eprintln!(
            "{}: {n} objects, 2 changed, deleted with their versions in {:?} (a batch with a changed object is sent again file by file)",
            store.name(),
            t.elapsed()
        );
        assert_eq!(r.len(), n);
        for (i, (l, _)) in targets.iter().enumerate() {
            let now = storage.stat(l).await.unwrap();
            if changed.contains(&i) {
                let e = r[i].as_ref().unwrap_err();
                assert!(e.is_changed(), "{}: {l}: {e:?}", store.name());
                assert_eq!(storage.read(l).await.unwrap(), b"new bytes");
            } else {
                assert!(r[i].is_ok(), "{}: {l}: {:?}", store.name(), r[i]);
                assert!(now.is_none(), "{}: {l} left", store.name());
            }
        }
        // One object: a single request.
        let single = base.join("single");
        let before = storage.stat(&single).await.unwrap().unwrap();
        overwrite(&storage, &single, b"new single").await;
        let r = storage
            .delete_files_if(&[(single.clone(), before.version.clone())])
            .await;
        assert!(r[0].as_ref().is_err_and(|e| e.is_changed()), "{r:?}");
        assert_eq!(storage.read(&single).await.unwrap(), b"new single");
        // Gone already: deleted, whatever the version.
        let gone = base.join("never-existed");
        let r = storage.delete_files_if(&[(gone, before.version)]).await;
        assert!(r[0].is_ok(), "{r:?}");
    });
    // The cost of the condition while nothing changed.
    let plain: Vec<Location> = list("plain").into_iter().map(|e| e.location).collect();
    let cond: Vec<(Location, Option<String>)> = list("cond")
        .into_iter()
        .map(|e| (e.location, e.version))
        .collect();
    let t = std::time::Instant::now();
    assert!(
        rt.block_on(storage.delete_files(&plain))
            .iter()
            .all(Result::is_ok)
    );
    let t_plain = t.elapsed();
    let t = std::time::Instant::now();
    assert!(
        rt.block_on(storage.delete_files_if(&cond))
            .iter()
            .all(Result::is_ok)
    );
    let t_cond = t.elapsed();
    eprintln!(
        "{}: {n} objects deleted in {t_plain:?} unconditionally, in {t_cond:?} with their versions",
        store.name()
    );
    assert!(
        rt.block_on(listing(&storage, &base.join("cond")))
            .is_empty()
    );
    // Clean up.
    let rest: Vec<Location> = [1, n - 1]
        .iter()
        .map(|&i| listed[i].location.clone())
        .chain([base.join("single")])
        .collect();
    assert!(
        rt.block_on(storage.delete_files(&rest))
            .iter()
            .all(Result::is_ok)
    );
}

/// SeaweedFS 4.48 checks both (measured with raw requests): `DeleteObject`
/// with a wrong `If-Match` answers 412 `PreconditionFailed` and keeps the
/// object (quoted or bare ETags alike); `DeleteObjects` with a wrong
/// `<ETag>` reports `PreconditionFailed` for that key alone and deletes the
/// others. A missing object with `If-Match` answers 412 (AWS: 404
/// `NoSuchKey`); both read as gone after a stat.
#[test]
fn s3_seaweedfs_conditional_delete() {
    conditional_delete_on(Store::S3, 1100, Ok(()));
}

/// fake-gcs-server 1.54.0 ignores the generation precondition on deletes
/// (measured with raw requests): `DELETE …/o/KEY?ifGenerationMatch=1` of
/// an object whose generation is another answers 200 and deletes it, the
/// same with the `x-goog-if-generation-match` header; real GCS answers 412.
/// Generations are listed and stat-ed like GCS's, so that much is checked.
#[test]
fn gcs_fake_gcs_server_conditional_delete() {
    conditional_delete_on(
        Store::Gcs,
        150,
        Err(
            "fake-gcs-server 1.54.0 ignores ifGenerationMatch on DELETE (deletes whatever the generation)",
        ),
    );
}

/// Azurite 3.35.0 checks `If-Match` on `Delete Blob` (412
/// `ConditionNotMet`, the blob kept; 412 too for a missing blob, where
/// Azure answers 404) and in each sub-request of a blob batch (measured
/// with OpenDAL's deleter: the blob with a wrong `If-Match` stays, the
/// other one of the batch is deleted).
#[test]
fn azure_blob_azurite_conditional_delete() {
    conditional_delete_on(Store::Azure, 300, Ok(()));
}

/// `safe-to-delete --yes` on a real tree in the bucket: exactly the planned
/// objects go (every object of a candidate `chk-N/` and each candidate
/// file), the kept checkpoint and the savepoint still verify, and a second
/// run finds nothing left to delete.
/// The objects (relative to `base`) a cleanup plan would delete: a file
/// candidate itself, a directory candidate every object of `listed` under it.
pub(crate) fn objects_of(
    plan: &Value,
    base: &Location,
    listed: &std::collections::BTreeSet<String>,
) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for c in plan["candidates"].as_array().unwrap() {
        let rel = Location::parse(c["path"].as_str().unwrap())
            .unwrap()
            .relative_to(base)
            .unwrap()
            .to_owned();
        if c["is_dir"].as_bool().unwrap() {
            let dir = format!("{rel}/");
            out.extend(listed.iter().filter(|b| b.starts_with(&dir)).cloned());
        } else {
            out.insert(rel);
        }
    }
    out
}

fn cleanup_on(store: Store) {
    if !store.available() {
        return;
    }
    let s = setup(store, "cleanup");
    apply_cleanup(store, &s, &s.config);
    let rb = format!("{}={}", s.generated, s.base);
    let policy = cleanup_policy(&rb);
    verify_latest(&s, &rb);
    let (v, code, _) = run(
        &s,
        &[&["safe-to-delete", "--dry-run", "--json"][..], &policy[..]].concat(),
    );
    assert_eq!(code, 0);
    assert_eq!(
        v["candidates"].as_array().unwrap().len(),
        0,
        "nothing left: {v}"
    );
}

/// Plans a cleanup of `s` and applies it (`safe-to-delete --yes --json`)
/// with the profile file `apply_config`: exactly the planned objects go
/// and each is logged. The applying run's JSON.
pub(crate) fn apply_cleanup(store: Store, s: &Setup, apply_config: &Path) -> Value {
    let rb = format!("{}={}", s.generated, s.base);
    let base = Location::parse(&s.base).unwrap();
    let storage = Storages::new(store.settings());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let before = rt.block_on(listing(&storage, &base));
    let policy = cleanup_policy(&rb);
    let (plan, code, err) = run(
        s,
        &[&["safe-to-delete", "--dry-run", "--json"][..], &policy[..]].concat(),
    );
    assert_eq!(code, 0, "{err}");
    let expected = objects_of(&plan, &base, &before.iter().cloned().collect());
    assert!(expected.len() > 50, "{}", expected.len());
    let log = tempfile::NamedTempFile::new().unwrap();
    let (v, code, err) = run_with(
        apply_config,
        &[
            &[
                "safe-to-delete",
                "--yes",
                "--json",
                "--log",
                log.path().to_str().unwrap(),
            ][..],
            &policy[..],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    let after = rt.block_on(listing(&storage, &base));
    let gone: std::collections::BTreeSet<String> = before
        .iter()
        .filter(|b| !after.contains(b))
        .cloned()
        .collect();
    assert_eq!(
        gone,
        expected,
        "{}: deleted objects differ from the plan",
        store.name()
    );
    assert_eq!(
        v["applied"]["deleted_files"].as_u64().unwrap(),
        expected.len() as u64
    );
    let logged = std::fs::read_to_string(log.path()).unwrap();
    assert_eq!(
        logged.lines().filter(|l| l.contains("\"deleted\"")).count(),
        expected.len()
    );
    v
}

/// The cleanup policy of these tests. `--stopped`: uploaded objects carry
/// upload times, not Flink's write order, so shared/ objects uploaded after
/// chk-6/_metadata would count as written after the newest checkpoint and
/// wait.
fn cleanup_policy(rb: &str) -> [&str; 7] {
    [
        "--keep-last",
        "1",
        "--min-age",
        "0s",
        "--stopped",
        "--rebase",
        rb,
    ]
}

#[test]
fn s3_seaweedfs_cleanup() {
    cleanup_on(Store::S3);
}

#[test]
fn gcs_fake_gcs_server_cleanup() {
    cleanup_on(Store::Gcs);
}

#[test]
fn azure_blob_azurite_cleanup() {
    cleanup_on(Store::Azure);
}

/// A profiles file with every available store's `storage:` section in one
/// profile (`all`), plus `src2`/`dst2` for the second S3 identity when the
/// servers provide one.
fn all_stores_config(dir: &Path, stores: &[Store]) -> PathBuf {
    let mut storage = String::new();
    for s in stores {
        storage.push_str(&s.storage_yaml());
    }
    let mut text = format!(
        "default: all\nprofiles:\n  all:\n    checkpoints: /unused\n    storage:\n{storage}"
    );
    if let (Some(b2), Some(k2), Some(s2)) = (
        env("FLINK_CHK_TEST_S3_BUCKET2"),
        env("FLINK_CHK_TEST_S3_ACCESS_KEY2"),
        env("FLINK_CHK_TEST_S3_SECRET_KEY2"),
    ) {
        text.push_str(&format!(
            "  dst2:\n    checkpoints: s3://{b2}/copies-{}\n    storage:\n      s3:\n        endpoint: {}\n        region: {}\n        path_style: true\n        access_key_id: {k2}\n        secret_access_key: {s2}\n",
            std::process::id(),
            env("FLINK_CHK_TEST_S3_ENDPOINT").unwrap(),
            env("FLINK_CHK_TEST_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
        ));
    }
    let config = dir.join("profiles.yaml");
    std::fs::write(&config, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    config
}

fn copy_json(config: &Path, args: &[&str]) -> (Value, i32, String) {
    let out = flink_chk()
        .env("FLINK_CHK_CONFIG", config)
        .args(args)
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: exit {code}: {e}\n{err}"));
    (v, code, err)
}

/// local → SeaweedFS → Azurite → fake-gcs-server → local: the newest
/// checkpoint and the savepoint of the restore-claim lineage (two jobs), each
/// hop reading the previous hop's copy; the last copy matches Flink's truth
/// of the original with every path mapped, a second run of a hop copies
/// nothing, and each server refuses to overwrite a published `_metadata`.
#[test]
fn copy_across_every_store_and_back() {
    let stores = [Store::S3, Store::Azure, Store::Gcs];
    if !stores.iter().all(|s| s.available()) {
        return;
    }
    let (dir, generated) = scenario("2.3", "restore-claim");
    let tmp = tempfile::tempdir().unwrap();
    let config = all_stores_config(tmp.path(), &stores);
    let chk = {
        let mut v: Vec<PathBuf> = crate::common::find_metadata(&dir.join("checkpoints"))
            .into_iter()
            .map(|p| p.parent().unwrap().strip_prefix(&dir).unwrap().to_owned())
            .collect();
        v.sort();
        v.pop().unwrap()
    };
    let rel = chk.strip_prefix("checkpoints").unwrap().to_owned();
    let tag = format!("copy-{}", std::process::id());
    let hops: Vec<String> = stores
        .iter()
        .map(|s| s.uri(&tag))
        .chain([tmp.path().join("back").to_str().unwrap().to_owned()])
        .collect();
    let mut from = dir.join(&chk).to_str().unwrap().to_owned();
    let mut rebase = vec![
        "--rebase".to_owned(),
        format!("{generated}={}", dir.display()),
    ];
    let mut total = None;
    for (hop, to) in hops.iter().enumerate() {
        let mut args = vec!["copy", "--json", &from, "--to", to];
        args.extend(rebase.iter().map(String::as_str));
        let (v, code, err) = copy_json(&config, &args);
        assert_eq!(code, 0, "{from} -> {to}: {v}\n{err}");
        let files = v["totals"]["files"].as_u64().unwrap();
        assert_eq!(v["totals"]["copied_files"].as_u64(), Some(files), "{v}");
        assert_eq!(
            *total.get_or_insert(files),
            files,
            "every hop copies the same closure"
        );
        let (again, code, _) = copy_json(&config, &args);
        assert_eq!(code, 0);
        assert_eq!(again["totals"]["copied_bytes"], 0, "{to}: {again}");
        assert_eq!(again["snapshots"][0]["status"], "already_published");
        let dest = v["snapshots"][0]["destination"]
            .as_str()
            .unwrap()
            .to_owned();
        // The server honours "only if absent" on the published _metadata.
        let loc = Location::parse(&dest).unwrap();
        let settings = stores
            .get(hop)
            .map_or_else(Settings::default, |s| s.settings());
        let st = Storages::new(settings);
        let rt = tokio::runtime::Runtime::new().unwrap();
        let before = rt.block_on(st.read(&loc)).unwrap();
        // fake-gcs-server 1.54 ignores `ifGenerationMatch=0` on uploads (real
        // GCS honours it), so there only the check before the write is tested.
        if !matches!(stores.get(hop), Some(Store::Gcs)) {
            assert!(
                !rt.block_on(st.put_if_absent(&loc, b"other".to_vec()))
                    .unwrap(),
                "{dest} overwritten"
            );
            assert_eq!(rt.block_on(st.read(&loc)).unwrap(), before);
        }
        // A different _metadata already where a copy would publish: the
        // copy reports the snapshot as not published and leaves it alone.
        let other_to = format!("{to}-taken");
        let taken = Location::parse(&dest.replacen(to.as_str(), &other_to, 1)).unwrap();
        let mut up = rt.block_on(st.create(&taken)).unwrap();
        rt.block_on(up.write(b"someone else's".to_vec())).unwrap();
        rt.block_on(up.finish()).unwrap();
        let mut taken_args = vec!["copy", "--json", &from, "--to", &other_to];
        taken_args.extend(rebase.iter().map(String::as_str));
        let (tv, tcode, _) = copy_json(&config, &taken_args);
        assert_eq!(tcode, 1, "{tv}");
        assert_eq!(tv["snapshots"][0]["status"], "not_published");
        assert_eq!(rt.block_on(st.read(&taken)).unwrap(), b"someone else's");
        from = dest;
        rebase.clear();
    }
    // The last hop, on local disk, against Flink's truth of the original.
    let back = tmp.path().join("back");
    let meta = back.join(&rel).join("_metadata");
    let t = truth(&dir.join(&chk).join("_metadata"));
    let generated_ck = format!("{generated}/checkpoints");
    let map = |p: &str| {
        format!(
            "{}{}",
            back.display(),
            p.strip_prefix(generated_ck.as_str()).unwrap()
        )
    };
    let m = crate::oracle::Mapping {
        dir: Location::parse(back.join(&rel).to_str().unwrap()).unwrap(),
        path: &map,
        relative_ok: false,
    };
    let d = crate::oracle::compare_mapped(&meta, &t, Some(&m));
    assert!(d.is_empty(), "{}", d.join("\n"));
}

/// Two SeaweedFS buckets with different credentials: the source read with
/// the current profile, the destination written with `--to PROFILE:` and
/// that profile's own keys.
#[test]
fn copy_between_buckets_with_different_credentials() {
    if !Store::S3.available() {
        return;
    }
    if env("FLINK_CHK_TEST_S3_BUCKET2").is_none() {
        eprintln!(
            "skipping: FLINK_CHK_TEST_S3_BUCKET2 not set (tests/servers/start.sh predates the second identity)"
        );
        return;
    }
    let s = setup(Store::S3, "creds");
    let tmp = tempfile::tempdir().unwrap();
    let config = all_stores_config(tmp.path(), &[Store::S3]);
    // The source profile is the one `setup` wrote; the destination is dst2.
    let text = std::fs::read_to_string(&config).unwrap();
    let dst2 = &text[text.find("  dst2:").unwrap()..];
    let src_text = std::fs::read_to_string(&s.config).unwrap();
    std::fs::write(&s.config, format!("{src_text}{dst2}")).unwrap();
    let snap = format!("{}/checkpoints/{}/chk-6", s.base, s.job);
    let rebase = format!("{}={}", s.generated, s.base);
    let (v, code, err) = run(
        &s,
        &[
            "copy", "--json", &snap, "--to", "dst2:", "--rebase", &rebase,
        ],
    );
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(v["destination_profile"], "dst2");
    let dest = v["snapshots"][0]["destination"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(dest.starts_with(&format!(
        "s3://{}/",
        env("FLINK_CHK_TEST_S3_BUCKET2").unwrap()
    )));
    // Readable with dst2's keys, and it verifies there.
    let (dv, dcode, derr) = run(&s, &["-p", "dst2", "deps", "--verify", "--json", &dest]);
    assert_eq!(dcode, 0, "{dv}\n{derr}");
    assert_eq!(dv["files_total"].as_u64(), v["totals"]["files"].as_u64());
}

/// `replicate` local → SeaweedFS, then SeaweedFS (the first replica as a
/// source) → Azurite: rounds publish each job's newest checkpoint, an
/// incremental round copies only the new files, `--keep 1 --yes` prunes the
/// S3 replica, and the Azure replica verifies and promotes.
#[test]
fn replicate_local_to_seaweedfs_and_on_to_azurite() {
    let stores = [Store::S3, Store::Azure];
    if !stores.iter().all(|s| s.available()) {
        return;
    }
    let (dir, generated) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    let config = all_stores_config(tmp.path(), &stores);
    let src = tmp.path().join("src");
    crate::copy::copy_tree(&dir, &src);
    let ck = src.join("checkpoints");
    let job = job_dir(&ck);
    let name = job.file_name().unwrap().to_str().unwrap().to_owned();
    let m6 = tmp.path().join("m6");
    std::fs::rename(job.join("chk-6/_metadata"), &m6).unwrap();
    let tag = format!("replica-{}", std::process::id());
    let s3 = Store::S3.uri(&tag);
    let az = Store::Azure.uri(&tag);
    let rebase = format!("{generated}={}", src.display());
    let j1 = tmp.path().join("j1");
    let j2 = tmp.path().join("j2");
    let to_s3 = |more: &[&str]| {
        let mut a = vec![
            "replicate",
            ck.to_str().unwrap(),
            "--to",
            &s3,
            "--rebase",
            &rebase,
            "--journal",
            j1.to_str().unwrap(),
            "--json",
        ];
        a.extend(more);
        copy_json(&config, &a)
    };
    let (v, code, err) = to_s3(&[]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(v["snapshots"][0]["checkpoint_id"], 5);
    let first = v["copied_files"].as_u64().unwrap();
    std::fs::rename(&m6, job.join("chk-6/_metadata")).unwrap();
    let (v, code, err) = to_s3(&[]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(v["snapshots"][0]["checkpoint_id"], 6);
    assert_eq!(v["snapshots"][0]["status"], "published");
    let files6 = v["snapshots"][0]["files"].as_u64().unwrap();
    let copied = v["copied_files"].as_u64().unwrap();
    assert!(copied < files6 && copied > 0, "only the new files: {v}");
    assert_eq!(copied + v["skipped_files"].as_u64().unwrap(), files6);
    assert!(first > copied);
    // Prune the S3 replica to chk-6's closure.
    let (v, code, err) = to_s3(&["--keep", "1", "--yes"]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert!(v["prune"]["deleted_files"].as_u64().unwrap() > 0, "{v}");
    let (sv, code, _) = copy_json(
        &config,
        &[
            "replicate",
            ck.to_str().unwrap(),
            "--to",
            &s3,
            "--rebase",
            &rebase,
            "--status",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{sv}");
    assert_eq!(sv["jobs"][0]["replica_newest"]["checkpoint_id"], 6);
    // The S3 replica is the source of the Azure one.
    let (v, code, err) = copy_json(
        &config,
        &[
            "replicate",
            &s3,
            "--to",
            &az,
            "--journal",
            j2.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(v["snapshots"][0]["checkpoint_id"], 6);
    assert_eq!(v["copied_files"].as_u64(), Some(files6));
    let (p, code, err) = copy_json(
        &config,
        &["replicate", "--to", &az, "--promote", &name, "--json"],
    );
    assert_eq!(code, 0, "{p}\n{err}");
    assert_eq!(p["verified"], true);
    assert_eq!(p["files"].as_u64(), Some(files6));
    let (dv, dcode, derr) = copy_json(
        &config,
        &[
            "deps",
            "--verify",
            "--json",
            p["snapshot"].as_str().unwrap(),
        ],
    );
    assert_eq!(dcode, 0, "{dv}\n{derr}");
}

/// Inventory-based cleanup on a real S3 server: a fixture tree uploaded to
/// SeaweedFS, an S3 Inventory report of the bucket's objects (written by
/// the labelled test-side writer from a listing, delivered into the bucket
/// the way S3 delivers one), planned from the manifest on the store: the
/// same candidates as the live plan; applied: exactly those objects go and
/// the kept checkpoint still verifies.
#[test]
fn s3_seaweedfs_inventory_cleanup() {
    use crate::common::inventory::{Destination, Row, write_s3, write_s3_parquet};
    let store = Store::S3;
    if !store.available() {
        return;
    }
    let s = setup(store, "inventory");
    let rb = format!("{}={}", s.generated, s.base);
    let base = Location::parse(&s.base).unwrap();
    let bucket = env("FLINK_CHK_TEST_S3_BUCKET").unwrap();
    let storage = Storages::new(store.settings());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let objects: Vec<flink_chk::storage::Entry> = rt.block_on(
        storage
            .list(&base, true)
            .map(|e| e.unwrap())
            .collect::<Vec<_>>(),
    );
    let before: std::collections::BTreeSet<String> = objects
        .iter()
        .map(|e| e.location.relative_to(&base).unwrap().to_owned())
        .collect();
    let rows: Vec<Row> = objects
        .iter()
        .map(|e| Row {
            path: e.location.key().to_owned(),
            size: e.size,
            modified: e.modified.unwrap(),
            is_dir: false,
        })
        .collect();
    // The report, delivered into the bucket under its own prefix.
    let report = tempfile::tempdir().unwrap();
    let prefix = format!("inventory-reports-{}", std::process::id());
    let time = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(1);
    let to = Destination {
        bucket: &bucket,
        prefix: &prefix,
    };
    // In CSV.gz, and the same in Parquet (read from the store through a
    // scratch file, as every remote Parquet file is).
    let manifest = write_s3(&rows, &bucket, time, report.path(), &to, 2);
    let pq = write_s3_parquet(&rows, &bucket, time, report.path(), &to, 2);
    upload(store, report.path(), &prefix);
    let uri = |m: &Path| {
        let rel = m.strip_prefix(report.path()).unwrap().to_str().unwrap();
        store.uri(&format!("{prefix}/{rel}"))
    };
    let (manifest_uri, pq_uri) = (uri(&manifest), uri(&pq));
    let policy = cleanup_policy(&rb);
    let (live, code, err) = run(
        &s,
        &[&["safe-to-delete", "--dry-run", "--json"][..], &policy[..]].concat(),
    );
    assert_eq!(code, 0, "{err}");
    let inventory = ["--inventory", manifest_uri.as_str()];
    let (plan, code, err) = run(
        &s,
        &[
            &["safe-to-delete", "--dry-run", "--json"][..],
            &policy[..],
            &inventory[..],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(plan["policy"]["inventory"]["kind"], "s3");
    assert_eq!(plan["policy"]["inventory"]["data_files"], 2);
    let expected = objects_of(&plan, &base, &before);
    assert_eq!(
        expected,
        objects_of(&live, &base, &before),
        "inventory plan = live plan"
    );
    // The Parquet report: the same plan.
    let (pq_plan, code, err) = run(
        &s,
        &[
            &["safe-to-delete", "--dry-run", "--json"][..],
            &policy[..],
            &["--inventory", pq_uri.as_str()][..],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(pq_plan["policy"]["inventory"]["data_files"], 2);
    assert_eq!(
        objects_of(&pq_plan, &base, &before),
        expected,
        "Parquet inventory plan = live plan"
    );
    // (How many depends on the upload order: the checkpoint whose
    // `_metadata` was uploaded last is kept too, as written last.)
    assert!(
        expected.len() >= 10,
        "{}: {}",
        expected.len(),
        plan["totals"]
    );
    let log = tempfile::NamedTempFile::new().unwrap();
    let apply = || {
        run(
            &s,
            &[
                &[
                    "safe-to-delete",
                    "--yes",
                    "--json",
                    "--log",
                    log.path().to_str().unwrap(),
                ][..],
                &policy[..],
                &inventory[..],
            ]
            .concat(),
        )
    };
    let (v, code, err) = apply();
    assert_eq!(code, 0, "{err}");
    let after: std::collections::BTreeSet<String> =
        rt.block_on(listing(&storage, &base)).into_iter().collect();
    let gone: std::collections::BTreeSet<String> = before.difference(&after).cloned().collect();
    assert_eq!(gone, expected, "deleted objects differ from the plan");
    assert_eq!(
        v["applied"]["deleted_files"].as_u64().unwrap(),
        expected.len() as u64
    );
    verify_latest(&s, &rb);
    // Planned from the same (now stale) report again: what it lists is
    // gone, so nothing is deleted the second time.
    let (v, code, err) = apply();
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        v["applied"]["deleted_files"].as_u64().unwrap_or(0),
        0,
        "{v}"
    );
}

/// Decodes `%XX` (S3 Batch Operations manifests hold keys URL-encoded).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The rows of a manifest: (bucket, key, generation).
fn manifest_rows(store: Store, text: &str) -> Vec<(String, String, Option<String>)> {
    match store {
        Store::S3 => text
            .lines()
            .map(|l| {
                let (bucket, key) = l.split_once(',').unwrap();
                assert!(!key.contains([' ', '=', ',']), "not URL-encoded: {l}");
                (bucket.to_owned(), percent_decode(key), None)
            })
            .collect(),
        _ => {
            let mut r = csv::Reader::from_reader(text.as_bytes());
            assert_eq!(
                r.headers().unwrap().iter().collect::<Vec<_>>(),
                ["bucket", "name", "generation"]
            );
            r.records()
                .map(|rec| {
                    let rec = rec.unwrap();
                    (
                        rec[0].to_owned(),
                        rec[1].to_owned(),
                        Some(rec[2].to_owned()),
                    )
                })
                .collect()
        }
    }
}

/// `safe-to-delete --apply PLAN --emit-manifest` on a real tree in the
/// bucket, under a prefix with a space and `=` (keys an S3 manifest must
/// URL-encode): the manifest lists exactly the objects the `--dry-run`
/// plan lists (checkpoint directories object by object), except one file
/// candidate rewritten after planning, which the re-check drops; GCS rows
/// carry each object's generation; nothing is deleted; the deletion log
/// records the manifest. Then a kept `_metadata` that does not parse
/// aborts the next run: the manifest written before is left as it was, no
/// partial file beside it.
fn manifest_on(store: Store, format: &str) {
    if !store.available() {
        return;
    }
    let s = setup(store, &format!("manifest a=b {format}"));
    let rb = format!("{}={}", s.generated, s.base);
    let base = Location::parse(&s.base).unwrap();
    let storage = Storages::new(store.settings());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let before = rt.block_on(listing(&storage, &base));
    let policy = [
        "--keep-last",
        "1",
        "--min-age",
        "0s",
        "--stopped",
        "--rebase",
        &rb,
    ];
    let tmp = tempfile::tempdir().unwrap();
    let plan_file = tmp.path().join("plan.json");
    let (plan, code, err) = run(
        &s,
        &[
            &[
                "safe-to-delete",
                "--dry-run",
                "--json",
                "--plan-out",
                plan_file.to_str().unwrap(),
            ][..],
            &policy[..],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    let mut expected = objects_of(&plan, &base, &before.iter().cloned().collect());
    assert!(expected.len() > 50, "{}", expected.len());
    // One file candidate rewritten after planning: not in the manifest.
    let changed = plan["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["is_dir"] == false && c["reason"] == "orphan_shared")
        .unwrap()["path"]
        .as_str()
        .unwrap()
        .to_owned();
    let changed = Location::parse(&changed).unwrap();
    rt.block_on(overwrite(&storage, &changed, b"rewritten after planning"));
    assert!(expected.remove(changed.relative_to(&base).unwrap()));
    let listed_now = rt.block_on(async {
        let mut m = std::collections::BTreeMap::new();
        let mut l = storage.list(&base, true);
        while let Some(e) = l.next().await {
            let e = e.unwrap();
            m.insert(e.location.key().to_owned(), e.version);
        }
        m
    });

    let manifest = tmp.path().join("m.csv");
    let log = tmp.path().join("deletions.log");
    let (v, code, err) = run(
        &s,
        &[
            "safe-to-delete",
            "--apply",
            plan_file.to_str().unwrap(),
            "--emit-manifest",
            format,
            manifest.to_str().unwrap(),
            "--json",
            "--log",
            log.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        rt.block_on(listing(&storage, &base)),
        before,
        "nothing deleted"
    );
    let text = std::fs::read_to_string(&manifest).unwrap();
    let rows = manifest_rows(store, &text);
    let bucket = base.authority();
    let prefix = format!("{}/", base.key());
    let mut got = std::collections::BTreeSet::new();
    for (b, key, generation) in &rows {
        assert_eq!(b, bucket);
        if matches!(store, Store::Gcs) {
            let g = generation.as_deref().unwrap();
            assert!(
                !g.is_empty() && g.bytes().all(|c| c.is_ascii_digit()),
                "{g}"
            );
            assert_eq!(Some(g), listed_now[key].as_deref(), "{key}");
        }
        assert!(
            got.insert(key.strip_prefix(&prefix).unwrap().to_owned()),
            "{key} twice"
        );
    }
    assert_eq!(
        got,
        expected,
        "{}: manifest rows differ from the plan",
        store.name()
    );
    if matches!(store, Store::S3) {
        assert!(text.contains("manifest%20a%3Db%20"), "{text}");
    }
    let m = &v["manifest"];
    assert_eq!(m["files"].as_u64().unwrap(), rows.len() as u64, "{m}");
    assert_eq!(m["format"], format);
    assert_eq!(v["deleted"], false);
    assert!(
        m["dropped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["path"] == changed.to_string()),
        "{m}"
    );
    crate::json_fields::manifest_fields(&v);
    let planned_at = plan["policy"]["planned_at"].as_str().unwrap();
    if matches!(store, Store::S3) {
        assert_eq!(m["tag"], format!("flink-chk-delete={planned_at}"));
        let op: Value = serde_json::from_str(
            &std::fs::read_to_string(m["operation"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            op["S3PutObjectTagging"]["TagSet"][0]["Value"], planned_at,
            "{op}"
        );
        let lc: Value = serde_json::from_str(
            &std::fs::read_to_string(m["lifecycle"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        assert_eq!(lc["Rules"][0]["Filter"]["Tag"]["Value"], planned_at, "{lc}");
        assert!(lc["Rules"][0]["NoncurrentVersionExpiration"].is_object());
    } else {
        assert!(m["tag"].is_null() && m["operation"].is_null());
        assert_eq!(m["conditional"], true);
    }
    // The log: one manifest record, no deletion.
    let logged: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0]["event"], "manifest");
    assert_eq!(logged[0]["files"], m["files"]);
    assert_eq!(logged[0]["planned_at"], planned_at);
    assert_eq!(logged[0]["manifest"], m["path"]);

    // A kept _metadata that does not parse: exit 3, the manifest as it was.
    let newest = before
        .iter()
        .filter(|k| k.ends_with("/_metadata") && k.starts_with("checkpoints/"))
        .max_by_key(|k| {
            k.split('/')
                .find_map(|p| p.strip_prefix("chk-")?.parse::<u64>().ok())
        })
        .unwrap();
    rt.block_on(overwrite(&storage, &base.join(newest), b"garbage"));
    let (code, err) = {
        let out = flink_chk()
            .env("FLINK_CHK_CONFIG", &s.config)
            .args(["safe-to-delete", "--yes", "--emit-manifest", format])
            .arg(&manifest)
            .args(policy)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("_metadata"), "{err}");
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), text);
    let mut partial = manifest.as_os_str().to_owned();
    partial.push(".partial");
    assert!(!Path::new(&partial).exists());
    assert_eq!(rt.block_on(listing(&storage, &base)), before);
}

#[test]
fn s3_seaweedfs_emit_manifest() {
    manifest_on(Store::S3, "s3-batch-tags");
}

#[test]
fn gcs_fake_gcs_server_emit_manifest() {
    manifest_on(Store::Gcs, "gcs-batch");
}
