//! What commands show and decide, over parsed metadata and storage
//! listings: referenced files, state sizes, summaries, restore
//! compatibility, cleanup plans and their application.
//!
//! The rule this module follows: it may call [`crate::storage::Storage`]
//! (listings, reads, deletions through the trait), but never `std::fs`, and
//! it never prints. Progress and events go back to the caller through
//! closures; the CLI decides what to show. `tests::no_std_fs_or_printing`
//! keeps this true.

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
