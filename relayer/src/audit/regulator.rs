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
