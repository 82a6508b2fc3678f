//! The HTLC part of the HTTP API, merged into [`crate::api::router`]'s router by the CLI:
//!
//! - `POST /v1/swaps`: body `{"request": {"swapId", "hashlock", "legA": {"zone", "chain",
//!   "resource", "sender", "recipient", "amount", "timelock"}, "legB": {…}, "nonce"},
//!   "initiatorSignature", "lockSignature", "secret"?}` → `202 {"swapId", "governanceTxHash"}`.
//!   Without `secret` the relayer uses one it generated (`POST /v1/swaps/secrets` →
//!   `201 {"hashlock"}`). The secret and the Lock signature are persisted before proposing and
//!   never returned.
//! - `POST /v1/swaps/{swapId}/accept`: body `{"counterpartySignature", "lockSignature"}` →
//!   `202 {"swapId", "governanceTxHash"}`.
//! - `GET /v1/swaps/{swapId}` → 200 with both legs (governance and asset states, timelocks), the
//!   secret only once revealed on chain, and the transactions this relayer sent; or 404.
//!
//! Errors are `{"error": {"code", "message"}}`: 400 for bad input (bad JSON, invalid request or
//! timelocks, wrong secret, forged Lock signature), 404 for an unknown swap, 413 for a body over
//! [`MAX_BODY_BYTES`], 422 when the TransactionManager refuses (code = its custom error's name),
//! 503 when a chain is unreachable, and `503 Busy` (with `Retry-After`) for a proposal while the
//! relayer carries `max_open_work` open transactions and swaps.

use alloy::primitives::{Address, B256, Bytes};
use axum::Router;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::{SwapStatus, SwapSubmitError};
use crate::api::{MAX_BODY_BYTES, body_rejection};
use crate::protocol::{Secret, SwapJsonError, SwapRequest, SwapRequestJson};
use crate::runtime::RelayerHandle;

/// The swap routes over `handle`.
pub fn routes(handle: RelayerHandle) -> Router {
    Router::new()
        .route("/v1/swaps", post(propose))
        .route("/v1/swaps/secrets", post(generate))
        .route("/v1/swaps/{swap_id}", get(status))
        .route("/v1/swaps/{swap_id}/accept", post(accept))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(handle)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ProposeBody {
    request: SwapRequestJson,
    initiator_signature: Bytes,
    lock_signature: Bytes,
    #[serde(default)]
    secret: Option<B256>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AcceptBody {
    counterparty_signature: Bytes,
    lock_signature: Bytes,
}

/// `202` body of a proposal or acceptance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapSubmitted {
    /// The swap.
    pub swap_id: B256,
    /// The governance transaction.
    pub governance_tx_hash: B256,
}

/// One leg as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LegView {
    /// `A` or `B`.
    pub leg: String,
    /// Governance record (`LegState` name).
    pub state: String,
    /// Timelock (the leg's chain's time).
    pub timelock: u64,
    /// The HtlcAsset's state (`SwapState` name), when this relayer reaches the leg's chain.
    pub lock_state: Option<String>,
}

/// A transaction the relayer sent for the swap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapTxView {
    /// `proposeSwap`, `lock`, `recordLegLocked`, `unlock`, …
    pub action: String,
    /// The leg (0 = A, 1 = B), for leg actions.
    pub leg: Option<u8>,
    /// `governance` or `zone.chain`.
    pub chain: String,
    /// The hash.
    pub tx_hash: B256,
}

/// `GET /v1/swaps/{id}`'s body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapView {
    /// The swap.
    pub swap_id: B256,
    /// Governance state (`SwapState` name).
    pub state: String,
    /// Leg A's sender.
    pub initiator: Address,
    /// Leg B's sender.
    pub counterparty: Address,
    /// `sha256(secret)`.
    pub hashlock: B256,
    /// The secret once revealed on chain; never an unrevealed one.
    pub secret: Option<B256>,
    /// Legs A and B.
    pub legs: Vec<LegView>,
    /// Transactions this relayer sent for it.
    pub transactions: Vec<SwapTxView>,
}

impl From<&SwapStatus> for SwapView {
    fn from(s: &SwapStatus) -> SwapView {
        SwapView {
            swap_id: s.swap_id,
            state: s.state.to_string(),
            initiator: s.initiator,
            counterparty: s.counterparty,
            hashlock: s.hashlock,
            secret: s.revealed_secret,
            legs: s
                .legs
                .iter()
                .map(|l| LegView {
                    leg: l.leg.to_string(),
                    state: l.state.to_string(),
                    timelock: l.timelock,
                    lock_state: l.lock_state.map(|x| x.to_string()),
                })
                .collect(),
            transactions: s
                .sent
                .iter()
                .map(|t| SwapTxView {
                    action: t.action.to_owned(),
                    leg: t.step,
                    chain: t.chain.clone(),
                    tx_hash: t.tx_hash,
                })
                .collect(),
        }
    }
}

#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
}

impl ApiError {
    fn bad(code: &str, message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, code: code.to_owned(), message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        crate::api::error_response(self.status, &self.code, self.message)
    }
}

impl From<SwapSubmitError> for ApiError {
    fn from(e: SwapSubmitError) -> ApiError {
        let message = e.to_string();
        let (status, code) = match &e {
            SwapSubmitError::Chain(c) if c.is_unsupported() => {
                (StatusCode::INTERNAL_SERVER_ERROR, "NodeUnsupported".to_owned())
            }
            SwapSubmitError::Audit(a) if a.is_misconfigured() => {
                (StatusCode::INTERNAL_SERVER_ERROR, "NodeUnsupported".to_owned())
            }
            SwapSubmitError::Invalid(_) => (StatusCode::BAD_REQUEST, "SwapInvalid".to_owned()),
            SwapSubmitError::WrongSecret { .. } => {
                (StatusCode::BAD_REQUEST, "SwapWrongSecret".to_owned())
            }
            SwapSubmitError::NoSecret { .. } => {
                (StatusCode::BAD_REQUEST, "SwapNoSecret".to_owned())
            }
            SwapSubmitError::BadLockSignature { .. } => {
                (StatusCode::BAD_REQUEST, "BadLockSignature".to_owned())
            }
            SwapSubmitError::LegNotServed { .. } => {
                (StatusCode::BAD_REQUEST, "LegNotServed".to_owned())
            }
            SwapSubmitError::UnknownSwap(_) => (StatusCode::NOT_FOUND, "SwapNotFound".to_owned()),
            SwapSubmitError::Refused(r) => (StatusCode::UNPROCESSABLE_ENTITY, r.name().to_owned()),
            SwapSubmitError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "StateDir".to_owned()),
            SwapSubmitError::TooManySecrets { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "TooManySecrets".to_owned())
            }
            SwapSubmitError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "Busy".to_owned()),
            _ => (StatusCode::SERVICE_UNAVAILABLE, "Unavailable".to_owned()),
        };
        ApiError { status, code, message }
    }
}

/// The request of a propose body; the message names the field as it sits in the body.
fn parse_request(r: &SwapRequestJson) -> Result<SwapRequest, ApiError> {
    r.to_request().map_err(|e| {
        let code = match e {
            SwapJsonError::Segment { .. } => "SwapBadPath",
            _ => "MalformedJson",
        };
        ApiError::bad(code, format!("request.{e}"))
    })
}

/// The body as JSON; an unreadable body (over the limit, broken off) is the same JSON error as
/// on the 2PC routes, not axum's plain-text rejection.
fn parse_json<T: serde::de::DeserializeOwned>(
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let body = body.map_err(|rejection| {
        let (status, code, message) = body_rejection(rejection);
        ApiError { status, code: code.to_owned(), message }
    })?;
    serde_json::from_slice(&body).map_err(|e| ApiError::bad("MalformedJson", e.to_string()))
}

fn parse_id(id: &str) -> Result<B256, ApiError> {
    id.parse().map_err(|_| ApiError::bad("BadSwapId", format!("{id:?} is not a 32-byte hex id")))
}

fn respond<T: Serialize>(ok: StatusCode, result: Result<T, ApiError>) -> Response {
    match result {
        Ok(v) => (ok, axum::Json(v)).into_response(),
        Err(e) => {
            tracing::debug!(code = %e.code, message = %e.message, "swap request refused");
            e.into_response()
        }
    }
}

async fn propose(
    State(handle): State<RelayerHandle>,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let body: ProposeBody = parse_json(body)?;
        let request = parse_request(&body.request)?;
        let proposed = handle
            .propose_swap(
                request,
                body.initiator_signature,
                body.lock_signature,
                body.secret.map(Secret::from_bytes),
            )
            .await?;
        Ok(SwapSubmitted { swap_id: proposed.swap_id, governance_tx_hash: proposed.tx_hash })
    }
    .await;
    respond(StatusCode::ACCEPTED, result)
}

async fn generate(State(handle): State<RelayerHandle>) -> Response {
    let result = handle
        .generate_swap_secret()
        .map(|hashlock| serde_json::json!({ "hashlock": hashlock }))
        .map_err(ApiError::from);
    respond(StatusCode::CREATED, result)
}

async fn accept(
    State(handle): State<RelayerHandle>,
    Path(swap_id): Path<String>,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let swap_id = parse_id(&swap_id)?;
        let body: AcceptBody = parse_json(body)?;
        let hash =
            handle.accept_swap(swap_id, body.counterparty_signature, body.lock_signature).await?;
        Ok(SwapSubmitted { swap_id, governance_tx_hash: hash })
    }
    .await;
    respond(StatusCode::ACCEPTED, result)
}

async fn status(State(handle): State<RelayerHandle>, Path(swap_id): Path<String>) -> Response {
    let result = async {
        let id = parse_id(&swap_id)?;
        match handle.swap_status(id).await {
            Ok(Some(s)) => Ok(SwapView::from(&s)),
            Ok(None) => Err(ApiError {
                status: StatusCode::NOT_FOUND,
                code: "SwapNotFound".into(),
                message: format!("no swap {id}"),
            }),
            Err(e) => Err(ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "Unavailable".into(),
                message: e.to_string(),
            }),
        }
    }
    .await;
    respond(StatusCode::OK, result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::U256;

    #[test]
    fn propose_body_parses_and_rejects_unknown_fields() {
        let leg = |zone: &str| {
            serde_json::json!({
                "zone": zone, "chain": "chainA", "resource": "asset",
                "sender": Address::repeat_byte(1), "recipient": Address::repeat_byte(2),
                "amount": "100", "timelock": 10
            })
        };
        let body = serde_json::json!({
            "request": {
                "swapId": B256::repeat_byte(1), "hashlock": B256::repeat_byte(2),
                "legA": leg("zoneA"), "legB": leg("zoneB"), "nonce": "7"
            },
            "initiatorSignature": "0x01", "lockSignature": "0x02"
        });
        let parsed: ProposeBody = parse_json(Ok(body.to_string().into())).expect("parses");
        assert!(parsed.secret.is_none());
        let request = parse_request(&parsed.request).expect("converts");
        assert_eq!(request.legA.amount, U256::from(100));
        let mut bad = body.clone();
        bad["extra"] = serde_json::json!(1);
        assert!(parse_json::<ProposeBody>(Ok(bad.to_string().into())).is_err());
        let mut bad_leg = parsed.request.clone();
        bad_leg.leg_a.zone = "no.dots".into();
        let err = parse_request(&bad_leg).expect_err("bad");
        assert_eq!(err.code, "SwapBadPath");
        assert!(err.message.starts_with("request.legA.zone \"no.dots\""), "{}", err.message);
        let mut bad_amount = parsed.request;
        bad_amount.leg_b.amount = "lots".into();
        let err = parse_request(&bad_amount).expect_err("bad");
        assert_eq!(
            (err.code.as_str(), err.message.as_str()),
            ("MalformedJson", "request.legB.amount \"lots\" is not a number")
        );
    }
}
