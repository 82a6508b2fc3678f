//! `crossgov tx submit|status|list`: two-phase-commit transactions.
//!
//! `submit` builds a `TxRequest` from `--step` arguments, signs it (EIP-712) with the user's key
//! and posts it to a relayer of the user's institution; `status` and `list` read the coordinator
//! on the governance chain, which is the authority.

use std::process::ExitCode;

use alloy::primitives::{B256, U256};
use alloy::providers::Provider;
use alloy::transports::http::reqwest;
use clap::Subcommand;
use crossgov_relayer::bindings::TransactionManager::TransactionManagerInstance;
use crossgov_relayer::bindings::{ChainRegistry, TxState};
use crossgov_relayer::protocol::{TxRequest, XaOp, tm_domain};
use crossgov_relayer::{IPath, Segment};
use serde_json::{Value, json};

use super::common::{GovArgs, SignerArgs, address, print};

/// `crossgov tx …`.
#[derive(Debug, Subcommand)]
pub enum TxCommand {
    /// Sign a transaction as a user and submit it to a relayer of your institution.
    Submit {
        /// A step `zone.chain.resource:debit|credit:ACCOUNT:AMOUNT` (XaLedger op); repeat, in order.
        #[arg(long = "step", required = true, value_name = "PATH:OP:ACCOUNT:AMOUNT")]
        steps: Vec<String>,
        /// Seconds from now (governance-chain time) until the transaction expires.
        #[arg(long, default_value_t = 3600)]
        deadline_secs: u64,
        /// The relayer's HTTP API, e.g. http://127.0.0.1:8080.
        #[arg(long, value_name = "URL")]
        relayer: reqwest::Url,
        #[command(flatten)]
        gov: GovArgs,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// A transaction's state, steps, votes and acknowledgements.
    Status {
        /// The txId.
        #[arg(long)]
        id: B256,
        #[command(flatten)]
        gov: GovArgs,
    },
    /// Unfinished transactions, per admitted chain.
    List {
        #[command(flatten)]
        gov: GovArgs,
    },
}

/// Runs a `tx` subcommand.
pub fn run(cmd: TxCommand) -> ExitCode {
    super::block_on(run_async(cmd))
}

fn parse_step(s: &str) -> Result<(IPath, XaOp), String> {
    let bad = |why: &str| {
        format!("--step {s:?}: {why}; expected zone.chain.resource:debit|credit:ACCOUNT:AMOUNT")
    };
    let parts: Vec<&str> = s.split(':').collect();
    let [path, kind, account, amount] = parts[..] else { return Err(bad("four fields")) };
    let path: IPath = path.parse().map_err(|e| bad(&format!("{e}")))?;
    let account = address("--step account", account)?;
    let amount: U256 = amount.parse().map_err(|_| bad("the amount is not a number"))?;
    let op = match kind {
        "debit" => XaOp::debit(account, amount),
        "credit" => XaOp::credit(account, amount),
        other => return Err(bad(&format!("unknown op {other:?}"))),
    };
    Ok((path, op))
}

async fn run_async(cmd: TxCommand) -> Result<(), String> {
    match cmd {
        TxCommand::Submit { steps, deadline_secs, relayer, gov, signer } => {
            let g = gov.connect().await?;
            let user = signer.load()?;
            let block = g
                .reader
                .get_block_by_number(alloy::rpc::types::BlockNumberOrTag::Latest)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("the governance chain has no latest block")?;
            let mut builder =
                TxRequest::builder(user.address()).deadline(block.header.timestamp + deadline_secs);
            for s in &steps {
                let (path, op) = parse_step(s)?;
                builder = builder.xa_step(&path, &op);
            }
            let request = builder.build().map_err(|e| format!("invalid transaction: {e}"))?;
            let domain = tm_domain(g.deployment.chain_id, g.deployment.transaction_manager.address);
            let signature = request.sign(&domain, &user).map_err(|e| e.to_string())?;
            let seg = Segment::name_or_hex;
            let body = json!({
                "request": {
                    "txId": request.txId,
                    "steps": request.steps.iter().map(|s| json!({
                        "zone": seg(s.zone), "chain": seg(s.chain), "resource": seg(s.resource), "op": s.op,
                    })).collect::<Vec<_>>(),
                    "deadline": request.deadline,
                    "nonce": request.nonce.to_string(),
                },
                "signature": signature,
            });
            let url = relayer.join("v1/transactions").map_err(|e| e.to_string())?;
            let response = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .map_err(|e| format!("relayer {relayer}: {e}"))?;
            let status = response.status();
            let text = response.text().await.map_err(|e| e.to_string())?;
            let answer: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            if !status.is_success() {
                let message = answer["error"]["message"]
                    .as_str()
                    .map_or_else(|| answer.to_string(), str::to_owned);
                let code = answer["error"]["code"].as_str().unwrap_or_default().to_owned();
                // The status's number only: its reason phrase often repeats the code.
                return Err(format!(
                    "the relayer refused the transaction ({} {code}): {message}",
                    status.as_u16()
                ));
            }
            let v = json!({ "txId": request.txId, "governanceTxHash": answer["governanceTxHash"], "signer": user.address() });
            print(
                gov.json,
                &v,
                &format!(
                    "submitted {} (begin {})",
                    request.txId,
                    answer["governanceTxHash"].as_str().unwrap_or_default()
                ),
            );
            Ok(())
        }
        TxCommand::Status { id, gov } => {
            let g = gov.connect().await?;
            let tm = TransactionManagerInstance::new(
                g.deployment.transaction_manager.address,
                g.reader.clone(),
            );
            let t = tm.transaction(id).call().await.map_err(|e| e.to_string())?;
            let state = TxState::try_from(t.state).map_err(|e| e.to_string())?;
            if state == TxState::None {
                return Err(format!("transaction {id} is unknown to the coordinator"));
            }
            let steps: Vec<Value> = (0..t.stepCount)
                .map(|i| {
                    let bit = 1u16 << i;
                    json!({
                        "step": i,
                        "vote": if t.votedMask & bit == 0 { Value::Null } else { Value::Bool(t.yesMask & bit != 0) },
                        "acked": t.ackedMask & bit != 0,
                    })
                })
                .collect();
            let v = json!({
                "txId": id, "state": state.to_string(), "initiator": t.initiator, "institution": t.institution,
                "deadline": t.deadline, "steps": steps,
            });
            let text = format!(
                "{id}: {state}\n  initiator {} (institution {}), deadline {}\n  steps {}",
                t.initiator,
                t.institution,
                t.deadline,
                steps.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")
            );
            print(gov.json, &v, &text);
            Ok(())
        }
        TxCommand::List { gov } => {
            let g = gov.connect().await?;
            let d = &g.deployment;
            let chains = ChainRegistry::new(d.chain_registry.address, g.reader.clone());
            let tm =
                TransactionManagerInstance::new(d.transaction_manager.address, g.reader.clone());
            let count = chains.chainCount().call().await.map_err(|e| e.to_string())?;
            let mut out = Vec::new();
            let mut i = U256::ZERO;
            while i < count {
                let key = chains.chainKeyAt(i).call().await.map_err(|e| e.to_string())?;
                let c = chains.chainByKey(key).call().await.map_err(|e| e.to_string())?;
                let name = Segment::name_or_hex;
                let mut offset = U256::ZERO;
                loop {
                    let page = tm
                        .openTransactions(key, offset, U256::from(100))
                        .call()
                        .await
                        .map_err(|e| e.to_string())?;
                    let n = page.len();
                    for id in page {
                        out.push(json!({ "chain": format!("{}.{}", name(c.zone), name(c.chain)), "txId": id }));
                    }
                    if n < 100 {
                        break;
                    }
                    offset += U256::from(n);
                }
                i += U256::from(1);
            }
            if gov.json {
                println!("{}", Value::Array(out));
            } else {
                for v in &out {
                    println!(
                        "{:<20} {}",
                        v["chain"].as_str().unwrap_or_default(),
                        v["txId"].as_str().unwrap_or_default()
                    );
                }
                eprintln!("{} unfinished (transaction, chain) pairs", out.len());
            }
            Ok(())
        }
    }
}
