#!/usr/bin/env bash
# Benchmark: how long `pyrus-phone event …` (a softphone's command hook) takes to hand an
# event to the running instance and exit. MicroSIP waits for it. Target: under 100 ms.
# Usage: bash tests/bench/event_forward.sh [BINARY] [RUNS]
# Figures go to stdout and to target/bench/event_forward.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-target/release/pyrus-phone}")
runs=${2:-50}
[ -x "$bin" ] || cargo build --release --locked
work=$(mktemp -d)
export PYRUS_PHONE_HOME=$work BROWSER=true
unset DISPLAY WAYLAND_DISPLAY
"$bin" --headless --demo --hook-port 0 >"$work/out" 2>&1 &
instance=$!
trap 'kill $instance 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 200); do [ -f "$work/run/demo/instance.json" ] || [ -f "$work/run/instance.json" ] && break; sleep 0.05; done
times=()
for i in $(seq "$runs"); do
  start=$(date +%s%N)
  "$bin" event ring "8977$(printf '%07d' "$i")"
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000 )))
done
mkdir -p target/bench
printf '%s\n' "${times[@]}" | sort -n | awk -v runs="$runs" '
  { t[NR] = $1 }
  END { printf "event_forward: %d runs, min %.1f ms, median %.1f ms, max %.1f ms (target < 100 ms)\n",
        runs, t[1] / 1000, t[int((NR + 1) / 2)] / 1000, t[NR] / 1000 }' | tee target/bench/event_forward.txt
