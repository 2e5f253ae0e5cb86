#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine with the Rust toolchain:
#   bash tests/run.sh
# Installs what the tests need (gnome-keyring, Xvfb, xdotool, ImageMagick), then runs the
# static checks, every cargo test inside a private D-Bus session with an unlocked
# gnome-keyring, and a real window under Xvfb. Fails — never skips — when a part is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in gnome-keyring-daemon:gnome-keyring dbus-run-session:dbus dbus-send:dbus \
            Xvfb:xvfb xauth:xauth xdotool:xdotool import:imagemagick; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair##*:}")
done
if ((${#need[@]})); then
  echo "== installing: ${need[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # No recommends: dbus-x11 would autolaunch stray session buses.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "== format";   cargo fmt --all -- --check
echo "== layers";   bash tests/check_layers.sh
echo "== clippy";   cargo clippy --locked --all-targets -- -D warnings
echo "== tests (private D-Bus session, real Secret Service)"
dbus-run-session -- bash tests/with_keyring.sh cargo test --locked --all-targets
echo "== a real window under Xvfb"
bash tests/window_smoke.sh target/debug/pyrus-phone
