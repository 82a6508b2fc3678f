//! Throughput, latency and resume time of 2PC transfers on the local consortium with every chain
//! mining one block per `block_time` seconds (set after the setup, through anvil's RPC).
//!
//! `users` transfers are submitted at once through Bank A's relayer (each a separate signed
//! request; all from alice, who holds enough for all of them); each is timed from its submission
//! until the coordinator shows it committed, in seconds and in governance blocks. The ceiling is
//! what the governance chain's block gas limit allows: `gas limit ÷ governance gas per transfer`
//! per block. CPU and peak RSS are this process's: the two relayers and the load generator.
//! Then as many HTLC swaps at once (alice and bob swap 1 unit each way), each timed from its
//! proposal to its closure. Resume: Bank A's relayer dies after `prepare` and its second relayer
//! finishes the transfer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::B256;
use alloy::providers::Provider;
use crossgov_deploy::local::{LocalConsortium, keys};
use crossgov_relayer::bindings::TxState;
use serde::{Deserialize, Serialize};

use crate::cli::demo::{Demo, swap_amounts};
use crate::cli::dev::start_relayers;

/// The figures of one load run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadReport {
    /// Concurrent transfers.
    pub users: usize,
    /// Seconds per block on every chain.
    pub block_time_secs: u64,
    /// Transfers committed.
    pub completed: usize,
    /// From the first submission to the last commit.
    pub elapsed_secs: f64,
    /// `completed / elapsed`.
    pub throughput_tps: f64,
    /// Latency percentiles, seconds.
    pub latency_p50_secs: f64,
    /// 95th percentile, seconds.
    pub latency_p95_secs: f64,
    /// Latency percentiles, governance blocks.
    pub latency_p50_blocks: u64,
    /// 95th percentile, blocks.
    pub latency_p95_blocks: u64,
    /// Governance-chain gas per transfer (all governance transactions of the run ÷ transfers).
    pub governance_gas_per_transfer: u64,
    /// The governance chain's block gas limit.
    pub block_gas_limit: u64,
    /// `gas limit ÷ gas per transfer ÷ block time`.
    pub ceiling_tps: f64,
    /// `throughput ÷ ceiling`.
    pub fraction_of_ceiling: f64,
    /// CPU seconds this process used during the run (relayers + load generator).
    pub cpu_secs: f64,
    /// Peak resident memory of this process, MiB.
    pub peak_rss_mib: f64,
    /// A relayer killed after `prepare`: seconds until the other relayer committed the transfer.
    pub resume_secs: f64,
    /// The same in governance blocks.
    pub resume_blocks: u64,
    /// HTLC swaps at once (as many as transfers).
    pub swaps: usize,
    /// Swaps closed, from the first proposal to the last closure, per second.
    pub swap_throughput: f64,
    /// Swap latency percentiles (proposal to closure), seconds.
    pub swap_latency_p50_secs: f64,
    /// 95th percentile, seconds.
    pub swap_latency_p95_secs: f64,
    /// The machine.
    pub machine: String,
}

/// CPU seconds (user + system) of this process, from `/proc/self/stat` (Linux).
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // USER_HZ is 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident set of this process in MiB (`VmHWM`).
fn peak_rss_mib() -> f64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return 0.0 };
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} CPUs, {model}, {}", std::env::consts::OS)
}

fn percentile<T: Copy + Ord>(sorted: &[T], p: usize) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let i = (sorted.len() * p).div_ceil(100).clamp(1, sorted.len()) - 1;
    sorted.get(i).copied()
}

/// Runs the load and the resume measurement.
pub async fn measure(users: usize, block_time: u64) -> Result<LoadReport, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let net = LocalConsortium::start(dir.path(), &|s: &str| eprintln!("   · {s}"))
        .await
        .map_err(|e| e.to_string())?;
    for chain in [&net.gov, &net.a.chain, &net.b.chain] {
        chain.set_block_time(block_time).await.map_err(|e| e.to_string())?;
    }
    let relayers = start_relayers(&net).await?;
    let bank_a = relayers[0].handle.clone();
    let demo = Arc::new(Demo { net, timeout: Duration::from_secs(600), narrate: false });
    let gov = demo.gov().clone();
    let block = |p: &alloy::providers::DynProvider| {
        let p = p.clone();
        async move { p.get_block_number().await.map_err(|e| e.to_string()) }
    };

    eprintln!("   · {users} transfers at once, blocks every {block_time}s");
    let first_block = block(&gov).await?;
    let cpu0 = cpu_secs();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..users {
        let (demo, bank_a, gov) = (demo.clone(), bank_a.clone(), gov.clone());
        tasks.push(tokio::spawn(async move {
            let submitted = Instant::now();
            let from = gov.get_block_number().await.map_err(|e| e.to_string())?;
            let tx: B256 = demo.transfer(&bank_a, 1).await?;
            loop {
                if demo.tx_state(tx).await? == TxState::Committed {
                    let at = gov.get_block_number().await.map_err(|e| e.to_string())?;
                    return Ok::<_, String>((
                        submitted.elapsed(),
                        at.saturating_sub(from),
                        Instant::now(),
                    ));
                }
                if submitted.elapsed() > demo.timeout {
                    return Err(format!("{tx} not committed within {:?}", demo.timeout));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }
    let mut secs = Vec::new();
    let mut blocks = Vec::new();
    let mut last = started;
    for t in tasks {
        let (took, b, at) = t.await.map_err(|e| e.to_string())??;
        secs.push(took);
        blocks.push(b);
        last = last.max(at);
    }
    let elapsed = last.duration_since(started).as_secs_f64();
    let cpu = cpu_secs() - cpu0;
    let last_block = block(&gov).await?;
    secs.sort();
    blocks.sort_unstable();
    let p = |v: &[Duration], q| percentile(v, q).map_or(0.0, |d| d.as_secs_f64());

    // Governance gas of the run, and the block gas limit.
    let mut gov_gas = 0u64;
    let mut gas_limit = 0u64;
    for n in first_block + 1..=last_block {
        let b = gov
            .get_block_by_number(n.into())
            .await
            .map_err(|e| e.to_string())?
            .ok_or(format!("no governance block {n}"))?;
        gov_gas += b.header.gas_used;
        gas_limit = b.header.gas_limit;
    }
    let per_transfer = gov_gas / u64::try_from(users.max(1)).unwrap_or(1);
    #[allow(clippy::cast_precision_loss)] // small figures
    let (throughput, ceiling) = (
        users as f64 / elapsed.max(f64::EPSILON),
        gas_limit as f64 / per_transfer.max(1) as f64 / block_time.max(1) as f64,
    );

    eprintln!("   · {users} HTLC swaps at once");
    let bank_b = relayers[1].handle.clone();
    let swaps_started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..users {
        let (demo, bank_a, bank_b) = (demo.clone(), bank_a.clone(), bank_b.clone());
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            swap_amounts(&demo, &bank_a, &bank_b, (1, 1)).await?;
            Ok::<_, String>((t.elapsed(), Instant::now()))
        }));
    }
    let mut swap_secs = Vec::new();
    let mut swaps_last = swaps_started;
    for t in tasks {
        let (took, at) = t.await.map_err(|e| e.to_string())??;
        swap_secs.push(took);
        swaps_last = swaps_last.max(at);
    }
    swap_secs.sort();
    #[allow(clippy::cast_precision_loss)]
    let swap_throughput =
        users as f64 / swaps_last.duration_since(swaps_started).as_secs_f64().max(f64::EPSILON);

    eprintln!("   · resume: Bank A's relayer dies after prepare, its second relayer finishes");
    let a = relayers.into_iter().next().ok_or("no relayer")?;
    let _ = a.server.shutdown().await;
    a.handle.shutdown().await;
    let (crashing, tx) = demo.transfer_dying_after_prepare("bench-crashing", 1).await?;
    let crashed_at = Instant::now();
    let crashed_block = block(&gov).await?;
    let takeover = demo
        .net
        .start_relayer(1, keys::RELAYER_A2, "bench-takeover", None)
        .await
        .map_err(|e| e.to_string())?;
    demo.wait_tx(tx, &[TxState::Committed]).await?;
    let resume_secs = crashed_at.elapsed().as_secs_f64();
    let resume_blocks = block(&gov).await?.saturating_sub(crashed_block);
    takeover.shutdown().await;
    crashing.shutdown().await;

    Ok(LoadReport {
        users,
        block_time_secs: block_time,
        completed: secs.len(),
        elapsed_secs: elapsed,
        throughput_tps: throughput,
        latency_p50_secs: p(&secs, 50),
        latency_p95_secs: p(&secs, 95),
        latency_p50_blocks: percentile(&blocks, 50).unwrap_or(0),
        latency_p95_blocks: percentile(&blocks, 95).unwrap_or(0),
        governance_gas_per_transfer: per_transfer,
        block_gas_limit: gas_limit,
        ceiling_tps: ceiling,
        fraction_of_ceiling: throughput / ceiling.max(f64::EPSILON),
        cpu_secs: cpu,
        peak_rss_mib: peak_rss_mib(),
        resume_secs,
        resume_blocks,
        swaps: swap_secs.len(),
        swap_throughput,
        swap_latency_p50_secs: p(&swap_secs, 50),
        swap_latency_p95_secs: p(&swap_secs, 95),
        machine: machine(),
    })
}

/// The text table of a report.
pub fn table(r: &LoadReport) -> String {
    format!(
        "2PC transfers: {} at once, {}s blocks ({})\n\
         \x20 completed            {} in {:.1}s\n\
         \x20 throughput           {:.3} tx/s\n\
         \x20 latency p50 / p95    {:.1}s / {:.1}s, {} / {} governance blocks\n\
         \x20 gas ceiling          {} gas limit / {} governance gas per transfer = {:.1} tx/s; achieved {:.2}%\n\
         \x20 CPU, peak RSS        {:.1}s, {:.0} MiB (relayers + load generator)\n\
         \x20 resume               {:.1}s, {} blocks from a relayer's death after prepare to commit\n\
         HTLC swaps: {} at once\n\
         \x20 throughput           {:.3} swaps/s\n\
         \x20 latency p50 / p95    {:.1}s / {:.1}s (proposal to closure)\n",
        r.users,
        r.block_time_secs,
        r.machine,
        r.completed,
        r.elapsed_secs,
        r.throughput_tps,
        r.latency_p50_secs,
        r.latency_p95_secs,
        r.latency_p50_blocks,
        r.latency_p95_blocks,
        r.block_gas_limit,
        r.governance_gas_per_transfer,
        r.ceiling_tps,
        r.fraction_of_ceiling * 100.0,
        r.cpu_secs,
        r.peak_rss_mib,
        r.resume_secs,
        r.resume_blocks,
        r.swaps,
        r.swap_throughput,
        r.swap_latency_p50_secs,
        r.swap_latency_p95_secs
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let v: Vec<u64> = (1..=20).collect();
        assert_eq!(percentile(&v, 50), Some(10));
        assert_eq!(percentile(&v, 95), Some(19));
        assert_eq!(percentile(&[7u64], 95), Some(7));
        assert_eq!(percentile::<u64>(&[], 50), None);
    }

    #[test]
    fn process_figures_are_read_from_proc() {
        if cfg!(target_os = "linux") {
            assert!(peak_rss_mib() > 0.0);
            assert!(cpu_secs() >= 0.0);
        }
    }
}
