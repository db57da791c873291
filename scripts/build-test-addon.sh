#!/usr/bin/env bash
# The test addon (trusts the mock server), the mock server binary and the crates' tests. Plain cargo, so it shares
# target/debug with `cargo test` instead of compiling every dependency again for a --target dir.
set -euo pipefail
cd "$(dirname "$0")/.."
# One cargo run for the addon, the mock and the crates' tests: cargo unifies features across
# what one run builds (the tests' dev-dependencies turn on features of shared crates, e.g.
# tempfile → rustix → bitflags/std), so building them together here and running exactly this
# set in `cargo test` (scripts/test.sh) compiles every dependency once, not twice.
cargo build --workspace --lib --bins --tests --features baileys-shard/insecure-test-server
# waproto 0.7.0's build script writes OUT_DIR/whatsapp.local.desc during its first run and
# watches it (rerun-if-changed, through buffa_build), so the file is newer than that run and the
# next cargo run would rebuild waproto and everything above it (the engine) once more. The
# content is what the script would write again; dating it back keeps the next run fresh.
for desc in target/debug/build/waproto-*/out/whatsapp.local.desc; do
  if [ -e "$desc" ]; then touch -d '2000-01-01' "$desc"; fi
done
mkdir -p target/test-addon
# Copy then rename: a test already running keeps its loaded file. The temp name is per process
# so two builds at once do not trip over each other.
cp target/debug/libbaileys_shard.so "target/test-addon/baileys-shard.linux-x64-gnu.node.$$"
mv "target/test-addon/baileys-shard.linux-x64-gnu.node.$$" target/test-addon/baileys-shard.linux-x64-gnu.node
