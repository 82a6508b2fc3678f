// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Vm} from "./utils/Vm.sol";
import {GovernanceFixture} from "./ChainRegistry.t.sol";
import {InstitutionRegistry} from "../src/governance/InstitutionRegistry.sol";
import {ChainRegistry} from "../src/governance/ChainRegistry.sol";
import {PermissionManager} from "../src/governance/PermissionManager.sol";
import {IInstitutionRegistry} from "../src/interfaces/IInstitutionRegistry.sol";
import {IChainRegistry} from "../src/interfaces/IChainRegistry.sol";
import {ResourceOps} from "../src/libraries/ResourceOps.sol";

/// @notice Drives PermissionManager with random grants and revocations by random callers (owner admins,
/// other admins, a user, governance) over a small universe of look-alike paths, and keeps a ghost mirror
/// of every grant together with an independent model of who may change what.
contract PermissionHandler {
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    bytes32 internal constant W = "*";

    InstitutionRegistry internal immutable registry;
    ChainRegistry internal immutable chains;
    PermissionManager internal immutable perms;

    /// Look-alikes: `c1x` extends `c1`, `rr` extends `r`.
    bytes32[2] internal zones = [bytes32("za"), bytes32("zb")];
    bytes32[2] internal chainNames = [bytes32("c1"), bytes32("c1x")];
    bytes32[2] internal resources = [bytes32("r"), bytes32("rr")];

    address[] internal accounts;
    uint64[] internal insts;
    address[] internal callers;
    address internal immutable userA;
    address internal immutable adminA;
    address internal immutable adminB;

    mapping(address account => mapping(uint256 pattern => uint8 ops)) public ghostAccount;
    mapping(uint64 institutionId => mapping(uint256 pattern => uint8 ops)) public ghostInst;

    uint256 public violations;
    string public lastViolation;
    uint256 public changes;
    uint256 public refusals;
    /// Handler calls so far (the invariant checks a different slice of the universe after each).
    uint256 public steps;

    modifier step() {
        ++steps;
        _;
    }

    constructor(
        InstitutionRegistry registry_,
        ChainRegistry chains_,
        PermissionManager perms_,
        address[] memory accounts_,
        uint64[] memory insts_,
        address[] memory callers_,
        address userA_,
        address adminA_,
        address adminB_
    ) {
        registry = registry_;
        chains = chains_;
        perms = perms_;
        accounts = accounts_;
        insts = insts_;
        callers = callers_;
        userA = userA_;
        adminA = adminA_;
        adminB = adminB_;
    }

    // ---------------------------------------------------------------- the pattern universe

    uint256 public constant PATTERNS = 15;

    /// @dev 0-7 exact paths (zone, chain, resource index bits), 8-11 `zone.chain.*`, 12-13 `zone.*.*`, 14 `*.*.*`.
    function pattern(uint256 i) public view returns (bytes32[3] memory p) {
        if (i < 8) return [zones[i >> 2], chainNames[(i >> 1) & 1], resources[i & 1]];
        if (i < 12) return [zones[(i - 8) >> 1], chainNames[(i - 8) & 1], W];
        if (i < 14) return [zones[i - 12], W, W];
        return [W, W, W];
    }

    /// @dev The four patterns covering the concrete path with indices (zi, ci, ri), found structurally.
    function covering(uint256 zi, uint256 ci, uint256 ri) public pure returns (uint256[4] memory) {
        return [zi * 4 + ci * 2 + ri, 8 + zi * 2 + ci, 12 + zi, uint256(14)];
    }

    function path(uint256 zi, uint256 ci, uint256 ri) public view returns (bytes32, bytes32, bytes32) {
        return (zones[zi], chainNames[ci], resources[ri]);
    }

    // ---------------------------------------------------------------- reference model

    /// @notice Who may change a grant on pattern `p`: governance on anything; otherwise only an admin of
    /// the active owner of the active chain the pattern names.
    function mayChange(address caller, bytes32[3] memory p) public view returns (bool) {
        if (caller == address(registry)) return true;
        if (p[1] == W) return false;
        IChainRegistry.Chain memory c = chains.chainOf(p[0], p[1]);
        if (c.status != IChainRegistry.ChainStatus.Active) return false;
        return
            c.owner != 0 && registry.activeInstitutionOf(caller, IInstitutionRegistry.Role.Admin) == c.owner;
    }

    function _knownAccount(address account) internal view returns (bool) {
        (uint64 id,) = registry.accountOf(account);
        return id != 0 && registry.institution(id).status != IInstitutionRegistry.InstitutionStatus.Expelled;
    }

    function _knownInstitution(uint64 id) internal view returns (bool) {
        IInstitutionRegistry.InstitutionStatus s = registry.institution(id).status;
        return s != IInstitutionRegistry.InstitutionStatus.None
            && s != IInstitutionRegistry.InstitutionStatus.Expelled;
    }

    /// @notice The ghost mirror in one read: [subject][pattern] bits, accounts then institutions.
    function ghost() external view returns (uint8[15][] memory acc, uint8[15][] memory inst) {
        acc = new uint8[15][](accounts.length);
        inst = new uint8[15][](insts.length);
        for (uint256 pi; pi < PATTERNS; ++pi) {
            for (uint256 a; a < accounts.length; ++a) {
                acc[a][pi] = ghostAccount[accounts[a]][pi];
            }
            for (uint256 i; i < insts.length; ++i) {
                inst[i][pi] = ghostInst[insts[i]][pi];
            }
        }
    }

    /// @notice The bits check() (per account) and checkInstitution() (per institution) must grant on every
    /// concrete path q = zi << 2 | ci << 1 | ri of the universe, recomputed from the ghost mirror and the
    /// registries' membership and status.
    function referenceOps() external view returns (uint8[8][] memory acc, uint8[8][] memory inst) {
        acc = new uint8[8][](accounts.length);
        inst = new uint8[8][](insts.length);
        bool[4] memory chainActive;
        for (uint256 k; k < 4; ++k) {
            chainActive[k] = chains.isActiveChain(zones[k >> 1], chainNames[k & 1]);
        }
        for (uint256 a; a < accounts.length; ++a) {
            (uint64 id,) = registry.accountOf(accounts[a]);
            if (!registry.isActive(id)) continue;
            for (uint256 q; q < 8; ++q) {
                if (!chainActive[q >> 1]) continue;
                uint256[4] memory cover = covering(q >> 2, (q >> 1) & 1, q & 1);
                for (uint256 k; k < 4; ++k) {
                    acc[a][q] |= ghostAccount[accounts[a]][cover[k]] | ghostInst[id][cover[k]];
                }
            }
        }
        for (uint256 i; i < insts.length; ++i) {
            if (!registry.isActive(insts[i])) continue;
            for (uint256 q; q < 8; ++q) {
                if (!chainActive[q >> 1]) continue;
                uint256[4] memory cover = covering(q >> 2, (q >> 1) & 1, q & 1);
                for (uint256 k; k < 4; ++k) {
                    inst[i][q] |= ghostInst[insts[i]][cover[k]];
                }
            }
        }
    }

    // ---------------------------------------------------------------- actions

    function grantToAccount(uint256 callerSeed, uint256 subjectSeed, uint256 patternSeed, uint8 rawOps)
        external
        step
    {
        _mutate(0, callerSeed, subjectSeed, patternSeed, rawOps);
    }

    function revokeFromAccount(uint256 callerSeed, uint256 subjectSeed, uint256 patternSeed, uint8 rawOps)
        external
        step
    {
        _mutate(1, callerSeed, subjectSeed, patternSeed, rawOps);
    }

    function grantToInstitution(uint256 callerSeed, uint256 subjectSeed, uint256 patternSeed, uint8 rawOps)
        external
        step
    {
        _mutate(2, callerSeed, subjectSeed, patternSeed, rawOps);
    }

    function revokeFromInstitution(uint256 callerSeed, uint256 subjectSeed, uint256 patternSeed, uint8 rawOps)
        external
        step
    {
        _mutate(3, callerSeed, subjectSeed, patternSeed, rawOps);
    }

    /// @notice Reinstates a suspended institution, or now and then suspends an active one (as governance).
    function toggleInstitution(uint256 seed) external step {
        uint64 id = uint64(1 + (seed % 3));
        bool active = registry.isActive(id);
        if (active && (seed >> 8) % 3 != 0) return;
        vm.prank(address(registry));
        if (active) {
            try registry.suspendInstitution(id) {} catch {}
        } else {
            try registry.reinstateInstitution(id) {} catch {}
        }
    }

    /// @notice Moves USER_A out of its institution, or (back) into A or B.
    function moveUser(uint256 seed) external step {
        (uint64 id,) = registry.accountOf(userA);
        if (id != 0) {
            address admin = id == 1 ? adminA : adminB;
            vm.prank(admin);
            try registry.removeAccount(userA) {} catch {}
        } else {
            vm.prank(seed % 2 == 0 ? adminA : adminB);
            try registry.addAccount(userA, IInstitutionRegistry.Role.User) {} catch {}
        }
    }

    /// @notice Now and then retires `za.c1x` (once; later calls fail and change nothing).
    function retireLookalike(uint256 seed) external step {
        if (seed % 8 != 0) return;
        vm.prank(address(registry));
        try chains.retireChain(zones[0], chainNames[1]) {} catch {}
    }

    function _violation(string memory what) internal {
        ++violations;
        lastViolation = what;
    }

    /// @dev One in eight calls keeps the raw bits (usually invalid); the others use a non-empty subset
    /// of the three bits the invariant checks (GET, SET, HTLC).
    function _ops(uint8 raw) internal pure returns (uint8) {
        if (raw % 8 == 0) return raw;
        uint8 subset = uint8(1 + ((raw >> 3) % 7));
        uint8 ops;
        if (subset & 1 != 0) ops |= ResourceOps.GET_DATA;
        if (subset & 2 != 0) ops |= ResourceOps.SET_DATA;
        if (subset & 4 != 0) ops |= ResourceOps.HTLC;
        return ops;
    }

    struct Slot {
        uint256 subject;
        uint256 pi;
    }

    Slot[] internal _filledAccountSlots;
    Slot[] internal _filledInstSlots;

    struct Call {
        uint8 kind;
        address caller;
        uint256 pi;
        uint8 ops;
        address account;
        uint64 inst;
    }

    function _mutate(uint8 kind, uint256 callerSeed, uint256 subjectSeed, uint256 patternSeed, uint8 rawOps)
        internal
    {
        Call memory c = Call({
            kind: kind,
            caller: callers[callerSeed % callers.length],
            pi: patternSeed % PATTERNS,
            ops: _ops(rawOps),
            account: accounts[subjectSeed % accounts.length],
            inst: insts[subjectSeed % insts.length]
        });
        bool isAccount = kind < 2;
        bool isGrant = kind % 2 == 0;
        // Most revocations aim at a slot some grant filled, or they would almost never find bits to take.
        Slot[] storage filled = isAccount ? _filledAccountSlots : _filledInstSlots;
        if (!isGrant && filled.length != 0 && (patternSeed >> 128) % 4 != 0) {
            Slot memory slot = filled[(subjectSeed >> 128) % filled.length];
            c.pi = slot.pi;
            c.account = accounts[slot.subject];
            c.inst = insts[slot.subject];
        }

        // The model's verdict, computed before the call.
        bool allowed = mayChange(c.caller, pattern(c.pi));
        uint8 current = isAccount ? ghostAccount[c.account][c.pi] : ghostInst[c.inst][c.pi];
        bool subjectOk = !isGrant || (isAccount ? _knownAccount(c.account) : _knownInstitution(c.inst));
        bool expectOk = allowed && ResourceOps.isSet(c.ops) && subjectOk && (isGrant || current & c.ops != 0);

        if (!_invoke(c)) {
            ++refusals;
            if (expectOk) _violation("a permitted call was refused");
            return;
        }
        ++changes;
        if (!allowed) {
            _violation("a grant changed through a caller that is neither the owner's admin nor governance");
        }
        if (!expectOk) _violation("an invalid call succeeded");
        uint8 next = isGrant ? current | c.ops : current & ~c.ops;
        if (isAccount) ghostAccount[c.account][c.pi] = next;
        else ghostInst[c.inst][c.pi] = next;
        if (isGrant && current == 0) {
            filled.push(Slot(isAccount ? subjectSeed % accounts.length : subjectSeed % insts.length, c.pi));
        }
    }

    function _invoke(Call memory c) internal returns (bool ok) {
        bytes32[3] memory p = pattern(c.pi);
        vm.prank(c.caller);
        if (c.kind == 0) {
            try perms.grantToAccount(c.account, p[0], p[1], p[2], c.ops) {
                ok = true;
            } catch {}
        } else if (c.kind == 1) {
            try perms.revokeFromAccount(c.account, p[0], p[1], p[2], c.ops) {
                ok = true;
            } catch {}
        } else if (c.kind == 2) {
            try perms.grantToInstitution(c.inst, p[0], p[1], p[2], c.ops) {
                ok = true;
            } catch {}
        } else {
            try perms.revokeFromInstitution(c.inst, p[0], p[1], p[2], c.ops) {
                ok = true;
            } catch {}
        }
    }
}

contract PermissionManagerInvariantTest is GovernanceFixture {
    PermissionHandler internal handler;
    address[] internal _accounts;
    uint64[] internal _insts;

    function setUp() public override {
        super.setUp();
        // za.c1 (A), za.c1x (B), zb.c1 (A); zb.c1x is never admitted.
        _admitChain("za", "c1", 11, INST_A);
        _admitChain("za", "c1x", 12, INST_B);
        _admitChain("zb", "c1", 13, INST_A);

        address[] memory accounts = new address[](5);
        accounts[0] = USER_A;
        accounts[1] = USER_B;
        accounts[2] = RELAYER_A;
        accounts[3] = ADMIN_C;
        accounts[4] = OUTSIDER;
        uint64[] memory insts = new uint64[](4);
        insts[0] = INST_A;
        insts[1] = INST_B;
        insts[2] = INST_C;
        insts[3] = NO_INST;
        // Owner admins and governance are drawn more often, so that a fair share of calls succeeds.
        address[] memory callers = new address[](8);
        callers[0] = ADMIN_A;
        callers[1] = ADMIN_A2;
        callers[2] = ADMIN_B;
        callers[3] = ADMIN_C;
        callers[4] = USER_A;
        callers[5] = address(registry);
        callers[6] = address(registry);
        callers[7] = ADMIN_B;
        _accounts = accounts;
        _insts = insts;
        handler = new PermissionHandler(
            registry, chains, perms, accounts, insts, callers, USER_A, ADMIN_A, ADMIN_B
        );
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](7);
        selectors[0] = PermissionHandler.grantToAccount.selector;
        selectors[1] = PermissionHandler.revokeFromAccount.selector;
        selectors[2] = PermissionHandler.grantToInstitution.selector;
        selectors[3] = PermissionHandler.revokeFromInstitution.selector;
        selectors[4] = PermissionHandler.toggleInstitution.selector;
        selectors[5] = PermissionHandler.moveUser.selector;
        selectors[6] = PermissionHandler.retireLookalike.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice One campaign, three properties: (1) every accepted grant or revocation came from an admin of
    /// the chain's active owner or from governance, and the contract accepted exactly what the model
    /// allows; (2) no grant slot differs from the ghost mirror, so nothing changed any other way; (3)
    /// check() and checkInstitution() agree with a recomputation from the mirror. After each call, (2)
    /// and (3) are checked on a rotating slice of the universe (one pattern, one path); at the end of
    /// each run, on all of it.
    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 50
    function invariant_grantsFollowModel() public view {
        assertEq(handler.violations(), 0, handler.lastViolation());
        uint256 slice = handler.steps();
        _assertStorageEqualsGhost(slice % 15, slice % 15 + 1);
        _assertChecksEqualReference(slice % 8, slice % 8 + 1);
    }

    function afterInvariant() public view {
        assertEq(handler.violations(), 0, handler.lastViolation());
        _assertStorageEqualsGhost(0, 15);
        _assertChecksEqualReference(0, 8);
    }

    function _assertStorageEqualsGhost(uint256 from, uint256 to) internal view {
        (uint8[15][] memory acc, uint8[15][] memory inst) = handler.ghost();
        for (uint256 pi = from; pi < to; ++pi) {
            bytes32[3] memory p = handler.pattern(pi);
            for (uint256 a; a < acc.length; ++a) {
                assertEq(perms.accountOps(_accounts[a], p[0], p[1], p[2]), acc[a][pi], "account slot");
            }
            for (uint256 i; i < inst.length; ++i) {
                assertEq(perms.institutionOps(_insts[i], p[0], p[1], p[2]), inst[i][pi], "institution slot");
            }
        }
    }

    function _assertChecksEqualReference(uint256 from, uint256 to) internal view {
        (uint8[8][] memory acc, uint8[8][] memory inst) = handler.referenceOps();
        uint8[3] memory ops = [GET, SET, HTLC];
        for (uint256 q = from; q < to; ++q) {
            bytes32[3] memory p = handler.pattern(q);
            for (uint256 o; o < 3; ++o) {
                for (uint256 a; a < acc.length; ++a) {
                    assertEq(
                        perms.check(_accounts[a], p[0], p[1], p[2], ops[o]), acc[a][q] & ops[o] != 0, "check"
                    );
                }
                for (uint256 i; i < inst.length; ++i) {
                    assertEq(
                        perms.checkInstitution(_insts[i], p[0], p[1], p[2], ops[o]),
                        inst[i][q] & ops[o] != 0,
                        "checkInstitution"
                    );
                }
            }
        }
    }
}
