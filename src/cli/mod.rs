//! Command-line front end.
use std::process::ExitCode;
/// Entry point.
pub fn main() -> ExitCode { ExitCode::SUCCESS }
