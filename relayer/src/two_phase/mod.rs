//! The relayer's 2PC engine: every 2PC decision the Rust side makes lives here.
//!
//! It works from on-chain state only (no database): for each served chain key it pages through
//! the TransactionManager's `openTransactions`, reads each transaction, fetches its steps from the
//! `TransactionBegun` log at `beganBlock` (checking `keccak256(op) == stepOf(txId, i).opHash`),
//! compares with the resource's `stateOf(txId)` and performs the next missing actions:
//!
//! | governance state        | resource        | action                                      |
//! |-------------------------|-----------------|---------------------------------------------|
//! | Preparing, deadline hit | any             | `expire` (anyone may)                       |
//! | Preparing, not voted    | None            | `prepare`; vote yes, or no on a refusal     |
//! | Preparing, not voted    | Prepared        | vote yes (a previous run prepared)          |
//! | Preparing, not voted    | RolledBack      | vote no                                     |
//! | Committing              | not Committed   | `commit`, then `ack` if not acked           |
//! | Aborting                | not RolledBack  | `rollback`, then `ack` if not acked         |
//!
//! State is re-read before each send (another relayer may have acted), and "already done"
//! refusals (`TxAlreadyVoted`, `TxAlreadyAcked`, `TxNotPreparing` after a race) count as done.
//! Every action is idempotent on both chains, so two relayers driving the same step is safe.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};

use alloy::primitives::{Address, B256, Bytes, keccak256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;

use crate::audit::{
    AuditError, Auditor, CoverKey, CoverKind, Interface, Operation, Protocol, ReportError, Subject,
};
use crate::bindings::transaction_manager::ITransactionManager::Transaction;
use crate::bindings::transaction_manager::TransactionManager::{
    self as tm, TransactionManagerErrors as TmErr,
};
use crate::bindings::{TxState, XaTxState};
use crate::chain::{ChainClient, ChainError};
use crate::errors::ContractRevert;
use crate::metrics::{ActionResult, Metrics};
use crate::protocol::Step;
use crate::resource::{ResourceError, TwoPhaseResource};

pub mod drives;

pub use drives::{Driven, Drives};

/// A named point of the protocol, reported to the [`ProtocolHook`] right after it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolPoint {
    /// `begin` was mined (submitted through the API).
    Begun {
        /// The transaction.
        tx_id: B256,
    },
    /// `prepare` was mined on the step's resource; the vote is not sent yet.
    Prepared {
        /// The transaction.
        tx_id: B256,
        /// The step.
        step: u8,
    },
    /// The step's vote was mined.
    Voted {
        /// The transaction.
        tx_id: B256,
        /// The step.
        step: u8,
    },
    /// `expire` was mined.
    Expired {
        /// The transaction.
        tx_id: B256,
    },
    /// The relayer saw the decision for a step it serves; no resource action yet.
    Decided {
        /// The transaction.
        tx_id: B256,
        /// The step.
        step: u8,
    },
    /// `commit` was mined on the step's resource; the ack is not sent yet.
    Committed {
        /// The transaction.
        tx_id: B256,
        /// The step.
        step: u8,
    },
    /// `rollback` was mined on the step's resource; the ack is not sent yet.
    RolledBack {
        /// The transaction.
        tx_id: B256,
        /// The step.
        step: u8,
    },
    /// The step's ack was mined.
    Acked {
        /// The transaction.
        tx_id: B256,
        /// The step.
        step: u8,
    },
    /// An audit record of its own was mined: one no governance report carries (the initiator's
    /// relayer revealing the secret, on-chain state refused) or a repair too large to ride in the
    /// report. Reports carry their records inside (`TransactionManager.report`).
    Audited {
        /// The txId or swapId.
        subject: B256,
    },
    /// HTLC: `proposeSwap` was mined (submitted through the API); the secret is persisted.
    SwapProposed {
        /// The swap.
        swap_id: B256,
    },
    /// HTLC: `lock` of leg `leg` (0 = A, 1 = B) was mined on its chain; not recorded yet.
    HtlcLocked {
        /// The swap.
        swap_id: B256,
        /// The leg.
        leg: u8,
    },
    /// HTLC: `unlock` of leg `leg` was mined on its chain (for leg B by the initiator's relayer:
    /// the secret is now public, leg A not unlocked yet).
    HtlcUnlocked {
        /// The swap.
        swap_id: B256,
        /// The leg.
        leg: u8,
    },
}

/// What the relayer does after a [`ProtocolPoint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookAction {
    /// Go on.
    Continue,
    /// Stop the whole relayer at once, as if the process died here (tests of resumption).
    Halt,
}

/// A test hook called at every [`ProtocolPoint`]; see [`crate::runtime::Relayer::start_with_hook`].
pub type ProtocolHook = Arc<dyn Fn(&ProtocolPoint) -> HookAction + Send + Sync>;

/// The relayer serves 2PC steps on this chain.
#[derive(Debug, Clone)]
pub struct ServedResources {
    /// `keccak256(abi.encode(zone, chain))`.
    pub chain_key: B256,
    /// `zone.chain`, for logs.
    pub name: String,
    /// Resources by resource segment word.
    pub resources: BTreeMap<B256, Arc<dyn TwoPhaseResource>>,
}

/// The engine failed to drive a transaction.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A chain read or send failed.
    #[error(transparent)]
    Chain(Box<ChainError>),
    /// A resource action failed (not a business refusal).
    #[error(transparent)]
    Resource(Box<ResourceError>),
    /// The governance record is not what the protocol says (bad log, op hash mismatch).
    #[error("transaction {tx_id}: {message}")]
    Inconsistent {
        /// The transaction.
        tx_id: B256,
        /// What is wrong.
        message: String,
    },
    /// The audit record that must precede a governance report could not be written.
    #[error("audit: {0}")]
    Audit(Box<AuditError>),
    /// The test hook asked to stop here.
    #[error("halted by the test hook at {0:?}")]
    Halted(ProtocolPoint),
}

impl From<AuditError> for EngineError {
    fn from(e: AuditError) -> Self {
        EngineError::Audit(Box::new(e))
    }
}

impl From<ReportError> for EngineError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::Audit(a) => EngineError::Audit(Box::new(a)),
            ReportError::Chain(c) => EngineError::Chain(c),
        }
    }
}

impl From<ChainError> for EngineError {
    fn from(e: ChainError) -> Self {
        EngineError::Chain(Box::new(e))
    }
}

impl From<ResourceError> for EngineError {
    fn from(e: ResourceError) -> Self {
        EngineError::Resource(Box::new(e))
    }
}

/// A transaction hash the relayer sent, with what it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentTx {
    /// `begin`, `vote`, `prepare`, …
    pub action: &'static str,
    /// The step, for step actions.
    pub step: Option<u8>,
    /// The chain's name.
    pub chain: String,
    /// The transaction hash.
    pub tx_hash: B256,
}

/// What the last reconcile did.
#[derive(Debug, Clone, Default)]
pub struct ReconcileReport {
    /// Open transactions touching the served chains.
    pub pending: usize,
    /// Transactions that could not be driven this time, with why.
    pub errors: Vec<(B256, String)>,
}

/// The 2PC engine of one relayer.
pub struct Engine {
    gov: Arc<ChainClient>,
    tm: Address,
    served: Vec<ServedResources>,
    hook: Option<ProtocolHook>,
    metrics: Arc<Metrics>,
    auditor: Arc<Auditor>,
    steps: Mutex<HashMap<B256, Arc<Vec<Step>>>>,
    sent: Mutex<HashMap<B256, Vec<SentTx>>>,
    drives: Drives,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("tm", &self.tm)
            .field("served", &self.served)
            .field("hook", &self.hook.is_some())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Driven for Engine {
    fn drive(&self, id: B256) -> impl Future<Output = Result<(), EngineError>> + Send {
        Engine::drive(self, id)
    }
}

impl Engine {
    /// An engine driving steps on `served` through the TransactionManager at `tm`.
    pub fn new(
        gov: Arc<ChainClient>,
        tm: Address,
        served: Vec<ServedResources>,
        hook: Option<ProtocolHook>,
        metrics: Arc<Metrics>,
        auditor: Arc<Auditor>,
    ) -> Self {
        Engine {
            gov,
            tm,
            served,
            hook,
            metrics,
            auditor,
            steps: Mutex::new(HashMap::new()),
            sent: Mutex::new(HashMap::new()),
            drives: Drives::default(),
        }
    }

    /// The governance chain.
    pub fn gov(&self) -> &Arc<ChainClient> {
        &self.gov
    }

    /// The TransactionManager.
    pub fn tm(&self) -> Address {
        self.tm
    }

    /// The served chains.
    pub fn served(&self) -> &[ServedResources] {
        &self.served
    }

    /// The audit writer.
    pub fn auditor(&self) -> &Arc<Auditor> {
        &self.auditor
    }

    /// The transactions being driven.
    pub fn drives(&self) -> &Drives {
        &self.drives
    }

    /// The audit subject of a transaction.
    pub fn subject(&self, tx_id: B256, tx: &Transaction) -> Subject {
        Subject {
            id: tx_id,
            protocol: Protocol::TwoPhase,
            initiator: tx.initiator,
            initiator_institution: tx.institution,
            counterparty: Address::ZERO,
            chain_keys: lock(&self.steps)
                .get(&tx_id)
                .map(|steps| steps.iter().map(|s| chain_key_words(s.zone, s.chain)).collect())
                .unwrap_or_default(),
            from_block: tx.beganBlock,
        }
    }

    /// The audit operation of a step's resource action.
    fn step_operation(
        &self,
        covers: CoverKey,
        interface: Interface,
        step: u8,
        op: &Step,
        result: String,
        tx_hash: Option<B256>,
    ) -> Operation {
        let chain = self
            .served_chain(chain_key_words(op.zone, op.chain))
            .map(|c| c.name.clone())
            .unwrap_or_default();
        let path =
            crate::IPath::from_words(op.zone, op.chain, op.resource).ok().map(|p| p.to_string());
        let decoded = op_json(&op.op);
        let arguments = serde_json::json!({ "step": step, "op": decoded });
        Operation::business(covers, interface, &chain, path, arguments)
            .with_result(result)
            .sent(tx_hash, self.gov.address())
    }

    /// Calls the hook at `point`.
    pub fn checkpoint(&self, point: ProtocolPoint) -> Result<(), EngineError> {
        match &self.hook {
            Some(hook) if hook(&point) == HookAction::Halt => Err(EngineError::Halted(point)),
            _ => Ok(()),
        }
    }

    /// Records a transaction sent for `tx_id`.
    pub fn record(&self, tx_id: B256, sent: SentTx) {
        lock(&self.sent).entry(tx_id).or_default().push(sent);
    }

    /// Records the transaction that created `tx_id` (`begin`) ahead of any other: the loop may
    /// have voted before the submitter got `begin`'s receipt back.
    pub fn record_first(&self, tx_id: B256, sent: SentTx) {
        lock(&self.sent).entry(tx_id).or_default().insert(0, sent);
    }

    /// The transactions this relayer sent for `tx_id` (since it started).
    pub fn sent_for(&self, tx_id: B256) -> Vec<SentTx> {
        lock(&self.sent).get(&tx_id).cloned().unwrap_or_default()
    }

    fn served_chain(&self, key: B256) -> Option<&ServedResources> {
        self.served.iter().find(|s| s.chain_key == key)
    }

    /// The resource of a step, when this relayer serves it.
    pub fn resource_for(&self, step: &Step) -> Option<Arc<dyn TwoPhaseResource>> {
        let key = chain_key_words(step.zone, step.chain);
        self.served_chain(key).and_then(|s| s.resources.get(&step.resource).cloned())
    }

    /// One full pass over every open transaction touching the served chains: a drive starts for
    /// each one not being driven (see [`Drives`]). The report's errors are those the drives met
    /// since the last pass; a test hook's halt met by any drive is returned as the error.
    pub async fn reconcile(self: &Arc<Self>) -> Result<ReconcileReport, EngineError> {
        let mut ids = BTreeSet::new();
        for served in &self.served {
            let (tm_addr, key) = (self.tm, served.chain_key);
            let page = self
                .gov
                .read_pages("openTransactions", |p, offset, limit| async move {
                    tm::new(tm_addr, p).openTransactions(key, offset, limit).call().await
                })
                .await?;
            ids.extend(page);
        }
        let pending = ids.len();
        let errors = self.drives.start_engine(self, ids)?;
        Ok(ReconcileReport { pending, errors })
    }

    /// Reads `transaction(txId)`.
    pub async fn transaction(&self, tx_id: B256) -> Result<(Transaction, TxState), EngineError> {
        let tm_addr = self.tm;
        let tx =
            self.gov
                .read("transaction", |p| async move {
                    tm::new(tm_addr, p).transaction(tx_id).call().await
                })
                .await?;
        let state = TxState::try_from(tx.state)
            .map_err(|e| EngineError::Inconsistent { tx_id, message: e.to_string() })?;
        Ok((tx, state))
    }

    /// Reads `stepOf(txId, step)`: (chain key, op hash).
    pub async fn step_record(&self, tx_id: B256, step: u8) -> Result<(B256, B256), EngineError> {
        let tm_addr = self.tm;
        let rec = self
            .gov
            .read("stepOf", |p| async move { tm::new(tm_addr, p).stepOf(tx_id, step).call().await })
            .await?;
        Ok((rec.chainKey, rec.opHash))
    }

    /// The steps of a transaction, from its `TransactionBegun` log, checked against storage.
    pub async fn steps(
        &self,
        tx_id: B256,
        tx: &Transaction,
    ) -> Result<Arc<Vec<Step>>, EngineError> {
        if let Some(steps) = lock(&self.steps).get(&tx_id) {
            return Ok(steps.clone());
        }
        let filter = Filter::new()
            .address(self.tm)
            .event_signature(tm::TransactionBegun::SIGNATURE_HASH)
            .topic1(tx_id)
            .from_block(tx.beganBlock)
            .to_block(tx.beganBlock);
        let logs =
            self.gov
                .read("TransactionBegun log", |p| {
                    let filter = filter.clone();
                    async move {
                        p.get_logs(&filter).await.map_err(alloy::contract::Error::TransportError)
                    }
                })
                .await?;
        let inconsistent = |message: String| EngineError::Inconsistent { tx_id, message };
        let log = logs.iter().find(|l| l.address() == self.tm).ok_or_else(|| {
            inconsistent(format!("no TransactionBegun log at block {}", tx.beganBlock))
        })?;
        let begun = tm::TransactionBegun::decode_log_data(log.data())
            .map_err(|e| inconsistent(format!("bad TransactionBegun log: {e}")))?;
        if begun.steps.len() != usize::from(tx.stepCount) {
            return Err(inconsistent(format!(
                "log has {} steps, storage {}",
                begun.steps.len(),
                tx.stepCount
            )));
        }
        let steps: Vec<Step> = begun
            .steps
            .into_iter()
            .map(|s| Step { zone: s.zone, chain: s.chain, resource: s.resource, op: s.op })
            .collect();
        for (i, step) in steps.iter().enumerate() {
            let index = u8::try_from(i).map_err(|_| inconsistent("too many steps".into()))?;
            let (key, op_hash) = self.step_record(tx_id, index).await?;
            if op_hash != keccak256(&step.op) || key != chain_key_words(step.zone, step.chain) {
                return Err(inconsistent(format!("step {i} does not match stepOf")));
            }
        }
        let steps = Arc::new(steps);
        lock(&self.steps).insert(tx_id, steps.clone());
        Ok(steps)
    }

    /// Drives one transaction as far as this relayer can now.
    pub async fn drive(&self, tx_id: B256) -> Result<(), EngineError> {
        let (tx, state) = self.transaction(tx_id).await?;
        if state == TxState::None || state.is_final() {
            return Ok(());
        }
        let steps = self.steps(tx_id, &tx).await?;
        if state == TxState::Preparing && self.gov.now().await? >= tx.deadline {
            self.expire(tx_id, &tx).await?;
        }
        let mut first_error = None;
        for (i, step) in steps.iter().enumerate() {
            let Some(resource) = self.resource_for(step) else { continue };
            let index = u8::try_from(i).unwrap_or(u8::MAX);
            match self.drive_step(tx_id, index, step, resource.as_ref()).await {
                Ok(()) => {}
                Err(EngineError::Halted(p)) => return Err(EngineError::Halted(p)),
                Err(err) => {
                    tracing::warn!(%tx_id, step = i, %err, "step not driven");
                    first_error.get_or_insert(err);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    async fn expire(&self, tx_id: B256, tx: &Transaction) -> Result<(), EngineError> {
        let args = serde_json::json!({ "deadline": tx.deadline });
        let pending = Operation::governance_pending(
            CoverKey::new(CoverKind::Expired, 0),
            Interface::Expire,
            args,
            self.gov.address(),
        );
        let call = tm::expireCall { txId: tx_id };
        let subject = self.subject(tx_id, tx);
        match self.auditor.report(&subject, vec![pending], &call, is_already_done).await {
            Ok(hash) => {
                self.record_gov(tx_id, "expire", None, hash);
                self.checkpoint(ProtocolPoint::Expired { tx_id })
            }
            Err(err) if err.chain().is_some_and(is_already_done) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    async fn drive_step(
        &self,
        tx_id: B256,
        step: u8,
        op: &Step,
        resource: &dyn TwoPhaseResource,
    ) -> Result<(), EngineError> {
        let bit = 1u16 << step;
        let (tx, state) = self.transaction(tx_id).await?;
        match state {
            TxState::Preparing => {
                if tx.votedMask & bit != 0 {
                    return Ok(());
                }
                let (ok, evidence, result, prepared_in) = match resource.state(tx_id).await? {
                    XaTxState::None => match resource.prepare(tx_id, &op.op).await {
                        Ok(r) => {
                            self.metrics.action("prepare", ActionResult::Ok);
                            self.record_step(tx_id, "prepare", step, r.tx_hash);
                            self.checkpoint(ProtocolPoint::Prepared { tx_id, step })?;
                            let evidence = Bytes::copy_from_slice(r.tx_hash.as_slice());
                            (true, evidence, "ok".to_owned(), Some(r.tx_hash))
                        }
                        Err(ResourceError::Refused(revert)) => {
                            self.metrics.action("prepare", ActionResult::Failed);
                            tracing::info!(%tx_id, step, %revert, "prepare refused: voting no");
                            (false, Bytes::new(), format!("refused: {revert}"), None)
                        }
                        Err(err) => {
                            self.metrics.action("prepare", ActionResult::Failed);
                            return Err(err.into());
                        }
                    },
                    s @ (XaTxState::Prepared | XaTxState::Committed) => {
                        (true, Bytes::new(), format!("ok (found {s:?} on chain)"), None)
                    }
                    XaTxState::RolledBack => (
                        false,
                        Bytes::new(),
                        "refused (found RolledBack on chain)".to_owned(),
                        None,
                    ),
                };
                let (tx, state) = self.transaction(tx_id).await?;
                if state != TxState::Preparing || tx.votedMask & bit != 0 {
                    return Ok(());
                }
                let covers = CoverKey::new(CoverKind::Voted, step);
                let prepare =
                    self.step_operation(covers, Interface::Prepare, step, op, result, prepared_in);
                let args =
                    serde_json::json!({ "step": step, "ok": ok, "evidence": evidence.to_string() });
                let vote = Operation::governance_pending(
                    covers,
                    Interface::Vote,
                    args,
                    self.gov.address(),
                );
                let call = tm::voteCall { txId: tx_id, step, ok, evidence };
                match self
                    .auditor
                    .report(&self.subject(tx_id, &tx), vec![prepare, vote], &call, is_already_done)
                    .await
                {
                    Ok(hash) => {
                        self.record_gov(tx_id, "vote", Some(step), hash);
                        self.checkpoint(ProtocolPoint::Voted { tx_id, step })
                    }
                    Err(err) if err.chain().is_some_and(is_already_done) => Ok(()),
                    Err(err) => Err(err.into()),
                }
            }
            TxState::Committing | TxState::Aborting => {
                if tx.ackedMask & bit != 0 {
                    return Ok(());
                }
                self.checkpoint(ProtocolPoint::Decided { tx_id, step })?;
                let commit = state == TxState::Committing;
                let want = if commit { XaTxState::Committed } else { XaTxState::RolledBack };
                let mut evidence = Bytes::new();
                let mut done = (format!("ok (found {want:?} on chain)"), None);
                if resource.state(tx_id).await? != want {
                    let (kind, result) = if commit {
                        ("commit", resource.commit(tx_id).await)
                    } else {
                        ("rollback", resource.rollback(tx_id).await)
                    };
                    self.metrics.action(
                        kind,
                        if result.is_ok() { ActionResult::Ok } else { ActionResult::Failed },
                    );
                    let r = result?;
                    self.record_step(tx_id, kind, step, r.tx_hash);
                    evidence = Bytes::copy_from_slice(r.tx_hash.as_slice());
                    done = ("ok".to_owned(), Some(r.tx_hash));
                    self.checkpoint(if commit {
                        ProtocolPoint::Committed { tx_id, step }
                    } else {
                        ProtocolPoint::RolledBack { tx_id, step }
                    })?;
                }
                let (tx, _) = self.transaction(tx_id).await?;
                if tx.ackedMask & bit != 0 {
                    return Ok(());
                }
                let covers = CoverKey::new(CoverKind::Acked, step);
                let interface = if commit { Interface::Commit } else { Interface::Rollback };
                let action = self.step_operation(covers, interface, step, op, done.0, done.1);
                let args = serde_json::json!({ "step": step, "evidence": evidence.to_string() });
                let ack =
                    Operation::governance_pending(covers, Interface::Ack, args, self.gov.address());
                let call = tm::ackCall { txId: tx_id, step, evidence };
                match self
                    .auditor
                    .report(&self.subject(tx_id, &tx), vec![action, ack], &call, is_already_done)
                    .await
                {
                    Ok(hash) => {
                        self.record_gov(tx_id, "ack", Some(step), hash);
                        self.checkpoint(ProtocolPoint::Acked { tx_id, step })
                    }
                    Err(err) if err.chain().is_some_and(is_already_done) => Ok(()),
                    Err(err) => Err(err.into()),
                }
            }
            TxState::None | TxState::Committed | TxState::Aborted => Ok(()),
        }
    }

    fn record_gov(&self, tx_id: B256, action: &'static str, step: Option<u8>, tx_hash: B256) {
        let chain = self.gov.name().to_owned();
        self.record(tx_id, SentTx { action, step, chain, tx_hash });
    }

    fn record_step(&self, tx_id: B256, action: &'static str, step: u8, tx_hash: B256) {
        let chain = lock(&self.steps)
            .get(&tx_id)
            .and_then(|s| s.get(usize::from(step)).cloned())
            .and_then(|s| {
                self.served_chain(chain_key_words(s.zone, s.chain)).map(|c| c.name.clone())
            })
            .unwrap_or_default();
        self.record(tx_id, SentTx { action, step: Some(step), chain, tx_hash });
    }
}

/// Refusals meaning another relayer (or an earlier run) already did it. `TxNotDecided` only
/// reaches an `ack`, sent after the relayer saw the decision, so it means "final already".
pub(crate) fn is_already_done(err: &ChainError) -> bool {
    matches!(
        err.revert(),
        Some(ContractRevert::TransactionManager(
            TmErr::TxAlreadyVoted(_)
                | TmErr::TxAlreadyAcked(_)
                | TmErr::TxNotPreparing(_)
                | TmErr::TxNotDecided(_)
        ))
    )
}

/// A step's op for the audit record: the XaLedger op decoded, or its raw bytes.
pub fn op_json(op: &Bytes) -> serde_json::Value {
    crate::protocol::XaOp::decode(op).map_or_else(
        |_| serde_json::json!({ "raw": op.to_string() }),
        |x| {
            serde_json::json!({
                "kind": x.kind.to_string(), "account": x.account, "amount": x.amount.to_string(),
            })
        },
    )
}

/// `keccak256(abi.encode(zone, chain))` of raw words (= [`crate::ipath::chain_key`]).
pub fn chain_key_words(zone: B256, chain: B256) -> B256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(zone.as_slice());
    buf[32..].copy_from_slice(chain.as_slice());
    keccak256(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::transaction_manager::TransactionManager::{
        TxAlreadyVoted, TxDeadlinePassed, TxNotDecided,
    };

    fn reverted(e: TmErr) -> ChainError {
        ChainError::Reverted {
            chain: "governance".into(),
            what: "vote".into(),
            revert: ContractRevert::TransactionManager(e),
        }
    }

    #[test]
    fn chain_key_of_words_is_ipath_chain_key() {
        let path: crate::IPath = "zoneA.chainA.ledger".parse().expect("path");
        let (zone, chain, _) = path.to_words();
        assert_eq!(chain_key_words(zone, chain), path.chain_key());
    }

    #[test]
    fn races_lost_to_another_relayer_count_as_done() {
        let id = B256::repeat_byte(1);
        assert!(is_already_done(&reverted(TmErr::TxAlreadyVoted(TxAlreadyVoted {
            txId: id,
            step: 0
        }))));
        assert!(is_already_done(&reverted(TmErr::TxNotDecided(TxNotDecided {
            txId: id,
            state: 4
        }))));
        assert!(!is_already_done(&reverted(TmErr::TxDeadlinePassed(TxDeadlinePassed {
            txId: id,
            deadline: 1
        }))));
        let rpc = ChainError::Rpc {
            chain: "governance".into(),
            what: "vote".into(),
            message: "connection refused".into(),
            transient: true,
        };
        assert!(!is_already_done(&rpc));
    }
}
