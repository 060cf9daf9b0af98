//! Where `profiles.yaml` lives.
//!
//! In order: the `--config` value, `$FLINK_CHK_CONFIG`,
//! `$XDG_CONFIG_HOME/flink-chk/profiles.yaml` (when that variable is set and
//! absolute, as the XDG spec asks), `~/.config/flink-chk/profiles.yaml` on Unix
//! (Linux and macOS alike, like kubectl, gh and the AWS CLI — not
//! `~/Library/Application Support`), else `dirs::config_dir()`. A `--config`
//! or `$FLINK_CHK_CONFIG` value naming an existing directory means
//! `DIR/profiles.yaml`.
//!
//! The environment is read through [`Env`], so tests can pass a fake one
//! instead of changing the process environment.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::Error;

/// The file name.
pub const FILE_NAME: &str = "profiles.yaml";
/// The directory under the config directory.
pub const APP_DIR: &str = "flink-chk";
/// The variable that overrides the file location.
pub const CONFIG_ENV: &str = "FLINK_CHK_CONFIG";
/// The variable that selects a profile (the CLI reads it for `--profile`).
pub const PROFILE_ENV: &str = "FLINK_CHK_PROFILE";

/// What [`config_file_in`] reads from the outside world.
pub trait Env {
    /// An environment variable; `None` when unset.
    fn var(&self, name: &str) -> Option<OsString>;
    /// The home directory.
    fn home_dir(&self) -> Option<PathBuf>;
    /// The platform's config directory (`dirs::config_dir()`).
    fn config_dir(&self) -> Option<PathBuf>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemEnv;

impl Env for SystemEnv {
    fn var(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name)
    }
    fn home_dir(&self) -> Option<PathBuf> {
        dirs::home_dir()
    }
    fn config_dir(&self) -> Option<PathBuf> {
        dirs::config_dir()
    }
}

/// The path of `profiles.yaml` for this process (see the module docs).
/// `explicit` is the `--config` value. The file need not exist.
pub fn config_file(explicit: Option<&Path>) -> Result<PathBuf, Error> {
    config_file_in(explicit, &SystemEnv)
}

/// [`config_file`] with the environment supplied by the caller.
pub fn config_file_in(explicit: Option<&Path>, env: &dyn Env) -> Result<PathBuf, Error> {
    let given = explicit.map(Path::to_path_buf).or_else(|| {
        env.var(CONFIG_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    if let Some(p) = given {
        return Ok(if p.is_dir() { p.join(FILE_NAME) } else { p });
    }
    let xdg = env
        .var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = match xdg {
        Some(x) => Some(x),
        None if cfg!(unix) => env.home_dir().map(|h| h.join(".config")),
        None => env.config_dir(),
    };
    base.map(|b| b.join(APP_DIR).join(FILE_NAME))
        .ok_or(Error::NoConfigDir)
}
