//! A second EVM implementation: Hardhat's node (EDR), pinned in package.json, set up the way
//! consortium chains run. The governance chain sits at Berlin (no EIP-1559, no PUSH0); chain B at
//! London with a zero base fee; chain A stays on anvil. The relayers' accounts hold nothing on
//! the Hardhat chains and send at a fixed price of 0 (a gas-free network), so every relayer
//! transaction there proves the "unfunded, legacy, price 0" path.
//!
//! Against that consortium: a 2PC transfer commits, one over balance aborts, an HTLC swap closes,
//! a relayer dying after `prepare` is resumed by another, the audit trail verifies, and the
//! relayers still hold nothing. Then `crossgov deploy` on its own Berlin node, in `auto` and in an
//! explicit `eip1559` that the node cannot serve.

use std::process::Command;
use std::sync::Arc;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use crossgov_deploy::devnet::{HardhatConfig, spawn_hardhat};
use crossgov_deploy::local::{NodeKind, Nodes, OPENING_BALANCE, RELAYER_KEYS, keys};
use crossgov_relayer::bindings::{TxState, XaTxState};
use crossgov_relayer::two_phase::{HookAction, ProtocolHook, ProtocolPoint};

use crate::adversarial::Adv;
use crossgov_relayer::protocol::random_b256;

use crate::harness::wait_for;

const BIN: &str = env!("CARGO_BIN_EXE_crossgov");

fn hardhat(hardfork: &str) -> NodeKind {
    NodeKind::Hardhat { hardfork: hardfork.into() }
}

/// Each relayer key's balance and nonce on `provider`.
async fn relayer_accounts(adv: &Adv, provider: &DynProvider) -> Vec<(Address, U256, u64)> {
    let mut out = Vec::new();
    for key in RELAYER_KEYS {
        let a = adv.addr(key);
        let balance = provider.get_balance(a).await.expect("balance");
        out.push((a, balance, provider.get_transaction_count(a).await.expect("nonce")));
    }
    out
}

async fn xa_balances(adv: &Adv) -> (U256, U256) {
    let alice = adv.xa(false, keys::DEPLOYER).balanceOf(adv.addr(keys::ALICE)).call().await;
    let bob = adv.xa(true, keys::DEPLOYER).balanceOf(adv.addr(keys::BOB)).call().await;
    (alice.expect("alice on A"), bob.expect("bob on B"))
}

async fn wait_tx(adv: &Adv, tx_id: B256, want: TxState) {
    wait_for(&format!("transaction {tx_id} {want}"), || async {
        (adv.tx_state(tx_id).await == want).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_consortium_on_hardhat_commits_aborts_swaps_and_resumes_with_unfunded_relayers() {
    let nodes = Nodes { governance: hardhat("berlin"), a: NodeKind::Anvil, b: hardhat("london") };
    let mut adv = Adv::start_on(&nodes).await;
    let gov = adv.net.gov.provider(keys::DEPLOYER).clone();
    let chain_b = adv.net.b.chain.provider(keys::DEPLOYER).clone();
    for (chain, provider) in [("governance", &gov), ("zoneB.chainB", &chain_b)] {
        for (account, balance, _) in relayer_accounts(&adv, provider).await {
            assert_eq!(balance, U256::ZERO, "relayer {account} holds something on {chain}");
        }
    }
    adv.relayer_a =
        Some(adv.net.start_relayer(1, keys::RELAYER_A, "a", None).await.expect("relayer A"));
    adv.relayer_b =
        Some(adv.net.start_relayer(2, keys::RELAYER_B, "b", None).await.expect("relayer B"));

    // 1. A transfer commits: alice's 100 leaves chain A (anvil), bob's arrives on chain B.
    let (alice_0, bob_0) = xa_balances(&adv).await;
    let (request, signature) = adv.transfer(100).await;
    let committed = request.txId;
    adv.a().submit_transaction(request, signature).await.expect("begin");
    wait_tx(&adv, committed, TxState::Committed).await;
    let (alice_1, bob_1) = xa_balances(&adv).await;
    assert_eq!((alice_1, bob_1), (alice_0 - U256::from(100), bob_0 + U256::from(100)));

    // 2. One over alice's balance aborts; nothing moves.
    let (request, signature) = adv.transfer(OPENING_BALANCE + 1).await;
    let aborted = request.txId;
    adv.a().submit_transaction(request, signature).await.expect("begin");
    wait_tx(&adv, aborted, TxState::Aborted).await;
    assert_eq!(xa_balances(&adv).await, (alice_1, bob_1), "an aborted transfer moved funds");

    // 3. An HTLC swap: alice pays bob 100 on chain A, bob pays alice 50 on chain B (Hardhat).
    let (asset_a, asset_b) = (adv.net.a.htlc(keys::DEPLOYER), adv.net.b.htlc(keys::DEPLOYER));
    let (held_a, held_b) = (adv.held(&asset_a).await, adv.held(&asset_b).await);
    let secret = random_b256();
    let swap = adv.swap_request(secret, 100, 50).await;
    adv.propose(&swap, secret).await;
    adv.accept(&swap).await;
    adv.wait_swap_closed(swap.swapId).await;
    let (now_a, now_b) = (adv.held(&asset_a).await, adv.held(&asset_b).await);
    assert_eq!(now_a.bob, held_a.bob + U256::from(100), "bob was paid on chain A");
    assert_eq!(now_b.alice, held_b.alice + U256::from(50), "alice was paid on chain B");
    assert_eq!((now_a.held, now_b.held), (U256::ZERO, U256::ZERO), "nothing left locked");

    // 4. Bank A's relayer dies right after `prepare`; Bank A's second relayer finishes from chain
    //    state alone.
    adv.relayer_a.take().expect("relayer A").shutdown().await;
    let hook: ProtocolHook = Arc::new(|p: &ProtocolPoint| {
        if matches!(p, ProtocolPoint::Prepared { step: 0, .. }) {
            HookAction::Halt
        } else {
            HookAction::Continue
        }
    });
    let crashing =
        adv.net.start_relayer(1, keys::RELAYER_A, "a-crashing", Some(hook)).await.expect("A");
    let (request, signature) = adv.transfer(25).await;
    let resumed = request.txId;
    crashing.submit_transaction(request, signature).await.expect("begin");
    wait_for("relayer A to die after prepare", || async { crashing.is_stopped().then_some(()) })
        .await;
    assert_eq!(adv.tx_state(resumed).await, TxState::Preparing);
    let on_a = adv.xa(false, keys::DEPLOYER).stateOf(resumed).call().await.expect("stateOf");
    assert_eq!(XaTxState::try_from(on_a), Ok(XaTxState::Prepared), "prepared, not voted");
    let takeover =
        adv.net.start_relayer(1, keys::RELAYER_A2, "a2", None).await.expect("relayer A2");
    wait_tx(&adv, resumed, TxState::Committed).await;
    let (alice_2, bob_2) = xa_balances(&adv).await;
    assert_eq!((alice_2, bob_2), (alice_1 - U256::from(25), bob_1 + U256::from(25)));

    // 5. The audit trail, read from Hardhat's logs, covers every step.
    let (ok, report) = adv.audit_verify(None);
    assert!(ok, "audit verify failed: {report}");

    // The relayers sent on the Hardhat chains and still hold nothing there.
    let gov_accounts = relayer_accounts(&adv, &gov).await;
    let b_accounts = relayer_accounts(&adv, &chain_b).await;
    for (account, balance, _) in gov_accounts.iter().chain(&b_accounts) {
        assert_eq!(*balance, U256::ZERO, "relayer {account} was charged");
    }
    let sent = |accounts: &[(Address, U256, u64)], key: usize| {
        accounts.iter().find(|(a, ..)| *a == adv.addr(key)).map_or(0, |(.., nonce)| *nonce)
    };
    for key in [keys::RELAYER_A, keys::RELAYER_B, keys::RELAYER_A2] {
        assert!(sent(&gov_accounts, key) > 0, "relayer key {key} sent nothing on governance");
    }
    assert!(sent(&b_accounts, keys::RELAYER_B) > 0, "relayer B sent nothing on chain B");
    takeover.shutdown().await;
    crashing.shutdown().await;
}

/// `crossgov deploy` of the governance suite on a Berlin node: refused with an explicit
/// `eip1559` (named, not retried), deployed with `auto` (legacy, the node's gas price).
#[tokio::test(flavor = "multi_thread")]
async fn deploy_succeeds_on_a_berlin_node_and_eip1559_is_refused_by_name() {
    let node = spawn_hardhat(&HardhatConfig {
        chain_id: 7_001,
        hardfork: "berlin".into(),
        funded: vec![keys::DEPLOYER],
        interval_ms: 0,
    })
    .expect("hardhat");
    let dir = tempfile::tempdir().expect("dir");
    let manifest = dir.path().join("governance.json");
    let genesis = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/consortium.example.toml");
    let key = crossgov_deploy::devnet::DEV_KEYS[keys::DEPLOYER];
    let deploy = |fee_mode: &str| {
        Command::new(BIN)
            .args(["deploy", "--config", genesis, "--rpc-url"])
            .arg(node.endpoint_url().to_string())
            .arg("--manifest")
            .arg(&manifest)
            .args(["--fee-mode", fee_mode])
            .env("CROSSGOV_KEY", key)
            .env_remove("CROSSGOV_FEE_MODE")
            .output()
            .expect("run crossgov deploy")
    };
    let provider =
        alloy::providers::ProviderBuilder::new().connect_http(node.endpoint_url()).erased();
    let deployer = key.parse::<alloy::signers::local::PrivateKeySigner>().expect("key").address();

    let refused = tokio::task::block_in_place(|| deploy("eip1559"));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert!(err.contains("--fee-mode") && err.contains("base fee"), "{err}");
    assert_eq!(provider.get_transaction_count(deployer).await.expect("nonce"), 0, "sent nothing");
    assert!(!manifest.exists());

    let deployed = tokio::task::block_in_place(|| deploy("auto"));
    let err = String::from_utf8_lossy(&deployed.stderr);
    assert!(deployed.status.success(), "{err}");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).expect("manifest")).expect("JSON");
    assert_eq!(written["chainId"], 7_001);
    for contract in ["institutionRegistry", "transactionManager", "supervision"] {
        let address: Address =
            written[contract]["address"].as_str().expect("address").parse().expect("address");
        let code = provider.get_code_at(address).await.expect("code");
        assert!(!code.is_empty(), "{contract} has no code on the Berlin node");
    }
}
