// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "./utils/Test.sol";
import {InstitutionRegistry} from "../src/governance/InstitutionRegistry.sol";
import {ChainRegistry} from "../src/governance/ChainRegistry.sol";
import {PermissionManager} from "../src/governance/PermissionManager.sol";
import {TransactionManager} from "../src/governance/TransactionManager.sol";
import {IInstitutionRegistry} from "../src/interfaces/IInstitutionRegistry.sol";
import {ITransactionManager} from "../src/interfaces/ITransactionManager.sol";
import {ResourceOps} from "../src/libraries/ResourceOps.sol";
import {Reports} from "./utils/Reports.sol";

/// @notice Shared fixture of the 2PC suites: a consortium of three founders (threshold 2/3, so every
/// proposal needs two votes), two business chains admitted by real proposals (`zoneA.chainA`
/// owned by institution 1, `zoneB.chainB` owned by institution 2), one serving relayer per chain, users
/// holding TWO_PHASE on both chains, and a TransactionManager wired to the three registries.
/// Every account has a private key so any of them can sign a TxRequest. A request's txId is bound to its
/// signer and nonce (`_txIdOf`); `_bind` remembers the nonce of an id so the builders sign with it.
abstract contract TransactionManager2pcBase is Test {
    InstitutionRegistry internal registry;
    ChainRegistry internal chains;
    PermissionManager internal perms;
    TransactionManager internal tm;

    uint64 internal constant INST_1 = 1;
    uint64 internal constant INST_2 = 2;
    uint64 internal constant INST_3 = 3;

    uint256 internal constant ADMIN_1_PK = 0xA1;
    uint256 internal constant ADMIN_2_PK = 0xA2;
    uint256 internal constant ADMIN_3_PK = 0xA3;
    /// serves zoneA.chainA
    uint256 internal constant RELAYER_1_PK = 0xB1;
    /// a relayer of institution 1 that serves no chain
    uint256 internal constant RELAYER_1B_PK = 0xB11;
    /// serves zoneB.chainB
    uint256 internal constant RELAYER_2_PK = 0xB2;
    /// a relayer of institution 3 (which owns no chain)
    uint256 internal constant RELAYER_3_PK = 0xB3;
    /// TWO_PHASE on zoneA.chainA.* and zoneB.chainB.*
    uint256 internal constant USER_1_PK = 0xC1;
    /// TWO_PHASE on zoneA.chainA.* and zoneB.chainB.*
    uint256 internal constant USER_2_PK = 0xC2;
    /// a user of institution 3 holding no grant
    uint256 internal constant USER_3_PK = 0xC3;

    /// secp256k1 group order.
    uint256 internal constant SECP256K1_N =
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    address internal ADMIN_1;
    address internal ADMIN_2;
    address internal ADMIN_3;
    address internal RELAYER_1;
    address internal RELAYER_1B;
    address internal RELAYER_2;
    address internal RELAYER_3;
    address internal USER_1;
    address internal USER_2;
    address internal USER_3;
    address internal constant OUTSIDER = address(0xDEAD);

    bytes32 internal constant ZONE_A = "zoneA";
    bytes32 internal constant CHAIN_A = "chainA";
    bytes32 internal constant ZONE_B = "zoneB";
    bytes32 internal constant CHAIN_B = "chainB";
    /// never admitted
    bytes32 internal constant ZONE_X = "zoneX";
    bytes32 internal constant CHAIN_X = "chainX";
    bytes32 internal constant RES = "xa-ledger";
    bytes32 internal constant W = "*";
    bytes32 internal constant EVM = "evm";

    /// keccak256(abi.encode(zone, chain)), computed in setUp (IPath.chainKey, written out independently)
    bytes32 internal KEY_A;
    bytes32 internal KEY_B;
    bytes32 internal KEY_X;

    /// XaLedger op kinds: abi.encode(uint8 kind, address account, uint256 amount)
    uint8 internal constant DEBIT = 1;
    uint8 internal constant CREDIT = 2;

    uint8 internal constant TWO_PHASE = ResourceOps.TWO_PHASE;
    uint256 internal constant START = 1_700_000_000;
    uint64 internal constant DURATION = 1 hours;
    uint256 internal constant MAX_PAGE = 100;

    /// Nonce each test helper used to begin a transaction, to read nonceUsed back.
    mapping(bytes32 txId => uint256) internal _nonceOf;
    /// Every transaction begun through the helpers; the state snapshot covers them all.
    bytes32[] internal _known;
    /// The nonce each id made by `_bind` derives from (plus one, so 0 means unbound).
    mapping(bytes32 txId => uint256) private _boundNoncePlusOne;
    /// Fresh nonces start far above the small ones tests pick by hand.
    uint256 private _nextNonce = 1_000_000;

    function setUp() public virtual {
        vm.warp(START);
        ADMIN_1 = vm.addr(ADMIN_1_PK);
        ADMIN_2 = vm.addr(ADMIN_2_PK);
        ADMIN_3 = vm.addr(ADMIN_3_PK);
        RELAYER_1 = vm.addr(RELAYER_1_PK);
        RELAYER_1B = vm.addr(RELAYER_1B_PK);
        RELAYER_2 = vm.addr(RELAYER_2_PK);
        RELAYER_3 = vm.addr(RELAYER_3_PK);
        USER_1 = vm.addr(USER_1_PK);
        USER_2 = vm.addr(USER_2_PK);
        USER_3 = vm.addr(USER_3_PK);
        KEY_A = keccak256(abi.encode(ZONE_A, CHAIN_A));
        KEY_B = keccak256(abi.encode(ZONE_B, CHAIN_B));
        KEY_X = keccak256(abi.encode(ZONE_X, CHAIN_X));

        IInstitutionRegistry.Founder[] memory founders = new IInstitutionRegistry.Founder[](3);
        founders[0] = IInstitutionRegistry.Founder("Institution 1", keccak256("cert 1"), ADMIN_1);
        founders[1] = IInstitutionRegistry.Founder("Institution 2", keccak256("cert 2"), ADMIN_2);
        founders[2] = IInstitutionRegistry.Founder("Institution 3", keccak256("cert 3"), ADMIN_3);
        registry = new InstitutionRegistry(founders, 2, 3, 1 days);
        chains = new ChainRegistry(registry);
        perms = new PermissionManager(registry, chains);
        tm = new TransactionManager(registry, chains, perms);

        _addAccount(ADMIN_1, RELAYER_1, IInstitutionRegistry.Role.Relayer);
        _addAccount(ADMIN_1, RELAYER_1B, IInstitutionRegistry.Role.Relayer);
        _addAccount(ADMIN_1, USER_1, IInstitutionRegistry.Role.User);
        _addAccount(ADMIN_2, RELAYER_2, IInstitutionRegistry.Role.Relayer);
        _addAccount(ADMIN_2, USER_2, IInstitutionRegistry.Role.User);
        _addAccount(ADMIN_3, RELAYER_3, IInstitutionRegistry.Role.Relayer);
        _addAccount(ADMIN_3, USER_3, IInstitutionRegistry.Role.User);

        _admitChain(ZONE_A, CHAIN_A, 1001, INST_1);
        _admitChain(ZONE_B, CHAIN_B, 2002, INST_2);
        _setServing(ADMIN_1, ZONE_A, CHAIN_A, RELAYER_1, true);
        _setServing(ADMIN_2, ZONE_B, CHAIN_B, RELAYER_2, true);

        _grant(ADMIN_1, USER_1, ZONE_A, CHAIN_A, W, TWO_PHASE);
        _grant(ADMIN_2, USER_1, ZONE_B, CHAIN_B, W, TWO_PHASE);
        _grant(ADMIN_1, USER_2, ZONE_A, CHAIN_A, W, TWO_PHASE);
        _grant(ADMIN_2, USER_2, ZONE_B, CHAIN_B, W, TWO_PHASE);
    }

    // ---------------------------------------------------------------- governance helpers

    function _addAccount(address admin, address account, IInstitutionRegistry.Role role) internal {
        vm.prank(admin);
        registry.addAccount(account, role);
    }

    function _grant(address admin, address account, bytes32 zone, bytes32 chain, bytes32 resource, uint8 ops)
        internal
    {
        vm.prank(admin);
        perms.grantToAccount(account, zone, chain, resource, ops);
    }

    function _setServing(address admin, bytes32 zone, bytes32 chain, address relayer, bool serving) internal {
        address[] memory list = new address[](1);
        list[0] = relayer;
        vm.prank(admin);
        chains.setServingRelayers(zone, chain, list, serving);
    }

    /// @notice propose -> votes of the active founders until it passes (the target of a suspension has no
    /// vote in it) -> execute.
    function _govern(address target, bytes memory data) internal {
        address[3] memory admins = [ADMIN_1, ADMIN_2, ADMIN_3];
        address proposer;
        for (uint256 i; i < 3; ++i) {
            if (registry.activeInstitutionOf(admins[i], IInstitutionRegistry.Role.Admin) != 0) {
                proposer = admins[i];
                break;
            }
        }
        vm.prank(proposer);
        uint256 id = registry.propose(target, data, "2pc fixture");
        for (uint256 i; i < 3; ++i) {
            if (registry.proposalState(id) != IInstitutionRegistry.ProposalState.Pending) break;
            if (registry.activeInstitutionOf(admins[i], IInstitutionRegistry.Role.Admin) == 0) continue;
            if (registry.proposal(id).excluded == i + 1) continue;
            vm.prank(admins[i]);
            registry.vote(id, true);
        }
        assertTrue(
            registry.proposalState(id) == IInstitutionRegistry.ProposalState.Passed, "proposal did not pass"
        );
        registry.execute(id, data);
        assertTrue(registry.proposalState(id) == IInstitutionRegistry.ProposalState.Executed, "not executed");
    }

    function _admitChain(bytes32 zone, bytes32 chain, uint256 chainId, uint64 owner) internal {
        _govern(
            address(chains),
            abi.encodeCall(chains.admitChain, (zone, chain, EVM, chainId, owner, keccak256("g")))
        );
    }

    function _retireChain(bytes32 zone, bytes32 chain) internal {
        _govern(address(chains), abi.encodeCall(chains.retireChain, (zone, chain)));
    }

    function _suspend(uint64 id) internal {
        _govern(address(registry), abi.encodeCall(registry.suspendInstitution, (id)));
    }

    // ---------------------------------------------------------------- request builders

    function _op(uint8 kind, address account, uint256 amount) internal pure returns (bytes memory) {
        return abi.encode(kind, account, amount);
    }

    function _step(bytes32 zone, bytes32 chain, bytes memory op)
        internal
        pure
        returns (ITransactionManager.Step memory)
    {
        return ITransactionManager.Step({zone: zone, chain: chain, resource: RES, op: op});
    }

    /// @notice The canonical transfer: debit 100 on zoneA.chainA, credit 100 on zoneB.chainB.
    function _transferSteps() internal view returns (ITransactionManager.Step[] memory steps) {
        steps = new ITransactionManager.Step[](2);
        steps[0] = _step(ZONE_A, CHAIN_A, _op(DEBIT, USER_1, 100));
        steps[1] = _step(ZONE_B, CHAIN_B, _op(CREDIT, USER_2, 100));
    }

    /// @notice `count` steps alternating between chain A (even) and chain B (odd).
    function _alternatingSteps(uint256 count)
        internal
        view
        returns (ITransactionManager.Step[] memory steps)
    {
        steps = new ITransactionManager.Step[](count);
        for (uint256 i; i < count; ++i) {
            steps[i] = i % 2 == 0
                ? _step(ZONE_A, CHAIN_A, _op(DEBIT, USER_1, i + 1))
                : _step(ZONE_B, CHAIN_B, _op(CREDIT, USER_2, i + 1));
        }
    }

    function _request(bytes32 txId, ITransactionManager.Step[] memory steps, uint64 deadline, uint256 nonce)
        internal
        pure
        returns (ITransactionManager.TxRequest memory)
    {
        return ITransactionManager.TxRequest({txId: txId, steps: steps, deadline: deadline, nonce: nonce});
    }

    /// @notice A transfer request: deadline DURATION ahead, signed with the nonce `txId` is bound to (see
    /// `_bind`), or a nonce never used by the helpers when the id is not bound.
    function _transferRequest(bytes32 txId) internal returns (ITransactionManager.TxRequest memory) {
        return _request(txId, _transferSteps(), uint64(block.timestamp + DURATION), _nonceFor(txId));
    }

    function _freshNonce() internal returns (uint256) {
        return _nextNonce++;
    }

    /// @notice The id a request of `initiator` with `nonce` must carry: keccak256(abi.encode(initiator,
    /// nonce)), written out from the interface rather than taken from the contract.
    function _txIdOf(address initiator, uint256 nonce) internal pure returns (bytes32) {
        return keccak256(abi.encode(initiator, nonce));
    }

    /// @notice The id of `initiator`'s request with `nonce`, remembered so the builders sign with it.
    function _bind(address initiator, uint256 nonce) internal returns (bytes32 txId) {
        txId = _txIdOf(initiator, nonce);
        _boundNoncePlusOne[txId] = nonce + 1;
    }

    /// @notice A fresh id of `initiator`, bound (`_bind`) to a nonce never used by the helpers.
    function _freshId(address initiator) internal returns (bytes32) {
        return _bind(initiator, _freshNonce());
    }

    function _nonceFor(bytes32 txId) internal returns (uint256) {
        uint256 plusOne = _boundNoncePlusOne[txId];
        return plusOne == 0 ? _freshNonce() : plusOne - 1;
    }

    function _deepCopy(ITransactionManager.TxRequest memory r)
        internal
        pure
        returns (ITransactionManager.TxRequest memory c)
    {
        c.txId = r.txId;
        c.deadline = r.deadline;
        c.nonce = r.nonce;
        c.steps = new ITransactionManager.Step[](r.steps.length);
        for (uint256 i; i < r.steps.length; ++i) {
            ITransactionManager.Step memory s = r.steps[i];
            c.steps[i] = ITransactionManager.Step(s.zone, s.chain, s.resource, bytes.concat(s.op));
        }
    }

    // ---------------------------------------------------------------- signing

    function _sig(uint256 pk, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return abi.encodePacked(r, s, v);
    }

    function _sign(uint256 pk, ITransactionManager.TxRequest memory request)
        internal
        view
        returns (bytes memory)
    {
        return _sig(pk, tm.txRequestDigest(request));
    }

    /// @notice What ecrecover yields for `signature` over `digest` (address(0) on failure).
    function _recover(bytes32 digest, bytes memory signature) internal pure returns (address) {
        (bytes32 r, bytes32 s, uint8 v) = _split(signature);
        return ecrecover(digest, v, r, s);
    }

    function _split(bytes memory signature) internal pure returns (bytes32 r, bytes32 s, uint8 v) {
        require(signature.length == 65, "split: length");
        assembly ("memory-safe") {
            r := mload(add(signature, 0x20))
            s := mload(add(signature, 0x40))
            v := byte(0, mload(add(signature, 0x60)))
        }
    }

    // ---------------------------------------------------------------- EIP-712 reference (independent)

    /// @notice The EIP-712 domain separator written out from the interface docs, not from the contract.
    function _refDomainSeparator(uint256 chainId, address verifyingContract) internal pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256(bytes("crossgov.TransactionManager")),
                keccak256(bytes("1")),
                bytes32(chainId),
                bytes32(uint256(uint160(verifyingContract)))
            )
        );
    }

    /// @notice hashStruct(TxRequest) per EIP-712: the referenced type Step is appended to the primary
    /// type's encoding, an array is the keccak of its members' hashStruct concatenated, `bytes` is hashed.
    function _refStructHash(ITransactionManager.TxRequest memory r) internal pure returns (bytes32) {
        string memory stepType = "Step(bytes32 zone,bytes32 chain,bytes32 resource,bytes op)";
        bytes32 stepTypehash = keccak256(bytes(stepType));
        bytes32 requestTypehash = keccak256(
            bytes(
                string.concat("TxRequest(bytes32 txId,Step[] steps,uint64 deadline,uint256 nonce)", stepType)
            )
        );
        bytes memory members;
        for (uint256 i; i < r.steps.length; ++i) {
            ITransactionManager.Step memory s = r.steps[i];
            members = bytes.concat(
                members, keccak256(bytes.concat(stepTypehash, s.zone, s.chain, s.resource, keccak256(s.op)))
            );
        }
        return keccak256(
            bytes.concat(
                requestTypehash, r.txId, keccak256(members), bytes32(uint256(r.deadline)), bytes32(r.nonce)
            )
        );
    }

    function _refDigest(ITransactionManager.TxRequest memory r, uint256 chainId, address verifyingContract)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(
            bytes.concat(bytes2(0x1901), _refDomainSeparator(chainId, verifyingContract), _refStructHash(r))
        );
    }

    // ---------------------------------------------------------------- actions

    /// @notice Signs `request` with `pk` and has `relayer` begin it; records the nonce.
    function _beginAs(ITransactionManager.TxRequest memory request, uint256 pk, address relayer) internal {
        bytes memory signature = _sign(pk, request);
        _nonceOf[request.txId] = request.nonce;
        _known.push(request.txId);
        Reports.send(tm, relayer, request.txId, abi.encodeCall(tm.begin, (request, signature)));
    }

    /// @notice USER_1 signs a transfer, RELAYER_1 submits it.
    function _beginTransfer(bytes32 txId) internal returns (ITransactionManager.TxRequest memory request) {
        request = _transferRequest(txId);
        _beginAs(request, USER_1_PK, RELAYER_1);
    }

    /// @notice The relayer serving `chainKey` in the fixture.
    function _servingRelayer(bytes32 chainKey) internal view returns (address) {
        if (chainKey == KEY_A) return RELAYER_1;
        if (chainKey == KEY_B) return RELAYER_2;
        revert("no serving relayer");
    }

    function _stepRelayer(bytes32 txId, uint8 step) internal view returns (address) {
        return _servingRelayer(tm.stepOf(txId, step).chainKey);
    }

    function _vote(bytes32 txId, uint8 step, bool ok) internal {
        address relayer = _stepRelayer(txId, step);
        Reports.send(
            tm, relayer, txId, abi.encodeCall(tm.vote, (txId, step, ok, abi.encodePacked("prepare-", step)))
        );
    }

    function _ack(bytes32 txId, uint8 step) internal {
        address relayer = _stepRelayer(txId, step);
        Reports.send(
            tm, relayer, txId, abi.encodeCall(tm.ack, (txId, step, abi.encodePacked("settle-", step)))
        );
    }

    function _voteAll(bytes32 txId, bool ok) internal {
        uint8 n = tm.transaction(txId).stepCount;
        for (uint8 i; i < n; ++i) {
            _vote(txId, i, ok);
        }
    }

    function _ackAll(bytes32 txId) internal {
        uint8 n = tm.transaction(txId).stepCount;
        for (uint8 i; i < n; ++i) {
            _ack(txId, i);
        }
    }

    /// @notice begin -> every step votes yes -> every step acks.
    function _commit(bytes32 txId) internal {
        _voteAll(txId, true);
        _ackAll(txId);
    }

    // ---------------------------------------------------------------- state snapshot

    /// @notice Hash of everything a 2PC call may change for `txId`: its record and step records, the
    /// initiator's nonce, the records and nonces of every transaction the helpers began, and the open
    /// lists (count and content) of every chain the fixture knows.
    function _stateHash(bytes32 txId, address initiator, uint256 nonce) internal view returns (bytes32 h) {
        h = keccak256(abi.encode(_txHash(txId), tm.nonceUsed(initiator, nonce)));
        for (uint256 i; i < _known.length; ++i) {
            bytes32 id = _known[i];
            h = keccak256(
                abi.encode(h, _txHash(id), tm.nonceUsed(tm.transaction(id).initiator, _nonceOf[id]))
            );
        }
        bytes32[3] memory keys = [KEY_A, KEY_B, KEY_X];
        for (uint256 k; k < keys.length; ++k) {
            h = keccak256(
                abi.encode(
                    h, tm.openTransactionCount(keys[k]), tm.openTransactions(keys[k], 0, type(uint256).max)
                )
            );
        }
    }

    function _txHash(bytes32 txId) internal view returns (bytes32 h) {
        ITransactionManager.Transaction memory t = tm.transaction(txId);
        h = keccak256(abi.encode(t));
        if (t.state != ITransactionManager.TxState.None) {
            for (uint8 i; i < t.stepCount; ++i) {
                h = keccak256(abi.encode(h, tm.stepOf(txId, i)));
            }
        }
    }

    /// @notice `_stateHash` of an existing transaction, with the initiator and nonce it began with.
    function _txStateHash(bytes32 txId) internal view returns (bytes32) {
        return _stateHash(txId, tm.transaction(txId).initiator, _nonceOf[txId]);
    }

    // ---------------------------------------------------------------- revert helpers (prove no state change)

    function _expectBeginRevert(
        ITransactionManager.TxRequest memory request,
        bytes memory signature,
        address submitter,
        address initiator,
        bytes memory err
    ) internal {
        bytes32 before = _stateHash(request.txId, initiator, request.nonce);
        vm.expectRevert(err);
        vm.prank(submitter);
        tm.begin(request, signature);
        assertEq(_stateHash(request.txId, initiator, request.nonce), before, "begin revert changed state");
    }

    function _expectVoteRevert(
        address relayer,
        bytes32 txId,
        uint8 step,
        bool ok,
        bytes memory evidence,
        bytes memory err
    ) internal {
        bytes32 before = _txStateHash(txId);
        vm.expectRevert(err);
        vm.prank(relayer);
        tm.vote(txId, step, ok, evidence);
        assertEq(_txStateHash(txId), before, "vote revert changed state");
    }

    function _expectExpireRevert(address caller, bytes32 txId, bytes memory err) internal {
        bytes32 before = _txStateHash(txId);
        vm.expectRevert(err);
        vm.prank(caller);
        tm.expire(txId);
        assertEq(_txStateHash(txId), before, "expire revert changed state");
    }

    function _expectAckRevert(
        address relayer,
        bytes32 txId,
        uint8 step,
        bytes memory evidence,
        bytes memory err
    ) internal {
        bytes32 before = _txStateHash(txId);
        vm.expectRevert(err);
        vm.prank(relayer);
        tm.ack(txId, step, evidence);
        assertEq(_txStateHash(txId), before, "ack revert changed state");
    }

    // ---------------------------------------------------------------- assertions

    function _assertState(bytes32 txId, ITransactionManager.TxState expected) internal view {
        assertEq(uint256(tm.transaction(txId).state), uint256(expected), "tx state");
    }

    function _assertMasks(bytes32 txId, uint256 voted, uint256 yes, uint256 acked) internal view {
        ITransactionManager.Transaction memory t = tm.transaction(txId);
        assertEq(t.votedMask, voted, "votedMask");
        assertEq(t.yesMask, yes, "yesMask");
        assertEq(t.ackedMask, acked, "ackedMask");
    }

    function _contains(bytes32[] memory list, bytes32 id) internal pure returns (bool) {
        for (uint256 i; i < list.length; ++i) {
            if (list[i] == id) return true;
        }
        return false;
    }

    function _isOpen(bytes32 chainKey, bytes32 txId) internal view returns (bool) {
        return _contains(tm.openTransactions(chainKey, 0, MAX_PAGE), txId);
    }

    function _err(bytes4 selector) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector);
    }

    function _notBound(bytes32 txId, bytes32 expected) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITransactionManager.TxIdNotBound.selector, txId, expected);
    }
}
