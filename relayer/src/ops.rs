//! Interface bits of the unified resource interface, as granted by the PermissionManager
//! (`contracts/src/libraries/ResourceOps.sol`).
//!
//! Text form: lower-case names joined by `,` (`send_tx,two_phase`); parsing also accepts `|` and
//! `+` as separators, any case, and `none` / `all`.

use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign, Not};
use std::str::FromStr;

/// A set of ResourceOps bits. Only defined bits can be held (see [`Ops::from_bits`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Ops(u8);

/// Name and bit of every defined op, in bit order.
const NAMES: [(&str, Ops); 7] = [
    ("get_data", Ops::GET_DATA),
    ("set_data", Ops::SET_DATA),
    ("call", Ops::CALL),
    ("send_tx", Ops::SEND_TX),
    ("event", Ops::EVENT),
    ("two_phase", Ops::TWO_PHASE),
    ("htlc", Ops::HTLC),
];

impl Ops {
    /// Read resource data.
    pub const GET_DATA: Ops = Ops(1 << 0);
    /// Write resource data.
    pub const SET_DATA: Ops = Ops(1 << 1);
    /// Call a resource (read-only contract call).
    pub const CALL: Ops = Ops(1 << 2);
    /// Send a transaction to a resource.
    pub const SEND_TX: Ops = Ops(1 << 3);
    /// Subscribe to resource events.
    pub const EVENT: Ops = Ops(1 << 4);
    /// Take part in a two-phase-commit transaction.
    pub const TWO_PHASE: Ops = Ops(1 << 5);
    /// Take part in an HTLC swap.
    pub const HTLC: Ops = Ops(1 << 6);
    /// Every defined bit (`ResourceOps.ALL`).
    pub const ALL: Ops = Ops((1 << 7) - 1);
    /// No bit.
    pub const NONE: Ops = Ops(0);

    /// The set from raw bits; `None` when an undefined bit is set.
    pub const fn from_bits(bits: u8) -> Option<Ops> {
        if bits & !Ops::ALL.0 == 0 { Some(Ops(bits)) } else { None }
    }

    /// The set from raw bits, dropping undefined bits.
    pub const fn from_bits_truncate(bits: u8) -> Ops {
        Ops(bits & Ops::ALL.0)
    }

    /// The raw bits, as passed to the contracts (`uint8`).
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// True when no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when exactly one bit is set (`ResourceOps.isSingle`): what `check` accepts.
    pub const fn is_single(self) -> bool {
        self.0 != 0 && self.0 & (self.0 - 1) == 0
    }

    /// True when every bit of `other` is in `self`.
    pub const fn contains(self, other: Ops) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when `self` and `other` share a bit.
    pub const fn intersects(self, other: Ops) -> bool {
        self.0 & other.0 != 0
    }

    /// The single-bit sets in `self`, lowest first.
    pub fn iter(self) -> impl Iterator<Item = Ops> {
        NAMES.iter().map(|&(_, op)| op).filter(move |&op| self.contains(op))
    }

    /// The name of a single-bit set (`"send_tx"`), or `None` for an empty or multi-bit set.
    pub fn name(self) -> Option<&'static str> {
        NAMES.iter().find(|&&(_, op)| op == self).map(|&(name, _)| name)
    }
}

impl fmt::Debug for Ops {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ops({self})")
    }
}

impl fmt::Display for Ops {
    /// `none`, or the names of the set bits joined by `,` (`send_tx,two_phase`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        for (i, (name, _)) in NAMES.iter().filter(|&&(_, op)| self.contains(op)).enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

/// A string that is not a set of op names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpsError {
    /// A name that is not one of the ops.
    #[error(
        "unknown op {name:?}; expected get_data, set_data, call, send_tx, event, two_phase, htlc, all or none"
    )]
    Unknown {
        /// The name as written.
        name: String,
    },
    /// Nothing between two separators, or an empty string.
    #[error("empty op name in {input:?}")]
    Empty {
        /// The input.
        input: String,
    },
}

impl FromStr for Ops {
    type Err = OpsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut ops = Ops::NONE;
        for part in s.split([',', '|', '+']) {
            let name = part.trim();
            if name.is_empty() {
                return Err(OpsError::Empty { input: s.to_owned() });
            }
            let lower = name.to_ascii_lowercase();
            ops |= match lower.as_str() {
                "all" => Ops::ALL,
                "none" => Ops::NONE,
                _ => NAMES
                    .iter()
                    .find(|&&(n, _)| n == lower)
                    .map(|&(_, op)| op)
                    .ok_or_else(|| OpsError::Unknown { name: name.to_owned() })?,
            };
        }
        Ok(ops)
    }
}

impl BitOr for Ops {
    type Output = Ops;
    fn bitor(self, rhs: Ops) -> Ops {
        Ops(self.0 | rhs.0)
    }
}

impl BitOrAssign for Ops {
    fn bitor_assign(&mut self, rhs: Ops) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for Ops {
    type Output = Ops;
    fn bitand(self, rhs: Ops) -> Ops {
        Ops(self.0 & rhs.0)
    }
}

impl Not for Ops {
    type Output = Ops;
    /// The complement within the defined bits.
    fn not(self) -> Ops {
        Ops(!self.0 & Ops::ALL.0)
    }
}

impl From<Ops> for u8 {
    fn from(ops: Ops) -> u8 {
        ops.0
    }
}

impl TryFrom<u8> for Ops {
    type Error = u8;
    /// Fails (returning the bits) when an undefined bit is set.
    fn try_from(bits: u8) -> Result<Self, u8> {
        Ops::from_bits(bits).ok_or(bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_match_resource_ops_sol() {
        let expected = [1u8, 2, 4, 8, 16, 32, 64];
        let got: Vec<u8> = NAMES.iter().map(|(_, op)| op.bits()).collect();
        assert_eq!(got, expected);
        assert_eq!(Ops::ALL.bits(), 127);
        assert_eq!(Ops::from_bits(128), None);
        assert_eq!(Ops::from_bits_truncate(0xff), Ops::ALL);
        // The source of truth agrees (cheap text check of ResourceOps.sol).
        let sol = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../contracts/src/libraries/ResourceOps.sol"
        ))
        .expect("read ResourceOps.sol");
        for (i, (name, _)) in NAMES.iter().enumerate() {
            let line = format!("uint8 internal constant {} = 1 << {i};", name.to_ascii_uppercase());
            assert!(sol.contains(&line), "ResourceOps.sol lacks `{line}`");
        }
    }

    #[test]
    fn display_and_parse() {
        let ops = Ops::SEND_TX | Ops::TWO_PHASE;
        assert_eq!(ops.to_string(), "send_tx,two_phase");
        assert_eq!("send_tx,two_phase".parse(), Ok(ops));
        assert_eq!("TWO_PHASE | send_tx".parse(), Ok(ops));
        assert_eq!("send_tx+two_phase".parse(), Ok(ops));
        assert_eq!("all".parse(), Ok(Ops::ALL));
        assert_eq!(Ops::NONE.to_string(), "none");
        assert_eq!("none".parse(), Ok(Ops::NONE));
        assert_eq!(Ops::ALL.to_string().parse(), Ok(Ops::ALL));
        assert_eq!("sendtx".parse::<Ops>(), Err(OpsError::Unknown { name: "sendtx".into() }));
        assert_eq!("call,".parse::<Ops>(), Err(OpsError::Empty { input: "call,".into() }));
        assert_eq!("".parse::<Ops>(), Err(OpsError::Empty { input: String::new() }));
        assert_eq!(format!("{:?}", Ops::HTLC), "Ops(htlc)");
    }

    #[test]
    fn set_operations() {
        let ops = Ops::GET_DATA | Ops::CALL;
        assert!(ops.contains(Ops::CALL));
        assert!(!ops.contains(Ops::CALL | Ops::HTLC));
        assert!(ops.intersects(Ops::CALL | Ops::HTLC));
        assert!(!ops.is_single());
        assert!(Ops::EVENT.is_single());
        assert!(!Ops::NONE.is_single());
        assert_eq!(ops.iter().collect::<Vec<_>>(), [Ops::GET_DATA, Ops::CALL]);
        assert_eq!(Ops::TWO_PHASE.name(), Some("two_phase"));
        assert_eq!(ops.name(), None);
        assert_eq!((!ops).bits(), 127 - 5);
        assert_eq!(ops & Ops::CALL, Ops::CALL);
        assert_eq!(Ops::try_from(0x80), Err(0x80));
    }
}
