// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {HtlcFixture} from "./TransactionManagerHtlcBase.sol";
import {Vm} from "./utils/Vm.sol";
import {IInstitutionRegistry} from "../src/interfaces/IInstitutionRegistry.sol";
import {ITransactionManager} from "../src/interfaces/ITransactionManager.sol";
import {IPath} from "../src/libraries/IPath.sol";
import {ResourceOps} from "../src/libraries/ResourceOps.sol";

/// @notice Unit, flow and fuzz tests of the HTLC half of the TransactionManager.
contract TransactionManagerHtlcTest is HtlcFixture {
    ITransactionManager.SwapState internal constant S_NONE = ITransactionManager.SwapState.None;
    ITransactionManager.SwapState internal constant S_PROPOSED = ITransactionManager.SwapState.Proposed;
    ITransactionManager.SwapState internal constant S_ACCEPTED = ITransactionManager.SwapState.Accepted;
    ITransactionManager.SwapState internal constant S_CLOSED = ITransactionManager.SwapState.Closed;
    ITransactionManager.SwapState internal constant S_EXPIRED = ITransactionManager.SwapState.Expired;
    ITransactionManager.LegState internal constant L_NONE = ITransactionManager.LegState.None;
    ITransactionManager.LegState internal constant L_LOCKED = ITransactionManager.LegState.Locked;
    ITransactionManager.LegState internal constant L_UNLOCKED = ITransactionManager.LegState.Unlocked;
    ITransactionManager.LegState internal constant L_REFUNDED = ITransactionManager.LegState.Refunded;
    ITransactionManager.LegState internal constant L_VOID = ITransactionManager.LegState.Void;

    // Independent EIP-712 definitions (written out here, not read from the contract).
    bytes32 internal constant REF_LEG_TYPEHASH = keccak256(
        "Leg(bytes32 zone,bytes32 chain,bytes32 resource,address sender,address recipient,uint256 amount,uint64 timelock)"
    );
    bytes32 internal constant REF_SWAP_TYPEHASH = keccak256(
        "SwapRequest(bytes32 swapId,bytes32 hashlock,Leg legA,Leg legB,uint256 nonce)Leg(bytes32 zone,bytes32 chain,bytes32 resource,address sender,address recipient,uint256 amount,uint64 timelock)"
    );
    bytes32 internal constant REF_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    // ================================================================ helpers

    function _refDomain(uint256 chainId, address verifying) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                REF_DOMAIN_TYPEHASH,
                keccak256("crossgov.TransactionManager"),
                keccak256("1"),
                chainId,
                verifying
            )
        );
    }

    function _refLegHash(ITransactionManager.Leg memory l) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                REF_LEG_TYPEHASH, l.zone, l.chain, l.resource, l.sender, l.recipient, l.amount, l.timelock
            )
        );
    }

    function _refDigest(ITransactionManager.SwapRequest memory r, uint256 chainId, address verifying)
        internal
        pure
        returns (bytes32)
    {
        bytes32 structHash = keccak256(
            abi.encode(
                REF_SWAP_TYPEHASH, r.swapId, r.hashlock, _refLegHash(r.legA), _refLegHash(r.legB), r.nonce
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", _refDomain(chainId, verifying), structHash));
    }

    function _err(bytes4 selector) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector);
    }

    function _proposeReverts(
        ITransactionManager.SwapRequest memory r,
        bytes memory sig,
        address submitter,
        bytes memory err
    ) internal {
        bytes32 before = keccak256(
            abi.encode(_tmState(r.swapId), tm.nonceUsed(r.legA.sender, r.nonce), tm.openSwapCount(KEY_A))
        );
        vm.prank(submitter);
        vm.expectRevert(err);
        tm.proposeSwap(r, sig);
        bytes32 after_ = keccak256(
            abi.encode(_tmState(r.swapId), tm.nonceUsed(r.legA.sender, r.nonce), tm.openSwapCount(KEY_A))
        );
        assertEq(after_, before, "rejected proposal changed state");
    }

    /// A rejected proposal of a fresh id: nothing stored, nothing listed, nonce still free.
    function _proposeRevertsFresh(ITransactionManager.SwapRequest memory r, bytes memory err) internal {
        bytes memory sig = _signRequest(PK_INIT, r);
        _proposeReverts(r, sig, RELAYER_1, err);
        _assertSwapState(r.swapId, S_NONE);
        assertEq(tm.openSwapCount(KEY_A), 0, "listed on A");
        assertEq(tm.openSwapCount(KEY_B), 0, "listed on B");
        assertFalse(tm.nonceUsed(USER_1, r.nonce), "nonce consumed");
    }

    function _acceptReverts(address caller, bytes32 id, bytes memory sig, bytes memory err) internal {
        bytes32 before = _tmState(id);
        vm.prank(caller);
        vm.expectRevert(err);
        tm.acceptSwap(id, sig);
        assertEq(_tmState(id), before, "rejected accept changed state");
    }

    function _lockReverts(address caller, bytes32 id, uint8 leg, bytes memory evidence, bytes memory err)
        internal
    {
        bytes32 before = _tmState(id);
        vm.prank(caller);
        vm.expectRevert(err);
        tm.recordLegLocked(id, leg, evidence);
        assertEq(_tmState(id), before, "rejected lock changed state");
    }

    function _unlockReverts(
        address caller,
        bytes32 id,
        uint8 leg,
        bytes32 secret,
        bytes memory evidence,
        bytes memory err
    ) internal {
        bytes32 before = _tmState(id);
        vm.prank(caller);
        vm.expectRevert(err);
        tm.recordLegUnlocked(id, leg, secret, evidence);
        assertEq(_tmState(id), before, "rejected unlock changed state");
    }

    function _refundReverts(address caller, bytes32 id, uint8 leg, bytes memory evidence, bytes memory err)
        internal
    {
        bytes32 before = _tmState(id);
        vm.prank(caller);
        vm.expectRevert(err);
        tm.recordLegRefunded(id, leg, evidence);
        assertEq(_tmState(id), before, "rejected refund changed state");
    }

    function _voidReverts(address caller, bytes32 id, uint8 leg, bytes memory evidence, bytes memory err)
        internal
    {
        bytes32 before = _tmState(id);
        vm.prank(caller);
        vm.expectRevert(err);
        tm.recordLegVoid(id, leg, evidence);
        assertEq(_tmState(id), before, "rejected void changed state");
    }

    /// Every leg record (lock, unlock, refund, void) of either leg by its serving relayer reverts with `err`.
    function _allRecordsRevert(bytes32 id, bytes memory err) internal {
        for (uint8 leg; leg < 2; ++leg) {
            address relayer = _relayerOf(leg);
            _lockReverts(relayer, id, leg, "", err);
            _unlockReverts(relayer, id, leg, SECRET, "", err);
            _refundReverts(relayer, id, leg, "", err);
            _voidReverts(relayer, id, leg, "", err);
        }
    }

    function _notExpirable(bytes32 id) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITransactionManager.SwapNotExpirable.selector, id);
    }

    /// The default swap proposed, then expired at leg B's timelock without acceptance.
    function _expired() internal returns (ITransactionManager.SwapRequest memory r) {
        r = _request();
        _propose(r);
        vm.warp(r.legB.timelock);
        tm.expireSwap(r.swapId);
    }

    function _assertClosedAndUnlisted(
        bytes32 id,
        ITransactionManager.LegState a,
        ITransactionManager.LegState b
    ) internal view {
        _assertSwapState(id, S_CLOSED);
        _assertLegs(id, a, b);
        assertFalse(_isOpenOn(KEY_A, id), "still listed on A");
        assertFalse(_isOpenOn(KEY_B, id), "still listed on B");
    }

    function _assertAcceptedAndListed(
        bytes32 id,
        ITransactionManager.LegState a,
        ITransactionManager.LegState b
    ) internal view {
        _assertSwapState(id, S_ACCEPTED);
        _assertLegs(id, a, b);
        assertTrue(_isOpenOn(KEY_A, id), "unlisted from A");
        assertTrue(_isOpenOn(KEY_B, id), "unlisted from B");
    }

    function _expireReverts(bytes32 id, bytes memory err) internal {
        bytes32 before = _tmState(id);
        vm.prank(STRANGER);
        vm.expectRevert(err);
        tm.expireSwap(id);
        assertEq(_tmState(id), before, "rejected expiry changed state");
    }

    function _notInProgress(bytes32 id, ITransactionManager.SwapState state)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(ITransactionManager.SwapNotInProgress.selector, id, state);
    }

    function _legStateErr(bytes32 id, uint8 leg, ITransactionManager.LegState state)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(ITransactionManager.SwapLegState.selector, id, leg, state);
    }

    function _notServing(bytes32 id, uint8 leg, address caller) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITransactionManager.SwapNotServingRelayer.selector, id, leg, caller);
    }

    function _setLegPath(ITransactionManager.SwapRequest memory r, uint8 leg, uint8 pos, bytes32 seg)
        internal
        pure
    {
        ITransactionManager.Leg memory l = leg == 0 ? r.legA : r.legB;
        if (pos == 0) l.zone = seg;
        else if (pos == 1) l.chain = seg;
        else l.resource = seg;
    }

    function _expectBadPath(uint8 leg, uint8 pos) internal {
        bytes32[6] memory bad = [
            bytes32(0),
            bytes32("*"),
            bytes32("bad.seg"),
            bytes32("bad seg"),
            bytes32(uint256(0x6100000000000000000000000000000000000000000000000000000000000061)), // "a\0...\0a"
            bytes32(uint256(1)) // leading zero byte
        ];
        for (uint256 i; i < bad.length; ++i) {
            ITransactionManager.SwapRequest memory r = _request();
            _setLegPath(r, leg, pos, bad[i]);
            _proposeRevertsFresh(
                r, abi.encodeWithSelector(ITransactionManager.SwapBadPath.selector, leg, pos)
            );
        }
    }

    // ================================================================ proposeSwap

    function test_proposeSwap_storesSwap() public {
        ITransactionManager.SwapRequest memory r = _request();
        vm.roll(1234);
        _propose(r);
        ITransactionManager.Swap memory s = tm.swap(SWAP_ID);
        assertEq(s.initiator, USER_1, "initiator");
        assertEq(s.counterparty, USER_2, "counterparty");
        assertEq(uint256(s.timelockA), r.legA.timelock, "TA");
        assertEq(uint256(s.timelockB), r.legB.timelock, "TB");
        assertEq(uint256(s.state), uint256(S_PROPOSED), "state");
        assertEq(uint256(s.legA), uint256(L_NONE), "leg A");
        assertEq(uint256(s.legB), uint256(L_NONE), "leg B");
        assertEq(uint256(s.proposedBlock), 1234, "block");
        assertEq(s.hashlock, _hashlock(SECRET), "hashlock");
        assertEq(s.chainKeyA, KEY_A, "key A");
        assertEq(s.chainKeyB, KEY_B, "key B");
        assertEq(s.digest, tm.swapRequestDigest(r), "digest");
        assertEq(s.secret, bytes32(0), "secret");
    }

    function test_proposeSwap_listsOnBothChainsAndUsesNonce() public {
        _propose(_request());
        assertEq(tm.openSwapCount(KEY_A), 1, "count A");
        assertEq(tm.openSwapCount(KEY_B), 1, "count B");
        assertTrue(_isOpenOn(KEY_A, SWAP_ID), "open on A");
        assertTrue(_isOpenOn(KEY_B, SWAP_ID), "open on B");
        assertTrue(tm.nonceUsed(USER_1, NONCE), "nonce used");
        assertFalse(tm.nonceUsed(USER_2, NONCE), "counterparty nonce untouched");
    }

    function test_proposeSwap_emitsSwapProposed() public {
        ITransactionManager.SwapRequest memory r = _request();
        bytes memory sig = _signRequest(PK_INIT, r);
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.SwapProposed(SWAP_ID, USER_1, USER_2, r);
        vm.prank(RELAYER_1);
        tm.proposeSwap(r, sig);
    }

    function test_proposeSwap_acceptsTimelockBoundaries() public {
        // TB = now + 1, TA = TB + margin + 1 (tightest), then TA = now + MAX_SWAP_DURATION (furthest).
        ITransactionManager.SwapRequest memory r = _requestFor(1);
        r.legB.timelock = uint64(block.timestamp + 1);
        r.legA.timelock = r.legB.timelock + MARGIN + 1;
        _propose(r);
        _assertSwapState(r.swapId, S_PROPOSED);
        r = _requestFor(2);
        r.legA.timelock = uint64(block.timestamp + MAX_SWAP_DURATION);
        _propose(r);
        _assertSwapState(r.swapId, S_PROPOSED);
    }

    function test_proposeSwap_revertsOnZeroId() public {
        ITransactionManager.SwapRequest memory r = _requestWith(bytes32(0), NONCE);
        _proposeRevertsFresh(r, _err(ITransactionManager.SwapZeroId.selector));
    }

    function test_proposeSwap_revertsOnExistingId() public {
        _propose(_request());
        // Same id, fresh nonce, valid signature: still rejected, the stored swap untouched.
        ITransactionManager.SwapRequest memory r = _requestWith(SWAP_ID, NONCE + 1);
        r.legA.amount = 999;
        bytes memory sig = _signRequest(PK_INIT, r);
        _proposeReverts(
            r, sig, RELAYER_1, abi.encodeWithSelector(ITransactionManager.SwapAlreadyExists.selector, SWAP_ID)
        );
        assertFalse(tm.nonceUsed(USER_1, NONCE + 1), "second nonce consumed");
        assertEq(tm.openSwapCount(KEY_A), 1, "listed twice");
    }

    function test_proposeSwap_revertsOnZeroHashlock() public {
        ITransactionManager.SwapRequest memory r = _request();
        r.hashlock = bytes32(0);
        _proposeRevertsFresh(r, _err(ITransactionManager.SwapZeroHashlock.selector));
    }

    function _badTimelocks(ITransactionManager.SwapRequest memory r) internal view returns (bytes memory) {
        return abi.encodeWithSelector(
            ITransactionManager.SwapBadTimelocks.selector, r.legA.timelock, r.legB.timelock, block.timestamp
        );
    }

    function test_proposeSwap_revertsWhenTimelockBNotInFuture() public {
        ITransactionManager.SwapRequest memory r = _request();
        r.legB.timelock = uint64(block.timestamp); // TB == now
        _proposeRevertsFresh(r, _badTimelocks(r));
        r.legB.timelock = uint64(block.timestamp - 1 hours); // TB in the past
        _proposeRevertsFresh(r, _badTimelocks(r));
        r.legB.timelock = 0;
        _proposeRevertsFresh(r, _badTimelocks(r));
    }

    function test_proposeSwap_revertsWhenMarginTooSmall() public {
        ITransactionManager.SwapRequest memory r = _request();
        r.legA.timelock = r.legB.timelock + MARGIN; // TA == TB + margin
        _proposeRevertsFresh(r, _badTimelocks(r));
        r.legA.timelock = r.legB.timelock; // TA == TB
        _proposeRevertsFresh(r, _badTimelocks(r));
        r.legA.timelock = r.legB.timelock - 1; // TA < TB
        _proposeRevertsFresh(r, _badTimelocks(r));
    }

    function test_proposeSwap_revertsWhenTimelockATooFar() public {
        ITransactionManager.SwapRequest memory r = _request();
        r.legA.timelock = uint64(block.timestamp + MAX_SWAP_DURATION + 1);
        _proposeRevertsFresh(r, _badTimelocks(r));
        r.legA.timelock = type(uint64).max;
        _proposeRevertsFresh(r, _badTimelocks(r));
    }

    /// TB + margin must not overflow into a panic: a TB near 2^64 is a bad timelock like any other.
    function test_proposeSwap_revertsWithCustomErrorWhenTimelockBNearUint64Max() public {
        ITransactionManager.SwapRequest memory r = _request();
        r.legB.timelock = type(uint64).max;
        _proposeRevertsFresh(r, _badTimelocks(r));
        r.legB.timelock = type(uint64).max - MARGIN + 1;
        _proposeRevertsFresh(r, _badTimelocks(r));
    }

    function test_proposeSwap_revertsOnBadPathLegAZone() public {
        _expectBadPath(0, 0);
    }

    function test_proposeSwap_revertsOnBadPathLegAChain() public {
        _expectBadPath(0, 1);
    }

    function test_proposeSwap_revertsOnBadPathLegAResource() public {
        _expectBadPath(0, 2);
    }

    function test_proposeSwap_revertsOnBadPathLegBZone() public {
        _expectBadPath(1, 0);
    }

    function test_proposeSwap_revertsOnBadPathLegBChain() public {
        _expectBadPath(1, 1);
    }

    function test_proposeSwap_revertsOnBadPathLegBResource() public {
        _expectBadPath(1, 2);
    }

    function test_proposeSwap_revertsOnBadPathReportsFirstPosition() public {
        ITransactionManager.SwapRequest memory r = _request();
        r.legA.chain = "*";
        r.legA.resource = "*";
        r.legB.zone = bytes32(0);
        _proposeRevertsFresh(
            r, abi.encodeWithSelector(ITransactionManager.SwapBadPath.selector, uint8(0), uint8(1))
        );
    }

    function test_proposeSwap_revertsWhenChainANotAdmitted() public {
        ITransactionManager.SwapRequest memory r = _request();
        r.legA.zone = "zoneX";
        _proposeRevertsFresh(
            r,
            abi.encodeWithSelector(
                ITransactionManager.SwapChainNotActive.selector, uint8(0), bytes32("zoneX"), CHAIN_A
            )
        );
    }

    function test_proposeSwap_revertsWhenChainBNotAdmitted() public {
        ITransactionManager.SwapRequest memory r = _request();
        r.legB.chain = "chainX";
        _proposeRevertsFresh(
            r,
            abi.encodeWithSelector(
                ITransactionManager.SwapChainNotActive.selector, uint8(1), ZONE_B, bytes32("chainX")
            )
        );
    }

    function test_proposeSwap_revertsWhenChainBRetired() public {
        _pass(address(chains), abi.encodeCall(chains.retireChain, (ZONE_B, CHAIN_B)));
        _proposeRevertsFresh(
            _request(),
            abi.encodeWithSelector(ITransactionManager.SwapChainNotActive.selector, uint8(1), ZONE_B, CHAIN_B)
        );
    }

    function test_proposeSwap_revertsOnZeroAmountLegA() public {
        ITransactionManager.SwapRequest memory r = _request();
        r.legA.amount = 0;
        _proposeRevertsFresh(r, abi.encodeWithSelector(ITransactionManager.SwapZeroAmount.selector, uint8(0)));
    }

    function test_proposeSwap_revertsOnZeroAmountLegB() public {
        ITransactionManager.SwapRequest memory r = _request();
        r.legB.amount = 0;
        _proposeRevertsFresh(r, abi.encodeWithSelector(ITransactionManager.SwapZeroAmount.selector, uint8(1)));
    }

    function test_proposeSwap_revertsOnZeroAddressLegA() public {
        ITransactionManager.SwapRequest memory r = _request();
        r.legA.recipient = address(0);
        _proposeRevertsFresh(
            r, abi.encodeWithSelector(ITransactionManager.SwapZeroAddress.selector, uint8(0))
        );
        r = _request();
        r.legA.sender = address(0);
        _proposeRevertsFresh(
            r, abi.encodeWithSelector(ITransactionManager.SwapZeroAddress.selector, uint8(0))
        );
    }

    function test_proposeSwap_revertsOnZeroAddressLegB() public {
        ITransactionManager.SwapRequest memory r = _request();
        r.legB.recipient = address(0);
        _proposeRevertsFresh(
            r, abi.encodeWithSelector(ITransactionManager.SwapZeroAddress.selector, uint8(1))
        );
        r = _request();
        r.legB.sender = address(0);
        _proposeRevertsFresh(
            r, abi.encodeWithSelector(ITransactionManager.SwapZeroAddress.selector, uint8(1))
        );
    }

    function test_proposeSwap_revertsOnMalformedSignature() public {
        ITransactionManager.SwapRequest memory r = _request();
        bytes memory good = _signRequest(PK_INIT, r);
        (bytes32 sr, bytes32 ss) = abi.decode(good, (bytes32, bytes32));
        uint8 v = uint8(good[64]);
        bytes memory err = _err(ITransactionManager.SwapBadSignature.selector);

        _proposeReverts(r, "", RELAYER_1, err);
        _proposeReverts(r, abi.encodePacked(sr, ss), RELAYER_1, err); // 64 bytes
        _proposeReverts(r, abi.encodePacked(good, uint8(0)), RELAYER_1, err); // 66 bytes
        _proposeReverts(r, abi.encodePacked(sr, ss, uint8(v - 27)), RELAYER_1, err); // v in {0, 1}
        _proposeReverts(r, abi.encodePacked(sr, ss, uint8(29)), RELAYER_1, err);
        // The malleable twin (n - s, flipped v) recovers to the same signer but is not canonical.
        _proposeReverts(
            r, abi.encodePacked(sr, bytes32(N - uint256(ss)), v == 27 ? uint8(28) : uint8(27)), RELAYER_1, err
        );
        // r = 0 does not recover.
        _proposeReverts(r, abi.encodePacked(bytes32(0), ss, v), RELAYER_1, err);
        assertFalse(tm.nonceUsed(USER_1, NONCE), "nonce consumed");
        _assertSwapState(SWAP_ID, S_NONE);
    }

    function test_proposeSwap_revertsWhenSignedByCounterparty() public {
        ITransactionManager.SwapRequest memory r = _request();
        bytes memory sig = _signRequest(PK_CP, r);
        _proposeReverts(
            r,
            sig,
            RELAYER_1,
            abi.encodeWithSelector(ITransactionManager.SwapWrongSigner.selector, USER_1, USER_2)
        );
        _assertSwapState(SWAP_ID, S_NONE);
    }

    function test_proposeSwap_revertsOnUsedNonce() public {
        // 2PC requests and swaps share one nonce space: a transaction of USER_1 took NONCE, so the swap
        // under the very same id (free in the swap half) is refused by the nonce.
        _beginTransactionWithNonce(NONCE);
        ITransactionManager.SwapRequest memory r = _request();
        bytes memory sig = _signRequest(PK_INIT, r);
        _proposeReverts(
            r,
            sig,
            RELAYER_1,
            abi.encodeWithSelector(ITransactionManager.SwapNonceUsed.selector, USER_1, NONCE)
        );
        _assertSwapState(r.swapId, S_NONE);
        // A swap's nonce took its id: the same request again is a duplicate.
        r = _requestFor(NONCE + 1);
        _propose(r);
        _proposeReverts(
            r,
            _signRequest(PK_INIT, r),
            RELAYER_1,
            abi.encodeWithSelector(ITransactionManager.SwapAlreadyExists.selector, r.swapId)
        );
    }

    /// USER_1 (granted TWO_PHASE on chain A for the occasion) begins a one-step transaction with `nonce`.
    function _beginTransactionWithNonce(uint256 nonce) internal returns (bytes32 txId) {
        vm.prank(ADMIN_1);
        perms.grantToAccount(USER_1, ZONE_A, CHAIN_A, W, ResourceOps.TWO_PHASE);
        ITransactionManager.Step[] memory steps = new ITransactionManager.Step[](1);
        steps[0] = ITransactionManager.Step(ZONE_A, CHAIN_A, ASSET, hex"01");
        txId = _requestIdOf(USER_1, nonce);
        ITransactionManager.TxRequest memory t = ITransactionManager.TxRequest({
            txId: txId, steps: steps, deadline: uint64(block.timestamp + 1 hours), nonce: nonce
        });
        bytes memory sig = _sign(PK_INIT, tm.txRequestDigest(t));
        vm.prank(RELAYER_1);
        tm.begin(t, sig);
        assertTrue(tm.nonceUsed(USER_1, nonce), "nonce used by the transaction");
    }

    // ---------------------------------------------------------------- proposeSwap: bound ids

    function _notBound(bytes32 id, bytes32 expected) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITransactionManager.SwapIdNotBound.selector, id, expected);
    }

    /// The counterparty saw the initiator's signed proposal in the pool and proposes a swap of its own
    /// under that id first (itself as leg A's sender, its own nonce or the initiator's): refused, and the
    /// genuine proposal still goes through.
    function test_proposeSwap_revertsWhenIdSquatted() public {
        ITransactionManager.SwapRequest memory genuine = _request();
        bytes memory genuineSig = _signRequest(PK_INIT, genuine);

        // The squatter pays on chain B and is paid on chain A, with timelocks the rule accepts.
        ITransactionManager.SwapRequest memory squat = _request();
        squat.legA = ITransactionManager.Leg(ZONE_B, CHAIN_B, ASSET, USER_2, USER_1, 1, genuine.legA.timelock);
        squat.legB = ITransactionManager.Leg(ZONE_A, CHAIN_A, ASSET, USER_1, USER_2, 1, genuine.legB.timelock);
        uint256[2] memory nonces = [uint256(99), NONCE];
        for (uint256 i; i < nonces.length; ++i) {
            squat.nonce = nonces[i];
            _proposeReverts(
                squat,
                _signRequest(PK_CP, squat),
                RELAYER_2,
                _notBound(SWAP_ID, _requestIdOf(USER_2, nonces[i]))
            );
        }
        assertFalse(tm.nonceUsed(USER_2, 99) || tm.nonceUsed(USER_2, NONCE), "squatter's nonces untouched");
        _assertSwapState(SWAP_ID, S_NONE);

        vm.prank(RELAYER_1);
        tm.proposeSwap(genuine, genuineSig);
        assertEq(tm.swap(SWAP_ID).initiator, USER_1, "the id is the initiator's");
    }

    function test_proposeSwap_revertsWhenIdIsNotTheRequestsOwn() public {
        bytes32 other = keccak256("swap-1");
        _proposeRevertsFresh(_requestWith(other, NONCE), _notBound(other, SWAP_ID));
        // The initiator's own id of another nonce is not this request's either.
        bytes32 next = _requestIdOf(USER_1, NONCE + 1);
        _proposeRevertsFresh(_requestWith(next, NONCE), _notBound(next, SWAP_ID));
        // Bound to the counterparty rather than the initiator.
        bytes32 cp = _requestIdOf(USER_2, NONCE);
        _proposeRevertsFresh(_requestWith(cp, NONCE), _notBound(cp, SWAP_ID));
    }

    /// The binding is checked right after the signer: a wrong signer is reported first, the nonce, the
    /// users and the submitter after it.
    function test_proposeSwap_checksIdAfterSignerAndBeforeNonceAndIdentity() public {
        ITransactionManager.SwapRequest memory r = _requestWith(keccak256("unbound"), NONCE);
        _proposeReverts(
            r,
            _signRequest(PK_CP, r),
            RELAYER_1,
            abi.encodeWithSelector(ITransactionManager.SwapWrongSigner.selector, USER_1, USER_2)
        );
        // NONCE used by a transaction, submitted by a stranger, the initiator suspended: still the binding.
        _beginTransactionWithNonce(NONCE);
        _suspend(INST_1);
        _proposeReverts(r, _signRequest(PK_INIT, r), STRANGER, _notBound(r.swapId, SWAP_ID));
    }

    function test_proposeSwap_revertsWhenInitiatorNotUser() public {
        // A key no institution knows, correctly signing as leg A's sender.
        ITransactionManager.SwapRequest memory r = _request();
        r.legA.sender = STRANGER_SIGNER;
        r.swapId = _requestIdOf(STRANGER_SIGNER, NONCE);
        bytes memory sig = _signRequest(PK_STRANGER, r);
        _proposeReverts(
            r,
            sig,
            RELAYER_1,
            abi.encodeWithSelector(ITransactionManager.SwapNotUser.selector, STRANGER_SIGNER)
        );
        _assertSwapState(SWAP_ID, S_NONE);
    }

    function test_proposeSwap_revertsWhenInitiatorInstitutionSuspended() public {
        _suspend(INST_1);
        ITransactionManager.SwapRequest memory r = _request();
        bytes memory sig = _signRequest(PK_INIT, r);
        _proposeReverts(
            r, sig, RELAYER_1, abi.encodeWithSelector(ITransactionManager.SwapNotUser.selector, USER_1)
        );
    }

    function test_proposeSwap_revertsWhenInitiatorNoLongerAccount() public {
        vm.prank(ADMIN_1);
        registry.removeAccount(USER_1);
        _proposeRevertsFresh(
            _request(), abi.encodeWithSelector(ITransactionManager.SwapNotUser.selector, USER_1)
        );
    }

    function test_proposeSwap_revertsWhenSubmitterNotInstitutionRelayer() public {
        ITransactionManager.SwapRequest memory r = _request();
        bytes memory sig = _signRequest(PK_INIT, r);
        address[5] memory submitters = [RELAYER_2, RELAYER_3, ADMIN_1, USER_1, STRANGER];
        for (uint256 i; i < submitters.length; ++i) {
            _proposeReverts(
                r,
                sig,
                submitters[i],
                abi.encodeWithSelector(
                    ITransactionManager.SwapNotInstitutionRelayer.selector, submitters[i], INST_1
                )
            );
        }
        _assertSwapState(SWAP_ID, S_NONE);
        // Any relayer of the initiator's institution may submit, serving or not.
        vm.prank(RELAYER_1B);
        tm.proposeSwap(r, sig);
        _assertSwapState(SWAP_ID, S_PROPOSED);
    }

    function test_proposeSwap_revertsWithoutPermissionOnLegA() public {
        vm.prank(ADMIN_1);
        perms.revokeFromAccount(USER_1, ZONE_A, CHAIN_A, W, HTLC);
        _proposeRevertsFresh(
            _request(),
            abi.encodeWithSelector(ITransactionManager.SwapNoPermission.selector, USER_1, uint8(0))
        );
    }

    function test_proposeSwap_revertsWithoutPermissionOnLegB() public {
        vm.prank(ADMIN_2);
        perms.revokeFromAccount(USER_2, ZONE_B, CHAIN_B, W, HTLC);
        _proposeRevertsFresh(
            _request(),
            abi.encodeWithSelector(ITransactionManager.SwapNoPermission.selector, USER_2, uint8(1))
        );
    }

    function test_proposeSwap_revertsWhenCounterpartyHasNoGrantOnLegB() public {
        // USER_3 holds nothing anywhere.
        ITransactionManager.SwapRequest memory r = _request();
        r.legB.sender = USER_3;
        _proposeRevertsFresh(
            r, abi.encodeWithSelector(ITransactionManager.SwapNoPermission.selector, USER_3, uint8(1))
        );
    }

    function _notUser(address account) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITransactionManager.SwapNotUser.selector, account);
    }

    /// The default request with `counterparty` as leg B's sender (and leg A's recipient).
    function _requestWithCounterparty(address counterparty)
        internal
        view
        returns (ITransactionManager.SwapRequest memory r)
    {
        r = _request();
        r.legB.sender = counterparty;
        r.legA.recipient = counterparty;
    }

    function test_proposeSwap_revertsWhenCounterpartyIsAdmin() public {
        _proposeRevertsFresh(_requestWithCounterparty(ADMIN_2), _notUser(ADMIN_2));
        // Even an admin of the initiator's own institution.
        _proposeRevertsFresh(_requestWithCounterparty(ADMIN_1), _notUser(ADMIN_1));
    }

    function test_proposeSwap_revertsWhenCounterpartyIsRelayer() public {
        // RELAYER_2 serves chain B itself; a relayer is still no user.
        _proposeRevertsFresh(_requestWithCounterparty(RELAYER_2), _notUser(RELAYER_2));
        _proposeRevertsFresh(_requestWithCounterparty(RELAYER_3), _notUser(RELAYER_3));
    }

    function test_proposeSwap_revertsWhenCounterpartyUnregistered() public {
        _proposeRevertsFresh(_requestWithCounterparty(STRANGER_SIGNER), _notUser(STRANGER_SIGNER));
        _proposeRevertsFresh(_requestWithCounterparty(STRANGER), _notUser(STRANGER));
    }

    function test_proposeSwap_revertsWhenCounterpartyNoLongerAccount() public {
        vm.prank(ADMIN_2);
        registry.removeAccount(USER_2);
        _proposeRevertsFresh(_request(), _notUser(USER_2));
    }

    function test_proposeSwap_revertsWhenCounterpartyInstitutionSuspended() public {
        _suspend(INST_2);
        // Chain B stays active (only its relayers lose their role), so the counterparty check is what fails.
        assertTrue(chains.isActiveChain(ZONE_B, CHAIN_B), "chain B still active");
        _proposeRevertsFresh(_request(), _notUser(USER_2));
        // Reinstated: the very same request goes through.
        _pass(address(registry), abi.encodeCall(registry.reinstateInstitution, (INST_2)));
        _propose(_request());
        _assertSwapState(SWAP_ID, S_PROPOSED);
    }

    function test_proposeSwap_checksCounterpartyAfterSubmitterAndBeforePermissions() public {
        ITransactionManager.SwapRequest memory r = _requestWithCounterparty(RELAYER_2);
        bytes memory sig = _signRequest(PK_INIT, r);
        // A wrong submitter is reported first...
        _proposeReverts(
            r,
            sig,
            RELAYER_2,
            abi.encodeWithSelector(ITransactionManager.SwapNotInstitutionRelayer.selector, RELAYER_2, INST_1)
        );
        // ...and the counterparty before any permission, even with the initiator's grant revoked.
        vm.prank(ADMIN_1);
        perms.revokeFromAccount(USER_1, ZONE_A, CHAIN_A, W, HTLC);
        _proposeRevertsFresh(r, _notUser(RELAYER_2));
        // A counterparty who is a user but lacks the grant on leg B gets the permission error instead
        // (leg A's permission is checked first).
        _proposeRevertsFresh(
            _requestWithCounterparty(USER_3),
            abi.encodeWithSelector(ITransactionManager.SwapNoPermission.selector, USER_1, uint8(0))
        );
    }

    // ================================================================ acceptSwap

    function test_acceptSwap_marksAccepted() public {
        _propose(_request());
        bytes32 listsBefore = keccak256(abi.encode(tm.openSwaps(KEY_A, 0, 100), tm.openSwaps(KEY_B, 0, 100)));
        _accept(SWAP_ID);
        _assertSwapState(SWAP_ID, S_ACCEPTED);
        _assertLegs(SWAP_ID, L_NONE, L_NONE);
        assertEq(
            keccak256(abi.encode(tm.openSwaps(KEY_A, 0, 100), tm.openSwaps(KEY_B, 0, 100))),
            listsBefore,
            "open lists"
        );
        assertFalse(tm.nonceUsed(USER_2, NONCE), "counterparty nonce untouched");
    }

    function test_acceptSwap_emitsSwapAccepted() public {
        _propose(_request());
        bytes memory sig = _sign(PK_CP, tm.swap(SWAP_ID).digest);
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.SwapAccepted(SWAP_ID);
        vm.prank(RELAYER_2);
        tm.acceptSwap(SWAP_ID, sig);
    }

    function test_acceptSwap_succeedsOneSecondBeforeTimelockB() public {
        ITransactionManager.SwapRequest memory r = _request();
        _propose(r);
        vm.warp(r.legB.timelock - 1);
        _accept(SWAP_ID);
        _assertSwapState(SWAP_ID, S_ACCEPTED);
    }

    function test_acceptSwap_revertsOnUnknownSwap() public {
        bytes memory sig = _sign(PK_CP, keccak256("x"));
        _acceptReverts(
            RELAYER_2,
            SWAP_ID,
            sig,
            abi.encodeWithSelector(ITransactionManager.SwapNotFound.selector, SWAP_ID)
        );
    }

    function test_acceptSwap_revertsWhenAlreadyAccepted() public {
        _open();
        bytes memory sig = _sign(PK_CP, tm.swap(SWAP_ID).digest);
        _acceptReverts(
            RELAYER_2,
            SWAP_ID,
            sig,
            abi.encodeWithSelector(ITransactionManager.SwapNotProposed.selector, SWAP_ID, S_ACCEPTED)
        );
    }

    function test_acceptSwap_revertsWhenExpired() public {
        ITransactionManager.SwapRequest memory r = _request();
        _propose(r);
        vm.warp(r.legB.timelock);
        tm.expireSwap(SWAP_ID);
        bytes memory sig = _sign(PK_CP, tm.swap(SWAP_ID).digest);
        _acceptReverts(
            RELAYER_2,
            SWAP_ID,
            sig,
            abi.encodeWithSelector(ITransactionManager.SwapNotProposed.selector, SWAP_ID, S_EXPIRED)
        );
    }

    function test_acceptSwap_revertsWhenWindowClosed() public {
        ITransactionManager.SwapRequest memory r = _request();
        _propose(r);
        bytes memory sig = _sign(PK_CP, tm.swap(SWAP_ID).digest);
        bytes memory err = abi.encodeWithSelector(
            ITransactionManager.SwapAcceptWindowClosed.selector, SWAP_ID, uint64(r.legB.timelock)
        );
        vm.warp(r.legB.timelock); // at TB
        _acceptReverts(RELAYER_2, SWAP_ID, sig, err);
        vm.warp(r.legB.timelock + 1 days); // after TB
        _acceptReverts(RELAYER_2, SWAP_ID, sig, err);
        _assertSwapState(SWAP_ID, S_PROPOSED);
    }

    function test_acceptSwap_revertsOnMalformedSignature() public {
        _propose(_request());
        bytes memory good = _sign(PK_CP, tm.swap(SWAP_ID).digest);
        (bytes32 sr, bytes32 ss) = abi.decode(good, (bytes32, bytes32));
        uint8 v = uint8(good[64]);
        bytes memory err = _err(ITransactionManager.SwapBadSignature.selector);
        _acceptReverts(RELAYER_2, SWAP_ID, "", err);
        _acceptReverts(RELAYER_2, SWAP_ID, abi.encodePacked(sr, ss), err);
        _acceptReverts(RELAYER_2, SWAP_ID, abi.encodePacked(sr, ss, uint8(30)), err);
        _acceptReverts(
            RELAYER_2,
            SWAP_ID,
            abi.encodePacked(sr, bytes32(N - uint256(ss)), v == 27 ? uint8(28) : uint8(27)),
            err
        );
        _assertSwapState(SWAP_ID, S_PROPOSED);
    }

    function test_acceptSwap_revertsWhenSignedByInitiator() public {
        _propose(_request());
        // The initiator's own signature over the stored digest is no acceptance.
        bytes memory sig = _sign(PK_INIT, tm.swap(SWAP_ID).digest);
        _acceptReverts(
            RELAYER_2,
            SWAP_ID,
            sig,
            abi.encodeWithSelector(ITransactionManager.SwapWrongSigner.selector, USER_2, USER_1)
        );
    }

    function test_acceptSwap_revertsWhenCounterpartyNoLongerUser() public {
        _propose(_request());
        bytes memory sig = _sign(PK_CP, tm.swap(SWAP_ID).digest);
        vm.prank(ADMIN_2);
        registry.removeAccount(USER_2);
        _acceptReverts(
            RELAYER_2, SWAP_ID, sig, abi.encodeWithSelector(ITransactionManager.SwapNotUser.selector, USER_2)
        );
    }

    function test_acceptSwap_revertsWhenCounterpartyInstitutionSuspended() public {
        _propose(_request());
        bytes memory sig = _sign(PK_CP, tm.swap(SWAP_ID).digest);
        _suspend(INST_2);
        _acceptReverts(
            RELAYER_2, SWAP_ID, sig, abi.encodeWithSelector(ITransactionManager.SwapNotUser.selector, USER_2)
        );
    }

    function test_acceptSwap_revertsWhenSubmitterNotInstitutionRelayer() public {
        _propose(_request());
        bytes memory sig = _sign(PK_CP, tm.swap(SWAP_ID).digest);
        address[5] memory submitters = [RELAYER_1, RELAYER_3, ADMIN_2, USER_2, STRANGER];
        for (uint256 i; i < submitters.length; ++i) {
            _acceptReverts(
                submitters[i],
                SWAP_ID,
                sig,
                abi.encodeWithSelector(
                    ITransactionManager.SwapNotInstitutionRelayer.selector, submitters[i], INST_2
                )
            );
        }
        _assertSwapState(SWAP_ID, S_PROPOSED);
    }

    // ================================================================ recordLegLocked

    function test_recordLegLocked_locksLegA() public {
        _open();
        _lock(SWAP_ID, 0);
        _assertLegs(SWAP_ID, L_LOCKED, L_NONE);
        _assertSwapState(SWAP_ID, S_ACCEPTED);
        assertTrue(_isOpenOn(KEY_A, SWAP_ID) && _isOpenOn(KEY_B, SWAP_ID), "still open");
    }

    function test_recordLegLocked_locksLegBAfterLegA() public {
        _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        _assertLegs(SWAP_ID, L_LOCKED, L_LOCKED);
        _assertSwapState(SWAP_ID, S_ACCEPTED);
    }

    function test_recordLegLocked_emitsLegLocked() public {
        _open();
        bytes memory evidence = new bytes(MAX_EVIDENCE); // the largest evidence accepted
        evidence[0] = 0x42;
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.LegLocked(SWAP_ID, 0, RELAYER_1, evidence);
        vm.prank(RELAYER_1);
        tm.recordLegLocked(SWAP_ID, 0, evidence);

        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.LegLocked(SWAP_ID, 1, RELAYER_2, "");
        vm.prank(RELAYER_2);
        tm.recordLegLocked(SWAP_ID, 1, "");
    }

    function test_recordLegLocked_revertsOnUnknownSwap() public {
        _lockReverts(
            RELAYER_1,
            SWAP_ID,
            0,
            "",
            abi.encodeWithSelector(ITransactionManager.SwapNotFound.selector, SWAP_ID)
        );
    }

    function test_recordLegLocked_revertsWhenProposed() public {
        _propose(_request());
        _lockReverts(RELAYER_1, SWAP_ID, 0, "", _notInProgress(SWAP_ID, S_PROPOSED));
    }

    function test_recordLegLocked_revertsWhenClosed() public {
        _open();
        _lock(SWAP_ID, 0);
        vm.warp(tm.swap(SWAP_ID).timelockA);
        _refund(SWAP_ID, 0);
        _void(SWAP_ID, 1); // closes with leg B never locked
        _assertSwapState(SWAP_ID, S_CLOSED);
        _lockReverts(RELAYER_2, SWAP_ID, 1, "", _notInProgress(SWAP_ID, S_CLOSED));
        _lockReverts(RELAYER_1, SWAP_ID, 0, "", _notInProgress(SWAP_ID, S_CLOSED));
    }

    function test_recordLegLocked_revertsWhenExpired() public {
        _expired();
        _lockReverts(RELAYER_1, SWAP_ID, 0, "", _notInProgress(SWAP_ID, S_EXPIRED));
        _lockReverts(RELAYER_2, SWAP_ID, 1, "", _notInProgress(SWAP_ID, S_EXPIRED));
    }

    function test_recordLegLocked_revertsOnBadLeg() public {
        _open();
        _lockReverts(
            RELAYER_1, SWAP_ID, 2, "", abi.encodeWithSelector(ITransactionManager.SwapBadLeg.selector, 2)
        );
        _lockReverts(
            RELAYER_2, SWAP_ID, 255, "", abi.encodeWithSelector(ITransactionManager.SwapBadLeg.selector, 255)
        );
    }

    function test_recordLegLocked_revertsOnOversizedEvidence() public {
        _open();
        _lockReverts(
            RELAYER_1,
            SWAP_ID,
            0,
            new bytes(MAX_EVIDENCE + 1),
            abi.encodeWithSelector(ITransactionManager.SwapEvidenceTooLarge.selector, MAX_EVIDENCE + 1)
        );
    }

    function test_recordLegLocked_revertsWhenNotServingRelayer() public {
        _open();
        _lockReverts(RELAYER_2, SWAP_ID, 0, "", _notServing(SWAP_ID, 0, RELAYER_2)); // serves the other chain
        _lockReverts(RELAYER_1B, SWAP_ID, 0, "", _notServing(SWAP_ID, 0, RELAYER_1B)); // owner's, not serving
        _lockReverts(STRANGER, SWAP_ID, 0, "", _notServing(SWAP_ID, 0, STRANGER));
        _lockReverts(USER_1, SWAP_ID, 0, "", _notServing(SWAP_ID, 0, USER_1));
        _lock(SWAP_ID, 0);
        _lockReverts(RELAYER_1, SWAP_ID, 1, "", _notServing(SWAP_ID, 1, RELAYER_1));
        _lockReverts(RELAYER_3, SWAP_ID, 1, "", _notServing(SWAP_ID, 1, RELAYER_3));
    }

    function test_recordLegLocked_revertsWhenServingRelayerLeftInstitution() public {
        _open();
        vm.prank(ADMIN_1);
        registry.removeAccount(RELAYER_1);
        _lockReverts(RELAYER_1, SWAP_ID, 0, "", _notServing(SWAP_ID, 0, RELAYER_1));
    }

    function test_recordLegLocked_revertsWhenAlreadyLocked() public {
        _open();
        _lock(SWAP_ID, 0);
        _lockReverts(RELAYER_1, SWAP_ID, 0, "", _legStateErr(SWAP_ID, 0, L_LOCKED));
        _lock(SWAP_ID, 1);
        _lockReverts(RELAYER_2, SWAP_ID, 1, "", _legStateErr(SWAP_ID, 1, L_LOCKED));
    }

    function test_recordLegLocked_revertsWhenLegSettled() public {
        _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        _unlock(SWAP_ID, 1);
        _lockReverts(RELAYER_2, SWAP_ID, 1, "", _legStateErr(SWAP_ID, 1, L_UNLOCKED));
    }

    function test_recordLegLocked_revertsOnLegBBeforeLegA() public {
        _open();
        _lockReverts(
            RELAYER_2,
            SWAP_ID,
            1,
            "",
            abi.encodeWithSelector(ITransactionManager.SwapLegOutOfOrder.selector, SWAP_ID)
        );
    }

    function test_recordLegLocked_revertsOnLegBAfterLegAUnlocked() public {
        // Leg B only against a live lock on A: once A is unlocked, B may not start.
        _open();
        _lock(SWAP_ID, 0);
        _unlock(SWAP_ID, 0);
        _lockReverts(
            RELAYER_2,
            SWAP_ID,
            1,
            "",
            abi.encodeWithSelector(ITransactionManager.SwapLegOutOfOrder.selector, SWAP_ID)
        );
    }

    /// Replaces the removed "late lock after expiry" case: an expired swap was never accepted, so no
    /// relayer locked anything for it, and a lock is not recordable at any later time either.
    function test_recordLegLocked_rejectsLateLockAfterExpiry() public {
        ITransactionManager.SwapRequest memory r = _expired();
        vm.warp(r.legA.timelock + 30 days);
        _lockReverts(RELAYER_1, SWAP_ID, 0, hex"1a7e", _notInProgress(SWAP_ID, S_EXPIRED));
        _assertLegs(SWAP_ID, L_NONE, L_NONE);
        assertFalse(_isOpenOn(KEY_A, SWAP_ID) || _isOpenOn(KEY_B, SWAP_ID), "relisted");
    }

    function test_recordLegLocked_revertsWhenLegVoid() public {
        _open();
        _void(SWAP_ID, 0);
        _lockReverts(RELAYER_1, SWAP_ID, 0, "", _legStateErr(SWAP_ID, 0, L_VOID));
        // A void leg B (with A locked) reports its own state.
        bytes32 id2 = _requestIdOf(USER_1, NONCE + 1);
        _propose(_requestWith(id2, NONCE + 1));
        _accept(id2);
        _lock(id2, 0);
        _void(id2, 1);
        _lockReverts(RELAYER_2, id2, 1, "", _legStateErr(id2, 1, L_VOID));
    }

    /// Leg B locked on its chain but recorded only after leg A was refunded (its relayer was down):
    /// the record stands, so leg B's refund can be recorded and the swap closes.
    function test_recordLegLocked_acceptsLegBAfterLegARefunded() public {
        _open();
        _lock(SWAP_ID, 0);
        vm.warp(block.timestamp + 2 days);
        _refund(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        _assertLegs(SWAP_ID, ITransactionManager.LegState.Refunded, ITransactionManager.LegState.Locked);
        _refund(SWAP_ID, 1);
        _assertSwapState(SWAP_ID, ITransactionManager.SwapState.Closed);
        assertFalse(_isOpenOn(KEY_B, SWAP_ID), "closed swaps leave the open lists");
    }

    function test_recordLegLocked_revertsOnLegBAfterLegAVoid() public {
        _open();
        _void(SWAP_ID, 0);
        _lockReverts(
            RELAYER_2,
            SWAP_ID,
            1,
            "",
            abi.encodeWithSelector(ITransactionManager.SwapLegOutOfOrder.selector, SWAP_ID)
        );
    }

    function test_recordLegLocked_acceptsLegAAfterLegBVoid() public {
        // B's chain passed TB first; a lock of A that did land on chain A must still be recordable (so
        // that its refund can be recorded too).
        _open();
        _void(SWAP_ID, 1);
        _lock(SWAP_ID, 0);
        _assertAcceptedAndListed(SWAP_ID, L_LOCKED, L_VOID);
    }

    // ================================================================ recordLegUnlocked

    function test_recordLegUnlocked_unlocksLegBAndPublishesSecret() public {
        _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        _unlock(SWAP_ID, 1);
        _assertLegs(SWAP_ID, L_LOCKED, L_UNLOCKED);
        _assertSwapState(SWAP_ID, S_ACCEPTED);
        assertEq(tm.swap(SWAP_ID).secret, SECRET, "secret");
        assertEq(tm.openSwapCount(KEY_A), 1, "still open");
    }

    function test_recordLegUnlocked_emitsLegUnlocked() public {
        _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.LegUnlocked(SWAP_ID, 1, SECRET, RELAYER_2, hex"beef");
        vm.prank(RELAYER_2);
        tm.recordLegUnlocked(SWAP_ID, 1, SECRET, hex"beef");
    }

    function test_recordLegUnlocked_closesWhenBothUnlocked() public {
        _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        _unlock(SWAP_ID, 1);
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.LegUnlocked(SWAP_ID, 0, SECRET, RELAYER_1, "a");
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.SwapClosed(SWAP_ID, L_UNLOCKED, L_UNLOCKED);
        vm.prank(RELAYER_1);
        tm.recordLegUnlocked(SWAP_ID, 0, SECRET, "a");
        _assertSwapState(SWAP_ID, S_CLOSED);
        assertEq(tm.openSwapCount(KEY_A) + tm.openSwapCount(KEY_B), 0, "still listed");
    }

    function test_recordLegUnlocked_revertsOnUnknownSwap() public {
        _unlockReverts(
            RELAYER_1,
            SWAP_ID,
            0,
            SECRET,
            "",
            abi.encodeWithSelector(ITransactionManager.SwapNotFound.selector, SWAP_ID)
        );
    }

    function test_recordLegUnlocked_revertsWhenProposed() public {
        _propose(_request());
        _unlockReverts(RELAYER_1, SWAP_ID, 0, SECRET, "", _notInProgress(SWAP_ID, S_PROPOSED));
    }

    function test_recordLegUnlocked_revertsWhenClosed() public {
        _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        _unlock(SWAP_ID, 1);
        _unlock(SWAP_ID, 0);
        _unlockReverts(RELAYER_1, SWAP_ID, 0, SECRET, "", _notInProgress(SWAP_ID, S_CLOSED));
    }

    function test_recordLegUnlocked_revertsWhenExpired() public {
        _expired();
        _unlockReverts(RELAYER_1, SWAP_ID, 0, SECRET, "", _notInProgress(SWAP_ID, S_EXPIRED));
        _unlockReverts(RELAYER_2, SWAP_ID, 1, SECRET, "", _notInProgress(SWAP_ID, S_EXPIRED));
    }

    function test_recordLegUnlocked_revertsWhenLegVoid() public {
        _open();
        _lock(SWAP_ID, 0);
        _void(SWAP_ID, 1);
        _unlockReverts(RELAYER_2, SWAP_ID, 1, SECRET, "", _legStateErr(SWAP_ID, 1, L_VOID));
        assertEq(tm.swap(SWAP_ID).secret, bytes32(0), "secret stored");
    }

    function test_recordLegUnlocked_legAFirstKeepsSwapOpenWhileLegBNone() public {
        _open();
        _lock(SWAP_ID, 0);
        vm.recordLogs();
        _unlock(SWAP_ID, 0);
        assertEq(
            _countLogs(vm.getRecordedLogs(), address(tm), ITransactionManager.SwapClosed.selector),
            0,
            "closed"
        );
        _assertAcceptedAndListed(SWAP_ID, L_UNLOCKED, L_NONE);
        assertEq(tm.swap(SWAP_ID).secret, SECRET, "secret published");
    }

    function test_recordLegUnlocked_revertsOnBadLeg() public {
        _open();
        _unlockReverts(
            RELAYER_1,
            SWAP_ID,
            2,
            SECRET,
            "",
            abi.encodeWithSelector(ITransactionManager.SwapBadLeg.selector, 2)
        );
    }

    function test_recordLegUnlocked_revertsOnOversizedEvidence() public {
        _open();
        _lock(SWAP_ID, 0);
        _unlockReverts(
            RELAYER_1,
            SWAP_ID,
            0,
            SECRET,
            new bytes(1000),
            abi.encodeWithSelector(ITransactionManager.SwapEvidenceTooLarge.selector, 1000)
        );
    }

    function test_recordLegUnlocked_revertsWhenNotServingRelayer() public {
        _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        _unlockReverts(RELAYER_1, SWAP_ID, 1, SECRET, "", _notServing(SWAP_ID, 1, RELAYER_1));
        _unlockReverts(USER_1, SWAP_ID, 1, SECRET, "", _notServing(SWAP_ID, 1, USER_1));
        _unlockReverts(RELAYER_2, SWAP_ID, 0, SECRET, "", _notServing(SWAP_ID, 0, RELAYER_2));
        _unlockReverts(RELAYER_1B, SWAP_ID, 0, SECRET, "", _notServing(SWAP_ID, 0, RELAYER_1B));
    }

    function test_recordLegUnlocked_revertsWhenLegNotLocked() public {
        _open();
        _unlockReverts(RELAYER_1, SWAP_ID, 0, SECRET, "", _legStateErr(SWAP_ID, 0, L_NONE));
        _unlockReverts(RELAYER_2, SWAP_ID, 1, SECRET, "", _legStateErr(SWAP_ID, 1, L_NONE));
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        _unlock(SWAP_ID, 1);
        _unlockReverts(RELAYER_2, SWAP_ID, 1, SECRET, "", _legStateErr(SWAP_ID, 1, L_UNLOCKED));
        vm.warp(tm.swap(SWAP_ID).timelockA);
        _refund(SWAP_ID, 0); // closes
        _unlockReverts(RELAYER_1, SWAP_ID, 0, SECRET, "", _notInProgress(SWAP_ID, S_CLOSED));
    }

    function test_recordLegUnlocked_revertsAfterRefund() public {
        _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        _refund(SWAP_ID, 1);
        _unlockReverts(RELAYER_2, SWAP_ID, 1, SECRET, "", _legStateErr(SWAP_ID, 1, L_REFUNDED));
    }

    function test_recordLegUnlocked_revertsOnWrongSecret() public {
        _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        bytes memory err = abi.encodeWithSelector(ITransactionManager.SwapWrongSecret.selector, SWAP_ID);
        _unlockReverts(RELAYER_2, SWAP_ID, 1, bytes32(0), "", err);
        _unlockReverts(RELAYER_2, SWAP_ID, 1, _hashlock(SECRET), "", err); // the hashlock is no preimage
        _unlockReverts(RELAYER_2, SWAP_ID, 1, keccak256(abi.encodePacked(SECRET)), "", err); // wrong hash
        assertEq(tm.swap(SWAP_ID).secret, bytes32(0), "secret stored");
    }

    // ================================================================ recordLegRefunded

    function test_recordLegRefunded_refundsLegBWithoutClosing() public {
        _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        _refund(SWAP_ID, 1);
        _assertLegs(SWAP_ID, L_LOCKED, L_REFUNDED);
        _assertSwapState(SWAP_ID, S_ACCEPTED);
        assertEq(tm.openSwapCount(KEY_B), 1, "still open");
    }

    function test_recordLegRefunded_emitsLegRefunded() public {
        _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.LegRefunded(SWAP_ID, 1, RELAYER_2, "r");
        vm.prank(RELAYER_2);
        tm.recordLegRefunded(SWAP_ID, 1, "r");
    }

    /// Replaces the removed "A refunded with B never locked closes" rule: the swap stays accepted and
    /// listed until leg B is recorded void.
    function test_recordLegRefunded_legARefundDoesNotCloseWhileLegBNone() public {
        _open();
        _lock(SWAP_ID, 0);
        vm.warp(tm.swap(SWAP_ID).timelockA);
        vm.recordLogs();
        vm.prank(RELAYER_1);
        tm.recordLegRefunded(SWAP_ID, 0, "");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(_countLogs(logs, address(tm), ITransactionManager.LegRefunded.selector), 1, "refund event");
        assertEq(_countLogs(logs, address(tm), ITransactionManager.SwapClosed.selector), 0, "closed");
        _assertAcceptedAndListed(SWAP_ID, L_REFUNDED, L_NONE);
        // Only the void of leg B closes it.
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.LegVoided(SWAP_ID, 1, RELAYER_2, "b");
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.SwapClosed(SWAP_ID, L_REFUNDED, L_VOID);
        vm.prank(RELAYER_2);
        tm.recordLegVoid(SWAP_ID, 1, "b");
        _assertClosedAndUnlisted(SWAP_ID, L_REFUNDED, L_VOID);
    }

    function test_recordLegRefunded_revertsWhenExpired() public {
        _expired();
        _refundReverts(RELAYER_1, SWAP_ID, 0, "", _notInProgress(SWAP_ID, S_EXPIRED));
        _refundReverts(RELAYER_2, SWAP_ID, 1, "", _notInProgress(SWAP_ID, S_EXPIRED));
    }

    function test_recordLegRefunded_revertsWhenClosed() public {
        _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        _refund(SWAP_ID, 1);
        _refund(SWAP_ID, 0);
        _refundReverts(RELAYER_1, SWAP_ID, 0, "", _notInProgress(SWAP_ID, S_CLOSED));
        _refundReverts(RELAYER_2, SWAP_ID, 1, "", _notInProgress(SWAP_ID, S_CLOSED));
    }

    function test_recordLegRefunded_revertsWhenLegVoid() public {
        _open();
        _void(SWAP_ID, 0);
        _refundReverts(RELAYER_1, SWAP_ID, 0, "", _legStateErr(SWAP_ID, 0, L_VOID));
        _void(SWAP_ID, 1);
        _refundReverts(RELAYER_2, SWAP_ID, 1, "", _notInProgress(SWAP_ID, S_CLOSED));
    }

    function test_recordLegRefunded_revertsOnUnknownSwap() public {
        _refundReverts(
            RELAYER_1,
            SWAP_ID,
            0,
            "",
            abi.encodeWithSelector(ITransactionManager.SwapNotFound.selector, SWAP_ID)
        );
    }

    function test_recordLegRefunded_revertsWhenProposed() public {
        _propose(_request());
        _refundReverts(RELAYER_1, SWAP_ID, 0, "", _notInProgress(SWAP_ID, S_PROPOSED));
    }

    function test_recordLegRefunded_revertsOnBadLeg() public {
        _open();
        _refundReverts(
            RELAYER_1, SWAP_ID, 7, "", abi.encodeWithSelector(ITransactionManager.SwapBadLeg.selector, 7)
        );
    }

    function test_recordLegRefunded_revertsOnOversizedEvidence() public {
        _open();
        _lock(SWAP_ID, 0);
        _refundReverts(
            RELAYER_1,
            SWAP_ID,
            0,
            new bytes(MAX_EVIDENCE + 1),
            abi.encodeWithSelector(ITransactionManager.SwapEvidenceTooLarge.selector, MAX_EVIDENCE + 1)
        );
    }

    function test_recordLegRefunded_revertsWhenNotServingRelayer() public {
        _open();
        _lock(SWAP_ID, 0);
        _refundReverts(RELAYER_2, SWAP_ID, 0, "", _notServing(SWAP_ID, 0, RELAYER_2));
        _refundReverts(STRANGER, SWAP_ID, 0, "", _notServing(SWAP_ID, 0, STRANGER));
    }

    function test_recordLegRefunded_revertsWhenLegNotLocked() public {
        _open();
        _refundReverts(RELAYER_1, SWAP_ID, 0, "", _legStateErr(SWAP_ID, 0, L_NONE));
        _lock(SWAP_ID, 0);
        _refundReverts(RELAYER_2, SWAP_ID, 1, "", _legStateErr(SWAP_ID, 1, L_NONE));
        _lock(SWAP_ID, 1);
        _refund(SWAP_ID, 1);
        _refundReverts(RELAYER_2, SWAP_ID, 1, "", _legStateErr(SWAP_ID, 1, L_REFUNDED));
    }

    function test_recordLegRefunded_revertsAfterUnlock() public {
        _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        _unlock(SWAP_ID, 1);
        _refundReverts(RELAYER_2, SWAP_ID, 1, "", _legStateErr(SWAP_ID, 1, L_UNLOCKED));
    }

    // ================================================================ recordLegVoid

    function test_recordLegVoid_voidsLegAWithoutClosing() public {
        _open();
        _void(SWAP_ID, 0);
        _assertAcceptedAndListed(SWAP_ID, L_VOID, L_NONE);
        assertEq(tm.swap(SWAP_ID).secret, bytes32(0), "secret");
    }

    function test_recordLegVoid_voidsLegBWhileLegANone() public {
        // TB < TA: chain B's clock passes leg B's timelock first, before anything happened on A.
        _open();
        _void(SWAP_ID, 1);
        _assertAcceptedAndListed(SWAP_ID, L_NONE, L_VOID);
    }

    function test_recordLegVoid_voidsLegBWhileLegALockedWithoutClosing() public {
        _open();
        _lock(SWAP_ID, 0);
        _void(SWAP_ID, 1);
        _assertAcceptedAndListed(SWAP_ID, L_LOCKED, L_VOID);
    }

    function test_recordLegVoid_emitsLegVoided() public {
        _open();
        bytes memory evidence = new bytes(MAX_EVIDENCE); // the largest evidence accepted
        evidence[MAX_EVIDENCE - 1] = 0x99;
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.LegVoided(SWAP_ID, 1, RELAYER_2, evidence);
        vm.prank(RELAYER_2);
        tm.recordLegVoid(SWAP_ID, 1, evidence);

        vm.recordLogs();
        vm.prank(RELAYER_1);
        tm.recordLegVoid(SWAP_ID, 0, "");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 2, "LegVoided then SwapClosed");
        assertEq(logs[0].emitter, address(tm), "emitter");
        assertEq(logs[0].topics.length, 3, "topics");
        assertEq(logs[0].topics[0], ITransactionManager.LegVoided.selector, "event");
        assertEq(logs[0].topics[1], SWAP_ID, "swap id topic");
        assertEq(uint256(logs[0].topics[2]), 0, "leg topic");
        assertEq(logs[0].data, abi.encode(RELAYER_1, bytes("")), "data");
        assertEq(logs[1].topics[0], ITransactionManager.SwapClosed.selector, "closed event");
        assertEq(logs[1].data, abi.encode(L_VOID, L_VOID), "closed legs");
    }

    function test_recordLegVoid_revertsOnUnknownSwap() public {
        _voidReverts(
            RELAYER_1,
            SWAP_ID,
            0,
            "",
            abi.encodeWithSelector(ITransactionManager.SwapNotFound.selector, SWAP_ID)
        );
        _voidReverts(
            RELAYER_2,
            bytes32(0),
            1,
            "",
            abi.encodeWithSelector(ITransactionManager.SwapNotFound.selector, bytes32(0))
        );
    }

    function test_recordLegVoid_revertsWhenProposed() public {
        ITransactionManager.SwapRequest memory r = _request();
        _propose(r);
        _voidReverts(RELAYER_1, SWAP_ID, 0, "", _notInProgress(SWAP_ID, S_PROPOSED));
        // Also once TB passed (expirable but not yet expired).
        vm.warp(r.legA.timelock);
        _voidReverts(RELAYER_2, SWAP_ID, 1, "", _notInProgress(SWAP_ID, S_PROPOSED));
    }

    function test_recordLegVoid_revertsWhenExpired() public {
        _expired();
        _voidReverts(RELAYER_1, SWAP_ID, 0, "", _notInProgress(SWAP_ID, S_EXPIRED));
        _voidReverts(RELAYER_2, SWAP_ID, 1, "", _notInProgress(SWAP_ID, S_EXPIRED));
    }

    function test_recordLegVoid_revertsWhenClosed() public {
        // Closed by two voids...
        _open();
        _void(SWAP_ID, 0);
        _void(SWAP_ID, 1);
        _voidReverts(RELAYER_1, SWAP_ID, 0, "", _notInProgress(SWAP_ID, S_CLOSED));
        _voidReverts(RELAYER_2, SWAP_ID, 1, "", _notInProgress(SWAP_ID, S_CLOSED));
        // ...and by two unlocks.
        bytes32 id2 = _requestIdOf(USER_1, NONCE + 1);
        _propose(_requestWith(id2, NONCE + 1));
        _accept(id2);
        _lock(id2, 0);
        _lock(id2, 1);
        _unlock(id2, 1);
        _unlock(id2, 0);
        _voidReverts(RELAYER_1, id2, 0, "", _notInProgress(id2, S_CLOSED));
        _voidReverts(RELAYER_2, id2, 1, "", _notInProgress(id2, S_CLOSED));
    }

    function test_recordLegVoid_revertsOnBadLeg() public {
        _open();
        _voidReverts(
            RELAYER_1, SWAP_ID, 2, "", abi.encodeWithSelector(ITransactionManager.SwapBadLeg.selector, 2)
        );
        _voidReverts(
            RELAYER_2, SWAP_ID, 255, "", abi.encodeWithSelector(ITransactionManager.SwapBadLeg.selector, 255)
        );
    }

    function test_recordLegVoid_revertsOnOversizedEvidence() public {
        _open();
        _voidReverts(
            RELAYER_1,
            SWAP_ID,
            0,
            new bytes(MAX_EVIDENCE + 1),
            abi.encodeWithSelector(ITransactionManager.SwapEvidenceTooLarge.selector, MAX_EVIDENCE + 1)
        );
        _voidReverts(
            RELAYER_2,
            SWAP_ID,
            1,
            new bytes(4096),
            abi.encodeWithSelector(ITransactionManager.SwapEvidenceTooLarge.selector, 4096)
        );
    }

    function test_recordLegVoid_revertsWhenNotServingRelayer() public {
        _open();
        _voidReverts(RELAYER_2, SWAP_ID, 0, "", _notServing(SWAP_ID, 0, RELAYER_2)); // serves the other chain
        _voidReverts(RELAYER_1B, SWAP_ID, 0, "", _notServing(SWAP_ID, 0, RELAYER_1B)); // owner's, not serving
        _voidReverts(STRANGER, SWAP_ID, 0, "", _notServing(SWAP_ID, 0, STRANGER));
        _voidReverts(USER_1, SWAP_ID, 0, "", _notServing(SWAP_ID, 0, USER_1));
        _voidReverts(ADMIN_1, SWAP_ID, 0, "", _notServing(SWAP_ID, 0, ADMIN_1));
        _voidReverts(RELAYER_1, SWAP_ID, 1, "", _notServing(SWAP_ID, 1, RELAYER_1));
        _voidReverts(RELAYER_3, SWAP_ID, 1, "", _notServing(SWAP_ID, 1, RELAYER_3));
        _voidReverts(USER_2, SWAP_ID, 1, "", _notServing(SWAP_ID, 1, USER_2));
        // The contract itself acts only for the reporter `reportItem` appends to the calldata; a call
        // from it without one names nobody (the trailing word here is zero padding).
        _voidReverts(address(tm), SWAP_ID, 1, "", _notServing(SWAP_ID, 1, address(0)));
    }

    function test_recordLegVoid_revertsWhenServingRelayerLostItsRole() public {
        _open();
        vm.prank(ADMIN_1);
        registry.removeAccount(RELAYER_1);
        _voidReverts(RELAYER_1, SWAP_ID, 0, "", _notServing(SWAP_ID, 0, RELAYER_1));
        _suspend(INST_2);
        _voidReverts(RELAYER_2, SWAP_ID, 1, "", _notServing(SWAP_ID, 1, RELAYER_2));
    }

    function test_recordLegVoid_revertsWhenLegLocked() public {
        _open();
        _lock(SWAP_ID, 0);
        _voidReverts(RELAYER_1, SWAP_ID, 0, "", _legStateErr(SWAP_ID, 0, L_LOCKED));
        _lock(SWAP_ID, 1);
        _voidReverts(RELAYER_2, SWAP_ID, 1, "", _legStateErr(SWAP_ID, 1, L_LOCKED));
    }

    function test_recordLegVoid_revertsWhenLegUnlocked() public {
        _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        _unlock(SWAP_ID, 1);
        _voidReverts(RELAYER_2, SWAP_ID, 1, "", _legStateErr(SWAP_ID, 1, L_UNLOCKED));
        bytes32 id2 = _requestIdOf(USER_1, NONCE + 1);
        _propose(_requestWith(id2, NONCE + 1));
        _accept(id2);
        _lock(id2, 0);
        _unlock(id2, 0);
        _voidReverts(RELAYER_1, id2, 0, "", _legStateErr(id2, 0, L_UNLOCKED));
    }

    function test_recordLegVoid_revertsWhenLegRefunded() public {
        ITransactionManager.SwapRequest memory r = _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        vm.warp(r.legB.timelock);
        _refund(SWAP_ID, 1);
        _voidReverts(RELAYER_2, SWAP_ID, 1, "", _legStateErr(SWAP_ID, 1, L_REFUNDED));
        vm.warp(r.legA.timelock);
        bytes32 id2 = _requestIdOf(USER_1, NONCE + 1);
        _propose(_requestWith(id2, NONCE + 1));
        _accept(id2);
        _lock(id2, 0);
        _refund(id2, 0);
        _voidReverts(RELAYER_1, id2, 0, "", _legStateErr(id2, 0, L_REFUNDED));
    }

    function test_recordLegVoid_revertsWhenAlreadyVoid() public {
        _open();
        _void(SWAP_ID, 1);
        _voidReverts(RELAYER_2, SWAP_ID, 1, "", _legStateErr(SWAP_ID, 1, L_VOID));
        _lock(SWAP_ID, 0);
        _voidReverts(RELAYER_1, SWAP_ID, 0, "", _legStateErr(SWAP_ID, 0, L_LOCKED));
        bytes32 id2 = _requestIdOf(USER_1, NONCE + 1);
        _propose(_requestWith(id2, NONCE + 1));
        _accept(id2);
        _void(id2, 0);
        _voidReverts(RELAYER_1, id2, 0, "", _legStateErr(id2, 0, L_VOID));
    }

    /// Precedence: swap found, in progress, leg index, evidence size, caller, then the leg's state.
    function test_recordLegVoid_checksInOrder() public {
        bytes memory big = new bytes(MAX_EVIDENCE + 1);
        bytes memory tooLarge =
            abi.encodeWithSelector(ITransactionManager.SwapEvidenceTooLarge.selector, MAX_EVIDENCE + 1);
        _propose(_request());
        // Not in progress beats a bad leg, oversized evidence and a stranger.
        _voidReverts(STRANGER, SWAP_ID, 9, big, _notInProgress(SWAP_ID, S_PROPOSED));
        _accept(SWAP_ID);
        // A bad leg beats oversized evidence and a stranger.
        _voidReverts(
            STRANGER, SWAP_ID, 9, big, abi.encodeWithSelector(ITransactionManager.SwapBadLeg.selector, 9)
        );
        // Oversized evidence beats a stranger.
        _voidReverts(STRANGER, SWAP_ID, 0, big, tooLarge);
        // A stranger beats the leg's state.
        _lock(SWAP_ID, 0);
        _voidReverts(STRANGER, SWAP_ID, 0, "", _notServing(SWAP_ID, 0, STRANGER));
        _voidReverts(RELAYER_1, SWAP_ID, 0, "", _legStateErr(SWAP_ID, 0, L_LOCKED));
    }

    // ================================================================ expireSwap

    function test_expireSwap_expiresProposedAtTimelockB() public {
        ITransactionManager.SwapRequest memory r = _request();
        _propose(r);
        vm.warp(r.legB.timelock);
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.SwapExpired(SWAP_ID);
        vm.prank(STRANGER); // anyone may call
        tm.expireSwap(SWAP_ID);
        _assertSwapState(SWAP_ID, S_EXPIRED);
        assertEq(tm.openSwapCount(KEY_A) + tm.openSwapCount(KEY_B), 0, "still listed");
    }

    function test_expireSwap_expiresProposedLongAfterTimelockB() public {
        ITransactionManager.SwapRequest memory r = _request();
        _propose(r);
        vm.warp(r.legA.timelock + 365 days);
        tm.expireSwap(SWAP_ID);
        _assertSwapState(SWAP_ID, S_EXPIRED);
        _assertLegs(SWAP_ID, L_NONE, L_NONE);
        assertFalse(_isOpenOn(KEY_A, SWAP_ID) || _isOpenOn(KEY_B, SWAP_ID), "still listed");
    }

    /// Replaces the removed "accepted, leg A never locked by TA" expiry: an accepted swap never expires
    /// (its legs end by records, see test_flow_acceptedButNeitherLegLocked).
    function test_expireSwap_revertsWhenAcceptedWithLegANeverLocked() public {
        ITransactionManager.SwapRequest memory r = _open();
        vm.warp(r.legA.timelock);
        _expireReverts(SWAP_ID, _notExpirable(SWAP_ID));
        vm.warp(r.legA.timelock + 365 days);
        _expireReverts(SWAP_ID, _notExpirable(SWAP_ID));
        _assertAcceptedAndListed(SWAP_ID, L_NONE, L_NONE);
    }

    function test_expireSwap_revertsWhenAcceptedWithLegsEnded() public {
        ITransactionManager.SwapRequest memory r = _open();
        _void(SWAP_ID, 1);
        vm.warp(r.legA.timelock + 1 days);
        _expireReverts(SWAP_ID, _notExpirable(SWAP_ID));
        _lock(SWAP_ID, 0);
        _refund(SWAP_ID, 0);
        _assertSwapState(SWAP_ID, S_CLOSED);
        _expireReverts(SWAP_ID, _notExpirable(SWAP_ID));
    }

    function test_expireSwap_revertsOnUnknownSwap() public {
        _expireReverts(SWAP_ID, abi.encodeWithSelector(ITransactionManager.SwapNotFound.selector, SWAP_ID));
    }

    function test_expireSwap_revertsWhenProposedBeforeTimelockB() public {
        ITransactionManager.SwapRequest memory r = _request();
        _propose(r);
        vm.warp(r.legB.timelock - 1);
        _expireReverts(
            SWAP_ID, abi.encodeWithSelector(ITransactionManager.SwapNotExpirable.selector, SWAP_ID)
        );
    }

    function test_expireSwap_revertsWhenAccepted() public {
        ITransactionManager.SwapRequest memory r = _open();
        _expireReverts(SWAP_ID, _notExpirable(SWAP_ID)); // before TB
        vm.warp(r.legB.timelock); // at TB
        _expireReverts(SWAP_ID, _notExpirable(SWAP_ID));
        vm.warp(r.legA.timelock - 1); // past TB, not yet TA
        _expireReverts(SWAP_ID, _notExpirable(SWAP_ID));
    }

    function test_expireSwap_revertsWhenLegALocked() public {
        ITransactionManager.SwapRequest memory r = _open();
        _lock(SWAP_ID, 0);
        vm.warp(r.legA.timelock + 30 days);
        _expireReverts(
            SWAP_ID, abi.encodeWithSelector(ITransactionManager.SwapNotExpirable.selector, SWAP_ID)
        );
    }

    function test_expireSwap_revertsWhenClosedOrExpired() public {
        ITransactionManager.SwapRequest memory r = _open();
        _lock(SWAP_ID, 0);
        vm.warp(r.legA.timelock);
        _refund(SWAP_ID, 0);
        _void(SWAP_ID, 1);
        _assertSwapState(SWAP_ID, S_CLOSED);
        _expireReverts(
            SWAP_ID, abi.encodeWithSelector(ITransactionManager.SwapNotExpirable.selector, SWAP_ID)
        );

        bytes32 id2 = _requestIdOf(USER_1, NONCE + 1);
        ITransactionManager.SwapRequest memory r2 = _requestWith(id2, NONCE + 1);
        _propose(r2);
        vm.warp(r2.legB.timelock);
        tm.expireSwap(id2);
        _expireReverts(id2, abi.encodeWithSelector(ITransactionManager.SwapNotExpirable.selector, id2));
    }

    // ================================================================ views

    function test_swap_returnsZeroForUnknownId() public view {
        ITransactionManager.Swap memory s = tm.swap(keccak256("nope"));
        assertEq(s.initiator, address(0), "initiator");
        assertEq(uint256(s.state), uint256(S_NONE), "state");
        assertEq(s.digest, bytes32(0), "digest");
    }

    function test_swapRequestDigest_matchesReference() public view {
        ITransactionManager.SwapRequest memory r = _request();
        assertEq(tm.swapRequestDigest(r), _refDigest(r, block.chainid, address(tm)), "digest");
        assertEq(tm.LEG_TYPEHASH(), REF_LEG_TYPEHASH, "leg typehash");
        assertEq(tm.SWAP_REQUEST_TYPEHASH(), REF_SWAP_TYPEHASH, "swap typehash");
    }

    function test_DOMAIN_SEPARATOR_followsChainId() public {
        assertEq(tm.DOMAIN_SEPARATOR(), _refDomain(block.chainid, address(tm)), "domain");
        vm.chainId(4242);
        assertEq(tm.DOMAIN_SEPARATOR(), _refDomain(4242, address(tm)), "domain after fork");
    }

    function test_wiring_pointsAtFixture() public view {
        assertEq(tm.registry(), address(registry), "registry");
        assertEq(tm.chainRegistry(), address(chains), "chains");
        assertEq(tm.permissionManager(), address(perms), "perms");
    }

    function test_openSwapCount_isZeroForUnknownChain() public view {
        assertEq(tm.openSwapCount(keccak256("unknown")), 0, "count");
        assertEq(tm.openSwaps(keccak256("unknown"), 0, 10).length, 0, "page");
    }

    function _proposeMany(uint256 n) internal returns (bytes32[] memory ids) {
        ids = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            ids[i] = _requestIdOf(USER_1, 1000 + i);
            _propose(_requestWith(ids[i], 1000 + i));
        }
    }

    function test_openSwaps_pagesInInsertionOrder() public {
        bytes32[] memory ids = _proposeMany(5);
        bytes32[] memory page = tm.openSwaps(KEY_A, 0, 2);
        assertEq(page.length, 2, "first page");
        assertEq(page[0], ids[0]);
        assertEq(page[1], ids[1]);
        page = tm.openSwaps(KEY_B, 2, 2);
        assertEq(page.length, 2, "second page");
        assertEq(page[0], ids[2]);
        assertEq(page[1], ids[3]);
        page = tm.openSwaps(KEY_A, 4, 2);
        assertEq(page.length, 1, "last page is short");
        assertEq(page[0], ids[4]);
        assertEq(tm.openSwaps(KEY_A, 5, 2).length, 0, "offset at end");
        assertEq(tm.openSwaps(KEY_A, type(uint256).max, 2).length, 0, "huge offset");
        assertEq(tm.openSwaps(KEY_A, 0, 0).length, 0, "zero limit");
        assertEq(tm.openSwaps(KEY_A, 1, type(uint256).max).length, 4, "huge limit");
    }

    function test_openSwaps_capsLimitAtMaxPage() public {
        _proposeMany(101);
        assertEq(tm.openSwapCount(KEY_A), 101, "count");
        assertEq(tm.openSwaps(KEY_A, 0, 1000).length, tm.MAX_PAGE(), "capped");
        assertEq(tm.openSwaps(KEY_A, 100, 1000).length, 1, "tail");
    }

    function test_openSwaps_removalMovesLastIntoGap() public {
        bytes32[] memory ids = _proposeMany(3);
        vm.warp(block.timestamp + 1 days); // at TB of all three
        tm.expireSwap(ids[0]);
        bytes32[] memory page = tm.openSwaps(KEY_A, 0, 10);
        assertEq(page.length, 2, "count");
        assertEq(page[0], ids[2], "last moved into the gap");
        assertEq(page[1], ids[1], "middle kept");
        tm.expireSwap(ids[1]); // now last: a plain pop
        page = tm.openSwaps(KEY_B, 0, 10);
        assertEq(page.length, 1, "count B");
        assertEq(page[0], ids[2], "survivor");
        tm.expireSwap(ids[2]);
        assertEq(tm.openSwapCount(KEY_A) + tm.openSwapCount(KEY_B), 0, "empty");
    }

    // ================================================================ flows

    function test_flow_completedSwap() public {
        ITransactionManager.SwapRequest memory r = _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        // The initiator's relayer reveals the secret on chain B...
        vm.prank(RELAYER_2);
        tm.recordLegUnlocked(SWAP_ID, 1, SECRET, "unlock B");
        assertEq(tm.swap(SWAP_ID).secret, SECRET, "secret published");
        assertEq(sha256(abi.encodePacked(tm.swap(SWAP_ID).secret)), r.hashlock, "secret opens the hashlock");
        // ...and any relayer of A unlocks A with the published secret.
        bytes32 published = tm.swap(SWAP_ID).secret;
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.SwapClosed(SWAP_ID, L_UNLOCKED, L_UNLOCKED);
        vm.prank(RELAYER_1);
        tm.recordLegUnlocked(SWAP_ID, 0, published, "unlock A");
        _assertSwapState(SWAP_ID, S_CLOSED);
        _assertLegs(SWAP_ID, L_UNLOCKED, L_UNLOCKED);
        assertFalse(_isOpenOn(KEY_A, SWAP_ID), "listed on A");
        assertFalse(_isOpenOn(KEY_B, SWAP_ID), "listed on B");
        assertEq(tm.openSwapCount(KEY_A) + tm.openSwapCount(KEY_B), 0, "counts");
    }

    /// A locked, B never locked: A refunded at TA, then B voided -> Closed(Refunded, Void).
    function test_flow_counterpartyNeverLocks() public {
        ITransactionManager.SwapRequest memory r = _open();
        _lock(SWAP_ID, 0);
        vm.warp(r.legA.timelock);
        _refund(SWAP_ID, 0);
        _assertAcceptedAndListed(SWAP_ID, L_REFUNDED, L_NONE); // no longer closes alone
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.SwapClosed(SWAP_ID, L_REFUNDED, L_VOID);
        _void(SWAP_ID, 1);
        _assertClosedAndUnlisted(SWAP_ID, L_REFUNDED, L_VOID);
        assertEq(tm.swap(SWAP_ID).secret, bytes32(0), "secret never revealed");
        assertEq(tm.openSwapCount(KEY_A) + tm.openSwapCount(KEY_B), 0, "counts");
    }

    /// The same outcome in chain-clock order: B voided at TB while A is still locked (the swap stays
    /// accepted until A ends), then A refunded at TA closes it.
    function test_flow_counterpartyNeverLocksVoidBeforeRefund() public {
        ITransactionManager.SwapRequest memory r = _open();
        _lock(SWAP_ID, 0);
        vm.warp(r.legB.timelock);
        _void(SWAP_ID, 1);
        _assertAcceptedAndListed(SWAP_ID, L_LOCKED, L_VOID);
        vm.warp(r.legA.timelock);
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.SwapClosed(SWAP_ID, L_REFUNDED, L_VOID);
        _refund(SWAP_ID, 0);
        _assertClosedAndUnlisted(SWAP_ID, L_REFUNDED, L_VOID);
    }

    /// B void while A is still locked leaves the swap accepted until A ends, whichever way A ends.
    function test_flow_legBVoidWhileLegALockedThenLegAUnlocked() public {
        _open();
        _lock(SWAP_ID, 0);
        _void(SWAP_ID, 1);
        _assertAcceptedAndListed(SWAP_ID, L_LOCKED, L_VOID);
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.SwapClosed(SWAP_ID, L_UNLOCKED, L_VOID);
        _unlock(SWAP_ID, 0);
        _assertClosedAndUnlisted(SWAP_ID, L_UNLOCKED, L_VOID);
    }

    /// The secret was revealed on A first (A unlocked) and B was never locked: B can no longer be locked,
    /// and its void closes the swap as Closed(Unlocked, Void).
    function test_flow_secretRevealedOnLegAFirst() public {
        ITransactionManager.SwapRequest memory r = _open();
        _lock(SWAP_ID, 0);
        _unlock(SWAP_ID, 0);
        assertEq(tm.swap(SWAP_ID).secret, SECRET, "secret published");
        _assertAcceptedAndListed(SWAP_ID, L_UNLOCKED, L_NONE);
        _lockReverts(
            RELAYER_2,
            SWAP_ID,
            1,
            "",
            abi.encodeWithSelector(ITransactionManager.SwapLegOutOfOrder.selector, SWAP_ID)
        );
        vm.warp(r.legB.timelock);
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.SwapClosed(SWAP_ID, L_UNLOCKED, L_VOID);
        _void(SWAP_ID, 1);
        _assertClosedAndUnlisted(SWAP_ID, L_UNLOCKED, L_VOID);
        assertEq(tm.swap(SWAP_ID).secret, SECRET, "secret kept");
    }

    function test_flow_initiatorNeverReveals() public {
        ITransactionManager.SwapRequest memory r = _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        vm.warp(r.legB.timelock);
        _refund(SWAP_ID, 1);
        _assertSwapState(SWAP_ID, S_ACCEPTED);
        assertTrue(_isOpenOn(KEY_A, SWAP_ID), "open until A settles");
        vm.warp(r.legA.timelock);
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.SwapClosed(SWAP_ID, L_REFUNDED, L_REFUNDED);
        _refund(SWAP_ID, 0);
        _assertSwapState(SWAP_ID, S_CLOSED);
        _assertLegs(SWAP_ID, L_REFUNDED, L_REFUNDED);
        assertEq(tm.openSwapCount(KEY_A) + tm.openSwapCount(KEY_B), 0, "counts");
    }

    function test_flow_neverAccepted() public {
        ITransactionManager.SwapRequest memory r = _request();
        _propose(r);
        vm.warp(r.legB.timelock);
        tm.expireSwap(SWAP_ID);
        _assertSwapState(SWAP_ID, S_EXPIRED);
        _assertLegs(SWAP_ID, L_NONE, L_NONE);
        assertFalse(_isOpenOn(KEY_A, SWAP_ID) || _isOpenOn(KEY_B, SWAP_ID), "listed");
        assertTrue(tm.nonceUsed(USER_1, NONCE), "nonce stays used");
    }

    /// Accepted, A never locked: no expiry any more; B voided at TB, A voided at TA -> Closed(Void, Void).
    function test_flow_acceptedButNeitherLegLocked() public {
        ITransactionManager.SwapRequest memory r = _open();
        vm.warp(r.legB.timelock);
        _expireReverts(SWAP_ID, _notExpirable(SWAP_ID));
        _void(SWAP_ID, 1);
        _assertAcceptedAndListed(SWAP_ID, L_NONE, L_VOID);
        vm.warp(r.legA.timelock);
        _expireReverts(SWAP_ID, _notExpirable(SWAP_ID));
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.LegVoided(SWAP_ID, 0, RELAYER_1, abi.encodePacked("void-check", uint8(0)));
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.SwapClosed(SWAP_ID, L_VOID, L_VOID);
        _void(SWAP_ID, 0);
        _assertClosedAndUnlisted(SWAP_ID, L_VOID, L_VOID);
        assertEq(tm.openSwapCount(KEY_A) + tm.openSwapCount(KEY_B), 0, "counts");
        assertEq(tm.swap(SWAP_ID).secret, bytes32(0), "secret");
    }

    /// The same with leg A voided first: the swap closes on B's void.
    function test_flow_acceptedButNeitherLegLockedVoidAFirst() public {
        _open();
        _void(SWAP_ID, 0);
        _assertAcceptedAndListed(SWAP_ID, L_VOID, L_NONE);
        // After A voided, B may not be locked.
        _lockReverts(
            RELAYER_2,
            SWAP_ID,
            1,
            "",
            abi.encodeWithSelector(ITransactionManager.SwapLegOutOfOrder.selector, SWAP_ID)
        );
        vm.expectEmit(true, true, true, true, address(tm));
        emit ITransactionManager.SwapClosed(SWAP_ID, L_VOID, L_VOID);
        _void(SWAP_ID, 1);
        _assertClosedAndUnlisted(SWAP_ID, L_VOID, L_VOID);
    }

    /// Leg A locked after B was voided (B's chain passed TB first): A can still only be refunded or
    /// unlocked, and that closes the swap.
    function test_flow_legALockedAfterLegBVoided() public {
        ITransactionManager.SwapRequest memory r = _open();
        _void(SWAP_ID, 1);
        _lock(SWAP_ID, 0);
        _assertAcceptedAndListed(SWAP_ID, L_LOCKED, L_VOID);
        vm.warp(r.legA.timelock);
        _refund(SWAP_ID, 0);
        _assertClosedAndUnlisted(SWAP_ID, L_REFUNDED, L_VOID);
    }

    /// Replaces the removed "lock recorded after expiry" flow: only a never-accepted swap expires, and
    /// after that no leg record of any kind is accepted.
    function test_flow_noRecordAfterExpiry() public {
        ITransactionManager.SwapRequest memory r = _expired();
        _assertSwapState(SWAP_ID, S_EXPIRED);
        _allRecordsRevert(SWAP_ID, _notInProgress(SWAP_ID, S_EXPIRED));
        vm.warp(r.legA.timelock + 1);
        _allRecordsRevert(SWAP_ID, _notInProgress(SWAP_ID, S_EXPIRED));
        _assertLegs(SWAP_ID, L_NONE, L_NONE);
        assertEq(tm.openSwapCount(KEY_A) + tm.openSwapCount(KEY_B), 0, "counts");
    }

    function test_flow_noRecordAfterClose() public {
        _open();
        _void(SWAP_ID, 1);
        _void(SWAP_ID, 0);
        _allRecordsRevert(SWAP_ID, _notInProgress(SWAP_ID, S_CLOSED));
        _assertClosedAndUnlisted(SWAP_ID, L_VOID, L_VOID);
    }

    function test_flow_legBLockBeforeLegA() public {
        _open();
        _lockReverts(
            RELAYER_2,
            SWAP_ID,
            1,
            "",
            abi.encodeWithSelector(ITransactionManager.SwapLegOutOfOrder.selector, SWAP_ID)
        );
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        _assertLegs(SWAP_ID, L_LOCKED, L_LOCKED);
    }

    function test_flow_independentSwapsKeepTheirOwnLists() public {
        _open();
        bytes32 id2 = _requestIdOf(USER_1, NONCE + 1);
        _propose(_requestWith(id2, NONCE + 1));
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        _unlock(SWAP_ID, 1);
        _unlock(SWAP_ID, 0);
        assertEq(tm.openSwapCount(KEY_A), 1, "count A");
        assertEq(tm.openSwaps(KEY_A, 0, 10)[0], id2, "survivor on A");
        assertEq(tm.openSwaps(KEY_B, 0, 10)[0], id2, "survivor on B");
        _assertSwapState(id2, S_PROPOSED);
    }

    // ================================================================ fuzz

    function testFuzz_swapRequestDigest_matchesReference(
        ITransactionManager.SwapRequest memory r,
        uint64 chainId,
        address deployer
    ) public {
        chainId = uint64(bound(chainId, 1, type(uint64).max));
        vm.chainId(chainId);
        assertEq(tm.swapRequestDigest(r), _refDigest(r, chainId, address(tm)), "digest");
        // A different verifying contract yields a different digest.
        vm.assume(deployer != address(tm));
        assertTrue(_refDigest(r, chainId, deployer) != tm.swapRequestDigest(r), "domain binds the contract");
    }

    function testFuzz_proposeSwap_rejectsWrongSigner(uint256 pk) public {
        pk = bound(pk, 1, N - 1);
        vm.assume(pk != PK_INIT);
        ITransactionManager.SwapRequest memory r = _request();
        bytes memory sig = _signRequest(pk, r);
        _proposeReverts(
            r,
            sig,
            RELAYER_1,
            abi.encodeWithSelector(ITransactionManager.SwapWrongSigner.selector, USER_1, vm.addr(pk))
        );
        _assertSwapState(SWAP_ID, S_NONE);
    }

    /// Whatever id a request carries, proposeSwap accepts it only when it is the initiator's own for the
    /// request's nonce.
    function testFuzz_proposeSwap_onlyTheBoundIdAccepted(bytes32 id, uint256 nonce, bool useBound) public {
        bytes32 bound_ = tm.requestId(USER_1, nonce);
        assertEq(bound_, _requestIdOf(USER_1, nonce), "requestId");
        ITransactionManager.SwapRequest memory r = _requestWith(useBound ? bound_ : id, nonce);
        vm.assume(r.swapId != bytes32(0));
        bytes memory sig = _signRequest(PK_INIT, r);
        if (r.swapId == bound_) {
            vm.prank(RELAYER_1);
            tm.proposeSwap(r, sig);
            _assertSwapState(bound_, S_PROPOSED);
            assertTrue(tm.nonceUsed(USER_1, nonce), "nonce used");
        } else {
            _proposeReverts(r, sig, RELAYER_1, _notBound(r.swapId, bound_));
            assertFalse(tm.nonceUsed(USER_1, nonce), "nonce untouched");
        }
    }

    function _recovered(bytes32 digest, bytes memory sig) internal pure returns (address) {
        (bytes32 sr, bytes32 ss) = abi.decode(sig, (bytes32, bytes32));
        return ecrecover(digest, uint8(sig[64]), sr, ss);
    }

    function _sigErr(address expected, address recovered) internal pure returns (bytes memory) {
        if (recovered == address(0)) {
            return abi.encodeWithSelector(ITransactionManager.SwapBadSignature.selector);
        }
        return abi.encodeWithSelector(ITransactionManager.SwapWrongSigner.selector, expected, recovered);
    }

    function testFuzz_proposeSwap_rejectsSignatureForOtherChainId(uint64 otherChainId) public {
        uint256 here = block.chainid;
        otherChainId = uint64(bound(otherChainId, 1, type(uint64).max));
        vm.assume(otherChainId != here);
        ITransactionManager.SwapRequest memory r = _request();
        vm.chainId(otherChainId);
        bytes memory sig = _signRequest(PK_INIT, r);
        vm.chainId(here);
        address recovered = _recovered(tm.swapRequestDigest(r), sig);
        assertTrue(recovered != USER_1, "replayable across chains");
        _proposeReverts(r, sig, RELAYER_1, _sigErr(USER_1, recovered));
        _assertSwapState(SWAP_ID, S_NONE);
    }

    function testFuzz_acceptSwap_rejectsSignatureForOtherChainId(uint64 otherChainId) public {
        uint256 here = block.chainid;
        otherChainId = uint64(bound(otherChainId, 1, type(uint64).max));
        vm.assume(otherChainId != here);
        ITransactionManager.SwapRequest memory r = _request();
        _propose(r);
        vm.chainId(otherChainId);
        bytes memory sig = _signRequest(PK_CP, r);
        vm.chainId(here);
        address recovered = _recovered(tm.swap(SWAP_ID).digest, sig);
        _acceptReverts(RELAYER_2, SWAP_ID, sig, _sigErr(USER_2, recovered));
        _assertSwapState(SWAP_ID, S_PROPOSED);
    }

    function testFuzz_acceptSwap_rejectsWrongSigner(uint256 pk) public {
        pk = bound(pk, 1, N - 1);
        vm.assume(pk != PK_CP);
        _propose(_request());
        bytes memory sig = _sign(pk, tm.swap(SWAP_ID).digest);
        _acceptReverts(
            RELAYER_2,
            SWAP_ID,
            sig,
            abi.encodeWithSelector(ITransactionManager.SwapWrongSigner.selector, USER_2, vm.addr(pk))
        );
    }

    /// Mutates field `field` (0-16, in declaration order) of `r` to another value that passes every
    /// check made before the signature check.
    function _mutate(ITransactionManager.SwapRequest memory r, uint256 field, uint256 seed) internal view {
        bytes32 h = keccak256(abi.encode(seed, "mutation"));
        address someone = address(uint160(uint256(h)) | 1);
        if (field == 0) r.swapId = h;
        else if (field == 1) r.hashlock = h;
        else if (field == 2) r.legA.zone = ZONE_B;
        else if (field == 3) r.legA.chain = CHAIN_B;
        else if (field == 4) r.legA.resource = "asset-2";
        else if (field == 5) r.legA.sender = someone;
        else if (field == 6) r.legA.recipient = someone;
        else if (field == 7) r.legA.amount = r.legA.amount + 1 + (seed % 1e30);
        else if (field == 8) r.legA.timelock = r.legA.timelock + 1 + uint64(seed % 1 days);
        else if (field == 9) r.legB.zone = ZONE_A;
        else if (field == 10) r.legB.chain = CHAIN_A;
        else if (field == 11) r.legB.resource = "asset_3";
        else if (field == 12) r.legB.sender = someone;
        else if (field == 13) r.legB.recipient = someone;
        else if (field == 14) r.legB.amount = 1 + (seed % r.legB.amount); // 1..50, differs unless equal
        else if (field == 15) r.legB.timelock = uint64(block.timestamp + 1 + (seed % 1 hours));
        else r.nonce = r.nonce + 1 + seed % 1000;
    }

    function _admitCrossChains() internal {
        // zoneB.chainA and zoneA.chainB, so a single mutated zone or chain segment still names an
        // admitted chain and the signature is what rejects the request.
        _admitChain(ZONE_B, CHAIN_A, 2001, INST_1);
        _admitChain(ZONE_A, CHAIN_B, 2002, INST_2);
    }

    function testFuzz_proposeSwap_rejectsAnySingleMutatedField(uint256 field, uint256 seed) public {
        field = bound(field, 0, 16);
        _admitCrossChains();
        ITransactionManager.SwapRequest memory r = _request();
        bytes memory sig = _signRequest(PK_INIT, r);
        bytes32 original = tm.swapRequestDigest(r);
        _mutate(r, field, seed);
        bytes32 mutated = tm.swapRequestDigest(r);
        vm.assume(mutated != original); // only field 14 can land on the same value
        address recovered = _recovered(mutated, sig);
        assertTrue(recovered != USER_1, "mutated request accepted the original signature");
        _proposeReverts(r, sig, RELAYER_1, _sigErr(r.legA.sender, recovered));
        _assertSwapState(r.swapId, S_NONE);
    }

    function testFuzz_acceptSwap_rejectsSignatureOverMutatedRequest(uint256 field, uint256 seed) public {
        field = bound(field, 0, 16);
        ITransactionManager.SwapRequest memory r = _request();
        _propose(r);
        _mutate(r, field, seed);
        vm.assume(tm.swapRequestDigest(r) != tm.swap(SWAP_ID).digest);
        bytes memory sig = _signRequest(PK_CP, r);
        address recovered = _recovered(tm.swap(SWAP_ID).digest, sig);
        _acceptReverts(RELAYER_2, SWAP_ID, sig, _sigErr(USER_2, recovered));
    }

    function testFuzz_proposeSwap_timelockRule(uint64 ta, uint64 tb) public {
        ITransactionManager.SwapRequest memory r = _request();
        r.legA.timelock = ta;
        r.legB.timelock = tb;
        bool valid = tb > block.timestamp && uint256(ta) > uint256(tb) + MARGIN
            && uint256(ta) <= block.timestamp + MAX_SWAP_DURATION;
        if (valid) {
            _propose(r);
            ITransactionManager.Swap memory s = tm.swap(SWAP_ID);
            assertEq(uint256(s.timelockA), ta, "TA");
            assertEq(uint256(s.timelockB), tb, "TB");
        } else {
            _proposeRevertsFresh(r, _badTimelocks(r));
        }
    }

    function testFuzz_recordLegUnlocked_rejectsWrongSecret(bytes32 secret, uint8 leg) public {
        vm.assume(secret != SECRET);
        leg = uint8(bound(leg, 0, 1));
        _open();
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        _unlockReverts(
            _relayerOf(leg),
            SWAP_ID,
            leg,
            secret,
            "",
            abi.encodeWithSelector(ITransactionManager.SwapWrongSecret.selector, SWAP_ID)
        );
        assertEq(tm.swap(SWAP_ID).secret, bytes32(0), "secret stored");
    }

    function testFuzz_recordLegUnlocked_acceptsAnyPreimage(bytes32 secret) public {
        ITransactionManager.SwapRequest memory r = _request();
        r.hashlock = _hashlock(secret);
        _propose(r);
        _accept(SWAP_ID);
        _lock(SWAP_ID, 0);
        _lock(SWAP_ID, 1);
        vm.prank(RELAYER_2);
        tm.recordLegUnlocked(SWAP_ID, 1, secret, "");
        assertEq(tm.swap(SWAP_ID).secret, secret, "secret");
    }

    function testFuzz_recordLegLocked_evidenceLength(uint16 length) public {
        uint256 len = bound(length, 0, 2 * MAX_EVIDENCE);
        _open();
        if (len <= MAX_EVIDENCE) {
            vm.prank(RELAYER_1);
            tm.recordLegLocked(SWAP_ID, 0, new bytes(len));
            _assertLegs(SWAP_ID, L_LOCKED, L_NONE);
        } else {
            _lockReverts(
                RELAYER_1,
                SWAP_ID,
                0,
                new bytes(len),
                abi.encodeWithSelector(ITransactionManager.SwapEvidenceTooLarge.selector, len)
            );
        }
    }

    /// Only a proposed swap expires, at or after TB; an accepted one never does, at any time.
    function testFuzz_expireSwap_onlyProposedAtOrAfterTimelockB(uint256 dt, bool accepted, address caller)
        public
    {
        vm.assume(caller != address(tm)); // its own address means "a report item" to the manager
        ITransactionManager.SwapRequest memory r = _request();
        _propose(r);
        if (accepted) _accept(SWAP_ID);
        vm.warp(bound(dt, block.timestamp, r.legA.timelock + 365 days));
        if (!accepted && block.timestamp >= r.legB.timelock) {
            vm.prank(caller); // anyone
            tm.expireSwap(SWAP_ID);
            _assertSwapState(SWAP_ID, S_EXPIRED);
            _assertLegs(SWAP_ID, L_NONE, L_NONE);
        } else {
            _expireReverts(SWAP_ID, _notExpirable(SWAP_ID));
            _assertSwapState(SWAP_ID, accepted ? S_ACCEPTED : S_PROPOSED);
        }
    }

    function testFuzz_recordLegVoid_evidenceLength(uint16 length, bool legB) public {
        uint256 len = bound(length, 0, 2 * MAX_EVIDENCE);
        uint8 leg = legB ? 1 : 0;
        _open();
        if (len <= MAX_EVIDENCE) {
            vm.prank(_relayerOf(leg));
            tm.recordLegVoid(SWAP_ID, leg, new bytes(len));
            _assertLegs(SWAP_ID, legB ? L_NONE : L_VOID, legB ? L_VOID : L_NONE);
        } else {
            _voidReverts(
                _relayerOf(leg),
                SWAP_ID,
                leg,
                new bytes(len),
                abi.encodeWithSelector(ITransactionManager.SwapEvidenceTooLarge.selector, len)
            );
        }
    }

    function testFuzz_recordLegVoid_rejectsNonServingCaller(address caller, bool legB) public {
        uint8 leg = legB ? 1 : 0;
        vm.assume(caller != _relayerOf(leg));
        vm.assume(caller != address(tm)); // its own address means "a report item" to the manager
        _open();
        _voidReverts(caller, SWAP_ID, leg, "", _notServing(SWAP_ID, leg, caller));
    }

    function testFuzz_proposeSwap_rejectsNonUserCounterparty(address counterparty) public {
        vm.assume(counterparty != address(0));
        vm.assume(registry.activeInstitutionOf(counterparty, IInstitutionRegistry.Role.User) == 0);
        _proposeRevertsFresh(_requestWithCounterparty(counterparty), _notUser(counterparty));
    }
}
