//! The guided selection: candidates grouped by job and kind, ticked in a
//! multi-select, large deletions confirmed by typing.

use std::collections::BTreeMap;

use anyhow::Result;

use super::super::context::Ctx;
use super::super::output;
use super::{LARGE_BYTES, LARGE_FILES};
use crate::analysis::cleanup::{Candidates, PlanFile, Reason};

/// One selectable group: a job's candidates of one kind.
struct Group {
    job: Option<String>,
    reason: Reason,
    files: u64,
    bytes: u64,
    /// A whole job directory among them.
    whole_job: bool,
}

/// The groups, read in one pass over the candidates (which may be on disk).
fn groups(plan: &PlanFile) -> Result<Vec<Group>> {
    let mut m: BTreeMap<(Option<String>, Reason), Group> = BTreeMap::new();
    for c in plan.candidates.iter()? {
        let c = c?;
        let g = m.entry((c.job.clone(), c.reason)).or_insert_with(|| Group {
            job: c.job.clone(),
            reason: c.reason,
            files: 0,
            bytes: 0,
            whole_job: false,
        });
        g.files += c.files;
        g.bytes = g.bytes.saturating_add(c.bytes);
        g.whole_job |= c.is_dir && c.reason == Reason::DroppedJob;
    }
    Ok(m.into_values().collect())
}

/// The guided part: choose groups, then confirm. `None` when the answer is no.
pub(super) fn choose(plan: &PlanFile, ctx: &Ctx) -> Result<Option<Candidates>> {
    let theme = dialoguer::theme::ColorfulTheme::default();
    let gs = groups(plan)?;
    let name = |job: &Option<String>| match job {
        Some(j) => match ctx.places.alias_of(j) {
            Some(a) => format!("{a} ({j})"),
            None => j.clone(),
        },
        None => "savepoints".to_owned(),
    };
    let items: Vec<String> = gs
        .iter()
        .map(|g| {
            format!(
                "{}: {} — {} files, {}",
                name(&g.job),
                g.reason.label(),
                g.files,
                output::bytes(g.bytes as i64)
            )
        })
        .collect();
    let chosen: Vec<usize> = if gs.len() == 1 {
        vec![0]
    } else {
        let defaults = vec![true; items.len()];
        let Some(c) = dialoguer::MultiSelect::with_theme(&theme)
            .with_prompt("Delete which? (space toggles, enter accepts, esc cancels)")
            .items(&items)
            .defaults(&defaults)
            .interact_opt()?
        else {
            return Ok(None);
        };
        c
    };
    if chosen.is_empty() {
        return Ok(Some(Candidates::default()));
    }
    let files: u64 = chosen.iter().map(|&i| gs[i].files).sum();
    let bytes: u64 = chosen.iter().map(|&i| gs[i].bytes).sum();
    let jobs: std::collections::BTreeSet<&Option<String>> =
        chosen.iter().map(|&i| &gs[i].job).collect();
    let whole_job = chosen.iter().any(|&i| gs[i].whole_job);
    let what = format!(
        "Delete {files} files ({}) from {} job(s)? They are checked again first.",
        output::bytes(bytes as i64),
        jobs.len()
    );
    let yes = dialoguer::Confirm::with_theme(&theme)
        .with_prompt(what)
        .default(false)
        .wait_for_newline(true)
        .interact_opt()?
        .unwrap_or(false);
    if !yes {
        return Ok(None);
    }
    if bytes >= LARGE_BYTES || files >= LARGE_FILES || whole_job {
        let (prompt, expected): (String, Vec<String>) = match jobs.iter().next() {
            Some(Some(j)) if jobs.len() == 1 => {
                let mut e = vec![j.clone()];
                e.extend(ctx.places.alias_of(j).map(str::to_owned));
                (
                    format!("This is a large deletion. Type the job id ({j}) to go on"),
                    e,
                )
            }
            _ => (
                format!("This is a large deletion. Type the number of files ({files}) to go on"),
                vec![files.to_string()],
            ),
        };
        let typed: String = dialoguer::Input::with_theme(&theme)
            .with_prompt(prompt)
            .allow_empty(true)
            .interact_text()?;
        if !expected.iter().any(|e| e == typed.trim()) {
            output::warn("that does not match");
            return Ok(None);
        }
    }
    let keys: std::collections::BTreeSet<(&Option<String>, Reason)> =
        chosen.iter().map(|&i| (&gs[i].job, gs[i].reason)).collect();
    Ok(Some(
        plan.candidates
            .filter(|c| keys.contains(&(&c.job, c.reason)))?,
    ))
}
