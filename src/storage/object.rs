//! Object stores through Apache OpenDAL: S3 and S3-compatible stores, Google
//! Cloud Storage, Azure Blob and ADLS Gen2, Alibaba OSS. One operator per
//! bucket or container, built with `Operator::via_iter` from the URI and the
//! profile's [`Settings`]; unset values come from each store's own
//! environment and credential chain.
//!
//! # Deleting
//!
//! [`Storage::delete_files`] cuts the files into batches of the service's
//! batch limit (S3 and OSS `DeleteObjects`: 1000 keys, GCS JSON batch: 100,
//! Azure Blob batch: 256; ADLS Gen2 has no batch and deletes one path per
//! request) and keeps at most `storage.concurrency` requests in flight. A
//! batch goes through OpenDAL's [`opendal::Deleter`], which answers for the
//! whole batch only; when it fails, each file of that batch is deleted again
//! on its own (deleting is idempotent) so that every file gets its own
//! result. Stores without a batch API (fake-gcs-server) therefore still work,
//! one request per file. A batch that times out is not retried: its files
//! all get the timeout error.
//!
//! # Deleting when the store throttles
//!
//! Every delete request of one bucket goes through one AIMD limiter
//! (`throttle.rs`): at most a window of requests in flight, starting at
//! `storage.concurrency`, halved (not below 1) when the store throttles a
//! request and grown by 1 after a window's worth of successes, up to
//! `storage.concurrency`. Throttling is what OpenDAL reports as
//! `RateLimited` (429 everywhere, S3 and OSS `SlowDown`), any 503 (S3 and
//! OSS `SlowDown`/`ServiceUnavailable`, GCS, Azure `ServerBusy`) and
//! Azure's `500 OperationTimedOut`. Deletes are sent through the operator
//! without OpenDAL's `RetryLayer` (which would retry a 503 three times
//! unseen, with its own backoff): the limiter retries a throttled request
//! after an exponential backoff with jitter (100 ms doubling to 5 s, the
//! lower half at random), 6 tries in all, and other temporary errors as
//! often without shrinking the window. A batch still throttled after the
//! last try is not sent again file by file (that would only multiply the
//! requests): each of its files gets the store's error, saying so, and
//! stays. [`Storage::delete_throttling`] reports the throttling answers
//! and the lowest and current window; `safe-to-delete` prints them
//! (`applied.throttled`). Reads, listings and writes keep the
//! `RetryLayer` (3 retries with jitter) and are not limited.
//!
//! # Deleting only if unchanged
//!
//! [`Storage::delete_files_if`] sends each file's [`Entry::version`] with
//! its delete, and the store compares: `If-Match: <ETag>` on S3, Azure Blob
//! and ADLS Gen2, `ifGenerationMatch=<generation>` on GCS. Batches keep
//! their conditions (OpenDAL 0.59.5 puts the ETag of every key in the S3
//! `DeleteObjects` body, the `If-Match` header in every Azure sub-request
//! and `ifGenerationMatch` in every GCS sub-request), so a conditional
//! delete costs no more requests than a plain one while nothing changed. A
//! batch in which a file changed fails as a whole and is deleted again file
//! by file, each with its own condition. A failed precondition is also what
//! these stores answer when the object is missing (AWS: 404 `NoSuchKey`
//! with `If-Match`), so the file is stat-ed then: gone is `Ok(())`, still
//! there is [`Error::Changed`]. OSS has no conditional delete in OpenDAL:
//! there each file with a version is stat-ed, compared and then deleted,
//! which is not atomic. Which servers really honour the condition was
//! measured in `tests/object_stores.rs` (`conditional_delete_*`).
//!
//! Only exact keys are deleted, so a "directory" (a prefix) given as a file
//! deletes nothing and its objects stay. On ADLS Gen2 (`abfs[s]://`) paths
//! are stat-ed first, because a real directory there would be deleted if
//! empty. The bucket root is refused. Directory marker objects (`dir/`) are
//! never deleted: [`Storage::remove_dir_if_empty`] is `Ok(false)` on object
//! stores.

use std::time::Duration;

use futures_util::StreamExt;
use opendal::options::DeleteOptions;
use opendal::{EntryMode, ErrorKind, Operator};

use super::conditional;
use super::redact::redact;
use super::throttle::{self, Limiter, Throttling};
use super::{BoxFuture, BoxStream, Entry, Error, Location, Scheme, Settings, Storage};

/// How a store takes "only if unchanged" with a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precondition {
    /// `If-Match: <ETag>` (S3, Azure Blob, ADLS Gen2).
    IfMatch,
    /// `ifGenerationMatch=<generation>` (GCS).
    Generation,
    /// None: stat, compare, delete (OSS).
    Unsupported,
}

/// A file to delete and the version it must still have (`None`: any).
type Target = (Location, Option<String>);

/// One bucket or container.
#[derive(Debug)]
pub struct ObjectStorage {
    /// Every request but deletes: OpenDAL's `RetryLayer` tries temporary
    /// errors again.
    op: Operator,
    /// Deletes: the same store without the `RetryLayer`, so that
    /// [`Limiter::send`] sees every throttling answer.
    delete_op: Operator,
    scheme: Scheme,
    /// The bucket or container (`container@account…`) as in locations.
    authority: String,
    timeout: Duration,
    /// Batches (or files) being deleted at once, at most; the requests
    /// really in flight are the limiter's window.
    concurrency: usize,
    /// The adaptive window of delete requests (see [`super::throttle`]).
    limiter: Limiter,
    /// How deletes are made conditional here.
    precondition: Precondition,
}

/// The most keys one batch request may carry (S3 `DeleteObjects`).
const MAX_DELETE_BATCH: usize = 1000;

/// An OpenDAL service name and its configuration.
type ServiceConfig = (&'static str, Vec<(String, String)>);

fn config(location: &Location, settings: &Settings) -> Result<ServiceConfig, String> {
    let mut c: Vec<(String, String)> = vec![("root".into(), "/".into())];
    let mut set = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            c.push((k.to_owned(), v.to_owned()));
        }
    };
    let authority = location.authority();
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let service = match location.scheme() {
        Scheme::S3 => {
            let s = settings.s3.clone().unwrap_or_default();
            set("bucket", Some(authority));
            let endpoint = s
                .endpoint
                .clone()
                .or_else(|| env("AWS_ENDPOINT_URL_S3"))
                .or_else(|| env("AWS_ENDPOINT_URL"));
            set("endpoint", endpoint.as_deref());
            let region = s
                .region
                .clone()
                .or_else(|| env("AWS_REGION"))
                .or_else(|| env("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|| "us-east-1".to_owned());
            set("region", Some(&region));
            if s.path_style == Some(false) {
                set("enable_virtual_host_style", Some("true"));
            }
            set("access_key_id", s.access_key_id.as_deref());
            set("secret_access_key", s.secret_access_key.as_deref());
            set("session_token", s.session_token.as_deref());
            set("profile", s.aws_profile.as_deref());
            if s.anonymous == Some(true) {
                set("allow_anonymous", Some("true"));
                set("skip_signature", Some("true"));
            }
            "s3"
        }
        Scheme::Gcs => {
            let s = settings.gcs.clone().unwrap_or_default();
            set("bucket", Some(authority));
            set("endpoint", s.endpoint.as_deref());
            set("credential_path", s.credential_path.as_deref());
            if s.anonymous == Some(true) {
                for k in [
                    "allow_anonymous",
                    "skip_signature",
                    "disable_vm_metadata",
                    "disable_config_load",
                ] {
                    set(k, Some("true"));
                }
            }
            "gcs"
        }
        Scheme::AzureBlob | Scheme::AzureDfs => {
            let s = settings.azure.clone().unwrap_or_default();
            // container@account.blob.core.windows.net
            let (container, host) = authority
                .split_once('@')
                .ok_or("expected CONTAINER@ACCOUNT.HOST as the URI authority")?;
            let account = s
                .account_name
                .clone()
                .or_else(|| host.split('.').next().map(str::to_owned))
                .filter(|a| !a.is_empty())
                .ok_or("no storage account name in the URI or the profile")?;
            let secure = !matches!(location_written_scheme(location).as_str(), "wasb" | "abfs");
            let endpoint = s
                .endpoint
                .clone()
                .unwrap_or_else(|| format!("{}://{host}", if secure { "https" } else { "http" }));
            let dfs = location.scheme() == Scheme::AzureDfs;
            set(
                if dfs { "filesystem" } else { "container" },
                Some(container),
            );
            set("endpoint", Some(&endpoint));
            set("account_name", Some(&account));
            set("account_key", s.account_key.as_deref());
            set("sas_token", s.sas_token.as_deref());
            if dfs { "azdls" } else { "azblob" }
        }
        Scheme::Oss => {
            let s = settings.oss.clone().unwrap_or_default();
            set("bucket", Some(authority));
            let endpoint = s.endpoint.clone().or_else(|| env("OSS_ENDPOINT"));
            if endpoint.is_none() {
                return Err("no OSS endpoint: set storage.oss.endpoint in the profile (Flink's fs.oss.endpoint) or OSS_ENDPOINT".into());
            }
            set("endpoint", endpoint.as_deref());
            set("access_key_id", s.access_key_id.as_deref());
            set("access_key_secret", s.access_key_secret.as_deref());
            "oss"
        }
        other => return Err(format!("{other:?} is not an object store")),
    };
    Ok((service, c))
}

/// `wasb`/`wasbs`/`abfs`/`abfss` as written (the display form starts with it).
fn location_written_scheme(location: &Location) -> String {
    let s = location.to_string();
    s.split("://").next().unwrap_or_default().to_owned()
}

impl ObjectStorage {
    /// The store holding `location`'s bucket or container.
    pub fn new(location: &Location, settings: &Settings) -> Result<Self, Error> {
        let scheme_name = location.scheme().canonical();
        let cfg_err = |message: String| Error::Config {
            location: location.to_string(),
            scheme: scheme_name,
            message,
        };
        let (service, cfg) = config(location, settings).map_err(cfg_err)?;
        let delete_op = Operator::via_iter(service, cfg)
            .map_err(|e| cfg_err(redact(&e.to_string()).into_owned()))?;
        let op = delete_op.clone().layer(
            opendal::layers::RetryLayer::new()
                .with_max_times(3)
                .with_jitter(),
        );
        let cap = op.info().capability();
        let precondition = match location.scheme() {
            Scheme::Gcs if cap.delete_with_if_version_match => Precondition::Generation,
            Scheme::Gcs => Precondition::Unsupported,
            _ if cap.delete_with_if_match => Precondition::IfMatch,
            _ => Precondition::Unsupported,
        };
        Ok(Self {
            op,
            delete_op,
            scheme: location.scheme(),
            authority: location.authority().to_owned(),
            timeout: settings.timeout(),
            concurrency: settings.concurrency(),
            limiter: Limiter::new(settings.concurrency()),
            precondition,
        })
    }

    /// The delete options that make a delete conditional on `version`.
    fn delete_options(&self, version: Option<&str>) -> DeleteOptions {
        let mut o = DeleteOptions::default();
        match (version, self.precondition) {
            (Some(v), Precondition::IfMatch) => o.if_match = Some(v.to_owned()),
            (Some(v), Precondition::Generation) => o.if_version_match = Some(v.to_owned()),
            _ => {}
        }
        o
    }

    fn timeout_error(&self, location: &Location) -> Error {
        Error::Backend {
            location: location.to_string(),
            message: format!(
                "no answer within {} s (storage.timeout_secs)",
                self.timeout.as_secs()
            ),
        }
    }

    /// Why `location` must not be deleted here, if it must not.
    fn refuse_delete(&self, location: &Location) -> Option<Error> {
        if location.scheme() != self.scheme || location.authority() != self.authority {
            return Some(Error::Unsupported {
                location: location.to_string(),
                reason: format!(
                    "not in {}://{} (not deleted)",
                    self.scheme.canonical(),
                    self.authority
                ),
            });
        }
        if location.key().is_empty() {
            return Some(Error::Unsupported {
                location: location.to_string(),
                reason: "is the root of the bucket, not a file (not deleted)".to_owned(),
            });
        }
        None
    }

    /// Deletes one file with its own request (a stat first on ADLS Gen2),
    /// on the condition that it still has `version`, if given.
    async fn delete_one(&self, location: &Location, version: Option<&str>) -> Result<(), Error> {
        if self.scheme == Scheme::AzureDfs
            && let Some(e) = self.stat(location).await?
            && e.is_dir
        {
            return Err(Error::Backend {
                location: location.to_string(),
                message: "is a directory, not a file (not deleted)".to_owned(),
            });
        }
        let options = self.delete_options(version);
        let delete = self
            .limiter
            .send(self.timeout, || {
                self.delete_op
                    .delete_options(location.key(), options.clone())
            })
            .await;
        let outcome = match delete {
            Ok(r) => r.map_err(|e| delete_error(location, e)),
            Err(()) => Err(self.timeout_error(location)),
        };
        match outcome {
            Err(Error::NotFound { .. }) => Ok(()),
            // Also the answer for a missing object when a condition was
            // sent: gone is not changed.
            Err(Error::Changed { .. }) => match self.stat(location).await? {
                None => Ok(()),
                Some(_) => Err(Error::Changed {
                    location: location.to_string(),
                }),
            },
            r => r,
        }
    }

    /// Deletes one batch: one batch request, else (it failed) one request
    /// per file.
    async fn delete_batch(&self, files: &[Target]) -> Vec<Result<(), Error>> {
        let mut results: Vec<Option<Result<(), Error>>> = files
            .iter()
            .map(|(l, _)| self.refuse_delete(l).map(Err))
            .collect();
        let todo: Vec<usize> = (0..files.len()).filter(|&i| results[i].is_none()).collect();
        let mut batch_done = false;
        if todo.len() > 1 {
            let items: Vec<(String, DeleteOptions)> = todo
                .iter()
                .map(|&i| {
                    let (l, v) = &files[i];
                    (l.key().to_owned(), self.delete_options(v.as_deref()))
                })
                .collect();
            let batch = || {
                let items = items.clone();
                async move {
                    let mut d = self.delete_op.deleter().await?;
                    d.delete_iter(items).await?;
                    d.close().await
                }
            };
            match self.limiter.send(self.timeout, batch).await {
                Ok(Ok(())) => {
                    for &i in &todo {
                        results[i] = Some(Ok(()));
                    }
                    batch_done = true;
                }
                // Still throttled after the last try: sent again file by
                // file, the store would only throttle more requests.
                Ok(Err(e)) if throttle::is_throttling(&e) => {
                    let e = delete_error(&files[todo[0]].0, e);
                    for &i in &todo {
                        results[i] = Some(Err(e.for_location(&files[i].0)));
                    }
                    batch_done = true;
                }
                Ok(Err(_)) => {} // retried file by file below
                Err(()) => {
                    for &i in &todo {
                        results[i] = Some(Err(self.timeout_error(&files[i].0)));
                    }
                    batch_done = true;
                }
            }
        }
        if !batch_done {
            let singles: Vec<_> = todo
                .iter()
                .map(|&i| self.delete_one(&files[i].0, files[i].1.as_deref()))
                .collect();
            let singles: Vec<Result<(), Error>> = futures_util::stream::iter(singles)
                .buffered(self.concurrency)
                .collect()
                .await;
            for (&i, r) in todo.iter().zip(singles) {
                results[i] = Some(r);
            }
        }
        results
            .into_iter()
            .zip(files)
            .map(|(r, (f, _))| {
                r.unwrap_or_else(|| {
                    Err(Error::Backend {
                        location: f.to_string(),
                        message: "no delete result for this file".to_owned(),
                    })
                })
            })
            .collect()
    }

    /// Deletes `files` in batches (see the module docs).
    async fn delete_all(&self, files: &[Target]) -> Vec<Result<(), Error>> {
        let batch = match self.scheme {
            // A directory must be told apart first (see the module docs).
            Scheme::AzureDfs => 1,
            _ => self
                .op
                .info()
                .capability()
                .delete_max_size
                .unwrap_or(1)
                .clamp(1, MAX_DELETE_BATCH),
        };
        // Futures made up front: a closure in the stream would not be
        // general enough over lifetimes for a `Send` future.
        let batches: Vec<_> = files
            .chunks(batch)
            .map(|chunk| self.delete_batch(chunk))
            .collect();
        let done: Vec<Vec<Result<(), Error>>> = futures_util::stream::iter(batches)
            .buffered(self.concurrency)
            .collect()
            .await;
        done.into_iter().flatten().collect()
    }

    async fn timed<T>(
        &self,
        location: &Location,
        f: impl std::future::Future<Output = opendal::Result<T>>,
    ) -> Result<T, Error> {
        match tokio::time::timeout(self.timeout, f).await {
            Ok(r) => r.map_err(|e| map_err(location, e)),
            Err(_) => Err(self.timeout_error(location)),
        }
    }
}

/// A storage error from an OpenDAL error. Its message names the request URL,
/// with the SAS token (`?…&sig=…`) or endpoint credentials in it: redacted.
fn map_err(location: &Location, e: opendal::Error) -> Error {
    if e.kind() == ErrorKind::NotFound {
        Error::NotFound {
            location: location.to_string(),
        }
    } else if e.kind() == ErrorKind::ConditionNotMatch {
        Error::Changed {
            location: location.to_string(),
        }
    } else {
        Error::Backend {
            location: location.to_string(),
            message: redact(&e.to_string()).into_owned(),
        }
    }
}

/// The error of a delete: as [`map_err`], and a store still throttling
/// after the last try says so.
fn delete_error(location: &Location, e: opendal::Error) -> Error {
    let throttled = throttle::is_throttling(&e);
    match map_err(location, e) {
        Error::Backend { location, message } if throttled => Error::Backend {
            location,
            message: format!(
                "the store still throttles after {} tries, not deleted: {message}",
                throttle::TRIES
            ),
        },
        e => e,
    }
}

/// An entry from OpenDAL's metadata. Its version is what the store's
/// conditional delete compares: the generation on GCS (OpenDAL's
/// `version`, filled by both the JSON API listing and the stat), the ETag
/// elsewhere (filled by S3, OSS, Azure Blob and ADLS Gen2 listings and
/// stats; OpenDAL quotes Azure's listed ETags like its `ETag` headers).
fn to_entry(location: Location, md: &opendal::Metadata, scheme: Scheme) -> Entry {
    let is_dir = md.mode() == EntryMode::DIR;
    let version = match scheme {
        _ if is_dir => None,
        Scheme::Gcs => md.version(),
        _ => md.etag(),
    };
    Entry {
        location,
        size: if is_dir { 0 } else { md.content_length() },
        modified: md.last_modified().map(|t| t.into_inner()),
        is_dir,
        special: false,
        version: version.map(str::to_owned),
    }
}

/// Bytes per part of a multipart upload and per read of a copy stream.
pub(crate) const PART_SIZE: usize = 8 << 20;

/// Standard base64 (with or without padding) to lower-case hex; `None` if
/// it is not base64.
fn base64_to_hex(s: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    Some(super::write::hex(&out))
}

/// An object being uploaded through an OpenDAL writer (one request for a
/// small file, a multipart upload in [`PART_SIZE`] parts for a large one).
struct ObjectUpload {
    writer: opendal::Writer,
    location: Location,
}

impl std::fmt::Debug for ObjectUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectUpload")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl super::Upload for ObjectUpload {
    fn write(&mut self, chunk: Vec<u8>) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            self.writer
                .write(chunk)
                .await
                .map_err(|e| map_err(&self.location, e))
        })
    }

    fn finish(mut self: Box<Self>) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(async move {
            self.writer
                .close()
                .await
                .map(|_| ())
                .map_err(|e| map_err(&self.location, e))
        })
    }

    fn abort(mut self: Box<Self>) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(async move {
            self.writer
                .abort()
                .await
                .map_err(|e| map_err(&self.location, e))
        })
    }
}

impl Storage for ObjectStorage {
    fn name(&self) -> &'static str {
        self.scheme.canonical()
    }

    fn read_stream<'a>(
        &'a self,
        location: &'a Location,
        chunk: usize,
    ) -> BoxStream<'a, Result<Vec<u8>, Error>> {
        let start = async move {
            let reader = self
                .timed(
                    location,
                    self.op
                        .reader_with(location.key())
                        .chunk(chunk)
                        .into_future(),
                )
                .await?;
            self.timed(location, reader.into_bytes_stream(..)).await
        };
        Box::pin(futures_util::stream::once(start).flat_map(move |r| {
            match r {
                Ok(s) => s
                    .map(move |b| match b {
                        Ok(b) => Ok(b.to_vec()),
                        Err(e) => Err(Error::Io {
                            location: location.to_string(),
                            source: e,
                        }),
                    })
                    .boxed(),
                Err(e) => futures_util::stream::once(async move { Err(e) }).boxed(),
            }
        }))
    }

    fn create<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Box<dyn super::Upload>, Error>> {
        Box::pin(async move {
            let writer = self
                .timed(
                    location,
                    self.op
                        .writer_with(location.key())
                        .chunk(PART_SIZE)
                        .into_future(),
                )
                .await?;
            Ok(Box::new(ObjectUpload {
                writer,
                location: location.clone(),
            }) as Box<dyn super::Upload>)
        })
    }

    fn put_if_absent<'a>(
        &'a self,
        location: &'a Location,
        bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            if !self.op.info().capability().write_with_if_not_exists {
                return Err(Error::Unsupported {
                    location: location.to_string(),
                    reason: format!(
                        "{} cannot write only if absent here, so nothing is published",
                        self.scheme.canonical()
                    ),
                });
            }
            let put = self
                .op
                .write_with(location.key(), bytes)
                .if_not_exists(true)
                .into_future();
            match tokio::time::timeout(self.timeout, put).await {
                Ok(Ok(_)) => Ok(true),
                Ok(Err(e)) if e.kind() == ErrorKind::ConditionNotMatch => Ok(false),
                Ok(Err(e)) => Err(map_err(location, e)),
                Err(_) => Err(self.timeout_error(location)),
            }
        })
    }

    fn copy_within<'a>(
        &'a self,
        from: &'a Location,
        to: &'a Location,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let same = |l: &Location| l.scheme() == self.scheme && l.authority() == self.authority;
            if !same(from) || !same(to) || !self.op.info().capability().copy {
                return Ok(false);
            }
            // One request: objects up to 5 GiB on S3; larger ones stream.
            if self.stat(from).await?.is_none_or(|e| e.size > 5 << 30) {
                return Ok(false);
            }
            self.timed(to, self.op.copy(from.key(), to.key())).await?;
            Ok(true)
        })
    }

    fn content_md5<'a>(
        &'a self,
        location: &'a Location,
    ) -> BoxFuture<'a, Result<Option<String>, Error>> {
        Box::pin(async move {
            let md = match self.timed(location, self.op.stat(location.key())).await {
                Ok(md) => md,
                Err(Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            if let Some(h) = md.content_md5().and_then(base64_to_hex)
                && h.len() == 32
            {
                return Ok(Some(h));
            }
            // A single-part S3/OSS upload's ETag is the MD5 of its bytes.
            if matches!(self.scheme, Scheme::S3 | Scheme::Oss)
                && let Some(tag) = md.etag()
            {
                let tag = tag.trim_matches('"');
                if tag.len() == 32 && tag.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Ok(Some(tag.to_ascii_lowercase()));
                }
            }
            Ok(None)
        })
    }

    fn stat<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Option<Entry>, Error>> {
        Box::pin(async move {
            match self.timed(location, self.op.stat(location.key())).await {
                Ok(md) => Ok(Some(to_entry(location.clone(), &md, self.scheme))),
                Err(Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn read<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move {
            let buf = self.timed(location, self.op.read(location.key())).await?;
            Ok(buf.to_vec())
        })
    }

    fn read_range<'a>(
        &'a self,
        location: &'a Location,
        offset: u64,
        len: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move {
            let size = match self.stat(location).await? {
                Some(e) => e.size,
                None => {
                    return Err(Error::NotFound {
                        location: location.to_string(),
                    });
                }
            };
            let end = offset.saturating_add(len).min(size);
            if offset >= end {
                return Ok(Vec::new());
            }
            let buf = self
                .timed(
                    location,
                    self.op
                        .read_with(location.key())
                        .range(offset..end)
                        .into_future(),
                )
                .await?;
            Ok(buf.to_vec())
        })
    }

    fn list<'a>(
        &'a self,
        dir: &'a Location,
        recursive: bool,
    ) -> BoxStream<'a, Result<Entry, Error>> {
        let prefix = match dir.key() {
            "" => String::new(),
            k => format!("{k}/"),
        };
        let start = async move {
            self.timed(
                dir,
                self.op
                    .lister_with(&prefix)
                    .recursive(recursive)
                    .into_future(),
            )
            .await
        };
        Box::pin(
            futures_util::stream::once(start)
                .map(move |r| match r {
                    Ok(lister) => lister
                        .filter_map(move |item| async move {
                            match item {
                                Err(e) => Some(Err(map_err(dir, e))),
                                Ok(e) => {
                                    let path = e.path().trim_end_matches('/');
                                    let loc = dir.with_path(&format!("/{path}"));
                                    let is_dir = e.metadata().mode() == EntryMode::DIR;
                                    // The listed directory itself, and (recursive) directory markers.
                                    if loc == *dir || (recursive && is_dir) {
                                        return None;
                                    }
                                    Some(Ok(to_entry(loc, e.metadata(), self.scheme)))
                                }
                            }
                        })
                        .boxed(),
                    Err(Error::NotFound { .. }) => futures_util::stream::empty().boxed(),
                    Err(e) => futures_util::stream::once(async move { Err(e) }).boxed(),
                })
                .flatten(),
        )
    }

    fn delete_files<'a>(&'a self, files: &'a [Location]) -> BoxFuture<'a, Vec<Result<(), Error>>> {
        Box::pin(async move {
            let targets: Vec<Target> = files.iter().map(|l| (l.clone(), None)).collect();
            self.delete_all(&targets).await
        })
    }

    /// The condition goes with each delete (see the module docs); on OSS,
    /// stat, compare, delete.
    fn delete_files_if<'a>(
        &'a self,
        files: &'a [(Location, Option<String>)],
    ) -> BoxFuture<'a, Vec<Result<(), Error>>> {
        Box::pin(async move {
            if self.precondition == Precondition::Unsupported {
                return conditional::stat_then_delete(self, files, self.concurrency).await;
            }
            self.delete_all(files).await
        })
    }

    fn delete_throttling(&self) -> Option<Throttling> {
        Some(self.limiter.report())
    }

    fn remove_dir_if_empty<'a>(&'a self, _dir: &'a Location) -> BoxFuture<'a, Result<bool, Error>> {
        // No directories: a prefix is gone with its last object.
        Box::pin(async { Ok(false) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(uri: &str, settings: &Settings) -> (&'static str, Vec<(String, String)>) {
        config(&Location::parse(uri).unwrap(), settings).unwrap()
    }

    fn get<'a>(c: &'a [(String, String)], k: &str) -> Option<&'a str> {
        c.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn maps_uris_to_services() {
        let s = Settings::default();
        let (svc, c) = cfg("s3a://bkt/ck/x", &s);
        assert_eq!((svc, get(&c, "bucket")), ("s3", Some("bkt")));
        let (svc, c) = cfg("wasbs://cont@acct.blob.core.windows.net/x", &s);
        assert_eq!(svc, "azblob");
        assert_eq!(get(&c, "container"), Some("cont"));
        assert_eq!(get(&c, "account_name"), Some("acct"));
        assert_eq!(
            get(&c, "endpoint"),
            Some("https://acct.blob.core.windows.net")
        );
        let (svc, c) = cfg("abfs://fs@acct.dfs.core.windows.net/x", &s);
        assert_eq!(svc, "azdls");
        assert_eq!(get(&c, "filesystem"), Some("fs"));
        assert_eq!(
            get(&c, "endpoint"),
            Some("http://acct.dfs.core.windows.net")
        );
        assert_eq!(cfg("gs://g/x", &s).0, "gcs");
        let e = config(&Location::parse("oss://b/x").unwrap(), &s);
        if std::env::var_os("OSS_ENDPOINT").is_none() {
            assert!(e.unwrap_err().contains("fs.oss.endpoint"));
        }
    }
}
