//! `crossgov gov …`: proposals (propose, vote, execute, withdraw, list, show) and an admin's own
//! institution's accounts (add-account, remove-account).
//!
//! A proposal stores only the hash of its calldata; `execute` reads the calldata back from the
//! proposal's `ProposalCreated` event, so nobody needs to keep it.

use std::process::ExitCode;

use alloy::primitives::{B256, Bytes, U256};
use alloy::providers::DynProvider;
use alloy::sol_types::SolCall;
use clap::{Subcommand, ValueEnum};
use crossgov_relayer::Segment;
use crossgov_relayer::bindings::institution_registry::InstitutionRegistry::{
    self as registry, InstitutionRegistryInstance,
};
use crossgov_relayer::bindings::{ChainRegistry, ProposalState, Role, Supervision};
use serde_json::json;

use super::common::{GovArgs, SendingArgs, address, print, send};

/// `crossgov gov …`.
#[derive(Debug, Subcommand)]
pub enum GovCommand {
    /// Open a proposal (as an admin of an active institution).
    Propose {
        #[command(subcommand)]
        action: Action,
    },
    /// Vote on an open proposal for your institution.
    Vote {
        /// The proposal id.
        #[arg(long)]
        id: U256,
        /// Vote against (default: for).
        #[arg(long)]
        reject: bool,
        #[command(flatten)]
        gov: GovArgs,
        #[command(flatten)]
        signer: SendingArgs,
    },
    /// Execute a passed proposal (anyone may, within its execution window).
    Execute {
        /// The proposal id.
        #[arg(long)]
        id: U256,
        #[command(flatten)]
        gov: GovArgs,
        #[command(flatten)]
        signer: SendingArgs,
    },
    /// Withdraw a proposal your institution opened, while it is pending.
    Withdraw {
        /// The proposal id.
        #[arg(long)]
        id: U256,
        #[command(flatten)]
        gov: GovArgs,
        #[command(flatten)]
        signer: SendingArgs,
    },
    /// List proposals with their state and tally.
    List {
        #[command(flatten)]
        gov: GovArgs,
    },
    /// Show one proposal: target, description, calldata, tally, deadlines.
    Show {
        /// The proposal id.
        #[arg(long)]
        id: U256,
        #[command(flatten)]
        gov: GovArgs,
    },
    /// Register an account of your institution (as its admin).
    AddAccount {
        /// The account.
        #[arg(long)]
        account: String,
        /// Its role.
        #[arg(long, value_enum)]
        role: RoleArg,
        #[command(flatten)]
        gov: GovArgs,
        #[command(flatten)]
        signer: SendingArgs,
    },
    /// Remove an account of your institution (as its admin).
    RemoveAccount {
        /// The account.
        #[arg(long)]
        account: String,
        #[command(flatten)]
        gov: GovArgs,
        #[command(flatten)]
        signer: SendingArgs,
    },
}

/// An account's role.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Proposes, votes, manages accounts and grants.
    Admin,
    /// Drives cross-chain work.
    Relayer,
    /// Signs cross-chain requests.
    User,
}

/// What a proposal does.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Admit a new institution.
    AdmitInstitution {
        /// Display name (1-64 bytes).
        #[arg(long)]
        name: String,
        /// Its first admin account.
        #[arg(long)]
        admin: String,
        /// Hash of its certificate.
        #[arg(long, default_value_t = B256::ZERO)]
        cert_hash: B256,
        #[command(flatten)]
        common: ProposeArgs,
    },
    /// Suspend an institution.
    SuspendInstitution {
        /// Its id.
        #[arg(long)]
        institution: u64,
        #[command(flatten)]
        common: ProposeArgs,
    },
    /// Expel an institution (final).
    ExpelInstitution {
        /// Its id.
        #[arg(long)]
        institution: u64,
        #[command(flatten)]
        common: ProposeArgs,
    },
    /// Reinstate a suspended institution.
    ReinstateInstitution {
        /// Its id.
        #[arg(long)]
        institution: u64,
        #[command(flatten)]
        common: ProposeArgs,
    },
    /// Admit a business chain `zone.chain`.
    AdmitChain {
        /// `zone.chain`.
        #[arg(long)]
        chain: String,
        /// Its EVM chain id.
        #[arg(long)]
        chain_id: u64,
        /// Hash of its genesis block.
        #[arg(long)]
        genesis_hash: B256,
        /// The owner institution's id.
        #[arg(long)]
        owner: u64,
        /// Chain type.
        #[arg(long, default_value = "evm")]
        chain_type: String,
        #[command(flatten)]
        common: ProposeArgs,
    },
    /// Admit a regulator under its 64-byte public key (`crossgov audit keygen` prints it).
    AdmitRegulator {
        /// `0x` + 128 hex digits (x ‖ y).
        #[arg(long)]
        public_key: Bytes,
        /// Display name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        common: ProposeArgs,
    },
    /// Remove a regulator.
    RemoveRegulator {
        /// Its address.
        #[arg(long)]
        regulator: String,
        #[command(flatten)]
        common: ProposeArgs,
    },
    /// Any call: a target contract and its calldata.
    Raw {
        /// The contract the proposal calls.
        #[arg(long)]
        target: String,
        /// The calldata.
        #[arg(long)]
        data: Bytes,
        #[command(flatten)]
        common: ProposeArgs,
    },
}

/// What every proposal takes.
#[derive(Debug, clap::Args)]
pub struct ProposeArgs {
    /// Why: shown to voters (stored in the event).
    #[arg(long)]
    description: Option<String>,
    #[command(flatten)]
    gov: GovArgs,
    #[command(flatten)]
    signer: SendingArgs,
}

/// Runs a `gov` subcommand.
pub fn run(cmd: GovCommand) -> ExitCode {
    super::block_on(run_async(cmd))
}

fn registry_at(
    gov: &super::common::Gov,
    p: DynProvider,
) -> InstitutionRegistryInstance<DynProvider> {
    InstitutionRegistryInstance::new(gov.deployment.institution_registry.address, p)
}

fn segment(flag: &str, s: &str) -> Result<Segment, String> {
    Segment::new(s).map_err(|e| format!("{flag} {s:?}: {e}"))
}

async fn run_async(cmd: GovCommand) -> Result<(), String> {
    match cmd {
        GovCommand::Propose { action } => propose(action).await,
        GovCommand::Vote { id, reject, gov, signer } => {
            let g = gov.connect().await?;
            let r = registry_at(&g, g.signing(&signer).await?);
            let receipt = send(&format!("vote on proposal {id}"), r.vote(id, !reject)).await?;
            let state = r.proposalState(id).call().await.map_err(|e| e.to_string())?;
            let state = ProposalState::try_from(state).map_err(|e| e.to_string())?;
            let v = json!({ "proposal": id.to_string(), "approve": !reject, "state": state.to_string(), "txHash": receipt.transaction_hash });
            print(
                gov.json,
                &v,
                &format!(
                    "voted {} on proposal {id}: now {state}",
                    if reject { "against" } else { "for" }
                ),
            );
            Ok(())
        }
        GovCommand::Execute { id, gov, signer } => {
            let g = gov.connect().await?;
            let data = proposal_data(&g, id).await?.0;
            let r = registry_at(&g, g.signing(&signer).await?);
            let receipt = send(&format!("execute proposal {id}"), r.execute(id, data)).await?;
            let v = json!({ "proposal": id.to_string(), "executed": true, "txHash": receipt.transaction_hash });
            print(gov.json, &v, &format!("proposal {id} executed ({})", receipt.transaction_hash));
            Ok(())
        }
        GovCommand::Withdraw { id, gov, signer } => {
            let g = gov.connect().await?;
            let r = registry_at(&g, g.signing(&signer).await?);
            let receipt = send(&format!("withdraw proposal {id}"), r.withdraw(id)).await?;
            let v = json!({ "proposal": id.to_string(), "withdrawn": true, "txHash": receipt.transaction_hash });
            print(gov.json, &v, &format!("proposal {id} withdrawn"));
            Ok(())
        }
        GovCommand::List { gov } => list(&gov).await,
        GovCommand::Show { id, gov } => show(&gov, id).await,
        GovCommand::AddAccount { account, role, gov, signer } => {
            let g = gov.connect().await?;
            let account = address("--account", &account)?;
            let role = match role {
                RoleArg::Admin => Role::Admin,
                RoleArg::Relayer => Role::Relayer,
                RoleArg::User => Role::User,
            };
            let r = registry_at(&g, g.signing(&signer).await?);
            let receipt = send("add account", r.addAccount(account, role.into())).await?;
            let (institution, _) = {
                let a = r.accountOf(account).call().await.map_err(|e| e.to_string())?;
                (a.institutionId, a.role)
            };
            let v = json!({ "account": account, "role": role.to_string(), "institution": institution, "txHash": receipt.transaction_hash });
            print(gov.json, &v, &format!("{account} is now a {role} of institution {institution}"));
            Ok(())
        }
        GovCommand::RemoveAccount { account, gov, signer } => {
            let g = gov.connect().await?;
            let account = address("--account", &account)?;
            let r = registry_at(&g, g.signing(&signer).await?);
            let receipt = send("remove account", r.removeAccount(account)).await?;
            let v =
                json!({ "account": account, "removed": true, "txHash": receipt.transaction_hash });
            print(gov.json, &v, &format!("{account} removed"));
            Ok(())
        }
    }
}

async fn propose(action: Action) -> Result<(), String> {
    let (common, target_of, data, default_description): (ProposeArgs, Target, Vec<u8>, String) =
        match action {
            Action::AdmitInstitution { name, admin, cert_hash, common } => {
                let admin = address("--admin", &admin)?;
                let call = registry::admitInstitutionCall {
                    name: name.clone(),
                    certHash: cert_hash,
                    admin,
                };
                (
                    common,
                    Target::Registry,
                    call.abi_encode(),
                    format!("admit institution {name} (admin {admin})"),
                )
            }
            Action::SuspendInstitution { institution, common } => {
                let call = registry::suspendInstitutionCall { institutionId: institution };
                (
                    common,
                    Target::Registry,
                    call.abi_encode(),
                    format!("suspend institution {institution}"),
                )
            }
            Action::ExpelInstitution { institution, common } => {
                let call = registry::expelInstitutionCall { institutionId: institution };
                (
                    common,
                    Target::Registry,
                    call.abi_encode(),
                    format!("expel institution {institution}"),
                )
            }
            Action::ReinstateInstitution { institution, common } => {
                let call = registry::reinstateInstitutionCall { institutionId: institution };
                (
                    common,
                    Target::Registry,
                    call.abi_encode(),
                    format!("reinstate institution {institution}"),
                )
            }
            Action::AdmitChain { chain, chain_id, genesis_hash, owner, chain_type, common } => {
                let (zone, name) = chain
                    .split_once('.')
                    .ok_or(format!("--chain {chain:?}: expected zone.chain"))?;
                let call = ChainRegistry::admitChainCall {
                    zone: segment("--chain", zone)?.to_word(),
                    chain: segment("--chain", name)?.to_word(),
                    chainType: segment("--chain-type", &chain_type)?.to_word(),
                    chainId: U256::from(chain_id),
                    owner,
                    genesisHash: genesis_hash,
                };
                (
                    common,
                    Target::Chains,
                    call.abi_encode(),
                    format!("admit chain {chain} (id {chain_id}, owner {owner})"),
                )
            }
            Action::AdmitRegulator { public_key, name, common } => {
                if public_key.len() != 64 {
                    return Err(format!(
                        "--public-key has {} bytes; a regulator key is 64 bytes (x ‖ y), as `crossgov audit keygen` prints it",
                        public_key.len()
                    ));
                }
                let call =
                    Supervision::admitRegulatorCall { publicKey: public_key, name: name.clone() };
                (common, Target::Supervision, call.abi_encode(), format!("admit regulator {name}"))
            }
            Action::RemoveRegulator { regulator, common } => {
                let regulator = address("--regulator", &regulator)?;
                let call = Supervision::removeRegulatorCall { regulator };
                (
                    common,
                    Target::Supervision,
                    call.abi_encode(),
                    format!("remove regulator {regulator}"),
                )
            }
            Action::Raw { target, data, common } => {
                let target = address("--target", &target)?;
                (common, Target::Raw(target), data.to_vec(), format!("call {target}"))
            }
        };
    let g = common.gov.connect().await?;
    let d = &g.deployment;
    let target = match target_of {
        Target::Registry => d.institution_registry.address,
        Target::Chains => d.chain_registry.address,
        Target::Supervision => d.supervision.address,
        Target::Raw(a) => a,
    };
    let description = common.description.clone().unwrap_or(default_description);
    let r = registry_at(&g, g.signing(&common.signer).await?);
    let receipt = send("propose", r.propose(target, data.into(), description.clone())).await?;
    let created = receipt
        .inner
        .logs()
        .iter()
        .find_map(|l| l.log_decode::<registry::ProposalCreated>().ok())
        .ok_or("no ProposalCreated event in the receipt")?
        .inner
        .data;
    let v = json!({
        "proposal": created.proposalId.to_string(),
        "target": target,
        "description": description,
        "required": created.required,
        "electorate": created.electorate,
        "votingEndsAt": created.votingEndsAt,
        "txHash": receipt.transaction_hash,
    });
    print(
        common.gov.json,
        &v,
        &format!(
            "proposal {} opened: {description}; needs {} of {} votes before {}",
            created.proposalId, created.required, created.electorate, created.votingEndsAt
        ),
    );
    Ok(())
}

enum Target {
    Registry,
    Chains,
    Supervision,
    Raw(alloy::primitives::Address),
}

/// The calldata and description of a proposal, from its ProposalCreated event.
async fn proposal_data(g: &super::common::Gov, id: U256) -> Result<(Bytes, String), String> {
    let registry = &g.deployment.institution_registry;
    let logs: Vec<crossgov_relayer::bindings::InstitutionRegistry::ProposalCreated> =
        g.events(registry.address, registry.block, Some(B256::from(id))).await?;
    let created = logs
        .into_iter()
        .next()
        .ok_or(format!("proposal {id} does not exist: see `crossgov gov list`"))?;
    Ok((created.data, created.description))
}

async fn list(gov: &GovArgs) -> Result<(), String> {
    let g = gov.connect().await?;
    let r = registry_at(&g, g.reader.clone());
    let registry = &g.deployment.institution_registry;
    let logs: Vec<crossgov_relayer::bindings::InstitutionRegistry::ProposalCreated> =
        g.events(registry.address, registry.block, None).await?;
    let mut out = Vec::new();
    for created in logs {
        let id = created.proposalId;
        let p = r.proposal(id).call().await.map_err(|e| e.to_string())?;
        let state = r.proposalState(id).call().await.map_err(|e| e.to_string())?;
        let state = ProposalState::try_from(state).map_err(|e| e.to_string())?;
        out.push(json!({
            "id": id.to_string(), "state": state.to_string(), "proposer": p.proposer,
            "approvals": p.approvals, "rejections": p.rejections, "required": p.required,
            "electorate": p.electorate, "description": created.description,
        }));
    }
    if gov.json {
        println!("{}", serde_json::Value::Array(out));
    } else {
        println!(
            "{:>4} {:<10} {:>8} {:>6} {:>8}  description",
            "id", "state", "proposer", "votes", "required"
        );
        for p in &out {
            println!(
                "{:>4} {:<10} {:>8} {:>6} {:>8}  {}",
                p["id"].as_str().unwrap_or_default(),
                p["state"].as_str().unwrap_or_default(),
                p["proposer"].to_string(),
                format!("{}/{}", p["approvals"], p["rejections"]),
                p["required"].to_string(),
                p["description"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(())
}

async fn show(gov: &GovArgs, id: U256) -> Result<(), String> {
    let g = gov.connect().await?;
    let (data, description) = proposal_data(&g, id).await?;
    let r = registry_at(&g, g.reader.clone());
    let p = r.proposal(id).call().await.map_err(|e| e.to_string())?;
    let state = r.proposalState(id).call().await.map_err(|e| e.to_string())?;
    let state = ProposalState::try_from(state).map_err(|e| e.to_string())?;
    let v = json!({
        "id": id.to_string(), "state": state.to_string(), "proposer": p.proposer, "target": p.target,
        "description": description, "data": data, "approvals": p.approvals, "rejections": p.rejections,
        "required": p.required, "electorate": p.electorate, "votingEndsAt": p.votingEndsAt,
        "executableUntil": p.executableUntil, "excluded": p.excluded,
    });
    // The target of a suspend or expel proposal has no vote on it.
    let excluded = if p.excluded == 0 {
        String::new()
    } else {
        format!(" (institution {} is its target and does not vote)", p.excluded)
    };
    let text = format!(
        "proposal {id}: {state}\n  {description}\n  proposer institution {}, target {}\n  votes {} for, {} against, {} of {} required{excluded}\n  voting ends {}, executable until {}\n  data {data}",
        p.proposer,
        p.target,
        p.approvals,
        p.rejections,
        p.required,
        p.electorate,
        p.votingEndsAt,
        p.executableUntil
    );
    print(gov.json, &v, &text);
    Ok(())
}
