// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "./utils/Test.sol";
import {Vm} from "./utils/Vm.sol";
import {IXaLedger} from "../src/interfaces/IXaLedger.sol";
import {XaLedger} from "../src/resources/XaLedger.sol";

contract XaLedgerTest is Test {
    uint8 internal constant DEBIT = 1;
    uint8 internal constant CREDIT = 2;
    bytes32 internal constant TX = keccak256("tx-1");
    bytes32 internal constant TX2 = keccak256("tx-2");

    XaLedger internal ledger;
    address internal relayer = address(0xBEEF);
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);
    address internal stranger = address(0x5757);

    /// Everything a failed call must leave untouched.
    struct Snap {
        uint256 supply;
        uint256 escrow;
        uint256 pending;
        uint256 alice;
        uint256 bob;
        uint256 ledgerBalance;
        IXaLedger.TxState state;
        uint8 kind;
        address account;
        uint256 amount;
        IXaLedger.TxState state2;
        bool relayerAllowed;
        bool strangerAllowed;
    }

    function setUp() public {
        ledger = new XaLedger();
        ledger.setRelayer(relayer, true);
        ledger.mint(alice, 1000);
        ledger.mint(bob, 500);
        vm.label(address(ledger), "ledger");
        vm.label(relayer, "relayer");
        vm.label(alice, "alice");
        vm.label(bob, "bob");
    }

    // ------------------------------------------------------------------ helpers

    function _op(uint8 kind, address account, uint256 amount) internal pure returns (bytes memory) {
        return abi.encode(kind, account, amount);
    }

    function _prepare(bytes32 txId, uint8 kind, address account, uint256 amount) internal {
        vm.prank(relayer);
        ledger.prepare(txId, _op(kind, account, amount));
    }

    function _commit(bytes32 txId) internal {
        vm.prank(relayer);
        ledger.commit(txId);
    }

    function _rollback(bytes32 txId) internal {
        vm.prank(relayer);
        ledger.rollback(txId);
    }

    function _snap() internal view returns (Snap memory s) {
        s.supply = ledger.totalSupply();
        s.escrow = ledger.escrowed();
        s.pending = ledger.pendingCredits();
        s.alice = ledger.balanceOf(alice);
        s.bob = ledger.balanceOf(bob);
        s.ledgerBalance = ledger.balanceOf(address(ledger));
        s.state = ledger.stateOf(TX);
        (s.kind, s.account, s.amount) = ledger.opOf(TX);
        s.state2 = ledger.stateOf(TX2);
        s.relayerAllowed = ledger.isRelayer(relayer);
        s.strangerAllowed = ledger.isRelayer(stranger);
    }

    function _assertUnchanged(Snap memory a) internal view {
        Snap memory b = _snap();
        assertEq(a.supply, b.supply, "supply changed");
        assertEq(a.escrow, b.escrow, "escrow changed");
        assertEq(a.pending, b.pending, "pending credits changed");
        assertEq(a.alice, b.alice, "alice changed");
        assertEq(a.bob, b.bob, "bob changed");
        assertEq(a.ledgerBalance, b.ledgerBalance, "ledger balance changed");
        assertEq(uint256(a.state), uint256(b.state), "state changed");
        assertEq(uint256(a.kind), uint256(b.kind), "kind changed");
        assertEq(a.account, b.account, "account changed");
        assertEq(a.amount, b.amount, "amount changed");
        assertEq(uint256(a.state2), uint256(b.state2), "state2 changed");
        assertEq(a.relayerAllowed, b.relayerAllowed, "relayer flag changed");
        assertEq(a.strangerAllowed, b.strangerAllowed, "stranger flag changed");
    }

    function _assertConserved() internal view {
        assertEq(
            ledger.balanceOf(alice) + ledger.balanceOf(bob) + ledger.escrowed(),
            ledger.totalSupply(),
            "balances + escrow != supply"
        );
    }

    function _assertNoLogs() internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 0, "no-op emitted events");
    }

    // ------------------------------------------------------------------ constructor and views

    function test_constructor_setsOwnerAndEmptyState() public {
        XaLedger fresh = new XaLedger();
        assertEq(fresh.owner(), address(this));
        assertEq(fresh.totalSupply(), 0);
        assertEq(fresh.escrowed(), 0);
        assertEq(fresh.pendingCredits(), 0);
        assertFalse(fresh.isRelayer(address(this)));
    }

    function test_stateOf_unknownIsNone() public view {
        assertEq(uint256(ledger.stateOf(keccak256("nope"))), uint256(IXaLedger.TxState.None));
        (uint8 kind, address account, uint256 amount) = ledger.opOf(keccak256("nope"));
        assertEq(uint256(kind), 0);
        assertEq(account, address(0));
        assertEq(amount, 0);
    }

    function test_opOf_returnsPreparedOp() public {
        _prepare(TX, DEBIT, alice, 40);
        (uint8 kind, address account, uint256 amount) = ledger.opOf(TX);
        assertEq(uint256(kind), DEBIT);
        assertEq(account, alice);
        assertEq(amount, 40);
    }

    function test_txOf_returnsRecord() public {
        _prepare(TX, CREDIT, bob, 7);
        _commit(TX);
        IXaLedger.TxRecord memory rec = ledger.txOf(TX);
        assertEq(uint256(rec.state), uint256(IXaLedger.TxState.Committed));
        assertEq(uint256(rec.kind), CREDIT);
        assertEq(rec.account, bob);
        assertEq(rec.amount, 7);
    }

    function test_balanceOf_ledgerAddressIsEscrow() public {
        _prepare(TX, DEBIT, alice, 300);
        assertEq(ledger.balanceOf(address(ledger)), 300);
        assertEq(ledger.escrowed(), 300);
    }

    /// The op bytes the Rust relayer and the TransactionManager produce (computed with
    /// `cast abi-encode "f(uint8,address,uint256)" 1 0x…A11cE 1000`) are what the ledger accepts.
    function test_prepare_acceptsReferenceEncoding() public {
        bytes memory encoded =
            hex"000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000a11ce00000000000000000000000000000000000000000000000000000000000003e8";
        assertEq(_op(DEBIT, alice, 1000), encoded);
        vm.prank(relayer);
        ledger.prepare(TX, encoded);
        assertEq(ledger.escrowed(), 1000);
    }

    // ------------------------------------------------------------------ mint

    function test_mint_creditsAndEmits() public {
        vm.expectEmit(address(ledger));
        emit IXaLedger.Transfer(address(0), alice, 25);
        ledger.mint(alice, 25);
        assertEq(ledger.balanceOf(alice), 1025);
        assertEq(ledger.totalSupply(), 1525);
    }

    function test_mint_revertsWhenNotOwner() public {
        Snap memory before = _snap();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaNotOwner.selector, stranger));
        ledger.mint(alice, 1);
        _assertUnchanged(before);
    }

    function test_mint_revertsOnZeroRecipient() public {
        Snap memory before = _snap();
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaBadRecipient.selector, address(0)));
        ledger.mint(address(0), 1);
        _assertUnchanged(before);
    }

    function test_mint_revertsOnLedgerRecipient() public {
        Snap memory before = _snap();
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaBadRecipient.selector, address(ledger)));
        ledger.mint(address(ledger), 1);
        _assertUnchanged(before);
    }

    function test_mint_revertsOnSupplyOverflow() public {
        Snap memory before = _snap();
        uint256 headroom = type(uint256).max - 1500;
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaSupplyOverflow.selector, headroom + 1, headroom));
        ledger.mint(alice, headroom + 1);
        _assertUnchanged(before);
    }

    function test_mint_revertsWhenPendingCreditsTakeTheHeadroom() public {
        uint256 credit = type(uint256).max - 1500;
        _prepare(TX, CREDIT, bob, credit);
        Snap memory before = _snap();
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaSupplyOverflow.selector, 1, 0));
        ledger.mint(alice, 1);
        _assertUnchanged(before);
    }

    // ------------------------------------------------------------------ transfer

    function test_transfer_movesAndEmits() public {
        vm.expectEmit(address(ledger));
        emit IXaLedger.Transfer(alice, bob, 100);
        vm.prank(alice);
        assertTrue(ledger.transfer(bob, 100));
        assertEq(ledger.balanceOf(alice), 900);
        assertEq(ledger.balanceOf(bob), 600);
        assertEq(ledger.totalSupply(), 1500);
    }

    function test_transfer_toSelfKeepsBalance() public {
        vm.prank(alice);
        ledger.transfer(alice, 1000);
        assertEq(ledger.balanceOf(alice), 1000);
    }

    function test_transfer_revertsOnInsufficientBalance() public {
        Snap memory before = _snap();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaInsufficientBalance.selector, alice, 1000, 1001));
        ledger.transfer(bob, 1001);
        _assertUnchanged(before);
    }

    function test_transfer_revertsOnEscrowedFunds() public {
        _prepare(TX, DEBIT, alice, 900);
        Snap memory before = _snap();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaInsufficientBalance.selector, alice, 100, 101));
        ledger.transfer(bob, 101);
        _assertUnchanged(before);
    }

    function test_transfer_revertsOnZeroRecipient() public {
        Snap memory before = _snap();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaBadRecipient.selector, address(0)));
        ledger.transfer(address(0), 1);
        _assertUnchanged(before);
    }

    function test_transfer_revertsOnLedgerRecipient() public {
        Snap memory before = _snap();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaBadRecipient.selector, address(ledger)));
        ledger.transfer(address(ledger), 1);
        _assertUnchanged(before);
    }

    // ------------------------------------------------------------------ setRelayer

    function test_setRelayer_allowsAndEmits() public {
        vm.expectEmit(address(ledger));
        emit IXaLedger.RelayerSet(stranger, true);
        ledger.setRelayer(stranger, true);
        assertTrue(ledger.isRelayer(stranger));
    }

    function test_setRelayer_revokesAndEmits() public {
        vm.expectEmit(address(ledger));
        emit IXaLedger.RelayerSet(relayer, false);
        ledger.setRelayer(relayer, false);
        assertFalse(ledger.isRelayer(relayer));

        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaNotRelayer.selector, relayer));
        ledger.prepare(TX, _op(DEBIT, alice, 1));
    }

    function test_setRelayer_revertsWhenNotOwner() public {
        Snap memory before = _snap();
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaNotOwner.selector, relayer));
        ledger.setRelayer(stranger, true);
        _assertUnchanged(before);
    }

    function test_setRelayer_revertsOnZeroAddress() public {
        Snap memory before = _snap();
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaZeroAddress.selector));
        ledger.setRelayer(address(0), true);
        _assertUnchanged(before);
    }

    // ------------------------------------------------------------------ prepare

    function test_prepare_debitEscrowsAndEmits() public {
        vm.expectEmit(address(ledger));
        emit IXaLedger.Transfer(alice, address(ledger), 400);
        vm.expectEmit(address(ledger));
        emit IXaLedger.Prepared(TX, DEBIT, alice, 400);
        _prepare(TX, DEBIT, alice, 400);

        assertEq(uint256(ledger.stateOf(TX)), uint256(IXaLedger.TxState.Prepared));
        assertEq(ledger.balanceOf(alice), 600);
        assertEq(ledger.escrowed(), 400);
        assertEq(ledger.totalSupply(), 1500);
        _assertConserved();
    }

    function test_prepare_debitOfWholeBalance() public {
        _prepare(TX, DEBIT, alice, 1000);
        assertEq(ledger.balanceOf(alice), 0);
        assertEq(ledger.escrowed(), 1000);
    }

    function test_prepare_creditReservesHeadroomAndEmits() public {
        vm.expectEmit(address(ledger));
        emit IXaLedger.Prepared(TX, CREDIT, bob, 70);
        _prepare(TX, CREDIT, bob, 70);

        assertEq(uint256(ledger.stateOf(TX)), uint256(IXaLedger.TxState.Prepared));
        assertEq(ledger.balanceOf(bob), 500, "credit is not spendable before commit");
        assertEq(ledger.pendingCredits(), 70);
        assertEq(ledger.escrowed(), 0);
        assertEq(ledger.totalSupply(), 1500);
    }

    function test_prepare_sameOpTwiceIsNoop() public {
        _prepare(TX, DEBIT, alice, 400);
        Snap memory before = _snap();
        vm.recordLogs();
        _prepare(TX, DEBIT, alice, 400);
        _assertNoLogs();
        _assertUnchanged(before);
    }

    function test_prepare_sameOpAfterCommitIsNoop() public {
        _prepare(TX, CREDIT, bob, 5);
        _commit(TX);
        Snap memory before = _snap();
        vm.recordLogs();
        _prepare(TX, CREDIT, bob, 5);
        _assertNoLogs();
        _assertUnchanged(before);
    }

    function test_prepare_revertsOnConflictingOp() public {
        _prepare(TX, DEBIT, alice, 400);
        Snap memory before = _snap();
        bytes memory other = _op(DEBIT, alice, 401);
        vm.prank(relayer);
        vm.expectRevert(
            abi.encodeWithSelector(
                IXaLedger.XaConflictingOp.selector, TX, keccak256(_op(DEBIT, alice, 400)), keccak256(other)
            )
        );
        ledger.prepare(TX, other);
        _assertUnchanged(before);
    }

    function test_prepare_revertsOnConflictingKindOrAccount() public {
        _prepare(TX, DEBIT, alice, 400);
        Snap memory before = _snap();
        bytes32 preparedHash = keccak256(_op(DEBIT, alice, 400));

        bytes memory otherKind = _op(CREDIT, alice, 400);
        vm.prank(relayer);
        vm.expectRevert(
            abi.encodeWithSelector(IXaLedger.XaConflictingOp.selector, TX, preparedHash, keccak256(otherKind))
        );
        ledger.prepare(TX, otherKind);

        bytes memory otherAccount = _op(DEBIT, bob, 400);
        vm.prank(relayer);
        vm.expectRevert(
            abi.encodeWithSelector(
                IXaLedger.XaConflictingOp.selector, TX, preparedHash, keccak256(otherAccount)
            )
        );
        ledger.prepare(TX, otherAccount);
        _assertUnchanged(before);
    }

    function test_prepare_revertsOnConflictingOpAfterCommit() public {
        _prepare(TX, DEBIT, alice, 400);
        _commit(TX);
        Snap memory before = _snap();
        bytes memory other = _op(DEBIT, alice, 1);
        vm.prank(relayer);
        vm.expectRevert(
            abi.encodeWithSelector(
                IXaLedger.XaConflictingOp.selector, TX, keccak256(_op(DEBIT, alice, 400)), keccak256(other)
            )
        );
        ledger.prepare(TX, other);
        _assertUnchanged(before);
    }

    function test_prepare_revertsWhenAbortedBeforePrepare() public {
        _rollback(TX);
        Snap memory before = _snap();
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaAlreadyAborted.selector, TX));
        ledger.prepare(TX, _op(DEBIT, alice, 400));
        _assertUnchanged(before);
    }

    function test_prepare_revertsAfterRollback() public {
        _prepare(TX, DEBIT, alice, 400);
        _rollback(TX);
        Snap memory before = _snap();
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaAlreadyAborted.selector, TX));
        ledger.prepare(TX, _op(DEBIT, alice, 400));
        _assertUnchanged(before);
    }

    function test_prepare_revertsWhenNotRelayer() public {
        Snap memory before = _snap();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaNotRelayer.selector, stranger));
        ledger.prepare(TX, _op(DEBIT, alice, 1));
        _assertUnchanged(before);
    }

    function test_prepare_revertsWhenOwnerIsNotRelayer() public {
        Snap memory before = _snap();
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaNotRelayer.selector, address(this)));
        ledger.prepare(TX, _op(DEBIT, alice, 1));
        _assertUnchanged(before);
    }

    function test_prepare_revertsOnBadLength() public {
        Snap memory before = _snap();
        bytes memory good = _op(DEBIT, alice, 1);
        bytes[4] memory bad = [
            bytes(""),
            abi.encodePacked(uint8(DEBIT), alice, uint256(1)),
            bytes.concat(good, hex"00"),
            bytes.concat(good, good)
        ];
        for (uint256 i; i < bad.length; ++i) {
            vm.prank(relayer);
            vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaBadOpLength.selector, bad[i].length));
            ledger.prepare(TX, bad[i]);
        }
        _assertUnchanged(before);
    }

    function test_prepare_revertsOnUnknownKind() public {
        Snap memory before = _snap();
        uint256[4] memory kinds = [uint256(0), 3, 255, 257];
        for (uint256 i; i < kinds.length; ++i) {
            vm.prank(relayer);
            vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaBadOpKind.selector, kinds[i]));
            ledger.prepare(TX, abi.encode(kinds[i], alice, uint256(1)));
        }
        _assertUnchanged(before);
    }

    function test_prepare_revertsOnZeroAccount() public {
        Snap memory before = _snap();
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaBadOpAccount.selector, uint256(0)));
        ledger.prepare(TX, _op(CREDIT, address(0), 1));
        _assertUnchanged(before);
    }

    function test_prepare_revertsOnDirtyAccountWord() public {
        Snap memory before = _snap();
        uint256 dirty = (uint256(1) << 160) | uint256(uint160(alice));
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaBadOpAccount.selector, dirty));
        ledger.prepare(TX, abi.encode(uint256(DEBIT), dirty, uint256(1)));
        _assertUnchanged(before);
    }

    function test_prepare_revertsOnLedgerAccount() public {
        _prepare(TX2, DEBIT, alice, 10); // some escrow a debit of the ledger itself could steal
        Snap memory before = _snap();
        vm.prank(relayer);
        vm.expectRevert(
            abi.encodeWithSelector(IXaLedger.XaBadOpAccount.selector, uint256(uint160(address(ledger))))
        );
        ledger.prepare(TX, _op(DEBIT, address(ledger), 10));
        _assertUnchanged(before);
    }

    function test_prepare_revertsOnZeroAmount() public {
        Snap memory before = _snap();
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaZeroAmount.selector));
        ledger.prepare(TX, _op(DEBIT, alice, 0));
        _assertUnchanged(before);
    }

    function test_prepare_revertsOnInsufficientBalance() public {
        Snap memory before = _snap();
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaInsufficientBalance.selector, alice, 1000, 1001));
        ledger.prepare(TX, _op(DEBIT, alice, 1001));
        _assertUnchanged(before);
    }

    function test_prepare_revertsOnDebitOfEscrowedFunds() public {
        _prepare(TX2, DEBIT, alice, 600);
        Snap memory before = _snap();
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaInsufficientBalance.selector, alice, 400, 401));
        ledger.prepare(TX, _op(DEBIT, alice, 401));
        _assertUnchanged(before);
    }

    function test_prepare_revertsOnCreditSupplyOverflow() public {
        _prepare(TX2, CREDIT, bob, 10);
        Snap memory before = _snap();
        uint256 headroom = type(uint256).max - 1500 - 10;
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaSupplyOverflow.selector, headroom + 1, headroom));
        ledger.prepare(TX, _op(CREDIT, alice, headroom + 1));
        _assertUnchanged(before);
    }

    function testFuzz_prepare_rejectsAnyOtherLength(bytes calldata op) public {
        vm.assume(op.length != 96);
        Snap memory before = _snap();
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaBadOpLength.selector, op.length));
        ledger.prepare(TX, op);
        _assertUnchanged(before);
    }

    function testFuzz_prepare_acceptsOnlyCanonicalOps(uint256 kind, uint256 accountSeed, uint256 amount)
        public
    {
        kind = kind % 5 == 4 ? kind : kind % 4; // mostly 0..3, sometimes anything
        uint256 account = _accountWord(accountSeed);
        if (accountSeed % 3 == 0) amount = bound(amount, 0, 1100); // around the balances
        Snap memory before = _snap();
        bytes memory op = abi.encode(kind, account, amount);
        bool valid = (kind == 1 || kind == 2) && account != 0 && account <= type(uint160).max
            && account != uint256(uint160(address(ledger))) && amount != 0
            && (kind == 2
                    ? amount <= type(uint256).max - 1500
                    : amount <= ledger.balanceOf(address(uint160(account))));
        vm.prank(relayer);
        (bool ok,) = address(ledger).call(abi.encodeCall(IXaLedger.prepare, (TX, op)));
        assertEq(ok, valid, "acceptance differs from the encoding rules");
        if (!ok) {
            _assertUnchanged(before);
        } else {
            assertEq(uint256(ledger.stateOf(TX)), uint256(IXaLedger.TxState.Prepared));
            _assertConserved();
        }
    }

    /// An account word drawn from the interesting classes: zero, alice, bob, the ledger, dirty, random.
    function _accountWord(uint256 seed) internal view returns (uint256) {
        uint256 pick = seed % 6;
        if (pick == 0) return 0;
        if (pick == 1) return uint256(uint160(alice));
        if (pick == 2) return uint256(uint160(bob));
        if (pick == 3) return uint256(uint160(address(ledger)));
        if (pick == 4) return seed | (uint256(1) << 200); // high bits set
        return uint256(uint160(seed));
    }

    // ------------------------------------------------------------------ commit

    function test_commit_debitBurnsAndEmits() public {
        _prepare(TX, DEBIT, alice, 400);
        vm.expectEmit(address(ledger));
        emit IXaLedger.Transfer(address(ledger), address(0), 400);
        vm.expectEmit(address(ledger));
        emit IXaLedger.Committed(TX, DEBIT, alice, 400);
        _commit(TX);

        assertEq(uint256(ledger.stateOf(TX)), uint256(IXaLedger.TxState.Committed));
        assertEq(ledger.balanceOf(alice), 600);
        assertEq(ledger.escrowed(), 0);
        assertEq(ledger.totalSupply(), 1100);
        _assertConserved();
    }

    function test_commit_creditMintsAndEmits() public {
        _prepare(TX, CREDIT, bob, 70);
        vm.expectEmit(address(ledger));
        emit IXaLedger.Transfer(address(0), bob, 70);
        vm.expectEmit(address(ledger));
        emit IXaLedger.Committed(TX, CREDIT, bob, 70);
        _commit(TX);

        assertEq(uint256(ledger.stateOf(TX)), uint256(IXaLedger.TxState.Committed));
        assertEq(ledger.balanceOf(bob), 570);
        assertEq(ledger.pendingCredits(), 0);
        assertEq(ledger.totalSupply(), 1570);
        _assertConserved();
    }

    function test_commit_creditAtFullHeadroomSucceeds() public {
        uint256 headroom = type(uint256).max - 1500;
        _prepare(TX, CREDIT, bob, headroom);
        _commit(TX);
        assertEq(ledger.totalSupply(), type(uint256).max);
        assertEq(ledger.balanceOf(bob), 500 + headroom);
    }

    function test_commit_twiceIsNoop() public {
        _prepare(TX, DEBIT, alice, 400);
        _commit(TX);
        Snap memory before = _snap();
        vm.recordLogs();
        _commit(TX);
        _assertNoLogs();
        _assertUnchanged(before);
    }

    function test_commit_revertsWhenNotPrepared() public {
        Snap memory before = _snap();
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaNotPrepared.selector, TX));
        ledger.commit(TX);
        _assertUnchanged(before);
    }

    function test_commit_revertsAfterRollback() public {
        _prepare(TX, DEBIT, alice, 400);
        _rollback(TX);
        Snap memory before = _snap();
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaAlreadyAborted.selector, TX));
        ledger.commit(TX);
        _assertUnchanged(before);
    }

    function test_commit_revertsWhenAbortedBeforePrepare() public {
        _rollback(TX);
        Snap memory before = _snap();
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaAlreadyAborted.selector, TX));
        ledger.commit(TX);
        _assertUnchanged(before);
    }

    function test_commit_revertsWhenNotRelayer() public {
        _prepare(TX, DEBIT, alice, 400);
        Snap memory before = _snap();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaNotRelayer.selector, stranger));
        ledger.commit(TX);
        _assertUnchanged(before);
    }

    // ------------------------------------------------------------------ rollback

    function test_rollback_debitReturnsEscrowAndEmits() public {
        _prepare(TX, DEBIT, alice, 400);
        vm.expectEmit(address(ledger));
        emit IXaLedger.Transfer(address(ledger), alice, 400);
        vm.expectEmit(address(ledger));
        emit IXaLedger.RolledBack(TX, DEBIT, alice, 400);
        _rollback(TX);

        assertEq(uint256(ledger.stateOf(TX)), uint256(IXaLedger.TxState.RolledBack));
        assertEq(ledger.balanceOf(alice), 1000);
        assertEq(ledger.escrowed(), 0);
        assertEq(ledger.totalSupply(), 1500);
        _assertConserved();
    }

    function test_rollback_creditReleasesHeadroomAndEmits() public {
        _prepare(TX, CREDIT, bob, 70);
        vm.expectEmit(address(ledger));
        emit IXaLedger.RolledBack(TX, CREDIT, bob, 70);
        _rollback(TX);

        assertEq(uint256(ledger.stateOf(TX)), uint256(IXaLedger.TxState.RolledBack));
        assertEq(ledger.balanceOf(bob), 500);
        assertEq(ledger.pendingCredits(), 0);
        assertEq(ledger.totalSupply(), 1500);
    }

    function test_rollback_unknownRecordsAbortAndEmits() public {
        Snap memory before = _snap();
        vm.expectEmit(address(ledger));
        emit IXaLedger.RolledBack(TX, 0, address(0), 0);
        _rollback(TX);

        assertEq(uint256(ledger.stateOf(TX)), uint256(IXaLedger.TxState.RolledBack));
        before.state = IXaLedger.TxState.RolledBack;
        _assertUnchanged(before); // nothing but the state moved
    }

    function test_rollback_twiceIsNoop() public {
        _prepare(TX, DEBIT, alice, 400);
        _rollback(TX);
        Snap memory before = _snap();
        vm.recordLogs();
        _rollback(TX);
        _assertNoLogs();
        _assertUnchanged(before);
    }

    function test_rollback_revertsWhenCommitted() public {
        _prepare(TX, DEBIT, alice, 400);
        _commit(TX);
        Snap memory before = _snap();
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaAlreadyCommitted.selector, TX));
        ledger.rollback(TX);
        _assertUnchanged(before);
    }

    function test_rollback_revertsWhenNotRelayer() public {
        _prepare(TX, DEBIT, alice, 400);
        Snap memory before = _snap();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IXaLedger.XaNotRelayer.selector, stranger));
        ledger.rollback(TX);
        _assertUnchanged(before);
    }

    // ------------------------------------------------------------------ cross-chain flow

    /// A bridge transfer between two ledgers (chain A debit, chain B credit) conserves the combined supply.
    function test_bridge_debitOnOneLedgerCreditOnAnotherConservesValue() public {
        XaLedger other = new XaLedger();
        other.setRelayer(relayer, true);
        uint256 combined = ledger.totalSupply() + other.totalSupply();

        _prepare(TX, DEBIT, alice, 250);
        vm.prank(relayer);
        other.prepare(TX, _op(CREDIT, bob, 250));
        _commit(TX);
        vm.prank(relayer);
        other.commit(TX);

        assertEq(ledger.totalSupply() + other.totalSupply(), combined);
        assertEq(ledger.balanceOf(alice), 750);
        assertEq(other.balanceOf(bob), 250);
    }

    function testFuzz_prepareCommit_debitConservesAndBurns(uint256 amount) public {
        amount = bound(amount, 1, 1000);
        _prepare(TX, DEBIT, alice, amount);
        _assertConserved();
        _commit(TX);
        _assertConserved();
        assertEq(ledger.totalSupply(), 1500 - amount);
        assertEq(ledger.balanceOf(alice), 1000 - amount);
    }

    function testFuzz_prepareRollback_debitRestoresBalance(uint256 amount) public {
        amount = bound(amount, 1, 1000);
        Snap memory before = _snap();
        _prepare(TX, DEBIT, alice, amount);
        _rollback(TX);
        before.state = IXaLedger.TxState.RolledBack;
        (before.kind, before.account, before.amount) = (DEBIT, alice, amount);
        _assertUnchanged(before);
    }
}
