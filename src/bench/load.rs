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

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::B256;
use alloy::providers::Provider;
use crossgov_deploy::local::{LocalConsortium, keys};
use crossgov_relayer::bindings::TxState;
use crossgov_relayer::runtime::{RelayerHandle, SubmitError};
use serde::{Deserialize, Serialize};

use crate::chaos::proxy::RpcProxy;
use crate::cli::demo::{Demo, swap_amounts};
use crate::cli::dev::{DevRelayer, start_relayers_adjusted};

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
    /// JSON-RPC requests of both banks' relayers (all chains) while the transfers ran, per
    /// transfer (a batch counts each of its calls).
    #[serde(default)]
    pub rpc_per_transfer: f64,
    /// The same by method.
    #[serde(default)]
    pub rpc_per_transfer_by_method: BTreeMap<String, f64>,
    /// JSON-RPC requests of both relayers while the swaps ran, per swap.
    #[serde(default)]
    pub rpc_per_swap: f64,
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

/// What the governance blocks of a run hold.
struct GovBlocks {
    gas: u64,
    txs: usize,
    gas_limit: u64,
}

async fn gov_blocks(
    gov: &alloy::providers::DynProvider,
    from: u64,
    to: u64,
) -> Result<GovBlocks, String> {
    let mut out = GovBlocks { gas: 0, txs: 0, gas_limit: 0 };
    for n in from..=to {
        let b = gov
            .get_block_by_number(n.into())
            .await
            .map_err(|e| e.to_string())?
            .ok_or(format!("no governance block {n}"))?;
        out.gas += b.header.gas_used;
        out.txs += b.transactions.len();
        out.gas_limit = b.header.gas_limit;
    }
    Ok(out)
}

/// The local consortium mining a block every `block_time` seconds, with both banks' relayers
/// reaching every node through a counting proxy (`Proxies`).
async fn start(
    block_time: u64,
    timeout: Duration,
) -> Result<(tempfile::TempDir, Arc<Demo>, Vec<DevRelayer>, Proxies), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let net = LocalConsortium::start(dir.path(), &|s: &str| eprintln!("   · {s}"))
        .await
        .map_err(|e| e.to_string())?;
    for chain in [&net.gov, &net.a.chain, &net.b.chain] {
        chain.set_block_time(block_time).await.map_err(|e| e.to_string())?;
    }
    let mut proxies = Vec::new();
    for url in [net.gov.rpc_url(), net.a.chain.rpc_url(), net.b.chain.rpc_url()] {
        proxies.push(RpcProxy::start(url).await.map_err(|e| e.to_string())?);
    }
    let urls: Vec<_> = proxies.iter().map(RpcProxy::url).collect();
    let relayers = start_relayers_adjusted(&net, &|institution, settings, htlc| {
        // Bank A serves chain A and reads chain B as the swap's peer; Bank B the other way round.
        let (served, peer) = if institution == 1 { (1, 2) } else { (2, 1) };
        settings.governance.rpc_url = urls[0].clone();
        for chain in &mut settings.chains {
            chain.rpc_url = urls[served].clone();
        }
        for p in &mut htlc.peers {
            p.rpc_url = urls[peer].clone();
        }
    })
    .await?;
    Ok((dir, Arc::new(Demo { net, timeout, narrate: false }), relayers, Proxies(proxies)))
}

/// Counting proxies in front of the governance node and chains A and B, used by the relayers
/// only (the load generator talks to the nodes directly), so their counts are the relayers'.
struct Proxies(Vec<RpcProxy>);

impl Proxies {
    /// Requests so far by method, summed over the three nodes.
    fn by_method(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for p in &self.0 {
            for (method, n) in p.stats().by_method() {
                *out.entry(method).or_insert(0) += n;
            }
        }
        out
    }

    /// Requests by method between two readings, per one of `per` things done.
    fn per(
        before: &BTreeMap<String, u64>,
        after: &BTreeMap<String, u64>,
        per: usize,
    ) -> BTreeMap<String, f64> {
        #[allow(clippy::cast_precision_loss)] // small figures
        let per = per.max(1) as f64;
        after
            .iter()
            .filter_map(|(m, n)| {
                let n = n.saturating_sub(before.get(m).copied().unwrap_or(0));
                #[allow(clippy::cast_precision_loss)]
                (n > 0).then(|| (m.clone(), n as f64 / per))
            })
            .collect()
    }
}

/// Submits one transfer through `relayer`, waiting as its `Retry-After` says while the relayer
/// is busy (a closed-loop client: all `--users` are taken in the end).
async fn submit_when_taken(demo: &Demo, relayer: &RelayerHandle) -> Result<B256, String> {
    let started = Instant::now();
    let (request, signature) = demo.signed_transfer(1).await?;
    loop {
        match relayer.submit_transaction(request.clone(), signature.clone()).await {
            Ok(_) => return Ok(request.txId),
            Err(SubmitError::Busy(busy)) if started.elapsed() < demo.timeout => {
                tracing::debug!(%busy, "busy: trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Runs the load and the resume measurement.
pub async fn measure(users: usize, block_time: u64) -> Result<LoadReport, String> {
    let (_dir, demo, relayers, proxies) = start(block_time, Duration::from_secs(600)).await?;
    let bank_a = relayers[0].handle.clone();
    let gov = demo.gov().clone();
    let block = |p: &alloy::providers::DynProvider| {
        let p = p.clone();
        async move { p.get_block_number().await.map_err(|e| e.to_string()) }
    };

    eprintln!("   · {users} transfers at once, blocks every {block_time}s");
    let first_block = block(&gov).await?;
    let rpc0 = proxies.by_method();
    let cpu0 = cpu_secs();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..users {
        let (demo, bank_a, gov) = (demo.clone(), bank_a.clone(), gov.clone());
        tasks.push(tokio::spawn(async move {
            let submitted = Instant::now();
            let from = gov.get_block_number().await.map_err(|e| e.to_string())?;
            let tx: B256 = submit_when_taken(&demo, &bank_a).await?;
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
    let rpc1 = proxies.by_method();
    let rpc_per_transfer_by_method = Proxies::per(&rpc0, &rpc1, users);
    let last_block = block(&gov).await?;
    secs.sort();
    blocks.sort_unstable();
    let p = |v: &[Duration], q| percentile(v, q).map_or(0.0, |d| d.as_secs_f64());

    // Governance gas of the run, and the block gas limit.
    let GovBlocks { gas: gov_gas, gas_limit, .. } =
        gov_blocks(&gov, first_block + 1, last_block).await?;
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
    let rpc_per_swap = Proxies::per(&rpc1, &proxies.by_method(), users).values().sum();
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
        rpc_per_transfer: rpc_per_transfer_by_method.values().sum(),
        rpc_per_transfer_by_method,
        rpc_per_swap,
    })
}

/// One offered rate of an open-loop run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateStep {
    /// Transfers submitted per second, whatever the relayers keep up with.
    pub offered_tps: f64,
    /// Seconds of submissions.
    pub duration_secs: u64,
    /// Transfers submitted.
    pub submitted: usize,
    /// Of which refused by the relayer as busy (503 Busy: `max_open_work` open at once).
    #[serde(default)]
    pub refused_busy: usize,
    /// Transfers committed.
    pub completed: usize,
    /// Committed per second over the span of the commits (first to last).
    pub sustained_tps: f64,
    /// Latency percentiles (submission to commit), seconds.
    pub latency_p50_secs: f64,
    /// 95th percentile, seconds.
    pub latency_p95_secs: f64,
    /// Median latency in governance blocks.
    pub latency_p50_blocks: u64,
    /// Governance gas of the step ÷ transfers committed.
    pub governance_gas_per_transfer: u64,
    /// Governance transactions of the step ÷ transfers committed.
    pub governance_txs_per_transfer: f64,
    /// `sustained ÷ (gas limit ÷ gas per transfer ÷ block time)`.
    pub fraction_of_ceiling: f64,
    /// CPU seconds of this process (relayers + load generator) during the step.
    pub cpu_secs: f64,
    /// Peak resident memory of this process so far, MiB.
    pub peak_rss_mib: f64,
}

/// An open-loop run at rising offered rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateReport {
    /// Seconds per block on every chain.
    pub block_time_secs: u64,
    /// The governance chain's block gas limit.
    pub block_gas_limit: u64,
    /// Each offered rate, in order; the ramp stops after the first below 80 % of its offer.
    pub steps: Vec<RateStep>,
    /// The highest sustained rate seen.
    pub capacity_tps: f64,
    /// The machine.
    pub machine: String,
}

/// Whether a step kept up with its offer (the ramp goes on only while it does): every transfer
/// taken and committed, at 80 % of the offered rate or more (commits come in block-sized bursts, so a
/// 30-second step reads a few percent under its offer even when nothing queues).
pub fn kept_up(step: &RateStep) -> bool {
    step.refused_busy == 0
        && step.completed == step.submitted
        && step.sustained_tps >= 0.8 * step.offered_tps
}

/// Offers transfers through Bank A's relayer at each of `rates` per second for `secs` seconds
/// (open loop: a submission never waits for an earlier one), until one rate is not kept up with.
pub async fn measure_rates(
    rates: &[f64],
    secs: u64,
    block_time: u64,
) -> Result<RateReport, String> {
    let (_dir, demo, relayers, _proxies) = start(block_time, Duration::from_secs(900)).await?;
    let bank_a = relayers[0].handle.clone();
    let gov = demo.gov().clone();
    // Enough for every transfer of the ramp (one unit each), so none aborts for want of funds.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let needed = rates.iter().map(|r| (r * secs as f64).ceil() as u64).sum::<u64>();
    let alice = demo.net.address(keys::ALICE);
    demo.net
        .a
        .xa(keys::ADMIN_A)
        .mint(alice, alloy::primitives::U256::from(needed))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .get_receipt()
        .await
        .map_err(|e| e.to_string())?;
    let mut steps = Vec::new();
    let mut gas_limit = 0;
    for &rate in rates {
        if !rate.is_finite() || rate <= 0.0 {
            return Err(format!("rate {rate}: rates must be positive"));
        }
        eprintln!("   · {rate} transfers/s for {secs}s, blocks every {block_time}s");
        let first_block = gov.get_block_number().await.map_err(|e| e.to_string())?;
        let cpu0 = cpu_secs();
        let started = tokio::time::Instant::now();
        let interval = Duration::from_secs_f64(1.0 / rate);
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let count = ((rate * secs as f64).round() as usize).max(1);
        let mut tasks = Vec::with_capacity(count);
        for i in 0..count {
            tokio::time::sleep_until(started + interval.mul_f64(i as f64)).await;
            let (demo, bank_a, gov) = (demo.clone(), bank_a.clone(), gov.clone());
            tasks.push(tokio::spawn(async move {
                let submitted = Instant::now();
                let from = gov.get_block_number().await.map_err(|e| e.to_string())?;
                // Open loop: a transfer the relayer refuses as busy is not offered again.
                let (request, signature) = demo.signed_transfer(1).await?;
                let tx = request.txId;
                match bank_a.submit_transaction(request, signature).await {
                    Ok(_) => {}
                    Err(SubmitError::Busy(_)) => return Ok(None),
                    Err(e) => return Err(e.to_string()),
                }
                if demo.wait_tx(tx, &[TxState::Committed, TxState::Aborted]).await?
                    == TxState::Aborted
                {
                    return Err(format!("transfer {tx} aborted"));
                }
                let at = gov.get_block_number().await.map_err(|e| e.to_string())?;
                Ok::<_, String>(Some((
                    submitted.elapsed(),
                    at.saturating_sub(from),
                    Instant::now(),
                )))
            }));
        }
        let mut secs_v = Vec::new();
        let mut blocks = Vec::new();
        let (mut first, mut last) = (None::<Instant>, started.into_std());
        let mut refused = 0;
        for t in tasks {
            let Some((took, b, at)) = t.await.map_err(|e| e.to_string())?? else {
                refused += 1;
                continue;
            };
            secs_v.push(took);
            blocks.push(b);
            last = last.max(at);
            first = Some(first.map_or(at, |f| f.min(at)));
        }
        // The rate of commits over their own span (not from the first submission, which would
        // count one latency against the rate).
        let span = first.map_or(0.0, |f| last.duration_since(f).as_secs_f64());
        let cpu = cpu_secs() - cpu0;
        let last_block = gov.get_block_number().await.map_err(|e| e.to_string())?;
        let blocks_of_step = gov_blocks(&gov, first_block + 1, last_block).await?;
        let (gov_gas, gov_txs) = (blocks_of_step.gas, blocks_of_step.txs);
        gas_limit = blocks_of_step.gas_limit;
        secs_v.sort();
        blocks.sort_unstable();
        let done = secs_v.len();
        let per_transfer = gov_gas / u64::try_from(done.max(1)).unwrap_or(1);
        #[allow(clippy::cast_precision_loss)]
        let (sustained, ceiling) = (
            if done > 1 { (done - 1) as f64 / span.max(f64::EPSILON) } else { 0.0 },
            gas_limit as f64 / per_transfer.max(1) as f64 / block_time.max(1) as f64,
        );
        let p = |v: &[Duration], q| percentile(v, q).map_or(0.0, |d| d.as_secs_f64());
        #[allow(clippy::cast_precision_loss)]
        let step = RateStep {
            offered_tps: rate,
            duration_secs: secs,
            submitted: count,
            refused_busy: refused,
            completed: done,
            sustained_tps: sustained,
            latency_p50_secs: p(&secs_v, 50),
            latency_p95_secs: p(&secs_v, 95),
            latency_p50_blocks: percentile(&blocks, 50).unwrap_or(0),
            governance_gas_per_transfer: per_transfer,
            governance_txs_per_transfer: gov_txs as f64 / done.max(1) as f64,
            fraction_of_ceiling: sustained / ceiling.max(f64::EPSILON),
            cpu_secs: cpu,
            peak_rss_mib: peak_rss_mib(),
        };
        eprint!("{}", rate_row(&step));
        let stop = !kept_up(&step);
        steps.push(step);
        if stop {
            break;
        }
    }
    for r in relayers {
        let _ = r.server.shutdown().await;
        r.handle.shutdown().await;
    }
    let capacity_tps = steps.iter().map(|s| s.sustained_tps).fold(0.0, f64::max);
    Ok(RateReport {
        block_time_secs: block_time,
        block_gas_limit: gas_limit,
        steps,
        capacity_tps,
        machine: machine(),
    })
}

fn rate_row(s: &RateStep) -> String {
    format!(
        "  offered {:>5.1}/s  committed {:>4}/{:<4} busy {:>4}  sustained {:>6.2}/s  p50 {:>5.1}s ({} blocks)  p95 {:>5.1}s  gas/transfer {:>9}  gov txs/transfer {:.2}  ceiling {:>5.1}%  CPU {:.0}s  RSS {:.0} MiB\n",
        s.offered_tps,
        s.completed,
        s.submitted,
        s.refused_busy,
        s.sustained_tps,
        s.latency_p50_secs,
        s.latency_p50_blocks,
        s.latency_p95_secs,
        s.governance_gas_per_transfer,
        s.governance_txs_per_transfer,
        s.fraction_of_ceiling * 100.0,
        s.cpu_secs,
        s.peak_rss_mib
    )
}

/// The text table of a rate run.
pub fn rate_table(r: &RateReport) -> String {
    let mut out = format!(
        "2PC transfers at rising offered rates, {}s blocks, gas limit {} ({})\n",
        r.block_time_secs, r.block_gas_limit, r.machine
    );
    for s in &r.steps {
        out.push_str(&rate_row(s));
    }
    out.push_str(&format!("capacity: {:.2} transfers/s sustained\n", r.capacity_tps));
    out
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
         \x20 relayer RPC          {:.1} requests per transfer ({})\n\
         HTLC swaps: {} at once\n\
         \x20 throughput           {:.3} swaps/s\n\
         \x20 latency p50 / p95    {:.1}s / {:.1}s (proposal to closure)\n\
         \x20 relayer RPC          {:.1} requests per swap\n",
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
        r.rpc_per_transfer,
        r.rpc_per_transfer_by_method
            .iter()
            .map(|(m, n)| format!("{m} {n:.1}"))
            .collect::<Vec<_>>()
            .join(", "),
        r.swaps,
        r.swap_throughput,
        r.swap_latency_p50_secs,
        r.swap_latency_p95_secs,
        r.rpc_per_swap
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_keeps_up_when_all_commit_near_the_offer() {
        let step = |submitted, completed, sustained_tps| RateStep {
            offered_tps: 10.0,
            duration_secs: 30,
            submitted,
            refused_busy: 0,
            completed,
            sustained_tps,
            latency_p50_secs: 7.0,
            latency_p95_secs: 8.0,
            latency_p50_blocks: 8,
            governance_gas_per_transfer: 600_000,
            governance_txs_per_transfer: 0.2,
            fraction_of_ceiling: 0.2,
            cpu_secs: 1.0,
            peak_rss_mib: 30.0,
        };
        assert!(kept_up(&step(300, 300, 9.3)));
        assert!(kept_up(&step(300, 300, 8.0)));
        assert!(!kept_up(&step(300, 300, 7.9)), "a queue builds");
        assert!(!kept_up(&step(300, 299, 10.0)), "one not committed");
        let busy = RateStep { refused_busy: 1, ..step(300, 299, 10.0) };
        assert!(!kept_up(&busy), "one refused as busy");
    }

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
