//! The per-request timeout (`storage.timeout_secs`) for backends whose
//! client has none of its own: the local file system. A stalled NFS mount
//! (or any call that never returns) then fails with a timeout error naming
//! the location instead of hanging the command. The blocking call itself
//! cannot be cancelled; it is left behind and the command goes on (the CLI
//! shuts its runtime down without waiting for it).

use std::time::Duration;

use futures_util::StreamExt;

use super::{BoxFuture, BoxStream, Entry, Error, Location, Storage};

/// `inner` with every request bounded by a timeout.
#[derive(Debug, Clone)]
pub struct Timeout<S> {
    inner: S,
    limit: Duration,
}

impl<S> Timeout<S> {
    /// Bounds each request of `inner` (and each step of a listing) by `limit`.
    pub fn new(inner: S, limit: Duration) -> Self {
        Self { inner, limit }
    }
}

fn timed_out(location: &Location, limit: Duration) -> Error {
    Error::Io {
        location: location.to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {limit:?} (storage.timeout_secs): a stalled mount?"),
        ),
    }
}

async fn bounded<T>(
    location: &Location,
    limit: Duration,
    f: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match tokio::time::timeout(limit, f).await {
        Ok(r) => r,
        Err(_) => Err(timed_out(location, limit)),
    }
}

impl<S: Storage> Storage for Timeout<S> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn stat<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Option<Entry>, Error>> {
        Box::pin(bounded(location, self.limit, self.inner.stat(location)))
    }

    fn read<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(bounded(location, self.limit, self.inner.read(location)))
    }

    fn read_range<'a>(
        &'a self,
        location: &'a Location,
        offset: u64,
        len: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(bounded(
            location,
            self.limit,
            self.inner.read_range(location, offset, len),
        ))
    }

    /// Each next entry must arrive within the limit; a timeout ends the
    /// listing with an error (so a stalled directory is never taken for an
    /// empty or complete one).
    fn list<'a>(
        &'a self,
        dir: &'a Location,
        recursive: bool,
    ) -> BoxStream<'a, Result<Entry, Error>> {
        let limit = self.limit;
        let inner = self.inner.list(dir, recursive);
        Box::pin(futures_util::stream::unfold(
            Some(inner),
            move |state| async move {
                let mut inner = state?;
                match tokio::time::timeout(limit, inner.next()).await {
                    Ok(Some(item)) => Some((item, Some(inner))),
                    Ok(None) => None,
                    Err(_) => Some((Err(timed_out(dir, limit)), None)),
                }
            },
        ))
    }

    /// The inner backend's (which may batch them), each next directory
    /// within the limit; a timeout ends it with an error naming the first.
    fn list_each<'a>(
        &'a self,
        dirs: Vec<Location>,
        concurrency: usize,
        sized: Option<&'static [&'static str]>,
    ) -> BoxStream<'a, Result<(Location, Vec<Entry>), Error>> {
        let limit = self.limit;
        let Some(first) = dirs.first().cloned() else {
            return Box::pin(futures_util::stream::empty());
        };
        let inner = self.inner.list_each(dirs, concurrency, sized);
        Box::pin(futures_util::stream::unfold(Some(inner), move |state| {
            let first = first.clone();
            async move {
                let mut inner = state?;
                match tokio::time::timeout(limit, inner.next()).await {
                    Ok(Some(item)) => Some((item, Some(inner))),
                    Ok(None) => None,
                    Err(_) => Some((Err(timed_out(&first, limit)), None)),
                }
            }
        }))
    }

    fn delete_files<'a>(&'a self, files: &'a [Location]) -> BoxFuture<'a, Vec<Result<(), Error>>> {
        Box::pin(async move {
            // Generous for a batch: the limit per file, at least once.
            let limit = self
                .limit
                .saturating_mul(u32::try_from(files.len().max(1)).unwrap_or(u32::MAX));
            match tokio::time::timeout(limit, self.inner.delete_files(files)).await {
                Ok(r) => r,
                Err(_) => files.iter().map(|f| Err(timed_out(f, limit))).collect(),
            }
        })
    }

    fn delete_files_if<'a>(
        &'a self,
        files: &'a [(Location, Option<String>)],
    ) -> BoxFuture<'a, Vec<Result<(), Error>>> {
        Box::pin(async move {
            // A stat and a delete per file, at least once.
            let limit = self
                .limit
                .saturating_mul(2)
                .saturating_mul(u32::try_from(files.len().max(1)).unwrap_or(u32::MAX));
            match tokio::time::timeout(limit, self.inner.delete_files_if(files)).await {
                Ok(r) => r,
                Err(_) => files
                    .iter()
                    .map(|(f, _)| Err(timed_out(f, limit)))
                    .collect(),
            }
        })
    }

    fn remove_dir_if_empty<'a>(&'a self, dir: &'a Location) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(bounded(
            dir,
            self.limit,
            self.inner.remove_dir_if_empty(dir),
        ))
    }

    fn real_location<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Option<Location>, Error>> {
        Box::pin(bounded(
            location,
            self.limit,
            self.inner.real_location(location),
        ))
    }

    /// Each next chunk must arrive within the limit.
    fn read_stream<'a>(
        &'a self,
        location: &'a Location,
        chunk: usize,
    ) -> BoxStream<'a, Result<Vec<u8>, Error>> {
        let limit = self.limit;
        let inner = self.inner.read_stream(location, chunk);
        Box::pin(futures_util::stream::unfold(
            Some(inner),
            move |state| async move {
                let mut inner = state?;
                match tokio::time::timeout(limit, inner.next()).await {
                    Ok(Some(item)) => Some((item, Some(inner))),
                    Ok(None) => None,
                    Err(_) => Some((Err(timed_out(location, limit)), None)),
                }
            },
        ))
    }

    fn create<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Box<dyn super::Upload>, Error>> {
        Box::pin(bounded(location, self.limit, self.inner.create(location)))
    }

    fn put_if_absent<'a>(
        &'a self,
        location: &'a Location,
        bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(bounded(
            location,
            self.limit,
            self.inner.put_if_absent(location, bytes),
        ))
    }

    fn content_md5<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Option<String>, Error>> {
        Box::pin(bounded(
            location,
            self.limit,
            self.inner.content_md5(location),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend whose every call never answers (a stalled NFS mount).
    #[derive(Debug)]
    struct Stalled;

    fn never<'a, T: Send + 'a>() -> BoxFuture<'a, T> {
        Box::pin(std::future::pending())
    }

    impl Storage for Stalled {
        fn name(&self) -> &'static str {
            "stalled"
        }
        fn stat<'a>(&'a self, _: &'a Location) -> BoxFuture<'a, Result<Option<Entry>, Error>> {
            never()
        }
        fn read<'a>(&'a self, _: &'a Location) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
            never()
        }
        fn read_range<'a>(
            &'a self,
            _: &'a Location,
            _: u64,
            _: u64,
        ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
            never()
        }
        fn list<'a>(&'a self, _: &'a Location, _: bool) -> BoxStream<'a, Result<Entry, Error>> {
            Box::pin(futures_util::stream::pending())
        }
        fn delete_files<'a>(&'a self, _: &'a [Location]) -> BoxFuture<'a, Vec<Result<(), Error>>> {
            never()
        }
        fn remove_dir_if_empty<'a>(
            &'a self,
            _: &'a Location,
        ) -> BoxFuture<'a, Result<bool, Error>> {
            never()
        }
        fn real_location<'a>(
            &'a self,
            _: &'a Location,
        ) -> BoxFuture<'a, Result<Option<Location>, Error>> {
            never()
        }
    }

    #[test]
    fn every_call_on_a_stalled_backend_ends_with_a_timeout_naming_the_location() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let s = Timeout::new(Stalled, Duration::from_millis(50));
        let l = Location::parse("/mnt/nfs/ck/_metadata").unwrap();
        let started = std::time::Instant::now();
        rt.block_on(async {
            let errors = [
                s.stat(&l).await.unwrap_err(),
                s.read(&l).await.unwrap_err(),
                s.read_range(&l, 0, 8).await.unwrap_err(),
                s.list(&l, true).next().await.unwrap().unwrap_err(),
                s.remove_dir_if_empty(&l).await.unwrap_err(),
                s.real_location(&l).await.unwrap_err(),
            ];
            for e in errors {
                let m = e.to_string();
                assert!(
                    m.starts_with("/mnt/nfs/ck/_metadata: no answer within"),
                    "{m}"
                );
            }
            let d = s.delete_files(std::slice::from_ref(&l)).await;
            assert!(d[0].is_err());
            // A listing that timed out ends: it is never taken for complete.
            let mut list = s.list(&l, true);
            assert!(list.next().await.unwrap().is_err());
            assert!(list.next().await.is_none());
            // So does a batch of directory listings (through the default
            // one by one, which `Stalled` keeps).
            let mut each = s.list_each(vec![l.clone(), l.parent()], 2, None);
            let m = each.next().await.unwrap().unwrap_err().to_string();
            assert!(
                m.starts_with("/mnt/nfs/ck/_metadata: no answer within"),
                "{m}"
            );
            assert!(each.next().await.is_none());
        });
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
