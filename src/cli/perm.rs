//! `crossgov perm grant|revoke|check`: interface bits on resource-path patterns.
//!
//! An admin of a chain's owner institution grants on that chain's paths (`zone.chain.*`,
//! `zone.chain.resource`); grants on `*` chain patterns go through a proposal.

use std::process::ExitCode;

use clap::Subcommand;
use crossgov_relayer::bindings::PermissionManager::PermissionManagerInstance;
use crossgov_relayer::{IPath, Ops, Pattern};
use serde_json::json;

use super::common::{GovArgs, SendingArgs, address, print, send};

/// `crossgov perm …`.
#[derive(Debug, Subcommand)]
pub enum PermCommand {
    /// Grant ops on a pattern to an account or an institution.
    Grant {
        #[command(flatten)]
        what: GrantTarget,
        #[command(flatten)]
        gov: GovArgs,
        #[command(flatten)]
        signer: SendingArgs,
    },
    /// Revoke ops on a pattern from an account or an institution.
    Revoke {
        #[command(flatten)]
        what: GrantTarget,
        #[command(flatten)]
        gov: GovArgs,
        #[command(flatten)]
        signer: SendingArgs,
    },
    /// Whether an account may use an op on a concrete path (its own grants or its institution's).
    Check {
        /// The account.
        #[arg(long)]
        account: String,
        /// A concrete path `zone.chain.resource`.
        #[arg(long)]
        path: String,
        /// One op: get_data, set_data, call, send_tx, event, two_phase, htlc.
        #[arg(long)]
        op: String,
        #[command(flatten)]
        gov: GovArgs,
    },
}

/// Who gets what where.
#[derive(Debug, clap::Args)]
pub struct GrantTarget {
    /// The account (or use --institution).
    #[arg(long, conflicts_with = "institution", required_unless_present = "institution")]
    account: Option<String>,
    /// The institution id.
    #[arg(long)]
    institution: Option<u64>,
    /// Pattern: `zone.chain.resource`, `zone.chain.*`, `zone.*` or `*`.
    #[arg(long)]
    pattern: String,
    /// Ops, comma separated: get_data, set_data, call, send_tx, event, two_phase, htlc, all.
    #[arg(long)]
    ops: String,
}

/// Runs a `perm` subcommand.
pub fn run(cmd: PermCommand) -> ExitCode {
    super::block_on(run_async(cmd))
}

async fn run_async(cmd: PermCommand) -> Result<(), String> {
    match cmd {
        PermCommand::Grant { what, gov, signer } => change(true, what, gov, signer).await,
        PermCommand::Revoke { what, gov, signer } => change(false, what, gov, signer).await,
        PermCommand::Check { account, path, op, gov } => {
            let g = gov.connect().await?;
            let account = address("--account", &account)?;
            let p: IPath = path.parse().map_err(|e| format!("--path {path:?}: {e}"))?;
            let ops: Ops = op.parse().map_err(|e| format!("--op {op:?}: {e}"))?;
            // The contract takes exactly one bit; a set would come back as an undecoded revert.
            if ops.bits().count_ones() != 1 {
                return Err(format!(
                    "--op {op:?}: name exactly one op (get_data, set_data, call, send_tx, event, two_phase, htlc)"
                ));
            }
            let (z, c, r) = p.to_words();
            let m = PermissionManagerInstance::new(
                g.deployment.permission_manager.address,
                g.reader.clone(),
            );
            let allowed =
                m.check(account, z, c, r, ops.bits()).call().await.map_err(|e| e.to_string())?;
            let v = json!({ "account": account, "path": path, "op": ops.to_string(), "allowed": allowed });
            print(
                gov.json,
                &v,
                &format!(
                    "{account} {} {ops} on {path}",
                    if allowed { "may use" } else { "may NOT use" }
                ),
            );
            Ok(())
        }
    }
}

async fn change(
    grant: bool,
    what: GrantTarget,
    gov: GovArgs,
    signer: SendingArgs,
) -> Result<(), String> {
    let g = gov.connect().await?;
    let pattern: Pattern =
        what.pattern.parse().map_err(|e| format!("--pattern {:?}: {e}", what.pattern))?;
    let ops: Ops = what.ops.parse().map_err(|e| format!("--ops {:?}: {e}", what.ops))?;
    let (z, c, r) = pattern.to_words();
    let m = PermissionManagerInstance::new(
        g.deployment.permission_manager.address,
        g.signing(&signer).await?,
    );
    let verb = if grant { "grant" } else { "revoke" };
    let (receipt, grantee) = match (&what.account, what.institution) {
        (Some(a), _) => {
            let account = address("--account", a)?;
            let receipt = if grant {
                send(verb, m.grantToAccount(account, z, c, r, ops.bits())).await?
            } else {
                send(verb, m.revokeFromAccount(account, z, c, r, ops.bits())).await?
            };
            (receipt, account.to_string())
        }
        (None, Some(id)) => {
            let receipt = if grant {
                send(verb, m.grantToInstitution(id, z, c, r, ops.bits())).await?
            } else {
                send(verb, m.revokeFromInstitution(id, z, c, r, ops.bits())).await?
            };
            (receipt, format!("institution {id}"))
        }
        (None, None) => return Err("pass --account ADDRESS or --institution ID".into()),
    };
    let v = json!({ "action": verb, "grantee": grantee, "pattern": what.pattern, "ops": ops.to_string(), "txHash": receipt.transaction_hash });
    let done = if grant {
        format!("granted {ops} on {} to {grantee}", what.pattern)
    } else {
        format!("revoked {ops} on {} from {grantee}", what.pattern)
    };
    print(gov.json, &v, &done);
    Ok(())
}
