// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "./utils/Test.sol";
import {IXaLedger} from "../src/interfaces/IXaLedger.sol";
import {XaLedger} from "../src/resources/XaLedger.sol";

/// @notice Drives an XaLedger with random mint / transfer / prepare / commit / rollback sequences over a
/// small pool of txIds (so ids repeat and conflict), keeping a reference model of what every call must
/// do. Handler reverts are discarded by forge (fail_on_revert = false), so violations are counted and
/// the invariants assert the counters are zero.
contract XaLedgerHandler is Test {
    uint8 internal constant DEBIT = 1;
    uint8 internal constant CREDIT = 2;
    uint256 internal constant ACTORS = 4;
    uint256 internal constant TX_POOL = 8;
    uint256 internal constant INITIAL = 1e6;
    uint256 internal constant MAX_MINT = 1e24;

    struct GhostTx {
        IXaLedger.TxState state;
        uint8 kind;
        address account;
        uint256 amount;
    }

    /// Every observable number, to prove a failed or no-op call changed nothing.
    struct Snap {
        uint256 supply;
        uint256 escrow;
        uint256 pending;
        uint256[ACTORS] balances;
    }

    XaLedger public immutable ledger;
    address public immutable stranger = address(0x5757);
    address[ACTORS] internal _actors;
    bytes32[TX_POOL] internal _txIds;

    // Reference model.
    mapping(address account => uint256) public ghostBalance;
    uint256 public ghostSupply;
    uint256 public ghostEscrow;
    uint256 public ghostPending;
    mapping(bytes32 txId => GhostTx) internal _ghostTx;
    // Last state read from the ledger, to check each observed transition.
    mapping(bytes32 txId => IXaLedger.TxState) internal _lastState;

    // Violation counters (must stay zero).
    uint256 public outcomeMismatches;
    uint256 public illegalTransitions;
    uint256 public failedCallsThatChangedState;
    uint256 public crossPhaseCallsThatChangedState;

    // Coverage counters (reported, and asserted non-trivial where it matters).
    uint256 public preparesOk;
    uint256 public preparesRejected;
    uint256 public preparesRepeated;
    uint256 public commitsOk;
    uint256 public rollbacksOk;
    uint256 public abortsBeforePrepare;
    uint256 public crossPhaseAttempts;

    constructor() {
        ledger = new XaLedger();
        ledger.setRelayer(address(this), true);
        for (uint256 i; i < ACTORS; ++i) {
            _actors[i] = address(uint160(0x1000 + i));
            ledger.mint(_actors[i], INITIAL);
            ghostBalance[_actors[i]] = INITIAL;
            ghostSupply += INITIAL;
        }
        for (uint256 i; i < TX_POOL; ++i) {
            _txIds[i] = keccak256(abi.encode("xa-invariant-tx", i));
        }
    }

    // ------------------------------------------------------------------ actions

    function mint(uint256 actorSeed, uint256 amount) external {
        address to = _actor(actorSeed);
        amount = bound(amount, 0, MAX_MINT);
        ledger.mint(to, amount);
        ghostBalance[to] += amount;
        ghostSupply += amount;
        _afterCall();
    }

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        address from = _actor(fromSeed);
        address to = _actor(toSeed);
        amount = bound(amount, 0, ghostBalance[from] + 10);
        bool expected = amount <= ghostBalance[from];
        Snap memory before = _snap();
        vm.prank(from);
        (bool ok,) = address(ledger).call(abi.encodeCall(IXaLedger.transfer, (to, amount)));
        if (ok != expected) ++outcomeMismatches;
        if (ok) {
            ghostBalance[from] -= amount;
            ghostBalance[to] += amount;
        } else if (!_same(before, _snap())) {
            ++failedCallsThatChangedState;
        }
        _afterCall();
    }

    function prepare(uint256 txSeed, uint256 kindSeed, uint256 actorSeed, uint256 amount, uint256 shapeSeed)
        external
    {
        bytes32 txId = _txId(txSeed);
        uint8 kind = kindSeed % 2 == 0 ? DEBIT : CREDIT;
        address account = _actor(actorSeed);
        amount = bound(amount, 1, kind == DEBIT ? ghostBalance[account] + 10 : MAX_MINT);
        bytes memory op = abi.encode(kind, account, amount);
        bool malformed = true;
        uint256 shape = shapeSeed % 16;
        if (shape == 0) op = bytes.concat(op, hex"00");
        else if (shape == 1) op = abi.encode(uint256(3), account, amount);
        else if (shape == 2) op = abi.encode(kind, account, uint256(0));
        else if (shape == 3) op = abi.encode(kind, address(0), amount);
        else malformed = false;

        _prepare(txId, kind, account, amount, op, malformed);
    }

    /// Re-submits the op a txId was prepared with, unchanged (a relayer retry) or altered (a conflict), so
    /// repeats and conflicts happen far more often than random ops would produce them.
    function prepareAgain(uint256 txSeed, uint256 mutation) external {
        bytes32 txId = _touchedTxId(txSeed | 1); // always a prepared one when there is any
        GhostTx memory g = _ghostTx[txId];
        if (g.kind == 0) return; // never prepared: nothing to repeat
        uint8 kind = g.kind;
        address account = g.account;
        uint256 amount = g.amount;
        uint256 m = mutation % 6; // 3..5: the same op (a retry)
        if (m == 1) amount = amount + 1;
        else if (m == 2) kind = kind == DEBIT ? CREDIT : DEBIT;
        else if (m == 3) account = _actor(uint256(uint160(account)) + 1);
        _prepare(txId, kind, account, amount, abi.encode(kind, account, amount), false);
    }

    function _prepare(
        bytes32 txId,
        uint8 kind,
        address account,
        uint256 amount,
        bytes memory op,
        bool malformed
    ) internal {
        GhostTx storage g = _ghostTx[txId];
        bool expected;
        bool repeat;
        if (malformed || g.state == IXaLedger.TxState.RolledBack) {
            expected = false;
        } else if (g.state != IXaLedger.TxState.None) {
            repeat = g.kind == kind && g.account == account && g.amount == amount;
            expected = repeat;
        } else {
            expected = kind == CREDIT || amount <= ghostBalance[account];
        }

        Snap memory before = _snap();
        (bool ok,) = address(ledger).call(abi.encodeCall(IXaLedger.prepare, (txId, op)));
        if (ok != expected) ++outcomeMismatches;
        if (!ok || repeat) {
            if (!_same(before, _snap())) ++failedCallsThatChangedState;
            if (ok) ++preparesRepeated;
            else ++preparesRejected;
        } else {
            ++preparesOk;
            g.state = IXaLedger.TxState.Prepared;
            g.kind = kind;
            g.account = account;
            g.amount = amount;
            if (kind == DEBIT) {
                ghostBalance[account] -= amount;
                ghostEscrow += amount;
            } else {
                ghostPending += amount;
            }
        }
        _afterCall();
    }

    function commit(uint256 txSeed) external {
        bytes32 txId = _touchedTxId(txSeed);
        GhostTx storage g = _ghostTx[txId];
        IXaLedger.TxState prior = g.state;
        bool expected = prior == IXaLedger.TxState.Prepared || prior == IXaLedger.TxState.Committed;
        if (prior == IXaLedger.TxState.RolledBack) ++crossPhaseAttempts;

        Snap memory before = _snap();
        (bool ok,) = address(ledger).call(abi.encodeCall(IXaLedger.commit, (txId)));
        if (ok != expected) ++outcomeMismatches;
        if (prior == IXaLedger.TxState.RolledBack && !_same(before, _snap())) {
            ++crossPhaseCallsThatChangedState;
        }
        if (ok && prior == IXaLedger.TxState.Prepared) {
            ++commitsOk;
            g.state = IXaLedger.TxState.Committed;
            if (g.kind == DEBIT) {
                ghostEscrow -= g.amount;
                ghostSupply -= g.amount;
            } else {
                ghostPending -= g.amount;
                ghostSupply += g.amount;
                ghostBalance[g.account] += g.amount;
            }
        } else if (!_same(before, _snap())) {
            ++failedCallsThatChangedState; // a rejected or repeated commit
        }
        _afterCall();
    }

    function rollback(uint256 txSeed) external {
        bytes32 txId = _touchedTxId(txSeed);
        GhostTx storage g = _ghostTx[txId];
        IXaLedger.TxState prior = g.state;
        bool expected = prior != IXaLedger.TxState.Committed;
        if (prior == IXaLedger.TxState.Committed) ++crossPhaseAttempts;

        Snap memory before = _snap();
        (bool ok,) = address(ledger).call(abi.encodeCall(IXaLedger.rollback, (txId)));
        if (ok != expected) ++outcomeMismatches;
        if (prior == IXaLedger.TxState.Committed && !_same(before, _snap())) {
            ++crossPhaseCallsThatChangedState;
        }
        if (ok && prior == IXaLedger.TxState.Prepared) {
            ++rollbacksOk;
            g.state = IXaLedger.TxState.RolledBack;
            if (g.kind == DEBIT) {
                ghostEscrow -= g.amount;
                ghostBalance[g.account] += g.amount;
            } else {
                ghostPending -= g.amount;
            }
        } else {
            if (ok && prior == IXaLedger.TxState.None) {
                ++abortsBeforePrepare;
                g.state = IXaLedger.TxState.RolledBack;
            }
            // Abort of an unknown txId moves only its state; everything else moves nothing.
            if (!_same(before, _snap())) ++failedCallsThatChangedState;
        }
        _afterCall();
    }

    /// A non-relayer must never get through any 2PC entry point.
    function strangerCall(uint256 txSeed, uint256 which, uint256 actorSeed, uint256 amount) external {
        bytes32 txId = _txId(txSeed);
        bytes memory data;
        uint256 w = which % 3;
        if (w == 0) {
            data = abi.encodeCall(IXaLedger.prepare, (txId, abi.encode(DEBIT, _actor(actorSeed), amount)));
        } else if (w == 1) {
            data = abi.encodeCall(IXaLedger.commit, (txId));
        } else {
            data = abi.encodeCall(IXaLedger.rollback, (txId));
        }
        Snap memory before = _snap();
        vm.prank(stranger);
        (bool ok,) = address(ledger).call(data);
        if (ok) ++outcomeMismatches;
        if (!_same(before, _snap())) ++failedCallsThatChangedState;
        _afterCall();
    }

    // ------------------------------------------------------------------ views for the invariants

    function actorCount() external pure returns (uint256) {
        return ACTORS;
    }

    function actorAt(uint256 i) external view returns (address) {
        return _actors[i];
    }

    function txCount() external pure returns (uint256) {
        return TX_POOL;
    }

    function txIdAt(uint256 i) external view returns (bytes32) {
        return _txIds[i];
    }

    function ghostTx(bytes32 txId) external view returns (GhostTx memory) {
        return _ghostTx[txId];
    }

    // ------------------------------------------------------------------ internal

    function _actor(uint256 seed) internal view returns (address) {
        return _actors[seed % ACTORS];
    }

    function _txId(uint256 seed) internal view returns (bytes32) {
        return _txIds[seed % TX_POOL];
    }

    /// Three times in four a txId that was already prepared (if any), so phase two mostly meets phase one;
    /// otherwise any txId, which exercises commit/rollback of unknown ids (and aborts).
    function _touchedTxId(uint256 seed) internal view returns (bytes32) {
        if (seed % 4 != 0) {
            uint256 start = seed >> 2;
            for (uint256 i; i < TX_POOL; ++i) {
                bytes32 txId = _txIds[(start + i) % TX_POOL];
                if (_ghostTx[txId].kind != 0) return txId;
            }
        }
        return _txId(seed >> 2);
    }

    function _snap() internal view returns (Snap memory s) {
        s.supply = ledger.totalSupply();
        s.escrow = ledger.escrowed();
        s.pending = ledger.pendingCredits();
        for (uint256 i; i < ACTORS; ++i) {
            s.balances[i] = ledger.balanceOf(_actors[i]);
        }
    }

    function _same(Snap memory a, Snap memory b) internal pure returns (bool) {
        if (a.supply != b.supply || a.escrow != b.escrow || a.pending != b.pending) return false;
        for (uint256 i; i < ACTORS; ++i) {
            if (a.balances[i] != b.balances[i]) return false;
        }
        return true;
    }

    /// Checks every txId's observed move since the last call: only None->Prepared, None->RolledBack,
    /// Prepared->Committed and Prepared->RolledBack are legal.
    function _afterCall() internal {
        for (uint256 i; i < TX_POOL; ++i) {
            bytes32 txId = _txIds[i];
            IXaLedger.TxState last = _lastState[txId];
            IXaLedger.TxState current = ledger.stateOf(txId);
            if (current != last) {
                bool legal = (last == IXaLedger.TxState.None && current != IXaLedger.TxState.Committed)
                    || (last == IXaLedger.TxState.Prepared && current != IXaLedger.TxState.None);
                if (!legal) ++illegalTransitions;
                _lastState[txId] = current;
            }
        }
    }
}

contract XaLedgerInvariantTest is Test {
    XaLedgerHandler internal handler;
    XaLedger internal ledger;

    function setUp() public {
        handler = new XaLedgerHandler();
        ledger = handler.ledger();

        bytes4[] memory selectors = new bytes4[](7);
        selectors[0] = XaLedgerHandler.mint.selector;
        selectors[1] = XaLedgerHandler.transfer.selector;
        selectors[2] = XaLedgerHandler.prepare.selector;
        selectors[3] = XaLedgerHandler.commit.selector;
        selectors[4] = XaLedgerHandler.rollback.selector;
        selectors[5] = XaLedgerHandler.strangerCall.selector;
        selectors[6] = XaLedgerHandler.prepareAgain.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    function invariant_balancesPlusEscrowEqualSupply() public view {
        uint256 sum;
        for (uint256 i; i < handler.actorCount(); ++i) {
            sum += ledger.balanceOf(handler.actorAt(i));
        }
        assertEq(sum + ledger.escrowed(), ledger.totalSupply(), "sum(balances) + escrowed != totalSupply");
        assertEq(ledger.balanceOf(address(ledger)), ledger.escrowed(), "escrow is the ledger's own balance");
    }

    function invariant_escrowAndPendingMatchPreparedOps() public view {
        uint256 debits;
        uint256 credits;
        for (uint256 i; i < handler.txCount(); ++i) {
            bytes32 txId = handler.txIdAt(i);
            if (ledger.stateOf(txId) != IXaLedger.TxState.Prepared) continue;
            (uint8 kind,, uint256 amount) = ledger.opOf(txId);
            if (kind == 1) debits += amount;
            else credits += amount;
        }
        assertEq(ledger.escrowed(), debits, "escrow != sum of prepared debits");
        assertEq(ledger.pendingCredits(), credits, "pendingCredits != sum of prepared credits");
    }

    function invariant_ledgerMatchesModel() public view {
        assertEq(ledger.totalSupply(), handler.ghostSupply(), "supply");
        assertEq(ledger.escrowed(), handler.ghostEscrow(), "escrow");
        assertEq(ledger.pendingCredits(), handler.ghostPending(), "pending");
        for (uint256 i; i < handler.actorCount(); ++i) {
            address a = handler.actorAt(i);
            assertEq(ledger.balanceOf(a), handler.ghostBalance(a), "balance");
        }
        for (uint256 i; i < handler.txCount(); ++i) {
            bytes32 txId = handler.txIdAt(i);
            XaLedgerHandler.GhostTx memory g = handler.ghostTx(txId);
            IXaLedger.TxRecord memory rec = ledger.txOf(txId);
            assertEq(uint256(rec.state), uint256(g.state), "state");
            assertEq(uint256(rec.kind), uint256(g.kind), "kind");
            assertEq(rec.account, g.account, "account");
            assertEq(rec.amount, g.amount, "amount");
        }
    }

    function invariant_callOutcomesMatchModel() public view {
        assertEq(handler.outcomeMismatches(), 0, "a call succeeded or failed against the model");
        assertEq(handler.failedCallsThatChangedState(), 0, "a rejected or no-op call changed state");
    }

    function invariant_txStatesOnlyMoveForward() public view {
        assertEq(
            handler.illegalTransitions(), 0, "a txId moved outside None->Prepared->{Committed|RolledBack}"
        );
    }

    function invariant_commitAfterRollbackAndReverseNeverMoveBalances() public view {
        assertEq(handler.crossPhaseCallsThatChangedState(), 0, "commit/rollback across phases moved value");
    }
}
