// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Vm} from "./utils/Vm.sol";
import {TransactionManager2pcBase} from "./TransactionManager2pcBase.sol";
import {IChainRegistry} from "../src/interfaces/IChainRegistry.sol";
import {ITransactionManager} from "../src/interfaces/ITransactionManager.sol";

/// @notice Drives the 2PC half of a TransactionManager with random but mostly well-formed traffic: users
/// begin transactions of 1-4 steps over two chains, serving relayers (and sometimes wrong ones) vote and
/// acknowledge, anyone expires, time passes. It keeps ghost state the invariants compare against.
contract TwoPhaseCommitHandler {
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    ITransactionManager internal immutable tm;
    IChainRegistry internal immutable chains;

    bytes32 internal constant ZONE_A = "zoneA";
    bytes32 internal constant CHAIN_A = "chainA";
    bytes32 internal constant ZONE_B = "zoneB";
    bytes32 internal constant CHAIN_B = "chainB";
    bytes32 internal constant RES = "xa-ledger";

    bytes32 public immutable keyA;
    bytes32 public immutable keyB;

    struct Actor {
        uint256 pk;
        address user;
        address relayer; // a relayer of the user's institution
    }

    Actor[2] internal _actors;
    address internal immutable _relayerA;
    address internal immutable _relayerB;
    /// accounts that serve neither chain
    address[3] internal _strangers;

    // ---------------------------------------------------------------- ghost state

    bytes32[] public txIds;
    mapping(bytes32 txId => uint8) public ghostStepCount;
    mapping(bytes32 txId => mapping(uint256 step => bytes32)) public ghostStepKey;
    mapping(bytes32 txId => bool) public ghostTouchesA;
    mapping(bytes32 txId => bool) public ghostTouchesB;
    mapping(bytes32 txId => uint256) public ghostNonce;
    mapping(bytes32 txId => address) public ghostInitiator;
    mapping(bytes32 txId => bool) public ghostExpired;
    /// observed Committing or Committed / Aborting or Aborted at some point
    mapping(bytes32 txId => bool) public seenCommitSide;
    mapping(bytes32 txId => bool) public seenAbortSide;
    mapping(bytes32 txId => ITransactionManager.TxState) public lastSeen;

    bool public illegalTransition;
    bool public wrongActorAccepted;
    bool public rightActorRejected;
    /// a `chaos` call whose success differed from what the protocol allows
    bool public modelMismatch;

    uint256 public begun;
    uint256 public votesYes;
    uint256 public votesNo;
    uint256 public expiries;
    uint256 public acks;
    uint256 public committed;
    uint256 public aborted;
    uint256 public wrongAttempts;
    uint256 public warps;
    uint256 public chaosCalls;
    uint256 public chaosAccepted;

    uint256 internal _nextNonce;
    uint256 internal constant MAX_IN_FLIGHT = 3;

    constructor(
        ITransactionManager tm_,
        IChainRegistry chains_,
        uint256[2] memory userPks,
        address[2] memory userRelayers,
        address relayerA,
        address relayerB,
        address[3] memory strangers
    ) {
        tm = tm_;
        chains = chains_;
        for (uint256 i; i < 2; ++i) {
            _actors[i] = Actor({pk: userPks[i], user: vm.addr(userPks[i]), relayer: userRelayers[i]});
        }
        _relayerA = relayerA;
        _relayerB = relayerB;
        _strangers = strangers;
        keyA = keccak256(abi.encode(ZONE_A, CHAIN_A));
        keyB = keccak256(abi.encode(ZONE_B, CHAIN_B));
    }

    function txCount() external view returns (uint256) {
        return txIds.length;
    }

    // ================================================================ actions

    /// @notice A user signs a transaction of 1-4 steps over the two chains under its own id
    /// (keccak256(initiator, nonce)); its institution's relayer submits it. One time in ten a relayer of
    /// the other institution tries first, and one time in ten the other user tries to squat the id with a
    /// request of its own: both must fail.
    function begin(uint256 seed, uint256 stepsRaw, uint256 deadlineRaw, uint256 actorRaw) external {
        // Keep the work focused: few transactions in flight, so votes and acks finish them.
        if (_unfinishedCount() >= MAX_IN_FLIGHT) return;
        Actor memory a = _actors[actorRaw % 2];
        uint256 count = 1 + stepsRaw % 4;
        uint256 nonce = _nextNonce++;
        bytes32 txId = keccak256(abi.encode(a.user, nonce));
        ITransactionManager.Step[] memory steps = new ITransactionManager.Step[](count);
        for (uint256 i; i < count; ++i) {
            uint256 h = uint256(keccak256(abi.encode(seed, i)));
            bool onA = h % 2 == 0;
            steps[i] = ITransactionManager.Step({
                zone: onA ? ZONE_A : ZONE_B,
                chain: onA ? CHAIN_A : CHAIN_B,
                resource: RES,
                op: abi.encode(uint8(onA ? 1 : 2), address(uint160(h >> 96)), (h >> 16) % 1e21 + 1)
            });
        }
        uint64 deadline = uint64(block.timestamp + 1 + deadlineRaw % 4 hours);
        ITransactionManager.TxRequest memory r =
            ITransactionManager.TxRequest({txId: txId, steps: steps, deadline: deadline, nonce: nonce});
        bytes memory signature = _sign(a.pk, r);

        if (seed % 10 == 1) {
            // The other user signs the same id with a nonce of its own, through its own relayer.
            Actor memory squatter = _actors[1 - actorRaw % 2];
            ITransactionManager.TxRequest memory squat = ITransactionManager.TxRequest({
                txId: txId, steps: steps, deadline: deadline, nonce: _nextNonce++
            });
            ++wrongAttempts;
            vm.prank(squatter.relayer);
            try tm.begin(squat, _sign(squatter.pk, squat)) {
                wrongActorAccepted = true;
            } catch {}
        }

        if (seed % 10 == 0) {
            ++wrongAttempts;
            vm.prank(_actors[1 - actorRaw % 2].relayer);
            try tm.begin(r, signature) {
                wrongActorAccepted = true;
            } catch {}
        }
        vm.prank(a.relayer);
        try tm.begin(r, signature) {
            ++begun;
            txIds.push(txId);
            ghostStepCount[txId] = uint8(count);
            ghostNonce[txId] = r.nonce;
            ghostInitiator[txId] = a.user;
            for (uint256 i; i < count; ++i) {
                bytes32 key = steps[i].zone == ZONE_A ? keyA : keyB;
                ghostStepKey[txId][i] = key;
                if (key == keyA) ghostTouchesA[txId] = true;
                else ghostTouchesB[txId] = true;
            }
        } catch {
            rightActorRejected = true;
        }
        _observeAll();
    }

    /// @notice The serving relayer of a not-yet-voted step of a preparing transaction votes: yes four times
    /// in five. One time in eight a relayer that does not serve the step's chain tries first.
    function vote(uint256 txSel, uint256 stepSel, uint256 okSel, uint256 wrongSel) public {
        (bool found, bytes32 txId) = _pick(txSel, true);
        if (!found) return _ackOnce(txSel, stepSel, wrongSel); // nothing to vote on: make progress
        _voteOnce(txId, stepSel, okSel, wrongSel);
    }

    function _voteOnce(bytes32 txId, uint256 stepSel, uint256 okSel, uint256 wrongSel) internal {
        ITransactionManager.Transaction memory t = tm.transaction(txId);
        (bool any, uint8 step) = _freeStep(t.votedMask, t.stepCount, stepSel);
        if (!any) return;
        bool ok = okSel % 5 != 0;
        bytes32 key = ghostStepKey[txId][step];
        if (wrongSel % 8 == 0) {
            ++wrongAttempts;
            vm.prank(_wrongRelayer(key, wrongSel));
            try tm.vote(txId, step, ok, "wrong") {
                wrongActorAccepted = true;
            } catch {}
        }
        bool late = block.timestamp >= t.deadline;
        vm.prank(_servingRelayer(key));
        try tm.vote(txId, step, ok, "prepared") {
            if (late) illegalTransition = true; // a vote at or after the deadline must fail
            if (ok) ++votesYes;
            else ++votesNo;
        } catch {
            if (!late) rightActorRejected = true;
        }
        _observeAll();
    }

    /// @notice Anyone expires a preparing transaction: a due one when there is one (a keeper), else a
    /// random one, which must fail before its deadline.
    function expire(uint256 txSel, address caller) external {
        (bool found, bytes32 txId) = _pickDue(txSel);
        if (!found) (found, txId) = _pick(txSel, true);
        if (!found) return;
        bool due = block.timestamp >= tm.transaction(txId).deadline;
        vm.prank(caller);
        try tm.expire(txId) {
            if (!due) illegalTransition = true;
            ghostExpired[txId] = true;
            ++expiries;
        } catch {
            if (due) rightActorRejected = true;
        }
        _observeAll();
    }

    /// @notice The serving relayer of a not-yet-acknowledged step of a decided transaction acknowledges it.
    function ack(uint256 txSel, uint256 stepSel, uint256 wrongSel) external {
        (bool found,) = _pick(txSel, false);
        if (!found) return vote(txSel, stepSel, wrongSel, wrongSel); // nothing decided yet: vote instead
        _ackOnce(txSel, stepSel, wrongSel);
    }

    function _ackOnce(uint256 txSel, uint256 stepSel, uint256 wrongSel) internal {
        (bool found, bytes32 txId) = _pick(txSel, false);
        if (!found) return;
        ITransactionManager.Transaction memory t = tm.transaction(txId);
        (bool any, uint8 step) = _freeStep(t.ackedMask, t.stepCount, stepSel);
        if (!any) return;
        bytes32 key = ghostStepKey[txId][step];
        if (wrongSel % 8 == 0) {
            ++wrongAttempts;
            vm.prank(_wrongRelayer(key, wrongSel));
            try tm.ack(txId, step, "wrong") {
                wrongActorAccepted = true;
            } catch {}
        }
        vm.prank(_servingRelayer(key));
        try tm.ack(txId, step, "settled") {
            ++acks;
            ITransactionManager.TxState s = tm.transaction(txId).state;
            if (s == ITransactionManager.TxState.Committed) ++committed;
            if (s == ITransactionManager.TxState.Aborted) ++aborted;
        } catch {
            rightActorRejected = true;
        }
        _observeAll();
    }

    /// @notice The right relayer (or anyone, for expire) calls vote / expire / ack on ANY known
    /// transaction and step, whatever its state: the call must succeed exactly when the protocol allows it
    /// (vote: preparing, before the deadline, step not voted; expire: preparing, deadline reached; ack:
    /// decided, step not acknowledged).
    function chaos(uint256 txSel, uint256 stepSel, uint256 kind) external {
        uint256 n = txIds.length;
        if (n == 0) return;
        bytes32 txId = txIds[txSel % n];
        ITransactionManager.Transaction memory t = tm.transaction(txId);
        uint8 step = uint8(stepSel % t.stepCount);
        uint16 bit = uint16(1) << step;
        address relayer = _servingRelayer(ghostStepKey[txId][step]);
        bool preparing = t.state == ITransactionManager.TxState.Preparing;
        bool decided = t.state == ITransactionManager.TxState.Committing
            || t.state == ITransactionManager.TxState.Aborting;
        bool allowed;
        bool succeeded;
        ++chaosCalls;
        if (kind % 3 == 0) {
            allowed = preparing && block.timestamp < t.deadline && t.votedMask & bit == 0;
            bool ok = (kind / 3) % 4 != 0;
            vm.prank(relayer);
            try tm.vote(txId, step, ok, "chaos") {
                succeeded = true;
                if (ok) ++votesYes;
                else ++votesNo;
            } catch {}
        } else if (kind % 3 == 1) {
            allowed = preparing && block.timestamp >= t.deadline;
            try tm.expire(txId) {
                succeeded = true;
                ghostExpired[txId] = true;
                ++expiries;
            } catch {}
        } else {
            allowed = decided && t.ackedMask & bit == 0;
            vm.prank(relayer);
            try tm.ack(txId, step, "chaos") {
                succeeded = true;
                ++acks;
                ITransactionManager.TxState s = tm.transaction(txId).state;
                if (s == ITransactionManager.TxState.Committed) ++committed;
                if (s == ITransactionManager.TxState.Aborted) ++aborted;
            } catch {}
        }
        if (succeeded) ++chaosAccepted;
        if (succeeded != allowed) modelMismatch = true;
        _observeAll();
    }

    /// @notice Time passes: up to half an hour, or (one time in four) exactly to the next deadline of a
    /// preparing transaction, so the deadline second itself is exercised.
    function warp(uint256 secondsRaw) external {
        ++warps;
        uint256 target = block.timestamp + secondsRaw % 30 minutes;
        if (secondsRaw % 4 == 0) {
            uint256 next = type(uint256).max;
            for (uint256 i; i < txIds.length; ++i) {
                ITransactionManager.Transaction memory t = tm.transaction(txIds[i]);
                if (
                    t.state == ITransactionManager.TxState.Preparing && t.deadline > block.timestamp
                        && t.deadline < next
                ) {
                    next = t.deadline;
                }
            }
            if (next != type(uint256).max) target = next;
        }
        vm.warp(target);
        _observeAll();
    }

    // ================================================================ ghost observation

    /// @notice Records what every known transaction looks like now, flagging any illegal state change.
    function observe() public {
        _observeAll();
    }

    function _observeAll() internal {
        for (uint256 i; i < txIds.length; ++i) {
            bytes32 id = txIds[i];
            ITransactionManager.TxState now_ = tm.transaction(id).state;
            ITransactionManager.TxState before = lastSeen[id];
            if (now_ != before && !_legal(before, now_)) illegalTransition = true;
            lastSeen[id] = now_;
            if (
                now_ == ITransactionManager.TxState.Committing
                    || now_ == ITransactionManager.TxState.Committed
            ) {
                seenCommitSide[id] = true;
            }
            if (now_ == ITransactionManager.TxState.Aborting || now_ == ITransactionManager.TxState.Aborted) {
                seenAbortSide[id] = true;
            }
        }
    }

    function _legal(ITransactionManager.TxState from, ITransactionManager.TxState to)
        internal
        pure
        returns (bool)
    {
        if (from == ITransactionManager.TxState.None) return to == ITransactionManager.TxState.Preparing;
        if (from == ITransactionManager.TxState.Preparing) {
            // decided and fully acknowledged between two observations is impossible: one ack per call
            return to == ITransactionManager.TxState.Committing || to == ITransactionManager.TxState.Aborting;
        }
        if (from == ITransactionManager.TxState.Committing) {
            return to == ITransactionManager.TxState.Committed;
        }
        if (from == ITransactionManager.TxState.Aborting) return to == ITransactionManager.TxState.Aborted;
        return false; // final states never change
    }

    // ================================================================ helpers

    /// @notice A known transaction that is preparing (`preparing`) or decided and not final, scanning
    /// from a random start; false when there is none.
    function _pick(uint256 sel, bool preparing) internal view returns (bool, bytes32) {
        uint256 n = txIds.length;
        if (n == 0) return (false, bytes32(0));
        uint256 start = sel % n;
        for (uint256 k; k < n; ++k) {
            bytes32 id = txIds[(start + k) % n];
            ITransactionManager.TxState s = tm.transaction(id).state;
            if (preparing && s == ITransactionManager.TxState.Preparing) return (true, id);
            if (
                !preparing
                    && (s == ITransactionManager.TxState.Committing
                        || s == ITransactionManager.TxState.Aborting)
            ) return (true, id);
        }
        return (false, bytes32(0));
    }

    function _pickDue(uint256 sel) internal view returns (bool, bytes32) {
        uint256 n = txIds.length;
        if (n == 0) return (false, bytes32(0));
        uint256 start = sel % n;
        for (uint256 k; k < n; ++k) {
            bytes32 id = txIds[(start + k) % n];
            ITransactionManager.Transaction memory t = tm.transaction(id);
            if (t.state == ITransactionManager.TxState.Preparing && block.timestamp >= t.deadline) {
                return (true, id);
            }
        }
        return (false, bytes32(0));
    }

    function _unfinishedCount() internal view returns (uint256 n) {
        for (uint256 i; i < txIds.length; ++i) {
            ITransactionManager.TxState s = tm.transaction(txIds[i]).state;
            if (s != ITransactionManager.TxState.Committed && s != ITransactionManager.TxState.Aborted) ++n;
        }
    }

    function _freeStep(uint16 mask, uint8 count, uint256 sel) internal pure returns (bool, uint8) {
        for (uint256 k; k < count; ++k) {
            uint8 step = uint8((sel % count + k) % count);
            if (mask & (uint16(1) << step) == 0) return (true, step);
        }
        return (false, 0);
    }

    function _servingRelayer(bytes32 key) internal view returns (address) {
        return key == keyA ? _relayerA : _relayerB;
    }

    function _wrongRelayer(bytes32 key, uint256 sel) internal view returns (address) {
        // the other chain's relayer, or an account serving nothing
        uint256 i = (sel / 8) % 4;
        if (i == 3) return key == keyA ? _relayerB : _relayerA;
        return _strangers[i];
    }

    function _sign(uint256 pk, ITransactionManager.TxRequest memory r) internal view returns (bytes memory) {
        (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(pk, tm.txRequestDigest(r));
        return abi.encodePacked(rr, ss, v);
    }
}

/// @notice Invariants of the 2PC coordinator under the handler's traffic.
contract TransactionManager2pcInvariantTest is TransactionManager2pcBase {
    TwoPhaseCommitHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new TwoPhaseCommitHandler(
            tm,
            chains,
            [USER_1_PK, USER_2_PK],
            [RELAYER_1, RELAYER_2],
            RELAYER_1,
            RELAYER_2,
            [RELAYER_1B, RELAYER_3, OUTSIDER]
        );
        bytes4[] memory selectors = new bytes4[](6);
        selectors[0] = TwoPhaseCommitHandler.begin.selector;
        selectors[1] = TwoPhaseCommitHandler.vote.selector;
        selectors[2] = TwoPhaseCommitHandler.expire.selector;
        selectors[3] = TwoPhaseCommitHandler.ack.selector;
        selectors[4] = TwoPhaseCommitHandler.warp.selector;
        selectors[5] = TwoPhaseCommitHandler.chaos.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    // ================================================================ invariants

    function invariant_neverBothCommittedAndAborted() public {
        handler.observe();
        uint256 n = handler.txCount();
        for (uint256 i; i < n; ++i) {
            bytes32 id = handler.txIds(i);
            assertFalse(handler.seenCommitSide(id) && handler.seenAbortSide(id), "committed and aborted");
        }
        assertFalse(handler.illegalTransition(), "illegal state transition");
    }

    function invariant_commitOnlyWithEveryStepVotingYes() public view {
        uint256 n = handler.txCount();
        for (uint256 i; i < n; ++i) {
            ITransactionManager.Transaction memory t = tm.transaction(handler.txIds(i));
            uint16 all = _all(t.stepCount);
            if (
                t.state == ITransactionManager.TxState.Committing
                    || t.state == ITransactionManager.TxState.Committed
            ) {
                assertEq(t.yesMask, all, "commit without every yes");
                assertEq(t.votedMask, all, "commit without every vote");
            }
        }
    }

    function invariant_finalOnlyWhenEveryStepAcked() public view {
        uint256 n = handler.txCount();
        for (uint256 i; i < n; ++i) {
            ITransactionManager.Transaction memory t = tm.transaction(handler.txIds(i));
            bool isFinal = t.state == ITransactionManager.TxState.Committed
                || t.state == ITransactionManager.TxState.Aborted;
            assertEq(isFinal, t.ackedMask == _all(t.stepCount), "final iff every step acked");
        }
    }

    function invariant_masksAreConsistent() public view {
        uint256 n = handler.txCount();
        for (uint256 i; i < n; ++i) {
            bytes32 id = handler.txIds(i);
            ITransactionManager.Transaction memory t = tm.transaction(id);
            uint16 all = _all(t.stepCount);
            assertEq(t.stepCount, handler.ghostStepCount(id), "step count");
            assertTrue(t.yesMask & ~t.votedMask == 0, "yes outside voted");
            assertTrue(t.votedMask & ~all == 0 && t.ackedMask & ~all == 0, "bits past the last step");
            if (t.state == ITransactionManager.TxState.Preparing) {
                assertEq(t.ackedMask, 0, "ack while preparing");
                assertEq(t.yesMask, t.votedMask, "a no vote left it preparing");
                assertTrue(t.yesMask != all, "every yes left it preparing");
            }
            if (
                t.state == ITransactionManager.TxState.Aborting
                    || t.state == ITransactionManager.TxState.Aborted
            ) {
                // aborted by a no vote or by expiry, nothing else
                assertTrue(t.votedMask != t.yesMask || handler.ghostExpired(id), "abort without a cause");
            }
            assertEq(t.initiator, handler.ghostInitiator(id), "initiator");
            assertTrue(tm.nonceUsed(t.initiator, handler.ghostNonce(id)), "nonce consumed");
        }
    }

    function invariant_openCountMatchesUnfinishedTransactions() public view {
        (uint256 onA, uint256 onB) = _ghostOpenCounts();
        assertEq(tm.openTransactionCount(handler.keyA()), onA, "open count on A");
        assertEq(tm.openTransactionCount(handler.keyB()), onB, "open count on B");
    }

    function invariant_openListsHoldExactlyTheUnfinished() public view {
        _checkList(handler.keyA(), true);
        _checkList(handler.keyB(), false);
    }

    function invariant_callsSucceedExactlyWhenTheProtocolAllows() public view {
        assertFalse(handler.modelMismatch(), "a call's outcome differs from the protocol");
    }

    function invariant_wrongActorsNeverAccepted() public view {
        assertFalse(handler.wrongActorAccepted(), "a wrong relayer or submitter was accepted");
        assertFalse(handler.rightActorRejected(), "a legitimate call was rejected");
    }

    // ================================================================ helpers

    function _all(uint8 count) internal pure returns (uint16) {
        return uint16((uint256(1) << count) - 1);
    }

    function _unfinished(bytes32 id) internal view returns (bool) {
        ITransactionManager.TxState s = tm.transaction(id).state;
        return s != ITransactionManager.TxState.Committed && s != ITransactionManager.TxState.Aborted;
    }

    function _ghostOpenCounts() internal view returns (uint256 onA, uint256 onB) {
        uint256 n = handler.txCount();
        for (uint256 i; i < n; ++i) {
            bytes32 id = handler.txIds(i);
            if (!_unfinished(id)) continue;
            if (handler.ghostTouchesA(id)) ++onA;
            if (handler.ghostTouchesB(id)) ++onB;
        }
    }

    function _checkList(bytes32 key, bool isA) internal view {
        uint256 count = tm.openTransactionCount(key);
        for (uint256 offset; offset < count; offset += MAX_PAGE) {
            bytes32[] memory page = tm.openTransactions(key, offset, MAX_PAGE);
            for (uint256 i; i < page.length; ++i) {
                bytes32 id = page[i];
                assertTrue(_unfinished(id), "a final transaction is listed");
                assertTrue(
                    isA ? handler.ghostTouchesA(id) : handler.ghostTouchesB(id), "listed on a foreign chain"
                );
                for (uint256 j; j < i; ++j) {
                    assertTrue(page[j] != id, "listed twice");
                }
            }
        }
    }

    /// @notice Prints the handler's counters after each run (forge shows the last run's with -vv).
    function afterInvariant() public view {
        _log("begun", handler.begun());
        _log("committed", handler.committed());
        _log("aborted", handler.aborted());
        _log("expiries", handler.expiries());
        _log("votesNo", handler.votesNo());
    }

    function _log(string memory label, uint256 value) internal view {
        (bool ok,) = address(0x000000000000000000636F6e736F6c652e6c6f67)
            .staticcall(abi.encodeWithSignature("log(string,uint256)", label, value));
        ok;
    }
}

/// @notice Deterministic proof that the handler's traffic reaches every outcome the invariants are about.
contract TransactionManager2pcHandlerTest is TransactionManager2pcBase {
    TwoPhaseCommitHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new TwoPhaseCommitHandler(
            tm,
            chains,
            [USER_1_PK, USER_2_PK],
            [RELAYER_1, RELAYER_2],
            RELAYER_1,
            RELAYER_2,
            [RELAYER_1B, RELAYER_3, OUTSIDER]
        );
    }

    function test_handler_reachesCommitAbortAndExpiry() public {
        // commit: a transaction whose every vote is yes, then acked
        handler.begin(1, 1, 3600, 0);
        for (uint256 i; i < 8; ++i) {
            handler.vote(0, i, 1, 1);
        }
        for (uint256 i; i < 8; ++i) {
            handler.ack(0, i, 1);
        }
        assertEq(handler.committed(), 1, "committed");
        // abort by a no vote
        handler.begin(2, 2, 3600, 1);
        handler.vote(1, 0, 0, 1);
        for (uint256 i; i < 8; ++i) {
            handler.ack(1, i, 1);
        }
        assertEq(handler.aborted(), 1, "aborted by no");
        // expiry
        handler.begin(3, 3, 60, 0);
        handler.warp(3599);
        handler.expire(2, address(0xE));
        assertEq(handler.expiries(), 1, "expired");
        for (uint256 i; i < 8; ++i) {
            handler.ack(2, i, 8); // wrong relayers try first, and fail
        }
        assertEq(handler.aborted(), 2, "aborted by expiry");
        assertGt(handler.wrongAttempts(), 0, "wrong actors tried");
        // protocol-violating calls by the right actors on final / decided transactions all fail
        handler.chaos(0, 0, 0); // vote on a committed transaction
        handler.chaos(0, 1, 2); // ack it again
        handler.chaos(1, 0, 1); // expire an aborted one
        handler.chaos(2, 0, 2); // ack an aborted one
        assertEq(handler.chaosCalls(), 4, "chaos calls");
        assertEq(handler.chaosAccepted(), 0, "chaos accepted");
        assertFalse(handler.modelMismatch(), "model mismatch");
        assertFalse(handler.wrongActorAccepted(), "wrong actor accepted");
        assertFalse(handler.illegalTransition(), "illegal transition");
        assertEq(tm.openTransactionCount(handler.keyA()) + tm.openTransactionCount(handler.keyB()), 0);
    }
}
