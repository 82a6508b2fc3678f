// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "./utils/Test.sol";
import {IHtlcAsset} from "../src/interfaces/IHtlcAsset.sol";
import {HtlcAsset} from "../src/resources/HtlcAsset.sol";

/// @notice Drives an HtlcAsset with random lock / unlock / timeout / transfer / clock sequences among four
/// key-holding actors, keeping a reference model. Locks are tracked by the lock id the model derives from
/// their terms; some reuse another lock's swapId with other terms (a squat), which must make a lock of its
/// own. Handler reverts are discarded by forge (fail_on_revert = false), so violations are counted and the
/// invariants assert the counters are zero.
contract HtlcAssetHandler is Test {
    uint256 internal constant ACTORS = 4;
    uint256 internal constant INITIAL = 1e6;
    uint256 internal constant START = 1_700_000_000;
    bytes32 internal constant LOCK_TYPEHASH = keccak256(
        "Lock(bytes32 swapId,address sender,address recipient,uint256 amount,bytes32 hashlock,uint64 timelock)"
    );

    struct GhostSwap {
        /// the lock id: the struct hash of the terms, as the model computes it
        bytes32 id;
        bytes32 swapId;
        bytes32 hashlock;
        bytes32 secret;
        address sender;
        address recipient;
        uint256 amount;
        uint64 timelock;
        /// The correct secret was presented to `unlock` while the swap was Locked and before its timelock.
        bool secretInTime;
        bool paidRecipient;
        bool refundedSender;
    }

    HtlcAsset public immutable asset;
    uint256[ACTORS] internal _keys;
    address[ACTORS] internal _actors;
    GhostSwap[] internal _swaps;

    uint256 public now_ = START;
    uint256 public ghostMinted;
    mapping(address account => uint256) public ghostBalance;

    uint256 public outcomeMismatches;
    /// A successful lock returned another id than the model's.
    uint256 public lockIdMismatches;
    uint256 public failedCallsThatChangedState;
    uint256 public locksOk;
    uint256 public unlocksOk;
    uint256 public timeoutsOk;
    uint256 public squatsOk;

    constructor() {
        asset = new HtlcAsset();
        for (uint256 i; i < ACTORS; ++i) {
            _keys[i] = 0xA0000 + i;
            _actors[i] = vm.addr(_keys[i]);
            asset.mint(_actors[i], INITIAL);
            ghostBalance[_actors[i]] = INITIAL;
            ghostMinted += INITIAL;
        }
    }

    // ------------------------------------------------------------------ actions

    function warp(uint256 delta) external {
        now_ += bound(delta, 0, 4 hours);
        vm.warp(now_);
    }

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        vm.warp(now_);
        address from = _actors[fromSeed % ACTORS];
        address to = _actors[toSeed % ACTORS];
        amount = bound(amount, 0, ghostBalance[from] + 10);
        bool expected = amount <= ghostBalance[from];
        uint256[ACTORS + 2] memory before = _snap();
        vm.prank(from);
        (bool ok,) = address(asset).call(abi.encodeCall(IHtlcAsset.transfer, (to, amount)));
        _check(ok, expected, before);
        if (ok) {
            ghostBalance[from] -= amount;
            ghostBalance[to] += amount;
        }
    }

    struct LockCall {
        uint256 senderIndex;
        address sender;
        address recipient;
        uint256 amount;
        uint64 timelock;
        bytes32 secret;
        bytes32 hashlock;
        bytes32 swapId;
        uint256 fault;
        bytes sig;
    }

    /// Locks a leg, usually validly signed; sometimes signed by the wrong key, over other fields, or with
    /// an amount or timelock the contract must refuse.
    function lock(
        uint256 senderSeed,
        uint256 recipientSeed,
        uint256 amount,
        uint256 duration,
        uint256 secretSeed,
        uint256 faultSeed
    ) external {
        vm.warp(now_);
        LockCall memory c;
        c.senderIndex = senderSeed % ACTORS;
        c.sender = _actors[c.senderIndex];
        c.recipient = _actors[recipientSeed % ACTORS];
        c.amount = bound(amount, 0, ghostBalance[c.sender] + 10);
        // Mostly in the future, sometimes now or already past.
        c.timelock = uint64(now_ - 60 + bound(duration, 0, 6 hours));
        c.secret = keccak256(abi.encode(secretSeed, _swaps.length));
        c.hashlock = sha256(abi.encodePacked(c.secret));
        c.swapId = keccak256(abi.encode("htlc-invariant-swap", _swaps.length));
        // fault 0: signed by another actor's key; fault 1: signed over another amount.
        c.fault = faultSeed % 8;
        c.sig = _signLock(c);

        bool expected = c.fault > 1 && c.amount > 0 && c.timelock > now_ && c.amount <= ghostBalance[c.sender];
        if (_submit(c, expected)) ++locksOk;
    }

    /// Another actor locks under an existing lock's swapId with terms of its own (its own key, another
    /// amount and hashlock): a lock of its own, which must leave the existing one as it was.
    function squat(uint256 swapSeed, uint256 senderSeed, uint256 amount, uint256 duration) external {
        if (_swaps.length == 0) return;
        vm.warp(now_);
        LockCall memory c;
        c.swapId = _swaps[swapSeed % _swaps.length].swapId;
        c.senderIndex = senderSeed % ACTORS;
        c.sender = _actors[c.senderIndex];
        c.recipient = _actors[(c.senderIndex + 1) % ACTORS];
        c.amount = bound(amount, 0, ghostBalance[c.sender] + 10);
        c.timelock = uint64(now_ + 1 + bound(duration, 0, 6 hours));
        c.secret = keccak256(abi.encode("squat", _swaps.length));
        c.hashlock = sha256(abi.encodePacked(c.secret));
        c.fault = 2; // validly signed
        c.sig = _signLock(c);
        if (_submit(c, c.amount > 0 && c.amount <= ghostBalance[c.sender])) ++squatsOk;
    }

    /// Submits `c` through a relayer, checks the outcome against `expected` and, on success, that the
    /// returned id is the model's, then records the lock.
    function _submit(LockCall memory c, bool expected) internal returns (bool ok) {
        uint256[ACTORS + 2] memory before = _snap();
        vm.prank(address(0xBEEF));
        bytes memory ret;
        (ok, ret) = address(asset)
            .call(
                abi.encodeCall(
                    IHtlcAsset.lock,
                    (c.swapId, c.sender, c.recipient, c.amount, c.hashlock, c.timelock, c.sig)
                )
            );
        _check(ok, expected, before);
        if (!ok) return false;
        bytes32 id = _lockId(c.swapId, c.sender, c.recipient, c.amount, c.hashlock, c.timelock);
        if (abi.decode(ret, (bytes32)) != id) ++lockIdMismatches;
        ghostBalance[c.sender] -= c.amount;
        _swaps.push(
            GhostSwap({
                id: id,
                swapId: c.swapId,
                hashlock: c.hashlock,
                secret: c.secret,
                sender: c.sender,
                recipient: c.recipient,
                amount: c.amount,
                timelock: c.timelock,
                secretInTime: false,
                paidRecipient: false,
                refundedSender: false
            })
        );
    }

    /// The lock id written out from the interface notes.
    function _lockId(
        bytes32 swapId,
        address sender,
        address recipient,
        uint256 amount,
        bytes32 hashlock,
        uint64 timelock
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(LOCK_TYPEHASH, swapId, sender, recipient, amount, hashlock, timelock));
    }

    function _signLock(LockCall memory c) internal view returns (bytes memory) {
        uint256 key = c.fault == 0 ? _keys[(c.senderIndex + 1) % ACTORS] : _keys[c.senderIndex];
        uint256 signedAmount = c.fault == 1 ? c.amount + 1 : c.amount;
        bytes32 digest =
            asset.lockDigest(c.swapId, c.sender, c.recipient, signedAmount, c.hashlock, c.timelock);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// Re-submits a made lock, terms and signature: it must never lock twice, whatever its state.
    function relock(uint256 swapSeed) external {
        if (_swaps.length == 0) return;
        vm.warp(now_);
        GhostSwap storage g = _swaps[swapSeed % _swaps.length];
        uint256 key = _keyOf(g.sender);
        (uint8 v, bytes32 r, bytes32 sv) =
            vm.sign(key, asset.lockDigest(g.swapId, g.sender, g.recipient, g.amount, g.hashlock, g.timelock));
        uint256[ACTORS + 2] memory before = _snap();
        (bool ok,) = address(asset)
            .call(
                abi.encodeCall(
                    IHtlcAsset.lock,
                    (
                        g.swapId,
                        g.sender,
                        g.recipient,
                        g.amount,
                        g.hashlock,
                        g.timelock,
                        abi.encodePacked(r, sv, v)
                    )
                )
            );
        _check(ok, false, before);
    }

    function unlock(uint256 swapSeed, uint256 secretChoice) external {
        if (_swaps.length == 0) return;
        vm.warp(now_);
        GhostSwap storage g = _swaps[swapSeed % _swaps.length];
        bool correct = secretChoice % 4 != 0;
        bytes32 secret = correct ? g.secret : keccak256(abi.encode(secretChoice));
        bool locked = !g.paidRecipient && !g.refundedSender;
        bool inTime = now_ < g.timelock;
        if (correct && locked && inTime) g.secretInTime = true;

        uint256[ACTORS + 2] memory before = _snap();
        (bool ok,) = address(asset).call(abi.encodeCall(IHtlcAsset.unlock, (g.id, secret)));
        _check(ok, correct && locked && inTime, before);
        if (ok) {
            ++unlocksOk;
            g.paidRecipient = true;
            ghostBalance[g.recipient] += g.amount;
        }
    }

    function timeout(uint256 swapSeed) external {
        if (_swaps.length == 0) return;
        vm.warp(now_);
        GhostSwap storage g = _swaps[swapSeed % _swaps.length];
        bool locked = !g.paidRecipient && !g.refundedSender;
        uint256[ACTORS + 2] memory before = _snap();
        (bool ok,) = address(asset).call(abi.encodeCall(IHtlcAsset.timeout, (g.id)));
        _check(ok, locked && now_ >= g.timelock, before);
        if (ok) {
            ++timeoutsOk;
            g.refundedSender = true;
            ghostBalance[g.sender] += g.amount;
        }
    }

    /// End of a run: past every timelock, anyone refunds what is still locked. Used by afterInvariant to
    /// check the final destination of every lock.
    function settleAll() external {
        now_ += 7 hours; // beyond every timelock (at most 6 hours ahead)
        vm.warp(now_);
        for (uint256 i; i < _swaps.length; ++i) {
            GhostSwap storage g = _swaps[i];
            if (g.paidRecipient || g.refundedSender) continue;
            uint256[ACTORS + 2] memory before = _snap();
            (bool ok,) = address(asset).call(abi.encodeCall(IHtlcAsset.timeout, (g.id)));
            _check(ok, true, before);
            if (ok) {
                g.refundedSender = true;
                ghostBalance[g.sender] += g.amount;
            }
        }
    }

    // ------------------------------------------------------------------ views for the invariants

    function swapCount() external view returns (uint256) {
        return _swaps.length;
    }

    function swapAt(uint256 i) external view returns (GhostSwap memory) {
        return _swaps[i];
    }

    function actorCount() external pure returns (uint256) {
        return ACTORS;
    }

    function actorAt(uint256 i) external view returns (address) {
        return _actors[i];
    }

    // ------------------------------------------------------------------ internal

    function _keyOf(address account) internal view returns (uint256) {
        for (uint256 i; i < ACTORS; ++i) {
            if (_actors[i] == account) return _keys[i];
        }
        return 0;
    }

    /// Balances of all actors, the hold and the supply.
    function _snap() internal view returns (uint256[ACTORS + 2] memory s) {
        for (uint256 i; i < ACTORS; ++i) {
            s[i] = asset.balanceOf(_actors[i]);
        }
        s[ACTORS] = asset.held();
        s[ACTORS + 1] = asset.totalSupply();
    }

    function _check(bool ok, bool expected, uint256[ACTORS + 2] memory before) internal {
        if (ok != expected) ++outcomeMismatches;
        if (!ok) {
            uint256[ACTORS + 2] memory afterwards = _snap();
            for (uint256 i; i < ACTORS + 2; ++i) {
                if (before[i] != afterwards[i]) {
                    ++failedCallsThatChangedState;
                    break;
                }
            }
        }
    }
}

contract HtlcAssetInvariantTest is Test {
    HtlcAssetHandler internal handler;
    HtlcAsset internal asset;

    function setUp() public {
        handler = new HtlcAssetHandler();
        asset = handler.asset();

        bytes4[] memory selectors = new bytes4[](7);
        selectors[0] = HtlcAssetHandler.warp.selector;
        selectors[1] = HtlcAssetHandler.transfer.selector;
        selectors[2] = HtlcAssetHandler.lock.selector;
        selectors[3] = HtlcAssetHandler.relock.selector;
        selectors[4] = HtlcAssetHandler.unlock.selector;
        selectors[5] = HtlcAssetHandler.timeout.selector;
        selectors[6] = HtlcAssetHandler.squat.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// Recipient paid iff the correct secret came before the timelock; sender refunded only otherwise;
    /// never both.
    function invariant_lockPaysRecipientIffSecretInTime() public view {
        _checkDestinations(false);
    }

    function invariant_totalSupplyConserved() public view {
        assertEq(asset.totalSupply(), handler.ghostMinted(), "supply moved without a mint");
        uint256 sum;
        for (uint256 i; i < handler.actorCount(); ++i) {
            sum += asset.balanceOf(handler.actorAt(i));
        }
        assertEq(sum + asset.held(), asset.totalSupply(), "sum(balances) + held != totalSupply");
    }

    function invariant_heldEqualsSumOfLockedAmounts() public view {
        uint256 locked;
        for (uint256 i; i < handler.swapCount(); ++i) {
            HtlcAssetHandler.GhostSwap memory g = handler.swapAt(i);
            IHtlcAsset.Swap memory s = asset.lockOf(g.id);
            if (s.state == IHtlcAsset.SwapState.Locked) locked += s.amount;
        }
        assertEq(asset.held(), locked, "held != sum of Locked amounts");
        assertEq(asset.balanceOf(address(asset)), locked, "the hold is the contract's own balance");
    }

    function invariant_balancesMatchModel() public view {
        for (uint256 i; i < handler.actorCount(); ++i) {
            address a = handler.actorAt(i);
            assertEq(asset.balanceOf(a), handler.ghostBalance(a), "balance differs from the model");
        }
    }

    function invariant_callOutcomesMatchModel() public view {
        assertEq(handler.outcomeMismatches(), 0, "a call succeeded or failed against the model");
        assertEq(handler.failedCallsThatChangedState(), 0, "a rejected call changed balances");
        assertEq(handler.lockIdMismatches(), 0, "lock returned another id than its terms'");
    }

    /// Every lock sits under the id of its own terms, whatever else was locked under its swapId.
    function invariant_everyLockHoldsTheTermsOfItsId() public view {
        for (uint256 i; i < handler.swapCount(); ++i) {
            HtlcAssetHandler.GhostSwap memory g = handler.swapAt(i);
            assertEq(
                asset.lockIdOf(g.swapId, g.sender, g.recipient, g.amount, g.hashlock, g.timelock), g.id, "id"
            );
            IHtlcAsset.Swap memory s = asset.lockOf(g.id);
            assertTrue(s.state != IHtlcAsset.SwapState.None, "a made lock is missing");
            assertEq(s.hashlock, g.hashlock, "hashlock");
            assertEq(uint256(s.timelock), uint256(g.timelock), "timelock");
            assertEq(s.amount, g.amount, "amount");
        }
    }

    /// After each run, time runs past every timelock and every still-locked leg is refunded: then each
    /// lock has ended at exactly one side, the recipient iff its secret came in time.
    function afterInvariant() public {
        handler.settleAll();
        _checkDestinations(true);
        assertEq(asset.held(), 0, "nothing stays held after settlement");
        invariant_balancesMatchModel();
        invariant_callOutcomesMatchModel();
    }

    function _checkDestinations(bool settled) internal view {
        for (uint256 i; i < handler.swapCount(); ++i) {
            HtlcAssetHandler.GhostSwap memory g = handler.swapAt(i);
            IHtlcAsset.Swap memory s = asset.lockOf(g.id);
            assertFalse(g.paidRecipient && g.refundedSender, "paid and refunded");
            assertEq(s.state == IHtlcAsset.SwapState.Unlocked, g.secretInTime, "Unlocked iff secret in time");
            assertEq(g.paidRecipient, g.secretInTime, "recipient paid iff secret in time");
            if (s.state == IHtlcAsset.SwapState.Refunded) {
                assertFalse(g.secretInTime, "refunded after a timely secret");
            }
            assertEq(g.refundedSender, s.state == IHtlcAsset.SwapState.Refunded, "refund matches state");
            if (s.state == IHtlcAsset.SwapState.Unlocked) assertEq(s.secret, g.secret, "revealed secret");
            assertEq(s.amount, g.amount, "amount");
            assertEq(s.sender, g.sender, "sender");
            assertEq(s.recipient, g.recipient, "recipient");
            if (settled) {
                assertTrue(s.state != IHtlcAsset.SwapState.Locked, "still locked after settlement");
                assertTrue(g.paidRecipient != g.refundedSender, "exactly one destination");
            }
        }
    }
}
