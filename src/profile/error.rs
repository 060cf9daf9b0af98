//! The profile module's error type, and the small source snippet shown under
//! errors that point into `profiles.yaml`.

use std::fmt;
use std::path::{Path, PathBuf};

use super::mask;

/// A 1-based line and column in `profiles.yaml` (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1, in characters.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Errors from loading, validating, resolving and editing profiles.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file does not exist (the CLI suggests `flink-chk profile init`).
    #[error("{}: no such file", path.display())]
    NotFound {
        /// The file looked for.
        path: PathBuf,
    },
    /// Reading or inspecting the file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Invalid YAML, a mismatch with the schema (unknown or repeated key,
    /// wrong type) or an invalid value. Displays as `PATH:LINE:COLUMN: message`
    /// followed by the offending line.
    #[error("{}", invalid_text(path, *position, message, snippet))]
    Invalid {
        /// The file (or the name given to [`Config::parse`](super::Config::parse)).
        path: PathBuf,
        /// Where, when known.
        position: Option<Position>,
        /// What is wrong.
        message: String,
        /// The offending line with a caret under the column (empty when the
        /// position is unknown). Secret values on the line are masked.
        snippet: String,
    },
    /// No `--config`, no `FLINK_CHK_CONFIG`, and no home or config directory.
    #[error(
        "cannot find a place for profiles.yaml (no home directory); pass --config or set FLINK_CHK_CONFIG"
    )]
    NoConfigDir,
    /// A profile name that is not in the file.
    #[error("{}: no profile `{name}`; {}", path.display(), available_text(available))]
    UnknownProfile {
        /// The file.
        path: PathBuf,
        /// The name asked for.
        name: String,
        /// The profiles the file defines, in file order.
        available: Vec<String>,
    },
    /// No profile was named and none could be chosen: the file has no
    /// profiles, or several and no `default:`.
    #[error("{}: {}", path.display(), no_selection_text(available))]
    NoProfileSelected {
        /// The file.
        path: PathBuf,
        /// The profiles the file defines, in file order.
        available: Vec<String>,
    },
    /// `profile add` with a name the file already has.
    #[error("{}: profile `{name}` already exists", path.display())]
    ProfileExists {
        /// The file.
        path: PathBuf,
        /// The name.
        name: String,
    },
    /// A profile name or job alias that is not allowed.
    #[error("invalid {what} `{name}`: {reason}")]
    BadName {
        /// `profile name` or `job alias`.
        what: &'static str,
        /// The name as given.
        name: String,
        /// Why.
        reason: String,
    },
    /// The file's layout does not let `profile add` append a profile without
    /// rewriting it (which would lose the user's comments).
    #[error("{}: cannot add profile `{name}` automatically: {reason}; add it under `profiles:` by hand", path.display())]
    CannotAppend {
        /// The file.
        path: PathBuf,
        /// The profile to add.
        name: String,
        /// Why.
        reason: String,
    },
    /// Writing YAML failed (not expected to happen).
    #[error("cannot write YAML: {message}")]
    Serialize {
        /// The serializer's message.
        message: String,
    },
}

fn invalid_text(path: &Path, position: Option<Position>, message: &str, snippet: &str) -> String {
    let mut out = match position {
        Some(p) => format!("{}:{p}: {message}", path.display()),
        None => format!("{}: {message}", path.display()),
    };
    if !snippet.is_empty() {
        out.push('\n');
        out.push_str(snippet);
    }
    out
}

fn available_text(available: &[String]) -> String {
    if available.is_empty() {
        "the file defines no profiles".to_owned()
    } else {
        format!("available: {}", available.join(", "))
    }
}

fn no_selection_text(available: &[String]) -> String {
    if available.is_empty() {
        "defines no profiles; add one with `flink-chk profile add`".to_owned()
    } else {
        format!(
            "several profiles and no `default:`; pass --profile NAME or set FLINK_CHK_PROFILE (available: {})",
            available.join(", ")
        )
    }
}

/// The line at `pos` with a caret under the column, rustc style, secret
/// values masked (see [`super::mask`]):
///
/// ```text
///   |
/// 3 |     checkpoints: s3://b/c
///   |     ^
/// ```
pub(super) fn snippet(text: &str, pos: Position) -> String {
    let lines = mask::lines(text);
    let index = pos.line.saturating_sub(1);
    let Some(line) = lines.get(index) else {
        return String::new();
    };
    let line = mask::mask_line(line, &mask::context(&lines, index));
    let shown: String = line.chars().map(printable).collect();
    let pad: String = line
        .chars()
        .take(pos.column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let num = pos.line.to_string();
    let gutter = " ".repeat(num.len());
    format!("{gutter} |\n{num} | {shown}\n{gutter} | {pad}^")
}

fn printable(c: char) -> char {
    if c.is_control() && c != '\t' { '?' } else { c }
}

/// Makes control characters in a message visible (messages may quote the file).
pub(super) fn sanitize(message: &str) -> String {
    if message.chars().any(char::is_control) {
        message.escape_debug().to_string()
    } else {
        message.to_owned()
    }
}
