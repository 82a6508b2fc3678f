//! The op of an XaLedger 2PC step: `abi.encode(uint8 kind, address account, uint256 amount)`,
//! exactly 96 bytes (three big-endian words, no selector), validated like `XaLedger._decodeOp`:
//! kind 1 (DEBIT) or 2 (CREDIT), a non-zero address whose word has its high 96 bits clear, a
//! non-zero amount. Only this canonical form decodes, so two ops are equal iff their bytes are.

use std::fmt;

use alloy::primitives::{Address, Bytes, U256};

/// Length of an encoded op.
pub const XA_OP_LEN: usize = 96;

/// What an op does on its ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum XaOpKind {
    /// Takes `amount` from `account` (escrowed at prepare, burnt at commit).
    Debit = 1,
    /// Gives `amount` to `account` (minted at commit).
    Credit = 2,
}

impl XaOpKind {
    /// The kind word's value (`OP_DEBIT` / `OP_CREDIT`).
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The kind with code `code`, if it is one.
    pub const fn from_code(code: u8) -> Option<XaOpKind> {
        match code {
            1 => Some(XaOpKind::Debit),
            2 => Some(XaOpKind::Credit),
            _ => None,
        }
    }
}

impl fmt::Display for XaOpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            XaOpKind::Debit => "DEBIT",
            XaOpKind::Credit => "CREDIT",
        })
    }
}

/// One XaLedger op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct XaOp {
    /// Debit or credit.
    pub kind: XaOpKind,
    /// The account debited or credited.
    pub account: Address,
    /// How many units.
    pub amount: U256,
}

/// Bytes that are not a canonical XaLedger op; each variant is the contract's error of the same
/// name (`XaBadOpLength`, `XaBadOpKind`, `XaBadOpAccount`, `XaZeroAmount`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XaOpError {
    /// Not exactly 96 bytes.
    #[error("an XaLedger op is exactly {XA_OP_LEN} bytes, not {len}")]
    BadLength {
        /// The length found.
        len: usize,
    },
    /// The kind word is neither 1 (DEBIT) nor 2 (CREDIT).
    #[error("op kind {word} is neither 1 (DEBIT) nor 2 (CREDIT)")]
    BadKind {
        /// The kind word.
        word: U256,
    },
    /// The account word is zero, wider than an address, or the ledger itself.
    #[error("op account word {word:#x} is not a usable account")]
    BadAccount {
        /// The account word.
        word: U256,
    },
    /// The amount is zero.
    #[error("op amount is zero")]
    ZeroAmount,
}

impl XaOp {
    /// A debit of `amount` from `account`.
    pub const fn debit(account: Address, amount: U256) -> XaOp {
        XaOp { kind: XaOpKind::Debit, account, amount }
    }

    /// A credit of `amount` to `account`.
    pub const fn credit(account: Address, amount: U256) -> XaOp {
        XaOp { kind: XaOpKind::Credit, account, amount }
    }

    /// The 96-byte encoding. It does not check the op: [`XaOp::validate`] does, and the ledger
    /// refuses a zero account or amount on prepare.
    pub fn encode(&self) -> Bytes {
        let mut out = [0u8; XA_OP_LEN];
        out[31] = self.kind.code();
        out[44..64].copy_from_slice(self.account.as_slice());
        out[64..].copy_from_slice(&self.amount.to_be_bytes::<32>());
        Bytes::copy_from_slice(&out)
    }

    /// Decodes and validates an op as the ledger does (except the check against the ledger's own
    /// address: see [`XaOp::validate_for`]).
    pub fn decode(bytes: &[u8]) -> Result<XaOp, XaOpError> {
        let bytes: &[u8; XA_OP_LEN] =
            bytes.try_into().map_err(|_| XaOpError::BadLength { len: bytes.len() })?;
        let word = |i: usize| U256::from_be_slice(&bytes[32 * i..32 * (i + 1)]);
        let (kind_word, account_word, amount) = (word(0), word(1), word(2));
        let kind = u8::try_from(kind_word)
            .ok()
            .and_then(XaOpKind::from_code)
            .ok_or(XaOpError::BadKind { word: kind_word })?;
        if account_word.is_zero() || account_word.bit_len() > 160 {
            return Err(XaOpError::BadAccount { word: account_word });
        }
        let account = Address::from_slice(&bytes[44..64]);
        let op = XaOp { kind, account, amount };
        op.validate()?;
        Ok(op)
    }

    /// The checks the ledger makes on any op: a non-zero account and amount.
    pub fn validate(&self) -> Result<(), XaOpError> {
        if self.account.is_zero() {
            return Err(XaOpError::BadAccount { word: U256::ZERO });
        }
        if self.amount.is_zero() {
            return Err(XaOpError::ZeroAmount);
        }
        Ok(())
    }

    /// [`XaOp::validate`] plus the ledger's own check: the account is not the ledger at
    /// `ledger` (its address holds the escrow).
    pub fn validate_for(&self, ledger: Address) -> Result<(), XaOpError> {
        self.validate()?;
        if self.account == ledger {
            return Err(XaOpError::BadAccount { word: U256::from_be_slice(ledger.as_slice()) });
        }
        Ok(())
    }
}

impl fmt::Display for XaOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.kind, self.account, self.amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::hex;
    use alloy::sol_types::SolValue;

    fn vectors() -> serde_json::Value {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/resource_vectors.json"
        ))
        .expect("read fixtures/resource_vectors.json");
        serde_json::from_str(&text).expect("parse vectors")
    }

    #[test]
    fn encoding_matches_the_shared_vector() {
        let v = &vectors()["xaOp"];
        let kind = XaOpKind::from_code(v["kind"].as_u64().expect("kind") as u8).expect("kind");
        let account: Address = v["account"].as_str().expect("account").parse().expect("address");
        let amount: U256 = v["amount"].as_str().expect("amount").parse().expect("amount");
        let expected = hex::decode(v["op"].as_str().expect("op")).expect("hex");
        let op = XaOp { kind, account, amount };
        assert_eq!(op.encode().as_ref(), expected.as_slice());
        assert_eq!(XaOp::decode(&expected), Ok(op));
        // The same as Solidity's abi.encode(uint8, address, uint256).
        assert_eq!((U256::from(kind.code()), account, amount).abi_encode(), expected);
    }

    #[test]
    fn round_trips_both_kinds() {
        let account = Address::repeat_byte(0xee);
        for op in [XaOp::debit(account, U256::MAX), XaOp::credit(account, U256::from(1))] {
            let bytes = op.encode();
            assert_eq!(bytes.len(), XA_OP_LEN);
            assert_eq!(XaOp::decode(&bytes), Ok(op));
        }
        assert_eq!(XaOp::debit(account, U256::from(5)).to_string(), format!("DEBIT {account} 5"));
    }

    #[test]
    fn malformed_ops_get_typed_errors() {
        let good = XaOp::debit(Address::repeat_byte(1), U256::from(10)).encode().to_vec();
        assert_eq!(XaOp::decode(&good[..95]), Err(XaOpError::BadLength { len: 95 }));
        assert_eq!(
            XaOp::decode(&[good.clone(), vec![0]].concat()),
            Err(XaOpError::BadLength { len: 97 })
        );

        let mut bad = good.clone();
        bad[31] = 3;
        assert_eq!(XaOp::decode(&bad), Err(XaOpError::BadKind { word: U256::from(3) }));
        let mut bad = good.clone();
        bad[0] = 1; // high byte of the kind word: 2^248 + 1
        assert!(matches!(XaOp::decode(&bad), Err(XaOpError::BadKind { .. })));

        let mut bad = good.clone();
        bad[32..64].fill(0);
        assert_eq!(XaOp::decode(&bad), Err(XaOpError::BadAccount { word: U256::ZERO }));
        let mut bad = good.clone();
        bad[43] = 1; // dirty high bits above the 160-bit address
        assert!(matches!(XaOp::decode(&bad), Err(XaOpError::BadAccount { .. })));

        let mut bad = good.clone();
        bad[64..].fill(0);
        assert_eq!(XaOp::decode(&bad), Err(XaOpError::ZeroAmount));

        let ledger = Address::repeat_byte(1);
        let op = XaOp::decode(&good).expect("good");
        assert!(matches!(op.validate_for(ledger), Err(XaOpError::BadAccount { .. })));
        assert_eq!(op.validate_for(Address::repeat_byte(2)), Ok(()));
    }

    #[test]
    fn op_codes_match_the_ledger_source() {
        let source = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../contracts/src/resources/XaLedger.sol"
        ))
        .expect("read XaLedger.sol");
        for line in [
            format!("uint8 internal constant OP_DEBIT = {};", XaOpKind::Debit.code()),
            format!("uint8 internal constant OP_CREDIT = {};", XaOpKind::Credit.code()),
            format!("uint256 internal constant OP_LENGTH = {XA_OP_LEN};"),
        ] {
            assert!(source.contains(&line), "XaLedger.sol lacks `{line}`");
        }
    }
}
