//! Analysis over parsed metadata: referenced files, state sizes, summaries.
//! Pure functions over [`crate::metadata`] types; no printing, no I/O.

pub mod apply;
pub mod cleanup;
pub mod deps;
pub mod diff;
pub mod layout;
pub mod refs;
pub mod size;
pub mod snapshot;
pub mod states;
pub mod summary;
pub mod why;
