//! `crossgov swap propose|accept|status`: HTLC swaps through the relayers' HTTP APIs.
//!
//! `propose` (the initiator): asks its relayer for a fresh hashlock (the secret stays with the
//! relayer), builds the `SwapRequest` with timelocks on each business chain's own clock, signs it
//! and leg A's `Lock`, posts it, and writes the request to `--out` for the counterparty.
//! `accept` (the counterparty): reads that file, signs the request and leg B's `Lock`, posts the
//! acceptance to its relayer. `status` asks a relayer.

use std::path::PathBuf;
use std::process::ExitCode;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::transports::http::reqwest;
use clap::Subcommand;
use crossgov_relayer::IPath;
use crossgov_relayer::protocol::htlc::LegId;
use crossgov_relayer::protocol::{Leg, SwapRequest, SwapRequestJson, htlc_domain, tm_domain};
use serde_json::{Value, json};

use super::common::{GovArgs, SignerArgs, address, print};

/// `crossgov swap …`.
#[derive(Debug, Subcommand)]
pub enum SwapCommand {
    /// Propose a swap as its initiator (you pay leg A, the counterparty pays leg B).
    Propose {
        /// Leg A: `zone.chain.asset:RECIPIENT:AMOUNT` (you pay the counterparty).
        #[arg(long, value_name = "PATH:RECIPIENT:AMOUNT")]
        leg_a: String,
        /// Leg B: `zone.chain.asset:SENDER:AMOUNT` (the counterparty pays you).
        #[arg(long, value_name = "PATH:SENDER:AMOUNT")]
        leg_b: String,
        /// Leg A's chain: JSON-RPC endpoint (its clock sets timelock A).
        #[arg(long, value_name = "URL")]
        rpc_a: reqwest::Url,
        /// Leg A's HtlcAsset address (its EIP-712 domain).
        #[arg(long, value_name = "ADDRESS")]
        asset_a: String,
        /// Leg B's chain: JSON-RPC endpoint.
        #[arg(long, value_name = "URL")]
        rpc_b: reqwest::Url,
        /// Seconds (on chain A's clock) until leg A can be refunded; must exceed leg B's.
        #[arg(long, default_value_t = 3 * 3600)]
        timeout_a_secs: u64,
        /// Seconds (on chain B's clock) until leg B can be refunded.
        #[arg(long, default_value_t = 3600)]
        timeout_b_secs: u64,
        /// Your relayer's HTTP API.
        #[arg(long, value_name = "URL")]
        relayer: reqwest::Url,
        /// Where to write the request for the counterparty.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        gov: GovArgs,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Accept a proposed swap as its counterparty (you pay leg B).
    Accept {
        /// The request file `swap propose` wrote.
        #[arg(long, value_name = "FILE")]
        request: PathBuf,
        /// Leg B's HtlcAsset address.
        #[arg(long, value_name = "ADDRESS")]
        asset_b: String,
        /// Leg B's chain id.
        #[arg(long)]
        chain_id_b: u64,
        /// Your relayer's HTTP API.
        #[arg(long, value_name = "URL")]
        relayer: reqwest::Url,
        #[command(flatten)]
        gov: GovArgs,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// A swap's legs, states and transactions, as a relayer sees them.
    Status {
        /// The swap id.
        #[arg(long)]
        id: B256,
        /// A relayer's HTTP API.
        #[arg(long, value_name = "URL")]
        relayer: reqwest::Url,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `swap` subcommand.
pub fn run(cmd: SwapCommand) -> ExitCode {
    super::block_on(run_async(cmd))
}

async fn post(relayer: &reqwest::Url, path: &str, body: &Value) -> Result<Value, String> {
    let url = relayer.join(path).map_err(|e| e.to_string())?;
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| format!("relayer {relayer}: {e}"))?;
    answer(response).await
}

async fn answer(response: reqwest::Response) -> Result<Value, String> {
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if status.is_success() {
        Ok(v)
    } else {
        let code = v["error"]["code"].as_str().unwrap_or_default().to_owned();
        let message = v["error"]["message"].as_str().map_or_else(|| v.to_string(), str::to_owned);
        Err(format!("the relayer refused ({} {code}): {message}", status.as_u16()))
    }
}

fn leg_arg(flag: &str, s: &str) -> Result<(IPath, Address, U256), String> {
    let bad = |why: &str| format!("{flag} {s:?}: {why}");
    let parts: Vec<&str> = s.split(':').collect();
    let [path, party, amount] = parts[..] else { return Err(bad("expected PATH:ACCOUNT:AMOUNT")) };
    let path: IPath = path.parse().map_err(|e| bad(&format!("{e}")))?;
    let party = address(flag, party)?;
    let amount: U256 = amount.parse().map_err(|_| bad("the amount is not a number"))?;
    Ok((path, party, amount))
}

async fn chain_now(url: &reqwest::Url) -> Result<(u64, u64), String> {
    let p = ProviderBuilder::new().connect_http(url.clone());
    let id = p.get_chain_id().await.map_err(|e| format!("{url}: {e}"))?;
    let block = p
        .get_block_by_number(alloy::rpc::types::BlockNumberOrTag::Latest)
        .await
        .map_err(|e| format!("{url}: {e}"))?
        .ok_or(format!("{url}: no latest block"))?;
    Ok((id, block.header.timestamp))
}

async fn run_async(cmd: SwapCommand) -> Result<(), String> {
    match cmd {
        SwapCommand::Propose {
            leg_a,
            leg_b,
            rpc_a,
            asset_a,
            rpc_b,
            timeout_a_secs,
            timeout_b_secs,
            relayer,
            out,
            gov,
            signer,
        } => {
            if out.exists() {
                return Err(format!("{} exists; pass another --out", out.display()));
            }
            let g = gov.connect().await?;
            let me = signer.load()?;
            let (path_a, recipient, amount_a) = leg_arg("--leg-a", &leg_a)?;
            let (path_b, counterparty, amount_b) = leg_arg("--leg-b", &leg_b)?;
            let asset_a = address("--asset-a", &asset_a)?;
            let (chain_a, now_a) = chain_now(&rpc_a).await?;
            let (_, now_b) = chain_now(&rpc_b).await?;
            let secret = post(&relayer, "v1/swaps/secrets", &json!({})).await?;
            let hashlock: B256 = secret["hashlock"]
                .as_str()
                .and_then(|h| h.parse().ok())
                .ok_or("no hashlock from the relayer")?;
            let request = SwapRequest::new(
                hashlock,
                Leg::new(&path_a, me.address(), recipient, amount_a, now_a + timeout_a_secs),
                Leg::new(&path_b, counterparty, me.address(), amount_b, now_b + timeout_b_secs),
            );
            request.validate().map_err(|e| format!("invalid swap: {e}"))?;
            let domain = tm_domain(g.deployment.chain_id, g.deployment.transaction_manager.address);
            let signature = request.sign(&domain, &me).map_err(|e| e.to_string())?;
            let lock = request
                .lock(LegId::A)
                .sign(&htlc_domain(chain_a, asset_a), &me)
                .map_err(|e| e.to_string())?;
            let file = SwapRequestJson::of(&request);
            let body =
                json!({ "request": file, "initiatorSignature": signature, "lockSignature": lock });
            let answer = post(&relayer, "v1/swaps", &body).await?;
            let text = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
            std::fs::write(&out, text).map_err(|e| format!("{}: {e}", out.display()))?;
            let v = json!({ "swapId": request.swapId, "governanceTxHash": answer["governanceTxHash"], "request": out });
            print(
                gov.json,
                &v,
                &format!(
                    "proposed swap {}; give {} to the counterparty",
                    request.swapId,
                    out.display()
                ),
            );
            Ok(())
        }
        SwapCommand::Accept { request, asset_b, chain_id_b, relayer, gov, signer } => {
            let g = gov.connect().await?;
            let me = signer.load()?;
            let text = std::fs::read_to_string(&request)
                .map_err(|e| format!("{}: {e}", request.display()))?;
            let file: SwapRequestJson = serde_json::from_str(&text)
                .map_err(|e| format!("{}: not a swap request: {e}", request.display()))?;
            let r = file.to_request().map_err(|e| format!("{}: {e}", request.display()))?;
            if r.legB.sender != me.address() {
                return Err(format!(
                    "leg B is paid by {}, not by the signing account {}",
                    r.legB.sender,
                    me.address()
                ));
            }
            let asset_b = address("--asset-b", &asset_b)?;
            let domain = tm_domain(g.deployment.chain_id, g.deployment.transaction_manager.address);
            let signature = r.sign(&domain, &me).map_err(|e| e.to_string())?;
            let lock = r
                .lock(LegId::B)
                .sign(&htlc_domain(chain_id_b, asset_b), &me)
                .map_err(|e| e.to_string())?;
            let body = json!({ "counterpartySignature": signature, "lockSignature": lock });
            let answer = post(&relayer, &format!("v1/swaps/{}/accept", r.swapId), &body).await?;
            let v = json!({ "swapId": r.swapId, "governanceTxHash": answer["governanceTxHash"] });
            print(gov.json, &v, &format!("accepted swap {}", r.swapId));
            Ok(())
        }
        SwapCommand::Status { id, relayer, json } => {
            let url = relayer.join(&format!("v1/swaps/{id}")).map_err(|e| e.to_string())?;
            let response = reqwest::Client::new()
                .get(url)
                .send()
                .await
                .map_err(|e| format!("relayer {relayer}: {e}"))?;
            let v = answer(response).await?;
            let text = serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?;
            print(json, &v, &text);
            Ok(())
        }
    }
}
