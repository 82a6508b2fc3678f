//! Packing independent calls into one transaction: one batch in flight per chain account, so every
//! item that becomes ready while a batch is being mined goes out together in the next one — at
//! most one transaction per block, whatever the load.
//!
//! The contract runs each item on its own (a refused item is rolled back alone and named in the
//! receipt's logs) and reverts only when no item stands; the [`BatchCodec`] says how items are
//! encoded and how refusals are read back. Each submitter gets its own item's outcome, typed as if
//! it had been sent alone: the receipt when it stood, its revert when it was refused.
//!
//! What happens to a batch:
//! - refused at pre-flight (nothing stood), over the gas cap, or failed on chain (state moved
//!   between the estimate and the block, so one item ran out of gas): split in halves, each tried
//!   again, down to single items, so each learns its own outcome;
//! - any other error (node unreachable, not mined): every item gets it, retryable as it is.
//!
//! An item whose submitter gave up (its future dropped: the task was aborted) before the batch
//! left is not sent. [`Batcher::abort`] (a crash) and dropping the batcher stop the sending task
//! at once: what it had sent stays as it is on the chain, and nothing more leaves from it — so a
//! relayer restarted on the same account never races a batch sender of its dead predecessor.

use std::sync::{Arc, OnceLock};

use alloy::primitives::{Address, Bytes};
use alloy::rpc::types::TransactionReceipt;
use tokio::sync::{mpsc, oneshot};

use super::{ChainClient, ChainError};
use crate::errors::ContractRevert;

/// How large one batch may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Items per transaction (the contract's own limit or less).
    pub max_items: usize,
    /// Encoded item bytes per transaction (nodes refuse transactions above 128 KiB by default).
    pub max_bytes: usize,
    /// Gas per transaction (below the block gas limit, so a batch always fits in a block).
    pub max_gas: u64,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits { max_items: 64, max_bytes: 96 * 1024, max_gas: 12_000_000 }
    }
}

/// How the items of one batch entry point are encoded and their outcomes read.
pub trait BatchCodec: Send + Sync + 'static {
    /// One item.
    type Item: Clone + Send + Sync + 'static;
    /// The transaction's name in logs and errors.
    const WHAT: &'static str;
    /// The calldata of one transaction carrying `items`.
    fn encode(&self, items: &[Self::Item]) -> Bytes;
    /// An item's share of the calldata, for [`BatchLimits::max_bytes`].
    fn size(&self, item: &Self::Item) -> usize;
    /// The items of a mined batch the contract refused: `(index, revert data)`.
    fn refused(&self, to: Address, receipt: &TransactionReceipt) -> Vec<(usize, Bytes)>;
}

/// The items of the next batch: the longest prefix of `sizes` within `limits` (at least one item,
/// however large: the contract, not the packer, refuses an oversize one).
pub fn next_batch(sizes: &[usize], limits: &BatchLimits) -> usize {
    let mut bytes = 0usize;
    let mut count = 0usize;
    for &size in sizes {
        if count > 0 && (count >= limits.max_items || bytes + size > limits.max_bytes) {
            break;
        }
        bytes += size;
        count += 1;
    }
    count
}

struct Queued<I> {
    what: &'static str,
    item: I,
    reply: oneshot::Sender<Result<TransactionReceipt, ChainError>>,
}

/// Sends the items submitted to one contract's batch entry point, as few transactions as the
/// limits allow, one at a time. Cheap to share (`Arc`); the sending task starts on the first
/// submit and stops when the batcher is aborted or dropped.
pub struct Batcher<C: BatchCodec> {
    inner: Arc<Shared<C>>,
    queue: OnceLock<(mpsc::UnboundedSender<Queued<C::Item>>, tokio::task::AbortHandle)>,
}

impl<C: BatchCodec> Drop for Batcher<C> {
    fn drop(&mut self) {
        self.abort();
    }
}

struct Shared<C: BatchCodec> {
    client: Arc<ChainClient>,
    to: Address,
    codec: C,
    limits: BatchLimits,
    observe: Box<dyn Fn(usize) + Send + Sync>,
}

impl<C: BatchCodec> std::fmt::Debug for Batcher<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("chain", &self.inner.client.name())
            .field("to", &self.inner.to)
            .field("limits", &self.inner.limits)
            .finish()
    }
}

impl<C: BatchCodec> Batcher<C> {
    /// A batcher of `codec`'s items to `to` on `client`'s chain; `observe` is told the size of
    /// every batch sent (for metrics).
    pub fn new(
        client: Arc<ChainClient>,
        to: Address,
        codec: C,
        limits: BatchLimits,
        observe: impl Fn(usize) + Send + Sync + 'static,
    ) -> Self {
        Batcher {
            inner: Arc::new(Shared { client, to, codec, limits, observe: Box::new(observe) }),
            queue: OnceLock::new(),
        }
    }

    /// Queues `item` for the next batch and waits for its outcome: the batch's receipt when the
    /// item stood, its own refusal ([`ChainError::Reverted`], named `what`) when it did not.
    pub async fn submit(
        &self,
        what: &'static str,
        item: C::Item,
    ) -> Result<TransactionReceipt, ChainError> {
        let (queue, _) = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let task = tokio::spawn(run(self.inner.clone(), rx));
            (tx, task.abort_handle())
        });
        let (reply, outcome) = oneshot::channel();
        let stopped = || ChainError::Rpc {
            chain: self.inner.client.name().to_owned(),
            what: what.to_owned(),
            message: "the batch sender stopped".into(),
            transient: true,
        };
        queue.send(Queued { what, item, reply }).map_err(|_| stopped())?;
        match outcome.await {
            Ok(result) => result,
            Err(_) => Err(stopped()),
        }
    }

    /// Stops the sending task now, as a crash would: a batch in flight is not waited for (the
    /// chain has it or not), queued items are answered "stopped", and later submits fail alike.
    pub fn abort(&self) {
        if let Some((_, task)) = self.queue.get() {
            task.abort();
        }
    }
}

async fn run<C: BatchCodec>(
    shared: Arc<Shared<C>>,
    mut rx: mpsc::UnboundedReceiver<Queued<C::Item>>,
) {
    let mut waiting: Vec<Queued<C::Item>> = Vec::new();
    loop {
        if waiting.is_empty() {
            match rx.recv().await {
                Some(q) => waiting.push(q),
                None => return,
            }
        }
        // Everything ready now rides together.
        while let Ok(q) = rx.try_recv() {
            waiting.push(q);
        }
        waiting.retain(|q| !q.reply.is_closed());
        if waiting.is_empty() {
            continue;
        }
        let sizes: Vec<usize> = waiting.iter().map(|q| shared.codec.size(&q.item)).collect();
        let take = next_batch(&sizes, &shared.limits);
        let batch: Vec<Queued<C::Item>> = waiting.drain(..take).collect();
        send(&shared, batch).await;
    }
}

/// Sends `batch` and answers each of its items; splits it as the module doc says.
async fn send<C: BatchCodec>(shared: &Shared<C>, batch: Vec<Queued<C::Item>>) {
    let mut work = vec![batch];
    while let Some(batch) = work.pop() {
        let items: Vec<C::Item> = batch.iter().map(|q| q.item.clone()).collect();
        let what = if batch.len() == 1 { batch[0].what } else { C::WHAT };
        let data = shared.codec.encode(&items);
        let result = shared
            .client
            .sender()
            .send_within(what, shared.to, data, Some(shared.limits.max_gas))
            .await;
        match result {
            Ok(receipt) => {
                (shared.observe)(batch.len());
                let refused = shared.codec.refused(shared.to, &receipt);
                for (index, q) in batch.into_iter().enumerate() {
                    let outcome = match refused.iter().find(|(i, _)| *i == index) {
                        None => Ok(receipt.clone()),
                        Some((_, reason)) => Err(refusal(shared.client.name(), q.what, reason)),
                    };
                    let _ = q.reply.send(outcome);
                }
            }
            Err(
                ChainError::Reverted { .. }
                | ChainError::RevertedUnknown { .. }
                | ChainError::OverGasCap { .. }
                | ChainError::Failed { .. },
            ) if batch.len() > 1 => {
                // Each alone (or halves): the items' own outcomes, whatever sank the batch.
                let mut batch = batch;
                let second = batch.split_off(batch.len() / 2);
                work.push(second);
                work.push(batch);
            }
            Err(err) => {
                for q in batch {
                    let _ = q.reply.send(Err(err.clone().with_what(q.what)));
                }
            }
        }
    }
}

/// An item's refusal as read from the batch's logs, typed as if it had been refused alone.
fn refusal(chain: &str, what: &str, reason: &[u8]) -> ChainError {
    match ContractRevert::decode(reason) {
        Some(revert) => {
            ChainError::Reverted { chain: chain.to_owned(), what: what.to_owned(), revert }
        }
        None => ChainError::RevertedUnknown {
            chain: chain.to_owned(),
            what: what.to_owned(),
            message: format!("refused in the batch with 0x{}", alloy::hex::encode(reason)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_takes_what_fits_in_order() {
        let limits = BatchLimits { max_items: 3, max_bytes: 100, max_gas: 1 };
        assert_eq!(next_batch(&[], &limits), 0);
        assert_eq!(next_batch(&[10, 10, 10, 10], &limits), 3, "item cap");
        assert_eq!(next_batch(&[40, 40, 40], &limits), 2, "byte cap");
        assert_eq!(next_batch(&[60, 40, 1], &limits), 2, "exactly at the byte cap");
        // An oversize item still goes, alone: the contract says why it is refused.
        assert_eq!(next_batch(&[500, 10], &limits), 1);
        assert_eq!(next_batch(&[10, 500], &limits), 1);
    }

    #[test]
    fn refusals_are_typed_as_their_items() {
        use crate::bindings::transaction_manager::TransactionManager::{
            TransactionManagerErrors as TmErr, TxAlreadyAcked,
        };
        use alloy::primitives::B256;
        use alloy::sol_types::SolInterface;
        let data = TmErr::TxAlreadyAcked(TxAlreadyAcked { txId: B256::ZERO, step: 1 }).abi_encode();
        let err = refusal("governance", "ack", &data);
        assert!(
            matches!(&err, ChainError::Reverted { what, revert: ContractRevert::TransactionManager(TmErr::TxAlreadyAcked(_)), .. } if what == "ack"),
            "{err:?}"
        );
        assert!(matches!(
            refusal("governance", "ack", &[1, 2]),
            ChainError::RevertedUnknown { .. }
        ));
        let renamed = ChainError::Rpc {
            chain: "g".into(),
            what: "report".into(),
            message: "x".into(),
            transient: true,
        }
        .with_what("vote");
        assert!(
            matches!(&renamed, ChainError::Rpc { what, transient: true, .. } if what == "vote")
        );
    }
}
