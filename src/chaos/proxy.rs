//! A JSON-RPC proxy between the relayers and a node that fails requests on demand: dropped before
//! the node sees them, answered by the node but the answer lost, or held for a while. When the
//! node is down the proxy answers 502, as a load balancer in front of a stopped node would.
//!
//! It also makes a node look like the ones consortia run: methods it does not serve
//! ([`RpcProxy::refuse_method`], as FISCO BCOS lacks `eth_feeHistory`) and a cap on the blocks one
//! `eth_getLogs` may cover ([`RpcProxy::limit_log_range`], as Besu's `--rpc-max-logs-range`). Both
//! answer as those nodes do: a JSON-RPC error in an HTTP 200.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::transports::http::reqwest::{self, Url};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What the proxy does to the next requests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Pending {
    drop: u32,
    lose: u32,
    delay: u32,
    delay_by: Duration,
    /// Answers lost for the next calls of one method only.
    lose_calls: Option<(&'static str, u32)>,
}

/// Requests seen and failed, for the trial's report.
#[derive(Debug, Default)]
pub struct ProxyStats {
    /// Requests received.
    pub requests: AtomicU64,
    /// Dropped before the node.
    pub dropped: AtomicU64,
    /// Handled by the node, answer lost.
    pub lost: AtomicU64,
    /// Held before forwarding.
    pub delayed: AtomicU64,
    /// Refused as a node without the method or over its log-range limit would.
    pub refused: AtomicU64,
    /// JSON-RPC calls by method (a batch counts each of its calls).
    pub methods: Mutex<BTreeMap<String, u64>>,
}

impl ProxyStats {
    /// A copy of the per-method counts.
    pub fn by_method(&self) -> BTreeMap<String, u64> {
        lock(&self.methods).clone()
    }
}

/// The method names of a JSON-RPC request body: one, or one per call of a batch.
fn methods_of(body: &[u8]) -> Vec<String> {
    let name = |call: &serde_json::Value| {
        call.get("method").and_then(|m| m.as_str()).unwrap_or("(no method)").to_owned()
    };
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(calls)) => calls.iter().map(name).collect(),
        Ok(call) => vec![name(&call)],
        Err(_) => vec!["(not JSON)".to_owned()],
    }
}

#[derive(Debug)]
struct Shared {
    upstream: Url,
    client: reqwest::Client,
    pending: Mutex<Pending>,
    /// Methods answered "method not found".
    refused: Mutex<BTreeSet<String>>,
    /// The most blocks one `eth_getLogs` may cover; 0 = no limit.
    max_log_range: AtomicU64,
    stats: ProxyStats,
}

/// A running proxy; stops when dropped.
#[derive(Debug)]
pub struct RpcProxy {
    url: Url,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl RpcProxy {
    /// Listens on a port the OS picks and forwards to `upstream`.
    pub async fn start(upstream: Url) -> std::io::Result<RpcProxy> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared {
            upstream,
            client,
            pending: Mutex::new(Pending::default()),
            refused: Mutex::new(BTreeSet::new()),
            max_log_range: AtomicU64::new(0),
            stats: ProxyStats::default(),
        });
        let router = axum::Router::new().fallback(forward).with_state(shared.clone());
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, router).await {
                tracing::warn!(%err, "rpc proxy stopped");
            }
        });
        let url = format!("http://{addr}").parse().map_err(std::io::Error::other)?;
        Ok(RpcProxy { url, shared, task })
    }

    /// The proxy's endpoint (give this to the relayers).
    pub fn url(&self) -> Url {
        self.url.clone()
    }

    /// Fails the next `n` requests before they reach the node.
    pub fn drop_next(&self, n: u32) {
        lock(&self.shared.pending).drop += n;
    }

    /// Forgets the faults still scheduled: the next requests go through.
    pub fn clear(&self) {
        let mut p = lock(&self.shared.pending);
        p.drop = 0;
        p.lose = 0;
        p.delay = 0;
        p.lose_calls = None;
    }

    /// Lets the node handle the next `n` requests and loses their answers.
    pub fn lose_next(&self, n: u32) {
        lock(&self.shared.pending).lose += n;
    }

    /// Lets the node handle the next `n` calls of `method` (single calls, not batches) and loses
    /// their answers; other methods pass.
    pub fn lose_next_calls(&self, method: &'static str, n: u32) {
        lock(&self.shared.pending).lose_calls = Some((method, n));
    }

    /// Holds each of the next `n` requests for `by` before forwarding it.
    pub fn delay_next(&self, n: u32, by: Duration) {
        let mut p = lock(&self.shared.pending);
        p.delay += n;
        p.delay_by = by;
    }

    /// Answers every call of `method` from now on as a node that does not serve it: JSON-RPC
    /// error -32601.
    pub fn refuse_method(&self, method: &str) {
        lock(&self.shared.refused).insert(method.to_owned());
    }

    /// Refuses every `eth_getLogs` over more than `blocks` blocks from now on (0 lifts the limit),
    /// with Besu's error (-32005, "Requested range exceeds maximum RPC range limit").
    pub fn limit_log_range(&self, blocks: u64) {
        self.shared.max_log_range.store(blocks, Ordering::Relaxed);
    }

    /// Requests seen and failed so far.
    pub fn stats(&self) -> &ProxyStats {
        &self.shared.stats
    }
}

impl Drop for RpcProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

enum Fate {
    Drop,
    Lose,
    Delay(Duration),
    Pass,
}

async fn forward(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    shared.stats.requests.fetch_add(1, Ordering::Relaxed);
    {
        let mut methods = lock(&shared.stats.methods);
        for m in methods_of(&body) {
            *methods.entry(m).or_insert(0) += 1;
        }
    }
    if let Some(refusal) = refusal(&shared, &body).await {
        shared.stats.refused.fetch_add(1, Ordering::Relaxed);
        return ([(header::CONTENT_TYPE, "application/json")], refusal.to_string()).into_response();
    }
    let methods = methods_of(&body);
    let fate = {
        let mut p = lock(&shared.pending);
        let targeted = match &mut p.lose_calls {
            Some((method, n)) if *n > 0 && methods.len() == 1 && methods[0] == *method => {
                *n -= 1;
                true
            }
            _ => false,
        };
        if targeted {
            Fate::Lose
        } else if p.drop > 0 {
            p.drop -= 1;
            Fate::Drop
        } else if p.lose > 0 {
            p.lose -= 1;
            Fate::Lose
        } else if p.delay > 0 {
            p.delay -= 1;
            Fate::Delay(p.delay_by)
        } else {
            Fate::Pass
        }
    };
    match fate {
        Fate::Drop => {
            shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
            return (StatusCode::SERVICE_UNAVAILABLE, "chaos proxy: request dropped")
                .into_response();
        }
        Fate::Delay(by) => {
            shared.stats.delayed.fetch_add(1, Ordering::Relaxed);
            // The injected latency itself, not a wait for some state.
            tokio::time::sleep(by).await;
        }
        Fate::Lose | Fate::Pass => {}
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let answer = async {
        let response = shared
            .client
            .post(shared.upstream.clone())
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok::<_, reqwest::Error>((status, response.bytes().await?))
    }
    .await;
    match (answer, fate) {
        (Err(err), _) => (StatusCode::BAD_GATEWAY, format!("chaos proxy: node unreachable: {err}"))
            .into_response(),
        (Ok(_), Fate::Lose) => {
            shared.stats.lost.fetch_add(1, Ordering::Relaxed);
            (StatusCode::BAD_GATEWAY, "chaos proxy: response lost").into_response()
        }
        (Ok((status, bytes)), _) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            [(header::CONTENT_TYPE, "application/json")],
            bytes.to_vec(),
        )
            .into_response(),
    }
}

/// The JSON-RPC error a node with the configured limits answers to `body` (one call, not a
/// batch), if any.
async fn refusal(shared: &Shared, body: &[u8]) -> Option<serde_json::Value> {
    let call: serde_json::Value = serde_json::from_slice(body).ok()?;
    let method = call.get("method")?.as_str()?;
    let error = |code: i64, message: String| {
        serde_json::json!({
            "jsonrpc": "2.0",
            "id": call.get("id").cloned().unwrap_or(serde_json::Value::Null),
            "error": {"code": code, "message": message},
        })
    };
    if lock(&shared.refused).contains(method) {
        return Some(error(-32601, format!("the method {method} does not exist/is not available")));
    }
    let limit = shared.max_log_range.load(Ordering::Relaxed);
    if method != "eth_getLogs" || limit == 0 {
        return None;
    }
    let filter = call.get("params")?.get(0)?;
    if filter.get("blockHash").is_some() {
        return None;
    }
    let from = block_number(shared, filter.get("fromBlock")).await?;
    let to = block_number(shared, filter.get("toBlock")).await?;
    (to.saturating_sub(from) + 1 > limit)
        .then(|| error(-32005, "Requested range exceeds maximum RPC range limit".into()))
}

/// A filter bound as a block number: a hex quantity, `earliest`, or the head for a tag (or none).
async fn block_number(shared: &Shared, bound: Option<&serde_json::Value>) -> Option<u64> {
    match bound.and_then(|b| b.as_str()) {
        Some("earliest") => Some(0),
        Some(hex) if hex.starts_with("0x") => u64::from_str_radix(&hex[2..], 16).ok(),
        _ => {
            let body = r#"{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}"#;
            let response = shared
                .client
                .post(shared.upstream.clone())
                .header(header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .ok()?;
            let answer: serde_json::Value = response.json().await.ok()?;
            let head = answer.get("result")?.as_str()?;
            u64::from_str_radix(head.trim_start_matches("0x"), 16).ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_named_for_single_calls_and_batches() {
        assert_eq!(methods_of(br#"{"jsonrpc":"2.0","id":1,"method":"eth_call"}"#), ["eth_call"]);
        assert_eq!(
            methods_of(br#"[{"method":"eth_call"},{"method":"eth_blockNumber"},{}]"#),
            ["eth_call", "eth_blockNumber", "(no method)"]
        );
        assert_eq!(methods_of(b"garbage"), ["(not JSON)"]);
    }

    async fn rpc(url: &Url) -> Result<serde_json::Value, String> {
        let client = reqwest::Client::new();
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#;
        let response = client
            .post(url.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("{}", response.status()));
        }
        response.json().await.map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn forwards_drops_loses_and_delays_as_told() {
        let anvil = crossgov_deploy::devnet::spawn_anvil_with_chain_id(4242).expect("anvil");
        let proxy = RpcProxy::start(anvil.endpoint_url()).await.expect("proxy");
        let ok = rpc(&proxy.url()).await.expect("forwarded");
        assert_eq!(ok["result"], "0x1092");
        proxy.drop_next(2);
        assert_eq!(rpc(&proxy.url()).await, Err("503 Service Unavailable".into()));
        assert_eq!(rpc(&proxy.url()).await, Err("503 Service Unavailable".into()));
        proxy.lose_next(1);
        assert_eq!(rpc(&proxy.url()).await, Err("502 Bad Gateway".into()));
        proxy.delay_next(1, Duration::from_millis(1));
        assert!(rpc(&proxy.url()).await.is_ok());
        assert!(rpc(&proxy.url()).await.is_ok());
        let s = proxy.stats();
        assert_eq!(s.requests.load(Ordering::Relaxed), 6);
        assert_eq!(s.dropped.load(Ordering::Relaxed), 2);
        assert_eq!(s.lost.load(Ordering::Relaxed), 1);
        assert_eq!(s.delayed.load(Ordering::Relaxed), 1);
        assert_eq!(s.by_method(), BTreeMap::from([("eth_chainId".to_owned(), 6)]));
        drop(anvil);
        assert_eq!(rpc(&proxy.url()).await, Err("502 Bad Gateway".into()));
    }

    async fn call(url: &Url, method: &str, params: serde_json::Value) -> serde_json::Value {
        let body =
            serde_json::json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
        let response =
            reqwest::Client::new().post(url.clone()).json(&body).send().await.expect("send");
        assert!(response.status().is_success(), "{}", response.status());
        response.json().await.expect("JSON")
    }

    #[tokio::test]
    async fn refuses_methods_and_log_ranges_as_told() {
        let anvil = crossgov_deploy::devnet::spawn_anvil_with_chain_id(4243).expect("anvil");
        let proxy = RpcProxy::start(anvil.endpoint_url()).await.expect("proxy");
        let history = serde_json::json!(["0x1", "latest", []]);
        assert!(call(&proxy.url(), "eth_feeHistory", history.clone()).await["result"].is_object());
        proxy.refuse_method("eth_feeHistory");
        let refused = call(&proxy.url(), "eth_feeHistory", history).await;
        assert_eq!(refused["error"]["code"], -32601, "{refused}");
        assert_eq!(refused["id"], 7);

        let logs = |from: &str, to: &str| serde_json::json!([{"fromBlock": from, "toBlock": to}]);
        proxy.limit_log_range(10);
        assert!(call(&proxy.url(), "eth_getLogs", logs("0x0", "0x9")).await["result"].is_array());
        let over = call(&proxy.url(), "eth_getLogs", logs("0x0", "0xa")).await;
        assert_eq!(over["error"]["code"], -32005, "{over}");
        // Tags resolve to the head (block 0 here): within the limit.
        assert!(
            call(&proxy.url(), "eth_getLogs", logs("earliest", "latest")).await["result"]
                .is_array()
        );
        proxy.limit_log_range(0);
        assert!(call(&proxy.url(), "eth_getLogs", logs("0x0", "0xa")).await["result"].is_array());
        assert_eq!(proxy.stats().refused.load(Ordering::Relaxed), 2);
    }
}
