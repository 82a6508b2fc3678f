//! A complete local consortium on three anvils, built with no configuration: what `crossgov dev`
//! and `crossgov demo` run.
//!
//! - governance chain (chain id [`GOV_CHAIN_ID`]) with the suite deployed from the committed
//!   artifacts, founded by Bank A, Bank B and Bank C (anvil dev keys 0, 1, 2);
//! - business chains `zoneA.chainA` ([`CHAIN_A_ID`], owned by Bank A) and `zoneB.chainB`
//!   ([`CHAIN_B_ID`], owned by Bank B), each with an XaLedger (`ledger`) and an HtlcAsset
//!   (`asset`), admitted by a vote of the three founders;
//! - relayer accounts (Bank A: keys 3 and 7, Bank B: key 4) serving their bank's chain, users
//!   alice (Bank A, key 5) and bob (Bank B, key 6) with TWO_PHASE and HTLC on both chains and
//!   [`OPENING_BALANCE`] on their own chain;
//! - one regulator (key 8's secp256k1 key) admitted by vote.
//!
//! The keys are anvil's well-known dev keys: for local use only. Every anvil process is stopped
//! when the [`LocalConsortium`] is dropped (also when a panic unwinds through it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{BlockNumberOrTag, TransactionReceipt};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;

use crossgov_relayer::bindings::{
    ChainRegistry, HtlcAsset, InstitutionRegistry, PermissionManager, Role, Supervision, XaLedger,
};
use crossgov_relayer::htlc::{HtlcSettings, PeerChain};
use crossgov_relayer::runtime::{
    ChainEndpoint, Metrics, Relayer, RelayerHandle, RelayerSettings, ServedChain,
};
use crossgov_relayer::two_phase::ProtocolHook;
use crossgov_relayer::{ContractRevert, IPath, Ops, Segment};

use crate::devnet::{self, DevnetError};
use crate::genesis::{FoundingInstitution, Genesis};
use crate::manifest::{Deployment, ResourceDeployment};
use crate::{RECEIPT_TIMEOUT, deploy_governance, deploy_resources};

/// Chain id of the local governance chain.
pub const GOV_CHAIN_ID: u64 = 31337;
/// Chain id of `zoneA.chainA`.
pub const CHAIN_A_ID: u64 = 31338;
/// Chain id of `zoneB.chainB`.
pub const CHAIN_B_ID: u64 = 31339;
/// What alice holds on chain A and bob on chain B, on both resources, at start.
pub const OPENING_BALANCE: u64 = 1_000;
/// HTLC: a leg is locked only with this much time to spare before its timelock.
pub const SAFETY_MARGIN_SECS: u64 = 120;

/// Anvil dev-key indices and their roles (the same keys on every anvil).
pub mod keys {
    /// Bank A's admin (institution 1); owns chain A's resources.
    pub const ADMIN_A: usize = 0;
    /// Bank B's admin (institution 2); owns chain B's resources.
    pub const ADMIN_B: usize = 1;
    /// Bank C's admin (institution 3).
    pub const ADMIN_C: usize = 2;
    /// Bank A's relayer, serving zoneA.chainA.
    pub const RELAYER_A: usize = 3;
    /// Bank B's relayer, serving zoneB.chainB.
    pub const RELAYER_B: usize = 4;
    /// alice, a user of Bank A.
    pub const ALICE: usize = 5;
    /// bob, a user of Bank B.
    pub const BOB: usize = 6;
    /// Bank A's second relayer (takes over when the first dies).
    pub const RELAYER_A2: usize = 7;
    /// The regulator's key.
    pub const REGULATOR: usize = 8;
    /// Deploys the governance suite.
    pub const DEPLOYER: usize = 9;
}

/// Building the local consortium failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalError {
    /// anvil could not be started.
    #[error(transparent)]
    Devnet(#[from] DevnetError),
    /// Deploying failed.
    #[error(transparent)]
    Deploy(#[from] crate::DeployError),
    /// A setup transaction failed.
    #[error("{what}: {message}")]
    Step {
        /// The step.
        what: String,
        /// Why (the decoded contract error when there is one).
        message: String,
    },
    /// A file could not be written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

fn step(what: impl Into<String>) -> impl FnOnce(String) -> LocalError {
    let what = what.into();
    move |message| LocalError::Step { what, message }
}

/// Which EVM implementation runs a local chain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NodeKind {
    /// anvil at its newest hardfork, every dev key funded.
    #[default]
    Anvil,
    /// Hardhat's node (EDR) as a consortium chain: at `hardfork`, zero base fee, the relayer
    /// keys holding nothing (their transactions must be priced 0: `fee_mode = "fixed"`).
    Hardhat {
        /// `berlin`, `london`, …
        hardfork: String,
    },
}

/// A running local node.
#[derive(Debug)]
pub enum LocalNode {
    /// anvil.
    Anvil(AnvilInstance),
    /// Hardhat's node.
    Hardhat(devnet::HardhatInstance),
}

impl LocalNode {
    /// The node's HTTP endpoint.
    pub fn endpoint_url(&self) -> alloy::transports::http::reqwest::Url {
        match self {
            LocalNode::Anvil(a) => a.endpoint_url(),
            LocalNode::Hardhat(h) => h.endpoint_url(),
        }
    }

    /// The node's process id.
    pub fn pid(&self) -> u32 {
        match self {
            LocalNode::Anvil(a) => a.child().id(),
            LocalNode::Hardhat(h) => h.child().id(),
        }
    }
}

/// The dev keys the relayers sign with: unfunded on Hardhat chains.
pub const RELAYER_KEYS: [usize; 3] = [keys::RELAYER_A, keys::RELAYER_B, keys::RELAYER_A2];

/// One local chain: its node and a provider per dev key.
#[derive(Debug)]
pub struct LocalChain {
    /// `governance` or `zone.chain`.
    pub name: String,
    /// Stops the node when dropped.
    pub node: LocalNode,
    /// One provider per dev key, signing with it.
    pub providers: Vec<DynProvider>,
    /// The chain id.
    pub chain_id: u64,
    /// Where the node persists its chain (anvil `--state`), if it does: then it can be stopped
    /// and started again with its chain.
    pub state_file: Option<PathBuf>,
}

impl LocalChain {
    fn start(
        name: &str,
        chain_id: u64,
        state_file: Option<PathBuf>,
    ) -> Result<LocalChain, LocalError> {
        Self::start_kind(name, chain_id, state_file, &NodeKind::Anvil)
    }

    fn start_kind(
        name: &str,
        chain_id: u64,
        state_file: Option<PathBuf>,
        kind: &NodeKind,
    ) -> Result<LocalChain, LocalError> {
        let node = match (kind, &state_file) {
            (NodeKind::Anvil, Some(file)) => {
                LocalNode::Anvil(devnet::spawn_anvil_persistent(chain_id, file, None)?)
            }
            (NodeKind::Anvil, None) => {
                LocalNode::Anvil(devnet::spawn_anvil_with_chain_id(chain_id)?)
            }
            (NodeKind::Hardhat { hardfork }, _) => {
                let funded =
                    (0..devnet::DEV_KEYS.len()).filter(|k| !RELAYER_KEYS.contains(k)).collect();
                let config = devnet::HardhatConfig {
                    chain_id,
                    hardfork: hardfork.clone(),
                    funded,
                    interval_ms: 0,
                };
                LocalNode::Hardhat(
                    devnet::spawn_hardhat(&config)
                        .map_err(|e| step(format!("start {name}"))(e.to_string()))?,
                )
            }
        };
        let url = node.endpoint_url();
        // A Hardhat chain is gas-free, as consortium chains are: everything sends at price 0.
        let price = match kind {
            NodeKind::Anvil => None,
            NodeKind::Hardhat { .. } => Some(0),
        };
        let providers = devnet::DEV_KEYS
            .iter()
            .map(|key| {
                let signer: PrivateKeySigner =
                    key.parse().unwrap_or_else(|e| unreachable!("a dev key: {e}"));
                ProviderBuilder::new()
                    .disable_recommended_fillers()
                    .filler(crossgov_relayer::chain::PriceFiller::new(price))
                    .with_gas_estimation()
                    .with_simple_nonce_management()
                    .fetch_chain_id()
                    .wallet(EthereumWallet::from(signer))
                    .connect_http(url.clone())
                    .erased()
            })
            .collect();
        Ok(LocalChain { name: name.to_owned(), node, providers, chain_id, state_file })
    }

    fn anvil_mut(&mut self, what: &str) -> Result<&mut AnvilInstance, LocalError> {
        match &mut self.node {
            LocalNode::Anvil(a) => Ok(a),
            LocalNode::Hardhat(_) => Err(step(format!("{what} {}", self.name))(
                "only an anvil node is stopped and restarted".into(),
            )),
        }
    }

    /// Stops the node as an operator would (SIGTERM): a persistent node writes its chain to its
    /// state file first. Its endpoint refuses connections until [`LocalChain::restart`].
    ///
    /// Mining is switched off first. anvil writes its state file while it still serves requests,
    /// and a block mined during the write can end up in the accounts but not in the block history
    /// (measured: 3 of 45 stops under a stream of transactions, none of 45 with mining off). A
    /// real node keeps a block or loses it whole; with mining off, what arrives meanwhile stays in
    /// the pool and is lost with it, as on a real restart.
    pub async fn stop(&mut self) -> Result<(), LocalError> {
        let running = self.anvil_mut("stop")?.child_mut().try_wait().ok().flatten().is_none();
        if running {
            // Best effort: a node that no longer answers is not mining either.
            let _ = self
                .provider(keys::DEPLOYER)
                .raw_request::<_, ()>("evm_setAutomine".into(), (false,))
                .await;
        }
        let name = self.name.clone();
        devnet::stop_anvil(self.anvil_mut("stop")?)
            .map_err(|e| LocalError::Step { what: format!("stop {name}"), message: e.to_string() })
    }

    /// Starts the node again on the same port from its state file (after [`LocalChain::stop`]):
    /// same endpoint, same chain (blocks, receipts, logs, nonces). Transactions that were only in
    /// its pool are gone, as on a real node restart. It mines on every transaction again.
    pub async fn restart(&mut self) -> Result<(), LocalError> {
        let Some(file) = self.state_file.clone() else {
            return Err(LocalError::Step {
                what: format!("restart {}", self.name),
                message: "the node was started without a state file".into(),
            });
        };
        self.stop().await?;
        let port = self.anvil_mut("restart")?.port();
        self.node =
            LocalNode::Anvil(devnet::spawn_anvil_persistent(self.chain_id, &file, Some(port))?);
        Ok(())
    }

    /// The node's HTTP endpoint.
    pub fn rpc_url(&self) -> alloy::transports::http::reqwest::Url {
        self.node.endpoint_url()
    }

    /// How a relayer reaches this chain: on a Hardhat chain the relayer keys hold nothing, so
    /// their transactions are priced 0 (`fee_mode = "fixed"`, `gas_price_wei = 0`).
    pub fn relayer_options(&self) -> crossgov_relayer::chain::ChainOptions {
        let fee = match self.node {
            LocalNode::Anvil(_) => crossgov_relayer::chain::FeeMode::Auto,
            LocalNode::Hardhat(_) => crossgov_relayer::chain::FeeMode::Fixed(0),
        };
        crossgov_relayer::chain::ChainOptions { fee, ..Default::default() }
    }

    /// The provider signing with dev key `key`.
    pub fn provider(&self, key: usize) -> &DynProvider {
        &self.providers[key]
    }

    /// Switches the node from mining on every transaction to one block every `secs` seconds
    /// (anvil RPC), as a real chain would.
    pub async fn set_block_time(&self, secs: u64) -> Result<(), LocalError> {
        let p = self.provider(keys::DEPLOYER);
        let rpc = |what: &'static str| {
            move |e: alloy::transports::TransportError| LocalError::Step {
                what: what.into(),
                message: e.to_string(),
            }
        };
        let _: serde_json::Value = p
            .raw_request("evm_setAutomine".into(), [false])
            .await
            .map_err(rpc("evm_setAutomine"))?;
        let _: serde_json::Value = p
            .raw_request("evm_setIntervalMining".into(), [secs])
            .await
            .map_err(rpc("evm_setIntervalMining"))?;
        Ok(())
    }

    /// Moves the chain's clock forward by `secs` and mines a block (anvil RPC).
    pub async fn advance_time(&self, secs: u64) -> Result<(), LocalError> {
        let p = self.provider(keys::DEPLOYER);
        let _: serde_json::Value =
            p.raw_request("evm_increaseTime".into(), [secs]).await.map_err(|e| {
                LocalError::Step { what: "evm_increaseTime".into(), message: e.to_string() }
            })?;
        let _: serde_json::Value = p
            .raw_request("evm_mine".into(), Vec::<u64>::new())
            .await
            .map_err(|e| LocalError::Step { what: "evm_mine".into(), message: e.to_string() })?;
        Ok(())
    }
}

/// A business chain of the local consortium.
#[derive(Debug)]
pub struct LocalBusinessChain {
    /// The chain.
    pub chain: LocalChain,
    /// `zoneA` / `zoneB`.
    pub zone: Segment,
    /// `chainA` / `chainB`.
    pub chain_name: Segment,
    /// Its XaLedger and HtlcAsset.
    pub resources: ResourceDeployment,
    /// The owner institution's id.
    pub owner_institution: u64,
}

impl LocalBusinessChain {
    /// `zone.chain`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.zone, self.chain_name)
    }

    /// The chain's XaLedger as dev key `key`.
    pub fn xa(&self, key: usize) -> XaLedger::XaLedgerInstance<DynProvider> {
        XaLedger::new(self.resources.xa_ledger.address, self.chain.provider(key).clone())
    }

    /// The chain's HtlcAsset as dev key `key`.
    pub fn htlc(&self, key: usize) -> HtlcAsset::HtlcAssetInstance<DynProvider> {
        HtlcAsset::new(self.resources.htlc_asset.address, self.chain.provider(key).clone())
    }

    fn served(&self) -> ServedChain {
        ServedChain {
            zone: self.zone,
            chain: self.chain_name,
            rpc_url: self.chain.rpc_url(),
            confirmations: 1,
            resources: BTreeMap::from([
                (segment("ledger"), self.resources.xa_ledger.address),
                (segment("asset"), self.resources.htlc_asset.address),
            ]),
            options: self.chain.relayer_options(),
        }
    }

    fn peer(&self) -> PeerChain {
        let path: IPath =
            format!("{}.asset", self.name()).parse().unwrap_or_else(|_| unreachable!());
        PeerChain {
            chain_key: path.chain_key(),
            name: self.name(),
            rpc_url: self.chain.rpc_url(),
            confirmations: 1,
            assets: BTreeMap::from([(
                segment("asset").to_word(),
                self.resources.htlc_asset.address,
            )]),
            options: self.chain.relayer_options(),
        }
    }
}

fn segment(s: &str) -> Segment {
    // Only called with literals that are valid segments.
    Segment::new(s).unwrap_or_else(|e| unreachable!("{s}: {e}"))
}

/// Which node runs each chain of the local consortium (anvil by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nodes {
    /// The governance chain.
    pub governance: NodeKind,
    /// `zoneA.chainA`.
    pub a: NodeKind,
    /// `zoneB.chainB`.
    pub b: NodeKind,
}

/// The running local consortium.
#[derive(Debug)]
pub struct LocalConsortium {
    /// The governance chain.
    pub gov: LocalChain,
    /// `zoneA.chainA`, owned by Bank A (institution 1).
    pub a: LocalBusinessChain,
    /// `zoneB.chainB`, owned by Bank B (institution 2).
    pub b: LocalBusinessChain,
    /// The governance suite.
    pub deployment: Deployment,
    /// The regulator's key.
    pub regulator: k256::SecretKey,
    /// The anvil dev keys.
    pub signers: Vec<PrivateKeySigner>,
    /// Manifests and relayer state directories live here.
    pub dir: PathBuf,
}

/// Sends a call, waits (bounded) for its receipt; a refusal is a [`LocalError::Step`] naming the
/// decoded contract error.
pub async fn send<P, D>(
    what: &str,
    call: alloy::contract::CallBuilder<P, D>,
) -> Result<TransactionReceipt, LocalError>
where
    P: Provider,
    D: alloy::contract::CallDecoder,
{
    let pending = call.send().await.map_err(|err| {
        let message =
            ContractRevert::from_error(&err).map_or_else(|| err.to_string(), |r| r.to_string());
        LocalError::Step { what: what.to_owned(), message }
    })?;
    let tx_hash = *pending.tx_hash();
    let receipt = tokio::time::timeout(RECEIPT_TIMEOUT, pending.get_receipt())
        .await
        .map_err(|_| step(what)(format!("{tx_hash} not mined within {RECEIPT_TIMEOUT:?}")))?
        .map_err(|e| step(what)(e.to_string()))?;
    if !receipt.status() {
        return Err(step(what)(format!("transaction {tx_hash} failed")));
    }
    Ok(receipt)
}

impl LocalConsortium {
    /// Starts the three anvils and builds the consortium, reporting each step to `progress`.
    /// Manifests are written to `dir` (`governance.json`, `zoneA.chainA.json`, `zoneB.chainB.json`).
    pub async fn start(dir: &Path, progress: &dyn Fn(&str)) -> Result<LocalConsortium, LocalError> {
        Self::start_with(dir, progress, false, &Nodes::default()).await
    }

    /// Like [`LocalConsortium::start`], each chain on the node `nodes` names (Hardhat's node for
    /// a chain as consortia run them: an older hardfork, zero fees, relayers holding nothing).
    pub async fn start_on(
        dir: &Path,
        progress: &dyn Fn(&str),
        nodes: &Nodes,
    ) -> Result<LocalConsortium, LocalError> {
        Self::start_with(dir, progress, false, nodes).await
    }

    /// Like [`LocalConsortium::start`], with every node persisting its chain under `dir/chains`
    /// (anvil `--state`), so that nodes can be stopped and restarted ([`LocalChain::restart`])
    /// and the whole consortium saved and copied ([`LocalConsortium::save_state`]).
    pub async fn start_persistent(
        dir: &Path,
        progress: &dyn Fn(&str),
    ) -> Result<LocalConsortium, LocalError> {
        Self::start_with(dir, progress, true, &Nodes::default()).await
    }

    async fn start_with(
        dir: &Path,
        progress: &dyn Fn(&str),
        persistent: bool,
        nodes: &Nodes,
    ) -> Result<LocalConsortium, LocalError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| LocalError::Io { path: dir.to_path_buf(), message: e.to_string() })?;
        progress("starting three anvil chains (governance, zoneA.chainA, zoneB.chainB)");
        let state_file = |name: &str| -> Result<Option<PathBuf>, LocalError> {
            if !persistent {
                return Ok(None);
            }
            let chains = dir.join("chains");
            std::fs::create_dir_all(&chains)
                .map_err(|e| LocalError::Io { path: chains.clone(), message: e.to_string() })?;
            Ok(Some(chains.join(format!("{name}.json"))))
        };
        let start = |name: &str, id: u64, kind: &NodeKind| -> Result<LocalChain, LocalError> {
            LocalChain::start_kind(name, id, state_file(name)?, kind)
        };
        let gov = start("governance", GOV_CHAIN_ID, &nodes.governance)?;
        let chain_a = start("zoneA.chainA", CHAIN_A_ID, &nodes.a)?;
        let chain_b = start("zoneB.chainB", CHAIN_B_ID, &nodes.b)?;
        let signers: Vec<PrivateKeySigner> = devnet::DEV_KEYS
            .iter()
            .map(|k| k.parse().unwrap_or_else(|e| unreachable!("a dev key: {e}")))
            .collect();
        let address = |k: usize| signers[k].address();

        progress("deploying the governance suite; founders Bank A, Bank B, Bank C");
        let genesis = Genesis {
            institutions: [
                ("Bank A", keys::ADMIN_A),
                ("Bank B", keys::ADMIN_B),
                ("Bank C", keys::ADMIN_C),
            ]
            .iter()
            .map(|&(name, key)| FoundingInstitution {
                name: name.to_owned(),
                cert_hash: alloy::primitives::keccak256(name),
                admin: address(key),
            })
            .collect(),
            threshold: crate::genesis::DEFAULT_THRESHOLD,
            voting_period_secs: crate::genesis::DEFAULT_VOTING_PERIOD_SECS,
        };
        let deployment = deploy_governance(gov.provider(keys::DEPLOYER), &genesis).await?;

        progress("deploying XaLedger and HtlcAsset on both business chains");
        let resources_a = deploy_resources(chain_a.provider(keys::ADMIN_A)).await?;
        let resources_b = deploy_resources(chain_b.provider(keys::ADMIN_B)).await?;
        let regulator_key =
            k256::SecretKey::from_slice(signers[keys::REGULATOR].to_bytes().as_slice())
                .map_err(|e| step("regulator key")(e.to_string()))?;
        let net = LocalConsortium {
            gov,
            a: LocalBusinessChain {
                chain: chain_a,
                zone: segment("zoneA"),
                chain_name: segment("chainA"),
                resources: resources_a,
                owner_institution: 1,
            },
            b: LocalBusinessChain {
                chain: chain_b,
                zone: segment("zoneB"),
                chain_name: segment("chainB"),
                resources: resources_b,
                owner_institution: 2,
            },
            deployment,
            regulator: regulator_key,
            signers,
            dir: dir.to_path_buf(),
        };
        net.write_manifests()?;

        progress("admitting zoneA.chainA and zoneB.chainB by a vote of the three founders");
        for business in [&net.a, &net.b] {
            net.admit_chain(business).await?;
        }
        progress("registering relayers and users, serving relayers, grants, opening balances");
        net.register().await?;
        progress("admitting the regulator by vote");
        let public = net.regulator.public_key();
        let xy = crossgov_relayer::audit::envelope::public_key_xy(&public);
        let call = Supervision::admitRegulatorCall {
            publicKey: Bytes::copy_from_slice(&xy),
            name: "Regulator R".into(),
        };
        net.pass(net.deployment.supervision.address, &call, "admit regulator R").await?;
        Ok(net)
    }

    fn chains_mut(&mut self) -> [&mut LocalChain; 3] {
        [&mut self.gov, &mut self.a.chain, &mut self.b.chain]
    }

    /// Saves the three chains to `to` (a directory): each node is stopped, which writes its state
    /// file, the file copied, and the node started again. Needs [`LocalConsortium::start_persistent`].
    pub async fn save_state(&mut self, to: &Path) -> Result<(), LocalError> {
        std::fs::create_dir_all(to)
            .map_err(|e| LocalError::Io { path: to.to_path_buf(), message: e.to_string() })?;
        for chain in self.chains_mut() {
            let Some(file) = chain.state_file.clone() else {
                return Err(step(format!("save {}", chain.name))(
                    "the node was started without a state file".into(),
                ));
            };
            chain.stop().await?;
            let copy = to.join(format!("{}.json", chain.name));
            std::fs::copy(&file, &copy)
                .map_err(|e| LocalError::Io { path: copy, message: e.to_string() })?;
            chain.restart().await?;
        }
        Ok(())
    }

    /// A second consortium, identical to this one when `from` was saved
    /// ([`LocalConsortium::save_state`]): three new anvils loaded from copies of the saved chains,
    /// persisting under `dir/chains`, manifests in `dir`. Addresses, keys and balances are this
    /// one's; the two run independently.
    pub fn load_state(&self, from: &Path, dir: &Path) -> Result<LocalConsortium, LocalError> {
        let chains = dir.join("chains");
        std::fs::create_dir_all(&chains)
            .map_err(|e| LocalError::Io { path: chains.clone(), message: e.to_string() })?;
        let copy = |chain: &LocalChain| -> Result<LocalChain, LocalError> {
            let file = chains.join(format!("{}.json", chain.name));
            let saved = from.join(format!("{}.json", chain.name));
            std::fs::copy(&saved, &file)
                .map_err(|e| LocalError::Io { path: saved, message: e.to_string() })?;
            LocalChain::start(&chain.name, chain.chain_id, Some(file))
        };
        let business = |b: &LocalBusinessChain| -> Result<LocalBusinessChain, LocalError> {
            Ok(LocalBusinessChain {
                chain: copy(&b.chain)?,
                zone: b.zone,
                chain_name: b.chain_name,
                resources: b.resources.clone(),
                owner_institution: b.owner_institution,
            })
        };
        let net = LocalConsortium {
            gov: copy(&self.gov)?,
            a: business(&self.a)?,
            b: business(&self.b)?,
            deployment: self.deployment.clone(),
            regulator: self.regulator.clone(),
            signers: self.signers.clone(),
            dir: dir.to_path_buf(),
        };
        net.write_manifests()?;
        Ok(net)
    }

    fn write_manifests(&self) -> Result<(), LocalError> {
        let io = |path: PathBuf| {
            move |e: crate::ManifestError| LocalError::Io { path, message: e.to_string() }
        };
        let path = self.governance_manifest();
        self.deployment.write_manifest(&path).map_err(io(path.clone()))?;
        for business in [&self.a, &self.b] {
            let path = self.dir.join(format!("{}.json", business.name()));
            business.resources.write_manifest(&path).map_err(io(path.clone()))?;
        }
        Ok(())
    }

    /// Where the governance manifest is.
    pub fn governance_manifest(&self) -> PathBuf {
        self.dir.join("governance.json")
    }

    /// The address of dev key `key`.
    pub fn address(&self, key: usize) -> Address {
        self.signers[key].address()
    }

    /// Proposes `call` on `target` as Bank A's admin, has the founders approve until it passes
    /// and executes it. Returns the execution receipt.
    pub async fn pass<C: SolCall>(
        &self,
        target: Address,
        call: &C,
        description: &str,
    ) -> Result<TransactionReceipt, LocalError> {
        let registry = |k: usize| {
            InstitutionRegistry::new(
                self.deployment.institution_registry.address,
                self.gov.provider(k).clone(),
            )
        };
        let data = Bytes::from(call.abi_encode());
        let receipt = send(
            &format!("propose {description}"),
            registry(keys::ADMIN_A).propose(target, data.clone(), description.to_owned()),
        )
        .await?;
        let created = receipt
            .inner
            .logs()
            .iter()
            .find_map(|l| l.log_decode::<InstitutionRegistry::ProposalCreated>().ok())
            .ok_or_else(|| step(description)("no ProposalCreated".into()))?;
        let id = created.inner.data.proposalId;
        // Founders approve in turn until it passes (2 of 3 at the default threshold).
        for voter in [keys::ADMIN_A, keys::ADMIN_B, keys::ADMIN_C] {
            let receipt =
                send(&format!("vote on {description}"), registry(voter).vote(id, true)).await?;
            let passed = receipt
                .inner
                .logs()
                .iter()
                .any(|l| l.log_decode::<InstitutionRegistry::ProposalPassed>().is_ok());
            if passed {
                break;
            }
        }
        send(&format!("execute {description}"), registry(keys::DEPLOYER).execute(id, data)).await
    }

    async fn admit_chain(&self, business: &LocalBusinessChain) -> Result<(), LocalError> {
        let genesis_hash = business
            .chain
            .provider(keys::DEPLOYER)
            .get_block_by_number(BlockNumberOrTag::Number(0))
            .await
            .map_err(|e| step("genesis block")(e.to_string()))?
            .map(|b| b.header.hash)
            .unwrap_or(B256::ZERO);
        let call = ChainRegistry::admitChainCall {
            zone: business.zone.to_word(),
            chain: business.chain_name.to_word(),
            chainType: segment("evm").to_word(),
            chainId: U256::from(business.resources.chain_id),
            owner: business.owner_institution,
            genesisHash: genesis_hash,
        };
        self.pass(
            self.deployment.chain_registry.address,
            &call,
            &format!("admit {}", business.name()),
        )
        .await?;
        Ok(())
    }

    async fn register(&self) -> Result<(), LocalError> {
        let d = &self.deployment;
        let registry = |k: usize| {
            InstitutionRegistry::new(d.institution_registry.address, self.gov.provider(k).clone())
        };
        let accounts = [
            (keys::ADMIN_A, keys::RELAYER_A, Role::Relayer),
            (keys::ADMIN_A, keys::RELAYER_A2, Role::Relayer),
            (keys::ADMIN_A, keys::ALICE, Role::User),
            (keys::ADMIN_B, keys::RELAYER_B, Role::Relayer),
            (keys::ADMIN_B, keys::BOB, Role::User),
        ];
        for (admin, key, role) in accounts {
            send("add account", registry(admin).addAccount(self.address(key), role.into())).await?;
        }
        let chains =
            |k: usize| ChainRegistry::new(d.chain_registry.address, self.gov.provider(k).clone());
        let perms = |k: usize| {
            PermissionManager::new(d.permission_manager.address, self.gov.provider(k).clone())
        };
        for (admin, business, relayers) in [
            (keys::ADMIN_A, &self.a, vec![keys::RELAYER_A, keys::RELAYER_A2]),
            (keys::ADMIN_B, &self.b, vec![keys::RELAYER_B]),
        ] {
            let list = relayers.iter().map(|&k| self.address(k)).collect();
            let (z, c) = (business.zone.to_word(), business.chain_name.to_word());
            send("set serving relayers", chains(admin).setServingRelayers(z, c, list, true))
                .await?;
            for &relayer in &relayers {
                send(
                    "authorise relayer",
                    business.xa(admin).setRelayer(self.address(relayer), true),
                )
                .await?;
            }
            let pattern: crossgov_relayer::Pattern = format!("{}.*", business.name())
                .parse()
                .map_err(|e: crossgov_relayer::IPathError| step("pattern")(e.to_string()))?;
            let (pz, pc, pr) = pattern.to_words();
            for user in [keys::ALICE, keys::BOB] {
                let ops = (Ops::TWO_PHASE | Ops::HTLC).bits();
                send("grant", perms(admin).grantToAccount(self.address(user), pz, pc, pr, ops))
                    .await?;
            }
        }
        let opening = U256::from(OPENING_BALANCE);
        send("mint alice on A", self.a.xa(keys::ADMIN_A).mint(self.address(keys::ALICE), opening))
            .await?;
        send(
            "mint alice on A",
            self.a.htlc(keys::ADMIN_A).mint(self.address(keys::ALICE), opening),
        )
        .await?;
        send("mint bob on B", self.b.xa(keys::ADMIN_B).mint(self.address(keys::BOB), opening))
            .await?;
        send("mint bob on B", self.b.htlc(keys::ADMIN_B).mint(self.address(keys::BOB), opening))
            .await?;
        Ok(())
    }

    /// The settings of a relayer of `institution` (1 serves chain A and reaches chain B as an
    /// HTLC peer, 2 serves chain B and reaches chain A) with its state in `state_dir`.
    pub fn relayer_settings(
        &self,
        institution: u64,
        state_dir: PathBuf,
    ) -> (RelayerSettings, HtlcSettings) {
        let d = &self.deployment;
        let contracts = d.governance_addresses();
        let (served, peer) = if institution == 1 { (&self.a, &self.b) } else { (&self.b, &self.a) };
        let settings = RelayerSettings {
            institution,
            governance: ChainEndpoint {
                rpc_url: self.gov.rpc_url(),
                chain_id: Some(d.chain_id),
                confirmations: 1,
                contracts,
                options: self.gov.relayer_options(),
            },
            chains: vec![served.served()],
            state_dir,
            poll_interval: Duration::from_millis(100),
            reconcile_every_blocks: 1,
            health: crossgov_relayer::health::HealthPolicy::default(),
            max_open_work: crossgov_relayer::runtime::DEFAULT_MAX_OPEN_WORK,
        };
        // Each reaches the other's chain: the initiator's relayer (Bank A's, for alice) reveals
        // swap secrets on chain B, and the counterparty's checks leg A's lock on chain A before
        // locking leg B (rather than trusting chain A's owner's record).
        let peers = vec![peer.peer()];
        let htlc =
            HtlcSettings { safety_margin: SAFETY_MARGIN_SECS, peers, ..HtlcSettings::default() };
        (settings, htlc)
    }

    /// Starts a relayer of `institution` with dev key `key`, its state under `dir/state/<name>`.
    pub async fn start_relayer(
        &self,
        institution: u64,
        key: usize,
        name: &str,
        hook: Option<ProtocolHook>,
    ) -> Result<RelayerHandle, LocalError> {
        let state_dir = self.dir.join("state").join(name);
        let (settings, htlc) = self.relayer_settings(institution, state_dir);
        Relayer::start_with_htlc(
            settings,
            htlc,
            self.signers[key].clone(),
            Arc::new(Metrics::new()),
            hook,
        )
        .await
        .map_err(|e| step(format!("start relayer {name}"))(e.to_string()))
    }
}
