//! Flink checkpoint / savepoint `_metadata` parser.
//!
//! [`parse`] turns the bytes of a `_metadata` file into a lossless
//! [`CheckpointMetadata`]; [`write`] turns it back into identical bytes, or
//! refuses with a [`WriteError`] a model that no file can represent. [`walk`]
//! is the one traversal of the handle tree (shared and mutable), and [`tags`]
//! names the magic numbers and handle tags. The module does no I/O: callers
//! read the file and resolve the paths it names.
//!
//! Every error carries the byte offset of the failing field and the path of
//! elements being parsed. Lengths and counts read from the input are checked
//! against the remaining bytes before anything is allocated, so hostile input
//! cannot make the parser allocate more than a small multiple of its size.
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

pub mod error;
pub mod javaser;
pub mod jstring;
pub mod model;
mod parse;
mod properties;
pub mod reader;
pub mod tags;
#[cfg(test)]
mod tests;
pub mod walk;
mod write;

pub use error::{Error, ErrorKind, Result};
pub use jstring::JavaString;
pub use model::*;
pub use parse::{parse, parse_header};
pub use reader::ByteReader;
pub use tags::MAGIC;
pub use write::{WriteError, WriteErrorKind, write};
