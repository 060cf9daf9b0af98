//! ViewFS placement: where a path of a `viewfs://` mount table lies (under
//! a mount point or the fallback, in a directory above mount points, or
//! outside every mount point), and the path hdfs-native is asked for. Plain
//! HDFS has no mount points: every path is mounted.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

use super::super::Location;
use super::super::location::path_is_under;
use super::Served;
use super::conf::{ConfError, HadoopConf};

/// Where a ViewFS path lies.
pub(super) enum Place {
    /// Under a mount point or the fallback: ask HDFS.
    Mounted,
    /// A directory above mount points (`children` are its entries, `mounts`
    /// the mount points below it).
    Internal {
        children: BTreeSet<String>,
        mounts: Vec<String>,
    },
    /// Outside every mount point, with no fallback: does not exist.
    Outside,
}

/// The mount points of a ViewFS mount table (none for plain HDFS).
#[derive(Debug, Default)]
pub(super) struct Mounts {
    /// Mount points (normalized paths).
    points: Vec<String>,
    /// The mount points whose target is the root of a file system.
    root_points: Vec<String>,
    /// No fallback: paths outside the mount points are answered here.
    no_fallback: bool,
}

/// Resolves `viewfs://cluster` through its mount table, adding to
/// `overrides` what hdfs-native needs (see [`HadoopConf::mount_table`]).
pub(super) fn resolve(
    conf: &HadoopConf,
    cluster: &str,
    overrides: &mut HashMap<String, String>,
) -> Result<Served, ConfError> {
    let table = conf.mount_table(cluster, overrides)?;
    let mut targets = table.links.clone();
    // Most specific mount point first.
    targets.sort_by_key(|(p, _)| Reverse(p.len()));
    let no_fallback = table.fallback.is_none();
    if let Some(f) = table.fallback {
        targets.push(("/".to_owned(), f));
    }
    Ok(Served {
        url: format!("viewfs://{cluster}/"),
        targets,
        mounts: Mounts {
            points: table.links.into_iter().map(|(p, _)| p).collect(),
            root_points: table.root_mounts,
            no_fallback,
        },
    })
}

impl Mounts {
    /// The path to hand to hdfs-native. A ViewFS mount point whose target is
    /// a root gets a trailing `/`: hdfs-native maps `/mnt` with target
    /// `hdfs://ns/` to an empty path, and `/mnt/` to `/`.
    pub(super) fn client_path(&self, location: &Location) -> String {
        let path = location.path();
        if path != "/" && self.root_points.iter().any(|m| m == path) {
            format!("{path}/")
        } else {
            path.to_owned()
        }
    }

    /// Where a ViewFS path lies (always [`Place::Mounted`] for plain HDFS and
    /// mount tables with a fallback).
    pub(super) fn place(&self, path: &str) -> Place {
        if !self.no_fallback || self.points.iter().any(|m| path_is_under(path, m)) {
            return Place::Mounted;
        }
        let mut children = BTreeSet::new();
        let mut mounts = Vec::new();
        for m in &self.points {
            let rest = if path == "/" {
                m.strip_prefix('/')
            } else {
                m.strip_prefix(path).and_then(|r| r.strip_prefix('/'))
            };
            if let Some(first) = rest.and_then(|r| r.split('/').next()) {
                children.insert(first.to_owned());
                mounts.push(m.clone());
            }
        }
        if children.is_empty() {
            Place::Outside
        } else {
            Place::Internal { children, mounts }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::super::HdfsStorage;
    use super::super::tests::{conf, loc, rt, settings, site, stat_error, testdata};
    use super::*;
    use crate::storage::{Error, Storage};

    #[test]
    fn viewfs_mount_table_directories_are_never_deleted() {
        let s = settings(&testdata("ha"));
        let storage = HdfsStorage::new(&loc("viewfs://testcluster/"), &s).unwrap();
        rt().block_on(async {
            // Above the mount points: mount-table directories, not files.
            let files = [
                loc("viewfs://testcluster/user"),
                loc("viewfs://testcluster/"),
            ];
            for r in storage.delete_files(&files).await {
                let e = r.unwrap_err().to_string();
                assert!(e.contains("is a directory"), "{e}");
            }
            // Outside every mount point nothing exists: deleted already.
            let r = storage
                .delete_files(&[loc("viewfs://testcluster/tmp/x")])
                .await;
            assert!(r[0].is_ok(), "{r:?}");
            for d in ["viewfs://testcluster/user", "viewfs://testcluster/tmp"] {
                assert!(!storage.remove_dir_if_empty(&loc(d)).await.unwrap(), "{d}");
            }
        });
    }

    #[test]
    fn viewfs_mount_table_without_fallback() {
        let s = settings(&testdata("ha"));
        let root = loc("viewfs://testcluster/");
        let storage = HdfsStorage::new(&root, &s).unwrap();
        assert_eq!(storage.name(), "viewfs");
        rt().block_on(async {
            // Directories above mount points exist and list the mount points.
            let st = storage.stat(&root).await.unwrap().unwrap();
            assert!(st.is_dir);
            let names = |dir: &'static str| {
                let storage = &storage;
                async move {
                    let dir = loc(dir);
                    let v: Vec<_> = storage
                        .list(&dir, false)
                        .map(|e| {
                            let e = e.unwrap();
                            assert!(e.is_dir);
                            assert_eq!(e.location.parent(), dir);
                            e.location.to_string()
                        })
                        .collect()
                        .await;
                    v
                }
            };
            assert_eq!(
                names("viewfs://testcluster/").await,
                ["viewfs://testcluster/flink", "viewfs://testcluster/user"]
            );
            assert_eq!(
                names("viewfs://testcluster/user").await,
                ["viewfs://testcluster/user/etl"]
            );
            // Outside every mount point: nothing there.
            let none = loc("viewfs://testcluster/tmp/x");
            assert!(storage.stat(&none).await.unwrap().is_none());
            assert!(storage.read(&none).await.unwrap_err().is_not_found());
            assert_eq!(storage.list(&none, true).count().await, 0);
            let e = storage.read(&root).await.unwrap_err().to_string();
            assert!(e.contains("is a directory"), "{e}");
            // Recursion reaches into the mounts (and fails there, quickly).
            let first = storage.list(&root, true).next().await.unwrap();
            assert!(first.unwrap_err().to_string().contains("127.0.0.1:1"));
        });
        // Under a mount point: its NameNodes are named.
        let msg = stat_error(&storage, "viewfs://testcluster/flink/ck");
        assert!(msg.contains("nameservice testns"), "{msg}");
        let msg = stat_error(&storage, "viewfs://testcluster/user/etl");
        assert!(msg.contains("NameNode 127.0.0.1:1"), "{msg}");
    }

    #[test]
    fn viewfs_default_fs_fallback_and_bad_tables() {
        let d = conf(&[(
            "core-site.xml",
            &site(&[
                ("fs.defaultFS", "viewfs://fb/"),
                ("fs.viewfs.mounttable.fb.link./a", "hdfs://127.0.0.2:1/a"),
                (
                    "fs.viewfs.mounttable.fb.linkMergeSlash",
                    "hdfs://127.0.0.1:1/",
                ),
                ("fs.viewfs.mounttable.rx.link./a", "hdfs://127.0.0.1:1/a"),
                (
                    "fs.viewfs.mounttable.rx.linkRegex.^/b",
                    "hdfs://127.0.0.1:1/b",
                ),
                ("fs.viewfs.mounttable.s3.link./a", "s3a://bucket/a"),
                ("fs.viewfs.mounttable.rm.link./r", "hdfs://127.0.0.1:1"),
                ("fs.viewfs.mounttable.rm.link./a", "hdfs://127.0.0.1:1/a/"),
            ]),
        )]);
        let s = settings(d.path().to_str().unwrap());
        // A mount point onto a root is asked for as `/r/` (hdfs-native would
        // turn `/r` into an empty path).
        let rm = HdfsStorage::new(&loc("viewfs://rm/"), &s).unwrap();
        assert_eq!(rm.client_path(&loc("viewfs://rm/r")), "/r/");
        assert_eq!(rm.client_path(&loc("viewfs://rm/r/x")), "/r/x");
        assert_eq!(rm.client_path(&loc("viewfs://rm/a")), "/a");
        let storage = HdfsStorage::new(&loc("viewfs:///x"), &s).unwrap();
        // The fallback (linkMergeSlash) serves what no link does.
        let msg = stat_error(&storage, "viewfs:///x");
        assert!(msg.contains("NameNode 127.0.0.1:1"), "{msg}");
        let msg = stat_error(&storage, "viewfs:///a/b");
        assert!(msg.contains("NameNode 127.0.0.2:1"), "{msg}");

        for (uri, why) in [
            ("viewfs://nosuch/x", "no mount table"),
            ("viewfs://rx/x", "linkRegex"),
            ("viewfs://s3/x", "only mount hdfs://"),
        ] {
            let e = HdfsStorage::new(&loc(uri), &s).unwrap_err();
            assert!(matches!(e, Error::Config { .. }), "{e:?}");
            assert!(e.to_string().contains(why), "{uri}: {e}");
        }
    }

    #[test]
    fn mount_points_hold_what_is_under_them() {
        let under = path_is_under;
        assert!(under("/a/b", "/a") && under("/a", "/a") && under("/x", "/"));
        assert!(!under("/ab", "/a"));
    }
}
