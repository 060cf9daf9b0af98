//! `flink-chk profile`: list, show, create and check per-user profiles.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand};
use futures_util::StreamExt;
use serde::Serialize;

use super::context::Global;
use super::exit::Profile as Exit;
use super::output::{self, BOLD, DIM, ERR};
use crate::profile::{self, Config, NewProfile};
use crate::storage::redact::redact;
use crate::storage::{Location, S3Settings, Storage, Storages};

/// Manage profiles: named environments with checkpoint and savepoint roots,
/// storage settings, job aliases and retention.
///
/// The file is $XDG_CONFIG_HOME/flink-chk/profiles.yaml (else
/// ~/.config/flink-chk/profiles.yaml), or --config / FLINK_CHK_CONFIG.
#[derive(Debug, Args)]
#[command(after_help = super::exit::profile_help())]
pub struct ProfileArgs {
    #[command(subcommand)]
    command: ProfileCommand,
}

#[derive(Debug, Subcommand)]
enum ProfileCommand {
    /// List profiles.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one profile (secrets masked).
    Show {
        /// Profile name [default: --profile, else the default profile].
        #[arg(add = clap_complete::engine::ArgValueCompleter::new(super::dynamic::profiles))]
        name: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create the profiles file with one profile (asks on a terminal for what is not given).
    Init {
        /// Profile name.
        #[arg(long, default_value = "default")]
        name: String,
        #[command(flatten)]
        fields: Fields,
        /// Overwrite an existing profiles file.
        #[arg(long)]
        force: bool,
    },
    /// Add a profile to the profiles file (keeps its comments).
    Add {
        /// Profile name.
        name: String,
        #[command(flatten)]
        fields: Fields,
    },
    /// Validate the file and check that a profile's roots can be listed.
    Check {
        /// Profile name [default: every profile].
        #[arg(add = clap_complete::engine::ArgValueCompleter::new(super::dynamic::profiles))]
        name: Option<String>,
    },
    /// Print the profiles file's path.
    Path,
}

/// Values of a new profile.
#[derive(Debug, Args)]
struct Fields {
    /// Checkpoint root (Flink's execution.checkpointing.dir / state.checkpoints.dir).
    #[arg(long, value_name = "URI")]
    checkpoints: Option<String>,
    /// Savepoint root (execution.checkpointing.savepoint-dir / state.savepoints.dir).
    #[arg(long, value_name = "URI")]
    savepoints: Option<String>,
    /// Changelog (DSTL) base path (state.changelog.dstl.dfs.base-path).
    #[arg(long, value_name = "URI")]
    changelog: Option<String>,
    /// Description.
    #[arg(long)]
    description: Option<String>,
    /// S3 endpoint for S3-compatible stores (Flink's s3.endpoint).
    #[arg(long, value_name = "URL")]
    s3_endpoint: Option<String>,
    /// S3 region.
    #[arg(long, value_name = "REGION")]
    s3_region: Option<String>,
    /// Path-style S3 requests (s3.path.style.access).
    #[arg(long)]
    s3_path_style: bool,
    /// A job alias (repeatable).
    #[arg(long = "job", value_name = "ALIAS=JOB_ID")]
    jobs: Vec<String>,
}

impl Fields {
    fn into_new(self, interactive: bool) -> Result<NewProfile> {
        let ask = |prompt: &str, v: Option<String>, required: bool| -> Result<Option<String>> {
            if v.is_some() || !interactive {
                return Ok(v);
            }
            let mut input = dialoguer::Input::<String>::new().with_prompt(prompt);
            if !required {
                input = input.allow_empty(true);
            }
            let s = input.interact_text()?;
            Ok((!s.trim().is_empty()).then(|| s.trim().to_owned()))
        };
        let checkpoints = ask(
            "Checkpoint root (execution.checkpointing.dir)",
            self.checkpoints,
            true,
        )?
        .context("--checkpoints URI is required (the job's execution.checkpointing.dir)")?;
        let savepoints = ask(
            "Savepoint root (execution.checkpointing.savepoint-dir, empty for none)",
            self.savepoints,
            false,
        )?;
        let mut storage = crate::storage::Settings::default();
        if self.s3_endpoint.is_some() || self.s3_region.is_some() || self.s3_path_style {
            storage.s3 = Some(S3Settings {
                endpoint: self.s3_endpoint,
                region: self.s3_region,
                path_style: self.s3_path_style.then_some(true),
                ..S3Settings::default()
            });
        }
        let jobs = self
            .jobs
            .iter()
            .map(|j| match j.split_once('=') {
                Some((a, id)) => Ok((a.to_owned(), id.to_owned())),
                None => bail!("--job expects ALIAS=JOB_ID, got {j:?}"),
            })
            .collect::<Result<_>>()?;
        Ok(NewProfile {
            description: self.description,
            checkpoints,
            savepoints,
            changelog: self.changelog,
            storage,
            jobs,
        })
    }
}

/// Runs the command.
pub fn run(args: ProfileArgs, global: &Global) -> Result<Exit> {
    let path = profile::config_file(global.config.as_deref())?;
    let mut out = anstream::stdout();
    match args.command {
        ProfileCommand::Path => {
            writeln!(out, "{}", path.display())?;
            if !path.exists() {
                output::hint(
                    "the file does not exist yet; create it with `flink-chk profile init`",
                );
            }
        }
        ProfileCommand::List { json } => {
            let c = load(&path)?;
            if json {
                let profiles = c
                    .profiles()
                    .map(|(name, p)| ListedProfile {
                        name,
                        default: c.default_name() == Some(name),
                        description: p.description.as_deref(),
                        checkpoints: &p.checkpoints,
                        savepoints: p.savepoints.as_ref(),
                        jobs: p.jobs.iter().map(JobJson::from).collect(),
                    })
                    .collect();
                output::print_json(
                    &mut out,
                    &List {
                        path: &path,
                        profiles,
                    },
                )?;
            } else {
                let mut t = output::table([
                    "NAME",
                    "DEFAULT",
                    "CHECKPOINTS",
                    "SAVEPOINTS",
                    "JOBS",
                    "DESCRIPTION",
                ]);
                for (n, p) in c.profiles() {
                    t.add_row([
                        n.to_owned(),
                        if c.default_name() == Some(n) {
                            "*".into()
                        } else {
                            String::new()
                        },
                        p.checkpoints.to_string(),
                        p.savepoints
                            .as_ref()
                            .map_or_else(|| "-".into(), ToString::to_string),
                        p.jobs.len().to_string(),
                        p.description.clone().unwrap_or_default(),
                    ]);
                }
                output::write_table(&mut out, &t)?;
            }
        }
        ProfileCommand::Show { name, json } => {
            let c = load(&path)?;
            let name = name.or_else(|| global.profile.clone());
            let (n, p) = c.profile(name.as_deref())?;
            if json {
                let v = Shown {
                    name: n,
                    description: p.description.as_deref(),
                    checkpoints: &p.checkpoints,
                    savepoints: p.savepoints.as_ref(),
                    changelog: p.changelog.as_ref(),
                    storage: p.storage.masked(),
                    jobs: p
                        .jobs
                        .iter()
                        .map(|j| JobWithUids {
                            job: JobJson::from(j),
                            uids: &j.uids,
                        })
                        .collect(),
                    retention: RetentionJson {
                        keep_last: p.retention.keep_last,
                        min_age_seconds: p.retention.min_age.map(|d| d.as_secs()),
                        keep: &p.retention.keep,
                    },
                };
                output::print_json(&mut out, &v)?;
            } else {
                writeln!(out, "{DIM}# {} (secrets masked){DIM:#}", path.display())?;
                write!(out, "{}", c.to_masked_yaml(Some(n))?)?;
            }
        }
        ProfileCommand::Init {
            name,
            fields,
            force,
        } => {
            if path.exists() && !force {
                bail!(
                    "{} already exists; add a profile with `flink-chk profile add NAME --checkpoints URI`, or pass --force to overwrite it",
                    path.display()
                );
            }
            let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
            let new = fields.into_new(interactive)?;
            let text = profile::init_text(&path, &name, &new)?;
            write_private(&path, &text)?;
            writeln!(
                out,
                "wrote {} with profile {name} (the default)",
                path.display()
            )?;
            output::hint("try `flink-chk ls` to list the jobs under the checkpoint root");
        }
        ProfileCommand::Add { name, fields } => {
            let existing = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "reading {} (create it with `flink-chk profile init`)",
                    path.display()
                )
            })?;
            let new = fields.into_new(false)?;
            let block = profile::render_profile(&name, &new)?;
            let text = profile::append_profile(&existing, &path, &name, &block)?;
            write_private(&path, &text)?;
            writeln!(out, "added profile {name} to {}", path.display())?;
        }
        ProfileCommand::Check { name } => return check(&path, name.as_deref()),
    }
    Ok(Exit::Ok)
}

/// `profile list --json`.
#[derive(Serialize)]
struct List<'a> {
    /// The profiles file.
    path: &'a Path,
    profiles: Vec<ListedProfile<'a>>,
}

/// One profile of [`List`].
#[derive(Serialize)]
struct ListedProfile<'a> {
    name: &'a str,
    default: bool,
    description: Option<&'a str>,
    checkpoints: &'a Location,
    savepoints: Option<&'a Location>,
    jobs: Vec<JobJson<'a>>,
}

/// A job alias.
#[derive(Serialize)]
struct JobJson<'a> {
    alias: &'a str,
    id: &'a str,
}

impl<'a> From<&'a profile::Job> for JobJson<'a> {
    fn from(j: &'a profile::Job) -> Self {
        JobJson {
            alias: &j.alias,
            id: &j.id,
        }
    }
}

/// `profile show --json` (secrets masked).
#[derive(Serialize)]
struct Shown<'a> {
    name: &'a str,
    description: Option<&'a str>,
    checkpoints: &'a Location,
    savepoints: Option<&'a Location>,
    changelog: Option<&'a Location>,
    storage: crate::storage::Settings,
    jobs: Vec<JobWithUids<'a>>,
    retention: RetentionJson<'a>,
}

/// A job alias and its uids.
#[derive(Serialize)]
struct JobWithUids<'a> {
    #[serde(flatten)]
    job: JobJson<'a>,
    uids: &'a [String],
}

/// The `retention:` section.
#[derive(Serialize)]
struct RetentionJson<'a> {
    keep_last: Option<u32>,
    min_age_seconds: Option<u64>,
    keep: &'a [String],
}

fn load(path: &Path) -> Result<Config> {
    let c = Config::load(path).map_err(|e| match e {
        profile::Error::NotFound { .. } => anyhow::Error::new(e)
            .context("no profiles file; create one with `flink-chk profile init`"),
        e => e.into(),
    })?;
    if let Some(w) = profile::secrets_readable_by_others(path, &c) {
        output::warn(&w);
    }
    Ok(c)
}

/// Writes the file readable by its owner only (it may hold secrets).
fn write_private(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension("yaml.tmp");
    {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let mut f = o
            .open(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn check(path: &Path, name: Option<&str>) -> Result<Exit> {
    let c = load(path)?;
    let mut out = anstream::stdout();
    writeln!(
        out,
        "{}: valid, {} profile(s)",
        path.display(),
        c.names().len()
    )?;
    let names: Vec<String> = match name {
        Some(n) => vec![c.profile(Some(n))?.0.to_owned()],
        None => c.names(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut failed = false;
    for n in names {
        let (_, p) = c.profile(Some(&n))?;
        writeln!(out, "{BOLD}{n}{BOLD:#}")?;
        let storages = Storages::new(p.storage.clone());
        let roots = [
            ("checkpoints", Some(&p.checkpoints)),
            ("savepoints", p.savepoints.as_ref()),
            ("changelog", p.changelog.as_ref()),
        ];
        for (what, root) in roots {
            let Some(root) = root else { continue };
            match rt.block_on(probe(&storages, root)) {
                Ok(n) => writeln!(out, "  {what:<12} {root}  ok ({n} entries at the top)")?,
                Err(e) => {
                    failed = true;
                    let e = redact(&e.to_string()).into_owned();
                    writeln!(out, "  {what:<12} {root}  {ERR}FAILED{ERR:#}: {e}")?;
                }
            }
        }
    }
    Ok(if failed { Exit::Unreachable } else { Exit::Ok })
}

/// Lists the top of a root (up to 1000 entries).
async fn probe(s: &Storages, root: &Location) -> Result<usize, crate::storage::Error> {
    let mut l = s.list(root, false);
    let mut n = 0;
    while let Some(e) = l.next().await {
        e?;
        n += 1;
        if n >= 1000 {
            break;
        }
    }
    Ok(n)
}
