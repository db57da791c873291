//! The Node binding: argument parsing, JS object building and error codes, nothing else.
//! The shard logic lives in `crates/shard-core`.

mod errors;
mod events;
mod manager;
mod options;
