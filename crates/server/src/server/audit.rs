//! The audit trail writer: handlers hand events over a channel, one thread writes them in
//! batches, so a runtime read never waits on an audit insert.

use std::sync::mpsc;
use std::sync::Arc;

use crate::store::{AuditEvent, Store};

/// Where handlers send audit events.
#[derive(Clone)]
pub struct AuditSink(mpsc::Sender<AuditEvent>);

impl AuditSink {
    /// Starts the writer thread. It ends once every sink is dropped and the queue is written.
    pub fn start(store: Arc<Store>) -> (AuditSink, AuditWriter) {
        let (tx, rx) = mpsc::channel::<AuditEvent>();
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
                    if let Err(e) = store.audit(&batch) {
                        eprintln!("error: audit trail: {e} ({} events lost)", batch.len());
                    }
                }
            })
            .expect("spawning the audit thread");
        (AuditSink(tx), AuditWriter(thread))
    }

    /// Records an event (never blocks on the database).
    pub fn record(&self, event: AuditEvent) {
        let _ = self.0.send(event);
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
