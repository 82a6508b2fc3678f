//! Audit-trail assertions shared by the relayer suites: the trail of a subject, read from the
//! chain and decrypted with a regulator's key, covers every governance report of the subject.

use alloy::primitives::B256;
use crossgov_relayer::audit::regulator::open_record;
use crossgov_relayer::audit::verify::{check, gather};
use crossgov_relayer::audit::{AuditRecord, CoverKey, CoverKind, Operation, TrailRecord};

use crate::harness::{DEPLOYER, TestNet};

/// The records about `subject`, oldest first, each decrypted with `key`; asserts that every
/// governance event of the subject is covered, exactly once when `exactly_once` (one relayer
/// per chain drove it) or at least once.
pub(crate) async fn complete_trail(
    gov: &TestNet,
    key: &k256::SecretKey,
    subject: B256,
    exactly_once: bool,
) -> Vec<(TrailRecord, AuditRecord)> {
    let provider = &gov.accounts[DEPLOYER].provider;
    let facts = gather(provider, &gov.deployment.trail_sources(), None, Some(subject))
        .await
        .expect("the trail");
    let (records, events) = (facts.records.clone(), facts.events.clone());
    assert!(!events.is_empty(), "{subject} has governance events");
    // Every record readable and from a writer entitled to what it covers; every report covered.
    let report = check(&facts, Some(key), false);
    assert!(report.findings.is_empty(), "{subject}: records that fail: {:?}", report.findings);
    assert!(
        report.uncovered.is_empty(),
        "{subject}: reports without an audit record: {:?}",
        report.uncovered
    );
    let opened: Vec<(TrailRecord, AuditRecord)> = records
        .into_iter()
        .map(|r| {
            let record = open_record(&r, key).unwrap_or_else(|e| panic!("record {}: {e}", r.index));
            (r, record)
        })
        .collect();
    if exactly_once {
        // Each institution counts only its own records, so each report is covered once by its
        // reporter's; an expiry, which any party may report, once by each party that tried.
        let by: Vec<(u64, CoverKey)> = opened
            .iter()
            .flat_map(|(t, r)| r.covers().into_iter().map(move |c| (t.institution, c)))
            .collect();
        let covers: Vec<CoverKey> = by.iter().map(|(_, c)| *c).collect();
        for (_, e) in &events {
            let mut writers: Vec<u64> =
                by.iter().filter(|(_, c)| *c == e.key).map(|(i, _)| *i).collect();
            let n = writers.len();
            if matches!(e.key.kind, CoverKind::Expired | CoverKind::SwapExpired) {
                writers.sort_unstable();
                writers.dedup();
                assert!(
                    n >= 1 && writers.len() == n,
                    "{subject}: {} covered by {writers:?}",
                    e.key
                );
            } else {
                assert_eq!(n, 1, "{subject}: {} covered {n} times", e.key);
            }
        }
        // A record written ahead of a report that then lost a race (the transaction was decided
        // meanwhile) covers an event that never came: its report says so.
        for key in
            covers.iter().filter(|c| c.kind.is_event() && !events.iter().any(|(_, e)| e.key == **c))
        {
            let pending = opened
                .iter()
                .flat_map(|(_, r)| &r.operations)
                .any(|op| op.covers == *key && op.result.starts_with("pending"));
            assert!(pending, "{subject}: {key} covered, never reported, and not pending");
        }
    }
    opened
}

/// `"<interface> <covered event>"` of every operation, sorted: the trail's content in short.
pub(crate) fn summary(trail: &[(TrailRecord, AuditRecord)]) -> Vec<String> {
    let mut out: Vec<String> = operations(trail)
        .iter()
        .map(|op| {
            let interface = serde_json::to_value(op.interface).expect("interface");
            format!("{} {}", interface.as_str().unwrap_or_default(), op.covers)
        })
        .collect();
    out.sort();
    out
}

/// Every operation of the trail.
pub(crate) fn operations(trail: &[(TrailRecord, AuditRecord)]) -> Vec<&Operation> {
    trail.iter().flat_map(|(_, r)| r.operations.iter()).collect()
}

/// The one operation with this interface name and covered event (as displayed).
pub(crate) fn operation<'a>(
    trail: &'a [(TrailRecord, AuditRecord)],
    interface: &str,
    covers: &str,
) -> &'a Operation {
    let found: Vec<_> = operations(trail)
        .into_iter()
        .filter(|op| {
            serde_json::to_value(op.interface).expect("interface") == interface
                && op.covers.to_string() == covers
        })
        .collect();
    assert_eq!(found.len(), 1, "one {interface} {covers} in {:?}", summary(trail));
    found[0]
}
