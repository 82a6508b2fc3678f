//! End to end across three real chains: a governance chain running the governance suite and two
//! business chains (zoneA.chainA, zoneB.chainB) running an XaLedger and an HtlcAsset each.
//!
//! No relayer software exists yet, so the test plays the relayers by calling the contracts as
//! their accounts would: relayer A (institution 1's relayer, serving zoneA.chainA) acts on chain A
//! with its key, relayer B (institution 2's, serving zoneB.chainB) on chain B. Every scenario
//! starts its own three anvils, so none depends on another's state or order; time moves only by
//! anvil's clock RPCs, never by sleeping.

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::{Eip712Domain, SolEventInterface};

use crossgov_relayer::bindings::transaction_manager::ITransactionManager;
use crossgov_relayer::bindings::{
    ChainRegistry, HtlcAsset, HtlcLockState, LegState, Role, Supervision, SwapState,
    TransactionManager, TxState, XaLedger, XaTxState,
};
use crossgov_relayer::protocol::htlc::{LegId, htlc_domain};
use crossgov_relayer::protocol::{Leg, Secret, Step, SwapRequest, TxRequest, XaOp, tm_domain};
use crossgov_relayer::{ContractRevert, IPath, Ops, Pattern};

use crate::consortium::{ADMIN1, ADMIN2, ADMIN3, ALICE, BOB, RELAYER_A, RELAYER_B};
use crate::harness::{
    BusinessChain, DEPLOYER, TestNet, advance_time, events, evidence, expect_revert,
    latest_timestamp, seg, send,
};

use HtlcAsset::HtlcAssetErrors as HtlcErr;
use Supervision::SupervisionErrors as SupErr;
use TransactionManager::TransactionManagerErrors as TmErr;
use XaLedger::XaLedgerErrors as XaErr;

// Dev keys and their roles are those of [`crate::consortium`] (RELAYER_A2 unused here), plus:
const ANYONE: usize = 8; // unregistered account

const CHAIN_A_ID: u64 = 1001;
const CHAIN_B_ID: u64 = 1002;
const LEDGER_A: &str = "zoneA.chainA.ledger";
const LEDGER_B: &str = "zoneB.chainB.ledger";
const ASSET_A: &str = "zoneA.chainA.asset";
const ASSET_B: &str = "zoneB.chainB.asset";

/// Opening balances minted by the resources' owners.
const ALICE_LEDGER_A: u64 = 1_000;
const BOB_LEDGER_B: u64 = 10;
const ALICE_ASSET_A: u64 = 1_000;
const BOB_ASSET_B: u64 = 1_000;

const HOUR: u64 = 3_600;

fn path(s: &str) -> IPath {
    s.parse().expect("valid iPath")
}

fn u(v: u64) -> U256 {
    U256::from(v)
}

/// The three chains, set up as in production: founders deploy the suite, chains are admitted by
/// executed proposals, institutions register relayers and users, chain owners grant TWO_PHASE
/// and HTLC on their chains and authorise their relayers on their ledgers.
#[derive(Debug)]
struct Consortium {
    gov: TestNet,
    a: BusinessChain,
    b: BusinessChain,
}

/// Balances of one XaLedger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LedgerView {
    alice: U256,
    bob: U256,
    supply: U256,
    escrowed: U256,
    pending_credits: U256,
}

/// Balances of one HtlcAsset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AssetView {
    alice: U256,
    bob: U256,
    supply: U256,
    held: U256,
}

impl Consortium {
    async fn start() -> Consortium {
        let gov =
            TestNet::start(&[("Bank A", ADMIN1), ("Bank B", ADMIN2), ("Bank C", ADMIN3)]).await;
        let a = BusinessChain::start(CHAIN_A_ID, ADMIN1).await;
        let b = BusinessChain::start(CHAIN_B_ID, ADMIN2).await;
        let c = Consortium { gov, a, b };
        assert_eq!((c.a.anvil.chain_id(), c.b.anvil.chain_id()), (CHAIN_A_ID, CHAIN_B_ID));
        assert_ne!(c.gov.deployment.chain_id, CHAIN_A_ID);
        assert_ne!(c.gov.deployment.chain_id, CHAIN_B_ID);
        // The manifests name what was deployed, in order.
        let d = &c.gov.deployment;
        assert!(d.permission_manager.block < d.transaction_manager.block);
        assert!(d.transaction_manager.block < d.supervision.block);
        assert_eq!(
            d.transaction_manager.deployed_bytecode_hash,
            keccak256(&TransactionManager::DEPLOYED_BYTECODE)
        );
        assert_eq!(
            d.supervision.deployed_bytecode_hash,
            keccak256(&Supervision::DEPLOYED_BYTECODE)
        );
        for chain in [&c.a, &c.b] {
            let r = &chain.resources;
            assert_eq!(r.xa_ledger.deployed_bytecode_hash, keccak256(&XaLedger::DEPLOYED_BYTECODE));
            assert_eq!(
                r.htlc_asset.deployed_bytecode_hash,
                keccak256(&HtlcAsset::DEPLOYED_BYTECODE)
            );
        }

        // Chains admitted by a 3-of-3 vote, each owned by its institution.
        for (zone, chain, owner, business, proposer) in
            [("zoneA", "chainA", 1u64, &c.a, ADMIN1), ("zoneB", "chainB", 2, &c.b, ADMIN2)]
        {
            let (receipt, genesis) = c
                .gov
                .admit_chain(proposer, &[ADMIN1, ADMIN2, ADMIN3], (zone, chain), owner, business)
                .await;
            let target = c.gov.deployment.chain_registry.address;
            let [admitted] = events::<ChainRegistry::ChainAdmitted>(&receipt, target)
                .try_into()
                .expect("one ChainAdmitted");
            assert_eq!((admitted.owner, admitted.genesisHash), (owner, genesis));
        }

        // Relayer and user accounts; each relayer serves its institution's chain.
        for (admin, key, role) in [
            (ADMIN1, RELAYER_A, Role::Relayer),
            (ADMIN1, ALICE, Role::User),
            (ADMIN2, RELAYER_B, Role::Relayer),
            (ADMIN2, BOB, Role::User),
        ] {
            let account = c.gov.address(key);
            send(
                &format!("add {role} {key}"),
                c.gov.registry(admin).addAccount(account, role.into()),
            )
            .await;
        }
        for (admin, zone, chain, relayer) in
            [(ADMIN1, "zoneA", "chainA", RELAYER_A), (ADMIN2, "zoneB", "chainB", RELAYER_B)]
        {
            let (z, ch) = (seg(zone).to_word(), seg(chain).to_word());
            let relayers = vec![c.gov.address(relayer)];
            send("serve", c.gov.chains(admin).setServingRelayers(z, ch, relayers, true)).await;
            let registry = c.gov.chains(DEPLOYER);
            let serving = registry.isServingRelayer(z, ch, c.gov.address(relayer));
            assert!(serving.call().await.expect("isServingRelayer"));
        }

        // Each chain's owner grants TWO_PHASE and HTLC on its chain to both users.
        let ops = (Ops::TWO_PHASE | Ops::HTLC).bits();
        for (admin, pattern) in [(ADMIN1, "zoneA.chainA.*"), (ADMIN2, "zoneB.chainB.*")] {
            let (z, ch, r) = pattern.parse::<Pattern>().expect("pattern").to_words();
            for user in [ALICE, BOB] {
                let perms = c.gov.permissions(admin);
                let grant = perms.grantToAccount(c.gov.address(user), z, ch, r, ops);
                send(&format!("grant {pattern} to {user}"), grant).await;
            }
        }
        for (user, at, op) in [(ALICE, LEDGER_B, Ops::TWO_PHASE), (BOB, ASSET_A, Ops::HTLC)] {
            let (z, ch, r) = path(at).to_words();
            let perms = c.gov.permissions(DEPLOYER);
            let check = perms.check(c.gov.address(user), z, ch, r, op.bits());
            assert!(check.call().await.expect("check"), "{user} holds {op} on {at}");
        }

        // The resources' owners authorise their chain's relayer and fund the users.
        for (chain, owner, relayer) in [(&c.a, ADMIN1, RELAYER_A), (&c.b, ADMIN2, RELAYER_B)] {
            let relayer = chain.accounts[relayer].address;
            send("setRelayer", chain.xa(owner).setRelayer(relayer, true)).await;
            assert!(chain.xa(owner).isRelayer(relayer).call().await.expect("isRelayer"));
        }
        let (alice, bob) = (c.gov.address(ALICE), c.gov.address(BOB));
        send("mint ledger A", c.a.xa(ADMIN1).mint(alice, u(ALICE_LEDGER_A))).await;
        send("mint ledger B", c.b.xa(ADMIN2).mint(bob, u(BOB_LEDGER_B))).await;
        send("mint asset A", c.a.htlc(ADMIN1).mint(alice, u(ALICE_ASSET_A))).await;
        send("mint asset B", c.b.htlc(ADMIN2).mint(bob, u(BOB_ASSET_B))).await;
        // An unauthorised account cannot drive the ledger.
        let refused = expect_revert(
            "prepare by a stranger",
            c.a.xa(ANYONE).prepare(B256::repeat_byte(1), Bytes::new()),
        )
        .await;
        assert!(matches!(refused, ContractRevert::XaLedger(XaErr::XaNotRelayer(_))), "{refused}");
        c
    }

    fn address(&self, key: usize) -> Address {
        self.gov.address(key)
    }

    fn tm_address(&self) -> Address {
        self.gov.deployment.transaction_manager.address
    }

    fn tm_domain(&self) -> Eip712Domain {
        tm_domain(self.gov.deployment.chain_id, self.tm_address())
    }

    fn gov_provider(&self) -> &DynProvider {
        &self.gov.accounts[DEPLOYER].provider
    }

    /// The business chain, relayer and user of a step / leg: 0 is chain A, 1 chain B.
    fn side(&self, index: u8) -> (&BusinessChain, usize, usize) {
        match index {
            0 => (&self.a, RELAYER_A, ALICE),
            _ => (&self.b, RELAYER_B, BOB),
        }
    }

    async fn ledger(&self, chain: &BusinessChain) -> LedgerView {
        let xa = chain.xa(DEPLOYER);
        let view = LedgerView {
            alice: xa.balanceOf(self.address(ALICE)).call().await.expect("balanceOf"),
            bob: xa.balanceOf(self.address(BOB)).call().await.expect("balanceOf"),
            supply: xa.totalSupply().call().await.expect("totalSupply"),
            escrowed: xa.escrowed().call().await.expect("escrowed"),
            pending_credits: xa.pendingCredits().call().await.expect("pendingCredits"),
        };
        // Only alice and bob ever hold units: the ledger's invariant, in the small.
        assert_eq!(view.alice + view.bob + view.escrowed, view.supply, "{view:?}");
        view
    }

    async fn asset(&self, chain: &BusinessChain) -> AssetView {
        let htlc = chain.htlc(DEPLOYER);
        let view = AssetView {
            alice: htlc.balanceOf(self.address(ALICE)).call().await.expect("balanceOf"),
            bob: htlc.balanceOf(self.address(BOB)).call().await.expect("balanceOf"),
            supply: htlc.totalSupply().call().await.expect("totalSupply"),
            held: htlc.held().call().await.expect("held"),
        };
        assert_eq!(view.alice + view.bob + view.held, view.supply, "{view:?}");
        view
    }

    // ---------------------------------------------------------------- 2PC

    /// The cross-chain transfer request: DEBIT alice on ledger A, CREDIT bob on ledger B.
    async fn transfer_request(&self, amount: u64, ttl: u64) -> TxRequest {
        let now = latest_timestamp(self.gov_provider()).await;
        let request = TxRequest::builder(self.address(ALICE))
            .xa_step(&path(LEDGER_A), &XaOp::debit(self.address(ALICE), u(amount)))
            .xa_step(&path(LEDGER_B), &XaOp::credit(self.address(BOB), u(amount)))
            .deadline(now + ttl)
            .build()
            .expect("valid request");
        request.check_deadline(now).expect("deadline window");
        request
    }

    /// Alice signs `request`; institution 1's relayer submits `begin`. Checks the Rust digest
    /// against the contract's and the TransactionBegun event against the request.
    async fn begin(&self, request: &TxRequest) -> TransactionReceipt {
        let domain = self.tm_domain();
        let tm = self.gov.tm(RELAYER_A);
        let digest = tm.txRequestDigest(request.clone()).call().await.expect("txRequestDigest");
        assert_eq!(request.signing_hash(&domain), digest, "Rust and Solidity TxRequest digests");
        assert_eq!(tm.DOMAIN_SEPARATOR().call().await.expect("separator"), domain.separator());

        let signature = request.sign(&domain, &self.gov.accounts[ALICE].signer).expect("sign");
        let receipt = send("begin", tm.begin(request.clone(), signature)).await;
        let [begun] = events::<TransactionManager::TransactionBegun>(&receipt, self.tm_address())
            .try_into()
            .expect("one TransactionBegun");
        assert_eq!(begun.txId, request.txId);
        assert_eq!(begun.initiator, self.address(ALICE));
        assert_eq!(begun.institution, 1);
        assert_eq!((begun.deadline, begun.nonce), (request.deadline, request.nonce));
        assert_eq!(begun.steps, request.steps, "the event carries the steps as signed");

        let t = self.tx(request.txId).await;
        assert_eq!(TxState::try_from(t.state), Ok(TxState::Preparing));
        assert_eq!((t.initiator, t.institution), (self.address(ALICE), 1));
        assert_eq!((t.deadline, t.stepCount), (request.deadline, 2));
        assert_eq!(t.beganBlock, receipt.block_number.expect("block"));
        assert!(tm.nonceUsed(self.address(ALICE), request.nonce).call().await.expect("nonceUsed"));
        for (i, step) in request.steps.iter().enumerate() {
            let record = tm.stepOf(request.txId, i as u8).call().await.expect("stepOf");
            assert_eq!(record.chainKey, step.path().expect("path").chain_key());
            assert_eq!(record.opHash, step.op_hash());
        }
        receipt
    }

    async fn tx(&self, tx_id: B256) -> ITransactionManager::Transaction {
        self.gov.tm(DEPLOYER).transaction(tx_id).call().await.expect("transaction")
    }

    async fn tx_state(&self, tx_id: B256) -> TxState {
        TxState::try_from(self.tx(tx_id).await.state).expect("known TxState")
    }

    /// What a relayer does to learn a transaction's steps: read them from the TransactionBegun log
    /// at the block the record points to (storage keeps only op hashes), and check the hashes.
    async fn begun_steps(&self, tx_id: B256) -> Vec<Step> {
        let block = self.tx(tx_id).await.beganBlock;
        let logs = self
            .gov
            .tm(DEPLOYER)
            .TransactionBegun_filter()
            .topic1(tx_id)
            .from_block(block)
            .to_block(block)
            .query()
            .await
            .expect("query TransactionBegun");
        let [(begun, _)] = logs.try_into().expect("one TransactionBegun per txId");
        for (i, step) in begun.steps.iter().enumerate() {
            let record = self.gov.tm(DEPLOYER).stepOf(tx_id, i as u8).call().await.expect("stepOf");
            assert_eq!(record.opHash, step.op_hash(), "the log matches the stored op hash");
        }
        begun.steps
    }

    /// The step's relayer prepares it on its chain's XaLedger.
    async fn prepare(&self, tx_id: B256, step: u8, steps: &[Step]) -> TransactionReceipt {
        let (chain, relayer, _) = self.side(step);
        let op = &steps[usize::from(step)];
        let receipt =
            send(&format!("prepare step {step}"), chain.xa(relayer).prepare(tx_id, op.op.clone()))
                .await;
        let [prepared] = events::<XaLedger::Prepared>(&receipt, chain.resources.xa_ledger.address)
            .try_into()
            .expect("one Prepared");
        let xa = op.xa_op().expect("an XaLedger op");
        assert_eq!(prepared.txId, tx_id);
        assert_eq!(
            (prepared.kind, prepared.account, prepared.amount),
            (xa.kind.code(), xa.account, xa.amount)
        );
        assert_eq!(self.xa_state(chain, tx_id).await, XaTxState::Prepared);
        receipt
    }

    async fn xa_state(&self, chain: &BusinessChain, tx_id: B256) -> XaTxState {
        let raw = chain.xa(DEPLOYER).stateOf(tx_id).call().await.expect("stateOf");
        XaTxState::try_from(raw).expect("known XaLedger state")
    }

    /// The step's relayer records its vote on the governance chain.
    async fn vote(&self, tx_id: B256, step: u8, ok: bool, proof: Bytes) -> TransactionReceipt {
        let (_, relayer, _) = self.side(step);
        let tm = self.gov.tm(relayer);
        let call = tm.vote(tx_id, step, ok, proof.clone());
        let receipt = send(&format!("vote {ok} on step {step}"), call).await;
        let [voted] = events::<TransactionManager::StepVoted>(&receipt, self.tm_address())
            .try_into()
            .expect("one StepVoted");
        assert_eq!((voted.txId, voted.step, voted.ok), (tx_id, step, ok));
        assert_eq!((voted.relayer, voted.evidence), (self.address(relayer), proof));
        receipt
    }

    /// The step's relayer commits or rolls back on its ledger as decided, then acknowledges.
    async fn finish_step(&self, tx_id: B256, step: u8, commit: bool) -> TransactionReceipt {
        let (chain, relayer, _) = self.side(step);
        let xa = chain.xa(relayer);
        let done = if commit {
            send(&format!("commit step {step}"), xa.commit(tx_id)).await
        } else {
            send(&format!("rollback step {step}"), xa.rollback(tx_id)).await
        };
        let expected = if commit { XaTxState::Committed } else { XaTxState::RolledBack };
        assert_eq!(self.xa_state(chain, tx_id).await, expected);
        // Idempotent: a second relayer doing the same step changes nothing and emits nothing.
        let again = if commit {
            send("commit again", xa.commit(tx_id)).await
        } else {
            send("rollback again", xa.rollback(tx_id)).await
        };
        assert!(again.logs().is_empty(), "a repeated {expected} emits nothing");

        let tm = self.gov.tm(relayer);
        let call = tm.ack(tx_id, step, evidence(&done));
        let receipt = send(&format!("ack step {step}"), call).await;
        let [acked] = events::<TransactionManager::StepAcked>(&receipt, self.tm_address())
            .try_into()
            .expect("one StepAcked");
        assert_eq!((acked.txId, acked.step, acked.relayer), (tx_id, step, self.address(relayer)));
        assert_eq!(acked.evidence, evidence(&done));
        receipt
    }

    async fn open_tx_counts(&self) -> (U256, U256) {
        let tm = self.gov.tm(DEPLOYER);
        let a = tm.openTransactionCount(path(LEDGER_A).chain_key()).call().await.expect("count");
        let b = tm.openTransactionCount(path(LEDGER_B).chain_key()).call().await.expect("count");
        (a, b)
    }

    // ---------------------------------------------------------------- HTLC

    /// alice pays `amount_a` on asset A to bob; bob pays `amount_b` on asset B to alice.
    /// Timelocks come from each business chain's clock: TB = nowB + 1h, TA = nowA + 3h.
    async fn swap_request(&self, hashlock: B256, amount_a: u64, amount_b: u64) -> SwapRequest {
        let now_a = latest_timestamp(self.a.provider()).await;
        let now_b = latest_timestamp(self.b.provider()).await;
        let (alice, bob) = (self.address(ALICE), self.address(BOB));
        let request = SwapRequest::new(
            hashlock,
            Leg::new(&path(ASSET_A), alice, bob, u(amount_a), now_a + 3 * HOUR),
            Leg::new(&path(ASSET_B), bob, alice, u(amount_b), now_b + HOUR),
        );
        request.validate().expect("valid swap request");
        // The governance chain checks the timelocks against its own clock.
        let now_gov = latest_timestamp(self.gov_provider()).await;
        request.check_timelocks(now_gov).expect("timelocks within the governance chain's bounds");
        request
    }

    async fn swap(&self, swap_id: B256) -> ITransactionManager::Swap {
        self.gov.tm(DEPLOYER).swap(swap_id).call().await.expect("swap")
    }

    /// Alice signs and her relayer proposes; bob signs the same request and his relayer accepts.
    async fn propose_and_accept(&self, request: &SwapRequest) {
        let domain = self.tm_domain();
        let tm = self.gov.tm(RELAYER_A);
        let digest = tm.swapRequestDigest(request.clone()).call().await.expect("swapRequestDigest");
        assert_eq!(request.signing_hash(&domain), digest, "Rust and Solidity SwapRequest digests");

        let by_alice = request.sign(&domain, &self.gov.accounts[ALICE].signer).expect("sign");
        let receipt = send("proposeSwap", tm.proposeSwap(request.clone(), by_alice)).await;
        let [proposed] = events::<TransactionManager::SwapProposed>(&receipt, self.tm_address())
            .try_into()
            .expect("one SwapProposed");
        assert_eq!(proposed.swapId, request.swapId);
        assert_eq!(
            (proposed.initiator, proposed.counterparty),
            (self.address(ALICE), self.address(BOB))
        );
        assert_eq!(proposed.request, *request, "the event carries the request as signed");
        let s = self.swap(request.swapId).await;
        assert_eq!(SwapState::try_from(s.state), Ok(SwapState::Proposed));
        assert_eq!((s.hashlock, s.digest, s.secret), (request.hashlock, digest, B256::ZERO));
        assert_eq!(s.timelockA.to::<u64>(), request.legA.timelock);
        assert_eq!(s.timelockB.to::<u64>(), request.legB.timelock);
        assert_eq!(s.chainKeyA, path(ASSET_A).chain_key());
        assert_eq!(s.chainKeyB, path(ASSET_B).chain_key());

        // Bob's signature over the same request, submitted by his institution's relayer.
        let by_bob = request.sign(&domain, &self.gov.accounts[BOB].signer).expect("sign");
        let receipt =
            send("acceptSwap", self.gov.tm(RELAYER_B).acceptSwap(request.swapId, by_bob)).await;
        let [accepted] = events::<TransactionManager::SwapAccepted>(&receipt, self.tm_address())
            .try_into()
            .expect("one SwapAccepted");
        assert_eq!(accepted.swapId, request.swapId);
        assert_eq!(
            SwapState::try_from(self.swap(request.swapId).await.state),
            Ok(SwapState::Accepted)
        );
        assert_eq!(self.open_swap_counts().await, (u(1), u(1)));
    }

    async fn open_swap_counts(&self) -> (U256, U256) {
        let tm = self.gov.tm(DEPLOYER);
        let a = tm.openSwapCount(path(ASSET_A).chain_key()).call().await.expect("count");
        let b = tm.openSwapCount(path(ASSET_B).chain_key()).call().await.expect("count");
        (a, b)
    }

    /// The leg's relayer locks it on its chain's HtlcAsset with the sender's `Lock` signature,
    /// then records it on the governance chain.
    async fn lock_leg(&self, request: &SwapRequest, leg: LegId) -> TransactionReceipt {
        let (chain, relayer, sender) = self.side(leg.index());
        let htlc = chain.htlc(relayer);
        let lock = request.lock(leg);
        let domain = htlc_domain(chain.resources.chain_id, chain.resources.htlc_asset.address);
        let digest = htlc
            .lockDigest(
                lock.swapId,
                lock.sender,
                lock.recipient,
                lock.amount,
                lock.hashlock,
                lock.timelock,
            )
            .call()
            .await
            .expect("lockDigest");
        assert_eq!(lock.signing_hash(&domain), digest, "Rust and Solidity Lock digests");
        let signature = lock.sign(&domain, &chain.accounts[sender].signer).expect("sign");
        let locked =
            send(&format!("lock leg {leg}"), htlc.call_builder(&lock.lock_call(signature))).await;
        let [event] = events::<HtlcAsset::Locked>(&locked, chain.resources.htlc_asset.address)
            .try_into()
            .expect("one Locked");
        // The asset keeps the lock under the id of its terms (the Lock's struct hash).
        assert_eq!((event.lockId, event.swapId), (lock.id(), lock.swapId));
        assert_eq!((event.sender, event.recipient), (lock.sender, lock.recipient));
        assert_eq!(
            (event.amount, event.hashlock, event.timelock),
            (lock.amount, lock.hashlock, lock.timelock)
        );
        let id = htlc
            .lockIdOf(
                lock.swapId,
                lock.sender,
                lock.recipient,
                lock.amount,
                lock.hashlock,
                lock.timelock,
            )
            .call()
            .await
            .expect("lockIdOf");
        assert_eq!(id, lock.id(), "Rust and Solidity lock ids");
        assert_eq!(self.lock_state(chain, lock.id()).await, HtlcLockState::Locked);

        let tm = self.gov.tm(relayer);
        let call = tm.recordLegLocked(request.swapId, leg.index(), evidence(&locked));
        let receipt = send(&format!("record leg {leg} locked"), call).await;
        let [recorded] = events::<TransactionManager::LegLocked>(&receipt, self.tm_address())
            .try_into()
            .expect("one LegLocked");
        assert_eq!((recorded.swapId, recorded.leg), (request.swapId, leg.index()));
        assert_eq!(
            (recorded.relayer, recorded.evidence),
            (self.address(relayer), evidence(&locked))
        );
        receipt
    }

    async fn lock_state(&self, chain: &BusinessChain, lock: B256) -> HtlcLockState {
        let l = chain.htlc(DEPLOYER).lockOf(lock).call().await.expect("lockOf");
        HtlcLockState::try_from(l.state).expect("known HtlcAsset state")
    }

    /// The names of the TransactionManager's events about `id` (topic 1), in log order.
    async fn tm_event_names(&self, id: B256) -> Vec<&'static str> {
        let filter = alloy::rpc::types::Filter::new()
            .address(self.tm_address())
            .topic1(id)
            .from_block(self.gov.deployment.transaction_manager.block);
        let logs = self.gov_provider().get_logs(&filter).await.expect("get_logs");
        logs.iter()
            .map(|log| {
                use TransactionManager::TransactionManagerEvents as E;
                match E::decode_raw_log(log.topics(), &log.data().data).expect("a TM event") {
                    E::TransactionBegun(_) => "TransactionBegun",
                    E::StepVoted(_) => "StepVoted",
                    E::TransactionDecided(_) => "TransactionDecided",
                    E::TransactionExpired(_) => "TransactionExpired",
                    E::StepAcked(_) => "StepAcked",
                    E::TransactionFinalized(_) => "TransactionFinalized",
                    E::SwapProposed(_) => "SwapProposed",
                    E::SwapAccepted(_) => "SwapAccepted",
                    E::LegLocked(_) => "LegLocked",
                    E::LegUnlocked(_) => "LegUnlocked",
                    E::LegRefunded(_) => "LegRefunded",
                    E::LegVoided(_) => "LegVoided",
                    E::SwapClosed(_) => "SwapClosed",
                    E::SwapExpired(_) => "SwapExpired",
                    E::ReportItemRefused(_) => "ReportItemRefused",
                    E::SupervisionBound(_) => "SupervisionBound",
                }
            })
            .collect()
    }
}

/// The one decided / finalized state in a receipt.
fn decided(c: &Consortium, receipt: &TransactionReceipt) -> Vec<TxState> {
    events::<TransactionManager::TransactionDecided>(receipt, c.tm_address())
        .into_iter()
        .map(|e| TxState::try_from(e.state).expect("known state"))
        .collect()
}

fn finalized(c: &Consortium, receipt: &TransactionReceipt) -> Vec<TxState> {
    events::<TransactionManager::TransactionFinalized>(receipt, c.tm_address())
        .into_iter()
        .map(|e| TxState::try_from(e.state).expect("known state"))
        .collect()
}

#[tokio::test]
async fn two_phase_transfer_commits_on_both_chains() {
    let c = Consortium::start().await;
    let (ledger_a, ledger_b) = (c.ledger(&c.a).await, c.ledger(&c.b).await);
    assert_eq!((ledger_a.alice, ledger_b.bob), (u(ALICE_LEDGER_A), u(BOB_LEDGER_B)));

    // Alice signs the transfer; her institution's relayer begins it.
    let request = c.transfer_request(100, HOUR).await;
    let tx_id = request.txId;
    c.begin(&request).await;
    assert_eq!(c.open_tx_counts().await, (u(1), u(1)));
    let tm = c.gov.tm(DEPLOYER);
    let open = tm.openTransactions(path(LEDGER_A).chain_key(), U256::ZERO, u(10));
    assert_eq!(open.call().await.expect("openTransactions"), vec![tx_id]);
    // A request is begun once, and its nonce is spent.
    let sig = request.sign(&c.tm_domain(), &c.gov.accounts[ALICE].signer).expect("sign");
    let refused =
        expect_revert("begin twice", c.gov.tm(RELAYER_A).begin(request.clone(), sig)).await;
    assert_eq!(
        refused,
        ContractRevert::TransactionManager(TmErr::TxAlreadyExists(
            TransactionManager::TxAlreadyExists { txId: tx_id }
        ))
    );

    // Relayers learn the steps from the governance log, as after a restart.
    let steps = c.begun_steps(tx_id).await;
    assert_eq!(steps, request.steps);

    // Step 0 on chain A: escrow alice's 100, then vote yes.
    let prepared = c.prepare(tx_id, 0, &steps).await;
    let after_prepare = c.ledger(&c.a).await;
    assert_eq!((after_prepare.alice, after_prepare.escrowed), (u(ALICE_LEDGER_A - 100), u(100)));
    // Only a relayer serving the step's chain may vote on it.
    let refused = expect_revert(
        "vote by the other chain's relayer",
        c.gov.tm(RELAYER_B).vote(tx_id, 0, true, Bytes::new()),
    )
    .await;
    assert!(
        matches!(
            refused,
            ContractRevert::TransactionManager(TmErr::TxNotServingRelayer(ref e))
                if e.txId == tx_id && e.step == 0 && e.caller == c.address(RELAYER_B)
        ),
        "{refused}"
    );
    let receipt = c.vote(tx_id, 0, true, evidence(&prepared)).await;
    assert!(decided(&c, &receipt).is_empty(), "one yes of two decides nothing");
    assert_eq!(c.tx_state(tx_id).await, TxState::Preparing);

    // Step 1 on chain B: reserve bob's credit, vote yes: the last yes decides COMMIT.
    let prepared = c.prepare(tx_id, 1, &steps).await;
    assert_eq!(c.ledger(&c.b).await.pending_credits, u(100));
    let receipt = c.vote(tx_id, 1, true, evidence(&prepared)).await;
    assert_eq!(decided(&c, &receipt), [TxState::Committing]);
    assert_eq!(c.tx_state(tx_id).await, TxState::Committing);

    // Each relayer commits on its ledger and acknowledges; the last ack finalizes.
    let receipt = c.finish_step(tx_id, 0, true).await;
    assert!(finalized(&c, &receipt).is_empty());
    let receipt = c.finish_step(tx_id, 1, true).await;
    assert_eq!(finalized(&c, &receipt), [TxState::Committed]);

    // Governance record.
    let t = c.tx(tx_id).await;
    assert_eq!(TxState::try_from(t.state), Ok(TxState::Committed));
    assert_eq!((t.votedMask, t.yesMask, t.ackedMask), (0b11, 0b11, 0b11));
    assert_eq!(c.open_tx_counts().await, (U256::ZERO, U256::ZERO));
    assert_eq!(
        c.tm_event_names(tx_id).await,
        [
            "TransactionBegun",
            "StepVoted",
            "StepVoted",
            "TransactionDecided",
            "StepAcked",
            "StepAcked",
            "TransactionFinalized"
        ]
    );
    // A decided transaction takes no more votes.
    let refused =
        expect_revert("late vote", c.gov.tm(RELAYER_A).vote(tx_id, 0, false, Bytes::new())).await;
    assert!(
        matches!(
            refused,
            ContractRevert::TransactionManager(TmErr::TxNotPreparing(ref e)) if e.state == u8::from(TxState::Committed)
        ),
        "{refused}"
    );

    // Balances: the value left chain A (burnt) and arrived on chain B (minted).
    let (a, b) = (c.ledger(&c.a).await, c.ledger(&c.b).await);
    assert_eq!(
        a,
        LedgerView {
            alice: u(ALICE_LEDGER_A - 100),
            bob: U256::ZERO,
            supply: u(ALICE_LEDGER_A - 100),
            escrowed: U256::ZERO,
            pending_credits: U256::ZERO,
        }
    );
    assert_eq!(
        b,
        LedgerView {
            alice: U256::ZERO,
            bob: u(BOB_LEDGER_B + 100),
            supply: u(BOB_LEDGER_B + 100),
            escrowed: U256::ZERO,
            pending_credits: U256::ZERO,
        }
    );
    assert_eq!(
        a.supply + b.supply,
        ledger_a.supply + ledger_b.supply,
        "value is conserved across chains"
    );
}

#[tokio::test]
async fn two_phase_transfer_aborts_on_insufficient_funds() {
    let c = Consortium::start().await;
    let (before_a, before_b) = (c.ledger(&c.a).await, c.ledger(&c.b).await);

    let too_much = ALICE_LEDGER_A + 1;
    let request = c.transfer_request(too_much, HOUR).await;
    let tx_id = request.txId;
    c.begin(&request).await;
    let steps = c.begun_steps(tx_id).await;

    // Relayer B prepares its credit first and votes yes; nothing is decided yet.
    let prepared = c.prepare(tx_id, 1, &steps).await;
    assert_eq!(c.ledger(&c.b).await.pending_credits, u(too_much));
    let receipt = c.vote(tx_id, 1, true, evidence(&prepared)).await;
    assert!(decided(&c, &receipt).is_empty());

    // Relayer A's prepare is refused by the ledger, with a decodable reason.
    let refused = expect_revert(
        "prepare an overdraft",
        c.a.xa(RELAYER_A).prepare(tx_id, steps[0].op.clone()),
    )
    .await;
    assert_eq!(
        refused,
        ContractRevert::XaLedger(XaErr::XaInsufficientBalance(XaLedger::XaInsufficientBalance {
            account: c.address(ALICE),
            balance: u(ALICE_LEDGER_A),
            amount: u(too_much),
        }))
    );
    assert_eq!(
        refused.to_string(),
        format!("XaInsufficientBalance({}, {ALICE_LEDGER_A}, {too_much})", c.address(ALICE))
    );
    assert_eq!(c.xa_state(&c.a, tx_id).await, XaTxState::None);

    // It votes no, with the revert as evidence: the first no decides ABORT.
    let receipt = c.vote(tx_id, 0, false, Bytes::from(refused.abi_encode())).await;
    assert_eq!(decided(&c, &receipt), [TxState::Aborting]);
    assert_eq!(c.tx_state(tx_id).await, TxState::Aborting);

    // Relayer B releases its reservation; relayer A records the abort of a never-prepared txId.
    let receipt = c.finish_step(tx_id, 1, false).await;
    assert!(finalized(&c, &receipt).is_empty());
    assert_eq!(c.ledger(&c.b).await.pending_credits, U256::ZERO);
    let rolled_back = send("rollback unprepared", c.a.xa(RELAYER_A).rollback(tx_id)).await;
    let [event] = events::<XaLedger::RolledBack>(&rolled_back, c.a.resources.xa_ledger.address)
        .try_into()
        .expect("one RolledBack");
    assert_eq!(
        (event.txId, event.kind, event.account, event.amount),
        (tx_id, 0, Address::ZERO, U256::ZERO)
    );
    let receipt = c.finish_step(tx_id, 0, false).await;
    assert_eq!(finalized(&c, &receipt), [TxState::Aborted]);

    let t = c.tx(tx_id).await;
    assert_eq!(TxState::try_from(t.state), Ok(TxState::Aborted));
    assert_eq!((t.votedMask, t.yesMask, t.ackedMask), (0b11, 0b10, 0b11));
    assert_eq!(c.open_tx_counts().await, (U256::ZERO, U256::ZERO));
    assert_eq!((c.ledger(&c.a).await, c.ledger(&c.b).await), (before_a, before_b), "nothing moved");

    // A prepare arriving late (say, from a relayer that had not seen the abort) is refused.
    let refused =
        expect_revert("late prepare", c.a.xa(RELAYER_A).prepare(tx_id, steps[0].op.clone())).await;
    assert_eq!(
        refused,
        ContractRevert::XaLedger(XaErr::XaAlreadyAborted(XaLedger::XaAlreadyAborted {
            txId: tx_id
        }))
    );
    let refused = expect_revert("commit after abort", c.b.xa(RELAYER_B).commit(tx_id)).await;
    assert!(matches!(refused, ContractRevert::XaLedger(XaErr::XaAlreadyAborted(_))), "{refused}");
}

#[tokio::test]
async fn two_phase_transfer_expires_past_its_deadline() {
    let c = Consortium::start().await;
    let (before_a, before_b) = (c.ledger(&c.a).await, c.ledger(&c.b).await);

    let request = c.transfer_request(100, 600).await;
    let tx_id = request.txId;
    c.begin(&request).await;
    let steps = c.begun_steps(tx_id).await;

    // Both prepare; only A votes.
    let prepared_a = c.prepare(tx_id, 0, &steps).await;
    let prepared_b = c.prepare(tx_id, 1, &steps).await;
    c.vote(tx_id, 0, true, evidence(&prepared_a)).await;
    // Too early to expire.
    let refused = expect_revert("early expire", c.gov.tm(ANYONE).expire(tx_id)).await;
    assert_eq!(
        refused,
        ContractRevert::TransactionManager(TmErr::TxDeadlineNotReached(
            TransactionManager::TxDeadlineNotReached { txId: tx_id, deadline: request.deadline }
        ))
    );

    // Governance-chain time passes the deadline.
    let now = latest_timestamp(c.gov_provider()).await;
    let now = advance_time(c.gov_provider(), request.deadline - now + 1).await;
    assert!(now >= request.deadline);

    // B's vote comes too late.
    let refused = expect_revert(
        "vote after the deadline",
        c.gov.tm(RELAYER_B).vote(tx_id, 1, true, evidence(&prepared_b)),
    )
    .await;
    assert_eq!(
        refused,
        ContractRevert::TransactionManager(TmErr::TxDeadlinePassed(
            TransactionManager::TxDeadlinePassed { txId: tx_id, deadline: request.deadline }
        ))
    );
    assert_eq!(c.tx_state(tx_id).await, TxState::Preparing, "nothing decided until expire");

    // Anyone may expire it: ABORT.
    let receipt = send("expire", c.gov.tm(ANYONE).expire(tx_id)).await;
    let expired = events::<TransactionManager::TransactionExpired>(&receipt, c.tm_address());
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].txId, tx_id);
    assert_eq!(decided(&c, &receipt), [TxState::Aborting]);

    // Both roll back (A's escrow returns to alice) and acknowledge.
    c.finish_step(tx_id, 0, false).await;
    let receipt = c.finish_step(tx_id, 1, false).await;
    assert_eq!(finalized(&c, &receipt), [TxState::Aborted]);
    let t = c.tx(tx_id).await;
    assert_eq!((t.votedMask, t.yesMask, t.ackedMask), (0b01, 0b01, 0b11));
    assert_eq!(c.open_tx_counts().await, (U256::ZERO, U256::ZERO));
    assert_eq!((c.ledger(&c.a).await, c.ledger(&c.b).await), (before_a, before_b), "nothing moved");
    assert_eq!(
        c.tm_event_names(tx_id).await,
        [
            "TransactionBegun",
            "StepVoted",
            "TransactionExpired",
            "TransactionDecided",
            "StepAcked",
            "StepAcked",
            "TransactionFinalized"
        ]
    );
}

#[tokio::test]
async fn htlc_swap_completes_on_both_chains() {
    let c = Consortium::start().await;
    let (before_a, before_b) = (c.asset(&c.a).await, c.asset(&c.b).await);

    // Alice's relayer generates the secret; only its hash travels.
    let secret = Secret::random();
    let request = c.swap_request(secret.hashlock(), 100, 50).await;
    let swap_id = request.swapId;
    c.propose_and_accept(&request).await;

    // Leg B cannot be recorded locked before leg A.
    let refused = expect_revert(
        "record leg B first",
        c.gov.tm(RELAYER_B).recordLegLocked(swap_id, 1, Bytes::new()),
    )
    .await;
    assert_eq!(
        refused,
        ContractRevert::TransactionManager(TmErr::SwapLegOutOfOrder(
            TransactionManager::SwapLegOutOfOrder { swapId: swap_id }
        ))
    );

    // Relayer A locks alice's 100 on chain A, then relayer B locks bob's 50 on chain B.
    c.lock_leg(&request, LegId::A).await;
    c.lock_leg(&request, LegId::B).await;
    assert_eq!(c.asset(&c.a).await.held, u(100));
    assert_eq!(c.asset(&c.b).await.held, u(50));
    let s = c.swap(swap_id).await;
    assert_eq!(
        (LegState::try_from(s.legA), LegState::try_from(s.legB)),
        (Ok(LegState::Locked), Ok(LegState::Locked))
    );

    // Alice's relayer unlocks leg B on chain B with the secret, revealing it there.
    let lock_b = request.lock(LegId::B).id();
    let unlocked_b =
        send("unlock leg B", c.b.htlc(RELAYER_A).unlock(lock_b, secret.reveal())).await;
    let [event] = events::<HtlcAsset::Unlocked>(&unlocked_b, c.b.resources.htlc_asset.address)
        .try_into()
        .expect("one Unlocked");
    assert_eq!(
        (event.lockId, event.secret, event.recipient, event.amount),
        (lock_b, secret.reveal(), c.address(ALICE), u(50))
    );
    // Leg B's governance record belongs to a relayer serving chain B, not to alice's.
    let refused = expect_revert(
        "record leg B by relayer A",
        c.gov.tm(RELAYER_A).recordLegUnlocked(swap_id, 1, secret.reveal(), evidence(&unlocked_b)),
    )
    .await;
    assert!(
        matches!(
            refused,
            ContractRevert::TransactionManager(TmErr::SwapNotServingRelayer(ref e))
                if e.leg == 1 && e.caller == c.address(RELAYER_A)
        ),
        "{refused}"
    );
    // Relayer B reads the revealed secret from chain B and records the unlock.
    let revealed = c.b.htlc(RELAYER_B).lockOf(lock_b).call().await.expect("lockOf").secret;
    assert!(Secret::from_bytes(revealed).opens(&request.hashlock));
    let receipt = send(
        "record leg B unlocked",
        c.gov.tm(RELAYER_B).recordLegUnlocked(swap_id, 1, revealed, evidence(&unlocked_b)),
    )
    .await;
    let [recorded] = events::<TransactionManager::LegUnlocked>(&receipt, c.tm_address())
        .try_into()
        .expect("one LegUnlocked");
    assert_eq!((recorded.swapId, recorded.leg, recorded.secret), (swap_id, 1, secret.reveal()));
    assert!(events::<TransactionManager::SwapClosed>(&receipt, c.tm_address()).is_empty());

    // Relayer A reads the secret from the governance record and unlocks leg A for bob.
    let from_gov = c.swap(swap_id).await.secret;
    assert_eq!(from_gov, secret.reveal());
    let lock_a = request.lock(LegId::A).id();
    let unlocked_a = send("unlock leg A", c.a.htlc(RELAYER_A).unlock(lock_a, from_gov)).await;
    assert_eq!(c.lock_state(&c.a, lock_a).await, HtlcLockState::Unlocked);
    let receipt = send(
        "record leg A unlocked",
        c.gov.tm(RELAYER_A).recordLegUnlocked(swap_id, 0, from_gov, evidence(&unlocked_a)),
    )
    .await;
    let [recorded] = events::<TransactionManager::LegUnlocked>(&receipt, c.tm_address())
        .try_into()
        .expect("one LegUnlocked");
    assert_eq!((recorded.leg, recorded.relayer), (0, c.address(RELAYER_A)));
    let [closed] = events::<TransactionManager::SwapClosed>(&receipt, c.tm_address())
        .try_into()
        .expect("one SwapClosed");
    assert_eq!(
        (LegState::try_from(closed.legA), LegState::try_from(closed.legB)),
        (Ok(LegState::Unlocked), Ok(LegState::Unlocked))
    );

    // Governance record: closed, both legs unlocked, no longer open on either chain.
    let s = c.swap(swap_id).await;
    assert_eq!(SwapState::try_from(s.state), Ok(SwapState::Closed));
    assert_eq!(
        (LegState::try_from(s.legA), LegState::try_from(s.legB)),
        (Ok(LegState::Unlocked), Ok(LegState::Unlocked))
    );
    assert_eq!(c.open_swap_counts().await, (U256::ZERO, U256::ZERO));
    assert_eq!(
        c.tm_event_names(swap_id).await,
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

    // Balances: 100 moved alice -> bob on A, 50 bob -> alice on B; nothing held.
    let (a, b) = (c.asset(&c.a).await, c.asset(&c.b).await);
    assert_eq!(
        a,
        AssetView {
            alice: before_a.alice - u(100),
            bob: u(100),
            supply: before_a.supply,
            held: U256::ZERO
        }
    );
    assert_eq!(
        b,
        AssetView {
            alice: u(50),
            bob: before_b.bob - u(50),
            supply: before_b.supply,
            held: U256::ZERO
        }
    );
}

#[tokio::test]
async fn htlc_swap_refunds_leg_a_and_voids_leg_b() {
    let c = Consortium::start().await;
    let before_a = c.asset(&c.a).await;

    let secret = Secret::random();
    let request = c.swap_request(secret.hashlock(), 100, 50).await;
    let swap_id = request.swapId;
    c.propose_and_accept(&request).await;

    // Leg A is locked and recorded; bob's side never locks.
    c.lock_leg(&request, LegId::A).await;
    assert_eq!(c.asset(&c.a).await.alice, before_a.alice - u(100));
    let lock_a = request.lock(LegId::A).id();
    let refused = expect_revert("early timeout", c.a.htlc(RELAYER_A).timeout(lock_a)).await;
    assert!(
        matches!(refused, ContractRevert::HtlcAsset(HtlcErr::HtlcNotExpired(ref e)) if e.lockId == lock_a),
        "{refused}"
    );

    // Both business chains' clocks pass their legs' timelocks.
    let (ta, tb) = (request.legA.timelock, request.legB.timelock);
    let now_a = latest_timestamp(c.a.provider()).await;
    assert!(advance_time(c.a.provider(), ta - now_a).await >= ta);
    let now_b = latest_timestamp(c.b.provider()).await;
    assert!(advance_time(c.b.provider(), tb - now_b).await >= tb);

    // Relayer A refunds leg A to alice and records it.
    let refunded = send("timeout leg A", c.a.htlc(RELAYER_A).timeout(lock_a)).await;
    let [event] = events::<HtlcAsset::Refunded>(&refunded, c.a.resources.htlc_asset.address)
        .try_into()
        .expect("one Refunded");
    assert_eq!((event.lockId, event.sender, event.amount), (lock_a, c.address(ALICE), u(100)));
    let receipt = send(
        "record leg A refunded",
        c.gov.tm(RELAYER_A).recordLegRefunded(swap_id, 0, evidence(&refunded)),
    )
    .await;
    let [recorded] = events::<TransactionManager::LegRefunded>(&receipt, c.tm_address())
        .try_into()
        .expect("one LegRefunded");
    assert_eq!(
        (recorded.swapId, recorded.leg, recorded.relayer),
        (swap_id, 0, c.address(RELAYER_A))
    );

    // Relayer B checks on chain B that leg B was never locked and its timelock has passed (so
    // it never can be: a lock is refused now), then records it void.
    let lock_b = request.lock(LegId::B);
    assert_eq!(c.lock_state(&c.b, lock_b.id()).await, HtlcLockState::None);
    assert!(latest_timestamp(c.b.provider()).await >= tb);
    let domain = htlc_domain(CHAIN_B_ID, c.b.resources.htlc_asset.address);
    let signature = lock_b.sign(&domain, &c.b.accounts[BOB].signer).expect("sign");
    let refused = expect_revert(
        "lock after the timelock",
        c.b.htlc(RELAYER_B).call_builder(&lock_b.lock_call(signature)),
    )
    .await;
    assert!(
        matches!(refused, ContractRevert::HtlcAsset(HtlcErr::HtlcTimelockNotInFuture(ref e)) if e.timelock == tb),
        "{refused}"
    );
    let receipt =
        send("record leg B void", c.gov.tm(RELAYER_B).recordLegVoid(swap_id, 1, Bytes::new()))
            .await;
    let [voided] = events::<TransactionManager::LegVoided>(&receipt, c.tm_address())
        .try_into()
        .expect("one LegVoided");
    assert_eq!((voided.swapId, voided.leg, voided.relayer), (swap_id, 1, c.address(RELAYER_B)));
    let [closed] = events::<TransactionManager::SwapClosed>(&receipt, c.tm_address())
        .try_into()
        .expect("one SwapClosed");
    assert_eq!(
        (LegState::try_from(closed.legA), LegState::try_from(closed.legB)),
        (Ok(LegState::Refunded), Ok(LegState::Void))
    );

    let s = c.swap(swap_id).await;
    assert_eq!(SwapState::try_from(s.state), Ok(SwapState::Closed));
    assert_eq!(s.secret, B256::ZERO, "the secret was never revealed");
    assert_eq!(c.open_swap_counts().await, (U256::ZERO, U256::ZERO));
    assert_eq!(
        c.tm_event_names(swap_id).await,
        ["SwapProposed", "SwapAccepted", "LegLocked", "LegRefunded", "LegVoided", "SwapClosed"]
    );
    // Alice has her 100 back; nothing is held.
    assert_eq!(c.asset(&c.a).await, before_a);
}

#[tokio::test]
async fn supervision_records_chain_by_hash() {
    let c = Consortium::start().await;
    let sup_address = c.gov.deployment.supervision.address;
    let subject = B256::repeat_byte(0x5a);
    // Envelopes are opaque to the chain beyond their header: sealed for the regulator about to
    // be admitted, covering a made-up report.
    let regulator = alloy::signers::local::PrivateKeySigner::random();
    let public_key = Bytes::copy_from_slice(regulator.public_key().as_slice());
    let seal = |body: &[u8]| {
        use crossgov_relayer::audit::envelope::{Envelope, Recipient, os_random};
        use crossgov_relayer::audit::{CoverKey, CoverKind};
        let to = Recipient::from_xy(&public_key).expect("key");
        let covers = [CoverKey::new(CoverKind::Begun, 0)];
        Bytes::from(
            Envelope::seal(subject, &covers, body, &[to], &mut os_random).expect("seal").encode(),
        )
    };
    let envelope = seal(b"aes-256-gcm ciphertext + wrapped keys (opaque to the chain)");

    // Nobody could read a record yet: refused.
    let refused = expect_revert(
        "record without regulators",
        c.gov.supervision(RELAYER_A).record(subject, envelope.clone()),
    )
    .await;
    assert_eq!(
        refused,
        ContractRevert::Supervision(SupErr::SupNoRegulators(Supervision::SupNoRegulators {}))
    );

    // A regulator is admitted by an executed proposal, under its secp256k1 public key (x || y).
    assert_eq!(public_key.len(), 64);
    let call = Supervision::admitRegulatorCall {
        publicKey: public_key.clone(),
        name: "Regulator R".into(),
    };
    let receipt = c
        .gov
        .pass(ADMIN1, sup_address, &call, "admit regulator R", &[ADMIN1, ADMIN2, ADMIN3])
        .await;
    let [admitted] = events::<Supervision::RegulatorAdmitted>(&receipt, sup_address)
        .try_into()
        .expect("one RegulatorAdmitted");
    assert_eq!(admitted.regulator, regulator.address(), "the address derives from the key");
    assert_eq!((admitted.name.as_str(), &admitted.publicKey), ("Regulator R", &public_key));
    let sup = c.gov.supervision(DEPLOYER);
    assert_eq!(sup.regulators().call().await.expect("regulators"), vec![regulator.address()]);
    let record = sup.regulatorOf(regulator.address()).call().await.expect("regulatorOf");
    assert!(record.active);
    assert_eq!(
        (record.publicKeyX.as_slice(), record.publicKeyY.as_slice()),
        (&public_key[..32], &public_key[32..])
    );

    // Only a relayer of an active institution appends.
    let refused = expect_revert(
        "record by a user",
        c.gov.supervision(ALICE).record(subject, envelope.clone()),
    )
    .await;
    assert!(
        matches!(refused, ContractRevert::Supervision(SupErr::SupNotRelayer(ref e)) if e.caller == c.address(ALICE)),
        "{refused}"
    );

    // Relayer A appends a record; the head is keccak256(0x00..00 || keccak256(envelope)).
    let receipt =
        send("record", c.gov.supervision(RELAYER_A).record(subject, envelope.clone())).await;
    let [appended] = events::<Supervision::RecordAppended>(&receipt, sup_address)
        .try_into()
        .expect("one RecordAppended");
    let record_hash = keccak256(&envelope);
    let head = keccak256([B256::ZERO.as_slice(), record_hash.as_slice()].concat());
    assert_eq!(
        (appended.index, appended.subjectId, appended.institution),
        (U256::ZERO, subject, 1)
    );
    assert_eq!(
        (appended.relayer, appended.recordHash, appended.head),
        (c.address(RELAYER_A), record_hash, head)
    );
    assert_eq!(appended.envelope, envelope);
    assert_eq!(sup.head().call().await.expect("head"), head);
    assert_eq!(sup.recordCount().call().await.expect("recordCount"), u(1));

    // A second record by institution 2's relayer chains onto the first.
    let second = seal(&[0xa5; 300]);
    let receipt =
        send("record 2", c.gov.supervision(RELAYER_B).record(subject, second.clone())).await;
    let [appended] = events::<Supervision::RecordAppended>(&receipt, sup_address)
        .try_into()
        .expect("one RecordAppended");
    let head2 = keccak256([head.as_slice(), keccak256(&second).as_slice()].concat());
    assert_eq!((appended.index, appended.institution, appended.head), (u(1), 2, head2));
    assert_eq!(sup.head().call().await.expect("head"), head2);
    assert_eq!(sup.recordCount().call().await.expect("recordCount"), u(2));
}
