//! `crossgov dev`: a local consortium with no configuration, running until interrupted.
//!
//! Three anvil chains (governance, zoneA.chainA, zoneB.chainB), the governance suite and the
//! business-chain resources deployed, three founding banks, both chains admitted by vote, one
//! regulator, and one relayer per serving bank running in this process with its HTTP API. It
//! prints the endpoints, the dev keys and where the manifests are, then waits for SIGINT or
//! SIGTERM. The anvil processes stop with it (also on a panic: they are killed on drop).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use crossgov_deploy::local::{LocalConsortium, keys};
use crossgov_relayer::api::{self, ApiServer};
use crossgov_relayer::htlc::HtlcSettings;
use crossgov_relayer::metrics::Metrics;
use crossgov_relayer::runtime::{Relayer, RelayerHandle, RelayerSettings};
use serde_json::json;

/// Log filter of `dev` and `demo`: warnings, without the errors alloy's block pollers log when
/// the chains stop before them at exit.
pub(crate) const QUIET_POLLERS: &str =
    "warn,alloy_provider::blocks=off,alloy_rpc_client::poller=off";

/// `crossgov dev` options.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// Where manifests and relayer state go (default: a fresh temporary directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Print the consortium as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `dir`, or a fresh temporary directory (deleted when the guard drops).
pub(crate) fn work_dir(dir: Option<&Path>) -> Result<(PathBuf, Option<tempfile::TempDir>), String> {
    match dir {
        Some(d) => Ok((d.to_path_buf(), None)),
        None => {
            let tmp = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
            Ok((tmp.path().to_path_buf(), Some(tmp)))
        }
    }
}

/// A relayer of the local consortium with its HTTP API.
pub(crate) struct DevRelayer {
    pub(crate) name: &'static str,
    pub(crate) handle: RelayerHandle,
    pub(crate) server: ApiServer,
}

/// Starts Bank A's and Bank B's relayers, each with its HTTP API on a port the OS picks.
pub(crate) async fn start_relayers(net: &LocalConsortium) -> Result<Vec<DevRelayer>, String> {
    start_relayers_adjusted(net, &|_, _, _| {}).await
}

/// How a caller changes a bank's relayer settings before it starts: (institution, settings, HTLC).
pub(crate) type Adjust<'a> = &'a (dyn Fn(u64, &mut RelayerSettings, &mut HtlcSettings) + Sync);

/// Both banks' relayers as `start_relayers` starts them, their settings passed through `adjust`
/// first (the load benchmark points their RPC at counting proxies).
pub(crate) async fn start_relayers_adjusted(
    net: &LocalConsortium,
    adjust: Adjust<'_>,
) -> Result<Vec<DevRelayer>, String> {
    let mut out = Vec::new();
    for (name, institution, key) in [("bank-a", 1, keys::RELAYER_A), ("bank-b", 2, keys::RELAYER_B)]
    {
        let state_dir = net.dir.join("state").join(name);
        let (mut settings, mut htlc) = net.relayer_settings(institution, state_dir);
        adjust(institution, &mut settings, &mut htlc);
        let metrics = Arc::new(Metrics::new());
        let handle = Relayer::start_with_htlc(
            settings,
            htlc,
            net.signers[key].clone(),
            metrics.clone(),
            None,
        )
        .await
        .map_err(|e| format!("relayer {name}: {e}"))?;
        let router = api::router(Arc::new(handle.clone()), metrics)
            .merge(crossgov_relayer::htlc::api::routes(handle.clone()));
        let listen: SocketAddr = ([127, 0, 0, 1], 0).into();
        let server = ApiServer::start(listen, router)
            .await
            .map_err(|e| format!("relayer {name}: http: {e}"))?;
        out.push(DevRelayer { name, handle, server });
    }
    Ok(out)
}

/// Runs `crossgov dev`.
pub fn run(args: DevArgs) -> ExitCode {
    if let Err(e) = super::init_tracing(Some(QUIET_POLLERS)) {
        eprintln!("crossgov: {e}");
        return ExitCode::FAILURE;
    }
    super::block_on(async move {
        let (dir, _tmp) = work_dir(args.dir.as_deref())?;
        let mut signals = super::Signals::install()?;
        let progress = |s: &str| eprintln!("crossgov dev: {s}");
        let net = LocalConsortium::start(&dir, &progress).await.map_err(|e| e.to_string())?;
        let relayers = start_relayers(&net).await?;
        print_consortium(&net, &relayers, &dir, args.json);
        let signal = signals.wait().await;
        eprintln!("crossgov dev: {signal}: stopping relayers and chains");
        for r in relayers {
            let _ = r.server.shutdown().await;
            r.handle.shutdown().await;
        }
        drop(net);
        if args.json {
            println!("{}", json!({ "event": "stopped", "signal": signal }));
        }
        Ok(())
    })
}

fn print_consortium(net: &LocalConsortium, relayers: &[DevRelayer], dir: &Path, as_json: bool) {
    let roles = [
        (keys::ADMIN_A, "admin of Bank A (institution 1), owner of zoneA.chainA"),
        (keys::ADMIN_B, "admin of Bank B (institution 2), owner of zoneB.chainB"),
        (keys::ADMIN_C, "admin of Bank C (institution 3)"),
        (keys::RELAYER_A, "relayer of Bank A (running here)"),
        (keys::RELAYER_B, "relayer of Bank B (running here)"),
        (keys::ALICE, "alice, user of Bank A"),
        (keys::BOB, "bob, user of Bank B"),
        (keys::RELAYER_A2, "second relayer of Bank A (not running)"),
        (keys::REGULATOR, "regulator"),
        (keys::DEPLOYER, "deployer"),
    ];
    let chains = [
        ("governance", net.gov.rpc_url().to_string(), net.deployment.chain_id),
        ("zoneA.chainA", net.a.chain.rpc_url().to_string(), net.a.resources.chain_id),
        ("zoneB.chainB", net.b.chain.rpc_url().to_string(), net.b.resources.chain_id),
    ];
    if as_json {
        let v = json!({
            "event": "started",
            "chains": chains.iter().map(|(n, u, id)| json!({ "name": n, "rpcUrl": u, "chainId": id })).collect::<Vec<_>>(),
            "relayers": relayers.iter().map(|r| json!({ "name": r.name, "account": r.handle.address(), "http": format!("http://{}", r.server.local_addr) })).collect::<Vec<_>>(),
            "accounts": roles.iter().map(|(k, role)| json!({ "role": role, "address": net.address(*k), "privateKey": net.signers[*k].to_bytes() })).collect::<Vec<_>>(),
            "manifest": net.governance_manifest(),
            "dir": dir,
        });
        println!("{v}");
        return;
    }
    println!("crossgov dev: a local consortium is running (Ctrl-C stops it and its chains)\n");
    println!("chains");
    for (name, url, id) in &chains {
        println!("  {name:<14} {url:<26} chain id {id}");
    }
    println!("\nrelayer APIs");
    for r in relayers {
        println!(
            "  {:<14} http://{:<19} account {}",
            r.name,
            r.server.local_addr,
            r.handle.address()
        );
    }
    println!("\naccounts (anvil's public dev keys: local use only)");
    for (k, role) in roles {
        println!("  {} {}  {role}", net.address(k), net.signers[k].to_bytes());
    }
    println!("\nmanifests  {}", net.governance_manifest().display());
    println!("           {}", dir.join("zoneA.chainA.json").display());
    println!("           {}", dir.join("zoneB.chainB.json").display());
}
