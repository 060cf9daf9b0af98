//! Object stores through Apache OpenDAL: S3 and S3-compatible stores, Google
//! Cloud Storage, Azure Blob and ADLS Gen2, Alibaba OSS. One operator per
//! bucket or container, built with `Operator::via_iter` from the URI and the
//! profile's [`Settings`]; unset values come from each store's own
//! environment and credential chain.

use std::time::Duration;

use futures_util::StreamExt;
use opendal::{EntryMode, ErrorKind, Operator};

use super::{BoxFuture, BoxStream, Entry, Error, Location, Scheme, Settings, Storage};

/// One bucket or container.
#[derive(Debug)]
pub struct ObjectStorage {
    op: Operator,
    scheme: Scheme,
    timeout: Duration,
}

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
        let op = Operator::via_iter(service, cfg)
            .map_err(|e| cfg_err(e.to_string()))?
            .layer(
                opendal::layers::RetryLayer::new()
                    .with_max_times(3)
                    .with_jitter(),
            );
        Ok(Self {
            op,
            scheme: location.scheme(),
            timeout: settings.timeout(),
        })
    }

    async fn timed<T>(
        &self,
        location: &Location,
        f: impl std::future::Future<Output = opendal::Result<T>>,
    ) -> Result<T, Error> {
        match tokio::time::timeout(self.timeout, f).await {
            Ok(r) => r.map_err(|e| map_err(location, e)),
            Err(_) => Err(Error::Backend {
                location: location.to_string(),
                message: format!(
                    "no answer within {} s (storage.timeout_secs)",
                    self.timeout.as_secs()
                ),
            }),
        }
    }
}

fn map_err(location: &Location, e: opendal::Error) -> Error {
    if e.kind() == ErrorKind::NotFound {
        Error::NotFound {
            location: location.to_string(),
        }
    } else {
        Error::Backend {
            location: location.to_string(),
            message: e.to_string(),
        }
    }
}

fn to_entry(location: Location, md: &opendal::Metadata) -> Entry {
    let is_dir = md.mode() == EntryMode::DIR;
    Entry {
        location,
        size: if is_dir { 0 } else { md.content_length() },
        modified: md.last_modified().map(|t| t.into_inner()),
        is_dir,
    }
}

impl Storage for ObjectStorage {
    fn name(&self) -> &'static str {
        self.scheme.canonical()
    }

    fn stat<'a>(&'a self, location: &'a Location) -> BoxFuture<'a, Result<Option<Entry>, Error>> {
        Box::pin(async move {
            match self.timed(location, self.op.stat(location.key())).await {
                Ok(md) => Ok(Some(to_entry(location.clone(), &md))),
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
                                    Some(Ok(to_entry(loc, e.metadata())))
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
