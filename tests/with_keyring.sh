#!/usr/bin/env bash
# Usage: dbus-run-session -- bash tests/with_keyring.sh COMMAND...
# Starts an unlocked gnome-keyring (Secret Service) and a desktop notification service
# (dunst, drawing on a private Xvfb that only it uses) in this private D-Bus session, waits
# until both own their bus names, then runs COMMAND. HOME is left alone (the toolchain
# lives there); DISPLAY is not given to COMMAND.
set -euo pipefail
kdir=$(mktemp -d)
export XDG_DATA_HOME="$kdir/data" XDG_RUNTIME_DIR="$kdir/run"
mkdir -p "$XDG_DATA_HOME"
mkdir -p -m700 "$XDG_RUNTIME_DIR"
printf %s test-keyring-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null

source "$(dirname "$0")/xvfb.sh"
start_xvfb 300 800x600
trap 'kill "$xvfb" 2>/dev/null || true' EXIT
DISPLAY=$display dunst -config /dev/null >"$kdir/dunst.log" 2>&1 &

owned() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q 'boolean true'
}
for name in org.freedesktop.secrets org.freedesktop.Notifications; do
  for i in $(seq 200); do
    owned "$name" && break
    if [ "$i" = 200 ]; then
      echo "error: nothing took $name on the session bus" >&2
      cat "$kdir/dunst.log" >&2
      exit 1
    fi
    sleep 0.05
  done
done
# The system tier's tests check for this before they touch a keyring or a session.
export PYRUS_PHONE_SYSTEM_TIER=1
"$@"
