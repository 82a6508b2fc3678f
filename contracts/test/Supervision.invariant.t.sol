// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {HtlcFixture} from "./TransactionManagerHtlcBase.sol";
import {Vm} from "./utils/Vm.sol";
import {InstitutionRegistry} from "../src/governance/InstitutionRegistry.sol";
import {Supervision} from "../src/governance/Supervision.sol";
import {IInstitutionRegistry} from "../src/interfaces/IInstitutionRegistry.sol";
import {ISupervision} from "../src/interfaces/ISupervision.sol";
import {Envelopes} from "./utils/Envelopes.sol";

/// @dev forge's console, reached directly (forge-std is not available): prints with -vv.
library SupStatsLog {
    address internal constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    function log(string memory label, uint256 value) internal view {
        bytes memory payload = abi.encodeWithSignature("log(string,uint256)", label, value);
        address target = CONSOLE;
        assembly ("memory-safe") {
            pop(staticcall(gas(), target, add(payload, 32), mload(payload), 0, 0))
        }
    }
}

/// @notice Appends audit records from relayers and non-relayers, admits and removes regulators by real
/// proposals (from a pool of 20 keys, so duplicates and the 16-regulator cap are hit, and batches of
/// removals drain the set to zero again), submits
/// off-curve keys, and suspends / reinstates institution 3 (whose relayer then may or may not record).
/// Envelopes are mostly well-formed and wrapped for the handler's model of the active set (in a rotated
/// order), sometimes missing a regulator, naming an outsider or a regulator twice, of another version,
/// truncated, with trailing bytes, or junk. A record is expected to succeed only from a relayer of an
/// active institution, with a well-sized, well-formed envelope wrapped for exactly the active
/// regulators, while at least one is active; a rejected one must carry the exact error of the first
/// failing check (SupNotRelayer, then SupNoRegulators, then SupBadEnvelopeLength, then the envelope's
/// structure and addressing as the reference reader `Envelopes.expectedError` finds it).
/// Every appended envelope is read back from the RecordAppended log, not from what was sent.
contract SupervisionHandler {
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    uint256 internal constant POOL = 20;
    uint256 internal constant POOL_BASE = 0x5000;
    uint256 internal constant MAX_ENVELOPE = 16_384;
    uint256 internal constant MAX_REGULATORS = 16;

    Supervision internal immutable sup;
    InstitutionRegistry internal immutable registry;
    address[3] internal admins;
    /// relayers of institutions 1, 2, 3, then accounts that are no relayers
    address[6] internal actors;

    bytes[] internal _envelopes;
    address[] public ghostRegulators;
    mapping(address => bool) public isGhostRegulator;
    bool public inst3Suspended;

    uint256 public capRejections;
    /// Records refused because no regulator was active, and records appended while the contract listed
    /// none (must stay 0).
    uint256 public noRegulatorRejections;
    uint256 public recordsWithoutRegulator;
    /// Records refused for their envelope's structure or addressing.
    uint256 public envelopeRejections;
    uint256 public mismatches;
    string public firstMismatch;

    mapping(string action => uint256) public calls;
    mapping(string action => uint256) public successes;
    string[] internal _actions;

    constructor(
        Supervision sup_,
        InstitutionRegistry registry_,
        address[3] memory admins_,
        address[6] memory actors_
    ) {
        sup = sup_;
        registry = registry_;
        admins = admins_;
        actors = actors_;
        _actions.push("record");
        _actions.push("admit");
        _actions.push("admitBatch");
        _actions.push("remove");
        _actions.push("removeBatch");
        _actions.push("admitOffCurve");
        _actions.push("toggleInstitution3");
    }

    // ---------------------------------------------------------------- actions

    function record(uint256 actorSeed, bytes32 subject, uint256 lengthSeed, bytes32 fill) external {
        address actor = actors[actorSeed % actors.length];
        bytes memory payload = _payload(lengthSeed, fill);
        bytes memory expectedErr = _recordErr(actor, actorSeed % actors.length < 3, payload);
        uint256 activeBefore = sup.regulators().length;

        vm.recordLogs();
        vm.prank(actor);
        (bool ok, bytes memory ret) = address(sup).call(abi.encodeCall(sup.record, (subject, payload)));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        _count("record", ok);
        _check(ok, expectedErr.length == 0, "record");
        if (!ok) {
            if (expectedErr.length != 0 && keccak256(ret) != keccak256(expectedErr)) {
                _mismatch("record: wrong error");
            }
            if (keccak256(ret) == keccak256(abi.encodeWithSelector(ISupervision.SupNoRegulators.selector))) {
                ++noRegulatorRejections;
            } else if (_isEnvelopeError(ret)) {
                ++envelopeRejections;
            }
            return;
        }
        if (activeBefore == 0) ++recordsWithoutRegulator;
        _readBackAll(logs, actor, subject, payload);
    }

    /// An envelope for the model's active set, or (1 in 32 each) empty, over the cap, junk, of the wrong
    /// version, missing a regulator, naming an outsider, naming one twice, truncated, or with a byte
    /// after the body.
    function _payload(uint256 lengthSeed, bytes32 fill) internal view returns (bytes memory payload) {
        uint256 kind = lengthSeed % 32;
        if (kind == 0) return "";
        if (kind == 1) return new bytes(MAX_ENVELOPE + 1);
        if (kind == 2) return _junk(1 + (lengthSeed >> 8) % 600, fill);
        address[] memory recipients = _rotated(lengthSeed >> 8);
        uint256 bodyLength = 16 + (lengthSeed >> 16) % 400;
        if (kind == 3 && recipients.length > 0) {
            // The largest envelope: the body fills up to the cap.
            bodyLength = MAX_ENVELOPE - (Envelopes.lengthFieldOffset(1, recipients.length) + 4);
        } else if (kind == 4 && recipients.length > 0) {
            address[] memory fewer = new address[](recipients.length - 1);
            for (uint256 i; i < fewer.length; ++i) {
                fewer[i] = recipients[i];
            }
            recipients = fewer;
        } else if (kind == 5 && recipients.length > 0) {
            recipients[0] = vm.addr(POOL_BASE + (lengthSeed >> 24) % (POOL + 2)); // maybe inactive, maybe not
        } else if (kind == 6 && recipients.length > 1) {
            recipients[1] = recipients[0];
        }
        Envelopes.Parts memory p = Envelopes.parts(recipients, bodyLength, fill);
        if (kind == 7) p.version = uint8(lengthSeed >> 40);
        payload = Envelopes.encode(p);
        if (kind == 8) payload = Envelopes.truncate(payload, 1 + (lengthSeed >> 48) % (payload.length - 1));
        else if (kind == 9) payload = bytes.concat(payload, bytes1(uint8(lengthSeed)));
    }

    function _junk(uint256 length, bytes32 fill) internal pure returns (bytes memory payload) {
        payload = new bytes(length);
        for (uint256 i; i < length; i += 32) {
            payload[i] = fill[(i / 32) % 32];
        }
        payload[length - 1] = fill[31];
    }

    /// The model's active regulators, rotated: the contract must not depend on their order.
    function _rotated(uint256 seed) internal view returns (address[] memory out) {
        uint256 n = ghostRegulators.length;
        out = new address[](n);
        if (n == 0) return out;
        for (uint256 i; i < n; ++i) {
            out[i] = ghostRegulators[(i + seed % n) % n];
        }
    }

    /// The error of the contract's first failing check (empty: the record must be appended): the
    /// caller's role, then an active regulator, then the envelope's length, then its structure and
    /// addressing (the reference reader).
    function _recordErr(address actor, bool isRelayer, bytes memory envelope_)
        internal
        view
        returns (bytes memory)
    {
        if (!isRelayer || (actor == actors[2] && inst3Suspended)) {
            return abi.encodeWithSelector(ISupervision.SupNotRelayer.selector, actor);
        }
        if (ghostRegulators.length == 0) {
            return abi.encodeWithSelector(ISupervision.SupNoRegulators.selector);
        }
        uint256 length = envelope_.length;
        if (length == 0 || length > MAX_ENVELOPE) {
            return abi.encodeWithSelector(ISupervision.SupBadEnvelopeLength.selector, length);
        }
        return Envelopes.expectedError(envelope_, ghostRegulators);
    }

    function _isEnvelopeError(bytes memory ret) internal pure returns (bool) {
        if (ret.length < 4) return false;
        bytes4 selector = bytes4(ret);
        return selector == ISupervision.SupEnvelopeVersion.selector
            || selector == ISupervision.SupMalformedEnvelope.selector
            || selector == ISupervision.SupEnvelopeRecipients.selector
            || selector == ISupervision.SupEnvelopeRecipient.selector;
    }

    function _readBackAll(Vm.Log[] memory logs, address actor, bytes32 subject, bytes memory payload)
        internal
    {
        uint256 index = _envelopes.length;
        uint256 seen;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(sup) || logs[i].topics[0] != ISupervision.RecordAppended.selector) continue;
            ++seen;
            _readBack(logs[i], actor, subject, payload, index);
        }
        if (seen != 1) _mismatch("record: not exactly one RecordAppended");
    }

    /// Checks one RecordAppended log against the call that produced it and keeps the logged envelope.
    function _readBack(Vm.Log memory log, address actor, bytes32 subject, bytes memory sent, uint256 index)
        internal
    {
        if (uint256(log.topics[1]) != index) _mismatch("record: index");
        if (log.topics[2] != subject) _mismatch("record: subject");
        if (uint256(log.topics[3]) != registry.activeInstitutionOf(actor, IInstitutionRegistry.Role.Relayer))
        {
            _mismatch("record: institution");
        }
        (address relayer, bytes32 recordHash, bytes32 headAfter, bytes memory logged) =
            abi.decode(log.data, (address, bytes32, bytes32, bytes));
        if (relayer != actor) _mismatch("record: relayer");
        if (keccak256(logged) != keccak256(sent)) _mismatch("record: envelope altered");
        if (recordHash != keccak256(logged)) _mismatch("record: record hash");
        if (headAfter != sup.head()) _mismatch("record: head in event");
        _envelopes.push(logged);
    }

    function admit(uint256 keySeed, uint256 nameSeed) external {
        _admit(keySeed, nameSeed);
    }

    /// Several admissions in a row, so runs reach the cap of 16.
    function admitBatch(uint256 keySeed, uint256 count) external {
        count = 2 + count % 7;
        _count("admitBatch", true); // each admission is also counted under "admit"
        for (uint256 k; k < count; ++k) {
            _admit(keySeed % POOL + k, 1);
        }
    }

    function _admit(uint256 keySeed, uint256 nameSeed) internal {
        Vm.Wallet memory w = vm.createWallet(POOL_BASE + keySeed % POOL);
        bool badName = nameSeed % 16 == 0;
        string memory name = badName ? "" : "regulator";
        bool expected = !badName && !isGhostRegulator[w.addr] && ghostRegulators.length < MAX_REGULATORS;
        if (!badName && !isGhostRegulator[w.addr] && ghostRegulators.length == MAX_REGULATORS) {
            ++capRejections;
        }
        bool ok =
            _govern(abi.encodeCall(sup.admitRegulator, (abi.encodePacked(w.publicKeyX, w.publicKeyY), name)));
        _count("admit", ok);
        _check(ok, expected, "admit");
        if (ok && expected) {
            ghostRegulators.push(w.addr);
            isGhostRegulator[w.addr] = true;
        }
    }

    function remove(uint256 keySeed, bool pickActive) external {
        _remove(keySeed, pickActive);
    }

    /// Several removals of active regulators in a row, so runs drain the set and records meet
    /// SupNoRegulators again.
    function removeBatch(uint256 keySeed, uint256 count) external {
        count = 2 + count % 7;
        _count("removeBatch", true); // each removal is also counted under "remove"
        for (uint256 k; k < count && ghostRegulators.length > 0; ++k) {
            _remove(keySeed % POOL + k, true);
        }
    }

    function _remove(uint256 keySeed, bool pickActive) internal {
        address regulator;
        if (pickActive && ghostRegulators.length > 0) {
            regulator = ghostRegulators[keySeed % ghostRegulators.length];
        } else {
            regulator = vm.addr(POOL_BASE + keySeed % POOL);
        }
        bool expected = isGhostRegulator[regulator];
        bool ok = _govern(abi.encodeCall(sup.removeRegulator, (regulator)));
        _count("remove", ok);
        _check(ok, expected, "remove");
        if (ok && expected) {
            isGhostRegulator[regulator] = false;
            for (uint256 i; i < ghostRegulators.length; ++i) {
                if (ghostRegulators[i] == regulator) {
                    ghostRegulators[i] = ghostRegulators[ghostRegulators.length - 1];
                    ghostRegulators.pop();
                    break;
                }
            }
        }
    }

    function admitOffCurve(uint256 x, uint256 y) external {
        bool onCurve = x < _p() && y < _p()
            && mulmod(y, y, _p()) == addmod(mulmod(mulmod(x, x, _p()), x, _p()), 7, _p());
        if (onCurve) return; // astronomically unlikely
        vm.prank(address(registry));
        bool ok;
        try sup.admitRegulator(abi.encodePacked(x, y), "off-curve") {
            ok = true;
        } catch {}
        _count("admitOffCurve", ok);
        _check(ok, false, "admitOffCurve");
    }

    function toggleInstitution3() external {
        bytes memory data = inst3Suspended
            ? abi.encodeCall(registry.reinstateInstitution, (uint64(3)))
            : abi.encodeCall(registry.suspendInstitution, (uint64(3)));
        bool ok = _governAt(address(registry), data);
        _count("toggleInstitution3", ok);
        _check(ok, true, "toggleInstitution3");
        if (ok) inst3Suspended = !inst3Suspended;
    }

    // ---------------------------------------------------------------- internals

    function _p() internal pure returns (uint256) {
        return type(uint256).max - (2 ** 32 + 976);
    }

    function _govern(bytes memory data) internal returns (bool) {
        return _governAt(address(sup), data);
    }

    /// A real proposal: institution 1 proposes, the active founders approve, anyone executes.
    function _governAt(address target, bytes memory data) internal returns (bool ok) {
        vm.prank(admins[0]);
        uint256 id = registry.propose(target, data, "invariant");
        for (uint64 i; i < 3; ++i) {
            if (registry.proposalState(id) != IInstitutionRegistry.ProposalState.Pending) break;
            if (!registry.isActive(i + 1)) continue;
            vm.prank(admins[i]);
            registry.vote(id, true);
        }
        if (registry.proposalState(id) != IInstitutionRegistry.ProposalState.Passed) {
            _mismatch("governance: proposal did not pass");
            return false;
        }
        try registry.execute(id, data) {
            ok = true;
        } catch {}
    }

    function _check(bool ok, bool expected, string memory action) internal {
        if (ok != expected) {
            _mismatch(string.concat(action, ok ? ": succeeded unexpectedly" : ": failed unexpectedly"));
        }
    }

    function _mismatch(string memory what) internal {
        if (mismatches == 0) firstMismatch = what;
        ++mismatches;
    }

    function _count(string memory action, bool ok) internal {
        ++calls[action];
        if (ok) ++successes[action];
    }

    // ---------------------------------------------------------------- views for the invariants

    function envelopeCount() external view returns (uint256) {
        return _envelopes.length;
    }

    function envelope(uint256 i) external view returns (bytes memory) {
        return _envelopes[i];
    }

    function ghostCount() external view returns (uint256) {
        return ghostRegulators.length;
    }

    function poolAddress(uint256 i) external pure returns (address) {
        return vm.addr(POOL_BASE + i);
    }

    function poolSize() external pure returns (uint256) {
        return POOL;
    }

    function actions() external view returns (string[] memory) {
        return _actions;
    }
}

/// @notice Invariants of the audit trail and the regulator set.
contract SupervisionInvariantTest is HtlcFixture {
    SupervisionHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new SupervisionHandler(
            sup,
            registry,
            [ADMIN_1, ADMIN_2, ADMIN_3],
            [RELAYER_1, RELAYER_2, RELAYER_3, USER_1, ADMIN_1, STRANGER]
        );
        targetContract(address(handler));
    }

    /// A verifier holding only the logged envelopes recomputes the stored head.
    function invariant_headRecomputesFromLoggedEnvelopes() public view {
        bytes32 h;
        uint256 n = handler.envelopeCount();
        for (uint256 i; i < n; ++i) {
            h = keccak256(abi.encodePacked(h, keccak256(handler.envelope(i))));
        }
        assertEq(sup.head(), h, "head");
    }

    function invariant_recordCountEqualsAppended() public view {
        assertEq(sup.recordCount(), handler.envelopeCount(), "record count");
    }

    function invariant_regulatorListHasNoDuplicates() public view {
        address[] memory list = sup.regulators();
        assertLe(list.length, sup.MAX_REGULATORS(), "over the cap");
        for (uint256 i; i < list.length; ++i) {
            for (uint256 j = i + 1; j < list.length; ++j) {
                assertTrue(list[i] != list[j], "duplicate regulator");
            }
        }
    }

    function invariant_regulatorListMatchesGhostSet() public view {
        address[] memory list = sup.regulators();
        assertEq(list.length, handler.ghostCount(), "size");
        for (uint256 i; i < list.length; ++i) {
            assertTrue(handler.isGhostRegulator(list[i]), "listed but not in the ghost set");
            ISupervision.Regulator memory r = sup.regulatorOf(list[i]);
            assertTrue(r.active, "listed but inactive");
            assertEq(uint256(r.position), i + 1, "position");
            assertEq(
                address(uint160(uint256(keccak256(abi.encodePacked(r.publicKeyX, r.publicKeyY))))),
                list[i],
                "key"
            );
        }
        uint256 pool = handler.poolSize();
        for (uint256 i; i < pool; ++i) {
            address a = handler.poolAddress(i);
            ISupervision.Regulator memory r = sup.regulatorOf(a);
            assertEq(r.active, handler.isGhostRegulator(a), "active flag");
            if (!r.active) assertEq(uint256(r.position), 0, "inactive with a position");
        }
    }

    function invariant_handlerSawNoSurprise() public view {
        assertEq(handler.mismatches(), 0, handler.firstMismatch());
    }

    /// No record was ever appended while the contract listed no active regulator.
    function invariant_noRecordWithoutRegulator() public view {
        assertEq(handler.recordsWithoutRegulator(), 0, "record appended with no regulator active");
        if (sup.recordCount() > 0) assertGt(handler.successes("admit"), 0, "records before any admission");
    }

    /// A long deterministic interleaving through the same handler: records are refused for want of a
    /// regulator and accepted with one, the cap is hit, the model held throughout and the invariants hold.
    function test_handlerReachesEveryOutcome() public {
        for (uint256 i; i < 400; ++i) {
            uint256 r = uint256(keccak256(abi.encode("sup-coverage", i)));
            uint256 a = uint256(keccak256(abi.encode(r, 1)));
            uint256 pick = r % 10;
            if (pick < 5) handler.record(a, bytes32(r), r >> 8, keccak256(abi.encode(a)));
            else if (pick == 5) handler.admit(a, r >> 8);
            else if (pick == 6) handler.admitBatch(a, r >> 8);
            else if (pick == 7) handler.remove(a, (r >> 8) % 3 != 0);
            else if (pick == 8 && (r >> 8) % 2 == 0) handler.removeBatch(a, r >> 16);
            else if (pick == 8) handler.admitOffCurve(a, r >> 8);
            else handler.toggleInstitution3();
        }
        assertEq(handler.mismatches(), 0, handler.firstMismatch());
        assertGt(handler.noRegulatorRejections(), 0, "records refused without a regulator");
        assertGt(handler.successes("record"), 0, "records appended");
        assertGt(handler.envelopeRejections(), 0, "envelopes refused for their contents");
        assertGt(handler.capRejections(), 0, "cap reached");
        invariant_headRecomputesFromLoggedEnvelopes();
        invariant_recordCountEqualsAppended();
        invariant_regulatorListHasNoDuplicates();
        invariant_regulatorListMatchesGhostSet();
        invariant_handlerSawNoSurprise();
        invariant_noRecordWithoutRegulator();
        _logStats();
    }

    function afterInvariant() external view {
        _logStats();
    }

    function _logStats() internal view {
        string[] memory names = handler.actions();
        for (uint256 i; i < names.length; ++i) {
            SupStatsLog.log(string.concat(names[i], " calls"), handler.calls(names[i]));
            SupStatsLog.log(string.concat(names[i], " successes"), handler.successes(names[i]));
        }
        SupStatsLog.log("records", handler.envelopeCount());
        SupStatsLog.log("regulators at end", handler.ghostCount());
        SupStatsLog.log("admissions rejected at the cap", handler.capRejections());
        SupStatsLog.log("records rejected: no regulator", handler.noRegulatorRejections());
        SupStatsLog.log("records rejected: envelope", handler.envelopeRejections());
    }
}
