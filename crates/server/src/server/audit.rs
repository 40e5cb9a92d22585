//! The audit trail writer: handlers hand events over a channel, one thread writes them in
//! batches, so a runtime read never waits on an audit insert.

use std::sync::mpsc;
use std::sync::Arc;

use crate::store::{AuditEvent, Store};

/// Where handlers send audit events.
#[derive(Clone)]
pub struct AuditSink(mpsc::Sender<AuditEvent>);

impl AuditSink {
    /// Starts the writer thread.
    pub fn start(store: Arc<Store>) -> AuditSink {
        let (tx, rx) = mpsc::channel::<AuditEvent>();
        std::thread::Builder::new()
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
        AuditSink(tx)
    }

    /// Records an event (never blocks on the database).
    pub fn record(&self, event: AuditEvent) {
        let _ = self.0.send(event);
    }
}
