//! The reconnect policy: what a shard does after its connection ends, and when.
//!
//! The engine's own loop is switched off (`enable_auto_reconnect = false`): each run of
//! `Client::run` is one connection, and [`supervise`] decides what follows it from what the
//! engine reported during that run (recorded synchronously by [`RunWatcher`], so the decision
//! never races the event handlers):
//! - 515 (restart required, always right after pairing) → reconnect at once;
//! - 440 replaced, 401/403 logged out, refused, a QR nobody scanned → stop (the shard's
//!   event handler reports these and ends the shard);
//! - anything else (dropped connection, 428, 408, 500, 503, a failed dial) → exponential
//!   backoff with jitter, capped, reset once a connection stayed up for a stable period.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt as _;
use tokio::sync::Notify;
use wacore::types::events::{Event, EventHandler, EventInterest, EventKind};
use whatsapp_rust::Client;

/// Backoff after transient closes. Baileys has no such option; these are ours
/// (`ShardManager({ reconnect })`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReconnectPolicy {
    /// Delay before the first retry.
    pub initial: Duration,
    /// The delay doubles per failed attempt up to this cap.
    pub max: Duration,
    /// A connection that stayed up this long resets the backoff.
    pub stable_after: Duration,
    /// ± this fraction of random jitter on every delay, so shards that dropped together do not
    /// retry together.
    pub jitter: f64,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(120),
            stable_after: Duration::from_secs(30),
            jitter: 0.2,
        }
    }
}

impl ReconnectPolicy {
    /// The delay before retry number `attempt` (0-based), without jitter.
    pub fn base_delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(30));
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// The delay before retry number `attempt`, with jitter, never above the cap.
    pub fn delay(&self, attempt: u32) -> Duration {
        let base = self.base_delay(attempt).as_secs_f64();
        let spread = (rand::random::<f64>() * 2.0 - 1.0) * self.jitter.clamp(0.0, 1.0);
        Duration::from_secs_f64((base * (1.0 + spread)).max(0.0)).min(self.max)
    }
}

/// What one run of the engine's connection loop ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// The engine or the user ended the session: do not reconnect.
    Stop,
    /// 515 restart: reconnect at once. `after_login` tells whether the shard was logged in
    /// (so the close is reported) or had just paired (the engine's usual 515).
    ReconnectNow { after_login: bool },
    /// Dropped, refused or failed: back off.
    Backoff { was_stable: bool },
}

/// Records, as the engine dispatches them, the events that decide a run's [`NextStep`].
#[derive(Default)]
pub struct RunWatcher {
    terminal: AtomicBool,
    disconnected: AtomicBool,
    paired: AtomicBool,
    /// The user dropped the connection (`sock.ws.close()`); the close is reported already.
    closed_by_user: AtomicBool,
    /// Milliseconds since `epoch` when the run logged in; 0 when it did not.
    connected_at: AtomicU64,
    epoch: std::sync::OnceLock<Instant>,
}

impl RunWatcher {
    pub fn interest() -> EventInterest {
        EventInterest::of(&[
            EventKind::Connected,
            EventKind::Disconnected,
            EventKind::PairSuccess,
            EventKind::LoggedOut,
            EventKind::StreamReplaced,
            EventKind::ConnectFailure,
            EventKind::TemporaryBan,
            EventKind::ClientOutdated,
            EventKind::PairingQrCodesExhausted,
        ])
    }

    fn now_ms(&self) -> u64 {
        self.epoch.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
    }

    /// The current connection is being dropped on the user's request: reconnect at once.
    pub fn closed_by_user(&self) {
        self.closed_by_user.store(true, Ordering::Release);
    }

    fn begin_run(&self) {
        self.disconnected.store(false, Ordering::Release);
        self.closed_by_user.store(false, Ordering::Release);
        self.paired.store(false, Ordering::Release);
        self.connected_at.store(0, Ordering::Release);
    }

    /// Called once the run returned.
    pub fn next_step(&self, policy: &ReconnectPolicy) -> NextStep {
        if self.terminal.load(Ordering::Acquire) {
            return NextStep::Stop;
        }
        if self.closed_by_user.load(Ordering::Acquire) {
            return NextStep::ReconnectNow { after_login: false };
        }
        let connected_at = self.connected_at.load(Ordering::Acquire);
        let disconnected = self.disconnected.load(Ordering::Acquire);
        if !disconnected && self.paired.load(Ordering::Acquire) {
            return NextStep::ReconnectNow { after_login: false };
        }
        if !disconnected && connected_at != 0 {
            // Logged in, then the engine closed without reporting a drop: only a 515 does that.
            return NextStep::ReconnectNow { after_login: true };
        }
        let was_stable = connected_at != 0 && self.now_ms().saturating_sub(connected_at) >= policy.stable_after.as_millis() as u64;
        NextStep::Backoff { was_stable }
    }
}

impl EventHandler for RunWatcher {
    fn handle_event(&self, event: Arc<Event>) {
        match &*event {
            Event::Connected(_) => self.connected_at.store(self.now_ms(), Ordering::Release),
            Event::Disconnected(_) => self.disconnected.store(true, Ordering::Release),
            Event::PairSuccess(_) => self.paired.store(true, Ordering::Release),
            Event::ConnectFailure(f) if f.reason.should_reconnect() => {}
            Event::PairingQrCodesExhausted(q) if !q.disconnected => {}
            Event::LoggedOut(_)
            | Event::StreamReplaced(_)
            | Event::ConnectFailure(_)
            | Event::TemporaryBan(_)
            | Event::ClientOutdated(_)
            | Event::PairingQrCodesExhausted(_) => self.terminal.store(true, Ordering::Release),
            _ => {}
        }
    }

    fn interest(&self) -> EventInterest {
        RunWatcher::interest()
    }
}

/// Asks a supervisor to stop; wakes it from a backoff wait.
#[derive(Default)]
pub struct StopSignal {
    stopped: AtomicBool,
    notify: Notify,
}

impl StopSignal {
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Resolves once stopped.
    pub async fn stopped(&self) {
        let notified = self.notify.notified();
        tokio::pin!(notified);
        // Registered before the flag is read, so a stop in between is not missed.
        notified.as_mut().enable();
        if !self.is_stopped() {
            notified.await;
        }
    }

    /// Sleeps `delay`, or less if stopped meanwhile. Returns false when stopped.
    async fn sleep(&self, delay: Duration) -> bool {
        let notified = self.notify.notified();
        tokio::pin!(notified);
        // Registered before the flag is read, so a stop in between is not missed.
        notified.as_mut().enable();
        if self.is_stopped() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => !self.is_stopped(),
            _ = notified => false,
        }
    }
}

/// What `supervise` tells the shard about a run that ended unusually.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEnd {
    /// A 515 after login: the engine reconnects at once.
    RestartRequired,
    /// The engine panicked (the message); the run counts as a dropped connection.
    Panicked(String),
}

/// Runs the shard's connections until the engine or `stop` ends them: `first` is the engine's
/// first run (`Bot::run`), later ones are the client's. `report` is told about a 515 after
/// login and about a run that panicked (it is followed by a reconnect with backoff, not the
/// end of the shard); `attempts` counts the failed attempts since the last stable connection,
/// for status and tests.
pub async fn supervise(
    first: impl Future<Output = ()>,
    client: Arc<Client>,
    watcher: Arc<RunWatcher>,
    policy: ReconnectPolicy,
    stop: Arc<StopSignal>,
    attempts: Arc<AtomicU32>,
    report: impl Fn(RunEnd) + Send + 'static,
) {
    run_guarded(first, &watcher, &report).await;
    loop {
        if stop.is_stopped() || client.shutdown_signal().is_fired() {
            break;
        }
        match watcher.next_step(&policy) {
            NextStep::Stop => break,
            NextStep::ReconnectNow { after_login } => {
                attempts.store(0, Ordering::Release);
                if after_login {
                    report(RunEnd::RestartRequired);
                }
            }
            NextStep::Backoff { was_stable } => {
                if was_stable {
                    attempts.store(0, Ordering::Release);
                }
                let attempt = attempts.fetch_add(1, Ordering::AcqRel);
                let delay = policy.delay(attempt);
                log::debug!("reconnecting in {delay:?} (attempt {})", attempt + 1);
                if !stop.sleep(delay).await {
                    break;
                }
            }
        }
        watcher.begin_run();
        run_guarded(client.run(), &watcher, &report).await;
    }
}

/// Runs one engine run; a panic in it is reported and counted as a dropped connection, so the
/// shard reconnects by its policy instead of silently never reconnecting again.
async fn run_guarded(run: impl Future<Output = ()>, watcher: &RunWatcher, report: &impl Fn(RunEnd)) {
    if let Err(payload) = std::panic::AssertUnwindSafe(run).catch_unwind().await {
        let what = crate::error::panic_message(&*payload);
        log::error!("the WhatsApp engine panicked: {what}");
        watcher.disconnected.store(true, Ordering::Release);
        report(RunEnd::Panicked(what));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_bounded_jitter() {
        let p = ReconnectPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
            stable_after: Duration::from_secs(1),
            jitter: 0.2,
        };
        let bases: Vec<_> = (0..7).map(|a| p.base_delay(a).as_millis()).collect();
        assert_eq!(bases, [100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(p.base_delay(u32::MAX), Duration::from_secs(2));
        for attempt in 0..10 {
            for _ in 0..50 {
                let d = p.delay(attempt);
                let base = p.base_delay(attempt).as_secs_f64();
                assert!(d.as_secs_f64() >= base * 0.8 - 1e-9 && d <= p.max, "{attempt}: {d:?}");
            }
        }
    }

    fn watcher_after(events: Vec<Event>) -> RunWatcher {
        let w = RunWatcher::default();
        w.begin_run();
        for e in events {
            w.handle_event(Arc::new(e));
        }
        w
    }

    #[tokio::test]
    async fn a_panicking_run_is_reported_and_followed_by_a_reconnect() {
        let watcher = RunWatcher::default();
        watcher.begin_run();
        let reports = std::sync::Mutex::new(Vec::new());
        let report = |end: RunEnd| reports.lock().unwrap().push(end);
        run_guarded(async { panic!("boom") }, &watcher, &report).await;
        assert_eq!(*reports.lock().unwrap(), [RunEnd::Panicked("boom".into())]);
        assert!(matches!(watcher.next_step(&ReconnectPolicy::default()), NextStep::Backoff { .. }));
        // A run that ends normally reports nothing.
        watcher.begin_run();
        run_guarded(async {}, &watcher, &report).await;
        assert_eq!(reports.lock().unwrap().len(), 1);
    }

    #[test]
    fn each_way_a_run_ends_leads_to_the_right_step() {
        use wacore::types::events::{Connected, Disconnected, LoggedOut, PairSuccess, StreamReplaced};
        let p = ReconnectPolicy::default();
        let connected = || Event::Connected(Connected::builder().build());
        let dropped = || Event::Disconnected(Disconnected::builder().reason(wacore::net::DisconnectReason::StreamEnded).build());
        // A dial or handshake that failed: no event at all.
        assert_eq!(watcher_after(vec![]).next_step(&p), NextStep::Backoff { was_stable: false });
        assert_eq!(watcher_after(vec![connected(), dropped()]).next_step(&p), NextStep::Backoff { was_stable: false });
        assert_eq!(watcher_after(vec![connected()]).next_step(&p), NextStep::ReconnectNow { after_login: true });
        let pair = PairSuccess::builder()
            .id(wacore_binary::jid::Jid::pn("1"))
            .lid(wacore_binary::jid::Jid::lid("2"))
            .business_name(String::new())
            .platform(String::new())
            .build();
        assert_eq!(watcher_after(vec![Event::PairSuccess(pair)]).next_step(&p), NextStep::ReconnectNow { after_login: false });
        assert_eq!(
            watcher_after(vec![connected(), Event::StreamReplaced(StreamReplaced::builder().build())]).next_step(&p),
            NextStep::Stop
        );
        let logged_out = LoggedOut::builder().on_connect(true).reason(wacore::types::events::ConnectFailureReason::LoggedOut).build();
        assert_eq!(watcher_after(vec![Event::LoggedOut(logged_out)]).next_step(&p), NextStep::Stop);
    }

    #[tokio::test]
    async fn stop_wakes_a_backoff_wait() {
        let stop = Arc::new(StopSignal::default());
        let waiter = {
            let stop = stop.clone();
            tokio::spawn(async move { stop.sleep(Duration::from_secs(3600)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        stop.stop();
        let woke = tokio::time::timeout(Duration::from_secs(2), waiter).await.expect("woken").unwrap();
        assert!(!woke);
    }
}
