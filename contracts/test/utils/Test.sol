// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Vm} from "./Vm.sol";

/// @notice Minimal test base: the cheatcode handle, assertions that revert with a message, and the
/// invariant-target hooks forge looks for on a test contract.
abstract contract Test {
    /// forge's cheatcode address: address(uint160(uint256(keccak256("hevm cheat code")))).
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    /// forge reads this to know the contract holds tests.
    bool public IS_TEST = true;

    address[] private _targetContracts;
    address[] private _excludeSenders;
    FuzzSelector[] private _targetSelectors;

    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    // ---------------------------------------------------------------- invariant targeting

    function targetContract(address target) internal {
        _targetContracts.push(target);
    }

    function targetSelector(FuzzSelector memory selector) internal {
        _targetSelectors.push(selector);
    }

    function excludeSender(address sender) internal {
        _excludeSenders.push(sender);
    }

    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetSelectors;
    }

    function excludeSenders() public view returns (address[] memory) {
        return _excludeSenders;
    }

    // ---------------------------------------------------------------- assertions

    function fail(string memory message) internal pure {
        revert(message);
    }

    function assertTrue(bool condition, string memory message) internal pure {
        if (!condition) revert(string.concat("assertTrue failed: ", message));
    }

    function assertTrue(bool condition) internal pure {
        assertTrue(condition, "");
    }

    function assertFalse(bool condition, string memory message) internal pure {
        if (condition) revert(string.concat("assertFalse failed: ", message));
    }

    function assertFalse(bool condition) internal pure {
        assertFalse(condition, "");
    }

    function assertEq(uint256 a, uint256 b, string memory message) internal pure {
        if (a != b) {
            revert(string.concat("assertEq(uint) failed: ", message, " left=", _u(a), " right=", _u(b)));
        }
    }

    function assertEq(uint256 a, uint256 b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(int256 a, int256 b, string memory message) internal pure {
        if (a != b) revert(string.concat("assertEq(int) failed: ", message));
    }

    function assertEq(address a, address b, string memory message) internal pure {
        if (a != b) revert(string.concat("assertEq(address) failed: ", message));
    }

    function assertEq(address a, address b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(bytes32 a, bytes32 b, string memory message) internal pure {
        if (a != b) revert(string.concat("assertEq(bytes32) failed: ", message));
    }

    function assertEq(bytes32 a, bytes32 b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(bool a, bool b, string memory message) internal pure {
        if (a != b) revert(string.concat("assertEq(bool) failed: ", message));
    }

    function assertEq(bool a, bool b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(string memory a, string memory b, string memory message) internal pure {
        if (keccak256(bytes(a)) != keccak256(bytes(b))) {
            revert(string.concat("assertEq(string) failed: ", message, " left=", a, " right=", b));
        }
    }

    function assertEq(string memory a, string memory b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(bytes memory a, bytes memory b, string memory message) internal pure {
        if (keccak256(a) != keccak256(b)) revert(string.concat("assertEq(bytes) failed: ", message));
    }

    function assertEq(bytes memory a, bytes memory b) internal pure {
        assertEq(a, b, "");
    }

    function assertGe(uint256 a, uint256 b, string memory message) internal pure {
        if (a < b) revert(string.concat("assertGe failed: ", message, " left=", _u(a), " right=", _u(b)));
    }

    function assertLe(uint256 a, uint256 b, string memory message) internal pure {
        if (a > b) revert(string.concat("assertLe failed: ", message, " left=", _u(a), " right=", _u(b)));
    }

    function assertGt(uint256 a, uint256 b, string memory message) internal pure {
        if (a <= b) revert(string.concat("assertGt failed: ", message, " left=", _u(a), " right=", _u(b)));
    }

    function assertLt(uint256 a, uint256 b, string memory message) internal pure {
        if (a >= b) revert(string.concat("assertLt failed: ", message, " left=", _u(a), " right=", _u(b)));
    }

    /// @dev Bounds a fuzzed value into [min, max] without discarding runs.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        uint256 size = max - min + 1;
        if (size == 0) return x; // full range
        return min + (x % size);
    }

    function _u(uint256 value) private pure returns (string memory) {
        if (value == 0) return "0";
        uint256 digits;
        for (uint256 v = value; v != 0; v /= 10) {
            ++digits;
        }
        bytes memory out = new bytes(digits);
        for (uint256 v = value; v != 0; v /= 10) {
            out[--digits] = bytes1(uint8(48 + (v % 10)));
        }
        return string(out);
    }
}
