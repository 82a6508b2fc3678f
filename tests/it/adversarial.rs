//! The threat model of `docs/security.md`, one test per row: each acts as the malicious party
//! (a counterparty, another institution's relayer or admin, a user, an outsider) against a real
//! local consortium (`crossgov dev`'s: three anvils, Bank A/B/C, relayers of Bank A and Bank B)
//! and asserts that the attack fails and that value is conserved.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::Provider;
use alloy::sol_types::{SolCall, SolValue};
use crossgov_deploy::local::{CHAIN_A_ID, CHAIN_B_ID, LocalConsortium, Nodes, keys};
use crossgov_relayer::audit::envelope::{Envelope, Recipient, os_random, public_key_xy};
use crossgov_relayer::audit::regulator::open_record;
use crossgov_relayer::audit::trail::fetch_records;
use crossgov_relayer::audit::{CoverKey, CoverKind, Interface};
use crossgov_relayer::bindings::{
    HtlcAsset, InstitutionRegistry, InstitutionStatus, ProposalState, Supervision, SwapState,
    TransactionManager, TxState,
};
use crossgov_relayer::chain::DEFAULT_MAX_LOG_RANGE as RANGE;
use crossgov_relayer::protocol::htlc::{LegId, hashlock_of, leg_swap_id};
use crossgov_relayer::protocol::{
    Leg, Lock, SwapRequest, TxRequest, XaOp, htlc_domain, random_b256, tm_domain,
};
use crossgov_relayer::runtime::RelayerHandle;
use crossgov_relayer::{ContractRevert, IPath};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{WAIT, report_alone, wait_for};

const BIN: &str = env!("CARGO_BIN_EXE_crossgov");
const HOUR: u64 = 3_600;

fn path(s: &str) -> IPath {
    s.parse().expect("valid iPath")
}

fn u(v: u64) -> U256 {
    U256::from(v)
}

/// The id a request of `initiator` with `nonce` must carry: `keccak256(abi.encode(initiator,
/// nonce))`, so nobody else can take it.
fn bound_id(initiator: Address, nonce: U256) -> B256 {
    keccak256((initiator, nonce).abi_encode())
}

/// The local consortium with Bank A's and Bank B's relayers running.
pub(crate) struct Adv {
    pub(crate) net: LocalConsortium,
    pub(crate) relayer_a: Option<RelayerHandle>,
    pub(crate) relayer_b: Option<RelayerHandle>,
    _dir: tempfile::TempDir,
}

/// Balances on one HtlcAsset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Held {
    pub(crate) alice: U256,
    pub(crate) bob: U256,
    pub(crate) held: U256,
    pub(crate) supply: U256,
}

impl Adv {
    async fn start() -> Adv {
        Adv::start_on(&Nodes::default()).await
    }

    /// The consortium with each chain on the node `nodes` names, no relayer running.
    pub(crate) async fn start_on(nodes: &Nodes) -> Adv {
        crate::harness::init_test_logs();
        let dir = tempfile::tempdir().expect("tempdir");
        let net =
            LocalConsortium::start_on(dir.path(), &|_| {}, nodes).await.expect("local consortium");
        Adv { net, relayer_a: None, relayer_b: None, _dir: dir }
    }

    pub(crate) async fn with_relayers() -> Adv {
        let mut adv = Adv::start().await;
        adv.relayer_a =
            Some(adv.net.start_relayer(1, keys::RELAYER_A, "a", None).await.expect("relayer A"));
        adv.relayer_b =
            Some(adv.net.start_relayer(2, keys::RELAYER_B, "b", None).await.expect("relayer B"));
        adv
    }

    pub(crate) fn a(&self) -> &RelayerHandle {
        self.relayer_a.as_ref().expect("relayer A runs")
    }

    pub(crate) fn b(&self) -> &RelayerHandle {
        self.relayer_b.as_ref().expect("relayer B runs")
    }

    pub(crate) fn addr(&self, key: usize) -> Address {
        self.net.address(key)
    }

    pub(crate) fn tm(
        &self,
        key: usize,
    ) -> TransactionManager::TransactionManagerInstance<alloy::providers::DynProvider> {
        TransactionManager::new(
            self.net.deployment.transaction_manager.address,
            self.net.gov.provider(key).clone(),
        )
    }

    fn supervision(
        &self,
        key: usize,
    ) -> Supervision::SupervisionInstance<alloy::providers::DynProvider> {
        Supervision::new(
            self.net.deployment.supervision.address,
            self.net.gov.provider(key).clone(),
        )
    }

    fn registry(
        &self,
        key: usize,
    ) -> InstitutionRegistry::InstitutionRegistryInstance<alloy::providers::DynProvider> {
        InstitutionRegistry::new(
            self.net.deployment.institution_registry.address,
            self.net.gov.provider(key).clone(),
        )
    }

    fn tm_domain(&self) -> alloy::sol_types::Eip712Domain {
        tm_domain(self.net.deployment.chain_id, self.net.deployment.transaction_manager.address)
    }

    async fn gov_now(&self) -> u64 {
        now(self.net.gov.provider(keys::DEPLOYER)).await
    }

    pub(crate) async fn held(
        &self,
        asset: &HtlcAsset::HtlcAssetInstance<alloy::providers::DynProvider>,
    ) -> Held {
        Held {
            alice: asset.balanceOf(self.addr(keys::ALICE)).call().await.expect("balance"),
            bob: asset.balanceOf(self.addr(keys::BOB)).call().await.expect("balance"),
            held: asset.held().call().await.expect("held"),
            supply: asset.totalSupply().call().await.expect("supply"),
        }
    }

    /// alice pays `amount_a` of chain A's asset to bob, bob `amount_b` of chain B's to alice;
    /// TB = 1 h, TA = 3 h ahead on every clock. The swapId is bound to alice and the nonce.
    pub(crate) async fn swap_request(
        &self,
        secret: B256,
        amount_a: u64,
        amount_b: u64,
    ) -> SwapRequest {
        let t = self
            .gov_now()
            .await
            .max(now(self.net.a.chain.provider(keys::DEPLOYER)).await)
            .max(now(self.net.b.chain.provider(keys::DEPLOYER)).await);
        let (alice, bob) = (self.addr(keys::ALICE), self.addr(keys::BOB));
        let mut request = SwapRequest::new(
            hashlock_of(&secret),
            Leg::new(&path("zoneA.chainA.asset"), alice, bob, u(amount_a), t + 3 * HOUR),
            Leg::new(&path("zoneB.chainB.asset"), bob, alice, u(amount_b), t + HOUR),
        );
        request.swapId = bound_id(alice, request.nonce);
        request
    }

    fn htlc_domain(&self, leg: LegId) -> alloy::sol_types::Eip712Domain {
        match leg {
            LegId::A => htlc_domain(CHAIN_A_ID, self.net.a.resources.htlc_asset.address),
            LegId::B => htlc_domain(CHAIN_B_ID, self.net.b.resources.htlc_asset.address),
        }
    }

    /// `key`'s signature of `lock` under `leg`'s asset.
    fn sign_lock(&self, leg: LegId, lock: &Lock, key: usize) -> Bytes {
        lock.sign(&self.htlc_domain(leg), &self.net.signers[key]).expect("sign Lock")
    }

    /// Proposes through Bank A's relayer (alice) and accepts through Bank B's (bob).
    pub(crate) async fn propose(&self, request: &SwapRequest, secret: B256) {
        let by_alice =
            request.sign(&self.tm_domain(), &self.net.signers[keys::ALICE]).expect("sign");
        let lock_a = self.sign_lock(LegId::A, &request.lock(LegId::A), keys::ALICE);
        self.a()
            .propose_swap(
                request.clone(),
                by_alice,
                lock_a,
                Some(crossgov_relayer::protocol::Secret::from_bytes(secret)),
            )
            .await
            .expect("alice proposes");
    }

    pub(crate) async fn accept(&self, request: &SwapRequest) {
        let by_bob = request.sign(&self.tm_domain(), &self.net.signers[keys::BOB]).expect("sign");
        let lock_b = self.sign_lock(LegId::B, &request.lock(LegId::B), keys::BOB);
        self.b().accept_swap(request.swapId, by_bob, lock_b).await.expect("bob accepts");
    }

    pub(crate) async fn swap_state(&self, swap_id: B256) -> SwapState {
        let s = self.tm(keys::DEPLOYER).swap(swap_id).call().await.expect("swap");
        SwapState::try_from(s.state).expect("state")
    }

    pub(crate) async fn wait_swap_closed(&self, swap_id: B256) {
        wait_for(&format!("swap {swap_id} closed"), || async {
            (self.swap_state(swap_id).await == SwapState::Closed).then_some(())
        })
        .await;
    }

    /// A transfer of `amount` from alice on chain A to bob on chain B, with a txId bound to alice.
    pub(crate) async fn transfer(&self, amount: u64) -> (TxRequest, Bytes) {
        let nonce = U256::from_be_bytes(random_b256().0);
        let (alice, bob) = (self.addr(keys::ALICE), self.addr(keys::BOB));
        let request = TxRequest::builder(alice)
            .tx_id(bound_id(alice, nonce))
            .nonce(nonce)
            .xa_step(&path("zoneA.chainA.ledger"), &XaOp::debit(alice, u(amount)))
            .xa_step(&path("zoneB.chainB.ledger"), &XaOp::credit(bob, u(amount)))
            .deadline(self.gov_now().await + HOUR)
            .build()
            .expect("request");
        let signature =
            request.sign(&self.tm_domain(), &self.net.signers[keys::ALICE]).expect("sign");
        (request, signature)
    }

    pub(crate) async fn tx_state(&self, tx_id: B256) -> TxState {
        let t = self.tm(keys::DEPLOYER).transaction(tx_id).call().await.expect("transaction");
        TxState::try_from(t.state).expect("state")
    }

    /// `crossgov audit verify --json` against the consortium (and `--key` when given).
    pub(crate) fn audit_verify(&self, key_file: Option<&Path>) -> (bool, Value) {
        let mut cmd = Command::new(BIN);
        cmd.args(["audit", "verify", "--json", "--rpc-url"])
            .arg(self.net.gov.rpc_url().to_string())
            .arg("--manifest")
            .arg(self.net.governance_manifest());
        if let Some(key) = key_file {
            cmd.arg("--key").arg(key).env("CROSSGOV_KEYSTORE_PASSWORD", "regulator-test");
        }
        let out = cmd.output().expect("run crossgov audit verify");
        let text = String::from_utf8_lossy(&out.stdout);
        let report: Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| {
            panic!("verify JSON ({e}): {text}{}", String::from_utf8_lossy(&out.stderr))
        });
        (out.status.success(), report)
    }
}

async fn now(provider: &alloy::providers::DynProvider) -> u64 {
    provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .expect("latest block")
        .expect("a block")
        .header
        .timestamp
}

fn revert_of(err: &alloy::contract::Error) -> String {
    ContractRevert::from_error(err).map_or_else(|| err.to_string(), |r| r.to_string())
}

// ------------------------------------------------------------------------- HTLC terms

/// Counterparty → pre-locks leg B under the id its relayer would use, with its own signature
/// but amount 1, then accepts. The swap must pay alice the 50 bob signed for, or nothing.
#[tokio::test]
async fn counterparty_squatting_leg_b_lock_gains_nothing() {
    let adv = Adv::with_relayers().await;
    let (asset_a, asset_b) = (adv.net.a.htlc(keys::DEPLOYER), adv.net.b.htlc(keys::DEPLOYER));
    let (before_a, before_b) = (adv.held(&asset_a).await, adv.held(&asset_b).await);
    let secret = random_b256();
    let request = adv.swap_request(secret, 100, 50).await;
    adv.propose(&request, secret).await;

    // bob's squat: the leg-B id, the swap's hashlock and timelock, amount 1, signed by bob.
    let squat = Lock { amount: u(1), ..request.lock(LegId::B) };
    assert_eq!(squat.swapId, leg_swap_id(request.swapId, LegId::B));
    let sig = adv.sign_lock(LegId::B, &squat, keys::BOB);
    let bob_b = adv.net.b.htlc(keys::BOB);
    bob_b
        .lock(
            squat.swapId,
            squat.sender,
            squat.recipient,
            squat.amount,
            squat.hashlock,
            squat.timelock,
            sig,
        )
        .send()
        .await
        .expect("bob may lock his own funds")
        .get_receipt()
        .await
        .expect("receipt");
    adv.accept(&request).await;
    adv.wait_swap_closed(request.swapId).await;

    let (after_a, after_b) = (adv.held(&asset_a).await, adv.held(&asset_b).await);
    // alice paid 100 and received the 50 bob signed for; bob's 1 stays his (held until TB).
    assert_eq!(after_a.alice, before_a.alice - u(100), "{after_a:?}");
    assert_eq!(after_a.bob, before_a.bob + u(100), "{after_a:?}");
    assert_eq!(after_b.alice, before_b.alice + u(50), "alice got {} on B, not 50", after_b.alice);
    assert_eq!(after_b.bob, before_b.bob - u(51), "{after_b:?}");
    assert_eq!(after_b.held, u(1), "only bob's squat is held");
    assert_eq!((after_a.supply, after_b.supply), (before_a.supply, before_b.supply));
}

/// Initiator → pre-locks leg A with amount 1 under the leg-A id before proposing. Bob must get
/// the 100 alice signed for, or keep his 50.
#[tokio::test]
async fn initiator_squatting_leg_a_lock_gains_nothing() {
    let adv = Adv::with_relayers().await;
    let (asset_a, asset_b) = (adv.net.a.htlc(keys::DEPLOYER), adv.net.b.htlc(keys::DEPLOYER));
    let (before_a, before_b) = (adv.held(&asset_a).await, adv.held(&asset_b).await);
    let secret = random_b256();
    let request = adv.swap_request(secret, 100, 50).await;
    let squat = Lock { amount: u(1), ..request.lock(LegId::A) };
    let sig = adv.sign_lock(LegId::A, &squat, keys::ALICE);
    adv.net
        .a
        .htlc(keys::ALICE)
        .lock(
            squat.swapId,
            squat.sender,
            squat.recipient,
            squat.amount,
            squat.hashlock,
            squat.timelock,
            sig,
        )
        .send()
        .await
        .expect("alice may lock her own funds")
        .get_receipt()
        .await
        .expect("receipt");
    adv.propose(&request, secret).await;
    adv.accept(&request).await;
    adv.wait_swap_closed(request.swapId).await;

    let (after_a, after_b) = (adv.held(&asset_a).await, adv.held(&asset_b).await);
    assert_eq!(after_a.bob, before_a.bob + u(100), "bob got {} on A, not 100", after_a.bob);
    assert_eq!(after_a.alice, before_a.alice - u(101), "{after_a:?}");
    assert_eq!(after_a.held, u(1), "only alice's squat is held");
    assert_eq!(after_b.alice, before_b.alice + u(50), "{after_b:?}");
    assert_eq!((after_a.supply, after_b.supply), (before_a.supply, before_b.supply));
}

// ------------------------------------------------------------------------- audit

/// An envelope addressed to the consortium's regulator, covering `covers`, whose body nobody
/// can open (its ciphertext is altered after sealing).
fn unreadable_envelope(adv: &Adv, subject: B256, covers: &[CoverKey], size: usize) -> Bytes {
    let xy = public_key_xy(&adv.net.regulator.public_key());
    let regulator = Recipient::from_xy(&xy).expect("key");
    // Random filler: it does not deflate, so the envelope is about `size` bytes.
    let mut filler = vec![0u8; size];
    for chunk in filler.chunks_mut(32) {
        let r = random_b256();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
    let mut env =
        Envelope::seal(subject, covers, &filler, &[regulator], &mut os_random).expect("seal");
    if let Some(b) = env.body.last_mut() {
        *b ^= 1;
    }
    Bytes::from(env.encode())
}

/// Another institution's relayer → writes a record claiming to cover alice's step 0 (chain A,
/// Bank A's) before Bank A's relayer acts. Bank A must still write its own readable records, and
/// `audit verify` must fail naming the forger.
#[tokio::test]
async fn foreign_audit_record_does_not_suppress_coverage() {
    let adv = Adv::with_relayers().await;
    let (request, signature) = adv.transfer(100).await;
    let tx_id = request.txId;
    let forged = unreadable_envelope(
        &adv,
        tx_id,
        &[CoverKey::new(CoverKind::Voted, 0), CoverKey::new(CoverKind::Acked, 0)],
        64,
    );
    adv.supervision(keys::RELAYER_B)
        .record(tx_id, forged)
        .send()
        .await
        .expect("a member relayer may append a record")
        .get_receipt()
        .await
        .expect("receipt");
    adv.a().submit_transaction(request, signature).await.expect("alice's transfer begins");
    wait_for("the transfer to commit", || async {
        (adv.tx_state(tx_id).await == TxState::Committed).then_some(())
    })
    .await;

    let provider = adv.net.gov.provider(keys::DEPLOYER);
    let records = fetch_records(
        provider,
        adv.net.deployment.supervision.address,
        0,
        None,
        Some(tx_id),
        RANGE,
    )
    .await
    .expect("records");
    for key in [CoverKey::new(CoverKind::Voted, 0), CoverKey::new(CoverKind::Acked, 0)] {
        let readable = records.iter().filter(|r| r.institution == 1).any(|r| {
            open_record(r, &adv.net.regulator).is_ok_and(|rec| rec.covers().contains(&key))
        });
        assert!(
            readable,
            "no readable record of Bank A covers {key}: the forged one suppressed it"
        );
    }
    let (ok, report) = adv.audit_verify(None);
    assert!(!ok, "audit verify passed with a forged record: {report}");
    let forger = adv.addr(keys::RELAYER_B).to_string().to_lowercase();
    assert!(report.to_string().to_lowercase().contains(&forger), "the forger is named: {report}");
    let problems = |r: &Value| -> Vec<String> {
        r["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["problem"].to_string())
            .collect()
    };
    assert!(problems(&report).iter().all(|p| p.contains("unentitled")), "{report}");
    assert_eq!(report["uncovered"], serde_json::json!([]), "Bank A's own records cover its steps");
    // With the regulator's key, the forged record is also unreadable.
    let dir = tempfile::tempdir().expect("dir");
    let mut rng = alloy::signers::k256::elliptic_curve::rand_core::OsRng;
    alloy::signers::local::PrivateKeySigner::encrypt_keystore(
        dir.path(),
        &mut rng,
        adv.net.regulator.to_bytes(),
        "regulator-test",
        Some("regulator.json"),
    )
    .expect("keystore");
    let (ok, report) = adv.audit_verify(Some(&dir.path().join("regulator.json")));
    assert!(!ok);
    assert!(problems(&report).iter().any(|p| p.contains("unreadable")), "{report}");
}

/// A member relayer → appends junk: 1 byte, a malformed header, 16 KiB addressed to the
/// regulator covering another institution's report. The chain refuses the first two; `audit
/// verify` names the writer of the third.
#[tokio::test]
async fn junk_audit_records_are_refused_or_flagged() {
    let adv = Adv::with_relayers().await;
    let sup = adv.supervision(keys::RELAYER_B);
    let count =
        || async { adv.supervision(keys::DEPLOYER).recordCount().call().await.expect("count") };
    let before = count().await;
    let subject = random_b256();
    for junk in [vec![0x01u8], vec![2, 0, 1]] {
        let Err(err) = sup.record(subject, Bytes::from(junk.clone())).call().await else {
            panic!("the malformed envelope {} was accepted", Bytes::from(junk));
        };
        assert!(revert_of(&err).starts_with("Sup"), "{}", revert_of(&err));
    }
    assert_eq!(count().await, before, "nothing appended");

    // The junk goes in before the transfer is submitted: relayer B, which holds the same key,
    // sends nothing while it has no work, so the two never race for a nonce.
    let (request, signature) = adv.transfer(10).await;
    let tx_id = request.txId;
    let big = unreadable_envelope(&adv, tx_id, &[CoverKey::new(CoverKind::Begun, 0)], 15_000);
    assert!(big.len() > 14_000);
    sup.record(tx_id, big).send().await.expect("well-formed").get_receipt().await.expect("receipt");
    adv.a().submit_transaction(request, signature).await.expect("begin");
    wait_for("the transfer to commit", || async {
        (adv.tx_state(tx_id).await == TxState::Committed).then_some(())
    })
    .await;
    let (ok, report) = adv.audit_verify(None);
    assert!(!ok, "audit verify passed over a junk record: {report}");
    let writer = adv.addr(keys::RELAYER_B).to_string().to_lowercase();
    assert!(report.to_string().to_lowercase().contains(&writer), "{report}");
}

// ------------------------------------------------------------------------- ids

/// Another institution's user → begins its own request under the txId alice signed (seen in the
/// pool). alice's transaction must still begin under her id, with her as initiator.
#[tokio::test]
async fn tx_id_squatting_cannot_take_a_users_id() {
    let adv = Adv::with_relayers().await;
    let (alice_request, alice_sig) = adv.transfer(100).await;
    let tx_id = alice_request.txId;
    let bob = adv.addr(keys::BOB);
    let squat = TxRequest::builder(bob)
        .tx_id(tx_id)
        .xa_step(&path("zoneB.chainB.ledger"), &XaOp::debit(bob, u(1)))
        .deadline(adv.gov_now().await + HOUR)
        .build()
        .expect("request");
    let squat_sig = squat.sign(&adv.tm_domain(), &adv.net.signers[keys::BOB]).expect("sign");
    let squatted = adv.b().submit_transaction(squat, squat_sig).await;
    adv.a()
        .submit_transaction(alice_request, alice_sig)
        .await
        .unwrap_or_else(|e| panic!("alice's transfer is refused ({e}); bob's squat: {squatted:?}"));
    let t = adv.tm(keys::DEPLOYER).transaction(tx_id).call().await.expect("transaction");
    assert_eq!(t.initiator, adv.addr(keys::ALICE));
}

/// The same for swaps: bob proposes his own swap under the swapId alice's request carries.
#[tokio::test]
async fn swap_id_squatting_cannot_take_a_users_id() {
    let adv = Adv::with_relayers().await;
    let secret = random_b256();
    let request = adv.swap_request(secret, 100, 50).await;
    let (alice, bob) = (adv.addr(keys::ALICE), adv.addr(keys::BOB));
    // bob's own swap (he pays on B, alice on A), under alice's swapId.
    let bob_secret = random_b256();
    let mut squat = SwapRequest::new(
        hashlock_of(&bob_secret),
        Leg { sender: bob, recipient: alice, ..request.legB.clone() },
        Leg { sender: alice, recipient: bob, ..request.legA.clone() },
    );
    squat.legA.timelock = request.legA.timelock;
    squat.legB.timelock = request.legB.timelock;
    squat.swapId = request.swapId;
    let by_bob = squat.sign(&adv.tm_domain(), &adv.net.signers[keys::BOB]).expect("sign");
    let lock = adv.sign_lock(LegId::B, &squat.lock(LegId::A), keys::BOB);
    let squatted = adv
        .b()
        .propose_swap(
            squat,
            by_bob,
            lock,
            Some(crossgov_relayer::protocol::Secret::from_bytes(bob_secret)),
        )
        .await;
    let by_alice = request.sign(&adv.tm_domain(), &adv.net.signers[keys::ALICE]).expect("sign");
    let lock_a = adv.sign_lock(LegId::A, &request.lock(LegId::A), keys::ALICE);
    adv.a()
        .propose_swap(
            request.clone(),
            by_alice,
            lock_a,
            Some(crossgov_relayer::protocol::Secret::from_bytes(secret)),
        )
        .await
        .unwrap_or_else(|e| panic!("alice's swap is refused ({e}); bob's squat: {squatted:?}"));
    let s = adv.tm(keys::DEPLOYER).swap(request.swapId).call().await.expect("swap");
    assert_eq!(s.initiator, alice);
}

// ------------------------------------------------------------------------- governance

/// A member facing expulsion → votes no on it. With three founders, A and B expel C; C may not
/// vote on its own case; two of three also change the threshold.
#[tokio::test]
async fn a_member_cannot_veto_its_own_expulsion() {
    let adv = Adv::start().await;
    let registry = adv.net.deployment.institution_registry.address;
    let propose = |call: Vec<u8>, what: &'static str| {
        let reg = adv.registry(keys::ADMIN_A);
        async move {
            let receipt = reg
                .propose(registry, Bytes::from(call), what.into())
                .send()
                .await
                .expect("propose")
                .get_receipt()
                .await
                .expect("receipt");
            receipt
                .inner
                .logs()
                .iter()
                .find_map(|l| l.log_decode::<InstitutionRegistry::ProposalCreated>().ok())
                .expect("ProposalCreated")
                .inner
                .data
                .proposalId
        }
    };
    let vote = |key: usize, id: U256| {
        let reg = adv.registry(key);
        async move {
            reg.vote(id, true).send().await.expect("vote").get_receipt().await.expect("receipt");
        }
    };
    let state = |id: U256| {
        let reg = adv.registry(keys::DEPLOYER);
        async move {
            ProposalState::try_from(reg.proposalState(id).call().await.expect("state"))
                .expect("state")
        }
    };

    // Two of three founders pass an ordinary proposal.
    let period =
        InstitutionRegistry::setVotingPeriodCall { newVotingPeriod: 2 * 24 * HOUR }.abi_encode();
    let id = propose(period, "voting period 2 days").await;
    vote(keys::ADMIN_A, id).await;
    vote(keys::ADMIN_B, id).await;
    assert_eq!(state(id).await, ProposalState::Passed, "two of three pass a proposal");

    let expel = InstitutionRegistry::expelInstitutionCall { institutionId: 3 }.abi_encode();
    let id = propose(expel.clone(), "expel Bank C").await;
    vote(keys::ADMIN_A, id).await;
    vote(keys::ADMIN_B, id).await;
    assert_eq!(state(id).await, ProposalState::Passed, "A and B expel C without C's vote");
    let Err(err) = adv.registry(keys::ADMIN_C).vote(id, false).call().await else {
        panic!("C voted on its own expulsion");
    };
    assert!(revert_of(&err).contains("Proposal"), "{}", revert_of(&err));
    adv.registry(keys::DEPLOYER)
        .execute(id, Bytes::from(expel))
        .send()
        .await
        .expect("execute")
        .get_receipt()
        .await
        .expect("receipt");
    let c = adv.registry(keys::DEPLOYER).institution(3).call().await.expect("institution");
    assert_eq!(InstitutionStatus::try_from(c.status), Ok(InstitutionStatus::Expelled));

    // Two founders left: both are needed now.
    let threshold =
        InstitutionRegistry::setThresholdCall { numerator: 3, denominator: 4 }.abi_encode();
    let id = propose(threshold, "threshold 3/4").await;
    vote(keys::ADMIN_A, id).await;
    assert_eq!(state(id).await, ProposalState::Pending, "one of two is not enough");
    vote(keys::ADMIN_B, id).await;
    assert_eq!(state(id).await, ProposalState::Passed);
}

// ------------------------------------------------------------------------- relayer API

/// A relayer process of Bank A from the consortium's manifest, its API on an OS-chosen port.
struct RelayerProcess {
    child: Child,
    http: std::net::SocketAddr,
    state_dir: PathBuf,
}

impl Drop for RelayerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RelayerProcess {
    /// `crossgov relayer run` for Bank A under `ulimit -n {files}`, with `http` appended to its
    /// `[http]` section and `sections` to the config.
    fn start(adv: &Adv, dir: &Path, files: u32, http: &str, sections: &str) -> RelayerProcess {
        let state_dir = dir.join("state");
        let a = &adv.net.a;
        let config = format!(
            "institution = 1\nstate_dir = {state:?}\n\n[governance]\nrpc_url = {gov:?}\n\
             manifest = {manifest:?}\npoll_interval_ms = 100\nreconcile_every_blocks = 1\n\n\
             [signer]\nprivate_key_env = \"CROSSGOV_RELAYER_KEY\"\n\n[http]\nlisten = \"127.0.0.1:0\"\n{http}\n\
             [[chains]]\nzone = \"zoneA\"\nchain = \"chainA\"\nrpc_url = {a_url:?}\n\
             [chains.resources]\nledger = \"{ledger}\"\nasset = \"{asset}\"\n\n{sections}\n",
            state = state_dir.display().to_string(),
            gov = adv.net.gov.rpc_url().to_string(),
            manifest = adv.net.governance_manifest().display().to_string(),
            a_url = a.chain.rpc_url().to_string(),
            ledger = a.resources.xa_ledger.address,
            asset = a.resources.htlc_asset.address,
        );
        let path = dir.join("relayer.toml");
        std::fs::write(&path, config).expect("write config");
        let key = B256::from(adv.net.signers[keys::RELAYER_A].to_bytes()).to_string();
        let script = format!("ulimit -n {files} && exec \"$0\" relayer run --config \"$1\"");
        let mut child = Command::new("sh")
            .args(["-c", &script, BIN, path.to_str().expect("utf-8")])
            .env("CROSSGOV_RELAYER_KEY", key)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn crossgov relayer run");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let line = rx.recv_timeout(WAIT).expect("the started line");
        let started: Value = serde_json::from_str(&line).expect("JSON line");
        let http = started["http"].as_str().expect("http").parse().expect("address");
        RelayerProcess { child, http, state_dir }
    }
}

/// One HTTP/1.1 request from source address `from`, answered within `bound`.
async fn http(
    from: std::net::IpAddr,
    to: std::net::SocketAddr,
    method: &str,
    path: &str,
    bound: Duration,
) -> Option<(u16, String)> {
    let attempt = async {
        let socket = tokio::net::TcpSocket::new_v4().ok()?;
        socket.bind(std::net::SocketAddr::new(from, 0)).ok()?;
        let mut stream = socket.connect(to).await.ok()?;
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).await.ok()?;
        let mut buf = Vec::new();
        stream.read_to_end(&mut buf).await.ok()?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let status = text.split(' ').nth(1)?.parse().ok()?;
        let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
        Some((status, body))
    };
    tokio::time::timeout(bound, attempt).await.ok().flatten()
}

/// Outsider → opens more half-open connections than the relayer has file descriptors. The
/// relayer must keep answering `/health` to another client.
#[tokio::test]
async fn half_open_connections_do_not_starve_the_api() {
    let adv = Adv::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    // Defaults: 64 connections per client address, headers within 10 s.
    let relayer = RelayerProcess::start(&adv, dir.path(), 512, "", "");
    let other: std::net::IpAddr = [127, 0, 0, 2].into();
    wait_for("the relayer to answer /health", || async {
        http(other, relayer.http, "GET", "/health", Duration::from_secs(5)).await.map(|_| ())
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..600 {
        if let Ok(Ok(mut s)) = tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect(relayer.http),
        )
        .await
        {
            // A request line and nothing more: the server waits for the headers.
            let _ = s.write_all(b"GET /health HTTP/1.1\r\n").await;
            held.push(s);
        }
    }
    let started = Instant::now();
    let answered = wait_for("/health from another client during the flood", || async {
        http(other, relayer.http, "GET", "/health", Duration::from_secs(5)).await
    })
    .await;
    assert!(answered.0 == 200 || answered.0 == 503, "{answered:?}");
    assert!(started.elapsed() < Duration::from_secs(30), "answered after {:?}", started.elapsed());
    drop(held);
}

/// Outsider → calls the unauthenticated secret generator in a loop. Each call wrote a file that
/// was never pruned; the relayer must refuse past a per-client limit and keep a bounded count.
#[tokio::test]
async fn secret_generation_is_bounded() {
    let adv = Adv::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let relayer = RelayerProcess::start(
        &adv,
        dir.path(),
        4096,
        "client_write_rate = 1\nclient_write_burst = 20\n",
        "[htlc]\nmax_pending_secrets = 10\n",
    );
    let client: std::net::IpAddr = [127, 0, 0, 1].into();
    let mut statuses = Vec::new();
    for _ in 0..200 {
        let (status, body) =
            http(client, relayer.http, "POST", "/v1/swaps/secrets", Duration::from_secs(10))
                .await
                .expect("an answer");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        match status {
            201 => assert!(v["hashlock"].is_string(), "{v}"),
            503 => assert_eq!(v["error"]["code"], "TooManySecrets", "{v}"),
            429 => assert_eq!(v["error"]["code"], "RateLimited", "{v}"),
            other => panic!("{other}: {v}"),
        }
        statuses.push(status);
    }
    let created = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!(created, 10, "the cap: {statuses:?}");
    assert!(statuses.contains(&503) && statuses.contains(&429), "{statuses:?}");
    let files = std::fs::read_dir(relayer.state_dir.join("htlc")).map_or(0, |d| d.count());
    assert_eq!(files, created, "one file per secret created, none for refusals");
}

/// The node of a served chain hangs (SIGSTOP): `/health` must turn 503 naming it, and 200 again
/// once it answers.
#[tokio::test]
async fn health_reports_a_hung_node() {
    let adv = Adv::start().await;
    // Bank B's relayer with short limits, so the test need not wait the defaults out.
    let state = adv._dir.path().join("state-b");
    let (mut settings, htlc) = adv.net.relayer_settings(2, state);
    settings.health.unresponsive_after = Duration::from_secs(3);
    for c in &mut settings.chains {
        c.options.rpc_timeout = Duration::from_secs(1);
    }
    let handle = crossgov_relayer::runtime::Relayer::start_with_htlc(
        settings,
        htlc,
        adv.net.signers[keys::RELAYER_B].clone(),
        std::sync::Arc::new(crossgov_relayer::runtime::Metrics::new()),
        None,
    )
    .await
    .expect("relayer B");
    let metrics = std::sync::Arc::new(crossgov_relayer::runtime::Metrics::new());
    let server = crossgov_relayer::api::ApiServer::start(
        "127.0.0.1:0".parse().expect("addr"),
        crossgov_relayer::api::router(std::sync::Arc::new(handle), metrics),
    )
    .await
    .expect("api");
    let client: std::net::IpAddr = [127, 0, 0, 1].into();
    wait_for("/health 200", || async {
        let (s, _) =
            http(client, server.local_addr, "GET", "/health", Duration::from_secs(5)).await?;
        (s == 200).then_some(())
    })
    .await;
    let pid = adv.net.b.chain.node.pid().to_string();
    assert!(Command::new("kill").args(["-STOP", &pid]).status().expect("kill").success());
    let body = wait_for("/health 503 naming zoneB.chainB", || async {
        let (s, body) =
            http(client, server.local_addr, "GET", "/health", Duration::from_secs(5)).await?;
        (s == 503 && body.contains("zoneB.chainB")).then_some(body)
    })
    .await;
    assert!(Command::new("kill").args(["-CONT", &pid]).status().expect("kill").success());
    let v: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["healthy"], false, "{v}");
    wait_for("/health 200 again", || async {
        let (s, _) =
            http(client, server.local_addr, "GET", "/health", Duration::from_secs(5)).await?;
        (s == 200).then_some(())
    })
    .await;
}

// ------------------------------------------------------------------------- more rows

/// The custom error a call is refused with (simulated: nothing is sent, nothing moves).
async fn refused<P, D>(call: alloy::contract::CallBuilder<P, D>) -> String
where
    P: Provider,
    D: alloy::contract::CallDecoder,
{
    match call.call_raw().await {
        Ok(out) => panic!("expected a refusal, the call returned {out}"),
        Err(err) => ContractRevert::from_error(&err)
            .map_or_else(|| format!("(undecoded) {err}"), |r| r.name().to_owned()),
    }
}

impl Adv {
    pub(crate) fn xa(
        &self,
        chain_b: bool,
        key: usize,
    ) -> crossgov_relayer::bindings::XaLedger::XaLedgerInstance<alloy::providers::DynProvider> {
        if chain_b { self.net.b.xa(key) } else { self.net.a.xa(key) }
    }

    /// Every audit record's subject and the covers of those written by `institution`.
    async fn covered_by(&self, subject: B256, institution: u64) -> Vec<CoverKey> {
        let provider = self.net.gov.provider(keys::DEPLOYER);
        let records = fetch_records(
            provider,
            self.net.deployment.supervision.address,
            0,
            None,
            Some(subject),
            RANGE,
        )
        .await
        .expect("records");
        records
            .iter()
            .filter(|r| r.institution == institution)
            .filter_map(|r| Envelope::decode(&r.envelope).ok())
            .flat_map(|e| e.covers)
            .collect()
    }

    /// Bank A's relayer running; alice's swap of 100 for bob's 50 proposed through it; bob's
    /// acceptance signed (and not sent); the secret.
    async fn proposed_by_alices_relayer() -> (Adv, SwapRequest, Bytes, B256) {
        let mut adv = Adv::start().await;
        adv.relayer_a =
            Some(adv.net.start_relayer(1, keys::RELAYER_A, "a", None).await.expect("A"));
        let secret = random_b256();
        let request = adv.swap_request(secret, 100, 50).await;
        adv.propose(&request, secret).await;
        let by_bob = request.sign(&adv.tm_domain(), &adv.net.signers[keys::BOB]).expect("sign");
        (adv, request, by_bob, secret)
    }

    /// Bank B's relayer account, acting on its own, accepts `request` for bob (as a one-item
    /// report with a record: the chain refuses a bare `acceptSwap` while a regulator is active).
    async fn accept_by_hand(
        &self,
        request: &SwapRequest,
        by_bob: Bytes,
    ) -> alloy::rpc::types::TransactionReceipt {
        let call = TransactionManager::acceptSwapCall {
            swapId: request.swapId,
            counterpartySignature: by_bob,
        };
        let accepted = (CoverKey::new(CoverKind::SwapAccepted, 0), Interface::Accept);
        self.by_hand(keys::RELAYER_B, request.swapId, accepted, call).await
    }

    /// Relayer account `key`, acting on its own, reports `call` about `id` with a record of what
    /// `covers` (see `report_alone`).
    async fn by_hand<C: crossgov_relayer::audit::Reportable>(
        &self,
        key: usize,
        id: B256,
        covers: (CoverKey, Interface),
        call: C,
    ) -> alloy::rpc::types::TransactionReceipt {
        report_alone((&self.tm(key), self.addr(key)), id, covers, call).await
    }

    /// Sends a call as is, without audit (a relayer account acting on its own).
    async fn send<P: Provider, D: alloy::contract::CallDecoder>(
        what: &str,
        call: alloy::contract::CallBuilder<P, D>,
    ) {
        crossgov_deploy::local::send(what, call).await.unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Counterparty → accepts with a `Lock` signature for amount 1 instead of the 50 it agreed to.
#[tokio::test]
async fn counterparty_lock_signature_for_other_terms_is_refused() {
    let adv = Adv::with_relayers().await;
    let before = adv.held(&adv.net.b.htlc(keys::DEPLOYER)).await;
    let secret = random_b256();
    let request = adv.swap_request(secret, 100, 50).await;
    adv.propose(&request, secret).await;
    let short = Lock { amount: u(1), ..request.lock(LegId::B) };
    let short_sig = adv.sign_lock(LegId::B, &short, keys::BOB);
    let by_bob = request.sign(&adv.tm_domain(), &adv.net.signers[keys::BOB]).expect("sign");
    let err =
        adv.b().accept_swap(request.swapId, by_bob, short_sig.clone()).await.expect_err("refused");
    assert!(
        matches!(
            err,
            crossgov_relayer::htlc::SwapSubmitError::BadLockSignature { leg: LegId::B, .. }
        ),
        "{err}"
    );
    assert_eq!(adv.swap_state(request.swapId).await, SwapState::Proposed);
    // Nor can anyone lock the agreed terms with it.
    let lock = request.lock(LegId::B);
    let name = refused(adv.net.b.htlc(keys::RELAYER_B).lock(
        lock.swapId,
        lock.sender,
        lock.recipient,
        lock.amount,
        lock.hashlock,
        lock.timelock,
        short_sig,
    ))
    .await;
    assert_eq!(name, "HtlcSignerMismatch");
    assert_eq!(adv.held(&adv.net.b.htlc(keys::DEPLOYER)).await, before);
}

/// Leg B's chain owner (Bank B) → records leg B locked while nothing is locked. alice's relayer
/// reads chain B, keeps the secret, and alice gets her 100 back at leg A's timelock.
#[tokio::test]
async fn a_false_leg_b_record_reveals_no_secret() {
    let mut adv = Adv::start().await;
    adv.relayer_a = Some(adv.net.start_relayer(1, keys::RELAYER_A, "a", None).await.expect("A"));
    let asset_a = adv.net.a.htlc(keys::DEPLOYER);
    let (before_a, before_b) =
        (adv.held(&asset_a).await, adv.held(&adv.net.b.htlc(keys::DEPLOYER)).await);
    let secret = random_b256();
    let request = adv.swap_request(secret, 100, 50).await;
    adv.propose(&request, secret).await;
    // Bank B's relayer account, acting on its own: accepts with bob's signature ...
    let by_bob = request.sign(&adv.tm_domain(), &adv.net.signers[keys::BOB]).expect("sign");
    adv.accept_by_hand(&request, by_bob).await;
    wait_for("leg A locked and recorded", || async {
        let s = adv.tm(keys::DEPLOYER).swap(request.swapId).call().await.ok()?;
        (crossgov_relayer::bindings::LegState::try_from(s.legA)
            == Ok(crossgov_relayer::bindings::LegState::Locked))
        .then_some(())
    })
    .await;
    // ... and records leg B locked with nothing locked on chain B.
    let call = TransactionManager::recordLegLockedCall {
        swapId: request.swapId,
        leg: 1,
        evidence: Bytes::new(),
    };
    adv.by_hand(keys::RELAYER_B, request.swapId, locked(1), call).await;
    let refused = CoverKey::new(CoverKind::RefusedState, 1);
    wait_for("Bank A's relayer to refuse leg B", || async {
        adv.covered_by(request.swapId, 1).await.contains(&refused).then_some(())
    })
    .await;
    let s = adv.tm(keys::DEPLOYER).swap(request.swapId).call().await.expect("swap");
    assert_eq!(s.secret, B256::ZERO, "the secret stays with alice's relayer");
    assert_eq!(adv.held(&adv.net.b.htlc(keys::DEPLOYER)).await, before_b, "nothing on chain B");
    // At leg A's timelock alice's relayer refunds her.
    adv.net.a.chain.advance_time(4 * HOUR).await.expect("time");
    wait_for("alice refunded on chain A", || async {
        (adv.held(&asset_a).await == before_a).then_some(())
    })
    .await;
}

/// Leg A's chain owner (Bank A, with alice) → records leg A locked while nothing is locked.
/// bob's relayer reads chain A and does not lock his 50; leg B voids at its timelock.
#[tokio::test]
async fn a_false_leg_a_record_locks_nothing_on_b() {
    let mut adv = Adv::start().await;
    adv.relayer_b = Some(adv.net.start_relayer(2, keys::RELAYER_B, "b", None).await.expect("B"));
    let asset_b = adv.net.b.htlc(keys::DEPLOYER);
    let before_b = adv.held(&asset_b).await;
    let secret = random_b256();
    let request = adv.swap_request(secret, 100, 50).await;
    // Bank A's relayer account, acting on its own: proposes alice's swap ...
    let by_alice = request.sign(&adv.tm_domain(), &adv.net.signers[keys::ALICE]).expect("sign");
    let call = TransactionManager::proposeSwapCall {
        request: request.clone(),
        initiatorSignature: by_alice,
    };
    let proposed = (CoverKey::new(CoverKind::SwapProposed, 0), Interface::Propose);
    adv.by_hand(keys::RELAYER_A, request.swapId, proposed, call).await;
    adv.accept(&request).await;
    // ... and records leg A locked with nothing locked on chain A.
    let call = TransactionManager::recordLegLockedCall {
        swapId: request.swapId,
        leg: 0,
        evidence: Bytes::new(),
    };
    adv.by_hand(keys::RELAYER_A, request.swapId, locked(0), call).await;
    let refused = CoverKey::new(CoverKind::RefusedState, 0);
    wait_for("Bank B's relayer to refuse leg A", || async {
        adv.covered_by(request.swapId, 2).await.contains(&refused).then_some(())
    })
    .await;
    assert_eq!(adv.held(&asset_b).await, before_b, "bob's 50 is not locked");
    adv.net.b.chain.advance_time(2 * HOUR).await.expect("time");
    wait_for("leg B void", || async {
        let s = adv.tm(keys::DEPLOYER).swap(request.swapId).call().await.ok()?;
        (crossgov_relayer::bindings::LegState::try_from(s.legB)
            == Ok(crossgov_relayer::bindings::LegState::Void))
        .then_some(())
    })
    .await;
    assert_eq!(adv.held(&asset_b).await, before_b);
}

/// A user or relayer → submits a begun request again, through its own or another relayer.
#[tokio::test]
async fn a_replayed_request_begins_nothing() {
    let adv = Adv::with_relayers().await;
    let (request, signature) = adv.transfer(100).await;
    let tx_id = request.txId;
    adv.a().submit_transaction(request.clone(), signature.clone()).await.expect("first");
    wait_for("committed", || async {
        (adv.tx_state(tx_id).await == TxState::Committed).then_some(())
    })
    .await;
    let ledger = |b| adv.xa(b, keys::DEPLOYER);
    let alice = ledger(false).balanceOf(adv.addr(keys::ALICE)).call().await.expect("balance");
    for relayer in [adv.a(), adv.b()] {
        let err = relayer
            .submit_transaction(request.clone(), signature.clone())
            .await
            .expect_err("replay");
        let text = err.to_string();
        assert!(text.contains("already exists") || text.contains("nonce"), "{text}");
    }
    assert_eq!(adv.tx_state(tx_id).await, TxState::Committed);
    assert_eq!(
        ledger(false).balanceOf(adv.addr(keys::ALICE)).call().await.expect("balance"),
        alice
    );
}

/// A user → begins a transfer on a chain where its grant was revoked.
#[tokio::test]
async fn a_user_without_permission_begins_nothing() {
    let adv = Adv::with_relayers().await;
    let (z, c, r) =
        "zoneB.chainB.*".parse::<crossgov_relayer::Pattern>().expect("pattern").to_words();
    let perms = crossgov_relayer::bindings::PermissionManager::new(
        adv.net.deployment.permission_manager.address,
        adv.net.gov.provider(keys::ADMIN_B).clone(),
    );
    let two_phase = crossgov_relayer::Ops::TWO_PHASE.bits();
    Adv::send("revoke", perms.revokeFromAccount(adv.addr(keys::ALICE), z, c, r, two_phase)).await;
    let (request, signature) = adv.transfer(100).await;
    let err = adv.a().submit_transaction(request.clone(), signature).await.expect_err("refused");
    assert!(
        matches!(err, crossgov_relayer::runtime::SubmitError::NoPermission { step: 1, .. }),
        "{err}"
    );
    assert_eq!(adv.tx_state(request.txId).await, TxState::None);
}

/// Anyone → submits alice's request with a forged signature, or with its amount changed after
/// she signed.
#[tokio::test]
async fn a_forged_signature_begins_nothing() {
    let adv = Adv::with_relayers().await;
    let (request, signature) = adv.transfer(100).await;
    let by_bob = request.sign(&adv.tm_domain(), &adv.net.signers[keys::BOB]).expect("sign");
    let mut flipped = signature.to_vec();
    flipped[10] ^= 1;
    let mut altered = request.clone();
    altered.steps[0].op = XaOp::debit(adv.addr(keys::ALICE), u(1)).encode();
    for (what, r, sig) in [
        ("bob's key", request.clone(), by_bob),
        ("a flipped byte", request.clone(), Bytes::from(flipped)),
        ("an altered amount", altered, signature.clone()),
        ("no signature", request.clone(), Bytes::from(vec![0u8; 65])),
    ] {
        let err = adv.a().submit_transaction(r, sig).await.expect_err(what);
        assert!(!err.to_string().is_empty(), "{what}");
        assert_eq!(adv.tx_state(request.txId).await, TxState::None, "{what}: {err}");
    }
}

/// Bank B's relayer → votes and acks step 0, which runs on Bank A's chain.
#[tokio::test]
async fn a_relayer_cannot_vote_or_ack_another_chains_step() {
    let mut adv = Adv::start().await;
    adv.relayer_a = Some(adv.net.start_relayer(1, keys::RELAYER_A, "a", None).await.expect("A"));
    let (request, signature) = adv.transfer(100).await;
    let tx_id = request.txId;
    adv.a().submit_transaction(request, signature).await.expect("begin");
    // Preparing (nobody serves chain B yet): a vote on step 0 from Bank B is refused.
    let tm_b = adv.tm(keys::RELAYER_B);
    assert_eq!(refused(tm_b.vote(tx_id, 0, false, Bytes::new())).await, "TxNotServingRelayer");
    // Past the deadline the transaction aborts; Bank A rolls back and acks step 0, step 1 waits.
    adv.net.gov.advance_time(2 * HOUR).await.expect("time");
    wait_for("step 0 acked", || async {
        let t = adv.tm(keys::DEPLOYER).transaction(tx_id).call().await.ok()?;
        (t.ackedMask & 1 == 1).then_some(())
    })
    .await;
    assert_eq!(refused(tm_b.ack(tx_id, 0, Bytes::new())).await, "TxNotServingRelayer");
    // Bank B's own step is its to ack (after its relayer rolls back): the transaction ends.
    let _b = adv.net.start_relayer(2, keys::RELAYER_B, "b", None).await.expect("B");
    wait_for("aborted", || async { (adv.tx_state(tx_id).await == TxState::Aborted).then_some(()) })
        .await;
    let alice = adv
        .xa(false, keys::DEPLOYER)
        .balanceOf(adv.addr(keys::ALICE))
        .call()
        .await
        .expect("balance");
    assert_eq!(alice, u(crossgov_deploy::local::OPENING_BALANCE), "nothing moved");
}

/// A member's relayer → reports by calling an entry point directly, with no audit record, so the
/// step would hide from the regulator. The chain refuses it (after every other check passed) while
/// a regulator is active; the same report with its record stands.
#[tokio::test]
async fn a_report_without_its_record_is_refused_by_the_chain() {
    let (adv, request, by_bob, _) = Adv::proposed_by_alices_relayer().await;
    let tm_b = adv.tm(keys::RELAYER_B);
    let bare = tm_b.acceptSwap(request.swapId, by_bob.clone());
    assert_eq!(refused(bare).await, "SupRecordRequired");
    let s = adv.tm(keys::DEPLOYER).swap(request.swapId).call().await.expect("swap");
    assert_eq!(SwapState::try_from(s.state), Ok(SwapState::Proposed), "nothing accepted");
    let receipt = adv.accept_by_hand(&request, by_bob).await;
    let s = adv.tm(keys::DEPLOYER).swap(request.swapId).call().await.expect("swap");
    assert_eq!(SwapState::try_from(s.state), Ok(SwapState::Accepted), "with its record it stands");
    let appended: Vec<_> = receipt
        .inner
        .logs()
        .iter()
        .filter_map(|l| l.log_decode::<Supervision::RecordAppended>().ok())
        .map(|l| (l.inner.data.subjectId, l.inner.data.relayer))
        .collect();
    assert_eq!(appended, [(request.swapId, adv.addr(keys::RELAYER_B))], "its record, in its step");
}

/// Bank B's relayer → records leg A (Bank A's chain) locked, unlocked, refunded or void.
#[tokio::test]
async fn a_relayer_cannot_record_another_chains_leg() {
    let (adv, request, by_bob, secret) = Adv::proposed_by_alices_relayer().await;
    adv.accept_by_hand(&request, by_bob).await;
    let tm_b = adv.tm(keys::RELAYER_B);
    let id = request.swapId;
    assert_eq!(refused(tm_b.recordLegLocked(id, 0, Bytes::new())).await, "SwapNotServingRelayer");
    assert_eq!(refused(tm_b.recordLegVoid(id, 0, Bytes::new())).await, "SwapNotServingRelayer");
    wait_for("leg A locked", || async {
        let s = adv.tm(keys::DEPLOYER).swap(id).call().await.ok()?;
        (crossgov_relayer::bindings::LegState::try_from(s.legA)
            == Ok(crossgov_relayer::bindings::LegState::Locked))
        .then_some(())
    })
    .await;
    assert_eq!(
        refused(tm_b.recordLegUnlocked(id, 0, secret, Bytes::new())).await,
        "SwapNotServingRelayer"
    );
    assert_eq!(refused(tm_b.recordLegRefunded(id, 0, Bytes::new())).await, "SwapNotServingRelayer");
    let a = adv.held(&adv.net.a.htlc(keys::DEPLOYER)).await;
    assert_eq!(a.alice + a.bob + a.held, a.supply, "{a:?}");
    assert_eq!(a.held, u(100));
}

/// Bank B's relayer → begins a request alice (Bank A's user) signed.
#[tokio::test]
async fn a_relayer_cannot_begin_for_another_institutions_user() {
    let adv = Adv::with_relayers().await;
    let (request, signature) = adv.transfer(100).await;
    let err = adv.b().submit_transaction(request.clone(), signature).await.expect_err("refused");
    assert!(
        matches!(
            err,
            crossgov_relayer::runtime::SubmitError::NotInstitutionRelayer { institution: 1, .. }
        ),
        "{err}"
    );
    assert_eq!(adv.tx_state(request.txId).await, TxState::None);
}

/// Bank B's relayer → prepares, commits and rolls back on Bank A's ledger.
#[tokio::test]
async fn a_foreign_relayer_cannot_touch_a_ledger() {
    let adv = Adv::start().await;
    let ledger = adv.xa(false, keys::RELAYER_B);
    let tx_id = random_b256();
    let op = XaOp::debit(adv.addr(keys::ALICE), u(100)).encode();
    assert_eq!(refused(ledger.prepare(tx_id, op)).await, "XaNotRelayer");
    assert_eq!(refused(ledger.commit(tx_id)).await, "XaNotRelayer");
    assert_eq!(refused(ledger.rollback(tx_id)).await, "XaNotRelayer");
}

/// Bank B's admin → grants bob rights on Bank A's chain and names its own relayer to serve it.
#[tokio::test]
async fn an_admin_cannot_act_on_another_institutions_chain() {
    let adv = Adv::start().await;
    let d = &adv.net.deployment;
    let (z, c, r) =
        "zoneA.chainA.*".parse::<crossgov_relayer::Pattern>().expect("pattern").to_words();
    let perms = crossgov_relayer::bindings::PermissionManager::new(
        d.permission_manager.address,
        adv.net.gov.provider(keys::ADMIN_B).clone(),
    );
    let all = crossgov_relayer::Ops::ALL.bits();
    assert_eq!(
        refused(perms.grantToAccount(adv.addr(keys::BOB), z, c, r, all)).await,
        "PermNotChainOwner"
    );
    let chains = crossgov_relayer::bindings::ChainRegistry::new(
        d.chain_registry.address,
        adv.net.gov.provider(keys::ADMIN_B).clone(),
    );
    let relayers = vec![adv.addr(keys::RELAYER_B)];
    assert_eq!(
        refused(chains.setServingRelayers(z, c, relayers, true)).await,
        "ChainNotOwnerAdmin"
    );
}

/// An outsider → calls what only an executed proposal may.
#[tokio::test]
async fn an_outsider_cannot_call_governance_functions() {
    let adv = Adv::start().await;
    let d = &adv.net.deployment;
    let reg = adv.registry(keys::DEPLOYER);
    let outsider = adv.addr(keys::DEPLOYER);
    assert_eq!(
        refused(reg.admitInstitution("Mallory".into(), B256::ZERO, outsider)).await,
        "InstNotGovernance"
    );
    assert_eq!(refused(reg.expelInstitution(3)).await, "InstNotGovernance");
    assert_eq!(refused(reg.setThreshold(1, 1)).await, "InstNotGovernance");
    let chains = crossgov_relayer::bindings::ChainRegistry::new(
        d.chain_registry.address,
        adv.net.gov.provider(keys::DEPLOYER).clone(),
    );
    let w = |s: &str| crossgov_relayer::Segment::new(s).expect("segment").to_word();
    let admit = chains.admitChain(w("zoneM"), w("chainM"), w("evm"), u(9), 1, B256::ZERO);
    assert_eq!(refused(admit).await, "ChainNotGovernance");
    let sup = adv.supervision(keys::DEPLOYER);
    let key = Bytes::copy_from_slice(&public_key_xy(&crate::harness::random_key().public_key()));
    assert_eq!(refused(sup.admitRegulator(key, "M".into())).await, "SupNotGovernance");
    let regulator = crossgov_relayer::audit::envelope::address_of(&adv.net.regulator.public_key());
    assert_eq!(refused(sup.removeRegulator(regulator)).await, "SupNotGovernance");
}

/// An outsider → unlocks leg A with the secret revealed on chain B before alice's relayer does:
/// the unlock pays bob, the lock's recipient, and the relayers record it.
#[tokio::test]
async fn anyone_unlocking_pays_the_recipient() {
    let mut adv = Adv::start().await;
    adv.relayer_b = Some(adv.net.start_relayer(2, keys::RELAYER_B, "b", None).await.expect("B"));
    // alice's relayer stops right after revealing the secret on chain B.
    let hook: crossgov_relayer::two_phase::ProtocolHook = std::sync::Arc::new(|p| match p {
        crossgov_relayer::two_phase::ProtocolPoint::HtlcUnlocked { leg: 1, .. } => {
            crossgov_relayer::two_phase::HookAction::Halt
        }
        _ => crossgov_relayer::two_phase::HookAction::Continue,
    });
    adv.relayer_a =
        Some(adv.net.start_relayer(1, keys::RELAYER_A, "a", Some(hook)).await.expect("A"));
    let asset_a = adv.net.a.htlc(keys::DEPLOYER);
    let before_a = adv.held(&asset_a).await;
    let secret = random_b256();
    let request = adv.swap_request(secret, 100, 50).await;
    adv.propose(&request, secret).await;
    adv.accept(&request).await;
    wait_for("alice's relayer halted after the reveal", || async {
        adv.a().is_stopped().then_some(())
    })
    .await;
    let b_lock = adv
        .net
        .b
        .htlc(keys::DEPLOYER)
        .lockOf(request.lock(LegId::B).id())
        .call()
        .await
        .expect("lockOf");
    assert_eq!(b_lock.secret, secret, "revealed on chain B");
    // The outsider (no role anywhere) unlocks leg A with it.
    let outsider = adv.net.a.htlc(keys::DEPLOYER);
    Adv::send("outsider unlock", outsider.unlock(request.lock(LegId::A).id(), b_lock.secret)).await;
    let after_a = adv.held(&asset_a).await;
    assert_eq!(after_a.bob, before_a.bob + u(100), "the recipient is paid");
    assert_eq!(after_a.held, before_a.held);
    // Alice's relayer, back, records it; the swap closes.
    adv.relayer_a = Some(adv.net.start_relayer(1, keys::RELAYER_A, "a2", None).await.expect("A"));
    adv.wait_swap_closed(request.swapId).await;
}

/// A removed regulator → reads records written after its removal.
#[tokio::test]
async fn a_removed_regulator_reads_nothing_new() {
    let adv = Adv::with_relayers().await;
    let sup = adv.net.deployment.supervision.address;
    let (before, sig) = adv.transfer(10).await;
    adv.a().submit_transaction(before.clone(), sig).await.expect("begin");
    wait_for("committed", || async {
        (adv.tx_state(before.txId).await == TxState::Committed).then_some(())
    })
    .await;
    let second = crate::harness::random_key();
    let xy = Bytes::copy_from_slice(&public_key_xy(&second.public_key()));
    let admit = Supervision::admitRegulatorCall { publicKey: xy, name: "Regulator S".into() };
    adv.net.pass(sup, &admit, "admit S").await.expect("admit S");
    let old = crossgov_relayer::audit::envelope::address_of(&adv.net.regulator.public_key());
    adv.net
        .pass(sup, &Supervision::removeRegulatorCall { regulator: old }, "remove R")
        .await
        .expect("remove R");
    let (after, sig) = adv.transfer(10).await;
    adv.a().submit_transaction(after.clone(), sig).await.expect("begin");
    wait_for("committed", || async {
        (adv.tx_state(after.txId).await == TxState::Committed).then_some(())
    })
    .await;
    let provider = adv.net.gov.provider(keys::DEPLOYER);
    let records = |id| fetch_records(provider, sup, 0, None, Some(id), RANGE);
    for r in records(before.txId).await.expect("records") {
        assert!(open_record(&r, &adv.net.regulator).is_ok(), "R reads what was written for it");
    }
    let later = records(after.txId).await.expect("records");
    assert!(!later.is_empty());
    for r in &later {
        let err = open_record(r, &adv.net.regulator).expect_err("removed");
        assert!(err.to_string().contains("not wrapped"), "{err}");
        assert!(open_record(r, &second).is_ok(), "the active regulator reads it");
    }
}

/// Every test `docs/security.md` names exists (row 1–24 in this file, the others in the module
/// they name), so the threat model cannot point at a test that was renamed or removed.
#[test]
fn threat_model_names_only_tests_that_exist() {
    let root = env!("CARGO_MANIFEST_DIR");
    let model = std::fs::read_to_string(format!("{root}/docs/security.md")).expect("security.md");
    let mut named = 0;
    for row in model.lines().filter(|l| {
        l.starts_with("| ") && l.split('|').nth(1).is_some_and(|c| c.trim().parse::<u32>().is_ok())
    }) {
        let test_cell = row.trim_end_matches('|').rsplit('|').next().expect("a test column");
        for name in test_cell.split('`').skip(1).step_by(2) {
            let (module, function) = name.split_once("::").unwrap_or(("adversarial", name));
            // `File.t.sol::test_x` names a forge test, anything else a test under tests/it.
            let (path, declaration) = if module.ends_with(".sol") {
                (format!("{root}/contracts/test/{module}"), format!("function {function}("))
            } else {
                (format!("{root}/tests/it/{module}.rs"), format!("fn {function}("))
            };
            let source =
                std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {path}: {e}"));
            assert!(source.contains(&declaration), "{row}\nnames {name}, which does not exist");
            named += 1;
        }
    }
    assert!(named >= 38, "only {named} tests named");
}

/// What a record of leg `leg`'s lock covers.
fn locked(leg: u8) -> (CoverKey, Interface) {
    (CoverKey::new(CoverKind::LegLocked, leg), Interface::RecordLeg)
}
