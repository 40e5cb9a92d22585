//! Connection limits: how long a connection may take to say something, how long it may stay
//! idle, and how many may be open at once.
//!
//! Every accepted connection is registered in a [`Tracker`]. A connection is *idle* when none
//! of its requests is being answered; its clock starts when it is accepted and restarts each
//! time a request is answered. One that has not started a request within the handshake
//! timeout of being accepted, or stays idle longer than the idle timeout after a request, is
//! closed (HTTP/2 gets a GOAWAY; PINGs do not count as activity, requests do). A request that is
//! not answered within the request timeout (a body that never arrives, among others) gets 408.
//! When the cap on open connections is reached, a new connection is still accepted and an idle
//! one is closed to make room: one that never made a request if there is any (an idle flood
//! then cycles among its own connections, not the clients that use theirs), else the one idle
//! the longest; only when every open connection is busy is the newcomer refused (closed at
//! once). The cap stays below the process's descriptor limit, so the database and the accept
//! itself always have descriptors to work with.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Descriptors kept out of the connection cap: standard streams, the listener, the runtime's
/// own (epoll, wakers, signals), the database pool (a database, WAL and shared-memory file per
/// connection), the access log, and room to accept while at the cap.
const RESERVED_DESCRIPTORS: u64 = 96;

/// The default cap never exceeds this, however high the descriptor limit: each connection also
/// costs memory (TLS state, buffers, a task).
const MAX_DEFAULT_CONNECTIONS: u64 = 16_384;

/// The smallest cap the default comes to, for very low descriptor limits.
const MIN_DEFAULT_CONNECTIONS: u64 = 8;

/// How long a connection that is being closed may take to finish what it is writing.
pub const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Timeouts and the cap, as `serve` was told or defaulted.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// From accept to the end of the TLS handshake, and to the first request.
    pub handshake_timeout: Duration,
    /// From the end of a request to the start of the next one on the same connection.
    pub idle_timeout: Duration,
    /// From the start of a request (its headers read) to its answer.
    pub request_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
}

/// Raises the soft descriptor limit to the hard one (as a server that holds many connections
/// should) and returns the soft limit in effect, if it could be read.
pub fn raise_descriptor_limit() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the rlimit we own and pass by valid pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        // SAFETY: setrlimit only reads the rlimit we pass by valid pointer.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit.rlim_cur = limit.rlim_max;
        }
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not on every target.
    Some(limit.rlim_cur as u64)
}

/// The cap on open connections for a descriptor limit: the limit less what the rest of the
/// service needs and some headroom, within [8, 16384].
pub fn default_max_connections(descriptor_limit: Option<u64>) -> usize {
    let limit = descriptor_limit.unwrap_or(1024);
    let headroom = limit / 16;
    limit
        .saturating_sub(RESERVED_DESCRIPTORS + headroom)
        .clamp(MIN_DEFAULT_CONNECTIONS, MAX_DEFAULT_CONNECTIONS) as usize
}

/// The open connections.
pub struct Tracker {
    max: usize,
    epoch: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Activity>>>,
}

/// What the tracker knows of one connection.
pub struct Activity {
    id: u64,
    epoch: Instant,
    /// Requests being answered.
    in_flight: AtomicUsize,
    /// Milliseconds since `epoch` at accept, then at the end of the latest request.
    last: AtomicU64,
    /// Whether a request has started (then the idle timeout applies, not the handshake's).
    spoken: AtomicBool,
    /// Set when the tracker wants the connection closed to make room.
    evict: Notify,
}

/// Why a connection ended its wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// It said nothing, or nothing more, for too long.
    Idle,
    /// The cap was reached and it was the one idle the longest.
    Evicted,
}

impl Tracker {
    /// A tracker for at most `max` open connections (at least 1).
    pub fn new(max: usize) -> Tracker {
        Tracker {
            max: max.max(1),
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
        }
    }

    /// Registers a newly accepted connection. At the cap, an idle connection is told to close to
    /// make room (see the module's documentation); if every open one is busy, `None`: refuse.
    pub fn admit(self: &Arc<Self>) -> Option<Registered> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.len() >= self.max && evict_longest_idle(&mut open).is_none() {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity {
            id,
            epoch: self.epoch,
            in_flight: AtomicUsize::new(0),
            last: AtomicU64::new(millis_since(self.epoch)),
            spoken: AtomicBool::new(false),
            evict: Notify::new(),
        });
        open.insert(id, activity.clone());
        Some(Registered { tracker: self.clone(), activity })
    }

    /// Closes an idle connection (when descriptors run out); whether there was one.
    pub fn evict_one(&self) -> bool {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        evict_longest_idle(&mut open).is_some()
    }

    /// How many connections are open.
    pub fn len(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no connection is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Evicts the idle connection that never made a request and was accepted first, else the one
/// idle the longest.
fn evict_longest_idle(open: &mut HashMap<u64, Arc<Activity>>) -> Option<u64> {
    let victim = open
        .values()
        .filter(|a| a.in_flight.load(Ordering::Acquire) == 0)
        .min_by_key(|a| (a.spoken.load(Ordering::Acquire), a.last.load(Ordering::Acquire)))
        .map(|a| a.id)?;
    // Out of the count at once, so the next accept picks another; its task closes it.
    let activity = open.remove(&victim)?;
    activity.evict.notify_one();
    Some(victim)
}

fn millis_since(epoch: Instant) -> u64 {
    Instant::now().saturating_duration_since(epoch).as_millis() as u64
}

/// A connection's place in the tracker, given up when dropped (when its task ends).
pub struct Registered {
    tracker: Arc<Tracker>,
    activity: Arc<Activity>,
}

impl Registered {
    /// The connection's activity, to mark requests on.
    pub fn activity(&self) -> Arc<Activity> {
        self.activity.clone()
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut open = self.tracker.open.lock().unwrap_or_else(|e| e.into_inner());
        open.remove(&self.activity.id);
    }
}

/// Marks a request as being answered until dropped.
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.last.store(millis_since(self.0.epoch), Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Activity {
    /// Marks the start of a request; its end is when the returned guard is dropped.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.spoken.store(true, Ordering::Release);
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(self.clone())
    }

    /// Resolves when the connection should close: idle past its timeout (the handshake
    /// timeout until a request has started, then the idle timeout), or evicted.
    pub async fn close_wanted(&self, limits: &ConnLimits) -> CloseReason {
        loop {
            let timeout = if self.spoken.load(Ordering::Acquire) {
                limits.idle_timeout
            } else {
                limits.handshake_timeout
            };
            let since = Duration::from_millis(self.last.load(Ordering::Acquire));
            let deadline = self.epoch + since + timeout;
            tokio::select! {
                () = self.evict.notified() => return CloseReason::Evicted,
                () = tokio::time::sleep_until(deadline) => {}
            }
            let idle = self.in_flight.load(Ordering::Acquire) == 0;
            let last = Duration::from_millis(self.last.load(Ordering::Acquire));
            if idle && Instant::now() >= self.epoch + last + timeout {
                return CloseReason::Idle;
            }
            if !idle {
                // Busy: look again after a while; the deadline moves when the request ends.
                tokio::select! {
                    () = self.evict.notified() => return CloseReason::Evicted,
                    () = tokio::time::sleep(timeout.min(Duration::from_secs(1))) => {}
                }
            }
        }
    }

    /// Resolves when the tracker wants this connection closed to make room.
    pub async fn evicted(&self) {
        self.evict.notified().await;
    }
}

/// The wait after the `n`th accept error in a row: 10 ms doubling up to one second, so a
/// persistent error (descriptors exhausted) neither spins nor stops the service.
pub fn accept_backoff(consecutive_errors: u32) -> Duration {
    Duration::from_millis(10u64.saturating_mul(1 << consecutive_errors.saturating_sub(1).min(7)))
        .min(Duration::from_secs(1))
}

/// Whether an accept error means the process or system ran out of descriptors.
pub fn out_of_descriptors(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
}

/// At most one line a second for a kind of event that an attacker can repeat at will (failed
/// handshakes, accept errors), with the count of those not shown.
pub struct LogThrottle {
    last: Mutex<Option<std::time::Instant>>,
    suppressed: AtomicU64,
}

impl LogThrottle {
    /// A throttle that has logged nothing yet.
    pub const fn new() -> LogThrottle {
        LogThrottle { last: Mutex::new(None), suppressed: AtomicU64::new(0) }
    }

    /// Logs `line()` at `level` (warning or error) unless a line was logged in the last second.
    pub fn log(&self, level: tracing::Level, line: impl FnOnce() -> String) {
        let now = std::time::Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| now.duration_since(t) < Duration::from_secs(1)) {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        *last = Some(now);
        let suppressed = self.suppressed.swap(0, Ordering::Relaxed);
        let message =
            if suppressed > 0 { format!("{} ({suppressed} more like it not shown)", line()) } else { line() };
        if level == tracing::Level::ERROR {
            tracing::error!("{message}");
        } else {
            tracing::warn!("{message}");
        }
    }
}

impl Default for LogThrottle {
    fn default() -> Self {
        LogThrottle::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(handshake_ms: u64, idle_ms: u64) -> ConnLimits {
        ConnLimits {
            handshake_timeout: Duration::from_millis(handshake_ms),
            idle_timeout: Duration::from_millis(idle_ms),
            request_timeout: Duration::from_secs(30),
            max_connections: 4,
        }
    }

    #[test]
    fn default_max_connections_leaves_headroom() {
        assert_eq!(default_max_connections(Some(1024)), 1024 - 96 - 64);
        assert_eq!(default_max_connections(Some(256)), 256 - 96 - 16);
        assert_eq!(default_max_connections(Some(64)), 8);
        assert_eq!(default_max_connections(Some(1 << 20)), 16_384);
        assert!(default_max_connections(None) < 1024);
    }

    #[test]
    fn accept_backoff_doubles_then_caps() {
        assert_eq!(accept_backoff(1), Duration::from_millis(10));
        assert_eq!(accept_backoff(2), Duration::from_millis(20));
        assert_eq!(accept_backoff(7), Duration::from_millis(640));
        assert_eq!(accept_backoff(8), Duration::from_secs(1));
        assert_eq!(accept_backoff(1000), Duration::from_secs(1));
    }

    #[tokio::test]
    async fn tracker_at_cap_evicts_longest_idle_then_refuses_when_all_busy() {
        let tracker = Arc::new(Tracker::new(2));
        let first = tracker.admit().unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let second = tracker.admit().unwrap();
        let busy = second.activity().begin();
        // At the cap: the idle one (first) makes room.
        let third = tracker.admit().unwrap();
        assert_eq!(first.activity().close_wanted(&limits(60_000, 60_000)).await, CloseReason::Evicted);
        let _busy_too = third.activity().begin();
        assert_eq!(tracker.len(), 2);
        // Every open connection is busy: the newcomer is refused.
        assert!(tracker.admit().is_none());
        drop(busy);
        let fourth = tracker.admit().expect("second became idle and is evicted");
        assert_eq!(second.activity().close_wanted(&limits(60_000, 60_000)).await, CloseReason::Evicted);
        drop((first, second));
        assert_eq!(tracker.len(), 2, "third and fourth");
        drop(fourth);
        assert_eq!(tracker.len(), 1);
    }

    #[tokio::test]
    async fn tracker_at_cap_evicts_silent_before_idle_clients() {
        let tracker = Arc::new(Tracker::new(2));
        let client = tracker.admit().unwrap();
        drop(client.activity().begin()); // made a request, now idle
        tokio::time::sleep(Duration::from_millis(5)).await;
        let silent = tracker.admit().unwrap();
        let newcomer = tracker.admit().unwrap();
        assert_eq!(silent.activity().close_wanted(&limits(2_000, 2_000)).await, CloseReason::Evicted);
        tokio::time::sleep(Duration::from_millis(5)).await;
        drop(newcomer.activity().begin());
        // Both have spoken: the one idle the longest goes.
        let _another = tracker.admit().unwrap();
        assert_eq!(client.activity().close_wanted(&limits(2_000, 2_000)).await, CloseReason::Evicted);
    }

    #[tokio::test]
    async fn activity_silent_connection_closed_after_handshake_timeout() {
        let tracker = Arc::new(Tracker::new(8));
        let conn = tracker.admit().unwrap();
        let started = Instant::now();
        assert_eq!(conn.activity().close_wanted(&limits(200, 60_000)).await, CloseReason::Idle);
        assert!(started.elapsed() >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn activity_busy_connection_kept_then_idle_timeout_from_last_request() {
        let tracker = Arc::new(Tracker::new(8));
        let conn = tracker.admit().unwrap();
        let activity = conn.activity();
        let request = activity.begin();
        let watcher = tokio::spawn({
            let activity = activity.clone();
            async move { activity.close_wanted(&limits(50, 300)).await }
        });
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(!watcher.is_finished(), "a request in flight keeps the connection");
        let ended = Instant::now();
        drop(request);
        assert_eq!(watcher.await.unwrap(), CloseReason::Idle);
        assert!(
            ended.elapsed() >= Duration::from_millis(300),
            "the idle timeout counts from the request's end"
        );
    }
}
