// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IXaLedger
/// @notice A sample asset ledger on a business chain that implements the crossgov two-phase-commit (2PC)
/// resource interface: `prepare(txId, op)`, `commit(txId)`, `rollback(txId)`, callable only by relayer
/// accounts the ledger's owner (the chain owner institution) authorised.
///
/// Asset-bridge model: a cross-chain transfer debits a ledger on chain A and credits a ledger on chain B
/// within one governance transaction. Value leaves chain A and appears on chain B, so a committed DEBIT
/// burns (`totalSupply` decreases) and a committed CREDIT mints (`totalSupply` increases). At all times
/// `sum(balanceOf) + escrowed() == totalSupply()`.
///
/// Op encoding (shared with the governance TransactionManager and the Rust relayer):
/// `op = abi.encode(uint8 kind, address account, uint256 amount)`, i.e. exactly 96 bytes, three
/// big-endian 32-byte words, no selector:
///   - word 0: `kind`, 1 = DEBIT, 2 = CREDIT (left-padded with zeros; any other value is rejected)
///   - word 1: `account`, a 20-byte address left-padded with zeros; not zero, not this ledger
///   - word 2: `amount`, uint256, greater than zero
/// Only this canonical form is accepted, so two ops are equal iff their bytes are equal.
///
/// State machine per txId: None -> Prepared -> Committed | RolledBack, or None -> RolledBack (a rollback
/// of a never-prepared txId records it as aborted, so a late prepare fails with XaAlreadyAborted).
/// Every transition is idempotent. A repeated call that changes nothing succeeds and emits nothing:
///   - prepare of a Prepared or Committed txId with the same op,
///   - commit of a Committed txId,
///   - rollback of a RolledBack txId.
///
/// Escrow: a prepared DEBIT moves its amount from the account into escrow, held under this ledger's own
/// address (`balanceOf(address(this)) == escrowed()`), so ERC-20 style indexers that follow the
/// `Transfer` events stay consistent: prepare DEBIT emits Transfer(account, ledger), commit DEBIT
/// emits Transfer(ledger, 0) (burn), rollback DEBIT emits Transfer(ledger, account), commit CREDIT
/// emits Transfer(0, account) (mint). Nobody can transfer or mint to the ledger's address.
/// A prepared CREDIT reserves no value, only supply headroom (`pendingCredits`), so its commit cannot
/// overflow `totalSupply` after the coordinator decided to commit.
interface IXaLedger {
    enum TxState {
        None,
        Prepared,
        Committed,
        RolledBack
    }

    /// @notice What the ledger knows about a txId. `kind`, `account`, `amount` are the prepared op
    /// (all zero when the txId was never prepared).
    struct TxRecord {
        TxState state;
        uint8 kind;
        address account;
        uint256 amount;
    }

    /// @notice Balance movement; `from == 0` is a mint, `to == 0` a burn, the ledger's own address is escrow.
    event Transfer(address indexed from, address indexed to, uint256 amount);
    event RelayerSet(address indexed account, bool allowed);
    event Prepared(bytes32 indexed txId, uint8 kind, address indexed account, uint256 amount);
    event Committed(bytes32 indexed txId, uint8 kind, address indexed account, uint256 amount);
    /// @notice `kind == 0` (with zero account and amount) means the txId was rolled back before any
    /// prepare: it is recorded as aborted.
    event RolledBack(bytes32 indexed txId, uint8 kind, address indexed account, uint256 amount);

    /// @notice The caller is not the ledger owner.
    error XaNotOwner(address caller);
    /// @notice The caller is not an authorised relayer.
    error XaNotRelayer(address caller);
    /// @notice The zero address cannot be a relayer.
    error XaZeroAddress();
    /// @notice Mints and transfers cannot go to the zero address or to the ledger (escrow) itself.
    error XaBadRecipient(address to);
    /// @notice `account` holds `balance`, less than the `amount` needed.
    error XaInsufficientBalance(address account, uint256 balance, uint256 amount);
    /// @notice Minting or preparing a credit of `amount` would let the supply exceed 2^256-1; only
    /// `headroom` is left (counting prepared credits).
    error XaSupplyOverflow(uint256 amount, uint256 headroom);
    /// @notice An op must be exactly 96 bytes.
    error XaBadOpLength(uint256 length);
    /// @notice An op's kind word must be 1 (DEBIT) or 2 (CREDIT).
    error XaBadOpKind(uint256 kind);
    /// @notice An op's account word must be a non-zero address other than the ledger (high 96 bits zero).
    error XaBadOpAccount(uint256 account);
    /// @notice An op's amount must be greater than zero.
    error XaZeroAmount();
    /// @notice The txId was prepared with a different op (hashes are keccak256 of the op bytes).
    error XaConflictingOp(bytes32 txId, bytes32 preparedOpHash, bytes32 givenOpHash);
    /// @notice The txId was rolled back (or aborted before prepare); it can no longer prepare or commit.
    error XaAlreadyAborted(bytes32 txId);
    /// @notice The txId was committed; it can no longer roll back.
    error XaAlreadyCommitted(bytes32 txId);
    /// @notice The txId was never prepared; there is nothing to commit.
    error XaNotPrepared(bytes32 txId);

    // ------------------------------------------------------------------ ledger

    /// @notice Credits `amount` new units to `to`; owner only (demos and tests).
    /// @dev Reverts XaNotOwner, XaBadRecipient, XaSupplyOverflow. Emits Transfer(0, to, amount).
    function mint(address to, uint256 amount) external;

    /// @notice Moves `amount` of the caller's free (non-escrowed) balance to `to`.
    /// @dev Reverts XaBadRecipient, XaInsufficientBalance. Emits Transfer(caller, to, amount).
    function transfer(address to, uint256 amount) external returns (bool);

    /// @notice Authorises (`allowed`) or de-authorises an account to call prepare/commit/rollback; owner only.
    /// @dev Reverts XaNotOwner, XaZeroAddress. Emits RelayerSet.
    function setRelayer(address account, bool allowed) external;

    /// @notice The free balance of `account` (escrow excluded; for the ledger's own address: the escrow).
    function balanceOf(address account) external view returns (uint256);

    /// @notice All units in existence: free balances plus escrow.
    function totalSupply() external view returns (uint256);

    /// @notice Units held in escrow by prepared, not yet committed or rolled back, DEBIT ops.
    function escrowed() external view returns (uint256);

    /// @notice Sum of the amounts of prepared, not yet committed or rolled back, CREDIT ops.
    function pendingCredits() external view returns (uint256);

    /// @notice The ledger owner (the deployer), who mints and authorises relayers.
    function owner() external view returns (address);

    /// @notice True when `account` may call prepare/commit/rollback.
    function isRelayer(address account) external view returns (bool);

    // ------------------------------------------------------------------ 2PC resource

    /// @notice Phase one: validates `op` and reserves what it needs. DEBIT moves `amount` from `account`
    /// into escrow; CREDIT reserves supply headroom only. Relayers only.
    /// @dev Idempotent: on a Prepared or Committed txId the same op succeeds with no effect and no event;
    /// a different op reverts XaConflictingOp. A RolledBack txId reverts XaAlreadyAborted.
    /// Also reverts XaNotRelayer, XaBadOpLength, XaBadOpKind, XaBadOpAccount, XaZeroAmount,
    /// XaInsufficientBalance (DEBIT), XaSupplyOverflow (CREDIT).
    /// Emits Transfer(account, ledger, amount) for a DEBIT, then Prepared.
    /// @param txId the governance transaction id
    /// @param op `abi.encode(uint8 kind, address account, uint256 amount)`, see the interface notes
    function prepare(bytes32 txId, bytes calldata op) external;

    /// @notice Phase two, decided COMMIT: DEBIT burns the escrow; CREDIT mints `amount` to `account`.
    /// Relayers only.
    /// @dev Idempotent: a Committed txId succeeds with no effect and no event. Reverts XaNotRelayer,
    /// XaNotPrepared (None), XaAlreadyAborted (RolledBack). Emits Transfer (burn or mint), then Committed.
    function commit(bytes32 txId) external;

    /// @notice Phase two, decided ABORT: DEBIT returns the escrow to `account`; CREDIT releases its
    /// headroom. A never-prepared txId is recorded as aborted. Relayers only.
    /// @dev Idempotent: a RolledBack txId succeeds with no effect and no event. Reverts XaNotRelayer,
    /// XaAlreadyCommitted. Emits Transfer(ledger, account, amount) for a DEBIT, then RolledBack
    /// (kind 0, zero account and amount for a never-prepared txId).
    function rollback(bytes32 txId) external;

    /// @notice The state of `txId`.
    function stateOf(bytes32 txId) external view returns (TxState);

    /// @notice The op prepared under `txId` (all zero when never prepared).
    function opOf(bytes32 txId) external view returns (uint8 kind, address account, uint256 amount);

    /// @notice The full record of `txId`: state and prepared op.
    function txOf(bytes32 txId) external view returns (TxRecord memory);
}
