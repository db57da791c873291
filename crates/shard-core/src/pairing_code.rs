//! Pairing-code login for a shard created with a phone number: instead of a QR, the user types
//! an 8-character code on the phone ("Link with phone number instead").
//!
//! The engine does the protocol (`Client::pair_with_code`: the `companion_hello` iq, the
//! phone's `primary_hello`, the `companion_finish` key bundle) and announces each code with
//! `Event::PairingCode`, which the shard reports as `login.update { type: 'pairing' }`. This
//! module decides *when* to ask for a code:
//! - as soon as the connection can carry the request: the server has put it in pairing mode
//!   (its `pair-device`, which the engine reports as the first QR of the connection) — the
//!   moment Baileys documents for `requestPairingCode`, and never on a timer;
//! - again when the code expires (the engine reports how long it stays valid, ~180 s), when the
//!   engine asks for a new one (`Event::PairingCodeRefresh`: the server's `refresh_code`, or a
//!   phone that went quiet after reading the code), and on each new connection while unpaired;
//! - never once the device is paired, and never for a session that was paired already;
//! - not again on a connection whose request failed (a refused request is reported as
//!   `PAIRING_FAILED`): WhatsApp refuses when it throttles a number, and asking on every QR
//!   rotation would only prolong that. The next connection, or a refresh the engine asks
//!   for, tries again.
//!
//! The decisions are a plain state machine ([`CodeSchedule`]) so they can be tested without a
//! server; [`PairingCodeLogin`] carries them out on the engine client.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use wacore::types::events::{Event, PairingCodeError};
use whatsapp_rust::pair_code::{PairCodeOptions, PairCodeRejection};
use whatsapp_rust::Client;

use crate::error::{ErrorCode, ShardError};

/// A phone number in international form, digits only (`15551234567`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts `15551234567`, `+1 555-123-4567`, ...: after dropping `+`, spaces and dashes it
    /// must be 7 to 15 digits (E.164) and not start with 0 (a national prefix, not a country code).
    pub fn parse(raw: &str) -> Result<Self, ShardError> {
        let digits: String = raw.chars().filter(|c| !matches!(c, '+' | ' ' | '-')).collect();
        let invalid = |why: &str| {
            ShardError::new(
                ErrorCode::InvalidArgument,
                format!("phoneNumber {raw:?} {why}; give the number with its country code, digits only, e.g. '15551234567'"),
            )
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("has characters other than digits, '+', spaces and dashes"));
        }
        if !(7..=15).contains(&digits.len()) {
            return Err(invalid(&format!("has {} digits, not 7 to 15", digits.len())));
        }
        if digits.starts_with('0') {
            return Err(invalid("starts with 0, which no country code does"));
        }
        Ok(PhoneNumber(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Past the engine's own validity window before asking again: the engine refuses to replace a
/// code that is still live, and its clock started before ours.
const EXPIRY_MARGIN: Duration = Duration::from_secs(2);

/// What the login does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Nothing,
    /// Ask the engine for a code on connection number `connection`.
    Request {
        connection: u64,
    },
    /// Wake up after `after`; the code is stale then unless `token` was superseded.
    ExpireAfter {
        after: Duration,
        token: u64,
    },
}

/// When to ask for a code, from the engine's events. No I/O; every decision is a [`Step`].
#[derive(Debug, Default)]
pub(crate) struct CodeSchedule {
    /// Counts connections: a code belongs to the connection that asked for it.
    connection: u64,
    /// A request is in flight on this connection.
    requesting_on: Option<u64>,
    /// A request failed on this connection: QR rotations of it do not ask again.
    failed_on: Option<u64>,
    /// A code is on screen and still valid.
    code_live: bool,
    /// Bumped whenever the code on screen changes or ends, so a pending expiry timer for an
    /// older code does nothing.
    token: u64,
    paired: bool,
}

impl CodeSchedule {
    fn request(&mut self) -> Step {
        if self.paired || self.code_live || self.requesting_on == Some(self.connection) {
            return Step::Nothing;
        }
        self.requesting_on = Some(self.connection);
        Step::Request { connection: self.connection }
    }

    pub(crate) fn on_event(&mut self, event: &Event) -> Step {
        match event {
            // The server sent `pair-device`: this connection is in pairing mode. QR rotations
            // of the same connection find the code live (or requested) and do nothing.
            Event::PairingQrCode(_) if self.failed_on == Some(self.connection) => Step::Nothing,
            Event::PairingQrCode(_) => self.request(),
            Event::PairingCode(code) => {
                self.requesting_on = None;
                self.code_live = true;
                self.token += 1;
                Step::ExpireAfter { after: code.timeout + EXPIRY_MARGIN, token: self.token }
            }
            Event::PairingCodeRefresh(_) => {
                self.code_live = false;
                self.token += 1;
                self.request()
            }
            // Reported by the shard as PAIRING_FAILED; the next connection tries again.
            Event::PairingCodeError(_) => {
                if let Some(connection) = self.requesting_on.take() {
                    self.failed_on = Some(connection);
                }
                self.code_live = false;
                self.token += 1;
                Step::Nothing
            }
            Event::PairSuccess(_) | Event::Connected(_) => {
                self.paired = true;
                self.code_live = false;
                self.token += 1;
                Step::Nothing
            }
            // The engine drops a connection's pairing flow with the connection.
            Event::Disconnected(_) | Event::LoggedOut(_) | Event::StreamReplaced(_) => {
                self.connection += 1;
                self.requesting_on = None;
                self.code_live = false;
                self.token += 1;
                Step::Nothing
            }
            _ => Step::Nothing,
        }
    }

    /// The expiry timer of `token` fired; `can_pair` says the connection is up and unpaired.
    pub(crate) fn on_expiry(&mut self, token: u64, can_pair: bool) -> Step {
        if token != self.token {
            return Step::Nothing;
        }
        self.code_live = false;
        self.token += 1;
        if can_pair {
            self.request()
        } else {
            Step::Nothing
        }
    }

    /// The request made on `connection` returned; `got_code` when it produced a code.
    pub(crate) fn request_done(&mut self, connection: u64, got_code: bool) {
        if self.requesting_on == Some(connection) {
            self.requesting_on = None;
            // The engine announces the code before returning it; a QR rotation racing that
            // announcement must not ask again.
            if got_code && connection == self.connection && !self.paired {
                self.code_live = true;
            }
        }
        if !got_code && connection == self.connection {
            self.failed_on = Some(connection);
        }
    }
}

/// The `shard.error` message for a pairing-code request that got no code: what happened and
/// what to do, by the server's rejection when it gave one.
pub(crate) fn failure_message(e: &PairingCodeError) -> String {
    let backoff = e.backoff.map(|d| format!(" (WhatsApp asks to wait {} s)", d.as_secs())).unwrap_or_default();
    match e.rejection {
        Some(PairCodeRejection::FeatureNotAvailable) => format!(
            "WhatsApp does not offer pairing by code for this number ({}); create the shard without \
             phoneNumber and scan the QR code instead",
            e.error
        ),
        Some(r) if r.is_throttled() => format!(
            "WhatsApp refused the pairing-code request ({r}){backoff}: it limits how often a number may \
             ask for codes, and says bad-request for that too. The shard asks again on its next \
             connection; wait a few minutes before reconnecting it, or create it without phoneNumber \
             to pair by QR code"
        ),
        _ => format!(
            "could not get a pairing code: {}{backoff}. The shard asks again on its next connection \
             (connect(id) after it stops); or create it without phoneNumber to pair by QR code",
            e.error
        ),
    }
}

/// Pairing-code login of one shard's client.
pub(crate) struct PairingCodeLogin {
    shard_id: String,
    phone: PhoneNumber,
    schedule: Mutex<CodeSchedule>,
}

impl PairingCodeLogin {
    pub(crate) fn new(shard_id: &str, phone: PhoneNumber) -> Arc<Self> {
        Arc::new(PairingCodeLogin { shard_id: shard_id.to_owned(), phone, schedule: Mutex::default() })
    }

    fn schedule(&self) -> std::sync::MutexGuard<'_, CodeSchedule> {
        self.schedule.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Feed every engine event of the shard's client here.
    pub(crate) fn on_engine_event(self: &Arc<Self>, event: &Event, client: &Arc<Client>) {
        let step = self.schedule().on_event(event);
        self.carry_out(step, Arc::downgrade(client));
    }

    fn carry_out(self: &Arc<Self>, step: Step, client: Weak<Client>) {
        match step {
            Step::Nothing => {}
            Step::Request { connection } => {
                let this = self.clone();
                tokio::spawn(async move {
                    let got_code = match client.upgrade() {
                        Some(client) => this.request_code(&client).await,
                        None => false,
                    };
                    this.schedule().request_done(connection, got_code);
                });
            }
            Step::ExpireAfter { after, token } => {
                let this = self.clone();
                // Holds the client weakly: a stopped shard's client is not kept alive by a timer.
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let can_pair = client.upgrade().is_some_and(|c| c.is_connected() && !c.is_logged_in());
                    let step = this.schedule().on_expiry(token, can_pair);
                    if step != Step::Nothing {
                        log::info!("shard {}: pairing code expired; requesting a new one", this.shard_id);
                    }
                    this.carry_out(step, client);
                });
            }
        }
    }

    /// Asks the engine for a code. The engine announces it (`Event::PairingCode`) and reports
    /// failures (`Event::PairingCodeError`) itself, so both reach the shard's events once.
    async fn request_code(&self, client: &Arc<Client>) -> bool {
        if client.is_logged_in() || client.persistence_manager().get_device_snapshot().pn.is_some() {
            return false; // paired already: a paired session never asks for a code
        }
        let options = PairCodeOptions { phone_number: self.phone.as_str().to_owned(), ..Default::default() };
        match client.pair_with_code(options).await {
            Ok(_) => true,
            Err(e) => {
                log::warn!("shard {}: no pairing code for {}: {e}", self.shard_id, self.phone);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wacore::types::events::{PairingCode, PairingCodeRefresh, PairingQrCode};

    fn qr() -> Event {
        Event::PairingQrCode(PairingQrCode::builder().code("qr".into()).timeout(Duration::from_secs(60)).build())
    }

    fn code(secs: u64) -> Event {
        Event::PairingCode(PairingCode::builder().code("ABCD1234".into()).timeout(Duration::from_secs(secs)).build())
    }

    fn disconnected() -> Event {
        Event::Disconnected(wacore::types::events::Disconnected::builder().reason(wacore::net::DisconnectReason::StreamEnded).build())
    }

    #[test]
    fn phone_numbers_are_normalised_and_checked() {
        assert_eq!(PhoneNumber::parse("15551234567").unwrap().as_str(), "15551234567");
        assert_eq!(PhoneNumber::parse("+1 555-123-4567").unwrap().as_str(), "15551234567");
        assert_eq!(PhoneNumber::parse("1234567").unwrap().as_str(), "1234567");
        assert_eq!(PhoneNumber::parse("123456789012345").unwrap().as_str(), "123456789012345");
        for bad in ["", "123456", "1234567890123456", "1555abc4567", "(555) 123-4567", "05551234567", "1555.123.4567"] {
            let err = PhoneNumber::parse(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgument, "{bad:?}");
            assert!(err.message.contains("phoneNumber"), "{}", err.message);
        }
    }

    #[test]
    fn asks_once_per_connection_when_it_enters_pairing_mode() {
        let mut s = CodeSchedule::default();
        assert_eq!(s.on_event(&qr()), Step::Request { connection: 0 });
        // QR rotations while the request is in flight, then while the code is on screen.
        assert_eq!(s.on_event(&qr()), Step::Nothing);
        assert!(matches!(s.on_event(&code(180)), Step::ExpireAfter { after, .. } if after == Duration::from_secs(182)));
        s.request_done(0, true);
        assert_eq!(s.on_event(&qr()), Step::Nothing);
    }

    #[test]
    fn a_code_that_expires_is_replaced_but_a_superseded_timer_does_nothing() {
        let mut s = CodeSchedule::default();
        s.on_event(&qr());
        let Step::ExpireAfter { token: first, .. } = s.on_event(&code(180)) else { panic!() };
        s.request_done(0, true);
        assert_eq!(s.on_expiry(first, true), Step::Request { connection: 0 });
        let Step::ExpireAfter { token: second, .. } = s.on_event(&code(180)) else { panic!() };
        s.request_done(0, true);
        assert_eq!(s.on_expiry(first, true), Step::Nothing, "an old timer must not replace the new code");
        // Expired while the connection is down: nothing now, the next connection asks.
        assert_eq!(s.on_expiry(second, false), Step::Nothing);
        assert_eq!(s.on_event(&qr()), Step::Request { connection: 0 });
    }

    #[test]
    fn the_engine_asking_for_a_new_code_gets_one() {
        let mut s = CodeSchedule::default();
        s.on_event(&qr());
        s.on_event(&code(180));
        s.request_done(0, true);
        let refresh = Event::PairingCodeRefresh(PairingCodeRefresh::builder().force_manual(false).build());
        assert_eq!(s.on_event(&refresh), Step::Request { connection: 0 });
    }

    #[test]
    fn each_new_connection_asks_again_and_a_late_answer_of_the_old_one_is_ignored() {
        let mut s = CodeSchedule::default();
        assert_eq!(s.on_event(&qr()), Step::Request { connection: 0 });
        s.on_event(&disconnected());
        assert_eq!(s.on_event(&qr()), Step::Request { connection: 1 });
        s.request_done(0, false); // the first connection's request fails late
        assert_eq!(s.on_event(&qr()), Step::Nothing, "connection 1's request is still in flight");
    }

    fn refused() -> Event {
        Event::PairingCodeError(PairingCodeError::builder().error("rate-overlimit (429)".into()).build())
    }

    #[test]
    fn a_failed_request_is_not_repeated_on_that_connection_but_on_the_next() {
        let mut s = CodeSchedule::default();
        assert_eq!(s.on_event(&qr()), Step::Request { connection: 0 });
        // The engine reports the refusal, then the request returns.
        assert_eq!(s.on_event(&refused()), Step::Nothing);
        s.request_done(0, false);
        assert_eq!(s.on_event(&qr()), Step::Nothing, "a QR rotation must not ask again");
        s.on_event(&disconnected());
        assert_eq!(s.on_event(&qr()), Step::Request { connection: 1 });
        s.request_done(1, false);
        assert_eq!(s.on_event(&refused()), Step::Nothing);
        assert_eq!(s.on_event(&qr()), Step::Nothing);
        // The engine asking for a fresh code is not a rotation: it is honoured.
        let refresh = Event::PairingCodeRefresh(PairingCodeRefresh::builder().force_manual(false).build());
        assert_eq!(s.on_event(&refresh), Step::Request { connection: 1 });
    }

    #[test]
    fn failure_messages_say_what_to_do() {
        let with = |rejection| {
            failure_message(
                &PairingCodeError::builder()
                    .maybe_rejection(rejection)
                    .error(rejection.map_or("timed out".to_owned(), |r: PairCodeRejection| r.to_string()))
                    .build(),
            )
        };
        let throttled = with(Some(PairCodeRejection::RateOverlimit));
        assert!(throttled.contains("rate-overlimit (429)") && throttled.contains("next connection"), "{throttled}");
        assert!(with(Some(PairCodeRejection::BadRequest)).contains("limits how often"));
        assert!(with(Some(PairCodeRejection::FeatureNotAvailable)).contains("scan the QR code instead"));
        let other = with(None);
        assert!(other.contains("timed out") && other.contains("connect(id)"), "{other}");
    }

    #[test]
    fn once_paired_it_never_asks() {
        let mut s = CodeSchedule::default();
        s.on_event(&qr());
        let Step::ExpireAfter { token, .. } = s.on_event(&code(180)) else { panic!() };
        s.on_event(&Event::PairSuccess(
            wacore::types::events::PairSuccess::builder()
                .id("15551234567:1@s.whatsapp.net".parse().unwrap())
                .lid("1:1@lid".parse().unwrap())
                .business_name(String::new())
                .platform("android".into())
                .build(),
        ));
        assert_eq!(s.on_expiry(token, true), Step::Nothing);
        s.on_event(&disconnected());
        assert_eq!(s.on_event(&qr()), Step::Nothing);
    }
}
