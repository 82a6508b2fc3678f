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
//!
//! The relayer runtime (watchers, 2PC / HTLC drivers) builds on these.

pub mod bindings;
pub mod errors;
pub mod ipath;
pub mod ops;
pub mod protocol;

pub use errors::{ContractRevert, decode_revert};
pub use ipath::{IPath, IPathError, Pattern, Segment, SegmentError};
pub use ops::Ops;
