// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IChainRegistry} from "../interfaces/IChainRegistry.sol";
import {IInstitutionRegistry} from "../interfaces/IInstitutionRegistry.sol";
import {IPermissionManager} from "../interfaces/IPermissionManager.sol";
import {ISupervision} from "../interfaces/ISupervision.sol";
import {ITransactionManager} from "../interfaces/ITransactionManager.sol";
import {IPath} from "../libraries/IPath.sol";
import {ResourceOps} from "../libraries/ResourceOps.sol";
import {Signatures} from "../libraries/Signatures.sol";

/// @title TransactionManager
/// @notice 2PC coordinator and HTLC swap ledger. See ITransactionManager.
contract TransactionManager is ITransactionManager {
    uint256 public constant MAX_STEPS = 16;
    uint256 public constant MAX_OP_BYTES = 1024;
    uint256 public constant MAX_EVIDENCE_BYTES = 256;
    uint64 public constant MAX_TX_DURATION = 7 days;
    uint64 public constant MIN_TIMELOCK_MARGIN = 10 minutes;
    uint64 public constant MAX_SWAP_DURATION = 30 days;
    uint256 public constant MAX_PAGE = 100;
    /// Items per report: the `refused` bitmap's width bounds it at 256; a block's gas bounds it sooner.
    uint256 public constant MAX_REPORT_ITEMS = 64;

    bytes32 public constant STEP_TYPEHASH =
        keccak256("Step(bytes32 zone,bytes32 chain,bytes32 resource,bytes op)");
    bytes32 public constant TX_REQUEST_TYPEHASH = keccak256(
        "TxRequest(bytes32 txId,Step[] steps,uint64 deadline,uint256 nonce)Step(bytes32 zone,bytes32 chain,bytes32 resource,bytes op)"
    );
    bytes32 public constant LEG_TYPEHASH = keccak256(
        "Leg(bytes32 zone,bytes32 chain,bytes32 resource,address sender,address recipient,uint256 amount,uint64 timelock)"
    );
    bytes32 public constant SWAP_REQUEST_TYPEHASH = keccak256(
        "SwapRequest(bytes32 swapId,bytes32 hashlock,Leg legA,Leg legB,uint256 nonce)Leg(bytes32 zone,bytes32 chain,bytes32 resource,address sender,address recipient,uint256 amount,uint64 timelock)"
    );
    bytes32 private constant NAME_HASH = keccak256("crossgov.TransactionManager");
    bytes32 private constant VERSION_HASH = keccak256("1");

    IInstitutionRegistry private immutable _registry;
    IChainRegistry private immutable _chains;
    IPermissionManager private immutable _permissions;
    /// Binds Supervision once (the two contracts name each other, so one learns the other after both exist).
    address private immutable _deployer;
    ISupervision private _supervision;

    mapping(bytes32 txId => Transaction) private _transactions;
    mapping(bytes32 txId => mapping(uint256 step => StepRecord)) private _steps;
    mapping(address initiator => mapping(uint256 nonce => bool)) private _nonceUsed;
    mapping(bytes32 swapId => Swap) private _swaps;

    /// Unfinished transactions / swaps per chain: an array plus 1-based positions for O(1) removal.
    mapping(bytes32 chainKey => bytes32[]) private _openTxs;
    mapping(bytes32 chainKey => mapping(bytes32 txId => uint256 position)) private _openTxPosition;
    mapping(bytes32 chainKey => bytes32[]) private _openSwapIds;
    mapping(bytes32 chainKey => mapping(bytes32 swapId => uint256 position)) private _openSwapPosition;

    constructor(
        IInstitutionRegistry registry_,
        IChainRegistry chainRegistry_,
        IPermissionManager permissions_
    ) {
        _registry = registry_;
        _chains = chainRegistry_;
        _permissions = permissions_;
        _deployer = msg.sender;
    }

    // ================================================================ 2PC

    /// @inheritdoc ITransactionManager
    function begin(TxRequest calldata request, bytes calldata signature) external {
        bytes32 txId = request.txId;
        if (txId == bytes32(0)) revert TxZeroId();
        if (_transactions[txId].state != TxState.None) revert TxAlreadyExists(txId);
        uint256 count = request.steps.length;
        if (count == 0 || count > MAX_STEPS) revert TxBadStepCount(count);
        if (request.deadline <= block.timestamp || request.deadline > block.timestamp + MAX_TX_DURATION) {
            revert TxBadDeadline(request.deadline, block.timestamp);
        }

        address initiator = Signatures.recover(txRequestDigest(request), signature);
        if (initiator == address(0)) revert TxBadSignature();
        // The id must be the signer's own: otherwise a user could squat an id seen in another's request.
        if (txId != requestId(initiator, request.nonce)) {
            revert TxIdNotBound(txId, requestId(initiator, request.nonce));
        }
        if (_nonceUsed[initiator][request.nonce]) revert TxNonceUsed(initiator, request.nonce);
        uint64 institution = _requireUser(initiator);
        if (_registry.activeInstitutionOf(_sender(), IInstitutionRegistry.Role.Relayer) != institution) {
            revert TxNotInstitutionRelayer(_sender(), institution);
        }

        _nonceUsed[initiator][request.nonce] = true;
        _transactions[txId] = Transaction({
            initiator: initiator,
            state: TxState.Preparing,
            // forge-lint: disable-next-line(unsafe-typecast)
            stepCount: uint8(count), // count <= MAX_STEPS (16)
            votedMask: 0,
            yesMask: 0,
            ackedMask: 0,
            deadline: request.deadline,
            institution: institution,
            beganBlock: uint64(block.number)
        });
        for (uint256 i; i < count; ++i) {
            Step calldata s = request.steps[i];
            // forge-lint: disable-next-line(unsafe-typecast)
            uint8 step = uint8(i); // i < MAX_STEPS
            uint8 bad = IPath.firstInvalid(s.zone, s.chain, s.resource);
            if (bad < 3) revert TxBadPath(step, bad);
            if (s.op.length == 0 || s.op.length > MAX_OP_BYTES) revert TxBadOpLength(step, s.op.length);
            if (!_chains.isActiveChain(s.zone, s.chain)) revert TxChainNotActive(step, s.zone, s.chain);
            if (!_permissions.check(initiator, s.zone, s.chain, s.resource, ResourceOps.TWO_PHASE)) {
                revert TxNoPermission(initiator, step);
            }
            bytes32 key = IPath.chainKey(s.zone, s.chain);
            _steps[txId][i] = StepRecord({chainKey: key, opHash: keccak256(s.op)});
            _addOpen(_openTxs[key], _openTxPosition[key], txId);
        }
        emit TransactionBegun(txId, initiator, institution, request.deadline, request.nonce, request.steps);
        _refuseUnrecordedWhileSupervised(txId);
    }

    /// @inheritdoc ITransactionManager
    function vote(bytes32 txId, uint8 step, bool ok, bytes calldata evidence) external {
        Transaction storage t = _requireTx(txId);
        if (t.state != TxState.Preparing) revert TxNotPreparing(txId, t.state);
        if (block.timestamp >= t.deadline) revert TxDeadlinePassed(txId, t.deadline);
        uint16 bit = _requireServingStep(txId, t, step);
        if (t.votedMask & bit != 0) revert TxAlreadyVoted(txId, step);
        if (evidence.length > MAX_EVIDENCE_BYTES) revert TxEvidenceTooLarge(evidence.length);

        t.votedMask |= bit;
        if (ok) t.yesMask |= bit;
        emit StepVoted(txId, step, ok, _sender(), evidence);

        if (!ok) {
            t.state = TxState.Aborting;
            emit TransactionDecided(txId, TxState.Aborting);
        } else if (t.yesMask == _allSteps(t.stepCount)) {
            t.state = TxState.Committing;
            emit TransactionDecided(txId, TxState.Committing);
        }
        _refuseUnrecordedWhileSupervised(txId);
    }

    /// @inheritdoc ITransactionManager
    function expire(bytes32 txId) external {
        Transaction storage t = _requireTx(txId);
        if (t.state != TxState.Preparing) revert TxNotPreparing(txId, t.state);
        if (block.timestamp < t.deadline) revert TxDeadlineNotReached(txId, t.deadline);
        t.state = TxState.Aborting;
        emit TransactionExpired(txId);
        emit TransactionDecided(txId, TxState.Aborting);
    }

    /// @inheritdoc ITransactionManager
    function ack(bytes32 txId, uint8 step, bytes calldata evidence) external {
        Transaction storage t = _requireTx(txId);
        TxState state = t.state;
        if (state != TxState.Committing && state != TxState.Aborting) revert TxNotDecided(txId, state);
        uint16 bit = _requireServingStep(txId, t, step);
        if (t.ackedMask & bit != 0) revert TxAlreadyAcked(txId, step);
        if (evidence.length > MAX_EVIDENCE_BYTES) revert TxEvidenceTooLarge(evidence.length);

        t.ackedMask |= bit;
        emit StepAcked(txId, step, _sender(), evidence);

        if (t.ackedMask == _allSteps(t.stepCount)) {
            TxState finalState = state == TxState.Committing ? TxState.Committed : TxState.Aborted;
            t.state = finalState;
            for (uint256 i; i < t.stepCount; ++i) {
                bytes32 key = _steps[txId][i].chainKey;
                _removeOpen(_openTxs[key], _openTxPosition[key], txId);
            }
            emit TransactionFinalized(txId, finalState);
        }
        _refuseUnrecordedWhileSupervised(txId);
    }

    /// @inheritdoc ITransactionManager
    function transaction(bytes32 txId) external view returns (Transaction memory) {
        return _transactions[txId];
    }

    /// @inheritdoc ITransactionManager
    function stepOf(bytes32 txId, uint8 step) external view returns (StepRecord memory) {
        Transaction storage t = _requireTx(txId);
        if (step >= t.stepCount) revert TxBadStep(txId, step);
        return _steps[txId][step];
    }

    /// @inheritdoc ITransactionManager
    function txRequestDigest(TxRequest calldata request) public view returns (bytes32) {
        uint256 count = request.steps.length;
        bytes32[] memory stepHashes = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            Step calldata s = request.steps[i];
            stepHashes[i] = keccak256(abi.encode(STEP_TYPEHASH, s.zone, s.chain, s.resource, keccak256(s.op)));
        }
        bytes32 structHash = keccak256(
            abi.encode(
                TX_REQUEST_TYPEHASH,
                request.txId,
                keccak256(abi.encodePacked(stepHashes)),
                request.deadline,
                request.nonce
            )
        );
        return Signatures.typedDigest(DOMAIN_SEPARATOR(), structHash);
    }

    /// @inheritdoc ITransactionManager
    function nonceUsed(address initiator, uint256 nonce) external view returns (bool) {
        return _nonceUsed[initiator][nonce];
    }

    /// @inheritdoc ITransactionManager
    function requestId(address initiator, uint256 nonce) public pure returns (bytes32) {
        return keccak256(abi.encode(initiator, nonce));
    }

    /// @inheritdoc ITransactionManager
    function openTransactionCount(bytes32 chainKey) external view returns (uint256) {
        return _openTxs[chainKey].length;
    }

    /// @inheritdoc ITransactionManager
    function openTransactions(bytes32 chainKey, uint256 offset, uint256 limit)
        external
        view
        returns (bytes32[] memory)
    {
        return _page(_openTxs[chainKey], offset, limit);
    }

    // ================================================================ HTLC

    /// @inheritdoc ITransactionManager
    function proposeSwap(SwapRequest calldata request, bytes calldata initiatorSignature) external {
        bytes32 swapId = request.swapId;
        if (swapId == bytes32(0)) revert SwapZeroId();
        if (_swaps[swapId].state != SwapState.None) revert SwapAlreadyExists(swapId);
        if (request.hashlock == bytes32(0)) revert SwapZeroHashlock();
        Leg calldata a = request.legA;
        Leg calldata b = request.legB;
        if (
            b.timelock <= block.timestamp || a.timelock <= uint256(b.timelock) + MIN_TIMELOCK_MARGIN
                || a.timelock > block.timestamp + MAX_SWAP_DURATION
        ) revert SwapBadTimelocks(a.timelock, b.timelock, block.timestamp);
        bytes32 keyA = _checkLeg(a, 0);
        bytes32 keyB = _checkLeg(b, 1);

        bytes32 digest = swapRequestDigest(request);
        address signer = Signatures.recover(digest, initiatorSignature);
        if (signer == address(0)) revert SwapBadSignature();
        if (signer != a.sender) revert SwapWrongSigner(a.sender, signer);
        // The id must be the initiator's own: otherwise a user could squat an id seen in another's request.
        if (swapId != requestId(signer, request.nonce)) {
            revert SwapIdNotBound(swapId, requestId(signer, request.nonce));
        }
        if (_nonceUsed[signer][request.nonce]) revert SwapNonceUsed(signer, request.nonce);
        uint64 institution = _registry.activeInstitutionOf(signer, IInstitutionRegistry.Role.User);
        if (institution == 0) revert SwapNotUser(signer);
        if (_registry.activeInstitutionOf(_sender(), IInstitutionRegistry.Role.Relayer) != institution) {
            revert SwapNotInstitutionRelayer(_sender(), institution);
        }
        if (_registry.activeInstitutionOf(b.sender, IInstitutionRegistry.Role.User) == 0) {
            revert SwapNotUser(b.sender);
        }
        if (!_permissions.check(signer, a.zone, a.chain, a.resource, ResourceOps.HTLC)) {
            revert SwapNoPermission(signer, 0);
        }
        // Checked now because leg B's path lives only in the proposal event afterwards.
        if (!_permissions.check(b.sender, b.zone, b.chain, b.resource, ResourceOps.HTLC)) {
            revert SwapNoPermission(b.sender, 1);
        }

        _nonceUsed[signer][request.nonce] = true;
        _swaps[swapId] = Swap({
            initiator: signer,
            timelockA: uint40(a.timelock),
            state: SwapState.Proposed,
            legA: LegState.None,
            legB: LegState.None,
            counterparty: b.sender,
            timelockB: uint40(b.timelock),
            proposedBlock: uint48(block.number),
            hashlock: request.hashlock,
            chainKeyA: keyA,
            chainKeyB: keyB,
            digest: digest,
            secret: bytes32(0)
        });
        _addOpen(_openSwapIds[keyA], _openSwapPosition[keyA], swapId);
        _addOpen(_openSwapIds[keyB], _openSwapPosition[keyB], swapId);
        emit SwapProposed(swapId, signer, b.sender, request);
        _refuseUnrecordedWhileSupervised(swapId);
    }

    /// @inheritdoc ITransactionManager
    function acceptSwap(bytes32 swapId, bytes calldata counterpartySignature) external {
        Swap storage s = _requireSwap(swapId);
        if (s.state != SwapState.Proposed) revert SwapNotProposed(swapId, s.state);
        if (block.timestamp >= s.timelockB) revert SwapAcceptWindowClosed(swapId, s.timelockB);
        address signer = Signatures.recover(s.digest, counterpartySignature);
        if (signer == address(0)) revert SwapBadSignature();
        address counterparty = s.counterparty;
        if (signer != counterparty) revert SwapWrongSigner(counterparty, signer);
        uint64 institution = _registry.activeInstitutionOf(counterparty, IInstitutionRegistry.Role.User);
        if (institution == 0) revert SwapNotUser(counterparty);
        if (_registry.activeInstitutionOf(_sender(), IInstitutionRegistry.Role.Relayer) != institution) {
            revert SwapNotInstitutionRelayer(_sender(), institution);
        }
        s.state = SwapState.Accepted;
        emit SwapAccepted(swapId);
        _refuseUnrecordedWhileSupervised(swapId);
    }

    /// @inheritdoc ITransactionManager
    function recordLegLocked(bytes32 swapId, uint8 leg, bytes calldata evidence) external {
        Swap storage s = _requireLegUpdate(swapId, leg, evidence);
        LegState current = leg == 0 ? s.legA : s.legB;
        if (current != LegState.None) revert SwapLegState(swapId, leg, current);
        if (leg == 0) {
            s.legA = LegState.Locked;
        } else {
            // Leg A locked first; a leg B lock recorded late (after leg A was refunded) is still
            // history to record, or the swap could never close (its refund needs it recorded).
            LegState a = s.legA;
            if (a != LegState.Locked && a != LegState.Refunded) revert SwapLegOutOfOrder(swapId);
            s.legB = LegState.Locked;
        }
        emit LegLocked(swapId, leg, _sender(), evidence);
        _refuseUnrecordedWhileSupervised(swapId);
    }

    /// @inheritdoc ITransactionManager
    function recordLegUnlocked(bytes32 swapId, uint8 leg, bytes32 secret, bytes calldata evidence) external {
        Swap storage s = _requireLegUpdate(swapId, leg, evidence);
        LegState current = leg == 0 ? s.legA : s.legB;
        if (current != LegState.Locked) revert SwapLegState(swapId, leg, current);
        if (sha256(abi.encodePacked(secret)) != s.hashlock) revert SwapWrongSecret(swapId);
        if (leg == 0) s.legA = LegState.Unlocked;
        else s.legB = LegState.Unlocked;
        s.secret = secret;
        emit LegUnlocked(swapId, leg, secret, _sender(), evidence);
        _closeIfSettled(swapId, s);
        _refuseUnrecordedWhileSupervised(swapId);
    }

    /// @inheritdoc ITransactionManager
    function recordLegRefunded(bytes32 swapId, uint8 leg, bytes calldata evidence) external {
        Swap storage s = _requireLegUpdate(swapId, leg, evidence);
        LegState current = leg == 0 ? s.legA : s.legB;
        if (current != LegState.Locked) revert SwapLegState(swapId, leg, current);
        if (leg == 0) s.legA = LegState.Refunded;
        else s.legB = LegState.Refunded;
        emit LegRefunded(swapId, leg, _sender(), evidence);
        _closeIfSettled(swapId, s);
        _refuseUnrecordedWhileSupervised(swapId);
    }

    /// @inheritdoc ITransactionManager
    function recordLegVoid(bytes32 swapId, uint8 leg, bytes calldata evidence) external {
        Swap storage s = _requireLegUpdate(swapId, leg, evidence);
        LegState current = leg == 0 ? s.legA : s.legB;
        if (current != LegState.None) revert SwapLegState(swapId, leg, current);
        if (leg == 0) s.legA = LegState.Void;
        else s.legB = LegState.Void;
        emit LegVoided(swapId, leg, _sender(), evidence);
        _closeIfSettled(swapId, s);
        _refuseUnrecordedWhileSupervised(swapId);
    }

    /// @inheritdoc ITransactionManager
    function expireSwap(bytes32 swapId) external {
        Swap storage s = _requireSwap(swapId);
        if (s.state != SwapState.Proposed || block.timestamp < s.timelockB) revert SwapNotExpirable(swapId);
        s.state = SwapState.Expired;
        _closeOpenSwap(swapId, s);
        emit SwapExpired(swapId);
    }

    /// @inheritdoc ITransactionManager
    function swap(bytes32 swapId) external view returns (Swap memory) {
        return _swaps[swapId];
    }

    /// @inheritdoc ITransactionManager
    function swapRequestDigest(SwapRequest calldata request) public view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                SWAP_REQUEST_TYPEHASH,
                request.swapId,
                request.hashlock,
                _legHash(request.legA),
                _legHash(request.legB),
                request.nonce
            )
        );
        return Signatures.typedDigest(DOMAIN_SEPARATOR(), structHash);
    }

    /// @inheritdoc ITransactionManager
    function openSwapCount(bytes32 chainKey) external view returns (uint256) {
        return _openSwapIds[chainKey].length;
    }

    /// @inheritdoc ITransactionManager
    function openSwaps(bytes32 chainKey, uint256 offset, uint256 limit)
        external
        view
        returns (bytes32[] memory)
    {
        return _page(_openSwapIds[chainKey], offset, limit);
    }

    // ================================================================ batched reports

    /// @inheritdoc ITransactionManager
    function report(ReportItem[] calldata items) external returns (uint256 refused) {
        uint256 count = items.length;
        if (count == 0 || count > MAX_REPORT_ITEMS) revert TxReportBadSize(count);
        if (address(_supervision) == address(0)) revert TxSupervisionNotBound();
        bytes memory firstReason;
        for (uint256 i; i < count; ++i) {
            try this.reportItem(msg.sender, items[i]) {}
            catch (bytes memory reason) {
                // Every refusal here is a custom error; no data means out of gas (or worse).
                if (reason.length == 0) revert TxReportItemFailed(i);
                if (refused == 0) firstReason = reason;
                refused |= uint256(1) << i;
                emit ReportItemRefused(i, items[i].id, reason);
            }
        }
        // Nothing stood: fail as the first item did, so a lone item behaves as its entry point and
        // a pre-flight (gas estimate) sees the refusal before anything is sent.
        if (refused == (uint256(1) << count) - 1) {
            assembly ("memory-safe") {
                revert(add(firstReason, 32), mload(firstReason))
            }
        }
    }

    /// @inheritdoc ITransactionManager
    function reportItem(address reporter, ReportItem calldata item) external {
        if (msg.sender != address(this)) revert TxReportNotInternal(msg.sender);
        uint8 kind = item.kind;
        if (kind > uint8(ReportKind.ExpireSwap)) revert TxReportBadKind(kind);
        bytes32 id = item.id;
        bool isBegin = kind == uint8(ReportKind.Begin);
        // Every other entry point takes the id as its first word (SwapRequest is static, so
        // proposeSwap's is its swapId); begin's request is dynamic, so its id is checked by effect.
        if (isBegin) {
            if (_transactions[id].state != TxState.None) revert TxAlreadyExists(id);
        } else if (item.args.length < 32 || abi.decode(item.args, (bytes32)) != id) {
            revert TxReportIdMismatch(id);
        }
        // The entry point runs as if `reporter` called it (see `_sender`).
        (bool ok, bytes memory reason) =
            address(this).call(abi.encodePacked(_entryPoint(kind), item.args, reporter));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(reason, 32), mload(reason))
            }
        }
        if (isBegin && _transactions[id].state == TxState.None) revert TxReportIdMismatch(id);
        _supervision.appendReport(id, reporter, item.envelope);
    }

    /// @inheritdoc ITransactionManager
    function bindSupervision(address supervision_) external {
        if (msg.sender != _deployer) revert TxNotDeployer(msg.sender);
        if (address(_supervision) != address(0)) revert TxSupervisionAlreadyBound(address(_supervision));
        ISupervision sup = ISupervision(supervision_);
        if (sup.transactionManager() != address(this) || sup.registry() != address(_registry)) {
            revert TxSupervisionMismatch(supervision_);
        }
        _supervision = sup;
        emit SupervisionBound(supervision_);
    }

    // ================================================================ wiring

    /// @inheritdoc ITransactionManager
    function supervision() external view returns (address) {
        return address(_supervision);
    }

    /// @inheritdoc ITransactionManager
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc ITransactionManager
    function chainRegistry() external view returns (address) {
        return address(_chains);
    }

    /// @inheritdoc ITransactionManager
    function permissionManager() external view returns (address) {
        return address(_permissions);
    }

    /// @inheritdoc ITransactionManager
    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        // Computed per call so a chain-id change (fork) never accepts the other chain's signatures.
        return Signatures.domainSeparator(NAME_HASH, VERSION_HASH, block.chainid, address(this));
    }

    // ================================================================ internal

    /// @dev The account acting: the caller, or, when this contract calls its own entry point from
    /// `reportItem`, the reporting account it appended to the calldata. Nobody else can make this
    /// contract call itself, and `reportItem` calls only the entry points of `_entryPoint`.
    function _sender() private view returns (address sender) {
        sender = msg.sender;
        if (sender == address(this)) {
            assembly ("memory-safe") {
                sender := shr(96, calldataload(sub(calldatasize(), 20)))
            }
        }
    }

    /// @dev A relayer's report sent to its entry point directly carries no audit record, so it is
    /// refused while a regulator is active, exactly as `report` refuses an item without one: coverage
    /// is then a rule of the chain for every caller, not a habit of relayers. Runs last, after the
    /// entry point's own checks, so a bad report still fails with its specific error. Inside
    /// `report` the item's record is appended by `reportItem` instead. With Supervision not yet
    /// bound (mid-deployment) no regulator can read anything, and `report` itself is refused.
    function _refuseUnrecordedWhileSupervised(bytes32 id) private {
        if (msg.sender == address(this)) return;
        ISupervision sup = _supervision;
        if (address(sup) != address(0)) sup.appendReport(id, msg.sender, "");
    }

    function _entryPoint(uint8 kind) private pure returns (bytes4) {
        if (kind == uint8(ReportKind.Begin)) return this.begin.selector;
        if (kind == uint8(ReportKind.Vote)) return this.vote.selector;
        if (kind == uint8(ReportKind.Expire)) return this.expire.selector;
        if (kind == uint8(ReportKind.Ack)) return this.ack.selector;
        if (kind == uint8(ReportKind.ProposeSwap)) return this.proposeSwap.selector;
        if (kind == uint8(ReportKind.AcceptSwap)) return this.acceptSwap.selector;
        if (kind == uint8(ReportKind.LegLocked)) return this.recordLegLocked.selector;
        if (kind == uint8(ReportKind.LegUnlocked)) return this.recordLegUnlocked.selector;
        if (kind == uint8(ReportKind.LegRefunded)) return this.recordLegRefunded.selector;
        if (kind == uint8(ReportKind.LegVoid)) return this.recordLegVoid.selector;
        return this.expireSwap.selector;
    }

    function _requireUser(address account) private view returns (uint64 institution) {
        institution = _registry.activeInstitutionOf(account, IInstitutionRegistry.Role.User);
        if (institution == 0) revert TxNotUser(account);
    }

    function _requireTx(bytes32 txId) private view returns (Transaction storage t) {
        t = _transactions[txId];
        if (t.state == TxState.None) revert TxNotFound(txId);
    }

    function _requireServingStep(bytes32 txId, Transaction storage t, uint8 step)
        private
        view
        returns (uint16)
    {
        if (step >= t.stepCount) revert TxBadStep(txId, step);
        if (!_chains.isServingRelayerByKey(_steps[txId][step].chainKey, _sender())) {
            revert TxNotServingRelayer(txId, step, _sender());
        }
        return uint16(1) << step;
    }

    function _allSteps(uint8 count) private pure returns (uint16) {
        return uint16((uint256(1) << count) - 1);
    }

    function _checkLeg(Leg calldata leg, uint8 index) private view returns (bytes32) {
        uint8 bad = IPath.firstInvalid(leg.zone, leg.chain, leg.resource);
        if (bad < 3) revert SwapBadPath(index, bad);
        if (leg.amount == 0) revert SwapZeroAmount(index);
        if (leg.sender == address(0) || leg.recipient == address(0)) revert SwapZeroAddress(index);
        if (!_chains.isActiveChain(leg.zone, leg.chain)) {
            revert SwapChainNotActive(index, leg.zone, leg.chain);
        }
        return IPath.chainKey(leg.zone, leg.chain);
    }

    function _legHash(Leg calldata leg) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                LEG_TYPEHASH,
                leg.zone,
                leg.chain,
                leg.resource,
                leg.sender,
                leg.recipient,
                leg.amount,
                leg.timelock
            )
        );
    }

    function _requireSwap(bytes32 swapId) private view returns (Swap storage s) {
        s = _swaps[swapId];
        if (s.state == SwapState.None) revert SwapNotFound(swapId);
    }

    /// @dev Leg records are accepted only while the swap is accepted: it closes once both legs ended.
    function _requireLegUpdate(bytes32 swapId, uint8 leg, bytes calldata evidence)
        private
        view
        returns (Swap storage s)
    {
        s = _requireSwap(swapId);
        if (s.state != SwapState.Accepted) revert SwapNotInProgress(swapId, s.state);
        if (leg > 1) revert SwapBadLeg(leg);
        if (evidence.length > MAX_EVIDENCE_BYTES) revert SwapEvidenceTooLarge(evidence.length);
        bytes32 key = leg == 0 ? s.chainKeyA : s.chainKeyB;
        if (!_chains.isServingRelayerByKey(key, _sender())) {
            revert SwapNotServingRelayer(swapId, leg, _sender());
        }
    }

    function _closeIfSettled(bytes32 swapId, Swap storage s) private {
        if (!_ended(s.legA) || !_ended(s.legB)) return;
        s.state = SwapState.Closed;
        _closeOpenSwap(swapId, s);
        emit SwapClosed(swapId, s.legA, s.legB);
    }

    function _ended(LegState leg) private pure returns (bool) {
        return leg == LegState.Unlocked || leg == LegState.Refunded || leg == LegState.Void;
    }

    function _closeOpenSwap(bytes32 swapId, Swap storage s) private {
        bytes32 keyA = s.chainKeyA;
        bytes32 keyB = s.chainKeyB;
        _removeOpen(_openSwapIds[keyA], _openSwapPosition[keyA], swapId);
        _removeOpen(_openSwapIds[keyB], _openSwapPosition[keyB], swapId);
    }

    function _addOpen(bytes32[] storage list, mapping(bytes32 => uint256) storage position, bytes32 id)
        private
    {
        if (position[id] != 0) return; // several steps on one chain list the transaction once
        list.push(id);
        position[id] = list.length;
    }

    function _removeOpen(bytes32[] storage list, mapping(bytes32 => uint256) storage position, bytes32 id)
        private
    {
        uint256 pos = position[id];
        if (pos == 0) return;
        uint256 last = list.length;
        if (pos != last) {
            bytes32 moved = list[last - 1];
            list[pos - 1] = moved;
            position[moved] = pos;
        }
        list.pop();
        delete position[id];
    }

    function _page(bytes32[] storage list, uint256 offset, uint256 limit)
        private
        view
        returns (bytes32[] memory out)
    {
        uint256 length = list.length;
        if (limit > MAX_PAGE) limit = MAX_PAGE;
        if (offset >= length) return new bytes32[](0);
        uint256 end = offset + limit > length ? length : offset + limit;
        out = new bytes32[](end - offset);
        for (uint256 i = offset; i < end; ++i) {
            out[i - offset] = list[i];
        }
    }
}
