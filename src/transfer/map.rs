//! `FROM=TO` prefix rules for where copied files go, and how a location is
//! written back into `_metadata` the way Flink writes paths.

use crate::storage::{Location, Scheme};

/// Prefix rules; the longest FROM that contains a location wins.
#[derive(Debug, Clone, Default)]
pub struct PathMap {
    /// `(from, to)`, longest `from` first.
    rules: Vec<(Location, Location)>,
}

/// A `--map` that is not `FROM=TO` with two valid locations.
#[derive(Debug, thiserror::Error)]
#[error("--map expects FROM=TO, got {0:?}")]
pub struct BadRule(pub String);

impl PathMap {
    /// Rules as given (order does not matter: the longest FROM wins).
    pub fn new(rules: impl IntoIterator<Item = (Location, Location)>) -> Self {
        let mut rules: Vec<_> = rules.into_iter().collect();
        rules.sort_by_key(|(from, _)| std::cmp::Reverse(from.path().len()));
        Self { rules }
    }

    /// Parses `FROM=TO`.
    pub fn parse_rule(s: &str) -> Result<(Location, Location), BadRule> {
        match s.split_once('=') {
            Some((from, to)) if !from.is_empty() && !to.is_empty() => {
                match (Location::parse(from), Location::parse(to)) {
                    (Ok(f), Ok(t)) => Ok((f, t)),
                    _ => Err(BadRule(s.to_owned())),
                }
            }
            _ => Err(BadRule(s.to_owned())),
        }
    }

    /// These rules plus `from` → `to`.
    pub fn with(&self, from: Location, to: Location) -> Self {
        Self::new(self.rules.iter().cloned().chain([(from, to)]))
    }

    /// Where `l` goes, if a rule covers it.
    pub fn map(&self, l: &Location) -> Option<Location> {
        self.rules.iter().find_map(|(from, to)| {
            l.relative_to(from).map(|rest| {
                if rest.is_empty() {
                    to.clone()
                } else {
                    to.join(rest)
                }
            })
        })
    }

    /// The rules, longest FROM first.
    pub fn rules(&self) -> &[(Location, Location)] {
        &self.rules
    }
}

/// A location as Flink writes it into `_metadata`: `file:/path` for local
/// files (what `org.apache.flink.core.fs.Path` prints), `scheme://authority/path`
/// otherwise, with the scheme spelled as the destination was given
/// (`s3a://` stays `s3a://`).
pub fn flink_path(l: &Location) -> String {
    match l.scheme() {
        Scheme::Local => format!("file:{}", l.path()),
        _ => l.to_string(),
    }
}

/// The deepest directory containing every location (same store only), for
/// the `--map` to suggest; `None` for locations on different stores.
pub fn common_dir<'a>(mut ls: impl Iterator<Item = &'a Location>) -> Option<Location> {
    let first = ls.next()?;
    let mut dir = first.parent();
    for l in ls {
        while !l.starts_with(&dir) || l == &dir {
            if dir.path() == "/" {
                return (l.scheme() == dir.scheme() && l.authority() == dir.authority())
                    .then_some(dir);
            }
            dir = dir.parent();
        }
    }
    Some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(s: &str) -> Location {
        Location::parse(s).unwrap()
    }

    #[test]
    fn longest_prefix_wins_and_paths_render_as_flink_writes_them() {
        let m = PathMap::new([
            (l("file:/src"), l("s3a://b/dst")),
            (l("file:/src/dstl"), l("gs://g/changelog")),
        ]);
        assert_eq!(
            flink_path(&m.map(&l("file:/src/j/shared/x")).unwrap()),
            "s3a://b/dst/j/shared/x"
        );
        assert_eq!(
            flink_path(&m.map(&l("/src/dstl/a/b")).unwrap()),
            "gs://g/changelog/a/b"
        );
        // A sibling with the same leading characters is not under the prefix.
        assert!(m.map(&l("/srcx/a")).is_none());
        assert_eq!(
            flink_path(
                &PathMap::new([(l("s3://b/x"), l("/tmp/y"))])
                    .map(&l("s3a://b/x/z"))
                    .unwrap()
            ),
            "file:/tmp/y/z"
        );
        assert!(PathMap::parse_rule("nope").is_err());
        assert!(PathMap::parse_rule("=x").is_err());
    }

    #[test]
    fn common_dir_is_the_deepest_shared_directory() {
        let a = l("/r/dstl/a/1");
        let b = l("/r/dstl/b/2");
        assert_eq!(common_dir([&a, &b].into_iter()).unwrap().path(), "/r/dstl");
        assert_eq!(common_dir([&a].into_iter()).unwrap().path(), "/r/dstl/a");
        let c = l("s3://x/r/1");
        assert!(common_dir([&a, &c].into_iter()).is_none());
    }
}
