// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "./utils/Test.sol";
import {InstitutionRegistry} from "../src/governance/InstitutionRegistry.sol";
import {ChainRegistry} from "../src/governance/ChainRegistry.sol";
import {PermissionManager} from "../src/governance/PermissionManager.sol";
import {IInstitutionRegistry} from "../src/interfaces/IInstitutionRegistry.sol";
import {IChainRegistry} from "../src/interfaces/IChainRegistry.sol";
import {IPermissionManager} from "../src/interfaces/IPermissionManager.sol";
import {IPath} from "../src/libraries/IPath.sol";
import {ResourceOps} from "../src/libraries/ResourceOps.sol";

/// @notice A consortium of three founders (A, B, C; threshold 2/3 so every proposal needs two votes), a
/// ChainRegistry and a PermissionManager wired to it, three admitted chains, and a digest of every view
/// the suites read, to prove a revert changed nothing.
abstract contract GovernanceFixture is Test {
    InstitutionRegistry internal registry;
    ChainRegistry internal chains;
    PermissionManager internal perms;

    uint64 internal constant INST_A = 1;
    uint64 internal constant INST_B = 2;
    uint64 internal constant INST_C = 3;
    uint64 internal constant NO_INST = 99;

    address internal constant ADMIN_A = address(0xA0);
    address internal constant ADMIN_A2 = address(0xA1);
    address internal constant RELAYER_A = address(0xA2);
    address internal constant RELAYER_A2 = address(0xA3);
    address internal constant USER_A = address(0xA4);
    address internal constant ADMIN_B = address(0xB0);
    address internal constant RELAYER_B = address(0xB2);
    address internal constant USER_B = address(0xB4);
    address internal constant ADMIN_C = address(0xC0);
    address internal constant RELAYER_C = address(0xC2);
    address internal constant USER_C = address(0xC4);
    address internal constant OUTSIDER = address(0xDEAD);

    bytes32 internal constant ZONE_A = "bank-a";
    bytes32 internal constant ZONE_B = "bank-b";
    bytes32 internal constant LEDGER = "ledger";
    bytes32 internal constant LEDGER_2 = "ledger-2";
    bytes32 internal constant EVM = "evm";
    bytes32 internal constant RES = "xa";
    bytes32 internal constant RES_2 = "xa2";
    bytes32 internal constant W = "*";
    bytes32 internal constant GENESIS = keccak256("genesis");

    uint8 internal constant GET = ResourceOps.GET_DATA;
    uint8 internal constant SET = ResourceOps.SET_DATA;
    uint8 internal constant CALL = ResourceOps.CALL;
    uint8 internal constant HTLC = ResourceOps.HTLC;

    struct Pair {
        bytes32 zone;
        bytes32 chain;
    }

    /// Chains (admitted or not) whose views the digest covers; tests may add more.
    Pair[] internal _tracked;

    function setUp() public virtual {
        IInstitutionRegistry.Founder[] memory founders = new IInstitutionRegistry.Founder[](3);
        founders[0] = IInstitutionRegistry.Founder("Bank A", keccak256("cert A"), ADMIN_A);
        founders[1] = IInstitutionRegistry.Founder("Bank B", keccak256("cert B"), ADMIN_B);
        founders[2] = IInstitutionRegistry.Founder("Bank C", keccak256("cert C"), ADMIN_C);
        registry = new InstitutionRegistry(founders, 2, 3, 1 days);
        chains = new ChainRegistry(registry);
        perms = new PermissionManager(registry, chains);

        _addAccount(ADMIN_A, ADMIN_A2, IInstitutionRegistry.Role.Admin);
        _addAccount(ADMIN_A, RELAYER_A, IInstitutionRegistry.Role.Relayer);
        _addAccount(ADMIN_A, RELAYER_A2, IInstitutionRegistry.Role.Relayer);
        _addAccount(ADMIN_A, USER_A, IInstitutionRegistry.Role.User);
        _addAccount(ADMIN_B, RELAYER_B, IInstitutionRegistry.Role.Relayer);
        _addAccount(ADMIN_B, USER_B, IInstitutionRegistry.Role.User);
        _addAccount(ADMIN_C, RELAYER_C, IInstitutionRegistry.Role.Relayer);
        _addAccount(ADMIN_C, USER_C, IInstitutionRegistry.Role.User);

        _admitChain(ZONE_A, LEDGER, 1001, INST_A);
        _admitChain(ZONE_A, LEDGER_2, 1002, INST_A);
        _admitChain(ZONE_B, LEDGER, 2001, INST_B);

        _tracked.push(Pair(ZONE_A, LEDGER));
        _tracked.push(Pair(ZONE_A, LEDGER_2));
        _tracked.push(Pair(ZONE_B, LEDGER));
        _tracked.push(Pair(ZONE_B, LEDGER_2)); // never admitted by the fixture
        _tracked.push(Pair(ZONE_A, "fresh")); // admitted by some tests
    }

    // ---------------------------------------------------------------- governance helpers

    function _addAccount(address admin, address account, IInstitutionRegistry.Role role) internal {
        vm.prank(admin);
        registry.addAccount(account, role);
    }

    function _removeAccount(address admin, address account) internal {
        vm.prank(admin);
        registry.removeAccount(account);
    }

    function _founderAdmins() internal pure returns (address[3] memory) {
        return [ADMIN_A, ADMIN_B, ADMIN_C];
    }

    /// @notice Proposes `data` on `target` and has every eligible active founder approve it until it passes
    /// (the target of a suspension or expulsion is not eligible).
    function _pass(address target, bytes memory data) internal returns (uint256 id) {
        address[3] memory admins = _founderAdmins();
        address proposer;
        for (uint256 i; i < 3; ++i) {
            if (registry.activeInstitutionOf(admins[i], IInstitutionRegistry.Role.Admin) != 0) {
                proposer = admins[i];
                break;
            }
        }
        vm.prank(proposer);
        id = registry.propose(target, data, "test proposal");
        for (uint256 i; i < 3; ++i) {
            if (registry.proposalState(id) != IInstitutionRegistry.ProposalState.Pending) break;
            if (registry.activeInstitutionOf(admins[i], IInstitutionRegistry.Role.Admin) == 0) continue;
            if (registry.proposal(id).excluded == i + 1) continue;
            vm.prank(admins[i]);
            registry.vote(id, true);
        }
        assertTrue(
            registry.proposalState(id) == IInstitutionRegistry.ProposalState.Passed, "proposal did not pass"
        );
    }

    /// @notice Passes and executes a proposal: the call reaches `target` from the registry.
    function _govern(address target, bytes memory data) internal returns (uint256 id) {
        id = _pass(target, data);
        registry.execute(id, data);
        assertTrue(registry.proposalState(id) == IInstitutionRegistry.ProposalState.Executed, "not executed");
    }

    /// @notice The revert data `execute` surfaces when the governed call reverts with `inner`.
    function _failed(uint256 id, bytes memory inner) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IInstitutionRegistry.ProposalExecutionFailed.selector, id, inner);
    }

    function _admitChain(bytes32 zone, bytes32 chain, uint256 chainId, uint64 owner) internal {
        _govern(
            address(chains), abi.encodeCall(chains.admitChain, (zone, chain, EVM, chainId, owner, GENESIS))
        );
    }

    function _retireChain(bytes32 zone, bytes32 chain) internal {
        _govern(address(chains), abi.encodeCall(chains.retireChain, (zone, chain)));
    }

    function _suspend(uint64 id) internal {
        _govern(address(registry), abi.encodeCall(registry.suspendInstitution, (id)));
    }

    function _reinstate(uint64 id) internal {
        _govern(address(registry), abi.encodeCall(registry.reinstateInstitution, (id)));
    }

    function _expel(uint64 id) internal {
        _govern(address(registry), abi.encodeCall(registry.expelInstitution, (id)));
    }

    function _setServing(address admin, bytes32 zone, bytes32 chain, address relayer, bool serving) internal {
        address[] memory list = new address[](1);
        list[0] = relayer;
        vm.prank(admin);
        chains.setServingRelayers(zone, chain, list, serving);
    }

    // ---------------------------------------------------------------- state digest

    /// @notice Hash of every chain view, serving flag, grant slot and check result the suites care about.
    function _digest() internal view returns (bytes32 h) {
        uint256 n = chains.chainCount();
        h = keccak256(abi.encode(n));
        for (uint256 i; i < n; ++i) {
            bytes32 key = chains.chainKeyAt(i);
            h = keccak256(abi.encode(h, key, chains.chainByKey(key)));
        }
        for (uint256 t; t < _tracked.length; ++t) {
            h = _digestChain(h, _tracked[t].zone, _tracked[t].chain);
        }
    }

    function _digestChain(bytes32 h, bytes32 z, bytes32 c) private view returns (bytes32) {
        h = keccak256(abi.encode(h, chains.chainOf(z, c), chains.isActiveChain(z, c)));
        address[5] memory relayers = [RELAYER_A, RELAYER_A2, RELAYER_B, RELAYER_C, USER_A];
        for (uint256 a; a < relayers.length; ++a) {
            h = keccak256(abi.encode(h, chains.isServingRelayer(z, c, relayers[a])));
        }
        bytes32[3][5] memory patterns = [[z, c, RES], [z, c, RES_2], [z, c, W], [z, W, W], [W, W, W]];
        address[4] memory accounts = [USER_A, USER_B, ADMIN_A, OUTSIDER];
        uint64[4] memory insts = [INST_A, INST_B, INST_C, NO_INST];
        for (uint256 p; p < patterns.length; ++p) {
            for (uint256 i; i < 4; ++i) {
                h = keccak256(
                    abi.encode(
                        h,
                        perms.accountOps(accounts[i], patterns[p][0], patterns[p][1], patterns[p][2]),
                        perms.institutionOps(insts[i], patterns[p][0], patterns[p][1], patterns[p][2])
                    )
                );
            }
        }
        uint8[3] memory ops = [GET, SET, CALL];
        for (uint256 o; o < 3; ++o) {
            h = keccak256(
                abi.encode(
                    h,
                    perms.check(USER_A, z, c, RES, ops[o]),
                    perms.check(USER_B, z, c, RES, ops[o]),
                    perms.checkInstitution(INST_A, z, c, RES, ops[o]),
                    perms.checkInstitution(INST_B, z, c, RES, ops[o])
                )
            );
        }
        return h;
    }

    function _assertChain(
        IChainRegistry.Chain memory c,
        bytes32 zone,
        bytes32 chain,
        uint256 chainId,
        uint64 owner,
        IChainRegistry.ChainStatus status
    ) internal pure {
        assertEq(c.zone, zone, "zone");
        assertEq(c.chain, chain, "chain");
        assertEq(c.chainType, EVM, "chainType");
        assertEq(c.chainId, chainId, "chainId");
        assertEq(uint256(c.owner), uint256(owner), "owner");
        assertEq(c.genesisHash, GENESIS, "genesis");
        assertEq(uint256(c.status), uint256(status), "status");
    }
}

contract ChainRegistryTest is GovernanceFixture {
    bytes32 internal constant FRESH = "fresh";

    function _admitData(bytes32 zone, bytes32 chain, bytes32 chainType, uint256 chainId, uint64 owner)
        internal
        view
        returns (bytes memory)
    {
        return abi.encodeCall(chains.admitChain, (zone, chain, chainType, chainId, owner, GENESIS));
    }

    function _badSegments() internal pure returns (bytes32[7] memory) {
        return [
            bytes32(0), // empty
            W, // wildcard
            bytes32("a.b"), // dot
            bytes32("a b"), // space
            bytes32("caf\xc3\xa9"), // non-ASCII
            bytes32(uint256(0x61)), // right-aligned
            bytes32(bytes.concat("ab", bytes1(0), "c")) // a byte after the padding
        ];
    }

    /// @dev Expects `data` run by an executed proposal to revert with `inner`, with no state change.
    function _expectGovernedRevert(bytes memory data, bytes memory inner) internal {
        uint256 id = _pass(address(chains), data);
        bytes32 before = _digest();
        vm.expectRevert(_failed(id, inner));
        registry.execute(id, data);
        assertEq(_digest(), before, "state changed");
        assertTrue(
            registry.proposalState(id) == IInstitutionRegistry.ProposalState.Passed, "still executable"
        );
    }

    // ---------------------------------------------------------------- fixture sanity

    function test_setUp_fixture() public view {
        assertEq(chains.chainCount(), 3);
        assertEq(registry.activeCount(), 3);
        assertEq(registry.activeInstitutionOf(ADMIN_A2, IInstitutionRegistry.Role.Admin), INST_A);
        assertEq(registry.activeInstitutionOf(RELAYER_B, IInstitutionRegistry.Role.Relayer), INST_B);
    }

    // ---------------------------------------------------------------- registry / constants

    function test_registry_returnsInstitutionRegistry() public view {
        assertEq(chains.registry(), address(registry));
    }

    function test_MAX_RELAYERS_PER_CALL_is16() public view {
        assertEq(chains.MAX_RELAYERS_PER_CALL(), 16);
    }

    // ---------------------------------------------------------------- admitChain

    function test_admitChain_viaProposal_storesAndEmits() public {
        bytes memory data = _admitData(ZONE_A, FRESH, EVM, 7, INST_B);
        uint256 id = _pass(address(chains), data);
        bytes32 key = IPath.chainKey(ZONE_A, FRESH);

        vm.expectEmit(true, true, true, true, address(chains));
        emit IChainRegistry.ChainAdmitted(key, ZONE_A, FRESH, EVM, 7, INST_B, GENESIS);
        registry.execute(id, data);

        _assertChain(
            chains.chainOf(ZONE_A, FRESH), ZONE_A, FRESH, 7, INST_B, IChainRegistry.ChainStatus.Active
        );
        _assertChain(chains.chainByKey(key), ZONE_A, FRESH, 7, INST_B, IChainRegistry.ChainStatus.Active);
        assertTrue(chains.isActiveChain(ZONE_A, FRESH));
        assertEq(chains.chainCount(), 4);
        assertEq(chains.chainKeyAt(3), key);
    }

    function test_admitChain_acceptsMaximalSegments() public {
        bytes32 z = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
        bytes32 c = "abcdefghijklmnopqrstuvwxyz_-6789";
        vm.prank(address(registry));
        chains.admitChain(z, c, "x", type(uint256).max, INST_C, bytes32(0));
        IChainRegistry.Chain memory got = chains.chainOf(z, c);
        assertEq(got.chainId, type(uint256).max);
        assertEq(got.chainType, bytes32("x"));
        assertEq(uint256(got.owner), uint256(INST_C));
    }

    function test_admitChain_sameNameInOtherZoneIsDistinct() public view {
        IChainRegistry.Chain memory a = chains.chainOf(ZONE_A, LEDGER);
        IChainRegistry.Chain memory b = chains.chainOf(ZONE_B, LEDGER);
        assertEq(a.chainId, 1001);
        assertEq(b.chainId, 2001);
        assertEq(uint256(b.owner), uint256(INST_B));
    }

    function test_admitChain_revertsWhenCalledDirectly() public {
        bytes32 before = _digest();
        address[3] memory callers = [ADMIN_A, OUTSIDER, address(perms)];
        for (uint256 i; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(abi.encodeWithSelector(IChainRegistry.ChainNotGovernance.selector, callers[i]));
            chains.admitChain(ZONE_A, FRESH, EVM, 7, INST_A, GENESIS);
        }
        assertEq(_digest(), before, "state changed");
        assertEq(uint256(chains.chainOf(ZONE_A, FRESH).status), 0);
    }

    function test_admitChain_badZoneSegment_viaProposal() public {
        bytes32 bad = "bank.a";
        _expectGovernedRevert(
            _admitData(bad, FRESH, EVM, 7, INST_A),
            abi.encodeWithSelector(IChainRegistry.ChainBadSegment.selector, uint8(0), bad)
        );
    }

    function test_admitChain_badChainSegment_viaProposal() public {
        _expectGovernedRevert(
            _admitData(ZONE_A, W, EVM, 7, INST_A),
            abi.encodeWithSelector(IChainRegistry.ChainBadSegment.selector, uint8(1), W)
        );
    }

    function test_admitChain_badChainTypeSegment_viaProposal() public {
        _expectGovernedRevert(
            _admitData(ZONE_A, FRESH, bytes32(0), 7, INST_A),
            abi.encodeWithSelector(IChainRegistry.ChainBadSegment.selector, uint8(2), bytes32(0))
        );
    }

    function test_admitChain_badSegmentInEachPosition() public {
        bytes32[7] memory bad = _badSegments();
        bytes32 before = _digest();
        for (uint256 i; i < bad.length; ++i) {
            for (uint8 pos; pos < 3; ++pos) {
                bytes32[3] memory s = [ZONE_A, FRESH, EVM];
                s[pos] = bad[i];
                vm.prank(address(registry));
                vm.expectRevert(abi.encodeWithSelector(IChainRegistry.ChainBadSegment.selector, pos, bad[i]));
                chains.admitChain(s[0], s[1], s[2], 7, INST_A, GENESIS);
            }
        }
        // The first bad segment is reported.
        vm.prank(address(registry));
        vm.expectRevert(abi.encodeWithSelector(IChainRegistry.ChainBadSegment.selector, uint8(0), W));
        chains.admitChain(W, W, W, 0, NO_INST, GENESIS);
        assertEq(_digest(), before, "state changed");
    }

    function test_admitChain_zeroChainId() public {
        _expectGovernedRevert(
            _admitData(ZONE_A, FRESH, EVM, 0, INST_A),
            abi.encodeWithSelector(IChainRegistry.ChainZeroChainId.selector)
        );
        assertEq(uint256(chains.chainOf(ZONE_A, FRESH).status), 0);
    }

    function test_admitChain_ownerSuspended() public {
        _suspend(INST_B);
        _expectGovernedRevert(
            _admitData(ZONE_A, FRESH, EVM, 7, INST_B),
            abi.encodeWithSelector(IChainRegistry.ChainOwnerNotActive.selector, INST_B)
        );
    }

    function test_admitChain_ownerExpelled() public {
        _expel(INST_C);
        _expectGovernedRevert(
            _admitData(ZONE_A, FRESH, EVM, 7, INST_C),
            abi.encodeWithSelector(IChainRegistry.ChainOwnerNotActive.selector, INST_C)
        );
    }

    function test_admitChain_ownerNonexistent() public {
        _expectGovernedRevert(
            _admitData(ZONE_A, FRESH, EVM, 7, NO_INST),
            abi.encodeWithSelector(IChainRegistry.ChainOwnerNotActive.selector, NO_INST)
        );
        bytes32 before = _digest();
        vm.prank(address(registry));
        vm.expectRevert(abi.encodeWithSelector(IChainRegistry.ChainOwnerNotActive.selector, uint64(0)));
        chains.admitChain(ZONE_A, FRESH, EVM, 7, 0, GENESIS);
        assertEq(_digest(), before, "state changed");
    }

    function test_admitChain_alreadyAdmitted() public {
        // Even with a different owner, type and chain id: the name is taken.
        _expectGovernedRevert(
            _admitData(ZONE_A, LEDGER, "other", 9, INST_C),
            abi.encodeWithSelector(IChainRegistry.ChainAlreadyAdmitted.selector, ZONE_A, LEDGER)
        );
        _assertChain(
            chains.chainOf(ZONE_A, LEDGER), ZONE_A, LEDGER, 1001, INST_A, IChainRegistry.ChainStatus.Active
        );
    }

    function test_admitChain_retiredThenReadmitted() public {
        _retireChain(ZONE_A, LEDGER);
        _expectGovernedRevert(
            _admitData(ZONE_A, LEDGER, EVM, 1001, INST_A),
            abi.encodeWithSelector(IChainRegistry.ChainAlreadyAdmitted.selector, ZONE_A, LEDGER)
        );
        assertEq(uint256(chains.chainOf(ZONE_A, LEDGER).status), uint256(IChainRegistry.ChainStatus.Retired));
        assertEq(chains.chainCount(), 3);
    }

    // ---------------------------------------------------------------- retireChain

    function test_retireChain_viaProposal_emitsAndStopsEverything() public {
        _setServing(ADMIN_A, ZONE_A, LEDGER, RELAYER_A, true);
        vm.prank(ADMIN_A);
        perms.grantToAccount(USER_A, ZONE_A, LEDGER, RES, GET);
        assertTrue(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
        assertTrue(perms.check(USER_A, ZONE_A, LEDGER, RES, GET));

        bytes memory data = abi.encodeCall(chains.retireChain, (ZONE_A, LEDGER));
        uint256 id = _pass(address(chains), data);
        vm.expectEmit(true, true, true, true, address(chains));
        emit IChainRegistry.ChainRetired(IPath.chainKey(ZONE_A, LEDGER));
        registry.execute(id, data);

        _assertChain(
            chains.chainOf(ZONE_A, LEDGER), ZONE_A, LEDGER, 1001, INST_A, IChainRegistry.ChainStatus.Retired
        );
        assertFalse(chains.isActiveChain(ZONE_A, LEDGER));
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A), "relayer still serving");
        assertFalse(perms.check(USER_A, ZONE_A, LEDGER, RES, GET), "permission still checks");
        assertEq(chains.chainCount(), 3, "retired chains stay listed");
        // Other chains are untouched.
        assertTrue(chains.isActiveChain(ZONE_A, LEDGER_2));
        assertTrue(chains.isActiveChain(ZONE_B, LEDGER));
    }

    function test_retireChain_revertsWhenCalledDirectly() public {
        bytes32 before = _digest();
        vm.prank(ADMIN_A);
        vm.expectRevert(abi.encodeWithSelector(IChainRegistry.ChainNotGovernance.selector, ADMIN_A));
        chains.retireChain(ZONE_A, LEDGER);
        assertEq(_digest(), before, "state changed");
        assertTrue(chains.isActiveChain(ZONE_A, LEDGER));
    }

    function test_retireChain_notFound() public {
        _expectGovernedRevert(
            abi.encodeCall(chains.retireChain, (ZONE_B, LEDGER_2)),
            abi.encodeWithSelector(IChainRegistry.ChainNotFound.selector, ZONE_B, LEDGER_2)
        );
    }

    function test_retireChain_notActive() public {
        _retireChain(ZONE_A, LEDGER);
        bytes32 before = _digest();
        vm.prank(address(registry));
        vm.expectRevert(abi.encodeWithSelector(IChainRegistry.ChainNotActive.selector, ZONE_A, LEDGER));
        chains.retireChain(ZONE_A, LEDGER);
        assertEq(_digest(), before, "state changed");
    }

    // ---------------------------------------------------------------- setServingRelayers

    function test_setServingRelayers_ownerAdminSetsAndUnsets() public {
        address[] memory list = new address[](2);
        list[0] = RELAYER_A;
        list[1] = RELAYER_A2;
        bytes32 key = IPath.chainKey(ZONE_A, LEDGER);

        vm.expectEmit(true, true, true, true, address(chains));
        emit IChainRegistry.ServingRelayerSet(key, RELAYER_A, true);
        vm.expectEmit(true, true, true, true, address(chains));
        emit IChainRegistry.ServingRelayerSet(key, RELAYER_A2, true);
        vm.prank(ADMIN_A);
        chains.setServingRelayers(ZONE_A, LEDGER, list, true);
        assertTrue(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
        assertTrue(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A2));
        // Serving one chain says nothing about another.
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER_2, RELAYER_A));

        list = new address[](1);
        list[0] = RELAYER_A;
        vm.expectEmit(true, true, true, true, address(chains));
        emit IChainRegistry.ServingRelayerSet(key, RELAYER_A, false);
        vm.prank(ADMIN_A);
        chains.setServingRelayers(ZONE_A, LEDGER, list, false);
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
        assertTrue(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A2));
    }

    function test_setServingRelayers_anyOwnerAdmin() public {
        bytes32 key = IPath.chainKey(ZONE_A, LEDGER);
        vm.expectEmit(true, true, true, true, address(chains));
        emit IChainRegistry.ServingRelayerSet(key, RELAYER_A, true);
        _setServing(ADMIN_A2, ZONE_A, LEDGER, RELAYER_A, true);
        assertTrue(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
    }

    function test_setServingRelayers_idempotent() public {
        _setServing(ADMIN_A, ZONE_A, LEDGER, RELAYER_A, true);
        _setServing(ADMIN_A, ZONE_A, LEDGER, RELAYER_A, true);
        assertTrue(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
        _setServing(ADMIN_A, ZONE_A, LEDGER, RELAYER_A, false);
        _setServing(ADMIN_A, ZONE_A, LEDGER, RELAYER_A, false);
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
    }

    function test_setServingRelayers_sixteenAccepted() public {
        address[] memory list = new address[](16);
        for (uint256 i; i < 16; ++i) {
            list[i] = i % 2 == 0 ? RELAYER_A : RELAYER_A2;
        }
        vm.prank(ADMIN_A);
        chains.setServingRelayers(ZONE_A, LEDGER, list, true);
        assertTrue(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A2));
    }

    function _expectServingRevert(address caller, address[] memory list, bool serving, bytes memory err)
        internal
    {
        bytes32 before = _digest();
        vm.prank(caller);
        vm.expectRevert(err);
        chains.setServingRelayers(ZONE_A, LEDGER, list, serving);
        assertEq(_digest(), before, "state changed");
    }

    function _one(address a) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    function test_setServingRelayers_nonOwnerAdmin() public {
        _expectServingRevert(
            ADMIN_B,
            _one(RELAYER_A),
            true,
            abi.encodeWithSelector(IChainRegistry.ChainNotOwnerAdmin.selector, ADMIN_B, INST_A)
        );
        // Not even to unset.
        _setServing(ADMIN_A, ZONE_A, LEDGER, RELAYER_A, true);
        _expectServingRevert(
            ADMIN_B,
            _one(RELAYER_A),
            false,
            abi.encodeWithSelector(IChainRegistry.ChainNotOwnerAdmin.selector, ADMIN_B, INST_A)
        );
        assertTrue(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
    }

    function test_setServingRelayers_ownerNonAdminAccounts() public {
        address[3] memory callers = [USER_A, RELAYER_A, OUTSIDER];
        for (uint256 i; i < callers.length; ++i) {
            _expectServingRevert(
                callers[i],
                _one(RELAYER_A),
                true,
                abi.encodeWithSelector(IChainRegistry.ChainNotOwnerAdmin.selector, callers[i], INST_A)
            );
        }
    }

    function test_setServingRelayers_ownerUserAccountIsNotRelayer() public {
        _expectServingRevert(
            ADMIN_A,
            _one(USER_A),
            true,
            abi.encodeWithSelector(IChainRegistry.ChainNotOwnerRelayer.selector, USER_A, INST_A)
        );
        _expectServingRevert(
            ADMIN_A,
            _one(ADMIN_A2),
            true,
            abi.encodeWithSelector(IChainRegistry.ChainNotOwnerRelayer.selector, ADMIN_A2, INST_A)
        );
    }

    function test_setServingRelayers_otherInstitutionsRelayer() public {
        _expectServingRevert(
            ADMIN_A,
            _one(RELAYER_B),
            true,
            abi.encodeWithSelector(IChainRegistry.ChainNotOwnerRelayer.selector, RELAYER_B, INST_A)
        );
        _expectServingRevert(
            ADMIN_A,
            _one(OUTSIDER),
            true,
            abi.encodeWithSelector(IChainRegistry.ChainNotOwnerRelayer.selector, OUTSIDER, INST_A)
        );
    }

    function test_setServingRelayers_badEntryRevertsWholeList() public {
        address[] memory list = new address[](2);
        list[0] = RELAYER_A;
        list[1] = USER_A;
        _expectServingRevert(
            ADMIN_A,
            list,
            true,
            abi.encodeWithSelector(IChainRegistry.ChainNotOwnerRelayer.selector, USER_A, INST_A)
        );
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
    }

    function test_setServingRelayers_emptyList() public {
        _expectServingRevert(
            ADMIN_A,
            new address[](0),
            true,
            abi.encodeWithSelector(IChainRegistry.ChainBadRelayerCount.selector, uint256(0))
        );
    }

    function test_setServingRelayers_seventeen() public {
        address[] memory list = new address[](17);
        for (uint256 i; i < 17; ++i) {
            list[i] = RELAYER_A;
        }
        _expectServingRevert(
            ADMIN_A,
            list,
            true,
            abi.encodeWithSelector(IChainRegistry.ChainBadRelayerCount.selector, uint256(17))
        );
        _expectServingRevert(
            ADMIN_A,
            list,
            false,
            abi.encodeWithSelector(IChainRegistry.ChainBadRelayerCount.selector, uint256(17))
        );
    }

    function test_setServingRelayers_chainNotFound() public {
        bytes32 before = _digest();
        vm.prank(ADMIN_B);
        vm.expectRevert(abi.encodeWithSelector(IChainRegistry.ChainNotFound.selector, ZONE_B, LEDGER_2));
        chains.setServingRelayers(ZONE_B, LEDGER_2, _one(RELAYER_B), true);
        assertEq(_digest(), before, "state changed");
    }

    function test_setServingRelayers_chainRetired() public {
        _setServing(ADMIN_A, ZONE_A, LEDGER, RELAYER_A, true);
        _retireChain(ZONE_A, LEDGER);
        _expectServingRevert(
            ADMIN_A,
            _one(RELAYER_A),
            false,
            abi.encodeWithSelector(IChainRegistry.ChainNotActive.selector, ZONE_A, LEDGER)
        );
    }

    function test_setServingRelayers_unsetDepartedAccount() public {
        _setServing(ADMIN_A, ZONE_A, LEDGER, RELAYER_A, true);
        _removeAccount(ADMIN_A, RELAYER_A);
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));

        vm.expectEmit(true, true, true, true, address(chains));
        emit IChainRegistry.ServingRelayerSet(IPath.chainKey(ZONE_A, LEDGER), RELAYER_A, false);
        _setServing(ADMIN_A, ZONE_A, LEDGER, RELAYER_A, false);

        // Re-adding the account later does not resurrect the old flag.
        _addAccount(ADMIN_A, RELAYER_A, IInstitutionRegistry.Role.Relayer);
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
    }

    function test_setServingRelayers_departedAccountCannotBeSet() public {
        _removeAccount(ADMIN_A, RELAYER_A);
        _expectServingRevert(
            ADMIN_A,
            _one(RELAYER_A),
            true,
            abi.encodeWithSelector(IChainRegistry.ChainNotOwnerRelayer.selector, RELAYER_A, INST_A)
        );
    }

    function test_setServingRelayers_ownerSuspendedRefused() public {
        _setServing(ADMIN_A, ZONE_A, LEDGER, RELAYER_A, true);
        _suspend(INST_A);
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A), "suspended owner's relayer serves");
        _expectServingRevert(
            ADMIN_A,
            _one(RELAYER_A2),
            true,
            abi.encodeWithSelector(IChainRegistry.ChainNotOwnerAdmin.selector, ADMIN_A, INST_A)
        );
    }

    // ---------------------------------------------------------------- isServingRelayer

    function test_isServingRelayer_falseByDefault() public view {
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER, address(0)));
        assertFalse(chains.isServingRelayer(ZONE_B, LEDGER_2, RELAYER_A), "unknown chain");
    }

    function test_isServingRelayer_perChain() public {
        _setServing(ADMIN_A, ZONE_A, LEDGER, RELAYER_A, true);
        assertTrue(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
        assertFalse(chains.isServingRelayer(ZONE_B, LEDGER, RELAYER_A), "same chain name, other zone");
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER_2, RELAYER_A), "other chain of the same owner");
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A2), "other relayer");
    }

    function test_isServingRelayer_falseAfterRelayerRemoved() public {
        _setServing(ADMIN_A, ZONE_A, LEDGER, RELAYER_A, true);
        _removeAccount(ADMIN_A, RELAYER_A);
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
    }

    function test_isServingRelayer_falseAfterRelayerMovesToOtherInstitution() public {
        _setServing(ADMIN_A, ZONE_A, LEDGER, RELAYER_A, true);
        _removeAccount(ADMIN_A, RELAYER_A);
        _addAccount(ADMIN_B, RELAYER_A, IInstitutionRegistry.Role.Relayer);
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
    }

    /// @dev Documents current behaviour (a design question, see the report): the serving flag is not
    /// cleared when the account leaves, so re-adding it as a relayer of the owner makes it serve again.
    function test_isServingRelayer_resumesWhenReaddedWithoutUnset() public {
        _setServing(ADMIN_A, ZONE_A, LEDGER, RELAYER_A, true);
        _removeAccount(ADMIN_A, RELAYER_A);
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
        _addAccount(ADMIN_A, RELAYER_A, IInstitutionRegistry.Role.Relayer);
        assertTrue(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
    }

    function test_isServingRelayer_followsOwnerStatus() public {
        _setServing(ADMIN_A, ZONE_A, LEDGER, RELAYER_A, true);
        _suspend(INST_A);
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
        _reinstate(INST_A);
        assertTrue(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
        _expel(INST_A);
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
    }

    function test_isServingRelayer_falseWhenChainRetired() public {
        _setServing(ADMIN_A, ZONE_A, LEDGER, RELAYER_A, true);
        _retireChain(ZONE_A, LEDGER);
        assertFalse(chains.isServingRelayer(ZONE_A, LEDGER, RELAYER_A));
    }

    // ---------------------------------------------------------------- plain views

    function test_isActiveChain_lifecycle() public {
        assertTrue(chains.isActiveChain(ZONE_A, LEDGER));
        assertFalse(chains.isActiveChain(ZONE_B, LEDGER_2), "never admitted");
        assertFalse(chains.isActiveChain(LEDGER, ZONE_A), "segments swapped");
        _retireChain(ZONE_A, LEDGER);
        assertFalse(chains.isActiveChain(ZONE_A, LEDGER));
    }

    function test_chainOf_unknownIsZero() public view {
        IChainRegistry.Chain memory c = chains.chainOf(ZONE_B, LEDGER_2);
        assertEq(uint256(c.status), uint256(IChainRegistry.ChainStatus.None));
        assertEq(c.zone, bytes32(0));
        assertEq(c.chainId, 0);
        assertEq(uint256(c.owner), 0);
    }

    function test_chainOf_returnsAllFields() public view {
        _assertChain(
            chains.chainOf(ZONE_A, LEDGER), ZONE_A, LEDGER, 1001, INST_A, IChainRegistry.ChainStatus.Active
        );
        _assertChain(
            chains.chainOf(ZONE_B, LEDGER), ZONE_B, LEDGER, 2001, INST_B, IChainRegistry.ChainStatus.Active
        );
    }

    function test_chainByKey_matchesChainOf() public view {
        for (uint256 i; i < chains.chainCount(); ++i) {
            bytes32 key = chains.chainKeyAt(i);
            IChainRegistry.Chain memory c = chains.chainByKey(key);
            assertEq(IPath.chainKey(c.zone, c.chain), key);
            assertEq(keccak256(abi.encode(chains.chainOf(c.zone, c.chain))), keccak256(abi.encode(c)));
        }
        assertEq(uint256(chains.chainByKey(bytes32(uint256(1))).status), 0, "unknown key");
    }

    function test_chainCount_countsRetired() public {
        assertEq(chains.chainCount(), 3);
        _retireChain(ZONE_B, LEDGER);
        assertEq(chains.chainCount(), 3);
        _admitChain(ZONE_A, FRESH, 5, INST_C);
        assertEq(chains.chainCount(), 4);
    }

    function test_chainKeyAt_inAdmissionOrder() public view {
        assertEq(chains.chainKeyAt(0), IPath.chainKey(ZONE_A, LEDGER));
        assertEq(chains.chainKeyAt(1), IPath.chainKey(ZONE_A, LEDGER_2));
        assertEq(chains.chainKeyAt(2), IPath.chainKey(ZONE_B, LEDGER));
    }

    function test_chainKeyAt_outOfRange() public {
        bytes32 before = _digest();
        vm.expectRevert(
            abi.encodeWithSelector(IChainRegistry.ChainIndexOutOfRange.selector, uint256(3), uint256(3))
        );
        chains.chainKeyAt(3);
        vm.expectRevert(
            abi.encodeWithSelector(
                IChainRegistry.ChainIndexOutOfRange.selector, type(uint256).max, uint256(3)
            )
        );
        chains.chainKeyAt(type(uint256).max);
        assertEq(_digest(), before, "state changed");
    }

    function test_chainKeyAt_emptyRegistry() public {
        ChainRegistry empty = new ChainRegistry(registry);
        vm.expectRevert(
            abi.encodeWithSelector(IChainRegistry.ChainIndexOutOfRange.selector, uint256(0), uint256(0))
        );
        empty.chainKeyAt(0);
        assertEq(empty.chainCount(), 0);
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_admitChain_rejectsOnlyNonSegments(bytes32 zone, bytes32 chain) public {
        bool zoneOk = IPath.isSegment(zone);
        bool chainOk = IPath.isSegment(chain);
        bool taken = zoneOk && chainOk && chains.isActiveChain(zone, chain);
        if (!zoneOk) {
            vm.expectRevert(abi.encodeWithSelector(IChainRegistry.ChainBadSegment.selector, uint8(0), zone));
        } else if (!chainOk) {
            vm.expectRevert(abi.encodeWithSelector(IChainRegistry.ChainBadSegment.selector, uint8(1), chain));
        } else if (taken) {
            vm.expectRevert(abi.encodeWithSelector(IChainRegistry.ChainAlreadyAdmitted.selector, zone, chain));
        }
        vm.prank(address(registry));
        chains.admitChain(zone, chain, EVM, 1, INST_A, GENESIS);
    }
}
