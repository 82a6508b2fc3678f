//! One trial: a fresh copy of the local consortium, its schedule's work submitted at once through
//! the relayers, the faults injected as their points come, then the invariants checked.
//!
//! The relayers reach every node through an [`RpcProxy`]; the trial's own reads go to the nodes
//! directly. A trial ends when every transaction and swap is final. If that takes longer than
//! [`SETTLE`] after the last fault's recovery (a swap secret lost with a relayer's disk, say),
//! the clocks move past every deadline: the governance chain's and chain B's first (2PC deadlines,
//! swap acceptance, leg B's timelock), chain A's (leg A's timelock) once no revealed secret waits
//! to be used on chain A. The relayers then have [`GRACE`] to finish: anything still open is a
//! violation ("unfinished past deadline + grace").

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use crossgov_deploy::local::{LocalChain, LocalConsortium, keys};
use crossgov_relayer::IPath;
use crossgov_relayer::htlc::SwapSubmitError;
use crossgov_relayer::protocol::htlc::{LegId, Secret, hashlock_of};
use crossgov_relayer::protocol::{Leg, SwapRequest, TxRequest, XaOp, htlc_domain, tm_domain};
use crossgov_relayer::runtime::{Metrics, Relayer, RelayerHandle, SubmitError};
use crossgov_relayer::two_phase::{HookAction, ProtocolHook, ProtocolPoint};
use tokio::sync::mpsc;

use super::check;
use super::proxy::RpcProxy;
use super::schedule::{
    DEADLINE_SECS, Death, Direction, Fault, FaultKind, Node, Recovery, Schedule, Work,
};
use crate::cli::common::latest_block_time;

/// How long the trial waits for everything to finish, after the last recovery, before it moves
/// the clocks past every deadline.
pub const SETTLE: Duration = Duration::from_secs(5);
/// How long the relayers have to finish once every deadline has passed.
pub const GRACE: Duration = Duration::from_secs(30);
/// How far the governance chain's and chain B's clocks jump when the trial passes the deadlines.
/// Every deadline and timelock is at most `3 * DEADLINE_SECS` past the latest of the three clocks
/// at signing, and the schedule's clock jumps put at most `4 * 2 * DEADLINE_SECS` between them.
pub const PAST_LEG_B_SECS: u64 = 2 * 86_400;
/// How far chain A's clock jumps (after chain B's): past leg A's timelocks.
pub const PAST_LEG_A_SECS: u64 = 4 * 86_400;
/// How long a submission keeps retrying (its relayer may be down or its RPC failing).
const SUBMIT_BOUND: Duration = Duration::from_secs(60);
/// How often the trial looks at the chains.
const TICK: Duration = Duration::from_millis(50);

/// What one trial did and found.
#[derive(Debug, Clone, Default)]
pub struct TrialReport {
    /// The schedule's seed.
    pub seed: u64,
    /// Transfers and swaps run.
    pub transfers: usize,
    /// HTLC swaps run.
    pub swaps: usize,
    /// How each ended.
    pub outcomes: BTreeMap<&'static str, usize>,
    /// Faults injected, by kind (a fault whose point never came is not counted).
    pub faults: BTreeMap<&'static str, usize>,
    /// Relayer RPC requests through the proxies, and how many were failed or delayed.
    pub rpc_requests: u64,
    /// Requests dropped, answers lost, requests delayed.
    pub rpc_failed: u64,
    /// Relayer RPC calls by JSON-RPC method.
    pub rpc_by_method: BTreeMap<String, u64>,
    /// Whether the clocks had to be moved past the deadlines.
    pub deadline_passed: bool,
    /// Invariant violations (empty: the trial passed).
    pub violations: Vec<String>,
    /// Wall time.
    pub secs: f64,
}

/// The three relayer accounts a trial can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SlotSpec {
    name: &'static str,
    institution: u64,
    key: usize,
}

const SLOTS: [SlotSpec; 3] = [
    SlotSpec { name: "bank-a", institution: 1, key: keys::RELAYER_A },
    SlotSpec { name: "bank-a-2", institution: 1, key: keys::RELAYER_A2 },
    SlotSpec { name: "bank-b", institution: 2, key: keys::RELAYER_B },
];

/// What the relayers' hooks share with the trial.
struct Triggers {
    subjects: Mutex<HashMap<B256, usize>>,
    audits: Mutex<HashMap<B256, u8>>,
    faults: Mutex<Vec<(Fault, bool)>>,
    fired: mpsc::UnboundedSender<(usize, usize)>,
}

impl std::fmt::Debug for Triggers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Triggers").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn subject_of(p: &ProtocolPoint) -> Option<B256> {
    Some(match *p {
        ProtocolPoint::Begun { tx_id }
        | ProtocolPoint::Expired { tx_id }
        | ProtocolPoint::Prepared { tx_id, .. }
        | ProtocolPoint::Voted { tx_id, .. }
        | ProtocolPoint::Decided { tx_id, .. }
        | ProtocolPoint::Committed { tx_id, .. }
        | ProtocolPoint::RolledBack { tx_id, .. }
        | ProtocolPoint::Acked { tx_id, .. } => tx_id,
        ProtocolPoint::Audited { subject } => subject,
        ProtocolPoint::SwapProposed { swap_id }
        | ProtocolPoint::HtlcLocked { swap_id, .. }
        | ProtocolPoint::HtlcUnlocked { swap_id, .. } => swap_id,
        _ => return None,
    })
}

impl Triggers {
    /// Called by relayer `slot`'s hook: fires the faults waiting for this point; halts the
    /// relayer when one of them kills it here.
    fn on_point(&self, slot: usize, p: &ProtocolPoint) -> HookAction {
        let Some(subject) = subject_of(p) else { return HookAction::Continue };
        let Some(work) = lock(&self.subjects).get(&subject).copied() else {
            return HookAction::Continue;
        };
        let audits = if matches!(p, ProtocolPoint::Audited { .. }) {
            let mut audits = lock(&self.audits);
            let n = audits.entry(subject).or_insert(0);
            *n = n.saturating_add(1);
            *n
        } else {
            0
        };
        let mut action = HookAction::Continue;
        for (i, (fault, fired)) in lock(&self.faults).iter_mut().enumerate() {
            if *fired || fault.work != work || !fault.point.matches(p, audits) {
                continue;
            }
            *fired = true;
            if matches!(fault.kind, FaultKind::KillRelayer { death: Death::AtPoint, .. }) {
                action = HookAction::Halt;
            }
            let _ = self.fired.send((i, slot));
        }
        action
    }
}

/// Reads and signs for the trial; shared with the submitting tasks.
#[derive(Debug)]
struct Ctx {
    gov: DynProvider,
    chain_a: DynProvider,
    chain_b: DynProvider,
    tm: Address,
    tm_domain: alloy::sol_types::Eip712Domain,
    htlc_a: alloy::sol_types::Eip712Domain,
    htlc_b: alloy::sol_types::Eip712Domain,
    alice: alloy::signers::local::PrivateKeySigner,
    bob: alloy::signers::local::PrivateKeySigner,
    live: Mutex<[Option<RelayerHandle>; 3]>,
    triggers: Arc<Triggers>,
}

impl Ctx {
    fn live(&self, institution: u64) -> Option<RelayerHandle> {
        let live = lock(&self.live);
        SLOTS
            .iter()
            .zip(live.iter())
            .filter(|(s, _)| s.institution == institution)
            .find_map(|(_, h)| h.clone().filter(|h| !h.is_stopped()))
    }
}

fn path(s: &str) -> IPath {
    s.parse().unwrap_or_else(|e| unreachable!("{s}: {e}"))
}

/// A signed request, built once so that every retry submits the same txId / swapId (a retry
/// must never start a second transaction when the first one's answer was only lost).
enum Signed {
    Transfer {
        institution: u64,
        request: TxRequest,
        signature: Bytes,
    },
    Swap {
        request: Box<SwapRequest>,
        secret: B256,
        by_alice: Bytes,
        lock_a: Bytes,
        by_bob: Bytes,
        lock_b: Bytes,
    },
}

async fn sign(ctx: &Ctx, index: usize, work: Work) -> Result<(B256, Signed), String> {
    let signed = match work {
        Work::Transfer { direction, amount } => {
            let (payer, payee, from, to, institution) = match direction {
                Direction::AliceToBob => {
                    (&ctx.alice, &ctx.bob, "zoneA.chainA.ledger", "zoneB.chainB.ledger", 1)
                }
                Direction::BobToAlice => {
                    (&ctx.bob, &ctx.alice, "zoneB.chainB.ledger", "zoneA.chainA.ledger", 2)
                }
            };
            let deadline = latest_block_time(&ctx.gov).await? + DEADLINE_SECS;
            let request = TxRequest::builder(payer.address())
                .xa_step(&path(from), &XaOp::debit(payer.address(), U256::from(amount)))
                .xa_step(&path(to), &XaOp::credit(payee.address(), U256::from(amount)))
                .deadline(deadline)
                .build()
                .map_err(|e| e.to_string())?;
            let signature = request.sign(&ctx.tm_domain, payer).map_err(|e| e.to_string())?;
            (request.txId, Signed::Transfer { institution, request, signature })
        }
        Work::Swap { amount_a, amount_b } => {
            let (alice, bob) = (ctx.alice.address(), ctx.bob.address());
            // Timelocks are business-chain times that the governance chain also checks against
            // its own clock (leg B's is the acceptance deadline); a governance clock jump leaves
            // the clocks apart, so the user picks times valid on all of them.
            let now_gov = latest_block_time(&ctx.gov).await?;
            let now_a = latest_block_time(&ctx.chain_a).await?.max(now_gov);
            let now_b = latest_block_time(&ctx.chain_b).await?.max(now_gov);
            let secret = crossgov_relayer::protocol::random_b256();
            let request = SwapRequest::new(
                hashlock_of(&secret),
                Leg::new(
                    &path("zoneA.chainA.asset"),
                    alice,
                    bob,
                    U256::from(amount_a),
                    now_a + 3 * DEADLINE_SECS,
                ),
                Leg::new(
                    &path("zoneB.chainB.asset"),
                    bob,
                    alice,
                    U256::from(amount_b),
                    now_b + DEADLINE_SECS,
                ),
            );
            let err = |e: crossgov_relayer::protocol::SignError| e.to_string();
            let by_alice = request.sign(&ctx.tm_domain, &ctx.alice).map_err(err)?;
            let lock_a = request.lock(LegId::A).sign(&ctx.htlc_a, &ctx.alice).map_err(err)?;
            let by_bob = request.sign(&ctx.tm_domain, &ctx.bob).map_err(err)?;
            let lock_b = request.lock(LegId::B).sign(&ctx.htlc_b, &ctx.bob).map_err(err)?;
            (
                request.swapId,
                Signed::Swap {
                    request: Box::new(request),
                    secret,
                    by_alice,
                    lock_a,
                    by_bob,
                    lock_b,
                },
            )
        }
    };
    lock(&ctx.triggers.subjects).insert(signed.0, index);
    Ok(signed)
}

/// Submits work `index` until the governance chain has it (a swap: proposed and accepted, or
/// expired before acceptance); returns its subject (txId or swapId).
async fn submit(ctx: Arc<Ctx>, index: usize, work: Work) -> Result<B256, String> {
    let started = Instant::now();
    let mut signed = None;
    let mut last = String::new();
    while started.elapsed() < SUBMIT_BOUND {
        if signed.is_none() {
            match sign(&ctx, index, work).await {
                Ok(s) => signed = Some(s),
                Err(e) => last = e,
            }
        }
        if let Some((subject, s)) = &signed {
            match submit_once(&ctx, *subject, s).await {
                Ok(true) => return Ok(*subject),
                Ok(false) => {}
                Err(Attempt::Retry(e)) => last = e,
                Err(Attempt::Expired(e)) => {
                    // The governance clock jumped past the request's deadline before it could be
                    // sent: it can never be begun, so the user signs a new one.
                    lock(&ctx.triggers.subjects).remove(subject);
                    signed = None;
                    last = e;
                }
            }
        }
        tokio::time::sleep(TICK * 2).await;
    }
    Err(format!("work {index} not submitted within {SUBMIT_BOUND:?}: {last}"))
}

/// Why an attempt did not get the request on chain.
enum Attempt {
    /// Try again (no relayer, RPC failure, a refusal that may pass later).
    Retry(String),
    /// The request's deadline or timelocks are no longer valid at governance time.
    Expired(String),
}

impl From<&str> for Attempt {
    fn from(s: &str) -> Attempt {
        Attempt::Retry(s.to_owned())
    }
}

/// One attempt; `Ok(true)` once the governance chain has the request.
async fn submit_once(ctx: &Ctx, subject: B256, signed: &Signed) -> Result<bool, Attempt> {
    match signed {
        Signed::Transfer { institution, request, signature } => {
            if check::tx_state(&ctx.gov, ctx.tm, subject).await.is_ok_and(|s| s != 0) {
                return Ok(true);
            }
            let relayer = ctx.live(*institution).ok_or("no live relayer")?;
            match relayer.submit_transaction(request.clone(), signature.clone()).await {
                Ok(_) | Err(SubmitError::AlreadyExists(_)) => Ok(true),
                Err(e @ (SubmitError::Invalid(_) | SubmitError::BadDeadline { .. })) => {
                    Err(Attempt::Expired(e.to_string()))
                }
                Err(e) => Err(Attempt::Retry(e.to_string())),
            }
        }
        Signed::Swap { request, secret, by_alice, lock_a, by_bob, lock_b } => {
            let state =
                check::swap_state(&ctx.gov, ctx.tm, subject).await.map_err(Attempt::Retry)?;
            match state.state {
                // None: propose.
                0 => {
                    let relayer = ctx.live(1).ok_or("no live relayer of Bank A")?;
                    let secret = Some(Secret::from_bytes(*secret));
                    relayer
                        .propose_swap((**request).clone(), by_alice.clone(), lock_a.clone(), secret)
                        .await
                        .map_err(|e| match e {
                            SwapSubmitError::Invalid(_) => {
                                Attempt::Expired(format!("propose: {e}"))
                            }
                            e => Attempt::Retry(format!("propose: {e}")),
                        })?;
                    Ok(false)
                }
                // Proposed: accept.
                1 => {
                    let relayer = ctx.live(2).ok_or("no live relayer of Bank B")?;
                    relayer
                        .accept_swap(subject, by_bob.clone(), lock_b.clone())
                        .await
                        .map_err(|e| Attempt::Retry(format!("accept: {e}")))?;
                    Ok(true)
                }
                // Accepted or further, or expired.
                _ => Ok(true),
            }
        }
    }
}

/// Where a trial is.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Faults and recoveries; the work runs.
    Running,
    /// Governance and chain B past every deadline; chain A not yet.
    PastLegB { since: Instant },
    /// Every clock past every deadline; the relayers have until `until`.
    PastAll { until: Instant },
}

/// Something to do later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deferred {
    StartRelayer { slot: usize },
    StartNode(Node),
    Unstall(Node),
}

struct Running {
    net: LocalConsortium,
    proxies: BTreeMap<Node, RpcProxy>,
    ctx: Arc<Ctx>,
    generation: [u32; 3],
    deferred: Vec<(Instant, Deferred)>,
    stopped_nodes: Vec<Node>,
    /// Relayer restarts under way, by slot. A start waits for the chains it reaches (one may be
    /// down), so it runs beside the trial's loop: awaited there, it would hold back every other
    /// deferred action — a node "down for 300 ms" stayed down for the whole start's retries.
    starting: BTreeMap<usize, tokio::task::JoinHandle<Result<RelayerHandle, String>>>,
}

impl Running {
    fn chain_mut(&mut self, node: Node) -> &mut LocalChain {
        match node {
            Node::Governance => &mut self.net.gov,
            Node::ChainA => &mut self.net.a.chain,
            Node::ChainB => &mut self.net.b.chain,
        }
    }

    fn provider(&self, node: Node) -> &DynProvider {
        match node {
            Node::Governance => &self.ctx.gov,
            Node::ChainA => &self.ctx.chain_a,
            Node::ChainB => &self.ctx.chain_b,
        }
    }

    fn state_dir(&self, slot: usize) -> PathBuf {
        self.net.dir.join("state").join(format!("{}-{}", SLOTS[slot].name, self.generation[slot]))
    }

    async fn start_relayer(&mut self, slot: usize) -> Result<(), String> {
        let handle = self.start_relayer_task(slot).await?;
        lock(&self.ctx.live)[slot] = Some(handle);
        Ok(())
    }

    /// Starts relayer `slot` (not yet marked live).
    fn start_relayer_task(
        &self,
        slot: usize,
    ) -> impl Future<Output = Result<RelayerHandle, String>> + Send + 'static {
        let spec = SLOTS[slot];
        let (mut settings, mut htlc) =
            self.net.relayer_settings(spec.institution, self.state_dir(slot));
        let url = |node: Node| self.proxies[&node].url();
        settings.governance.rpc_url = url(Node::Governance);
        let (served, peer) = if spec.institution == 1 {
            (Node::ChainA, Node::ChainB)
        } else {
            (Node::ChainB, Node::ChainA)
        };
        for chain in &mut settings.chains {
            chain.rpc_url = url(served);
        }
        for p in &mut htlc.peers {
            p.rpc_url = url(peer);
        }
        let triggers = self.ctx.triggers.clone();
        let hook: ProtocolHook = Arc::new(move |p: &ProtocolPoint| triggers.on_point(slot, p));
        let signer = self.net.signers[spec.key].clone();
        async move {
            Relayer::start_with_htlc(settings, htlc, signer, Arc::new(Metrics::new()), Some(hook))
                .await
                .map_err(|e| format!("start relayer {}: {e}", spec.name))
        }
    }

    /// Whether relayer `slot` runs, starting it beside the loop if it does not: `false` until a
    /// start has succeeded.
    fn ensure_relayer(&mut self, slot: usize) -> bool {
        if self.running(slot) {
            return true;
        }
        match self.starting.remove(&slot) {
            Some(task) if task.is_finished() => {
                match futures_util::FutureExt::now_or_never(task) {
                    Some(Ok(Ok(handle))) => {
                        lock(&self.ctx.live)[slot] = Some(handle);
                        return true;
                    }
                    // A node may be down: then try again on a later tick.
                    failed => tracing::debug!(slot, ?failed, "relayer start failed"),
                }
            }
            Some(task) => {
                self.starting.insert(slot, task);
            }
            None => {
                self.starting.insert(slot, tokio::spawn(self.start_relayer_task(slot)));
            }
        }
        false
    }

    /// Stops every relayer, those still starting included.
    async fn stop_relayers(&mut self) {
        for (_, task) in std::mem::take(&mut self.starting) {
            if let Ok(Ok(handle)) = task.await {
                handle.abort();
            }
        }
        let handles: Vec<RelayerHandle> =
            lock(&self.ctx.live).iter_mut().filter_map(Option::take).collect();
        for h in handles {
            h.abort();
        }
    }

    fn running(&self, slot: usize) -> bool {
        lock(&self.ctx.live)[slot].as_ref().is_some_and(|h| !h.is_stopped())
    }

    /// Applies the immediate part of fault `fault` (reported by relayer `slot`).
    async fn inject(&mut self, fault: &Fault, slot: usize) -> Result<(), String> {
        let now = Instant::now();
        match fault.kind {
            FaultKind::KillRelayer { death, recovery, down } => {
                let handle = lock(&self.ctx.live)[slot].take();
                if let (Death::Soon, Some(h)) = (death, &handle) {
                    h.abort();
                }
                let institution = SLOTS[slot].institution;
                let other =
                    (0..SLOTS.len()).find(|&s| s != slot && SLOTS[s].institution == institution);
                let next = match (recovery, other) {
                    (Recovery::Takeover, Some(o)) if !self.running(o) => {
                        Deferred::StartRelayer { slot: o }
                    }
                    (Recovery::Takeover, Some(_)) => {
                        // The other relayer already runs: it takes over; this one stays down.
                        return Ok(());
                    }
                    (Recovery::FreshState, _) => {
                        // The disk is lost with the crash: whichever restart comes next, from
                        // this fault or another, finds an empty state directory.
                        self.generation[slot] += 1;
                        Deferred::StartRelayer { slot }
                    }
                    _ => Deferred::StartRelayer { slot },
                };
                self.deferred.push((now + down, next));
            }
            FaultKind::RestartNode { node, down } => {
                if !self.stopped_nodes.contains(&node) {
                    self.chain_mut(node).stop().await.map_err(|e| e.to_string())?;
                    self.stopped_nodes.push(node);
                }
                self.deferred.push((now + down, Deferred::StartNode(node)));
            }
            FaultKind::DropRpc { node, requests, lose_response } => {
                if lose_response {
                    self.proxies[&node].lose_next(requests);
                } else {
                    self.proxies[&node].drop_next(requests);
                }
            }
            FaultKind::DelayRpc { node, requests, delay } => {
                self.proxies[&node].delay_next(requests, delay);
            }
            FaultKind::StallMining { node, stall } => {
                if self.stopped_nodes.contains(&node) {
                    return Err(format!("{node} is down"));
                }
                let _: serde_json::Value = self
                    .provider(node)
                    .raw_request("evm_setAutomine".into(), [false])
                    .await
                    .map_err(|e| e.to_string())?;
                self.deferred.push((now + stall, Deferred::Unstall(node)));
            }
            FaultKind::JumpGovernanceTime { secs } => {
                if self.stopped_nodes.contains(&Node::Governance) {
                    return Err("the governance node is down".into());
                }
                advance(&self.ctx.gov, secs).await?;
            }
        }
        Ok(())
    }

    /// Runs what is due; returns an error only for what cannot be retried.
    async fn run_due(&mut self) -> Result<(), String> {
        let now = Instant::now();
        let mut later = Vec::new();
        for (at, action) in std::mem::take(&mut self.deferred) {
            if at > now {
                later.push((at, action));
                continue;
            }
            let done = match action {
                Deferred::StartNode(node) => {
                    // Another restart of the same node may still keep it down.
                    if later.iter().chain(&self.deferred).any(|(_, a)| *a == action) {
                        true
                    } else if self.stopped_nodes.contains(&node) {
                        self.chain_mut(node).restart().await.map_err(|e| e.to_string())?;
                        self.stopped_nodes.retain(|n| *n != node);
                        true
                    } else {
                        true
                    }
                }
                Deferred::Unstall(node) => {
                    // A node down now comes back automining anyway.
                    if self.stopped_nodes.contains(&node) {
                        true
                    } else {
                        let p = self.provider(node);
                        let on: Result<serde_json::Value, _> =
                            p.raw_request("evm_setAutomine".into(), [true]).await;
                        let mined: Result<serde_json::Value, _> =
                            p.raw_request("evm_mine".into(), Vec::<u64>::new()).await;
                        on.is_ok() && mined.is_ok()
                    }
                }
                Deferred::StartRelayer { slot } => self.ensure_relayer(slot),
            };
            if !done {
                later.push((now + TICK, action));
            }
        }
        later.extend(std::mem::take(&mut self.deferred));
        self.deferred = later;
        Ok(())
    }
}

async fn advance(provider: &DynProvider, secs: u64) -> Result<(), String> {
    let _: serde_json::Value =
        provider.raw_request("evm_increaseTime".into(), [secs]).await.map_err(|e| e.to_string())?;
    let _: serde_json::Value = provider
        .raw_request("evm_mine".into(), Vec::<u64>::new())
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Runs `schedule` on a copy of `template` loaded from `saved` (see
/// [`LocalConsortium::save_state`]), in `dir`.
pub async fn run(
    template: &LocalConsortium,
    saved: &Path,
    dir: &Path,
    schedule: &Schedule,
) -> Result<TrialReport, String> {
    let started = Instant::now();
    let net = template.load_state(saved, dir).map_err(|e| e.to_string())?;
    let mut proxies = BTreeMap::new();
    for (node, chain) in
        [(Node::Governance, &net.gov), (Node::ChainA, &net.a.chain), (Node::ChainB, &net.b.chain)]
    {
        proxies.insert(node, RpcProxy::start(chain.rpc_url()).await.map_err(|e| e.to_string())?);
    }
    let (fired_tx, mut fired_rx) = mpsc::unbounded_channel();
    let triggers = Arc::new(Triggers {
        subjects: Mutex::new(HashMap::new()),
        audits: Mutex::new(HashMap::new()),
        faults: Mutex::new(schedule.faults.iter().map(|f| (*f, false)).collect()),
        fired: fired_tx,
    });
    let d = &net.deployment;
    let ctx = Arc::new(Ctx {
        gov: net.gov.provider(keys::DEPLOYER).clone(),
        chain_a: net.a.chain.provider(keys::DEPLOYER).clone(),
        chain_b: net.b.chain.provider(keys::DEPLOYER).clone(),
        tm: d.transaction_manager.address,
        tm_domain: tm_domain(d.chain_id, d.transaction_manager.address),
        htlc_a: htlc_domain(net.a.resources.chain_id, net.a.resources.htlc_asset.address),
        htlc_b: htlc_domain(net.b.resources.chain_id, net.b.resources.htlc_asset.address),
        alice: net.signers[keys::ALICE].clone(),
        bob: net.signers[keys::BOB].clone(),
        live: Mutex::new([None, None, None]),
        triggers: triggers.clone(),
    });
    let before = check::Snapshot::take(&net).await?;
    let mut run = Running {
        net,
        proxies,
        ctx: ctx.clone(),
        generation: [0; 3],
        deferred: Vec::new(),
        stopped_nodes: Vec::new(),
        starting: BTreeMap::new(),
    };
    run.start_relayer(0).await?;
    run.start_relayer(2).await?;
    if schedule.second_relayer_a {
        run.start_relayer(1).await?;
    }
    let submissions: Vec<_> = schedule
        .work
        .iter()
        .enumerate()
        .map(|(i, w)| tokio::spawn(submit(ctx.clone(), i, *w)))
        .collect();

    let mut report = TrialReport {
        seed: schedule.seed,
        transfers: schedule.work.iter().filter(|w| matches!(w, Work::Transfer { .. })).count(),
        swaps: schedule.work.iter().filter(|w| matches!(w, Work::Swap { .. })).count(),
        ..TrialReport::default()
    };
    let mut subjects: Vec<Option<B256>> = vec![None; schedule.work.len()];
    let mut pending_submissions: Vec<_> = submissions.into_iter().enumerate().collect();
    let mut quiet_since = Instant::now();
    let mut phase = Phase::Running;
    loop {
        tokio::select! {
            Some((fault, slot)) = fired_rx.recv() => {
                let f = schedule.faults[fault];
                match run.inject(&f, slot).await {
                    Ok(()) => *report.faults.entry(f.kind.label()).or_insert(0) += 1,
                    Err(e) => tracing::debug!(fault = %f.kind, "not injected: {e}"),
                }
                quiet_since = Instant::now();
            }
            () = tokio::time::sleep(TICK) => {}
        }
        run.run_due().await?;
        if !run.deferred.is_empty() {
            quiet_since = Instant::now();
        }
        // Collect finished submissions.
        let mut still = Vec::new();
        for (i, task) in pending_submissions {
            if task.is_finished() {
                match task.await {
                    Ok(Ok(subject)) => subjects[i] = Some(subject),
                    Ok(Err(e)) => report.violations.push(e),
                    Err(e) => report.violations.push(format!("work {i}: submission task: {e}")),
                }
            } else {
                still.push((i, task));
            }
        }
        pending_submissions = still;
        if !pending_submissions.is_empty() {
            continue;
        }
        let open = check::open_work(&ctx.gov, ctx.tm, &schedule.work, &subjects).await;
        if open.is_empty() && run.deferred.is_empty() {
            break;
        }
        match phase {
            Phase::Running if quiet_since.elapsed() > SETTLE && run.deferred.is_empty() => {
                // Everything recovered and still open. Move the governance chain and chain B
                // past the 2PC deadlines, the acceptance time and leg B's timelock first.
                report.deadline_passed = true;
                advance(run.provider(Node::Governance), PAST_LEG_B_SECS).await?;
                advance(run.provider(Node::ChainB), PAST_LEG_B_SECS).await?;
                phase = Phase::PastLegB { since: Instant::now() };
            }
            Phase::PastLegB { since } => {
                // Chain A's clock moves past leg A's timelock only once no revealed secret
                // waits to be used there: the 2 h between the timelocks are the relayers' time
                // to unlock A, and GRACE is what this trial gives them.
                let waiting = check::revealed_but_locked(&run.net, &schedule.work, &subjects).await;
                if waiting.is_empty() || since.elapsed() > GRACE {
                    report.violations.extend(waiting);
                    advance(run.provider(Node::ChainA), PAST_LEG_A_SECS).await?;
                    phase = Phase::PastAll { until: Instant::now() + GRACE };
                }
            }
            Phase::PastAll { until } if Instant::now() > until => {
                for i in open {
                    report.violations.push(format!(
                        "work {i} ({}) unfinished past deadline + grace",
                        subjects[i].map_or_else(|| "never submitted".into(), |s| s.to_string())
                    ));
                }
                break;
            }
            _ => {}
        }
    }
    // Stop the relayers before reading the final state.
    run.stop_relayers().await;
    for (kind, n) in check::outcomes(&run.net, ctx.tm, &schedule.work, &subjects).await? {
        *report.outcomes.entry(kind).or_insert(0) += n;
    }
    report
        .violations
        .extend(check::invariants(&run.net, &before, &schedule.work, &subjects).await?);
    for proxy in run.proxies.values() {
        use std::sync::atomic::Ordering::Relaxed;
        let s = proxy.stats();
        report.rpc_requests += s.requests.load(Relaxed);
        report.rpc_failed += s.dropped.load(Relaxed) + s.lost.load(Relaxed);
        for (method, n) in s.by_method() {
            *report.rpc_by_method.entry(method).or_insert(0) += n;
        }
    }
    report.secs = started.elapsed().as_secs_f64();
    Ok(report)
}
