//! Deleting only if unchanged ([`Storage::delete_files_if`]) on backends
//! that cannot send the condition with the delete: stat, compare, delete.
//! Not atomic: a write between the stat and the delete is lost. Object
//! stores with conditional deletes do not come here (see `object.rs`).

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::{Entry, Error, Location, Storage};

/// Stats in flight at once in the default [`Storage::delete_files_if`]
/// (the trait knows no configured concurrency).
pub(crate) const FALLBACK_STATS: usize = 16;

/// Whether two versions name the same state of a file. ETags are compared
/// without their quotes and weak prefix (`W/"x"`, `"x"` and `x` are one):
/// listings and stats of some stores quote them differently.
pub(crate) fn same_version(a: &str, b: &str) -> bool {
    fn bare(v: &str) -> &str {
        v.strip_prefix("W/").unwrap_or(v).trim_matches('"')
    }
    bare(a) == bare(b)
}

/// Stats every file given a version (`concurrency` at a time), then
/// deletes with one [`Storage::delete_files`] call the files without a
/// version and those whose version is unchanged. A file gone by the stat
/// is `Ok(())`; one changed is [`Error::Changed`] and not deleted; a stat
/// that fails is that file's error.
pub(crate) async fn stat_then_delete<S: Storage + ?Sized>(
    storage: &S,
    files: &[(Location, Option<String>)],
    concurrency: usize,
) -> Vec<Result<(), Error>> {
    let mut results: Vec<Option<Result<(), Error>>> = files.iter().map(|_| None).collect();
    let conditional: Vec<usize> = (0..files.len()).filter(|&i| files[i].1.is_some()).collect();
    // Filled by hand: a closure in a stream would not be general enough
    // over lifetimes for a `Send` future.
    let mut running = FuturesUnordered::new();
    let mut next = conditional.iter();
    loop {
        while running.len() < concurrency.max(1) {
            let Some(&i) = next.next() else { break };
            running.push(stat_one(storage, i, &files[i].0));
        }
        let Some((i, stat)) = running.next().await else {
            break;
        };
        let (l, want) = &files[i];
        let want = want.as_deref().unwrap_or_default();
        match stat {
            // Gone: deleting is idempotent.
            Ok(None) => results[i] = Some(Ok(())),
            // A directory goes on, to be refused by `delete_files`.
            Ok(Some(e)) if e.is_dir => {}
            Ok(Some(e))
                if e.version
                    .as_deref()
                    .is_some_and(|now| same_version(now, want)) => {}
            Ok(Some(_)) => {
                results[i] = Some(Err(Error::Changed {
                    location: l.to_string(),
                }));
            }
            Err(e) => results[i] = Some(Err(e)),
        }
    }
    drop(running);
    let go: Vec<usize> = (0..files.len()).filter(|&i| results[i].is_none()).collect();
    let locations: Vec<Location> = go.iter().map(|&i| files[i].0.clone()).collect();
    let deleted = storage.delete_files(&locations).await;
    for (&i, r) in go.iter().zip(deleted) {
        results[i] = Some(r);
    }
    results
        .into_iter()
        .zip(files)
        .map(|(r, (l, _))| {
            r.unwrap_or_else(|| {
                Err(Error::Backend {
                    location: l.to_string(),
                    message: "the backend returned no result for this file".to_owned(),
                })
            })
        })
        .collect()
}

async fn stat_one<S: Storage + ?Sized>(
    storage: &S,
    i: usize,
    location: &Location,
) -> (usize, Result<Option<Entry>, Error>) {
    (i, storage.stat(location).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStorage;

    use crate::testutil::rt;

    #[test]
    fn versions_compare_without_quotes() {
        assert!(same_version("\"abc\"", "abc"));
        assert!(same_version("W/\"abc\"", "\"abc\""));
        assert!(same_version("1712345678901234", "1712345678901234"));
        assert!(!same_version("\"abc\"", "\"abd\""));
        assert!(!same_version("", "\"x\""));
    }

    /// Memory entries carry no version: a file given one counts as
    /// changed (its version cannot be confirmed) and stays; files given
    /// none, and missing files, go.
    #[test]
    fn the_fallback_deletes_only_what_it_can_confirm() {
        let s = MemoryStorage::new();
        let l = |p: &str| Location::parse(p).unwrap();
        for f in ["/r/a", "/r/b", "/r/c"] {
            s.put(&l(f), f);
        }
        s.mkdirs(&l("/r/dir/x"));
        let files = [
            (l("/r/a"), None),
            (l("/r/b"), Some("\"v1\"".to_owned())),
            (l("/r/gone"), Some("\"v1\"".to_owned())),
            (l("/r/dir"), Some("\"v1\"".to_owned())),
            (l("/r/c"), None),
        ];
        let r = rt().block_on(s.delete_files_if(&files));
        assert_eq!(r.len(), 5);
        assert!(r[0].is_ok() && r[2].is_ok() && r[4].is_ok(), "{r:?}");
        assert!(r[1].as_ref().unwrap_err().is_changed(), "{r:?}");
        let e = r[3].as_ref().unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
        let fs = s.lock();
        assert_eq!(fs.files.keys().collect::<Vec<_>>(), ["/r/b"]);
        // Never handed to the delete: the changed file and the missing one.
        assert_eq!(fs.deletes, ["/r/a", "/r/dir", "/r/c"]);
    }
}
