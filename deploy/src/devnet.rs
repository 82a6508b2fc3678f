//! A local development chain: the pinned anvil from the npm toolchain (`package.json`).

use std::path::{Path, PathBuf};

use alloy::node_bindings::{Anvil, AnvilInstance, NodeError};

/// Environment variable naming the anvil binary to use, overriding the lookup.
pub const ANVIL_ENV: &str = "CROSSGOV_ANVIL";

/// anvil could not be found or started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevnetError {
    /// `CROSSGOV_ANVIL` names a file that does not exist.
    #[error("{ANVIL_ENV}={} is not a file (nor a command on PATH); unset it or point it at an anvil binary", .path.display())]
    EnvNotFound {
        /// The path from the environment.
        path: PathBuf,
    },
    /// Not in the workspace's node_modules nor on PATH.
    #[error(
        "anvil not found (looked for {}, then anvil on PATH); run `npm ci` in {} to install the pinned EVM toolchain, or set {ANVIL_ENV}",
        .npm_path.as_ref().map_or_else(|| "no npm package for this platform".to_owned(), |p| p.display().to_string()),
        .workspace.display()
    )]
    NotFound {
        /// Where the npm package's binary would be, if this platform has one.
        npm_path: Option<PathBuf>,
        /// The workspace root.
        workspace: PathBuf,
    },
    /// anvil did not start.
    #[error("cannot start anvil {}: {source}", .path.display())]
    Spawn {
        /// The binary.
        path: PathBuf,
        /// Why.
        source: NodeError,
    },
}

/// The workspace root (derived from this crate's location at build time).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The npm package suffix (`@foundry-rs/anvil-<suffix>`) for this platform, if there is one.
pub fn npm_platform() -> Option<&'static str> {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Some("linux-amd64"),
        ("linux", "aarch64") => Some("linux-arm64"),
        ("macos", "x86_64") => Some("darwin-amd64"),
        ("macos", "aarch64") => Some("darwin-arm64"),
        _ => None,
    }
}

/// The anvil binary: `$CROSSGOV_ANVIL` if set (a path, or a name looked up on PATH), else the one installed by `npm ci` in the
/// workspace (`node_modules/@foundry-rs/anvil-<os>-<arch>/bin/anvil`: the real binary, not the
/// `node_modules/.bin` node wrapper, so that stopping it stops the node), else `anvil` on PATH.
pub fn anvil_binary() -> Result<PathBuf, DevnetError> {
    if let Some(value) = std::env::var_os(ANVIL_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(value);
        // A bare name (`CROSSGOV_ANVIL=anvil`) is looked up on PATH.
        let found = if path.components().count() == 1 && !path.is_file() {
            path.to_str().and_then(find_on_path)
        } else {
            path.is_file().then(|| path.clone())
        };
        return found.ok_or(DevnetError::EnvNotFound { path });
    }
    let workspace = workspace_root();
    let npm_path = npm_platform().map(|platform| {
        workspace
            .join("node_modules/@foundry-rs")
            .join(format!("anvil-{platform}"))
            .join("bin/anvil")
    });
    if let Some(path) = npm_path.as_ref().filter(|p| p.is_file()) {
        return Ok(path.clone());
    }
    find_on_path("anvil").ok_or(DevnetError::NotFound { npm_path, workspace })
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}

/// Starts anvil on a port the OS picks (alloy passes `-p 0` and reads the port back from anvil's
/// output), with anvil's default chain id 31337 and its ten funded dev accounts. The process is
/// stopped when the returned instance is dropped.
pub fn spawn_anvil() -> Result<AnvilInstance, DevnetError> {
    spawn_with(Anvil::new())
}

/// Like [`spawn_anvil`] with the given chain id.
pub fn spawn_anvil_with_chain_id(chain_id: u64) -> Result<AnvilInstance, DevnetError> {
    spawn_with(Anvil::new().chain_id(chain_id))
}

/// Like [`spawn_anvil_with_chain_id`], persisting the chain in `state_file` (anvil's `--state`:
/// loaded at start when it exists, written when the node stops on SIGTERM/SIGINT), on `port`
/// when given (a restart keeps its endpoint) or on one the OS picks.
pub fn spawn_anvil_persistent(
    chain_id: u64,
    state_file: &Path,
    port: Option<u16>,
) -> Result<AnvilInstance, DevnetError> {
    let mut builder = Anvil::new().chain_id(chain_id).arg("--state").arg(state_file.as_os_str());
    if let Some(port) = port {
        builder = builder.port(port);
    }
    spawn_with(builder)
}

/// Stops anvil as an operator would (SIGTERM), so that a node started with `--state` writes its
/// state file, and waits for the process to exit.
pub fn stop_anvil(anvil: &mut AnvilInstance) -> std::io::Result<()> {
    let child = anvil.child_mut();
    if child.try_wait()?.is_some() {
        return Ok(());
    }
    let status = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        // Exited in between (kill finds no such process).
        if child.try_wait()?.is_some() {
            return Ok(());
        }
        return Err(std::io::Error::other(format!("kill -TERM {} failed", child.id())));
    }
    child.wait().map(drop)
}

fn spawn_with(builder: Anvil) -> Result<AnvilInstance, DevnetError> {
    let path = anvil_binary()?;
    builder.path(&path).try_spawn().map_err(|source| DevnetError::Spawn { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_names_follow_the_npm_packages() {
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            assert_eq!(npm_platform(), Some("linux-amd64"));
        }
        assert!(workspace_root().join("Cargo.toml").is_file());
    }

    /// The keys written out here are the very keys anvil funds.
    #[test]
    fn dev_keys_are_anvils() {
        let anvil = spawn_anvil_with_chain_id(4244).expect("anvil");
        let keys: Vec<String> = anvil
            .keys()
            .iter()
            .map(|k| format!("0x{}", alloy::hex::encode(k.to_bytes())))
            .collect();
        assert_eq!(keys, DEV_KEYS);
    }

    #[test]
    fn not_found_error_tells_to_run_npm_ci() {
        let err = DevnetError::NotFound { npm_path: None, workspace: PathBuf::from("/w") };
        let text = err.to_string();
        assert!(text.contains("npm ci") && text.contains(ANVIL_ENV), "{text}");
    }
}

/// The ten well-known anvil (and Hardhat) dev keys, from the mnemonic `test test … junk`:
/// **public test keys**, for local nodes only.
pub const DEV_KEYS: [&str; 10] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];

/// Hardhat's node (the EDR engine), pinned in `package.json`: a second EVM implementation for
/// the tests, configured like a consortium chain (an older hardfork, a zero base fee, accounts
/// that hold nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HardhatConfig {
    /// The chain id.
    pub chain_id: u64,
    /// The hardfork (`berlin`, `london`, …: before Shanghai, so no PUSH0).
    pub hardfork: String,
    /// Dev keys (indices into [`DEV_KEYS`]) funded at genesis; the others hold nothing.
    pub funded: Vec<usize>,
    /// Mine a block every this many milliseconds; 0 mines on each transaction.
    pub interval_ms: u64,
}

/// Hardhat's hardforks before London (no base fee).
const PRE_LONDON: [&str; 11] = [
    "chainstart",
    "homestead",
    "dao",
    "tangerineWhistle",
    "spuriousDragon",
    "byzantium",
    "constantinople",
    "petersburg",
    "istanbul",
    "muirGlacier",
    "berlin",
];

/// A running Hardhat node; stopped when dropped.
#[derive(Debug)]
pub struct HardhatInstance {
    child: std::process::Child,
    url: url::Url,
    _dir: tempfile::TempDir,
}

impl HardhatInstance {
    /// Its JSON-RPC endpoint.
    pub fn endpoint_url(&self) -> url::Url {
        self.url.clone()
    }

    /// The node process.
    pub fn child(&self) -> &std::process::Child {
        &self.child
    }
}

impl Drop for HardhatInstance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Hardhat's node could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HardhatError {
    /// The npm package is not installed.
    #[error("hardhat not found at {}: run `npm install` in {} (make toolchain)", .path.display(), .workspace.display())]
    NotFound {
        /// Where its CLI would be.
        path: PathBuf,
        /// The workspace.
        workspace: PathBuf,
    },
    /// Starting or reading it failed.
    #[error("hardhat node: {0}")]
    Start(String),
}

/// Starts Hardhat's node with `config` on a port the OS picks, in a scratch directory holding its
/// generated `hardhat.config.js`; waits (bounded) until it prints its endpoint.
pub fn spawn_hardhat(config: &HardhatConfig) -> Result<HardhatInstance, HardhatError> {
    use std::io::BufRead;
    let workspace = workspace_root();
    let cli = workspace.join("node_modules/hardhat/internal/cli/cli.js");
    if !cli.is_file() {
        return Err(HardhatError::NotFound { path: cli, workspace });
    }
    let start = |e: &dyn std::fmt::Display| HardhatError::Start(e.to_string());
    // Hardhat runs only from a project that has it installed: the scratch directory lives in
    // the workspace's node_modules (ignored by git), where `hardhat` resolves.
    let parent = workspace.join("node_modules/.cache/crossgov-hardhat");
    std::fs::create_dir_all(&parent).map_err(|e| start(&e))?;
    let dir =
        tempfile::Builder::new().prefix("node-").tempdir_in(&parent).map_err(|e| start(&e))?;
    let accounts: Vec<String> = config
        .funded
        .iter()
        .filter_map(|&i| DEV_KEYS.get(i))
        .map(|k| format!("{{ privateKey: \"{k}\", balance: \"1000000000000000000000000\" }}"))
        .collect();
    let mining = if config.interval_ms == 0 {
        "{ auto: true }".to_owned()
    } else {
        format!("{{ auto: false, interval: {} }}", config.interval_ms)
    };
    // A zero base fee, as on a gas-free Besu network; before London there is none to set.
    let base_fee = if PRE_LONDON.contains(&config.hardfork.as_str()) {
        ""
    } else {
        "\n      initialBaseFeePerGas: 0,"
    };
    let text = format!(
        "// Generated by crossgov's test harness.\nmodule.exports = {{\n  networks: {{\n    hardhat: {{\n      chainId: {},\n      hardfork: \"{}\",{base_fee}\n      accounts: [{}],\n      mining: {mining},\n    }},\n  }},\n}};\n",
        config.chain_id,
        config.hardfork,
        accounts.join(", "),
    );
    let file = dir.path().join("hardhat.config.js");
    std::fs::write(&file, text).map_err(|e| start(&e))?;
    std::fs::write(dir.path().join("package.json"), "{\"private\": true}")
        .map_err(|e| start(&e))?;
    let mut child = std::process::Command::new("node")
        .arg(&cli)
        .args(["node", "--hostname", "127.0.0.1", "--port", "0", "--config"])
        .arg(&file)
        .current_dir(dir.path())
        .env("HARDHAT_DISABLE_TELEMETRY_PROMPT", "true")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| start(&e))?;
    let stdout = child.stdout.take().ok_or_else(|| start(&"no stdout"))?;
    // stderr is drained too (a full pipe would stall the node); its tail explains a failed start.
    let stderr = child.stderr.take().ok_or_else(|| start(&"no stderr"))?;
    let tail = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = tail.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut t = sink.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            t.push_str(&line);
            t.push('\n');
            if t.len() > 8192 {
                let cut = t.len() - 4096;
                let cut = (cut..t.len()).find(|&i| t.is_char_boundary(i)).unwrap_or(cut);
                t.drain(..cut);
            }
        }
    });
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        // Keep reading so the node never blocks on a full pipe; the first endpoint line is sent.
        let mut sent = false;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if !sent && line.contains("JSON-RPC server at ") {
                sent = tx.send(line).is_ok();
            }
        }
    });
    let line = match rx.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            let err = tail.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            return Err(HardhatError::Start(format!("no endpoint printed within 60 s: {err}")));
        }
    };
    let url = line
        .split("JSON-RPC server at ")
        .nth(1)
        .map(|u| u.trim().trim_end_matches('/'))
        .and_then(|u| u.parse::<url::Url>().ok())
        .ok_or_else(|| HardhatError::Start(format!("unexpected line {line:?}")))?;
    Ok(HardhatInstance { child, url, _dir: dir })
}
