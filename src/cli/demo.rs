//! `crossgov demo`: builds the local consortium of `crossgov dev`, then shows the system working
//! and exits 0 with a summary table:
//!
//! 1. an atomic 2PC transfer, committed on both business chains;
//! 2. one aborted (insufficient funds), nothing moved;
//! 3. an HTLC swap between the two chains;
//! 4. a relayer killed mid-transaction (after `prepare`, before its vote) and another relayer of
//!    the same bank finishing it;
//! 5. the regulator decrypting and verifying the audit trail.
//!
//! The narration goes to stdout; progress while it waits goes to stderr. Every wait is bounded.

use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use clap::Args;
use crossgov_deploy::local::{LocalConsortium, keys};
use crossgov_relayer::IPath;
use crossgov_relayer::audit::regulator::open_record;
use crossgov_relayer::audit::trail::{fetch_records, reported_events};
use crossgov_relayer::audit::verify::{check, gather};
use crossgov_relayer::bindings::{LegState, SwapState, TransactionManager, TxState, XaTxState};
use crossgov_relayer::chain::DEFAULT_MAX_LOG_RANGE as RANGE;
use crossgov_relayer::protocol::htlc::LegId;
use crossgov_relayer::protocol::{Leg, SwapRequest, TxRequest, XaOp, htlc_domain, tm_domain};
use crossgov_relayer::runtime::RelayerHandle;
use crossgov_relayer::two_phase::{HookAction, ProtocolPoint};

use super::common::latest_block_time;
use super::dev::start_relayers;

/// `crossgov demo` options.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where manifests and relayer state go (default: a fresh temporary directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Give up when one step takes longer than this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub step_timeout_secs: u64,
}

/// One line of the summary table.
struct Row {
    scenario: &'static str,
    outcome: String,
    blocks: String,
    gov_txs: usize,
    business_txs: usize,
    gas: u64,
    records: usize,
}

/// Runs `crossgov demo`.
pub fn run(args: DemoArgs) -> std::process::ExitCode {
    // Relayer warnings only: the narration is the output.
    if let Err(e) = super::init_tracing(Some(super::dev::QUIET_POLLERS)) {
        eprintln!("crossgov: {e}");
        return std::process::ExitCode::FAILURE;
    }
    super::block_on(demo(args))
}

fn path(s: &str) -> Result<IPath, String> {
    s.parse().map_err(|e| format!("{s}: {e}"))
}

/// Polls `f` every 100 ms until it yields a value, at most `timeout`, showing progress on stderr
/// when `show`.
async fn wait_for<T, F, Fut>(
    what: &str,
    timeout: Duration,
    show: bool,
    mut f: F,
) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, String>>,
{
    let started = Instant::now();
    let mut shown = 0u64;
    if show {
        eprint!("   … waiting for {what} ");
    }
    loop {
        if let Some(v) = f().await? {
            if show {
                eprintln!("done in {:.1}s", started.elapsed().as_secs_f64());
            }
            return Ok(v);
        }
        if started.elapsed() > timeout {
            if show {
                eprintln!();
            }
            return Err(format!("timed out after {timeout:?} waiting for {what}"));
        }
        let secs = started.elapsed().as_secs();
        if show && secs > shown {
            shown = secs;
            eprint!(".");
            let _ = std::io::stderr().flush();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The local consortium with the demo's bounded waits (also used by the benchmarks).
pub(crate) struct Demo {
    pub(crate) net: LocalConsortium,
    pub(crate) timeout: Duration,
    /// Print what happens (the demo) or stay quiet (the benchmarks).
    pub(crate) narrate: bool,
}

impl Demo {
    pub(crate) fn gov(&self) -> &DynProvider {
        self.net.gov.provider(keys::DEPLOYER)
    }

    fn tm(&self) -> TransactionManager::TransactionManagerInstance<&DynProvider> {
        TransactionManager::new(self.net.deployment.transaction_manager.address, self.gov())
    }

    pub(crate) async fn tx_state(&self, tx_id: B256) -> Result<TxState, String> {
        let t = self.tm().transaction(tx_id).call().await.map_err(|e| e.to_string())?;
        TxState::try_from(t.state).map_err(|e| e.to_string())
    }

    pub(crate) async fn wait_tx(&self, tx_id: B256, want: &[TxState]) -> Result<TxState, String> {
        wait_for(
            &format!("the transaction to be {}", want[0]),
            self.timeout,
            self.narrate,
            || async {
                let s = self.tx_state(tx_id).await?;
                Ok(want.contains(&s).then_some(s))
            },
        )
        .await
    }

    async fn balances(&self) -> Result<[U256; 4], String> {
        let (alice, bob) = (self.net.address(keys::ALICE), self.net.address(keys::BOB));
        let call = |r: Result<U256, alloy::contract::Error>| r.map_err(|e| e.to_string());
        Ok([
            call(self.net.a.xa(keys::DEPLOYER).balanceOf(alice).call().await)?,
            call(self.net.b.xa(keys::DEPLOYER).balanceOf(bob).call().await)?,
            call(self.net.a.htlc(keys::DEPLOYER).balanceOf(bob).call().await)?,
            call(self.net.b.htlc(keys::DEPLOYER).balanceOf(alice).call().await)?,
        ])
    }

    /// "alice pays bob `amount`" (A to B), signed by alice: the request and its signature.
    pub(crate) async fn signed_transfer(&self, amount: u64) -> Result<(TxRequest, Bytes), String> {
        let (alice, bob) = (self.net.address(keys::ALICE), self.net.address(keys::BOB));
        let deadline = latest_block_time(self.gov()).await? + 3600;
        let request = TxRequest::builder(alice)
            .xa_step(&path("zoneA.chainA.ledger")?, &XaOp::debit(alice, U256::from(amount)))
            .xa_step(&path("zoneB.chainB.ledger")?, &XaOp::credit(bob, U256::from(amount)))
            .deadline(deadline)
            .build()
            .map_err(|e| e.to_string())?;
        let domain = tm_domain(
            self.net.deployment.chain_id,
            self.net.deployment.transaction_manager.address,
        );
        let signature =
            request.sign(&domain, &self.net.signers[keys::ALICE]).map_err(|e| e.to_string())?;
        Ok((request, signature))
    }

    /// Submits "alice pays bob `amount`" through `relayer`; returns the txId.
    pub(crate) async fn transfer(
        &self,
        relayer: &RelayerHandle,
        amount: u64,
    ) -> Result<B256, String> {
        let (request, signature) = self.signed_transfer(amount).await?;
        let tx_id = request.txId;
        let hash =
            relayer.submit_transaction(request, signature).await.map_err(|e| e.to_string())?;
        if self.narrate {
            println!("   alice signed txId {tx_id}; Bank A's relayer sent begin ({hash})");
        }
        Ok(tx_id)
    }

    /// Starts a relayer of Bank A (its first account, state under `name`) that dies right after
    /// `prepare` on chain A, submits "alice pays bob `amount`" through it, and returns once it
    /// has died: the transfer is prepared on A and not voted.
    pub(crate) async fn transfer_dying_after_prepare(
        &self,
        name: &str,
        amount: u64,
    ) -> Result<(RelayerHandle, B256), String> {
        let hook: crossgov_relayer::two_phase::ProtocolHook = Arc::new(|p: &ProtocolPoint| {
            if matches!(p, ProtocolPoint::Prepared { step: 0, .. }) {
                HookAction::Halt
            } else {
                HookAction::Continue
            }
        });
        let crashing = self
            .net
            .start_relayer(1, keys::RELAYER_A, name, Some(hook))
            .await
            .map_err(|e| e.to_string())?;
        let tx = self.transfer(&crashing, amount).await?;
        wait_for("the relayer to die after prepare", self.timeout, self.narrate, || async {
            Ok(crashing.is_stopped().then_some(()))
        })
        .await?;
        Ok((crashing, tx))
    }

    /// Blocks, transactions, gas and audit records of one subject.
    async fn row(
        &self,
        scenario: &'static str,
        subject: B256,
        outcome: String,
    ) -> Result<Row, String> {
        let d = &self.net.deployment;
        let head = self.gov().get_block_number().await.map_err(|e| e.to_string())?;
        let events = reported_events(
            self.gov(),
            d.transaction_manager.address,
            Some(subject),
            0,
            head,
            RANGE,
        )
        .await
        .map_err(|e| e.to_string())?;
        let records =
            fetch_records(self.gov(), d.supervision.address, 0, None, Some(subject), RANGE)
                .await
                .map_err(|e| e.to_string())?;
        let mut gov_txs: Vec<B256> = events.iter().map(|(_, e)| e.tx_hash).collect();
        gov_txs.extend(records.iter().map(|r| r.tx_hash));
        gov_txs.sort();
        gov_txs.dedup();
        let mut gas = 0u64;
        let mut blocks = Vec::new();
        for h in &gov_txs {
            if let Some(r) =
                self.gov().get_transaction_receipt(*h).await.map_err(|e| e.to_string())?
            {
                gas += r.gas_used;
                blocks.extend(r.block_number);
            }
        }
        // Business-chain transactions, as the trail names them.
        let mut business = Vec::new();
        for r in &records {
            let Ok(record) = open_record(r, &self.net.regulator) else { continue };
            for op in record.operations {
                let provider = match op.chain.as_str() {
                    "zoneA.chainA" => self.net.a.chain.provider(keys::DEPLOYER),
                    "zoneB.chainB" => self.net.b.chain.provider(keys::DEPLOYER),
                    _ => continue,
                };
                if let Some(h) = op.tx_hash.filter(|h| !business.contains(h)) {
                    if let Some(r) =
                        provider.get_transaction_receipt(h).await.map_err(|e| e.to_string())?
                    {
                        gas += r.gas_used;
                    }
                    business.push(h);
                }
            }
        }
        let blocks = match (blocks.iter().min(), blocks.iter().max()) {
            (Some(lo), Some(hi)) => format!("#{lo}–#{hi}"),
            _ => "-".into(),
        };
        Ok(Row {
            scenario,
            outcome,
            blocks,
            gov_txs: gov_txs.len(),
            business_txs: business.len(),
            gas,
            records: records.len(),
        })
    }
}

fn section(title: &str) {
    println!("\n{title}");
}

async fn demo(args: DemoArgs) -> Result<(), String> {
    let (dir, _tmp) = super::dev::work_dir(args.dir.as_deref())?;
    let started = Instant::now();
    println!("crossgov demo: a consortium of three banks, two business chains and a regulator");
    let progress = |s: &str| eprintln!("   · {s}");
    let net = LocalConsortium::start(&dir, &progress).await.map_err(|e| e.to_string())?;
    let demo = Demo { net, timeout: Duration::from_secs(args.step_timeout_secs), narrate: true };
    let mut relayers = start_relayers(&demo.net).await?;
    println!(
        "   governance chain {}, zoneA.chainA {}, zoneB.chainB {}; relayers of Bank A and Bank B running",
        demo.net.gov.rpc_url(),
        demo.net.a.chain.rpc_url(),
        demo.net.b.chain.rpc_url()
    );
    let (bank_a, bank_b) = (relayers[0].handle.clone(), relayers[1].handle.clone());
    let mut rows = Vec::new();

    section(
        "1. Atomic transfer: alice (Bank A) pays bob (Bank B) 100 — debit on zoneA.chainA, credit on zoneB.chainB",
    );
    let before = demo.balances().await?;
    let tx1 = demo.transfer(&bank_a, 100).await?;
    demo.wait_tx(tx1, &[TxState::Committed]).await?;
    let after = demo.balances().await?;
    println!(
        "   committed: alice {} → {} on chain A, bob {} → {} on chain B",
        before[0], after[0], before[1], after[1]
    );
    rows.push(demo.row("2PC transfer", tx1, "committed".into()).await?);

    section("2. Transfer beyond alice's balance: 5000");
    let tx2 = demo.transfer(&bank_a, 5000).await?;
    demo.wait_tx(tx2, &[TxState::Aborted]).await?;
    let now = demo.balances().await?;
    println!(
        "   aborted: chain A refused prepare, Bank A voted no, both steps rolled back; balances unchanged ({}, {})",
        now[0], now[1]
    );
    rows.push(demo.row("2PC over balance", tx2, "aborted".into()).await?);

    section("3. HTLC swap: alice pays bob 100 on chain A, bob pays alice 50 on chain B");
    let swap = swap(&demo, &bank_a, &bank_b).await?;
    let end = demo.balances().await?;
    println!(
        "   closed: bob received {} on chain A's asset, alice {} on chain B's; the secret was revealed on chain B first",
        end[2], end[3]
    );
    rows.push(demo.row("HTLC swap", swap, "both legs unlocked".into()).await?);

    section(
        "4. Bank A's relayer dies after preparing on chain A, before voting; Bank A's second relayer finishes",
    );
    let a = relayers.remove(0);
    let _ = a.server.shutdown().await;
    a.handle.shutdown().await;
    let (crashing, tx4) = demo.transfer_dying_after_prepare("bank-a-crashing", 25).await?;
    let state = demo.tx_state(tx4).await?;
    let xa = demo.net.a.xa(keys::DEPLOYER).stateOf(tx4).call().await.map_err(|e| e.to_string())?;
    let xa = XaTxState::try_from(xa).map_err(|e| e.to_string())?;
    println!(
        "   relayer {} stopped: transaction {state}, chain A's ledger holds it {xa}, no vote yet",
        crashing.address()
    );
    let takeover = demo
        .net
        .start_relayer(1, keys::RELAYER_A2, "bank-a-2", None)
        .await
        .map_err(|e| e.to_string())?;
    demo.wait_tx(tx4, &[TxState::Committed]).await?;
    let voted = voter_of_step0(&demo, tx4).await?;
    println!(
        "   committed: step A voted by {voted} (Bank A's second relayer), from chain state alone"
    );
    rows.push(demo.row("relayer crash + takeover", tx4, "committed".into()).await?);

    section("5. The regulator reads and verifies the audit trail");
    regulator(&demo, &[(tx1, "transfer"), (tx2, "aborted"), (swap, "swap"), (tx4, "takeover")])
        .await?;

    println!("\nsummary ({:.0}s)", started.elapsed().as_secs_f64());
    println!(
        "  {:<26} {:<20} {:>16} {:>8} {:>8} {:>10} {:>8}",
        "scenario", "outcome", "gov blocks", "gov txs", "biz txs", "gas", "records"
    );
    for r in &rows {
        println!(
            "  {:<26} {:<20} {:>16} {:>8} {:>8} {:>10} {:>8}",
            r.scenario, r.outcome, r.blocks, r.gov_txs, r.business_txs, r.gas, r.records
        );
    }
    takeover.shutdown().await;
    crashing.shutdown().await;
    bank_a.shutdown().await;
    for r in relayers {
        let _ = r.server.shutdown().await;
        r.handle.shutdown().await;
    }
    drop(demo);
    Ok(())
}

pub(crate) async fn swap(
    demo: &Demo,
    bank_a: &RelayerHandle,
    bank_b: &RelayerHandle,
) -> Result<B256, String> {
    swap_amounts(demo, bank_a, bank_b, (100, 50)).await
}

/// alice pays bob `amount_a` on chain A's asset, bob pays alice `amount_b` on chain B's; returns
/// once the swap is closed with both legs unlocked.
pub(crate) async fn swap_amounts(
    demo: &Demo,
    bank_a: &RelayerHandle,
    bank_b: &RelayerHandle,
    (amount_a, amount_b): (u64, u64),
) -> Result<B256, String> {
    let net = &demo.net;
    let (alice, bob) = (net.address(keys::ALICE), net.address(keys::BOB));
    let now_a = latest_block_time(net.a.chain.provider(keys::DEPLOYER)).await?;
    let now_b = latest_block_time(net.b.chain.provider(keys::DEPLOYER)).await?;
    let hashlock = bank_a.generate_swap_secret().map_err(|e| e.to_string())?;
    let request = SwapRequest::new(
        hashlock,
        Leg::new(&path("zoneA.chainA.asset")?, alice, bob, U256::from(amount_a), now_a + 3 * 3600),
        Leg::new(&path("zoneB.chainB.asset")?, bob, alice, U256::from(amount_b), now_b + 3600),
    );
    let swap_id = request.swapId;
    let domain = tm_domain(net.deployment.chain_id, net.deployment.transaction_manager.address);
    let sign = |k: usize| request.sign(&domain, &net.signers[k]).map_err(|e| e.to_string());
    let lock = |leg: LegId, k: usize| {
        let d = match leg {
            LegId::A => htlc_domain(net.a.resources.chain_id, net.a.resources.htlc_asset.address),
            LegId::B => htlc_domain(net.b.resources.chain_id, net.b.resources.htlc_asset.address),
        };
        request.lock(leg).sign(&d, &net.signers[k]).map_err(|e| e.to_string())
    };
    let (by_alice, lock_a, by_bob, lock_b) = (
        sign(keys::ALICE)?,
        lock(LegId::A, keys::ALICE)?,
        sign(keys::BOB)?,
        lock(LegId::B, keys::BOB)?,
    );
    let proposed = bank_a
        .propose_swap(request.clone(), by_alice, lock_a, None)
        .await
        .map_err(|e| e.to_string())?;
    if demo.narrate {
        println!(
            "   Bank A's relayer kept the secret and proposed swap {swap_id} ({})",
            proposed.tx_hash
        );
    }
    let accepted = bank_b.accept_swap(swap_id, by_bob, lock_b).await.map_err(|e| e.to_string())?;
    if demo.narrate {
        println!("   bob accepted through Bank B's relayer ({accepted})");
    }
    wait_for(
        "both legs locked, the secret revealed and both unlocked",
        demo.timeout,
        demo.narrate,
        || async {
            let s = demo.tm().swap(swap_id).call().await.map_err(|e| e.to_string())?;
            let closed = SwapState::try_from(s.state) == Ok(SwapState::Closed)
                && LegState::try_from(s.legA) == Ok(LegState::Unlocked)
                && LegState::try_from(s.legB) == Ok(LegState::Unlocked);
            Ok(closed.then_some(()))
        },
    )
    .await?;
    Ok(swap_id)
}

async fn voter_of_step0(demo: &Demo, tx_id: B256) -> Result<Address, String> {
    let filter = alloy::rpc::types::Filter::new()
        .address(demo.net.deployment.transaction_manager.address)
        .event_signature(
            <TransactionManager::StepVoted as alloy::sol_types::SolEvent>::SIGNATURE_HASH,
        )
        .topic1(tx_id)
        .topic2(B256::ZERO)
        .from_block(0);
    let logs = demo.gov().get_logs(&filter).await.map_err(|e| e.to_string())?;
    let log = logs.first().ok_or("no vote on step 0")?;
    let voted = log.log_decode::<TransactionManager::StepVoted>().map_err(|e| e.to_string())?;
    Ok(voted.inner.data.relayer)
}

async fn regulator(demo: &Demo, subjects: &[(B256, &str)]) -> Result<(), String> {
    let facts = gather(demo.gov(), &demo.net.deployment.trail_sources(), None, None)
        .await
        .map_err(|e| e.to_string())?;
    let report = check(&facts, Some(&demo.net.regulator), true);
    let verified = report.chain.clone().map_err(|e| e.to_string())?;
    if !report.ok() {
        return Err(format!(
            "the trail does not verify: {} records fail, {} governance reports have no valid audit record",
            report.findings.len(),
            report.uncovered.len()
        ));
    }
    let (records, events) = (&facts.records, &facts.events);
    println!(
        "   {} records, hash chain verified up to head {verified}; all {} governance reports audited",
        records.len(),
        events.len()
    );
    for (subject, name) in subjects {
        let mine: Vec<_> = records.iter().filter(|r| r.subject == *subject).collect();
        let mut ops = 0;
        for r in &mine {
            ops += open_record(r, &demo.net.regulator).map_err(|e| e.to_string())?.operations.len();
        }
        println!("   {name:<9} {subject}: {} records, {ops} operations decrypted", mine.len());
    }
    if let Some(first) = records.iter().find(|r| r.subject == subjects[0].0) {
        let record = open_record(first, &demo.net.regulator).map_err(|e| e.to_string())?;
        let json = serde_json::to_string_pretty(&record).map_err(|e| e.to_string())?;
        println!("   record {} decrypted with the regulator's key:", first.index);
        for line in json.lines() {
            println!("     {line}");
        }
    }
    let stranger = k256::SecretKey::from_slice(demo.net.signers[keys::ALICE].to_bytes().as_slice())
        .map_err(|e| e.to_string())?;
    if let Some(r) = records.first() {
        let err = open_record(r, &stranger).err().ok_or("alice's key opened a record")?;
        println!("   alice's key cannot: {err}");
    }
    Ok(())
}
