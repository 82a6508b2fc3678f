// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {HtlcFixture} from "./TransactionManagerHtlcBase.sol";
import {Vm} from "./utils/Vm.sol";
import {IInstitutionRegistry} from "../src/interfaces/IInstitutionRegistry.sol";
import {ISupervision} from "../src/interfaces/ISupervision.sol";
import {Envelopes} from "./utils/Envelopes.sol";

/// @notice Unit, flow and fuzz tests of Supervision: regulators admitted and removed by real proposals,
/// and the hash-chained audit trail of envelopes that must be well-formed and wrapped for exactly the
/// active regulators.
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

    function _malformed(uint256 offset) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISupervision.SupMalformedEnvelope.selector, offset);
    }

    function _recipientErr(address regulator) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISupervision.SupEnvelopeRecipient.selector, regulator);
    }

    function _recipientsErr(uint256 count, uint256 active) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISupervision.SupEnvelopeRecipients.selector, count, active);
    }

    function _list(address a) internal pure returns (address[] memory l) {
        l = new address[](1);
        l[0] = a;
    }

    function _list(address a, address b) internal pure returns (address[] memory l) {
        l = new address[](2);
        (l[0], l[1]) = (a, b);
    }

    /// Regulators 1 and 2 admitted; returns their addresses.
    function _twoRegulators() internal returns (address r1, address r2) {
        r1 = _admitRegulator(PK_REG_1, "R1");
        r2 = _admitRegulator(PK_REG_2, "R2");
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
        bytes memory e1 = _envelope("one");
        bytes memory e2 = _envelope("two");
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
        bytes memory e1 = _envelope("first");
        bytes memory e2 = _envelope("second");
        bytes32 h1 = keccak256(abi.encodePacked(bytes32(0), keccak256(e1)));
        vm.expectEmit(true, true, true, true, address(sup));
        emit ISupervision.RecordAppended(0, keccak256("s1"), INST_1, RELAYER_1, keccak256(e1), h1, e1);
        _record(RELAYER_1, keccak256("s1"), e1);
        bytes32 h2 = keccak256(abi.encodePacked(h1, keccak256(e2)));
        vm.expectEmit(true, true, true, true, address(sup));
        emit ISupervision.RecordAppended(1, keccak256("s2"), INST_3, RELAYER_3, keccak256(e2), h2, e2);
        _record(RELAYER_3, keccak256("s2"), e2);
    }

    /// The shortest well-formed envelope (one covered operation, one recipient, a bare 16-byte tag as
    /// body) and the longest (MAX_ENVELOPE_BYTES, the body filling the rest).
    function test_record_acceptsEnvelopeBoundaries() public {
        address r1 = _withRegulator();
        bytes memory small = Envelopes.build(_list(r1), 16, "small");
        assertEq(small.length, Envelopes.MIN_ONE_RECIPIENT, "shortest");
        _record(RELAYER_1, bytes32(0), small);
        bytes memory big = Envelopes.build(_list(r1), 16 + MAX_ENVELOPE - Envelopes.MIN_ONE_RECIPIENT, "big");
        assertEq(big.length, MAX_ENVELOPE, "longest");
        bytes32 before = sup.head();
        _record(RELAYER_1, bytes32(0), big);
        assertEq(sup.head(), keccak256(abi.encodePacked(before, keccak256(big))), "head");
        assertEq(sup.recordCount(), 2, "count");
    }

    /// 255 covered operations and the 16-regulator cap: the largest header Supervision reads.
    function test_record_acceptsEveryRegulatorAndManyCoveredOperations() public {
        for (uint256 i; i < 16; ++i) {
            _admitRegulator(0x2000 + i, "R");
        }
        Envelopes.Parts memory p = Envelopes.parts(sup.regulators(), 100, "wide");
        p.k = 255;
        p.covers = 255;
        _record(RELAYER_1, bytes32(0), Envelopes.encode(p));
        assertEq(sup.recordCount(), 1, "count");
    }

    /// Recipients are a set: any order of the active regulators is accepted.
    function test_record_acceptsRecipientsInAnyOrder() public {
        (address r1, address r2) = _twoRegulators();
        _record(RELAYER_1, bytes32(0), Envelopes.build(_list(r1, r2), 16, "a"));
        _record(RELAYER_1, bytes32(0), Envelopes.build(_list(r2, r1), 16, "b"));
        assertEq(sup.recordCount(), 2, "count");
    }

    /// Covered operations, ephemeral keys, wrapped keys, nonce and body are the writer's claim: not read.
    function test_record_acceptsAnyCoveredOperationsAndBodyBytes() public {
        address r1 = _withRegulator();
        bytes memory e = Envelopes.build(_list(r1), 40, "claim");
        // covered operation (0xff, 0xff); 0xff over every key, nonce and body byte
        e[2] = 0xff;
        e[3] = 0xff;
        uint256 lengthField = Envelopes.lengthFieldOffset(1, 1);
        for (uint256 i = 5 + 20; i < e.length; ++i) {
            if (i < lengthField || i >= lengthField + 4) e[i] = 0xff;
        }
        _record(RELAYER_1, bytes32(0), e);
        assertEq(sup.recordCount(), 1, "count");
    }

    function test_record_acceptsAnyRelayerOfActiveInstitution() public {
        _withRegulator();
        _record(RELAYER_1B, keccak256("s"), _envelope("not serving any chain"));
        _record(RELAYER_3, keccak256("s"), _envelope("institution without chains"));
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
        (address r1, address r2) = _twoRegulators();
        _record(RELAYER_1, bytes32(uint256(1)), _envelope("one"));
        _removeRegulator(r1);
        _record(RELAYER_2, bytes32(uint256(2)), _envelope("two")); // one regulator left is enough
        bytes memory three = _envelope("three");
        bytes32 headBefore = sup.head();
        _removeRegulator(r2);
        assertEq(sup.regulators().length, 0, "no regulators");
        _recordReverts(RELAYER_1, bytes32(uint256(3)), three, _noRegulators());
        _recordReverts(RELAYER_3, bytes32(uint256(3)), new bytes(MAX_ENVELOPE), _noRegulators());
        assertEq(sup.head(), headBefore, "head");
        assertEq(sup.recordCount(), 2, "count");
        // A readmitted regulator reopens the trail, which continues from the same head.
        _admitRegulator(PK_REG_2, "R2 again");
        _record(RELAYER_1, bytes32(uint256(3)), three);
        assertEq(sup.head(), keccak256(abi.encodePacked(headBefore, keccak256(three))), "chained");
        assertEq(sup.recordCount(), 3, "count after readmission");
    }

    /// Precedence: the caller's role, then an active regulator, then the envelope's length, then its
    /// structure and addressing.
    function test_record_checksRelayerThenRegulatorsThenEnvelope() public {
        // No regulator: a non-relayer still gets SupNotRelayer, a relayer SupNoRegulators even with a bad
        // envelope.
        _recordReverts(
            STRANGER, bytes32(0), "", abi.encodeWithSelector(ISupervision.SupNotRelayer.selector, STRANGER)
        );
        _recordReverts(RELAYER_1, bytes32(0), "", _noRegulators());
        _recordReverts(RELAYER_1, bytes32(0), new bytes(MAX_ENVELOPE + 1), _noRegulators());
        // With a regulator, the envelope's length is what fails, then its contents.
        _withRegulator();
        _recordReverts(
            RELAYER_1, bytes32(0), "", abi.encodeWithSelector(ISupervision.SupBadEnvelopeLength.selector, 0)
        );
        _recordReverts(
            USER_1, bytes32(0), "", abi.encodeWithSelector(ISupervision.SupNotRelayer.selector, USER_1)
        );
        bytes memory tooLong = new bytes(MAX_ENVELOPE + 1);
        tooLong[0] = 0x02;
        _recordReverts(
            RELAYER_1,
            bytes32(0),
            tooLong,
            abi.encodeWithSelector(ISupervision.SupBadEnvelopeLength.selector, MAX_ENVELOPE + 1)
        );
        _recordReverts(
            RELAYER_1,
            bytes32(0),
            hex"01",
            abi.encodeWithSelector(ISupervision.SupEnvelopeVersion.selector, 1)
        );
    }

    /// The envelope checks run in wire order: of two faults, the one earlier in the envelope is reported.
    function test_record_checksEnvelopeInWireOrder() public {
        (address r1,) = _twoRegulators();
        Envelopes.Parts memory p = Envelopes.parts(_list(r1, STRANGER), 15, "order");
        // version, then everything else
        p.version = 1;
        p.k = 0;
        _recordReverts(
            RELAYER_1,
            0,
            Envelopes.encode(p),
            abi.encodeWithSelector(ISupervision.SupEnvelopeVersion.selector, 1)
        );
        // k == 0 before the recipients
        p.version = 2;
        p.n = 5;
        _recordReverts(RELAYER_1, 0, Envelopes.encode(p), _malformed(1));
        // the count before any recipient
        p.k = 1;
        _recordReverts(RELAYER_1, 0, Envelopes.encode(p), _recipientsErr(5, 2));
        // a recipient before the body length
        p.n = 2;
        _recordReverts(RELAYER_1, 0, Envelopes.encode(p), _recipientErr(STRANGER));
        // the body length before the envelope's end (declared 15, 40 bytes follow)
        p.recipients[1] = vm.addr(PK_REG_2);
        p.bodyLength = 40;
        _recordReverts(RELAYER_1, 0, Envelopes.encode(p), _malformed(Envelopes.lengthFieldOffset(1, 2)));
    }

    function test_record_revertsOnWrongVersion() public {
        address r1 = _withRegulator();
        uint8[5] memory versions = [0, 1, 3, 0x20, 0xff];
        for (uint256 i; i < versions.length; ++i) {
            Envelopes.Parts memory p = Envelopes.parts(_list(r1), 16, "v");
            p.version = versions[i];
            _recordReverts(
                RELAYER_1,
                bytes32(0),
                Envelopes.encode(p),
                abi.encodeWithSelector(ISupervision.SupEnvelopeVersion.selector, versions[i])
            );
        }
        // A single junk byte is judged by its version too.
        _recordReverts(
            RELAYER_1,
            bytes32(0),
            hex"00",
            abi.encodeWithSelector(ISupervision.SupEnvelopeVersion.selector, 0)
        );
    }

    function test_record_revertsWhenNoCoveredOperations() public {
        address r1 = _withRegulator();
        Envelopes.Parts memory p = Envelopes.parts(_list(r1), 16, "k0");
        p.k = 0;
        p.covers = 0;
        _recordReverts(RELAYER_1, bytes32(0), Envelopes.encode(p), _malformed(1));
        // k = 0 with the operation still written is refused alike.
        p.covers = 1;
        _recordReverts(RELAYER_1, bytes32(0), Envelopes.encode(p), _malformed(1));
    }

    /// Every proper prefix of a well-formed envelope is refused where it ends.
    function test_record_revertsWhenTruncated() public {
        address r1 = _withRegulator();
        bytes memory e = Envelopes.build(_list(r1), 16, "cut");
        for (uint256 drop = 1; drop < e.length; ++drop) {
            uint256 length = e.length - drop;
            _recordReverts(RELAYER_1, bytes32(0), Envelopes.truncate(e, drop), _malformed(length));
        }
    }

    function test_record_revertsWhenBodyShorterThanTag() public {
        address r1 = _withRegulator();
        uint256 at = Envelopes.lengthFieldOffset(1, 1);
        uint256[3] memory lengths = [uint256(0), 1, 15];
        for (uint256 i; i < lengths.length; ++i) {
            // declared and present agree: the length itself is too short for the tag
            _recordReverts(
                RELAYER_1, bytes32(0), Envelopes.build(_list(r1), lengths[i], "short"), _malformed(at)
            );
        }
    }

    function test_record_revertsOnTrailingBytes() public {
        address r1 = _withRegulator();
        bytes memory e = Envelopes.build(_list(r1), 16, "trail");
        _recordReverts(RELAYER_1, bytes32(0), bytes.concat(e, hex"00"), _malformed(e.length));
        _recordReverts(RELAYER_1, bytes32(0), bytes.concat(e, e), _malformed(e.length));
    }

    /// The body length field disagrees with what follows: more declared than present is a truncation,
    /// less is trailing bytes.
    function test_record_revertsOnBodyLengthMismatch() public {
        address r1 = _withRegulator();
        Envelopes.Parts memory p = Envelopes.parts(_list(r1), 32, "len");
        p.declared = 33;
        bytes memory e = Envelopes.encode(p);
        _recordReverts(RELAYER_1, bytes32(0), e, _malformed(e.length));
        p.declared = type(uint32).max;
        _recordReverts(RELAYER_1, bytes32(0), Envelopes.encode(p), _malformed(e.length));
        p.declared = 16;
        _recordReverts(RELAYER_1, bytes32(0), Envelopes.encode(p), _malformed(e.length - 16));
    }

    function test_record_revertsWhenMissingAnActiveRegulator() public {
        (address r1, address r2) = _twoRegulators();
        _recordReverts(RELAYER_1, bytes32(0), Envelopes.build(_list(r1), 16, "m"), _recipientsErr(1, 2));
        _recordReverts(RELAYER_1, bytes32(0), Envelopes.build(_list(r2), 16, "m"), _recipientsErr(1, 2));
        // No recipient at all.
        _recordReverts(
            RELAYER_1, bytes32(0), Envelopes.build(new address[](0), 16, "m"), _recipientsErr(0, 2)
        );
    }

    /// An envelope built for the set before a removal is refused after it: the count no longer matches.
    function test_record_revertsWhenBuiltBeforeARegulatorWasRemoved() public {
        (address r1, address r2) = _twoRegulators();
        bytes memory e = _envelope("stale");
        _removeRegulator(r2);
        _recordReverts(RELAYER_1, bytes32(0), e, _recipientsErr(2, 1));
        // Wrapped for the removed one only, count right: the recipient is what fails.
        _recordReverts(RELAYER_1, bytes32(0), Envelopes.build(_list(r2), 16, "stale"), _recipientErr(r2));
        _record(RELAYER_1, bytes32(0), Envelopes.build(_list(r1), 16, "fresh"));
    }

    /// A removed regulator in place of an active one, the count right.
    function test_record_revertsWhenRecipientIsRemovedRegulator() public {
        (address r1, address r2) = _twoRegulators();
        address r3 = _admitRegulator(PK_REG_3, "R3");
        _removeRegulator(r2);
        _recordReverts(RELAYER_1, bytes32(0), Envelopes.build(_list(r1, r2), 16, "x"), _recipientErr(r2));
        _recordReverts(RELAYER_1, bytes32(0), Envelopes.build(_list(r2, r3), 16, "x"), _recipientErr(r2));
    }

    function test_record_revertsOnDuplicateRecipient() public {
        (address r1, address r2) = _twoRegulators();
        _recordReverts(RELAYER_1, bytes32(0), Envelopes.build(_list(r1, r1), 16, "d"), _recipientErr(r1));
        _recordReverts(RELAYER_1, bytes32(0), Envelopes.build(_list(r2, r2), 16, "d"), _recipientErr(r2));
    }

    function test_record_revertsOnOutsiderRecipient() public {
        (address r1,) = _twoRegulators();
        address[4] memory outsiders = [STRANGER, address(0), RELAYER_1, vm.addr(PK_REG_3)];
        for (uint256 i; i < outsiders.length; ++i) {
            _recordReverts(
                RELAYER_1,
                bytes32(0),
                Envelopes.build(_list(r1, outsiders[i]), 16, "o"),
                _recipientErr(outsiders[i])
            );
        }
    }

    function test_record_revertsWhenNotRelayer() public {
        address[4] memory callers = [USER_1, ADMIN_1, STRANGER, address(registry)];
        for (uint256 k; k < 2; ++k) {
            if (k == 1) _withRegulator(); // without, then with a regulator
            for (uint256 i; i < callers.length; ++i) {
                _recordReverts(
                    callers[i],
                    bytes32(0),
                    _envelope("e"),
                    abi.encodeWithSelector(ISupervision.SupNotRelayer.selector, callers[i])
                );
            }
        }
    }

    function test_record_revertsForRelayerOfSuspendedInstitution() public {
        _withRegulator();
        _record(RELAYER_3, bytes32(0), _envelope("before"));
        _suspend(INST_3);
        _recordReverts(
            RELAYER_3,
            bytes32(0),
            _envelope("after"),
            abi.encodeWithSelector(ISupervision.SupNotRelayer.selector, RELAYER_3)
        );
        assertEq(sup.recordCount(), 1, "count");
    }

    function test_record_revertsForRemovedRelayer() public {
        _withRegulator();
        vm.prank(ADMIN_1);
        registry.removeAccount(RELAYER_1);
        _recordReverts(
            RELAYER_1,
            bytes32(0),
            _envelope("e"),
            abi.encodeWithSelector(ISupervision.SupNotRelayer.selector, RELAYER_1)
        );
    }

    function test_record_revertsOnBadEnvelopeLength() public {
        _withRegulator();
        // a non-zero head, so an unchanged head means something
        _record(RELAYER_1, bytes32(0), _envelope("x"));
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
            _record(relayers[i % 3], bytes32(i), Envelopes.build(sup.regulators(), 16 + i * 7, bytes32(i)));
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

    function testFuzz_record_extendsHashChain(bytes32 subject, bytes memory b1, bytes memory b2, uint8 who)
        public
    {
        vm.assume(b1.length < 4096 && b2.length < 4096);
        address r1 = _withRegulator();
        // the fuzzed bytes end the bodies of well-formed envelopes
        bytes memory e1 = _endingWith(r1, b1);
        bytes memory e2 = _endingWith(r1, b2);
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

    /// A well-formed envelope for `regulator` whose body ends with `tail`.
    function _endingWith(address regulator, bytes memory tail) internal pure returns (bytes memory) {
        bytes memory e = Envelopes.build(_list(regulator), 16 + tail.length, "tail");
        return bytes.concat(Envelopes.truncate(e, tail.length), tail);
    }

    /// Length alone: 0 and above the cap are refused by length, a proper prefix of the shortest envelope
    /// where it ends, and from the shortest to the cap a well-formed envelope of that length is accepted.
    function testFuzz_record_envelopeLength(uint256 length) public {
        length = bound(length, 0, MAX_ENVELOPE + 64);
        address r1 = _withRegulator();
        uint256 min = Envelopes.MIN_ONE_RECIPIENT;
        if (length == 0 || length > MAX_ENVELOPE) {
            _recordReverts(
                RELAYER_2,
                bytes32(0),
                new bytes(length),
                abi.encodeWithSelector(ISupervision.SupBadEnvelopeLength.selector, length)
            );
        } else if (length < min) {
            bytes memory e = Envelopes.truncate(Envelopes.build(_list(r1), 16, "prefix"), min - length);
            _recordReverts(RELAYER_2, bytes32(0), e, _malformed(length));
        } else {
            bytes memory e = Envelopes.build(_list(r1), 16 + length - min, bytes32(length));
            assertEq(e.length, length, "built length");
            _record(RELAYER_2, bytes32(length), e);
            assertEq(sup.recordCount(), 1, "count");
        }
    }

    /// Random bytes are refused, with the error of the reference reader, unless they are a well-formed
    /// envelope for the active set (the reader then agrees they are).
    function testFuzz_record_refusesRandomBytesUnlessWellFormed(bytes memory e, uint8 regulators, uint8 shape)
        public
    {
        vm.assume(e.length > 0 && e.length <= MAX_ENVELOPE);
        regulators = uint8(bound(regulators, 1, 3));
        uint256[3] memory keys = [PK_REG_1, PK_REG_2, PK_REG_3];
        for (uint256 i; i < regulators; ++i) {
            _admitRegulator(keys[i], "R");
        }
        // Shape 1: the right version; shape 2: also one covered operation and the right count, so the
        // random bytes reach the recipients and the body.
        shape %= 3;
        if (shape >= 1) e[0] = 0x02;
        if (shape == 2 && e.length >= 5) {
            e[1] = 0x01;
            e[4] = bytes1(regulators);
        }
        bytes memory err = Envelopes.expectedError(e, sup.regulators());
        if (err.length == 0) {
            _record(RELAYER_1, bytes32(0), e);
            assertEq(sup.recordCount(), 1, "count");
        } else {
            _recordReverts(RELAYER_1, bytes32(0), e, err);
        }
    }

    /// One byte of a well-formed envelope changed: refused exactly when the reference reader says so
    /// (bytes of covered operations, keys, nonce and body are not checked; the rest is).
    function testFuzz_record_mutatedEnvelopeFollowsReference(uint256 at, uint8 value, uint256 body) public {
        (address r1, address r2) = _twoRegulators();
        bytes memory e = Envelopes.build(_list(r2, r1), bound(body, 16, 80), "mutate");
        at = bound(at, 0, e.length - 1);
        e[at] = bytes1(value);
        bytes memory err = Envelopes.expectedError(e, sup.regulators());
        if (err.length == 0) {
            _record(RELAYER_1, bytes32(0), e);
            assertEq(sup.recordCount(), 1, "count");
        } else {
            _recordReverts(RELAYER_1, bytes32(0), e, err);
        }
    }

    /// Any active set reached by admissions and removals: the envelope wrapped for it, in any order, is
    /// accepted; the same envelope missing one of them, or naming a removed one, is refused.
    function testFuzz_record_acceptsWellFormedForTheActiveSet(
        uint8 admits,
        uint8 removeMask,
        uint256 rotate,
        uint8 k,
        uint16 bodyLength
    ) public {
        admits = uint8(bound(admits, 1, 6));
        address[] memory all = new address[](admits);
        for (uint256 i; i < admits; ++i) {
            all[i] = _admitRegulator(0x3000 + i, "R");
        }
        address removed;
        for (uint256 i; i + 1 < admits; ++i) {
            if (removeMask & (1 << i) != 0) {
                _removeRegulator(all[i]);
                removed = all[i];
            }
        }
        address[] memory active = sup.regulators();
        address[] memory order = new address[](active.length);
        for (uint256 i; i < active.length; ++i) {
            order[i] = active[(i + rotate % active.length) % active.length];
        }
        Envelopes.Parts memory p = Envelopes.parts(order, bound(bodyLength, 16, 2000), bytes32(rotate));
        p.k = uint8(bound(k, 1, 255));
        p.covers = p.k;
        _record(RELAYER_2, bytes32(rotate), Envelopes.encode(p));
        assertEq(sup.recordCount(), 1, "accepted");

        if (removed != address(0)) {
            order[0] = removed;
            _recordReverts(RELAYER_2, 0, Envelopes.encode(p), _recipientErr(removed));
        }
        if (active.length > 1) {
            address[] memory fewer = new address[](active.length - 1);
            for (uint256 i; i < fewer.length; ++i) {
                fewer[i] = active[i];
            }
            _recordReverts(
                RELAYER_2, 0, Envelopes.build(fewer, 16, "fewer"), _recipientsErr(fewer.length, active.length)
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
            _record(RELAYER_2, subject, _envelope("sealed"));
            assertEq(sup.recordCount(), 1, "count");
        } else {
            _recordReverts(RELAYER_2, subject, "sealed", _noRegulators());
            assertEq(sup.recordCount(), 0, "count");
        }
    }
}
