//! A mock WhatsApp server that speaks the real protocol, for testing clients without WhatsApp.
//!
//! It serves `ws://127.0.0.1:PORT/ws/chat` (intro header, 3-byte framing, Noise XX/IK with a
//! certificate chain, binary nodes), a media CDN and an admin HTTP API on the same port — over
//! TLS (`wss://`, `https://`, a self-signed certificate) with [`MockConfig::tls`]. A mock phone pairs
//! clients by QR (`POST /admin/mock-phone/scan-qr`), building a real ADV device identity.
//! It works with whatsapp-rust 0.7 (built with `danger-skip-cert-chain-verify`) and Baileys 6.7.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let mock = baileys_shard_mock::MockServer::start(baileys_shard_mock::MockConfig::default()).await?;
//! println!("{}", mock.url());
//! mock.shutdown().await;
//! # Ok(()) }
//! ```

pub mod account_seed;
pub mod accounts;
pub mod admin;
mod admin_guard;
pub mod app_state;
pub mod business;
pub mod calls;
pub mod catalog;
pub mod clock;
mod config;
pub mod connection;
pub mod faults;
pub mod group_relay;
pub mod groups;
pub mod history_sync;
mod http_front;
mod http_response;
pub mod iq_handlers;
pub mod jid;
pub mod link;
mod locking;
pub mod media;
pub mod newsletters;
pub mod noise_server;
pub mod pairing;
pub mod pairing_code;
pub mod phone_pdo;
pub mod phone_signal;
pub mod phone_sync;
pub mod profile;
pub mod relay;
pub mod router;
mod server;
pub mod stanza;
mod state;
pub mod tls;
pub mod undecryptable;
mod ws_upgrade;

pub use config::MockConfig;
pub use server::MockServer;
