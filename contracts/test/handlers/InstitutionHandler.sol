// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Vm} from "../utils/Vm.sol";
import {InstitutionRegistry} from "../../src/governance/InstitutionRegistry.sol";
import {IInstitutionRegistry} from "../../src/interfaces/IInstitutionRegistry.sol";

/// @notice Invariant-test handler for InstitutionRegistry: owns a registry with seven founders and drives it
/// through bounded governance actions from the accounts of random institutions, whatever their status.
/// Every registry call is wrapped in try/catch so the handler itself never reverts; ghost state records
/// what the invariants check.
contract InstitutionHandler {
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    /// Seven founders. At deployment, executed proposals expel the sixth (which has a relayer and a user
    /// account) and suspend the seventh, so every run starts with five active institutions, an expelled
    /// one whose accounts keep trying, and a suspended one to reinstate or expel.
    uint256 public constant FOUNDERS = 7;
    uint64 public constant INITIAL_PERIOD = 1 days;
    /// A non-member: execution is open to anyone.
    address public constant EXECUTOR = address(0xE0EC);

    enum Kind {
        Admit,
        Suspend,
        Expel,
        Reinstate,
        Threshold,
        VotingPeriod
    }

    /// What the handler knows about a proposal it created.
    struct Ghost {
        Kind kind;
        uint64 subject;
        address newAdmin;
        bytes data;
        /// Active institutions counted by the handler at creation, and their set as a bitmask of ids, less
        /// the institution a suspension or expulsion targets.
        uint16 electorate;
        uint256 electorateMask;
        /// The target of a suspension or expulsion (0 for other kinds): it has no vote on the proposal.
        uint64 excluded;
        /// Threshold in force at creation.
        uint16 num;
        uint16 den;
        /// Successful votes, counted by the handler, and the set of institutions that cast them.
        uint16 approvals;
        uint16 rejections;
        uint256 voterMask;
    }

    /// A successfully executed proposal, as seen at the time of execution.
    struct ExecutedRecord {
        uint256 proposalId;
        uint16 approvals;
        uint16 electorate;
        uint16 required;
        uint16 num;
        uint16 den;
    }

    InstitutionRegistry public reg;

    mapping(uint256 proposalId => Ghost) internal _ghosts;
    ExecutedRecord[] internal _executed;
    mapping(uint64 institutionId => address[]) internal _admins;
    mapping(uint64 institutionId => address[]) internal _relayers;
    mapping(uint64 institutionId => address[]) internal _users;
    uint256 internal _nextAccount;
    uint64[] internal _expelledIds;

    /// Institutions whose expulsion the handler executed.
    mapping(uint64 institutionId => bool) public ghostExpelled;
    /// Calls made by accounts of expelled institutions, those that succeeded, and those after which any
    /// registry state differed. The last two must stay 0.
    uint256 public ghostExpelledCalls;
    uint256 public ghostExpelledCallSuccesses;
    uint256 public ghostExpelledStateChanges;
    /// Votes that succeeded from the institution a proposal suspends or expels (must stay 0), and votes it
    /// tried.
    uint256 public ghostExcludedVoteSuccesses;
    uint256 public ghostExcludedVoteAttempts;

    /// Coverage counters (successful outcomes by name), to check the runs reach interesting states.
    mapping(bytes32 what => uint256) public hits;

    constructor() {
        IInstitutionRegistry.Founder[] memory founders = new IInstitutionRegistry.Founder[](FOUNDERS);
        for (uint256 i; i < FOUNDERS; ++i) {
            address admin = _freshAccount();
            founders[i] = IInstitutionRegistry.Founder({
                name: string.concat("Founder ", vm.toString(i + 1)),
                certHash: keccak256(abi.encode("founder", i + 1)),
                admin: admin
            });
            _admins[uint64(i + 1)].push(admin);
        }
        reg = new InstitutionRegistry(founders, 2, 3, INITIAL_PERIOD);

        // Founder 6 gets a relayer and a user account and is expelled; founder 7 is suspended.
        _addAccount(_admins[6][0], 6, _freshAccount(), IInstitutionRegistry.Role.Relayer);
        _addAccount(_admins[6][0], 6, _freshAccount(), IInstitutionRegistry.Role.User);
        _bootstrap(Kind.Expel, 6, abi.encodeCall(IInstitutionRegistry.expelInstitution, (6)));
        _bootstrap(Kind.Suspend, 7, abi.encodeCall(IInstitutionRegistry.suspendInstitution, (7)));
    }

    /// Proposes `data` from founder 1, has every active institution approve and executes it.
    function _bootstrap(Kind kind, uint64 subject, bytes memory data) internal {
        Ghost memory g;
        g.kind = kind;
        g.subject = subject;
        g.data = data;
        uint256 id = _propose(_admins[1][0], 1, g);
        uint64 count = reg.institutionCount();
        for (
            uint64 i = 1;
            i <= count && reg.proposalState(id) == IInstitutionRegistry.ProposalState.Pending;
            ++i
        ) {
            if (reg.isActive(i)) {
                _vote(_admins[i][0], i, id, true);
            }
        }
        require(_execute(id, data), "bootstrap proposal failed");
    }

    // ================================================================ actions

    /// Proposes a random governance action from a random institution's account.
    function propose(uint256 actorSeed, uint256 kindSeed, uint256 argSeed) external {
        argSeed = _mix(argSeed);
        kindSeed = _mix(kindSeed);
        (address who, uint64 inst) = _actor(actorSeed);
        // Weights: admit, suspend, expel, reinstate 2 each; threshold, voting period 1 each.
        Kind[10] memory kinds = [
            Kind.Admit,
            Kind.Admit,
            Kind.Suspend,
            Kind.Suspend,
            Kind.Expel,
            Kind.Expel,
            Kind.Reinstate,
            Kind.Reinstate,
            Kind.Threshold,
            Kind.VotingPeriod
        ];
        Kind kind = kinds[kindSeed % kinds.length];
        uint64 count = reg.institutionCount();
        // Reinstating needs a suspended institution: without one, propose a suspension instead; with one,
        // every other suspension proposal becomes a reinstatement.
        bool anySuspended = _anySuspended();
        if (kind == Kind.Reinstate && !anySuspended) kind = Kind.Suspend;
        else if (kind == Kind.Suspend && anySuspended && (kindSeed >> 8) % 2 == 0) kind = Kind.Reinstate;
        Ghost memory g;
        g.kind = kind;
        if (kind == Kind.Admit) {
            // Mostly a fresh admin; now and then an account already taken (execution then fails).
            g.newAdmin =
                argSeed % 10 == 0 ? _admins[uint64(_bound(argSeed >> 8, 1, count))][0] : _freshAccount();
            g.data = abi.encodeCall(
                IInstitutionRegistry.admitInstitution,
                (
                    string.concat("Inst ", vm.toString(_nextAccount)),
                    keccak256(abi.encode(argSeed)),
                    g.newAdmin
                )
            );
        } else if (kind == Kind.Threshold) {
            // Valid: strictly above one half, at most one. 1/2 and 1/3 are refused at execution.
            uint16[2][8] memory fractions = [
                [uint16(1), 2],
                [uint16(2), 3],
                [uint16(3), 4],
                [uint16(3), 5],
                [uint16(51), 100],
                [uint16(4), 5],
                [uint16(1), 1],
                [uint16(1), 3]
            ];
            uint16[2] memory f = fractions[argSeed % fractions.length];
            g.data = abi.encodeCall(IInstitutionRegistry.setThreshold, (f[0], f[1]));
        } else if (kind == Kind.VotingPeriod) {
            uint64[5] memory periods = [uint64(1 hours), 12 hours, 1 days, 2 days, 30];
            g.data = abi.encodeCall(IInstitutionRegistry.setVotingPeriod, (periods[argSeed % periods.length]));
        } else {
            // Mostly an institution whose status allows the transition; now and then any id, unknown ones
            // included (execution then fails).
            g.subject = argSeed % 8 == 0
                ? uint64(_bound(argSeed >> 8, 1, count + 1))
                : _subjectFor(kind, argSeed >> 8);
            if (kind == Kind.Suspend) {
                g.data = abi.encodeCall(IInstitutionRegistry.suspendInstitution, (g.subject));
            } else if (kind == Kind.Expel) {
                g.data = abi.encodeCall(IInstitutionRegistry.expelInstitution, (g.subject));
            } else {
                g.data = abi.encodeCall(IInstitutionRegistry.reinstateInstitution, (g.subject));
            }
        }
        _propose(who, inst, g);
    }

    /// One vote from a random institution's account on one of the latest proposals.
    function vote(uint256 actorSeed, uint256 proposalSeed, uint256 approveSeed) external {
        proposalSeed = _mix(proposalSeed);
        approveSeed = _mix(approveSeed);
        (address who, uint64 inst) = _actor(actorSeed);
        uint256 id = _recentProposal(proposalSeed);
        if (id == 0) return;
        _vote(who, inst, id, approveSeed % 5 != 0);
    }

    /// Most institutions (any status) vote on one of the latest proposals, mostly in favour: this is what
    /// gets proposals passed within a run's depth.
    function rally(uint256 proposalSeed, uint256 mask) external {
        proposalSeed = _mix(proposalSeed);
        mask = _mix(mask);
        uint256 id = _latestPending();
        if (id == 0 || proposalSeed % 4 == 0) id = _recentProposal(proposalSeed >> 2);
        if (id == 0) return;
        uint64 count = reg.institutionCount();
        for (uint64 i = 1; i <= count && i < 64; ++i) {
            uint256 bits = (mask >> (4 * i)) & 0xf;
            if (bits < 3) continue; // abstains
            _vote(_admins[i][bits % _admins[i].length], i, id, bits >= 4);
        }
    }

    /// Withdraws any proposal, now and then from the proposer's own admin.
    function withdraw(uint256 actorSeed, uint256 proposalSeed) external {
        actorSeed = _mix(actorSeed);
        proposalSeed = _mix(proposalSeed);
        uint256 count = reg.proposalCount();
        if (count == 0) return;
        uint256 id = _bound(proposalSeed, 1, count);
        (address who, uint64 inst) = _actor(actorSeed);
        if (actorSeed % 8 == 0) {
            inst = reg.proposal(id).proposer;
            who = _admins[inst][(actorSeed >> 8) % _admins[inst].length];
        }
        (bool expelled, bytes32 before) = _pre(inst, address(0), id);
        vm.prank(who);
        try reg.withdraw(id) {
            _post(expelled, before, inst, address(0), id, true);
            hits["withdrawn"] += 1;
        } catch {
            _post(expelled, before, inst, address(0), id, false);
        }
    }

    /// Executes a passed proposal with the data it was created with (trying the passed ones from a random
    /// one on until one succeeds); now and then any proposal, or with other data. The caller is a non-member.
    function execute(uint256 proposalSeed) external {
        proposalSeed = _mix(proposalSeed);
        bool wrongData = proposalSeed % 16 == 0;
        uint256 count = reg.proposalCount();
        if (count == 0) return;
        if (wrongData || proposalSeed % 16 == 1) {
            uint256 any = _bound(proposalSeed >> 8, 1, count);
            bytes memory data = _ghosts[any].data;
            _execute(any, wrongData ? bytes.concat(data, hex"00") : data);
            return;
        }
        for (uint256 k; k < count; ++k) {
            uint256 id = ((proposalSeed >> 8) + k) % count + 1;
            if (reg.proposalState(id) != IInstitutionRegistry.ProposalState.Passed) continue;
            if (_execute(id, _ghosts[id].data)) return;
        }
    }

    function warp(uint256 secondsSeed) external {
        secondsSeed = _mix(secondsSeed);
        // Mostly within a voting period; now and then far enough to expire proposals and windows.
        uint256 max = secondsSeed % 16 == 0 ? 3 days : 6 hours;
        vm.warp(block.timestamp + _bound(secondsSeed >> 3, 0, max));
    }

    /// Adds an account (mostly fresh; sometimes taken or zero) with a random role (None included).
    function addAccount(uint256 actorSeed, uint256 roleSeed, uint256 accountSeed) external {
        roleSeed = _mix(roleSeed);
        accountSeed = _mix(accountSeed);
        (address who, uint64 inst) = _actor(actorSeed);
        IInstitutionRegistry.Role role = IInstitutionRegistry.Role(roleSeed % 4);
        address account;
        if (accountSeed % 16 == 0) {
            account = address(0);
        } else if (accountSeed % 8 == 1) {
            uint64 other = uint64(_bound(accountSeed >> 8, 1, reg.institutionCount()));
            account = _admins[other][0];
        } else {
            account = _freshAccount();
        }
        _addAccount(who, inst, account, role);
    }

    /// Removes one of the caller institution's accounts (sometimes another institution's).
    function removeAccount(uint256 actorSeed, uint256 targetSeed) external {
        targetSeed = _mix(targetSeed);
        (address who, uint64 inst) = _actor(actorSeed);
        uint64 owner = targetSeed % 8 == 0 ? uint64(_bound(targetSeed >> 8, 1, reg.institutionCount())) : inst;
        address[] storage admins = _admins[owner];
        address[] storage relayers = _relayers[owner];
        address[] storage users = _users[owner];
        uint256 index = (targetSeed >> 16) % (admins.length + relayers.length + users.length);
        address[] storage book = admins;
        if (index >= admins.length) {
            index -= admins.length;
            book = relayers;
            if (index >= relayers.length) {
                index -= relayers.length;
                book = users;
            }
        }
        address account = book[index];
        (bool expelled, bytes32 before) = _pre(inst, account, 0);
        vm.prank(who);
        try reg.removeAccount(account) {
            _post(expelled, before, inst, account, 0, true);
            book[index] = book[book.length - 1];
            book.pop();
            hits["accountRemoved"] += 1;
        } catch {
            _post(expelled, before, inst, account, 0, false);
        }
    }

    // ================================================================ views for the invariants

    function executedCount() external view returns (uint256) {
        return _executed.length;
    }

    function executedAt(uint256 index) external view returns (ExecutedRecord memory) {
        return _executed[index];
    }

    function ghost(uint256 proposalId) external view returns (Ghost memory) {
        return _ghosts[proposalId];
    }

    function accountsOf(uint64 institutionId)
        external
        view
        returns (address[] memory admins, address[] memory relayers, address[] memory users)
    {
        return (_admins[institutionId], _relayers[institutionId], _users[institutionId]);
    }

    // ================================================================ internals

    function _propose(address who, uint64 inst, Ghost memory g) internal returns (uint256 id) {
        (g.num, g.den) = reg.threshold();
        (g.electorate, g.electorateMask) = _activeSet();
        if (g.kind == Kind.Suspend || g.kind == Kind.Expel) {
            // The target has no vote on its own suspension or expulsion.
            g.excluded = g.subject;
            if ((g.electorateMask >> g.subject) & 1 == 1) {
                g.electorate -= 1;
                g.electorateMask &= ~(uint256(1) << g.subject);
            }
        }
        (bool expelled, bytes32 before) = _pre(inst, address(0), 0);
        vm.prank(who);
        try reg.propose(address(reg), g.data, "invariant") returns (uint256 created) {
            id = created;
            _ghosts[id] = g;
            _post(expelled, before, inst, address(0), 0, true);
            hits["proposed"] += 1;
        } catch {
            _post(expelled, before, inst, address(0), 0, false);
        }
    }

    function _execute(uint256 id, bytes memory data) internal returns (bool ok) {
        Ghost storage g = _ghosts[id];
        IInstitutionRegistry.Proposal memory p = reg.proposal(id);
        vm.prank(EXECUTOR);
        try reg.execute(id, data) {
            ok = true;
        } catch {
            hits["executeRefused"] += 1;
            return false;
        }
        _executed.push(
            ExecutedRecord({
                proposalId: id,
                approvals: p.approvals,
                electorate: p.electorate,
                required: p.required,
                num: g.num,
                den: g.den
            })
        );
        hits["executed"] += 1;
        if (g.kind == Kind.Admit) {
            _admins[reg.institutionCount()].push(g.newAdmin);
            hits["admitted"] += 1;
        } else if (g.kind == Kind.Expel) {
            ghostExpelled[g.subject] = true;
            _expelledIds.push(g.subject);
            hits["expelled"] += 1;
        } else if (g.kind == Kind.Suspend) {
            hits["suspended"] += 1;
        } else if (g.kind == Kind.Reinstate) {
            hits["reinstated"] += 1;
        } else if (g.kind == Kind.Threshold) {
            hits["thresholdChanged"] += 1;
        } else {
            hits["periodChanged"] += 1;
        }
    }

    function _addAccount(address who, uint64 inst, address account, IInstitutionRegistry.Role role) internal {
        (bool expelled, bytes32 before) = _pre(inst, account, 0);
        vm.prank(who);
        try reg.addAccount(account, role) {
            _post(expelled, before, inst, account, 0, true);
            _book(inst, role).push(account);
            hits["accountAdded"] += 1;
        } catch {
            _post(expelled, before, inst, account, 0, false);
        }
    }

    function _vote(address who, uint64 inst, uint256 id, bool approve) internal {
        (bool expelled, bytes32 before) = _pre(inst, address(0), id);
        bool excluded = inst == _ghosts[id].excluded;
        if (excluded) ghostExcludedVoteAttempts += 1;
        vm.prank(who);
        try reg.vote(id, approve) {
            _post(expelled, before, inst, address(0), id, true);
            if (excluded) ghostExcludedVoteSuccesses += 1;
            Ghost storage g = _ghosts[id];
            if (approve) g.approvals += 1;
            else g.rejections += 1;
            g.voterMask |= uint256(1) << inst;
            hits["voted"] += 1;
            IInstitutionRegistry.ProposalState state = reg.proposalState(id);
            if (state == IInstitutionRegistry.ProposalState.Passed) hits["passed"] += 1;
            if (state == IInstitutionRegistry.ProposalState.Rejected) hits["rejected"] += 1;
        } catch {
            _post(expelled, before, inst, address(0), id, false);
        }
    }

    /// A random institution and one of its accounts: mostly an admin, sometimes a relayer.
    function _actor(uint256 seed) internal view returns (address who, uint64 inst) {
        uint256 sub = _mix(seed);
        if (_expelledIds.length != 0 && (sub >> 64) % 4 == 0) {
            inst = _expelledIds[(sub >> 72) % _expelledIds.length];
        } else {
            inst = uint64(_bound(seed, 1, reg.institutionCount()));
        }
        address[] storage relayers = _relayers[inst];
        if (relayers.length != 0 && sub % 6 == 0) return (relayers[(sub >> 8) % relayers.length], inst);
        address[] storage admins = _admins[inst];
        who = admins[(sub >> 8) % admins.length];
    }

    /// One of the four latest proposals, or 0 when there is none.
    function _recentProposal(uint256 seed) internal view returns (uint256) {
        uint256 count = reg.proposalCount();
        if (count == 0) return 0;
        uint256 window = count < 4 ? count : 4;
        return count - (seed % window);
    }

    function _anySuspended() internal view returns (bool) {
        uint64 count = reg.institutionCount();
        for (uint64 i = 1; i <= count; ++i) {
            if (reg.institution(i).status == IInstitutionRegistry.InstitutionStatus.Suspended) return true;
        }
        return false;
    }

    /// The newest proposal still open for votes, or 0.
    function _latestPending() internal view returns (uint256) {
        for (uint256 id = reg.proposalCount(); id != 0; --id) {
            if (reg.proposalState(id) == IInstitutionRegistry.ProposalState.Pending) return id;
        }
        return 0;
    }

    /// A random institution whose status allows `kind` (Active for suspend; Active or Suspended for expel;
    /// Suspended for reinstate), or a random id when there is none.
    function _subjectFor(Kind kind, uint256 seed) internal view returns (uint64) {
        uint64 count = reg.institutionCount();
        uint64 start = uint64(seed % count);
        for (uint64 k; k < count; ++k) {
            uint64 id = (start + k) % count + 1;
            IInstitutionRegistry.InstitutionStatus status = reg.institution(id).status;
            bool fits = kind == Kind.Reinstate
                ? status == IInstitutionRegistry.InstitutionStatus.Suspended
                : status == IInstitutionRegistry.InstitutionStatus.Active
                    || (kind == Kind.Expel && status == IInstitutionRegistry.InstitutionStatus.Suspended);
            if (fits) return id;
        }
        return start + 1;
    }

    function _activeSet() internal view returns (uint16 n, uint256 mask) {
        uint64 count = reg.institutionCount();
        for (uint64 i = 1; i <= count; ++i) {
            if (reg.isActive(i)) {
                n += 1;
                mask |= uint256(1) << i;
            }
        }
    }

    function _book(uint64 inst, IInstitutionRegistry.Role role) internal view returns (address[] storage) {
        if (role == IInstitutionRegistry.Role.Admin) return _admins[inst];
        if (role == IInstitutionRegistry.Role.Relayer) return _relayers[inst];
        return _users[inst];
    }

    function _freshAccount() internal returns (address) {
        return address(uint160(0xACC00000 + ++_nextAccount));
    }

    /// Before a call by an account of `inst`: whether `inst` is expelled, and if so a digest of the state.
    function _pre(uint64 inst, address account, uint256 proposalId) internal view returns (bool, bytes32) {
        if (reg.institution(inst).status != IInstitutionRegistry.InstitutionStatus.Expelled) {
            return (false, 0);
        }
        return (true, _digest(inst, account, proposalId));
    }

    function _post(bool expelled, bytes32 before, uint64 inst, address account, uint256 proposalId, bool ok)
        internal
    {
        if (!expelled) return;
        ghostExpelledCalls += 1;
        if (ok) ghostExpelledCallSuccesses += 1;
        if (_digest(inst, account, proposalId) != before) ghostExpelledStateChanges += 1;
    }

    /// Everything a call by an account of `inst` could touch: the global counters and settings, every
    /// institution, every proposal, the caller institution's votes, every vote on `proposalId`, the
    /// caller institution's accounts and `account`.
    function _digest(uint64 inst, address account, uint256 proposalId) internal view returns (bytes32 h) {
        uint64 count = reg.institutionCount();
        uint256 proposals = reg.proposalCount();
        (uint16 num, uint16 den) = reg.threshold();
        h = keccak256(
            abi.encode(count, reg.activeCount(), reg.epoch(), proposals, num, den, reg.votingPeriod())
        );
        for (uint64 i = 1; i <= count; ++i) {
            h = keccak256(abi.encode(h, reg.institution(i), reg.hasVoted(proposalId, i)));
        }
        for (uint256 p = 1; p <= proposals; ++p) {
            h = keccak256(abi.encode(h, reg.proposal(p), reg.proposalState(p), reg.hasVoted(p, inst)));
        }
        h = _digestAccounts(h, _admins[inst]);
        h = _digestAccounts(h, _relayers[inst]);
        h = _digestAccounts(h, _users[inst]);
        (uint64 owner, IInstitutionRegistry.Role role) = reg.accountOf(account);
        h = keccak256(abi.encode(h, owner, role));
    }

    function _digestAccounts(bytes32 h, address[] storage accounts) internal view returns (bytes32) {
        for (uint256 k; k < accounts.length; ++k) {
            (uint64 owner, IInstitutionRegistry.Role role) = reg.accountOf(accounts[k]);
            h = keccak256(abi.encode(h, owner, role));
        }
        return h;
    }

    /// Spreads a fuzzed seed (often small or repetitive) over all bits before sub-seeds are cut from it.
    function _mix(uint256 seed) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed)));
    }

    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        return min + (x % (max - min + 1));
    }
}
