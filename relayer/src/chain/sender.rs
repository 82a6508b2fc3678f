//! Sending transactions with nonces the relayer owns.

use std::time::Duration;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use tokio::sync::Mutex;

use super::{ChainConfig, ChainError, is_nonce_message, retry};
use crate::chain::Backoff;

/// Whether a transaction sent at block `sent_at` and not mined by `head` is replaced now (same
/// nonce, higher fees): when the node no longer knows it (a restarted node's pool is empty, a
/// full pool evicts the cheapest), or when `bump_after` blocks passed without it. The first
/// matters on chains that mine only when there is something to mine: no block would ever come.
pub fn should_replace(dropped: bool, head: u64, sent_at: u64, bump_after: u64) -> bool {
    dropped || head >= sent_at.saturating_add(bump_after)
}

/// How a sent transaction is pushed through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOptions {
    /// Replace the transaction with higher fees when it is not mined within this many blocks.
    pub bump_after_blocks: u64,
    /// Fee increase per replacement, in percent (at least 13: nodes want +12.5 %).
    pub bump_percent: u64,
    /// Replacements before giving up with [`ChainError::NotMined`].
    pub max_bumps: u32,
    /// Gas limit = estimate * (100 + this) / 100.
    pub gas_margin_percent: u64,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions { bump_after_blocks: 3, bump_percent: 13, max_bumps: 5, gas_margin_percent: 25 }
    }
}

/// Sends the relayer's transactions on one chain. The nonce is read from the chain's pending
/// count at start (so restarts are safe) and then kept under a mutex held across "assign nonce +
/// send", so concurrent tasks never collide; a nonce error resyncs from the pending count.
#[derive(Debug)]
pub struct TxSender {
    chain: String,
    provider: DynProvider,
    address: Address,
    chain_id: u64,
    confirmations: u64,
    poll: Duration,
    backoff: Backoff,
    options: SendOptions,
    next_nonce: Mutex<Option<u64>>,
}

impl TxSender {
    pub(super) fn new(
        chain: String,
        provider: DynProvider,
        address: Address,
        chain_id: u64,
        config: &ChainConfig,
    ) -> Self {
        TxSender {
            chain,
            provider,
            address,
            chain_id,
            confirmations: config.confirmations,
            poll: config.poll_interval,
            backoff: config.backoff,
            options: config.send,
            next_nonce: Mutex::new(None),
        }
    }

    /// The sending account.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Re-reads the next nonce from the chain's pending transaction count.
    pub async fn resync(&self) -> Result<u64, ChainError> {
        let mut guard = self.next_nonce.lock().await;
        let nonce = self.pending_count().await?;
        *guard = Some(nonce);
        Ok(nonce)
    }

    async fn pending_count(&self) -> Result<u64, ChainError> {
        retry(&self.backoff, || async {
            self.provider
                .get_transaction_count(self.address)
                .pending()
                .await
                .map_err(|e| ChainError::from_rpc(&self.chain, "pending nonce", &e))
        })
        .await
    }

    /// Pre-flight only: `eth_call` of `data` to `to` from the relayer. A refusal is a typed
    /// [`ChainError::Reverted`]; nothing is sent.
    pub async fn preflight(&self, what: &str, to: Address, data: &Bytes) -> Result<(), ChainError> {
        let tx = self.request(to, data.clone());
        retry(&self.backoff, || async {
            self.provider
                .call(tx.clone())
                .await
                .map(|_| ())
                .map_err(|e| ChainError::from_rpc(&self.chain, what, &e))
        })
        .await
    }

    fn request(&self, to: Address, data: Bytes) -> TransactionRequest {
        TransactionRequest::default().with_from(self.address).with_to(to).with_input(data)
    }

    /// Pre-flights, sends and waits for `confirmations`: the receipt of a successful transaction.
    ///
    /// The gas estimate is the pre-flight: it executes the call as `eth_call` would and a refusal
    /// comes back with the same revert data, typed the same ([`ChainError::Reverted`]), before
    /// anything is sent. (A separate `eth_call` first would cost one more request per send.)
    pub async fn send(
        &self,
        what: &str,
        to: Address,
        data: Bytes,
    ) -> Result<TransactionReceipt, ChainError> {
        let mut tx = self.request(to, data);
        let gas = retry(&self.backoff, || async {
            self.provider
                .estimate_gas(tx.clone())
                .await
                .map_err(|e| ChainError::from_rpc(&self.chain, what, &e))
        })
        .await?;
        let fees = retry(&self.backoff, || async {
            self.provider
                .estimate_eip1559_fees()
                .await
                .map_err(|e| ChainError::from_rpc(&self.chain, "fee estimate", &e))
        })
        .await?;
        tx.set_gas_limit(gas.saturating_mul(100 + self.options.gas_margin_percent) / 100);
        tx.set_chain_id(self.chain_id);
        tx.set_max_fee_per_gas(fees.max_fee_per_gas);
        tx.set_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);

        let (nonce, first_hash) = self.assign_and_send(what, &mut tx).await?;
        let result = self.wait(what, tx, nonce, first_hash).await;
        if let Err(err) = &result
            && !matches!(err, ChainError::Failed { .. })
        {
            // Whether the nonce was used is unknown (the node may have lost the transaction with
            // its pool): read it again before the next send, rather than leave a gap that every
            // later transaction would queue behind forever.
            *self.next_nonce.lock().await = None;
        }
        result
    }

    /// Assigns the next nonce and sends, under the nonce mutex.
    async fn assign_and_send(
        &self,
        what: &str,
        tx: &mut TransactionRequest,
    ) -> Result<(u64, B256), ChainError> {
        let mut guard = self.next_nonce.lock().await;
        let mut attempt = 0u32;
        loop {
            let nonce = match *guard {
                Some(n) => n,
                None => self.pending_count().await?,
            };
            tx.set_nonce(nonce);
            match self.provider.send_transaction(tx.clone()).await {
                Ok(pending) => {
                    *guard = Some(nonce + 1);
                    let hash = *pending.tx_hash();
                    tracing::debug!(chain = %self.chain, what, nonce, %hash, "sent");
                    return Ok((nonce, hash));
                }
                Err(e) => {
                    let err = ChainError::from_rpc(&self.chain, what, &e);
                    let nonce_problem = e
                        .as_error_resp()
                        .is_some_and(|p| is_nonce_message(&p.message.to_ascii_lowercase()));
                    if nonce_problem {
                        *guard = None;
                    }
                    if (nonce_problem || err.is_retryable())
                        && attempt + 1 < self.backoff.max_attempts
                    {
                        tracing::warn!(chain = %self.chain, what, %err, "send failed, retrying");
                        tokio::time::sleep(self.backoff.delay(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(err);
                }
            }
        }
    }

    /// Waits for one of the hashes sent under `nonce` to be mined and confirmed; bumps fees on
    /// the same nonce when nothing is mined within `bump_after_blocks`.
    async fn wait(
        &self,
        what: &str,
        mut tx: TransactionRequest,
        nonce: u64,
        first_hash: B256,
    ) -> Result<TransactionReceipt, ChainError> {
        let mut hashes = vec![first_hash];
        // The head when the transaction was first seen unmined: asked only then, since on most
        // sends the first receipt poll finds it mined.
        let mut unmined_since: Option<u64> = None;
        let mut bumps = 0u32;
        loop {
            for hash in hashes.iter().rev() {
                let receipt = self
                    .provider
                    .get_transaction_receipt(*hash)
                    .await
                    .map_err(|e| ChainError::from_rpc(&self.chain, what, &e));
                match receipt {
                    Ok(Some(receipt)) => return self.confirm(what, receipt).await,
                    Ok(None) => {}
                    Err(err) if err.is_retryable() => tracing::debug!(%err, "receipt poll"),
                    Err(err) => return Err(err),
                }
            }
            let latest = *hashes.last().unwrap_or(&first_hash);
            let dropped = self.dropped(what, latest).await;
            let head = self.head(what).await?;
            let since = *unmined_since.get_or_insert(head);
            if should_replace(dropped, head, since, self.options.bump_after_blocks) {
                if bumps >= self.options.max_bumps {
                    return Err(ChainError::NotMined {
                        chain: self.chain.clone(),
                        what: what.to_owned(),
                        tx_hash: *hashes.last().unwrap_or(&first_hash),
                        bumps,
                    });
                }
                let bump = |fee: u128| {
                    fee.saturating_mul(100 + u128::from(self.options.bump_percent.max(13))) / 100
                        + 1
                };
                let max_fee = tx.max_fee_per_gas.unwrap_or_default();
                let tip = tx.max_priority_fee_per_gas.unwrap_or_default();
                tx.set_max_fee_per_gas(bump(max_fee));
                tx.set_max_priority_fee_per_gas(bump(tip));
                tx.set_nonce(nonce);
                bumps += 1;
                unmined_since = Some(head);
                match self.provider.send_transaction(tx.clone()).await {
                    Ok(pending) => {
                        let why = if dropped { "dropped by the node" } else { "not mined" };
                        tracing::info!(chain = %self.chain, what, nonce, bumps, why, "fee bumped");
                        hashes.push(*pending.tx_hash());
                    }
                    // "nonce too low": an earlier version was mined; the next poll finds it.
                    Err(e) => {
                        tracing::debug!(chain = %self.chain, what, error = %e, "bump refused")
                    }
                }
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// Whether the node answers that it knows nothing of `hash` (neither pending nor mined); an
    /// unreachable node is not taken as an answer.
    async fn dropped(&self, what: &str, hash: B256) -> bool {
        match self.provider.get_transaction_by_hash(hash).await {
            Ok(found) => found.is_none(),
            Err(e) => {
                let err = ChainError::from_rpc(&self.chain, what, &e);
                tracing::debug!(%err, "transaction lookup");
                false
            }
        }
    }

    async fn confirm(
        &self,
        what: &str,
        receipt: TransactionReceipt,
    ) -> Result<TransactionReceipt, ChainError> {
        if !receipt.status() {
            return Err(ChainError::Failed {
                chain: self.chain.clone(),
                what: what.to_owned(),
                tx_hash: receipt.transaction_hash,
            });
        }
        let mined = receipt.block_number.unwrap_or_default();
        if self.confirmations <= 1 {
            // The receipt's own block is the one confirmation: no head to ask for.
            return Ok(receipt);
        }
        let needed = mined + self.confirmations - 1;
        while self.head(what).await? < needed {
            tokio::time::sleep(self.poll).await;
        }
        Ok(receipt)
    }

    async fn head(&self, what: &str) -> Result<u64, ChainError> {
        retry(&self.backoff, || async {
            self.provider
                .get_block_number()
                .await
                .map_err(|e| ChainError::from_rpc(&self.chain, what, &e))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::should_replace;

    #[test]
    fn replaces_when_dropped_or_after_enough_blocks() {
        // Known to the node, fewer blocks than the limit: keep waiting.
        assert!(!should_replace(false, 10, 10, 3));
        assert!(!should_replace(false, 12, 10, 3));
        // Blocks passed without it.
        assert!(should_replace(false, 13, 10, 3));
        // The node forgot it: at once, even with no new block.
        assert!(should_replace(true, 10, 10, 3));
    }
}
