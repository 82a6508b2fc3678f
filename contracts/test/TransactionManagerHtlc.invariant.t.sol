// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {HtlcFixture} from "./TransactionManagerHtlcBase.sol";
import {Vm} from "./utils/Vm.sol";
import {TransactionManager} from "../src/governance/TransactionManager.sol";
import {ITransactionManager} from "../src/interfaces/ITransactionManager.sol";

/// @dev forge's console, reached directly (forge-std is not available): prints with -vv.
library HtlcStatsLog {
    address internal constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    function log(string memory label, uint256 value) internal view {
        bytes memory payload = abi.encodeWithSignature("log(string,uint256)", label, value);
        address target = CONSOLE;
        assembly ("memory-safe") {
            pop(staticcall(gas(), target, add(payload, 32), mload(payload), 0, 0))
        }
    }
}

/// @notice Drives the HTLC half with valid and invalid calls from the right and the wrong relayers,
/// keeps an independent model of every swap (state machine of the interface docs), and records any
/// disagreement: a call whose success the model did not predict, a rejection with another error than the
/// model's first failing check, a SwapClosed / SwapExpired event the model did not predict (or a missing
/// one), a state the model does not hold, or an observed transition that goes backwards.
///
/// Model: Proposed -> Accepted | Expired (Expired only from Proposed at/after TB); legs only move while
/// Accepted: None -> Locked | Void, Locked -> Unlocked | Refunded, leg B locked only while A is Locked;
/// the swap is Closed (and unlisted) exactly when both legs are Unlocked, Refunded or Void.
contract HtlcHandler {
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    uint64 internal constant MARGIN = 10 minutes;
    uint256 internal constant MAX_EVIDENCE = 256;

    enum Rec {
        Lock,
        Unlock,
        Refund,
        Void
    }

    struct RecordCall {
        Rec kind;
        bytes32 id;
        uint8 leg;
        address caller;
        /// the caller serves the leg's chain
        bool rightCaller;
        bytes evidence;
        /// for unlocks: the swap's real secret
        bool rightSecret;
    }

    struct Model {
        ITransactionManager.SwapState state;
        ITransactionManager.LegState a;
        ITransactionManager.LegState b;
        uint40 timelockA;
        uint40 timelockB;
        bytes32 secret;
    }

    struct Config {
        bytes32 zoneA;
        bytes32 chainA;
        bytes32 zoneB;
        bytes32 chainB;
        address relayerA;
        address relayerB;
        address relayerA2;
        address adminB;
        address stranger;
        uint256 pkInit;
        uint256 pkCp;
        uint64 instInit;
    }

    TransactionManager internal immutable tm;
    Config internal cfg;
    address internal user1;
    address internal user2;

    bytes32[] public ids;
    mapping(bytes32 id => Model) internal _model;
    mapping(bytes32 id => ITransactionManager.Swap) internal _seen;
    mapping(bytes32 id => bytes32) public secretOf;
    /// Ghost history: leg `leg` of `id` was seen Locked (or past it) at some point.
    mapping(bytes32 id => mapping(uint8 leg => bool)) public everLocked;
    uint256 public ghostOpen;
    uint256 internal _nonce;

    uint256 public mismatches;
    string public firstMismatch;
    uint256 public regressions;

    /// Outcome coverage of this run.
    uint256 public closedBothUnlocked;
    uint256 public closedBothRefunded;
    uint256 public closedMixed;
    uint256 public closedBothVoid;
    uint256 public closedRefundedVoid;
    uint256 public closedUnlockedVoid;
    uint256 public expiredProposed;
    uint256 public voidBWhileANone;
    uint256 public lockAAfterBVoid;
    uint256 public expireRejectedAccepted;
    uint256 public recordsRejectedAfterEnd;
    uint256 public proposalsRejectedCounterparty;
    uint256 public squatsRefused;

    mapping(string action => uint256) public calls;
    mapping(string action => uint256) public successes;
    string[] internal _actions;

    constructor(TransactionManager tm_, Config memory cfg_) {
        tm = tm_;
        cfg = cfg_;
        user1 = vm.addr(cfg_.pkInit);
        user2 = vm.addr(cfg_.pkCp);
        _actions.push("propose");
        _actions.push("accept");
        _actions.push("lock");
        _actions.push("unlock");
        _actions.push("refund");
        _actions.push("void");
        _actions.push("expire");
        _actions.push("advance");
        _actions.push("warp");
    }

    // ---------------------------------------------------------------- actions

    function propose(uint256 tbSeed, uint256 gapSeed, uint256 amount, uint256 flavour) external {
        uint256 nonce = ++_nonce;
        // The initiator's own id for the nonce, or 1 in 8 an id already used.
        bytes32 bound_ = keccak256(abi.encode(user1, nonce));
        bytes32 id = bound_;
        bool reuse = flavour % 8 == 0 && ids.length > 0;
        if (reuse) id = ids[flavour % ids.length];
        bytes32 secret = keccak256(abi.encode("secret", id));
        // 3 in 16: a counterparty that is no user (a relayer, an admin, an unregistered key).
        address counterparty = user2;
        if (flavour % 16 == 3) counterparty = cfg.relayerB;
        else if (flavour % 16 == 5) counterparty = cfg.adminB;
        else if (flavour % 16 == 7) counterparty = cfg.stranger;
        ITransactionManager.SwapRequest memory r;
        r.swapId = id;
        r.hashlock = sha256(abi.encodePacked(secret));
        uint64 tb = uint64(block.timestamp + 1 + (tbSeed % 2 days));
        uint64 ta = tb + MARGIN + 1 + uint64(gapSeed % 2 days);
        r.legA = ITransactionManager.Leg(
            cfg.zoneA, cfg.chainA, "asset", user1, counterparty, 1 + (amount % 1e24), ta
        );
        r.legB = ITransactionManager.Leg(
            cfg.zoneB, cfg.chainB, "asset", counterparty, user1, 1 + (amount % 1e18), tb
        );
        r.nonce = nonce;
        bytes memory sig = _sign(cfg.pkInit, tm.swapRequestDigest(r));

        bool wrongRelayer = flavour % 16 == 1; // relayer B is not the initiator's
        address submitter = wrongRelayer ? cfg.relayerB : cfg.relayerA;
        bytes memory err;
        if (_model[id].state != ITransactionManager.SwapState.None) {
            err = abi.encodeWithSelector(ITransactionManager.SwapAlreadyExists.selector, id);
        } else if (id != bound_) {
            err = abi.encodeWithSelector(ITransactionManager.SwapIdNotBound.selector, id, bound_);
        } else if (wrongRelayer) {
            err = abi.encodeWithSelector(
                ITransactionManager.SwapNotInstitutionRelayer.selector, submitter, cfg.instInit
            );
        } else if (counterparty != user2) {
            err = abi.encodeWithSelector(ITransactionManager.SwapNotUser.selector, counterparty);
        }
        if (flavour % 16 == 9) _squat(r, bound_);
        (bool ok, bytes memory ret) = _call(submitter, abi.encodeCall(tm.proposeSwap, (r, sig)));
        _count("propose", ok);
        _outcome("propose", ok, ret, err);
        if (!ok && counterparty != user2 && keccak256(ret) == keccak256(err)) {
            ++proposalsRejectedCounterparty;
        }
        if (ok && err.length == 0) {
            ids.push(id);
            secretOf[id] = secret;
            _model[id] = Model({
                state: ITransactionManager.SwapState.Proposed,
                a: ITransactionManager.LegState.None,
                b: ITransactionManager.LegState.None,
                timelockA: uint40(ta),
                timelockB: uint40(tb),
                secret: bytes32(0)
            });
            ++ghostOpen;
        }
        _observe();
    }

    /// Before `r` is proposed, the initiator tries the same request under the id the counterparty's
    /// request with that nonce would carry (squatting another user's id): refused, nothing recorded.
    function _squat(ITransactionManager.SwapRequest memory r, bytes32 bound_) internal {
        bytes32 own = r.swapId;
        r.swapId = keccak256(abi.encode(user2, r.nonce));
        bytes memory err;
        if (_model[r.swapId].state != ITransactionManager.SwapState.None) {
            err = abi.encodeWithSelector(ITransactionManager.SwapAlreadyExists.selector, r.swapId);
        } else {
            err = abi.encodeWithSelector(ITransactionManager.SwapIdNotBound.selector, r.swapId, bound_);
        }
        bytes memory sig = _sign(cfg.pkInit, tm.swapRequestDigest(r));
        (bool ok, bytes memory ret) = _call(cfg.relayerA, abi.encodeCall(tm.proposeSwap, (r, sig)));
        _outcome("squat", ok, ret, err);
        if (!ok) ++squatsRefused;
        r.swapId = own;
    }

    function accept(uint256 idx, uint256 flavour) external {
        if (ids.length == 0) return;
        _accept(_pick(idx), flavour % 10 == 0);
    }

    function lock(uint256 idx, uint256 legSeed, uint256 actorSeed) external {
        if (ids.length == 0) return;
        _recordFuzzed(Rec.Lock, _pick(idx), legSeed, actorSeed);
    }

    function unlock(uint256 idx, uint256 legSeed, uint256 actorSeed) external {
        if (ids.length == 0) return;
        _recordFuzzed(Rec.Unlock, _pick(idx), legSeed, actorSeed);
    }

    function refund(uint256 idx, uint256 legSeed, uint256 actorSeed) external {
        if (ids.length == 0) return;
        _recordFuzzed(Rec.Refund, _pick(idx), legSeed, actorSeed);
    }

    function voidLeg(uint256 idx, uint256 legSeed, uint256 actorSeed) external {
        if (ids.length == 0) return;
        _recordFuzzed(Rec.Void, _pick(idx), legSeed, actorSeed);
    }

    function expire(uint256 idx) external {
        if (ids.length == 0) return;
        _expire(_pick(idx));
    }

    /// Performs the protocol's next step on a recent swap, choosing between the branches a real run
    /// may take (reveal or time out; refund the leg that timed out; void a leg that was never locked),
    /// and now and then a step the protocol forbids there (expiring an accepted swap, locking B out of
    /// order, recording on an ended swap).
    function advance(uint256 idx, uint256 choice) external {
        if (ids.length == 0) return;
        bytes32 id = _pick(idx);
        Model storage m = _model[id];
        ITransactionManager.LegState none = ITransactionManager.LegState.None;
        ITransactionManager.LegState locked = ITransactionManager.LegState.Locked;
        ITransactionManager.LegState void_ = ITransactionManager.LegState.Void;
        _count("advance", true);
        if (m.state == ITransactionManager.SwapState.Proposed) {
            if (choice % 5 == 0 || block.timestamp >= m.timelockB) _expire(id);
            else _accept(id, false);
        } else if (m.state == ITransactionManager.SwapState.Accepted) {
            if (m.a == none && m.b == none) {
                uint256 c = choice % 7;
                if (c == 0) _step(Rec.Void, id, 0);
                else if (c == 1) _step(Rec.Void, id, 1);
                else if (c == 2) _expire(id); // the removed branch: must be rejected
                else _step(Rec.Lock, id, 0);
            } else if (m.a == none) {
                // B already void
                if (choice % 3 == 0) _step(Rec.Void, id, 0);
                else _step(Rec.Lock, id, 0);
            } else if (m.a == void_) {
                if (choice % 4 == 0) _step(Rec.Lock, id, 1); // out of order
                else _step(Rec.Void, id, 1);
            } else if (m.a == locked && m.b == none) {
                uint256 c = choice % 5;
                if (c == 0) _step(Rec.Refund, id, 0);
                else if (c == 1) _step(Rec.Unlock, id, 0);
                else if (c == 2) _step(Rec.Void, id, 1);
                else _step(Rec.Lock, id, 1);
            } else if (m.b == locked) {
                if (choice % 3 == 0) _step(Rec.Refund, id, 1);
                else _step(Rec.Unlock, id, 1);
            } else if (m.a == locked) {
                // B ended (unlocked, refunded or void)
                if (choice % 3 == 0) _step(Rec.Refund, id, 0);
                else _step(Rec.Unlock, id, 0);
            } else {
                // A unlocked or refunded, B never locked: B can only be voided now
                if (choice % 4 == 0) _step(Rec.Lock, id, 1); // out of order
                else _step(Rec.Void, id, 1);
            }
        } else {
            // Expired or Closed: any record by the right relayer is refused.
            _step(Rec(uint8((choice >> 1) % 4)), id, uint8(choice % 2));
        }
    }

    function warp(uint256 dt) external {
        vm.warp(block.timestamp + 1 + (dt % 8 hours));
        _count("warp", true);
    }

    // ---------------------------------------------------------------- steps

    function _accept(bytes32 id, bool wrongSigner) internal {
        Model storage m = _model[id];
        bytes memory sig = _sign(wrongSigner ? cfg.pkInit : cfg.pkCp, tm.swap(id).digest);
        bytes memory err;
        if (m.state != ITransactionManager.SwapState.Proposed) {
            err = abi.encodeWithSelector(ITransactionManager.SwapNotProposed.selector, id, m.state);
        } else if (block.timestamp >= m.timelockB) {
            err = abi.encodeWithSelector(
                ITransactionManager.SwapAcceptWindowClosed.selector, id, uint64(m.timelockB)
            );
        } else if (wrongSigner) {
            err = abi.encodeWithSelector(ITransactionManager.SwapWrongSigner.selector, user2, user1);
        }
        (bool ok, bytes memory ret) = _call(cfg.relayerB, abi.encodeCall(tm.acceptSwap, (id, sig)));
        _count("accept", ok);
        _outcome("accept", ok, ret, err);
        if (ok && err.length == 0) m.state = ITransactionManager.SwapState.Accepted;
        _observe();
    }

    /// A record with fuzzed leg (1 in 16 out of range), caller (1 in 5 not serving), evidence (1 in 32
    /// oversized) and, for unlocks, secret (1 in 7 wrong).
    function _recordFuzzed(Rec kind, bytes32 id, uint256 legSeed, uint256 actorSeed) internal {
        uint8 leg = legSeed % 16 == 15 ? uint8(2 + (legSeed >> 4) % 254) : uint8(legSeed % 2);
        (address caller, bool rightCaller) = _caller(leg, actorSeed);
        bytes memory evidence =
            (actorSeed >> 8) % 32 == 0 ? new bytes(MAX_EVIDENCE + 1) : abi.encodePacked(id, leg);
        _record(RecordCall(kind, id, leg, caller, rightCaller, evidence, (actorSeed >> 16) % 7 != 3));
    }

    /// A well-formed record by the leg's serving relayer.
    function _step(Rec kind, bytes32 id, uint8 leg) internal {
        address relayer = leg == 0 ? cfg.relayerA : cfg.relayerB;
        _record(RecordCall(kind, id, leg, relayer, true, abi.encodePacked(id, leg), true));
    }

    function _record(RecordCall memory c) internal {
        Model storage m = _model[c.id];
        bytes32 secret = c.rightSecret ? secretOf[c.id] : keccak256(abi.encode(c.id, "wrong"));
        bytes memory err = _recordErr(c, m);
        (string memory action, bytes memory data) = _recordCall(c.kind, c.id, c.leg, secret, c.evidence);
        if (
            c.rightCaller
                && (m.state == ITransactionManager.SwapState.Expired
                    || m.state == ITransactionManager.SwapState.Closed)
        ) {
            ++recordsRejectedAfterEnd; // must fail: checked by _outcome
        }

        vm.recordLogs();
        (bool ok, bytes memory ret) = _call(c.caller, data);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        _count(action, ok);
        _outcome(action, ok, ret, err);
        bool closes = ok && err.length == 0 && _apply(c.kind, m, c.leg, secret);
        _checkClosedLogs(logs, c.id, closes, m);
        _observe();
    }

    function _recordCall(Rec kind, bytes32 id, uint8 leg, bytes32 secret, bytes memory evidence)
        internal
        view
        returns (string memory, bytes memory)
    {
        if (kind == Rec.Lock) return ("lock", abi.encodeCall(tm.recordLegLocked, (id, leg, evidence)));
        if (kind == Rec.Unlock) {
            return ("unlock", abi.encodeCall(tm.recordLegUnlocked, (id, leg, secret, evidence)));
        }
        if (kind == Rec.Refund) return ("refund", abi.encodeCall(tm.recordLegRefunded, (id, leg, evidence)));
        return ("void", abi.encodeCall(tm.recordLegVoid, (id, leg, evidence)));
    }

    /// Applies a successful record to the model; true when it closed the swap.
    function _apply(Rec kind, Model storage m, uint8 leg, bytes32 secret) internal returns (bool) {
        if (kind == Rec.Lock) {
            if (leg == 0 && m.b == ITransactionManager.LegState.Void) ++lockAAfterBVoid;
            _setLeg(m, leg, ITransactionManager.LegState.Locked);
        } else if (kind == Rec.Unlock) {
            _setLeg(m, leg, ITransactionManager.LegState.Unlocked);
            m.secret = secret;
        } else if (kind == Rec.Refund) {
            _setLeg(m, leg, ITransactionManager.LegState.Refunded);
        } else {
            if (leg == 1 && m.a == ITransactionManager.LegState.None) ++voidBWhileANone;
            _setLeg(m, leg, ITransactionManager.LegState.Void);
        }
        return _closeIfEnded(m);
    }

    /// The error of the contract's first failing check (empty: the record must succeed).
    function _recordErr(RecordCall memory c, Model storage m) internal view returns (bytes memory) {
        bytes32 id = c.id;
        uint8 leg = c.leg;
        if (m.state != ITransactionManager.SwapState.Accepted) {
            return abi.encodeWithSelector(ITransactionManager.SwapNotInProgress.selector, id, m.state);
        }
        if (leg > 1) return abi.encodeWithSelector(ITransactionManager.SwapBadLeg.selector, leg);
        if (c.evidence.length > MAX_EVIDENCE) {
            return
                abi.encodeWithSelector(ITransactionManager.SwapEvidenceTooLarge.selector, c.evidence.length);
        }
        if (!c.rightCaller) {
            return
                abi.encodeWithSelector(ITransactionManager.SwapNotServingRelayer.selector, id, leg, c.caller);
        }
        ITransactionManager.LegState current = leg == 0 ? m.a : m.b;
        Rec kind = c.kind;
        ITransactionManager.LegState required = kind == Rec.Lock || kind == Rec.Void
            ? ITransactionManager.LegState.None
            : ITransactionManager.LegState.Locked;
        if (current != required) {
            return abi.encodeWithSelector(ITransactionManager.SwapLegState.selector, id, leg, current);
        }
        if (
            kind == Rec.Lock && leg == 1 && m.a != ITransactionManager.LegState.Locked
                && m.a != ITransactionManager.LegState.Refunded
        ) {
            return abi.encodeWithSelector(ITransactionManager.SwapLegOutOfOrder.selector, id);
        }
        if (kind == Rec.Unlock && !c.rightSecret) {
            return abi.encodeWithSelector(ITransactionManager.SwapWrongSecret.selector, id);
        }
        return "";
    }

    function _expire(bytes32 id) internal {
        Model storage m = _model[id];
        bool expirable = m.state == ITransactionManager.SwapState.Proposed && block.timestamp >= m.timelockB;
        bytes memory err =
            expirable ? bytes("") : abi.encodeWithSelector(ITransactionManager.SwapNotExpirable.selector, id);
        vm.recordLogs();
        (bool ok, bytes memory ret) = _call(cfg.stranger, abi.encodeCall(tm.expireSwap, (id)));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        _count("expire", ok);
        _outcome("expire", ok, ret, err);
        if (!ok && m.state == ITransactionManager.SwapState.Accepted) ++expireRejectedAccepted;
        uint256 expiredLogs;
        for (uint256 i; i < logs.length; ++i) {
            if (
                logs[i].emitter == address(tm)
                    && logs[i].topics[0] == ITransactionManager.SwapExpired.selector
            ) {
                ++expiredLogs;
            }
        }
        if (expiredLogs != (ok ? 1 : 0)) _mismatch("expire: SwapExpired events");
        if (ok && expirable) {
            ++expiredProposed;
            m.state = ITransactionManager.SwapState.Expired;
            --ghostOpen;
        }
        _observe();
    }

    function _call(address caller, bytes memory data) internal returns (bool ok, bytes memory ret) {
        vm.prank(caller);
        (ok, ret) = address(tm).call(data);
    }

    // ---------------------------------------------------------------- model

    /// Mostly one of the three newest swaps (so single swaps get driven to the end), sometimes any.
    function _pick(uint256 idx) internal view returns (bytes32) {
        uint256 n = ids.length;
        if (idx % 4 == 0) return ids[(idx >> 2) % n];
        uint256 window = n < 3 ? n : 3;
        return ids[n - 1 - ((idx >> 2) % window)];
    }

    function _setLeg(Model storage m, uint8 leg, ITransactionManager.LegState s) internal {
        if (leg == 0) m.a = s;
        else m.b = s;
    }

    function _endedLeg(ITransactionManager.LegState l) internal pure returns (bool) {
        return l == ITransactionManager.LegState.Unlocked || l == ITransactionManager.LegState.Refunded
            || l == ITransactionManager.LegState.Void;
    }

    /// The interface's rule: Closed exactly when both legs ended (Unlocked, Refunded or Void).
    function _closeIfEnded(Model storage m) internal returns (bool) {
        if (!_endedLeg(m.a) || !_endedLeg(m.b)) return false;
        --ghostOpen;
        m.state = ITransactionManager.SwapState.Closed;
        ITransactionManager.LegState u = ITransactionManager.LegState.Unlocked;
        ITransactionManager.LegState r = ITransactionManager.LegState.Refunded;
        ITransactionManager.LegState v = ITransactionManager.LegState.Void;
        if (m.a == u && m.b == u) ++closedBothUnlocked;
        else if (m.a == r && m.b == r) ++closedBothRefunded;
        else if (m.a == v && m.b == v) ++closedBothVoid;
        else if (m.b == v && m.a == r) ++closedRefundedVoid;
        else if (m.b == v && m.a == u) ++closedUnlockedVoid;
        else ++closedMixed;
        return true;
    }

    /// Exactly one SwapClosed(id, legA, legB) with the model's legs when the model closed, none otherwise.
    function _checkClosedLogs(Vm.Log[] memory logs, bytes32 id, bool closes, Model storage m) internal {
        uint256 n;
        for (uint256 i; i < logs.length; ++i) {
            if (
                logs[i].emitter != address(tm) || logs[i].topics[0] != ITransactionManager.SwapClosed.selector
            ) {
                continue;
            }
            ++n;
            if (logs[i].topics[1] != id || keccak256(logs[i].data) != keccak256(abi.encode(m.a, m.b))) {
                _mismatch("SwapClosed: wrong swap or legs");
            }
        }
        if (n != (closes ? 1 : 0)) _mismatch("SwapClosed: emitted when the model did not close, or missing");
    }

    function _caller(uint8 leg, uint256 actorSeed) internal view returns (address, bool) {
        uint256 pick = actorSeed % 20;
        address right = leg == 0 ? cfg.relayerA : cfg.relayerB;
        if (pick < 16) return (right, true);
        if (pick < 18) return (leg == 0 ? cfg.relayerB : cfg.relayerA, false);
        if (pick == 18) return (cfg.relayerA2, false); // institution 1's relayer that serves nothing
        return (cfg.stranger, false);
    }

    /// Compares every swap with the model and with what was seen before: states and legs only move
    /// forward. Also keeps the ghost history of legs ever seen locked.
    function _observe() internal {
        for (uint256 i; i < ids.length; ++i) {
            bytes32 id = ids[i];
            ITransactionManager.Swap memory s = tm.swap(id);
            ITransactionManager.Swap storage prev = _seen[id];
            if (
                !_legForward(prev.legA, s.legA) || !_legForward(prev.legB, s.legB)
                    || !_stateForward(prev.state, s.state)
            ) {
                ++regressions;
            }
            Model storage m = _model[id];
            if (s.state != m.state || s.legA != m.a || s.legB != m.b || s.secret != m.secret) {
                _mismatch("stored swap differs from the model");
            }
            if (_wasLocked(s.legA)) everLocked[id][0] = true;
            if (_wasLocked(s.legB)) everLocked[id][1] = true;
            _seen[id] = s;
        }
    }

    /// Locked, or a state reachable only through Locked.
    function _wasLocked(ITransactionManager.LegState l) internal pure returns (bool) {
        return l == ITransactionManager.LegState.Locked || l == ITransactionManager.LegState.Unlocked
            || l == ITransactionManager.LegState.Refunded;
    }

    function _legForward(ITransactionManager.LegState from, ITransactionManager.LegState to)
        internal
        pure
        returns (bool)
    {
        if (from == to) return true;
        if (from == ITransactionManager.LegState.None) {
            return to == ITransactionManager.LegState.Locked || to == ITransactionManager.LegState.Void;
        }
        if (from == ITransactionManager.LegState.Locked) {
            return to == ITransactionManager.LegState.Unlocked || to == ITransactionManager.LegState.Refunded;
        }
        return false; // ended legs never change
    }

    function _stateForward(ITransactionManager.SwapState from, ITransactionManager.SwapState to)
        internal
        pure
        returns (bool)
    {
        if (from == to) return true;
        if (from == ITransactionManager.SwapState.None) return to == ITransactionManager.SwapState.Proposed;
        if (from == ITransactionManager.SwapState.Proposed) {
            return to == ITransactionManager.SwapState.Accepted || to == ITransactionManager.SwapState.Expired;
        }
        if (from == ITransactionManager.SwapState.Accepted) {
            return to == ITransactionManager.SwapState.Closed;
        }
        return false; // Closed and Expired are final
    }

    /// Success must match the model; a rejection must carry exactly the model's error.
    function _outcome(string memory action, bool ok, bytes memory ret, bytes memory err) internal {
        bool expected = err.length == 0;
        if (ok != expected) {
            _mismatch(string.concat(action, ok ? ": succeeded unexpectedly" : ": failed unexpectedly"));
        } else if (!ok && keccak256(ret) != keccak256(err)) {
            _mismatch(string.concat(action, ": rejected with another error than the model's"));
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

    function _sign(uint256 pk, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return abi.encodePacked(r, s, v);
    }

    // ---------------------------------------------------------------- views for the invariants

    function idCount() external view returns (uint256) {
        return ids.length;
    }

    function modelOf(bytes32 id) external view returns (Model memory) {
        return _model[id];
    }

    function isModelOpen(bytes32 id) public view returns (bool) {
        ITransactionManager.SwapState s = _model[id].state;
        return s == ITransactionManager.SwapState.Proposed || s == ITransactionManager.SwapState.Accepted;
    }

    function actions() external view returns (string[] memory) {
        return _actions;
    }
}

/// @notice Invariants of the HTLC ledger under random interleavings of proposals (some with a
/// counterparty that is no user), acceptances, leg records of all four kinds (by serving and non-serving
/// callers, with right and wrong secrets, bad leg indexes and oversized evidence), expiries and time.
contract TransactionManagerHtlcInvariantTest is HtlcFixture {
    HtlcHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new HtlcHandler(
            tm,
            HtlcHandler.Config({
                zoneA: ZONE_A,
                chainA: CHAIN_A,
                zoneB: ZONE_B,
                chainB: CHAIN_B,
                relayerA: RELAYER_1,
                relayerB: RELAYER_2,
                relayerA2: RELAYER_1B,
                adminB: ADMIN_2,
                stranger: STRANGER,
                pkInit: PK_INIT,
                pkCp: PK_CP,
                instInit: INST_1
            })
        );
        targetContract(address(handler));
    }

    function _swapAt(uint256 i) internal view returns (ITransactionManager.Swap memory) {
        return tm.swap(handler.ids(i));
    }

    /// A leg never goes back (None -> Locked | Void, Locked -> Unlocked | Refunded) and a swap's state
    /// only moves forward (None -> Proposed -> Accepted | Expired, Accepted -> Closed).
    function invariant_legsAndStatesNeverGoBack() public view {
        assertEq(handler.regressions(), 0, "a leg or a swap state went backwards");
    }

    /// Every call succeeded exactly when the model said it should (and failed with the model's error),
    /// SwapClosed / SwapExpired were emitted exactly when the model closed / expired, and storage equals
    /// the model.
    function invariant_contractFollowsTheModel() public view {
        assertEq(handler.mismatches(), 0, handler.firstMismatch());
    }

    /// Leg B is locked (or past it) only if leg A was: A never locked (None or Void) means B is None or Void.
    function invariant_legBNeverAheadOfLegA() public view {
        uint256 n = handler.idCount();
        for (uint256 i; i < n; ++i) {
            ITransactionManager.Swap memory s = _swapAt(i);
            if (s.legA == ITransactionManager.LegState.None || s.legA == ITransactionManager.LegState.Void) {
                assertTrue(
                    s.legB == ITransactionManager.LegState.None
                        || s.legB == ITransactionManager.LegState.Void,
                    "leg B locked while A never was"
                );
            }
        }
    }

    /// A Closed swap has both legs ended (Unlocked, Refunded or Void). This is the former
    /// invariant_closedOnlyWhenSettled under the new rule: "A refunded + B None" no longer closes.
    function invariant_closedSwapHasBothLegsEnded() public view {
        uint256 n = handler.idCount();
        for (uint256 i; i < n; ++i) {
            ITransactionManager.Swap memory s = _swapAt(i);
            if (s.state != ITransactionManager.SwapState.Closed) continue;
            assertTrue(_ended(s.legA) && _ended(s.legB), "closed with a leg that has not ended");
        }
    }

    /// The converse: a swap whose legs both ended is Closed (never left Accepted and listed).
    function invariant_bothLegsEndedMeansClosed() public view {
        uint256 n = handler.idCount();
        for (uint256 i; i < n; ++i) {
            ITransactionManager.Swap memory s = _swapAt(i);
            if (_ended(s.legA) && _ended(s.legB)) {
                assertEq(
                    uint256(s.state), uint256(ITransactionManager.SwapState.Closed), "ended but not closed"
                );
            }
        }
    }

    /// An Expired swap (like a Proposed one) has both legs None: nothing is recorded outside Accepted.
    function invariant_expiredSwapHasNoLegs() public view {
        uint256 n = handler.idCount();
        for (uint256 i; i < n; ++i) {
            ITransactionManager.Swap memory s = _swapAt(i);
            if (
                s.state == ITransactionManager.SwapState.Expired
                    || s.state == ITransactionManager.SwapState.Proposed
            ) {
                assertEq(uint256(s.legA), uint256(ITransactionManager.LegState.None), "leg A recorded");
                assertEq(uint256(s.legB), uint256(ITransactionManager.LegState.None), "leg B recorded");
                assertEq(s.secret, bytes32(0), "secret without an unlock");
            }
        }
    }

    /// A Void leg was never Locked in the ghost history (built from every state observed after each call).
    function invariant_voidLegWasNeverLocked() public view {
        uint256 n = handler.idCount();
        for (uint256 i; i < n; ++i) {
            bytes32 id = handler.ids(i);
            ITransactionManager.Swap memory s = tm.swap(id);
            if (s.legA == ITransactionManager.LegState.Void) {
                assertFalse(handler.everLocked(id, 0), "A void after lock");
            }
            if (s.legB == ITransactionManager.LegState.Void) {
                assertFalse(handler.everLocked(id, 1), "B void after lock");
            }
        }
    }

    function invariant_secretIsZeroOrOpensHashlock() public view {
        uint256 n = handler.idCount();
        for (uint256 i; i < n; ++i) {
            ITransactionManager.Swap memory s = _swapAt(i);
            if (s.secret != bytes32(0)) {
                assertEq(sha256(abi.encodePacked(s.secret)), s.hashlock, "stored secret is no preimage");
            } else {
                assertTrue(
                    s.legA != ITransactionManager.LegState.Unlocked
                        && s.legB != ITransactionManager.LegState.Unlocked,
                    "unlocked without a published secret"
                );
            }
        }
    }

    function invariant_openListsMatchGhost() public view {
        uint256 ghost = handler.ghostOpen();
        assertEq(tm.openSwapCount(KEY_A), ghost, "open count on A");
        assertEq(tm.openSwapCount(KEY_B), ghost, "open count on B");
        bytes32[] memory listed = tm.openSwaps(KEY_A, 0, 100);
        for (uint256 i; i < listed.length; ++i) {
            assertTrue(handler.isModelOpen(listed[i]), "listed swap is not open");
            for (uint256 j = i + 1; j < listed.length; ++j) {
                assertTrue(listed[i] != listed[j], "listed twice");
            }
        }
        uint256 n = handler.idCount();
        for (uint256 i; i < n; ++i) {
            bytes32 id = handler.ids(i);
            assertEq(_isOpenOn(KEY_A, id), handler.isModelOpen(id), "membership on A");
            assertEq(_isOpenOn(KEY_B, id), handler.isModelOpen(id), "membership on B");
        }
    }

    /// A long deterministic interleaving (far deeper than one invariant run) through the same handler:
    /// every outcome the model distinguishes is reached, the model held throughout, and the invariants
    /// hold at the end. Guards the handler itself against silently losing coverage.
    function test_handlerReachesEveryOutcome() public {
        for (uint256 i; i < 700; ++i) {
            uint256 r = uint256(keccak256(abi.encode("htlc-coverage", i)));
            uint256 a = uint256(keccak256(abi.encode(r, 1)));
            uint256 b = uint256(keccak256(abi.encode(r, 2)));
            uint256 pick = r % 12;
            if (pick == 0) handler.propose(a, b, r >> 8, r >> 16);
            else if (pick == 1) handler.accept(a, b);
            else if (pick == 2) handler.lock(a, b, r >> 8);
            else if (pick == 3) handler.unlock(a, b, r >> 8);
            else if (pick == 4) handler.refund(a, b, r >> 8);
            else if (pick == 5) handler.voidLeg(a, b, r >> 8);
            else if (pick == 6) handler.expire(a);
            else if (pick == 7) handler.warp(a);
            else handler.advance(a, b);
        }
        assertEq(handler.mismatches(), 0, handler.firstMismatch());
        assertEq(handler.regressions(), 0, "regressions");
        assertGt(handler.proposalsRejectedCounterparty(), 0, "counterparty no user");
        assertGt(handler.squatsRefused(), 0, "another user's id squatted");
        assertGt(handler.closedBothUnlocked(), 0, "closed: both unlocked");
        assertGt(handler.closedBothRefunded(), 0, "closed: both refunded");
        assertGt(handler.closedMixed(), 0, "closed: unlocked + refunded");
        assertGt(handler.closedBothVoid(), 0, "closed: both void");
        assertGt(handler.closedRefundedVoid(), 0, "closed: refunded + void");
        assertGt(handler.closedUnlockedVoid(), 0, "closed: unlocked + void");
        assertGt(handler.expiredProposed(), 0, "expired");
        assertGt(handler.expireRejectedAccepted(), 0, "expiry of an accepted swap refused");
        assertGt(handler.voidBWhileANone(), 0, "B void while A none");
        assertGt(handler.lockAAfterBVoid(), 0, "A locked after B void");
        assertGt(handler.recordsRejectedAfterEnd(), 0, "records on ended swaps");
        string[] memory names = handler.actions();
        for (uint256 i; i < names.length; ++i) {
            assertGt(handler.successes(names[i]), 0, names[i]);
            bool alwaysCounted = keccak256(bytes(names[i])) == keccak256("advance")
                || keccak256(bytes(names[i])) == keccak256("warp");
            if (!alwaysCounted) assertGt(handler.calls(names[i]), handler.successes(names[i]), names[i]);
        }
        invariant_legsAndStatesNeverGoBack();
        invariant_contractFollowsTheModel();
        invariant_legBNeverAheadOfLegA();
        invariant_closedSwapHasBothLegsEnded();
        invariant_bothLegsEndedMeansClosed();
        invariant_expiredSwapHasNoLegs();
        invariant_voidLegWasNeverLocked();
        invariant_secretIsZeroOrOpensHashlock();
        invariant_openListsMatchGhost();
        _logStats();
    }

    function afterInvariant() external view {
        _logStats();
    }

    function _logStats() internal view {
        string[] memory names = handler.actions();
        for (uint256 i; i < names.length; ++i) {
            HtlcStatsLog.log(string.concat(names[i], " calls"), handler.calls(names[i]));
            HtlcStatsLog.log(string.concat(names[i], " successes"), handler.successes(names[i]));
        }
        HtlcStatsLog.log("swaps", handler.idCount());
        HtlcStatsLog.log("proposals rejected: counterparty no user", handler.proposalsRejectedCounterparty());
        HtlcStatsLog.log("closed: both unlocked", handler.closedBothUnlocked());
        HtlcStatsLog.log("closed: both refunded", handler.closedBothRefunded());
        HtlcStatsLog.log("closed: one unlocked, one refunded", handler.closedMixed());
        HtlcStatsLog.log("closed: both void", handler.closedBothVoid());
        HtlcStatsLog.log("closed: A refunded, B void", handler.closedRefundedVoid());
        HtlcStatsLog.log("closed: A unlocked, B void", handler.closedUnlockedVoid());
        HtlcStatsLog.log("expired while proposed", handler.expiredProposed());
        HtlcStatsLog.log("expiry refused while accepted", handler.expireRejectedAccepted());
        HtlcStatsLog.log("B voided while A none", handler.voidBWhileANone());
        HtlcStatsLog.log("A locked after B void", handler.lockAAfterBVoid());
        HtlcStatsLog.log("records tried on ended swaps (all refused)", handler.recordsRejectedAfterEnd());
        HtlcStatsLog.log("open at end", handler.ghostOpen());
    }
}
