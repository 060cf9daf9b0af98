//! flink-chk: offline inspection of Apache Flink checkpoints and savepoints.
//!
//! * [`metadata`] parses `_metadata` files (every format version Flink 1.3 – 2.x
//!   writes) into a lossless model. No I/O.
//! * [`statemeta`] reads the serialization proxies at the start of state files to
//!   list state names and kinds. No I/O.
//! * [`analysis`] derives what commands show: referenced files, sizes, summaries.
//! * [`uid`] computes Flink OperatorIDs from user-set uids.
//! * [`cli`] is the command-line front end (the only place that uses `anyhow`).

pub mod analysis;
pub mod cli;
pub mod journal;
pub mod metadata;
pub mod names;
pub mod profile;
pub mod resolve;
pub mod spill;
pub mod statemeta;
pub mod storage;
#[cfg(test)]
mod testutil;
pub mod transfer;
pub mod uid;
