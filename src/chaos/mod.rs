//! Randomized fault trials (`crossgov-chaos`, `make chaos TRIALS=N`).
//!
//! Each trial takes a fresh copy of the local consortium (three anvils loaded from a saved state,
//! so a trial starts in a second), runs a seeded [`Schedule`] of concurrent 2PC transfers and HTLC
//! swaps through real relayers, injects the schedule's faults (relayers killed and brought back
//! three ways, nodes stopped and restarted from their state files, RPC requests dropped, answers
//! lost, requests delayed, mining stalled, the governance clock jumping past deadlines) and checks
//! the invariants of [`check`] on the chains. A failing trial prints its seed and the command that
//! replays it.

pub mod check;
pub mod proxy;
pub mod schedule;
pub mod trial;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use crossgov_deploy::local::LocalConsortium;
use futures_util::StreamExt;

pub use schedule::{Schedule, trial_seed};
pub use trial::TrialReport;

/// crossgov-chaos: seeded randomized fault trials against a local consortium.
#[derive(Debug, Parser)]
#[command(name = "crossgov-chaos", version, about)]
pub struct ChaosCli {
    /// How many trials.
    #[arg(long, default_value_t = 20)]
    pub trials: u64,
    /// Base seed (decimal or 0x-hex); trial i runs seed `trial_seed(base, i)`. Default: random.
    #[arg(long, value_parser = parse_seed)]
    pub seed: Option<u64>,
    /// Run only the trial with this seed (as printed by a failing run), showing its schedule.
    #[arg(long, value_parser = parse_seed, conflicts_with_all = ["trials", "seed"])]
    pub replay: Option<u64>,
    /// Trials run at once (each on its own three anvils).
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// Keep each trial's directory (chains, relayer state) under this directory.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

fn parse_seed(s: &str) -> Result<u64, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|e| format!("{s:?} is not a seed (decimal or 0x-hex u64): {e}"))
}

/// The totals of a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The base seed.
    pub base_seed: u64,
    /// Trials run.
    pub trials: u64,
    /// 2PC transfers.
    pub transfers: usize,
    /// HTLC swaps.
    pub swaps: usize,
    /// Faults injected by kind.
    pub faults: BTreeMap<&'static str, usize>,
    /// Outcomes by kind.
    pub outcomes: BTreeMap<&'static str, usize>,
    /// Relayer RPC requests through the proxies.
    pub rpc_requests: u64,
    /// Of which failed on purpose.
    pub rpc_failed: u64,
    /// Relayer RPC calls by JSON-RPC method.
    pub rpc_by_method: BTreeMap<String, u64>,
    /// Trials that needed the clocks moved past the deadlines.
    pub deadline_passed: u64,
    /// Failing trials: seed and violations.
    pub failures: Vec<(u64, Vec<String>)>,
    /// Wall time, seconds.
    pub secs: f64,
    /// The slowest trial, seconds.
    pub slowest_secs: f64,
}

impl Summary {
    fn add(&mut self, r: &TrialReport) {
        self.trials += 1;
        self.transfers += r.transfers;
        self.swaps += r.swaps;
        for (k, n) in &r.faults {
            *self.faults.entry(k).or_insert(0) += n;
        }
        for (k, n) in &r.outcomes {
            *self.outcomes.entry(k).or_insert(0) += n;
        }
        self.rpc_requests += r.rpc_requests;
        self.rpc_failed += r.rpc_failed;
        for (m, n) in &r.rpc_by_method {
            *self.rpc_by_method.entry(m.clone()).or_insert(0) += n;
        }
        self.deadline_passed += u64::from(r.deadline_passed);
        self.slowest_secs = self.slowest_secs.max(r.secs);
        if !r.violations.is_empty() {
            self.failures.push((r.seed, r.violations.clone()));
        }
    }

    /// Violations in all trials.
    pub fn violations(&self) -> usize {
        self.failures.iter().map(|(_, v)| v.len()).sum()
    }

    /// The report printed at the end.
    pub fn table(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let mins = (self.secs / 60.0).floor();
        let _ = writeln!(
            out,
            "chaos: {} trial{} (base seed {:#018x}) in {}m {:02.0}s, slowest trial {:.1}s",
            self.trials,
            if self.trials == 1 { "" } else { "s" },
            self.base_seed,
            mins,
            self.secs - mins * 60.0,
            self.slowest_secs
        );
        let _ = writeln!(
            out,
            "  transactions: {} ({} 2PC transfers, {} HTLC swaps)",
            self.transfers + self.swaps,
            self.transfers,
            self.swaps
        );
        let _ = writeln!(out, "  faults injected:");
        for label in schedule::FaultKind::LABELS {
            let _ = writeln!(out, "    {label:<28} {:>6}", self.faults.get(label).unwrap_or(&0));
        }
        let _ = writeln!(out, "    {:<28} {:>6}", "total", self.faults.values().sum::<usize>());
        let _ = writeln!(
            out,
            "  relayer RPC requests through the proxies: {} ({} failed on purpose)",
            self.rpc_requests, self.rpc_failed
        );
        let mut methods: Vec<(&String, &u64)> = self.rpc_by_method.iter().collect();
        methods.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let per_trial = |n: u64| {
            #[allow(clippy::cast_precision_loss)] // counts far below 2^52
            let avg = n as f64 / self.trials.max(1) as f64;
            avg
        };
        for (method, n) in methods {
            let _ = writeln!(out, "    {method:<28} {n:>8} ({:.0} per trial)", per_trial(*n));
        }
        let _ = writeln!(out, "  outcomes:");
        for (k, n) in &self.outcomes {
            let _ = writeln!(out, "    {k:<32} {n:>6}");
        }
        let _ = writeln!(
            out,
            "  trials whose clocks were moved past every deadline: {}",
            self.deadline_passed
        );
        let _ = writeln!(out, "  violations: {}", self.violations());
        for (seed, violations) in &self.failures {
            let _ = writeln!(out, "  trial {seed:#018x} failed:");
            for v in violations {
                let _ = writeln!(out, "    - {v}");
            }
            let _ = writeln!(out, "    replay: make chaos REPLAY={seed:#018x}");
        }
        out
    }
}

/// Builds the template consortium once and runs the trials with `seeds`, `jobs` at a time,
/// reporting each to `progress`.
pub async fn run_trials(
    seeds: &[u64],
    jobs: usize,
    keep: Option<&std::path::Path>,
    progress: &(dyn Fn(&Schedule, &TrialReport) + Sync),
) -> Result<Summary, String> {
    let started = Instant::now();
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let root = keep.map_or_else(|| tmp.path().to_path_buf(), std::path::Path::to_path_buf);
    let mut template = LocalConsortium::start_persistent(&root.join("template"), &|_| {})
        .await
        .map_err(|e| format!("building the consortium: {e}"))?;
    let saved = root.join("saved");
    template.save_state(&saved).await.map_err(|e| e.to_string())?;
    let mut summary = Summary::default();
    let (template, saved) = (&template, &saved);
    let root = &root;
    let mut trials = futures_util::stream::iter(seeds.iter().copied())
        .map(|seed| async move {
            let schedule = Schedule::generate(seed);
            let dir = root.join(format!("trial-{seed:016x}"));
            let report = trial::run(template, saved, &dir, &schedule).await.map_err(|e| {
                format!("trial {seed:#018x}: {e}\nreplay: make chaos REPLAY={seed:#018x}")
            });
            if keep.is_none() {
                let _ = std::fs::remove_dir_all(&dir);
            }
            (schedule, report)
        })
        .buffer_unordered(jobs.max(1));
    while let Some((schedule, report)) = trials.next().await {
        let report = report?;
        progress(&schedule, &report);
        summary.add(&report);
    }
    summary.secs = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Parses the arguments and runs the trials.
pub fn main() -> ExitCode {
    let cli = ChaosCli::parse();
    // Relayer logs are off unless asked for (RUST_LOG): faults make them noisy by design.
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "off".into());
    if let Err(e) = crate::cli::init_tracing(Some(&filter)) {
        eprintln!("crossgov-chaos: {e}");
        return ExitCode::FAILURE;
    }
    let (base, seeds): (u64, Vec<u64>) = match cli.replay {
        Some(seed) => {
            print!("replaying {}", Schedule::generate(seed));
            (seed, vec![seed])
        }
        None => {
            let base = cli.seed.unwrap_or_else(|| {
                u64::from_be_bytes(
                    crossgov_relayer::protocol::random_b256()[..8].try_into().unwrap_or([0; 8]),
                )
            });
            (base, (0..cli.trials).map(|i| trial_seed(base, i)).collect())
        }
    };
    let total = seeds.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let progress = |s: &Schedule, r: &TrialReport| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let verdict = if r.violations.is_empty() { "ok" } else { "VIOLATED" };
        eprintln!(
            "trial {n}/{total} seed {:#018x}: {} works, {} faults injected, {:.1}s: {verdict}",
            s.seed,
            s.work.len(),
            r.faults.values().sum::<usize>(),
            r.secs
        );
        for v in &r.violations {
            eprintln!("    - {v}");
        }
    };
    let mut failed = false;
    let code = crate::cli::block_on(async {
        // Ending on a signal drops the running trials, which stops their anvils.
        let mut signals = crate::cli::Signals::install()?;
        let mut summary = tokio::select! {
            summary = run_trials(&seeds, cli.jobs, cli.keep.as_deref(), &progress) => summary?,
            signal = signals.wait() => return Err(format!("stopped by {signal}")),
        };
        summary.base_seed = base;
        print!("{}", summary.table());
        failed = summary.violations() > 0;
        Ok(())
    });
    if failed { ExitCode::FAILURE } else { code }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_parse_in_decimal_and_hex() {
        assert_eq!(parse_seed("42"), Ok(42));
        assert_eq!(parse_seed("0x2a"), Ok(42));
        assert_eq!(parse_seed("0xffffffffffffffff"), Ok(u64::MAX));
        assert!(parse_seed("0xg").expect_err("bad hex").contains("not a seed"));
        assert!(parse_seed("-1").is_err());
    }

    #[test]
    fn the_summary_names_every_failing_seed_with_its_replay_command() {
        let mut s = Summary::default();
        let mut r = TrialReport { seed: 0xabc, transfers: 2, swaps: 1, ..TrialReport::default() };
        r.faults.insert("mining stalled", 2);
        s.add(&r);
        r.violations.push("work 0: not atomic".into());
        s.add(&r);
        let t = s.table();
        assert!(t.contains("transactions: 6 (4 2PC transfers, 2 HTLC swaps)"), "{t}");
        assert!(t.contains("mining stalled                    4"), "{t}");
        assert!(t.contains("violations: 1"), "{t}");
        assert!(t.contains("replay: make chaos REPLAY=0x0000000000000abc"), "{t}");
    }
}
