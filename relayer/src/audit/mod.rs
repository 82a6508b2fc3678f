//! Supervision: audit records that only regulators can read.
//!
//! - [`envelope`]: the versioned binary envelope (AES-256-GCM body, data key wrapped per
//!   regulator with ECIES over secp256k1 + HKDF-SHA256), sealing and opening.
//! - [`record`]: the plaintext (JSON) and the governance events a record covers.
//! - [`entitlement`]: which institution may report which event.
//! - [`writer`]: the relayer's [`Auditor`]: an operation is audited before the governance
//!   transaction that reports it, and lost records are repaired from the events.
//! - [`trail`]: reading the trail and the covered events from the chain, and verifying the
//!   hash chain.
//! - [`regulator`]: what a regulator does with the trail: open, check, join with the events.
//! - [`verify`]: the whole trail checked: hash chain, records, coverage by entitled writers.

pub mod entitlement;
pub mod envelope;
pub mod record;
pub mod regulator;
pub mod trail;
pub mod verify;
pub mod writer;

pub use entitlement::Parties;
pub use envelope::{Envelope, EnvelopeError, Recipient};
pub use record::{AuditRecord, CoverKey, CoverKind, Interface, Operation, Protocol};
pub use trail::{AuditError, ChainBreak, ReportedEvent, TrailRecord};
pub use writer::{Audited, Auditor, ReportError, Reportable, Subject};

use alloy::primitives::{Address, B256};

impl Operation {
    /// A business-chain operation (result `ok`, no transaction yet: see [`Operation::with_result`]
    /// and [`Operation::sent`]).
    pub fn business(
        covers: CoverKey,
        interface: Interface,
        chain: &str,
        path: Option<String>,
        arguments: serde_json::Value,
    ) -> Operation {
        Operation {
            covers,
            interface,
            chain: chain.to_owned(),
            path,
            arguments,
            result: "ok".into(),
            tx_hash: None,
            performed_by: None,
            timestamp: None,
        }
    }

    /// The operation with this result.
    pub fn with_result(mut self, result: impl Into<String>) -> Operation {
        self.result = result.into();
        self
    }

    /// The operation sent by `by` in `tx_hash` (when it sent one).
    pub fn sent(mut self, tx_hash: Option<B256>, by: Address) -> Operation {
        self.performed_by = tx_hash.map(|_| by);
        self.tx_hash = tx_hash;
        self
    }

    /// A governance transaction about to be sent (its hash follows the record).
    pub fn governance_pending(
        covers: CoverKey,
        interface: Interface,
        arguments: serde_json::Value,
        performed_by: Address,
    ) -> Operation {
        Operation {
            covers,
            interface,
            chain: "governance".into(),
            path: None,
            arguments,
            result: "pending".into(),
            tx_hash: None,
            performed_by: Some(performed_by),
            timestamp: None,
        }
    }

    /// A governance transaction already mined.
    pub fn governance_done(
        covers: CoverKey,
        interface: Interface,
        arguments: serde_json::Value,
        tx_hash: B256,
        performed_by: Address,
    ) -> Operation {
        Operation {
            covers,
            interface,
            chain: "governance".into(),
            path: None,
            arguments,
            result: "ok".into(),
            tx_hash: Some(tx_hash),
            performed_by: Some(performed_by),
            timestamp: None,
        }
    }
}
