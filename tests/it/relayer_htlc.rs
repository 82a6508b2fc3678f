//! The relayer runtime driving HTLC swaps end to end: three real anvils (governance chain,
//! zoneA.chainA, zoneB.chainB), relayers running as tokio tasks, swaps proposed and accepted
//! through `RelayerHandle`. Institution 1's relayer serves chain A and is alice's (the
//! initiator's); it reaches chain B as a peer only to unlock leg B. Institution 2's relayer serves
//! chain B and is bob's (the counterparty's). Time moves only by anvil's clock RPCs; waits are
//! bounded polls on chain state.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use alloy::transports::http::reqwest;
use serde_json::{Value, json};

use crossgov_relayer::api::{self, ApiServer};
use crossgov_relayer::audit::{CoverKey, CoverKind, Interface, Protocol};
use crossgov_relayer::bindings::transaction_manager::ITransactionManager;
use crossgov_relayer::bindings::{LegState, SwapState, TransactionManager};
use crossgov_relayer::htlc::api as htlc_api;
use crossgov_relayer::htlc::{HtlcSettings, PeerChain, SwapSubmitError};
use crossgov_relayer::protocol::htlc::{LegId, SwapRequestError, htlc_domain};
use crossgov_relayer::protocol::{Leg, Secret, SwapRequest, tm_domain};
use crossgov_relayer::runtime::{
    ChainEndpoint, Metrics, Relayer, RelayerHandle, RelayerSettings, ServedChain,
};
use crossgov_relayer::two_phase::{HookAction, ProtocolHook, ProtocolPoint};
use crossgov_relayer::{IPath, Ops};

use crate::audit::{complete_trail, operation, operations, summary};
use crate::consortium::{
    ADMIN1, ADMIN2, ALICE, BOB, Consortium, RELAYER_A, RELAYER_A2, RELAYER_B, Setup,
};
use crate::harness::{
    BusinessChain, DEPLOYER, TestNet, advance_time, latest_timestamp, report_alone, seg, send,
    wait_for,
};

// Alice (user of (1)) is the initiator, bob (user of (2)) the counterparty.
const CHAIN_A_ID: u64 = 3001;
const CHAIN_B_ID: u64 = 3002;
const ASSET_A: &str = "zoneA.chainA.asset";
const ASSET_B: &str = "zoneB.chainB.asset";
const OPENING: u64 = 1_000;
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

/// alice's and bob's balances on both assets, and what each asset holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Balances {
    alice_a: U256,
    bob_a: U256,
    held_a: U256,
    alice_b: U256,
    bob_b: U256,
    held_b: U256,
}

/// A request with both parties' signatures.
#[derive(Debug, Clone)]
struct Signed {
    request: SwapRequest,
    by_alice: Bytes,
    lock_a: Bytes,
    by_bob: Bytes,
    lock_b: Bytes,
}

impl Net {
    async fn start() -> Net {
        crate::harness::init_test_logs();
        let setup = Setup { more_users_1: &[], grantees: &[ALICE, BOB], ops: Ops::HTLC };
        let Consortium { gov, a, b, regulator } =
            Consortium::start((CHAIN_A_ID, CHAIN_B_ID), setup).await;
        let net = Net { gov, a, b, regulator, dirs: Vec::new() };
        send("mint A", net.a.htlc(ADMIN1).mint(net.gov.address(ALICE), u(OPENING))).await;
        send("mint B", net.b.htlc(ADMIN2).mint(net.gov.address(BOB), u(OPENING))).await;
        net
    }

    fn gov_provider(&self) -> &DynProvider {
        &self.gov.accounts[DEPLOYER].provider
    }

    fn tm_address(&self) -> Address {
        self.gov.deployment.transaction_manager.address
    }

    fn new_dir(&mut self) -> PathBuf {
        let dir = tempfile::tempdir().expect("state dir");
        let path = dir.path().to_path_buf();
        self.dirs.push(dir);
        path
    }

    fn settings(&self, institution: u64, state_dir: PathBuf) -> (RelayerSettings, HtlcSettings) {
        let d = &self.gov.deployment;
        let contracts = d.governance_addresses();
        let side = |zone: &str, chain: &str, business: &BusinessChain| ServedChain {
            zone: seg(zone),
            chain: seg(chain),
            rpc_url: business.anvil.endpoint_url(),
            confirmations: 1,
            resources: BTreeMap::from([(seg("asset"), business.resources.htlc_asset.address)]),
            options: crossgov_relayer::chain::ChainOptions::default(),
        };
        let (served, peer) = if institution == 1 {
            (side("zoneA", "chainA", &self.a), side("zoneB", "chainB", &self.b))
        } else {
            (side("zoneB", "chainB", &self.b), side("zoneA", "chainA", &self.a))
        };
        let peer = PeerChain {
            chain_key: path(&format!("{}.{}.asset", peer.zone, peer.chain)).chain_key(),
            name: format!("{}.{}", peer.zone, peer.chain),
            rpc_url: peer.rpc_url,
            confirmations: 1,
            assets: peer.resources.iter().map(|(s, a)| (s.to_word(), *a)).collect(),
            options: crossgov_relayer::chain::ChainOptions::default(),
        };
        let settings = RelayerSettings {
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
        };
        // Only the initiator's relayer needs chain B, to reveal the secret there.
        let peers = if institution == 1 { vec![peer] } else { Vec::new() };
        (settings, HtlcSettings { safety_margin: 120, peers, ..HtlcSettings::default() })
    }

    async fn relayer_in(
        &self,
        institution: u64,
        key: usize,
        state_dir: PathBuf,
        hook: Option<ProtocolHook>,
    ) -> RelayerHandle {
        let (settings, htlc) = self.settings(institution, state_dir);
        let signer = self.gov.accounts[key].signer.clone();
        Relayer::start_with_htlc(settings, htlc, signer, Arc::new(Metrics::new()), hook)
            .await
            .expect("start relayer")
    }

    /// alice pays `amount_a` on asset A to bob, bob `amount_b` on asset B to alice;
    /// TB = nowB + 1h, TA = nowA + 3h (each business chain's clock).
    async fn signed(&self, hashlock: B256, amount_a: u64, amount_b: u64) -> Signed {
        let now_a = latest_timestamp(self.a.provider()).await;
        let now_b = latest_timestamp(self.b.provider()).await;
        let (alice, bob) = (self.gov.address(ALICE), self.gov.address(BOB));
        let request = SwapRequest::new(
            hashlock,
            Leg::new(&path(ASSET_A), alice, bob, u(amount_a), now_a + 3 * HOUR),
            Leg::new(&path(ASSET_B), bob, alice, u(amount_b), now_b + HOUR),
        );
        self.sign(request)
    }

    fn sign(&self, request: SwapRequest) -> Signed {
        let domain = tm_domain(self.gov.deployment.chain_id, self.tm_address());
        let alice = &self.gov.accounts[ALICE].signer;
        let bob = &self.gov.accounts[BOB].signer;
        Signed {
            by_alice: request.sign(&domain, alice).expect("sign"),
            lock_a: self.sign_lock(&request, LegId::A, ALICE),
            by_bob: request.sign(&domain, bob).expect("sign"),
            lock_b: self.sign_lock(&request, LegId::B, BOB),
            request,
        }
    }

    /// `key`'s Lock signature for `leg` of `request`, under that leg's asset's domain.
    fn sign_lock(&self, request: &SwapRequest, leg: LegId, key: usize) -> Bytes {
        let domain = match leg {
            LegId::A => htlc_domain(CHAIN_A_ID, self.a.resources.htlc_asset.address),
            LegId::B => htlc_domain(CHAIN_B_ID, self.b.resources.htlc_asset.address),
        };
        request.lock(leg).sign(&domain, &self.gov.accounts[key].signer).expect("sign")
    }

    async fn swap(&self, swap_id: B256) -> ITransactionManager::Swap {
        self.gov.tm(DEPLOYER).swap(swap_id).call().await.expect("swap")
    }

    async fn states(&self, swap_id: B256) -> (SwapState, LegState, LegState) {
        let s = self.swap(swap_id).await;
        (
            SwapState::try_from(s.state).expect("state"),
            LegState::try_from(s.legA).expect("leg A"),
            LegState::try_from(s.legB).expect("leg B"),
        )
    }

    async fn wait_states(&self, swap_id: B256, want: (SwapState, LegState, LegState)) {
        wait_for(&format!("swap {swap_id} to be {want:?}"), || async {
            (self.states(swap_id).await == want).then_some(())
        })
        .await;
    }

    async fn balances(&self) -> Balances {
        let (ha, hb) = (self.a.htlc(DEPLOYER), self.b.htlc(DEPLOYER));
        let (alice, bob) = (self.gov.address(ALICE), self.gov.address(BOB));
        Balances {
            alice_a: ha.balanceOf(alice).call().await.expect("balance"),
            bob_a: ha.balanceOf(bob).call().await.expect("balance"),
            held_a: ha.held().call().await.expect("held"),
            alice_b: hb.balanceOf(alice).call().await.expect("balance"),
            bob_b: hb.balanceOf(bob).call().await.expect("balance"),
            held_b: hb.held().call().await.expect("held"),
        }
    }

    /// The swap's TransactionManager events, by name, in order.
    async fn tm_events(&self, swap_id: B256) -> Vec<&'static str> {
        let filter = Filter::new().address(self.tm_address()).topic1(swap_id).from_block(0);
        let logs = self.gov_provider().get_logs(&filter).await.expect("logs");
        let names = [
            (TransactionManager::SwapProposed::SIGNATURE_HASH, "SwapProposed"),
            (TransactionManager::SwapAccepted::SIGNATURE_HASH, "SwapAccepted"),
            (TransactionManager::LegLocked::SIGNATURE_HASH, "LegLocked"),
            (TransactionManager::LegUnlocked::SIGNATURE_HASH, "LegUnlocked"),
            (TransactionManager::LegRefunded::SIGNATURE_HASH, "LegRefunded"),
            (TransactionManager::LegVoided::SIGNATURE_HASH, "LegVoided"),
            (TransactionManager::SwapClosed::SIGNATURE_HASH, "SwapClosed"),
            (TransactionManager::SwapExpired::SIGNATURE_HASH, "SwapExpired"),
        ];
        logs.iter()
            .filter_map(|l| {
                let t = *l.topic0()?;
                names.iter().find(|(h, _)| *h == t).map(|(_, n)| *n)
            })
            .collect()
    }

    /// Asserts a completed swap of 100 on A and 50 on B on top of `before`.
    async fn assert_completed(&self, swap_id: B256, before: Balances) {
        assert_eq!(
            self.states(swap_id).await,
            (SwapState::Closed, LegState::Unlocked, LegState::Unlocked)
        );
        assert_eq!(
            self.balances().await,
            Balances {
                alice_a: before.alice_a - u(100),
                bob_a: before.bob_a + u(100),
                held_a: U256::ZERO,
                alice_b: before.alice_b + u(50),
                bob_b: before.bob_b - u(50),
                held_b: U256::ZERO,
            }
        );
        let events = self.tm_events(swap_id).await;
        for (name, n) in [("LegLocked", 2), ("LegUnlocked", 2), ("SwapClosed", 1)] {
            assert_eq!(events.iter().filter(|e| **e == name).count(), n, "{events:?}");
        }
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

fn swap_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir.join("htlc"))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("swap-"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn relayer_htlc_completes_a_swap() {
    let mut net = Net::start().await;
    let (dir1, dir2) = (net.new_dir(), net.new_dir());
    let i1 = net.relayer_in(1, RELAYER_A, dir1.clone(), None).await;
    let i2 = net.relayer_in(2, RELAYER_B, dir2, None).await;
    let before = net.balances().await;

    // The initiator's relayer generates the secret; alice signs its hashlock into the request.
    let hashlock = i1.generate_swap_secret().expect("secret");
    let s = net.signed(hashlock, 100, 50).await;
    let swap_id = s.request.swapId;
    let proposed =
        i1.propose_swap(s.request.clone(), s.by_alice, s.lock_a, None).await.expect("propose");
    assert_eq!(proposed.swap_id, swap_id);
    // Persisted with mode 0600 before the proposal.
    let files = swap_files(&dir1);
    assert_eq!(files.len(), 1, "{files:?}");
    i2.accept_swap(swap_id, s.by_bob, s.lock_b).await.expect("accept");

    net.wait_states(swap_id, (SwapState::Closed, LegState::Unlocked, LegState::Unlocked)).await;
    net.assert_completed(swap_id, before).await;
    assert_eq!(
        net.tm_events(swap_id).await,
        [
            "SwapProposed",
            "SwapAccepted",
            "LegLocked",
            "LegLocked",
            "LegUnlocked",
            "LegUnlocked",
            "SwapClosed"
        ]
    );
    // The trail: one record per report, each by its reporter's institution, and the secret's
    // reveal on chain B by I1's relayer (its own record: it is not leg B's reporter).
    let trail = complete_trail(&net.gov, &net.regulator, swap_id, true).await;
    assert_eq!(trail.len(), 7, "propose, accept, lock A, lock B, reveal, unlock B, unlock A");
    assert_eq!(
        summary(&trail),
        [
            "accept SwapAccepted",
            "lock LegLocked(leg 0)",
            "lock LegLocked(leg 1)",
            "propose SwapProposed",
            "recordLeg LegLocked(leg 0)",
            "recordLeg LegLocked(leg 1)",
            "recordLeg LegUnlocked(leg 0)",
            "recordLeg LegUnlocked(leg 1)",
            "unlock LegUnlocked(leg 0)",
            "unlock LegUnlocked(leg 1)",
            "unlock SecretRevealed(leg 1)",
        ]
    );
    let lock_a = operation(&trail, "lock", "LegLocked(leg 0)");
    assert_eq!((lock_a.chain.as_str(), lock_a.result.as_str()), ("zoneA.chainA", "ok"));
    assert_eq!(lock_a.arguments["amount"], "100");
    assert!(lock_a.tx_hash.is_some());
    let reveal = operation(&trail, "unlock", "SecretRevealed(leg 1)");
    assert_eq!(reveal.chain, "zoneB.chainB");
    assert_eq!(reveal.performed_by, None, "written before the unlock was sent");
    let unlocked_b = operation(&trail, "unlock", "LegUnlocked(leg 1)");
    assert_eq!(unlocked_b.result, "ok (found Unlocked on chain)", "I2 found I1's reveal");
    for (r, record) in &trail {
        assert_eq!((record.protocol, record.initiator), (Protocol::Htlc, net.gov.address(ALICE)));
        assert_eq!(
            r.relayer,
            net.gov.address(if r.institution == 1 { RELAYER_A } else { RELAYER_B })
        );
    }
    let status = i1.swap_status(swap_id).await.expect("status").expect("known");
    assert_eq!(status.state, SwapState::Closed);
    assert_eq!(status.revealed_secret, Some(net.swap(swap_id).await.secret));
    assert!(status.sent.iter().any(|t| t.action == "proposeSwap" && t.tx_hash == proposed.tx_hash));
    // The swap is over: its record (and secret) is gone from the state dir.
    wait_for("the swap record to be deleted", || async {
        swap_files(&dir1).is_empty().then_some(())
    })
    .await;
    i1.shutdown().await;
    i2.shutdown().await;
}

#[tokio::test]
async fn relayer_htlc_refunds_a_when_the_counterparty_never_locks() {
    let mut net = Net::start().await;
    let dir1 = net.new_dir();
    let i1 = net.relayer_in(1, RELAYER_A, dir1, None).await;
    let before = net.balances().await;
    let secret = Secret::random();
    let s = net.signed(secret.hashlock(), 100, 50).await;
    let swap_id = s.request.swapId;
    i1.propose_swap(s.request.clone(), s.by_alice, s.lock_a, Some(secret)).await.expect("propose");
    // Bob's relayer accepts by hand and is never running: nobody locks B.
    let call =
        TransactionManager::acceptSwapCall { swapId: swap_id, counterpartySignature: s.by_bob };
    let accepted = (CoverKey::new(CoverKind::SwapAccepted, 0), Interface::Accept);
    report_alone(
        (&net.gov.tm(RELAYER_B), net.gov.accounts[RELAYER_B].address),
        swap_id,
        accepted,
        call,
    )
    .await;
    net.wait_states(swap_id, (SwapState::Accepted, LegState::Locked, LegState::None)).await;

    // Past TA on chain A (and on the governance chain): A is refunded.
    advance_time(net.a.provider(), 3 * HOUR + 60).await;
    advance_time(net.gov_provider(), 3 * HOUR + 60).await;
    net.wait_states(swap_id, (SwapState::Accepted, LegState::Refunded, LegState::None)).await;
    assert_eq!(net.balances().await, before, "alice's 100 came back");

    // Bob's relayer comes back past TB on chain B: B is voided and the swap closes.
    advance_time(net.b.provider(), HOUR + 60).await;
    let dir2 = net.new_dir();
    let i2 = net.relayer_in(2, RELAYER_B, dir2, None).await;
    net.wait_states(swap_id, (SwapState::Closed, LegState::Refunded, LegState::Void)).await;
    assert_eq!(net.balances().await, before, "nothing lost");
    let trail = complete_trail(&net.gov, &net.regulator, swap_id, true).await;
    assert_eq!(
        summary(&trail),
        [
            "accept SwapAccepted",
            "lock LegLocked(leg 0)",
            "propose SwapProposed",
            "recordLeg LegLocked(leg 0)",
            "recordLeg LegRefunded(leg 0)",
            "timeout LegRefunded(leg 0)",
            "void LegVoided(leg 1)",
        ]
    );
    // Bob's relayer account accepted by hand; the chain took it only with its record in the same
    // report (a regulator is active), so Bank B's relayer found nothing to reconstruct.
    let accept = operation(&trail, "accept", "SwapAccepted");
    assert_eq!(accept.result, "pending", "{accept:?}");
    assert_eq!(accept.arguments["sentBy"], "hand", "{accept:?}");
    i1.shutdown().await;
    i2.shutdown().await;
}

#[tokio::test]
async fn relayer_htlc_refunds_both_when_the_initiator_never_reveals() {
    let mut net = Net::start().await;
    let (dir1, dir2) = (net.new_dir(), net.new_dir());
    let i2 = net.relayer_in(2, RELAYER_B, dir2, None).await;
    // I1's relayer dies right after locking A, and its state dir (with the secret) is lost.
    let halt = halt_at(|p| matches!(p, ProtocolPoint::HtlcLocked { leg: 0, .. }));
    let i1 = net.relayer_in(1, RELAYER_A, dir1.clone(), Some(halt)).await;
    let before = net.balances().await;
    let hashlock = i1.generate_swap_secret().expect("secret");
    let s = net.signed(hashlock, 100, 50).await;
    let swap_id = s.request.swapId;
    i1.propose_swap(s.request.clone(), s.by_alice, s.lock_a, None).await.expect("propose");
    i2.accept_swap(swap_id, s.by_bob, s.lock_b).await.expect("accept");
    wait_stopped(&i1).await;
    std::fs::remove_dir_all(&dir1).expect("delete I1's state dir");

    // A fresh I1 relayer (empty state dir) records A; bob's relayer locks B; nobody can reveal.
    let dir1b = net.new_dir();
    let i1b = net.relayer_in(1, RELAYER_A, dir1b, None).await;
    net.wait_states(swap_id, (SwapState::Accepted, LegState::Locked, LegState::Locked)).await;

    // Past TB on chain B: B is refunded to bob.
    advance_time(net.b.provider(), HOUR + 60).await;
    net.wait_states(swap_id, (SwapState::Accepted, LegState::Locked, LegState::Refunded)).await;
    // Past TA on chain A: A is refunded to alice.
    advance_time(net.a.provider(), 3 * HOUR + 60).await;
    net.wait_states(swap_id, (SwapState::Closed, LegState::Refunded, LegState::Refunded)).await;
    assert_eq!(net.balances().await, before, "nothing moved");
    let trail = complete_trail(&net.gov, &net.regulator, swap_id, true).await;
    let lock_a = operation(&trail, "lock", "LegLocked(leg 0)");
    assert_eq!(lock_a.result, "ok (found Locked on chain)", "the fresh relayer audited the lock");
    operation(&trail, "timeout", "LegRefunded(leg 0)");
    operation(&trail, "timeout", "LegRefunded(leg 1)");
    i1b.shutdown().await;
    i2.shutdown().await;
}

/// Which relayer a crash point stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Crashed {
    I1,
    I2,
}

/// The relayer named by `crashed` halts at `point`; a fresh one finishes the swap. Before the
/// secret is revealed a fresh I1 relayer must reuse the crashed one's state dir (the secret lives
/// there only); after it is revealed (on chain B) a DIFFERENT I1 relayer account with a fresh
/// state dir must still unlock A before TA.
async fn resume_at(point: fn(&ProtocolPoint) -> bool, crashed: Crashed, secret_revealed: bool) {
    let mut net = Net::start().await;
    let (dir1, dir2) = (net.new_dir(), net.new_dir());
    let hook = Some(halt_at(point));
    let (hook1, hook2) = if crashed == Crashed::I1 { (hook, None) } else { (None, hook) };
    let i1 = net.relayer_in(1, RELAYER_A, dir1.clone(), hook1).await;
    let i2 = net.relayer_in(2, RELAYER_B, dir2.clone(), hook2).await;
    let before = net.balances().await;
    let hashlock = i1.generate_swap_secret().expect("secret");
    let s = net.signed(hashlock, 100, 50).await;
    let swap_id = s.request.swapId;
    i1.propose_swap(s.request.clone(), s.by_alice, s.lock_a, None).await.expect("propose");
    // The relayer halted at `SwapProposed` cannot accept for bob: accept through I2 either way.
    i2.accept_swap(swap_id, s.by_bob, s.lock_b).await.expect("accept");
    let victim = if crashed == Crashed::I1 { &i1 } else { &i2 };
    wait_stopped(victim).await;

    let fresh = match (crashed, secret_revealed) {
        (Crashed::I1, false) => net.relayer_in(1, RELAYER_A, dir1, None).await,
        (Crashed::I1, true) => {
            let dir = net.new_dir();
            net.relayer_in(1, RELAYER_A2, dir, None).await
        }
        (Crashed::I2, _) => net.relayer_in(2, RELAYER_B, dir2, None).await,
    };
    net.wait_states(swap_id, (SwapState::Closed, LegState::Unlocked, LegState::Unlocked)).await;
    net.assert_completed(swap_id, before).await;
    let trail = complete_trail(&net.gov, &net.regulator, swap_id, true).await;
    assert_eq!(operations(&trail).len(), 11, "{:?}", summary(&trail));
    if crashed == Crashed::I1 && secret_revealed {
        // The second I1 relayer, with no secret of its own, unlocked A from the revealed secret.
        // It notes a transaction once its receipt is confirmed, which may be just after the
        // chain shows the swap closed.
        wait_for("the second relayer to note unlock and recordLegUnlocked of A", || async {
            let status = fresh.swap_status(swap_id).await.expect("status").expect("known");
            let did =
                |action: &str| status.sent.iter().any(|t| t.action == action && t.step == Some(0));
            (did("unlock") && did("recordLegUnlocked")).then_some(())
        })
        .await;
    }
    fresh.shutdown().await;
    if crashed == Crashed::I1 {
        i2.shutdown().await;
    } else {
        i1.shutdown().await;
    }
}

#[tokio::test]
async fn relayer_htlc_resumes_after_propose() {
    resume_at(|p| matches!(p, ProtocolPoint::SwapProposed { .. }), Crashed::I1, false).await;
}

#[tokio::test]
async fn relayer_htlc_resumes_after_lock_a() {
    resume_at(|p| matches!(p, ProtocolPoint::HtlcLocked { leg: 0, .. }), Crashed::I1, false).await;
}

#[tokio::test]
async fn relayer_htlc_resumes_after_lock_b() {
    resume_at(|p| matches!(p, ProtocolPoint::HtlcLocked { leg: 1, .. }), Crashed::I2, false).await;
}

#[tokio::test]
async fn relayer_htlc_resumes_after_unlock_b_with_another_relayer() {
    resume_at(|p| matches!(p, ProtocolPoint::HtlcUnlocked { leg: 1, .. }), Crashed::I1, true).await;
}

#[tokio::test]
async fn relayer_htlc_rejects_bad_input() {
    let mut net = Net::start().await;
    let (dir1, dir2) = (net.new_dir(), net.new_dir());
    let i1 = net.relayer_in(1, RELAYER_A, dir1.clone(), None).await;
    let i2 = net.relayer_in(2, RELAYER_B, dir2.clone(), None).await;
    let now_gov = latest_timestamp(net.gov_provider()).await;
    let secret = Secret::random();
    let good = net.signed(secret.hashlock(), 100, 50).await.request;

    let expect_timelocks = |err: SwapSubmitError| {
        assert!(
            matches!(err, SwapSubmitError::Invalid(SwapRequestError::Timelocks { .. })),
            "{err}"
        );
    };
    // TA <= TB + margin.
    let mut r = good.clone();
    r.legA.timelock = r.legB.timelock + 60;
    let s = net.sign(r);
    let err = i1
        .propose_swap(s.request.clone(), s.by_alice, s.lock_a, Some(secret.clone()))
        .await
        .expect_err("TA too close to TB");
    expect_timelocks(err);
    // TB in the past.
    let mut r = good.clone();
    r.legB.timelock = now_gov - 10;
    let s = net.sign(r);
    let err = i1
        .propose_swap(s.request.clone(), s.by_alice, s.lock_a, Some(secret.clone()))
        .await
        .expect_err("TB in the past");
    expect_timelocks(err);
    // A secret that does not open the hashlock.
    let s = net.sign(good.clone());
    let err = i1
        .propose_swap(
            s.request.clone(),
            s.by_alice.clone(),
            s.lock_a.clone(),
            Some(Secret::random()),
        )
        .await
        .expect_err("wrong secret");
    assert!(matches!(err, SwapSubmitError::WrongSecret { .. }), "{err}");
    // A Lock signature for leg A by someone other than alice.
    let forged = net.sign_lock(&s.request, LegId::A, BOB);
    let err = i1
        .propose_swap(s.request.clone(), s.by_alice.clone(), forged, Some(secret.clone()))
        .await
        .expect_err("forged lock signature");
    assert!(
        matches!(err, SwapSubmitError::BadLockSignature { leg: LegId::A, sender } if sender == net.gov.address(ALICE)),
        "{err}"
    );
    // Accepting an unknown swap.
    let unknown = B256::repeat_byte(0x42);
    let err =
        i2.accept_swap(unknown, s.by_bob.clone(), s.lock_b.clone()).await.expect_err("unknown");
    assert!(matches!(err, SwapSubmitError::UnknownSwap(id) if id == unknown), "{err}");
    assert!(i2.swap_status(unknown).await.expect("status").is_none());

    // Nothing was sent or kept.
    assert_eq!(net.states(good.swapId).await.0, SwapState::None);
    assert!(net.tm_events(good.swapId).await.is_empty());
    assert!(swap_files(&dir1).is_empty());
    assert!(swap_files(&dir2).is_empty());

    // A forged Lock signature for leg B on acceptance: refused, the swap stays Proposed.
    i1.propose_swap(s.request.clone(), s.by_alice.clone(), s.lock_a.clone(), Some(secret))
        .await
        .expect("propose");
    let forged_b = net.sign_lock(&s.request, LegId::B, ALICE);
    let err = i2.accept_swap(good.swapId, s.by_bob.clone(), forged_b).await.expect_err("forged");
    assert!(matches!(err, SwapSubmitError::BadLockSignature { leg: LegId::B, .. }), "{err}");
    assert_eq!(net.states(good.swapId).await.0, SwapState::Proposed);
    assert!(swap_files(&dir2).is_empty());
    i1.shutdown().await;
    i2.shutdown().await;
}

/// `(status, JSON body)` of a request to the relayer's API.
async fn http(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.expect("HTTP");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn leg_json(leg: &Leg) -> Value {
    let path = leg.path().expect("path");
    json!({
        "zone": path.zone.to_string(), "chain": path.chain.to_string(),
        "resource": path.resource.to_string(), "sender": leg.sender, "recipient": leg.recipient,
        "amount": leg.amount.to_string(), "timelock": leg.timelock
    })
}

#[tokio::test]
async fn relayer_htlc_http_api_proposes_accepts_and_reports() {
    let mut net = Net::start().await;
    let (dir1, dir2) = (net.new_dir(), net.new_dir());
    let i1 = net.relayer_in(1, RELAYER_A, dir1, None).await;
    let i2 = net.relayer_in(2, RELAYER_B, dir2, None).await;
    let listen: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let serve = |h: &RelayerHandle| {
        api::router(Arc::new(h.clone()), Arc::new(Metrics::new()))
            .merge(htlc_api::routes(h.clone()))
    };
    let s1 = ApiServer::start(listen, serve(&i1)).await.expect("serve I1");
    let s2 = ApiServer::start(listen, serve(&i2)).await.expect("serve I2");
    let (u1, u2) = (format!("http://{}", s1.local_addr), format!("http://{}", s2.local_addr));
    let client = reqwest::Client::new();
    let before = net.balances().await;

    let (code, body) =
        http(&client, reqwest::Method::POST, format!("{u1}/v1/swaps/secrets"), None).await;
    assert_eq!(code, 201, "{body}");
    let hashlock: B256 = body["hashlock"].as_str().expect("hashlock").parse().expect("hex");
    let s = net.signed(hashlock, 100, 50).await;
    let swap_id = s.request.swapId;
    let r = &s.request;
    let propose = json!({
        "request": {
            "swapId": r.swapId, "hashlock": r.hashlock, "legA": leg_json(&r.legA),
            "legB": leg_json(&r.legB), "nonce": r.nonce.to_string()
        },
        "initiatorSignature": s.by_alice, "lockSignature": s.lock_a
    });
    // A wrong secret is a 400 and nothing is proposed.
    let mut wrong = propose.clone();
    wrong["secret"] = json!(B256::repeat_byte(9));
    let (code, body) =
        http(&client, reqwest::Method::POST, format!("{u1}/v1/swaps"), Some(wrong)).await;
    assert_eq!((code, body["error"]["code"].as_str()), (400, Some("SwapWrongSecret")), "{body}");
    let (code, body) =
        http(&client, reqwest::Method::POST, format!("{u1}/v1/swaps"), Some(propose)).await;
    assert_eq!(code, 202, "{body}");
    assert_eq!(body["swapId"], json!(swap_id));
    assert!(body.get("secret").is_none());
    let accept = json!({ "counterpartySignature": s.by_bob, "lockSignature": s.lock_b });
    let url = format!("{u2}/v1/swaps/{swap_id}/accept");
    let (code, body) = http(&client, reqwest::Method::POST, url, Some(accept)).await;
    assert_eq!(code, 202, "{body}");

    net.wait_states(swap_id, (SwapState::Closed, LegState::Unlocked, LegState::Unlocked)).await;
    net.assert_completed(swap_id, before).await;
    let (code, view) =
        http(&client, reqwest::Method::GET, format!("{u1}/v1/swaps/{swap_id}"), None).await;
    assert_eq!(code, 200, "{view}");
    assert_eq!(view["state"], "Closed");
    assert_eq!(view["legs"][0]["state"], "Unlocked");
    assert_eq!(view["legs"][1]["state"], "Unlocked");
    assert_eq!(view["legs"][0]["lockState"], "Unlocked");
    assert_eq!(view["secret"], json!(net.swap(swap_id).await.secret));
    let unknown = B256::repeat_byte(0x33);
    let (code, _) =
        http(&client, reqwest::Method::GET, format!("{u1}/v1/swaps/{unknown}"), None).await;
    assert_eq!(code, 404);
    s1.shutdown().await.expect("stop");
    s2.shutdown().await.expect("stop");
    i1.shutdown().await;
    i2.shutdown().await;
}

/// How a crashed relayer is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recovery {
    /// Another relayer of the same institution, with an empty state dir (I1 only: chain B has
    /// one serving relayer in this consortium).
    Takeover,
    /// The same account restarted on the same state dir.
    Restart,
    /// The same account with an empty state dir.
    Fresh,
}

/// A point of the HTLC protocol and the relayer that reports it.
#[derive(Debug, Clone, Copy)]
struct SwapCrash {
    name: &'static str,
    crashed: Crashed,
    /// The secret is public by then: a replacement without the state dir can still complete.
    revealed: bool,
    matches: fn(&ProtocolPoint, bool) -> bool,
}

/// Crash-point matrix of HTLC. The crashed relayer halts at the point, as if its process died.
///
/// | point | relayer | the chains at the crash |
/// |---|---|---|
/// | SwapProposed | I1 | proposal mined (its record inside the same report); secret and Lock A only in I1's state dir |
/// | HtlcLocked(A) | I1 | A locked, no record of it, not recorded on governance |
/// | HtlcLocked(B) | I2 | B locked, not recorded |
/// | HtlcUnlocked(B) | I1 | secret revealed on chain B, A still locked |
/// | HtlcUnlocked(A) | I1 | A unlocked, not recorded |
///
/// A replacement that has the secret (restart on the same state dir, or any relayer once the
/// secret is public) completes the swap; one that lost it (an empty state dir before the reveal)
/// cannot, and both legs end refunded or void once their timelocks pass. Either way no value is
/// created or lost and every report is audited.
///
/// No point lies between a report's audit record and the report: one `report` carries both.
const SWAP_CRASHES: [SwapCrash; 5] = [
    SwapCrash {
        name: "SwapProposed",
        crashed: Crashed::I1,
        revealed: false,
        matches: |p, _| matches!(p, ProtocolPoint::SwapProposed { .. }),
    },
    SwapCrash {
        name: "HtlcLocked(A)",
        crashed: Crashed::I1,
        revealed: false,
        matches: |p, _| matches!(p, ProtocolPoint::HtlcLocked { leg: 0, .. }),
    },
    SwapCrash {
        name: "HtlcLocked(B)",
        crashed: Crashed::I2,
        revealed: false,
        matches: |p, _| matches!(p, ProtocolPoint::HtlcLocked { leg: 1, .. }),
    },
    SwapCrash {
        name: "HtlcUnlocked(B)",
        crashed: Crashed::I1,
        revealed: true,
        matches: |p, _| matches!(p, ProtocolPoint::HtlcUnlocked { leg: 1, .. }),
    },
    SwapCrash {
        name: "HtlcUnlocked(A)",
        crashed: Crashed::I1,
        revealed: true,
        matches: |p, _| matches!(p, ProtocolPoint::HtlcUnlocked { leg: 0, .. }),
    },
];

async fn swap_crash_matrix(recovery: Recovery) {
    let mut net = Net::start().await;
    for point in SWAP_CRASHES {
        if recovery == Recovery::Takeover && point.crashed == Crashed::I2 {
            continue;
        }
        let locked = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = locked.clone();
        let matches = point.matches;
        let hook: ProtocolHook = Arc::new(move |p: &ProtocolPoint| {
            if matches!(p, ProtocolPoint::HtlcLocked { leg: 0, .. }) {
                seen.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            if matches(p, seen.load(std::sync::atomic::Ordering::SeqCst)) {
                HookAction::Halt
            } else {
                HookAction::Continue
            }
        });
        let (dir1, dir2) = (net.new_dir(), net.new_dir());
        let (hook1, hook2) =
            if point.crashed == Crashed::I1 { (Some(hook), None) } else { (None, Some(hook)) };
        let i1 = net.relayer_in(1, RELAYER_A, dir1.clone(), hook1).await;
        let i2 = net.relayer_in(2, RELAYER_B, dir2.clone(), hook2).await;
        let before = net.balances().await;
        let hashlock = i1.generate_swap_secret().expect("secret");
        let s = net.signed(hashlock, 10, 5).await;
        let swap_id = s.request.swapId;
        i1.propose_swap(s.request.clone(), s.by_alice, s.lock_a, None).await.expect("propose");
        i2.accept_swap(swap_id, s.by_bob, s.lock_b).await.expect("accept");
        let victim = if point.crashed == Crashed::I1 { &i1 } else { &i2 };
        wait_stopped(victim).await;

        let started = Instant::now();
        let (institution, key, dir) = match (point.crashed, recovery) {
            (Crashed::I1, Recovery::Takeover) => (1, RELAYER_A2, net.new_dir()),
            (Crashed::I1, Recovery::Restart) => (1, RELAYER_A, dir1),
            (Crashed::I1, Recovery::Fresh) => (1, RELAYER_A, net.new_dir()),
            (Crashed::I2, Recovery::Restart) => (2, RELAYER_B, dir2),
            (Crashed::I2, _) => (2, RELAYER_B, net.new_dir()),
        };
        let replacement = net.relayer_in(institution, key, dir, None).await;
        let secret_survives =
            point.crashed == Crashed::I2 || point.revealed || recovery == Recovery::Restart;
        if secret_survives {
            net.wait_states(swap_id, (SwapState::Closed, LegState::Unlocked, LegState::Unlocked))
                .await;
            let after = net.balances().await;
            assert_eq!(
                (after.alice_a + u(10), after.bob_a, after.alice_b, after.bob_b + u(5)),
                (before.alice_a, before.bob_a + u(10), before.alice_b + u(5), before.bob_b),
                "{} / {recovery:?}",
                point.name
            );
        } else {
            // Nobody can reveal: past TB on chain B and TA on chain A both legs end.
            advance_time(net.b.provider(), HOUR + 60).await;
            advance_time(net.a.provider(), 3 * HOUR + 60).await;
            wait_for(&format!("{} / {recovery:?}: both legs ended", point.name), || async {
                let (state, a, b) = net.states(swap_id).await;
                let ended = |l: LegState| matches!(l, LegState::Refunded | LegState::Void);
                (state == SwapState::Closed && ended(a) && ended(b)).then_some(())
            })
            .await;
            assert_eq!(
                net.balances().await,
                before,
                "{} / {recovery:?}: nothing moved",
                point.name
            );
        }
        let took = started.elapsed();
        let after = net.balances().await;
        assert_eq!((after.held_a, after.held_b), (U256::ZERO, U256::ZERO), "nothing left locked");
        complete_trail(&net.gov, &net.regulator, swap_id, true).await;
        eprintln!(
            "crash {} / {recovery:?}: final in {took:?} (completed: {secret_survives})",
            point.name
        );
        for r in [replacement, i1, i2] {
            r.shutdown().await;
        }
    }
}

#[tokio::test]
async fn relayer_htlc_crash_matrix_takeover() {
    swap_crash_matrix(Recovery::Takeover).await;
}

#[tokio::test]
async fn relayer_htlc_crash_matrix_restart() {
    swap_crash_matrix(Recovery::Restart).await;
}

#[tokio::test]
async fn relayer_htlc_crash_matrix_fresh_state() {
    swap_crash_matrix(Recovery::Fresh).await;
}
