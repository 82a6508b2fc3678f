//! Who may report what: an audit record counts only when its writer's institution is entitled
//! to report the events it covers. Without this rule any member relayer could write a record
//! claiming another institution's steps (with a body nobody can open) and the owner's relayer,
//! seeing them "covered", would skip its own: the step would hide from the regulator.
//!
//! | covered event                                 | entitled institution                       |
//! |-----------------------------------------------|--------------------------------------------|
//! | `TransactionBegun`, `SwapProposed`            | the initiator's (its relayer submitted it) |
//! | `SwapAccepted`                                | the counterparty's                         |
//! | `StepVoted`/`StepAcked` (step i)              | the owner of step i's chain (its serving relayers vote and ack) |
//! | `LegLocked`/`Unlocked`/`Refunded`/`Voided` (leg i) | the owner of leg i's chain            |
//! | `TransactionExpired`, `SwapExpired`           | any party: the initiator's, the counterparty's, a chain owner's (anyone may call `expire`; a party reports it) |
//! | `SecretRevealed` (leg B)                      | the initiator's (its relayer reveals)      |
//! | `RefusedState` (leg i)                        | any party (whoever checked and refused)    |
//!
//! The same rule serves the relayer (which records only what it is entitled to, and counts only
//! its own institution's records as covering its reports) and `crossgov audit verify` (which
//! fails on, and names the writer of, a record covering what its writer may not report).

use serde::Serialize;

use super::record::{CoverKey, CoverKind};

/// The institutions taking part in one subject (txId or swapId).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Parties {
    /// The initiator's institution (2PC: `TransactionBegun.institution`; HTLC: leg A's sender's).
    pub initiator: u64,
    /// HTLC: the counterparty's (leg B's sender's) institution; 0 for 2PC.
    pub counterparty: u64,
    /// The owner institution of each step's (2PC) or leg's (HTLC) chain, by index.
    pub owners: Vec<u64>,
}

impl Parties {
    /// Whether `institution` takes part at all.
    pub fn is_party(&self, institution: u64) -> bool {
        institution != 0
            && (institution == self.initiator
                || institution == self.counterparty
                || self.owners.contains(&institution))
    }

    /// Whether `institution` may report `key` (see the module table).
    pub fn entitled(&self, institution: u64, key: CoverKey) -> bool {
        if institution == 0 {
            return false;
        }
        match key.kind {
            CoverKind::Begun | CoverKind::SwapProposed | CoverKind::SecretRevealed => {
                institution == self.initiator
            }
            CoverKind::SwapAccepted => institution == self.counterparty,
            CoverKind::Voted
            | CoverKind::Acked
            | CoverKind::LegLocked
            | CoverKind::LegUnlocked
            | CoverKind::LegRefunded
            | CoverKind::LegVoided => self.owners.get(usize::from(key.index)) == Some(&institution),
            CoverKind::Expired | CoverKind::SwapExpired | CoverKind::RefusedState => {
                self.is_party(institution)
            }
        }
    }

    /// The institutions entitled to report `key` (for messages).
    pub fn entitled_to(&self, key: CoverKey) -> Vec<u64> {
        let mut all: Vec<u64> = [self.initiator, self.counterparty]
            .into_iter()
            .chain(self.owners.iter().copied())
            .filter(|i| self.entitled(*i, key))
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: CoverKind, index: u8) -> CoverKey {
        CoverKey::new(kind, index)
    }

    #[test]
    fn each_report_belongs_to_its_reporter() {
        // alice (institution 1) pays bob: step 0 on institution 1's chain, step 1 on 2's.
        let tx = Parties { initiator: 1, counterparty: 0, owners: vec![1, 2] };
        assert!(tx.entitled(1, key(CoverKind::Begun, 0)));
        assert!(!tx.entitled(2, key(CoverKind::Begun, 0)));
        assert!(tx.entitled(1, key(CoverKind::Voted, 0)));
        assert!(!tx.entitled(2, key(CoverKind::Voted, 0)), "B may not cover A's step");
        assert!(tx.entitled(2, key(CoverKind::Acked, 1)));
        assert!(!tx.entitled(1, key(CoverKind::Acked, 1)));
        assert!(!tx.entitled(1, key(CoverKind::Voted, 2)), "no step 2");
        assert!(
            tx.entitled(2, key(CoverKind::Expired, 0))
                && tx.entitled(1, key(CoverKind::Expired, 0))
        );
        assert!(!tx.entitled(3, key(CoverKind::Expired, 0)), "an outsider reports nothing");
        assert!(!tx.entitled(0, key(CoverKind::Expired, 0)));
        assert_eq!(tx.entitled_to(key(CoverKind::Voted, 1)), [2]);
        assert_eq!(tx.entitled_to(key(CoverKind::Expired, 0)), [1, 2]);
    }

    #[test]
    fn swaps_split_proposal_acceptance_and_legs() {
        // Institution 1's user proposes, 2's accepts; leg A on 1's chain, leg B on 2's.
        let swap = Parties { initiator: 1, counterparty: 2, owners: vec![1, 2] };
        assert!(swap.entitled(1, key(CoverKind::SwapProposed, 0)));
        assert!(!swap.entitled(2, key(CoverKind::SwapProposed, 0)));
        assert!(swap.entitled(2, key(CoverKind::SwapAccepted, 0)));
        assert!(!swap.entitled(1, key(CoverKind::SwapAccepted, 0)));
        assert!(swap.entitled(2, key(CoverKind::LegUnlocked, 1)));
        assert!(
            !swap.entitled(1, key(CoverKind::LegUnlocked, 1)),
            "the revealer is not leg B's reporter"
        );
        assert!(swap.entitled(1, key(CoverKind::SecretRevealed, 1)));
        assert!(!swap.entitled(2, key(CoverKind::SecretRevealed, 1)));
        assert!(swap.entitled(2, key(CoverKind::SwapExpired, 0)));
    }
}
