// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "./utils/Test.sol";
import {Vm} from "./utils/Vm.sol";
import {IHtlcAsset} from "../src/interfaces/IHtlcAsset.sol";
import {HtlcAsset} from "../src/resources/HtlcAsset.sol";

contract HtlcAssetTest is Test {
    uint256 internal constant SECP256K1_N =
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint256 internal constant T0 = 1_700_000_000;
    uint64 internal constant TIMELOCK = uint64(T0 + 1 hours);
    bytes32 internal constant SWAP = keccak256("swap-1");
    bytes32 internal constant SECRET = keccak256("the secret");
    bytes32 internal constant LOCK_TYPEHASH = keccak256(
        "Lock(bytes32 swapId,address sender,address recipient,uint256 amount,bytes32 hashlock,uint64 timelock)"
    );

    HtlcAsset internal asset;
    bytes32 internal hashlock;
    uint256 internal alicePk = 0xA11CE;
    uint256 internal bobPk = 0xB0B;
    address internal alice;
    address internal bob;
    address internal carol = address(0xCA201);
    address internal relayer = address(0xBEEF);
    address internal stranger = address(0x5757);
    /// The id of the default lock (`_lock`): alice locks 400 for carol under SWAP.
    bytes32 internal LOCK;

    /// Everything a failed call must leave untouched.
    struct Snap {
        uint256 supply;
        uint256 held;
        uint256 alice;
        uint256 bob;
        uint256 carol;
        uint256 relayer;
        IHtlcAsset.Swap swap;
    }

    function setUp() public {
        vm.warp(T0);
        alice = vm.addr(alicePk);
        bob = vm.addr(bobPk);
        asset = new HtlcAsset();
        asset.mint(alice, 1000);
        asset.mint(bob, 500);
        hashlock = sha256(abi.encodePacked(SECRET));
        LOCK = _lockIdRef(SWAP, alice, carol, 400, hashlock, TIMELOCK);
        vm.label(address(asset), "asset");
        vm.label(alice, "alice");
        vm.label(bob, "bob");
        vm.label(carol, "carol");
        vm.label(relayer, "relayer");
    }

    // ------------------------------------------------------------------ helpers

    function _sig(uint256 pk, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return abi.encodePacked(r, s, v);
    }

    function _signLock(
        uint256 pk,
        bytes32 swapId,
        address sender,
        address recipient,
        uint256 amount,
        bytes32 hashlock_,
        uint64 timelock
    ) internal view returns (bytes memory) {
        return _sig(pk, asset.lockDigest(swapId, sender, recipient, amount, hashlock_, timelock));
    }

    /// The default leg: alice locks 400 for carol, submitted by the relayer; stored under LOCK.
    function _lock() internal {
        bytes memory sig = _signLock(alicePk, SWAP, alice, carol, 400, hashlock, TIMELOCK);
        vm.prank(relayer);
        assertEq(asset.lock(SWAP, alice, carol, 400, hashlock, TIMELOCK, sig), LOCK, "lock id");
    }

    /// The lock id written out from the interface notes: the EIP-712 struct hash of the terms.
    function _lockIdRef(
        bytes32 swapId,
        address sender,
        address recipient,
        uint256 amount,
        bytes32 hashlock_,
        uint64 timelock
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(LOCK_TYPEHASH, swapId, sender, recipient, amount, hashlock_, timelock));
    }

    /// EIP-712 written out from the spec, independent of the contract's helpers.
    function _eip712Digest(
        uint256 chainId,
        address verifyingContract,
        bytes32 swapId,
        address sender,
        address recipient,
        uint256 amount,
        bytes32 hashlock_,
        uint64 timelock
    ) internal pure returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256(bytes("crossgov.HtlcAsset")),
                keccak256(bytes("1")),
                chainId,
                verifyingContract
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "Lock(bytes32 swapId,address sender,address recipient,uint256 amount,bytes32 hashlock,uint64 timelock)"
                ),
                swapId,
                sender,
                recipient,
                amount,
                hashlock_,
                timelock
            )
        );
        return keccak256(abi.encodePacked(hex"1901", domain, structHash));
    }

    function _snap() internal view returns (Snap memory s) {
        s.supply = asset.totalSupply();
        s.held = asset.held();
        s.alice = asset.balanceOf(alice);
        s.bob = asset.balanceOf(bob);
        s.carol = asset.balanceOf(carol);
        s.relayer = asset.balanceOf(relayer);
        s.swap = asset.lockOf(LOCK);
    }

    function _assertUnchanged(Snap memory a) internal view {
        Snap memory b = _snap();
        assertEq(a.supply, b.supply, "supply changed");
        assertEq(a.held, b.held, "held changed");
        assertEq(a.alice, b.alice, "alice changed");
        assertEq(a.bob, b.bob, "bob changed");
        assertEq(a.carol, b.carol, "carol changed");
        assertEq(a.relayer, b.relayer, "relayer changed");
        _assertSwapEq(a.swap, b.swap);
    }

    function _assertSwapEq(IHtlcAsset.Swap memory a, IHtlcAsset.Swap memory b) internal pure {
        assertEq(uint256(a.state), uint256(b.state), "swap state changed");
        assertEq(a.sender, b.sender, "swap sender changed");
        assertEq(a.recipient, b.recipient, "swap recipient changed");
        assertEq(a.amount, b.amount, "swap amount changed");
        assertEq(a.hashlock, b.hashlock, "swap hashlock changed");
        assertEq(uint256(a.timelock), uint256(b.timelock), "swap timelock changed");
        assertEq(a.secret, b.secret, "swap secret changed");
    }

    function _expectLockRevert(bytes memory err, bytes32 hashlock_, uint64 timelock, bytes memory sig)
        internal
    {
        Snap memory before = _snap();
        bytes32 attempted = _lockIdRef(SWAP, alice, carol, 400, hashlock_, timelock);
        IHtlcAsset.Swap memory attemptedBefore = asset.lockOf(attempted);
        vm.prank(relayer);
        vm.expectRevert(err);
        asset.lock(SWAP, alice, carol, 400, hashlock_, timelock, sig);
        _assertUnchanged(before);
        _assertSwapEq(attemptedBefore, asset.lockOf(attempted));
    }

    function _boundPk(uint256 pk) internal pure returns (uint256) {
        return bound(pk, 1, SECP256K1_N - 1);
    }

    // ------------------------------------------------------------------ constructor and views

    function test_constructor_setsOwnerAndEmptyState() public {
        HtlcAsset fresh = new HtlcAsset();
        assertEq(fresh.owner(), address(this));
        assertEq(fresh.totalSupply(), 0);
        assertEq(fresh.held(), 0);
    }

    function test_LOCK_TYPEHASH_matchesTypeString() public view {
        assertEq(
            asset.LOCK_TYPEHASH(),
            keccak256(
                "Lock(bytes32 swapId,address sender,address recipient,uint256 amount,bytes32 hashlock,uint64 timelock)"
            )
        );
    }

    function test_DOMAIN_SEPARATOR_matchesEip712() public view {
        bytes32 expected = keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256(bytes("crossgov.HtlcAsset")),
                keccak256(bytes("1")),
                block.chainid,
                address(asset)
            )
        );
        assertEq(asset.DOMAIN_SEPARATOR(), expected);
    }

    function test_DOMAIN_SEPARATOR_followsChainId() public {
        bytes32 original = asset.DOMAIN_SEPARATOR();
        vm.chainId(777);
        bytes32 forked = asset.DOMAIN_SEPARATOR();
        assertTrue(forked != original, "separator must change with the chain id");
        assertEq(
            asset.lockDigest(SWAP, alice, carol, 1, hashlock, TIMELOCK),
            _eip712Digest(777, address(asset), SWAP, alice, carol, 1, hashlock, TIMELOCK)
        );
    }

    function test_lockDigest_matchesEip712() public view {
        assertEq(
            asset.lockDigest(SWAP, alice, carol, 400, hashlock, TIMELOCK),
            _eip712Digest(block.chainid, address(asset), SWAP, alice, carol, 400, hashlock, TIMELOCK)
        );
    }

    /// Vector computed outside Solidity: `cast wallet sign --data` (alloy's EIP-712) on the typed data in
    /// fixtures/resource_vectors.json (htlcLock), with anvil's first dev key; the asset is deployed at nonce 0 by
    /// 0x…C0FFEE00 on chain 31337.
    function test_lockDigest_matchesCastVector() public {
        vm.chainId(31_337);
        vm.warp(1_700_000_000);
        address deployer = 0x00000000000000000000000000000000C0FfeE00;
        vm.prank(deployer);
        HtlcAsset vec = new HtlcAsset();
        assertEq(address(vec), 0xF0220502e2eF3D6d580A0BDedEf8F34e35bBf72f, "deployment address");

        uint256 pk = 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80;
        address sender = 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266;
        address recipient = 0x70997970C51812dc3A010C7d01b50e0d17dc79C8;
        bytes32 swapId = 0x8e8cb997b4880c960e3f5fd818b6fbec9affecc2904ef474e7a96112722527b0;
        bytes32 secret = 0xbdd99c0390c3f6045d9493eb56ec9623059e6b70f9ccfb249ad97fb5bb62bd3c;
        bytes32 hl = 0x1ee889e7f58768329b6d0d70c367275511de1ad20c5b55057f54019377aef914;
        uint64 timelock = 1_700_003_600;
        bytes memory sig =
            hex"5513e1773e524a9a6b240ec2464f49d527573e803c38ca4be40dd26f217daeb2754103250f539732dfa71bbd30d79a1f0b82211eff94ab7a1671c877d907c39d1c";

        assertEq(vm.addr(pk), sender);
        assertEq(sha256(abi.encodePacked(secret)), hl, "hashlock = sha256(secret)");
        assertEq(vec.LOCK_TYPEHASH(), 0x5d05fbbccc2645c350731c5e816ad4ec0f8f6c1e63dc5108b2f7a204923ffceb);
        assertEq(vec.DOMAIN_SEPARATOR(), 0xe968010f5ea1a6fa26b7d5e95197fbed60d7827fcb2f207b1843bf3f16b8febe);
        bytes32 digest = vec.lockDigest(swapId, sender, recipient, 1000, hl, timelock);
        assertEq(digest, 0x870fc76d107fadcdc3b2ae32656725f3ab90d458c5275fdd183c683bc629fe5a);
        assertEq(_sig(pk, digest), sig, "vm.sign and cast agree (RFC 6979)");

        vm.prank(deployer);
        vec.mint(sender, 1000);
        vm.prank(relayer);
        bytes32 lockId = vec.lock(swapId, sender, recipient, 1000, hl, timelock, sig);
        // The lock id is the struct hash under the digest: keccak256("\x19\x01" || separator || lockId).
        assertEq(keccak256(abi.encodePacked(hex"1901", vec.DOMAIN_SEPARATOR(), lockId)), digest, "id");
        vec.unlock(lockId, secret);
        assertEq(vec.balanceOf(recipient), 1000);
    }

    function test_lockOf_unknownIsEmpty() public view {
        IHtlcAsset.Swap memory s = asset.lockOf(keccak256("nope"));
        assertEq(uint256(s.state), uint256(IHtlcAsset.SwapState.None));
        assertEq(s.sender, address(0));
        assertEq(s.amount, 0);
    }

    /// The hashlock is SHA-256 of the 32 raw secret bytes (known vector: sha256 of 32 zero bytes).
    function test_hashlock_isSha256OfRawSecret() public pure {
        assertEq(
            sha256(abi.encodePacked(bytes32(0))),
            0x66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925
        );
    }

    // ------------------------------------------------------------------ mint

    function test_mint_creditsAndEmits() public {
        vm.expectEmit(address(asset));
        emit IHtlcAsset.Transfer(address(0), carol, 25);
        asset.mint(carol, 25);
        assertEq(asset.balanceOf(carol), 25);
        assertEq(asset.totalSupply(), 1525);
    }

    function test_mint_revertsWhenNotOwner() public {
        Snap memory before = _snap();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcNotOwner.selector, stranger));
        asset.mint(carol, 1);
        _assertUnchanged(before);
    }

    function test_mint_revertsOnZeroRecipient() public {
        Snap memory before = _snap();
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcBadRecipient.selector, address(0)));
        asset.mint(address(0), 1);
        _assertUnchanged(before);
    }

    function test_mint_revertsOnAssetRecipient() public {
        Snap memory before = _snap();
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcBadRecipient.selector, address(asset)));
        asset.mint(address(asset), 1);
        _assertUnchanged(before);
    }

    function test_mint_revertsOnSupplyOverflow() public {
        Snap memory before = _snap();
        uint256 headroom = type(uint256).max - 1500;
        vm.expectRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcSupplyOverflow.selector, headroom + 1, headroom)
        );
        asset.mint(carol, headroom + 1);
        _assertUnchanged(before);
    }

    // ------------------------------------------------------------------ transfer

    function test_transfer_movesAndEmits() public {
        vm.expectEmit(address(asset));
        emit IHtlcAsset.Transfer(alice, carol, 100);
        vm.prank(alice);
        assertTrue(asset.transfer(carol, 100));
        assertEq(asset.balanceOf(alice), 900);
        assertEq(asset.balanceOf(carol), 100);
    }

    function test_transfer_revertsOnInsufficientBalance() public {
        _lock(); // 400 of alice's 1000 are held
        Snap memory before = _snap();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcInsufficientBalance.selector, alice, 600, 601));
        asset.transfer(carol, 601);
        _assertUnchanged(before);
    }

    function test_transfer_revertsOnZeroRecipient() public {
        Snap memory before = _snap();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcBadRecipient.selector, address(0)));
        asset.transfer(address(0), 1);
        _assertUnchanged(before);
    }

    function test_transfer_revertsOnAssetRecipient() public {
        Snap memory before = _snap();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcBadRecipient.selector, address(asset)));
        asset.transfer(address(asset), 1);
        _assertUnchanged(before);
    }

    // ------------------------------------------------------------------ lock

    function test_lock_movesToHoldAndEmits() public {
        bytes memory sig = _signLock(alicePk, SWAP, alice, carol, 400, hashlock, TIMELOCK);
        vm.expectEmit(address(asset));
        emit IHtlcAsset.Transfer(alice, address(asset), 400);
        vm.expectEmit(address(asset));
        emit IHtlcAsset.Locked(LOCK, SWAP, alice, carol, 400, hashlock, TIMELOCK);
        vm.prank(relayer);
        bytes32 lockId = asset.lock(SWAP, alice, carol, 400, hashlock, TIMELOCK, sig);
        assertEq(lockId, LOCK, "returned id");

        IHtlcAsset.Swap memory s = asset.lockOf(LOCK);
        assertEq(uint256(s.state), uint256(IHtlcAsset.SwapState.Locked));
        assertEq(s.sender, alice);
        assertEq(s.recipient, carol);
        assertEq(s.amount, 400);
        assertEq(s.hashlock, hashlock);
        assertEq(uint256(s.timelock), uint256(TIMELOCK));
        assertEq(s.secret, bytes32(0));
        assertEq(asset.balanceOf(alice), 600);
        assertEq(asset.held(), 400);
        assertEq(asset.balanceOf(address(asset)), 400);
        assertEq(asset.totalSupply(), 1500);
    }

    function test_lock_senderMaySubmitItself() public {
        bytes memory sig = _signLock(alicePk, SWAP, alice, carol, 400, hashlock, TIMELOCK);
        vm.prank(alice);
        asset.lock(SWAP, alice, carol, 400, hashlock, TIMELOCK, sig);
        assertEq(asset.held(), 400);
    }

    function test_lock_wholeBalanceWithTimelockOneSecondAhead() public {
        uint64 soon = uint64(block.timestamp + 1);
        bytes memory sig = _signLock(alicePk, SWAP, alice, carol, 1000, hashlock, soon);
        asset.lock(SWAP, alice, carol, 1000, hashlock, soon, sig);
        assertEq(asset.balanceOf(alice), 0);
        assertEq(asset.held(), 1000);
    }

    function test_lock_revertsWhenSameTermsLockedTwice() public {
        _lock();
        bytes memory sig = _signLock(alicePk, SWAP, alice, carol, 400, hashlock, TIMELOCK);
        _expectLockRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcSwapExists.selector, LOCK), hashlock, TIMELOCK, sig
        );
    }

    function test_lock_revertsWhenSameTermsLockedAfterSettlement() public {
        _lock();
        asset.unlock(LOCK, SECRET);
        // The same signature replayed after settlement must not lock again.
        bytes memory sig = _signLock(alicePk, SWAP, alice, carol, 400, hashlock, TIMELOCK);
        _expectLockRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcSwapExists.selector, LOCK), hashlock, TIMELOCK, sig
        );
    }

    function test_lock_revertsOnZeroAmount() public {
        Snap memory before = _snap();
        bytes memory sig = _signLock(alicePk, SWAP, alice, carol, 0, hashlock, TIMELOCK);
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcZeroAmount.selector));
        asset.lock(SWAP, alice, carol, 0, hashlock, TIMELOCK, sig);
        _assertUnchanged(before);
    }

    function test_lock_revertsOnZeroRecipient() public {
        Snap memory before = _snap();
        bytes memory sig = _signLock(alicePk, SWAP, alice, address(0), 400, hashlock, TIMELOCK);
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcBadRecipient.selector, address(0)));
        asset.lock(SWAP, alice, address(0), 400, hashlock, TIMELOCK, sig);
        _assertUnchanged(before);
    }

    function test_lock_revertsOnAssetRecipient() public {
        Snap memory before = _snap();
        bytes memory sig = _signLock(alicePk, SWAP, alice, address(asset), 400, hashlock, TIMELOCK);
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcBadRecipient.selector, address(asset)));
        asset.lock(SWAP, alice, address(asset), 400, hashlock, TIMELOCK, sig);
        _assertUnchanged(before);
    }

    function test_lock_revertsOnZeroHashlock() public {
        bytes memory sig = _signLock(alicePk, SWAP, alice, carol, 400, bytes32(0), TIMELOCK);
        _expectLockRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcZeroHashlock.selector), bytes32(0), TIMELOCK, sig
        );
    }

    function test_lock_revertsOnTimelockNow() public {
        uint64 now_ = uint64(block.timestamp);
        bytes memory sig = _signLock(alicePk, SWAP, alice, carol, 400, hashlock, now_);
        _expectLockRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcTimelockNotInFuture.selector, now_, block.timestamp),
            hashlock,
            now_,
            sig
        );
    }

    function test_lock_revertsOnTimelockInPast() public {
        uint64 past = uint64(block.timestamp - 1);
        bytes memory sig = _signLock(alicePk, SWAP, alice, carol, 400, hashlock, past);
        _expectLockRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcTimelockNotInFuture.selector, past, block.timestamp),
            hashlock,
            past,
            sig
        );
    }

    function test_lock_revertsOnBadSignatureLength() public {
        bytes memory sig = _signLock(alicePk, SWAP, alice, carol, 400, hashlock, TIMELOCK);
        bytes[4] memory bad =
            [bytes(""), _truncate(sig, 64), bytes.concat(sig, hex"00"), bytes.concat(sig, sig)];
        for (uint256 i; i < bad.length; ++i) {
            _expectLockRevert(
                abi.encodeWithSelector(IHtlcAsset.HtlcBadSignatureLength.selector, bad[i].length),
                hashlock,
                TIMELOCK,
                bad[i]
            );
        }
    }

    function test_lock_revertsOnBadV() public {
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(alicePk, asset.lockDigest(SWAP, alice, carol, 400, hashlock, TIMELOCK));
        uint8[4] memory bad = [uint8(0), 1, 29, v + 2];
        for (uint256 i; i < bad.length; ++i) {
            _expectLockRevert(
                abi.encodeWithSelector(IHtlcAsset.HtlcBadSignatureV.selector, bad[i]),
                hashlock,
                TIMELOCK,
                abi.encodePacked(r, s, bad[i])
            );
        }
    }

    function test_lock_revertsOnHighS() public {
        bytes32 digest = asset.lockDigest(SWAP, alice, carol, 400, hashlock, TIMELOCK);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(alicePk, digest);
        // The malleable twin (n - s, flipped v) recovers the same signer but must be refused.
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        uint8 flippedV = v == 27 ? 28 : 27;
        assertEq(ecrecover(digest, flippedV, r, highS), alice, "twin is a valid signature");
        _expectLockRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcMalleableSignature.selector, highS),
            hashlock,
            TIMELOCK,
            abi.encodePacked(r, highS, flippedV)
        );
    }

    function test_lock_revertsOnUnrecoverableSignature() public {
        // r = 0 is not a curve point's x coordinate: ecrecover yields address(0).
        _expectLockRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcInvalidSignature.selector),
            hashlock,
            TIMELOCK,
            abi.encodePacked(bytes32(0), bytes32(uint256(1)), uint8(27))
        );
    }

    function test_lock_revertsOnUnrecoverableSignatureForZeroSender() public {
        // sender == 0 must not match the zero "signer" ecrecover returns for garbage.
        Snap memory before = _snap();
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcInvalidSignature.selector));
        asset.lock(
            SWAP,
            address(0),
            carol,
            1,
            hashlock,
            TIMELOCK,
            abi.encodePacked(bytes32(0), bytes32(uint256(1)), uint8(27))
        );
        _assertUnchanged(before);
    }

    function test_lock_revertsOnSignerMismatch() public {
        bytes memory sig = _signLock(bobPk, SWAP, alice, carol, 400, hashlock, TIMELOCK);
        _expectLockRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcSignerMismatch.selector, bob, alice),
            hashlock,
            TIMELOCK,
            sig
        );
    }

    function test_lock_revertsOnSignatureForOtherContract() public {
        HtlcAsset other = new HtlcAsset();
        bytes memory sig = _sig(alicePk, other.lockDigest(SWAP, alice, carol, 400, hashlock, TIMELOCK));
        (bytes32 r, bytes32 s, uint8 v) = _split(sig);
        address recovered = ecrecover(asset.lockDigest(SWAP, alice, carol, 400, hashlock, TIMELOCK), v, r, s);
        _expectLockRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcSignerMismatch.selector, recovered, alice),
            hashlock,
            TIMELOCK,
            sig
        );
    }

    function test_lock_revertsOnInsufficientBalance() public {
        Snap memory before = _snap();
        bytes memory sig = _signLock(alicePk, SWAP, alice, carol, 1001, hashlock, TIMELOCK);
        vm.expectRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcInsufficientBalance.selector, alice, 1000, 1001)
        );
        asset.lock(SWAP, alice, carol, 1001, hashlock, TIMELOCK, sig);
        _assertUnchanged(before);
    }

    // ------------------------------------------------------------------ lock ids

    function test_lockIdOf_isTheStructHashTheSenderSigns() public view {
        assertEq(asset.lockIdOf(SWAP, alice, carol, 400, hashlock, TIMELOCK), LOCK, "struct hash");
        assertEq(
            asset.lockDigest(SWAP, alice, carol, 400, hashlock, TIMELOCK),
            keccak256(abi.encodePacked(hex"1901", asset.DOMAIN_SEPARATOR(), LOCK)),
            "the digest wraps the id"
        );
    }

    function test_lockIdOf_doesNotDependOnChainOrContract() public {
        HtlcAsset other = new HtlcAsset();
        vm.chainId(777);
        assertEq(asset.lockIdOf(SWAP, alice, carol, 400, hashlock, TIMELOCK), LOCK, "other chain");
        assertEq(other.lockIdOf(SWAP, alice, carol, 400, hashlock, TIMELOCK), LOCK, "other contract");
    }

    function test_lock_returnsTheIdItStoresUnder() public {
        bytes memory sig = _signLock(alicePk, SWAP, alice, carol, 400, hashlock, TIMELOCK);
        bytes32 expected = asset.lockIdOf(SWAP, alice, carol, 400, hashlock, TIMELOCK);
        vm.recordLogs();
        bytes32 lockId = asset.lock(SWAP, alice, carol, 400, hashlock, TIMELOCK, sig);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(lockId, expected, "lock returns lockIdOf");
        assertEq(logs.length, 2, "Transfer, Locked");
        assertEq(logs[1].topics[0], IHtlcAsset.Locked.selector, "Locked");
        assertEq(logs[1].topics[1], lockId, "lockId topic");
        assertEq(logs[1].topics[2], SWAP, "swapId topic");
        assertEq(logs[1].topics[3], bytes32(uint256(uint160(alice))), "sender topic");
        assertEq(uint256(asset.lockOf(lockId).state), uint256(IHtlcAsset.SwapState.Locked));
    }

    /// The attack lock ids close: the counterparty pre-locks "the swap's slot" with terms of his own (1 unit,
    /// signed by himself as sender). His lock lands under another id; the genuine one is still free and,
    /// once made, a relayer looking it up by id finds exactly its terms.
    function test_lock_squatUnderTheSwapIdLandsUnderAnotherId() public {
        bytes memory sig = _signLock(bobPk, SWAP, bob, carol, 1, hashlock, TIMELOCK);
        vm.prank(bob);
        bytes32 squat = asset.lock(SWAP, bob, carol, 1, hashlock, TIMELOCK, sig);
        assertEq(squat, _lockIdRef(SWAP, bob, carol, 1, hashlock, TIMELOCK), "id of the squatter's terms");
        assertTrue(squat != LOCK, "another id");
        assertEq(uint256(asset.lockOf(LOCK).state), uint256(IHtlcAsset.SwapState.None), "genuine still free");

        _lock();
        IHtlcAsset.Swap memory genuine = asset.lockOf(LOCK);
        assertEq(genuine.sender, alice, "sender");
        assertEq(genuine.recipient, carol, "recipient");
        assertEq(genuine.amount, 400, "amount");
        assertEq(asset.lockOf(squat).amount, 1, "the squat keeps its own terms");
        assertEq(asset.held(), 401);
        // Each settles on its own id.
        asset.unlock(LOCK, SECRET);
        assertEq(asset.balanceOf(carol), 400);
        assertEq(uint256(asset.lockOf(squat).state), uint256(IHtlcAsset.SwapState.Locked));
    }

    /// Same swapId and sender, each other term changed in turn, signed by the sender: every variant is a lock
    /// of its own, and none occupies the genuine lock.
    function test_lock_sameSwapIdWithOtherTermsIsAnotherLock() public {
        asset.mint(alice, 2000);
        bytes32 otherHashlock = sha256(abi.encodePacked(keccak256("another secret")));
        Leg[4] memory variants = [
            Leg(SWAP, alice, carol, 1, hashlock, TIMELOCK),
            Leg(SWAP, alice, bob, 400, hashlock, TIMELOCK),
            Leg(SWAP, alice, carol, 400, hashlock, TIMELOCK + 1),
            Leg(SWAP, alice, carol, 400, otherHashlock, TIMELOCK)
        ];
        bytes32[4] memory ids;
        for (uint256 i; i < variants.length; ++i) {
            Leg memory l = variants[i];
            bytes memory sig = _sign(alicePk, l);
            vm.prank(relayer);
            ids[i] = asset.lock(l.swapId, l.sender, l.recipient, l.amount, l.hashlock, l.timelock, sig);
            assertEq(ids[i], _id(l), "id of its terms");
            assertTrue(ids[i] != LOCK, "not the genuine id");
            for (uint256 j; j < i; ++j) {
                assertTrue(ids[i] != ids[j], "distinct ids");
            }
            assertEq(uint256(asset.lockOf(LOCK).state), uint256(IHtlcAsset.SwapState.None), "genuine free");
        }
        _lock();
        assertEq(asset.lockOf(LOCK).amount, 400);
        assertEq(asset.lockOf(LOCK).recipient, carol);
        assertEq(asset.held(), 1 + 400 * 4);
        vm.warp(TIMELOCK);
        asset.timeout(LOCK);
        assertEq(uint256(asset.lockOf(LOCK).state), uint256(IHtlcAsset.SwapState.Refunded));
        assertEq(uint256(asset.lockOf(ids[2]).state), uint256(IHtlcAsset.SwapState.Locked), "own timelock");
    }

    // ------------------------------------------------------------------ unlock

    function test_unlock_paysRecipientAndEmits() public {
        _lock();
        vm.expectEmit(address(asset));
        emit IHtlcAsset.Transfer(address(asset), carol, 400);
        vm.expectEmit(address(asset));
        emit IHtlcAsset.Unlocked(LOCK, SECRET, carol, 400);
        vm.prank(stranger); // anyone may present the secret
        asset.unlock(LOCK, SECRET);

        IHtlcAsset.Swap memory s = asset.lockOf(LOCK);
        assertEq(uint256(s.state), uint256(IHtlcAsset.SwapState.Unlocked));
        assertEq(s.secret, SECRET, "secret revealed in state");
        assertEq(asset.balanceOf(carol), 400);
        assertEq(asset.balanceOf(alice), 600);
        assertEq(asset.held(), 0);
        assertEq(asset.totalSupply(), 1500);
    }

    function test_unlock_oneSecondBeforeTimelock() public {
        _lock();
        vm.warp(TIMELOCK - 1);
        asset.unlock(LOCK, SECRET);
        assertEq(asset.balanceOf(carol), 400);
    }

    function test_unlock_revertsOnUnknownSwap() public {
        Snap memory before = _snap();
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcUnknownSwap.selector, LOCK));
        asset.unlock(LOCK, SECRET);
        _assertUnchanged(before);
    }

    function test_unlock_revertsWhenAlreadyUnlocked() public {
        _lock();
        asset.unlock(LOCK, SECRET);
        Snap memory before = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcNotLocked.selector, LOCK, IHtlcAsset.SwapState.Unlocked)
        );
        asset.unlock(LOCK, SECRET);
        _assertUnchanged(before);
    }

    function test_unlock_revertsWhenRefunded() public {
        _lock();
        vm.warp(TIMELOCK);
        asset.timeout(LOCK);
        vm.warp(TIMELOCK - 1); // even a clock that went back cannot pay a refunded swap
        Snap memory before = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcNotLocked.selector, LOCK, IHtlcAsset.SwapState.Refunded)
        );
        asset.unlock(LOCK, SECRET);
        _assertUnchanged(before);
    }

    function test_unlock_revertsAtTimelock() public {
        _lock();
        vm.warp(TIMELOCK);
        Snap memory before = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcExpired.selector, LOCK, TIMELOCK, uint256(TIMELOCK))
        );
        asset.unlock(LOCK, SECRET);
        _assertUnchanged(before);
    }

    function test_unlock_revertsAfterTimelock() public {
        _lock();
        vm.warp(TIMELOCK + 1 days);
        Snap memory before = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(
                IHtlcAsset.HtlcExpired.selector, LOCK, TIMELOCK, uint256(TIMELOCK) + 1 days
            )
        );
        asset.unlock(LOCK, SECRET);
        _assertUnchanged(before);
    }

    function test_unlock_revertsOnWrongSecret() public {
        _lock();
        Snap memory before = _snap();
        bytes32 wrong = keccak256("not the secret");
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcWrongSecret.selector, LOCK, wrong));
        asset.unlock(LOCK, wrong);
        _assertUnchanged(before);
    }

    function test_unlock_revertsOnHashlockAsSecret() public {
        _lock();
        Snap memory before = _snap();
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcWrongSecret.selector, LOCK, hashlock));
        asset.unlock(LOCK, hashlock);
        _assertUnchanged(before);
    }

    /// A keccak256 hashlock is not the protocol's: the preimage does not open it.
    function test_unlock_revertsOnKeccakHashlock() public {
        bytes32 keccakLock = keccak256(abi.encodePacked(SECRET));
        bytes memory sig = _signLock(alicePk, SWAP, alice, carol, 400, keccakLock, TIMELOCK);
        bytes32 id = asset.lock(SWAP, alice, carol, 400, keccakLock, TIMELOCK, sig);
        Snap memory before = _snap();
        IHtlcAsset.Swap memory held = asset.lockOf(id);
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcWrongSecret.selector, id, SECRET));
        asset.unlock(id, SECRET);
        _assertUnchanged(before);
        _assertSwapEq(held, asset.lockOf(id));
    }

    /// The swapId is not a lock id: unlock and timeout find nothing under it.
    function test_unlock_revertsOnSwapIdInsteadOfLockId() public {
        _lock();
        Snap memory before = _snap();
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcUnknownSwap.selector, SWAP));
        asset.unlock(SWAP, SECRET);
        vm.warp(TIMELOCK);
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcUnknownSwap.selector, SWAP));
        asset.timeout(SWAP);
        _assertUnchanged(before);
    }

    // ------------------------------------------------------------------ timeout

    function test_timeout_refundsAtTimelockAndEmits() public {
        _lock();
        vm.warp(TIMELOCK);
        vm.expectEmit(address(asset));
        emit IHtlcAsset.Transfer(address(asset), alice, 400);
        vm.expectEmit(address(asset));
        emit IHtlcAsset.Refunded(LOCK, alice, 400);
        vm.prank(stranger); // anyone may trigger the refund
        asset.timeout(LOCK);

        IHtlcAsset.Swap memory s = asset.lockOf(LOCK);
        assertEq(uint256(s.state), uint256(IHtlcAsset.SwapState.Refunded));
        assertEq(s.secret, bytes32(0));
        assertEq(asset.balanceOf(alice), 1000);
        assertEq(asset.balanceOf(carol), 0);
        assertEq(asset.held(), 0);
        assertEq(asset.totalSupply(), 1500);
    }

    function test_timeout_longAfterTimelock() public {
        _lock();
        vm.warp(TIMELOCK + 365 days);
        asset.timeout(LOCK);
        assertEq(asset.balanceOf(alice), 1000);
    }

    function test_timeout_revertsOnUnknownSwap() public {
        Snap memory before = _snap();
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcUnknownSwap.selector, LOCK));
        asset.timeout(LOCK);
        _assertUnchanged(before);
    }

    function test_timeout_revertsBeforeTimelock() public {
        _lock();
        vm.warp(TIMELOCK - 1);
        Snap memory before = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcNotExpired.selector, LOCK, TIMELOCK, uint256(TIMELOCK) - 1)
        );
        asset.timeout(LOCK);
        _assertUnchanged(before);
    }

    function test_timeout_revertsWhenUnlocked() public {
        _lock();
        asset.unlock(LOCK, SECRET);
        vm.warp(TIMELOCK);
        Snap memory before = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcNotLocked.selector, LOCK, IHtlcAsset.SwapState.Unlocked)
        );
        asset.timeout(LOCK);
        _assertUnchanged(before);
    }

    function test_timeout_revertsWhenRefunded() public {
        _lock();
        vm.warp(TIMELOCK);
        asset.timeout(LOCK);
        Snap memory before = _snap();
        vm.expectRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcNotLocked.selector, LOCK, IHtlcAsset.SwapState.Refunded)
        );
        asset.timeout(LOCK);
        _assertUnchanged(before);
    }

    // ------------------------------------------------------------------ fuzz: EIP-712 authorisation

    struct Leg {
        bytes32 swapId;
        address sender;
        address recipient;
        uint256 amount;
        bytes32 hashlock;
        uint64 timelock;
    }

    /// A valid leg for a fuzzed key, with the sender funded.
    function _leg(
        uint256 pk,
        bytes32 swapId,
        uint256 recipientSeed,
        uint256 amount,
        bytes32 hl,
        uint64 timelock
    ) internal returns (Leg memory leg) {
        leg.swapId = swapId;
        leg.sender = vm.addr(pk);
        vm.assume(leg.sender != address(asset));
        leg.recipient = address(uint160(bound(recipientSeed, 1, type(uint160).max)));
        vm.assume(leg.recipient != address(asset));
        leg.amount = bound(amount, 1, 1e30);
        leg.hashlock = hl == bytes32(0) ? bytes32(uint256(1)) : hl;
        leg.timelock = uint64(bound(timelock, block.timestamp + 1, type(uint64).max));
        asset.mint(leg.sender, leg.amount);
    }

    function _sign(uint256 pk, Leg memory l) internal view returns (bytes memory) {
        return _signLock(pk, l.swapId, l.sender, l.recipient, l.amount, l.hashlock, l.timelock);
    }

    function _id(Leg memory l) internal pure returns (bytes32) {
        return _lockIdRef(l.swapId, l.sender, l.recipient, l.amount, l.hashlock, l.timelock);
    }

    function _digest(Leg memory l) internal view returns (bytes32) {
        return asset.lockDigest(l.swapId, l.sender, l.recipient, l.amount, l.hashlock, l.timelock);
    }

    function _split(bytes memory sig) internal pure returns (bytes32 r, bytes32 s, uint8 v) {
        (r, s) = abi.decode(sig, (bytes32, bytes32));
        v = uint8(sig[64]);
    }

    /// Submits `l` with `sig` and expects HtlcSignerMismatch naming whoever the signature recovers to over
    /// the submitted fields; nothing may change.
    function _expectMismatch(Leg memory l, bytes memory sig) internal {
        (bytes32 r, bytes32 s, uint8 v) = _split(sig);
        address recovered = ecrecover(_digest(l), v, r, s);
        assertTrue(recovered != l.sender, "mutation kept the signer");
        uint256 senderBalance = asset.balanceOf(l.sender);
        uint256 supply = asset.totalSupply();
        uint256 held = asset.held();
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcSignerMismatch.selector, recovered, l.sender));
        asset.lock(l.swapId, l.sender, l.recipient, l.amount, l.hashlock, l.timelock, sig);
        assertEq(asset.balanceOf(l.sender), senderBalance);
        assertEq(asset.totalSupply(), supply);
        assertEq(asset.held(), held);
        assertEq(uint256(asset.lockOf(_id(l)).state), uint256(IHtlcAsset.SwapState.None));
    }

    function testFuzz_lock_acceptsCorrectSignature(
        uint256 pk,
        bytes32 swapId,
        uint256 recipientSeed,
        uint256 amount,
        bytes32 hl,
        uint64 timelock
    ) public {
        pk = _boundPk(pk);
        Leg memory l = _leg(pk, swapId, recipientSeed, amount, hl, timelock);
        bytes memory sig = _sign(pk, l);
        uint256 before = asset.balanceOf(l.sender);
        vm.prank(relayer);
        asset.lock(l.swapId, l.sender, l.recipient, l.amount, l.hashlock, l.timelock, sig);
        IHtlcAsset.Swap memory s = asset.lockOf(_id(l));
        assertEq(uint256(s.state), uint256(IHtlcAsset.SwapState.Locked));
        assertEq(s.sender, l.sender);
        assertEq(s.recipient, l.recipient);
        assertEq(s.amount, l.amount);
        assertEq(asset.balanceOf(l.sender), before - l.amount);
        assertEq(asset.held(), l.amount);
    }

    function testFuzz_lock_rejectsWrongSigner(uint256 pk, uint256 otherPk, bytes32 swapId, uint256 amount)
        public
    {
        pk = _boundPk(pk);
        otherPk = _boundPk(otherPk);
        vm.assume(pk != otherPk);
        Leg memory l = _leg(pk, swapId, 0xCA201, amount, hashlock, TIMELOCK);
        bytes memory sig = _sign(otherPk, l);
        vm.prank(relayer);
        vm.expectRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcSignerMismatch.selector, vm.addr(otherPk), l.sender)
        );
        asset.lock(l.swapId, l.sender, l.recipient, l.amount, l.hashlock, l.timelock, sig);
        assertEq(uint256(asset.lockOf(_id(l)).state), uint256(IHtlcAsset.SwapState.None));
        assertEq(asset.balanceOf(l.sender), l.amount + (l.sender == alice ? 1000 : l.sender == bob ? 500 : 0));
        assertEq(asset.held(), 0);
    }

    function testFuzz_lock_rejectsWrongChainId(uint256 pk, uint64 otherChainId, uint256 amount) public {
        pk = _boundPk(pk);
        vm.assume(otherChainId != block.chainid && otherChainId != 0);
        Leg memory l = _leg(pk, SWAP, 0xCA201, amount, hashlock, TIMELOCK);
        bytes memory sig = _sign(pk, l); // signed for this chain
        vm.chainId(otherChainId); // replayed on a fork with another chain id
        _expectMismatch(l, sig);
    }

    function testFuzz_lock_rejectsSignatureForOtherChainId(uint256 pk, uint64 otherChainId, uint256 amount)
        public
    {
        pk = _boundPk(pk);
        vm.assume(otherChainId != block.chainid);
        Leg memory l = _leg(pk, SWAP, 0xCA201, amount, hashlock, TIMELOCK);
        bytes memory sig = _sig(
            pk,
            _eip712Digest(
                otherChainId,
                address(asset),
                l.swapId,
                l.sender,
                l.recipient,
                l.amount,
                l.hashlock,
                l.timelock
            )
        );
        _expectMismatch(l, sig);
    }

    function testFuzz_lock_rejectsSignatureForOtherContract(uint256 pk, address otherContract, uint256 amount)
        public
    {
        pk = _boundPk(pk);
        vm.assume(otherContract != address(asset));
        Leg memory l = _leg(pk, SWAP, 0xCA201, amount, hashlock, TIMELOCK);
        bytes memory sig = _sig(
            pk,
            _eip712Digest(
                block.chainid,
                otherContract,
                l.swapId,
                l.sender,
                l.recipient,
                l.amount,
                l.hashlock,
                l.timelock
            )
        );
        _expectMismatch(l, sig);
    }

    function testFuzz_lock_rejectsMutatedSwapId(uint256 pk, bytes32 swapId, bytes32 mutated, uint256 amount)
        public
    {
        pk = _boundPk(pk);
        vm.assume(swapId != mutated);
        Leg memory l = _leg(pk, swapId, 0xCA201, amount, hashlock, TIMELOCK);
        bytes memory sig = _sign(pk, l);
        l.swapId = mutated;
        _expectMismatch(l, sig);
    }

    function testFuzz_lock_rejectsMutatedSender(uint256 pk, address mutated, uint256 amount) public {
        pk = _boundPk(pk);
        Leg memory l = _leg(pk, SWAP, 0xCA201, amount, hashlock, TIMELOCK);
        vm.assume(mutated != l.sender);
        bytes memory sig = _sign(pk, l);
        l.sender = mutated;
        _expectMismatch(l, sig);
    }

    function testFuzz_lock_rejectsMutatedRecipient(uint256 pk, address mutated, uint256 amount) public {
        pk = _boundPk(pk);
        Leg memory l = _leg(pk, SWAP, 0xCA201, amount, hashlock, TIMELOCK);
        vm.assume(mutated != l.recipient && mutated != address(0) && mutated != address(asset));
        bytes memory sig = _sign(pk, l);
        l.recipient = mutated;
        _expectMismatch(l, sig);
    }

    function testFuzz_lock_rejectsMutatedAmount(uint256 pk, uint256 amount, uint256 mutated) public {
        pk = _boundPk(pk);
        Leg memory l = _leg(pk, SWAP, 0xCA201, amount, hashlock, TIMELOCK);
        mutated = bound(mutated, 1, type(uint256).max);
        vm.assume(mutated != l.amount);
        bytes memory sig = _sign(pk, l);
        l.amount = mutated;
        _expectMismatch(l, sig);
    }

    function testFuzz_lock_rejectsMutatedHashlock(uint256 pk, bytes32 mutated, uint256 amount) public {
        pk = _boundPk(pk);
        Leg memory l = _leg(pk, SWAP, 0xCA201, amount, hashlock, TIMELOCK);
        vm.assume(mutated != l.hashlock && mutated != bytes32(0));
        bytes memory sig = _sign(pk, l);
        l.hashlock = mutated;
        _expectMismatch(l, sig);
    }

    function testFuzz_lock_rejectsMutatedTimelock(uint256 pk, uint64 mutated, uint256 amount) public {
        pk = _boundPk(pk);
        Leg memory l = _leg(pk, SWAP, 0xCA201, amount, hashlock, TIMELOCK);
        mutated = uint64(bound(mutated, block.timestamp + 1, type(uint64).max));
        vm.assume(mutated != l.timelock);
        bytes memory sig = _sign(pk, l);
        l.timelock = mutated;
        _expectMismatch(l, sig);
    }

    function testFuzz_lock_rejectsHighSTwin(uint256 pk, bytes32 swapId, uint256 amount) public {
        pk = _boundPk(pk);
        Leg memory l = _leg(pk, swapId, 0xCA201, amount, hashlock, TIMELOCK);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, _digest(l));
        assertLe(uint256(s), SECP256K1_N / 2, "vm.sign produces low s");
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        uint8 flippedV = v == 27 ? 28 : 27;
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcMalleableSignature.selector, highS));
        asset.lock(
            l.swapId,
            l.sender,
            l.recipient,
            l.amount,
            l.hashlock,
            l.timelock,
            abi.encodePacked(r, highS, flippedV)
        );
        assertEq(uint256(asset.lockOf(_id(l)).state), uint256(IHtlcAsset.SwapState.None));
    }

    function testFuzz_lock_rejectsAnyOtherSignatureLength(bytes calldata sig) public {
        vm.assume(sig.length != 65);
        _expectLockRevert(
            abi.encodeWithSelector(IHtlcAsset.HtlcBadSignatureLength.selector, sig.length),
            hashlock,
            TIMELOCK,
            sig
        );
    }

    /// Whatever terms anyone signs for the swap's id, the genuine lock stays free and is made with its own
    /// terms afterwards.
    function testFuzz_lock_foreignTermsNeverOccupyTheGenuineLock(
        uint256 pk,
        uint256 recipientSeed,
        uint256 amount,
        bytes32 hl,
        uint64 timelock
    ) public {
        pk = _boundPk(pk);
        Leg memory l = _leg(pk, SWAP, recipientSeed, amount, hl, timelock);
        vm.assume(_id(l) != LOCK);
        bytes memory sig = _sign(pk, l);
        vm.prank(relayer);
        bytes32 id = asset.lock(l.swapId, l.sender, l.recipient, l.amount, l.hashlock, l.timelock, sig);
        assertEq(id, asset.lockIdOf(l.swapId, l.sender, l.recipient, l.amount, l.hashlock, l.timelock));
        assertEq(uint256(asset.lockOf(LOCK).state), uint256(IHtlcAsset.SwapState.None), "genuine free");
        _lock();
        IHtlcAsset.Swap memory genuine = asset.lockOf(LOCK);
        assertEq(genuine.sender, alice);
        assertEq(genuine.recipient, carol);
        assertEq(genuine.amount, 400);
        assertEq(genuine.hashlock, hashlock);
        assertEq(uint256(genuine.timelock), uint256(TIMELOCK));
    }

    // ------------------------------------------------------------------ fuzz: settlement

    function testFuzz_unlock_rejectsWrongSecret(bytes32 secret) public {
        vm.assume(secret != SECRET);
        _lock();
        Snap memory before = _snap();
        vm.expectRevert(abi.encodeWithSelector(IHtlcAsset.HtlcWrongSecret.selector, LOCK, secret));
        asset.unlock(LOCK, secret);
        _assertUnchanged(before);
    }

    /// At any moment exactly one of unlock (strictly before the timelock) and timeout (at or after it)
    /// succeeds, and the amount ends at exactly one of recipient and sender.
    function testFuzz_unlockOrTimeout_exactlyOnePaysOut(uint256 at) public {
        _lock();
        at = bound(at, T0, uint256(TIMELOCK) + 30 days);
        vm.warp(at);
        (bool unlocked,) = address(asset).call(abi.encodeCall(IHtlcAsset.unlock, (LOCK, SECRET)));
        (bool refunded,) = address(asset).call(abi.encodeCall(IHtlcAsset.timeout, (LOCK)));
        assertTrue(unlocked != refunded, "exactly one settles");
        assertEq(unlocked, at < TIMELOCK, "unlock iff before the timelock");
        assertEq(asset.balanceOf(carol), unlocked ? 400 : 0);
        assertEq(asset.balanceOf(alice), unlocked ? 600 : 1000);
        assertEq(asset.held(), 0);
    }

    // ------------------------------------------------------------------ internal

    function _truncate(bytes memory data, uint256 length) internal pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i; i < length; ++i) {
            out[i] = data[i];
        }
    }
}
