//! The relayer's audit writer.
//!
//! Rule: a governance report (`begin`, `vote`, `expire`, `ack`, `proposeSwap`, `acceptSwap`, the
//! leg records, `expireSwap`) carries the audit record of its operations (e.g. `prepare` + `vote`)
//! inside the same `TransactionManager.report` item ([`Auditor::report`]): Supervision appends it in
//! the same step, so a report and its record stand or fall together and no crash can leave one
//! without the other. The record also covers every earlier event of the subject that no entitled
//! writer recorded and this institution may report (reports sent by software that does not follow
//! the rule, records lost, or written before this rule), reconstructed from the event. What no
//! report carries (the initiator's relayer revealing the secret, on-chain state refused) goes in
//! a record of its own ([`Auditor::ensure`], `Supervision.record`), written before the action.
//!
//! Coverage is read from the records' public headers (no key needed), and only from records of
//! this relayer's own institution: another member's record claiming our reports must not make
//! us skip ours (see [`super::entitlement`]). Likewise a repair covers only events this
//! institution is entitled to report. A record can precede its subject's first event, so the
//! first scan of a subject starts [`RECORD_LOOKBACK_BLOCKS`] earlier. A record is split only when
//! its envelope would exceed the contract's 16 KiB (the earlier parts then go in records of their
//! own first). With no active regulator nothing can be recorded: reports carry no record, and
//! the relayer logs it and goes on.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use alloy::primitives::{Address, B256, Bytes};
use alloy::sol_types::SolCall;

use super::entitlement::Parties;
use super::envelope::{Envelope, Recipient, os_random};
use super::record::{
    AuditRecord, CoverKey, CoverKind, Interface, Operation, Protocol, RECORD_VERSION,
};
use super::trail::{AuditError, ReportedEvent, fetch_records, reported_events};
use crate::bindings::supervision::Supervision::{self as sup, SupervisionErrors as SupErr};
use crate::bindings::transaction_manager::TransactionManager as tm;
use crate::bindings::{ReportItem, ReportKind};
use crate::chain::{BatchCodec, BatchLimits, Batcher, ChainClient, ChainError};
use crate::errors::ContractRevert;
use crate::metrics::{ActionResult, Metrics};
use alloy::rpc::types::TransactionReceipt;

/// A creation's record (written before `begin` / `proposeSwap`) is looked for this many blocks
/// before the subject's first event; one found earlier, or none, means the creation is repaired.
pub const RECORD_LOOKBACK_BLOCKS: u64 = 1024;

/// Supervision's `MAX_ENVELOPE_BYTES`.
pub const MAX_ENVELOPE_BYTES: usize = 16_384;

/// The subject an operation belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// txId or swapId.
    pub id: B256,
    /// 2PC or HTLC.
    pub protocol: Protocol,
    /// The user who signed the request.
    pub initiator: Address,
    /// The user's institution (2PC; 0 for swaps: read from the initiator's account when needed).
    pub initiator_institution: u64,
    /// HTLC: leg B's sender; zero for 2PC.
    pub counterparty: Address,
    /// Each step's (2PC) or leg's (HTLC) chain key: whose owners report its steps or legs.
    pub chain_keys: Vec<B256>,
    /// The block where the subject began (its first event).
    pub from_block: u64,
}

/// What [`Auditor::ensure`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Audited {
    /// Everything was covered already.
    AlreadyCovered,
    /// Records were written, covering these events.
    Written {
        /// The `Supervision.record` transactions.
        tx_hashes: Vec<B256>,
        /// The events they cover.
        covers: Vec<CoverKey>,
    },
    /// No regulator is active: nobody could read a record, so none was written.
    NoRegulators,
}

#[derive(Debug, Default)]
struct SubjectScan {
    /// Blocks up to here are scanned.
    scanned_to: Option<u64>,
    /// What our own institution's records cover.
    covered: BTreeSet<CoverKey>,
    /// What other institutions' records claim to cover, by writer institution.
    claimed: Vec<(u64, CoverKey)>,
    events: Vec<ReportedEvent>,
}

/// A subject's records and reports as scanned.
#[derive(Debug, Clone, Default)]
struct Scanned {
    covered: BTreeSet<CoverKey>,
    claimed: Vec<(u64, CoverKey)>,
    events: Vec<ReportedEvent>,
}

/// Writes the audit records of one relayer.
#[derive(Debug)]
pub struct Auditor {
    gov: Arc<ChainClient>,
    supervision: Address,
    tm: Address,
    registry: Address,
    chain_registry: Address,
    institution: u64,
    metrics: Arc<Metrics>,
    scans: Mutex<HashMap<B256, SubjectScan>>,
    /// One writer per subject at a time, so two tasks do not both cover the same event.
    writing: Mutex<HashMap<B256, Arc<tokio::sync::Mutex<()>>>>,
    /// Regulator keys by address. A regulator's address is the hash of its key, so an entry
    /// never goes stale; who is active is still read before every record.
    keys: Mutex<HashMap<Address, Recipient>>,
    /// The active regulators as read at a governance head.
    active: Mutex<Option<(u64, Vec<Address>)>>,
    /// Chain owners by chain key (a chain's owner never changes).
    owners: Mutex<HashMap<B256, u64>>,
    /// Every report item of this relayer rides in the next `TransactionManager.report`.
    reports: Batcher<ReportCodec>,
}

/// `TransactionManager.report`'s items, as the chain layer's batcher packs them.
#[derive(Debug)]
struct ReportCodec;

impl BatchCodec for ReportCodec {
    type Item = ReportItem;
    const WHAT: &'static str = "report";

    fn encode(&self, items: &[ReportItem]) -> Bytes {
        tm::reportCall { items: items.to_vec() }.abi_encode().into()
    }

    fn size(&self, item: &ReportItem) -> usize {
        // Head, kind, id and the two length-prefixed byte strings, padded.
        let padded = |n: usize| n.div_ceil(32) * 32;
        32 * 6 + padded(item.args.len()) + padded(item.envelope.len())
    }

    fn refused(&self, to: Address, receipt: &TransactionReceipt) -> Vec<(usize, Bytes)> {
        receipt
            .inner
            .logs()
            .iter()
            .filter(|l| l.address() == to)
            .filter_map(|l| l.log_decode::<tm::ReportItemRefused>().ok())
            .filter_map(|l| {
                let e = l.inner.data;
                Some((usize::try_from(e.index).ok()?, e.reason))
            })
            .collect()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Auditor {
    /// An auditor of `institution` writing to Supervision about the TransactionManager's events
    /// (`contracts` names both, and the registries that say who may report what).
    pub fn new(
        gov: Arc<ChainClient>,
        contracts: &crate::runtime::GovernanceAddresses,
        institution: u64,
        metrics: Arc<Metrics>,
    ) -> Self {
        let observe = {
            let metrics = metrics.clone();
            move |items| metrics.observe_report(items)
        };
        let reports = Batcher::new(
            gov.clone(),
            contracts.transaction_manager,
            ReportCodec,
            BatchLimits::default(),
            observe,
        );
        Auditor {
            reports,
            gov,
            supervision: contracts.supervision,
            tm: contracts.transaction_manager,
            registry: contracts.registry,
            chain_registry: contracts.chain_registry,
            institution,
            metrics,
            scans: Mutex::new(HashMap::new()),
            writing: Mutex::new(HashMap::new()),
            keys: Mutex::new(HashMap::new()),
            active: Mutex::new(None),
            owners: Mutex::new(HashMap::new()),
        }
    }

    /// The institutions taking part in `subject`, read from the registries.
    async fn parties(&self, subject: &Subject) -> Result<Parties, AuditError> {
        let mut owners = Vec::with_capacity(subject.chain_keys.len());
        for key in &subject.chain_keys {
            owners.push(self.owner_of(*key).await?);
        }
        let (initiator, counterparty) = match subject.protocol {
            Protocol::TwoPhase => (subject.initiator_institution, 0),
            Protocol::Htlc => (
                self.institution_of(subject.initiator).await?,
                self.institution_of(subject.counterparty).await?,
            ),
        };
        Ok(Parties { initiator, counterparty, owners })
    }

    async fn owner_of(&self, key: B256) -> Result<u64, AuditError> {
        if let Some(owner) = lock(&self.owners).get(&key) {
            return Ok(*owner);
        }
        let addr = self.chain_registry;
        let chain = self
            .gov
            .read("chainByKey", |p| async move {
                crate::bindings::ChainRegistry::new(addr, p).chainByKey(key).call().await
            })
            .await
            .map_err(|e| AuditError::Rpc { what: "chain owner", message: e.to_string() })?;
        if chain.owner != 0 {
            lock(&self.owners).insert(key, chain.owner);
        }
        Ok(chain.owner)
    }

    async fn institution_of(&self, account: Address) -> Result<u64, AuditError> {
        if account.is_zero() {
            return Ok(0);
        }
        let addr = self.registry;
        let of = self
            .gov
            .read("accountOf", |p| async move {
                crate::bindings::InstitutionRegistry::new(addr, p).accountOf(account).call().await
            })
            .await
            .map_err(|e| AuditError::Rpc { what: "account", message: e.to_string() })?;
        Ok(of.institutionId)
    }

    /// Brings the subject's cached coverage and events up to the latest block.
    async fn scan(&self, subject: &Subject) -> Result<Scanned, AuditError> {
        let provider = self.gov.provider();
        let latest = self
            .gov
            .head()
            .await
            .map_err(|e| AuditError::Rpc { what: "block number", message: e.to_string() })?;
        let scanned_to = lock(&self.scans).get(&subject.id).and_then(|s| s.scanned_to);
        let (from, records_from) = match scanned_to {
            Some(b) => (b + 1, b + 1),
            None => (subject.from_block, subject.from_block.saturating_sub(RECORD_LOOKBACK_BLOCKS)),
        };
        if from <= latest {
            let range = self.gov.config().max_log_range;
            let records = fetch_records(
                provider,
                self.supervision,
                records_from,
                Some(latest),
                Some(subject.id),
                range,
            )
            .await?;
            let events =
                reported_events(provider, self.tm, Some(subject.id), from, latest, range).await?;
            let mut scans = lock(&self.scans);
            let scan = scans.entry(subject.id).or_default();
            // Our own records cover our reports; another member's claim never does (it must
            // not make us skip ours), and counts only for repairs, where its writer is entitled.
            // Unparsable envelopes cover nothing; the header is public, so no key is needed.
            for r in &records {
                let Ok(env) = Envelope::decode(&r.envelope) else { continue };
                if r.institution == self.institution {
                    scan.covered.extend(env.covers);
                } else {
                    scan.claimed.extend(env.covers.into_iter().map(|c| (r.institution, c)));
                }
            }
            scan.events.extend(events.into_iter().map(|(_, e)| e));
            scan.scanned_to = Some(latest);
        }
        let scans = lock(&self.scans);
        Ok(scans.get(&subject.id).map_or_else(Scanned::default, |s| Scanned {
            covered: s.covered.clone(),
            claimed: s.claimed.clone(),
            events: s.events.clone(),
        }))
    }

    /// Makes sure `pending` (operations about to be reported) and every earlier event of the
    /// subject are covered by a record, writing one if not.
    pub async fn ensure(
        &self,
        subject: &Subject,
        pending: Vec<Operation>,
    ) -> Result<Audited, AuditError> {
        let subject_lock = lock(&self.writing).entry(subject.id).or_default().clone();
        let _writing = subject_lock.lock().await;
        let ops = self.to_record(subject, pending, false).await?;
        if ops.is_empty() {
            return Ok(Audited::AlreadyCovered);
        }
        let written_at = self.block_time().await?;
        self.write(subject, ops, written_at).await
    }

    /// The governance chain's time, which records carry as `written_at`.
    async fn block_time(&self) -> Result<u64, AuditError> {
        self.gov
            .now()
            .await
            .map_err(|e| AuditError::Rpc { what: "block time", message: e.to_string() })
    }

    /// What a record about to be written holds: `pending`, less what our records cover unless
    /// `with_covered`, after every earlier event of the subject that no entitled writer recorded
    /// and this institution may report (the repairs).
    async fn to_record(
        &self,
        subject: &Subject,
        pending: Vec<Operation>,
        with_covered: bool,
    ) -> Result<Vec<Operation>, AuditError> {
        let Scanned { covered, claimed, events } = self.scan(subject).await?;
        let pending_keys: BTreeSet<CoverKey> = pending.iter().map(|o| o.covers).collect();
        let unrecorded: Vec<&ReportedEvent> = events
            .iter()
            .filter(|e| !covered.contains(&e.key) && !pending_keys.contains(&e.key))
            .collect();
        let mut ops = Vec::new();
        if !unrecorded.is_empty() {
            // Repairs cover only what this institution may report and no entitled writer
            // recorded (an expiry any party may report needs one record, not one per party).
            let parties = self.parties(subject).await?;
            let recorded =
                |key: CoverKey| claimed.iter().any(|(i, c)| *c == key && parties.entitled(*i, key));
            ops.extend(
                unrecorded
                    .into_iter()
                    .filter(|e| parties.entitled(self.institution, e.key) && !recorded(e.key))
                    .map(operation_from_event),
            );
        }
        ops.extend(pending.into_iter().filter(|o| with_covered || !covered.contains(&o.covers)));
        Ok(ops)
    }

    /// Writes `ops` in records of their own (`Supervision.record`), as many as their size needs.
    async fn write(
        &self,
        subject: &Subject,
        ops: Vec<Operation>,
        written_at: u64,
    ) -> Result<Audited, AuditError> {
        let mut tx_hashes = Vec::new();
        let mut all_covers = Vec::new();
        let mut remaining = ops;
        // Supervision takes only envelopes wrapped for exactly the active regulators: if the set
        // changed between reading it and the record being mined, read it again and reseal.
        let mut resealed = 0;
        'seal: while !remaining.is_empty() {
            let recipients = self.regulators(resealed > 0).await?;
            if recipients.is_empty() {
                tracing::warn!(subject = %subject.id, "no active regulator: audit record not written");
                self.metrics.action("record", ActionResult::Skipped);
                return Ok(Audited::NoRegulators);
            }
            let sealed =
                self.seal_all(subject, std::mem::take(&mut remaining), &recipients, written_at)?;
            let mut sealed = sealed.into_iter();
            while let Some((envelope, ops)) = sealed.next() {
                let covers = envelope.covers.clone();
                let data =
                    sup::recordCall { subjectId: subject.id, envelope: envelope.encode().into() }
                        .abi_encode();
                match self.gov.sender().send("record", self.supervision, data.into()).await {
                    Ok(receipt) => {
                        self.metrics.action("record", ActionResult::Ok);
                        tx_hashes.push(receipt.transaction_hash);
                    }
                    Err(err) if no_regulators(&err) => {
                        self.metrics.action("record", ActionResult::Skipped);
                        tracing::warn!(subject = %subject.id, "regulators removed meanwhile: audit record not written");
                        return Ok(Audited::NoRegulators);
                    }
                    Err(err) if regulators_changed(&err) && resealed < 3 => {
                        resealed += 1;
                        tracing::info!(subject = %subject.id, "the regulators changed meanwhile: resealing");
                        remaining = ops;
                        remaining.extend(sealed.flat_map(|(_, ops)| ops));
                        continue 'seal;
                    }
                    Err(err) => {
                        self.metrics.action("record", ActionResult::Failed);
                        return Err(AuditError::Send(Box::new(err)));
                    }
                }
                if let Some(scan) = lock(&self.scans).get_mut(&subject.id) {
                    scan.covered.extend(covers.iter().copied());
                }
                all_covers.extend(covers);
            }
        }
        tracing::info!(subject = %subject.id, covers = all_covers.len(), "audit record written");
        Ok(Audited::Written { tx_hashes, covers: all_covers })
    }

    /// Stops sending reports at once, as a crash would (see [`Batcher::abort`]).
    pub fn abort_reports(&self) {
        self.reports.abort();
    }

    /// Pre-flight of a report's action before its record is built: `eth_call` of the bare entry
    /// point, nothing sent. While a regulator is active the chain refuses a bare entry point with
    /// `SupRecordRequired` only after every check of the action passed (the record is what
    /// `report` adds), so that refusal, about this very subject, says the action would stand.
    pub async fn preflight<C: Reportable>(
        &self,
        subject: B256,
        call: &C,
    ) -> Result<(), ChainError> {
        let data = call.abi_encode();
        match self.gov.sender().preflight(C::WHAT, self.tm, &data.into()).await {
            Err(e) if record_required_for(&e, subject) => Ok(()),
            other => other,
        }
    }

    /// Reports `call` about `subject` through `TransactionManager.report`, its audit record (of
    /// `pending` and of every earlier event of the subject this institution may report and no
    /// entitled writer recorded) inside the same item, so the report and its record stand or fall
    /// together. With no active regulator the item carries no record. A record too large for one
    /// envelope leaves its earlier parts in records of their own first. The item rides in the
    /// relayer's next packed `report` (the chain layer's batcher); it is refused as its entry point
    /// would refuse it, whether at pre-flight or named in the mined batch. The action is counted in
    /// the metrics under its entry point's name, a refusal `already_done` recognises as skipped.
    /// Returns the report's transaction hash.
    pub async fn report<C: Reportable>(
        &self,
        subject: &Subject,
        pending: Vec<Operation>,
        call: &C,
        already_done: fn(&ChainError) -> bool,
    ) -> Result<B256, ReportError> {
        let result = self.report_once(subject, pending, call).await;
        let outcome = match &result {
            Ok(_) => ActionResult::Ok,
            Err(e) if e.chain().is_some_and(already_done) => ActionResult::Skipped,
            Err(_) => ActionResult::Failed,
        };
        self.metrics.action(C::WHAT, outcome);
        result.map(|r| r.transaction_hash)
    }

    async fn report_once<C: Reportable>(
        &self,
        subject: &Subject,
        pending: Vec<Operation>,
        call: &C,
    ) -> Result<TransactionReceipt, ReportError> {
        let subject_lock = lock(&self.writing).entry(subject.id).or_default().clone();
        let _writing = subject_lock.lock().await;
        let mut ops = self.to_record(subject, pending, true).await?;
        let written_at = self.block_time().await?;
        let mut args = Vec::new();
        call.abi_encode_raw(&mut args);
        // Supervision takes only envelopes wrapped for exactly the active regulators (none when
        // there are none): if the set changed between reading it and the report being mined,
        // read it again and reseal.
        let mut resealed = 0;
        loop {
            let recipients = self.regulators(resealed > 0).await?;
            let (envelope, covers) = if recipients.is_empty() {
                (Vec::new(), Vec::new())
            } else {
                let mut sealed = self.seal_all(subject, ops.clone(), &recipients, written_at)?;
                let (last, last_ops) = sealed.pop().expect("seal_all seals at least one envelope");
                if !sealed.is_empty() {
                    let earlier: Vec<Operation> = sealed.into_iter().flat_map(|(_, o)| o).collect();
                    self.write(subject, earlier, written_at).await?;
                    // Written: a reseal must not write them again.
                    ops = last_ops;
                }
                let covers = last.covers.clone();
                (last.encode(), covers)
            };
            let item = ReportItem {
                kind: C::KIND.into(),
                id: subject.id,
                args: args.clone().into(),
                envelope: envelope.into(),
            };
            match self.reports.submit(C::WHAT, item).await {
                Ok(receipt) => {
                    if covers.is_empty() {
                        tracing::warn!(subject = %subject.id, "no active regulator: reported without an audit record");
                        self.metrics.action("record", ActionResult::Skipped);
                    } else {
                        self.metrics.action("record", ActionResult::Ok);
                        if let Some(scan) = lock(&self.scans).get_mut(&subject.id) {
                            scan.covered.extend(covers.iter().copied());
                        }
                    }
                    return Ok(receipt);
                }
                Err(err) if regulators_changed(&err) && resealed < 3 => {
                    resealed += 1;
                    tracing::info!(subject = %subject.id, "the regulators changed meanwhile: resealing");
                }
                Err(err) => return Err(ReportError::Chain(Box::new(err))),
            }
        }
    }

    /// Every active regulator with its key: the list is read once per governance block (records
    /// sealed in one block share it; `fresh` reads it again, after the chain said it changed), a
    /// key only the first time its regulator is seen.
    async fn regulators(&self, fresh: bool) -> Result<Vec<Recipient>, AuditError> {
        let addr = self.supervision;
        let rpc = |e: ChainError| AuditError::Rpc { what: "regulators", message: e.to_string() };
        let head = self.gov.sender().recent_head();
        let cached = lock(&self.active).clone();
        let list = match cached {
            Some((at, list)) if !fresh && head == Some(at) => list,
            _ => {
                let list =
                    self.gov
                        .read("regulators", |p| async move {
                            sup::new(addr, p).regulators().call().await
                        })
                        .await
                        .map_err(rpc)?;
                if let Some(head) = head {
                    *lock(&self.active) = Some((head, list.clone()));
                }
                list
            }
        };
        let mut out = Vec::with_capacity(list.len());
        for regulator in list {
            if let Some(known) = lock(&self.keys).get(&regulator) {
                out.push(known.clone());
                continue;
            }
            let r = self
                .gov
                .read("regulatorOf", |p| async move {
                    sup::new(addr, p).regulatorOf(regulator).call().await
                })
                .await
                .map_err(rpc)?;
            let mut xy = [0u8; 64];
            xy[..32].copy_from_slice(r.publicKeyX.as_slice());
            xy[32..].copy_from_slice(r.publicKeyY.as_slice());
            let recipient = Recipient::from_xy(&xy)
                .map_err(|source| AuditError::Envelope { index: u64::MAX, source })?;
            lock(&self.keys).insert(regulator, recipient.clone());
            out.push(recipient);
        }
        Ok(out)
    }

    /// One envelope for all `ops`, or several when one would exceed the contract's limit; each
    /// with the operations it holds.
    fn seal_all(
        &self,
        subject: &Subject,
        ops: Vec<Operation>,
        recipients: &[Recipient],
        written_at: u64,
    ) -> Result<Vec<(Envelope, Vec<Operation>)>, AuditError> {
        let record = AuditRecord {
            version: RECORD_VERSION,
            subject: subject.id,
            protocol: subject.protocol,
            initiator: subject.initiator,
            initiator_institution: subject.initiator_institution,
            institution: self.institution,
            relayer: self.gov.address(),
            written_at,
            operations: ops,
        };
        let seal = |record: &AuditRecord| -> Result<Envelope, AuditError> {
            let plaintext = serde_json::to_vec(record)
                .map_err(|e| AuditError::BadRecord { index: u64::MAX, message: e.to_string() })?;
            Envelope::seal(subject.id, &record.covers(), &plaintext, recipients, &mut os_random)
                .map_err(|source| AuditError::Envelope { index: u64::MAX, source })
        };
        let envelope = seal(&record)?;
        let size = envelope.encode().len();
        if size <= MAX_ENVELOPE_BYTES {
            return Ok(vec![(envelope, record.operations)]);
        }
        if record.operations.len() == 1 {
            return Err(AuditError::TooLarge { size, max: MAX_ENVELOPE_BYTES });
        }
        let mut first = record.operations;
        let second = first.split_off(first.len() / 2);
        let mut out = self.seal_all(subject, first, recipients, written_at)?;
        out.extend(self.seal_all(subject, second, recipients, written_at)?);
        Ok(out)
    }
}

fn no_regulators(err: &ChainError) -> bool {
    matches!(err.revert(), Some(ContractRevert::Supervision(SupErr::SupNoRegulators(_))))
}

/// Supervision refused the envelope's recipients: the active regulators changed after they were
/// read (a record for nobody while one is active, or one for somebody while none is, included).
fn regulators_changed(err: &ChainError) -> bool {
    matches!(
        err.revert(),
        Some(ContractRevert::Supervision(
            SupErr::SupEnvelopeRecipients(_)
                | SupErr::SupEnvelopeRecipient(_)
                | SupErr::SupRecordRequired(_)
                | SupErr::SupNoRegulators(_)
        ))
    )
}

/// The chain's refusal of a bare entry point for want of its audit record, about `subject`.
fn record_required_for(err: &ChainError, subject: B256) -> bool {
    matches!(
        err.revert(),
        Some(ContractRevert::Supervision(SupErr::SupRecordRequired(r))) if r.subjectId == subject
    )
}

/// A TransactionManager entry point that relayers report through `report`.
pub trait Reportable: SolCall {
    /// Its `ReportItem.kind`.
    const KIND: ReportKind;
    /// Its name, for logs, metrics and errors.
    const WHAT: &'static str;
}

macro_rules! reportable {
    ($($call:ident => $kind:ident),+ $(,)?) => {
        $(
            impl Reportable for tm::$call {
                const KIND: ReportKind = ReportKind::$kind;
                const WHAT: &'static str = ReportKind::$kind.entry_point();
            }
        )+
    };
}

reportable! {
    beginCall => Begin,
    voteCall => Vote,
    expireCall => Expire,
    ackCall => Ack,
    proposeSwapCall => ProposeSwap,
    acceptSwapCall => AcceptSwap,
    recordLegLockedCall => LegLocked,
    recordLegUnlockedCall => LegUnlocked,
    recordLegRefundedCall => LegRefunded,
    recordLegVoidCall => LegVoid,
    expireSwapCall => ExpireSwap,
}

/// Why [`Auditor::report`] did not report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The record could not be built (the subject's trail unreadable, an envelope error), or an
    /// earlier part of it not written.
    #[error("audit: {0}")]
    Audit(#[from] AuditError),
    /// The report was refused (its entry point's error) or could not be sent.
    #[error(transparent)]
    Chain(Box<ChainError>),
}

impl ReportError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ReportError::Audit(e) => e.is_retryable(),
            ReportError::Chain(e) => e.is_retryable(),
        }
    }

    /// The chain error, when the report was refused or could not be sent.
    pub fn chain(&self) -> Option<&ChainError> {
        match self {
            ReportError::Chain(e) => Some(e),
            ReportError::Audit(_) => None,
        }
    }
}

/// The interface a governance event reports.
pub fn interface_of(kind: CoverKind) -> Interface {
    match kind {
        CoverKind::Begun => Interface::Begin,
        CoverKind::Voted => Interface::Vote,
        CoverKind::Expired => Interface::Expire,
        CoverKind::Acked => Interface::Ack,
        CoverKind::SwapProposed => Interface::Propose,
        CoverKind::SwapAccepted => Interface::Accept,
        CoverKind::LegLocked => Interface::Lock,
        CoverKind::LegUnlocked => Interface::Unlock,
        CoverKind::LegRefunded => Interface::Timeout,
        CoverKind::LegVoided => Interface::Void,
        CoverKind::SwapExpired => Interface::ExpireSwap,
        CoverKind::SecretRevealed => Interface::Unlock,
        CoverKind::RefusedState => Interface::RefuseState,
    }
}

/// An operation reconstructed from its governance event (its writer's record was lost).
fn operation_from_event(event: &ReportedEvent) -> Operation {
    Operation {
        covers: event.key,
        interface: interface_of(event.key.kind),
        chain: "governance".into(),
        path: None,
        arguments: event.fields.clone(),
        result: "ok (reconstructed from the governance event)".into(),
        tx_hash: Some(event.tx_hash),
        performed_by: event.relayer,
        timestamp: event.timestamp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<C: Reportable>() -> (&'static str, &'static str) {
        (C::WHAT, C::SIGNATURE)
    }

    #[test]
    fn each_reportable_call_is_the_entry_point_its_kind_names() {
        for (what, signature) in [
            names::<tm::beginCall>(),
            names::<tm::voteCall>(),
            names::<tm::expireCall>(),
            names::<tm::ackCall>(),
            names::<tm::proposeSwapCall>(),
            names::<tm::acceptSwapCall>(),
            names::<tm::recordLegLockedCall>(),
            names::<tm::recordLegUnlockedCall>(),
            names::<tm::recordLegRefundedCall>(),
            names::<tm::recordLegVoidCall>(),
            names::<tm::expireSwapCall>(),
        ] {
            assert!(signature.starts_with(&format!("{what}(")), "{what} vs {signature}");
        }
        assert_eq!(ReportKind::ALL.len(), 11, "every kind has its call above");
    }
}
