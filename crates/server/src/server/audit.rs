//! The audit trail writer: handlers hand events over a channel, one thread writes them in
//! batches, so a runtime read never waits on an audit insert.
//!
//! The queue is bounded ([`QUEUE`] events): a flood that produces events faster than the
//! database takes them (or a database that stalls) cannot grow the service's memory without
//! limit. Events that do not fit are counted, and the count is written to the trail as an
//! `audit.dropped` event as soon as the writer catches up, so a gap is never silent.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;

use crate::store::{AuditEvent, Store};

/// Events waiting to be written at most.
pub const QUEUE: usize = 65_536;

/// Where handlers send audit events.
#[derive(Clone)]
pub struct AuditSink {
    tx: mpsc::SyncSender<AuditEvent>,
    dropped: Arc<AtomicU64>,
}

impl AuditSink {
    /// Starts the writer thread. It ends once every sink is dropped and the queue is written.
    pub fn start(store: Arc<Store>) -> (AuditSink, AuditWriter) {
        AuditSink::start_with_queue(store, QUEUE)
    }

    /// [`AuditSink::start`] with a queue of `capacity` events.
    pub fn start_with_queue(store: Arc<Store>, capacity: usize) -> (AuditSink, AuditWriter) {
        let (tx, rx) = mpsc::sync_channel::<AuditEvent>(capacity);
        let dropped = Arc::new(AtomicU64::new(0));
        let lost = dropped.clone();
        let thread = std::thread::Builder::new()
            .name("audit".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < 1000 {
                        match rx.try_recv() {
                            Ok(e) => batch.push(e),
                            Err(_) => break,
                        }
                    }
                    let dropped = lost.swap(0, Ordering::Relaxed);
                    if dropped > 0 {
                        batch.push(AuditEvent {
                            actor: "service".into(),
                            action: "audit.dropped".into(),
                            detail: Some(format!("{dropped} events not recorded: the audit queue was full")),
                            ..AuditEvent::default()
                        });
                    }
                    if let Err(e) = store.audit(&batch) {
                        tracing::error!(error = %e, lost = batch.len(), "audit trail write failed");
                    }
                }
            })
            .expect("spawning the audit thread");
        (AuditSink { tx, dropped }, AuditWriter(thread))
    }

    /// Records an event (never blocks on the database); counts it as dropped if the queue is full.
    pub fn record(&self, event: AuditEvent) {
        if let Err(mpsc::TrySendError::Full(_)) = self.tx.try_send(event) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The writer thread, to wait for when the service stops so no event is lost.
pub struct AuditWriter(std::thread::JoinHandle<()>);

impl AuditWriter {
    /// Waits until every queued event is written (call after all sinks are dropped).
    pub fn finish(self) {
        let _ = self.0.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TestStore;

    #[test]
    fn audit_sink_full_queue_drops_and_records_the_count() {
        let test = TestStore::new();
        let dir = crate::store::DataDir(test.path().parent().unwrap().to_path_buf());
        let store = Arc::new(crate::store::Store::open(&dir).unwrap());
        // Hold the database's write lock, so the writer stalls on its first batch.
        let blocker = rusqlite::Connection::open(store.path()).unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let (sink, writer) = AuditSink::start_with_queue(store.clone(), 4);
        let event = |i: usize| AuditEvent {
            actor: "operator".into(),
            action: format!("test.{i}"),
            ..AuditEvent::default()
        };
        for i in 0..50 {
            sink.record(event(i));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        blocker.execute_batch("ROLLBACK").unwrap();
        drop(sink);
        writer.finish();
        let events = store.audit_list(1000).unwrap();
        let recorded = events.iter().filter(|e| e.action.starts_with("test.")).count();
        let dropped: Vec<_> = events.iter().filter(|e| e.action == "audit.dropped").collect();
        // The writer's first batch, then what the queue held when the lock went.
        assert!(recorded <= 4 + 4, "{recorded} recorded with a queue of 4");
        assert_eq!(dropped.len(), 1, "{events:?}");
        let detail = dropped[0].detail.as_deref().unwrap();
        assert_eq!(detail, format!("{} events not recorded: the audit queue was full", 50 - recorded));
    }
}
