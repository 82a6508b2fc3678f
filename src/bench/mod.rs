//! Benchmarks: commands that print figures (`crossgov-bench`), never timed tests.
//!
//! - [`gas`]: gas per 2PC transfer, per HTLC swap and per batched report from real receipts, by
//!   contract function, against a computed lower bound and a committed baseline.
//! - [`load`]: throughput, latency, CPU/RSS and resume time of 2PC transfers at a fixed block time.

pub mod gas;
pub mod load;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// crossgov-bench: crossgov's benchmarks.
#[derive(Debug, Parser)]
#[command(name = "crossgov-bench", version, about)]
pub struct BenchCli {
    /// Which benchmark.
    #[command(subcommand)]
    pub command: BenchCommand,
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Gas per 2PC transfer and per HTLC swap on the local consortium, and of eight votes with
    /// their audit records sent one at a time and in one report.
    Gas {
        /// Write the reports (JSON) here.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Fail when a figure grew more than 5 % over this baseline.
        #[arg(long, value_name = "FILE")]
        check: Option<PathBuf>,
        /// Print JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Throughput and latency of concurrent 2PC transfers, and resume time after a relayer dies;
    /// with `--rate`, capacity at rising offered rates instead.
    Load {
        /// Transfers submitted at once.
        #[arg(long, default_value_t = 20)]
        users: usize,
        /// Offer transfers at these rates per second, in turn (open loop), until one is not kept
        /// up with: e.g. `--rate 2,5,10,20,40`.
        #[arg(long, value_delimiter = ',', conflicts_with = "users")]
        rate: Vec<f64>,
        /// Seconds of submissions per rate.
        #[arg(long, default_value_t = 60, requires = "rate")]
        secs: u64,
        /// Seconds per block on every chain.
        #[arg(long, default_value_t = 1)]
        block_time: u64,
        /// Write the report (JSON) here.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Print JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
}

/// Growth over the baseline that fails `--check`.
pub const TOLERANCE: f64 = 0.05;

/// Parses the arguments and runs the benchmark.
pub fn main() -> ExitCode {
    let cli = BenchCli::parse();
    crate::cli::block_on(async move {
        match cli.command {
            BenchCommand::Gas { out, check, json } => {
                let reports = gas::measure().await?;
                let text = serde_json::to_string_pretty(&reports).map_err(|e| e.to_string())?;
                if json {
                    println!("{text}");
                } else {
                    print!("{}", gas::table(&reports));
                }
                if let Some(out) = out {
                    if let Some(parent) = out.parent() {
                        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                    }
                    std::fs::write(&out, format!("{text}\n"))
                        .map_err(|e| format!("{}: {e}", out.display()))?;
                }
                if let Some(path) = check {
                    let base = std::fs::read_to_string(&path)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    let base: Vec<gas::GasReport> = serde_json::from_str(&base)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    let grown = gas::regressions(&base, &reports, TOLERANCE);
                    if !grown.is_empty() {
                        return Err(format!(
                            "gas grew more than 5% over {}:\n  {}\nupdate the baseline in the same change if this is intended",
                            path.display(),
                            grown.join("\n  ")
                        ));
                    }
                    eprintln!("gas within 5% of {}", path.display());
                }
                Ok(())
            }
            BenchCommand::Load { users, rate, secs, block_time, out, json } => {
                let (text, table) = if rate.is_empty() {
                    let report = load::measure(users, block_time).await?;
                    (serde_json::to_string_pretty(&report), load::table(&report))
                } else {
                    let report = load::measure_rates(&rate, secs, block_time).await?;
                    (serde_json::to_string_pretty(&report), load::rate_table(&report))
                };
                let text = text.map_err(|e| e.to_string())?;
                if json {
                    println!("{text}");
                } else {
                    print!("{table}");
                }
                if let Some(out) = out {
                    if let Some(parent) = out.parent() {
                        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                    }
                    std::fs::write(&out, format!("{text}\n"))
                        .map_err(|e| format!("{}: {e}", out.display()))?;
                }
                Ok(())
            }
        }
    })
}
