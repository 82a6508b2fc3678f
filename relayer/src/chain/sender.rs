//! Sending transactions with nonces the relayer owns, priced the way each chain wants.
//!
//! A send is: earlier sends of unknown fate settled first → pre-flight (the gas estimate) →
//! price → nonce + sign + broadcast under one mutex → wait for the receipt, replacing a
//! transaction the node lost or left unmined. Pricing follows the chain's [`FeeMode`]:
//! EIP-1559 fees from `eth_feeHistory`, a legacy `eth_gasPrice`, or a fixed price (0 on a
//! gas-free network, where the account needs no balance). A replacement bumps the fees where
//! the price can rise; a fixed or zero price cannot, so the same signed transaction is
//! broadcast again instead.
//!
//! Settling first is what keeps one action from being sent twice: when waiting for a
//! transaction fails (the node stopped answering), it may still be mined; the next send waits
//! for it (or replaces it, if the node lost it) before its own pre-flight, which then sees what
//! the first one did (an ack already recorded is refused, not sent again).

use std::time::{Duration, Instant};

use alloy::eips::BlockId;
use alloy::eips::eip2718::Encodable2718;
use alloy::network::{Ethereum, EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::transports::{RpcError, TransportErrorKind};
use tokio::sync::{Mutex, OnceCell};

use super::fees::{FeeMode, Pricing};
use super::{ChainConfig, ChainError, is_nonce_message, retry};
use crate::chain::Backoff;

/// Whether a transaction sent at block `sent_at` and not mined by `head` is replaced now (same
/// nonce, higher fees or re-broadcast): when the node no longer knows it (a restarted node's
/// pool is empty, a full pool evicts the cheapest), or when `bump_after` blocks passed without
/// it. The first matters on chains that mine only when there is something to mine: no block
/// would ever come.
pub fn should_replace(dropped: bool, head: u64, sent_at: u64, bump_after: u64) -> bool {
    dropped || head >= sent_at.saturating_add(bump_after)
}

/// Polls of the head between two looks at a waiting transaction while no block comes: a chain
/// that mines only when there is something to mine may never move, and a transaction the node
/// lost must still be found out and sent again.
pub(crate) const IDLE_POLLS: u32 = 5;

/// Whether a send waiting for its receipt looks at the transaction now (its receipt, whether the
/// node still knows it): when the head moved since it last looked, for a receipt appears only in
/// a new block, or after `IDLE_POLLS` polls of an unmoving head. Otherwise the one request of the
/// poll is the head, which the relayer's loop usually has just read.
pub(crate) fn should_look(head: u64, looked_at: Option<u64>, polls_since: u32) -> bool {
    looked_at != Some(head) || polls_since >= IDLE_POLLS
}

/// How a sent transaction is pushed through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOptions {
    /// Replace the transaction (higher fees, or broadcast again) when it is not mined within this
    /// many blocks.
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

/// A broadcast transaction: its request (fees and nonce set) and each signed version sent.
#[derive(Debug, Clone)]
struct InFlight {
    what: String,
    tx: TransactionRequest,
    nonce: u64,
    /// `(hash, raw)` of every version broadcast, oldest first.
    versions: Vec<(B256, Bytes)>,
}

/// Sends the relayer's transactions on one chain. The nonce is read from the chain's pending
/// count at start (so restarts are safe) and then kept under a mutex held across "assign nonce +
/// send", so concurrent tasks never collide; a nonce error resyncs from the pending count.
#[derive(Debug)]
pub struct TxSender {
    chain: String,
    provider: DynProvider,
    wallet: EthereumWallet,
    address: Address,
    chain_id: u64,
    confirmations: u64,
    poll: Duration,
    backoff: Backoff,
    options: SendOptions,
    fee: FeeMode,
    pricing: OnceCell<Pricing>,
    next_nonce: Mutex<Option<u64>>,
    /// Sends whose wait failed after broadcast: settled before the next send.
    unsettled: Mutex<Vec<InFlight>>,
    /// The last head read from the node, and when (see [`TxSender::saw_head`]).
    last_head: std::sync::Mutex<Option<(u64, Instant)>>,
    /// The last fee quote and the head it was asked at.
    quote: std::sync::Mutex<Option<(u64, Quote)>>,
}

/// Fees asked of the node for one block.
#[derive(Debug, Clone, Copy)]
enum Quote {
    Eip1559 { max_fee: u128, tip: u128 },
    Legacy(u128),
}

impl TxSender {
    pub(super) fn new(
        chain: String,
        provider: DynProvider,
        wallet: EthereumWallet,
        address: Address,
        chain_id: u64,
        config: &ChainConfig,
    ) -> Self {
        TxSender {
            chain,
            provider,
            wallet,
            address,
            chain_id,
            confirmations: config.confirmations,
            poll: config.poll_interval,
            backoff: config.backoff,
            options: config.send,
            fee: config.fee,
            pricing: OnceCell::new(),
            next_nonce: Mutex::new(None),
            unsettled: Mutex::new(Vec::new()),
            last_head: std::sync::Mutex::new(None),
            quote: std::sync::Mutex::new(None),
        }
    }

    /// A head just read from the node. The relayer's loop reads every chain's head once per poll
    /// interval; a send waiting for its receipt takes that reading while it is younger than one
    /// interval instead of asking the node again (one head request per chain per interval,
    /// however many sends wait).
    pub(super) fn saw_head(&self, head: u64) {
        *self.last_head.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((head, Instant::now()));
    }

    /// The head last read, while younger than one poll interval.
    pub fn recent_head(&self) -> Option<u64> {
        let last = *self.last_head.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        last.and_then(|(head, at)| (at.elapsed() < self.poll).then_some(head))
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

    /// How this chain's transactions are priced: the configured mode, resolved against the node
    /// once (a node that lacks what the mode needs is [`ChainError::Unsupported`], not retried).
    pub async fn pricing(&self) -> Result<Pricing, ChainError> {
        self.pricing.get_or_try_init(|| self.resolve_pricing()).await.copied()
    }

    async fn resolve_pricing(&self) -> Result<Pricing, ChainError> {
        super::fees::resolve_pricing(&self.provider, &self.chain, self.fee, &self.backoff).await
    }

    async fn gas_price(&self) -> Result<u128, ChainError> {
        retry(&self.backoff, || async {
            self.provider
                .get_gas_price()
                .await
                .map_err(|e| ChainError::from_rpc(&self.chain, "eth_gasPrice", &e))
        })
        .await
    }

    /// Sets the fees of `tx` per the chain's pricing. A quote is asked of the node once per
    /// block: sends within one block (the head read within the poll interval) share it.
    async fn price(&self, tx: &mut TransactionRequest) -> Result<(), ChainError> {
        let pricing = self.pricing().await?;
        if let Pricing::Fixed(price) = pricing {
            tx.set_gas_price(price);
            return Ok(());
        }
        let head = self.recent_head();
        let cached = *self.quote.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let quote = match cached {
            Some((at, quote)) if head == Some(at) => quote,
            _ => {
                let quote = self.quote(pricing).await?;
                if let Some(head) = head {
                    *self.quote.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                        Some((head, quote));
                }
                quote
            }
        };
        match quote {
            Quote::Eip1559 { max_fee, tip } => {
                tx.set_max_fee_per_gas(max_fee);
                tx.set_max_priority_fee_per_gas(tip);
            }
            Quote::Legacy(price) => tx.set_gas_price(price),
        }
        Ok(())
    }

    async fn quote(&self, pricing: Pricing) -> Result<Quote, ChainError> {
        Ok(match pricing {
            Pricing::Eip1559 => {
                let fees = retry(&self.backoff, || async {
                    self.provider
                        .estimate_eip1559_fees()
                        .await
                        .map_err(|e| ChainError::from_rpc(&self.chain, "fee estimate", &e))
                })
                .await
                .map_err(|e| e.needed_by("eth_feeHistory", "fee_mode"))?;
                Quote::Eip1559 { max_fee: fees.max_fee_per_gas, tip: fees.max_priority_fee_per_gas }
            }
            Pricing::Legacy | Pricing::Fixed(_) => Quote::Legacy(
                self.gas_price().await.map_err(|e| e.needed_by("eth_gasPrice", "fee_mode"))?,
            ),
        })
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

    /// Settles earlier sends of unknown fate, pre-flights, sends and waits for `confirmations`:
    /// the receipt of a successful transaction.
    ///
    /// The gas estimate is the pre-flight: it executes the call as `eth_call` would and a refusal
    /// comes back with the same revert data, typed the same ([`ChainError::Reverted`]), before
    /// anything is sent. (A separate `eth_call` first would cost one more request per send.) It
    /// runs against the latest block by name: nodes differ when none is named (Besu and geth use
    /// the latest block, anvil and Hardhat the pending one), and what the relayer has pending
    /// itself is settled first.
    pub async fn send(
        &self,
        what: &str,
        to: Address,
        data: Bytes,
    ) -> Result<TransactionReceipt, ChainError> {
        self.send_within(what, to, data, None).await
    }

    /// [`Self::send`], refusing with [`ChainError::OverGasCap`] (nothing sent) when the estimate
    /// exceeds `max_gas`.
    pub async fn send_within(
        &self,
        what: &str,
        to: Address,
        data: Bytes,
        max_gas: Option<u64>,
    ) -> Result<TransactionReceipt, ChainError> {
        self.settle().await?;
        let mut tx = self.request(to, data);
        let gas = retry(&self.backoff, || async {
            self.provider
                .estimate_gas(tx.clone())
                .block(BlockId::latest())
                .await
                .map_err(|e| ChainError::from_rpc(&self.chain, what, &e))
        })
        .await?;
        if let Some(cap) = max_gas
            && gas > cap
        {
            return Err(ChainError::OverGasCap {
                chain: self.chain.clone(),
                what: what.to_owned(),
                gas,
                cap,
            });
        }
        self.price(&mut tx).await?;
        tx.set_gas_limit(gas.saturating_mul(100 + self.options.gas_margin_percent) / 100);
        tx.set_chain_id(self.chain_id);
        let sent = self.assign_and_send(what, tx).await?;
        self.wait_and_keep(sent).await
    }

    /// Waits for `sent`; if the wait fails with its fate unknown, keeps it for the next send to
    /// settle.
    async fn wait_and_keep(&self, sent: InFlight) -> Result<TransactionReceipt, ChainError> {
        let mut sent = sent;
        let result = self.wait(&mut sent).await;
        if let Err(err) = &result
            && !matches!(err, ChainError::Failed { .. })
        {
            // It may still be mined (or the node lost it with its pool): the next send waits for
            // it, or replaces it on its nonce, before doing anything else.
            tracing::debug!(chain = %self.chain, what = %sent.what, nonce = sent.nonce, %err, "fate unknown: kept to settle");
            self.unsettled.lock().await.push(sent);
        }
        result
    }

    /// Waits for every earlier send whose fate was unknown, so that what it did is on chain
    /// before anything else is pre-flighted and sent. Fails (sending nothing) while one still
    /// cannot be settled.
    async fn settle(&self) -> Result<(), ChainError> {
        let mut unsettled = self.unsettled.lock().await;
        while let Some(mut sent) = unsettled.pop() {
            match self.wait(&mut sent).await {
                Ok(_) | Err(ChainError::Failed { .. }) => {
                    tracing::debug!(chain = %self.chain, what = %sent.what, nonce = sent.nonce, "settled");
                }
                Err(err) => {
                    unsettled.push(sent);
                    return Err(err);
                }
            }
        }
        Ok(())
    }

    /// Signs `tx` with the relayer's key: its hash and raw bytes.
    async fn sign(&self, what: &str, tx: TransactionRequest) -> Result<(B256, Bytes), ChainError> {
        let built =
            <TransactionRequest as NetworkTransactionBuilder<Ethereum>>::build(tx, &self.wallet);
        let envelope = built.await.map_err(|e| ChainError::BadData {
            chain: self.chain.clone(),
            what: what.to_owned(),
            message: format!("cannot sign the transaction: {e}"),
        })?;
        Ok((*envelope.tx_hash(), Bytes::from(envelope.encoded_2718())))
    }

    /// Assigns the next nonce, signs and broadcasts, under the nonce mutex.
    ///
    /// A broadcast whose answer never came (a timeout, a dropped connection) may have reached the
    /// node: it is kept as sent and waited for, never signed again on the next nonce, which would
    /// send the action twice. If the node never got it, [`Self::wait`] finds it unknown and
    /// broadcasts it again. Only a node's own refusal is retried: on a fresh nonce when it names
    /// the nonce, on the same one otherwise.
    async fn assign_and_send(
        &self,
        what: &str,
        mut tx: TransactionRequest,
    ) -> Result<InFlight, ChainError> {
        let mut guard = self.next_nonce.lock().await;
        let mut attempt = 0u32;
        loop {
            let nonce = match *guard {
                Some(n) => n,
                None => self.pending_count().await?,
            };
            tx.set_nonce(nonce);
            let (hash, raw) = self.sign(what, tx.clone()).await?;
            let outcome = self.provider.send_raw_transaction(&raw).await;
            let refusal = match &outcome {
                Ok(_) => None,
                Err(e) => match e.as_error_resp() {
                    // The node has exactly this transaction already.
                    Some(p) if is_known_message(&p.message.to_ascii_lowercase()) => None,
                    Some(_) => Some(e),
                    // No answer: its fate is unknown.
                    None if ChainError::from_rpc(&self.chain, what, e).is_retryable() => {
                        tracing::debug!(chain = %self.chain, what, nonce, error = %e, "broadcast unanswered: waiting for it as sent");
                        None
                    }
                    None => Some(e),
                },
            };
            let Some(e) = refusal else {
                *guard = Some(nonce + 1);
                tracing::debug!(chain = %self.chain, what, nonce, %hash, "sent");
                return Ok(InFlight {
                    what: what.to_owned(),
                    tx,
                    nonce,
                    versions: vec![(hash, raw)],
                });
            };
            let err = ChainError::from_rpc(&self.chain, what, e);
            let nonce_problem = e
                .as_error_resp()
                .is_some_and(|p| is_nonce_message(&p.message.to_ascii_lowercase()));
            if nonce_problem {
                *guard = None;
            }
            if (nonce_problem || err.is_retryable()) && attempt + 1 < self.backoff.max_attempts {
                tracing::warn!(chain = %self.chain, what, %err, "send refused, retrying");
                tokio::time::sleep(self.backoff.delay(attempt)).await;
                attempt += 1;
                continue;
            }
            return Err(err);
        }
    }

    /// Whether a replacement of `tx` raises its price (else it is broadcast again as is): a
    /// fixed price cannot, nor can a zero one (a gas-free network's accounts hold nothing).
    fn bumpable(&self, tx: &TransactionRequest) -> bool {
        match self.pricing.get() {
            Some(Pricing::Eip1559) => true,
            Some(Pricing::Legacy) => tx.gas_price.is_some_and(|p| p > 0),
            Some(Pricing::Fixed(_)) | None => false,
        }
    }

    /// Waits for one of the versions of `sent` to be mined and confirmed; when none is mined
    /// within `bump_after_blocks` (or the node lost it), replaces it on the same nonce: with
    /// higher fees where they can rise, else the same signed transaction again.
    async fn wait(&self, sent: &mut InFlight) -> Result<TransactionReceipt, ChainError> {
        let what = sent.what.clone();
        let what = what.as_str();
        // The head when the transaction was first seen unmined.
        let mut unmined_since: Option<u64> = None;
        let mut bumps = 0u32;
        // The head at the last look at the transaction, and polls since.
        let mut looked_at: Option<u64> = None;
        let mut polls_since = 0u32;
        loop {
            let head = self.head(what).await?;
            if !should_look(head, looked_at, polls_since) {
                polls_since += 1;
                tokio::time::sleep(self.poll).await;
                continue;
            }
            // Whether the node still knows it is asked only of a chain that did not move: on one
            // that moves, a lost transaction is replaced after `bump_after_blocks` anyway.
            let idle = looked_at == Some(head);
            looked_at = Some(head);
            polls_since = 0;
            for (hash, _) in sent.versions.iter().rev() {
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
            let (latest, latest_raw) =
                sent.versions.last().cloned().unwrap_or((B256::ZERO, Bytes::new()));
            let dropped = idle && self.dropped(what, latest).await;
            let since = *unmined_since.get_or_insert(head);
            if should_replace(dropped, head, since, self.options.bump_after_blocks) {
                if bumps >= self.options.max_bumps {
                    return Err(ChainError::NotMined {
                        chain: self.chain.clone(),
                        what: what.to_owned(),
                        tx_hash: latest,
                        bumps,
                    });
                }
                bumps += 1;
                unmined_since = Some(head);
                let why = if dropped { "dropped by the node" } else { "not mined" };
                if self.bumpable(&sent.tx) {
                    let bump = |fee: u128| {
                        fee.saturating_mul(100 + u128::from(self.options.bump_percent.max(13)))
                            / 100
                            + 1
                    };
                    let tx = &mut sent.tx;
                    if let Some(price) = tx.gas_price {
                        tx.set_gas_price(bump(price));
                    } else {
                        let max_fee = tx.max_fee_per_gas.unwrap_or_default();
                        let tip = tx.max_priority_fee_per_gas.unwrap_or_default();
                        tx.set_max_fee_per_gas(bump(max_fee));
                        tx.set_max_priority_fee_per_gas(bump(tip));
                    }
                    tx.set_nonce(sent.nonce);
                    let (hash, raw) = self.sign(what, sent.tx.clone()).await?;
                    match self.provider.send_raw_transaction(&raw).await {
                        Ok(_) => {
                            tracing::info!(chain = %self.chain, what, nonce = sent.nonce, bumps, why, "fee bumped");
                            sent.versions.push((hash, raw));
                        }
                        // "nonce too low": an earlier version was mined; the next poll finds it.
                        Err(e) => {
                            tracing::debug!(chain = %self.chain, what, error = %e, "bump refused")
                        }
                    }
                } else {
                    // The price cannot rise: the same signed transaction, again (a node that
                    // lost it takes it back; one that has it answers "already known").
                    match self.provider.send_raw_transaction(&latest_raw).await {
                        Ok(_) => {
                            tracing::info!(chain = %self.chain, what, nonce = sent.nonce, bumps, why, "broadcast again")
                        }
                        Err(e) => {
                            tracing::debug!(chain = %self.chain, what, error = %e, "re-broadcast refused")
                        }
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
        if let Some(head) = self.recent_head() {
            return Ok(head);
        }
        let head = retry(&self.backoff, || async {
            self.provider
                .get_block_number()
                .await
                .map_err(|e| ChainError::from_rpc(&self.chain, what, &e))
        })
        .await?;
        self.saw_head(head);
        Ok(head)
    }
}

/// Whether a node's refusal of a broadcast says it already has that very transaction (geth and
/// Besu "already known", Hardhat "known transaction", others "already imported").
fn is_known_message(lower: &str) -> bool {
    lower.contains("already known")
        || lower.contains("known transaction")
        || lower.contains("already imported")
        || lower.contains("alreadyknown")
}

/// Whether an RPC error says the node lacks the method or feature (not a transient failure):
/// JSON-RPC "method not found" (-32601) and the usual wordings of it, and alloy's own
/// `UnsupportedFeature`.
pub(crate) fn is_unsupported_rpc(err: &RpcError<TransportErrorKind>) -> bool {
    if let RpcError::UnsupportedFeature(_) = err {
        return true;
    }
    err.as_error_resp().is_some_and(|p| is_unsupported_answer(p.code, &p.message))
}

/// [`is_unsupported_rpc`] on an error answer's code and message.
fn is_unsupported_answer(code: i64, message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    code == -32601
        || lower.contains("method not found")
        || lower.contains("not supported")
        || lower.contains("unsupported")
        || (lower.contains("does not exist") && lower.contains("method"))
        || lower.contains("not available")
        || lower.contains("is disabled")
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn looks_at_a_waiting_send_on_a_new_head_or_after_idle_polls() {
        // The first poll always looks.
        assert!(should_look(7, None, 0));
        // Same head, recently looked: only the head was asked.
        assert!(!should_look(7, Some(7), 0));
        assert!(!should_look(7, Some(7), IDLE_POLLS - 1));
        // A chain that does not move is still looked at now and then (a lost transaction).
        assert!(should_look(7, Some(7), IDLE_POLLS));
        // A new block (or a head that went back: a reorg or a reset node) means look.
        assert!(should_look(8, Some(7), 0));
        assert!(should_look(6, Some(7), 0));
    }

    #[test]
    fn missing_methods_are_recognised() {
        assert!(is_unsupported_answer(-32601, "Method not found"));
        assert!(is_unsupported_answer(
            -32000,
            "the method eth_feeHistory does not exist/is not available"
        ));
        assert!(is_unsupported_rpc(&RpcError::<TransportErrorKind>::UnsupportedFeature("eip1559")));
        // A node that has the very transaction already, in each wording.
        for m in ["already known", "Known transaction: 0xab", "transaction already imported"] {
            assert!(is_known_message(&m.to_ascii_lowercase()), "{m}");
        }
        assert!(!is_known_message("nonce too low"));
        // Hardhat at Berlin.
        assert!(is_unsupported_answer(
            -32000,
            "eth_feeHistory is disabled. It only works with the London hardfork or a later one."
        ));
        assert!(!is_unsupported_answer(-32000, "execution reverted"));
        assert!(!is_unsupported_answer(-32005, "rate limit exceeded"));
    }
}
