//! The bad-input corpus of the HTTP API and the CLI (issue #8 item 4): one table per surface,
//! each row an input and the specific refusal it must get (HTTP status and error code, or exit
//! code and stderr). Around every row the chains are read again: their block numbers, the
//! relayer's or signers' nonces, the TransactionManager's events, the audit trail and the
//! relayer's state directory must not move, so "nothing was sent" is checked, not assumed. One
//! consortium per test function; a positive control first shows that a good input does move
//! what the rows watch.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::Filter;
use alloy::transports::http::reqwest;
use serde_json::{Value, json};

use crossgov_relayer::api::{self, ApiServer};
use crossgov_relayer::bindings::{SwapState, TxState};
use crossgov_relayer::htlc::api as htlc_api;
use crossgov_relayer::htlc::{HtlcSettings, PeerChain};
use crossgov_relayer::protocol::htlc::LegId;
use crossgov_relayer::protocol::request_id;
use crossgov_relayer::protocol::{
    Leg, Secret, SwapRequest, TxRequest, XaOp, htlc_domain, tm_domain,
};
use crossgov_relayer::runtime::{
    ChainEndpoint, Metrics, Relayer, RelayerHandle, RelayerSettings, ServedChain,
};
use crossgov_relayer::{IPath, Ops, Pattern, Segment};

use crate::consortium::{
    ADMIN1, ADMIN2, ADMIN3, ALICE, BOB, Consortium, RELAYER_A, RELAYER_B, Setup,
};
use crate::harness::{BusinessChain, DEPLOYER, latest_timestamp, seg, send, wait_for};

/// A user of institution 1 without any grant.
const CAROL: usize = 8;
const CHAIN_A_ID: u64 = 4101;
const CHAIN_B_ID: u64 = 4102;
const HOUR: u64 = 3_600;
const BIN: &str = env!("CARGO_BIN_EXE_crossgov");
/// secp256k1's group order: `n - s` is the malleable twin of a signature's `s`.
const SECP256K1_N: U256 = U256::from_be_bytes([
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41,
]);

fn path(s: &str) -> IPath {
    s.parse().expect("valid iPath")
}

/// What a refused request must leave as it was: each chain's head and the relayer's nonce there,
/// the TransactionManager's events, the audit trail's length, the relayer's state directory.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Chains {
    blocks: [u64; 3],
    nonces: [u64; 3],
    tm_events: usize,
    records: U256,
    state_files: BTreeMap<String, Vec<u8>>,
}

/// Consortium (alice and bob may run 2PC and HTLC on both chains, carol nothing) plus one
/// relayer of institution 1 serving zoneA.chainA (ledger and asset) with the 2PC and swap routes.
#[derive(Debug)]
struct ApiCorpus {
    net: Consortium,
    handle: RelayerHandle,
    server: ApiServer,
    http: reqwest::Client,
    base: String,
    state_dir: tempfile::TempDir,
}

impl ApiCorpus {
    async fn start() -> ApiCorpus {
        crate::harness::init_test_logs();
        let setup = Setup {
            more_users_1: &[CAROL],
            grantees: &[ALICE, BOB],
            ops: Ops::TWO_PHASE | Ops::HTLC,
        };
        let net = Consortium::start((CHAIN_A_ID, CHAIN_B_ID), setup).await;
        send("mint", net.a.htlc(ADMIN1).mint(net.gov.address(ALICE), U256::from(1_000))).await;
        send("mint", net.b.htlc(ADMIN2).mint(net.gov.address(BOB), U256::from(1_000))).await;
        let state_dir = tempfile::tempdir().expect("state dir");
        let (settings, htlc) = settings(&net, state_dir.path().to_owned());
        let signer = net.gov.accounts[RELAYER_A].signer.clone();
        let handle =
            Relayer::start_with_htlc(settings, htlc, signer, Arc::new(Metrics::new()), None)
                .await
                .expect("start relayer");
        let router = api::router(Arc::new(handle.clone()), Arc::new(Metrics::new()))
            .merge(htlc_api::routes(handle.clone()));
        let listen: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        let server = ApiServer::start(listen, router).await.expect("serve");
        let base = format!("http://{}", server.local_addr);
        ApiCorpus { net, handle, server, http: reqwest::Client::new(), base, state_dir }
    }

    fn gov(&self) -> &DynProvider {
        &self.net.gov.accounts[DEPLOYER].provider
    }

    async fn chains(&self) -> Chains {
        let relayer = self.net.gov.address(RELAYER_A);
        let providers = [self.gov(), self.net.a.provider(), self.net.b.provider()];
        let mut blocks = [0; 3];
        let mut nonces = [0; 3];
        for (i, p) in providers.iter().enumerate() {
            blocks[i] = p.get_block_number().await.expect("block number");
            nonces[i] = p.get_transaction_count(relayer).await.expect("nonce");
        }
        let filter = Filter::new()
            .address(self.net.gov.deployment.transaction_manager.address)
            .from_block(0);
        let tm_events = self.gov().get_logs(&filter).await.expect("logs").len();
        let records =
            self.net.gov.supervision(DEPLOYER).recordCount().call().await.expect("recordCount");
        Chains { blocks, nonces, tm_events, records, state_files: files(self.state_dir.path()) }
    }

    async fn request(&self, method: reqwest::Method, path: &str, body: &Body) -> (u16, Value) {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        match body {
            Body::None => {}
            Body::Raw(bytes) => {
                r = r.header("content-type", "application/json").body(bytes.clone());
            }
            Body::Json(v) => {
                r = r.header("content-type", "application/json").body(v.to_string());
            }
        }
        let response = r.send().await.expect("HTTP request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    fn tm_domain(&self) -> alloy::sol_types::Eip712Domain {
        let d = &self.net.gov.deployment;
        tm_domain(d.chain_id, d.transaction_manager.address)
    }

    fn sign_tx(&self, r: &TxRequest, key: usize) -> Bytes {
        r.sign(&self.tm_domain(), &self.net.gov.accounts[key].signer).expect("sign")
    }

    fn sign_swap(&self, r: &SwapRequest, key: usize) -> Bytes {
        r.sign(&self.tm_domain(), &self.net.gov.accounts[key].signer).expect("sign")
    }

    /// `key`'s Lock signature for leg A under chain A's asset (its own chain id unless `chain_id`).
    fn sign_lock_a(&self, r: &SwapRequest, key: usize, chain_id: u64) -> Bytes {
        let domain = htlc_domain(chain_id, self.net.a.resources.htlc_asset.address);
        r.lock(LegId::A).sign(&domain, &self.net.gov.accounts[key].signer).expect("sign")
    }

    /// alice credits bob 10 on zoneB.chainB.ledger: a chain this relayer does not serve, so once
    /// begun the transaction gives it nothing to do and the chains stay still.
    async fn transfer(&self) -> TxRequest {
        self.transfer_for(ALICE).await
    }

    /// The same request built for `key` (its txId bound to that account).
    async fn transfer_for(&self, key: usize) -> TxRequest {
        let now = latest_timestamp(self.gov()).await;
        TxRequest::builder(self.net.gov.address(key))
            .xa_step(
                &path("zoneB.chainB.ledger"),
                &XaOp::credit(self.net.gov.address(BOB), U256::from(10)),
            )
            .deadline(now + HOUR)
            .build()
            .expect("valid request")
    }

    /// alice pays 100 on zoneA.chainA.asset to bob, bob 50 on zoneB.chainB.asset to alice.
    async fn swap_request(&self, hashlock: B256) -> SwapRequest {
        let now_a = latest_timestamp(self.net.a.provider()).await;
        let now_b = latest_timestamp(self.net.b.provider()).await;
        let (alice, bob) = (self.net.gov.address(ALICE), self.net.gov.address(BOB));
        SwapRequest::new(
            hashlock,
            Leg::new(&path("zoneA.chainA.asset"), alice, bob, U256::from(100), now_a + 3 * HOUR),
            Leg::new(&path("zoneB.chainB.asset"), bob, alice, U256::from(50), now_b + HOUR),
        )
    }
}

fn settings(net: &Consortium, state_dir: PathBuf) -> (RelayerSettings, HtlcSettings) {
    let d = &net.gov.deployment;
    let served = |business: &BusinessChain, zone: &str, chain: &str| ServedChain {
        zone: seg(zone),
        chain: seg(chain),
        rpc_url: business.anvil.endpoint_url(),
        confirmations: 1,
        resources: BTreeMap::from([
            (seg("ledger"), business.resources.xa_ledger.address),
            (seg("asset"), business.resources.htlc_asset.address),
        ]),
        options: crossgov_relayer::chain::ChainOptions::default(),
    };
    let settings = RelayerSettings {
        institution: 1,
        governance: ChainEndpoint {
            rpc_url: net.gov.anvil.endpoint_url(),
            chain_id: Some(d.chain_id),
            confirmations: 1,
            contracts: d.governance_addresses(),
            options: crossgov_relayer::chain::ChainOptions::default(),
        },
        chains: vec![served(&net.a, "zoneA", "chainA")],
        state_dir,
        poll_interval: Duration::from_millis(50),
        reconcile_every_blocks: 1,
        health: crossgov_relayer::health::HealthPolicy::default(),
        max_open_work: crossgov_relayer::runtime::DEFAULT_MAX_OPEN_WORK,
    };
    let peer = PeerChain {
        chain_key: path("zoneB.chainB.asset").chain_key(),
        name: "zoneB.chainB".to_owned(),
        rpc_url: net.b.anvil.endpoint_url(),
        confirmations: 1,
        assets: vec![(seg("asset").to_word(), net.b.resources.htlc_asset.address)]
            .into_iter()
            .collect(),
        options: crossgov_relayer::chain::ChainOptions::default(),
    };
    (settings, HtlcSettings { safety_margin: 120, peers: vec![peer], ..HtlcSettings::default() })
}

/// Every file of the relayer's state directory with its bytes (swap secrets, Lock signatures).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries {
            let p = entry.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let name = p.strip_prefix(dir).expect("under dir").display().to_string();
                out.insert(name, std::fs::read(&p).expect("read state file"));
            }
        }
    }
    out
}

#[derive(Debug, Clone)]
enum Body {
    None,
    Raw(Vec<u8>),
    Json(Value),
}

/// What a row must not leave behind beyond [`Chains`].
#[derive(Debug, Clone, Copy)]
enum Subject {
    Nothing,
    Tx(B256),
    Swap(B256),
}

#[derive(Debug)]
struct HttpRow {
    name: String,
    method: reqwest::Method,
    path: String,
    body: Body,
    status: u16,
    code: &'static str,
    /// A fragment the error message must contain (the field, the fault).
    message: &'static str,
    subject: Subject,
}

fn post(
    name: impl Into<String>,
    route: &str,
    body: Body,
    status: u16,
    code: &'static str,
) -> HttpRow {
    HttpRow {
        name: name.into(),
        method: reqwest::Method::POST,
        path: route.to_owned(),
        body,
        status,
        code,
        message: "",
        subject: Subject::Nothing,
    }
}

fn get(name: &str, route: String, status: u16, code: &'static str) -> HttpRow {
    HttpRow {
        name: name.to_owned(),
        method: reqwest::Method::GET,
        path: route,
        body: Body::None,
        status,
        code,
        message: "",
        subject: Subject::Nothing,
    }
}

impl HttpRow {
    fn saying(mut self, message: &'static str) -> HttpRow {
        self.message = message;
        self
    }

    fn about(mut self, subject: Subject) -> HttpRow {
        self.subject = subject;
        self
    }
}

/// `POST /v1/transactions`'s body.
fn tx_body(r: &TxRequest, signature: &Bytes) -> Value {
    let name = Segment::name_or_hex;
    let steps: Vec<Value> = r
        .steps
        .iter()
        .map(|s| json!({"zone": name(s.zone), "chain": name(s.chain), "resource": name(s.resource), "op": s.op}))
        .collect();
    json!({
        "request": {"txId": r.txId, "steps": steps, "deadline": r.deadline, "nonce": r.nonce.to_string()},
        "signature": signature,
    })
}

fn leg_json(leg: &Leg) -> Value {
    let p = leg.path().expect("path");
    json!({
        "zone": p.zone.to_string(), "chain": p.chain.to_string(), "resource": p.resource.to_string(),
        "sender": leg.sender, "recipient": leg.recipient, "amount": leg.amount.to_string(),
        "timelock": leg.timelock,
    })
}

/// `POST /v1/swaps`'s body.
fn swap_body(r: &SwapRequest, signature: &Bytes, lock: &Bytes, secret: Option<B256>) -> Value {
    let mut v = json!({
        "request": {
            "swapId": r.swapId, "hashlock": r.hashlock, "legA": leg_json(&r.legA),
            "legB": leg_json(&r.legB), "nonce": r.nonce.to_string(),
        },
        "initiatorSignature": signature,
        "lockSignature": lock,
    });
    if let Some(s) = secret {
        v["secret"] = json!(s);
    }
    v
}

/// The same signature with `s' = n - s` and `v` flipped: it recovers the same signer, so only
/// the low-s rule refuses it.
fn malleable(sig: &Bytes) -> Bytes {
    let mut out = sig.to_vec();
    let s = U256::from_be_slice(&sig[32..64]);
    out[32..64].copy_from_slice(&(SECP256K1_N - s).to_be_bytes::<32>());
    out[64] = if sig[64] == 27 { 28 } else { 27 };
    Bytes::from(out)
}

fn with_segment(mut body: Value, field: &str, value: &str) -> Value {
    body["request"]["steps"][0][field] = json!(value);
    body
}

/// Runs every row: its status, code and message, and the chains and the state directory as
/// they were before it.
async fn run_http(c: &ApiCorpus, rows: Vec<HttpRow>) {
    let mut failures = Vec::new();
    for row in rows {
        let before = c.chains().await;
        let (status, body) = c.request(row.method.clone(), &row.path, &row.body).await;
        let what = format!("{} ({} {})", row.name, row.method, row.path);
        let message = body["error"]["message"].as_str().unwrap_or_default();
        if status != row.status || body["error"]["code"] != row.code {
            failures.push(format!("{what}: want {} {}, got {status} {body}", row.status, row.code));
        } else if message.is_empty() || !message.contains(row.message) {
            failures.push(format!("{what}: message {message:?} lacks {:?}", row.message));
        }
        let after = c.chains().await;
        if after != before {
            failures.push(format!("{what}: state changed from {before:?} to {after:?}"));
        }
        let tm = c.net.gov.tm(DEPLOYER);
        let exists = match row.subject {
            Subject::Nothing => false,
            Subject::Tx(id) => {
                let t = tm.transaction(id).call().await.expect("transaction");
                TxState::try_from(t.state) != Ok(TxState::None)
            }
            Subject::Swap(id) => {
                let s = tm.swap(id).call().await.expect("swap");
                SwapState::try_from(s.state) != Ok(SwapState::None)
            }
        };
        if exists {
            failures.push(format!("{what}: {:?} now exists on the governance chain", row.subject));
        }
    }
    assert!(failures.is_empty(), "{} row(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn http_api_refuses_the_bad_input_corpus_and_sends_nothing() {
    let c = ApiCorpus::start().await;
    wait_for("/health to be 200", || async {
        (c.request(reqwest::Method::GET, "/health", &Body::None).await.0 == 200).then_some(())
    })
    .await;

    // Positive controls: a good transaction and a good swap proposal move what the rows watch.
    let before = c.chains().await;
    let good = c.transfer().await;
    let good_sig = c.sign_tx(&good, ALICE);
    let good_body = tx_body(&good, &good_sig);
    let (status, body) =
        c.request(reqwest::Method::POST, "/v1/transactions", &Body::Json(good_body.clone())).await;
    assert_eq!(status, 202, "{body}");
    let secret = Secret::random();
    let good_swap = c.swap_request(secret.hashlock()).await;
    let good_swap_sig = c.sign_swap(&good_swap, ALICE);
    let good_lock = c.sign_lock_a(&good_swap, ALICE, CHAIN_A_ID);
    let good_swap_body = swap_body(&good_swap, &good_swap_sig, &good_lock, Some(secret.reveal()));
    let (status, body) =
        c.request(reqwest::Method::POST, "/v1/swaps", &Body::Json(good_swap_body.clone())).await;
    assert_eq!(status, 202, "{body}");
    let after = c.chains().await;
    assert!(after.blocks[0] > before.blocks[0] && after.nonces[0] > before.nonces[0], "{after:?}");
    assert!(after.tm_events > before.tm_events && after.records > before.records, "{after:?}");
    assert!(after.state_files.len() > before.state_files.len(), "the swap was persisted");

    let mut rows = tx_rows(&c, &good, &good_body).await;
    rows.extend(swap_rows(&c, &good_swap, &good_swap_body, good.nonce).await);
    run_http(&c, rows).await;

    let ApiCorpus { net, handle, server, .. } = c;
    server.shutdown().await.expect("server");
    handle.shutdown().await;
    drop(net);
}

async fn tx_rows(c: &ApiCorpus, good: &TxRequest, good_body: &Value) -> Vec<HttpRow> {
    let route = "/v1/transactions";
    let fresh = c.transfer().await;
    let sig = c.sign_tx(&fresh, ALICE);
    let body = tx_body(&fresh, &sig);
    let id = Subject::Tx(fresh.txId);
    // A request signed as is, for rows whose fault is in the request itself.
    let signed = |r: &TxRequest| Body::Json(tx_body(r, &c.sign_tx(r, ALICE)));
    let mut rows = vec![
        post(
            "garbage bytes",
            route,
            Body::Raw(vec![0xff, 0x00, 0x9c, 0x13, 0x37]),
            400,
            "MalformedJson",
        ),
        post("empty body", route, Body::Raw(Vec::new()), 400, "MalformedJson").saying("EOF"),
        post("a JSON array", route, Body::Raw(b"[]".to_vec()), 400, "MalformedJson"),
        post("truncated JSON", route, Body::Raw(b"{\"request\": {".to_vec()), 400, "MalformedJson")
            .saying("EOF"),
    ];
    let mut v = body.clone();
    v["request"]["deadline"] = json!("soon");
    rows.push(post("deadline as a string", route, Body::Json(v), 400, "MalformedJson").about(id));
    let mut v = body.clone();
    v["request"]["txId"] = json!(7);
    rows.push(post("txId as a number", route, Body::Json(v), 400, "MalformedJson"));
    let mut v = body.clone();
    v["request"]["txId"] = json!(format!("0x{}", "ab".repeat(31)));
    rows.push(post("txId of 31 bytes", route, Body::Json(v), 400, "MalformedJson"));
    let mut v = body.clone();
    v["request"]["steps"] = json!({"zone": "zoneB"});
    rows.push(post("steps as an object", route, Body::Json(v), 400, "MalformedJson").about(id));
    let mut v = body.clone();
    v["request"]["nonce"] = json!("seven");
    rows.push(
        post("nonce not a number", route, Body::Json(v), 400, "MalformedJson")
            .saying("request.nonce")
            .about(id),
    );
    let mut v = body.clone();
    v["signature"] = json!("0xnot-hex");
    rows.push(post("signature not hex", route, Body::Json(v), 400, "MalformedJson").about(id));
    let mut v = body.clone();
    v["priority"] = json!("high");
    rows.push(
        post("an unknown field", route, Body::Json(v), 400, "MalformedJson")
            .saying("unknown field")
            .about(id),
    );
    for (name, field, value, says) in [
        ("zone with a dot", "zone", "zone.B", "steps[0].zone"),
        ("empty chain", "chain", "", "steps[0].chain"),
        ("wildcard resource", "resource", "*", "steps[0].resource"),
        ("segment of 33 bytes", "resource", &"l".repeat(33) as &str, "steps[0].resource"),
        ("non-ASCII zone", "zone", "zöneB", "steps[0].zone"),
        ("segment with a space", "chain", "chain B", "steps[0].chain"),
    ] {
        let v = with_segment(body.clone(), field, value);
        rows.push(
            post(format!("iPath: {name}"), route, Body::Json(v), 400, "TxBadPath")
                .saying(says)
                .about(id),
        );
    }
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(api::MAX_BODY_BYTES + 1));
    rows.push(post("body over 256 KiB", route, Body::Raw(huge.into_bytes()), 413, "BodyTooLarge"));
    let mut r = fresh.clone();
    r.steps[0].op = Bytes::from(vec![1u8; 1025]);
    rows.push(post("op of 1025 bytes", route, signed(&r), 400, "TxBadOpLength").about(id));
    let mut r = fresh.clone();
    r.steps[0].op = Bytes::new();
    rows.push(post("empty op", route, signed(&r), 400, "TxBadOpLength").about(id));
    let mut r = fresh.clone();
    r.steps.clear();
    rows.push(post("no steps", route, signed(&r), 400, "TxBadStepCount").about(id));
    let mut r = fresh.clone();
    r.steps = vec![fresh.steps[0].clone(); 17];
    rows.push(post("17 steps", route, signed(&r), 400, "TxBadStepCount").about(id));
    let mut r = fresh.clone();
    r.txId = B256::ZERO;
    rows.push(post("zero txId", route, signed(&r), 400, "TxZeroId"));

    // Signatures: garbage, short, malleable, by the wrong key, over another request or domain.
    let with_sig = |s: Bytes| Body::Json(tx_body(&fresh, &s));
    rows.extend([
        post(
            "65 zero bytes as signature",
            route,
            with_sig(Bytes::from(vec![0; 65])),
            422,
            "TxBadSignature",
        )
        .about(id),
        post(
            "64-byte signature",
            route,
            with_sig(Bytes::copy_from_slice(&sig[..64])),
            422,
            "TxBadSignature",
        )
        .about(id),
        post(
            "malleable twin of the signature",
            route,
            with_sig(malleable(&sig)),
            422,
            "TxBadSignature",
        )
        .about(id),
        post(
            "alice's txId signed by bob",
            route,
            with_sig(c.sign_tx(&fresh, BOB)),
            422,
            "TxIdNotBound",
        )
        .about(id),
    ]);
    let outsider = c.transfer_for(DEPLOYER).await;
    rows.push(
        post(
            "signed by a key of no institution",
            route,
            Body::Json(tx_body(&outsider, &c.sign_tx(&outsider, DEPLOYER))),
            422,
            "TxNotUser",
        )
        .about(Subject::Tx(outsider.txId)),
    );
    let bobs = c.transfer_for(BOB).await;
    rows.push(
        post(
            "signed by another institution's user",
            route,
            Body::Json(tx_body(&bobs, &c.sign_tx(&bobs, BOB))),
            422,
            "TxNotInstitutionRelayer",
        )
        .about(Subject::Tx(bobs.txId)),
    );
    let d = &c.net.gov.deployment;
    let other_chain = tm_domain(d.chain_id + 1, d.transaction_manager.address);
    let foreign = fresh.sign(&other_chain, &c.net.gov.accounts[ALICE].signer).expect("sign");
    rows.push(
        post("signed for another chain id", route, with_sig(foreign), 422, "TxIdNotBound")
            .about(id),
    );
    let other_tm = tm_domain(d.chain_id, d.permission_manager.address);
    let foreign = fresh.sign(&other_tm, &c.net.gov.accounts[ALICE].signer).expect("sign");
    rows.push(
        post(
            "signed for another verifying contract",
            route,
            with_sig(foreign),
            422,
            "TxIdNotBound",
        )
        .about(id),
    );
    let mut r = fresh.clone();
    r.deadline += 1;
    rows.push(
        post("altered after signing", route, Body::Json(tx_body(&r, &sig)), 422, "TxIdNotBound")
            .about(id),
    );

    // Replays, deadlines, permissions, chains.
    rows.push(post(
        "replayed request",
        route,
        Body::Json(good_body.clone()),
        422,
        "TxAlreadyExists",
    ));
    // A begun request's nonce binds the begun request's id: taken.
    let mut r = fresh.clone();
    r.nonce = good.nonce;
    r.txId = request_id(c.net.gov.address(ALICE), r.nonce);
    rows.push(
        post("nonce of a begun request", route, signed(&r), 422, "TxAlreadyExists").about(id),
    );
    let mut r = fresh.clone();
    r.nonce = good.nonce;
    rows.push(post("another user's txId", route, signed(&r), 422, "TxIdNotBound").about(id));
    let now = latest_timestamp(c.gov()).await;
    let mut r = fresh.clone();
    r.deadline = now - 1;
    rows.push(post("deadline passed", route, signed(&r), 422, "TxBadDeadline").about(id));
    let mut r = fresh.clone();
    r.deadline = now + 8 * 24 * HOUR;
    rows.push(
        post("deadline beyond seven days", route, signed(&r), 422, "TxBadDeadline").about(id),
    );
    let by_carol = c.transfer_for(CAROL).await;
    let carol = Body::Json(tx_body(&by_carol, &c.sign_tx(&by_carol, CAROL)));
    rows.push(
        post("a user without TWO_PHASE", route, carol, 422, "TxNoPermission")
            .about(Subject::Tx(by_carol.txId)),
    );
    let mut r = fresh.clone();
    r.steps[0].zone = seg("zoneX").to_word();
    rows.push(post("a chain never admitted", route, signed(&r), 422, "TxChainNotActive").about(id));

    // Status of unknown and malformed ids.
    rows.extend([
        get("unknown txId", format!("{route}/{}", fresh.txId), 404, "TxUnknown"),
        get("txId of one byte", format!("{route}/0x12"), 400, "BadTxId"),
        get("txId not hex", format!("{route}/{}", "zz".repeat(32)), 400, "BadTxId"),
    ]);
    rows
}

async fn swap_rows(
    c: &ApiCorpus,
    good: &SwapRequest,
    good_body: &Value,
    tx_nonce: U256,
) -> Vec<HttpRow> {
    let route = "/v1/swaps";
    let secret = Secret::random();
    let fresh = c.swap_request(secret.hashlock()).await;
    let sig = c.sign_swap(&fresh, ALICE);
    let lock = c.sign_lock_a(&fresh, ALICE, CHAIN_A_ID);
    let s = Some(secret.reveal());
    let id = Subject::Swap(fresh.swapId);
    let body = swap_body(&fresh, &sig, &lock, s);
    // A request signed (request and Lock) by its initiator, for rows whose fault is in it.
    let signed = |r: &SwapRequest, key: usize| {
        Body::Json(swap_body(r, &c.sign_swap(r, key), &c.sign_lock_a(r, key, CHAIN_A_ID), s))
    };
    let mut rows = vec![
        post("swap: garbage bytes", route, Body::Raw(vec![0x00, 0xfe, 0x7b]), 400, "MalformedJson"),
        post("swap: empty body", route, Body::Raw(Vec::new()), 400, "MalformedJson"),
    ];
    let mut v = body.clone();
    v["request"]["legA"]["amount"] = json!(100);
    rows.push(
        post("swap: amount as a number", route, Body::Json(v), 400, "MalformedJson").about(id),
    );
    let mut v = body.clone();
    v["request"]["legA"]["amount"] = json!("a hundred");
    rows.push(
        post("swap: amount not a number", route, Body::Json(v), 400, "MalformedJson")
            .saying("legA.amount")
            .about(id),
    );
    let mut v = body.clone();
    v["request"]["nonce"] = json!("");
    rows.push(
        post("swap: empty nonce", route, Body::Json(v), 400, "MalformedJson")
            .saying("request.nonce")
            .about(id),
    );
    let mut v = body.clone();
    v["request"]["legB"]["sender"] = json!("0x1234");
    rows.push(
        post("swap: malformed address", route, Body::Json(v), 400, "MalformedJson").about(id),
    );
    let mut v = body.clone();
    v["request"]["legA"]["zone"] = json!("zone.A");
    rows.push(
        post("swap: leg A zone with a dot", route, Body::Json(v), 400, "SwapBadPath")
            .saying("legA.zone")
            .about(id),
    );
    let mut v = body.clone();
    v["request"]["legB"]["resource"] = json!("*");
    rows.push(
        post("swap: leg B wildcard resource", route, Body::Json(v), 400, "SwapBadPath")
            .saying("legB.resource")
            .about(id),
    );
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(api::MAX_BODY_BYTES + 1));
    rows.push(post(
        "swap: body over 256 KiB",
        route,
        Body::Raw(huge.into_bytes()),
        413,
        "BodyTooLarge",
    ));
    rows.push(
        post(
            "swap: a secret that does not open the hashlock",
            route,
            Body::Json(swap_body(&fresh, &sig, &lock, Some(B256::repeat_byte(9)))),
            400,
            "SwapWrongSecret",
        )
        .about(id),
    );
    rows.push(
        post(
            "swap: no secret given or generated",
            route,
            Body::Json(swap_body(&fresh, &sig, &lock, None)),
            400,
            "SwapNoSecret",
        )
        .about(id),
    );
    let forged = c.sign_lock_a(&fresh, BOB, CHAIN_A_ID);
    rows.push(
        post(
            "swap: Lock signature by the recipient",
            route,
            Body::Json(swap_body(&fresh, &sig, &forged, s)),
            400,
            "BadLockSignature",
        )
        .about(id),
    );
    let foreign = c.sign_lock_a(&fresh, ALICE, CHAIN_B_ID);
    rows.push(
        post(
            "swap: Lock signature for another chain id",
            route,
            Body::Json(swap_body(&fresh, &sig, &foreign, s)),
            400,
            "BadLockSignature",
        )
        .about(id),
    );
    let now = latest_timestamp(c.gov()).await;
    let mut r = fresh.clone();
    r.legB.timelock = now - 1;
    rows.push(
        post("swap: leg B timelock passed", route, signed(&r, ALICE), 400, "SwapInvalid").about(id),
    );
    let mut r = fresh.clone();
    r.legA.timelock = now + 31 * 24 * HOUR;
    rows.push(
        post("swap: leg A beyond 30 days", route, signed(&r, ALICE), 400, "SwapInvalid").about(id),
    );
    let mut r = fresh.clone();
    r.legA.amount = U256::ZERO;
    rows.push(post("swap: zero amount", route, signed(&r, ALICE), 400, "SwapInvalid").about(id));

    // The initiator's signature: garbage, malleable, by the wrong key, for another chain.
    let with_sig = |s2: Bytes| Body::Json(swap_body(&fresh, &s2, &lock, s));
    rows.extend([
        post(
            "swap: 65 zero bytes as signature",
            route,
            with_sig(Bytes::from(vec![0; 65])),
            422,
            "SwapBadSignature",
        )
        .about(id),
        post(
            "swap: malleable initiator signature",
            route,
            with_sig(malleable(&sig)),
            422,
            "SwapBadSignature",
        )
        .about(id),
        post(
            "swap: initiator signature by the counterparty",
            route,
            with_sig(c.sign_swap(&fresh, BOB)),
            422,
            "SwapWrongSigner",
        )
        .about(id),
    ]);
    let d = &c.net.gov.deployment;
    let other_chain = tm_domain(d.chain_id + 1, d.transaction_manager.address);
    let foreign = fresh.sign(&other_chain, &c.net.gov.accounts[ALICE].signer).expect("sign");
    rows.push(
        post(
            "swap: initiator signature for another chain id",
            route,
            with_sig(foreign),
            422,
            "SwapWrongSigner",
        )
        .about(id),
    );

    // Replays and unauthorised parties.
    rows.push(post(
        "swap: replayed proposal",
        route,
        Body::Json(good_body.clone()),
        422,
        "SwapAlreadyExists",
    ));
    let mut r = fresh.clone();
    r.nonce = tx_nonce;
    r.swapId = request_id(r.legA.sender, r.nonce);
    // 2PC requests and swaps draw from one nonce space per initiator.
    rows.push(
        post(
            "swap: nonce of the begun 2PC request",
            route,
            signed(&r, ALICE),
            422,
            "SwapNonceUsed",
        )
        .about(id),
    );
    // The proposed swap's nonce binds the proposed swap's id: taken.
    let mut r = fresh.clone();
    r.nonce = good.nonce;
    r.swapId = request_id(r.legA.sender, r.nonce);
    rows.push(
        post(
            "swap: nonce of the proposed swap",
            route,
            signed(&r, ALICE),
            422,
            "SwapAlreadyExists",
        )
        .about(id),
    );
    let mut r = fresh.clone();
    r.nonce = good.nonce;
    rows.push(
        post("swap: another user's swapId", route, signed(&r, ALICE), 422, "SwapIdNotBound")
            .about(id),
    );
    let mut r = fresh.clone();
    r.legA.sender = c.net.gov.address(CAROL);
    r.swapId = request_id(r.legA.sender, r.nonce);
    rows.push(
        post("swap: initiator without HTLC", route, signed(&r, CAROL), 422, "SwapNoPermission")
            .about(id),
    );
    let mut r = fresh.clone();
    r.legB.sender = c.net.gov.address(ADMIN3);
    rows.push(
        post("swap: counterparty not a user", route, signed(&r, ALICE), 422, "SwapNotUser")
            .about(id),
    );

    // Acceptance and status.
    let accept =
        json!({"counterpartySignature": c.sign_swap(good, BOB), "lockSignature": "0x1234"});
    rows.extend([
        post(
            "accept: unknown swap",
            &format!("{route}/{}/accept", fresh.swapId),
            Body::Json(accept.clone()),
            404,
            "SwapNotFound",
        )
        .about(id),
        post(
            "accept: swapId of one byte",
            &format!("{route}/0x12/accept"),
            Body::Json(accept.clone()),
            400,
            "BadSwapId",
        ),
        post(
            "accept: garbage body",
            &format!("{route}/{}/accept", good.swapId),
            Body::Raw(vec![0xff; 8]),
            400,
            "MalformedJson",
        ),
        post(
            "accept: leg B's chain not served by this relayer",
            &format!("{route}/{}/accept", good.swapId),
            Body::Json(accept),
            400,
            "LegNotServed",
        ),
        get("status of an unknown swap", format!("{route}/{}", fresh.swapId), 404, "SwapNotFound"),
        get("status of a swapId not hex", format!("{route}/swap-1"), 400, "BadSwapId"),
    ]);
    rows
}

// ================================================================ the CLI

/// Governance chain and both business chains, a manifest for each, and a pending proposal that
/// admin 1 has voted for.
#[derive(Debug)]
struct CliCorpus {
    net: Consortium,
    dir: tempfile::TempDir,
    manifest: String,
    /// The governance manifest with an InstitutionRegistry address that holds no code.
    codeless: String,
    resources_a: String,
    pending: U256,
}

/// Everything a CLI row could have changed: each chain's head, every dev key's nonce on the
/// governance chain and chain A, and the governance getters the rows aim at.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CliState {
    blocks: [u64; 3],
    gov_nonces: Vec<u64>,
    a_nonces: Vec<u64>,
    proposals: U256,
    voted: [bool; 3],
    ops: Vec<u8>,
    accounts: Vec<(u64, u8)>,
}

impl CliCorpus {
    async fn start() -> CliCorpus {
        let setup = Setup { more_users_1: &[CAROL], grantees: &[ALICE], ops: Ops::TWO_PHASE };
        let net = Consortium::start((CHAIN_A_ID, CHAIN_B_ID), setup).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let manifest = dir.path().join("governance.json");
        net.gov.deployment.write_manifest(&manifest).expect("manifest");
        let resources_a = dir.path().join("zoneA.chainA.json");
        net.a.resources.write_manifest(&resources_a).expect("manifest");
        let codeless = dir.path().join("codeless.json");
        let mut moved = net.gov.deployment.clone();
        moved.institution_registry.address = net.gov.address(CAROL);
        moved.write_manifest(&codeless).expect("manifest");
        let call = crossgov_relayer::bindings::InstitutionRegistry::suspendInstitutionCall {
            institutionId: 3,
        };
        let registry = net.gov.deployment.institution_registry.address;
        let pending = net.gov.propose(ADMIN1, registry, &call, "pending").await.proposalId;
        net.gov.vote(ADMIN1, pending, true).await;
        let s = |p: PathBuf| p.to_str().expect("utf-8").to_owned();
        CliCorpus {
            net,
            manifest: s(manifest),
            codeless: s(codeless),
            resources_a: s(resources_a),
            dir,
            pending,
        }
    }

    fn key(&self, i: usize) -> String {
        B256::from_slice(self.net.gov.accounts[i].signer.to_bytes().as_slice()).to_string()
    }

    fn addr(&self, i: usize) -> String {
        self.net.gov.address(i).to_string()
    }

    fn gov_url(&self) -> String {
        self.net.gov.anvil.endpoint_url().to_string()
    }

    async fn state(&self) -> CliState {
        let g = &self.net.gov;
        let gov = &g.accounts[DEPLOYER].provider;
        let providers = [gov, self.net.a.provider(), self.net.b.provider()];
        let mut blocks = [0; 3];
        for (i, p) in providers.iter().enumerate() {
            blocks[i] = p.get_block_number().await.expect("block number");
        }
        let mut gov_nonces = Vec::new();
        let mut a_nonces = Vec::new();
        for account in &g.accounts {
            gov_nonces.push(gov.get_transaction_count(account.address).await.expect("nonce"));
            let a = self.net.a.provider();
            a_nonces.push(a.get_transaction_count(account.address).await.expect("nonce"));
        }
        let registry = g.registry(DEPLOYER);
        let proposals = registry.proposalCount().call().await.expect("proposalCount");
        let mut voted = [false; 3];
        for (i, v) in voted.iter_mut().enumerate() {
            *v = registry.hasVoted(self.pending, i as u64 + 1).call().await.expect("hasVoted");
        }
        let (z, ch, r) = "zoneA.chainA.*".parse::<Pattern>().expect("pattern").to_words();
        let mut ops = Vec::new();
        let mut accounts = Vec::new();
        for account in &g.accounts {
            let perms = g.permissions(DEPLOYER);
            ops.push(perms.accountOps(account.address, z, ch, r).call().await.expect("accountOps"));
            let a = registry.accountOf(account.address).call().await.expect("accountOf");
            accounts.push((a.institutionId, a.role));
        }
        CliState { blocks, gov_nonces, a_nonces, proposals, voted, ops, accounts }
    }
}

#[derive(Debug)]
struct CliRow {
    name: &'static str,
    args: Vec<String>,
    /// Signing key (dev key index) in CROSSGOV_KEY, or a raw value for it.
    key: Key,
    /// Appends `--rpc-url GOV --manifest M` (the rows about those flags pass their own).
    gov: bool,
    code: i32,
    /// Fragments stderr must contain.
    stderr: Vec<String>,
}

#[derive(Debug, Clone)]
enum Key {
    None,
    Dev(usize),
    Raw(String),
}

fn row(
    name: &'static str,
    args: &[impl AsRef<str>],
    key: Key,
    code: i32,
    stderr: &[&str],
) -> CliRow {
    CliRow {
        name,
        args: args.iter().map(|s| s.as_ref().to_owned()).collect(),
        key,
        gov: true,
        code,
        stderr: stderr.iter().map(|s| (*s).to_owned()).collect(),
    }
}

impl CliRow {
    fn own_endpoint(mut self) -> CliRow {
        self.gov = false;
        self
    }
}

fn run_cli(c: &CliCorpus, row: &CliRow) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(&row.args);
    if row.gov {
        cmd.args(["--rpc-url", &c.gov_url(), "--manifest", &c.manifest]);
    }
    for var in
        ["CROSSGOV_KEY", "CROSSGOV_RPC_URL", "CROSSGOV_MANIFEST", "CROSSGOV_KEYSTORE_PASSWORD"]
    {
        cmd.env_remove(var);
    }
    match &row.key {
        Key::None => {}
        Key::Dev(i) => {
            cmd.env("CROSSGOV_KEY", c.key(*i));
        }
        Key::Raw(v) => {
            cmd.env("CROSSGOV_KEY", v);
        }
    }
    cmd.current_dir(c.dir.path()).output().expect("run crossgov")
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_refuses_the_bad_input_corpus_and_sends_nothing() {
    let c = CliCorpus::start().await;
    let (alice, bob, carol) = (c.addr(ALICE), c.addr(BOB), c.addr(CAROL));
    let pending = c.pending.to_string();
    let registry = c.net.gov.deployment.institution_registry.address.to_string();
    let a_url = c.net.a.anvil.endpoint_url().to_string();
    let unknown_tx = B256::repeat_byte(0x77).to_string();
    let grant = |account: &str, pattern: &str, ops: &str| -> Vec<String> {
        ["perm", "grant", "--account", account, "--pattern", pattern, "--ops", ops]
            .map(str::to_owned)
            .to_vec()
    };
    // Most grants name carol, so a refusal can only come from the input under test.
    let g = |p: &str, o: &str| grant(&carol, p, o);
    let mut rows = Vec::new();
    for (name, pattern, says) in [
        ("grant on a four-segment pattern", "zoneA.chain.A.*", "--pattern \"zoneA.chain.A.*\""),
        ("grant on a non-trailing wildcard", "zoneA.*.ledger", "--pattern \"zoneA.*.ledger\""),
        ("grant on a prefix wildcard", "zoneA.chainA.led*", "--pattern \"zoneA.chainA.led*\""),
        ("grant on an empty segment", "zoneA..ledger", "--pattern \"zoneA..ledger\""),
        (
            "grant on a 33-byte segment",
            "zoneA.chainA.lllllllllllllllllllllllllllllllll",
            "--pattern",
        ),
    ] {
        rows.push(row(name, &g(pattern, "two_phase"), Key::Dev(ADMIN1), 1, &[says]));
    }
    // How a signed command prices its transactions, and how it pages logs.
    let priced = |flags: &[&str]| -> Vec<String> {
        [g("zoneA.chainA.*", "call"), flags.iter().map(|f| (*f).to_owned()).collect()].concat()
    };
    rows.extend([
        row(
            "grant with an unknown fee mode",
            &priced(&["--fee-mode", "cheap"]),
            Key::Dev(ADMIN1),
            2,
            &["invalid value 'cheap' for '--fee-mode <MODE>'", "eip1559"],
        ),
        row(
            "grant at a negative gas price",
            &priced(&["--fee-mode", "fixed", "--gas-price-wei=-1"]),
            Key::Dev(ADMIN1),
            2,
            &["--gas-price-wei"],
        ),
        row(
            "grant at a fixed fee without a price",
            &priced(&["--fee-mode", "fixed"]),
            Key::Dev(ADMIN1),
            1,
            &["--fee-mode", "needs a gas price"],
        ),
        row(
            "grant with a price but not fee mode fixed",
            &priced(&["--gas-price-wei", "0"]),
            Key::Dev(ADMIN1),
            1,
            &["only used with fee mode fixed"],
        ),
        row(
            "list with a zero log range",
            &["gov", "list", "--max-log-range", "0"],
            Key::None,
            2,
            &["--max-log-range"],
        ),
    ]);
    rows.extend([
        row(
            "grant unknown ops",
            &g("zoneA.chainA.*", "fly"),
            Key::Dev(ADMIN1),
            1,
            &["--ops \"fly\""],
        ),
        row("grant no ops", &g("zoneA.chainA.*", "none"), Key::Dev(ADMIN1), 1, &["PermBadOps"]),
        row(
            "grant to a malformed address",
            &grant("0x1234", "zoneA.chainA.*", "two_phase"),
            Key::Dev(ADMIN1),
            1,
            &["--account \"0x1234\" is not a 0x-prefixed 20-byte address"],
        ),
        row(
            "grant to an unregistered account",
            &grant(&c.addr(DEPLOYER), "zoneA.chainA.*", "two_phase"),
            Key::Dev(ADMIN1),
            1,
            &["PermUnknownAccount", "register the account first"],
        ),
        row(
            "grant by another institution's admin",
            &g("zoneA.chainA.*", "two_phase"),
            Key::Dev(ADMIN2),
            1,
            &["PermNotChainOwner", "only an admin of the chain's owner institution"],
        ),
        row(
            "grant signed by a user",
            &g("zoneA.chainA.*", "two_phase"),
            Key::Dev(ALICE),
            1,
            &["PermNotChainOwner"],
        ),
        row(
            "grant on a cross-chain pattern",
            &g("zoneA.*", "two_phase"),
            Key::Dev(ADMIN1),
            1,
            &["PermNotGovernance", "crossgov gov propose raw"],
        ),
        row(
            "grant on a chain never admitted",
            &g("zoneX.chainX.*", "two_phase"),
            Key::Dev(ADMIN1),
            1,
            &["PermChainNotActive", "crossgov chain list"],
        ),
        row(
            "revoke what was never granted",
            &["perm", "revoke", "--account", &bob, "--pattern", "zoneA.chainA.*", "--ops", "htlc"],
            Key::Dev(ADMIN1),
            1,
            &["PermNothingToRevoke"],
        ),
        row(
            "check a two-segment path",
            &["perm", "check", "--account", &alice, "--path", "zoneA.chainA", "--op", "two_phase"],
            Key::None,
            1,
            &["--path \"zoneA.chainA\""],
        ),
        row(
            "check a wildcard path",
            &[
                "perm",
                "check",
                "--account",
                &alice,
                "--path",
                "zoneA.chainA.*",
                "--op",
                "two_phase",
            ],
            Key::None,
            1,
            &["--path \"zoneA.chainA.*\""],
        ),
        row(
            "check two ops at once",
            &[
                "perm",
                "check",
                "--account",
                &alice,
                "--path",
                "zoneA.chainA.ledger",
                "--op",
                "two_phase,htlc",
            ],
            Key::None,
            1,
            &["--op \"two_phase,htlc\": name exactly one op"],
        ),
        // Proposals: unknown ids, replayed and unauthorised votes, garbage ids and hex.
        row(
            "vote on an unknown proposal",
            &["gov", "vote", "--id", "999"],
            Key::Dev(ADMIN2),
            1,
            &["ProposalNotFound", "crossgov gov list"],
        ),
        row(
            "vote replayed by the same institution",
            &["gov", "vote", "--id", &pending],
            Key::Dev(ADMIN1),
            1,
            &["ProposalAlreadyVoted", "has voted on it already"],
        ),
        row(
            "vote signed by a user",
            &["gov", "vote", "--id", &pending],
            Key::Dev(ALICE),
            1,
            &["InstNotAdmin", "sign with an admin key"],
        ),
        row(
            "vote signed by a relayer",
            &["gov", "vote", "--id", &pending],
            Key::Dev(RELAYER_B),
            1,
            &["InstNotAdmin"],
        ),
        row(
            "vote with an id that is not a number",
            &["gov", "vote", "--id", "one"],
            Key::Dev(ADMIN2),
            2,
            &["invalid value 'one' for '--id <ID>'"],
        ),
        row(
            "execute a pending proposal",
            &["gov", "execute", "--id", &pending],
            Key::Dev(DEPLOYER),
            1,
            &["ProposalNotPassed"],
        ),
        row(
            "withdraw by another institution",
            &["gov", "withdraw", "--id", &pending],
            Key::Dev(ADMIN2),
            1,
            &["ProposalNotProposer", "only the proposing institution"],
        ),
        row(
            "show an unknown proposal",
            &["gov", "show", "--id", "999"],
            Key::None,
            1,
            &["proposal 999 does not exist", "crossgov gov list"],
        ),
        row(
            "propose a regulator key of 2 bytes",
            &["gov", "propose", "admit-regulator", "--public-key", "0x1234", "--name", "R"],
            Key::Dev(ADMIN1),
            1,
            &["--public-key has 2 bytes; a regulator key is 64 bytes"],
        ),
        row(
            "propose a regulator key of garbage hex",
            &["gov", "propose", "admit-regulator", "--public-key", "0xzz", "--name", "R"],
            Key::Dev(ADMIN1),
            2,
            &["invalid value '0xzz' for '--public-key"],
        ),
        row(
            "propose raw calldata shorter than a selector",
            &["gov", "propose", "raw", "--target", &registry, "--data", "0x12"],
            Key::Dev(ADMIN1),
            1,
            &["ProposalEmptyData"],
        ),
        row(
            "propose raw to a malformed target",
            &["gov", "propose", "raw", "--target", "0xregistry", "--data", "0x12345678"],
            Key::Dev(ADMIN1),
            1,
            &["--target \"0xregistry\" is not a 0x-prefixed 20-byte address"],
        ),
        row(
            "propose admitting an institution signed by a user",
            &[
                "gov",
                "propose",
                "admit-institution",
                "--name",
                "Bank X",
                "--admin",
                &c.addr(DEPLOYER),
            ],
            Key::Dev(ALICE),
            1,
            &["InstNotAdmin", "sign with an admin key"],
        ),
        row(
            "propose a chain with a malformed name",
            &[
                "gov",
                "propose",
                "admit-chain",
                "--chain",
                "zone.X.chain",
                "--chain-id",
                "7",
                "--genesis-hash",
                &B256::ZERO.to_string(),
                "--owner",
                "1",
            ],
            Key::Dev(ADMIN1),
            1,
            &["--chain \"X.chain\""],
        ),
        row(
            "add an account taken by another institution",
            &["gov", "add-account", "--account", &bob, "--role", "user"],
            Key::Dev(ADMIN1),
            1,
            &["InstAccountTaken", "already belongs to an institution"],
        ),
        row(
            "add a malformed account",
            &["gov", "add-account", "--account", "0xZZ", "--role", "user"],
            Key::Dev(ADMIN1),
            1,
            &["--account \"0xZZ\" is not a 0x-prefixed 20-byte address"],
        ),
        row(
            "add an account with an unknown role",
            &["gov", "add-account", "--account", &c.addr(DEPLOYER), "--role", "root"],
            Key::Dev(ADMIN1),
            2,
            &["invalid value 'root' for '--role <ROLE>'"],
        ),
        // Transactions.
        row(
            "status of an unknown transaction",
            &["tx", "status", "--id", &unknown_tx],
            Key::None,
            1,
            &["is unknown to the coordinator"],
        ),
        row(
            "status of a one-byte txId",
            &["tx", "status", "--id", "0x12"],
            Key::None,
            2,
            &["invalid value '0x12' for '--id <ID>'"],
        ),
        row(
            "submit a step with a malformed iPath",
            &[
                "tx",
                "submit",
                "--relayer",
                "http://127.0.0.1:9",
                "--step",
                &format!("zoneA.chainA:debit:{alice}:10"),
            ],
            Key::Dev(ALICE),
            1,
            &["--step", "expected zone.chain.resource:debit|credit:ACCOUNT:AMOUNT"],
        ),
        row(
            "submit a step with an unknown op",
            &[
                "tx",
                "submit",
                "--relayer",
                "http://127.0.0.1:9",
                "--step",
                &format!("zoneA.chainA.ledger:burn:{alice}:10"),
            ],
            Key::Dev(ALICE),
            1,
            &["unknown op \"burn\""],
        ),
        // Keys from the environment: missing, not hex, too short.
        row(
            "grant with no key",
            &g("zoneA.chainA.*", "two_phase"),
            Key::None,
            1,
            &["signing key", "CROSSGOV_KEY"],
        ),
        row(
            "grant with a key that is not hex",
            &g("zoneA.chainA.*", "two_phase"),
            Key::Raw("not-a-key".into()),
            1,
            &["signing key", "CROSSGOV_KEY"],
        ),
        row(
            "grant with a 31-byte key",
            &g("zoneA.chainA.*", "two_phase"),
            Key::Raw(format!("0x{}", "11".repeat(31))),
            1,
            &["signing key", "CROSSGOV_KEY"],
        ),
        row(
            "grant with the zero key",
            &g("zoneA.chainA.*", "two_phase"),
            Key::Raw(B256::ZERO.to_string()),
            1,
            &["signing key", "CROSSGOV_KEY"],
        ),
    ]);
    // Endpoints and manifests that do not match.
    let mut wrong_chain = g("zoneA.chainA.*", "two_phase");
    wrong_chain.extend(["--rpc-url", &a_url, "--manifest", &c.manifest].map(str::to_owned));
    rows.push(
        row(
            "grant against the endpoint of another chain",
            &wrong_chain,
            Key::Dev(ADMIN1),
            1,
            &["chain id"],
        )
        .own_endpoint(),
    );
    rows.push(
        row(
            "show against the endpoint of another chain",
            &["gov", "show", "--id", &pending, "--rpc-url", &a_url, "--manifest", &c.manifest],
            Key::None,
            1,
            &["chain id"],
        )
        .own_endpoint(),
    );
    rows.push(
        row(
            "show against an endpoint nobody listens on",
            &[
                "gov",
                "show",
                "--id",
                &pending,
                "--rpc-url",
                "http://127.0.0.1:9",
                "--manifest",
                &c.manifest,
            ],
            Key::None,
            1,
            &["127.0.0.1:9"],
        )
        .own_endpoint(),
    );
    rows.push(
        row(
            "show with a manifest that does not exist",
            &[
                "gov",
                "show",
                "--id",
                &pending,
                "--rpc-url",
                &c.gov_url(),
                "--manifest",
                "missing.json",
            ],
            Key::None,
            1,
            &["missing.json", "pass --manifest FILE"],
        )
        .own_endpoint(),
    );
    rows.push(
        row(
            "grant with a manifest naming an address without code",
            &[
                g("zoneA.chainA.*", "two_phase"),
                ["--rpc-url", &c.gov_url(), "--manifest", &c.codeless].map(str::to_owned).to_vec(),
            ]
            .concat(),
            Key::Dev(ADMIN1),
            1,
            &["has no contract at the InstitutionRegistry address"],
        )
        .own_endpoint(),
    );
    rows.push(
        row(
            "show with a resources manifest as the governance manifest",
            &[
                "gov",
                "show",
                "--id",
                &pending,
                "--rpc-url",
                &c.gov_url(),
                "--manifest",
                &c.resources_a,
            ],
            Key::None,
            1,
            &["zoneA.chainA.json"],
        )
        .own_endpoint(),
    );
    let genesis = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/consortium.example.toml");
    rows.push(
        row(
            "deploy verification against another chain",
            &["deploy", "--config", genesis, "--rpc-url", &a_url, "--manifest", &c.manifest],
            Key::Dev(DEPLOYER),
            1,
            &["chain id", "another --manifest"],
        )
        .own_endpoint(),
    );
    rows.push(
        row(
            "resources verification against the governance chain",
            &["deploy", "resources", "--rpc-url", &c.gov_url(), "--manifest", &c.resources_a],
            Key::Dev(ADMIN1),
            1,
            &["chain id", "another --manifest"],
        )
        .own_endpoint(),
    );

    // Positive control: a well-formed grant signed by the chain owner's admin is sent and moves
    // what the rows watch.
    let before = c.state().await;
    let control = row("control", &g("zoneA.chainA.*", "call"), Key::Dev(ADMIN1), 0, &[]);
    let out = tokio::task::block_in_place(|| run_cli(&c, &control));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = c.state().await;
    assert_ne!(after.gov_nonces[ADMIN1], before.gov_nonces[ADMIN1], "the control was not sent");
    assert_ne!(after.ops, before.ops, "the control granted nothing");

    let mut failures = Vec::new();
    for r in &rows {
        let before = c.state().await;
        let out = tokio::task::block_in_place(|| run_cli(&c, r));
        let err = String::from_utf8_lossy(&out.stderr);
        let what = format!("{}: crossgov {}", r.name, r.args.join(" "));
        if out.status.code() != Some(r.code) {
            failures.push(format!("{what}: exit {:?}, want {}: {err}", out.status.code(), r.code));
        }
        if !out.stdout.is_empty() {
            failures.push(format!("{what}: stdout {}", String::from_utf8_lossy(&out.stdout)));
        }
        for fragment in &r.stderr {
            if !err.contains(fragment.as_str()) {
                failures.push(format!("{what}: stderr lacks {fragment:?}: {err}"));
            }
        }
        // The key never reaches the output, even when it is refused.
        let key = match &r.key {
            Key::None => None,
            Key::Dev(i) => Some(c.key(*i)),
            Key::Raw(v) => Some(v.clone()),
        };
        if let Some(k) = key.filter(|k| k.len() > 16) {
            let hex = k.trim_start_matches("0x");
            if err.contains(hex) || String::from_utf8_lossy(&out.stdout).contains(hex) {
                failures.push(format!("{what}: the key leaked"));
            }
        }
        let after = c.state().await;
        if after != before {
            failures.push(format!("{what}: state changed from {before:?} to {after:?}"));
        }
    }
    assert!(failures.is_empty(), "{} row(s) failed:\n{}", failures.len(), failures.join("\n"));
}
