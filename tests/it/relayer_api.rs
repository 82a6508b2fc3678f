//! The relayer's HTTP API against a real relayer (`crossgov_relayer::runtime`) and real anvils
//! (the governance chain and zoneA.chainA): refusals are 4xx with the contract error's name and
//! send nothing; a good request is 202 and then visible on `GET /v1/transactions/{txId}`;
//! `/health` and `/metrics` answer. [`ApiNet`] is shared with the CLI test that runs
//! `crossgov relayer run` as a child process.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use alloy::transports::http::reqwest;
use serde_json::{Value, json};

use crossgov_relayer::api::{self, ApiServer};
use crossgov_relayer::bindings::{Role, TransactionManager, TxState};
use crossgov_relayer::chain::{DEFAULT_MAX_LOG_RANGE, FeeMode};
use crossgov_relayer::metrics::{Metrics, spawn_balance_watcher};
use crossgov_relayer::protocol::{TxRequest, XaOp, tm_domain};
use crossgov_relayer::runtime::{
    ChainEndpoint, Relayer, RelayerHandle, RelayerSettings, ServedChain,
};
use crossgov_relayer::{IPath, Ops, Pattern, Segment};

use crate::harness::wait_for;
use crate::harness::{BusinessChain, DEPLOYER, TestNet, latest_timestamp, seg, send};

pub(crate) const ADMIN1: usize = 0;
const ADMIN2: usize = 1;
const ADMIN3: usize = 2;
/// Relayer of institution 1, serving zoneA.chainA.
pub(crate) const RELAYER: usize = 3;
/// User of institution 1 with TWO_PHASE on zoneA.chainA.*.
const ALICE: usize = 5;
/// User of institution 1 without any grant.
const CAROL: usize = 8;
const CHAIN_ID: u64 = 2101;
const LEDGER: &str = "zoneA.chainA.ledger";
const HOUR: u64 = 3_600;

/// The governance chain (three founders) and zoneA.chainA owned by institution 1, with
/// [`RELAYER`] serving it and [`ALICE`] allowed TWO_PHASE on it.
#[derive(Debug)]
pub(crate) struct ApiNet {
    pub(crate) gov: TestNet,
    pub(crate) a: BusinessChain,
}

impl ApiNet {
    pub(crate) async fn start() -> ApiNet {
        let gov =
            TestNet::start(&[("Bank A", ADMIN1), ("Bank B", ADMIN2), ("Bank C", ADMIN3)]).await;
        let a = BusinessChain::start(CHAIN_ID, ADMIN1).await;
        gov.admit_chain(ADMIN1, &[ADMIN1, ADMIN2, ADMIN3], ("zoneA", "chainA"), 1, &a).await;
        for (key, role) in [(RELAYER, Role::Relayer), (ALICE, Role::User), (CAROL, Role::User)] {
            send("add account", gov.registry(ADMIN1).addAccount(gov.address(key), role.into()))
                .await;
        }
        let (z, c) = (seg("zoneA").to_word(), seg("chainA").to_word());
        send(
            "serve",
            gov.chains(ADMIN1).setServingRelayers(z, c, vec![gov.address(RELAYER)], true),
        )
        .await;
        let (pz, pc, pr) = "zoneA.chainA.*".parse::<Pattern>().expect("pattern").to_words();
        let perms = gov.permissions(ADMIN1);
        let grant = perms.grantToAccount(gov.address(ALICE), pz, pc, pr, Ops::TWO_PHASE.bits());
        send("grant", grant).await;
        send("setRelayer", a.xa(ADMIN1).setRelayer(a.accounts[RELAYER].address, true)).await;
        send("mint", a.xa(ADMIN1).mint(gov.address(ALICE), U256::from(1_000))).await;
        ApiNet { gov, a }
    }

    pub(crate) fn gov_provider(&self) -> &DynProvider {
        &self.gov.accounts[DEPLOYER].provider
    }

    pub(crate) fn settings(&self, state_dir: &std::path::Path) -> RelayerSettings {
        let d = &self.gov.deployment;
        RelayerSettings {
            institution: 1,
            governance: ChainEndpoint {
                rpc_url: self.gov.anvil.endpoint_url(),
                chain_id: Some(d.chain_id),
                confirmations: 1,
                contracts: d.governance_addresses(),
                options: crossgov_relayer::chain::ChainOptions::default(),
            },
            chains: vec![ServedChain {
                zone: seg("zoneA"),
                chain: seg("chainA"),
                rpc_url: self.a.anvil.endpoint_url(),
                confirmations: 1,
                resources: BTreeMap::from([(seg("ledger"), self.a.resources.xa_ledger.address)]),
                options: crossgov_relayer::chain::ChainOptions::default(),
            }],
            state_dir: state_dir.to_owned(),
            poll_interval: Duration::from_millis(50),
            reconcile_every_blocks: 1,
            health: crossgov_relayer::health::HealthPolicy::default(),
            max_open_work: crossgov_relayer::runtime::DEFAULT_MAX_OPEN_WORK,
        }
    }

    /// A one-step request debiting `amount` from `from` on zoneA.chainA.ledger (or `path`).
    async fn request(&self, from: usize, path: &str, ttl: u64) -> TxRequest {
        let now = latest_timestamp(self.gov_provider()).await;
        let path: IPath = path.parse().expect("iPath");
        TxRequest::builder(self.gov.address(from))
            .xa_step(&path, &XaOp::debit(self.gov.address(from), U256::from(10)))
            .deadline(now + ttl)
            .build()
            .expect("valid request")
    }

    fn sign(&self, request: &TxRequest, key: usize) -> Bytes {
        let d = &self.gov.deployment;
        request
            .sign(
                &tm_domain(d.chain_id, d.transaction_manager.address),
                &self.gov.accounts[key].signer,
            )
            .expect("sign")
    }

    async fn nonce_of(&self, key: usize) -> u64 {
        self.gov_provider().get_transaction_count(self.gov.address(key)).await.expect("nonce")
    }

    async fn begun_logs(&self) -> usize {
        let filter = Filter::new()
            .address(self.gov.deployment.transaction_manager.address)
            .event_signature(TransactionManager::TransactionBegun::SIGNATURE_HASH)
            .from_block(0);
        self.gov_provider().get_logs(&filter).await.expect("logs").len()
    }
}

/// The body `POST /v1/transactions` takes.
fn body(request: &TxRequest, signature: &Bytes) -> Value {
    let steps: Vec<Value> = request
        .steps
        .iter()
        .map(|s| {
            let name = Segment::name_or_hex;
            json!({"zone": name(s.zone), "chain": name(s.chain), "resource": name(s.resource), "op": s.op})
        })
        .collect();
    json!({
        "request": {
            "txId": request.txId,
            "steps": steps,
            "deadline": request.deadline,
            "nonce": request.nonce.to_string(),
        },
        "signature": signature,
    })
}

/// A tiny HTTP client for the API.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    pub(crate) fn new(addr: SocketAddr) -> Client {
        Client { http: reqwest::Client::new(), base: format!("http://{addr}") }
    }

    /// `(status, body as JSON or as a string)`.
    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(format!("{}{path}", self.base)).send().await.expect("GET");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let (status, _, body) = self.post_with_retry_after(path, body).await;
        (status, body)
    }

    /// `(status, Retry-After, body)`.
    async fn post_with_retry_after(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, Option<String>, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("POST");
        let status = r.status().as_u16();
        let retry_after =
            r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let text = r.text().await.expect("body");
        (status, retry_after, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn submit(&self, body: &Value) -> (u16, Value) {
        self.post_raw("/v1/transactions", body.to_string()).await
    }
}

/// Asserts a 4xx `{"error": {"code", "message"}}` with this status and code.
fn assert_refused(what: &str, (status, body): &(u16, Value), want_status: u16, want_code: &str) {
    assert_eq!(*status, want_status, "{what}: {body}");
    assert_eq!(body["error"]["code"], want_code, "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{what}: no message in {body}");
}

async fn start_api(
    net: &ApiNet,
    state_dir: &std::path::Path,
) -> (RelayerHandle, ApiServer, Client) {
    start_api_with(net, net.settings(state_dir)).await
}

async fn start_api_with(
    net: &ApiNet,
    settings: RelayerSettings,
) -> (RelayerHandle, ApiServer, Client) {
    let metrics = Arc::new(Metrics::new());
    let signer = net.gov.accounts[RELAYER].signer.clone();
    let handle = Relayer::start(settings, signer, metrics.clone()).await.expect("start relayer");
    let watched = vec![
        ("governance".to_owned(), net.gov.anvil.endpoint_url()),
        ("zoneA.chainA".to_owned(), net.a.anvil.endpoint_url()),
    ];
    // Detached: it ends with the test's runtime.
    drop(spawn_balance_watcher(metrics.clone(), handle.address(), watched, Duration::from_secs(1)));
    let listen: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let server = ApiServer::start(listen, api::router(Arc::new(handle.clone()), metrics))
        .await
        .expect("serve");
    let client = Client::new(server.local_addr);
    (handle, server, client)
}

#[tokio::test]
async fn api_refuses_bad_requests_and_accepts_a_good_one() {
    let net = ApiNet::start().await;
    let dir = tempfile::tempdir().expect("state dir");
    let (handle, server, client) = start_api(&net, dir.path()).await;

    let health = wait_for("/health to be 200", || async {
        let (status, body) = client.get("/health").await;
        (status == 200).then_some(body)
    })
    .await;
    let names: Vec<&str> = health["chains"]
        .as_array()
        .expect("chains")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["governance", "zoneA.chainA"], "{health}");
    assert_eq!(health["healthy"], true);

    let nonce_before = net.nonce_of(RELAYER).await;

    // A signature that recovers to no one.
    let request = net.request(ALICE, LEDGER, HOUR).await;
    let bad = Bytes::from(vec![0u8; 65]);
    assert_refused(
        "bad signature",
        &client.submit(&body(&request, &bad)).await,
        422,
        "TxBadSignature",
    );
    // A chain that was never admitted.
    let request = net.request(ALICE, "zoneX.chainX.ledger", HOUR).await;
    let sig = net.sign(&request, ALICE);
    assert_refused(
        "unknown chain",
        &client.submit(&body(&request, &sig)).await,
        422,
        "TxChainNotActive",
    );
    // A user without TWO_PHASE on the path.
    let request = net.request(CAROL, LEDGER, HOUR).await;
    let sig = net.sign(&request, CAROL);
    assert_refused(
        "no permission",
        &client.submit(&body(&request, &sig)).await,
        422,
        "TxNoPermission",
    );
    // A deadline in the past.
    let mut request = net.request(ALICE, LEDGER, HOUR).await;
    request.deadline = latest_timestamp(net.gov_provider()).await - 1;
    let sig = net.sign(&request, ALICE);
    assert_refused(
        "past deadline",
        &client.submit(&body(&request, &sig)).await,
        422,
        "TxBadDeadline",
    );
    // Malformed JSON, a bad path, an oversized body.
    let r = client.post_raw("/v1/transactions", "{\"request\": ").await;
    assert_refused("malformed JSON", &r, 400, "MalformedJson");
    assert!(r.1["error"]["message"].as_str().is_some_and(|m| m.contains("EOF")), "{}", r.1);
    let mut wrong = body(&request, &sig);
    wrong["request"]["steps"][0]["zone"] = json!("zone.A");
    assert_refused("bad path", &client.submit(&wrong).await, 400, "TxBadPath");
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(api::MAX_BODY_BYTES + 1));
    assert_refused(
        "oversized",
        &client.post_raw("/v1/transactions", huge).await,
        413,
        "BodyTooLarge",
    );

    // Nothing was sent on the governance chain.
    assert_eq!(net.nonce_of(RELAYER).await, nonce_before);
    assert_eq!(net.begun_logs().await, 0);

    // Unknown and malformed ids.
    let (status, _) = client.get(&format!("/v1/transactions/{}", B256::repeat_byte(9))).await;
    assert_eq!(status, 404);
    let (status, _) = client.get("/v1/transactions/0x12").await;
    assert_eq!(status, 400);

    // A good request.
    let request = net.request(ALICE, LEDGER, HOUR).await;
    let sig = net.sign(&request, ALICE);
    let (status, accepted) = client.submit(&body(&request, &sig)).await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["txId"], json!(request.txId));
    let begin_hash = accepted["governanceTxHash"].clone();
    assert!(begin_hash.is_string(), "{accepted}");
    assert_eq!(net.begun_logs().await, 1);

    let (status, tx) = client.get(&format!("/v1/transactions/{}", request.txId)).await;
    assert_eq!(status, 200, "{tx}");
    assert_eq!(tx["txId"], json!(request.txId));
    assert_eq!(tx["initiator"], json!(net.gov.address(ALICE)));
    assert_eq!(tx["steps"].as_array().map(Vec::len), Some(1), "{tx}");
    assert_eq!(tx["steps"][0]["served"], true, "{tx}");
    assert_eq!(tx["governanceTxs"][0]["action"], "begin", "{tx}");
    assert_eq!(tx["governanceTxs"][0]["txHash"], begin_hash, "{tx}");
    // The relayer, the only one serving the step, drives it to Committed.
    let committed = TxState::Committed.name();
    let tx = wait_for("the transaction to commit", || async {
        let (_, tx) = client.get(&format!("/v1/transactions/{}", request.txId)).await;
        (tx["state"] == committed).then_some(tx)
    })
    .await;
    assert_eq!(tx["steps"][0]["acked"], true, "{tx}");

    let (status, text) = client.get("/metrics").await;
    assert_eq!(status, 200);
    let text = text.as_str().expect("text exposition");
    for needle in [
        "crossgov_relayer_api_requests_total{route=\"submit\",status=\"202\"} 1",
        "crossgov_relayer_api_requests_total{route=\"submit\",status=\"422\"} 4",
        "crossgov_relayer_reconcile_duration_seconds_count",
        "crossgov_relayer_pending_transactions",
        "crossgov_relayer_wallet_balance_ether{chain=\"governance\"} ",
        "crossgov_relayer_wallet_balance_ether{chain=\"zoneA.chainA\"} ",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }

    // A served chain going away makes /health 503, naming it.
    let ApiNet { gov, a } = net;
    drop(a);
    let health = wait_for("/health to be 503", || async {
        let (status, body) = client.get("/health").await;
        (status == 503).then_some(body)
    })
    .await;
    assert_eq!(health["healthy"], false, "{health}");
    assert_eq!(health["chains"][0]["reachable"], true, "{health}");
    assert_eq!(health["chains"][1]["reachable"], false, "{health}");
    assert!(health["chains"][1]["lastError"].is_string(), "{health}");

    server.shutdown().await.expect("server");
    handle.shutdown().await;
    drop(gov);
}

/// Back-pressure: with as much open work as it takes (`max_open_work`), the relayer refuses a
/// new transaction with `503 Busy` and `Retry-After`, checks and sends nothing for it, and takes
/// new work again once the open work is done.
#[tokio::test]
async fn api_refuses_new_work_as_busy_while_the_relayer_carries_its_limit() {
    let net = ApiNet::start().await;
    let dir = tempfile::tempdir().expect("state dir");
    let mut settings = net.settings(dir.path());
    settings.max_open_work = 1;
    let (handle, server, client) = start_api_with(&net, settings).await;
    let p = net.gov_provider().clone();
    let automine = |on: bool| {
        let p = p.clone();
        async move {
            let _: Value = p.raw_request("evm_setAutomine".into(), [on]).await.expect("automine");
        }
    };

    // The first transaction takes the one place: its begin waits in the pool, unmined.
    automine(false).await;
    let nonce_before = net.nonce_of(RELAYER).await;
    let first = net.request(ALICE, LEDGER, HOUR).await;
    let first_body = body(&first, &net.sign(&first, ALICE));
    let first_submit = {
        let client = client.clone();
        tokio::spawn(async move { client.submit(&first_body).await })
    };
    wait_for("the first begin in the pool", || async {
        let pending = p.get_transaction_count(net.gov.address(RELAYER)).pending().await.ok()?;
        (pending > nonce_before).then_some(())
    })
    .await;

    // A second one, valid in every way, is refused as busy; nothing is sent for it.
    let second = net.request(ALICE, LEDGER, HOUR).await;
    let second_body = body(&second, &net.sign(&second, ALICE));
    let (status, retry_after, refused) =
        client.post_with_retry_after("/v1/transactions", second_body.to_string()).await;
    assert_refused("busy", &(status, refused.clone()), 503, "Busy");
    assert_eq!(retry_after.as_deref(), Some("1"), "{refused}");
    let pending = p.get_transaction_count(net.gov.address(RELAYER)).pending().await.expect("nonce");
    assert_eq!(pending, nonce_before + 1, "only the first begin was sent");

    // The first completes; once the relayer has counted it done, the second is taken.
    automine(true).await;
    let _: Value = p.raw_request("evm_mine".into(), ()).await.expect("mine");
    let (status, accepted) = first_submit.await.expect("join");
    assert_eq!(status, 202, "{accepted}");
    let committed = TxState::Committed.name();
    wait_for("the first transaction to commit", || async {
        let (_, tx) = client.get(&format!("/v1/transactions/{}", first.txId)).await;
        (tx["state"] == committed).then_some(())
    })
    .await;
    assert_eq!(net.begun_logs().await, 1, "the refused request was never begun");
    let accepted = wait_for("the second transaction taken", || async {
        let (status, body) = client.submit(&second_body).await;
        match status {
            202 => Some(body),
            503 => None,
            _ => panic!("{status}: {body}"),
        }
    })
    .await;
    assert_eq!(accepted["txId"], json!(second.txId));

    let (_, text) = client.get("/metrics").await;
    let text = text.as_str().expect("text exposition");
    assert!(text.contains("crossgov_relayer_busy_refusals_total "), "{text}");
    assert!(!text.contains("crossgov_relayer_busy_refusals_total 0\n"), "{text}");
    assert!(
        text.contains("crossgov_relayer_api_requests_total{route=\"submit\",status=\"503\"}"),
        "{text}"
    );
    server.shutdown().await.expect("server");
    handle.shutdown().await;
}

/// The relayer and its API behind a proxy that makes the governance node look like a consortium
/// chain's: see [`crossgov::chaos::proxy::RpcProxy::refuse_method`] and `limit_log_range`.
struct LimitedGov {
    net: ApiNet,
    proxy: crossgov::chaos::proxy::RpcProxy,
    dir: tempfile::TempDir,
}

impl LimitedGov {
    async fn start() -> LimitedGov {
        let net = ApiNet::start().await;
        let proxy = crossgov::chaos::proxy::RpcProxy::start(net.gov.anvil.endpoint_url())
            .await
            .expect("proxy");
        LimitedGov { net, proxy, dir: tempfile::tempdir().expect("dir") }
    }

    /// The relayer's settings with the governance chain reached through the proxy.
    fn settings(&self, fee: FeeMode, max_log_range: u64) -> RelayerSettings {
        let mut s = self.net.settings(&self.dir.path().join("state"));
        s.governance.rpc_url = self.proxy.url();
        s.governance.options.fee = fee;
        s.governance.options.max_log_range = max_log_range;
        s
    }

    async fn relayer(&self, fee: FeeMode, max_log_range: u64) -> Result<RelayerHandle, String> {
        let signer = self.net.gov.accounts[RELAYER].signer.clone();
        Relayer::start(self.settings(fee, max_log_range), signer, Arc::new(Metrics::new()))
            .await
            .map_err(|e| e.to_string())
    }

    fn calls(&self, method: &str) -> u64 {
        self.proxy.stats().by_method().get(method).copied().unwrap_or(0)
    }
}

/// A node without `eth_feeHistory` (FISCO BCOS): `auto` starts and prices legacy, and a transfer
/// commits through it; an explicit `eip1559` is refused at start, naming the method and the
/// setting, asked once and not retried.
#[tokio::test]
async fn relayer_runs_auto_and_refuses_eip1559_on_a_node_without_fee_history() {
    let g = LimitedGov::start().await;
    g.proxy.refuse_method("eth_feeHistory");

    let err = g.relayer(FeeMode::Eip1559, DEFAULT_MAX_LOG_RANGE).await.expect_err("eip1559");
    for needle in ["governance", "eth_feeHistory", "fee_mode"] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    assert_eq!(g.calls("eth_feeHistory"), 1, "the refusal was retried");

    let handle = g.relayer(FeeMode::Auto, DEFAULT_MAX_LOG_RANGE).await.expect("auto starts");
    let request = g.net.request(ALICE, LEDGER, HOUR).await;
    let signature = g.net.sign(&request, ALICE);
    let begin = handle.submit_transaction(request.clone(), signature).await.expect("begin");
    let sent =
        g.net.gov_provider().get_transaction_by_hash(begin).await.expect("tx").expect("known");
    assert_eq!(sent.inner.tx_type(), alloy::consensus::TxType::Legacy, "priced legacy");
    wait_for("the transfer to commit", || async {
        let t = TransactionManager::new(
            g.net.gov.deployment.transaction_manager.address,
            g.net.gov_provider(),
        )
        .transaction(request.txId)
        .call()
        .await
        .ok()?;
        (TxState::try_from(t.state) == Ok(TxState::Committed)).then_some(())
    })
    .await;
    handle.shutdown().await;
}

/// A node that stops serving what the relayer's fee mode needs after start: the API answers
/// 500 `NodeUnsupported` naming the setting (not 503 "try again"), asks the node once, and
/// sends nothing.
#[tokio::test]
async fn api_names_the_setting_when_the_node_stops_serving_fee_history() {
    let g = LimitedGov::start().await;
    let handle = g.relayer(FeeMode::Eip1559, DEFAULT_MAX_LOG_RANGE).await.expect("eip1559 starts");
    let metrics = Arc::new(Metrics::new());
    let listen: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let server = ApiServer::start(listen, api::router(Arc::new(handle.clone()), metrics))
        .await
        .expect("serve");
    let client = Client::new(server.local_addr);

    g.proxy.refuse_method("eth_feeHistory");
    let (calls, nonce, begun) =
        (g.calls("eth_feeHistory"), g.net.nonce_of(RELAYER).await, g.net.begun_logs().await);
    let request = g.net.request(ALICE, LEDGER, HOUR).await;
    let signature = g.net.sign(&request, ALICE);
    let answer = client.submit(&body(&request, &signature)).await;
    assert_refused("fee history gone", &answer, 500, "NodeUnsupported");
    let message = answer.1["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("fee_mode") && message.contains("eth_feeHistory"), "{message}");
    assert_eq!(g.calls("eth_feeHistory"), calls + 1, "asked once, not retried");
    assert_eq!(g.net.nonce_of(RELAYER).await, nonce, "sent nothing");
    assert_eq!(g.net.begun_logs().await, begun, "began nothing");
    let _ = server.shutdown().await;
    handle.shutdown().await;
}

/// A node that caps `eth_getLogs` ranges (Besu's `--rpc-max-logs-range`): a relayer configured
/// over the cap is refused at start naming `max_log_range`; at the cap it runs a transfer to the
/// end; the CLI's listings and `audit verify` page the same way with `--max-log-range`.
#[tokio::test(flavor = "multi_thread")]
async fn relayer_and_cli_page_logs_within_a_nodes_range_limit() {
    const LIMIT: u64 = 5;
    let g = LimitedGov::start().await;
    let head = g.net.gov_provider().get_block_number().await.expect("head");
    assert!(head > 2 * LIMIT, "the chain is older than the limit ({head} blocks)");
    g.proxy.limit_log_range(LIMIT);

    let err = g.relayer(FeeMode::Auto, DEFAULT_MAX_LOG_RANGE).await.expect_err("over the limit");
    assert!(err.contains("max_log_range") && err.contains("governance"), "{err}");

    let handle = g.relayer(FeeMode::Auto, LIMIT).await.expect("within the limit");
    let request = g.net.request(ALICE, LEDGER, HOUR).await;
    let signature = g.net.sign(&request, ALICE);
    handle.submit_transaction(request.clone(), signature).await.expect("begin");
    let tm = TransactionManager::new(
        g.net.gov.deployment.transaction_manager.address,
        g.net.gov_provider(),
    );
    wait_for("the transfer to commit", || async {
        let t = tm.transaction(request.txId).call().await.ok()?;
        (TxState::try_from(t.state) == Ok(TxState::Committed)).then_some(())
    })
    .await;
    handle.shutdown().await;

    // The CLI, through the same proxy.
    let manifest = g.dir.path().join("governance.json");
    g.net.gov.deployment.write_manifest(&manifest).expect("manifest");
    let cli = |url: String, extra: &[&str]| {
        let mut args: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        args.extend(["--rpc-url".to_owned(), url, "--manifest".to_owned()]);
        args.push(manifest.to_str().expect("utf-8").to_owned());
        std::process::Command::new(env!("CARGO_BIN_EXE_crossgov"))
            .args(&args)
            .env_remove("CROSSGOV_MAX_LOG_RANGE")
            .output()
            .expect("run crossgov")
    };
    let (direct, proxied) = (g.net.gov.anvil.endpoint_url().to_string(), g.proxy.url().to_string());
    for command in [&["gov", "list", "--json"][..], &["audit", "verify", "--json"][..]] {
        let refused = tokio::task::block_in_place(|| cli(proxied.clone(), command));
        let err = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(1), "{command:?}: {err}");
        assert!(refused.stdout.is_empty() && err.contains("--max-log-range"), "{command:?}: {err}");
        let paged = tokio::task::block_in_place(|| {
            cli(proxied.clone(), &[command, &["--max-log-range", "5"]].concat())
        });
        let whole = tokio::task::block_in_place(|| cli(direct.clone(), command));
        // (`audit verify` fails here either way: this consortium has no regulator to read the
        // records. The point is the same answer.)
        assert!(
            !paged.stdout.is_empty(),
            "{command:?}: {}",
            String::from_utf8_lossy(&paged.stderr)
        );
        assert_eq!(paged.stdout, whole.stdout, "{command:?}: paging changed the answer");
        assert_eq!(paged.status.code(), whole.status.code(), "{command:?}");
    }
}
