//! The consortium the relayer tests run against: a governance chain whose founders are Bank A,
//! Bank B and Bank C, and two business chains (zoneA.chainA owned by institution 1, zoneB.chainB
//! owned by institution 2) admitted by a 3-of-3 vote, with relayers and users registered, serving
//! relayers set and grants on both chains, and one regulator admitted by vote. Resource-specific
//! setup is left to the callers.

use crossgov_relayer::bindings::Role;
use crossgov_relayer::{Ops, Pattern};

use crate::harness::{BusinessChain, TestNet, random_key, seg, send};

// Dev keys (the same on all three anvils) and their roles; institution ids in parentheses.
pub(crate) const ADMIN1: usize = 0; // founder (1): owns zoneA.chainA and chain A's resources
pub(crate) const ADMIN2: usize = 1; // founder (2): owns zoneB.chainB and chain B's resources
pub(crate) const ADMIN3: usize = 2; // founder (3)
pub(crate) const RELAYER_A: usize = 3; // relayer of (1), serving zoneA.chainA
pub(crate) const RELAYER_B: usize = 4; // relayer of (2), serving zoneB.chainB
pub(crate) const ALICE: usize = 5; // user of (1)
pub(crate) const BOB: usize = 6; // user of (2)
pub(crate) const RELAYER_A2: usize = 7; // a second relayer of (1), serving zoneA.chainA

/// What to register beyond the common accounts, and what to grant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Setup<'a> {
    /// Further users of (1), registered after alice.
    pub(crate) more_users_1: &'a [usize],
    /// Accounts granted `ops` on `zoneA.chainA.*` and `zoneB.chainB.*`, in this order per chain.
    pub(crate) grantees: &'a [usize],
    pub(crate) ops: Ops,
}

#[derive(Debug)]
pub(crate) struct Consortium {
    pub(crate) gov: TestNet,
    pub(crate) a: BusinessChain,
    pub(crate) b: BusinessChain,
    /// The consortium's regulator (admitted by vote): reads the audit trail.
    pub(crate) regulator: k256::SecretKey,
}

impl Consortium {
    /// Starts the three anvils (business chains with ids `chain_a` and `chain_b`) and sets up
    /// governance: relayers RELAYER_A and RELAYER_A2 and user ALICE (then `more_users_1`) of (1),
    /// relayer RELAYER_B and user BOB of (2), serving relayers on both chains, and the grants.
    pub(crate) async fn start((chain_a, chain_b): (u64, u64), setup: Setup<'_>) -> Consortium {
        let gov =
            TestNet::start(&[("Bank A", ADMIN1), ("Bank B", ADMIN2), ("Bank C", ADMIN3)]).await;
        let a = BusinessChain::start(chain_a, ADMIN1).await;
        let b = BusinessChain::start(chain_b, ADMIN2).await;
        let regulator = random_key();
        gov.admit_regulator(&regulator, "Regulator R").await;
        let net = Consortium { gov, a, b, regulator };
        for (zone, chain, owner, business, proposer) in
            [("zoneA", "chainA", 1u64, &net.a, ADMIN1), ("zoneB", "chainB", 2, &net.b, ADMIN2)]
        {
            net.gov
                .admit_chain(proposer, &[ADMIN1, ADMIN2, ADMIN3], (zone, chain), owner, business)
                .await;
        }
        let mut accounts = vec![
            (ADMIN1, RELAYER_A, Role::Relayer),
            (ADMIN1, RELAYER_A2, Role::Relayer),
            (ADMIN1, ALICE, Role::User),
        ];
        accounts.extend(setup.more_users_1.iter().map(|&key| (ADMIN1, key, Role::User)));
        accounts.extend([(ADMIN2, RELAYER_B, Role::Relayer), (ADMIN2, BOB, Role::User)]);
        for (admin, key, role) in accounts {
            let account = net.gov.address(key);
            send("add account", net.gov.registry(admin).addAccount(account, role.into())).await;
        }
        for (admin, zone, chain, relayers) in [
            (ADMIN1, "zoneA", "chainA", vec![RELAYER_A, RELAYER_A2]),
            (ADMIN2, "zoneB", "chainB", vec![RELAYER_B]),
        ] {
            let relayers = relayers.into_iter().map(|k| net.gov.address(k)).collect();
            let (z, c) = (seg(zone).to_word(), seg(chain).to_word());
            send("serve", net.gov.chains(admin).setServingRelayers(z, c, relayers, true)).await;
        }
        for (admin, pattern) in [(ADMIN1, "zoneA.chainA.*"), (ADMIN2, "zoneB.chainB.*")] {
            let (z, c, r) = pattern.parse::<Pattern>().expect("pattern").to_words();
            for &user in setup.grantees {
                let account = net.gov.address(user);
                let perms = net.gov.permissions(admin);
                send("grant", perms.grantToAccount(account, z, c, r, setup.ops.bits())).await;
            }
        }
        net
    }
}
