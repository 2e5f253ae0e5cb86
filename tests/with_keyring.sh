#!/usr/bin/env bash
# Usage: dbus-run-session -- bash tests/with_keyring.sh COMMAND...
# Starts an unlocked gnome-keyring (Secret Service) in this private D-Bus session, waits
# until it owns its bus name, then runs COMMAND. HOME is left alone (the toolchain lives there).
set -euo pipefail
kdir=$(mktemp -d)
export XDG_DATA_HOME="$kdir/data" XDG_RUNTIME_DIR="$kdir/run"
mkdir -p "$XDG_DATA_HOME"
mkdir -p -m700 "$XDG_RUNTIME_DIR"
printf %s test-keyring-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null
for _ in $(seq 200); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
       org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
    exec "$@"
  fi
  sleep 0.05
done
echo "error: gnome-keyring did not take org.freedesktop.secrets on the session bus" >&2
exit 1
