//! What every command shares: the selected profile, storage built from its
//! settings, a tokio runtime (the one place async code is driven), and the
//! resolution of what the user typed into a location.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result};

use crate::profile;
use crate::resolve::{self, Places, Target};
use crate::storage::{Location, Settings, Storages};

/// Options every command takes.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Global {
    /// Profile to use (default: the `default:` of the profiles file).
    #[arg(
        long,
        short = 'p',
        global = true,
        env = "FLINK_CHK_PROFILE",
        value_name = "NAME",
        add = clap_complete::engine::ArgValueCompleter::new(super::dynamic::profiles)
    )]
    pub profile: Option<String>,
    /// Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml].
    #[arg(long, global = true, env = "FLINK_CHK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Storage requests in flight at once [default: the profile's storage.concurrency, else 32].
    #[arg(long, global = true, value_name = "N")]
    pub concurrency: Option<usize>,
}

/// The run's shared state.
#[derive(Debug)]
pub struct Ctx {
    rt: Runtime,
    /// Storage for any location.
    pub storages: Arc<Storages>,
    /// Roots and aliases from the profile.
    pub places: Places,
    /// The profile in use (name and contents), if any.
    pub profile: Option<(String, profile::Profile)>,
}

impl Ctx {
    /// Loads the profile (if one is selected or a default exists) and sets up storage.
    pub fn new(g: &Global) -> Result<Self> {
        let (profile, settings) = select_profile(g)?;
        let mut settings = settings;
        if let Some(c) = g.concurrency {
            settings.concurrency = Some(c);
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let places = match &profile {
            Some((name, p)) => places(name, p)?,
            None => Places::default(),
        };
        Ok(Self {
            rt: Runtime(Some(rt)),
            storages: Arc::new(Storages::new(settings)),
            places,
            profile,
        })
    }

    /// Runs a future to completion.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.get().block_on(f)
    }

    /// Resolves what the user typed.
    pub fn resolve(&self, arg: &str) -> Result<Target> {
        Ok(self.block_on(resolve::resolve(arg, &self.places, self.storages.as_ref()))?)
    }

    /// Resolves an argument that names one snapshot: for a job, its latest
    /// completed checkpoint ([`resolve::snapshot`]), with a hint saying so.
    pub fn snapshot(&self, arg: &str) -> Result<Location> {
        let s = self.block_on(resolve::snapshot(arg, &self.places, self.storages.as_ref()))?;
        if s.latest_of_job {
            super::output::hint(&format!(
                "{arg} is a job; using its latest completed checkpoint {}",
                s.location.file_name()
            ));
        }
        Ok(s.location)
    }

    /// Requests in flight at once.
    pub fn concurrency(&self) -> usize {
        self.storages.concurrency()
    }
}

/// The runtime, shut down without waiting for blocking calls left behind
/// by a storage timeout (a stalled mount): dropping a tokio runtime would
/// wait for them forever.
#[derive(Debug)]
struct Runtime(Option<tokio::runtime::Runtime>);

impl Runtime {
    fn get(&self) -> &tokio::runtime::Runtime {
        match &self.0 {
            Some(rt) => rt,
            None => unreachable!("the runtime is only taken when dropped"),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_timeout(std::time::Duration::from_millis(200));
        }
    }
}

/// The profile named by `--profile`/`FLINK_CHK_PROFILE`, else the file's
/// default (or its only profile); none when no profiles file exists and none
/// was asked for.
fn select_profile(g: &Global) -> Result<(Option<(String, profile::Profile)>, Settings)> {
    let path = match profile::config_file(g.config.as_deref()) {
        Ok(p) => p,
        // No home directory and nothing configured: run without a profile.
        Err(_) if g.profile.is_none() => return Ok((None, Settings::default())),
        Err(e) => return Err(e.into()),
    };
    let config = match profile::Config::load(&path) {
        Ok(c) => c,
        Err(profile::Error::NotFound { .. }) if g.profile.is_none() && g.config.is_none() => {
            return Ok((None, Settings::default()));
        }
        Err(e @ profile::Error::NotFound { .. }) => {
            return Err(anyhow::Error::new(e)
                .context("no profiles file; create one with `flink-chk profile init`"));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(w) = profile::secrets_readable_by_others(&path, &config) {
        super::output::warn(&w);
    }
    if g.profile.is_none() && config.default_name().is_none() && config.names().len() != 1 {
        return Ok((None, Settings::default()));
    }
    let (name, p) = config.profile(g.profile.as_deref())?;
    let settings = p.storage.clone();
    Ok((Some((name.to_owned(), p.clone())), settings))
}

fn places(name: &str, p: &profile::Profile) -> Result<Places> {
    Ok(Places {
        profile: Some(name.to_owned()),
        checkpoints: Some(p.checkpoints.clone()),
        savepoints: p.savepoints.clone(),
        jobs: p
            .jobs
            .iter()
            .map(|j| (j.alias.clone(), j.id.clone()))
            .collect(),
    })
}
