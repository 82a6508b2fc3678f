// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {GovernanceFixture} from "./ChainRegistry.t.sol";
import {SegmentGen} from "./IPath.t.sol";
import {IInstitutionRegistry} from "../src/interfaces/IInstitutionRegistry.sol";
import {IChainRegistry} from "../src/interfaces/IChainRegistry.sol";
import {IPermissionManager} from "../src/interfaces/IPermissionManager.sol";
import {IPath} from "../src/libraries/IPath.sol";

contract PermissionManagerTest is GovernanceFixture {
    /// The four mutating functions; the account ones act on USER_A, the institution ones on INST_B
    /// (a chain owner may grant on its chain to any institution's subjects).
    enum Fn {
        GrantAccount,
        RevokeAccount,
        GrantInstitution,
        RevokeInstitution
    }

    uint8 internal constant GS = GET | SET;

    // ---------------------------------------------------------------- helpers

    function _isGrant(Fn f) internal pure returns (bool) {
        return f == Fn.GrantAccount || f == Fn.GrantInstitution;
    }

    function _isAccount(Fn f) internal pure returns (bool) {
        return f == Fn.GrantAccount || f == Fn.RevokeAccount;
    }

    function _data(Fn f, bytes32 z, bytes32 c, bytes32 r, uint8 ops) internal view returns (bytes memory) {
        if (f == Fn.GrantAccount) return abi.encodeCall(perms.grantToAccount, (USER_A, z, c, r, ops));
        if (f == Fn.RevokeAccount) return abi.encodeCall(perms.revokeFromAccount, (USER_A, z, c, r, ops));
        if (f == Fn.GrantInstitution) {
            return abi.encodeCall(perms.grantToInstitution, (INST_B, z, c, r, ops));
        }
        return abi.encodeCall(perms.revokeFromInstitution, (INST_B, z, c, r, ops));
    }

    function _ops(Fn f, bytes32 z, bytes32 c, bytes32 r) internal view returns (uint8) {
        return _isAccount(f) ? perms.accountOps(USER_A, z, c, r) : perms.institutionOps(INST_B, z, c, r);
    }

    function _expectEvent(Fn f, bytes32 z, bytes32 c, bytes32 r, uint8 ops, uint8 newOps) internal {
        IPermissionManager.SubjectKind kind = _isAccount(f)
            ? IPermissionManager.SubjectKind.Account
            : IPermissionManager.SubjectKind.Institution;
        bytes32 subject = _isAccount(f) ? bytes32(uint256(uint160(USER_A))) : bytes32(uint256(INST_B));
        bytes32 key = IPath.patternKey(z, c, r);
        vm.expectEmit(true, true, true, true, address(perms));
        if (_isGrant(f)) emit IPermissionManager.PermissionGranted(kind, subject, key, z, c, r, ops, newOps);
        else emit IPermissionManager.PermissionRevoked(kind, subject, key, z, c, r, ops, newOps);
    }

    function _do(Fn f, address caller, bytes32 z, bytes32 c, bytes32 r, uint8 ops) internal {
        bytes memory data = _data(f, z, c, r, ops);
        vm.prank(caller);
        (bool ok, bytes memory ret) = address(perms).call(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    /// @dev `f` as `caller` must revert with exactly `err`. Callers bracket a batch of these with
    /// `_digest()` to prove no tracked view changed.
    function _expectRevertNoChange(
        Fn f,
        address caller,
        bytes32 z,
        bytes32 c,
        bytes32 r,
        uint8 ops,
        bytes memory err
    ) internal {
        bytes memory data = _data(f, z, c, r, ops);
        vm.prank(caller);
        vm.expectRevert(err);
        // A low-level call does not fail the test by itself: forge reports a missing or different
        // revert as this call failing.
        (bool ok, bytes memory ret) = address(perms).call(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    /// @dev Grants GET|SET to both subjects on every tracked pattern of bank-a.ledger and bank-b.ledger, so
    /// a wrongly accepted call (a revocation especially) would show in the digest.
    function _seed() internal {
        bytes32[3][6] memory patterns = [
            [ZONE_A, LEDGER, RES],
            [ZONE_A, LEDGER, W],
            [ZONE_A, W, W],
            [W, W, W],
            [ZONE_B, LEDGER, RES],
            [ZONE_A, LEDGER_2, RES]
        ];
        vm.startPrank(address(registry));
        for (uint256 i; i < patterns.length; ++i) {
            perms.grantToAccount(USER_A, patterns[i][0], patterns[i][1], patterns[i][2], GS);
            perms.grantToInstitution(INST_B, patterns[i][0], patterns[i][1], patterns[i][2], GS);
        }
        vm.stopPrank();
    }

    function _notOwner(address caller, bytes32 z, bytes32 c) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IPermissionManager.PermNotChainOwner.selector, caller, z, c);
    }

    // ---------------------------------------------------------------- shared condition checkers

    function _checkOwnerAdmin(Fn f, bytes32 r) internal {
        if (!_isGrant(f)) _seed();
        uint8 ops = _isGrant(f) ? GET | HTLC : GET;
        uint8 before = _ops(f, ZONE_A, LEDGER, r);
        uint8 expected = _isGrant(f) ? before | ops : before & ~ops;
        uint8 neighbour = _ops(f, ZONE_A, LEDGER_2, RES);

        _expectEvent(f, ZONE_A, LEDGER, r, ops, expected);
        _do(f, ADMIN_A, ZONE_A, LEDGER, r, ops);
        assertEq(_ops(f, ZONE_A, LEDGER, r), expected, "ops after");
        assertEq(_ops(f, ZONE_A, LEDGER_2, RES), neighbour, "neighbour changed");

        // The second admin of the owner may do the same (a grant again is idempotent; a revoke of the
        // rest of the bits).
        uint8 ops2 = _isGrant(f) ? ops : SET;
        uint8 expected2 = _isGrant(f) ? expected | ops2 : expected & ~ops2;
        _expectEvent(f, ZONE_A, LEDGER, r, ops2, expected2);
        _do(f, ADMIN_A2, ZONE_A, LEDGER, r, ops2);
        assertEq(_ops(f, ZONE_A, LEDGER, r), expected2, "ops after second call");
    }

    function _checkNonOwnerAdmin(Fn f) internal {
        _seed();
        bytes32 before = _digest();
        address[5] memory callers = [ADMIN_B, ADMIN_C, USER_A, RELAYER_A, OUTSIDER];
        for (uint256 i; i < callers.length; ++i) {
            _expectRevertNoChange(
                f, callers[i], ZONE_A, LEDGER, RES, GET, _notOwner(callers[i], ZONE_A, LEDGER)
            );
            _expectRevertNoChange(
                f, callers[i], ZONE_A, LEDGER, W, GET, _notOwner(callers[i], ZONE_A, LEDGER)
            );
        }
        // The owner of one chain is not the owner of a same-named chain in another zone.
        _expectRevertNoChange(f, ADMIN_A, ZONE_B, LEDGER, RES, GET, _notOwner(ADMIN_A, ZONE_B, LEDGER));
        assertEq(_digest(), before, "state changed");
    }

    function _checkOwnerSuspended(Fn f) internal {
        _seed();
        _suspend(INST_A);
        bytes32 before = _digest();
        _expectRevertNoChange(f, ADMIN_A, ZONE_A, LEDGER, RES, GET, _notOwner(ADMIN_A, ZONE_A, LEDGER));
        _expectRevertNoChange(f, ADMIN_A2, ZONE_A, LEDGER, W, GET, _notOwner(ADMIN_A2, ZONE_A, LEDGER));
        assertEq(_digest(), before, "state changed");
    }

    function _checkSpanningByAdmin(Fn f) internal {
        _seed();
        bytes32 before = _digest();
        address[3] memory callers = [ADMIN_A, ADMIN_B, OUTSIDER];
        for (uint256 i; i < callers.length; ++i) {
            bytes memory err =
                abi.encodeWithSelector(IPermissionManager.PermNotGovernance.selector, callers[i]);
            _expectRevertNoChange(f, callers[i], ZONE_A, W, W, GET, err);
            _expectRevertNoChange(f, callers[i], W, W, W, GET, err);
        }
        assertEq(_digest(), before, "state changed");
    }

    function _checkSpanningViaProposal(Fn f) internal {
        if (!_isGrant(f)) _seed();
        bytes32[2] memory zones = [ZONE_A, W];
        for (uint256 i; i < 2; ++i) {
            bytes32 z = zones[i];
            uint8 ops = _isGrant(f) ? CALL : SET;
            uint8 before = _ops(f, z, W, W);
            uint8 expected = _isGrant(f) ? before | ops : before & ~ops;
            bytes memory data = _data(f, z, W, W, ops);
            uint256 id = _pass(address(perms), data);
            _expectEvent(f, z, W, W, ops, expected);
            registry.execute(id, data);
            assertEq(_ops(f, z, W, W), expected, "ops after proposal");
        }
    }

    function _checkBadOps(Fn f) internal {
        _seed();
        bytes32 before = _digest();
        uint8[5] memory bad = [0, 0x80, 0xFF, 0x81, 0xC0];
        for (uint256 i; i < bad.length; ++i) {
            bytes memory err = abi.encodeWithSelector(IPermissionManager.PermBadOps.selector, bad[i]);
            _expectRevertNoChange(f, ADMIN_A, ZONE_A, LEDGER, RES, bad[i], err);
            // Governance is held to the same rule.
            _expectRevertNoChange(f, address(registry), W, W, W, bad[i], err);
        }
        assertEq(_digest(), before, "state changed");
    }

    function _checkBadSegments(Fn f) internal {
        _seed();
        bytes32 before = _digest();
        bytes32 dotted = "bank.a";
        bytes32 spaced = "led ger";
        bytes32 padded = bytes32(bytes.concat("xa", bytes1(0), "b"));
        bytes32 starred = "x*";
        // zone, chain, resource, position, reported segment
        bytes32[5][12] memory cases = [
            [bytes32(0), LEDGER, RES, bytes32(0), bytes32(0)],
            [dotted, LEDGER, RES, bytes32(0), dotted],
            [starred, W, W, bytes32(0), starred],
            [ZONE_A, spaced, RES, bytes32(uint256(1)), spaced],
            [ZONE_A, bytes32(0), W, bytes32(uint256(1)), bytes32(0)],
            [ZONE_A, LEDGER, padded, bytes32(uint256(2)), padded],
            [ZONE_A, LEDGER, starred, bytes32(uint256(2)), starred],
            [ZONE_A, LEDGER, bytes32(0), bytes32(uint256(2)), bytes32(0)],
            [W, LEDGER, RES, bytes32(uint256(1)), LEDGER],
            [W, LEDGER, W, bytes32(uint256(1)), LEDGER],
            [W, W, RES, bytes32(uint256(2)), RES],
            [ZONE_A, W, RES, bytes32(uint256(2)), RES]
        ];
        for (uint256 i; i < cases.length; ++i) {
            bytes32[5] memory k = cases[i];
            bytes memory err = abi.encodeWithSelector(
                IPermissionManager.PermBadSegment.selector, uint8(uint256(k[3])), k[4]
            );
            _expectRevertNoChange(f, ADMIN_A, k[0], k[1], k[2], GET, err);
            _expectRevertNoChange(f, address(registry), k[0], k[1], k[2], GET, err);
            // The pattern is checked before the ops.
            _expectRevertNoChange(f, ADMIN_A, k[0], k[1], k[2], 0, err);
        }
        assertEq(_digest(), before, "state changed");
    }

    function _checkChainNotActive(Fn f) internal {
        _seed();
        bytes32 before = _digest();
        bytes memory err =
            abi.encodeWithSelector(IPermissionManager.PermChainNotActive.selector, ZONE_B, LEDGER_2);
        _expectRevertNoChange(f, ADMIN_A, ZONE_B, LEDGER_2, RES, GET, err);
        _expectRevertNoChange(f, ADMIN_B, ZONE_B, LEDGER_2, W, GET, err);
        assertEq(_digest(), before, "state changed");

        _retireChain(ZONE_A, LEDGER);
        before = _digest();
        err = abi.encodeWithSelector(IPermissionManager.PermChainNotActive.selector, ZONE_A, LEDGER);
        _expectRevertNoChange(f, ADMIN_A, ZONE_A, LEDGER, RES, GET, err);
        _expectRevertNoChange(f, ADMIN_A, ZONE_A, LEDGER, W, GET, err);
        assertEq(_digest(), before, "state changed");
    }

    // ---------------------------------------------------------------- views wiring

    function test_registry_returnsInstitutionRegistry() public view {
        assertEq(perms.registry(), address(registry));
    }

    function test_chainRegistry_returnsChainRegistry() public view {
        assertEq(perms.chainRegistry(), address(chains));
    }

    // ---------------------------------------------------------------- grantToAccount

    function test_grantToAccount_ownerAdminExact() public {
        _checkOwnerAdmin(Fn.GrantAccount, RES);
        assertTrue(perms.check(USER_A, ZONE_A, LEDGER, RES, GET));
        assertTrue(perms.check(USER_A, ZONE_A, LEDGER, RES, HTLC));
        assertFalse(perms.check(USER_A, ZONE_A, LEDGER, RES, SET));
    }

    function test_grantToAccount_ownerAdminChainWildcard() public {
        _checkOwnerAdmin(Fn.GrantAccount, W);
        assertTrue(perms.check(USER_A, ZONE_A, LEDGER, RES_2, GET));
        assertEq(perms.accountOps(USER_A, ZONE_A, LEDGER, RES_2), 0, "the pattern slot is not the path slot");
    }

    function test_grantToAccount_accumulatesBits() public {
        _expectEvent(Fn.GrantAccount, ZONE_A, LEDGER, RES, GET, GET);
        _do(Fn.GrantAccount, ADMIN_A, ZONE_A, LEDGER, RES, GET);
        _expectEvent(Fn.GrantAccount, ZONE_A, LEDGER, RES, SET | GET, GS);
        _do(Fn.GrantAccount, ADMIN_A, ZONE_A, LEDGER, RES, SET | GET);
        _expectEvent(Fn.GrantAccount, ZONE_A, LEDGER, RES, 0x7F, 0x7F);
        _do(Fn.GrantAccount, ADMIN_A, ZONE_A, LEDGER, RES, 0x7F);
        assertEq(perms.accountOps(USER_A, ZONE_A, LEDGER, RES), 0x7F);
    }

    function test_grantToAccount_accountOfOtherInstitution() public {
        vm.expectEmit(true, true, true, true, address(perms));
        emit IPermissionManager.PermissionGranted(
            IPermissionManager.SubjectKind.Account,
            bytes32(uint256(uint160(USER_B))),
            IPath.patternKey(ZONE_A, LEDGER, RES),
            ZONE_A,
            LEDGER,
            RES,
            GET,
            GET
        );
        vm.prank(ADMIN_A);
        perms.grantToAccount(USER_B, ZONE_A, LEDGER, RES, GET);
        assertTrue(perms.check(USER_B, ZONE_A, LEDGER, RES, GET));
        assertFalse(perms.check(ADMIN_B, ZONE_A, LEDGER, RES, GET), "no spill to the account's institution");
        assertFalse(perms.checkInstitution(INST_B, ZONE_A, LEDGER, RES, GET));
    }

    function test_grantToAccount_accountOfSuspendedInstitution() public {
        _suspend(INST_B);
        vm.prank(ADMIN_A);
        perms.grantToAccount(USER_B, ZONE_A, LEDGER, RES, GET);
        assertEq(perms.accountOps(USER_B, ZONE_A, LEDGER, RES), GET);
        assertFalse(perms.check(USER_B, ZONE_A, LEDGER, RES, GET), "suspended institution");
        _reinstate(INST_B);
        assertTrue(perms.check(USER_B, ZONE_A, LEDGER, RES, GET));
    }

    function test_grantToAccount_nonOwnerAdmin() public {
        _checkNonOwnerAdmin(Fn.GrantAccount);
    }

    function test_grantToAccount_ownerSuspended() public {
        _checkOwnerSuspended(Fn.GrantAccount);
    }

    function test_grantToAccount_spanningPatternByAdmin() public {
        _checkSpanningByAdmin(Fn.GrantAccount);
    }

    function test_grantToAccount_spanningPatternViaProposal() public {
        _checkSpanningViaProposal(Fn.GrantAccount);
        assertTrue(perms.check(USER_A, ZONE_A, LEDGER, RES, CALL));
        assertTrue(perms.check(USER_A, ZONE_B, LEDGER, RES, CALL));
    }

    function test_grantToAccount_governanceOnUnadmittedChain() public {
        // An executed proposal may grant any well-formed pattern; it only checks once the chain is active.
        _govern(address(perms), _data(Fn.GrantAccount, ZONE_A, "fresh", RES, GET));
        assertEq(perms.accountOps(USER_A, ZONE_A, "fresh", RES), GET);
        assertFalse(perms.check(USER_A, ZONE_A, "fresh", RES, GET));
        _admitChain(ZONE_A, "fresh", 77, INST_C);
        assertTrue(perms.check(USER_A, ZONE_A, "fresh", RES, GET));
    }

    function test_grantToAccount_badOps() public {
        _checkBadOps(Fn.GrantAccount);
    }

    function test_grantToAccount_badSegment() public {
        _checkBadSegments(Fn.GrantAccount);
    }

    function test_grantToAccount_chainNotActive() public {
        _checkChainNotActive(Fn.GrantAccount);
    }

    function test_grantToAccount_unknownAccount() public {
        address[2] memory unknown = [OUTSIDER, address(0)];
        for (uint256 i; i < 2; ++i) {
            bytes32 before = _digest();
            bytes memory err =
                abi.encodeWithSelector(IPermissionManager.PermUnknownAccount.selector, unknown[i]);
            vm.prank(ADMIN_A);
            vm.expectRevert(err);
            perms.grantToAccount(unknown[i], ZONE_A, LEDGER, RES, GET);
            // Governance too.
            vm.prank(address(registry));
            vm.expectRevert(err);
            perms.grantToAccount(unknown[i], W, W, W, GET);
            assertEq(_digest(), before, "state changed");
            assertEq(perms.accountOps(unknown[i], ZONE_A, LEDGER, RES), 0);
        }
    }

    function test_grantToAccount_accountOfExpelledInstitution() public {
        _expel(INST_C);
        bytes32 before = _digest();
        vm.prank(ADMIN_A);
        vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermUnknownAccount.selector, USER_C));
        perms.grantToAccount(USER_C, ZONE_A, LEDGER, RES, GET);
        assertEq(_digest(), before, "state changed");
    }

    function test_grantToAccount_accountRemovedFromInstitution() public {
        _removeAccount(ADMIN_A, USER_A);
        bytes32 before = _digest();
        vm.prank(ADMIN_A);
        vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermUnknownAccount.selector, USER_A));
        perms.grantToAccount(USER_A, ZONE_A, LEDGER, RES, GET);
        assertEq(_digest(), before, "state changed");
    }

    // ---------------------------------------------------------------- revokeFromAccount

    function test_revokeFromAccount_ownerAdminExact() public {
        _checkOwnerAdmin(Fn.RevokeAccount, RES);
        assertEq(perms.accountOps(USER_A, ZONE_A, LEDGER, RES), 0);
        // The chain-wide seed grant still answers.
        assertTrue(perms.check(USER_A, ZONE_A, LEDGER, RES, GET));
    }

    function test_revokeFromAccount_ownerAdminChainWildcard() public {
        _checkOwnerAdmin(Fn.RevokeAccount, W);
        assertEq(perms.accountOps(USER_A, ZONE_A, LEDGER, W), 0);
        assertEq(perms.accountOps(USER_A, ZONE_A, LEDGER, RES), GS, "exact slot untouched");
    }

    function test_revokeFromAccount_partialBitsLeaveRest() public {
        vm.prank(ADMIN_A);
        perms.grantToAccount(USER_A, ZONE_A, LEDGER, RES, GET | SET | HTLC);
        _expectEvent(Fn.RevokeAccount, ZONE_A, LEDGER, RES, SET, GET | HTLC);
        _do(Fn.RevokeAccount, ADMIN_A, ZONE_A, LEDGER, RES, SET);
        assertEq(perms.accountOps(USER_A, ZONE_A, LEDGER, RES), GET | HTLC);
        assertTrue(perms.check(USER_A, ZONE_A, LEDGER, RES, GET));
        assertFalse(perms.check(USER_A, ZONE_A, LEDGER, RES, SET));
        assertTrue(perms.check(USER_A, ZONE_A, LEDGER, RES, HTLC));
    }

    function test_revokeFromAccount_someBitsNotHeld() public {
        vm.prank(ADMIN_A);
        perms.grantToAccount(USER_A, ZONE_A, LEDGER, RES, GET);
        // Revoking GET|CALL while only GET is held: fine, the event reports the request and the result.
        _expectEvent(Fn.RevokeAccount, ZONE_A, LEDGER, RES, GET | CALL, 0);
        _do(Fn.RevokeAccount, ADMIN_A, ZONE_A, LEDGER, RES, GET | CALL);
        assertEq(perms.accountOps(USER_A, ZONE_A, LEDGER, RES), 0);
    }

    function test_revokeFromAccount_nothingToRevoke() public {
        vm.prank(ADMIN_A);
        perms.grantToAccount(USER_A, ZONE_A, LEDGER, RES, GET);
        bytes32 key = IPath.patternKey(ZONE_A, LEDGER, RES);
        bytes32 before = _digest();
        _expectRevertNoChange(
            Fn.RevokeAccount,
            ADMIN_A,
            ZONE_A,
            LEDGER,
            RES,
            SET | CALL,
            abi.encodeWithSelector(IPermissionManager.PermNothingToRevoke.selector, key, SET | CALL)
        );
        // A subject that never held anything, even an unknown one.
        vm.prank(ADMIN_A);
        vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermNothingToRevoke.selector, key, GET));
        perms.revokeFromAccount(OUTSIDER, ZONE_A, LEDGER, RES, GET);
        assertEq(_digest(), before, "state changed");
    }

    function test_revokeFromAccount_departedAccount() public {
        vm.prank(ADMIN_A);
        perms.grantToAccount(USER_B, ZONE_A, LEDGER, RES, GS);
        _removeAccount(ADMIN_B, USER_B);
        vm.prank(ADMIN_A);
        perms.revokeFromAccount(USER_B, ZONE_A, LEDGER, RES, GS);
        assertEq(perms.accountOps(USER_B, ZONE_A, LEDGER, RES), 0);
    }

    function test_revokeFromAccount_governanceOnRetiredChain() public {
        _seed();
        _retireChain(ZONE_A, LEDGER);
        _expectEvent(Fn.RevokeAccount, ZONE_A, LEDGER, RES, GS, 0);
        _do(Fn.RevokeAccount, address(registry), ZONE_A, LEDGER, RES, GS);
        assertEq(perms.accountOps(USER_A, ZONE_A, LEDGER, RES), 0);
    }

    function test_revokeFromAccount_nonOwnerAdmin() public {
        _checkNonOwnerAdmin(Fn.RevokeAccount);
    }

    function test_revokeFromAccount_ownerSuspended() public {
        _checkOwnerSuspended(Fn.RevokeAccount);
    }

    function test_revokeFromAccount_spanningPatternByAdmin() public {
        _checkSpanningByAdmin(Fn.RevokeAccount);
    }

    function test_revokeFromAccount_spanningPatternViaProposal() public {
        _checkSpanningViaProposal(Fn.RevokeAccount);
        assertEq(perms.accountOps(USER_A, W, W, W), GET);
    }

    function test_revokeFromAccount_badOps() public {
        _checkBadOps(Fn.RevokeAccount);
    }

    function test_revokeFromAccount_badSegment() public {
        _checkBadSegments(Fn.RevokeAccount);
    }

    function test_revokeFromAccount_chainNotActive() public {
        _checkChainNotActive(Fn.RevokeAccount);
    }

    // ---------------------------------------------------------------- grantToInstitution

    function test_grantToInstitution_ownerAdminExact() public {
        _checkOwnerAdmin(Fn.GrantInstitution, RES);
        assertTrue(perms.checkInstitution(INST_B, ZONE_A, LEDGER, RES, HTLC));
        assertTrue(perms.check(USER_B, ZONE_A, LEDGER, RES, HTLC), "inherited by its accounts");
        assertFalse(perms.check(USER_A, ZONE_A, LEDGER, RES, HTLC), "not by another institution's");
    }

    function test_grantToInstitution_ownerAdminChainWildcard() public {
        _checkOwnerAdmin(Fn.GrantInstitution, W);
        assertTrue(perms.checkInstitution(INST_B, ZONE_A, LEDGER, RES_2, GET));
        assertFalse(perms.checkInstitution(INST_B, ZONE_A, LEDGER_2, RES_2, GET));
    }

    function test_grantToInstitution_ownInstitution() public {
        vm.expectEmit(true, true, true, true, address(perms));
        emit IPermissionManager.PermissionGranted(
            IPermissionManager.SubjectKind.Institution,
            bytes32(uint256(INST_A)),
            IPath.patternKey(ZONE_A, LEDGER, W),
            ZONE_A,
            LEDGER,
            W,
            CALL,
            CALL
        );
        vm.prank(ADMIN_A);
        perms.grantToInstitution(INST_A, ZONE_A, LEDGER, W, CALL);
        assertTrue(perms.check(RELAYER_A, ZONE_A, LEDGER, RES, CALL));
    }

    function test_grantToInstitution_suspendedInstitution() public {
        _suspend(INST_B);
        _do(Fn.GrantInstitution, ADMIN_A, ZONE_A, LEDGER, RES, GET);
        assertEq(perms.institutionOps(INST_B, ZONE_A, LEDGER, RES), GET);
        assertFalse(perms.checkInstitution(INST_B, ZONE_A, LEDGER, RES, GET));
    }

    function test_grantToInstitution_unknownInstitution() public {
        uint64[2] memory unknown = [uint64(0), NO_INST];
        for (uint256 i; i < 2; ++i) {
            bytes32 before = _digest();
            bytes memory err =
                abi.encodeWithSelector(IPermissionManager.PermUnknownInstitution.selector, unknown[i]);
            vm.prank(ADMIN_A);
            vm.expectRevert(err);
            perms.grantToInstitution(unknown[i], ZONE_A, LEDGER, RES, GET);
            vm.prank(address(registry));
            vm.expectRevert(err);
            perms.grantToInstitution(unknown[i], W, W, W, GET);
            assertEq(_digest(), before, "state changed");
        }
    }

    function test_grantToInstitution_expelledInstitution() public {
        _expel(INST_C);
        bytes32 before = _digest();
        bytes memory err = abi.encodeWithSelector(IPermissionManager.PermUnknownInstitution.selector, INST_C);
        vm.prank(ADMIN_A);
        vm.expectRevert(err);
        perms.grantToInstitution(INST_C, ZONE_A, LEDGER, RES, GET);
        assertEq(_digest(), before, "state changed");
        // Through a proposal as well.
        bytes memory data = abi.encodeCall(perms.grantToInstitution, (INST_C, W, W, W, GET));
        uint256 id = _pass(address(perms), data);
        before = _digest();
        vm.expectRevert(_failed(id, err));
        registry.execute(id, data);
        assertEq(_digest(), before, "state changed");
    }

    function test_grantToInstitution_nonOwnerAdmin() public {
        _checkNonOwnerAdmin(Fn.GrantInstitution);
    }

    function test_grantToInstitution_ownerSuspended() public {
        _checkOwnerSuspended(Fn.GrantInstitution);
    }

    function test_grantToInstitution_spanningPatternByAdmin() public {
        _checkSpanningByAdmin(Fn.GrantInstitution);
    }

    function test_grantToInstitution_spanningPatternViaProposal() public {
        _checkSpanningViaProposal(Fn.GrantInstitution);
        assertTrue(perms.checkInstitution(INST_B, ZONE_A, LEDGER_2, RES, CALL));
        assertTrue(perms.check(RELAYER_B, ZONE_B, LEDGER, RES, CALL));
    }

    function test_grantToInstitution_badOps() public {
        _checkBadOps(Fn.GrantInstitution);
    }

    function test_grantToInstitution_badSegment() public {
        _checkBadSegments(Fn.GrantInstitution);
    }

    function test_grantToInstitution_chainNotActive() public {
        _checkChainNotActive(Fn.GrantInstitution);
    }

    // ---------------------------------------------------------------- revokeFromInstitution

    function test_revokeFromInstitution_ownerAdminExact() public {
        _checkOwnerAdmin(Fn.RevokeInstitution, RES);
        assertEq(perms.institutionOps(INST_B, ZONE_A, LEDGER, RES), 0);
    }

    function test_revokeFromInstitution_ownerAdminChainWildcard() public {
        _checkOwnerAdmin(Fn.RevokeInstitution, W);
        assertEq(perms.institutionOps(INST_B, ZONE_A, LEDGER, W), 0);
    }

    function test_revokeFromInstitution_partialBitsLeaveRest() public {
        vm.prank(ADMIN_A);
        perms.grantToInstitution(INST_B, ZONE_A, LEDGER, RES, GET | CALL | HTLC);
        _expectEvent(Fn.RevokeInstitution, ZONE_A, LEDGER, RES, CALL | HTLC, GET);
        _do(Fn.RevokeInstitution, ADMIN_A, ZONE_A, LEDGER, RES, CALL | HTLC);
        assertEq(perms.institutionOps(INST_B, ZONE_A, LEDGER, RES), GET);
        assertTrue(perms.checkInstitution(INST_B, ZONE_A, LEDGER, RES, GET));
        assertFalse(perms.checkInstitution(INST_B, ZONE_A, LEDGER, RES, CALL));
    }

    function test_revokeFromInstitution_nothingToRevoke() public {
        bytes32 key = IPath.patternKey(ZONE_A, LEDGER, RES);
        bytes32 before = _digest();
        _expectRevertNoChange(
            Fn.RevokeInstitution,
            ADMIN_A,
            ZONE_A,
            LEDGER,
            RES,
            GET,
            abi.encodeWithSelector(IPermissionManager.PermNothingToRevoke.selector, key, GET)
        );
        // Unknown institution: nothing held either.
        vm.prank(ADMIN_A);
        vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermNothingToRevoke.selector, key, GET));
        perms.revokeFromInstitution(NO_INST, ZONE_A, LEDGER, RES, GET);
        assertEq(_digest(), before, "state changed");
    }

    function test_revokeFromInstitution_expelledInstitution() public {
        _seed();
        _expel(INST_B);
        // Cleaning up after an expelled institution is allowed.
        _expectEvent(Fn.RevokeInstitution, ZONE_A, LEDGER, RES, GS, 0);
        _do(Fn.RevokeInstitution, ADMIN_A, ZONE_A, LEDGER, RES, GS);
    }

    function test_revokeFromInstitution_nonOwnerAdmin() public {
        _checkNonOwnerAdmin(Fn.RevokeInstitution);
    }

    function test_revokeFromInstitution_ownerSuspended() public {
        _checkOwnerSuspended(Fn.RevokeInstitution);
    }

    function test_revokeFromInstitution_spanningPatternByAdmin() public {
        _checkSpanningByAdmin(Fn.RevokeInstitution);
    }

    function test_revokeFromInstitution_spanningPatternViaProposal() public {
        _checkSpanningViaProposal(Fn.RevokeInstitution);
        assertEq(perms.institutionOps(INST_B, ZONE_A, W, W), GET);
    }

    function test_revokeFromInstitution_badOps() public {
        _checkBadOps(Fn.RevokeInstitution);
    }

    function test_revokeFromInstitution_badSegment() public {
        _checkBadSegments(Fn.RevokeInstitution);
    }

    function test_revokeFromInstitution_chainNotActive() public {
        _checkChainNotActive(Fn.RevokeInstitution);
    }

    // ---------------------------------------------------------------- check

    /// @dev Asserts `account` holds exactly `ops` (as far as check() tells) on `z.c.r`.
    function _assertHolds(address account, bytes32 z, bytes32 c, bytes32 r, uint8 ops) internal view {
        for (uint256 b; b < 7; ++b) {
            uint8 op = uint8(1 << b);
            assertEq(perms.check(account, z, c, r, op), ops & op != 0, "check");
        }
    }

    function _assertInstHolds(uint64 id, bytes32 z, bytes32 c, bytes32 r, uint8 ops) internal view {
        for (uint256 b; b < 7; ++b) {
            uint8 op = uint8(1 << b);
            assertEq(perms.checkInstitution(id, z, c, r, op), ops & op != 0, "checkInstitution");
        }
    }

    function test_check_exactGrant() public {
        vm.prank(ADMIN_A);
        perms.grantToAccount(USER_A, ZONE_A, LEDGER, RES, GET | HTLC);
        _assertHolds(USER_A, ZONE_A, LEDGER, RES, GET | HTLC);
        _assertHolds(USER_A, ZONE_A, LEDGER, RES_2, 0); // other resource
        _assertHolds(USER_A, ZONE_A, LEDGER, "x", 0); // prefix of the resource
        _assertHolds(USER_A, ZONE_A, LEDGER_2, RES, 0); // other chain (an extension of the name)
        _assertHolds(USER_A, ZONE_B, LEDGER, RES, 0); // other zone
        _assertHolds(ADMIN_A, ZONE_A, LEDGER, RES, 0); // other account, same institution
        _assertInstHolds(INST_A, ZONE_A, LEDGER, RES, 0);
    }

    function test_check_chainWildcardGrant() public {
        vm.prank(ADMIN_A);
        perms.grantToAccount(USER_A, ZONE_A, LEDGER, W, SET);
        _assertHolds(USER_A, ZONE_A, LEDGER, RES, SET);
        _assertHolds(USER_A, ZONE_A, LEDGER, RES_2, SET);
        _assertHolds(USER_A, ZONE_A, LEDGER, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", SET);
        _assertHolds(USER_A, ZONE_A, LEDGER_2, RES, 0);
        _assertHolds(USER_A, ZONE_B, LEDGER, RES, 0);
    }

    function test_check_zoneWildcardGrant() public {
        _govern(address(perms), abi.encodeCall(perms.grantToAccount, (USER_A, ZONE_A, W, W, CALL)));
        _assertHolds(USER_A, ZONE_A, LEDGER, RES, CALL);
        _assertHolds(USER_A, ZONE_A, LEDGER_2, RES_2, CALL);
        _assertHolds(USER_A, ZONE_B, LEDGER, RES, 0);
        _admitChain("bank", LEDGER, 9, INST_A); // a prefix of the zone
        _admitChain("bank-a2", LEDGER, 10, INST_A); // an extension of the zone
        _assertHolds(USER_A, "bank", LEDGER, RES, 0);
        _assertHolds(USER_A, "bank-a2", LEDGER, RES, 0);
    }

    function test_check_allWildcardGrant() public {
        _govern(address(perms), abi.encodeCall(perms.grantToAccount, (USER_B, W, W, W, HTLC)));
        _assertHolds(USER_B, ZONE_A, LEDGER, RES, HTLC);
        _assertHolds(USER_B, ZONE_A, LEDGER_2, RES, HTLC);
        _assertHolds(USER_B, ZONE_B, LEDGER, RES_2, HTLC);
        _assertHolds(USER_B, ZONE_B, LEDGER_2, RES, 0); // not an admitted chain
        _assertHolds(ADMIN_B, ZONE_A, LEDGER, RES, 0);
    }

    function test_check_institutionInheritedGrant() public {
        vm.prank(ADMIN_A);
        perms.grantToInstitution(INST_B, ZONE_A, LEDGER, RES, GET);
        _govern(address(perms), abi.encodeCall(perms.grantToInstitution, (INST_B, ZONE_B, W, W, SET)));
        _govern(address(perms), abi.encodeCall(perms.grantToInstitution, (INST_C, W, W, W, CALL)));
        address[3] memory bAccounts = [ADMIN_B, RELAYER_B, USER_B];
        for (uint256 i; i < 3; ++i) {
            _assertHolds(bAccounts[i], ZONE_A, LEDGER, RES, GET);
            _assertHolds(bAccounts[i], ZONE_A, LEDGER, RES_2, 0);
            _assertHolds(bAccounts[i], ZONE_B, LEDGER, RES_2, SET);
        }
        _assertHolds(USER_A, ZONE_A, LEDGER, RES, 0);
        _assertHolds(USER_C, ZONE_A, LEDGER, RES, CALL);
        _assertHolds(USER_C, ZONE_B, LEDGER, RES, CALL);
    }

    function test_check_ownAndInheritedCombine() public {
        vm.startPrank(ADMIN_A);
        perms.grantToAccount(USER_A, ZONE_A, LEDGER, RES, GET);
        perms.grantToInstitution(INST_A, ZONE_A, LEDGER, W, SET);
        vm.stopPrank();
        _assertHolds(USER_A, ZONE_A, LEDGER, RES, GS);
        _assertHolds(USER_A, ZONE_A, LEDGER, RES_2, SET);
    }

    function test_check_falseWhenInstitutionSuspended() public {
        vm.prank(ADMIN_A);
        perms.grantToAccount(USER_B, ZONE_A, LEDGER, RES, GET);
        vm.prank(ADMIN_A);
        perms.grantToInstitution(INST_B, ZONE_A, LEDGER, RES, SET);
        _suspend(INST_B);
        _assertHolds(USER_B, ZONE_A, LEDGER, RES, 0);
        _assertHolds(ADMIN_B, ZONE_A, LEDGER, RES, 0);
        _reinstate(INST_B);
        _assertHolds(USER_B, ZONE_A, LEDGER, RES, GS);
    }

    function test_check_falseWhenInstitutionExpelled() public {
        _govern(address(perms), abi.encodeCall(perms.grantToAccount, (USER_C, W, W, W, GET)));
        _expel(INST_C);
        _assertHolds(USER_C, ZONE_A, LEDGER, RES, 0);
    }

    function test_check_falseWhenChainRetired() public {
        _govern(address(perms), abi.encodeCall(perms.grantToAccount, (USER_A, W, W, W, GET)));
        vm.prank(ADMIN_A);
        perms.grantToAccount(USER_A, ZONE_A, LEDGER, RES, SET);
        _retireChain(ZONE_A, LEDGER);
        _assertHolds(USER_A, ZONE_A, LEDGER, RES, 0);
        _assertHolds(USER_A, ZONE_A, LEDGER_2, RES, GET);
    }

    function test_check_falseWhenAccountRemoved() public {
        vm.startPrank(ADMIN_A);
        perms.grantToAccount(USER_A, ZONE_A, LEDGER, RES, GET);
        perms.grantToInstitution(INST_A, ZONE_A, LEDGER, RES, SET);
        vm.stopPrank();
        _removeAccount(ADMIN_A, USER_A);
        _assertHolds(USER_A, ZONE_A, LEDGER, RES, 0);
        _assertHolds(RELAYER_A, ZONE_A, LEDGER, RES, SET);
    }

    /// @dev Documents current behaviour (a design question, see the report): grants to an account are
    /// keyed by address, so they follow it into another institution; inherited grants do not.
    function test_check_accountGrantsFollowAddressAcrossInstitutions() public {
        vm.startPrank(ADMIN_A);
        perms.grantToAccount(USER_A, ZONE_A, LEDGER, RES, GET);
        perms.grantToInstitution(INST_A, ZONE_A, LEDGER, RES, SET);
        vm.stopPrank();
        _removeAccount(ADMIN_A, USER_A);
        _addAccount(ADMIN_B, USER_A, IInstitutionRegistry.Role.User);
        _assertHolds(USER_A, ZONE_A, LEDGER, RES, GET);
    }

    /// @dev Documents current behaviour (a design question, see the report): a suspended or expelled
    /// owner leaves its chain active, so grants on it keep checking for other institutions' accounts,
    /// while the owner's admins can no longer change them (governance still can).
    function test_check_chainOfInactiveOwnerStillChecks() public {
        vm.prank(ADMIN_A);
        perms.grantToAccount(USER_B, ZONE_A, LEDGER, RES, GET);
        _suspend(INST_A);
        assertTrue(chains.isActiveChain(ZONE_A, LEDGER));
        _assertHolds(USER_B, ZONE_A, LEDGER, RES, GET);
        vm.prank(address(registry));
        perms.revokeFromAccount(USER_B, ZONE_A, LEDGER, RES, GET);
        _assertHolds(USER_B, ZONE_A, LEDGER, RES, 0);
    }

    function test_check_falseForUnregisteredAccounts() public {
        _govern(address(perms), abi.encodeCall(perms.grantToInstitution, (INST_A, W, W, W, 0x7F)));
        _assertHolds(OUTSIDER, ZONE_A, LEDGER, RES, 0);
        _assertHolds(address(0), ZONE_A, LEDGER, RES, 0);
    }

    function test_check_falseOnUnadmittedChain() public {
        _govern(address(perms), abi.encodeCall(perms.grantToAccount, (USER_A, W, W, W, GET)));
        _assertHolds(USER_A, ZONE_B, LEDGER_2, RES, 0);
        _assertHolds(USER_A, "nowhere", "none", RES, 0);
    }

    function test_check_revertsOnWildcardQuery() public {
        bytes32[3][3] memory queries = [[ZONE_A, LEDGER, W], [ZONE_A, W, W], [W, W, W]];
        uint8[3] memory positions = [2, 1, 0];
        for (uint256 i; i < 3; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(IPermissionManager.PermBadSegment.selector, positions[i], W)
            );
            perms.check(USER_A, queries[i][0], queries[i][1], queries[i][2], GET);
        }
    }

    function test_check_revertsOnBadSegment() public {
        bytes32 padded = bytes32(bytes.concat("xa", bytes1(0), "b"));
        vm.expectRevert(
            abi.encodeWithSelector(IPermissionManager.PermBadSegment.selector, uint8(0), bytes32(0))
        );
        perms.check(USER_A, 0, LEDGER, RES, GET);
        vm.expectRevert(
            abi.encodeWithSelector(IPermissionManager.PermBadSegment.selector, uint8(1), bytes32("a.b"))
        );
        perms.check(USER_A, ZONE_A, "a.b", RES, GET);
        vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermBadSegment.selector, uint8(2), padded));
        perms.check(USER_A, ZONE_A, LEDGER, padded, GET);
        // Segments are checked before the op.
        vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermBadSegment.selector, uint8(2), padded));
        perms.check(USER_A, ZONE_A, LEDGER, padded, 0);
    }

    function test_check_revertsOnBadOp() public {
        uint8[6] memory bad = [0, 3, GS, 0x80, 0xFF, 0x7F];
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermBadOp.selector, bad[i]));
            perms.check(USER_A, ZONE_A, LEDGER, RES, bad[i]);
        }
    }

    // ---------------------------------------------------------------- checkInstitution

    function test_checkInstitution_patterns() public {
        vm.prank(ADMIN_A);
        perms.grantToInstitution(INST_C, ZONE_A, LEDGER, RES, GET);
        vm.prank(ADMIN_A);
        perms.grantToInstitution(INST_C, ZONE_A, LEDGER_2, W, SET);
        _govern(address(perms), abi.encodeCall(perms.grantToInstitution, (INST_C, ZONE_B, W, W, CALL)));
        _govern(address(perms), abi.encodeCall(perms.grantToInstitution, (INST_C, W, W, W, HTLC)));
        _assertInstHolds(INST_C, ZONE_A, LEDGER, RES, GET | HTLC);
        _assertInstHolds(INST_C, ZONE_A, LEDGER, RES_2, HTLC);
        _assertInstHolds(INST_C, ZONE_A, LEDGER_2, RES_2, SET | HTLC);
        _assertInstHolds(INST_C, ZONE_B, LEDGER, RES, CALL | HTLC);
        _assertInstHolds(INST_B, ZONE_A, LEDGER, RES, 0);
        _assertInstHolds(INST_A, ZONE_A, LEDGER, RES, 0);
    }

    function test_checkInstitution_ignoresAccountGrants() public {
        vm.prank(ADMIN_A);
        perms.grantToAccount(ADMIN_A, ZONE_A, LEDGER, RES, GET);
        _assertInstHolds(INST_A, ZONE_A, LEDGER, RES, 0);
    }

    function test_checkInstitution_falseWhenNotActive() public {
        _govern(address(perms), abi.encodeCall(perms.grantToInstitution, (INST_B, W, W, W, GET)));
        _govern(address(perms), abi.encodeCall(perms.grantToInstitution, (INST_C, W, W, W, GET)));
        _suspend(INST_B);
        _expel(INST_C);
        _assertInstHolds(INST_B, ZONE_A, LEDGER, RES, 0);
        _assertInstHolds(INST_C, ZONE_A, LEDGER, RES, 0);
        _assertInstHolds(0, ZONE_A, LEDGER, RES, 0);
        _assertInstHolds(NO_INST, ZONE_A, LEDGER, RES, 0);
    }

    function test_checkInstitution_falseWhenChainRetiredOrUnknown() public {
        _govern(address(perms), abi.encodeCall(perms.grantToInstitution, (INST_B, W, W, W, GET)));
        _retireChain(ZONE_B, LEDGER);
        _assertInstHolds(INST_B, ZONE_B, LEDGER, RES, 0);
        _assertInstHolds(INST_B, ZONE_B, LEDGER_2, RES, 0);
        _assertInstHolds(INST_B, ZONE_A, LEDGER, RES, GET);
    }

    function test_checkInstitution_revertsOnBadQuery() public {
        vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermBadSegment.selector, uint8(2), W));
        perms.checkInstitution(INST_A, ZONE_A, LEDGER, W, GET);
        vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermBadSegment.selector, uint8(0), W));
        perms.checkInstitution(INST_A, W, W, W, GET);
        vm.expectRevert(
            abi.encodeWithSelector(IPermissionManager.PermBadSegment.selector, uint8(1), bytes32(0))
        );
        perms.checkInstitution(INST_A, ZONE_A, 0, RES, GET);
        vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermBadOp.selector, uint8(0x80)));
        perms.checkInstitution(INST_A, ZONE_A, LEDGER, RES, 0x80);
        vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermBadOp.selector, uint8(0)));
        perms.checkInstitution(INST_A, ZONE_A, LEDGER, RES, 0);
        vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermBadOp.selector, uint8(GET | CALL)));
        perms.checkInstitution(INST_A, ZONE_A, LEDGER, RES, GET | CALL);
    }

    // ---------------------------------------------------------------- accountOps / institutionOps

    function test_accountOps_exactPatternOnly() public {
        vm.prank(ADMIN_A);
        perms.grantToAccount(USER_A, ZONE_A, LEDGER, W, GET);
        assertEq(perms.accountOps(USER_A, ZONE_A, LEDGER, W), GET);
        assertEq(perms.accountOps(USER_A, ZONE_A, LEDGER, RES), 0);
        assertEq(perms.accountOps(USER_A, ZONE_A, W, W), 0);
        assertEq(perms.accountOps(ADMIN_A, ZONE_A, LEDGER, W), 0);
    }

    function test_accountOps_revertsOnBadPattern() public {
        vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermBadSegment.selector, uint8(2), RES));
        perms.accountOps(USER_A, ZONE_A, W, RES);
        vm.expectRevert(
            abi.encodeWithSelector(IPermissionManager.PermBadSegment.selector, uint8(0), bytes32(0))
        );
        perms.accountOps(USER_A, 0, 0, 0);
    }

    function test_institutionOps_exactPatternOnly() public {
        _govern(address(perms), abi.encodeCall(perms.grantToInstitution, (INST_A, ZONE_A, W, W, SET)));
        assertEq(perms.institutionOps(INST_A, ZONE_A, W, W), SET);
        assertEq(perms.institutionOps(INST_A, ZONE_A, LEDGER, W), 0);
        assertEq(perms.institutionOps(INST_A, W, W, W), 0);
        assertEq(perms.institutionOps(INST_B, ZONE_A, W, W), 0);
    }

    function test_institutionOps_revertsOnBadPattern() public {
        vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermBadSegment.selector, uint8(1), LEDGER));
        perms.institutionOps(INST_A, W, LEDGER, W);
    }

    // ---------------------------------------------------------------- shared vectors

    function test_vectors_patternsThroughGrant() public {
        string memory json = vm.readFile("../fixtures/ipath_vectors.json");
        string[] memory valid = abi.decode(vm.parseJson(json, ".validPatterns"), (string[]));
        string[] memory invalid = abi.decode(vm.parseJson(json, ".invalidPatterns"), (string[]));
        vm.startPrank(address(registry));
        for (uint256 i; i < valid.length; ++i) {
            (bool ok, bytes32[3] memory s) = SegmentGen.parse(valid[i], true);
            assertTrue(ok, valid[i]);
            perms.grantToInstitution(INST_A, s[0], s[1], s[2], GET);
            assertEq(perms.institutionOps(INST_A, s[0], s[1], s[2]), GET, valid[i]);
        }
        for (uint256 i; i < invalid.length; ++i) {
            (bool ok, bytes32[3] memory s) = SegmentGen.parse(invalid[i], true);
            if (!ok) continue;
            uint8 pos = SegmentGen.refFirstInvalidInPattern(s);
            vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermBadSegment.selector, pos, s[pos]));
            perms.grantToInstitution(INST_A, s[0], s[1], s[2], GET);
        }
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- fuzz

    /// @dev Admits `zone.chain` for INST_A unless already known.
    function _ensureChain(bytes32 zone, bytes32 chain) internal {
        if (chains.chainOf(zone, chain).status == IChainRegistry.ChainStatus.None) {
            vm.prank(address(registry));
            chains.admitChain(zone, chain, EVM, 1, INST_A, GENESIS);
        }
    }

    /// @dev A different valid segment close to `s`: a strict prefix, a strict extension, or a fresh one.
    function _neighbour(bytes32 s, uint256 seed) internal pure returns (bytes32 t) {
        uint256 len = SegmentGen.length(s);
        uint256 mode = seed % 3;
        if (mode == 0 && len > 1) {
            t = SegmentGen.prefix(s, 1 + ((seed >> 8) % (len - 1)));
        } else if (mode <= 1 && len < 32) {
            uint256 extra = 1 + ((seed >> 8) % (32 - len));
            bytes32 tail = SegmentGen.segment(seed >> 16, extra);
            t = s | (tail >> (len * 8));
        } else {
            t = SegmentGen.segment(seed >> 24, 1 + ((seed >> 32) % 32));
            if (t == s) t = SegmentGen.withByte(s, 0, s[0] == "a" ? bytes1("b") : bytes1("a"));
        }
        assert(t != s && IPath.isSegment(t));
    }

    struct Path {
        bytes32 zone;
        bytes32 chain;
        bytes32 resource;
    }

    function _randomPath(uint256 seed, uint256 lens) internal pure returns (Path memory p) {
        p.zone = SegmentGen.segment(uint256(keccak256(abi.encode(seed, "z"))), 1 + (lens % 32));
        p.chain = SegmentGen.segment(uint256(keccak256(abi.encode(seed, "c"))), 1 + ((lens >> 8) % 32));
        p.resource = SegmentGen.segment(uint256(keccak256(abi.encode(seed, "r"))), 1 + ((lens >> 16) % 32));
    }

    function testFuzz_chainWildcard_neverCrossesSegment(
        uint256 seed,
        uint256 lens,
        uint256 nseed,
        uint8 rawOps
    ) public {
        Path memory p = _randomPath(seed, lens);
        bytes32 otherZone = _neighbour(p.zone, nseed);
        bytes32 otherChain = _neighbour(p.chain, uint256(keccak256(abi.encode(nseed))));
        bytes32 otherRes = _neighbour(p.resource, uint256(keccak256(abi.encode(nseed, 1))));
        uint8 ops = uint8(bound(rawOps, 1, 127));
        _ensureChain(p.zone, p.chain);
        _ensureChain(otherZone, p.chain);
        _ensureChain(p.zone, otherChain);

        vm.prank(ADMIN_A);
        perms.grantToAccount(USER_A, p.zone, p.chain, W, ops);

        _assertHolds(USER_A, p.zone, p.chain, p.resource, ops);
        _assertHolds(USER_A, p.zone, p.chain, otherRes, ops);
        _assertHolds(USER_A, otherZone, p.chain, p.resource, 0);
        _assertHolds(USER_A, p.zone, otherChain, p.resource, 0);
    }

    function testFuzz_exactGrant_onlyExactPath(uint256 seed, uint256 lens, uint256 nseed, uint8 rawOps)
        public
    {
        Path memory p = _randomPath(seed, lens);
        bytes32 otherZone = _neighbour(p.zone, nseed);
        bytes32 otherChain = _neighbour(p.chain, uint256(keccak256(abi.encode(nseed))));
        bytes32 otherRes = _neighbour(p.resource, uint256(keccak256(abi.encode(nseed, 1))));
        uint8 ops = uint8(bound(rawOps, 1, 127));
        _ensureChain(p.zone, p.chain);
        _ensureChain(otherZone, p.chain);
        _ensureChain(p.zone, otherChain);

        vm.prank(ADMIN_A);
        perms.grantToAccount(USER_A, p.zone, p.chain, p.resource, ops);

        _assertHolds(USER_A, p.zone, p.chain, p.resource, ops);
        _assertHolds(USER_A, p.zone, p.chain, otherRes, 0);
        _assertHolds(USER_A, otherZone, p.chain, p.resource, 0);
        _assertHolds(USER_A, p.zone, otherChain, p.resource, 0);
        // Same segments in other positions.
        _ensureChain(p.chain, p.zone);
        _assertHolds(USER_A, p.chain, p.zone, p.resource, p.chain == p.zone ? ops : 0);
    }

    function testFuzz_zoneWildcard_neverCrossesZone(uint256 seed, uint256 lens, uint256 nseed, uint8 rawOps)
        public
    {
        Path memory p = _randomPath(seed, lens);
        bytes32 otherZone = _neighbour(p.zone, nseed);
        uint8 ops = uint8(bound(rawOps, 1, 127));
        _ensureChain(p.zone, p.chain);
        _ensureChain(otherZone, p.chain);

        vm.prank(address(registry));
        perms.grantToAccount(USER_A, p.zone, W, W, ops);

        _assertHolds(USER_A, p.zone, p.chain, p.resource, ops);
        _assertHolds(USER_A, otherZone, p.chain, p.resource, 0);
    }

    function testFuzz_institutionGrant_neverLeaks(uint256 seed, uint256 lens, uint8 kind, uint8 rawOps)
        public
    {
        Path memory p = _randomPath(seed, lens);
        uint8 ops = uint8(bound(rawOps, 1, 127));
        _ensureChain(p.zone, p.chain);
        bytes32[3] memory pattern = [p.zone, p.chain, p.resource];
        kind %= 4;
        if (kind >= 1) pattern[2] = W;
        if (kind >= 2) pattern[1] = W;
        if (kind >= 3) pattern[0] = W;

        vm.prank(kind >= 2 ? address(registry) : ADMIN_A);
        perms.grantToInstitution(INST_A, pattern[0], pattern[1], pattern[2], ops);

        _assertInstHolds(INST_A, p.zone, p.chain, p.resource, ops);
        _assertHolds(USER_A, p.zone, p.chain, p.resource, ops);
        _assertHolds(RELAYER_A, p.zone, p.chain, p.resource, ops);
        _assertInstHolds(INST_B, p.zone, p.chain, p.resource, 0);
        _assertInstHolds(INST_C, p.zone, p.chain, p.resource, 0);
        _assertHolds(USER_B, p.zone, p.chain, p.resource, 0);
        _assertHolds(ADMIN_C, p.zone, p.chain, p.resource, 0);
        _assertHolds(OUTSIDER, p.zone, p.chain, p.resource, 0);
    }

    function testFuzz_accountGrant_neverLeaksToInstitutionOrPeers(uint256 seed, uint256 lens, uint8 rawOps)
        public
    {
        Path memory p = _randomPath(seed, lens);
        uint8 ops = uint8(bound(rawOps, 1, 127));
        _ensureChain(p.zone, p.chain);
        vm.prank(ADMIN_A);
        perms.grantToAccount(USER_A, p.zone, p.chain, p.resource, ops);
        _assertHolds(USER_A, p.zone, p.chain, p.resource, ops);
        _assertHolds(ADMIN_A, p.zone, p.chain, p.resource, 0);
        _assertHolds(USER_B, p.zone, p.chain, p.resource, 0);
        _assertInstHolds(INST_A, p.zone, p.chain, p.resource, 0);
    }

    function testFuzz_revoke_clearsExactlyTheBits(uint8 granted, uint8 revoked) public {
        granted = uint8(bound(granted, 1, 127));
        revoked = uint8(bound(revoked, 1, 127));
        vm.startPrank(ADMIN_A);
        perms.grantToAccount(USER_A, ZONE_A, LEDGER, RES, granted);
        if (granted & revoked == 0) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IPermissionManager.PermNothingToRevoke.selector,
                    IPath.patternKey(ZONE_A, LEDGER, RES),
                    revoked
                )
            );
        }
        perms.revokeFromAccount(USER_A, ZONE_A, LEDGER, RES, revoked);
        vm.stopPrank();
        uint8 expected = granted & revoked == 0 ? granted : granted & ~revoked;
        assertEq(perms.accountOps(USER_A, ZONE_A, LEDGER, RES), expected);
        _assertHolds(USER_A, ZONE_A, LEDGER, RES, expected);
    }

    function testFuzz_check_validatesQuery(bytes32 z, bytes32 c, bytes32 r, uint8 op, uint8 mode) public {
        // Half of the runs use well-formed paths so the op check is reached too.
        if (mode % 2 == 0) {
            z = ZONE_A;
            c = LEDGER;
            r = SegmentGen.segment(uint256(r), 1 + (uint256(r) % 32));
        }
        bytes32[3] memory s = [z, c, r];
        uint8 pos = SegmentGen.refFirstInvalid(s);
        uint256 bits;
        for (uint256 b; b < 8; ++b) {
            if ((op >> b) & 1 == 1) ++bits;
        }
        if (pos < 3) {
            vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermBadSegment.selector, pos, s[pos]));
        } else if (bits != 1 || op >= 0x80) {
            vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermBadOp.selector, op));
        }
        perms.check(USER_A, z, c, r, op);
    }

    function testFuzz_grant_validatesPattern(uint256 kinds, uint256 seed) public {
        bytes32[3] memory s;
        for (uint256 i; i < 3; ++i) {
            uint256 kind = (kinds >> (8 * i)) % 4;
            uint256 sd = uint256(keccak256(abi.encode(seed, i)));
            if (kind == 0) {
                s[i] = SegmentGen.segment(sd, 1 + (sd % 32));
            } else if (kind == 1) {
                s[i] = W;
            } else if (kind == 2) {
                s[i] = bytes32(sd);
            } else {
                s[i] = SegmentGen.withByte(
                    SegmentGen.segment(sd, 1 + (sd % 32)), sd % 32, bytes1(uint8(sd >> 8))
                );
            }
        }
        uint8 pos = SegmentGen.refFirstInvalidInPattern(s);
        if (pos < 3) {
            vm.expectRevert(abi.encodeWithSelector(IPermissionManager.PermBadSegment.selector, pos, s[pos]));
        }
        vm.prank(address(registry));
        perms.grantToInstitution(INST_C, s[0], s[1], s[2], GET);
        if (pos == 3) assertEq(perms.institutionOps(INST_C, s[0], s[1], s[2]), GET);
    }
}
