//! The file as serde sees it, with source locations, and its validation into
//! the public [`Config`].
//!
//! serde-saphyr rejects duplicate keys at every level (policy set explicitly
//! below), unknown fields (`deny_unknown_fields`) and wrong types, with line
//! and column. What remains is checked here, where [`Spanned`] values (and
//! spanned map keys, via [`Entries`]) give the position of each bad value.

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::{MessageFormatter, Spanned};

use super::error::{sanitize, snippet};
use super::mask;
use super::{
    Config, Error, Job, Position, Profile, Replication, Retention, normalize_job_id, parse_duration,
};
use crate::storage::Settings;
use crate::storage::redact::redact;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    default: Option<Spanned<String>>,
    #[serde(default)]
    profiles: Entries<RawProfile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    #[serde(default)]
    description: Option<String>,
    checkpoints: Spanned<String>,
    #[serde(default)]
    savepoints: Option<Spanned<String>>,
    #[serde(default)]
    changelog: Option<Spanned<String>>,
    #[serde(default)]
    storage: Option<Settings>,
    #[serde(default)]
    jobs: Entries<Spanned<RawJob>>,
    #[serde(default)]
    retention: Option<RawRetention>,
    #[serde(default)]
    replication: Option<RawReplication>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReplication {
    #[serde(default)]
    to: Option<Spanned<String>>,
    #[serde(default)]
    keep: Option<Spanned<u32>>,
    #[serde(default)]
    bwlimit: Option<Spanned<String>>,
    #[serde(default)]
    job_bwlimit: Option<Spanned<String>>,
    #[serde(default)]
    priority: Option<Spanned<u8>>,
    #[serde(default)]
    priorities: Entries<Spanned<u8>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    #[serde(default)]
    keep_last: Option<Spanned<u32>>,
    #[serde(default)]
    min_age: Option<Spanned<String>>,
    #[serde(default)]
    keep: Vec<Spanned<String>>,
}

/// A job: an id, or a mapping.
#[derive(Debug)]
enum RawJob {
    /// A string id; `None` when YAML read the scalar as a number or boolean
    /// (an all-digit id, or `123e456…`), whose exact text is then taken from
    /// the source via the span.
    Id(Option<String>),
    Full(RawJobFull),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJobFull {
    id: Spanned<String>,
    #[serde(default)]
    uids: Vec<Spanned<String>>,
    #[serde(default)]
    description: Option<String>,
}

impl<'de> Deserialize<'de> for RawJob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawJob;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a job id (32 hex characters) or a mapping with `id`")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawJob, E> {
                Ok(RawJob::Id(Some(s.to_owned())))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<RawJob, E> {
                Ok(RawJob::Id(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<RawJob, E> {
                Ok(RawJob::Id(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<RawJob, E> {
                Ok(RawJob::Id(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<RawJob, E> {
                Ok(RawJob::Id(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<RawJob, A::Error> {
                RawJobFull::deserialize(de::value::MapAccessDeserializer::new(m)).map(RawJob::Full)
            }
        }
        d.deserialize_any(V)
    }
}

/// A mapping read in file order with the position of each key. (Duplicate
/// keys never get here: the parser rejects them.)
#[derive(Debug)]
struct Entries<V>(Vec<(Spanned<String>, V)>);

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Entries::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(Vis(PhantomData))
    }
}

/// Parses and validates the text of a `profiles.yaml`.
pub(super) fn parse(text: &str, path: &Path) -> Result<Config, Error> {
    let options = serde_saphyr::options! {
        // The default, but relied on: two `prod:` profiles must not merge.
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        // Snippets are rendered by us, with the file name and secrets masked.
        with_snippet: false,
    };
    let raw: Option<RawConfig> = serde_saphyr::from_str_with_options(text, options)
        .map_err(|e| yaml_error(&e, text, path))?;
    Ctx { text, path }.build(raw.unwrap_or_default())
}

fn yaml_error(e: &serde_saphyr::Error, text: &str, path: &Path) -> Error {
    let position = e.location().and_then(position);
    // A key is named only when it reads like a key; a value typed where a
    // key belongs may be a secret.
    let name = |k: &str| {
        if mask::name_is_shown(k) {
            format!("`{k}`")
        } else {
            "(not shown: it may be a secret)".to_owned()
        }
    };
    let message = match e.without_snippet() {
        serde_saphyr::Error::DuplicateMappingKey { key: Some(k), .. } => {
            let first = position
                .and_then(|p| first_occurrence(text, p, k))
                .map(|l| format!(" (first defined on line {l})"))
                .unwrap_or_default();
            format!("duplicate key {}{first}", name(k))
        }
        serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } => format!(
            "unknown field {}, expected one of {}",
            name(field),
            expected.join(", ")
        ),
        serde_saphyr::Error::SerdeUnknownVariant {
            variant, expected, ..
        } => format!(
            "unknown variant {}, expected one of {}",
            name(variant),
            expected.join(", ")
        ),
        serde_saphyr::Error::InvalidScalar { ty, .. } => match *ty {
            "u8" | "u16" | "u32" | "u64" | "usize" => "expected a whole number".to_owned(),
            "boolean" => "expected true or false".to_owned(),
            ty => format!("expected a value of type {ty}"),
        },
        _ => {
            let m = serde_saphyr::UserMessageFormatter
                .format_message(e)
                .into_owned();
            // Values the parser quotes (`invalid type: string "…"`) are
            // not repeated from where secrets may be.
            if position.is_none_or(|p| mask::sensitive(text, p.line)) {
                mask::quoted_values(&m)
            } else {
                m
            }
        }
    };
    let message = match message.as_str() {
        "expected mapping start" => "expected a mapping (`key: value` entries)".to_owned(),
        "expected string scalar" => "expected a string".to_owned(),
        _ => message,
    };
    invalid(text, path, position, sanitize(&message))
}

fn position(l: serde_saphyr::Location) -> Option<Position> {
    let (line, column) = (
        usize::try_from(l.line()).ok()?,
        usize::try_from(l.column()).ok()?,
    );
    (line > 0).then_some(Position {
        line,
        column: column.max(1),
    })
}

/// An error at `position`: the message without URL credentials, the
/// snippet with secrets masked.
fn invalid(text: &str, path: &Path, position: Option<Position>, message: String) -> Error {
    Error::Invalid {
        path: path.to_path_buf(),
        position,
        snippet: position.map(|p| snippet(text, p)).unwrap_or_default(),
        message: redact(&message).into_owned(),
    }
}

/// The line of the earlier `key:` in the same block mapping as the duplicate
/// at `dup` (best effort: block style only).
fn first_occurrence(text: &str, dup: Position, key: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().take(dup.line.saturating_sub(1)).collect();
    for (i, line) in lines.iter().enumerate().rev() {
        let body = line.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let col = line.len() - body.len() + 1;
        if col < dup.column {
            return None;
        }
        if col == dup.column {
            let k = body.split(':').next().unwrap_or_default().trim();
            if k.trim_matches(['"', '\'']) == key {
                return Some(i + 1);
            }
        }
    }
    None
}

struct Ctx<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Ctx<'_> {
    fn err(&self, at: &serde_saphyr::Location, message: String) -> Error {
        invalid(self.text, self.path, position(*at), message)
    }

    fn build(&self, raw: RawConfig) -> Result<Config, Error> {
        let mut profiles = Vec::with_capacity(raw.profiles.0.len());
        for (name, p) in raw.profiles.0 {
            if let Err(why) = super::check_profile_name(&name.value) {
                return Err(self.err(
                    &name.referenced,
                    format!("profile name `{}`: {why}", name.value),
                ));
            }
            let profile = self.profile(&name.value, p)?;
            profiles.push((name.value, profile));
        }
        let default = match raw.default {
            None => None,
            Some(d) if profiles.iter().any(|(n, _)| *n == d.value) => Some(d.value),
            Some(d) => {
                let names: Vec<&str> = profiles.iter().map(|(n, _)| n.as_str()).collect();
                let msg = format!(
                    "default: no profile `{}` (profiles: {})",
                    d.value,
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                );
                return Err(self.err(&d.referenced, msg));
            }
        };
        Ok(Config {
            path: self.path.to_path_buf(),
            default,
            profiles,
        })
    }

    fn profile(&self, name: &str, p: RawProfile) -> Result<Profile, Error> {
        let root = |field: &str, s: &Spanned<String>| {
            super::parse_root(&s.value)
                .map_err(|why| self.err(&s.referenced, format!("profile `{name}`, {field}: {why}")))
        };
        let checkpoints = root("checkpoints", &p.checkpoints)?;
        let savepoints = p
            .savepoints
            .as_ref()
            .map(|s| root("savepoints", s))
            .transpose()?;
        let changelog = p
            .changelog
            .as_ref()
            .map(|s| root("changelog", s))
            .transpose()?;
        let mut jobs: Vec<Job> = Vec::with_capacity(p.jobs.0.len());
        for (alias, job) in p.jobs.0 {
            let (job, id_at) = self.job(name, alias, job)?;
            if let Some(other) = jobs.iter().find(|j| j.id == job.id) {
                let msg = format!(
                    "profile `{name}`, jobs.{}: job {} already has the alias `{}`",
                    job.alias, job.id, other.alias
                );
                return Err(self.err(&id_at, msg));
            }
            jobs.push(job);
        }
        Ok(Profile {
            description: p.description,
            checkpoints,
            savepoints,
            changelog,
            storage: p.storage.unwrap_or_default(),
            jobs,
            retention: p
                .retention
                .map(|r| self.retention(name, r))
                .transpose()?
                .unwrap_or_default(),
            replication: p
                .replication
                .map(|r| self.replication(name, r))
                .transpose()?
                .unwrap_or_default(),
        })
    }

    /// A validated job and the position of its id.
    fn job(
        &self,
        profile: &str,
        alias: Spanned<String>,
        job: Spanned<RawJob>,
    ) -> Result<(Job, serde_saphyr::Location), Error> {
        let at = |what: &str| format!("profile `{profile}`, jobs.{}{what}", alias.value);
        if let Err(why) = super::check_alias(&alias.value) {
            return Err(self.err(
                &alias.referenced,
                format!("{}: invalid alias: {why}", at("")),
            ));
        }
        let (id, id_at, uids, description) = match job.value {
            RawJob::Id(s) => {
                let s = s.unwrap_or_else(|| self.source_text(&job.referenced));
                (s, job.referenced, Vec::new(), None)
            }
            RawJob::Full(f) => (f.id.value, f.id.referenced, f.uids, f.description),
        };
        let Some(id) = normalize_job_id(&id) else {
            return Err(self.err(
                &id_at,
                format!("{}: `{id}` is not a job id (32 hex characters)", at("")),
            ));
        };
        let mut seen: Vec<String> = Vec::with_capacity(uids.len());
        for uid in uids {
            if uid.value.is_empty() || seen.contains(&uid.value) {
                let why = if uid.value.is_empty() {
                    "empty uid".to_owned()
                } else {
                    format!("uid `{}` listed twice", uid.value)
                };
                return Err(self.err(&uid.referenced, format!("{}: {why}", at(".uids"))));
            }
            seen.push(uid.value);
        }
        let job = Job {
            alias: alias.value,
            id,
            uids: seen,
            description,
        };
        Ok((job, id_at))
    }

    fn retention(&self, profile: &str, r: RawRetention) -> Result<Retention, Error> {
        let at = |f: &str| format!("profile `{profile}`, retention.{f}");
        if let Some(k) = &r.keep_last
            && k.value == 0
        {
            return Err(self.err(
                &k.referenced,
                format!("{}: {}", at("keep_last"), super::KEEP_LAST_ZERO),
            ));
        }
        let min_age = match &r.min_age {
            Some(m) => Some(
                parse_duration(&m.value)
                    .map_err(|why| self.err(&m.referenced, format!("{}: {why}", at("min_age"))))?,
            ),
            None => None,
        };
        let mut keep = Vec::with_capacity(r.keep.len());
        for k in r.keep {
            if k.value.trim().is_empty() {
                return Err(self.err(&k.referenced, format!("{}: empty entry", at("keep"))));
            }
            keep.push(k.value);
        }
        Ok(Retention {
            keep_last: r.keep_last.map(|k| k.value),
            min_age,
            keep,
        })
    }

    fn replication(&self, profile: &str, r: RawReplication) -> Result<Replication, Error> {
        let at = |f: &str| format!("profile `{profile}`, replication.{f}");
        if let Some(k) = &r.keep
            && k.value == 0
        {
            return Err(self.err(
                &k.referenced,
                format!(
                    "{}: at least 1 (the newest replica is always kept)",
                    at("keep")
                ),
            ));
        }
        for (field, v) in [("bwlimit", &r.bwlimit), ("job_bwlimit", &r.job_bwlimit)] {
            if let Some(v) = v
                && let Err(e) = crate::transfer::rate::Schedule::parse(&v.value)
            {
                return Err(self.err(&v.referenced, format!("{}: {e}", at(field))));
            }
        }
        let prio = |p: &Spanned<u8>, f: &str| {
            if p.value > 9 {
                Err(self.err(&p.referenced, format!("{}: a priority is 0 to 9", at(f))))
            } else {
                Ok(p.value)
            }
        };
        let priority = r
            .priority
            .as_ref()
            .map(|p| prio(p, "priority"))
            .transpose()?;
        let mut priorities = Vec::with_capacity(r.priorities.0.len());
        for (job, p) in r.priorities.0 {
            let v = prio(&p, &format!("priorities.{}", job.value))?;
            priorities.push((job.value, v));
        }
        if let Some(t) = &r.to
            && t.value.trim().is_empty()
        {
            return Err(self.err(&t.referenced, format!("{}: empty", at("to"))));
        }
        Ok(Replication {
            to: r.to.map(|t| t.value),
            keep: r.keep.map(|k| k.value),
            bwlimit: r.bwlimit.map(|b| b.value),
            job_bwlimit: r.job_bwlimit.map(|b| b.value),
            priority,
            priorities,
        })
    }

    /// The exact source text of a plain scalar.
    fn source_text(&self, at: &serde_saphyr::Location) -> String {
        let span = at.span();
        let (Some(off), Some(len)) = (span.byte_offset(), span.byte_len()) else {
            return String::new();
        };
        let (Ok(off), Ok(len)) = (usize::try_from(off), usize::try_from(len)) else {
            return String::new();
        };
        self.text
            .get(off..off.saturating_add(len))
            .unwrap_or_default()
            .to_owned()
    }
}
