// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title ResourceOps
/// @notice Interface bits of the unified resource interface, as granted by PermissionManager.
library ResourceOps {
    uint8 internal constant GET_DATA = 1 << 0;
    uint8 internal constant SET_DATA = 1 << 1;
    uint8 internal constant CALL = 1 << 2;
    uint8 internal constant SEND_TX = 1 << 3;
    uint8 internal constant EVENT = 1 << 4;
    uint8 internal constant TWO_PHASE = 1 << 5;
    uint8 internal constant HTLC = 1 << 6;
    /// @notice Every defined bit; anything above is invalid.
    uint8 internal constant ALL = GET_DATA | SET_DATA | CALL | SEND_TX | EVENT | TWO_PHASE | HTLC;

    /// @notice True when `op` is exactly one defined bit.
    function isSingle(uint8 op) internal pure returns (bool) {
        return op != 0 && op & ALL == op && op & (op - 1) == 0;
    }

    /// @notice True when `ops` is a non-empty set of defined bits.
    function isSet(uint8 ops) internal pure returns (bool) {
        return ops != 0 && ops & ALL == ops;
    }
}
