//! The `flink-chk` binary: parse arguments and hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    flink_chk::cli::main()
}
