//! The cross-chain protocols' messages, named as in Solidity.
//!
//! - [`two_phase`]: the 2PC request a user signs (`TxRequest` / `Step`, EIP-712 under the
//!   TransactionManager's domain).
//! - [`htlc`]: the HTLC swap request both parties sign (`SwapRequest` / `Leg`), the `Lock`
//!   authorisation a leg's sender signs for an HtlcAsset, and the swap [`Secret`].
//! - [`xa_op`]: the op of an XaLedger step, `abi.encode(uint8 kind, address account, uint256
//!   amount)`.
//!
//! Signatures are what the contracts' `Signatures` library accepts: 65 bytes `r || s || v`, with
//! `v` in {27, 28} and a low `s`.

pub mod htlc;
pub mod two_phase;
pub mod xa_op;

pub use htlc::{
    Leg, LegJson, Lock, Secret, SwapJsonError, SwapRequest, SwapRequestError, SwapRequestJson,
    htlc_domain,
};
pub use two_phase::{Step, TxRequest, TxRequestBuilder, TxRequestError, tm_domain};
pub use xa_op::{XaOp, XaOpError, XaOpKind};

use alloy::primitives::{B256, Bytes, U256};
use alloy::signers::{Signer, SignerSync};

/// Upper bound of a canonical `s` (secp256k1n / 2), as in `Signatures.MAX_S`.
pub const MAX_S: U256 = U256::from_limbs([
    0xDFE9_2F46_681B_20A0,
    0x5D57_6E73_57A4_501D,
    0xFFFF_FFFF_FFFF_FFFF,
    0x7FFF_FFFF_FFFF_FFFF,
]);

/// Signing a protocol message failed (the signer refused or is unreachable).
#[derive(Debug, thiserror::Error)]
#[error("cannot sign {what}: {source}")]
pub struct SignError {
    /// What was being signed (`TxRequest`, `SwapRequest`, `Lock`).
    pub what: &'static str,
    /// The signer's error.
    #[source]
    pub source: alloy::signers::Error,
}

/// Signs an EIP-712 digest and returns the 65-byte `r || s || v` form the contracts accept.
pub fn sign_digest(
    what: &'static str,
    digest: &B256,
    signer: &(impl SignerSync + ?Sized),
) -> Result<Bytes, SignError> {
    let signature = signer.sign_hash_sync(digest).map_err(|source| SignError { what, source })?;
    Ok(canonical_bytes(signature))
}

/// [`sign_digest`] with an asynchronous signer (a remote or hardware key).
pub async fn sign_digest_async(
    what: &'static str,
    digest: &B256,
    signer: &(impl Signer + ?Sized),
) -> Result<Bytes, SignError> {
    let signature = signer.sign_hash(digest).await.map_err(|source| SignError { what, source })?;
    Ok(canonical_bytes(signature))
}

/// `r || s || v` with `v` = 27 + y-parity and `s` in the lower half of the curve order.
fn canonical_bytes(signature: alloy::primitives::Signature) -> Bytes {
    Bytes::copy_from_slice(&signature.normalized_s().as_bytes())
}

/// The id a request (2PC `TxRequest` or `SwapRequest`) of `initiator` with `nonce` must carry:
/// `keccak256(abi.encode(initiator, nonce))` (= `requestId` of the TransactionManager). Nonces
/// are single-use per initiator and shared by both kinds, so ids never collide, and nobody but
/// the initiator can sign a request under one.
pub fn request_id(initiator: alloy::primitives::Address, nonce: U256) -> B256 {
    use alloy::sol_types::SolValue;
    alloy::primitives::keccak256((initiator, nonce).abi_encode())
}

/// 32 bytes from the operating system's CSPRNG: fresh nonces, secrets.
///
/// # Panics
/// When the operating system has no random source (getrandom fails), which no supported platform
/// does once booted.
pub fn random_b256() -> B256 {
    let mut bytes = [0u8; 32];
    fill_random(&mut bytes);
    B256::new(bytes)
}

fn fill_random(bytes: &mut [u8]) {
    getrandom::getrandom(bytes).expect("the operating system's random source is unavailable");
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::local::PrivateKeySigner;

    #[test]
    fn max_s_is_half_the_curve_order() {
        // n = FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFE BAAEDCE6 AF48A03B BFD25E8C D0364141
        let n = U256::from_str_radix(
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141",
            16,
        )
        .expect("n");
        assert_eq!(MAX_S, n >> 1);
    }

    #[test]
    fn signatures_are_65_bytes_low_s_and_recover() {
        let signer = PrivateKeySigner::random();
        for _ in 0..8 {
            let digest = random_b256();
            let sig = sign_digest("test", &digest, &signer).expect("sign");
            assert_eq!(sig.len(), 65);
            assert!(sig[64] == 27 || sig[64] == 28, "v = {}", sig[64]);
            assert!(U256::from_be_slice(&sig[32..64]) <= MAX_S);
            let parsed = alloy::primitives::Signature::from_raw(&sig).expect("parse");
            let recovered = parsed.recover_address_from_prehash(&digest).expect("recover");
            assert_eq!(recovered, signer.address());
        }
    }

    #[test]
    fn random_words_differ() {
        assert_ne!(random_b256(), random_b256());
        assert_ne!(random_b256(), B256::ZERO);
    }
}
