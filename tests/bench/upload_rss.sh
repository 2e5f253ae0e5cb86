#!/usr/bin/env bash
# Benchmark: upload a 1 GiB recording to the built-in sandbox, by the release binary's
# `attach` and by curl to the same `files/upload`, taking turns, and report each one's rate
# and peak memory. Usage: bash tests/bench/upload_rss.sh [BINARY] [ROUNDS]
# Figures go to stdout and to target/bench/upload_rss.txt.
# Targets: rate ≥ 0.9× curl's; peak RSS within 16 MiB of curl's.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-target/release/pyrus-phone}")
rounds=${2:-3}
[ -x "$bin" ] || cargo build --release --locked
command -v curl >/dev/null || { echo "upload_rss.sh needs curl: apt-get install curl" >&2; exit 1; }
work=$(mktemp -d)
sandbox_pid=""
cleanup() { [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

PYRUS_PHONE_HOME="$work/sandbox-home" "$bin" sandbox --port 0 >"$work/sandbox.out" &
sandbox_pid=$!
for _ in $(seq 100); do grep -q "auth URL" "$work/sandbox.out" 2>/dev/null && break; sleep 0.05; done
auth=$(awk '/auth URL:/ {print $3}' "$work/sandbox.out")
export PYRUS_PHONE_HOME="$work/home" PYRUS_AUTH_URL="$auth" PYRUS_LOGIN=demo@sandbox.pyrus-phone \
       PYRUS_SECURITY_KEY=demo-security-key PYRUS_ACCOUNT_ID=demo-account
"$bin" call --from +79774221338 --to +74953009080 --json >/dev/null
reply=$(curl -s -X POST "$auth" -H 'Content-Type: application/json' \
  -d '{"login":"demo@sandbox.pyrus-phone","security_key":"demo-security-key"}')
token=$(grep -o '"access_token":"[^"]*"' <<<"$reply" | cut -d'"' -f4)
files_url=$(grep -o '"files_url":"[^"]*"' <<<"$reply" | cut -d'"' -f4)

size=$((1024 * 1024 * 1024))
{ printf 'RIFF\0\0\0\0WAVE'; head -c "$((size - 12))" /dev/urandom; } >"$work/recording.wav"
cat "$work/recording.wav" >/dev/null # in the page cache for both

# Runs the program "$@" in the background (not a shell function: its own pid is followed),
# following its peak memory; prints "seconds peak_kib".
measure() {
  local start end pid hwm=0 h
  start=$(date +%s.%N)
  "$@" >"$work/last.out" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    h=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
    sleep 0.02
  done
  wait "$pid"
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" -v m="$hwm" 'BEGIN { printf "%.3f %d\n", b - a, m }'
}
ours=("$bin" attach "$work/recording.wav" --task 1 --json)
theirs=(curl -s -f -X POST "${files_url}v4/files/upload" -H "Authorization: Bearer $token"
        -F "file=@$work/recording.wav")

: >"$work/ours"; : >"$work/curl"
for _ in $(seq "$rounds"); do
  measure "${theirs[@]}" >>"$work/curl"
  grep -q '"guid"' "$work/last.out" || { echo "curl's upload failed: $(cat "$work/last.out")" >&2; exit 1; }
  measure "${ours[@]}" >>"$work/ours"
  grep -q '"attached":true' "$work/last.out" || { echo "attach failed: $(cat "$work/last.out")" >&2; exit 1; }
done

# Median time and highest peak of each.
med() { cut -d' ' -f1 "$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
peak() { cut -d' ' -f2 "$1" | sort -n | tail -1; }
t_ours=$(med "$work/ours"); t_curl=$(med "$work/curl")
m_ours=$(peak "$work/ours"); m_curl=$(peak "$work/curl")
mkdir -p target/bench
{
  awk -v s="$size" -v a="$t_ours" -v b="$t_curl" -v r="$rounds" 'BEGIN {
    printf "upload_rss: 1024 MiB, median of %d: pyrus-phone %.2f s (%.0f MiB/s), curl %.2f s (%.0f MiB/s): %.2f× curl (target ≥ 0.9×)\n",
      r, a, s / 1048576 / a, b, s / 1048576 / b, b / a }'
  echo "upload_rss: peak RSS pyrus-phone $((m_ours / 1024)) MiB, curl $((m_curl / 1024)) MiB: $(((m_ours - m_curl) / 1024)) MiB more (target ≤ 16 MiB)"
} | tee target/bench/upload_rss.txt
