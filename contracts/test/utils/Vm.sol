// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @notice The subset of forge's cheatcodes these tests use. forge-std is not reachable from this
/// environment, so the interface is declared here; forge serves it at the standard address.
interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function warp(uint256 timestamp) external;
    function roll(uint256 blockNumber) external;
    function deal(address account, uint256 balance) external;
    function chainId(uint256 newChainId) external;
    function assume(bool condition) external;
    function label(address account, string calldata name) external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function expectRevert() external;
    function expectRevert(bytes4 selector) external;
    function expectRevert(bytes calldata revertData) external;
    function expectEmit() external;
    function expectEmit(address emitter) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter)
        external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
    function snapshotState() external returns (uint256 snapshotId);
    function revertToState(uint256 snapshotId) external returns (bool success);
    function load(address target, bytes32 slot) external view returns (bytes32 data);
    function readFile(string calldata path) external view returns (string memory data);
    function parseJson(string calldata json, string calldata key) external pure returns (bytes memory encoded);
    function toString(uint256 value) external pure returns (string memory);
    function toString(address value) external pure returns (string memory);
    function toString(bytes32 value) external pure returns (string memory);

    // ---------------------------------------------------------------- appended (HTLC / Supervision tests)

    /// A key pair as forge derives it: the address and the uncompressed secp256k1 public key (x, y).
    struct Wallet {
        address addr;
        uint256 publicKeyX;
        uint256 publicKeyY;
        uint256 privateKey;
    }

    function createWallet(uint256 privateKey) external returns (Wallet memory wallet);
}
