//! Tests of loading, validation, resolution and editing of profiles.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

const P: &str = "/home/u/.config/flink-chk/profiles.yaml";

fn parse(text: &str) -> Result<Config, Error> {
    Config::parse(text, Path::new(P))
}

/// The error's text, which must start with `PATH:LINE:COL: `.
fn err_at(text: &str, line: usize, column: usize) -> String {
    let e = parse(text).expect_err("should not parse");
    let s = e.to_string();
    let head = format!("{P}:{line}:{column}: ");
    assert!(s.starts_with(&head), "expected {head:?}, got:\n{s}");
    assert!(
        matches!(e, Error::Invalid { position: Some(p), .. } if p == Position { line, column })
    );
    s
}

const ID1: &str = "5f3c0a1d9e8b7c6a5f4e3d2c1b0a9f8e";
const ID2: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90";

fn one(body: &str) -> String {
    format!("profiles:\n  prod:\n    checkpoints: s3://b/ck\n{body}")
}

#[test]
fn template_parses_and_validates() {
    let c = parse(template()).unwrap();
    assert_eq!(c.default_name(), Some("prod"));
    let (name, p) = c.profile(None).unwrap();
    assert_eq!(name, "prod");
    assert_eq!(p.checkpoints.to_string(), "s3://flink-prod/checkpoints");
    assert_eq!(p.job("orders").unwrap().id, ID1);
    assert_eq!(p.uids(ID2), ["source-kafka", "dedupe", "enrich", "sink"]);
    assert_eq!(p.retention.min_age, Some(Duration::from_secs(3600)));
    assert_eq!(p.retention.keep_last, Some(3));
    assert_eq!(p.retention.keep.len(), 2);
    assert!(p.storage.secrets_set().is_empty());
}

/// Every `# key: value` line of the template, uncommented, is a real field.
#[test]
fn template_commented_settings_are_real_fields() {
    let mut enabled = 0;
    let text: String = template()
        .lines()
        .map(|l| {
            let body = l.trim_start();
            let indent = &l[..l.len() - body.len()];
            if let Some(rest) = body.strip_prefix("# ")
                && let Some((key, _)) = rest.split_once(':')
                && !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                && rest[key.len() + 1..]
                    .chars()
                    .next()
                    .is_none_or(|c| c == ' ')
            {
                enabled += 1;
                format!("{indent}{rest}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert!(enabled >= 20, "{enabled}");
    let c = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let p = c.get("prod").unwrap();
    assert_eq!(
        p.storage.secrets_set(),
        [
            "s3.secret_access_key",
            "s3.session_token",
            "azure.account_key",
            "azure.sas_token",
            "oss.access_key_secret"
        ]
    );
    assert!(p.storage.gcs.is_some() && p.storage.hdfs.is_some());
}

#[test]
fn syntax_error_points_at_line_and_column() {
    let s = err_at(
        "profiles:\n  prod:\n    checkpoints: s3://b/ck\n   jobs: {}\n",
        4,
        4,
    );
    assert!(s.contains("did not find expected key"), "{s}");
    assert!(s.contains("4 |    jobs: {}\n  |    ^"), "{s}");
}

#[test]
fn unknown_field_is_an_error() {
    let s = err_at("profiles:\n  prod:\n    checkpoint: s3://b/ck\n", 3, 5);
    assert!(s.contains("unknown field `checkpoint`"), "{s}");
    assert!(s.contains("checkpoints"), "{s}");
    err_at(&one("    storage:\n      s3:\n        regoin: x\n"), 6, 9);
    err_at("profile:\n  prod: {}\n", 1, 1);
}

#[test]
fn wrong_type_is_an_error() {
    let s = err_at(&one("    retention:\n      keep_last: three\n"), 5, 18);
    assert!(s.contains(": expected a whole number\n"), "{s}");
    let s = err_at("profiles:\n  prod:\n    checkpoints: [a, b]\n", 3, 18);
    assert!(s.contains(": expected a string\n"), "{s}");
    let s = err_at(&one("    retention: 3\n"), 4, 16);
    assert!(
        s.contains(": expected a mapping (`key: value` entries)\n"),
        "{s}"
    );
    let s = err_at(
        &one("    storage:\n      s3: { path_style: maybe }\n"),
        5,
        25,
    );
    assert!(s.contains(": expected true or false\n"), "{s}");
    err_at(&one("    jobs:\n      orders: [x]\n"), 5, 7);
}

#[test]
fn duplicate_profiles_are_an_error() {
    let text =
        "profiles:\n  prod:\n    checkpoints: s3://b/a\n  prod:\n    checkpoints: s3://b/b\n";
    let s = err_at(text, 4, 3);
    assert!(
        s.contains("duplicate key `prod` (first defined on line 2)"),
        "{s}"
    );
}

#[test]
fn duplicate_aliases_are_an_error() {
    let s = err_at(
        &one(&format!(
            "    jobs:\n      orders: {ID1}\n      orders: {ID2}\n"
        )),
        6,
        7,
    );
    assert!(
        s.contains("duplicate key `orders` (first defined on line 5)"),
        "{s}"
    );
    // Flow style: still rejected, without the "first defined" note.
    let s = err_at(&one(&format!("    jobs: {{a: {ID1}, a: {ID2}}}\n")), 4, 49);
    assert!(s.contains("duplicate key `a`"), "{s}");
}

#[test]
fn duplicate_fields_are_an_error() {
    let s = err_at(&one("    checkpoints: s3://b/other\n"), 4, 5);
    assert!(s.contains("duplicate key `checkpoints`"), "{s}");
    err_at("default: a\ndefault: b\nprofiles: {}\n", 2, 1);
    err_at(
        &one("    storage:\n      s3: {region: a}\n      s3: {region: b}\n"),
        6,
        7,
    );
}

#[test]
fn job_ids_are_checked_and_normalized() {
    let s = err_at(&one("    jobs:\n      orders: 5f3c\n"), 5, 15);
    assert!(
        s.contains("profile `prod`, jobs.orders: `5f3c` is not a job id"),
        "{s}"
    );
    let s = err_at(&one("    jobs:\n      pay:\n        id: xyz\n"), 6, 13);
    assert!(s.contains("jobs.pay: `xyz` is not a job id"), "{s}");
    // Uppercase is accepted; ids YAML would read as numbers keep their text.
    let digits = "12345678901234567890123456789012";
    let float = "1234567890123456789012345678e012";
    let c = parse(&one(&format!(
        "    jobs:\n      a: {}\n      b: {digits}\n      c: {float}\n      d:\n        id: {digits}0\n",
        ID1.to_uppercase()
    )));
    let e = c.expect_err("d's id has 33 digits");
    assert!(e.to_string().contains(&format!("`{digits}0`")), "{e}");
    let c = parse(&one(&format!(
        "    jobs:\n      a: {}\n      b: {digits}\n      c: {float}\n",
        ID1.to_uppercase()
    )))
    .unwrap();
    let p = c.get("prod").unwrap();
    let ids: Vec<&str> = p.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, [ID1, digits, float]);
}

#[test]
fn aliases_and_profile_names_are_checked() {
    let s = err_at(&one(&format!("    jobs:\n      a@b: {ID1}\n")), 5, 7);
    assert!(
        s.contains("jobs.a@b: invalid alias: must not contain '@'"),
        "{s}"
    );
    err_at(&one(&format!("    jobs:\n      {ID2}: {ID1}\n")), 5, 7);
    err_at(&one(&format!("    jobs:\n      'a b': {ID1}\n")), 5, 7);
    err_at(&one(&format!("    jobs:\n      x:y: {ID1}\n")), 5, 7);
    let s = err_at("profiles:\n  'pr od':\n    checkpoints: /ck\n", 2, 3);
    assert!(
        s.contains("profile name `pr od`: must not contain ' '"),
        "{s}"
    );
    err_at("profiles:\n  a/b:\n    checkpoints: /ck\n", 2, 3);
    err_at("profiles:\n  '':\n    checkpoints: /ck\n", 2, 3);
}

#[test]
fn same_job_under_two_aliases_is_an_error() {
    let s = err_at(
        &one(&format!(
            "    jobs:\n      a: {ID1}\n      b: {}\n",
            ID1.to_uppercase()
        )),
        6,
        10,
    );
    assert!(s.contains("already has the alias `a`"), "{s}");
}

#[test]
fn uids_are_checked() {
    let s = err_at(
        &one(&format!(
            "    jobs:\n      a:\n        id: {ID1}\n        uids: [x, y, x]\n"
        )),
        7,
        22,
    );
    assert!(s.contains("jobs.a.uids: uid `x` listed twice"), "{s}");
}

#[test]
fn roots_are_checked() {
    let s = err_at("profiles:\n  prod:\n    checkpoints: ftp://h/x\n", 3, 18);
    assert!(
        s.contains(
            "profile `prod`, checkpoints: \"ftp://h/x\" is not a valid location: unknown scheme ftp"
        ),
        "{s}"
    );
    let s = err_at(&one("    savepoints: ~/sp\n"), 4, 17);
    assert!(s.contains("savepoints: `~/sp` is a relative path"), "{s}");
    err_at(&one("    changelog: s3:///x\n"), 4, 16);
    let c = parse(&one(
        "    savepoints: file:///tmp/sp/\n    changelog: hdfs://nn/cl\n",
    ))
    .unwrap();
    let p = c.get("prod").unwrap();
    assert_eq!(p.savepoints.as_ref().unwrap().to_string(), "file:///tmp/sp");
}

#[test]
fn retention_is_checked() {
    let s = err_at(&one("    retention:\n      min_age: 1w\n"), 5, 16);
    assert!(
        s.contains("retention.min_age: `1w` is not a duration"),
        "{s}"
    );
    err_at(&one("    retention:\n      min_age: 3600\n"), 5, 16);
    let s = err_at(&one("    retention:\n      keep_last: 0\n"), 5, 18);
    assert!(s.contains("retention.keep_last: must be at least 1"), "{s}");
    err_at(&one("    retention:\n      keep: ['', x]\n"), 5, 14);
}

#[test]
fn durations() {
    for (s, secs) in [
        ("90s", 90),
        ("30m", 1800),
        ("1h", 3600),
        ("7d", 604_800),
        ("0s", 0),
    ] {
        assert_eq!(parse_duration(s), Ok(Duration::from_secs(secs)), "{s}");
    }
    for s in [
        "",
        "h",
        "1",
        "1.5h",
        "-1h",
        "1 h",
        "1H",
        "99999999999999999999d",
        "1w",
    ] {
        assert!(parse_duration(s).is_err(), "{s}");
    }
    for (secs, s) in [
        (90, "90s"),
        (1800, "30m"),
        (3600, "1h"),
        (172_800, "2d"),
        (0, "0s"),
    ] {
        assert_eq!(format_duration(Duration::from_secs(secs)), s);
    }
}

#[test]
fn default_must_name_a_profile() {
    let s = err_at(
        "default: prd\nprofiles:\n  prod:\n    checkpoints: /ck\n",
        1,
        10,
    );
    assert!(
        s.contains("default: no profile `prd` (profiles: prod)"),
        "{s}"
    );
}

#[test]
fn empty_files_have_no_profiles() {
    for text in ["", "# only a comment\n", "profiles:\n", "profiles: {}\n"] {
        let c = parse(text).unwrap();
        assert_eq!(c.profiles().count(), 0);
        let e = c.profile(None).unwrap_err();
        assert!(e.to_string().contains("defines no profiles"), "{e}");
    }
}

#[test]
fn choosing_a_profile() {
    let two = "profiles:\n  a:\n    checkpoints: /a\n  b:\n    checkpoints: /b\n";
    let c = parse(two).unwrap();
    assert_eq!(c.profile(Some("b")).unwrap().0, "b");
    let e = c.profile(None).unwrap_err().to_string();
    assert!(e.contains("several profiles and no `default:`"), "{e}");
    assert!(e.contains("available: a, b"), "{e}");
    let e = c.profile(Some("c")).unwrap_err().to_string();
    assert_eq!(e, format!("{P}: no profile `c`; available: a, b"));
    let c = parse(&format!("default: b\n{two}")).unwrap();
    assert_eq!(c.profile(None).unwrap().0, "b");
    assert_eq!(c.profile(Some("a")).unwrap().0, "a");
    let c = parse("profiles:\n  only:\n    checkpoints: /a\n").unwrap();
    assert_eq!(c.profile(None).unwrap().0, "only");
    assert_eq!(c.names(), ["only"]);
}

#[test]
fn resolving_jobs() {
    let c = parse(&one(&format!(
        "    jobs:\n      orders: {ID1}\n      pay:\n        id: {ID2}\n        uids: [u1, u2]\n"
    )))
    .unwrap();
    let p = c.get("prod").unwrap();
    let j = p.job("pay").unwrap();
    assert_eq!(
        (j.id.as_str(), j.alias, j.uids),
        (ID2, Some("pay"), &["u1".to_owned(), "u2".to_owned()][..])
    );
    let j = p.job(&ID1.to_uppercase()).unwrap();
    assert_eq!((j.id.as_str(), j.alias), (ID1, Some("orders")));
    let other = "00000000000000000000000000000001";
    let j = p.job(other).unwrap();
    assert_eq!((j.id.as_str(), j.alias, j.uids.len()), (other, None, 0));
    assert!(p.job("nope").is_none());
    assert_eq!(p.alias_of(ID2), Some("pay"));
    assert_eq!(p.alias_of(other), None);
    assert!(p.uids(ID1).is_empty());
}

const SECRETS: &str = "    storage:
      s3:
        access_key_id: AKIAVISIBLE
        secret_access_key: s3cr3t-AAA
        session_token: s3cr3t-BBB
      azure:
        account_key: s3cr3t-CCC
        sas_token: s3cr3t-DDD
      oss:
        access_key_secret: s3cr3t-EEE
";

#[test]
fn masked_yaml_hides_every_secret() {
    let text = format!(
        "default: prod\n{}    jobs:\n      orders: {ID1}\n      pay:\n        id: {ID2}\n        uids: [u1]\n    retention:\n      min_age: 120m\n",
        one(SECRETS)
    );
    let c = parse(&text).unwrap();
    for name in [None, Some("prod")] {
        let y = c.to_masked_yaml(name).unwrap();
        assert!(!y.contains("s3cr3t"), "{y}");
        assert_eq!(y.matches("********").count(), 5, "{y}");
        assert!(
            y.contains("AKIAVISIBLE") && y.contains("min_age: 2h"),
            "{y}"
        );
        if name.is_none() {
            // The masked file is itself a valid profiles.yaml.
            let back = parse(&y).unwrap();
            assert_eq!(back.get("prod").unwrap().jobs, c.get("prod").unwrap().jobs);
        } else {
            assert!(y.starts_with("prod:\n  checkpoints: s3://b/ck\n"), "{y}");
        }
    }
}

#[test]
fn snippets_mask_secret_values() {
    let text = one("    storage:\n      s3:\n        secret_access_key: [s3cr3t-AAA]\n");
    let s = err_at(&text, 6, 28);
    assert!(!s.contains("s3cr3t"), "{s}");
    assert!(s.contains("secret_access_key: ********"), "{s}");
}

#[cfg(unix)]
#[test]
fn permission_warning() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profiles.yaml");
    std::fs::write(&path, one(SECRETS)).unwrap();
    let c = Config::load(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let w = secrets_readable_by_others(&path, &c).expect("a warning");
    assert_eq!(
        w,
        format!(
            "{0} is readable by other users (mode 0644) and holds secrets (prod: s3.secret_access_key, s3.session_token, azure.account_key, azure.sas_token, oss.access_key_secret); run `chmod 600 {0}`",
            path.display()
        )
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(secrets_readable_by_others(&path, &c), None);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert!(
        secrets_readable_by_others(&path, &c)
            .unwrap()
            .contains("mode 0640")
    );
    let plain = parse(&one("")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(secrets_readable_by_others(&path, &plain), None);
}

#[test]
fn load_reports_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profiles.yaml");
    let e = Config::load(&path).unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { path: p } if *p == path),
        "{e}"
    );
    std::fs::write(&path, "profiles:\n  x:\n    checkpoints: /ck\n").unwrap();
    assert_eq!(Config::load(&path).unwrap().path(), path);
}

fn new_profile() -> NewProfile {
    let mut p = NewProfile {
        description: Some("Staging: new #1".to_owned()),
        checkpoints: "s3://stage/ck".to_owned(),
        savepoints: Some("s3://stage/sp".to_owned()),
        jobs: vec![(
            "orders".to_owned(),
            "12345678901234567890123456789012".to_owned(),
        )],
        ..NewProfile::default()
    };
    p.storage.s3 = Some(crate::storage::S3Settings {
        endpoint: Some("http://127.0.0.1:8333".to_owned()),
        path_style: Some(true),
        ..Default::default()
    });
    p
}

#[test]
fn render_profile_writes_a_block() {
    let block = render_profile("stage", &new_profile()).unwrap();
    assert_eq!(
        block,
        "  stage:
    description: \"Staging: new #1\"
    checkpoints: s3://stage/ck
    savepoints: s3://stage/sp
    storage:
      s3:
        endpoint: http://127.0.0.1:8333
        path_style: true
    jobs:
      orders: \"12345678901234567890123456789012\"
"
    );
}

#[test]
fn init_text_is_commented_and_valid() {
    let text = init_text(Path::new(P), "dev", &new_profile()).unwrap();
    assert!(text.starts_with("# flink-chk profiles\n"), "{text}");
    assert!(
        text.contains("\n#     # Free text shown in listings"),
        "{text}"
    );
    assert!(
        text.contains("\ndefault: dev\n\nprofiles:\n  dev:\n    description:"),
        "{text}"
    );
    let c = parse(&text).unwrap();
    assert_eq!(c.names(), ["dev"]);
    assert_eq!(
        c.profile(None).unwrap().1.job("orders").unwrap().id,
        "12345678901234567890123456789012"
    );
    assert!(matches!(
        init_text(Path::new(P), "a b", &new_profile()),
        Err(Error::BadName { .. })
    ));
    let bad = NewProfile {
        checkpoints: "relative/ck".to_owned(),
        ..NewProfile::default()
    };
    let e = init_text(Path::new(P), "dev", &bad)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("profile `dev`, checkpoints: `relative/ck` is a relative path"),
        "{e}"
    );
}

#[test]
fn append_profile_keeps_comments() {
    let init = init_text(Path::new(P), "dev", &new_profile()).unwrap();
    let block = render_profile("stage", &new_profile()).unwrap();
    let out = append_profile(&init, Path::new(P), "stage", &block).unwrap();
    assert!(out.starts_with(&init), "{out}");
    assert!(out.ends_with(&block));
    assert_eq!(parse(&out).unwrap().names(), ["dev", "stage"]);

    // Other indentation, a trailing comment, no final newline.
    let text = "# mine\nprofiles:   # all of them\n    a:\n        checkpoints: /a  # keep\n# end";
    let out = append_profile(
        text,
        Path::new(P),
        "b",
        &render_profile("b", &new_profile()).unwrap(),
    )
    .unwrap();
    assert!(
        out.starts_with(text)
            && out.contains("# keep")
            && out.contains("\n    b:\n        description:")
            && out.contains("\n            s3:\n                endpoint:"),
        "{out}"
    );
    assert_eq!(parse(&out).unwrap().names(), ["a", "b"]);

    // `profiles: {}` and empty files.
    let block = render_profile("b", &new_profile()).unwrap();
    let out = append_profile(
        "# top\nprofiles: {}  # none yet\n",
        Path::new(P),
        "b",
        &block,
    )
    .unwrap();
    assert!(
        out.starts_with("# top\nprofiles:  # none yet\n  b:\n"),
        "{out}"
    );
    let crlf = "profiles:\r\n  a:\r\n    checkpoints: /a\r\n";
    let out = append_profile(crlf, Path::new(P), "b", &block).unwrap();
    assert!(
        out.starts_with(crlf) && !out.replace("\r\n", "").contains('\n'),
        "{out:?}"
    );
    let out = append_profile("# nothing yet", Path::new(P), "b", &block).unwrap();
    assert!(out.starts_with("# nothing yet\nprofiles:\n  b:\n"), "{out}");
}

#[test]
fn append_profile_refuses() {
    let block = render_profile("a", &new_profile()).unwrap();
    let text = "profiles:\n  a:\n    checkpoints: /a\n";
    let e = append_profile(text, Path::new(P), "a", &block).unwrap_err();
    assert!(matches!(e, Error::ProfileExists { .. }), "{e}");
    assert_eq!(e.to_string(), format!("{P}: profile `a` already exists"));

    let block = render_profile("b", &new_profile()).unwrap();
    let text = "profiles:\n  a:\n    checkpoints: /a\ndefault: a\n";
    let e = append_profile(text, Path::new(P), "b", &block).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{P}: cannot add profile `b` automatically: `profiles:` is not the last top-level key; add it under `profiles:` by hand"
        )
    );
    let text = "profiles: {a: {checkpoints: /a}}\n";
    assert!(matches!(
        append_profile(text, Path::new(P), "b", &block),
        Err(Error::CannotAppend { .. })
    ));
    // An invalid file is reported as such, not rewritten.
    let e = append_profile(
        "profiles:\n  a: {checkpoint: /a}\n",
        Path::new(P),
        "b",
        &block,
    )
    .unwrap_err();
    assert!(e.to_string().starts_with(&format!("{P}:2:")), "{e}");
}

#[test]
fn anchors_and_merge_keys_work() {
    let text = "profiles:\n  prod:\n    checkpoints: s3://p/ck\n    storage: &s3\n      s3: { endpoint: http://x:1, path_style: true }\n  test:\n    checkpoints: s3://t/ck\n    storage: *s3\n";
    let c = parse(text).unwrap();
    assert_eq!(
        c.get("prod").unwrap().storage,
        c.get("test").unwrap().storage
    );
}

struct FakeEnv {
    vars: Vec<(&'static str, OsString)>,
    home: Option<PathBuf>,
}

impl Env for FakeEnv {
    fn var(&self, name: &str) -> Option<OsString> {
        self.vars
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    }
    fn home_dir(&self) -> Option<PathBuf> {
        self.home.clone()
    }
    fn config_dir(&self) -> Option<PathBuf> {
        self.home.as_ref().map(|h| h.join("AppData"))
    }
}

#[test]
fn config_file_rule() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let env = |vars: Vec<(&'static str, &str)>| FakeEnv {
        vars: vars
            .into_iter()
            .map(|(k, v)| (k, OsString::from(v)))
            .collect(),
        home: Some(PathBuf::from("/home/u")),
    };
    let all = env(vec![
        (CONFIG_ENV, "/etc/from-env.yaml"),
        ("XDG_CONFIG_HOME", "/xdg"),
    ]);
    let explicit = Path::new("/x/mine.yaml");
    assert_eq!(config_file_in(Some(explicit), &all).unwrap(), explicit);
    assert_eq!(
        config_file_in(Some(d), &all).unwrap(),
        d.join("profiles.yaml")
    );
    assert_eq!(
        config_file_in(None, &all).unwrap(),
        Path::new("/etc/from-env.yaml")
    );
    let dir_env = env(vec![(CONFIG_ENV, d.to_str().unwrap())]);
    assert_eq!(
        config_file_in(None, &dir_env).unwrap(),
        d.join("profiles.yaml")
    );
    let xdg = env(vec![(CONFIG_ENV, ""), ("XDG_CONFIG_HOME", "/xdg")]);
    assert_eq!(
        config_file_in(None, &xdg).unwrap(),
        Path::new("/xdg/flink-chk/profiles.yaml")
    );
    let relative_xdg = env(vec![("XDG_CONFIG_HOME", "rel")]);
    assert_eq!(
        config_file_in(None, &relative_xdg).unwrap(),
        Path::new("/home/u/.config/flink-chk/profiles.yaml")
    );
    let homeless = FakeEnv {
        vars: Vec::new(),
        home: None,
    };
    assert!(matches!(
        config_file_in(None, &homeless),
        Err(Error::NoConfigDir)
    ));
    assert_eq!(config_file_in(Some(explicit), &homeless).unwrap(), explicit);
}
