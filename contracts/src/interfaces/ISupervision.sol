// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title ISupervision
/// @notice Regulators and the audit trail. Regulators are admitted and removed by executed proposals;
/// each registers a secp256k1 public key (64 bytes, x || y) under which relayers wrap the key of every
/// audit record. Records are encrypted envelopes kept in event data; storage keeps only a hash chain
/// `head = keccak256(head || keccak256(envelope))` and a count, so a regulator can prove no record was
/// dropped or altered.
///
/// Envelope wire format (written by the relayer; integers big-endian):
///   1      version, must be ENVELOPE_VERSION (2)
///   1      k, the number of covered operations, 1..255
///   2k     covered operations, each (kind, index)
///   1      n, the number of recipients
///   101n   per recipient: regulator address (20), ephemeral public key (33), wrapped data key (48)
///   12     body nonce
///   4      body length m
///   m      body: AES-GCM ciphertext with its 16-byte tag (m >= 16)
/// and nothing after. `record` checks on chain the structure and the addressing: every record is
/// wrapped for every active regulator and nobody else (n equals the active count, each recipient is
/// active, none twice), so no writer can leave a regulator out. It does not check the covered
/// operations or the body: they are the writer's claim, and Supervision does not know the subjects.
/// Relayers and `crossgov audit verify` check them off chain, including whether the writer was
/// entitled to report what it covers.
interface ISupervision {
    struct Regulator {
        bytes32 publicKeyX;
        bytes32 publicKeyY;
        bool active;
        uint64 admittedAt;
        /// 1-based position in the active list (0 when removed)
        uint32 position;
    }

    event RegulatorAdmitted(address indexed regulator, string name, bytes publicKey);
    event RegulatorRemoved(address indexed regulator);
    /// @param index 0-based position of the record in the chain
    /// @param head the hash chain after this record
    event RecordAppended(
        uint256 indexed index,
        bytes32 indexed subjectId,
        uint64 indexed institution,
        address relayer,
        bytes32 recordHash,
        bytes32 head,
        bytes envelope
    );

    error SupNotGovernance(address caller);
    error SupBadPublicKeyLength(uint256 length);
    error SupPublicKeyNotOnCurve();
    error SupBadName();
    error SupRegulatorExists(address regulator);
    error SupNotRegulator(address regulator);
    error SupTooManyRegulators(uint256 max);
    /// @notice The caller is not a relayer account of an active institution.
    error SupNotRelayer(address caller);
    /// @notice With no active regulator nobody could read the record.
    error SupNoRegulators();
    /// @notice A report item came without its audit record while a regulator is active.
    error SupRecordRequired(bytes32 subjectId);
    /// @notice `appendReport` is the TransactionManager's only.
    error SupNotTransactionManager(address caller);
    /// @notice An envelope is 1 to MAX_ENVELOPE_BYTES bytes.
    error SupBadEnvelopeLength(uint256 length);
    /// @notice Only envelope version 2 is accepted.
    error SupEnvelopeVersion(uint8 version);
    /// @notice The envelope's structure fails at byte `offset`: the k byte when zero, the end of the
    /// envelope when a field runs past it (truncated), the body length field when it declares fewer than
    /// 16 bytes, or the first byte after the body (trailing bytes).
    error SupMalformedEnvelope(uint256 offset);
    /// @notice The envelope names `count` recipients, but `active` regulators are active: it must be
    /// wrapped for every one of them.
    error SupEnvelopeRecipients(uint256 count, uint256 active);
    /// @notice A recipient is not an active regulator, or appears twice.
    error SupEnvelopeRecipient(address regulator);

    /// @notice Admits the regulator whose address derives from `publicKey` (64 bytes x || y, on
    /// secp256k1). Governance only.
    function admitRegulator(bytes calldata publicKey, string calldata name) external;

    /// @notice Removes an active regulator; records appended afterwards are not wrapped for it. Governance only.
    function removeRegulator(address regulator) external;

    /// @notice Appends an encrypted audit record about `subjectId` (a txId or swapId). Caller: a relayer
    /// account of an active institution, while at least one regulator is active. The envelope must be
    /// well-formed (see the interface notes) and addressed to exactly the active regulators; checked in
    /// wire order after the caller, the regulators and the length. Its covered operations and body are
    /// not checked here: relayers and `crossgov audit verify` check them off chain.
    function record(bytes32 subjectId, bytes calldata envelope) external;

    /// @notice Appends the audit record of a batched report item about `subjectId`, reported by
    /// `reporter` (the account that sent the report): the TransactionManager calls it in the same step
    /// as the item's action. While a regulator is active the record is required (`SupRecordRequired`)
    /// and checked as `record` checks it, with `reporter` in the caller's place; with none active an
    /// empty record appends nothing. Caller: the TransactionManager only.
    function appendReport(bytes32 subjectId, address reporter, bytes calldata envelope) external;

    function head() external view returns (bytes32);
    function recordCount() external view returns (uint256);
    /// @notice The active regulators, at most MAX_REGULATORS.
    function regulators() external view returns (address[] memory);
    function regulatorOf(address regulator) external view returns (Regulator memory);
    function registry() external view returns (address);
    /// @notice The TransactionManager whose batched reports append records (`appendReport`).
    function transactionManager() external view returns (address);
}
