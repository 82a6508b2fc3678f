// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ITransactionManager} from "../../src/interfaces/ITransactionManager.sol";
import {ISupervision} from "../../src/interfaces/ISupervision.sol";
import {Vm} from "./Vm.sol";
import {Envelopes} from "./Envelopes.sol";

/// @notice How the fixtures make a relayer's report: as the relayers do once a regulator is active (a
/// one-item `report` carrying its audit record, since the entry point called directly is refused
/// then), and directly otherwise, so tests without regulators keep exercising the entry points.
library Reports {
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    /// Sends `callData` (an entry point call, selector first) about `id` as `relayer`; reverts with
    /// the entry point's (or Supervision's) error when it is refused.
    function send(ITransactionManager tm, address relayer, bytes32 id, bytes memory callData) internal {
        bytes memory data = wrap(tm, id, callData);
        vm.prank(relayer);
        (bool ok, bytes memory reason) = address(tm).call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(reason, 32), mload(reason))
            }
        }
    }

    /// What a relayer sends for `callData` about `id` now: a one-item `report` with a record for the
    /// active regulators, or the call itself while there are none.
    function wrap(ITransactionManager tm, bytes32 id, bytes memory callData)
        internal
        view
        returns (bytes memory)
    {
        address supervision = tm.supervision();
        if (supervision == address(0)) return callData;
        address[] memory active = ISupervision(supervision).regulators();
        if (active.length == 0) return callData;
        ITransactionManager.ReportItem[] memory items = new ITransactionManager.ReportItem[](1);
        bytes32 salt = keccak256(callData);
        items[0] = ITransactionManager.ReportItem({
            kind: kindOf(bytes4(callData)),
            id: id,
            args: _args(callData),
            envelope: Envelopes.build(active, 16 + uint256(salt) % 64, salt)
        });
        return abi.encodeCall(tm.report, (items));
    }

    /// The report kind of an entry point, by its selector (listed in `ReportKind` order).
    function kindOf(bytes4 selector) internal pure returns (uint8) {
        bytes4[11] memory entryPoints = [
            ITransactionManager.begin.selector,
            ITransactionManager.vote.selector,
            ITransactionManager.expire.selector,
            ITransactionManager.ack.selector,
            ITransactionManager.proposeSwap.selector,
            ITransactionManager.acceptSwap.selector,
            ITransactionManager.recordLegLocked.selector,
            ITransactionManager.recordLegUnlocked.selector,
            ITransactionManager.recordLegRefunded.selector,
            ITransactionManager.recordLegVoid.selector,
            ITransactionManager.expireSwap.selector
        ];
        for (uint256 i; i < entryPoints.length; ++i) {
            if (entryPoints[i] == selector) return uint8(i);
        }
        revert("Reports: not an entry point");
    }

    /// The call's arguments without its selector.
    function _args(bytes memory callData) private pure returns (bytes memory args) {
        args = new bytes(callData.length - 4);
        for (uint256 i; i < args.length; ++i) {
            args[i] = callData[i + 4];
        }
    }
}
