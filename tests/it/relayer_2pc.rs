//! The relayer runtime driving 2PC end to end: three real anvils (governance chain, zoneA.chainA,
//! zoneB.chainB), relayers running as tokio tasks through `crossgov_relayer::runtime`, requests
//! submitted through `RelayerHandle::submit_transaction`. Time moves only by anvil's clock RPCs;
//! waits are bounded polls on chain state.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::Filter;
use alloy::sol_types::{Eip712Domain, SolEvent};

use crossgov_relayer::bindings::{TransactionManager, TxState, XaTxState};
use crossgov_relayer::protocol::{TxRequest, XaOp, tm_domain};
use crossgov_relayer::runtime::{
    ChainEndpoint, Metrics, Relayer, RelayerHandle, RelayerSettings, ServedChain, SubmitError,
};
use crossgov_relayer::two_phase::{HookAction, ProtocolHook, ProtocolPoint};
use crossgov_relayer::{IPath, Ops};

use crate::audit::{complete_trail, operation, summary};
use crate::consortium::{
    ADMIN1, ADMIN2, ALICE, BOB, Consortium, RELAYER_A, RELAYER_A2, RELAYER_B, Setup,
};
use crate::harness::{
    BusinessChain, DEPLOYER, TestNet, advance_time, latest_timestamp, seg, send, wait_for,
};

const CAROL: usize = 8; // user of (1) without any grant; alice has TWO_PHASE on both chains

const CHAIN_A_ID: u64 = 2001;
const CHAIN_B_ID: u64 = 2002;
const LEDGER_A: &str = "zoneA.chainA.ledger";
const LEDGER_B: &str = "zoneB.chainB.ledger";
const ALICE_OPENING: u64 = 1_000;
const HOUR: u64 = 3_600;

fn path(s: &str) -> IPath {
    s.parse().expect("valid iPath")
}

fn u(v: u64) -> U256 {
    U256::from(v)
}

#[derive(Debug)]
struct Net {
    gov: TestNet,
    a: BusinessChain,
    b: BusinessChain,
    regulator: k256::SecretKey,
    dirs: Vec<tempfile::TempDir>,
}

/// Balances on both ledgers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Balances {
    alice_a: U256,
    escrow_a: U256,
    bob_b: U256,
    pending_b: U256,
}

impl Net {
    async fn start() -> Net {
        crate::harness::init_test_logs();
        let setup = Setup { more_users_1: &[CAROL], grantees: &[ALICE], ops: Ops::TWO_PHASE };
        let Consortium { gov, a, b, regulator } =
            Consortium::start((CHAIN_A_ID, CHAIN_B_ID), setup).await;
        let net = Net { gov, a, b, regulator, dirs: Vec::new() };
        for (chain, owner, relayers) in
            [(&net.a, ADMIN1, vec![RELAYER_A, RELAYER_A2]), (&net.b, ADMIN2, vec![RELAYER_B])]
        {
            for relayer in relayers {
                let relayer = chain.accounts[relayer].address;
                send("setRelayer", chain.xa(owner).setRelayer(relayer, true)).await;
            }
        }
        send("mint", net.a.xa(ADMIN1).mint(net.gov.address(ALICE), u(ALICE_OPENING))).await;
        net
    }

    fn gov_provider(&self) -> &DynProvider {
        &self.gov.accounts[DEPLOYER].provider
    }

    fn tm_address(&self) -> Address {
        self.gov.deployment.transaction_manager.address
    }

    /// Calls a governance-node method the test drives the chain with (`evm_mine`, …).
    async fn gov_rpc(&self, method: &'static str, params: serde_json::Value) {
        let _: serde_json::Value =
            self.gov_provider().raw_request(method.into(), params).await.expect(method);
    }

    /// Whether institution 1's first relayer has a governance transaction in the pool.
    async fn relayer_a_pending(&self) -> bool {
        let (p, relayer) = (self.gov_provider(), self.gov.accounts[RELAYER_A].address);
        let latest = p.get_transaction_count(relayer).await.expect("nonce");
        let pending = p.get_transaction_count(relayer).pending().await.expect("nonce");
        pending > latest
    }

    /// Institution 1's relayer that replaces a crashed one (`state_dir`: the crashed one's).
    async fn replacement(&mut self, recovery: Recovery, state_dir: PathBuf) -> RelayerHandle {
        match recovery {
            Recovery::Takeover => self.relayer(1, RELAYER_A2, None).await,
            Recovery::Fresh => self.relayer(1, RELAYER_A, None).await,
            Recovery::Restart => {
                let mut settings = self.settings(1);
                settings.state_dir = state_dir;
                let signer = self.gov.accounts[RELAYER_A].signer.clone();
                Relayer::start(settings, signer, Arc::new(Metrics::new())).await.expect("restart")
            }
        }
    }

    fn domain(&self) -> Eip712Domain {
        tm_domain(self.gov.deployment.chain_id, self.tm_address())
    }

    fn settings(&mut self, institution: u64) -> RelayerSettings {
        let d = &self.gov.deployment;
        let contracts = d.governance_addresses();
        let (zone, chain, business, ledger) = if institution == 1 {
            ("zoneA", "chainA", &self.a, "ledger")
        } else {
            ("zoneB", "chainB", &self.b, "ledger")
        };
        let served = ServedChain {
            zone: seg(zone),
            chain: seg(chain),
            rpc_url: business.anvil.endpoint_url(),
            confirmations: 1,
            resources: BTreeMap::from([(seg(ledger), business.resources.xa_ledger.address)]),
            options: crossgov_relayer::chain::ChainOptions::default(),
        };
        let dir = tempfile::tempdir().expect("state dir");
        let state_dir = dir.path().to_path_buf();
        self.dirs.push(dir);
        RelayerSettings {
            institution,
            governance: ChainEndpoint {
                rpc_url: self.gov.anvil.endpoint_url(),
                chain_id: Some(d.chain_id),
                confirmations: 1,
                contracts,
                options: crossgov_relayer::chain::ChainOptions::default(),
            },
            chains: vec![served],
            state_dir,
            poll_interval: Duration::from_millis(50),
            reconcile_every_blocks: 1,
            health: crossgov_relayer::health::HealthPolicy::default(),
            max_open_work: crossgov_relayer::runtime::DEFAULT_MAX_OPEN_WORK,
        }
    }

    /// Starts a relayer of `institution` with dev key `key` (and a fresh, empty state dir).
    async fn relayer(
        &mut self,
        institution: u64,
        key: usize,
        hook: Option<ProtocolHook>,
    ) -> RelayerHandle {
        let settings = self.settings(institution);
        let signer = self.gov.accounts[key].signer.clone();
        Relayer::start_with_hook(settings, signer, Arc::new(Metrics::new()), hook)
            .await
            .expect("start relayer")
    }

    async fn transfer(&self, from: usize, amount: u64, ttl: u64) -> TxRequest {
        let now = latest_timestamp(self.gov_provider()).await;
        TxRequest::builder(self.gov.address(from))
            .xa_step(&path(LEDGER_A), &XaOp::debit(self.gov.address(from), u(amount)))
            .xa_step(&path(LEDGER_B), &XaOp::credit(self.gov.address(BOB), u(amount)))
            .deadline(now + ttl)
            .build()
            .expect("valid request")
    }

    fn sign(&self, request: &TxRequest, key: usize) -> Bytes {
        request.sign(&self.domain(), &self.gov.accounts[key].signer).expect("sign")
    }

    async fn tx_state(&self, tx_id: B256) -> (TxState, u16, u16, u16) {
        let t = self.gov.tm(DEPLOYER).transaction(tx_id).call().await.expect("transaction");
        (TxState::try_from(t.state).expect("state"), t.votedMask, t.yesMask, t.ackedMask)
    }

    async fn wait_state(&self, tx_id: B256, want: TxState) {
        wait_for(&format!("{tx_id} to be {want}"), || async {
            (self.tx_state(tx_id).await.0 == want).then_some(())
        })
        .await;
    }

    async fn xa_states(&self, tx_id: B256) -> (XaTxState, XaTxState) {
        let a = self.a.xa(DEPLOYER).stateOf(tx_id).call().await.expect("stateOf A");
        let b = self.b.xa(DEPLOYER).stateOf(tx_id).call().await.expect("stateOf B");
        (XaTxState::try_from(a).expect("A"), XaTxState::try_from(b).expect("B"))
    }

    async fn balances(&self) -> Balances {
        let (xa, xb) = (self.a.xa(DEPLOYER), self.b.xa(DEPLOYER));
        Balances {
            alice_a: xa.balanceOf(self.gov.address(ALICE)).call().await.expect("balance"),
            escrow_a: xa.escrowed().call().await.expect("escrowed"),
            bob_b: xb.balanceOf(self.gov.address(BOB)).call().await.expect("balance"),
            pending_b: xb.pendingCredits().call().await.expect("pendingCredits"),
        }
    }

    /// Asserts a committed transfer of `amount` whose every step is acked, on top of `before`.
    async fn assert_committed(&self, tx_id: B256, before: Balances, amount: u64) {
        assert_eq!(self.tx_state(tx_id).await, (TxState::Committed, 0b11, 0b11, 0b11));
        assert_eq!(self.xa_states(tx_id).await, (XaTxState::Committed, XaTxState::Committed));
        let after = self.balances().await;
        assert_eq!(
            after,
            Balances {
                alice_a: before.alice_a - u(amount),
                bob_b: before.bob_b + u(amount),
                escrow_a: U256::ZERO,
                pending_b: U256::ZERO,
            }
        );
    }

    async fn begun_logs(&self) -> usize {
        let filter = Filter::new()
            .address(self.tm_address())
            .event_signature(TransactionManager::TransactionBegun::SIGNATURE_HASH)
            .from_block(0);
        self.gov_provider().get_logs(&filter).await.expect("logs").len()
    }
}

fn halt_at(target: fn(&ProtocolPoint) -> bool) -> ProtocolHook {
    Arc::new(
        move |p: &ProtocolPoint| if target(p) { HookAction::Halt } else { HookAction::Continue },
    )
}

async fn wait_stopped(handle: &RelayerHandle) {
    wait_for("the relayer to halt", || async { handle.is_stopped().then_some(()) }).await;
}

#[tokio::test]
async fn relayer_2pc_commits_a_transfer() {
    let mut net = Net::start().await;
    let r1 = net.relayer(1, RELAYER_A, None).await;
    let r2 = net.relayer(2, RELAYER_B, None).await;
    let before = net.balances().await;
    let request = net.transfer(ALICE, 100, HOUR).await;
    let tx_id = request.txId;
    let signature = net.sign(&request, ALICE);
    r1.submit_transaction(request, signature).await.expect("submit");
    net.wait_state(tx_id, TxState::Committed).await;
    net.assert_committed(tx_id, before, 100).await;

    // The chain shows Committed once the last ack is mined; the relayer lists its ack once the
    // receipt is back, which can be a poll later.
    let status = wait_for("the relayer to list its ack", || async {
        let status = r1.transaction_status(tx_id).await.expect("status").expect("known");
        status.governance_txs.iter().any(|s| s.action == "ack").then_some(status)
    })
    .await;
    assert_eq!(status.state, TxState::Committed);
    assert_eq!(status.steps.len(), 2);
    assert!(status.steps[0].served && !status.steps[1].served);
    assert_eq!(status.steps[0].resource_state, Some(XaTxState::Committed));
    assert!(status.steps.iter().all(|s| s.acked && s.vote == Some(true)));
    // `begin` is recorded when its receipt is confirmed, which may be after the loop voted.
    let mut actions: Vec<_> = status.governance_txs.iter().map(|s| s.action).collect();
    actions.sort_unstable();
    assert_eq!(actions, ["ack", "begin", "vote"]);
    let actions: Vec<_> = status.business_txs.iter().map(|s| s.action).collect();
    assert_eq!(actions, ["prepare", "commit"]);
    assert!(r1.transaction_status(B256::repeat_byte(9)).await.expect("status").is_none());

    // The regulator reads the whole trail: one record per governance report, written by the
    // relayer that reported it, inside the report.
    let trail = complete_trail(&net.gov, &net.regulator, tx_id, true).await;
    assert_eq!(trail.len(), 5, "begin, two votes, two acks");
    let tm_logs = net
        .gov_provider()
        .get_logs(&Filter::new().address(net.tm_address()).topic1(tx_id).from_block(0))
        .await
        .expect("logs");
    let reports: BTreeSet<B256> = tm_logs.iter().filter_map(|l| l.transaction_hash).collect();
    let carried: BTreeSet<B256> = trail.iter().map(|(r, _)| r.tx_hash).collect();
    assert_eq!(reports.len(), 5, "five governance transactions in all");
    assert_eq!(carried, reports, "each record rode in the report it covers");
    assert_eq!(
        summary(&trail),
        [
            "ack StepAcked(step 0)",
            "ack StepAcked(step 1)",
            "begin TransactionBegun",
            "commit StepAcked(step 0)",
            "commit StepAcked(step 1)",
            "prepare StepVoted(step 0)",
            "prepare StepVoted(step 1)",
            "vote StepVoted(step 0)",
            "vote StepVoted(step 1)",
        ]
    );
    let prepare = operation(&trail, "prepare", "StepVoted(step 0)");
    assert_eq!(prepare.path.as_deref(), Some(LEDGER_A));
    assert_eq!(prepare.chain, "zoneA.chainA");
    assert_eq!(prepare.result, "ok");
    assert_eq!(prepare.arguments["op"]["kind"], "DEBIT");
    assert_eq!(prepare.arguments["op"]["amount"], "100");
    let prepared_log = net
        .a
        .provider()
        .get_logs(
            &Filter::new()
                .address(net.a.resources.xa_ledger.address)
                .event_signature(crossgov_relayer::bindings::XaLedger::Prepared::SIGNATURE_HASH)
                .topic1(tx_id)
                .from_block(0),
        )
        .await
        .expect("logs");
    assert_eq!(prepare.tx_hash, prepared_log[0].transaction_hash, "the business tx of prepare");
    assert_eq!(prepare.performed_by, Some(net.gov.address(RELAYER_A)));
    let vote = operation(&trail, "vote", "StepVoted(step 1)");
    assert_eq!((vote.result.as_str(), &vote.arguments["ok"]), ("pending", &true.into()));
    for (r, record) in &trail {
        assert_eq!(record.subject, tx_id);
        assert_eq!((record.initiator, record.initiator_institution), (net.gov.address(ALICE), 1));
        let writer = if r.institution == 1 { RELAYER_A } else { RELAYER_B };
        assert_eq!(r.relayer, net.gov.address(writer));
    }
    let begin = operation(&trail, "begin", "TransactionBegun");
    assert_eq!(begin.arguments["steps"][1]["path"], LEDGER_B);
    let health = r1.health();
    assert!(health.is_healthy(), "{health:?}");
    assert_eq!(health.chains.len(), 2);
    assert!(health.last_reconcile_at.is_some());
    let checkpoint = net.dirs[0].path().join("checkpoint.json");
    assert!(checkpoint.exists(), "the watcher keeps a checkpoint");
    r1.shutdown().await;
    r2.shutdown().await;
}

/// Reports that are ready together leave in one governance transaction (`TransactionManager.report`),
/// each item with its own record and outcome: every transfer commits with a complete trail, in far
/// fewer governance transactions than report items.
#[tokio::test]
async fn relayer_2pc_batches_ready_reports_into_one_transaction() {
    const TRANSFERS: usize = 8;
    let mut net = Net::start().await;
    let metrics = Arc::new(Metrics::new());
    let settings = net.settings(1);
    let signer = net.gov.accounts[RELAYER_A].signer.clone();
    let r1 = Relayer::start(settings, signer, metrics.clone()).await.expect("start relayer");
    let r2 = net.relayer(2, RELAYER_B, None).await;
    // A block every second, as on a real chain: what becomes ready while a report is being mined
    // waits for the next one.
    let p = net.gov_provider().clone();
    let _: serde_json::Value = p.raw_request("evm_setAutomine".into(), [false]).await.expect("rpc");
    let _: serde_json::Value =
        p.raw_request("evm_setIntervalMining".into(), [1]).await.expect("rpc");
    let from = p.get_block_number().await.expect("head");
    let before = net.balances().await;
    let mut requests = Vec::new();
    for _ in 0..TRANSFERS {
        let request = net.transfer(ALICE, 1, HOUR).await;
        let signature = net.sign(&request, ALICE);
        requests.push((request, signature));
    }
    let ids: Vec<B256> = requests.iter().map(|(r, _)| r.txId).collect();
    let submits = requests.into_iter().map(|(r, s)| r1.submit_transaction(r, s));
    futures_util::future::try_join_all(submits).await.expect("submit");
    for id in &ids {
        net.wait_state(*id, TxState::Committed).await;
    }
    let after = net.balances().await;
    assert_eq!(after.alice_a, before.alice_a - u(TRANSFERS as u64));
    assert_eq!(after.bob_b, before.bob_b + u(TRANSFERS as u64));
    for id in &ids {
        let trail = complete_trail(&net.gov, &net.regulator, *id, true).await;
        assert_eq!(trail.len(), 5, "begin, two votes, two acks, each with its record");
    }
    let logs = p
        .get_logs(&Filter::new().address(net.tm_address()).from_block(from + 1))
        .await
        .expect("logs");
    let items = logs
        .iter()
        .filter(|l| {
            l.topic0().is_some_and(|t| {
                [
                    TransactionManager::TransactionBegun::SIGNATURE_HASH,
                    TransactionManager::StepVoted::SIGNATURE_HASH,
                    TransactionManager::StepAcked::SIGNATURE_HASH,
                ]
                .contains(t)
            })
        })
        .count();
    let reports: BTreeSet<B256> = logs.iter().filter_map(|l| l.transaction_hash).collect();
    assert_eq!(items, 5 * TRANSFERS);
    assert!(
        reports.len() * 2 <= items,
        "{} governance transactions for {items} report items",
        reports.len()
    );
    // The relayer's metrics show batches of several items.
    let text = metrics.encode();
    let count = text
        .lines()
        .find_map(|l| l.strip_prefix("crossgov_relayer_report_items_count "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .expect("report_items_count in the metrics");
    let sum = text
        .lines()
        .find_map(|l| l.strip_prefix("crossgov_relayer_report_items_sum "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .expect("report_items_sum in the metrics");
    assert!(sum / count >= 2.0, "{sum} items in {count} reports by Bank A's relayer");
    r1.shutdown().await;
    r2.shutdown().await;
}

/// A relayer that dies with a report unmined sends nothing more from its account: its batch
/// sender stops with it. Were it left running, it would re-send (and bump) what the node dropped
/// on a nonce a restarted relayer of the same account also uses.
#[tokio::test]
async fn relayer_aborted_with_a_report_unmined_sends_nothing_more() {
    let mut net = Net::start().await;
    let r1 = net.relayer(1, RELAYER_A, None).await;
    let p = net.gov_provider().clone();
    let relayer = net.gov.accounts[RELAYER_A].address;
    net.gov_rpc("evm_setAutomine", serde_json::json!([false])).await;
    let nonce = p.get_transaction_count(relayer).await.expect("nonce");
    let request = net.transfer(ALICE, 1, HOUR).await;
    let tx_id = request.txId;
    let signature = net.sign(&request, ALICE);
    let submit = {
        let r1 = r1.clone();
        tokio::spawn(async move { r1.submit_transaction(request, signature).await })
    };
    wait_for("the begin report in the pool", || async {
        net.relayer_a_pending().await.then_some(())
    })
    .await;
    r1.abort();
    // The submitter learns at once that its report's fate is not known to this relayer.
    let outcome =
        tokio::time::timeout(crate::harness::WAIT, submit).await.expect("bounded").expect("join");
    assert!(outcome.is_err(), "{outcome:?}");
    // The node loses the report (as a restarted node's pool is lost); blocks go by.
    net.gov_rpc("anvil_dropAllTransactions", serde_json::json!([])).await;
    for _ in 0..4 {
        net.gov_rpc("evm_mine", serde_json::json!([])).await;
    }
    assert!(!net.relayer_a_pending().await, "nothing re-sent from the dead relayer's account");
    assert_eq!(p.get_transaction_count(relayer).await.expect("nonce"), nonce);
    assert_eq!(net.tx_state(tx_id).await.0, TxState::None, "never begun");
}

#[tokio::test]
async fn relayer_2pc_aborts_on_insufficient_funds() {
    let mut net = Net::start().await;
    let r1 = net.relayer(1, RELAYER_A, None).await;
    let r2 = net.relayer(2, RELAYER_B, None).await;
    let before = net.balances().await;
    let request = net.transfer(ALICE, ALICE_OPENING + 1, HOUR).await;
    let tx_id = request.txId;
    let signature = net.sign(&request, ALICE);
    r1.submit_transaction(request, signature).await.expect("submit");
    net.wait_state(tx_id, TxState::Aborted).await;
    let (state, voted, yes, acked) = net.tx_state(tx_id).await;
    assert_eq!((state, acked), (TxState::Aborted, 0b11));
    assert_eq!(yes & 1, 0, "step A voted no");
    assert!(voted & 1 != 0);
    assert_eq!(net.xa_states(tx_id).await.1, XaTxState::RolledBack);
    assert_ne!(net.xa_states(tx_id).await.0, XaTxState::Committed);
    assert_eq!(net.balances().await, before);
    let trail = complete_trail(&net.gov, &net.regulator, tx_id, true).await;
    let refused = operation(&trail, "prepare", "StepVoted(step 0)");
    assert!(refused.result.starts_with("refused: "), "{}", refused.result);
    assert!(refused.result.contains("XaInsufficientBalance"), "{}", refused.result);
    assert_eq!(refused.tx_hash, None, "a refused prepare sends nothing");
    assert_eq!(operation(&trail, "vote", "StepVoted(step 0)").arguments["ok"], false);
    for step in 0..2 {
        operation(&trail, "rollback", &format!("StepAcked(step {step})"));
        operation(&trail, "ack", &format!("StepAcked(step {step})"));
    }
    r1.shutdown().await;
    r2.shutdown().await;
}

#[tokio::test]
async fn relayer_2pc_expires_when_a_relayer_is_down() {
    let mut net = Net::start().await;
    let r1 = net.relayer(1, RELAYER_A, None).await;
    let before = net.balances().await;
    let request = net.transfer(ALICE, 100, HOUR).await;
    let tx_id = request.txId;
    let signature = net.sign(&request, ALICE);
    r1.submit_transaction(request, signature).await.expect("submit");
    // Step A prepares and votes; step B (I2's relayer is down) never does.
    wait_for("step A voted", || async { (net.tx_state(tx_id).await.1 == 0b01).then_some(()) })
        .await;
    assert_eq!(net.tx_state(tx_id).await.0, TxState::Preparing);
    advance_time(net.gov_provider(), HOUR + 1).await;
    // I1's relayer expires it and rolls back A.
    wait_for("step A rolled back and acked", || async {
        let (state, _, _, acked) = net.tx_state(tx_id).await;
        (state == TxState::Aborting && acked == 0b01).then_some(())
    })
    .await;
    assert_eq!(net.xa_states(tx_id).await, (XaTxState::RolledBack, XaTxState::None));
    // I2's relayer comes up and finishes: rollback of a never-prepared step records the abort.
    let r2 = net.relayer(2, RELAYER_B, None).await;
    net.wait_state(tx_id, TxState::Aborted).await;
    assert_eq!(net.xa_states(tx_id).await, (XaTxState::RolledBack, XaTxState::RolledBack));
    assert_eq!(net.balances().await, before);
    let trail = complete_trail(&net.gov, &net.regulator, tx_id, true).await;
    assert_eq!(
        summary(&trail),
        [
            "ack StepAcked(step 0)",
            "ack StepAcked(step 1)",
            "begin TransactionBegun",
            "expire TransactionExpired",
            "prepare StepVoted(step 0)",
            "rollback StepAcked(step 0)",
            "rollback StepAcked(step 1)",
            "vote StepVoted(step 0)",
        ]
    );
    r1.shutdown().await;
    r2.shutdown().await;
}

#[tokio::test]
async fn relayer_2pc_resumes_after_crash_points() {
    let mut net = Net::start().await;
    let r2 = net.relayer(2, RELAYER_B, None).await;
    type Check = fn(TxState, u16, u16, XaTxState) -> bool;
    type Point = fn(&ProtocolPoint) -> bool;
    // (name, where to stop, what the chains must show at that moment: state, voted, acked, A)
    let points: [(&str, Point, Check); 5] = [
        (
            "after begin",
            |p| matches!(p, ProtocolPoint::Begun { .. }),
            // The loop runs beside `submit_transaction` and may have started on step A while
            // the begin receipt was being confirmed; it cannot have finished it.
            |s, _, k, a| !s.is_final() && k & 1 == 0 && a != XaTxState::Committed,
        ),
        (
            "after prepare on A",
            |p| matches!(p, ProtocolPoint::Prepared { step: 0, .. }),
            |s, v, _, a| s == TxState::Preparing && v & 1 == 0 && a == XaTxState::Prepared,
        ),
        (
            "after vote on A",
            |p| matches!(p, ProtocolPoint::Voted { step: 0, .. }),
            |_, v, _, a| v & 1 == 1 && a == XaTxState::Prepared,
        ),
        (
            "after decision, before commit on A",
            |p| matches!(p, ProtocolPoint::Decided { step: 0, .. }),
            |s, _, k, a| s == TxState::Committing && k & 1 == 0 && a == XaTxState::Prepared,
        ),
        (
            "after commit on A, before ack",
            |p| matches!(p, ProtocolPoint::Committed { step: 0, .. }),
            |s, _, k, a| s == TxState::Committing && k & 1 == 0 && a == XaTxState::Committed,
        ),
    ];
    for (name, point, check) in points {
        let started = Instant::now();
        let before = net.balances().await;
        let crashing = net.relayer(1, RELAYER_A, Some(halt_at(point))).await;
        let request = net.transfer(ALICE, 10, HOUR).await;
        let tx_id = request.txId;
        let signature = net.sign(&request, ALICE);
        crashing.submit_transaction(request, signature).await.expect("submit");
        wait_stopped(&crashing).await;
        let stopped = crashing.health().stopped.expect("stopped");
        assert!(stopped.contains("halted"), "{name}: {stopped}");
        // Step B's relayer keeps going, but step A stays exactly where the crash left it.
        let (state, voted, _, acked) = net.tx_state(tx_id).await;
        let a = net.xa_states(tx_id).await.0;
        assert!(
            check(state, voted, acked, a),
            "{name}: {state} voted {voted:b} acked {acked:b} A {a}"
        );
        // A fresh relayer (empty state dir) finishes the transaction from chain state alone.
        let fresh = net.relayer(1, RELAYER_A, None).await;
        net.wait_state(tx_id, TxState::Committed).await;
        net.assert_committed(tx_id, before, 10).await;
        // The trail is complete and nothing was audited twice, whatever the crash point.
        let trail = complete_trail(&net.gov, &net.regulator, tx_id, true).await;
        assert_eq!(trail.iter().map(|(_, r)| r.operations.len()).sum::<usize>(), 9, "{name}");
        fresh.shutdown().await;
        eprintln!("crash point {name}: resumed in {:?}", started.elapsed());
    }
    r2.shutdown().await;
}

#[tokio::test]
async fn relayer_2pc_two_relayers_serving_one_chain() {
    let mut net = Net::start().await;
    let r1 = net.relayer(1, RELAYER_A, None).await;
    let r1b = net.relayer(1, RELAYER_A2, None).await;
    let r2 = net.relayer(2, RELAYER_B, None).await;
    for _ in 0..2 {
        let before = net.balances().await;
        let request = net.transfer(ALICE, 50, HOUR).await;
        let tx_id = request.txId;
        let signature = net.sign(&request, ALICE);
        r1b.submit_transaction(request, signature).await.expect("submit");
        net.wait_state(tx_id, TxState::Committed).await;
        net.assert_committed(tx_id, before, 50).await;
        // Both relayers may have driven step A; the ledger moved value once.
        for signature in [
            crossgov_relayer::bindings::XaLedger::Prepared::SIGNATURE_HASH,
            crossgov_relayer::bindings::XaLedger::Committed::SIGNATURE_HASH,
        ] {
            let filter = Filter::new()
                .address(net.a.resources.xa_ledger.address)
                .event_signature(signature)
                .topic1(tx_id)
                .from_block(0);
            let logs = net.a.provider().get_logs(&filter).await.expect("logs");
            assert_eq!(logs.len(), 1, "one {signature} event on ledger A");
        }
        // Both relayers may have audited step A; every report is covered.
        complete_trail(&net.gov, &net.regulator, tx_id, false).await;
    }
    for r in [r1, r1b, r2] {
        assert!(r.health().is_healthy(), "{:?}", r.health());
        r.shutdown().await;
    }
}

#[tokio::test]
async fn relayer_2pc_submit_rejects_bad_input() {
    let mut net = Net::start().await;
    let r1 = net.relayer(1, RELAYER_A, None).await;
    let relayer = net.gov.address(RELAYER_A);
    let nonce_before = net.gov_provider().get_transaction_count(relayer).await.expect("nonce");

    // Bad signature: 65 zero bytes recover to no address.
    let request = net.transfer(ALICE, 1, HOUR).await;
    let err =
        r1.submit_transaction(request, Bytes::from(vec![0u8; 65])).await.expect_err("refused");
    assert!(matches!(err, SubmitError::BadSignature), "{err}");

    // Unknown chain.
    let now = latest_timestamp(net.gov_provider()).await;
    let request = TxRequest::builder(net.gov.address(ALICE))
        .xa_step(&path("zoneC.chainC.ledger"), &XaOp::debit(net.gov.address(ALICE), u(1)))
        .deadline(now + HOUR)
        .build()
        .expect("request");
    let signature = net.sign(&request, ALICE);
    let err = r1.submit_transaction(request, signature).await.expect_err("refused");
    assert!(
        matches!(err, SubmitError::ChainNotActive { step: 0, ref zone, ref chain } if zone == "zoneC" && chain == "chainC"),
        "{err}"
    );

    // Missing permission: Carol (a user of institution 1) holds no grant.
    let request = net.transfer(CAROL, 1, HOUR).await;
    let signature = net.sign(&request, CAROL);
    let err = r1.submit_transaction(request, signature).await.expect_err("refused");
    assert!(
        matches!(err, SubmitError::NoPermission { initiator, step: 0 } if initiator == net.gov.address(CAROL)),
        "{err}"
    );

    // Past deadline (checked against governance-chain time).
    let mut request = net.transfer(ALICE, 1, HOUR).await;
    request.deadline = latest_timestamp(net.gov_provider()).await - 1;
    let signature = net.sign(&request, ALICE);
    let err = r1.submit_transaction(request, signature).await.expect_err("refused");
    assert!(matches!(err, SubmitError::Invalid(_) | SubmitError::BadDeadline { .. }), "{err}");

    // A request signed by a user of another institution is not this relayer's to submit.
    let request = net.transfer(BOB, 1, HOUR).await;
    let signature = net.sign(&request, BOB);
    let err = r1.submit_transaction(request, signature).await.expect_err("refused");
    assert!(matches!(err, SubmitError::NotInstitutionRelayer { institution: 2, .. }), "{err}");

    // alice's request (its id bound to her) signed by bob: the id is not bob's.
    let request = net.transfer(ALICE, 1, HOUR).await;
    let signature = net.sign(&request, BOB);
    let err = r1.submit_transaction(request.clone(), signature).await.expect_err("refused");
    assert!(matches!(err, SubmitError::IdNotBound { tx_id, .. } if tx_id == request.txId), "{err}");

    let nonce_after = net.gov_provider().get_transaction_count(relayer).await.expect("nonce");
    assert_eq!(nonce_after, nonce_before, "nothing was sent");
    assert_eq!(net.begun_logs().await, 0, "no TransactionBegun");

    // And a good one still goes through with the very next nonce (no gap was left).
    let request = net.transfer(ALICE, 1, HOUR).await;
    let begin_tx_id = request.txId;
    let signature = net.sign(&request, ALICE);
    let hash = r1.submit_transaction(request, signature).await.expect("submit");
    let begin = net
        .gov_provider()
        .get_transaction_by_hash(hash)
        .await
        .expect("get begin")
        .expect("begin tx");
    use alloy::consensus::Transaction as _;
    // The very next nonce: one report carrying `begin` and its audit record.
    assert_eq!(begin.nonce(), nonce_before);
    r1.shutdown().await;
    let trail = complete_trail(&net.gov, &net.regulator, begin_tx_id, false).await;
    assert_eq!(trail[0].1.operations[0].covers.to_string(), "TransactionBegun");
    let record = net
        .gov_provider()
        .get_transaction_by_hash(trail[0].0.tx_hash)
        .await
        .expect("get record")
        .expect("record tx");
    assert_eq!(record.nonce(), nonce_before);
    assert_eq!(trail[0].0.tx_hash, hash, "the record rode in begin's report");
}

/// The relayer's [`TxSender`](crossgov_relayer::chain::TxSender): concurrent sends get distinct
/// consecutive nonces, a refused call is a typed error that burns no nonce, and a transaction
/// the node dropped is replaced on the same nonce with higher fees (the other trigger, blocks
/// passing without it, is [`should_replace`](crossgov_relayer::chain::should_replace)'s unit test).
#[tokio::test]
async fn relayer_2pc_sender_keeps_nonces_and_bumps_fees() {
    use alloy::sol_types::SolCall;
    use crossgov_relayer::ContractRevert;
    use crossgov_relayer::bindings::XaLedger;
    use crossgov_relayer::chain::{Backoff, ChainClient};

    let chain = BusinessChain::start(CHAIN_A_ID, ADMIN1).await;
    let ledger = chain.resources.xa_ledger.address;
    let owner = chain.accounts[ADMIN1].address;
    let config =
        sender_config(chain.anvil.endpoint_url(), Backoff { seed: 1, ..Backoff::default() });
    let client = Arc::new(
        ChainClient::connect(config, chain.accounts[ADMIN1].signer.clone()).await.expect("connect"),
    );
    let provider = chain.provider().clone();
    let start = provider.get_transaction_count(owner).await.expect("nonce");
    let alice = chain.accounts[ALICE].address;

    // 8 concurrent mints and 4 refused calls interleaved.
    let mut tasks = Vec::new();
    for i in 0..12u64 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let data = if i % 3 == 2 {
                XaLedger::setRelayerCall { account: Address::ZERO, allowed: true }.abi_encode()
            } else {
                XaLedger::mintCall { to: alice, amount: U256::from(1) }.abi_encode()
            };
            client.sender().send("test", ledger, data.into()).await
        }));
    }
    let (mut ok, mut refused) = (0, 0);
    for task in tasks {
        match task.await.expect("join") {
            Ok(receipt) => {
                assert!(receipt.status());
                ok += 1;
            }
            Err(err) => {
                assert!(!err.is_retryable(), "{err}");
                assert!(
                    matches!(err.revert(), Some(ContractRevert::XaLedger(_))),
                    "typed refusal: {err}"
                );
                refused += 1;
            }
        }
    }
    assert_eq!((ok, refused), (8, 4));
    assert_eq!(provider.get_transaction_count(owner).await.expect("nonce"), start + 8);
    let balance = chain.xa(DEPLOYER).balanceOf(alice).call().await.expect("balance");
    assert_eq!(balance, U256::from(8));

    let pool_hash = |content: serde_json::Value| -> Option<String> {
        let pending = content.get("pending")?.as_object()?;
        let (_, by_nonce) =
            pending.iter().find(|(k, _)| k.eq_ignore_ascii_case(&owner.to_string()))?;
        let (_, tx) = by_nonce.as_object()?.iter().next()?;
        Some(tx.get("hash")?.as_str()?.to_owned())
    };
    let in_pool = |what: &'static str, not: Option<String>| {
        let provider = provider.clone();
        async move {
            wait_for(what, || async {
                let content: serde_json::Value = provider
                    .raw_request("txpool_content".into(), ())
                    .await
                    .expect("txpool_content");
                pool_hash(content).filter(|h| Some(h) != not.as_ref())
            })
            .await
        }
    };
    let mint = |what: &'static str| {
        let client = client.clone();
        tokio::spawn(async move {
            let data = XaLedger::mintCall { to: alice, amount: U256::from(1) }.abi_encode();
            client.sender().send(what, ledger, data.into()).await
        })
    };
    let rpc = |method: &'static str, params: serde_json::Value| {
        let provider = provider.clone();
        async move {
            let _: serde_json::Value =
                provider.raw_request(method.into(), params).await.expect(method);
        }
    };
    use alloy::consensus::Transaction as _;

    // Dropped by the node (as a restarted node's pool is): replaced on the same nonce with higher
    // fees at once, with no block needed to notice (on an on-demand chain none would come).
    rpc("evm_setAutomine", serde_json::json!([false])).await;
    let send = mint("replaced mint");
    let first = in_pool("the mint in the pool", None).await;
    rpc("anvil_dropAllTransactions", serde_json::json!([])).await;
    let second = in_pool("a replacement in the pool", Some(first.clone())).await;
    rpc("evm_mine", serde_json::json!([])).await;
    let receipt = send.await.expect("join").expect("replaced send");
    assert_eq!(format!("{:#x}", receipt.transaction_hash), second.to_ascii_lowercase());
    let tx = provider.get_transaction_by_hash(receipt.transaction_hash).await.expect("tx");
    let tx = tx.expect("tx");
    assert_eq!(tx.nonce(), start + 8, "the same nonce as the dropped version");
    let dropped =
        provider.get_transaction_by_hash(first.parse().expect("hash")).await.expect("lookup");
    assert!(dropped.is_none(), "the first version is gone");
    assert_eq!(provider.get_transaction_count(owner).await.expect("nonce"), start + 9);

    // Confirmations: with a depth of 3 the send returns only once 2 more blocks are on top.
    let _: serde_json::Value =
        provider.raw_request("evm_setAutomine".into(), [true]).await.expect("automine on");
    let config =
        crossgov_relayer::chain::ChainConfig { confirmations: 3, ..client.config().clone() };
    let deep =
        ChainClient::connect(config, chain.accounts[ADMIN1].signer.clone()).await.expect("connect");
    let deep = Arc::new(deep);
    let send = {
        let deep = deep.clone();
        tokio::spawn(async move {
            let data = XaLedger::mintCall { to: alice, amount: U256::from(1) }.abi_encode();
            deep.sender().send("deep mint", ledger, data.into()).await
        })
    };
    wait_for("the deep mint mined", || async {
        let count = provider.get_transaction_count(owner).await.expect("nonce");
        (count == start + 10).then_some(())
    })
    .await;
    let _: serde_json::Value =
        provider.raw_request("anvil_mine".into(), [1u64]).await.expect("mine");
    assert!(!send.is_finished(), "returned with 2 of 3 confirmations");
    let _: serde_json::Value =
        provider.raw_request("anvil_mine".into(), [1u64]).await.expect("mine");
    wait_for("the deep mint confirmed", || async { send.is_finished().then_some(()) }).await;
    let receipt = send.await.expect("join").expect("deep send");
    let head = provider.get_block_number().await.expect("head");
    assert_eq!(head, receipt.block_number.expect("block") + 2);
}

/// Runs the `crossgov` binary off the async runtime (the relayers keep running meanwhile).
async fn crossgov_cli(args: Vec<String>, password: &str) -> (bool, String, String) {
    let password = password.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_crossgov"))
            .args(&args)
            .env("CROSSGOV_KEYSTORE_PASSWORD", password)
            .env_remove("CROSSGOV_RPC_URL")
            .env_remove("CROSSGOV_MANIFEST")
            .output()
            .expect("run crossgov")
    })
    .await
    .expect("join");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[tokio::test]
async fn relayer_2pc_audit_trail_follows_the_regulators() {
    use crossgov_relayer::audit::envelope::{Envelope, EnvelopeError, address_of};
    use crossgov_relayer::audit::regulator::open_record;
    use crossgov_relayer::audit::trail::fetch_records;
    use crossgov_relayer::audit::{AuditError, TrailRecord};
    use crossgov_relayer::bindings::Supervision;
    use crossgov_relayer::chain::DEFAULT_MAX_LOG_RANGE as RANGE;

    let mut net = Net::start().await;
    let r1 = net.relayer(1, RELAYER_A, None).await;
    let r2 = net.relayer(2, RELAYER_B, None).await;
    let dir = tempfile::tempdir().expect("dir");
    let path_of = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let manifest = path_of("manifest.json");
    net.gov.deployment.write_manifest(&manifest).expect("manifest");
    let rpc = net.gov.anvil.endpoint_url().to_string();
    let chain_args = |cmd: &str| -> Vec<String> {
        ["audit", cmd, "--rpc-url", &rpc, "--manifest", &manifest].map(String::from).to_vec()
    };
    let password = "regulator two's passphrase";
    let commit = async |net: &Net| {
        let request = net.transfer(ALICE, 10, HOUR).await;
        let tx_id = request.txId;
        r1.submit_transaction(request.clone(), net.sign(&request, ALICE)).await.expect("submit");
        net.wait_state(tx_id, TxState::Committed).await;
        tx_id
    };
    let regulators_of = |trail: &[(TrailRecord, _)]| -> Vec<Vec<Address>> {
        trail
            .iter()
            .map(|(r, _): &(TrailRecord, _)| {
                let mut list = Envelope::decode(&r.envelope).expect("envelope").regulators();
                list.sort();
                list
            })
            .collect()
    };

    // The second regulator makes its key with the CLI (before it is admitted).
    let keystore = path_of("regulator2.json");
    let (ok, out, err) = crossgov_cli(
        ["audit", "keygen", "--out", &keystore, "--json"].map(String::from).to_vec(),
        password,
    )
    .await;
    assert!(ok, "{err}");
    let keygen: serde_json::Value = serde_json::from_str(&out).expect("keygen JSON");
    let r2_address: Address = keygen["address"].as_str().expect("address").parse().expect("addr");
    assert!(!out.contains(password) && !err.contains(password));

    // tx1: only regulator 1 can read it.
    let r1_address = address_of(&net.regulator.public_key());
    let tx1 = commit(&net).await;
    let trail1 = complete_trail(&net.gov, &net.regulator, tx1, true).await;
    assert!(regulators_of(&trail1).iter().all(|r| *r == vec![r1_address]));
    let stranger = crate::harness::random_key();
    let record = &trail1[0].0;
    let not_recipient = open_record(record, &stranger).expect_err("a stranger");
    assert!(
        matches!(not_recipient, AuditError::Envelope { source: EnvelopeError::NotARecipient(a), .. } if a == address_of(&stranger.public_key())),
        "{not_recipient}"
    );
    let mut tampered = record.clone();
    let mut bytes = tampered.envelope.to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    tampered.envelope = bytes.into();
    let err = open_record(&tampered, &net.regulator).expect_err("tampered");
    assert!(
        matches!(err, AuditError::Envelope { source: EnvelopeError::Tampered("record"), .. }),
        "{err}"
    );
    assert!(err.to_string().contains("altered"), "{err}");
    let mut truncated = record.clone();
    truncated.envelope = truncated.envelope.slice(..truncated.envelope.len() - 5);
    let err = open_record(&truncated, &net.regulator).expect_err("truncated");
    assert!(
        matches!(
            err,
            AuditError::Envelope { source: EnvelopeError::Truncated { field: "body", .. }, .. }
        ),
        "{err}"
    );

    // Regulator 2 is admitted by vote (under the key keygen printed): tx2 is wrapped for both.
    let public_key =
        hex::decode(keygen["publicKey"].as_str().expect("key").trim_start_matches("0x"))
            .expect("hex");
    let admit = Supervision::admitRegulatorCall {
        publicKey: public_key.into(),
        name: "Regulator 2".into(),
    };
    net.gov
        .pass(
            ADMIN1,
            net.gov.deployment.supervision.address,
            &admit,
            "admit 2",
            &[ADMIN1, ADMIN2, crate::consortium::ADMIN3],
        )
        .await;
    let tx2 = commit(&net).await;
    let trail2 = complete_trail(&net.gov, &net.regulator, tx2, true).await;
    let mut both = vec![r1_address, r2_address];
    both.sort();
    assert!(regulators_of(&trail2).iter().all(|r| *r == both), "{:?}", regulators_of(&trail2));

    // Regulator 2 reads tx2 with the CLI alone, joined with the governance reports.
    let mut read = chain_args("read");
    read.extend(["--key".into(), keystore.clone(), "--tx".into(), tx2.to_string()]);
    let (ok, out, err) = crossgov_cli(read, password).await;
    assert!(ok, "{err}");
    let records: serde_json::Value = serde_json::from_str(&out).expect("read JSON");
    let records = records.as_array().expect("array");
    assert_eq!(records.len(), 5);
    let ops: usize =
        records.iter().map(|r| r["record"]["operations"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(ops, 9);
    assert!(records.iter().all(|r| r["subject"] == tx2.to_string()));
    for r in records {
        for reported in r["reportedBy"].as_array().expect("reportedBy") {
            assert!(reported["txHash"].is_string(), "every covered event joined: {reported}");
        }
    }
    // …but not tx1, written before its admission.
    let mut read = chain_args("read");
    read.extend(["--key".into(), keystore.clone(), "--tx".into(), tx1.to_string()]);
    let (ok, _, err) = crossgov_cli(read, password).await;
    assert!(!ok);
    assert!(
        err.contains("not wrapped for") && err.contains("only for the regulators active"),
        "{err}"
    );
    // A wrong password is a clear error, not a crash.
    let mut read = chain_args("read");
    read.extend(["--key".into(), keystore.clone()]);
    let (ok, _, err) = crossgov_cli(read, "wrong").await;
    assert!(!ok && err.contains("wrong password"), "{err}");

    // Regulator 1 is removed: tx3 is wrapped for regulator 2 only.
    net.gov.remove_regulator(r1_address).await;
    let tx3 = commit(&net).await;
    let provider = net.gov_provider();
    let records3 =
        fetch_records(provider, net.gov.deployment.supervision.address, 0, None, Some(tx3), RANGE)
            .await
            .expect("records");
    assert_eq!(records3.len(), 5);
    for r in &records3 {
        assert_eq!(Envelope::decode(&r.envelope).expect("envelope").regulators(), [r2_address]);
        let err = open_record(r, &net.regulator).expect_err("removed regulator");
        assert!(
            matches!(err, AuditError::Envelope { source: EnvelopeError::NotARecipient(_), .. }),
            "{err}"
        );
    }

    // The whole trail verifies against the contract's head, from the chain and from an archive.
    let (ok, out, err) = crossgov_cli(chain_args("verify"), "").await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("hash chain: ok, 15 records") && out.contains("all audited"), "{out}");
    let mut list = chain_args("list");
    list.push("--json".into());
    let (ok, archive, err) = crossgov_cli(list, "").await;
    assert!(ok, "{err}");
    let archive_path = path_of("trail.json");
    std::fs::write(&archive_path, &archive).expect("archive");
    let verify_archive = |file: &str| {
        let mut args = chain_args("verify");
        args.extend(["--trail".into(), file.to_owned(), "--json".into()]);
        args
    };
    let (ok, out, _) = crossgov_cli(verify_archive(&archive_path), "").await;
    assert!(ok, "{out}");
    // A dropped record and an altered one are each found, at the right index.
    let mut records: Vec<serde_json::Value> = serde_json::from_str(&archive).expect("archive JSON");
    let mut dropped = records.clone();
    dropped.remove(7);
    let dropped_path = path_of("dropped.json");
    std::fs::write(&dropped_path, serde_json::to_string(&dropped).expect("json")).expect("write");
    let (ok, out, _) = crossgov_cli(verify_archive(&dropped_path), "").await;
    let report: serde_json::Value = serde_json::from_str(&out).expect("verify JSON");
    assert!(!ok);
    assert_eq!(report["chainBreak"]["problem"], "missing", "{report}");
    assert_eq!(report["chainBreak"]["index"], 7, "{report}");
    let envelope = records[3]["envelope"].as_str().expect("envelope").to_owned();
    let flipped = if envelope.ends_with("00") { "01" } else { "00" };
    records[3]["envelope"] = format!("{}{flipped}", &envelope[..envelope.len() - 2]).into();
    let altered_path = path_of("altered.json");
    std::fs::write(&altered_path, serde_json::to_string(&records).expect("json")).expect("write");
    let (ok, out, _) = crossgov_cli(verify_archive(&altered_path), "").await;
    let report: serde_json::Value = serde_json::from_str(&out).expect("verify JSON");
    assert!(!ok);
    assert_eq!(
        (&report["chainBreak"]["problem"], &report["chainBreak"]["index"]),
        (&"altered".into(), &3.into()),
        "{report}"
    );

    // The listing names each record's subject, size and covered reports.
    let mut list = chain_args("list");
    list.extend(["--tx".into(), tx2.to_string()]);
    let (ok, out, _) = crossgov_cli(list, "").await;
    assert!(ok);
    assert_eq!(out.lines().filter(|l| l.contains(&tx2.to_string())).count(), 5, "{out}");
    assert!(out.contains("StepVoted(step 0)") && out.contains("TransactionBegun"), "{out}");
    r1.shutdown().await;
    r2.shutdown().await;
}

/// How a crashed relayer of institution 1 is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recovery {
    /// The other relayer of institution 1 (RELAYER_A2), with an empty state dir.
    Takeover,
    /// The same account restarted on the same state dir.
    Restart,
    /// The same account with an empty state dir (the machine was lost).
    Fresh,
}

/// Where step A's relayer dies. `after_prepare` distinguishes the audit record written between
/// `prepare` and the vote from the other records.
#[derive(Debug, Clone, Copy)]
struct CrashPoint {
    name: &'static str,
    /// Transfer more than alice holds: chain A refuses prepare and the transaction aborts.
    abort: bool,
    matches: fn(&ProtocolPoint, bool) -> bool,
}

/// Crash-point matrix of 2PC: every point the engine reports for step A, on the commit path and
/// the abort path (and, in [`expiry_crashes`], the expiry path). The relayer halts there (as if its process died); B's relayer keeps running.
///
/// | point | path | the chains at the crash |
/// |---|---|---|
/// | Begun | commit | begin mined (its audit record inside the same report) |
/// | Prepared(A) | commit | A prepared, no record of it, no vote |
/// | Voted(A) | commit | A voted yes |
/// | Decided(A) | commit | Committing seen, A not committed |
/// | Committed(A) | commit | A committed, not acked |
/// | Acked(A) | commit | A acked |
/// | Voted(A) | abort | A voted no (prepare refused) |
/// | Decided(A) | abort | Aborting seen, A not rolled back |
/// | RolledBack(A) | abort | A rolled back, not acked |
///
/// No point lies between a report's audit record and the report: one `report` carries both.
const CRASH_POINTS: [CrashPoint; 9] = [
    CrashPoint {
        name: "Begun",
        abort: false,
        matches: |p, _| matches!(p, ProtocolPoint::Begun { .. }),
    },
    CrashPoint {
        name: "Prepared(A)",
        abort: false,
        matches: |p, _| matches!(p, ProtocolPoint::Prepared { step: 0, .. }),
    },
    CrashPoint {
        name: "Voted(A)",
        abort: false,
        matches: |p, _| matches!(p, ProtocolPoint::Voted { step: 0, .. }),
    },
    CrashPoint {
        name: "Decided(A)",
        abort: false,
        matches: |p, _| matches!(p, ProtocolPoint::Decided { step: 0, .. }),
    },
    CrashPoint {
        name: "Committed(A)",
        abort: false,
        matches: |p, _| matches!(p, ProtocolPoint::Committed { step: 0, .. }),
    },
    CrashPoint {
        name: "Acked(A)",
        abort: false,
        matches: |p, _| matches!(p, ProtocolPoint::Acked { step: 0, .. }),
    },
    CrashPoint {
        name: "Voted(A) no",
        abort: true,
        matches: |p, _| matches!(p, ProtocolPoint::Voted { step: 0, .. }),
    },
    CrashPoint {
        name: "Decided(A) abort",
        abort: true,
        matches: |p, _| matches!(p, ProtocolPoint::Decided { step: 0, .. }),
    },
    CrashPoint {
        name: "RolledBack(A)",
        abort: true,
        matches: |p, _| matches!(p, ProtocolPoint::RolledBack { step: 0, .. }),
    },
];

/// Finality after the replacement relayer starts, at most.
const FINALITY_BOUND: Duration = Duration::from_secs(20);

async fn crash_matrix(recovery: Recovery) {
    let mut net = Net::start().await;
    let r2 = net.relayer(2, RELAYER_B, None).await;
    for point in CRASH_POINTS {
        let before = net.balances().await;
        let prepared = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = prepared.clone();
        let matches = point.matches;
        let hook: ProtocolHook = Arc::new(move |p: &ProtocolPoint| {
            if matches!(p, ProtocolPoint::Prepared { step: 0, .. }) {
                seen.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            if matches(p, seen.load(std::sync::atomic::Ordering::SeqCst)) {
                HookAction::Halt
            } else {
                HookAction::Continue
            }
        });
        let settings = net.settings(1);
        let state_dir = settings.state_dir.clone();
        let signer = net.gov.accounts[RELAYER_A].signer.clone();
        let crashing =
            Relayer::start_with_hook(settings, signer, Arc::new(Metrics::new()), Some(hook))
                .await
                .expect("start relayer");
        let amount = if point.abort { ALICE_OPENING * 10 } else { 7 };
        let request = net.transfer(ALICE, amount, HOUR).await;
        let tx_id = request.txId;
        let signature = net.sign(&request, ALICE);
        crashing.submit_transaction(request, signature).await.expect("submit");
        wait_stopped(&crashing).await;

        let started = Instant::now();
        let replacement = net.replacement(recovery, state_dir).await;
        let want = if point.abort { TxState::Aborted } else { TxState::Committed };
        net.wait_state(tx_id, want).await;
        let took = started.elapsed();
        assert!(took < FINALITY_BOUND, "{} / {recovery:?}: final after {took:?}", point.name);
        // Atomicity and conservation: both steps applied, or neither.
        let xa = net.xa_states(tx_id).await;
        let after = net.balances().await;
        if point.abort {
            assert_eq!(xa, (XaTxState::RolledBack, XaTxState::RolledBack), "{}", point.name);
            assert_eq!(after, before, "{}: nothing moved", point.name);
        } else {
            net.assert_committed(tx_id, before, amount).await;
        }
        // Every report audited, none twice, whatever the crash.
        complete_trail(&net.gov, &net.regulator, tx_id, true).await;
        eprintln!("crash {} / {recovery:?}: final in {took:?}", point.name);
        replacement.shutdown().await;
        crashing.shutdown().await;
    }
    r2.shutdown().await;
    expiry_crashes(&mut net, recovery).await;
}

/// The expiry path's points: step B's relayer is down, so step A's relayer expires the
/// transaction past its deadline and rolls A back.
///
/// | point | the chains at the crash |
/// |---|---|
/// | Expired | expire mined (its audit record inside the same report), A still prepared |
/// | RolledBack(A) after expiry | A rolled back, not acked |
async fn expiry_crashes(net: &mut Net, recovery: Recovery) {
    type Matches = fn(&ProtocolPoint) -> bool;
    let points: [(&str, Matches); 2] = [
        ("Expired", |p| matches!(p, ProtocolPoint::Expired { .. })),
        ("RolledBack(A) after expiry", |p| matches!(p, ProtocolPoint::RolledBack { step: 0, .. })),
    ];
    for (name, matches) in points {
        let before = net.balances().await;
        let settings = net.settings(1);
        let state_dir = settings.state_dir.clone();
        let signer = net.gov.accounts[RELAYER_A].signer.clone();
        let hook: ProtocolHook =
            Arc::new(
                move |p: &ProtocolPoint| {
                    if matches(p) { HookAction::Halt } else { HookAction::Continue }
                },
            );
        let crashing =
            Relayer::start_with_hook(settings, signer, Arc::new(Metrics::new()), Some(hook))
                .await
                .expect("start relayer");
        let request = net.transfer(ALICE, 3, HOUR).await;
        let tx_id = request.txId;
        let signature = net.sign(&request, ALICE);
        crashing.submit_transaction(request, signature).await.expect("submit");
        wait_for("step A voted", || async { (net.tx_state(tx_id).await.1 == 0b01).then_some(()) })
            .await;
        advance_time(net.gov_provider(), HOUR + 1).await;
        wait_stopped(&crashing).await;

        let started = Instant::now();
        let replacement = net.replacement(recovery, state_dir).await;
        // Step B's relayer comes back and records the abort on B.
        let r2 = net.relayer(2, RELAYER_B, None).await;
        net.wait_state(tx_id, TxState::Aborted).await;
        let took = started.elapsed();
        assert!(took < FINALITY_BOUND, "{name} / {recovery:?}: final after {took:?}");
        assert_eq!(
            net.xa_states(tx_id).await,
            (XaTxState::RolledBack, XaTxState::RolledBack),
            "{name}"
        );
        assert_eq!(net.balances().await, before, "{name} / {recovery:?}: nothing moved");
        complete_trail(&net.gov, &net.regulator, tx_id, true).await;
        eprintln!("crash {name} / {recovery:?}: final in {took:?}");
        for r in [replacement, r2, crashing] {
            r.shutdown().await;
        }
    }
}

/// The crash matrix's packed-report rows: step A's relayer dies with its vote report in flight,
///
/// | row | the chains at the crash |
/// |---|---|
/// | mined, not seen | the vote report mined; its relayer never read the receipt (every answer lost) |
/// | sent, not mined | the vote report in the pool; mined only after the crash |
///
/// and each recovery (another account of the institution, a restart, a fresh state directory)
/// finishes the transfer: committed on both chains, a complete trail, nothing twice.
#[tokio::test]
async fn relayer_2pc_crash_matrix_with_a_report_in_flight() {
    use crossgov::chaos::proxy::RpcProxy;
    let mut net = Net::start().await;
    let r2 = net.relayer(2, RELAYER_B, None).await;
    for recovery in [Recovery::Takeover, Recovery::Restart, Recovery::Fresh] {
        for mined_before_crash in [true, false] {
            let row = if mined_before_crash { "mined, not seen" } else { "sent, not mined" };
            let before = net.balances().await;
            let proxy =
                Arc::new(RpcProxy::start(net.gov.anvil.endpoint_url()).await.expect("proxy"));
            let mut settings = net.settings(1);
            settings.governance.rpc_url = proxy.url();
            let state_dir = settings.state_dir.clone();
            // Once begin is seen, every receipt answer is lost: what follows is mined unseen.
            let hook: Option<ProtocolHook> = mined_before_crash.then(|| {
                let proxy = proxy.clone();
                let hook: ProtocolHook = Arc::new(move |p: &ProtocolPoint| {
                    if matches!(p, ProtocolPoint::Begun { .. }) {
                        proxy.lose_next_calls("eth_getTransactionReceipt", u32::MAX);
                    }
                    HookAction::Continue
                });
                hook
            });
            let signer = net.gov.accounts[RELAYER_A].signer.clone();
            let crashing =
                Relayer::start_with_hook(settings, signer, Arc::new(Metrics::new()), hook)
                    .await
                    .expect("start relayer");
            let request = net.transfer(ALICE, 5, HOUR).await;
            let tx_id = request.txId;
            let signature = net.sign(&request, ALICE);
            if mined_before_crash {
                crashing.submit_transaction(request, signature).await.expect("submit");
                wait_for("step A's vote mined", || async {
                    (net.tx_state(tx_id).await.1 & 0b01 != 0).then_some(())
                })
                .await;
            } else {
                // Nothing is mined but what the test mines: begin, then nothing.
                net.gov_rpc("evm_setAutomine", serde_json::json!([false])).await;
                let submit = {
                    let crashing = crashing.clone();
                    tokio::spawn(
                        async move { crashing.submit_transaction(request, signature).await },
                    )
                };
                wait_for("begin in the pool", || async {
                    net.relayer_a_pending().await.then_some(())
                })
                .await;
                net.gov_rpc("evm_mine", serde_json::json!([])).await;
                submit.await.expect("join").expect("submit");
                wait_for("step A's vote in the pool", || async {
                    net.relayer_a_pending().await.then_some(())
                })
                .await;
            }
            crashing.abort();
            proxy.clear();
            if !mined_before_crash {
                assert_eq!(net.tx_state(tx_id).await.1 & 0b01, 0, "{row}: not voted yet");
                net.gov_rpc("evm_setAutomine", serde_json::json!([true])).await;
                net.gov_rpc("evm_mine", serde_json::json!([])).await;
            }
            let started = Instant::now();
            let replacement = net.replacement(recovery, state_dir).await;
            net.wait_state(tx_id, TxState::Committed).await;
            let took = started.elapsed();
            assert!(took < FINALITY_BOUND, "{row} / {recovery:?}: final after {took:?}");
            net.assert_committed(tx_id, before, 5).await;
            complete_trail(&net.gov, &net.regulator, tx_id, true).await;
            eprintln!("crash with a report {row} / {recovery:?}: final in {took:?}");
            replacement.shutdown().await;
            crashing.shutdown().await;
        }
    }
    r2.shutdown().await;
}

#[tokio::test]
async fn relayer_2pc_crash_matrix_takeover() {
    crash_matrix(Recovery::Takeover).await;
}

#[tokio::test]
async fn relayer_2pc_crash_matrix_restart() {
    crash_matrix(Recovery::Restart).await;
}

#[tokio::test]
async fn relayer_2pc_crash_matrix_fresh_state() {
    crash_matrix(Recovery::Fresh).await;
}

/// The chain settings of the sender tests: chain A at `rpc_url`, one confirmation, quick polls.
fn sender_config(
    rpc_url: alloy::transports::http::reqwest::Url,
    backoff: crossgov_relayer::chain::Backoff,
) -> crossgov_relayer::chain::ChainConfig {
    crossgov_relayer::chain::ChainConfig {
        name: "zoneA.chainA".into(),
        rpc_url,
        chain_id: Some(CHAIN_A_ID),
        confirmations: 1,
        poll_interval: Duration::from_millis(20),
        rpc_timeout: crossgov_relayer::chain::DEFAULT_RPC_TIMEOUT,
        fee: crossgov_relayer::chain::FeeMode::Auto,
        max_log_range: crossgov_relayer::chain::DEFAULT_MAX_LOG_RANGE,
        backoff,
        send: crossgov_relayer::chain::SendOptions::default(),
    }
}

/// One business chain behind a proxy, and a relayer-side sender on it (owner ADMIN1) whose
/// retries are short; what the three sender tests below share.
struct SenderRig {
    chain: BusinessChain,
    proxy: crossgov::chaos::proxy::RpcProxy,
    client: Arc<crossgov_relayer::chain::ChainClient>,
    provider: DynProvider,
    owner: Address,
    /// The owner's nonce before the test's sends.
    start: u64,
}

impl SenderRig {
    async fn start(max_attempts: u32) -> Self {
        use crossgov_relayer::chain::{Backoff, ChainClient};
        let chain = BusinessChain::start(CHAIN_A_ID, ADMIN1).await;
        let proxy = crossgov::chaos::proxy::RpcProxy::start(chain.anvil.endpoint_url())
            .await
            .expect("proxy");
        let owner = chain.accounts[ADMIN1].address;
        send("mint", chain.htlc(ADMIN1).mint(owner, U256::from(10))).await;
        let backoff = Backoff {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(1),
            max_attempts,
            seed: 1,
        };
        let config = sender_config(proxy.url(), backoff);
        let client = Arc::new(
            ChainClient::connect(config, chain.accounts[ADMIN1].signer.clone())
                .await
                .expect("connect"),
        );
        let provider = chain.provider().clone();
        let start = provider.get_transaction_count(owner).await.expect("nonce");
        Self { chain, proxy, client, provider, owner, start }
    }

    /// A dev-node method on the chain itself (not through the proxy).
    async fn rpc(&self, method: &'static str, params: serde_json::Value) {
        let _: serde_json::Value =
            self.provider.raw_request(method.into(), params).await.expect(method);
    }

    /// Sends `data` to `to` through the sender, in the background.
    fn spawn_send(
        &self,
        what: &'static str,
        to: Address,
        data: Vec<u8>,
    ) -> tokio::task::JoinHandle<
        Result<alloy::rpc::types::TransactionReceipt, crossgov_relayer::chain::ChainError>,
    > {
        let client = self.client.clone();
        tokio::spawn(async move { client.sender().send(what, to, data.into()).await })
    }

    /// The calldata of an action that succeeds once: a lock of the owner's own funds (a second
    /// copy is refused HtlcSwapExists).
    async fn lock_once_data(&self, tag: u8) -> Vec<u8> {
        use alloy::sol_types::SolCall;
        use crossgov_relayer::protocol::{Lock, htlc_domain};
        let now = latest_timestamp(&self.provider).await;
        let lock = Lock {
            swapId: B256::repeat_byte(tag),
            sender: self.owner,
            recipient: self.chain.accounts[ALICE].address,
            amount: U256::from(3),
            hashlock: B256::repeat_byte(tag.wrapping_add(1)),
            timelock: now + HOUR,
        };
        let asset = self.chain.resources.htlc_asset.address;
        let sig = lock
            .sign(&htlc_domain(CHAIN_A_ID, asset), &self.chain.accounts[ADMIN1].signer)
            .expect("sign");
        lock.lock_call(sig).abi_encode()
    }

    async fn nonce(&self) -> u64 {
        self.provider.get_transaction_count(self.owner).await.expect("nonce")
    }

    async fn pending_nonce(&self) -> u64 {
        self.provider.get_transaction_count(self.owner).pending().await.expect("nonce")
    }

    /// Waits until the first send sits in the pool, then makes the node stop answering.
    async fn lose_the_node_after_one_pooled(&self, what: &str) {
        wait_for(what, || async {
            let pending = self.provider.get_transaction_count(self.owner).pending().await.ok()?;
            (pending == self.start + 1).then_some(())
        })
        .await;
        self.proxy.drop_next(1_000);
    }
}

/// A send whose wait fails (the node went away while the transaction sat in its pool, and the
/// pool was lost) must not leave the next send a nonce gap: before the next send goes out, the
/// lost transaction is given back to the node on its own nonce (its fate was unknown to the
/// caller, so it is settled, not abandoned), and the next send follows it instead of queueing
/// behind a gap forever.
#[tokio::test]
async fn relayer_2pc_sender_reuses_a_nonce_the_node_lost() {
    use alloy::sol_types::SolCall;
    use crossgov_relayer::bindings::XaLedger;

    let rig = SenderRig::start(2).await;
    let ledger = rig.chain.resources.xa_ledger.address;
    let owner = rig.owner;
    let mint_data = XaLedger::mintCall { to: owner, amount: U256::from(1) }.abi_encode();

    // The first mint waits in the pool of a node that mines nothing; then the node stops
    // answering (every request fails) and the send gives up.
    rig.rpc("evm_setAutomine", serde_json::json!([false])).await;
    let first = rig.spawn_send("mint", ledger, mint_data.clone());
    rig.lose_the_node_after_one_pooled("the mint in the pool").await;
    let err = first.await.expect("join").expect_err("the node went away");
    assert!(err.is_retryable(), "{err}");
    // The node comes back without its pool, mining again.
    rig.rpc("anvil_dropAllTransactions", serde_json::json!([])).await;
    rig.proxy.clear();
    rig.rpc("evm_setAutomine", serde_json::json!([true])).await;
    assert_eq!(rig.pending_nonce().await, rig.start);

    // The next mint settles the lost one on its nonce, then goes through on the next.
    let receipt =
        tokio::time::timeout(crate::harness::WAIT, rig.spawn_send("mint", ledger, mint_data))
            .await
            .expect("the next send is mined, not queued behind a gap")
            .expect("join")
            .expect("mint");
    assert!(receipt.status());
    assert_eq!(rig.nonce().await, rig.start + 2);
    assert_eq!(rig.pending_nonce().await, rig.start + 2, "nothing left waiting behind a gap");
    let minted =
        XaLedger::new(ledger, &rig.provider).balanceOf(owner).call().await.expect("balance");
    assert_eq!(minted, U256::from(2), "the lost mint and the next one, each once");
}

/// Two sends of one action never both go out: when waiting for the first fails while it sits in
/// the pool (the node stopped answering), the second waits for it to be mined before its own
/// pre-flight, which then refuses what the first already did. (Seen under interval mining: a
/// relayer acked a step twice and the second ack reverted on chain.)
#[tokio::test]
async fn relayer_2pc_sender_never_sends_one_action_twice() {
    use crossgov_relayer::ContractRevert;
    use crossgov_relayer::chain::ChainError;

    let rig = SenderRig::start(2).await;
    let asset = rig.chain.resources.htlc_asset.address;
    let data = rig.lock_once_data(0x42).await;

    // The first lock sits in the pool of a node that mines nothing; its wait fails.
    rig.rpc("evm_setAutomine", serde_json::json!([false])).await;
    let first = rig.spawn_send("lock", asset, data.clone());
    rig.lose_the_node_after_one_pooled("the lock in the pool").await;
    let err = first.await.expect("join").expect_err("the node went away");
    assert!(err.is_retryable(), "{err}");
    rig.proxy.clear();

    // The same action again, while the first is still unmined: the second either goes out
    // (what it must not do) or waits on the first. Wait until it did one or the other, then mine.
    let count = |method: &str| rig.proxy.stats().by_method().get(method).copied().unwrap_or(0);
    let sent_before = count("eth_sendRawTransaction");
    let polls_before = count("eth_getTransactionReceipt");
    let second = rig.spawn_send("lock", asset, data);
    wait_for("the second send to broadcast or to wait on the first", || async {
        let sent = count("eth_sendRawTransaction") > sent_before;
        let polls = count("eth_getTransactionReceipt") > polls_before;
        (sent || polls).then_some(())
    })
    .await;
    rig.rpc("evm_mine", serde_json::json!([])).await;
    rig.rpc("evm_setAutomine", serde_json::json!([true])).await;
    let err = second.await.expect("join").expect_err("the lock exists once");
    assert!(
        matches!(&err, ChainError::Reverted { revert: ContractRevert::HtlcAsset(_), .. }),
        "refused in pre-flight, not sent and failed on chain: {err}"
    );
    assert_eq!(rig.nonce().await, rig.start + 1, "one transaction went out");
}

/// A broadcast whose answer is lost (the node took the transaction and mined it) is waited for as
/// sent: the sender neither signs the action again on the next nonce nor fails the send.
#[tokio::test]
async fn relayer_2pc_sender_waits_for_a_broadcast_whose_answer_was_lost() {
    let rig = SenderRig::start(3).await;
    let asset = rig.chain.resources.htlc_asset.address;
    let data = rig.lock_once_data(0x52).await;

    rig.proxy.lose_next_calls("eth_sendRawTransaction", 1);
    let receipt = rig
        .spawn_send("lock", asset, data)
        .await
        .expect("join")
        .expect("the lock is sent once and found mined");
    assert!(receipt.status());
    assert_eq!(
        rig.proxy.stats().lost.load(std::sync::atomic::Ordering::Relaxed),
        1,
        "the answer was lost"
    );
    assert_eq!(rig.nonce().await, rig.start + 1, "one transaction went out");
}
