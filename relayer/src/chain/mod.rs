//! One EVM chain as the relayer sees it: a provider (HTTP) that signs with the relayer's key but
//! fills nothing on its own, reads with bounded retries, and a [`TxSender`] that owns the nonce.
//!
//! Why no nonce filler: alloy's cached nonce filler reserves a nonce before gas estimation, so a
//! refused (reverting) call burns it and every later transaction waits behind the gap. Here a
//! send is `eth_call` pre-flight (refusals become typed [`ChainError::Reverted`] and cost
//! nothing) → gas estimate → fees → *then* nonce + send under one mutex.

pub mod backoff;
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
pub use sender::{SendOptions, TxSender, should_replace};

use crate::errors::ContractRevert;

/// How long one RPC request may take by default ([`ChainConfig::rpc_timeout`]).
pub const DEFAULT_RPC_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest page of the TransactionManager's open lists (its `MAX_PAGE`).
pub const OPEN_LIST_PAGE: u64 = 100;

/// What went wrong talking to a chain.
#[derive(Debug, thiserror::Error)]
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
            | ChainError::WrongChainId { .. }
            | ChainError::BadData { .. } => false,
        }
    }

    /// The contract's custom error, when the chain refused.
    pub fn revert(&self) -> Option<&ContractRevert> {
        match self {
            ChainError::Reverted { revert, .. } => Some(revert),
            _ => None,
        }
    }

    /// Classifies an RPC error: a revert (with decodable data) or an RPC failure.
    pub(crate) fn from_rpc(chain: &str, what: &str, err: &RpcError<TransportErrorKind>) -> Self {
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainOptions {
    /// How long one RPC request may take before it fails (as a transient error).
    pub rpc_timeout: Duration,
    /// The chain makes a block at least this often: a head older than this is a health problem.
    /// `None` for chains that mine only on demand (dev nodes), where a still head is normal.
    pub max_head_age: Option<Duration>,
}

impl Default for ChainOptions {
    fn default() -> Self {
        ChainOptions { rpc_timeout: DEFAULT_RPC_TIMEOUT, max_head_age: None }
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
}

impl ChainClient {
    /// Connects, checks the chain id and reads the relayer's pending nonce.
    pub async fn connect(
        config: ChainConfig,
        signer: PrivateKeySigner,
    ) -> Result<Self, ChainError> {
        let address = signer.address();
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
            .wallet(EthereumWallet::from(signer))
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
        let sender = TxSender::new(name, provider.clone(), address, actual, &config);
        sender.resync().await?;
        Ok(ChainClient { config, provider, chain_id: actual, sender })
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

    /// The head block number.
    pub async fn head(&self) -> Result<u64, ChainError> {
        self.read("block number", |p| async move {
            p.get_block_number().await.map_err(alloy::contract::Error::TransportError)
        })
        .await
    }

    /// The latest block's timestamp (the chain's "now" as contracts see it).
    pub async fn now(&self) -> Result<u64, ChainError> {
        let block = self
            .read("latest block", |p| async move {
                p.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
                    .await
                    .map_err(alloy::contract::Error::TransportError)
            })
            .await?;
        block.map(|b| b.header.timestamp).ok_or_else(|| ChainError::BadData {
            chain: self.config.name.clone(),
            what: "latest block".into(),
            message: "the node has no latest block".into(),
        })
    }
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
