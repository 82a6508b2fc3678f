//! crossgov relayer library.
//!
//! - [`bindings`]: `sol!` bindings of the governance contracts and business-chain resources,
//!   generated from the committed artifacts in `contracts/artifacts` (deploy, calls, events,
//!   custom errors), and typed mirrors of their Solidity enums.
//! - [`ipath`]: resource paths `zone.chain.resource` and permission patterns, validated exactly
//!   like the contracts' `IPath` library.
//! - [`ops`]: the ResourceOps interface bits (`get_data` … `htlc`).
//! - [`errors`]: decoding a contract revert into its named custom error.
//! - [`protocol`]: the 2PC and HTLC messages users sign (`TxRequest`, `SwapRequest`, `Lock`), the
//!   swap secret and the XaLedger op encoding, named as in Solidity.
//! - [`config`]: the relayer's TOML configuration, validated all at once.
//! - [`keys`]: loading the relayer's key from a keystore or an environment variable.
//! - [`metrics`]: Prometheus metrics.
//! - [`api`]: the HTTP API (submit, status, health, metrics).
//! - [`chain`]: one EVM chain: reads with bounded retries, a [`chain::TxSender`] that owns the
//!   nonce (pre-flight `eth_call`, fee bumps, confirmations) and the backoff schedule.
//! - [`resource`]: the 2PC resource interface ([`resource::TwoPhaseResource`]) and its XaLedger
//!   implementation.
//! - [`two_phase`]: the 2PC engine: derives and performs the next actions from on-chain state.
//! - [`htlc`]: the HTLC engine: derives and performs the next leg actions from on-chain state,
//!   and keeps unrevealed secrets and Lock signatures in the state directory.
//! - [`audit`]: supervision: encrypted audit records (envelope, writer, trail, regulator).
//! - [`runtime`]: the running relayer ([`runtime::Relayer`], [`runtime::RelayerHandle`]).

pub mod api;
pub mod audit;
pub mod bindings;
pub mod chain;
pub mod config;
pub mod errors;
pub mod health;
pub mod htlc;
pub mod ipath;
pub mod keys;
pub mod metrics;
pub mod ops;
pub mod protocol;
pub mod resource;
pub mod runtime;
pub mod two_phase;

pub use errors::{ContractRevert, decode_revert};
pub use ipath::{IPath, IPathError, Pattern, Segment, SegmentError};
pub use ops::Ops;
