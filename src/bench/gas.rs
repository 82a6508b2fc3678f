//! Gas per cross-chain operation, from real receipts on the local consortium's anvils.
//!
//! Each scenario runs alone: every transaction mined on any of the three chains between its start
//! and its end belongs to it. Each is attributed to (chain, contract, function) by its `to`
//! address and selector. The lower bound prices what the protocol cannot avoid (see
//! [`LowerBound`]); the report gives the ratio of the measured total to it.

use std::collections::BTreeMap;
use std::time::Duration;

use alloy::consensus::Transaction as _;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::sol_types::SolCall;
use crossgov_deploy::local::{LocalConsortium, keys};
use crossgov_relayer::audit::envelope::public_key_xy;
use crossgov_relayer::audit::{CoverKey, CoverKind, Envelope, Recipient};
use crossgov_relayer::bindings::TxState;
use crossgov_relayer::bindings::htlc_asset::HtlcAsset::HtlcAssetCalls;
use crossgov_relayer::bindings::supervision::Supervision::SupervisionCalls;
use crossgov_relayer::bindings::transaction_manager::TransactionManager::TransactionManagerCalls;
use crossgov_relayer::bindings::xa_ledger::XaLedger::XaLedgerCalls;
use crossgov_relayer::bindings::{ReportItem, ReportKind, TransactionManager};
use crossgov_relayer::protocol::{TxRequest, XaOp, tm_domain};
use serde::{Deserialize, Serialize};

use crate::cli::demo::{Demo, swap};
use crate::cli::dev::start_relayers;

/// Base cost of a transaction.
pub const TX_BASE: u64 = 21_000;
/// A storage slot written from zero, cold (EIP-2929 + EIP-2200).
pub const SSTORE_NEW: u64 = 22_100;
/// A non-zero slot rewritten, cold.
pub const SSTORE_UPDATE: u64 = 5_000;

/// One function's share of a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GasLine {
    /// `governance`, `zoneA.chainA`, `zoneB.chainB`.
    pub chain: String,
    /// The contract.
    pub contract: String,
    /// The function.
    pub function: String,
    /// How many calls: transactions, or items of a packed `report` (whose gas is shared equally
    /// among its items, so a line keeps its name however the relayers packed their items).
    pub calls: u32,
    /// Their total gas.
    pub gas: u64,
}

/// The unavoidable cost of a scenario: transactions and storage writes, each named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LowerBound {
    /// Transactions the protocol needs at the least.
    pub transactions: u64,
    /// Slots written from zero.
    pub new_slots: u64,
    /// Slots rewritten.
    pub updated_slots: u64,
    /// `transactions·21000 + new·22100 + updated·5000`.
    pub gas: u64,
    /// What was counted.
    pub basis: String,
}

impl LowerBound {
    fn new(transactions: u64, new_slots: u64, updated_slots: u64, basis: &str) -> LowerBound {
        LowerBound {
            transactions,
            new_slots,
            updated_slots,
            gas: transactions * TX_BASE + new_slots * SSTORE_NEW + updated_slots * SSTORE_UPDATE,
            basis: basis.to_owned(),
        }
    }
}

/// One scenario's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GasReport {
    /// What ran.
    pub scenario: String,
    /// Per function.
    pub lines: Vec<GasLine>,
    /// All of it.
    pub total: u64,
    /// Of which audit records (`Supervision.record`).
    pub audit: u64,
    /// What it cannot cost less than.
    pub lower_bound: LowerBound,
    /// `total / lower_bound.gas`.
    pub ratio: f64,
}

/// The two scenarios' reports.
pub async fn measure() -> Result<Vec<GasReport>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let net = LocalConsortium::start(dir.path(), &|s: &str| eprintln!("   · {s}"))
        .await
        .map_err(|e| e.to_string())?;
    let relayers = start_relayers(&net).await?;
    let (bank_a, bank_b) = (relayers[0].handle.clone(), relayers[1].handle.clone());
    let demo = Demo { net, timeout: Duration::from_secs(120), narrate: false };
    let mut reports = Vec::new();

    let from = heads(&demo.net).await?;
    let tx = demo.transfer(&bank_a, 100).await?;
    demo.wait_tx(tx, &[TxState::Committed]).await?;
    settle(&demo.net, &from).await?;
    let lines = collect(&demo.net, &from).await?;
    // 2 steps on 2 chains. Governance: begin (a transaction record and the user's nonce: 2 new
    // slots; the steps' op hashes: 2 new), 2 votes and 2 acks (1 update each). Business: 2
    // prepares (a txId state each: 2 new; the debit's balance: 1 update), 2 commits (state
    // updates: 2; bob's balance: 1). Audit: records ride in the reports (head and count: 2
    // updates).
    let bound = LowerBound::new(
        1 + 2 + 2 + 2 + 2,
        4 + 2,
        4 + 1 + 2 + 1 + 2,
        "begin, 2 votes, 2 acks, 2 prepares, 2 commits, the audit records inside the reports; new: tx record, nonce, 2 op hashes, 2 resource states; updates: 2 vote and 2 ack masks, 2 balances, 2 resource states, audit head and count",
    );
    reports.push(report("2PC transfer, 2 steps on 2 chains", lines, bound));

    let from = heads(&demo.net).await?;
    swap(&demo, &bank_a, &bank_b).await?;
    settle(&demo.net, &from).await?;
    let lines = collect(&demo.net, &from).await?;
    // Governance: propose (swap record: 2 new slots; nonce: 1 new), accept (1 update), 4 leg
    // records (1 update each). Business: 2 locks (lock record: 2 new each; sender balance: 1
    // update each), 2 unlocks (lock state: 1 update; recipient balance: 1 update each). Audit:
    // records ride in the reports (2 updates).
    let bound = LowerBound::new(
        1 + 1 + 4 + 2 + 2,
        3 + 4,
        1 + 4 + 2 + 4 + 2,
        "propose, accept, 4 leg records, 2 locks, 2 unlocks, the audit records inside the reports; new: swap record (2), nonce, 2 lock records (2 each); updates: accept, 4 leg states, 2 sender and 2 recipient balances, 2 lock states, audit head and count",
    );
    reports.push(report("HTLC swap", lines, bound));

    for r in relayers {
        let _ = r.server.shutdown().await;
        r.handle.shutdown().await;
    }
    bank_a.shutdown().await;
    bank_b.shutdown().await;

    // The relayers are gone: what follows is sent by the benchmark itself, as Bank A's relayer.
    for batched in [false, true] {
        let open = begin_transfers(&demo.net, REPORT_VOTES).await?;
        let from = heads(&demo.net).await?;
        send_votes(&demo.net, &open, batched).await?;
        let lines = collect(&demo.net, &from).await?;
        // Per vote: a vote mask update and the audit head and count. One report per vote pays
        // the base cost and every update cold each time. In one report the head and count are
        // the same two slots eight times: two cold updates, the rest warm (priced at nothing
        // here, so the bound stays a bound).
        let n = REPORT_VOTES as u64;
        let (scenario, bound) = if batched {
            let basis = "1 report of 8 votes with their records; updates: 8 vote masks, the audit head and count (the same two slots for every record)";
            (REPORT_BATCHED, LowerBound::new(1, 0, n + 2, basis))
        } else {
            let basis = "8 reports of 1 vote with its record; updates: a vote mask, the audit head and count per report";
            (REPORT_SINGLE, LowerBound::new(n, 0, 3 * n, basis))
        };
        reports.push(report(scenario, lines, bound));
    }
    Ok(reports)
}

/// Votes in the report scenarios.
const REPORT_VOTES: usize = 8;
/// The scenario names of the report comparison.
const REPORT_SINGLE: &str = "8 votes with their audit records, one report each";
const REPORT_BATCHED: &str = "8 votes with their audit records, one report";

/// Begins `count` transfers of alice (Bank A's relayer sends `begin`), returning their txIds.
async fn begin_transfers(net: &LocalConsortium, count: usize) -> Result<Vec<B256>, String> {
    let tm = TransactionManager::new(
        net.deployment.transaction_manager.address,
        net.gov.provider(keys::RELAYER_A).clone(),
    );
    let domain = tm_domain(net.deployment.chain_id, net.deployment.transaction_manager.address);
    let (alice, bob) = (net.address(keys::ALICE), net.address(keys::BOB));
    let now = net
        .gov
        .provider(keys::DEPLOYER)
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no latest block")?
        .header
        .timestamp;
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        let mut nonce = [0u8; 32];
        crossgov_relayer::audit::envelope::os_random(&mut nonce).map_err(|e| e.to_string())?;
        let request = TxRequest::builder(alice)
            .xa_step(&bench_path("zoneA.chainA.ledger")?, &XaOp::debit(alice, U256::from(1)))
            .xa_step(&bench_path("zoneB.chainB.ledger")?, &XaOp::credit(bob, U256::from(1)))
            .deadline(now + 3600)
            .nonce(U256::from_be_bytes(nonce))
            .build()
            .map_err(|e| e.to_string())?;
        let signature =
            request.sign(&domain, &net.signers[keys::ALICE]).map_err(|e| e.to_string())?;
        let tx_id = request.txId;
        let call = TransactionManager::beginCall { request, signature };
        let item = item_of(&call, ReportKind::Begin, tx_id, sealed(net, tx_id, CoverKind::Begun)?);
        mined(tm.report(vec![item]).send().await, "begin").await?;
        ids.push(tx_id);
    }
    Ok(ids)
}

fn bench_path(path: &str) -> Result<crossgov_relayer::IPath, String> {
    path.parse().map_err(|e| format!("{path}: {e}"))
}

/// Bank A's relayer votes yes on step 0 of each of `open`, each vote with an audit record for the
/// regulator in its report item: one report per vote, or one report of them all.
async fn send_votes(net: &LocalConsortium, open: &[B256], batched: bool) -> Result<(), String> {
    let provider = net.gov.provider(keys::RELAYER_A).clone();
    let tm = TransactionManager::new(net.deployment.transaction_manager.address, provider);
    let evidence = Bytes::from(vec![0xab; 32]);
    let mut items = Vec::new();
    for &tx_id in open {
        let call = TransactionManager::voteCall {
            txId: tx_id,
            step: 0,
            ok: true,
            evidence: evidence.clone(),
        };
        let item = item_of(&call, ReportKind::Vote, tx_id, sealed(net, tx_id, CoverKind::Voted)?);
        if batched {
            items.push(item);
        } else {
            mined(tm.report(vec![item]).send().await, "report").await?;
        }
    }
    if batched {
        mined(tm.report(items).send().await, "report").await?;
    }
    // Every item stood: each vote is recorded.
    for &tx_id in open {
        let t = tm.transaction(tx_id).call().await.map_err(|e| e.to_string())?;
        if t.votedMask != 1 {
            return Err(format!("report: the vote on {tx_id} did not stand"));
        }
    }
    Ok(())
}

/// A report item of `call` about `id` (its args are the call's arguments without the selector).
fn item_of<C: SolCall>(call: &C, kind: ReportKind, id: B256, envelope: Bytes) -> ReportItem {
    let mut args = Vec::new();
    call.abi_encode_raw(&mut args);
    ReportItem { kind: kind.into(), id, args: args.into(), envelope }
}

/// An audit record of a typical size for the consortium's regulator: 512 bytes that do not
/// compress, covering `kind` of step 0.
fn sealed(net: &LocalConsortium, subject: B256, kind: CoverKind) -> Result<Bytes, String> {
    let regulator = Recipient::from_xy(&public_key_xy(&net.regulator.public_key()))
        .map_err(|e| e.to_string())?;
    let mut body = vec![0u8; 512];
    crossgov_relayer::audit::envelope::os_random(&mut body).map_err(|e| e.to_string())?;
    let envelope = Envelope::seal(
        subject,
        &[CoverKey::new(kind, 0)],
        &body,
        std::slice::from_ref(&regulator),
        &mut crossgov_relayer::audit::envelope::os_random,
    )
    .map_err(|e| e.to_string())?;
    Ok(envelope.encode().into())
}

async fn mined(
    pending: Result<
        alloy::providers::PendingTransactionBuilder<alloy::network::Ethereum>,
        alloy::contract::Error,
    >,
    what: &str,
) -> Result<(), String> {
    let receipt = pending
        .map_err(|e| format!("{what}: {e}"))?
        .get_receipt()
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    if receipt.status() { Ok(()) } else { Err(format!("{what} reverted")) }
}

fn report(scenario: &str, lines: Vec<GasLine>, lower_bound: LowerBound) -> GasReport {
    let total: u64 = lines.iter().map(|l| l.gas).sum();
    let audit = lines.iter().filter(|l| l.function == "record").map(|l| l.gas).sum();
    #[allow(clippy::cast_precision_loss)] // gas figures are far below 2^52
    let ratio = total as f64 / lower_bound.gas as f64;
    GasReport { scenario: scenario.to_owned(), lines, total, audit, lower_bound, ratio }
}

fn chains(net: &LocalConsortium) -> [(&'static str, &DynProvider); 3] {
    [
        ("governance", net.gov.provider(keys::DEPLOYER)),
        ("zoneA.chainA", net.a.chain.provider(keys::DEPLOYER)),
        ("zoneB.chainB", net.b.chain.provider(keys::DEPLOYER)),
    ]
}

async fn heads(net: &LocalConsortium) -> Result<[u64; 3], String> {
    let mut out = [0; 3];
    for (i, (_, p)) in chains(net).into_iter().enumerate() {
        out[i] = p.get_block_number().await.map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Waits until no chain has mined anything for a few reconcile periods (the relayers are done).
async fn settle(net: &LocalConsortium, _from: &[u64; 3]) -> Result<(), String> {
    let mut last = heads(net).await?;
    let mut quiet = 0;
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = heads(net).await?;
        if now == last {
            quiet += 1;
            if quiet >= 5 {
                return Ok(());
            }
        } else {
            quiet = 0;
            last = now;
        }
    }
    Err("the chains did not settle within 20 s".into())
}

/// A contract's function name by selector.
type NameBySelector = fn([u8; 4]) -> Option<&'static str>;

fn contract_of(net: &LocalConsortium, to: Address) -> (&'static str, Option<NameBySelector>) {
    let d = &net.deployment;
    if to == d.transaction_manager.address {
        ("TransactionManager", Some(TransactionManagerCalls::name_by_selector))
    } else if to == d.supervision.address {
        ("Supervision", Some(SupervisionCalls::name_by_selector))
    } else if to == net.a.resources.xa_ledger.address || to == net.b.resources.xa_ledger.address {
        ("XaLedger", Some(XaLedgerCalls::name_by_selector))
    } else if to == net.a.resources.htlc_asset.address || to == net.b.resources.htlc_asset.address {
        ("HtlcAsset", Some(HtlcAssetCalls::name_by_selector))
    } else {
        ("other", None)
    }
}

/// Every transaction mined after `from` on each chain, grouped by (chain, contract, function).
async fn collect(net: &LocalConsortium, from: &[u64; 3]) -> Result<Vec<GasLine>, String> {
    let mut lines: BTreeMap<(String, String, String), GasLine> = BTreeMap::new();
    for (i, (chain, p)) in chains(net).into_iter().enumerate() {
        let head = p.get_block_number().await.map_err(|e| e.to_string())?;
        for number in from[i] + 1..=head {
            let block = p
                .get_block_by_number(number.into())
                .full()
                .await
                .map_err(|e| e.to_string())?
                .ok_or(format!("{chain}: no block {number}"))?;
            for tx in block.transactions.into_transactions() {
                let hash = *tx.inner.tx_hash();
                let receipt = p
                    .get_transaction_receipt(hash)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or(format!("{chain}: no receipt for {hash}"))?;
                let to = tx.to().unwrap_or_default();
                let (contract, names) = contract_of(net, to);
                let input = tx.input();
                let function = match (names, input.get(..4)) {
                    (Some(names), Some(sel)) => {
                        names([sel[0], sel[1], sel[2], sel[3]]).unwrap_or("unknown").to_owned()
                    }
                    _ => "unknown".to_owned(),
                };
                let shares = if function == "report" {
                    report_shares(input, receipt.gas_used)
                } else {
                    vec![(function, receipt.gas_used)]
                };
                for (function, gas) in shares {
                    let key = (chain.to_owned(), contract.to_owned(), function.clone());
                    let line = lines.entry(key).or_insert_with(|| GasLine {
                        chain: chain.to_owned(),
                        contract: contract.to_owned(),
                        function,
                        calls: 0,
                        gas: 0,
                    });
                    line.calls += 1;
                    line.gas += gas;
                }
            }
        }
    }
    Ok(lines.into_values().collect())
}

/// A report's gas shared equally among its items, each under `report(<entry point>)`: how the
/// relayers happened to pack their items (which depends on timing) then changes no line's name,
/// only how cheap each item was.
fn report_shares(input: &[u8], gas: u64) -> Vec<(String, u64)> {
    let Ok(call) = TransactionManager::reportCall::abi_decode(input) else {
        return vec![("report".to_owned(), gas)];
    };
    let n = call.items.len().max(1) as u64;
    call.items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let name = ReportKind::try_from(item.kind).map_or_else(
                |_| "report(unknown)".to_owned(),
                |k| format!("report({})", k.entry_point()),
            );
            // The remainder goes to the first item, so the lines add up to the receipts.
            (name, gas / n + if i == 0 { gas % n } else { 0 })
        })
        .collect()
}

/// The text table of the reports.
pub fn table(reports: &[GasReport]) -> String {
    let mut out = String::new();
    for r in reports {
        out.push_str(&format!("{}\n", r.scenario));
        out.push_str(&format!(
            "  {:<14} {:<20} {:<26} {:>5} {:>10}\n",
            "chain", "contract", "function", "calls", "gas"
        ));
        for l in &r.lines {
            out.push_str(&format!(
                "  {:<14} {:<20} {:<26} {:>5} {:>10}\n",
                l.chain, l.contract, l.function, l.calls, l.gas
            ));
        }
        // Records inside a report are not apart from the actions they cover.
        let audit = match (r.lines.iter().any(|l| l.function.starts_with("report")), r.audit) {
            (true, 0) => "inside the reports".to_owned(),
            (true, own) => format!("inside the reports, and {own} in records of their own"),
            (false, own) => own.to_string(),
        };
        out.push_str(&format!(
            "  total {} gas (audit records {}); lower bound {} ({} txs, {} new slots, {} updates); ratio {:.2}\n\n",
            r.total,
            audit,
            r.lower_bound.gas,
            r.lower_bound.transactions,
            r.lower_bound.new_slots,
            r.lower_bound.updated_slots,
            r.ratio
        ));
    }
    out
}

/// Figures that grew more than `tolerance` (0.05 = 5 %) over `baseline`, named.
pub fn regressions(baseline: &[GasReport], now: &[GasReport], tolerance: f64) -> Vec<String> {
    let mut out = Vec::new();
    for b in baseline {
        let Some(n) = now.iter().find(|n| n.scenario == b.scenario) else {
            out.push(format!("{}: scenario missing", b.scenario));
            continue;
        };
        #[allow(clippy::cast_precision_loss)]
        let grew = |was: u64, is: u64| is as f64 > was as f64 * (1.0 + tolerance);
        if grew(b.total, n.total) {
            out.push(format!("{}: total {} -> {}", b.scenario, b.total, n.total));
        }
        for bl in &b.lines {
            let is = n
                .lines
                .iter()
                .find(|l| {
                    l.chain == bl.chain && l.contract == bl.contract && l.function == bl.function
                })
                .map_or(0, |l| l.gas);
            if grew(bl.gas, is) {
                out.push(format!(
                    "{}: {} {}.{} {} -> {is}",
                    b.scenario, bl.chain, bl.contract, bl.function, bl.gas
                ));
            }
        }
        for nl in &n.lines {
            if !b.lines.iter().any(|l| {
                l.chain == nl.chain && l.contract == nl.contract && l.function == nl.function
            }) {
                out.push(format!(
                    "{}: new {} {}.{} ({} gas)",
                    b.scenario, nl.chain, nl.contract, nl.function, nl.gas
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(total: u64, lines: Vec<GasLine>) -> GasReport {
        report("s", lines, LowerBound::new(1, 0, 0, "x")).clone_with_total(total)
    }

    impl GasReport {
        fn clone_with_total(mut self, total: u64) -> GasReport {
            self.total = total;
            self
        }
    }

    fn line(function: &str, gas: u64) -> GasLine {
        GasLine {
            chain: "c".into(),
            contract: "K".into(),
            function: function.into(),
            calls: 1,
            gas,
        }
    }

    #[test]
    fn growth_over_five_percent_is_a_regression_and_below_is_not() {
        let base = [r(1000, vec![line("f", 1000)])];
        assert!(regressions(&base, &[r(1050, vec![line("f", 1050)])], 0.05).is_empty());
        let grown = regressions(&base, &[r(1051, vec![line("f", 1051)])], 0.05);
        assert_eq!(grown.len(), 2, "{grown:?}");
        let added = regressions(&base, &[r(1000, vec![line("f", 1000), line("g", 1)])], 0.05);
        assert_eq!(added, ["s: new c K.g (1 gas)"]);
    }

    #[test]
    fn lower_bound_prices_transactions_and_slots() {
        let b = LowerBound::new(2, 1, 1, "x");
        assert_eq!(b.gas, 2 * 21_000 + 22_100 + 5_000);
    }
}
