// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IChainRegistry} from "../interfaces/IChainRegistry.sol";
import {IInstitutionRegistry} from "../interfaces/IInstitutionRegistry.sol";
import {IPermissionManager} from "../interfaces/IPermissionManager.sol";
import {IPath} from "../libraries/IPath.sol";
import {ResourceOps} from "../libraries/ResourceOps.sol";

/// @title PermissionManager
/// @notice Resource-path permissions. See IPermissionManager.
contract PermissionManager is IPermissionManager {
    IInstitutionRegistry private immutable _registry;
    IChainRegistry private immutable _chainRegistry;

    mapping(address account => mapping(bytes32 patternKey => uint8 ops)) private _accountGrants;
    mapping(uint64 institutionId => mapping(bytes32 patternKey => uint8 ops)) private _institutionGrants;

    constructor(IInstitutionRegistry registry_, IChainRegistry chainRegistry_) {
        _registry = registry_;
        _chainRegistry = chainRegistry_;
    }

    // ---------------------------------------------------------------- grants

    /// @inheritdoc IPermissionManager
    function grantToAccount(address account, bytes32 zone, bytes32 chain, bytes32 resource, uint8 ops)
        external
    {
        bytes32 key = _authorize(zone, chain, resource, ops);
        _requireKnownAccount(account);
        uint8 newOps = _accountGrants[account][key] | ops;
        _accountGrants[account][key] = newOps;
        emit PermissionGranted(
            SubjectKind.Account, _accountSubject(account), key, zone, chain, resource, ops, newOps
        );
    }

    /// @inheritdoc IPermissionManager
    function revokeFromAccount(address account, bytes32 zone, bytes32 chain, bytes32 resource, uint8 ops)
        external
    {
        bytes32 key = _authorize(zone, chain, resource, ops);
        uint8 current = _accountGrants[account][key];
        if (current & ops == 0) revert PermNothingToRevoke(key, ops);
        uint8 newOps = current & ~ops;
        _accountGrants[account][key] = newOps;
        emit PermissionRevoked(
            SubjectKind.Account, _accountSubject(account), key, zone, chain, resource, ops, newOps
        );
    }

    /// @inheritdoc IPermissionManager
    function grantToInstitution(
        uint64 institutionId,
        bytes32 zone,
        bytes32 chain,
        bytes32 resource,
        uint8 ops
    ) external {
        bytes32 key = _authorize(zone, chain, resource, ops);
        IInstitutionRegistry.InstitutionStatus status = _registry.institution(institutionId).status;
        if (
            status == IInstitutionRegistry.InstitutionStatus.None
                || status == IInstitutionRegistry.InstitutionStatus.Expelled
        ) {
            revert PermUnknownInstitution(institutionId);
        }
        uint8 newOps = _institutionGrants[institutionId][key] | ops;
        _institutionGrants[institutionId][key] = newOps;
        emit PermissionGranted(
            SubjectKind.Institution, bytes32(uint256(institutionId)), key, zone, chain, resource, ops, newOps
        );
    }

    /// @inheritdoc IPermissionManager
    function revokeFromInstitution(
        uint64 institutionId,
        bytes32 zone,
        bytes32 chain,
        bytes32 resource,
        uint8 ops
    ) external {
        bytes32 key = _authorize(zone, chain, resource, ops);
        uint8 current = _institutionGrants[institutionId][key];
        if (current & ops == 0) revert PermNothingToRevoke(key, ops);
        uint8 newOps = current & ~ops;
        _institutionGrants[institutionId][key] = newOps;
        emit PermissionRevoked(
            SubjectKind.Institution, bytes32(uint256(institutionId)), key, zone, chain, resource, ops, newOps
        );
    }

    // ---------------------------------------------------------------- checks

    /// @inheritdoc IPermissionManager
    function check(address account, bytes32 zone, bytes32 chain, bytes32 resource, uint8 op)
        external
        view
        returns (bool)
    {
        _requireQuery(zone, chain, resource, op);
        (uint64 institutionId,) = _registry.accountOf(account);
        if (!_registry.isActive(institutionId) || !_chainRegistry.isActiveChain(zone, chain)) return false;
        mapping(bytes32 => uint8) storage own = _accountGrants[account];
        mapping(bytes32 => uint8) storage inherited = _institutionGrants[institutionId];
        return _holds(own, zone, chain, resource, op) || _holds(inherited, zone, chain, resource, op);
    }

    /// @inheritdoc IPermissionManager
    function checkInstitution(uint64 institutionId, bytes32 zone, bytes32 chain, bytes32 resource, uint8 op)
        external
        view
        returns (bool)
    {
        _requireQuery(zone, chain, resource, op);
        if (!_registry.isActive(institutionId) || !_chainRegistry.isActiveChain(zone, chain)) return false;
        return _holds(_institutionGrants[institutionId], zone, chain, resource, op);
    }

    /// @inheritdoc IPermissionManager
    function accountOps(address account, bytes32 zone, bytes32 chain, bytes32 resource)
        external
        view
        returns (uint8)
    {
        return _accountGrants[account][_patternKey(zone, chain, resource)];
    }

    /// @inheritdoc IPermissionManager
    function institutionOps(uint64 institutionId, bytes32 zone, bytes32 chain, bytes32 resource)
        external
        view
        returns (uint8)
    {
        return _institutionGrants[institutionId][_patternKey(zone, chain, resource)];
    }

    /// @inheritdoc IPermissionManager
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IPermissionManager
    function chainRegistry() external view returns (address) {
        return address(_chainRegistry);
    }

    // ---------------------------------------------------------------- internal

    /// @dev Validates the pattern and ops and that the caller may grant on it; returns the pattern key.
    function _authorize(bytes32 zone, bytes32 chain, bytes32 resource, uint8 ops)
        private
        view
        returns (bytes32)
    {
        bytes32 key = _patternKey(zone, chain, resource);
        if (!ResourceOps.isSet(ops)) revert PermBadOps(ops);
        if (msg.sender == address(_registry)) return key; // an executed proposal may grant any pattern
        if (chain == IPath.WILDCARD) revert PermNotGovernance(msg.sender);
        IChainRegistry.Chain memory c = _chainRegistry.chainOf(zone, chain);
        if (c.status != IChainRegistry.ChainStatus.Active) revert PermChainNotActive(zone, chain);
        if (_registry.activeInstitutionOf(msg.sender, IInstitutionRegistry.Role.Admin) != c.owner) {
            revert PermNotChainOwner(msg.sender, zone, chain);
        }
        return key;
    }

    function _patternKey(bytes32 zone, bytes32 chain, bytes32 resource) private pure returns (bytes32) {
        uint8 bad = IPath.firstInvalidInPattern(zone, chain, resource);
        if (bad < 3) revert PermBadSegment(bad, bad == 0 ? zone : bad == 1 ? chain : resource);
        return IPath.patternKey(zone, chain, resource);
    }

    function _requireQuery(bytes32 zone, bytes32 chain, bytes32 resource, uint8 op) private pure {
        uint8 bad = IPath.firstInvalid(zone, chain, resource);
        if (bad < 3) revert PermBadSegment(bad, bad == 0 ? zone : bad == 1 ? chain : resource);
        if (!ResourceOps.isSingle(op)) revert PermBadOp(op);
    }

    function _requireKnownAccount(address account) private view {
        (uint64 institutionId,) = _registry.accountOf(account);
        IInstitutionRegistry.InstitutionStatus status = _registry.institution(institutionId).status;
        if (institutionId == 0 || status == IInstitutionRegistry.InstitutionStatus.Expelled) {
            revert PermUnknownAccount(account);
        }
    }

    /// @dev Reads the four patterns covering a concrete path: exact, `zone.chain.*`, `zone.*.*`, `*.*.*`.
    function _holds(
        mapping(bytes32 => uint8) storage grants,
        bytes32 zone,
        bytes32 chain,
        bytes32 resource,
        uint8 op
    ) private view returns (bool) {
        bytes32 w = IPath.WILDCARD;
        return (grants[IPath.patternKey(zone, chain, resource)] & op) != 0
            || (grants[IPath.patternKey(zone, chain, w)] & op) != 0
            || (grants[IPath.patternKey(zone, w, w)] & op) != 0
            || (grants[IPath.patternKey(w, w, w)] & op) != 0;
    }

    function _accountSubject(address account) private pure returns (bytes32) {
        return bytes32(uint256(uint160(account)));
    }
}
