//! The relayer process: connects to the governance chain and the served business chains, and runs
//! the watcher + reconcile loop of the 2PC [`Engine`] and the [`HtlcEngine`] on tokio.
//!
//! One loop per relayer: every `poll_interval` it polls every chain's head (health), scans the
//! TransactionManager's logs in bounded ranges (≤ [`MAX_LOG_RANGE`] blocks, behind the
//! confirmation depth) from a checkpoint file in `state_dir` (safe to lose: reconcile rebuilds
//! everything from chain state), and reconciles when a log arrived, when asked (after a submit),
//! on start, when a served business chain has a new block (its clock moved: a timelock may have
//! passed), and every `reconcile_every_blocks` governance blocks. [`RelayerHandle`] is the API
//! the HTTP server and CLI use.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use alloy::transports::http::reqwest::Url;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::audit::{
    Auditor, CoverKey, CoverKind, Interface, Operation, Protocol, ReportError, Subject,
};
use crate::bindings::transaction_manager::TransactionManager::{
    self as tm, TransactionManagerErrors as TmErr,
};
use crate::bindings::{TxState, XaTxState};
use crate::chain::{Backoff, ChainClient, ChainConfig, ChainError, ChainOptions, SendOptions};
use crate::errors::ContractRevert;
pub use crate::health::{ChainHealth, HealthPolicy, HealthReport};
use crate::htlc::{
    HtlcChain, HtlcEngine, HtlcSettings, Proposed, SecretStore, SwapStatus, SwapSubmitError,
};
use crate::ipath::Segment;
pub use crate::metrics::Metrics;
use crate::protocol::{Secret, SwapRequest, TxRequest, TxRequestError};
use crate::resource::{TwoPhaseResource, XaLedgerResource};
use crate::two_phase::{
    Engine, EngineError, ProtocolHook, ProtocolPoint, SentTx, ServedResources, chain_key_words,
};

/// Where the governance contracts live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GovernanceAddresses {
    /// InstitutionRegistry.
    pub registry: Address,
    /// ChainRegistry.
    pub chain_registry: Address,
    /// PermissionManager.
    pub permission_manager: Address,
    /// TransactionManager.
    pub transaction_manager: Address,
    /// Supervision.
    pub supervision: Address,
}

/// The governance chain.
#[derive(Debug, Clone)]
pub struct ChainEndpoint {
    /// HTTP endpoint.
    pub rpc_url: Url,
    /// Expected chain id (checked on start), or `None`.
    pub chain_id: Option<u64>,
    /// Confirmation depth for logs and sends.
    pub confirmations: u64,
    /// The contracts.
    pub contracts: GovernanceAddresses,
    /// Node timeouts and health.
    pub options: ChainOptions,
}

/// A business chain this relayer serves.
#[derive(Debug, Clone)]
pub struct ServedChain {
    /// Zone segment.
    pub zone: Segment,
    /// Chain segment.
    pub chain: Segment,
    /// HTTP endpoint.
    pub rpc_url: Url,
    /// Confirmation depth.
    pub confirmations: u64,
    /// XaLedger address by resource name.
    pub resources: BTreeMap<Segment, Address>,
    /// Node timeouts and health.
    pub options: ChainOptions,
}

/// Everything a relayer needs to run.
#[derive(Debug, Clone)]
pub struct RelayerSettings {
    /// The relayer's institution id.
    pub institution: u64,
    /// The governance chain.
    pub governance: ChainEndpoint,
    /// The served business chains.
    pub chains: Vec<ServedChain>,
    /// Checkpoint directory (created if missing).
    pub state_dir: PathBuf,
    /// Loop period.
    pub poll_interval: Duration,
    /// Full reconcile every this many governance blocks (at least 1).
    pub reconcile_every_blocks: u64,
    /// When `/health` turns 503.
    pub health: HealthPolicy,
    /// New transactions and swaps are refused ([`Busy`]) while this many are open on the
    /// chains this relayer serves (at least 1; see [`DEFAULT_MAX_OPEN_WORK`]).
    pub max_open_work: usize,
}

/// Default [`RelayerSettings::max_open_work`]: above what a relayer keeps moving at its measured
/// knee (about 20 transfers/s for 7.5 s each on a 2-core machine, 150 open), below where every
/// pass reading every open subject slows the rounds (`bench/results/capacity.json`).
pub const DEFAULT_MAX_OPEN_WORK: usize = 256;

/// The relayer has as much open work as it takes: a new transaction or swap is refused before
/// anything is checked or sent, so the work it carries keeps its pace (back-pressure, not a
/// queue that grows until every round is slow). Retry after a block or so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the relayer carries {open} open transactions and swaps (its limit is {limit}): try again shortly"
)]
pub struct Busy {
    /// Open on the served chains at the last pass, with those accepted since.
    pub open: usize,
    /// [`RelayerSettings::max_open_work`].
    pub limit: usize,
}

/// A chain the relayer connects to, with its settings.
#[derive(Debug, Clone)]
struct Endpoint {
    name: String,
    rpc_url: Url,
    chain_id: Option<u64>,
    confirmations: u64,
    options: ChainOptions,
}

impl Endpoint {
    /// Connects (checking the chain id and resolving the fee mode against the node).
    async fn connect(
        &self,
        settings: &RelayerSettings,
        signer: PrivateKeySigner,
    ) -> Result<ChainClient, ChainError> {
        // Jitter differs per relayer, so that relayers sharing a node do not retry in step.
        let seed =
            u64::from_be_bytes(signer.address().as_slice()[..8].try_into().unwrap_or_default());
        let config = ChainConfig {
            name: self.name.clone(),
            rpc_url: self.rpc_url.clone(),
            chain_id: self.chain_id,
            confirmations: self.confirmations,
            poll_interval: settings.poll_interval,
            rpc_timeout: self.options.rpc_timeout,
            fee: self.options.fee,
            max_log_range: self.options.max_log_range,
            backoff: Backoff { seed, ..Backoff::default() },
            send: SendOptions::default(),
        };
        ChainClient::connect(config, signer).await
    }
}

/// Every chain of a relayer's settings: governance, served chains, HTLC peers.
#[derive(Debug, Clone)]
struct Endpoints {
    governance: Endpoint,
    others: Vec<Endpoint>,
}

impl Endpoints {
    fn of(settings: &RelayerSettings, htlc: &HtlcSettings) -> Endpoints {
        let g = &settings.governance;
        let governance = Endpoint {
            name: "governance".into(),
            rpc_url: g.rpc_url.clone(),
            chain_id: g.chain_id,
            confirmations: g.confirmations,
            options: g.options,
        };
        let served = settings.chains.iter().map(|c| Endpoint {
            name: format!("{}.{}", c.zone, c.chain),
            rpc_url: c.rpc_url.clone(),
            chain_id: None,
            confirmations: c.confirmations,
            options: c.options,
        });
        let peers = htlc.peers.iter().map(|p| Endpoint {
            name: p.name.clone(),
            rpc_url: p.rpc_url.clone(),
            chain_id: None,
            confirmations: p.confirmations,
            options: p.options,
        });
        Endpoints { governance, others: served.chain(peers).collect() }
    }
}

/// What [`probe`] found on one chain's node.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChainProbe {
    /// `governance` or `zone.chain`.
    pub chain: String,
    /// The node's chain id, when it answered.
    pub chain_id: Option<u64>,
    /// How transactions will be priced (`eip1559`, `legacy`, `fixed 0`, …), when resolved.
    pub pricing: Option<String>,
    /// Why the relayer would not start against this node.
    pub error: Option<String>,
    /// Whether the error is permanent (a setting or the node must change).
    pub permanent: bool,
}

/// Connects to every chain of `settings` and `htlc` as [`Relayer::start`] would — chain id, fee
/// mode, and the governance chain's log range against the live nodes — and reports each,
/// sending nothing. `relayer check-config --live`.
pub async fn probe(
    settings: &RelayerSettings,
    htlc: &HtlcSettings,
    signer: PrivateKeySigner,
) -> Vec<ChainProbe> {
    let endpoints = Endpoints::of(settings, htlc);
    let mut out = Vec::new();
    let all = std::iter::once(&endpoints.governance).chain(endpoints.others.iter());
    for (i, endpoint) in all.enumerate() {
        let connected = async {
            let client = endpoint.connect(settings, signer.clone()).await?;
            if i == 0 {
                client.probe_log_range().await?;
            }
            let pricing = client.sender().pricing().await?;
            Ok::<_, ChainError>((client.chain_id(), pricing))
        }
        .await;
        out.push(match connected {
            Ok((chain_id, pricing)) => ChainProbe {
                chain: endpoint.name.clone(),
                chain_id: Some(chain_id),
                pricing: Some(pricing.to_string()),
                error: None,
                permanent: false,
            },
            Err(e) => ChainProbe {
                chain: endpoint.name.clone(),
                chain_id: None,
                pricing: None,
                permanent: !e.is_retryable(),
                error: Some(e.to_string()),
            },
        });
    }
    out
}

/// The relayer could not start or answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayerError {
    /// A chain failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The state directory is unusable.
    #[error("state directory {path}: {source}")]
    StateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The settings are invalid.
    #[error("invalid settings: {0}")]
    Settings(String),
}

/// `begin` would be refused, or could not be sent; nothing was sent unless `Chain` says so.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// The request is malformed (checked locally).
    #[error("invalid request: {0}")]
    Invalid(#[from] TxRequestError),
    /// The signature does not recover to an address (`TxBadSignature`).
    #[error("bad signature")]
    BadSignature,
    /// The signer is not a user of an active institution (`TxNotUser`).
    #[error("{initiator} is not a user account of an active institution")]
    NotUser {
        /// Who the signature recovers to.
        initiator: Address,
    },
    /// This relayer may not submit for the user's institution (`TxNotInstitutionRelayer`).
    #[error("relayer {submitter} is not a relayer of institution {institution}")]
    NotInstitutionRelayer {
        /// This relayer.
        submitter: Address,
        /// The user's institution.
        institution: u64,
    },
    /// A step's chain is not admitted / active (`TxChainNotActive`).
    #[error("step {step}: chain {zone}.{chain} is not an active chain")]
    ChainNotActive {
        /// The step.
        step: u8,
        /// Its zone.
        zone: String,
        /// Its chain.
        chain: String,
    },
    /// The user lacks TWO_PHASE on a step's path (`TxNoPermission`).
    #[error("{initiator} lacks TWO_PHASE permission on step {step}")]
    NoPermission {
        /// The signer.
        initiator: Address,
        /// The step.
        step: u8,
    },
    /// The deadline is past or too far (`TxBadDeadline`).
    #[error("deadline {deadline} is not in the accepted window (governance time {now})")]
    BadDeadline {
        /// The request's deadline.
        deadline: u64,
        /// Governance-chain time.
        now: u64,
    },
    /// The user's nonce was used (`TxNonceUsed`).
    #[error("nonce {nonce} of {initiator} was already used")]
    NonceUsed {
        /// The signer.
        initiator: Address,
        /// The nonce.
        nonce: alloy::primitives::U256,
    },
    /// A transaction with this id exists (`TxAlreadyExists`).
    #[error("transaction {0} already exists")]
    AlreadyExists(B256),
    /// The txId is not the one bound to the signer and nonce (`TxIdNotBound`): another user's
    /// id, or a request signed by someone else than the user it was built for.
    #[error(
        "txId {tx_id} is not the signer's: a request of this signer and nonce carries {expected}"
    )]
    IdNotBound {
        /// The request's id.
        tx_id: B256,
        /// `keccak256(abi.encode(signer, nonce))`.
        expected: B256,
    },
    /// Another refusal of the TransactionManager.
    #[error("refused: {0}")]
    Refused(ContractRevert),
    /// The audit record that rides with `begin` could not be built; `begin` was not sent.
    #[error("audit record not built, begin not sent: {0}")]
    Audit(Box<crate::audit::AuditError>),
    /// The governance chain could not be reached or the transaction failed.
    #[error(transparent)]
    Chain(ChainError),
    /// The relayer carries as much open work as it takes; nothing was checked or sent.
    #[error(transparent)]
    Busy(Busy),
}

impl SubmitError {
    /// Whether a node lacks what this relayer's settings need: not retryable, not the user's
    /// fault; its operator changes the setting.
    pub fn is_misconfigured(&self) -> bool {
        match self {
            SubmitError::Chain(e) => e.is_unsupported() || matches!(e, ChainError::LogRange { .. }),
            SubmitError::Audit(a) => a.is_misconfigured(),
            _ => false,
        }
    }

    fn from_chain(err: ChainError) -> SubmitError {
        let ChainError::Reverted { revert, .. } = err else { return SubmitError::Chain(err) };
        let seg = Segment::name_or_hex;
        match revert {
            ContractRevert::TransactionManager(e) => match e {
                TmErr::TxBadSignature(_) => SubmitError::BadSignature,
                TmErr::TxNotUser(e) => SubmitError::NotUser { initiator: e.initiator },
                TmErr::TxNotInstitutionRelayer(e) => SubmitError::NotInstitutionRelayer {
                    submitter: e.submitter,
                    institution: e.institution,
                },
                TmErr::TxChainNotActive(e) => SubmitError::ChainNotActive {
                    step: e.step,
                    zone: seg(e.zone),
                    chain: seg(e.chain),
                },
                TmErr::TxNoPermission(e) => {
                    SubmitError::NoPermission { initiator: e.initiator, step: e.step }
                }
                TmErr::TxBadDeadline(e) => SubmitError::BadDeadline {
                    deadline: e.deadline,
                    now: u64::try_from(e.nowTimestamp).unwrap_or(u64::MAX),
                },
                TmErr::TxNonceUsed(e) => {
                    SubmitError::NonceUsed { initiator: e.initiator, nonce: e.nonce }
                }
                TmErr::TxAlreadyExists(e) => SubmitError::AlreadyExists(e.txId),
                TmErr::TxIdNotBound(e) => {
                    SubmitError::IdNotBound { tx_id: e.txId, expected: e.expected }
                }
                other => SubmitError::Refused(ContractRevert::TransactionManager(other)),
            },
            other => SubmitError::Refused(other),
        }
    }
}

/// One step as the relayer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepStatus {
    /// Step index.
    pub index: u8,
    /// `keccak256(abi.encode(zone, chain))`.
    pub chain_key: B256,
    /// `keccak256(op)`.
    pub op_hash: B256,
    /// Whether this relayer serves the step's chain.
    pub served: bool,
    /// Voted (and how).
    pub vote: Option<bool>,
    /// Acknowledged.
    pub acked: bool,
    /// The resource's state (served steps only).
    pub resource_state: Option<XaTxState>,
}

/// A 2PC transaction's state as read from the chains, with the transactions this relayer sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionStatus {
    /// The transaction.
    pub tx_id: B256,
    /// The coordinator's state.
    pub state: TxState,
    /// The initiating user.
    pub initiator: Address,
    /// The user's institution.
    pub institution: u64,
    /// Deadline (governance-chain time).
    pub deadline: u64,
    /// Per step.
    pub steps: Vec<StepStatus>,
    /// Governance-chain transactions this relayer sent for it (begin, votes, acks, expire).
    pub governance_txs: Vec<SentTx>,
    /// Business-chain transactions this relayer sent for it (prepare, commit, rollback).
    pub business_txs: Vec<SentTx>,
}

/// Starts relayers.
#[derive(Debug)]
pub struct Relayer;

struct Inner {
    settings: RelayerSettings,
    engine: Arc<Engine>,
    htlc: Arc<HtlcEngine>,
    chains: Vec<(String, Arc<ChainClient>)>,
    metrics: Arc<Metrics>,
    health: Mutex<HealthReport>,
    /// Submissions under way (begin or proposeSwap not yet mined): on no open list yet.
    submitting: AtomicUsize,
    /// Submissions that stood and that no pass has counted yet (a pass subtracts those that stood
    /// before it began: they were on chain when it read the open lists).
    kept: AtomicUsize,
    trigger: Notify,
    shutdown: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner").field("engine", &self.engine).finish_non_exhaustive()
    }
}

/// A running relayer; clone freely.
#[derive(Debug, Clone)]
pub struct RelayerHandle {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Relayer {
    /// Connects to every chain and starts the loop.
    pub async fn start(
        settings: RelayerSettings,
        signer: PrivateKeySigner,
        metrics: Arc<Metrics>,
    ) -> Result<RelayerHandle, RelayerError> {
        Self::start_with_hook(settings, signer, metrics, None).await
    }

    /// [`Relayer::start`] with a test hook called at every protocol point: returning
    /// [`HookAction::Halt`](crate::two_phase::HookAction::Halt) stops the relayer right there,
    /// as if its process died (no further action, the loop ends; the handle reports it in
    /// `health().stopped`). Used to test resumption by a fresh relayer.
    pub async fn start_with_hook(
        settings: RelayerSettings,
        signer: PrivateKeySigner,
        metrics: Arc<Metrics>,
        hook: Option<ProtocolHook>,
    ) -> Result<RelayerHandle, RelayerError> {
        Self::start_with_htlc(settings, HtlcSettings::default(), signer, metrics, hook).await
    }

    /// [`Relayer::start_with_hook`] with HTLC settings (safety margin, peer chains reached only
    /// for permissionless HtlcAsset calls). A served chain's `resources` name its XaLedgers and
    /// HtlcAssets alike: a swap leg's resource segment is looked up there.
    pub async fn start_with_htlc(
        settings: RelayerSettings,
        htlc: HtlcSettings,
        signer: PrivateKeySigner,
        metrics: Arc<Metrics>,
        hook: Option<ProtocolHook>,
    ) -> Result<RelayerHandle, RelayerError> {
        if settings.max_open_work == 0 {
            return Err(RelayerError::Settings("max_open_work must be at least 1".into()));
        }
        if settings.reconcile_every_blocks == 0 {
            return Err(RelayerError::Settings("reconcile_every_blocks must be at least 1".into()));
        }
        std::fs::create_dir_all(&settings.state_dir).map_err(|source| RelayerError::StateDir {
            path: settings.state_dir.clone(),
            source,
        })?;
        let gov_endpoint = &settings.governance;
        let endpoints = Endpoints::of(&settings, &htlc);
        let gov = Arc::new(endpoints.governance.connect(&settings, signer.clone()).await?);
        // The relayer scans the governance chain's logs in ranges: a node with a lower limit
        // than the configured one is refused now.
        gov.probe_log_range().await?;
        let mut chains = vec![("governance".to_owned(), gov.clone())];
        let mut served = Vec::new();
        let mut htlc_chains = Vec::new();
        for c in &settings.chains {
            let name = format!("{}.{}", c.zone, c.chain);
            let endpoint = Endpoint {
                name: name.clone(),
                rpc_url: c.rpc_url.clone(),
                chain_id: None,
                confirmations: c.confirmations,
                options: c.options,
            };
            let client = Arc::new(endpoint.connect(&settings, signer.clone()).await?);
            let resources = c
                .resources
                .iter()
                .map(|(segment, address)| {
                    let r: Arc<dyn TwoPhaseResource> =
                        Arc::new(XaLedgerResource::new(client.clone(), *address));
                    (segment.to_word(), r)
                })
                .collect();
            let chain_key = chain_key_words(c.zone.to_word(), c.chain.to_word());
            served.push(ServedResources { chain_key, name: name.clone(), resources });
            htlc_chains.push(HtlcChain {
                chain_key,
                name: name.clone(),
                client: client.clone(),
                assets: c.resources.iter().map(|(s, a)| (s.to_word(), *a)).collect(),
                served: true,
            });
            chains.push((name, client));
        }
        for peer in &htlc.peers {
            let endpoint = Endpoint {
                name: peer.name.clone(),
                rpc_url: peer.rpc_url.clone(),
                chain_id: None,
                confirmations: peer.confirmations,
                options: peer.options,
            };
            let client = Arc::new(endpoint.connect(&settings, signer.clone()).await?);
            htlc_chains.push(HtlcChain {
                chain_key: peer.chain_key,
                name: peer.name.clone(),
                client,
                assets: peer.assets.clone(),
                served: false,
            });
        }
        let (htlc_max_pending, htlc_secret_ttl) =
            (htlc.max_pending_secrets, htlc.pending_secret_ttl);
        let auditor = Arc::new(Auditor::new(
            gov.clone(),
            &gov_endpoint.contracts,
            settings.institution,
            metrics.clone(),
        ));
        let htlc_engine = Arc::new(HtlcEngine::new(
            gov.clone(),
            gov_endpoint.contracts.transaction_manager,
            htlc_chains,
            htlc,
            SecretStore::new(&settings.state_dir).with_limits(htlc_max_pending, htlc_secret_ttl),
            hook.clone(),
            metrics.clone(),
            auditor.clone(),
        ));
        let engine = Arc::new(Engine::new(
            gov,
            gov_endpoint.contracts.transaction_manager,
            served,
            hook,
            metrics.clone(),
            auditor,
        ));
        let mut policy = settings.health.clone();
        let stalls = std::iter::once(("governance".to_owned(), &gov_endpoint.options))
            .chain(settings.chains.iter().map(|c| (format!("{}.{}", c.zone, c.chain), &c.options)));
        for (name, options) in stalls {
            if let Some(after) = options.max_head_age {
                policy.head_stall_after.insert(name, after);
            }
        }
        let health = HealthReport::new(chains.iter().map(|(name, _)| name.clone()), policy);
        let (shutdown, _) = watch::channel(false);
        let inner = Arc::new(Inner {
            settings,
            engine,
            htlc: htlc_engine,
            chains,
            metrics,
            health: Mutex::new(health),
            submitting: AtomicUsize::new(0),
            kept: AtomicUsize::new(0),
            trigger: Notify::new(),
            shutdown,
            task: Mutex::new(None),
        });
        let task = tokio::spawn(run(inner.clone()));
        *lock(&inner.task) = Some(task);
        Ok(RelayerHandle { inner })
    }
}

impl RelayerHandle {
    /// The relayer's account.
    pub fn address(&self) -> Address {
        self.inner.engine.gov().address()
    }

    /// The relayer's institution.
    pub fn institution(&self) -> u64 {
        self.inner.settings.institution
    }

    /// Submits a signed 2PC request with `begin`: checked locally, then pre-flighted with
    /// `eth_call` (a refusal is a typed [`SubmitError`] and nothing is sent), then sent.
    /// Returns the governance transaction hash once mined.
    pub async fn submit_transaction(
        &self,
        request: TxRequest,
        signature: Bytes,
    ) -> Result<B256, SubmitError> {
        request.validate()?;
        let admission = self.admit().map_err(SubmitError::Busy)?;
        let engine = &self.inner.engine;
        let now = engine.gov().now().await.map_err(SubmitError::Chain)?;
        request.check_deadline(now)?;
        let tx_id = request.txId;
        let chain_keys = request.steps.iter().map(|s| chain_key_words(s.zone, s.chain)).collect();
        let domain = crate::protocol::tm_domain(engine.gov().chain_id(), engine.tm());
        // Only for the audit record: the pre-flight below refuses a signature that does not recover.
        let initiator = alloy::primitives::Signature::try_from(signature.as_ref())
            .ok()
            .and_then(|sig| sig.recover_address_from_prehash(&request.signing_hash(&domain)).ok())
            .unwrap_or_default();
        let args = serde_json::json!({
            "deadline": request.deadline,
            "nonce": request.nonce.to_string(),
            "steps": request.steps.iter().map(|s| serde_json::json!({
                "path": crate::IPath::from_words(s.zone, s.chain, s.resource)
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                "op": crate::two_phase::op_json(&s.op),
            })).collect::<Vec<_>>(),
        });
        let call = tm::beginCall { request, signature };
        // Pre-flight first: a request the chain refuses is answered before its record is built.
        engine.auditor().preflight(tx_id, &call).await.map_err(SubmitError::from_chain)?;
        let head = engine.gov().head().await.map_err(SubmitError::Chain)?;
        let subject = Subject {
            id: tx_id,
            protocol: Protocol::TwoPhase,
            initiator,
            // `begin` requires the submitting relayer to belong to the user's institution.
            initiator_institution: self.institution(),
            counterparty: Address::ZERO,
            chain_keys,
            from_block: head,
        };
        let covers = CoverKey::new(CoverKind::Begun, 0);
        let op = Operation::governance_pending(covers, Interface::Begin, args, self.address());
        // `begin` and its audit record in one report: they stand or fall together.
        let hash = engine
            .auditor()
            .report(&subject, vec![op], &call, crate::two_phase::is_already_done)
            .await
            .map_err(|e| match e {
                ReportError::Audit(a) => SubmitError::Audit(Box::new(a)),
                ReportError::Chain(c) => SubmitError::from_chain(*c),
            })?;
        engine.record_first(
            tx_id,
            SentTx {
                action: "begin",
                step: None,
                chain: engine.gov().name().to_owned(),
                tx_hash: hash,
            },
        );
        admission.keep();
        if let Err(EngineError::Halted(point)) = engine.checkpoint(ProtocolPoint::Begun { tx_id }) {
            self.halt(format!("halted by the test hook at {point:?}"));
        } else {
            self.inner.trigger.notify_one();
        }
        Ok(hash)
    }

    /// A place for one more open transaction or swap, or [`Busy`]: the open ones the last pass
    /// counted, with the submissions under way and those that stood since, stay under
    /// [`RelayerSettings::max_open_work`]. The place is given back unless the submission
    /// [keeps](Admission::keep) it.
    fn admit(&self) -> Result<Admission<'_>, Busy> {
        let inner = &*self.inner;
        let limit = inner.settings.max_open_work;
        let counted = lock(&inner.health).pending;
        let under_way = inner.submitting.fetch_add(1, Ordering::SeqCst);
        let open = counted + under_way + inner.kept.load(Ordering::SeqCst);
        if open >= limit {
            inner.submitting.fetch_sub(1, Ordering::SeqCst);
            inner.metrics.busy();
            return Err(Busy { open, limit });
        }
        Ok(Admission { submitting: &inner.submitting, kept: &inner.kept })
    }

    /// The transaction's state on the chains, or `None` when the coordinator does not know it.
    pub async fn transaction_status(
        &self,
        tx_id: B256,
    ) -> Result<Option<TransactionStatus>, RelayerError> {
        let engine = &self.inner.engine;
        let (tx, state) = engine.transaction(tx_id).await?;
        if state == TxState::None {
            return Ok(None);
        }
        let steps = engine.steps(tx_id, &tx).await.ok();
        let mut out = Vec::new();
        for index in 0..tx.stepCount {
            let (chain_key, op_hash) = engine.step_record(tx_id, index).await?;
            let bit = 1u16 << index;
            let resource = steps
                .as_ref()
                .and_then(|s| s.get(usize::from(index)))
                .and_then(|s| engine.resource_for(s));
            let resource_state = match &resource {
                Some(r) => Some(r.state(tx_id).await.map_err(EngineError::from)?),
                None => None,
            };
            out.push(StepStatus {
                index,
                chain_key,
                op_hash,
                served: resource.is_some(),
                vote: (tx.votedMask & bit != 0).then_some(tx.yesMask & bit != 0),
                acked: tx.ackedMask & bit != 0,
                resource_state,
            });
        }
        let gov_name = engine.gov().name().to_owned();
        let (governance_txs, business_txs) =
            engine.sent_for(tx_id).into_iter().partition(|s| s.chain == gov_name);
        Ok(Some(TransactionStatus {
            tx_id,
            state,
            initiator: tx.initiator,
            institution: tx.institution,
            deadline: tx.deadline,
            steps: out,
            governance_txs,
            business_txs,
        }))
    }

    /// Generates a swap secret kept (mode 0600) in the state directory until a proposal with its
    /// hashlock arrives; returns the hashlock for the initiator to sign into its request.
    pub fn generate_swap_secret(&self) -> Result<B256, SwapSubmitError> {
        self.inner.htlc.generate_secret()
    }

    /// Proposes a swap signed by the initiator: checked locally (request, timelocks against
    /// governance time, the secret against the hashlock, leg A's `Lock` signature against its
    /// sender), pre-flighted, persisted (secret + Lock signature) in the state directory, then
    /// sent. `secret: None` uses a secret from [`RelayerHandle::generate_swap_secret`].
    pub async fn propose_swap(
        &self,
        request: SwapRequest,
        initiator_signature: Bytes,
        lock_signature_a: Bytes,
        secret: Option<Secret>,
    ) -> Result<Proposed, SwapSubmitError> {
        let admission = self.admit().map_err(SwapSubmitError::Busy)?;
        let proposed =
            self.inner.htlc.propose(request, initiator_signature, lock_signature_a, secret).await?;
        admission.keep();
        let point = ProtocolPoint::SwapProposed { swap_id: proposed.swap_id };
        if let Err(EngineError::Halted(point)) = self.inner.engine.checkpoint(point) {
            self.halt(format!("halted by the test hook at {point:?}"));
        } else {
            self.inner.trigger.notify_one();
        }
        Ok(proposed)
    }

    /// Accepts a proposed swap with the counterparty's signature; leg B's `Lock` signature is
    /// checked and persisted first. Returns the governance transaction hash.
    pub async fn accept_swap(
        &self,
        swap_id: B256,
        counterparty_signature: Bytes,
        lock_signature_b: Bytes,
    ) -> Result<B256, SwapSubmitError> {
        let hash =
            self.inner.htlc.accept(swap_id, counterparty_signature, lock_signature_b).await?;
        self.inner.trigger.notify_one();
        Ok(hash)
    }

    /// A swap's state on the chains (never an unrevealed secret), or `None` when unknown.
    pub async fn swap_status(&self, swap_id: B256) -> Result<Option<SwapStatus>, RelayerError> {
        Ok(self.inner.htlc.status(swap_id).await?)
    }

    /// Chains' heads, lags and errors; the last reconcile.
    pub fn health(&self) -> HealthReport {
        lock(&self.inner.health).clone()
    }

    /// Asks for a reconcile pass now.
    pub fn reconcile_now(&self) {
        self.inner.trigger.notify_one();
    }

    /// Whether the loop has ended (shutdown, halt or abort).
    pub fn is_stopped(&self) -> bool {
        lock(&self.inner.task).as_ref().is_none_or(JoinHandle::is_finished)
    }

    fn halt(&self, why: String) {
        stop(&self.inner, why);
        if let Some(task) = lock(&self.inner.task).as_ref() {
            task.abort();
        }
    }

    /// Kills the loop at once, mid-action if need be (a crash, for tests).
    pub fn abort(&self) {
        self.halt("aborted".into());
    }

    /// Graceful stop: the loop ends after the action in flight; returns when it has.
    pub async fn shutdown(self) {
        let _ = self.inner.shutdown.send(true);
        let task = lock(&self.inner.task).take();
        if let Some(task) = task {
            let _ = task.await;
        }
        let mut health = lock(&self.inner.health);
        health.stopped.get_or_insert_with(|| "shut down".into());
    }
}

/// A place taken by [`RelayerHandle::admit`] while the submission is under way.
struct Admission<'a> {
    submitting: &'a AtomicUsize,
    kept: &'a AtomicUsize,
}

impl Admission<'_> {
    /// The submission stands: its place stays taken until a pass counts it on chain.
    fn keep(self) {
        self.kept.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.submitting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Marks the relayer stopped for `why` and stops every drive at once (a crash: what is in flight
/// stays as it is on the chains).
fn stop(inner: &Inner, why: String) {
    lock(&inner.health).stopped = Some(why);
    inner.engine.drives().abort();
    inner.htlc.drives().abort();
    inner.engine.auditor().abort_reports();
}

fn checkpoint_path(inner: &Inner) -> PathBuf {
    inner.settings.state_dir.join("checkpoint.json")
}

fn load_checkpoint(inner: &Inner) -> Option<u64> {
    let text = std::fs::read_to_string(checkpoint_path(inner)).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("governanceBlock")?.as_u64()
}

fn save_checkpoint(inner: &Inner, block: u64) {
    let path = checkpoint_path(inner);
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::json!({ "governanceBlock": block }).to_string();
    if let Err(err) = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &path)) {
        tracing::warn!(%err, path = %path.display(), "cannot write checkpoint");
    }
}

fn set_chain_health(inner: &Inner, index: usize, head: Result<u64, String>) {
    let mut health = lock(&inner.health);
    if let Some(c) = health.chains.get_mut(index) {
        match head {
            Ok(head) => c.answered(head, Instant::now()),
            Err(error) => c.failed(error),
        }
    }
}

/// The relayer's loop.
async fn run(inner: Arc<Inner>) {
    let mut shutdown = inner.shutdown.subscribe();
    let engine = inner.engine.clone();
    let tm_addr = engine.tm();
    let confirmations = inner.settings.governance.confirmations.saturating_sub(1);
    let mut checkpoint = load_checkpoint(&inner);
    let mut last_full: Option<u64> = None;
    let mut seen_heads: Vec<Option<u64>> = vec![None; inner.chains.len()];
    let mut force = true;
    let mut scan_error: Option<String> = None;
    loop {
        if *shutdown.borrow() {
            break;
        }
        // A drive met the test hook's halt: every drive has stopped, and so does the loop.
        if let Some(point) = engine.drives().halted().or_else(|| inner.htlc.drives().halted()) {
            stop(&inner, format!("halted by the test hook at {point:?}"));
            return;
        }
        // Heads of every chain, read at once so that a node that hangs delays no other. A new
        // block on a business chain moves its clock, which may pass a timelock: reconcile then
        // too, not only on governance events.
        let heads = futures_util::future::join_all(
            inner.chains.iter().map(|(_, client)| async move { client.head().await }),
        )
        .await;
        let mut gov_head = None;
        for (index, ((name, _), head)) in inner.chains.iter().zip(heads).enumerate() {
            match head {
                Ok(head) => {
                    if index == 0 {
                        gov_head = Some(head);
                    } else if seen_heads.get(index).copied().flatten() != Some(head) {
                        force = true;
                    }
                    if let Some(seen) = seen_heads.get_mut(index) {
                        *seen = Some(head);
                    }
                    set_chain_health(&inner, index, Ok(head));
                }
                Err(err) => {
                    inner.metrics.rpc_error(name);
                    set_chain_health(&inner, index, Err(err.to_string()));
                }
            }
        }
        if let Some(head) = gov_head {
            // A checkpoint ahead of the chain (a reset devnet, a deep reorg) is dropped.
            if checkpoint.is_some_and(|c| c > head) {
                checkpoint = None;
            }
            let safe = head.saturating_sub(confirmations);
            let from = checkpoint.map_or(safe, |c| c + 1);
            if from <= safe {
                let to = safe.min(from + engine.gov().config().max_log_range.max(1) - 1);
                let filter =
                    Filter::new().address(tm_addr).from_block(from).to_block(to).event_signature(
                        vec![
                            tm::TransactionBegun::SIGNATURE_HASH,
                            tm::StepVoted::SIGNATURE_HASH,
                            tm::TransactionDecided::SIGNATURE_HASH,
                            tm::StepAcked::SIGNATURE_HASH,
                            tm::SwapProposed::SIGNATURE_HASH,
                            tm::SwapAccepted::SIGNATURE_HASH,
                            tm::LegLocked::SIGNATURE_HASH,
                            tm::LegUnlocked::SIGNATURE_HASH,
                            tm::LegRefunded::SIGNATURE_HASH,
                            tm::LegVoided::SIGNATURE_HASH,
                            tm::SwapExpired::SIGNATURE_HASH,
                        ],
                    );
                match engine.gov().provider().get_logs(&filter).await {
                    Ok(logs) => {
                        scan_error = None;
                        if !logs.is_empty() {
                            force = true;
                        }
                        checkpoint = Some(to);
                        save_checkpoint(&inner, to);
                    }
                    Err(err) => {
                        inner.metrics.rpc_error("governance");
                        // A node's log-range limit is named with the key that fixes it.
                        let message = if crate::chain::is_log_range_refusal(&err) {
                            ChainError::LogRange {
                                chain: "governance".into(),
                                range: to - from + 1,
                                message: err.to_string(),
                            }
                            .to_string()
                        } else {
                            err.to_string()
                        };
                        // Logged when it starts or changes, not on every round.
                        if scan_error.as_ref() != Some(&message) {
                            tracing::warn!(%message, "governance log scan failed");
                            scan_error = Some(message.clone());
                        }
                        set_chain_health(&inner, 0, Err(message));
                    }
                }
            }
            if let Some(c) = lock(&inner.health).chains.first_mut() {
                c.lag = Some(head.saturating_sub(checkpoint.unwrap_or(head)));
            }
            if last_full.is_none_or(|b| head >= b + inner.settings.reconcile_every_blocks) {
                force = true;
            }
            if force {
                force = false;
                // Submissions that stood before this pass reads the open lists are on them.
                let kept_before = inner.kept.load(Ordering::SeqCst);
                let started = Instant::now();
                let transactions = match engine.reconcile().await {
                    Ok(report) => {
                        let took = started.elapsed();
                        inner.metrics.observe_reconcile(took);
                        inner.metrics.set_pending(report.pending as u64);
                        last_full = Some(head);
                        let mut health = lock(&inner.health);
                        health.last_reconcile_at = Some(SystemTime::now());
                        health.last_reconcile_duration = Some(took);
                        if !report.errors.is_empty() {
                            // Try again on the next tick.
                            force = true;
                        }
                        Some(report.pending)
                    }
                    Err(EngineError::Halted(point)) => {
                        stop(&inner, format!("halted by the test hook at {point:?}"));
                        return;
                    }
                    Err(err) => {
                        tracing::warn!(%err, "reconcile failed");
                        force = true;
                        None
                    }
                };
                let swaps = match inner.htlc.reconcile().await {
                    Ok((open, errors)) => {
                        if !errors.is_empty() {
                            force = true;
                        }
                        Some(open)
                    }
                    Err(EngineError::Halted(point)) => {
                        stop(&inner, format!("halted by the test hook at {point:?}"));
                        return;
                    }
                    Err(err) => {
                        tracing::warn!(%err, "HTLC reconcile failed");
                        force = true;
                        None
                    }
                };
                // The open work is recounted only from a pass that read both lists.
                if let (Some(transactions), Some(swaps)) = (transactions, swaps) {
                    lock(&inner.health).pending = transactions + swaps;
                    inner.kept.fetch_sub(kept_before, Ordering::SeqCst);
                }
            }
        }
        lock(&inner.health).loop_at = Instant::now();
        tokio::select! {
            _ = shutdown.changed() => {}
            () = inner.trigger.notified() => { force = true; }
            () = tokio::time::sleep(inner.settings.poll_interval) => {}
        }
    }
    // A graceful stop lets the drives in flight finish their action.
    engine.drives().finish().await;
    inner.htlc.drives().finish().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::transaction_manager::TransactionManager::{TxNoPermission, TxNotFound};

    fn reverted(e: TmErr) -> ChainError {
        ChainError::Reverted {
            chain: "governance".into(),
            what: "begin".into(),
            revert: ContractRevert::TransactionManager(e),
        }
    }

    #[test]
    fn refusals_of_begin_map_to_typed_submit_errors() {
        let user = Address::repeat_byte(5);
        let err = SubmitError::from_chain(reverted(TmErr::TxNoPermission(TxNoPermission {
            initiator: user,
            step: 1,
        })));
        assert!(
            matches!(err, SubmitError::NoPermission { initiator, step: 1 } if initiator == user)
        );
        assert_eq!(err.to_string(), format!("{user} lacks TWO_PHASE permission on step 1"));
        let err =
            SubmitError::from_chain(reverted(TmErr::TxNotFound(TxNotFound { txId: B256::ZERO })));
        assert!(matches!(err, SubmitError::Refused(_)), "{err}");
        let rpc = ChainError::Rpc {
            chain: "governance".into(),
            what: "begin".into(),
            message: "down".into(),
            transient: true,
        };
        assert!(matches!(SubmitError::from_chain(rpc), SubmitError::Chain(e) if e.is_retryable()));
    }

    #[tokio::test]
    async fn start_rejects_a_zero_reconcile_period() {
        let settings = RelayerSettings {
            institution: 1,
            governance: ChainEndpoint {
                rpc_url: "http://127.0.0.1:1".parse().expect("url"),
                chain_id: None,
                confirmations: 1,
                contracts: GovernanceAddresses {
                    registry: Address::ZERO,
                    chain_registry: Address::ZERO,
                    permission_manager: Address::ZERO,
                    transaction_manager: Address::ZERO,
                    supervision: Address::ZERO,
                },
                options: ChainOptions::default(),
            },
            chains: Vec::new(),
            state_dir: std::env::temp_dir(),
            poll_interval: Duration::from_millis(10),
            reconcile_every_blocks: 0,
            health: HealthPolicy::default(),
            max_open_work: DEFAULT_MAX_OPEN_WORK,
        };
        let err = Relayer::start(settings, PrivateKeySigner::random(), Arc::new(Metrics::new()))
            .await
            .expect_err("refused");
        assert!(matches!(err, RelayerError::Settings(_)), "{err}");
    }
}
