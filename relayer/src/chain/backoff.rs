//! A bounded exponential backoff schedule, as a pure function of the attempt number.

use std::time::Duration;

/// How long to wait before retry `attempt` (0 = the first retry): `base * 2^attempt`, capped at
/// `cap`, minus a deterministic jitter of up to a quarter of that, drawn from `seed` and `attempt`
/// (so two relayers with different seeds do not retry in lockstep, and tests are reproducible).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay.
    pub base: Duration,
    /// No delay exceeds this.
    pub cap: Duration,
    /// Attempts after which the caller gives up.
    pub max_attempts: u32,
    /// Jitter seed (e.g. derived from the relayer's address).
    pub seed: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(10),
            max_attempts: 8,
            seed: 0,
        }
    }
}

impl Backoff {
    /// The delay before retry `attempt`; see [`delay`].
    pub fn delay(&self, attempt: u32) -> Duration {
        delay(self.base, self.cap, self.seed, attempt)
    }
}

/// The pure schedule: `min(cap, base * 2^attempt)` minus up to 25 % deterministic jitter.
pub fn delay(base: Duration, cap: Duration, seed: u64, attempt: u32) -> Duration {
    let factor = 1u128 << attempt.min(64);
    let raw = base.as_nanos().saturating_mul(factor).min(cap.as_nanos());
    let jitter_span = raw / 4;
    let jitter = if jitter_span == 0 {
        0
    } else {
        u128::from(splitmix64(seed ^ u64::from(attempt).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            % (jitter_span + 1)
    };
    let nanos = raw - jitter;
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// SplitMix64: a tiny, well-mixed deterministic hash.
const fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_millis(100);
    const CAP: Duration = Duration::from_secs(5);

    #[test]
    fn grows_exponentially_within_jitter() {
        for attempt in 0..5u32 {
            let d = delay(BASE, CAP, 7, attempt);
            let nominal = BASE * 2u32.pow(attempt);
            assert!(d <= nominal, "attempt {attempt}: {d:?} > {nominal:?}");
            assert!(d >= nominal * 3 / 4, "attempt {attempt}: {d:?} < 3/4 of {nominal:?}");
        }
    }

    #[test]
    fn is_capped_even_for_huge_attempts() {
        for attempt in [6u32, 10, 63, 64, 200, u32::MAX] {
            let d = delay(BASE, CAP, 1, attempt);
            assert!(d <= CAP && d >= CAP * 3 / 4, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn is_deterministic_and_seed_dependent() {
        let a: Vec<_> = (0..8).map(|i| delay(BASE, CAP, 42, i)).collect();
        let b: Vec<_> = (0..8).map(|i| delay(BASE, CAP, 42, i)).collect();
        let c: Vec<_> = (0..8).map(|i| delay(BASE, CAP, 43, i)).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn zero_base_gives_zero() {
        assert_eq!(delay(Duration::ZERO, CAP, 3, 4), Duration::ZERO);
        assert_eq!(Backoff { base: Duration::ZERO, ..Backoff::default() }.delay(2), Duration::ZERO);
    }
}
