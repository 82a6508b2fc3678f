//! Checking the whole trail the way a regulator does: the hash chain, every record (well formed,
//! readable with the regulator's key where it claims to be, covering only what its writer's
//! institution may report), and every governance report covered by a record from a writer
//! entitled to it. `crossgov audit verify`, the demo, the chaos checker and the tests all use
//! this one check.
//!
//! The facts come from logs alone (no archive state): the records (`RecordAppended`), the
//! reports (TransactionManager events), chain owners (`ChainAdmitted`) and accounts
//! (`AccountAdded` / `AccountRemoved`, for the institutions of a swap's parties at proposal).

use std::collections::{BTreeMap, HashMap};

use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use k256::SecretKey;
use serde::Serialize;

use super::entitlement::Parties;
use super::envelope::{Envelope, address_of};
use super::record::CoverKey;
use super::regulator::open_record;
use super::trail::{
    AuditError, ChainBreak, ReportedEvent, TrailRecord, fetch_records, logs_paged, reported_events,
    verify_chain,
};
use crate::bindings::supervision::Supervision;
use crate::bindings::{ChainRegistry, InstitutionRegistry};

/// Where the trail and the facts it is checked against live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrailSources {
    /// Supervision.
    pub supervision: Address,
    /// TransactionManager.
    pub transaction_manager: Address,
    /// InstitutionRegistry.
    pub registry: Address,
    /// ChainRegistry.
    pub chain_registry: Address,
    /// The first block to scan (the deployment's).
    pub from_block: u64,
    /// Blocks per `eth_getLogs` request.
    pub max_log_range: u64,
}

/// Accounts' institutions over time, from `AccountAdded` / `AccountRemoved`.
#[derive(Debug, Clone, Default)]
pub struct AccountBook {
    /// Per account: (block, log index, institution or 0 once removed), in chain order.
    changes: HashMap<Address, Vec<(u64, u64, u64)>>,
}

impl AccountBook {
    /// Records a change.
    pub fn set(&mut self, account: Address, block: u64, log_index: u64, institution: u64) {
        let list = self.changes.entry(account).or_default();
        list.push((block, log_index, institution));
        list.sort_unstable();
    }

    /// The institution of `account` at the end of block `block` (0 if none).
    pub fn at(&self, account: Address, block: u64) -> u64 {
        self.changes
            .get(&account)
            .and_then(|list| list.iter().rev().find(|(b, _, _)| *b <= block))
            .map_or(0, |(_, _, institution)| *institution)
    }
}

/// Everything read from the chain for one check.
#[derive(Debug, Clone, Default)]
pub struct TrailFacts {
    /// The block everything was read at.
    pub block: u64,
    /// The records, by index.
    pub records: Vec<TrailRecord>,
    /// The governance reports, in chain order, with their subjects.
    pub events: Vec<(B256, ReportedEvent)>,
    /// Supervision's `recordCount()` at `block`.
    pub count: u64,
    /// Supervision's `head()` at `block`.
    pub head: B256,
    /// Chain owners by chain key.
    pub owners: HashMap<B256, u64>,
    /// Accounts' institutions.
    pub accounts: AccountBook,
}

impl TrailFacts {
    /// The parties of every subject with an opening event.
    pub fn parties(&self) -> HashMap<B256, Parties> {
        let mut out = HashMap::new();
        for (subject, e) in &self.events {
            let Some(o) = &e.opening else { continue };
            let owners =
                o.chain_keys.iter().map(|k| self.owners.get(k).copied().unwrap_or(0)).collect();
            let parties = match o.institution {
                Some(institution) => Parties { initiator: institution, counterparty: 0, owners },
                None => Parties {
                    initiator: self.accounts.at(o.initiator, e.block),
                    counterparty: o.counterparty.map_or(0, |c| self.accounts.at(c, e.block)),
                    owners,
                },
            };
            out.insert(*subject, parties);
        }
        out
    }
}

fn rpc(what: &'static str) -> impl Fn(alloy::transports::TransportError) -> AuditError {
    move |e| AuditError::Rpc { what, message: e.to_string() }
}

/// Reads the facts at the latest block (or `at`); `subject` limits records and reports to one
/// txId or swapId (owners and accounts are always read whole: they are small).
pub async fn gather(
    provider: &DynProvider,
    sources: &TrailSources,
    at: Option<u64>,
    subject: Option<B256>,
) -> Result<TrailFacts, AuditError> {
    let block = match at {
        Some(b) => b,
        None => provider.get_block_number().await.map_err(rpc("block number"))?,
    };
    let (from, range) = (sources.from_block, sources.max_log_range);
    // Reports first: a record is in the report's transaction or before it, so every report read
    // has its record in the later read.
    let events =
        reported_events(provider, sources.transaction_manager, subject, from, block, range).await?;
    let records =
        fetch_records(provider, sources.supervision, from, Some(block), subject, range).await?;
    let sup = Supervision::new(sources.supervision, provider);
    let count = sup
        .recordCount()
        .block(block.into())
        .call()
        .await
        .map_err(|e| AuditError::Rpc { what: "recordCount", message: e.to_string() })?;
    let head = sup
        .head()
        .block(block.into())
        .call()
        .await
        .map_err(|e| AuditError::Rpc { what: "head", message: e.to_string() })?;

    let mut owners = HashMap::new();
    let filter = Filter::new()
        .address(sources.chain_registry)
        .event_signature(ChainRegistry::ChainAdmitted::SIGNATURE_HASH);
    for log in logs_paged(provider, &filter, from, block, range).await? {
        let at = log.block_number.unwrap_or_default();
        let e = ChainRegistry::ChainAdmitted::decode_log_data(log.data()).map_err(|e| {
            AuditError::BadLog { event: "ChainAdmitted", block: at, message: e.to_string() }
        })?;
        owners.insert(e.chainKey, e.owner);
    }
    let mut accounts = AccountBook::default();
    let filter = Filter::new().address(sources.registry).event_signature(vec![
        InstitutionRegistry::AccountAdded::SIGNATURE_HASH,
        InstitutionRegistry::AccountRemoved::SIGNATURE_HASH,
    ]);
    for log in logs_paged(provider, &filter, from, block, range).await? {
        let at = log.block_number.unwrap_or_default();
        let index = log.log_index.unwrap_or_default();
        let bad =
            |message: String| AuditError::BadLog { event: "AccountAdded", block: at, message };
        if log.topic0() == Some(&InstitutionRegistry::AccountAdded::SIGNATURE_HASH) {
            let e = InstitutionRegistry::AccountAdded::decode_log_data(log.data())
                .map_err(|e| bad(e.to_string()))?;
            accounts.set(e.account, at, index, e.institutionId);
        } else {
            let e = InstitutionRegistry::AccountRemoved::decode_log_data(log.data())
                .map_err(|e| bad(e.to_string()))?;
            accounts.set(e.account, at, index, 0);
        }
    }
    Ok(TrailFacts {
        block,
        records,
        events,
        count: u64::try_from(count).unwrap_or(u64::MAX),
        head,
        owners,
        accounts,
    })
}

/// A record that fails the check, naming its writer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "problem")]
#[non_exhaustive]
pub enum Finding {
    /// The envelope does not parse.
    Malformed {
        /// The record.
        index: u64,
        /// Its subject.
        subject: B256,
        /// The writing relayer.
        writer: Address,
        /// Its institution.
        institution: u64,
        /// Why.
        detail: String,
    },
    /// The record covers an event its writer's institution may not report.
    Unentitled {
        /// The record.
        index: u64,
        /// Its subject.
        subject: B256,
        /// The writing relayer.
        writer: Address,
        /// Its institution.
        institution: u64,
        /// The event (as displayed).
        covers: String,
        /// The institutions that may report it.
        entitled: Vec<u64>,
    },
    /// The record names the checking regulator as a recipient but does not open with its key
    /// (or opens to something else than a record of its header).
    Unreadable {
        /// The record.
        index: u64,
        /// Its subject.
        subject: B256,
        /// The writing relayer.
        writer: Address,
        /// Its institution.
        institution: u64,
        /// Why.
        detail: String,
    },
}

impl Finding {
    /// The record's index.
    pub fn index(&self) -> u64 {
        match self {
            Finding::Malformed { index, .. }
            | Finding::Unentitled { index, .. }
            | Finding::Unreadable { index, .. } => *index,
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Malformed { index, subject, writer, institution, detail } => write!(
                f,
                "record {index} about {subject} by {writer} (institution {institution}) is malformed: {detail}"
            ),
            Finding::Unentitled { index, subject, writer, institution, covers, entitled } => {
                write!(
                    f,
                    "record {index} about {subject} by {writer} (institution {institution}) covers {covers}, which only institution(s) {entitled:?} may report"
                )
            }
            Finding::Unreadable { index, subject, writer, institution, detail } => write!(
                f,
                "record {index} about {subject} by {writer} (institution {institution}) cannot be read: {detail}"
            ),
        }
    }
}

/// A governance report no valid record of an entitled writer covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Gap {
    /// The subject.
    pub subject: B256,
    /// The report (as displayed).
    pub event: String,
    /// The report.
    pub key: CoverKey,
    /// Its transaction.
    pub tx_hash: B256,
}

/// A record about a subject with no governance report: written ahead of a report that never
/// came (a refused or abandoned `begin`), or noise. Listed, not failed: without the
/// regulator's key nobody can tell which (with it, an unreadable one is a [`Finding`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Orphan {
    /// The record.
    pub index: u64,
    /// Its subject.
    pub subject: B256,
    /// The writing relayer.
    pub writer: Address,
    /// Its institution.
    pub institution: u64,
}

/// The outcome of [`check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailReport {
    /// The block checked.
    pub block: u64,
    /// Records in the trail.
    pub records: usize,
    /// Governance reports.
    pub reports: usize,
    /// The recomputed head, or where the hash chain breaks.
    pub chain: Result<B256, ChainBreak>,
    /// Records that fail.
    pub findings: Vec<Finding>,
    /// Reports without a valid, entitled record.
    pub uncovered: Vec<Gap>,
    /// Records about subjects with no report.
    pub orphans: Vec<Orphan>,
}

impl TrailReport {
    /// The hash chain holds, every record passes and every report is covered.
    pub fn ok(&self) -> bool {
        self.chain.is_ok() && self.findings.is_empty() && self.uncovered.is_empty()
    }
}

/// Checks `facts`; with a regulator's `key`, also that every record naming that regulator opens
/// with it. `whole` is false when the facts are one subject's (the hash chain is then not
/// checked: it needs every record).
pub fn check(facts: &TrailFacts, key: Option<&SecretKey>, whole: bool) -> TrailReport {
    let parties = facts.parties();
    let me = key.map(|k| address_of(&k.public_key()));
    let mut findings = Vec::new();
    let mut orphans = Vec::new();
    // (subject, event) → covered by a valid record of an entitled writer.
    let mut covered: BTreeMap<(B256, CoverKey), ()> = BTreeMap::new();
    for r in &facts.records {
        let (index, subject, writer, institution) = (r.index, r.subject, r.relayer, r.institution);
        let envelope = match Envelope::decode(&r.envelope) {
            Ok(e) => e,
            Err(e) => {
                let detail = e.to_string();
                findings.push(Finding::Malformed { index, subject, writer, institution, detail });
                continue;
            }
        };
        let mut valid = true;
        if let (Some(key), Some(me)) = (key, me)
            && envelope.regulators().contains(&me)
            && let Err(e) = open_record(r, key)
        {
            let detail = e.to_string();
            findings.push(Finding::Unreadable { index, subject, writer, institution, detail });
            valid = false;
        }
        let Some(p) = parties.get(&subject) else {
            orphans.push(Orphan { index, subject, writer, institution });
            continue;
        };
        for c in &envelope.covers {
            if p.entitled(institution, *c) {
                if valid {
                    covered.insert((subject, *c), ());
                }
            } else {
                findings.push(Finding::Unentitled {
                    index,
                    subject,
                    writer,
                    institution,
                    covers: c.to_string(),
                    entitled: p.entitled_to(*c),
                });
            }
        }
    }
    let uncovered = facts
        .events
        .iter()
        .filter(|(s, e)| !covered.contains_key(&(*s, e.key)))
        .map(|(s, e)| Gap { subject: *s, event: e.key.to_string(), key: e.key, tx_hash: e.tx_hash })
        .collect();
    let chain =
        if whole { verify_chain(&facts.records, facts.count, facts.head) } else { Ok(facts.head) };
    TrailReport {
        block: facts.block,
        records: facts.records.len(),
        reports: facts.events.len(),
        chain,
        findings,
        uncovered,
        orphans,
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{Bytes, keccak256};

    use super::*;
    use crate::audit::envelope::{Recipient, os_random, public_key_xy};
    use crate::audit::record::CoverKind;
    use crate::audit::trail::Opening;

    fn regulator() -> SecretKey {
        SecretKey::from_slice(&[7u8; 32]).expect("key")
    }

    fn record(
        index: u64,
        subject: B256,
        institution: u64,
        covers: &[CoverKey],
        body: &[u8],
    ) -> TrailRecord {
        let key = regulator();
        let to = Recipient::from_xy(&public_key_xy(&key.public_key())).expect("recipient");
        let env = Envelope::seal(subject, covers, body, &[to], &mut os_random).expect("seal");
        let envelope = Bytes::from(env.encode());
        TrailRecord {
            index,
            subject,
            institution,
            relayer: Address::repeat_byte(u8::try_from(institution).unwrap_or(0)),
            record_hash: keccak256(&envelope),
            head: B256::ZERO,
            envelope,
            block: index,
            tx_hash: B256::ZERO,
            timestamp: None,
        }
    }

    fn event(key: CoverKey, opening: Option<Opening>) -> ReportedEvent {
        ReportedEvent {
            key,
            block: 1,
            tx_hash: B256::repeat_byte(9),
            relayer: None,
            fields: serde_json::Value::Null,
            timestamp: None,
            opening,
        }
    }

    /// alice's (institution 1) transfer: step 0 on chain A (owner 1), step 1 on chain B (owner 2).
    fn facts(records: Vec<TrailRecord>) -> (TrailFacts, B256) {
        let subject = B256::repeat_byte(1);
        let (a, b) = (B256::repeat_byte(0xa), B256::repeat_byte(0xb));
        let opening = Opening {
            institution: Some(1),
            initiator: Address::repeat_byte(5),
            counterparty: None,
            chain_keys: vec![a, b],
        };
        let events = vec![
            (subject, event(CoverKey::new(CoverKind::Begun, 0), Some(opening))),
            (subject, event(CoverKey::new(CoverKind::Voted, 0), None)),
        ];
        let owners = HashMap::from([(a, 1), (b, 2)]);
        (TrailFacts { records, events, owners, ..TrailFacts::default() }, subject)
    }

    #[test]
    fn a_foreign_claim_is_named_and_covers_nothing() {
        let subject = B256::repeat_byte(1);
        let voted = CoverKey::new(CoverKind::Voted, 0);
        let begun = CoverKey::new(CoverKind::Begun, 0);
        // Institution 2 claims institution 1's vote; institution 1 wrote only the begin.
        let records = vec![
            record(0, subject, 2, &[voted], b"not a record"),
            record(1, subject, 1, &[begun], b"{}"),
        ];
        let (facts, _) = facts(records);
        let report = check(&facts, None, false);
        assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
        assert!(matches!(
            &report.findings[0],
            Finding::Unentitled { index: 0, institution: 2, entitled, .. } if entitled == &[1]
        ));
        assert_eq!(report.uncovered.len(), 1);
        assert_eq!(report.uncovered[0].key, voted);
        assert!(!report.ok());
    }

    #[test]
    fn with_the_key_an_unreadable_record_is_named_and_covers_nothing() {
        let subject = B256::repeat_byte(1);
        let begun = CoverKey::new(CoverKind::Begun, 0);
        let voted = CoverKey::new(CoverKind::Voted, 0);
        let mut bad = record(0, subject, 1, &[begun, voted], b"junk");
        let last = bad.envelope.len() - 1;
        let mut bytes = bad.envelope.to_vec();
        bytes[last] ^= 1;
        bad.envelope = Bytes::from(bytes);
        let (facts, _) = facts(vec![bad]);
        // Without a key the claim stands (entitled writer, readable header).
        let blind = check(&facts, None, false);
        assert!(blind.findings.is_empty() && blind.uncovered.is_empty(), "{blind:?}");
        let report = check(&facts, Some(&regulator()), false);
        assert!(matches!(&report.findings[..], [Finding::Unreadable { index: 0, .. }]));
        assert_eq!(report.uncovered.len(), 2);
    }

    #[test]
    fn malformed_records_and_orphans() {
        let subject = B256::repeat_byte(1);
        let mut junk = record(0, subject, 2, &[CoverKey::new(CoverKind::Begun, 0)], b"{}");
        junk.envelope = Bytes::from(vec![1u8]);
        let orphan =
            record(1, B256::repeat_byte(3), 2, &[CoverKey::new(CoverKind::Begun, 0)], b"{}");
        let (facts, _) = facts(vec![junk, orphan]);
        let report = check(&facts, None, false);
        assert!(matches!(&report.findings[..], [Finding::Malformed { index: 0, .. }]));
        assert_eq!(report.orphans.len(), 1);
        assert_eq!(report.orphans[0].index, 1);
    }

    #[test]
    fn accounts_are_read_at_the_block() {
        let mut book = AccountBook::default();
        let a = Address::repeat_byte(1);
        book.set(a, 10, 0, 1);
        book.set(a, 20, 3, 0);
        book.set(a, 20, 5, 2);
        assert_eq!(book.at(a, 9), 0);
        assert_eq!(book.at(a, 10), 1);
        assert_eq!(book.at(a, 19), 1);
        assert_eq!(book.at(a, 20), 2, "removed then added in one block: the later counts");
        assert_eq!(book.at(Address::repeat_byte(2), 99), 0);
    }
}
