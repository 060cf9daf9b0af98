//! Parse errors: every error names the byte offset in the file and the path of
//! fields being parsed when it happened (`operators[3].subtasks[1].managed_keyed.delegate`).

use std::fmt;

/// What went wrong, without position information.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended inside a field.
    #[error("unexpected end of data: {field} needs {needed} bytes, {available} left")]
    UnexpectedEof {
        /// Field being read.
        field: &'static str,
        /// Bytes the field needs.
        needed: u64,
        /// Bytes left in the input.
        available: u64,
    },
    /// The first four bytes are not Flink's metadata magic number.
    #[error(
        "not a Flink checkpoint/savepoint metadata file: magic number is {found:#010x}, expected 0x4960672d"
    )]
    BadMagic {
        /// The value found.
        found: u32,
    },
    /// Format versions 0 and 1 (Flink 1.1 and 1.2 savepoints).
    #[error("metadata version {0}: {hint}", hint = legacy_hint(.0))]
    LegacyVersion(u32),
    /// A version this build does not know.
    #[error(
        "unknown metadata version {0} (this flink-chk reads versions 2 to 6, written by Flink 1.3 to 2.x)"
    )]
    UnknownVersion(u32),
    /// A length or count read from the file is negative or larger than what remains.
    #[error("{field} is {value}, but only {remaining} bytes remain")]
    BadLength {
        /// Field holding the length.
        field: &'static str,
        /// The value read.
        value: i64,
        /// Bytes remaining after the field.
        remaining: u64,
    },
    /// A field holds a value outside its allowed range.
    #[error("invalid {field}: {value}")]
    InvalidValue {
        /// Field name.
        field: &'static str,
        /// Value and explanation.
        value: String,
    },
    /// An unknown handle type tag.
    #[error("unknown {namespace} handle type tag {tag}")]
    UnknownTag {
        /// `stream`, `keyed`, `operator` or `channel`.
        namespace: &'static str,
        /// The tag byte.
        tag: u8,
    },
    /// A string is not valid Java modified UTF-8.
    #[error("{field} is not valid modified UTF-8: {reason}")]
    BadUtf {
        /// Field name.
        field: &'static str,
        /// Reason.
        reason: &'static str,
    },
    /// The Java serialization stream at the end of a V4+ file could not be read.
    #[error("checkpoint properties (Java serialization): {0}")]
    JavaSerialization(String),
    /// Nesting deeper than any real file has.
    #[error("handles nested deeper than {0} levels")]
    TooDeep(u32),
}

fn legacy_hint(version: &u32) -> &'static str {
    if *version == 0 {
        "a Flink 1.1 savepoint, not readable by Flink >= 1.11; only Flink 1.1 to 1.3 can restore it (then take a new savepoint)"
    } else {
        "a Flink 1.2 savepoint, not readable by Flink >= 1.11; restore it with Flink 1.2 to 1.10 and take a new savepoint"
    }
}

/// A parse error at a byte offset, with the path of the field being parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Offset of the first byte of the field that failed, from the start of the input.
    pub offset: u64,
    /// Dotted path of the element being parsed (`operators[2].subtasks[0].managed_keyed`).
    pub path: String,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl Error {
    /// A new error at `offset` with an empty path.
    pub fn new(offset: u64, kind: ErrorKind) -> Self {
        Error {
            offset,
            path: String::new(),
            kind,
        }
    }

    /// Prefixes `segment` to the error's field path (called while unwinding).
    #[must_use]
    pub fn within(mut self, segment: impl fmt::Display) -> Self {
        self.path = prefix_path(segment, &self.path);
        self
    }
}

/// `segment` before a field path: `a` + `b.c` → `a.b.c`, `a` + `[1].c` →
/// `a[1].c`. Parser and writer errors both name fields this way.
pub(crate) fn prefix_path(segment: impl fmt::Display, path: &str) -> String {
    let seg = segment.to_string();
    match (path.is_empty(), path.starts_with('[')) {
        (true, _) => seg,
        (false, true) => format!("{seg}{path}"),
        (false, false) => format!("{seg}.{path}"),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at byte offset {} ({:#x})",
            self.kind, self.offset, self.offset
        )?;
        if !self.path.is_empty() {
            write!(f, " in {}", self.path)?;
        }
        Ok(())
    }
}

// `kind` is part of the Display text, so it is not repeated as a source.
impl std::error::Error for Error {}

/// Result alias for the metadata parser.
pub type Result<T, E = Error> = std::result::Result<T, E>;
