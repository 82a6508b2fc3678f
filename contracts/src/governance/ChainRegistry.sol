// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IChainRegistry} from "../interfaces/IChainRegistry.sol";
import {IInstitutionRegistry} from "../interfaces/IInstitutionRegistry.sol";
import {IPath} from "../libraries/IPath.sol";

/// @title ChainRegistry
/// @notice Business-chain admission. See IChainRegistry.
contract ChainRegistry is IChainRegistry {
    uint256 public constant MAX_RELAYERS_PER_CALL = 16;

    IInstitutionRegistry private immutable _registry;

    mapping(bytes32 chainKey => Chain) private _chains;
    mapping(bytes32 chainKey => mapping(address relayer => bool)) private _serving;
    bytes32[] private _chainKeys;

    modifier onlyGovernance() {
        if (msg.sender != address(_registry)) revert ChainNotGovernance(msg.sender);
        _;
    }

    constructor(IInstitutionRegistry registry_) {
        _registry = registry_;
    }

    /// @inheritdoc IChainRegistry
    function admitChain(
        bytes32 zone,
        bytes32 chain,
        bytes32 chainType,
        uint256 chainId,
        uint64 owner,
        bytes32 genesisHash
    ) external onlyGovernance {
        if (!IPath.isSegment(zone)) revert ChainBadSegment(0, zone);
        if (!IPath.isSegment(chain)) revert ChainBadSegment(1, chain);
        if (!IPath.isSegment(chainType)) revert ChainBadSegment(2, chainType);
        if (chainId == 0) revert ChainZeroChainId();
        if (!_registry.isActive(owner)) revert ChainOwnerNotActive(owner);
        bytes32 key = IPath.chainKey(zone, chain);
        if (_chains[key].status != ChainStatus.None) revert ChainAlreadyAdmitted(zone, chain);

        _chains[key] = Chain({
            zone: zone,
            chain: chain,
            chainType: chainType,
            chainId: chainId,
            owner: owner,
            genesisHash: genesisHash,
            status: ChainStatus.Active
        });
        _chainKeys.push(key);
        emit ChainAdmitted(key, zone, chain, chainType, chainId, owner, genesisHash);
    }

    /// @inheritdoc IChainRegistry
    function retireChain(bytes32 zone, bytes32 chain) external onlyGovernance {
        Chain storage c = _requireActive(zone, chain);
        c.status = ChainStatus.Retired;
        emit ChainRetired(IPath.chainKey(zone, chain));
    }

    /// @inheritdoc IChainRegistry
    function setServingRelayers(bytes32 zone, bytes32 chain, address[] calldata relayers, bool serving)
        external
    {
        Chain storage c = _requireActive(zone, chain);
        uint64 owner = c.owner;
        if (_registry.activeInstitutionOf(msg.sender, IInstitutionRegistry.Role.Admin) != owner) {
            revert ChainNotOwnerAdmin(msg.sender, owner);
        }
        if (relayers.length == 0 || relayers.length > MAX_RELAYERS_PER_CALL) {
            revert ChainBadRelayerCount(relayers.length);
        }
        bytes32 key = IPath.chainKey(zone, chain);
        for (uint256 i; i < relayers.length; ++i) {
            address relayer = relayers[i];
            // Removing need not check the role: the account may already have left the institution.
            if (serving) {
                (uint64 id, IInstitutionRegistry.Role role) = _registry.accountOf(relayer);
                if (id != owner || role != IInstitutionRegistry.Role.Relayer) {
                    revert ChainNotOwnerRelayer(relayer, owner);
                }
            }
            _serving[key][relayer] = serving;
            emit ServingRelayerSet(key, relayer, serving);
        }
    }

    /// @inheritdoc IChainRegistry
    function isServingRelayer(bytes32 zone, bytes32 chain, address account) external view returns (bool) {
        return isServingRelayerByKey(IPath.chainKey(zone, chain), account);
    }

    /// @inheritdoc IChainRegistry
    function isServingRelayerByKey(bytes32 key, address account) public view returns (bool) {
        Chain storage c = _chains[key];
        if (c.status != ChainStatus.Active || !_serving[key][account]) return false;
        return _registry.activeInstitutionOf(account, IInstitutionRegistry.Role.Relayer) == c.owner;
    }

    /// @inheritdoc IChainRegistry
    function isActiveChain(bytes32 zone, bytes32 chain) external view returns (bool) {
        return _chains[IPath.chainKey(zone, chain)].status == ChainStatus.Active;
    }

    /// @inheritdoc IChainRegistry
    function chainOf(bytes32 zone, bytes32 chain) external view returns (Chain memory) {
        return _chains[IPath.chainKey(zone, chain)];
    }

    /// @inheritdoc IChainRegistry
    function chainByKey(bytes32 chainKey) external view returns (Chain memory) {
        return _chains[chainKey];
    }

    /// @inheritdoc IChainRegistry
    function chainCount() external view returns (uint256) {
        return _chainKeys.length;
    }

    /// @inheritdoc IChainRegistry
    function chainKeyAt(uint256 index) external view returns (bytes32) {
        if (index >= _chainKeys.length) revert ChainIndexOutOfRange(index, _chainKeys.length);
        return _chainKeys[index];
    }

    /// @inheritdoc IChainRegistry
    function registry() external view returns (address) {
        return address(_registry);
    }

    function _requireActive(bytes32 zone, bytes32 chain) private view returns (Chain storage c) {
        c = _chains[IPath.chainKey(zone, chain)];
        if (c.status == ChainStatus.None) revert ChainNotFound(zone, chain);
        if (c.status != ChainStatus.Active) revert ChainNotActive(zone, chain);
    }
}
