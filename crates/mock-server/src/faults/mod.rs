//! Fault injection: what the admin API can make the mock do wrong on purpose, so that clients'
//! reconnect and robustness logic can be tested against it.
//!
//! - drop connections abruptly (no `<stream:error>`, no WebSocket close frame), one device, one
//!   number, or all; or at random, while messages are in flight;
//! - send a `<stream:error>` shaped exactly as WhatsApp sends it (515, 440 conflict, 401, 503, ...);
//! - answer the next N logins with `<failure reason=..>`;
//! - answer the next N pairing-code requests with an `<iq type="error">`;
//! - spoil the next N app-state answers to a device (a bad MAC, an unknown collection);
//! - hold frames to clients (all, or IQ responses only) for a while;
//! - send one malformed frame to one connection;
//! - refuse WebSocket connections for a while; "restart" (drop all + refuse, keeping all state);
//! - count handshakes (`GET /admin/stats`), including the peak of concurrent ones.
//!
//! Connections register here when they start ([`Faults::register`]) and get two handles: a
//! [`ConnFaults`] for the read side (it resolves when the connection must die) and a
//! [`WriterFaults`] the write loop pulls its frames through (it applies delays and random drops,
//! and hands over malformed frames to write).
//!
//! The module is split by what a newcomer looks for: [`model`] says what a fault is,
//! [`registry`] holds the faults in force on the server and its counters, [`runtime`] the
//! per-connection handles that apply them, and [`admin`] turns `/admin/faults` and
//! `/admin/stats` requests into faults and answers.

pub mod admin;
pub mod model;
pub mod registry;
pub mod runtime;

pub use admin::{route, DEFAULT_RESTART_DOWN};
pub use model::{
    AppStateFault, AppStateSpoil, Delay, DelayScope, DropOn, DropPoint, DropRate, Fault, LoginFailure, MalformedFrame, MalformedKind,
    PairingCodeRefusal, RefuseHow, StreamErrorKind, Target,
};
pub use registry::Faults;
pub use runtime::{ConnFaults, LoginOutcome, WriteStep, WriterFaults};
