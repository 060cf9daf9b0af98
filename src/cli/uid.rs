//! `flink-chk uid`: OperatorIDs from uids.

use anyhow::Result;

use super::exit::Exit;
use super::output;

/// Print the OperatorID Flink derives from each uid (murmur3_128 of the uid),
/// to match operators in a snapshot to the uids set in the job.
#[derive(Debug, clap::Args)]
pub struct UidArgs {
    /// The uids, as set with `.uid("...")` in the job.
    #[arg(required = true, value_name = "UID")]
    uids: Vec<String>,
    /// Print JSON: `[{"uid": ..., "operator_id": ...}]`.
    #[arg(long)]
    json: bool,
}

/// One element of `uid --json`.
#[derive(serde::Serialize)]
struct UidJson<'a> {
    uid: &'a str,
    /// 32 hex digits.
    operator_id: &'a str,
}

/// Runs the command.
pub fn run(args: UidArgs) -> Result<Exit> {
    let mut out = anstream::stdout();
    let rows: Vec<(String, String)> = args
        .uids
        .iter()
        .map(|u| (u.clone(), crate::uid::operator_id(u).to_hex()))
        .collect();
    if args.json {
        let v: Vec<_> = rows
            .iter()
            .map(|(uid, operator_id)| UidJson { uid, operator_id })
            .collect();
        output::print_json(&mut out, &v)?;
    } else {
        let mut t = output::table(["OPERATOR ID", "UID"]);
        for (u, id) in rows {
            t.add_row([id, u]);
        }
        output::write_table(&mut out, &t)?;
    }
    Ok(Exit::Ok)
}
