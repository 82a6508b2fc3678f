//! The deployment manifests, written as JSON after deploying and read by the relayer and the CLI:
//! [`Deployment`] (where the governance suite lives) and [`ResourceDeployment`] (where a business
//! chain's resources live).

use std::path::Path;

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};

/// The deployed governance suite (the manifest's content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deployment {
    /// Chain id of the governance chain.
    pub chain_id: u64,
    /// The InstitutionRegistry (council, proposals, accounts).
    pub institution_registry: DeployedContract,
    /// The ChainRegistry (business chains, serving relayers).
    pub chain_registry: DeployedContract,
    /// The PermissionManager (grants on iPath patterns).
    pub permission_manager: DeployedContract,
    /// The TransactionManager (2PC coordinator, HTLC swap ledger).
    pub transaction_manager: DeployedContract,
    /// The Supervision contract (regulators, audit hash chain).
    pub supervision: DeployedContract,
}

/// The business-chain resources deployed on one business chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceDeployment {
    /// Chain id of the business chain.
    pub chain_id: u64,
    /// The account that deployed (and owns) both resources: it mints and authorises relayers.
    pub owner: Address,
    /// The XaLedger (2PC resource).
    pub xa_ledger: DeployedContract,
    /// The HtlcAsset (HTLC resource).
    pub htlc_asset: DeployedContract,
}

/// One deployed contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeployedContract {
    /// Its address.
    pub address: Address,
    /// The block that created it (where log scans of it can start).
    pub block: u64,
    /// The creating transaction.
    pub tx_hash: B256,
    /// keccak256 of the artifact's `deployedBytecode`: which build was deployed.
    pub deployed_bytecode_hash: B256,
}

/// The manifest could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// File system error.
    #[error("cannot {action} deployment manifest {path}: {source}")]
    Io {
        /// "read" or "write".
        action: &'static str,
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a manifest.
    #[error("deployment manifest {path} is not valid: {source}")]
    Json {
        /// The file.
        path: String,
        /// The parse error.
        source: serde_json::Error,
    },
}

impl Deployment {
    /// Writes the manifest as pretty JSON. The file is replaced atomically (written next to the
    /// target, then renamed), so a reader never sees half a manifest.
    pub fn write_manifest(&self, path: impl AsRef<Path>) -> Result<(), ManifestError> {
        write_json(self, path.as_ref())
    }

    /// Reads a manifest written by [`Deployment::write_manifest`].
    pub fn read_manifest(path: impl AsRef<Path>) -> Result<Self, ManifestError> {
        read_json(path.as_ref())
    }

    /// The suite's addresses as a relayer's settings name them.
    pub fn governance_addresses(&self) -> crossgov_relayer::runtime::GovernanceAddresses {
        crossgov_relayer::runtime::GovernanceAddresses {
            registry: self.institution_registry.address,
            chain_registry: self.chain_registry.address,
            permission_manager: self.permission_manager.address,
            transaction_manager: self.transaction_manager.address,
            supervision: self.supervision.address,
        }
    }

    /// Where the audit trail and the facts it is checked against live (read with the default
    /// log range; set `max_log_range` for a node with a smaller limit).
    pub fn trail_sources(&self) -> crossgov_relayer::audit::verify::TrailSources {
        let blocks = [
            self.institution_registry.block,
            self.chain_registry.block,
            self.transaction_manager.block,
            self.supervision.block,
        ];
        crossgov_relayer::audit::verify::TrailSources {
            supervision: self.supervision.address,
            transaction_manager: self.transaction_manager.address,
            registry: self.institution_registry.address,
            chain_registry: self.chain_registry.address,
            from_block: blocks.into_iter().min().unwrap_or(0),
            max_log_range: crossgov_relayer::chain::DEFAULT_MAX_LOG_RANGE,
        }
    }
}

impl ResourceDeployment {
    /// Writes the manifest as pretty JSON, atomically (see [`Deployment::write_manifest`]).
    pub fn write_manifest(&self, path: impl AsRef<Path>) -> Result<(), ManifestError> {
        write_json(self, path.as_ref())
    }

    /// Reads a manifest written by [`ResourceDeployment::write_manifest`].
    pub fn read_manifest(path: impl AsRef<Path>) -> Result<Self, ManifestError> {
        read_json(path.as_ref())
    }
}

fn write_json<T: Serialize>(value: &T, path: &Path) -> Result<(), ManifestError> {
    let io =
        |source| ManifestError::Io { action: "write", path: path.display().to_string(), source };
    let mut json = serde_json::to_string_pretty(value)
        .map_err(|source| ManifestError::Json { path: path.display().to_string(), source })?;
    json.push('\n');
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, json).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Io {
        action: "read",
        path: path.display().to_string(),
        source,
    })?;
    serde_json::from_str(&text)
        .map_err(|source| ManifestError::Json { path: path.display().to_string(), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{address, b256};

    fn sample() -> Deployment {
        let contract = |address, block| DeployedContract {
            address,
            block,
            tx_hash: b256!("0x1111111111111111111111111111111111111111111111111111111111111111"),
            deployed_bytecode_hash: b256!(
                "0x2222222222222222222222222222222222222222222222222222222222222222"
            ),
        };
        Deployment {
            chain_id: 31337,
            institution_registry: contract(
                address!("0x5FbDB2315678afecb367f032d93F642f64180aa3"),
                1,
            ),
            chain_registry: contract(address!("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"), 2),
            permission_manager: contract(address!("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"), 3),
            transaction_manager: contract(
                address!("0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"),
                4,
            ),
            supervision: contract(address!("0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9"), 5),
        }
    }

    #[test]
    fn manifest_round_trips_through_a_file() {
        let dir = std::env::temp_dir().join(format!("crossgov-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("deployment.json");
        let deployment = sample();
        deployment.write_manifest(&path).expect("write");
        assert_eq!(Deployment::read_manifest(&path).expect("read"), deployment);
        let text = std::fs::read_to_string(&path).expect("read text");
        assert!(text.contains("\"chainId\": 31337"), "{text}");
        assert!(text.contains("\"deployedBytecodeHash\""), "{text}");
        assert!(text.contains("\"transactionManager\""), "{text}");

        let resources = ResourceDeployment {
            chain_id: 1001,
            owner: address!("0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"),
            xa_ledger: deployment.chain_registry.clone(),
            htlc_asset: deployment.permission_manager.clone(),
        };
        let path = dir.join("resources.json");
        resources.write_manifest(&path).expect("write resources");
        assert_eq!(ResourceDeployment::read_manifest(&path).expect("read resources"), resources);
        let text = std::fs::read_to_string(&path).expect("read text");
        assert!(text.contains("\"xaLedger\"") && text.contains("\"htlcAsset\""), "{text}");
        // One kind of manifest is not the other.
        assert!(matches!(Deployment::read_manifest(&path), Err(ManifestError::Json { .. })));
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn missing_and_malformed_manifests_are_reported() {
        let err = Deployment::read_manifest("/nonexistent/deployment.json").expect_err("missing");
        assert!(matches!(err, ManifestError::Io { action: "read", .. }), "{err}");
        let dir =
            std::env::temp_dir().join(format!("crossgov-manifest-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("deployment.json");
        std::fs::write(&path, "{\"chainId\": 1}").expect("write");
        let err = Deployment::read_manifest(&path).expect_err("incomplete");
        assert!(matches!(err, ManifestError::Json { .. }), "{err}");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
