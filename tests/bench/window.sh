#!/usr/bin/env bash
# Benchmark: the release window under Xvfb with 500 calls in its list, side by side with a
# bare eframe window (tests/bench/bare_window.rs: the same crates, window options and release
# profile, a heading and a label) started the same way in the same run. Prints each one's
# time to first frame and own memory (RssAnon) after start, then the app's CPU over 60 s
# idle and its frame CPU time while the list scrolls.
# Usage: bash tests/bench/window.sh [BINARY] [IDLE_SECONDS] [BARE_BINARY]
#   BARE_BINARY defaults to target/release/examples/bare-window, built with
#   `cargo build --release --locked --example bare-window`. STARTS=N cold starts of each
#   (default 9), taking turns; NOWARM=1 adds to each turn a start of the app without the
#   early GL driver load (PYRUS_PHONE_GL_WARMUP=0), to show what that load saves.
# Figures go to stdout and to target/bench/window.txt.
# Targets: first frame ≤ 1.05× the bare window's, own memory (RssAnon) ≤ the bare window's
# + 6 MiB, idle CPU ≤ 0.1 %, frame ≤ 16 ms.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-target/release/pyrus-phone}")
idle=${2:-60}
bare=$(realpath -m "${3:-target/release/examples/bare-window}")
if [ ! -x "$bare" ]; then
  echo "window.sh: no bare window at $bare; build it first:" >&2
  echo "  cargo build --release --locked --example bare-window" >&2
  exit 1
fi
[ -x "$bin" ] || cargo build --release --locked
work=$(mktemp -d)
pids=()
current=   # the start being measured, stopped with the rest if the script stops early
cleanup() { for p in "${pids[@]}" $current; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

display=":$((220 + RANDOM % 30))"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
pids+=($!)
export DISPLAY=$display
for _ in $(seq 100); do xdotool getmouselocation >/dev/null 2>&1 && break; sleep 0.05; done
unset DBUS_SESSION_BUS_ADDRESS

PYRUS_PHONE_HOME="$work/sandbox" "$bin" sandbox >"$work/sandbox.out" &
pids+=($!)
for _ in $(seq 100); do grep -q "auth URL" "$work/sandbox.out" 2>/dev/null && break; sleep 0.05; done
export PYRUS_AUTH_URL=$(awk '/auth URL:/ {print $3}' "$work/sandbox.out")
export PYRUS_PHONE_HOME="$work/home" PYRUS_LOGIN=demo@sandbox.pyrus-phone \
       PYRUS_SECURITY_KEY=demo-security-key PYRUS_ACCOUNT_ID=demo-account BROWSER=true
echo "seeding 500 calls…"
# Numbers without "+" skip the phone-number database: the seeding is about the list.
seq 500 | xargs -P 4 -I{} "$bin" call --from "7977{}" --to 74953009080 --json >/dev/null

# Waits (10 s at most) until PATH (a file, or a folder of log files) holds PATTERN; prints
# the number after the first match's "ms=" (nothing when it never came).
logged_ms() { # PATTERN PATH
  for _ in $(seq 200); do
    grep -rqs "$1" "$2" && break
    sleep 0.05
  done
  { grep -rhos "$1[0-9]*" "$2" || true; } | head -n1 | sed 's/.*ms=//'
}
# Own memory (RssAnon) and resident size of process $1, in KiB.
memory() { awk '/^RssAnon:/ {a = $2} /^VmRSS:/ {r = $2} END {print a, r}' "/proc/$1/status"; }

# Time to first frame and own memory: cold starts of the app and of the bare window, taking
# turns, each started the same way (the app with its 500 calls). Each waits for its window
# and its "first frame ms=" line, settles for 3 s (start-up threads done, the list loaded),
# has its memory read, and is stopped. The medians are the figures; min and max show the
# spread. Rows: "FIRST GL ANON RSS" for the app, "FIRST ANON RSS" for the bare window.
starts=${STARTS:-9}
: >"$work/app.txt"
: >"$work/bare.txt"
: >"$work/nowarm.txt"
app_once() { # WARMUP(1|0) OUT
  rm -rf "$work/home/logs"
  PYRUS_PHONE_GL_WARMUP=$1 PYRUS_PHONE_LOG="pyrus_phone=debug,warn" "$bin" &
  local app=$!
  current=$app
  timeout 60 xdotool search --sync --onlyvisible --name '^pyrus-phone$' >/dev/null
  local first gl mem
  first=$(logged_ms 'first frame ms=' "$work/home/logs")
  gl=$(logged_ms 'window system ready ms=' "$work/home/logs")
  sleep 3
  mem=$(memory "$app")
  kill "$app"; wait "$app" 2>/dev/null || true
  current=
  [ -n "$first" ] && [ -n "$gl" ] || { echo "window.sh: the app logged no first frame" >&2; exit 1; }
  echo "$first $gl $mem" >>"$2"
}
bare_once() {
  "$bare" 2>"$work/bare.err" &
  local pid=$!
  current=$pid
  timeout 60 xdotool search --sync --onlyvisible --name '^pyrus-phone-bare$' >/dev/null
  local first mem
  first=$(logged_ms 'first frame ms=' "$work/bare.err")
  sleep 3
  mem=$(memory "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  current=
  [ -n "$first" ] || { echo "window.sh: the bare window printed no first frame" >&2; exit 1; }
  echo "$first $mem" >>"$work/bare.txt"
}
for i in $(seq "$starts"); do
  app_once 1 "$work/app.txt"
  bare_once
  if [ -n "${NOWARM:-}" ]; then app_once 0 "$work/nowarm.txt"; fi
done
col() { awk -v c="$1" '{print $c}' "$2"; }
median() { sort -n | awk '{a[NR] = $1} END { print a[int((NR + 1) / 2)] }'; }
stat() { sort -n | awk '{a[NR] = $1} END { printf "median %d ms (min %d, max %d, %d starts)", a[int((NR + 1) / 2)], a[1], a[NR], NR }'; }
first=$(col 1 "$work/app.txt" | stat)
gl=$(col 2 "$work/app.txt" | stat)
bare_first=$(col 1 "$work/bare.txt" | stat)
ratio=$(awk -v a="$(col 1 "$work/app.txt" | median)" -v b="$(col 1 "$work/bare.txt" | median)" \
  'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
app_anon=$(col 3 "$work/app.txt" | median)
app_rss=$(col 4 "$work/app.txt" | median)
bare_anon=$(col 2 "$work/bare.txt" | median)
bare_rss=$(col 3 "$work/bare.txt" | median)
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
own_diff=$(mib $((app_anon - bare_anon)))

rm -rf "$work/home/logs"
PYRUS_PHONE_LOG="pyrus_phone=debug,warn" "$bin" &
app=$!
pids+=($app)
wid=$(timeout 60 xdotool search --sync --onlyvisible --name '^pyrus-phone$' | head -n1)
sleep 3

ticks() { awk '{print $14 + $15}' "/proc/$app/stat"; }
hz=$(getconf CLK_TCK)
xdotool mousemove 1270 790   # park the pointer off the widgets
sleep 1
t0=$(ticks)
sleep "$idle"
t1=$(ticks)
cpu=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$idle" 'BEGIN { printf "%.3f", d / hz / s * 100 }')

# Scroll the 500-call list for a while; the app logs frame CPU times every 100 frames.
xdotool mousemove --window "$wid" 700 300
for _ in $(seq 150); do
  xdotool click --window "$wid" 5; sleep 0.02
  xdotool mousemove_relative 0 1; sleep 0.01
done
for _ in $(seq 150); do xdotool click --window "$wid" 4; sleep 0.02; done
sleep 1
frames=$(grep -ho 'mean_ms=[0-9.]* max_ms=[0-9.]*' "$work/home/logs/"* || true)
mean=$(awk -F'[= ]' '{s += $2; n++} END { if (n) printf "%.2f", s / n; else print "n/a" }' <<<"$frames")
max=$(awk -F'[= ]' '{if ($4 > m) m = $4} END { if (NR) printf "%.2f", m; else print "n/a" }' <<<"$frames")

mkdir -p target/bench
{
  echo "window: first frame after start, app: ${first}"
  echo "window: first frame after start, bare window: ${bare_first}"
  echo "window: first frame, app / bare window at the median: ${ratio}× (target ≤ 1.05)"
  echo "window:   of the app's, window system and GL ready: ${gl}"
  if [ -n "${NOWARM:-}" ]; then
    echo "window:   the app without loading the GL driver early (PYRUS_PHONE_GL_WARMUP=0): $(col 1 "$work/nowarm.txt" | stat)"
  fi
  echo "window: own memory (RssAnon) 3 s after start, median: app $(mib "$app_anon") MiB, bare window $(mib "$bare_anon") MiB; the app's own ${own_diff} MiB more (target ≤ 6)"
  echo "window:   RSS 3 s after start, median: app $(mib "$app_rss") MiB, bare window $(mib "$bare_rss") MiB"
  echo "window: CPU over ${idle} s idle ${cpu} % (target ≤ 0.1)"
  echo "window: frame CPU with 500 calls, scrolling: mean ${mean} ms, max ${max} ms (target ≤ 16)"
} | tee target/bench/window.txt
