//! Exit codes: one enum per command, and the one place that maps them to
//! numbers ([`Code::code`]) and to the words `--help` and the man pages use
//! ([`Code::meaning`]). The `after_help` texts of `flink-chk`, `deps`, `ls`,
//! `why` and `profile` are built from these tables; the tests below check
//! that every command's help names every code it can exit with, so the help
//! and the code cannot drift apart.
//!
//! 1 and 2 mean different things per command (a failed check, a declined
//! deletion, a restore that needs `--allowNonRestoredState`); 0, 3 and 64
//! mean the same everywhere (3 and 64 are set by `cli::main`).

/// An exit status with its number and its words for `--help`.
pub trait Code: Copy + 'static {
    /// Every value, in the order the help lists them.
    const ALL: &'static [Self];
    /// The process exit status.
    fn code(self) -> u8;
    /// What the status means, as `--help` says it (after the number).
    fn meaning(self) -> &'static str;
}

/// Defines an exit-code enum: variants with their number and help words.
macro_rules! codes {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $n:literal, $words:expr;)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vm])* $v,)*
        }

        impl Code for $name {
            const ALL: &'static [Self] = &[$($name::$v),*];
            fn code(self) -> u8 {
                match self {
                    $($name::$v => $n,)*
                }
            }
            fn meaning(self) -> &'static str {
                match self {
                    $($name::$v => $words,)*
                }
            }
        }

        impl From<$name> for u8 {
            fn from(c: $name) -> u8 {
                c.code()
            }
        }
    };
}

codes! {
    /// What every command can exit with; the only codes of `inspect`, `uid`,
    /// `completions` and `generate`.
    Exit {
        /// Success.
        Ok = 0, "success";
        /// The input could not be read or parsed (missing file, corrupt or
        /// unsupported metadata), or storage failed: an error was printed.
        Error = 3, "unreadable or invalid input or storage error";
        /// Invalid command-line arguments (clap printed why).
        Usage = 64, "usage error";
    }
}

/// [`Exit::Ok`], for the commands whose `run` returns a bare number
/// (`completions`, `generate`).
pub const OK: u8 = 0;

codes! {
    /// `deps`: whether `--verify` found every file.
    Deps {
        /// Success (with --verify: every file present with the right size).
        Ok = 0, "success (with --verify: every file present with the size its handle records)";
        /// `--verify` found missing or wrong-sized files.
        Failed = 1, "--verify found missing or wrong-sized files";
    }
}

codes! {
    /// `ls`: whether `--verify` found every file of every listed snapshot.
    Ls {
        /// Success (with --verify: every file of every snapshot present).
        Ok = 0, "success (with --verify: every file of every listed snapshot present with the size its \
handle records)";
        /// `--verify` found missing or wrong-sized files.
        Failed = 1, "--verify found missing or wrong-sized files";
    }
}

codes! {
    /// `why`: whether a snapshot in scope references the target. "Not
    /// referenced" is only claimed when proven; otherwise the command fails
    /// with [`Exit::Error`].
    Why {
        /// A snapshot in scope references it.
        Referenced = 0, "referenced (a _metadata in scope that cannot be read, or snapshots recorded under \
another root, are warned about)";
        /// None does, and every snapshot in scope was read where Flink recorded it.
        NotReferenced = 1, "referenced by none of the snapshots in scope (every _metadata read, every snapshot \
read where Flink recorded it)";
    }
}

codes! {
    /// `profile`: whether `profile check` reached every root.
    Profile {
        /// Success.
        Ok = 0, "success";
        /// `profile check` could not list a root.
        Unreachable = 1, "`profile check` could not reach a root";
    }
}

codes! {
    /// `diff`: the restore verdict.
    Diff {
        /// Flink restores OLD into the new job.
        Compatible = 0, "compatible: Flink restores OLD into the new job";
        /// Needs `--allowNonRestoredState` (or, with `--strict`, warnings).
        NeedsAllowNonRestoredState = 1, "needs --allowNonRestoredState";
        /// Flink refuses the restore, or the job fails right after it.
        Incompatible = 2, "incompatible: Flink refuses the restore";
    }
}

codes! {
    /// `safe-to-delete`.
    SafeToDelete {
        /// Plan made (--dry-run), nothing to delete, every selected deletion done, or the manifest written.
        Ok = 0, "plan shown (--dry-run), nothing to delete, every selected deletion done, or the manifest written (--emit-manifest)";
        /// Nothing deleted: the answer was no, or no terminal to ask and no --yes.
        Declined = 1, "nothing deleted (answered no, or no terminal and no --yes)";
        /// Some deletions failed (logged; a re-run plans what is left).
        Partial = 2, "some deletions failed";
    }
}

codes! {
    /// `copy` and `relocate`.
    Transfer {
        /// Every snapshot published (or already there), or the plan shown (--dry-run).
        Ok = 0, "every snapshot published (or already at the destination), or the plan shown (--dry-run)";
        /// Some snapshot was not published (a file failed, changed at the source, or differs at the destination).
        Partial = 1, "some snapshot was not published (a file failed, was missing, changed at the source while copying, or differs at the destination); its _metadata was not written";
    }
}

codes! {
    /// `replicate`.
    Replicate {
        /// Every wanted snapshot published (or already in the replica); the status shows the replica up to date; the promoted replica verified.
        Ok = 0, "every wanted snapshot published or already in the replica (--status: up to date; --promote: the replica verified)";
        /// Some snapshot was not published (retried next round), the replica is behind, or the promoted replica failed verification.
        Partial = 1, "some snapshot not published (a re-run resumes), --status: the replica is behind, --promote: the replica failed verification";
        /// Something else writes into the replica (a failover?): nothing copied.
        Failover = 2, "a job (or another tool) writes into the replica, a failover?; nothing was copied";
    }
}

/// `Exit codes: 0 …, 1 …, 3 …, 64 ….`: a command's own codes, then
/// [`Exit::Error`] (in the command's words) and [`Exit::Usage`].
fn exit_codes<C: Code>(sep: &str, usage_sep: &str, error: &str) -> String {
    let mut items: Vec<String> = C::ALL
        .iter()
        .map(|c| format!("{} {}", c.code(), c.meaning()))
        .collect();
    items.push(format!("{} {error}", Exit::Error.code()));
    format!(
        "Exit codes: {}{usage_sep}{} {}.",
        items.join(sep),
        Exit::Usage.code(),
        Exit::Usage.meaning()
    )
}

/// `after_help` of `flink-chk` itself.
pub fn main_help() -> String {
    let diff: Vec<String> = Diff::ALL
        .iter()
        .map(|c| {
            let short = c.meaning().split(':').next().unwrap_or_default();
            format!("{} {short}", c.code())
        })
        .collect();
    format!(
        "Exit codes: {} {}, {} a check failed (deps --verify, why), {} {}, {} {}; diff: {}.\n\
         Profiles: $XDG_CONFIG_HOME/flink-chk/profiles.yaml (see `flink-chk profile init`).\n\
         Run as `flink chk ...` with the shell function in the README.",
        Exit::Ok.code(),
        Exit::Ok.meaning(),
        Deps::Failed.code(),
        Exit::Error.code(),
        Exit::Error.meaning(),
        Exit::Usage.code(),
        Exit::Usage.meaning(),
        diff.join(", "),
    )
}

/// `after_help` of `deps`.
pub fn deps_help() -> String {
    exit_codes::<Deps>(", ", ", ", "unreadable input or storage error")
}

/// `after_help` of `ls`.
pub fn ls_help() -> String {
    exit_codes::<Ls>(
        ", ",
        ", ",
        "unreadable input or storage error (or --verify given a root instead of a job)",
    )
}

/// `after_help` of `why`.
pub fn why_help() -> String {
    exit_codes::<Why>(
        ", ",
        "; ",
        "nothing to search (no _metadata in scope), or no reference found but not proven: a _metadata in \
scope cannot be read, or snapshots record their files under another root (a copied or moved tree, a \
symlinked path; the --rebase to give is printed); unreadable input or storage error",
    )
}

/// `after_help` of `copy` and `relocate`.
pub fn copy_help() -> String {
    exit_codes::<Transfer>(
        ", ",
        ", ",
        "nothing copied: unreadable snapshot, unmapped path (the --map to give is printed), a rewrite refused, a source file missing or of the wrong size, or a storage error",
    )
}

/// `after_help` of `replicate`.
pub fn replicate_help() -> String {
    exit_codes::<Replicate>(
        ", ",
        ", ",
        "nothing replicated: unreadable sources or replica, a bad option, the replica overlapping a source, another replicate into the same destination, or a storage error",
    )
}

/// `after_help` of `refs export`.
pub fn refs_help() -> String {
    format!(
        "Exit codes: {} {} (the export written; with --emit-sql the script too), {} nothing written: \
unreadable kept metadata, a failed listing, a bad inventory report or a storage error, {} {}.",
        Exit::Ok.code(),
        Exit::Ok.meaning(),
        Exit::Error.code(),
        Exit::Usage.code(),
        Exit::Usage.meaning()
    )
}

/// `after_help` of `profile`.
pub fn profile_help() -> String {
    exit_codes::<Profile>(", ", ", ", "invalid profiles file or storage error")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after_help(path: &[&str]) -> String {
        let mut c = super::super::command();
        for name in path {
            c = c
                .find_subcommand(name)
                .unwrap_or_else(|| panic!("no subcommand {name}"))
                .clone();
        }
        c.get_after_help()
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    /// Every code a command exits with is in its help, with its words.
    fn names_every_code<C: Code>(help: &str, sep: &str) {
        for c in C::ALL {
            let want = format!("{}{sep}{}", c.code(), c.meaning());
            assert!(help.contains(&want), "{want:?} not in {help:?}");
        }
        for c in [Exit::Error, Exit::Usage] {
            assert!(
                help.contains(&format!("{} ", c.code())),
                "{c:?} in {help:?}"
            );
        }
    }

    #[test]
    fn help_names_every_exit_code() {
        names_every_code::<Deps>(&after_help(&["deps"]), " ");
        names_every_code::<Ls>(&after_help(&["ls"]), " ");
        names_every_code::<Why>(&after_help(&["why"]), " ");
        names_every_code::<Profile>(&after_help(&["profile"]), " ");
        names_every_code::<Diff>(&after_help(&["diff"]), "  ");
        names_every_code::<SafeToDelete>(&after_help(&["safe-to-delete"]), " ");
        names_every_code::<Transfer>(&after_help(&["copy"]), " ");
        names_every_code::<Transfer>(&after_help(&["relocate"]), " ");
        let main = after_help(&[]);
        names_every_code::<Exit>(&main, " ");
        for c in Diff::ALL {
            assert!(main.contains(&format!("{} ", c.code())));
        }
    }

    #[test]
    fn numbers() {
        let all: Vec<(u8, u8)> = [
            (Exit::Ok.code(), 0),
            (Exit::Error.code(), 3),
            (Exit::Usage.code(), 64),
            (OK, 0),
            (Deps::Failed.code(), 1),
            (Ls::Failed.code(), 1),
            (Why::NotReferenced.code(), 1),
            (Profile::Unreachable.code(), 1),
            (Diff::NeedsAllowNonRestoredState.code(), 1),
            (Diff::Incompatible.code(), 2),
            (SafeToDelete::Declined.code(), 1),
            (SafeToDelete::Partial.code(), 2),
            (Transfer::Partial.code(), 1),
        ]
        .into();
        for (got, want) in all {
            assert_eq!(got, want);
        }
    }
}
