#!/usr/bin/env bash
# Benchmark: who is calling, on a form of 100,000 customers' tasks.
#   - the first reading of the form (`pyrus-phone who`, index empty): how long it takes and
#     the most memory the process held (max RSS), beside the same run on a form Pyrus
#     refuses (same binary, same start, nothing read) — the reading's own share shows;
#   - a lookup once the index is filled (`who` again, local), beside the bare start of the
#     same binary (`pyrus-phone --version`);
#   - the lookup inside the process, p50/p99, beside the same SQL on a bare connection
#     (the `caller-lookup` example).
# Usage: bash tests/bench/caller.sh [BINARY] [TASKS]   (needs GNU time and sqlite3: apt-get install time sqlite3)
# Figures go to stdout and to target/bench/caller.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/common.sh
bench_start "${1:-target/release/pyrus-phone}" caller.sh
tasks=${2:-100000}
command -v /usr/bin/time >/dev/null || { echo "caller.sh needs GNU time: apt-get install time" >&2; exit 1; }
PYRUS_PHONE_HOME="$work/sandbox-home" "$bin" sandbox --port 0 --customers "$tasks" >"$work/sandbox.out" 2>&1 &
pids+=($!)
for _ in $(seq 600); do grep -q "auth URL" "$work/sandbox.out" 2>/dev/null && break; sleep 0.1; done
auth=$(awk '/auth URL:/ {print $3}' "$work/sandbox.out")
export PYRUS_AUTH_URL="$auth" PYRUS_LOGIN=demo@sandbox.pyrus-phone \
  PYRUS_SECURITY_KEY=demo-security-key PYRUS_ACCOUNT_ID=demo-account
home() { # DIR FORM
  mkdir -p "$1/config"
  printf '[pyrus]\nform_id = %s\n[defaults]\ncountry = "RU"\n' "$2" >"$1/config/settings.toml"
}
measure() { # NAME HOME ARGS… → "NAME: S s, RSS KiB"
  local name=$1 dir=$2; shift 2
  PYRUS_PHONE_HOME="$dir" /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" \
    || { cat "$work/err" >&2; exit 1; }
  read -r secs rss <"$work/time"
  awk -v n="$name" -v s="$secs" -v k="$rss" 'BEGIN { printf "%-58s %7.2f s   max RSS %6.1f MiB\n", n, s, k / 1024 }'
}
home "$work/index" 1
home "$work/refused" 99
mkdir -p target/bench
{
  echo "who is calling, a form of $tasks customers' tasks ($(date -u +%F))"
  measure "first reading of the form (who, index empty)" "$work/index" "$bin" who +79000000004 --wait 600
  grep -q '"open"\|open task' "$work/out" || { echo "who found nothing" >&2; cat "$work/out" >&2; exit 1; }
  measure "reference: who on a form Pyrus refuses (nothing read)" "$work/refused" "$bin" who +79000000004 --wait 600
  measure "a lookup with the index filled (who)" "$work/index" "$bin" who +79000050001 --json
  measure "reference: the binary's bare start (--version)" "$work/index" "$bin" --version
  tasks_indexed=$(sqlite3 "$work/index/data/outbox.sqlite3" 'SELECT COUNT(*) FROM caller_tasks' 2>/dev/null || echo "?")
  echo "tasks in the index: $tasks_indexed"
  lookup=target/release/examples/caller-lookup
  [ -x "$lookup" ] || cargo build --release --locked --example caller-lookup
  "$lookup" "$tasks"
} | tee target/bench/caller.txt
