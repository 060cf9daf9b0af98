//! What commands show and decide, over parsed metadata and storage
//! listings: referenced files, state sizes, summaries, restore
//! compatibility, cleanup plans and their application.
//!
//! The rule this module follows: it may call [`crate::storage::Storage`]
//! (listings, reads, deletions through the trait), but never `std::fs`, and
//! it never prints. Progress and events go back to the caller through
//! closures; the CLI decides what to show. `tests::no_std_fs_or_printing`
//! keeps this true.

pub mod cleanup;
pub mod deps;
pub mod diff;
pub mod export;
pub mod inventory;
pub mod layout;
pub mod refs;
pub mod size;
pub mod snapshot;
pub mod states;
pub mod summary;
pub mod why;

#[cfg(test)]
mod tests {
    /// What library code under `src/analysis` must not name: file-system
    /// access (storage goes through the `Storage` trait), printing, and the
    /// CLI's crates.
    const FORBIDDEN: &[&str] = &[
        "std::fs",
        "fs::",
        "File::",
        "print!",
        "println!",
        "eprint!",
        "eprintln!",
        "dbg!",
        "stdout()",
        "stderr()",
        "clap::",
        "dialoguer",
        "indicatif",
        "anstream",
        "anyhow",
    ];

    /// The offending lines of one file's text, up to its `#[cfg(test)]`
    /// part (tests may use the file system).
    fn offences(text: &str) -> Vec<String> {
        text.lines()
            .take_while(|l| l.trim() != "#[cfg(test)]")
            .filter(|l| !l.trim_start().starts_with("//"))
            .filter(|l| FORBIDDEN.iter().any(|f| names(l, f)))
            .map(str::to_owned)
            .collect()
    }

    /// Whether `line` names `word` as a whole path segment (`refs::` does
    /// not name `fs::`).
    fn names(line: &str, word: &str) -> bool {
        line.match_indices(word).any(|(i, _)| {
            !line[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    }

    #[test]
    fn the_check_catches_what_it_looks_for() {
        assert!(offences("use super::refs::{self, Ref};").is_empty());
        assert!(!offences("use std::{fs::File};").is_empty());
        assert_eq!(
            offences("let x = std::fs::read(p);"),
            ["let x = std::fs::read(p);"]
        );
        assert_eq!(offences("println!(\"x\");"), ["println!(\"x\");"]);
        assert!(offences("// std::fs in a comment").is_empty());
        assert!(offences("#[cfg(test)]\nmod tests { std::fs::read(p); }").is_empty());
    }

    #[test]
    fn no_std_fs_or_printing() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/analysis");
        let mut stack = vec![dir];
        let mut checked = 0;
        let mut bad = Vec::new();
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    // `tests/` directories are test code.
                    if p.file_name().is_some_and(|n| n != "tests") {
                        stack.push(p);
                    }
                } else if p.extension().is_some_and(|x| x == "rs") {
                    checked += 1;
                    let text = std::fs::read_to_string(&p).unwrap();
                    bad.extend(
                        offences(&text)
                            .into_iter()
                            .map(|l| format!("{}: {l}", p.display())),
                    );
                }
            }
        }
        assert!(checked >= 15, "only {checked} files found");
        assert!(
            bad.is_empty(),
            "analysis must not do file-system I/O or print:\n{}",
            bad.join("\n")
        );
    }
}
