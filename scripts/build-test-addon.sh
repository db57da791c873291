#!/usr/bin/env bash
# The test addon (trusts the mock server) and the mock server binary. Plain cargo, so it shares
# target/debug with `cargo test` instead of compiling every dependency again for a --target dir.
set -euo pipefail
cd "$(dirname "$0")/.."
# One cargo run for both: features are unified across the packages of one run, so the addon,
# the mock and `cargo test` of the crates (scripts/test.sh) share every dependency's build.
cargo build -p baileys-shard -p baileys-shard-mock --features baileys-shard/insecure-test-server
mkdir -p target/test-addon
# Copy then rename: a test already running keeps its loaded file. The temp name is per process
# so two builds at once do not trip over each other.
cp target/debug/libbaileys_shard.so "target/test-addon/baileys-shard.linux-x64-gnu.node.$$"
mv "target/test-addon/baileys-shard.linux-x64-gnu.node.$$" target/test-addon/baileys-shard.linux-x64-gnu.node
