//! `flink-chk completions <shell>`: print a completion script.

use anyhow::Result;
use clap_complete::Shell;

/// Print a shell completion script to stdout.
///
/// bash: `flink-chk completions bash > ~/.local/share/bash-completion/completions/flink-chk`;
/// zsh: `flink-chk completions zsh > "${fpath[1]}/_flink-chk"`;
/// fish: `flink-chk completions fish > ~/.config/fish/completions/flink-chk.fish`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

/// Runs the command.
pub fn run(args: CompletionsArgs) -> Result<u8> {
    let mut cmd = super::command();
    clap_complete::generate(args.shell, &mut cmd, "flink-chk", &mut std::io::stdout());
    Ok(super::exit::OK)
}
