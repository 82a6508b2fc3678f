//! The relayer's HTTP API (axum):
//!
//! - `POST /v1/transactions`: body `{"request": {"txId", "steps": [{"zone", "chain", "resource",
//!   "op"}], "deadline", "nonce"}, "signature"}` → `202 {"txId", "governanceTxHash"}`; a malformed
//!   body → 400, a request the TransactionManager would refuse → 422 (or 400 when the request alone
//!   is invalid), both as `{"error": {"code", "message"}}` with `code` the contract error's name;
//!   `503 Busy` with `Retry-After` while the relayer carries `max_open_work` open transactions and
//!   swaps (back-pressure: nothing checked or sent).
//! - `GET /v1/transactions/{txId}` → 200 with the state of each step and the known transaction
//!   hashes, or 404.
//! - `GET /health` → per-chain head, lag and last reconcile; 200 when healthy, 503 with the
//!   `problems` otherwise: a node that has not answered within the policy's limit (a hung node
//!   included), a head that stopped moving where a block schedule is configured, a loop that has
//!   not finished a round, a relayer that stopped.
//! - `GET /metrics` → Prometheus text.
//!
//! Bodies above [`MAX_BODY_BYTES`] are refused with 413. Handlers talk to the relayer through
//! [`RelayerService`].

use std::future::Future;
use std::sync::Arc;
use std::time::{Instant, UNIX_EPOCH};

use alloy::primitives::{Address, B256, Bytes, U256};
use axum::Router;
use axum::body::Bytes as BodyBytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

pub mod server;

pub use server::{ApiLimits, ApiServer, ClientAddr};

use crate::ipath::Segment;
use crate::metrics::Metrics;
use crate::protocol::two_phase::{Step, TxRequest, TxRequestError};
use crate::runtime::{HealthReport, RelayerHandle, SubmitError, TransactionStatus};
use crate::two_phase::SentTx;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Why the relayer did not submit a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The request alone is invalid (zero id, step count, op length, …): 400.
    Invalid {
        /// Error name (the contract's custom error where there is one, e.g. `TxBadStepCount`).
        code: String,
        /// Explanation.
        message: String,
    },
    /// The governance chain would refuse it (`BadSignature`, `PermDenied`, `TxBadDeadline`,
    /// unknown chain, …): 422.
    Refused {
        /// The contract's custom error name.
        code: String,
        /// Explanation.
        message: String,
    },
    /// The relayer cannot submit now (node unreachable, shutting down): 503.
    Unavailable {
        /// Explanation.
        message: String,
    },
    /// The relayer carries as much open work as it takes: 503 `Busy` with `Retry-After`.
    Busy {
        /// Explanation.
        message: String,
    },
    /// A node lacks a method or feature this relayer's settings need (`fee_mode`,
    /// `max_log_range`): 500 `NodeUnsupported`, until its operator changes the setting.
    Misconfigured {
        /// Explanation, naming the chain, the method and the setting.
        message: String,
    },
}

/// One transaction the relayer sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SentTxView {
    /// `begin`, `prepare`, `vote`, `commit`, `rollback`, `ack`, `expire`.
    pub action: String,
    /// The step, for step actions.
    pub step: Option<u8>,
    /// `governance` or `zone.chain`.
    pub chain: String,
    /// The transaction hash.
    pub tx_hash: B256,
}

/// State of one step as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepView {
    /// Step index.
    pub index: u8,
    /// `keccak256(abi.encode(zone, chain))`.
    pub chain_key: B256,
    /// `keccak256(op)`.
    pub op_hash: B256,
    /// Whether this relayer serves the step's chain.
    pub served: bool,
    /// The step's vote, once cast (`true` = prepared).
    pub vote: Option<bool>,
    /// Whether the step's outcome was acknowledged.
    pub acked: bool,
    /// The resource's state (`XaLedger`'s `TxState` name), for served steps.
    pub resource_state: Option<String>,
}

/// A transaction as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionView {
    /// The txId.
    pub tx_id: B256,
    /// The coordinator's state (`ITransactionManager.TxState` name).
    pub state: String,
    /// The initiating user.
    pub initiator: Address,
    /// The user's institution.
    pub institution: u64,
    /// The request's deadline (governance-chain time).
    pub deadline: u64,
    /// The steps.
    pub steps: Vec<StepView>,
    /// Governance-chain transactions this relayer sent for it.
    pub governance_txs: Vec<SentTxView>,
    /// Business-chain transactions this relayer sent for it.
    pub business_txs: Vec<SentTxView>,
}

/// Health of one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainHealthView {
    /// `governance` or `zone.chain`.
    pub name: String,
    /// Whether the last RPC call succeeded.
    pub reachable: bool,
    /// Latest head seen.
    pub head: Option<u64>,
    /// Blocks between the head and the last processed block.
    pub lag: Option<u64>,
    /// Last error, if unreachable.
    pub last_error: Option<String>,
    /// Why this chain makes the relayer unhealthy (silent node, stuck head, error), if it does.
    pub problem: Option<String>,
}

/// `GET /health`'s body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthView {
    /// No problem (then the status is 200, else 503).
    pub healthy: bool,
    /// Everything that makes the relayer unhealthy now, each naming its chain or part.
    pub problems: Vec<String>,
    /// The governance chain first, then the served chains.
    pub chains: Vec<ChainHealthView>,
    /// Unix time (seconds) the last reconcile pass ended.
    pub last_reconcile_unix: Option<u64>,
    /// Its duration in milliseconds.
    pub last_reconcile_ms: Option<u64>,
    /// Unfinished transactions on the served chains at the last reconcile.
    pub pending: usize,
    /// Why the relayer stopped, if it did.
    pub stopped: Option<String>,
}

/// What the HTTP handlers need from the relayer.
pub trait RelayerService: Send + Sync + 'static {
    /// Submits `begin(request, signature)`; returns the governance transaction hash.
    fn submit_transaction(
        &self,
        request: TxRequest,
        signature: Bytes,
    ) -> impl Future<Output = Result<B256, Rejection>> + Send;
    /// The transaction `tx_id`, if the governance chain knows it.
    fn transaction_status(
        &self,
        tx_id: B256,
    ) -> impl Future<Output = Result<Option<TransactionView>, Rejection>> + Send;
    /// Health of every chain.
    fn health(&self) -> impl Future<Output = HealthView> + Send;
}

/// `POST /v1/transactions` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitBody {
    request: RequestBody,
    signature: Bytes,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RequestBody {
    tx_id: B256,
    steps: Vec<StepBody>,
    deadline: u64,
    nonce: NonceBody,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepBody {
    zone: String,
    chain: String,
    resource: String,
    op: Bytes,
}

/// A nonce as a JSON string (decimal or 0x-hex) or number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum NonceBody {
    Text(String),
    Number(u64),
}

/// `202` body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Submitted {
    tx_id: B256,
    governance_tx_hash: B256,
}

/// An error response `{"error": {"code", "message"}}`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError { status, code: code.to_owned(), message: message.into() }
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> ApiError {
        match r {
            Rejection::Invalid { code, message } => {
                ApiError { status: StatusCode::BAD_REQUEST, code, message }
            }
            Rejection::Refused { code, message } => {
                ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, code, message }
            }
            Rejection::Unavailable { message } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "Unavailable", message)
            }
            Rejection::Busy { message } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "Busy", message)
            }
            Rejection::Misconfigured { message } => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "NodeUnsupported", message)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(self.status, &self.code, self.message)
    }
}

/// `{"error": {"code", "message"}}`, with `Retry-After` for a refusal that passes (see
/// [`retry_after`]).
pub(crate) fn error_response(status: StatusCode, code: &str, message: String) -> Response {
    match retry_after(code) {
        Some(wait) => server::refusal(status, code, message, wait),
        None => {
            let body = serde_json::json!({ "error": { "code": code, "message": message } });
            (status, axum::Json(body)).into_response()
        }
    }
}

/// How long a client should wait after a refusal that passes: a busy relayer counts its open
/// work again every block; a place for a swap secret comes free when a proposal uses one or one
/// expires.
fn retry_after(code: &str) -> Option<std::time::Duration> {
    match code {
        "Busy" => Some(std::time::Duration::from_secs(1)),
        "TooManySecrets" => Some(std::time::Duration::from_secs(60)),
        _ => None,
    }
}

struct AppState<S> {
    service: Arc<S>,
    metrics: Arc<Metrics>,
}

impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        AppState { service: self.service.clone(), metrics: self.metrics.clone() }
    }
}

/// The API's routes over `service`.
pub fn router<S: RelayerService>(service: Arc<S>, metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/v1/transactions", post(submit::<S>))
        .route("/v1/transactions/{tx_id}", get(status::<S>))
        .route("/health", get(health::<S>))
        .route("/metrics", get(metrics_text::<S>))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(AppState { service, metrics })
}

fn parse_request(body: &[u8]) -> Result<(TxRequest, Bytes), ApiError> {
    let body: SubmitBody = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "MalformedJson", e.to_string()))?;
    let r = body.request;
    let nonce = match r.nonce {
        NonceBody::Number(n) => U256::from(n),
        NonceBody::Text(s) => s.parse::<U256>().map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "MalformedJson",
                format!("request.nonce {s:?}: {e}"),
            )
        })?,
    };
    let mut steps = Vec::with_capacity(r.steps.len());
    for (i, s) in r.steps.into_iter().enumerate() {
        let seg = |name: &str, value: &str| {
            Segment::new(value).map(B256::from).map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "TxBadPath",
                    format!("request.steps[{i}].{name} {value:?} {e}"),
                )
            })
        };
        steps.push(Step {
            zone: seg("zone", &s.zone)?,
            chain: seg("chain", &s.chain)?,
            resource: seg("resource", &s.resource)?,
            op: s.op,
        });
    }
    Ok((TxRequest { txId: r.tx_id, steps, deadline: r.deadline, nonce }, body.signature))
}

/// Status, code and message for a body that could not be read (over [`MAX_BODY_BYTES`], or
/// broken off); shared with the swap routes so every route answers in the same JSON shape.
pub(crate) fn body_rejection(rejection: BytesRejection) -> (StatusCode, &'static str, String) {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        (status, "BodyTooLarge", format!("the body exceeds {MAX_BODY_BYTES} bytes"))
    } else {
        (status, "BadBody", rejection.body_text())
    }
}

fn body_error(rejection: BytesRejection) -> ApiError {
    let (status, code, message) = body_rejection(rejection);
    ApiError::new(status, code, message)
}

async fn submit<S: RelayerService>(
    State(state): State<AppState<S>>,
    body: Result<BodyBytes, BytesRejection>,
) -> Response {
    let result = async {
        let body = body.map_err(body_error)?;
        let (request, signature) = parse_request(&body)?;
        let tx_id = request.txId;
        let hash = state.service.submit_transaction(request, signature).await?;
        Ok::<_, ApiError>(Submitted { tx_id, governance_tx_hash: hash })
    }
    .await;
    let response = match result {
        Ok(s) => (StatusCode::ACCEPTED, axum::Json(s)).into_response(),
        Err(e) => {
            tracing::debug!(code = %e.code, message = %e.message, "transaction refused");
            e.into_response()
        }
    };
    state.metrics.api_request("submit", response.status().as_u16());
    response
}

async fn status<S: RelayerService>(
    State(state): State<AppState<S>>,
    Path(tx_id): Path<String>,
) -> Response {
    let result = async {
        let id: B256 = tx_id.parse().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "BadTxId",
                format!("{tx_id:?} is not a 32-byte hex txId"),
            )
        })?;
        match state.service.transaction_status(id).await? {
            Some(view) => Ok(view),
            None => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "TxUnknown",
                format!("no transaction {id}"),
            )),
        }
    }
    .await;
    let response = match result {
        Ok(view) => (StatusCode::OK, axum::Json(view)).into_response(),
        Err(e) => e.into_response(),
    };
    state.metrics.api_request("status", response.status().as_u16());
    response
}

async fn health<S: RelayerService>(State(state): State<AppState<S>>) -> Response {
    let view = state.service.health().await;
    let code = if view.healthy { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    state.metrics.api_request("health", code.as_u16());
    (code, axum::Json(view)).into_response()
}

async fn metrics_text<S: RelayerService>(State(state): State<AppState<S>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        state.metrics.encode(),
    )
        .into_response()
}

/// The name of `ITransactionManager`'s custom error behind a [`SubmitError`], and whether the
/// request alone is at fault (400) or the chain's state refuses it (422). `None` when the
/// governance chain could not be reached (503).
fn submit_error_code(e: &SubmitError) -> Option<(&'static str, bool)> {
    Some(match e {
        SubmitError::Invalid(inner) => match inner {
            TxRequestError::ZeroId => ("TxZeroId", true),
            TxRequestError::StepCount { .. } => ("TxBadStepCount", true),
            TxRequestError::Path { .. } => ("TxBadPath", true),
            TxRequestError::OpLength { .. } => ("TxBadOpLength", true),
            TxRequestError::NoDeadline | TxRequestError::Deadline { .. } => {
                ("TxBadDeadline", false)
            }
        },
        SubmitError::BadSignature => ("TxBadSignature", false),
        SubmitError::NotUser { .. } => ("TxNotUser", false),
        SubmitError::NotInstitutionRelayer { .. } => ("TxNotInstitutionRelayer", false),
        SubmitError::ChainNotActive { .. } => ("TxChainNotActive", false),
        SubmitError::NoPermission { .. } => ("TxNoPermission", false),
        SubmitError::BadDeadline { .. } => ("TxBadDeadline", false),
        SubmitError::NonceUsed { .. } => ("TxNonceUsed", false),
        SubmitError::AlreadyExists(_) => ("TxAlreadyExists", false),
        SubmitError::IdNotBound { .. } => ("TxIdNotBound", false),
        SubmitError::Refused(revert) => (revert.name(), false),
        _ => return None,
    })
}

impl From<SubmitError> for Rejection {
    fn from(e: SubmitError) -> Rejection {
        let message = e.to_string();
        if e.is_misconfigured() {
            return Rejection::Misconfigured { message };
        }
        if let SubmitError::Busy(_) = e {
            return Rejection::Busy { message };
        }
        match submit_error_code(&e) {
            Some((code, true)) => Rejection::Invalid { code: code.to_owned(), message },
            Some((code, false)) => Rejection::Refused { code: code.to_owned(), message },
            None => Rejection::Unavailable { message },
        }
    }
}

fn sent_view(s: &SentTx) -> SentTxView {
    SentTxView {
        action: s.action.to_owned(),
        step: s.step,
        chain: s.chain.clone(),
        tx_hash: s.tx_hash,
    }
}

impl From<&TransactionStatus> for TransactionView {
    fn from(t: &TransactionStatus) -> TransactionView {
        TransactionView {
            tx_id: t.tx_id,
            state: t.state.name().to_owned(),
            initiator: t.initiator,
            institution: t.institution,
            deadline: t.deadline,
            steps: t
                .steps
                .iter()
                .map(|s| StepView {
                    index: s.index,
                    chain_key: s.chain_key,
                    op_hash: s.op_hash,
                    served: s.served,
                    vote: s.vote,
                    acked: s.acked,
                    resource_state: s.resource_state.map(|r| r.name().to_owned()),
                })
                .collect(),
            governance_txs: t.governance_txs.iter().map(sent_view).collect(),
            business_txs: t.business_txs.iter().map(sent_view).collect(),
        }
    }
}

impl HealthView {
    /// The report as judged at `now`.
    pub fn at(h: &HealthReport, now: Instant) -> HealthView {
        let problems = h.problems(now);
        let recent = |at: Option<Instant>| {
            at.is_some_and(|t| now.saturating_duration_since(t) <= h.policy.unresponsive_after)
        };
        HealthView {
            healthy: problems.is_empty(),
            problems,
            chains: h
                .chains
                .iter()
                .map(|c| ChainHealthView {
                    name: c.name.clone(),
                    reachable: c.last_error.is_none() && recent(c.answered_at),
                    head: c.head,
                    lag: c.lag,
                    last_error: c.last_error.clone(),
                    problem: c.problem(now, &h.policy),
                })
                .collect(),
            last_reconcile_unix: h
                .last_reconcile_at
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs()),
            last_reconcile_ms: h
                .last_reconcile_duration
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            pending: h.pending,
            stopped: h.stopped.clone(),
        }
    }
}

/// The real relayer behind the API.
impl RelayerService for RelayerHandle {
    async fn submit_transaction(
        &self,
        request: TxRequest,
        signature: Bytes,
    ) -> Result<B256, Rejection> {
        RelayerHandle::submit_transaction(self, request, signature).await.map_err(Rejection::from)
    }

    async fn transaction_status(&self, tx_id: B256) -> Result<Option<TransactionView>, Rejection> {
        RelayerHandle::transaction_status(self, tx_id)
            .await
            .map(|s| s.as_ref().map(TransactionView::from))
            .map_err(|e| Rejection::Unavailable { message: e.to_string() })
    }

    async fn health(&self) -> HealthView {
        HealthView::at(&RelayerHandle::health(self), Instant::now())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn refusals_that_pass_carry_retry_after() {
        let retry = |code: &str| {
            let r = error_response(StatusCode::SERVICE_UNAVAILABLE, code, "m".into());
            r.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(retry("Busy").as_deref(), Some("1"));
        assert_eq!(retry("TooManySecrets").as_deref(), Some("60"));
        assert_eq!(retry("Unavailable"), None);
    }

    #[test]
    fn request_body_parses_into_tx_request() {
        let body = serde_json::json!({
            "request": {
                "txId": B256::repeat_byte(7),
                "steps": [{"zone": "zoneA", "chain": "chainA", "resource": "ledger", "op": "0x0102"}],
                "deadline": 123,
                "nonce": "1"
            },
            "signature": "0xabcd"
        });
        let (req, sig) = parse_request(body.to_string().as_bytes()).unwrap();
        assert_eq!(req.txId, B256::repeat_byte(7));
        assert_eq!(req.nonce, U256::from(1));
        assert_eq!(req.deadline, 123);
        assert_eq!(req.steps[0].path().unwrap().to_string(), "zoneA.chainA.ledger");
        assert_eq!(sig.as_ref(), &[0xab, 0xcd]);
    }

    #[test]
    fn malformed_bodies_name_the_problem() {
        let err = parse_request(b"{\"request\": ").unwrap_err();
        assert_eq!((err.status, err.code.as_str()), (StatusCode::BAD_REQUEST, "MalformedJson"));
        let err = parse_request(br#"{"request": {"txId": "0x01", "steps": [], "deadline": 1, "nonce": 1}, "signature": "0x"}"#)
            .unwrap_err();
        assert!(err.message.contains("txId") || err.message.contains("invalid"), "{}", err.message);
        let body = serde_json::json!({
            "request": {"txId": B256::repeat_byte(1), "steps": [{"zone": "a.b", "chain": "c", "resource": "r", "op": "0x01"}],
                        "deadline": 1, "nonce": "1"},
            "signature": "0x"
        });
        let err = parse_request(body.to_string().as_bytes()).unwrap_err();
        assert_eq!(err.code, "TxBadPath");
        assert!(err.message.contains("steps[0].zone"), "{}", err.message);
        let err = parse_request(br#"{"request": {}, "signature": "0x", "extra": 1}"#).unwrap_err();
        assert_eq!(err.code, "MalformedJson");
    }
}
