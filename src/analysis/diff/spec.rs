//! One side of a comparison from a job description (`diff --job FILE`):
//! the operators, parallelism and backend of the job about to start.

use serde::Deserialize;

use super::{Backend, MaxParallelism, OpShape, Side};
use crate::analysis::states::{StateInfo, StateScope};
use crate::metadata::OperatorId;
use crate::statemeta::StateKind;

/// A description of the job about to start (`diff SNAPSHOT --job FILE`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// Default parallelism of operators that do not set one.
    #[serde(default)]
    pub parallelism: Option<i32>,
    /// Default max parallelism: a number, or `auto` (not set in the job).
    #[serde(default)]
    pub max_parallelism: Option<MaxParallelismSpec>,
    /// The new job's state backend.
    #[serde(default)]
    pub state_backend: Option<Backend>,
    /// The operators of the new job. Operators not listed are not in it.
    pub operators: Vec<OperatorSpec>,
}

/// A max parallelism in a job file: a number or `auto`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum MaxParallelismSpec {
    /// Explicitly configured.
    Number(i32),
    /// `auto`: not configured.
    Word(String),
}

/// One operator of the new job.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorSpec {
    /// Its uid (`.uid("…")`).
    #[serde(default)]
    pub uid: Option<String>,
    /// Or its OperatorID as 32 hex digits (`.setUidHash("…")`, or from `flink-chk uid`).
    #[serde(default)]
    pub uid_hash: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Parallelism (default: the job's).
    #[serde(default)]
    pub parallelism: Option<i32>,
    /// Max parallelism (default: the job's).
    #[serde(default)]
    pub max_parallelism: Option<MaxParallelismSpec>,
    /// Names of the states the new code registers (keyed and operator); when
    /// given, snapshot states missing here are reported.
    #[serde(default)]
    pub states: Option<Vec<String>>,
}

/// A job file that does not describe a job.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// An operator with neither uid nor uid_hash, or a bad hash.
    #[error("operators[{index}]: {message}")]
    Operator {
        /// Index in `operators`.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// A bad job-level value.
    #[error("{field}: {message}")]
    Field {
        /// Field name.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

fn max_spec(
    v: Option<&MaxParallelismSpec>,
    field: &'static str,
) -> Result<Option<MaxParallelism>, SpecError> {
    match v {
        None => Ok(None),
        Some(MaxParallelismSpec::Number(n)) if (1..=32768).contains(n) => {
            Ok(Some(MaxParallelism::Configured(*n)))
        }
        Some(MaxParallelismSpec::Number(n)) => Err(SpecError::Field {
            field,
            message: format!("{n} is outside 1..=32768"),
        }),
        Some(MaxParallelismSpec::Word(w)) if w == "auto" => Ok(Some(MaxParallelism::Auto)),
        Some(MaxParallelismSpec::Word(w)) => Err(SpecError::Field {
            field,
            message: format!("expected a number or `auto`, got {w:?}"),
        }),
    }
}

impl Side {
    /// A side from a job description. Operators inherit the job's parallelism
    /// and max parallelism, then the old snapshot's values for the same
    /// operator (an unchanged job does not have to repeat them).
    pub fn from_spec(spec: &JobSpec, source: &str, old: &Side) -> Result<Side, SpecError> {
        let job_max = max_spec(spec.max_parallelism.as_ref(), "max_parallelism")?;
        if let Some(p) = spec.parallelism
            && p < 1
        {
            return Err(SpecError::Field {
                field: "parallelism",
                message: format!("{p} is not positive"),
            });
        }
        let mut operators = Vec::with_capacity(spec.operators.len());
        for (index, o) in spec.operators.iter().enumerate() {
            let bad = |message: String| SpecError::Operator { index, message };
            let id = match (&o.uid, &o.uid_hash) {
                (_, Some(h)) => OperatorId::from_hex(h)
                    .ok_or_else(|| bad(format!("uid_hash {h:?} is not 32 hexadecimal digits")))?,
                (Some(u), None) => crate::uid::operator_id(u),
                (None, None) => return Err(bad("needs `uid` or `uid_hash`".into())),
            };
            let before = old.operators.iter().find(|x| x.id == id);
            let parallelism = o
                .parallelism
                .or(spec.parallelism)
                .or(before.map(|b| b.parallelism))
                .unwrap_or(1);
            if parallelism < 1 {
                return Err(bad(format!("parallelism {parallelism} is not positive")));
            }
            let max = max_spec(o.max_parallelism.as_ref(), "max_parallelism")
                .map_err(|e| bad(e.to_string()))?
                .or(job_max)
                .or(before.map(|b| b.max_parallelism))
                .unwrap_or(MaxParallelism::Auto);
            let states = o.states.as_ref().map(|names| {
                names
                    .iter()
                    .map(|n| {
                        // Keep the snapshot's kind for a name it knows: a job
                        // file lists names, not kinds.
                        let known = before
                            .and_then(|b| b.states.as_ref())
                            .and_then(|s| s.iter().find(|x| &x.name == n));
                        known.cloned().unwrap_or_else(|| StateInfo {
                            name: n.clone(),
                            scope: StateScope::Unknown,
                            kind: StateKind::Unknown,
                            serializers: Vec::new(),
                            heuristic: false,
                        })
                    })
                    .collect()
            });
            operators.push(OpShape {
                id,
                uid: o.uid.clone(),
                uid_source: o.uid.as_ref().map(|_| "job-file"),
                name: o.name.clone(),
                parallelism,
                max_parallelism: max,
                state_bytes: 0,
                has_subtask_state: false,
                coordinator_bytes: None,
                keyed: before.is_some_and(|b| b.keyed),
                channel_bytes: 0,
                channel_handles: 0,
                states,
                state_notes: Vec::new(),
                fully_finished: false,
            });
        }
        Ok(Side {
            source: source.to_owned(),
            kind: None,
            checkpoint_id: None,
            metadata_version: None,
            keyed_format: None,
            backend: spec.state_backend,
            operators,
        })
    }
}
