//! What a regulator does with a trail record: decrypt it and check it is what it claims to be.

use k256::SecretKey;

use super::envelope::Envelope;
use super::record::{AuditRecord, RECORD_VERSION};
use super::trail::{AuditError, TrailRecord};

/// Decrypts a record with a regulator's key and checks that its plaintext is a version-1 record
/// about the subject it is filed under, covering exactly what its public header says.
pub fn open_record(trail: &TrailRecord, key: &SecretKey) -> Result<AuditRecord, AuditError> {
    let index = trail.index;
    let envelope = Envelope::decode(&trail.envelope)
        .map_err(|source| AuditError::Envelope { index, source })?;
    let plaintext = envelope
        .open(trail.subject, key)
        .map_err(|source| AuditError::Envelope { index, source })?;
    let record: AuditRecord = serde_json::from_slice(&plaintext)
        .map_err(|e| AuditError::BadRecord { index, message: e.to_string() })?;
    let bad = |message: String| AuditError::BadRecord { index, message };
    if record.version != RECORD_VERSION {
        return Err(bad(format!("record version {}", record.version)));
    }
    if record.subject != trail.subject {
        return Err(bad(format!(
            "the record is about {}, filed under {}",
            record.subject, trail.subject
        )));
    }
    if record.relayer != trail.relayer || record.institution != trail.institution {
        return Err(bad(format!(
            "written by {} of institution {} per the record, by {} of {} per the chain",
            record.relayer, record.institution, trail.relayer, trail.institution
        )));
    }
    let mut header = envelope.covers.clone();
    header.sort();
    header.dedup();
    if record.covers() != header {
        return Err(bad("the public header covers other events than the record".into()));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{Address, B256, Bytes, keccak256};

    use super::*;
    use crate::audit::envelope::vectors::{self, hex_bytes};
    use crate::audit::envelope::{ENVELOPE_V1, ENVELOPE_VERSION};

    /// Records written before version 2 stay on chain: a regulator reads both versions, through
    /// the same checks, to the same record.
    #[test]
    fn records_of_both_envelope_versions_open_to_the_same_record() {
        let v = vectors::load();
        let key =
            SecretKey::from_slice(&hex_bytes(&v["regulators"][0]["privateKey"])).expect("key");
        let subject = B256::from_slice(&hex_bytes(&v["subject"]));
        let expected: AuditRecord =
            serde_json::from_str(v["plaintext"].as_str().expect("plaintext")).expect("record");
        let mut versions = Vec::new();
        for e in v["envelopes"].as_array().expect("envelopes") {
            let envelope = Bytes::from(hex_bytes(&e["envelope"]));
            let trail = TrailRecord {
                index: 0,
                subject,
                institution: expected.institution,
                relayer: expected.relayer,
                record_hash: keccak256(&envelope),
                head: B256::ZERO,
                envelope,
                block: 1,
                tx_hash: B256::ZERO,
                timestamp: None,
            };
            assert_eq!(open_record(&trail, &key).expect("opens"), expected);
            let forged = TrailRecord { relayer: Address::repeat_byte(9), ..trail };
            assert!(matches!(open_record(&forged, &key), Err(AuditError::BadRecord { .. })));
            versions.push(e["version"].as_u64().expect("version"));
        }
        assert_eq!(versions, [u64::from(ENVELOPE_V1), u64::from(ENVELOPE_VERSION)]);
    }
}
