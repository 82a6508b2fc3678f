//! One EVM chain as the relayer sees it: a provider (HTTP) that signs with the relayer's key but
//! fills nothing on its own, reads with bounded retries, and a [`TxSender`] that owns the nonce.
//!
//! Why no nonce filler: alloy's cached nonce filler reserves a nonce before gas estimation, so a
//! refused (reverting) call burns it and every later transaction waits behind the gap. Here a
//! send is `eth_call` pre-flight (refusals become typed [`ChainError::Reverted`] and cost
//! nothing) → gas estimate → fees → *then* nonce + send under one mutex.

pub mod backoff;
pub mod batch;
pub mod fees;
mod sender;

use std::future::Future;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::{self, Url};
use alloy::transports::{RpcError, TransportErrorKind};

pub use backoff::Backoff;
pub use batch::{BatchCodec, BatchLimits, Batcher};
pub use fees::{FeeMode, FeeModeError, PriceFiller, Pricing, auto_pricing, signing_provider};
pub use sender::{SendOptions, TxSender, should_replace};

use crate::errors::ContractRevert;

/// How long one RPC request may take by default ([`ChainConfig::rpc_timeout`]).
pub const DEFAULT_RPC_TIMEOUT: Duration = Duration::from_secs(10);

/// " (KEY of this chain's section)" when a setting fixes it.
fn setting_hint(setting: &str) -> String {
    if setting.is_empty() { String::new() } else { format!(" ({setting} of this chain's section)") }
}

/// Blocks per `eth_getLogs` request by default ([`ChainOptions::max_log_range`]): Besu's own
/// default `--rpc-max-logs-range`, and within what hosted endpoints commonly allow.
pub const DEFAULT_MAX_LOG_RANGE: u64 = 1000;

/// Largest page of the TransactionManager's open lists (its `MAX_PAGE`).
pub const OPEN_LIST_PAGE: u64 = 100;

/// What went wrong talking to a chain.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The contract refused the call (seen by `eth_call` / gas estimation; nothing was sent).
    #[error("{chain}: {what} refused: {revert}")]
    Reverted {
        /// The chain's name.
        chain: String,
        /// The action.
        what: String,
        /// The decoded custom error.
        revert: ContractRevert,
    },
    /// The node reported an execution error whose data is not one of our errors.
    #[error("{chain}: {what} refused: {message}")]
    RevertedUnknown {
        /// The chain's name.
        chain: String,
        /// The action.
        what: String,
        /// The node's message.
        message: String,
    },
    /// An RPC or transport error (after the retries).
    #[error("{chain}: {what}: rpc error: {message}")]
    Rpc {
        /// The chain's name.
        chain: String,
        /// The action.
        what: String,
        /// The error.
        message: String,
        /// Whether retrying later may help (transport trouble, rate limits, nonce races).
        transient: bool,
    },
    /// The transaction was mined but failed (status 0).
    #[error("{chain}: {what}: transaction {tx_hash} failed on chain")]
    Failed {
        /// The chain's name.
        chain: String,
        /// The action.
        what: String,
        /// The failed transaction.
        tx_hash: B256,
    },
    /// The transaction's gas estimate exceeds the cap it was sent under (nothing was sent).
    #[error("{chain}: {what}: needs {gas} gas, over the cap of {cap}")]
    OverGasCap {
        /// The chain's name.
        chain: String,
        /// The action.
        what: String,
        /// The estimate.
        gas: u64,
        /// The cap.
        cap: u64,
    },
    /// The transaction was not mined despite fee bumps.
    #[error("{chain}: {what}: transaction {tx_hash} not mined after {bumps} fee bumps")]
    NotMined {
        /// The chain's name.
        chain: String,
        /// The action.
        what: String,
        /// The last replacement sent.
        tx_hash: B256,
        /// How many replacements were sent.
        bumps: u32,
    },
    /// The chain is not the one configured.
    #[error("{chain}: chain id is {actual}, configured {expected}")]
    WrongChainId {
        /// The chain's name.
        chain: String,
        /// The configured id.
        expected: u64,
        /// The node's id.
        actual: u64,
    },
    /// The node lacks a method or feature the chain's settings need: permanent, not retried;
    /// `setting` names the config key that fixes it.
    #[error("{chain}: the node does not support {method}: {detail}{}", setting_hint(.setting))]
    Unsupported {
        /// The chain's name.
        chain: String,
        /// The JSON-RPC method or feature.
        method: String,
        /// The config key (`fee_mode`, `max_log_range`), empty when no setting helps.
        setting: String,
        /// The node's answer and what to do.
        detail: String,
    },
    /// The node refused a log query over this many blocks (its own limit is lower).
    #[error(
        "{chain}: the node refused eth_getLogs over {range} blocks: {message} (lower max_log_range of this chain's section)"
    )]
    LogRange {
        /// The chain's name.
        chain: String,
        /// Blocks per request asked.
        range: u64,
        /// The node's answer.
        message: String,
    },
    /// Data read from the chain does not have the expected form.
    #[error("{chain}: {what}: {message}")]
    BadData {
        /// The chain's name.
        chain: String,
        /// What was read.
        what: String,
        /// What is wrong.
        message: String,
    },
}

impl ChainError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ChainError::Rpc { transient, .. } => *transient,
            ChainError::NotMined { .. } => true,
            ChainError::Reverted { .. }
            | ChainError::RevertedUnknown { .. }
            | ChainError::Failed { .. }
            | ChainError::OverGasCap { .. }
            | ChainError::WrongChainId { .. }
            | ChainError::Unsupported { .. }
            | ChainError::LogRange { .. }
            | ChainError::BadData { .. } => false,
        }
    }

    /// Whether the node lacks what was asked (a setting of the chain must change).
    pub fn is_unsupported(&self) -> bool {
        matches!(self, ChainError::Unsupported { .. })
    }

    /// An [`ChainError::Unsupported`] named after the `method` the node lacks and the `setting`
    /// that made the relayer ask for it; any other error unchanged.
    pub(crate) fn needed_by(self, method: &str, setting: &str) -> Self {
        match self {
            ChainError::Unsupported { chain, detail, .. } => ChainError::Unsupported {
                chain,
                method: method.to_owned(),
                setting: setting.to_owned(),
                detail,
            },
            other => other,
        }
    }

    /// The same error named after the action `what` (a batch's outcome as one of its items').
    pub(crate) fn with_what(self, what: &str) -> Self {
        let mut err = self;
        match &mut err {
            ChainError::Reverted { what: w, .. }
            | ChainError::RevertedUnknown { what: w, .. }
            | ChainError::Rpc { what: w, .. }
            | ChainError::Failed { what: w, .. }
            | ChainError::OverGasCap { what: w, .. }
            | ChainError::NotMined { what: w, .. } => what.clone_into(w),
            _ => {}
        }
        err
    }

    /// The contract's custom error, when the chain refused.
    pub fn revert(&self) -> Option<&ContractRevert> {
        match self {
            ChainError::Reverted { revert, .. } => Some(revert),
            _ => None,
        }
    }

    /// Classifies an RPC error: a revert (with decodable data), a missing method or feature
    /// (permanent), or an RPC failure.
    pub(crate) fn from_rpc(chain: &str, what: &str, err: &RpcError<TransportErrorKind>) -> Self {
        if sender::is_unsupported_rpc(err) {
            return ChainError::Unsupported {
                chain: chain.to_owned(),
                method: what.to_owned(),
                setting: String::new(),
                detail: err.to_string(),
            };
        }
        if let Some(payload) = err.as_error_resp() {
            if let Some(data) = payload.as_revert_data()
                && let Some(revert) = ContractRevert::decode(&data)
            {
                return ChainError::Reverted {
                    chain: chain.to_owned(),
                    what: what.to_owned(),
                    revert,
                };
            }
            let message = payload.message.to_string();
            let lower = message.to_ascii_lowercase();
            if lower.contains("revert") || lower.contains("execution") {
                return ChainError::RevertedUnknown {
                    chain: chain.to_owned(),
                    what: what.to_owned(),
                    message,
                };
            }
            return ChainError::Rpc {
                chain: chain.to_owned(),
                what: what.to_owned(),
                transient: matches!(payload.code, 429 | -32005)
                    || lower.contains("rate limit")
                    || lower.contains("timeout")
                    || lower.contains("busy")
                    || is_nonce_message(&lower),
                message,
            };
        }
        ChainError::Rpc {
            chain: chain.to_owned(),
            what: what.to_owned(),
            message: err.to_string(),
            transient: !matches!(err, RpcError::DeserError { .. } | RpcError::SerError(_)),
        }
    }

    /// Classifies a contract-call error (of an `eth_call` through a `sol!` instance).
    pub(crate) fn from_contract(chain: &str, what: &str, err: alloy::contract::Error) -> Self {
        match err {
            alloy::contract::Error::TransportError(e) => ChainError::from_rpc(chain, what, &e),
            other => {
                if let Some(revert) = ContractRevert::from_error(&other) {
                    return ChainError::Reverted {
                        chain: chain.to_owned(),
                        what: what.to_owned(),
                        revert,
                    };
                }
                ChainError::BadData {
                    chain: chain.to_owned(),
                    what: what.to_owned(),
                    message: other.to_string(),
                }
            }
        }
    }
}

/// Whether a node message says the nonce was wrong (too low, already used, replacement rules).
pub(crate) fn is_nonce_message(lower: &str) -> bool {
    lower.contains("nonce") || lower.contains("already known") || lower.contains("replacement")
}

/// What an operator tunes per chain (`[governance]`, `[[chains]]`, `[[htlc.peers]]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainOptions {
    /// How long one RPC request may take before it fails (as a transient error).
    pub rpc_timeout: Duration,
    /// The chain makes a block at least this often: a head older than this is a health problem.
    /// `None` for chains that mine only on demand (dev nodes), where a still head is normal.
    pub max_head_age: Option<Duration>,
    /// How transactions are priced.
    pub fee: FeeMode,
    /// Blocks per `eth_getLogs` request (the node's range limit or less).
    pub max_log_range: u64,
}

impl Default for ChainOptions {
    fn default() -> Self {
        ChainOptions {
            rpc_timeout: DEFAULT_RPC_TIMEOUT,
            max_head_age: None,
            fee: FeeMode::Auto,
            max_log_range: DEFAULT_MAX_LOG_RANGE,
        }
    }
}

/// Settings of one chain connection.
#[derive(Debug, Clone)]
pub struct ChainConfig {
    /// A short name for logs and errors (`governance`, `zoneA.chainA`).
    pub name: String,
    /// The node's HTTP endpoint.
    pub rpc_url: Url,
    /// The expected chain id (checked on connect) or `None` to accept the node's.
    pub chain_id: Option<u64>,
    /// Blocks a receipt must be buried under (0 and 1: mined is enough).
    pub confirmations: u64,
    /// How often to poll for receipts and heads.
    pub poll_interval: Duration,
    /// How long one RPC request may take before it fails (as a transient error): a node that
    /// hangs (stopped, overloaded) must not hang the relayer with it.
    pub rpc_timeout: Duration,
    /// How transactions are priced.
    pub fee: FeeMode,
    /// Blocks per `eth_getLogs` request.
    pub max_log_range: u64,
    /// Retry schedule for transient errors.
    pub backoff: Backoff,
    /// Sending options (fee bumping).
    pub send: SendOptions,
}

/// A connected chain: reads with retries, sends through its [`TxSender`].
#[derive(Debug)]
pub struct ChainClient {
    config: ChainConfig,
    provider: DynProvider,
    chain_id: u64,
    sender: TxSender,
    /// The latest block last read by [`ChainClient::now`]: (number, timestamp).
    latest: std::sync::Mutex<Option<(u64, u64)>>,
}

impl ChainClient {
    /// Connects, checks the chain id, reads the relayer's pending nonce and resolves the fee mode
    /// against the node.
    pub async fn connect(
        config: ChainConfig,
        signer: PrivateKeySigner,
    ) -> Result<Self, ChainError> {
        let address = signer.address();
        let wallet = EthereumWallet::from(signer);
        let http = reqwest::Client::builder().timeout(config.rpc_timeout).build().map_err(|e| {
            ChainError::Rpc {
                chain: config.name.clone(),
                what: "http client".into(),
                message: e.to_string(),
                transient: false,
            }
        })?;
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .wallet(wallet.clone())
            .connect_reqwest(http, config.rpc_url.clone())
            .erased();
        let name = config.name.clone();
        let actual = retry(&config.backoff, || {
            let provider = provider.clone();
            let name = name.clone();
            async move {
                provider
                    .get_chain_id()
                    .await
                    .map_err(|e| ChainError::from_rpc(&name, "chain id", &e))
            }
        })
        .await?;
        if let Some(expected) = config.chain_id
            && expected != actual
        {
            return Err(ChainError::WrongChainId { chain: name, expected, actual });
        }
        let sender = TxSender::new(name, provider.clone(), wallet, address, actual, &config);
        sender.resync().await?;
        // The fee mode against the node now: a node that lacks what the mode needs is refused
        // at start, naming the setting, rather than at the first send.
        sender.pricing().await?;
        Ok(ChainClient { config, provider, chain_id: actual, sender, latest: Default::default() })
    }

    /// Asks the node for logs over `max_log_range` blocks ending at its head (of no contract, so
    /// the answer is empty): a node whose limit is lower refuses now, at start, with
    /// [`ChainError::LogRange`] naming the setting, rather than in the first scan of an older
    /// chain. (A chain younger than the range is probed over all of it.)
    pub async fn probe_log_range(&self) -> Result<(), ChainError> {
        let name = &self.config.name;
        let head = retry(&self.config.backoff, || async {
            self.provider
                .get_block_number()
                .await
                .map_err(|e| ChainError::from_rpc(name, "block number", &e))
        })
        .await?;
        let range = self.config.max_log_range.max(1);
        let filter = alloy::rpc::types::Filter::new()
            .address(Address::ZERO)
            .from_block(head.saturating_sub(range - 1))
            .to_block(head);
        retry(&self.config.backoff, || async {
            match self.provider.get_logs(&filter).await {
                Ok(_) => Ok(()),
                Err(e) if is_log_range_refusal(&e) => {
                    Err(ChainError::LogRange { chain: name.clone(), range, message: e.to_string() })
                }
                Err(e) => Err(ChainError::from_rpc(name, "eth_getLogs", &e)),
            }
        })
        .await
    }

    /// The chain's name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The relayer's account on this chain.
    pub fn address(&self) -> Address {
        self.sender.address()
    }

    /// The provider (signs with the relayer's key, fills nothing). Prefer [`Self::sender`] to send.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The transaction sender.
    pub fn sender(&self) -> &TxSender {
        &self.sender
    }

    /// The connection settings.
    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// Runs a read with the chain's retry schedule: transient errors are retried, others returned.
    pub async fn read<T, F, Fut>(&self, what: &str, f: F) -> Result<T, ChainError>
    where
        F: Fn(DynProvider) -> Fut,
        Fut: Future<Output = Result<T, alloy::contract::Error>>,
    {
        retry(&self.config.backoff, || {
            let fut = f(self.provider.clone());
            async move { fut.await.map_err(|e| ChainError::from_contract(&self.config.name, what, e)) }
        })
        .await
    }

    /// Reads a paged id list of the TransactionManager (`openTransactions`, `openSwaps`) to its
    /// end: `f(provider, offset, limit)` pages of [`OPEN_LIST_PAGE`] from offset 0 until a short page.
    pub async fn read_pages<F, Fut>(&self, what: &str, f: F) -> Result<Vec<B256>, ChainError>
    where
        F: Fn(DynProvider, U256, U256) -> Fut,
        Fut: Future<Output = Result<Vec<B256>, alloy::contract::Error>>,
    {
        let mut ids = Vec::new();
        loop {
            let offset = U256::from(ids.len());
            let page = self.read(what, |p| f(p, offset, U256::from(OPEN_LIST_PAGE))).await?;
            let short = (page.len() as u64) < OPEN_LIST_PAGE;
            ids.extend(page);
            if short {
                return Ok(ids);
            }
        }
    }

    /// The head block number, asked of the node (and shared with sends waiting for receipts).
    pub async fn head(&self) -> Result<u64, ChainError> {
        let head = self
            .read("block number", |p| async move {
                p.get_block_number().await.map_err(alloy::contract::Error::TransportError)
            })
            .await?;
        self.sender.saw_head(head);
        Ok(head)
    }

    /// The latest block's timestamp (the chain's "now" as contracts see it). Asked once per
    /// block: while the head read within the poll interval is the block last asked for, its
    /// time is the answer.
    pub async fn now(&self) -> Result<u64, ChainError> {
        let cached = *self.latest.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((number, timestamp)) = cached
            && self.sender.recent_head() == Some(number)
        {
            return Ok(timestamp);
        }
        let block = self
            .read("latest block", |p| async move {
                p.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
                    .await
                    .map_err(alloy::contract::Error::TransportError)
            })
            .await?;
        let block = block.ok_or_else(|| ChainError::BadData {
            chain: self.config.name.clone(),
            what: "latest block".into(),
            message: "the node has no latest block".into(),
        })?;
        let (number, timestamp) = (block.header.number, block.header.timestamp);
        *self.latest.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((number, timestamp));
        self.sender.saw_head(number);
        Ok(timestamp)
    }
}

/// Logs matching `filter` in blocks `[from, to]`, `range` blocks per request (at least 1): the
/// one log scan of the relayer, the audit trail and the CLI, so that a node's range limit is met
/// everywhere.
pub async fn logs_paged(
    provider: &DynProvider,
    filter: &alloy::rpc::types::Filter,
    from: u64,
    to: u64,
    range: u64,
) -> Result<Vec<alloy::rpc::types::Log>, RpcError<TransportErrorKind>> {
    let range = range.max(1);
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = to.min(start.saturating_add(range - 1));
        let page = filter.clone().from_block(start).to_block(end);
        out.extend(provider.get_logs(&page).await?);
        if end == u64::MAX {
            break;
        }
        start = end + 1;
    }
    Ok(out)
}

/// Whether a node's answer to `eth_getLogs` says the block range was too large for it.
pub fn is_log_range_refusal(err: &RpcError<TransportErrorKind>) -> bool {
    err.as_error_resp().is_some_and(|p| {
        let m = p.message.to_ascii_lowercase();
        (m.contains("range")
            && (m.contains("exceed") || m.contains("too large") || m.contains("limit")))
            || m.contains("block range")
            || m.contains("query returned more than")
    })
}

/// Retries `f` on retryable errors along `backoff`, returning the last error.
pub async fn retry<T, F, Fut>(backoff: &Backoff, mut f: F) -> Result<T, ChainError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ChainError>>,
{
    let mut attempt = 0;
    loop {
        match f().await {
            Ok(value) => return Ok(value),
            Err(err) if err.is_retryable() && attempt + 1 < backoff.max_attempts => {
                tracing::debug!(%err, attempt, "retrying");
                tokio::time::sleep(backoff.delay(attempt)).await;
                attempt += 1;
            }
            Err(err) => return Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn rpc(transient: bool) -> ChainError {
        ChainError::Rpc {
            chain: "c".into(),
            what: "read".into(),
            message: "boom".into(),
            transient,
        }
    }

    const FAST: Backoff =
        Backoff { base: Duration::ZERO, cap: Duration::ZERO, max_attempts: 4, seed: 0 };

    #[tokio::test]
    async fn retry_retries_transient_errors_up_to_the_bound() {
        let calls = AtomicU32::new(0);
        let out = retry(&FAST, || async {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            if n < 2 { Err(rpc(true)) } else { Ok(n) }
        })
        .await;
        assert_eq!(out.expect("third call succeeds"), 2);

        calls.store(0, Ordering::SeqCst);
        let out: Result<(), _> = retry(&FAST, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(rpc(true))
        })
        .await;
        assert!(out.expect_err("gives up").is_retryable());
        assert_eq!(calls.load(Ordering::SeqCst), FAST.max_attempts);
    }

    #[tokio::test]
    async fn retry_returns_permanent_errors_at_once() {
        let calls = AtomicU32::new(0);
        let out: Result<(), _> = retry(&FAST, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(rpc(false))
        })
        .await;
        assert!(!out.expect_err("permanent").is_retryable());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn nonce_messages_are_recognised() {
        for m in ["nonce too low", "already known", "replacement transaction underpriced"] {
            assert!(is_nonce_message(m), "{m}");
        }
        assert!(!is_nonce_message("execution reverted"));
    }
}
