// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IInstitutionRegistry} from "../interfaces/IInstitutionRegistry.sol";
import {ISupervision} from "../interfaces/ISupervision.sol";

/// @title Supervision
/// @notice Regulator keys and the hash-chained audit trail. See ISupervision.
contract Supervision is ISupervision {
    uint256 public constant MAX_REGULATORS = 16;
    uint256 public constant MAX_ENVELOPE_BYTES = 16_384;
    uint256 public constant MAX_NAME_LENGTH = 64;
    uint8 public constant ENVELOPE_VERSION = 2;
    /// Per recipient: regulator address (20), ephemeral public key (33), wrapped data key (48).
    uint256 private constant RECIPIENT_BYTES = 101;
    /// Body nonce (12) and body length (4).
    uint256 private constant BODY_HEADER_BYTES = 16;
    /// The AES-GCM tag ends every body.
    uint256 private constant TAG_BYTES = 16;
    /// secp256k1 field prime.
    uint256 private constant P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F;

    IInstitutionRegistry private immutable _registry;
    address private immutable _transactionManager;

    mapping(address regulator => Regulator) private _regulators;
    address[] private _active;
    bytes32 private _head;
    uint256 private _count;

    modifier onlyGovernance() {
        if (msg.sender != address(_registry)) revert SupNotGovernance(msg.sender);
        _;
    }

    constructor(IInstitutionRegistry registry_, address transactionManager_) {
        _registry = registry_;
        _transactionManager = transactionManager_;
    }

    /// @inheritdoc ISupervision
    function admitRegulator(bytes calldata publicKey, string calldata name) external onlyGovernance {
        if (publicKey.length != 64) revert SupBadPublicKeyLength(publicKey.length);
        uint256 nameLength = bytes(name).length;
        if (nameLength == 0 || nameLength > MAX_NAME_LENGTH) revert SupBadName();
        (bytes32 x, bytes32 y) = abi.decode(publicKey, (bytes32, bytes32));
        if (!_onCurve(uint256(x), uint256(y))) revert SupPublicKeyNotOnCurve();
        address regulator = address(uint160(uint256(keccak256(publicKey))));
        if (_regulators[regulator].active) revert SupRegulatorExists(regulator);
        if (_active.length == MAX_REGULATORS) revert SupTooManyRegulators(MAX_REGULATORS);

        _active.push(regulator);
        _regulators[regulator] = Regulator({
            publicKeyX: x,
            publicKeyY: y,
            active: true,
            admittedAt: uint64(block.timestamp),
            position: uint32(_active.length)
        });
        emit RegulatorAdmitted(regulator, name, publicKey);
    }

    /// @inheritdoc ISupervision
    function removeRegulator(address regulator) external onlyGovernance {
        Regulator storage r = _regulators[regulator];
        if (!r.active) revert SupNotRegulator(regulator);
        uint256 pos = r.position;
        uint256 last = _active.length;
        if (pos != last) {
            address moved = _active[last - 1];
            _active[pos - 1] = moved;
            // forge-lint: disable-next-line(unsafe-typecast)
            _regulators[moved].position = uint32(pos); // pos <= MAX_REGULATORS
        }
        _active.pop();
        r.active = false;
        r.position = 0;
        emit RegulatorRemoved(regulator);
    }

    /// @inheritdoc ISupervision
    function record(bytes32 subjectId, bytes calldata envelope) external {
        _append(subjectId, msg.sender, envelope);
    }

    /// @inheritdoc ISupervision
    function appendReport(bytes32 subjectId, address reporter, bytes calldata envelope) external {
        if (msg.sender != _transactionManager) revert SupNotTransactionManager(msg.sender);
        if (envelope.length == 0) {
            if (_active.length == 0) return;
            revert SupRecordRequired(subjectId);
        }
        _append(subjectId, reporter, envelope);
    }

    /// @inheritdoc ISupervision
    function head() external view returns (bytes32) {
        return _head;
    }

    /// @inheritdoc ISupervision
    function recordCount() external view returns (uint256) {
        return _count;
    }

    /// @inheritdoc ISupervision
    function regulators() external view returns (address[] memory) {
        return _active;
    }

    /// @inheritdoc ISupervision
    function regulatorOf(address regulator) external view returns (Regulator memory) {
        return _regulators[regulator];
    }

    /// @inheritdoc ISupervision
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc ISupervision
    function transactionManager() external view returns (address) {
        return _transactionManager;
    }

    /// @dev Checks `writer`, the regulators and the envelope in that order, then appends the record.
    function _append(bytes32 subjectId, address writer, bytes calldata envelope) private {
        uint64 institution = _registry.activeInstitutionOf(writer, IInstitutionRegistry.Role.Relayer);
        if (institution == 0) revert SupNotRelayer(writer);
        if (_active.length == 0) revert SupNoRegulators();
        if (envelope.length == 0 || envelope.length > MAX_ENVELOPE_BYTES) {
            revert SupBadEnvelopeLength(envelope.length);
        }
        _checkEnvelope(envelope);
        bytes32 recordHash = keccak256(envelope);
        bytes32 newHead = keccak256(abi.encodePacked(_head, recordHash));
        uint256 index = _count;
        _head = newHead;
        _count = index + 1;
        emit RecordAppended(index, subjectId, institution, writer, recordHash, newHead, envelope);
    }

    /// @dev Structure and addressing of a non-empty envelope, in wire order (see ISupervision). A field
    /// that runs past the end reports the end as the failing offset.
    function _checkEnvelope(bytes calldata envelope) private view {
        uint256 length = envelope.length;
        uint8 version = uint8(envelope[0]);
        if (version != ENVELOPE_VERSION) revert SupEnvelopeVersion(version);
        if (length < 2) revert SupMalformedEnvelope(length);
        uint256 k = uint8(envelope[1]);
        if (k == 0) revert SupMalformedEnvelope(1);
        // Covered operations are the writer's claim, checked off chain: skipped.
        uint256 at = 2 + 2 * k;
        if (length <= at) revert SupMalformedEnvelope(length);
        uint256 n = uint8(envelope[at]);
        uint256 active = _active.length;
        if (n != active) revert SupEnvelopeRecipients(n, active);
        ++at;

        // n == active, every recipient active and none twice: exactly the active set. Bit p is the
        // regulator at 1-based position p; n <= MAX_REGULATORS bounds the loop.
        uint256 seen;
        for (uint256 i; i < n; ++i) {
            if (length < at + 20) revert SupMalformedEnvelope(length);
            // forge-lint: disable-next-line(unsafe-typecast)
            address recipient = address(uint160(_readUint(envelope, at, 20))); // 20 bytes fit uint160
            Regulator storage r = _regulators[recipient];
            uint256 bit = uint256(1) << r.position;
            if (!r.active || seen & bit != 0) revert SupEnvelopeRecipient(recipient);
            seen |= bit;
            at += RECIPIENT_BYTES;
        }

        if (length < at + BODY_HEADER_BYTES) revert SupMalformedEnvelope(length);
        uint256 m = _readUint(envelope, at + 12, 4);
        if (m < TAG_BYTES) revert SupMalformedEnvelope(at + 12);
        uint256 end = at + BODY_HEADER_BYTES + m;
        // Truncated: fails where the envelope ends; trailing bytes: at the first one after the body.
        if (length != end) revert SupMalformedEnvelope(length < end ? length : end);
    }

    /// @dev `size` (at most 32) bytes of `data` from `at`, big-endian. Byte by byte: solang, the second
    /// front end, has no calldata slices. Callers check the bounds first.
    function _readUint(bytes calldata data, uint256 at, uint256 size) private pure returns (uint256 value) {
        uint256 end = at + size;
        for (uint256 i = at; i < end; ++i) {
            value = (value << 8) | uint8(data[i]);
        }
    }

    /// @dev y^2 == x^3 + 7 (mod p) with both coordinates reduced: rejects typos and invalid-curve keys.
    function _onCurve(uint256 x, uint256 y) private pure returns (bool) {
        if (x >= P || y >= P) return false;
        uint256 lhs = mulmod(y, y, P);
        uint256 rhs = addmod(mulmod(mulmod(x, x, P), x, P), 7, P);
        return lhs == rhs;
    }
}
