// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {HtlcFixture} from "./TransactionManagerHtlcBase.sol";
import {Vm} from "./utils/Vm.sol";
import {IInstitutionRegistry} from "../src/interfaces/IInstitutionRegistry.sol";
import {ISupervision} from "../src/interfaces/ISupervision.sol";

/// @notice Unit, flow and fuzz tests of Supervision: regulators admitted and removed by real proposals,
/// and the hash-chained audit trail.
contract SupervisionTest is HtlcFixture {
    /// A point on secp256k1 with x = 1, and one with y = 1 (computed off-line: y^2 = x^3 + 7 mod p).
    /// Both coordinates are small enough that adding p still fits in 256 bits, which gives congruent
    /// but non-canonical encodings of valid points.
    uint256 internal constant X1_Y = 0x4218f20ae6c646b363db68605822fb14264ca8d2587fdd6fbc750d587e76a7ee;
    uint256 internal constant Y1_X = 0x146d3b65add9f54ccca28533c88e2cbc63f7443e1658783ab41f8ef97c2a10b5;

    uint256 internal constant PK_REG_1 = 0x1001;
    uint256 internal constant PK_REG_2 = 0x1002;
    uint256 internal constant PK_REG_3 = 0x1003;
    uint256 internal constant MAX_ENVELOPE = 16_384;

    address[] internal _tracked;

    function setUp() public override {
        super.setUp();
        _tracked.push(vm.addr(PK_REG_1));
        _tracked.push(vm.addr(PK_REG_2));
        _tracked.push(vm.addr(PK_REG_3));
    }

    // ================================================================ helpers

    function _key(uint256 pk) internal returns (bytes memory) {
        return _pubkey(vm.createWallet(pk));
    }

    function _refOnCurve(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= P || y >= P) return false;
        return mulmod(y, y, P) == addmod(mulmod(mulmod(x, x, P), x, P), 7, P);
    }

    function _admitReverts(address caller, bytes memory key, string memory name, bytes memory err) internal {
        bytes32 before = _supState(_tracked);
        vm.prank(caller);
        vm.expectRevert(err);
        sup.admitRegulator(key, name);
        assertEq(_supState(_tracked), before, "rejected admission changed state");
    }

    function _removeReverts(address caller, address regulator, bytes memory err) internal {
        bytes32 before = _supState(_tracked);
        vm.prank(caller);
        vm.expectRevert(err);
        sup.removeRegulator(regulator);
        assertEq(_supState(_tracked), before, "rejected removal changed state");
    }

    function _recordReverts(address caller, bytes32 subject, bytes memory envelope, bytes memory err)
        internal
    {
        bytes32 before = _supState(_tracked);
        vm.prank(caller);
        vm.expectRevert(err);
        sup.record(subject, envelope);
        assertEq(_supState(_tracked), before, "rejected record changed state");
    }

    function _notCurve() internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISupervision.SupPublicKeyNotOnCurve.selector);
    }

    function _record(address relayer, bytes32 subject, bytes memory envelope) internal {
        vm.prank(relayer);
        sup.record(subject, envelope);
    }

    /// Admits regulator 1, so that records are accepted (nobody could read one otherwise).
    function _withRegulator() internal returns (address) {
        return _admitRegulator(PK_REG_1, "R1");
    }

    function _noRegulators() internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISupervision.SupNoRegulators.selector);
    }

    function _assertRegulatorAt(address regulator, uint256 position) internal view {
        ISupervision.Regulator memory reg = sup.regulatorOf(regulator);
        assertTrue(reg.active, "inactive");
        assertEq(uint256(reg.position), position, "position");
        assertEq(sup.regulators()[position - 1], regulator, "list slot");
    }

    // ================================================================ admitRegulator

    function test_admitRegulator_storesRegulator() public {
        Vm.Wallet memory w = vm.createWallet(PK_REG_1);
        vm.warp(T0 + 123);
        address reg = _admitRegulator(PK_REG_1, "Regulator One");
        assertEq(reg, w.addr, "address");
        ISupervision.Regulator memory r = sup.regulatorOf(reg);
        assertEq(r.publicKeyX, bytes32(w.publicKeyX), "x");
        assertEq(r.publicKeyY, bytes32(w.publicKeyY), "y");
        assertTrue(r.active, "active");
        assertEq(uint256(r.admittedAt), T0 + 123, "admittedAt");
        assertEq(uint256(r.position), 1, "position");
        address[] memory list = sup.regulators();
        assertEq(list.length, 1, "list");
        assertEq(list[0], reg, "listed");
    }

    function test_admitRegulator_derivesAddressFromKey() public {
        Vm.Wallet memory w = vm.createWallet(PK_REG_2);
        bytes memory key = _pubkey(w);
        assertEq(key.length, 64, "key length");
        assertEq(_regulatorAddress(key), w.addr, "keccak(x || y) address");
        assertEq(w.addr, vm.addr(PK_REG_2), "wallet address");
        assertEq(_admitRegulator(PK_REG_2, "R2"), w.addr, "admitted address");
    }

    function test_admitRegulator_emitsRegulatorAdmitted() public {
        bytes memory key = _key(PK_REG_1);
        bytes memory data = abi.encodeCall(sup.admitRegulator, (key, "Regulator One"));
        uint256 id = _approve(address(sup), data);
        vm.expectEmit(true, true, true, true, address(sup));
        emit ISupervision.RegulatorAdmitted(vm.addr(PK_REG_1), "Regulator One", key);
        registry.execute(id, data);
    }

    function test_admitRegulator_acceptsNameBoundaries() public {
        _admitRegulator(PK_REG_1, "R");
        bytes memory longest = new bytes(64);
        for (uint256 i; i < 64; ++i) {
            longest[i] = "n";
        }
        _admitRegulator(PK_REG_2, string(longest));
        assertEq(sup.regulators().length, 2, "both admitted");
    }

    /// The generator G (SEC 2) is the public key of private key 1: a hard-coded, tool-independent vector.
    function test_admitRegulator_acceptsGeneratorPoint() public {
        uint256 gx = 0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798;
        uint256 gy = 0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8;
        unchecked {
            assertEq(P, 2 ** 256 - 2 ** 32 - 977, "test prime");
        }
        assertTrue(_refOnCurve(gx, gy), "reference check");
        Vm.Wallet memory w = vm.createWallet(1);
        assertEq(w.publicKeyX, gx, "wallet x");
        assertEq(w.publicKeyY, gy, "wallet y");
        vm.prank(address(registry));
        sup.admitRegulator(abi.encodePacked(gx, gy), "G");
        assertTrue(sup.regulatorOf(vm.addr(1)).active, "G admitted as the address of key 1");
    }

    function test_admitRegulator_acceptsCanonicalSmallCoordinatePoints() public {
        // The points whose non-canonical encodings are rejected below are themselves valid keys.
        vm.startPrank(address(registry));
        sup.admitRegulator(abi.encodePacked(uint256(1), X1_Y), "x=1");
        sup.admitRegulator(abi.encodePacked(Y1_X, uint256(1)), "y=1");
        vm.stopPrank();
        assertEq(sup.regulators().length, 2, "admitted");
    }

    function test_admitRegulator_revertsWhenNotGovernance() public {
        bytes memory key = _key(PK_REG_1);
        address[6] memory callers = [STRANGER, ADMIN_1, RELAYER_1, USER_1, address(chains), address(this)];
        for (uint256 i; i < callers.length; ++i) {
            _admitReverts(
                callers[i],
                key,
                "R",
                abi.encodeWithSelector(ISupervision.SupNotGovernance.selector, callers[i])
            );
        }
        assertEq(sup.regulators().length, 0, "admitted");
    }

    function test_admitRegulator_revertsOnBadKeyLength() public {
        bytes memory key = _key(PK_REG_1);
        uint256[5] memory lengths = [uint256(0), 1, 33, 63, 65];
        for (uint256 i; i < lengths.length; ++i) {
            bytes memory k = new bytes(lengths[i]);
            for (uint256 j; j < k.length && j < 64; ++j) {
                k[j] = key[j];
            }
            _admitReverts(
                address(registry),
                k,
                "R",
                abi.encodeWithSelector(ISupervision.SupBadPublicKeyLength.selector, lengths[i])
            );
        }
        // The 65-byte SEC1 form (0x04 || x || y) is not accepted either.
        _admitReverts(
            address(registry),
            abi.encodePacked(hex"04", key),
            "R",
            abi.encodeWithSelector(ISupervision.SupBadPublicKeyLength.selector, 65)
        );
    }

    function test_admitRegulator_revertsOnRandomBytes() public {
        _admitReverts(address(registry), abi.encodePacked(keccak256("a"), keccak256("b")), "R", _notCurve());
        _admitReverts(address(registry), new bytes(64), "R", _notCurve()); // (0, 0): the point at infinity
        Vm.Wallet memory w = vm.createWallet(PK_REG_1);
        // A typo in y.
        _admitReverts(address(registry), abi.encodePacked(w.publicKeyX, w.publicKeyY ^ 1), "R", _notCurve());
        // Swapped coordinates.
        _admitReverts(address(registry), abi.encodePacked(w.publicKeyY, w.publicKeyX), "R", _notCurve());
    }

    function test_admitRegulator_revertsWhenXNotReduced() public {
        // (1 + p, y) is congruent to the valid point (1, y) but is not a canonical encoding.
        assertTrue(_refOnCurve(1, X1_Y), "reference point");
        _admitReverts(address(registry), abi.encodePacked(1 + P, X1_Y), "R", _notCurve());
        _admitReverts(address(registry), abi.encodePacked(type(uint256).max, X1_Y), "R", _notCurve());
        _admitReverts(address(registry), abi.encodePacked(P, X1_Y), "R", _notCurve());
    }

    function test_admitRegulator_revertsWhenYNotReduced() public {
        assertTrue(_refOnCurve(Y1_X, 1), "reference point");
        _admitReverts(address(registry), abi.encodePacked(Y1_X, 1 + P), "R", _notCurve());
        _admitReverts(address(registry), abi.encodePacked(Y1_X, P), "R", _notCurve());
        _admitReverts(address(registry), abi.encodePacked(Y1_X, type(uint256).max), "R", _notCurve());
    }

    function test_admitRegulator_revertsOnBadName() public {
        bytes memory key = _key(PK_REG_1);
        bytes memory err = abi.encodeWithSelector(ISupervision.SupBadName.selector);
        _admitReverts(address(registry), key, "", err);
        _admitReverts(address(registry), key, string(new bytes(65)), err);
    }

    function test_admitRegulator_revertsWhenRegulatorExists() public {
        address reg = _admitRegulator(PK_REG_1, "R1");
        _admitReverts(
            address(registry),
            _key(PK_REG_1),
            "R1 again",
            abi.encodeWithSelector(ISupervision.SupRegulatorExists.selector, reg)
        );
        assertEq(sup.regulators().length, 1, "listed twice");
    }

    function test_admitRegulator_revertsThroughProposalWithReason() public {
        address reg = _admitRegulator(PK_REG_1, "R1");
        bytes memory data = abi.encodeCall(sup.admitRegulator, (_key(PK_REG_1), "R1"));
        uint256 id = _approve(address(sup), data);
        bytes32 before = _supState(_tracked);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInstitutionRegistry.ProposalExecutionFailed.selector,
                id,
                abi.encodeWithSelector(ISupervision.SupRegulatorExists.selector, reg)
            )
        );
        registry.execute(id, data);
        assertEq(_supState(_tracked), before, "state changed");
        assertEq(
            uint256(registry.proposalState(id)),
            uint256(IInstitutionRegistry.ProposalState.Passed),
            "still passed"
        );
    }

    function test_admitRegulator_revertsOnSeventeenth() public {
        for (uint256 i; i < 16; ++i) {
            _tracked.push(_admitRegulator(0x2000 + i, "R"));
        }
        assertEq(sup.regulators().length, sup.MAX_REGULATORS(), "full");
        _admitReverts(
            address(registry),
            _key(0x3000),
            "R17",
            abi.encodeWithSelector(ISupervision.SupTooManyRegulators.selector, 16)
        );
        assertFalse(sup.regulatorOf(vm.addr(0x3000)).active, "17th active");
        // A removal frees a slot.
        _removeRegulator(vm.addr(0x2000 + 5));
        _admitRegulator(0x3000, "R17");
        assertEq(sup.regulators().length, 16, "full again");
    }

    function test_admitRegulator_readmitsAfterRemoval() public {
        address r1 = _admitRegulator(PK_REG_1, "R1");
        address r2 = _admitRegulator(PK_REG_2, "R2");
        _removeRegulator(r1);
        vm.warp(T0 + 1 days);
        _admitRegulator(PK_REG_1, "R1 again");
        _assertRegulatorAt(r2, 1);
        _assertRegulatorAt(r1, 2);
        assertEq(uint256(sup.regulatorOf(r1).admittedAt), T0 + 1 days, "admittedAt refreshed");
    }

    // ================================================================ removeRegulator

    function test_removeRegulator_removesOnlyRegulator() public {
        address r1 = _admitRegulator(PK_REG_1, "R1");
        _removeRegulator(r1);
        assertEq(sup.regulators().length, 0, "list");
        ISupervision.Regulator memory r = sup.regulatorOf(r1);
        assertFalse(r.active, "active");
        assertEq(uint256(r.position), 0, "position");
    }

    function test_removeRegulator_removesMiddleBySwappingLast() public {
        address r1 = _admitRegulator(PK_REG_1, "R1");
        address r2 = _admitRegulator(PK_REG_2, "R2");
        address r3 = _admitRegulator(PK_REG_3, "R3");
        _removeRegulator(r2);
        address[] memory list = sup.regulators();
        assertEq(list.length, 2, "length");
        _assertRegulatorAt(r1, 1);
        _assertRegulatorAt(r3, 2);
        assertFalse(sup.regulatorOf(r2).active, "removed still active");
        assertEq(uint256(sup.regulatorOf(r2).position), 0, "removed position");
    }

    function test_removeRegulator_removesFirstAndLast() public {
        address r1 = _admitRegulator(PK_REG_1, "R1");
        address r2 = _admitRegulator(PK_REG_2, "R2");
        address r3 = _admitRegulator(PK_REG_3, "R3");
        _removeRegulator(r1); // r3 moves to slot 1
        _assertRegulatorAt(r3, 1);
        _assertRegulatorAt(r2, 2);
        _removeRegulator(r2); // last: a plain pop
        assertEq(sup.regulators().length, 1, "length");
        _assertRegulatorAt(r3, 1);
    }

    function test_removeRegulator_emitsRegulatorRemoved() public {
        address r1 = _admitRegulator(PK_REG_1, "R1");
        bytes memory data = abi.encodeCall(sup.removeRegulator, (r1));
        uint256 id = _approve(address(sup), data);
        vm.expectEmit(true, true, true, true, address(sup));
        emit ISupervision.RegulatorRemoved(r1);
        registry.execute(id, data);
    }

    function test_removeRegulator_revertsWhenNotGovernance() public {
        address r1 = _admitRegulator(PK_REG_1, "R1");
        address[4] memory callers = [STRANGER, ADMIN_1, RELAYER_1, r1];
        for (uint256 i; i < callers.length; ++i) {
            _removeReverts(
                callers[i], r1, abi.encodeWithSelector(ISupervision.SupNotGovernance.selector, callers[i])
            );
        }
        _assertRegulatorAt(r1, 1);
    }

    function test_removeRegulator_revertsOnUnknownRegulator() public {
        _admitRegulator(PK_REG_1, "R1");
        _removeReverts(
            address(registry),
            STRANGER,
            abi.encodeWithSelector(ISupervision.SupNotRegulator.selector, STRANGER)
        );
        _removeReverts(
            address(registry),
            address(0),
            abi.encodeWithSelector(ISupervision.SupNotRegulator.selector, address(0))
        );
    }

    function test_removeRegulator_revertsWhenAlreadyRemoved() public {
        address r1 = _admitRegulator(PK_REG_1, "R1");
        _admitRegulator(PK_REG_2, "R2");
        _removeRegulator(r1);
        _removeReverts(
            address(registry), r1, abi.encodeWithSelector(ISupervision.SupNotRegulator.selector, r1)
        );
        assertEq(sup.regulators().length, 1, "length");
    }

    // ================================================================ record

    function test_record_extendsHashChain() public {
        _withRegulator();
        bytes memory e1 = "envelope one";
        bytes memory e2 = hex"00ff00ff";
        _record(RELAYER_1, keccak256("tx1"), e1);
        bytes32 h1 = keccak256(abi.encodePacked(bytes32(0), keccak256(e1)));
        assertEq(sup.head(), h1, "head 1");
        assertEq(sup.recordCount(), 1, "count 1");
        _record(RELAYER_2, keccak256("tx2"), e2);
        assertEq(sup.head(), keccak256(abi.encodePacked(h1, keccak256(e2))), "head 2");
        assertEq(sup.recordCount(), 2, "count 2");
    }

    function test_record_emitsRecordAppended() public {
        _withRegulator();
        bytes memory e1 = "first";
        bytes memory e2 = "second";
        bytes32 h1 = keccak256(abi.encodePacked(bytes32(0), keccak256(e1)));
        vm.expectEmit(true, true, true, true, address(sup));
        emit ISupervision.RecordAppended(0, keccak256("s1"), INST_1, RELAYER_1, keccak256(e1), h1, e1);
        _record(RELAYER_1, keccak256("s1"), e1);
        bytes32 h2 = keccak256(abi.encodePacked(h1, keccak256(e2)));
        vm.expectEmit(true, true, true, true, address(sup));
        emit ISupervision.RecordAppended(1, keccak256("s2"), INST_3, RELAYER_3, keccak256(e2), h2, e2);
        _record(RELAYER_3, keccak256("s2"), e2);
    }

    function test_record_acceptsEnvelopeBoundaries() public {
        _withRegulator();
        _record(RELAYER_1, bytes32(0), hex"01");
        bytes memory big = new bytes(MAX_ENVELOPE);
        big[MAX_ENVELOPE - 1] = 0x7f;
        bytes32 before = sup.head();
        _record(RELAYER_1, bytes32(0), big);
        assertEq(sup.head(), keccak256(abi.encodePacked(before, keccak256(big))), "head");
        assertEq(sup.recordCount(), 2, "count");
    }

    function test_record_acceptsAnyRelayerOfActiveInstitution() public {
        _withRegulator();
        _record(RELAYER_1B, keccak256("s"), "not serving any chain");
        _record(RELAYER_3, keccak256("s"), "institution without chains");
        assertEq(sup.recordCount(), 2, "count");
    }

    /// Replaces the old "works without regulators": an envelope nobody could decrypt is refused.
    function test_record_revertsWithoutRegulators() public {
        assertEq(sup.regulators().length, 0, "no regulators");
        address[4] memory relayers = [RELAYER_1, RELAYER_1B, RELAYER_2, RELAYER_3];
        for (uint256 i; i < relayers.length; ++i) {
            _recordReverts(relayers[i], keccak256("s"), "orphan", _noRegulators());
        }
        assertEq(sup.recordCount(), 0, "count");
        assertEq(sup.head(), bytes32(0), "head");
    }

    function test_record_revertsAfterLastRegulatorRemoved() public {
        address r1 = _admitRegulator(PK_REG_1, "R1");
        address r2 = _admitRegulator(PK_REG_2, "R2");
        _record(RELAYER_1, bytes32(uint256(1)), "one");
        _removeRegulator(r1);
        _record(RELAYER_2, bytes32(uint256(2)), "two"); // one regulator left is enough
        bytes32 headBefore = sup.head();
        _removeRegulator(r2);
        assertEq(sup.regulators().length, 0, "no regulators");
        _recordReverts(RELAYER_1, bytes32(uint256(3)), "three", _noRegulators());
        _recordReverts(RELAYER_3, bytes32(uint256(3)), new bytes(MAX_ENVELOPE), _noRegulators());
        assertEq(sup.head(), headBefore, "head");
        assertEq(sup.recordCount(), 2, "count");
        // A readmitted regulator reopens the trail, which continues from the same head.
        _admitRegulator(PK_REG_2, "R2 again");
        _record(RELAYER_1, bytes32(uint256(3)), "three");
        assertEq(sup.head(), keccak256(abi.encodePacked(headBefore, keccak256("three"))), "chained");
        assertEq(sup.recordCount(), 3, "count after readmission");
    }

    /// Precedence: the caller's role, then an active regulator, then the envelope's length.
    function test_record_checksRelayerThenRegulatorsThenEnvelope() public {
        // No regulator: a non-relayer still gets SupNotRelayer, a relayer SupNoRegulators even with a bad
        // envelope.
        _recordReverts(
            STRANGER, bytes32(0), "", abi.encodeWithSelector(ISupervision.SupNotRelayer.selector, STRANGER)
        );
        _recordReverts(RELAYER_1, bytes32(0), "", _noRegulators());
        _recordReverts(RELAYER_1, bytes32(0), new bytes(MAX_ENVELOPE + 1), _noRegulators());
        // With a regulator, the envelope's length is what fails.
        _withRegulator();
        _recordReverts(
            RELAYER_1, bytes32(0), "", abi.encodeWithSelector(ISupervision.SupBadEnvelopeLength.selector, 0)
        );
        _recordReverts(
            USER_1, bytes32(0), "", abi.encodeWithSelector(ISupervision.SupNotRelayer.selector, USER_1)
        );
    }

    function test_record_revertsWhenNotRelayer() public {
        address[4] memory callers = [USER_1, ADMIN_1, STRANGER, address(registry)];
        for (uint256 k; k < 2; ++k) {
            if (k == 1) _withRegulator(); // without, then with a regulator
            for (uint256 i; i < callers.length; ++i) {
                _recordReverts(
                    callers[i],
                    bytes32(0),
                    "e",
                    abi.encodeWithSelector(ISupervision.SupNotRelayer.selector, callers[i])
                );
            }
        }
    }

    function test_record_revertsForRelayerOfSuspendedInstitution() public {
        _withRegulator();
        _record(RELAYER_3, bytes32(0), "before");
        _suspend(INST_3);
        _recordReverts(
            RELAYER_3,
            bytes32(0),
            "after",
            abi.encodeWithSelector(ISupervision.SupNotRelayer.selector, RELAYER_3)
        );
        assertEq(sup.recordCount(), 1, "count");
    }

    function test_record_revertsForRemovedRelayer() public {
        _withRegulator();
        vm.prank(ADMIN_1);
        registry.removeAccount(RELAYER_1);
        _recordReverts(
            RELAYER_1, bytes32(0), "e", abi.encodeWithSelector(ISupervision.SupNotRelayer.selector, RELAYER_1)
        );
    }

    function test_record_revertsOnBadEnvelopeLength() public {
        _withRegulator();
        _record(RELAYER_1, bytes32(0), "x"); // a non-zero head, so an unchanged head means something
        _recordReverts(
            RELAYER_1, bytes32(0), "", abi.encodeWithSelector(ISupervision.SupBadEnvelopeLength.selector, 0)
        );
        _recordReverts(
            RELAYER_1,
            bytes32(0),
            new bytes(MAX_ENVELOPE + 1),
            abi.encodeWithSelector(ISupervision.SupBadEnvelopeLength.selector, MAX_ENVELOPE + 1)
        );
    }

    // ================================================================ views

    function test_head_isZeroBeforeAnyRecord() public view {
        assertEq(sup.head(), bytes32(0), "head");
    }

    function test_recordCount_isZeroBeforeAnyRecord() public view {
        assertEq(sup.recordCount(), 0, "count");
    }

    function test_regulators_isEmptyAtGenesis() public view {
        assertEq(sup.regulators().length, 0, "regulators");
    }

    function test_regulatorOf_isZeroForUnknown() public view {
        ISupervision.Regulator memory r = sup.regulatorOf(STRANGER);
        assertFalse(r.active, "active");
        assertEq(r.publicKeyX, bytes32(0), "x");
        assertEq(uint256(r.position), 0, "position");
        assertEq(uint256(r.admittedAt), 0, "admittedAt");
    }

    function test_registry_isTheGovernance() public view {
        assertEq(sup.registry(), address(registry), "registry");
        assertEq(sup.MAX_REGULATORS(), 16, "max regulators");
        assertEq(sup.MAX_ENVELOPE_BYTES(), MAX_ENVELOPE, "max envelope");
        assertEq(sup.MAX_NAME_LENGTH(), 64, "max name");
    }

    // ================================================================ flows

    /// A verifier that only reads the logs recomputes the stored head and detects every record.
    function test_flow_headRecomputesFromLogs() public {
        _withRegulator();
        address[3] memory relayers = [RELAYER_1, RELAYER_2, RELAYER_3];
        vm.recordLogs();
        for (uint256 i; i < 6; ++i) {
            _record(relayers[i % 3], bytes32(i), abi.encodePacked("envelope ", i, new bytes(i * 7)));
        }
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bytes32 h;
        uint256 n;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(sup) || logs[i].topics[0] != ISupervision.RecordAppended.selector) continue;
            (, bytes32 recordHash, bytes32 headAfter, bytes memory envelope) =
                abi.decode(logs[i].data, (address, bytes32, bytes32, bytes));
            assertEq(uint256(logs[i].topics[1]), n, "index");
            assertEq(recordHash, keccak256(envelope), "record hash");
            h = keccak256(abi.encodePacked(h, keccak256(envelope)));
            assertEq(headAfter, h, "head in event");
            ++n;
        }
        assertEq(n, 6, "records seen");
        assertEq(sup.head(), h, "stored head");
        assertEq(sup.recordCount(), n, "count");
    }

    function test_flow_removeMiddleThenReadmit() public {
        address r1 = _admitRegulator(PK_REG_1, "R1");
        address r2 = _admitRegulator(PK_REG_2, "R2");
        address r3 = _admitRegulator(PK_REG_3, "R3");
        _removeRegulator(r2);
        _assertRegulatorAt(r1, 1);
        _assertRegulatorAt(r3, 2);
        _admitRegulator(PK_REG_2, "R2 again");
        _assertRegulatorAt(r2, 3);
        _removeRegulator(r1);
        _assertRegulatorAt(r2, 1);
        _assertRegulatorAt(r3, 2);
        assertEq(sup.regulators().length, 2, "length");
    }

    // ================================================================ fuzz

    function testFuzz_admitRegulator_acceptsWalletKeys(uint256 pk) public {
        pk = bound(pk, 1, N - 1);
        Vm.Wallet memory w = vm.createWallet(pk);
        assertTrue(_refOnCurve(w.publicKeyX, w.publicKeyY), "wallet key off the curve");
        bytes memory key = _pubkey(w);
        _pass(address(sup), abi.encodeCall(sup.admitRegulator, (key, "fuzzed")));
        ISupervision.Regulator memory r = sup.regulatorOf(w.addr);
        assertTrue(r.active, "active");
        assertEq(r.publicKeyX, bytes32(w.publicKeyX), "x");
        assertEq(r.publicKeyY, bytes32(w.publicKeyY), "y");
        assertEq(_regulatorAddress(key), w.addr, "address");
        assertEq(sup.regulators()[0], w.addr, "listed");
    }

    function testFuzz_admitRegulator_rejectsPointsOffTheCurve(uint256 x, uint256 y) public {
        vm.assume(!_refOnCurve(x, y));
        _admitReverts(address(registry), abi.encodePacked(x, y), "R", _notCurve());
    }

    function testFuzz_admitRegulator_rejectsPerturbedWalletKeys(uint256 pk, uint256 delta, bool onX) public {
        pk = bound(pk, 1, N - 1);
        delta = bound(delta, 1, type(uint256).max);
        Vm.Wallet memory w = vm.createWallet(pk);
        uint256 x = w.publicKeyX;
        uint256 y = w.publicKeyY;
        unchecked {
            if (onX) x += delta;
            else y += delta;
        }
        vm.assume(!_refOnCurve(x, y)); // (x, -y) and the two other x for one y are valid points
        _admitReverts(address(registry), abi.encodePacked(x, y), "R", _notCurve());
    }

    function testFuzz_admitRegulator_rejectsBadKeyLength(bytes memory key) public {
        vm.assume(key.length != 64);
        _admitReverts(
            address(registry),
            key,
            "R",
            abi.encodeWithSelector(ISupervision.SupBadPublicKeyLength.selector, key.length)
        );
    }

    function testFuzz_record_extendsHashChain(bytes32 subject, bytes memory e1, bytes memory e2, uint8 who)
        public
    {
        vm.assume(e1.length > 0 && e2.length > 0);
        _withRegulator();
        address[3] memory relayers = [RELAYER_1, RELAYER_2, RELAYER_3];
        address relayer = relayers[who % 3];
        _record(relayer, subject, e1);
        bytes32 h1 = keccak256(abi.encodePacked(bytes32(0), keccak256(e1)));
        bytes32 h2 = keccak256(abi.encodePacked(h1, keccak256(e2)));
        uint64 institution = registry.activeInstitutionOf(relayer, IInstitutionRegistry.Role.Relayer);
        vm.expectEmit(true, true, true, true, address(sup));
        emit ISupervision.RecordAppended(1, subject, institution, relayer, keccak256(e2), h2, e2);
        _record(relayer, subject, e2);
        assertEq(sup.head(), h2, "head");
        assertEq(sup.recordCount(), 2, "count");
    }

    function testFuzz_record_envelopeLength(uint256 length) public {
        length = bound(length, 0, MAX_ENVELOPE + 64);
        bytes memory e = new bytes(length);
        _withRegulator();
        if (length >= 1 && length <= MAX_ENVELOPE) {
            _record(RELAYER_2, bytes32(length), e);
            assertEq(sup.recordCount(), 1, "count");
        } else {
            _recordReverts(
                RELAYER_2,
                bytes32(0),
                e,
                abi.encodeWithSelector(ISupervision.SupBadEnvelopeLength.selector, length)
            );
        }
    }

    /// A record is accepted exactly while at least one regulator is active, however many came and went.
    function testFuzz_record_requiresAnActiveRegulator(uint8 admits, uint8 removes, bytes32 subject) public {
        admits = uint8(bound(admits, 0, 3));
        removes = uint8(bound(removes, 0, admits));
        uint256[3] memory keys = [PK_REG_1, PK_REG_2, PK_REG_3];
        for (uint256 i; i < admits; ++i) {
            _admitRegulator(keys[i], "R");
        }
        for (uint256 i; i < removes; ++i) {
            _removeRegulator(vm.addr(keys[i]));
        }
        assertEq(sup.regulators().length, uint256(admits) - removes, "active regulators");
        if (admits > removes) {
            _record(RELAYER_2, subject, "sealed");
            assertEq(sup.recordCount(), 1, "count");
        } else {
            _recordReverts(RELAYER_2, subject, "sealed", _noRegulators());
            assertEq(sup.recordCount(), 0, "count");
        }
    }
}
