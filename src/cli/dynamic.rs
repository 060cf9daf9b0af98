//! Values completed at TAB time (`source <(COMPLETE=bash flink-chk)`):
//! profile names, job aliases, `ALIAS@latest` and checkpoint ids. Best
//! effort: anything that fails or takes longer than a moment completes
//! nothing rather than hanging the shell.

use std::ffi::OsStr;
use std::time::Duration;

use clap_complete::engine::{CompletionCandidate, PathCompleter, ValueCompleter};

use crate::profile;
use crate::resolve;
use crate::storage::{Location, Storages};

/// How long a completion may spend listing checkpoint ids.
const LIST_TIMEOUT: Duration = Duration::from_millis(1500);

fn config() -> Option<profile::Config> {
    let path = profile::config_file(None).ok()?;
    profile::Config::load(&path).ok()
}

/// Profile names.
pub fn profiles(current: &OsStr) -> Vec<CompletionCandidate> {
    let cur = current.to_string_lossy();
    let Some(c) = config() else {
        return Vec::new();
    };
    c.profiles()
        .filter(|(name, _)| name.starts_with(cur.as_ref()))
        .map(|(name, p)| {
            let mut cand = CompletionCandidate::new(name.to_owned());
            if let Some(d) = &p.description {
                cand = cand.help(Some(d.clone().into()));
            }
            cand
        })
        .collect()
}

/// Job aliases (`orders`, `orders@latest`, `orders@chk-42`), then paths.
pub fn targets(current: &OsStr) -> Vec<CompletionCandidate> {
    let cur = current.to_string_lossy().into_owned();
    let mut out = Vec::new();
    if let Some(c) = config() {
        let selected = std::env::var("FLINK_CHK_PROFILE").ok();
        if let Ok((_, p)) = c.profile(selected.as_deref()) {
            match cur.split_once('@') {
                None => {
                    for j in &p.jobs {
                        if j.alias.starts_with(&cur) {
                            out.push(
                                CompletionCandidate::new(j.alias.clone())
                                    .help(Some(j.id.clone().into())),
                            );
                        }
                    }
                }
                Some((alias, _)) => {
                    if let Some(j) = p.jobs.iter().find(|j| j.alias == alias) {
                        out.push(CompletionCandidate::new(format!("{alias}@latest")));
                        let ids = checkpoint_ids(&p.checkpoints, &j.id, p.storage.clone());
                        out.extend(
                            ids.into_iter()
                                .rev()
                                .map(|id| CompletionCandidate::new(format!("{alias}@chk-{id}"))),
                        );
                        out.retain(|c| c.get_value().to_string_lossy().starts_with(&cur));
                    }
                }
            }
        }
    }
    if !cur.contains('@') && !cur.contains("://") {
        out.extend(PathCompleter::any().complete(current));
    }
    out
}

fn checkpoint_ids(root: &Location, job: &str, settings: crate::storage::Settings) -> Vec<u64> {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Vec::new();
    };
    let storages = Storages::new(settings);
    let job_dir = root.join(job);
    rt.block_on(async {
        tokio::time::timeout(LIST_TIMEOUT, resolve::checkpoints(&job_dir, &storages))
            .await
            .ok()
            .and_then(Result::ok)
            .map(|v| {
                v.into_iter()
                    .filter(|(_, m)| *m)
                    .map(|(id, _)| id)
                    .collect()
            })
            .unwrap_or_default()
    })
}
