//! Size and time of many files at once: a directory holding several of
//! them is listed once (one request per 1,000 objects on object stores)
//! instead of one request per file; the rest are stat-ed one by one.

use std::collections::HashMap;

use futures_util::StreamExt;

use crate::storage::{Entry, Error, Location, Storage};

/// From this many wanted files in one directory on, it is listed.
const LIST_FROM: usize = 3;

/// A directory's listing, by location, for the indices wanted in it.
type Listed = (Vec<usize>, Result<HashMap<Location, Entry>, Error>);

/// What `stat` would say for each location, index for index.
pub async fn stat_many(
    storage: &dyn Storage,
    locations: &[Location],
    concurrency: usize,
) -> Vec<Result<Option<Entry>, Error>> {
    let mut by_dir: HashMap<Location, Vec<usize>> = HashMap::new();
    for (i, l) in locations.iter().enumerate() {
        by_dir.entry(l.parent()).or_default().push(i);
    }
    let mut out: Vec<Option<Result<Option<Entry>, Error>>> =
        locations.iter().map(|_| None).collect();
    let listed: Vec<Listed> = futures_util::stream::iter(
        by_dir
            .into_iter()
            .filter(|(_, v)| v.len() >= LIST_FROM)
            .map(|(dir, idx)| async move {
                let mut s = storage.list(&dir, false);
                let mut m = HashMap::new();
                while let Some(e) = s.next().await {
                    match e {
                        Ok(e) => {
                            m.insert(e.location.clone(), e);
                        }
                        Err(e) => return (idx, Err(e)),
                    }
                }
                (idx, Ok(m))
            }),
    )
    .buffer_unordered(concurrency.max(1))
    .collect()
    .await;
    for (idx, r) in listed {
        let Ok(m) = r else { continue };
        for i in idx {
            match m.get(&locations[i]) {
                // A link or device as listed: what `stat` says decides.
                Some(e) if e.special => {}
                Some(e) => out[i] = Some(Ok(Some(e.clone()))),
                None => out[i] = Some(Ok(None)),
            }
        }
    }
    let todo: Vec<usize> = (0..locations.len()).filter(|&i| out[i].is_none()).collect();
    let stats: Vec<(usize, Result<Option<Entry>, Error>)> = futures_util::stream::iter(
        todo.into_iter()
            .map(|i| async move { (i, storage.stat(&locations[i]).await) }),
    )
    .buffer_unordered(concurrency.max(1))
    .collect()
    .await;
    for (i, r) in stats {
        out[i] = Some(r);
    }
    out.into_iter()
        .zip(locations)
        .map(|(r, l)| {
            r.unwrap_or_else(|| {
                Err(Error::Backend {
                    location: l.to_string(),
                    message: "not stat-ed".to_owned(),
                })
            })
        })
        .collect()
}

/// The same modification time, to the second (an object store's listing
/// and its `HEAD` give the same time at different precision).
pub fn same_time(a: Option<jiff::Timestamp>, b: Option<jiff::Timestamp>) -> bool {
    a.map(|t| t.as_second()) == b.map(|t| t.as_second())
}
