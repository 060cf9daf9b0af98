//! Storage settings: the `storage:` section of a profile. Every field is
//! optional; what is not set comes from the usual environment and credential
//! chains of each store (`AWS_*` and `~/.aws`, Google ADC, `AZURE_*`,
//! `ALIBABA_CLOUD_*`, `HADOOP_CONF_DIR`).

use serde::{Deserialize, Serialize};

use super::redact::redact;

/// How to reach storage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Requests in flight at once (default 32).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    /// Per-request timeout in seconds (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    /// S3 and S3-compatible stores (`s3://`, `s3a://`, `s3n://`, `s3p://`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Settings>,
    /// Google Cloud Storage (`gs://`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcs: Option<GcsSettings>,
    /// Azure Blob Storage and ADLS Gen2 (`wasb[s]://`, `abfs[s]://`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureSettings>,
    /// Alibaba Cloud OSS (`oss://`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oss: Option<OssSettings>,
    /// HDFS and ViewFS (`hdfs://`, `viewfs://`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hdfs: Option<HdfsSettings>,
}

impl Settings {
    /// Requests in flight at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency.unwrap_or(32).clamp(1, 1024)
    }

    /// Per-request timeout.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout_secs.unwrap_or(60).max(1))
    }

    /// Names of the fields that hold secrets and are set (for masking and
    /// permission warnings), as `section.field`.
    pub fn secrets_set(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if let Some(s) = &self.s3 {
            if s.secret_access_key.is_some() {
                out.push("s3.secret_access_key");
            }
            if s.session_token.is_some() {
                out.push("s3.session_token");
            }
        }
        if let Some(a) = &self.azure {
            if a.account_key.is_some() {
                out.push("azure.account_key");
            }
            if a.sas_token.is_some() {
                out.push("azure.sas_token");
            }
        }
        if let Some(o) = &self.oss
            && o.access_key_secret.is_some()
        {
            out.push("oss.access_key_secret");
        }
        out
    }

    /// A copy with every secret replaced by `********`, and endpoints
    /// without userinfo and query strings (`http://***@host/`).
    pub fn masked(&self) -> Self {
        let mask = |o: &Option<String>| o.as_ref().map(|_| "********".to_owned());
        let url = |o: &Option<String>| o.as_deref().map(|u| redact(u).into_owned());
        let mut m = self.clone();
        if let Some(s) = &mut m.s3 {
            s.secret_access_key = mask(&s.secret_access_key);
            s.session_token = mask(&s.session_token);
            s.endpoint = url(&s.endpoint);
        }
        if let Some(g) = &mut m.gcs {
            g.endpoint = url(&g.endpoint);
        }
        if let Some(a) = &mut m.azure {
            a.account_key = mask(&a.account_key);
            a.sas_token = mask(&a.sas_token);
            a.endpoint = url(&a.endpoint);
        }
        if let Some(o) = &mut m.oss {
            o.access_key_secret = mask(&o.access_key_secret);
            o.endpoint = url(&o.endpoint);
        }
        m
    }
}

/// S3 settings (Flink's `s3.endpoint`, `s3.path.style.access`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Settings {
    /// Endpoint URL for S3-compatible stores (MinIO, SeaweedFS, Ceph, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Region (default: from the environment, else `us-east-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Path-style requests (`endpoint/bucket/key`) instead of virtual hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_style: Option<bool>,
    /// Access key id (default: the AWS credential chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// Secret access key (a secret: prefer the AWS credential chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
    /// Session token (a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
    /// Named profile in `~/.aws/config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_profile: Option<String>,
    /// Unsigned requests (public buckets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<bool>,
}

/// Google Cloud Storage settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcsSettings {
    /// Endpoint URL (default `https://storage.googleapis.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Service-account JSON key file (default: application default credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_path: Option<String>,
    /// Unsigned requests (public buckets, emulators).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<bool>,
}

/// Azure Blob / ADLS Gen2 settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureSettings {
    /// Storage account name (default: from the URI's `container@ACCOUNT.…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// Account key (a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_key: Option<String>,
    /// SAS token (a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sas_token: Option<String>,
    /// Endpoint URL (default: from the URI's host, e.g. `https://ACCOUNT.blob.core.windows.net`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// Alibaba Cloud OSS settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OssSettings {
    /// Endpoint URL (Flink's `fs.oss.endpoint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Access key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// Access key secret (a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_secret: Option<String>,
}

/// HDFS settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HdfsSettings {
    /// Directory with `core-site.xml` and `hdfs-site.xml` (default `$HADOOP_CONF_DIR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conf_dir: Option<String>,
    /// Failover attempts across HA NameNodes before giving up (default 1, so a
    /// dead cluster fails in seconds rather than minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_attempts: Option<u32>,
}
