//! Which rows are wanted and how one becomes an [`Entry`] of the root's
//! store: the same for every kind and encoding (CSV, TSV, Parquet).

use std::sync::OnceLock;

use super::{Counts, Error, Inventory, TimeFrom};
use crate::analysis::snapshot::Rebase;
use crate::storage::{Entry, Location, Scheme};

/// Where the rows of an object-store report live.
#[derive(Debug, Clone)]
pub(super) struct ObjectStore {
    /// How a row's location is written (`s3`, `gs`, `wasbs`).
    pub(super) scheme: Scheme,
    /// S3: the bucket the report lists (GCS rows name theirs; Azure rows
    /// start with their container).
    pub(super) bucket: Option<String>,
    /// Azure: the account's blob host (`acct.blob.core.windows.net`).
    pub(super) host: Option<String>,
}

impl ObjectStore {
    /// `scheme://authority` of a bucket (or container) of this store.
    pub(super) fn base(&self, bucket: &str) -> String {
        match &self.host {
            Some(h) => format!("{}://{bucket}@{h}", self.scheme.canonical()),
            None => format!("{}://{bucket}", self.scheme.canonical()),
        }
    }

    /// The bucket (container) of `l` when `l` lies in this store.
    fn bucket_of<'a>(&self, l: &'a Location) -> Option<&'a str> {
        let s = l.scheme();
        match (self.scheme, &self.host) {
            // S3 layout reports also come from OSS, OBS and S3-compatible
            // stores: any object store with the bucket's name.
            (Scheme::S3, _) => s.is_object_store().then(|| l.authority()),
            (Scheme::AzureBlob, Some(h)) => {
                if !matches!(s, Scheme::AzureBlob | Scheme::AzureDfs) {
                    return None;
                }
                let (container, host) = l.authority().split_once('@')?;
                (account(host) == account(h)).then_some(container)
            }
            (want, _) => (s == want).then(|| l.authority()),
        }
    }
}

/// The account name of an Azure host (`acct` of `acct.blob.core.windows.net`
/// and of `acct.dfs.core.windows.net`).
pub(super) fn account(host: &str) -> &str {
    host.split('.').next().unwrap_or(host)
}

/// Which rows are wanted and how they become entries of the root's store.
#[derive(Debug)]
pub(super) struct Filter {
    root: Location,
    scope_prefix: String,
    rebase: Rebase,
    objects: Option<ObjectStore>,
    /// The root's bucket (container) when the root is in the report's store.
    root_bucket: Option<String>,
    /// Rows of another bucket than the root's: the buckets and paths
    /// (`/…/`) that `--rebase` maps somewhere; rows elsewhere are outside
    /// without being parsed.
    mapped: Vec<(String, String)>,
    pub(super) time: jiff::Timestamp,
    time_from: TimeFrom,
    /// The latest row time accepted.
    latest: jiff::Timestamp,
    /// A row of another store (the first seen).
    foreign: OnceLock<Location>,
}

fn same_store(a: &Location, b: &Location) -> bool {
    let family = |s: Scheme| {
        if s == Scheme::Local {
            "file"
        } else {
            s.canonical()
        }
    };
    family(a.scheme()) == family(b.scheme()) && a.authority() == b.authority()
}

/// Whether `path` (absolute, `/`-separated) is in normal form: no empty,
/// `.` or `..` segment, no trailing `/`.
pub(super) fn is_normal(path: &str) -> bool {
    path.len() > 1
        && path
            .split('/')
            .skip(1)
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// What became of a row.
pub(super) enum Placed {
    /// A file under the scope.
    Entry(Entry),
    /// Outside the scope (or of another store).
    Outside,
    /// Not a file: a directory marker, a path not in normal form.
    Skipped,
}

impl Filter {
    pub(super) fn new(inv: &Inventory, root: &Location, scope: &Location, rebase: &Rebase) -> Self {
        let dir = |l: &Location| match l.path() {
            "/" => "/".to_owned(),
            p => format!("{p}/"),
        };
        let objects = inv.objects.clone();
        let root_bucket = objects
            .as_ref()
            .and_then(|o| o.bucket_of(root))
            .map(str::to_owned);
        let mapped = match &objects {
            Some(o) => rebase
                .rules()
                .iter()
                .filter_map(|(from, _)| Some((o.bucket_of(from)?.to_owned(), dir(from))))
                .filter(|(b, _)| root_bucket.as_deref() != Some(b.as_str()))
                .collect(),
            None => Vec::new(),
        };
        Filter {
            root: root.clone(),
            scope_prefix: dir(scope),
            mapped,
            rebase: rebase.clone(),
            objects,
            root_bucket,
            time: inv.time,
            time_from: inv.time_from,
            latest: inv
                .time
                .checked_add(super::FUTURE_TOLERANCE)
                .unwrap_or(inv.time),
            foreign: OnceLock::new(),
        }
    }

    /// Whether rows name objects of a bucket (S3, GCS, Azure).
    pub(super) fn is_objects(&self) -> bool {
        self.objects.is_some()
    }

    /// Whether the row at `key` of `bucket` is surely outside the scope:
    /// the hot path's test, before anything is allocated or converted.
    #[inline]
    pub(super) fn surely_outside(&self, bucket: Option<&[u8]>, key: &[u8]) -> bool {
        let Some(o) = &self.objects else {
            return false;
        };
        let (bucket, key) = match (
            o.host.is_some(),
            bucket.or(o.bucket.as_deref().map(str::as_bytes)),
        ) {
            // Azure: `container/key…`.
            (true, _) => match key.iter().position(|&b| b == b'/') {
                Some(i) => (&key[..i], &key[i + 1..]),
                None => return false,
            },
            (false, Some(b)) => (b, key),
            (false, None) => return false,
        };
        if self.root_bucket.as_deref().map(str::as_bytes) == Some(bucket) {
            return !key.starts_with(&self.scope_prefix.as_bytes()[1..]);
        }
        if self.mapped.is_empty() && self.foreign.get().is_some() {
            return true;
        }
        false
    }

    /// Whether no key from `min` to `max` (bytes as the report holds them,
    /// in byte order) of `bucket`'s rows can lie under the scope: then a
    /// whole Parquet row group is skipped unread, by its statistics.
    /// `bucket` as in [`Filter::surely_outside`] (`None`: the report's
    /// bucket; Azure keys start with their container). Conservative: a
    /// range that reaches a mapped or scope prefix is never outside.
    pub(super) fn range_outside(&self, bucket: Option<&[u8]>, min: &[u8], max: &[u8]) -> bool {
        let Some(o) = &self.objects else {
            return false;
        };
        if min > max {
            return false;
        }
        // Keys with the prefix `q` run from `q` to just before its successor.
        let reaches = |q: &[u8]| max >= q && (min < q || min.starts_with(q));
        let root = self.root_bucket.as_deref().map(str::as_bytes);
        let scope = &self.scope_prefix.as_bytes()[1..];
        fn container(k: &[u8]) -> Option<&[u8]> {
            k.iter().position(|&b| b == b'/').map(|i| &k[..i])
        }
        let (bucket, outside) = if o.host.is_some() {
            // Azure: `container/key…`; the wanted prefixes carry their
            // container.
            let wanted = root.map(|r| [r, b"/", scope].concat()).into_iter().chain(
                self.mapped
                    .iter()
                    .map(|(b, m)| [b.as_bytes(), b"/", &m.as_bytes()[1..]].concat()),
            );
            let outside = !wanted.into_iter().any(|q| reaches(&q));
            let other = [min, max]
                .into_iter()
                .filter_map(container)
                .find(|c| Some(*c) != root);
            (other, outside)
        } else {
            let Some(b) = bucket.or(o.bucket.as_deref().map(str::as_bytes)) else {
                return false;
            };
            let wanted = (root == Some(b) && reaches(scope))
                || self
                    .mapped
                    .iter()
                    .any(|(m_b, m)| m_b.as_bytes() == b && reaches(&m.as_bytes()[1..]));
            let outside = !wanted;
            (Some(b).filter(|b| Some(*b) != root), outside)
        };
        // Reading these rows would have noted a row of another bucket.
        if outside
            && self.foreign.get().is_none()
            && let Some(b) = bucket.and_then(|b| std::str::from_utf8(b).ok())
            && let Ok(l) = Location::parse(&format!("{}/", o.base(b)))
        {
            let _ = self.foreign.set(l);
        }
        outside
    }

    /// The entry for a row's path (already URL-decoded), or `None` when it
    /// lies outside the scope (`Err(())` when the path is not in normal
    /// form). `bucket`: the row's bucket (GCS).
    fn locate(&self, path: &str, bucket: Option<&str>) -> Result<Option<Location>, ()> {
        if let Some(o) = &self.objects {
            let (bucket, key) = if o.host.is_some() {
                path.split_once('/').ok_or(())?
            } else {
                (bucket.or(o.bucket.as_deref()).ok_or(())?, path)
            };
            return self.locate_object(o, bucket, key);
        }
        if path.starts_with('/') {
            if !is_normal(path) {
                return Err(());
            }
            return Ok(path
                .starts_with(&self.scope_prefix)
                .then(|| self.root.with_path(path)));
        }
        // A URI: the root's store, or another one through --rebase.
        let raw = path
            .split_once("://")
            .and_then(|(_, r)| r.find('/').map(|i| &r[i..]))
            .unwrap_or("");
        if !is_normal(raw) {
            return Err(());
        }
        let Ok(l) = Location::parse(path) else {
            return Err(());
        };
        if same_store(&l, &self.root) {
            return Ok(l
                .path()
                .starts_with(&self.scope_prefix)
                .then(|| self.root.with_path(l.path())));
        }
        Ok(self.foreign_row(l))
    }

    fn locate_object(
        &self,
        o: &ObjectStore,
        bucket: &str,
        key: &str,
    ) -> Result<Option<Location>, ()> {
        // The hot path: most rows of a bucket lie outside the root, and
        // are dropped by a prefix test, before any allocation.
        if self.root_bucket.as_deref() == Some(bucket) {
            if !key.starts_with(&self.scope_prefix[1..]) {
                return Ok(None);
            }
            let abs = format!("/{key}");
            if !is_normal(&abs) {
                return Err(());
            }
            return Ok(Some(self.root.with_path(&abs)));
        }
        if !self
            .mapped
            .iter()
            .any(|(b, m)| b == bucket && key.starts_with(&m[1..]))
        {
            if self.foreign.get().is_none()
                && let Ok(l) = Location::parse(&format!("{}/", o.base(bucket)))
            {
                let _ = self.foreign.set(l);
            }
            return Ok(None);
        }
        let abs = format!("/{key}");
        if !is_normal(&abs) {
            return Err(());
        }
        let Ok(l) = Location::parse(&format!("{}{abs}", o.base(bucket))) else {
            return Err(());
        };
        Ok(self.foreign_row(l))
    }

    /// A row of another store: under the scope only through `--rebase`.
    fn foreign_row(&self, l: Location) -> Option<Location> {
        let mapped = self.rebase.apply(l.clone());
        if same_store(&mapped, &self.root) && mapped.path().starts_with(&self.scope_prefix) {
            return Some(self.root.with_path(mapped.path()));
        }
        if !same_store(&mapped, &self.root) && self.foreign.get().is_none() {
            let _ = self.foreign.set(l);
        }
        None
    }

    /// One row that is a current file by its flags: where it goes. `size`
    /// and `modified` are read only for rows under the scope; their errors
    /// name the column (`Err((column, why))`).
    pub(super) fn place(
        &self,
        file: &str,
        path: &str,
        bucket: Option<&str>,
        special: bool,
        size: impl FnOnce() -> Result<u64, (usize, String)>,
        modified: impl FnOnce() -> Result<jiff::Timestamp, (usize, String)>,
    ) -> Result<Placed, PlaceError> {
        if self.objects.is_some() && path.ends_with('/') {
            return Ok(Placed::Skipped); // a "directory" marker object
        }
        let location = match self.locate(path, bucket) {
            Ok(Some(l)) => l,
            Ok(None) => return Ok(Placed::Outside),
            Err(()) => return Ok(Placed::Skipped),
        };
        let size = size().map_err(PlaceError::Field)?;
        let modified = modified().map_err(PlaceError::Field)?;
        if modified > self.latest {
            return Err(PlaceError::Other(Error::RowAfterTime {
                file: file.to_owned(),
                path: location.to_string(),
                modified,
                time: self.time,
                from: match self.time_from {
                    TimeFrom::Manifest => "from the manifest",
                    TimeFrom::FileModified => "the file's modification time",
                    TimeFrom::Given => "--inventory-time",
                },
            }));
        }
        Ok(Placed::Entry(Entry {
            location,
            size,
            modified: Some(modified),
            is_dir: false,
            special,
            version: None,
        }))
    }

    /// Fails when no row lies under the scope while rows of another store
    /// were seen.
    pub(super) fn finish(&self, inv: &Inventory, c: Counts) -> Result<Counts, Error> {
        if c.in_scope == 0
            && let Some(l) = self.foreign.get()
        {
            return Err(other_store(inv, l, &self.root));
        }
        Ok(c)
    }
}

/// Why [`Filter::place`] failed.
pub(super) enum PlaceError {
    /// A column's value (the column, what is wrong).
    Field((usize, String)),
    /// Anything else.
    Other(Error),
}

/// The error for rows of another store than the root's.
pub(super) fn other_store(inv: &Inventory, row: &Location, root: &Location) -> Error {
    let found = row.with_path("/");
    let found = found.to_string();
    let found = found.trim_end_matches('/');
    Error::OtherStore {
        file: inv.source.to_string(),
        found: found.to_owned(),
        root: root.to_string(),
        suggest: format!("{found}{}={root}", root.path()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_paths() {
        assert!(is_normal("/a/b"));
        for p in ["/", "/a//b", "/a/./b", "/a/../b", "/a/"] {
            assert!(!is_normal(p), "{p}");
        }
    }

    /// A filter for the scope `flink/ck/` of bucket `b` (S3 layout), or of
    /// container `c` (Azure layout, `host`), with `mapped` buckets.
    fn filter(host: Option<&str>, root: &str, mapped: &[(&str, &str)]) -> Filter {
        let root = Location::parse(root).unwrap();
        Filter {
            scope_prefix: "/flink/ck/".into(),
            rebase: Rebase::default(),
            objects: Some(ObjectStore {
                scheme: if host.is_some() {
                    Scheme::AzureBlob
                } else {
                    Scheme::S3
                },
                bucket: host.is_none().then(|| "b".to_owned()),
                host: host.map(str::to_owned),
            }),
            root_bucket: Some(if host.is_some() { "c" } else { "b" }.to_owned()),
            mapped: mapped
                .iter()
                .map(|(b, p)| ((*b).to_owned(), (*p).to_owned()))
                .collect(),
            time: jiff::Timestamp::UNIX_EPOCH,
            time_from: TimeFrom::Given,
            latest: jiff::Timestamp::UNIX_EPOCH,
            foreign: OnceLock::new(),
            root,
        }
    }

    /// Unit cases (hand-built ranges) of the row-group skip: a range is
    /// outside only when no key in it can start with a wanted prefix.
    #[test]
    fn key_ranges_outside_the_scope() {
        let f = filter(None, "s3://b/flink/ck", &[]);
        let out = |min: &str, max: &str| f.range_outside(None, min.as_bytes(), max.as_bytes());
        assert!(out("a", "flink/ch"));
        assert!(out("flink/ck0", "z")); // '0' follows '/': past every "flink/ck/…"
        assert!(out("flink/ck", "flink/ck")); // the directory's own name is no file under it
        assert!(!out("a", "flink/ck/"));
        assert!(!out("flink/ck/x", "flink/ck/y"));
        assert!(!out("flink/ck/x", "z"));
        assert!(!out("a", "z"));
        assert!(!out("z", "a")); // not a range: never skipped
        // Another bucket: outside, and noted as a row of another store.
        assert!(f.foreign.get().is_none());
        assert!(f.range_outside(Some(b"other"), b"flink/ck/a", b"flink/ck/z"));
        assert_eq!(f.foreign.get().unwrap().to_string(), "s3://other/");
        // A bucket that --rebase maps: only its mapped prefix is wanted.
        let f = filter(None, "s3://b/flink/ck", &[("m", "/old/")]);
        assert!(!f.range_outside(Some(b"m"), b"old/a", b"old/b"));
        assert!(f.range_outside(Some(b"m"), b"flink/ck/a", b"flink/ck/b"));
        // Azure: keys carry their container.
        let f = filter(
            Some("acct.blob.core.windows.net"),
            "wasbs://c@acct.blob.core.windows.net/flink/ck",
            &[],
        );
        let out = |min: &str, max: &str| f.range_outside(None, min.as_bytes(), max.as_bytes());
        assert!(out("c/a", "c/flink/cj"));
        assert!(!out("c/a", "c/flink/ck/1"));
        assert!(out("d/flink/ck/1", "d/flink/ck/2"));
        assert_eq!(
            f.foreign.get().unwrap().to_string(),
            "wasbs://d@acct.blob.core.windows.net/"
        );
        // Not an object store: never skipped.
        let mut f = filter(None, "s3://b/flink/ck", &[]);
        f.objects = None;
        assert!(!f.range_outside(None, b"a", b"b"));
    }

    #[test]
    fn azure_accounts() {
        let o = ObjectStore {
            scheme: Scheme::AzureBlob,
            bucket: None,
            host: Some("acct.blob.core.windows.net".into()),
        };
        let l = |s: &str| Location::parse(s).unwrap();
        assert_eq!(
            o.bucket_of(&l("abfss://fs@acct.dfs.core.windows.net/x")),
            Some("fs")
        );
        assert_eq!(
            o.bucket_of(&l("wasbs://c@acct.blob.core.windows.net/x")),
            Some("c")
        );
        assert_eq!(
            o.bucket_of(&l("wasbs://c@other.blob.core.windows.net/x")),
            None
        );
        assert_eq!(o.bucket_of(&l("s3://c/x")), None);
        assert_eq!(o.base("c"), "wasbs://c@acct.blob.core.windows.net");
    }
}
