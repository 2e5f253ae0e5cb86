#!/usr/bin/env bash
# Usage: bash tests/screenshots.sh PATH/TO/pyrus-phone [OUT_DIR]
# Drives the real window in demo mode under a private Xvfb with the keyboard and saves the
# main states: empty, a registered call, an upload in progress, a call ringing through the
# command hook, the call sources, the settings, the shortcuts help, and the Russian
# interface. The first number is pasted from the X clipboard, and the registered call must
# carry it. The file dialog is answered by a stand-in `zenity`. Then the agent's desk, in
# English and Russian, at 360×640, 600×800 and 1280×800, with calls in every state heard
# through the command hook: ringing (a demo customer, with their caller card), talking, ended,
# missed, failed, and an upload; and the newest call's wrap-up (Ctrl+E), wide and narrow.
set -euo pipefail
bin=$(realpath "$1")
out=$(realpath -m "${2:-target/screenshots}")
mkdir -p "$out"
work=$(mktemp -d)
source "$(dirname "$0")/xvfb.sh"
start_xvfb 120 1400x900
app=""
cleanup() { [ -n "$app" ] && kill "$app" 2>/dev/null; kill "$xvfb" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export DISPLAY=$display
unset DBUS_SESSION_BUS_ADDRESS   # no portal: the file dialog falls back to zenity
mkdir -p "$work/bin"
cat >"$work/bin/zenity" <<ZEN
#!/bin/sh
cat "$work/answer"
ZEN
chmod +x "$work/bin/zenity"

start() { # start HOME_DIR [ENV...]
  local home=$1; shift
  env "$@" PATH="$work/bin:$PATH" BROWSER=true PYRUS_PHONE_HOME="$home" "$bin" --demo >"$home.out" 2>&1 &
  app=$!
  wid=$(timeout 60 xdotool search --sync --onlyvisible --name '^pyrus-phone$' | head -n1)
  xdotool windowfocus --sync "$wid"
  sleep 1.5
}
stop() { kill "$app"; wait "$app" 2>/dev/null || true; app=""; }
shot() {
  sleep "${2:-1}"; import -window "$wid" "$out/$1.png"; echo "screenshot: $out/$1.png"
  xdotool windowfocus --sync "$wid"   # taking the shot may move the keyboard focus
}
type_call() { # FROM TO — with pauses: egui gives a frame's typed text to the field focused
  # at its start, and a debug build under software GL draws slowly
  xdotool windowfocus --sync "$wid"; sleep 0.5
  xdotool key --clearmodifiers ctrl+l; sleep 1
  xdotool type --delay 40 "$1"; sleep 1; xdotool key Tab; sleep 1
  xdotool type --delay 40 "$2"; sleep 1; xdotool key Tab; sleep 1
  xdotool type --delay 40 "200"; sleep 1; xdotool key Return
}
paste_call() { # FROM TO — the From number comes from the X clipboard (Ctrl+V), as an agent
  # copies it from a CRM or a chat
  printf %s "$1" | xclip -selection clipboard 2>/dev/null
  xdotool windowfocus --sync "$wid"; sleep 0.5
  xdotool key --clearmodifiers ctrl+l; sleep 1
  xdotool key --clearmodifiers ctrl+v; sleep 1; xdotool key Tab; sleep 1
  xdotool type --delay 40 "$2"; sleep 1; xdotool key Tab; sleep 1
  xdotool type --delay 40 "200"; sleep 1; xdotool key Return
}
sandbox_get() { # PATH — from the demo's sandbox
  local port
  port=$(grep -ho 'sandbox listening addr=127.0.0.1:[0-9]*' "$home"/logs/* | tail -n1 | cut -d: -f2)
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$1" >&3
  cat <&3; exec 3<&-
}
sandbox_post() { # PATH JSON — to the demo's sandbox, found in the log
  local port
  port=$(grep -ho 'sandbox listening addr=127.0.0.1:[0-9]*' "$home"/logs/* | tail -n1 | cut -d: -f2)
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
    "$1" "${#2}" "$2" >&3
  local status
  status=$(head -n1 <&3); cat <&3 >/dev/null; exec 3<&-
  case "$status" in
    "HTTP/1.1 2"*) ;;
    *) echo "error: the sandbox refused $1: $status" >&2; exit 1 ;;
  esac
}

home=$work/en
start "$home"
shot 01-empty
paste_call "8 977 422-13-38" "+74953009080"
shot 02-registered 2
if ! sandbox_get /t | grep -q '+79774221338'; then
  echo "error: the number pasted from the system clipboard did not reach the registered call" >&2
  exit 1
fi
{ printf 'RIFF\0\0\0\0WAVE'; head -c 300000000 /dev/zero; } >"$work/long-call.wav"
echo "$work/long-call.wav" >"$work/answer"
sandbox_post /sandbox/faults '{"route":"upload","kind":"slow","delay_ms":20000,"times":1}'
xdotool key --clearmodifiers ctrl+r
shot 03-uploading 3
# A softphone's command hook rings: a separate process hands the event to this window.
PYRUS_PHONE_HOME="$home" "$bin" event ring 79161234567
shot 04-ringing 2
xdotool key F2
shot 05-sources
xdotool key --clearmodifiers ctrl+comma
shot 06-settings
xdotool key F1
shot 07-help
stop

home=$work/ru
start "$home" LANG=ru_RU.UTF-8 LC_ALL=ru_RU.UTF-8
type_call "+7 977 422-13-38" "(495) 300-90-80"
shot 08-russian 2
stop

hook() { # KIND NUMBER CALL_ID — a softphone's command hook, as a separate process
  PYRUS_PHONE_HOME="$home" "$bin" event "$1" "$2" --call-id "$3" >/dev/null
}
twinkle() { # TRIGGER NUMBER CALL_ID [SIP_STATUS] — Twinkle's call script, as Twinkle runs it
  PYRUS_PHONE_HOME="$home" TWINKLE_TRIGGER="$1" SIP_CALL_ID="$3" SIP_FROM_USER="$2" \
    SIP_TO_USER=2000 SIP_FROM="\"Alice Smith\" <sip:$2@192.0.2.1>" SIPSTATUS_CODE="${4:-}" \
    "$bin" event --twinkle >/dev/null
}
desk() { # LANGUAGE [ENV...] — calls in every state, shot at three sizes
  local lang=$1; shift
  home=$work/desk-$lang
  start "$home" "$@"
  # The refused call first: the fault is its registration's (an ended call's outcome is a
  # registration too, and would take it).
  sandbox_post /sandbox/faults '{"route":"call","kind":"invalid_value","times":1}'
  hook ring 79160000003 failed; hook end 79160000003 failed
  hook ring 79160000001 ended; hook answer 79160000001 ended; hook end 79160000001 ended
  # A missed call heard from Twinkle: the caller's name, and why it was missed.
  twinkle in_call +79160000002 missed; twinkle in_call_failed +79160000002 missed 487
  hook ring 79160000004 talking; hook answer 79160000004 talking
  sandbox_post /sandbox/faults '{"route":"upload","kind":"slow","delay_ms":30000,"times":1}'
  xdotool windowfocus --sync "$wid"
  xdotool key --clearmodifiers ctrl+r   # the newest call's recording: the upload waits
  hook ring 79161234567 ringing   # a demo customer: the ringing bar shows their tasks
  sleep 2
  local size w h
  for size in 360x640 600x800 1280x800; do
    w=${size%x*}; h=${size#*x}
    xdotool windowsize --sync "$wid" "$w" "$h" 2>/dev/null || xdotool windowsize "$wid" "$w" "$h"
    if [ "$w" -lt 720 ]; then
      xdotool windowfocus --sync "$wid"; xdotool key --clearmodifiers ctrl+1
      shot "desk-$lang-$size-form" 1.5
      xdotool key --clearmodifiers ctrl+2
      shot "desk-$lang-$size-calls" 1.5
    else
      shot "desk-$lang-$size" 1.5
    fi
  done
  # The wrap-up of the newest registered call (the ringing customer's), wide and narrow.
  xdotool windowfocus --sync "$wid"; xdotool key --clearmodifiers ctrl+e; sleep 1.5
  xdotool type --delay 30 "Promised a refund by Friday"
  shot "desk-$lang-1280x800-wrapup" 1.5
  xdotool windowsize --sync "$wid" 360 640 2>/dev/null || xdotool windowsize "$wid" 360 640
  shot "desk-$lang-360x640-wrapup" 1.5
  stop
}
desk en
desk ru LANG=ru_RU.UTF-8 LC_ALL=ru_RU.UTF-8
echo "screenshots: 22 passed, 0 failed"
