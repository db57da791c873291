//! A manager-wide cap on concurrent handshakes.
//!
//! After a server restart every shard reconnects at about the same moment; without a cap,
//! 1,000 shards would open 1,000 Noise handshakes at once (a stampede WhatsApp answers with
//! rate limits, and which starves the shards' own CPU). Each shard dials through a
//! [`GatedTransportFactory`]: dialling waits for a permit, and the permit is held until the
//! shard reports the handshake's end (logged in, showing a QR, or closed) — or, as a safety
//! net, until [`HANDSHAKE_PERMIT_TIMEOUT`] passes, so a stalled handshake cannot block others.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wacore::net::{Transport, TransportEvent, TransportFactory};

/// Default for `maxConcurrentHandshakes`.
pub const DEFAULT_MAX_CONCURRENT_HANDSHAKES: usize = 16;

/// A permit not released by the shard is taken back after this long.
pub const HANDSHAKE_PERMIT_TIMEOUT: Duration = Duration::from_secs(30);

/// The cap itself, shared by every shard of a manager.
pub struct HandshakeGate {
    permits: Arc<Semaphore>,
    limit: usize,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

impl HandshakeGate {
    pub fn new(limit: usize) -> Arc<Self> {
        let limit = limit.max(1);
        Arc::new(HandshakeGate {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        })
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Handshakes holding a permit now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// The most handshakes that held a permit at the same time.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Acquire)
    }

    async fn acquire(self: &Arc<Self>) -> HandshakePermit {
        // The semaphore is never closed, so acquiring cannot fail.
        let permit = self.permits.clone().acquire_owned().await.expect("handshake semaphore is never closed");
        let now = self.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        self.peak.fetch_max(now, Ordering::AcqRel);
        HandshakePermit { _permit: permit, gate: self.clone() }
    }
}

struct HandshakePermit {
    _permit: OwnedSemaphorePermit,
    gate: Arc<HandshakeGate>,
}

impl Drop for HandshakePermit {
    fn drop(&mut self) {
        self.gate.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One shard's place in the gate: the permit of its current handshake, if any.
#[derive(Default)]
pub struct HandshakeSlot {
    held: Mutex<Option<(u64, HandshakePermit)>>,
    generation: AtomicU64,
}

impl HandshakeSlot {
    /// The handshake ended (either way): let the next shard in.
    pub fn release(&self) {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    fn hold(self: &Arc<Self>, permit: HandshakePermit) {
        self.hold_for(permit, HANDSHAKE_PERMIT_TIMEOUT);
    }

    /// Holds `permit` until released, or until `timeout` passes.
    fn hold_for(self: &Arc<Self>, permit: HandshakePermit, timeout: Duration) {
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        *self.held.lock().unwrap_or_else(|p| p.into_inner()) = Some((generation, permit));
        let slot = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            if let Some(slot) = slot.upgrade() {
                let mut held = slot.held.lock().unwrap_or_else(|p| p.into_inner());
                if held.as_ref().is_some_and(|(g, _)| *g == generation) {
                    log::debug!("handshake permit timed out; releasing it");
                    held.take();
                }
            }
        });
    }
}

/// Dials through `inner` once the gate lets this shard in.
pub struct GatedTransportFactory<F> {
    inner: F,
    gate: Arc<HandshakeGate>,
    slot: Arc<HandshakeSlot>,
}

impl<F> GatedTransportFactory<F> {
    pub fn new(inner: F, gate: Arc<HandshakeGate>, slot: Arc<HandshakeSlot>) -> Self {
        GatedTransportFactory { inner, gate, slot }
    }
}

#[async_trait]
impl<F: TransportFactory + Send + Sync> TransportFactory for GatedTransportFactory<F> {
    async fn create_transport(&self) -> Result<(Arc<dyn Transport>, async_channel::Receiver<TransportEvent>), anyhow::Error> {
        // A previous attempt's permit (a dial that failed before any event) is returned first,
        // so a shard never holds two.
        self.slot.release();
        let permit = self.gate.acquire().await;
        let result = self.inner.create_transport().await;
        if result.is_ok() {
            self.slot.hold(permit);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Instant;

    #[async_trait]
    impl TransportFactory for Instant {
        async fn create_transport(&self) -> Result<(Arc<dyn Transport>, async_channel::Receiver<TransportEvent>), anyhow::Error> {
            Err(anyhow::anyhow!("no network in this test"))
        }
    }

    #[tokio::test]
    async fn never_more_than_the_limit_hold_permits() {
        let gate = HandshakeGate::new(2);
        let slots: Vec<_> = (0..5).map(|_| Arc::new(HandshakeSlot::default())).collect();
        let mut permits = Vec::new();
        for _ in 0..2 {
            permits.push(gate.acquire().await);
        }
        assert_eq!(gate.in_flight(), 2);
        // A third must wait until one is released.
        let third = tokio::time::timeout(Duration::from_millis(50), gate.acquire()).await;
        assert!(third.is_err(), "the gate let a third handshake in");
        slots[0].hold(permits.pop().unwrap());
        slots[0].release();
        let third = tokio::time::timeout(Duration::from_millis(500), gate.acquire()).await;
        assert!(third.is_ok());
        assert_eq!(gate.peak(), 2);
    }

    #[tokio::test]
    async fn a_failed_dial_gives_its_permit_back() {
        let gate = HandshakeGate::new(1);
        let slot = Arc::new(HandshakeSlot::default());
        let factory = GatedTransportFactory::new(Instant, gate.clone(), slot);
        for _ in 0..3 {
            assert!(factory.create_transport().await.is_err());
        }
        assert_eq!(gate.in_flight(), 0);
    }

    // Real time with a short timeout: tokio's paused clock (`test-util`) would give the test
    // build other tokio features than the addon's, and CI would compile every crate twice.
    #[tokio::test]
    async fn a_stalled_handshake_loses_its_permit() {
        let gate = HandshakeGate::new(1);
        let slot = Arc::new(HandshakeSlot::default());
        slot.hold_for(gate.acquire().await, Duration::from_millis(50));
        assert_eq!(gate.in_flight(), 1);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(gate.in_flight(), 0);
    }
}
