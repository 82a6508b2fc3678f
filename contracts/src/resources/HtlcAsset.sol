// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IHtlcAsset} from "../interfaces/IHtlcAsset.sol";
import {Signatures} from "../libraries/Signatures.sol";

/// @title HtlcAsset
/// @notice Token-like asset with EIP-712-authorised HTLC legs. See IHtlcAsset.
contract HtlcAsset is IHtlcAsset {
    bytes32 private constant _LOCK_TYPEHASH = keccak256(
        "Lock(bytes32 swapId,address sender,address recipient,uint256 amount,bytes32 hashlock,uint64 timelock)"
    );
    bytes32 private constant _NAME_HASH = keccak256("crossgov.HtlcAsset");
    bytes32 private constant _VERSION_HASH = keccak256("1");

    address private immutable _owner;
    // Cached for the deployment chain and address; recomputed if the chain id changes (fork) or the code
    // runs under another address (delegatecall), so signatures for the other domain never verify.
    uint256 private immutable _cachedChainId;
    address private immutable _cachedThis;
    bytes32 private immutable _cachedDomainSeparator;

    uint256 private _totalSupply;
    mapping(address account => uint256) private _balances;
    /// Keyed by the lock's terms (`lockIdOf`), so no lock can occupy another's id.
    mapping(bytes32 lockId => Swap) private _swaps;

    modifier onlyOwner() {
        if (msg.sender != _owner) revert HtlcNotOwner(msg.sender);
        _;
    }

    constructor() {
        _owner = msg.sender;
        _cachedChainId = block.chainid;
        _cachedThis = address(this);
        _cachedDomainSeparator = _buildDomainSeparator();
    }

    // ------------------------------------------------------------------ ledger

    /// @inheritdoc IHtlcAsset
    function mint(address to, uint256 amount) external onlyOwner {
        _checkRecipient(to);
        uint256 headroom = type(uint256).max - _totalSupply;
        if (amount > headroom) revert HtlcSupplyOverflow(amount, headroom);
        _totalSupply += amount;
        _balances[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    /// @inheritdoc IHtlcAsset
    function transfer(address to, uint256 amount) external returns (bool) {
        _checkRecipient(to);
        uint256 balance = _balances[msg.sender];
        if (balance < amount) revert HtlcInsufficientBalance(msg.sender, balance, amount);
        _balances[msg.sender] = balance - amount;
        _balances[to] += amount;
        emit Transfer(msg.sender, to, amount);
        return true;
    }

    /// @inheritdoc IHtlcAsset
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    /// @inheritdoc IHtlcAsset
    function totalSupply() external view returns (uint256) {
        return _totalSupply;
    }

    /// @inheritdoc IHtlcAsset
    function held() external view returns (uint256) {
        return _balances[address(this)];
    }

    /// @inheritdoc IHtlcAsset
    function owner() external view returns (address) {
        return _owner;
    }

    // ------------------------------------------------------------------ HTLC resource

    /// @inheritdoc IHtlcAsset
    function lock(
        bytes32 swapId,
        address sender,
        address recipient,
        uint256 amount,
        bytes32 hashlock,
        uint64 timelock,
        bytes calldata senderSig
    ) external returns (bytes32 lockId) {
        lockId = _lockId(swapId, sender, recipient, amount, hashlock, timelock);
        Swap storage swap = _swaps[lockId];
        if (swap.state != SwapState.None) revert HtlcSwapExists(lockId);
        if (amount == 0) revert HtlcZeroAmount();
        // Paying into the hold would leave units no swap accounts for.
        if (recipient == address(0) || recipient == address(this)) revert HtlcBadRecipient(recipient);
        if (hashlock == bytes32(0)) revert HtlcZeroHashlock();
        // Timelocks are wall-clock by design; validator skew of seconds is far below any leg's margin.
        // forge-lint: disable-next-line(block-timestamp)
        if (timelock <= block.timestamp) revert HtlcTimelockNotInFuture(timelock, block.timestamp);

        address signer = _recover(Signatures.typedDigest(_domainSeparator(), lockId), senderSig);
        if (signer != sender) revert HtlcSignerMismatch(signer, sender);

        uint256 balance = _balances[sender];
        if (balance < amount) revert HtlcInsufficientBalance(sender, balance, amount);
        _balances[sender] = balance - amount;
        _balances[address(this)] += amount;
        emit Transfer(sender, address(this), amount);

        swap.sender = sender;
        swap.timelock = timelock;
        swap.state = SwapState.Locked;
        swap.recipient = recipient;
        swap.amount = amount;
        swap.hashlock = hashlock;
        emit Locked(lockId, swapId, sender, recipient, amount, hashlock, timelock);
    }

    /// @inheritdoc IHtlcAsset
    function unlock(bytes32 lockId, bytes32 secret) external {
        Swap storage swap = _requireLocked(lockId);
        uint64 timelock = swap.timelock;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= timelock) revert HtlcExpired(lockId, timelock, block.timestamp);
        if (sha256(abi.encodePacked(secret)) != swap.hashlock) revert HtlcWrongSecret(lockId, secret);

        address recipient = swap.recipient;
        uint256 amount = swap.amount;
        swap.state = SwapState.Unlocked;
        // Kept on chain so a relayer can finish the other leg from state alone, without the log.
        swap.secret = secret;
        _balances[address(this)] -= amount;
        _balances[recipient] += amount;
        emit Transfer(address(this), recipient, amount);
        emit Unlocked(lockId, secret, recipient, amount);
    }

    /// @inheritdoc IHtlcAsset
    function timeout(bytes32 lockId) external {
        Swap storage swap = _requireLocked(lockId);
        uint64 timelock = swap.timelock;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < timelock) revert HtlcNotExpired(lockId, timelock, block.timestamp);

        address sender = swap.sender;
        uint256 amount = swap.amount;
        swap.state = SwapState.Refunded;
        _balances[address(this)] -= amount;
        _balances[sender] += amount;
        emit Transfer(address(this), sender, amount);
        emit Refunded(lockId, sender, amount);
    }

    /// @inheritdoc IHtlcAsset
    function lockOf(bytes32 lockId) external view returns (Swap memory) {
        return _swaps[lockId];
    }

    /// @inheritdoc IHtlcAsset
    function lockIdOf(
        bytes32 swapId,
        address sender,
        address recipient,
        uint256 amount,
        bytes32 hashlock,
        uint64 timelock
    ) external pure returns (bytes32) {
        return _lockId(swapId, sender, recipient, amount, hashlock, timelock);
    }

    /// @inheritdoc IHtlcAsset
    function lockDigest(
        bytes32 swapId,
        address sender,
        address recipient,
        uint256 amount,
        bytes32 hashlock,
        uint64 timelock
    ) external view returns (bytes32) {
        return _lockDigest(swapId, sender, recipient, amount, hashlock, timelock);
    }

    /// @inheritdoc IHtlcAsset
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparator();
    }

    /// @inheritdoc IHtlcAsset
    function LOCK_TYPEHASH() external pure returns (bytes32) {
        return _LOCK_TYPEHASH;
    }

    // ------------------------------------------------------------------ internal

    function _requireLocked(bytes32 lockId) private view returns (Swap storage swap) {
        swap = _swaps[lockId];
        SwapState state = swap.state;
        if (state == SwapState.None) revert HtlcUnknownSwap(lockId);
        if (state != SwapState.Locked) revert HtlcNotLocked(lockId, state);
    }

    function _checkRecipient(address to) private view {
        if (to == address(0) || to == address(this)) revert HtlcBadRecipient(to);
    }

    function _lockDigest(
        bytes32 swapId,
        address sender,
        address recipient,
        uint256 amount,
        bytes32 hashlock,
        uint64 timelock
    ) private view returns (bytes32) {
        return Signatures.typedDigest(
            _domainSeparator(), _lockId(swapId, sender, recipient, amount, hashlock, timelock)
        );
    }

    /// @dev The EIP-712 struct hash of the terms: the signed message and the storage key at once.
    function _lockId(
        bytes32 swapId,
        address sender,
        address recipient,
        uint256 amount,
        bytes32 hashlock,
        uint64 timelock
    ) private pure returns (bytes32) {
        return keccak256(abi.encode(_LOCK_TYPEHASH, swapId, sender, recipient, amount, hashlock, timelock));
    }

    function _domainSeparator() private view returns (bytes32) {
        if (block.chainid == _cachedChainId && address(this) == _cachedThis) return _cachedDomainSeparator;
        return _buildDomainSeparator();
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return Signatures.domainSeparator(_NAME_HASH, _VERSION_HASH, block.chainid, address(this));
    }

    /// @dev Strict recovery: 65-byte r || s || v, v in {27, 28}, low s, non-zero signer.
    function _recover(bytes32 digest, bytes calldata sig) private pure returns (address signer) {
        Signatures.Fault fault;
        (signer, fault) = Signatures.tryRecover(digest, sig);
        if (fault == Signatures.Fault.None) return signer;
        if (fault == Signatures.Fault.BadLength) revert HtlcBadSignatureLength(sig.length);
        if (fault == Signatures.Fault.BadV) revert HtlcBadSignatureV(uint8(sig[64]));
        if (fault == Signatures.Fault.HighS) {
            (, bytes32 s) = abi.decode(sig, (bytes32, bytes32));
            revert HtlcMalleableSignature(s);
        }
        revert HtlcInvalidSignature();
    }
}
