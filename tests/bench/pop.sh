#!/usr/bin/env bash
# Benchmark: how long a ringing call takes to open its task, idle and while a 48 MiB
# recording uploads at ~4 MiB/s, side by side with the bare work the pop cannot avoid: one
# `integrations/call` round trip to the same sandbox (curl) plus starting the same browser
# command. Each run starts one curl and one browser command either way and nothing else, so
# their start-up cancels out; the overhead is what pyrus-phone adds (hook, outbox, lane, spawn).
# Target: overhead ≤ 1 ms at p50; busy within 0.5 s of idle.
# With CARDS=1, the form of 100,000 customers' tasks is indexed by the instance as it runs
# (who is calling): the pop with the caller index beside it.
# Usage: bash tests/bench/pop.sh [BINARY] [RUNS]
# Figures go to stdout and to target/bench/pop.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/common.sh
bench_start "${1:-target/release/pyrus-phone}" pop.sh
runs=${2:-40}
if [ -n "${CARDS:-}" ]; then bench_sandbox --customers 100000; else bench_sandbox; fi
login=demo@sandbox.pyrus-phone key=demo-security-key account=demo-account

# The browser command: says when it started (µs) and what it was asked to open, on a FIFO the
# benchmark holds open. Waiting for it is one blocking read on either side: a polling wait
# would start processes (wc, sleep) while the pop works, and charge them to the pop alone.
mkfifo "$work/opened"
exec {opened_fd}<>"$work/opened"
export OPENED="$work/opened"
printf '#!/bin/bash\necho "${EPOCHREALTIME/./} $1" >"$OPENED"\n' >"$work/browser"
chmod +x "$work/browser"

mkdir -p "$work/home/config" "$work/recordings"
printf '[defaults]\nline_number = "+74953009080"\n' >"$work/home/config/settings.toml"
[ -z "${CARDS:-}" ] || printf '[pyrus]\nform_id = 1\n' >>"$work/home/config/settings.toml"
PYRUS_PHONE_HOME="$work/home" PYRUS_AUTH_URL="$auth" PYRUS_LOGIN=$login \
  PYRUS_SECURITY_KEY=$key PYRUS_ACCOUNT_ID=$account BROWSER="$work/browser %s" \
  "$bin" --headless --hook-port 0 --recordings "$work/recordings" >"$work/instance.out" 2>&1 &
pids+=($!)
for _ in $(seq 200); do [ -f "$work/home/run/instance.json" ] && break; sleep 0.05; done
port=$(grep -o '"port":[0-9]*' "$work/home/run/instance.json" | cut -d: -f2)
if [ -n "${CARDS:-}" ]; then # the first reading of the form done (its increments go on)
  for _ in $(seq 1200); do
    [ "$(sqlite3 "$work/home/data/outbox.sqlite3" 'SELECT walked FROM caller_forms' 2>/dev/null)" = 1 ] && break
    sleep 0.1
  done
  echo "pop: index of $(sqlite3 "$work/home/data/outbox.sqlite3" 'SELECT COUNT(*) FROM caller_tasks') tasks read"
fi
hook_token=$(grep -o '"token":"[^"]*"' "$work/home/run/instance.json" | cut -d'"' -f4)

# The bare work's own token and api_url, from the sandbox's /auth.
reply=$(curl -s -X POST "$auth" -H 'Content-Type: application/json' \
  -d "{\"login\":\"$login\",\"security_key\":\"$key\"}")
token=$(grep -o '"access_token":"[^"]*"' <<<"$reply" | cut -d'"' -f4)
api_url=$(grep -o '"api_url":"[^"]*"' <<<"$reply" | cut -d'"' -f4)

now_us() { echo "${EPOCHREALTIME/./}"; }
# Forgets what the browser command said before (a call not measured may open its task too).
forget_opened() { while read -r -t 0 -u "$opened_fd"; do read -r -u "$opened_fd" _; done; }
# Waits for the browser command to say it started; prints when.
started_at() {
  local at url
  read -r -t 20 -u "$opened_fd" at url || { echo "the browser command never ran" >&2; exit 1; }
  echo "$at"
}
hook() { # EVENT NUMBER CALL_ID
  curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/events" \
    -H "Authorization: Bearer $hook_token" -H 'Content-Type: application/json' \
    -d "{\"event\":\"$1\",\"number\":\"$2\",\"call_id\":\"$3\"}"
}
pop_once() { # NUMBER CALL_ID → µs from the ring to the task opening
  local t0 code
  forget_opened
  t0=$(now_us)
  code=$(hook ring "$1" "$2")
  [ "$code" = 202 ] || { echo "the hook answered $code" >&2; exit 1; }
  echo $(( $(started_at) - t0 ))
  hook end "$1" "$2" >/dev/null
}
bare_once() { # NUMBER → µs for one integrations/call round trip plus the browser command
  local t0
  forget_opened
  t0=$(now_us)
  # One curl, as the pop side's request; the task id read by bash itself (no grep, no cut:
  # the bare side starts the same processes as the pop side, no more).
  reply=$(curl -s -X POST "${api_url}integrations/call" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' \
    -d "{\"account_id\":\"$account\",\"from_number\":\"$1\",\"to_number\":\"+74953009080\"}")
  [[ $reply =~ \"task_id\":([0-9]+) ]] || { echo "no task_id in $reply" >&2; exit 1; }
  "$work/browser" "$base/t#id${BASH_REMATCH[1]}"
  echo $(( $(started_at) - t0 ))
}
p() { # PERCENT FILE → that percentile, in ms
  sort -n "$2" | awk -v q="$1" '{ v[NR] = $1 } END { i = int((NR - 1) * q / 100) + 1; printf "%.2f", v[i] / 1000 }'
}

# Warm up both paths (token, connections, page cache).
pop_once +79160000000 warm >/dev/null
bare_once +79150000000 >/dev/null

: >"$work/pop_idle"; : >"$work/bare"; : >"$work/pop_busy"
for i in $(seq "$runs"); do
  bare_once "+7915$(printf '%07d' "$i")" >>"$work/bare"
  pop_once "+7916$(printf '%07d' "$i")" "idle-$i" >>"$work/pop_idle"
done

# A 48 MiB recording goes up at ~4 MiB/s (a slow office uplink) while calls ring.
curl -s -o /dev/null -X POST "$base/sandbox/faults" -H 'Content-Type: application/json' \
  -d '{"route":"upload","kind":"throttle","bytes_per_sec":4194304,"times":1}'
rec="$work/recordings/20261129-120000-89170000001-out.wav"
{
  printf 'RIFF'; printf '\x24\x00\x00\x03'; printf 'WAVEfmt '
  printf '\x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00'
  printf 'data'; printf '\x00\x00\x00\x03'
} >"$rec"
truncate -s $((48 * 1024 * 1024 + 44)) "$rec"
for e in ring answer end; do hook "$e" +79170000001 long >/dev/null; done
queue() { PYRUS_PHONE_HOME="$work/home" PYRUS_AUTH_URL="$auth" PYRUS_LOGIN=$login \
  PYRUS_SECURITY_KEY=$key PYRUS_ACCOUNT_ID=$account "$bin" queue --json; }
uploading() { queue | tr '{' '\n' | grep '"kind":"attach"' | grep -q '"state":"running"'; }
for _ in $(seq 300); do uploading && break; sleep 0.05; done
uploading || { echo "the upload never started" >&2; exit 1; }
sleep 1 # one second into the upload, as in the test
for i in $(seq "$runs"); do
  pop_once "+7918$(printf '%07d' "$i")" "busy-$i" >>"$work/pop_busy"
done
still=no; uploading && still=yes

mkdir -p target/bench
idle=$(p 50 "$work/pop_idle"); bare=$(p 50 "$work/bare"); busy=$(p 50 "$work/pop_busy")
{
  echo "pop: $runs runs each; ms p50 (p90)"
  echo "pop: bare work (curl integrations/call + browser command) $bare ($(p 90 "$work/bare"))"
  echo "pop: task opened, idle                                   $idle ($(p 90 "$work/pop_idle"))"
  echo "pop: task opened, during a 48 MiB upload at 4 MiB/s       $busy ($(p 90 "$work/pop_busy")) (upload still running at the end: $still)"
  awk -v a="$idle" -v b="$bare" 'BEGIN { printf "pop: overhead over the bare work at p50: %.2f ms (target ≤ 1 ms)\n", a - b }'
  awk -v a="$busy" -v b="$idle" 'BEGIN { printf "pop: busy minus idle at p50: %.2f ms (target < 500 ms)\n", a - b }'
} | tee target/bench/pop.txt
