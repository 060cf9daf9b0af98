//! Copying and relocating snapshots with everything they need.
//!
//! * [`plan`] reads each snapshot, takes its closure (what `deps` lists),
//!   maps every file to the destination ([`map`]), rewrites `_metadata`
//!   ([`rewrite`], no I/O) and checks the rewrite by parsing it back.
//! * [`run`] copies the files (bounded concurrency, one byte budget from
//!   [`rate`], checksums while streaming, the source pinned to its planned
//!   size and time), verifies them, and only then publishes each `_metadata`
//!   if nothing is at its place — the checkpoints of one destination job
//!   directory by ascending id (`order`). [`record`] is the journal that
//!   makes a killed run resume without copying a verified file again.
//!
//! Nothing at a source is ever written, overwritten or deleted.

pub mod map;
mod order;
pub mod plan;
pub mod rate;
pub mod record;
pub mod replica;
pub mod rewrite;
pub mod round;
pub mod run;
pub mod stat;

pub use plan::{Layout, Plan, Request};

#[cfg(test)]
mod tests;
