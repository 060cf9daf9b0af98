//! The documented example `profiles.yaml`: the reference for every field,
//! printed by the CLI and reused (commented out) by `profile init`.
//!
//! Convention, checked by the tests: a commented-out setting is written as
//! `# key: value` at the key's own indentation, and prose comments never
//! start with a lowercase `word:`, so that uncommenting every such line still
//! gives a valid file.

/// The header comment of every generated file.
macro_rules! header {
    () => {
        "# flink-chk profiles
#
# A profile names the storage of one Flink deployment, so that commands can
# run as `flink-chk --profile prod ...` instead of repeating locations and
# settings. The profile used is the one named by --profile or
# FLINK_CHK_PROFILE, else `default`, else the only profile there is.
#
# This file is found at --config, $FLINK_CHK_CONFIG,
# $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml.
# Unknown keys and repeated keys are errors. If it holds secrets, keep it
# private (chmod 600); better, leave credentials to the usual chains
# (AWS_* variables and ~/.aws, Google ADC, AZURE_*, ALIBABA_CLOUD_*).
"
    };
}
pub(super) use header;

/// The example profile, indented for its place under `profiles:`.
macro_rules! example_profile {
    () => {
        "  # Profile names contain no spaces, `@` or `/`.
  prod:
    # Free text shown in listings (optional).
    description: Production cluster
    # Where Flink writes checkpoints, one <job-id>/ directory per job:
    # Flink's execution.checkpointing.dir (state.checkpoints.dir before 2.0).
    # Absolute paths or URIs: file, hdfs, viewfs, s3 (s3a, s3n, s3p), gs,
    # abfs[s], wasb[s], oss. Required.
    checkpoints: s3://flink-prod/checkpoints
    # Flink's execution.checkpointing.savepoint-dir (state.savepoints.dir
    # before 2.0). Optional.
    savepoints: s3://flink-prod/savepoints
    # The changelog state backend's state.changelog.dstl.dfs.base-path.
    # Optional.
    changelog: s3://flink-prod/changelog
    # How to reach storage (optional). Unset values come from the
    # environment and credential chains of each store.
    storage:
      # Requests in flight at once (default 32).
      concurrency: 32
      # Per-request timeout in seconds (default 60).
      timeout_secs: 60
      s3:
        # For S3-compatible stores (MinIO, SeaweedFS, Ceph); omit for AWS.
        endpoint: http://127.0.0.1:8333
        # Default: from the environment, else us-east-1.
        region: us-east-1
        # Requests to endpoint/bucket/key instead of bucket.endpoint/key.
        path_style: true
        # Static credentials (default: the AWS credential chain).
        # access_key_id: AKIAIOSFODNN7EXAMPLE
        # A secret: prefer the credential chain.
        # secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
        # A secret.
        # session_token: FwoGZXIvYXdzEXAMPLE
        # A named profile in ~/.aws/config.
        # aws_profile: flink
        # Unsigned requests (public buckets).
        # anonymous: false
      # Google Cloud Storage.
      # gcs:
        # Default https://storage.googleapis.com.
        # endpoint: https://storage.googleapis.com
        # Service-account key (default: application default credentials).
        # credential_path: /etc/flink/gcs-key.json
        # anonymous: false
      # Azure Blob Storage and ADLS Gen2.
      # azure:
        # Default: from the URI (container@ACCOUNT.dfs.core.windows.net).
        # account_name: myaccount
        # A secret.
        # account_key: bXlhY2NvdW50a2V5
        # A secret.
        # sas_token: sv=2024-01-01&ss=b&sig=EXAMPLE
        # endpoint: https://myaccount.blob.core.windows.net
      # Alibaba Cloud OSS.
      # oss:
        # endpoint: https://oss-cn-hangzhou.aliyuncs.com
        # access_key_id: LTAI5tEXAMPLE
        # A secret.
        # access_key_secret: EXAMPLEsecret
      # HDFS and ViewFS.
      # hdfs:
        # Directory of core-site.xml and hdfs-site.xml (default $HADOOP_CONF_DIR).
        # conf_dir: /etc/hadoop/conf
        # Attempts across HA NameNodes before giving up (default 1).
        # failover_attempts: 1
    # Job aliases (optional), usable wherever a job id is: an alias maps to
    # a job id (32 hex characters), or to a mapping with the id, the job's
    # operator uids (any order) and a description. Aliases contain no `@`,
    # `/`, `:` or spaces.
    jobs:
      orders: 5f3c0a1d9e8b7c6a5f4e3d2c1b0a9f8e
      payments:
        id: a1b2c3d4e5f60718293a4b5c6d7e8f90
        uids: [source-kafka, dedupe, enrich, sink]
        description: Payment enrichment
    # What a cleanup keeps (optional).
    retention:
      # Completed checkpoints kept per job (at least 1).
      keep_last: 3
      # Files younger than this are never deleted: a number with s, m, h or d.
      min_age: 1h
      # Always kept, verbatim: alias@chk-N, job-id@chk-N, or locations.
      keep: [orders@chk-42, s3://flink-prod/savepoints/savepoint-abc123-0123456789ab]
    # How `flink-chk replicate` keeps a standby copy (optional).
    replication:
      # The default --to: a path, URI, PROFILE: or PROFILE:PATH.
      to: \"dr:\"
      # Replicated checkpoints kept per job (at least 1); savepoints are all kept.
      keep: 3
      # One byte budget for all jobs (K, M, G are powers of 1024), or a
      # timetable; re-read on SIGHUP.
      bwlimit: \"08:00,50M 20:00,off\"
      # Each job's own cap besides the shared budget.
      # job_bwlimit: 20M
      # Priority of this profile's jobs, 0 to 9 (higher first; default 0).
      priority: 5
      # Per job alias or id.
      priorities: { orders: 9 }
"
    };
}
pub(super) use example_profile;

/// A complete, commented example `profiles.yaml` documenting every field.
/// It parses and validates as it is, and still does with every
/// commented-out setting enabled.
pub fn template() -> &'static str {
    concat!(
        header!(),
        "
# The profile used when none is named (optional).
default: prod

profiles:
",
        example_profile!()
    )
}
