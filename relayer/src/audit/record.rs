//! The audit record (the envelope's plaintext, JSON) and the governance events it covers.

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};

use super::envelope::EnvelopeError;

/// The record format version.
pub const RECORD_VERSION: u8 = 1;

/// A TransactionManager event an audit record covers. Each happens at most once per subject and
/// index, so `(subject, kind, index)` names one reported operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[repr(u8)]
#[non_exhaustive]
pub enum CoverKind {
    /// `TransactionBegun` (2PC begin).
    Begun = 1,
    /// `StepVoted` (prepare + vote of step `index`).
    Voted = 2,
    /// `TransactionExpired`.
    Expired = 3,
    /// `StepAcked` (commit or rollback + ack of step `index`).
    Acked = 4,
    /// `SwapProposed`.
    SwapProposed = 5,
    /// `SwapAccepted`.
    SwapAccepted = 6,
    /// `LegLocked` (lock of leg `index`, 0 = A, 1 = B).
    LegLocked = 7,
    /// `LegUnlocked`.
    LegUnlocked = 8,
    /// `LegRefunded` (timeout).
    LegRefunded = 9,
    /// `LegVoided`.
    LegVoided = 10,
    /// `SwapExpired`.
    SwapExpired = 11,
    /// The initiator's relayer revealed the secret by unlocking leg `index` (B) on its chain: an
    /// operation of the initiator's institution that no governance event reports (the leg's
    /// own relayer reports the unlock, under `LegUnlocked`).
    SecretRevealed = 12,
    /// A relayer refused on-chain state of leg `index` that contradicts what the parties signed
    /// (a lock with other terms, a leg recorded locked that its chain does not show); no
    /// governance event reports it.
    RefusedState = 13,
}

impl CoverKind {
    const ALL: [CoverKind; 13] = [
        CoverKind::Begun,
        CoverKind::Voted,
        CoverKind::Expired,
        CoverKind::Acked,
        CoverKind::SwapProposed,
        CoverKind::SwapAccepted,
        CoverKind::LegLocked,
        CoverKind::LegUnlocked,
        CoverKind::LegRefunded,
        CoverKind::LegVoided,
        CoverKind::SwapExpired,
        CoverKind::SecretRevealed,
        CoverKind::RefusedState,
    ];

    /// The wire byte's kind.
    pub fn from_byte(byte: u8) -> Option<CoverKind> {
        CoverKind::ALL.into_iter().find(|k| *k as u8 == byte)
    }

    /// The event's name.
    pub fn event_name(self) -> &'static str {
        match self {
            CoverKind::Begun => "TransactionBegun",
            CoverKind::Voted => "StepVoted",
            CoverKind::Expired => "TransactionExpired",
            CoverKind::Acked => "StepAcked",
            CoverKind::SwapProposed => "SwapProposed",
            CoverKind::SwapAccepted => "SwapAccepted",
            CoverKind::LegLocked => "LegLocked",
            CoverKind::LegUnlocked => "LegUnlocked",
            CoverKind::LegRefunded => "LegRefunded",
            CoverKind::LegVoided => "LegVoided",
            CoverKind::SwapExpired => "SwapExpired",
            CoverKind::SecretRevealed => "SecretRevealed",
            CoverKind::RefusedState => "RefusedState",
        }
    }

    /// Whether a TransactionManager event of this kind exists (all but the relayer's own
    /// [`CoverKind::SecretRevealed`] and [`CoverKind::RefusedState`]).
    pub fn is_event(self) -> bool {
        !matches!(self, CoverKind::SecretRevealed | CoverKind::RefusedState)
    }
}

/// One covered event: its kind and its step or leg (0 for subject-wide events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CoverKey {
    /// The event.
    pub kind: CoverKind,
    /// Step or leg.
    pub index: u8,
}

impl CoverKey {
    /// A covered event.
    pub fn new(kind: CoverKind, index: u8) -> CoverKey {
        CoverKey { kind, index }
    }

    /// From the envelope's two bytes.
    pub fn from_bytes(kind: u8, index: u8) -> Result<CoverKey, EnvelopeError> {
        let kind = CoverKind::from_byte(kind).ok_or(EnvelopeError::UnknownCoverKind(kind))?;
        Ok(CoverKey { kind, index })
    }
}

impl std::fmt::Display for CoverKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            CoverKind::Begun
            | CoverKind::Expired
            | CoverKind::SwapProposed
            | CoverKind::SwapAccepted
            | CoverKind::SwapExpired => write!(f, "{}", self.kind.event_name()),
            CoverKind::Voted | CoverKind::Acked => {
                write!(f, "{}(step {})", self.kind.event_name(), self.index)
            }
            _ => write!(f, "{}(leg {})", self.kind.event_name(), self.index),
        }
    }
}

/// Which protocol the subject belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Protocol {
    /// A two-phase-commit transaction (subject = txId).
    #[serde(rename = "2pc")]
    TwoPhase,
    /// An HTLC swap (subject = swapId).
    #[serde(rename = "htlc")]
    Htlc,
}

/// The interface an operation invoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Interface {
    /// TransactionManager `begin`.
    Begin,
    /// Resource `prepare`.
    Prepare,
    /// TransactionManager `vote`.
    Vote,
    /// TransactionManager `expire`.
    Expire,
    /// Resource `commit`.
    Commit,
    /// Resource `rollback`.
    Rollback,
    /// TransactionManager `ack`.
    Ack,
    /// TransactionManager `proposeSwap`.
    Propose,
    /// TransactionManager `acceptSwap`.
    Accept,
    /// HtlcAsset `lock` + `recordLegLocked`.
    Lock,
    /// HtlcAsset `unlock` + `recordLegUnlocked`.
    Unlock,
    /// HtlcAsset `refund` + `recordLegRefunded`.
    Timeout,
    /// `recordLegVoid` (never locked, timelock passed).
    Void,
    /// TransactionManager `recordLegLocked` / `recordLegUnlocked` / `recordLegRefunded`.
    RecordLeg,
    /// TransactionManager `expireSwap`.
    ExpireSwap,
    /// None: the relayer refused on-chain state contradicting the signed terms.
    RefuseState,
}

/// One operation of the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Operation {
    /// The governance event that reports it.
    pub covers: CoverKey,
    /// What was invoked.
    pub interface: Interface,
    /// `governance` or `zone.chain`.
    pub chain: String,
    /// The resource's iPath, for resource operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The arguments (interface-specific).
    pub arguments: serde_json::Value,
    /// `ok`, `refused: …`, `pending` (written before its governance transaction), …
    pub result: String,
    /// Its transaction, when known to the writer (the governance transaction of a `pending`
    /// operation follows the record; `crossgov audit read` joins it from the chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_hash: Option<B256>,
    /// Who sent that transaction, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performed_by: Option<Address>,
    /// Its block time, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
}

/// The plaintext of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditRecord {
    /// [`RECORD_VERSION`].
    pub version: u8,
    /// txId or swapId.
    pub subject: B256,
    /// 2PC or HTLC.
    pub protocol: Protocol,
    /// The user who signed the request (the swap's initiator for HTLC).
    pub initiator: Address,
    /// The user's institution (2PC) or 0 (HTLC: parties may belong to different institutions).
    pub initiator_institution: u64,
    /// The writing relayer's institution.
    pub institution: u64,
    /// The writing relayer.
    pub relayer: Address,
    /// Governance-chain time when written.
    pub written_at: u64,
    /// The operations, at least one.
    pub operations: Vec<Operation>,
}

impl AuditRecord {
    /// The covered events, sorted, without repeats.
    pub fn covers(&self) -> Vec<CoverKey> {
        let mut covers: Vec<CoverKey> = self.operations.iter().map(|o| o.covers).collect();
        covers.sort();
        covers.dedup();
        covers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cover_kinds_round_trip_through_their_byte() {
        for kind in CoverKind::ALL {
            assert_eq!(CoverKind::from_byte(kind as u8), Some(kind));
        }
        assert_eq!(CoverKind::from_byte(0), None);
        assert_eq!(CoverKind::from_byte(14), None);
        assert_eq!(CoverKey::from_bytes(200, 0), Err(EnvelopeError::UnknownCoverKind(200)));
    }

    #[test]
    fn record_json_rejects_unknown_fields_and_names_covers() {
        let op = Operation {
            covers: CoverKey::new(CoverKind::Voted, 1),
            interface: Interface::Prepare,
            chain: "zoneA.chainA".into(),
            path: Some("zoneA.chainA.ledger".into()),
            arguments: serde_json::json!({ "kind": "debit" }),
            result: "ok".into(),
            tx_hash: None,
            performed_by: None,
            timestamp: None,
        };
        let json = serde_json::to_value(&op).expect("json");
        assert_eq!(json["covers"], serde_json::json!({ "kind": "voted", "index": 1 }));
        assert_eq!(json["interface"], "prepare");
        let mut bad = json;
        bad["extra"] = 1.into();
        assert!(serde_json::from_value::<Operation>(bad).is_err());
        assert_eq!(op.covers.to_string(), "StepVoted(step 1)");
        assert_eq!(CoverKey::new(CoverKind::LegLocked, 0).to_string(), "LegLocked(leg 0)");
    }
}
