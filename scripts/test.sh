#!/usr/bin/env bash
# The whole test suite: Rust crates, then the addon builds, then jest through the public JS API.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== lint (rustfmt: rustfmt.toml; clippy; oxlint: .oxlintrc.json)"
cargo fmt --all --check
cargo clippy --workspace --features baileys-shard/insecure-test-server --all-targets -- -D warnings
npm run --silent lint

echo "== build the test addon (trusts the mock), the mock server and the crates' tests"
npm run --silent build:test

echo "== cargo test (shard-core, mock server)"
# The same packages and features as build:test, so nothing is compiled again.
cargo test --workspace --features baileys-shard/insecure-test-server

echo "== build the release addon (verifies WhatsApp's certificate chain; glibc 2.17 on Linux x64) and the release mock"
npm run --silent build

echo "== jest"
# Baileys (a test peer) is an ES module: jest needs VM modules for `await import()`.
# The summary line ("jest: N passed, N failed") is for CI, which reads plain result lines.
status=0
NODE_OPTIONS="--experimental-vm-modules ${NODE_OPTIONS:-}" npx jest --ci --json --outputFile=target/jest-results.json || status=$?

echo "== bench smoke (every workload of bench/run.js at tiny N, ours and Baileys; no speed assertions)"
# Prints "bench smoke: ok" or which workloads failed; a failure fails the suite.
bench_status=0
node bench/run.js --smoke || bench_status=$?
node -e 'const r = require("./target/jest-results.json"); console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed`)' || true
if [ "$status" -eq 0 ]; then status=$bench_status; fi
exit "$status"
