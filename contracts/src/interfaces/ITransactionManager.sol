// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title ITransactionManager
/// @notice The governance chain's record of cross-chain transactions: the coordinator of two-phase
/// commit (2PC) and the ledger of HTLC swap legs. No relayer decides an outcome: votes, deadlines and
/// acknowledgements recorded here do. Storage holds what a relayer needs to resume (states, bits,
/// hashes, the block of the opening event); full operations travel in events.
/// @dev Audit coverage: a relayer's report (`begin`, `vote`, `ack`, `proposeSwap`, `acceptSwap`,
/// `recordLeg*`) sent to its entry point directly carries no audit record, so while a regulator is
/// active it is refused with Supervision's `SupRecordRequired` after the entry point's own checks;
/// relayers report through `report`, whose items carry their records. `expire` and `expireSwap`
/// follow from the clock, not from anyone's word, and stay open to any caller.
interface ITransactionManager {
    // ================================================================ 2PC

    /// @dev Preparing: votes being collected. Committing / Aborting: decided, acknowledgements pending.
    /// Committed / Aborted: every step acknowledged (final).
    enum TxState {
        None,
        Preparing,
        Committing,
        Aborting,
        Committed,
        Aborted
    }

    /// @notice One step of a 2PC transaction: an operation on the resource `zone.chain.resource`. `op` is
    /// opaque to the governance chain and interpreted by the resource (e.g. XaLedger's encoding).
    struct Step {
        bytes32 zone;
        bytes32 chain;
        bytes32 resource;
        bytes op;
    }

    /// @notice What the initiating user signs (EIP-712, primary type `TxRequest`). `txId` is bound to the
    /// signer: it must equal `requestId(initiator, nonce)`, so nobody can open a transaction under an id
    /// another user signed.
    struct TxRequest {
        bytes32 txId;
        Step[] steps;
        uint64 deadline;
        uint256 nonce;
    }

    /// Two storage slots. The first holds everything `vote` and `ack` write (state and the three
    /// masks), so each of them rewrites one slot; the second holds what never changes after `begin`.
    struct Transaction {
        address initiator;
        TxState state;
        uint8 stepCount;
        /// bit i set: step i voted / voted yes / acknowledged
        uint16 votedMask;
        uint16 yesMask;
        uint16 ackedMask;
        uint64 deadline;
        uint64 institution;
        /// block of the TransactionBegun event carrying the full steps
        uint64 beganBlock;
    }

    struct StepRecord {
        bytes32 chainKey;
        bytes32 opHash;
    }

    event TransactionBegun(
        bytes32 indexed txId,
        address indexed initiator,
        uint64 indexed institution,
        uint64 deadline,
        uint256 nonce,
        Step[] steps
    );
    event StepVoted(bytes32 indexed txId, uint8 indexed step, bool ok, address relayer, bytes evidence);
    event TransactionDecided(bytes32 indexed txId, TxState state);
    event TransactionExpired(bytes32 indexed txId);
    event StepAcked(bytes32 indexed txId, uint8 indexed step, address relayer, bytes evidence);
    event TransactionFinalized(bytes32 indexed txId, TxState state);

    error TxZeroId();
    error TxAlreadyExists(bytes32 txId);
    /// @notice A transaction has 1 to MAX_STEPS steps.
    error TxBadStepCount(uint256 count);
    /// @notice The deadline must be in the future and at most MAX_TX_DURATION ahead.
    error TxBadDeadline(uint64 deadline, uint256 nowTimestamp);
    error TxNonceUsed(address initiator, uint256 nonce);
    /// @notice Not a 65-byte canonical signature that recovers to an address.
    error TxBadSignature();
    /// @notice `txId` is not `expected`, the id `requestId(signer, nonce)` the signer's request must carry.
    error TxIdNotBound(bytes32 txId, bytes32 expected);
    /// @notice The signer is not a user account of an active institution.
    error TxNotUser(address initiator);
    /// @notice The submitter is not a relayer account of the initiator's (active) institution.
    error TxNotInstitutionRelayer(address submitter, uint64 institution);
    /// @notice Segment `position` of step `step` is not a valid concrete path segment.
    error TxBadPath(uint8 step, uint8 position);
    error TxChainNotActive(uint8 step, bytes32 zone, bytes32 chain);
    error TxNoPermission(address initiator, uint8 step);
    /// @notice An op is 1 to MAX_OP_BYTES bytes.
    error TxBadOpLength(uint8 step, uint256 length);
    error TxNotFound(bytes32 txId);
    error TxNotPreparing(bytes32 txId, TxState state);
    error TxDeadlinePassed(bytes32 txId, uint64 deadline);
    error TxDeadlineNotReached(bytes32 txId, uint64 deadline);
    error TxBadStep(bytes32 txId, uint8 step);
    error TxNotServingRelayer(bytes32 txId, uint8 step, address caller);
    error TxAlreadyVoted(bytes32 txId, uint8 step);
    error TxNotDecided(bytes32 txId, TxState state);
    error TxAlreadyAcked(bytes32 txId, uint8 step);
    /// @notice Evidence (a business-chain tx hash or receipt reference) is at most MAX_EVIDENCE_BYTES.
    error TxEvidenceTooLarge(uint256 length);

    /// @notice Opens a 2PC transaction signed by its initiating user. Caller: a relayer account of the
    /// user's institution. The user must hold TWO_PHASE on every step's path. The txId must be
    /// `requestId(signer, nonce)`: an id seen in another user's request cannot be taken (squatted).
    function begin(TxRequest calldata request, bytes calldata signature) external;

    /// @notice Records the prepare outcome of one step. Caller: a relayer serving that step's chain.
    /// The last yes decides COMMIT; the first no decides ABORT.
    function vote(bytes32 txId, uint8 step, bool ok, bytes calldata evidence) external;

    /// @notice Decides ABORT for a transaction still preparing at or after its deadline. Anyone may call.
    function expire(bytes32 txId) external;

    /// @notice Records that a step was committed or rolled back on its resource, as decided. Caller: a
    /// relayer serving that step's chain. The last acknowledgement makes the transaction final.
    function ack(bytes32 txId, uint8 step, bytes calldata evidence) external;

    function transaction(bytes32 txId) external view returns (Transaction memory);
    function stepOf(bytes32 txId, uint8 step) external view returns (StepRecord memory);
    /// @notice The EIP-712 digest a user signs for `request`.
    function txRequestDigest(TxRequest calldata request) external view returns (bytes32);
    function nonceUsed(address initiator, uint256 nonce) external view returns (bool);
    /// @notice The id a request of `initiator` with `nonce` must carry, `keccak256(abi.encode(initiator,
    /// nonce))`: the txId of a TxRequest, the swapId of a SwapRequest. Nonces are single-use per
    /// initiator and shared by 2PC and swaps, so ids never collide.
    function requestId(address initiator, uint256 nonce) external pure returns (bytes32);
    /// @notice Unfinished (not final) transactions with a step on `chainKey`, in no particular order.
    function openTransactionCount(bytes32 chainKey) external view returns (uint256);
    /// @notice A page of at most MAX_PAGE unfinished transactions touching `chainKey`.
    function openTransactions(bytes32 chainKey, uint256 offset, uint256 limit)
        external
        view
        returns (bytes32[] memory txIds);

    // ================================================================ HTLC

    /// @dev Proposed: waiting for the counterparty. Accepted: legs in progress. Closed: both legs ended
    /// (Unlocked, Refunded or Void). Expired: never accepted before leg B's timelock.
    enum SwapState {
        None,
        Proposed,
        Accepted,
        Closed,
        Expired
    }

    /// @dev Void: never locked, and its chain's clock passed the leg's timelock, so it never can be
    /// (recorded by a relayer serving that chain, which checked both on the chain).
    enum LegState {
        None,
        Locked,
        Unlocked,
        Refunded,
        Void
    }

    /// @notice One leg: `sender` pays `amount` of the HtlcAsset at `zone.chain.resource` to `recipient`,
    /// refundable from `timelock` (a timestamp of that business chain).
    struct Leg {
        bytes32 zone;
        bytes32 chain;
        bytes32 resource;
        address sender;
        address recipient;
        uint256 amount;
        uint64 timelock;
    }

    /// @notice What both parties sign (EIP-712, primary type `SwapRequest`). The initiator is legA.sender,
    /// the counterparty legB.sender; hashlock = sha256(secret). `swapId` is bound to the initiator: it must
    /// equal `requestId(legA.sender, nonce)`.
    struct SwapRequest {
        bytes32 swapId;
        bytes32 hashlock;
        Leg legA;
        Leg legB;
        uint256 nonce;
    }

    struct Swap {
        address initiator;
        uint40 timelockA;
        SwapState state;
        LegState legA;
        LegState legB;
        address counterparty;
        uint40 timelockB;
        /// block of the SwapProposed event carrying the full legs
        uint48 proposedBlock;
        bytes32 hashlock;
        bytes32 chainKeyA;
        bytes32 chainKeyB;
        /// the EIP-712 digest both parties sign
        bytes32 digest;
        /// zero until revealed by an unlock
        bytes32 secret;
    }

    event SwapProposed(
        bytes32 indexed swapId, address indexed initiator, address indexed counterparty, SwapRequest request
    );
    event SwapAccepted(bytes32 indexed swapId);
    event LegLocked(bytes32 indexed swapId, uint8 indexed leg, address relayer, bytes evidence);
    event LegUnlocked(
        bytes32 indexed swapId, uint8 indexed leg, bytes32 secret, address relayer, bytes evidence
    );
    event LegRefunded(bytes32 indexed swapId, uint8 indexed leg, address relayer, bytes evidence);
    event LegVoided(bytes32 indexed swapId, uint8 indexed leg, address relayer, bytes evidence);
    event SwapClosed(bytes32 indexed swapId, LegState legA, LegState legB);
    event SwapExpired(bytes32 indexed swapId);

    error SwapZeroId();
    error SwapAlreadyExists(bytes32 swapId);
    error SwapZeroHashlock();
    error SwapBadSignature();
    /// @notice The signature does not recover to the party that must sign (legA.sender or legB.sender).
    error SwapWrongSigner(address expected, address recovered);
    /// @notice `swapId` is not `expected`, the id `requestId(initiator, nonce)` the request must carry.
    error SwapIdNotBound(bytes32 swapId, bytes32 expected);
    error SwapNonceUsed(address initiator, uint256 nonce);
    error SwapNotUser(address account);
    error SwapNotInstitutionRelayer(address submitter, uint64 institution);
    /// @notice Segment `position` of leg `leg` (0 = A, 1 = B) is not a valid concrete path segment.
    error SwapBadPath(uint8 leg, uint8 position);
    error SwapChainNotActive(uint8 leg, bytes32 zone, bytes32 chain);
    error SwapNoPermission(address account, uint8 leg);
    error SwapZeroAmount(uint8 leg);
    error SwapZeroAddress(uint8 leg);
    /// @notice Timelocks must satisfy now < TB, TB + MIN_TIMELOCK_MARGIN < TA <= now + MAX_SWAP_DURATION.
    error SwapBadTimelocks(uint64 timelockA, uint64 timelockB, uint256 nowTimestamp);
    error SwapNotFound(bytes32 swapId);
    error SwapNotProposed(bytes32 swapId, SwapState state);
    error SwapAcceptWindowClosed(bytes32 swapId, uint64 timelockB);
    error SwapNotInProgress(bytes32 swapId, SwapState state);
    error SwapBadLeg(uint8 leg);
    error SwapNotServingRelayer(bytes32 swapId, uint8 leg, address caller);
    error SwapLegState(bytes32 swapId, uint8 leg, LegState state);
    /// @notice Leg B may be locked only after leg A is recorded locked.
    error SwapLegOutOfOrder(bytes32 swapId);
    error SwapWrongSecret(bytes32 swapId);
    error SwapNotExpirable(bytes32 swapId);
    error SwapEvidenceTooLarge(uint256 length);

    /// @notice Proposes a swap signed by the initiator (legA.sender). Caller: a relayer of the
    /// initiator's institution. The initiator must hold HTLC on leg A's path and the counterparty
    /// (legB.sender, a user account) on leg B's, checked now because leg paths live only in the event.
    /// Swaps and 2PC requests draw from one nonce space per initiator. The swapId must be
    /// `requestId(initiator, nonce)`: an id seen in another user's request cannot be taken (squatted).
    function proposeSwap(SwapRequest calldata request, bytes calldata initiatorSignature) external;

    /// @notice Accepts a proposed swap with the counterparty's (legB.sender) signature over the same
    /// request, before leg B's timelock. Caller: a relayer of the counterparty's (active) institution.
    function acceptSwap(bytes32 swapId, bytes calldata counterpartySignature) external;

    /// @notice Records that leg `leg` (0 = A, 1 = B) was locked on its chain. Caller: a relayer serving
    /// that leg's chain. Leg B only after leg A was locked (leg A Locked, or Refunded since: a leg B
    /// lock recorded late must still be recorded so that its refund can be).
    function recordLegLocked(bytes32 swapId, uint8 leg, bytes calldata evidence) external;

    /// @notice Records that leg `leg` was unlocked with `secret` (sha256(secret) == hashlock) and
    /// publishes the secret. Caller: a relayer serving that leg's chain.
    function recordLegUnlocked(bytes32 swapId, uint8 leg, bytes32 secret, bytes calldata evidence) external;

    /// @notice Records that leg `leg` was refunded to its sender after its timelock. Caller: a relayer
    /// serving that leg's chain.
    function recordLegRefunded(bytes32 swapId, uint8 leg, bytes calldata evidence) external;

    /// @notice Records that leg `leg` was never locked and can no longer be (its chain's time reached the
    /// leg's timelock). Caller: a relayer serving that leg's chain, which checked both on that chain.
    function recordLegVoid(bytes32 swapId, uint8 leg, bytes calldata evidence) external;

    /// @notice Ends a swap never accepted by leg B's timelock (governance-chain time). Anyone may call.
    /// Relayers lock nothing before acceptance, so an expired swap has no funds on any chain.
    function expireSwap(bytes32 swapId) external;

    function swap(bytes32 swapId) external view returns (Swap memory);
    function swapRequestDigest(SwapRequest calldata request) external view returns (bytes32);
    function openSwapCount(bytes32 chainKey) external view returns (uint256);
    function openSwaps(bytes32 chainKey, uint256 offset, uint256 limit)
        external
        view
        returns (bytes32[] memory);

    // ================================================================ batched reports

    /// @notice The entry point a report item calls, by number (`ReportItem.kind`).
    enum ReportKind {
        Begin,
        Vote,
        Expire,
        Ack,
        ProposeSwap,
        AcceptSwap,
        LegLocked,
        LegUnlocked,
        LegRefunded,
        LegVoid,
        ExpireSwap
    }

    /// @notice One action of a batched report, with the audit record that covers it.
    struct ReportItem {
        /// a `ReportKind`, as a number so an unknown kind is refused by name rather than by the decoder
        uint8 kind;
        /// the txId or swapId the action is about
        bytes32 id;
        /// the ABI-encoded arguments of the entry point `kind` names (no selector)
        bytes args;
        /// the encrypted audit record covering the action (Supervision's wire format); empty only while
        /// no regulator is active
        bytes envelope;
    }

    /// @notice Item `index` of a report was refused with `reason` (the entry point's or Supervision's
    /// custom error); the batch's other items stand.
    event ReportItemRefused(uint256 indexed index, bytes32 indexed id, bytes reason);
    event SupervisionBound(address supervision);

    /// @notice A report holds 1..MAX_REPORT_ITEMS items.
    error TxReportBadSize(uint256 count);
    error TxReportBadKind(uint8 kind);
    /// @notice The item's `id` is not the txId / swapId its action is about.
    error TxReportIdMismatch(bytes32 id);
    /// @notice `reportItem` is the report's own step, not an entry point.
    error TxReportNotInternal(address caller);
    /// @notice An item ran out of gas (or failed without a reason): the whole report reverts, so no gas
    /// limit (an estimate included) can silently starve an item.
    error TxReportItemFailed(uint256 index);
    error TxSupervisionNotBound();
    error TxSupervisionAlreadyBound(address supervision);
    /// @notice Only the deployer binds Supervision, once, to a Supervision wired to this contract.
    error TxNotDeployer(address caller);
    error TxSupervisionMismatch(address supervision);

    /// @notice Performs each item as its entry point would, with the caller as the reporting relayer, and
    /// appends the item's audit record to Supervision in the same step: an action and its record stand
    /// or fall together, and while a regulator is active an item without a record is refused
    /// (`SupRecordRequired`). Items are independent: a refused item (already done, not entitled, bad
    /// record) is rolled back alone and reported by `ReportItemRefused`; the others stand. When no
    /// item stands the report reverts with the first item's error, so a lone item fails exactly as
    /// its entry point would. An id must be the one the action is about.
    /// @return refused bit i set: item i was refused
    function report(ReportItem[] calldata items) external returns (uint256 refused);

    /// @notice One item of `report`, called by this contract only (it is the unit that reverts alone).
    function reportItem(address reporter, ReportItem calldata item) external;

    /// @notice Binds the Supervision that `report` appends records to. Once, by the deployer, to a
    /// Supervision whose transactionManager() is this contract and whose registry is this one's.
    function bindSupervision(address supervision_) external;

    // ================================================================ wiring

    function supervision() external view returns (address);
    function registry() external view returns (address);
    function chainRegistry() external view returns (address);
    function permissionManager() external view returns (address);
    function DOMAIN_SEPARATOR() external view returns (bytes32);
}
