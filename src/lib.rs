//! The Node binding: argument parsing, JS object building and error codes, nothing else.
//! The shard logic lives in `crates/shard-core`.

// `#[napi]` exports are registered only outside `cargo test`, so in the test build they look unused.
#![cfg_attr(test, allow(dead_code))]

mod app_state_ops;
mod args;
mod community_ops;
mod errors;
mod events;
mod group_admin_ops;
mod group_ops;
mod js_to_bvalue;
mod js_value;
mod manager;
mod media;
mod newsletter_ops;
mod options;
mod peer_data_ops;
mod poll_ops;
mod privacy_ops;
mod process_logger;
mod profile_ops;
mod proto_codec;
mod raw_ops;
mod shard;
mod socket_ops;

#[napi_derive::module_init]
fn init_logging() {
    process_logger::install();
}

/// True in the testing builds (feature `insecure-test-server`): they trust the mock server's
/// certificate and dial loopback addresses only. The JS layer warns and tells the user.
#[napi_derive::napi(catch_unwind)]
pub fn skips_certificate_checks() -> bool {
    cfg!(feature = "insecure-test-server")
}
