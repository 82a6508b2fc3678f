//! Deploys the crossgov governance suite from the committed artifacts.
//!
//! - [`genesis`]: the consortium's genesis configuration (`consortium.example.toml`).
//! - [`deploy_governance`]: deploys InstitutionRegistry, ChainRegistry, PermissionManager,
//!   TransactionManager and Supervision on the governance chain and checks the result, returning
//!   the [`Deployment`] manifest.
//! - [`deploy_resources`]: deploys the business-chain resources XaLedger and HtlcAsset on a
//!   business chain, returning the [`ResourceDeployment`] manifest.
//! - [`manifest`]: the manifests (JSON), written after deploying and read by the relayer and CLI.
//! - [`devnet`]: a local anvil for development and tests.
//! - [`local`]: a whole local consortium on three anvils (`crossgov dev`, `crossgov demo`).

mod deploy;
pub mod devnet;
pub mod genesis;
pub mod local;
pub mod manifest;

pub use deploy::{
    DeployError, RECEIPT_TIMEOUT, deploy_governance, deploy_resources, verify_governance,
    verify_resources,
};
pub use genesis::{FoundingInstitution, Genesis, GenesisError, Threshold};
pub use manifest::{DeployedContract, Deployment, ManifestError, ResourceDeployment};
