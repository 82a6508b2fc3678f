//! `crossgov relayer run` and `crossgov relayer check-config`.
//!
//! `run` loads and validates the config, loads the signer (keystore or environment; never from
//! the command line), starts the relayer and its HTTP API, prints one JSON line
//! `{"event":"started","http":"ip:port","account":"0x…","chains":[…]}` on stdout, and on SIGINT or
//! SIGTERM stops the API and the relayer gracefully, then prints `{"event":"stopped"}`.
//!
//! `check-config` prints every problem of a config file (or `{"ok":true,…}` with `--json`) and
//! exits with 1 when there is any. With `--live` it then connects to every chain as `run` would
//! (chain id, fee mode, the governance chain's log range) and reports each node, sending nothing.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;
use crossgov_relayer::api::{self, ApiServer};
use crossgov_relayer::config::{Config, ConfigError, ConfigProblem, chain_names};
use crossgov_relayer::metrics::{Metrics, spawn_balance_watcher};
use crossgov_relayer::runtime::{ChainProbe, Relayer, probe};
use serde::Serialize;

/// How often the wallet-balance gauges are refreshed.
const BALANCE_EVERY: Duration = Duration::from_secs(15);

/// `crossgov relayer …`.
#[derive(Debug, Subcommand)]
pub enum RelayerCommand {
    /// Run a relayer until SIGINT or SIGTERM.
    Run {
        /// The relayer's TOML config (see fixtures/relayer.example.toml).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Log filter (tracing EnvFilter syntax, e.g. `info,crossgov_relayer=debug`); default
        /// `RUST_LOG`, else `info`. Logs go to stderr.
        #[arg(long, value_name = "FILTER")]
        log: Option<String>,
    },
    /// Validate a config file and print every problem (exit code 1 if any).
    CheckConfig {
        /// The relayer's TOML config.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Also connect to every chain's node as `run` would (chain id, fee mode, log range).
        #[arg(long)]
        live: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `relayer` subcommand.
pub fn run(cmd: RelayerCommand) -> ExitCode {
    match cmd {
        RelayerCommand::CheckConfig { config, json, live } => check_config(&config, json, live),
        RelayerCommand::Run { config, log } => {
            if let Err(e) = super::init_tracing(log.as_deref()) {
                eprintln!("crossgov: {e}");
                return ExitCode::FAILURE;
            }
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("crossgov: cannot start the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(run_relayer(&config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("crossgov: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

#[derive(Debug, Serialize)]
struct ProblemOut<'a> {
    message: String,
    #[serde(flatten)]
    problem: &'a ConfigProblem,
}

#[derive(Debug, Serialize)]
struct CheckOut<'a> {
    ok: bool,
    config: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    problems: Vec<ProblemOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    live: Option<Vec<ChainProbe>>,
}

fn check_config(path: &std::path::Path, json: bool, live: bool) -> ExitCode {
    let (error, problems) = match Config::load(path) {
        Ok(config) => (None, config.validate()),
        Err(e) => (Some(e.to_string()), Vec::new()),
    };
    let valid = error.is_none() && problems.is_empty();
    // The nodes are probed only for a valid config (they need its signer and endpoints).
    let probes = match (live && valid).then(|| probe_live(path)) {
        Some(Ok(probes)) => Some(probes),
        Some(Err(e)) => {
            eprintln!("crossgov: {e}");
            return ExitCode::FAILURE;
        }
        None => None,
    };
    let ok = valid && probes.iter().flatten().all(|p| p.error.is_none());
    if json {
        let out = CheckOut {
            ok,
            config: path.display().to_string(),
            error,
            problems: problems
                .iter()
                .map(|p| ProblemOut { message: p.to_string(), problem: p })
                .collect(),
            live: probes,
        };
        println!(
            "{}",
            serde_json::to_string(&out)
                .unwrap_or_else(|e| format!("{{\"ok\":false,\"error\":\"{e}\"}}"))
        );
    } else if let Some(error) = error {
        println!("{error}");
    } else if problems.is_empty() {
        println!("{}: ok", path.display());
        for p in probes.iter().flatten() {
            match (&p.error, p.chain_id, &p.pricing) {
                (Some(e), ..) => println!("  {}: FAILED: {e}", p.chain),
                (None, Some(id), Some(pricing)) => {
                    println!("  {}: chain id {id}, fees {pricing}", p.chain);
                }
                (None, ..) => println!("  {}: ok", p.chain),
            }
        }
    } else {
        println!("{}: {} problem(s)", path.display(), problems.len());
        for p in &problems {
            println!("  - {p}");
        }
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Connects to every chain of the (valid) config at `path`, as `run` would.
fn probe_live(path: &std::path::Path) -> Result<Vec<ChainProbe>, String> {
    let resolved = Config::load_resolved(path).map_err(|e: ConfigError| e.to_string())?;
    let signer = resolved.signer.load().map_err(|e| format!("signer: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    Ok(runtime.block_on(probe(&resolved.settings(), &resolved.htlc, signer)))
}

async fn run_relayer(path: &std::path::Path) -> Result<(), String> {
    let mut signals = super::Signals::install()?;
    let resolved = Config::load_resolved(path).map_err(|e: ConfigError| e.to_string())?;
    let signer = resolved.signer.load().map_err(|e| format!("signer: {e}"))?;
    let metrics = Arc::new(Metrics::new());
    let handle = Relayer::start_with_htlc(
        resolved.settings(),
        resolved.htlc.clone(),
        signer,
        metrics.clone(),
        None,
    )
    .await
    .map_err(|e| format!("relayer: {e}"))?;
    let server = match ApiServer::start_with(
        resolved.listen,
        api::router(Arc::new(handle.clone()), metrics.clone())
            .merge(crossgov_relayer::htlc::api::routes(handle.clone())),
        resolved.api.clone(),
    )
    .await
    {
        Ok(s) => s,
        Err(e) => {
            handle.shutdown().await;
            return Err(format!("http: cannot listen on {}: {e}", resolved.listen));
        }
    };
    let mut watched = vec![("governance".to_owned(), resolved.governance.rpc_url.clone())];
    watched.extend(
        resolved.chains.iter().map(|c| (format!("{}.{}", c.zone, c.chain), c.rpc_url.clone())),
    );
    let balances = spawn_balance_watcher(metrics, handle.address(), watched, BALANCE_EVERY);
    tracing::info!(http = %server.local_addr, account = %handle.address(), "relayer started");
    println!(
        "{}",
        serde_json::json!({
            "event": "started",
            "http": server.local_addr.to_string(),
            "account": handle.address(),
            "chains": chain_names(&resolved.chains),
        })
    );
    let signal = signals.wait().await;
    tracing::info!(signal, "stopping");
    balances.abort();
    let served = server.shutdown().await;
    handle.shutdown().await;
    println!("{}", serde_json::json!({ "event": "stopped", "signal": signal }));
    served.map_err(|e| format!("http: {e}"))
}

/// SIGINT and SIGTERM handlers, installed before the relayer reports itself started (so a signal
/// sent right after the `started` line is never the default, abrupt, termination).
#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    #[test]
    fn parses_run_and_check_config() {
        let cli = Cli::try_parse_from([
            "crossgov", "relayer", "run", "--config", "r.toml", "--log", "debug",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Command::Relayer(RelayerCommand::Run { ref config, log: Some(ref l) }) if config.as_os_str() == "r.toml" && l == "debug"
        ));
        let cli = Cli::try_parse_from([
            "crossgov",
            "relayer",
            "check-config",
            "--config",
            "r.toml",
            "--json",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Command::Relayer(RelayerCommand::CheckConfig { json: true, .. })
        ));
        // No secret on the command line: there is no such flag.
        assert!(
            Cli::try_parse_from([
                "crossgov",
                "relayer",
                "run",
                "--config",
                "r.toml",
                "--private-key",
                "0x01"
            ])
            .is_err()
        );
        assert!(Cli::try_parse_from(["crossgov", "relayer", "run"]).is_err());
    }
}
