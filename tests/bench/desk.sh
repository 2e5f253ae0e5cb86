#!/usr/bin/env bash
# Benchmark: a day at the desk. The release window, under a private Xvfb and against the
# built-in sandbox (the account from the environment, as window.sh runs it), receives CALLS
# calls through its loopback HTTP event hook, RATE a second: each call rings, is answered a
# second later and ends a second after that, with a call id of its own and a number
# 7916000NNNN. Prints, for the window's process, its CPU over the load (% of one core,
# averaged over the load's duration) and its own memory (RssAnon) before and after the load
# with the growth per call; beside them the same window idle for as long, just before the
# load; its frame CPU during the load; and at the end how many calls the sandbox registered
# exactly once.
# Usage: bash tests/bench/desk.sh [BINARY] [CALLS] [RATE]
#   (defaults: target/release/pyrus-phone, 1200, 5; KEEP=1 keeps the work folder and logs).
#   Calls go to the sandbox as they ring; the app keeps under 4,500 requests in ten minutes,
#   so many more calls than 1,200 at this rate would be held back by that budget.
# Figures go to stdout and to target/bench/desk.txt.
# Targets: CPU ≤ 10 % of a core on average over the load; RssAnon growth ≤ 4 KiB per call;
# every call registered once.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/common.sh
. tests/xvfb.sh
bench_start "${1:-target/release/pyrus-phone}" desk.sh
calls=${2:-1200}
rate=${3:-5}
[[ $calls =~ ^[1-9][0-9]*$ && $rate =~ ^[1-9][0-9]*$ ]] || {
  echo "usage: bash tests/bench/desk.sh [BINARY] [CALLS] [RATE] (whole numbers above 0)" >&2
  exit 2
}
for tool in Xvfb xdotool; do
  command -v "$tool" >/dev/null || { echo "desk.sh needs $tool: apt-get install xvfb xdotool" >&2; exit 1; }
done
# One second per RATE calls ringing, and two more for the last ones' answers and ends.
seconds=$(( (calls + rate - 1) / rate + 2 ))

bench_sandbox
start_xvfb 400 1280x800
pids+=("$xvfb")
DISPLAY=$display xdotool getmouselocation >/dev/null 2>&1 || { echo "Xvfb did not start on $display" >&2; exit 1; }
export DISPLAY=$display
unset DBUS_SESSION_BUS_ADDRESS

# The window with the sandbox account (not --demo: the sandbox runs apart, so the calls it
# registered can be counted), on a free hook port. This line's number is set, or every call
# would wait for it instead of being registered.
home="$work/home"
mkdir -p "$home/config"
printf '[defaults]\nline_number = "+74953009080"\n' >"$home/config/settings.toml"
export PYRUS_PHONE_HOME="$home" PYRUS_AUTH_URL="$auth" PYRUS_LOGIN=demo@sandbox.pyrus-phone \
       PYRUS_SECURITY_KEY=demo-security-key PYRUS_ACCOUNT_ID=demo-account BROWSER=true
"$bin" --hook-port 0 >"$work/window.out" 2>&1 &
app=$!
pids+=($app)
timeout 60 xdotool search --sync --onlyvisible --name '^pyrus-phone$' >/dev/null
for _ in $(seq 200); do
  [ -f "$home/run/instance.json" ] && grep -rqs 'first frame' "$home/logs" && break
  sleep 0.05
done
[ -f "$home/run/instance.json" ] || { echo "the window never published its event hook" >&2; exit 1; }
port=$(grep -o '"port":[0-9]*' "$home/run/instance.json" | cut -d: -f2)
token=$(grep -o '"token":"[^"]*"' "$home/run/instance.json" | cut -d'"' -f4)
health=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$port/health" || true)
[ "$health" = 200 ] || { echo "the event hook answered /health with $health" >&2; exit 1; }

ticks() { awk '{print $14 + $15}' "/proc/$app/stat"; }
anon() { awk '/^RssAnon:/ {print $2}' "/proc/$app/status"; }   # KiB
hz=$(getconf CLK_TCK)
wait_until() { # µs since the epoch
  local d=$(( $1 - ${EPOCHREALTIME/./} )) s
  if (( d > 0 )); then
    printf -v s '%d.%06d' $((d / 1000000)) $((d % 1000000))
    sleep "$s"
  fi
}
cpu_pct() { # TICKS µs
  awk -v t="$1" -v hz="$hz" -v us="$2" 'BEGIN { printf "%.2f", t / hz / (us / 1e6) * 100 }'
}
frame_lines() { grep -rho 'mean_ms=[0-9.]* max_ms=[0-9.]*' "$home/logs" || true; }

# Idle first: the same instance, for as long as the load will last, just before it (a second
# instance would need a home, a hook and a list of its own, and take the machine's time
# beside this one; the same process, measured idle, is the fairest baseline).
xdotool mousemove 1270 790   # park the pointer off the widgets
sleep 3                      # the start settles
idle_anon0=$(anon)
c0=$(ticks); t0=${EPOCHREALTIME/./}
wait_until $((t0 + seconds * 1000000))
c1=$(ticks); t1=${EPOCHREALTIME/./}
idle_anon1=$(anon)
idle_cpu=$(cpu_pct $((c1 - c0)) $((t1 - t0)))

# The load: one curl a second, its requests one after another on one kept-alive connection:
# the ends of the calls that rang two seconds ago, the answers of those from one second ago,
# and RATE new rings. Its configuration comes on standard input (the token stays off the
# command line); it prints each request's status. Each second starts on time, whatever the
# one before took. Between the seconds the driver is bash alone (no process but `sleep`).
cfg_head=$(printf 'header = "Authorization: Bearer %s"\nwrite-out = "%%{http_code}\\n"\n' "$token")
cfg=
batch() { # SECOND → cfg
  local s=$1 step k i last line
  cfg=$cfg_head
  for step in end answer ring; do
    case $step in
      end) k=$((s - 2)) ;;
      answer) k=$((s - 1)) ;;
      ring) k=$s ;;
    esac
    if (( k < 0 )); then continue; fi
    last=$(( (k + 1) * rate ))
    if (( last > calls )); then last=$calls; fi
    for (( i = k * rate + 1; i <= last; i++ )); do
      printf -v line '\nurl = "http://127.0.0.1:%s/events?event=%s&number=7916%07d&call_id=desk-%d"\noutput = "/dev/null"' \
        "$port" "$step" "$i" "$i"
      cfg+=$line
    done
  done
}
: >"$work/codes"
frames_before=$(frame_lines | wc -l)
slowest=0
echo "desk: $calls calls at $rate a second ($seconds s)…"
c0=$(ticks); t0=${EPOCHREALTIME/./}
for (( s = 0; s < seconds; s++ )); do
  wait_until $((t0 + s * 1000000))
  batch "$s"
  b0=${EPOCHREALTIME/./}
  curl -s -K - <<<"$cfg" >>"$work/codes" || true
  b1=${EPOCHREALTIME/./}
  if (( b1 - b0 > slowest )); then slowest=$((b1 - b0)); fi
done
wait_until $((t0 + seconds * 1000000))
c1=$(ticks); t1=${EPOCHREALTIME/./}
load_cpu=$(cpu_pct $((c1 - c0)) $((t1 - t0)))
load_anon0=$idle_anon1
frames_after=$(frame_lines | wc -l)

# Counts the calls the sandbox registered: "ONCE MORE MISSING" (a registration is a comment
# naming its call id; a call id the app had to make its own gets a suffix, still counted).
kept() {
  curl -s "$base/sandbox/tasks" | grep -o '(call id desk-[0-9]*' | sort | uniq -c |
    awk -v n="$calls" '{ id = substr($4, 6) + 0; if (id >= 1 && id <= n) { seen++; if ($1 == 1) once++; else more++ } }
      END { printf "%d %d %d\n", once, more, n - seen }'
}
# The list settles once every call is registered (or nothing moved for 30 s), then 5 s.
last=-1; still=0
for _ in $(seq 300); do
  read -r once more missing < <(kept)
  if (( missing == 0 )); then break; fi
  if (( missing == last )); then still=$((still + 1)); else still=0; last=$missing; fi
  if (( still >= 30 )); then break; fi
  sleep 1
done
sleep 5
load_anon1=$(anon)
read -r once more missing < <(kept)
# What the app's outbox still holds (every call's registration done: nothing).
if queue=$("$bin" queue --json 2>/dev/null); then
  open_jobs=$( { grep -o '"state":"' <<<"$queue" || true; } | wc -l)
else
  open_jobs="unknown (pyrus-phone queue failed)"
fi
accepted=$(grep -c '^202$' "$work/codes" || true)
# Any other answer, by status ("000": no answer at all).
others=$( { grep -v '^202$' "$work/codes" || true; } | sort | uniq -c |
  awk '{ printf "%s%d × %s", sep, $1, $2; sep = ", " } END { if (!NR) printf "none" }')
frames=$(frame_lines | awk -v a="$frames_before" -v b="$frames_after" 'NR > a && NR <= b')
mean=$(awk -F'[= ]' '/mean_ms/ {s += $2; n++} END { if (n) printf "%.2f", s / n; else print "n/a" }' <<<"$frames")
max=$(awk -F'[= ]' '/mean_ms/ {if ($4 > m) m = $4; n++} END { if (n) printf "%.2f", m; else print "n/a" }' <<<"$frames")

kib_per_call=$(awk -v a="$load_anon0" -v b="$load_anon1" -v n="$calls" 'BEGIN { printf "%.2f", (b - a) / n }')
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
mkdir -p target/bench
{
  echo "desk: $calls calls (ring, answer a second later, end a second after that), $rate a second, over $seconds s"
  echo "desk: window CPU, idle for $seconds s before the load: ${idle_cpu} % of a core"
  echo "desk: window CPU over the load: ${load_cpu} % of a core (target ≤ 10)"
  echo "desk: own memory (RssAnon) idle: $(mib "$idle_anon0") → $(mib "$idle_anon1") MiB ($((idle_anon1 - idle_anon0)) KiB)"
  echo "desk: own memory (RssAnon) over the load, 5 s after it settled: $(mib "$load_anon0") → $(mib "$load_anon1") MiB; ${kib_per_call} KiB per call (target ≤ 4)"
  echo "desk: frame CPU during the load: mean ${mean} ms, max ${max} ms"
  echo "desk: hook: $accepted of $((calls * 3)) events acknowledged (202); other answers: $others; slowest second's requests took $((slowest / 1000)) ms"
  echo "desk: outbox: $open_jobs jobs still open"
  echo "kept: $once of $calls calls registered once ($more more than once, $missing not registered)"
} | tee target/bench/desk.txt
