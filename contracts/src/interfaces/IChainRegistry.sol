// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IChainRegistry
/// @notice Business-chain admission. A chain `zone.chain` is admitted or retired only by an executed
/// proposal of the InstitutionRegistry; it is owned by one institution, whose admins name which of
/// that institution's relayer accounts serve it.
interface IChainRegistry {
    enum ChainStatus {
        None,
        Active,
        Retired
    }

    struct Chain {
        bytes32 zone;
        bytes32 chain;
        /// e.g. "evm"; a path segment, so it reads the same in every tool.
        bytes32 chainType;
        uint256 chainId;
        uint64 owner;
        bytes32 genesisHash;
        ChainStatus status;
    }

    event ChainAdmitted(
        bytes32 indexed chainKey,
        bytes32 zone,
        bytes32 chain,
        bytes32 chainType,
        uint256 chainId,
        uint64 indexed owner,
        bytes32 genesisHash
    );
    event ChainRetired(bytes32 indexed chainKey);
    event ServingRelayerSet(bytes32 indexed chainKey, address indexed relayer, bool serving);

    /// @notice Only an executed proposal of the InstitutionRegistry may do this.
    error ChainNotGovernance(address caller);
    /// @notice Segment `position` (0 zone, 1 chain, 2 chain type) is not 1-32 bytes of [A-Za-z0-9_-].
    error ChainBadSegment(uint8 position, bytes32 segment);
    error ChainZeroChainId();
    error ChainAlreadyAdmitted(bytes32 zone, bytes32 chain);
    error ChainNotFound(bytes32 zone, bytes32 chain);
    error ChainNotActive(bytes32 zone, bytes32 chain);
    error ChainOwnerNotActive(uint64 institutionId);
    /// @notice The caller is not an admin of the chain's (active) owner institution.
    error ChainNotOwnerAdmin(address caller, uint64 owner);
    error ChainNotOwnerRelayer(address account, uint64 owner);
    /// @notice A relayer list must hold 1 to MAX_RELAYERS_PER_CALL accounts.
    error ChainBadRelayerCount(uint256 count);
    error ChainIndexOutOfRange(uint256 index, uint256 count);

    /// @notice Admits `zone.chain`. Governance only.
    function admitChain(
        bytes32 zone,
        bytes32 chain,
        bytes32 chainType,
        uint256 chainId,
        uint64 owner,
        bytes32 genesisHash
    ) external;

    /// @notice Retires an active chain: its relayers stop serving it and its paths stop checking. Governance only.
    function retireChain(bytes32 zone, bytes32 chain) external;

    /// @notice Marks relayer accounts of the owner institution as serving (or no longer serving) the chain.
    /// Caller: an admin of the chain's active owner institution.
    function setServingRelayers(bytes32 zone, bytes32 chain, address[] calldata relayers, bool serving)
        external;

    /// @notice True when the chain is active, its owner institution is active, `account` is still a
    /// relayer account of that institution, and the owner named it as serving.
    function isServingRelayer(bytes32 zone, bytes32 chain, address account) external view returns (bool);

    /// @notice `isServingRelayer` by chain key (IPath.chainKey(zone, chain)), for contracts that store keys.
    function isServingRelayerByKey(bytes32 chainKey, address account) external view returns (bool);

    function isActiveChain(bytes32 zone, bytes32 chain) external view returns (bool);
    function chainOf(bytes32 zone, bytes32 chain) external view returns (Chain memory);
    function chainByKey(bytes32 chainKey) external view returns (Chain memory);
    /// @notice Number of chains ever admitted (retired included), for paging with `chainKeyAt`.
    function chainCount() external view returns (uint256);
    function chainKeyAt(uint256 index) external view returns (bytes32);
    function registry() external view returns (address);
}
