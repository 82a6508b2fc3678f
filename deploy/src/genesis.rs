//! The consortium's genesis configuration: the founding institutions and the voting rules the
//! InstitutionRegistry is deployed with. See `deploy/consortium.example.toml`.

use std::collections::HashSet;
use std::path::Path;

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};

use crossgov_relayer::bindings::institution_registry::IInstitutionRegistry::Founder;

/// Default approval threshold: a proposal passes with at least 2/3 of its electorate.
pub const DEFAULT_THRESHOLD: Threshold = Threshold { numerator: 2, denominator: 3 };
/// Default voting period: 3 days. A passed proposal stays executable for as long again.
pub const DEFAULT_VOTING_PERIOD_SECS: u64 = 3 * 24 * 60 * 60;

/// `InstitutionRegistry.MAX_FOUNDERS`.
pub const MAX_FOUNDERS: usize = 32;
/// `InstitutionRegistry.MAX_NAME_LENGTH` (bytes).
pub const MAX_NAME_LENGTH: usize = 64;
/// `InstitutionRegistry.MIN_VOTING_PERIOD` (1 minute).
pub const MIN_VOTING_PERIOD_SECS: u64 = 60;
/// `InstitutionRegistry.MAX_VOTING_PERIOD` (365 days).
pub const MAX_VOTING_PERIOD_SECS: u64 = 365 * 24 * 60 * 60;
/// `InstitutionRegistry.MAX_THRESHOLD_DENOMINATOR`.
pub const MAX_THRESHOLD_DENOMINATOR: u16 = 1000;

/// Genesis of a consortium (TOML; unknown keys are rejected).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// The founding institutions, in id order (the first gets id 1).
    pub institutions: Vec<FoundingInstitution>,
    /// A proposal passes with at least `numerator / denominator` of its electorate approving.
    #[serde(default = "default_threshold")]
    pub threshold: Threshold,
    /// How long a proposal is open for votes, in seconds.
    #[serde(default = "default_voting_period_secs")]
    pub voting_period_secs: u64,
}

/// A founding institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FoundingInstitution {
    /// Display name, 1-64 bytes.
    pub name: String,
    /// Hash of the institution's certificate (32 bytes hex); zero when not given.
    #[serde(default)]
    pub cert_hash: B256,
    /// The institution's first admin account.
    pub admin: Address,
}

/// The approval threshold as a fraction of the electorate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// Numerator.
    pub numerator: u16,
    /// Denominator, at most 1000.
    pub denominator: u16,
}

impl Default for Threshold {
    fn default() -> Self {
        DEFAULT_THRESHOLD
    }
}

impl Threshold {
    /// Approvals a proposal needs with `electorate` voters: `ceil(electorate * n / d)` (the
    /// electorate of a suspend or expel proposal leaves out its target).
    pub fn required(self, electorate: u16) -> u16 {
        let d = u32::from(self.denominator.max(1));
        let required = (u32::from(electorate) * u32::from(self.numerator)).div_ceil(d);
        u16::try_from(required).unwrap_or(u16::MAX)
    }
}

fn default_threshold() -> Threshold {
    DEFAULT_THRESHOLD
}

fn default_voting_period_secs() -> u64 {
    DEFAULT_VOTING_PERIOD_SECS
}

/// A genesis file that cannot be read, parsed, or deployed as is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenesisError {
    /// The file could not be read.
    #[error("cannot read genesis file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not valid TOML, or not the expected keys and types.
    #[error("invalid genesis TOML: {0}")]
    Parse(#[from] toml::de::Error),
    /// No founders, or more than [`MAX_FOUNDERS`].
    #[error("genesis lists {count} institutions; it needs 1 to {MAX_FOUNDERS}")]
    FounderCount {
        /// How many were listed.
        count: usize,
    },
    /// A founder's name is empty or longer than [`MAX_NAME_LENGTH`] bytes.
    #[error(
        "institution #{index} name {name:?} is {len} bytes; names are 1 to {MAX_NAME_LENGTH} bytes"
    )]
    BadName {
        /// 1-based position in the list.
        index: usize,
        /// The name.
        name: String,
        /// Its length in bytes.
        len: usize,
    },
    /// A founder's admin is the zero address.
    #[error("institution #{index} ({name}) has the zero address as admin")]
    ZeroAdmin {
        /// 1-based position in the list.
        index: usize,
        /// The name.
        name: String,
    },
    /// Two founders share an admin account (an account belongs to one institution).
    #[error("institution #{index} ({name}) reuses admin {admin}, already admin of an earlier one")]
    DuplicateAdmin {
        /// 1-based position in the list.
        index: usize,
        /// The name.
        name: String,
        /// The shared admin.
        admin: Address,
    },
    /// Threshold outside `1/2 < n/d <= 1`, or a denominator of 0 or above 1000.
    #[error(
        "threshold {numerator}/{denominator} is invalid; it must satisfy 1/2 < n/d <= 1 with 1 <= d <= {MAX_THRESHOLD_DENOMINATOR}"
    )]
    BadThreshold {
        /// Numerator.
        numerator: u16,
        /// Denominator.
        denominator: u16,
    },
    /// Voting period outside 1 minute to 365 days.
    #[error(
        "voting_period_secs = {secs} is out of range; it must be {MIN_VOTING_PERIOD_SECS} to {MAX_VOTING_PERIOD_SECS}"
    )]
    BadVotingPeriod {
        /// The period in seconds.
        secs: u64,
    },
}

impl Genesis {
    /// Parses and validates a genesis TOML document.
    pub fn from_toml_str(text: &str) -> Result<Self, GenesisError> {
        let genesis: Genesis = toml::from_str(text)?;
        genesis.validate()?;
        Ok(genesis)
    }

    /// Reads, parses and validates a genesis TOML file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, GenesisError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|source| GenesisError::Read { path: path.display().to_string(), source })?;
        Self::from_toml_str(&text)
    }

    /// Checks what the InstitutionRegistry constructor checks, so a bad genesis fails before any
    /// transaction is sent.
    pub fn validate(&self) -> Result<(), GenesisError> {
        let count = self.institutions.len();
        if count == 0 || count > MAX_FOUNDERS {
            return Err(GenesisError::FounderCount { count });
        }
        let Threshold { numerator, denominator } = self.threshold;
        // More than half, so two disjoint coalitions never both pass; at most unanimity.
        if denominator == 0
            || denominator > MAX_THRESHOLD_DENOMINATOR
            || numerator > denominator
            || u32::from(numerator) * 2 <= u32::from(denominator)
        {
            return Err(GenesisError::BadThreshold { numerator, denominator });
        }
        if !(MIN_VOTING_PERIOD_SECS..=MAX_VOTING_PERIOD_SECS).contains(&self.voting_period_secs) {
            return Err(GenesisError::BadVotingPeriod { secs: self.voting_period_secs });
        }
        let mut admins = HashSet::new();
        for (i, inst) in self.institutions.iter().enumerate() {
            let index = i + 1;
            let len = inst.name.len();
            if len == 0 || len > MAX_NAME_LENGTH {
                return Err(GenesisError::BadName { index, name: inst.name.clone(), len });
            }
            if inst.admin == Address::ZERO {
                return Err(GenesisError::ZeroAdmin { index, name: inst.name.clone() });
            }
            if !admins.insert(inst.admin) {
                return Err(GenesisError::DuplicateAdmin {
                    index,
                    name: inst.name.clone(),
                    admin: inst.admin,
                });
            }
        }
        Ok(())
    }

    /// The founders as the InstitutionRegistry constructor takes them.
    pub fn founders(&self) -> Vec<Founder> {
        self.institutions
            .iter()
            .map(|inst| Founder {
                name: inst.name.clone(),
                certHash: inst.cert_hash,
                admin: inst.admin,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::address;

    const EXAMPLE: &str = include_str!("../consortium.example.toml");

    #[test]
    fn example_file_parses() {
        let genesis = Genesis::from_toml_str(EXAMPLE).expect("consortium.example.toml is valid");
        assert_eq!(genesis.institutions.len(), 3);
        assert_eq!(genesis.institutions[0].name, "Bank A");
        assert_eq!(
            genesis.institutions[0].admin,
            address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
        );
        assert_ne!(genesis.institutions[0].cert_hash, B256::ZERO);
        assert_eq!(genesis.institutions[2].cert_hash, B256::ZERO, "cert_hash defaults to zero");
        assert_eq!(genesis.threshold, DEFAULT_THRESHOLD);
        assert_eq!(genesis.voting_period_secs, DEFAULT_VOTING_PERIOD_SECS);
        assert_eq!(genesis.founders().len(), 3);
    }

    #[test]
    fn defaults_apply() {
        let genesis = Genesis::from_toml_str(
            r#"
            [[institutions]]
            name = "Solo"
            admin = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
            "#,
        )
        .expect("minimal genesis");
        assert_eq!(genesis.threshold, Threshold { numerator: 2, denominator: 3 });
        assert_eq!(genesis.voting_period_secs, 259_200);
        assert_eq!(genesis.institutions[0].cert_hash, B256::ZERO);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = Genesis::from_toml_str(
            r#"
            voting_period = 60
            [[institutions]]
            name = "Solo"
            admin = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
            "#,
        )
        .expect_err("typo must be rejected");
        assert!(err.to_string().contains("voting_period"), "{err}");
        let err = Genesis::from_toml_str(
            r#"
            [[institutions]]
            name = "Solo"
            admin = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
            cert = "0x00"
            "#,
        )
        .expect_err("unknown institution key");
        assert!(err.to_string().contains("cert"), "{err}");
    }

    #[test]
    fn validation_matches_the_constructor() {
        let base = Genesis::from_toml_str(EXAMPLE).expect("example");
        let with = |f: &dyn Fn(&mut Genesis)| {
            let mut g = base.clone();
            f(&mut g);
            g.validate()
        };
        assert!(matches!(
            with(&|g| g.institutions.clear()),
            Err(GenesisError::FounderCount { count: 0 })
        ));
        assert!(matches!(
            with(&|g| g.threshold = Threshold { numerator: 1, denominator: 3 }),
            Err(GenesisError::BadThreshold { .. })
        ));
        assert!(matches!(
            with(&|g| g.threshold = Threshold { numerator: 4, denominator: 3 }),
            Err(GenesisError::BadThreshold { .. })
        ));
        assert!(matches!(
            with(&|g| g.threshold = Threshold { numerator: 1, denominator: 2 }),
            Err(GenesisError::BadThreshold { .. })
        ));
        assert!(with(&|g| g.threshold = Threshold { numerator: 3, denominator: 3 }).is_ok());
        assert!(with(&|g| g.threshold = Threshold { numerator: 51, denominator: 100 }).is_ok());
        assert!(matches!(
            with(&|g| g.voting_period_secs = 59),
            Err(GenesisError::BadVotingPeriod { secs: 59 })
        ));
        assert!(matches!(
            with(&|g| g.institutions[1].name = "x".repeat(65)),
            Err(GenesisError::BadName { index: 2, len: 65, .. })
        ));
        assert!(matches!(
            with(&|g| g.institutions[2].admin = Address::ZERO),
            Err(GenesisError::ZeroAdmin { index: 3, .. })
        ));
        assert!(matches!(
            with(&|g| g.institutions[2].admin = g.institutions[0].admin),
            Err(GenesisError::DuplicateAdmin { index: 3, .. })
        ));
    }

    #[test]
    fn required_approvals() {
        // The table in docs/security.md: at least 2/3 of councils of 1 to 10.
        let t = DEFAULT_THRESHOLD;
        let table: Vec<u16> = (1..=10).map(|e| t.required(e)).collect();
        assert_eq!(table, [1, 2, 2, 3, 4, 4, 5, 6, 6, 7]);
        assert_eq!(Threshold { numerator: 51, denominator: 100 }.required(4), 3);
        assert_eq!(Threshold { numerator: 1, denominator: 1 }.required(5), 5);
    }
}
