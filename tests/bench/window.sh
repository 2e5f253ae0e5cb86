#!/usr/bin/env bash
# Benchmark: the release window under Xvfb with 500 calls in its list. Prints time to first
# frame, memory after start, CPU over 60 s idle, and frame CPU time while the list scrolls.
# Usage: bash tests/bench/window.sh [BINARY] [IDLE_SECONDS]
# Figures go to stdout and to target/bench/window.txt.
# Targets: first frame ≤ 150 ms, RssAnon ≤ 40 MiB, idle CPU ≤ 0.1 %, frame ≤ 16 ms.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-target/release/pyrus-phone}")
idle=${2:-60}
[ -x "$bin" ] || cargo build --release --locked
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
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

# Time to first frame: several cold starts, each logging when the window system was ready and
# when the first frame was drawn; the median is the figure, min and max show the spread. Each
# start is paired with one without the early GL driver load, to show what that saves.
starts=${STARTS:-15}
: >"$work/starts.txt"
: >"$work/starts-nowarm.txt"
start_once() {
  rm -rf "$work/home/logs"
  PYRUS_PHONE_GL_WARMUP=$1 PYRUS_PHONE_LOG="pyrus_phone=debug,warn" "$bin" &
  local app=$!
  timeout 60 xdotool search --sync --onlyvisible --name '^pyrus-phone$' >/dev/null
  sleep 1
  kill "$app"; wait "$app" 2>/dev/null || true
  local gl first
  gl=$(grep -ho 'window system ready ms=[0-9]*' "$work/home/logs/"* | head -n1 | sed 's/.*ms=//')
  first=$(grep -ho 'first frame ms=[0-9]*' "$work/home/logs/"* | head -n1 | sed 's/.*ms=//')
  echo "$first $gl" >>"$2"
}
for i in $(seq "$starts"); do
  start_once 1 "$work/starts.txt"
  start_once 0 "$work/starts-nowarm.txt"
done
stat() { sort -n | awk '{a[NR] = $1} END { printf "median %d ms (min %d, max %d, %d starts)", a[int((NR + 1) / 2)], a[1], a[NR], NR }'; }
first=$(awk '{print $1}' "$work/starts.txt" | stat)
gl=$(awk '{print $2}' "$work/starts.txt" | stat)
nowarm=$(awk '{print $1}' "$work/starts-nowarm.txt" | stat)

rm -rf "$work/home/logs"
PYRUS_PHONE_LOG="pyrus_phone=debug,warn" "$bin" &
app=$!
pids+=($app)
wid=$(timeout 60 xdotool search --sync --onlyvisible --name '^pyrus-phone$' | head -n1)
sleep 3
rss=$(awk '/^VmRSS:/ {print int($2/1024)}' "/proc/$app/status")
anon=$(awk '/^RssAnon:/ {print int($2/1024)}' "/proc/$app/status")

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
  echo "window: first frame after start: ${first} (target ≤ 150)"
  echo "window:   of it, window system and GL ready: ${gl}"
  echo "window:   without loading the GL driver early (PYRUS_PHONE_GL_WARMUP=0): ${nowarm}"
  echo "window: RSS after start ${rss} MiB, of it own (RssAnon) ${anon} MiB (target ≤ 40)"
  echo "window: CPU over ${idle} s idle ${cpu} % (target ≤ 0.1)"
  echo "window: frame CPU with 500 calls, scrolling: mean ${mean} ms, max ${max} ms (target ≤ 16)"
} | tee target/bench/window.txt
