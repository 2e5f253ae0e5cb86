#!/usr/bin/env bash
# Usage: bash tests/window_smoke.sh PATH/TO/pyrus-phone [SCREENSHOT.png]
# Starts a private Xvfb, opens `pyrus-phone --demo` in it, waits for its window, saves a
# screenshot and checks the window drew something and that the GL driver was loaded early;
# then starts it again and checks the second start hands over to the first window.
# Fails when no window appears.
set -euo pipefail
bin=$1
shot=${2:-target/screenshots/demo-window.png}
mkdir -p "$(dirname "$shot")"
home=$(mktemp -d)
source "$(dirname "$0")/xvfb.sh"
start_xvfb 90 1280x800
app=""
cleanup() { [ -n "$app" ] && kill "$app" 2>/dev/null; kill "$xvfb" 2>/dev/null; rm -rf "$home"; }
trap cleanup EXIT
export DISPLAY=$display
PYRUS_PHONE_HOME=$home PYRUS_PHONE_LOG="pyrus_phone=debug,warn" "$bin" --demo >"$home/app.out" 2>&1 &
app=$!
if ! wid=$(timeout 60 xdotool search --sync --onlyvisible --name '^pyrus-phone$' | head -n1); then
  echo "window smoke: 0 passed, 1 failed (no pyrus-phone window appeared)"
  cat "$home/app.out" >&2
  exit 1
fi
sleep 2
import -window root "$shot"
spread=$(convert "$shot" -colorspace Gray -format '%[fx:standard_deviation]' info:)
if ! kill -0 "$app" 2>/dev/null; then
  echo "window smoke: 0 passed, 1 failed (the app exited)"; cat "$home/app.out" >&2; exit 1
fi
if ! awk -v s="$spread" 'BEGIN { exit !(s > 0.01) }'; then
  echo "window smoke: 0 passed, 1 failed (the screenshot is blank)"; exit 1
fi
echo "window smoke: screenshot in $shot (window $wid)"
# Mesa's driver (Xvfb's GLX brings it) was loaded on the helper thread before the window's GL.
loaded=$(grep -ho 'GL driver loaded ms=[0-9]*' "$home/logs/"* | sed 's/.*ms=//' || true)
ready=$(grep -ho 'window system ready ms=[0-9]*' "$home/logs/"* | sed 's/.*ms=//' || true)
if [ -z "$loaded" ] || [ -z "$ready" ] || [ "$loaded" -ge "$ready" ]; then
  echo "window smoke: 1 passed, 1 failed (GL driver loaded early: '${loaded}' ms, window GL ready: '${ready}' ms)"
  exit 1
fi
echo "window smoke: GL driver loaded at ${loaded} ms, window GL ready at ${ready} ms"
# A second start hands over to the first, whose window comes to the front: still one window.
if ! second=$(PYRUS_PHONE_HOME=$home timeout 20 "$bin" --demo 2>&1); then
  echo "window smoke: 2 passed, 1 failed (a second start failed: $second)"; exit 1
fi
raised=no
for _ in $(seq 100); do
  grep -q 'brought to the front' "$home/logs/"* 2>/dev/null && { raised=yes; break; }
  sleep 0.05
done
windows=$(xdotool search --onlyvisible --name '^pyrus-phone$' | wc -l)
if ! grep -q 'its window was brought to the front' <<<"$second" || [ "$raised" != yes ] || [ "$windows" != 1 ]; then
  echo "window smoke: 2 passed, 1 failed (second start: '$second'; raised: $raised; windows: $windows)"; exit 1
fi
echo "window smoke: a second start handed over; one window, brought to the front"
echo "window smoke: 3 passed, 0 failed"
