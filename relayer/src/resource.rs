//! The 2PC resource interface as the relayer drives it, and its XaLedger implementation.
//!
//! [`TwoPhaseResource`] is what a business chain must offer: idempotent `prepare` / `commit` /
//! `rollback` of a txId and a read of the txId's state. The EVM XaLedger implements it here; a
//! non-EVM chain would implement the same trait. The trait returns boxed futures so it stays
//! object-safe (`Arc<dyn TwoPhaseResource>`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use alloy::primitives::{Address, B256, Bytes};
use alloy::sol_types::SolCall;

use crate::bindings::XaTxState;
use crate::bindings::xa_ledger::XaLedger;
use crate::chain::{ChainClient, ChainError};
use crate::errors::ContractRevert;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A txId's state on a resource (`IXaLedger.TxState`).
pub type ResourceTxState = XaTxState;

/// What a resource action produced on its chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceReceipt {
    /// The business-chain transaction.
    pub tx_hash: B256,
    /// Its block.
    pub block: u64,
}

/// A resource action failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceError {
    /// The resource refused for a business reason (e.g. insufficient balance): for `prepare`,
    /// the step votes no.
    #[error("refused: {0}")]
    Refused(ContractRevert),
    /// Anything else (RPC, authorisation, unexpected state): retry later, do not vote.
    #[error(transparent)]
    Chain(#[from] ChainError),
}

impl ResourceError {
    /// Whether trying again later may help.
    pub fn is_retryable(&self) -> bool {
        match self {
            ResourceError::Refused(_) => false,
            ResourceError::Chain(e) => e.is_retryable(),
        }
    }
}

/// A 2PC resource on a business chain. Every action is idempotent.
pub trait TwoPhaseResource: Send + Sync + std::fmt::Debug {
    /// Phase one: reserve what `op` needs under `tx_id`.
    fn prepare<'a>(
        &'a self,
        tx_id: B256,
        op: &'a Bytes,
    ) -> BoxFuture<'a, Result<ResourceReceipt, ResourceError>>;
    /// Phase two, decided COMMIT.
    fn commit(&self, tx_id: B256) -> BoxFuture<'_, Result<ResourceReceipt, ResourceError>>;
    /// Phase two, decided ABORT (also records a never-prepared txId as aborted).
    fn rollback(&self, tx_id: B256) -> BoxFuture<'_, Result<ResourceReceipt, ResourceError>>;
    /// The txId's state.
    fn state(&self, tx_id: B256) -> BoxFuture<'_, Result<ResourceTxState, ResourceError>>;
}

/// An XaLedger on an EVM business chain.
#[derive(Debug, Clone)]
pub struct XaLedgerResource {
    chain: Arc<ChainClient>,
    address: Address,
}

impl XaLedgerResource {
    /// The ledger at `address` on `chain`.
    pub fn new(chain: Arc<ChainClient>, address: Address) -> Self {
        XaLedgerResource { chain, address }
    }

    /// The ledger's address.
    pub fn address(&self) -> Address {
        self.address
    }

    async fn send(&self, what: &str, data: Vec<u8>) -> Result<ResourceReceipt, ResourceError> {
        match self.chain.sender().send(what, self.address, data.into()).await {
            Ok(receipt) => Ok(ResourceReceipt {
                tx_hash: receipt.transaction_hash,
                block: receipt.block_number.unwrap_or_default(),
            }),
            Err(ChainError::Reverted { revert, chain, what }) => {
                if is_business_refusal(&revert) {
                    Err(ResourceError::Refused(revert))
                } else {
                    Err(ResourceError::Chain(ChainError::Reverted { chain, what, revert }))
                }
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Ledger refusals that are the op's fault (the step votes no), as opposed to the relayer's
/// (not authorised) which must not turn into a vote.
fn is_business_refusal(revert: &ContractRevert) -> bool {
    use crate::bindings::xa_ledger::XaLedger::XaLedgerErrors as E;
    match revert {
        ContractRevert::XaLedger(e) => !matches!(e, E::XaNotRelayer(_) | E::XaNotOwner(_)),
        _ => false,
    }
}

impl TwoPhaseResource for XaLedgerResource {
    fn prepare<'a>(
        &'a self,
        tx_id: B256,
        op: &'a Bytes,
    ) -> BoxFuture<'a, Result<ResourceReceipt, ResourceError>> {
        Box::pin(async move {
            let call = XaLedger::prepareCall { txId: tx_id, op: op.clone() };
            self.send("prepare", call.abi_encode()).await
        })
    }

    fn commit(&self, tx_id: B256) -> BoxFuture<'_, Result<ResourceReceipt, ResourceError>> {
        Box::pin(async move {
            self.send("commit", XaLedger::commitCall { txId: tx_id }.abi_encode()).await
        })
    }

    fn rollback(&self, tx_id: B256) -> BoxFuture<'_, Result<ResourceReceipt, ResourceError>> {
        Box::pin(async move {
            self.send("rollback", XaLedger::rollbackCall { txId: tx_id }.abi_encode()).await
        })
    }

    fn state(&self, tx_id: B256) -> BoxFuture<'_, Result<ResourceTxState, ResourceError>> {
        Box::pin(async move {
            let address = self.address;
            let raw = self
                .chain
                .read("stateOf", |p| async move {
                    XaLedger::new(address, p).stateOf(tx_id).call().await
                })
                .await?;
            XaTxState::try_from(raw).map_err(|e| {
                ResourceError::Chain(ChainError::BadData {
                    chain: self.chain.name().to_owned(),
                    what: "stateOf".into(),
                    message: e.to_string(),
                })
            })
        })
    }
}
