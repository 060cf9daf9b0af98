//! Hidden `flink-chk generate`: writes the committed completion scripts and
//! man pages (`completions/`, `man/`). A test regenerates them and fails on drift.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap_complete::Shell;

/// Generate completion scripts and man pages into a directory.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// What to generate.
    #[arg(value_enum)]
    what: What,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum What {
    Completions,
    Man,
}

/// Runs the command.
pub fn run(args: GenerateArgs) -> Result<u8> {
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    match args.what {
        What::Completions => completions(&args.out_dir)?,
        What::Man => man(&args.out_dir)?,
    }
    Ok(super::exit::OK)
}

/// Writes one completion script per shell into `dir`.
pub fn completions(dir: &Path) -> Result<()> {
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ] {
        let mut cmd = super::command();
        clap_complete::generate_to(shell, &mut cmd, "flink-chk", dir)
            .with_context(|| format!("writing {shell} completions to {}", dir.display()))?;
    }
    Ok(())
}

/// Writes `flink-chk.1` and one page per visible subcommand into `dir`.
pub fn man(dir: &Path) -> Result<()> {
    let cmd = super::command();
    clap_mangen::generate_to(cmd, dir)
        .with_context(|| format!("writing man pages to {}", dir.display()))?;
    // clap_mangen also renders hidden subcommands; drop them.
    for sub in super::command()
        .get_subcommands()
        .filter(|s| s.is_hide_set())
    {
        let _ = std::fs::remove_file(dir.join(format!("flink-chk-{}.1", sub.get_name())));
    }
    Ok(())
}
