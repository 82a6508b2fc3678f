//! HTLC swaps: the `SwapRequest` both parties sign for the TransactionManager, the `Lock`
//! authorisation a leg's sender signs for an HtlcAsset, and the swap [`Secret`].
//!
//! [`SwapRequest`] and [`Leg`] are the `sol!`-generated structs of the TransactionManager bindings
//! (what `proposeSwap` takes); their EIP-712 type string is the Solidity one (tested against
//! `TransactionManager.sol`). [`Lock`] is declared here with the HtlcAsset's type,
//! `Lock(bytes32 swapId,address sender,address recipient,uint256 amount,bytes32 hashlock,uint64 timelock)`.
//!
//! Ids. A swap's id is bound to its initiator: `swapId = keccak256(abi.encode(legA.sender,
//! nonce))` ([`super::request_id`]), so nobody else can propose under it. Each leg's `Lock`
//! carries its own swap id, [`leg_swap_id`]`(swapId, leg) = keccak256(abi.encode(swapId, uint8
//! leg))` (a swap's two legs may sit on one resource), and the HtlcAsset keeps the lock under a
//! **lock id that commits to every term**, the `Lock`'s EIP-712 struct hash ([`Lock::id`]): a
//! lock with other terms (a counterparty pre-locking "the swap's slot" with amount 1) lands under
//! another id and never occupies this one.

use std::fmt;

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::signers::{Signer, SignerSync};
use alloy::sol_types::{Eip712Domain, SolStruct, SolValue};
use sha2::{Digest, Sha256};

use serde::{Deserialize, Serialize};

use super::{SignError, random_b256, sign_digest, sign_digest_async};
use crate::ipath::{IPath, IPathError, Segment, SegmentError};

pub use crate::bindings::transaction_manager::ITransactionManager::{Leg, SwapRequest};
pub use lock::Lock;

mod lock {
    //! The HtlcAsset's EIP-712 `Lock` type (the HtlcAsset ABI has no struct for it).
    alloy::sol! {
        /// What a leg's sender signs so that a relayer may lock the leg on the HtlcAsset.
        #[derive(Debug, PartialEq, Eq)]
        struct Lock {
            bytes32 swapId;
            address sender;
            address recipient;
            uint256 amount;
            bytes32 hashlock;
            uint64 timelock;
        }
    }
}

/// EIP-712 domain name of the HtlcAsset.
pub const HTLC_DOMAIN_NAME: &str = "crossgov.HtlcAsset";
/// EIP-712 domain version of the HtlcAsset.
pub const HTLC_DOMAIN_VERSION: &str = "1";
/// `TransactionManager.MIN_TIMELOCK_MARGIN`: leg A's timelock must exceed leg B's by more.
pub const MIN_TIMELOCK_MARGIN: u64 = 10 * 60;
/// `TransactionManager.MAX_SWAP_DURATION`: leg A's timelock is at most this after the proposal.
pub const MAX_SWAP_DURATION: u64 = 30 * 24 * 3600;

/// The HtlcAsset's EIP-712 domain on chain `chain_id` at `verifying_contract`.
pub fn htlc_domain(chain_id: u64, verifying_contract: Address) -> Eip712Domain {
    Eip712Domain::new(
        Some(HTLC_DOMAIN_NAME.into()),
        Some(HTLC_DOMAIN_VERSION.into()),
        Some(U256::from(chain_id)),
        Some(verifying_contract),
        None,
    )
}

/// `sha256(secret)`: the hashlock of a secret (SHA-256 of its 32 raw bytes), as the contracts
/// compute it with `sha256(abi.encodePacked(secret))`.
pub fn hashlock_of(secret: &B256) -> B256 {
    B256::from_slice(&Sha256::digest(secret.as_slice()))
}

/// Which leg of a swap: A (the initiator pays) or B (the counterparty pays).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum LegId {
    /// Leg A, paid by the initiator, locked first, with the later timelock.
    A = 0,
    /// Leg B, paid by the counterparty.
    B = 1,
}

impl LegId {
    /// Both legs in order.
    pub const ALL: [LegId; 2] = [LegId::A, LegId::B];

    /// The contracts' `uint8 leg`: 0 for A, 1 for B.
    pub const fn index(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for LegId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LegId::A => "A",
            LegId::B => "B",
        })
    }
}

/// The swap id the `Lock` of leg `leg` of swap `swap_id` carries:
/// `keccak256(abi.encode(swapId, uint8 leg))`.
pub fn leg_swap_id(swap_id: B256, leg: LegId) -> B256 {
    // abi.encode(bytes32, uint8): the uint8 takes a full word.
    keccak256((swap_id, U256::from(leg.index())).abi_encode())
}

/// The preimage of a swap's hashlock: 32 bytes from the operating system's CSPRNG.
///
/// Its `Debug` shows only the hashlock; the bytes are reachable through [`Secret::reveal`] alone,
/// which is meant for the unlock call that publishes them.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(B256);

impl Secret {
    /// A fresh random secret.
    pub fn random() -> Secret {
        Secret(random_b256())
    }

    /// A secret from known bytes (restored from the relayer's state, or revealed on chain).
    pub const fn from_bytes(bytes: B256) -> Secret {
        Secret(bytes)
    }

    /// The secret's bytes, for the unlock that reveals it (or for persisting it).
    pub const fn reveal(&self) -> B256 {
        self.0
    }

    /// `sha256(secret)`.
    pub fn hashlock(&self) -> B256 {
        hashlock_of(&self.0)
    }

    /// True when this secret opens `hashlock`.
    pub fn opens(&self, hashlock: &B256) -> bool {
        self.hashlock() == *hashlock
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret").field("hashlock", &self.hashlock()).finish_non_exhaustive()
    }
}

/// A swap request `proposeSwap` would refuse whatever the chain's state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SwapRequestError {
    /// `swapId` is zero (`SwapZeroId`).
    #[error("the swapId is zero")]
    ZeroId,
    /// `hashlock` is zero (`SwapZeroHashlock`).
    #[error("the hashlock is zero")]
    ZeroHashlock,
    /// A leg's path is not a concrete iPath (`SwapBadPath`).
    #[error("leg {leg}: {source}")]
    Path {
        /// The leg.
        leg: LegId,
        /// What is wrong with its path.
        source: IPathError,
    },
    /// A leg's amount is zero (`SwapZeroAmount`).
    #[error("leg {leg}: the amount is zero")]
    ZeroAmount {
        /// The leg.
        leg: LegId,
    },
    /// A leg's sender or recipient is the zero address (`SwapZeroAddress`).
    #[error("leg {leg}: the sender or recipient is the zero address")]
    ZeroAddress {
        /// The leg.
        leg: LegId,
    },
    /// The timelocks break `now < TB`, `TB + MIN_TIMELOCK_MARGIN < TA <= now + MAX_SWAP_DURATION`
    /// (`SwapBadTimelocks`; `now` is governance-chain time).
    #[error(
        "timelocks A {timelock_a} and B {timelock_b} must satisfy {now} < B, B + {MIN_TIMELOCK_MARGIN} < A <= {now} + {MAX_SWAP_DURATION}"
    )]
    Timelocks {
        /// Leg A's timelock.
        timelock_a: u64,
        /// Leg B's timelock.
        timelock_b: u64,
        /// The governance chain's time.
        now: u64,
    },
}

impl Leg {
    /// `sender` pays `amount` to `recipient` on the HtlcAsset at `path`, refundable from
    /// `timelock` (a timestamp of that business chain).
    pub fn new(
        path: &IPath,
        sender: Address,
        recipient: Address,
        amount: U256,
        timelock: u64,
    ) -> Leg {
        let (zone, chain, resource) = path.to_words();
        Leg { zone, chain, resource, sender, recipient, amount, timelock }
    }

    /// The leg's resource path.
    pub fn path(&self) -> Result<IPath, IPathError> {
        IPath::from_words(self.zone, self.chain, self.resource)
    }
}

impl SwapRequest {
    /// A request with a fresh random nonce and the swapId bound to it and the initiator
    /// (`leg_a.sender`).
    pub fn new(hashlock: B256, leg_a: Leg, leg_b: Leg) -> SwapRequest {
        let nonce: U256 = random_b256().into();
        SwapRequest {
            swapId: super::request_id(leg_a.sender, nonce),
            hashlock,
            legA: leg_a,
            legB: leg_b,
            nonce,
        }
    }

    /// Whether the swapId is the one bound to the initiator and nonce (`proposeSwap` refuses
    /// another with `SwapIdNotBound`).
    pub fn id_is_bound(&self) -> bool {
        self.swapId == super::request_id(self.legA.sender, self.nonce)
    }

    /// The leg `leg`.
    pub fn leg(&self, leg: LegId) -> &Leg {
        match leg {
            LegId::A => &self.legA,
            LegId::B => &self.legB,
        }
    }

    /// The checks of `proposeSwap` that depend on the request alone.
    pub fn validate(&self) -> Result<(), SwapRequestError> {
        if self.swapId.is_zero() {
            return Err(SwapRequestError::ZeroId);
        }
        if self.hashlock.is_zero() {
            return Err(SwapRequestError::ZeroHashlock);
        }
        for id in LegId::ALL {
            let leg = self.leg(id);
            leg.path().map_err(|source| SwapRequestError::Path { leg: id, source })?;
            if leg.amount.is_zero() {
                return Err(SwapRequestError::ZeroAmount { leg: id });
            }
            if leg.sender.is_zero() || leg.recipient.is_zero() {
                return Err(SwapRequestError::ZeroAddress { leg: id });
            }
        }
        Ok(())
    }

    /// `proposeSwap`'s timelock check against governance-chain time `now`.
    pub fn check_timelocks(&self, now: u64) -> Result<(), SwapRequestError> {
        let (a, b) = (self.legA.timelock, self.legB.timelock);
        let ok = b > now
            && u128::from(a) > u128::from(b) + u128::from(MIN_TIMELOCK_MARGIN)
            && u128::from(a) <= u128::from(now) + u128::from(MAX_SWAP_DURATION);
        if ok {
            Ok(())
        } else {
            Err(SwapRequestError::Timelocks { timelock_a: a, timelock_b: b, now })
        }
    }

    /// The EIP-712 digest both parties sign (= `swapRequestDigest(request)` of the contract).
    pub fn signing_hash(&self, domain: &Eip712Domain) -> B256 {
        self.eip712_signing_hash(domain)
    }

    /// A party's 65-byte signature (the initiator's for `proposeSwap`, the counterparty's for
    /// `acceptSwap`).
    pub fn sign(
        &self,
        domain: &Eip712Domain,
        signer: &(impl SignerSync + ?Sized),
    ) -> Result<Bytes, SignError> {
        sign_digest("SwapRequest", &self.signing_hash(domain), signer)
    }

    /// [`SwapRequest::sign`] with an asynchronous signer.
    pub async fn sign_async(
        &self,
        domain: &Eip712Domain,
        signer: &(impl Signer + ?Sized),
    ) -> Result<Bytes, SignError> {
        sign_digest_async("SwapRequest", &self.signing_hash(domain), signer).await
    }

    /// The HtlcAsset `Lock` of leg `leg` (under its [`leg_swap_id`]): what the leg's sender
    /// signs, and whose [`Lock::id`] the asset keeps the lock under.
    pub fn lock(&self, leg: LegId) -> Lock {
        let l = self.leg(leg);
        Lock {
            swapId: leg_swap_id(self.swapId, leg),
            sender: l.sender,
            recipient: l.recipient,
            amount: l.amount,
            hashlock: self.hashlock,
            timelock: l.timelock,
        }
    }
}

impl Lock {
    /// The HtlcAsset's id of this lock (= `lockIdOf(…)`, what `lock` returns and `lockOf`,
    /// `unlock` and `timeout` take): the EIP-712 struct hash, which commits to every term.
    pub fn id(&self) -> B256 {
        self.eip712_hash_struct()
    }

    /// The HtlcAsset `lock` call of these terms with the sender's signature.
    pub fn lock_call(&self, sender_sig: Bytes) -> crate::bindings::HtlcAsset::lockCall {
        crate::bindings::HtlcAsset::lockCall {
            swapId: self.swapId,
            sender: self.sender,
            recipient: self.recipient,
            amount: self.amount,
            hashlock: self.hashlock,
            timelock: self.timelock,
            senderSig: sender_sig,
        }
    }

    /// The EIP-712 digest the sender signs (= `lockDigest(…)` of the HtlcAsset).
    pub fn signing_hash(&self, domain: &Eip712Domain) -> B256 {
        self.eip712_signing_hash(domain)
    }

    /// The sender's 65-byte `senderSig` for `lock`.
    pub fn sign(
        &self,
        domain: &Eip712Domain,
        signer: &(impl SignerSync + ?Sized),
    ) -> Result<Bytes, SignError> {
        sign_digest("Lock", &self.signing_hash(domain), signer)
    }

    /// [`Lock::sign`] with an asynchronous signer.
    pub async fn sign_async(
        &self,
        domain: &Eip712Domain,
        signer: &(impl Signer + ?Sized),
    ) -> Result<Bytes, SignError> {
        sign_digest_async("Lock", &self.signing_hash(domain), signer).await
    }
}

/// A [`SwapRequest`] as JSON: the relayer API's `request` and the request file of
/// `crossgov swap propose` / `accept`. Path segments are names, amount and nonce decimal strings
/// (a `uint256` does not fit a JSON number); unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SwapRequestJson {
    /// The swap id.
    pub swap_id: B256,
    /// `sha256(secret)`.
    pub hashlock: B256,
    /// Leg A (the initiator pays).
    pub leg_a: LegJson,
    /// Leg B (the counterparty pays).
    pub leg_b: LegJson,
    /// The initiator's nonce.
    pub nonce: String,
}

/// One leg of a [`SwapRequestJson`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LegJson {
    /// Zone segment.
    pub zone: String,
    /// Chain segment.
    pub chain: String,
    /// Resource segment.
    pub resource: String,
    /// Who pays.
    pub sender: Address,
    /// Who is paid.
    pub recipient: Address,
    /// Amount, decimal (or 0x-hex).
    pub amount: String,
    /// Refundable from this business-chain timestamp.
    pub timelock: u64,
}

/// A [`SwapRequestJson`] field that does not convert. `field` names it as in the JSON
/// (`legA.zone`, `nonce`). Not retryable: the input is what it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SwapJsonError {
    /// A path segment that is not a valid name.
    #[error("{field} {value:?} {source}")]
    Segment {
        /// The field.
        field: String,
        /// Its value.
        value: String,
        /// Why.
        source: SegmentError,
    },
    /// An amount or nonce that is not a number.
    #[error("{field} {value:?} is not a number")]
    Number {
        /// The field.
        field: String,
        /// Its value.
        value: String,
    },
}

impl SwapJsonError {
    /// The field at fault.
    pub fn field(&self) -> &str {
        match self {
            SwapJsonError::Segment { field, .. } | SwapJsonError::Number { field, .. } => field,
        }
    }
}

impl SwapRequestJson {
    /// The JSON form of `request` (a segment that is not a valid name is written as its hex word).
    pub fn of(request: &SwapRequest) -> SwapRequestJson {
        let seg = Segment::name_or_hex;
        let leg = |l: &Leg| LegJson {
            zone: seg(l.zone),
            chain: seg(l.chain),
            resource: seg(l.resource),
            sender: l.sender,
            recipient: l.recipient,
            amount: l.amount.to_string(),
            timelock: l.timelock,
        };
        SwapRequestJson {
            swap_id: request.swapId,
            hashlock: request.hashlock,
            leg_a: leg(&request.legA),
            leg_b: leg(&request.legB),
            nonce: request.nonce.to_string(),
        }
    }

    /// The request it describes.
    pub fn to_request(&self) -> Result<SwapRequest, SwapJsonError> {
        Ok(SwapRequest {
            swapId: self.swap_id,
            hashlock: self.hashlock,
            legA: self.leg_a.to_leg("legA")?,
            legB: self.leg_b.to_leg("legB")?,
            nonce: number("nonce", &self.nonce)?,
        })
    }
}

impl LegJson {
    fn to_leg(&self, name: &str) -> Result<Leg, SwapJsonError> {
        let seg = |field: &str, value: &str| {
            Segment::new(value).map(|s| s.to_word()).map_err(|source| SwapJsonError::Segment {
                field: format!("{name}.{field}"),
                value: value.to_owned(),
                source,
            })
        };
        Ok(Leg {
            zone: seg("zone", &self.zone)?,
            chain: seg("chain", &self.chain)?,
            resource: seg("resource", &self.resource)?,
            sender: self.sender,
            recipient: self.recipient,
            amount: number(&format!("{name}.amount"), &self.amount)?,
            timelock: self.timelock,
        })
    }
}

fn number(field: &str, value: &str) -> Result<U256, SwapJsonError> {
    let bad = || SwapJsonError::Number { field: field.to_owned(), value: value.to_owned() };
    // U256's parser reads "" as 0: a missing number must not become a zero.
    if value.trim().is_empty() {
        return Err(bad());
    }
    value.parse().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{address, b256, hex};
    use alloy::signers::local::PrivateKeySigner;

    fn vectors() -> serde_json::Value {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/resource_vectors.json"
        ))
        .expect("read fixtures/resource_vectors.json");
        serde_json::from_str(&text).expect("parse vectors")
    }

    fn word(v: &serde_json::Value) -> B256 {
        v.as_str().expect("string").parse().expect("bytes32")
    }

    fn addr(v: &serde_json::Value) -> Address {
        v.as_str().expect("string").parse().expect("address")
    }

    fn path(s: &str) -> IPath {
        s.parse().expect("iPath")
    }

    #[test]
    fn lock_matches_the_cast_vectors() {
        let v = &vectors()["htlcLock"];
        assert_eq!(Lock::eip712_encode_type(), v["typeString"].as_str().expect("typeString"));
        assert_eq!(keccak256(Lock::eip712_encode_type().as_bytes()), word(&v["typeHash"]));

        let d = &v["domain"];
        assert_eq!(d["name"], HTLC_DOMAIN_NAME);
        assert_eq!(d["version"], HTLC_DOMAIN_VERSION);
        let contract = addr(&d["verifyingContract"]);
        // The vector's contract is the deployer's first CREATE.
        assert_eq!(
            addr(&v["deployer"]).create(v["deployerNonce"].as_u64().expect("nonce")),
            contract
        );
        let domain = htlc_domain(d["chainId"].as_u64().expect("chainId"), contract);
        assert_eq!(domain.separator(), word(&v["domainSeparator"]));

        let m = &v["message"];
        let lock = Lock {
            swapId: word(&m["swapId"]),
            sender: addr(&m["sender"]),
            recipient: addr(&m["recipient"]),
            amount: m["amount"].as_str().expect("amount").parse().expect("uint"),
            hashlock: word(&m["hashlock"]),
            timelock: m["timelock"].as_u64().expect("timelock"),
        };
        assert_eq!(lock.eip712_hash_struct(), word(&v["structHash"]));
        // The HtlcAsset keeps the lock under its struct hash: the id commits to every term.
        assert_eq!(lock.id(), word(&v["structHash"]));
        assert_eq!(lock.signing_hash(&domain), word(&v["digest"]));

        let key = word(&v["signerKey"]);
        let signer = PrivateKeySigner::from_bytes(&key).expect("key");
        assert_eq!(signer.address(), lock.sender);
        // RFC 6979 signatures are deterministic: byte-identical to cast's.
        let sig = lock.sign(&domain, &signer).expect("sign");
        let expected = hex::decode(v["signature"].as_str().expect("signature")).expect("hex");
        assert_eq!(sig.as_ref(), expected.as_slice());

        let secret = Secret::from_bytes(word(&v["secret"]));
        assert_eq!(secret.hashlock(), lock.hashlock);
        assert!(secret.opens(&lock.hashlock));
    }

    #[test]
    fn hashlock_is_sha256_of_the_raw_bytes() {
        // sha256 of 32 zero bytes.
        assert_eq!(
            hashlock_of(&B256::ZERO),
            b256!("0x66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925")
        );
    }

    #[test]
    fn secret_debug_hides_the_bytes() {
        let secret = Secret::random();
        let shown = format!("{secret:?}");
        let bytes = secret.reveal();
        assert!(!shown.contains(&hex::encode(bytes)), "{shown}");
        assert!(!shown.contains(&hex::encode(&bytes[..8])), "{shown}");
        assert!(shown.contains(&secret.hashlock().to_string()), "{shown}");
        assert_ne!(Secret::random(), secret);
        assert!(!Secret::random().opens(&secret.hashlock()));
    }

    fn sample(now: u64) -> SwapRequest {
        let alice = address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
        let bob = address!("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
        SwapRequest::new(
            Secret::random().hashlock(),
            Leg::new(&path("zoneA.chainA.asset"), alice, bob, U256::from(100), now + 3 * 3600),
            Leg::new(&path("zoneB.chainB.asset"), bob, alice, U256::from(50), now + 3600),
        )
    }

    #[test]
    fn swap_request_types_are_the_solidity_ones() {
        let source = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../contracts/src/governance/TransactionManager.sol"
        ))
        .expect("read TransactionManager.sol");
        let swap = SwapRequest::eip712_encode_type();
        assert_eq!(
            swap,
            "SwapRequest(bytes32 swapId,bytes32 hashlock,Leg legA,Leg legB,uint256 nonce)Leg(bytes32 zone,bytes32 chain,bytes32 resource,address sender,address recipient,uint256 amount,uint64 timelock)"
        );
        assert!(source.contains(&format!("\"{swap}\"")), "TransactionManager.sol lacks {swap}");
        let leg = Leg::eip712_encode_type();
        assert!(source.contains(&format!("\"{leg}\"")), "TransactionManager.sol lacks {leg}");
        for line in [
            "uint64 public constant MIN_TIMELOCK_MARGIN = 10 minutes;",
            "uint64 public constant MAX_SWAP_DURATION = 30 days;",
        ] {
            assert!(source.contains(line), "TransactionManager.sol lacks `{line}`");
        }
    }

    #[test]
    fn swap_request_signing_and_locks() {
        let now = 1_700_000_000;
        let request = sample(now);
        assert_eq!(request.validate(), Ok(()));
        assert_eq!(request.check_timelocks(now), Ok(()));
        let domain = crate::protocol::tm_domain(31337, Address::repeat_byte(7));
        let signer = PrivateKeySigner::random();
        let sig = request.sign(&domain, &signer).expect("sign");
        let parsed = alloy::primitives::Signature::from_raw(&sig).expect("65 bytes");
        let recovered =
            parsed.recover_address_from_prehash(&request.signing_hash(&domain)).expect("recover");
        assert_eq!(recovered, signer.address());

        let lock_a = request.lock(LegId::A);
        let lock_b = request.lock(LegId::B);
        assert_ne!(lock_a.swapId, lock_b.swapId, "legs lock under distinct ids");
        assert_eq!(lock_a.swapId, leg_swap_id(request.swapId, LegId::A));
        assert_eq!(lock_a.swapId, keccak256([request.swapId.as_slice(), &[0u8; 32]].concat()));
        // Another term, another lock id: a foreign lock never occupies this one's.
        let squat = Lock { amount: U256::from(1), ..lock_b.clone() };
        assert_ne!(squat.id(), lock_b.id());
        assert_ne!(lock_a.id(), lock_b.id());
        // The swap id is bound to the initiator and nonce.
        assert!(request.id_is_bound());
        let mut other = request.clone();
        other.legA.sender = Address::repeat_byte(9);
        assert!(!other.id_is_bound(), "another initiator");
        assert_eq!((lock_a.sender, lock_a.amount), (request.legA.sender, request.legA.amount));
        assert_eq!((lock_b.timelock, lock_b.hashlock), (request.legB.timelock, request.hashlock));
    }

    #[test]
    fn swap_request_checks() {
        let now = 1_700_000_000;
        let good = sample(now);
        let mut r = good.clone();
        r.swapId = B256::ZERO;
        assert_eq!(r.validate(), Err(SwapRequestError::ZeroId));
        let mut r = good.clone();
        r.hashlock = B256::ZERO;
        assert_eq!(r.validate(), Err(SwapRequestError::ZeroHashlock));
        let mut r = good.clone();
        r.legB.amount = U256::ZERO;
        assert_eq!(r.validate(), Err(SwapRequestError::ZeroAmount { leg: LegId::B }));
        let mut r = good.clone();
        r.legA.recipient = Address::ZERO;
        assert_eq!(r.validate(), Err(SwapRequestError::ZeroAddress { leg: LegId::A }));
        let mut r = good.clone();
        r.legA.resource = B256::ZERO;
        assert!(matches!(r.validate(), Err(SwapRequestError::Path { leg: LegId::A, .. })));

        // Timelocks: now < TB, TB + margin < TA <= now + max.
        let tb = good.legB.timelock;
        assert!(good.check_timelocks(tb).is_err(), "TB reached");
        let mut r = good.clone();
        r.legA.timelock = tb + MIN_TIMELOCK_MARGIN;
        assert!(r.check_timelocks(now).is_err(), "margin not exceeded");
        r.legA.timelock += 1;
        assert!(r.check_timelocks(now).is_ok());
        r.legA.timelock = now + MAX_SWAP_DURATION + 1;
        assert_eq!(
            r.check_timelocks(now),
            Err(SwapRequestError::Timelocks { timelock_a: r.legA.timelock, timelock_b: tb, now })
        );
    }

    #[test]
    fn swap_request_json_round_trips_and_names_the_bad_field() {
        let path: IPath = "zoneA.chainA.asset".parse().expect("path");
        let leg =
            Leg::new(&path, Address::repeat_byte(1), Address::repeat_byte(2), U256::from(5), 9);
        let request = SwapRequest::new(B256::repeat_byte(3), leg.clone(), leg);
        let json = SwapRequestJson::of(&request);
        assert_eq!(json.leg_a.zone, "zoneA");
        let text = serde_json::to_string(&json).expect("json");
        let back: SwapRequestJson = serde_json::from_str(&text).expect("parses");
        assert_eq!(back.to_request().expect("converts"), request);

        let mut bad = json.clone();
        bad.leg_b.resource = "*".into();
        let err = bad.to_request().expect_err("wildcard");
        assert_eq!(err.field(), "legB.resource");
        assert_eq!(
            err.to_string(),
            "legB.resource \"*\" is the wildcard '*', which only patterns accept"
        );
        let mut bad = json.clone();
        bad.leg_a.amount = "ten".into();
        assert_eq!(
            bad.to_request(),
            Err(SwapJsonError::Number { field: "legA.amount".into(), value: "ten".into() })
        );
        let mut bad = json;
        bad.nonce = String::new();
        assert_eq!(bad.to_request().expect_err("nonce").field(), "nonce");
        let mut unknown = serde_json::to_value(&back).expect("value");
        unknown["legA"]["extra"] = 1.into();
        assert!(serde_json::from_value::<SwapRequestJson>(unknown).is_err());
    }
}
