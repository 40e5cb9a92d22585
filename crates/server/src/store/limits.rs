//! The management API's rate limit: a token bucket per user (`burst` requests at once, refilled
//! at `rate` per second). [`take`] is the arithmetic, one copy of it for the in-memory limiter
//! of a service alone on its database and for [`Store::take_request`], which keeps the bucket in
//! the database so that replicas over one database spend one budget.

use std::time::Duration;

use super::db::{args, Sql};
use super::{Result, Store};

/// Refills a bucket holding `tokens` for `elapsed` seconds, then takes one token if there is
/// one. Returns what is left and the verdict: allowed, or how long until a token is there.
pub fn take(tokens: f64, elapsed: f64, rate: f64, burst: f64) -> (f64, Result<(), Duration>) {
    let tokens = (tokens + elapsed.max(0.0) * rate).min(burst);
    if tokens >= 1.0 {
        (tokens - 1.0, Ok(()))
    } else {
        (tokens, Err(Duration::from_secs_f64((1.0 - tokens) / rate)))
    }
}

impl Store {
    /// Takes one request from the bucket `name` (a burst of `rate`, at least 1, refilled at
    /// `rate` per second; `rate` above 0), in a write transaction, so that concurrent callers
    /// (other replicas too) never spend the same token. Times are this host's clock; a bucket
    /// last refilled in this host's future is not refilled until then.
    pub fn take_request(&self, name: &str, rate: f64) -> Result<Result<(), Duration>> {
        let burst = rate.max(1.0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        let bucket: Option<(f64, f64)> =
            tx.query_opt("SELECT tokens, at FROM rate_buckets WHERE name = ?1", args![name], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let (tokens, last) = bucket.unwrap_or((burst, now));
        let (left, verdict) = take(tokens, now - last, rate, burst);
        tx.execute(
            "INSERT INTO rate_buckets (name, tokens, at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET tokens = excluded.tokens, at = excluded.at",
            args![name, left, now.max(last)],
        )?;
        tx.commit()?;
        Ok(verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_refills_up_to_burst_then_waits() {
        assert_eq!(take(3.0, 0.0, 3.0, 3.0), (2.0, Ok(())));
        assert_eq!(take(0.0, 100.0, 3.0, 3.0).0, 2.0, "never above the burst");
        let (left, verdict) = take(0.0, 0.0, 3.0, 3.0);
        assert_eq!(left, 0.0);
        assert_eq!(verdict, Err(Duration::from_secs_f64(1.0 / 3.0)));
        assert_eq!(take(0.5, -10.0, 3.0, 3.0).0, 0.5, "time going back refills nothing");
    }

    engine_test! {
    fn take_request_burst_then_wait_shared_by_every_store_of_one_database(s) {
        for _ in 0..3 {
            assert_eq!(s.take_request("user:a", 3.0).unwrap(), Ok(()));
        }
        // Another store on the same database (another replica) sees the same bucket.
        let other = Store::open(&s.dir).unwrap();
        let wait = other.take_request("user:a", 3.0).unwrap().unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1), "{wait:?}");
        assert_eq!(other.take_request("user:b", 3.0).unwrap(), Ok(()), "other users are unaffected");
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(s.take_request("user:a", 3.0).unwrap(), Ok(()), "refilled at the rate");
    }
    }
}
