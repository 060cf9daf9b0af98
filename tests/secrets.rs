//! No command prints a secret. Every subcommand runs against profiles that
//! hold secrets the ways users write them (misspelt keys, inline flow
//! mappings, quoted duplicate keys, an Azure SAS token, credentials in
//! endpoint and root URIs) with storage endpoints on 127.0.0.1 ports where
//! nothing listens, and neither stdout nor stderr may contain any secret.
//!
//! Hermetic: a clean environment (no `AWS_*`, `AZURE_*`, `GOOGLE_*`), `HOME`,
//! `XDG_CONFIG_HOME` and `FLINK_CHK_CONFIG` in a temporary directory, no
//! instance-metadata lookups, and only loopback addresses.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::flink_chk;

const JOB: &str = "5f3c0a1d9e8b7c6a5f4e3d2c1b0a9f8e";

/// Secrets given on the command line (as arguments, not in the file).
const ARG_SECRETS: [&str; 4] = ["ARGKEYID", "ARGSECRET", "ADDKEYID", "ADDSECRET"];

/// A 127.0.0.1 port where nothing listens: bound, then closed.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// One profiles file and what must never be printed.
#[derive(Debug)]
struct Case {
    name: &'static str,
    yaml: String,
    secrets: &'static [&'static str],
    /// The root as written, for arguments (`why`, the top-level error).
    root: &'static str,
    /// `Some(line)`: the file is invalid and every command that loads it
    /// reports this line. `None`: it is valid and storage is reached.
    bad_line: Option<usize>,
}

fn profile(root: &str, storage: &str) -> String {
    format!(
        "default: prod\nprofiles:\n  prod:\n    checkpoints: {root}\n    savepoints: {root}/sp\n    jobs:\n      orders: {JOB}\n    storage:\n      timeout_secs: 1\n{storage}"
    )
}

fn cases(port: u16) -> Vec<Case> {
    let s3 = "s3://bucket/ck";
    let wasb = "wasb://cont@acct.blob.core.windows.net/ck";
    let endpoint = format!("http://127.0.0.1:{port}");
    vec![
        Case {
            name: "misspelt key",
            yaml: profile(
                s3,
                &format!(
                    "      s3:\n        endpoint: {endpoint}\n        secret_key: MISSPELTSECRET\n"
                ),
            ),
            secrets: &["MISSPELTSECRET"],
            root: s3,
            bad_line: Some(12),
        },
        Case {
            name: "misspelt key in a flow mapping",
            yaml: profile(
                s3,
                &format!(
                    "      s3: {{ endpoint: \"{endpoint}\", secretkey: FLOWMISSPELTSECRET }}\n"
                ),
            ),
            secrets: &["FLOWMISSPELTSECRET"],
            root: s3,
            bad_line: Some(10),
        },
        Case {
            name: "inline flow mapping",
            yaml: profile(
                s3,
                "      s3: { secret_access_key: INLINESECRET, path_style: maybe }\n",
            ),
            secrets: &["INLINESECRET"],
            root: s3,
            bad_line: Some(10),
        },
        Case {
            name: "quoted duplicate key",
            yaml: profile(
                s3,
                "      s3:\n        \"secret_access_key\": QUOTEDSECRETA\n        \"secret_access_key\": QUOTEDSECRETB\n",
            ),
            secrets: &["QUOTEDSECRETA", "QUOTEDSECRETB"],
            root: s3,
            bad_line: Some(12),
        },
        Case {
            name: "quoted duplicate key in a flow mapping",
            yaml: profile(
                s3,
                "      s3: { \"secret_access_key\": FLOWQUOTEDSECRETA, \"secret_access_key\": FLOWQUOTEDSECRETB }\n",
            ),
            secrets: &["FLOWQUOTEDSECRETA", "FLOWQUOTEDSECRETB"],
            root: s3,
            bad_line: Some(10),
        },
        Case {
            name: "misspelt key, value on the next line",
            yaml: profile(
                s3,
                "      s3:\n        secret-key:\n          NEXTLINESECRET\n        path_style: maybe\n",
            ),
            secrets: &["NEXTLINESECRET"],
            root: s3,
            bad_line: Some(11),
        },
        Case {
            name: "azure sas token (blob)",
            yaml: profile(
                wasb,
                &format!(
                    "      azure: {{ endpoint: \"{endpoint}\", sas_token: \"sv=2022-11-02&ss=b&srt=co&sp=rl&sig=SASSIGSECRET\" }}\n"
                ),
            ),
            secrets: &["SASSIGSECRET"],
            root: wasb,
            bad_line: None,
        },
        Case {
            name: "azure sas token (adls)",
            yaml: profile(
                "abfs://fs@acct.dfs.core.windows.net/ck",
                &format!(
                    "      azure:\n        endpoint: {endpoint}\n        sas_token: sv=2022-11-02&sig=DFSSIGSECRET\n"
                ),
            ),
            secrets: &["DFSSIGSECRET"],
            root: "abfs://fs@acct.dfs.core.windows.net/ck",
            bad_line: None,
        },
        Case {
            name: "userinfo in the endpoint",
            yaml: profile(
                s3,
                &format!(
                    "      s3:\n        endpoint: http://ENDPOINTUSER:ENDPOINTSECRET@127.0.0.1:{port}\n        path_style: true\n        access_key_id: AKIDVISIBLE\n        secret_access_key: S3KEYSECRET\n"
                ),
            ),
            secrets: &["ENDPOINTUSER", "ENDPOINTSECRET", "S3KEYSECRET"],
            root: s3,
            bad_line: None,
        },
        Case {
            name: "userinfo in the roots",
            yaml: profile(
                "s3://ROOTKEYID:ROOTSECRET@bucket/ck",
                &format!(
                    "      s3:\n        endpoint: {endpoint}\n        path_style: true\n        access_key_id: AKIDVISIBLE\n        secret_access_key: S3KEYSECRET\n"
                ),
            ),
            secrets: &["ROOTKEYID", "ROOTSECRET", "S3KEYSECRET"],
            root: "s3://ROOTKEYID:ROOTSECRET@bucket/ck",
            bad_line: None,
        },
    ]
}

/// Every subcommand, with the variants that print differently.
fn commands(case: &Case, port: u16) -> Vec<Vec<String>> {
    let root = case.root;
    // The same store, with credentials typed on the command line.
    let (scheme, rest) = root.split_once("://").unwrap();
    let rest = match rest.split_once('@') {
        Some((userinfo, store)) if userinfo.contains(':') => store,
        _ => rest,
    };
    let arg_root = format!("{scheme}://ARGKEYID:ARGSECRET@{rest}");
    let v = |args: &[&str]| args.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    vec![
        v(&["inspect", "orders@latest"]),
        v(&["deps", "orders@latest"]),
        v(&["why", &format!("{root}/{JOB}/shared/some-file")]),
        v(&["ls"]),
        v(&["ls", "--json"]),
        v(&["diff", "orders@latest", "orders@latest"]),
        v(&["safe-to-delete"]),
        v(&["safe-to-delete", "--dry-run"]),
        v(&["safe-to-delete", "--json"]),
        v(&["safe-to-delete", "--dry-run", "--json"]),
        v(&["profile", "show"]),
        v(&["profile", "show", "--json"]),
        v(&["profile", "list"]),
        v(&["profile", "list", "--json"]),
        v(&["profile", "check"]),
        v(&[
            "profile",
            "add",
            "extra",
            "--checkpoints",
            "s3://ADDKEYID:ADDSECRET@bucket/x",
            "--s3-endpoint",
            &format!("http://ADDKEYID:ADDSECRET@127.0.0.1:{port}"),
        ]),
        // The top-level error path, with a URI typed on the command line.
        v(&["inspect", &format!("{arg_root}/{JOB}/chk-1")]),
        v(&["ls", &arg_root]),
    ]
}

/// Runs `args` against `yaml` in its own temporary home; exit code and
/// everything printed.
fn run(yaml: &str, args: &[String]) -> (Option<i32>, String) {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("profiles.yaml");
    std::fs::write(&config, yaml).unwrap();
    set_private(&config);
    let out = flink_chk()
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env("FLINK_CHK_CONFIG", &config)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", home.path().join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.path().join("no-aws-credentials"),
        )
        .env("NO_COLOR", "1")
        .args(args)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let text = format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[cfg(unix)]
fn set_private(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[cfg(not(unix))]
fn set_private(_: &Path) {}

#[test]
fn no_command_prints_a_secret() {
    let port = closed_port();
    let cases = cases(port);
    let runs: Vec<(&Case, Vec<String>)> = cases
        .iter()
        .flat_map(|c| commands(c, port).into_iter().map(move |a| (c, a)))
        .collect();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    // Failing listings wait out the store client's retries (seconds each):
    // run them side by side.
    std::thread::scope(|s| {
        for _ in 0..24 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((case, args)) = runs.get(i) else {
                        break;
                    };
                    let (code, text) = run(&case.yaml, args);
                    let mut problems = Vec::new();
                    for secret in case.secrets.iter().chain(&ARG_SECRETS) {
                        if text.contains(secret) {
                            problems.push(format!("prints {secret}"));
                        }
                    }
                    problems.extend(sanity(case, args, code, &text, port));
                    if !problems.is_empty() {
                        failures.lock().unwrap().push(format!(
                            "{} / flink-chk {}: {}\n{text}",
                            case.name,
                            args.join(" "),
                            problems.join(", ")
                        ));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} runs failed:\n\n{}",
        failures.len(),
        runs.len(),
        failures.join("\n\n")
    );
}

/// That a run went where the case means it to (so a typo in a case cannot
/// make the test pass without testing anything).
fn sanity(case: &Case, args: &[String], code: Option<i32>, text: &str, port: u16) -> Vec<String> {
    let mut out = Vec::new();
    match case.bad_line {
        Some(line) => {
            if !text.contains(&format!("profiles.yaml:{line}:")) {
                out.push(format!("does not report line {line} of the file"));
            }
            if code != Some(3) {
                out.push(format!("exit code {code:?}, expected 3"));
            }
        }
        None => {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            match a.as_slice() {
                ["profile", "show" | "list", ..] | ["profile", "add", ..] if code != Some(0) => {
                    out.push(format!("exit code {code:?}, expected 0"));
                }
                ["profile", "check"] => {
                    if !text.contains(&format!("127.0.0.1:{port}")) {
                        out.push("does not name the failing endpoint".to_owned());
                    }
                    if code == Some(0) {
                        out.push("succeeded against a closed port".to_owned());
                    }
                }
                _ => {}
            }
        }
    }
    out
}
