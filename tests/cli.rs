//! The single integration-test binary (see STYLE.md §14).
#![allow(clippy::print_stderr, clippy::unwrap_used)]

mod clean;
mod common;
mod completion;
mod conformance;
mod copy;
mod corpus;
mod deps;
mod diff;
mod generated;
mod hostile;
mod inspect;
mod inventory;
mod json_fields;
mod manifest;
mod object_stores;
mod oracle;
mod refs;
mod regressions;
mod replicate;
mod secrets;
mod simulation;
mod throttling;
mod truncation;
