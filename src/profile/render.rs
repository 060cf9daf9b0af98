//! Writing profiles: masked display, new files (`profile init`), appending
//! (`profile add`, which keeps the user's comments by editing the text
//! instead of re-serializing the file), and the permission warning.

use std::path::Path;

use serde::Serialize;
use serde::ser::Serializer;

use super::template::{example_profile, header};
use super::{Config, Error, Profile, check_alias, check_profile_name, format_duration};
use crate::storage::Settings;

/// What `profile add` and `profile init` write. Values are checked when the
/// resulting text is parsed (by [`append_profile`] and [`init_text`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewProfile {
    /// Free text.
    pub description: Option<String>,
    /// Checkpoint root (required).
    pub checkpoints: String,
    /// Savepoint root.
    pub savepoints: Option<String>,
    /// Changelog root.
    pub changelog: Option<String>,
    /// Storage settings.
    pub storage: Settings,
    /// Job aliases as `(alias, job id)`.
    pub jobs: Vec<(String, String)>,
}

/// A profile as written out: the same shape for display and for new files.
#[derive(Serialize)]
struct View<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    checkpoints: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    savepoints: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    changelog: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage: Option<Settings>,
    #[serde(skip_serializing_if = "Ordered::is_empty")]
    jobs: Ordered<JobView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retention: Option<RetentionView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replication: Option<ReplicationView<'a>>,
}

#[derive(Serialize)]
struct ReplicationView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bwlimit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    job_bwlimit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<u8>,
    #[serde(skip_serializing_if = "Ordered::is_empty")]
    priorities: Ordered<u8>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum JobView<'a> {
    Id(&'a str),
    Full {
        id: &'a str,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        uids: &'a [String],
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<&'a str>,
    },
}

#[derive(Serialize)]
struct RetentionView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    keep_last: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_age: Option<String>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    keep: &'a [String],
}

/// A mapping serialized in the given order.
struct Ordered<V>(Vec<(String, V)>);

impl<V> Ordered<V> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V: Serialize> Serialize for Ordered<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

#[derive(Serialize)]
struct ConfigView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    default: Option<&'a str>,
    profiles: Ordered<View<'a>>,
}

fn masked_view(p: &Profile) -> View<'_> {
    let jobs = p.jobs.iter().map(|j| {
        let v = if j.uids.is_empty() && j.description.is_none() {
            JobView::Id(&j.id)
        } else {
            JobView::Full {
                id: &j.id,
                uids: &j.uids,
                description: j.description.as_deref(),
            }
        };
        (j.alias.clone(), v)
    });
    let r = &p.retention;
    View {
        description: p.description.as_deref(),
        checkpoints: p.checkpoints.to_string(),
        savepoints: p.savepoints.as_ref().map(ToString::to_string),
        changelog: p.changelog.as_ref().map(ToString::to_string),
        storage: (p.storage != Settings::default()).then(|| p.storage.masked()),
        jobs: Ordered(jobs.collect()),
        retention: (!r.is_empty()).then(|| RetentionView {
            keep_last: r.keep_last,
            min_age: r.min_age.map(format_duration),
            keep: &r.keep,
        }),
        replication: (p.replication != super::Replication::default()).then(|| {
            let r = &p.replication;
            ReplicationView {
                to: r.to.as_deref(),
                keep: r.keep,
                bwlimit: r.bwlimit.as_deref(),
                job_bwlimit: r.job_bwlimit.as_deref(),
                priority: r.priority,
                priorities: Ordered(r.priorities.clone()),
            }
        }),
    }
}

fn to_yaml<T: Serialize>(v: &T) -> Result<String, Error> {
    serde_saphyr::to_string(v).map_err(|e| Error::Serialize {
        message: e.to_string(),
    })
}

impl Config {
    /// The file as YAML with every secret replaced by `********`: the whole
    /// file (`default` and all profiles) for `None`, else `NAME:` and that
    /// profile. Comments are not kept; locations are shown normalized.
    pub fn to_masked_yaml(&self, name: Option<&str>) -> Result<String, Error> {
        match name {
            Some(n) => {
                let (n, p) = self.profile(Some(n))?;
                to_yaml(&Ordered(vec![(n.to_owned(), masked_view(p))]))
            }
            None => to_yaml(&ConfigView {
                default: self.default.as_deref(),
                profiles: Ordered(
                    self.profiles
                        .iter()
                        .map(|(n, p)| (n.clone(), masked_view(p)))
                        .collect(),
                ),
            }),
        }
    }
}

/// The YAML block for a new profile, indented for its place under
/// `profiles:` (two spaces) and ending in a newline.
pub fn render_profile(name: &str, p: &NewProfile) -> Result<String, Error> {
    let view = View {
        description: p.description.as_deref(),
        checkpoints: p.checkpoints.clone(),
        savepoints: p.savepoints.clone(),
        changelog: p.changelog.clone(),
        storage: (p.storage != Settings::default()).then(|| p.storage.clone()),
        jobs: Ordered(
            p.jobs
                .iter()
                .map(|(a, id)| (a.clone(), JobView::Id(id)))
                .collect(),
        ),
        retention: None,
        replication: None,
    };
    let yaml = to_yaml(&Ordered(vec![(name.to_owned(), view)]))?;
    Ok(indent(&yaml, 2))
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    let mut out = String::with_capacity(text.len() + 8 * by);
    for line in text.lines() {
        if !line.is_empty() {
            out.push_str(&pad);
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn check_new(name: &str, p: &NewProfile) -> Result<(), Error> {
    check_profile_name(name).map_err(|reason| Error::BadName {
        what: "profile name",
        name: name.to_owned(),
        reason,
    })?;
    for (alias, _) in &p.jobs {
        check_alias(alias).map_err(|reason| Error::BadName {
            what: "job alias",
            name: alias.clone(),
            reason,
        })?;
    }
    Ok(())
}

/// The text of a new `profiles.yaml` (`profile init`): the header, every
/// field documented in a commented-out example, then `default: NAME` and the
/// one profile. Validated before it is returned; `path` is used in messages.
pub fn init_text(path: &Path, name: &str, profile: &NewProfile) -> Result<String, Error> {
    check_new(name, profile)?;
    let mut out = String::from(header!());
    out.push_str(
        "#\n# Every field, with an example (remove the `#` to use one):\n#\n# profiles:\n",
    );
    for line in example_profile!().lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("\n# The profile used when none is named.\n");
    out.push_str(&format!(
        "default: {}\n\nprofiles:\n",
        to_yaml(&name)?.trim_end()
    ));
    out.push_str(&render_profile(name, profile)?);
    Config::parse(&out, path)?;
    Ok(out)
}

/// Adds a profile block (from [`render_profile`]) to the text of an
/// existing file without touching the rest, so comments survive. This works
/// when `profiles:` is the last top-level key (the layout `profile init`
/// writes): the block goes at the end, indented like the existing profiles.
/// Otherwise, and for a name already present, it is an error. The result is
/// parsed and checked before it is returned.
pub fn append_profile(
    existing: &str,
    path: &Path,
    name: &str,
    block: &str,
) -> Result<String, Error> {
    let cannot = |reason: &str| Error::CannotAppend {
        path: path.to_path_buf(),
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    check_profile_name(name).map_err(|reason| Error::BadName {
        what: "profile name",
        name: name.to_owned(),
        reason,
    })?;
    let before = Config::parse(existing, path)?;
    if before.get(name).is_some() {
        return Err(Error::ProfileExists {
            path: path.to_path_buf(),
            name: name.to_owned(),
        });
    }
    let lines: Vec<&str> = existing.lines().collect();
    if lines
        .iter()
        .any(|l| l.starts_with("---") || l.starts_with("..."))
    {
        return Err(cannot("the file uses YAML document markers"));
    }
    let top: Vec<usize> = (0..lines.len())
        .filter(|&i| {
            let l = lines[i];
            !l.is_empty() && !l.starts_with([' ', '\t', '#'])
        })
        .collect();
    // Keep the file's line endings.
    let nl = if existing.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let sep = if existing.is_empty() || existing.ends_with('\n') {
        ""
    } else {
        nl
    };
    let Some(&last) = top.last() else {
        // An empty file (or only comments): start the mapping after them.
        let added = format!("profiles:\n{block}").replace('\n', nl);
        return checked(
            format!("{existing}{sep}{added}"),
            block,
            path,
            name,
            &before,
        );
    };
    let Some(value) = strip_comment(lines[last]).strip_prefix("profiles:") else {
        return Err(cannot("`profiles:` is not the last top-level key"));
    };
    let value = value.trim();
    if value == "{}" {
        // `profiles: {}`: switch that line to block style, keeping its comment.
        let mut out = String::with_capacity(existing.len() + block.len());
        for (i, l) in lines.iter().enumerate() {
            if i == last {
                let pat = if l.contains(" {}") { " {}" } else { "{}" };
                out.push_str(l.replacen(pat, "", 1).trim_end());
            } else {
                out.push_str(l);
            }
            out.push_str(nl);
        }
        out.push_str(&reindent(block, 2).replace('\n', nl));
        return checked(out, block, path, name, &before);
    }
    if !value.is_empty() {
        return Err(cannot("`profiles:` is not written as an indented block"));
    }
    let width = lines[last + 1..]
        .iter()
        .map(|l| (l, l.trim_start_matches(' ')))
        .find(|(_, t)| !t.is_empty() && !t.starts_with('#'))
        .map_or(2, |(l, t)| l.len() - t.len());
    if width == 0 {
        return Err(cannot("the existing profiles are not indented"));
    }
    let added = reindent(block, width).replace('\n', nl);
    checked(
        format!("{existing}{sep}{added}"),
        block,
        path,
        name,
        &before,
    )
}

/// Returns `text` if it parses and has exactly the old profiles plus `name`,
/// which reads as `block` does on its own.
fn checked(
    text: String,
    block: &str,
    path: &Path,
    name: &str,
    before: &Config,
) -> Result<String, Error> {
    let after = Config::parse(&text, path)?;
    let mut expected = before.names();
    expected.push(name.to_owned());
    let alone = Config::parse(&format!("profiles:\n{block}"), path)?;
    if after.names() != expected || after.get(name) != alone.get(name) {
        return Err(Error::CannotAppend {
            path: path.to_path_buf(),
            name: name.to_owned(),
            reason: "the file's layout was not understood".to_owned(),
        });
    }
    Ok(text)
}

/// Re-indents a block rendered with two-space steps to `width`-space steps,
/// matching the file's existing profiles.
fn reindent(block: &str, width: usize) -> String {
    let mut out = String::with_capacity(block.len() * 2);
    for line in block.lines() {
        let body = line.trim_start_matches(' ');
        let n = line.len() - body.len();
        out.push_str(&" ".repeat(n / 2 * width + n % 2));
        out.push_str(body);
        out.push('\n');
    }
    out
}

/// A line without a trailing ` # comment` (good enough for a key line).
fn strip_comment(line: &str) -> &str {
    match line.find(" #") {
        Some(i) => line[..i].trim_end(),
        None => line.trim_end(),
    }
}

/// A warning when `path` can be read by other users (group or other read
/// bits) and the file holds secrets, naming them; `None` otherwise and on
/// non-Unix systems.
pub fn secrets_readable_by_others(path: &Path, config: &Config) -> Option<String> {
    let secrets = config.secrets();
    if secrets.is_empty() {
        return None;
    }
    let mode = readable_mode(path)?;
    let list: Vec<String> = secrets
        .iter()
        .map(|(n, s)| format!("{n}: {}", s.join(", ")))
        .collect();
    Some(format!(
        "{} is readable by other users (mode {mode:04o}) and holds secrets ({}); run `chmod 600 {}`",
        path.display(),
        list.join("; "),
        path.display()
    ))
}

#[cfg(unix)]
fn readable_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
    (mode & 0o044 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn readable_mode(_: &Path) -> Option<u32> {
    None
}
