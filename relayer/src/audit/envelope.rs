//! The audit envelope: a record encrypted once under a fresh AES-256-GCM data key, the data key
//! wrapped for every regulator with ECIES over secp256k1.
//!
//! Layout (all integers big-endian):
//!
//! | bytes            | field                                                                    |
//! |------------------|--------------------------------------------------------------------------|
//! | 1                | version: 2 (written), 1 (still read)                                     |
//! | 1                | `k`, the number of covered operations (1..=255)                          |
//! | 2·k              | covered operations, each (kind, index): see [`CoverKey`]                 |
//! | 1                | `n`, the number of recipients (1..=[`MAX_RECIPIENTS`])                   |
//! | 101·n            | per recipient: regulator address (20), ephemeral public key, SEC1 compressed (33), wrapped data key (32 + 16-byte tag) |
//! | 12               | body nonce                                                               |
//! | 4                | body length `m`                                                          |
//! | m                | body: AES-256-GCM ciphertext, tag appended                               |
//!
//! The body's plaintext is the record (JSON) in version 1 and the record compressed with raw
//! DEFLATE (RFC 1951) in version 2: every envelope byte is paid for as calldata and log data, and
//! the JSON's names and hex digits compress to about half. The version byte is in the header, which
//! the body authenticates, so an envelope cannot be passed off as the other version.
//!
//! Key wrap for regulator `R` (public key `P`): a fresh ephemeral key `e`, `E = e·G`;
//! `z` = x-coordinate of `e·P`; `kek ‖ nonce` = HKDF-SHA256(salt = `E ‖ P` (both compressed),
//! ikm = `z`, info = [`WRAP_INFO`], 44 bytes); wrapped = AES-256-GCM(`kek`, `nonce`, data key,
//! aad = `R ‖ subject`). The nonce may be derived because each `kek` is used once.
//!
//! Body: AES-256-GCM(data key, body nonce, body plaintext, aad = [`BODY_AAD`] ‖ subject ‖ header),
//! where the header is every byte before the body nonce. Moving an envelope to another subject, or
//! editing its version, covered operations or recipients, makes decryption fail.
//!
//! The covered operations are public on purpose: they name governance events (already public)
//! so any relayer can tell whether an operation is audited without reading the record.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use alloy::primitives::{Address, B256, keccak256};
use hkdf::Hkdf;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::{PublicKey, SecretKey};
use sha2::Sha256;

use super::record::CoverKey;

/// The envelope version this code writes (it reads [`ENVELOPE_V1`] too).
pub const ENVELOPE_VERSION: u8 = 2;
/// The first version: the record uncompressed. Records of that version stay on chain, so they
/// stay readable.
pub const ENVELOPE_V1: u8 = 1;
/// The largest record (uncompressed) an envelope may carry: far above any real record (16 steps
/// of at most 1 KiB each), and the bound that keeps a hostile body from inflating without limit.
pub const MAX_RECORD_BYTES: usize = 1 << 20;
/// DEFLATE level: the best ratio; records are a few KiB, so the time does not matter.
const DEFLATE_LEVEL: u8 = 9;
/// HKDF info of the key wrap.
pub const WRAP_INFO: &[u8] = b"crossgov/audit/v1/key-wrap";
/// Prefix of the body's associated data.
pub const BODY_AAD: &[u8] = b"crossgov/audit/v1/record";
/// At most this many recipients (Supervision's `MAX_REGULATORS`).
pub const MAX_RECIPIENTS: usize = 16;
/// Bytes per recipient entry.
pub const RECIPIENT_BYTES: usize = 20 + 33 + 48;
const TAG: usize = 16;
const NONCE: usize = 12;

/// The envelope cannot be built, parsed or opened. Nothing here is retryable: the bytes are
/// what they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The envelope ends before a field it declares.
    #[error("envelope truncated: {field} needs {needed} more bytes, {available} left")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Bytes it needs.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// Bytes after the declared body.
    #[error("envelope has {0} bytes after its body")]
    TrailingBytes(usize),
    /// A version this code does not know.
    #[error(
        "unsupported envelope version {0} (this build reads versions {ENVELOPE_V1} and {ENVELOPE_VERSION})"
    )]
    UnsupportedVersion(u8),
    /// A record too large for an envelope.
    #[error("the record has {size} bytes, more than the {max} an envelope may carry")]
    RecordTooLarge {
        /// Its size, uncompressed.
        size: usize,
        /// [`MAX_RECORD_BYTES`].
        max: usize,
    },
    /// The decrypted body of a version-2 envelope is not valid DEFLATE data, or inflates past
    /// [`MAX_RECORD_BYTES`] (only a writer that ignores the format produces either).
    #[error("the decrypted record does not inflate: {0}")]
    BadCompression(String),
    /// A count outside its range.
    #[error("envelope declares {count} {what}, expected {min} to {max}")]
    BadCount {
        /// Which count.
        what: &'static str,
        /// The declared count.
        count: usize,
        /// Minimum.
        min: usize,
        /// Maximum.
        max: usize,
    },
    /// A covered operation of an unknown kind.
    #[error("unknown covered operation kind {0}")]
    UnknownCoverKind(u8),
    /// An ephemeral key or a regulator key is not a secp256k1 point.
    #[error("{0} is not a valid secp256k1 public key")]
    BadPublicKey(&'static str),
    /// The key is not one of the envelope's recipients.
    #[error(
        "the envelope is not wrapped for {0}: only for the regulators active when it was written"
    )]
    NotARecipient(Address),
    /// Authentication failed: the envelope (or its subject) was altered, or the key is wrong.
    #[error(
        "cannot decrypt the {0}: the envelope was altered, is filed under another subject, or the key does not match"
    )]
    Tampered(&'static str),
    /// The system's random source failed.
    #[error("random source failed: {0}")]
    Random(String),
}

/// A regulator the data key is wrapped for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// `keccak256(x ‖ y)[12..]`, as Supervision derives it.
    pub address: Address,
    /// Its public key.
    pub public_key: PublicKey,
}

impl Recipient {
    /// From the 64-byte `x ‖ y` key Supervision stores.
    pub fn from_xy(xy: &[u8]) -> Result<Recipient, EnvelopeError> {
        if xy.len() != 64 {
            return Err(EnvelopeError::BadPublicKey("the regulator key"));
        }
        let mut sec1 = [0u8; 65];
        sec1[0] = 4;
        sec1[1..].copy_from_slice(xy);
        let public_key = PublicKey::from_sec1_bytes(&sec1)
            .map_err(|_| EnvelopeError::BadPublicKey("the regulator key"))?;
        Ok(Recipient { address: address_of(&public_key), public_key })
    }
}

/// The address Supervision derives from a regulator's key.
pub fn address_of(key: &PublicKey) -> Address {
    let point = key.to_encoded_point(false);
    Address::from_slice(&keccak256(&point.as_bytes()[1..])[12..])
}

/// The 64-byte `x ‖ y` form Supervision takes.
pub fn public_key_xy(key: &PublicKey) -> [u8; 64] {
    let point = key.to_encoded_point(false);
    let mut out = [0u8; 64];
    out.copy_from_slice(&point.as_bytes()[1..]);
    out
}

/// One recipient's wrapped data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// The regulator.
    pub regulator: Address,
    /// The ephemeral public key, SEC1 compressed.
    pub ephemeral: [u8; 33],
    /// AES-256-GCM of the data key, tag appended.
    pub wrapped: [u8; 48],
}

/// A parsed envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// [`ENVELOPE_VERSION`], or [`ENVELOPE_V1`] for an old record.
    pub version: u8,
    /// The operations the record covers (public).
    pub covers: Vec<CoverKey>,
    /// The recipients, in the order written.
    pub recipients: Vec<WrappedKey>,
    /// The body nonce.
    pub nonce: [u8; 12],
    /// The encrypted record, tag appended.
    pub body: Vec<u8>,
}

/// Where random bytes come from: the OS for real records, a fixed stream for test vectors.
pub type Fill<'a> = &'a mut dyn FnMut(&mut [u8]) -> Result<(), EnvelopeError>;

/// The OS random source.
pub fn os_random(buf: &mut [u8]) -> Result<(), EnvelopeError> {
    getrandom::getrandom(buf).map_err(|e| EnvelopeError::Random(e.to_string()))
}

impl Envelope {
    /// Compresses and encrypts the record `plaintext` about `subject` for `recipients`, as a
    /// version-2 envelope.
    pub fn seal(
        subject: B256,
        covers: &[CoverKey],
        plaintext: &[u8],
        recipients: &[Recipient],
        fill: Fill<'_>,
    ) -> Result<Envelope, EnvelopeError> {
        if plaintext.len() > MAX_RECORD_BYTES {
            return Err(EnvelopeError::RecordTooLarge {
                size: plaintext.len(),
                max: MAX_RECORD_BYTES,
            });
        }
        let body = miniz_oxide::deflate::compress_to_vec(plaintext, DEFLATE_LEVEL);
        Envelope::seal_body(ENVELOPE_VERSION, subject, covers, &body, recipients, fill)
    }

    /// Encrypts a body plaintext that is already in `version`'s form.
    fn seal_body(
        version: u8,
        subject: B256,
        covers: &[CoverKey],
        plaintext: &[u8],
        recipients: &[Recipient],
        fill: Fill<'_>,
    ) -> Result<Envelope, EnvelopeError> {
        check_count("covered operations", covers.len(), 1, usize::from(u8::MAX))?;
        check_count("recipients", recipients.len(), 1, MAX_RECIPIENTS)?;
        let mut data_key = [0u8; 32];
        fill(&mut data_key)?;
        let mut wrapped_keys = Vec::with_capacity(recipients.len());
        for r in recipients {
            let ephemeral = loop {
                let mut bytes = [0u8; 32];
                fill(&mut bytes)?;
                // A scalar is valid unless zero or ≥ n (probability ~2^-128).
                if let Ok(key) = SecretKey::from_slice(&bytes) {
                    break key;
                }
            };
            let ephemeral_public = compressed(&ephemeral.public_key());
            let (kek, nonce) = wrap_key(&ephemeral, &ephemeral_public, &r.public_key);
            let wrapped = encrypt(&kek, &nonce, &data_key, &wrap_aad(r.address, subject));
            let mut w =
                WrappedKey { regulator: r.address, ephemeral: ephemeral_public, wrapped: [0; 48] };
            w.wrapped.copy_from_slice(&wrapped);
            wrapped_keys.push(w);
        }
        let mut nonce = [0u8; NONCE];
        fill(&mut nonce)?;
        let mut envelope = Envelope {
            version,
            covers: covers.to_vec(),
            recipients: wrapped_keys,
            nonce,
            body: Vec::new(),
        };
        let aad = body_aad(subject, &envelope.header());
        envelope.body = encrypt(&data_key, &nonce, plaintext, &aad);
        Ok(envelope)
    }

    /// The header bytes (everything before the body nonce).
    pub fn header(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(3 + 2 * self.covers.len() + RECIPIENT_BYTES * self.recipients.len());
        out.push(self.version);
        out.push(u8::try_from(self.covers.len()).unwrap_or(u8::MAX));
        for c in &self.covers {
            out.extend_from_slice(&[c.kind as u8, c.index]);
        }
        out.push(u8::try_from(self.recipients.len()).unwrap_or(u8::MAX));
        for r in &self.recipients {
            out.extend_from_slice(r.regulator.as_slice());
            out.extend_from_slice(&r.ephemeral);
            out.extend_from_slice(&r.wrapped);
        }
        out
    }

    /// The wire form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.header();
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&u32::try_from(self.body.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    /// Parses the wire form (structure only; nothing is decrypted).
    pub fn decode(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
        let mut r = Reader { bytes, at: 0 };
        let version = r.take("version", 1)?[0];
        if version != ENVELOPE_VERSION && version != ENVELOPE_V1 {
            return Err(EnvelopeError::UnsupportedVersion(version));
        }
        let k = usize::from(r.take("cover count", 1)?[0]);
        check_count("covered operations", k, 1, usize::from(u8::MAX))?;
        let mut covers = Vec::with_capacity(k);
        for _ in 0..k {
            let c = r.take("covered operation", 2)?;
            covers.push(CoverKey::from_bytes(c[0], c[1])?);
        }
        let n = usize::from(r.take("recipient count", 1)?[0]);
        check_count("recipients", n, 1, MAX_RECIPIENTS)?;
        let mut recipients = Vec::with_capacity(n);
        for _ in 0..n {
            let e = r.take("recipient", RECIPIENT_BYTES)?;
            let mut w = WrappedKey {
                regulator: Address::from_slice(&e[..20]),
                ephemeral: [0; 33],
                wrapped: [0; 48],
            };
            w.ephemeral.copy_from_slice(&e[20..53]);
            w.wrapped.copy_from_slice(&e[53..]);
            recipients.push(w);
        }
        let mut nonce = [0u8; NONCE];
        nonce.copy_from_slice(r.take("body nonce", NONCE)?);
        let len = r.take("body length", 4)?;
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        if len < TAG {
            return Err(EnvelopeError::BadCount {
                what: "body bytes",
                count: len,
                min: TAG,
                max: u32::MAX as usize,
            });
        }
        let body = r.take("body", len)?.to_vec();
        if r.at != bytes.len() {
            return Err(EnvelopeError::TrailingBytes(bytes.len() - r.at));
        }
        Ok(Envelope { version, covers, recipients, nonce, body })
    }

    /// The regulators the data key is wrapped for.
    pub fn regulators(&self) -> Vec<Address> {
        self.recipients.iter().map(|r| r.regulator).collect()
    }

    /// Decrypts the record with a regulator's key (and inflates it, for version 2).
    pub fn open(&self, subject: B256, key: &SecretKey) -> Result<Vec<u8>, EnvelopeError> {
        let body = self.open_body(subject, key)?;
        if self.version == ENVELOPE_V1 {
            return Ok(body);
        }
        miniz_oxide::inflate::decompress_to_vec_with_limit(&body, MAX_RECORD_BYTES).map_err(|e| {
            EnvelopeError::BadCompression(match e.status {
                miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                    format!("it inflates past {MAX_RECORD_BYTES} bytes")
                }
                status => format!("{status:?}"),
            })
        })
    }

    /// Decrypts the body plaintext, in the envelope version's form.
    fn open_body(&self, subject: B256, key: &SecretKey) -> Result<Vec<u8>, EnvelopeError> {
        let public = key.public_key();
        let address = address_of(&public);
        let entry = self
            .recipients
            .iter()
            .find(|r| r.regulator == address)
            .ok_or(EnvelopeError::NotARecipient(address))?;
        let ephemeral = PublicKey::from_sec1_bytes(&entry.ephemeral)
            .map_err(|_| EnvelopeError::BadPublicKey("the ephemeral key"))?;
        let shared = k256::ecdh::diffie_hellman(key.to_nonzero_scalar(), ephemeral.as_affine());
        let (kek, nonce) = derive(&shared.raw_secret_bytes()[..], &entry.ephemeral, &public);
        let data_key: [u8; 32] = decrypt(&kek, &nonce, &entry.wrapped, &wrap_aad(address, subject))
            .and_then(|k| k.try_into().ok())
            .ok_or(EnvelopeError::Tampered("wrapped key"))?;
        let aad = body_aad(subject, &self.header());
        decrypt(&data_key, &self.nonce, &self.body, &aad).ok_or(EnvelopeError::Tampered("record"))
    }
}

fn check_count(
    what: &'static str,
    count: usize,
    min: usize,
    max: usize,
) -> Result<(), EnvelopeError> {
    if (min..=max).contains(&count) {
        Ok(())
    } else {
        Err(EnvelopeError::BadCount { what, count, min, max })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], EnvelopeError> {
        let available = self.bytes.len() - self.at;
        if available < n {
            return Err(EnvelopeError::Truncated { field, needed: n, available });
        }
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }
}

fn compressed(key: &PublicKey) -> [u8; 33] {
    let mut out = [0u8; 33];
    out.copy_from_slice(key.to_encoded_point(true).as_bytes());
    out
}

fn wrap_key(
    ephemeral: &SecretKey,
    ephemeral_public: &[u8; 33],
    to: &PublicKey,
) -> ([u8; 32], [u8; 12]) {
    let shared = k256::ecdh::diffie_hellman(ephemeral.to_nonzero_scalar(), to.as_affine());
    derive(&shared.raw_secret_bytes()[..], ephemeral_public, to)
}

fn derive(
    shared_x: &[u8],
    ephemeral_public: &[u8; 33],
    recipient: &PublicKey,
) -> ([u8; 32], [u8; 12]) {
    let mut salt = [0u8; 66];
    salt[..33].copy_from_slice(ephemeral_public);
    salt[33..].copy_from_slice(&compressed(recipient));
    let mut okm = [0u8; 44];
    // 44 bytes is far below HKDF-SHA256's 255·32 limit: expand cannot fail.
    let _ = Hkdf::<Sha256>::new(Some(&salt), shared_x).expand(WRAP_INFO, &mut okm);
    let mut kek = [0u8; 32];
    let mut nonce = [0u8; 12];
    kek.copy_from_slice(&okm[..32]);
    nonce.copy_from_slice(&okm[32..]);
    (kek, nonce)
}

fn wrap_aad(regulator: Address, subject: B256) -> Vec<u8> {
    let mut aad = regulator.to_vec();
    aad.extend_from_slice(subject.as_slice());
    aad
}

fn body_aad(subject: B256, header: &[u8]) -> Vec<u8> {
    let mut aad = BODY_AAD.to_vec();
    aad.extend_from_slice(subject.as_slice());
    aad.extend_from_slice(header);
    aad
}

fn encrypt(key: &[u8; 32], nonce: &[u8; 12], msg: &[u8], aad: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key));
    // AES-GCM encryption fails only for messages over 64 GiB; envelopes are ≤ 16 KiB.
    cipher.encrypt(&Nonce::from(*nonce), Payload { msg, aad }).unwrap_or_default()
}

fn decrypt(key: &[u8; 32], nonce: &[u8; 12], msg: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key));
    cipher.decrypt(&Nonce::from(*nonce), Payload { msg, aad }).ok()
}

/// `fixtures/audit_vectors.json`, for the tests of the envelope and of the regulator's reading.
#[cfg(test)]
pub(crate) mod vectors {
    /// The parsed file.
    pub(crate) fn load() -> serde_json::Value {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/audit_vectors.json"
        ))
        .expect("read fixtures/audit_vectors.json");
        serde_json::from_str(&text).expect("json")
    }

    /// A `0x…` hex field's bytes.
    pub(crate) fn hex_bytes(v: &serde_json::Value) -> Vec<u8> {
        let text = v.as_str().expect("hex string");
        hex::decode(text.trim_start_matches("0x")).expect("hex")
    }
}

#[cfg(test)]
mod tests {
    use super::vectors::hex_bytes;
    use super::*;
    use crate::audit::record::CoverKind;

    fn key(byte: u8) -> SecretKey {
        SecretKey::from_slice(&[byte; 32]).expect("valid scalar")
    }

    fn recipient(k: &SecretKey) -> Recipient {
        let public = k.public_key();
        Recipient { address: address_of(&public), public_key: public }
    }

    fn counter() -> impl FnMut(&mut [u8]) -> Result<(), EnvelopeError> {
        let mut n = 0u8;
        move |buf: &mut [u8]| {
            for b in buf.iter_mut() {
                n = n.wrapping_add(1);
                *b = n;
            }
            Ok(())
        }
    }

    fn sealed(subject: B256, recipients: &[Recipient]) -> Envelope {
        let covers = [CoverKey { kind: CoverKind::Voted, index: 1 }];
        Envelope::seal(subject, &covers, b"{\"hello\":1}", recipients, &mut counter())
            .expect("seal")
    }

    /// fixtures/audit_vectors.json was built by tools/audit_vectors.py with Python's
    /// `cryptography`: an independent implementation of the same envelope.
    #[test]
    fn matches_the_independent_vector() {
        let v = vectors::load();
        let subject = B256::from_slice(&hex_bytes(&v["subject"]));
        let mut keys = Vec::new();
        let mut recipients = Vec::new();
        for r in v["regulators"].as_array().expect("regulators") {
            let key = SecretKey::from_slice(&hex_bytes(&r["privateKey"])).expect("key");
            let expected: Address =
                r["address"].as_str().expect("address").parse().expect("address");
            let from_xy = Recipient::from_xy(&hex_bytes(&r["publicKey"])).expect("public key");
            assert_eq!(from_xy.address, expected);
            assert_eq!(address_of(&key.public_key()), expected);
            recipients.push(from_xy);
            keys.push(key);
        }
        let covers: Vec<CoverKey> = v["covers"]
            .as_array()
            .expect("covers")
            .iter()
            .map(|c| {
                let byte = |f: &str| u8::try_from(c[f].as_u64().expect("number")).expect("byte");
                CoverKey::from_bytes(byte("kind"), byte("index")).expect("cover")
            })
            .collect();
        let plaintext = v["plaintext"].as_str().expect("plaintext").as_bytes().to_vec();
        let record: crate::audit::AuditRecord =
            serde_json::from_slice(&plaintext).expect("the plaintext is a version-1 record");
        assert_eq!(record.covers(), covers);
        let randomness = hex_bytes(&v["randomness"]);
        let versions: Vec<u64> = v["envelopes"]
            .as_array()
            .expect("envelopes")
            .iter()
            .map(|e| e["version"].as_u64().expect("version"))
            .collect();
        assert_eq!(versions, [u64::from(ENVELOPE_V1), u64::from(ENVELOPE_VERSION)]);
        for e in v["envelopes"].as_array().expect("envelopes") {
            let version = u8::try_from(e["version"].as_u64().expect("version")).expect("byte");
            let body = hex_bytes(&e["body"]);
            let mut at = 0;
            let mut fixed = |buf: &mut [u8]| {
                buf.copy_from_slice(&randomness[at..at + buf.len()]);
                at += buf.len();
                Ok(())
            };
            let sealed =
                Envelope::seal_body(version, subject, &covers, &body, &recipients, &mut fixed)
                    .expect("seal");
            let expected = hex_bytes(&e["envelope"]);
            assert_eq!(hex::encode(sealed.encode()), hex::encode(&expected), "version {version}");
            let parsed = Envelope::decode(&expected).expect("decode");
            assert_eq!(parsed.version, version);
            for key in &keys {
                assert_eq!(
                    parsed.open(subject, key).expect("open"),
                    plaintext,
                    "version {version}"
                );
            }
        }
    }

    #[test]
    fn version_2_compresses_and_round_trips_a_real_record() {
        let v = vectors::load();
        let plaintext = v["plaintext"].as_str().expect("plaintext").as_bytes();
        let r1 = key(1);
        let covers = [CoverKey { kind: CoverKind::Voted, index: 0 }];
        let env = Envelope::seal(B256::ZERO, &covers, plaintext, &[recipient(&r1)], &mut counter())
            .expect("seal");
        assert_eq!(env.version, ENVELOPE_VERSION);
        let wire = env.encode();
        assert_eq!(wire[0], ENVELOPE_VERSION);
        // The record is JSON with hex fields: DEFLATE must at least shave a third off its body.
        assert!(
            env.body.len() - 16 < plaintext.len() * 2 / 3,
            "{} of {}",
            env.body.len(),
            plaintext.len()
        );
        let parsed = Envelope::decode(&wire).expect("decode");
        assert_eq!(parsed.open(B256::ZERO, &r1).expect("open"), plaintext);
    }

    #[test]
    fn oversize_records_and_bodies_that_do_not_inflate_are_refused() {
        let r1 = key(1);
        let covers = [CoverKey { kind: CoverKind::Voted, index: 0 }];
        let huge = vec![b' '; MAX_RECORD_BYTES + 1];
        let err = Envelope::seal(B256::ZERO, &covers, &huge, &[recipient(&r1)], &mut counter())
            .expect_err("too large");
        assert_eq!(
            err,
            EnvelopeError::RecordTooLarge { size: MAX_RECORD_BYTES + 1, max: MAX_RECORD_BYTES }
        );
        // A hostile writer: a well-formed, authenticated version-2 envelope whose body is not
        // DEFLATE data, and one whose body inflates past the limit.
        let garbage = Envelope::seal_body(
            ENVELOPE_VERSION,
            B256::ZERO,
            &covers,
            b"\xff\xff\xff\xff",
            &[recipient(&r1)],
            &mut counter(),
        )
        .expect("seal");
        assert!(matches!(garbage.open(B256::ZERO, &r1), Err(EnvelopeError::BadCompression(_))));
        let bomb = miniz_oxide::deflate::compress_to_vec(&vec![0u8; MAX_RECORD_BYTES + 1], 9);
        let bomb = Envelope::seal_body(
            ENVELOPE_VERSION,
            B256::ZERO,
            &covers,
            &bomb,
            &[recipient(&r1)],
            &mut counter(),
        )
        .expect("seal");
        assert_eq!(
            bomb.open(B256::ZERO, &r1),
            Err(EnvelopeError::BadCompression(format!(
                "it inflates past {MAX_RECORD_BYTES} bytes"
            )))
        );
    }

    #[test]
    fn every_recipient_opens_and_nobody_else() {
        let (r1, r2, other) = (key(1), key(2), key(3));
        let subject = B256::repeat_byte(7);
        let env = sealed(subject, &[recipient(&r1), recipient(&r2)]);
        let wire = env.encode();
        let parsed = Envelope::decode(&wire).expect("decode");
        assert_eq!(parsed, env);
        assert_eq!(parsed.open(subject, &r1).expect("r1"), b"{\"hello\":1}");
        assert_eq!(parsed.open(subject, &r2).expect("r2"), b"{\"hello\":1}");
        let stranger = address_of(&other.public_key());
        assert_eq!(parsed.open(subject, &other), Err(EnvelopeError::NotARecipient(stranger)));
        let deflated = miniz_oxide::deflate::compress_to_vec(b"{\"hello\":1}", DEFLATE_LEVEL);
        assert_eq!(wire.len(), 3 + 2 + 2 * RECIPIENT_BYTES + 12 + 4 + deflated.len() + 16);
    }

    #[test]
    fn another_subject_or_any_flipped_bit_fails_authentication() {
        let r1 = key(1);
        let subject = B256::repeat_byte(7);
        let env = sealed(subject, &[recipient(&r1)]);
        assert_eq!(
            env.open(B256::repeat_byte(8), &r1),
            Err(EnvelopeError::Tampered("wrapped key"))
        );
        let wire = env.encode();
        for i in 0..wire.len() {
            let mut bad = wire.clone();
            bad[i] ^= 0x01;
            if let Ok(parsed) = Envelope::decode(&bad) {
                assert!(parsed.open(subject, &r1).is_err(), "byte {i} flipped, still opens")
            }
        }
    }

    #[test]
    fn truncation_and_trailing_bytes_are_named() {
        let r1 = key(1);
        let wire = sealed(B256::ZERO, &[recipient(&r1)]).encode();
        for cut in 0..wire.len() {
            let err = Envelope::decode(&wire[..cut]).expect_err("truncated");
            assert!(matches!(err, EnvelopeError::Truncated { .. }), "cut at {cut}: {err}");
        }
        let mut long = wire.clone();
        long.push(0);
        assert_eq!(Envelope::decode(&long), Err(EnvelopeError::TrailingBytes(1)));
        for version in [0, 3, 255] {
            let mut other = wire.clone();
            other[0] = version;
            assert_eq!(Envelope::decode(&other), Err(EnvelopeError::UnsupportedVersion(version)));
        }
    }

    #[test]
    fn counts_out_of_range_are_refused() {
        let r = recipient(&key(1));
        let covers = [CoverKey { kind: CoverKind::Begun, index: 0 }];
        let err = Envelope::seal(B256::ZERO, &covers, b"x", &[], &mut counter()).expect_err("none");
        assert!(matches!(err, EnvelopeError::BadCount { what: "recipients", count: 0, .. }));
        let many = vec![r; MAX_RECIPIENTS + 1];
        let err = Envelope::seal(B256::ZERO, &covers, b"x", &many, &mut counter()).expect_err("17");
        assert!(matches!(err, EnvelopeError::BadCount { what: "recipients", count: 17, .. }));
        let err = Envelope::seal(B256::ZERO, &[], b"x", &many[..1], &mut counter()).expect_err("0");
        assert!(matches!(err, EnvelopeError::BadCount { what: "covered operations", .. }));
    }

    #[test]
    fn recipient_from_supervision_key_matches_its_address() {
        let k = key(9);
        let xy = public_key_xy(&k.public_key());
        let r = Recipient::from_xy(&xy).expect("on curve");
        assert_eq!(r.address, address_of(&k.public_key()));
        let signer = alloy::signers::local::PrivateKeySigner::from_slice(&[9u8; 32]).expect("key");
        assert_eq!(r.address, signer.address(), "the regulator address is its Ethereum address");
        let mut off = xy;
        off[63] ^= 1;
        assert_eq!(Recipient::from_xy(&off), Err(EnvelopeError::BadPublicKey("the regulator key")));
        assert_eq!(
            Recipient::from_xy(&xy[..63]),
            Err(EnvelopeError::BadPublicKey("the regulator key"))
        );
    }
}
