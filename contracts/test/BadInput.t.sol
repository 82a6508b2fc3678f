// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {HtlcFixture} from "./TransactionManagerHtlcBase.sol";
import {Supervision} from "../src/governance/Supervision.sol";
import {XaLedger} from "../src/resources/XaLedger.sol";
import {HtlcAsset} from "../src/resources/HtlcAsset.sol";
import {IInstitutionRegistry} from "../src/interfaces/IInstitutionRegistry.sol";
import {IChainRegistry} from "../src/interfaces/IChainRegistry.sol";
import {IPermissionManager} from "../src/interfaces/IPermissionManager.sol";
import {ITransactionManager} from "../src/interfaces/ITransactionManager.sol";
import {ISupervision} from "../src/interfaces/ISupervision.sol";
import {IXaLedger} from "../src/interfaces/IXaLedger.sol";
import {IHtlcAsset} from "../src/interfaces/IHtlcAsset.sol";
import {IPath} from "../src/libraries/IPath.sol";
import {ResourceOps} from "../src/libraries/ResourceOps.sol";
import {Envelopes} from "./utils/Envelopes.sol";
import {Reports} from "./utils/Reports.sol";

/// @notice The bad-input corpus (issue #8 item 4): one table per contract group of malformed,
/// oversize, forged, replayed, misdirected, unknown, expired and unauthorised calls. Each row names
/// its call (caller, target, calldata) and the exact revert data it must produce; the runner hashes
/// the state getters of all seven contracts before and after every row and requires the hash
/// unchanged, and `test_badInput_digestSeesEveryContract` shows a valid call to each contract moves it.
contract BadInputTest is HtlcFixture {
    struct Case {
        string name;
        address caller;
        address target;
        bytes data;
        /// exact revert data: selector and arguments, or empty for calldata the ABI decoder refuses
        bytes expected;
    }

    /// Fields of an HtlcAsset lock, grouped to keep the builders off the stack limit.
    struct LockArgs {
        /// the swap id the lock is for (its storage key is the lock id of all the fields)
        bytes32 id;
        address sender;
        address recipient;
        uint256 amount;
        bytes32 hashlock;
        uint64 timelock;
        bytes sig;
    }

    uint256 internal constant MAX_CASES = 64;
    bytes32 internal constant LEDGER = "ledger";
    bytes32 internal constant ZONE_X = "zoneX";
    bytes32 internal constant CHAIN_X = "chainX";
    bytes32 internal constant BAD_DOT = "zone.A";
    /// "a", a zero byte, then "b": two encodings of one name must not both be valid.
    bytes32 internal constant BAD_GAP = hex"610062";
    bytes32 internal constant WRONG_SECRET = keccak256("not the secret");
    uint256 internal constant OTHER_CHAIN_ID = 999;
    uint256 internal constant REGULATOR_PK = 0x7E6;
    /// A second active regulator, and one admitted then removed.
    uint256 internal constant REGULATOR_2_PK = 0x7E7;
    uint256 internal constant REGULATOR_GONE_PK = 0x7E8;

    /// Request ids are bound to the initiator and nonce: keccak256(abi.encode(USER_1, nonce)), set in setUp.
    /// 2PC: TX_OPEN preparing (step 0 voted yes), TX_DECIDED committing (step 0 acked), TX_NEW never begun.
    bytes32 internal TX_OPEN;
    bytes32 internal TX_DECIDED;
    bytes32 internal TX_NEW;
    uint256 internal constant TX_NONCE = 100;
    uint256 internal constant TX_DECIDED_NONCE = 101;
    /// A nonce no fixture call used: rows that must fail for another reason sign with it.
    uint256 internal constant FRESH = 500;

    /// HTLC on the governance chain: SWAP_ID (fixture) accepted with leg A locked, SWAP_2 accepted with
    /// nothing locked, SWAP_PROPOSED never accepted, SWAP_NEW never proposed (the same id as TX_NEW: one
    /// nonce, one id, whichever kind of request uses it).
    bytes32 internal SWAP_2;
    bytes32 internal SWAP_PROPOSED;
    bytes32 internal SWAP_NEW;

    /// XaLedger ids: prepared (debit 100 of USER_1), rolled back before prepare, committed, unknown.
    bytes32 internal constant XTX_PREPARED = keccak256("xa prepared");
    bytes32 internal constant XTX_ROLLED = keccak256("xa rolled");
    bytes32 internal constant XTX_COMMITTED = keccak256("xa committed");
    bytes32 internal constant XTX_NEW = keccak256("xa new");

    /// HtlcAsset swap ids of the locks: ASSET_SWAP locked by USER_1, ASSET_SWAP_DONE unlocked,
    /// ASSET_SWAP_NEW never locked. LOCK_ID, LOCK_DONE and LOCK_NEW are the lock ids (of the terms).
    bytes32 internal constant ASSET_SWAP = keccak256("asset lock");
    bytes32 internal constant ASSET_SWAP_DONE = keccak256("asset lock done");
    bytes32 internal constant ASSET_SWAP_NEW = keccak256("asset lock new");
    uint64 internal constant LOCK_TIMELOCK = uint64(T0 + 1 hours);
    bytes32 internal LOCK_ID;
    bytes32 internal LOCK_DONE;
    bytes32 internal LOCK_NEW;

    Supervision internal supEmpty;
    XaLedger internal xa;
    HtlcAsset internal asset;
    address internal regulator;
    address internal regulator2;
    address internal regulatorGone;

    uint64 internal txOpenDeadline;
    ITransactionManager.TxRequest internal txOpen;
    bytes internal txOpenSig;
    bytes internal lockSig;
    bytes internal lockDoneSig;

    uint256 internal propPending;
    uint256 internal propPassed;
    uint256 internal propBadSegment;
    uint256 internal propGapSegment;
    uint256 internal propDupChain;
    uint256 internal propZeroChainId;
    uint256 internal propShortKey;
    uint256 internal propOffCurve;
    uint256 internal propUnknownRegulator;
    uint256 internal propBadPattern;
    uint256 internal propBadThreshold;
    uint256 internal propHalfThreshold;
    mapping(uint256 proposalId => bytes data) internal _propData;

    function setUp() public override {
        super.setUp();
        TX_OPEN = _requestIdOf(USER_1, TX_NONCE);
        TX_DECIDED = _requestIdOf(USER_1, TX_DECIDED_NONCE);
        TX_NEW = _requestIdOf(USER_1, FRESH);
        SWAP_2 = _requestIdOf(USER_1, NONCE + 1);
        SWAP_PROPOSED = _requestIdOf(USER_1, NONCE + 2);
        SWAP_NEW = _requestIdOf(USER_1, FRESH);
        supEmpty = new Supervision(registry, address(tm));
        regulator = _admitRegulator(REGULATOR_PK, "Regulator R");
        regulator2 = _admitRegulator(REGULATOR_2_PK, "Regulator S");
        regulatorGone = _admitRegulator(REGULATOR_GONE_PK, "Regulator G");
        _removeRegulator(regulatorGone);
        bytes memory envelope = _envelope("bad-input setup");
        vm.prank(RELAYER_1);
        sup.record(SWAP_ID, envelope);

        // USER_1 may run 2PC on both chains.
        vm.prank(ADMIN_1);
        perms.grantToAccount(USER_1, ZONE_A, CHAIN_A, W, ResourceOps.TWO_PHASE);
        vm.prank(ADMIN_2);
        perms.grantToAccount(USER_1, ZONE_B, CHAIN_B, W, ResourceOps.TWO_PHASE);

        _setUpTransactions();
        _setUpSwaps();
        _setUpProposals();
        _setUpXaLedger();
        _setUpHtlcAsset();
    }

    function _setUpTransactions() internal {
        ITransactionManager.TxRequest memory r = _transfer(TX_OPEN, TX_NONCE);
        txOpenDeadline = r.deadline;
        txOpenSig = _signTx(PK_INIT, r);
        _storeTxOpen(r);
        Reports.send(tm, RELAYER_1, TX_OPEN, abi.encodeCall(tm.begin, (r, txOpenSig)));
        Reports.send(tm, RELAYER_1, TX_OPEN, abi.encodeCall(tm.vote, (TX_OPEN, 0, true, "")));

        r = _transfer(TX_DECIDED, TX_DECIDED_NONCE);
        bytes memory sig = _signTx(PK_INIT, r);
        Reports.send(tm, RELAYER_1, TX_DECIDED, abi.encodeCall(tm.begin, (r, sig)));
        Reports.send(tm, RELAYER_1, TX_DECIDED, abi.encodeCall(tm.vote, (TX_DECIDED, 0, true, "")));
        Reports.send(tm, RELAYER_2, TX_DECIDED, abi.encodeCall(tm.vote, (TX_DECIDED, 1, true, "")));
        Reports.send(tm, RELAYER_1, TX_DECIDED, abi.encodeCall(tm.ack, (TX_DECIDED, 0, "")));
    }

    function _storeTxOpen(ITransactionManager.TxRequest memory r) internal {
        txOpen.txId = r.txId;
        txOpen.deadline = r.deadline;
        txOpen.nonce = r.nonce;
        for (uint256 i; i < r.steps.length; ++i) {
            txOpen.steps.push(r.steps[i]);
        }
    }

    function _setUpSwaps() internal {
        _open();
        _lock(SWAP_ID, 0);
        _propose(_requestWith(SWAP_2, NONCE + 1));
        _accept(SWAP_2);
        _propose(_requestWith(SWAP_PROPOSED, NONCE + 2));
    }

    /// Proposals that passed but were never executed, each holding a call its target refuses.
    function _setUpProposals() internal {
        vm.prank(ADMIN_1);
        propPending =
            registry.propose(address(registry), abi.encodeCall(registry.suspendInstitution, (3)), "pending");
        vm.prank(ADMIN_1);
        registry.vote(propPending, true);

        propPassed = _passed(address(registry), abi.encodeCall(registry.setVotingPeriod, (2 days)));
        propBadSegment = _passed(
            address(chains), abi.encodeCall(chains.admitChain, (BAD_DOT, CHAIN_X, EVM, 7, INST_1, bytes32(0)))
        );
        propGapSegment = _passed(
            address(chains), abi.encodeCall(chains.admitChain, (BAD_GAP, CHAIN_X, EVM, 7, INST_1, bytes32(0)))
        );
        propDupChain = _passed(
            address(chains), abi.encodeCall(chains.admitChain, (ZONE_A, CHAIN_A, EVM, 7, INST_1, bytes32(0)))
        );
        propZeroChainId = _passed(
            address(chains), abi.encodeCall(chains.admitChain, (ZONE_X, CHAIN_X, EVM, 0, INST_1, bytes32(0)))
        );
        propShortKey = _passed(address(sup), abi.encodeCall(sup.admitRegulator, (new bytes(63), "short")));
        propOffCurve = _passed(
            address(sup),
            abi.encodeCall(sup.admitRegulator, (abi.encodePacked(uint256(1), uint256(1)), "off"))
        );
        propUnknownRegulator = _passed(address(sup), abi.encodeCall(sup.removeRegulator, (STRANGER)));
        propBadPattern =
            _passed(address(perms), abi.encodeCall(perms.grantToInstitution, (INST_1, W, CHAIN_A, W, HTLC)));
        propBadThreshold = _passed(address(registry), abi.encodeCall(registry.setThreshold, (1, 3)));
        propHalfThreshold = _passed(address(registry), abi.encodeCall(registry.setThreshold, (1, 2)));
    }

    function _passed(address target, bytes memory data) internal returns (uint256 id) {
        id = _approve(target, data);
        _propData[id] = data;
    }

    function _setUpXaLedger() internal {
        xa = new XaLedger();
        xa.setRelayer(RELAYER_1, true);
        xa.mint(USER_1, 1000);
        vm.startPrank(RELAYER_1);
        xa.prepare(XTX_PREPARED, _xaOp(1, USER_1, 100));
        xa.rollback(XTX_ROLLED);
        xa.prepare(XTX_COMMITTED, _xaOp(2, USER_2, 50));
        xa.commit(XTX_COMMITTED);
        vm.stopPrank();
    }

    function _setUpHtlcAsset() internal {
        asset = new HtlcAsset();
        asset.mint(USER_1, 1000);
        asset.mint(USER_2, 10);
        LockArgs memory a = _lockArgs(ASSET_SWAP);
        lockSig = _signLock(PK_INIT, a);
        LOCK_ID = asset.lock(a.id, a.sender, a.recipient, a.amount, a.hashlock, a.timelock, lockSig);
        a = _lockArgs(ASSET_SWAP_DONE);
        lockDoneSig = _signLock(PK_INIT, a);
        LOCK_DONE = asset.lock(a.id, a.sender, a.recipient, a.amount, a.hashlock, a.timelock, lockDoneSig);
        asset.unlock(LOCK_DONE, SECRET);
        a = _lockArgs(ASSET_SWAP_NEW);
        LOCK_NEW = asset.lockIdOf(a.id, a.sender, a.recipient, a.amount, a.hashlock, a.timelock);
    }

    // ================================================================ the tables

    /// Institution admission: unauthorised callers, bad accounts and roles, unknown and replayed
    /// proposal ids, calldata that does not match what was voted, garbage calldata.
    function test_badInput_institutionRegistryRevertsAndChangesNothing() public {
        Case[] memory cs = new Case[](MAX_CASES);
        uint256 n;
        address r = address(registry);
        bytes memory addUser = abi.encodeCall(registry.addAccount, (STRANGER, IInstitutionRegistry.Role.User));
        cs[n++] = Case(
            "addAccount by an outsider",
            STRANGER,
            r,
            addUser,
            _err1(IInstitutionRegistry.InstNotAdmin.selector, STRANGER)
        );
        cs[n++] = Case(
            "addAccount by a user",
            USER_1,
            r,
            addUser,
            _err1(IInstitutionRegistry.InstNotAdmin.selector, USER_1)
        );
        cs[n++] = Case(
            "addAccount by a relayer",
            RELAYER_1,
            r,
            addUser,
            _err1(IInstitutionRegistry.InstNotAdmin.selector, RELAYER_1)
        );
        cs[n++] = Case(
            "addAccount of the zero address",
            ADMIN_1,
            r,
            abi.encodeCall(registry.addAccount, (address(0), IInstitutionRegistry.Role.User)),
            _err0(IInstitutionRegistry.InstZeroAddress.selector)
        );
        cs[n++] = Case(
            "addAccount with role None",
            ADMIN_1,
            r,
            abi.encodeCall(registry.addAccount, (STRANGER, IInstitutionRegistry.Role.None)),
            _err0(IInstitutionRegistry.InstBadRole.selector)
        );
        cs[n++] = Case(
            "addAccount of another institution's user",
            ADMIN_1,
            r,
            abi.encodeCall(registry.addAccount, (USER_2, IInstitutionRegistry.Role.User)),
            abi.encodeWithSelector(IInstitutionRegistry.InstAccountTaken.selector, USER_2, INST_2)
        );
        cs[n++] = Case(
            "removeAccount of the last admin",
            ADMIN_1,
            r,
            abi.encodeCall(registry.removeAccount, (ADMIN_1)),
            abi.encodeWithSelector(IInstitutionRegistry.InstLastAdmin.selector, INST_1)
        );
        cs[n++] = Case(
            "removeAccount of another institution's account",
            ADMIN_1,
            r,
            abi.encodeCall(registry.removeAccount, (USER_2)),
            abi.encodeWithSelector(IInstitutionRegistry.InstAccountNotMember.selector, USER_2, INST_1)
        );
        cs[n++] = Case(
            "propose a target without code",
            ADMIN_1,
            r,
            abi.encodeCall(registry.propose, (STRANGER, hex"12345678", "x")),
            _err1(IInstitutionRegistry.ProposalBadTarget.selector, STRANGER)
        );
        cs[n++] = Case(
            "propose calldata shorter than a selector",
            ADMIN_1,
            r,
            abi.encodeCall(registry.propose, (r, hex"123456", "x")),
            _err0(IInstitutionRegistry.ProposalEmptyData.selector)
        );
        cs[n++] = Case(
            "propose by an outsider",
            STRANGER,
            r,
            abi.encodeCall(registry.propose, (r, abi.encodeCall(registry.suspendInstitution, (2)), "x")),
            _err1(IInstitutionRegistry.InstNotAdmin.selector, STRANGER)
        );
        cs[n++] = Case(
            "vote on an unknown proposal",
            ADMIN_2,
            r,
            abi.encodeCall(registry.vote, (999, true)),
            _errU(IInstitutionRegistry.ProposalNotFound.selector, 999)
        );
        cs[n++] = Case(
            "vote replayed by the same institution",
            ADMIN_1,
            r,
            abi.encodeCall(registry.vote, (propPending, false)),
            abi.encodeWithSelector(IInstitutionRegistry.ProposalAlreadyVoted.selector, propPending, INST_1)
        );
        cs[n++] = Case(
            "vote by an outsider",
            STRANGER,
            r,
            abi.encodeCall(registry.vote, (propPending, true)),
            _err1(IInstitutionRegistry.InstNotAdmin.selector, STRANGER)
        );
        cs[n++] = Case(
            "vote by the institution the proposal would suspend",
            ADMIN_3,
            r,
            abi.encodeCall(registry.vote, (propPending, false)),
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotEligible.selector, propPending, INST_3)
        );
        cs[n++] = Case(
            "vote on a passed proposal",
            ADMIN_1,
            r,
            abi.encodeCall(registry.vote, (propPassed, true)),
            abi.encodeWithSelector(
                IInstitutionRegistry.ProposalNotPending.selector,
                propPassed,
                IInstitutionRegistry.ProposalState.Passed
            )
        );
        cs[n++] = Case(
            "withdraw by another institution",
            ADMIN_2,
            r,
            abi.encodeCall(registry.withdraw, (propPending)),
            abi.encodeWithSelector(IInstitutionRegistry.ProposalNotProposer.selector, propPending, INST_2)
        );
        cs[n++] = Case(
            "execute a pending proposal",
            STRANGER,
            r,
            abi.encodeCall(registry.execute, (propPending, abi.encodeCall(registry.suspendInstitution, (3)))),
            abi.encodeWithSelector(
                IInstitutionRegistry.ProposalNotPassed.selector,
                propPending,
                IInstitutionRegistry.ProposalState.Pending
            )
        );
        cs[n++] = Case(
            "execute an unknown proposal",
            STRANGER,
            r,
            abi.encodeCall(registry.execute, (999, hex"12345678")),
            _errU(IInstitutionRegistry.ProposalNotFound.selector, 999)
        );
        cs[n++] = Case(
            "execute with calldata other than what was voted",
            STRANGER,
            r,
            abi.encodeCall(
                registry.execute, (propPassed, abi.encodeCall(registry.setVotingPeriod, (3 days)))
            ),
            _errU(IInstitutionRegistry.ProposalDataMismatch.selector, propPassed)
        );
        cs[n++] = Case(
            "execute a threshold below one half",
            STRANGER,
            r,
            abi.encodeCall(registry.execute, (propBadThreshold, _propData[propBadThreshold])),
            _failed(
                propBadThreshold,
                abi.encodeWithSelector(IInstitutionRegistry.GovBadThreshold.selector, uint16(1), uint16(3))
            )
        );
        cs[n++] = Case(
            "execute a threshold of exactly one half",
            STRANGER,
            r,
            abi.encodeCall(registry.execute, (propHalfThreshold, _propData[propHalfThreshold])),
            _failed(
                propHalfThreshold,
                abi.encodeWithSelector(IInstitutionRegistry.GovBadThreshold.selector, uint16(1), uint16(2))
            )
        );
        cs[n++] = Case(
            "suspendInstitution called directly",
            ADMIN_1,
            r,
            abi.encodeCall(registry.suspendInstitution, (2)),
            _err1(IInstitutionRegistry.InstNotGovernance.selector, ADMIN_1)
        );
        cs[n++] = Case(
            "admitInstitution called directly",
            STRANGER,
            r,
            abi.encodeCall(registry.admitInstitution, ("Bank X", bytes32(0), STRANGER)),
            _err1(IInstitutionRegistry.InstNotGovernance.selector, STRANGER)
        );
        cs[n++] = Case(
            "setThreshold called directly",
            ADMIN_1,
            r,
            abi.encodeCall(registry.setThreshold, (1, 2)),
            _err1(IInstitutionRegistry.InstNotGovernance.selector, ADMIN_1)
        );
        cs[n++] = Case(
            "addAccount with a role out of the enum",
            ADMIN_1,
            r,
            abi.encodeWithSelector(registry.addAccount.selector, STRANGER, uint256(7)),
            ""
        );
        cs[n++] = Case(
            "addAccount with a dirty address word",
            ADMIN_1,
            r,
            abi.encodeWithSelector(registry.addAccount.selector, type(uint256).max, uint256(3)),
            ""
        );
        cs[n++] = Case(
            "vote with a bool word of 2",
            ADMIN_2,
            r,
            abi.encodeWithSelector(registry.vote.selector, propPending, 2),
            ""
        );
        n = _garbage(cs, n, r, registry.vote.selector);
        _run(cs, n);
    }

    /// Chain admission: governance-only calls made directly, unknown and malformed chains, relayers
    /// the owner does not own, empty and oversize relayer lists, refused calls inside passed proposals.
    function test_badInput_chainRegistryRevertsAndChangesNothing() public {
        Case[] memory cs = new Case[](MAX_CASES);
        uint256 n;
        address c = address(chains);
        cs[n++] = Case(
            "admitChain called directly",
            ADMIN_1,
            c,
            abi.encodeCall(chains.admitChain, (ZONE_X, CHAIN_X, EVM, 7, INST_1, bytes32(0))),
            _err1(IChainRegistry.ChainNotGovernance.selector, ADMIN_1)
        );
        cs[n++] = Case(
            "retireChain called directly",
            ADMIN_1,
            c,
            abi.encodeCall(chains.retireChain, (ZONE_A, CHAIN_A)),
            _err1(IChainRegistry.ChainNotGovernance.selector, ADMIN_1)
        );
        cs[n++] = Case(
            "setServingRelayers on an unknown chain",
            ADMIN_1,
            c,
            abi.encodeCall(chains.setServingRelayers, (ZONE_X, CHAIN_X, _one(RELAYER_1), true)),
            abi.encodeWithSelector(IChainRegistry.ChainNotFound.selector, ZONE_X, CHAIN_X)
        );
        cs[n++] = Case(
            "setServingRelayers on a malformed zone",
            ADMIN_1,
            c,
            abi.encodeCall(chains.setServingRelayers, (BAD_DOT, CHAIN_A, _one(RELAYER_1), true)),
            abi.encodeWithSelector(IChainRegistry.ChainNotFound.selector, BAD_DOT, CHAIN_A)
        );
        cs[n++] = Case(
            "setServingRelayers by another institution's admin",
            ADMIN_2,
            c,
            abi.encodeCall(chains.setServingRelayers, (ZONE_A, CHAIN_A, _one(RELAYER_2), true)),
            abi.encodeWithSelector(IChainRegistry.ChainNotOwnerAdmin.selector, ADMIN_2, INST_1)
        );
        cs[n++] = Case(
            "setServingRelayers by an outsider",
            STRANGER,
            c,
            abi.encodeCall(chains.setServingRelayers, (ZONE_A, CHAIN_A, _one(RELAYER_1B), true)),
            abi.encodeWithSelector(IChainRegistry.ChainNotOwnerAdmin.selector, STRANGER, INST_1)
        );
        cs[n++] = Case(
            "setServingRelayers naming another institution's relayer",
            ADMIN_1,
            c,
            abi.encodeCall(chains.setServingRelayers, (ZONE_A, CHAIN_A, _one(RELAYER_2), true)),
            abi.encodeWithSelector(IChainRegistry.ChainNotOwnerRelayer.selector, RELAYER_2, INST_1)
        );
        cs[n++] = Case(
            "setServingRelayers naming a user account",
            ADMIN_1,
            c,
            abi.encodeCall(chains.setServingRelayers, (ZONE_A, CHAIN_A, _one(USER_1), true)),
            abi.encodeWithSelector(IChainRegistry.ChainNotOwnerRelayer.selector, USER_1, INST_1)
        );
        cs[n++] = Case(
            "setServingRelayers with no relayer",
            ADMIN_1,
            c,
            abi.encodeCall(chains.setServingRelayers, (ZONE_A, CHAIN_A, new address[](0), true)),
            _errU(IChainRegistry.ChainBadRelayerCount.selector, 0)
        );
        cs[n++] = Case(
            "setServingRelayers with 17 relayers",
            ADMIN_1,
            c,
            abi.encodeCall(chains.setServingRelayers, (ZONE_A, CHAIN_A, new address[](17), true)),
            _errU(IChainRegistry.ChainBadRelayerCount.selector, 17)
        );
        cs[n++] = Case(
            "chainKeyAt an unknown index",
            STRANGER,
            c,
            abi.encodeCall(chains.chainKeyAt, (99)),
            abi.encodeWithSelector(IChainRegistry.ChainIndexOutOfRange.selector, 99, 2)
        );
        cs[n++] = _execCase(
            "execute admitChain of a zone with a dot",
            propBadSegment,
            abi.encodeWithSelector(IChainRegistry.ChainBadSegment.selector, uint8(0), BAD_DOT)
        );
        cs[n++] = _execCase(
            "execute admitChain of a zone with an inner zero byte",
            propGapSegment,
            abi.encodeWithSelector(IChainRegistry.ChainBadSegment.selector, uint8(0), BAD_GAP)
        );
        cs[n++] = _execCase(
            "execute admitChain of an admitted chain",
            propDupChain,
            abi.encodeWithSelector(IChainRegistry.ChainAlreadyAdmitted.selector, ZONE_A, CHAIN_A)
        );
        cs[n++] = _execCase(
            "execute admitChain with chain id 0",
            propZeroChainId,
            _err0(IChainRegistry.ChainZeroChainId.selector)
        );
        cs[n++] = Case(
            "setServingRelayers with a truncated relayer list",
            ADMIN_1,
            c,
            _truncate(
                abi.encodeCall(chains.setServingRelayers, (ZONE_A, CHAIN_A, _one(RELAYER_1B), true)), 32
            ),
            ""
        );
        n = _garbage(cs, n, c, chains.setServingRelayers.selector);
        _run(cs, n);
    }

    /// Permissions: malformed patterns and paths, bad op sets, cross-chain patterns outside governance,
    /// unknown chains, accounts and institutions, grants by a non-owner, nothing to revoke.
    function test_badInput_permissionManagerRevertsAndChangesNothing() public {
        Case[] memory cs = new Case[](MAX_CASES);
        uint256 n;
        uint8 call = ResourceOps.CALL;
        cs[n++] = _grantCase("a zone with a dot", ADMIN_1, BAD_DOT, CHAIN_A, W, call, _badSeg(0, BAD_DOT));
        cs[n++] = _grantCase(
            "a zone with an inner zero byte", ADMIN_1, BAD_GAP, CHAIN_A, W, call, _badSeg(0, BAD_GAP)
        );
        cs[n++] = _grantCase(
            "a zone with a non-ASCII letter",
            ADMIN_1,
            hex"7ac3b66e65",
            CHAIN_A,
            W,
            call,
            _badSeg(0, hex"7ac3b66e65")
        );
        cs[n++] = _grantCase("a zone with a space", ADMIN_1, "zone A", CHAIN_A, W, call, _badSeg(0, "zone A"));
        cs[n++] = _grantCase("an empty chain", ADMIN_1, ZONE_A, bytes32(0), W, call, _badSeg(1, bytes32(0)));
        cs[n++] = _grantCase(
            "a wildcard before a concrete chain", ADMIN_1, W, CHAIN_A, W, call, _badSeg(1, CHAIN_A)
        );
        cs[n++] = _grantCase(
            "a wildcard before a concrete resource", ADMIN_1, ZONE_A, W, LEDGER, call, _badSeg(2, LEDGER)
        );
        cs[n++] = _grantCase(
            "a prefix wildcard resource", ADMIN_1, ZONE_A, CHAIN_A, "led*", call, _badSeg(2, "led*")
        );
        cs[n++] = _grantCase(
            "no ops", ADMIN_1, ZONE_A, CHAIN_A, W, 0, _errU(IPermissionManager.PermBadOps.selector, 0)
        );
        cs[n++] = _grantCase(
            "an undefined op bit",
            ADMIN_1,
            ZONE_A,
            CHAIN_A,
            W,
            0x80,
            _errU(IPermissionManager.PermBadOps.selector, 0x80)
        );
        cs[n++] = _grantCase(
            "a cross-chain pattern outside governance",
            ADMIN_1,
            ZONE_A,
            W,
            W,
            call,
            _err1(IPermissionManager.PermNotGovernance.selector, ADMIN_1)
        );
        cs[n++] = _grantCase(
            "an unknown chain",
            ADMIN_1,
            ZONE_X,
            CHAIN_X,
            W,
            call,
            abi.encodeWithSelector(IPermissionManager.PermChainNotActive.selector, ZONE_X, CHAIN_X)
        );
        cs[n++] = _grantCase(
            "by another institution's admin",
            ADMIN_2,
            ZONE_A,
            CHAIN_A,
            W,
            call,
            abi.encodeWithSelector(IPermissionManager.PermNotChainOwner.selector, ADMIN_2, ZONE_A, CHAIN_A)
        );
        cs[n++] = _grantCase(
            "by the chain's own relayer",
            RELAYER_1,
            ZONE_A,
            CHAIN_A,
            W,
            call,
            abi.encodeWithSelector(IPermissionManager.PermNotChainOwner.selector, RELAYER_1, ZONE_A, CHAIN_A)
        );
        cs[n++] = Case(
            "grantToAccount of an unregistered account",
            ADMIN_1,
            address(perms),
            abi.encodeCall(perms.grantToAccount, (STRANGER, ZONE_A, CHAIN_A, W, call)),
            _err1(IPermissionManager.PermUnknownAccount.selector, STRANGER)
        );
        cs[n++] = Case(
            "grantToInstitution of an unknown institution",
            ADMIN_1,
            address(perms),
            abi.encodeCall(perms.grantToInstitution, (99, ZONE_A, CHAIN_A, W, call)),
            _errU(IPermissionManager.PermUnknownInstitution.selector, 99)
        );
        cs[n++] = Case(
            "revokeFromAccount of ops never granted",
            ADMIN_1,
            address(perms),
            abi.encodeCall(perms.revokeFromAccount, (USER_2, ZONE_A, CHAIN_A, W, call)),
            abi.encodeWithSelector(
                IPermissionManager.PermNothingToRevoke.selector, IPath.patternKey(ZONE_A, CHAIN_A, W), call
            )
        );
        cs[n++] = Case(
            "check a wildcard path",
            STRANGER,
            address(perms),
            abi.encodeCall(perms.check, (USER_1, ZONE_A, CHAIN_A, W, HTLC)),
            _badSeg(2, W)
        );
        cs[n++] = Case(
            "check two ops at once",
            STRANGER,
            address(perms),
            abi.encodeCall(perms.check, (USER_1, ZONE_A, CHAIN_A, ASSET, HTLC | call)),
            _errU(IPermissionManager.PermBadOp.selector, HTLC | call)
        );
        cs[n++] = _execCase(
            "execute a governance grant on a malformed pattern", propBadPattern, _badSeg(1, CHAIN_A)
        );
        cs[n++] = Case(
            "grantToAccount with ops above uint8",
            ADMIN_1,
            address(perms),
            abi.encodeWithSelector(perms.grantToAccount.selector, USER_1, ZONE_A, CHAIN_A, W, uint256(256)),
            ""
        );
        n = _garbage(cs, n, address(perms), perms.grantToAccount.selector);
        _run(cs, n);
    }

    /// 2PC: every refusal of begin (ids, step counts, deadlines, forged / malleable / replayed / other
    /// chain signatures, submitters, paths, op sizes, chains, grants), then of vote, expire and ack.
    function test_badInput_transactionManager2pcRevertsAndChangesNothing() public {
        Case[] memory cs = new Case[](MAX_CASES);
        uint256 n = _beginCases(cs, 0);
        n = _beginPathCases(cs, n);
        n = _voteCases(cs, n);
        n = _garbage(cs, n, address(tm), tm.begin.selector);
        _run(cs, n);
    }

    function _beginCases(Case[] memory cs, uint256 n) internal returns (uint256) {
        ITransactionManager.TxRequest memory r = _transfer(TX_NEW, FRESH);
        bytes memory good = _signTx(PK_INIT, r);
        ITransactionManager.TxRequest memory replay = txOpen;
        cs[n++] = _beginCase(
            "replayed request and signature",
            RELAYER_1,
            replay,
            txOpenSig,
            abi.encodeWithSelector(ITransactionManager.TxAlreadyExists.selector, TX_OPEN)
        );
        replay.txId = TX_NEW;
        cs[n++] = _beginCase(
            "replayed nonce under the txId of another nonce",
            RELAYER_1,
            replay,
            _signTx(PK_INIT, replay),
            abi.encodeWithSelector(ITransactionManager.TxIdNotBound.selector, TX_NEW, TX_OPEN)
        );
        // The id of NONCE is free in the 2PC half (SWAP_ID took it in the swap half): the nonce refuses it.
        ITransactionManager.TxRequest memory bad = _transfer(SWAP_ID, NONCE);
        cs[n++] = _beginCase(
            "nonce of an earlier swap",
            RELAYER_1,
            bad,
            _signTx(PK_INIT, bad),
            abi.encodeWithSelector(ITransactionManager.TxNonceUsed.selector, USER_1, NONCE)
        );
        bad = _transfer(TX_NEW, FRESH);
        cs[n++] = _beginCase(
            "USER_1's txId squatted by USER_2",
            RELAYER_2,
            bad,
            _signTx(PK_CP, bad),
            abi.encodeWithSelector(
                ITransactionManager.TxIdNotBound.selector, TX_NEW, _requestIdOf(USER_2, FRESH)
            )
        );
        bad = _transfer(keccak256("a txId of one's choosing"), FRESH);
        cs[n++] = _beginCase(
            "txId not derived from signer and nonce",
            RELAYER_1,
            bad,
            _signTx(PK_INIT, bad),
            abi.encodeWithSelector(ITransactionManager.TxIdNotBound.selector, bad.txId, TX_NEW)
        );
        bad = _transfer(bytes32(0), FRESH);
        cs[n++] = _beginCase(
            "zero txId", RELAYER_1, bad, _signTx(PK_INIT, bad), _err0(ITransactionManager.TxZeroId.selector)
        );
        bad = _transfer(TX_NEW, FRESH);
        bad.steps = new ITransactionManager.Step[](0);
        cs[n++] = _beginCase(
            "no steps",
            RELAYER_1,
            bad,
            _signTx(PK_INIT, bad),
            _errU(ITransactionManager.TxBadStepCount.selector, 0)
        );
        bad.steps = new ITransactionManager.Step[](17);
        for (uint256 i; i < 17; ++i) {
            bad.steps[i] = r.steps[0];
        }
        cs[n++] = _beginCase(
            "17 steps",
            RELAYER_1,
            bad,
            _signTx(PK_INIT, bad),
            _errU(ITransactionManager.TxBadStepCount.selector, 17)
        );
        bad = _transfer(TX_NEW, FRESH);
        bad.deadline = uint64(block.timestamp);
        cs[n++] = _beginCase(
            "deadline now",
            RELAYER_1,
            bad,
            _signTx(PK_INIT, bad),
            abi.encodeWithSelector(ITransactionManager.TxBadDeadline.selector, bad.deadline, block.timestamp)
        );
        bad = _transfer(TX_NEW, FRESH);
        bad.deadline = uint64(block.timestamp + 7 days + 1);
        cs[n++] = _beginCase(
            "deadline beyond seven days",
            RELAYER_1,
            bad,
            _signTx(PK_INIT, bad),
            abi.encodeWithSelector(ITransactionManager.TxBadDeadline.selector, bad.deadline, block.timestamp)
        );
        cs[n++] = _beginCase(
            "64-byte signature", RELAYER_1, r, _cut(good), _err0(ITransactionManager.TxBadSignature.selector)
        );
        cs[n++] = _beginCase(
            "65 zero bytes as signature",
            RELAYER_1,
            r,
            new bytes(65),
            _err0(ITransactionManager.TxBadSignature.selector)
        );
        cs[n++] = _beginCase(
            "malleable twin of a valid signature",
            RELAYER_1,
            r,
            _malleable(good),
            _err0(ITransactionManager.TxBadSignature.selector)
        );
        cs[n++] = _beginCase(
            "signature with v = 29",
            RELAYER_1,
            r,
            _withV(good, 29),
            _err0(ITransactionManager.TxBadSignature.selector)
        );
        bad = _transfer(_requestIdOf(STRANGER_SIGNER, FRESH), FRESH);
        cs[n++] = _beginCase(
            "signature by a key no institution knows",
            RELAYER_1,
            bad,
            _signTx(PK_STRANGER, bad),
            _err1(ITransactionManager.TxNotUser.selector, STRANGER_SIGNER)
        );
        // A signature over other bytes recovers some other key, whose id this is not.
        bytes memory foreign = _signTxOnChain(PK_INIT, r, OTHER_CHAIN_ID);
        address who = _recoverSig(tm.txRequestDigest(r), foreign);
        cs[n++] = _beginCase(
            "signature for another chain id",
            RELAYER_1,
            r,
            foreign,
            abi.encodeWithSelector(
                ITransactionManager.TxIdNotBound.selector, TX_NEW, _requestIdOf(who, FRESH)
            )
        );
        bad = _transfer(TX_NEW, FRESH);
        bad.deadline += 1;
        who = _recoverSig(tm.txRequestDigest(bad), good);
        cs[n++] = _beginCase(
            "request altered after signing",
            RELAYER_1,
            bad,
            good,
            abi.encodeWithSelector(
                ITransactionManager.TxIdNotBound.selector, TX_NEW, _requestIdOf(who, FRESH)
            )
        );
        cs[n++] = _beginCase(
            "submitted by another institution's relayer",
            RELAYER_2,
            r,
            good,
            abi.encodeWithSelector(ITransactionManager.TxNotInstitutionRelayer.selector, RELAYER_2, INST_1)
        );
        cs[n++] = _beginCase(
            "submitted by an outsider",
            STRANGER,
            r,
            good,
            abi.encodeWithSelector(ITransactionManager.TxNotInstitutionRelayer.selector, STRANGER, INST_1)
        );
        bad = _transfer(_requestIdOf(USER_3, FRESH), FRESH);
        cs[n++] = _beginCase(
            "signed by a user without TWO_PHASE",
            RELAYER_3,
            bad,
            _signTx(PK_USER_3, bad),
            abi.encodeWithSelector(ITransactionManager.TxNoPermission.selector, USER_3, uint8(0))
        );
        return n;
    }

    function _beginPathCases(Case[] memory cs, uint256 n) internal view returns (uint256) {
        ITransactionManager.TxRequest memory bad = _transfer(TX_NEW, FRESH);
        bad.steps[0].zone = BAD_DOT;
        cs[n++] = _signedBegin("step 0 zone with a dot", bad, _txBadPath(0, 0));
        bad = _transfer(TX_NEW, FRESH);
        bad.steps[1].chain = bytes32(0);
        cs[n++] = _signedBegin("step 1 empty chain", bad, _txBadPath(1, 1));
        bad = _transfer(TX_NEW, FRESH);
        bad.steps[0].resource = W;
        cs[n++] = _signedBegin("step 0 wildcard resource", bad, _txBadPath(0, 2));
        bad = _transfer(TX_NEW, FRESH);
        bad.steps[1].zone = BAD_GAP;
        cs[n++] = _signedBegin("step 1 zone with an inner zero byte", bad, _txBadPath(1, 0));
        bad = _transfer(TX_NEW, FRESH);
        bad.steps[0].op = "";
        cs[n++] = _signedBegin(
            "empty op", bad, abi.encodeWithSelector(ITransactionManager.TxBadOpLength.selector, uint8(0), 0)
        );
        bad = _transfer(TX_NEW, FRESH);
        bad.steps[1].op = new bytes(1025);
        cs[n++] = _signedBegin(
            "op of 1025 bytes",
            bad,
            abi.encodeWithSelector(ITransactionManager.TxBadOpLength.selector, uint8(1), 1025)
        );
        bad = _transfer(TX_NEW, FRESH);
        bad.steps[1].zone = ZONE_X;
        bad.steps[1].chain = CHAIN_X;
        cs[n++] = _signedBegin(
            "a chain never admitted",
            bad,
            abi.encodeWithSelector(ITransactionManager.TxChainNotActive.selector, uint8(1), ZONE_X, CHAIN_X)
        );
        return n;
    }

    function _voteCases(Case[] memory cs, uint256 n) internal view returns (uint256) {
        address t = address(tm);
        bytes memory big = new bytes(257);
        cs[n++] = Case(
            "vote on an unknown txId",
            RELAYER_1,
            t,
            abi.encodeCall(tm.vote, (TX_NEW, 0, true, "")),
            _errB(ITransactionManager.TxNotFound.selector, TX_NEW)
        );
        cs[n++] = Case(
            "vote on a step out of range",
            RELAYER_1,
            t,
            abi.encodeCall(tm.vote, (TX_OPEN, 5, true, "")),
            abi.encodeWithSelector(ITransactionManager.TxBadStep.selector, TX_OPEN, uint8(5))
        );
        cs[n++] = Case(
            "vote by a relayer of another chain",
            RELAYER_2,
            t,
            abi.encodeCall(tm.vote, (TX_OPEN, 0, false, "")),
            abi.encodeWithSelector(
                ITransactionManager.TxNotServingRelayer.selector, TX_OPEN, uint8(0), RELAYER_2
            )
        );
        cs[n++] = Case(
            "vote by a relayer of the owner that does not serve",
            RELAYER_1B,
            t,
            abi.encodeCall(tm.vote, (TX_OPEN, 0, false, "")),
            abi.encodeWithSelector(
                ITransactionManager.TxNotServingRelayer.selector, TX_OPEN, uint8(0), RELAYER_1B
            )
        );
        cs[n++] = Case(
            "vote by an outsider",
            STRANGER,
            t,
            abi.encodeCall(tm.vote, (TX_OPEN, 1, true, "")),
            abi.encodeWithSelector(
                ITransactionManager.TxNotServingRelayer.selector, TX_OPEN, uint8(1), STRANGER
            )
        );
        cs[n++] = Case(
            "vote replayed on a voted step",
            RELAYER_1,
            t,
            abi.encodeCall(tm.vote, (TX_OPEN, 0, false, "")),
            abi.encodeWithSelector(ITransactionManager.TxAlreadyVoted.selector, TX_OPEN, uint8(0))
        );
        cs[n++] = Case(
            "vote with 257 bytes of evidence",
            RELAYER_2,
            t,
            abi.encodeCall(tm.vote, (TX_OPEN, 1, true, big)),
            _errU(ITransactionManager.TxEvidenceTooLarge.selector, 257)
        );
        cs[n++] = Case(
            "vote on a decided transaction",
            RELAYER_2,
            t,
            abi.encodeCall(tm.vote, (TX_DECIDED, 1, false, "")),
            abi.encodeWithSelector(
                ITransactionManager.TxNotPreparing.selector,
                TX_DECIDED,
                ITransactionManager.TxState.Committing
            )
        );
        cs[n++] = Case(
            "expire before the deadline",
            STRANGER,
            t,
            abi.encodeCall(tm.expire, (TX_OPEN)),
            abi.encodeWithSelector(ITransactionManager.TxDeadlineNotReached.selector, TX_OPEN, txOpenDeadline)
        );
        cs[n++] = Case(
            "expire an unknown txId",
            STRANGER,
            t,
            abi.encodeCall(tm.expire, (TX_NEW)),
            _errB(ITransactionManager.TxNotFound.selector, TX_NEW)
        );
        cs[n++] = Case(
            "expire a decided transaction",
            STRANGER,
            t,
            abi.encodeCall(tm.expire, (TX_DECIDED)),
            abi.encodeWithSelector(
                ITransactionManager.TxNotPreparing.selector,
                TX_DECIDED,
                ITransactionManager.TxState.Committing
            )
        );
        cs[n++] = Case(
            "ack before a decision",
            RELAYER_1,
            t,
            abi.encodeCall(tm.ack, (TX_OPEN, 0, "")),
            abi.encodeWithSelector(
                ITransactionManager.TxNotDecided.selector, TX_OPEN, ITransactionManager.TxState.Preparing
            )
        );
        cs[n++] = Case(
            "ack replayed on an acked step",
            RELAYER_1,
            t,
            abi.encodeCall(tm.ack, (TX_DECIDED, 0, "")),
            abi.encodeWithSelector(ITransactionManager.TxAlreadyAcked.selector, TX_DECIDED, uint8(0))
        );
        cs[n++] = Case(
            "ack by a relayer of another chain",
            RELAYER_1,
            t,
            abi.encodeCall(tm.ack, (TX_DECIDED, 1, "")),
            abi.encodeWithSelector(
                ITransactionManager.TxNotServingRelayer.selector, TX_DECIDED, uint8(1), RELAYER_1
            )
        );
        cs[n++] = Case(
            "ack with 257 bytes of evidence",
            RELAYER_2,
            t,
            abi.encodeCall(tm.ack, (TX_DECIDED, 1, big)),
            _errU(ITransactionManager.TxEvidenceTooLarge.selector, 257)
        );
        cs[n++] = Case(
            "stepOf an unknown txId",
            STRANGER,
            t,
            abi.encodeCall(tm.stepOf, (TX_NEW, 0)),
            _errB(ITransactionManager.TxNotFound.selector, TX_NEW)
        );
        cs[n++] = Case(
            "vote with a step word above uint8",
            RELAYER_1,
            t,
            abi.encodeWithSelector(tm.vote.selector, TX_OPEN, uint256(256), true, ""),
            ""
        );
        cs[n++] = Case(
            "begin with an out-of-bounds offset",
            RELAYER_1,
            t,
            abi.encodePacked(tm.begin.selector, uint256(1 << 64), uint256(64)),
            ""
        );
        return n;
    }

    /// Audit coverage: while regulators are active, a relayer's report sent to its entry point
    /// directly (so with no record) is refused after every other check passed, and nothing changes.
    function test_badInput_directReportWithoutRecordRevertsAndChangesNothing() public {
        Case[] memory cs = new Case[](MAX_CASES);
        uint256 n;
        ITransactionManager.TxRequest memory r = _transfer(TX_NEW, FRESH);
        cs[n++] = _bare("begin", RELAYER_1, abi.encodeCall(tm.begin, (r, _signTx(PK_INIT, r))), TX_NEW);
        cs[n++] = _bare("vote", RELAYER_2, abi.encodeCall(tm.vote, (TX_OPEN, 1, true, "")), TX_OPEN);
        cs[n++] = _bare("ack", RELAYER_2, abi.encodeCall(tm.ack, (TX_DECIDED, 1, "")), TX_DECIDED);
        ITransactionManager.SwapRequest memory sr = _requestWith(SWAP_NEW, FRESH);
        cs[n++] = _bare(
            "proposeSwap",
            RELAYER_1,
            abi.encodeCall(tm.proposeSwap, (sr, _signRequest(PK_INIT, sr))),
            SWAP_NEW
        );
        cs[n++] = _bare(
            "acceptSwap",
            RELAYER_2,
            abi.encodeCall(tm.acceptSwap, (SWAP_PROPOSED, _sign(PK_CP, tm.swap(SWAP_PROPOSED).digest))),
            SWAP_PROPOSED
        );
        cs[n++] =
            _bare("recordLegLocked", RELAYER_1, abi.encodeCall(tm.recordLegLocked, (SWAP_2, 0, "")), SWAP_2);
        cs[n++] = _bare(
            "recordLegUnlocked",
            RELAYER_1,
            abi.encodeCall(tm.recordLegUnlocked, (SWAP_ID, 0, SECRET, "")),
            SWAP_ID
        );
        _run(cs, n);
        // The same calls as report items with their records stand: the refusal was the missing record.
        // (All but proposeSwap: SWAP_NEW shares TX_NEW's nonce, which the begin has just used.)
        for (uint256 i; i < n; ++i) {
            if (bytes4(cs[i].data) == tm.proposeSwap.selector) continue;
            Reports.send(tm, cs[i].caller, _subjectOf(cs[i].data), cs[i].data);
        }
        assertEq(
            uint256(tm.transaction(TX_NEW).state), uint256(ITransactionManager.TxState.Preparing), "begun"
        );
        assertEq(
            uint256(tm.swap(SWAP_PROPOSED).state), uint256(ITransactionManager.SwapState.Accepted), "accepted"
        );
    }

    /// A report about `id` sent to its entry point directly: refused for want of its record.
    function _bare(string memory name, address relayer, bytes memory data, bytes32 id)
        internal
        view
        returns (Case memory)
    {
        return Case(
            name,
            relayer,
            address(tm),
            data,
            abi.encodeWithSelector(ISupervision.SupRecordRequired.selector, id)
        );
    }

    /// The subject of an entry point call: begin's request id, else the first argument.
    function _subjectOf(bytes memory callData) internal view returns (bytes32 id) {
        if (bytes4(callData) == tm.begin.selector) return TX_NEW;
        assembly ("memory-safe") {
            id := mload(add(callData, 36))
        }
    }

    /// HTLC swaps: every refusal of proposeSwap (ids, hashlock, timelocks, paths, amounts, chains,
    /// signatures, nonces shared with 2PC, submitters, parties, grants), of acceptSwap, of the leg
    /// records (wrong secret, replays, order, callers) and of expireSwap.
    function test_badInput_transactionManagerHtlcRevertsAndChangesNothing() public {
        Case[] memory cs = new Case[](MAX_CASES);
        uint256 n = _proposeShapeCases(cs, 0);
        n = _proposeSignerCases(cs, n);
        n = _acceptCases(cs, n);
        n = _legCases(cs, n);
        n = _garbage(cs, n, address(tm), tm.proposeSwap.selector);
        _run(cs, n);
    }

    function _proposeShapeCases(Case[] memory cs, uint256 n) internal view returns (uint256) {
        ITransactionManager.SwapRequest memory r = _requestWith(bytes32(0), FRESH);
        cs[n++] = _signedPropose("zero swapId", r, _err0(ITransactionManager.SwapZeroId.selector));
        r = _requestWith(SWAP_ID, FRESH);
        cs[n++] = _signedPropose(
            "existing swapId", r, _errB(ITransactionManager.SwapAlreadyExists.selector, SWAP_ID)
        );
        r = _requestWith(SWAP_NEW, FRESH);
        r.hashlock = bytes32(0);
        cs[n++] = _signedPropose("zero hashlock", r, _err0(ITransactionManager.SwapZeroHashlock.selector));
        r = _requestWith(SWAP_NEW, FRESH);
        r.legB.timelock = uint64(block.timestamp);
        cs[n++] = _signedPropose("leg B timelock now", r, _badTimelocks(r));
        r = _requestWith(SWAP_NEW, FRESH);
        r.legA.timelock = r.legB.timelock + MARGIN;
        cs[n++] = _signedPropose("leg A timelock within the margin of B", r, _badTimelocks(r));
        r = _requestWith(SWAP_NEW, FRESH);
        r.legA.timelock = uint64(block.timestamp + MAX_SWAP_DURATION + 1);
        cs[n++] = _signedPropose("leg A timelock beyond 30 days", r, _badTimelocks(r));
        r = _requestWith(SWAP_NEW, FRESH);
        r.legA.zone = BAD_DOT;
        cs[n++] = _signedPropose("leg A zone with a dot", r, _swapBadPath(0, 0));
        r = _requestWith(SWAP_NEW, FRESH);
        r.legB.resource = W;
        cs[n++] = _signedPropose("leg B wildcard resource", r, _swapBadPath(1, 2));
        r = _requestWith(SWAP_NEW, FRESH);
        r.legA.amount = 0;
        cs[n++] =
            _signedPropose("leg A amount zero", r, _errU(ITransactionManager.SwapZeroAmount.selector, 0));
        r = _requestWith(SWAP_NEW, FRESH);
        r.legB.recipient = address(0);
        cs[n++] =
            _signedPropose("leg B zero recipient", r, _errU(ITransactionManager.SwapZeroAddress.selector, 1));
        r = _requestWith(SWAP_NEW, FRESH);
        r.legB.zone = ZONE_X;
        r.legB.chain = CHAIN_X;
        cs[n++] = _signedPropose(
            "leg B on a chain never admitted",
            r,
            abi.encodeWithSelector(ITransactionManager.SwapChainNotActive.selector, uint8(1), ZONE_X, CHAIN_X)
        );
        r = _requestWith(SWAP_NEW, NONCE);
        cs[n++] = _signedPropose(
            "nonce of an earlier swap under the swapId of another nonce",
            r,
            abi.encodeWithSelector(ITransactionManager.SwapIdNotBound.selector, SWAP_NEW, SWAP_ID)
        );
        r = _requestWith(keccak256("a swapId of one's choosing"), FRESH);
        cs[n++] = _signedPropose(
            "swapId not derived from initiator and nonce",
            r,
            abi.encodeWithSelector(ITransactionManager.SwapIdNotBound.selector, r.swapId, SWAP_NEW)
        );
        // TX_NONCE's id is free in the swap half (TX_OPEN took it in the 2PC half): the nonce refuses it.
        r = _requestWith(TX_OPEN, TX_NONCE);
        cs[n++] = _signedPropose(
            "nonce of an earlier 2PC request",
            r,
            abi.encodeWithSelector(ITransactionManager.SwapNonceUsed.selector, USER_1, TX_NONCE)
        );
        r = _requestWith(SWAP_NEW, FRESH);
        r.legB.sender = STRANGER;
        cs[n++] = _signedPropose(
            "counterparty not a user", r, _err1(ITransactionManager.SwapNotUser.selector, STRANGER)
        );
        r = _requestWith(SWAP_NEW, FRESH);
        r.legB.zone = ZONE_A;
        r.legB.chain = CHAIN_A;
        cs[n++] = _signedPropose(
            "counterparty without HTLC on leg B's path",
            r,
            abi.encodeWithSelector(ITransactionManager.SwapNoPermission.selector, USER_2, uint8(1))
        );
        return n;
    }

    function _proposeSignerCases(Case[] memory cs, uint256 n) internal returns (uint256) {
        ITransactionManager.SwapRequest memory r = _requestWith(SWAP_NEW, FRESH);
        bytes memory good = _signRequest(PK_INIT, r);
        cs[n++] = _proposeCase(
            "64-byte signature",
            RELAYER_1,
            r,
            _cut(good),
            _err0(ITransactionManager.SwapBadSignature.selector)
        );
        cs[n++] = _proposeCase(
            "65 bytes of 0xff as signature",
            RELAYER_1,
            r,
            _filled(65, 0xff),
            _err0(ITransactionManager.SwapBadSignature.selector)
        );
        cs[n++] = _proposeCase(
            "malleable twin of a valid signature",
            RELAYER_1,
            r,
            _malleable(good),
            _err0(ITransactionManager.SwapBadSignature.selector)
        );
        cs[n++] = _proposeCase(
            "signed by the counterparty",
            RELAYER_1,
            r,
            _signRequest(PK_CP, r),
            abi.encodeWithSelector(ITransactionManager.SwapWrongSigner.selector, USER_1, USER_2)
        );
        bytes memory foreign = _signSwapOnChain(PK_INIT, r, OTHER_CHAIN_ID);
        cs[n++] = _proposeCase(
            "signature for another chain id",
            RELAYER_1,
            r,
            foreign,
            abi.encodeWithSelector(
                ITransactionManager.SwapWrongSigner.selector,
                USER_1,
                _recoverSig(tm.swapRequestDigest(r), foreign)
            )
        );
        cs[n++] = _proposeCase(
            "submitted by another institution's relayer",
            RELAYER_2,
            r,
            good,
            abi.encodeWithSelector(ITransactionManager.SwapNotInstitutionRelayer.selector, RELAYER_2, INST_1)
        );
        cs[n++] = _proposeCase(
            "submitted by an outsider",
            STRANGER,
            r,
            good,
            abi.encodeWithSelector(ITransactionManager.SwapNotInstitutionRelayer.selector, STRANGER, INST_1)
        );
        r.legA.sender = USER_2;
        cs[n++] = _proposeCase(
            "USER_1's swapId squatted by USER_2 as initiator",
            RELAYER_2,
            r,
            _signRequest(PK_CP, r),
            abi.encodeWithSelector(
                ITransactionManager.SwapIdNotBound.selector, SWAP_NEW, _requestIdOf(USER_2, FRESH)
            )
        );
        r.legA.sender = STRANGER_SIGNER;
        r.swapId = _requestIdOf(STRANGER_SIGNER, FRESH);
        cs[n++] = _proposeCase(
            "initiator no institution knows",
            RELAYER_1,
            r,
            _signRequest(PK_STRANGER, r),
            _err1(ITransactionManager.SwapNotUser.selector, STRANGER_SIGNER)
        );
        r.legA.sender = USER_3;
        r.swapId = _requestIdOf(USER_3, FRESH);
        cs[n++] = _proposeCase(
            "initiator without HTLC on leg A's path",
            RELAYER_3,
            r,
            _signRequest(PK_USER_3, r),
            abi.encodeWithSelector(ITransactionManager.SwapNoPermission.selector, USER_3, uint8(0))
        );
        return n;
    }

    function _acceptCases(Case[] memory cs, uint256 n) internal view returns (uint256) {
        address t = address(tm);
        bytes memory good = _sign(PK_CP, tm.swap(SWAP_PROPOSED).digest);
        cs[n++] = Case(
            "accept an unknown swap",
            RELAYER_2,
            t,
            abi.encodeCall(tm.acceptSwap, (SWAP_NEW, good)),
            _errB(ITransactionManager.SwapNotFound.selector, SWAP_NEW)
        );
        cs[n++] = Case(
            "accept replayed on an accepted swap",
            RELAYER_2,
            t,
            abi.encodeCall(tm.acceptSwap, (SWAP_ID, _sign(PK_CP, tm.swap(SWAP_ID).digest))),
            abi.encodeWithSelector(
                ITransactionManager.SwapNotProposed.selector, SWAP_ID, ITransactionManager.SwapState.Accepted
            )
        );
        cs[n++] = Case(
            "accept signed by the initiator",
            RELAYER_2,
            t,
            abi.encodeCall(tm.acceptSwap, (SWAP_PROPOSED, _sign(PK_INIT, tm.swap(SWAP_PROPOSED).digest))),
            abi.encodeWithSelector(ITransactionManager.SwapWrongSigner.selector, USER_2, USER_1)
        );
        cs[n++] = Case(
            "accept with a 64-byte signature",
            RELAYER_2,
            t,
            abi.encodeCall(tm.acceptSwap, (SWAP_PROPOSED, _cut(good))),
            _err0(ITransactionManager.SwapBadSignature.selector)
        );
        cs[n++] = Case(
            "accept with the malleable twin",
            RELAYER_2,
            t,
            abi.encodeCall(tm.acceptSwap, (SWAP_PROPOSED, _malleable(good))),
            _err0(ITransactionManager.SwapBadSignature.selector)
        );
        cs[n++] = Case(
            "accept submitted by the initiator's relayer",
            RELAYER_1,
            t,
            abi.encodeCall(tm.acceptSwap, (SWAP_PROPOSED, good)),
            abi.encodeWithSelector(ITransactionManager.SwapNotInstitutionRelayer.selector, RELAYER_1, INST_2)
        );
        cs[n++] = Case(
            "accept submitted by an outsider",
            STRANGER,
            t,
            abi.encodeCall(tm.acceptSwap, (SWAP_PROPOSED, good)),
            abi.encodeWithSelector(ITransactionManager.SwapNotInstitutionRelayer.selector, STRANGER, INST_2)
        );
        return n;
    }

    function _legCases(Case[] memory cs, uint256 n) internal view returns (uint256) {
        address t = address(tm);
        cs[n++] = Case(
            "lock recorded on an unaccepted swap",
            RELAYER_1,
            t,
            abi.encodeCall(tm.recordLegLocked, (SWAP_PROPOSED, 0, "")),
            abi.encodeWithSelector(
                ITransactionManager.SwapNotInProgress.selector,
                SWAP_PROPOSED,
                ITransactionManager.SwapState.Proposed
            )
        );
        cs[n++] = Case(
            "lock recorded on an unknown swap",
            RELAYER_1,
            t,
            abi.encodeCall(tm.recordLegLocked, (SWAP_NEW, 0, "")),
            _errB(ITransactionManager.SwapNotFound.selector, SWAP_NEW)
        );
        cs[n++] = Case(
            "lock recorded on leg 2",
            RELAYER_1,
            t,
            abi.encodeCall(tm.recordLegLocked, (SWAP_2, 2, "")),
            _errU(ITransactionManager.SwapBadLeg.selector, 2)
        );
        cs[n++] = Case(
            "lock recorded with 257 bytes of evidence",
            RELAYER_1,
            t,
            abi.encodeCall(tm.recordLegLocked, (SWAP_2, 0, new bytes(257))),
            _errU(ITransactionManager.SwapEvidenceTooLarge.selector, 257)
        );
        cs[n++] = Case(
            "lock recorded by a relayer of the other leg",
            RELAYER_2,
            t,
            abi.encodeCall(tm.recordLegLocked, (SWAP_2, 0, "")),
            abi.encodeWithSelector(
                ITransactionManager.SwapNotServingRelayer.selector, SWAP_2, uint8(0), RELAYER_2
            )
        );
        cs[n++] = Case(
            "lock recorded by an outsider",
            STRANGER,
            t,
            abi.encodeCall(tm.recordLegLocked, (SWAP_2, 1, "")),
            abi.encodeWithSelector(
                ITransactionManager.SwapNotServingRelayer.selector, SWAP_2, uint8(1), STRANGER
            )
        );
        cs[n++] = Case(
            "leg B locked before leg A",
            RELAYER_2,
            t,
            abi.encodeCall(tm.recordLegLocked, (SWAP_2, 1, "")),
            _errB(ITransactionManager.SwapLegOutOfOrder.selector, SWAP_2)
        );
        cs[n++] = Case(
            "lock record replayed",
            RELAYER_1,
            t,
            abi.encodeCall(tm.recordLegLocked, (SWAP_ID, 0, "")),
            _legState(SWAP_ID, 0, ITransactionManager.LegState.Locked)
        );
        cs[n++] = Case(
            "unlock recorded with a wrong secret",
            RELAYER_1,
            t,
            abi.encodeCall(tm.recordLegUnlocked, (SWAP_ID, 0, WRONG_SECRET, "")),
            _errB(ITransactionManager.SwapWrongSecret.selector, SWAP_ID)
        );
        cs[n++] = Case(
            "unlock recorded on a leg never locked",
            RELAYER_1,
            t,
            abi.encodeCall(tm.recordLegUnlocked, (SWAP_2, 0, SECRET, "")),
            _legState(SWAP_2, 0, ITransactionManager.LegState.None)
        );
        cs[n++] = Case(
            "refund recorded on a leg never locked",
            RELAYER_2,
            t,
            abi.encodeCall(tm.recordLegRefunded, (SWAP_ID, 1, "")),
            _legState(SWAP_ID, 1, ITransactionManager.LegState.None)
        );
        cs[n++] = Case(
            "void recorded on a locked leg",
            RELAYER_1,
            t,
            abi.encodeCall(tm.recordLegVoid, (SWAP_ID, 0, "")),
            _legState(SWAP_ID, 0, ITransactionManager.LegState.Locked)
        );
        cs[n++] = Case(
            "expire an accepted swap",
            STRANGER,
            t,
            abi.encodeCall(tm.expireSwap, (SWAP_ID)),
            _errB(ITransactionManager.SwapNotExpirable.selector, SWAP_ID)
        );
        cs[n++] = Case(
            "expire a proposal before leg B's timelock",
            STRANGER,
            t,
            abi.encodeCall(tm.expireSwap, (SWAP_PROPOSED)),
            _errB(ITransactionManager.SwapNotExpirable.selector, SWAP_PROPOSED)
        );
        cs[n++] = Case(
            "expire an unknown swap",
            STRANGER,
            t,
            abi.encodeCall(tm.expireSwap, (SWAP_NEW)),
            _errB(ITransactionManager.SwapNotFound.selector, SWAP_NEW)
        );
        return n;
    }

    /// Supervision: records by non-relayers, empty and oversize (> 16 KiB) envelopes, no regulator to
    /// read them, envelopes of another version, malformed, or not wrapped for exactly the active
    /// regulators, governance-only calls made directly, bad regulator keys inside passed proposals.
    function test_badInput_supervisionRevertsAndChangesNothing() public {
        Case[] memory cs = new Case[](MAX_CASES);
        uint256 n;
        address s = address(sup);
        bytes memory envelope = _envelope("bad-input");
        n = _envelopeCases(cs, n);
        cs[n++] = Case(
            "record by an outsider",
            STRANGER,
            s,
            abi.encodeCall(sup.record, (TX_OPEN, envelope)),
            _err1(ISupervision.SupNotRelayer.selector, STRANGER)
        );
        cs[n++] = Case(
            "record by a user",
            USER_1,
            s,
            abi.encodeCall(sup.record, (TX_OPEN, envelope)),
            _err1(ISupervision.SupNotRelayer.selector, USER_1)
        );
        cs[n++] = Case(
            "record by an admin",
            ADMIN_1,
            s,
            abi.encodeCall(sup.record, (TX_OPEN, envelope)),
            _err1(ISupervision.SupNotRelayer.selector, ADMIN_1)
        );
        cs[n++] = Case(
            "record an empty envelope",
            RELAYER_1,
            s,
            abi.encodeCall(sup.record, (TX_OPEN, "")),
            _errU(ISupervision.SupBadEnvelopeLength.selector, 0)
        );
        cs[n++] = Case(
            "record an envelope of 16 KiB + 1",
            RELAYER_1,
            s,
            abi.encodeCall(sup.record, (TX_OPEN, new bytes(16_385))),
            _errU(ISupervision.SupBadEnvelopeLength.selector, 16_385)
        );
        cs[n++] = Case(
            "record with no regulator admitted",
            RELAYER_1,
            address(supEmpty),
            abi.encodeCall(supEmpty.record, (TX_OPEN, Envelopes.build(new address[](0), 16, "none"))),
            _err0(ISupervision.SupNoRegulators.selector)
        );
        cs[n++] = Case(
            "admitRegulator called directly",
            ADMIN_1,
            s,
            abi.encodeCall(sup.admitRegulator, (new bytes(64), "direct")),
            _err1(ISupervision.SupNotGovernance.selector, ADMIN_1)
        );
        cs[n++] = Case(
            "removeRegulator called directly",
            ADMIN_1,
            s,
            abi.encodeCall(sup.removeRegulator, (regulator)),
            _err1(ISupervision.SupNotGovernance.selector, ADMIN_1)
        );
        cs[n++] = _execCase(
            "execute admitRegulator with a 63-byte key",
            propShortKey,
            _errU(ISupervision.SupBadPublicKeyLength.selector, 63)
        );
        cs[n++] = _execCase(
            "execute admitRegulator with a key off the curve",
            propOffCurve,
            _err0(ISupervision.SupPublicKeyNotOnCurve.selector)
        );
        cs[n++] = _execCase(
            "execute removeRegulator of an unknown regulator",
            propUnknownRegulator,
            _err1(ISupervision.SupNotRegulator.selector, STRANGER)
        );
        cs[n++] = Case(
            "record with a length word beyond the calldata",
            RELAYER_1,
            s,
            abi.encodePacked(sup.record.selector, TX_OPEN, uint256(64), uint256(1 << 32)),
            ""
        );
        n = _garbage(cs, n, s, sup.record.selector);
        _run(cs, n);
    }

    /// Envelopes that are not well-formed, or not wrapped for exactly the two active regulators.
    function _envelopeCases(Case[] memory cs, uint256 n) internal view returns (uint256) {
        address[] memory both = new address[](2);
        (both[0], both[1]) = (regulator, regulator2);
        bytes memory good = Envelopes.build(both, 16, "good");
        Envelopes.Parts memory p = Envelopes.parts(both, 16, "bad");
        p.version = 1;
        cs[n++] = _recordCase(
            "record an envelope of version 1",
            Envelopes.encode(p),
            abi.encodeWithSelector(ISupervision.SupEnvelopeVersion.selector, uint8(1))
        );
        cs[n++] = _recordCase(
            "record one junk byte",
            hex"ff",
            abi.encodeWithSelector(ISupervision.SupEnvelopeVersion.selector, uint8(0xff))
        );
        p = Envelopes.parts(both, 16, "bad");
        p.k = 0;
        cs[n++] = _recordCase("record an envelope covering nothing", Envelopes.encode(p), _malformed(1));
        cs[n++] = _recordCase(
            "record an envelope cut one byte short", Envelopes.truncate(good, 1), _malformed(good.length - 1)
        );
        cs[n++] = _recordCase("record a header alone", hex"0201", _malformed(2));
        p = Envelopes.parts(both, 15, "bad");
        cs[n++] = _recordCase(
            "record a body shorter than the tag",
            Envelopes.encode(p),
            _malformed(Envelopes.lengthFieldOffset(1, 2))
        );
        cs[n++] = _recordCase(
            "record an envelope with a trailing byte", bytes.concat(good, hex"00"), _malformed(good.length)
        );
        p = Envelopes.parts(both, 16, "bad");
        p.declared = 17;
        cs[n++] =
            _recordCase("record a body length past the end", Envelopes.encode(p), _malformed(good.length));
        address[] memory list = new address[](1);
        list[0] = regulator;
        cs[n++] = _recordCase(
            "record an envelope missing an active regulator",
            Envelopes.build(list, 16, "bad"),
            abi.encodeWithSelector(ISupervision.SupEnvelopeRecipients.selector, 1, 2)
        );
        list = new address[](3);
        (list[0], list[1], list[2]) = (regulator, regulator2, regulatorGone);
        cs[n++] = _recordCase(
            "record an envelope also for a removed regulator",
            Envelopes.build(list, 16, "bad"),
            abi.encodeWithSelector(ISupervision.SupEnvelopeRecipients.selector, 3, 2)
        );
        list = new address[](2);
        (list[0], list[1]) = (regulator, regulatorGone);
        cs[n++] = _recordCase(
            "record an envelope for a removed regulator instead of an active one",
            Envelopes.build(list, 16, "bad"),
            _err1(ISupervision.SupEnvelopeRecipient.selector, regulatorGone)
        );
        (list[0], list[1]) = (regulator2, regulator2);
        cs[n++] = _recordCase(
            "record an envelope naming a regulator twice",
            Envelopes.build(list, 16, "bad"),
            _err1(ISupervision.SupEnvelopeRecipient.selector, regulator2)
        );
        (list[0], list[1]) = (regulator, STRANGER);
        cs[n++] = _recordCase(
            "record an envelope for an outsider",
            Envelopes.build(list, 16, "bad"),
            _err1(ISupervision.SupEnvelopeRecipient.selector, STRANGER)
        );
        return n;
    }

    function _recordCase(string memory name, bytes memory envelope, bytes memory expected)
        internal
        view
        returns (Case memory)
    {
        return Case(name, RELAYER_1, address(sup), abi.encodeCall(sup.record, (TX_OPEN, envelope)), expected);
    }

    function _malformed(uint256 offset) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISupervision.SupMalformedEnvelope.selector, offset);
    }

    /// XaLedger: non-relayers and non-owners, malformed ops (length, kind, account, amount), conflicts
    /// and replays across the per-txId state machine, unknown txIds, balances exceeded.
    function test_badInput_xaLedgerRevertsAndChangesNothing() public {
        Case[] memory cs = new Case[](MAX_CASES);
        uint256 n;
        address x = address(xa);
        bytes memory op = _xaOp(1, USER_1, 10);
        cs[n++] = Case(
            "prepare by an outsider",
            STRANGER,
            x,
            abi.encodeCall(xa.prepare, (XTX_NEW, op)),
            _err1(IXaLedger.XaNotRelayer.selector, STRANGER)
        );
        cs[n++] = Case(
            "commit by the governance-chain relayer of another chain",
            RELAYER_2,
            x,
            abi.encodeCall(xa.commit, (XTX_PREPARED)),
            _err1(IXaLedger.XaNotRelayer.selector, RELAYER_2)
        );
        cs[n++] = _prepareCase("op of 95 bytes", new bytes(95), _errU(IXaLedger.XaBadOpLength.selector, 95));
        cs[n++] = _prepareCase(
            "op of 97 bytes", bytes.concat(op, hex"00"), _errU(IXaLedger.XaBadOpLength.selector, 97)
        );
        cs[n++] = _prepareCase("op of 2 KiB", new bytes(2048), _errU(IXaLedger.XaBadOpLength.selector, 2048));
        cs[n++] = _prepareCase("op kind 3", _xaOp(3, USER_1, 10), _errU(IXaLedger.XaBadOpKind.selector, 3));
        cs[n++] = _prepareCase(
            "op kind with high bits",
            abi.encode(uint256(1) << 255 | 1, USER_1, uint256(10)),
            _errU(IXaLedger.XaBadOpKind.selector, uint256(1) << 255 | 1)
        );
        cs[n++] = _prepareCase(
            "op account zero", _xaOp(2, address(0), 10), _errU(IXaLedger.XaBadOpAccount.selector, 0)
        );
        cs[n++] = _prepareCase(
            "op account word above 160 bits",
            abi.encode(uint256(2), uint256(1) << 160, uint256(10)),
            _errU(IXaLedger.XaBadOpAccount.selector, uint256(1) << 160)
        );
        cs[n++] = _prepareCase(
            "op account the ledger itself",
            _xaOp(2, x, 10),
            _errU(IXaLedger.XaBadOpAccount.selector, uint256(uint160(x)))
        );
        cs[n++] = _prepareCase("op amount zero", _xaOp(2, USER_2, 0), _err0(IXaLedger.XaZeroAmount.selector));
        cs[n++] = _prepareCase(
            "debit beyond the free balance",
            _xaOp(1, USER_1, 901),
            abi.encodeWithSelector(IXaLedger.XaInsufficientBalance.selector, USER_1, 900, 901)
        );
        cs[n++] = Case(
            "prepare replayed with another op",
            RELAYER_1,
            x,
            abi.encodeCall(xa.prepare, (XTX_PREPARED, op)),
            abi.encodeWithSelector(
                IXaLedger.XaConflictingOp.selector,
                XTX_PREPARED,
                keccak256(_xaOp(1, USER_1, 100)),
                keccak256(op)
            )
        );
        cs[n++] = Case(
            "prepare after a rollback",
            RELAYER_1,
            x,
            abi.encodeCall(xa.prepare, (XTX_ROLLED, op)),
            _errB(IXaLedger.XaAlreadyAborted.selector, XTX_ROLLED)
        );
        cs[n++] = Case(
            "commit an unknown txId",
            RELAYER_1,
            x,
            abi.encodeCall(xa.commit, (XTX_NEW)),
            _errB(IXaLedger.XaNotPrepared.selector, XTX_NEW)
        );
        cs[n++] = Case(
            "commit after a rollback",
            RELAYER_1,
            x,
            abi.encodeCall(xa.commit, (XTX_ROLLED)),
            _errB(IXaLedger.XaAlreadyAborted.selector, XTX_ROLLED)
        );
        cs[n++] = Case(
            "rollback after a commit",
            RELAYER_1,
            x,
            abi.encodeCall(xa.rollback, (XTX_COMMITTED)),
            _errB(IXaLedger.XaAlreadyCommitted.selector, XTX_COMMITTED)
        );
        cs[n++] = Case(
            "mint by an outsider",
            STRANGER,
            x,
            abi.encodeCall(xa.mint, (STRANGER, 1)),
            _err1(IXaLedger.XaNotOwner.selector, STRANGER)
        );
        cs[n++] = Case(
            "setRelayer by a relayer",
            RELAYER_1,
            x,
            abi.encodeCall(xa.setRelayer, (STRANGER, true)),
            _err1(IXaLedger.XaNotOwner.selector, RELAYER_1)
        );
        cs[n++] = Case(
            "setRelayer of the zero address",
            address(this),
            x,
            abi.encodeCall(xa.setRelayer, (address(0), true)),
            _err0(IXaLedger.XaZeroAddress.selector)
        );
        cs[n++] = Case(
            "mint to the escrow",
            address(this),
            x,
            abi.encodeCall(xa.mint, (x, 1)),
            _err1(IXaLedger.XaBadRecipient.selector, x)
        );
        cs[n++] = Case(
            "mint beyond the supply",
            address(this),
            x,
            abi.encodeCall(xa.mint, (USER_2, type(uint256).max)),
            abi.encodeWithSelector(
                IXaLedger.XaSupplyOverflow.selector, type(uint256).max, type(uint256).max - xa.totalSupply()
            )
        );
        cs[n++] = Case(
            "transfer of escrowed units",
            USER_1,
            x,
            abi.encodeCall(xa.transfer, (USER_2, 901)),
            abi.encodeWithSelector(IXaLedger.XaInsufficientBalance.selector, USER_1, 900, 901)
        );
        n = _garbage(cs, n, x, xa.prepare.selector);
        _run(cs, n);
    }

    /// HtlcAsset: every refusal of lock (replayed terms, amounts, recipients, hashlock, timelock, signature
    /// length / v / high s / no signer / wrong signer / other chain / replayed under another swap id,
    /// balance), a swap id where the lock id belongs, wrong and replayed secrets, early timeouts,
    /// non-owners.
    function test_badInput_htlcAssetRevertsAndChangesNothing() public {
        Case[] memory cs = new Case[](MAX_CASES);
        uint256 n = _lockShapeCases(cs, 0);
        n = _lockSignatureCases(cs, n);
        n = _assetCases(cs, n);
        n = _garbage(cs, n, address(asset), asset.lock.selector);
        _run(cs, n);
    }

    function _lockShapeCases(Case[] memory cs, uint256 n) internal view returns (uint256) {
        LockArgs memory a = _lockArgs(ASSET_SWAP);
        a.sig = lockSig;
        cs[n++] = _lockCase("lock replayed", a, _errB(IHtlcAsset.HtlcSwapExists.selector, LOCK_ID));
        a = _lockArgs(ASSET_SWAP_DONE);
        a.sig = lockDoneSig;
        cs[n++] = _lockCase(
            "lock replayed after it settled", a, _errB(IHtlcAsset.HtlcSwapExists.selector, LOCK_DONE)
        );
        a = _lockArgs(ASSET_SWAP_NEW);
        a.amount = 0;
        cs[n++] = _signedLock("amount zero", a, _err0(IHtlcAsset.HtlcZeroAmount.selector));
        a = _lockArgs(ASSET_SWAP_NEW);
        a.recipient = address(asset);
        cs[n++] =
            _signedLock("recipient the hold", a, _err1(IHtlcAsset.HtlcBadRecipient.selector, address(asset)));
        a = _lockArgs(ASSET_SWAP_NEW);
        a.recipient = address(0);
        cs[n++] = _signedLock("recipient zero", a, _err1(IHtlcAsset.HtlcBadRecipient.selector, address(0)));
        a = _lockArgs(ASSET_SWAP_NEW);
        a.hashlock = bytes32(0);
        cs[n++] = _signedLock("hashlock zero", a, _err0(IHtlcAsset.HtlcZeroHashlock.selector));
        a = _lockArgs(ASSET_SWAP_NEW);
        a.timelock = uint64(block.timestamp);
        cs[n++] = _signedLock(
            "timelock now",
            a,
            abi.encodeWithSelector(IHtlcAsset.HtlcTimelockNotInFuture.selector, a.timelock, block.timestamp)
        );
        a = _lockArgs(ASSET_SWAP_NEW);
        a.amount = 1001;
        cs[n++] = _signedLock(
            "amount beyond the balance",
            a,
            abi.encodeWithSelector(IHtlcAsset.HtlcInsufficientBalance.selector, USER_1, 800, 1001)
        );
        return n;
    }

    function _lockSignatureCases(Case[] memory cs, uint256 n) internal returns (uint256) {
        LockArgs memory a = _lockArgs(ASSET_SWAP_NEW);
        bytes memory good = _signLock(PK_INIT, a);
        a.sig = _cut(good);
        cs[n++] = _lockCase("64-byte signature", a, _errU(IHtlcAsset.HtlcBadSignatureLength.selector, 64));
        a.sig = bytes.concat(good, hex"00");
        cs[n++] = _lockCase("66-byte signature", a, _errU(IHtlcAsset.HtlcBadSignatureLength.selector, 66));
        a.sig = _withV(good, 29);
        cs[n++] = _lockCase("signature with v = 29", a, _errU(IHtlcAsset.HtlcBadSignatureV.selector, 29));
        a.sig = _malleable(good);
        (, bytes32 highS,) = _rsv(a.sig);
        cs[n++] = _lockCase(
            "malleable twin of a valid signature", a, _errB(IHtlcAsset.HtlcMalleableSignature.selector, highS)
        );
        a.sig = abi.encodePacked(bytes32(0), bytes32(0), uint8(27));
        cs[n++] =
            _lockCase("signature recovering no signer", a, _err0(IHtlcAsset.HtlcInvalidSignature.selector));
        a.sig = _signLock(PK_CP, a);
        cs[n++] = _lockCase(
            "signed by the recipient",
            a,
            abi.encodeWithSelector(IHtlcAsset.HtlcSignerMismatch.selector, USER_2, USER_1)
        );
        uint256 home = block.chainid;
        vm.chainId(OTHER_CHAIN_ID);
        a.sig = _signLock(PK_INIT, a);
        vm.chainId(home);
        cs[n++] = _lockCase(
            "signature for another chain id",
            a,
            abi.encodeWithSelector(
                IHtlcAsset.HtlcSignerMismatch.selector, _recoverSig(_lockDigest(a), a.sig), USER_1
            )
        );
        a.sig = lockSig;
        cs[n++] = _lockCase(
            "signature of another swap replayed",
            a,
            abi.encodeWithSelector(
                IHtlcAsset.HtlcSignerMismatch.selector, _recoverSig(_lockDigest(a), a.sig), USER_1
            )
        );
        return n;
    }

    function _assetCases(Case[] memory cs, uint256 n) internal view returns (uint256) {
        address h = address(asset);
        cs[n++] = Case(
            "unlock an unknown swap",
            STRANGER,
            h,
            abi.encodeCall(asset.unlock, (LOCK_NEW, SECRET)),
            _errB(IHtlcAsset.HtlcUnknownSwap.selector, LOCK_NEW)
        );
        cs[n++] = Case(
            "unlock by the swap id instead of the lock id",
            STRANGER,
            h,
            abi.encodeCall(asset.unlock, (ASSET_SWAP, SECRET)),
            _errB(IHtlcAsset.HtlcUnknownSwap.selector, ASSET_SWAP)
        );
        cs[n++] = Case(
            "timeout of a lock never made",
            STRANGER,
            h,
            abi.encodeCall(asset.timeout, (LOCK_NEW)),
            _errB(IHtlcAsset.HtlcUnknownSwap.selector, LOCK_NEW)
        );
        cs[n++] = Case(
            "unlock with a wrong secret",
            STRANGER,
            h,
            abi.encodeCall(asset.unlock, (LOCK_ID, WRONG_SECRET)),
            abi.encodeWithSelector(IHtlcAsset.HtlcWrongSecret.selector, LOCK_ID, WRONG_SECRET)
        );
        cs[n++] = Case(
            "unlock with the hashlock instead of the secret",
            STRANGER,
            h,
            abi.encodeCall(asset.unlock, (LOCK_ID, _hashlock(SECRET))),
            abi.encodeWithSelector(IHtlcAsset.HtlcWrongSecret.selector, LOCK_ID, _hashlock(SECRET))
        );
        cs[n++] = Case(
            "unlock replayed with the revealed secret",
            STRANGER,
            h,
            abi.encodeCall(asset.unlock, (LOCK_DONE, SECRET)),
            abi.encodeWithSelector(
                IHtlcAsset.HtlcNotLocked.selector, LOCK_DONE, IHtlcAsset.SwapState.Unlocked
            )
        );
        cs[n++] = Case(
            "timeout before the timelock",
            STRANGER,
            h,
            abi.encodeCall(asset.timeout, (LOCK_ID)),
            abi.encodeWithSelector(
                IHtlcAsset.HtlcNotExpired.selector, LOCK_ID, LOCK_TIMELOCK, block.timestamp
            )
        );
        cs[n++] = Case(
            "timeout of an unlocked swap",
            STRANGER,
            h,
            abi.encodeCall(asset.timeout, (LOCK_DONE)),
            abi.encodeWithSelector(
                IHtlcAsset.HtlcNotLocked.selector, LOCK_DONE, IHtlcAsset.SwapState.Unlocked
            )
        );
        cs[n++] = Case(
            "mint by a relayer",
            RELAYER_1,
            h,
            abi.encodeCall(asset.mint, (RELAYER_1, 1)),
            _err1(IHtlcAsset.HtlcNotOwner.selector, RELAYER_1)
        );
        cs[n++] = Case(
            "transfer to the hold",
            USER_1,
            h,
            abi.encodeCall(asset.transfer, (h, 1)),
            _err1(IHtlcAsset.HtlcBadRecipient.selector, h)
        );
        cs[n++] = Case(
            "transfer beyond the balance",
            USER_2,
            h,
            abi.encodeCall(asset.transfer, (USER_1, 111)),
            // 10 minted plus the 100 LOCK_DONE paid it
            abi.encodeWithSelector(IHtlcAsset.HtlcInsufficientBalance.selector, USER_2, 110, 111)
        );
        return n;
    }

    /// Past every deadline of the fixture (2PC deadline, voting and execution windows, leg B's accept
    /// window, the asset's timelock): each late call is refused by name and changes nothing.
    function test_badInput_expiredDeadlinesRevertAndChangeNothing() public {
        // Built before the clock moves: the request was valid when signed.
        ITransactionManager.TxRequest memory late = _transfer(TX_NEW, FRESH);
        bytes memory lateSig = _signTx(PK_INIT, late);
        ITransactionManager.SwapRequest memory lateSwap = _requestWith(SWAP_NEW, FRESH);
        bytes memory lateSwapSig = _signRequest(PK_INIT, lateSwap);
        bytes memory acceptSig = _sign(PK_CP, tm.swap(SWAP_PROPOSED).digest);
        LockArgs memory lateLock = _lockArgs(ASSET_SWAP_NEW);
        lateLock.sig = _signLock(PK_INIT, lateLock);

        vm.warp(T0 + 2 days + 1);
        Case[] memory cs = new Case[](MAX_CASES);
        uint256 n;
        cs[n++] = _beginCase(
            "begin signed before its deadline, sent after",
            RELAYER_1,
            late,
            lateSig,
            abi.encodeWithSelector(ITransactionManager.TxBadDeadline.selector, late.deadline, block.timestamp)
        );
        cs[n++] = Case(
            "vote after the deadline",
            RELAYER_2,
            address(tm),
            abi.encodeCall(tm.vote, (TX_OPEN, 1, true, "")),
            abi.encodeWithSelector(ITransactionManager.TxDeadlinePassed.selector, TX_OPEN, txOpenDeadline)
        );
        cs[n++] = _proposeCase(
            "proposeSwap signed before its timelocks, sent after",
            RELAYER_1,
            lateSwap,
            lateSwapSig,
            _badTimelocks(lateSwap)
        );
        cs[n++] = Case(
            "accept after leg B's timelock",
            RELAYER_2,
            address(tm),
            abi.encodeCall(tm.acceptSwap, (SWAP_PROPOSED, acceptSig)),
            abi.encodeWithSelector(
                ITransactionManager.SwapAcceptWindowClosed.selector,
                SWAP_PROPOSED,
                tm.swap(SWAP_PROPOSED).timelockB
            )
        );
        cs[n++] = Case(
            "vote after the voting period",
            ADMIN_2,
            address(registry),
            abi.encodeCall(registry.vote, (propPending, true)),
            abi.encodeWithSelector(
                IInstitutionRegistry.ProposalNotPending.selector,
                propPending,
                IInstitutionRegistry.ProposalState.Expired
            )
        );
        cs[n++] = Case(
            "withdraw after the voting period",
            ADMIN_1,
            address(registry),
            abi.encodeCall(registry.withdraw, (propPending)),
            abi.encodeWithSelector(
                IInstitutionRegistry.ProposalNotPending.selector,
                propPending,
                IInstitutionRegistry.ProposalState.Expired
            )
        );
        cs[n++] = Case(
            "execute after the execution window",
            STRANGER,
            address(registry),
            abi.encodeCall(registry.execute, (propPassed, _propData[propPassed])),
            abi.encodeWithSelector(
                IInstitutionRegistry.ProposalNotPassed.selector,
                propPassed,
                IInstitutionRegistry.ProposalState.Expired
            )
        );
        cs[n++] = Case(
            "unlock after the timelock",
            STRANGER,
            address(asset),
            abi.encodeCall(asset.unlock, (LOCK_ID, SECRET)),
            abi.encodeWithSelector(IHtlcAsset.HtlcExpired.selector, LOCK_ID, LOCK_TIMELOCK, block.timestamp)
        );
        cs[n++] = _lockCase(
            "lock signed before its timelock, sent after",
            lateLock,
            abi.encodeWithSelector(
                IHtlcAsset.HtlcTimelockNotInFuture.selector, lateLock.timelock, block.timestamp
            )
        );
        _run(cs, n);
    }

    /// The state digest is not blind: one valid call per contract changes it.
    function test_badInput_digestSeesEveryContract() public {
        Case[] memory cs = new Case[](MAX_CASES);
        uint256 n;
        cs[n++] = Case(
            "registry: addAccount",
            ADMIN_3,
            address(registry),
            abi.encodeCall(registry.addAccount, (STRANGER_SIGNER, IInstitutionRegistry.Role.User)),
            ""
        );
        cs[n++] = Case(
            "chains: setServingRelayers",
            ADMIN_1,
            address(chains),
            abi.encodeCall(chains.setServingRelayers, (ZONE_A, CHAIN_A, _one(RELAYER_1B), true)),
            ""
        );
        cs[n++] = Case(
            "perms: grantToAccount",
            ADMIN_1,
            address(perms),
            abi.encodeCall(perms.grantToAccount, (USER_2, ZONE_A, CHAIN_A, W, ResourceOps.CALL)),
            ""
        );
        // Regulators are active, so a relayer reports through `report`, each item with its record.
        cs[n++] = Case(
            "tm: report(vote)",
            RELAYER_2,
            address(tm),
            Reports.wrap(tm, TX_OPEN, abi.encodeCall(tm.vote, (TX_OPEN, 1, true, ""))),
            ""
        );
        cs[n++] = Case(
            "tm: report(recordLegLocked)",
            RELAYER_1,
            address(tm),
            Reports.wrap(tm, SWAP_2, abi.encodeCall(tm.recordLegLocked, (SWAP_2, 0, ""))),
            ""
        );
        cs[n++] = Case(
            "sup: record",
            RELAYER_1,
            address(sup),
            abi.encodeCall(sup.record, (TX_OPEN, _envelope("digest"))),
            ""
        );
        cs[n++] =
            Case("xa: rollback", RELAYER_1, address(xa), abi.encodeCall(xa.rollback, (XTX_PREPARED)), "");
        cs[n++] = Case(
            "asset: unlock", STRANGER, address(asset), abi.encodeCall(asset.unlock, (LOCK_ID, SECRET)), ""
        );
        for (uint256 i; i < n; ++i) {
            bytes32 before = _digest();
            vm.prank(cs[i].caller);
            (bool ok, bytes memory ret) = cs[i].target.call(cs[i].data);
            if (!ok) fail(string.concat(cs[i].name, ": reverted with ", _hex(ret)));
            assertTrue(_digest() != before, string.concat(cs[i].name, ": the digest did not change"));
        }
    }

    // ================================================================ runner

    /// Each row: the exact revert data, and the digest of every contract's state unchanged.
    function _run(Case[] memory cs, uint256 n) internal {
        assertGt(n, 0, "empty table");
        for (uint256 i; i < n; ++i) {
            Case memory c = cs[i];
            bytes32 before = _digest();
            vm.prank(c.caller);
            (bool ok, bytes memory ret) = c.target.call(c.data);
            if (ok) fail(string.concat(c.name, ": accepted"));
            if (keccak256(ret) != keccak256(c.expected)) {
                fail(string.concat(c.name, ": reverted with ", _hex(ret), ", expected ", _hex(c.expected)));
            }
            assertEq(_digest(), before, string.concat(c.name, ": state changed"));
        }
    }

    /// Empty calldata, an unknown selector, a real selector with its arguments cut short: no contract
    /// has a fallback, so each reverts without data.
    function _garbage(Case[] memory cs, uint256 n, address target, bytes4 selector)
        internal
        pure
        returns (uint256)
    {
        cs[n++] = Case("empty calldata", STRANGER, target, "", "");
        cs[n++] =
            Case("unknown selector", STRANGER, target, hex"deadbeef0000000000000000000000000000000000", "");
        cs[n++] = Case("three bytes", STRANGER, target, hex"c0ffee", "");
        cs[n++] = Case(
            "known selector, truncated arguments",
            STRANGER,
            target,
            abi.encodePacked(selector, bytes10(0)),
            ""
        );
        return n;
    }

    // ================================================================ state digest

    function _digest() internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                _registryDigest(),
                _chainsDigest(),
                _permsDigest(),
                _txDigest(),
                _swapDigest(),
                _supDigest(),
                _xaDigest(),
                _assetDigest()
            )
        );
    }

    function _accounts() internal view returns (address[] memory a) {
        a = new address[](12);
        (a[0], a[1], a[2], a[3], a[4], a[5]) = (ADMIN_1, ADMIN_2, ADMIN_3, RELAYER_1, RELAYER_1B, RELAYER_2);
        (a[6], a[7], a[8], a[9], a[10], a[11]) =
        (RELAYER_3, USER_1, USER_2, USER_3, STRANGER, STRANGER_SIGNER);
    }

    function _registryDigest() internal view returns (bytes32 h) {
        (uint16 num, uint16 den) = registry.threshold();
        h = keccak256(
            abi.encode(
                registry.institutionCount(),
                registry.activeCount(),
                registry.epoch(),
                registry.proposalCount(),
                registry.votingPeriod(),
                num,
                den
            )
        );
        for (uint64 i = 1; i <= 4; ++i) {
            h = keccak256(abi.encode(h, registry.institution(i)));
        }
        address[] memory accounts = _accounts();
        for (uint256 i; i < accounts.length; ++i) {
            (uint64 id, IInstitutionRegistry.Role role) = registry.accountOf(accounts[i]);
            h = keccak256(abi.encode(h, id, role));
        }
        uint256 count = registry.proposalCount();
        for (uint256 p = 1; p <= count; ++p) {
            h = keccak256(
                abi.encode(
                    h,
                    registry.proposal(p),
                    registry.proposalState(p),
                    registry.hasVoted(p, 1),
                    registry.hasVoted(p, 2),
                    registry.hasVoted(p, 3)
                )
            );
        }
    }

    function _chainsDigest() internal view returns (bytes32 h) {
        address[] memory accounts = _accounts();
        uint256 count = chains.chainCount();
        h = keccak256(abi.encode(count, chains.chainOf(ZONE_X, CHAIN_X)));
        for (uint256 i; i < count; ++i) {
            bytes32 key = chains.chainKeyAt(i);
            h = keccak256(abi.encode(h, chains.chainByKey(key)));
            for (uint256 j; j < accounts.length; ++j) {
                h = keccak256(abi.encode(h, chains.isServingRelayerByKey(key, accounts[j])));
            }
        }
    }

    function _patterns() internal pure returns (bytes32[3][6] memory p) {
        p[0] = [ZONE_A, CHAIN_A, W];
        p[1] = [ZONE_B, CHAIN_B, W];
        p[2] = [ZONE_A, CHAIN_A, ASSET];
        p[3] = [ZONE_A, CHAIN_A, LEDGER];
        p[4] = [ZONE_A, W, W];
        p[5] = [W, W, W];
    }

    function _permsDigest() internal view returns (bytes32 h) {
        address[] memory accounts = _accounts();
        bytes32[3][6] memory p = _patterns();
        for (uint256 k; k < p.length; ++k) {
            for (uint256 j; j < accounts.length; ++j) {
                h = keccak256(abi.encode(h, perms.accountOps(accounts[j], p[k][0], p[k][1], p[k][2])));
            }
            for (uint64 i = 1; i <= 3; ++i) {
                h = keccak256(abi.encode(h, perms.institutionOps(i, p[k][0], p[k][1], p[k][2])));
            }
        }
    }

    function _txDigest() internal view returns (bytes32 h) {
        bytes32[3] memory ids = [TX_OPEN, TX_DECIDED, TX_NEW];
        for (uint256 i; i < ids.length; ++i) {
            ITransactionManager.Transaction memory t = tm.transaction(ids[i]);
            h = keccak256(abi.encode(h, t));
            for (uint8 s; s < t.stepCount; ++s) {
                h = keccak256(abi.encode(h, tm.stepOf(ids[i], s)));
            }
        }
        bytes32[3] memory keys = [KEY_A, KEY_B, IPath.chainKey(ZONE_X, CHAIN_X)];
        for (uint256 k; k < keys.length; ++k) {
            h = keccak256(
                abi.encode(h, tm.openTransactionCount(keys[k]), tm.openTransactions(keys[k], 0, 100))
            );
        }
        address[3] memory users = [USER_1, USER_2, USER_3];
        uint256[6] memory nonces = [NONCE, NONCE + 1, NONCE + 2, TX_NONCE, TX_DECIDED_NONCE, FRESH];
        for (uint256 u; u < users.length; ++u) {
            for (uint256 j; j < nonces.length; ++j) {
                h = keccak256(abi.encode(h, tm.nonceUsed(users[u], nonces[j])));
            }
        }
    }

    function _swapDigest() internal view returns (bytes32 h) {
        bytes32[4] memory ids = [SWAP_ID, SWAP_2, SWAP_PROPOSED, SWAP_NEW];
        for (uint256 i; i < ids.length; ++i) {
            h = keccak256(abi.encode(h, tm.swap(ids[i])));
        }
        h = keccak256(
            abi.encode(
                h,
                tm.openSwapCount(KEY_A),
                tm.openSwapCount(KEY_B),
                tm.openSwaps(KEY_A, 0, 100),
                tm.openSwaps(KEY_B, 0, 100)
            )
        );
    }

    function _supDigest() internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                sup.head(),
                sup.recordCount(),
                sup.regulators(),
                sup.regulatorOf(regulator),
                sup.regulatorOf(regulator2),
                sup.regulatorOf(regulatorGone),
                sup.regulatorOf(STRANGER),
                supEmpty.head(),
                supEmpty.recordCount(),
                supEmpty.regulators()
            )
        );
    }

    function _xaDigest() internal view returns (bytes32 h) {
        h = keccak256(
            abi.encode(
                xa.totalSupply(),
                xa.escrowed(),
                xa.pendingCredits(),
                xa.balanceOf(USER_1),
                xa.balanceOf(USER_2),
                xa.balanceOf(STRANGER),
                xa.balanceOf(address(xa)),
                xa.isRelayer(RELAYER_1),
                xa.isRelayer(STRANGER)
            )
        );
        bytes32[4] memory ids = [XTX_PREPARED, XTX_ROLLED, XTX_COMMITTED, XTX_NEW];
        for (uint256 i; i < ids.length; ++i) {
            h = keccak256(abi.encode(h, xa.txOf(ids[i])));
        }
    }

    function _assetDigest() internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                asset.totalSupply(),
                asset.held(),
                asset.balanceOf(USER_1),
                asset.balanceOf(USER_2),
                asset.balanceOf(RELAYER_1),
                asset.lockOf(LOCK_ID),
                asset.lockOf(LOCK_DONE),
                asset.lockOf(LOCK_NEW)
            )
        );
    }

    // ================================================================ row builders

    function _beginCase(
        string memory name,
        address submitter,
        ITransactionManager.TxRequest memory r,
        bytes memory sig,
        bytes memory expected
    ) internal view returns (Case memory) {
        return Case(name, submitter, address(tm), abi.encodeCall(tm.begin, (r, sig)), expected);
    }

    /// A begin whose only fault is in the request itself: USER_1's valid signature, RELAYER_1 submits.
    function _signedBegin(string memory name, ITransactionManager.TxRequest memory r, bytes memory expected)
        internal
        view
        returns (Case memory)
    {
        return _beginCase(name, RELAYER_1, r, _signTx(PK_INIT, r), expected);
    }

    function _proposeCase(
        string memory name,
        address submitter,
        ITransactionManager.SwapRequest memory r,
        bytes memory sig,
        bytes memory expected
    ) internal view returns (Case memory) {
        return Case(name, submitter, address(tm), abi.encodeCall(tm.proposeSwap, (r, sig)), expected);
    }

    function _signedPropose(
        string memory name,
        ITransactionManager.SwapRequest memory r,
        bytes memory expected
    ) internal view returns (Case memory) {
        return _proposeCase(name, RELAYER_1, r, _signRequest(PK_INIT, r), expected);
    }

    function _grantCase(
        string memory name,
        address caller,
        bytes32 zone,
        bytes32 chain,
        bytes32 resource,
        uint8 ops,
        bytes memory expected
    ) internal view returns (Case memory) {
        return Case(
            string.concat("grantToAccount: ", name),
            caller,
            address(perms),
            abi.encodeCall(perms.grantToAccount, (USER_1, zone, chain, resource, ops)),
            expected
        );
    }

    /// Executes a passed proposal whose call the target refuses: the whole execution reverts.
    function _execCase(string memory name, uint256 id, bytes memory inner)
        internal
        view
        returns (Case memory)
    {
        return Case(
            name,
            STRANGER,
            address(registry),
            abi.encodeCall(registry.execute, (id, _propData[id])),
            _failed(id, inner)
        );
    }

    function _prepareCase(string memory name, bytes memory op, bytes memory expected)
        internal
        view
        returns (Case memory)
    {
        return Case(
            string.concat("prepare: ", name),
            RELAYER_1,
            address(xa),
            abi.encodeCall(xa.prepare, (XTX_NEW, op)),
            expected
        );
    }

    function _lockCase(string memory name, LockArgs memory a, bytes memory expected)
        internal
        view
        returns (Case memory)
    {
        return Case(
            string.concat("lock: ", name),
            RELAYER_1,
            address(asset),
            abi.encodeCall(
                asset.lock, (a.id, a.sender, a.recipient, a.amount, a.hashlock, a.timelock, a.sig)
            ),
            expected
        );
    }

    /// A lock whose only fault is in its fields: signed by its sender over exactly those fields.
    function _signedLock(string memory name, LockArgs memory a, bytes memory expected)
        internal
        view
        returns (Case memory)
    {
        a.sig = _signLock(PK_INIT, a);
        return _lockCase(name, a, expected);
    }

    // ================================================================ inputs

    function _xaOp(uint8 kind, address account, uint256 amount) internal pure returns (bytes memory) {
        return abi.encode(kind, account, amount);
    }

    /// USER_1's transfer: debit 100 of USER_1 on zoneA.chainA.ledger, credit USER_2 on zoneB.chainB.ledger.
    function _transfer(bytes32 txId, uint256 nonce)
        internal
        view
        returns (ITransactionManager.TxRequest memory r)
    {
        r.txId = txId;
        r.steps = new ITransactionManager.Step[](2);
        r.steps[0] = ITransactionManager.Step(ZONE_A, CHAIN_A, LEDGER, _xaOp(1, USER_1, 100));
        r.steps[1] = ITransactionManager.Step(ZONE_B, CHAIN_B, LEDGER, _xaOp(2, USER_2, 100));
        r.deadline = uint64(block.timestamp + 1 hours);
        r.nonce = nonce;
    }

    function _lockArgs(bytes32 id) internal view returns (LockArgs memory a) {
        a = LockArgs(id, USER_1, USER_2, 100, _hashlock(SECRET), LOCK_TIMELOCK, "");
    }

    function _lockDigest(LockArgs memory a) internal view returns (bytes32) {
        return asset.lockDigest(a.id, a.sender, a.recipient, a.amount, a.hashlock, a.timelock);
    }

    function _signLock(uint256 pk, LockArgs memory a) internal view returns (bytes memory) {
        return _sign(pk, _lockDigest(a));
    }

    function _signTx(uint256 pk, ITransactionManager.TxRequest memory r)
        internal
        view
        returns (bytes memory)
    {
        return _sign(pk, tm.txRequestDigest(r));
    }

    /// Signs with the EIP-712 domain the contract would have on chain `chainId`.
    function _signTxOnChain(uint256 pk, ITransactionManager.TxRequest memory r, uint256 chainId)
        internal
        returns (bytes memory sig)
    {
        uint256 home = block.chainid;
        vm.chainId(chainId);
        sig = _signTx(pk, r);
        vm.chainId(home);
    }

    function _signSwapOnChain(uint256 pk, ITransactionManager.SwapRequest memory r, uint256 chainId)
        internal
        returns (bytes memory sig)
    {
        uint256 home = block.chainid;
        vm.chainId(chainId);
        sig = _signRequest(pk, r);
        vm.chainId(home);
    }

    function _rsv(bytes memory sig) internal pure returns (bytes32 r, bytes32 s, uint8 v) {
        require(sig.length == 65, "rsv: length");
        assembly ("memory-safe") {
            r := mload(add(sig, 0x20))
            s := mload(add(sig, 0x40))
            v := byte(0, mload(add(sig, 0x60)))
        }
    }

    /// The same signature with s' = n - s and v flipped: it recovers the same signer, so only a
    /// low-s rule refuses it.
    function _malleable(bytes memory sig) internal pure returns (bytes memory) {
        (bytes32 r, bytes32 s, uint8 v) = _rsv(sig);
        return abi.encodePacked(r, bytes32(N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
    }

    function _withV(bytes memory sig, uint8 v) internal pure returns (bytes memory) {
        (bytes32 r, bytes32 s,) = _rsv(sig);
        return abi.encodePacked(r, s, v);
    }

    function _cut(bytes memory sig) internal pure returns (bytes memory) {
        (bytes32 r, bytes32 s,) = _rsv(sig);
        return abi.encodePacked(r, s);
    }

    function _filled(uint256 length, uint8 value) internal pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i; i < length; ++i) {
            out[i] = bytes1(value);
        }
    }

    function _truncate(bytes memory data, uint256 drop) internal pure returns (bytes memory out) {
        out = new bytes(data.length - drop);
        for (uint256 i; i < out.length; ++i) {
            out[i] = data[i];
        }
    }

    function _recoverSig(bytes32 digest, bytes memory sig) internal pure returns (address) {
        (bytes32 r, bytes32 s, uint8 v) = _rsv(sig);
        return ecrecover(digest, v, r, s);
    }

    function _one(address a) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    // ================================================================ expected revert data

    function _err0(bytes4 selector) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector);
    }

    function _err1(bytes4 selector, address a) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, a);
    }

    function _errU(bytes4 selector, uint256 u) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, u);
    }

    function _errB(bytes4 selector, bytes32 b) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, b);
    }

    function _failed(uint256 id, bytes memory inner) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IInstitutionRegistry.ProposalExecutionFailed.selector, id, inner);
    }

    function _badSeg(uint8 position, bytes32 segment) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IPermissionManager.PermBadSegment.selector, position, segment);
    }

    function _txBadPath(uint8 step, uint8 position) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITransactionManager.TxBadPath.selector, step, position);
    }

    function _swapBadPath(uint8 leg, uint8 position) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITransactionManager.SwapBadPath.selector, leg, position);
    }

    function _badTimelocks(ITransactionManager.SwapRequest memory r) internal view returns (bytes memory) {
        return abi.encodeWithSelector(
            ITransactionManager.SwapBadTimelocks.selector, r.legA.timelock, r.legB.timelock, block.timestamp
        );
    }

    function _legState(bytes32 id, uint8 leg, ITransactionManager.LegState state)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(ITransactionManager.SwapLegState.selector, id, leg, state);
    }

    function _hex(bytes memory b) internal pure returns (string memory) {
        bytes memory digits = "0123456789abcdef";
        bytes memory out = new bytes(2 + b.length * 2);
        out[0] = "0";
        out[1] = "x";
        for (uint256 i; i < b.length; ++i) {
            out[2 + 2 * i] = digits[uint8(b[i]) >> 4];
            out[3 + 2 * i] = digits[uint8(b[i]) & 0x0f];
        }
        return string(out);
    }
}
