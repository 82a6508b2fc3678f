//! `crossgov deploy` (the governance suite) and `crossgov deploy resources` (a business chain's
//! XaLedger and HtlcAsset), from the committed artifacts, to any EVM JSON-RPC endpoint.
//!
//! Idempotent: when the manifest file exists, nothing is sent; the manifest is checked against
//! the chain (chain id, each contract's code against this build's artifacts, the wiring) and the
//! command reports "already deployed", or refuses, naming what differs. The manifest is written
//! (atomically) only after the whole suite is deployed and checked, so it never describes a
//! half-deployed suite; contracts created by a failed attempt are abandoned (nothing refers to
//! them) and the error says so.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::transports::http::reqwest::Url;
use clap::{Args, Subcommand};
use crossgov_deploy::{
    Deployment, Genesis, ResourceDeployment, deploy_governance, deploy_resources,
    verify_governance, verify_resources,
};
use serde_json::json;

use super::common::SendingArgs;

/// `crossgov deploy …`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DeployArgs {
    /// Deploy resources on a business chain instead of the governance suite.
    #[command(subcommand)]
    pub resources: Option<DeployCommand>,
    /// The consortium genesis (see deploy/consortium.example.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The chain's JSON-RPC endpoint.
    #[arg(long, hide_env_values = true, env = "CROSSGOV_RPC_URL", value_name = "URL")]
    pub rpc_url: Option<Url>,
    /// The deployment manifest to write (or, when it exists, to check).
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// The deploying account.
    #[command(flatten)]
    pub signer: SendingArgs,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `crossgov deploy resources`.
#[derive(Debug, Subcommand)]
pub enum DeployCommand {
    /// Deploy XaLedger and HtlcAsset on a business chain; the deploying account owns them.
    Resources {
        #[command(flatten)]
        target: Target,
    },
}

/// Where to deploy, with which key, and where the manifest goes.
#[derive(Debug, Args)]
pub struct Target {
    /// The chain's JSON-RPC endpoint.
    #[arg(long, hide_env_values = true, env = "CROSSGOV_RPC_URL", value_name = "URL")]
    pub rpc_url: Url,
    /// The deployment manifest to write (or, when it exists, to check).
    #[arg(long, value_name = "FILE")]
    pub manifest: PathBuf,
    /// The deploying account.
    #[command(flatten)]
    pub signer: SendingArgs,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

impl Target {
    async fn provider(&self) -> Result<DynProvider, String> {
        self.signer.provider(&self.rpc_url).await
    }
}

/// Runs `crossgov deploy …`.
pub fn run(args: DeployArgs) -> ExitCode {
    super::block_on(async move {
        match (args.resources, args.config, args.rpc_url, args.manifest) {
            (Some(DeployCommand::Resources { target }), ..) => resources(&target).await,
            (None, Some(config), Some(rpc_url), Some(manifest)) => {
                let target = Target { rpc_url, manifest, signer: args.signer, json: args.json };
                governance(&config, &target).await
            }
            (None, None, ..) => {
                Err("pass --config FILE (the governance suite), or use `deploy resources`".into())
            }
            (None, Some(_), ..) => Err("pass --rpc-url URL and --manifest FILE".into()),
        }
    })
}

fn report(target: &Target, status: &str, deployment: &impl serde::Serialize) -> Result<(), String> {
    let value = serde_json::to_value(deployment).map_err(|e| e.to_string())?;
    let manifest = &target.manifest;
    if target.json {
        println!("{}", json!({ "status": status, "manifest": manifest, "deployment": value }));
    } else {
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        println!("{status}: {}\n{text}", manifest.display());
    }
    Ok(())
}

/// The refusal when an existing manifest does not match the chain.
fn existing(
    target: &Target,
    deploy_new: &'static str,
) -> impl FnOnce(crossgov_deploy::DeployError) -> String {
    let manifest = target.manifest.display().to_string();
    move |e| {
        format!("{manifest} exists and {e}; to deploy {deploy_new}, pass another --manifest path")
    }
}

const ALREADY_DEPLOYED: &str = "already deployed (manifest checked against the chain)";

async fn governance(config: &Path, target: &Target) -> Result<(), String> {
    // The genesis is checked before anything else: a bad file sends nothing.
    let genesis = Genesis::load(config)
        .map_err(|e| format!("{}: invalid genesis, nothing was sent: {e}", config.display()))?;
    if target.manifest.exists() {
        let deployment = Deployment::read_manifest(&target.manifest).map_err(|e| e.to_string())?;
        let provider = ProviderBuilder::new().connect_http(target.rpc_url.clone()).erased();
        verify_governance(&provider, &deployment).await.map_err(existing(target, "a new suite"))?;
        return report(target, ALREADY_DEPLOYED, &deployment);
    }
    let provider = target.provider().await?;
    eprintln!(
        "crossgov deploy: deploying the governance suite ({} founders)",
        genesis.institutions.len()
    );
    let deployment = deploy_governance(&provider, &genesis).await.map_err(|e| {
        format!("{e}\nno manifest was written: contracts created by this attempt are abandoned (nothing refers to them)")
    })?;
    deployment.write_manifest(&target.manifest).map_err(|e| e.to_string())?;
    report(target, "deployed", &deployment)
}

async fn resources(target: &Target) -> Result<(), String> {
    if target.manifest.exists() {
        let deployment =
            ResourceDeployment::read_manifest(&target.manifest).map_err(|e| e.to_string())?;
        let provider = ProviderBuilder::new().connect_http(target.rpc_url.clone()).erased();
        verify_resources(&provider, &deployment)
            .await
            .map_err(existing(target, "new resources"))?;
        return report(target, ALREADY_DEPLOYED, &deployment);
    }
    let provider = target.provider().await?;
    eprintln!("crossgov deploy: deploying XaLedger and HtlcAsset");
    let deployment = deploy_resources(&provider).await.map_err(|e| {
        format!("{e}\nno manifest was written: contracts created by this attempt are abandoned")
    })?;
    deployment.write_manifest(&target.manifest).map_err(|e| e.to_string())?;
    report(target, "deployed", &deployment)
}
