//! One contract, every backend: what `flink_chk::storage::Storage` documents
//! (listing shapes, `stat`, whole and ranged reads, per-file deletes that
//! are idempotent and never take a directory, conditional deletes and the
//! versions they compare, `remove_dir_if_empty`,
//! `real_location`), checked on the same small tree. [`check`] runs here
//! against the local file system and the in-memory store, and from
//! `object_stores` against the S3, GCS and Azure test servers.

use std::path::Path;

use flink_chk::storage::memory::ListOrder;
use flink_chk::storage::{LocalStorage, Location, MemoryStorage, Storage};
use futures_util::StreamExt;

/// What a backend has for directories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Real directories: empty ones exist, deleting one is refused, and
    /// `remove_dir_if_empty` removes them.
    FileSystem,
    /// Object stores: a directory is a common prefix of keys, so empty ones
    /// do not exist and `remove_dir_if_empty` is always `Ok(false)`.
    ObjectStore,
}

/// The tree [`check`] expects a backend to be seeded with.
#[derive(Debug)]
pub struct Tree {
    /// Files, relative to the root; each holds its own relative path.
    pub files: &'static [&'static str],
    /// Empty directories (ignored by object stores).
    pub empty_dirs: &'static [&'static str],
}

/// The tree of every run.
pub const TREE: Tree = Tree {
    files: &["a/b/f", "a/g", "h", "c/d/e/i"],
    empty_dirs: &["empty/x"],
};

impl Tree {
    /// Writes the tree below `dir` on the local disk.
    pub fn write_to(&self, dir: &Path) {
        for f in self.files {
            let p = dir.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, f).unwrap();
        }
        for d in self.empty_dirs {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
    }
}

/// (path relative to the root, is a directory, size), sorted.
type Shape = Vec<(String, bool, u64)>;

fn shape(v: &[(&str, bool, u64)]) -> Shape {
    let mut v: Shape = v.iter().map(|&(p, d, s)| (p.to_owned(), d, s)).collect();
    v.sort();
    v
}

/// Lists `rel` below `root` and checks each entry's location against the
/// listed directory.
async fn listing(storage: &dyn Storage, root: &Location, rel: &str, recursive: bool) -> Shape {
    let dir = if rel.is_empty() {
        root.clone()
    } else {
        root.join(rel)
    };
    let entries: Vec<_> = storage.list(&dir, recursive).collect().await;
    let mut v: Shape = entries
        .into_iter()
        .map(|e| {
            let e = e.unwrap_or_else(|e| panic!("list {dir} recursive={recursive}: {e}"));
            assert!(!e.special, "{e:?}");
            if recursive {
                assert!(!e.is_dir && e.location.starts_with(&dir), "{e:?}");
            } else {
                assert_eq!(e.location.parent(), dir, "{e:?}");
            }
            assert!(
                e.location.to_string().starts_with(&dir.to_string()),
                "spelled like the listed directory: {e:?}"
            );
            let rel = e.location.relative_to(root).unwrap().to_owned();
            (rel, e.is_dir, e.size)
        })
        .collect();
    v.sort();
    v
}

/// Checks the [`Storage`] contract on `storage`, whose directory `root` has
/// been seeded by `seed` with [`TREE`] (and holds nothing else). Changes the
/// tree: files `a/g` and `h` are deleted, and on file systems the empty
/// directories removed.
pub async fn check(storage: &dyn Storage, root: &Location, kind: Kind, seed: impl FnOnce(&Tree)) {
    seed(&TREE);
    let fs = kind == Kind::FileSystem;
    let name = storage.name();
    assert!(!name.is_empty());
    let at = |rel: &str| root.join(rel);

    // Listings: direct children (with directories) or every file below.
    let mut top = vec![("a", true, 0), ("c", true, 0), ("h", false, 1)];
    if fs {
        top.push(("empty", true, 0));
    }
    let all = [
        ("a/b/f", false, 5),
        ("a/g", false, 3),
        ("c/d/e/i", false, 7),
        ("h", false, 1),
    ];
    let empty_children: &[(&str, bool, u64)] = if fs { &[("empty/x", true, 0)] } else { &[] };
    for (rel, recursive, want) in [
        ("", false, &top[..]),
        ("", true, &all[..]),
        ("a", false, &[("a/b", true, 0), ("a/g", false, 3)][..]),
        ("a", true, &[("a/b/f", false, 5), ("a/g", false, 3)][..]),
        ("c", false, &[("c/d", true, 0)][..]),
        ("c", true, &[("c/d/e/i", false, 7)][..]),
        ("empty", false, empty_children),
        ("empty", true, &[][..]),
        // A missing directory and a file list as empty.
        ("missing", false, &[][..]),
        ("missing", true, &[][..]),
        ("h", false, &[][..]),
        ("h", true, &[][..]),
    ] {
        assert_eq!(
            listing(storage, root, rel, recursive).await,
            shape(want),
            "{name}: list {rel:?} recursive={recursive}"
        );
    }

    // stat
    let g = storage.stat(&at("a/g")).await.unwrap().expect("a/g exists");
    assert_eq!(
        (g.location.clone(), g.is_dir, g.size),
        (at("a/g"), false, 3)
    );
    assert!(g.is_file() && g.modified.is_some(), "{name}: {g:?}");
    assert!(storage.stat(&at("nope")).await.unwrap().is_none(), "{name}");
    match storage.stat(&at("a")).await.unwrap() {
        Some(d) => assert!(d.is_dir && d.size == 0, "{name}: {d:?}"),
        // A prefix is no object.
        None => assert!(!fs, "{name}: a directory must stat as one"),
    }

    // Whole and ranged reads.
    assert_eq!(storage.read(&at("a/g")).await.unwrap(), b"a/g");
    let e = storage.read(&at("nope")).await.unwrap_err();
    assert!(e.is_not_found(), "{name}: {e:?}");
    assert!(
        storage.read(&at("a")).await.is_err(),
        "{name}: read a directory"
    );
    let i = at("c/d/e/i");
    for (offset, len, want) in [
        (2, 3, &b"d/e"[..]),
        (0, 100, b"c/d/e/i"),
        (5, u64::MAX, b"/i"),
        (5, 0, b""),
        (7, 4, b""),
        (100, 4, b""),
    ] {
        let got = storage.read_range(&i, offset, len).await.unwrap();
        assert_eq!(got, want, "{name}: read_range({offset}, {len})");
    }
    let e = storage.read_range(&at("nope"), 0, 4).await.unwrap_err();
    assert!(e.is_not_found(), "{name}: {e:?}");

    // Where things really are: no links here.
    let h = at("h");
    assert_eq!(storage.real_location(&h).await.unwrap(), Some(h.clone()));
    let nope = at("nope");
    match storage.real_location(&nope).await.unwrap() {
        None => {}
        Some(l) => assert_eq!(l, nope, "{name}"),
    }

    // Deleting only if unchanged. Versions: on object stores the same in
    // a listing and a stat; none on file systems. A missing file given a
    // version is deleted already. Where there are no versions, a file
    // given one cannot be confirmed unchanged: it stays (`Changed`). (A
    // wrong version on object stores: `object_stores::*_conditional_delete`.)
    let h = at("h");
    let stat = storage.stat(&h).await.unwrap().unwrap().version;
    let listed = storage
        .list(root, false)
        .filter_map(|e| std::future::ready(e.ok().filter(|e| e.location == h)))
        .next()
        .await
        .unwrap()
        .version;
    assert_eq!(stat, listed, "{name}: version in a stat and a listing");
    assert_eq!(stat.is_some(), !fs, "{name}: version {stat:?}");
    let some = Some("\"v1\"".to_owned());
    let r = storage
        .delete_files_if(&[(at("missing"), some.clone())])
        .await;
    assert!(r[0].is_ok(), "{name}: {r:?}");
    if fs {
        let r = storage.delete_files_if(&[(h.clone(), some)]).await;
        assert!(
            r[0].as_ref().is_err_and(|e| e.is_changed()),
            "{name}: {r:?}"
        );
        assert_eq!(storage.read(&h).await.unwrap(), b"h", "{name}");
    }

    // Deleting: one answer per file, in order; a missing file is deleted
    // already; a directory is never deleted (an error on file systems; an
    // object store has no object by that name and deletes nothing).
    let targets = ["a/g", "a", "missing", "h"].map(at);
    let r = storage.delete_files(&targets).await;
    assert_eq!(r.len(), targets.len(), "{name}");
    for i in [0, 2, 3] {
        assert!(r[i].is_ok(), "{name}: delete {}: {:?}", targets[i], r[i]);
    }
    if fs {
        let e = r[1].as_ref().unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{name}: {e}");
    }
    for gone in ["a/g", "h"] {
        assert!(
            storage.stat(&at(gone)).await.unwrap().is_none(),
            "{name}: {gone}"
        );
    }
    assert_eq!(
        storage.read(&at("a/b/f")).await.unwrap(),
        b"a/b/f",
        "{name}"
    );
    let again = storage.delete_files(&targets[..1]).await;
    assert!(again[0].is_ok(), "{name}: deleting again: {again:?}");
    assert!(storage.delete_files(&[]).await.is_empty());

    // Removing empty directories.
    for (rel, want) in [
        ("empty/x", Some(true)),
        ("empty", Some(true)),
        ("c/d", Some(false)),
        ("a/b/f", None),
        ("nope", Some(false)),
    ] {
        let got = storage.remove_dir_if_empty(&at(rel)).await;
        let want = if fs { want } else { Some(false) };
        assert_eq!(
            got.as_ref().ok().copied(),
            want,
            "{name}: rmdir {rel}: {got:?}"
        );
    }
    assert!(
        storage.stat(&at("empty")).await.unwrap().is_none(),
        "{name}"
    );

    assert_eq!(
        listing(storage, root, "", false).await,
        shape(&[("a", true, 0), ("c", true, 0)]),
        "{name}: what is left"
    );
    assert_eq!(
        listing(storage, root, "", true).await,
        shape(&[("a/b/f", false, 5), ("c/d/e/i", false, 7)]),
        "{name}: what is left"
    );
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn local_file_system() {
    let tmp = tempfile::tempdir().unwrap();
    // Without links on the way (a temporary directory behind one).
    let dir = tmp.path().canonicalize().unwrap().join("r");
    let root = Location::parse(dir.to_str().unwrap()).unwrap();
    rt().block_on(check(&LocalStorage, &root, Kind::FileSystem, |t| {
        t.write_to(&dir);
    }));
}

#[test]
fn memory_store_behaves_like_local_storage() {
    for order in [ListOrder::Sorted, ListOrder::Reversed, ListOrder::Scrambled] {
        let mem = MemoryStorage::new();
        mem.lock().order = order;
        let root = Location::parse("/m/r").unwrap();
        rt().block_on(check(&mem, &root, Kind::FileSystem, |t| {
            for f in t.files {
                mem.put(&root.join(f), f.as_bytes());
            }
            for d in t.empty_dirs {
                mem.mkdirs(&root.join(d));
            }
        }));
    }
}
