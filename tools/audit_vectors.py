#!/usr/bin/env python3
"""Writes fixtures/audit_vectors.json: the same audit record as an envelope of each version (1: the
record as is; 2: the record compressed with raw DEFLATE, here by Python's zlib), built by an
implementation independent of the Rust one (Python `cryptography`), from fixed TEST keys and fixed
"random" bytes. The relayer's unit test `envelope::tests::matches_the_independent_vector` seals each
body with the same bytes and must produce the same envelope, and opens each with both keys back to
the record. (Two DEFLATE encoders may compress the same input differently, so the Rust test seals
Python's compressed body rather than its own.)

Run: python3 tools/audit_vectors.py > fixtures/audit_vectors.json   (needs python3-cryptography)
Regulator addresses are keccak256-based; Python's stdlib has no keccak, so they were computed with
`cast wallet address --private-key …` and are checked by the Rust test.
"""

import json
import zlib

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

WRAP_INFO = b"crossgov/audit/v1/key-wrap"
BODY_AAD = b"crossgov/audit/v1/record"

# TEST KEYS ONLY: never use them for anything real.
REGULATORS = [
    (bytes([1] * 32), "0x1a642f0E3c3aF545E7AcBD38b07251B3990914F1"),
    (bytes([2] * 32), "0x5050A4F4b3f9338C3472dcC01A87C76A144b3c9c"),
]
SUBJECT = bytes.fromhex("5ec7" + "00" * 29 + "01")
DATA_KEY = bytes([0x11] * 32)
EPHEMERAL = [bytes([0x22] * 32), bytes([0x33] * 32)]
BODY_NONCE = bytes([0x44] * 12)
COVERS = [(2, 0)]  # StepVoted, step 0

PLAINTEXT = json.dumps(
    {
        "version": 1,
        "subject": "0x" + SUBJECT.hex(),
        "protocol": "2pc",
        "initiator": "0x00000000000000000000000000000000000a11ce",
        "initiatorInstitution": 1,
        "institution": 1,
        "relayer": "0x0000000000000000000000000000000000000e1a",
        "writtenAt": 1767225600,
        "operations": [
            {
                "covers": {"kind": "voted", "index": 0},
                "interface": "prepare",
                "chain": "zoneA.chainA",
                "path": "zoneA.chainA.ledger",
                "arguments": {"step": 0, "op": {"kind": "DEBIT", "account": "0x00000000000000000000000000000000000a11ce", "amount": "100"}},
                "result": "ok",
                "txHash": "0x" + "ab" * 32,
                "performedBy": "0x0000000000000000000000000000000000000e1a",
            },
            {
                "covers": {"kind": "voted", "index": 0},
                "interface": "vote",
                "chain": "governance",
                "arguments": {"step": 0, "ok": True, "evidence": "0x" + "ab" * 32},
                "result": "pending",
                "performedBy": "0x0000000000000000000000000000000000000e1a",
            },
        ],
    },
    separators=(",", ":"),
).encode()


def private_key(secret):
    return ec.derive_private_key(int.from_bytes(secret, "big"), ec.SECP256K1())


def compressed(public):
    return public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)


def envelope(version, body_plaintext):
    header = bytes([version, len(COVERS)]) + b"".join(bytes(c) for c in COVERS) + bytes([len(REGULATORS)])
    wraps = []
    for (secret, address), eph_secret in zip(REGULATORS, EPHEMERAL):
        recipient = private_key(secret).public_key()
        eph = private_key(eph_secret)
        eph_pub = compressed(eph.public_key())
        shared_x = eph.exchange(ec.ECDH(), recipient)
        okm = HKDF(algorithm=hashes.SHA256(), length=44, salt=eph_pub + compressed(recipient), info=WRAP_INFO).derive(shared_x)
        kek, nonce = okm[:32], okm[32:]
        wrapped = AESGCM(kek).encrypt(nonce, DATA_KEY, bytes.fromhex(address[2:]) + SUBJECT)
        header += bytes.fromhex(address[2:]) + eph_pub + wrapped
        wraps.append({"ephemeralPublicKey": "0x" + eph_pub.hex(), "sharedX": "0x" + shared_x.hex(), "kek": "0x" + kek.hex(), "wrapNonce": "0x" + nonce.hex()})
    body = AESGCM(DATA_KEY).encrypt(BODY_NONCE, body_plaintext, BODY_AAD + SUBJECT + header)
    return header + BODY_NONCE + len(body).to_bytes(4, "big") + body, wraps


def deflate_raw(data):
    compressor = zlib.compressobj(level=9, wbits=-15)  # negative wbits: raw DEFLATE, no zlib header
    return compressor.compress(data) + compressor.flush()


def main():
    envelopes = []
    for version, body in [(1, PLAINTEXT), (2, deflate_raw(PLAINTEXT))]:
        wire, wraps = envelope(version, body)
        envelopes.append({"version": version, "body": "0x" + body.hex(), "envelope": "0x" + wire.hex()})
    out = {
        "comment": "Audit envelope test vectors (versions 1 and 2 of one record), built by tools/audit_vectors.py (Python cryptography, zlib), checked by the relayer's Rust test. TEST KEYS ONLY. randomness = the bytes the sealer draws, in order: data key (32), one ephemeral secret per recipient (32 each), body nonce (12). body = the body's plaintext: the record (version 1) or the record deflated (version 2).",
        "regulators": [
            {"privateKey": "0x" + s.hex(), "address": a, "publicKey": "0x" + private_key(s).public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)[1:].hex()}
            for s, a in REGULATORS
        ],
        "subject": "0x" + SUBJECT.hex(),
        "covers": [{"kind": k, "index": i} for k, i in COVERS],
        "randomness": "0x" + (DATA_KEY + b"".join(EPHEMERAL) + BODY_NONCE).hex(),
        "wraps": wraps,
        "plaintext": PLAINTEXT.decode(),
        "envelopes": envelopes,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
