// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Vm} from "./utils/Vm.sol";
import {TransactionManager2pcBase} from "./TransactionManager2pcBase.sol";
import {IInstitutionRegistry} from "../src/interfaces/IInstitutionRegistry.sol";
import {ITransactionManager} from "../src/interfaces/ITransactionManager.sol";
import {ResourceOps} from "../src/libraries/ResourceOps.sol";
import {TransactionManager} from "../src/governance/TransactionManager.sol";

/// @notice Unit tests of the 2PC half of the TransactionManager: begin, vote, expire, ack, the views, and
/// the commit / abort / expiry flows. Every revert test names the exact custom error and its arguments
/// and proves the call changed nothing.
contract TransactionManager2pcTest is TransactionManager2pcBase {
    bytes32 internal constant UNKNOWN = keccak256("never begun");
    /// USER_1's requests with nonces 1 and 2 (ids bound to signer and nonce).
    bytes32 internal TX;
    bytes32 internal TX2;

    function setUp() public override {
        super.setUp();
        TX = _bind(USER_1, 1);
        TX2 = _bind(USER_1, 2);
    }

    // ================================================================ helpers

    function _prepare(bytes32 txId) internal returns (uint64 deadline) {
        deadline = _beginTransfer(txId).deadline;
    }

    function _committing(bytes32 txId) internal {
        _beginTransfer(txId);
        _voteAll(txId, true);
    }

    function _aborting(bytes32 txId) internal {
        _beginTransfer(txId);
        _vote(txId, 0, false);
    }

    function _bytes(uint256 length) internal pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i; i < length; ++i) {
            out[i] = bytes1(uint8(i * 7 + 1));
        }
    }

    function _signedTransfer(bytes32 txId)
        internal
        returns (ITransactionManager.TxRequest memory r, bytes memory signature)
    {
        r = _transferRequest(txId);
        signature = _sign(USER_1_PK, r);
    }

    function _badSegments() internal pure returns (bytes32[6] memory) {
        return [
            bytes32(0), // empty
            W, // the wildcard is not a concrete segment
            bytes32("a.b"), // separator inside a segment
            bytes32("caf\xc3\xa9"), // non-ASCII
            bytes32(uint256(0x61)), // right-aligned
            bytes32(bytes.concat("ab", bytes1(0), "c")) // a byte after the padding
        ];
    }

    // ================================================================ fixture / wiring

    function test_setUp_fixture() public view {
        assertEq(registry.activeCount(), 3);
        assertTrue(chains.isActiveChain(ZONE_A, CHAIN_A), "chain A");
        assertTrue(chains.isActiveChain(ZONE_B, CHAIN_B), "chain B");
        assertEq(uint256(chains.chainOf(ZONE_A, CHAIN_A).owner), INST_1);
        assertEq(uint256(chains.chainOf(ZONE_B, CHAIN_B).owner), INST_2);
        assertTrue(chains.isServingRelayerByKey(KEY_A, RELAYER_1), "relayer 1 serves A");
        assertTrue(chains.isServingRelayerByKey(KEY_B, RELAYER_2), "relayer 2 serves B");
        assertFalse(chains.isServingRelayerByKey(KEY_A, RELAYER_1B), "relayer 1B serves nothing");
        assertTrue(perms.check(USER_1, ZONE_A, CHAIN_A, RES, TWO_PHASE), "user 1 on A");
        assertTrue(perms.check(USER_1, ZONE_B, CHAIN_B, RES, TWO_PHASE), "user 1 on B");
        assertFalse(perms.check(USER_3, ZONE_A, CHAIN_A, RES, TWO_PHASE), "user 3 on A");
    }

    function test_registry_wiringViewsAndConstants() public view {
        assertEq(tm.registry(), address(registry));
        assertEq(tm.chainRegistry(), address(chains));
        assertEq(tm.permissionManager(), address(perms));
        assertEq(tm.MAX_STEPS(), 16);
        assertEq(tm.MAX_OP_BYTES(), 1024);
        assertEq(tm.MAX_EVIDENCE_BYTES(), 256);
        assertEq(tm.MAX_TX_DURATION(), 7 days);
        assertEq(tm.MAX_PAGE(), MAX_PAGE);
        assertEq(tm.STEP_TYPEHASH(), keccak256("Step(bytes32 zone,bytes32 chain,bytes32 resource,bytes op)"));
        assertEq(
            tm.TX_REQUEST_TYPEHASH(),
            keccak256(
                "TxRequest(bytes32 txId,Step[] steps,uint64 deadline,uint256 nonce)Step(bytes32 zone,bytes32 chain,bytes32 resource,bytes op)"
            )
        );
    }

    // ================================================================ begin

    function test_begin_storesTransactionAndEmits() public {
        (ITransactionManager.TxRequest memory r, bytes memory signature) = _signedTransfer(TX);
        vm.roll(4242);
        vm.expectEmit(address(tm));
        emit ITransactionManager.TransactionBegun(TX, USER_1, INST_1, r.deadline, r.nonce, r.steps);
        vm.prank(RELAYER_1);
        tm.begin(r, signature);

        ITransactionManager.Transaction memory t = tm.transaction(TX);
        assertEq(t.initiator, USER_1, "initiator");
        assertEq(t.deadline, r.deadline, "deadline");
        assertEq(uint256(t.state), uint256(ITransactionManager.TxState.Preparing), "state");
        assertEq(t.stepCount, 2, "stepCount");
        assertEq(t.institution, INST_1, "institution");
        assertEq(t.beganBlock, 4242, "beganBlock");
        _assertMasks(TX, 0, 0, 0);
        assertEq(tm.stepOf(TX, 0).chainKey, KEY_A, "step 0 chain");
        assertEq(tm.stepOf(TX, 0).opHash, keccak256(r.steps[0].op), "step 0 op");
        assertEq(tm.stepOf(TX, 1).chainKey, KEY_B, "step 1 chain");
        assertEq(tm.stepOf(TX, 1).opHash, keccak256(r.steps[1].op), "step 1 op");
        assertTrue(tm.nonceUsed(USER_1, r.nonce), "nonce used");
        assertEq(tm.openTransactionCount(KEY_A), 1);
        assertEq(tm.openTransactionCount(KEY_B), 1);
        assertEq(tm.openTransactions(KEY_A, 0, 10)[0], TX);
        assertEq(tm.openTransactions(KEY_B, 0, 10)[0], TX);
        assertEq(tm.openTransactionCount(KEY_X), 0);
    }

    function test_begin_emitsOneEventWhoseStepsDecodeToTheRequest() public {
        bytes32 id = _txIdOf(USER_2, 77);
        ITransactionManager.TxRequest memory r =
            _request(id, _alternatingSteps(5), uint64(block.timestamp + 99), 77);
        r.steps[3].op = _bytes(1024);
        r.steps[4].resource = "other_resource-9";
        bytes memory signature = _sign(USER_2_PK, r);
        vm.recordLogs();
        vm.prank(RELAYER_2);
        tm.begin(r, signature);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        assertEq(logs.length, 1, "one event");
        Vm.Log memory log = logs[0];
        assertEq(log.emitter, address(tm), "emitter");
        assertEq(log.topics.length, 4, "topics");
        assertEq(log.topics[0], ITransactionManager.TransactionBegun.selector, "signature");
        assertEq(log.topics[1], id, "txId topic");
        assertEq(log.topics[2], bytes32(uint256(uint160(USER_2))), "initiator topic");
        assertEq(log.topics[3], bytes32(uint256(INST_2)), "institution topic");
        (uint64 deadline, uint256 nonce, ITransactionManager.Step[] memory steps) =
            abi.decode(log.data, (uint64, uint256, ITransactionManager.Step[]));
        assertEq(deadline, r.deadline, "deadline");
        assertEq(nonce, 77, "nonce");
        assertEq(steps.length, r.steps.length, "step count");
        for (uint256 i; i < steps.length; ++i) {
            assertEq(steps[i].zone, r.steps[i].zone, "zone");
            assertEq(steps[i].chain, r.steps[i].chain, "chain");
            assertEq(steps[i].resource, r.steps[i].resource, "resource");
            assertEq(steps[i].op, r.steps[i].op, "op");
            // What the relayer decodes is what the contract stored the hash of.
            assertEq(keccak256(steps[i].op), tm.stepOf(id, uint8(i)).opHash, "op hash");
            (uint8 kind, address account, uint256 amount) = i == 3
                ? (uint8(0), address(0), uint256(0))
                : abi.decode(steps[i].op, (uint8, address, uint256));
            if (i != 3) {
                assertEq(kind, i % 2 == 0 ? DEBIT : CREDIT, "op kind");
                assertEq(account, i % 2 == 0 ? USER_1 : USER_2, "op account");
                assertEq(amount, i + 1, "op amount");
            }
        }
    }

    function test_begin_anyRelayerOfTheUsersInstitutionMaySubmit() public {
        // RELAYER_1B serves no chain: submitting needs only the institution's relayer role.
        ITransactionManager.TxRequest memory r = _transferRequest(TX);
        _beginAs(r, USER_1_PK, RELAYER_1B);
        _assertState(TX, ITransactionManager.TxState.Preparing);
        // A user of institution 2 goes through institution 2's relayer.
        bytes32 other = _freshId(USER_2);
        _beginAs(_transferRequest(other), USER_2_PK, RELAYER_2);
        assertEq(tm.transaction(other).institution, INST_2);
        assertEq(tm.transaction(other).initiator, USER_2);
    }

    function test_begin_permissionThroughInstitutionGrant() public {
        vm.prank(ADMIN_1);
        perms.grantToInstitution(INST_3, ZONE_A, CHAIN_A, W, TWO_PHASE);
        vm.prank(ADMIN_2);
        perms.grantToInstitution(INST_3, ZONE_B, CHAIN_B, RES, TWO_PHASE);
        bytes32 id = _freshId(USER_3);
        _beginAs(_transferRequest(id), USER_3_PK, RELAYER_3);
        assertEq(tm.transaction(id).institution, INST_3);
    }

    function test_begin_boundariesAccepted() public {
        // deadline exactly MAX_TX_DURATION ahead, ops of 1 and MAX_OP_BYTES bytes
        ITransactionManager.TxRequest memory r =
            _request(TX, _transferSteps(), uint64(block.timestamp + 7 days), 1);
        r.steps[0].op = hex"01";
        r.steps[1].op = _bytes(1024);
        _beginAs(r, USER_1_PK, RELAYER_1);
        assertEq(tm.transaction(TX).deadline, block.timestamp + 7 days);
        // deadline one second ahead, nonce 0 and the largest nonce
        _beginAs(
            _request(_txIdOf(USER_1, 0), _transferSteps(), uint64(block.timestamp + 1), 0),
            USER_1_PK,
            RELAYER_1
        );
        _beginAs(
            _request(
                _txIdOf(USER_1, type(uint256).max),
                _transferSteps(),
                uint64(block.timestamp + 1),
                type(uint256).max
            ),
            USER_1_PK,
            RELAYER_1
        );
        assertTrue(tm.nonceUsed(USER_1, 0) && tm.nonceUsed(USER_1, type(uint256).max), "nonces");
    }

    function test_begin_sameNonceForAnotherUser() public {
        bytes32 id1 = _txIdOf(USER_1, 7);
        bytes32 id2 = _txIdOf(USER_2, 7);
        _beginAs(_request(id1, _transferSteps(), uint64(block.timestamp + 60), 7), USER_1_PK, RELAYER_1);
        _beginAs(_request(id2, _transferSteps(), uint64(block.timestamp + 60), 7), USER_2_PK, RELAYER_2);
        assertTrue(tm.nonceUsed(USER_1, 7) && tm.nonceUsed(USER_2, 7), "both used");
        // One nonce, two initiators: two ids.
        assertTrue(id1 != id2, "distinct ids");
        assertEq(tm.transaction(id1).initiator, USER_1);
        assertEq(tm.transaction(id2).initiator, USER_2);
    }

    function test_begin_sixteenSteps() public {
        ITransactionManager.TxRequest memory r =
            _request(TX, _alternatingSteps(16), uint64(block.timestamp + 60), 1);
        bytes memory signature = _sign(USER_1_PK, r);
        vm.expectEmit(address(tm));
        emit ITransactionManager.TransactionBegun(TX, USER_1, INST_1, r.deadline, 1, r.steps);
        vm.prank(RELAYER_1);
        tm.begin(r, signature);
        assertEq(tm.transaction(TX).stepCount, 16);
        assertEq(tm.stepOf(TX, 15).chainKey, KEY_B);
        assertEq(tm.stepOf(TX, 15).opHash, keccak256(r.steps[15].op));
        assertEq(tm.openTransactionCount(KEY_A), 1);
        assertEq(tm.openTransactionCount(KEY_B), 1);
    }

    // ---------------------------------------------------------------- begin: request shape

    function test_begin_revertsWhenZeroId() public {
        (ITransactionManager.TxRequest memory r,) = _signedTransfer(bytes32(0));
        _expectBeginRevert(
            r, _sign(USER_1_PK, r), RELAYER_1, USER_1, _err(ITransactionManager.TxZeroId.selector)
        );
    }

    function test_begin_revertsWhenAlreadyExists() public {
        _beginTransfer(TX);
        // Same id, another nonce and another user: still taken.
        (ITransactionManager.TxRequest memory r, bytes memory signature) = _signedTransfer(TX);
        bytes memory err = abi.encodeWithSelector(ITransactionManager.TxAlreadyExists.selector, TX);
        _expectBeginRevert(r, signature, RELAYER_1, USER_1, err);
        _expectBeginRevert(r, _sign(USER_2_PK, r), RELAYER_2, USER_2, err);
        // and still after the transaction is final
        _commit(TX);
        _expectBeginRevert(r, signature, RELAYER_1, USER_1, err);
    }

    function test_begin_revertsWhenNoSteps() public {
        ITransactionManager.TxRequest memory r =
            _request(TX, new ITransactionManager.Step[](0), uint64(block.timestamp + 60), 1);
        _expectBeginRevert(
            r,
            _sign(USER_1_PK, r),
            RELAYER_1,
            USER_1,
            abi.encodeWithSelector(ITransactionManager.TxBadStepCount.selector, 0)
        );
    }

    function test_begin_revertsWhenSeventeenSteps() public {
        ITransactionManager.TxRequest memory r =
            _request(TX, _alternatingSteps(17), uint64(block.timestamp + 60), 1);
        _expectBeginRevert(
            r,
            _sign(USER_1_PK, r),
            RELAYER_1,
            USER_1,
            abi.encodeWithSelector(ITransactionManager.TxBadStepCount.selector, 17)
        );
    }

    function test_begin_revertsWhenDeadlineInThePast() public {
        _expectBadDeadline(uint64(block.timestamp - 1));
        _expectBadDeadline(0);
    }

    function test_begin_revertsWhenDeadlineIsNow() public {
        _expectBadDeadline(uint64(block.timestamp));
    }

    function test_begin_revertsWhenDeadlineTooFar() public {
        _expectBadDeadline(uint64(block.timestamp + 7 days + 1));
        _expectBadDeadline(type(uint64).max);
    }

    function _expectBadDeadline(uint64 deadline) internal {
        ITransactionManager.TxRequest memory r = _request(TX, _transferSteps(), deadline, 1);
        _expectBeginRevert(
            r,
            _sign(USER_1_PK, r),
            RELAYER_1,
            USER_1,
            abi.encodeWithSelector(ITransactionManager.TxBadDeadline.selector, deadline, block.timestamp)
        );
    }

    function test_begin_revertsWhenNonceUsed() public {
        // A nonce a swap used leaves its id free in the 2PC half: the nonce check is what refuses it.
        bytes32 id = _proposeSwap(7);
        ITransactionManager.TxRequest memory r =
            _request(id, _transferSteps(), uint64(block.timestamp + 60), 7);
        bytes memory err = abi.encodeWithSelector(ITransactionManager.TxNonceUsed.selector, USER_1, 7);
        _expectBeginRevert(r, _sign(USER_1_PK, r), RELAYER_1, USER_1, err);
        // A nonce a transaction used took its id as well: the request is a duplicate, even once final.
        _beginTransfer(TX);
        ITransactionManager.TxRequest memory again = _transferRequest(TX);
        bytes memory exists = abi.encodeWithSelector(ITransactionManager.TxAlreadyExists.selector, TX);
        _expectBeginRevert(again, _sign(USER_1_PK, again), RELAYER_1, USER_1, exists);
        _commit(TX);
        _expectBeginRevert(again, _sign(USER_1_PK, again), RELAYER_1, USER_1, exists);
        assertTrue(tm.nonceUsed(USER_1, 7) && tm.nonceUsed(USER_1, 1), "both nonces used");
    }

    /// @notice USER_1 proposes a swap with `nonce` (HTLC granted for the occasion); returns its id.
    function _proposeSwap(uint256 nonce) internal returns (bytes32 swapId) {
        _grant(ADMIN_1, USER_1, ZONE_A, CHAIN_A, W, ResourceOps.HTLC);
        _grant(ADMIN_2, USER_2, ZONE_B, CHAIN_B, W, ResourceOps.HTLC);
        swapId = _txIdOf(USER_1, nonce);
        ITransactionManager.SwapRequest memory r;
        r.swapId = swapId;
        r.hashlock = sha256("secret");
        r.legA = ITransactionManager.Leg(
            ZONE_A, CHAIN_A, RES, USER_1, USER_2, 100, uint64(block.timestamp + 2 days)
        );
        r.legB = ITransactionManager.Leg(
            ZONE_B, CHAIN_B, RES, USER_2, USER_1, 50, uint64(block.timestamp + 1 days)
        );
        r.nonce = nonce;
        bytes memory signature = _sig(USER_1_PK, tm.swapRequestDigest(r));
        vm.prank(RELAYER_1);
        tm.proposeSwap(r, signature);
    }

    // ---------------------------------------------------------------- begin: bound ids

    function test_requestId_isKeccakOfInitiatorAndNonce() public view {
        assertEq(tm.requestId(USER_1, 1), keccak256(abi.encode(USER_1, uint256(1))), "written out");
        assertEq(tm.requestId(USER_1, 1), TX, "the fixture's TX");
        assertTrue(tm.requestId(USER_2, 1) != TX, "per initiator");
        assertTrue(tm.requestId(USER_1, 2) != TX, "per nonce");
    }

    /// @notice USER_2 saw USER_1's signed request in the pool and tries to open his own transaction under
    /// its id first, with his own nonce or with USER_1's: refused, and USER_1's request still goes through.
    function test_begin_revertsWhenIdSquatted() public {
        ITransactionManager.TxRequest memory genuine = _transferRequest(TX);
        bytes memory genuineSig = _sign(USER_1_PK, genuine);

        uint256[2] memory nonces = [uint256(55), genuine.nonce];
        for (uint256 i; i < nonces.length; ++i) {
            ITransactionManager.TxRequest memory squat =
                _request(TX, _transferSteps(), uint64(block.timestamp + 60), nonces[i]);
            _expectBeginRevert(
                squat, _sign(USER_2_PK, squat), RELAYER_2, USER_2, _notBound(TX, _txIdOf(USER_2, nonces[i]))
            );
        }
        assertFalse(tm.nonceUsed(USER_2, 55), "squatter's nonce untouched");

        _nonceOf[TX] = genuine.nonce;
        _known.push(TX);
        vm.prank(RELAYER_1);
        tm.begin(genuine, genuineSig);
        assertEq(tm.transaction(TX).initiator, USER_1, "the id is USER_1's");
    }

    function test_begin_revertsWhenIdIsNotTheRequestsOwn() public {
        bytes32 other = keccak256("tx-1");
        ITransactionManager.TxRequest memory r =
            _request(other, _transferSteps(), uint64(block.timestamp + 60), 1);
        _expectBeginRevert(r, _sign(USER_1_PK, r), RELAYER_1, USER_1, _notBound(other, TX));
        // The signer's own id of another nonce is not this request's either.
        r = _request(TX2, _transferSteps(), uint64(block.timestamp + 60), 1);
        _expectBeginRevert(r, _sign(USER_1_PK, r), RELAYER_1, USER_1, _notBound(TX2, TX));
        // The zero id is refused before any signature is looked at.
        r = _request(bytes32(0), _transferSteps(), uint64(block.timestamp + 60), 1);
        _expectBeginRevert(
            r, _sign(USER_1_PK, r), RELAYER_1, USER_1, _err(ITransactionManager.TxZeroId.selector)
        );
    }

    /// @notice The binding is checked right after the signature: before the nonce, the user and the
    /// submitter, so a squatter learns nothing else and spends no nonce.
    function test_begin_checksIdAfterSignatureAndBeforeNonceAndIdentity() public {
        // Nonce 7 used by a swap of USER_1; an unbound id with that nonce reports the binding.
        _proposeSwap(7);
        ITransactionManager.TxRequest memory r =
            _request(TX, _transferSteps(), uint64(block.timestamp + 60), 7);
        _expectBeginRevert(r, _sign(USER_1_PK, r), RELAYER_1, USER_1, _notBound(TX, _txIdOf(USER_1, 7)));
        // A signer that is no user, submitted by a relayer of another institution: still the binding.
        uint256 pk = 0x5EED;
        r = _transferRequest(TX);
        _expectBeginRevert(
            r, _sign(pk, r), OUTSIDER, vm.addr(pk), _notBound(TX, _txIdOf(vm.addr(pk), r.nonce))
        );
        // A bad signature comes first.
        _expectBeginRevert(r, "", RELAYER_1, USER_1, _err(ITransactionManager.TxBadSignature.selector));
    }

    // ---------------------------------------------------------------- begin: signature

    function test_begin_revertsWhenSignatureWrongLength() public {
        (ITransactionManager.TxRequest memory r, bytes memory good) = _signedTransfer(TX);
        (bytes32 rr, bytes32 ss, uint8 v) = _split(good);
        bytes memory err = _err(ITransactionManager.TxBadSignature.selector);
        _expectBeginRevert(r, "", RELAYER_1, USER_1, err);
        _expectBeginRevert(r, abi.encodePacked(rr, ss), RELAYER_1, USER_1, err); // 64 bytes
        // EIP-2098 compact form (r, yParity|s) is not accepted either
        bytes32 vs = bytes32(uint256(ss) | (uint256(v - 27) << 255));
        _expectBeginRevert(r, abi.encodePacked(rr, vs), RELAYER_1, USER_1, err);
        _expectBeginRevert(r, abi.encodePacked(good, uint8(0)), RELAYER_1, USER_1, err); // 66 bytes
        _expectBeginRevert(r, abi.encodePacked(rr, ss, v, v), RELAYER_1, USER_1, err);
    }

    function test_begin_revertsWhenSignatureVNot27Or28() public {
        (ITransactionManager.TxRequest memory r, bytes memory good) = _signedTransfer(TX);
        (bytes32 rr, bytes32 ss, uint8 v) = _split(good);
        bytes memory err = _err(ITransactionManager.TxBadSignature.selector);
        uint8[5] memory bad = [uint8(v - 27), 0, 29, 37, 255];
        for (uint256 i; i < bad.length; ++i) {
            _expectBeginRevert(r, abi.encodePacked(rr, ss, bad[i]), RELAYER_1, USER_1, err);
        }
    }

    function test_begin_revertsWhenSignatureHighS() public {
        (ITransactionManager.TxRequest memory r, bytes memory good) = _signedTransfer(TX);
        (bytes32 rr, bytes32 ss, uint8 v) = _split(good);
        bytes32 highS = bytes32(SECP256K1_N - uint256(ss));
        uint8 flipped = v == 27 ? 28 : 27;
        bytes memory malleated = abi.encodePacked(rr, highS, flipped);
        // The malleated signature is valid for ecrecover: only the contract's low-s rule rejects it.
        assertEq(_recover(tm.txRequestDigest(r), malleated), USER_1, "malleated recovers");
        _expectBeginRevert(r, malleated, RELAYER_1, USER_1, _err(ITransactionManager.TxBadSignature.selector));
        // The canonical one still works.
        _nonceOf[TX] = r.nonce;
        vm.prank(RELAYER_1);
        tm.begin(r, good);
    }

    function test_begin_revertsWhenSignatureGarbage() public {
        (ITransactionManager.TxRequest memory r, bytes memory good) = _signedTransfer(TX);
        bytes32 digest = tm.txRequestDigest(r);
        bytes memory err = _err(ITransactionManager.TxBadSignature.selector);
        bytes[4] memory garbage = [
            new bytes(65), // all zero
            abi.encodePacked(bytes32(0), bytes32(uint256(1)), uint8(27)), // r = 0
            abi.encodePacked(bytes32(type(uint256).max), bytes32(uint256(1)), uint8(27)), // r >= n
            abi.encodePacked(bytes32(uint256(1)), bytes32(0), uint8(28)) // s = 0
        ];
        for (uint256 i; i < garbage.length; ++i) {
            if (garbage[i].length == 65 && uint8(garbage[i][64]) != 0) {
                assertEq(_recover(digest, garbage[i]), address(0), "does not recover");
            }
            _expectBeginRevert(r, garbage[i], RELAYER_1, USER_1, err);
        }
        // A point on the curve with a random s does recover: to some unregistered address.
        (bytes32 rr,,) = _split(good);
        bytes memory random = abi.encodePacked(rr, bytes32(uint256(keccak256("s")) >> 2), uint8(27));
        address who = _recover(digest, random);
        assertTrue(who != address(0), "random recovers");
        // The id is USER_1's, not the recovered address's: refused before anything about `who` is looked up.
        bytes memory err2 = _notBound(TX, _txIdOf(who, r.nonce));
        _expectBeginRevert(r, random, RELAYER_1, who, err2);
    }

    function test_begin_revertsWhenSignatureForAnotherRequest() public {
        (ITransactionManager.TxRequest memory r,) = _signedTransfer(TX);
        (ITransactionManager.TxRequest memory other, bytes memory otherSig) = _signedTransfer(TX2);
        address who = _recover(tm.txRequestDigest(r), otherSig);
        assertTrue(who != USER_1, "another digest");
        _expectBeginRevert(r, otherSig, RELAYER_1, who, _notBound(TX, _txIdOf(who, r.nonce)));
        assertEq(_recover(tm.txRequestDigest(other), otherSig), USER_1);
    }

    // ---------------------------------------------------------------- begin: who

    function test_begin_revertsWhenSignerNotRegistered() public {
        uint256 pk = 0x5EED;
        address signer = vm.addr(pk);
        ITransactionManager.TxRequest memory r = _transferRequest(_freshId(signer));
        _expectBeginRevert(
            r,
            _sign(pk, r),
            RELAYER_1,
            signer,
            abi.encodeWithSelector(ITransactionManager.TxNotUser.selector, signer)
        );
    }

    function test_begin_revertsWhenSignerIsRelayerOrAdmin() public {
        uint256[3] memory pks = [RELAYER_1_PK, RELAYER_1B_PK, ADMIN_1_PK];
        for (uint256 i; i < pks.length; ++i) {
            address signer = vm.addr(pks[i]);
            ITransactionManager.TxRequest memory r = _transferRequest(_freshId(signer));
            _expectBeginRevert(
                r,
                _sign(pks[i], r),
                RELAYER_1,
                signer,
                abi.encodeWithSelector(ITransactionManager.TxNotUser.selector, signer)
            );
        }
    }

    function test_begin_revertsWhenSignerInstitutionSuspended() public {
        _suspend(INST_1);
        ITransactionManager.TxRequest memory r = _transferRequest(TX);
        _expectBeginRevert(
            r,
            _sign(USER_1_PK, r),
            RELAYER_1,
            USER_1,
            abi.encodeWithSelector(ITransactionManager.TxNotUser.selector, USER_1)
        );
    }

    function test_begin_revertsWhenSignerRemovedFromInstitution() public {
        vm.prank(ADMIN_1);
        registry.removeAccount(USER_1);
        ITransactionManager.TxRequest memory r = _transferRequest(TX);
        _expectBeginRevert(
            r,
            _sign(USER_1_PK, r),
            RELAYER_1,
            USER_1,
            abi.encodeWithSelector(ITransactionManager.TxNotUser.selector, USER_1)
        );
    }

    function test_begin_revertsWhenSubmitterIsRelayerOfAnotherInstitution() public {
        (ITransactionManager.TxRequest memory r, bytes memory signature) = _signedTransfer(TX);
        address[2] memory others = [RELAYER_2, RELAYER_3];
        for (uint256 i; i < others.length; ++i) {
            _expectBeginRevert(
                r,
                signature,
                others[i],
                USER_1,
                abi.encodeWithSelector(
                    ITransactionManager.TxNotInstitutionRelayer.selector, others[i], INST_1
                )
            );
        }
    }

    function test_begin_revertsWhenSubmitterIsUsersOwnAdmin() public {
        (ITransactionManager.TxRequest memory r, bytes memory signature) = _signedTransfer(TX);
        _expectBeginRevert(
            r,
            signature,
            ADMIN_1,
            USER_1,
            abi.encodeWithSelector(ITransactionManager.TxNotInstitutionRelayer.selector, ADMIN_1, INST_1)
        );
    }

    function test_begin_revertsWhenSubmitterIsTheUserOrAnOutsider() public {
        (ITransactionManager.TxRequest memory r, bytes memory signature) = _signedTransfer(TX);
        address[2] memory callers = [USER_1, OUTSIDER];
        for (uint256 i; i < callers.length; ++i) {
            _expectBeginRevert(
                r,
                signature,
                callers[i],
                USER_1,
                abi.encodeWithSelector(
                    ITransactionManager.TxNotInstitutionRelayer.selector, callers[i], INST_1
                )
            );
        }
    }

    // ---------------------------------------------------------------- begin: steps

    function test_begin_revertsWhenBadPathInEachPosition() public {
        bytes32[6] memory bad = _badSegments();
        for (uint8 step; step < 2; ++step) {
            for (uint8 pos; pos < 3; ++pos) {
                for (uint256 b; b < bad.length; ++b) {
                    ITransactionManager.TxRequest memory r = _transferRequest(TX);
                    ITransactionManager.Step memory s = r.steps[step];
                    if (pos == 0) s.zone = bad[b];
                    else if (pos == 1) s.chain = bad[b];
                    else s.resource = bad[b];
                    _expectBeginRevert(
                        r,
                        _sign(USER_1_PK, r),
                        RELAYER_1,
                        USER_1,
                        abi.encodeWithSelector(ITransactionManager.TxBadPath.selector, step, pos)
                    );
                }
            }
        }
    }

    function test_begin_revertsWithFirstBadPathPosition() public {
        ITransactionManager.TxRequest memory r = _transferRequest(TX);
        r.steps[1] = ITransactionManager.Step(ZONE_B, W, W, hex"01");
        _expectBeginRevert(
            r,
            _sign(USER_1_PK, r),
            RELAYER_1,
            USER_1,
            abi.encodeWithSelector(ITransactionManager.TxBadPath.selector, uint8(1), uint8(1))
        );
    }

    function test_begin_revertsWhenChainNotAdmitted() public {
        ITransactionManager.TxRequest memory r = _transferRequest(TX);
        r.steps[1].zone = ZONE_X;
        r.steps[1].chain = CHAIN_X;
        _expectBeginRevert(
            r,
            _sign(USER_1_PK, r),
            RELAYER_1,
            USER_1,
            abi.encodeWithSelector(ITransactionManager.TxChainNotActive.selector, uint8(1), ZONE_X, CHAIN_X)
        );
        // Admitted segments combined into a chain that is not admitted.
        r = _transferRequest(TX);
        r.steps[0].chain = CHAIN_B;
        _expectBeginRevert(
            r,
            _sign(USER_1_PK, r),
            RELAYER_1,
            USER_1,
            abi.encodeWithSelector(ITransactionManager.TxChainNotActive.selector, uint8(0), ZONE_A, CHAIN_B)
        );
    }

    function test_begin_revertsWhenChainRetired() public {
        _retireChain(ZONE_B, CHAIN_B);
        ITransactionManager.TxRequest memory r = _transferRequest(TX);
        _expectBeginRevert(
            r,
            _sign(USER_1_PK, r),
            RELAYER_1,
            USER_1,
            abi.encodeWithSelector(ITransactionManager.TxChainNotActive.selector, uint8(1), ZONE_B, CHAIN_B)
        );
    }

    function test_begin_revertsWhenNoGrant() public {
        ITransactionManager.TxRequest memory r = _transferRequest(_freshId(USER_3));
        _expectBeginRevert(
            r,
            _sign(USER_3_PK, r),
            RELAYER_3,
            USER_3,
            abi.encodeWithSelector(ITransactionManager.TxNoPermission.selector, USER_3, uint8(0))
        );
    }

    function test_begin_revertsWhenGrantIsOfAnotherOp() public {
        uint8 others = ResourceOps.ALL & ~TWO_PHASE;
        _grant(ADMIN_1, USER_3, ZONE_A, CHAIN_A, W, others);
        _grant(ADMIN_2, USER_3, ZONE_B, CHAIN_B, RES, others);
        ITransactionManager.TxRequest memory r = _transferRequest(_freshId(USER_3));
        _expectBeginRevert(
            r,
            _sign(USER_3_PK, r),
            RELAYER_3,
            USER_3,
            abi.encodeWithSelector(ITransactionManager.TxNoPermission.selector, USER_3, uint8(0))
        );
    }

    function test_begin_revertsWhenNoPermissionOnALaterStep() public {
        _grant(ADMIN_1, USER_3, ZONE_A, CHAIN_A, W, TWO_PHASE);
        // exact path of another resource only: matching is per segment
        _grant(ADMIN_2, USER_3, ZONE_B, CHAIN_B, "xa-ledger2", TWO_PHASE);
        ITransactionManager.TxRequest memory r = _transferRequest(_freshId(USER_3));
        _expectBeginRevert(
            r,
            _sign(USER_3_PK, r),
            RELAYER_3,
            USER_3,
            abi.encodeWithSelector(ITransactionManager.TxNoPermission.selector, USER_3, uint8(1))
        );
    }

    function test_begin_revertsWhenPermissionRevoked() public {
        vm.prank(ADMIN_2);
        perms.revokeFromAccount(USER_1, ZONE_B, CHAIN_B, W, TWO_PHASE);
        ITransactionManager.TxRequest memory r = _transferRequest(TX);
        _expectBeginRevert(
            r,
            _sign(USER_1_PK, r),
            RELAYER_1,
            USER_1,
            abi.encodeWithSelector(ITransactionManager.TxNoPermission.selector, USER_1, uint8(1))
        );
    }

    function test_begin_revertsWhenOpEmpty() public {
        ITransactionManager.TxRequest memory r = _transferRequest(TX);
        r.steps[0].op = "";
        _expectBeginRevert(
            r,
            _sign(USER_1_PK, r),
            RELAYER_1,
            USER_1,
            abi.encodeWithSelector(ITransactionManager.TxBadOpLength.selector, uint8(0), 0)
        );
    }

    function test_begin_revertsWhenOpTooLong() public {
        ITransactionManager.TxRequest memory r = _transferRequest(TX);
        r.steps[1].op = _bytes(1025);
        _expectBeginRevert(
            r,
            _sign(USER_1_PK, r),
            RELAYER_1,
            USER_1,
            abi.encodeWithSelector(ITransactionManager.TxBadOpLength.selector, uint8(1), 1025)
        );
    }

    // ================================================================ vote

    function test_vote_yesRecordsWithoutDeciding() public {
        _prepare(TX);
        vm.expectEmit(address(tm));
        emit ITransactionManager.StepVoted(TX, 0, true, RELAYER_1, "0xprepare");
        vm.recordLogs();
        vm.prank(RELAYER_1);
        tm.vote(TX, 0, true, "0xprepare");
        assertEq(vm.getRecordedLogs().length, 1, "no decision yet");
        _assertState(TX, ITransactionManager.TxState.Preparing);
        _assertMasks(TX, 1, 1, 0);
    }

    function test_vote_lastYesDecidesCommit() public {
        _prepare(TX);
        _vote(TX, 1, true); // order of votes does not matter
        vm.expectEmit(address(tm));
        emit ITransactionManager.StepVoted(TX, 0, true, RELAYER_1, "");
        vm.expectEmit(address(tm));
        emit ITransactionManager.TransactionDecided(TX, ITransactionManager.TxState.Committing);
        vm.prank(RELAYER_1);
        tm.vote(TX, 0, true, "");
        _assertState(TX, ITransactionManager.TxState.Committing);
        _assertMasks(TX, 3, 3, 0);
        assertTrue(_isOpen(KEY_A, TX) && _isOpen(KEY_B, TX), "open until acked");
    }

    function test_vote_noDecidesAbort() public {
        _prepare(TX);
        vm.expectEmit(address(tm));
        emit ITransactionManager.StepVoted(TX, 1, false, RELAYER_2, "insufficient funds");
        vm.expectEmit(address(tm));
        emit ITransactionManager.TransactionDecided(TX, ITransactionManager.TxState.Aborting);
        vm.prank(RELAYER_2);
        tm.vote(TX, 1, false, "insufficient funds");
        _assertState(TX, ITransactionManager.TxState.Aborting);
        _assertMasks(TX, 2, 0, 0);
    }

    function test_vote_noAfterYesDecidesAbort() public {
        _prepare(TX);
        _vote(TX, 0, true);
        vm.expectEmit(address(tm));
        emit ITransactionManager.StepVoted(TX, 1, false, RELAYER_2, "");
        vm.expectEmit(address(tm));
        emit ITransactionManager.TransactionDecided(TX, ITransactionManager.TxState.Aborting);
        vm.prank(RELAYER_2);
        tm.vote(TX, 1, false, "");
        _assertState(TX, ITransactionManager.TxState.Aborting);
        _assertMasks(TX, 3, 1, 0);
    }

    function test_vote_anyServingRelayerOfTheChainMayVote() public {
        _setServing(ADMIN_1, ZONE_A, CHAIN_A, RELAYER_1B, true);
        _prepare(TX);
        vm.expectEmit(address(tm));
        emit ITransactionManager.StepVoted(TX, 0, true, RELAYER_1B, "");
        vm.prank(RELAYER_1B);
        tm.vote(TX, 0, true, "");
        _assertMasks(TX, 1, 1, 0);
    }

    function test_vote_justBeforeDeadlineWithMaxEvidence() public {
        uint64 deadline = _prepare(TX);
        vm.warp(deadline - 1);
        bytes memory evidence = _bytes(256);
        vm.expectEmit(address(tm));
        emit ITransactionManager.StepVoted(TX, 0, true, RELAYER_1, evidence);
        vm.prank(RELAYER_1);
        tm.vote(TX, 0, true, evidence);
        _assertMasks(TX, 1, 1, 0);
    }

    function test_vote_revertsWhenNotFound() public {
        _prepare(TX);
        _expectVoteRevert(
            RELAYER_1,
            UNKNOWN,
            0,
            true,
            "",
            abi.encodeWithSelector(ITransactionManager.TxNotFound.selector, UNKNOWN)
        );
        _expectVoteRevert(
            RELAYER_1,
            bytes32(0),
            0,
            true,
            "",
            abi.encodeWithSelector(ITransactionManager.TxNotFound.selector, 0)
        );
    }

    function test_vote_revertsWhenNotPreparing_committing() public {
        _committing(TX);
        _expectVoteRevert(
            RELAYER_1, TX, 0, false, "", _notPreparing(TX, ITransactionManager.TxState.Committing)
        );
    }

    function test_vote_revertsWhenNotPreparing_abortedByNo() public {
        _aborting(TX);
        // The other step's vote comes too late, whatever it says.
        _expectVoteRevert(RELAYER_2, TX, 1, true, "", _notPreparing(TX, ITransactionManager.TxState.Aborting));
        _expectVoteRevert(
            RELAYER_2, TX, 1, false, "", _notPreparing(TX, ITransactionManager.TxState.Aborting)
        );
    }

    function test_vote_revertsWhenNotPreparing_expired() public {
        uint64 deadline = _prepare(TX);
        vm.warp(deadline);
        tm.expire(TX);
        _expectVoteRevert(RELAYER_1, TX, 0, true, "", _notPreparing(TX, ITransactionManager.TxState.Aborting));
    }

    function test_vote_revertsWhenNotPreparing_final() public {
        _committing(TX);
        _ackAll(TX);
        _expectVoteRevert(
            RELAYER_1, TX, 0, true, "", _notPreparing(TX, ITransactionManager.TxState.Committed)
        );
        _aborting(TX2);
        _ackAll(TX2);
        _expectVoteRevert(
            RELAYER_2, TX2, 1, true, "", _notPreparing(TX2, ITransactionManager.TxState.Aborted)
        );
    }

    function _notPreparing(bytes32 txId, ITransactionManager.TxState state)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(ITransactionManager.TxNotPreparing.selector, txId, state);
    }

    function test_vote_revertsWhenDeadlinePassed() public {
        uint64 deadline = _prepare(TX);
        _vote(TX, 0, true);
        bytes memory err = abi.encodeWithSelector(ITransactionManager.TxDeadlinePassed.selector, TX, deadline);
        vm.warp(deadline); // at the deadline: too late
        _expectVoteRevert(RELAYER_2, TX, 1, true, "", err);
        vm.warp(deadline + 30 days);
        _expectVoteRevert(RELAYER_2, TX, 1, true, "", err);
        _expectVoteRevert(RELAYER_2, TX, 1, false, "", err);
    }

    function test_vote_revertsWhenBadStep() public {
        _prepare(TX);
        uint8[4] memory bad = [uint8(2), 15, 16, 255];
        for (uint256 i; i < bad.length; ++i) {
            _expectVoteRevert(
                RELAYER_1,
                TX,
                bad[i],
                true,
                "",
                abi.encodeWithSelector(ITransactionManager.TxBadStep.selector, TX, bad[i])
            );
        }
    }

    function test_vote_revertsWhenRelayerOfAnotherChain() public {
        _prepare(TX);
        _expectVoteRevert(RELAYER_2, TX, 0, true, "", _notServing(TX, 0, RELAYER_2));
        _expectVoteRevert(RELAYER_1, TX, 1, true, "", _notServing(TX, 1, RELAYER_1));
        _expectVoteRevert(RELAYER_1, TX, 1, false, "", _notServing(TX, 1, RELAYER_1));
    }

    function test_vote_revertsWhenRelayerNotServing() public {
        _prepare(TX);
        // a relayer of the owner that the owner never named, and accounts that are no relayers at all
        address[5] memory callers = [RELAYER_1B, RELAYER_3, ADMIN_1, USER_1, OUTSIDER];
        for (uint256 i; i < callers.length; ++i) {
            _expectVoteRevert(callers[i], TX, 0, true, "", _notServing(TX, 0, callers[i]));
        }
        // named, then un-named
        _setServing(ADMIN_1, ZONE_A, CHAIN_A, RELAYER_1, false);
        _expectVoteRevert(RELAYER_1, TX, 0, true, "", _notServing(TX, 0, RELAYER_1));
    }

    function test_vote_revertsWhenChainOwnerSuspended() public {
        _prepare(TX);
        _suspend(INST_1);
        _expectVoteRevert(RELAYER_1, TX, 0, true, "", _notServing(TX, 0, RELAYER_1));
        _expectVoteRevert(RELAYER_1, TX, 0, false, "", _notServing(TX, 0, RELAYER_1));
        // the other chain's owner is unaffected
        _vote(TX, 1, true);
    }

    function test_vote_revertsWhenChainRetiredOrRelayerRemoved() public {
        _prepare(TX);
        vm.prank(ADMIN_2);
        registry.removeAccount(RELAYER_2);
        _expectVoteRevert(RELAYER_2, TX, 1, true, "", _notServing(TX, 1, RELAYER_2));
        _retireChain(ZONE_A, CHAIN_A);
        _expectVoteRevert(RELAYER_1, TX, 0, true, "", _notServing(TX, 0, RELAYER_1));
    }

    function _notServing(bytes32 txId, uint8 step, address caller) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITransactionManager.TxNotServingRelayer.selector, txId, step, caller);
    }

    function test_vote_revertsWhenAlreadyVoted() public {
        _prepare(TX);
        _vote(TX, 0, true);
        bytes memory err = abi.encodeWithSelector(ITransactionManager.TxAlreadyVoted.selector, TX, uint8(0));
        _expectVoteRevert(RELAYER_1, TX, 0, true, "", err);
        // The first vote counts: a later no cannot turn it into an abort.
        _expectVoteRevert(RELAYER_1, TX, 0, false, "", err);
        _assertState(TX, ITransactionManager.TxState.Preparing);
    }

    function test_vote_revertsWhenEvidenceTooLarge() public {
        _prepare(TX);
        _expectVoteRevert(
            RELAYER_1,
            TX,
            0,
            true,
            _bytes(257),
            abi.encodeWithSelector(ITransactionManager.TxEvidenceTooLarge.selector, 257)
        );
        _expectVoteRevert(
            RELAYER_1,
            TX,
            0,
            false,
            _bytes(5000),
            abi.encodeWithSelector(ITransactionManager.TxEvidenceTooLarge.selector, 5000)
        );
    }

    // ================================================================ expire

    function test_expire_atDeadlineDecidesAbort() public {
        uint64 deadline = _prepare(TX);
        _vote(TX, 0, true);
        vm.warp(deadline);
        vm.expectEmit(address(tm));
        emit ITransactionManager.TransactionExpired(TX);
        vm.expectEmit(address(tm));
        emit ITransactionManager.TransactionDecided(TX, ITransactionManager.TxState.Aborting);
        vm.prank(OUTSIDER); // anyone
        tm.expire(TX);
        _assertState(TX, ITransactionManager.TxState.Aborting);
        _assertMasks(TX, 1, 1, 0); // the recorded vote stays
        assertTrue(_isOpen(KEY_A, TX) && _isOpen(KEY_B, TX), "open until acked");
    }

    function test_expire_longAfterDeadlineWithNoVotes() public {
        uint64 deadline = _prepare(TX);
        vm.warp(deadline + 365 days);
        vm.expectEmit(address(tm));
        emit ITransactionManager.TransactionExpired(TX);
        vm.expectEmit(address(tm));
        emit ITransactionManager.TransactionDecided(TX, ITransactionManager.TxState.Aborting);
        vm.prank(RELAYER_2);
        tm.expire(TX);
        _assertState(TX, ITransactionManager.TxState.Aborting);
        _assertMasks(TX, 0, 0, 0);
    }

    function test_expire_revertsWhenNotFound() public {
        _expectExpireRevert(
            OUTSIDER, UNKNOWN, abi.encodeWithSelector(ITransactionManager.TxNotFound.selector, UNKNOWN)
        );
    }

    function test_expire_revertsWhenDeadlineNotReached() public {
        uint64 deadline = _prepare(TX);
        bytes memory err =
            abi.encodeWithSelector(ITransactionManager.TxDeadlineNotReached.selector, TX, deadline);
        _expectExpireRevert(OUTSIDER, TX, err);
        vm.warp(deadline - 1);
        _expectExpireRevert(RELAYER_1, TX, err);
    }

    function test_expire_revertsWhenNotPreparing() public {
        _committing(TX);
        _aborting(TX2);
        vm.warp(block.timestamp + 7 days);
        _expectExpireRevert(OUTSIDER, TX, _notPreparing(TX, ITransactionManager.TxState.Committing));
        _expectExpireRevert(OUTSIDER, TX2, _notPreparing(TX2, ITransactionManager.TxState.Aborting));
        _ackAll(TX);
        _ackAll(TX2);
        _expectExpireRevert(OUTSIDER, TX, _notPreparing(TX, ITransactionManager.TxState.Committed));
        _expectExpireRevert(OUTSIDER, TX2, _notPreparing(TX2, ITransactionManager.TxState.Aborted));
    }

    function test_expire_revertsWhenAlreadyExpired() public {
        uint64 deadline = _prepare(TX);
        vm.warp(deadline);
        tm.expire(TX);
        _expectExpireRevert(OUTSIDER, TX, _notPreparing(TX, ITransactionManager.TxState.Aborting));
    }

    // ================================================================ ack

    function test_ack_recordsWithoutFinalizing() public {
        _committing(TX);
        vm.expectEmit(address(tm));
        emit ITransactionManager.StepAcked(TX, 1, RELAYER_2, "0xcommit");
        vm.recordLogs();
        vm.prank(RELAYER_2);
        tm.ack(TX, 1, "0xcommit");
        assertEq(vm.getRecordedLogs().length, 1, "not final yet");
        _assertState(TX, ITransactionManager.TxState.Committing);
        _assertMasks(TX, 3, 3, 2);
        assertTrue(_isOpen(KEY_A, TX) && _isOpen(KEY_B, TX), "still open");
    }

    function test_ack_lastAckFinalizesCommit() public {
        _committing(TX);
        _ack(TX, 1);
        bytes memory evidence = _bytes(256);
        vm.expectEmit(address(tm));
        emit ITransactionManager.StepAcked(TX, 0, RELAYER_1, evidence);
        vm.expectEmit(address(tm));
        emit ITransactionManager.TransactionFinalized(TX, ITransactionManager.TxState.Committed);
        vm.prank(RELAYER_1);
        tm.ack(TX, 0, evidence);
        _assertState(TX, ITransactionManager.TxState.Committed);
        _assertMasks(TX, 3, 3, 3);
        assertEq(tm.openTransactionCount(KEY_A), 0);
        assertEq(tm.openTransactionCount(KEY_B), 0);
    }

    function test_ack_lastAckFinalizesAbort() public {
        _aborting(TX);
        // step 1 never voted: its relayer rolls back (a no-op that records the abort) and acks
        _ack(TX, 1);
        vm.expectEmit(address(tm));
        emit ITransactionManager.StepAcked(TX, 0, RELAYER_1, "");
        vm.expectEmit(address(tm));
        emit ITransactionManager.TransactionFinalized(TX, ITransactionManager.TxState.Aborted);
        vm.prank(RELAYER_1);
        tm.ack(TX, 0, "");
        _assertState(TX, ITransactionManager.TxState.Aborted);
        _assertMasks(TX, 1, 0, 3);
        assertEq(tm.openTransactionCount(KEY_A), 0);
        assertEq(tm.openTransactionCount(KEY_B), 0);
    }

    function test_ack_isNotBoundByTheDeadline() public {
        uint64 deadline = _prepare(TX);
        _voteAll(TX, true);
        vm.warp(deadline + 30 days);
        _ackAll(TX);
        _assertState(TX, ITransactionManager.TxState.Committed);
    }

    function test_ack_revertsWhenNotFound() public {
        _expectAckRevert(
            RELAYER_1,
            UNKNOWN,
            0,
            "",
            abi.encodeWithSelector(ITransactionManager.TxNotFound.selector, UNKNOWN)
        );
    }

    function test_ack_revertsWhenPreparing() public {
        _prepare(TX);
        _vote(TX, 0, true);
        _expectAckRevert(RELAYER_1, TX, 0, "", _notDecided(TX, ITransactionManager.TxState.Preparing));
        _expectAckRevert(RELAYER_2, TX, 1, "", _notDecided(TX, ITransactionManager.TxState.Preparing));
    }

    function test_ack_revertsWhenFinal() public {
        _committing(TX);
        _ackAll(TX);
        _expectAckRevert(RELAYER_1, TX, 0, "", _notDecided(TX, ITransactionManager.TxState.Committed));
        _aborting(TX2);
        _ackAll(TX2);
        _expectAckRevert(RELAYER_2, TX2, 1, "", _notDecided(TX2, ITransactionManager.TxState.Aborted));
    }

    function _notDecided(bytes32 txId, ITransactionManager.TxState state)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(ITransactionManager.TxNotDecided.selector, txId, state);
    }

    function test_ack_revertsWhenBadStep() public {
        _committing(TX);
        _expectAckRevert(
            RELAYER_1, TX, 2, "", abi.encodeWithSelector(ITransactionManager.TxBadStep.selector, TX, 2)
        );
        _expectAckRevert(
            RELAYER_1, TX, 255, "", abi.encodeWithSelector(ITransactionManager.TxBadStep.selector, TX, 255)
        );
    }

    function test_ack_revertsWhenRelayerOfAnotherChain() public {
        _committing(TX);
        _expectAckRevert(RELAYER_2, TX, 0, "", _notServing(TX, 0, RELAYER_2));
        _expectAckRevert(RELAYER_1, TX, 1, "", _notServing(TX, 1, RELAYER_1));
    }

    function test_ack_revertsWhenRelayerNotServing() public {
        _aborting(TX);
        address[4] memory callers = [RELAYER_1B, ADMIN_1, USER_1, OUTSIDER];
        for (uint256 i; i < callers.length; ++i) {
            _expectAckRevert(callers[i], TX, 0, "", _notServing(TX, 0, callers[i]));
        }
    }

    function test_ack_revertsWhenChainOwnerSuspended() public {
        _committing(TX);
        _suspend(INST_2);
        _expectAckRevert(RELAYER_2, TX, 1, "", _notServing(TX, 1, RELAYER_2));
        _ack(TX, 0);
    }

    /// @dev Documents a liveness gap (see the report): once a step's chain is retired, nobody serves it,
    /// so the decided transaction can never be acknowledged and stays open for good.
    function test_ack_revertsWhenChainRetiredLeavingTheTransactionOpen() public {
        _committing(TX);
        _ack(TX, 1);
        _retireChain(ZONE_A, CHAIN_A);
        _expectAckRevert(RELAYER_1, TX, 0, "", _notServing(TX, 0, RELAYER_1));
        _assertState(TX, ITransactionManager.TxState.Committing);
        assertEq(tm.openTransactionCount(KEY_A), 1, "still listed on the retired chain");
        assertEq(tm.openTransactionCount(KEY_B), 1, "and on the live one");
    }

    function test_ack_revertsWhenAlreadyAcked() public {
        _committing(TX);
        _ack(TX, 0);
        _expectAckRevert(
            RELAYER_1,
            TX,
            0,
            "",
            abi.encodeWithSelector(ITransactionManager.TxAlreadyAcked.selector, TX, uint8(0))
        );
    }

    function test_ack_revertsWhenEvidenceTooLarge() public {
        _committing(TX);
        _expectAckRevert(
            RELAYER_1,
            TX,
            0,
            _bytes(257),
            abi.encodeWithSelector(ITransactionManager.TxEvidenceTooLarge.selector, 257)
        );
    }

    // ================================================================ views

    function test_transaction_unknownIsZero() public view {
        ITransactionManager.Transaction memory t = tm.transaction(UNKNOWN);
        assertEq(t.initiator, address(0));
        assertEq(t.deadline, 0);
        assertEq(uint256(t.state), uint256(ITransactionManager.TxState.None));
        assertEq(t.stepCount, 0);
        assertEq(t.institution, 0);
        assertEq(t.beganBlock, 0);
        assertEq(uint256(t.votedMask) + t.yesMask + t.ackedMask, 0);
    }

    function test_stepOf_returnsRecords() public {
        ITransactionManager.TxRequest memory r =
            _request(TX, _alternatingSteps(3), uint64(block.timestamp + 60), 1);
        _beginAs(r, USER_1_PK, RELAYER_1);
        for (uint8 i; i < 3; ++i) {
            ITransactionManager.StepRecord memory s = tm.stepOf(TX, i);
            assertEq(s.chainKey, keccak256(abi.encode(r.steps[i].zone, r.steps[i].chain)), "chainKey");
            assertEq(s.opHash, keccak256(r.steps[i].op), "opHash");
        }
    }

    function test_stepOf_revertsWhenNotFound() public {
        vm.expectRevert(abi.encodeWithSelector(ITransactionManager.TxNotFound.selector, UNKNOWN));
        tm.stepOf(UNKNOWN, 0);
    }

    function test_stepOf_revertsWhenBadStep() public {
        _prepare(TX);
        vm.expectRevert(abi.encodeWithSelector(ITransactionManager.TxBadStep.selector, TX, 2));
        tm.stepOf(TX, 2);
    }

    function test_txRequestDigest_matchesReference() public {
        ITransactionManager.TxRequest memory r = _transferRequest(TX);
        assertEq(tm.txRequestDigest(r), _refDigest(r, block.chainid, address(tm)));
        r = _request(bytes32(0), _alternatingSteps(16), type(uint64).max, type(uint256).max);
        assertEq(tm.txRequestDigest(r), _refDigest(r, block.chainid, address(tm)));
        // computed for requests begin would reject too
        r = _request(TX, new ITransactionManager.Step[](0), 0, 0);
        assertEq(tm.txRequestDigest(r), _refDigest(r, block.chainid, address(tm)));
    }

    function test_txRequestDigest_bindsChainIdAndContract() public {
        ITransactionManager.TxRequest memory r = _transferRequest(TX);
        bytes32 here = tm.txRequestDigest(r);
        TransactionManager twin = new TransactionManager(registry, chains, perms);
        assertTrue(twin.txRequestDigest(r) != here, "another deployment");
        assertEq(twin.txRequestDigest(r), _refDigest(r, block.chainid, address(twin)));
        vm.chainId(31_338);
        bytes32 there = tm.txRequestDigest(r);
        assertTrue(there != here, "another chain id");
        assertEq(there, _refDigest(r, 31_338, address(tm)));
    }

    function test_DOMAIN_SEPARATOR_matchesReferenceAndFollowsChainId() public {
        assertEq(tm.DOMAIN_SEPARATOR(), _refDomainSeparator(block.chainid, address(tm)));
        vm.chainId(5);
        assertEq(tm.DOMAIN_SEPARATOR(), _refDomainSeparator(5, address(tm)));
    }

    function test_nonceUsed_lifecycle() public {
        assertFalse(tm.nonceUsed(USER_1, 7));
        bytes32 id = _txIdOf(USER_1, 7);
        _beginAs(_request(id, _transferSteps(), uint64(block.timestamp + 60), 7), USER_1_PK, RELAYER_1);
        assertTrue(tm.nonceUsed(USER_1, 7));
        assertFalse(tm.nonceUsed(USER_2, 7), "per initiator");
        assertFalse(tm.nonceUsed(USER_1, 8), "per nonce");
        _vote(id, 0, false);
        _ackAll(id);
        assertTrue(tm.nonceUsed(USER_1, 7), "still used when final");
    }

    function test_openTransactionCount_followsTheLifecycle() public {
        assertEq(tm.openTransactionCount(KEY_A), 0);
        _prepare(TX);
        _prepare(TX2);
        assertEq(tm.openTransactionCount(KEY_A), 2);
        assertEq(tm.openTransactionCount(KEY_B), 2);
        _voteAll(TX, true);
        _ack(TX, 0);
        assertEq(tm.openTransactionCount(KEY_A), 2, "open until every step acked");
        _ack(TX, 1);
        assertEq(tm.openTransactionCount(KEY_A), 1);
        assertEq(tm.openTransactionCount(KEY_B), 1);
        assertEq(tm.openTransactions(KEY_A, 0, 10)[0], TX2);
        assertEq(tm.openTransactionCount(KEY_X), 0);
        assertEq(tm.openTransactions(KEY_X, 0, 10).length, 0);
    }

    function test_openTransactions_sameChainStepsListedOnce() public {
        ITransactionManager.Step[] memory steps = new ITransactionManager.Step[](3);
        steps[0] = _step(ZONE_A, CHAIN_A, _op(DEBIT, USER_1, 5));
        steps[1] = _step(ZONE_A, CHAIN_A, _op(CREDIT, USER_2, 5));
        steps[2] = _step(ZONE_A, CHAIN_A, _op(CREDIT, USER_1, 1));
        _beginAs(_request(TX, steps, uint64(block.timestamp + 60), 1), USER_1_PK, RELAYER_1);
        assertEq(tm.openTransactionCount(KEY_A), 1);
        assertEq(tm.openTransactionCount(KEY_B), 0);
        // [A, B, A]
        ITransactionManager.Step[] memory mixed = _alternatingSteps(3);
        _beginAs(_request(TX2, mixed, uint64(block.timestamp + 60), 2), USER_1_PK, RELAYER_1);
        assertEq(tm.openTransactionCount(KEY_A), 2);
        assertEq(tm.openTransactionCount(KEY_B), 1);
        _commit(TX);
        assertEq(tm.openTransactionCount(KEY_A), 1);
        assertEq(tm.openTransactions(KEY_A, 0, 10)[0], TX2);
        _vote(TX2, 1, false);
        _ackAll(TX2);
        assertEq(tm.openTransactionCount(KEY_A), 0);
        assertEq(tm.openTransactionCount(KEY_B), 0);
    }

    function test_openTransactions_paging() public {
        bytes32[] memory ids = new bytes32[](7);
        for (uint256 i; i < 7; ++i) {
            ids[i] = _freshId(USER_1);
            _prepare(ids[i]);
        }
        // insertion order while nothing was removed
        bytes32[] memory all = tm.openTransactions(KEY_A, 0, 7);
        assertEq(all.length, 7);
        for (uint256 i; i < 7; ++i) {
            assertEq(all[i], ids[i], "insertion order");
        }
        bytes32[] memory p0 = tm.openTransactions(KEY_A, 0, 3);
        bytes32[] memory p1 = tm.openTransactions(KEY_A, 3, 3);
        bytes32[] memory p2 = tm.openTransactions(KEY_A, 6, 3);
        assertEq(p0.length, 3);
        assertEq(p1.length, 3);
        assertEq(p2.length, 1, "last page is short");
        assertEq(p0[2], ids[2]);
        assertEq(p1[0], ids[3]);
        assertEq(p2[0], ids[6]);
        assertEq(tm.openTransactions(KEY_A, 7, 3).length, 0, "offset == length");
        assertEq(tm.openTransactions(KEY_A, 8, 3).length, 0, "offset past end");
        assertEq(tm.openTransactions(KEY_A, type(uint256).max, type(uint256).max).length, 0, "huge offset");
        assertEq(tm.openTransactions(KEY_A, 0, 0).length, 0, "limit 0");
        assertEq(tm.openTransactions(KEY_A, 5, type(uint256).max).length, 2, "huge limit");
    }

    function test_openTransactions_limitCappedAtMaxPage() public {
        uint256 n = MAX_PAGE + 5;
        for (uint256 i; i < n; ++i) {
            ITransactionManager.Step[] memory steps = new ITransactionManager.Step[](1);
            steps[0] = _step(ZONE_A, CHAIN_A, _op(DEBIT, USER_1, i + 1));
            ITransactionManager.TxRequest memory r =
                _request(_txIdOf(USER_1, i), steps, uint64(block.timestamp + 60), i);
            bytes memory signature = _sign(USER_1_PK, r);
            vm.prank(RELAYER_1);
            tm.begin(r, signature);
        }
        assertEq(tm.openTransactionCount(KEY_A), n);
        assertEq(tm.openTransactions(KEY_A, 0, MAX_PAGE + 1).length, MAX_PAGE);
        assertEq(tm.openTransactions(KEY_A, 0, type(uint256).max).length, MAX_PAGE);
        bytes32[] memory tail = tm.openTransactions(KEY_A, MAX_PAGE, MAX_PAGE);
        assertEq(tail.length, 5);
        assertEq(tail[4], _txIdOf(USER_1, n - 1));
        assertEq(tm.openTransactions(KEY_A, 3, 1000)[MAX_PAGE - 1], _txIdOf(USER_1, MAX_PAGE + 2));
    }

    // ---------------------------------------------------------------- swap-remove correctness

    bytes32[] internal _modelA;
    bytes32[] internal _modelB;

    function _modelRemove(bytes32[] storage model, bytes32 id) internal {
        for (uint256 i; i < model.length; ++i) {
            if (model[i] == id) {
                model[i] = model[model.length - 1];
                model.pop();
                return;
            }
        }
    }

    function _assertMatchesModel(bytes32 key, bytes32[] storage model) internal view {
        bytes32[] memory list = tm.openTransactions(key, 0, MAX_PAGE);
        assertEq(list.length, model.length, "open list length");
        assertEq(tm.openTransactionCount(key), model.length, "open count");
        for (uint256 i; i < list.length; ++i) {
            assertEq(list[i], model[i], "swap-remove order");
        }
    }

    function test_openTransactions_swapRemoveInArbitraryOrder() public {
        // tx i: steps on A (i % 3 != 2) and on B (i % 3 != 1)
        bytes32[] memory ids = new bytes32[](9);
        for (uint256 i; i < ids.length; ++i) {
            ids[i] = _txIdOf(USER_1, 100 + i);
            bool onA = i % 3 != 2;
            bool onB = i % 3 != 1;
            ITransactionManager.Step[] memory steps = new ITransactionManager.Step[](onA && onB ? 2 : 1);
            uint256 k;
            if (onA) steps[k++] = _step(ZONE_A, CHAIN_A, _op(DEBIT, USER_1, i + 1));
            if (onB) steps[k++] = _step(ZONE_B, CHAIN_B, _op(CREDIT, USER_2, i + 1));
            _beginAs(
                _request(ids[i], steps, uint64(block.timestamp + DURATION), 100 + i), USER_1_PK, RELAYER_1
            );
            if (onA) _modelA.push(ids[i]);
            if (onB) _modelB.push(ids[i]);
        }
        _assertMatchesModel(KEY_A, _modelA);
        _assertMatchesModel(KEY_B, _modelB);

        // Finalize in a scrambled order, alternating commit, abort-by-no and expiry.
        uint8[9] memory order = [4, 0, 8, 1, 7, 2, 6, 3, 5];
        for (uint256 j; j < order.length; ++j) {
            bytes32 id = ids[order[j]];
            if (j % 3 == 0) {
                _commit(id);
            } else if (j % 3 == 1) {
                _vote(id, 0, false);
                _ackAll(id);
            } else {
                _expireAndAck(id);
            }
            _modelRemove(_modelA, id);
            _modelRemove(_modelB, id);
            _assertMatchesModel(KEY_A, _modelA);
            _assertMatchesModel(KEY_B, _modelB);
        }
        assertEq(tm.openTransactionCount(KEY_A), 0);
        assertEq(tm.openTransactionCount(KEY_B), 0);
    }

    function _expireAndAck(bytes32 id) internal {
        uint256 saved = block.timestamp;
        vm.warp(tm.transaction(id).deadline);
        tm.expire(id);
        vm.warp(saved);
        _ackAll(id);
    }

    // ================================================================ flows

    function test_ack_flowCommitPathFinalizesAndUnlists() public {
        _prepare(TX);
        _assertState(TX, ITransactionManager.TxState.Preparing);
        _vote(TX, 0, true);
        _assertState(TX, ITransactionManager.TxState.Preparing);
        _vote(TX, 1, true);
        _assertState(TX, ITransactionManager.TxState.Committing);
        _ack(TX, 0);
        _assertState(TX, ITransactionManager.TxState.Committing);
        assertTrue(_isOpen(KEY_A, TX) && _isOpen(KEY_B, TX), "open while committing");
        _ack(TX, 1);
        _assertState(TX, ITransactionManager.TxState.Committed);
        _assertMasks(TX, 3, 3, 3);
        assertFalse(_isOpen(KEY_A, TX), "removed from A");
        assertFalse(_isOpen(KEY_B, TX), "removed from B");
        assertEq(tm.openTransactionCount(KEY_A) + tm.openTransactionCount(KEY_B), 0);
    }

    function test_ack_flowAbortByNoVoteFinalizesAndUnlists() public {
        _prepare(TX);
        _vote(TX, 0, false);
        _assertState(TX, ITransactionManager.TxState.Aborting);
        _expectVoteRevert(RELAYER_2, TX, 1, true, "", _notPreparing(TX, ITransactionManager.TxState.Aborting));
        _ack(TX, 0);
        _assertState(TX, ITransactionManager.TxState.Aborting);
        _ack(TX, 1);
        _assertState(TX, ITransactionManager.TxState.Aborted);
        _assertMasks(TX, 1, 0, 3);
        assertEq(tm.openTransactionCount(KEY_A) + tm.openTransactionCount(KEY_B), 0);
    }

    function test_expire_flowWithAVoteMissingThenAcks() public {
        uint64 deadline = _prepare(TX);
        _vote(TX, 0, true);
        vm.warp(deadline + 1);
        _expectVoteRevert(
            RELAYER_2,
            TX,
            1,
            true,
            "",
            abi.encodeWithSelector(ITransactionManager.TxDeadlinePassed.selector, TX, deadline)
        );
        tm.expire(TX);
        _assertState(TX, ITransactionManager.TxState.Aborting);
        _ack(TX, 1);
        _ack(TX, 0);
        _assertState(TX, ITransactionManager.TxState.Aborted);
        _assertMasks(TX, 1, 1, 3);
        assertEq(tm.openTransactionCount(KEY_A) + tm.openTransactionCount(KEY_B), 0);
    }

    function test_vote_flowSixteenStepsCommit() public {
        ITransactionManager.TxRequest memory r =
            _request(TX, _alternatingSteps(16), uint64(block.timestamp + 60), 1);
        _beginAs(r, USER_1_PK, RELAYER_1);
        for (uint8 i; i < 15; ++i) {
            _vote(TX, 15 - i, true); // reverse order
        }
        _assertState(TX, ITransactionManager.TxState.Preparing);
        _assertMasks(TX, 0xFFFE, 0xFFFE, 0);
        vm.expectEmit(address(tm));
        emit ITransactionManager.TransactionDecided(TX, ITransactionManager.TxState.Committing);
        _vote(TX, 0, true);
        _assertMasks(TX, 0xFFFF, 0xFFFF, 0);
        for (uint8 i; i < 15; ++i) {
            _ack(TX, i);
        }
        _assertState(TX, ITransactionManager.TxState.Committing);
        vm.expectEmit(address(tm));
        emit ITransactionManager.TransactionFinalized(TX, ITransactionManager.TxState.Committed);
        _ack(TX, 15);
        _assertMasks(TX, 0xFFFF, 0xFFFF, 0xFFFF);
        assertEq(tm.openTransactionCount(KEY_A) + tm.openTransactionCount(KEY_B), 0);
    }

    function test_vote_flowSixteenStepsAbortedByTheLastVote() public {
        _beginAs(_request(TX, _alternatingSteps(16), uint64(block.timestamp + 60), 1), USER_1_PK, RELAYER_1);
        for (uint8 i; i < 15; ++i) {
            _vote(TX, i, true);
        }
        _vote(TX, 15, false);
        _assertState(TX, ITransactionManager.TxState.Aborting);
        _assertMasks(TX, 0xFFFF, 0x7FFF, 0);
        _ackAll(TX);
        _assertState(TX, ITransactionManager.TxState.Aborted);
    }

    function test_vote_flowInterleavedTransactionsAreIndependent() public {
        _prepare(TX);
        _prepare(TX2);
        _vote(TX, 0, true);
        _vote(TX2, 0, true);
        _vote(TX2, 1, false);
        _vote(TX, 1, true);
        _assertState(TX, ITransactionManager.TxState.Committing);
        _assertState(TX2, ITransactionManager.TxState.Aborting);
        _ack(TX2, 1);
        _ack(TX, 1);
        _ack(TX2, 0);
        _assertState(TX2, ITransactionManager.TxState.Aborted);
        _assertState(TX, ITransactionManager.TxState.Committing);
        assertEq(tm.openTransactions(KEY_A, 0, 10)[0], TX);
        _ack(TX, 0);
        _assertState(TX, ITransactionManager.TxState.Committed);
    }
}

/// @notice Fuzz tests: the EIP-712 digest against an independent reference, signature binding (signer,
/// chain id, every signed field), and the boundaries of begin / vote / expire / paging.
contract TransactionManager2pcFuzzTest is TransactionManager2pcBase {
    uint256 internal constant MAX_S = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    // ================================================================ generators

    function _randomBytes(uint256 seed, uint256 length) internal pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i; i < length; i += 32) {
            bytes32 word = keccak256(abi.encode(seed, i));
            for (uint256 j; j < 32 && i + j < length; ++j) {
                out[i + j] = word[j];
            }
        }
    }

    /// @notice Arbitrary steps: any bytes32 segments (the digest validates nothing), ops of 0-200 bytes.
    function _arbitrarySteps(uint256 seed, uint256 count)
        internal
        pure
        returns (ITransactionManager.Step[] memory steps)
    {
        steps = new ITransactionManager.Step[](count);
        for (uint256 i; i < count; ++i) {
            bytes32 h = keccak256(abi.encode(seed, i));
            steps[i] = ITransactionManager.Step({
                zone: keccak256(abi.encode(h, 0)),
                chain: keccak256(abi.encode(h, 1)),
                resource: keccak256(abi.encode(h, 2)),
                op: _randomBytes(uint256(h), uint256(h) % 201)
            });
        }
    }

    /// @notice Valid steps over the fixture's two chains with XaLedger ops.
    function _validSteps(uint256 seed, uint256 count)
        internal
        pure
        returns (ITransactionManager.Step[] memory steps)
    {
        steps = new ITransactionManager.Step[](count);
        for (uint256 i; i < count; ++i) {
            uint256 h = uint256(keccak256(abi.encode(seed, i)));
            bool onA = h % 2 == 0;
            steps[i] = _step(
                onA ? ZONE_A : ZONE_B,
                onA ? CHAIN_A : CHAIN_B,
                _op(onA ? DEBIT : CREDIT, address(uint160(h >> 96)), (h >> 8) % 1e24)
            );
        }
    }

    /// @notice A valid request of USER_1.
    function _validRequest(uint256 seed, uint256 countRaw)
        internal
        view
        returns (ITransactionManager.TxRequest memory)
    {
        return _validRequestOf(USER_1, seed, countRaw);
    }

    /// @notice A valid request of `initiator`: its id bound to `initiator` and the request's nonce.
    function _validRequestOf(address initiator, uint256 seed, uint256 countRaw)
        internal
        view
        returns (ITransactionManager.TxRequest memory)
    {
        uint256 nonce = uint256(keccak256(abi.encode(seed)));
        uint64 deadline = uint64(block.timestamp + 1 + (seed % 7 days));
        return _request(_txIdOf(initiator, nonce), _validSteps(seed, bound(countRaw, 1, 4)), deadline, nonce);
    }

    /// @notice The error begin reports once the request shape checks passed and `recovered` came out of
    /// the signature, for a request `txId` with `nonce` submitted by `submitter`; empty when it would pass
    /// the identity checks.
    function _identityError(bytes32 txId, address recovered, uint256 nonce, address submitter)
        internal
        view
        returns (bytes memory)
    {
        if (recovered == address(0)) return _err(ITransactionManager.TxBadSignature.selector);
        bytes32 expected = _txIdOf(recovered, nonce);
        if (txId != expected) return _notBound(txId, expected);
        if (tm.nonceUsed(recovered, nonce)) {
            return abi.encodeWithSelector(ITransactionManager.TxNonceUsed.selector, recovered, nonce);
        }
        uint64 inst = registry.activeInstitutionOf(recovered, IInstitutionRegistry.Role.User);
        if (inst == 0) return abi.encodeWithSelector(ITransactionManager.TxNotUser.selector, recovered);
        if (registry.activeInstitutionOf(submitter, IInstitutionRegistry.Role.Relayer) != inst) {
            return
                abi.encodeWithSelector(ITransactionManager.TxNotInstitutionRelayer.selector, submitter, inst);
        }
        return "";
    }

    function _boundPk(uint256 pk) internal pure returns (uint256) {
        return bound(pk, 1, SECP256K1_N - 1);
    }

    // ================================================================ EIP-712

    function testFuzz_txRequestDigest_matchesReference(
        bytes32 txId,
        uint64 deadline,
        uint256 nonce,
        uint256 seed,
        uint256 countRaw,
        uint64 chainId
    ) public {
        chainId = uint64(bound(chainId, 1, type(uint64).max));
        vm.chainId(chainId);
        ITransactionManager.TxRequest memory r =
            _request(txId, _arbitrarySteps(seed, bound(countRaw, 0, 17)), deadline, nonce);
        assertEq(tm.txRequestDigest(r), _refDigest(r, chainId, address(tm)), "digest");
        assertEq(tm.DOMAIN_SEPARATOR(), _refDomainSeparator(chainId, address(tm)), "domain");
    }

    function testFuzz_begin_acceptsAnyFreshUserKey(uint256 pk, uint256 seed, uint256 countRaw) public {
        pk = _boundPk(pk);
        address signer = vm.addr(pk);
        (uint64 taken,) = registry.accountOf(signer);
        vm.assume(taken == 0);
        _addAccount(ADMIN_2, signer, IInstitutionRegistry.Role.User);
        _grant(ADMIN_1, signer, ZONE_A, CHAIN_A, W, TWO_PHASE);
        _grant(ADMIN_2, signer, ZONE_B, CHAIN_B, RES, TWO_PHASE);
        ITransactionManager.TxRequest memory r = _validRequestOf(signer, seed, countRaw);
        bytes memory signature = _sign(pk, r);
        assertEq(
            _recover(_refDigest(r, block.chainid, address(tm)), signature), signer, "reference digest signed"
        );
        vm.prank(RELAYER_2);
        tm.begin(r, signature);
        ITransactionManager.Transaction memory t = tm.transaction(r.txId);
        assertEq(t.initiator, signer);
        assertEq(t.institution, INST_2);
        assertEq(t.stepCount, r.steps.length);
        assertTrue(tm.nonceUsed(signer, r.nonce), "nonce");
    }

    function testFuzz_begin_wrongSignerRejected(uint256 pk, uint256 seed, uint256 countRaw) public {
        pk = _boundPk(pk);
        address signer = vm.addr(pk);
        vm.assume(signer != USER_1);
        ITransactionManager.TxRequest memory r = _validRequest(seed, countRaw);
        bytes memory signature = _sign(pk, r);
        bytes memory err = _identityError(r.txId, signer, r.nonce, RELAYER_1);
        assertTrue(err.length != 0, "rejected");
        // vm.sign yields canonical signatures: the signer is recovered, and it is not USER_1.
        _expectBeginRevert(r, signature, RELAYER_1, signer, err);
    }

    function testFuzz_begin_arbitrarySignatureBytesRejected(bytes32 rr, bytes32 ss, uint8 v, uint256 seed)
        public
    {
        ITransactionManager.TxRequest memory r = _validRequest(seed, 2);
        bytes memory signature = abi.encodePacked(rr, ss, v);
        bytes memory err;
        if ((v != 27 && v != 28) || uint256(ss) > MAX_S) {
            err = _err(ITransactionManager.TxBadSignature.selector);
        } else {
            address who = ecrecover(tm.txRequestDigest(r), v, rr, ss);
            vm.assume(who != USER_1);
            err = _identityError(r.txId, who, r.nonce, RELAYER_1);
        }
        _expectBeginRevert(r, signature, RELAYER_1, USER_1, err);
    }

    function testFuzz_begin_signatureLengthOtherThan65Rejected(uint256 length, uint256 seed) public {
        length = bound(length, 0, 200);
        vm.assume(length != 65);
        ITransactionManager.TxRequest memory r = _validRequest(seed, 2);
        bytes memory good = _sign(USER_1_PK, r);
        // the good signature padded or truncated, else random bytes
        bytes memory signature = _randomBytes(seed, length);
        for (uint256 i; i < length && i < 65; ++i) {
            signature[i] = good[i];
        }
        _expectBeginRevert(r, signature, RELAYER_1, USER_1, _err(ITransactionManager.TxBadSignature.selector));
    }

    function testFuzz_begin_malleatedSignatureRejected(uint256 pk, uint256 seed) public {
        pk = _boundPk(pk);
        ITransactionManager.TxRequest memory r = _validRequest(seed, 3);
        bytes32 digest = tm.txRequestDigest(r);
        (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(pk, digest);
        bytes memory malleated =
            abi.encodePacked(rr, bytes32(SECP256K1_N - uint256(ss)), v == 27 ? uint8(28) : uint8(27));
        assertEq(_recover(digest, malleated), vm.addr(pk), "same signer for ecrecover");
        _expectBeginRevert(
            r, malleated, RELAYER_1, vm.addr(pk), _err(ITransactionManager.TxBadSignature.selector)
        );
    }

    function testFuzz_begin_wrongChainIdRejected(uint64 otherChainId, uint256 seed, uint256 countRaw) public {
        uint256 here = block.chainid;
        otherChainId = uint64(bound(otherChainId, 1, type(uint64).max));
        vm.assume(otherChainId != here);
        ITransactionManager.TxRequest memory r = _validRequest(seed, countRaw);
        // USER_1 signs the digest of another chain (a fork, a test network).
        bytes memory signature = _sig(USER_1_PK, _refDigest(r, otherChainId, address(tm)));
        address who = _recover(tm.txRequestDigest(r), signature);
        assertTrue(who != USER_1, "not USER_1 here");
        _expectBeginRevert(r, signature, RELAYER_1, who, _identityError(r.txId, who, r.nonce, RELAYER_1));
        // On the chain it was made for, the same signature is USER_1's.
        vm.chainId(otherChainId);
        _nonceOf[r.txId] = r.nonce;
        vm.prank(RELAYER_1);
        tm.begin(r, signature);
        assertEq(tm.transaction(r.txId).initiator, USER_1);
    }

    /// @notice Any single signed field changed after signing: the contract recovers another signer.
    function testFuzz_begin_mutatedFieldRejected(
        uint256 seed,
        uint256 countRaw,
        uint8 field,
        uint256 which,
        bytes32 noise
    ) public {
        ITransactionManager.TxRequest memory r = _validRequest(seed, countRaw);
        bytes memory signature = _sign(USER_1_PK, r);
        ITransactionManager.TxRequest memory m = _deepCopy(r);
        field = uint8(bound(field, 0, 6));
        ITransactionManager.Step memory s = m.steps[bound(which, 0, m.steps.length - 1)];
        if (field == 0) {
            vm.assume(noise != bytes32(0) && noise != r.txId);
            m.txId = noise;
        } else if (field == 1) {
            vm.assume(noise != s.zone);
            s.zone = noise;
        } else if (field == 2) {
            vm.assume(noise != s.chain);
            s.chain = noise;
        } else if (field == 3) {
            vm.assume(noise != s.resource);
            s.resource = noise;
        } else if (field == 4) {
            // flip some bits of one byte, or append one byte
            uint256 at = uint256(noise) % (s.op.length + 1);
            if (at == s.op.length) s.op = bytes.concat(s.op, noise[0]);
            else s.op[at] = s.op[at] ^ bytes1(uint8(bound(uint8(noise[1]), 1, 255)));
        } else if (field == 5) {
            m.deadline = uint64(bound(uint256(noise), block.timestamp + 1, block.timestamp + 7 days));
            vm.assume(m.deadline != r.deadline);
        } else {
            vm.assume(uint256(noise) != r.nonce);
            m.nonce = uint256(noise);
        }
        bytes32 digest = _refDigest(m, block.chainid, address(tm));
        assertTrue(digest != _refDigest(r, block.chainid, address(tm)), "mutation changes the digest");
        address who = _recover(digest, signature);
        assertTrue(who != USER_1, "another signer");
        _expectBeginRevert(m, signature, RELAYER_1, who, _identityError(m.txId, who, m.nonce, RELAYER_1));
        // The untouched request with the same signature is accepted.
        _nonceOf[r.txId] = r.nonce;
        vm.prank(RELAYER_1);
        tm.begin(r, signature);
        assertEq(tm.transaction(r.txId).initiator, USER_1);
    }

    /// @notice Whatever id a request carries, begin accepts it only when it is the signer's own for the
    /// request's nonce.
    function testFuzz_begin_onlyTheBoundIdAccepted(bytes32 id, uint256 nonce, uint256 seed, bool useBound)
        public
    {
        ITransactionManager.TxRequest memory r = _validRequest(seed, 2);
        r.nonce = nonce;
        bytes32 bound_ = tm.requestId(USER_1, nonce);
        assertEq(bound_, _txIdOf(USER_1, nonce), "requestId");
        r.txId = useBound ? bound_ : id;
        vm.assume(r.txId != bytes32(0));
        bytes memory signature = _sign(USER_1_PK, r);
        if (r.txId == bound_) {
            vm.prank(RELAYER_1);
            tm.begin(r, signature);
            assertEq(tm.transaction(bound_).initiator, USER_1);
            assertTrue(tm.nonceUsed(USER_1, nonce), "nonce used");
        } else {
            _expectBeginRevert(r, signature, RELAYER_1, USER_1, _notBound(r.txId, bound_));
            assertFalse(tm.nonceUsed(USER_1, nonce), "nonce untouched");
        }
    }

    // ================================================================ begin boundaries

    function testFuzz_begin_deadlineWindow(uint64 deadline, uint256 seed) public {
        ITransactionManager.TxRequest memory r = _validRequest(seed, 2);
        r.deadline = deadline;
        bytes memory signature = _sign(USER_1_PK, r);
        if (deadline > block.timestamp && deadline <= block.timestamp + 7 days) {
            vm.prank(RELAYER_1);
            tm.begin(r, signature);
            assertEq(tm.transaction(r.txId).deadline, deadline);
        } else {
            _expectBeginRevert(
                r,
                signature,
                RELAYER_1,
                USER_1,
                abi.encodeWithSelector(ITransactionManager.TxBadDeadline.selector, deadline, block.timestamp)
            );
        }
    }

    function testFuzz_begin_stepCount(uint256 count, uint256 seed) public {
        count = bound(count, 0, 24);
        ITransactionManager.TxRequest memory r = _validRequest(seed, 1);
        r.steps = _validSteps(seed, count);
        bytes memory signature = _sign(USER_1_PK, r);
        if (count >= 1 && count <= 16) {
            vm.prank(RELAYER_1);
            tm.begin(r, signature);
            assertEq(tm.transaction(r.txId).stepCount, count);
        } else {
            _expectBeginRevert(
                r,
                signature,
                RELAYER_1,
                USER_1,
                abi.encodeWithSelector(ITransactionManager.TxBadStepCount.selector, count)
            );
        }
    }

    function testFuzz_begin_opLength(uint256 length, uint256 seed, uint256 which) public {
        length = bound(length, 0, 1100);
        ITransactionManager.TxRequest memory r = _validRequest(seed, 3);
        uint8 step = uint8(bound(which, 0, r.steps.length - 1));
        r.steps[step].op = _randomBytes(seed, length);
        bytes memory signature = _sign(USER_1_PK, r);
        if (length >= 1 && length <= 1024) {
            vm.prank(RELAYER_1);
            tm.begin(r, signature);
            assertEq(tm.stepOf(r.txId, step).opHash, keccak256(r.steps[step].op));
        } else {
            _expectBeginRevert(
                r,
                signature,
                RELAYER_1,
                USER_1,
                abi.encodeWithSelector(ITransactionManager.TxBadOpLength.selector, step, length)
            );
        }
    }

    // ================================================================ vote / expire / ack

    function testFuzz_vote_onlyBeforeDeadline(uint256 elapsed, uint256 seed) public {
        ITransactionManager.TxRequest memory r = _validRequest(seed, 2);
        _beginAs(r, USER_1_PK, RELAYER_1);
        elapsed = bound(elapsed, 0, 2 * (r.deadline - block.timestamp));
        vm.warp(block.timestamp + elapsed);
        address relayer = _stepRelayer(r.txId, 0);
        if (block.timestamp < r.deadline) {
            vm.prank(relayer);
            tm.vote(r.txId, 0, true, "");
            _assertMasks(r.txId, 1, 1, 0);
        } else {
            _expectVoteRevert(
                relayer,
                r.txId,
                0,
                true,
                "",
                abi.encodeWithSelector(ITransactionManager.TxDeadlinePassed.selector, r.txId, r.deadline)
            );
        }
    }

    function testFuzz_expire_onlyFromDeadline(uint256 elapsed, uint256 seed, address caller) public {
        vm.assume(caller != address(tm)); // its own address means "a report item" to the manager
        ITransactionManager.TxRequest memory r = _validRequest(seed, 2);
        _beginAs(r, USER_1_PK, RELAYER_1);
        elapsed = bound(elapsed, 0, 2 * (r.deadline - block.timestamp));
        vm.warp(block.timestamp + elapsed);
        if (block.timestamp >= r.deadline) {
            vm.prank(caller);
            tm.expire(r.txId);
            _assertState(r.txId, ITransactionManager.TxState.Aborting);
        } else {
            _expectExpireRevert(
                caller,
                r.txId,
                abi.encodeWithSelector(ITransactionManager.TxDeadlineNotReached.selector, r.txId, r.deadline)
            );
        }
    }

    /// @notice Votes in a random order with random outcomes, then acks in a random order: the outcome is
    /// COMMIT exactly when every step voted yes, and the transaction ends final and off every open list.
    function testFuzz_vote_outcomeFollowsVotes(uint256 seed, uint256 countRaw, uint16 noMask) public {
        uint256 count = bound(countRaw, 1, 16);
        ITransactionManager.TxRequest memory r = _validRequest(seed, 1);
        r.steps = _validSteps(seed, count);
        _beginAs(r, USER_1_PK, RELAYER_1);
        uint8[] memory order = _permutation(seed, count);
        bool aborted;
        for (uint256 i; i < count; ++i) {
            uint8 step = order[i];
            bool ok = (noMask >> step) & 1 == 0;
            _vote(r.txId, step, ok);
            if (!ok) {
                aborted = true;
                break;
            }
        }
        _assertState(
            r.txId, aborted ? ITransactionManager.TxState.Aborting : ITransactionManager.TxState.Committing
        );
        order = _permutation(seed >> 1, count);
        for (uint256 i; i < count; ++i) {
            _ack(r.txId, order[i]);
        }
        _assertState(
            r.txId, aborted ? ITransactionManager.TxState.Aborted : ITransactionManager.TxState.Committed
        );
        ITransactionManager.Transaction memory t = tm.transaction(r.txId);
        uint16 all = uint16((uint256(1) << count) - 1);
        assertEq(t.ackedMask, all, "acked");
        assertTrue(t.yesMask & ~t.votedMask == 0, "yes within voted");
        assertEq(aborted, t.yesMask != all, "commit iff all yes");
        assertEq(tm.openTransactionCount(KEY_A) + tm.openTransactionCount(KEY_B), 0, "off the lists");
    }

    function _permutation(uint256 seed, uint256 n) internal pure returns (uint8[] memory p) {
        p = new uint8[](n);
        for (uint256 i; i < n; ++i) {
            p[i] = uint8(i);
        }
        for (uint256 i = n; i > 1; --i) {
            uint256 j = uint256(keccak256(abi.encode(seed, i))) % i;
            (p[i - 1], p[j]) = (p[j], p[i - 1]);
        }
    }

    function testFuzz_ack_onlyServingRelayerOfTheStep(address caller, uint256 seed) public {
        // The manager's own address means "a report item" to it; no account can send from it.
        vm.assume(caller != address(tm));
        ITransactionManager.TxRequest memory r = _validRequest(seed, 4);
        _beginAs(r, USER_1_PK, RELAYER_1);
        _vote(r.txId, 0, false);
        for (uint8 i; i < r.steps.length; ++i) {
            bytes32 key = tm.stepOf(r.txId, i).chainKey;
            if (chains.isServingRelayerByKey(key, caller)) continue;
            _expectAckRevert(
                caller,
                r.txId,
                i,
                "",
                abi.encodeWithSelector(ITransactionManager.TxNotServingRelayer.selector, r.txId, i, caller)
            );
        }
    }

    // ================================================================ paging

    function testFuzz_openTransactions_pageIsASliceOfTheList(uint256 offset, uint256 limit, uint256 n)
        public
    {
        n = bound(n, 0, 12);
        for (uint256 i; i < n; ++i) {
            _beginAs(_validRequest(i, 1), USER_1_PK, RELAYER_1);
        }
        bytes32 key = KEY_A;
        uint256 length = tm.openTransactionCount(key);
        bytes32[] memory all = tm.openTransactions(key, 0, MAX_PAGE);
        assertEq(all.length, length, "one page holds all");
        offset = bound(offset, 0, 20);
        bytes32[] memory page = tm.openTransactions(key, offset, limit);
        uint256 capped = limit > MAX_PAGE ? MAX_PAGE : limit;
        uint256 expected = offset >= length ? 0 : (length - offset < capped ? length - offset : capped);
        assertEq(page.length, expected, "page length");
        for (uint256 i; i < page.length; ++i) {
            assertEq(page[i], all[offset + i], "slice");
        }
    }
}
