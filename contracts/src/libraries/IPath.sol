// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IPath
/// @notice Resource paths `zone.chain.resource`. Each segment is 1-32 bytes of `[A-Za-z0-9_-]`, stored
/// left-aligned in a bytes32 and zero-padded. A pattern may replace trailing segments by `*`
/// (`zone.chain.*`, `zone.*.*`, `*.*.*`); matching is exact per segment, never by prefix.
library IPath {
    /// @notice The wildcard segment `*`.
    // A one-byte literal left-aligned in 32 bytes: nothing is truncated.
    // forge-lint: disable-next-line(unsafe-typecast)
    bytes32 internal constant WILDCARD = bytes32("*");

    /// @notice True when `segment` is a concrete segment: non-empty, allowed characters only, and
    /// zero bytes only after the last character (so one name has exactly one encoding).
    function isSegment(bytes32 segment) internal pure returns (bool) {
        if (segment[0] == 0) return false;
        bool ended;
        // Fixed bound of 32 iterations.
        for (uint256 i; i < 32; ++i) {
            uint8 c = uint8(segment[i]);
            if (c == 0) {
                ended = true;
                continue;
            }
            if (ended) return false;
            bool allowed = (c >= 0x30 && c <= 0x39) // 0-9
                || (c >= 0x41 && c <= 0x5a) // A-Z
                || (c >= 0x61 && c <= 0x7a) // a-z
                || c == 0x5f // _
                || c == 0x2d; // -
            if (!allowed) return false;
        }
        return true;
    }

    /// @notice Position (0, 1 or 2) of the first invalid segment of a concrete path, or 3 when all are valid.
    function firstInvalid(bytes32 zone, bytes32 chain, bytes32 resource) internal pure returns (uint8) {
        if (!isSegment(zone)) return 0;
        if (!isSegment(chain)) return 1;
        if (!isSegment(resource)) return 2;
        return 3;
    }

    /// @notice Position of the first invalid segment of a pattern, or 3 when it is well formed. A
    /// pattern segment is a concrete segment or `*`, and every segment after a `*` is `*` too.
    function firstInvalidInPattern(bytes32 zone, bytes32 chain, bytes32 resource)
        internal
        pure
        returns (uint8)
    {
        if (zone == WILDCARD) {
            if (chain != WILDCARD) return 1;
            if (resource != WILDCARD) return 2;
            return 3;
        }
        if (!isSegment(zone)) return 0;
        if (chain == WILDCARD) return resource == WILDCARD ? 3 : 2;
        if (!isSegment(chain)) return 1;
        if (resource == WILDCARD) return 3;
        return isSegment(resource) ? 3 : 2;
    }

    /// @notice Storage key of the business chain `zone.chain`.
    function chainKey(bytes32 zone, bytes32 chain) internal pure returns (bytes32) {
        return keccak256(abi.encode(zone, chain));
    }

    /// @notice Storage key of a pattern (wildcards included literally).
    function patternKey(bytes32 zone, bytes32 chain, bytes32 resource) internal pure returns (bytes32) {
        return keccak256(abi.encode(zone, chain, resource));
    }
}
