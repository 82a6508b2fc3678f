//! The relayer's configuration: one TOML file, unknown keys rejected, secrets never in it.
//!
//! [`Config::load`] parses the file (a syntax error or an unknown key fails at once, naming the
//! key); [`Config::validate`] then reports *every* remaining problem at once as typed
//! [`ConfigProblem`]s; [`Config::resolve`] turns a valid file into [`ResolvedConfig`] (typed
//! segments, URLs, contract addresses read from the deployment manifest, the signer source).
//!
//! Relative paths (`manifest`, `keystore`, `password_file`, `state_dir`) are relative to the
//! directory of the config file. The reference file is `fixtures/relayer.example.toml`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::api::ApiLimits;
use crate::chain::{ChainOptions, FeeMode, FeeModeError};
use crate::health::HealthPolicy;
use crate::htlc::{HtlcSettings, PeerChain};
use crate::ipath::{Segment, SegmentError};
use crate::keys::{KeyError, PasswordSource, SignerSource};
use crate::runtime::{ChainEndpoint, GovernanceAddresses, RelayerSettings, ServedChain};

/// Default confirmation depth of every chain (1 = the head block counts).
pub const DEFAULT_CONFIRMATIONS: u64 = 1;
/// Default log-polling interval in milliseconds.
pub const DEFAULT_POLL_INTERVAL_MS: u64 = 1000;
/// Default number of governance blocks between two reconcile passes.
pub const DEFAULT_RECONCILE_EVERY_BLOCKS: u64 = 10;
/// Default HTTP listen address (loopback, OS-chosen port; the bound address is reported).
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:0";

/// The config file as written (before validation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Id of the institution this relayer belongs to (its requests are submitted for it).
    pub institution: u64,
    /// Directory of the relayer's checkpoint and unrevealed HTLC secrets.
    pub state_dir: PathBuf,
    /// The governance chain.
    pub governance: GovernanceConfig,
    /// Where the relayer's account key comes from.
    pub signer: SignerConfig,
    /// The HTTP API.
    #[serde(default)]
    pub http: HttpConfig,
    /// The business chains this relayer serves.
    #[serde(default)]
    pub chains: Vec<ChainConfig>,
    /// HTLC settings.
    #[serde(default)]
    pub htlc: HtlcConfig,
    /// When `/health` turns 503.
    #[serde(default)]
    pub health: HealthConfig,
    /// Directory relative paths are resolved against (the config file's directory).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// `[governance]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceConfig {
    /// JSON-RPC URL of a governance-chain node (http or https).
    pub rpc_url: String,
    /// Expected chain id; when set, the relayer refuses a node reporting another one.
    #[serde(default)]
    pub chain_id: Option<u64>,
    /// Confirmation depth (at least 1).
    #[serde(default = "default_confirmations")]
    pub confirmations: u64,
    /// Log-polling interval in milliseconds (at least 1).
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// Governance blocks between two reconcile passes (at least 1).
    #[serde(default = "default_reconcile_every_blocks")]
    pub reconcile_every_blocks: u64,
    /// Path of the deployment manifest (JSON written by `crossgov deploy`); exclusive with
    /// `contracts`.
    #[serde(default)]
    pub manifest: Option<PathBuf>,
    /// Explicit contract addresses; exclusive with `manifest`.
    #[serde(default)]
    pub contracts: Option<ContractsConfig>,
    /// How long one RPC request may take, in milliseconds (at least 1).
    #[serde(default = "default_rpc_timeout_ms")]
    pub rpc_timeout_ms: u64,
    /// The chain makes a block at least this often (seconds): an older head makes `/health`
    /// 503. Unset for chains that mine only on demand.
    #[serde(default)]
    pub max_head_age_secs: Option<u64>,
    /// How transactions are priced: `auto`, `eip1559`, `legacy` or `fixed`.
    #[serde(default = "default_fee_mode")]
    pub fee_mode: String,
    /// The price of every transaction with `fee_mode = "fixed"`, in wei (0 on gas-free chains).
    #[serde(default)]
    pub gas_price_wei: Option<u64>,
    /// Blocks per `eth_getLogs` request (at least 1; the node's limit or less).
    #[serde(default = "default_max_log_range")]
    pub max_log_range: u64,
}

/// `[governance.contracts]`: the governance suite's addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractsConfig {
    /// InstitutionRegistry.
    pub institution_registry: Address,
    /// ChainRegistry.
    pub chain_registry: Address,
    /// PermissionManager.
    pub permission_manager: Address,
    /// TransactionManager.
    pub transaction_manager: Address,
    /// Supervision.
    pub supervision: Address,
}

impl ContractsConfig {
    fn named(&self) -> [(&'static str, Address); 5] {
        [
            ("institution_registry", self.institution_registry),
            ("chain_registry", self.chain_registry),
            ("permission_manager", self.permission_manager),
            ("transaction_manager", self.transaction_manager),
            ("supervision", self.supervision),
        ]
    }
}

/// `[signer]`: exactly one of `keystore` (with `password_env` or `password_file`) or
/// `private_key_env`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerConfig {
    /// Encrypted JSON keystore (Web3 Secret Storage).
    #[serde(default)]
    pub keystore: Option<PathBuf>,
    /// Environment variable holding the keystore password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the keystore password (trailing newline ignored).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Environment variable holding a raw hex private key.
    #[serde(default)]
    pub private_key_env: Option<String>,
}

/// `[http]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Listen address; port 0 lets the OS choose (the bound address is reported on start).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// A client has this long to send a request's headers, in milliseconds.
    #[serde(default = "default_header_read_timeout_ms")]
    pub header_read_timeout_ms: u64,
    /// A request is answered within this, in milliseconds (else 503 RequestTimeout).
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Connections open at once, all clients together.
    #[serde(default = "default_max_connections")]
    pub max_connections: u64,
    /// Connections open at once from one client address.
    #[serde(default = "default_max_connections_per_client")]
    pub max_connections_per_client: u64,
    /// POST requests per second one client address may sustain.
    #[serde(default = "default_client_write_rate")]
    pub client_write_rate: u64,
    /// POST requests one client address may send at once above the rate.
    #[serde(default = "default_client_write_burst")]
    pub client_write_burst: u64,
    /// New transactions and swaps are refused (503 Busy, Retry-After) while this many are open
    /// on the chains the relayer serves.
    #[serde(default = "default_max_open_work")]
    pub max_open_work: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        let l = ApiLimits::default();
        HttpConfig {
            listen: DEFAULT_HTTP_LISTEN.to_owned(),
            header_read_timeout_ms: millis(l.header_read_timeout),
            request_timeout_ms: millis(l.request_timeout),
            max_connections: l.max_connections as u64,
            max_connections_per_client: l.max_connections_per_client as u64,
            client_write_rate: default_client_write_rate(),
            client_write_burst: default_client_write_burst(),
            max_open_work: default_max_open_work(),
        }
    }
}

/// `[health]`: when `/health` turns 503.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthConfig {
    /// A chain whose node has not answered for this many seconds is unhealthy.
    #[serde(default = "default_unresponsive_after_secs")]
    pub unresponsive_after_secs: u64,
    /// The relayer loop must finish a round within this many seconds.
    #[serde(default = "default_loop_stall_after_secs")]
    pub loop_stall_after_secs: u64,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            unresponsive_after_secs: default_unresponsive_after_secs(),
            loop_stall_after_secs: default_loop_stall_after_secs(),
        }
    }
}

/// `[[chains]]`: one business chain served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// Zone segment.
    pub zone: String,
    /// Chain segment.
    pub chain: String,
    /// JSON-RPC URL of a node of this chain (http or https).
    pub rpc_url: String,
    /// Confirmation depth (at least 1).
    #[serde(default = "default_confirmations")]
    pub confirmations: u64,
    /// Resource name → contract address.
    #[serde(default)]
    pub resources: BTreeMap<String, Address>,
    /// How long one RPC request may take, in milliseconds (at least 1).
    #[serde(default = "default_rpc_timeout_ms")]
    pub rpc_timeout_ms: u64,
    /// The chain makes a block at least this often (seconds); see `[governance]`.
    #[serde(default)]
    pub max_head_age_secs: Option<u64>,
    /// How transactions are priced; see `[governance]`.
    #[serde(default = "default_fee_mode")]
    pub fee_mode: String,
    /// The price with `fee_mode = "fixed"`, in wei.
    #[serde(default)]
    pub gas_price_wei: Option<u64>,
}

/// Default `[htlc] safety_margin_secs`.
pub const DEFAULT_HTLC_SAFETY_MARGIN_SECS: u64 = 120;

/// `[htlc]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HtlcConfig {
    /// A leg is locked only while its chain's time + this margin is before its timelock.
    #[serde(default = "default_safety_margin")]
    pub safety_margin_secs: u64,
    /// Generated secrets waiting for their proposal, at most.
    #[serde(default = "default_max_pending_secrets")]
    pub max_pending_secrets: u64,
    /// A generated secret no proposal used within this many seconds is deleted.
    #[serde(default = "default_pending_secret_ttl_secs")]
    pub pending_secret_ttl_secs: u64,
    /// Business chains NOT served, reached only for permissionless HtlcAsset calls (the
    /// initiator's relayer unlocks leg B there with the secret).
    #[serde(default)]
    pub peers: Vec<PeerChainConfig>,
}

impl Default for HtlcConfig {
    fn default() -> Self {
        HtlcConfig {
            safety_margin_secs: DEFAULT_HTLC_SAFETY_MARGIN_SECS,
            max_pending_secrets: default_max_pending_secrets(),
            pending_secret_ttl_secs: default_pending_secret_ttl_secs(),
            peers: Vec::new(),
        }
    }
}

/// `[[htlc.peers]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerChainConfig {
    /// Zone segment.
    pub zone: String,
    /// Chain segment.
    pub chain: String,
    /// JSON-RPC URL of a node of this chain (http or https).
    pub rpc_url: String,
    /// Confirmation depth (at least 1).
    #[serde(default = "default_confirmations")]
    pub confirmations: u64,
    /// HtlcAsset name → contract address.
    #[serde(default)]
    pub assets: BTreeMap<String, Address>,
    /// How long one RPC request may take, in milliseconds (at least 1).
    #[serde(default = "default_rpc_timeout_ms")]
    pub rpc_timeout_ms: u64,
    /// How transactions are priced; see `[governance]`.
    #[serde(default = "default_fee_mode")]
    pub fee_mode: String,
    /// The price with `fee_mode = "fixed"`, in wei.
    #[serde(default)]
    pub gas_price_wei: Option<u64>,
}

fn default_safety_margin() -> u64 {
    DEFAULT_HTLC_SAFETY_MARGIN_SECS
}

fn default_confirmations() -> u64 {
    DEFAULT_CONFIRMATIONS
}
fn default_poll_interval_ms() -> u64 {
    DEFAULT_POLL_INTERVAL_MS
}
fn default_reconcile_every_blocks() -> u64 {
    DEFAULT_RECONCILE_EVERY_BLOCKS
}
fn default_listen() -> String {
    DEFAULT_HTTP_LISTEN.to_owned()
}
fn default_fee_mode() -> String {
    FeeMode::Auto.name().to_owned()
}
fn default_max_log_range() -> u64 {
    crate::chain::DEFAULT_MAX_LOG_RANGE
}
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
fn default_rpc_timeout_ms() -> u64 {
    millis(crate::chain::DEFAULT_RPC_TIMEOUT)
}
fn default_header_read_timeout_ms() -> u64 {
    millis(ApiLimits::default().header_read_timeout)
}
fn default_request_timeout_ms() -> u64 {
    millis(ApiLimits::default().request_timeout)
}
fn default_max_connections() -> u64 {
    ApiLimits::default().max_connections as u64
}
fn default_max_connections_per_client() -> u64 {
    ApiLimits::default().max_connections_per_client as u64
}
fn default_client_write_rate() -> u64 {
    50
}
fn default_client_write_burst() -> u64 {
    200
}
fn default_max_open_work() -> u64 {
    crate::runtime::DEFAULT_MAX_OPEN_WORK as u64
}
fn default_unresponsive_after_secs() -> u64 {
    HealthPolicy::default().unresponsive_after.as_secs()
}
fn default_loop_stall_after_secs() -> u64 {
    HealthPolicy::default().loop_stall_after.as_secs()
}
fn default_max_pending_secrets() -> u64 {
    crate::htlc::DEFAULT_MAX_PENDING_SECRETS as u64
}
fn default_pending_secret_ttl_secs() -> u64 {
    crate::htlc::DEFAULT_PENDING_SECRET_TTL.as_secs()
}

/// The config file could not be read or parsed (validation problems are [`ConfigProblem`]s).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// TOML syntax error, wrong type, missing or unknown key (the message names the key).
    #[error("config {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (line, column and key).
        message: String,
    },
    /// The file parsed but has problems.
    #[error("config has {} problem(s):\n{}", .0.len(), ProblemList(.0))]
    Invalid(Vec<ConfigProblem>),
}

struct ProblemList<'a>(&'a [ConfigProblem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  - {p}")?;
        }
        Ok(())
    }
}

/// One problem of a parsed config. `field` names the TOML key (`chains[1].zone`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[non_exhaustive]
pub enum ConfigProblem {
    /// An iPath segment (zone, chain or resource name) is not valid.
    #[error("{field} = {value:?} {reason}")]
    BadSegment {
        /// The key.
        field: String,
        /// Its value.
        value: String,
        /// Why it is invalid.
        reason: String,
    },
    /// Two `[[chains]]` entries name the same `zone.chain`.
    #[error("chains[{index}]: {zone}.{chain} is already configured by chains[{first}]")]
    DuplicateChain {
        /// The zone.
        zone: String,
        /// The chain.
        chain: String,
        /// The first entry.
        first: usize,
        /// The duplicate entry.
        index: usize,
    },
    /// A URL does not parse or is not http(s).
    #[error("{field} = {value:?} is not an http(s) URL: {reason}")]
    BadUrl {
        /// The key.
        field: String,
        /// Its value.
        value: String,
        /// Why.
        reason: String,
    },
    /// A count that must be at least 1 is 0.
    #[error("{field} must be at least 1")]
    Zero {
        /// The key.
        field: String,
    },
    /// A contract or resource address is the zero address.
    #[error("{field} is the zero address")]
    ZeroAddress {
        /// The key.
        field: String,
    },
    /// Neither `governance.manifest` nor `[governance.contracts]`.
    #[error("governance: set either manifest or [governance.contracts]")]
    NoContracts,
    /// Both `governance.manifest` and `[governance.contracts]`.
    #[error("governance: set manifest or [governance.contracts], not both")]
    ManifestAndContracts,
    /// The manifest cannot be read or parsed.
    #[error("governance.manifest {path}: {reason}")]
    BadManifest {
        /// The manifest.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The manifest is for another chain than `governance.chain_id`.
    #[error("governance.manifest is for chain {manifest}, governance.chain_id is {configured}")]
    ManifestChainId {
        /// The manifest's chain id.
        manifest: u64,
        /// The configured chain id.
        configured: u64,
    },
    /// `[signer]` names no key source.
    #[error("signer: set keystore (with password_env or password_file) or private_key_env")]
    MissingSigner,
    /// `[signer]` names more than one key source.
    #[error("signer: set keystore or private_key_env, not both")]
    ConflictingSigner,
    /// The keystore has no password source, or two.
    #[error("signer: a keystore needs exactly one of password_env or password_file")]
    KeystorePassword,
    /// A password source without a keystore.
    #[error("signer: {field} is only used with keystore")]
    PasswordWithoutKeystore {
        /// The key.
        field: String,
    },
    /// The signer key cannot be loaded (unreadable keystore, unset variable, …); never contains
    /// the secret.
    #[error("signer: {reason}")]
    Signer {
        /// Why (a [`KeyError`] message).
        reason: String,
    },
    /// The institution id is 0 (ids start at 1).
    #[error("institution must be at least 1")]
    ZeroInstitution,
    /// `http.listen` is not `ip:port`.
    #[error("http.listen = {value:?} is not an ip:port address")]
    BadListen {
        /// Its value.
        value: String,
    },
    /// `state_dir` is empty.
    #[error("state_dir is empty")]
    EmptyStateDir,
    /// `fee_mode` is not one of the modes.
    #[error("{field} = {value:?} is not a fee mode: use auto, eip1559, legacy or fixed")]
    BadFeeMode {
        /// The key.
        field: String,
        /// Its value.
        value: String,
    },
    /// `fee_mode = "fixed"` without `gas_price_wei`.
    #[error("{field} = \"fixed\" needs gas_price_wei (0 on a gas-free chain)")]
    MissingGasPrice {
        /// The fee_mode key.
        field: String,
    },
    /// `gas_price_wei` with another fee mode than `fixed`.
    #[error("{field} is only used with fee_mode = \"fixed\"")]
    GasPriceWithoutFixed {
        /// The gas_price_wei key.
        field: String,
    },
}

/// A validated config with typed values.
#[derive(Debug, Clone)]
pub struct ResolvedConfig {
    /// Institution id.
    pub institution: u64,
    /// State directory (absolute or relative to the working directory).
    pub state_dir: PathBuf,
    /// Governance chain.
    pub governance: ResolvedGovernance,
    /// Signer source (loaded with [`crate::keys::load_signer`]).
    pub signer: SignerSource,
    /// HTTP listen address.
    pub listen: SocketAddr,
    /// What the HTTP API lets clients use.
    pub api: ApiLimits,
    /// Open transactions and swaps past which new ones are refused.
    pub max_open_work: usize,
    /// When `/health` turns 503.
    pub health: HealthPolicy,
    /// Business chains.
    pub chains: Vec<ResolvedChain>,
    /// HTLC settings (safety margin, peer chains).
    pub htlc: HtlcSettings,
}

/// The governance chain, resolved.
#[derive(Debug, Clone)]
pub struct ResolvedGovernance {
    /// Node URL.
    pub rpc_url: Url,
    /// Expected chain id (from the config, else from the manifest).
    pub chain_id: Option<u64>,
    /// Confirmation depth.
    pub confirmations: u64,
    /// Poll interval.
    pub poll_interval: Duration,
    /// Reconcile period in governance blocks.
    pub reconcile_every_blocks: u64,
    /// Contract addresses.
    pub contracts: ContractsConfig,
    /// Timeouts and health.
    pub options: ChainOptions,
}

/// A business chain, resolved.
#[derive(Debug, Clone)]
pub struct ResolvedChain {
    /// Zone.
    pub zone: Segment,
    /// Chain.
    pub chain: Segment,
    /// Node URL.
    pub rpc_url: Url,
    /// Confirmation depth.
    pub confirmations: u64,
    /// Resources.
    pub resources: BTreeMap<Segment, Address>,
    /// Timeouts and health.
    pub options: ChainOptions,
}

impl ResolvedConfig {
    /// The runtime's settings.
    pub fn settings(&self) -> RelayerSettings {
        let g = &self.governance;
        let c = &g.contracts;
        RelayerSettings {
            institution: self.institution,
            governance: ChainEndpoint {
                rpc_url: g.rpc_url.clone(),
                chain_id: g.chain_id,
                confirmations: g.confirmations,
                contracts: GovernanceAddresses {
                    registry: c.institution_registry,
                    chain_registry: c.chain_registry,
                    permission_manager: c.permission_manager,
                    transaction_manager: c.transaction_manager,
                    supervision: c.supervision,
                },
                options: g.options,
            },
            chains: self
                .chains
                .iter()
                .map(|c| ServedChain {
                    zone: c.zone,
                    chain: c.chain,
                    rpc_url: c.rpc_url.clone(),
                    confirmations: c.confirmations,
                    resources: c.resources.clone(),
                    options: c.options,
                })
                .collect(),
            state_dir: self.state_dir.clone(),
            poll_interval: g.poll_interval,
            reconcile_every_blocks: g.reconcile_every_blocks,
            health: self.health.clone(),
            max_open_work: self.max_open_work,
        }
    }
}

/// The subset of `crossgov_deploy::manifest::Deployment` the relayer needs (the deploy crate
/// depends on this one, so the manifest is read here by shape; a cross-crate test keeps both in
/// step).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManifestView {
    chain_id: u64,
    institution_registry: ManifestContract,
    chain_registry: ManifestContract,
    permission_manager: ManifestContract,
    transaction_manager: ManifestContract,
    supervision: ManifestContract,
}

#[derive(Debug, Deserialize)]
struct ManifestContract {
    address: Address,
}

impl Config {
    /// Reads and parses `path` (relative paths inside resolve against its directory).
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        let mut config = Config::parse(&text)
            .map_err(|message| ConfigError::Parse { path: path.to_owned(), message })?;
        config.base_dir = path.parent().map(Path::to_owned).unwrap_or_default();
        Ok(config)
    }

    /// Parses TOML text (relative paths resolve against the working directory). The error is the
    /// parser's message, naming the offending key.
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Loads, validates and resolves `path`.
    pub fn load_resolved(path: impl AsRef<Path>) -> Result<ResolvedConfig, ConfigError> {
        Config::load(path)?.resolve().map_err(ConfigError::Invalid)
    }

    fn path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() { p.to_owned() } else { self.base_dir.join(p) }
    }

    /// Every problem of this config (empty when valid). Reads the manifest and checks the signer
    /// source (the keystore is readable and the variables are set) but never decrypts a keystore
    /// nor contacts a node.
    pub fn validate(&self) -> Vec<ConfigProblem> {
        match self.resolve() {
            Ok(_) => Vec::new(),
            Err(problems) => problems,
        }
    }

    /// Validates and converts; on failure returns every problem.
    pub fn resolve(&self) -> Result<ResolvedConfig, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        if self.institution == 0 {
            problems.push(ConfigProblem::ZeroInstitution);
        }
        if self.state_dir.as_os_str().is_empty() {
            problems.push(ConfigProblem::EmptyStateDir);
        }
        let governance = self.resolve_governance(&mut problems);
        let signer = self.resolve_signer(&mut problems);
        let listen = match self.http.listen.parse::<SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                problems.push(ConfigProblem::BadListen { value: self.http.listen.clone() });
                None
            }
        };
        let mut chains = Vec::new();
        let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
        for (i, c) in self.chains.iter().enumerate() {
            let zone = segment(&format!("chains[{i}].zone"), &c.zone, &mut problems);
            let chain = segment(&format!("chains[{i}].chain"), &c.chain, &mut problems);
            let rpc_url = http_url(&format!("chains[{i}].rpc_url"), &c.rpc_url, &mut problems);
            nonzero(&format!("chains[{i}].confirmations"), c.confirmations, &mut problems);
            let tuning = ChainTuning {
                rpc_timeout_ms: c.rpc_timeout_ms,
                max_head_age_secs: c.max_head_age_secs,
                fee_mode: &c.fee_mode,
                gas_price_wei: c.gas_price_wei,
                // The relayer reads business chains' logs one block at a time.
                max_log_range: crate::chain::DEFAULT_MAX_LOG_RANGE,
            };
            let options = chain_options(&format!("chains[{i}]"), tuning, &mut problems);
            if let Some(&first) = seen.get(&(c.zone.clone(), c.chain.clone())) {
                problems.push(ConfigProblem::DuplicateChain {
                    zone: c.zone.clone(),
                    chain: c.chain.clone(),
                    first,
                    index: i,
                });
            } else {
                seen.insert((c.zone.clone(), c.chain.clone()), i);
            }
            let mut resources = BTreeMap::new();
            for (name, address) in &c.resources {
                let field = format!("chains[{i}].resources.{name}");
                if address.is_zero() {
                    problems.push(ConfigProblem::ZeroAddress { field: field.clone() });
                }
                if let Some(s) = segment(&field, name, &mut problems) {
                    resources.insert(s, *address);
                }
            }
            if let (Some(zone), Some(chain), Some(rpc_url)) = (zone, chain, rpc_url) {
                chains.push(ResolvedChain {
                    zone,
                    chain,
                    rpc_url,
                    confirmations: c.confirmations,
                    resources,
                    options,
                });
            }
        }
        let htlc = self.resolve_htlc(&mut problems);
        let api = self.resolve_api(&mut problems);
        let health = self.resolve_health(&mut problems);
        match (governance, signer, listen) {
            (Some(governance), Some(signer), Some(listen)) if problems.is_empty() => {
                Ok(ResolvedConfig {
                    institution: self.institution,
                    state_dir: self.path(&self.state_dir),
                    governance,
                    signer,
                    listen,
                    api,
                    max_open_work: usize::try_from(self.http.max_open_work).unwrap_or(usize::MAX),
                    health,
                    chains,
                    htlc,
                })
            }
            _ => Err(problems),
        }
    }

    fn resolve_htlc(&self, problems: &mut Vec<ConfigProblem>) -> HtlcSettings {
        let mut peers = Vec::new();
        for (i, p) in self.htlc.peers.iter().enumerate() {
            let zone = segment(&format!("htlc.peers[{i}].zone"), &p.zone, problems);
            let chain = segment(&format!("htlc.peers[{i}].chain"), &p.chain, problems);
            let rpc_url = http_url(&format!("htlc.peers[{i}].rpc_url"), &p.rpc_url, problems);
            nonzero(&format!("htlc.peers[{i}].confirmations"), p.confirmations, problems);
            let tuning = ChainTuning {
                rpc_timeout_ms: p.rpc_timeout_ms,
                max_head_age_secs: None,
                fee_mode: &p.fee_mode,
                gas_price_wei: p.gas_price_wei,
                max_log_range: crate::chain::DEFAULT_MAX_LOG_RANGE,
            };
            let options = chain_options(&format!("htlc.peers[{i}]"), tuning, problems);
            let mut assets = BTreeMap::new();
            for (name, address) in &p.assets {
                let field = format!("htlc.peers[{i}].assets.{name}");
                if address.is_zero() {
                    problems.push(ConfigProblem::ZeroAddress { field: field.clone() });
                }
                if let Some(s) = segment(&field, name, problems) {
                    assets.insert(s.to_word(), *address);
                }
            }
            if let (Some(zone), Some(chain), Some(rpc_url)) = (zone, chain, rpc_url) {
                peers.push(PeerChain {
                    chain_key: crate::ipath::chain_key(zone, chain),
                    name: format!("{zone}.{chain}"),
                    rpc_url,
                    confirmations: p.confirmations,
                    assets,
                    options,
                });
            }
        }
        let h = &self.htlc;
        nonzero("htlc.max_pending_secrets", h.max_pending_secrets, problems);
        nonzero("htlc.pending_secret_ttl_secs", h.pending_secret_ttl_secs, problems);
        HtlcSettings {
            safety_margin: h.safety_margin_secs,
            peers,
            max_pending_secrets: usize::try_from(h.max_pending_secrets).unwrap_or(usize::MAX),
            pending_secret_ttl: Duration::from_secs(h.pending_secret_ttl_secs),
        }
    }

    fn resolve_api(&self, problems: &mut Vec<ConfigProblem>) -> ApiLimits {
        let h = &self.http;
        for (field, value) in [
            ("http.header_read_timeout_ms", h.header_read_timeout_ms),
            ("http.request_timeout_ms", h.request_timeout_ms),
            ("http.max_connections", h.max_connections),
            ("http.max_connections_per_client", h.max_connections_per_client),
            ("http.client_write_rate", h.client_write_rate),
            ("http.client_write_burst", h.client_write_burst),
            ("http.max_open_work", h.max_open_work),
        ] {
            nonzero(field, value, problems);
        }
        let count = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        ApiLimits {
            header_read_timeout: Duration::from_millis(h.header_read_timeout_ms),
            request_timeout: Duration::from_millis(h.request_timeout_ms),
            max_connections: count(h.max_connections),
            max_connections_per_client: count(h.max_connections_per_client),
            client_write_rate: h.client_write_rate as f64,
            client_write_burst: h.client_write_burst as f64,
        }
    }

    fn resolve_health(&self, problems: &mut Vec<ConfigProblem>) -> HealthPolicy {
        let h = &self.health;
        nonzero("health.unresponsive_after_secs", h.unresponsive_after_secs, problems);
        nonzero("health.loop_stall_after_secs", h.loop_stall_after_secs, problems);
        HealthPolicy {
            unresponsive_after: Duration::from_secs(h.unresponsive_after_secs),
            head_stall_after: BTreeMap::new(),
            loop_stall_after: Duration::from_secs(h.loop_stall_after_secs),
        }
    }

    fn resolve_governance(&self, problems: &mut Vec<ConfigProblem>) -> Option<ResolvedGovernance> {
        let g = &self.governance;
        let rpc_url = http_url("governance.rpc_url", &g.rpc_url, problems);
        nonzero("governance.confirmations", g.confirmations, problems);
        nonzero("governance.poll_interval_ms", g.poll_interval_ms, problems);
        nonzero("governance.reconcile_every_blocks", g.reconcile_every_blocks, problems);
        let tuning = ChainTuning {
            rpc_timeout_ms: g.rpc_timeout_ms,
            max_head_age_secs: g.max_head_age_secs,
            fee_mode: &g.fee_mode,
            gas_price_wei: g.gas_price_wei,
            max_log_range: g.max_log_range,
        };
        let options = chain_options("governance", tuning, problems);
        let mut chain_id = g.chain_id;
        let contracts = match (&g.manifest, &g.contracts) {
            (Some(_), Some(_)) => {
                problems.push(ConfigProblem::ManifestAndContracts);
                None
            }
            (None, None) => {
                problems.push(ConfigProblem::NoContracts);
                None
            }
            (None, Some(c)) => Some(*c),
            (Some(manifest), None) => {
                let path = self.path(manifest);
                match read_manifest(&path) {
                    Ok(m) => {
                        match g.chain_id {
                            Some(configured) if configured != m.chain_id => {
                                problems.push(ConfigProblem::ManifestChainId {
                                    manifest: m.chain_id,
                                    configured,
                                });
                            }
                            _ => chain_id = Some(m.chain_id),
                        }
                        Some(ContractsConfig {
                            institution_registry: m.institution_registry.address,
                            chain_registry: m.chain_registry.address,
                            permission_manager: m.permission_manager.address,
                            transaction_manager: m.transaction_manager.address,
                            supervision: m.supervision.address,
                        })
                    }
                    Err(reason) => {
                        problems.push(ConfigProblem::BadManifest { path, reason });
                        None
                    }
                }
            }
        };
        if let Some(c) = &contracts {
            for (name, address) in c.named() {
                if address.is_zero() {
                    problems.push(ConfigProblem::ZeroAddress {
                        field: format!("governance.contracts.{name}"),
                    });
                }
            }
        }
        Some(ResolvedGovernance {
            rpc_url: rpc_url?,
            chain_id,
            confirmations: g.confirmations,
            poll_interval: Duration::from_millis(g.poll_interval_ms),
            reconcile_every_blocks: g.reconcile_every_blocks,
            contracts: contracts?,
            options,
        })
    }

    fn resolve_signer(&self, problems: &mut Vec<ConfigProblem>) -> Option<SignerSource> {
        let s = &self.signer;
        let source = match (&s.keystore, &s.private_key_env) {
            (None, None) => {
                problems.push(ConfigProblem::MissingSigner);
                None
            }
            (Some(_), Some(_)) => {
                problems.push(ConfigProblem::ConflictingSigner);
                None
            }
            (None, Some(var)) => {
                for (field, set) in [
                    ("password_env", s.password_env.is_some()),
                    ("password_file", s.password_file.is_some()),
                ] {
                    if set {
                        problems
                            .push(ConfigProblem::PasswordWithoutKeystore { field: field.into() });
                    }
                }
                Some(SignerSource::PrivateKeyEnv(var.clone()))
            }
            (Some(keystore), None) => {
                let password = match (&s.password_env, &s.password_file) {
                    (Some(var), None) => Some(PasswordSource::Env(var.clone())),
                    (None, Some(file)) => Some(PasswordSource::File(self.path(file))),
                    _ => {
                        problems.push(ConfigProblem::KeystorePassword);
                        None
                    }
                };
                password
                    .map(|password| SignerSource::Keystore { path: self.path(keystore), password })
            }
        }?;
        if let Err(e) = source.check() {
            problems.push(ConfigProblem::Signer { reason: e.to_string() });
        }
        Some(source)
    }
}

fn read_manifest(path: &Path) -> Result<ManifestView, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

fn segment(field: &str, value: &str, problems: &mut Vec<ConfigProblem>) -> Option<Segment> {
    Segment::new(value)
        .map_err(|e: SegmentError| {
            problems.push(ConfigProblem::BadSegment {
                field: field.to_owned(),
                value: value.to_owned(),
                reason: e.to_string(),
            })
        })
        .ok()
}

fn http_url(field: &str, value: &str, problems: &mut Vec<ConfigProblem>) -> Option<Url> {
    let reason = match Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            return Some(url);
        }
        Ok(url) => format!("scheme {:?} is not http or https", url.scheme()),
        Err(e) => e.to_string(),
    };
    problems.push(ConfigProblem::BadUrl {
        field: field.to_owned(),
        value: value.to_owned(),
        reason,
    });
    None
}

/// What a chain section (`[governance]`, `[[chains]]`, `[[htlc.peers]]`) tunes.
struct ChainTuning<'a> {
    rpc_timeout_ms: u64,
    max_head_age_secs: Option<u64>,
    fee_mode: &'a str,
    gas_price_wei: Option<u64>,
    max_log_range: u64,
}

/// A chain section's tuning (keys under `prefix`), checked.
fn chain_options(
    prefix: &str,
    t: ChainTuning<'_>,
    problems: &mut Vec<ConfigProblem>,
) -> ChainOptions {
    nonzero(&format!("{prefix}.rpc_timeout_ms"), t.rpc_timeout_ms, problems);
    if let Some(age) = t.max_head_age_secs {
        nonzero(&format!("{prefix}.max_head_age_secs"), age, problems);
    }
    nonzero(&format!("{prefix}.max_log_range"), t.max_log_range, problems);
    let mode_key = format!("{prefix}.fee_mode");
    let fee = FeeMode::parse(t.fee_mode, t.gas_price_wei).unwrap_or_else(|e| {
        problems.push(match e {
            FeeModeError::MissingPrice => ConfigProblem::MissingGasPrice { field: mode_key },
            FeeModeError::PriceWithoutFixed => {
                ConfigProblem::GasPriceWithoutFixed { field: format!("{prefix}.gas_price_wei") }
            }
            _ => ConfigProblem::BadFeeMode { field: mode_key, value: t.fee_mode.to_owned() },
        });
        FeeMode::Auto
    });
    ChainOptions {
        rpc_timeout: Duration::from_millis(t.rpc_timeout_ms),
        max_head_age: t.max_head_age_secs.map(Duration::from_secs),
        fee,
        max_log_range: t.max_log_range,
    }
}

fn nonzero(field: &str, value: u64, problems: &mut Vec<ConfigProblem>) {
    if value == 0 {
        problems.push(ConfigProblem::Zero { field: field.to_owned() });
    }
}

/// Names of the chains a resolved config serves, `zone.chain` (for logs and `/health`).
pub fn chain_names(chains: &[ResolvedChain]) -> BTreeSet<String> {
    chains.iter().map(|c| format!("{}.{}", c.zone, c.chain)).collect()
}

impl From<KeyError> for ConfigProblem {
    fn from(e: KeyError) -> Self {
        ConfigProblem::Signer { reason: e.to_string() }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const EXAMPLE: &str =
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/relayer.example.toml"));

    fn example() -> Config {
        let mut c = Config::parse(EXAMPLE).unwrap();
        c.base_dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures"));
        c
    }

    /// The reference file parses with its documented defaults. (Validating it needs the
    /// environment variable it names: see `reference_file_validates` below, which sets it.)
    #[test]
    fn reference_file_parses() {
        let c = example();
        // Every optional section shows its defaults.
        assert_eq!(c.htlc, HtlcConfig::default());
        assert_eq!(c.health, HealthConfig::default());
        assert_eq!(
            HttpConfig { listen: DEFAULT_HTTP_LISTEN.into(), ..c.http.clone() },
            HttpConfig::default()
        );
        let mut problems = Vec::new();
        assert_eq!(c.resolve_api(&mut problems), ApiLimits::default());
        assert_eq!(c.resolve_health(&mut problems), HealthPolicy::default());
        let g = c.resolve_governance(&mut problems).expect("governance");
        assert_eq!(g.options, ChainOptions::default());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(c.governance.confirmations, DEFAULT_CONFIRMATIONS);
        assert_eq!(c.chains.len(), 2);
        assert!(c.signer.private_key_env.is_some());
    }

    #[test]
    fn htlc_section_parses_and_resolves_peers() {
        // The reference file's [htlc] section with a larger margin and one peer chain.
        let text = EXAMPLE.replace("safety_margin_secs = 120", "safety_margin_secs = 300").replace(
            "pending_secret_ttl_secs = 3600",
            "pending_secret_ttl_secs = 3600\n[[htlc.peers]]\nzone = \"zoneC\"\nchain = \"chainC\"\nrpc_url = \"http://127.0.0.1:8548\"\n[htlc.peers.assets]\nasset = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"",
        );
        let c = Config::parse(&text).expect("parses");
        assert_eq!(c.htlc.safety_margin_secs, 300);
        let mut problems = Vec::new();
        let h = c.resolve_htlc(&mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(h.safety_margin, 300);
        let [peer] = h.peers.as_slice() else { panic!("one peer") };
        assert_eq!(peer.name, "zoneC.chainC");
        let path: crate::IPath = "zoneC.chainC.asset".parse().expect("path");
        assert_eq!(peer.chain_key, path.chain_key());
        assert_eq!(peer.assets.len(), 1);
        let bad = text.replace("safety_margin_secs = 300", "safety_margin = 300");
        assert!(Config::parse(&bad).expect_err("unknown key").contains("safety_margin"));
    }

    #[test]
    fn unknown_key_is_rejected_with_its_name() {
        let text = EXAMPLE.replace("[governance]\n", "[governance]\nconfirmation = 3\n");
        let err = Config::parse(&text).unwrap_err();
        assert!(err.contains("confirmation"), "{err}");
        let text = EXAMPLE.replace("[http]\n", "[http]\nport = 3\n");
        let err = Config::parse(&text).unwrap_err();
        assert!(err.contains("port"), "{err}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut c = example();
        c.institution = 0;
        c.governance.rpc_url = "ftp://x".into();
        c.governance.confirmations = 0;
        c.governance.manifest = Some("deployment.json".into());
        c.governance.contracts = Some(ContractsConfig {
            institution_registry: Address::ZERO,
            chain_registry: Address::ZERO,
            permission_manager: Address::ZERO,
            transaction_manager: Address::ZERO,
            supervision: Address::ZERO,
        });
        c.signer = SignerConfig::default();
        c.http.listen = "localhost".into();
        c.chains[0].zone = "bad.zone".into();
        c.chains[1].zone = c.chains[0].zone.clone();
        c.chains[1].chain = c.chains[0].chain.clone();
        c.chains[1].rpc_url = "not a url".into();
        c.chains[1].resources.insert("x".repeat(33), Address::ZERO);
        let problems = c.validate();
        let has = |f: &dyn Fn(&ConfigProblem) -> bool| problems.iter().any(f);
        assert!(has(&|p| matches!(p, ConfigProblem::ZeroInstitution)), "{problems:#?}");
        assert!(has(
            &|p| matches!(p, ConfigProblem::BadUrl { field, .. } if field == "governance.rpc_url")
        ));
        assert!(has(
            &|p| matches!(p, ConfigProblem::BadUrl { field, .. } if field == "chains[1].rpc_url")
        ));
        assert!(has(
            &|p| matches!(p, ConfigProblem::Zero { field } if field == "governance.confirmations")
        ));
        assert!(has(&|p| matches!(p, ConfigProblem::ManifestAndContracts)));
        assert!(has(&|p| matches!(p, ConfigProblem::MissingSigner)));
        assert!(has(&|p| matches!(p, ConfigProblem::BadListen { .. })));
        assert!(has(
            &|p| matches!(p, ConfigProblem::BadSegment { field, .. } if field == "chains[0].zone")
        ));
        assert!(has(&|p| matches!(p, ConfigProblem::DuplicateChain { first: 0, index: 1, .. })));
        assert!(has(
            &|p| matches!(p, ConfigProblem::BadSegment { field, .. } if field.starts_with("chains[1].resources."))
        ));
        assert!(has(&|p| matches!(p, ConfigProblem::ZeroAddress { .. })));
        assert_eq!(problems.len(), 12, "{problems:#?}");
    }

    #[test]
    fn zero_limits_and_timeouts_are_each_named() {
        let mut c = example();
        c.governance.rpc_timeout_ms = 0;
        c.governance.max_head_age_secs = Some(0);
        c.chains[1].rpc_timeout_ms = 0;
        c.governance.max_log_range = 0;
        c.http.header_read_timeout_ms = 0;
        c.http.request_timeout_ms = 0;
        c.http.max_connections = 0;
        c.http.max_connections_per_client = 0;
        c.http.client_write_rate = 0;
        c.http.client_write_burst = 0;
        c.http.max_open_work = 0;
        c.health.unresponsive_after_secs = 0;
        c.health.loop_stall_after_secs = 0;
        c.htlc.max_pending_secrets = 0;
        c.htlc.pending_secret_ttl_secs = 0;
        let mut fields: Vec<String> = c
            .validate()
            .into_iter()
            .filter_map(|p| match p {
                ConfigProblem::Zero { field } => Some(field),
                _ => None,
            })
            .collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "chains[1].rpc_timeout_ms",
                "governance.max_head_age_secs",
                "governance.max_log_range",
                "governance.rpc_timeout_ms",
                "health.loop_stall_after_secs",
                "health.unresponsive_after_secs",
                "htlc.max_pending_secrets",
                "htlc.pending_secret_ttl_secs",
                "http.client_write_burst",
                "http.client_write_rate",
                "http.header_read_timeout_ms",
                "http.max_connections",
                "http.max_connections_per_client",
                "http.max_open_work",
                "http.request_timeout_ms",
            ]
        );
        // A negative or fractional value is a parse error naming the key.
        let text = EXAMPLE.replace("max_connections = 512", "max_connections = -1");
        let err = Config::parse(&text).expect_err("negative");
        assert!(err.contains("max_connections"), "{err}");
    }

    #[test]
    fn fee_mode_problems_are_each_named() {
        let mut c = example();
        c.governance.fee_mode = "cheap".into();
        c.chains[0].fee_mode = "fixed".into();
        c.chains[1].gas_price_wei = Some(0);
        c.htlc.peers.push(PeerChainConfig {
            zone: "zoneC".into(),
            chain: "chainC".into(),
            rpc_url: "http://127.0.0.1:8548".into(),
            confirmations: 1,
            rpc_timeout_ms: 10_000,
            fee_mode: "EIP1559".into(),
            gas_price_wei: None,
            assets: BTreeMap::new(),
        });
        let problems = c.validate();
        let fee: Vec<&ConfigProblem> = problems
            .iter()
            .filter(|p| {
                matches!(
                    p,
                    ConfigProblem::BadFeeMode { .. }
                        | ConfigProblem::MissingGasPrice { .. }
                        | ConfigProblem::GasPriceWithoutFixed { .. }
                )
            })
            .collect();
        assert_eq!(
            fee,
            [
                &ConfigProblem::BadFeeMode {
                    field: "governance.fee_mode".into(),
                    value: "cheap".into()
                },
                &ConfigProblem::MissingGasPrice { field: "chains[0].fee_mode".into() },
                &ConfigProblem::GasPriceWithoutFixed { field: "chains[1].gas_price_wei".into() },
                &ConfigProblem::BadFeeMode {
                    field: "htlc.peers[0].fee_mode".into(),
                    value: "EIP1559".into()
                },
            ],
            "{problems:#?}"
        );
        // A valid fixed price reaches the chain's options; a negative one is a parse error.
        let text = EXAMPLE
            .replacen("fee_mode = \"auto\"", "fee_mode = \"fixed\"\ngas_price_wei = 0", 1)
            .replacen("# gas_price_wei = 0\n", "", 1);
        let c = Config::parse(&text).unwrap();
        let mut problems = Vec::new();
        let g = c.resolve_governance(&mut problems).expect("governance");
        assert_eq!(g.options.fee, FeeMode::Fixed(0));
        let text = text.replacen("\ngas_price_wei = 0", "\ngas_price_wei = -1", 1);
        let err = Config::parse(&text).expect_err("negative price");
        assert!(err.contains("gas_price_wei"), "{err}");
    }

    #[test]
    fn signer_source_problems() {
        let mut c = example();
        c.signer = SignerConfig {
            keystore: Some("nope.json".into()),
            password_env: None,
            password_file: None,
            private_key_env: Some("X".into()),
        };
        assert!(c.validate().contains(&ConfigProblem::ConflictingSigner));
        c.signer.private_key_env = None;
        assert!(c.validate().contains(&ConfigProblem::KeystorePassword));
        c.signer.password_file = Some("pw".into());
        let problems = c.validate();
        assert!(
            problems.iter().any(
                |p| matches!(p, ConfigProblem::Signer { reason } if reason.contains("nope.json"))
            ),
            "{problems:#?}"
        );
    }

    #[test]
    fn manifest_is_read_and_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let contract = |n: u8| {
            serde_json::json!({
                "address": Address::repeat_byte(n), "block": 1,
                "txHash": alloy::primitives::B256::ZERO, "deployedBytecodeHash": alloy::primitives::B256::ZERO
            })
        };
        let manifest = serde_json::json!({
            "chainId": 31337, "institutionRegistry": contract(1), "chainRegistry": contract(2),
            "permissionManager": contract(3), "transactionManager": contract(4), "supervision": contract(5)
        });
        std::fs::write(dir.path().join("deployment.json"), manifest.to_string()).unwrap();
        let mut c = example();
        c.base_dir = dir.path().to_owned();
        c.signer = SignerConfig { private_key_env: Some("PATH".into()), ..SignerConfig::default() };
        c.governance.contracts = None;
        c.governance.chain_id = None;
        c.governance.manifest = Some("deployment.json".into());
        // PATH is set but is no key: only the signer problem remains.
        let problems = c.validate();
        assert!(matches!(problems.as_slice(), [ConfigProblem::Signer { .. }]), "{problems:#?}");
        c.governance.chain_id = Some(1);
        assert!(
            c.validate()
                .contains(&ConfigProblem::ManifestChainId { manifest: 31337, configured: 1 })
        );
        c.governance.manifest = Some("missing.json".into());
        assert!(c.validate().iter().any(|p| matches!(p, ConfigProblem::BadManifest { .. })));
    }
}
