//! End to end on a real anvil: institution admission by vote, chain admission, accounts and
//! serving relayers, permission grants and checks, and expulsion.

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::sol_types::SolCall;

use crossgov_deploy::Deployment;
use crossgov_deploy::genesis::DEFAULT_THRESHOLD;
use crossgov_relayer::bindings::{
    ChainRegistry, ChainStatus, InstitutionRegistry, InstitutionStatus, PermissionManager,
    ProposalState, Role, SubjectKind,
};
use crossgov_relayer::{ContractRevert, IPath, Ops, Pattern, Segment};

use crate::harness::{DEPLOYER, TestNet, events, expect_revert, seg, send};

use ChainRegistry::ChainRegistryErrors as ChainErr;
use InstitutionRegistry::InstitutionRegistryErrors as InstErr;
use PermissionManager::PermissionManagerErrors as PermErr;

// Dev keys and their roles (institution ids in parentheses).
const ADMIN1: usize = 0; // founder (1)
const ADMIN2: usize = 1; // founder (2)
const ADMIN3: usize = 2; // founder (3)
const ADMIN4: usize = 3; // "Fourth Bank" (4), admitted by vote, later expelled
const RELAYER1: usize = 4; // relayer of (1)
const USER1: usize = 5; // user of (1), granted SEND_TX on zoneA.chainA.*
const USER1B: usize = 6; // another user of (1), granted nothing
const RELAYER4: usize = 7; // relayer of (4)
const ANYONE: usize = 8; // unregistered account: executes proposals

fn path(s: &str) -> IPath {
    s.parse().expect("valid iPath")
}

/// `check(account, path, op)` on the PermissionManager.
async fn check(net: &TestNet, account: Address, at: &str, op: Ops) -> bool {
    let (zone, chain, resource) = path(at).to_words();
    net.permissions(DEPLOYER)
        .check(account, zone, chain, resource, op.bits())
        .call()
        .await
        .expect("check")
}

async fn account_ops(net: &TestNet, account: Address, pattern: &Pattern) -> Ops {
    let (zone, chain, resource) = pattern.to_words();
    let bits = net
        .permissions(DEPLOYER)
        .accountOps(account, zone, chain, resource)
        .call()
        .await
        .expect("accountOps");
    Ops::from_bits(bits).expect("defined bits")
}

async fn is_serving(net: &TestNet, zone: &str, chain: &str, relayer: Address) -> bool {
    net.chains(DEPLOYER)
        .isServingRelayer(seg(zone).to_word(), seg(chain).to_word(), relayer)
        .call()
        .await
        .expect("isServingRelayer")
}

async fn active_count(net: &TestNet) -> u16 {
    net.registry(DEPLOYER).activeCount().call().await.expect("activeCount")
}

async fn proposal_state(net: &TestNet, id: U256) -> ProposalState {
    let raw = net.registry(DEPLOYER).proposalState(id).call().await.expect("proposalState");
    ProposalState::try_from(raw).expect("known state")
}

/// Proposes, has `voters` approve (asserting the proposal passes exactly with the last vote),
/// and executes it from an unregistered account with the calldata recovered from chain.
async fn pass<C: SolCall>(
    net: &TestNet,
    proposer: usize,
    target: Address,
    call: &C,
    description: &str,
    voters: &[usize],
) -> alloy::rpc::types::TransactionReceipt {
    let created = net.propose(proposer, target, call, description).await;
    let electorate = active_count(net).await;
    assert_eq!(created.electorate, electorate, "{description}: electorate snapshot");
    assert_eq!(created.required, DEFAULT_THRESHOLD.required(electorate), "{description}");
    assert_eq!(usize::from(created.required), voters.len(), "{description}: voters given");
    let id = created.proposalId;
    let registry = *net.registry(DEPLOYER).address();
    for (i, &voter) in voters.iter().enumerate() {
        let (cast, receipt) = net.vote(voter, id, true).await;
        assert_eq!(usize::from(cast.approvals), i + 1);
        let passed = events::<InstitutionRegistry::ProposalPassed>(&receipt, registry);
        if i + 1 < voters.len() {
            assert!(passed.is_empty(), "{description}: passed early");
            assert_eq!(proposal_state(net, id).await, ProposalState::Pending);
        } else {
            assert_eq!(passed.len(), 1, "{description}: passes with the last required vote");
            assert_eq!(proposal_state(net, id).await, ProposalState::Passed);
        }
    }
    let receipt = net.execute(ANYONE, id).await;
    assert_eq!(proposal_state(net, id).await, ProposalState::Executed, "{description}");
    receipt
}

#[tokio::test]
async fn governance_end_to_end() {
    let net = TestNet::start(&[("Bank A", ADMIN1), ("Bank B", ADMIN2), ("Bank C", ADMIN3)]).await;
    let d: &Deployment = &net.deployment;
    let registry_addr = d.institution_registry.address;
    let chains_addr = d.chain_registry.address;
    let perms_addr = d.permission_manager.address;

    // ---- 0. The deployment manifest describes what is on chain.
    assert_eq!(d.chain_id, net.anvil.chain_id());
    assert!(d.institution_registry.block < d.chain_registry.block);
    assert!(d.chain_registry.block < d.permission_manager.block);
    assert_eq!(
        d.institution_registry.deployed_bytecode_hash,
        keccak256(&InstitutionRegistry::DEPLOYED_BYTECODE)
    );
    let manifest = std::env::temp_dir().join(format!("crossgov-it-{}.json", std::process::id()));
    d.write_manifest(&manifest).expect("write manifest");
    assert_eq!(&Deployment::read_manifest(&manifest).expect("read manifest"), d);
    std::fs::remove_file(&manifest).expect("remove manifest");

    // ---- 1. Three founding institutions.
    let reg = net.registry(DEPLOYER);
    assert_eq!(reg.institutionCount().call().await.expect("institutionCount"), 3);
    assert_eq!(active_count(&net).await, 3);
    for (id, name, admin) in
        [(1u64, "Bank A", ADMIN1), (2, "Bank B", ADMIN2), (3, "Bank C", ADMIN3)]
    {
        let inst = reg.institution(id).call().await.expect("institution");
        assert_eq!(inst.name, name);
        assert_eq!(inst.certHash, keccak256(name));
        assert_eq!(InstitutionStatus::try_from(inst.status), Ok(InstitutionStatus::Active));
        let of = reg.accountOf(net.address(admin)).call().await.expect("accountOf");
        assert_eq!((of.institutionId, Role::try_from(of.role)), (id, Ok(Role::Admin)));
    }

    // ---- 2. Admit "Fourth Bank" by a 2-of-3 vote (at least 2/3), executed by an unregistered
    // account.
    let cert4 = keccak256("Fourth Bank certificate");
    let admit4 = InstitutionRegistry::admitInstitutionCall {
        name: "Fourth Bank".into(),
        certHash: cert4,
        admin: net.address(ADMIN4),
    };
    let created = net.propose(ADMIN1, registry_addr, &admit4, "admit Fourth Bank").await;
    assert_eq!((created.proposer, created.electorate, created.required), (1, 3, 2));
    let id = created.proposalId;
    // What a relayer or the CLI sees: the calldata, recovered from the log, decodes to the call.
    let data = net.proposal_data_from_chain(id).await;
    let decoded = InstitutionRegistry::admitInstitutionCall::abi_decode(&data).expect("decode");
    assert_eq!(decoded, admit4);
    let (cast, _) = net.vote(ADMIN1, id, true).await;
    assert_eq!(cast.approvals, 1);
    assert_eq!(proposal_state(&net, id).await, ProposalState::Pending);
    // Not passed yet: executing is refused, with the state named in the error.
    let refused =
        expect_revert("early execute", net.registry(ANYONE).execute(id, data.clone())).await;
    assert_eq!(
        refused,
        ContractRevert::InstitutionRegistry(InstErr::ProposalNotPassed(
            InstitutionRegistry::ProposalNotPassed {
                proposalId: id,
                state: ProposalState::Pending.into()
            }
        ))
    );
    assert_eq!(refused.to_string(), format!("ProposalNotPassed({id}, Pending)"));
    // Double votes are refused.
    let again = expect_revert("double vote", net.registry(ADMIN1).vote(id, true)).await;
    assert!(matches!(
        again,
        ContractRevert::InstitutionRegistry(InstErr::ProposalAlreadyVoted(ref e))
            if e.proposalId == id && e.institutionId == 1
    ));
    let (cast, receipt) = net.vote(ADMIN2, id, true).await;
    assert_eq!((cast.approvals, cast.rejections), (2, 0));
    assert_eq!(events::<InstitutionRegistry::ProposalPassed>(&receipt, registry_addr).len(), 1);
    assert_eq!(proposal_state(&net, id).await, ProposalState::Passed);
    // Voting is over once it passed.
    let late = expect_revert("late vote", net.registry(ADMIN3).vote(id, true)).await;
    assert!(matches!(
        late,
        ContractRevert::InstitutionRegistry(InstErr::ProposalNotPending(ref e)) if e.proposalId == id
    ));
    let receipt = net.execute(ANYONE, id).await;
    let [admitted] = events::<InstitutionRegistry::InstitutionAdmitted>(&receipt, registry_addr)
        .try_into()
        .expect("one InstitutionAdmitted");
    assert_eq!(admitted.institutionId, 4);
    assert_eq!(admitted.name, "Fourth Bank");
    assert_eq!(admitted.certHash, cert4);
    assert_eq!(admitted.admin, net.address(ADMIN4));
    assert!(reg.isActive(4).call().await.expect("isActive"));
    assert_eq!(active_count(&net).await, 4);
    assert_eq!(reg.institutionCount().call().await.expect("institutionCount"), 4);
    assert_eq!(proposal_state(&net, id).await, ProposalState::Executed);
    let of = reg.accountOf(net.address(ADMIN4)).call().await.expect("accountOf");
    assert_eq!((of.institutionId, Role::try_from(of.role)), (4, Ok(Role::Admin)));

    // ---- 3. Admit chains; the electorate is now 4, so 3 approvals are required.
    let genesis_a = keccak256("zoneA.chainA genesis");
    let admit_chain =
        |zone: &str, chain: &str, owner: u64, genesis: B256| ChainRegistry::admitChainCall {
            zone: seg(zone).to_word(),
            chain: seg(chain).to_word(),
            chainType: seg("evm").to_word(),
            chainId: U256::from(31337),
            owner,
            genesisHash: genesis,
        };
    let call = admit_chain("zoneA", "chainA", 1, genesis_a);
    let receipt =
        pass(&net, ADMIN1, chains_addr, &call, "admit zoneA.chainA", &[ADMIN1, ADMIN2, ADMIN4])
            .await;
    let [chain_admitted] = events::<ChainRegistry::ChainAdmitted>(&receipt, chains_addr)
        .try_into()
        .expect("one ChainAdmitted");
    let key_a = path("zoneA.chainA.x").chain_key();
    assert_eq!(chain_admitted.chainKey, key_a);
    assert_eq!((chain_admitted.owner, chain_admitted.genesisHash), (1, genesis_a));
    let call = admit_chain("zoneB", "chainB", 4, keccak256("zoneB.chainB genesis"));
    pass(&net, ADMIN4, chains_addr, &call, "admit zoneB.chainB", &[ADMIN2, ADMIN3, ADMIN4]).await;
    // A zone whose name extends "zoneA", owned by institution 1 as well: grants on zoneA.* paths
    // must not leak into it.
    let call = admit_chain("zoneA2", "chainA", 1, keccak256("zoneA2.chainA genesis"));
    pass(&net, ADMIN2, chains_addr, &call, "admit zoneA2.chainA", &[ADMIN1, ADMIN3, ADMIN4]).await;
    let cr = net.chains(DEPLOYER);
    assert_eq!(cr.chainCount().call().await.expect("chainCount"), U256::from(3));
    assert_eq!(cr.chainKeyAt(U256::ZERO).call().await.expect("chainKeyAt"), key_a);
    let chain_a =
        cr.chainOf(seg("zoneA").to_word(), seg("chainA").to_word()).call().await.expect("chainOf");
    assert_eq!(Segment::from_word(chain_a.chainType), Ok(seg("evm")));
    assert_eq!(chain_a.chainId, U256::from(31337));
    assert_eq!(chain_a.owner, 1);
    assert_eq!(ChainStatus::try_from(chain_a.status), Ok(ChainStatus::Active));
    let chain_b =
        cr.chainOf(seg("zoneB").to_word(), seg("chainB").to_word()).call().await.expect("chainOf");
    assert_eq!(chain_b.owner, 4);
    // Governance-only: a direct admitChain is refused.
    let refused = expect_revert(
        "direct admitChain",
        net.chains(ADMIN1).admitChain(
            seg("zoneC").to_word(),
            seg("chainC").to_word(),
            seg("evm").to_word(),
            U256::from(1),
            1,
            B256::ZERO,
        ),
    )
    .await;
    assert!(matches!(
        refused,
        ContractRevert::ChainRegistry(ChainErr::ChainNotGovernance(ref e))
            if e.caller == net.address(ADMIN1)
    ));

    // ---- 4. Institution 1 adds a relayer and two users; the relayer serves zoneA.chainA.
    let reg1 = net.registry(ADMIN1);
    for (key, role) in [(RELAYER1, Role::Relayer), (USER1, Role::User), (USER1B, Role::User)] {
        let receipt =
            send(&format!("add {role}"), reg1.addAccount(net.address(key), role.into())).await;
        let [added] = events::<InstitutionRegistry::AccountAdded>(&receipt, registry_addr)
            .try_into()
            .expect("one AccountAdded");
        assert_eq!((added.institutionId, added.account), (1, net.address(key)));
        assert_eq!(Role::try_from(added.role), Ok(role));
    }
    let (a_zone, a_chain) = (seg("zoneA").to_word(), seg("chainA").to_word());
    let receipt = send(
        "serve zoneA.chainA",
        net.chains(ADMIN1).setServingRelayers(a_zone, a_chain, vec![net.address(RELAYER1)], true),
    )
    .await;
    let [set] = events::<ChainRegistry::ServingRelayerSet>(&receipt, chains_addr)
        .try_into()
        .expect("one ServingRelayerSet");
    assert_eq!((set.chainKey, set.relayer, set.serving), (key_a, net.address(RELAYER1), true));
    assert!(is_serving(&net, "zoneA", "chainA", net.address(RELAYER1)).await);
    assert!(!is_serving(&net, "zoneB", "chainB", net.address(RELAYER1)).await);
    // A user account cannot be made a serving relayer.
    let refused = expect_revert(
        "serve with a user account",
        net.chains(ADMIN1).setServingRelayers(a_zone, a_chain, vec![net.address(USER1)], true),
    )
    .await;
    assert!(matches!(
        refused,
        ContractRevert::ChainRegistry(ChainErr::ChainNotOwnerRelayer(ref e))
            if e.account == net.address(USER1) && e.owner == 1
    ));

    // ---- 5. The owner grants SEND_TX on zoneA.chainA.* to user 1.
    let pattern: Pattern = "zoneA.chainA.*".parse().expect("pattern");
    let (pz, pc, pr) = pattern.to_words();
    let receipt = send(
        "grant zoneA.chainA.* send_tx",
        net.permissions(ADMIN1).grantToAccount(net.address(USER1), pz, pc, pr, Ops::SEND_TX.bits()),
    )
    .await;
    let [granted] = events::<PermissionManager::PermissionGranted>(&receipt, perms_addr)
        .try_into()
        .expect("one PermissionGranted");
    assert_eq!(SubjectKind::try_from(granted.kind), Ok(SubjectKind::Account));
    assert_eq!(granted.subject, net.address(USER1).into_word());
    assert_eq!(granted.patternKey, pattern.key());
    assert_eq!(Pattern::from_words(granted.zone, granted.chain, granted.resource), Ok(pattern));
    assert_eq!((granted.ops, granted.newOps), (Ops::SEND_TX.bits(), Ops::SEND_TX.bits()));
    assert_eq!(account_ops(&net, net.address(USER1), &pattern).await, Ops::SEND_TX);

    let user1 = net.address(USER1);
    assert!(check(&net, user1, "zoneA.chainA.ledger", Ops::SEND_TX).await);
    assert!(check(&net, user1, "zoneA.chainA.other-resource", Ops::SEND_TX).await);
    assert!(!check(&net, user1, "zoneA.chainA.ledger", Ops::TWO_PHASE).await, "other op");
    assert!(!check(&net, user1, "zoneB.chainB.ledger", Ops::SEND_TX).await, "other chain");
    assert!(!check(&net, user1, "zoneA2.chainA.ledger", Ops::SEND_TX).await, "prefix-like zone");
    assert!(!check(&net, user1, "zoneA.chainA2.ledger", Ops::SEND_TX).await, "unknown chain");
    assert!(!check(&net, net.address(USER1B), "zoneA.chainA.ledger", Ops::SEND_TX).await);
    assert!(!check(&net, net.address(ANYONE), "zoneA.chainA.ledger", Ops::SEND_TX).await);
    // `check` takes exactly one op.
    let (z, c, r) = path("zoneA.chainA.ledger").to_words();
    let err = net
        .permissions(DEPLOYER)
        .check(user1, z, c, r, (Ops::SEND_TX | Ops::CALL).bits())
        .call()
        .await
        .expect_err("two ops at once");
    assert_eq!(
        ContractRevert::from_error(&err),
        Some(ContractRevert::PermissionManager(PermErr::PermBadOp(PermissionManager::PermBadOp {
            op: 12
        })))
    );

    // ---- 6. A non-owner admin cannot grant on zoneA.chainA.
    let refused = expect_revert(
        "grant by institution 2",
        net.permissions(ADMIN2).grantToAccount(user1, pz, pc, pr, Ops::TWO_PHASE.bits()),
    )
    .await;
    let ContractRevert::PermissionManager(PermErr::PermNotChainOwner(ref not_owner)) = refused
    else {
        panic!("expected PermNotChainOwner, got {refused}");
    };
    assert_eq!(not_owner.caller, net.address(ADMIN2));
    assert_eq!(Segment::from_word(not_owner.zone), Ok(seg("zoneA")));
    assert_eq!(Segment::from_word(not_owner.chain), Ok(seg("chainA")));
    assert_eq!(
        refused.to_string(),
        format!("PermNotChainOwner({}, \"zoneA\", \"chainA\")", net.address(ADMIN2))
    );
    assert_eq!(account_ops(&net, user1, &pattern).await, Ops::SEND_TX, "grant did not happen");
    assert!(!check(&net, user1, "zoneA.chainA.ledger", Ops::TWO_PHASE).await);

    // ---- 7. Institution 4 sets up a relayer on its chain, then is expelled by vote.
    let receipt = send(
        "add relayer 4",
        net.registry(ADMIN4).addAccount(net.address(RELAYER4), Role::Relayer.into()),
    )
    .await;
    assert_eq!(events::<InstitutionRegistry::AccountAdded>(&receipt, registry_addr).len(), 1);
    send(
        "serve zoneB.chainB",
        net.chains(ADMIN4).setServingRelayers(
            seg("zoneB").to_word(),
            seg("chainB").to_word(),
            vec![net.address(RELAYER4)],
            true,
        ),
    )
    .await;
    assert!(is_serving(&net, "zoneB", "chainB", net.address(RELAYER4)).await);

    let expel = InstitutionRegistry::expelInstitutionCall { institutionId: 4 };
    let created = net.propose(ADMIN2, registry_addr, &expel, "expel institution 4").await;
    // Its target has no vote on it: the three others are the electorate.
    assert_eq!((created.electorate, created.required), (3, 2));
    let id = created.proposalId;
    let refused = expect_revert("the target votes", net.registry(ADMIN4).vote(id, false)).await;
    assert!(matches!(
        refused,
        ContractRevert::InstitutionRegistry(InstErr::ProposalNotEligible(ref e))
            if e.proposalId == id && e.institutionId == 4
    ));
    for voter in [ADMIN1, ADMIN2] {
        net.vote(voter, id, true).await;
    }
    assert_eq!(proposal_state(&net, id).await, ProposalState::Passed);
    assert_eq!(reg.proposal(id).call().await.expect("proposal").excluded, 4);
    let receipt = net.execute(ANYONE, id).await;
    let [expelled] = events::<InstitutionRegistry::InstitutionExpelled>(&receipt, registry_addr)
        .try_into()
        .expect("one InstitutionExpelled");
    assert_eq!(expelled.institutionId, 4);
    let inst4 = reg.institution(4).call().await.expect("institution 4");
    assert_eq!(InstitutionStatus::try_from(inst4.status), Ok(InstitutionStatus::Expelled));
    assert!(!reg.isActive(4).call().await.expect("isActive"));
    assert_eq!(active_count(&net).await, 3);

    // Its relayer no longer serves its chain, and no longer acts for an active institution.
    assert!(!is_serving(&net, "zoneB", "chainB", net.address(RELAYER4)).await);
    let relayer_of = reg
        .activeInstitutionOf(net.address(RELAYER4), Role::Relayer.into())
        .call()
        .await
        .expect("activeInstitutionOf");
    assert_eq!(relayer_of, 0);
    // Institution 1's relayer is unaffected.
    assert!(is_serving(&net, "zoneA", "chainA", net.address(RELAYER1)).await);

    // Its admin can no longer manage accounts...
    let refused = expect_revert(
        "expelled admin adds an account",
        net.registry(ADMIN4).addAccount(net.address(ANYONE), Role::User.into()),
    )
    .await;
    assert_eq!(
        refused,
        ContractRevert::InstitutionRegistry(InstErr::InstNotAdmin(
            InstitutionRegistry::InstNotAdmin { caller: net.address(ADMIN4) }
        ))
    );
    assert_eq!(refused.to_string(), format!("InstNotAdmin({})", net.address(ADMIN4)));
    // ...nor vote on a new proposal (electorate 3 now).
    let next = InstitutionRegistry::setThresholdCall { numerator: 3, denominator: 4 };
    let created = net.propose(ADMIN1, registry_addr, &next, "threshold 3/4").await;
    assert_eq!((created.electorate, created.required), (3, 2));
    let refused =
        expect_revert("expelled admin votes", net.registry(ADMIN4).vote(created.proposalId, true))
            .await;
    assert!(matches!(
        refused,
        ContractRevert::InstitutionRegistry(InstErr::InstNotAdmin(ref e))
            if e.caller == net.address(ADMIN4)
    ));
    assert!(
        !reg.hasVoted(created.proposalId, 4).call().await.expect("hasVoted"),
        "the refused vote was not counted"
    );
    let accounts_of_4 = reg.accountOf(net.address(RELAYER4)).call().await.expect("accountOf");
    assert_eq!(accounts_of_4.institutionId, 4, "membership stays on record");
}
