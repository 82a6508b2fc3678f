// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IXaLedger} from "../interfaces/IXaLedger.sol";

/// @title XaLedger
/// @notice Sample asset ledger implementing the 2PC resource interface. See IXaLedger.
contract XaLedger is IXaLedger {
    uint8 internal constant OP_DEBIT = 1;
    uint8 internal constant OP_CREDIT = 2;
    uint256 internal constant OP_LENGTH = 96;

    address private immutable _owner;

    uint256 private _totalSupply;
    uint256 private _pendingCredits;
    mapping(address account => uint256) private _balances;
    mapping(address account => bool) private _relayers;
    mapping(bytes32 txId => TxRecord) private _txs;

    modifier onlyOwner() {
        if (msg.sender != _owner) revert XaNotOwner(msg.sender);
        _;
    }

    modifier onlyRelayer() {
        if (!_relayers[msg.sender]) revert XaNotRelayer(msg.sender);
        _;
    }

    constructor() {
        _owner = msg.sender;
    }

    // ------------------------------------------------------------------ ledger

    /// @inheritdoc IXaLedger
    function mint(address to, uint256 amount) external onlyOwner {
        _checkRecipient(to);
        _checkHeadroom(amount);
        _totalSupply += amount;
        _balances[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    /// @inheritdoc IXaLedger
    function transfer(address to, uint256 amount) external returns (bool) {
        _checkRecipient(to);
        uint256 balance = _balances[msg.sender];
        if (balance < amount) revert XaInsufficientBalance(msg.sender, balance, amount);
        _balances[msg.sender] = balance - amount;
        _balances[to] += amount;
        emit Transfer(msg.sender, to, amount);
        return true;
    }

    /// @inheritdoc IXaLedger
    function setRelayer(address account, bool allowed) external onlyOwner {
        if (account == address(0)) revert XaZeroAddress();
        _relayers[account] = allowed;
        emit RelayerSet(account, allowed);
    }

    /// @inheritdoc IXaLedger
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    /// @inheritdoc IXaLedger
    function totalSupply() external view returns (uint256) {
        return _totalSupply;
    }

    /// @inheritdoc IXaLedger
    function escrowed() external view returns (uint256) {
        return _balances[address(this)];
    }

    /// @inheritdoc IXaLedger
    function pendingCredits() external view returns (uint256) {
        return _pendingCredits;
    }

    /// @inheritdoc IXaLedger
    function owner() external view returns (address) {
        return _owner;
    }

    /// @inheritdoc IXaLedger
    function isRelayer(address account) external view returns (bool) {
        return _relayers[account];
    }

    // ------------------------------------------------------------------ 2PC resource

    /// @inheritdoc IXaLedger
    function prepare(bytes32 txId, bytes calldata op) external onlyRelayer {
        (uint8 kind, address account, uint256 amount) = _decodeOp(op);
        TxRecord storage rec = _txs[txId];
        TxState state = rec.state;
        if (state == TxState.RolledBack) revert XaAlreadyAborted(txId);
        if (state != TxState.None) {
            // Prepared or Committed: a retry of the same op is a no-op, anything else a conflict.
            if (rec.kind != kind || rec.account != account || rec.amount != amount) {
                revert XaConflictingOp(
                    txId, keccak256(abi.encode(rec.kind, rec.account, rec.amount)), keccak256(op)
                );
            }
            return;
        }

        if (kind == OP_DEBIT) {
            uint256 balance = _balances[account];
            if (balance < amount) revert XaInsufficientBalance(account, balance, amount);
            _balances[account] = balance - amount;
            _balances[address(this)] += amount;
            emit Transfer(account, address(this), amount);
        } else {
            // Reserve headroom now so the commit the coordinator may decide cannot overflow the supply.
            _checkHeadroom(amount);
            _pendingCredits += amount;
        }
        rec.state = TxState.Prepared;
        rec.kind = kind;
        rec.account = account;
        rec.amount = amount;
        emit Prepared(txId, kind, account, amount);
    }

    /// @inheritdoc IXaLedger
    function commit(bytes32 txId) external onlyRelayer {
        TxRecord storage rec = _txs[txId];
        TxState state = rec.state;
        if (state == TxState.Committed) return;
        if (state == TxState.None) revert XaNotPrepared(txId);
        if (state == TxState.RolledBack) revert XaAlreadyAborted(txId);

        uint8 kind = rec.kind;
        address account = rec.account;
        uint256 amount = rec.amount;
        rec.state = TxState.Committed;
        if (kind == OP_DEBIT) {
            // The value left this chain: burn the escrow.
            _balances[address(this)] -= amount;
            _totalSupply -= amount;
            emit Transfer(address(this), address(0), amount);
        } else {
            // The value arrived on this chain: mint it (headroom was reserved at prepare).
            _pendingCredits -= amount;
            _totalSupply += amount;
            _balances[account] += amount;
            emit Transfer(address(0), account, amount);
        }
        emit Committed(txId, kind, account, amount);
    }

    /// @inheritdoc IXaLedger
    function rollback(bytes32 txId) external onlyRelayer {
        TxRecord storage rec = _txs[txId];
        TxState state = rec.state;
        if (state == TxState.RolledBack) return;
        if (state == TxState.Committed) revert XaAlreadyCommitted(txId);

        rec.state = TxState.RolledBack;
        if (state == TxState.None) {
            // Abort recorded before any prepare, so a prepare arriving late fails.
            emit RolledBack(txId, 0, address(0), 0);
            return;
        }
        uint8 kind = rec.kind;
        address account = rec.account;
        uint256 amount = rec.amount;
        if (kind == OP_DEBIT) {
            _balances[address(this)] -= amount;
            _balances[account] += amount;
            emit Transfer(address(this), account, amount);
        } else {
            _pendingCredits -= amount;
        }
        emit RolledBack(txId, kind, account, amount);
    }

    /// @inheritdoc IXaLedger
    function stateOf(bytes32 txId) external view returns (TxState) {
        return _txs[txId].state;
    }

    /// @inheritdoc IXaLedger
    function opOf(bytes32 txId) external view returns (uint8 kind, address account, uint256 amount) {
        TxRecord storage rec = _txs[txId];
        return (rec.kind, rec.account, rec.amount);
    }

    /// @inheritdoc IXaLedger
    function txOf(bytes32 txId) external view returns (TxRecord memory) {
        return _txs[txId];
    }

    // ------------------------------------------------------------------ internal

    /// @dev Decodes by hand rather than with abi.decode(op, (uint8, address, uint256)), which would revert
    /// without data on dirty words; this way every malformed op gets a specific error.
    function _decodeOp(bytes calldata op) private view returns (uint8 kind, address account, uint256 amount) {
        if (op.length != OP_LENGTH) revert XaBadOpLength(op.length);
        (uint256 kindWord, uint256 accountWord, uint256 amountWord) =
            abi.decode(op, (uint256, uint256, uint256));
        if (kindWord != OP_DEBIT && kindWord != OP_CREDIT) revert XaBadOpKind(kindWord);
        // The escrow lives under this ledger's address, so it must never be an op's account.
        if (
            accountWord == 0 || accountWord > type(uint160).max
                || accountWord == uint256(uint160(address(this)))
        ) {
            revert XaBadOpAccount(accountWord);
        }
        if (amountWord == 0) revert XaZeroAmount();
        // Both casts are lossless: kindWord is 1 or 2 and accountWord fits 160 bits, checked above.
        // forge-lint: disable-next-line(unsafe-typecast)
        return (uint8(kindWord), address(uint160(accountWord)), amountWord);
    }

    function _checkRecipient(address to) private view {
        if (to == address(0) || to == address(this)) revert XaBadRecipient(to);
    }

    /// @dev The supply plus prepared credits never exceeds 2^256-1, so the subtraction cannot underflow.
    function _checkHeadroom(uint256 amount) private view {
        uint256 headroom = type(uint256).max - _totalSupply - _pendingCredits;
        if (amount > headroom) revert XaSupplyOverflow(amount, headroom);
    }
}
