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

    #[test]
    fn not_found_error_tells_to_run_npm_ci() {
        let err = DevnetError::NotFound { npm_path: None, workspace: PathBuf::from("/w") };
        let text = err.to_string();
        assert!(text.contains("npm ci") && text.contains(ANVIL_ENV), "{text}");
    }
}
