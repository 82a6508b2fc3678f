// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "./utils/Test.sol";
import {InstitutionHandler} from "./handlers/InstitutionHandler.sol";
import {InstitutionRegistry} from "../src/governance/InstitutionRegistry.sol";
import {IInstitutionRegistry} from "../src/interfaces/IInstitutionRegistry.sol";

contract InstitutionRegistryInvariantTest is Test {
    InstitutionHandler internal handler;
    InstitutionRegistry internal reg;

    function setUp() public {
        vm.warp(1_700_000_000);
        handler = new InstitutionHandler();
        reg = handler.reg();

        bytes4[] memory selectors = new bytes4[](8);
        selectors[0] = InstitutionHandler.propose.selector;
        selectors[1] = InstitutionHandler.vote.selector;
        selectors[2] = InstitutionHandler.rally.selector;
        selectors[3] = InstitutionHandler.withdraw.selector;
        selectors[4] = InstitutionHandler.execute.selector;
        selectors[5] = InstitutionHandler.warp.selector;
        selectors[6] = InstitutionHandler.addAccount.selector;
        selectors[7] = InstitutionHandler.removeAccount.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// Every executed proposal had at least the required approvals, the required count is at least the
    /// threshold fraction of the snapshotted electorate (and the least such count), and no more approvals
    /// than electors.
    function invariant_executedProposalsMetThreshold() public view {
        uint256 n = handler.executedCount();
        for (uint256 k; k < n; ++k) {
            InstitutionHandler.ExecutedRecord memory r = handler.executedAt(k);
            InstitutionHandler.Ghost memory g = handler.ghost(r.proposalId);
            IInstitutionRegistry.Proposal memory p = reg.proposal(r.proposalId);

            assertGe(r.approvals, r.required, "approvals >= required");
            assertGe(uint256(r.required) * r.den, uint256(r.electorate) * r.num, "required >= fraction");
            assertLt(uint256(r.required - 1) * r.den, uint256(r.electorate) * r.num, "required is the least");
            assertLe(r.approvals, r.electorate, "approvals <= electorate");
            // The registry's snapshot agrees with what the handler counted independently.
            assertEq(uint256(r.electorate), g.electorate, "electorate = active set at creation");
            assertEq(uint256(r.approvals), g.approvals, "approvals = successful yes votes");
            assertEq(
                uint256(p.state), uint256(IInstitutionRegistry.ProposalState.Executed), "stored Executed"
            );
        }
    }

    /// Per proposal: the votes come from institutions of the snapshotted electorate, one each (never from
    /// the institution a suspension or expulsion targets), and the stored counters and state are
    /// consistent with them.
    function invariant_votesComeFromSnapshottedElectorate() public view {
        uint256 count = reg.proposalCount();
        for (uint256 id = 1; id <= count; ++id) {
            InstitutionHandler.Ghost memory g = handler.ghost(id);
            IInstitutionRegistry.Proposal memory p = reg.proposal(id);
            assertEq(g.voterMask & ~g.electorateMask, 0, "voter outside the electorate");
            assertEq(_popcount(g.voterMask), uint256(p.approvals) + p.rejections, "one vote per institution");
            assertEq(uint256(p.approvals), g.approvals, "approvals");
            assertEq(uint256(p.rejections), g.rejections, "rejections");
            assertEq(uint256(p.electorate), g.electorate, "electorate");
            assertEq(uint256(p.excluded), g.excluded, "excluded");
            if (p.excluded != 0 && p.excluded < 256) {
                assertEq((g.voterMask >> p.excluded) & 1, 0, "the target voted");
            }
            assertLe(uint256(p.approvals) + p.rejections, p.electorate, "votes <= electorate");
            assertLe(p.approvals, p.required, "approvals stop at required");
            IInstitutionRegistry.ProposalState s = p.state;
            if (
                s == IInstitutionRegistry.ProposalState.Passed
                    || s == IInstitutionRegistry.ProposalState.Executed
            ) {
                assertEq(uint256(p.approvals), p.required, "passed exactly at required");
            } else if (s == IInstitutionRegistry.ProposalState.Rejected) {
                assertLt(uint256(p.electorate) - p.rejections, p.required, "rejected only when unpassable");
            } else if (s == IInstitutionRegistry.ProposalState.Pending) {
                assertLt(p.approvals, p.required, "pending below required");
                assertGe(uint256(p.electorate) - p.rejections, p.required, "pending still passable");
            }
            for (uint64 i = 1; i < 256 && i <= reg.institutionCount(); ++i) {
                assertEq(reg.hasVoted(id, i), (g.voterMask >> i) & 1 == 1, "hasVoted matches");
            }
        }
    }

    /// With any threshold in force and any target left out, a proposal needs a strict majority of its
    /// electorate and no more than the electorate: two disjoint coalitions can never both pass, and
    /// every proposal can pass without its target.
    function invariant_requiredIsAReachableStrictMajority() public view {
        uint256 count = reg.proposalCount();
        for (uint256 id = 1; id <= count; ++id) {
            IInstitutionRegistry.Proposal memory p = reg.proposal(id);
            assertGe(p.electorate, 1, "an electorate");
            assertGt(uint256(p.required) * 2, p.electorate, "required > electorate / 2");
            assertLe(p.required, p.electorate, "required <= electorate");
        }
        assertEq(handler.ghostExcludedVoteSuccesses(), 0, "a target voted on its own case");
        (uint16 num, uint16 den) = reg.threshold();
        assertGt(uint256(num) * 2, den, "threshold above one half");
        assertLe(num, den, "threshold at most one");
    }

    /// The bootstrap already follows the rule: founder 6's expulsion passed among the six others at
    /// "at least 2/3" (four of six), without founder 6.
    function test_handler_bootstrapLeftTheTargetOut() public view {
        assertEq(handler.ghostExcludedVoteSuccesses(), 0, "no vote of a target");
        IInstitutionRegistry.Proposal memory p = reg.proposal(1);
        assertEq(uint256(p.excluded), 6, "excluded");
        assertEq(uint256(p.electorate), 6, "electorate");
        assertEq(uint256(p.required), 4, "required");
        assertFalse(reg.hasVoted(1, 6), "no vote of the target");
    }

    /// An expelled institution never changes state: none of its accounts' calls succeeded or changed any
    /// registry state, and it stays Expelled.
    function invariant_expelledInstitutionsAreFrozen() public view {
        assertEq(handler.ghostExpelledCallSuccesses(), 0, "a call by an expelled institution succeeded");
        assertEq(handler.ghostExpelledStateChanges(), 0, "a call by an expelled institution changed state");
        uint64 count = reg.institutionCount();
        for (uint64 i = 1; i <= count; ++i) {
            bool expelled = reg.institution(i).status == IInstitutionRegistry.InstitutionStatus.Expelled;
            assertEq(expelled, handler.ghostExpelled(i), "expelled exactly when an expulsion was executed");
        }
    }

    /// activeCount equals the number of Active institutions and never drops to 0; the active ones, and only
    /// they, carry a membership epoch, which is not in the future.
    function invariant_activeCountMatchesStatuses() public view {
        uint64 count = reg.institutionCount();
        uint32 epoch = reg.epoch();
        uint256 active;
        for (uint64 i = 1; i <= count; ++i) {
            IInstitutionRegistry.Institution memory inst = reg.institution(i);
            if (inst.status == IInstitutionRegistry.InstitutionStatus.Active) {
                active += 1;
                assertGt(inst.activeSinceEpoch, 0, "active has an epoch");
                assertLe(inst.activeSinceEpoch, epoch, "epoch not in the future");
            } else {
                assertEq(uint256(inst.activeSinceEpoch), 0, "inactive has no epoch");
            }
        }
        assertEq(uint256(reg.activeCount()), active, "activeCount");
        assertGe(reg.activeCount(), 1, "at least one active");
        assertEq(uint256(reg.institution(count + 1).status), 0, "no institution past the count");
    }

    /// Accounts: the registry's membership agrees with the handler's book, and every institution keeps at
    /// least one admin.
    function invariant_accountsMatchBook() public view {
        uint64 count = reg.institutionCount();
        for (uint64 i = 1; i <= count; ++i) {
            (address[] memory admins, address[] memory relayers, address[] memory users) =
                handler.accountsOf(i);
            assertGe(admins.length, 1, "an admin remains");
            assertEq(uint256(reg.institution(i).adminCount), admins.length, "adminCount");
            _checkAccounts(i, admins, IInstitutionRegistry.Role.Admin);
            _checkAccounts(i, relayers, IInstitutionRegistry.Role.Relayer);
            _checkAccounts(i, users, IInstitutionRegistry.Role.User);
        }
    }

    function _checkAccounts(uint64 id, address[] memory accounts, IInstitutionRegistry.Role role)
        internal
        view
    {
        for (uint256 k; k < accounts.length; ++k) {
            (uint64 owner, IInstitutionRegistry.Role actual) = reg.accountOf(accounts[k]);
            assertEq(uint256(owner), id, "account owner");
            assertEq(uint256(actual), uint256(role), "account role");
        }
    }

    function _popcount(uint256 x) internal pure returns (uint256 n) {
        for (; x != 0; x &= x - 1) {
            ++n;
        }
    }
}
