#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine with the Rust toolchain:
#   bash tests/run.sh
# Installs what the tests need (gnome-keyring, dunst, Xvfb, xdotool, ImageMagick), then runs the
# static checks, every cargo test inside a private D-Bus session with an unlocked
# gnome-keyring, and the real window under Xvfb (a smoke test, then the main flows driven by
# the keyboard with screenshots in target/screenshots), and last the Linux packages
# (tests/package.sh: built, checked, installed in a clean Debian root; needs root and the
# Debian mirror). Fails — never skips — when a part is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the tests run: a Secret Service in a private D-Bus session, an X server, a tool to
# find and shoot windows, and the libraries the window loads at run time (X11, xkbcommon,
# Mesa's software GL).
packages=(dbus dbus-bin dbus-user-session gnome-keyring dunst xvfb xauth xdotool xclip imagemagick desktop-file-utils baresip-core sip-tester twinkle-console
          mmdebstrap rpm librsvg2-bin appstream man-db
          libgl1 libegl1 libgl1-mesa-dri libx11-6 libx11-xcb1 libxcursor1 libxi6 libxrandr2
          libxkbcommon0 libxkbcommon-x11-0)
need=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if ((${#need[@]})); then
  echo "== installing: ${need[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # No recommends: dbus-x11 would autolaunch stray session buses.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
for tool in dbus-run-session dbus-send gnome-keyring-daemon dunst dunstctl Xvfb xdotool xclip import convert desktop-file-validate baresip sipp twinkle-console \
            mmdebstrap rpm rsvg-convert appstreamcli man; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing after installing packages" >&2; exit 1; }
done
# What builds the packages (the .deb and the RPM), from crates.io.
for tool in deb:cargo-deb@3.8.0 generate-rpm:cargo-generate-rpm@0.21.1; do
  cargo "${tool%%:*}" --version >/dev/null 2>&1 || { echo "== installing ${tool#*:}"; cargo install --quiet --locked "${tool#*:}"; }
done

echo "== format";   cargo fmt --all -- --check
echo "== layers";   bash tests/check_layers.sh
echo "== packaging"; desktop-file-validate packaging/linux/pyrus-phone.desktop
appstreamcli validate --no-net packaging/linux/com.pyrus.pyrus-phone.metainfo.xml
echo "== clippy";   cargo clippy --locked --all-targets -- -D warnings
echo "== tests (private D-Bus session, real Secret Service)"
# Both tiers: the portable one (what `cargo test` alone runs) and the system one
# (`#[ignore]`d there: gnome-keyring, dunst, baresip, Twinkle, sipp, tmpfs, a network address).
dbus-run-session -- bash tests/with_keyring.sh cargo test --locked --all-targets -- --include-ignored
echo "== a real window under Xvfb"
bash tests/window_smoke.sh target/debug/pyrus-phone
echo "== the real window driven by keyboard, with screenshots"
bash tests/screenshots.sh target/debug/pyrus-phone target/screenshots
echo "== the Linux packages: built, checked, installed in a clean Debian root"
bash tests/package.sh
