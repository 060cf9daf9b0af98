//! The single integration-test binary (see STYLE.md §14).

mod common;
mod corpus;
mod generated;
mod oracle;
