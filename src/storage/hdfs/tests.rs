//! Tests of the backend that need no server (one more runs against a real
//! cluster when asked, see the parent module), and helpers for the tests
//! of `conf` and `viewfs`.

use std::time::Instant;

use super::super::HdfsSettings;
use super::*;

pub(super) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

pub(super) fn loc(s: &str) -> Location {
    Location::parse(s).unwrap()
}

pub(super) fn testdata(name: &str) -> String {
    format!(
        "{}/src/storage/hdfs_testdata/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

pub(super) fn settings(conf_dir: &str) -> Settings {
    Settings {
        hdfs: Some(HdfsSettings {
            conf_dir: Some(conf_dir.to_owned()),
            failover_attempts: None,
        }),
        ..Settings::default()
    }
}

/// A configuration directory with the given files.
pub(super) fn conf(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(d.path().join(name), text).unwrap();
    }
    d
}

pub(super) fn site(props: &[(&str, &str)]) -> String {
    let mut s = String::from("<?xml version=\"1.0\"?>\n<configuration>\n");
    for (k, v) in props {
        s.push_str(&format!(
            "  <property><name>{k}</name><value>{v}</value></property>\n"
        ));
    }
    s.push_str("</configuration>\n");
    s
}

/// Stats `location` and expects a quick error; returns its message.
pub(super) fn stat_error(storage: &HdfsStorage, location: &str) -> String {
    let l = loc(location);
    let start = Instant::now();
    let r = rt().block_on(storage.stat(&l));
    let elapsed = start.elapsed();
    let e = r.expect_err("stat of an unreachable NameNode must fail");
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}: {e}");
    assert!(matches!(e, Error::Backend { .. }), "{e:?}");
    e.to_string()
}

#[test]
fn dead_namenode_fails_fast_naming_its_address() {
    let empty = conf(&[]);
    let s = settings(empty.path().to_str().unwrap());
    let l = loc("hdfs://127.0.0.1:1/x");
    let storage = HdfsStorage::new(&l, &s).unwrap();
    assert_eq!(storage.name(), "hdfs");
    let msg = stat_error(&storage, "hdfs://127.0.0.1:1/x");
    assert!(msg.contains("127.0.0.1:1"), "{msg}");
    assert!(msg.starts_with("hdfs://127.0.0.1:1/x: "), "{msg}");
    rt().block_on(async {
        let e = storage.read_range(&l, 0, 4).await.unwrap_err().to_string();
        assert!(e.contains("127.0.0.1:1"), "{e}");
        let items: Vec<_> = storage.list(&l, true).collect().await;
        assert_eq!(items.len(), 1, "{items:?}");
        let e = items[0].as_ref().unwrap_err().to_string();
        assert!(e.contains("127.0.0.1:1"), "{e}");
    });
}

#[test]
fn deletes_fail_per_file_without_a_namenode() {
    let empty = conf(&[]);
    let s = settings(empty.path().to_str().unwrap());
    let storage = HdfsStorage::new(&loc("hdfs://127.0.0.1:1/x"), &s).unwrap();
    let files = [
        loc("hdfs://127.0.0.1:1/x"),
        loc("hdfs://127.0.0.1:2/x"),
        loc("hdfs://127.0.0.1:1/y"),
    ];
    let start = Instant::now();
    let r = rt().block_on(storage.delete_files(&files));
    assert!(start.elapsed() < Duration::from_secs(15));
    assert_eq!(r.len(), 3);
    for i in [0, 2] {
        let e = r[i].as_ref().unwrap_err();
        assert!(matches!(e, Error::Backend { .. }), "{e:?}");
        assert!(e.to_string().starts_with(&format!("{}: ", files[i])), "{e}");
    }
    // Another NameNode's file is refused, not sent to this one.
    assert!(matches!(r[1], Err(Error::Unsupported { .. })), "{r:?}");
    let e = rt()
        .block_on(storage.remove_dir_if_empty(&files[0]))
        .unwrap_err();
    assert!(e.to_string().contains("127.0.0.1:1"), "{e}");
}

#[test]
fn silent_namenode_hits_the_request_timeout() {
    // Accepts connections (the kernel does) but never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let empty = conf(&[]);
    let mut s = settings(empty.path().to_str().unwrap());
    s.timeout_secs = Some(1);
    let uri = format!("hdfs://{addr}/x");
    let storage = HdfsStorage::new(&loc(&uri), &s).unwrap();
    let msg = stat_error(&storage, &uri);
    assert!(msg.contains("within 1 s"), "{msg}");
    assert!(msg.contains(&addr.to_string()), "{msg}");
    drop(listener);
}

#[test]
fn ha_nameservice_tries_both_namenodes_quickly() {
    // The XML asks for 15 failovers; the override keeps this short.
    let s = settings(&testdata("ha"));
    for uri in ["hdfs://testns/flink/ck", "hdfs:///flink/ck"] {
        let storage = HdfsStorage::new(&loc(uri), &s).unwrap();
        let msg = stat_error(&storage, uri);
        assert!(msg.starts_with(&format!("{uri}: ")), "{msg}");
        assert!(msg.contains("nameservice testns"), "{msg}");
        assert!(msg.contains("nn1=127.0.0.1:1"), "{msg}");
        assert!(msg.contains("nn2=127.0.0.2:1"), "{msg}");
    }
    // A nameservice with one NameNode.
    let storage = HdfsStorage::new(&loc("hdfs://plainns/x"), &s).unwrap();
    let msg = stat_error(&storage, "hdfs://plainns/x");
    assert!(
        msg.contains("NameNode 127.0.0.1:1 of nameservice plainns"),
        "{msg}"
    );
}

#[test]
fn helpers() {
    assert_eq!(
        short_class("org.apache.hadoop.security.AccessControlException"),
        "AccessControlException"
    );
    assert_eq!(first_line("msg\n\tat x.y"), "msg");
}

/// Opt-in: runs against the cluster named by `FLINK_CHK_TEST_HDFS`
/// (see the module docs); passes without doing anything otherwise.
#[test]
#[allow(clippy::print_stderr)]
fn real_cluster() {
    let Ok(base) = std::env::var("FLINK_CHK_TEST_HDFS") else {
        eprintln!("skipped: set FLINK_CHK_TEST_HDFS=hdfs://NN:PORT/DIR to run");
        return;
    };
    let base = loc(&base);
    let s = Settings::default();
    let storage = HdfsStorage::new(&base, &s).unwrap();
    rt().block_on(async {
        let st = storage.stat(&base).await.unwrap();
        let st = st.unwrap_or_else(|| panic!("{base} does not exist"));
        assert!(st.is_dir, "{base} is not a directory");

        let children: Vec<Entry> = storage
            .list(&base, false)
            .take(1000)
            .map(|e| e.unwrap())
            .collect()
            .await;
        for c in &children {
            assert_eq!(c.location.parent(), base, "{c:?}");
        }
        let files: Vec<Entry> = storage
            .list(&base, true)
            .take(1000)
            .map(|e| e.unwrap())
            .collect()
            .await;
        for f in &files {
            assert!(!f.is_dir && f.location.starts_with(&base), "{f:?}");
        }
        if let Some(f) = files.first() {
            let again = storage.stat(&f.location).await.unwrap().unwrap();
            assert_eq!(again.size, f.size);
            let head = storage.read_range(&f.location, 0, 4).await.unwrap();
            assert_eq!(head.len() as u64, f.size.min(4));
            let tail = storage.read_range(&f.location, f.size, 4).await.unwrap();
            assert!(tail.is_empty());
        }
        let missing = base.join("flink-chk-test-does-not-exist");
        assert!(storage.stat(&missing).await.unwrap().is_none());
        assert!(storage.read(&missing).await.unwrap_err().is_not_found());
        assert_eq!(storage.list(&missing, true).count().await, 0);
    });

    if let Ok(meta) = std::env::var("FLINK_CHK_TEST_HDFS_METADATA") {
        let meta = loc(&meta);
        let storage = HdfsStorage::new(&meta, &s).unwrap();
        let head = rt().block_on(storage.read_range(&meta, 0, 4)).unwrap();
        // Flink's checkpoint metadata magic number.
        assert_eq!(head, [0x49, 0x60, 0x67, 0x2d], "{meta}");
    }
}
