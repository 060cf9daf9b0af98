//! Locations as Flink writes them: plain paths, `file:` URIs and the URIs of
//! every file system Flink supports, parsed into scheme, authority and an
//! absolute path so that references can be compared, grouped and routed to a
//! backend.

use std::fmt;
use std::sync::Arc;

use super::Error;

/// The storage family of a location (what serves it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    /// Local file system: plain paths, `file:/p`, `file:///p`.
    Local,
    /// `s3://`, `s3a://`, `s3n://`, `s3p://`.
    S3,
    /// `gs://`.
    Gcs,
    /// `wasb://`, `wasbs://` (Azure Blob).
    AzureBlob,
    /// `abfs://`, `abfss://` (Azure Data Lake Storage Gen2).
    AzureDfs,
    /// `oss://` (Alibaba Cloud OSS).
    Oss,
    /// `hdfs://`.
    Hdfs,
    /// `viewfs://` (HDFS federation mount tables).
    ViewFs,
}

impl Scheme {
    /// The scheme from a URI prefix, `None` if flink-chk cannot read it.
    pub fn from_uri(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "file" => Self::Local,
            "s3" | "s3a" | "s3n" | "s3p" => Self::S3,
            "gs" => Self::Gcs,
            "wasb" | "wasbs" => Self::AzureBlob,
            "abfs" | "abfss" => Self::AzureDfs,
            "oss" => Self::Oss,
            "hdfs" => Self::Hdfs,
            "viewfs" => Self::ViewFs,
            _ => return None,
        })
    }

    /// The canonical URI scheme (`s3a` and friends are `s3`).
    pub fn canonical(self) -> &'static str {
        match self {
            Self::Local => "file",
            Self::S3 => "s3",
            Self::Gcs => "gs",
            Self::AzureBlob => "wasbs",
            Self::AzureDfs => "abfss",
            Self::Oss => "oss",
            Self::Hdfs => "hdfs",
            Self::ViewFs => "viewfs",
        }
    }

    /// Whether this is an object store (no real directories).
    pub fn is_object_store(self) -> bool {
        matches!(
            self,
            Self::S3 | Self::Gcs | Self::AzureBlob | Self::AzureDfs | Self::Oss
        )
    }
}

/// A parsed location. The path is absolute (starts with `/`), has no `//`,
/// no trailing `/` (except the root `/`), and no `.`/`..` segments.
///
/// Identity is canonical: equality, hashing and ordering compare the store
/// (scheme family and authority) and the path, never how the scheme was
/// written, so `s3a://b/k == s3://b/k` and `file:///p == /p`. The written
/// scheme is kept for display only. The store is shared: a clone, a
/// [`parent`](Self::parent) or a [`join`](Self::join) allocates the path
/// only.
#[derive(Debug, Clone)]
pub struct Location {
    store: Arc<Store>,
    path: String,
}

/// What several locations of one store share.
#[derive(Debug)]
struct Store {
    scheme: Scheme,
    /// The scheme as written (`s3a`, `file`, …); empty for plain paths.
    written: String,
    /// Bucket, container@account, `host:port`, or empty.
    authority: String,
}

impl Location {
    /// The identity: store family, authority, path.
    fn identity(&self) -> (Scheme, &str, &str) {
        (self.store.scheme, &self.store.authority, &self.path)
    }

    fn new(scheme: Scheme, written: String, authority: String, path: String) -> Self {
        Self {
            store: Arc::new(Store {
                scheme,
                written,
                authority,
            }),
            path,
        }
    }
}

impl PartialEq for Location {
    fn eq(&self, other: &Self) -> bool {
        self.identity() == other.identity()
    }
}

impl Eq for Location {}

impl std::hash::Hash for Location {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.identity().hash(h);
    }
}

impl PartialOrd for Location {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Location {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.identity().cmp(&other.identity())
    }
}

impl Location {
    /// Parses a location. Relative plain paths are made absolute against the
    /// current directory.
    ///
    /// Credentials in the authority (`s3://KEY:SECRET@bucket/…`,
    /// `hdfs://user:password@namenode/…`) are dropped: the location is the
    /// bucket, container or NameNode, so it is never printed with them, and
    /// equals the same object written without them. They are not used to
    /// connect either; that comes from the profile's `storage:` settings or
    /// the store's own credential chain. (Hadoop's S3A no longer accepts
    /// login details in URIs; old metadata may still hold such paths.)
    pub fn parse(s: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::BadLocation {
            location: super::redact::redact(s).into_owned(),
            reason: why.to_owned(),
        };
        if s.is_empty() {
            return Err(bad("empty location"));
        }
        let Some((written, rest)) = split_scheme(s) else {
            let abs = if s.starts_with('/') {
                s.to_owned()
            } else {
                let cwd = std::env::current_dir().map_err(|e| Error::Io {
                    location: s.to_owned(),
                    source: e,
                })?;
                format!("{}/{s}", cwd.display())
            };
            return Ok(Self::new(
                Scheme::Local,
                String::new(),
                String::new(),
                normalize(&abs),
            ));
        };
        let scheme = Scheme::from_uri(written).ok_or_else(|| {
            bad(&format!(
                "unknown scheme {written}:// (supported: file, hdfs, viewfs, s3, s3a, s3n, s3p, gs, abfs, abfss, wasb, wasbs, oss)"
            ))
        })?;
        let (authority, path) = match rest.strip_prefix("//").map(|r| without_userinfo(scheme, r)) {
            Some(r) => match r.find('/') {
                Some(i) => (&r[..i], &r[i..]),
                None => (r, "/"),
            },
            None if scheme == Scheme::Local => ("", rest),
            None => return Err(bad(&format!("expected {written}://AUTHORITY/PATH"))),
        };
        let authority = if scheme == Scheme::Local {
            if !authority.is_empty() && authority != "localhost" {
                return Err(bad("file URIs with a host other than localhost"));
            }
            ""
        } else {
            authority
        };
        if scheme.is_object_store() && authority.is_empty() {
            return Err(bad("missing bucket or container"));
        }
        if matches!(scheme, Scheme::S3 | Scheme::Gcs | Scheme::Oss) && authority.contains(':') {
            return Err(bad(
                "a `:` in the bucket name (credentials in URIs are not supported: set them in the profile's storage section or the environment)",
            ));
        }
        if !path.starts_with('/') {
            return Err(bad("path must be absolute"));
        }
        Ok(Self::new(
            scheme,
            written.to_ascii_lowercase(),
            authority.to_owned(),
            normalize(path),
        ))
    }

    /// The storage family.
    pub fn scheme(&self) -> Scheme {
        self.store.scheme
    }

    /// Bucket, container@account or NameNode address (may be empty).
    pub fn authority(&self) -> &str {
        &self.store.authority
    }

    /// The absolute path (`/` separated, starting with `/`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The object key: the path without its leading `/`.
    pub fn key(&self) -> &str {
        &self.path[1..]
    }

    /// The last path segment (empty for the root).
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or_default()
    }

    /// The parent location (the root is its own parent).
    pub fn parent(&self) -> Self {
        let cut = self.path.rfind('/').unwrap_or(0);
        Self {
            store: self.store.clone(),
            path: if cut == 0 {
                "/".to_owned()
            } else {
                self.path[..cut].to_owned()
            },
        }
    }

    /// Whether `dir` is [`Location::parent`] of `self` (without building it).
    pub fn parent_is(&self, dir: &Location) -> bool {
        let parent = match self.path.rfind('/').unwrap_or(0) {
            0 => "/",
            cut => &self.path[..cut],
        };
        parent == dir.path
            && self.store.scheme == dir.store.scheme
            && self.store.authority == dir.store.authority
    }

    /// The parents of `self`, innermost first, ending with the root `/`
    /// (empty for the root): the one walk up a tree.
    pub fn ancestors(&self) -> impl Iterator<Item = Location> + '_ {
        let mut next = (self.path != "/").then(|| self.parent());
        std::iter::from_fn(move || {
            let d = next.take()?;
            if d.path != "/" {
                next = Some(d.parent());
            }
            Some(d)
        })
    }

    /// `self/rel`, where `rel` is a relative `/`-separated path (`..` allowed).
    pub fn join(&self, rel: &str) -> Self {
        // A plain relative path (a listing's names): appended as is, since
        // `self.path` is already normal. Anything else is normalised.
        let plain = !rel.is_empty()
            && rel
                .split('/')
                .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
        let path = if plain {
            let mut p = String::with_capacity(self.path.len() + 1 + rel.len());
            p.push_str(&self.path);
            if self.path != "/" {
                p.push('/');
            }
            p.push_str(rel);
            p
        } else {
            normalize(&format!("{}/{rel}", self.path))
        };
        Self {
            store: self.store.clone(),
            path,
        }
    }

    /// Whether `self` is `dir` or lies under it (same store, ignoring the
    /// spelling of the scheme).
    pub fn starts_with(&self, dir: &Location) -> bool {
        self.scheme() == dir.scheme()
            && self.authority() == dir.authority()
            && path_is_under(&self.path, &dir.path)
    }

    /// `self` relative to `dir`, if it lies under it.
    pub fn relative_to(&self, dir: &Location) -> Option<&str> {
        if !self.starts_with(dir) {
            return None;
        }
        let rest = &self.path[dir.path.len().min(self.path.len())..];
        Some(rest.trim_start_matches('/'))
    }

    /// A key that is equal for equal objects however the URI was spelled
    /// (`s3a://b/k` and `s3://b/k`, `file:///p` and `/p`).
    pub fn canonical(&self) -> String {
        match self.scheme() {
            Scheme::Local => self.path.clone(),
            s => format!("{}://{}{}", s.canonical(), self.authority(), self.path),
        }
    }

    /// The same location with another path.
    pub fn with_path(&self, path: &str) -> Self {
        Self {
            store: self.store.clone(),
            path: normalize(path),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scheme() {
            Scheme::Local if self.store.written.is_empty() => f.write_str(&self.path),
            Scheme::Local => write!(f, "file://{}", self.path),
            _ => write!(
                f,
                "{}://{}{}",
                self.store.written,
                self.authority(),
                self.path
            ),
        }
    }
}

impl serde::Serialize for Location {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Location {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for Location {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

/// `rest` (what follows `scheme://`) without credentials before the
/// authority. Bucket names (S3, GCS, OSS) never hold `@` or `:`, so any
/// userinfo goes, and a `:` without an `@` in the authority is the start
/// of a secret holding an unencoded `/` (`s3://KEY:SEC/RET@bucket`).
/// Azure's `container@account` and HDFS's `user@namenode` are names and
/// stay; userinfo with a password (`user:pw@`) before them goes.
fn without_userinfo(scheme: Scheme, rest: &str) -> &str {
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let after = |at: usize| &rest[at + 1..];
    match scheme {
        Scheme::S3 | Scheme::Gcs | Scheme::Oss => match authority.rfind('@') {
            Some(at) => after(at),
            None if authority.contains(':') => rest.find('@').map_or(rest, after),
            None => rest,
        },
        Scheme::AzureBlob | Scheme::AzureDfs => match authority.find('@') {
            Some(at) if authority[..at].contains(':') => after(at),
            None if authority.contains(':') => rest.find('@').map_or(rest, after),
            _ => rest,
        },
        Scheme::Hdfs | Scheme::ViewFs | Scheme::Local => match authority.rfind('@') {
            Some(at) if authority[..at].contains(':') => after(at),
            _ => rest,
        },
    }
}

/// Splits `scheme:rest` when the prefix is a URI scheme (two or more
/// characters, so Windows drive letters are not schemes).
fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once(':')?;
    let valid = scheme.len() > 1
        && scheme.as_bytes()[0].is_ascii_alphabetic()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.');
    valid.then_some((scheme, rest))
}

/// Collapses `//`, `.` and `..` and drops a trailing `/`.
fn normalize(path: &str) -> String {
    // Most paths are normal already (a plan read back, a listing's keys):
    // one scan, one copy.
    if is_normal(path) {
        return path.to_owned();
    }
    normalize_segments(path)
}

/// [`normalize`] segment by segment.
fn normalize_segments(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    for p in &parts {
        out.push('/');
        out.push_str(p);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Whether `normalize(path)` is `path`: `/`, or `/`-separated segments
/// after a leading `/`, none empty, `.` or `..`.
fn is_normal(path: &str) -> bool {
    if path == "/" {
        return true;
    }
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    rest.split('/')
        .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// Whether the normalized path `path` is `dir` or lies below it: the path
/// part of [`Location::starts_with`], for paths that are not locations
/// (ViewFS mount points).
pub(crate) fn path_is_under(path: &str, dir: &str) -> bool {
    dir == "/"
        || path == dir
        || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
}

/// `~/rest` → the user's home directory joined with `rest` (`$HOME`, else
/// the account's home as `dirs::home_dir` finds it); anything else, or no
/// known home, as given. For paths the user types (a snapshot argument,
/// `storage.hdfs.conf_dir`).
pub fn expand_home(path: &str) -> std::borrow::Cow<'_, str> {
    match (path.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest).to_string_lossy().into_owned().into(),
        _ => path.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(s: &str) -> Location {
        Location::parse(s).unwrap()
    }

    #[test]
    fn join_appends_plain_names_and_normalises_the_rest() {
        let segs = ["a", "b.c", "", ".", "..", "x y", "é"];
        for base in ["/", "/r", "/r/s", "s3://bkt/", "s3://bkt/p/q"] {
            let b = loc(base);
            for i in 0..segs.len() {
                for j in 0..segs.len() {
                    for rel in [
                        segs[i].to_owned(),
                        format!("{}/{}", segs[i], segs[j]),
                        format!("/{}", segs[i]),
                        format!("{}/", segs[j]),
                    ] {
                        let slow = normalize(&format!("{}/{rel}", b.path));
                        assert_eq!(b.join(&rel).path, slow, "{base} + {rel:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_normal_path_is_taken_as_is_and_no_other() {
        let segs = ["", "a", ".", "..", "b.c", "...", ".a", "a."];
        let mut paths = vec![String::new(), "/".to_owned(), "//".to_owned()];
        for a in segs {
            for b in segs {
                for c in segs {
                    paths.push(format!("{a}/{b}/{c}"));
                    paths.push(format!("/{a}/{b}/{c}"));
                    paths.push(format!("/{a}/{b}"));
                }
            }
        }
        for p in &paths {
            let slow = normalize_segments(p);
            assert_eq!(is_normal(p), slow == *p, "{p:?}");
            assert!(is_normal(&slow), "{p:?} -> {slow:?}");
            assert_eq!(normalize(p), slow, "{p:?}");
        }
    }

    #[test]
    fn local_spellings_are_one_location() {
        for s in [
            "/tmp/a/b",
            "file:/tmp/a/b",
            "file:///tmp/a/b",
            "file://localhost/tmp/a/b",
            "/tmp//a/./b/",
            "/tmp/a/c/../b",
        ] {
            assert_eq!(loc(s).canonical(), "/tmp/a/b", "{s}");
            assert_eq!(loc(s).scheme(), Scheme::Local);
        }
        assert_eq!(loc("file:/tmp/a").to_string(), "file:///tmp/a");
        assert_eq!(loc("/tmp/a").to_string(), "/tmp/a");
    }

    #[test]
    fn identity_ignores_how_the_scheme_was_written() {
        use std::collections::{BTreeSet, HashSet};
        let (a, b) = (loc("s3a://b/k/x"), loc("s3://b/k/x"));
        assert_eq!(a, b);
        assert_eq!(a.cmp(&b), std::cmp::Ordering::Equal);
        assert_eq!(HashSet::from([a.clone(), b.clone()]).len(), 1);
        assert_eq!(BTreeSet::from([a.clone(), b.clone()]).len(), 1);
        // Displayed as written.
        assert_eq!(a.to_string(), "s3a://b/k/x");
        assert_eq!(b.to_string(), "s3://b/k/x");
        assert_eq!(a.parent().to_string(), "s3a://b/k");
        assert!(b.parent_is(&a.parent()) && a.parent_is(&loc("s3://b/k")));
        assert!(loc("/x").parent_is(&loc("/")) && !loc("/a/x").parent_is(&loc("/a/x")));
        assert!(!loc("s3://b/k/x").parent_is(&loc("s3://c/k")));
        assert!(!loc("/k/x").parent_is(&loc("/k/x/y")) && !loc("/kk/x").parent_is(&loc("/k")));
        assert_eq!(loc("file:///tmp/a"), loc("/tmp/a"));
        assert_eq!(loc("wasbs://c@a/x"), loc("wasb://c@a/x"));
        // Different stores, buckets or paths stay different.
        assert_ne!(loc("s3://b/k"), loc("gs://b/k"));
        assert_ne!(loc("s3://b/k"), loc("s3://c/k"));
        assert_ne!(loc("s3://b/k"), loc("s3://b/k2"));
        assert_ne!(loc("wasbs://c@a/x"), loc("abfss://c@a/x"));
    }

    #[test]
    fn ancestors_walk_up_to_the_root() {
        let up: Vec<String> = loc("s3a://b/x/y/z")
            .ancestors()
            .map(|l| l.to_string())
            .collect();
        assert_eq!(up, ["s3a://b/x/y", "s3a://b/x", "s3a://b/"]);
        assert_eq!(loc("/").ancestors().count(), 0);
        assert_eq!(
            loc("/a")
                .ancestors()
                .map(|l| l.to_string())
                .collect::<Vec<_>>(),
            ["/"]
        );
    }

    #[test]
    fn clones_and_relatives_share_the_store() {
        let a = loc("s3a://bucket/root/job");
        let c = a.join("chk-1/_metadata");
        assert!(std::sync::Arc::ptr_eq(&a.store, &c.store));
        assert!(std::sync::Arc::ptr_eq(&a.store, &c.parent().store));
        assert!(std::sync::Arc::ptr_eq(&a.store, &a.clone().store));
    }

    #[test]
    fn object_store_uris() {
        let l = loc("s3a://bucket/ck/job/chk-3/_metadata");
        assert_eq!(l.scheme(), Scheme::S3);
        assert_eq!(l.authority(), "bucket");
        assert_eq!(l.key(), "ck/job/chk-3/_metadata");
        assert_eq!(l.canonical(), "s3://bucket/ck/job/chk-3/_metadata");
        assert_eq!(l.to_string(), "s3a://bucket/ck/job/chk-3/_metadata");
        assert_eq!(l.parent().file_name(), "chk-3");
        assert_eq!(loc("s3://b").path(), "/");
        assert_eq!(
            loc("abfss://c@acct.dfs.core.windows.net/x").scheme(),
            Scheme::AzureDfs
        );
        assert_eq!(
            loc("wasb://c@acct.blob.core.windows.net/x").authority(),
            "c@acct.blob.core.windows.net"
        );
        assert_eq!(loc("gs://b/x").scheme(), Scheme::Gcs);
        assert_eq!(loc("oss://b/x").scheme(), Scheme::Oss);
        assert_eq!(loc("hdfs://ns1/flink/ck").authority(), "ns1");
        assert_eq!(loc("hdfs:///flink/ck").authority(), "");
        assert_eq!(loc("viewfs://cluster/x").scheme(), Scheme::ViewFs);
    }

    #[test]
    fn bad_locations_say_why() {
        for (s, why) in [
            ("", "empty"),
            ("ftp://h/x", "unknown scheme ftp"),
            ("s3:/x", "expected s3://"),
            ("s3:///x", "missing bucket"),
            ("file://host/x", "localhost"),
        ] {
            let e = Location::parse(s).unwrap_err().to_string();
            assert!(e.contains(why), "{s}: {e}");
        }
    }

    #[test]
    fn credentials_are_dropped() {
        for (s, shown) in [
            ("s3://KEY:SECRET@bucket/ck", "s3://bucket/ck"),
            ("s3a://KEY@bucket/ck", "s3a://bucket/ck"),
            ("s3://KEY:SEC/RET@bucket/ck", "s3://bucket/ck"),
            ("gs://K:S@b", "gs://b/"),
            ("oss://K:S@b/x", "oss://b/x"),
            (
                "wasbs://K:S@cont@acct.blob.core.windows.net/x",
                "wasbs://cont@acct.blob.core.windows.net/x",
            ),
            ("hdfs://user:pw@nn:8020/ck", "hdfs://nn:8020/ck"),
            ("hdfs://flink@nn:8020/ck", "hdfs://flink@nn:8020/ck"),
            (
                "abfss://fs@acct.dfs.core.windows.net/x",
                "abfss://fs@acct.dfs.core.windows.net/x",
            ),
        ] {
            assert_eq!(loc(s).to_string(), shown, "{s}");
        }
        assert_eq!(loc("s3://K:S@bucket/ck"), loc("s3://bucket/ck"));
        for s in [
            "s3://KEY:SECRET/ck",
            "ftp://u:SECRET@h/x",
            "s3://K:SECRET@/x",
        ] {
            let e = Location::parse(s).unwrap_err().to_string();
            assert!(!e.contains("SECRET"), "{s}: {e}");
        }
    }

    #[test]
    fn joins_and_prefixes() {
        let root = loc("s3://b/ck");
        let f = root.join("job/shared/x");
        assert!(f.starts_with(&root));
        assert!(!loc("s3://b/ckx/y").starts_with(&root));
        assert!(!loc("s3://c/ck/y").starts_with(&root));
        assert!(loc("s3a://b/ck/y").starts_with(&root));
        assert_eq!(f.relative_to(&root), Some("job/shared/x"));
        assert_eq!(loc("/a/b/_metadata").parent().join("../c").path(), "/a/c");
    }
}
