//! `crossgov` subcommands (clap derive). Results go to stdout, logs (tracing) to stderr.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod audit;
pub mod relayer;

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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
