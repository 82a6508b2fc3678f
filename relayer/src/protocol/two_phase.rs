//! The 2PC request a user signs: `TxRequest { txId, steps[(zone, chain, resource, op)], deadline,
//! nonce }`, EIP-712 under the TransactionManager's domain.
//!
//! [`TxRequest`] and [`Step`] are the `sol!`-generated structs of the TransactionManager bindings
//! (what `begin` takes), so a built request is passed to the contract as it is. Their EIP-712
//! type string is the Solidity one,
//! `TxRequest(bytes32 txId,Step[] steps,uint64 deadline,uint256 nonce)Step(bytes32 zone,bytes32 chain,bytes32 resource,bytes op)`
//! (a test checks it against `TransactionManager.sol`).

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::signers::{Signer, SignerSync};
use alloy::sol_types::{Eip712Domain, SolStruct};

use super::xa_op::{XaOp, XaOpError};
use super::{SignError, random_b256, sign_digest, sign_digest_async};
use crate::ipath::{IPath, IPathError};

pub use crate::bindings::transaction_manager::ITransactionManager::{Step, TxRequest};

/// EIP-712 domain name of the TransactionManager.
pub const TM_DOMAIN_NAME: &str = "crossgov.TransactionManager";
/// EIP-712 domain version of the TransactionManager.
pub const TM_DOMAIN_VERSION: &str = "1";
/// `TransactionManager.MAX_STEPS`.
pub const MAX_STEPS: usize = 16;
/// `TransactionManager.MAX_OP_BYTES`.
pub const MAX_OP_BYTES: usize = 1024;
/// `TransactionManager.MAX_EVIDENCE_BYTES` (vote and ack evidence).
pub const MAX_EVIDENCE_BYTES: usize = 256;
/// `TransactionManager.MAX_TX_DURATION`: the latest deadline, in seconds after `begin`'s block.
pub const MAX_TX_DURATION: u64 = 7 * 24 * 3600;

/// The TransactionManager's EIP-712 domain on chain `chain_id` at `verifying_contract`
/// (`DOMAIN_SEPARATOR()` is its hash).
pub fn tm_domain(chain_id: u64, verifying_contract: Address) -> Eip712Domain {
    Eip712Domain::new(
        Some(TM_DOMAIN_NAME.into()),
        Some(TM_DOMAIN_VERSION.into()),
        Some(U256::from(chain_id)),
        Some(verifying_contract),
        None,
    )
}

/// A request `begin` would refuse whatever the chain's state (checked before signing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxRequestError {
    /// `txId` is zero (`TxZeroId`).
    #[error("the txId is zero")]
    ZeroId,
    /// Not 1 to [`MAX_STEPS`] steps (`TxBadStepCount`).
    #[error("a transaction has 1 to {MAX_STEPS} steps, not {count}")]
    StepCount {
        /// How many steps the request has.
        count: usize,
    },
    /// A step's path is not a concrete iPath (`TxBadPath`).
    #[error("step {step}: {source}")]
    Path {
        /// The step.
        step: usize,
        /// What is wrong with its path.
        source: IPathError,
    },
    /// An op is empty or longer than [`MAX_OP_BYTES`] (`TxBadOpLength`).
    #[error("step {step}: an op is 1 to {MAX_OP_BYTES} bytes, not {len}")]
    OpLength {
        /// The step.
        step: usize,
        /// The op's length.
        len: usize,
    },
    /// The builder was given no deadline.
    #[error("the request has no deadline")]
    NoDeadline,
    /// The deadline is not in `(now, now + MAX_TX_DURATION]` (`TxBadDeadline`).
    #[error(
        "deadline {deadline} is not after {now} and at most {MAX_TX_DURATION} s later (governance-chain time)"
    )]
    Deadline {
        /// The request's deadline.
        deadline: u64,
        /// The governance chain's time it was checked against.
        now: u64,
    },
}

impl Step {
    /// A step running `op` on the resource at `path`.
    pub fn new(path: &IPath, op: impl Into<Bytes>) -> Step {
        let (zone, chain, resource) = path.to_words();
        Step { zone, chain, resource, op: op.into() }
    }

    /// A step running an XaLedger op on the ledger at `path`.
    pub fn xa(path: &IPath, op: &XaOp) -> Step {
        Step::new(path, op.encode())
    }

    /// The step's resource path, validated like `IPath.firstInvalid`.
    pub fn path(&self) -> Result<IPath, IPathError> {
        IPath::from_words(self.zone, self.chain, self.resource)
    }

    /// `keccak256(op)`: what the TransactionManager stores (`StepRecord.opHash`).
    pub fn op_hash(&self) -> B256 {
        keccak256(&self.op)
    }

    /// The op read as an XaLedger op.
    pub fn xa_op(&self) -> Result<XaOp, XaOpError> {
        XaOp::decode(&self.op)
    }
}

impl TxRequest {
    /// Starts a request of `initiator` (the user who will sign it) with a fresh random nonce;
    /// its txId is bound to both ([`super::request_id`]), so nobody else can begin under it.
    pub fn builder(initiator: Address) -> TxRequestBuilder {
        TxRequestBuilder {
            initiator,
            tx_id: None,
            steps: Vec::new(),
            deadline: None,
            nonce: random_b256().into(),
        }
    }

    /// Whether the txId is the one bound to `initiator` and the nonce (`begin` refuses another
    /// with `TxIdNotBound`).
    pub fn id_is_bound(&self, initiator: Address) -> bool {
        self.txId == super::request_id(initiator, self.nonce)
    }

    /// The checks of `begin` that depend on the request alone: id, step count, paths, op lengths.
    pub fn validate(&self) -> Result<(), TxRequestError> {
        if self.txId.is_zero() {
            return Err(TxRequestError::ZeroId);
        }
        let count = self.steps.len();
        if count == 0 || count > MAX_STEPS {
            return Err(TxRequestError::StepCount { count });
        }
        for (step, s) in self.steps.iter().enumerate() {
            s.path().map_err(|source| TxRequestError::Path { step, source })?;
            let len = s.op.len();
            if len == 0 || len > MAX_OP_BYTES {
                return Err(TxRequestError::OpLength { step, len });
            }
        }
        Ok(())
    }

    /// `begin`'s deadline check against governance-chain time `now` (the latest block's
    /// timestamp): `now < deadline <= now + MAX_TX_DURATION`.
    pub fn check_deadline(&self, now: u64) -> Result<(), TxRequestError> {
        let deadline = self.deadline;
        if deadline <= now || deadline > now.saturating_add(MAX_TX_DURATION) {
            return Err(TxRequestError::Deadline { deadline, now });
        }
        Ok(())
    }

    /// The EIP-712 digest the initiator signs (= `txRequestDigest(request)` of the contract).
    pub fn signing_hash(&self, domain: &Eip712Domain) -> B256 {
        self.eip712_signing_hash(domain)
    }

    /// The initiator's 65-byte signature for `begin`.
    pub fn sign(
        &self,
        domain: &Eip712Domain,
        signer: &(impl SignerSync + ?Sized),
    ) -> Result<Bytes, SignError> {
        sign_digest("TxRequest", &self.signing_hash(domain), signer)
    }

    /// [`TxRequest::sign`] with an asynchronous signer.
    pub async fn sign_async(
        &self,
        domain: &Eip712Domain,
        signer: &(impl Signer + ?Sized),
    ) -> Result<Bytes, SignError> {
        sign_digest_async("TxRequest", &self.signing_hash(domain), signer).await
    }
}

/// Builds a [`TxRequest`]; [`TxRequestBuilder::build`] validates it.
#[derive(Debug, Clone)]
#[must_use]
pub struct TxRequestBuilder {
    initiator: Address,
    tx_id: Option<B256>,
    steps: Vec<Step>,
    deadline: Option<u64>,
    nonce: U256,
}

impl TxRequestBuilder {
    /// Uses `tx_id` instead of the bound id (a request the contract refuses: for tests).
    pub fn tx_id(mut self, tx_id: B256) -> Self {
        self.tx_id = Some(tx_id);
        self
    }

    /// Appends a step running `op` on the resource at `path`.
    pub fn step(mut self, path: &IPath, op: impl Into<Bytes>) -> Self {
        self.steps.push(Step::new(path, op));
        self
    }

    /// Appends a step running an XaLedger op on the ledger at `path`.
    pub fn xa_step(self, path: &IPath, op: &XaOp) -> Self {
        self.step(path, op.encode())
    }

    /// The deadline, a governance-chain timestamp (unix seconds): votes are accepted strictly
    /// before it, `expire` at or after it.
    pub fn deadline(mut self, deadline: u64) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Uses `nonce` instead of a random one. Nonces are single-use per initiator, shared with
    /// swap requests, in any order.
    pub fn nonce(mut self, nonce: U256) -> Self {
        self.nonce = nonce;
        self
    }

    /// The request, checked with [`TxRequest::validate`].
    pub fn build(self) -> Result<TxRequest, TxRequestError> {
        let deadline = self.deadline.ok_or(TxRequestError::NoDeadline)?;
        let tx_id = self.tx_id.unwrap_or_else(|| super::request_id(self.initiator, self.nonce));
        let request = TxRequest { txId: tx_id, steps: self.steps, deadline, nonce: self.nonce };
        request.validate()?;
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::xa_op::XaOpKind;
    use alloy::primitives::address;
    use alloy::signers::local::PrivateKeySigner;

    fn path(s: &str) -> IPath {
        s.parse().expect("iPath")
    }

    /// The string literal assigned to `name` in a governance contract source.
    fn solidity_type_string(name: &str) -> String {
        let source = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../contracts/src/governance/TransactionManager.sol"
        ))
        .expect("read TransactionManager.sol");
        let start = source.find(&format!("{name} =")).expect("typehash constant");
        let rest = &source[start..];
        let open = rest.find("keccak256(").expect("keccak256(") + "keccak256(".len();
        let rest = rest[open..].trim_start();
        let rest = rest.strip_prefix('"').expect("string literal");
        rest[..rest.find('"').expect("closing quote")].to_owned()
    }

    fn sample() -> TxRequest {
        let alice = address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
        let bob = address!("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
        TxRequest::builder(alice)
            .tx_id(B256::repeat_byte(0x11))
            .xa_step(&path("zoneA.chainA.ledger"), &XaOp::debit(alice, U256::from(100)))
            .xa_step(&path("zoneB.chainB.ledger"), &XaOp::credit(bob, U256::from(100)))
            .deadline(1_700_000_000)
            .nonce(U256::from(7))
            .build()
            .expect("valid request")
    }

    #[test]
    fn eip712_types_are_the_solidity_ones() {
        assert_eq!(TxRequest::eip712_encode_type(), solidity_type_string("TX_REQUEST_TYPEHASH"));
        assert_eq!(Step::eip712_encode_type(), solidity_type_string("STEP_TYPEHASH"));
        assert_eq!(
            TxRequest::eip712_encode_type(),
            "TxRequest(bytes32 txId,Step[] steps,uint64 deadline,uint256 nonce)Step(bytes32 zone,bytes32 chain,bytes32 resource,bytes op)"
        );
    }

    #[test]
    fn signing_hash_follows_the_contract_formula() {
        // txRequestDigest, spelled out: keccak256(0x1901 || domainSeparator || structHash) with
        // steps hashed one by one and their hashes concatenated.
        use alloy::sol_types::SolValue;
        let request = sample();
        let domain = tm_domain(31337, address!("0x5FbDB2315678afecb367f032d93F642f64180aa3"));
        let step_typehash = keccak256(Step::eip712_encode_type().as_bytes());
        let step_hashes: Vec<u8> = request
            .steps
            .iter()
            .flat_map(|s| {
                keccak256(
                    (step_typehash, s.zone, s.chain, s.resource, keccak256(&s.op)).abi_encode(),
                )
            })
            .collect();
        let struct_hash = keccak256(
            (
                keccak256(TxRequest::eip712_encode_type().as_bytes()),
                request.txId,
                keccak256(&step_hashes),
                U256::from(request.deadline),
                request.nonce,
            )
                .abi_encode(),
        );
        let domain_typehash = keccak256(
            "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)",
        );
        let separator = keccak256(
            (
                domain_typehash,
                keccak256(TM_DOMAIN_NAME),
                keccak256(TM_DOMAIN_VERSION),
                U256::from(31337),
                address!("0x5FbDB2315678afecb367f032d93F642f64180aa3"),
            )
                .abi_encode(),
        );
        assert_eq!(domain.separator(), separator);
        let mut preimage = vec![0x19, 0x01];
        preimage.extend_from_slice(separator.as_slice());
        preimage.extend_from_slice(struct_hash.as_slice());
        assert_eq!(request.signing_hash(&domain), keccak256(&preimage));
    }

    #[test]
    fn sign_recovers_the_initiator() {
        let signer = PrivateKeySigner::random();
        let request = sample();
        let domain = tm_domain(1, Address::repeat_byte(1));
        let sig = request.sign(&domain, &signer).expect("sign");
        let parsed = alloy::primitives::Signature::from_raw(&sig).expect("65 bytes");
        let recovered =
            parsed.recover_address_from_prehash(&request.signing_hash(&domain)).expect("recover");
        assert_eq!(recovered, signer.address());
        // Another domain (chain or contract) gives another digest.
        assert_ne!(
            request.signing_hash(&domain),
            request.signing_hash(&tm_domain(2, Address::repeat_byte(1)))
        );
    }

    #[test]
    fn steps_round_trip_paths_and_ops() {
        let request = sample();
        assert_eq!(request.steps[0].path(), Ok(path("zoneA.chainA.ledger")));
        let op = request.steps[1].xa_op().expect("xa op");
        assert_eq!(op.kind, XaOpKind::Credit);
        assert_eq!(request.steps[0].op_hash(), keccak256(&request.steps[0].op));
    }

    #[test]
    fn builder_refuses_what_begin_would() {
        let p = path("zoneA.chainA.ledger");
        let base = || TxRequest::builder(Address::repeat_byte(5)).deadline(10);
        assert_eq!(base().build().expect_err("no steps"), TxRequestError::StepCount { count: 0 });
        assert_eq!(
            TxRequest::builder(Address::ZERO).step(&p, vec![1]).build().expect_err("no deadline"),
            TxRequestError::NoDeadline
        );
        assert_eq!(
            base().tx_id(B256::ZERO).step(&p, vec![1]).build().expect_err("zero id"),
            TxRequestError::ZeroId
        );
        assert_eq!(
            base().step(&p, Vec::new()).build().expect_err("empty op"),
            TxRequestError::OpLength { step: 0, len: 0 }
        );
        assert_eq!(
            base().step(&p, vec![0; MAX_OP_BYTES + 1]).build().expect_err("long op"),
            TxRequestError::OpLength { step: 0, len: MAX_OP_BYTES + 1 }
        );
        let mut many = base();
        for _ in 0..=MAX_STEPS {
            many = many.step(&p, vec![1]);
        }
        assert_eq!(
            many.build().expect_err("17 steps"),
            TxRequestError::StepCount { count: MAX_STEPS + 1 }
        );
        let mut bad = base().step(&p, vec![1]).build().expect("valid");
        bad.steps[0].chain = B256::ZERO;
        assert!(matches!(bad.validate(), Err(TxRequestError::Path { step: 0, .. })));
        // Two builders draw different nonces, and ids bound to them and the initiator.
        let (a, b) = (base().step(&p, vec![1]).build(), base().step(&p, vec![1]).build());
        let (a, b) = (a.expect("a"), b.expect("b"));
        assert!(a.txId != b.txId && a.nonce != b.nonce);
        let initiator = Address::repeat_byte(5);
        assert!(a.id_is_bound(initiator) && b.id_is_bound(initiator));
        assert!(!a.id_is_bound(Address::repeat_byte(6)), "another user's id");
        assert_eq!(a.txId, crate::protocol::request_id(initiator, a.nonce));
        let other = base().nonce(a.nonce).tx_id(b.txId).step(&p, vec![1]).build().expect("valid");
        assert!(!other.id_is_bound(initiator), "an id not bound to the nonce");
    }

    #[test]
    fn deadline_window() {
        let request = TxRequest::builder(Address::ZERO)
            .step(&path("zoneA.chainA.ledger"), vec![1])
            .deadline(1_000_000)
            .build()
            .expect("valid");
        assert_eq!(request.check_deadline(999_999), Ok(()));
        assert_eq!(
            request.check_deadline(1_000_000),
            Err(TxRequestError::Deadline { deadline: 1_000_000, now: 1_000_000 })
        );
        assert!(request.check_deadline(1_000_000 - MAX_TX_DURATION).is_ok());
        assert!(request.check_deadline(999_999 - MAX_TX_DURATION).is_err());
    }

    #[test]
    fn constants_match_the_contract() {
        let source = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../contracts/src/governance/TransactionManager.sol"
        ))
        .expect("read TransactionManager.sol");
        for line in [
            format!("uint256 public constant MAX_STEPS = {MAX_STEPS};"),
            format!("uint256 public constant MAX_OP_BYTES = {MAX_OP_BYTES};"),
            format!("uint256 public constant MAX_EVIDENCE_BYTES = {MAX_EVIDENCE_BYTES};"),
            "uint64 public constant MAX_TX_DURATION = 7 days;".to_owned(),
            format!("bytes32 private constant NAME_HASH = keccak256(\"{TM_DOMAIN_NAME}\");"),
            format!("bytes32 private constant VERSION_HASH = keccak256(\"{TM_DOMAIN_VERSION}\");"),
        ] {
            assert!(source.contains(&line), "TransactionManager.sol lacks `{line}`");
        }
    }
}
