#!/usr/bin/env bash
# The test addon (trusts the mock server) and the mock server binary. Plain cargo, so it shares
# target/debug with `cargo test` instead of compiling every dependency again for a --target dir.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -p baileys-shard --features insecure-test-server
cargo build -p baileys-shard-mock
mkdir -p target/test-addon
# Copy then rename: a test already running keeps its loaded file. The temp name is per process
# so two builds at once do not trip over each other.
cp target/debug/libbaileys_shard.so "target/test-addon/baileys-shard.linux-x64-gnu.node.$$"
mv "target/test-addon/baileys-shard.linux-x64-gnu.node.$$" target/test-addon/baileys-shard.linux-x64-gnu.node
