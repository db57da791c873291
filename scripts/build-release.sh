#!/usr/bin/env bash
# The two addons of a platform package, and its release mock server:
#  - baileys-shard.<platform>.node, the addon users run (verifies WhatsApp's certificate chain);
#  - baileys-shard.<platform>.testing.node, loaded only through baileys-shard/testing: built
#    with `insecure-test-server`, it trusts the mock server and dials loopback addresses only.
# Both land next to package.json (a clone loads them from there) and in npm/<platform>/ (what
# `npm pack` of the platform package takes).
# On Linux x64 all is linked against glibc 2.17 with zig (through cargo-zigbuild), so the
# linux-x64-gnu package loads on the servers still in use (RHEL/CentOS 7, Ubuntu 16.04,
# Debian 9 and newer), not only on the glibc of the machine that built it. zig and
# cargo-zigbuild come from PyPI (`pip install ziglang cargo-zigbuild`) when missing.
# Elsewhere (macOS, Windows, musl) it is a plain build for the machine itself.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(uname -sm)" != "Linux x86_64" ] || [ -e /lib/ld-musl-x86_64.so.1 ]; then
  npx napi build --platform --release --no-js --dts target/native.d.ts -p baileys-shard
  release=$(ls baileys-shard.*.node | grep -v '\.testing\.node$' | head -1)
  platform=${release#baileys-shard.}
  platform=${platform%.node}
  out=target/release
  cargo=(cargo build)
  target_args=()
else
  TARGET=x86_64-unknown-linux-gnu.2.17
  platform=linux-x64-gnu
  out=target/x86_64-unknown-linux-gnu/release
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
  cp "$out/baileys-shard-mock" "npm/$platform/baileys-shard-mock.$$"
  mv "npm/$platform/baileys-shard-mock.$$" "npm/$platform/baileys-shard-mock"
  cargo=(cargo zigbuild)
  target_args=(--target "$TARGET")
fi
pkg="npm/$platform"
cp "baileys-shard.$platform.node" "$pkg/"

case "$platform" in
  darwin-*) lib=libbaileys_shard.dylib ;;
  win32-*) lib=baileys_shard.dll ;;
  *) lib=libbaileys_shard.so ;;
esac
# Both builds write the addon to one file name, and cargo judges it fresh by times, not by the
# features that built it: remove it after each build, so the next one links its own.
forget_addon() { rm -f "$out/$lib" "$out/deps/$lib"; }
forget_addon

# waproto's build script writes a file it also watches, so the next cargo run would rebuild
# waproto and the engine over it; dated back (same content), the testing build reuses them.
for desc in "$out"/build/waproto-*/out/whatsapp.local.desc; do
  if [ -e "$desc" ]; then touch -d '2000-01-01' "$desc"; fi
done

echo "== the testing addon (trusts the mock server, dials loopback only) for baileys-shard/testing"
# The same packages as above (the mock too), so only the crates the feature changes are built again.
"${cargo[@]}" --release "${target_args[@]}" -p baileys-shard -p baileys-shard-mock --features baileys-shard/insecure-test-server
cp "$out/$lib" "baileys-shard.$platform.testing.node.$$"
mv "baileys-shard.$platform.testing.node.$$" "baileys-shard.$platform.testing.node"
cp "baileys-shard.$platform.testing.node" "$pkg/"
forget_addon
