//! Shared output helpers: sizes, tables, styles, errors. Data goes to stdout,
//! diagnostics to stderr; colour only where anstream allows it (terminal,
//! NO_COLOR unset, or --color always).

use std::io::Write;

use anstyle::{AnsiColor, Style};
use comfy_table::{ContentArrangement, Table, presets};

/// Bold style for headings.
pub const BOLD: Style = Style::new().bold();
/// Dim style for secondary text.
pub const DIM: Style = Style::new().dimmed();
/// Red bold style for errors.
pub const ERR: Style = AnsiColor::Red.on_default().bold();
/// Yellow style for warnings.
pub const WARN: Style = AnsiColor::Yellow.on_default();

/// Writes `path` whole or not at all: `write` fills `PATH.partial`, which
/// is flushed, synced and renamed to `path` when `write` succeeds, and
/// removed when it fails (a killed run leaves only the `.partial`).
pub fn write_whole<T>(
    path: &std::path::Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    use anyhow::Context as _;
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
    let done = write(&mut w).and_then(|t| {
        w.flush()?;
        w.get_ref().sync_all()?;
        std::fs::rename(&partial, path)
            .with_context(|| format!("renaming {} to {}", partial.display(), path.display()))?;
        Ok(t)
    });
    if done.is_err() {
        drop(w);
        let _ = std::fs::remove_file(&partial);
    }
    done
}

/// Formats a byte count as `12.3 KiB` (exact bytes below 1 KiB; `?` for negative/unknown).
pub fn bytes(n: i64) -> String {
    crate::analysis::size::human(n)
}

/// Writes a command's JSON report to `out`, pretty-printed, with a final
/// newline.
///
/// The keys of every object are written in sorted order, at every level,
/// including the library types a report embeds (the metadata model, deps
/// groups, problems): the order the JSON interface has always had. The
/// report is therefore turned into a [`serde_json::Value`] first (whose maps
/// sort), so a report's field order in Rust is free to follow its meaning.
pub fn print_json(out: &mut impl Write, report: &impl serde::Serialize) -> anyhow::Result<()> {
    let v = serde_json::to_value(report)?;
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)?;
    Ok(())
}

/// A borderless table that keeps its natural width (no wrapping when piped).
pub fn table<I: IntoIterator<Item = &'static str>>(header: I) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header);
    t
}

/// Writes a table, trimming the padding comfy-table leaves on each line.
pub fn write_table(out: &mut impl Write, t: &Table) -> std::io::Result<()> {
    for line in t.to_string().lines() {
        let line = line.strip_prefix(' ').unwrap_or(line);
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// `s` with control characters escaped (`\r`, `\u{1b}`, …), for human
/// output: a file name cannot move the cursor, rewrite its own line or
/// change the terminal's colours. JSON output escapes them by itself.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    escape_controls(s, false)
}

fn escape_controls(s: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c.is_control() && !(keep_newlines && c == '\n');
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Prints an error with its causes to stderr (control characters escaped).
pub fn error(err: &mut impl Write, e: &anyhow::Error) -> std::io::Result<()> {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        // Errors that print their source in their own message
        // (`{location}: {source}`) would otherwise say it twice.
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    writeln!(err, "{ERR}error:{ERR:#} {}", escape_controls(&text, true))
}

/// Prints a hint line to stderr.
pub fn hint(msg: &str) {
    let mut err = anstream::stderr();
    let _ = writeln!(err, "{DIM}hint:{DIM:#} {}", escape_controls(msg, true));
}

/// Prints a warning line to stderr.
pub fn warn(msg: &str) {
    let mut err = anstream::stderr();
    let _ = writeln!(err, "{WARN}warning:{WARN:#} {}", escape_controls(msg, true));
}

/// Prints a note line to stderr.
pub fn note(msg: &str) {
    let mut err = anstream::stderr();
    let _ = writeln!(err, "{}", escape_controls(msg, true));
}

/// A progress bar to `total` on stderr, only when stderr is a terminal.
pub fn progress_bar(total: u64, label: &str) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new(total);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {pos}/{len} files {elapsed} (eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_message(label.to_owned());
    Some(pb)
}

/// Runs `f` with a `(phase, count)` reporter that drives a spinner on
/// stderr (on a terminal), cleared when `f` returns.
pub fn with_phases<T>(label: &str, f: impl FnOnce(&mut dyn FnMut(&str, u64)) -> T) -> T {
    let pb = progress(label);
    let out = f(&mut |what, n| {
        if let Some(pb) = &pb {
            pb.set_message(what.to_owned());
            pb.set_position(n);
        }
    });
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    out
}

/// A spinner with a running count on stderr, only when stderr is a terminal.
pub fn progress(label: &str) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {pos} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    pb.set_message(label.to_owned());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(pb)
}

/// A UTC time as `2026-11-21 14:03:05`.
pub fn time(t: Option<jiff::Timestamp>) -> String {
    t.map_or_else(
        || "-".into(),
        |t| t.strftime("%Y-%m-%d %H:%M:%S").to_string(),
    )
}

/// How long ago `t` was, coarsely (`45s`, `12m`, `3h`, `9d`).
pub fn age(t: Option<jiff::Timestamp>, now: jiff::Timestamp) -> String {
    let Some(t) = t else { return "-".into() };
    let s = now.as_second().saturating_sub(t.as_second()).max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..172_800 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::bytes(0), "0 B");
        assert_eq!(super::bytes(1023), "1023 B");
        assert_eq!(super::bytes(1536), "1.5 KiB");
        assert_eq!(super::bytes(-1), "?");
    }
}
