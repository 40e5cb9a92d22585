//! The failure policy (ARCHITECTURE §6) as a pure state transition: what a cache does before a
//! fetch and after one, decided from ticks and counts alone, with no lock, no clock and no I/O.
//!
//! Ticks are milliseconds on the caller's monotonic clock. [`Policy::due`] says what a call does;
//! [`Policy::succeeded`] and [`Policy::failed`] give the [`Timing`] after a fetch, and whether the
//! values held are kept.

use std::time::Duration;

use crate::backend::FailureKind;

/// The first pause after a failure; it doubles with each failure up to `backoff_max`.
pub const BACKOFF_INITIAL: Duration = Duration::from_secs(1);

/// The limits the policy works within (ARCHITECTURE §5: `ttl`, `stale_limit`, `backoff_max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How long a good fetch is served before the next call fetches again.
    pub ttl: Duration,
    /// How long after the last good fetch values may still be served while fetches fail.
    pub stale_limit: Duration,
    /// The longest pause between attempts while fetches fail.
    pub backoff_max: Duration,
}

/// Where a cache stands: when it looks again, when it may fetch again, how its fetches went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timing {
    /// Calls before this tick are answered from what is held.
    pub next_check: u64,
    /// No fetch is attempted before this tick (back-off, Retry-After).
    pub retry_at: u64,
    /// Tick of the last good fetch.
    pub good_at: Option<u64>,
    /// Failures since the last good fetch.
    pub failures: u32,
    /// Whether the values held are kept past their TTL because fetches fail.
    pub stale: bool,
}

/// What becomes of the values held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// They are served on (fresh, or stale within the stale limit).
    Keep,
    /// They are dropped: access was revoked, or they are older than the stale limit.
    Drop,
}

/// What a call at some tick does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Nothing is due: answer from what is held.
    Serve,
    /// A fetch is due but the cache is backing off: take this timing (the next look is when the
    /// back-off ends) and do this with the values, then answer from what is held.
    Wait(Timing, Held),
    /// Fetch now.
    Fetch,
}

impl Policy {
    /// A policy that never fetches again after a good fetch: a mock's.
    pub const FOREVER: Policy =
        Policy { ttl: Duration::MAX, stale_limit: Duration::MAX, backoff_max: Duration::ZERO };

    /// What a call at `now` does, with values held or not (`holding`).
    pub fn due(&self, timing: Timing, now: u64, holding: bool) -> Due {
        if now < timing.next_check {
            return Due::Serve;
        }
        if now < timing.retry_at {
            // Only the stale limit brought us here: drop what is too old, keep backing off.
            let (timing, held) = self.expire(timing, now, holding);
            return Due::Wait(Timing { next_check: timing.retry_at, ..timing }, held);
        }
        Due::Fetch
    }

    /// The timing after a good fetch at `now`. The TTL counts on the caller's clock, as every call
    /// checks it (with a TTL of 0, the next call fetches again).
    pub fn succeeded(&self, now: u64) -> Timing {
        Timing {
            next_check: now.saturating_add(millis(self.ttl)),
            retry_at: 0,
            good_at: Some(now),
            failures: 0,
            stale: false,
        }
    }

    /// The timing after a failed fetch that ended at `ended`, and what becomes of the values held
    /// (`holding`). Every pause counts from the end of the attempt: an attempt that hung until its
    /// timeout must not use up the back-off that follows it. `rng` jitters the back-off.
    pub fn failed(
        &self,
        timing: Timing,
        kind: FailureKind,
        ended: u64,
        holding: bool,
        rng: &mut u64,
    ) -> (Timing, Held) {
        let failures = timing.failures.saturating_add(1);
        let (delay, holding) = match kind {
            FailureKind::Revoked => (backoff(failures, self.backoff_max, rng), false),
            FailureKind::Transient => (backoff(failures, self.backoff_max, rng), holding),
            FailureKind::RetryAfter(wait) => (wait.min(self.backoff_max.max(BACKOFF_INITIAL)), holding),
        };
        let timing = Timing { failures, retry_at: ended.saturating_add(millis(delay)), ..timing };
        let (timing, held) = self.expire(timing, ended, holding);
        let next_check = match (timing.stale, timing.good_at) {
            (true, Some(good)) => timing.retry_at.min(good.saturating_add(millis(self.stale_limit))),
            _ => timing.retry_at,
        };
        (Timing { next_check, ..timing }, held)
    }

    /// Marks held values stale, or drops them once they are older than the stale limit.
    fn expire(&self, timing: Timing, now: u64, holding: bool) -> (Timing, Held) {
        match timing.good_at {
            Some(good) if holding && now < good.saturating_add(millis(self.stale_limit)) => {
                (Timing { stale: true, ..timing }, Held::Keep)
            }
            _ => (Timing { stale: false, ..timing }, Held::Drop),
        }
    }
}

/// The pause after `failures` consecutive failures: doubling from [`BACKOFF_INITIAL`], capped at
/// `max`, then jittered into its upper half so that workers started together spread out.
pub fn backoff(failures: u32, max: Duration, rng: &mut u64) -> Duration {
    let doubled = BACKOFF_INITIAL.saturating_mul(1u32 << failures.saturating_sub(1).min(20));
    let base = doubled.min(max);
    // xorshift64: enough to decorrelate processes; nothing secret depends on it.
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    let fraction = 0.5 + (*rng % 1000) as f64 / 2000.0;
    base.mul_f64(fraction)
}

/// A duration in ticks, saturating.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        ttl: Duration::from_secs(10),
        stale_limit: Duration::from_secs(100),
        backoff_max: Duration::from_secs(8),
    };

    fn good_at(now: u64) -> Timing {
        POLICY.succeeded(now)
    }

    #[test]
    fn policy_success_serves_until_the_ttl() {
        let timing = good_at(1_000);
        assert_eq!(timing, Timing { next_check: 11_000, good_at: Some(1_000), ..Timing::default() });
        assert_eq!(POLICY.due(timing, 10_999, true), Due::Serve);
        assert_eq!(POLICY.due(timing, 11_000, true), Due::Fetch);
        let zero = Policy { ttl: Duration::ZERO, ..POLICY };
        assert_eq!(zero.due(zero.succeeded(5), 5, true), Due::Fetch, "a TTL of 0 fetches every call");
    }

    #[test]
    fn policy_success_after_failures_starts_afresh() {
        let (failed, _) = POLICY.failed(good_at(0), FailureKind::Transient, 10_000, true, &mut 7);
        assert_eq!((failed.failures, failed.stale), (1, true));
        assert_eq!(
            POLICY.succeeded(20_000),
            Timing { next_check: 30_000, good_at: Some(20_000), ..Timing::default() }
        );
    }

    #[test]
    fn policy_transient_keeps_values_stale_and_backs_off() {
        let (timing, held) = POLICY.failed(good_at(0), FailureKind::Transient, 10_000, true, &mut 7);
        assert_eq!(held, Held::Keep);
        assert!(timing.stale && timing.failures == 1);
        assert!((10_500..=11_000).contains(&timing.retry_at), "{timing:?}");
        assert_eq!(timing.next_check, timing.retry_at);
        assert_eq!(POLICY.due(timing, timing.retry_at - 1, true), Due::Serve);
        assert_eq!(POLICY.due(timing, timing.retry_at, true), Due::Fetch);
    }

    #[test]
    fn policy_transient_without_values_holds_nothing() {
        let (timing, held) = POLICY.failed(Timing::default(), FailureKind::Transient, 0, false, &mut 7);
        assert_eq!((held, timing.stale), (Held::Drop, false));
    }

    #[test]
    fn policy_revoked_drops_values() {
        let (timing, held) = POLICY.failed(good_at(0), FailureKind::Revoked, 10_000, true, &mut 7);
        assert_eq!((held, timing.stale, timing.failures), (Held::Drop, false, 1));
        assert!((10_500..=11_000).contains(&timing.next_check), "{timing:?}");
    }

    #[test]
    fn policy_retry_after_waits_as_asked_within_the_cap() {
        let wait = FailureKind::RetryAfter(Duration::from_secs(2));
        let (timing, held) = POLICY.failed(good_at(0), wait, 10_000, true, &mut 7);
        assert_eq!((held, timing.retry_at, timing.next_check), (Held::Keep, 12_000, 12_000));
        let long = FailureKind::RetryAfter(Duration::from_secs(300));
        assert_eq!(POLICY.failed(good_at(0), long, 10_000, true, &mut 7).0.retry_at, 18_000, "capped");
        let no_cap = Policy { backoff_max: Duration::ZERO, ..POLICY };
        assert_eq!(no_cap.failed(good_at(0), long, 0, true, &mut 7).0.retry_at, 1_000, "at least 1 s");
    }

    #[test]
    fn policy_stale_expiry_drops_values_at_the_stale_limit() {
        // Failing with a back-off longer than what is left of the stale limit: the next look is at
        // the limit, where the values are dropped and the back-off goes on.
        let slow = Policy { backoff_max: Duration::from_secs(300), ..POLICY };
        let mut timing = good_at(0);
        timing.failures = 10;
        let (timing, held) = slow.failed(timing, FailureKind::Transient, 95_000, true, &mut 7);
        assert_eq!((held, timing.next_check), (Held::Keep, 100_000));
        assert!(timing.retry_at > 100_000);
        match slow.due(timing, 100_000, true) {
            Due::Wait(after, Held::Drop) => {
                assert!(!after.stale);
                assert_eq!(after.next_check, timing.retry_at, "backing off goes on");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn policy_failure_past_the_stale_limit_drops_values() {
        let (timing, held) = POLICY.failed(good_at(0), FailureKind::Transient, 100_000, true, &mut 7);
        assert_eq!((held, timing.stale), (Held::Drop, false));
    }

    #[test]
    fn policy_backoff_counts_from_the_end_of_the_attempt() {
        let (timing, _) = POLICY.failed(Timing::default(), FailureKind::Transient, 1_100, false, &mut 7);
        assert!(timing.retry_at >= 1_600, "{timing:?}");
    }

    #[test]
    fn policy_forever_never_fetches_again() {
        assert_eq!(Policy::FOREVER.due(Policy::FOREVER.succeeded(5), u64::MAX - 1, true), Due::Serve);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let mut rng = 12345;
        for (failures, cap) in [(1, 1_000), (2, 2_000), (3, 4_000), (9, 8_000)] {
            let d = backoff(failures, Duration::from_secs(8), &mut rng).as_millis() as u64;
            assert!(d >= cap / 2 && d <= cap, "{failures}: {d}");
        }
        assert_eq!(backoff(3, Duration::ZERO, &mut rng), Duration::ZERO);
    }
}
