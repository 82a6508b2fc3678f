// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "./utils/Test.sol";
import {Vm} from "./utils/Vm.sol";
import {InstitutionRegistry} from "../src/governance/InstitutionRegistry.sol";
import {ChainRegistry} from "../src/governance/ChainRegistry.sol";
import {PermissionManager} from "../src/governance/PermissionManager.sol";
import {TransactionManager} from "../src/governance/TransactionManager.sol";
import {Supervision} from "../src/governance/Supervision.sol";
import {IInstitutionRegistry} from "../src/interfaces/IInstitutionRegistry.sol";
import {ITransactionManager} from "../src/interfaces/ITransactionManager.sol";
import {ISupervision} from "../src/interfaces/ISupervision.sol";
import {IPath} from "../src/libraries/IPath.sol";
import {ResourceOps} from "../src/libraries/ResourceOps.sol";
import {Envelopes} from "./utils/Envelopes.sol";
import {Reports} from "./utils/Reports.sol";

/// @notice Shared fixture of the HTLC and Supervision suites: three founding institutions (threshold
/// 2/3, so every proposal needs two votes), `zoneA.chainA` owned by institution 1 and
/// `zoneB.chainB` owned by institution 2 (admitted by real proposals), one serving relayer per chain,
/// a second relayer of institution 1 that serves nothing, users holding HTLC on their own chain's `*`
/// pattern, and the TransactionManager + Supervision wired to the registry.
abstract contract HtlcFixture is Test {
    InstitutionRegistry internal registry;
    ChainRegistry internal chains;
    PermissionManager internal perms;
    TransactionManager internal tm;
    Supervision internal sup;

    uint64 internal constant INST_1 = 1;
    uint64 internal constant INST_2 = 2;
    uint64 internal constant INST_3 = 3;

    address internal constant ADMIN_1 = address(0xA0);
    address internal constant RELAYER_1 = address(0xA2);
    /// A relayer of institution 1 that serves no chain.
    address internal constant RELAYER_1B = address(0xA3);
    address internal constant ADMIN_2 = address(0xB0);
    address internal constant RELAYER_2 = address(0xB2);
    address internal constant ADMIN_3 = address(0xC0);
    address internal constant RELAYER_3 = address(0xC2);
    address internal constant STRANGER = address(0xDEAD);

    /// Initiator (user of institution 1), counterparty (user of institution 2), a user of institution 3
    /// without any grant, and a key no institution knows.
    uint256 internal constant PK_INIT = 0xA11CE;
    uint256 internal constant PK_CP = 0xB0B;
    uint256 internal constant PK_USER_3 = 0xC0C;
    uint256 internal constant PK_STRANGER = 0x5757;
    address internal USER_1;
    address internal USER_2;
    address internal USER_3;
    address internal STRANGER_SIGNER;

    bytes32 internal constant ZONE_A = "zoneA";
    bytes32 internal constant CHAIN_A = "chainA";
    bytes32 internal constant ZONE_B = "zoneB";
    bytes32 internal constant CHAIN_B = "chainB";
    bytes32 internal constant ASSET = "asset";
    bytes32 internal constant EVM = "evm";
    bytes32 internal constant W = "*";
    bytes32 internal KEY_A;
    bytes32 internal KEY_B;

    uint8 internal constant HTLC = ResourceOps.HTLC;
    uint256 internal constant T0 = 1_700_000_000;
    uint64 internal constant MARGIN = 10 minutes;
    uint64 internal constant MAX_SWAP_DURATION = 30 days;
    uint256 internal constant MAX_EVIDENCE = 256;

    bytes32 internal constant SECRET = keccak256("the initiator's secret");
    uint256 internal constant NONCE = 7;
    /// The default swap's id: USER_1's request with NONCE (ids are bound to initiator and nonce).
    bytes32 internal SWAP_ID;

    /// secp256k1 field prime and group order.
    /// p = 2^256 - 2^32 - 977, written arithmetically (not as a hex literal) to stay independent of the contract.
    uint256 internal constant P = type(uint256).max - (2 ** 32 + 976);
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    function setUp() public virtual {
        vm.warp(T0);
        USER_1 = vm.addr(PK_INIT);
        USER_2 = vm.addr(PK_CP);
        USER_3 = vm.addr(PK_USER_3);
        STRANGER_SIGNER = vm.addr(PK_STRANGER);
        SWAP_ID = _requestIdOf(USER_1, NONCE);
        KEY_A = IPath.chainKey(ZONE_A, CHAIN_A);
        KEY_B = IPath.chainKey(ZONE_B, CHAIN_B);

        IInstitutionRegistry.Founder[] memory founders = new IInstitutionRegistry.Founder[](3);
        founders[0] = IInstitutionRegistry.Founder("Bank One", keccak256("cert 1"), ADMIN_1);
        founders[1] = IInstitutionRegistry.Founder("Bank Two", keccak256("cert 2"), ADMIN_2);
        founders[2] = IInstitutionRegistry.Founder("Bank Three", keccak256("cert 3"), ADMIN_3);
        registry = new InstitutionRegistry(founders, 2, 3, 1 days);
        chains = new ChainRegistry(registry);
        perms = new PermissionManager(registry, chains);
        tm = new TransactionManager(registry, chains, perms);
        sup = new Supervision(registry, address(tm));
        tm.bindSupervision(address(sup));

        _addAccount(ADMIN_1, RELAYER_1, IInstitutionRegistry.Role.Relayer);
        _addAccount(ADMIN_1, RELAYER_1B, IInstitutionRegistry.Role.Relayer);
        _addAccount(ADMIN_1, USER_1, IInstitutionRegistry.Role.User);
        _addAccount(ADMIN_2, RELAYER_2, IInstitutionRegistry.Role.Relayer);
        _addAccount(ADMIN_2, USER_2, IInstitutionRegistry.Role.User);
        _addAccount(ADMIN_3, RELAYER_3, IInstitutionRegistry.Role.Relayer);
        _addAccount(ADMIN_3, USER_3, IInstitutionRegistry.Role.User);

        _admitChain(ZONE_A, CHAIN_A, 1001, INST_1);
        _admitChain(ZONE_B, CHAIN_B, 1002, INST_2);
        _serve(ADMIN_1, ZONE_A, CHAIN_A, RELAYER_1);
        _serve(ADMIN_2, ZONE_B, CHAIN_B, RELAYER_2);

        vm.prank(ADMIN_1);
        perms.grantToAccount(USER_1, ZONE_A, CHAIN_A, W, HTLC);
        vm.prank(ADMIN_2);
        perms.grantToAccount(USER_2, ZONE_B, CHAIN_B, W, HTLC);
    }

    // ---------------------------------------------------------------- governance helpers

    function _addAccount(address admin, address account, IInstitutionRegistry.Role role) internal {
        vm.prank(admin);
        registry.addAccount(account, role);
    }

    function _serve(address admin, bytes32 zone, bytes32 chain, address relayer) internal {
        address[] memory list = new address[](1);
        list[0] = relayer;
        vm.prank(admin);
        chains.setServingRelayers(zone, chain, list, true);
    }

    function _admitChain(bytes32 zone, bytes32 chain, uint256 chainId, uint64 owner) internal {
        _pass(
            address(chains),
            abi.encodeCall(
                chains.admitChain, (zone, chain, EVM, chainId, owner, keccak256(abi.encode(zone, chain)))
            )
        );
    }

    /// Proposes `data` to `target` and casts the votes of the active founders until it passes (the target
    /// of a suspension has no vote in it).
    function _approve(address target, bytes memory data) internal returns (uint256 id) {
        vm.prank(ADMIN_1);
        id = registry.propose(target, data, "test proposal");
        address[3] memory admins = [ADMIN_1, ADMIN_2, ADMIN_3];
        for (uint64 i; i < 3; ++i) {
            if (registry.proposalState(id) != IInstitutionRegistry.ProposalState.Pending) break;
            if (!registry.isActive(i + 1) || registry.proposal(id).excluded == i + 1) continue;
            vm.prank(admins[i]);
            registry.vote(id, true);
        }
        require(
            registry.proposalState(id) == IInstitutionRegistry.ProposalState.Passed, "proposal did not pass"
        );
    }

    /// Proposes, passes and executes `data` on `target`.
    function _pass(address target, bytes memory data) internal returns (uint256 id) {
        id = _approve(target, data);
        registry.execute(id, data);
    }

    function _suspend(uint64 institution) internal {
        _pass(address(registry), abi.encodeCall(registry.suspendInstitution, (institution)));
    }

    // ---------------------------------------------------------------- HTLC helpers

    function _hashlock(bytes32 secret) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(secret));
    }

    /// The id a request of `initiator` with `nonce` must carry: keccak256(abi.encode(initiator, nonce)),
    /// written out from the interface rather than taken from the contract.
    function _requestIdOf(address initiator, uint256 nonce) internal pure returns (bytes32) {
        return keccak256(abi.encode(initiator, nonce));
    }

    /// The default request of USER_1 with `nonce`, under its bound id.
    function _requestFor(uint256 nonce) internal view returns (ITransactionManager.SwapRequest memory) {
        return _requestWith(_requestIdOf(USER_1, nonce), nonce);
    }

    /// The default request: USER_1 pays 100 on zoneA.chainA.asset to USER_2 (TA = now + 2 days), USER_2
    /// pays 50 on zoneB.chainB.asset to USER_1 (TB = now + 1 day).
    function _request() internal view returns (ITransactionManager.SwapRequest memory r) {
        r = _requestWith(SWAP_ID, NONCE);
    }

    function _requestWith(bytes32 id, uint256 nonce)
        internal
        view
        returns (ITransactionManager.SwapRequest memory r)
    {
        r.swapId = id;
        r.hashlock = _hashlock(SECRET);
        r.legA = ITransactionManager.Leg({
            zone: ZONE_A,
            chain: CHAIN_A,
            resource: ASSET,
            sender: USER_1,
            recipient: USER_2,
            amount: 100,
            timelock: uint64(block.timestamp + 2 days)
        });
        r.legB = ITransactionManager.Leg({
            zone: ZONE_B,
            chain: CHAIN_B,
            resource: ASSET,
            sender: USER_2,
            recipient: USER_1,
            amount: 50,
            timelock: uint64(block.timestamp + 1 days)
        });
        r.nonce = nonce;
    }

    function _sign(uint256 pk, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return abi.encodePacked(r, s, v);
    }

    function _signRequest(uint256 pk, ITransactionManager.SwapRequest memory r)
        internal
        view
        returns (bytes memory)
    {
        return _sign(pk, tm.swapRequestDigest(r));
    }

    function _propose(ITransactionManager.SwapRequest memory r) internal {
        bytes memory sig = _signRequest(PK_INIT, r);
        Reports.send(tm, RELAYER_1, r.swapId, abi.encodeCall(tm.proposeSwap, (r, sig)));
    }

    function _accept(bytes32 id) internal {
        bytes memory sig = _sign(PK_CP, tm.swap(id).digest);
        Reports.send(tm, RELAYER_2, id, abi.encodeCall(tm.acceptSwap, (id, sig)));
    }

    /// The default swap, proposed and accepted.
    function _open() internal returns (ITransactionManager.SwapRequest memory r) {
        r = _request();
        _propose(r);
        _accept(r.swapId);
    }

    function _relayerOf(uint8 leg) internal pure returns (address) {
        return leg == 0 ? RELAYER_1 : RELAYER_2;
    }

    function _lock(bytes32 id, uint8 leg) internal {
        Reports.send(
            tm,
            _relayerOf(leg),
            id,
            abi.encodeCall(tm.recordLegLocked, (id, leg, abi.encodePacked("lock-tx", leg)))
        );
    }

    function _unlock(bytes32 id, uint8 leg) internal {
        Reports.send(
            tm,
            _relayerOf(leg),
            id,
            abi.encodeCall(tm.recordLegUnlocked, (id, leg, SECRET, abi.encodePacked("unlock-tx", leg)))
        );
    }

    function _refund(bytes32 id, uint8 leg) internal {
        Reports.send(
            tm,
            _relayerOf(leg),
            id,
            abi.encodeCall(tm.recordLegRefunded, (id, leg, abi.encodePacked("refund-tx", leg)))
        );
    }

    function _void(bytes32 id, uint8 leg) internal {
        Reports.send(
            tm,
            _relayerOf(leg),
            id,
            abi.encodeCall(tm.recordLegVoid, (id, leg, abi.encodePacked("void-check", leg)))
        );
    }

    /// Unlocked, Refunded or Void: the leg can never change again.
    function _ended(ITransactionManager.LegState leg) internal pure returns (bool) {
        return leg == ITransactionManager.LegState.Unlocked || leg == ITransactionManager.LegState.Refunded
            || leg == ITransactionManager.LegState.Void;
    }

    /// How many logs of `emitter` carry `topic0` (e.g. an event's selector).
    function _countLogs(Vm.Log[] memory logs, address emitter, bytes32 topic0)
        internal
        pure
        returns (uint256 n)
    {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == emitter && logs[i].topics.length > 0 && logs[i].topics[0] == topic0) ++n;
        }
    }

    /// Hash of everything the HTLC half exposes about `id`, the open lists of both chains and the nonces
    /// of both parties: equal before and after a rejected call proves it changed nothing.
    function _tmState(bytes32 id) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                tm.swap(id),
                tm.openSwapCount(KEY_A),
                tm.openSwapCount(KEY_B),
                tm.openSwaps(KEY_A, 0, 100),
                tm.openSwaps(KEY_B, 0, 100),
                tm.nonceUsed(USER_1, NONCE),
                tm.nonceUsed(USER_2, NONCE),
                tm.nonceUsed(USER_1, NONCE + 1)
            )
        );
    }

    function _assertSwapState(bytes32 id, ITransactionManager.SwapState expected) internal view {
        assertEq(uint256(tm.swap(id).state), uint256(expected), "swap state");
    }

    function _assertLegs(bytes32 id, ITransactionManager.LegState a, ITransactionManager.LegState b)
        internal
        view
    {
        ITransactionManager.Swap memory s = tm.swap(id);
        assertEq(uint256(s.legA), uint256(a), "leg A");
        assertEq(uint256(s.legB), uint256(b), "leg B");
    }

    /// True when `id` is listed exactly once in `key`'s open list.
    function _isOpenOn(bytes32 key, bytes32 id) internal view returns (bool found) {
        bytes32[] memory ids = tm.openSwaps(key, 0, 100);
        uint256 hits;
        for (uint256 i; i < ids.length; ++i) {
            if (ids[i] == id) ++hits;
        }
        require(hits <= 1, "listed twice");
        return hits == 1;
    }

    // ---------------------------------------------------------------- Supervision helpers

    function _pubkey(Vm.Wallet memory w) internal pure returns (bytes memory) {
        return abi.encodePacked(w.publicKeyX, w.publicKeyY);
    }

    function _regulatorAddress(bytes memory publicKey) internal pure returns (address) {
        return address(uint160(uint256(keccak256(publicKey))));
    }

    /// Admits the regulator of private key `pk` by a real proposal; returns its address.
    function _admitRegulator(uint256 pk, string memory name) internal returns (address) {
        Vm.Wallet memory w = vm.createWallet(pk);
        _pass(address(sup), abi.encodeCall(sup.admitRegulator, (_pubkey(w), name)));
        return w.addr;
    }

    function _removeRegulator(address regulator) internal {
        _pass(address(sup), abi.encodeCall(sup.removeRegulator, (regulator)));
    }

    /// A well-formed audit envelope wrapped for the regulators active now, its body 16 to 79 bytes long.
    function _envelope(bytes32 salt) internal view returns (bytes memory) {
        return Envelopes.build(sup.regulators(), 16 + uint256(salt) % 64, salt);
    }

    function _supState(address[] memory tracked) internal view returns (bytes32 h) {
        h = keccak256(abi.encode(sup.head(), sup.recordCount(), sup.regulators()));
        for (uint256 i; i < tracked.length; ++i) {
            h = keccak256(abi.encode(h, sup.regulatorOf(tracked[i])));
        }
    }
}
