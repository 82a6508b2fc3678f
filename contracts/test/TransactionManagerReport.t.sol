// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Supervision} from "../src/governance/Supervision.sol";
import {TransactionManager} from "../src/governance/TransactionManager.sol";
import {ISupervision} from "../src/interfaces/ISupervision.sol";
import {ITransactionManager} from "../src/interfaces/ITransactionManager.sol";
import {TransactionManager2pcBase} from "./TransactionManager2pcBase.sol";
import {HtlcFixture} from "./TransactionManagerHtlcBase.sol";
import {Envelopes} from "./utils/Envelopes.sol";
import {Vm} from "./utils/Vm.sol";

/// Batched reports (`report`) on the 2PC half: each item acts as its entry point would for the
/// reporting relayer, its audit record lands in the same step, and a refused item stands alone.
contract TransactionManagerReportTest is TransactionManager2pcBase {
    Supervision internal sup;
    address internal regulator;

    uint8 internal constant BEGIN = uint8(ITransactionManager.ReportKind.Begin);
    uint8 internal constant VOTE = uint8(ITransactionManager.ReportKind.Vote);
    uint8 internal constant EXPIRE = uint8(ITransactionManager.ReportKind.Expire);
    uint8 internal constant ACK = uint8(ITransactionManager.ReportKind.Ack);

    bytes32 internal constant RECORD_APPENDED =
        keccak256("RecordAppended(uint256,bytes32,uint64,address,bytes32,bytes32,bytes)");
    bytes32 internal constant ITEM_REFUSED = keccak256("ReportItemRefused(uint256,bytes32,bytes)");

    function setUp() public override {
        super.setUp();
        sup = new Supervision(registry, address(tm));
        tm.bindSupervision(address(sup));
        Vm.Wallet memory w = vm.createWallet(0x5E6);
        _govern(
            address(sup),
            abi.encodeCall(sup.admitRegulator, (abi.encodePacked(w.publicKeyX, w.publicKeyY), "R"))
        );
        regulator = w.addr;
    }

    // ---------------------------------------------------------------- helpers

    /// A record for the regulators active now; none when there are none.
    function _envelope(bytes32 salt) internal view returns (bytes memory) {
        address[] memory active = sup.regulators();
        if (active.length == 0) return "";
        return Envelopes.build(active, 16 + uint256(salt) % 64, salt);
    }

    function _beginItem(ITransactionManager.TxRequest memory request, uint256 pk)
        internal
        returns (ITransactionManager.ReportItem memory)
    {
        _nonceOf[request.txId] = request.nonce;
        _known.push(request.txId);
        return ITransactionManager.ReportItem({
            kind: BEGIN,
            id: request.txId,
            args: abi.encode(request, _sign(pk, request)),
            envelope: _envelope(request.txId)
        });
    }

    function _voteItem(bytes32 txId, uint8 step, bool ok)
        internal
        view
        returns (ITransactionManager.ReportItem memory)
    {
        return ITransactionManager.ReportItem({
            kind: VOTE,
            id: txId,
            args: abi.encode(txId, step, ok, abi.encodePacked("prepare-", step)),
            envelope: _envelope(keccak256(abi.encode(txId, "vote", step)))
        });
    }

    function _ackItem(bytes32 txId, uint8 step)
        internal
        view
        returns (ITransactionManager.ReportItem memory)
    {
        return ITransactionManager.ReportItem({
            kind: ACK,
            id: txId,
            args: abi.encode(txId, step, abi.encodePacked("settle-", step)),
            envelope: _envelope(keccak256(abi.encode(txId, "ack", step)))
        });
    }

    function _one(ITransactionManager.ReportItem memory item)
        internal
        pure
        returns (ITransactionManager.ReportItem[] memory items)
    {
        items = new ITransactionManager.ReportItem[](1);
        items[0] = item;
    }

    function _two(ITransactionManager.ReportItem memory a, ITransactionManager.ReportItem memory b)
        internal
        pure
        returns (ITransactionManager.ReportItem[] memory items)
    {
        items = new ITransactionManager.ReportItem[](2);
        items[0] = a;
        items[1] = b;
    }

    function _report(address relayer, ITransactionManager.ReportItem[] memory items)
        internal
        returns (uint256)
    {
        vm.prank(relayer);
        return tm.report(items);
    }

    /// The refusal reason logged for item `index` of the last recorded logs (empty when none).
    function _refusal(Vm.Log[] memory logs, uint256 index) internal pure returns (bytes memory) {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] == ITEM_REFUSED && uint256(logs[i].topics[1]) == index) {
                return abi.decode(logs[i].data, (bytes));
            }
        }
        return "";
    }

    function _supState() internal view returns (bytes32) {
        return keccak256(abi.encode(sup.head(), sup.recordCount()));
    }

    /// Reports `item` alone as `relayer` and expects the report to fail with `reason`, as the item's
    /// entry point would, changing nothing (its record included); then again beside a good item:
    /// refused alone, logged with the same reason, the good item standing.
    function _expectRefused(address relayer, ITransactionManager.ReportItem memory item, bytes memory reason)
        internal
    {
        ITransactionManager.ReportItem[] memory lone = _one(item);
        bytes32 supBefore = _supState();
        vm.expectRevert(reason);
        vm.prank(relayer);
        tm.report(lone);
        assertEq(_supState(), supBefore, "no record");

        if (relayer != RELAYER_1) return;
        // Beside a good item (a fresh begin): refused alone, logged with the same reason.
        ITransactionManager.ReportItem memory good = _beginItem(_transferRequest(_freshId(USER_1)), USER_1_PK);
        uint256 records = sup.recordCount();
        vm.recordLogs();
        assertEq(_report(relayer, _two(good, item)), 2, "refused beside a good item");
        assertEq(_refusal(vm.getRecordedLogs(), 1), reason, "reason");
        uint256 goodRecords = sup.regulators().length == 0 ? 0 : 1;
        assertEq(sup.recordCount(), records + goodRecords, "only the good item's record");
    }

    // ---------------------------------------------------------------- a whole transfer

    function test_report_transferWithRecordsInSameSteps() public {
        bytes32 txId = _freshId(USER_1);
        ITransactionManager.TxRequest memory request = _transferRequest(txId);
        assertEq(_report(RELAYER_1, _one(_beginItem(request, USER_1_PK))), 0, "begin refused");
        _assertState(txId, ITransactionManager.TxState.Preparing);
        assertEq(sup.recordCount(), 1, "begin's record");

        // Step 0 is on chain A (RELAYER_1), step 1 on chain B (RELAYER_2).
        assertEq(_report(RELAYER_1, _one(_voteItem(txId, 0, true))), 0, "vote 0 refused");
        assertEq(_report(RELAYER_2, _one(_voteItem(txId, 1, true))), 0, "vote 1 refused");
        _assertState(txId, ITransactionManager.TxState.Committing);
        assertEq(_report(RELAYER_1, _one(_ackItem(txId, 0))), 0, "ack 0 refused");
        vm.recordLogs();
        assertEq(_report(RELAYER_2, _one(_ackItem(txId, 1))), 0, "ack 1 refused");
        _assertState(txId, ITransactionManager.TxState.Committed);
        assertEq(sup.recordCount(), 5, "one record per report item");

        // The record is bound to the relayer that reported, and to its institution.
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bool found;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(sup) || logs[i].topics[0] != RECORD_APPENDED) continue;
            assertEq(logs[i].topics[2], txId, "subject");
            assertEq(uint256(logs[i].topics[3]), uint256(INST_2), "reporter's institution");
            (address writer,,,) = abi.decode(logs[i].data, (address, bytes32, bytes32, bytes));
            assertEq(writer, RELAYER_2, "reporter");
            found = true;
        }
        assertTrue(found, "record appended with the ack");
    }

    function test_report_severalItemsInOneBatch() public {
        bytes32 a = _freshId(USER_1);
        bytes32 b = _freshId(USER_1);
        _beginTransfer(a);
        _beginTransfer(b);
        uint256 before = sup.recordCount();
        assertEq(_report(RELAYER_1, _two(_voteItem(a, 0, true), _voteItem(b, 0, false))), 0, "refused");
        _assertMasks(a, 1, 1, 0);
        _assertState(b, ITransactionManager.TxState.Aborting);
        assertEq(sup.recordCount(), before + 2, "two records");
    }

    // ---------------------------------------------------------------- refusals stand alone

    function test_report_duplicateItemRefusedAlone() public {
        bytes32 txId = _freshId(USER_1);
        _beginTransfer(txId);
        uint256 before = sup.recordCount();
        vm.recordLogs();
        uint256 refused = _report(RELAYER_1, _two(_voteItem(txId, 0, true), _voteItem(txId, 0, true)));
        assertEq(refused, 2, "the second copy is refused");
        assertEq(
            _refusal(vm.getRecordedLogs(), 1),
            abi.encodeWithSelector(ITransactionManager.TxAlreadyVoted.selector, txId, uint8(0)),
            "reason"
        );
        _assertMasks(txId, 1, 1, 0);
        assertEq(sup.recordCount(), before + 1, "the refused item's record is rolled back with it");
    }

    function test_report_itemWithoutRecordRefusedWhileRegulatorActive() public {
        bytes32 txId = _freshId(USER_1);
        _beginTransfer(txId);
        ITransactionManager.ReportItem memory item = _voteItem(txId, 0, true);
        item.envelope = "";
        _expectRefused(RELAYER_1, item, abi.encodeWithSelector(ISupervision.SupRecordRequired.selector, txId));
        _assertMasks(txId, 0, 0, 0);
    }

    function test_report_itemWithoutRecordAcceptedWithoutRegulators() public {
        _govern(address(sup), abi.encodeCall(sup.removeRegulator, (regulator)));
        bytes32 txId = _freshId(USER_1);
        _beginTransfer(txId);
        ITransactionManager.ReportItem memory item = _voteItem(txId, 0, true);
        item.envelope = "";
        assertEq(_report(RELAYER_1, _one(item)), 0, "accepted");
        _assertMasks(txId, 1, 1, 0);
        assertEq(sup.recordCount(), 0, "nobody could read a record");
    }

    function test_report_recordWithoutRegulatorsRefused() public {
        _govern(address(sup), abi.encodeCall(sup.removeRegulator, (regulator)));
        bytes32 txId = _freshId(USER_1);
        _beginTransfer(txId);
        ITransactionManager.ReportItem memory item = _voteItem(txId, 0, true);
        item.envelope = hex"02";
        _expectRefused(RELAYER_1, item, abi.encodeWithSelector(ISupervision.SupNoRegulators.selector));
        _assertMasks(txId, 0, 0, 0);
    }

    function test_report_malformedRecordRefusesItsAction() public {
        bytes32 txId = _freshId(USER_1);
        _beginTransfer(txId);
        ITransactionManager.ReportItem memory item = _voteItem(txId, 0, true);
        // Wrapped for nobody active: the record would hide the step from the regulator.
        address[] memory nobody = new address[](1);
        nobody[0] = address(0xBEEF);
        item.envelope = Envelopes.build(nobody, 32, bytes32("x"));
        _expectRefused(
            RELAYER_1,
            item,
            abi.encodeWithSelector(ISupervision.SupEnvelopeRecipient.selector, address(0xBEEF))
        );
        _assertMasks(txId, 0, 0, 0);
    }

    /// The entry point sees the reporter, not the TransactionManager calling itself: a relayer that does
    /// not serve the step is refused as it would be calling `vote` directly.
    function test_report_entryPointSeesTheReporter() public {
        bytes32 txId = _freshId(USER_1);
        _beginTransfer(txId);
        ITransactionManager.ReportItem memory item = _voteItem(txId, 0, true);
        bytes memory reason = abi.encodeWithSelector(
            ITransactionManager.TxNotServingRelayer.selector, txId, uint8(0), RELAYER_3
        );
        _expectRefused(RELAYER_3, item, reason);
        // Beside an item of its own that stands (an expiry of another transaction, any relayer's):
        // refused alone, with the same reason.
        bytes32 other = _freshId(USER_1);
        _beginTransfer(other);
        vm.warp(block.timestamp + DURATION);
        item = _voteItem(other, 0, true);
        ITransactionManager.ReportItem memory expiry = ITransactionManager.ReportItem({
            kind: EXPIRE, id: txId, args: abi.encode(txId), envelope: _envelope("expire")
        });
        vm.recordLogs();
        assertEq(_report(RELAYER_3, _two(expiry, item)), 2, "the vote refused, the expiry stood");
        bytes memory late = abi.encodeWithSelector(
            ITransactionManager.TxDeadlinePassed.selector, other, tm.transaction(other).deadline
        );
        assertEq(_refusal(vm.getRecordedLogs(), 1), late, "reason");
        _assertMasks(other, 0, 0, 0);
        _assertState(txId, ITransactionManager.TxState.Aborting);
    }

    function test_report_idMismatchRefused() public {
        bytes32 txId = _freshId(USER_1);
        _beginTransfer(txId);
        ITransactionManager.ReportItem memory item = _voteItem(txId, 0, true);
        item.id = bytes32(uint256(1));
        _expectRefused(
            RELAYER_1,
            item,
            abi.encodeWithSelector(ITransactionManager.TxReportIdMismatch.selector, bytes32(uint256(1)))
        );
        _assertMasks(txId, 0, 0, 0);
    }

    /// A begin filed (and recorded) under another id than the one it opens is rolled back whole.
    function test_report_beginUnderAnotherIdRefused() public {
        bytes32 txId = _freshId(USER_1);
        ITransactionManager.TxRequest memory request = _transferRequest(txId);
        ITransactionManager.ReportItem memory item = _beginItem(request, USER_1_PK);
        bytes32 other = keccak256("another subject");
        item.id = other;
        _expectRefused(
            RELAYER_1, item, abi.encodeWithSelector(ITransactionManager.TxReportIdMismatch.selector, other)
        );
        _assertState(txId, ITransactionManager.TxState.None);
        assertFalse(tm.nonceUsed(USER_1, request.nonce), "nonce not spent");
    }

    function test_report_shortArgsRefused() public {
        ITransactionManager.ReportItem memory item = _voteItem(bytes32(uint256(7)), 0, true);
        item.args = hex"0102";
        _expectRefused(
            RELAYER_1,
            item,
            abi.encodeWithSelector(ITransactionManager.TxReportIdMismatch.selector, bytes32(uint256(7)))
        );
    }

    function test_report_unknownKindRefused() public {
        bytes32 txId = _freshId(USER_1);
        _beginTransfer(txId);
        ITransactionManager.ReportItem memory item = _voteItem(txId, 0, true);
        item.kind = 11;
        _expectRefused(
            RELAYER_1, item, abi.encodeWithSelector(ITransactionManager.TxReportBadKind.selector, uint8(11))
        );
        _assertMasks(txId, 0, 0, 0);
    }

    function test_report_expireByAnyRelayerWithRecord() public {
        bytes32 txId = _freshId(USER_1);
        _beginTransfer(txId);
        vm.warp(block.timestamp + DURATION);
        ITransactionManager.ReportItem memory item = ITransactionManager.ReportItem({
            kind: EXPIRE, id: txId, args: abi.encode(txId), envelope: _envelope("expire")
        });
        // Anyone may expire, but a record is written by a relayer account: an outsider's is refused.
        _expectRefused(OUTSIDER, item, abi.encodeWithSelector(ISupervision.SupNotRelayer.selector, OUTSIDER));
        _assertState(txId, ITransactionManager.TxState.Preparing);
        assertEq(_report(RELAYER_3, _one(item)), 0, "any relayer");
        _assertState(txId, ITransactionManager.TxState.Aborting);
    }

    // ---------------------------------------------------------------- whole-report errors

    function test_report_badSizeReverts() public {
        ITransactionManager.ReportItem[] memory none = new ITransactionManager.ReportItem[](0);
        vm.expectRevert(abi.encodeWithSelector(ITransactionManager.TxReportBadSize.selector, uint256(0)));
        _report(RELAYER_1, none);
        ITransactionManager.ReportItem[] memory many = new ITransactionManager.ReportItem[](65);
        vm.expectRevert(abi.encodeWithSelector(ITransactionManager.TxReportBadSize.selector, uint256(65)));
        _report(RELAYER_1, many);
    }

    /// An item starved of gas reverts the whole report rather than being counted refused, so a gas
    /// limit (an estimate included) can never silently drop an item.
    function test_report_outOfGasRevertsWhole() public {
        bytes32 txId = _freshId(USER_1);
        ITransactionManager.ReportItem[] memory items = _one(_beginItem(_transferRequest(txId), USER_1_PK));
        vm.prank(RELAYER_1);
        vm.expectRevert(abi.encodeWithSelector(ITransactionManager.TxReportItemFailed.selector, uint256(0)));
        tm.report{gas: 150_000}(items);
        _assertState(txId, ITransactionManager.TxState.None);
    }

    function test_reportItem_notInternalReverts() public {
        bytes32 txId = _freshId(USER_1);
        _beginTransfer(txId);
        ITransactionManager.ReportItem memory item = _voteItem(txId, 0, true);
        vm.expectRevert(abi.encodeWithSelector(ITransactionManager.TxReportNotInternal.selector, RELAYER_1));
        vm.prank(RELAYER_1);
        tm.reportItem(RELAYER_1, item);
        _assertMasks(txId, 0, 0, 0);
    }

    function test_report_unboundSupervisionReverts() public {
        TransactionManager twin = new TransactionManager(registry, chains, perms);
        ITransactionManager.ReportItem[] memory items = _one(_voteItem(bytes32(uint256(1)), 0, true));
        vm.expectRevert(ITransactionManager.TxSupervisionNotBound.selector);
        vm.prank(RELAYER_1);
        twin.report(items);
    }

    // ---------------------------------------------------------------- wiring

    function test_bindSupervision_onceByDeployerToItsOwn() public {
        vm.expectRevert(
            abi.encodeWithSelector(ITransactionManager.TxSupervisionAlreadyBound.selector, address(sup))
        );
        tm.bindSupervision(address(sup));

        TransactionManager twin = new TransactionManager(registry, chains, perms);
        Supervision own = new Supervision(registry, address(twin));
        vm.expectRevert(abi.encodeWithSelector(ITransactionManager.TxNotDeployer.selector, ADMIN_1));
        vm.prank(ADMIN_1);
        twin.bindSupervision(address(own));
        // A Supervision wired to another TransactionManager (or registry) is refused.
        vm.expectRevert(
            abi.encodeWithSelector(ITransactionManager.TxSupervisionMismatch.selector, address(sup))
        );
        twin.bindSupervision(address(sup));
        assertEq(twin.supervision(), address(0), "still unbound");
        twin.bindSupervision(address(own));
        assertEq(twin.supervision(), address(own), "bound");
        assertEq(tm.supervision(), address(sup), "the fixture's");
    }

    function test_appendReport_onlyTransactionManager() public {
        bytes32 before = _supState();
        bytes memory envelope = _envelope("forged");
        vm.expectRevert(abi.encodeWithSelector(ISupervision.SupNotTransactionManager.selector, RELAYER_1));
        vm.prank(RELAYER_1);
        sup.appendReport(bytes32(uint256(1)), RELAYER_1, envelope);
        assertEq(_supState(), before, "no record");
    }

    // ---------------------------------------------------------------- fuzz

    /// Any mix of fresh votes and repeats: exactly the repeats are refused, each fresh vote stands with
    /// its one record.
    function testFuzz_report_refusesExactlyTheRepeats(uint8 pattern) public {
        bytes32[4] memory ids;
        for (uint256 i; i < 4; ++i) {
            ids[i] = _freshId(USER_1);
            _beginTransfer(ids[i]);
        }
        ITransactionManager.ReportItem[] memory items = new ITransactionManager.ReportItem[](8);
        uint256 expected;
        bool[4] memory seen;
        for (uint256 i; i < 8; ++i) {
            uint256 which = (pattern >> (i % 8)) % 4;
            which = (which + i) % 4;
            items[i] = _voteItem(ids[which], 0, true);
            if (seen[which]) expected |= uint256(1) << i;
            seen[which] = true;
        }
        uint256 before = sup.recordCount();
        uint256 fresh;
        for (uint256 j; j < 4; ++j) {
            if (seen[j]) ++fresh;
        }
        assertEq(_report(RELAYER_1, items), expected, "refused bitmap");
        assertEq(sup.recordCount(), before + fresh, "one record per fresh vote");
        for (uint256 j; j < 4; ++j) {
            _assertMasks(ids[j], seen[j] ? 1 : 0, seen[j] ? 1 : 0, 0);
        }
    }
}

/// Batched reports on the HTLC half: proposal, acceptance, leg records and expiry as items.
contract TransactionManagerReportHtlcTest is HtlcFixture {
    address internal regulator;

    function setUp() public override {
        super.setUp();
        regulator = _admitRegulator(0x5E6, "R");
    }

    function _item(uint8 kind, bytes32 id, bytes memory args)
        internal
        view
        returns (ITransactionManager.ReportItem[] memory items)
    {
        items = new ITransactionManager.ReportItem[](1);
        items[0] = ITransactionManager.ReportItem({
            kind: kind, id: id, args: args, envelope: _envelope(keccak256(abi.encode(kind, args)))
        });
    }

    function _report(address relayer, ITransactionManager.ReportItem[] memory items)
        internal
        returns (uint256)
    {
        vm.prank(relayer);
        return tm.report(items);
    }

    function _kind(ITransactionManager.ReportKind k) internal pure returns (uint8) {
        return uint8(k);
    }

    function test_report_swapLifecycleWithRecords() public {
        ITransactionManager.SwapRequest memory r = _request();
        bytes memory sig = _signRequest(PK_INIT, r);
        assertEq(
            _report(
                RELAYER_1,
                _item(_kind(ITransactionManager.ReportKind.ProposeSwap), SWAP_ID, abi.encode(r, sig))
            ),
            0
        );
        bytes memory cpSig = _sign(PK_CP, tm.swap(SWAP_ID).digest);
        assertEq(
            _report(
                RELAYER_2,
                _item(_kind(ITransactionManager.ReportKind.AcceptSwap), SWAP_ID, abi.encode(SWAP_ID, cpSig))
            ),
            0
        );
        uint8 locked = _kind(ITransactionManager.ReportKind.LegLocked);
        assertEq(
            _report(RELAYER_1, _item(locked, SWAP_ID, abi.encode(SWAP_ID, uint8(0), bytes("lock-a")))), 0
        );
        assertEq(
            _report(RELAYER_2, _item(locked, SWAP_ID, abi.encode(SWAP_ID, uint8(1), bytes("lock-b")))), 0
        );
        uint8 unlocked = _kind(ITransactionManager.ReportKind.LegUnlocked);
        assertEq(
            _report(
                RELAYER_2, _item(unlocked, SWAP_ID, abi.encode(SWAP_ID, uint8(1), SECRET, bytes("unlock-b")))
            ),
            0
        );
        assertEq(
            _report(
                RELAYER_1, _item(unlocked, SWAP_ID, abi.encode(SWAP_ID, uint8(0), SECRET, bytes("unlock-a")))
            ),
            0
        );
        _assertSwapState(SWAP_ID, ITransactionManager.SwapState.Closed);
        assertEq(sup.recordCount(), 6, "one record per item");
    }

    function test_report_legOfAnotherChainRefused() public {
        _open();
        uint8 locked = _kind(ITransactionManager.ReportKind.LegLocked);
        bytes32 before = _tmState(SWAP_ID);
        uint256 records = sup.recordCount();
        // RELAYER_2 serves chain B, not leg A's chain: a lone item fails as recordLegLocked would.
        ITransactionManager.ReportItem[] memory items =
            _item(locked, SWAP_ID, abi.encode(SWAP_ID, uint8(0), bytes("x")));
        vm.expectRevert(
            abi.encodeWithSelector(
                ITransactionManager.SwapNotServingRelayer.selector, SWAP_ID, uint8(0), RELAYER_2
            )
        );
        vm.prank(RELAYER_2);
        tm.report(items);
        assertEq(_tmState(SWAP_ID), before, "nothing recorded");
        assertEq(sup.recordCount(), records, "no record");
    }

    function test_report_refundVoidAndExpireSwap() public {
        bytes32 unaccepted = _requestIdOf(USER_1, NONCE + 1);
        _propose(_requestFor(NONCE + 1));
        _open();
        _lock(SWAP_ID, 0);
        uint256 before = sup.recordCount();
        vm.warp(block.timestamp + 2 days);
        uint8 refunded = _kind(ITransactionManager.ReportKind.LegRefunded);
        uint8 voided = _kind(ITransactionManager.ReportKind.LegVoid);
        assertEq(_report(RELAYER_1, _item(refunded, SWAP_ID, abi.encode(SWAP_ID, uint8(0), bytes("r")))), 0);
        assertEq(_report(RELAYER_2, _item(voided, SWAP_ID, abi.encode(SWAP_ID, uint8(1), bytes("v")))), 0);
        _assertLegs(SWAP_ID, ITransactionManager.LegState.Refunded, ITransactionManager.LegState.Void);

        uint8 expireSwap = _kind(ITransactionManager.ReportKind.ExpireSwap);
        assertEq(_report(RELAYER_3, _item(expireSwap, unaccepted, abi.encode(unaccepted))), 0);
        _assertSwapState(unaccepted, ITransactionManager.SwapState.Expired);
        assertEq(sup.recordCount(), before + 3, "one record per item");
    }
}
