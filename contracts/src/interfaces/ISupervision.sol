// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title ISupervision
/// @notice Regulators and the audit trail. Regulators are admitted and removed by executed proposals;
/// each registers a secp256k1 public key (64 bytes, x || y) under which relayers wrap the key of every
/// audit record. Records are opaque encrypted envelopes kept in event data; storage keeps only a hash
/// chain `head = keccak256(head || keccak256(envelope))` and a count, so a regulator can prove no record
/// was dropped or altered.
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
    /// @notice An envelope is 1 to MAX_ENVELOPE_BYTES bytes.
    error SupBadEnvelopeLength(uint256 length);

    /// @notice Admits the regulator whose address derives from `publicKey` (64 bytes x || y, on
    /// secp256k1). Governance only.
    function admitRegulator(bytes calldata publicKey, string calldata name) external;

    /// @notice Removes an active regulator; records appended afterwards are not wrapped for it. Governance only.
    function removeRegulator(address regulator) external;

    /// @notice Appends an encrypted audit record about `subjectId` (a txId or swapId). Caller: a relayer
    /// account of an active institution, while at least one regulator is active.
    function record(bytes32 subjectId, bytes calldata envelope) external;

    function head() external view returns (bytes32);
    function recordCount() external view returns (uint256);
    /// @notice The active regulators, at most MAX_REGULATORS.
    function regulators() external view returns (address[] memory);
    function regulatorOf(address regulator) external view returns (Regulator memory);
    function registry() external view returns (address);
}
