// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ISupervision} from "../../src/interfaces/ISupervision.sol";

/// @notice Audit envelopes for the Supervision tests, in the relayer's wire format (ISupervision notes):
/// version (1) | k (1) | k covered operations (2 each) | n (1) | n recipients (address 20, ephemeral key
/// 33, wrapped key 48) | body nonce (12) | body length m (4, big-endian) | body (m >= 16).
/// The ephemeral keys, wrapped keys, nonce and body are dummy bytes: Supervision does not decrypt.
/// `expectedError` is a reference reader written from the format, independent of the contract.
library Envelopes {
    uint8 internal constant VERSION = 2;
    uint256 internal constant RECIPIENT_BYTES = 101;
    uint256 internal constant TAG_BYTES = 16;
    /// The shortest well-formed envelope for one recipient: one covered operation, a 16-byte body.
    uint256 internal constant MIN_ONE_RECIPIENT = 1 + 1 + 2 + 1 + 101 + 12 + 4 + 16;

    /// The fields of an envelope, malformed ones included.
    struct Parts {
        uint8 version;
        /// the k byte; `covers` operations are written whatever it says
        uint8 k;
        uint256 covers;
        /// the n byte; every address of `recipients` is written whatever it says
        uint8 n;
        address[] recipients;
        /// the body length field
        uint32 declared;
        uint256 bodyLength;
        bytes32 salt;
    }

    /// A well-formed envelope wrapped for `recipients` with a body of `bodyLength` bytes (>= 16).
    function build(address[] memory recipients, uint256 bodyLength, bytes32 salt)
        internal
        pure
        returns (bytes memory)
    {
        return encode(parts(recipients, bodyLength, salt));
    }

    /// The parts of `build(recipients, bodyLength, salt)`, to alter before `encode`.
    function parts(address[] memory recipients, uint256 bodyLength, bytes32 salt)
        internal
        pure
        returns (Parts memory p)
    {
        p.version = VERSION;
        p.k = 1;
        p.covers = 1;
        p.n = uint8(recipients.length);
        p.recipients = recipients;
        p.declared = uint32(bodyLength);
        p.bodyLength = bodyLength;
        p.salt = salt;
    }

    function encode(Parts memory p) internal pure returns (bytes memory e) {
        e = abi.encodePacked(p.version, p.k);
        for (uint256 i; i < p.covers; ++i) {
            e = bytes.concat(e, abi.encodePacked(uint8(1 + i % 4), uint8(i)));
        }
        e = bytes.concat(e, abi.encodePacked(p.n));
        for (uint256 i; i < p.recipients.length; ++i) {
            bytes32 h = keccak256(abi.encode(p.salt, i));
            e = bytes.concat(
                e, abi.encodePacked(p.recipients[i], bytes1(0x02), h, keccak256(abi.encode(h)), bytes16(h))
            );
        }
        bytes memory body = new bytes(p.bodyLength);
        for (uint256 i; i < 32 && i < body.length; ++i) {
            body[i] = p.salt[i];
        }
        e = bytes.concat(e, bytes12(p.salt), bytes4(p.declared), body);
    }

    /// The revert data of the first failing structure or addressing check of `e` when `active` are the
    /// active regulators; empty for an envelope Supervision must accept. Assumes 1 <= e.length <= max.
    function expectedError(bytes memory e, address[] memory active) internal pure returns (bytes memory) {
        uint256 length = e.length;
        uint8 version = uint8(e[0]);
        if (version != VERSION) {
            return abi.encodeWithSelector(ISupervision.SupEnvelopeVersion.selector, version);
        }
        if (length < 2) return malformed(length);
        uint256 k = uint8(e[1]);
        if (k == 0) return malformed(1);
        uint256 at = 2 + 2 * k;
        if (length < at + 1) return malformed(length);
        uint256 n = uint8(e[at]);
        if (n != active.length) {
            return abi.encodeWithSelector(ISupervision.SupEnvelopeRecipients.selector, n, active.length);
        }
        at += 1;
        address[] memory seen = new address[](n);
        for (uint256 i; i < n; ++i) {
            if (length < at + 20) return malformed(length);
            address a = readAddress(e, at);
            if (!_contains(active, a, active.length) || _contains(seen, a, i)) {
                return abi.encodeWithSelector(ISupervision.SupEnvelopeRecipient.selector, a);
            }
            seen[i] = a;
            at += RECIPIENT_BYTES;
        }
        if (length < at + 16) return malformed(length);
        uint256 m = readUint(e, at + 12, 4);
        if (m < TAG_BYTES) return malformed(at + 12);
        uint256 end = at + 16 + m;
        if (length < end) return malformed(length);
        if (length > end) return malformed(end);
        return "";
    }

    function malformed(uint256 offset) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISupervision.SupMalformedEnvelope.selector, offset);
    }

    /// The offset of the body length field of an envelope with `k` covered operations and `n` recipients.
    function lengthFieldOffset(uint256 k, uint256 n) internal pure returns (uint256) {
        return 2 + 2 * k + 1 + RECIPIENT_BYTES * n + 12;
    }

    function readAddress(bytes memory e, uint256 at) internal pure returns (address) {
        return address(uint160(readUint(e, at, 20)));
    }

    function readUint(bytes memory e, uint256 at, uint256 size) internal pure returns (uint256 v) {
        for (uint256 i; i < size; ++i) {
            v = (v << 8) | uint8(e[at + i]);
        }
    }

    /// `e` without its last `drop` bytes.
    function truncate(bytes memory e, uint256 drop) internal pure returns (bytes memory out) {
        out = new bytes(e.length - drop);
        for (uint256 i; i < out.length; ++i) {
            out[i] = e[i];
        }
    }

    function _contains(address[] memory list, address a, uint256 upTo) private pure returns (bool) {
        for (uint256 i; i < upTo; ++i) {
            if (list[i] == a) return true;
        }
        return false;
    }
}
