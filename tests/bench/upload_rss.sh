#!/usr/bin/env bash
# Benchmark: upload a 1 GiB recording to the built-in sandbox through the release binary and
# report the uploading process's peak memory. Usage: bash tests/bench/upload_rss.sh [BINARY]
# Figures go to stdout and to target/bench/upload_rss.txt. Target: peak RSS under 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/pyrus-phone}
[ -x "$bin" ] || cargo build --release --locked
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

size=$((1024 * 1024 * 1024))
head -c "$size" /dev/urandom >"$work/recording.wav"
start=$(date +%s.%N)
"$bin" attach "$work/recording.wav" --task 1 --json >"$work/attach.out" &
pid=$!
hwm=0; anon=0
while kill -0 "$pid" 2>/dev/null; do
  if status=$(cat "/proc/$pid/status" 2>/dev/null); then
    h=$(awk '/^VmHWM:/ {print $2}' <<<"$status"); a=$(awk '/^RssAnon:/ {print $2}' <<<"$status")
    [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
    [ -n "$a" ] && [ "$a" -gt "$anon" ] && anon=$a
  fi
  sleep 0.02
done
wait "$pid"
end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
mibs=$(awk -v s="$size" -v t="$secs" 'BEGIN { printf "%.1f", s / 1048576 / t }')
mkdir -p target/bench
{
  echo "upload_rss: file 1024 MiB, $secs s, $mibs MiB/s"
  echo "upload_rss: peak RSS (VmHWM) $((hwm / 1024)) MiB, peak RssAnon $((anon / 1024)) MiB (target < 64 MiB)"
} | tee target/bench/upload_rss.txt
grep -q '"attached":true' "$work/attach.out"
