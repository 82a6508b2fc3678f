//! Arguments and helpers shared by the governance and user commands: the governance chain and
//! its manifest, the signing key, sending with errors that name the cause and the fix, output.

use std::path::PathBuf;

use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use alloy::transports::http::reqwest::Url;
use clap::Args;
use crossgov_deploy::Deployment;
use crossgov_relayer::ContractRevert;
use crossgov_relayer::chain::{
    DEFAULT_MAX_LOG_RANGE, FeeMode, is_log_range_refusal, logs_paged, signing_provider,
};
use crossgov_relayer::keys::{PasswordSource, SignerSource};

/// The governance chain: endpoint and deployment manifest.
#[derive(Debug, Clone, Args)]
pub struct GovArgs {
    /// Governance chain JSON-RPC endpoint.
    #[arg(long, hide_env_values = true, env = "CROSSGOV_RPC_URL", value_name = "URL")]
    pub rpc_url: Url,
    /// The deployment manifest (written by `crossgov deploy`).
    #[arg(long, hide_env_values = true, env = "CROSSGOV_MANIFEST", value_name = "FILE")]
    pub manifest: PathBuf,
    /// Blocks per eth_getLogs request: the node's log-range limit or less.
    #[arg(long, env = "CROSSGOV_MAX_LOG_RANGE", value_name = "BLOCKS", default_value_t = DEFAULT_MAX_LOG_RANGE, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_log_range: u64,
    /// Print results as JSON.
    #[arg(long)]
    pub json: bool,
}

/// How the command's transactions are priced (as a relayer's `fee_mode`).
#[derive(Debug, Clone, Args)]
pub struct FeeArgs {
    /// auto (detect: EIP-1559 where the node has a base fee and eth_feeHistory, else legacy),
    /// eip1559, legacy (eth_gasPrice) or fixed (--gas-price-wei, 0 on gas-free chains).
    #[arg(long, env = "CROSSGOV_FEE_MODE", value_name = "MODE", default_value = "auto", value_parser = ["auto", "eip1559", "legacy", "fixed"])]
    pub fee_mode: String,
    /// The price of every transaction with --fee-mode fixed, in wei.
    #[arg(long, env = "CROSSGOV_GAS_PRICE_WEI", value_name = "WEI")]
    pub gas_price_wei: Option<u64>,
}

impl FeeArgs {
    /// A provider at `url` signing with `signer`, pricing per these flags against the node.
    pub async fn signing_provider(
        &self,
        url: &Url,
        signer: PrivateKeySigner,
    ) -> Result<DynProvider, String> {
        let fee = FeeMode::parse(&self.fee_mode, self.gas_price_wei)
            .map_err(|e| format!("--fee-mode: {e}"))?;
        signing_provider(url.clone(), signer, fee).await.map_err(|e| match e {
            crossgov_relayer::chain::ChainError::Unsupported { method, detail, .. } => {
                format!("{url}: the node does not support {method}: {detail} (--fee-mode)")
            }
            other => format!("{url}: {other}"),
        })
    }
}

/// The account of a command that sends transactions, and how they are priced.
#[derive(Debug, Clone, Args)]
pub struct SendingArgs {
    /// The signing account.
    #[command(flatten)]
    pub key: SignerArgs,
    /// How its transactions are priced.
    #[command(flatten)]
    pub fees: FeeArgs,
}

impl SendingArgs {
    /// A provider at `url` signing with the account, pricing per `--fee-mode`.
    pub async fn provider(&self, url: &Url) -> Result<DynProvider, String> {
        self.fees.signing_provider(url, self.key.load()?).await
    }
}

/// The signing account: an encrypted keystore, or a raw key in an environment variable.
#[derive(Debug, Clone, Args)]
pub struct SignerArgs {
    /// Encrypted JSON keystore of the signing account.
    #[arg(long, value_name = "FILE")]
    pub keystore: Option<PathBuf>,
    /// Environment variable holding the keystore password.
    #[arg(long, value_name = "VAR", default_value = "CROSSGOV_KEYSTORE_PASSWORD")]
    pub password_env: String,
    /// File holding the keystore password (instead of the variable).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Environment variable holding a raw hex key (when no keystore is given).
    #[arg(long, value_name = "VAR", default_value = "CROSSGOV_KEY")]
    pub private_key_env: String,
}

impl SignerArgs {
    /// Loads the key (never from argv; errors name files and variables, never secrets).
    pub fn load(&self) -> Result<PrivateKeySigner, String> {
        let source = match &self.keystore {
            Some(path) => SignerSource::Keystore {
                path: path.clone(),
                password: match &self.password_file {
                    Some(f) => PasswordSource::File(f.clone()),
                    None => PasswordSource::Env(self.password_env.clone()),
                },
            },
            None => SignerSource::PrivateKeyEnv(self.private_key_env.clone()),
        };
        source.load().map_err(|e| format!("signing key: {e}"))
    }
}

/// The governance chain, read-only or signing.
#[derive(Debug)]
pub struct Gov {
    /// Reads.
    pub reader: DynProvider,
    /// The suite.
    pub deployment: Deployment,
    url: Url,
    /// Blocks per eth_getLogs request.
    pub max_log_range: u64,
}

impl GovArgs {
    /// Reads the manifest, connects, and checks that the endpoint is the chain the manifest
    /// describes. Against another chain the suite's addresses hold no code: reads would report
    /// nothing, and a signed call to a code-less address is mined as a successful no-op.
    pub async fn connect(&self) -> Result<Gov, String> {
        let deployment = Deployment::read_manifest(&self.manifest).map_err(|e| {
            format!(
                "{e} (pass --manifest FILE, written by `crossgov deploy`, or set CROSSGOV_MANIFEST)"
            )
        })?;
        let reader = ProviderBuilder::new().connect_http(self.rpc_url.clone()).erased();
        let url = &self.rpc_url;
        let chain_id = reader.get_chain_id().await.map_err(|e| format!("{url}: {e}"))?;
        if chain_id != deployment.chain_id {
            return Err(format!(
                "{url} is chain id {chain_id} but {} describes chain id {}: pass the governance chain's --rpc-url, or its manifest",
                self.manifest.display(),
                deployment.chain_id
            ));
        }
        let registry = deployment.institution_registry.address;
        let code = reader.get_code_at(registry).await.map_err(|e| format!("{url}: {e}"))?;
        if code.is_empty() {
            return Err(format!(
                "{url} (chain id {chain_id}) has no contract at the InstitutionRegistry address {registry} of {}: another chain with the same id?",
                self.manifest.display()
            ));
        }
        Ok(Gov { reader, deployment, url: self.rpc_url.clone(), max_log_range: self.max_log_range })
    }
}

impl Gov {
    /// The `E` events of `address` (with topic 1 `topic1`, when given) from block `from` to the
    /// head, read `max_log_range` blocks at a time.
    pub async fn events<E: SolEvent>(
        &self,
        address: Address,
        from: u64,
        topic1: Option<B256>,
    ) -> Result<Vec<E>, String> {
        let head =
            self.reader.get_block_number().await.map_err(|e| format!("{}: {e}", self.url))?;
        let mut filter = Filter::new().address(address).event_signature(E::SIGNATURE_HASH);
        if let Some(t) = topic1 {
            filter = filter.topic1(t);
        }
        let logs = logs_paged(&self.reader, &filter, from, head, self.max_log_range)
            .await
            .map_err(|e| {
                let hint = if is_log_range_refusal(&e) {
                    format!(
                        " (the node limits log ranges: pass a smaller --max-log-range than {})",
                        self.max_log_range
                    )
                } else {
                    String::new()
                };
                format!("{}: {e}{hint}", self.url)
            })?;
        logs.iter()
            .map(|l| {
                E::decode_log_data(l.data()).map_err(|e| format!("bad {} log: {e}", E::SIGNATURE))
            })
            .collect()
    }

    /// A provider signing and pricing as `sending` says.
    pub async fn signing(&self, sending: &SendingArgs) -> Result<DynProvider, String> {
        sending.provider(&self.url).await
    }
}

/// What to do about a refusal, by the contract error's name.
fn hint(error: &str) -> Option<&'static str> {
    Some(match error {
        "InstNotAdmin" => "sign with an admin key of an active institution",
        "ProposalNotEligible" => {
            "only institutions active when the proposal was created may vote on it"
        }
        "ProposalAlreadyVoted" => "this institution has voted on it already",
        "ProposalNotPending" => "voting is over: see `crossgov gov show --id ID`",
        "ProposalNotPassed" => {
            "it has not passed (or its execution window closed): see `crossgov gov show`"
        }
        "ProposalNotProposer" => "only the proposing institution may withdraw it",
        "ProposalNotFound" => "see `crossgov gov list` for the proposal ids",
        "ProposalExecutionFailed" => {
            "the proposed call itself reverted: the decoded reason follows"
        }
        "InstAccountTaken" => "the account already belongs to an institution",
        "InstNotFound" => "see `crossgov gov list` / the InstitutionAdmitted events for ids",
        "PermNotChainOwner" => "only an admin of the chain's owner institution grants on its paths",
        "PermNotGovernance" => {
            "grants on `*` chain patterns go through a proposal (`crossgov gov propose raw`)"
        }
        "PermUnknownAccount" => "register the account first (`crossgov gov add-account`)",
        "PermChainNotActive" => {
            "the chain is not admitted or was retired: see `crossgov chain list`"
        }
        "PermNothingToRevoke" => "the grantee holds none of these ops on that pattern",
        "ChainNotFound" => "see `crossgov chain list` for the admitted chains",
        "ChainNotOwnerAdmin" => "only an admin of the chain's owner institution names its relayers",
        "ChainNotOwnerRelayer" => {
            "register the account as a relayer of the owner institution first"
        }
        _ => return None,
    })
}

/// Sends a call and waits for its receipt; a refusal names the contract error and, when known,
/// what to do about it. Nothing is sent when the node's gas estimate sees the revert.
pub async fn send<P, D>(
    what: &str,
    call: alloy::contract::CallBuilder<P, D>,
) -> Result<TransactionReceipt, String>
where
    P: Provider,
    D: alloy::contract::CallDecoder,
{
    let pending = call.send().await.map_err(|err| match ContractRevert::from_error(&err) {
        Some(revert) => {
            let text = revert.to_string();
            let name =
                text.split('(').next().unwrap_or_default().rsplit(' ').next().unwrap_or_default();
            match hint(name) {
                Some(h) => format!("{what} refused: {text}: {h}"),
                None => format!("{what} refused: {text}"),
            }
        }
        None => format!("{what}: {err}"),
    })?;
    let receipt = pending
        .with_timeout(Some(crossgov_deploy::RECEIPT_TIMEOUT))
        .get_receipt()
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    if !receipt.status() {
        return Err(format!("{what}: transaction {} reverted", receipt.transaction_hash));
    }
    Ok(receipt)
}

/// Prints `value` as one JSON line, or `text`.
pub fn print(json: bool, value: &serde_json::Value, text: &str) {
    if json {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

/// Parses `0x…` addresses with a message naming the flag.
pub fn address(flag: &str, s: &str) -> Result<Address, String> {
    s.parse().map_err(|_| format!("{flag} {s:?} is not a 0x-prefixed 20-byte address"))
}

/// The timestamp of `provider`'s latest block.
pub(crate) async fn latest_block_time(provider: &DynProvider) -> Result<u64, String> {
    let block = provider
        .get_block_by_number(alloy::rpc::types::BlockNumberOrTag::Latest)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no latest block")?;
    Ok(block.header.timestamp)
}
