//! Property tests ("fuzzing" on stable Rust, run by `cargo test`) of every path where bytes or
//! values from the network or the disk come in: protobuf → Baileys objects and back, BufferJSON,
//! Baileys' session files and a whole session folder, binary nodes. Each property feeds
//! arbitrary input and input mutated from valid input, and checks that the code never
//! panics, never hangs and never allocates out of proportion to its input: it decodes or
//! returns an error (see `support::bounded`).
//!
//! Every property runs a fixed, small number of cases so that the whole binary takes a few
//! seconds in a debug build (`cargo test -p shard-core --test fuzz`). For a long local run:
//!
//! ```text
//! PROPTEST_CASES=20000 cargo test --release -p shard-core --test fuzz
//! ```
//!
//! A failing case is shrunk and its seed saved in `crates/shard-core/proptest-regressions/`
//! (committed: the corpus), and every later run tries the saved seeds first.

mod binary_node;
mod buffer_json;
mod file_store_open;
mod proto_decode;
mod proto_encode;
mod session_files;
mod support;
