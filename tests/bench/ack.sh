#!/usr/bin/env bash
# Benchmark: how long the HTTP hook takes to acknowledge an event — which it does only once
# the event is stored in the outbox (a durable write) — for single events one after another
# and for bursts of 100 from 8 senders at once; beside it, the same requests to the hook's
# /health (no write), so the durable write's share shows.
# Usage: bash tests/bench/ack.sh [BINARY] [RUNS]
# Figures go to stdout and to target/bench/ack.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/common.sh
bench_start "${1:-target/release/pyrus-phone}" ack.sh
runs=${2:-200}
bench_sandbox
mkdir -p "$work/home/config"
printf '[defaults]\nline_number = "+74953009080"\n[calls]\nregister_on = "manual"\n' \
  >"$work/home/config/settings.toml"
PYRUS_PHONE_HOME="$work/home" PYRUS_AUTH_URL="$auth" PYRUS_LOGIN=demo@sandbox.pyrus-phone \
  PYRUS_SECURITY_KEY=demo-security-key PYRUS_ACCOUNT_ID=demo-account BROWSER=true \
  "$bin" --headless --hook-port 0 >"$work/instance.out" 2>&1 &
pids+=($!)
for _ in $(seq 200); do [ -f "$work/home/run/instance.json" ] && break; sleep 0.05; done
port=$(grep -o '"port":[0-9]*' "$work/home/run/instance.json" | cut -d: -f2)
token=$(grep -o '"token":"[^"]*"' "$work/home/run/instance.json" | cut -d'"' -f4)

# One request's time in µs (curl's own measure: connect to last byte).
event() { # N
  curl -s -o /dev/null -w '%{time_total}\n' -X POST "http://127.0.0.1:$port/events" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"event\":\"ring\",\"number\":\"+7916$(printf '%07d' "$1")\",\"call_id\":\"ack-$1\"}"
}
health() {
  curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/health" \
    -H "Authorization: Bearer $token"
}
export -f event health
export port token
p() { # PERCENT FILE → ms
  sort -n "$2" | awk -v q="$1" '{ v[NR] = $1 } END { i = int((NR - 1) * q / 100) + 1; printf "%.2f", v[i] * 1000 }'
}

event 0 >/dev/null; health >/dev/null
: >"$work/single"; : >"$work/health"
for i in $(seq "$runs"); do
  event "$i" >>"$work/single"
  health >>"$work/health"
done
: >"$work/burst"
for b in $(seq 5); do
  seq $((b * 1000)) $((b * 1000 + 99)) | xargs -P 8 -I{} bash -c 'event {}' >>"$work/burst"
done
mkdir -p target/bench
{
  echo "ack: ms p50 / p99 (curl's time per request, loopback)"
  echo "ack: /health, no write              $(p 50 "$work/health") / $(p 99 "$work/health")  ($runs requests)"
  echo "ack: single events, stored first    $(p 50 "$work/single") / $(p 99 "$work/single")  ($runs events)"
  echo "ack: bursts of 100 from 8 senders   $(p 50 "$work/burst") / $(p 99 "$work/burst")  (5 bursts)"
} | tee target/bench/ack.txt
