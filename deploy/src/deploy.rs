//! Deploying the governance suite from the committed artifacts.

use std::time::Duration;

use alloy::contract::{CallBuilder, CallDecoder, RawCallBuilder};
use alloy::primitives::{Address, B256, Bytes, keccak256};
use alloy::providers::{PendingTransactionError, Provider};
use alloy::rpc::types::TransactionReceipt;
use alloy::transports::{RpcError, TransportError};

use crossgov_relayer::ContractRevert;
use crossgov_relayer::bindings::{
    ChainRegistry, HtlcAsset, InstitutionRegistry, PermissionManager, Supervision,
    TransactionManager, XaLedger,
};
use crossgov_relayer::protocol::{htlc_domain, tm_domain};

use crate::genesis::{Genesis, GenesisError};
use crate::manifest::{DeployedContract, Deployment, ResourceDeployment};

/// Why a deployment failed. [`DeployError::is_retryable`] tells whether running it again may
/// succeed (a node or network hiccup) or will fail the same way (bad genesis, reverted
/// constructor, unexpected code). A retry deploys a fresh suite; contracts already deployed by the
/// failed attempt are simply abandoned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeployError {
    /// The genesis configuration is invalid; nothing was sent. Fix the file.
    #[error("invalid genesis (nothing was deployed): {0}")]
    Genesis(#[from] GenesisError),
    /// An RPC request failed.
    #[error("cannot {action}: {source}{}", retry_hint(transport_retryable(source)))]
    Rpc {
        /// What was being done.
        action: &'static str,
        /// The transport or node error.
        source: Box<TransportError>,
    },
    /// Sending the deployment transaction failed (including a constructor revert found while
    /// estimating gas, decoded into `revert` when it is one of our errors).
    #[error(
        "deploying {contract} failed: {}{}",
        revert.as_ref().map_or_else(|| source.to_string(), |r| format!("constructor reverted with {r}")),
        retry_hint(revert.is_none() && contract_error_retryable(source))
    )]
    Send {
        /// Which contract.
        contract: &'static str,
        /// The decoded revert, if the constructor reverted with a known error.
        revert: Option<Box<ContractRevert>>,
        /// The underlying error.
        source: Box<alloy::contract::Error>,
    },
    /// The transaction was sent but its receipt could not be obtained.
    #[error("waiting for the {contract} deployment receipt failed: {source}{}", retry_hint(true))]
    Receipt {
        /// Which contract.
        contract: &'static str,
        /// The underlying error.
        source: Box<PendingTransactionError>,
    },
    /// The deployment transaction was mined but reverted.
    #[error("the {contract} deployment transaction {tx_hash} reverted{}", retry_hint(false))]
    Reverted {
        /// Which contract.
        contract: &'static str,
        /// The transaction.
        tx_hash: B256,
    },
    /// The receipt names no created contract.
    #[error("the receipt of {tx_hash} has no {contract} contract address{}", retry_hint(false))]
    NoContractAddress {
        /// Which contract.
        contract: &'static str,
        /// The transaction.
        tx_hash: B256,
    },
    /// The deployed runtime code is not the artifact's (or there is none).
    #[error(
        "{contract} at {address} has {actual_len} bytes of runtime code that do not match the artifact's {expected_len}{}",
        retry_hint(false)
    )]
    CodeMismatch {
        /// Which contract.
        contract: &'static str,
        /// Its address.
        address: Address,
        /// Length of the code found on chain.
        actual_len: usize,
        /// Length of the artifact's `deployedBytecode`.
        expected_len: usize,
    },
    /// A wiring view returned another address than the one deployed.
    #[error("{contract}.{view}() is {actual}, expected {expected}{}", retry_hint(false))]
    Wiring {
        /// Which contract.
        contract: &'static str,
        /// The view.
        view: &'static str,
        /// What it should be.
        expected: Address,
        /// What it is.
        actual: Address,
    },
    /// A contract's EIP-712 `DOMAIN_SEPARATOR()` is not the one signers compute for it (name,
    /// version, chain id, address), so every signature made for it would be refused.
    #[error("{contract}.DOMAIN_SEPARATOR() is {actual}, expected {expected}{}", retry_hint(false))]
    DomainSeparator {
        /// Which contract.
        contract: &'static str,
        /// What signers compute.
        expected: B256,
        /// What the contract returns.
        actual: B256,
    },
    /// A manifest does not describe what is on the chain (another chain, other code, no code).
    #[error("the manifest does not match the chain: {0} (retrying will not help)")]
    ManifestMismatch(String),
    /// Reading a wiring view failed.
    #[error(
        "cannot call {contract}.{view}(): {source}{}",
        retry_hint(contract_error_retryable(source))
    )]
    View {
        /// Which contract.
        contract: &'static str,
        /// The view.
        view: &'static str,
        /// The underlying error.
        source: Box<alloy::contract::Error>,
    },
}

impl DeployError {
    /// True when the same deployment may succeed if run again (transient node or network
    /// failure); false when it would fail the same way.
    pub fn is_retryable(&self) -> bool {
        match self {
            DeployError::Rpc { source, .. } => transport_retryable(source),
            DeployError::Send { revert, source, .. } => {
                revert.is_none() && contract_error_retryable(source)
            }
            DeployError::Receipt { .. } => true,
            DeployError::View { source, .. } => contract_error_retryable(source),
            DeployError::Genesis(_)
            | DeployError::Reverted { .. }
            | DeployError::NoContractAddress { .. }
            | DeployError::CodeMismatch { .. }
            | DeployError::Wiring { .. }
            | DeployError::DomainSeparator { .. }
            | DeployError::ManifestMismatch(_) => false,
        }
    }
}

fn retry_hint(retryable: bool) -> &'static str {
    if retryable { " (transient: retrying may help)" } else { " (retrying will not help)" }
}

/// Transport failures (connection refused, timeouts, empty responses) are transient; an error
/// response from the node is an answer and would be given again.
fn transport_retryable(err: &TransportError) -> bool {
    matches!(err, RpcError::Transport(_) | RpcError::NullResp)
}

fn contract_error_retryable(err: &alloy::contract::Error) -> bool {
    match err {
        alloy::contract::Error::TransportError(e) => {
            err.as_revert_data().is_none() && transport_retryable(e)
        }
        alloy::contract::Error::PendingTransactionError(_) => true,
        _ => false,
    }
}

/// Deploys InstitutionRegistry(founders, threshold, voting period), ChainRegistry(registry),
/// PermissionManager(registry, chainRegistry), TransactionManager(registry, chainRegistry,
/// permissionManager) and Supervision(registry, transactionManager) from the committed artifacts with `provider`'s
/// wallet, then checks each address holds the artifact's runtime code, the contracts are wired to
/// each other (the TransactionManager is bound to its Supervision by `bindSupervision`, sent
/// from the same wallet) and the TransactionManager's EIP-712 domain is the one signers compute. Returns the
/// deployment manifest.
///
/// Each transaction is awaited (up to [`RECEIPT_TIMEOUT`]) before the next is sent, since each
/// constructor takes the previous contracts' addresses.
pub async fn deploy_governance<P>(
    provider: &P,
    genesis: &Genesis,
) -> Result<Deployment, DeployError>
where
    P: Provider + Clone,
{
    genesis.validate()?;
    let chain_id = read_chain_id(provider).await?;

    let registry = deploy_one(
        provider,
        Artifact::INSTITUTION_REGISTRY,
        InstitutionRegistry::deploy_builder(
            provider.clone(),
            genesis.founders(),
            genesis.threshold.numerator,
            genesis.threshold.denominator,
            genesis.voting_period_secs,
        ),
    )
    .await?;
    let chain_registry = deploy_one(
        provider,
        Artifact::CHAIN_REGISTRY,
        ChainRegistry::deploy_builder(provider.clone(), registry.address),
    )
    .await?;
    let permission_manager = deploy_one(
        provider,
        Artifact::PERMISSION_MANAGER,
        PermissionManager::deploy_builder(
            provider.clone(),
            registry.address,
            chain_registry.address,
        ),
    )
    .await?;
    let transaction_manager = deploy_one(
        provider,
        Artifact::TRANSACTION_MANAGER,
        TransactionManager::deploy_builder(
            provider.clone(),
            registry.address,
            chain_registry.address,
            permission_manager.address,
        ),
    )
    .await?;
    let supervision = deploy_one(
        provider,
        Artifact::SUPERVISION,
        Supervision::deploy_builder(
            provider.clone(),
            registry.address,
            transaction_manager.address,
        ),
    )
    .await?;
    // The two name each other: the TransactionManager learns Supervision once both exist.
    bind_supervision(provider, transaction_manager.address, supervision.address).await?;

    // Immutables: check each contract points at the others.
    let cr = ChainRegistry::new(chain_registry.address, provider.clone());
    let pm = PermissionManager::new(permission_manager.address, provider.clone());
    let tm = TransactionManager::new(transaction_manager.address, provider.clone());
    let sup = Supervision::new(supervision.address, provider.clone());
    check_wiring("ChainRegistry", "registry", registry.address, cr.registry().call().await)?;
    check_wiring("PermissionManager", "registry", registry.address, pm.registry().call().await)?;
    check_wiring(
        "PermissionManager",
        "chainRegistry",
        chain_registry.address,
        pm.chainRegistry().call().await,
    )?;
    check_wiring("TransactionManager", "registry", registry.address, tm.registry().call().await)?;
    check_wiring(
        "TransactionManager",
        "chainRegistry",
        chain_registry.address,
        tm.chainRegistry().call().await,
    )?;
    check_wiring(
        "TransactionManager",
        "permissionManager",
        permission_manager.address,
        tm.permissionManager().call().await,
    )?;
    check_wiring("Supervision", "registry", registry.address, sup.registry().call().await)?;
    check_wiring(
        "Supervision",
        "transactionManager",
        transaction_manager.address,
        sup.transactionManager().call().await,
    )?;
    check_wiring(
        "TransactionManager",
        "supervision",
        supervision.address,
        tm.supervision().call().await,
    )?;
    check_domain(
        "TransactionManager",
        tm_domain(chain_id, transaction_manager.address).separator(),
        tm.DOMAIN_SEPARATOR().call().await,
    )?;

    Ok(Deployment {
        chain_id,
        institution_registry: registry,
        chain_registry,
        permission_manager,
        transaction_manager,
        supervision,
    })
}

/// Deploys the business-chain resources XaLedger and HtlcAsset on the chain `provider` is
/// connected to, with `provider`'s wallet, which becomes their owner (it mints and authorises
/// relayers). Checks the runtime code, that both name the deploying account as owner, and the
/// HtlcAsset's EIP-712 domain. Returns the resource manifest.
///
/// The owner then authorises the relayer accounts serving the chain with `XaLedger.setRelayer`;
/// HtlcAsset legs need no authorisation (the sender's signature is the authority).
pub async fn deploy_resources<P>(provider: &P) -> Result<ResourceDeployment, DeployError>
where
    P: Provider + Clone,
{
    let chain_id = read_chain_id(provider).await?;
    let (xa_ledger, owner) =
        deploy_one_from(provider, Artifact::XA_LEDGER, XaLedger::deploy_builder(provider.clone()))
            .await?;
    let htlc_asset =
        deploy_one(provider, Artifact::HTLC_ASSET, HtlcAsset::deploy_builder(provider.clone()))
            .await?;

    let xa = XaLedger::new(xa_ledger.address, provider.clone());
    let htlc = HtlcAsset::new(htlc_asset.address, provider.clone());
    check_wiring("XaLedger", "owner", owner, xa.owner().call().await)?;
    check_wiring("HtlcAsset", "owner", owner, htlc.owner().call().await)?;
    check_domain(
        "HtlcAsset",
        htlc_domain(chain_id, htlc_asset.address).separator(),
        htlc.DOMAIN_SEPARATOR().call().await,
    )?;

    Ok(ResourceDeployment { chain_id, owner, xa_ledger, htlc_asset })
}

/// Checks that the governance suite `deployment` describes is on the chain `provider` is
/// connected to: the chain id, each contract's runtime code against the committed artifact (and
/// the manifest's recorded artifact hash), and the wiring between them. Sends nothing.
pub async fn verify_governance<P>(provider: &P, deployment: &Deployment) -> Result<(), DeployError>
where
    P: Provider + Clone,
{
    check_chain_id(provider, deployment.chain_id).await?;
    for (artifact, deployed) in [
        (Artifact::INSTITUTION_REGISTRY, &deployment.institution_registry),
        (Artifact::CHAIN_REGISTRY, &deployment.chain_registry),
        (Artifact::PERMISSION_MANAGER, &deployment.permission_manager),
        (Artifact::TRANSACTION_MANAGER, &deployment.transaction_manager),
        (Artifact::SUPERVISION, &deployment.supervision),
    ] {
        verify_code(provider, artifact, deployed).await?;
    }
    let tm = TransactionManager::new(deployment.transaction_manager.address, provider.clone());
    let sup = Supervision::new(deployment.supervision.address, provider.clone());
    let registry = deployment.institution_registry.address;
    check_wiring("TransactionManager", "registry", registry, tm.registry().call().await)?;
    check_wiring(
        "TransactionManager",
        "chainRegistry",
        deployment.chain_registry.address,
        tm.chainRegistry().call().await,
    )?;
    check_wiring(
        "TransactionManager",
        "permissionManager",
        deployment.permission_manager.address,
        tm.permissionManager().call().await,
    )?;
    check_wiring("Supervision", "registry", registry, sup.registry().call().await)?;
    check_wiring(
        "Supervision",
        "transactionManager",
        deployment.transaction_manager.address,
        sup.transactionManager().call().await,
    )?;
    check_wiring(
        "TransactionManager",
        "supervision",
        deployment.supervision.address,
        tm.supervision().call().await,
    )?;
    Ok(())
}

/// Checks that the resources `deployment` describes are on the chain `provider` is connected to.
pub async fn verify_resources<P>(
    provider: &P,
    deployment: &ResourceDeployment,
) -> Result<(), DeployError>
where
    P: Provider + Clone,
{
    check_chain_id(provider, deployment.chain_id).await?;
    verify_code(provider, Artifact::XA_LEDGER, &deployment.xa_ledger).await?;
    verify_code(provider, Artifact::HTLC_ASSET, &deployment.htlc_asset).await?;
    let xa = XaLedger::new(deployment.xa_ledger.address, provider.clone());
    check_wiring("XaLedger", "owner", deployment.owner, xa.owner().call().await)?;
    Ok(())
}

async fn verify_code<P: Provider>(
    provider: &P,
    artifact: Artifact,
    deployed: &DeployedContract,
) -> Result<(), DeployError> {
    let expected = &artifact.deployed_bytecode[..];
    if deployed.deployed_bytecode_hash != keccak256(expected) {
        return Err(DeployError::ManifestMismatch(format!(
            "{} was deployed from another build (artifact hash {}, this build {})",
            artifact.name,
            deployed.deployed_bytecode_hash,
            keccak256(expected)
        )));
    }
    check_code(provider, artifact, deployed.address).await
}

/// The runtime code at `address` is the artifact's (see [`code_matches`]).
async fn check_code<P: Provider>(
    provider: &P,
    artifact: Artifact,
    address: Address,
) -> Result<(), DeployError> {
    let code = provider.get_code_at(address).await.map_err(|source| DeployError::Rpc {
        action: "read the deployed code",
        source: Box::new(source),
    })?;
    let expected = &artifact.deployed_bytecode[..];
    if !code_matches(&code, expected, artifact.has_immutables) {
        return Err(DeployError::CodeMismatch {
            contract: artifact.name,
            address,
            actual_len: code.len(),
            expected_len: expected.len(),
        });
    }
    Ok(())
}

/// A manifest's chain id against the endpoint's.
async fn check_chain_id<P: Provider>(provider: &P, named: u64) -> Result<(), DeployError> {
    let chain_id = read_chain_id(provider).await?;
    if chain_id != named {
        return Err(DeployError::ManifestMismatch(format!(
            "it names chain id {named}, the endpoint serves chain id {chain_id}"
        )));
    }
    Ok(())
}

async fn read_chain_id<P: Provider>(provider: &P) -> Result<u64, DeployError> {
    provider.get_chain_id().await.map_err(|source| DeployError::Rpc {
        action: "read the chain id",
        source: Box::new(source),
    })
}

/// How long to wait for each deployment transaction to be mined before giving up (retryable).
pub const RECEIPT_TIMEOUT: Duration = Duration::from_secs(300);

/// What we know about a contract's artifact.
#[derive(Debug, Clone, Copy)]
struct Artifact {
    name: &'static str,
    deployed_bytecode: &'static Bytes,
    /// Whether the runtime code embeds immutables (patched in at deployment).
    has_immutables: bool,
}

impl Artifact {
    const INSTITUTION_REGISTRY: Artifact = Artifact {
        name: "InstitutionRegistry",
        deployed_bytecode: &InstitutionRegistry::DEPLOYED_BYTECODE,
        has_immutables: false,
    };
    const CHAIN_REGISTRY: Artifact = Artifact {
        name: "ChainRegistry",
        deployed_bytecode: &ChainRegistry::DEPLOYED_BYTECODE,
        has_immutables: true,
    };
    const PERMISSION_MANAGER: Artifact = Artifact {
        name: "PermissionManager",
        deployed_bytecode: &PermissionManager::DEPLOYED_BYTECODE,
        has_immutables: true,
    };
    const TRANSACTION_MANAGER: Artifact = Artifact {
        name: "TransactionManager",
        deployed_bytecode: &TransactionManager::DEPLOYED_BYTECODE,
        has_immutables: true,
    };
    const SUPERVISION: Artifact = Artifact {
        name: "Supervision",
        deployed_bytecode: &Supervision::DEPLOYED_BYTECODE,
        has_immutables: true,
    };
    const XA_LEDGER: Artifact = Artifact {
        name: "XaLedger",
        deployed_bytecode: &XaLedger::DEPLOYED_BYTECODE,
        has_immutables: true,
    };
    const HTLC_ASSET: Artifact = Artifact {
        name: "HtlcAsset",
        deployed_bytecode: &HtlcAsset::DEPLOYED_BYTECODE,
        has_immutables: true,
    };
}

async fn deploy_one<P: Provider + Clone>(
    provider: &P,
    artifact: Artifact,
    builder: RawCallBuilder<P>,
) -> Result<DeployedContract, DeployError> {
    deploy_one_from(provider, artifact, builder).await.map(|(deployed, _)| deployed)
}

/// [`deploy_one`], also returning the account that sent the deployment (from its receipt).
async fn deploy_one_from<P: Provider + Clone>(
    provider: &P,
    artifact: Artifact,
    builder: RawCallBuilder<P>,
) -> Result<(DeployedContract, Address), DeployError> {
    let contract = artifact.name;
    let receipt = send_mined(contract, builder).await?;
    let tx_hash = receipt.transaction_hash;
    let address =
        receipt.contract_address.ok_or(DeployError::NoContractAddress { contract, tx_hash })?;
    let block = receipt.block_number.ok_or(DeployError::Rpc {
        action: "read the deployment block from the receipt",
        source: Box::new(RpcError::NullResp),
    })?;

    check_code(provider, artifact, address).await?;
    let deployed_bytecode_hash = keccak256(&artifact.deployed_bytecode[..]);
    let deployed = DeployedContract { address, block, tx_hash, deployed_bytecode_hash };
    Ok((deployed, receipt.from))
}

/// `TransactionManager.bindSupervision(supervision)`, awaited like a deployment.
async fn bind_supervision<P: Provider + Clone>(
    provider: &P,
    transaction_manager: Address,
    supervision: Address,
) -> Result<(), DeployError> {
    let tm = TransactionManager::new(transaction_manager, provider.clone());
    send_mined("TransactionManager.bindSupervision", tm.bindSupervision(supervision)).await?;
    Ok(())
}

/// Sends `call` and waits up to [`RECEIPT_TIMEOUT`] for it to be mined; a revert, found while
/// estimating gas or on chain, is an error naming `contract`.
async fn send_mined<P: Provider, D: CallDecoder>(
    contract: &'static str,
    call: CallBuilder<P, D>,
) -> Result<TransactionReceipt, DeployError> {
    let pending = call.send().await.map_err(|source| DeployError::Send {
        contract,
        revert: ContractRevert::from_error(&source).map(Box::new),
        source: Box::new(source),
    })?;
    let receipt = pending
        .with_timeout(Some(RECEIPT_TIMEOUT))
        .get_receipt()
        .await
        .map_err(|source| DeployError::Receipt { contract, source: Box::new(source) })?;
    if !receipt.status() {
        return Err(DeployError::Reverted { contract, tx_hash: receipt.transaction_hash });
    }
    Ok(receipt)
}

/// The runtime code equals the artifact's `deployedBytecode`, except that for contracts with
/// immutables solc leaves their slots zeroed in the artifact: there any byte is accepted.
fn code_matches(code: &[u8], expected: &[u8], has_immutables: bool) -> bool {
    if code.is_empty() || code.len() != expected.len() {
        return false;
    }
    if !has_immutables {
        return keccak256(code) == keccak256(expected);
    }
    code.iter().zip(expected).all(|(&got, &want)| got == want || want == 0)
}

fn check_domain(
    contract: &'static str,
    expected: B256,
    actual: Result<B256, alloy::contract::Error>,
) -> Result<(), DeployError> {
    let view = "DOMAIN_SEPARATOR";
    let actual =
        actual.map_err(|source| DeployError::View { contract, view, source: Box::new(source) })?;
    if actual != expected {
        return Err(DeployError::DomainSeparator { contract, expected, actual });
    }
    Ok(())
}

fn check_wiring(
    contract: &'static str,
    view: &'static str,
    expected: Address,
    actual: Result<Address, alloy::contract::Error>,
) -> Result<(), DeployError> {
    let actual =
        actual.map_err(|source| DeployError::View { contract, view, source: Box::new(source) })?;
    if actual != expected {
        return Err(DeployError::Wiring { contract, view, expected, actual });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_comparison_tolerates_only_immutable_slots() {
        let artifact = [1, 2, 0, 0, 5];
        assert!(code_matches(&[1, 2, 0, 0, 5], &artifact, true));
        assert!(code_matches(&[1, 2, 9, 8, 5], &artifact, true), "immutable slot filled in");
        assert!(!code_matches(&[1, 3, 0, 0, 5], &artifact, true), "a code byte differs");
        assert!(!code_matches(&[1, 2, 0, 0], &artifact, true), "length differs");
        assert!(!code_matches(&[], &[], true), "no code");
        assert!(code_matches(&[1, 2, 0, 0, 5], &artifact, false));
        assert!(!code_matches(&[1, 2, 9, 8, 5], &artifact, false), "no immutables: exact only");
    }

    #[test]
    fn artifacts_are_embedded() {
        for artifact in [
            Artifact::INSTITUTION_REGISTRY,
            Artifact::CHAIN_REGISTRY,
            Artifact::PERMISSION_MANAGER,
            Artifact::TRANSACTION_MANAGER,
            Artifact::SUPERVISION,
            Artifact::XA_LEDGER,
            Artifact::HTLC_ASSET,
        ] {
            assert!(artifact.deployed_bytecode.len() > 100, "{}", artifact.name);
            // The flag follows the sources: solc leaves an immutable's slots zeroed in the
            // artifact, so a contract declaring one must be compared with those slots open.
            let source = ["governance", "resources"]
                .iter()
                .map(|dir| {
                    crate::devnet::workspace_root()
                        .join("contracts/src")
                        .join(dir)
                        .join(format!("{}.sol", artifact.name))
                })
                .find(|path| path.is_file())
                .unwrap_or_else(|| panic!("no source for {}", artifact.name));
            let text = std::fs::read_to_string(&source).expect("read source");
            assert_eq!(text.contains(" immutable "), artifact.has_immutables, "{}", artifact.name);
        }
    }

    #[test]
    fn retry_classification() {
        let genesis = DeployError::Genesis(GenesisError::FounderCount { count: 0 });
        assert!(!genesis.is_retryable());
        assert!(genesis.to_string().contains("nothing was deployed"));
        let rpc =
            DeployError::Rpc { action: "read the chain id", source: Box::new(RpcError::NullResp) };
        assert!(rpc.is_retryable());
        assert!(rpc.to_string().ends_with("(transient: retrying may help)"), "{rpc}");
        let reverted = DeployError::Reverted { contract: "ChainRegistry", tx_hash: B256::ZERO };
        assert!(!reverted.is_retryable());
        assert!(reverted.to_string().ends_with("(retrying will not help)"), "{reverted}");
    }
}
