//! The relayer's HTLC engine: every HTLC decision the Rust side makes lives here.
//!
//! Like the 2PC [`Engine`](crate::two_phase::Engine) it works from on-chain state: for each served
//! chain key it pages through the TransactionManager's `openSwaps`, reads `swap(id)`, fetches the
//! request from the `SwapProposed` log at `proposedBlock` (checking its EIP-712 digest against the
//! stored `digest`), compares each served leg with the HtlcAsset's `lockOf(lockId)` and performs
//! the next missing action. Timelocks are compared with each business chain's latest block
//! timestamp, never the wall clock.
//!
//! | governance                   | asset (`lockOf`)       | action                                   |
//! |------------------------------|------------------------|------------------------------------------|
//! | Proposed, gov time ≥ TB      | –                      | `expireSwap`                             |
//! | leg None                     | Locked/Unlocked/Refunded | `recordLegLocked` (crash after lock)   |
//! | leg None, chain time ≥ T     | None                   | `recordLegVoid`                          |
//! | A None, time + margin < TA   | None                   | `lock` (sender's Lock sig), record       |
//! | B None, A Locked, time + margin < TB | None           | `lock` (sender's Lock sig), record       |
//! | leg Locked                   | Unlocked               | `recordLegUnlocked` (secret from lockOf) |
//! | leg Locked                   | Refunded               | `recordLegRefunded`                      |
//! | leg Locked, time ≥ T         | Locked                 | `timeout`, `recordLegRefunded`           |
//! | leg Locked, secret revealed  | Locked                 | `unlock`, `recordLegUnlocked`            |
//! | B Locked, secret in store    | Locked (chain B)       | `unlock` B (initiator's relayer)         |
//!
//! The secret is revealed first on chain B by the initiator's relayer (which needs an RPC
//! connection to chain B: a served chain or an [`HtlcSettings::peers`] entry); any relayer serving
//! A then learns it from the governance record (or chain B's `lockOf`) and unlocks A.

pub mod api;
pub mod store;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};

use alloy::primitives::{Address, B256, Bytes, Signature};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::{SolCall, SolEvent};

use crate::audit::{
    Audited, Auditor, CoverKey, CoverKind, Interface, Operation, Protocol, ReportError, Subject,
};
use crate::bindings::htlc_asset::HtlcAsset::{self, HtlcAssetErrors as HtlcErr};
use crate::bindings::transaction_manager::ITransactionManager::Swap;
use crate::bindings::transaction_manager::TransactionManager::{
    self as tm, TransactionManagerErrors as TmErr,
};
use crate::bindings::{HtlcLockState, LegState, SwapState};
use crate::chain::{ChainClient, ChainError};
use crate::errors::ContractRevert;
use crate::metrics::{ActionResult, Metrics};
use crate::protocol::Lock;
use crate::protocol::htlc::{LegId, SwapRequestError};
use crate::protocol::{Secret, SwapRequest, htlc_domain, tm_domain};
use crate::two_phase::{EngineError, HookAction, ProtocolHook, ProtocolPoint, SentTx};
pub use store::{GenerateError, SecretStore, SwapRecord};

/// HTLC settings of a relayer.
#[derive(Debug, Clone)]
pub struct HtlcSettings {
    /// A leg is locked only while its chain's time + this margin is before its timelock.
    pub safety_margin: u64,
    /// Business chains the relayer does not serve but may call permissionless functions on
    /// (`unlock` of leg B by the initiator's relayer).
    pub peers: Vec<PeerChain>,
    /// Generated secrets waiting for their proposal, at most (`POST /v1/swaps/secrets` answers
    /// 503 beyond).
    pub max_pending_secrets: usize,
    /// A generated secret no proposal used within this is deleted.
    pub pending_secret_ttl: std::time::Duration,
}

/// Default [`HtlcSettings::max_pending_secrets`].
pub const DEFAULT_MAX_PENDING_SECRETS: usize = 1024;
/// Default [`HtlcSettings::pending_secret_ttl`]: an hour.
pub const DEFAULT_PENDING_SECRET_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

impl Default for HtlcSettings {
    fn default() -> Self {
        HtlcSettings {
            safety_margin: 120,
            peers: Vec::new(),
            max_pending_secrets: DEFAULT_MAX_PENDING_SECRETS,
            pending_secret_ttl: DEFAULT_PENDING_SECRET_TTL,
        }
    }
}

/// A business chain reached only for permissionless HtlcAsset calls.
#[derive(Debug, Clone)]
pub struct PeerChain {
    /// `keccak256(abi.encode(zone, chain))`.
    pub chain_key: B256,
    /// `zone.chain`, for logs.
    pub name: String,
    /// HTTP endpoint.
    pub rpc_url: url::Url,
    /// Confirmation depth.
    pub confirmations: u64,
    /// HtlcAsset address by resource segment word.
    pub assets: BTreeMap<B256, Address>,
    /// Node timeouts.
    pub options: crate::chain::ChainOptions,
}

/// A business chain the HTLC engine reaches.
#[derive(Debug, Clone)]
pub struct HtlcChain {
    /// `keccak256(abi.encode(zone, chain))`.
    pub chain_key: B256,
    /// `zone.chain`.
    pub name: String,
    /// The connection.
    pub client: Arc<ChainClient>,
    /// HtlcAsset address by resource segment word.
    pub assets: BTreeMap<B256, Address>,
    /// Whether this relayer serves the chain (may record its legs).
    pub served: bool,
}

/// A swap proposal or acceptance was refused; nothing was sent unless `Chain` says so.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SwapSubmitError {
    /// The request is malformed or its timelocks are out of bounds (checked locally).
    #[error("invalid swap request: {0}")]
    Invalid(#[from] SwapRequestError),
    /// The secret does not open the request's hashlock.
    #[error("the secret does not open hashlock {hashlock}")]
    WrongSecret {
        /// The request's hashlock.
        hashlock: B256,
    },
    /// No secret was given and none was generated for this hashlock.
    #[error("no secret for hashlock {hashlock}: supply one or generate it first")]
    NoSecret {
        /// The request's hashlock.
        hashlock: B256,
    },
    /// The governance chain does not know the swap.
    #[error("unknown swap {0}")]
    UnknownSwap(B256),
    /// The leg's `Lock` signature does not come from the leg's sender.
    #[error("leg {leg}: the Lock signature is not by the sender {sender}")]
    BadLockSignature {
        /// The leg.
        leg: LegId,
        /// The leg's sender.
        sender: Address,
    },
    /// This relayer cannot check (or later use) the leg's Lock signature.
    #[error("leg {leg}: this relayer does not serve the leg's chain or resource")]
    LegNotServed {
        /// The leg.
        leg: LegId,
    },
    /// The state directory could not be written.
    #[error("cannot persist the swap: {0}")]
    Store(std::io::Error),
    /// As many generated secrets wait for their proposal as allowed.
    #[error("{max} generated secrets already wait for their proposal: try again later")]
    TooManySecrets {
        /// The cap.
        max: usize,
    },
    /// The TransactionManager refused (pre-flight).
    #[error("refused: {0}")]
    Refused(Box<ContractRevert>),
    /// The governance chain could not be reached or the transaction failed.
    #[error(transparent)]
    Chain(Box<ChainError>),
    /// The audit record that precedes the governance transaction could not be written; the
    /// transaction was not sent.
    #[error("audit record not written, nothing sent: {0}")]
    Audit(Box<crate::audit::AuditError>),
    /// The relayer carries as much open work as it takes; nothing was checked or sent.
    #[error(transparent)]
    Busy(crate::runtime::Busy),
}

impl SwapSubmitError {
    fn from_chain(err: ChainError) -> SwapSubmitError {
        match err {
            ChainError::Reverted { revert, .. } => SwapSubmitError::Refused(Box::new(revert)),
            other => SwapSubmitError::Chain(Box::new(other)),
        }
    }
}

/// One leg as the relayer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegStatus {
    /// Which leg.
    pub leg: LegId,
    /// The governance record.
    pub state: LegState,
    /// The leg's timelock (its chain's time).
    pub timelock: u64,
    /// The HtlcAsset's state, when this relayer reaches the leg's chain.
    pub lock_state: Option<HtlcLockState>,
}

/// A swap as read from the chains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapStatus {
    /// The swap.
    pub swap_id: B256,
    /// Governance state.
    pub state: SwapState,
    /// Leg A's sender.
    pub initiator: Address,
    /// Leg B's sender.
    pub counterparty: Address,
    /// `sha256(secret)`.
    pub hashlock: B256,
    /// The secret, once revealed on the governance chain (never an unrevealed one).
    pub revealed_secret: Option<B256>,
    /// Both legs.
    pub legs: [LegStatus; 2],
    /// Transactions this relayer sent for the swap (since it started).
    pub sent: Vec<SentTx>,
}

/// What a proposal returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proposed {
    /// The swap.
    pub swap_id: B256,
    /// The `proposeSwap` transaction.
    pub tx_hash: B256,
}

/// The HTLC engine of one relayer.
pub struct HtlcEngine {
    gov: Arc<ChainClient>,
    tm: Address,
    chains: Vec<HtlcChain>,
    settings: HtlcSettings,
    store: SecretStore,
    hook: Option<ProtocolHook>,
    metrics: Arc<Metrics>,
    auditor: Arc<Auditor>,
    requests: Mutex<HashMap<B256, Arc<SwapRequest>>>,
    sent: Mutex<HashMap<B256, Vec<SentTx>>>,
    drives: crate::two_phase::Drives,
}

impl fmt::Debug for HtlcEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HtlcEngine")
            .field("tm", &self.tm)
            .field("chains", &self.chains)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn evidence(hash: B256) -> Bytes {
    Bytes::copy_from_slice(hash.as_slice())
}

/// Refusals meaning another relayer (or an earlier run) already did it.
fn is_already_done(err: &ChainError) -> bool {
    matches!(
        err.revert(),
        Some(
            ContractRevert::TransactionManager(
                TmErr::SwapLegState(_) | TmErr::SwapNotInProgress(_) | TmErr::SwapNotExpirable(_)
            ) | ContractRevert::HtlcAsset(HtlcErr::HtlcSwapExists(_) | HtlcErr::HtlcNotLocked(_))
        )
    )
}

/// What one step of a leg did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    Idle,
    Acted,
}

impl crate::two_phase::Driven for HtlcEngine {
    fn drive(&self, id: B256) -> impl Future<Output = Result<(), EngineError>> + Send {
        HtlcEngine::drive(self, id)
    }
}

impl HtlcEngine {
    /// An engine driving legs on `chains` (served ones, and peers for permissionless calls).
    #[allow(clippy::too_many_arguments)] // the engine's collaborators, each used as is
    pub fn new(
        gov: Arc<ChainClient>,
        tm: Address,
        chains: Vec<HtlcChain>,
        settings: HtlcSettings,
        store: SecretStore,
        hook: Option<ProtocolHook>,
        metrics: Arc<Metrics>,
        auditor: Arc<Auditor>,
    ) -> Self {
        HtlcEngine {
            gov,
            tm,
            chains,
            settings,
            store,
            hook,
            metrics,
            auditor,
            requests: Mutex::new(HashMap::new()),
            sent: Mutex::new(HashMap::new()),
            drives: crate::two_phase::Drives::default(),
        }
    }

    /// The secret store.
    pub fn store(&self) -> &SecretStore {
        &self.store
    }

    fn checkpoint(&self, point: ProtocolPoint) -> Result<(), EngineError> {
        match &self.hook {
            Some(hook) if hook(&point) == HookAction::Halt => Err(EngineError::Halted(point)),
            _ => Ok(()),
        }
    }

    fn record(&self, swap_id: B256, action: &'static str, leg: Option<u8>, chain: &str, h: B256) {
        let sent = SentTx { action, step: leg, chain: chain.to_owned(), tx_hash: h };
        lock(&self.sent).entry(swap_id).or_default().push(sent);
    }

    /// The audit subject of a swap.
    fn subject(swap_id: B256, s: &Swap) -> Subject {
        Subject {
            id: swap_id,
            protocol: Protocol::Htlc,
            initiator: s.initiator,
            initiator_institution: 0,
            counterparty: s.counterparty,
            chain_keys: vec![s.chainKeyA, s.chainKeyB],
            from_block: s.proposedBlock.to::<u64>(),
        }
    }

    /// Makes sure `ops`, which no governance report carries (the secret revealed, on-chain state
    /// refused), and every earlier event of the swap are audited in a record of their own.
    async fn audit(&self, swap_id: B256, s: &Swap, ops: Vec<Operation>) -> Result<(), EngineError> {
        if let Audited::Written { .. } =
            self.auditor.ensure(&Self::subject(swap_id, s), ops).await?
        {
            self.checkpoint(ProtocolPoint::Audited { subject: swap_id })?;
        }
        Ok(())
    }

    /// The audit operation of a leg's asset action on its chain.
    fn leg_operation(
        &self,
        request: &SwapRequest,
        leg: LegId,
        covers: CoverKey,
        interface: Interface,
    ) -> Operation {
        let l = request.leg(leg);
        let chain = self
            .chain(crate::two_phase::chain_key_words(l.zone, l.chain))
            .map(|c| c.name.clone())
            .unwrap_or_default();
        let arguments = serde_json::json!({
            "leg": leg.index(), "sender": l.sender, "recipient": l.recipient,
            "amount": l.amount.to_string(), "hashlock": request.hashlock, "timelock": l.timelock,
        });
        let path = l.path().ok().map(|p| p.to_string());
        Operation::business(covers, interface, &chain, path, arguments)
    }

    /// The governance leg record about to be sent.
    fn leg_record_pending(&self, covers: CoverKey, state: &str) -> Operation {
        let args = serde_json::json!({ "leg": covers.index, "state": state });
        let interface = if covers.kind == CoverKind::LegVoided {
            Interface::Void
        } else {
            Interface::RecordLeg
        };
        Operation::governance_pending(covers, interface, args, self.gov.address())
    }

    /// Transactions sent for `swap_id` since start.
    pub fn sent_for(&self, swap_id: B256) -> Vec<SentTx> {
        lock(&self.sent).get(&swap_id).cloned().unwrap_or_default()
    }

    fn chain(&self, key: B256) -> Option<&HtlcChain> {
        self.chains.iter().find(|c| c.chain_key == key)
    }

    fn served(&self, key: B256) -> Option<&HtlcChain> {
        self.chain(key).filter(|c| c.served)
    }

    fn asset_of(&self, request: &SwapRequest, leg: LegId) -> Option<(&HtlcChain, Address)> {
        let l = request.leg(leg);
        let chain = self.chain(crate::two_phase::chain_key_words(l.zone, l.chain))?;
        chain.assets.get(&l.resource).map(|a| (chain, *a))
    }

    /// Reads `swap(id)`.
    pub async fn swap(&self, swap_id: B256) -> Result<(Swap, SwapState), EngineError> {
        let tm_addr = self.tm;
        let s = self
            .gov
            .read("swap", |p| async move { tm::new(tm_addr, p).swap(swap_id).call().await })
            .await?;
        let state = SwapState::try_from(s.state)
            .map_err(|e| EngineError::Inconsistent { tx_id: swap_id, message: e.to_string() })?;
        Ok((s, state))
    }

    /// The request of a swap, from its `SwapProposed` log, checked against the stored digest.
    pub async fn request(&self, swap_id: B256, s: &Swap) -> Result<Arc<SwapRequest>, EngineError> {
        if let Some(r) = lock(&self.requests).get(&swap_id) {
            return Ok(r.clone());
        }
        let block = s.proposedBlock.to::<u64>();
        let filter = Filter::new()
            .address(self.tm)
            .event_signature(tm::SwapProposed::SIGNATURE_HASH)
            .topic1(swap_id)
            .from_block(block)
            .to_block(block);
        let logs =
            self.gov
                .read("SwapProposed log", |p| {
                    let filter = filter.clone();
                    async move {
                        p.get_logs(&filter).await.map_err(alloy::contract::Error::TransportError)
                    }
                })
                .await?;
        let inconsistent = |message: String| EngineError::Inconsistent { tx_id: swap_id, message };
        let log = logs
            .iter()
            .find(|l| l.address() == self.tm)
            .ok_or_else(|| inconsistent(format!("no SwapProposed log at block {block}")))?;
        let proposed = tm::SwapProposed::decode_log_data(log.data())
            .map_err(|e| inconsistent(format!("bad SwapProposed log: {e}")))?;
        let request = proposed.request;
        let domain = tm_domain(self.gov.chain_id(), self.tm);
        if request.swapId != swap_id || request.signing_hash(&domain) != s.digest {
            return Err(inconsistent("the SwapProposed request does not match the digest".into()));
        }
        let request = Arc::new(request);
        lock(&self.requests).insert(swap_id, request.clone());
        Ok(request)
    }

    /// Checks a leg's `Lock` signature against the leg's HtlcAsset domain (a served chain).
    fn check_lock_signature(
        &self,
        request: &SwapRequest,
        leg: LegId,
        signature: &Bytes,
    ) -> Result<(), SwapSubmitError> {
        let (chain, asset) = self
            .asset_of(request, leg)
            .filter(|(c, _)| c.served)
            .ok_or(SwapSubmitError::LegNotServed { leg })?;
        let sender = request.leg(leg).sender;
        let digest = request.lock(leg).signing_hash(&htlc_domain(chain.client.chain_id(), asset));
        let recovered = Signature::try_from(signature.as_ref())
            .ok()
            .and_then(|s| s.recover_address_from_prehash(&digest).ok());
        if recovered == Some(sender) {
            Ok(())
        } else {
            Err(SwapSubmitError::BadLockSignature { leg, sender })
        }
    }

    /// Keeps a fresh secret until a proposal with its hashlock arrives; returns the hashlock.
    pub fn generate_secret(&self) -> Result<B256, SwapSubmitError> {
        self.store.generate(unix_now()).map_err(|e| match e {
            GenerateError::Full { max } => SwapSubmitError::TooManySecrets { max },
            GenerateError::Io(e) => SwapSubmitError::Store(e),
        })
    }

    /// Checks and persists a proposal (secret + leg A's Lock signature), then sends `proposeSwap`.
    pub async fn propose(
        &self,
        request: SwapRequest,
        initiator_signature: Bytes,
        lock_signature_a: Bytes,
        secret: Option<Secret>,
    ) -> Result<Proposed, SwapSubmitError> {
        request.validate()?;
        let now = self.gov.now().await.map_err(SwapSubmitError::from_chain)?;
        request.check_timelocks(now)?;
        let hashlock = request.hashlock;
        let secret = match secret {
            Some(s) if s.opens(&hashlock) => s,
            Some(_) => return Err(SwapSubmitError::WrongSecret { hashlock }),
            None => self.store.pending(hashlock).ok_or(SwapSubmitError::NoSecret { hashlock })?,
        };
        self.check_lock_signature(&request, LegId::A, &lock_signature_a)?;
        let swap_id = request.swapId;
        let call = tm::proposeSwapCall {
            request: request.clone(),
            initiatorSignature: initiator_signature,
        };
        // Pre-flight first so a refused proposal leaves nothing behind.
        self.auditor.preflight(swap_id, &call).await.map_err(SwapSubmitError::from_chain)?;
        // Persisted BEFORE proposing: a crash after the proposal keeps the secret.
        let existing = self.store.load(swap_id);
        self.store
            .save(
                swap_id,
                &SwapRecord {
                    secret: Some(secret),
                    lock_sig_a: Some(lock_signature_a),
                    lock_sig_b: existing.lock_sig_b,
                },
            )
            .map_err(SwapSubmitError::Store)?;
        self.store.drop_pending(hashlock);
        let args = serde_json::json!({
            "hashlock": request.hashlock,
            "legs": LegId::ALL.map(|leg| {
                let l = request.leg(leg);
                serde_json::json!({
                    "path": l.path().map(|p| p.to_string()).unwrap_or_default(),
                    "sender": l.sender, "recipient": l.recipient,
                    "amount": l.amount.to_string(), "timelock": l.timelock,
                })
            }),
        });
        let head = self.gov.head().await.map_err(SwapSubmitError::from_chain)?;
        let subject = Subject {
            id: swap_id,
            protocol: Protocol::Htlc,
            initiator: request.leg(LegId::A).sender,
            initiator_institution: 0,
            counterparty: request.leg(LegId::B).sender,
            chain_keys: LegId::ALL
                .iter()
                .map(|l| {
                    crate::two_phase::chain_key_words(request.leg(*l).zone, request.leg(*l).chain)
                })
                .collect(),
            from_block: head,
        };
        let covers = CoverKey::new(CoverKind::SwapProposed, 0);
        let op =
            Operation::governance_pending(covers, Interface::Propose, args, self.gov.address());
        let hash = self
            .auditor
            .report(&subject, vec![op], &call, is_already_done)
            .await
            .map_err(report_to_submit)?;
        let gov_name = self.gov.name().to_owned();
        let sent = SentTx { action: "proposeSwap", step: None, chain: gov_name, tx_hash: hash };
        lock(&self.sent).entry(swap_id).or_default().insert(0, sent);
        lock(&self.requests).insert(swap_id, Arc::new(request));
        Ok(Proposed { swap_id, tx_hash: hash })
    }

    /// Checks and persists leg B's Lock signature, then sends `acceptSwap`.
    pub async fn accept(
        &self,
        swap_id: B256,
        counterparty_signature: Bytes,
        lock_signature_b: Bytes,
    ) -> Result<B256, SwapSubmitError> {
        let (s, state) = self.swap(swap_id).await.map_err(engine_to_submit)?;
        if state == SwapState::None {
            return Err(SwapSubmitError::UnknownSwap(swap_id));
        }
        let request = self.request(swap_id, &s).await.map_err(engine_to_submit)?;
        self.check_lock_signature(&request, LegId::B, &lock_signature_b)?;
        let call =
            tm::acceptSwapCall { swapId: swap_id, counterpartySignature: counterparty_signature };
        self.auditor.preflight(swap_id, &call).await.map_err(SwapSubmitError::from_chain)?;
        self.store
            .update(swap_id, |r| r.lock_sig_b = Some(lock_signature_b))
            .map_err(SwapSubmitError::Store)?;
        let covers = CoverKey::new(CoverKind::SwapAccepted, 0);
        let op = Operation::governance_pending(
            covers,
            Interface::Accept,
            serde_json::json!({}),
            self.gov.address(),
        );
        let subject = Self::subject(swap_id, &s);
        let hash = self
            .auditor
            .report(&subject, vec![op], &call, is_already_done)
            .await
            .map_err(report_to_submit)?;
        let gov_name = self.gov.name().to_owned();
        self.record(swap_id, "acceptSwap", None, &gov_name, hash);
        Ok(hash)
    }

    /// The swap's state, or `None` when the governance chain does not know it.
    pub async fn status(&self, swap_id: B256) -> Result<Option<SwapStatus>, EngineError> {
        let (s, state) = self.swap(swap_id).await?;
        if state == SwapState::None {
            return Ok(None);
        }
        let request = self.request(swap_id, &s).await.ok();
        let mut legs = Vec::new();
        for leg in LegId::ALL {
            let raw = if leg == LegId::A { s.legA } else { s.legB };
            let reached = request.as_deref().and_then(|r| Some((r, self.asset_of(r, leg)?)));
            let lock_state = match reached {
                Some((r, (chain, asset))) => {
                    Some(lock_of(chain, asset, r.lock(leg).id()).await?.state)
                }
                None => None,
            };
            legs.push(LegStatus {
                leg,
                state: LegState::try_from(raw).unwrap_or(LegState::None),
                timelock: if leg == LegId::A {
                    s.timelockA.to::<u64>()
                } else {
                    s.timelockB.to::<u64>()
                },
                lock_state,
            });
        }
        let [a, b]: [LegStatus; 2] = legs.try_into().map_err(|_| EngineError::Inconsistent {
            tx_id: swap_id,
            message: "two legs".into(),
        })?;
        Ok(Some(SwapStatus {
            swap_id,
            state,
            initiator: s.initiator,
            counterparty: s.counterparty,
            hashlock: s.hashlock,
            revealed_secret: (!s.secret.is_zero()).then_some(s.secret),
            legs: [a, b],
            sent: self.sent_for(swap_id),
        }))
    }

    /// One full pass over every open swap touching the served chains: a drive starts for each one
    /// not being driven. Returns the number of open swaps and the errors drives met since the
    /// last pass.
    pub async fn reconcile(self: &Arc<Self>) -> Result<(usize, Vec<(B256, String)>), EngineError> {
        let mut ids = BTreeSet::new();
        for chain in self.chains.iter().filter(|c| c.served) {
            let (tm_addr, key) = (self.tm, chain.chain_key);
            let page = self
                .gov
                .read_pages("openSwaps", |p, offset, limit| async move {
                    tm::new(tm_addr, p).openSwaps(key, offset, limit).call().await
                })
                .await?;
            ids.extend(page);
        }
        // Each open swap in its own drive (see `Drives`): one waiting holds up no other.
        let errors = self.drives.start_engine(self, ids.iter().copied())?;
        // Generated secrets no proposal used are deleted once expired.
        self.store.prune_pending(unix_now());
        // Records of swaps no longer open (closed or expired) are deleted.
        for swap_id in self.store.swap_ids() {
            if ids.contains(&swap_id) {
                continue;
            }
            let (_, state) = self.swap(swap_id).await?;
            if matches!(state, SwapState::Closed | SwapState::Expired) {
                self.store.remove(swap_id);
            }
        }
        Ok((ids.len(), errors))
    }

    /// The swaps being driven.
    pub fn drives(&self) -> &crate::two_phase::Drives {
        &self.drives
    }

    /// Drives one swap as far as this relayer can now.
    pub async fn drive(&self, swap_id: B256) -> Result<(), EngineError> {
        // Each round performs at most one action per leg; a few rounds finish what is possible.
        for _ in 0..8 {
            if self.drive_once(swap_id).await? == Progress::Idle {
                return Ok(());
            }
        }
        Ok(())
    }

    async fn drive_once(&self, swap_id: B256) -> Result<Progress, EngineError> {
        let (s, state) = self.swap(swap_id).await?;
        match state {
            SwapState::None => return Ok(Progress::Idle),
            SwapState::Closed | SwapState::Expired => {
                self.store.remove(swap_id);
                return Ok(Progress::Idle);
            }
            SwapState::Proposed => {
                if self.gov.now().await? >= s.timelockB.to::<u64>() {
                    let covers = CoverKey::new(CoverKind::SwapExpired, 0);
                    let args = serde_json::json!({ "timelockB": s.timelockB.to::<u64>() });
                    let op = Operation::governance_pending(
                        covers,
                        Interface::ExpireSwap,
                        args,
                        self.gov.address(),
                    );
                    let call = tm::expireSwapCall { swapId: swap_id };
                    match self
                        .auditor
                        .report(&Self::subject(swap_id, &s), vec![op], &call, is_already_done)
                        .await
                    {
                        Ok(hash) => {
                            let gov_name = self.gov.name().to_owned();
                            self.record(swap_id, "expireSwap", None, &gov_name, hash);
                            return Ok(Progress::Acted);
                        }
                        Err(err) if err.chain().is_some_and(is_already_done) => {
                            return Ok(Progress::Acted);
                        }
                        Err(err) => return Err(err.into()),
                    }
                }
                return Ok(Progress::Idle);
            }
            SwapState::Accepted => {}
        }
        if !s.secret.is_zero() {
            let _ = self.store.forget_secret(swap_id);
        }
        let request = self.request(swap_id, &s).await?;
        let mut progress = Progress::Idle;
        let mut first_error = None;
        for leg in LegId::ALL {
            match self.drive_leg(swap_id, &s, &request, leg).await {
                Ok(Progress::Acted) => {
                    progress = Progress::Acted;
                    // Re-read before touching the other leg.
                    break;
                }
                Ok(Progress::Idle) => {}
                Err(EngineError::Halted(p)) => return Err(EngineError::Halted(p)),
                Err(err) => {
                    tracing::warn!(%swap_id, %leg, %err, "leg not driven");
                    first_error.get_or_insert(err);
                }
            }
        }
        if progress == Progress::Idle {
            progress = self.reveal(swap_id, &s, &request).await?;
        }
        match first_error {
            Some(err) if progress == Progress::Idle => Err(err),
            _ => Ok(progress),
        }
    }

    /// The initiator's relayer unlocks leg B with the stored secret once B is locked on chain B
    /// under the terms the counterparty signed (checked on chain B itself: leg B's relayer is
    /// the counterparty's institution's, and its record alone is no proof).
    async fn reveal(
        &self,
        swap_id: B256,
        s: &Swap,
        request: &SwapRequest,
    ) -> Result<Progress, EngineError> {
        let Some(secret) = self.store.load(swap_id).secret else { return Ok(Progress::Idle) };
        if LegState::try_from(s.legB) != Ok(LegState::Locked) || !secret.opens(&s.hashlock) {
            return Ok(Progress::Idle);
        }
        // Leg A refunded (leg B recorded late): revealing now would pay the initiator twice.
        if LegState::try_from(s.legA) != Ok(LegState::Locked) {
            return Ok(Progress::Idle);
        }
        let Some((chain, asset)) = self.asset_of(request, LegId::B) else {
            tracing::warn!(%swap_id, "cannot reach leg B's chain to reveal the secret");
            return Ok(Progress::Idle);
        };
        let expected = request.lock(LegId::B);
        let found = lock_of(chain, asset, expected.id()).await?;
        match found.state {
            HtlcLockState::Locked => {}
            HtlcLockState::Unlocked => {
                let _ = self.store.forget_secret(swap_id);
                return Ok(Progress::Idle);
            }
            // Refunded at its timelock: over, and the secret stays private.
            HtlcLockState::Refunded => return Ok(Progress::Idle),
            HtlcLockState::None => {
                // Recorded locked, yet chain B holds no lock with the signed terms: the secret
                // stays here; leg A refunds at its timelock.
                let why = "leg B is recorded locked but chain B holds no lock with its terms";
                self.refuse_state(swap_id, s, request, LegId::B, "leg_not_locked", why.into())
                    .await?;
                return Ok(Progress::Idle);
            }
        }
        if let Some(diff) = lock_mismatch(&found, &expected) {
            self.refuse_state(swap_id, s, request, LegId::B, "lock_terms", diff).await?;
            return Ok(Progress::Idle);
        }
        if chain.client.now().await? >= s.timelockB.to::<u64>() {
            return Ok(Progress::Idle);
        }
        // Chain B's relayer reports the unlock (LegUnlocked); this record, the initiator's
        // institution's own, says who revealed the secret.
        let covers = CoverKey::new(CoverKind::SecretRevealed, 1);
        let op = self
            .leg_operation(request, LegId::B, covers, Interface::Unlock)
            .with_result("pending (revealing the secret)");
        self.audit(swap_id, s, vec![op]).await?;
        let data =
            HtlcAsset::unlockCall { lockId: expected.id(), secret: secret.reveal() }.abi_encode();
        if self.asset_send(swap_id, chain, asset, "unlock", 1, data).await?.is_some() {
            let _ = self.store.forget_secret(swap_id);
            self.checkpoint(ProtocolPoint::HtlcUnlocked { swap_id, leg: 1 })?;
        }
        Ok(Progress::Acted)
    }

    /// Logs, counts and audits on-chain state that contradicts what the parties signed; the
    /// relayer does not act on it.
    async fn refuse_state(
        &self,
        swap_id: B256,
        s: &Swap,
        request: &SwapRequest,
        leg: LegId,
        kind: &'static str,
        why: String,
    ) -> Result<(), EngineError> {
        tracing::warn!(%swap_id, %leg, kind, %why, "refusing on-chain state that contradicts the signed terms");
        self.metrics.refused_state(kind);
        let covers = CoverKey::new(CoverKind::RefusedState, leg.index());
        let op = self
            .leg_operation(request, leg, covers, Interface::RefuseState)
            .with_result(format!("refused: {why}"));
        self.audit(swap_id, s, vec![op]).await
    }

    async fn drive_leg(
        &self,
        swap_id: B256,
        s: &Swap,
        request: &SwapRequest,
        leg: LegId,
    ) -> Result<Progress, EngineError> {
        let l = request.leg(leg);
        let Some(chain) = self.served(crate::two_phase::chain_key_words(l.zone, l.chain)) else {
            return Ok(Progress::Idle);
        };
        let Some(asset) = chain.assets.get(&l.resource).copied() else {
            return Err(EngineError::Inconsistent {
                tx_id: swap_id,
                message: format!("leg {leg}: resource not configured on {}", chain.name),
            });
        };
        let raw = if leg == LegId::A { s.legA } else { s.legB };
        let recorded = LegState::try_from(raw).unwrap_or(LegState::None);
        if matches!(recorded, LegState::Unlocked | LegState::Refunded | LegState::Void) {
            return Ok(Progress::Idle);
        }
        let expected = request.lock(leg);
        let id = expected.id();
        let found = lock_of(chain, asset, id).await?;
        // Whatever an id holds is acted on only when every term is what the parties signed.
        if found.state != HtlcLockState::None
            && let Some(diff) = lock_mismatch(&found, &expected)
        {
            self.refuse_state(swap_id, s, request, leg, "lock_terms", diff).await?;
            return Ok(Progress::Idle);
        }
        let index = leg.index();
        match (recorded, found.state) {
            (LegState::None, HtlcLockState::None) => {
                let now = chain.client.now().await?;
                if now >= l.timelock {
                    let void = LegOutcome::Void(now);
                    return self
                        .report_leg(swap_id, s, request, leg, void, Done::Found(found.state))
                        .await;
                }
                if leg == LegId::B && !self.leg_a_holds(swap_id, s, request).await? {
                    return Ok(Progress::Idle);
                }
                if now.saturating_add(self.settings.safety_margin) >= l.timelock {
                    tracing::debug!(%swap_id, %leg, now, timelock = l.timelock, "too close to the timelock: not locking");
                    return Ok(Progress::Idle);
                }
                let Some(sig) = self.store.load(swap_id).lock_sig(leg).cloned() else {
                    tracing::debug!(%swap_id, %leg, "no Lock signature here: not locking");
                    return Ok(Progress::Idle);
                };
                let data = expected.lock_call(sig).abi_encode();
                let Some(hash) =
                    self.asset_send(swap_id, chain, asset, "lock", index, data).await?
                else {
                    return Ok(Progress::Acted);
                };
                self.checkpoint(ProtocolPoint::HtlcLocked { swap_id, leg: index })?;
                self.report_leg(swap_id, s, request, leg, LegOutcome::Locked, Done::Sent(hash))
                    .await
            }
            // Locked (and maybe ended) by an earlier run or before a crash: record it.
            (LegState::None, state) => {
                self.report_leg(swap_id, s, request, leg, LegOutcome::Locked, Done::Found(state))
                    .await
            }
            (LegState::Locked, state @ HtlcLockState::Unlocked) => {
                let outcome = LegOutcome::Unlocked(found.secret);
                self.report_leg(swap_id, s, request, leg, outcome, Done::Found(state)).await
            }
            (LegState::Locked, state @ HtlcLockState::Refunded) => {
                let outcome = LegOutcome::Refunded;
                self.report_leg(swap_id, s, request, leg, outcome, Done::Found(state)).await
            }
            (LegState::Locked, HtlcLockState::Locked) => {
                if chain.client.now().await? >= l.timelock {
                    let data = HtlcAsset::timeoutCall { lockId: id }.abi_encode();
                    let Some(hash) =
                        self.asset_send(swap_id, chain, asset, "timeout", index, data).await?
                    else {
                        return Ok(Progress::Acted);
                    };
                    let refunded = LegOutcome::Refunded;
                    return self
                        .report_leg(swap_id, s, request, leg, refunded, Done::Sent(hash))
                        .await;
                }
                let Some(secret) = self.revealed_secret(s, request).await? else {
                    return Ok(Progress::Idle);
                };
                let data = HtlcAsset::unlockCall { lockId: id, secret }.abi_encode();
                let Some(hash) =
                    self.asset_send(swap_id, chain, asset, "unlock", index, data).await?
                else {
                    return Ok(Progress::Acted);
                };
                self.checkpoint(ProtocolPoint::HtlcUnlocked { swap_id, leg: index })?;
                let outcome = LegOutcome::Unlocked(secret);
                self.report_leg(swap_id, s, request, leg, outcome, Done::Sent(hash)).await
            }
            (LegState::Locked, HtlcLockState::None) => Err(EngineError::Inconsistent {
                tx_id: swap_id,
                message: format!("leg {leg} is recorded locked but not locked on {}", chain.name),
            }),
            (LegState::Unlocked | LegState::Refunded | LegState::Void, _) => Ok(Progress::Idle),
        }
    }

    /// Before leg B is locked: leg A must hold the initiator's funds under the signed terms.
    /// Checked on chain A when this relayer reaches it (served or a peer); otherwise the
    /// governance record of chain A's owner is all there is (the owner is trusted for its own
    /// chain; see docs/security.md).
    async fn leg_a_holds(
        &self,
        swap_id: B256,
        s: &Swap,
        request: &SwapRequest,
    ) -> Result<bool, EngineError> {
        if LegState::try_from(s.legA) != Ok(LegState::Locked) {
            return Ok(false);
        }
        let Some((chain, asset)) = self.asset_of(request, LegId::A) else { return Ok(true) };
        let expected = request.lock(LegId::A);
        let found = lock_of(chain, asset, expected.id()).await?;
        match found.state {
            HtlcLockState::Locked => {}
            HtlcLockState::None => {
                let why = format!(
                    "leg A is recorded locked but {} holds no lock with its terms",
                    chain.name
                );
                self.refuse_state(swap_id, s, request, LegId::A, "leg_not_locked", why).await?;
                return Ok(false);
            }
            // Already ended (refunded past its timelock): too late to lock B.
            HtlcLockState::Unlocked | HtlcLockState::Refunded => return Ok(false),
        }
        if let Some(diff) = lock_mismatch(&found, &expected) {
            self.refuse_state(swap_id, s, request, LegId::A, "lock_terms", diff).await?;
            return Ok(false);
        }
        Ok(true)
    }

    /// Audits a leg's asset action (`done`: sent by this relayer, or found done on chain) with
    /// the governance record about to be sent, then sends it.
    async fn report_leg(
        &self,
        swap_id: B256,
        s: &Swap,
        request: &SwapRequest,
        leg: LegId,
        outcome: LegOutcome,
        done: Done,
    ) -> Result<Progress, EngineError> {
        let index = leg.index();
        let covers = CoverKey::new(outcome.cover(), index);
        let tx_hash = match done {
            Done::Sent(hash) => Some(hash),
            Done::Found(_) => None,
        };
        let mut ops = Vec::new();
        if let Some(interface) = outcome.asset_interface() {
            let result = match done {
                Done::Sent(_) => "ok".to_owned(),
                Done::Found(state) => format!("ok (found {state:?} on chain)"),
            };
            let op = self.leg_operation(request, leg, covers, interface).with_result(result);
            ops.push(op.sent(tx_hash, self.gov.address()));
        }
        ops.push(self.leg_record_pending(covers, outcome.state()));
        let evidence = match (outcome, tx_hash) {
            (LegOutcome::Void(now), _) => Bytes::copy_from_slice(&now.to_be_bytes()),
            (_, Some(hash)) => evidence(hash),
            (_, None) => Bytes::new(),
        };
        let subject = Self::subject(swap_id, s);
        let (what, result) = match outcome {
            LegOutcome::Locked => {
                let call = tm::recordLegLockedCall { swapId: swap_id, leg: index, evidence };
                (
                    "recordLegLocked",
                    self.auditor.report(&subject, ops, &call, is_already_done).await,
                )
            }
            LegOutcome::Unlocked(secret) => {
                let call =
                    tm::recordLegUnlockedCall { swapId: swap_id, leg: index, secret, evidence };
                (
                    "recordLegUnlocked",
                    self.auditor.report(&subject, ops, &call, is_already_done).await,
                )
            }
            LegOutcome::Refunded => {
                let call = tm::recordLegRefundedCall { swapId: swap_id, leg: index, evidence };
                (
                    "recordLegRefunded",
                    self.auditor.report(&subject, ops, &call, is_already_done).await,
                )
            }
            LegOutcome::Void(_) => {
                let call = tm::recordLegVoidCall { swapId: swap_id, leg: index, evidence };
                ("recordLegVoid", self.auditor.report(&subject, ops, &call, is_already_done).await)
            }
        };
        match result {
            Ok(hash) => {
                let gov_name = self.gov.name().to_owned();
                self.record(swap_id, what, Some(index), &gov_name, hash);
                Ok(Progress::Acted)
            }
            Err(err) if err.chain().is_some_and(is_already_done) => Ok(Progress::Acted),
            Err(err) => Err(err.into()),
        }
    }

    /// Sends `data` to a leg's asset: the transaction's hash, or `None` when another relayer
    /// (or an earlier run) already did it.
    async fn asset_send(
        &self,
        swap_id: B256,
        chain: &HtlcChain,
        asset: Address,
        what: &'static str,
        leg: u8,
        data: Vec<u8>,
    ) -> Result<Option<B256>, EngineError> {
        match send(&self.metrics, &chain.client, what, asset, data).await {
            Ok(hash) => {
                self.record(swap_id, what, Some(leg), &chain.name, hash);
                Ok(Some(hash))
            }
            Err(err) if is_already_done(&err) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// The secret once public: the governance record, or an unlocked leg's `lockOf` (under the
    /// signed terms) when reachable.
    async fn revealed_secret(
        &self,
        s: &Swap,
        request: &SwapRequest,
    ) -> Result<Option<B256>, EngineError> {
        if !s.secret.is_zero() {
            return Ok(Some(s.secret));
        }
        for leg in LegId::ALL {
            if let Some((chain, asset)) = self.asset_of(request, leg) {
                let found = lock_of(chain, asset, request.lock(leg).id()).await?;
                if found.state == HtlcLockState::Unlocked
                    && Secret::from_bytes(found.secret).opens(&s.hashlock)
                {
                    return Ok(Some(found.secret));
                }
            }
        }
        Ok(None)
    }
}

fn report_to_submit(err: ReportError) -> SwapSubmitError {
    match err {
        ReportError::Audit(a) => SwapSubmitError::Audit(Box::new(a)),
        ReportError::Chain(c) => SwapSubmitError::from_chain(*c),
    }
}

fn engine_to_submit(err: EngineError) -> SwapSubmitError {
    match err {
        EngineError::Chain(e) => SwapSubmitError::Chain(e),
        other => SwapSubmitError::Chain(Box::new(ChainError::BadData {
            chain: "governance".into(),
            what: "swap".into(),
            message: other.to_string(),
        })),
    }
}

/// A lock as the asset holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FoundLock {
    state: HtlcLockState,
    sender: Address,
    recipient: Address,
    amount: alloy::primitives::U256,
    hashlock: B256,
    timelock: u64,
    secret: B256,
}

async fn lock_of(chain: &HtlcChain, asset: Address, id: B256) -> Result<FoundLock, EngineError> {
    let l = chain
        .client
        .read("lockOf", |p| async move { HtlcAsset::new(asset, p).lockOf(id).call().await })
        .await?;
    let state = HtlcLockState::try_from(l.state)
        .map_err(|e| EngineError::Inconsistent { tx_id: id, message: e.to_string() })?;
    Ok(FoundLock {
        state,
        sender: l.sender,
        recipient: l.recipient,
        amount: l.amount,
        hashlock: l.hashlock,
        timelock: l.timelock,
        secret: l.secret,
    })
}

/// How a lock found on chain differs from the `Lock` the leg's sender signed, term by term;
/// `None` when every term matches. The asset keys locks by their terms, so a difference means
/// an asset that does not (another deployment) or a fault; either way the lock is not this leg.
fn lock_mismatch(found: &FoundLock, expected: &Lock) -> Option<String> {
    let mut diffs = Vec::new();
    if found.sender != expected.sender {
        diffs.push(format!("sender {} instead of {}", found.sender, expected.sender));
    }
    if found.recipient != expected.recipient {
        diffs.push(format!("recipient {} instead of {}", found.recipient, expected.recipient));
    }
    if found.amount != expected.amount {
        diffs.push(format!("amount {} instead of {}", found.amount, expected.amount));
    }
    if found.hashlock != expected.hashlock {
        diffs.push(format!("hashlock {} instead of {}", found.hashlock, expected.hashlock));
    }
    if found.timelock != expected.timelock {
        diffs.push(format!("timelock {} instead of {}", found.timelock, expected.timelock));
    }
    (!diffs.is_empty()).then(|| format!("the lock has {}", diffs.join(", ")))
}

/// What a leg's governance record reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LegOutcome {
    /// `recordLegLocked`.
    Locked,
    /// `recordLegUnlocked` with the secret.
    Unlocked(B256),
    /// `recordLegRefunded`.
    Refunded,
    /// `recordLegVoid` at the chain's time.
    Void(u64),
}

impl LegOutcome {
    fn cover(self) -> CoverKind {
        match self {
            LegOutcome::Locked => CoverKind::LegLocked,
            LegOutcome::Unlocked(_) => CoverKind::LegUnlocked,
            LegOutcome::Refunded => CoverKind::LegRefunded,
            LegOutcome::Void(_) => CoverKind::LegVoided,
        }
    }

    /// The asset operation behind the record (none for a void leg).
    fn asset_interface(self) -> Option<Interface> {
        match self {
            LegOutcome::Locked => Some(Interface::Lock),
            LegOutcome::Unlocked(_) => Some(Interface::Unlock),
            LegOutcome::Refunded => Some(Interface::Timeout),
            LegOutcome::Void(_) => None,
        }
    }

    fn state(self) -> &'static str {
        match self {
            LegOutcome::Locked => "locked",
            LegOutcome::Unlocked(_) => "unlocked",
            LegOutcome::Refunded => "refunded",
            LegOutcome::Void(_) => "void",
        }
    }
}

/// How a leg's asset action came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Done {
    /// This relayer sent it in this transaction.
    Sent(B256),
    /// It was found done on chain (by an earlier run, another relayer or anyone), in this state.
    Found(HtlcLockState),
}

async fn send(
    metrics: &Metrics,
    client: &ChainClient,
    what: &'static str,
    to: Address,
    data: Vec<u8>,
) -> Result<B256, ChainError> {
    let result = client.sender().send(what, to, data.into()).await;
    let outcome = match &result {
        Ok(_) => ActionResult::Ok,
        Err(e) if is_already_done(e) => ActionResult::Skipped,
        Err(_) => ActionResult::Failed,
    };
    metrics.action(what, outcome);
    result.map(|r| r.transaction_hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::htlc_asset::HtlcAsset::HtlcSwapExists;
    use crate::bindings::transaction_manager::TransactionManager::SwapLegState;

    #[test]
    fn races_lost_to_another_relayer_count_as_done() {
        let id = B256::repeat_byte(1);
        let gov = ChainError::Reverted {
            chain: "governance".into(),
            what: "recordLegLocked".into(),
            revert: ContractRevert::TransactionManager(TmErr::SwapLegState(SwapLegState {
                swapId: id,
                leg: 0,
                state: 1,
            })),
        };
        assert!(is_already_done(&gov));
        let asset = ChainError::Reverted {
            chain: "zoneA.chainA".into(),
            what: "lock".into(),
            revert: ContractRevert::HtlcAsset(HtlcErr::HtlcSwapExists(HtlcSwapExists {
                lockId: id,
            })),
        };
        assert!(is_already_done(&asset));
    }
}
