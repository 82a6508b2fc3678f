// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IInstitutionRegistry
/// @notice Institution admission by vote. The council is the set of active institutions, one vote each.
/// Proposals carry a target contract and calldata; once passed, anyone may execute them by supplying the
/// calldata whose hash the proposal stored. The registry governs itself through self-calls (admit,
/// suspend, expel, reinstate, threshold, voting period) and other contracts through their
/// governance-only functions (e.g. ChainRegistry.admitChain).
///
/// A proposal passes once at least `numerator/denominator` of its electorate approve: `required =
/// ceil(electorate * numerator / denominator)`, with the threshold strictly above one half so two
/// disjoint coalitions can never both pass. The electorate is the institutions active at creation,
/// except that a proposal to suspend or expel an institution leaves that institution out: the target
/// of such a vote has no vote in it, so it cannot veto its own suspension or expulsion.
interface IInstitutionRegistry {
    enum InstitutionStatus {
        None,
        Active,
        Suspended,
        Expelled
    }

    enum Role {
        None,
        Admin,
        Relayer,
        User
    }

    /// @dev `Expired` is never stored: it is what `proposalState` reports for a pending proposal whose
    /// voting period is over, or for a passed one whose execution window closed.
    enum ProposalState {
        None,
        Pending,
        Passed,
        Rejected,
        Withdrawn,
        Executed,
        Expired
    }

    struct Institution {
        string name;
        bytes32 certHash;
        InstitutionStatus status;
        /// Membership epoch at which it last became active; it may vote on proposals created at or after it.
        uint32 activeSinceEpoch;
        uint16 adminCount;
    }

    /// @notice A founding institution from the consortium's genesis list.
    struct Founder {
        string name;
        bytes32 certHash;
        address admin;
    }

    struct Proposal {
        uint64 proposer;
        address target;
        bytes32 dataHash;
        uint64 votingEndsAt;
        uint64 executableUntil;
        uint32 epoch;
        uint16 electorate;
        uint16 required;
        uint16 approvals;
        uint16 rejections;
        ProposalState state;
        /// The institution a suspend or expel proposal targets, outside that proposal's electorate (0 for
        /// other proposals).
        uint64 excluded;
    }

    // ---------------------------------------------------------------- events

    event InstitutionAdmitted(uint64 indexed institutionId, string name, bytes32 certHash, address admin);
    event InstitutionSuspended(uint64 indexed institutionId);
    event InstitutionExpelled(uint64 indexed institutionId);
    event InstitutionReinstated(uint64 indexed institutionId);
    event AccountAdded(uint64 indexed institutionId, address indexed account, Role role);
    event AccountRemoved(uint64 indexed institutionId, address indexed account, Role role);
    event ProposalCreated(
        uint256 indexed proposalId,
        uint64 indexed proposer,
        address indexed target,
        bytes data,
        string description,
        uint64 votingEndsAt,
        uint16 electorate,
        uint16 required
    );
    event VoteCast(
        uint256 indexed proposalId,
        uint64 indexed institutionId,
        bool approve,
        uint16 approvals,
        uint16 rejections
    );
    event ProposalPassed(uint256 indexed proposalId);
    event ProposalRejected(uint256 indexed proposalId);
    event ProposalWithdrawn(uint256 indexed proposalId);
    event ProposalExecuted(uint256 indexed proposalId);
    event ThresholdChanged(uint16 numerator, uint16 denominator);
    event VotingPeriodChanged(uint64 votingPeriod);

    // ---------------------------------------------------------------- errors

    /// @notice The caller is not an admin account of an active institution.
    error InstNotAdmin(address caller);
    /// @notice Only an executed proposal (a call from the registry itself) may do this.
    error InstNotGovernance(address caller);
    error InstNotFound(uint64 institutionId);
    /// @notice The institution's status does not allow this transition.
    error InstBadStatus(uint64 institutionId, InstitutionStatus status);
    /// @notice Names are 1-64 bytes.
    error InstBadName();
    error InstZeroAddress();
    error InstAccountTaken(address account, uint64 institutionId);
    error InstAccountNotMember(address account, uint64 institutionId);
    error InstBadRole();
    /// @notice An institution must keep at least one admin account.
    error InstLastAdmin(uint64 institutionId);
    /// @notice The council must keep at least one active institution.
    error InstLastActive(uint64 institutionId);
    /// @notice Genesis needs 1 to MAX_FOUNDERS founding institutions.
    error InstBadFounderCount(uint256 count);
    /// @notice Threshold must satisfy 1/2 < numerator/denominator <= 1 and 1 <= denominator <= 1000.
    error GovBadThreshold(uint16 numerator, uint16 denominator);
    error GovBadVotingPeriod(uint64 votingPeriod);
    error ProposalBadTarget(address target);
    error ProposalEmptyData();
    error ProposalNotFound(uint256 proposalId);
    error ProposalNotPending(uint256 proposalId, ProposalState state);
    error ProposalAlreadyVoted(uint256 proposalId, uint64 institutionId);
    /// @notice The institution was not in the electorate snapshotted when the proposal was created, or is
    /// the institution the proposal would suspend or expel.
    error ProposalNotEligible(uint256 proposalId, uint64 institutionId);
    error ProposalNotProposer(uint256 proposalId, uint64 institutionId);
    error ProposalNotPassed(uint256 proposalId, ProposalState state);
    error ProposalDataMismatch(uint256 proposalId);
    error ProposalExecutionFailed(uint256 proposalId, bytes reason);

    // ---------------------------------------------------------------- accounts

    /// @notice Adds `account` to the caller's institution with `role`. Caller: an admin of an active institution.
    function addAccount(address account, Role role) external;

    /// @notice Removes `account` from the caller's institution. The last admin cannot be removed.
    function removeAccount(address account) external;

    // ---------------------------------------------------------------- proposals

    /// @notice Opens a proposal to call `target` with `data` once passed. Caller: an admin of an active
    /// institution. The electorate (active institutions) and threshold are snapshotted now. A call of
    /// this registry's `suspendInstitution` or `expelInstitution` records its target as `excluded` and,
    /// when that institution is active, leaves it out of the electorate (InstLastActive when nobody
    /// would be left to vote).
    function propose(address target, bytes calldata data, string calldata description)
        external
        returns (uint256 proposalId);

    /// @notice Casts the caller's institution's vote. Reaching the required approvals passes the proposal
    /// at once; enough rejections that the rest of the electorate could no longer pass it reject it at once.
    /// The institution a proposal would suspend or expel may not vote on it (ProposalNotEligible).
    function vote(uint256 proposalId, bool approve) external;

    /// @notice Withdraws a pending proposal. Caller: an admin of the proposing institution.
    function withdraw(uint256 proposalId) external;

    /// @notice Executes a passed proposal with the calldata it was created with. Anyone may call.
    function execute(uint256 proposalId, bytes calldata data) external;

    // ---------------------------------------------------------------- governance-only (via proposals)

    function admitInstitution(string calldata name, bytes32 certHash, address admin)
        external
        returns (uint64 institutionId);
    function suspendInstitution(uint64 institutionId) external;
    function expelInstitution(uint64 institutionId) external;
    function reinstateInstitution(uint64 institutionId) external;
    function setThreshold(uint16 numerator, uint16 denominator) external;
    function setVotingPeriod(uint64 newVotingPeriod) external;

    // ---------------------------------------------------------------- views

    function institution(uint64 institutionId) external view returns (Institution memory);
    function institutionCount() external view returns (uint64);
    function activeCount() external view returns (uint16);
    function isActive(uint64 institutionId) external view returns (bool);
    /// @notice The institution and role of `account` (0 and None when unregistered), whatever its status.
    function accountOf(address account) external view returns (uint64 institutionId, Role role);
    /// @notice The institution of `account` if the account holds `role` and the institution is active, else 0.
    function activeInstitutionOf(address account, Role role) external view returns (uint64 institutionId);
    function proposal(uint256 proposalId) external view returns (Proposal memory);
    /// @notice The proposal's state, with `Expired` derived from the current time.
    function proposalState(uint256 proposalId) external view returns (ProposalState);
    function proposalCount() external view returns (uint256);
    function hasVoted(uint256 proposalId, uint64 institutionId) external view returns (bool);
    function threshold() external view returns (uint16 numerator, uint16 denominator);
    function votingPeriod() external view returns (uint64);
    function epoch() external view returns (uint32);
}
