//! Reusable end-to-end setup: a fresh anvil, the governance suite deployed from the committed
//! artifacts by `deploy_governance`, and one wallet provider per anvil dev key; business chains
//! (more anvils) with the resources deployed by `deploy_resources`; anvil time travel.

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::network::EthereumWallet;
use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolEvent};

use alloy::eips::BlockNumberOrTag;
use crossgov_deploy::{
    Deployment, FoundingInstitution, Genesis, ResourceDeployment, deploy_governance,
    deploy_resources, devnet,
};
use crossgov_relayer::ContractRevert;
use crossgov_relayer::bindings::{
    ChainRegistry::ChainRegistryInstance, HtlcAsset::HtlcAssetInstance, InstitutionRegistry,
    InstitutionRegistry::InstitutionRegistryInstance, PermissionManager::PermissionManagerInstance,
    Supervision::SupervisionInstance, TransactionManager::TransactionManagerInstance,
    XaLedger::XaLedgerInstance,
};
use crossgov_relayer::ipath::Segment;

/// One anvil dev account with its own wallet provider (own nonce tracking) and its key, for
/// signing protocol messages (EIP-712 requests) off chain.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub(crate) address: Address,
    pub(crate) provider: DynProvider,
    pub(crate) signer: PrivateKeySigner,
}

/// One wallet provider per anvil dev key, in anvil's order.
fn wallet_accounts(anvil: &AnvilInstance) -> Vec<Account> {
    anvil
        .keys()
        .iter()
        .map(|key| {
            let signer = PrivateKeySigner::from(key.clone());
            let address = signer.address();
            // Fetch the pending nonce for every transaction: the default cached nonce manager
            // reserves a nonce before gas estimation, so a refused call (which the tests make
            // on purpose) would leave a gap and every later transaction would stay queued.
            let provider = ProviderBuilder::new()
                .disable_recommended_fillers()
                .with_gas_estimation()
                .with_simple_nonce_management()
                .fetch_chain_id()
                .wallet(EthereumWallet::from(signer.clone()))
                .connect_http(anvil.endpoint_url())
                .erased();
            Account { address, provider, signer }
        })
        .collect()
}

/// A running anvil with the governance suite deployed.
#[derive(Debug)]
pub(crate) struct TestNet {
    /// Keeps anvil alive; it is stopped when the net is dropped.
    pub(crate) anvil: AnvilInstance,
    pub(crate) deployment: Deployment,
    /// One per anvil dev key, in anvil's order.
    pub(crate) accounts: Vec<Account>,
}

/// Upper bound on waiting for a receipt.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(30);

/// The account that deploys the suite: the last dev key, so that low keys stay free for roles.
pub(crate) const DEPLOYER: usize = 9;

impl TestNet {
    /// Starts anvil and deploys the suite with founding institutions `founders[i] = (name, key)`
    /// (institution ids 1, 2, … in that order) and the default threshold and voting period.
    pub(crate) async fn start(founders: &[(&str, usize)]) -> TestNet {
        let anvil = devnet::spawn_anvil().expect("start anvil (run `npm ci` if it is missing)");
        let accounts = wallet_accounts(&anvil);
        assert!(accounts.len() > DEPLOYER, "anvil has {} dev keys", accounts.len());
        let genesis = Genesis {
            institutions: founders
                .iter()
                .map(|&(name, key)| FoundingInstitution {
                    name: name.to_owned(),
                    cert_hash: alloy::primitives::keccak256(name),
                    admin: accounts[key].address,
                })
                .collect(),
            threshold: crossgov_deploy::genesis::DEFAULT_THRESHOLD,
            voting_period_secs: crossgov_deploy::genesis::DEFAULT_VOTING_PERIOD_SECS,
        };
        let deployment = deploy_governance(&accounts[DEPLOYER].provider, &genesis)
            .await
            .expect("deploy the governance suite");
        TestNet { anvil, deployment, accounts }
    }

    pub(crate) fn address(&self, key: usize) -> Address {
        self.accounts[key].address
    }

    /// The InstitutionRegistry as seen (and signed for) by dev key `key`.
    pub(crate) fn registry(&self, key: usize) -> InstitutionRegistryInstance<DynProvider> {
        InstitutionRegistryInstance::new(
            self.deployment.institution_registry.address,
            self.accounts[key].provider.clone(),
        )
    }

    /// The ChainRegistry as seen by dev key `key`.
    pub(crate) fn chains(&self, key: usize) -> ChainRegistryInstance<DynProvider> {
        ChainRegistryInstance::new(
            self.deployment.chain_registry.address,
            self.accounts[key].provider.clone(),
        )
    }

    /// The PermissionManager as seen by dev key `key`.
    pub(crate) fn permissions(&self, key: usize) -> PermissionManagerInstance<DynProvider> {
        PermissionManagerInstance::new(
            self.deployment.permission_manager.address,
            self.accounts[key].provider.clone(),
        )
    }

    /// The TransactionManager as seen by dev key `key`.
    pub(crate) fn tm(&self, key: usize) -> TransactionManagerInstance<DynProvider> {
        TransactionManagerInstance::new(
            self.deployment.transaction_manager.address,
            self.accounts[key].provider.clone(),
        )
    }

    /// The Supervision contract as seen by dev key `key`.
    pub(crate) fn supervision(&self, key: usize) -> SupervisionInstance<DynProvider> {
        SupervisionInstance::new(
            self.deployment.supervision.address,
            self.accounts[key].provider.clone(),
        )
    }

    /// Admits the regulator with key `key` by a vote of the three founders (keys 0, 1, 2).
    pub(crate) async fn admit_regulator(&self, key: &k256::SecretKey, name: &str) -> Address {
        let public = key.public_key();
        let xy = crossgov_relayer::audit::envelope::public_key_xy(&public);
        let call = crossgov_relayer::bindings::Supervision::admitRegulatorCall {
            publicKey: Bytes::copy_from_slice(&xy),
            name: name.to_owned(),
        };
        let target = self.deployment.supervision.address;
        self.pass(0, target, &call, &format!("admit regulator {name}"), &[0, 1, 2]).await;
        crossgov_relayer::audit::envelope::address_of(&public)
    }

    /// Removes a regulator by a vote of the three founders.
    pub(crate) async fn remove_regulator(&self, regulator: Address) {
        let call = crossgov_relayer::bindings::Supervision::removeRegulatorCall { regulator };
        let target = self.deployment.supervision.address;
        self.pass(0, target, &call, &format!("remove regulator {regulator}"), &[0, 1, 2]).await;
    }

    /// Proposes `call` on `target` as admin `proposer`, has `voters` approve in turn until it
    /// passes, asserts it passed, and executes it from the (unregistered) deployer account.
    pub(crate) async fn pass<C: SolCall>(
        &self,
        proposer: usize,
        target: Address,
        call: &C,
        description: &str,
        voters: &[usize],
    ) -> TransactionReceipt {
        let created = self.propose(proposer, target, call, description).await;
        // In turn until it passes: later voters of the list are not needed.
        for &voter in voters {
            let (cast, _) = self.vote(voter, created.proposalId, true).await;
            if cast.approvals >= created.required {
                break;
            }
        }
        let state = self
            .registry(DEPLOYER)
            .proposalState(created.proposalId)
            .call()
            .await
            .expect("proposalState");
        assert_eq!(
            crossgov_relayer::bindings::ProposalState::try_from(state),
            Ok(crossgov_relayer::bindings::ProposalState::Passed),
            "{description}: not passed by {voters:?}"
        );
        self.execute(DEPLOYER, created.proposalId).await
    }

    /// Opens a proposal calling `target` with `call` as admin `key`; returns its ProposalCreated.
    pub(crate) async fn propose<C: SolCall>(
        &self,
        key: usize,
        target: Address,
        call: &C,
        description: &str,
    ) -> InstitutionRegistry::ProposalCreated {
        let data = Bytes::from(call.abi_encode());
        let registry = self.registry(key);
        let receipt = send(
            &format!("propose {description}"),
            registry.propose(target, data.clone(), description.to_owned()),
        )
        .await;
        let [created] =
            events::<InstitutionRegistry::ProposalCreated>(&receipt, *registry.address())
                .try_into()
                .expect("exactly one ProposalCreated");
        assert_eq!(created.target, target);
        assert_eq!(created.data, data);
        assert_eq!(created.description, description);
        created
    }

    /// Votes as admin `key`; returns the VoteCast event and the receipt (for Passed / Rejected).
    pub(crate) async fn vote(
        &self,
        key: usize,
        proposal_id: U256,
        approve: bool,
    ) -> (InstitutionRegistry::VoteCast, TransactionReceipt) {
        let registry = self.registry(key);
        let receipt =
            send(&format!("vote {approve} on {proposal_id}"), registry.vote(proposal_id, approve))
                .await;
        let [cast] = events::<InstitutionRegistry::VoteCast>(&receipt, *registry.address())
            .try_into()
            .expect("exactly one VoteCast");
        assert_eq!(cast.proposalId, proposal_id);
        assert_eq!(cast.approve, approve);
        (cast, receipt)
    }

    /// The calldata of proposal `proposal_id`, recovered from its ProposalCreated log on chain
    /// (as a relayer or the CLI would: storage only keeps its hash).
    pub(crate) async fn proposal_data_from_chain(&self, proposal_id: U256) -> Bytes {
        let registry = self.registry(DEPLOYER);
        let logs = registry
            .ProposalCreated_filter()
            .topic1(B256::from(proposal_id))
            .from_block(self.deployment.institution_registry.block)
            .query()
            .await
            .expect("query ProposalCreated logs");
        let [(created, log)] = logs.try_into().expect("exactly one ProposalCreated per id");
        assert_eq!(log.address(), *registry.address());
        assert_eq!(created.proposalId, proposal_id);
        created.data
    }

    /// Executes a passed proposal as account `key` with the calldata recovered from chain.
    pub(crate) async fn execute(&self, key: usize, proposal_id: U256) -> TransactionReceipt {
        let data = self.proposal_data_from_chain(proposal_id).await;
        let registry = self.registry(key);
        let receipt =
            send(&format!("execute {proposal_id}"), registry.execute(proposal_id, data)).await;
        let executed =
            events::<InstitutionRegistry::ProposalExecuted>(&receipt, *registry.address());
        assert_eq!(executed.len(), 1, "one ProposalExecuted");
        assert_eq!(executed[0].proposalId, proposal_id);
        receipt
    }
}

/// A business chain: its own anvil (with its own chain id) and the resources XaLedger and
/// HtlcAsset deployed by one dev key, their owner.
#[derive(Debug)]
pub(crate) struct BusinessChain {
    /// Keeps anvil alive; it is stopped when the chain is dropped.
    pub(crate) anvil: AnvilInstance,
    pub(crate) resources: ResourceDeployment,
    /// One per anvil dev key (the same keys, hence addresses, as on every other anvil).
    pub(crate) accounts: Vec<Account>,
}

impl BusinessChain {
    /// Starts anvil with `chain_id` and deploys the resources as dev key `owner`.
    pub(crate) async fn start(chain_id: u64, owner: usize) -> BusinessChain {
        let anvil = devnet::spawn_anvil_with_chain_id(chain_id)
            .expect("start anvil (run `npm ci` if it is missing)");
        let accounts = wallet_accounts(&anvil);
        let resources =
            deploy_resources(&accounts[owner].provider).await.expect("deploy the resources");
        assert_eq!(resources.chain_id, chain_id);
        assert_eq!(resources.owner, accounts[owner].address);
        BusinessChain { anvil, resources, accounts }
    }

    /// The chain's XaLedger as seen by dev key `key`.
    pub(crate) fn xa(&self, key: usize) -> XaLedgerInstance<DynProvider> {
        XaLedgerInstance::new(self.resources.xa_ledger.address, self.accounts[key].provider.clone())
    }

    /// The chain's HtlcAsset as seen by dev key `key`.
    pub(crate) fn htlc(&self, key: usize) -> HtlcAssetInstance<DynProvider> {
        HtlcAssetInstance::new(
            self.resources.htlc_asset.address,
            self.accounts[key].provider.clone(),
        )
    }

    /// A provider for reads and node RPCs.
    pub(crate) fn provider(&self) -> &DynProvider {
        &self.accounts[0].provider
    }
}

/// The latest block's timestamp: the chain's "now" as contracts see it.
pub(crate) async fn latest_timestamp(provider: &DynProvider) -> u64 {
    provider
        .get_block_by_number(alloy::rpc::types::BlockNumberOrTag::Latest)
        .await
        .expect("get the latest block")
        .expect("a latest block")
        .header
        .timestamp
}

/// Moves an anvil's clock `secs` forward and mines a block there (anvil's `evm_increaseTime` and
/// `evm_mine`); returns the new latest timestamp.
pub(crate) async fn advance_time(provider: &DynProvider, secs: u64) -> u64 {
    let before = latest_timestamp(provider).await;
    let _: serde_json::Value =
        provider.raw_request("evm_increaseTime".into(), [secs]).await.expect("evm_increaseTime");
    let _: serde_json::Value =
        provider.raw_request("evm_mine".into(), Vec::<u64>::new()).await.expect("evm_mine");
    let after = latest_timestamp(provider).await;
    assert!(after >= before + secs, "time moved from {before} to {after}, wanted +{secs}");
    after
}

/// The transaction hash of a receipt as vote / ack / leg evidence.
pub(crate) fn evidence(receipt: &TransactionReceipt) -> Bytes {
    Bytes::copy_from_slice(receipt.transaction_hash.as_slice())
}

/// Sends `call` about `id` from `relayer` (`tm`'s account) the way the chain requires once a regulator is
/// active: a one-item `report` whose audit record, sealed to the active regulators, holds one
/// operation (`interface`, covering `covers`) sent by hand. With no regulator active the item
/// carries no record.
pub(crate) async fn report_alone<C: crossgov_relayer::audit::Reportable>(
    (tm, relayer): (&TransactionManagerInstance<DynProvider>, Address),
    id: B256,
    (covers, interface): (crossgov_relayer::audit::CoverKey, crossgov_relayer::audit::Interface),
    call: C,
) -> TransactionReceipt {
    use crossgov_relayer::audit::{
        AuditRecord, Envelope, Operation, Protocol, Recipient, envelope::os_random,
        record::RECORD_VERSION,
    };
    use crossgov_relayer::bindings::ReportKind;
    let what = C::WHAT;
    let provider = tm.provider().clone();
    let supervision = tm.supervision().call().await.expect("supervision");
    let sup = SupervisionInstance::new(supervision, provider.clone());
    let mut recipients = Vec::new();
    for regulator in sup.regulators().call().await.expect("regulators") {
        let r = sup.regulatorOf(regulator).call().await.expect("regulator");
        let xy = [r.publicKeyX.as_slice(), r.publicKeyY.as_slice()].concat();
        recipients.push(Recipient::from_xy(&xy).expect("regulator key"));
    }
    let envelope = if recipients.is_empty() {
        Bytes::new()
    } else {
        let registry = InstitutionRegistry::new(
            tm.registry().call().await.expect("registry"),
            provider.clone(),
        );
        let institution = registry.accountOf(relayer).call().await.expect("account").institutionId;
        let protocol = if (C::KIND as u8) >= ReportKind::ProposeSwap as u8 {
            Protocol::Htlc
        } else {
            Protocol::TwoPhase
        };
        let record = AuditRecord {
            version: RECORD_VERSION,
            subject: id,
            protocol,
            initiator: Address::ZERO,
            initiator_institution: 0,
            institution,
            relayer,
            written_at: 0,
            operations: vec![Operation::governance_pending(
                covers,
                interface,
                serde_json::json!({ "sentBy": "hand" }),
                relayer,
            )],
        };
        let plaintext = serde_json::to_vec(&record).expect("record");
        let sealed = Envelope::seal(id, &[covers], &plaintext, &recipients, &mut os_random);
        Bytes::from(sealed.expect("seal").encode())
    };
    let mut args = Vec::new();
    call.abi_encode_raw(&mut args);
    let item = crossgov_relayer::bindings::ReportItem {
        kind: C::KIND.into(),
        id,
        args: args.into(),
        envelope,
    };
    send(what, tm.report(vec![item])).await
}

/// Sends a transaction, waits for its receipt and asserts it succeeded. A revert (reported by
/// the node while estimating gas) fails the test with the decoded custom error.
pub(crate) async fn send<P, D>(what: &str, call: CallBuilder<P, D>) -> TransactionReceipt
where
    P: Provider,
    D: CallDecoder,
{
    let pending = match call.send().await {
        Ok(pending) => pending,
        Err(err) => match ContractRevert::from_error(&err) {
            Some(revert) => panic!("{what}: reverted with {revert}"),
            None => panic!("{what}: {err}"),
        },
    };
    let tx_hash = *pending.tx_hash();
    // anvil mines on arrival, so the receipt is there at once; the bound only turns a stuck
    // transaction (e.g. a nonce gap) into a failure instead of a hang.
    let receipt = tokio::time::timeout(RECEIPT_TIMEOUT, pending.get_receipt())
        .await
        .unwrap_or_else(|_| panic!("{what}: {tx_hash} not mined within {RECEIPT_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("{what}: receipt of {tx_hash}: {e}"));
    assert!(receipt.status(), "{what}: transaction {} failed", receipt.transaction_hash);
    receipt
}

/// Sends a transaction that must be refused, and returns the decoded custom error.
pub(crate) async fn expect_revert<P, D>(what: &str, call: CallBuilder<P, D>) -> ContractRevert
where
    P: Provider,
    D: CallDecoder,
{
    match call.send().await {
        Ok(pending) => panic!("{what}: expected a revert, but {} was sent", pending.tx_hash()),
        Err(err) => ContractRevert::from_error(&err)
            .unwrap_or_else(|| panic!("{what}: expected a custom error, got {err}")),
    }
}

/// The events of type `E` emitted by `address` in a receipt, in log order.
pub(crate) fn events<E: SolEvent + Debug>(
    receipt: &TransactionReceipt,
    address: Address,
) -> Vec<E> {
    receipt
        .logs()
        .iter()
        .filter(|log| log.address() == address)
        .filter_map(|log| log.log_decode::<E>().ok())
        .map(|log| log.inner.data)
        .collect()
}

/// The bound on every wait for chain state in these tests.
pub(crate) const WAIT: Duration = Duration::from_secs(90);

/// A path segment from a literal the test knows to be valid.
pub(crate) fn seg(s: &str) -> Segment {
    Segment::new(s).expect("valid segment")
}

/// Polls `f` until it returns `Some`, at most [`WAIT`].
pub(crate) async fn wait_for<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl TestNet {
    /// Admits `zone.chain` (type `evm`, the business chain's id and genesis hash) by a proposal of
    /// `proposer` passed with the votes of `voters`; returns the receipt and the genesis hash.
    pub(crate) async fn admit_chain(
        &self,
        proposer: usize,
        voters: &[usize],
        (zone, chain): (&str, &str),
        owner: u64,
        business: &BusinessChain,
    ) -> (TransactionReceipt, B256) {
        let genesis = business
            .provider()
            .get_block_by_number(BlockNumberOrTag::Number(0))
            .await
            .expect("genesis block")
            .expect("block 0")
            .header
            .hash;
        let call = crossgov_relayer::bindings::ChainRegistry::admitChainCall {
            zone: seg(zone).to_word(),
            chain: seg(chain).to_word(),
            chainType: seg("evm").to_word(),
            chainId: U256::from(business.resources.chain_id),
            owner,
            genesisHash: genesis,
        };
        let target = self.deployment.chain_registry.address;
        let receipt =
            self.pass(proposer, target, &call, &format!("admit {zone}.{chain}"), voters).await;
        (receipt, genesis)
    }
}

/// A fresh random secp256k1 key (a regulator's).
pub(crate) fn random_key() -> k256::SecretKey {
    let signer = alloy::signers::local::PrivateKeySigner::random();
    k256::SecretKey::from_slice(signer.to_bytes().as_slice()).expect("a valid scalar")
}

/// Relayer logs in test output when `RUST_LOG` is set (e.g. `RUST_LOG=crossgov_relayer=debug`).
pub(crate) fn init_test_logs() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}
