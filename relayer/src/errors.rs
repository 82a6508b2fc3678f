//! Decoding reverts of the crossgov contracts into their named custom errors.
//!
//! [`ContractRevert`] is the typed form (match on the generated `…Errors` enums to assert a
//! variant and its fields); its `Display` is the readable form used by the CLI:
//! `PermNotChainOwner(0x70997970C51812dc3A010C7d01b50e0d17dc79C8, "zoneA", "chainA")`.
//!
//! Display rules: addresses are checksummed, integers decimal, enum values by name (the JSON ABI
//! keeps the enum name in `internalType`), a `bytes32` that is a valid iPath segment as the quoted
//! segment, other `bytes32` in hex, and `bytes` holding a revert (the `reason` of
//! `ProposalExecutionFailed`) decoded recursively.
//!
//! Revert data comes from the node's error response to `eth_call` or `eth_estimateGas` (which
//! alloy runs before sending), so a transaction refused by the contract fails at `send()` with a
//! decodable error. A transaction that is mined and fails (when the gas limit was set by hand)
//! has no revert data in its receipt: replay it with `eth_call` at its block to learn why.

use std::fmt;
use std::sync::OnceLock;

use alloy::dyn_abi::{DynSolValue, JsonAbiExt};
use alloy::json_abi::{InternalType, JsonAbi, Param};
use alloy::primitives::{B256, U256};
use alloy::sol_types::{Panic, Revert, SolError, SolInterface};

use crate::bindings::{
    ChainRegistry::ChainRegistryErrors, HtlcAsset::HtlcAssetErrors,
    InstitutionRegistry::InstitutionRegistryErrors, PermissionManager::PermissionManagerErrors,
    Supervision::SupervisionErrors, TransactionManager::TransactionManagerErrors,
    XaLedger::XaLedgerErrors, enum_value_name,
};
use crate::ipath::Segment;

/// A decoded revert of one of the crossgov contracts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContractRevert {
    /// A custom error declared by `IInstitutionRegistry`.
    InstitutionRegistry(InstitutionRegistryErrors),
    /// A custom error declared by `IChainRegistry`.
    ChainRegistry(ChainRegistryErrors),
    /// A custom error declared by `IPermissionManager`.
    PermissionManager(PermissionManagerErrors),
    /// A custom error declared by `ITransactionManager`.
    TransactionManager(TransactionManagerErrors),
    /// A custom error declared by `ISupervision`.
    Supervision(SupervisionErrors),
    /// A custom error declared by `IXaLedger` (business-chain resource).
    XaLedger(XaLedgerErrors),
    /// A custom error declared by `IHtlcAsset` (business-chain resource).
    HtlcAsset(HtlcAssetErrors),
    /// `Error(string)`: a `revert("…")` or `require(…, "…")`.
    Message(String),
    /// `Panic(uint256)`: a failed assertion, arithmetic overflow, …
    Panic(U256),
}

impl ContractRevert {
    /// Decodes revert data (selector + arguments). `None` when it is empty or no known error.
    pub fn decode(data: &[u8]) -> Option<Self> {
        // The custom errors' names are prefixed per contract, so selectors do not collide.
        if let Ok(e) = InstitutionRegistryErrors::abi_decode(data) {
            return Some(ContractRevert::InstitutionRegistry(e));
        }
        if let Ok(e) = ChainRegistryErrors::abi_decode(data) {
            return Some(ContractRevert::ChainRegistry(e));
        }
        if let Ok(e) = PermissionManagerErrors::abi_decode(data) {
            return Some(ContractRevert::PermissionManager(e));
        }
        if let Ok(e) = TransactionManagerErrors::abi_decode(data) {
            return Some(ContractRevert::TransactionManager(e));
        }
        if let Ok(e) = SupervisionErrors::abi_decode(data) {
            return Some(ContractRevert::Supervision(e));
        }
        if let Ok(e) = XaLedgerErrors::abi_decode(data) {
            return Some(ContractRevert::XaLedger(e));
        }
        if let Ok(e) = HtlcAssetErrors::abi_decode(data) {
            return Some(ContractRevert::HtlcAsset(e));
        }
        if let Ok(e) = Revert::abi_decode(data) {
            return Some(ContractRevert::Message(e.reason));
        }
        if let Ok(e) = Panic::abi_decode(data) {
            return Some(ContractRevert::Panic(e.code));
        }
        None
    }

    /// The revert carried by a failed contract call or transaction (as reported by the node on
    /// `eth_call` / `eth_estimateGas`), if it is one of ours.
    pub fn from_error(err: &alloy::contract::Error) -> Option<Self> {
        err.as_revert_data().and_then(|data| Self::decode(&data))
    }

    /// The error's Solidity name, e.g. `"InstNotAdmin"`.
    pub fn name(&self) -> &'static str {
        match self {
            ContractRevert::InstitutionRegistry(e) => {
                InstitutionRegistryErrors::name_by_selector(e.selector()).unwrap_or("?")
            }
            ContractRevert::ChainRegistry(e) => {
                ChainRegistryErrors::name_by_selector(e.selector()).unwrap_or("?")
            }
            ContractRevert::PermissionManager(e) => {
                PermissionManagerErrors::name_by_selector(e.selector()).unwrap_or("?")
            }
            ContractRevert::TransactionManager(e) => {
                TransactionManagerErrors::name_by_selector(e.selector()).unwrap_or("?")
            }
            ContractRevert::Supervision(e) => {
                SupervisionErrors::name_by_selector(e.selector()).unwrap_or("?")
            }
            ContractRevert::XaLedger(e) => {
                XaLedgerErrors::name_by_selector(e.selector()).unwrap_or("?")
            }
            ContractRevert::HtlcAsset(e) => {
                HtlcAssetErrors::name_by_selector(e.selector()).unwrap_or("?")
            }
            ContractRevert::Message(_) => "Error",
            ContractRevert::Panic(_) => "Panic",
        }
    }

    /// The ABI encoding (selector + arguments), as found in the revert data.
    pub fn abi_encode(&self) -> Vec<u8> {
        match self {
            ContractRevert::InstitutionRegistry(e) => e.abi_encode(),
            ContractRevert::ChainRegistry(e) => e.abi_encode(),
            ContractRevert::PermissionManager(e) => e.abi_encode(),
            ContractRevert::TransactionManager(e) => e.abi_encode(),
            ContractRevert::Supervision(e) => e.abi_encode(),
            ContractRevert::XaLedger(e) => e.abi_encode(),
            ContractRevert::HtlcAsset(e) => e.abi_encode(),
            ContractRevert::Message(reason) => Revert { reason: reason.clone() }.abi_encode(),
            ContractRevert::Panic(code) => Panic { code: *code }.abi_encode(),
        }
    }
}

impl fmt::Display for ContractRevert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContractRevert::Message(reason) => write!(f, "Error({reason:?})"),
            ContractRevert::Panic(code) => write!(f, "Panic({code:#x})"),
            _ => f.write_str(&format_custom_error(&self.abi_encode(), 0)),
        }
    }
}

/// Decodes the revert of a failed contract call into `Name(arg, …)`, e.g. `InstNotAdmin(0x…)`.
/// `None` when the error carries no revert data or the data is not one of our errors.
pub fn decode_revert(err: &alloy::contract::Error) -> Option<String> {
    ContractRevert::from_error(err).map(|revert| revert.to_string())
}

/// Nested reverts (`ProposalExecutionFailed(id, reason)`) are decoded at most this deep.
const MAX_DEPTH: usize = 4;

/// The part of an artifact we need here.
#[derive(serde::Deserialize)]
struct Artifact {
    abi: JsonAbi,
}

/// The ABIs of the contracts whose errors we render, parsed once from the committed artifacts.
fn abis() -> &'static [JsonAbi] {
    static ABIS: OnceLock<Vec<JsonAbi>> = OnceLock::new();
    ABIS.get_or_init(|| {
        [
            include_str!("../../contracts/artifacts/InstitutionRegistry.json"),
            include_str!("../../contracts/artifacts/ChainRegistry.json"),
            include_str!("../../contracts/artifacts/PermissionManager.json"),
            include_str!("../../contracts/artifacts/TransactionManager.json"),
            include_str!("../../contracts/artifacts/Supervision.json"),
            include_str!("../../contracts/artifacts/XaLedger.json"),
            include_str!("../../contracts/artifacts/HtlcAsset.json"),
        ]
        .iter()
        // The same JSON the bindings were compiled from, so it parses; were one not to, its errors
        // would still decode by type, only their display would fall back to hex.
        .filter_map(|json| serde_json::from_str::<Artifact>(json).ok())
        .map(|artifact| artifact.abi)
        .collect()
    })
}

/// `Name(args)` for revert data of one of our custom errors; hex when it is unknown.
fn format_custom_error(data: &[u8], depth: usize) -> String {
    let Some(selector) = data.get(..4) else {
        return alloy::primitives::hex::encode_prefixed(data);
    };
    let found = abis().iter().flat_map(|abi| abi.errors()).find(|e| e.selector() == selector);
    let Some(error) = found else {
        return alloy::primitives::hex::encode_prefixed(data);
    };
    match error.abi_decode_input(&data[4..]) {
        Ok(values) => {
            let args: Vec<String> = error
                .inputs
                .iter()
                .zip(&values)
                .map(|(param, value)| format_value(param, value, depth))
                .collect();
            format!("{}({})", error.name, args.join(", "))
        }
        Err(_) => format!(
            "{}(<undecodable {}>)",
            error.name,
            alloy::primitives::hex::encode_prefixed(data)
        ),
    }
}

fn format_value(param: &Param, value: &DynSolValue, depth: usize) -> String {
    if let (Some(InternalType::Enum { contract, ty }), DynSolValue::Uint(v, _)) =
        (&param.internal_type, value)
    {
        let qualified = match contract {
            Some(contract) => format!("{contract}.{ty}"),
            None => ty.clone(),
        };
        let name = u8::try_from(*v).ok().and_then(|v| enum_value_name(&qualified, v));
        if let Some(name) = name {
            return name.to_owned();
        }
    }
    format_plain(value, depth)
}

fn format_plain(value: &DynSolValue, depth: usize) -> String {
    match value {
        DynSolValue::Address(a) => a.to_string(),
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Uint(v, _) => v.to_string(),
        DynSolValue::Int(v, _) => v.to_string(),
        DynSolValue::FixedBytes(word, 32) => format_word(*word),
        DynSolValue::FixedBytes(word, size) => {
            alloy::primitives::hex::encode_prefixed(&word[..*size])
        }
        DynSolValue::Bytes(bytes) => format_bytes(bytes, depth),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => {
            let items: Vec<String> = items.iter().map(|v| format_plain(v, depth)).collect();
            format!("[{}]", items.join(", "))
        }
        DynSolValue::Tuple(items) => {
            let items: Vec<String> = items.iter().map(|v| format_plain(v, depth)).collect();
            format!("({})", items.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// A `bytes32` that is an iPath segment reads as the quoted segment, anything else as hex.
fn format_word(word: B256) -> String {
    match Segment::from_word(word) {
        Ok(segment) => format!("{:?}", segment.as_str()),
        Err(_) => word.to_string(),
    }
}

/// Bytes holding a nested revert are decoded; anything else is hex.
fn format_bytes(bytes: &[u8], depth: usize) -> String {
    if depth < MAX_DEPTH {
        match ContractRevert::decode(bytes) {
            Some(ContractRevert::Message(reason)) => return format!("Error({reason:?})"),
            Some(ContractRevert::Panic(code)) => return format!("Panic({code:#x})"),
            Some(_) => return format_custom_error(bytes, depth + 1),
            None => {}
        }
    }
    alloy::primitives::hex::encode_prefixed(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::{
        ChainRegistry, InstitutionRegistry, InstitutionStatus, PermissionManager,
    };
    use alloy::primitives::{Address, address};

    const ALICE: Address = address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");

    fn seg(s: &str) -> B256 {
        Segment::new(s).expect("segment").to_word()
    }

    #[test]
    fn decodes_each_contract_error_by_name() {
        let e = InstitutionRegistry::InstNotAdmin { caller: ALICE };
        let revert = ContractRevert::decode(&e.abi_encode()).expect("decodes");
        assert_eq!(
            revert,
            ContractRevert::InstitutionRegistry(InstitutionRegistryErrors::InstNotAdmin(e))
        );
        assert_eq!(revert.name(), "InstNotAdmin");
        assert_eq!(revert.to_string(), format!("InstNotAdmin({ALICE})"));

        let e = PermissionManager::PermNotChainOwner {
            caller: ALICE,
            zone: seg("zoneA"),
            chain: seg("chainA"),
        };
        let revert = ContractRevert::decode(&e.abi_encode()).expect("decodes");
        assert_eq!(revert.name(), "PermNotChainOwner");
        assert_eq!(
            revert.to_string(),
            format!("PermNotChainOwner({ALICE}, \"zoneA\", \"chainA\")")
        );

        let e = ChainRegistry::ChainIndexOutOfRange { index: U256::from(7), count: U256::from(2) };
        let revert = ContractRevert::decode(&e.abi_encode()).expect("decodes");
        assert_eq!(revert.to_string(), "ChainIndexOutOfRange(7, 2)");
    }

    #[test]
    fn renders_enums_hashes_and_nested_reverts() {
        let e = InstitutionRegistry::InstBadStatus {
            institutionId: 4,
            status: InstitutionStatus::Expelled.into(),
        };
        let revert = ContractRevert::decode(&e.abi_encode()).expect("decodes");
        assert_eq!(revert.to_string(), "InstBadStatus(4, Expelled)");

        let key = alloy::primitives::keccak256(b"x");
        let e = PermissionManager::PermNothingToRevoke { patternKey: key, ops: 8 };
        let revert = ContractRevert::decode(&e.abi_encode()).expect("decodes");
        assert_eq!(revert.to_string(), format!("PermNothingToRevoke({key}, 8)"));

        let inner = ChainRegistry::ChainBadSegment { position: 0, segment: B256::ZERO };
        let e = InstitutionRegistry::ProposalExecutionFailed {
            proposalId: U256::from(3),
            reason: inner.abi_encode().into(),
        };
        let revert = ContractRevert::decode(&e.abi_encode()).expect("decodes");
        assert_eq!(
            revert.to_string(),
            format!("ProposalExecutionFailed(3, ChainBadSegment(0, {}))", B256::ZERO)
        );
    }

    #[test]
    fn generic_and_unknown_reverts() {
        let data = Revert { reason: "nope".into() }.abi_encode();
        assert_eq!(ContractRevert::decode(&data), Some(ContractRevert::Message("nope".into())));
        assert_eq!(ContractRevert::Message("nope".into()).to_string(), "Error(\"nope\")");
        let data = Panic { code: U256::from(0x11) }.abi_encode();
        assert_eq!(
            ContractRevert::decode(&data).map(|r| r.to_string()),
            Some("Panic(0x11)".into())
        );
        assert_eq!(ContractRevert::decode(&[]), None);
        assert_eq!(ContractRevert::decode(&[1, 2, 3, 4]), None);
    }

    #[test]
    fn every_artifact_error_is_rendered_by_name() {
        // Each custom error of the ABIs is reachable through the typed enums and renders by name.
        let mut count = 0;
        for abi in abis() {
            for error in abi.errors() {
                let values: Vec<DynSolValue> = error
                    .inputs
                    .iter()
                    .map(|p| default_value(&p.ty.parse().expect("parameter type")))
                    .collect();
                let data = error.abi_encode_input(&values).expect("encode");
                let revert = ContractRevert::decode(&data)
                    .unwrap_or_else(|| panic!("{} does not decode", error.name));
                assert_eq!(revert.name(), error.name);
                assert!(revert.to_string().starts_with(&format!("{}(", error.name)));
                count += 1;
            }
        }
        assert!(count >= 120, "only {count} errors found in the artifacts");
    }

    #[test]
    fn every_abi_enum_has_a_named_mirror() {
        fn visit(params: &[Param], found: &mut Vec<String>) {
            for p in params {
                if let Some(InternalType::Enum { contract, ty }) = &p.internal_type {
                    found.push(match contract {
                        Some(contract) => format!("{contract}.{ty}"),
                        None => ty.clone(),
                    });
                }
                visit(&p.components, found);
            }
        }
        let mut found = Vec::new();
        for abi in abis() {
            for f in abi.functions() {
                visit(&f.inputs, &mut found);
                visit(&f.outputs, &mut found);
            }
            for e in abi.errors() {
                visit(&e.inputs, &mut found);
            }
            for e in abi.events() {
                let inputs: Vec<Param> = e
                    .inputs
                    .iter()
                    .map(|p| Param {
                        ty: p.ty.clone(),
                        name: p.name.clone(),
                        components: p.components.clone(),
                        internal_type: p.internal_type.clone(),
                    })
                    .collect();
                visit(&inputs, &mut found);
            }
        }
        for expected in [
            "IInstitutionRegistry.ProposalState",
            "ITransactionManager.TxState",
            "ITransactionManager.LegState",
            "IXaLedger.TxState",
            "IHtlcAsset.SwapState",
        ] {
            assert!(found.iter().any(|t| t == expected), "{expected} not in {found:?}");
        }
        for ty in found {
            assert!(enum_value_name(&ty, 0).is_some(), "enum {ty} has no mirror in bindings");
        }
    }

    #[test]
    fn error_selectors_are_unique_across_contracts() {
        let mut seen = std::collections::HashMap::new();
        for abi in abis() {
            for error in abi.errors() {
                if let Some(other) = seen.insert(error.selector(), error.signature()) {
                    assert_eq!(other, error.signature(), "selector clash");
                }
            }
        }
        // Each error is declared once per contract ABI (no duplicates across interfaces).
        let names: Vec<String> =
            abis().iter().flat_map(|abi| abi.errors()).map(|e| e.signature()).collect();
        assert_eq!(names.len(), seen.len(), "an error is declared by two contracts");
    }

    #[test]
    fn decodes_transaction_manager_and_resource_errors() {
        use crate::bindings::{
            HtlcAsset, HtlcLockState, Supervision, TransactionManager, TxState, XaLedger,
        };
        let tx_id = B256::repeat_byte(0xab);
        let e = TransactionManager::TxNotPreparing { txId: tx_id, state: TxState::Aborting.into() };
        let revert = ContractRevert::decode(&e.abi_encode()).expect("decodes");
        assert_eq!(
            revert,
            ContractRevert::TransactionManager(TransactionManagerErrors::TxNotPreparing(e))
        );
        assert_eq!(revert.to_string(), format!("TxNotPreparing({tx_id}, Aborting)"));

        let e = XaLedger::XaInsufficientBalance {
            account: ALICE,
            balance: U256::from(5),
            amount: U256::from(7),
        };
        let revert = ContractRevert::decode(&e.abi_encode()).expect("decodes");
        assert_eq!(revert.name(), "XaInsufficientBalance");
        assert_eq!(revert.to_string(), format!("XaInsufficientBalance({ALICE}, 5, 7)"));

        let e = HtlcAsset::HtlcNotLocked { lockId: tx_id, state: HtlcLockState::Refunded.into() };
        let revert = ContractRevert::decode(&e.abi_encode()).expect("decodes");
        assert_eq!(revert.to_string(), format!("HtlcNotLocked({tx_id}, Refunded)"));

        let e = TransactionManager::SwapLegState {
            swapId: tx_id,
            leg: 1,
            state: crate::bindings::LegState::Void.into(),
        };
        let revert = ContractRevert::decode(&e.abi_encode()).expect("decodes");
        assert_eq!(revert.to_string(), format!("SwapLegState({tx_id}, 1, Void)"));

        let revert =
            ContractRevert::decode(&Supervision::SupNoRegulators {}.abi_encode()).expect("decodes");
        assert_eq!(revert.to_string(), "SupNoRegulators()");
    }

    fn default_value(ty: &alloy::dyn_abi::DynSolType) -> DynSolValue {
        use alloy::dyn_abi::DynSolType as T;
        match ty {
            T::Address => DynSolValue::Address(Address::ZERO),
            T::Bool => DynSolValue::Bool(false),
            T::Uint(bits) => DynSolValue::Uint(U256::ZERO, *bits),
            T::Int(bits) => DynSolValue::Int(alloy::primitives::I256::ZERO, *bits),
            T::FixedBytes(size) => DynSolValue::FixedBytes(B256::ZERO, *size),
            T::Bytes => DynSolValue::Bytes(Vec::new()),
            T::String => DynSolValue::String(String::new()),
            other => panic!("no default for {other}"),
        }
    }
}
