#!/usr/bin/env bash
# Release-optimised addon that trusts the mock (feature insecure-test-server), for benchmarks
# only, plus a release mock server so the mock is not the bottleneck. Copied to target/bench-addon/.
# It never touches the user-facing addon: `npm run build` (napi) copies its own cargo output to
# ./baileys-shard.linux-x64-gnu.node, and cargo rebuilds target/release/libbaileys_shard.so
# without the feature when it runs (features are part of the fingerprint).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p baileys-shard --features insecure-test-server -p baileys-shard-mock
mkdir -p target/bench-addon
cp target/release/libbaileys_shard.so "target/bench-addon/baileys-shard.linux-x64-gnu.node.$$"
mv "target/bench-addon/baileys-shard.linux-x64-gnu.node.$$" target/bench-addon/baileys-shard.linux-x64-gnu.node
cp target/release/baileys-shard-mock "target/bench-addon/baileys-shard-mock.$$"
mv "target/bench-addon/baileys-shard-mock.$$" target/bench-addon/baileys-shard-mock
echo "bench addon: target/bench-addon/baileys-shard.linux-x64-gnu.node, mock: target/bench-addon/baileys-shard-mock"
