//! `crossgov` subcommands (clap derive). Results go to stdout, logs (tracing) to stderr.

// Argument structs are parsed once per process: their size does not matter.
#![allow(clippy::large_enum_variant)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod audit;
pub mod chain;
pub mod common;
pub mod demo;
pub mod deploy;
pub mod dev;
pub mod gov;
pub mod keys;
pub mod perm;
pub mod relayer;
pub mod swap;
pub mod tx;

/// crossgov: governance chain for consortium cross-chain interoperability.
#[derive(Debug, Parser)]
#[command(name = "crossgov", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run or check a relayer.
    #[command(subcommand)]
    Relayer(relayer::RelayerCommand),
    /// Regulators: keys, and listing, reading and verifying the encrypted audit trail.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Proposals and votes, and an admin's institution accounts.
    #[command(subcommand)]
    Gov(gov::GovCommand),
    /// Admitted business chains and their serving relayers.
    #[command(subcommand)]
    Chain(chain::ChainCommand),
    /// Permission grants on resource paths.
    #[command(subcommand)]
    Perm(perm::PermCommand),
    /// Two-phase-commit transactions: submit (as a user), status, list.
    #[command(subcommand)]
    Tx(tx::TxCommand),
    /// HTLC swaps: propose (initiator), accept (counterparty), status.
    #[command(subcommand)]
    Swap(swap::SwapCommand),
    /// Encrypted keystores: new, list, show.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Deploy the governance suite (--config genesis) or a business chain's resources.
    Deploy(deploy::DeployArgs),
    /// Run a local consortium (three anvil chains, contracts, relayers) until interrupted.
    Dev(dev::DevArgs),
    /// Run the local consortium through 2PC, HTLC, a relayer crash and the regulator's audit.
    Demo(demo::DemoArgs),
}

/// Parses the process arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    run(cli)
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Relayer(cmd) => relayer::run(cmd),
        Command::Audit(cmd) => audit::run(cmd),
        Command::Deploy(args) => deploy::run(args),
        Command::Gov(cmd) => gov::run(cmd),
        Command::Chain(cmd) => chain::run(cmd),
        Command::Perm(cmd) => perm::run(cmd),
        Command::Tx(cmd) => tx::run(cmd),
        Command::Keys(cmd) => keys::run(cmd),
        Command::Swap(cmd) => swap::run(cmd),
        Command::Dev(args) => dev::run(args),
        Command::Demo(args) => demo::run(args),
    }
}

/// Installs a tracing subscriber writing to stderr, filtered by `filter` (an `EnvFilter`
/// directive such as `info,crossgov_relayer=debug`), else `RUST_LOG`, else `info`.
pub(crate) fn init_tracing(filter: Option<&str>) -> Result<(), String> {
    use tracing_subscriber::EnvFilter;
    let filter = match filter {
        Some(f) => EnvFilter::try_new(f).map_err(|e| format!("--log {f:?}: {e}"))?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init()
        .map_err(|e| e.to_string())
}

/// Runs `f` on a multi-thread tokio runtime; an error is printed on stderr (exit code 1).
pub(crate) fn block_on<F>(f: F) -> ExitCode
where
    F: std::future::Future<Output = Result<(), String>>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("crossgov: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(f) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crossgov: {e}");
            ExitCode::FAILURE
        }
    }
}

/// SIGINT and SIGTERM, for graceful stops.
pub(crate) struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl Signals {
    pub(crate) fn install() -> Result<Signals, String> {
        use tokio::signal::unix::{SignalKind, signal};
        let int = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT handler: {e}"))?;
        let term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM handler: {e}"))?;
        Ok(Signals { int, term })
    }

    /// Waits for SIGINT or SIGTERM; returns its name.
    pub(crate) async fn wait(&mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "SIGINT",
            _ = self.term.recv() => "SIGTERM",
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_is_well_formed() {
        // `debug_assert` checks subcommands only as they get built: build every one.
        fn build_all(cmd: &mut clap::Command) {
            cmd.build();
            for sub in cmd.get_subcommands_mut() {
                build_all(sub);
            }
        }
        Cli::command().debug_assert();
        build_all(&mut Cli::command());
    }

    /// Every command's `--help`, rendered at a fixed width, against `src/cli/snapshots/`.
    /// `CROSSGOV_UPDATE_SNAPSHOTS=1 cargo test -p crossgov --lib` rewrites them after a change.
    #[test]
    fn help_matches_the_snapshots() {
        fn walk(cmd: &mut clap::Command, name: String, out: &mut Vec<(String, String)>) {
            let help = cmd.render_help().to_string();
            out.push((name.clone(), help));
            for sub in cmd.get_subcommands_mut() {
                if sub.get_name() != "help" {
                    let child = format!("{name}-{}", sub.get_name());
                    walk(sub, child, out);
                }
            }
        }
        let mut root = Cli::command().term_width(100);
        root.build();
        let mut helps = Vec::new();
        walk(&mut root, "crossgov".into(), &mut helps);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli/snapshots");
        let update = std::env::var_os("CROSSGOV_UPDATE_SNAPSHOTS").is_some();
        let mut stale = Vec::new();
        for (name, help) in &helps {
            let path = dir.join(format!("{name}.txt"));
            if update {
                std::fs::create_dir_all(&dir).expect("snapshot dir");
                std::fs::write(&path, help).expect("write snapshot");
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(help.as_str()) {
                stale.push(name.clone());
            }
        }
        assert!(
            stale.is_empty(),
            "help changed for {stale:?}: review, then CROSSGOV_UPDATE_SNAPSHOTS=1 cargo test -p crossgov --lib"
        );
        assert!(helps.len() >= 12, "{} commands", helps.len());
    }
}
