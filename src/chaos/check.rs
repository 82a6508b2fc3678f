//! What must hold after every trial, read from the chains (never from the relayers):
//!
//! - **atomicity**: a committed transaction is committed on both ledgers, an aborted one on
//!   neither, nothing is left prepared; a swap has both legs unlocked or neither, nothing locked;
//!   the governance records agree with the business chains;
//! - **conservation**: every balance moved exactly as the final outcomes say, the two ledgers'
//!   supply together and each asset's supply are unchanged, nothing is escrowed or held;
//! - **audit**: every governance report about the trial's transactions is covered by an audit
//!   record the regulator can open, and the hash chain of all records verifies against the
//!   Supervision contract.

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::sol_types::SolEvent;
use crossgov_deploy::local::{LocalConsortium, keys};
use crossgov_relayer::audit::verify::{check, gather};
use crossgov_relayer::bindings::{
    HtlcLockState, LegState, SwapState, TransactionManager, TxState, XaTxState,
};

use crossgov_relayer::protocol::htlc::LegId;

use super::schedule::{Direction, Work};

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The coordinator's state of transaction `tx_id` (0 = unknown).
pub async fn tx_state(gov: &DynProvider, tm: Address, tx_id: B256) -> Result<u8, String> {
    Ok(TransactionManager::new(tm, gov).transaction(tx_id).call().await.map_err(err)?.state)
}

/// The governance record of swap `swap_id`.
pub async fn swap_state(
    gov: &DynProvider,
    tm: Address,
    swap_id: B256,
) -> Result<crossgov_relayer::bindings::transaction_manager::ITransactionManager::Swap, String> {
    TransactionManager::new(tm, gov).swap(swap_id).call().await.map_err(err)
}

/// Whether work `work` with subject `subject` is final on the governance chain.
async fn is_final(gov: &DynProvider, tm: Address, work: &Work, subject: B256) -> bool {
    match work {
        Work::Transfer { .. } => tx_state(gov, tm, subject).await.is_ok_and(|s| {
            matches!(TxState::try_from(s), Ok(TxState::Committed | TxState::Aborted))
        }),
        Work::Swap { .. } => swap_state(gov, tm, subject).await.is_ok_and(|s| {
            matches!(SwapState::try_from(s.state), Ok(SwapState::Closed | SwapState::Expired))
        }),
    }
}

/// The works not final yet (or never submitted).
pub async fn open_work(
    gov: &DynProvider,
    tm: Address,
    work: &[Work],
    subjects: &[Option<B256>],
) -> Vec<usize> {
    let mut open = Vec::new();
    for (i, (w, s)) in work.iter().zip(subjects).enumerate() {
        match s {
            Some(s) if is_final(gov, tm, w, *s).await => {}
            _ => open.push(i),
        }
    }
    open
}

async fn lock_state(
    net: &LocalConsortium,
    chain_a: bool,
    swap_id: B256,
) -> Result<HtlcLockState, String> {
    let (chain, leg) = if chain_a { (&net.a, LegId::A) } else { (&net.b, LegId::B) };
    // The asset keeps a lock under the id of its signed terms: read them from the proposal.
    let gov = net.gov.provider(keys::DEPLOYER);
    let filter = alloy::rpc::types::Filter::new()
        .address(net.deployment.transaction_manager.address)
        .event_signature(TransactionManager::SwapProposed::SIGNATURE_HASH)
        .topic1(swap_id)
        .from_block(0);
    let logs = gov.get_logs(&filter).await.map_err(err)?;
    let log = logs.first().ok_or_else(|| format!("no SwapProposed log of {swap_id}"))?;
    let proposed = TransactionManager::SwapProposed::decode_log_data(log.data()).map_err(err)?;
    let id = proposed.request.lock(leg).id();
    let s = chain.htlc(keys::DEPLOYER).lockOf(id).call().await.map_err(err)?;
    HtlcLockState::try_from(s.state).map_err(err)
}

/// Swaps whose secret is public (leg B unlocked) while leg A is still locked: moving chain A's
/// clock past leg A's timelock now would let alice take back what bob paid for.
pub async fn revealed_but_locked(
    net: &LocalConsortium,
    work: &[Work],
    subjects: &[Option<B256>],
) -> Vec<String> {
    let mut out = Vec::new();
    for (i, (w, s)) in work.iter().zip(subjects).enumerate() {
        let (Work::Swap { .. }, Some(s)) = (w, s) else { continue };
        let a = lock_state(net, true, *s).await;
        let b = lock_state(net, false, *s).await;
        if b == Ok(HtlcLockState::Unlocked) && a == Ok(HtlcLockState::Locked) {
            out.push(format!(
                "work {i} (swap {s}): secret revealed on chain B, leg A still locked a grace period later"
            ));
        }
    }
    out
}

/// How the works ended, by kind.
pub async fn outcomes(
    net: &LocalConsortium,
    tm: Address,
    work: &[Work],
    subjects: &[Option<B256>],
) -> Result<Vec<(&'static str, usize)>, String> {
    let gov = net.gov.provider(keys::DEPLOYER);
    let mut out = Vec::new();
    for (w, s) in work.iter().zip(subjects) {
        let Some(s) = s else {
            out.push(("never submitted", 1));
            continue;
        };
        let kind = match w {
            Work::Transfer { .. } => match TxState::try_from(tx_state(gov, tm, *s).await?) {
                Ok(TxState::Committed) => "2PC committed",
                Ok(TxState::Aborted) => "2PC aborted",
                _ => "2PC unfinished",
            },
            Work::Swap { .. } => {
                let r = swap_state(gov, tm, *s).await?;
                match (SwapState::try_from(r.state), LegState::try_from(r.legA)) {
                    (Ok(SwapState::Closed), Ok(LegState::Unlocked)) => {
                        "swap closed, both legs paid"
                    }
                    (Ok(SwapState::Closed), _) => "swap closed, refunded or void",
                    (Ok(SwapState::Expired), _) => "swap expired before acceptance",
                    _ => "swap unfinished",
                }
            }
        };
        out.push((kind, 1));
    }
    Ok(out)
}

/// Balances and supplies before the trial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// `[alice, bob]` on ledger A, ledger B, asset A, asset B.
    balances: [[U256; 2]; 4],
    /// Supplies of ledger A, ledger B, asset A, asset B.
    supplies: [U256; 4],
}

impl Snapshot {
    /// Reads them.
    pub async fn take(net: &LocalConsortium) -> Result<Snapshot, String> {
        let (alice, bob) = (net.address(keys::ALICE), net.address(keys::BOB));
        let mut balances = [[U256::ZERO; 2]; 4];
        let mut supplies = [U256::ZERO; 4];
        for (i, chain) in [&net.a, &net.b].into_iter().enumerate() {
            let xa = chain.xa(keys::DEPLOYER);
            let htlc = chain.htlc(keys::DEPLOYER);
            for (j, who) in [alice, bob].into_iter().enumerate() {
                balances[i][j] = xa.balanceOf(who).call().await.map_err(err)?;
                balances[2 + i][j] = htlc.balanceOf(who).call().await.map_err(err)?;
            }
            supplies[i] = xa.totalSupply().call().await.map_err(err)?;
            supplies[2 + i] = htlc.totalSupply().call().await.map_err(err)?;
        }
        Ok(Snapshot { balances, supplies })
    }
}

const CONTRACTS: [&str; 4] = ["ledger A", "ledger B", "asset A", "asset B"];

/// Every invariant; returns the violations.
pub async fn invariants(
    net: &LocalConsortium,
    before: &Snapshot,
    work: &[Work],
    subjects: &[Option<B256>],
) -> Result<Vec<String>, String> {
    let gov = net.gov.provider(keys::DEPLOYER);
    let tm = net.deployment.transaction_manager.address;
    let mut violations = Vec::new();
    // Expected signed deltas, [contract][alice, bob].
    let mut delta = [[0i128; 2]; 4];
    for (i, (w, s)) in work.iter().zip(subjects).enumerate() {
        let Some(s) = *s else { continue };
        match *w {
            Work::Transfer { direction, amount } => {
                let state = TxState::try_from(tx_state(gov, tm, s).await?).map_err(err)?;
                // Step 0 debits the payer on its chain, step 1 credits the payee on the other.
                let (payer_chain_a, payer) = match direction {
                    Direction::AliceToBob => (true, 0),
                    Direction::BobToAlice => (false, 1),
                };
                let ledger = |a: bool| if a { &net.a } else { &net.b };
                let debit = ledger(payer_chain_a)
                    .xa(keys::DEPLOYER)
                    .stateOf(s)
                    .call()
                    .await
                    .map_err(err)?;
                let credit = ledger(!payer_chain_a)
                    .xa(keys::DEPLOYER)
                    .stateOf(s)
                    .call()
                    .await
                    .map_err(err)?;
                let steps = [
                    XaTxState::try_from(debit).map_err(err)?,
                    XaTxState::try_from(credit).map_err(err)?,
                ];
                let ok = match state {
                    TxState::Committed => steps.iter().all(|s| *s == XaTxState::Committed),
                    TxState::Aborted => {
                        steps.iter().all(|s| matches!(s, XaTxState::None | XaTxState::RolledBack))
                    }
                    _ => false,
                };
                if !ok {
                    violations.push(format!(
                        "work {i} (tx {s}): coordinator says {state}, ledgers say {} / {}: not atomic",
                        steps[0], steps[1]
                    ));
                }
                if state == TxState::Committed {
                    let a = i128::from(amount);
                    let (debit_at, credit_at) = if payer_chain_a { (0, 1) } else { (1, 0) };
                    delta[debit_at][payer] -= a;
                    delta[credit_at][1 - payer] += a;
                }
            }
            Work::Swap { amount_a, amount_b } => {
                let r = swap_state(gov, tm, s).await?;
                let a = lock_state(net, true, s).await?;
                let b = lock_state(net, false, s).await?;
                let paid = a == HtlcLockState::Unlocked && b == HtlcLockState::Unlocked;
                let neither = a != HtlcLockState::Unlocked && b != HtlcLockState::Unlocked;
                if !(paid || neither) || a == HtlcLockState::Locked || b == HtlcLockState::Locked {
                    violations.push(format!(
                        "work {i} (swap {s}): leg A {}, leg B {} on the chains: not atomic",
                        a.name(),
                        b.name()
                    ));
                }
                for (leg, onchain, name) in [(r.legA, a, "A"), (r.legB, b, "B")] {
                    let recorded = LegState::try_from(leg).map_err(err)?;
                    let agrees = matches!(
                        (recorded, onchain),
                        (LegState::Locked, HtlcLockState::Locked)
                            | (LegState::Unlocked, HtlcLockState::Unlocked)
                            | (LegState::Refunded, HtlcLockState::Refunded)
                            | (LegState::Void | LegState::None, HtlcLockState::None)
                    );
                    if !agrees {
                        violations.push(format!(
                            "work {i} (swap {s}): governance records leg {name} {recorded}, its chain says {}",
                            onchain.name()
                        ));
                    }
                }
                if paid {
                    delta[2][0] -= i128::from(amount_a);
                    delta[2][1] += i128::from(amount_a);
                    delta[3][1] -= i128::from(amount_b);
                    delta[3][0] += i128::from(amount_b);
                }
            }
        }
    }
    let after = Snapshot::take(net).await?;
    for (c, name) in CONTRACTS.iter().enumerate() {
        for (j, who) in ["alice", "bob"].iter().enumerate() {
            let expected = i128::try_from(before.balances[c][j]).map_err(err)? + delta[c][j];
            let found = i128::try_from(after.balances[c][j]).map_err(err)?;
            if expected != found {
                violations.push(format!(
                    "{name}: {who} holds {found}, the outcomes say {expected}: value not conserved"
                ));
            }
        }
    }
    let ledgers = |s: &Snapshot| s.supplies[0] + s.supplies[1];
    if ledgers(before) != ledgers(&after) {
        violations.push(format!(
            "the two ledgers' supply went from {} to {}: value created or destroyed across chains",
            ledgers(before),
            ledgers(&after)
        ));
    }
    for c in [2, 3] {
        if before.supplies[c] != after.supplies[c] {
            violations.push(format!("{} supply changed", CONTRACTS[c]));
        }
    }
    for (chain, name) in [(&net.a, "A"), (&net.b, "B")] {
        let xa = chain.xa(keys::DEPLOYER);
        let escrowed = xa.escrowed().call().await.map_err(err)?;
        let pending = xa.pendingCredits().call().await.map_err(err)?;
        let held = chain.htlc(keys::DEPLOYER).held().call().await.map_err(err)?;
        if !escrowed.is_zero() || !pending.is_zero() || !held.is_zero() {
            violations.push(format!(
                "chain {name}: {escrowed} escrowed, {pending} pending credits, {held} held after every transaction ended"
            ));
        }
    }
    violations.extend(audit(net, subjects).await?);
    Ok(violations)
}

/// The audit invariant: the whole trail verifies as a regulator checks it (the hash chain, every
/// record readable and from a writer entitled to what it covers), and every report of the
/// trial's subjects is covered.
async fn audit(net: &LocalConsortium, subjects: &[Option<B256>]) -> Result<Vec<String>, String> {
    let gov = net.gov.provider(keys::DEPLOYER);
    let facts = gather(gov, &net.deployment.trail_sources(), None, None).await.map_err(err)?;
    let report = check(&facts, Some(&net.regulator), true);
    let mut violations = Vec::new();
    if let Err(e) = &report.chain {
        violations.push(format!("audit hash chain: {e}"));
    }
    violations.extend(report.findings.iter().map(|f| format!("audit: {f}")));
    let ours: Vec<B256> = subjects.iter().flatten().copied().collect();
    for g in report.uncovered.iter().filter(|g| ours.contains(&g.subject)) {
        violations
            .push(format!("{}: governance report {} has no audit record", g.subject, g.event));
    }
    Ok(violations)
}
