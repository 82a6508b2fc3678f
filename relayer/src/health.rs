//! The relayer's health: what the loop records as it runs ([`HealthReport`]) and the pure
//! judgement of it at the time `/health` is asked ([`HealthReport::problems`]).
//!
//! Judging at request time, from the instants of the last answers rather than from flags the
//! loop sets, is what makes a hung node visible: a node that stopped answering mid-request
//! leaves the loop waiting (up to the RPC timeout and its retries), and no flag would change
//! meanwhile; the age of its last answer keeps growing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

/// When the relayer counts as unhealthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthPolicy {
    /// A chain whose node has not answered for this long (no successful head read) is
    /// unhealthy. Default 30 s.
    pub unresponsive_after: Duration,
    /// A chain whose head has not moved for this long is unhealthy, by chain name
    /// (`governance`, `zone.chain`). Only for chains that produce blocks on a schedule (Besu
    /// QBFT, Clique): a chain that mines on demand (a dev node) legitimately stands still.
    pub head_stall_after: BTreeMap<String, Duration>,
    /// The loop must finish a round (heads, logs, reconcile) within this; longer means it is
    /// stuck (a send that never confirms, a reconcile that never ends). Default 120 s.
    pub loop_stall_after: Duration,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            unresponsive_after: Duration::from_secs(30),
            head_stall_after: BTreeMap::new(),
            loop_stall_after: Duration::from_secs(120),
        }
    }
}

/// One chain's health as the loop last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHealth {
    /// `governance` or `zone.chain`.
    pub name: String,
    /// Last head seen.
    pub head: Option<u64>,
    /// Blocks between the head and what the watcher processed (governance chain; 0 elsewhere).
    pub lag: Option<u64>,
    /// The last error, cleared by a success.
    pub last_error: Option<String>,
    /// When the node last answered a head read.
    pub answered_at: Option<Instant>,
    /// When the head last changed (or was first seen).
    pub head_changed_at: Option<Instant>,
}

impl ChainHealth {
    /// A chain not polled yet.
    pub fn new(name: impl Into<String>) -> ChainHealth {
        ChainHealth {
            name: name.into(),
            head: None,
            lag: None,
            last_error: None,
            answered_at: None,
            head_changed_at: None,
        }
    }

    /// Records a successful head read at `now`.
    pub fn answered(&mut self, head: u64, now: Instant) {
        if self.head != Some(head) || self.head_changed_at.is_none() {
            self.head_changed_at = Some(now);
        }
        self.head = Some(head);
        self.answered_at = Some(now);
        self.last_error = None;
    }

    /// Records a failed read.
    pub fn failed(&mut self, error: String) {
        self.last_error = Some(error);
    }

    /// Why this chain is unhealthy at `now`, if it is.
    pub fn problem(&self, now: Instant, policy: &HealthPolicy) -> Option<String> {
        let age = |at: Option<Instant>| at.map(|t| now.saturating_duration_since(t));
        let name = &self.name;
        let silent = age(self.answered_at);
        match (&self.last_error, silent) {
            (_, Some(silent)) if silent > policy.unresponsive_after => {
                let why = self.last_error.as_deref().map_or(String::new(), |e| format!(": {e}"));
                return Some(format!(
                    "{name}: no answer from the node for {}s{why}",
                    silent.as_secs()
                ));
            }
            (Some(error), _) => return Some(format!("{name}: {error}")),
            (None, None) => return Some(format!("{name}: not reached yet")),
            (None, Some(_)) => {}
        }
        if let (Some(limit), Some(still)) =
            (policy.head_stall_after.get(name), age(self.head_changed_at))
            && still > *limit
        {
            let head = self.head.unwrap_or_default();
            return Some(format!("{name}: head stuck at {head} for {}s", still.as_secs()));
        }
        None
    }
}

/// What `/health` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    /// Governance chain first, then the served chains.
    pub chains: Vec<ChainHealth>,
    /// When the last reconcile ended.
    pub last_reconcile_at: Option<SystemTime>,
    /// How long it took.
    pub last_reconcile_duration: Option<Duration>,
    /// Open transactions on the served chains at the last reconcile.
    pub pending: usize,
    /// Set when the loop stopped (shutdown, halt hook, fatal error).
    pub stopped: Option<String>,
    /// When the loop last finished a round (or started).
    pub loop_at: Instant,
    /// The policy the report is judged by.
    pub policy: HealthPolicy,
}

impl HealthReport {
    /// A report for chains `names`, not polled yet, judged by `policy`.
    pub fn new(names: impl IntoIterator<Item = String>, policy: HealthPolicy) -> HealthReport {
        HealthReport {
            chains: names.into_iter().map(ChainHealth::new).collect(),
            last_reconcile_at: None,
            last_reconcile_duration: None,
            pending: 0,
            stopped: None,
            loop_at: Instant::now(),
            policy,
        }
    }

    /// Everything that makes the relayer unhealthy at `now`, each naming its chain or part;
    /// empty when healthy.
    pub fn problems(&self, now: Instant) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(why) = &self.stopped {
            out.push(format!("stopped: {why}"));
        }
        out.extend(self.chains.iter().filter_map(|c| c.problem(now, &self.policy)));
        let idle = now.saturating_duration_since(self.loop_at);
        if self.stopped.is_none() && idle > self.policy.loop_stall_after {
            out.push(format!("the relayer loop has not finished a round for {}s", idle.as_secs()));
        }
        if self.stopped.is_none() && self.last_reconcile_at.is_none() {
            out.push("no reconcile pass has finished yet".into());
        }
        out
    }

    /// No problem now.
    pub fn is_healthy(&self) -> bool {
        self.problems(Instant::now()).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn policy() -> HealthPolicy {
        HealthPolicy {
            unresponsive_after: secs(10),
            head_stall_after: BTreeMap::from([("governance".to_owned(), secs(20))]),
            loop_stall_after: secs(60),
        }
    }

    fn report(t0: Instant) -> HealthReport {
        let mut r = HealthReport::new(["governance".into(), "zoneA.chainA".into()], policy());
        r.loop_at = t0;
        r.last_reconcile_at = Some(SystemTime::now());
        for c in &mut r.chains {
            c.answered(5, t0);
        }
        r
    }

    #[test]
    fn a_fresh_answer_everywhere_is_healthy() {
        let t0 = Instant::now();
        assert_eq!(report(t0).problems(t0 + secs(5)), Vec::<String>::new());
    }

    #[test]
    fn a_node_silent_past_the_limit_is_named_even_without_an_error() {
        let t0 = Instant::now();
        let mut r = report(t0);
        r.chains[0].answered(6, t0 + secs(9));
        r.loop_at = t0 + secs(9);
        // zoneA.chainA last answered at t0: hung, the loop still waiting on it.
        let p = r.problems(t0 + secs(11));
        assert_eq!(p, ["zoneA.chainA: no answer from the node for 11s"]);
        // An error is reported at once, with the silence once it is long.
        r.chains[1].failed("connection refused".into());
        assert_eq!(r.problems(t0 + secs(3)), ["zoneA.chainA: connection refused"]);
        assert_eq!(
            r.problems(t0 + secs(12)),
            ["zoneA.chainA: no answer from the node for 12s: connection refused"]
        );
    }

    #[test]
    fn a_head_that_stands_still_counts_only_where_configured() {
        let t0 = Instant::now();
        let mut r = report(t0);
        for c in &mut r.chains {
            c.answered(5, t0 + secs(25)); // same head: answered, not moved
        }
        r.loop_at = t0 + secs(25);
        assert_eq!(r.problems(t0 + secs(25)), ["governance: head stuck at 5 for 25s"]);
        r.chains[0].answered(6, t0 + secs(26));
        assert!(r.problems(t0 + secs(26)).is_empty());
    }

    #[test]
    fn a_stuck_loop_a_missing_reconcile_and_a_stop_are_named() {
        let t0 = Instant::now();
        let mut r = report(t0);
        assert_eq!(r.problems(t0 + secs(9)).len(), 0, "answers at t0 are fresh at t0 + 9 s");
        r.last_reconcile_at = None;
        assert_eq!(r.problems(t0), ["no reconcile pass has finished yet"]);
        r.last_reconcile_at = Some(SystemTime::now());
        for (c, head) in r.chains.iter_mut().zip([6, 5]) {
            c.answered(head, t0 + secs(61));
        }
        assert_eq!(
            r.problems(t0 + secs(61)),
            ["the relayer loop has not finished a round for 61s"]
        );
        r.stopped = Some("shut down".into());
        assert_eq!(r.problems(t0 + secs(61)), ["stopped: shut down"]);
    }

    #[test]
    fn chains_never_reached_are_named() {
        let r = HealthReport::new(["governance".into()], HealthPolicy::default());
        let p = r.problems(Instant::now());
        assert!(p.contains(&"governance: not reached yet".to_owned()), "{p:?}");
    }
}
