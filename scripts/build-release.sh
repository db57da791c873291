#!/usr/bin/env bash
# The addon users get (verifies WhatsApp's certificate chain) and the release mock server.
# On Linux x64 both are linked against glibc 2.17 with zig (through cargo-zigbuild), so the
# linux-x64-gnu package loads on the servers still in use (RHEL/CentOS 7, Ubuntu 16.04,
# Debian 9 and newer), not only on the glibc of the machine that built it. zig and
# cargo-zigbuild come from PyPI (`pip install ziglang cargo-zigbuild`) when missing.
# Elsewhere (macOS, Windows, musl) it is a plain build for the machine itself.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(uname -sm)" != "Linux x86_64" ] || [ -e /lib/ld-musl-x86_64.so.1 ]; then
  exec npx napi build --platform --release --no-js --dts target/native.d.ts -p baileys-shard
fi

TARGET=x86_64-unknown-linux-gnu.2.17
# Where pip puts console scripts, for an install made just now (also a --user one).
PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$(python3 -m site --user-base)/bin:$PATH"
export PATH
if ! cargo help zigbuild > /dev/null 2>&1 || ! python3 -m ziglang version > /dev/null 2>&1; then
  echo "== installing zig and cargo-zigbuild from PyPI (they link the addon against glibc 2.17)"
  python3 -m pip install --quiet --disable-pip-version-check ziglang cargo-zigbuild \
    || python3 -m pip install --quiet --disable-pip-version-check --user ziglang cargo-zigbuild
fi

# One cargo invocation for both packages: their shared crates get one feature set, so
# neither build makes the other compile them again.
npx napi build --platform --release -x --target "$TARGET" --no-js --dts target/native.d.ts -p baileys-shard -- --package baileys-shard-mock
cp target/x86_64-unknown-linux-gnu/release/baileys-shard-mock npm/linux-x64-gnu/baileys-shard-mock.$$
mv npm/linux-x64-gnu/baileys-shard-mock.$$ npm/linux-x64-gnu/baileys-shard-mock
