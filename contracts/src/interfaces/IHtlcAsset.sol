// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IHtlcAsset
/// @notice A token-like asset on a business chain with hashed-timelock (HTLC) swap legs, the crossgov
/// HTLC resource. A leg moves `amount` from `sender` into the contract's hold; `unlock` with the secret
/// before the timelock pays `recipient` and reveals the secret; `timeout` at or after the timelock refunds
/// `sender`. The hold is kept under the contract's own address: `balanceOf(address(this)) == held()`,
/// which always equals the sum of the amounts of Locked swaps.
///
/// Lock ids: a lock is stored under `lockId = keccak256(abi.encode(LOCK_TYPEHASH, swapId, sender,
/// recipient, amount, hashlock, timelock))`, the EIP-712 struct hash of its terms (`lockIdOf`). The id
/// commits to every term, so whoever finds a lock under an id finds exactly the terms the id names: a
/// counterparty cannot pre-lock "the swap's slot" with other terms (say amount 1, signed by himself as
/// sender), because that lock lands under another id. `lock` returns the id; `unlock`, `timeout` and
/// `lockOf` take it.
///
/// Secret and hashlock: the secret is a bytes32 preimage and `hashlock = sha256(abi.encodePacked(secret))`
/// (SHA-256 of the 32 raw bytes), the same on every chain of a swap.
///
/// Authorisation: anyone (a relayer) submits `lock`, but the sender's EIP-712 signature must cover every
/// field of the leg, so a relayer cannot forge or alter it:
///   domain:  EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)
///            with name "crossgov.HtlcAsset", version "1", this chain's id, this contract
///   type:    Lock(bytes32 swapId,address sender,address recipient,uint256 amount,bytes32 hashlock,uint64 timelock)
///   digest:  keccak256("\x19\x01" || DOMAIN_SEPARATOR || keccak256(abi.encode(LOCK_TYPEHASH, swapId, sender,
///            recipient, amount, hashlock, timelock)))
///   signature: 65 bytes r || s || v with v in {27, 28} and s <= secp256k1n / 2 (no malleable twins).
/// Each lock id (each set of terms) is locked at most once per contract, so a signature cannot be replayed;
/// the domain binds it to one contract on one chain. A lock with other terms under the same swapId is
/// another lock and never occupies this one. A signed leg can be submitted at any time before its
/// timelock.
interface IHtlcAsset {
    enum SwapState {
        None,
        Locked,
        Unlocked,
        Refunded
    }

    /// @notice One HTLC leg. `secret` is zero until the leg is unlocked, then the revealed preimage.
    struct Swap {
        address sender;
        uint64 timelock;
        SwapState state;
        address recipient;
        uint256 amount;
        bytes32 hashlock;
        bytes32 secret;
    }

    /// @notice Balance movement; `from == 0` is a mint, the contract's own address is the hold.
    event Transfer(address indexed from, address indexed to, uint256 amount);
    /// @notice `amount` of `sender` is held under `lockId`, the id of exactly these terms, for the
    /// governance chain's swap `swapId`.
    event Locked(
        bytes32 indexed lockId,
        bytes32 indexed swapId,
        address indexed sender,
        address recipient,
        uint256 amount,
        bytes32 hashlock,
        uint64 timelock
    );
    /// @notice The lock paid `recipient`; `secret` is the revealed preimage of the hashlock.
    event Unlocked(bytes32 indexed lockId, bytes32 secret, address indexed recipient, uint256 amount);
    /// @notice The lock was refunded to `sender` after its timelock.
    event Refunded(bytes32 indexed lockId, address indexed sender, uint256 amount);

    /// @notice The caller is not the asset owner.
    error HtlcNotOwner(address caller);
    /// @notice Mints, transfers and swap recipients cannot be the zero address or the contract itself.
    error HtlcBadRecipient(address to);
    /// @notice `account` holds `balance`, less than the `amount` needed.
    error HtlcInsufficientBalance(address account, uint256 balance, uint256 amount);
    /// @notice Minting `amount` would overflow the supply.
    error HtlcSupplyOverflow(uint256 amount, uint256 headroom);
    /// @notice A lock with exactly these terms (`lockId`) was already made on this contract.
    error HtlcSwapExists(bytes32 lockId);
    /// @notice A lock amount must be greater than zero.
    error HtlcZeroAmount();
    /// @notice The hashlock must not be zero.
    error HtlcZeroHashlock();
    /// @notice The timelock must be in the future at lock time.
    error HtlcTimelockNotInFuture(uint64 timelock, uint256 blockTimestamp);
    /// @notice The signature must be exactly 65 bytes (r, s, v).
    error HtlcBadSignatureLength(uint256 length);
    /// @notice The signature's v must be 27 or 28.
    error HtlcBadSignatureV(uint8 v);
    /// @notice The signature's s is in the upper half of the curve order (malleable twin).
    error HtlcMalleableSignature(bytes32 s);
    /// @notice ecrecover found no signer for the signature.
    error HtlcInvalidSignature();
    /// @notice The signature was made by `signer`, not by the leg's `sender`.
    error HtlcSignerMismatch(address signer, address sender);
    /// @notice Nothing was ever locked under `lockId`.
    error HtlcUnknownSwap(bytes32 lockId);
    /// @notice The lock is not Locked (it was already unlocked or refunded).
    error HtlcNotLocked(bytes32 lockId, SwapState state);
    /// @notice Unlock at or after the timelock (too late).
    error HtlcExpired(bytes32 lockId, uint64 timelock, uint256 blockTimestamp);
    /// @notice Timeout before the timelock (too early).
    error HtlcNotExpired(bytes32 lockId, uint64 timelock, uint256 blockTimestamp);
    /// @notice sha256(secret) does not match the hashlock.
    error HtlcWrongSecret(bytes32 lockId, bytes32 secret);

    // ------------------------------------------------------------------ ledger

    /// @notice Credits `amount` new units to `to`; owner only (demos and tests).
    /// @dev Reverts HtlcNotOwner, HtlcBadRecipient, HtlcSupplyOverflow. Emits Transfer(0, to, amount).
    function mint(address to, uint256 amount) external;

    /// @notice Moves `amount` of the caller's balance to `to`.
    /// @dev Reverts HtlcBadRecipient, HtlcInsufficientBalance. Emits Transfer(caller, to, amount).
    function transfer(address to, uint256 amount) external returns (bool);

    /// @notice The balance of `account` (for the contract's own address: the hold of Locked swaps).
    function balanceOf(address account) external view returns (uint256);

    /// @notice All units in existence, free and held.
    function totalSupply() external view returns (uint256);

    /// @notice Units held by Locked swaps.
    function held() external view returns (uint256);

    /// @notice The asset owner (the deployer), who mints.
    function owner() external view returns (address);

    // ------------------------------------------------------------------ HTLC resource

    /// @notice Locks `amount` of `sender`'s balance for `recipient`, payable with the preimage of
    /// `hashlock` before `timelock`, under the id of these terms (`lockIdOf`). Anyone may submit;
    /// `senderSig` is the sender's EIP-712 signature of exactly these fields (see the interface notes).
    /// @dev Reverts HtlcSwapExists, HtlcZeroAmount, HtlcBadRecipient, HtlcZeroHashlock,
    /// HtlcTimelockNotInFuture, HtlcBadSignatureLength, HtlcBadSignatureV, HtlcMalleableSignature,
    /// HtlcInvalidSignature, HtlcSignerMismatch, HtlcInsufficientBalance.
    /// Emits Transfer(sender, this, amount), then Locked.
    /// @param swapId the governance chain's swap this leg belongs to
    /// @param timelock unix seconds; unlock works strictly before it, timeout at or after it
    /// @param senderSig 65 bytes r || s || v
    /// @return lockId the id the lock is stored under, `lockIdOf` of these terms
    function lock(
        bytes32 swapId,
        address sender,
        address recipient,
        uint256 amount,
        bytes32 hashlock,
        uint64 timelock,
        bytes calldata senderSig
    ) external returns (bytes32 lockId);

    /// @notice Pays a Locked lock to its recipient when `sha256(abi.encodePacked(secret)) == hashlock`,
    /// strictly before the timelock; anyone may call. The secret is revealed in the event and in `lockOf`.
    /// @dev Reverts HtlcUnknownSwap, HtlcNotLocked, HtlcExpired, HtlcWrongSecret.
    /// Emits Transfer(this, recipient, amount), then Unlocked.
    function unlock(bytes32 lockId, bytes32 secret) external;

    /// @notice Refunds a Locked lock to its sender at or after the timelock; anyone may call.
    /// @dev Reverts HtlcUnknownSwap, HtlcNotLocked, HtlcNotExpired.
    /// Emits Transfer(this, sender, amount), then Refunded.
    function timeout(bytes32 lockId) external;

    /// @notice The lock under `lockId` (state None and zero fields when unknown).
    function lockOf(bytes32 lockId) external view returns (Swap memory);

    /// @notice The id a lock with these terms is stored under: `keccak256(abi.encode(LOCK_TYPEHASH,
    /// swapId, sender, recipient, amount, hashlock, timelock))`, the EIP-712 struct hash the sender signs.
    /// Independent of chain and contract (each contract keeps its own locks).
    function lockIdOf(
        bytes32 swapId,
        address sender,
        address recipient,
        uint256 amount,
        bytes32 hashlock,
        uint64 timelock
    ) external pure returns (bytes32);

    /// @notice The EIP-712 digest the sender signs for a lock with these fields, on this chain and contract.
    function lockDigest(
        bytes32 swapId,
        address sender,
        address recipient,
        uint256 amount,
        bytes32 hashlock,
        uint64 timelock
    ) external view returns (bytes32);

    /// @notice The EIP-712 domain separator for the current chain id.
    function DOMAIN_SEPARATOR() external view returns (bytes32);

    /// @notice keccak256 of the Lock type string.
    function LOCK_TYPEHASH() external view returns (bytes32);
}
