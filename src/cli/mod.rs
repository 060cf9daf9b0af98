//! Command-line front end: argument definitions and dispatch. The only place
//! that uses `anyhow`; library modules return typed errors.

mod completions;
mod context;
mod copy;
mod deps;
mod diff;
mod dynamic;
mod exit;
mod generate;
mod inspect;
mod ls;
mod output;
mod profile;
mod refs;
mod replicate;
mod safe_to_delete;
mod uid;
mod why;

use std::io::Write as _;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use exit::Exit;

/// Inspect Apache Flink checkpoints and savepoints offline: what a snapshot
/// holds, which files it needs, and which OperatorIDs belong to which uids.
#[derive(Debug, Parser)]
#[command(
    name = "flink-chk",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(after_help = exit::main_help())]
pub struct Cli {
    /// When to use colour: auto (a terminal and NO_COLOR unset), always, never.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,
    #[command(flatten)]
    global: context::Global,
    #[command(subcommand)]
    command: Command,
}

/// Colour choice.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal unless NO_COLOR is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    Inspect(inspect::InspectArgs),
    Ls(ls::LsArgs),
    Deps(deps::DepsArgs),
    Diff(diff::DiffArgs),
    Why(why::WhyArgs),
    #[command(name = "safe-to-delete")]
    SafeToDelete(safe_to_delete::SafeToDeleteArgs),
    Copy(copy::CopyArgs),
    Relocate(copy::RelocateArgs),
    Replicate(replicate::ReplicateArgs),
    Refs(refs::RefsArgs),
    Profile(profile::ProfileArgs),
    Uid(uid::UidArgs),
    Completions(completions::CompletionsArgs),
    #[command(hide = true)]
    Generate(generate::GenerateArgs),
}

/// The clap command (for completions and man pages).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Parses the process arguments, runs the command, maps errors to exit codes.
pub fn main() -> ExitCode {
    clap_complete::CompleteEnv::with_factory(command).complete();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            };
            let _ = e.print();
            return ExitCode::from(u8::from(code));
        }
    };
    match cli.color {
        ColorChoice::Always => anstream::ColorChoice::Always.write_global(),
        ColorChoice::Never => anstream::ColorChoice::Never.write_global(),
        ColorChoice::Auto => {}
    }
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(u8::from(Exit::Ok)),
        Err(e) => {
            // Redacted again here, whatever the error came from: no URL
            // credentials or SAS tokens in logs.
            let mut text = Vec::new();
            let _ = output::error(&mut text, &e);
            let text = String::from_utf8_lossy(&text);
            let mut err = anstream::stderr();
            let _ = err.write_all(crate::storage::redact::redact(&text).as_bytes());
            ExitCode::from(u8::from(Exit::Error))
        }
    }
}

/// Runs the command; its outcome as the process exit status (each command's
/// codes are in [`exit`]).
fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Inspect(args) => inspect::run(args, &cli.global).map(u8::from),
        Command::Ls(args) => ls::run(args, &cli.global).map(u8::from),
        Command::Deps(args) => deps::run(args, &cli.global).map(u8::from),
        Command::Diff(args) => diff::run(args, &cli.global).map(u8::from),
        Command::Why(args) => why::run(args, &cli.global).map(u8::from),
        Command::SafeToDelete(args) => safe_to_delete::run(args, &cli.global).map(u8::from),
        Command::Copy(args) => copy::run_copy(args, &cli.global).map(u8::from),
        Command::Relocate(args) => copy::run_relocate(args, &cli.global).map(u8::from),
        Command::Replicate(args) => replicate::run(args, &cli.global).map(u8::from),
        Command::Refs(args) => refs::run(args, &cli.global).map(u8::from),
        Command::Profile(args) => profile::run(args, &cli.global).map(u8::from),
        Command::Uid(args) => uid::run(args).map(u8::from),
        Command::Completions(args) => completions::run(args),
        Command::Generate(args) => generate::run(args),
    }
}

pub(crate) fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}
