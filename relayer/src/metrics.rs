//! The relayer's Prometheus metrics (served as text on `GET /metrics`).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `crossgov_relayer_actions_total` | counter | `kind` (prepare, vote, commit, …), `result` (ok, failed, skipped) |
//! | `crossgov_relayer_reconcile_duration_seconds` | histogram | |
//! | `crossgov_relayer_pending_transactions` | gauge | |
//! | `crossgov_relayer_rpc_errors_total` | counter | `chain` (`governance` or `zone.chain`) |
//! | `crossgov_relayer_wallet_balance_ether` | gauge | `chain` |
//! | `crossgov_relayer_api_requests_total` | counter | `route`, `status` |
//! | `crossgov_relayer_busy_refusals_total` | counter | |

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use alloy::primitives::utils::format_units;
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder, RootProvider};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use url::Url;

/// Metric name prefix.
pub const PREFIX: &str = "crossgov_relayer";

type Labels = Vec<(String, String)>;

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionResult {
    /// Sent and confirmed.
    Ok,
    /// Failed (reverted, dropped, RPC error after retries).
    Failed,
    /// Not needed any more (already done by another relayer).
    Skipped,
}

impl ActionResult {
    fn as_str(self) -> &'static str {
        match self {
            ActionResult::Ok => "ok",
            ActionResult::Failed => "failed",
            ActionResult::Skipped => "skipped",
        }
    }
}

/// All metrics of one relayer; cheap to share behind an `Arc`, every method takes `&self`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    actions: Family<Labels, Counter>,
    reconcile_duration: Histogram,
    report_items: Histogram,
    pending: Gauge,
    rpc_errors: Family<Labels, Counter>,
    wallet_balance: Family<Labels, Gauge<f64, AtomicU64>>,
    api_requests: Family<Labels, Counter>,
    refused_state: Family<Labels, Counter>,
    busy: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric (at zero).
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix(PREFIX);
        let actions = Family::<Labels, Counter>::default();
        registry.register(
            "actions",
            "Protocol actions performed, by kind and result",
            actions.clone(),
        );
        let reconcile_duration = Histogram::new(exponential_buckets(0.005, 2.0, 14));
        registry.register_with_unit(
            "reconcile_duration",
            "Duration of a reconcile pass",
            prometheus_client::registry::Unit::Seconds,
            reconcile_duration.clone(),
        );
        let report_items = Histogram::new([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]);
        registry.register(
            "report_items",
            "Items per governance report transaction (TransactionManager.report)",
            report_items.clone(),
        );
        let pending = Gauge::default();
        registry.register(
            "pending_transactions",
            "Unfinished transactions touching the served chains",
            pending.clone(),
        );
        let rpc_errors = Family::<Labels, Counter>::default();
        registry.register("rpc_errors", "JSON-RPC errors, by chain", rpc_errors.clone());
        let wallet_balance = Family::<Labels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "wallet_balance_ether",
            "Balance of the relayer's account, by chain (in ether)",
            wallet_balance.clone(),
        );
        let api_requests = Family::<Labels, Counter>::default();
        registry.register(
            "api_requests",
            "HTTP API requests, by route and status",
            api_requests.clone(),
        );
        let refused_state = Family::<Labels, Counter>::default();
        registry.register(
            "refused_chain_state",
            "On-chain state the relayer refused to act on because it contradicts what the parties signed (a lock with other terms, a leg recorded locked that its chain does not show), by kind",
            refused_state.clone(),
        );
        let busy = Counter::default();
        registry.register(
            "busy_refusals",
            "New transactions and swaps refused because the relayer carried max_open_work open ones",
            busy.clone(),
        );
        Metrics {
            registry,
            busy,
            actions,
            reconcile_duration,
            report_items,
            pending,
            rpc_errors,
            wallet_balance,
            api_requests,
            refused_state,
        }
    }

    /// Counts one action of `kind` (`begin`, `prepare`, `vote`, `commit`, `rollback`, `ack`,
    /// `expire`, `lock`, `unlock`, `timeout`, …).
    pub fn action(&self, kind: &str, result: ActionResult) {
        self.actions
            .get_or_create(&vec![
                ("kind".to_owned(), kind.to_owned()),
                ("result".to_owned(), result.as_str().to_owned()),
            ])
            .inc();
    }

    /// Counts one piece of on-chain state refused as contradicting the signed terms (`kind`:
    /// `lock_terms`, `leg_not_locked`).
    pub fn refused_state(&self, kind: &str) {
        self.refused_state.get_or_create(&vec![("kind".to_owned(), kind.to_owned())]).inc();
    }

    /// Records the duration of one reconcile pass.
    pub fn observe_reconcile(&self, duration: Duration) {
        self.reconcile_duration.observe(duration.as_secs_f64());
    }

    /// Records one governance report transaction carrying `items` items.
    pub fn observe_report(&self, items: usize) {
        self.report_items.observe(items as f64);
    }

    /// Counts one submission refused as busy.
    pub fn busy(&self) {
        self.busy.inc();
    }

    /// Sets the number of unfinished transactions.
    pub fn set_pending(&self, count: u64) {
        self.pending.set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// Counts one RPC error on `chain` (`governance` or `zone.chain`).
    pub fn rpc_error(&self, chain: &str) {
        self.rpc_errors.get_or_create(&chain_label(chain)).inc();
    }

    /// Sets the relayer account's balance on `chain`, in wei.
    pub fn set_wallet_balance(&self, chain: &str, wei: U256) {
        let ether =
            format_units(wei, "ether").ok().and_then(|s| s.parse::<f64>().ok()).unwrap_or(f64::NAN);
        self.wallet_balance.get_or_create(&chain_label(chain)).set(ether);
    }

    /// Counts one HTTP API request.
    pub fn api_request(&self, route: &str, status: u16) {
        self.api_requests
            .get_or_create(&vec![
                ("route".to_owned(), route.to_owned()),
                ("status".to_owned(), status.to_string()),
            ])
            .inc();
    }

    /// The Prometheus text exposition (OpenMetrics text format).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Keeps `crossgov_relayer_wallet_balance_ether` current: reads `account`'s balance on every
/// `(name, rpc_url)` chain now and then every `every` (an RPC failure counts in
/// `crossgov_relayer_rpc_errors_total`). Abort the returned task to stop it.
pub fn spawn_balance_watcher(
    metrics: Arc<Metrics>,
    account: Address,
    chains: Vec<(String, Url)>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    let providers: Vec<(String, RootProvider)> = chains
        .into_iter()
        .map(|(name, url)| (name, ProviderBuilder::default().connect_http(url)))
        .collect();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            for (name, provider) in &providers {
                match provider.get_balance(account).await {
                    Ok(wei) => metrics.set_wallet_balance(name, wei),
                    Err(e) => {
                        tracing::debug!(chain = %name, error = %e, "balance read failed");
                        metrics.rpc_error(name);
                    }
                }
            }
        }
    })
}

fn chain_label(chain: &str) -> Labels {
    vec![("chain".to_owned(), chain.to_owned())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_every_metric() {
        let m = Metrics::new();
        m.action("prepare", ActionResult::Ok);
        m.action("prepare", ActionResult::Ok);
        m.action("vote", ActionResult::Failed);
        m.observe_reconcile(Duration::from_millis(20));
        m.set_pending(3);
        m.busy();
        m.rpc_error("zoneA.chainA");
        m.set_wallet_balance("governance", U256::from(1_500_000_000_000_000_000u128));
        let text = m.encode();
        for needle in [
            "crossgov_relayer_actions_total{kind=\"prepare\",result=\"ok\"} 2",
            "crossgov_relayer_actions_total{kind=\"vote\",result=\"failed\"} 1",
            "crossgov_relayer_reconcile_duration_seconds_count 1",
            "crossgov_relayer_pending_transactions 3",
            "crossgov_relayer_busy_refusals_total 1",
            "crossgov_relayer_rpc_errors_total{chain=\"zoneA.chainA\"} 1",
            "crossgov_relayer_wallet_balance_ether{chain=\"governance\"} 1.5",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
    }
}
