//! `crossgov chain list|show|set-relayers`: the admitted business chains and who serves them.

use std::collections::BTreeSet;
use std::process::ExitCode;

use alloy::primitives::{Address, B256, U256};
use clap::Subcommand;
use crossgov_relayer::Segment;
use crossgov_relayer::bindings::ChainRegistry::ChainRegistryInstance;
use crossgov_relayer::bindings::{Chain, ChainStatus};
use serde_json::{Value, json};

use super::common::{Gov, GovArgs, SendingArgs, address, print, send};

/// `crossgov chain …`.
#[derive(Debug, Subcommand)]
pub enum ChainCommand {
    /// Every admitted chain with its owner, status and serving relayers.
    List {
        #[command(flatten)]
        gov: GovArgs,
    },
    /// One chain.
    Show {
        /// `zone.chain`.
        #[arg(long)]
        chain: String,
        #[command(flatten)]
        gov: GovArgs,
    },
    /// Name (or, with --remove, un-name) relayers of your institution serving a chain it owns.
    SetRelayers {
        /// `zone.chain`.
        #[arg(long)]
        chain: String,
        /// A relayer account (repeat for several).
        #[arg(long = "relayer", required = true)]
        relayers: Vec<String>,
        /// Stop them serving instead.
        #[arg(long)]
        remove: bool,
        #[command(flatten)]
        gov: GovArgs,
        #[command(flatten)]
        signer: SendingArgs,
    },
}

/// Runs a `chain` subcommand.
pub fn run(cmd: ChainCommand) -> ExitCode {
    super::block_on(run_async(cmd))
}

fn words(chain: &str) -> Result<(B256, B256), String> {
    let (z, c) = chain.split_once('.').ok_or(format!("--chain {chain:?}: expected zone.chain"))?;
    let seg = |s: &str| {
        Segment::new(s).map(|s| s.to_word()).map_err(|e| format!("--chain {chain:?}: {e}"))
    };
    Ok((seg(z)?, seg(c)?))
}

fn name(w: B256) -> String {
    Segment::name_or_hex(w)
}

async fn view(g: &Gov, c: &Chain) -> Result<Value, String> {
    let key = crossgov_relayer::two_phase::chain_key_words(c.zone, c.chain);
    // Serving relayers: replay ServingRelayerSet for this chain.
    let registry = &g.deployment.chain_registry;
    let logs: Vec<crossgov_relayer::bindings::ChainRegistry::ServingRelayerSet> =
        g.events(registry.address, registry.block, Some(key)).await?;
    let mut serving: BTreeSet<Address> = BTreeSet::new();
    for ev in logs {
        if ev.serving {
            serving.insert(ev.relayer);
        } else {
            serving.remove(&ev.relayer);
        }
    }
    let status = ChainStatus::try_from(c.status).map_or_else(|e| e.to_string(), |s| s.to_string());
    Ok(json!({
        "chain": format!("{}.{}", name(c.zone), name(c.chain)),
        "type": name(c.chainType),
        "chainId": c.chainId.to_string(),
        "owner": c.owner,
        "status": status,
        "genesisHash": c.genesisHash,
        "servingRelayers": serving,
    }))
}

fn line(v: &Value) -> String {
    format!(
        "{:<20} {:<8} id {:<8} owner {:<3} {:<8} relayers {}",
        v["chain"].as_str().unwrap_or_default(),
        v["type"].as_str().unwrap_or_default(),
        v["chainId"].as_str().unwrap_or_default(),
        v["owner"].to_string(),
        v["status"].as_str().unwrap_or_default(),
        v["servingRelayers"]
    )
}

async fn run_async(cmd: ChainCommand) -> Result<(), String> {
    match cmd {
        ChainCommand::List { gov } => {
            let g = gov.connect().await?;
            let r =
                ChainRegistryInstance::new(g.deployment.chain_registry.address, g.reader.clone());
            let count = r.chainCount().call().await.map_err(|e| e.to_string())?;
            let mut out = Vec::new();
            let mut i = U256::ZERO;
            while i < count {
                let key = r.chainKeyAt(i).call().await.map_err(|e| e.to_string())?;
                let c = r.chainByKey(key).call().await.map_err(|e| e.to_string())?;
                out.push(view(&g, &c).await?);
                i += U256::from(1);
            }
            if gov.json {
                println!("{}", Value::Array(out));
            } else {
                for v in &out {
                    println!("{}", line(v));
                }
                eprintln!("{} chains", out.len());
            }
            Ok(())
        }
        ChainCommand::Show { chain, gov } => {
            let g = gov.connect().await?;
            let (z, c) = words(&chain)?;
            let r =
                ChainRegistryInstance::new(g.deployment.chain_registry.address, g.reader.clone());
            let found = r.chainOf(z, c).call().await.map_err(|e| e.to_string())?;
            if found.chainId.is_zero() {
                return Err(format!("{chain} is not an admitted chain: see `crossgov chain list`"));
            }
            let v = view(&g, &found).await?;
            print(gov.json, &v, &line(&v));
            Ok(())
        }
        ChainCommand::SetRelayers { chain, relayers, remove, gov, signer } => {
            let g = gov.connect().await?;
            let (z, c) = words(&chain)?;
            let list =
                relayers.iter().map(|a| address("--relayer", a)).collect::<Result<Vec<_>, _>>()?;
            let r = ChainRegistryInstance::new(
                g.deployment.chain_registry.address,
                g.signing(&signer).await?,
            );
            let receipt =
                send("set serving relayers", r.setServingRelayers(z, c, list.clone(), !remove))
                    .await?;
            let v = json!({ "chain": chain, "relayers": list, "serving": !remove, "txHash": receipt.transaction_hash });
            let verb = if remove { "no longer serve" } else { "now serve" };
            print(
                gov.json,
                &v,
                &format!(
                    "{} {verb} {chain}",
                    list.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                ),
            );
            Ok(())
        }
    }
}
