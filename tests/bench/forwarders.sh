#!/usr/bin/env bash
# Benchmark: how long a softphone waits on pyrus-phone's forwarders — Twinkle's
# `event --twinkle` (Twinkle holds a ringing call until its in_call script exits; target:
# p99 ≤ 20 ms) and the command hook's `event ring N` (MicroSIP waits for it) — with an
# instance running, and with none (the event kept in the outbox, an instance started
# detached). Side by side, taking turns, with curl posting the same event to the same
# instance's HTTP hook: one process start and one loopback request, the least a forwarder
# can do. Each figure is a process's start to its exit.
# Usage: bash tests/bench/forwarders.sh [BINARY] [RUNS]
# Figures go to stdout and to target/bench/forwarders.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/common.sh
bench_start "${1:-target/release/pyrus-phone}" forwarders.sh
runs=${2:-100}
bench_sandbox
export PYRUS_PHONE_HOME="$work/home" PYRUS_AUTH_URL="$auth" PYRUS_LOGIN=demo@sandbox.pyrus-phone \
  PYRUS_SECURITY_KEY=demo-security-key PYRUS_ACCOUNT_ID=demo-account BROWSER=true
mkdir -p "$work/home/config"
printf '[defaults]\nline_number = "+74953009080"\n\n[calls]\nopen_on = "manual"\n' \
  >"$work/home/config/settings.toml"
runtime="$work/home/run/instance.json"

start_instance() {
  "$bin" --headless --hook-port 0 >>"$work/instance.out" 2>&1 &
  instance=$!
  pids+=("$instance")
  for _ in $(seq 400); do [ -f "$runtime" ] && break; sleep 0.05; done
  port=$(grep -o '"port":[0-9]*' "$runtime" | cut -d: -f2)
  token=$(grep -o '"token":"[^"]*"' "$runtime" | cut -d'"' -f4)
}
# Stops whatever instance runs (the bench's, or one a forwarder started) and waits for it.
stop_instances() {
  local pid
  for _ in $(seq 400); do
    pid=$(grep -o '"pid":[0-9]*' "$runtime" 2>/dev/null | cut -d: -f2 || true)
    [ -n "$pid" ] && break
    sleep 0.025
  done
  [ -n "$pid" ] || { echo "no instance published itself" >&2; exit 1; }
  kill "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
  rm -f "$runtime"
}

us() { echo "${EPOCHREALTIME/./}"; }
twinkle_once() { # CALL_ID → µs
  local t0
  t0=$(us)
  TWINKLE_TRIGGER=in_call SIP_CALL_ID="$1" SIP_FROM_USER=+7916555$(printf '%04d' $((RANDOM % 10000))) \
    SIP_TO_USER=2000 SIP_FROM='"Bench" <sip:x@127.0.0.1>' "$bin" event --twinkle >/dev/null
  echo $(( $(us) - t0 ))
}
command_once() { # N → µs
  local t0
  t0=$(us)
  "$bin" event ring "+7916444$(printf '%04d' "$1")" --call-id "cmd-$1-$RANDOM"
  echo $(( $(us) - t0 ))
}
curl_once() { # N → µs
  local t0
  t0=$(us)
  curl -s -o /dev/null -X POST "http://127.0.0.1:$port/events" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"event\":\"ring\",\"number\":\"+7916333$(printf '%04d' "$1")\",\"call_id\":\"curl-$1-$RANDOM\"}"
  echo $(( $(us) - t0 ))
}
# p50 and p99 (nearest rank) of the µs on stdin, in ms.
figures() {
  sort -n | awk '{ t[NR] = $1 } END {
    p50 = t[int((NR * 50 + 99) / 100)]; p99 = t[int((NR * 99 + 99) / 100)]
    printf "%d runs, p50 %.1f ms, p99 %.1f ms", NR, p50 / 1000, p99 / 1000 }'
}

start_instance
: >"$work/twinkle" ; : >"$work/command" ; : >"$work/curl"
for i in $(seq "$runs"); do # taking turns
  twinkle_once "tw-$i-$RANDOM" >>"$work/twinkle"
  command_once "$i" >>"$work/command"
  curl_once "$i" >>"$work/curl"
done
stop_instances
# With none running: each run keeps its event and starts an instance, stopped before the
# next run (its start is not timed: the softphone does not wait for it).
none_runs=$(( runs < 30 ? runs : 30 ))
: >"$work/twinkle-none" ; : >"$work/command-none"
for i in $(seq "$none_runs"); do
  twinkle_once "tw-none-$i-$RANDOM" >>"$work/twinkle-none"
  stop_instances
  command_once "$((i + 5000))" >>"$work/command-none"
  stop_instances
done

mkdir -p target/bench
{
  echo "forwarders, instance running (taking turns):"
  echo "  event --twinkle (in_call): $(figures <"$work/twinkle")"
  echo "  event ring N (command hook): $(figures <"$work/command")"
  echo "  curl POST to the hook (reference): $(figures <"$work/curl")"
  echo "forwarders, no instance (event kept, one started detached):"
  echo "  event --twinkle (in_call): $(figures <"$work/twinkle-none")"
  echo "  event ring N (command hook): $(figures <"$work/command-none")"
} | tee target/bench/forwarders.txt
