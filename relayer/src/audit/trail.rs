//! Reading the audit trail and the governance events it covers from the governance chain:
//! used by the relayer (is this operation audited?), by `crossgov audit` and by tests.

use alloy::primitives::{Address, B256, Bytes, keccak256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use serde::{Deserialize, Serialize};

use super::envelope::EnvelopeError;
use super::record::{CoverKey, CoverKind};
use crate::bindings::supervision::Supervision::RecordAppended;
use crate::bindings::transaction_manager::TransactionManager as tm;
use crate::chain::ChainError;

/// Auditing or reading the trail failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The governance chain could not be read (retryable).
    #[error("governance chain: {what}: {message}")]
    Rpc {
        /// What was read.
        what: &'static str,
        /// The transport's message.
        message: String,
    },
    /// A log is not what the contract emits.
    #[error("bad {event} log in block {block}: {message}")]
    BadLog {
        /// The event.
        event: &'static str,
        /// Its block.
        block: u64,
        /// The decoding error.
        message: String,
    },
    /// An envelope cannot be parsed, built or opened.
    #[error("record {index}: {source}")]
    Envelope {
        /// The record's index in the trail (`u64::MAX` while sealing).
        index: u64,
        /// Why.
        source: EnvelopeError,
    },
    /// The decrypted plaintext is not a version-1 record.
    #[error("record {index}: decrypted, but not a version-1 audit record: {message}")]
    BadRecord {
        /// The record's index.
        index: u64,
        /// Why.
        message: String,
    },
    /// Sending `Supervision.record` failed.
    #[error(transparent)]
    Send(Box<ChainError>),
    /// One operation alone does not fit an envelope.
    #[error("an audit record of one operation is {size} bytes, over the {max}-byte limit")]
    TooLarge {
        /// Its size.
        size: usize,
        /// Supervision's `MAX_ENVELOPE_BYTES`.
        max: usize,
    },
}

impl AuditError {
    /// Whether a node lacks what the relayer's settings need (see
    /// [`ChainError::is_unsupported`]).
    pub fn is_misconfigured(&self) -> bool {
        match self {
            AuditError::Send(e) => e.is_unsupported() || matches!(**e, ChainError::LogRange { .. }),
            _ => false,
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            AuditError::Rpc { .. } => true,
            AuditError::Send(e) => e.is_retryable(),
            _ => false,
        }
    }
}

fn rpc(what: &'static str) -> impl Fn(alloy::transports::TransportError) -> AuditError {
    move |e| AuditError::Rpc { what, message: e.to_string() }
}

/// One record of the trail, as its `RecordAppended` log carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrailRecord {
    /// 0-based position in the hash chain.
    pub index: u64,
    /// txId or swapId.
    pub subject: B256,
    /// The writing relayer's institution.
    pub institution: u64,
    /// The writing relayer.
    pub relayer: Address,
    /// `keccak256(envelope)` as the contract computed it.
    pub record_hash: B256,
    /// The hash chain after this record.
    pub head: B256,
    /// The envelope.
    pub envelope: Bytes,
    /// Its block.
    pub block: u64,
    /// Its transaction.
    pub tx_hash: B256,
    /// Its block time, when the node reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
}

/// Logs matching `filter` in `[from, to]`, `range` blocks per request.
pub async fn logs_paged(
    provider: &DynProvider,
    filter: &Filter,
    from: u64,
    to: u64,
    range: u64,
) -> Result<Vec<Log>, AuditError> {
    crate::chain::logs_paged(provider, filter, from, to, range).await.map_err(|e| {
        if crate::chain::is_log_range_refusal(&e) {
            AuditError::Rpc {
                what: "get_logs",
                message: format!(
                    "{e} (the node limits log ranges: ask for fewer blocks than {range} at a time: max_log_range in the relayer config, --max-log-range on the command line)"
                ),
            }
        } else {
            rpc("get_logs")(e)
        }
    })
}

/// The records in blocks `[from, to]` (`to` = latest when `None`), optionally of one subject,
/// sorted by index.
pub async fn fetch_records(
    provider: &DynProvider,
    supervision: Address,
    from: u64,
    to: Option<u64>,
    subject: Option<B256>,
    range: u64,
) -> Result<Vec<TrailRecord>, AuditError> {
    let to = match to {
        Some(to) => to,
        None => provider.get_block_number().await.map_err(rpc("block number"))?,
    };
    let mut filter =
        Filter::new().address(supervision).event_signature(RecordAppended::SIGNATURE_HASH);
    if let Some(s) = subject {
        filter = filter.topic2(s);
    }
    let mut out = Vec::new();
    for log in logs_paged(provider, &filter, from, to, range).await? {
        let block = log.block_number.unwrap_or_default();
        let bad = |message: String| AuditError::BadLog { event: "RecordAppended", block, message };
        let ev = RecordAppended::decode_log_data(log.data()).map_err(|e| bad(e.to_string()))?;
        out.push(TrailRecord {
            index: u64::try_from(ev.index).map_err(|_| bad("index over u64".into()))?,
            subject: ev.subjectId,
            institution: ev.institution,
            relayer: ev.relayer,
            record_hash: ev.recordHash,
            head: ev.head,
            envelope: ev.envelope,
            block,
            tx_hash: log.transaction_hash.unwrap_or_default(),
            timestamp: log.block_timestamp,
        });
    }
    out.sort_by_key(|r| r.index);
    Ok(out)
}

/// Where the recomputed hash chain first departs from what it should be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(rename_all = "camelCase", tag = "problem")]
#[non_exhaustive]
pub enum ChainBreak {
    /// Record `index` is missing (dropped) from the trail.
    #[error("record {index} is missing: the trail jumps from {previous:?} to {found:?}")]
    Missing {
        /// The first missing index.
        index: u64,
        /// The last index present before the gap.
        previous: Option<u64>,
        /// The next index present (none when the trail ends early).
        found: Option<u64>,
    },
    /// Record `index`'s envelope does not hash to its recorded hash (altered).
    #[error(
        "record {index} was altered: its envelope hashes to {computed}, the chain recorded {recorded}"
    )]
    Altered {
        /// The record.
        index: u64,
        /// keccak256 of the envelope at hand.
        computed: B256,
        /// The hash in the record.
        recorded: B256,
    },
    /// The chain's head after record `index` is not the recomputation.
    #[error("record {index}: head {recorded} differs from the recomputed {computed}")]
    HeadMismatch {
        /// The record.
        index: u64,
        /// Recomputed head.
        computed: B256,
        /// Head in the record.
        recorded: B256,
    },
    /// The trail ends with another head than the contract's.
    #[error(
        "the trail's {count} records end at head {computed}, the contract's head is {onchain} after {onchain_count} records"
    )]
    HeadDiffers {
        /// Records in the trail.
        count: u64,
        /// Recomputed final head.
        computed: B256,
        /// `Supervision.head()`.
        onchain: B256,
        /// `Supervision.recordCount()`.
        onchain_count: u64,
    },
}

/// Recomputes `head = keccak256(head ‖ keccak256(envelope))` over the whole trail (indices
/// 0, 1, …) and compares with each record and with the contract's `head` and `recordCount`.
pub fn verify_chain(
    records: &[TrailRecord],
    onchain_count: u64,
    onchain_head: B256,
) -> Result<B256, ChainBreak> {
    let mut head = B256::ZERO;
    let mut previous = None;
    for (expected, r) in (0u64..).zip(records) {
        if r.index != expected {
            return Err(ChainBreak::Missing { index: expected, previous, found: Some(r.index) });
        }
        let computed = keccak256(&r.envelope);
        if computed != r.record_hash {
            return Err(ChainBreak::Altered { index: r.index, computed, recorded: r.record_hash });
        }
        let mut buf = [0u8; 64];
        buf[..32].copy_from_slice(head.as_slice());
        buf[32..].copy_from_slice(computed.as_slice());
        head = keccak256(buf);
        if head != r.head {
            return Err(ChainBreak::HeadMismatch {
                index: r.index,
                computed: head,
                recorded: r.head,
            });
        }
        previous = Some(r.index);
    }
    let count = records.len() as u64;
    if count < onchain_count {
        return Err(ChainBreak::Missing { index: count, previous, found: None });
    }
    if count != onchain_count || head != onchain_head {
        return Err(ChainBreak::HeadDiffers {
            count,
            computed: head,
            onchain: onchain_head,
            onchain_count,
        });
    }
    Ok(head)
}

/// A TransactionManager event an audit record must cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportedEvent {
    /// Which event, for which step or leg.
    pub key: CoverKey,
    /// Its block.
    pub block: u64,
    /// Its transaction.
    pub tx_hash: B256,
    /// The relayer the event names (events without one: `None`).
    pub relayer: Option<Address>,
    /// The event's fields.
    pub fields: serde_json::Value,
    /// Its block time, when the node reports it.
    pub timestamp: Option<u64>,
    /// For the event that opens a subject (`TransactionBegun`, `SwapProposed`): who takes part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opening: Option<Opening>,
}

/// What the opening event of a subject says about its parties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Opening {
    /// 2PC: the initiator's institution, as the event states it; HTLC: `None` (the parties'
    /// institutions follow from their accounts).
    pub institution: Option<u64>,
    /// The user who signed (leg A's sender for a swap).
    pub initiator: Address,
    /// HTLC: leg B's sender.
    pub counterparty: Option<Address>,
    /// Each step's (2PC) or leg's (HTLC) `keccak256(abi.encode(zone, chain))`.
    pub chain_keys: Vec<B256>,
}

/// The events the trail must cover (of `subject`, or of all subjects), in blocks `[from, to]`,
/// in chain order, each with its subject.
pub async fn reported_events(
    provider: &DynProvider,
    tm_address: Address,
    subject: Option<B256>,
    from: u64,
    to: u64,
    range: u64,
) -> Result<Vec<(B256, ReportedEvent)>, AuditError> {
    let mut filter = Filter::new().address(tm_address).event_signature(vec![
        tm::TransactionBegun::SIGNATURE_HASH,
        tm::StepVoted::SIGNATURE_HASH,
        tm::TransactionExpired::SIGNATURE_HASH,
        tm::StepAcked::SIGNATURE_HASH,
        tm::SwapProposed::SIGNATURE_HASH,
        tm::SwapAccepted::SIGNATURE_HASH,
        tm::LegLocked::SIGNATURE_HASH,
        tm::LegUnlocked::SIGNATURE_HASH,
        tm::LegRefunded::SIGNATURE_HASH,
        tm::LegVoided::SIGNATURE_HASH,
        tm::SwapExpired::SIGNATURE_HASH,
    ]);
    if let Some(s) = subject {
        filter = filter.topic1(s);
    }
    let mut out = Vec::new();
    for log in logs_paged(provider, &filter, from, to, range).await? {
        let Some(subject) = log.topics().get(1).copied() else { continue };
        if let Some(ev) = decode_reported(&log)? {
            out.push((subject, ev));
        }
    }
    Ok(out)
}

fn evidence_json(evidence: &Bytes) -> serde_json::Value {
    serde_json::Value::String(evidence.to_string())
}

fn decode_reported(log: &Log) -> Result<Option<ReportedEvent>, AuditError> {
    use serde_json::json;
    let block = log.block_number.unwrap_or_default();
    let Some(topic0) = log.topic0().copied() else { return Ok(None) };
    let mut opening = None;
    macro_rules! decode {
        ($event:ty) => {
            <$event>::decode_log_data(log.data()).map_err(|e| AuditError::BadLog {
                event: <$event>::SIGNATURE,
                block,
                message: e.to_string(),
            })?
        };
    }
    let (kind, index, relayer, fields) = match topic0 {
        t if t == tm::TransactionBegun::SIGNATURE_HASH => {
            let e = decode!(tm::TransactionBegun);
            let steps: Vec<_> = e
                .steps
                .iter()
                .map(|s| {
                    let path = crate::IPath::from_words(s.zone, s.chain, s.resource)
                        .map_or_else(|_| String::new(), |p| p.to_string());
                    json!({ "path": path, "op": s.op.to_string() })
                })
                .collect();
            let fields = json!({
                "initiator": e.initiator, "institution": e.institution, "deadline": e.deadline,
                "nonce": e.nonce.to_string(), "steps": steps,
            });
            opening = Some(Opening {
                institution: Some(e.institution),
                initiator: e.initiator,
                counterparty: None,
                chain_keys: e
                    .steps
                    .iter()
                    .map(|s| crate::two_phase::chain_key_words(s.zone, s.chain))
                    .collect(),
            });
            (CoverKind::Begun, 0, None, fields)
        }
        t if t == tm::StepVoted::SIGNATURE_HASH => {
            let e = decode!(tm::StepVoted);
            let f = json!({ "step": e.step, "ok": e.ok, "evidence": evidence_json(&e.evidence) });
            (CoverKind::Voted, e.step, Some(e.relayer), f)
        }
        t if t == tm::TransactionExpired::SIGNATURE_HASH => {
            (CoverKind::Expired, 0, None, json!({}))
        }
        t if t == tm::StepAcked::SIGNATURE_HASH => {
            let e = decode!(tm::StepAcked);
            let f = json!({ "step": e.step, "evidence": evidence_json(&e.evidence) });
            (CoverKind::Acked, e.step, Some(e.relayer), f)
        }
        t if t == tm::SwapProposed::SIGNATURE_HASH => {
            let e = decode!(tm::SwapProposed);
            let f = json!({ "initiator": e.initiator, "counterparty": e.counterparty,
                "hashlock": e.request.hashlock });
            opening = Some(Opening {
                institution: None,
                initiator: e.initiator,
                counterparty: Some(e.counterparty),
                chain_keys: [&e.request.legA, &e.request.legB]
                    .iter()
                    .map(|l| crate::two_phase::chain_key_words(l.zone, l.chain))
                    .collect(),
            });
            (CoverKind::SwapProposed, 0, None, f)
        }
        t if t == tm::SwapAccepted::SIGNATURE_HASH => (CoverKind::SwapAccepted, 0, None, json!({})),
        t if t == tm::LegLocked::SIGNATURE_HASH => {
            let e = decode!(tm::LegLocked);
            let f = json!({ "leg": e.leg, "evidence": evidence_json(&e.evidence) });
            (CoverKind::LegLocked, e.leg, Some(e.relayer), f)
        }
        t if t == tm::LegUnlocked::SIGNATURE_HASH => {
            let e = decode!(tm::LegUnlocked);
            let f = json!({ "leg": e.leg, "secret": e.secret,
                "evidence": evidence_json(&e.evidence) });
            (CoverKind::LegUnlocked, e.leg, Some(e.relayer), f)
        }
        t if t == tm::LegRefunded::SIGNATURE_HASH => {
            let e = decode!(tm::LegRefunded);
            let f = json!({ "leg": e.leg, "evidence": evidence_json(&e.evidence) });
            (CoverKind::LegRefunded, e.leg, Some(e.relayer), f)
        }
        t if t == tm::LegVoided::SIGNATURE_HASH => {
            let e = decode!(tm::LegVoided);
            let f = json!({ "leg": e.leg, "evidence": evidence_json(&e.evidence) });
            (CoverKind::LegVoided, e.leg, Some(e.relayer), f)
        }
        t if t == tm::SwapExpired::SIGNATURE_HASH => (CoverKind::SwapExpired, 0, None, json!({})),
        _ => return Ok(None),
    };
    Ok(Some(ReportedEvent {
        key: CoverKey::new(kind, index),
        block,
        tx_hash: log.transaction_hash.unwrap_or_default(),
        relayer,
        fields,
        timestamp: log.block_timestamp,
        opening,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trail(n: u64) -> Vec<TrailRecord> {
        let mut head = B256::ZERO;
        (0..n)
            .map(|index| {
                let envelope = Bytes::from(vec![u8::try_from(index).unwrap_or(0); 3]);
                let record_hash = keccak256(&envelope);
                head = keccak256([head.as_slice(), record_hash.as_slice()].concat());
                TrailRecord {
                    index,
                    subject: B256::ZERO,
                    institution: 1,
                    relayer: Address::ZERO,
                    record_hash,
                    head,
                    envelope,
                    block: index,
                    tx_hash: B256::ZERO,
                    timestamp: None,
                }
            })
            .collect()
    }

    #[test]
    fn an_intact_trail_verifies_to_the_contract_head() {
        let t = trail(4);
        let head = t[3].head;
        assert_eq!(verify_chain(&t, 4, head), Ok(head));
        assert_eq!(verify_chain(&[], 0, B256::ZERO), Ok(B256::ZERO));
    }

    #[test]
    fn the_first_dropped_or_altered_record_is_reported() {
        let t = trail(5);
        let head = t[4].head;
        let mut dropped = t.clone();
        dropped.remove(2);
        assert_eq!(
            verify_chain(&dropped, 5, head),
            Err(ChainBreak::Missing { index: 2, previous: Some(1), found: Some(3) })
        );
        let mut cut = t.clone();
        cut.pop();
        assert_eq!(
            verify_chain(&cut, 5, head),
            Err(ChainBreak::Missing { index: 4, previous: Some(3), found: None })
        );
        let mut altered = t.clone();
        altered[1].envelope = Bytes::from(vec![9u8; 3]);
        assert!(matches!(
            verify_chain(&altered, 5, head),
            Err(ChainBreak::Altered { index: 1, .. })
        ));
        let mut rehashed = altered.clone();
        rehashed[1].record_hash = keccak256(&rehashed[1].envelope);
        assert!(matches!(
            verify_chain(&rehashed, 5, head),
            Err(ChainBreak::HeadMismatch { index: 1, .. })
        ));
        assert!(matches!(
            verify_chain(&t, 5, B256::repeat_byte(1)),
            Err(ChainBreak::HeadDiffers { count: 5, .. })
        ));
    }
}
