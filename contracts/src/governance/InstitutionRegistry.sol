// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IInstitutionRegistry} from "../interfaces/IInstitutionRegistry.sol";

/// @title InstitutionRegistry
/// @notice Institution admission and the consortium's voting. See IInstitutionRegistry.
contract InstitutionRegistry is IInstitutionRegistry {
    uint256 public constant MAX_FOUNDERS = 32;
    uint256 public constant MAX_NAME_LENGTH = 64;
    uint64 public constant MIN_VOTING_PERIOD = 1 minutes;
    uint64 public constant MAX_VOTING_PERIOD = 365 days;
    uint16 public constant MAX_THRESHOLD_DENOMINATOR = 1000;
    /// Selectors of the calls whose target has no vote on them.
    bytes4 private constant SUSPEND_SELECTOR = bytes4(keccak256("suspendInstitution(uint64)"));
    bytes4 private constant EXPEL_SELECTOR = bytes4(keccak256("expelInstitution(uint64)"));

    struct Membership {
        uint64 institutionId;
        Role role;
    }

    mapping(uint64 institutionId => Institution) private _institutions;
    mapping(address account => Membership) private _memberships;
    mapping(uint256 proposalId => Proposal) private _proposals;
    mapping(uint256 proposalId => mapping(uint64 institutionId => bool)) private _voted;

    uint64 private _institutionCount;
    uint16 private _activeCount;
    /// Bumped on every change of the active set; proposals remember it to fix their electorate.
    uint32 private _epoch;
    uint256 private _proposalCount;
    uint16 private _thresholdNumerator;
    uint16 private _thresholdDenominator;
    uint64 private _votingPeriod;

    modifier onlyGovernance() {
        if (msg.sender != address(this)) revert InstNotGovernance(msg.sender);
        _;
    }

    /// @param founders the genesis list; each founder becomes an active institution with one admin
    /// @param thresholdNumerator with `thresholdDenominator`: a proposal passes with at least this
    /// fraction of its electorate approving
    constructor(
        Founder[] memory founders,
        uint16 thresholdNumerator,
        uint16 thresholdDenominator,
        uint64 newVotingPeriod
    ) {
        if (founders.length == 0 || founders.length > MAX_FOUNDERS) {
            revert InstBadFounderCount(founders.length);
        }
        _setThreshold(thresholdNumerator, thresholdDenominator);
        _setVotingPeriod(newVotingPeriod);
        for (uint256 i; i < founders.length; ++i) {
            _admit(founders[i].name, founders[i].certHash, founders[i].admin);
        }
    }

    // ---------------------------------------------------------------- accounts

    /// @inheritdoc IInstitutionRegistry
    function addAccount(address account, Role role) external {
        uint64 id = _requireActiveAdmin();
        if (account == address(0)) revert InstZeroAddress();
        if (role == Role.None) revert InstBadRole();
        uint64 current = _memberships[account].institutionId;
        if (current != 0) revert InstAccountTaken(account, current);
        _memberships[account] = Membership({institutionId: id, role: role});
        if (role == Role.Admin) _institutions[id].adminCount += 1;
        emit AccountAdded(id, account, role);
    }

    /// @inheritdoc IInstitutionRegistry
    function removeAccount(address account) external {
        uint64 id = _requireActiveAdmin();
        Membership memory membership = _memberships[account];
        if (membership.institutionId != id) revert InstAccountNotMember(account, id);
        if (membership.role == Role.Admin) {
            if (_institutions[id].adminCount == 1) revert InstLastAdmin(id);
            _institutions[id].adminCount -= 1;
        }
        delete _memberships[account];
        emit AccountRemoved(id, account, membership.role);
    }

    // ---------------------------------------------------------------- proposals

    /// @inheritdoc IInstitutionRegistry
    function propose(address target, bytes calldata data, string calldata description)
        external
        returns (uint256 proposalId)
    {
        uint64 proposer = _requireActiveAdmin();
        if (target.code.length == 0) revert ProposalBadTarget(target);
        if (data.length < 4) revert ProposalEmptyData();

        uint16 electorate = _activeCount;
        uint64 excluded = _targetOf(target, data);
        // The target of a suspension or expulsion has no vote in it: it could veto its own.
        if (excluded != 0 && isActive(excluded)) {
            if (electorate == 1) revert InstLastActive(excluded);
            electorate -= 1;
        }
        // "At least numerator/denominator of the electorate": ceil(e * n / d).
        uint256 d = _thresholdDenominator;
        // forge-lint: disable-next-line(unsafe-typecast)
        uint16 required = uint16((uint256(electorate) * _thresholdNumerator + d - 1) / d); // <= electorate
        uint64 votingEndsAt = uint64(block.timestamp) + _votingPeriod;

        proposalId = ++_proposalCount;
        _proposals[proposalId] = Proposal({
            proposer: proposer,
            target: target,
            dataHash: keccak256(data),
            votingEndsAt: votingEndsAt,
            executableUntil: votingEndsAt + _votingPeriod,
            epoch: _epoch,
            electorate: electorate,
            required: required,
            approvals: 0,
            rejections: 0,
            state: ProposalState.Pending,
            excluded: excluded
        });
        emit ProposalCreated(
            proposalId, proposer, target, data, description, votingEndsAt, electorate, required
        );
    }

    /// @inheritdoc IInstitutionRegistry
    function vote(uint256 proposalId, bool approve) external {
        uint64 voter = _requireActiveAdmin();
        Proposal storage p = _requirePending(proposalId);
        if (_institutions[voter].activeSinceEpoch > p.epoch || voter == p.excluded) {
            revert ProposalNotEligible(proposalId, voter);
        }
        if (_voted[proposalId][voter]) revert ProposalAlreadyVoted(proposalId, voter);

        _voted[proposalId][voter] = true;
        if (approve) p.approvals += 1;
        else p.rejections += 1;
        emit VoteCast(proposalId, voter, approve, p.approvals, p.rejections);

        if (p.approvals >= p.required) {
            p.state = ProposalState.Passed;
            emit ProposalPassed(proposalId);
        } else if (p.electorate - p.rejections < p.required) {
            // Even if every remaining member approved, it could not pass.
            p.state = ProposalState.Rejected;
            emit ProposalRejected(proposalId);
        }
    }

    /// @inheritdoc IInstitutionRegistry
    function withdraw(uint256 proposalId) external {
        uint64 caller = _requireActiveAdmin();
        Proposal storage p = _requirePending(proposalId);
        if (p.proposer != caller) revert ProposalNotProposer(proposalId, caller);
        p.state = ProposalState.Withdrawn;
        emit ProposalWithdrawn(proposalId);
    }

    /// @inheritdoc IInstitutionRegistry
    function execute(uint256 proposalId, bytes calldata data) external {
        ProposalState state = proposalState(proposalId);
        if (state == ProposalState.None) revert ProposalNotFound(proposalId);
        if (state != ProposalState.Passed) revert ProposalNotPassed(proposalId, state);
        Proposal storage p = _proposals[proposalId];
        if (keccak256(data) != p.dataHash) revert ProposalDataMismatch(proposalId);

        // Effects before the call: a re-entrant execute finds the proposal already executed.
        p.state = ProposalState.Executed;
        (bool ok, bytes memory reason) = p.target.call(data);
        if (!ok) revert ProposalExecutionFailed(proposalId, reason);
        emit ProposalExecuted(proposalId);
    }

    // ---------------------------------------------------------------- governance-only

    /// @inheritdoc IInstitutionRegistry
    function admitInstitution(string calldata name, bytes32 certHash, address admin)
        external
        onlyGovernance
        returns (uint64 institutionId)
    {
        return _admit(name, certHash, admin);
    }

    /// @inheritdoc IInstitutionRegistry
    function suspendInstitution(uint64 institutionId) external onlyGovernance {
        Institution storage inst = _requireInstitution(institutionId);
        if (inst.status != InstitutionStatus.Active) revert InstBadStatus(institutionId, inst.status);
        _deactivate(institutionId, inst);
        inst.status = InstitutionStatus.Suspended;
        emit InstitutionSuspended(institutionId);
    }

    /// @inheritdoc IInstitutionRegistry
    function expelInstitution(uint64 institutionId) external onlyGovernance {
        Institution storage inst = _requireInstitution(institutionId);
        if (inst.status == InstitutionStatus.Active) _deactivate(institutionId, inst);
        else if (inst.status != InstitutionStatus.Suspended) revert InstBadStatus(institutionId, inst.status);
        inst.status = InstitutionStatus.Expelled;
        emit InstitutionExpelled(institutionId);
    }

    /// @inheritdoc IInstitutionRegistry
    function reinstateInstitution(uint64 institutionId) external onlyGovernance {
        Institution storage inst = _requireInstitution(institutionId);
        if (inst.status != InstitutionStatus.Suspended) revert InstBadStatus(institutionId, inst.status);
        inst.status = InstitutionStatus.Active;
        inst.activeSinceEpoch = ++_epoch;
        _activeCount += 1;
        emit InstitutionReinstated(institutionId);
    }

    /// @inheritdoc IInstitutionRegistry
    function setThreshold(uint16 numerator, uint16 denominator) external onlyGovernance {
        _setThreshold(numerator, denominator);
    }

    /// @inheritdoc IInstitutionRegistry
    function setVotingPeriod(uint64 newVotingPeriod) external onlyGovernance {
        _setVotingPeriod(newVotingPeriod);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IInstitutionRegistry
    function institution(uint64 institutionId) external view returns (Institution memory) {
        return _institutions[institutionId];
    }

    /// @inheritdoc IInstitutionRegistry
    function institutionCount() external view returns (uint64) {
        return _institutionCount;
    }

    /// @inheritdoc IInstitutionRegistry
    function activeCount() external view returns (uint16) {
        return _activeCount;
    }

    /// @inheritdoc IInstitutionRegistry
    function isActive(uint64 institutionId) public view returns (bool) {
        return _institutions[institutionId].status == InstitutionStatus.Active;
    }

    /// @inheritdoc IInstitutionRegistry
    function accountOf(address account) external view returns (uint64 institutionId, Role role) {
        Membership memory membership = _memberships[account];
        return (membership.institutionId, membership.role);
    }

    /// @inheritdoc IInstitutionRegistry
    function activeInstitutionOf(address account, Role role) public view returns (uint64 institutionId) {
        Membership memory membership = _memberships[account];
        if (membership.role != role || role == Role.None || !isActive(membership.institutionId)) return 0;
        return membership.institutionId;
    }

    /// @inheritdoc IInstitutionRegistry
    function proposal(uint256 proposalId) external view returns (Proposal memory) {
        return _proposals[proposalId];
    }

    /// @inheritdoc IInstitutionRegistry
    function proposalState(uint256 proposalId) public view returns (ProposalState) {
        Proposal storage p = _proposals[proposalId];
        ProposalState state = p.state;
        if (state == ProposalState.Pending && block.timestamp >= p.votingEndsAt) {
            return ProposalState.Expired;
        }
        if (state == ProposalState.Passed && block.timestamp >= p.executableUntil) {
            return ProposalState.Expired;
        }
        return state;
    }

    /// @inheritdoc IInstitutionRegistry
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IInstitutionRegistry
    function hasVoted(uint256 proposalId, uint64 institutionId) external view returns (bool) {
        return _voted[proposalId][institutionId];
    }

    /// @inheritdoc IInstitutionRegistry
    function threshold() external view returns (uint16 numerator, uint16 denominator) {
        return (_thresholdNumerator, _thresholdDenominator);
    }

    /// @inheritdoc IInstitutionRegistry
    function votingPeriod() external view returns (uint64) {
        return _votingPeriod;
    }

    /// @inheritdoc IInstitutionRegistry
    function epoch() external view returns (uint32) {
        return _epoch;
    }

    // ---------------------------------------------------------------- internal

    function _admit(string memory name, bytes32 certHash, address admin) private returns (uint64 id) {
        uint256 nameLength = bytes(name).length;
        if (nameLength == 0 || nameLength > MAX_NAME_LENGTH) revert InstBadName();
        if (admin == address(0)) revert InstZeroAddress();
        uint64 taken = _memberships[admin].institutionId;
        if (taken != 0) revert InstAccountTaken(admin, taken);

        id = ++_institutionCount;
        uint32 since = ++_epoch;
        _institutions[id] = Institution({
            name: name,
            certHash: certHash,
            status: InstitutionStatus.Active,
            activeSinceEpoch: since,
            adminCount: 1
        });
        _activeCount += 1;
        _memberships[admin] = Membership({institutionId: id, role: Role.Admin});
        emit InstitutionAdmitted(id, name, certHash, admin);
        emit AccountAdded(id, admin, Role.Admin);
    }

    function _deactivate(uint64 institutionId, Institution storage inst) private {
        if (_activeCount == 1) revert InstLastActive(institutionId);
        _activeCount -= 1;
        ++_epoch;
        inst.activeSinceEpoch = 0;
    }

    function _setThreshold(uint16 numerator, uint16 denominator) private {
        // Strictly more than one half keeps two disjoint coalitions from both passing ("at least" 1/2 of
        // an even electorate would let both halves pass); 1/1 is unanimity.
        if (
            denominator == 0 || denominator > MAX_THRESHOLD_DENOMINATOR || numerator > denominator
                || uint256(numerator) * 2 <= denominator
        ) revert GovBadThreshold(numerator, denominator);
        _thresholdNumerator = numerator;
        _thresholdDenominator = denominator;
        emit ThresholdChanged(numerator, denominator);
    }

    function _setVotingPeriod(uint64 newVotingPeriod) private {
        if (newVotingPeriod < MIN_VOTING_PERIOD || newVotingPeriod > MAX_VOTING_PERIOD) {
            revert GovBadVotingPeriod(newVotingPeriod);
        }
        _votingPeriod = newVotingPeriod;
        emit VotingPeriodChanged(newVotingPeriod);
    }

    /// @dev The institution a self-call of suspendInstitution or expelInstitution targets, else 0. An id
    /// word that does not fit uint64 would fail to decode at execution: it targets nobody.
    function _targetOf(address target, bytes calldata data) private view returns (uint64) {
        if (target != address(this) || data.length < 36) return 0;
        // forge-lint: disable-next-line(unsafe-typecast)
        bytes4 selector = bytes4(data); // the first four bytes are the selector
        if (selector != SUSPEND_SELECTOR && selector != EXPEL_SELECTOR) return 0;
        // The id word after the selector, read byte by byte: solang, the second front end, has no
        // calldata slices.
        uint256 word;
        for (uint256 i = 4; i < 36; ++i) {
            word = (word << 8) | uint8(data[i]);
        }
        if (word > type(uint64).max) return 0;
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(word); // checked above
    }

    function _requireActiveAdmin() private view returns (uint64 id) {
        id = activeInstitutionOf(msg.sender, Role.Admin);
        if (id == 0) revert InstNotAdmin(msg.sender);
    }

    function _requireInstitution(uint64 institutionId) private view returns (Institution storage inst) {
        inst = _institutions[institutionId];
        if (inst.status == InstitutionStatus.None) revert InstNotFound(institutionId);
    }

    function _requirePending(uint256 proposalId) private view returns (Proposal storage p) {
        ProposalState state = proposalState(proposalId);
        if (state == ProposalState.None) revert ProposalNotFound(proposalId);
        if (state != ProposalState.Pending) revert ProposalNotPending(proposalId, state);
        p = _proposals[proposalId];
    }
}
