// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "./utils/Test.sol";
import {InstitutionRegistry} from "../src/governance/InstitutionRegistry.sol";
import {IInstitutionRegistry} from "../src/interfaces/IInstitutionRegistry.sol";

/// @dev A non-registry proposal target: records who called it, or reverts on demand.
contract InstRegTestTarget {
    address public lastCaller;
    uint256 public lastValue;

    function record(uint256 value) external {
        lastCaller = msg.sender;
        lastValue = value;
    }

    function failWithReason() external pure {
        revert("target: refused");
    }

    function failEmpty() external pure {
        revert();
    }
}

contract InstitutionRegistryTest is Test {
    // ---------------------------------------------------------------- shorthands

    IInstitutionRegistry.InstitutionStatus internal constant S_NONE =
    IInstitutionRegistry.InstitutionStatus.None;
    IInstitutionRegistry.InstitutionStatus internal constant S_ACTIVE =
    IInstitutionRegistry.InstitutionStatus.Active;
    IInstitutionRegistry.InstitutionStatus internal constant S_SUSPENDED =
    IInstitutionRegistry.InstitutionStatus.Suspended;
    IInstitutionRegistry.InstitutionStatus internal constant S_EXPELLED =
    IInstitutionRegistry.InstitutionStatus.Expelled;

    IInstitutionRegistry.Role internal constant R_NONE = IInstitutionRegistry.Role.None;
    IInstitutionRegistry.Role internal constant R_ADMIN = IInstitutionRegistry.Role.Admin;
    IInstitutionRegistry.Role internal constant R_RELAYER = IInstitutionRegistry.Role.Relayer;
    IInstitutionRegistry.Role internal constant R_USER = IInstitutionRegistry.Role.User;

    IInstitutionRegistry.ProposalState internal constant P_NONE = IInstitutionRegistry.ProposalState.None;
    IInstitutionRegistry.ProposalState internal constant P_PENDING =
    IInstitutionRegistry.ProposalState.Pending;
    IInstitutionRegistry.ProposalState internal constant P_PASSED = IInstitutionRegistry.ProposalState.Passed;
    IInstitutionRegistry.ProposalState internal constant P_REJECTED =
    IInstitutionRegistry.ProposalState.Rejected;
    IInstitutionRegistry.ProposalState internal constant P_WITHDRAWN =
    IInstitutionRegistry.ProposalState.Withdrawn;
    IInstitutionRegistry.ProposalState internal constant P_EXECUTED =
    IInstitutionRegistry.ProposalState.Executed;
    IInstitutionRegistry.ProposalState internal constant P_EXPIRED =
    IInstitutionRegistry.ProposalState.Expired;

    uint64 internal constant PERIOD = 3 days;
    uint256 internal constant T0 = 1_700_000_000;

    address internal constant STRANGER = address(0x5700000000000000000000000000000000000001);
    address internal constant RELAYER = address(0x5700000000000000000000000000000000000002);
    address internal constant USER = address(0x5700000000000000000000000000000000000003);
    address internal constant ADMIN2 = address(0x5700000000000000000000000000000000000004);
    address internal constant NEW_ADMIN = address(0x5700000000000000000000000000000000000005);
    address internal constant OTHER = address(0x5700000000000000000000000000000000000006);

    InstitutionRegistry internal reg;
    InstRegTestTarget internal target;
    mapping(uint64 institutionId => address admin) internal adminOf;
    address[] internal tracked;

    function setUp() public {
        vm.warp(T0);
        for (uint64 i = 1; i <= 40; ++i) {
            adminOf[i] = _founderAdmin(i);
            if (i <= 7) tracked.push(_founderAdmin(i));
        }
        tracked.push(STRANGER);
        tracked.push(RELAYER);
        tracked.push(USER);
        tracked.push(ADMIN2);
        tracked.push(NEW_ADMIN);
        tracked.push(OTHER);
        reg = _deploy(5, 2, 3);
        target = new InstRegTestTarget();
    }

    // ---------------------------------------------------------------- fixtures

    function _founderAdmin(uint256 i) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode("founder-admin", i)))));
    }

    function _name(uint256 i) internal pure returns (string memory) {
        return string.concat("Institution ", vm.toString(i));
    }

    function _cert(uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encode("cert", i));
    }

    function _founders(uint256 n) internal pure returns (IInstitutionRegistry.Founder[] memory f) {
        f = new IInstitutionRegistry.Founder[](n);
        for (uint256 i; i < n; ++i) {
            f[i] = IInstitutionRegistry.Founder({
                name: _name(i + 1), certHash: _cert(i + 1), admin: _founderAdmin(i + 1)
            });
        }
    }

    function _deploy(uint256 n, uint16 num, uint16 den) internal returns (InstitutionRegistry) {
        return new InstitutionRegistry(_founders(n), num, den, PERIOD);
    }

    function _admitData(string memory name, bytes32 cert, address admin)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeCall(IInstitutionRegistry.admitInstitution, (name, cert, admin));
    }

    function _suspendData(uint64 id) internal pure returns (bytes memory) {
        return abi.encodeCall(IInstitutionRegistry.suspendInstitution, (id));
    }

    function _expelData(uint64 id) internal pure returns (bytes memory) {
        return abi.encodeCall(IInstitutionRegistry.expelInstitution, (id));
    }

    function _reinstateData(uint64 id) internal pure returns (bytes memory) {
        return abi.encodeCall(IInstitutionRegistry.reinstateInstitution, (id));
    }

    function _thresholdData(uint16 num, uint16 den) internal pure returns (bytes memory) {
        return abi.encodeCall(IInstitutionRegistry.setThreshold, (num, den));
    }

    function _periodData(uint64 period) internal pure returns (bytes memory) {
        return abi.encodeCall(IInstitutionRegistry.setVotingPeriod, (period));
    }

    function _firstActive() internal view returns (uint64) {
        uint64 n = reg.institutionCount();
        for (uint64 i = 1; i <= n; ++i) {
            if (reg.isActive(i)) return i;
        }
        revert("no active institution");
    }

    function _proposeBy(uint64 inst, address to, bytes memory data) internal returns (uint256 id) {
        vm.prank(adminOf[inst]);
        id = reg.propose(to, data, "test proposal");
    }

    function _propose(bytes memory data) internal returns (uint256) {
        return _proposeBy(_firstActive(), address(reg), data);
    }

    function _voteBy(uint64 inst, uint256 id, bool approve) internal {
        vm.prank(adminOf[inst]);
        reg.vote(id, approve);
    }

    /// @dev Every eligible institution that has not voted approves, in id order, until the proposal passes.
    /// The institution a suspension or expulsion targets is not eligible.
    function _approveUntilPassed(uint256 id) internal {
        uint32 proposalEpoch = reg.proposal(id).epoch;
        uint64 excluded = reg.proposal(id).excluded;
        uint64 n = reg.institutionCount();
        for (uint64 i = 1; i <= n && reg.proposalState(id) == P_PENDING; ++i) {
            IInstitutionRegistry.Institution memory inst = reg.institution(i);
            if (
                inst.status != S_ACTIVE || inst.activeSinceEpoch > proposalEpoch || reg.hasVoted(id, i)
                    || i == excluded
            ) {
                continue;
            }
            _voteBy(i, id, true);
        }
        _assertState(id, P_PASSED);
    }

    /// @dev Proposes `data` to the registry and votes it through (not executed).
    function _pass(bytes memory data) internal returns (uint256 id) {
        id = _propose(data);
        _approveUntilPassed(id);
    }

    /// @dev Proposes, passes and executes `data` on the registry.
    function _exec(bytes memory data) internal returns (uint256 id) {
        id = _pass(data);
        reg.execute(id, data);
        _assertState(id, P_EXECUTED);
    }

    function _admit(string memory name, address admin) internal returns (uint64 id) {
        _exec(_admitData(name, keccak256(bytes(name)), admin));
        id = reg.institutionCount();
        adminOf[id] = admin;
    }

    function _suspend(uint64 id) internal {
        _exec(_suspendData(id));
    }

    function _expel(uint64 id) internal {
        _exec(_expelData(id));
    }

    function _reinstate(uint64 id) internal {
        _exec(_reinstateData(id));
    }

    function _addAccount(uint64 inst, address account, IInstitutionRegistry.Role role) internal {
        vm.prank(adminOf[inst]);
        reg.addAccount(account, role);
    }

    function _assertState(uint256 id, IInstitutionRegistry.ProposalState expected) internal view {
        assertEq(uint256(reg.proposalState(id)), uint256(expected), "proposal state");
    }

    function _assertStatus(uint64 id, IInstitutionRegistry.InstitutionStatus expected) internal view {
        assertEq(uint256(reg.institution(id).status), uint256(expected), "institution status");
    }

    function _assertAccount(address account, uint64 expectedId, IInstitutionRegistry.Role expectedRole)
        internal
        view
    {
        (uint64 id, IInstitutionRegistry.Role role) = reg.accountOf(account);
        assertEq(uint256(id), uint256(expectedId), "accountOf id");
        assertEq(uint256(role), uint256(expectedRole), "accountOf role");
    }

    /// @dev A digest of every registry view over all institutions, proposals (plus one past each end), the
    /// votes on them and the tracked accounts: revert tests compare it before and after.
    function _snap() internal view returns (bytes32 h) {
        (uint16 num, uint16 den) = reg.threshold();
        uint64 ic = reg.institutionCount();
        uint256 pc = reg.proposalCount();
        h = keccak256(abi.encode(ic, reg.activeCount(), reg.epoch(), pc, num, den, reg.votingPeriod()));
        for (uint64 i = 0; i <= ic + 1; ++i) {
            h = keccak256(abi.encode(h, reg.institution(i), reg.isActive(i)));
        }
        for (uint256 p = 0; p <= pc + 1; ++p) {
            h = keccak256(abi.encode(h, reg.proposal(p), reg.proposalState(p)));
            for (uint64 i = 1; i <= ic; ++i) {
                h = keccak256(abi.encode(h, reg.hasVoted(p, i)));
            }
        }
        for (uint256 k; k < tracked.length; ++k) {
            (uint64 id, IInstitutionRegistry.Role role) = reg.accountOf(tracked[k]);
            h = keccak256(abi.encode(h, id, role, reg.activeInstitutionOf(tracked[k], role)));
        }
    }

    function _expectEmit() internal {
        vm.expectEmit(true, true, true, true, address(reg));
    }

    // ================================================================ constructor

    function test_constructor_admitsFounders() public view {
        assertEq(uint256(reg.institutionCount()), 5, "institutionCount");
        assertEq(uint256(reg.activeCount()), 5, "activeCount");
        assertEq(uint256(reg.epoch()), 5, "epoch");
        assertEq(reg.proposalCount(), 0, "proposalCount");
        (uint16 num, uint16 den) = reg.threshold();
        assertEq(uint256(num), 2, "num");
        assertEq(uint256(den), 3, "den");
        assertEq(uint256(reg.votingPeriod()), PERIOD, "votingPeriod");
        for (uint64 i = 1; i <= 5; ++i) {
            IInstitutionRegistry.Institution memory inst = reg.institution(i);
            assertEq(inst.name, _name(i), "name");
            assertEq(inst.certHash, _cert(i), "certHash");
            assertEq(uint256(inst.status), uint256(S_ACTIVE), "status");
            assertEq(uint256(inst.activeSinceEpoch), i, "activeSinceEpoch");
            assertEq(uint256(inst.adminCount), 1, "adminCount");
            assertTrue(reg.isActive(i), "isActive");
            _assertAccount(_founderAdmin(i), i, R_ADMIN);
            assertEq(uint256(reg.activeInstitutionOf(_founderAdmin(i), R_ADMIN)), i, "activeInstitutionOf");
        }
        assertFalse(reg.isActive(6), "no sixth");
    }

    function test_constructor_emitsEvents() public {
        IInstitutionRegistry.Founder[] memory f = _founders(2);
        vm.expectEmit(true, true, true, true);
        emit IInstitutionRegistry.ThresholdChanged(2, 3);
        vm.expectEmit(true, true, true, true);
        emit IInstitutionRegistry.VotingPeriodChanged(PERIOD);
        for (uint64 i = 1; i <= 2; ++i) {
            vm.expectEmit(true, true, true, true);
            emit IInstitutionRegistry.InstitutionAdmitted(i, _name(i), _cert(i), _founderAdmin(i));
            vm.expectEmit(true, true, true, true);
            emit IInstitutionRegistry.AccountAdded(i, _founderAdmin(i), R_ADMIN);
        }
        new InstitutionRegistry(f, 2, 3, PERIOD);
    }

    function test_constructor_acceptsMaxFounders() public {
        InstitutionRegistry r = _deploy(32, 2, 3);
        assertEq(uint256(r.institutionCount()), 32, "count");
        assertEq(uint256(r.activeCount()), 32, "active");
        assertEq(uint256(r.epoch()), 32, "epoch");
    }

    function test_constructor_revertsWhenNoFounders() public {
        IInstitutionRegistry.Founder[] memory f = new IInstitutionRegistry.Founder[](0);
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstBadFounderCount.selector, uint256(0)));
        InstitutionRegistry r = new InstitutionRegistry(f, 2, 3, PERIOD);
        assertEq(address(r).code.length, 0, "nothing deployed");
    }

    function test_constructor_revertsWhenTooManyFounders() public {
        IInstitutionRegistry.Founder[] memory f = _founders(33);
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.InstBadFounderCount.selector, uint256(33))
        );
        InstitutionRegistry r = new InstitutionRegistry(f, 2, 3, PERIOD);
        assertEq(address(r).code.length, 0, "nothing deployed");
    }

    function test_constructor_revertsWhenBadThreshold() public {
        uint16[2][10] memory bad = [
            [uint16(1), uint16(3)], // below one half
            [uint16(1), uint16(2)], // exactly one half: both halves of an even council could pass
            [uint16(500), uint16(1000)], // one half again
            [uint16(4), uint16(3)], // above one
            [uint16(1001), uint16(1000)], // above one
            [uint16(0), uint16(0)], // zero denominator
            [uint16(1), uint16(0)], // zero denominator
            [uint16(0), uint16(1)], // zero numerator
            [uint16(600), uint16(1001)], // denominator above 1000
            [uint16(1001), uint16(1001)] // unanimity, but the denominator is above 1000
        ];
        IInstitutionRegistry.Founder[] memory f = _founders(3);
        for (uint256 k; k < bad.length; ++k) {
            vm.expectRevert(
                abi.encodeWithSelector(IInstitutionRegistry.GovBadThreshold.selector, bad[k][0], bad[k][1])
            );
            InstitutionRegistry r = new InstitutionRegistry(f, bad[k][0], bad[k][1], PERIOD);
            assertEq(address(r).code.length, 0, "nothing deployed");
        }
    }

    function test_constructor_acceptsThresholdBounds() public {
        IInstitutionRegistry.Founder[] memory f = _founders(3);
        uint16[2][6] memory good = [
            [uint16(51), uint16(100)], // just above one half
            [uint16(501), uint16(1000)], // the least above one half at the largest denominator
            [uint16(2), uint16(3)], // the deployer's default
            [uint16(1), uint16(1)], // unanimity
            [uint16(1000), uint16(1000)], // unanimity at the largest denominator
            [uint16(999), uint16(1000)]
        ];
        for (uint256 k; k < good.length; ++k) {
            InstitutionRegistry r = new InstitutionRegistry(f, good[k][0], good[k][1], PERIOD);
            (uint16 num, uint16 den) = r.threshold();
            assertEq(uint256(num), good[k][0], "num");
            assertEq(uint256(den), good[k][1], "den");
        }
    }

    function test_constructor_revertsWhenBadVotingPeriod() public {
        IInstitutionRegistry.Founder[] memory f = _founders(3);
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.GovBadVotingPeriod.selector, uint64(59)));
        InstitutionRegistry r = new InstitutionRegistry(f, 2, 3, 59);
        assertEq(address(r).code.length, 0, "nothing deployed (short)");
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.GovBadVotingPeriod.selector, uint64(365 days + 1))
        );
        r = new InstitutionRegistry(f, 2, 3, 365 days + 1);
        assertEq(address(r).code.length, 0, "nothing deployed (long)");
        // The bounds themselves are accepted.
        assertEq(uint256(new InstitutionRegistry(f, 2, 3, 60).votingPeriod()), 60, "min");
        assertEq(uint256(new InstitutionRegistry(f, 2, 3, 365 days).votingPeriod()), 365 days, "max");
    }

    function test_constructor_revertsWhenDuplicateAdmin() public {
        IInstitutionRegistry.Founder[] memory f = _founders(3);
        f[2].admin = f[0].admin;
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.InstAccountTaken.selector, f[0].admin, uint64(1))
        );
        InstitutionRegistry r = new InstitutionRegistry(f, 2, 3, PERIOD);
        assertEq(address(r).code.length, 0, "nothing deployed");
    }

    function test_constructor_revertsWhenZeroAdmin() public {
        IInstitutionRegistry.Founder[] memory f = _founders(3);
        f[1].admin = address(0);
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstZeroAddress.selector));
        InstitutionRegistry r = new InstitutionRegistry(f, 2, 3, PERIOD);
        assertEq(address(r).code.length, 0, "nothing deployed");
    }

    function test_constructor_revertsWhenEmptyName() public {
        IInstitutionRegistry.Founder[] memory f = _founders(3);
        f[1].name = "";
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstBadName.selector));
        InstitutionRegistry r = new InstitutionRegistry(f, 2, 3, PERIOD);
        assertEq(address(r).code.length, 0, "nothing deployed");
    }

    function test_constructor_revertsWhenNameTooLong() public {
        IInstitutionRegistry.Founder[] memory f = _founders(3);
        f[2].name = string(new bytes(65));
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstBadName.selector));
        InstitutionRegistry r = new InstitutionRegistry(f, 2, 3, PERIOD);
        assertEq(address(r).code.length, 0, "nothing deployed");
    }

    function test_constructor_accepts64ByteName() public {
        IInstitutionRegistry.Founder[] memory f = _founders(1);
        f[0].name = "0123456789012345678901234567890123456789012345678901234567890123";
        InstitutionRegistry r = new InstitutionRegistry(f, 2, 3, PERIOD);
        assertEq(r.institution(1).name, f[0].name, "name");
    }

    function test_constants_values() public view {
        assertEq(reg.MAX_FOUNDERS(), 32, "MAX_FOUNDERS");
        assertEq(reg.MAX_NAME_LENGTH(), 64, "MAX_NAME_LENGTH");
        assertEq(uint256(reg.MIN_VOTING_PERIOD()), 60, "MIN_VOTING_PERIOD");
        assertEq(uint256(reg.MAX_VOTING_PERIOD()), 365 days, "MAX_VOTING_PERIOD");
        assertEq(uint256(reg.MAX_THRESHOLD_DENOMINATOR()), 1000, "MAX_THRESHOLD_DENOMINATOR");
    }

    // ================================================================ addAccount

    function test_addAccount_addsRelayer() public {
        uint256 epochBefore = reg.epoch();
        _expectEmit();
        emit IInstitutionRegistry.AccountAdded(2, RELAYER, R_RELAYER);
        _addAccount(2, RELAYER, R_RELAYER);
        _assertAccount(RELAYER, 2, R_RELAYER);
        assertEq(uint256(reg.activeInstitutionOf(RELAYER, R_RELAYER)), 2, "active relayer");
        assertEq(uint256(reg.institution(2).adminCount), 1, "adminCount unchanged");
        assertEq(uint256(reg.epoch()), epochBefore, "epoch unchanged");
    }

    function test_addAccount_addsUser() public {
        _expectEmit();
        emit IInstitutionRegistry.AccountAdded(3, USER, R_USER);
        _addAccount(3, USER, R_USER);
        _assertAccount(USER, 3, R_USER);
        assertEq(uint256(reg.activeInstitutionOf(USER, R_USER)), 3, "active user");
        assertEq(uint256(reg.institution(3).adminCount), 1, "adminCount unchanged");
    }

    function test_addAccount_addsAdminWhoCanAct() public {
        _expectEmit();
        emit IInstitutionRegistry.AccountAdded(1, ADMIN2, R_ADMIN);
        _addAccount(1, ADMIN2, R_ADMIN);
        _assertAccount(ADMIN2, 1, R_ADMIN);
        assertEq(uint256(reg.institution(1).adminCount), 2, "adminCount");
        // The new admin acts for institution 1.
        vm.prank(ADMIN2);
        uint256 id = reg.propose(address(reg), _periodData(1 days), "by second admin");
        assertEq(uint256(reg.proposal(id).proposer), 1, "proposer");
        vm.prank(ADMIN2);
        reg.vote(id, true);
        assertTrue(reg.hasVoted(id, 1), "voted for 1");
        // The first admin now votes for the same institution.
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalAlreadyVoted.selector, id, uint64(1))
        );
        _voteBy(1, id, true);
    }

    function test_addAccount_revertsWhenZeroAddress() public {
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstZeroAddress.selector));
        _addAccount(1, address(0), R_RELAYER);
        assertEq(_snap(), s, "state changed");
        _assertAccount(address(0), 0, R_NONE);
    }

    function test_addAccount_revertsWhenRoleNone() public {
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstBadRole.selector));
        _addAccount(1, RELAYER, R_NONE);
        assertEq(_snap(), s, "state changed");
        _assertAccount(RELAYER, 0, R_NONE);
    }

    function test_addAccount_revertsWhenAccountTakenByOtherInstitution() public {
        _addAccount(2, RELAYER, R_RELAYER);
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.InstAccountTaken.selector, RELAYER, uint64(2))
        );
        _addAccount(1, RELAYER, R_USER);
        assertEq(_snap(), s, "state changed");
        _assertAccount(RELAYER, 2, R_RELAYER);
    }

    function test_addAccount_revertsWhenAccountTakenBySameInstitution() public {
        _addAccount(1, USER, R_USER);
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.InstAccountTaken.selector, USER, uint64(1))
        );
        _addAccount(1, USER, R_ADMIN); // no role change by re-adding
        assertEq(_snap(), s, "state changed");
        _assertAccount(USER, 1, R_USER);
        assertEq(uint256(reg.institution(1).adminCount), 1, "adminCount");
    }

    function test_addAccount_revertsWhenAccountIsAnotherAdmin() public {
        address admin3 = adminOf[3];
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.InstAccountTaken.selector, admin3, uint64(3))
        );
        _addAccount(1, admin3, R_ADMIN);
        assertEq(_snap(), s, "state changed");
    }

    function test_addAccount_revertsWhenCallerNotAdmin() public {
        _addAccount(1, RELAYER, R_RELAYER);
        _addAccount(1, USER, R_USER);
        address[3] memory callers = [STRANGER, RELAYER, USER];
        for (uint256 k; k < callers.length; ++k) {
            bytes32 s = _snap();
            vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotAdmin.selector, callers[k]));
            vm.prank(callers[k]);
            reg.addAccount(OTHER, R_USER);
            assertEq(_snap(), s, "state changed");
            _assertAccount(OTHER, 0, R_NONE);
        }
    }

    function test_addAccount_revertsWhenInstitutionSuspended() public {
        _suspend(5);
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotAdmin.selector, adminOf[5]));
        _addAccount(5, RELAYER, R_RELAYER);
        assertEq(_snap(), s, "state changed");
        _assertAccount(RELAYER, 0, R_NONE);
    }

    function test_addAccount_revertsWhenInstitutionExpelled() public {
        _expel(5);
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotAdmin.selector, adminOf[5]));
        _addAccount(5, ADMIN2, R_ADMIN);
        assertEq(_snap(), s, "state changed");
        _assertAccount(ADMIN2, 0, R_NONE);
        assertEq(uint256(reg.institution(5).adminCount), 1, "adminCount");
    }

    // ================================================================ removeAccount

    function test_removeAccount_removesRelayer() public {
        _addAccount(2, RELAYER, R_RELAYER);
        _expectEmit();
        emit IInstitutionRegistry.AccountRemoved(2, RELAYER, R_RELAYER);
        vm.prank(adminOf[2]);
        reg.removeAccount(RELAYER);
        _assertAccount(RELAYER, 0, R_NONE);
        assertEq(uint256(reg.activeInstitutionOf(RELAYER, R_RELAYER)), 0, "no longer relayer");
    }

    function test_removeAccount_removesUser() public {
        _addAccount(2, USER, R_USER);
        _expectEmit();
        emit IInstitutionRegistry.AccountRemoved(2, USER, R_USER);
        vm.prank(adminOf[2]);
        reg.removeAccount(USER);
        _assertAccount(USER, 0, R_NONE);
    }

    function test_removeAccount_removesAdmin() public {
        _addAccount(2, ADMIN2, R_ADMIN);
        assertEq(uint256(reg.institution(2).adminCount), 2, "adminCount before");
        _expectEmit();
        emit IInstitutionRegistry.AccountRemoved(2, ADMIN2, R_ADMIN);
        vm.prank(adminOf[2]);
        reg.removeAccount(ADMIN2);
        _assertAccount(ADMIN2, 0, R_NONE);
        assertEq(uint256(reg.institution(2).adminCount), 1, "adminCount after");
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotAdmin.selector, ADMIN2));
        vm.prank(ADMIN2);
        reg.addAccount(USER, R_USER);
    }

    function test_removeAccount_allowsSelfRemovalWhenAnotherAdminRemains() public {
        _addAccount(2, ADMIN2, R_ADMIN);
        address founder = adminOf[2];
        _expectEmit();
        emit IInstitutionRegistry.AccountRemoved(2, founder, R_ADMIN);
        vm.prank(founder);
        reg.removeAccount(founder);
        _assertAccount(founder, 0, R_NONE);
        assertEq(uint256(reg.institution(2).adminCount), 1, "adminCount");
    }

    function test_removeAccount_freesAccountForAnotherInstitution() public {
        _addAccount(2, RELAYER, R_RELAYER);
        vm.prank(adminOf[2]);
        reg.removeAccount(RELAYER);
        _addAccount(3, RELAYER, R_USER);
        _assertAccount(RELAYER, 3, R_USER);
    }

    function test_removeAccount_revertsWhenLastAdmin() public {
        address founder = adminOf[2];
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstLastAdmin.selector, uint64(2)));
        vm.prank(founder);
        reg.removeAccount(founder);
        assertEq(_snap(), s, "state changed");
        _assertAccount(founder, 2, R_ADMIN);
        assertEq(uint256(reg.institution(2).adminCount), 1, "adminCount");
    }

    function test_removeAccount_revertsWhenLastAdminAfterRemovals() public {
        _addAccount(2, ADMIN2, R_ADMIN);
        vm.prank(ADMIN2);
        reg.removeAccount(adminOf[2]);
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstLastAdmin.selector, uint64(2)));
        vm.prank(ADMIN2);
        reg.removeAccount(ADMIN2);
        assertEq(_snap(), s, "state changed");
    }

    function test_removeAccount_revertsWhenAccountOfOtherInstitution() public {
        _addAccount(3, RELAYER, R_RELAYER);
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.InstAccountNotMember.selector, RELAYER, uint64(2))
        );
        vm.prank(adminOf[2]);
        reg.removeAccount(RELAYER);
        assertEq(_snap(), s, "state changed");
        _assertAccount(RELAYER, 3, R_RELAYER);
    }

    function test_removeAccount_revertsWhenOtherInstitutionsAdmin() public {
        address admin3 = adminOf[3];
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.InstAccountNotMember.selector, admin3, uint64(2))
        );
        vm.prank(adminOf[2]);
        reg.removeAccount(admin3);
        assertEq(_snap(), s, "state changed");
    }

    function test_removeAccount_revertsWhenUnregistered() public {
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.InstAccountNotMember.selector, STRANGER, uint64(2))
        );
        vm.prank(adminOf[2]);
        reg.removeAccount(STRANGER);
        assertEq(_snap(), s, "state changed");
    }

    function test_removeAccount_revertsWhenCallerNotAdmin() public {
        _addAccount(2, RELAYER, R_RELAYER);
        _addAccount(2, USER, R_USER);
        address[3] memory callers = [STRANGER, RELAYER, USER];
        for (uint256 k; k < callers.length; ++k) {
            bytes32 s = _snap();
            vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotAdmin.selector, callers[k]));
            vm.prank(callers[k]);
            reg.removeAccount(USER);
            assertEq(_snap(), s, "state changed");
        }
        _assertAccount(USER, 2, R_USER);
    }

    function test_removeAccount_revertsWhenInstitutionSuspended() public {
        _addAccount(5, RELAYER, R_RELAYER);
        _suspend(5);
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotAdmin.selector, adminOf[5]));
        vm.prank(adminOf[5]);
        reg.removeAccount(RELAYER);
        assertEq(_snap(), s, "state changed");
        _assertAccount(RELAYER, 5, R_RELAYER);
    }

    function test_removeAccount_revertsWhenInstitutionExpelled() public {
        _addAccount(5, RELAYER, R_RELAYER);
        _expel(5);
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotAdmin.selector, adminOf[5]));
        vm.prank(adminOf[5]);
        reg.removeAccount(RELAYER);
        assertEq(_snap(), s, "state changed");
        _assertAccount(RELAYER, 5, R_RELAYER);
    }

    // ================================================================ propose

    function test_propose_createsProposal() public {
        bytes memory data = _periodData(1 days);
        uint64 endsAt = uint64(T0) + PERIOD;
        _expectEmit();
        emit IInstitutionRegistry.ProposalCreated(1, 2, address(reg), data, "shorter period", endsAt, 5, 4);
        vm.prank(adminOf[2]);
        uint256 id = reg.propose(address(reg), data, "shorter period");
        assertEq(id, 1, "id");
        assertEq(reg.proposalCount(), 1, "proposalCount");
        IInstitutionRegistry.Proposal memory p = reg.proposal(id);
        assertEq(uint256(p.proposer), 2, "proposer");
        assertEq(p.target, address(reg), "target");
        assertEq(p.dataHash, keccak256(data), "dataHash");
        assertEq(uint256(p.votingEndsAt), endsAt, "votingEndsAt");
        assertEq(uint256(p.executableUntil), uint256(endsAt) + PERIOD, "executableUntil");
        assertEq(uint256(p.epoch), 5, "epoch");
        assertEq(uint256(p.electorate), 5, "electorate");
        assertEq(uint256(p.required), 4, "required");
        assertEq(uint256(p.approvals), 0, "approvals");
        assertEq(uint256(p.rejections), 0, "rejections");
        assertEq(uint256(p.state), uint256(P_PENDING), "state");
        for (uint64 i = 1; i <= 5; ++i) {
            assertFalse(reg.hasVoted(id, i), "no votes");
        }
    }

    function test_propose_incrementsIds() public {
        assertEq(_propose(_periodData(1 days)), 1, "first");
        assertEq(_proposeBy(3, address(reg), _periodData(2 days)), 2, "second");
        assertEq(_proposeBy(3, address(target), abi.encodeCall(InstRegTestTarget.record, (7))), 3, "third");
        assertEq(reg.proposalCount(), 3, "count");
    }

    function test_propose_acceptsExternalTargetAndFourByteData() public {
        bytes memory data = abi.encodeWithSelector(InstRegTestTarget.failEmpty.selector);
        assertEq(data.length, 4, "len");
        uint256 id = _proposeBy(1, address(target), data);
        assertEq(reg.proposal(id).target, address(target), "target");
        assertEq(reg.proposal(id).dataHash, keccak256(data), "hash");
    }

    function _checkSnapshot(uint256 n, uint16 num, uint16 den, uint16 expectedRequired) internal {
        reg = _deploy(n, num, den);
        bytes memory data = _periodData(1 days);
        _expectEmit();
        emit IInstitutionRegistry.ProposalCreated(
            1,
            1,
            address(reg),
            data,
            "test proposal",
            uint64(block.timestamp) + PERIOD,
            uint16(n),
            expectedRequired
        );
        uint256 id = _propose(data);
        IInstitutionRegistry.Proposal memory p = reg.proposal(id);
        assertEq(uint256(p.electorate), n, "electorate");
        assertEq(uint256(p.required), expectedRequired, "required");
        // required is the least count that is at least num/den of the electorate.
        assertGe(uint256(p.required) * den, n * num, "at least the fraction");
        assertLt(uint256(p.required - 1) * den, n * num, "the least such");
    }

    /// At the default 2/3 ("at least two thirds"), electorates 1 to 10.
    function test_propose_requiredAtTwoThirdsForElectoratesOneToTen() public {
        uint16[10] memory expected = [uint16(1), 2, 2, 3, 4, 4, 5, 6, 6, 7];
        for (uint256 n = 1; n <= expected.length; ++n) {
            _checkSnapshot(n, 2, 3, expected[n - 1]);
        }
    }

    function test_propose_snapshotsElectorateBareMajority() public {
        _checkSnapshot(1, 51, 100, 1);
        _checkSnapshot(2, 51, 100, 2);
        _checkSnapshot(3, 51, 100, 2);
        _checkSnapshot(4, 51, 100, 3);
        _checkSnapshot(5, 51, 100, 3);
        _checkSnapshot(7, 51, 100, 4);
    }

    function test_propose_snapshotsElectorateUnanimity() public {
        _checkSnapshot(1, 1, 1, 1);
        _checkSnapshot(3, 1, 1, 3);
        _checkSnapshot(7, 1000, 1000, 7);
    }

    function testFuzz_propose_requiredIsLeastAtLeastFraction(uint256 n, uint256 num, uint256 den) public {
        n = bound(n, 1, 32);
        den = bound(den, 1, 1000);
        num = bound(num, den / 2 + 1, den);
        reg = _deploy(n, uint16(num), uint16(den));
        uint256 id = _propose(_periodData(1 days));
        IInstitutionRegistry.Proposal memory p = reg.proposal(id);
        assertEq(uint256(p.electorate), n, "electorate");
        assertGe(uint256(p.required) * den, n * num, "at least the fraction");
        assertLt(uint256(p.required - 1) * den, n * num, "the least such");
        assertLe(uint256(p.required), n, "reachable");
        assertGt(uint256(p.required) * 2, n, "a strict majority");
    }

    function test_propose_snapshotExcludesInactive() public {
        _suspend(4);
        _expel(5);
        uint256 id = _propose(_periodData(1 days));
        IInstitutionRegistry.Proposal memory p = reg.proposal(id);
        assertEq(uint256(p.electorate), 3, "electorate");
        assertEq(uint256(p.required), 2, "required: at least 2/3 of 3");
        assertEq(uint256(p.epoch), reg.epoch(), "epoch");
    }

    function test_propose_snapshotUnaffectedByLaterChanges() public {
        uint256 id = _propose(_periodData(1 days));
        IInstitutionRegistry.Proposal memory before = reg.proposal(id);
        _exec(_thresholdData(3, 5));
        _admit("Newcomer", NEW_ADMIN);
        _suspend(2);
        _exec(_periodData(10 days));
        IInstitutionRegistry.Proposal memory afterwards = reg.proposal(id);
        assertEq(keccak256(abi.encode(afterwards)), keccak256(abi.encode(before)), "proposal changed");
        assertEq(uint256(afterwards.electorate), 5, "electorate");
        assertEq(uint256(afterwards.required), 4, "required");
    }

    function test_propose_usesCurrentThresholdAndPeriod() public {
        _exec(_thresholdData(4, 5));
        _exec(_periodData(1 days));
        uint256 id = _propose(_periodData(2 days));
        IInstitutionRegistry.Proposal memory p = reg.proposal(id);
        assertEq(uint256(p.required), 4, "required: at least 4/5 of 5");
        assertEq(uint256(p.votingEndsAt), block.timestamp + 1 days, "votingEndsAt");
        assertEq(uint256(p.executableUntil), block.timestamp + 2 days, "executableUntil");
    }

    function test_propose_revertsWhenCallerNotAdmin() public {
        _addAccount(1, RELAYER, R_RELAYER);
        _addAccount(1, USER, R_USER);
        address[3] memory callers = [STRANGER, RELAYER, USER];
        for (uint256 k; k < callers.length; ++k) {
            bytes32 s = _snap();
            vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotAdmin.selector, callers[k]));
            vm.prank(callers[k]);
            reg.propose(address(reg), _periodData(1 days), "x");
            assertEq(_snap(), s, "state changed");
            assertEq(reg.proposalCount(), 0, "proposalCount");
        }
    }

    function test_propose_revertsWhenTargetHasNoCode() public {
        address[2] memory targets = [STRANGER, address(0)];
        for (uint256 k; k < targets.length; ++k) {
            bytes32 s = _snap();
            vm.expectRevert(
                abi.encodeWithSelector(IInstitutionRegistry.ProposalBadTarget.selector, targets[k])
            );
            _proposeBy(1, targets[k], _periodData(1 days));
            assertEq(_snap(), s, "state changed");
            assertEq(reg.proposalCount(), 0, "proposalCount");
        }
    }

    function test_propose_revertsWhenDataShorterThanSelector() public {
        bytes[3] memory datas = [bytes(""), bytes(hex"aa"), bytes(hex"aabbcc")];
        for (uint256 k; k < datas.length; ++k) {
            bytes32 s = _snap();
            vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.ProposalEmptyData.selector));
            _proposeBy(1, address(reg), datas[k]);
            assertEq(_snap(), s, "state changed");
            assertEq(reg.proposalCount(), 0, "proposalCount");
        }
    }

    function test_propose_revertsWhenInstitutionSuspended() public {
        _suspend(5);
        uint256 count = reg.proposalCount();
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotAdmin.selector, adminOf[5]));
        _proposeBy(5, address(reg), _periodData(1 days));
        assertEq(_snap(), s, "state changed");
        assertEq(reg.proposalCount(), count, "proposalCount");
    }

    function test_propose_revertsWhenInstitutionExpelled() public {
        _expel(5);
        uint256 count = reg.proposalCount();
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotAdmin.selector, adminOf[5]));
        _proposeBy(5, address(reg), _periodData(1 days));
        assertEq(_snap(), s, "state changed");
        assertEq(reg.proposalCount(), count, "proposalCount");
    }

    // ---------------------------------------------------------------- propose: suspend / expel targets

    /// Three founders at 2/3: A and B expel C with two votes; C's vote is refused; execution expels C.
    function test_propose_expelLeavesTheTargetOutOfTheElectorate() public {
        reg = _deploy(3, 2, 3);
        bytes memory data = _expelData(3);
        _expectEmit();
        emit IInstitutionRegistry.ProposalCreated(
            1, 1, address(reg), data, "test proposal", uint64(block.timestamp) + PERIOD, 2, 2
        );
        uint256 id = _proposeBy(1, address(reg), data);
        IInstitutionRegistry.Proposal memory p = reg.proposal(id);
        assertEq(uint256(p.electorate), 2, "electorate without C");
        assertEq(uint256(p.required), 2, "required");
        assertEq(uint256(p.excluded), 3, "excluded");

        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotEligible.selector, id, uint64(3))
        );
        _voteBy(3, id, false);
        assertEq(_snap(), s, "C's refused vote changed state");

        _voteBy(1, id, true);
        _assertState(id, P_PENDING);
        _voteBy(2, id, true);
        _assertState(id, P_PASSED);
        assertEq(uint256(reg.proposal(id).approvals), 2, "two approvals");
        // C still cannot vote once it passed (the proposal is no longer pending).
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotPending.selector, id, P_PASSED)
        );
        _voteBy(3, id, false);
        reg.execute(id, data);
        _assertStatus(3, S_EXPELLED);
        assertEq(uint256(reg.activeCount()), 2, "two left");
    }

    function test_propose_suspendLeavesTheTargetOutOfTheElectorate() public {
        reg = _deploy(3, 2, 3);
        bytes memory data = _suspendData(3);
        uint256 id = _proposeBy(2, address(reg), data);
        assertEq(uint256(reg.proposal(id).electorate), 2, "electorate without C");
        assertEq(uint256(reg.proposal(id).required), 2, "required");
        assertEq(uint256(reg.proposal(id).excluded), 3, "excluded");
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotEligible.selector, id, uint64(3))
        );
        _voteBy(3, id, true);
        _voteBy(2, id, true);
        _voteBy(1, id, true);
        _assertState(id, P_PASSED);
        reg.execute(id, data);
        _assertStatus(3, S_SUSPENDED);
    }

    /// Without C's vote, one rejection of the two left makes the expulsion unpassable at once.
    function test_propose_expelRejectedEarlyByTheRemainingElectorate() public {
        reg = _deploy(3, 2, 3);
        uint256 id = _proposeBy(1, address(reg), _expelData(3));
        _expectEmit();
        emit IInstitutionRegistry.ProposalRejected(id);
        _voteBy(2, id, false);
        _assertState(id, P_REJECTED);
    }

    /// Two founders: either suspends the other alone.
    function test_propose_twoFoundersOneSuspendsTheOther() public {
        reg = _deploy(2, 2, 3);
        bytes memory data = _suspendData(1);
        uint256 id = _proposeBy(2, address(reg), data);
        assertEq(uint256(reg.proposal(id).electorate), 1, "electorate");
        assertEq(uint256(reg.proposal(id).required), 1, "required");
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotEligible.selector, id, uint64(1))
        );
        _voteBy(1, id, false);
        _voteBy(2, id, true);
        _assertState(id, P_PASSED);
        reg.execute(id, data);
        _assertStatus(1, S_SUSPENDED);
        assertEq(uint256(reg.activeCount()), 1, "one left");
    }

    /// An institution may propose its own suspension; it then has no vote on it.
    function test_propose_selfTargetingProposerHasNoVote() public {
        reg = _deploy(3, 2, 3);
        bytes memory data = _suspendData(1);
        uint256 id = _proposeBy(1, address(reg), data);
        assertEq(uint256(reg.proposal(id).proposer), 1, "proposer");
        assertEq(uint256(reg.proposal(id).excluded), 1, "excluded");
        assertEq(uint256(reg.proposal(id).electorate), 2, "electorate");
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotEligible.selector, id, uint64(1))
        );
        _voteBy(1, id, true);
        // It may still withdraw it.
        vm.prank(adminOf[1]);
        reg.withdraw(id);
        _assertState(id, P_WITHDRAWN);
        // Or let the others pass it.
        id = _proposeBy(1, address(reg), data);
        _voteBy(2, id, true);
        _voteBy(3, id, true);
        reg.execute(id, data);
        _assertStatus(1, S_SUSPENDED);
    }

    /// The target is not active (suspended): it holds no vote anyway, the electorate is every active one,
    /// and `excluded` still names it should it be reinstated meanwhile.
    function test_propose_targetNotActiveKeepsTheFullElectorate() public {
        _suspend(5);
        uint256 id = _propose(_expelData(5));
        IInstitutionRegistry.Proposal memory p = reg.proposal(id);
        assertEq(uint256(p.electorate), 4, "every active institution");
        assertEq(uint256(p.required), 3, "at least 2/3 of 4");
        assertEq(uint256(p.excluded), 5, "excluded");
        _reinstate(5);
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotEligible.selector, id, uint64(5))
        );
        _voteBy(5, id, false);
        // An unknown institution: no electorate change either.
        id = _propose(_suspendData(99));
        assertEq(uint256(reg.proposal(id).electorate), 5, "unknown target");
        assertEq(uint256(reg.proposal(id).excluded), 99, "excluded");
    }

    /// Only this registry's suspendInstitution and expelInstitution with a decodable id exclude anyone.
    function test_propose_excludesOnlySuspendAndExpelOfThisRegistry() public {
        bytes[6] memory calls = [
            _reinstateData(3),
            _admitData("x", bytes32(0), OTHER),
            _thresholdData(3, 4),
            // the selector alone, and an id word that does not fit uint64 (execution would fail to decode)
            abi.encodePacked(IInstitutionRegistry.suspendInstitution.selector),
            abi.encodePacked(IInstitutionRegistry.expelInstitution.selector, uint256(1) << 64 | 3),
            abi.encodePacked(IInstitutionRegistry.suspendInstitution.selector, bytes31(0))
        ];
        for (uint256 k; k < calls.length; ++k) {
            uint256 id = _propose(calls[k]);
            assertEq(uint256(reg.proposal(id).excluded), 0, "excluded");
            assertEq(uint256(reg.proposal(id).electorate), 5, "electorate");
        }
        // The same calldata to another contract excludes nobody.
        uint256 other = _proposeBy(1, address(target), _expelData(3));
        assertEq(uint256(reg.proposal(other).excluded), 0, "other target");
        assertEq(uint256(reg.proposal(other).electorate), 5, "other target electorate");
        // Extra bytes after the id word do not matter.
        uint256 padded = _propose(bytes.concat(_expelData(3), hex"00"));
        assertEq(uint256(reg.proposal(padded).excluded), 3, "padded");
        assertEq(uint256(reg.proposal(padded).electorate), 4, "padded electorate");
    }

    /// Any electorate and threshold: a proposal against an active member has that member out of its
    /// electorate and required computed on the rest.
    function testFuzz_propose_targetExcludedFromElectorate(
        uint256 n,
        uint256 t,
        uint256 num,
        uint256 den,
        bool expel
    ) public {
        n = bound(n, 2, 32);
        den = bound(den, 1, 1000);
        num = bound(num, den / 2 + 1, den);
        reg = _deploy(n, uint16(num), uint16(den));
        uint64 targetId = uint64(bound(t, 1, n));
        uint256 id = _proposeBy(
            targetId == 1 ? 2 : 1, address(reg), expel ? _expelData(targetId) : _suspendData(targetId)
        );
        IInstitutionRegistry.Proposal memory p = reg.proposal(id);
        uint256 e = n - 1;
        assertEq(uint256(p.electorate), e, "electorate");
        assertEq(uint256(p.excluded), targetId, "excluded");
        assertEq(uint256(p.required), (e * num + den - 1) / den, "required");
        assertGt(uint256(p.required) * 2, e, "a strict majority of the rest");
        assertLe(uint256(p.required), e, "reachable without the target");
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotEligible.selector, id, targetId)
        );
        _voteBy(targetId, id, true);
    }

    // ================================================================ vote

    function test_vote_recordsApproval() public {
        uint256 id = _propose(_periodData(1 days));
        _expectEmit();
        emit IInstitutionRegistry.VoteCast(id, 2, true, 1, 0);
        _voteBy(2, id, true);
        assertTrue(reg.hasVoted(id, 2), "hasVoted");
        assertFalse(reg.hasVoted(id, 1), "others not");
        assertEq(uint256(reg.proposal(id).approvals), 1, "approvals");
        assertEq(uint256(reg.proposal(id).rejections), 0, "rejections");
        _assertState(id, P_PENDING);
    }

    function test_vote_recordsRejection() public {
        uint256 id = _propose(_periodData(1 days));
        _expectEmit();
        emit IInstitutionRegistry.VoteCast(id, 3, false, 0, 1);
        _voteBy(3, id, false);
        assertTrue(reg.hasVoted(id, 3), "hasVoted");
        assertEq(uint256(reg.proposal(id).rejections), 1, "rejections");
        _assertState(id, P_PENDING); // 5 - 1 = 4 >= 4 required: still passable
    }

    function test_vote_passesAtRequired() public {
        uint256 id = _propose(_periodData(1 days));
        _voteBy(1, id, true);
        _voteBy(2, id, true);
        _voteBy(3, id, true);
        _assertState(id, P_PENDING);
        _expectEmit();
        emit IInstitutionRegistry.VoteCast(id, 4, true, 4, 0);
        _expectEmit();
        emit IInstitutionRegistry.ProposalPassed(id);
        _voteBy(4, id, true);
        _assertState(id, P_PASSED);
        assertEq(uint256(reg.proposal(id).approvals), 4, "approvals");
    }

    function test_vote_passesDespiteOneRejection() public {
        uint256 id = _propose(_periodData(1 days));
        _voteBy(1, id, false);
        _voteBy(2, id, true);
        _voteBy(3, id, true);
        _voteBy(4, id, true);
        _assertState(id, P_PENDING);
        _expectEmit();
        emit IInstitutionRegistry.VoteCast(id, 5, true, 4, 1);
        _expectEmit();
        emit IInstitutionRegistry.ProposalPassed(id);
        _voteBy(5, id, true);
        _assertState(id, P_PASSED);
    }

    function test_vote_rejectsEarlyWhenUnpassable() public {
        uint256 id = _propose(_periodData(1 days));
        _voteBy(1, id, true);
        _voteBy(2, id, false);
        _assertState(id, P_PENDING);
        _expectEmit();
        emit IInstitutionRegistry.VoteCast(id, 3, false, 1, 2);
        _expectEmit();
        emit IInstitutionRegistry.ProposalRejected(id);
        _voteBy(3, id, false); // 5 - 2 = 3 < 4
        _assertState(id, P_REJECTED);
        // The votes still open are refused.
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotPending.selector, id, P_REJECTED)
        );
        _voteBy(4, id, true);
        assertEq(_snap(), s, "state changed");
        assertFalse(reg.hasVoted(id, 4), "hasVoted");
    }

    function test_vote_rejectsEarlyWithBareMajorityThreshold() public {
        reg = _deploy(4, 51, 100); // required 3 of 4
        uint256 id = _propose(_periodData(1 days));
        _voteBy(1, id, false);
        _assertState(id, P_PENDING);
        _expectEmit();
        emit IInstitutionRegistry.ProposalRejected(id);
        _voteBy(2, id, false);
        _assertState(id, P_REJECTED);
    }

    function test_vote_singleFounderPassesAlone() public {
        reg = _deploy(1, 2, 3);
        uint256 id = _propose(_periodData(1 days));
        _expectEmit();
        emit IInstitutionRegistry.ProposalPassed(id);
        _voteBy(1, id, true);
        _assertState(id, P_PASSED);
    }

    function test_vote_revertsWhenAlreadyVoted() public {
        uint256 id = _propose(_periodData(1 days));
        _voteBy(2, id, true);
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalAlreadyVoted.selector, id, uint64(2))
        );
        _voteBy(2, id, true);
        assertEq(_snap(), s, "state changed");
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalAlreadyVoted.selector, id, uint64(2))
        );
        _voteBy(2, id, false);
        assertEq(_snap(), s, "state changed");
        assertEq(uint256(reg.proposal(id).approvals), 1, "approvals");
        assertEq(uint256(reg.proposal(id).rejections), 0, "rejections");
    }

    function test_vote_revertsWhenExpired() public {
        uint256 id = _propose(_periodData(1 days));
        _voteBy(1, id, true);
        vm.warp(reg.proposal(id).votingEndsAt);
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotPending.selector, id, P_EXPIRED)
        );
        _voteBy(2, id, true);
        assertEq(_snap(), s, "state changed");
        assertFalse(reg.hasVoted(id, 2), "hasVoted");
        assertEq(uint256(reg.proposal(id).state), uint256(P_PENDING), "stored state stays Pending");
    }

    function test_vote_acceptedJustBeforeExpiry() public {
        uint256 id = _propose(_periodData(1 days));
        vm.warp(reg.proposal(id).votingEndsAt - 1);
        _voteBy(2, id, true);
        assertTrue(reg.hasVoted(id, 2), "hasVoted");
    }

    function test_vote_revertsWhenPassed() public {
        uint256 id = _pass(_periodData(1 days));
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotPending.selector, id, P_PASSED)
        );
        _voteBy(5, id, true);
        assertEq(_snap(), s, "state changed");
        assertFalse(reg.hasVoted(id, 5), "hasVoted");
    }

    function test_vote_revertsWhenWithdrawn() public {
        uint256 id = _propose(_periodData(1 days));
        vm.prank(adminOf[1]);
        reg.withdraw(id);
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotPending.selector, id, P_WITHDRAWN)
        );
        _voteBy(2, id, true);
        assertEq(_snap(), s, "state changed");
    }

    function test_vote_revertsWhenExecuted() public {
        uint256 id = _exec(_periodData(1 days));
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotPending.selector, id, P_EXECUTED)
        );
        _voteBy(5, id, true);
        assertEq(_snap(), s, "state changed");
    }

    function test_vote_revertsWhenNotFound() public {
        _propose(_periodData(1 days));
        uint256[2] memory ids = [uint256(0), 2];
        for (uint256 k; k < ids.length; ++k) {
            bytes32 s = _snap();
            vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.ProposalNotFound.selector, ids[k]));
            _voteBy(1, ids[k], true);
            assertEq(_snap(), s, "state changed");
        }
    }

    function test_vote_revertsWhenCallerNotAdmin() public {
        uint256 id = _propose(_periodData(1 days));
        _addAccount(2, RELAYER, R_RELAYER);
        _addAccount(2, USER, R_USER);
        address[3] memory callers = [STRANGER, RELAYER, USER];
        for (uint256 k; k < callers.length; ++k) {
            bytes32 s = _snap();
            vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotAdmin.selector, callers[k]));
            vm.prank(callers[k]);
            reg.vote(id, true);
            assertEq(_snap(), s, "state changed");
        }
        assertFalse(reg.hasVoted(id, 2), "hasVoted");
    }

    function test_vote_revertsWhenAdmittedAfterCreation() public {
        uint256 id = _propose(_periodData(1 days));
        uint64 newcomer = _admit("Newcomer", NEW_ADMIN);
        assertEq(uint256(newcomer), 6, "id");
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotEligible.selector, id, newcomer)
        );
        _voteBy(newcomer, id, true);
        assertEq(_snap(), s, "state changed");
        assertFalse(reg.hasVoted(id, newcomer), "hasVoted");
        // It votes on proposals created after its admission.
        uint256 later = _propose(_periodData(2 days));
        _voteBy(newcomer, later, true);
        assertTrue(reg.hasVoted(later, newcomer), "votes later");
    }

    function test_vote_revertsWhenSuspendedAfterCreation() public {
        uint256 id = _propose(_periodData(1 days));
        _suspend(5);
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotAdmin.selector, adminOf[5]));
        _voteBy(5, id, true);
        assertEq(_snap(), s, "state changed");
        assertFalse(reg.hasVoted(id, 5), "hasVoted");
    }

    function test_vote_revertsWhenReinstatedAfterCreation() public {
        uint256 id = _propose(_periodData(1 days));
        _suspend(5);
        _reinstate(5);
        assertTrue(reg.isActive(5), "active again");
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotEligible.selector, id, uint64(5))
        );
        _voteBy(5, id, true);
        assertEq(_snap(), s, "state changed");
        assertFalse(reg.hasVoted(id, 5), "hasVoted");
        // It is eligible again for proposals created after the reinstatement.
        uint256 later = _propose(_periodData(2 days));
        _voteBy(5, later, true);
        assertTrue(reg.hasVoted(later, 5), "votes later");
    }

    function test_vote_revertsWhenExpelled() public {
        uint256 id = _propose(_periodData(1 days));
        _expel(5);
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotAdmin.selector, adminOf[5]));
        _voteBy(5, id, false);
        assertEq(_snap(), s, "state changed");
        assertFalse(reg.hasVoted(id, 5), "hasVoted");
    }

    function test_vote_othersVoteAfterProposerSuspended() public {
        bytes memory data = _periodData(1 days);
        uint256 id = _proposeBy(1, address(reg), data);
        // Institution 2 proposes suspending the proposer of `id`; 2..5 carry it.
        bytes memory suspend1 = _suspendData(1);
        uint256 sid = _proposeBy(2, address(reg), suspend1);
        _approveUntilPassed(sid);
        reg.execute(sid, suspend1);
        _assertStatus(1, S_SUSPENDED);
        // 2..5 are still eligible for `id` (electorate 5, required 4) and pass it.
        for (uint64 i = 2; i <= 4; ++i) {
            _voteBy(i, id, true);
        }
        _expectEmit();
        emit IInstitutionRegistry.ProposalPassed(id);
        _voteBy(5, id, true);
        reg.execute(id, data);
        assertEq(uint256(reg.votingPeriod()), 1 days, "executed");
    }

    // ================================================================ withdraw

    function test_withdraw_byProposer() public {
        uint256 id = _proposeBy(2, address(reg), _periodData(1 days));
        _voteBy(1, id, true);
        _expectEmit();
        emit IInstitutionRegistry.ProposalWithdrawn(id);
        vm.prank(adminOf[2]);
        reg.withdraw(id);
        _assertState(id, P_WITHDRAWN);
        assertEq(uint256(reg.proposal(id).approvals), 1, "votes kept");
    }

    function test_withdraw_byAnotherAdminOfProposer() public {
        uint256 id = _proposeBy(2, address(reg), _periodData(1 days));
        _addAccount(2, ADMIN2, R_ADMIN);
        _expectEmit();
        emit IInstitutionRegistry.ProposalWithdrawn(id);
        vm.prank(ADMIN2);
        reg.withdraw(id);
        _assertState(id, P_WITHDRAWN);
        // Withdrawn stays withdrawn, even after the voting period.
        vm.warp(block.timestamp + 10 * PERIOD);
        _assertState(id, P_WITHDRAWN);
    }

    function test_withdraw_revertsWhenNotProposer() public {
        uint256 id = _proposeBy(2, address(reg), _periodData(1 days));
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotProposer.selector, id, uint64(3))
        );
        vm.prank(adminOf[3]);
        reg.withdraw(id);
        assertEq(_snap(), s, "state changed");
        _assertState(id, P_PENDING);
    }

    function test_withdraw_revertsWhenPassed() public {
        uint256 id = _pass(_periodData(1 days));
        uint64 proposer = reg.proposal(id).proposer;
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotPending.selector, id, P_PASSED)
        );
        vm.prank(adminOf[proposer]);
        reg.withdraw(id);
        assertEq(_snap(), s, "state changed");
        _assertState(id, P_PASSED);
    }

    function test_withdraw_revertsWhenRejectedOrWithdrawn() public {
        uint256 id = _propose(_periodData(1 days));
        _voteBy(2, id, false);
        _voteBy(3, id, false);
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotPending.selector, id, P_REJECTED)
        );
        vm.prank(adminOf[1]);
        reg.withdraw(id);
        assertEq(_snap(), s, "state changed");

        uint256 id2 = _propose(_periodData(2 days));
        vm.prank(adminOf[1]);
        reg.withdraw(id2);
        s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotPending.selector, id2, P_WITHDRAWN)
        );
        vm.prank(adminOf[1]);
        reg.withdraw(id2);
        assertEq(_snap(), s, "state changed");
    }

    function test_withdraw_revertsWhenExpired() public {
        uint256 id = _propose(_periodData(1 days));
        vm.warp(reg.proposal(id).votingEndsAt);
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotPending.selector, id, P_EXPIRED)
        );
        vm.prank(adminOf[1]);
        reg.withdraw(id);
        assertEq(_snap(), s, "state changed");
    }

    function test_withdraw_revertsWhenNotFound() public {
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.ProposalNotFound.selector, uint256(1)));
        vm.prank(adminOf[1]);
        reg.withdraw(1);
        assertEq(_snap(), s, "state changed");
    }

    function test_withdraw_revertsWhenCallerNotAdmin() public {
        uint256 id = _propose(_periodData(1 days));
        _addAccount(1, RELAYER, R_RELAYER);
        address[2] memory callers = [STRANGER, RELAYER];
        for (uint256 k; k < callers.length; ++k) {
            bytes32 s = _snap();
            vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotAdmin.selector, callers[k]));
            vm.prank(callers[k]);
            reg.withdraw(id);
            assertEq(_snap(), s, "state changed");
        }
        _assertState(id, P_PENDING);
    }

    function test_withdraw_revertsWhenProposerSuspended() public {
        uint256 id = _proposeBy(5, address(reg), _periodData(1 days));
        _suspend(5);
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotAdmin.selector, adminOf[5]));
        vm.prank(adminOf[5]);
        reg.withdraw(id);
        assertEq(_snap(), s, "state changed");
        _assertState(id, P_PENDING);
    }

    function test_withdraw_revertsWhenProposerExpelled() public {
        uint256 id = _proposeBy(5, address(reg), _periodData(1 days));
        _expel(5);
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotAdmin.selector, adminOf[5]));
        vm.prank(adminOf[5]);
        reg.withdraw(id);
        assertEq(_snap(), s, "state changed");
        _assertState(id, P_PENDING);
    }

    // ================================================================ execute: happy paths

    function test_execute_admitInstitution() public {
        bytes32 cert = keccak256("newcomer cert");
        bytes memory data = _admitData("Newcomer", cert, NEW_ADMIN);
        uint256 id = _pass(data);
        _expectEmit();
        emit IInstitutionRegistry.InstitutionAdmitted(6, "Newcomer", cert, NEW_ADMIN);
        _expectEmit();
        emit IInstitutionRegistry.AccountAdded(6, NEW_ADMIN, R_ADMIN);
        _expectEmit();
        emit IInstitutionRegistry.ProposalExecuted(id);
        reg.execute(id, data);
        _assertState(id, P_EXECUTED);
        IInstitutionRegistry.Institution memory inst = reg.institution(6);
        assertEq(inst.name, "Newcomer", "name");
        assertEq(inst.certHash, cert, "cert");
        assertEq(uint256(inst.status), uint256(S_ACTIVE), "status");
        assertEq(uint256(inst.activeSinceEpoch), 6, "activeSinceEpoch");
        assertEq(uint256(inst.adminCount), 1, "adminCount");
        assertEq(uint256(reg.institutionCount()), 6, "count");
        assertEq(uint256(reg.activeCount()), 6, "active");
        assertEq(uint256(reg.epoch()), 6, "epoch");
        _assertAccount(NEW_ADMIN, 6, R_ADMIN);
    }

    function test_execute_suspendInstitution() public {
        bytes memory data = _suspendData(5);
        uint256 id = _pass(data);
        _expectEmit();
        emit IInstitutionRegistry.InstitutionSuspended(5);
        _expectEmit();
        emit IInstitutionRegistry.ProposalExecuted(id);
        reg.execute(id, data);
        _assertStatus(5, S_SUSPENDED);
        assertEq(uint256(reg.institution(5).activeSinceEpoch), 0, "activeSinceEpoch");
        assertEq(uint256(reg.activeCount()), 4, "active");
        assertEq(uint256(reg.epoch()), 6, "epoch");
        assertFalse(reg.isActive(5), "isActive");
        _assertAccount(adminOf[5], 5, R_ADMIN); // accounts are kept
    }

    function test_execute_expelActiveInstitution() public {
        bytes memory data = _expelData(5);
        uint256 id = _pass(data);
        _expectEmit();
        emit IInstitutionRegistry.InstitutionExpelled(5);
        _expectEmit();
        emit IInstitutionRegistry.ProposalExecuted(id);
        reg.execute(id, data);
        _assertStatus(5, S_EXPELLED);
        assertEq(uint256(reg.activeCount()), 4, "active");
        assertEq(uint256(reg.epoch()), 6, "epoch");
        assertEq(uint256(reg.institution(5).activeSinceEpoch), 0, "activeSinceEpoch");
    }

    function test_execute_expelSuspendedInstitution() public {
        _suspend(5);
        bytes memory data = _expelData(5);
        uint256 id = _pass(data);
        _expectEmit();
        emit IInstitutionRegistry.InstitutionExpelled(5);
        _expectEmit();
        emit IInstitutionRegistry.ProposalExecuted(id);
        reg.execute(id, data);
        _assertStatus(5, S_EXPELLED);
        assertEq(uint256(reg.activeCount()), 4, "active unchanged");
        assertEq(uint256(reg.epoch()), 6, "epoch unchanged by expelling a suspended one");
    }

    function test_execute_reinstateInstitution() public {
        _suspend(5);
        bytes memory data = _reinstateData(5);
        uint256 id = _pass(data);
        _expectEmit();
        emit IInstitutionRegistry.InstitutionReinstated(5);
        _expectEmit();
        emit IInstitutionRegistry.ProposalExecuted(id);
        reg.execute(id, data);
        _assertStatus(5, S_ACTIVE);
        assertEq(uint256(reg.activeCount()), 5, "active");
        assertEq(uint256(reg.epoch()), 7, "epoch");
        assertEq(uint256(reg.institution(5).activeSinceEpoch), 7, "activeSinceEpoch");
        assertEq(uint256(reg.activeInstitutionOf(adminOf[5], R_ADMIN)), 5, "admin active again");
    }

    function test_execute_setThreshold() public {
        bytes memory data = _thresholdData(3, 4);
        uint256 id = _pass(data);
        _expectEmit();
        emit IInstitutionRegistry.ThresholdChanged(3, 4);
        _expectEmit();
        emit IInstitutionRegistry.ProposalExecuted(id);
        reg.execute(id, data);
        (uint16 num, uint16 den) = reg.threshold();
        assertEq(uint256(num), 3, "num");
        assertEq(uint256(den), 4, "den");
        assertEq(uint256(reg.proposal(_propose(_periodData(1 days))).required), 4, "at least 3/4 of 5");
    }

    function test_execute_setVotingPeriod() public {
        bytes memory data = _periodData(7 days);
        uint256 id = _pass(data);
        _expectEmit();
        emit IInstitutionRegistry.VotingPeriodChanged(7 days);
        _expectEmit();
        emit IInstitutionRegistry.ProposalExecuted(id);
        reg.execute(id, data);
        assertEq(uint256(reg.votingPeriod()), 7 days, "period");
        assertEq(
            uint256(reg.proposal(_propose(_periodData(1 days))).votingEndsAt),
            block.timestamp + 7 days,
            "ends"
        );
    }

    function test_execute_byAnyoneOnExternalTarget() public {
        bytes memory data = abi.encodeCall(InstRegTestTarget.record, (42));
        uint256 id = _proposeBy(2, address(target), data);
        _approveUntilPassed(id);
        _expectEmit();
        emit IInstitutionRegistry.ProposalExecuted(id);
        vm.prank(STRANGER);
        reg.execute(id, data);
        assertEq(target.lastCaller(), address(reg), "called by the registry");
        assertEq(target.lastValue(), 42, "value");
        _assertState(id, P_EXECUTED);
    }

    function test_execute_afterVotingPeriodWithinWindow() public {
        bytes memory data = _periodData(1 days);
        uint256 id = _pass(data);
        vm.warp(reg.proposal(id).executableUntil - 1);
        _assertState(id, P_PASSED);
        reg.execute(id, data);
        _assertState(id, P_EXECUTED);
        // Executed never expires.
        vm.warp(block.timestamp + 100 * PERIOD);
        _assertState(id, P_EXECUTED);
    }

    // ================================================================ execute: refusals

    function test_execute_revertsWhenDataMismatch() public {
        bytes memory data = _suspendData(5);
        uint256 id = _pass(data);
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.ProposalDataMismatch.selector, id));
        reg.execute(id, _suspendData(4));
        assertEq(_snap(), s, "state changed");
        _assertState(id, P_PASSED);
        _assertStatus(4, S_ACTIVE);
    }

    function test_execute_revertsWhenPending() public {
        bytes memory data = _suspendData(5);
        uint256 id = _propose(data);
        _voteBy(1, id, true);
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotPassed.selector, id, P_PENDING)
        );
        reg.execute(id, data);
        assertEq(_snap(), s, "state changed");
        _assertStatus(5, S_ACTIVE);
    }

    function test_execute_revertsWhenRejected() public {
        bytes memory data = _suspendData(5);
        uint256 id = _propose(data);
        _voteBy(2, id, false);
        _voteBy(3, id, false);
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotPassed.selector, id, P_REJECTED)
        );
        reg.execute(id, data);
        assertEq(_snap(), s, "state changed");
    }

    function test_execute_revertsWhenWithdrawn() public {
        bytes memory data = _suspendData(5);
        uint256 id = _propose(data);
        vm.prank(adminOf[1]);
        reg.withdraw(id);
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotPassed.selector, id, P_WITHDRAWN)
        );
        reg.execute(id, data);
        assertEq(_snap(), s, "state changed");
    }

    function test_execute_revertsWhenPendingExpired() public {
        bytes memory data = _suspendData(5);
        uint256 id = _propose(data);
        vm.warp(reg.proposal(id).votingEndsAt);
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotPassed.selector, id, P_EXPIRED)
        );
        reg.execute(id, data);
        assertEq(_snap(), s, "state changed");
    }

    function test_execute_revertsWhenExecutionWindowClosed() public {
        bytes memory data = _suspendData(5);
        uint256 id = _pass(data);
        vm.warp(reg.proposal(id).executableUntil);
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotPassed.selector, id, P_EXPIRED)
        );
        reg.execute(id, data);
        assertEq(_snap(), s, "state changed");
        assertEq(uint256(reg.proposal(id).state), uint256(P_PASSED), "stored state stays Passed");
        _assertStatus(5, S_ACTIVE);
    }

    function test_execute_revertsWhenAlreadyExecuted() public {
        bytes memory data = _periodData(1 days);
        uint256 id = _exec(data);
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotPassed.selector, id, P_EXECUTED)
        );
        reg.execute(id, data);
        assertEq(_snap(), s, "state changed");
    }

    function test_execute_revertsWhenNotFound() public {
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.ProposalNotFound.selector, uint256(0)));
        reg.execute(0, _periodData(1 days));
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.ProposalNotFound.selector, uint256(7)));
        reg.execute(7, _periodData(1 days));
        assertEq(_snap(), s, "state changed");
    }

    function test_execute_revertsWithInnerErrorWhenSuspendingSuspended() public {
        _suspend(5);
        bytes memory data = _suspendData(5);
        uint256 id = _pass(data);
        bytes32 s = _snap();
        bytes memory inner =
            abi.encodeWithSelector(IInstitutionRegistry.InstBadStatus.selector, uint64(5), S_SUSPENDED);
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalExecutionFailed.selector, id, inner)
        );
        reg.execute(id, data);
        assertEq(_snap(), s, "state changed");
        _assertState(id, P_PASSED); // still executable (and still failing) until its window closes
    }

    function test_execute_revertsWithInnerErrorFromExternalTarget() public {
        bytes memory data = abi.encodeCall(InstRegTestTarget.failWithReason, ());
        uint256 id = _proposeBy(1, address(target), data);
        _approveUntilPassed(id);
        bytes32 s = _snap();
        bytes memory inner = abi.encodeWithSignature("Error(string)", "target: refused");
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalExecutionFailed.selector, id, inner)
        );
        reg.execute(id, data);
        assertEq(_snap(), s, "state changed");
        assertEq(target.lastCaller(), address(0), "target untouched");
    }

    function test_execute_revertsWithEmptyReason() public {
        bytes memory data = abi.encodeCall(InstRegTestTarget.failEmpty, ());
        uint256 id = _proposeBy(1, address(target), data);
        _approveUntilPassed(id);
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalExecutionFailed.selector, id, bytes(""))
        );
        reg.execute(id, data);
        assertEq(_snap(), s, "state changed");
    }

    function test_execute_revertsWhenProposalReentersExecute() public {
        // A proposal whose call is `execute` of another passed proposal: the inner one runs nested; a
        // proposal executing itself finds itself already Executed and fails.
        uint256 next = reg.proposalCount() + 1;
        bytes memory data = abi.encodeCall(IInstitutionRegistry.execute, (next, bytes("selfcall")));
        uint256 id = _pass(data);
        assertEq(id, next, "id");
        bytes32 s = _snap();
        bytes memory inner =
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotPassed.selector, id, P_EXECUTED);
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalExecutionFailed.selector, id, inner)
        );
        reg.execute(id, data);
        assertEq(_snap(), s, "state changed");
    }

    // ================================================================ governance-only functions

    function test_admitInstitution_revertsWhenNotGovernance() public {
        address[2] memory callers = [STRANGER, adminOf[1]];
        for (uint256 k; k < callers.length; ++k) {
            bytes32 s = _snap();
            vm.expectRevert(
                abi.encodeWithSelector(IInstitutionRegistry.InstNotGovernance.selector, callers[k])
            );
            vm.prank(callers[k]);
            reg.admitInstitution("Sneaky", bytes32(0), NEW_ADMIN);
            assertEq(_snap(), s, "state changed");
            assertEq(uint256(reg.institutionCount()), 5, "count");
        }
    }

    function test_admitInstitution_returnsNewId() public {
        vm.prank(address(reg));
        uint64 id = reg.admitInstitution("Direct", bytes32(uint256(1)), NEW_ADMIN);
        assertEq(uint256(id), 6, "id");
    }

    function test_admitInstitution_revertsWhenBadName() public {
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstBadName.selector));
        vm.prank(address(reg));
        reg.admitInstitution("", bytes32(0), NEW_ADMIN);
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstBadName.selector));
        vm.prank(address(reg));
        reg.admitInstitution(string(new bytes(65)), bytes32(0), NEW_ADMIN);
        assertEq(_snap(), s, "state changed");
    }

    function test_admitInstitution_revertsWhenZeroAdmin() public {
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstZeroAddress.selector));
        vm.prank(address(reg));
        reg.admitInstitution("Zero", bytes32(0), address(0));
        assertEq(_snap(), s, "state changed");
    }

    function test_admitInstitution_revertsWhenAdminTaken() public {
        _addAccount(3, USER, R_USER);
        bytes memory data = _admitData("Taken", bytes32(0), USER);
        uint256 id = _pass(data);
        bytes32 s = _snap();
        bytes memory inner =
            abi.encodeWithSelector(IInstitutionRegistry.InstAccountTaken.selector, USER, uint64(3));
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalExecutionFailed.selector, id, inner)
        );
        reg.execute(id, data);
        assertEq(_snap(), s, "state changed");
        assertEq(uint256(reg.institutionCount()), 5, "count");
    }

    function test_admitInstitution_revertsWhenAdminOfExpelledInstitution() public {
        _expel(5);
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.InstAccountTaken.selector, adminOf[5], uint64(5))
        );
        vm.prank(address(reg));
        reg.admitInstitution("Comeback", bytes32(0), adminOf[5]);
        assertEq(_snap(), s, "state changed");
    }

    function test_suspendInstitution_revertsWhenNotGovernance() public {
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotGovernance.selector, STRANGER));
        vm.prank(STRANGER);
        reg.suspendInstitution(5);
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotGovernance.selector, adminOf[1]));
        vm.prank(adminOf[1]);
        reg.suspendInstitution(5);
        assertEq(_snap(), s, "state changed");
        _assertStatus(5, S_ACTIVE);
    }

    function test_suspendInstitution_revertsWhenNotFound() public {
        uint64[2] memory ids = [uint64(0), 6];
        for (uint256 k; k < ids.length; ++k) {
            bytes32 s = _snap();
            vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotFound.selector, ids[k]));
            vm.prank(address(reg));
            reg.suspendInstitution(ids[k]);
            assertEq(_snap(), s, "state changed");
        }
    }

    function test_suspendInstitution_revertsWhenNotFoundViaProposal() public {
        bytes memory data = _suspendData(9);
        uint256 id = _pass(data);
        bytes32 s = _snap();
        bytes memory inner = abi.encodeWithSelector(IInstitutionRegistry.InstNotFound.selector, uint64(9));
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalExecutionFailed.selector, id, inner)
        );
        reg.execute(id, data);
        assertEq(_snap(), s, "state changed");
    }

    function test_suspendInstitution_revertsWhenExpelled() public {
        _expel(5);
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.InstBadStatus.selector, uint64(5), S_EXPELLED)
        );
        vm.prank(address(reg));
        reg.suspendInstitution(5);
        assertEq(_snap(), s, "state changed");
    }

    /// Two proposals passed while two were active, each suspending one of them: the second to execute
    /// would leave nobody, and fails.
    function test_suspendInstitution_revertsWhenLastActive() public {
        reg = _deploy(2, 2, 3);
        bytes memory data1 = _suspendData(1);
        bytes memory data2 = _suspendData(2);
        uint256 id1 = _pass(data1); // electorate 1 (institution 2), required 1
        uint256 id2 = _pass(data2); // electorate 1 (institution 1), required 1
        reg.execute(id1, data1);
        assertEq(uint256(reg.activeCount()), 1, "one left");
        bytes32 s = _snap();
        bytes memory inner = abi.encodeWithSelector(IInstitutionRegistry.InstLastActive.selector, uint64(2));
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalExecutionFailed.selector, id2, inner)
        );
        reg.execute(id2, data2);
        assertEq(_snap(), s, "state changed");
        // And directly.
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstLastActive.selector, uint64(2)));
        vm.prank(address(reg));
        reg.suspendInstitution(2);
        assertEq(_snap(), s, "state changed");
        assertEq(uint256(reg.activeCount()), 1, "activeCount");
        _assertStatus(2, S_ACTIVE);
    }

    /// The last active institution cannot even propose its own suspension or expulsion: with it left
    /// out, nobody could vote.
    function test_propose_revertsWhenTargetIsTheLastActive() public {
        reg = _deploy(2, 2, 3);
        _suspend(2);
        bytes[2] memory calls = [_suspendData(1), _expelData(1)];
        for (uint256 k; k < calls.length; ++k) {
            bytes32 s = _snap();
            vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstLastActive.selector, uint64(1)));
            _proposeBy(1, address(reg), calls[k]);
            assertEq(_snap(), s, "state changed");
        }
        // Proposals about the suspended one keep the full electorate of one.
        uint256 id = _proposeBy(1, address(reg), _expelData(2));
        assertEq(uint256(reg.proposal(id).electorate), 1, "electorate");
        assertEq(uint256(reg.proposal(id).excluded), 2, "excluded");
    }

    function test_expelInstitution_revertsWhenNotGovernance() public {
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotGovernance.selector, STRANGER));
        vm.prank(STRANGER);
        reg.expelInstitution(5);
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotGovernance.selector, adminOf[2]));
        vm.prank(adminOf[2]);
        reg.expelInstitution(5);
        assertEq(_snap(), s, "state changed");
        _assertStatus(5, S_ACTIVE);
    }

    function test_expelInstitution_revertsWhenNotFound() public {
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotFound.selector, uint64(6)));
        vm.prank(address(reg));
        reg.expelInstitution(6);
        assertEq(_snap(), s, "state changed");
    }

    function test_expelInstitution_revertsWhenAlreadyExpelled() public {
        _expel(5);
        bytes memory data = _expelData(5);
        uint256 id = _pass(data);
        bytes32 s = _snap();
        bytes memory inner =
            abi.encodeWithSelector(IInstitutionRegistry.InstBadStatus.selector, uint64(5), S_EXPELLED);
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalExecutionFailed.selector, id, inner)
        );
        reg.execute(id, data);
        assertEq(_snap(), s, "state changed");
    }

    /// Two proposals passed while two were active, each expelling one of them: the second fails.
    function test_expelInstitution_revertsWhenLastActive() public {
        reg = _deploy(2, 2, 3);
        bytes memory data1 = _expelData(2);
        bytes memory data2 = _expelData(1);
        uint256 id1 = _pass(data1);
        uint256 id2 = _pass(data2);
        reg.execute(id1, data1);
        bytes32 s = _snap();
        bytes memory inner = abi.encodeWithSelector(IInstitutionRegistry.InstLastActive.selector, uint64(1));
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalExecutionFailed.selector, id2, inner)
        );
        reg.execute(id2, data2);
        assertEq(_snap(), s, "state changed");
        _assertStatus(1, S_ACTIVE);
    }

    function test_expelInstitution_suspendedAllowedWhenOneActive() public {
        reg = _deploy(2, 2, 3);
        _suspend(2);
        _expel(2); // does not touch the active set
        _assertStatus(2, S_EXPELLED);
        assertEq(uint256(reg.activeCount()), 1, "activeCount");
    }

    function test_reinstateInstitution_revertsWhenNotGovernance() public {
        _suspend(5);
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotGovernance.selector, adminOf[5]));
        vm.prank(adminOf[5]);
        reg.reinstateInstitution(5);
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotGovernance.selector, STRANGER));
        vm.prank(STRANGER);
        reg.reinstateInstitution(5);
        assertEq(_snap(), s, "state changed");
        _assertStatus(5, S_SUSPENDED);
    }

    function test_reinstateInstitution_revertsWhenNotFound() public {
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotFound.selector, uint64(6)));
        vm.prank(address(reg));
        reg.reinstateInstitution(6);
        assertEq(_snap(), s, "state changed");
    }

    function test_reinstateInstitution_revertsWhenExpelled() public {
        _expel(5);
        bytes memory data = _reinstateData(5);
        uint256 id = _pass(data);
        bytes32 s = _snap();
        bytes memory inner =
            abi.encodeWithSelector(IInstitutionRegistry.InstBadStatus.selector, uint64(5), S_EXPELLED);
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalExecutionFailed.selector, id, inner)
        );
        reg.execute(id, data);
        assertEq(_snap(), s, "state changed");
        _assertStatus(5, S_EXPELLED);
        assertEq(uint256(reg.activeCount()), 4, "activeCount");
    }

    function test_reinstateInstitution_revertsWhenActive() public {
        bytes32 s = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.InstBadStatus.selector, uint64(5), S_ACTIVE)
        );
        vm.prank(address(reg));
        reg.reinstateInstitution(5);
        assertEq(_snap(), s, "state changed");
    }

    function test_setThreshold_revertsWhenNotGovernance() public {
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotGovernance.selector, adminOf[1]));
        vm.prank(adminOf[1]);
        reg.setThreshold(1, 2);
        assertEq(_snap(), s, "state changed");
    }

    function test_setThreshold_revertsWhenBadFraction() public {
        bytes memory data = _thresholdData(1, 3);
        uint256 id = _pass(data);
        bytes32 s = _snap();
        bytes memory inner =
            abi.encodeWithSelector(IInstitutionRegistry.GovBadThreshold.selector, uint16(1), uint16(3));
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalExecutionFailed.selector, id, inner)
        );
        reg.execute(id, data);
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.GovBadThreshold.selector, uint16(5), uint16(10))
        );
        vm.prank(address(reg));
        reg.setThreshold(5, 10);
        assertEq(_snap(), s, "state changed");
    }

    /// Strictly above one half, at most one: 1/2 and 0/0 refused, 51/100 and 1/1 accepted.
    function test_setThreshold_boundaries() public {
        uint16[2][5] memory cases = [
            [uint16(1), uint16(2)],
            [uint16(0), uint16(0)],
            [uint16(501), uint16(1001)],
            [uint16(51), uint16(100)],
            [uint16(1), uint16(1)]
        ];
        for (uint256 k; k < cases.length; ++k) {
            (uint16 num, uint16 den) = (cases[k][0], cases[k][1]);
            bool valid = den != 0 && den <= 1000 && num <= den && 2 * uint256(num) > den;
            if (!valid) {
                vm.expectRevert(
                    abi.encodeWithSelector(IInstitutionRegistry.GovBadThreshold.selector, num, den)
                );
            }
            vm.prank(address(reg));
            reg.setThreshold(num, den);
            (uint16 n, uint16 d) = reg.threshold();
            if (valid) assertTrue(n == num && d == den, "set");
        }
        // At unanimity, every active institution must approve.
        assertEq(uint256(reg.proposal(_propose(_periodData(1 days))).required), 5, "1/1 of 5");
    }

    function test_setVotingPeriod_revertsWhenNotGovernance() public {
        bytes32 s = _snap();
        vm.expectRevert(abi.encodeWithSelector(IInstitutionRegistry.InstNotGovernance.selector, STRANGER));
        vm.prank(STRANGER);
        reg.setVotingPeriod(1 days);
        assertEq(_snap(), s, "state changed");
    }

    function test_setVotingPeriod_revertsWhenOutOfRange() public {
        bytes memory data = _periodData(30);
        uint256 id = _pass(data);
        bytes32 s = _snap();
        bytes memory inner =
            abi.encodeWithSelector(IInstitutionRegistry.GovBadVotingPeriod.selector, uint64(30));
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.ProposalExecutionFailed.selector, id, inner)
        );
        reg.execute(id, data);
        vm.expectRevert(
            abi.encodeWithSelector(IInstitutionRegistry.GovBadVotingPeriod.selector, uint64(366 days))
        );
        vm.prank(address(reg));
        reg.setVotingPeriod(366 days);
        assertEq(_snap(), s, "state changed");
    }

    // ================================================================ views

    function test_proposalState_noneForUnknown() public view {
        _assertState(0, P_NONE);
        _assertState(1, P_NONE);
    }

    function test_proposalState_pendingExpiresAtVotingEnd() public {
        uint256 id = _propose(_periodData(1 days));
        uint64 endsAt = reg.proposal(id).votingEndsAt;
        vm.warp(endsAt - 1);
        _assertState(id, P_PENDING);
        vm.warp(endsAt);
        _assertState(id, P_EXPIRED);
        assertEq(uint256(reg.proposal(id).state), uint256(P_PENDING), "stored");
    }

    function test_proposalState_passedExpiresAtExecutionWindowEnd() public {
        uint256 id = _pass(_periodData(1 days));
        IInstitutionRegistry.Proposal memory p = reg.proposal(id);
        assertEq(uint256(p.executableUntil), uint256(p.votingEndsAt) + PERIOD, "window");
        vm.warp(p.votingEndsAt);
        _assertState(id, P_PASSED); // passed proposals outlive the voting period
        vm.warp(p.executableUntil - 1);
        _assertState(id, P_PASSED);
        vm.warp(p.executableUntil);
        _assertState(id, P_EXPIRED);
    }

    function test_proposalState_finalStatesNeverExpire() public {
        uint256 rejected = _propose(_periodData(1 days));
        _voteBy(1, rejected, false);
        _voteBy(2, rejected, false);
        uint256 withdrawn = _propose(_periodData(2 days));
        vm.prank(adminOf[1]);
        reg.withdraw(withdrawn);
        uint256 executed = _exec(_periodData(4 days));
        vm.warp(block.timestamp + 1000 days);
        _assertState(rejected, P_REJECTED);
        _assertState(withdrawn, P_WITHDRAWN);
        _assertState(executed, P_EXECUTED);
    }

    function test_activeInstitutionOf_eachRole() public {
        _addAccount(2, RELAYER, R_RELAYER);
        _addAccount(2, USER, R_USER);
        address admin = adminOf[2];
        // Matching role: the institution.
        assertEq(uint256(reg.activeInstitutionOf(admin, R_ADMIN)), 2, "admin");
        assertEq(uint256(reg.activeInstitutionOf(RELAYER, R_RELAYER)), 2, "relayer");
        assertEq(uint256(reg.activeInstitutionOf(USER, R_USER)), 2, "user");
        // Other roles: 0.
        assertEq(uint256(reg.activeInstitutionOf(admin, R_RELAYER)), 0, "admin as relayer");
        assertEq(uint256(reg.activeInstitutionOf(RELAYER, R_ADMIN)), 0, "relayer as admin");
        assertEq(uint256(reg.activeInstitutionOf(USER, R_RELAYER)), 0, "user as relayer");
        // Role None: 0, for members and strangers alike.
        assertEq(uint256(reg.activeInstitutionOf(admin, R_NONE)), 0, "admin as none");
        assertEq(uint256(reg.activeInstitutionOf(STRANGER, R_NONE)), 0, "stranger as none");
        assertEq(uint256(reg.activeInstitutionOf(STRANGER, R_ADMIN)), 0, "stranger as admin");
    }

    function test_activeInstitutionOf_followsStatus() public {
        _addAccount(5, RELAYER, R_RELAYER);
        _addAccount(5, USER, R_USER);
        address admin = adminOf[5];
        _suspend(5);
        assertEq(uint256(reg.activeInstitutionOf(admin, R_ADMIN)), 0, "suspended admin");
        assertEq(uint256(reg.activeInstitutionOf(RELAYER, R_RELAYER)), 0, "suspended relayer");
        assertEq(uint256(reg.activeInstitutionOf(USER, R_USER)), 0, "suspended user");
        _assertAccount(RELAYER, 5, R_RELAYER); // accountOf reports whatever the status
        _reinstate(5);
        assertEq(uint256(reg.activeInstitutionOf(admin, R_ADMIN)), 5, "reinstated admin");
        assertEq(uint256(reg.activeInstitutionOf(RELAYER, R_RELAYER)), 5, "reinstated relayer");
        assertEq(uint256(reg.activeInstitutionOf(USER, R_USER)), 5, "reinstated user");
        _expel(5);
        assertEq(uint256(reg.activeInstitutionOf(admin, R_ADMIN)), 0, "expelled admin");
        assertEq(uint256(reg.activeInstitutionOf(RELAYER, R_RELAYER)), 0, "expelled relayer");
        assertEq(uint256(reg.activeInstitutionOf(USER, R_USER)), 0, "expelled user");
        _assertAccount(admin, 5, R_ADMIN);
    }

    function test_accountOf_unregisteredIsZero() public view {
        _assertAccount(STRANGER, 0, R_NONE);
        _assertAccount(address(0), 0, R_NONE);
    }

    function test_hasVoted_perProposalAndInstitution() public {
        uint256 a = _propose(_periodData(1 days));
        uint256 b = _propose(_periodData(2 days));
        _voteBy(3, a, false);
        assertTrue(reg.hasVoted(a, 3), "a/3");
        assertFalse(reg.hasVoted(b, 3), "b/3");
        assertFalse(reg.hasVoted(a, 2), "a/2");
        assertFalse(reg.hasVoted(99, 3), "unknown proposal");
    }

    function test_threshold_andVotingPeriodReflectChanges() public {
        _exec(_thresholdData(51, 100));
        _exec(_periodData(2 hours));
        (uint16 num, uint16 den) = reg.threshold();
        assertEq(uint256(num), 51, "num");
        assertEq(uint256(den), 100, "den");
        assertEq(uint256(reg.votingPeriod()), 2 hours, "period");
    }

    function test_epoch_changesOnlyWithTheActiveSet() public {
        assertEq(uint256(reg.epoch()), 5, "genesis");
        _addAccount(1, RELAYER, R_RELAYER);
        _exec(_thresholdData(3, 5));
        _exec(_periodData(1 days));
        uint256 rejected = _propose(_periodData(2 days));
        _voteBy(2, rejected, false);
        _voteBy(3, rejected, false);
        _voteBy(4, rejected, false);
        assertEq(uint256(reg.epoch()), 5, "unchanged by accounts, votes, threshold, period");
        _admit("Newcomer", NEW_ADMIN);
        assertEq(uint256(reg.epoch()), 6, "admit");
        _suspend(6);
        assertEq(uint256(reg.epoch()), 7, "suspend");
        _reinstate(6);
        assertEq(uint256(reg.epoch()), 8, "reinstate");
        _expel(6);
        assertEq(uint256(reg.epoch()), 9, "expel active");
        _suspend(5);
        assertEq(uint256(reg.epoch()), 10, "suspend");
        _expel(5);
        assertEq(uint256(reg.epoch()), 10, "expel suspended");
    }

    function test_institution_unknownIsEmpty() public view {
        IInstitutionRegistry.Institution memory inst = reg.institution(6);
        assertEq(bytes(inst.name).length, 0, "name");
        assertEq(uint256(inst.status), uint256(S_NONE), "status");
        assertFalse(reg.isActive(0), "id 0");
    }

    function test_institutionCount_andActiveCountTrackAdmissions() public {
        _admit("Newcomer", NEW_ADMIN);
        _suspend(2);
        assertEq(uint256(reg.institutionCount()), 6, "count");
        assertEq(uint256(reg.activeCount()), 5, "active");
    }
}
