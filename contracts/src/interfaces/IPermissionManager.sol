// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IPermissionManager
/// @notice Grants of resource interfaces (ResourceOps bits) to accounts and institutions on iPath
/// patterns `zone.chain.resource`, `zone.chain.*`, `zone.*.*` and `*.*.*`. Only an admin of a chain's
/// owner institution grants on that chain's paths; patterns spanning chains (`zone.*.*`, `*.*.*`) are
/// granted by executed proposals only. Relayers mirror the events into a local cache.
interface IPermissionManager {
    enum SubjectKind {
        Account,
        Institution
    }

    /// @param subject the account (as uint160) or the institution id, per `kind`
    /// @param ops the bits granted by this call; `newOps` the subject's bits on the pattern afterwards
    event PermissionGranted(
        SubjectKind indexed kind,
        bytes32 indexed subject,
        bytes32 indexed patternKey,
        bytes32 zone,
        bytes32 chain,
        bytes32 resource,
        uint8 ops,
        uint8 newOps
    );
    event PermissionRevoked(
        SubjectKind indexed kind,
        bytes32 indexed subject,
        bytes32 indexed patternKey,
        bytes32 zone,
        bytes32 chain,
        bytes32 resource,
        uint8 ops,
        uint8 newOps
    );

    /// @notice Segment `position` (0 zone, 1 chain, 2 resource) is malformed: not 1-32 bytes of
    /// [A-Za-z0-9_-], or a `*` that is not trailing, or a `*` where a concrete path is required.
    error PermBadSegment(uint8 position, bytes32 segment);
    /// @notice `ops` must be a non-empty set of defined ResourceOps bits.
    error PermBadOps(uint8 ops);
    /// @notice `op` must be exactly one defined ResourceOps bit.
    error PermBadOp(uint8 op);
    error PermChainNotActive(bytes32 zone, bytes32 chain);
    /// @notice The caller is not an admin of the chain's active owner institution (nor governance).
    error PermNotChainOwner(address caller, bytes32 zone, bytes32 chain);
    /// @notice Patterns spanning chains are granted and revoked by executed proposals only.
    error PermNotGovernance(address caller);
    error PermUnknownAccount(address account);
    error PermUnknownInstitution(uint64 institutionId);
    /// @notice None of the bits to revoke is granted.
    error PermNothingToRevoke(bytes32 patternKey, uint8 ops);

    function grantToAccount(address account, bytes32 zone, bytes32 chain, bytes32 resource, uint8 ops)
        external;
    function revokeFromAccount(address account, bytes32 zone, bytes32 chain, bytes32 resource, uint8 ops)
        external;
    function grantToInstitution(
        uint64 institutionId,
        bytes32 zone,
        bytes32 chain,
        bytes32 resource,
        uint8 ops
    ) external;
    function revokeFromInstitution(
        uint64 institutionId,
        bytes32 zone,
        bytes32 chain,
        bytes32 resource,
        uint8 ops
    ) external;

    /// @notice True when `account` belongs to an active institution, the chain is active, and the account
    /// or its institution holds `op` on the path or on one of its patterns.
    function check(address account, bytes32 zone, bytes32 chain, bytes32 resource, uint8 op)
        external
        view
        returns (bool);

    /// @notice True when the institution is active, the chain is active, and the institution holds `op`
    /// on the path or one of its patterns.
    function checkInstitution(uint64 institutionId, bytes32 zone, bytes32 chain, bytes32 resource, uint8 op)
        external
        view
        returns (bool);

    /// @notice The bits granted to `account` on exactly this pattern.
    function accountOps(address account, bytes32 zone, bytes32 chain, bytes32 resource)
        external
        view
        returns (uint8);

    /// @notice The bits granted to the institution on exactly this pattern.
    function institutionOps(uint64 institutionId, bytes32 zone, bytes32 chain, bytes32 resource)
        external
        view
        returns (uint8);

    function registry() external view returns (address);
    function chainRegistry() external view returns (address);
}
