//! The guided selection: candidates grouped by job and kind, ticked in a
//! multi-select, large deletions confirmed by typing.

use std::collections::BTreeMap;

use anyhow::Result;

use super::super::context::Ctx;
use super::super::output;
use super::{LARGE_BYTES, LARGE_FILES};
use crate::analysis::cleanup::{Candidate, PlanFile, Reason};

/// One selectable group: a job's candidates of one kind.
struct Group {
    job: Option<String>,
    reason: Reason,
    candidates: Vec<usize>,
    files: u64,
    bytes: u64,
}

fn groups(plan: &PlanFile) -> Vec<Group> {
    let mut m: BTreeMap<(Option<String>, Reason), Group> = BTreeMap::new();
    for (i, c) in plan.candidates.iter().enumerate() {
        let g = m.entry((c.job.clone(), c.reason)).or_insert_with(|| Group {
            job: c.job.clone(),
            reason: c.reason,
            candidates: Vec::new(),
            files: 0,
            bytes: 0,
        });
        g.candidates.push(i);
        g.files += c.files;
        g.bytes = g.bytes.saturating_add(c.bytes);
    }
    m.into_values().collect()
}

/// The guided part: choose groups, then confirm. `None` when the answer is no.
pub(super) fn choose(plan: &PlanFile, ctx: &Ctx) -> Result<Option<Vec<Candidate>>> {
    let theme = dialoguer::theme::ColorfulTheme::default();
    let gs = groups(plan);
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
        return Ok(Some(Vec::new()));
    }
    let files: u64 = chosen.iter().map(|&i| gs[i].files).sum();
    let bytes: u64 = chosen.iter().map(|&i| gs[i].bytes).sum();
    let jobs: std::collections::BTreeSet<&Option<String>> =
        chosen.iter().map(|&i| &gs[i].job).collect();
    let whole_job = chosen.iter().any(|&i| {
        gs[i].candidates.iter().any(|&c| {
            let c = &plan.candidates[c];
            c.is_dir && c.reason == Reason::DroppedJob
        })
    });
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
    let mut idx: Vec<usize> = chosen
        .iter()
        .flat_map(|&i| gs[i].candidates.iter().copied())
        .collect();
    idx.sort_unstable();
    Ok(Some(
        idx.into_iter()
            .map(|i| plan.candidates[i].clone())
            .collect(),
    ))
}
