//! Seeded schedules: what a trial runs (2PC transfers and HTLC swaps, all at once) and which
//! faults it injects where. A schedule is a pure function of its seed, so a failing trial's seed
//! replays the same work and the same faults.
//!
//! Faults are triggered by protocol points (a relayer reports [`ProtocolPoint`]s as it goes), not
//! by wall-clock times, so the same seed hits the same protocol state on every run.

use std::fmt;
use std::time::Duration;

use crossgov_relayer::two_phase::ProtocolPoint;

/// SplitMix64: a small, fast generator whose output depends on the seed alone (no crate version
/// can change a schedule).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// One of `items`, chosen by weight.
    pub fn weighted<T: Copy>(&mut self, items: &[(u64, T)]) -> T {
        let total: u64 = items.iter().map(|(w, _)| w).sum();
        let mut pick = self.next_u64() % total;
        for &(w, item) in items {
            if pick < w {
                return item;
            }
            pick -= w;
        }
        items[items.len() - 1].1
    }
}

/// The seed of trial `index` of a run started with `base`: trials are independent and each can
/// be replayed alone.
pub fn trial_seed(base: u64, index: u64) -> u64 {
    Rng::new(base ^ index.wrapping_mul(0xD134_2543_DE82_EF95)).next_u64()
}

/// Who pays whom in a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// alice (Bank A, chain A) pays bob (Bank B, chain B); submitted through Bank A's relayer.
    AliceToBob,
    /// bob pays alice; submitted through Bank B's relayer.
    BobToAlice,
}

/// One unit of work of a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// A 2PC transfer: a debit on the payer's chain and a credit on the payee's.
    Transfer {
        /// Payer and payee.
        direction: Direction,
        /// How much (more than the payer holds makes the debit's prepare fail: an abort).
        amount: u64,
    },
    /// An HTLC swap: alice pays bob `amount_a` on chain A's asset, bob pays alice `amount_b` on
    /// chain B's. Proposed through Bank A's relayer (which keeps the secret), accepted through
    /// Bank B's.
    Swap {
        /// Leg A.
        amount_a: u64,
        /// Leg B.
        amount_b: u64,
    },
}

/// A protocol point, without the ids: what a fault waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// 2PC: begin mined.
    Begun,
    /// 2PC: step prepared on its chain, vote not sent.
    Prepared(u8),
    /// 2PC: the step's vote mined.
    Voted(u8),
    /// 2PC: the step's relayer saw the decision.
    Decided(u8),
    /// 2PC: the step committed or rolled back on its chain, ack not sent.
    Finished(u8),
    /// 2PC: the step's ack mined.
    Acked(u8),
    /// 2PC: expire mined.
    Expired,
    /// Either: the `n`-th audit record of its own about the subject mined (1-based), before what it
    /// records (reports carry theirs inside).
    Audited(u8),
    /// HTLC: proposeSwap mined.
    SwapProposed,
    /// HTLC: the leg locked on its chain (0 = A, 1 = B).
    Locked(u8),
    /// HTLC: the leg unlocked on its chain (leg B's unlock reveals the secret).
    Unlocked(u8),
}

impl Point {
    /// Whether `p` (the `audits`-th audit record of its subject if it is one) is this point.
    pub fn matches(self, p: &ProtocolPoint, audits: u8) -> bool {
        match (self, *p) {
            (Point::Begun, ProtocolPoint::Begun { .. })
            | (Point::Expired, ProtocolPoint::Expired { .. })
            | (Point::SwapProposed, ProtocolPoint::SwapProposed { .. }) => true,
            (Point::Prepared(s), ProtocolPoint::Prepared { step, .. })
            | (Point::Voted(s), ProtocolPoint::Voted { step, .. })
            | (Point::Decided(s), ProtocolPoint::Decided { step, .. })
            | (Point::Finished(s), ProtocolPoint::Committed { step, .. })
            | (Point::Finished(s), ProtocolPoint::RolledBack { step, .. })
            | (Point::Acked(s), ProtocolPoint::Acked { step, .. }) => s == step,
            (Point::Locked(l), ProtocolPoint::HtlcLocked { leg, .. })
            | (Point::Unlocked(l), ProtocolPoint::HtlcUnlocked { leg, .. }) => l == leg,
            (Point::Audited(n), ProtocolPoint::Audited { .. }) => n == audits,
            _ => false,
        }
    }

    const TRANSFER: [Point; 12] = [
        Point::Begun,
        Point::Prepared(0),
        Point::Prepared(1),
        Point::Voted(0),
        Point::Voted(1),
        Point::Decided(0),
        Point::Decided(1),
        Point::Finished(0),
        Point::Finished(1),
        Point::Acked(0),
        Point::Acked(1),
        Point::Expired,
    ];

    // Reports carry their audit records inside; the one record of its own in a swap is the
    // initiator's relayer's before it reveals the secret on chain B.
    const SWAP: [Point; 6] = [
        Point::SwapProposed,
        Point::Locked(0),
        Point::Locked(1),
        Point::Unlocked(1),
        Point::Unlocked(0),
        Point::Audited(1),
    ];
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Point::Begun => write!(f, "Begun"),
            Point::Prepared(s) => write!(f, "Prepared({s})"),
            Point::Voted(s) => write!(f, "Voted({s})"),
            Point::Decided(s) => write!(f, "Decided({s})"),
            Point::Finished(s) => write!(f, "Committed|RolledBack({s})"),
            Point::Acked(s) => write!(f, "Acked({s})"),
            Point::Expired => write!(f, "Expired"),
            Point::Audited(n) => write!(f, "Audited(#{n})"),
            Point::SwapProposed => write!(f, "SwapProposed"),
            Point::Locked(l) => write!(f, "HtlcLocked({})", leg_name(*l)),
            Point::Unlocked(l) => write!(f, "HtlcUnlocked({})", leg_name(*l)),
        }
    }
}

fn leg_name(leg: u8) -> &'static str {
    if leg == 0 { "A" } else { "B" }
}

/// A node of the consortium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    /// The governance chain.
    Governance,
    /// zoneA.chainA.
    ChainA,
    /// zoneB.chainB.
    ChainB,
}

impl Node {
    /// All three.
    pub const ALL: [Node; 3] = [Node::Governance, Node::ChainA, Node::ChainB];
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Node::Governance => "governance",
            Node::ChainA => "zoneA.chainA",
            Node::ChainB => "zoneB.chainB",
        })
    }
}

/// How a killed relayer comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// The same account on the same state directory (a process restart).
    Restart,
    /// The same account on an empty state directory (the host's disk lost: swap secrets too).
    FreshState,
    /// The institution's other relayer account starts, if it has one and it is not running (its
    /// own state directory); otherwise a restart.
    Takeover,
}

/// How the relayer dies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Death {
    /// Exactly at the point, before its next action.
    AtPoint,
    /// Killed from outside just after the point, wherever it is then (possibly mid-RPC).
    Soon,
}

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Kill the relayer that reported the point; it comes back after `down`.
    KillRelayer {
        /// How it dies.
        death: Death,
        /// How it comes back.
        recovery: Recovery,
        /// How long it stays down.
        down: Duration,
    },
    /// Stop a node (it writes its state), keep it down for `down`, start it again with its chain.
    /// Its pending pool is lost.
    RestartNode {
        /// Which.
        node: Node,
        /// How long.
        down: Duration,
    },
    /// The relayers' RPC proxy to `node` fails the next `requests` requests: before they reach
    /// the node, or (`lose_response`) after the node handled them, losing the answer.
    DropRpc {
        /// Which node.
        node: Node,
        /// How many requests.
        requests: u32,
        /// Whether the node sees the request.
        lose_response: bool,
    },
    /// The relayers' RPC proxy to `node` holds each of the next `requests` requests for `delay`.
    DelayRpc {
        /// Which node.
        node: Node,
        /// How many requests.
        requests: u32,
        /// How long each.
        delay: Duration,
    },
    /// The node mines nothing for `stall` (automine off), then mines its pool and goes on.
    StallMining {
        /// Which node.
        node: Node,
        /// How long.
        stall: Duration,
    },
    /// The governance chain's clock jumps `secs` ahead: transactions still preparing are past
    /// their deadline, swaps not yet accepted past their acceptance time.
    JumpGovernanceTime {
        /// How far.
        secs: u64,
    },
}

impl FaultKind {
    /// The fault's kind for the summary.
    pub fn label(&self) -> &'static str {
        match self {
            FaultKind::KillRelayer { death: Death::AtPoint, .. } => "relayer killed at a point",
            FaultKind::KillRelayer { death: Death::Soon, .. } => "relayer killed mid-action",
            FaultKind::RestartNode { .. } => "node stopped and restarted",
            FaultKind::DropRpc { lose_response: false, .. } => "RPC requests dropped",
            FaultKind::DropRpc { lose_response: true, .. } => "RPC responses lost",
            FaultKind::DelayRpc { .. } => "RPC requests delayed",
            FaultKind::StallMining { .. } => "mining stalled",
            FaultKind::JumpGovernanceTime { .. } => "governance clock jumped",
        }
    }

    /// Every label, in summary order.
    pub const LABELS: [&'static str; 8] = [
        "relayer killed at a point",
        "relayer killed mid-action",
        "node stopped and restarted",
        "RPC requests dropped",
        "RPC responses lost",
        "RPC requests delayed",
        "mining stalled",
        "governance clock jumped",
    ];
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultKind::KillRelayer { death, recovery, down } => {
                let how = match death {
                    Death::AtPoint => "at the point",
                    Death::Soon => "just after",
                };
                write!(f, "kill its relayer {how}, {recovery:?} after {}ms", down.as_millis())
            }
            FaultKind::RestartNode { node, down } => {
                write!(f, "stop {node} for {}ms, restart it from its state", down.as_millis())
            }
            FaultKind::DropRpc { node, requests, lose_response } => {
                let what = if *lose_response { "lose the responses of" } else { "drop" };
                write!(f, "{what} the next {requests} relayer requests to {node}")
            }
            FaultKind::DelayRpc { node, requests, delay } => write!(
                f,
                "delay the next {requests} relayer requests to {node} by {}ms",
                delay.as_millis()
            ),
            FaultKind::StallMining { node, stall } => {
                write!(f, "stop mining on {node} for {}ms", stall.as_millis())
            }
            FaultKind::JumpGovernanceTime { secs } => {
                write!(f, "move the governance clock {secs}s ahead")
            }
        }
    }
}

/// A fault and where it strikes: when work `work` reaches `point`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// Index into [`Schedule::work`].
    pub work: usize,
    /// The point.
    pub point: Point,
    /// What happens.
    pub kind: FaultKind,
}

/// Everything a trial does, from its seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The seed.
    pub seed: u64,
    /// Submitted at once at the start.
    pub work: Vec<Work>,
    /// Injected when their points come.
    pub faults: Vec<Fault>,
    /// Whether Bank A's second relayer runs from the start (two relayers on chain A).
    pub second_relayer_a: bool,
}

/// 2PC deadline and HTLC leg B timelock from submission; leg A's timelock is three times it.
pub const DEADLINE_SECS: u64 = 3_600;

impl Schedule {
    /// The schedule of `seed`.
    pub fn generate(seed: u64) -> Schedule {
        let mut rng = Rng::new(seed);
        let work = (0..rng.range(2, 5))
            .map(|_| {
                if rng.chance(55) {
                    let direction =
                        if rng.chance(60) { Direction::AliceToBob } else { Direction::BobToAlice };
                    // Now and then more than anyone holds: the payer's chain refuses prepare.
                    let amount = if rng.chance(15) { 50_000 } else { rng.range(1, 50) };
                    Work::Transfer { direction, amount }
                } else {
                    Work::Swap { amount_a: rng.range(1, 20), amount_b: rng.range(1, 20) }
                }
            })
            .collect::<Vec<_>>();
        let ms = |rng: &mut Rng, lo: u64, hi: u64| Duration::from_millis(rng.range(lo, hi));
        let faults = (0..rng.range(1, 4))
            .map(|_| {
                let index = rng.range(0, work.len() as u64 - 1) as usize;
                let points: &[Point] = match work[index] {
                    Work::Transfer { .. } => &Point::TRANSFER,
                    Work::Swap { .. } => &Point::SWAP,
                };
                let point = points[rng.range(0, points.len() as u64 - 1) as usize];
                let node = Node::ALL[rng.range(0, 2) as usize];
                let kind =
                    match rng.weighted(&[(35, 0), (15, 1), (15, 2), (10, 3), (15, 4), (10, 5)]) {
                        0 => FaultKind::KillRelayer {
                            death: if rng.chance(70) { Death::AtPoint } else { Death::Soon },
                            recovery: rng.weighted(&[
                                (40, Recovery::Restart),
                                (30, Recovery::FreshState),
                                (30, Recovery::Takeover),
                            ]),
                            down: ms(&mut rng, 0, 600),
                        },
                        1 => FaultKind::RestartNode { node, down: ms(&mut rng, 100, 800) },
                        2 => FaultKind::DropRpc {
                            node,
                            requests: rng.range(1, 8) as u32,
                            lose_response: rng.chance(50),
                        },
                        3 => FaultKind::DelayRpc {
                            node,
                            requests: rng.range(1, 20) as u32,
                            delay: ms(&mut rng, 50, 400),
                        },
                        4 => FaultKind::StallMining { node, stall: ms(&mut rng, 200, 1_500) },
                        _ => FaultKind::JumpGovernanceTime { secs: 2 * DEADLINE_SECS },
                    };
                Fault { work: index, point, kind }
            })
            .collect();
        Schedule { seed, work, faults, second_relayer_a: rng.chance(30) }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "seed {:#018x}", self.seed)?;
        if self.second_relayer_a {
            writeln!(f, "  Bank A runs two relayers from the start")?;
        }
        for (i, w) in self.work.iter().enumerate() {
            match w {
                Work::Transfer { direction: Direction::AliceToBob, amount } => {
                    writeln!(f, "  work {i}: 2PC, alice pays bob {amount}")?;
                }
                Work::Transfer { direction: Direction::BobToAlice, amount } => {
                    writeln!(f, "  work {i}: 2PC, bob pays alice {amount}")?;
                }
                Work::Swap { amount_a, amount_b } => writeln!(
                    f,
                    "  work {i}: HTLC swap, alice pays bob {amount_a} on A, bob pays alice {amount_b} on B"
                )?,
            }
        }
        for fault in &self.faults {
            writeln!(f, "  fault at work {} {}: {}", fault.work, fault.point, fault.kind)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_its_reference_output() {
        // SplitMix64 seeded with 1234567 (the reference implementation's first outputs).
        let mut rng = Rng::new(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn a_seed_always_gives_the_same_schedule() {
        for seed in [0, 1, 42, u64::MAX] {
            assert_eq!(Schedule::generate(seed), Schedule::generate(seed));
            assert_eq!(Schedule::generate(seed).to_string(), Schedule::generate(seed).to_string());
        }
        assert_ne!(Schedule::generate(1), Schedule::generate(2));
        assert_eq!(trial_seed(7, 3), trial_seed(7, 3));
        assert_ne!(trial_seed(7, 3), trial_seed(7, 4));
    }

    #[test]
    fn schedules_cover_every_fault_kind_and_point() {
        let mut labels = std::collections::BTreeSet::new();
        let mut points = Vec::new();
        for seed in 0..500 {
            let s = Schedule::generate(seed);
            assert!((2..=5).contains(&s.work.len()));
            assert!((1..=4).contains(&s.faults.len()));
            for fault in &s.faults {
                labels.insert(fault.kind.label());
                let valid: &[Point] = match s.work[fault.work] {
                    Work::Transfer { .. } => &Point::TRANSFER,
                    Work::Swap { .. } => &Point::SWAP,
                };
                assert!(valid.contains(&fault.point), "{s}");
                if !points.contains(&fault.point) {
                    points.push(fault.point);
                }
            }
        }
        assert_eq!(labels.len(), FaultKind::LABELS.len(), "{labels:?}");
        assert_eq!(points.len(), 18, "{points:?}");
    }

    #[test]
    fn points_match_the_relayers_protocol_points() {
        let id = alloy::primitives::B256::repeat_byte(1);
        let p = ProtocolPoint::Committed { tx_id: id, step: 1 };
        assert!(Point::Finished(1).matches(&p, 0));
        assert!(!Point::Finished(0).matches(&p, 0));
        let p = ProtocolPoint::RolledBack { tx_id: id, step: 0 };
        assert!(Point::Finished(0).matches(&p, 0));
        let p = ProtocolPoint::Audited { subject: id };
        assert!(Point::Audited(2).matches(&p, 2));
        assert!(!Point::Audited(2).matches(&p, 1));
        let p = ProtocolPoint::HtlcUnlocked { swap_id: id, leg: 1 };
        assert!(Point::Unlocked(1).matches(&p, 0));
        assert!(!Point::Locked(1).matches(&p, 0));
    }
}
